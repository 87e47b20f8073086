/* stub_pt_go.c — the ptrace backend under a Go program (many goroutines and threads).
 *
 * tests/targets/go/pt_gohot.go calls main.hot 3200 times from 16 goroutines
 * on several threads and checks its own count.  With a breakpoint on
 * main.hot, all-stop handling of every hit, and SIGURG passed (QPassSignals,
 * as gdb is told for Go), the run must end with exit 0, exactly 3200 hits
 * reported and no signal stop.  Without passing, the SIGURGs are reported
 * and delivered on resume, and the program still completes.
 * pt_gospawn.go runs 100 children through os/exec under breakpoints.
 */
#include <signal.h>
#include <stdint.h>

#include "../lib/check.h"
#include "stub_pt_util.h"

static const struct tgt_ops *ops = &pt_ops;

static void run(const char *prog, bool pass_urg)
{
	const char *label = pass_urg ? "go (SIGURG passed)" : "go (SIGURG reported)";
	char name[160];
	struct tgt *t = ops->create();
	char *argv[] = { (char *)prog, NULL };
	struct tgt_launch_opts o = { .argv = argv, .disable_aslr = true };
	pid_t pid;
	fflush(stdout);
	int save = dup(1), nul = open("/dev/null", O_WRONLY);
	if (save < 0 || nul < 0 || dup2(nul, 1) < 0) return;
	int r = ops->launch(t, &o, &pid);
	dup2(save, 1);
	close(save);
	close(nul);
	snprintf(name, sizeof name, "%s: launch", label);
	CHECK(name, r == 0);
	if (r) return;
	bool pass[65] = { false };
	pass[SIGURG] = pass_urg;
	ops->set_pass_signals(t, pass);
	uint64_t hot = ptu_sym(pid, prog, "main.hot");
	snprintf(name, sizeof name, "%s: breakpoint on main.hot", label);
	CHECK(name, hot && ops->insert_bp(t, TGT_BP_SW, hot, 1) == 0);

	int hits = 0, urg = 0, other = 0, threads = 1, maxthreads = 1;
	struct tgt_event ev = { 0 }, e2;
	r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	while (r == 0) {
		if (ops->next_event(t, &ev, 30000) != 1) break;
		if (ev.kind == TGT_EV_THREAD_CREATED) {
			if (++threads > maxthreads) maxthreads = threads;
			continue;
		}
		if (ev.kind == TGT_EV_THREAD_EXITED) { threads--; continue; }
		if (ev.kind != TGT_EV_STOPPED) break;
		/* all-stop, as the session does it */
		int deliver = 0;
		pid_t sigtid = 0;
		struct tgt_event all[64];
		int na = 0;
		all[na++] = ev;
		r = ops->stop_all(t);
		while (r == 0 && ops->next_event(t, &e2, 0) == 1)
			if (e2.kind == TGT_EV_STOPPED && na < 64) all[na++] = e2;
		for (int i = 0; i < na; i++) {
			if (all[i].reason == TGT_REASON_SWBREAK && all[i].addr == hot) hits++;
			else if (all[i].reason == TGT_REASON_SIGNAL && all[i].sig == SIGURG) {
				urg++;
				/* deliver each thread's SIGURG when resuming it */
				if (ops->resume(t, all[i].tid, TGT_RESUME_CONT, SIGURG) < 0) other++;
				sigtid = all[i].tid;
				deliver++;
			} else {
				other++;
				printf("# stop: reason %d sig %d\n", all[i].reason, all[i].sig);
			}
		}
		(void)sigtid;
		r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	}
	snprintf(name, sizeof name, "%s: ran to completion, exit 0", label);
	CHECK(name, ev.kind == TGT_EV_EXITED && ev.status == 0);
	snprintf(name, sizeof name, "%s: every main.hot call hit the breakpoint (3200)", label);
	CHECK(name, hits == 3200);
	if (hits != 3200) printf("# hits %d\n", hits);
	snprintf(name, sizeof name, "%s: several threads", label);
	CHECK(name, maxthreads >= 4);
	if (pass_urg) {
		snprintf(name, sizeof name, "%s: no signal stop reported", label);
		CHECK(name, urg == 0 && other == 0);
	} else {
		snprintf(name, sizeof name, "%s: SIGURG stops reported, nothing else", label);
		CHECK(name, urg > 0 && other == 0);
		printf("# SIGURG stops: %d\n", urg);
	}
	ops->destroy(t);
}

/* os/exec children (vfork + exec) with breakpoints inserted, one of them on
 * a function the vfork child runs itself (syscall.RawSyscall): every child
 * exits 0 and no main.hot call is missed. */
static void spawn(const char *prog)
{
	struct tgt *t = ops->create();
	char *argv[] = { (char *)prog, NULL };
	struct tgt_launch_opts o = { .argv = argv, .disable_aslr = true };
	pid_t pid;
	fflush(stdout);
	int save = dup(1), nul = open("/dev/null", O_WRONLY);
	if (save < 0 || nul < 0 || dup2(nul, 1) < 0) return;
	int r = ops->launch(t, &o, &pid);
	dup2(save, 1);
	close(save);
	close(nul);
	CHECK("go spawn: launch", r == 0);
	if (r) return;
	bool pass[65] = { false };
	pass[SIGURG] = pass[SIGCHLD] = true;
	ops->set_pass_signals(t, pass);
	uint64_t hot = ptu_sym(pid, prog, "main.hot");
	uint64_t raw = ptu_sym(pid, prog, "syscall.RawSyscall");
	CHECK("go spawn: breakpoints on main.hot and syscall.RawSyscall",
	      hot && raw && ops->insert_bp(t, TGT_BP_SW, hot, 1) == 0 && ops->insert_bp(t, TGT_BP_SW, raw, 1) == 0);
	int hits = 0, rawhits = 0, other = 0;
	struct tgt_event ev = { 0 }, e2;
	r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	while (r == 0) {
		if (ptu_wait(ops, t, &ev, 30000) != 1 || ev.kind != TGT_EV_STOPPED) break;
		struct tgt_event all[64];
		int na = 0;
		all[na++] = ev;
		r = ops->stop_all(t);
		while (r == 0 && ops->next_event(t, &e2, 0) == 1)
			if (e2.kind == TGT_EV_STOPPED && na < 64) all[na++] = e2;
		for (int i = 0; i < na; i++) {
			if (all[i].reason == TGT_REASON_SWBREAK && all[i].addr == hot) hits++;
			else if (all[i].reason == TGT_REASON_SWBREAK && all[i].addr == raw) rawhits++;
			else {
				other++;
				printf("# stop: reason %d sig %d\n", all[i].reason, all[i].sig);
			}
		}
		r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	}
	CHECK("go spawn: 100 children exit 0, program exits 0", ev.kind == TGT_EV_EXITED && ev.status == 0);
	CHECK("go spawn: every main.hot call hit (100), nothing else stopped", hits == 100 && other == 0);
	if (hits != 100) printf("# hits %d rawhits %d\n", hits, rawhits);
	ops->destroy(t);
}

int main(void)
{
	const char *p = ptu_target("pt_gohot");
	if (!p) {
		SKIP("go", "cannot build tests/targets/go/pt_gohot.go");
		return 0;
	}
	static char prog[PATH_MAX];
	if (!realpath(p, prog)) return 1;
	run(prog, true);
	run(prog, false);
	p = ptu_target("pt_gospawn");
	if (p && realpath(p, prog)) spawn(prog);
	else SKIP("go spawn", "cannot build tests/targets/go/pt_gospawn.go");
	return check_done();
}
