/* rsp_stop.c — stop reply packets, both directions.
 *
 * GDB manual E.3 "Stop Reply Packets".  The encoder writes what gdbserver
 * writes (gdbserver/remote-utils.cc prepare_resume_reply), field for field:
 *   T05swbreak:;06:<rbp>;07:<rsp>;10:<rip>;thread:p1a2b.1a2b;core:1;
 *   W03 / W3;process:1a2b (multiprocess)   X09 / X9;process:1a2b
 *   w0;p1a2b.1a2c   N
 * (the reason first, then the expedited registers as 8 little-endian bytes,
 * then thread and core).  The decoder accepts fields in any order and
 * ignores the ones it does not know, as the manual requires.
 */
#include <string.h>

#include "rsp.h"

/* Bounded writer: every put fails softly once the buffer is full. */
struct out {
	char *p;
	size_t cap, len;
	bool full;
};

static void put_bytes(struct out *o, const char *s, size_t n)
{
	if (o->full || o->cap - o->len < n) { o->full = true; return; }
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s) { put_bytes(o, s, strlen(s)); }

static void put_hex(struct out *o, uint64_t v)
{
	char tmp[16];
	size_t k = rsp_fmt_hex_u64(tmp, sizeof tmp, v);
	put_bytes(o, tmp, k);
}

static void put_hex2(struct out *o, unsigned v)   /* "%02x" */
{
	static const char d[] = "0123456789abcdef";
	if (v > 0xff) { put_hex(o, v); return; }
	char t[2] = { d[v >> 4], d[v & 15] };
	put_bytes(o, t, 2);
}

static void put_ptid(struct out *o, const struct rsp_ptid *id, bool mp)
{
	char tmp[48];
	size_t k = rsp_fmt_ptid(tmp, sizeof tmp, id, mp);
	put_bytes(o, tmp, k);
}

static const char *reason_name(enum rsp_stop_reason r)
{
	switch (r) {
	case RSP_REASON_SWBREAK: return "swbreak";
	case RSP_REASON_HWBREAK: return "hwbreak";
	case RSP_REASON_WATCH:   return "watch";
	case RSP_REASON_RWATCH:  return "rwatch";
	case RSP_REASON_AWATCH:  return "awatch";
	case RSP_REASON_LIBRARY: return "library";
	case RSP_REASON_EXEC:    return "exec";
	case RSP_REASON_FORK:    return "fork";
	case RSP_REASON_VFORK:   return "vfork";
	case RSP_REASON_CLONE:   return "clone";
	case RSP_REASON_CREATE:  return "create";
	case RSP_REASON_NONE:    break;
	}
	return NULL;
}

static void put_reason(struct out *o, const struct rsp_stop *st, bool mp)
{
	const char *name = reason_name(st->reason);
	if (!name) return;
	put_str(o, name);
	put_str(o, ":");
	switch (st->reason) {
	case RSP_REASON_WATCH: case RSP_REASON_RWATCH: case RSP_REASON_AWATCH:
		put_hex(o, st->reason_addr);
		break;
	case RSP_REASON_FORK: case RSP_REASON_VFORK: case RSP_REASON_CLONE: {
		/* The new process (fork) or thread (clone): for a fork the new
		 * pid doubles as its first thread's tid. */
		int64_t child = (int64_t)st->reason_addr;
		struct rsp_ptid id = { child, child, true };
		if (st->reason == RSP_REASON_CLONE && st->has_thread)
			id.pid = st->thread.pid;
		put_ptid(o, &id, mp);
		break;
	}
	default:
		break;   /* swbreak, hwbreak, library, create, exec (no path here) */
	}
	put_str(o, ";");
}

size_t rsp_stop_encode(char *dst, size_t cap, const struct rsp_stop *st,
		       bool multiprocess)
{
	struct out o = { dst, cap, 0, false };
	switch (st->kind) {
	case RSP_STOP_SIGNAL:
		put_str(&o, "T");
		put_hex2(&o, (unsigned)st->sig);
		put_reason(&o, st, multiprocess);
		for (unsigned i = 0; i < st->nregs && i < RSP_STOP_MAX_REGS; i++) {
			uint8_t le[8];
			char hex[16];
			for (int b = 0; b < 8; b++)
				le[b] = (uint8_t)(st->regs[i].value >> (8 * b));
			put_hex2(&o, st->regs[i].regno);
			put_str(&o, ":");
			put_bytes(&o, hex, rsp_hex_encode(hex, sizeof hex, le, 8));
			put_str(&o, ";");
		}
		if (st->has_thread) {
			put_str(&o, "thread:");
			put_ptid(&o, &st->thread, multiprocess);
			put_str(&o, ";");
		}
		if (st->core >= 0) {
			put_str(&o, "core:");
			put_hex(&o, (uint64_t)st->core);
			put_str(&o, ";");
		}
		break;
	case RSP_STOP_EXITED:
	case RSP_STOP_TERMINATED: {
		put_str(&o, st->kind == RSP_STOP_EXITED ? "W" : "X");
		unsigned v = st->kind == RSP_STOP_EXITED ? (unsigned)st->exit_code & 0xff
							 : (unsigned)st->sig;
		if (multiprocess) {
			put_hex(&o, v);
			put_str(&o, ";process:");
			put_hex(&o, (uint64_t)st->process);
		} else {
			put_hex2(&o, v);
		}
		break;
	}
	case RSP_STOP_THREAD_EXIT:
		put_str(&o, "w");
		put_hex(&o, (unsigned)st->exit_code & 0xff);
		put_str(&o, ";");
		put_ptid(&o, &st->thread, multiprocess);
		break;
	case RSP_STOP_NO_RESUMED:
		put_str(&o, "N");
		break;
	case RSP_STOP_OUTPUT:
		return 0;   /* 'O' carries text, not a stop: build it with rsp_hex_encode */
	}
	return o.full ? 0 : o.len;
}

/* ------------------------------------------------------------ decoding */

static void stop_clear(struct rsp_stop *st)
{
	memset(st, 0, sizeof *st);
	st->core = -1;
}

static bool is_hex_str(const char *s, size_t n)
{
	if (n == 0) return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static bool key_is(const char *k, size_t kn, const char *name)
{
	size_t n = strlen(name);
	return kn == n && memcmp(k, name, n) == 0;
}

/* Parse the whole of s[0..n) as one hex number. */
static bool whole_hex(const char *s, size_t n, uint64_t *v)
{
	return n > 0 && rsp_parse_hex_u64(s, n, v) == n;
}

static bool whole_ptid(const char *s, size_t n, struct rsp_ptid *id)
{
	return n > 0 && rsp_parse_ptid(s, n, id) == n;
}

/* One "key:value" field of a 'T' reply. */
static int t_field(struct rsp_stop *st, const char *k, size_t kn,
		   const char *v, size_t vn)
{
	uint64_t x;
	struct rsp_ptid id;
	if (is_hex_str(k, kn)) {   /* a register: little-endian target bytes */
		if (!whole_hex(k, kn, &x)) return -1;
		if (vn % 2 || vn == 0) return -1;
		uint8_t le[8] = { 0 };
		size_t nb = vn / 2 > 8 ? 8 : vn / 2;
		if (rsp_hex_decode(le, nb, v, vn) < 0) return -1;
		if (st->nregs < RSP_STOP_MAX_REGS && x <= 0xffff) {
			uint64_t val = 0;
			for (size_t b = 0; b < nb; b++)
				val |= (uint64_t)le[b] << (8 * b);
			st->regs[st->nregs].regno = (unsigned)x;
			st->regs[st->nregs].value = val;
			st->nregs++;
		}
		return 0;
	}
	if (key_is(k, kn, "thread")) {
		if (!whole_ptid(v, vn, &id)) return -1;
		st->thread = id;
		st->has_thread = true;
	} else if (key_is(k, kn, "core")) {
		if (!whole_hex(v, vn, &x) || x > 0x7fffffff) return -1;
		st->core = (int)x;
	} else if (key_is(k, kn, "watch") || key_is(k, kn, "rwatch") || key_is(k, kn, "awatch")) {
		if (!whole_hex(v, vn, &x)) return -1;
		st->reason = k[0] == 'w' ? RSP_REASON_WATCH
			   : k[0] == 'r' ? RSP_REASON_RWATCH : RSP_REASON_AWATCH;
		st->reason_addr = x;
	} else if (key_is(k, kn, "swbreak")) {
		st->reason = RSP_REASON_SWBREAK;
	} else if (key_is(k, kn, "hwbreak")) {
		st->reason = RSP_REASON_HWBREAK;
	} else if (key_is(k, kn, "library")) {
		st->reason = RSP_REASON_LIBRARY;
	} else if (key_is(k, kn, "create")) {
		st->reason = RSP_REASON_CREATE;
	} else if (key_is(k, kn, "exec")) {
		st->reason = RSP_REASON_EXEC;   /* value: hex path, not kept */
	} else if (key_is(k, kn, "fork") || key_is(k, kn, "vfork") || key_is(k, kn, "clone")) {
		if (!whole_ptid(v, vn, &id)) return -1;
		st->reason = k[0] == 'f' ? RSP_REASON_FORK
			   : k[0] == 'v' ? RSP_REASON_VFORK : RSP_REASON_CLONE;
		st->reason_addr = (uint64_t)(st->reason == RSP_REASON_CLONE || !id.has_pid
					     ? id.tid : id.pid);
	}
	/* anything else (replaylog, vforkdone, syscall_entry, ...) is ignored */
	return 0;
}

/* ";process:pid" after W/X. */
static int wx_tail(struct rsp_stop *st, const char *s, size_t n)
{
	static const char key[] = ";process:";
	uint64_t x;
	if (n == 0) return 0;
	if (n < sizeof key - 1 || memcmp(s, key, sizeof key - 1) != 0) return -1;
	if (!whole_hex(s + sizeof key - 1, n - (sizeof key - 1), &x) || x > INT64_MAX)
		return -1;
	st->process = (int64_t)x;
	return 0;
}

int rsp_stop_decode(const char *src, size_t len, struct rsp_stop *out)
{
	struct rsp_stop st;
	uint64_t x;
	uint8_t sigbyte;
	size_t k;
	stop_clear(&st);
	if (len == 0) return -1;
	const char *s = src + 1;
	size_t n = len - 1;
	switch (src[0]) {
	case 'S':
	case 'T':
		st.kind = RSP_STOP_SIGNAL;
		if (n < 2 || rsp_hex_decode(&sigbyte, 1, s, 2) < 0) return -1;
		st.sig = sigbyte;
		s += 2; n -= 2;
		if (src[0] == 'S') {
			if (n) return -1;
			break;
		}
		while (n > 0) {
			const char *colon = memchr(s, ':', n);
			if (!colon) return -1;
			size_t kn = (size_t)(colon - s);
			const char *v = colon + 1;
			size_t rest = n - kn - 1;
			const char *semi = memchr(v, ';', rest);
			size_t vn = semi ? (size_t)(semi - v) : rest;
			if (t_field(&st, s, kn, v, vn) < 0) return -1;
			size_t adv = kn + 1 + vn + (semi ? 1 : 0);
			s += adv; n -= adv;
		}
		break;
	case 'W':
	case 'X':
		st.kind = src[0] == 'W' ? RSP_STOP_EXITED : RSP_STOP_TERMINATED;
		k = rsp_parse_hex_u64(s, n, &x);
		if (k == 0 || x > 0xff) return -1;
		if (src[0] == 'W') st.exit_code = (int)x;
		else st.sig = (int)x;
		if (wx_tail(&st, s + k, n - k) < 0) return -1;
		break;
	case 'w':
		st.kind = RSP_STOP_THREAD_EXIT;
		k = rsp_parse_hex_u64(s, n, &x);
		if (k == 0 || x > 0xff || k >= n || s[k] != ';') return -1;
		st.exit_code = (int)x;
		if (!whole_ptid(s + k + 1, n - k - 1, &st.thread)) return -1;
		st.has_thread = true;
		break;
	case 'N':
		st.kind = RSP_STOP_NO_RESUMED;
		if (n) return -1;
		break;
	case 'O':
		st.kind = RSP_STOP_OUTPUT;
		if (n % 2 || (n && !is_hex_str(s, n))) return -1;
		break;
	default:
		return -1;
	}
	*out = st;
	return 0;
}
