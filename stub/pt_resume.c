/* pt_resume.c — resume requests: continue or single-step threads.
 *
 * A resume marks the threads running, steps each one that sits on a
 * breakpoint it just hit over it (pt_step.c: emulated or displaced, the
 * others untouched; stop-all only as the fallback), then restarts them all.  A thread whose stop event is still in the
 * queue is marked running but left stopped: its event comes out of
 * next_event() next, as gdbserver reports pending stops before resuming.
 */
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pt_int.h"

/* Does th sit on a breakpoint it hit (pc unchanged since)? */
static bool needs_step_over(struct tgt *t, struct pt_thread *th)
{
	if (!th->at_bp || !th->kstopped || th->pending) return false;
	if (!pt_bp_find(t, th->bp_addr)) {
		th->at_bp = false;
		return false;
	}
	if (pt_regs_fetch(th) < 0) return false;
	if (th->regs.rip != th->bp_addr) {
		th->at_bp = false;   /* the client moved pc: the next int3 there is a new hit */
		return false;
	}
	return true;
}

int pt_resume(struct tgt *t, pid_t tid, enum tgt_resume_kind k, int sig)
{
	if (!t->pid) return -ESRCH;
	if (t->exited) return 0;   /* collected meanwhile: the exit is queued for next_event() */
	if (sig < 0 || sig > 64 || (tid == -1 && sig != 0)) return -EINVAL;
	bool found = false;
	for (int i = 0; i < t->nth; i++) {
		struct pt_thread *th = t->th[i];
		if (tid != -1 && th->tid != tid) continue;
		if (th->exiting) continue;
		found = true;
		if (th->running) continue;    /* already resumed: keep its request */
		th->running = true;
		th->stepping = k == TGT_RESUME_STEP;
		if (sig) {
			if (th->deliver_sig && th->deliver_sig != sig)
				/* a passed signal still owed: queue it behind this one */
				syscall(SYS_tgkill, t->pid, th->tid, th->deliver_sig);
			th->deliver_sig = sig;
		}
	}
	if (!found) {
		/* Only dying threads left (an exit_group under way): nothing to
		 * run; their deaths and the exit come out of next_event(). */
		if (tid == -1 && t->nth > 0) return 0;
		return -ESRCH;
	}

	/* Step-overs first, while the others are still stopped. */
	for (int i = 0; i < t->nth; i++) {
		struct pt_thread *th = t->th[i];
		if (tid != -1 && th->tid != tid) continue;
		if (!th->running || !needs_step_over(t, th)) continue;
		pid_t me = th->tid;
		bool step = th->stepping;
		int r = pt_step_over(t, th);
		th = pt_thread_find(t, me);
		if (r == -ESRCH || r == -ECHILD) {
			/* It died under us (an exit_group under way): nothing to
			 * step over any more; its death comes out of next_event(). */
			if (th) {
				th->at_bp = false;
				th->exiting = true;
			}
			r = 0;
		}
		if (r < 0) return r;
		if (r == 1 && th && step && th->kstopped && !th->pending) {
			struct tgt_event ev = { .kind = TGT_EV_STOPPED, .pid = t->pid, .tid = me,
						.sig = SIGTRAP, .reason = TGT_REASON_STEP };
			pt_queue(t, &ev);
		}
		i = -1;   /* the table may have changed: rescan (finished ones are skipped) */
	}
	pt_restart_idle(t);
	pt_evfd_update(t);
	return 0;
}
