/* pt_wait.c — wait statuses into events: the heart of the ptrace backend.
 *
 * Every waitpid() result goes through handle_status(), which sorts the stop
 * into one of: bookkeeping the backend absorbs (clone, fork, exit-in-progress,
 * exec, our own interrupt, a passed signal) or an event for the session
 * (breakpoint, step, watchpoint, signal, exit), queued in arrival order
 * (pt_events.c hands them out).  SIGTRAPs are classified exactly (see
 * classify_trap) so that no trap the backend caused is ever reported as a
 * signal.  Restarting and stopping threads live here too: they decide what
 * a stop with nothing to report turns into.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pt_int.h"

#ifndef TRAP_HWBKPT
#define TRAP_HWBKPT 4
#endif

static int tgkill_(pid_t pid, pid_t tid, int sig)
{
	return (int)syscall(SYS_tgkill, pid, tid, sig);
}

/* ------------------------------------------------------------ queue */

int pt_queue(struct tgt *t, const struct tgt_event *ev)
{
	if (t->qn == t->qcap) {
		int cap = t->qcap ? t->qcap * 2 : 32;
		struct tgt_event *n = realloc(t->q, (size_t)cap * sizeof *n);
		if (!n) return -ENOMEM;
		t->q = n;
		t->qcap = cap;
	}
	t->q[t->qn++] = *ev;
	if (ev->kind == TGT_EV_STOPPED || ev->kind == TGT_EV_EXEC) {
		struct pt_thread *th = pt_thread_find(t, ev->tid);
		if (th) {
			th->pending = true;
			th->stop_report = false;  /* this stop is the answer */
		}
	}
	return 0;
}

void pt_queue_remove(struct tgt *t, int i)
{
	memmove(&t->q[i], &t->q[i + 1], (size_t)(t->qn - i - 1) * sizeof t->q[0]);
	t->qn--;
}

void pt_queue_drop_tid(struct tgt *t, pid_t tid)
{
	for (int i = t->qn - 1; i >= 0; i--)
		if (t->q[i].tid == tid && (t->q[i].kind == TGT_EV_STOPPED || t->q[i].kind == TGT_EV_EXEC))
			pt_queue_remove(t, i);
}

static void queue_stop(struct tgt *t, struct pt_thread *th, int sig,
		       enum tgt_stop_reason reason, uint64_t addr)
{
	struct tgt_event ev = { .kind = TGT_EV_STOPPED, .pid = t->pid, .tid = th->tid,
				.sig = sig, .reason = reason, .addr = addr };
	if (pt_queue(t, &ev) < 0) {
		/* Out of memory: the thread stays stopped; better than losing
		 * it running with nobody told.  Report it as a plain stop later. */
		th->pending = false;
	}
}


/* ------------------------------------------------------------ restarting */

int pt_restart(struct tgt *t, struct pt_thread *th)
{
	/* The pc rewind of a hit is kept in the register cache until now. */
	if (th->regs_dirty) t->stats.flushes++;
	int fr = pt_regs_flush(th);
	if (fr < 0 && fr != -ESRCH) return fr;
	int sig = th->deliver_sig;
	th->deliver_sig = 0;
	if (th->dr_gen != t->dr_gen) {
		int r = pt_dr_apply(t, th);
		if (r < 0 && r != -ESRCH) return r;
	}
	if (sig && !th->sig_stop) {
		/* PTRACE_CONT's signal is ignored at event stops: queue it instead. */
		if (tgkill_(t->pid, th->tid, sig) < 0 && errno != ESRCH) return -errno;
		th->injected = sig;
		sig = 0;
	}
	long r = ptrace(th->stepping ? PTRACE_SINGLESTEP : PTRACE_CONT, th->tid, 0L, (long)sig);
	if (r < 0) {
		if (errno != ESRCH) return -errno;
		/* Killed under us: only its exit status is left to collect. */
		th->exiting = true;
	}
	th->jp_rip = 0;
	th->kstopped = false;
	th->sig_stop = false;
	th->regs_valid = th->fpregs_valid = false;
	return 0;
}



void pt_restart_plain(struct tgt *t)
{
	for (int i = 0; i < t->nth; i++) {
		struct pt_thread *th = t->th[i];
		if (th->running && th->kstopped && !th->pending && !th->exiting && !th->stop_report) {
			pt_vfork_release(t, th);   /* only if pt_vfork_hold() could not run */
			pt_restart(t, th);
		}
	}
}

void pt_restart_idle(struct tgt *t)
{
	if (t->hold) return;
	if (pt_vfork_waiting(t, true)) pt_vfork_hold(t);
	else pt_restart_plain(t);
}

/* A thread stopped with nothing to report: keep it or restart it.
 * satisfied: this stop answered one of our interrupts. */
void pt_settle(struct tgt *t, struct pt_thread *th, bool satisfied)
{
	if (satisfied && th->stop_report && th->running) {
		th->stop_report = false;
		queue_stop(t, th, 0, TGT_REASON_INTERRUPT, 0);
		return;
	}
	if (th->running && !th->pending && !t->hold && !th->exiting) {
		if (th->vfork_child) pt_restart_idle(t);   /* the others wait for its child */
		else pt_restart(t, th);
	}
}

/* ------------------------------------------------------------ classification */

/* A SIGTRAP signal-delivery-stop.  Order matters:
 *  1. si_code SI_KERNEL is int3 (x86 reports it so; never a #DB): ours if
 *     pc-1 holds one of our breakpoints -> SWBREAK, pc rewound; else the
 *     program's own int3 -> SIGTRAP.
 *  2. si_code <= 0: someone sent SIGTRAP with kill/tgkill -> signal.
 *  3. a debug register fired (DR6, read only while slots are in use; the
 *     kernel keeps a virtual DR6 per thread, cleared on each #DB but not on
 *     int3, so we clear it after use) -> watch/hwbreak with its address.
 *     Checked before the step: a step that writes a watched location
 *     reports the watchpoint, as gdb expects.
 *  4. the thread was single-stepping and si_code > 0 (TRAP_TRACE; TRAP_BRKPT
 *     after stepping over a syscall instruction; SIGTRAP from ptrace_notify
 *     when stepping into a signal handler) -> step done.
 *  5. anything else -> SIGTRAP. */
/* Was pc one of our breakpoints, taken out since (t->gone_bps), whose
 * original byte is back?  An SI_KERNEL trap at pc+1 is then our int3's,
 * executed just before the removal: the program's own int3 would still be
 * in memory. */
static bool stale_hit(struct tgt *t, uint64_t pc)
{
	bool gone = false;
	for (size_t i = 0; i < sizeof t->gone_bps / sizeof t->gone_bps[0]; i++)
		if (t->gone_bps[i] == pc && pc != 0) gone = true;
	uint8_t b;
	return gone && pt_mem_read_raw(t, pc, &b, 1) == 1 && b != 0xcc;
}

/* Th executed our int3 at pc: rewind (in the register cache, written when
 * it runs again: pt_restart) and report the hit. */
static void report_hit(struct tgt *t, struct pt_thread *th, uint64_t pc)
{
	th->regs.rip = pc;
	th->regs_dirty = true;
	th->at_bp = true;
	th->bp_addr = pc;
	th->sig_stop = true;
	queue_stop(t, th, SIGTRAP, TGT_REASON_SWBREAK, pc);
}

/* The jump pad whose int3 (offset 0) is at pc, or NULL. */
static const struct pt_pad *jump_pad_int3(const struct tgt *t, uint64_t pc)
{
	const struct pt_pad *p = t->npads ? pt_pad_at(t, pc) : NULL;
	return p && p->jump && pc == pt_pad_base(t, p) ? p : NULL;
}

/* th executed the int3 of p, a jump pad: a hit of p's breakpoint.  The
 * kernel's rip (pad + 1) is where th goes on: before the relocated
 * instruction.  The cache shows the breakpoint's address (what the session
 * and agent expressions see) and the backend keeps the real one aside
 * (th->jp_rip): resuming it costs no register write (pt_step.c).  If the
 * breakpoint went away after th took the jump, th just runs on. */
static void jump_hit(struct tgt *t, struct pt_thread *th, const struct pt_pad *p, bool satisfied)
{
	th->sig_stop = true;
	if (!pt_bp_find(t, p->addr)) {
		th->at_bp = false;
		pt_settle(t, th, satisfied);
		return;
	}
	th->jp_rip = th->regs.rip;
	th->jp_addr = p->addr;
	th->regs.rip = p->addr;
	th->at_bp = true;
	th->bp_addr = p->addr;
	queue_stop(t, th, SIGTRAP, TGT_REASON_SWBREAK, p->addr);
}

static void classify_trap(struct tgt *t, struct pt_thread *th, bool satisfied)
{
	/* Fast path (issue 6: one syscall less per hit): a thread that was not
	 * stepping, with no debug register armed, stopped one byte past an
	 * inserted int3 whose instruction is longer than one byte.  That pc is
	 * inside the original instruction, where no code goes and no interrupted
	 * thread rests: only executing the int3 puts it there, so this is the
	 * SI_KERNEL trap of rule 1 without asking for the siginfo.  (A one-byte
	 * instruction, or one not decoded, takes the full path: bp+1 is then an
	 * instruction boundary where a kill(SIGTRAP) could find the thread.) */
	if (!th->stepping && !th->stepping_over && !pt_dr_active(t) && pt_regs_fetch(th) == 0) {
		uint64_t pc = th->regs.rip - 1;
		struct pt_bp *bp = pt_bp_find(t, pc);
		if (bp && bp->insn.kind != PT_INSN_UNKNOWN && bp->insn.len > 1) {
			report_hit(t, th, pc);
			return;
		}
		/* Just past a jump pad's int3: only that int3 puts a thread
		 * there, or our restart from a hit there (a kill(SIGTRAP) that
		 * finds it before it moved on is taken for a hit: Go never sends
		 * one; telling would cost the siginfo on every hit). */
		const struct pt_pad *p = jump_pad_int3(t, pc);
		if (p) {
			jump_hit(t, th, p, satisfied);
			return;
		}
	}
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (ptrace(PTRACE_GETSIGINFO, th->tid, 0L, &si) < 0) {
		if (errno == ESRCH) {
			/* gone meanwhile (exit_group's SIGKILL): its death is all
			 * that follows, not a signal to report */
			th->exiting = true;
			return;
		}
		si.si_code = 0;
	}
	if (si.si_code == (SIGTRAP | PTRACE_EVENT_EXIT << 8)) {
		/* exit_group's SIGKILL took it out of this stop into its exit
		 * stop: that one is waited for and handled (PTRACE_EVENT_EXIT) */
		th->exiting = true;
		return;
	}
	/* ptrace_notify() stops (entering a signal handler while stepping) carry
	 * si_code SIGTRAP and are not signal-delivery-stops: a signal given to
	 * PTRACE_CONT there would be dropped, pt_restart() must tgkill it. */
	if (si.si_code == SIGTRAP) th->sig_stop = false;

	if (si.si_code == SI_KERNEL) {
		if (pt_regs_fetch(th) == 0) {
			uint64_t pc = th->regs.rip - 1;
			if (pt_bp_find(t, pc)) {
				report_hit(t, th, pc);
				return;
			}
			const struct pt_pad *p = jump_pad_int3(t, pc);
			if (p) {
				jump_hit(t, th, p, satisfied);
				return;
			}
			if (stale_hit(t, pc)) {
				/* our int3, taken out after it ran: undo the hit (pc
				 * back on the original instruction) and let the thread
				 * go on as if the breakpoint had never been there */
				th->regs.rip = pc;
				th->regs_dirty = true;
				th->at_bp = false;
				pt_settle(t, th, satisfied);
				return;
			}
		}
		queue_stop(t, th, SIGTRAP, TGT_REASON_SIGNAL, 0);
		return;
	}
	if (si.si_code <= 0) {
		if (t->pass[SIGTRAP] && !(th->stepping && !th->stepping_over)) {
			th->deliver_sig = SIGTRAP;
			pt_settle(t, th, satisfied);
			return;
		}
		queue_stop(t, th, SIGTRAP, TGT_REASON_SIGNAL, 0);
		return;
	}
	if (pt_dr_active(t)) {
		int s = pt_dr_hit(t, th);
		if (s >= 0) {
			static const enum tgt_stop_reason why[] = {
				[TGT_BP_SW] = TGT_REASON_HWBREAK, [TGT_BP_HW] = TGT_REASON_HWBREAK,
				[TGT_WP_WRITE] = TGT_REASON_WATCH, [TGT_WP_READ] = TGT_REASON_RWATCH,
				[TGT_WP_ACCESS] = TGT_REASON_AWATCH,
			};
			th->at_bp = false;
			queue_stop(t, th, SIGTRAP, why[t->slots[s].kind], t->slots[s].addr);
			return;
		}
	}
	if (th->stepping) {
		th->at_bp = false;
		if (th->stepping_over) {
			th->step_done = true;   /* pt_step_over() takes it from here */
			return;
		}
		/* A client step took a jump to a pad: it arrived at the
		 * breakpoint (an int3 would have trapped there).  Back to it. */
		const struct pt_pad *p = pt_regs_fetch(th) == 0 ? jump_pad_int3(t, th->regs.rip) : NULL;
		if (p) {
			if (pt_bp_find(t, p->addr)) {
				report_hit(t, th, p->addr);
				return;
			}
			th->regs.rip = p->addr;
			th->regs_dirty = true;
		}
		queue_stop(t, th, SIGTRAP, TGT_REASON_STEP, 0);
		return;
	}
	queue_stop(t, th, SIGTRAP, TGT_REASON_SIGNAL, 0);
}

/* ------------------------------------------------------------ pending traps */

/* Has the kernel raised a SIGTRAP for this thread (int3, single-step, debug
 * register) that is still pending, not yet dequeued?  A ptrace-stop that is
 * not a signal-delivery-stop can come first: get_signal() handles the
 * PTRACE_INTERRUPT trap (and group-stops) before it dequeues any signal, so
 * a thread interrupted just after it executed an int3 (or finished a step,
 * or touched a watched location) sits in PTRACE_EVENT_STOP with its hit
 * unseen and its pc past the int3.  Left like that, the hit would be judged
 * later against breakpoints that may be gone by then (a spurious SIGTRAP at
 * bp+1), and a detach would let the trap kill the program.
 * Kernel traps have si_code > 0 and are forced (never blocked, never
 * ignored); a SIGTRAP someone queued with si_code > 0 to a thread that
 * blocks it is not one and stays where it is. */
static bool kernel_trap_pending(pid_t tid)
{
	siginfo_t si[16];
	struct __ptrace_peeksiginfo_args a = { .off = 0, .flags = 0, .nr = 16 };
	bool found = false;
	while (!found && a.off < 4096) {
		long n = ptrace(PTRACE_PEEKSIGINFO, tid, &a, si);
		if (n <= 0) break;
		for (long i = 0; i < n; i++)
			if (si[i].si_signo == SIGTRAP && si[i].si_code > 0) found = true;
		if (n < (long)a.nr) break;
		a.off += (uint64_t)n;
	}
	if (!found) return false;
	uint64_t blocked = 0;
	if (ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof blocked, &blocked) < 0) return false;
	return !(blocked & (1ull << (SIGTRAP - 1)));
}

/* th stopped in a ptrace-stop that is not a signal-delivery-stop: if a
 * kernel SIGTRAP is pending, let it be dequeued now, while the breakpoints
 * and watchpoints it belongs to are still in place.  PTRACE_CONT cannot run
 * a single instruction first: a pending unblocked signal is handled on the
 * way back to user mode, synchronous ones (the trap) before any other.  Its
 * signal-delivery-stop comes next and is classified as any hit; it also
 * answers our interrupt (stop_req stays).  Returns true if th was restarted
 * for that. */
static bool take_pending_trap(struct pt_thread *th, bool satisfied)
{
	if (th->exiting || !kernel_trap_pending(th->tid)) return false;
	if (ptrace(PTRACE_CONT, th->tid, 0L, 0L) < 0) return false;
	th->kstopped = false;
	th->stop_req = satisfied;
	return true;
}

int pt_take_traps(struct tgt *t)
{
	int ret = 0;
	for (int i = 0; i < t->nth; i++) {
		struct pt_thread *th = t->th[i];
		if (!th->kstopped || th->sig_stop || th->exiting) continue;
		pid_t tid = th->tid;
		if (!take_pending_trap(th, false)) continue;
		for (;;) {
			int r = pt_wait_one(t, tid, true);
			if (r < 0) {
				if (r != -ECHILD) ret = r;
				break;
			}
			th = pt_thread_find(t, tid);
			if (!th || th->kstopped || th->exiting || t->exited) break;
		}
		if (t->exited || ret < 0) break;
		i = -1;   /* the table may have changed: rescan (done ones are skipped) */
	}
	/* Detach comes here before PTRACE_DETACH: no rewound pc may stay in the
	 * cache only -- also not the one of a hit just taken above. */
	for (int i = 0; !t->exited && i < t->nth; i++)
		if (t->th[i]->kstopped && !t->th[i]->exiting) {
			int r = pt_regs_flush(t->th[i]);
			if (r < 0 && r != -ESRCH && !ret) ret = r;
		}
	return t->exited ? 0 : ret;
}

/* ------------------------------------------------------------ statuses */



static void thread_died(struct tgt *t, pid_t tid, int status)
{
	struct pt_thread *dead = pt_thread_find(t, tid);
	if (dead) pt_drop_vfork_child(t, dead);
	if (tid != t->pid) {
		pt_queue_drop_tid(t, tid);
		pt_thread_remove(t, tid);
		struct tgt_event ev = { .kind = TGT_EV_THREAD_EXITED, .pid = t->pid, .tid = tid };
		pt_queue(t, &ev);
		return;
	}
	/* The leader is reported after every other thread is gone: the process is over. */
	struct tgt_event ev = { .pid = t->pid, .tid = tid };
	if (WIFEXITED(status)) {
		ev.kind = TGT_EV_EXITED;
		ev.status = WEXITSTATUS(status);
	} else {
		ev.kind = TGT_EV_KILLED;
		ev.sig = WTERMSIG(status);
	}
	for (int i = t->qn - 1; i >= 0; i--)
		if (t->q[i].kind == TGT_EV_STOPPED) pt_queue_remove(t, i);
	pt_threads_clear(t);
	pt_bp_forget_all(t);
	pt_mem_close(t);
	t->exited = true;
	pt_queue(t, &ev);
}

static void on_clone(struct tgt *t, struct pt_thread *th, bool satisfied)
{
	unsigned long msg = 0;
	pid_t parent = th->tid;
	bool running = th->running;
	if (ptrace(PTRACE_GETEVENTMSG, parent, 0L, &msg) == 0 && msg > 0) {
		pid_t ntid = (pid_t)msg;
		bool known = pt_thread_find(t, ntid) != NULL;
		struct pt_thread *nt = pt_thread_add(t, ntid);
		if (nt && !known) {
			nt->new_thread = true;
			nt->running = running;
			struct tgt_event ev = { .kind = TGT_EV_THREAD_CREATED, .pid = t->pid, .tid = ntid };
			pt_queue(t, &ev);
			int st;
			if (pt_stray_take(t, ntid, &st)) pt_handle_status(t, ntid, st);
		}
	}
	th = pt_thread_find(t, parent);
	if (th) pt_settle(t, th, satisfied);
}








static void on_exec(struct tgt *t, struct pt_thread *th)
{
	/* ptrace(2) "execve(2) under ptrace": every other thread is gone (their
	 * deaths may or may not be reported), the exec'ing thread now has the
	 * leader's tid, and the old image's breakpoints went with it. */
	for (int i = t->nth - 1; i >= 0; i--) {
		pid_t tid = t->th[i]->tid;
		if (tid == th->tid) continue;
		pt_drop_vfork_child(t, t->th[i]);
		pt_queue_drop_tid(t, tid);
		pt_thread_remove(t, tid);
		struct tgt_event ev = { .kind = TGT_EV_THREAD_EXITED, .pid = t->pid, .tid = tid };
		pt_queue(t, &ev);
	}
	/* The entry is the old leader's (the exec'ing thread took its tid):
	 * nothing of its past applies. */
	pt_drop_vfork_child(t, th);
	pt_queue_drop_tid(t, th->tid);
	th->pending = false;
	th->exiting = false;
	th->new_thread = false;
	th->at_bp = false;
	th->stepping = th->stepping_over = th->step_done = false;
	th->in_vfork = false;
	th->stop_req = th->stop_report = false;
	th->deliver_sig = th->injected = 0;
	th->jp_rip = 0;         /* its pad went with the old image */
	th->dr_gen = 0;
	pt_bp_forget_all(t);
	pt_dstep_forget(t);     /* the scratch page went with the old image */
	pt_mem_close(t);
	pt_mem_open(t);
	struct tgt_event ev = { .kind = TGT_EV_EXEC, .pid = t->pid, .tid = th->tid, .sig = SIGTRAP };
	pt_queue(t, &ev);
}

void pt_handle_status(struct tgt *t, pid_t tid, int status)
{
	struct pt_thread *th = pt_thread_find(t, tid);
	if (!th) {
		/* A clone's first stop before the clone event, or a child that is
		 * not ours: keep the status until a clone event claims it.
		 * A clone whose parent was killed by exit_group before its clone
		 * event could be reported is never claimed: its PTRACE_EVENT_EXIT
		 * stop must be let go here, or it sits in that stop for good (the
		 * group exit swallows further SIGKILLs), the leader is never
		 * reapable and the exit never reported (nor kill() done).  Its
		 * death is kept like any stray, for a late clone event to find. */
		if (WIFSTOPPED(status) && ((unsigned)status >> 16) == PTRACE_EVENT_EXIT) {
			ptrace(PTRACE_CONT, tid, 0L, 0L);
			return;
		}
		pt_stray_add(t, tid, status);
		return;
	}
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		thread_died(t, tid, status);
		return;
	}
	if (!WIFSTOPPED(status)) return;

	bool satisfied = th->stop_req;
	th->stop_req = false;
	th->kstopped = true;
	th->sig_stop = false;
	th->regs_valid = th->fpregs_valid = false;
	th->regs_dirty = false;
	int sig = WSTOPSIG(status);
	int event = (unsigned)status >> 16;

	if (th->new_thread) {
		/* First stop of an auto-attached clone (PTRACE_EVENT_STOP for a
		 * seized tracee).  Give it the debug registers it did not inherit. */
		th->new_thread = false;
		if (event == PTRACE_EVENT_STOP) {
			if (th->dr_gen != t->dr_gen) pt_dr_apply(t, th);
			pt_settle(t, th, satisfied);
			return;
		}
	}
	/* Jump pads (pt_dstep.c) are invisible: a thread that stopped inside
	 * one is moved out of it (or, for a fault of the pad's copy, back onto
	 * its breakpoint) before the stop is judged.  Only signal-delivery-
	 * and interrupt/group-stops can find it there (a pad makes no syscall).
	 * On the hot path (an int3 hit) the registers are fetched for the
	 * classification anyway: this costs one compare. */
	const struct pt_pad *pad;
	if (t->npads && !th->stepping && !th->stepping_over &&
	    (event == PTRACE_EVENT_STOP || (event == 0 && sig != (SIGTRAP | 0x80))) &&
	    pt_regs_fetch(th) == 0 && (pad = pt_pad_at(t, th->regs.rip)) != NULL) {
		/* Just past a jump pad's int3: its hit.  Its own trap is
		 * classified as usual; another stop first (an interrupt) has the
		 * trap pending: taken now, as below (if none is pending, th was
		 * restarted from there after its hit: stepped out as any). */
		bool fresh = pad->jump && th->regs.rip == pt_pad_base(t, pad) + 1;
		if (fresh && event == 0 && sig == SIGTRAP) {
			/* classify_trap() */
		} else if (fresh && event == PTRACE_EVENT_STOP && take_pending_trap(th, satisfied)) {
			return;
		} else {
			int r = pt_pad_leave(t, th, event == 0 ? sig : 0);
			if (r < 0) return;
			if (r == 2) {           /* its signal comes back as a stop of its own */
				pt_settle(t, th, satisfied);
				return;
			}
		}
	}
	switch (event) {
	case 0:
		break;
	case PTRACE_EVENT_CLONE:
		on_clone(t, th, satisfied);
		return;
	case PTRACE_EVENT_EXEC:
		on_exec(t, th);
		return;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
		pt_on_fork(t, th, event == PTRACE_EVENT_VFORK, satisfied);
		return;
	case PTRACE_EVENT_VFORK_DONE:
		if (th->in_vfork && t->vforks > 0 && --t->vforks == 0 && t->memfd >= 0)
			pt_put_bps(t, t->memfd, true);
		th->in_vfork = false;
		pt_settle(t, th, satisfied);
		return;
	case PTRACE_EVENT_EXIT:
		/* Let it die; its exit status follows.  Nothing of it can be
		 * inspected usefully any more. */
		th->exiting = true;
		pt_queue_drop_tid(t, tid);
		th->pending = false;
		if (ptrace(PTRACE_CONT, tid, 0L, 0L) == 0 || errno == ESRCH) th->kstopped = false;
		return;
	case PTRACE_EVENT_STOP:
		/* Our interrupt, a group-stop (sig is a stop signal; we do not
		 * keep the process in job-control stop), or a leftover interrupt
		 * that raced with another stop.  A trap the thread took just
		 * before is still pending: have it now (take_pending_trap). */
		if (take_pending_trap(th, satisfied)) return;
		pt_settle(t, th, satisfied);
		return;
	default:
		pt_settle(t, th, satisfied);
		return;
	}
	if (sig == (SIGTRAP | 0x80)) {     /* syscall-stop: we never ask for them */
		pt_settle(t, th, satisfied);
		return;
	}
	th->sig_stop = true;
	if (sig > 0 && sig == th->injected) {
		/* The signal resume() was asked to deliver, back from tgkill. */
		th->injected = 0;
		th->deliver_sig = sig;
		pt_settle(t, th, satisfied);
		return;
	}
	if (sig == SIGTRAP) {
		classify_trap(t, th, satisfied);
		return;
	}
	if (sig > 0 && sig < 65 && t->pass[sig] && !(th->stepping && !th->stepping_over)) {
		/* QPassSignals: straight back to the thread, no report -- except
		 * for a thread the client is single-stepping: gdbserver reports
		 * those (linux-low.cc, "do not ignore signals when stepping") so
		 * that gdb can step over the handler with a step-resume breakpoint. */
		if (th->deliver_sig && th->deliver_sig != sig)
			tgkill_(t->pid, tid, th->deliver_sig);
		th->deliver_sig = sig;
		pt_settle(t, th, satisfied);
		return;
	}
	queue_stop(t, th, sig, TGT_REASON_SIGNAL, 0);
}

int pt_wait_one(struct tgt *t, pid_t tid, bool block)
{
	int status;
	pid_t w;
	do w = waitpid(tid, &status, __WALL | (block ? 0 : WNOHANG));
	while (w < 0 && errno == EINTR);
	if (w < 0) return -errno;
	if (w == 0) return 0;
	pt_handle_status(t, w, status);
	return 1;
}

/* ------------------------------------------------------------ stopping */

static bool all_kstopped(struct tgt *t)
{
	for (int i = 0; i < t->nth; i++)
		if (!t->th[i]->kstopped && !t->th[i]->exiting) return false;
	return true;
}

static bool all_exiting(struct tgt *t)
{
	for (int i = 0; i < t->nth; i++)
		if (!t->th[i]->exiting) return false;
	return true;
}

static int interrupt(struct pt_thread *th)
{
	if (th->kstopped || th->stop_req || th->exiting || th->new_thread) return 0;
	if (ptrace(PTRACE_INTERRUPT, th->tid, 0L, 0L) < 0) {
		if (errno != ESRCH) return -errno;
		th->exiting = true;    /* vanished: its death is all that follows */
		return 0;
	}
	th->stop_req = true;
	return 0;
}

static int stop_everyone(struct tgt *t)
{
	for (int i = 0; i < t->nth; i++) {
		int r = interrupt(t->th[i]);
		if (r < 0) return r;
	}
	while (!all_kstopped(t)) {
		int r = pt_wait_one(t, -1, true);
		if (r < 0) return r;
	}
	return 0;
}

int pt_hold_all(struct tgt *t)
{
	t->hold++;
	t->stats.holds++;
	int r = stop_everyone(t);
	return r == -ECHILD && t->exited ? 0 : r;
}

void pt_release(struct tgt *t)
{
	if (t->hold > 0) t->hold--;
}

int pt_stop_all(struct tgt *t)
{
	if (!t->pid || t->exited) return t->exited ? 0 : -ESRCH;
	for (int i = 0; i < t->nth; i++) {
		t->th[i]->running = false;
		t->th[i]->stop_report = false;
	}
	/* The stops we cause are answers, not news. */
	for (int i = t->qn - 1; i >= 0; i--)
		if (t->q[i].kind == TGT_EV_STOPPED && t->q[i].reason == TGT_REASON_INTERRUPT) {
			struct pt_thread *th = pt_thread_find(t, t->q[i].tid);
			if (th) th->pending = false;
			pt_queue_remove(t, i);
		}
	int r = stop_everyone(t);
	/* Every thread dying (an exit_group under way): nothing is left to stop
	 * or resume, only deaths to collect, the leader's last once the others
	 * are reaped.  Collect them now, so that the exit is what the caller
	 * drains next (resume() would find no thread to run). */
	while (r == 0 && !t->exited && t->nth > 0 && all_exiting(t)) {
		int w = pt_wait_one(t, -1, true);
		if (w < 0) r = w;
	}
	/* New threads whose parent was running inherited "running". */
	for (int i = 0; i < t->nth; i++) t->th[i]->running = false;
	pt_evfd_update(t);
	if (r == -ECHILD && t->exited) return 0;
	return r;
}

int pt_stop(struct tgt *t, pid_t tid)
{
	if (!t->pid || t->exited) return -ESRCH;
	bool found = false;
	for (int i = 0; i < t->nth; i++) {
		struct pt_thread *th = t->th[i];
		if (tid != -1 && th->tid != tid) continue;
		found = true;
		if (!th->running || th->exiting) continue;
		if (th->kstopped) {
			if (!th->pending) queue_stop(t, th, 0, TGT_REASON_INTERRUPT, 0);
			continue;
		}
		th->stop_report = true;
		int r = interrupt(th);
		if (r < 0) return r;
	}
	pt_evfd_update(t);
	return found ? 0 : -ESRCH;
}







