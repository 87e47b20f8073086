/* pt_int.h — private state of the Linux ptrace backend (stub/pt_*.c).
 *
 * Only pt_*.c include this.  The public face is `pt_ops` (target.h).
 *
 * Thread model.  Every traced thread has two views:
 *   kstopped  the kernel's: the thread sits in a ptrace-stop (we collected its
 *             wait status and have not restarted it);
 *   running   the session's: it was resumed and no stop was reported for it.
 * A running thread may be kstopped for a while: while the backend steps another
 * thread over a breakpoint (t->hold), while its stop event waits in the queue,
 * or between a bookkeeping stop (clone, spurious interrupt) and its restart.
 * pt_restart_idle() restarts every running thread that is kstopped for no
 * reported reason.
 *
 * Stopping uses PTRACE_SEIZE + PTRACE_INTERRUPT, never SIGSTOP: any ptrace-stop
 * satisfies an interrupt (the kernel clears the pending trap, see ptrace(2)
 * "PTRACE_INTERRUPT"), so no stray SIGSTOP is ever left to swallow, and
 * group-stops are told apart from signal-delivery-stops by PTRACE_EVENT_STOP.
 */
#ifndef GOTAP_STUB_PT_INT_H
#define GOTAP_STUB_PT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "target.h"

struct pt_thread {
	pid_t tid;
	bool kstopped;      /* in a ptrace-stop */
	bool running;       /* session view: resumed, no stop reported since */
	bool stop_req;      /* PTRACE_INTERRUPT sent, no stop seen yet */
	bool stop_report;   /* stop() asked for: report TGT_REASON_INTERRUPT */
	bool pending;       /* a stop event of this thread waits in the queue */
	bool new_thread;    /* auto-attached clone, initial stop not seen yet */
	bool exiting;       /* past PTRACE_EVENT_EXIT (or vanished): only its death follows */
	bool sig_stop;      /* current stop is a signal-delivery-stop (restart's sig is honoured) */
	bool stepping;      /* resumed with PTRACE_SINGLESTEP */
	bool stepping_over; /* the internal step over a breakpoint is in progress */
	bool step_done;     /* set by the trap classifier for stepping_over */
	bool at_bp;         /* stopped by our int3 at bp_addr (pc rewound) */
	bool in_vfork;      /* its vfork child runs, sharing our memory (until VFORK_DONE) */
	/* A hit through a jump (pt_dstep.c): the kernel's rip is jp_rip (its
	 * pad + 1, past the pad's int3) while the register cache shows jp_addr
	 * (the breakpoint).  pt_regs_store() maps jp_addr back to jp_rip, so
	 * resuming it needs no register write.  0: none.  Cleared at restart. */
	uint64_t jp_rip, jp_addr;
	pid_t vfork_child;  /* vfork child held in its first stop, not released yet */
	uint64_t bp_addr;
	int deliver_sig;    /* signal to deliver at the next restart (passed or requested) */
	int injected;       /* signal we queued with tgkill for it: deliver, do not report */
	bool regs_valid, fpregs_valid;
	bool regs_dirty;    /* regs changed in the cache only (the pc rewind at a hit):
			     * written by pt_regs_flush() before the thread runs again */
	unsigned dr_gen;    /* t->dr_gen value whose debug registers this thread has */
	struct user_regs_struct regs;
	struct user_fpregs_struct fpregs;
};

/* The instruction under a software breakpoint, decoded with Zydis when the
 * breakpoint goes in (pt_dstep.c), so a thread can be stepped over it
 * without taking the int3 out.  Re-decoded after a memory write over it. */
enum pt_insn_kind {
	PT_INSN_UNKNOWN = 0,  /* not decoded (yet, or again after a write) */
	PT_INSN_STOPALL,      /* only the stop-all step-over is safe (syscall, int, far branch...) */
	PT_INSN_DISPLACE,     /* execute a copy in the scratch area */
	PT_INSN_LEA,          /* emulated on the registers: */
	PT_INSN_MOV_RR,
	PT_INSN_MOV_RI,
	PT_INSN_ADD_RI,
	PT_INSN_SUB_RI,
	PT_INSN_PUSH_R,
	PT_INSN_JMP,          /* relative jmp/jcc/call: emulated, never displaced */
	PT_INSN_JCC,
	PT_INSN_CALL,
	PT_INSN_RET,
};

struct pt_insn {
	uint8_t kind;        /* enum pt_insn_kind */
	uint8_t len;         /* instruction length */
	uint8_t size;        /* emulation: operand size in bytes (4 or 8) */
	int8_t dst, src;     /* hardware register numbers 0-15 (rax, rcx, ... r15), -1 none */
	int8_t base, index;  /* LEA: 0-15, 16 = rip, -1 none */
	uint8_t scale;
	uint8_t cc;          /* JCC: condition (low nibble of opcode 0x7X) */
	int8_t riprel_reg;   /* DISPLACE: register standing in for rip in the copy, -1 none */
	bool call_indirect;  /* DISPLACE: fix the pushed return address */
	bool pad_ok;         /* can run from a jump pad (pt_dstep.c): call rel32, push r64,
			      * or a DISPLACE kind that neither uses nor changes rip */
	uint8_t pad;         /* its pad: slot + 1 in t->pads (a cache; 0: look it up) */
	bool no_jump;        /* a jump to a pad was tried and could not be had: int3 + pad */
	int64_t imm;         /* immediate, displacement, branch offset, ret's imm16 */
	uint8_t code[16];    /* the bytes executed in the scratch area */
};

struct pt_bp {          /* inserted int3 (or jump) */
	uint64_t addr;
	uint8_t orig;
	int refs;
	int trace_refs;     /* of refs, TGT_BP_TRACE ones: a jump only while refs == trace_refs */
	bool jump;          /* in memory: `jmp rel32` to its jump pad, not the int3 (pt_dstep.c) */
	uint8_t jmp5[5];    /* those bytes */
	uint8_t orig5[5];   /* the original bytes under them (orig5[0] == orig) */
	struct pt_insn insn;
};

/* How a thread gets past the breakpoint it sits on (GOTAP_PT_STEPOVER). */
enum pt_step_mode {
	PT_STEP_AUTO = 0,     /* emulate simple instructions, displace the rest, stop-all if neither */
	PT_STEP_DISPLACE,     /* no emulation: displace what can be, stop-all otherwise */
	PT_STEP_STOPALL,      /* always stop every thread, remove the int3, single-step */
};

#define PT_SCRATCH_LEN 16   /* bytes of the scratch page a displaced step uses */

/* Jump pads (pt_dstep.c): a relocated copy of a breakpoint's instruction
 * followed by an absolute jump back, one 64-byte slot each after the
 * displaced-step area of the scratch page.  Written once, never rewritten
 * (a thread may be inside it at any time). */
#define PT_PAD_OFF 64
#define PT_PAD_SLOT 64
#define PT_PAD_MAX ((4096 - PT_PAD_OFF) / PT_PAD_SLOT)

struct pt_pad {
	uint64_t addr;      /* the breakpoint whose instruction it relocates */
	bool jump;          /* a jump pad: an int3 at offset 0, the body from offset 1 */
	uint8_t body;       /* offset of the relocated instruction (0, or 1 for a jump pad) */
	uint64_t back;      /* where its final jump goes: addr+len, or a call's target */
	uint8_t jmp;        /* offset of the final `jmp *0(%rip)` */
	bool call;          /* relocated `call rel32`: rsp is 8 lower from offset PT_PAD_CALL_ST1 */
	uint8_t code[PT_PAD_SLOT];
};
#define PT_PAD_CALL_ST1 5   /* call pad: offsets (from body) of the two stores of the return address */
#define PT_PAD_CALL_ST2 12

struct pt_slot {        /* one debug register DR0..3 */
	int refs;           /* 0: free */
	enum tgt_bp_kind kind;
	uint64_t addr;
	unsigned len;       /* 1, 2, 4, 8 (aligned) */
};

struct pt_stray {       /* wait status of a tid we do not know (yet) */
	pid_t tid;
	int status;
};

struct tgt {
	pid_t pid;              /* 0: no process */
	bool attached;          /* attached (true) or launched (false) */
	bool exited;            /* leader reaped; EXITED/KILLED queued, not popped yet */

	struct pt_thread **th;  /* stable pointers; removed entries are freed */
	int nth, thcap;

	struct tgt_event *q;    /* event queue, FIFO */
	int qn, qcap;

	struct pt_stray *stray;
	int nstray, straycap;

	struct pt_bp *bps;
	int nbp, bpcap;
	/* The last software breakpoints taken out (a ring): a thread that
	 * executed one of those int3s just before it went can still report
	 * the trap afterwards (pt_wait.c classify_trap: a stale hit, undone). */
	uint64_t gone_bps[32];
	unsigned gone_next;
	struct pt_slot slots[4];
	unsigned dr_gen;        /* bumped whenever slots change */

	int hold;               /* >0: keep every kstopped thread stopped */
	int vforks;             /* vfork children sharing our memory: int3s taken out */
	int memfd;              /* /proc/PID/mem, -1 if closed */
	bool no_pvm;            /* process_vm_readv refused (leader gone...): pread only */
	int sigfd, evfd, epfd;  /* SIGCHLD signalfd, "queue non-empty" eventfd, epoll of both */
	bool ev_signaled;
	bool pass[65];
	pid_t last_tid;         /* thread of the last popped stop event */

	/* Step-overs (pt_step.c, pt_dstep.c).  One scratch area for displaced
	 * steps: they are synchronous, so its use is serialized. */
	enum pt_step_mode step_mode;
	uint64_t scratch;       /* r-x page mapped in the process, 0: not yet */
	bool scratch_failed;    /* mapping it failed: stop-all for this image */
	uint64_t scratch_for;   /* breakpoint whose instruction the scratch holds */
	uint8_t scratch_code[PT_SCRATCH_LEN];
	struct pt_pad pads[PT_PAD_MAX];   /* slot i at scratch + PT_PAD_OFF + i * PT_PAD_SLOT */
	int npads;
	bool jumppad;           /* jump pads allowed (GOTAP_PT_JUMPPAD, default 1; auto mode only) */
	struct {
		unsigned long emulated, displaced, stopall, padded;   /* step-overs by method */
		unsigned long jumppad;        /* hits through a jump resumed with no register write */
		unsigned long jumps;          /* jumps written (int3 -> jmp) */
		unsigned long flushes;        /* restarts that had to write registers first */
		unsigned long pad_left;       /* stops inside a pad, moved out by single-steps */
		unsigned long pad_faults;     /* faults of a pad's copy, mapped back to the breakpoint */
		unsigned long holds;                          /* pt_hold_all() calls */
	} stats;
};

/* ptrace options for every traced thread.  EXITKILL is added for launched ones. */
#define PT_OPTIONS (PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | \
		    PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | \
		    PTRACE_O_TRACEVFORKDONE)

/* ---- pt_threads.c: thread table */
struct pt_thread *pt_thread_find(struct tgt *t, pid_t tid);
/* Add a thread (not kstopped, not running).  NULL on allocation failure. */
struct pt_thread *pt_thread_add(struct tgt *t, pid_t tid);
void pt_thread_remove(struct tgt *t, pid_t tid);
void pt_threads_clear(struct tgt *t);
/* Stray statuses of unknown tids (a clone's first stop can beat the clone event). */
int pt_stray_add(struct tgt *t, pid_t tid, int status);
bool pt_stray_take(struct tgt *t, pid_t tid, int *status);
int pt_list_threads(struct tgt *t, struct tgt_thread_info *out, int cap);

/* ---- pt_wait.c: wait statuses, event queue, restarting, stopping */
/* Queue an event; for thread stops marks the thread pending.  -ENOMEM. */
int pt_queue(struct tgt *t, const struct tgt_event *ev);
void pt_queue_remove(struct tgt *t, int i);
void pt_queue_drop_tid(struct tgt *t, pid_t tid);
/* Collect one wait status (of tid, or any with -1) and act on it.
 * Returns 1 if one was handled, 0 if none (only with !block), -errno. */
int pt_wait_one(struct tgt *t, pid_t tid, bool block);
/* Act on one wait status of tid (collected by the caller). */
void pt_handle_status(struct tgt *t, pid_t tid, int status);
/* Restart a kstopped thread per its stepping flag and deliver_sig. */
int pt_restart(struct tgt *t, struct pt_thread *th);
/* Restart every running, kstopped thread with nothing pending (vfork
 * parents through pt_vfork_hold()); nothing while t->hold. */
void pt_restart_idle(struct tgt *t);
/* The same without the vfork step (a held vfork child is let go first). */
void pt_restart_plain(struct tgt *t);
/* A thread stopped with nothing to report: keep it stopped or restart it.
 * satisfied: this stop answered one of our interrupts. */
void pt_settle(struct tgt *t, struct pt_thread *th, bool satisfied);
/* Interrupt every thread that is not kstopped and wait until all are.
 * They keep their session view (running) and stay stopped until pt_release()
 * and a pt_restart_idle() (release does not restart: the caller may first
 * queue events that keep some threads stopped). */
int pt_hold_all(struct tgt *t);
/* Every kstopped thread that is not in a signal-delivery-stop and has a
 * kernel SIGTRAP (int3, step, watchpoint) pending gets it dequeued and
 * classified (its stop event queued), so none is left for after a detach.
 * Threads keep their session view.  0 or -errno. */
int pt_take_traps(struct tgt *t);
void pt_release(struct tgt *t);
int pt_stop_all(struct tgt *t);
int pt_stop(struct tgt *t, pid_t tid);

/* ---- pt_events.c: next_event, event_fd */
bool pt_queue_pop(struct tgt *t, struct tgt_event *ev);
int pt_next_event(struct tgt *t, struct tgt_event *ev, int timeout_ms);
/* tgt_ops.wait_event: block in wait4 (see target.h, pt_events.c). */
int pt_wait_event(struct tgt *t, struct tgt_event *ev, struct tgt_wait_gate *g);
void pt_evfd_update(struct tgt *t);
void pt_drain_sigfd(struct tgt *t);
long pt_now_ms(void);
int pt_events_init(struct tgt *t);
void pt_events_fini(struct tgt *t);

/* ---- pt_fork.c: fork/vfork children */
/* Write every int3 (in) or original byte (out) through fd (a /proc/PID/mem). */
void pt_put_bps(struct tgt *t, int fd, bool in);
/* PTRACE_EVENT_FORK/VFORK of th. */
void pt_on_fork(struct tgt *t, struct pt_thread *th, bool vfork, bool satisfied);
/* th goes away while its vfork child is held: clean the child, let it go. */
void pt_drop_vfork_child(struct tgt *t, struct pt_thread *th);
void pt_vfork_release(struct tgt *t, struct pt_thread *th);
/* Any vfork parent (stopped_only: held, resumable) waiting? */
bool pt_vfork_waiting(struct tgt *t, bool stopped_only);
/* Hold everyone while vfork children run in our memory; then restart. */
void pt_vfork_hold(struct tgt *t);
/* Vfork children still held: detach them (int3s already out) or kill and reap them. */
void pt_vfork_children_drop(struct tgt *t, bool kill_them);

/* ---- pt_resume.c */
int pt_resume(struct tgt *t, pid_t tid, enum tgt_resume_kind k, int sig);

/* ---- pt_regs.c */
int pt_regs_fetch(struct pt_thread *th);
int pt_regs_store(struct pt_thread *th);
/* Write regs back if only the cache holds them (regs_dirty).  Every path
 * that lets a kstopped thread run (pt_restart, detach via pt_take_traps)
 * calls it; 0 or -errno. */
int pt_regs_flush(struct pt_thread *th);
int pt_read_reg(struct tgt *t, pid_t tid, unsigned regno, uint8_t *buf);
int pt_write_reg(struct tgt *t, pid_t tid, unsigned regno, const uint8_t *buf);
int pt_read_regs(struct tgt *t, pid_t tid, uint8_t *buf);
int pt_write_regs(struct tgt *t, pid_t tid, const uint8_t *buf);
/* Size in bytes of gdb register regno (0 if out of range). */
unsigned pt_reg_size(unsigned regno);

/* ---- pt_mem.c */
int pt_mem_open(struct tgt *t);
void pt_mem_close(struct tgt *t);
/* Raw access (no breakpoint shadowing). */
long pt_mem_read_raw(struct tgt *t, uint64_t addr, uint8_t *buf, size_t len);
long pt_mem_write_raw(struct tgt *t, uint64_t addr, const uint8_t *buf, size_t len);
long pt_read_mem(struct tgt *t, uint64_t addr, uint8_t *buf, size_t len);
int pt_read_memv(struct tgt *t, struct tgt_memv *v, unsigned n);
long pt_write_mem(struct tgt *t, uint64_t addr, const uint8_t *buf, size_t len);

/* ---- pt_breakpoints.c */
struct pt_bp *pt_bp_find(struct tgt *t, uint64_t addr);
int pt_insert_bp(struct tgt *t, enum tgt_bp_kind k, uint64_t addr, unsigned len);
int pt_remove_bp(struct tgt *t, enum tgt_bp_kind k, uint64_t addr, unsigned len);
/* Take every int3 out of memory and clear the debug registers of every
 * kstopped thread (detach).  0, or the first error (all are tried). */
int pt_bp_remove_all(struct tgt *t);
/* Write 5 bytes of code at addr through fd (a /proc/PID/mem) so that a
 * thread arriving there sees an int3 or the whole: first byte int3, the
 * tail, the first byte.  5 or -errno. */
long pt_poke5(int fd, uint64_t addr, const uint8_t b[5]);
/* bp's jump (bp->jump) goes back to a plain int3, every thread held (a
 * thread already in its pad runs on: pads are never rewritten).  No-op
 * without a jump.  Does not restart the held threads (the caller does:
 * pt_restart_idle()).  0 or -errno. */
int pt_jump_out(struct tgt *t, struct pt_bp *bp);
/* Forget all breakpoints without touching memory (exec, exit). */
void pt_bp_forget_all(struct tgt *t);
/* Bring th's DR0-3/DR7 up to date (th kstopped). */
int pt_dr_apply(struct tgt *t, struct pt_thread *th);
/* Which slot fired, from DR6 (clears DR6).  -1 if none. */
int pt_dr_hit(struct tgt *t, struct pt_thread *th);
bool pt_dr_active(struct tgt *t);

/* ---- pt_step.c */
/* Step th (kstopped on an inserted breakpoint at its pc) over the breakpoint
 * without ever letting another thread run while it is out of memory.
 * Returns 1 if the instruction was executed, 0 if an event stopped th first
 * (queued), -errno.  Uses pt_dstep() unless t->step_mode is PT_STEP_STOPALL
 * or it cannot handle the instruction; else the stop-all method. */
int pt_step_over(struct tgt *t, struct pt_thread *th);

/* ---- pt_dstep.c: stepping over without stopping the other threads */
/* Decode bp's original instruction into bp->insn (reads through the
 * breakpoint shadow; any kind of failure gives PT_INSN_STOPALL). */
void pt_insn_decode(struct tgt *t, struct pt_bp *bp);
/* A write to [addr, addr+len) may have changed decoded instructions. */
void pt_insn_invalidate(struct tgt *t, uint64_t addr, size_t len);
#define PT_DSTEP_FALLBACK 2
/* Step th over bp by emulating its instruction or executing a copy of it
 * in the scratch area; other threads keep running, the int3 stays.  Same
 * results as pt_step_over(), or PT_DSTEP_FALLBACK when the stop-all method
 * must do it (th untouched). */
int pt_dstep(struct tgt *t, struct pt_thread *th, struct pt_bp *bp);
/* The image changed or the process went away: the scratch page is gone. */
void pt_dstep_forget(struct tgt *t);
static inline uint64_t pt_pad_base(const struct tgt *t, const struct pt_pad *p)
{
	return t->scratch + PT_PAD_OFF + (uint64_t)(p - t->pads) * PT_PAD_SLOT;
}
/* The jump pad whose slot holds pc, or NULL (one compare when none). */
static inline const struct pt_pad *pt_pad_at(const struct tgt *t, uint64_t pc)
{
	uint64_t off = pc - t->scratch - PT_PAD_OFF;
	return off < (uint64_t)t->npads * PT_PAD_SLOT ? &t->pads[off / PT_PAD_SLOT] : NULL;
}
/* th (kstopped, registers fetched) stopped inside a jump pad: in a
 * signal-delivery-stop of sig, or an event stop (sig 0).  A fault of the
 * pad's copy of the instruction is mapped back to the breakpoint (as if
 * raised there); anything else has th single-stepped out of the pad, sig
 * kept for the stop it is now in (its siginfo too).  Returns 1: handle the
 * stop as usual (th is out); 2: sig was queued again, handle it as a stop
 * with nothing to report; -1: th is no longer in a stop to handle (it died
 * meanwhile; handled). */
int pt_pad_leave(struct tgt *t, struct pt_thread *th, int sig);
/* Step mode from GOTAP_PT_STEPOVER (auto|displace|stopall). */
enum pt_step_mode pt_step_mode_env(void);
/* GOTAP_PT_JUMPPAD: 0 disables jump pads (default on). */
bool pt_jumppad_env(void);

/* ---- pt_process.c */
int pt_launch(struct tgt *t, const struct tgt_launch_opts *o, pid_t *pid);
int pt_attach(struct tgt *t, pid_t pid);
int pt_detach(struct tgt *t, int sig);
int pt_kill(struct tgt *t);
/* Forget the process (after exit, kill, detach). */
void pt_forget(struct tgt *t);

#endif /* GOTAP_STUB_PT_INT_H */
