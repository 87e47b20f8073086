/* pt_step.c — stepping a thread over the breakpoint it sits on.
 *
 * The one place that decides how a thread gets past an inserted int3.
 * First choice (issue 6): pt_dstep.c emulates the instruction or executes a
 * copy of it elsewhere, the int3 stays in memory and no other thread stops.
 * Fallback, for what that cannot handle (syscall, int, far branches,
 * VEX-encoded rip-relative operands, no scratch page) or when
 * GOTAP_PT_STEPOVER=stopall: the all-stop method (what gdbserver does):
 * every other thread is held stopped, the original byte goes back, the
 * thread single-steps, the int3 goes back, and only then may anything run
 * again.  Either way no thread can ever run through a breakpoint while it is
 * out of memory (issue 6 measured 93% missed hits when that rule is broken).
 */
#include <errno.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pt_int.h"

static int step_over_stopall(struct tgt *t, struct pt_thread *th)
{
	pid_t tid = th->tid;
	uint64_t addr = th->bp_addr;
	int r = pt_hold_all(t);
	if (r < 0) {
		pt_release(t);
		return r;
	}
	th = pt_thread_find(t, tid);
	struct pt_bp *bp = pt_bp_find(t, addr);
	if (!th || !th->kstopped || th->pending) {
		pt_release(t);
		return 0;
	}
	if (!bp) {               /* removed meanwhile: nothing to step over */
		th->at_bp = false;
		pt_release(t);
		return 1;
	}
	uint8_t orig = bp->orig, cc = 0xcc;
	/* A jump goes back to an int3 first (its pad stays for whoever is in it). */
	if ((bp->jump && pt_jump_out(t, bp) < 0) || pt_mem_write_raw(t, addr, &orig, 1) != 1) {
		pt_release(t);
		return -EIO;
	}
	bool user_step = th->stepping;
	th->stepping = true;
	th->stepping_over = true;
	th->step_done = false;
	/* Signals wait until the instruction has executed: delivered now, the
	 * thread would enter the handler with the int3 back in place and hit it
	 * again when the handler returns (one call, two hits).  A signal the
	 * instruction itself raises again (a fault at the breakpoint) is
	 * delivered at once instead, or it would never be. */
	int deferred = th->deliver_sig;
	th->deliver_sig = 0;
	r = pt_restart(t, th);
	while (r == 0) {
		r = pt_wait_one(t, tid, true);
		if (r < 0) break;
		r = 0;
		th = pt_thread_find(t, tid);
		if (!th || th->step_done || th->exiting) break;
		if (th->pending) {
			int i = t->qn - 1;
			if (!deferred || i < 0 || t->q[i].tid != tid || t->q[i].kind != TGT_EV_STOPPED ||
			    t->q[i].reason != TGT_REASON_SIGNAL || t->q[i].sig != deferred)
				break;
			pt_queue_remove(t, i);   /* the fault again: deliver it now */
			th->pending = false;
			th->deliver_sig = deferred;
			deferred = 0;
		} else if (th->deliver_sig && th->kstopped) {
			if (!deferred) deferred = th->deliver_sig;
			else if (th->deliver_sig != deferred)
				syscall(SYS_tgkill, t->pid, tid, th->deliver_sig);   /* requeue */
			th->deliver_sig = 0;
		}
		if (th->kstopped) r = pt_restart(t, th);  /* clone event, passed signal */
	}
	if (deferred) {
		if (th && pt_thread_find(t, tid) == th) {
			if (th->deliver_sig && th->deliver_sig != deferred)
				syscall(SYS_tgkill, t->pid, tid, th->deliver_sig);
			th->deliver_sig = deferred;
		}
	}
	int done = 0;
	if (th && pt_thread_find(t, tid) == th) {
		th->stepping = user_step;
		th->stepping_over = false;
		if (th->step_done) {
			th->at_bp = false;
			done = 1;
		}
		th->step_done = false;
	}
	/* Back in, unless the image went away (exec) or the process did. */
	if (pt_bp_find(t, addr) && t->memfd >= 0 && !t->exited && !t->vforks)
		if (pt_mem_write_raw(t, addr, &cc, 1) != 1 && r == 0) r = -EIO;
	pt_release(t);
	if (r == -ECHILD && t->exited) r = 0;
	return r < 0 ? r : done;
}

int pt_step_over(struct tgt *t, struct pt_thread *th)
{
	/* A hit through a jump: the kernel's rip is already where th goes on
	 * (its pad + 1: the relocated instruction, then back), unless the
	 * client writes moved it.  Nothing to do -- no register write -- for
	 * a plain continue; a single-step, a signal to deliver first or a
	 * watchpoint need th back on the original address (the jump there is
	 * side-effect free), then the usual step-over below. */
	if (th->jp_rip && th->regs_valid && th->regs.rip == th->jp_addr && th->jp_addr == th->bp_addr) {
		if (!th->stepping && !th->deliver_sig && !pt_dr_active(t)) {
			th->at_bp = false;
			t->stats.jumppad++;
			return 1;
		}
		th->jp_rip = 0;
		th->regs_dirty = true;
	}
	struct pt_bp *bp = pt_bp_find(t, th->bp_addr);
	if (t->step_mode != PT_STEP_STOPALL && bp && th->kstopped && !th->pending) {
		int r = pt_dstep(t, th, bp);
		if (r != PT_DSTEP_FALLBACK) return r;
	}
	t->stats.stopall++;
	return step_over_stopall(t, th);
}
