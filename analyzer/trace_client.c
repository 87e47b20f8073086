/* trace_client.c — GDB tracepoint packets and the streaming trace-buffer
 * reader over rspc (see trace_client.h).
 *
 * Packet forms as gdb (remote.c, download_tracepoint) sends them:
 *	QTDP:<n>:<addr>:E:0:<pass>[:X<len>,<cond hex>][-]
 *	QTDP:-<n>:<addr>:<action>[-]       one action per packet:
 *	    R<mask hex, MSB first>  M<basereg|-1>,<offset>,<len>  X<len>,<hex>
 * every number hex.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tc_hex.h"
#include "trace_client.h"

bool tc_supported(const struct rspc *c)
{
	return rspc_has_feature(c, "ConditionalTracepoints");
}

/* Send pkt, expect "OK".  0; 1 for an empty reply (the stub does not know
 * the packet) when empty_ok; -1 with the reason in rspc_error. */
static int request_ok(struct rspc *c, const char *pkt, const char *what, bool empty_ok)
{
	char reply[256];
	long n = rspc_request(c, pkt, reply, sizeof reply);
	if (n < 0)
		return -1;
	if (n == 2 && memcmp(reply, "OK", 2) == 0)
		return 0;
	if (n == 0)
		return empty_ok ? 1 : rspc_fail_msg(c, "%s: not supported by the stub", what);
	return rspc_fail_msg(c, "%s: the stub answered %.40s", what, reply);
}

static int ok_or_fail(struct rspc *c, const char *pkt, const char *what)
{
	return request_ok(c, pkt, what, false);
}

int tc_init(struct rspc *c)
{
	return ok_or_fail(c, "QTinit", "QTinit");
}

int tc_define_tsv(struct rspc *c, unsigned num, int64_t initial, const char *name)
{
	char pkt[256];
	int k = snprintf(pkt, sizeof pkt, "QTDV:%x:%016" PRIx64 ":0:", num, (uint64_t)initial);
	if (name != NULL) {
		size_t nl = strlen(name);
		if (2 * nl + (size_t)k + 1 > sizeof pkt)
			return rspc_fail_msg(c, "QTDV: name too long");
		rsp_hex_encode(pkt + k, sizeof pkt - (size_t)k, (const uint8_t *)name, nl);
		pkt[k + 2 * nl] = 0;
	}
	return ok_or_fail(c, pkt, "QTDV");
}

long tc_format_qtdp(const struct tc_tracepoint *tp, unsigned i, char *dst, size_t cap)
{
	size_t k;
	int w;
	if (cap == 0)
		return -1;
	if (i > tp->nacts)
		return 0;
	bool more = i < tp->nacts;
	if (i == 0) {
		w = snprintf(dst, cap, "QTDP:%x:%016" PRIx64 ":%c:0:%" PRIx64, tp->num, tp->addr,
			     tp->enabled ? 'E' : 'D', tp->pass);
		if (w < 0 || (size_t)w >= cap)
			return -1;
		k = (size_t)w;
		if (tp->cond != NULL && tp->cond_len > 0) {
			w = snprintf(dst + k, cap - k, ":X%zx,", tp->cond_len);
			if (w < 0 || (size_t)w >= cap - k || 2 * tp->cond_len + 2 > cap - k - (size_t)w)
				return -1;
			k += (size_t)w;
			k += rsp_hex_encode(dst + k, cap - k, tp->cond, tp->cond_len);
		}
	} else {
		const struct tc_action *a = &tp->acts[i - 1];
		w = snprintf(dst, cap, "QTDP:-%x:%016" PRIx64 ":", tp->num, tp->addr);
		if (w < 0 || (size_t)w >= cap)
			return -1;
		k = (size_t)w;
		switch (a->kind) {
		case 'R':
			w = snprintf(dst + k, cap - k, "R%016" PRIx64, a->mask);
			break;
		case 'M':
			if (a->basereg < 0)
				w = snprintf(dst + k, cap - k, "M-1,%" PRIx64 ",%" PRIx64, a->offset, a->len);
			else
				w = snprintf(dst + k, cap - k, "M%x,%" PRIx64 ",%" PRIx64,
					     (unsigned)a->basereg, a->offset, a->len);
			break;
		case 'X':
			w = snprintf(dst + k, cap - k, "X%zx,", a->code_len);
			if (w >= 0 && (size_t)w < cap - k && 2 * a->code_len + 2 <= cap - k - (size_t)w) {
				k += (size_t)w;
				w = (int)rsp_hex_encode(dst + k, cap - k, a->code, a->code_len);
			} else {
				w = -1;
			}
			break;
		default:
			return -1;
		}
		if (w < 0 || (size_t)w >= cap - k)
			return -1;
		k += (size_t)w;
	}
	if (more) {
		if (k + 2 > cap)
			return -1;
		dst[k++] = '-';
	}
	dst[k] = 0;
	return (long)k;
}

int tc_define(struct rspc *c, const struct tc_tracepoint *tp)
{
	size_t cap = rspc_packet_size(c) + 64;
	char *pkt = malloc(cap);
	if (pkt == NULL)
		return rspc_fail_msg(c, "out of memory");
	int rc = 0;
	for (unsigned i = 0; rc == 0; i++) {
		long n = tc_format_qtdp(tp, i, pkt, cap);
		if (n == 0)
			break;
		if (n < 0 || (size_t)n > rspc_packet_size(c)) {
			rc = rspc_fail_msg(c, "QTDP: tracepoint %u does not fit in a packet", tp->num);
			break;
		}
		rc = ok_or_fail(c, pkt, "QTDP");
	}
	free(pkt);
	return rc;
}

int tc_buffer_size(struct rspc *c, uint64_t size)
{
	char pkt[64];
	snprintf(pkt, sizeof pkt, "QTBuffer:size:%" PRIx64, size);
	return request_ok(c, pkt, "QTBuffer:size", true);
}

int tc_stream_mode(struct rspc *c)
{
	char reply[256];
	long n = rspc_request(c, "QTBuffer:stream:1", reply, sizeof reply);
	if (n < 0)
		return -1;
	return n == 2 && memcmp(reply, "OK", 2) == 0 ? 0 : 1;
}

int tc_start(struct rspc *c)
{
	return ok_or_fail(c, "QTStart", "QTStart");
}

int tc_stop(struct rspc *c)
{
	return ok_or_fail(c, "QTStop", "QTStop");
}

int tc_status(struct rspc *c, struct rsp_tstatus *st, char *text, size_t cap)
{
	char reply[1024];
	long n = rspc_request(c, "qTStatus", reply, sizeof reply);
	if (n < 0)
		return -1;
	if (n == 0)
		return rspc_fail_msg(c, "qTStatus: not supported by the stub");
	if (rsp_tstatus_parse(reply, (size_t)n, st) != 0)
		return rspc_fail_msg(c, "qTStatus: cannot parse \"%.40s\"", reply);
	if (cap > 0) {
		size_t k = st->error ? st->error_len / 2 : 0;
		if (k > cap - 1)
			k = cap - 1;
		if (k == 0 || rsp_hex_decode((uint8_t *)text, k, st->error, 2 * k) < 0)
			k = 0;
		text[k] = 0;
	}
	st->error = NULL;   /* it pointed into this function's buffer */
	st->error_len = 0;
	return 0;
}

int tc_get_tsv(struct rspc *c, unsigned num, int64_t *val)
{
	char pkt[32], reply[64];
	snprintf(pkt, sizeof pkt, "qTV:%x", num);
	long n = rspc_request(c, pkt, reply, sizeof reply);
	if (n < 0)
		return -1;
	if (n == 1 && reply[0] == 'U')
		return 0;
	uint64_t v;
	if (n < 2 || reply[0] != 'V' || rsp_parse_hex_u64(reply + 1, (size_t)n - 1, &v) != (size_t)n - 1)
		return rspc_fail_msg(c, "qTV: unexpected reply \"%.40s\"", reply);
	*val = (int64_t)v;
	return 1;
}

/* ------------------------------------------------------------ the stream */

#define TC_MAX_FRAME (1u << 20)   /* no frame of ours comes near this */

int tc_stream_init(struct tc_stream *s, struct rspc *c)
{
	memset(s, 0, sizeof *s);
	s->c = c;
	size_t ps = rspc_packet_size(c);
	/* the reply is hex: two characters a byte, plus framing */
	s->max_req = ps > 128 ? (ps - 64) / 2 : 32;
	s->max_frame = TC_MAX_FRAME;
	s->cap = s->max_req + s->max_frame;
	s->buf = malloc(s->cap);
	if (s->buf == NULL) {
		tc_stream_free(s);
		return rspc_fail_msg(c, "out of memory");
	}
	return 0;
}

void tc_stream_free(struct tc_stream *s)
{
	free(s->buf);
	s->buf = NULL;
}

/* Make room for n more bytes at buf[len]. */
static int room(struct tc_stream *s, size_t n)
{
	if (s->pos > 0) {
		memmove(s->buf, s->buf + s->pos, s->len - s->pos);
		s->len -= s->pos;
		s->pos = 0;
	}
	if (s->len + n <= s->cap)
		return 0;
	size_t ncap = s->cap;
	while (ncap < s->len + n)
		ncap *= 2;
	uint8_t *nb = realloc(s->buf, ncap);
	if (nb == NULL)
		return -1;
	s->buf = nb;
	s->cap = ncap;
	return 0;
}

int tc_stream_feed(struct tc_stream *s, const uint8_t *data, size_t n)
{
	if (room(s, n) < 0)
		return rspc_fail_msg(s->c, "out of memory");
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->off += n;
	s->bytes += n;
	return 0;
}

long tc_stream_fill(struct tc_stream *s)
{
	char pkt[64];
	snprintf(pkt, sizeof pkt, "qTBuffer:%" PRIx64 ",%zx", s->off, s->max_req);
	s->requests++;
	const uint8_t *r;   /* in the client's receive buffer until the next request */
	long n = rspc_request_view(s->c, pkt, &r);
	if (n < 0)
		return -1;
	if (n == 1 && r[0] == 'l') {
		s->empty_requests++;
		return 0;
	}
	if (n == 0)
		return rspc_fail_msg(s->c, "qTBuffer: not supported by the stub");
	if (r[0] == 'E' && (n == 3 || (n > 1 && r[1] == '.')))
		return rspc_fail_msg(s->c, "qTBuffer:%" PRIx64 ": the stub answered %.*s", s->off,
				     n < 40 ? (int)n : 40, (const char *)r);
	if (n % 2 != 0 || (size_t)n / 2 > s->max_req)
		return rspc_fail_msg(s->c, "qTBuffer: unexpected reply of %ld characters", n);
	size_t k = (size_t)n / 2;
	if (room(s, k) < 0)
		return rspc_fail_msg(s->c, "out of memory");
	if (tc_unhex(s->buf + s->len, (const char *)r, k) < 0)
		return rspc_fail_msg(s->c, "qTBuffer: reply is not hex");
	s->len += k;
	s->off += k;
	s->bytes += k;
	return (long)k;
}

int tc_stream_next(struct tc_stream *s, struct rsp_tframe *f)
{
	size_t off = s->pos;
	int r = rsp_tframe_next(s->buf, s->len, &off, f, s->max_frame);
	if (r < 0)
		return rspc_fail_msg(s->c, "trace buffer stream: a frame of more than %zu bytes at offset %" PRIu64,
				     s->max_frame, s->off - (s->len - s->pos));
	if (r == 0)
		return 0;
	s->pos = off;
	s->frames++;
	return 1;
}
