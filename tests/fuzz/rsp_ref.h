/* rsp_ref.h — the original byte-at-a-time RSP codec loops (protocol/
 * rsp_parser.c, rsp_frame.c, rsp_hex.c before the bulk rewrite for issue #6),
 * kept as they were but renamed ref_*, as the reference of the differential
 * tests (tests/unit/proto_parser_diff.c, tests/fuzz/fuzz_parser_diff.c): the
 * fast code must produce the same events, consumed counts, payloads and
 * bytes for every input and every split.  Include from one .c file only.
 */
#ifndef GOTAP_RSP_REF_H
#define GOTAP_RSP_REF_H

#include <string.h>

#include "rsp.h"

enum {
	REF_ST_IDLE = 0,  /* between packets */
	REF_ST_DATA,      /* inside "$...", before '#' */
	REF_ST_ESC,       /* after '}' */
	REF_ST_RLE,       /* after '*': next byte is the repeat count */
	REF_ST_CK1,       /* after '#' */
	REF_ST_CK2,       /* after first checksum digit */
};

static int ref_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static void ref_start_packet(struct rsp_parser *p, bool notification)
{
	p->state = REF_ST_DATA;
	p->len = 0;
	p->sum = 0;
	p->want = 0;
	p->overflow = false;
	p->bad = false;
	p->notification = notification;
	p->prev = -1;
}

static void ref_parser_init(struct rsp_parser *p, uint8_t *buf, size_t cap)
{
	p->buf = buf;
	p->cap = cap;
	ref_start_packet(p, false);
	p->state = REF_ST_IDLE;
}

/* Append one decoded byte, or note the overflow (the packet is still read to
 * its end so the stream stays in sync). */
static void ref_put(struct rsp_parser *p, uint8_t c)
{
	if (p->len < p->cap)
		p->buf[p->len++] = c;
	else
		p->overflow = true;
	p->prev = c;
}

/* The ref_repeat count of run-length encoding: the count byte minus 29 more copies
 * of the previous byte.  '#' and '$' are never counts (they would be framing),
 * and the manual restricts counts to printable characters. */
static void ref_repeat(struct rsp_parser *p, uint8_t c)
{
	if (p->prev < 0 || c < 32 || c > 126) {
		p->bad = true;
		return;
	}
	size_t n = (size_t)(c - 29);
	uint8_t b = (uint8_t)p->prev;
	if (p->len + n > p->cap) {
		while (p->len < p->cap)
			p->buf[p->len++] = b;
		p->overflow = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		p->buf[p->len++] = b;
}

static enum rsp_event ref_finish(struct rsp_parser *p, uint8_t got)
{
	p->state = REF_ST_IDLE;
	if (got != p->sum) return RSP_EV_BAD_CHECKSUM;
	if (p->overflow) return RSP_EV_TOO_LONG;
	if (p->bad) return RSP_EV_BAD_FORMAT;
	return p->notification ? RSP_EV_NOTIFICATION : RSP_EV_PACKET;
}

/* A non-hex checksum digit ends the frame as BAD_CHECKSUM; the byte itself is
 * not consumed, so a '$' that starts the next packet is not lost. */
static size_t ref_bad_digit(struct rsp_parser *p, enum rsp_event *ev, size_t i)
{
	p->state = REF_ST_IDLE;
	*ev = RSP_EV_BAD_CHECKSUM;
	return i;
}

static size_t ref_parser_feed(struct rsp_parser *p, const uint8_t *in, size_t n,
		       enum rsp_event *ev)
{
	*ev = RSP_EV_NONE;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		switch (p->state) {
		case REF_ST_IDLE:
			if (c == '+') { *ev = RSP_EV_ACK; return i + 1; }
			if (c == '-') { *ev = RSP_EV_NAK; return i + 1; }
			if (c == 0x03) { *ev = RSP_EV_INTERRUPT; return i + 1; }
			if (c == '$') ref_start_packet(p, false);
			else if (c == '%') ref_start_packet(p, true);
			/* anything else between packets is noise: ignored */
			break;
		case REF_ST_DATA:
			if (c == '#') { p->state = REF_ST_CK1; break; }
			if (c == '$') { ref_start_packet(p, false); break; } /* resync, as gdb does */
			p->sum = (uint8_t)(p->sum + c);
			if (c == '}') p->state = REF_ST_ESC;
			else if (c == '*') p->state = REF_ST_RLE;
			else ref_put(p, c);
			break;
		case REF_ST_ESC:
		case REF_ST_RLE:
			if (c == '#') { p->bad = true; p->state = REF_ST_CK1; break; }
			if (c == '$') { ref_start_packet(p, false); break; }
			p->sum = (uint8_t)(p->sum + c);
			if (p->state == REF_ST_ESC) ref_put(p, c ^ 0x20);
			else ref_repeat(p, c);
			p->state = REF_ST_DATA;
			break;
		case REF_ST_CK1: {
			int v = ref_hexval(c);
			if (v < 0) return ref_bad_digit(p, ev, i);
			p->want = (uint8_t)(v << 4);
			p->state = REF_ST_CK2;
			break;
		}
		case REF_ST_CK2: {
			int v = ref_hexval(c);
			if (v < 0) return ref_bad_digit(p, ev, i);
			p->want = (uint8_t)(p->want | v);
			*ev = ref_finish(p, p->want);
			return i + 1;
		}
		default:
			p->state = REF_ST_IDLE;
			break;
		}
	}
	return n;
}

/* ---- framing (rsp_frame.c) */

static bool ref_needs_escape(uint8_t c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

static uint8_t ref_checksum(const uint8_t *data, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + data[i]);
	return s;
}

static size_t ref_escape(uint8_t *dst, size_t cap, const uint8_t *data, size_t n,
			 size_t *consumed)
{
	size_t o = 0, i = 0;
	for (; i < n; i++) {
		uint8_t c = data[i];
		if (ref_needs_escape(c)) {
			if (cap - o < 2) break;
			dst[o++] = '}';
			dst[o++] = c ^ 0x20;
		} else {
			if (cap - o < 1) break;
			dst[o++] = c;
		}
	}
	if (consumed) *consumed = i;
	return o;
}

static size_t ref_escape_fit(const uint8_t *data, size_t n, size_t budget)
{
	size_t used = 0, i = 0;
	for (; i < n; i++) {
		size_t w = ref_needs_escape(data[i]) ? 2 : 1;
		if (budget - used < w) break;
		used += w;
	}
	return i;
}

static size_t ref_frame(uint8_t *dst, size_t cap, const uint8_t *payload, size_t n,
			bool notification)
{
	static const char hex[] = "0123456789abcdef";
	if (cap < 4) return 0;
	dst[0] = notification ? '%' : '$';
	size_t used;
	size_t o = ref_escape(dst + 1, cap - 4, payload, n, &used);
	if (used != n) return 0;
	uint8_t s = ref_checksum(dst + 1, o);
	o++;
	dst[o++] = '#';
	dst[o++] = (uint8_t)hex[s >> 4];
	dst[o++] = (uint8_t)hex[s & 15];
	return o;
}

/* ---- hex (rsp_hex.c) */

static size_t ref_hex_encode(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	static const char hexdig[] = "0123456789abcdef";
	if (n > cap / 2) return 0;
	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = hexdig[src[i] >> 4];
		dst[2 * i + 1] = hexdig[src[i] & 15];
	}
	return 2 * n;
}

static long ref_hex_decode(uint8_t *dst, size_t n, const char *src, size_t srclen)
{
	if (srclen / 2 < n) return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = ref_hexval((uint8_t)src[2 * i]), lo = ref_hexval((uint8_t)src[2 * i + 1]);
		if (hi < 0 || lo < 0) return -1;
		dst[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)n;
}

/* ---- the differential checks */

/* Feed data[0..size) to the reference and to the real parser, both with
 * capacity cap (<= 4096) and the same chunking (chunk sizes from a PRNG
 * seeded by seed).  After every call the consumed count, the event and the
 * whole parser state (length, decoded bytes, checksum, flags) must agree.
 * Returns 0 if they always did, else a code saying what differed first. */
static int ref_diff_parse(const uint8_t *data, size_t size, size_t cap, uint32_t seed)
{
	static uint8_t b1[4096], b2[4096];
	struct rsp_parser p, q;
	if (cap > sizeof b1) cap = sizeof b1;
	ref_parser_init(&p, b1, cap);
	rsp_parser_init(&q, b2, cap);
	uint32_t x = seed | 1;
	size_t off = 0;
	while (off < size) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		size_t chunk = (x & 3) == 0 ? size - off : 1 + (x >> 8) % 37;
		if (chunk > size - off) chunk = size - off;
		const uint8_t *in = data + off;
		size_t left = chunk;
		while (left) {
			enum rsp_event e1, e2;
			size_t k1 = ref_parser_feed(&p, in, left, &e1);
			size_t k2 = rsp_parser_feed(&q, in, left, &e2);
			if (k1 != k2) return 1;
			if (e1 != e2) return 2;
			if (p.len != q.len || memcmp(b1, b2, p.len) != 0) return 3;
			if (p.state != q.state || p.sum != q.sum || p.want != q.want ||
			    p.overflow != q.overflow || p.bad != q.bad ||
			    p.notification != q.notification || p.prev != q.prev)
				return 4;
			in += k1;
			left -= k1;
			if (e1 == RSP_EV_NONE) {
				if (left) return 5;
				break;
			}
		}
		off += chunk;
	}
	return 0;
}

/* Escape, escape_fit, frame, checksum and hex encode/decode of data[0..size)
 * against the reference, for several capacities.  Returns 0 or a code. */
static int ref_diff_codec(const uint8_t *data, size_t size)
{
	static uint8_t o1[2 * 4096 + 8], o2[2 * 4096 + 8];
	if (size > 4096) size = 4096;
	if (ref_checksum(data, size) != rsp_checksum(data, size)) return 10;
	const size_t caps[] = { 0, 1, 2, 3, 5, 17, size / 2, size, size + 1, size * 2 + 4 };
	for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
		size_t cap = caps[c] > sizeof o1 ? sizeof o1 : caps[c];
		size_t u1 = 7, u2 = 9;
		size_t w1 = ref_escape(o1, cap, data, size, &u1);
		size_t w2 = rsp_escape(o2, cap, data, size, &u2);
		if (w1 != w2 || u1 != u2 || memcmp(o1, o2, w1) != 0) return 11;
		if (ref_escape_fit(data, size, cap) != rsp_escape_fit(data, size, cap)) return 12;
		w1 = ref_frame(o1, cap, data, size, c & 1);
		w2 = rsp_frame(o2, cap, data, size, c & 1);
		if (w1 != w2 || memcmp(o1, o2, w1) != 0) return 13;
		w1 = ref_hex_encode((char *)o1, cap, data, size);
		w2 = rsp_hex_encode((char *)o2, cap, data, size);
		if (w1 != w2 || memcmp(o1, o2, w1) != 0) return 14;
	}
	for (size_t n = 0; n <= size / 2; n += 1 + n / 3) {
		long r1 = ref_hex_decode(o1, n, (const char *)data, size);
		long r2 = rsp_hex_decode(o2, n, (const char *)data, size);
		if (r1 != r2 || (r1 > 0 && memcmp(o1, o2, (size_t)r1) != 0)) return 15;
	}
	return 0;
}

#endif /* GOTAP_RSP_REF_H */
