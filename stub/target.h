/* target.h — the seam between the stub's session logic and the process it debugs.
 *
 * The session (packet handlers, all-stop/non-stop policy as the client sees it)
 * only calls through struct tgt_ops; the Linux ptrace implementation lives in
 * stub/pt_*.c and is the only code that calls ptrace(2), waitpid(2) or touches
 * /proc/PID/mem.  Another backend (a recorded-session replayer, a fault-injecting
 * wrapper for tests) can be put in its place.
 *
 * Model.  One traced process (a later extension may hold several) with a set
 * of threads, each identified by its kernel tid.  Every thread is either
 * RUNNING or STOPPED.  Events (a thread stopped with a signal, hit a breakpoint,
 * finished a step, a watchpoint fired, the process exited...) are produced by
 * the backend and collected with next_event(); a stop the backend caused itself
 * (SIGSTOP to stop a thread, the internal step over a breakpoint, clone/exit
 * bookkeeping) is never reported as a signal.
 *
 * Breakpoints are inserted once and stay in memory while threads run: resuming
 * a thread that sits on an inserted breakpoint steps it over the breakpoint
 * without ever removing it from memory while any other thread runs (the
 * backend either stops the others for the step, or emulates/relocates the
 * displaced instruction).  Memory reads return the original bytes, never 0xCC;
 * memory writes over a breakpoint update the saved original byte.
 *
 * All functions return 0 (or a count) on success and a negative errno value on
 * failure, e.g. -ESRCH for an unknown thread, -EIO/-EFAULT for unreadable memory.
 *
 * The ptrace backend (pt_ops) in particular:
 *  - create() blocks SIGCHLD in the calling thread and reads it through a
 *    signalfd, so every other thread must block SIGCHLD too (the session's
 *    client watcher is born with every signal blocked: session_wake.c), and
 *    every call (ptrace, wait4) must come from the thread that created it.  A launched program starts with an empty signal mask and
 *    SIGPIPE/SIGCHLD at their defaults.  kill() reaps with waitpid(-1): do not
 *    keep other children whose status matters.
 *  - it stops threads with PTRACE_INTERRUPT (seized tracees), never SIGSTOP.
 *  - a launched process gets PTRACE_O_EXITKILL: it dies if the stub dies.
 *  - fork/vfork children are not followed: they are let go without our
 *    breakpoints (see pt_fork.c).
 *  - stepping over a breakpoint (resume of a thread that hit it) never stops
 *    the other threads and never takes the int3 out: the instruction is
 *    emulated or executed from a scratch page the backend maps into the
 *    process (one r-x page, left mapped after detach; fork children inherit
 *    it, exec drops it).  syscall/int, far and loop/jrcxz branches and
 *    VEX-encoded rip-relative instructions fall back to stopping all threads.
 *    GOTAP_PT_STEPOVER=auto (default) | displace (no emulation) | stopall
 *    selects the method when the backend is created (pt_dstep.c, pt_step.c).
 *  - a TGT_BP_TRACE breakpoint on an instruction of 5 bytes or more becomes,
 *    in auto mode, a `jmp rel32` to a pad near the code that traps (pt_dstep.c:
 *    a hit then costs no register write); reads still show the original
 *    bytes.  GOTAP_PT_JUMPPAD=0 disables it.
 */
#ifndef GOTAP_STUB_TARGET_H
#define GOTAP_STUB_TARGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tgt;  /* opaque backend state */

enum tgt_event_kind {
	TGT_EV_NONE = 0,
	TGT_EV_STOPPED,       /* thread stopped: signal (sig != 0), or breakpoint/step/watch (see reason) */
	TGT_EV_EXITED,        /* whole process exited; status = exit code */
	TGT_EV_KILLED,        /* whole process terminated by signal sig */
	TGT_EV_THREAD_EXITED, /* one thread exited (the process lives on); informational */
	TGT_EV_THREAD_CREATED,/* new thread (already in the thread list); informational */
	TGT_EV_EXEC,          /* process called execve; all breakpoints are gone with the old image;
			       * the thread (now the leader) stays stopped until resumed */
};

enum tgt_stop_reason {
	TGT_REASON_SIGNAL = 0,  /* sig tells which */
	TGT_REASON_SWBREAK,     /* hit an inserted software breakpoint; pc already rewound to its address */
	TGT_REASON_HWBREAK,     /* hit a hardware breakpoint */
	TGT_REASON_STEP,        /* finished a requested single-step (sig = SIGTRAP) */
	TGT_REASON_WATCH,       /* write watchpoint at addr */
	TGT_REASON_RWATCH,      /* read watchpoint at addr */
	TGT_REASON_AWATCH,      /* access watchpoint at addr */
	TGT_REASON_INTERRUPT,   /* stopped by interrupt()/stop_thread() on request (reported as SIGINT/0 by policy) */
};

struct tgt_event {
	enum tgt_event_kind kind;
	pid_t pid;
	pid_t tid;
	int sig;                 /* Linux signal number (SIGTRAP for breakpoints and steps) */
	int status;              /* exit code for TGT_EV_EXITED */
	enum tgt_stop_reason reason;
	uint64_t addr;           /* breakpoint / watchpoint address */
};

enum tgt_resume_kind {
	TGT_RESUME_CONT,
	TGT_RESUME_STEP,
};

enum tgt_bp_kind {
	TGT_BP_SW = 0,     /* Z0 */
	TGT_BP_HW = 1,     /* Z1 */
	TGT_WP_WRITE = 2,  /* Z2 */
	TGT_WP_READ = 3,   /* Z3: x86 has no read-only watch; implemented as access, reported as rwatch */
	TGT_WP_ACCESS = 4, /* Z4 */
	TGT_BP_TRACE = 5,  /* a software breakpoint whose hits are never reported to the
			    * client as stops (the stub's tracepoints; never from a Z
			    * packet).  Hits are events as for TGT_BP_SW (SWBREAK at its
			    * address); a backend may implement it another way (pt_ops:
			    * a jump to a pad, pt_dstep.c).  It shares an address with
			    * TGT_BP_SW ones (refcounted together; removed with the kind
			    * it was inserted with).  A backend without it: -EINVAL. */
};

struct tgt_thread_info {
	pid_t tid;
	bool stopped;
	char name[32];      /* /proc/PID/task/TID/comm */
	int core;           /* last CPU, -1 if unknown */
};

/* How another thread stops a wait_event() that blocks (or is about to):
 * it sets stop, then sends the waiting thread a signal (a handler installed
 * without SA_RESTART) if waiting is set.  The backend sets waiting before
 * it looks at stop and blocks, and clears it when it returns, so either
 * the backend sees stop, or the signal finds it waiting (or, in the
 * instructions between the check and the blocking call, a signal is lost:
 * the sender repeats it until stop is cleared -- see stub/session_wake.c). */
struct tgt_wait_gate {
	atomic_int waiting;   /* backend: 1 while blocked in (or entering) its wait */
	atomic_int stop;      /* caller: 1 = do not block, return -EINTR */
};

/* One range of a scatter read (tgt_ops.read_memv). */
struct tgt_memv {
	uint64_t addr;
	uint8_t *buf;
	size_t len;
	long got;                 /* out: what read_mem(addr, buf, len) would return */
};

struct tgt_launch_opts {
	char *const *argv;        /* program and arguments (argv[0] is the program path) */
	char *const *wrapper;     /* optional wrapper command prefix (--wrapper ... --), NULL-terminated, or NULL */
	const char *cwd;          /* NULL: inherit */
	char *const *envp;        /* NULL: inherit environ */
	bool disable_aslr;        /* personality(ADDR_NO_RANDOMIZE), as gdb does by default */
};

struct tgt_ops {
	/* Create the backend object.  Returns NULL on allocation failure. */
	struct tgt *(*create)(void);
	void (*destroy)(struct tgt *t);

	/* Start a program stopped at its first instruction (after exec), or
	 * attach to every thread of a running process and leave them all stopped.
	 * On success *pid is the process id. */
	int (*launch)(struct tgt *t, const struct tgt_launch_opts *o, pid_t *pid);
	int (*attach)(struct tgt *t, pid_t pid);

	/* Remove all breakpoints/watchpoints, then detach every thread (they
	 * run on, with the given signal delivered to the current thread if sig!=0). */
	int (*detach)(struct tgt *t, int sig);
	/* SIGKILL the process and reap it (no zombie). */
	int (*kill)(struct tgt *t);

	pid_t (*pid)(struct tgt *t);      /* 0 when no process */
	bool (*attached)(struct tgt *t);  /* true if attached (not launched) */

	/* Threads.  list() fills up to cap entries and returns the total count. */
	int (*list_threads)(struct tgt *t, struct tgt_thread_info *out, int cap);
	bool (*thread_alive)(struct tgt *t, pid_t tid);

	/* Resume one thread (tid > 0) or every stopped thread (tid == -1) with
	 * the given signal (0 for none).  A thread on an inserted breakpoint is
	 * stepped over it safely (see header comment).  With tid == -1, sig must
	 * be 0 (-EINVAL): resume the thread that gets a signal first with its
	 * own call (vCont order: "C05:T;c" = resume(T, CONT, 5), resume(-1, CONT, 0)).
	 * Threads already resumed keep their request.  A thread whose stop event
	 * is still queued stays stopped; the event comes out of next_event().
	 * A signal for a thread sitting on a breakpoint it hit is delivered once
	 * the breakpoint's instruction has executed (so the handler's return
	 * does not hit the breakpoint a second time). */
	int (*resume)(struct tgt *t, pid_t tid, enum tgt_resume_kind k, int sig);
	/* Ask a running thread (tid > 0) or all running threads (-1) to stop.
	 * Returns immediately; the stops arrive through next_event() as
	 * TGT_REASON_INTERRUPT with sig 0 (unless the thread stopped for
	 * another reason first: then that event is reported instead).
	 * Stopping a stopped thread is a no-op. */
	int (*stop)(struct tgt *t, pid_t tid);
	/* Stop every running thread and wait until all are stopped; events
	 * other than the requested stops that arrive meanwhile are kept and
	 * returned by later next_event() calls (all-stop needs this). */
	int (*stop_all)(struct tgt *t);

	/* Next event.  With timeout_ms = 0 it only polls, -1 waits forever.
	 * Returns 1 with *ev filled, 0 on timeout, negative errno on error.
	 * Events come out in the order they happened, including those collected
	 * during stop_all().  A STOPPED or EXEC event marks its thread stopped.
	 * Returns 0 at once when no thread is resumed (nothing can happen), and
	 * -ECHILD when there is no process.  TGT_EV_EXITED/KILLED end the
	 * process: pid() is 0 afterwards.
	 * event_fd() gives an fd that becomes readable when an event may be
	 * ready (for poll() in the session's event loop), or -1.  (pt_ops: an
	 * epoll fd, readable while events are queued or SIGCHLD arrived.) */
	int (*next_event)(struct tgt *t, struct tgt_event *ev, int timeout_ms);
	int (*event_fd)(struct tgt *t);

	/* Registers in gdb's amd64 numbering (protocol/rsp.h, rsp_amd64_regs):
	 * buf receives the value in target byte order, sized per the table.
	 * The thread must be stopped. */
	int (*read_reg)(struct tgt *t, pid_t tid, unsigned regno, uint8_t *buf);
	int (*write_reg)(struct tgt *t, pid_t tid, unsigned regno, const uint8_t *buf);
	/* Whole 'g' block at once (rsp_amd64_regblock_size() bytes). */
	int (*read_regs)(struct tgt *t, pid_t tid, uint8_t *buf);
	int (*write_regs)(struct tgt *t, pid_t tid, const uint8_t *buf);

	/* Memory.  Returns the number of bytes transferred (may be short at
	 * the end of a mapping; 0 or negative if the first byte fails).
	 * Reads show original bytes under software breakpoints. */
	long (*read_mem)(struct tgt *t, uint64_t addr, uint8_t *buf, size_t len);
	long (*write_mem)(struct tgt *t, uint64_t addr, const uint8_t *buf, size_t len);

	/* Breakpoints and watchpoints (Z/z packets).  len is the gdb 'kind'
	 * (1 for x86 sw breakpoints; anything else is -EINVAL) or the watched
	 * length (1..32 bytes, any alignment: split into aligned debug-register
	 * regions; a watch event's addr is the start of the region that fired).
	 * Removing what is not inserted: -ENOENT.
	 * Inserting an existing one increments a reference; -ENOSPC when the
	 * debug registers are exhausted; -EINVAL for a bad length/alignment. */
	int (*insert_bp)(struct tgt *t, enum tgt_bp_kind k, uint64_t addr, unsigned len);
	int (*remove_bp)(struct tgt *t, enum tgt_bp_kind k, uint64_t addr, unsigned len);

	/* Signals the backend delivers straight back to the thread without
	 * reporting a stop (QPassSignals).  sigs[i] true = pass Linux signal i. */
	void (*set_pass_signals)(struct tgt *t, const bool sigs[65]);

	/* auxv of the process (for qXfer:auxv:read); returns length or -errno. */
	long (*read_auxv)(struct tgt *t, uint8_t *buf, size_t cap);
	/* Absolute path of the executable (/proc/PID/exe). */
	int (*exe_path)(struct tgt *t, char *buf, size_t cap);

	/* Optional (NULL when not offered): next_event() waiting forever, in
	 * the kernel's own wait, so that an event costs no readiness syscalls
	 * (pt_ops: a blocking wait4(-1, __WALL) per status, nothing else).
	 * Returns 1 with *ev, 0 at once when no thread is resumed (nothing can
	 * happen: wait for the client elsewhere), -EINTR when g->stop is set or
	 * a signal handler ran, other -errno as next_event.  Events come out in
	 * the same order as from next_event; the two may be mixed freely. */
	int (*wait_event)(struct tgt *t, struct tgt_event *ev, struct tgt_wait_gate *g);

	/* Scatter read: v[0..n) in as few system calls as the kernel allows
	 * (one process_vm_readv for all of them; what that does not read
	 * whole is read as read_mem would).  Each v[i].got is what
	 * read_mem(v[i].addr, v[i].buf, v[i].len) would return.  0, or -errno
	 * when the process is gone.  May be NULL (callers then use read_mem). */
	int (*read_memv)(struct tgt *t, struct tgt_memv *v, unsigned n);
};

/* The Linux ptrace backend. */
extern const struct tgt_ops pt_ops;

#endif /* GOTAP_STUB_TARGET_H */
