/* proto_parser_diff.c — differential test of the bulk RSP codec (issue #6)
 * against the original byte-at-a-time loops kept in tests/fuzz/rsp_ref.h.
 *
 * Random streams are built from what a peer can send: good packets and
 * notifications (hex, binary with escapes, run-length encoded), bad
 * checksums, non-hex checksum digits, '$' inside packets, escapes and
 * run-length markers right before '#', acks, naks, 0x03 and noise.  Each is
 * parsed with several capacities and splits; every call must agree in
 * consumed bytes, event and parser state.  The encoders (escape, escape_fit,
 * frame, checksum, hex) are compared on the same bytes.  Deterministic: a
 * fixed PRNG seed.
 */
#include <string.h>

#include "../lib/check.h"
#include "rsp.h"
#include "../fuzz/rsp_ref.h"

static uint32_t rng = 0x12345678;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* A payload byte: mostly hex, sometimes a special or any byte. */
static uint8_t pbyte(void)
{
	static const char pick[] = "0123456789abcdef#$}*%+-";
	uint32_t r = rnd() % 100;
	if (r < 70) return (uint8_t)pick[rnd() % 16];
	if (r < 85) return (uint8_t)pick[16 + rnd() % 7];
	return (uint8_t)rnd();
}

static size_t put_hex2(uint8_t *d, uint8_t v)
{
	static const char h[] = "0123456789abcdef";
	d[0] = (uint8_t)h[v >> 4];
	d[1] = (uint8_t)h[v & 15];
	return 2;
}

/* Append one random element of a stream at s[o..cap); returns new o. */
static size_t element(uint8_t *s, size_t o, size_t cap)
{
	uint8_t pl[600];
	size_t n = rnd() % 4 == 0 ? rnd() % 600 : rnd() % 40;
	for (size_t i = 0; i < n; i++) pl[i] = pbyte();
	if (cap - o < 2 * n + 32) return o;
	switch (rnd() % 10) {
	case 0: case 1: case 2: {          /* well-formed, escaped by the reference framer */
		size_t k = ref_frame(s + o, cap - o, pl, n, rnd() % 5 == 0);
		return o + k;
	}
	case 3: {                           /* raw body: specials act as they come */
		size_t st = o;
		s[o++] = rnd() % 4 ? '$' : '%';
		memcpy(s + o, pl, n);
		o += n;
		uint8_t sum = ref_checksum(s + st + 1, n);
		s[o++] = '#';
		if (rnd() % 3 == 0) sum ^= (uint8_t)(1 + rnd() % 255);   /* bad checksum */
		o += put_hex2(s + o, sum);
		return o;
	}
	case 4: {                           /* run-length encoded, maybe bad counts */
		size_t st = o;
		s[o++] = '$';
		unsigned runs = 1 + rnd() % 6;
		for (unsigned i = 0; i < runs; i++) {
			s[o++] = (uint8_t)"0f9a"[rnd() % 4];
			if (rnd() % 2) {
				s[o++] = '*';
				s[o++] = rnd() % 8 ? (uint8_t)(29 + 3 + rnd() % 94) : (uint8_t)rnd();
			}
		}
		if (rnd() % 8 == 0) s[o++] = rnd() % 2 ? '}' : '*';   /* dangling before '#' */
		uint8_t sum = ref_checksum(s + st + 1, o - st - 1);
		s[o++] = '#';
		o += put_hex2(s + o, sum);
		return o;
	}
	case 5:                             /* acks, naks, interrupts */
		s[o++] = (uint8_t)"+-\x03+"[rnd() % 4];
		return o;
	case 6:                             /* noise */
		for (size_t i = 0; i < n % 8; i++) s[o++] = (uint8_t)rnd();
		return o;
	case 7:                             /* truncated packet then a new one ('$' resync) */
		s[o++] = '$';
		memcpy(s + o, pl, n / 2);
		o += n / 2;
		return o;
	case 8:                             /* non-hex checksum digit */
		s[o++] = '$';
		s[o++] = 'g';
		s[o++] = '#';
		s[o++] = (uint8_t)"6z$#"[rnd() % 4];
		s[o++] = (uint8_t)"7$z"[rnd() % 3];
		return o;
	default: {                          /* big hex payload, like an 'm' reply */
		static uint8_t big[8192];
		size_t bn = 1000 + rnd() % 7000;
		for (size_t i = 0; i < bn; i++) big[i] = (uint8_t)"0123456789abcdef"[rnd() % 16];
		if (cap - o < bn + 8) return o;
		return o + ref_frame(s + o, cap - o, big, bn, false);
	}
	}
}

static void test_parser(void)
{
	static uint8_t s[65536];
	const size_t caps[] = { 0, 1, 16, 100, 4096 };
	int first_fail = 0;
	unsigned streams = 0, fails = 0;
	for (unsigned iter = 0; iter < 400; iter++) {
		size_t o = 0;
		unsigned parts = 1 + rnd() % 30;
		for (unsigned i = 0; i < parts; i++) o = element(s, o, sizeof s);
		for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
			for (uint32_t seed = 1; seed <= 3; seed++) {
				int r = ref_diff_parse(s, o, caps[c], seed * 0x9e3779b9u + iter);
				streams++;
				if (r) { fails++; if (!first_fail) first_fail = r; }
			}
		}
	}
	CHECK("diff: parser agrees with the reference on 6000 random streams/splits", fails == 0);
	if (fails) printf("  %u of %u differed, first code %d\n", fails, streams, first_fail);

	/* byte-at-a-time feeding too (each call sees one byte) */
	size_t o = 0;
	for (unsigned i = 0; i < 200; i++) o = element(s, o, sizeof s);
	struct rsp_parser p, q;
	static uint8_t b1[256], b2[256];
	ref_parser_init(&p, b1, sizeof b1);
	rsp_parser_init(&q, b2, sizeof b2);
	bool same = true;
	for (size_t i = 0; i < o && same; i++) {
		enum rsp_event e1, e2;
		size_t k1 = ref_parser_feed(&p, s + i, 1, &e1);
		size_t k2 = rsp_parser_feed(&q, s + i, 1, &e2);
		same = k1 == k2 && e1 == e2 && p.len == q.len && memcmp(b1, b2, p.len) == 0;
		if (k1 == 0 && same) {   /* a non-hex checksum digit is left for the next call */
			k1 = ref_parser_feed(&p, s + i, 1, &e1);
			k2 = rsp_parser_feed(&q, s + i, 1, &e2);
			same = k1 == k2 && e1 == e2 && p.len == q.len;
		}
	}
	CHECK("diff: parser agrees fed one byte at a time", same);
}

static void test_codec(void)
{
	static uint8_t d[4096];
	unsigned fails = 0;
	int first = 0;
	for (unsigned iter = 0; iter < 600; iter++) {
		size_t n = rnd() % 3 == 0 ? rnd() % 4096 : rnd() % 64;
		unsigned mode = rnd() % 3;
		for (size_t i = 0; i < n; i++)
			d[i] = mode == 0 ? pbyte() : mode == 1 ? (uint8_t)"0123456789abcdefABCDEF"[rnd() % 22]
						 : (uint8_t)rnd();
		int r = ref_diff_codec(d, n);
		if (r) { fails++; if (!first) first = r; }
	}
	CHECK("diff: escape/escape_fit/frame/checksum/hex agree with the reference", fails == 0);
	if (fails) printf("  %u differed, first code %d\n", fails, first);
	/* all-special and no-special extremes */
	memset(d, '}', 300);
	CHECK("diff: all-special payload", ref_diff_codec(d, 300) == 0);
	memset(d, 'a', 300);
	CHECK("diff: no-special payload", ref_diff_codec(d, 300) == 0);
	CHECK("diff: empty payload", ref_diff_codec(d, 0) == 0);

	/* hex decode: every byte value at every position of a 96-digit string
	 * (the vector path takes 32 digits at a time, the tail 2 at a time) */
	static const char digits[] = "0123456789abcdefABCDEF";
	char hx[96];
	uint8_t o1[48], o2[48];
	bool same = true;
	for (unsigned v = 0; v < 256 && same; v++) {
		for (size_t pos = 0; pos < sizeof hx && same; pos++) {
			for (size_t i = 0; i < sizeof hx; i++) hx[i] = digits[(i * 7 + v) % 22];
			hx[pos] = (char)v;
			long r1 = ref_hex_decode(o1, 48, hx, sizeof hx);
			long r2 = rsp_hex_decode(o2, 48, hx, sizeof hx);
			same = r1 == r2 && (r1 < 0 || memcmp(o1, o2, 48) == 0);
		}
	}
	CHECK("diff: hex decode, every byte value at every position", same);
}

int main(void)
{
	test_parser();
	test_codec();
	return check_done();
}
