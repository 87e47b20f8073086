/* proto_frame.c — unit tests of RSP framing: the incremental parser (every
 * split, acks, interrupts, escapes, run-length encoding, malformed frames,
 * capacity limits) and the framing/escaping/checksum encoders. */
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "rsp.h"

#define CAP 256

/* Feed all of in[0..n) in chunks of `step` bytes (0 = all at once) and record
 * the events (and the payload of the last packet-like event). */
struct run {
	enum rsp_event ev[32];
	int nev;
	uint8_t payload[CAP];
	size_t plen;
};

static void feed_all(struct rsp_parser *p, const void *data, size_t n, size_t step,
		     struct run *r)
{
	const uint8_t *in = data;
	memset(r, 0, sizeof *r);
	size_t off = 0;
	while (off < n) {
		size_t chunk = step ? step : n - off;
		if (chunk > n - off) chunk = n - off;
		size_t done = 0;
		while (done < chunk) {
			enum rsp_event ev;
			size_t k = rsp_parser_feed(p, in + off + done, chunk - done, &ev);
			done += k;
			if (ev == RSP_EV_NONE) break;
			if (r->nev < 32) r->ev[r->nev++] = ev;
			if (ev == RSP_EV_PACKET || ev == RSP_EV_NOTIFICATION || ev == RSP_EV_TOO_LONG) {
				memcpy(r->payload, p->buf, p->len);
				r->plen = p->len;
			}
		}
		off += chunk;
	}
}

static struct run one(const char *s, size_t cap)
{
	static uint8_t buf[CAP];
	struct rsp_parser p;
	struct run r;
	rsp_parser_init(&p, buf, cap);
	feed_all(&p, s, strlen(s), 0, &r);
	return r;
}

static bool is_packet(struct run r, const char *want)
{
	return r.nev == 1 && r.ev[0] == RSP_EV_PACKET && r.plen == strlen(want) &&
	       memcmp(r.payload, want, r.plen) == 0;
}

static void test_basic(void)
{
	CHECK("parser: simple packet", is_packet(one("$g#67", CAP), "g"));
	CHECK("parser: empty packet", is_packet(one("$#00", CAP), ""));
	CHECK("parser: uppercase checksum digits", is_packet(one("$qC#B4", CAP), "qC"));
	struct run r = one("+-\x03", CAP);
	CHECK("parser: ack, nak, interrupt", r.nev == 3 && r.ev[0] == RSP_EV_ACK &&
	      r.ev[1] == RSP_EV_NAK && r.ev[2] == RSP_EV_INTERRUPT);
	r = one("xyz\r\n$g#67", CAP);
	CHECK("parser: noise between packets ignored", is_packet(r, "g"));
	r = one("%Stop:T05#99", CAP);
	CHECK("parser: notification", r.nev == 1 && r.ev[0] == RSP_EV_NOTIFICATION &&
	      r.plen == 8 && memcmp(r.payload, "Stop:T05", 8) == 0);
	r = one("$m0,4#fe", CAP);
	CHECK("parser: bad checksum", r.nev == 1 && r.ev[0] == RSP_EV_BAD_CHECKSUM);
	r = one("$g#6z$g#67", CAP);
	CHECK("parser: non-hex checksum digit, next packet kept",
	      r.nev == 2 && r.ev[0] == RSP_EV_BAD_CHECKSUM && r.ev[1] == RSP_EV_PACKET);
	r = one("$g#$g#67", CAP);
	CHECK("parser: '$' as checksum digit starts the next packet",
	      r.nev == 2 && r.ev[0] == RSP_EV_BAD_CHECKSUM && r.ev[1] == RSP_EV_PACKET);
	r = one("$abc$g#67", CAP);
	CHECK("parser: '$' inside a packet restarts it", is_packet(r, "g"));
	r = one("$\x03#03", CAP);
	CHECK("parser: 0x03 inside a packet is data", is_packet(r, "\x03"));
	r = one("+$OK#9a+", CAP);
	CHECK("parser: ack packet ack", r.nev == 3 && r.ev[0] == RSP_EV_ACK &&
	      r.ev[1] == RSP_EV_PACKET && r.ev[2] == RSP_EV_ACK);
}

/* Frame a payload with our encoder, adding a run-length sequence by hand. */
static void test_escape_rle(void)
{
	/* Frames are built with their correct checksum: "}]" is '}' (0x5d ^ 0x20). */
	uint8_t f[64];
	struct run r;
	const char *raw = "a}\x03" "b}\x04" "c}]";   /* escapes of '#', '$', '}' */
	size_t n = strlen(raw);
	f[0] = '$';
	memcpy(f + 1, raw, n);
	uint8_t s = rsp_checksum(f + 1, n);
	snprintf((char *)f + 1 + n, 4, "#%02x", s);
	r = one((char *)f, CAP);
	CHECK("parser: escapes decoded", is_packet(r, "a#b$c}"));

	/* RLE: "0* " = '0' + 3 more = 4 zeros (' ' is 32, 32-29 = 3) */
	const char *rle = "0* x";
	n = strlen(rle);
	memcpy(f + 1, rle, n);
	s = rsp_checksum(f + 1, n);
	snprintf((char *)f + 1 + n, 4, "#%02x", s);
	r = one((char *)f, CAP);
	CHECK("parser: rle 4 zeros", is_packet(r, "0000x"));

	const char *rle2 = "ab*\"*\"";    /* '"' = 34 -> 5 more, twice: b x 11 */
	n = strlen(rle2);
	memcpy(f + 1, rle2, n);
	s = rsp_checksum(f + 1, n);
	snprintf((char *)f + 1 + n, 4, "#%02x", s);
	r = one((char *)f, CAP);
	CHECK("parser: rle repeated twice", is_packet(r, "abbbbbbbbbbb"));

	const char *rle3 = "}]*!";       /* escaped '}' then 4 more of it */
	n = strlen(rle3);
	memcpy(f + 1, rle3, n);
	s = rsp_checksum(f + 1, n);
	snprintf((char *)f + 1 + n, 4, "#%02x", s);
	r = one((char *)f, CAP);
	CHECK("parser: rle of an escaped byte", is_packet(r, "}}}}}"));

	const char *max = "z*~";         /* '~' 126 -> 97 more */
	n = strlen(max);
	memcpy(f + 1, max, n);
	s = rsp_checksum(f + 1, n);
	snprintf((char *)f + 1 + n, 4, "#%02x", s);
	r = one((char *)f, CAP);
	CHECK("parser: rle max count 97", r.nev == 1 && r.ev[0] == RSP_EV_PACKET && r.plen == 98);

	static const char *bad[] = {
		"*!",       /* nothing to repeat */
		"a*\x1f",   /* count below printable */
		"a*\x7f",   /* count above 126 */
		"a*",       /* '*' then '#' */
		"a}",       /* '}' then '#' */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		n = strlen(bad[i]);
		memcpy(f + 1, bad[i], n);
		s = rsp_checksum(f + 1, n);
		snprintf((char *)f + 1 + n, 4, "#%02x", s);
		r = one((char *)f, CAP);
		char name[64];
		snprintf(name, sizeof name, "parser: bad format %zu", i);
		CHECK(name, r.nev == 1 && r.ev[0] == RSP_EV_BAD_FORMAT);
	}
	/* '$' as a count restarts (resync), '#' as count ends the frame as bad */
	r = one("$a*$g#67", CAP);
	CHECK("parser: '$' after '*' resyncs", is_packet(r, "g"));
}

static void test_capacity(void)
{
	uint8_t buf[8], guard[8];
	memset(guard, 0xAA, sizeof guard);
	struct { uint8_t b[4]; uint8_t g[8]; } mem;
	memset(&mem, 0xAA, sizeof mem);
	struct rsp_parser p;
	struct run r;
	rsp_parser_init(&p, mem.b, 4);
	feed_all(&p, "$abcd#8a", 8, 0, &r);
	CHECK("parser: exactly cap fits", r.nev == 1 && r.ev[0] == RSP_EV_PACKET && r.plen == 4);
	feed_all(&p, "$abcde#ef", 9, 0, &r);
	CHECK("parser: cap+1 is TOO_LONG", r.nev == 1 && r.ev[0] == RSP_EV_TOO_LONG && r.plen == 4);
	CHECK("parser: no write past cap", memcmp(mem.g, guard, 8) == 0);
	/* RLE that expands past cap */
	uint8_t f[32] = "$a*~";
	uint8_t s = rsp_checksum(f + 1, 3);
	snprintf((char *)f + 4, 4, "#%02x", s);
	feed_all(&p, f, 7, 1, &r);
	CHECK("parser: rle past cap is TOO_LONG", r.nev == 1 && r.ev[0] == RSP_EV_TOO_LONG);
	CHECK("parser: rle no write past cap", memcmp(mem.g, guard, 8) == 0);
	/* After an overflow the parser still works */
	feed_all(&p, "$g#67", 5, 0, &r);
	CHECK("parser: usable after TOO_LONG", r.nev == 1 && r.ev[0] == RSP_EV_PACKET && r.plen == 1);
	/* zero capacity */
	rsp_parser_init(&p, buf, 0);
	feed_all(&p, "$#00$g#67", 9, 0, &r);
	CHECK("parser: cap 0 empty ok, other TOO_LONG", r.nev == 2 &&
	      r.ev[0] == RSP_EV_PACKET && r.ev[1] == RSP_EV_TOO_LONG);
	/* bad checksum wins over too long (resend is the right answer) */
	rsp_parser_init(&p, mem.b, 4);
	feed_all(&p, "$abcdefgh#00", 12, 0, &r);
	CHECK("parser: bad checksum before too long", r.nev == 1 && r.ev[0] == RSP_EV_BAD_CHECKSUM);
}

/* Every split of a stream of several frames gives the same events. */
static void test_splits(void)
{
	uint8_t stream[512];
	size_t n = 0;
	const char *pkts[] = { "qSupported:multiprocess+;swbreak+", "T05swbreak:;thread:p1.1;",
			       "X#$}*", "", "m4000,10" };
	stream[n++] = '+';
	for (size_t i = 0; i < 5; i++) {
		n += rsp_frame(stream + n, sizeof stream - n, (const uint8_t *)pkts[i],
			       strlen(pkts[i]), i == 1);
		stream[n++] = i == 2 ? 0x03 : '-';
	}
	uint8_t buf[CAP];
	struct rsp_parser p;
	bool ok = true;
	for (size_t step = 1; step <= n && ok; step++) {
		rsp_parser_init(&p, buf, CAP);
		size_t off = 0, k = 0;
		int pk = 0, evs = 0;
		while (off < n) {
			size_t chunk = step < n - off ? step : n - off;
			size_t done = 0;
			while (done < chunk) {
				enum rsp_event ev;
				k = rsp_parser_feed(&p, stream + off + done, chunk - done, &ev);
				done += k;
				if (ev == RSP_EV_NONE) break;
				evs++;
				if (ev == RSP_EV_PACKET || ev == RSP_EV_NOTIFICATION) {
					if (pk >= 5 || p.len != strlen(pkts[pk]) ||
					    memcmp(p.buf, pkts[pk], p.len) ||
					    (ev == RSP_EV_NOTIFICATION) != (pk == 1))
						ok = false;
					pk++;
				}
			}
			off += chunk;
		}
		if (pk != 5 || evs != 11) ok = false;
	}
	CHECK("parser: every chunk size gives the same packets", ok);

	/* byte-at-a-time returns one byte per call and reports only at '#xx' end */
	rsp_parser_init(&p, buf, CAP);
	const char *g = "$g#67";
	enum rsp_event ev;
	int fired_at = -1;
	for (int i = 0; i < 5; i++) {
		size_t k = rsp_parser_feed(&p, (const uint8_t *)g + i, 1, &ev);
		if (k != 1) fired_at = -2;
		if (ev != RSP_EV_NONE && fired_at == -1) fired_at = i;
	}
	CHECK("parser: byte-at-a-time event on last checksum digit", fired_at == 4);
}

static void test_frame(void)
{
	uint8_t out[64];
	size_t n = rsp_frame(out, sizeof out, (const uint8_t *)"OK", 2, false);
	CHECK("frame: $OK#9a", n == 6 && memcmp(out, "$OK#9a", 6) == 0);
	n = rsp_frame(out, sizeof out, (const uint8_t *)"", 0, false);
	CHECK("frame: empty", n == 4 && memcmp(out, "$#00", 4) == 0);
	n = rsp_frame(out, sizeof out, (const uint8_t *)"Stop:T05", 8, true);
	CHECK("frame: notification", n == 12 && memcmp(out, "%Stop:T05#99", 12) == 0);
	n = rsp_frame(out, sizeof out, (const uint8_t *)"#$}*", 4, false);
	CHECK("frame: escapes", n == 12 && memcmp(out, "$}\x03}\x04}]}\x0a#", 10) == 0);
	CHECK("frame: checksum over escaped bytes",
	      out[10] == "0123456789abcdef"[rsp_checksum(out + 1, 8) >> 4]);
	CHECK("frame: too small", rsp_frame(out, 5, (const uint8_t *)"OK", 2, false) == 0);
	CHECK("frame: exactly fits", rsp_frame(out, 6, (const uint8_t *)"OK", 2, false) == 6);
	CHECK("frame: escape does not fit", rsp_frame(out, 5, (const uint8_t *)"#", 1, false) == 0);
	CHECK("checksum: g = 0x67", rsp_checksum((const uint8_t *)"g", 1) == 0x67);
	CHECK("checksum: wraps mod 256", rsp_checksum((const uint8_t *)"\xff\x02", 2) == 1);

	size_t used;
	n = rsp_escape(out, 3, (const uint8_t *)"a#b", 3, &used);
	CHECK("escape: stops before a split escape", n == 3 && used == 2 &&
	      memcmp(out, "a}\x03", 3) == 0);
	n = rsp_escape(out, 2, (const uint8_t *)"a#b", 3, &used);
	CHECK("escape: never half an escape", n == 1 && used == 1);
	n = rsp_escape(out, 0, (const uint8_t *)"a", 1, &used);
	CHECK("escape: cap 0", n == 0 && used == 0);

	CHECK("escape_fit: plain", rsp_escape_fit((const uint8_t *)"abc", 3, 2) == 2);
	CHECK("escape_fit: escapes count double", rsp_escape_fit((const uint8_t *)"#$a", 3, 4) == 2);
	CHECK("escape_fit: pair not split", rsp_escape_fit((const uint8_t *)"a}", 2, 2) == 1);
	CHECK("escape_fit: zero budget", rsp_escape_fit((const uint8_t *)"a", 1, 0) == 0);

	/* round trip of every byte value */
	uint8_t all[256], fr[600], buf[256];
	for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
	n = rsp_frame(fr, sizeof fr, all, 256, false);
	struct rsp_parser p;
	struct run r;
	rsp_parser_init(&p, buf, sizeof buf);
	feed_all(&p, fr, n, 7, &r);
	CHECK("frame: all 256 byte values round-trip", n > 0 && r.nev == 1 &&
	      r.ev[0] == RSP_EV_PACKET && r.plen == 256 && memcmp(r.payload, all, 256) == 0);
}

/* The plain run before a special byte is copied and summed in blocks of 16
 * (rsp_plain_run): a special at every position of a 40-byte payload, and a
 * long hex payload, must frame exactly as a byte-at-a-time framer would. */
static void test_frame_blocks(void)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t pl[40], fr[128], ref[128];
	bool same = true;
	for (size_t at = 0; at <= sizeof pl; at++) {
		for (size_t i = 0; i < sizeof pl; i++) pl[i] = (uint8_t)('a' + i % 26);
		if (at < sizeof pl) pl[at] = "#$}*"[at % 4];
		size_t o = 0;
		unsigned sum = 0;
		ref[o++] = '$';
		for (size_t i = 0; i < sizeof pl; i++) {
			if (i == at && at < sizeof pl) {
				ref[o++] = '}';
				ref[o++] = pl[i] ^ 0x20;
				sum += '}' + (pl[i] ^ 0x20);
			} else {
				ref[o++] = pl[i];
				sum += pl[i];
			}
		}
		ref[o++] = '#';
		ref[o++] = (uint8_t)hex[(sum >> 4) & 15];
		ref[o++] = (uint8_t)hex[sum & 15];
		size_t n = rsp_frame(fr, sizeof fr, pl, sizeof pl, false);
		if (n != o || memcmp(fr, ref, o) != 0) same = false;
	}
	CHECK("frame: a special byte at any offset of a block", same);

	static uint8_t big[65536], bfr[65536 + 4];
	unsigned sum = 0;
	for (size_t i = 0; i < sizeof big; i++) {
		big[i] = (uint8_t)hex[(i * 7 + i / 3) & 15];
		sum += big[i];
	}
	size_t n = rsp_frame(bfr, sizeof bfr, big, sizeof big, false);
	CHECK("frame: 64 KiB hex payload fits exactly", n == sizeof bfr &&
	      memcmp(bfr + 1, big, sizeof big) == 0 && bfr[sizeof big + 1] == '#' &&
	      bfr[sizeof big + 2] == hex[(sum >> 4) & 15] && bfr[sizeof big + 3] == hex[sum & 15]);
	CHECK("frame: 64 KiB hex payload, one byte short", rsp_frame(bfr, sizeof bfr - 1, big,
	      sizeof big, false) == 0);
}

int main(void)
{
	test_basic();
	test_escape_rle();
	test_capacity();
	test_splits();
	test_frame();
	test_frame_blocks();
	return check_done();
}
