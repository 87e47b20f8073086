/* stub_pt_faults.c — the ptrace backend when the program does awkward things (issue 7).
 *
 * With a breakpoint inserted: fork children and vfork+exec children run
 * free without our int3s (all exit 0, only the parent's hits are reported);
 * exec reports TGT_EV_EXEC and the new image runs (breakpoints re-insertable);
 * a crash is reported as the signal and ends the process as that signal;
 * hundreds of short-lived threads pass a hot breakpoint: no hit lost, no hang.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "../lib/check.h"
#include "stub_pt_util.h"

static const struct tgt_ops *ops = &pt_ops;
static const char *prog;

static struct tgt *launch_quiet(pid_t *pid, char *a1, char *a2)
{
	char *args[] = { a1, a2, NULL };
	return ptu_launch(prog, args, NULL, pid, NULL);
}

/* All-stop loop until the process ends; counts hits at addr, other stops. */
static void run_counting(struct tgt *t, uint64_t addr, int *hits, int *other, struct tgt_event *last)
{
	struct tgt_event ev = { 0 };
	*hits = *other = 0;
	int r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	while (r == 0) {
		if (ptu_wait(ops, t, &ev, 20000) != 1) break;
		if (ev.kind != TGT_EV_STOPPED) break;
		if (ev.reason == TGT_REASON_SWBREAK && ev.addr == addr) (*hits)++;
		else (*other)++;
		r = ops->stop_all(t);
		struct tgt_event e2;
		while (r == 0 && ops->next_event(t, &e2, 0) == 1) {
			if (e2.kind != TGT_EV_STOPPED) continue;
			if (e2.reason == TGT_REASON_SWBREAK && e2.addr == addr) (*hits)++;
			else (*other)++;
		}
		r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	}
	*last = ev;
}

static void test_forks(const char *mode)
{
	char name[96];
	pid_t pid;
	struct tgt *t = launch_quiet(&pid, (char *)mode, "5");
	snprintf(name, sizeof name, "%s: launch", mode);
	CHECK(name, t != NULL);
	if (!t) return;
	uint64_t hit = ptu_sym(pid, prog, "pt_hit");
	ops->insert_bp(t, TGT_BP_SW, hit, 1);
	bool pass[65] = { false };
	pass[SIGCHLD] = true;    /* as gdb tells a stub: SIGCHLD nostop noprint pass */
	ops->set_pass_signals(t, pass);
	int hits, other;
	struct tgt_event ev;
	run_counting(t, hit, &hits, &other, &ev);
	snprintf(name, sizeof name, "%s: children ran without our int3s, all exited 0", mode);
	CHECK(name, ev.kind == TGT_EV_EXITED && ev.status == 0);
	snprintf(name, sizeof name, "%s: only the parent's 5 hits reported", mode);
	CHECK(name, hits == 5 && other == 0);
	if (hits != 5 || other) printf("# hits %d other %d\n", hits, other);
	ops->destroy(t);
}

static void test_exec(void)
{
	pid_t pid;
	struct tgt *t = launch_quiet(&pid, "exec", NULL);
	CHECK("exec: launch", t != NULL);
	if (!t) return;
	uint64_t hit = ptu_sym(pid, prog, "pt_hit");
	CHECK("exec: insert", ops->insert_bp(t, TGT_BP_SW, hit, 1) == 0);
	struct tgt_event ev;
	int r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	r = r == 0 ? ptu_wait(ops, t, &ev, 20000) : r;
	CHECK("exec: hit before exec", r == 1 && ev.kind == TGT_EV_STOPPED && ev.reason == TGT_REASON_SWBREAK);
	r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	r = r == 0 ? ptu_wait(ops, t, &ev, 20000) : r;
	CHECK("exec: EXEC event from the leader", r == 1 && ev.kind == TGT_EV_EXEC && ev.tid == pid);
	CHECK("exec: old breakpoints forgotten", ops->remove_bp(t, TGT_BP_SW, hit, 1) == -ENOENT);
	uint64_t hit2 = ptu_sym(pid, prog, "pt_hit");
	CHECK("exec: insert in the new image", hit2 && ops->insert_bp(t, TGT_BP_SW, hit2, 1) == 0);
	int hits, other;
	run_counting(t, hit2, &hits, &other, &ev);
	CHECK("exec: new image hits twice and exits 0", hits == 2 && other == 0 &&
	      ev.kind == TGT_EV_EXITED && ev.status == 0);
	ops->destroy(t);
}

/* A non-leader thread execs: the event comes from the leader's tid, the
 * other threads are gone, the new image runs. */
static void test_thread_exec(void)
{
	pid_t pid;
	struct tgt *t = launch_quiet(&pid, "thexec", NULL);
	CHECK("thread exec: launch", t != NULL);
	if (!t) return;
	struct tgt_event ev;
	int r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	r = r ? r : ptu_wait(ops, t, &ev, 20000);
	CHECK("thread exec: EXEC under the leader's tid", r == 1 && ev.kind == TGT_EV_EXEC && ev.tid == pid);
	struct tgt_thread_info ti[4];
	CHECK("thread exec: one thread left", ops->list_threads(t, ti, 4) == 1 && ti[0].tid == pid);
	uint64_t hit = ptu_sym(pid, prog, "pt_hit");
	CHECK("thread exec: insert in the new image", ops->insert_bp(t, TGT_BP_SW, hit, 1) == 0);
	int hits, other;
	run_counting(t, hit, &hits, &other, &ev);
	CHECK("thread exec: new image hits twice, exits 0", hits == 2 && other == 0 &&
	      ev.kind == TGT_EV_EXITED && ev.status == 0);
	ops->destroy(t);
}

static void test_crash(void)
{
	pid_t pid;
	struct tgt *t = launch_quiet(&pid, "crash", NULL);
	CHECK("crash: launch", t != NULL);
	if (!t) return;
	uint64_t hit = ptu_sym(pid, prog, "pt_hit");
	ops->insert_bp(t, TGT_BP_SW, hit, 1);
	struct tgt_event ev;
	int r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	r = r == 0 ? ptu_wait(ops, t, &ev, 20000) : r;
	CHECK("crash: breakpoint first", r == 1 && ev.reason == TGT_REASON_SWBREAK);
	r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	r = r == 0 ? ptu_wait(ops, t, &ev, 20000) : r;
	CHECK("crash: SIGSEGV reported", r == 1 && ev.kind == TGT_EV_STOPPED &&
	      ev.reason == TGT_REASON_SIGNAL && ev.sig == SIGSEGV);
	uint8_t pcb[8];
	uint64_t fault_pc = 0;
	if (ops->read_reg(t, ev.tid, 16, pcb) == 0) memcpy(&fault_pc, pcb, 8);
	r = ops->resume(t, ev.tid, TGT_RESUME_CONT, SIGSEGV);
	r = r == 0 ? ptu_wait(ops, t, &ev, 20000) : r;
	CHECK("crash: delivered, process killed by SIGSEGV", r == 1 && ev.kind == TGT_EV_KILLED &&
	      ev.sig == SIGSEGV && ev.pid == pid);
	CHECK("crash: reaped", !ptu_proc_exists(pid));
	ops->destroy(t);

	/* A breakpoint on the faulting instruction itself: the step over it
	 * faults; the fault is reported, and delivered when asked (the signal
	 * given for a thread on a breakpoint normally waits for the step). */
	t = launch_quiet(&pid, "crash", NULL);
	if (!t || !fault_pc) return;
	CHECK("crash: breakpoint on the faulting instruction", ops->insert_bp(t, TGT_BP_SW, fault_pc, 1) == 0);
	r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	r = r == 0 ? ptu_wait(ops, t, &ev, 20000) : r;
	CHECK("crash: hit it", r == 1 && ev.reason == TGT_REASON_SWBREAK && ev.addr == fault_pc);
	r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	r = r == 0 ? ptu_wait(ops, t, &ev, 20000) : r;
	CHECK("crash: the step over it reports SIGSEGV", r == 1 && ev.kind == TGT_EV_STOPPED &&
	      ev.reason == TGT_REASON_SIGNAL && ev.sig == SIGSEGV);
	r = ops->resume(t, ev.tid, TGT_RESUME_CONT, SIGSEGV);
	r = r == 0 ? ptu_wait(ops, t, &ev, 20000) : r;
	CHECK("crash: SIGSEGV delivered, not reported again", r == 1 && ev.kind == TGT_EV_KILLED &&
	      ev.sig == SIGSEGV);
	ops->destroy(t);
}

static void test_churn(void)
{
	pid_t pid;
	struct tgt *t = launch_quiet(&pid, "churn", "400");
	CHECK("churn: launch", t != NULL);
	if (!t) return;
	uint64_t hit = ptu_sym(pid, prog, "pt_hit");
	ops->insert_bp(t, TGT_BP_SW, hit, 1);
	int hits, other;
	struct tgt_event ev;
	run_counting(t, hit, &hits, &other, &ev);
	CHECK("churn: 400 short-lived threads, 400 hits, exit 0", hits == 400 && other == 0 &&
	      ev.kind == TGT_EV_EXITED && ev.status == 0);
	if (hits != 400) printf("# hits %d other %d kind %d\n", hits, other, ev.kind);
	ops->destroy(t);
}

int main(void)
{
	prog = ptu_target_abs("pt_prog");
	if (!prog) return 1;
	test_forks("fork");
	test_forks("vfork");
	test_exec();
	test_thread_exec();
	test_crash();
	test_churn();
	return check_done();
}
