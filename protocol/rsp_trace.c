/* rsp_trace.c — tracepoint packets (QTDP, QTDV, qTStatus) and trace frames.
 *
 * GDB manual E.7 "Tracepoint Packets" for the packet syntax; the frame layout
 * is gdbserver's in-memory trace buffer (also the "Trace File Format"
 * appendix's frame section): u16 tpnum, u32 size, then R/M/V blocks, little
 * endian.  Everything reads (pointer, length) pairs: packet bodies are never
 * NUL-terminated.
 */
#include "rsp_trace.h"

#include <string.h>

#include "rsp.h"

/* ------------------------------------------------------------ cursor */

struct cur {
	const char *p;
	size_t n, i;
};

static bool at(const struct cur *c, char ch)
{
	return c->i < c->n && c->p[c->i] == ch;
}

static bool eat(struct cur *c, char ch)
{
	if (!at(c, ch)) return false;
	c->i++;
	return true;
}

static bool hex_u64(struct cur *c, uint64_t *v)
{
	size_t k = rsp_parse_hex_u64(c->p + c->i, c->n - c->i, v);
	c->i += k;
	return k > 0;
}

static size_t hexrun(const struct cur *c)
{
	size_t k = 0;
	while (c->i + k < c->n) {
		char ch = c->p[c->i + k];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		      (ch >= 'A' && ch <= 'F')))
			break;
		k++;
	}
	return k;
}

/* Decode nbytes (2*nbytes hex digits at the cursor) into bytes[]. */
static int take_bytes(struct cur *c, size_t nbytes, uint8_t *bytes, size_t cap,
		      size_t *used, size_t *off)
{
	if ((c->n - c->i) / 2 < nbytes) return RSP_TRACE_E_FORMAT;
	if (cap - *used < nbytes) return RSP_TRACE_E_SPACE;
	if (rsp_hex_decode(bytes + *used, nbytes, c->p + c->i, 2 * nbytes) < 0)
		return RSP_TRACE_E_FORMAT;
	*off = *used;
	*used += nbytes;
	c->i += 2 * nbytes;
	return 0;
}

/* "len,hex" of an agent expression (after the 'X'). */
static int take_expr(struct cur *c, uint8_t *bytes, size_t cap, size_t *used,
		     size_t *off, size_t *len)
{
	uint64_t n;
	if (!hex_u64(c, &n) || !eat(c, ',')) return RSP_TRACE_E_FORMAT;
	if (n > (c->n - c->i) / 2) return RSP_TRACE_E_FORMAT;
	*len = (size_t)n;
	return take_bytes(c, (size_t)n, bytes, cap, used, off);
}

/* ------------------------------------------------------------ QTDP */

static int parse_actions(struct cur *c, struct rsp_qtdp *out,
			 struct rsp_tp_action *acts, unsigned max_acts,
			 uint8_t *bytes, size_t cap)
{
	if (eat(c, 'S')) out->stepping = true;
	while (c->i < c->n) {
		struct rsp_tp_action a;
		memset(&a, 0, sizeof a);
		a.kind = c->p[c->i++];
		a.stepping = out->stepping;
		int err = 0;
		switch (a.kind) {
		case RSP_TP_ACT_REGS: {
			size_t k = hexrun(c);
			if (k == 0 || k % 2) return RSP_TRACE_E_FORMAT;
			err = take_bytes(c, k / 2, bytes, cap, &out->bytes_used, &a.data_off);
			a.data_len = k / 2;
			break;
		}
		case RSP_TP_ACT_MEM: {
			bool neg = eat(c, '-');
			uint64_t reg;
			if (!hex_u64(c, &reg) || reg > 0xffff) return RSP_TRACE_E_FORMAT;
			a.basereg = neg ? -(int)reg : (int)reg;
			if (neg && reg != 1) return RSP_TRACE_E_FORMAT;
			if (!eat(c, ',') || !hex_u64(c, &a.offset) || !eat(c, ',') ||
			    !hex_u64(c, &a.len))
				return RSP_TRACE_E_FORMAT;
			break;
		}
		case RSP_TP_ACT_SDATA:
			break;
		case RSP_TP_ACT_EXPR:
			err = take_expr(c, bytes, cap, &out->bytes_used, &a.data_off, &a.data_len);
			break;
		default:
			return RSP_TRACE_E_FORMAT;
		}
		if (err) return err;
		if (out->nacts >= max_acts) return RSP_TRACE_E_SPACE;
		acts[out->nacts++] = a;
	}
	return 0;
}

int rsp_qtdp_parse(const char *p, size_t n, struct rsp_qtdp *out,
		   struct rsp_tp_action *acts, unsigned max_acts,
		   uint8_t *bytes, size_t bytes_cap)
{
	struct rsp_qtdp q;
	memset(&q, 0, sizeof q);
	if (!p) return RSP_TRACE_E_FORMAT;
	/* A trailing '-' announces more packets.  No field or action ends
	 * with '-' ("M-1,..." has it inside), so it is unambiguous. */
	if (n > 0 && p[n - 1] == '-') {
		q.more = true;
		n--;
	}
	struct cur c = { p, n, 0 };
	uint64_t v;
	q.continuation = eat(&c, '-');
	if (!hex_u64(&c, &v) || v > UINT32_MAX) return RSP_TRACE_E_FORMAT;
	q.num = (uint32_t)v;
	if (!eat(&c, ':') || !hex_u64(&c, &q.addr) || !eat(&c, ':'))
		return RSP_TRACE_E_FORMAT;
	int err;
	if (q.continuation) {
		if (c.i == c.n) return RSP_TRACE_E_FORMAT;   /* no action at all */
		err = parse_actions(&c, &q, acts, max_acts, bytes, bytes_cap);
		if (err) return err;
		*out = q;
		return 0;
	}
	if (eat(&c, 'E')) q.enabled = true;
	else if (!eat(&c, 'D')) return RSP_TRACE_E_FORMAT;
	if (!eat(&c, ':') || !hex_u64(&c, &q.step) || !eat(&c, ':') ||
	    !hex_u64(&c, &q.pass))
		return RSP_TRACE_E_FORMAT;
	while (c.i < c.n) {
		if (!eat(&c, ':')) return RSP_TRACE_E_FORMAT;
		if (eat(&c, 'F')) {
			if (!hex_u64(&c, &q.flen)) return RSP_TRACE_E_FORMAT;
			q.fast = true;
		} else if (eat(&c, 'X')) {
			if (q.has_cond) return RSP_TRACE_E_FORMAT;
			err = take_expr(&c, bytes, bytes_cap, &q.bytes_used, &q.cond_off, &q.cond_len);
			if (err) return err;
			q.has_cond = true;
		} else if (at(&c, 'S') && (c.i + 1 == c.n || c.p[c.i + 1] == ':')) {
			c.i++;
			q.is_static = true;
		} else {
			/* unknown field (":K<kind>", future ones): skip it */
			while (c.i < c.n && c.p[c.i] != ':') c.i++;
		}
	}
	*out = q;
	return 0;
}

bool rsp_tp_mask_has(const uint8_t *mask, size_t mask_len, unsigned regno)
{
	size_t byte = regno / 8;
	if (byte >= mask_len) return false;
	return (mask[mask_len - 1 - byte] >> (regno % 8)) & 1;
}

/* ------------------------------------------------------------ QTDV */

int rsp_qtdv_parse(const char *p, size_t n, struct rsp_qtdv *out)
{
	struct cur c = { p, n, 0 };
	uint64_t num, val, builtin;
	if (!p) return RSP_TRACE_E_FORMAT;
	bool neg;
	if (!hex_u64(&c, &num) || num > UINT32_MAX || !eat(&c, ':'))
		return RSP_TRACE_E_FORMAT;
	neg = eat(&c, '-');   /* tolerated: gdb sends 16 digits of two's complement */
	if (!hex_u64(&c, &val) || !eat(&c, ':') || !hex_u64(&c, &builtin) ||
	    builtin > 1 || !eat(&c, ':'))
		return RSP_TRACE_E_FORMAT;
	size_t k = hexrun(&c);
	if (c.i + k != c.n || k % 2) return RSP_TRACE_E_FORMAT;
	out->num = (uint32_t)num;
	out->value = (int64_t)(neg ? 0 - val : val);
	out->builtin = builtin != 0;
	out->name_hex = p + c.i;
	out->name_hex_len = k;
	return 0;
}

/* Append helpers: all-or-nothing writes into dst[0..cap), tracking *o;
 * once something does not fit, *o becomes SIZE_MAX and stays there. */
static void put_str(char *dst, size_t cap, size_t *o, const char *s, size_t n)
{
	if (*o == SIZE_MAX) return;
	if (cap - *o < n) { *o = SIZE_MAX; return; }
	memcpy(dst + *o, s, n);
	*o += n;
}

static void put_cstr(char *dst, size_t cap, size_t *o, const char *s)
{
	put_str(dst, cap, o, s, strlen(s));
}

static void put_hex(char *dst, size_t cap, size_t *o, uint64_t v)
{
	char tmp[16];
	size_t k = rsp_fmt_hex_u64(tmp, sizeof tmp, v);
	put_str(dst, cap, o, tmp, k);
}

size_t rsp_qtdv_format(char *dst, size_t cap, const struct rsp_qtdv *v)
{
	size_t o = 0;
	put_hex(dst, cap, &o, v->num);
	put_cstr(dst, cap, &o, ":");
	put_hex(dst, cap, &o, (uint64_t)v->value);
	put_cstr(dst, cap, &o, v->builtin ? ":1:" : ":0:");
	if (v->name_hex_len) put_str(dst, cap, &o, v->name_hex, v->name_hex_len);
	return o == SIZE_MAX ? 0 : o;
}

/* ------------------------------------------------------------ qTStatus */

size_t rsp_tstatus_format(char *dst, size_t cap, const struct rsp_tstatus *st)
{
	size_t o = 0;
	put_cstr(dst, cap, &o, st->running ? "T1" : "T0");
	if (!st->running) {
		switch (st->reason) {
		case RSP_TSTOP_NOT_RUN: put_cstr(dst, cap, &o, ";tnotrun:0"); break;
		case RSP_TSTOP_USER: put_cstr(dst, cap, &o, ";tstop::0"); break;
		case RSP_TSTOP_FULL: put_cstr(dst, cap, &o, ";tfull:0"); break;
		case RSP_TSTOP_DISCONNECTED: put_cstr(dst, cap, &o, ";tdisconnected:0"); break;
		case RSP_TSTOP_PASSCOUNT:
			put_cstr(dst, cap, &o, ";tpasscount:");
			put_hex(dst, cap, &o, st->stop_tp);
			break;
		case RSP_TSTOP_ERROR: {
			put_cstr(dst, cap, &o, ";terror:");
			for (size_t i = 0; i < st->error_len && st->error; i++) {
				char h[2];
				rsp_hex_encode(h, 2, (const uint8_t *)st->error + i, 1);
				put_str(dst, cap, &o, h, 2);
			}
			put_cstr(dst, cap, &o, ":");
			put_hex(dst, cap, &o, st->stop_tp);
			break;
		}
		case RSP_TSTOP_RUNNING:
		case RSP_TSTOP_UNKNOWN:
		default:
			put_cstr(dst, cap, &o, ";tunknown:0");
			break;
		}
	}
	put_cstr(dst, cap, &o, ";tframes:");
	put_hex(dst, cap, &o, st->frames);
	put_cstr(dst, cap, &o, ";tcreated:");
	put_hex(dst, cap, &o, st->created);
	if (st->has_size) {
		put_cstr(dst, cap, &o, ";tfree:");
		put_hex(dst, cap, &o, st->free);
		put_cstr(dst, cap, &o, ";tsize:");
		put_hex(dst, cap, &o, st->size);
	}
	put_cstr(dst, cap, &o, st->circular ? ";circular:1" : ";circular:0");
	put_cstr(dst, cap, &o, st->disconn ? ";disconn:1" : ";disconn:0");
	put_cstr(dst, cap, &o, ";starttime:");
	put_hex(dst, cap, &o, st->start_time);
	put_cstr(dst, cap, &o, ";stoptime:");
	put_hex(dst, cap, &o, st->stop_time);
	return o == SIZE_MAX ? 0 : o;
}

static bool field_is(const char *f, size_t fn, const char *name)
{
	size_t k = strlen(name);
	return fn == k && memcmp(f, name, k) == 0;
}

int rsp_tstatus_parse(const char *src, size_t len, struct rsp_tstatus *out)
{
	struct rsp_tstatus st;
	memset(&st, 0, sizeof st);
	if (!src || len < 2 || src[0] != 'T' || (src[1] != '0' && src[1] != '1'))
		return RSP_TRACE_E_FORMAT;
	st.running = src[1] == '1';
	st.reason = st.running ? RSP_TSTOP_RUNNING : RSP_TSTOP_UNKNOWN;
	size_t i = 2;
	while (i < len) {
		if (src[i] != ';') return RSP_TRACE_E_FORMAT;
		i++;
		size_t end = i;
		while (end < len && src[end] != ';') end++;
		const char *f = src + i;
		size_t fn = 0;
		while (i + fn < end && f[fn] != ':') fn++;
		const char *val = f + fn + (i + fn < end);   /* after ':' */
		size_t vn = (size_t)(src + end - val);
		uint64_t v = 0;
		size_t k = rsp_parse_hex_u64(val, vn, &v);
		bool num_ok = k > 0 && k == vn;
		if (field_is(f, fn, "tframes") && num_ok) st.frames = v;
		else if (field_is(f, fn, "tcreated") && num_ok) st.created = v;
		else if (field_is(f, fn, "tfree") && num_ok) { st.free = v; st.has_size = true; }
		else if (field_is(f, fn, "tsize") && num_ok) { st.size = v; st.has_size = true; }
		else if (field_is(f, fn, "circular") && num_ok) st.circular = v != 0;
		else if (field_is(f, fn, "disconn") && num_ok) st.disconn = v != 0;
		else if (field_is(f, fn, "starttime") && num_ok) st.start_time = v;
		else if (field_is(f, fn, "stoptime") && num_ok) st.stop_time = v;
		else if (!st.running) {
			if (field_is(f, fn, "tnotrun")) st.reason = RSP_TSTOP_NOT_RUN;
			else if (field_is(f, fn, "tstop")) st.reason = RSP_TSTOP_USER;
			else if (field_is(f, fn, "tfull")) st.reason = RSP_TSTOP_FULL;
			else if (field_is(f, fn, "tdisconnected")) st.reason = RSP_TSTOP_DISCONNECTED;
			else if (field_is(f, fn, "tunknown")) st.reason = RSP_TSTOP_UNKNOWN;
			else if (field_is(f, fn, "tpasscount")) {
				st.reason = RSP_TSTOP_PASSCOUNT;
				st.stop_tp = (uint32_t)v;
			} else if (field_is(f, fn, "terror")) {
				/* terror:<hex text>:<tpnum> */
				size_t c = vn;
				while (c > 0 && val[c - 1] != ':') c--;
				st.reason = RSP_TSTOP_ERROR;
				if (c > 0) {
					st.error = val;
					st.error_len = c - 1;
					if (rsp_parse_hex_u64(val + c, vn - c, &v) > 0)
						st.stop_tp = (uint32_t)v;
				}
			}
		}
		i = end;
	}
	*out = st;
	return 0;
}

/* ------------------------------------------------------------ frames */

/* Little-endian fields of n bytes; on a little-endian host one store or
 * load (a trace frame's block headers are written per traced block). */
static inline void le(uint8_t *p, uint64_t v, int n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, &v, (size_t)n);
#else
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static inline uint64_t rd_le(const uint8_t *p, int n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v = 0;
	memcpy(&v, p, (size_t)n);
	return v;
#else
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
#endif
}

/* Room for n more bytes?  Sets err otherwise. */
static bool room(struct rsp_tframe_enc *e, size_t n)
{
	if (e->err) return false;
	if (e->cap - e->len < n) {
		e->err = RSP_TRACE_E_SPACE;
		return false;
	}
	return true;
}

void rsp_tframe_begin(struct rsp_tframe_enc *e, uint8_t *buf, size_t cap,
		      unsigned tpnum)
{
	e->buf = buf;
	e->cap = cap;
	e->len = 0;
	e->err = 0;
	e->last_mem = SIZE_MAX;
	if (tpnum > 0xffff) {
		e->err = RSP_TRACE_E_FORMAT;
		return;
	}
	if (!room(e, RSP_TFRAME_HDR)) return;
	le(buf, tpnum, 2);
	le(buf + 2, 0, 4);
	e->len = RSP_TFRAME_HDR;
}

void rsp_tframe_add_regs(struct rsp_tframe_enc *e, const uint8_t *regs, size_t n)
{
	if (n > SIZE_MAX - 1 || !room(e, 1 + n)) return;
	e->buf[e->len] = 'R';
	if (n) memcpy(e->buf + e->len + 1, regs, n);
	e->len += 1 + n;
	e->last_mem = SIZE_MAX;
}

uint8_t *rsp_tframe_reserve_mem(struct rsp_tframe_enc *e, uint64_t addr, size_t len)
{
	if (len > RSP_TFRAME_MEM_MAX) {
		if (!e->err) e->err = RSP_TRACE_E_FORMAT;
		return NULL;
	}
	if (!room(e, RSP_TFRAME_MEM_HDR + len)) return NULL;
	uint8_t *p = e->buf + e->len;
	p[0] = 'M';
	le(p + 1, addr, 8);
	le(p + 9, len, 2);
	e->last_mem = e->len;
	e->len += RSP_TFRAME_MEM_HDR + len;
	return p + RSP_TFRAME_MEM_HDR;
}

void rsp_tframe_trim_mem(struct rsp_tframe_enc *e, size_t n)
{
	if (e->err || e->last_mem == SIZE_MAX) return;
	uint8_t *p = e->buf + e->last_mem;
	size_t cur = (size_t)rd_le(p + 9, 2);
	if (n >= cur) return;
	le(p + 9, n, 2);
	e->len = e->last_mem + RSP_TFRAME_MEM_HDR + n;
}

void rsp_tframe_cut_mem(struct rsp_tframe_enc *e, size_t off, size_t keep)
{
	if (e->err || off < RSP_TFRAME_HDR || off > e->len || e->len - off < RSP_TFRAME_MEM_HDR ||
	    e->buf[off] != 'M')
		return;
	size_t cur = (size_t)rd_le(e->buf + off + 9, 2);
	if (keep >= cur || e->len - off - RSP_TFRAME_MEM_HDR < cur) return;
	size_t end = off + RSP_TFRAME_MEM_HDR + cur;
	size_t nend = keep ? off + RSP_TFRAME_MEM_HDR + keep : off;
	if (keep) le(e->buf + off + 9, keep, 2);
	memmove(e->buf + nend, e->buf + end, e->len - end);
	size_t gone = end - nend;
	e->len -= gone;
	if (e->last_mem != SIZE_MAX && e->last_mem == off && !keep) e->last_mem = SIZE_MAX;
	else if (e->last_mem != SIZE_MAX && e->last_mem > off) e->last_mem -= gone;
}

void rsp_tframe_add_mem(struct rsp_tframe_enc *e, uint64_t addr,
			const void *data, size_t len)
{
	const uint8_t *d = data;
	do {
		size_t k = len > RSP_TFRAME_MEM_MAX ? RSP_TFRAME_MEM_MAX : len;
		uint8_t *p = rsp_tframe_reserve_mem(e, addr, k);
		if (!p) return;
		if (k) memcpy(p, d, k);
		d += k;
		addr += k;
		len -= k;
	} while (len > 0);
}

void rsp_tframe_add_tsv(struct rsp_tframe_enc *e, uint32_t num, int64_t value)
{
	if (!room(e, RSP_TFRAME_TSV_SIZE)) return;
	uint8_t *p = e->buf + e->len;
	p[0] = 'V';
	le(p + 1, num, 4);
	le(p + 5, (uint64_t)value, 8);
	e->len += RSP_TFRAME_TSV_SIZE;
	e->last_mem = SIZE_MAX;
}

size_t rsp_tframe_end(struct rsp_tframe_enc *e)
{
	if (e->err) return 0;
	size_t data = e->len - RSP_TFRAME_HDR;
	if (data > UINT32_MAX) {
		e->err = RSP_TRACE_E_SPACE;
		return 0;
	}
	le(e->buf + 2, data, 4);
	return e->len;
}

int rsp_tframe_next(const uint8_t *buf, size_t len, size_t *off,
		    struct rsp_tframe *f, size_t max_size)
{
	if (*off > len || len - *off < RSP_TFRAME_HDR) return 0;
	const uint8_t *p = buf + *off;
	uint64_t data = rd_le(p + 2, 4);
	if (max_size && data > max_size - (max_size < RSP_TFRAME_HDR ? max_size : RSP_TFRAME_HDR))
		return RSP_TRACE_E_FORMAT;
	if (len - *off - RSP_TFRAME_HDR < data) return 0;
	f->tpnum = (unsigned)rd_le(p, 2);
	f->data = p + RSP_TFRAME_HDR;
	f->data_len = (size_t)data;
	f->size = RSP_TFRAME_HDR + (size_t)data;
	f->regs_size = rsp_amd64_regblock_size();
	*off += f->size;
	return 1;
}

int rsp_tframe_block_next(const struct rsp_tframe *f, size_t *boff,
			  struct rsp_tblock *b)
{
	if (*boff >= f->data_len) return 0;
	const uint8_t *p = f->data + *boff;
	size_t left = f->data_len - *boff;
	memset(b, 0, sizeof *b);
	b->kind = (char)p[0];
	switch (p[0]) {
	case 'R': {
		size_t n = f->regs_size;
		if (left - 1 < n) return RSP_TRACE_E_FORMAT;
		b->data = p + 1;
		b->len = n;
		*boff += 1 + n;
		return 1;
	}
	case 'M': {
		if (left < RSP_TFRAME_MEM_HDR) return RSP_TRACE_E_FORMAT;
		size_t n = (size_t)rd_le(p + 9, 2);
		if (left - RSP_TFRAME_MEM_HDR < n) return RSP_TRACE_E_FORMAT;
		b->addr = rd_le(p + 1, 8);
		b->data = p + RSP_TFRAME_MEM_HDR;
		b->len = n;
		*boff += RSP_TFRAME_MEM_HDR + n;
		return 1;
	}
	case 'V':
		if (left < RSP_TFRAME_TSV_SIZE) return RSP_TRACE_E_FORMAT;
		b->num = (uint32_t)rd_le(p + 1, 4);
		b->value = (int64_t)rd_le(p + 5, 8);
		*boff += RSP_TFRAME_TSV_SIZE;
		return 1;
	default:
		return RSP_TRACE_E_FORMAT;
	}
}
