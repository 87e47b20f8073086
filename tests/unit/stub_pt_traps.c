/* stub_pt_traps.c — no kernel SIGTRAP is left pending behind a stop (issue 7).
 *
 * PTRACE_INTERRUPT's stop comes before a pending signal is dequeued, so a
 * thread interrupted just after it executed our int3 (or fired a watchpoint)
 * used to sit "stopped" with its SIGTRAP still pending: detached like that,
 * the program died of it (tests/integration/fault_sessions.sh, exit 133).
 * fault_prog with 4 threads hits tick() (and writes the watched g_watch)
 * every millisecond each, so hits race with stop_all all the time.
 *   - after every stop_all no task of the process has SIGTRAP pending
 *     (/proc/PID/task/TID/status SigPnd, bit 5): the backend had the trap
 *     dequeued and classified while the breakpoint was still in (if one is,
 *     the round detaches right there, which the old backend did not survive);
 *   - no stop is a bare SIGTRAP: every trap is a hit of ours (swbreak/watch);
 *   - detached with the breakpoint and the watchpoint still inserted (the
 *     backend takes them out), the program runs on and, after SIGUSR1,
 *     exits 5 with its normal output.
 * Rounds: PT_TRAPS_ROUNDS (default 12; half with a watchpoint), each with
 * PT_TRAPS_STOPS stop/resume cycles (default 40).
 */
#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "../lib/check.h"
#include "stub_pt_util.h"

static const struct tgt_ops *ops = &pt_ops;
static const char *prog;

/* Does any task of pid have SIGTRAP in its private pending set? */
static bool trap_pending_any(pid_t pid, pid_t *which)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d) return false;
	bool found = false;
	for (struct dirent *de; !found && (de = readdir(d)) != NULL;) {
		if (de->d_name[0] == '.') continue;
		char sp[320], line[256];
		snprintf(sp, sizeof sp, "/proc/%d/task/%s/status", (int)pid, de->d_name);
		FILE *f = fopen(sp, "r");
		if (!f) continue;
		while (fgets(line, sizeof line, f)) {
			unsigned long long m;
			if (sscanf(line, "SigPnd: %llx", &m) == 1 && (m & (1ull << (SIGTRAP - 1)))) {
				found = true;
				*which = (pid_t)atoi(de->d_name);
			}
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* Start fault_prog threads with stdout in a pipe; returns its pid. */
static pid_t spawn(int *outfd)
{
	int p[2];
	if (pipe(p) < 0) return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(prog, prog, "threads", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*outfd = p[0];
	/* wait for "fault_prog: waiting" (threads started) */
	char buf[128];
	size_t n = 0;
	while (n < sizeof buf - 1) {
		ssize_t k = read(p[0], buf + n, 1);
		if (k <= 0) break;
		if (buf[n++] == '\n') break;
	}
	return pid;
}

struct stats { int stops, pending, bare, other; };

static bool round_one(int round, int cycles, struct stats *st)
{
	int outfd;
	pid_t pid = spawn(&outfd);
	if (pid <= 0) return false;
	struct tgt *t = ops->create();
	bool ok = t && ops->attach(t, pid) == 0;
	uint64_t tick = ptu_sym(pid, prog, "tick"), watch = ptu_sym(pid, prog, "g_watch");
	bool with_watch = round % 2;
	ok = ok && tick && watch && ops->insert_bp(t, TGT_BP_SW, tick, 1) == 0;
	if (ok && with_watch) ok = ops->insert_bp(t, TGT_WP_WRITE, watch, 4) == 0;
	struct tgt_event ev;
	for (int c = 0; ok && c < cycles; c++) {
		/* gdb takes its breakpoints out around stops: one cycle in four
		 * runs with tick's breakpoint out (a trap of it still pending from
		 * the cycle before would come out as a bare SIGTRAP at tick+1) */
		bool out = c % 4 == 2;
		if (out && ops->remove_bp(t, TGT_BP_SW, tick, 1) != 0) { ok = false; break; }
		if (ops->resume(t, -1, TGT_RESUME_CONT, 0) != 0) { ok = false; break; }
		int r = 1;
		ev.kind = TGT_EV_NONE;
		if (out) usleep(2000);
		else r = ptu_wait(ops, t, &ev, 20000);
		if (r != 1) { printf("# round %d: no event (%d)\n", round, r); ok = false; break; }
		if (ops->stop_all(t) != 0) { ok = false; break; }
		do {
			if (ev.kind != TGT_EV_STOPPED) continue;
			st->stops++;
			if (ev.reason == TGT_REASON_SIGNAL && ev.sig == SIGTRAP) st->bare++;
			else if (ev.reason != TGT_REASON_SWBREAK && ev.reason != TGT_REASON_WATCH) st->other++;
		} while (ops->next_event(t, &ev, 0) == 1);
		if (out && ops->insert_bp(t, TGT_BP_SW, tick, 1) != 0) { ok = false; break; }
		pid_t which;
		if (trap_pending_any(pid, &which)) {
			printf("# round %d cycle %d: task %d has SIGTRAP pending after stop_all; detaching now\n",
			       round, c, (int)which);
			st->pending++;
			break;
		}
	}
	/* Let go with everything inserted: detach must leave nothing behind. */
	if (t && ops->detach(t, 0) != 0) ok = false;
	if (t) ops->destroy(t);
	kill(pid, SIGUSR1);
	int ws = 0;
	alarm(20);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
	alarm(0);
	char out[256];
	ssize_t n = read(outfd, out, sizeof out - 1);
	out[n > 0 ? n : 0] = 0;
	close(outfd);
	bool fine = WIFEXITED(ws) && WEXITSTATUS(ws) == 5 && strstr(out, "fault_prog: done buf=0 usr1=1");
	if (!fine)
		printf("# round %d (%s): program %s %d, output %s", round, with_watch ? "bp+watch" : "bp",
		       WIFEXITED(ws) ? "exited" : "killed by signal",
		       WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws), out);
	return ok && fine;
}

int main(void)
{
	prog = ptu_target_abs("fault_prog");
	if (!prog) return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *e = getenv("PT_TRAPS_ROUNDS");
	int rounds = e && atoi(e) > 0 ? atoi(e) : 12;
	e = getenv("PT_TRAPS_STOPS");
	int cycles = e && atoi(e) > 0 ? atoi(e) : 40;
	struct stats st = { 0 };
	int good = 0;
	for (int i = 0; i < rounds; i++) good += round_one(i, cycles, &st);
	printf("# %d rounds, %d stops: %d with SIGTRAP pending, %d bare SIGTRAP, %d other\n",
	       rounds, st.stops, st.pending, st.bare, st.other);
	CHECK("traps: no SIGTRAP left pending in any task after stop_all", st.pending == 0);
	CHECK("traps: every trap is reported as a hit (no bare SIGTRAP)", st.bare == 0 && st.other == 0);
	CHECK("traps: detached with a breakpoint (and a watchpoint) in, the program runs on and exits 5",
	      good == rounds);
	return check_done();
}
