/* session.h — one gdb client connection served by gotap-stub.
 *
 * The session owns the protocol state (ack mode, selected threads, the stop
 * being reported, pending stops) and runs the event loop: poll() on the
 * client and on the backend's event fd, feed bytes to the RSP parser,
 * dispatch packets through the handler table (handlers.h), and turn backend
 * events into stop replies.
 *
 * All-stop (the default): when any thread reports a stop, every other
 * thread is stopped before gdb hears of it; further stops that happened
 * meanwhile stay pending and are reported on the next resume instead of
 * resuming (as gdbserver does), except a pending breakpoint hit whose
 * breakpoint gdb has removed since: that one is discarded and the thread
 * simply executes the instruction again.
 *
 * Non-stop (after QNonStop:1; GDB manual "Remote Non-Stop", session_nonstop.c):
 * only the thread that reports a stop is stopped.  vCont answers OK at once
 * and applies its actions per thread (a thread no action names keeps its
 * state; 't' stops a running thread, reported with signal 0).  Every stop and
 * the process's exit is queued and announced with a "%Stop:" notification;
 * the client drains the queue with vStopped.  A thread counts as running for
 * the client until its stop has been acknowledged.  Every packet is served
 * while threads run (registers only of stopped threads).
 *
 * Waiting (issue 6).  While threads run, the session blocks in the backend's
 * own wait (tgt_ops.wait_event: wait4), not in poll(): a tracepoint hit then
 * costs no readiness syscalls.  A watcher thread (session_wake.h) that only
 * poll()s the client interrupts that wait when the client has something to
 * say.  While the client converses (fewer than CALM_EVENTS target events
 * since its last bytes), with no thread running, or with a backend without
 * wait_event, the session poll()s the client and the event fd as before.
 *
 * Every backend event enters the session through one function
 * (session.c take_event), which offers it to the tracepoint collector first
 * (stub_trace_on_event: a consumed tracepoint hit goes no further) and keeps
 * the session's thread list up to date.
 */
#ifndef GOTAP_STUB_SESSION_H
#define GOTAP_STUB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rsp.h"
#include "target.h"
#include "transport.h"

/* Options from the command line that the session needs. */
struct stub_config {
	bool multi;                /* --multi: vRun allowed, stay up without a process */
	bool once;                 /* --once: exit after the first client leaves */
	bool debug;                /* --debug: packet log on stderr */
	bool disable_aslr;         /* default true, as gdb/gdbserver */
	bool allow_host_io;        /* vFile may open any file */
	char *const *argv;         /* program and arguments for launch / empty vRun */
	char *const *wrapper;      /* --wrapper CMD... -- or NULL */
	const char *disabled;      /* --disable-packet list (comma separated) or NULL */
};

#define STUB_MAX_PENDING 256
#define STUB_MAX_VFILE 16
#define STUB_MAX_NSMAP 1024
#define STUB_REPLY_CAP (2 * RSP_PACKET_SIZE + 256)

/* One thread of the process (session view). */
struct stub_thr {
	pid_t tid;
	bool stopped;              /* non-stop: its stop was reported (queued) and it was not resumed since */
	bool stopping;             /* non-stop: vCont;t asked the backend to stop it */
	bool stepping;             /* last resumed with a step action (s/S/r), not a continue */
	struct tgt_event last;     /* non-stop: the stop it reported (for '?') */
};

/* One queued non-stop stop reply (text built when the event came). */
struct stub_notif {
	pid_t tid;                 /* 0 for W/X */
	struct tgt_event ev;       /* the event it reports */
	size_t len;
	char *text;
};

enum stub_run_state {
	STUB_NOPROC,      /* no process (before vRun/vAttach, after exit) */
	STUB_STOPPED,     /* all-stop: all threads stopped; non-stop: any process (threads may run) */
	STUB_RUNNING,     /* all-stop: resumed, a stop reply is owed (never in non-stop) */
};

/* How the session ended (stub_session_run's result). */
enum stub_end {
	STUB_END_DISCONNECT,   /* client went away (after D/k or not) */
	STUB_END_EXIT,         /* monitor exit, or signal: the stub should quit */
};

struct stub_session {
	const struct stub_config *cfg;
	const struct tgt_ops *ops;
	struct tgt *tgt;
	struct stub_transport *tr;

	struct rsp_parser parser;
	uint8_t *rx;               /* RSP_PACKET_SIZE receive buffer */
	char *reply;               /* STUB_REPLY_CAP reply payload buffer */
	uint8_t *frame;            /* framed reply */
	size_t frame_cap, frame_len;

	bool noack;                /* after QStartNoAckMode */
	bool extended;             /* after '!' */
	bool mp;                   /* client said multiprocess+ (we always offer it) */
	bool c_swbreak, c_hwbreak; /* client accepts swbreak:/hwbreak: stop reasons */
	bool c_exec;               /* client accepts exec: stop replies (exec-events+) */
	bool quit;                 /* monitor exit */
	bool debug;                /* packet log (--debug, monitor set debug) */
	bool disconnect;           /* end the connection after the current reply */

	enum stub_run_state state;
	pid_t pid;
	pid_t gthread;             /* Hg: 0 any, -1 all, else tid */
	pid_t cthread;             /* Hc */
	bool interrupting;         /* ^C received while running */
	bool have_last;            /* last reported stop, for '?' */
	struct tgt_event last;

	struct tgt_event pending[STUB_MAX_PENDING];
	int npending;

	/* Signals gdb asked to deliver to threads whose resume was answered
	 * with another thread's pending stop instead: each is delivered when
	 * its thread really resumes (gdbserver enqueues them the same way). */
	struct stub_qsig { pid_t tid; int sig; } qsig[STUB_MAX_PENDING];
	int nqsig;

	uint64_t *swbps;           /* addresses of inserted Z0 breakpoints */
	size_t nswbps, capswbps;

	/* The process's threads as the session knows them (creation order):
	 * kept from THREAD_CREATED/THREAD_EXITED events so that resuming needs
	 * no /proc walk (stub_thr_sync reloads it when it does not match the
	 * backend's count).  Also each thread's non-stop state. */
	struct stub_thr *thr;
	int nthr, capthr;
	bool thr_stale;

	/* Non-stop (QNonStop:1). */
	bool nonstop;
	struct stub_notif *nq;     /* stop replies not yet acknowledged, oldest first */
	int nqn, nqcap;
	bool nq_sent;              /* nq[0] went out (as %Stop or a reply), vStopped owed */
	bool in_packet;            /* a packet is being answered: notifications wait for the reply */

	bool pass[65];             /* QPassSignals, host numbering */
	bool program[65];          /* QProgramSignals */
	bool program_set;

	/* qfThreadInfo/qsThreadInfo iteration */
	struct tgt_thread_info *threads;
	int nthreads, thread_next;

	/* documents served in pieces by qXfer (rebuilt when offset is 0) */
	char *xdoc;
	size_t xdoc_len, xdoc_cap;
	int xdoc_tag;              /* which object xdoc holds (handlers' choice), 0 none */

	/* vFile */
	int vfd[STUB_MAX_VFILE];
	pid_t vfs_pid;             /* vFile:setfs: 0 = our files, else the target's view */

	/* PID namespace of the target (stub_ns_out/in): 0 unknown, 1 ours, 2 another */
	int pidns;
	struct stub_nsid { pid_t host, ns; } nsmap[STUB_MAX_NSMAP];
	int nnsmap;

	/* QSetWorkingDir / QDisableRandomization for later vRun */
	char *cwd;
	bool disable_aslr;

	/* tracepoints (stub/trace.h), allocated by the first trace packet */
	struct stub_trace *trace;

	/* client watcher (session_wake.h): started when the session first
	 * blocks in the backend's wait_event, joined when stub_session_run ends */
	struct stub_wake *wake;
	int calm;                  /* target events since the client last sent something (capped) */
};

/* Set up s for cfg/ops/tgt and client tr (allocates buffers).  pid is the
 * process already launched/attached (0 for none).  Returns 0 or -ENOMEM. */
int stub_session_init(struct stub_session *s, const struct stub_config *cfg,
		      const struct tgt_ops *ops, struct tgt *tgt,
		      struct stub_transport *tr, pid_t pid);
void stub_session_free(struct stub_session *s);

/* Serve the client until it disconnects, `monitor exit`, or *stop_flag
 * becomes non-zero (a signal handler sets it).  Does not close tr or touch
 * the process on return: see stub_session_cleanup(). */
enum stub_end stub_session_run(struct stub_session *s, volatile int *stop_flag);

/* Lifecycle safety: remove every breakpoint and watchpoint gdb left, then
 * detach an attached process or kill a launched one.  No-op without process. */
void stub_session_cleanup(struct stub_session *s);

/* Before detaching: re-queue the signals of pending stops gdb never saw,
 * and the last reported signal if gdb passes it to the program. */
void stub_hand_back_signals(struct stub_session *s);

/* --- shared by session.c and session_stop.c ------------------------------ */

/* Record ev as the stop gdb now knows (state, current thread, exit message). */
void stub_note_stop(struct stub_session *s, const struct tgt_event *ev);
/* Send the stop reply for ev and record it. */
void stub_report(struct stub_session *s, const struct tgt_event *ev);
/* Queue a backend event that is not reported now (ignores bookkeeping events). */
void stub_keep_pending(struct stub_session *s, const struct tgt_event *ev);

/* --- used by the handlers --------------------------------------------- */

/* Send payload[0..n) as one packet (handles ack mode and the debug log). */
int stub_send_packet(struct stub_session *s, const void *payload, size_t n);

/* The thread gdb means by Hg (or the last stopped thread, or the first). */
pid_t stub_current_thread(struct stub_session *s);

/* Build the stop reply for ev into dst; returns its length (0 if it failed). */
size_t stub_stop_reply(struct stub_session *s, const struct tgt_event *ev,
		       char *dst, size_t cap);

/* Build the stop reply for ev into dst and record it as the stop gdb now
 * knows (state, current thread, exit message on stderr).  Returns length. */
size_t stub_report_now(struct stub_session *s, const struct tgt_event *ev,
		       char *dst, size_t cap);

/* Record that the process is gone (exit, kill, detach). */
void stub_session_forget_process(struct stub_session *s);

/* Take the next still-valid pending stop of a thread in want (tid list of n,
 * or all threads when want is NULL).  Returns true and fills *ev. */
bool stub_take_pending(struct stub_session *s, const pid_t *want, int n,
		       struct tgt_event *ev);

/* Process and thread ids on the wire are the ones the TARGET sees: for a
 * process in another PID namespace (gotap-stub on the host attached into a
 * container) the last "NSpid:" field of /proc/PID/task/TID/status, so what
 * gdb shows matches what the container shows.  The backend keeps host ids.
 * stub_ns_out: host id -> wire id.  stub_ns_in: wire id -> host id (-1 when
 * no thread of the target has it; ids <= 0 pass unchanged).  Identity when
 * the target shares our PID namespace. */
pid_t stub_ns_out(struct stub_session *s, pid_t host);
pid_t stub_ns_in(struct stub_session *s, pid_t wire);
/* The same for a parsed thread id (pid and tid parts); false if unknown. */
bool stub_ptid_in(struct stub_session *s, struct rsp_ptid *id);

/* Software-breakpoint bookkeeping (to validate pending breakpoint stops). */
void stub_swbp_add(struct stub_session *s, uint64_t addr);
void stub_swbp_del(struct stub_session *s, uint64_t addr);
bool stub_swbp_has(struct stub_session *s, uint64_t addr);

/* --- thread list (session_nonstop.c) ------------------------------------ */

/* Make s->thr match the backend's threads (reloaded when marked stale or
 * when the backend's count differs).  Returns the count or -errno. */
int stub_thr_sync(struct stub_session *s);
struct stub_thr *stub_thr_find(struct stub_session *s, pid_t tid);
/* Keep the list up to date with a backend event (created, exited, exec). */
void stub_thr_event(struct stub_session *s, const struct tgt_event *ev);
/* The process is new or gone: reload on the next sync. */
void stub_thr_reset(struct stub_session *s);

/* --- non-stop (session_nonstop.c) ---------------------------------------- */

/* A backend event while in non-stop mode: queue and announce its stop reply. */
void stub_nonstop_event(struct stub_session *s, const struct tgt_event *ev);
/* Queue the stop reply for ev (thread marked stopped); sends %Stop when the
 * queue was idle.  The event's thread must be stopped. */
void stub_nonstop_queue(struct stub_session *s, const struct tgt_event *ev);
/* After a reply: announce a queue that filled while the packet was served. */
void stub_nonstop_flush(struct stub_session *s);
/* vCont;t (or ^C) for a thread the client sees running: ask the backend to
 * stop it (its stop comes as an event), or queue its stop at once when the
 * tracepoint collector holds it stopped.  0 or -errno. */
int stub_nonstop_stop(struct stub_session *s, struct stub_thr *t);
/* Drop every queued notification (the sequence is abandoned). */
void stub_nonstop_clear(struct stub_session *s);
/* Leave non-stop: stop every running thread, keep their stops pending. */
int stub_nonstop_leave(struct stub_session *s);
/* '?' in non-stop: restart the queue with every stopped thread's stop;
 * the first goes into dst (or "OK").  Returns the length. */
size_t stub_nonstop_status(struct stub_session *s, char *dst, size_t cap);
/* vStopped: the head was received; put the next into dst (or "OK"). */
size_t stub_nonstop_vstopped(struct stub_session *s, char *dst, size_t cap);
/* Is the thread's stop still queued (not acknowledged by the client)? */
bool stub_nonstop_queued(const struct stub_session *s, pid_t tid);

#endif /* GOTAP_STUB_SESSION_H */
