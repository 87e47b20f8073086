/* session_nonstop.c — the session's thread list and non-stop mode.
 *
 * Thread list.  The session keeps the process's tids itself, updated from
 * the backend's THREAD_CREATED/THREAD_EXITED events, so a resume does not
 * read /proc for every thread (the backend's list_threads reads each thread's
 * comm and stat).  Before use it is checked against the backend's thread
 * count (list_threads with no room: no /proc access) and reloaded only when
 * it differs (a thread between its exit event and its reaping, a new process).
 *
 * Non-stop (GDB manual "Remote Non-Stop", "Notification Packets").  Each
 * stop (and the exit) becomes a stop reply, built when the event arrives
 * (the thread is stopped then, so its registers are what gdb will see), and
 * is queued.  When the queue goes from empty to not empty its head is sent
 * as "%Stop:<reply>"; the client answers vStopped, which removes the head
 * and is answered with the next reply, or "OK" once the queue is empty
 * (then the next stop starts a new notification).  '?' abandons the
 * sequence and starts one with every stopped thread's last stop, the first
 * as the reply to '?' itself.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "say.h"
#include "session.h"
#include "trace.h"

/* ------------------------------------------------------------ thread list */

struct stub_thr *stub_thr_find(struct stub_session *s, pid_t tid)
{
	for (int i = 0; i < s->nthr; i++)
		if (s->thr[i].tid == tid) return &s->thr[i];
	return NULL;
}

static struct stub_thr *thr_add(struct stub_session *s, pid_t tid)
{
	struct stub_thr *t = stub_thr_find(s, tid);
	if (t) return t;
	if (s->nthr == s->capthr) {
		int cap = s->capthr ? s->capthr * 2 : 32;
		struct stub_thr *n = realloc(s->thr, (size_t)cap * sizeof *n);
		if (!n) {
			s->thr_stale = true;   /* reload (or fail) on the next sync */
			return NULL;
		}
		s->thr = n;
		s->capthr = cap;
	}
	t = &s->thr[s->nthr++];
	memset(t, 0, sizeof *t);
	t->tid = tid;
	return t;
}

static void thr_del(struct stub_session *s, pid_t tid)
{
	for (int i = 0; i < s->nthr; i++)
		if (s->thr[i].tid == tid) {
			memmove(&s->thr[i], &s->thr[i + 1], (size_t)(s->nthr - i - 1) * sizeof s->thr[0]);
			s->nthr--;
			return;
		}
}

void stub_thr_reset(struct stub_session *s)
{
	s->nthr = 0;
	s->thr_stale = true;
}

static int thr_reload(struct stub_session *s)
{
	/* One full listing (names and cores are read too, but only now). */
	int n = stub_load_threads(s);
	if (n < 0) return n;
	struct stub_thr *old = NULL;
	int nold = s->nthr;
	if (nold > 0) {
		old = malloc((size_t)nold * sizeof *old);
		if (!old) return -ENOMEM;
		memcpy(old, s->thr, (size_t)nold * sizeof *old);
	}
	s->nthr = 0;
	int r = n;
	for (int i = 0; i < s->nthreads; i++) {
		struct stub_thr *t = thr_add(s, s->threads[i].tid);
		if (!t) { r = -ENOMEM; break; }
		t->stopped = s->threads[i].stopped;
		for (int k = 0; k < nold; k++)
			if (old[k].tid == t->tid) {
				t->stopped = old[k].stopped;
				t->stopping = old[k].stopping;
				t->last = old[k].last;
			}
	}
	free(old);
	s->thr_stale = r < 0;
	return r < 0 ? r : s->nthr;
}

int stub_thr_sync(struct stub_session *s)
{
	if (s->pid <= 0) {
		s->nthr = 0;
		return 0;
	}
	if (!s->thr_stale) {
		struct tgt_thread_info none[1];
		int n = s->ops->list_threads(s->tgt, none, 0);   /* count only: no /proc reads */
		if (n < 0) return n;
		if (n == s->nthr) return n;
	}
	return thr_reload(s);
}

void stub_thr_event(struct stub_session *s, const struct tgt_event *ev)
{
	switch (ev->kind) {
	case TGT_EV_THREAD_CREATED:
		if (!s->thr_stale) thr_add(s, ev->tid);   /* running: its parent was */
		break;
	case TGT_EV_THREAD_EXITED:
		thr_del(s, ev->tid);
		break;
	case TGT_EV_EXEC:
		/* Every other thread is gone; their exit events came first. */
		s->nthr = 0;
		if (!thr_add(s, ev->tid)) break;
		break;
	case TGT_EV_EXITED:
	case TGT_EV_KILLED:
		stub_thr_reset(s);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------ queue */

/* A stop reply: registers, thread, reason, and for exec the hex path. */
#define STOP_TEXT_CAP (1024 + 2 * 4096)

static void notif_drop(struct stub_session *s, int i)
{
	free(s->nq[i].text);
	memmove(&s->nq[i], &s->nq[i + 1], (size_t)(s->nqn - i - 1) * sizeof s->nq[0]);
	s->nqn--;
}

void stub_nonstop_clear(struct stub_session *s)
{
	while (s->nqn > 0) notif_drop(s, s->nqn - 1);
	s->nq_sent = false;
}

bool stub_nonstop_queued(const struct stub_session *s, pid_t tid)
{
	for (int i = 0; i < s->nqn; i++)
		if (s->nq[i].tid == tid) return true;
	return false;
}

static void send_notification(struct stub_session *s)
{
	const struct stub_notif *n = &s->nq[0];
	char payload[16 + STOP_TEXT_CAP];
	uint8_t frame[2 * sizeof payload + 8];
	if (n->len + 5 > sizeof payload) return;
	memcpy(payload, "Stop:", 5);
	memcpy(payload + 5, n->text, n->len);
	if (s->debug) fprintf(stderr, "gotap-stub: -> %%%.*s\n", (int)(n->len + 5), payload);
	size_t fl = rsp_frame(frame, sizeof frame, (const uint8_t *)payload, n->len + 5, true);
	if (fl == 0) return;
	if (s->tr->write(s->tr, frame, fl) < 0) s->disconnect = true;
	s->nq_sent = true;
}

static void push_text(struct stub_session *s, pid_t tid, const struct tgt_event *ev,
		      const char *txt, size_t len, bool announce)
{
	if (len == 0) return;
	if (s->nqn == s->nqcap) {
		int cap = s->nqcap ? s->nqcap * 2 : 16;
		struct stub_notif *n = realloc(s->nq, (size_t)cap * sizeof *n);
		if (!n) {
			fprintf(stderr, "gotap-stub: out of memory; a stop of thread %d is lost\n", tid);
			return;
		}
		s->nq = n;
		s->nqcap = cap;
	}
	char *copy = malloc(len);
	if (!copy) {
		fprintf(stderr, "gotap-stub: out of memory; a stop of thread %d is lost\n", tid);
		return;
	}
	memcpy(copy, txt, len);
	s->nq[s->nqn++] = (struct stub_notif){ tid, *ev, len, copy };
	if (announce && !s->nq_sent && !s->in_packet) send_notification(s);
}

void stub_nonstop_flush(struct stub_session *s)
{
	if (s->nqn > 0 && !s->nq_sent && !s->disconnect) send_notification(s);
}

static struct tgt_event as_reported(const struct tgt_event *ev)
{
	struct tgt_event e = *ev;
	/* vCont;t stops are "signal 0" (GDB manual, vCont 't'). */
	if (e.kind == TGT_EV_STOPPED && e.reason == TGT_REASON_INTERRUPT) e.sig = 0;
	return e;
}

void stub_nonstop_queue(struct stub_session *s, const struct tgt_event *ev)
{
	struct tgt_event e = as_reported(ev);
	char buf[STOP_TEXT_CAP];
	size_t n = stub_stop_reply(s, &e, buf, sizeof buf);
	struct stub_thr *t = stub_thr_find(s, e.tid);
	if (t) {
		t->stopped = true;
		t->stopping = false;
		t->last = e;
	}
	/* s->last stays all-stop's "the stop": in non-stop each thread has its
	 * own (t->last), and the current thread is whatever Hg says. */
	push_text(s, e.tid, &e, buf, n, true);
}

void stub_nonstop_event(struct stub_session *s, const struct tgt_event *ev)
{
	switch (ev->kind) {
	case TGT_EV_EXITED:
	case TGT_EV_KILLED: {
		/* Stops of its threads not sent yet are moot now; one already
		 * sent stays until its vStopped, then the exit follows. */
		for (int i = s->nqn - 1; i >= (s->nq_sent ? 1 : 0); i--)
			if (s->nq[i].tid != 0) notif_drop(s, i);
		char txt[64];
		size_t n = stub_stop_reply(s, ev, txt, sizeof txt);
		stub_note_stop(s, ev);          /* message, process forgotten */
		push_text(s, 0, ev, txt, n, true);
		return;
	}
	case TGT_EV_STOPPED:
		stub_nonstop_queue(s, ev);
		return;
	case TGT_EV_EXEC:
		s->nswbps = 0;
		if (s->c_exec) {
			stub_nonstop_queue(s, ev);
			return;
		}
		if (s->ops->resume(s->tgt, ev->tid, TGT_RESUME_CONT, 0) < 0)
			fprintf(stderr, "gotap-stub: resuming after exec failed\n");
		return;
	default:
		return;   /* thread bookkeeping: done by the caller */
	}
}

int stub_nonstop_stop(struct stub_session *s, struct stub_thr *t)
{
	if (t->stopped || t->stopping) return 0;
	if (stub_trace_hand_over(s, t->tid)) {
		/* held stopped by the tracepoint collector: the backend has no
		 * stop to report, so this is it */
		struct tgt_event ev = { .kind = TGT_EV_STOPPED, .pid = s->pid, .tid = t->tid,
					.reason = TGT_REASON_INTERRUPT };
		stub_nonstop_queue(s, &ev);
		return 0;
	}
	int e = s->ops->stop(s->tgt, t->tid);
	if (e == 0) t->stopping = true;
	return e;
}

size_t stub_nonstop_status(struct stub_session *s, char *dst, size_t cap)
{
	stub_nonstop_clear(s);
	if (s->pid > 0 && stub_thr_sync(s) >= 0) {
		for (int i = 0; i < s->nthr; i++) {
			struct stub_thr *t = &s->thr[i];
			if (!t->stopped) continue;
			struct tgt_event e = t->last;
			if (e.kind == TGT_EV_NONE && s->have_last && s->last.tid == t->tid)
				e = s->last;   /* the stop of the launch/attach, or all-stop's */
			if (e.kind != TGT_EV_STOPPED && e.kind != TGT_EV_EXEC)
				e = (struct tgt_event){ .kind = TGT_EV_STOPPED, .pid = s->pid, .tid = t->tid,
							.reason = TGT_REASON_INTERRUPT };
			char buf[STOP_TEXT_CAP];
			size_t n = stub_stop_reply(s, &e, buf, sizeof buf);
			push_text(s, t->tid, &e, buf, n, false);
		}
	}
	if (s->nqn == 0) {
		if (cap < 2) return 0;
		memcpy(dst, "OK", 2);
		return 2;
	}
	s->nq_sent = true;
	if (s->nq[0].len > cap) return 0;
	memcpy(dst, s->nq[0].text, s->nq[0].len);
	return s->nq[0].len;
}

size_t stub_nonstop_vstopped(struct stub_session *s, char *dst, size_t cap)
{
	if (s->nq_sent && s->nqn > 0) notif_drop(s, 0);
	if (s->nqn == 0) {
		s->nq_sent = false;
		if (cap < 2) return 0;
		memcpy(dst, "OK", 2);
		return 2;
	}
	s->nq_sent = true;
	if (s->nq[0].len > cap) return 0;
	memcpy(dst, s->nq[0].text, s->nq[0].len);
	return s->nq[0].len;
}

int stub_nonstop_leave(struct stub_session *s)
{
	s->nonstop = false;
	if (s->pid <= 0) {
		stub_nonstop_clear(s);
		return 0;
	}
	/* All-stop: every thread stopped.  Stops not yet acknowledged become
	 * pending stops again (reported on the next resume), as do the ones
	 * that happen while stopping. */
	bool running = false;
	for (int i = 0; i < s->nthr; i++) running |= !s->thr[i].stopped;
	for (int i = s->nq_sent ? 1 : 0; i < s->nqn; i++)
		if (s->nq[i].tid != 0) stub_keep_pending(s, &s->nq[i].ev);
	stub_nonstop_clear(s);
	if (running) {
		int r = s->ops->stop_all(s->tgt);
		if (r < 0 && r != -ESRCH) return r;
	}
	for (int i = 0; i < s->nthr; i++) s->thr[i].stopped = true, s->thr[i].stopping = false;
	s->state = STUB_STOPPED;
	return 0;
}
