/* stub_pt_exit.c — the ptrace backend when a multi-threaded process exits.
 *
 * pt_exit (tests/targets/c/pt_exit.c) calls exit_group(2) from a non-leader
 * thread while other threads block in read(2), spin through a breakpoint, or
 * are being created and joined.  The leader becomes a zombie that the kernel
 * reports only once every other thread is reaped; threads die in any order,
 * some in the middle of a stop_all().
 * - All-stop loop (breakpoint hits, stop_all, drain, resume; the breakpoint
 *   removed and reinserted now and then): the exit is reported exactly once,
 *   with the program's code, every round, next_event never waits forever,
 *   and no stop is a bare SIGTRAP.
 * - The client goes away while the program runs or exits (stop_all, then
 *   kill, as the session's cleanup does): kill returns and reaps everything.
 * Rounds: PT_EXIT_ROUNDS (default 25 of each).
 */
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include "../lib/check.h"
#include "stub_pt_util.h"

static const struct tgt_ops *ops = &pt_ops;
static const char *prog;
static const char *phase = "start";

static void on_alarm(int sig)
{
	(void)sig;
	char msg[160];
	int n = snprintf(msg, sizeof msg, "FAIL: exit: hang in %s (no progress for 60 s)\n", phase);
	if (write(1, msg, (size_t)n) < 0) {}
	_exit(1);
}

static struct tgt *launch_quiet(pid_t *pid, long delay_us)
{
	struct tgt *t = ops->create();
	if (!t) return NULL;
	char d[32];
	snprintf(d, sizeof d, "%ld", delay_us);
	char *argv[] = { (char *)prog, "4", "2", "1", d, "7", NULL };
	struct tgt_launch_opts o = { .argv = argv, .disable_aslr = true };
	int r = ops->launch(t, &o, pid);
	if (r < 0) {
		printf("# launch: %s\n", strerror(-r));
		ops->destroy(t);
		return NULL;
	}
	return t;
}

/* One all-stop session until the exit.  Returns true if it was reported once, right. */
static bool all_stop_round(int round, int *hits_out)
{
	pid_t pid;
	struct tgt *t = launch_quiet(&pid, 2000 + (round * 7919) % 40000);
	if (!t) return false;
	uint64_t tick = ptu_sym(pid, prog, "pt_exit_tick");
	bool inserted = tick && ops->insert_bp(t, TGT_BP_SW, tick, 1) == 0;
	int exits = 0, status = -1, hits = 0, spurious = 0, r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	struct tgt_event ev;
	phase = "all-stop loop";
	alarm(60);
	while (r == 0 && exits == 0) {
		r = ops->next_event(t, &ev, 20000);
		if (r != 1) {
			printf("# round %d: next_event %d (%s)\n", round, r, r == 0 ? "timeout" : strerror(-r));
			break;
		}
		r = 0;
		if (ev.kind == TGT_EV_EXITED || ev.kind == TGT_EV_KILLED) {
			exits++;
			status = ev.kind == TGT_EV_EXITED ? ev.status : 1000 + ev.sig;
			break;
		}
		if (ev.kind != TGT_EV_STOPPED) continue;
		hits++;
		if (ev.reason == TGT_REASON_SIGNAL && ev.sig == SIGTRAP) spurious++;
		r = ops->stop_all(t);
		if (r < 0) {
			printf("# round %d: stop_all %s\n", round, strerror(-r));
			break;
		}
		while (ops->next_event(t, &ev, 0) == 1) {
			if (ev.kind == TGT_EV_EXITED || ev.kind == TGT_EV_KILLED) {
				exits++;
				status = ev.kind == TGT_EV_EXITED ? ev.status : 1000 + ev.sig;
			}
			if (ev.kind == TGT_EV_STOPPED && ev.reason == TGT_REASON_SIGNAL && ev.sig == SIGTRAP)
				spurious++;
		}
		if (exits) break;
		if (hits % 3 == 0 && inserted) {   /* gdb removes and reinserts around stops */
			ops->remove_bp(t, TGT_BP_SW, tick, 1);
			ops->insert_bp(t, TGT_BP_SW, tick, 1);
		}
		if (hits > 400 && inserted) {      /* let it reach its exit */
			ops->remove_bp(t, TGT_BP_SW, tick, 1);
			inserted = false;
		}
		r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
		if (r < 0) printf("# round %d: resume %s\n", round, strerror(-r));
	}
	/* Nothing after the exit: no second report, no process. */
	int after = exits ? ops->next_event(t, &ev, 0) : 0;
	alarm(0);
	/* A hit whose int3 was removed and reinserted around it is a hit (or
	 * dropped as stale), never a bare SIGTRAP (stub_pt_traps.c). */
	bool ok = exits == 1 && status == 7 && after == -ECHILD && ops->pid(t) == 0 && spurious == 0;
	if (!ok)
		printf("# round %d: exits %d status %d after %d hits %d bare SIGTRAPs %d\n", round, exits,
		       status, after, hits, spurious);
	phase = "destroy";
	alarm(60);
	ops->destroy(t);
	alarm(0);
	ok = ok && !ptu_proc_exists(pid);
	*hits_out += hits;
	return ok;
}

/* The client goes away at some point while the program runs toward its exit. */
static bool kill_round(int round)
{
	pid_t pid;
	long delay = 4000 + (round * 3571) % 20000;
	struct tgt *t = launch_quiet(&pid, delay);
	if (!t) return false;
	uint64_t tick = ptu_sym(pid, prog, "pt_exit_tick");
	if (round % 2 && tick) ops->insert_bp(t, TGT_BP_SW, tick, 1);
	int r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	/* Around the moment it exits: before, during, after. */
	long nap = delay - 3000 + (round * 1013) % 6000;
	usleep((useconds_t)(nap > 0 ? nap : 0));
	phase = "stop_all after disconnect";
	alarm(60);
	struct tgt_event ev;
	bool reported = false;
	if (r == 0) {
		r = ops->stop_all(t);
		while (ops->next_event(t, &ev, 0) == 1)
			if (ev.kind == TGT_EV_EXITED || ev.kind == TGT_EV_KILLED) reported = true;
	}
	phase = "kill after disconnect";
	int k = reported ? 0 : ops->kill(t);
	alarm(0);
	bool ok = (r == 0 || r == -ESRCH) && (k == 0 || k == -ESRCH) && ops->pid(t) == 0;
	if (!ok) printf("# kill round %d: stop_all %d kill %d\n", round, r, k);
	ops->destroy(t);
	return ok && !ptu_proc_exists(pid);
}

int main(void)
{
	prog = ptu_target_abs("pt_exit");
	if (!prog) return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	const char *e = getenv("PT_EXIT_ROUNDS");
	int rounds = e && atoi(e) > 0 ? atoi(e) : 25;
	int good = 0, hits = 0;
	for (int i = 0; i < rounds; i++) good += all_stop_round(i, &hits);
	printf("# all-stop: %d/%d rounds right, %d breakpoint stops\n", good, rounds, hits);
	CHECK("exit: exit_group from a non-leader thread under all-stop: reported once, code 7, every round",
	      good == rounds);
	good = 0;
	for (int i = 0; i < rounds; i++) good += kill_round(i);
	printf("# disconnect: %d/%d rounds right\n", good, rounds);
	CHECK("exit: stop_all + kill while the process runs or exits: returns, nothing left", good == rounds);
	return check_done();
}
