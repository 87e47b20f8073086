/* session.c — gotap-stub's event loop and all-stop policy.
 *
 * One loop.  While threads run it blocks in the backend's wait_event (wait4)
 * and a watcher thread (session_wake.c) interrupts it when the client has
 * something to say; otherwise it poll()s the client and the backend's event
 * fd.  Bytes from the client go through the RSP parser (protocol/) and
 * complete packets through the handler table (handlers.c); backend events
 * become stop replies (built and queued in session_stop.c).  See session.h
 * for the pending-stop rules.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handlers.h"
#include "say.h"
#include "session.h"
#include "session_wake.h"
#include "trace.h"

/* ------------------------------------------------------------ debug log */

static void log_packet(const char *dir, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t shown = n > 400 ? 400 : n;
	fprintf(stderr, "gotap-stub: %s \"", dir);
	for (size_t i = 0; i < shown; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '"') fputc(p[i], stderr);
		else fprintf(stderr, "\\x%02x", p[i]);
	}
	fprintf(stderr, "\"%s\n", shown < n ? "..." : "");
}

/* ------------------------------------------------------------ setup */

int stub_session_init(struct stub_session *s, const struct stub_config *cfg,
		      const struct tgt_ops *ops, struct tgt *tgt,
		      struct stub_transport *tr, pid_t pid)
{
	memset(s, 0, sizeof *s);
	s->cfg = cfg;
	s->ops = ops;
	s->tgt = tgt;
	s->tr = tr;
	s->rx = malloc(RSP_PACKET_SIZE);
	s->reply = malloc(STUB_REPLY_CAP);
	s->frame_cap = 2 * STUB_REPLY_CAP + 8;
	s->frame = malloc(s->frame_cap);
	if (!s->rx || !s->reply || !s->frame) {
		stub_session_free(s);
		return -ENOMEM;
	}
	rsp_parser_init(&s->parser, s->rx, RSP_PACKET_SIZE);
	for (int i = 0; i < STUB_MAX_VFILE; i++) s->vfd[i] = -1;
	s->disable_aslr = cfg->disable_aslr;
	s->debug = cfg->debug;
	s->pid = pid;
	s->state = pid > 0 ? STUB_STOPPED : STUB_NOPROC;
	s->thr_stale = true;
	if (pid > 0) {
		/* Launch stops at exec with SIGTRAP; attach with SIGSTOP, which
		 * gdbserver also reports as SIGTRAP (server.cc attach_inferior). */
		s->have_last = true;
		s->last = (struct tgt_event){ .kind = TGT_EV_STOPPED, .pid = pid, .tid = pid,
					      .sig = SIGTRAP, .reason = TGT_REASON_SIGNAL };
	}
	return 0;
}

void stub_session_free(struct stub_session *s)
{
	stub_wake_free(&s->wake);   /* normally done when stub_session_run returns */
	stub_vfile_close_all(s);
	free(s->rx);
	free(s->reply);
	free(s->frame);
	free(s->swbps);
	free(s->threads);
	free(s->xdoc);
	free(s->cwd);
	stub_nonstop_clear(s);
	stub_trace_free(s);
	free(s->nq);
	free(s->thr);
	s->nq = NULL;
	s->thr = NULL;
	s->rx = NULL;
	s->reply = NULL;
	s->frame = NULL;
	s->swbps = NULL;
	s->threads = NULL;
	s->xdoc = NULL;
	s->cwd = NULL;
}

/* ------------------------------------------------------------ sending */

int stub_send_packet(struct stub_session *s, const void *payload, size_t n)
{
	if (s->debug) log_packet("->", payload, n);
	size_t fl = rsp_frame(s->frame, s->frame_cap, payload, n, false);
	if (fl == 0) {
		/* Cannot happen with STUB_REPLY_CAP-bounded replies; answer an error
		 * rather than a truncated packet. */
		fl = rsp_frame(s->frame, s->frame_cap, (const uint8_t *)"E0c", 3, false);
	}
	s->frame_len = fl;
	int r = s->tr->write(s->tr, s->frame, fl);
	if (r < 0) {
		s->disconnect = true;
		return r;
	}
	return 0;
}

static void send_ack(struct stub_session *s, char c)
{
	if (s->tr->write(s->tr, &c, 1) < 0) s->disconnect = true;
}

/* ------------------------------------------------------------ threads */

pid_t stub_current_thread(struct stub_session *s)
{
	if (s->pid <= 0) return 0;
	if (s->gthread > 0 && s->ops->thread_alive(s->tgt, s->gthread)) return s->gthread;
	if (s->have_last && s->last.kind == TGT_EV_STOPPED && s->last.tid > 0 &&
	    s->ops->thread_alive(s->tgt, s->last.tid))
		return s->last.tid;
	struct tgt_thread_info ti[1];
	if (s->ops->list_threads(s->tgt, ti, 1) >= 1) return ti[0].tid;
	return s->pid;
}

/* Events handled per turn of the loop while threads run (then the client's turn). */
#define EVENT_BATCH 256

/* The client counts as quiet (run() blocks in wait_event) once this many
 * target events came since it last sent something.  A conversation (gdb
 * reading a stopped thread, an all-stop resume that ends in one reported
 * stop) stays on the poll() path: arming the watcher would cost more there
 * than it saves; a stream of events (trace hits, non-stop) goes blocking. */
#ifndef CALM_EVENTS
#define CALM_EVENTS 2   /* -DCALM_EVENTS=0: always block (measurements) */
#endif

/* The one place where backend events enter the session: a tracepoint hit
 * is the collector's (consumed: nothing else happens with it; held: the
 * session is stopping every thread, so a consumed thread stays stopped);
 * thread creation and exit keep the session's thread list.  timeout_ms -1:
 * block in the backend's wait_event with the watcher's gate (only when
 * stub_wake_arm gave one).  Returns as next_event, or -EAGAIN when the
 * batch is used up. */
static int take_event(struct stub_session *s, struct tgt_event *ev, int timeout_ms, bool held,
		      struct tgt_wait_gate *gate)
{
	/* While threads run, a flood of consumed hits must not keep the client
	 * waiting: after a batch, say "later" -- the event fd stays readable,
	 * so the loop comes back here after serving the client.  (Blocking:
	 * the watcher's gate makes wait_event return before its next wait4.) */
	for (int budget = EVENT_BATCH;; budget--) {
		if (!held && budget == 0) return -EAGAIN;
		int r = timeout_ms < 0 ? s->ops->wait_event(s->tgt, ev, gate)
				       : s->ops->next_event(s->tgt, ev, timeout_ms);
		if (r != 1) return r;
		if (!held && s->calm < CALM_EVENTS) s->calm++;
		if (held ? stub_trace_on_held_event(s, ev) : stub_trace_on_event(s, ev)) continue;
		stub_thr_event(s, ev);
		return 1;
	}
}

static void stop_and_report(struct stub_session *s, const struct tgt_event *first)
{
	int r = s->ops->stop_all(s->tgt);
	if (r < 0 && r != -ESRCH)
		fprintf(stderr, "gotap-stub: stopping threads: %s\n", strerror(-r));
	struct tgt_event ev;
	while (take_event(s, &ev, 0, true, NULL) == 1) {
		if (ev.kind == TGT_EV_EXITED || ev.kind == TGT_EV_KILLED) {
			/* The whole process is gone: that is the news. */
			s->npending = 0;
			stub_report(s, &ev);
			return;
		}
		stub_keep_pending(s, &ev);
	}
	if (first) {
		stub_report(s, first);
		return;
	}
	if (stub_take_pending(s, NULL, 0, &ev)) {
		stub_report(s, &ev);
		return;
	}
	ev = (struct tgt_event){ .kind = TGT_EV_STOPPED, .pid = s->pid,
				 .tid = stub_current_thread(s), .sig = SIGINT,
				 .reason = TGT_REASON_INTERRUPT };
	stub_report(s, &ev);
}

/* take_event failed with r (not "nothing now" or "later"): say so, and when
 * the process vanished without an exit event, report it killed. */
static void target_failed(struct stub_session *s, int r)
{
	if (r == -EINTR || r == -EAGAIN) return;
	fprintf(stderr, "gotap-stub: waiting for the target: %s\n", strerror(-r));
	if (r != -ECHILD && r != -ESRCH) return;
	struct tgt_event ev = { .kind = TGT_EV_KILLED, .pid = s->pid, .sig = SIGKILL };
	if (s->nonstop) stub_nonstop_event(s, &ev);
	else stub_report(s, &ev);
}

/* All-stop, threads running: act on one event.  Returns true when the
 * threads still run (keep collecting). */
static bool allstop_event(struct stub_session *s, const struct tgt_event *ev)
{
	switch (ev->kind) {
	case TGT_EV_EXITED:
	case TGT_EV_KILLED:
		s->npending = 0;
		stub_report(s, ev);
		return false;
	case TGT_EV_STOPPED:
		if (ev->reason == TGT_REASON_INTERRUPT && !s->interrupting) return true;
		stop_and_report(s, ev->reason == TGT_REASON_INTERRUPT ? NULL : ev);
		return false;
	case TGT_EV_EXEC:
		/* The old image's breakpoints are gone with it.  A client
		 * that takes exec events reloads the program and inserts
		 * its breakpoints again; for one that does not, the new
		 * image just runs. */
		s->nswbps = 0;
		if (s->c_exec) {
			stop_and_report(s, ev);
			return false;
		}
		if (s->ops->resume(s->tgt, -1, TGT_RESUME_CONT, 0) < 0)
			fprintf(stderr, "gotap-stub: resuming after exec failed\n");
		return true;
	default:
		stub_keep_pending(s, ev);   /* thread bookkeeping */
		return true;
	}
}

/* Collect the backend events that are ready while the target runs (the
 * poll() path). */
static void poll_target(struct stub_session *s)
{
	struct tgt_event ev;
	if (s->nonstop) {
		/* Non-stop: every event is queued as a notification; nothing else stops. */
		for (int n = 0; n < EVENT_BATCH && s->nonstop && s->pid > 0 && !s->disconnect; n++) {
			int r = take_event(s, &ev, 0, false, NULL);
			if (r <= 0) {
				if (r < 0) target_failed(s, r);
				return;
			}
			stub_nonstop_event(s, &ev);
		}
		return;
	}
	while (s->state == STUB_RUNNING) {
		int r = take_event(s, &ev, 0, false, NULL);
		if (r <= 0) {
			if (r < 0) target_failed(s, r);
			return;
		}
		if (!allstop_event(s, &ev)) return;
	}
}

/* The hot path: block in the backend's wait until one event comes (and is
 * acted on), the client has something to say, or the batch is used up.
 * Returns false when the session must wait in poll() instead: no thread
 * runs (nothing can come but client input), the client is readable, or
 * the backend or the watcher cannot do it; *client then says the watcher
 * saw the client readable. */
static bool wait_target(struct stub_session *s, bool *client)
{
	*client = false;
	if (!s->ops->wait_event) return false;
	struct tgt_wait_gate *gate = stub_wake_arm(&s->wake, s->tr->rfd);
	if (!gate) return false;
	if (stub_wake_pending(s->wake)) {
		*client = true;
		return false;
	}
	struct tgt_event ev;
	int r = take_event(s, &ev, -1, false, gate);
	if (r == 0) return false;
	if (r < 0) {
		target_failed(s, r);
		return r == -EINTR || r == -EAGAIN;   /* else poll(): do not spin on an error */
	}
	if (s->nonstop) stub_nonstop_event(s, &ev);
	else allstop_event(s, &ev);
	return true;
}

/* ------------------------------------------------------------ input */

static void on_packet(struct stub_session *s)
{
	const char *pkt = (const char *)s->parser.buf;
	size_t len = s->parser.len;
	if (!s->noack) send_ack(s, '+');
	if (s->debug) log_packet("<-", pkt, len);
	if (s->state == STUB_RUNNING) {
		/* All-stop: only ^C is meaningful while running (E.10 "Remote
		 * Non-Stop" is where other packets are allowed). */
		stub_send_packet(s, "E10", 3);
		return;
	}
	struct stub_out o = { .buf = s->reply, .cap = STUB_REPLY_CAP };
	/* stub_dispatch reuses s->reply: pkt lives in s->rx, so no overlap.
	 * Stop replies queued meanwhile (non-stop) are announced after the reply. */
	s->in_packet = true;
	int r = stub_dispatch(s, pkt, len, &o);
	s->in_packet = false;
	if (r != STUB_NO_REPLY) {
		bool noack_now = len == 15 && memcmp(pkt, "QStartNoAckMode", 15) == 0 &&
				 o.len == 2 && memcmp(o.buf, "OK", 2) == 0;
		stub_send_packet(s, o.buf, o.len);
		if (noack_now) s->noack = true;   /* from the packet after this reply on */
	}
	if (s->nonstop) stub_nonstop_flush(s);
}

static void on_bytes(struct stub_session *s, const uint8_t *in, size_t n)
{
	size_t off = 0;
	while (off < n && !s->disconnect) {
		enum rsp_event ev;
		size_t k = rsp_parser_feed(&s->parser, in + off, n - off, &ev);
		off += k;
		if (ev == RSP_EV_NONE && k == 0) break;
		switch (ev) {
		case RSP_EV_NONE:
		case RSP_EV_ACK:
			break;
		case RSP_EV_NAK:
			if (!s->noack && s->frame_len)
				if (s->tr->write(s->tr, s->frame, s->frame_len) < 0) s->disconnect = true;
			break;
		case RSP_EV_INTERRUPT:
			if (s->debug) fprintf(stderr, "gotap-stub: <- ^C\n");
			if (s->nonstop && s->pid > 0) {
				/* Non-stop clients stop threads with vCont;t; a ^C
				 * stops every running thread the same way. */
				stub_thr_sync(s);
				for (int i = 0; i < s->nthr; i++) stub_nonstop_stop(s, &s->thr[i]);
			} else if (s->state == STUB_RUNNING && !s->interrupting) {
				s->interrupting = true;
				stop_and_report(s, NULL);
			}
			break;
		case RSP_EV_PACKET:
			on_packet(s);
			break;
		case RSP_EV_NOTIFICATION:
			break;   /* clients do not send notifications */
		case RSP_EV_BAD_CHECKSUM:
			if (s->debug) fprintf(stderr, "gotap-stub: <- bad checksum\n");
			if (!s->noack) send_ack(s, '-');
			break;
		case RSP_EV_TOO_LONG:
		case RSP_EV_BAD_FORMAT:
			if (s->debug) fprintf(stderr, "gotap-stub: <- malformed packet\n");
			if (!s->noack) send_ack(s, '+');
			stub_send_packet(s, ev == RSP_EV_TOO_LONG ? "E07" : "E16", 3);   /* E2BIG, EINVAL */
			break;
		}
	}
}

/* Read what the client sent and act on it.  nowait: the watcher said it
 * was readable, but a read since may have taken it (then -EAGAIN).
 * Returns false when the session is over. */
static bool serve_client(struct stub_session *s, bool nowait)
{
	static uint8_t in[65536];
	ssize_t got = nowait ? s->tr->read_nowait(s->tr, in, sizeof in) : s->tr->read(s->tr, in, sizeof in);
	if (got == -EINTR || got == -EAGAIN) {
		stub_wake_done(s->wake);
		return true;
	}
	if (got <= 0) {
		if (got < 0) fprintf(stderr, "gotap-stub: reading from client: %s\n", strerror((int)-got));
		return false;
	}
	s->calm = 0;
	on_bytes(s, in, (size_t)got);
	/* Only now: input that came meanwhile is seen by the watcher again
	 * (level-triggered poll) -- no signal while this one is served. */
	stub_wake_done(s->wake);
	return true;
}

static enum stub_end run(struct stub_session *s, volatile int *stop_flag)
{
	for (;;) {
		if (*stop_flag) return STUB_END_EXIT;
		if (s->disconnect) return s->quit ? STUB_END_EXIT : STUB_END_DISCONNECT;
		bool events = s->state == STUB_RUNNING || (s->nonstop && s->pid > 0);
		bool client = false;
		if (events && s->calm >= CALM_EVENTS) {
			if (wait_target(s, &client)) continue;
			/* a failed wait may have ended the process (reported killed) */
			events = s->state == STUB_RUNNING || (s->nonstop && s->pid > 0);
		} else {
			/* The client talks (or all-stop, stopped: only the client
			 * matters): poll() it ourselves, the watcher parks. */
			stub_wake_disarm(s->wake);
		}
		if (client) {
			if (s->tr->read_nowait) {
				if (!serve_client(s, true)) return s->quit ? STUB_END_EXIT : STUB_END_DISCONNECT;
				continue;
			}
			/* A pipe or tty: poll() tells whether it is still readable;
			 * meanwhile the watcher may look again (it sets the flag
			 * again if so, and has nobody to signal). */
			stub_wake_done(s->wake);
		}
		/* The poll() path: nothing runs (or no wait_event), or the watcher
		 * saw input on a descriptor that cannot be read without blocking. */
		struct pollfd pf[2] = { { .fd = s->tr->rfd, .events = POLLIN } };
		nfds_t n = 1;
		int timeout = -1;
		if (events) {
			int efd = s->ops->event_fd(s->tgt);
			if (efd >= 0) pf[n++] = (struct pollfd){ .fd = efd, .events = POLLIN };
			else timeout = 10;
		}
		int r = poll(pf, n, timeout);
		if (r < 0) {
			if (errno == EINTR) continue;
			perror("gotap-stub: poll");
			return STUB_END_DISCONNECT;
		}
		if (events) poll_target(s);
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (!serve_client(s, false)) return s->quit ? STUB_END_EXIT : STUB_END_DISCONNECT;
		}
	}
}

enum stub_end stub_session_run(struct stub_session *s, volatile int *stop_flag)
{
	enum stub_end end = run(s, stop_flag);
	stub_wake_free(&s->wake);   /* before the caller closes the transport */
	return end;
}

void stub_session_cleanup(struct stub_session *s)
{
	if (s->pid <= 0) return;
	if (s->state == STUB_RUNNING || s->nonstop) {
		int r = s->ops->stop_all(s->tgt);
		if (r < 0) fprintf(stderr, "gotap-stub: stopping threads: %s\n", strerror(-r));
		struct tgt_event ev;
		while (s->ops->next_event(s->tgt, &ev, 0) == 1) {
			if (ev.kind == TGT_EV_EXITED || ev.kind == TGT_EV_KILLED) {
				stub_note_stop(s, &ev);
				return;
			}
		}
	}
	/* Remove what gdb left behind, then let an attached process go and
	 * end a launched one (gdbserver's default). */
	for (size_t i = s->nswbps; i-- > 0;)
		s->ops->remove_bp(s->tgt, TGT_BP_SW, s->swbps[i], 1);
	s->nswbps = 0;
	pid_t pid = s->pid;
	if (s->ops->attached(s->tgt)) {
		stub_say("Detaching from process %d\n", pid);
		stub_hand_back_signals(s);
		int r = s->ops->detach(s->tgt, 0);
		if (r < 0) fprintf(stderr, "gotap-stub: detach: %s\n", strerror(-r));
	} else {
		stub_say("Killing process %d\n", pid);
		int r = s->ops->kill(s->tgt);
		if (r < 0) fprintf(stderr, "gotap-stub: kill: %s\n", strerror(-r));
	}
	stub_session_forget_process(s);
}
