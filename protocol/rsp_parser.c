/* rsp_parser.c — the incremental receive state machine of the RSP codec.
 *
 * Bytes arrive in any split (one at a time, or several packets at once); the
 * parser decodes '}' escapes and '*' run-length encoding straight into the
 * caller's buffer, never past its capacity, and reports one event per call.
 * GDB manual, E.1 "Overview" (framing, acks, escapes, run-length encoding) and
 * E.9 "Interrupts" (the 0x03 byte).
 *
 * Speed (issue #6): inside a packet the plain bytes between two special ones
 * ('#', '$', '}', '*') are found, summed and copied in bulk (rsp_scan.h);
 * only the special bytes go through the state machine.  The events, consumed
 * counts and payloads are exactly those of the original byte-at-a-time
 * machine, which tests/fuzz/rsp_parser_ref.h keeps as the reference of a
 * differential test and fuzz target.
 */
#include <string.h>

#include "rsp.h"
#include "rsp_scan.h"

enum {
	ST_IDLE = 0,  /* between packets */
	ST_DATA,      /* inside "$...", before '#' */
	ST_ESC,       /* after '}' */
	ST_RLE,       /* after '*': next byte is the repeat count */
	ST_CK1,       /* after '#' */
	ST_CK2,       /* after first checksum digit */
};

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static void start_packet(struct rsp_parser *p, bool notification)
{
	p->state = ST_DATA;
	p->len = 0;
	p->sum = 0;
	p->want = 0;
	p->overflow = false;
	p->bad = false;
	p->notification = notification;
	p->prev = -1;
}

void rsp_parser_init(struct rsp_parser *p, uint8_t *buf, size_t cap)
{
	p->buf = buf;
	p->cap = cap;
	start_packet(p, false);
	p->state = ST_IDLE;
}

/* Append one decoded byte, or note the overflow (the packet is still read to
 * its end so the stream stays in sync). */
static void put(struct rsp_parser *p, uint8_t c)
{
	if (p->len < p->cap)
		p->buf[p->len++] = c;
	else
		p->overflow = true;
	p->prev = c;
}

/* The repeat count of run-length encoding: the count byte minus 29 more copies
 * of the previous byte.  '#' and '$' are never counts (they would be framing),
 * and the manual restricts counts to printable characters. */
static void repeat(struct rsp_parser *p, uint8_t c)
{
	if (p->prev < 0 || c < 32 || c > 126) {
		p->bad = true;
		return;
	}
	size_t n = (size_t)(c - 29);
	uint8_t b = (uint8_t)p->prev;
	if (p->len + n > p->cap) {
		if (p->cap > p->len) memset(p->buf + p->len, b, p->cap - p->len);
		p->len = p->cap;
		p->overflow = true;
		return;
	}
	memset(p->buf + p->len, b, n);
	p->len += n;
}

/* Append a run of k >= 1 plain bytes: what k calls of put() would do. */
static void put_run(struct rsp_parser *p, const uint8_t *s, size_t k)
{
	size_t room = p->cap - p->len;
	size_t c = k < room ? k : room;
	p->sum = (uint8_t)(p->sum + rsp_sum_bytes(s, k));
	if (c) {
		memcpy(p->buf + p->len, s, c);
		p->len += c;
	}
	if (k > room) p->overflow = true;
	p->prev = s[k - 1];
}

static enum rsp_event finish(struct rsp_parser *p, uint8_t got)
{
	p->state = ST_IDLE;
	if (got != p->sum) return RSP_EV_BAD_CHECKSUM;
	if (p->overflow) return RSP_EV_TOO_LONG;
	if (p->bad) return RSP_EV_BAD_FORMAT;
	return p->notification ? RSP_EV_NOTIFICATION : RSP_EV_PACKET;
}

/* A non-hex checksum digit ends the frame as BAD_CHECKSUM; the byte itself is
 * not consumed, so a '$' that starts the next packet is not lost. */
static size_t bad_digit(struct rsp_parser *p, enum rsp_event *ev, size_t i)
{
	p->state = ST_IDLE;
	*ev = RSP_EV_BAD_CHECKSUM;
	return i;
}

size_t rsp_parser_feed(struct rsp_parser *p, const uint8_t *in, size_t n,
		       enum rsp_event *ev)
{
	*ev = RSP_EV_NONE;
	size_t i = 0;
	while (i < n) {
		if (p->state == ST_DATA) {
			/* the plain run up to the next special byte, in bulk */
			size_t k = rsp_find_special(in + i, n - i);
			if (k) {
				put_run(p, in + i, k);
				i += k;
				if (i == n) break;
			}
			uint8_t c = in[i++];
			if (c == '#') p->state = ST_CK1;
			else if (c == '$') start_packet(p, false);   /* resync, as gdb does */
			else {
				p->sum = (uint8_t)(p->sum + c);
				p->state = c == '}' ? ST_ESC : ST_RLE;
			}
			continue;
		}
		uint8_t c = in[i];
		switch (p->state) {
		case ST_IDLE:
			if (c == '+') { *ev = RSP_EV_ACK; return i + 1; }
			if (c == '-') { *ev = RSP_EV_NAK; return i + 1; }
			if (c == 0x03) { *ev = RSP_EV_INTERRUPT; return i + 1; }
			if (c == '$') start_packet(p, false);
			else if (c == '%') start_packet(p, true);
			/* anything else between packets is noise: ignored */
			break;
		case ST_ESC:
		case ST_RLE:
			if (c == '#') { p->bad = true; p->state = ST_CK1; break; }
			if (c == '$') { start_packet(p, false); break; }
			p->sum = (uint8_t)(p->sum + c);
			if (p->state == ST_ESC) put(p, c ^ 0x20);
			else repeat(p, c);
			p->state = ST_DATA;
			break;
		case ST_CK1: {
			int v = hexval(c);
			if (v < 0) return bad_digit(p, ev, i);
			p->want = (uint8_t)(v << 4);
			p->state = ST_CK2;
			break;
		}
		case ST_CK2: {
			int v = hexval(c);
			if (v < 0) return bad_digit(p, ev, i);
			p->want = (uint8_t)(p->want | v);
			*ev = finish(p, p->want);
			return i + 1;
		}
		default:
			p->state = ST_IDLE;
			break;
		}
		i++;
	}
	return n;
}
