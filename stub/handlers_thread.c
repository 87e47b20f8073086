/* handlers_thread.c — thread packets: H, T, qC, qfThreadInfo/qsThreadInfo,
 * qXfer:threads:read (with thread names), qAttached.
 *
 * Thread ids are kernel tids as the target sees them (stub_ns_out/in: a
 * target in another PID namespace gets its own ids); with multiprocess they
 * are written "p<pid>.<tid>" (GDB manual E.1 "thread-id syntax").
 */
#include <errno.h>
#include <string.h>

#include "handlers.h"

enum { XDOC_THREADS = 1 };

static bool pid_ok(const struct stub_session *s, const struct rsp_ptid *id)
{
	return !id->has_pid || id->pid == -1 || id->pid == 0 || id->pid == s->pid;
}

static void out_ptid(struct stub_session *s, struct stub_out *o, pid_t tid)
{
	char buf[64];
	struct rsp_ptid id = { .pid = stub_ns_out(s, s->pid), .tid = stub_ns_out(s, tid), .has_pid = s->mp };
	size_t n = rsp_fmt_ptid(buf, sizeof buf, &id, s->mp);
	if (n == 0) {
		o->overflow = true;
		return;
	}
	stub_out_mem(o, buf, n);
}

int stub_h_H(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct rsp_ptid id;
	if (a.n == 0) return -EINVAL;
	char op = a.p[0];
	a.p++; a.n--;
	if ((op != 'g' && op != 'c') || !stub_cur_ptid(&a, &id) || !stub_cur_end(&a)) return -EINVAL;
	if (!stub_ptid_in(s, &id)) return -ESRCH;
	pid_t tid = (pid_t)id.tid;
	if (id.tid > 0) {
		if (s->pid <= 0 || !pid_ok(s, &id) || !s->ops->thread_alive(s->tgt, tid)) return -ESRCH;
	} else if (id.tid < -1) {
		return -EINVAL;
	}
	if (op == 'g') s->gthread = tid;
	else s->cthread = tid;
	stub_out_str(o, "OK");
	return STUB_OK;
}

int stub_h_T(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct rsp_ptid id;
	if (!stub_cur_ptid(&a, &id) || !stub_cur_end(&a)) return -EINVAL;
	if (!stub_ptid_in(s, &id)) return -ESRCH;
	if (id.tid <= 0 || !pid_ok(s, &id) || !s->ops->thread_alive(s->tgt, (pid_t)id.tid))
		return -ESRCH;
	stub_out_str(o, "OK");
	return STUB_OK;
}

int stub_h_qC(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)a;
	if (s->pid <= 0) return STUB_OK;   /* no process: no current thread */
	stub_out_str(o, "QC");
	out_ptid(s, o, stub_current_thread(s));
	return STUB_OK;
}

/* Emit as many of the loaded threads as fit, from thread_next on. */
static int thread_batch(struct stub_session *s, struct stub_out *o)
{
	if (s->thread_next >= s->nthreads) {
		stub_out_str(o, "l");
		return STUB_OK;
	}
	stub_out_str(o, "m");
	size_t limit = o->cap > 4096 ? o->cap - 4096 : o->cap / 2;
	for (bool first = true; s->thread_next < s->nthreads && o->len < limit; first = false) {
		if (!first) stub_out_str(o, ",");
		out_ptid(s, o, s->threads[s->thread_next++].tid);
	}
	return STUB_OK;
}

int stub_h_qfthreadinfo(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)a;
	s->nthreads = s->thread_next = 0;
	if (s->pid > 0) {
		int n = stub_load_threads(s);
		if (n < 0) return n;
	}
	return thread_batch(s, o);
}

int stub_h_qsthreadinfo(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)a;
	return thread_batch(s, o);
}

int stub_h_xfer_threads(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	const char *annex;
	size_t alen;
	uint64_t off, len;
	if (rsp_parse_xfer_read(a.p, a.n, &annex, &alen, &off, &len) < 0) return -EINVAL;
	if (alen != 0) return -EINVAL;
	if (off == 0 || s->xdoc_tag != XDOC_THREADS) {
		s->xdoc_len = 0;
		s->xdoc_tag = XDOC_THREADS;
		int n = 0;
		if (s->pid > 0 && (n = stub_load_threads(s)) < 0) return n;
		bool ok = stub_xdoc_add(s, "<threads>\n");
		for (int i = 0; i < n && ok; i++) {
			char id[64];
			struct rsp_ptid p = { .pid = stub_ns_out(s, s->pid),
					      .tid = stub_ns_out(s, s->threads[i].tid), .has_pid = s->mp };
			size_t idl = rsp_fmt_ptid(id, sizeof id - 1, &p, s->mp);
			if (idl == 0) return -EOVERFLOW;
			id[idl] = 0;
			ok = stub_xdoc_add(s, "<thread id=\"%s\"", id);
			if (ok && s->threads[i].core >= 0)
				ok = stub_xdoc_add(s, " core=\"%x\"", (unsigned)s->threads[i].core);
			if (ok && s->threads[i].name[0]) {
				char name[sizeof s->threads[i].name + 1];
				memcpy(name, s->threads[i].name, sizeof s->threads[i].name);
				name[sizeof s->threads[i].name] = 0;
				ok = stub_xdoc_add(s, " name=\"") && stub_xdoc_add_escaped(s, name) &&
				     stub_xdoc_add(s, "\"");
			}
			if (ok) ok = stub_xdoc_add(s, "/>\n");
		}
		if (ok) ok = stub_xdoc_add(s, "</threads>\n");
		if (!ok) {
			s->xdoc_tag = 0;
			return -ENOMEM;
		}
	}
	stub_xfer_chunk(o, s->xdoc, s->xdoc_len, off, len);
	return STUB_OK;
}

int stub_h_qattached(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	uint64_t pid = 0;
	if (stub_cur_char(&a, ':') && !stub_cur_hex(&a, &pid)) return -EINVAL;
	if (!stub_cur_end(&a)) return -EINVAL;
	if (s->pid <= 0 || pid > 0x7fffffff || (pid && stub_ns_in(s, (pid_t)pid) != s->pid)) return -ESRCH;
	stub_out_str(o, s->ops->attached(s->tgt) ? "1" : "0");
	return STUB_OK;
}
