/* handlers_trace.c — tracepoint packets (GDB manual E.7 "Tracepoint
 * Packets"): QTinit, QTDP, QTDPsrc, QTDV, QTro, QTNotes, QTDisconnected,
 * QTStart, QTStop, qTStatus, qTP, qTV, qTfP/qTsP, qTfV/qTsV, QTEnable,
 * QTDisable, QTBuffer:circular:/size:/stream:, qTBuffer, QTFrame,
 * qXfer:traceframe-info:read, and g/p/m answered from the selected frame.
 *
 * The state and the hit path live in trace.c (see trace.h).  Replies follow
 * gdbserver 13 where gdb shows them (qTStatus fields, "F<n>T<tp>" /
 * "F-1" for QTFrame, "V<hits>:<usage>" for qTP, E01 for memory a frame did
 * not collect).  Fast and static tracepoints are refused with an "E."
 * message; while-stepping is done in trace.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "rsp_ax.h"
#include "trace.h"

#define DEFAULT_BUFFER (5u << 20)     /* gdbserver's default: 5 MiB */
#define MAX_SCRATCH (1u << 20)        /* largest single frame */
#define MAX_ACTS 256

enum { XDOC_TFINFO = 3 };

static struct stub_trace *trace(struct stub_session *s)
{
	return stub_trace_get(s, true);
}

/* "E.text": gdb shows the text for errors of the tracepoint packets. */
static int refuse(struct stub_out *o, const char *why)
{
	stub_out_fmt(o, "E.%s", why);
	return STUB_OK;
}

static struct stub_tp *find_tp(struct stub_trace *t, uint64_t num, uint64_t addr, bool check_addr)
{
	for (unsigned i = 0; i < t->ntps; i++)
		if (t->tps[i].num == num && (!check_addr || t->tps[i].addr == addr)) return &t->tps[i];
	return NULL;
}

static char *dup_text(const char *p, size_t n, char prefix)
{
	char *d = malloc(n + 2);
	if (!d) return NULL;
	d[0] = prefix;
	memcpy(d + 1, p, n);
	d[n + 1] = 0;
	return d;
}

static int add_src(struct stub_tp *tp, const char *p, size_t n, char prefix)
{
	char **v = realloc(tp->src, (tp->nsrc + 1) * sizeof *v);
	if (!v) return -ENOMEM;
	tp->src = v;
	if (!(v[tp->nsrc] = dup_text(p, n, prefix))) return -ENOMEM;
	tp->nsrc++;
	return 0;
}

/* ------------------------------------------------------------ definitions */

int stub_h_qtinit(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)a;
	struct stub_trace *t = trace(s);
	if (!t) return -ENOMEM;
	stub_trace_disarm(s);
	for (unsigned i = 0; i < t->nparked; i++) free(t->parked[i].frame);
	t->nparked = t->nparked_hold = 0;
	t->parked_bytes = 0;
	stub_trace_clear_defs(t);
	if (t->buf.mem) stub_tbuf_reset(&t->buf);
	t->sel = -1;
	t->ran = false;
	t->reason = RSP_TSTOP_NOT_RUN;
	t->created = 0;
	stub_out_str(o, "OK");
	return STUB_OK;
}

static int check_acts(const struct rsp_tp_action *acts, unsigned n, const uint8_t *bytes)
{
	for (unsigned i = 0; i < n; i++) {
		if (acts[i].kind == RSP_TP_ACT_EXPR &&
		    rsp_ax_check(bytes + acts[i].data_off, acts[i].data_len) < 0)
			return -EINVAL;
		if (acts[i].kind == RSP_TP_ACT_MEM && acts[i].basereg >= RSP_AMD64_NREGS)
			return -EINVAL;
	}
	return 0;
}

int stub_h_qtdp(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	static struct rsp_tp_action acts[MAX_ACTS];
	static uint8_t bytes[RSP_PACKET_SIZE / 2 + 64];
	struct stub_trace *t = trace(s);
	if (!t) return -ENOMEM;
	struct rsp_qtdp q;
	int r = rsp_qtdp_parse(a.p, a.n, &q, acts, MAX_ACTS, bytes, sizeof bytes);
	if (r < 0) return r == RSP_TRACE_E_SPACE ? -E2BIG : -EINVAL;
	if (q.fast || q.is_static) return refuse(o, "fast and static tracepoints are not supported");
	r = check_acts(acts, q.nacts, bytes);
	if (r < 0) return refuse(o, "bad agent expression in a tracepoint action");
	if (q.has_cond && rsp_ax_check(bytes + q.cond_off, q.cond_len) < 0)
		return refuse(o, "bad agent expression in a tracepoint condition");

	struct stub_tp *tp;
	if (!q.continuation) {
		tp = find_tp(t, q.num, 0, false);
		if (tp) {
			/* redefined: replace */
			stub_trace_remove(s, tp);
			free(tp->acts);
			free(tp->bytes);
			for (unsigned k = 0; k < tp->nsrc; k++) free(tp->src[k]);
			free(tp->src);
		} else {
			if (t->ntps == t->captps) {
				unsigned nc = t->captps ? 2 * t->captps : 8;
				struct stub_tp *n = realloc(t->tps, nc * sizeof *n);
				if (!n) return -ENOMEM;
				t->tps = n;
				t->captps = nc;
			}
			tp = &t->tps[t->ntps++];
		}
		memset(tp, 0, sizeof *tp);
		tp->num = q.num;
		tp->addr = q.addr;
		tp->enabled = q.enabled;
		tp->step = q.step;
		tp->pass = q.pass;
		tp->has_cond = q.has_cond;
		tp->cond_off = q.cond_off;
		tp->cond_len = q.cond_len;
		t->defining = -1;
	} else {
		if (t->defining < 0 || (unsigned)t->defining >= t->ntps) return -EINVAL;
		tp = &t->tps[t->defining];
		if (tp->num != q.num || tp->addr != q.addr) return -EINVAL;
		for (unsigned i = 0; i < q.nacts; i++) acts[i].data_off += tp->nbytes;
		/* for qTsP: the actions as sent (without "-n:addr:" and a final '-') */
		const char *p = a.p + 1;
		size_t n = a.n - 1;
		for (int colons = 0; n > 0 && colons < 2; p++, n--) colons += *p == ':';
		if (n > 0 && p[n - 1] == '-') n--;
		if (add_src(tp, p, n, 'A') < 0) return -ENOMEM;
	}
	if (q.bytes_used) {
		size_t base = q.continuation ? tp->nbytes : 0;
		uint8_t *nb = realloc(tp->bytes, base + q.bytes_used);
		if (!nb) return -ENOMEM;
		memcpy(nb + base, bytes, q.bytes_used);
		tp->bytes = nb;
		tp->nbytes = base + q.bytes_used;
	}
	if (q.nacts) {
		struct rsp_tp_action *na = realloc(tp->acts, (tp->nacts + q.nacts) * sizeof *na);
		if (!na) return -ENOMEM;
		memcpy(na + tp->nacts, acts, q.nacts * sizeof *na);
		tp->acts = na;
		tp->nacts += q.nacts;
	}
	if (q.more) t->defining = (int)(tp - t->tps);
	/* Defined during a run (gdb re-sends after loading a library): it
	 * takes part at once. */
	if (t->running && tp->enabled && !q.continuation) {
		int e = stub_trace_insert(s, tp);
		if (e < 0) return e;
	}
	stub_out_str(o, "OK");
	return STUB_OK;
}

/* QTDPsrc:n:addr:type:start:slen:bytes — kept for qTsP ("Z" + the same). */
int stub_h_qtdpsrc(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct stub_trace *t = trace(s);
	if (!t) return -ENOMEM;
	uint64_t num, addr;
	struct stub_cur c = a;
	if (!stub_cur_hex(&c, &num) || !stub_cur_char(&c, ':') || !stub_cur_hex(&c, &addr))
		return -EINVAL;
	struct stub_tp *tp = find_tp(t, num, addr, true);
	if (!tp) return -ENOENT;
	if (add_src(tp, a.p, a.n, 'Z') < 0) return -ENOMEM;
	stub_out_str(o, "OK");
	return STUB_OK;
}

int stub_h_qtdv(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct stub_trace *t = trace(s);
	if (!t) return -ENOMEM;
	struct rsp_qtdv d;
	if (rsp_qtdv_parse(a.p, a.n, &d) < 0) return -EINVAL;
	struct stub_tsv *v = stub_trace_tsv(t, d.num);
	if (!v) {
		if (t->ntsvs == t->captsvs) {
			unsigned nc = t->captsvs ? 2 * t->captsvs : 8;
			struct stub_tsv *n = realloc(t->tsvs, nc * sizeof *n);
			if (!n) return -ENOMEM;
			t->tsvs = n;
			t->captsvs = nc;
		}
		v = &t->tsvs[t->ntsvs++];
		memset(v, 0, sizeof *v);
	}
	char *name = malloc(d.name_hex_len + 1);
	if (!name) return -ENOMEM;
	memcpy(name, d.name_hex, d.name_hex_len);
	name[d.name_hex_len] = 0;
	free(v->name_hex);
	v->num = d.num;
	v->initial = v->value = d.value;
	v->builtin = d.builtin;
	v->timestamp = d.builtin && strcmp(name, STUB_TSV_TIMESTAMP_HEX) == 0;
	v->name_hex = name;
	stub_out_str(o, "OK");
	return STUB_OK;
}

/* QTro:start,end[:start,end]... — memory a frame may show from the live
 * process (read-only sections). */
int stub_h_qtro(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct stub_trace *t = trace(s);
	if (!t) return -ENOMEM;
	t->nro = 0;
	while (!stub_cur_end(&a)) {
		uint64_t lo, hi;
		if (!stub_cur_char(&a, ':') || !stub_cur_hex(&a, &lo) || !stub_cur_char(&a, ',') ||
		    !stub_cur_hex(&a, &hi))
			return -EINVAL;
		if (t->nro == t->capro) {
			unsigned nc = t->capro ? 2 * t->capro : 16;
			void *n = realloc(t->ro, nc * sizeof *t->ro);
			if (!n) return -ENOMEM;
			t->ro = n;
			t->capro = nc;
		}
		t->ro[t->nro].lo = lo;
		t->ro[t->nro].hi = hi;
		t->nro++;
	}
	stub_out_str(o, "OK");
	return STUB_OK;
}

/* QTDisconnected:0 — the run ends with the session (what we do); :1 is
 * disconnected tracing, not offered. */
int stub_h_qtdisconnected(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)s;
	uint64_t v;
	if (!stub_cur_char(&a, ':') || !stub_cur_hex(&a, &v) || !stub_cur_end(&a)) return -EINVAL;
	if (v) return refuse(o, "disconnected tracing is not supported");
	stub_out_str(o, "OK");
	return STUB_OK;
}

static int enable(struct stub_session *s, struct stub_cur a, struct stub_out *o, bool on)
{
	struct stub_trace *t = trace(s);
	if (!t) return -ENOMEM;
	uint64_t num, addr;
	if (!stub_cur_hex(&a, &num) || !stub_cur_char(&a, ':') || !stub_cur_hex(&a, &addr) ||
	    !stub_cur_end(&a))
		return -EINVAL;
	struct stub_tp *tp = find_tp(t, num, addr, true);
	if (!tp) return -ENOENT;
	tp->enabled = on;
	if (t->running) {
		if (on) {
			int r = stub_trace_insert(s, tp);
			if (r < 0) return r;
		} else {
			stub_trace_remove(s, tp);
		}
	}
	stub_out_str(o, "OK");
	return STUB_OK;
}

int stub_h_qtenable(struct stub_session *s, struct stub_cur a, struct stub_out *o) { return enable(s, a, o, true); }
int stub_h_qtdisable(struct stub_session *s, struct stub_cur a, struct stub_out *o) { return enable(s, a, o, false); }

/* ------------------------------------------------------------ buffer options */

static int bool_arg(struct stub_cur a, bool *v)
{
	uint64_t x;
	if (!stub_cur_hex(&a, &x) || !stub_cur_end(&a) || x > 1) return -EINVAL;
	*v = x != 0;
	return 0;
}

int stub_h_qtbuffer_circular(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct stub_trace *t = trace(s);
	bool on;
	if (!t) return -ENOMEM;
	if (bool_arg(a, &on) < 0) return -EINVAL;
	if (on) t->want_mode = STUB_TBUF_CIRCULAR;
	else if (t->want_mode == STUB_TBUF_CIRCULAR) t->want_mode = STUB_TBUF_LINEAR;
	/* gdb may change it during a run: takes effect at once */
	if (t->running && t->buf.mode != STUB_TBUF_STREAM) t->buf.mode = t->want_mode;
	stub_out_str(o, "OK");
	return STUB_OK;
}

/* QTBuffer:stream:1 — this project's streaming extension (see trace.h). */
int stub_h_qtbuffer_stream(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct stub_trace *t = trace(s);
	bool on;
	if (!t) return -ENOMEM;
	if (bool_arg(a, &on) < 0) return -EINVAL;
	if (t->running) return -EPERM;   /* E01, as gdbserver */
	t->want_mode = on ? STUB_TBUF_STREAM : STUB_TBUF_LINEAR;
	stub_out_str(o, "OK");
	return STUB_OK;
}

int stub_h_qtbuffer_size(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct stub_trace *t = trace(s);
	if (!t) return -ENOMEM;
	uint64_t v;
	if (a.n == 2 && memcmp(a.p, "-1", 2) == 0) {
		v = 0;   /* the target's default */
	} else if (!stub_cur_hex(&a, &v) || !stub_cur_end(&a)) {
		return -EINVAL;
	} else if (v < 64 || v > (1u << 30)) {
		return -EINVAL;
	}
	if (t->running) return -EPERM;   /* E01, as gdbserver */
	t->want_size = (size_t)v;
	stub_out_str(o, "OK");
	return STUB_OK;
}

/* ------------------------------------------------------------ start / stop */

int stub_h_qtstart(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)a;
	struct stub_trace *t = trace(s);
	if (!t) return -ENOMEM;
	if (s->pid <= 0) return -ESRCH;
	stub_trace_disarm(s);
	for (unsigned i = 0; i < t->nparked; i++) free(t->parked[i].frame);
	t->nparked = t->nparked_hold = 0;
	t->parked_bytes = 0;
	size_t size = t->want_size ? t->want_size : DEFAULT_BUFFER;
	if (!t->buf.mem || t->buf.cap != size) {
		stub_tbuf_free(&t->buf);
		if (stub_tbuf_init(&t->buf, size, t->want_mode) < 0) return -ENOMEM;
	} else {
		stub_tbuf_reset(&t->buf);
		t->buf.mode = t->want_mode;
	}
	size_t sc = size < MAX_SCRATCH ? size : MAX_SCRATCH;
	if (t->scratch_cap != sc) {
		free(t->scratch);
		t->scratch = malloc(sc);
		t->scratch_cap = t->scratch ? sc : 0;
		if (!t->scratch) return -ENOMEM;
	}
	t->sel = -1;
	t->created = 0;
	t->nremoved = 0;
	t->stat_hits = t->stat_resumes = 0;
	t->waits = 0;
	t->nsteps = 0;
	for (unsigned i = 0; i < t->ntsvs; i++) t->tsvs[i].value = t->tsvs[i].initial;
	t->pid = s->pid;
	for (unsigned i = 0; i < t->ntps; i++) {
		struct stub_tp *tp = &t->tps[i];
		tp->hits = tp->usage = 0;
		if (!tp->enabled) continue;
		int r = stub_trace_insert(s, tp);
		if (r < 0) {
			for (unsigned k = 0; k < i; k++) stub_trace_remove(s, &t->tps[k]);
			return r;
		}
	}
	t->running = true;
	t->ran = true;
	t->reason = RSP_TSTOP_RUNNING;
	t->start_us = stub_trace_now_us();
	t->stop_us = 0;
	stub_out_str(o, "OK");
	return STUB_OK;
}

int stub_h_qtstop(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)a;
	struct stub_trace *t = trace(s);
	if (!t) return -ENOMEM;
	stub_trace_disarm(s);
	if (t->ran) t->reason = RSP_TSTOP_USER;
	if (s->debug)
		fprintf(stderr, "gotap-stub: trace stopped: %" PRIu64 " hits, %" PRIu64 " frames, %" PRIu64 " resumes\n",
			t->stat_hits, t->created, t->stat_resumes);
	stub_out_str(o, "OK");
	return STUB_OK;
}

/* Notes (user, notes, tstop) are accepted and not kept. */
int stub_h_qtnotes(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	return stub_h_ok(s, a, o);
}

/* ------------------------------------------------------------ status */

int stub_h_qtstatus_trace(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)a;
	struct stub_trace *t = stub_trace_get(s, false);
	if (!t) {
		stub_out_fmt(o, "T0;tnotrun:0;tframes:0;tcreated:0;tfree:%x;tsize:%x;circular:0;disconn:0;"
			     "starttime:0;stoptime:0;username:;notes::", DEFAULT_BUFFER, DEFAULT_BUFFER);
		return STUB_OK;
	}
	stub_trace_sync(s);
	stub_out_fmt(o, "T%d;", t->running ? 1 : 0);
	switch (t->running || !t->ran ? RSP_TSTOP_NOT_RUN : t->reason) {
	case RSP_TSTOP_USER: stub_out_str(o, "tstop::0"); break;
	case RSP_TSTOP_FULL: stub_out_str(o, "tfull:0"); break;
	case RSP_TSTOP_PASSCOUNT: stub_out_fmt(o, "tpasscount:%x", t->stop_tp); break;
	case RSP_TSTOP_ERROR:
		stub_out_str(o, "terror:");
		stub_out_hex(o, t->stop_error, strlen(t->stop_error));
		stub_out_fmt(o, ":%x", t->stop_tp);
		break;
	case RSP_TSTOP_UNKNOWN: stub_out_str(o, "tunknown:0"); break;
	default: stub_out_str(o, "tnotrun:0"); break;
	}
	size_t cap = t->buf.mem ? t->buf.cap : (t->want_size ? t->want_size : DEFAULT_BUFFER);
	size_t used = t->buf.mem ? stub_tbuf_used(&t->buf) : 0;
	stub_out_fmt(o, ";tframes:%zx;tcreated:%" PRIx64 ";tfree:%zx;tsize:%zx;circular:%d;disconn:0;"
		     "starttime:%" PRIx64 ";stoptime:%" PRIx64 ";username:;notes::",
		     t->buf.mem ? stub_tbuf_frames(&t->buf) : 0, t->created, cap - used, cap,
		     t->buf.mem && t->buf.mode == STUB_TBUF_CIRCULAR, t->ran ? t->start_us : 0,
		     t->ran && !t->running ? t->stop_us : 0);
	if (t->buf.mode == STUB_TBUF_STREAM && t->buf.mem)
		/* extension fields (gdb skips unknown ones): the stream's window
		 * and the frames waiting for room */
		stub_out_fmt(o, ";stream:1;thead:%" PRIx64 ";ttail:%" PRIx64 ";twaiting:%x;twaits:%" PRIx64,
			     t->buf.head, t->buf.tail, t->nparked, t->waits);
	return STUB_OK;
}

int stub_h_qtp(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct stub_trace *t = trace(s);
	uint64_t num, addr;
	if (!t) return -ENOMEM;
	if (!stub_cur_hex(&a, &num) || !stub_cur_char(&a, ':') || !stub_cur_hex(&a, &addr) ||
	    !stub_cur_end(&a))
		return -EINVAL;
	struct stub_tp *tp = find_tp(t, num, addr, true);
	if (!tp) return -ENOENT;
	stub_out_fmt(o, "V%" PRIx64 ":%" PRIx64, tp->hits, tp->usage);
	return STUB_OK;
}

int stub_h_qtv(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct stub_trace *t = trace(s);
	uint64_t num;
	if (!t) return -ENOMEM;
	if (!stub_cur_hex(&a, &num) || !stub_cur_end(&a)) return -EINVAL;
	if (t->sel >= 0) {
		/* in a frame: only what the frame recorded */
		struct rsp_tframe f;
		size_t off = 0, boff = 0;
		struct rsp_tblock b;
		if (rsp_tframe_next(t->selbuf, t->sellen, &off, &f, 0) == 1)
			while (rsp_tframe_block_next(&f, &boff, &b) == 1)
				if (b.kind == 'V' && b.num == num) {
					stub_out_fmt(o, "V%" PRIx64, (uint64_t)b.value);
					return STUB_OK;
				}
		stub_out_str(o, "U");
		return STUB_OK;
	}
	struct stub_tsv *v = stub_trace_tsv(t, (uint32_t)num);
	if (!v) {
		stub_out_str(o, "U");
		return STUB_OK;
	}
	int64_t val = v->value;
	if (v->timestamp)
		val = (int64_t)stub_trace_now_us();
	stub_out_fmt(o, "V%" PRIx64, (uint64_t)val);
	return STUB_OK;
}

/* qTfP / qTsP: the tracepoints, for a client that connects to a running
 * trace: "T" definition, then its "A" actions and "Z" sources. */
static int tp_next(struct stub_trace *t, struct stub_out *o)
{
	while (t->tp_iter < t->ntps) {
		struct stub_tp *tp = &t->tps[t->tp_iter];
		if (t->tp_src_iter == 0) {
			stub_out_fmt(o, "T%x:%" PRIx64 ":%c:%" PRIx64 ":%" PRIx64, tp->num, tp->addr,
				     tp->enabled ? 'E' : 'D', tp->step, tp->pass);
			if (tp->has_cond) {
				stub_out_fmt(o, ":X%zx,", tp->cond_len);
				stub_out_hex(o, tp->bytes + tp->cond_off, tp->cond_len);
			}
			t->tp_src_iter = 1;
			return STUB_OK;
		}
		if (t->tp_src_iter - 1 < tp->nsrc) {
			const char *src = tp->src[t->tp_src_iter - 1];
			if (src[0] == 'A') stub_out_fmt(o, "A%x:%" PRIx64 ":%s", tp->num, tp->addr, src + 1);
			else stub_out_fmt(o, "Z%s", src + 1);
			t->tp_src_iter++;
			return STUB_OK;
		}
		t->tp_iter++;
		t->tp_src_iter = 0;
	}
	stub_out_str(o, "l");
	return STUB_OK;
}

int stub_h_qtfp(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)a;
	struct stub_trace *t = stub_trace_get(s, false);
	if (!t) return stub_h_list_end(s, a, o);
	t->tp_iter = t->tp_src_iter = 0;
	return tp_next(t, o);
}

int stub_h_qtsp(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct stub_trace *t = stub_trace_get(s, false);
	if (!t) return stub_h_list_end(s, a, o);
	return tp_next(t, o);
}

static int tsv_next(struct stub_trace *t, struct stub_out *o)
{
	if (t->tsv_iter >= t->ntsvs) {
		stub_out_str(o, "l");
		return STUB_OK;
	}
	struct stub_tsv *v = &t->tsvs[t->tsv_iter++];
	stub_out_fmt(o, "%x:%016" PRIx64 ":%x:%s", v->num, (uint64_t)v->initial, v->builtin ? 1 : 0,
		     v->name_hex ? v->name_hex : "");
	return STUB_OK;
}

int stub_h_qtfv(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)a;
	struct stub_trace *t = trace(s);
	if (!t) return -ENOMEM;
	t->tsv_iter = 0;
	return tsv_next(t, o);
}

int stub_h_qtsv(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct stub_trace *t = stub_trace_get(s, false);
	if (!t) return stub_h_list_end(s, a, o);
	return tsv_next(t, o);
}

/* ------------------------------------------------------------ the frames */

/* qTBuffer:off,len — raw frames.  Linear/circular: off counts from the
 * oldest frame kept (gdb's tsave).  Stream: off is absolute since QTStart
 * and every frame ending at or before off is released first. */
int stub_h_qtbuffer(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct stub_trace *t = trace(s);
	uint64_t off, len;
	if (!t) return -ENOMEM;
	if (!stub_cur_hex(&a, &off) || !stub_cur_char(&a, ',') || !stub_cur_hex(&a, &len) ||
	    !stub_cur_end(&a))
		return -EINVAL;
	if (!t->buf.mem) {
		stub_out_str(o, "l");
		return STUB_OK;
	}
	uint64_t abs = off;
	if (t->buf.mode == STUB_TBUF_STREAM) {
		if (stub_tbuf_release(&t->buf, off) || t->nparked) stub_trace_unpark(s);
		if (off < t->buf.head) return -EINVAL;   /* released already */
	} else {
		abs = t->buf.head + off;
		if (abs < off) return -EINVAL;
	}
	size_t max = (RSP_PACKET_SIZE - 16) / 2;
	if ((o->cap - o->len) / 2 < max) max = (o->cap - o->len) / 2;
	if (len > max) len = max;
	/* hex straight from the ring into the reply: no copy of the bytes first */
	const uint8_t *seg[2];
	size_t segn[2];
	if (stub_tbuf_view(&t->buf, abs, (size_t)len, seg, segn) == 0) {
		stub_out_str(o, "l");
		return STUB_OK;
	}
	stub_out_hex(o, seg[0], segn[0]);
	if (segn[1]) stub_out_hex(o, seg[1], segn[1]);
	return STUB_OK;
}

static bool select_frame(struct stub_trace *t, long i)
{
	const struct stub_tframe_rec *r = i >= 0 ? stub_tbuf_frame(&t->buf, (size_t)i) : NULL;
	if (!r) {
		t->sel = -1;
		return false;
	}
	if (t->selcap < r->size) {
		uint8_t *n = realloc(t->selbuf, r->size);
		if (!n) {
			t->sel = -1;
			return false;
		}
		t->selbuf = n;
		t->selcap = r->size;
	}
	t->sellen = stub_tbuf_read(&t->buf, r->off, t->selbuf, r->size);
	t->sel = i;
	t->seltp = r->tpnum;
	return t->sellen == r->size;
}

/* QTFrame:n | pc:addr | tdp:t | range:lo:hi | outside:lo:hi — the search
 * forms look at frames after the selected one (GDB manual E.7). */
int stub_h_qtframe(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct stub_trace *t = trace(s);
	if (!t) return -ENOMEM;
	enum { BY_NUM, BY_PC, BY_TP, IN_RANGE, OUT_RANGE } how = BY_NUM;
	uint64_t x = 0, y = 0;
#define KW(lit) (a.n >= sizeof(lit) - 1 && memcmp(a.p, lit, sizeof(lit) - 1) == 0 && \
		 (a.p += sizeof(lit) - 1, a.n -= sizeof(lit) - 1, true))
	if (KW("pc:")) how = BY_PC;
	else if (KW("tdp:")) how = BY_TP;
	else if (KW("range:")) how = IN_RANGE;
	else if (KW("outside:")) how = OUT_RANGE;
#undef KW
	if (!stub_cur_hex(&a, &x)) return -EINVAL;
	if ((how == IN_RANGE || how == OUT_RANGE) && (!stub_cur_char(&a, ':') || !stub_cur_hex(&a, &y)))
		return -EINVAL;
	if (!stub_cur_end(&a)) return -EINVAL;
	long found = -1;
	if (how == BY_NUM) {
		if (x == 0xffffffffu || x == UINT64_MAX) {
			t->sel = -1;
			stub_out_str(o, "OK");
			return STUB_OK;
		}
		found = t->buf.mem && x < stub_tbuf_frames(&t->buf) ? (long)x : -1;
	} else if (t->buf.mem) {
		for (size_t i = (size_t)(t->sel + 1); i < stub_tbuf_frames(&t->buf); i++) {
			const struct stub_tframe_rec *r = stub_tbuf_frame(&t->buf, i);
			bool hit = how == BY_PC ? r->pc == x
				 : how == BY_TP ? r->tpnum == x
				 : how == IN_RANGE ? r->pc >= x && r->pc <= y
				 : r->pc < x || r->pc > y;
			if (hit) {
				found = (long)i;
				break;
			}
		}
	}
	if (found < 0 || !select_frame(t, found)) {
		t->sel = -1;
		stub_out_str(o, "F-1");
		return STUB_OK;
	}
	stub_out_fmt(o, "F%lxT%x", found, t->seltp);
	return STUB_OK;
}

/* qXfer:traceframe-info:read — what the selected frame holds, so gdb shows
 * <unavailable> for the rest instead of an error. */
int stub_h_xfer_tfinfo(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	const char *annex;
	size_t alen;
	uint64_t off, len;
	if (rsp_parse_xfer_read(a.p, a.n, &annex, &alen, &off, &len) < 0 || alen != 0) return -EINVAL;
	struct stub_trace *t = stub_trace_get(s, false);
	if (!t || t->sel < 0) return -EINVAL;
	if (off == 0 || s->xdoc_tag != XDOC_TFINFO) {
		s->xdoc_len = 0;
		s->xdoc_tag = XDOC_TFINFO;
		bool ok = stub_xdoc_add(s, "<traceframe-info>\n");
		struct rsp_tframe f;
		size_t foff = 0, boff = 0;
		struct rsp_tblock b;
		if (rsp_tframe_next(t->selbuf, t->sellen, &foff, &f, 0) == 1)
			while (ok && rsp_tframe_block_next(&f, &boff, &b) == 1) {
				if (b.kind == 'M')
					ok = stub_xdoc_add(s, "<memory start=\"0x%" PRIx64 "\" length=\"0x%zx\"/>\n",
							   b.addr, b.len);
				else if (b.kind == 'V')
					ok = stub_xdoc_add(s, "<tvar id=\"%" PRIu32 "\"/>\n", b.num);
			}
		if (!ok || !stub_xdoc_add(s, "</traceframe-info>\n")) {
			s->xdoc_tag = 0;
			return -ENOMEM;
		}
	}
	stub_xfer_chunk(o, s->xdoc, s->xdoc_len, off, len);
	return STUB_OK;
}

/* g / p / m while a frame is selected (called by stub_dispatch). */
bool stub_trace_frame_packet(struct stub_session *s, const char *pkt, size_t len,
			     struct stub_out *o, int *res)
{
	static uint8_t tmp[RSP_PACKET_SIZE / 2];
	if (!stub_trace_frame_selected(s) || len == 0) return false;
	uint8_t regs[1024];
	bool avail[RSP_AMD64_NREGS];
	struct stub_cur a = { pkt + 1, len - 1 };
	*res = STUB_OK;
	switch (pkt[0]) {
	case 'g':
		if (len != 1) return false;
		if (stub_trace_frame_regs(s, regs, avail) < 0) { *res = -EIO; return true; }
		for (unsigned i = 0; i < RSP_AMD64_NREGS; i++) {
			unsigned n = rsp_amd64_regs[i].bits / 8;
			if (avail[i]) {
				stub_out_hex(o, regs + rsp_amd64_regs[i].offset, n);
			} else {
				for (unsigned k = 0; k < 2 * n; k++) stub_out_str(o, "x");
			}
		}
		return true;
	case 'p': {
		uint64_t regno;
		if (!stub_cur_hex(&a, &regno) || !stub_cur_end(&a) || regno >= RSP_AMD64_NREGS) {
			*res = -EINVAL;
			return true;
		}
		if (stub_trace_frame_regs(s, regs, avail) < 0) { *res = -EIO; return true; }
		unsigned n = rsp_amd64_regs[regno].bits / 8;
		if (avail[regno]) stub_out_hex(o, regs + rsp_amd64_regs[regno].offset, n);
		else for (unsigned k = 0; k < 2 * n; k++) stub_out_str(o, "x");
		return true;
	}
	case 'm': {
		uint64_t addr, n;
		if (!stub_cur_hex(&a, &addr) || !stub_cur_char(&a, ',') || !stub_cur_hex(&a, &n) ||
		    !stub_cur_end(&a)) {
			*res = -EINVAL;
			return true;
		}
		if (n > (RSP_PACKET_SIZE - 16) / 2) n = (RSP_PACKET_SIZE - 16) / 2;
		if (n == 0) return true;
		size_t got = stub_trace_frame_mem(s, addr, tmp, (size_t)n);
		if (got == 0) {
			/* read-only sections come from the live process (QTro) */
			struct stub_trace *t = s->trace;
			bool ro = false;
			for (unsigned i = 0; i < t->nro; i++)
				ro |= addr >= t->ro[i].lo && addr + n <= t->ro[i].hi;
			long r = ro && s->pid > 0 ? s->ops->read_mem(s->tgt, addr, tmp, (size_t)n) : -1;
			if (r <= 0) {
				*res = -EPERM;   /* E01, as gdbserver: not collected */
				return true;
			}
			got = (size_t)r;
		}
		stub_out_hex(o, tmp, got);
		return true;
	}
	default:
		return false;
	}
}
