/* handlers.c — the one packet table, its dispatcher, qSupported, and the
 * small reply/argument helpers every handler file uses.
 *
 * Matching: the longest prefix wins ("vCont?" before "vCont;", "qXfer:auxv:read:"
 * before nothing); rows flagged STUB_H_EXACT must match the whole packet so
 * that e.g. "qC" does not swallow "qCRC:".  Packet names with arguments keep
 * their separator in the prefix for the same reason.  Unknown packets get
 * the empty reply, as the GDB manual (E.1) requires.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "trace.h"

/* The table.  name is what --disable-packet accepts; gdbserver's own names
 * (vCont, T, Tthread, qC, qfThreadInfo, threads) are accepted too: T and
 * Tthread change the stop-reply form (reply_forms below). */
static const struct stub_handler table[] = {
	{ "?", stub_h_status, NULL, STUB_H_EXACT, "?" },
	{ "!", stub_h_extended, NULL, STUB_H_EXACT, "!" },
	{ "g", stub_h_g, NULL, STUB_H_EXACT | STUB_H_PROCESS, "g" },
	{ "G", stub_h_G, NULL, STUB_H_PROCESS, "G" },
	{ "p", stub_h_p, NULL, STUB_H_PROCESS, "p" },
	{ "P", stub_h_P, NULL, STUB_H_PROCESS, "P" },
	{ "m", stub_h_m, NULL, STUB_H_PROCESS, "m" },
	{ "M", stub_h_M, NULL, STUB_H_PROCESS, "M" },
	{ "X", stub_h_X, NULL, STUB_H_PROCESS, "X" },
	{ "Z", stub_h_Z, "swbreak+;hwbreak+", STUB_H_PROCESS, "Z" },
	{ "z", stub_h_z, NULL, STUB_H_PROCESS, "z" },
	{ "c", stub_h_c, NULL, STUB_H_PROCESS, "c" },
	{ "C", stub_h_C, NULL, STUB_H_PROCESS, "C" },
	{ "s", stub_h_s, NULL, STUB_H_PROCESS, "s" },
	{ "S", stub_h_S, NULL, STUB_H_PROCESS, "S" },
	{ "vCont?", stub_h_vcont_q, "vContSupported+", STUB_H_EXACT, "vCont" },
	/* exec-events: a resumed program that calls execve stops with "exec:" */
	{ "vCont;", stub_h_vcont, "exec-events+", STUB_H_PROCESS, "vCont" },
	{ "H", stub_h_H, NULL, 0, "H" },
	{ "T", stub_h_T, NULL, STUB_H_PROCESS, "thread-alive" },
	{ "qC", stub_h_qC, NULL, STUB_H_EXACT, "qC" },
	{ "qfThreadInfo", stub_h_qfthreadinfo, NULL, STUB_H_EXACT, "qfThreadInfo" },
	{ "qsThreadInfo", stub_h_qsthreadinfo, NULL, STUB_H_EXACT, "qfThreadInfo" },
	{ "qXfer:threads:read:", stub_h_xfer_threads, "qXfer:threads:read+", 0, "threads" },
	{ "qAttached", stub_h_qattached, NULL, 0, "qAttached" },
	{ "k", stub_h_k, NULL, STUB_H_EXACT, "k" },
	{ "vKill;", stub_h_vkill, "multiprocess+", 0, "vKill" },
	{ "D", stub_h_D, NULL, 0, "D" },
	{ "vAttach;", stub_h_vattach, NULL, 0, "vAttach" },
	{ "vRun;", stub_h_vrun, NULL, 0, "vRun" },
	{ "QNonStop:", stub_h_qnonstop, "QNonStop+", 0, "QNonStop" },
	{ "vStopped", stub_h_vstopped, NULL, STUB_H_EXACT, "QNonStop" },
	{ "QPassSignals:", stub_h_pass_signals, "QPassSignals+", 0, "QPassSignals" },
	{ "QProgramSignals:", stub_h_program_signals, "QProgramSignals+", 0, "QProgramSignals" },
	{ "QStartNoAckMode", stub_h_noack, "QStartNoAckMode+", STUB_H_EXACT, "QStartNoAckMode" },
	{ "QDisableRandomization:", stub_h_disable_aslr, "QDisableRandomization+", 0, "QDisableRandomization" },
	{ "QSetWorkingDir:", stub_h_set_cwd, "QSetWorkingDir+", 0, "QSetWorkingDir" },
	{ "qSupported", stub_h_qsupported, NULL, 0, "qSupported" },
	{ "qXfer:features:read:", stub_h_xfer_features, "qXfer:features:read+", 0, "qXfer:features:read" },
	{ "qXfer:auxv:read:", stub_h_xfer_auxv, "qXfer:auxv:read+", STUB_H_PROCESS, "qXfer:auxv:read" },
	{ "qXfer:exec-file:read:", stub_h_xfer_exec_file, "qXfer:exec-file:read+", 0, "qXfer:exec-file:read" },
	{ "qXfer:libraries-svr4:read:", stub_h_xfer_svr4, "qXfer:libraries-svr4:read+", STUB_H_PROCESS, "qXfer:libraries-svr4:read" },
	{ "vFile:", stub_h_vfile, NULL, 0, "vFile" },
	{ "qRcmd,", stub_h_qrcmd, NULL, 0, "qRcmd" },
	{ "qSymbol:", stub_h_qsymbol, NULL, 0, "qSymbol" },
	/* tracepoints (handlers_trace.c, trace.h); --disable-packet=qTStatus
	 * removes them all, as gdbserver without tracepoint support */
	{ "qTStatus", stub_h_qtstatus_trace, NULL, STUB_H_EXACT, "qTStatus" },
	{ "qTfV", stub_h_qtfv, "TraceStateVariables+", STUB_H_EXACT, "qTStatus" },
	{ "qTsV", stub_h_qtsv, NULL, STUB_H_EXACT, "qTStatus" },
	{ "qTfP", stub_h_qtfp, "TracepointSource+", STUB_H_EXACT, "qTStatus" },
	{ "qTsP", stub_h_qtsp, NULL, STUB_H_EXACT, "qTStatus" },
	{ "QTinit", stub_h_qtinit, NULL, STUB_H_EXACT, "qTStatus" },
	{ "QTDP:", stub_h_qtdp, "ConditionalTracepoints+", 0, "qTStatus" },
	{ "QTDPsrc:", stub_h_qtdpsrc, NULL, 0, "qTStatus" },
	{ "QTDV:", stub_h_qtdv, NULL, 0, "qTStatus" },
	{ "QTro", stub_h_qtro, NULL, 0, "qTStatus" },
	{ "QTNotes:", stub_h_qtnotes, NULL, 0, "qTStatus" },
	{ "QTDisconnected", stub_h_qtdisconnected, NULL, 0, "qTStatus" },
	{ "QTEnable:", stub_h_qtenable, "EnableDisableTracepoints+", 0, "qTStatus" },
	{ "QTDisable:", stub_h_qtdisable, NULL, 0, "qTStatus" },
	{ "QTBuffer:circular:", stub_h_qtbuffer_circular, NULL, 0, "qTStatus" },
	{ "QTBuffer:size:", stub_h_qtbuffer_size, "QTBuffer:size+", 0, "qTStatus" },
	{ "QTBuffer:stream:", stub_h_qtbuffer_stream, "QTBuffer:stream+", 0, "qTStatus" },
	{ "QTStart", stub_h_qtstart, "tracenz+", STUB_H_EXACT, "qTStatus" },
	{ "QTStop", stub_h_qtstop, NULL, STUB_H_EXACT, "qTStatus" },
	{ "qTP:", stub_h_qtp, NULL, 0, "qTStatus" },
	{ "qTV:", stub_h_qtv, NULL, 0, "qTStatus" },
	{ "qTBuffer:", stub_h_qtbuffer, NULL, 0, "qTStatus" },
	{ "QTFrame:", stub_h_qtframe, NULL, 0, "qTStatus" },
	{ "qXfer:traceframe-info:read:", stub_h_xfer_tfinfo, "qXfer:traceframe-info:read+", 0, "qTStatus" },
};

#define NTABLE (sizeof table / sizeof table[0])

/* gdbserver's --disable-packet names that are not packets we receive but
 * forms of the stop reply we send (session.c stub_stop_reply):
 *   T        stop replies as "S sig" instead of "T sig ..."
 *   Tthread  no "thread:" in T stop replies */
static const char *const reply_forms[] = { "T", "Tthread" };

static bool in_list(const char *list, const char *name)
{
	if (!list) return false;
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && memcmp(p, name, n) == 0) return true;
		if (!e) break;
		p = e + 1;
	}
	return false;
}

bool stub_name_disabled(const struct stub_session *s, const char *name)
{
	return in_list(s->cfg->disabled, name);
}

static bool stub_disabled(const struct stub_session *s, const struct stub_handler *h)
{
	return stub_name_disabled(s, h->name);
}

bool stub_packet_name_known(const char *name)
{
	for (size_t i = 0; i < NTABLE; i++)
		if (strcmp(table[i].name, name) == 0) return true;
	for (size_t i = 0; i < sizeof reply_forms / sizeof reply_forms[0]; i++)
		if (strcmp(reply_forms[i], name) == 0) return true;
	return false;
}

void stub_print_packet_names(FILE *f)
{
	const char *prev = "";
	for (size_t i = 0; i < NTABLE; i++) {
		if (strcmp(prev, table[i].name) == 0) continue;
		fprintf(f, "%s%s", i ? " " : "", table[i].name);
		prev = table[i].name;
	}
	for (size_t i = 0; i < sizeof reply_forms / sizeof reply_forms[0]; i++)
		fprintf(f, " %s", reply_forms[i]);
	fprintf(f, "\n");
}

static const struct stub_handler *lookup(const struct stub_session *s,
					  const char *pkt, size_t len)
{
	const struct stub_handler *best = NULL;
	size_t bestlen = 0;
	for (size_t i = 0; i < NTABLE; i++) {
		const struct stub_handler *h = &table[i];
		size_t pl = strlen(h->prefix);
		if (pl > len || memcmp(pkt, h->prefix, pl) != 0) continue;
		if ((h->flags & STUB_H_EXACT) && pl != len) {
			/* "qAttached:PID" style optional argument is not EXACT; an
			 * EXACT row only matches the bare name. */
			continue;
		}
		if (pl > bestlen) {
			best = h;
			bestlen = pl;
		}
	}
	if (best && stub_disabled(s, best)) return NULL;
	return best;
}

int stub_dispatch(struct stub_session *s, const char *pkt, size_t len, struct stub_out *o)
{
	o->len = 0;
	o->overflow = false;
	int tr;
	if (stub_trace_frame_packet(s, pkt, len, o, &tr)) {
		/* g/p/m from the selected trace frame (handlers_trace.c) */
		if (tr < 0 || o->overflow) {
			o->len = 0;
			o->overflow = false;
			stub_out_fmt(o, "E%02x", (tr < 0 ? -tr : ENOSPC) & 0xff);
		}
		return STUB_OK;
	}
	const struct stub_handler *h = lookup(s, pkt, len);
	if (!h) return STUB_OK;   /* empty reply: not supported */
	if ((h->flags & STUB_H_PROCESS) && s->state != STUB_STOPPED) {
		stub_out_str(o, s->state == STUB_RUNNING ? "E10" : "E01");
		return STUB_OK;
	}
	size_t pl = strlen(h->prefix);
	struct stub_cur args = { pkt + pl, len - pl };
	int r = h->fn(s, args, o);
	if (r == STUB_NO_REPLY) return r;
	if (r < 0 || o->overflow) {
		int e = r < 0 ? -r : ENOSPC;
		o->len = 0;
		o->overflow = false;
		stub_out_fmt(o, "E%02x", e & 0xff);
	}
	return STUB_OK;
}

/* qSupported: read the client's features, answer with ours, all from the table. */
int stub_h_qsupported(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	if (a.n > 0 && !stub_cur_char(&a, ':')) return -EINVAL;
	/* client features: "name+", "name-", "name=value", separated by ';' */
	while (a.n > 0) {
		const char *e = memchr(a.p, ';', a.n);
		size_t l = e ? (size_t)(e - a.p) : a.n;
#define IS(lit) (l == sizeof(lit) - 1 && memcmp(a.p, lit, l) == 0)
		if (IS("multiprocess+")) s->mp = true;
		else if (IS("swbreak+")) s->c_swbreak = true;
		else if (IS("hwbreak+")) s->c_hwbreak = true;
		else if (IS("exec-events+")) s->c_exec = true;
#undef IS
		a.p += l;
		a.n -= l;
		if (a.n) { a.p++; a.n--; }
	}
	/* A disabled vKill means no multiprocess (gdb kills with vKill then). */
	stub_out_fmt(o, "PacketSize=%x", RSP_PACKET_SIZE);
	bool mp_offered = false;
	for (size_t i = 0; i < NTABLE; i++) {
		const struct stub_handler *h = &table[i];
		if (!h->feature || stub_disabled(s, h)) continue;
		/* a feature shared by several rows is printed once */
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			if (table[j].feature && strcmp(table[j].feature, h->feature) == 0) dup = true;
		if (dup) continue;
		if (strcmp(h->feature, "multiprocess+") == 0) mp_offered = true;
		stub_out_fmt(o, ";%s", h->feature);
	}
	if (!mp_offered) s->mp = false;
	if (!strstr(o->buf, ";exec-events+")) s->c_exec = false;
	return STUB_OK;
}

/* ---------------------------------------------------------------- helpers */

void stub_out_mem(struct stub_out *o, const void *p, size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

void stub_out_str(struct stub_out *o, const char *str)
{
	stub_out_mem(o, str, strlen(str));
}

void stub_out_fmt(struct stub_out *o, const char *fmt, ...)
{
	if (o->overflow) return;
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->cap - o->len;
	int n = vsnprintf(o->buf + o->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		o->overflow = true;
		return;
	}
	o->len += (size_t)n;
}

void stub_out_hex(struct stub_out *o, const void *p, size_t n)
{
	if (o->overflow) return;
	size_t w = rsp_hex_encode(o->buf + o->len, o->cap - o->len, p, n);
	if (w != 2 * n) {
		o->overflow = true;
		return;
	}
	o->len += w;
}

/* Refresh s->threads with the backend's thread list. */
int stub_load_threads(struct stub_session *s)
{
	for (;;) {
		int cap = s->nthreads > 0 ? s->nthreads + 16 : 64;
		struct tgt_thread_info *t = realloc(s->threads, (size_t)cap * sizeof *t);
		if (!t) return -ENOMEM;
		s->threads = t;
		int n = s->ops->list_threads(s->tgt, t, cap);
		if (n < 0) return n;
		if (n <= cap) {
			s->nthreads = n;
			return n;
		}
		s->nthreads = n;
	}
}

bool stub_cur_hex(struct stub_cur *c, uint64_t *v)
{
	size_t k = rsp_parse_hex_u64(c->p, c->n, v);
	if (k == 0) return false;
	c->p += k;
	c->n -= k;
	return true;
}

bool stub_cur_char(struct stub_cur *c, char ch)
{
	if (c->n == 0 || c->p[0] != ch) return false;
	c->p++;
	c->n--;
	return true;
}

bool stub_cur_ptid(struct stub_cur *c, struct rsp_ptid *id)
{
	size_t k = rsp_parse_ptid(c->p, c->n, id);
	if (k == 0) return false;
	c->p += k;
	c->n -= k;
	return true;
}

bool stub_cur_hexstr(struct stub_cur *c, char sep, char *dst, size_t cap)
{
	const char *e = memchr(c->p, sep, c->n);
	size_t l = e ? (size_t)(e - c->p) : c->n;
	if (l % 2 || l / 2 >= cap) return false;
	if (rsp_hex_decode((uint8_t *)dst, l / 2, c->p, l) < 0) return false;
	if (memchr(dst, 0, l / 2)) return false;   /* no embedded NULs in names */
	dst[l / 2] = 0;
	c->p += l;
	c->n -= l;
	if (e) { c->p++; c->n--; }
	return true;
}

void stub_xfer_chunk(struct stub_out *o, const char *doc, size_t len,
		     uint64_t offset, uint64_t length)
{
	if (offset >= len) {
		stub_out_str(o, "l");
		return;
	}
	size_t avail = len - (size_t)offset;
	/* Stay well inside what the client buffers (its request) and ours. */
	size_t room = o->cap - o->len > 1 ? o->cap - o->len - 1 : 0;
	size_t want = length < avail ? (size_t)length : avail;
	if (want > room) want = room;
	stub_out_str(o, want == avail ? "l" : "m");
	stub_out_mem(o, doc + offset, want);
}

bool stub_xdoc_add(struct stub_session *s, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = s->xdoc_cap - s->xdoc_len;
		int n = vsnprintf(s->xdoc ? s->xdoc + s->xdoc_len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) return false;
		if ((size_t)n < room) {
			s->xdoc_len += (size_t)n;
			return true;
		}
		size_t ncap = s->xdoc_cap ? s->xdoc_cap * 2 : 4096;
		while (ncap - s->xdoc_len <= (size_t)n) ncap *= 2;
		if (ncap > (64u << 20)) return false;   /* a runaway document */
		char *p = realloc(s->xdoc, ncap);
		if (!p) return false;
		s->xdoc = p;
		s->xdoc_cap = ncap;
	}
}

bool stub_xdoc_add_escaped(struct stub_session *s, const char *str)
{
	for (; *str; str++) {
		bool ok;
		switch (*str) {
		case '<': ok = stub_xdoc_add(s, "&lt;"); break;
		case '>': ok = stub_xdoc_add(s, "&gt;"); break;
		case '&': ok = stub_xdoc_add(s, "&amp;"); break;
		case '"': ok = stub_xdoc_add(s, "&quot;"); break;
		case '\'': ok = stub_xdoc_add(s, "&apos;"); break;
		default:
			if ((unsigned char)*str < 0x20) ok = stub_xdoc_add(s, "&#%d;", *str);
			else ok = stub_xdoc_add(s, "%c", *str);
		}
		if (!ok) return false;
	}
	return true;
}
