/* proto_hex.c — unit tests of hex encoding/decoding, hex numbers and thread ids. */
#include <string.h>

#include "../lib/check.h"
#include "rsp.h"

static void test_hex(void)
{
	char out[16];
	uint8_t b[4];
	CHECK("hex encode", rsp_hex_encode(out, 8, (const uint8_t *)"\x00\xab\x7f\xff", 4) == 8 &&
	      memcmp(out, "00ab7fff", 8) == 0);
	CHECK("hex encode: cap too small", rsp_hex_encode(out, 7, (const uint8_t *)"abcd", 4) == 0);
	CHECK("hex encode: zero bytes", rsp_hex_encode(out, 0, NULL, 0) == 0);
	CHECK("hex decode", rsp_hex_decode(b, 4, "00AbcDff", 8) == 4 &&
	      memcmp(b, "\x00\xab\xcd\xff", 4) == 0);
	CHECK("hex decode: short input", rsp_hex_decode(b, 4, "00ab", 4) == -1);
	CHECK("hex decode: odd input", rsp_hex_decode(b, 2, "abc", 3) == -1);
	CHECK("hex decode: non-hex digit", rsp_hex_decode(b, 2, "0g00", 4) == -1);
	CHECK("hex decode: extra input ignored", rsp_hex_decode(b, 1, "41zz", 4) == 1 && b[0] == 0x41);

	uint64_t v = 7;
	CHECK("parse u64", rsp_parse_hex_u64("7fffffffe000,10", 15, &v) == 12 && v == 0x7fffffffe000);
	CHECK("parse u64: max", rsp_parse_hex_u64("ffffffffffffffff", 16, &v) == 16 && v == UINT64_MAX);
	CHECK("parse u64: overflow", rsp_parse_hex_u64("10000000000000000", 17, &v) == 0);
	CHECK("parse u64: leading zeros ok", rsp_parse_hex_u64("00000000000000000001", 20, &v) == 20 && v == 1);
	CHECK("parse u64: no digit", rsp_parse_hex_u64(",1", 2, &v) == 0);
	CHECK("parse u64: empty", rsp_parse_hex_u64("", 0, &v) == 0);
	CHECK("parse u64: respects len", rsp_parse_hex_u64("1234", 2, &v) == 2 && v == 0x12);
	int64_t s = 0;
	CHECK("parse i64: -1", rsp_parse_hex_i64("-1;", 3, &s) == 2 && s == -1);
	CHECK("parse i64: positive", rsp_parse_hex_i64("1a2b", 4, &s) == 4 && s == 0x1a2b);
	CHECK("parse i64: lone minus", rsp_parse_hex_i64("-", 1, &s) == 0);
	CHECK("parse i64: too big", rsp_parse_hex_i64("8000000000000000", 16, &s) == 0);
	CHECK("parse i64: min", rsp_parse_hex_i64("-8000000000000000", 17, &s) == 17 && s == INT64_MIN);
	CHECK("fmt u64: zero", rsp_fmt_hex_u64(out, 16, 0) == 1 && out[0] == '0');
	CHECK("fmt u64: value", rsp_fmt_hex_u64(out, 16, 0x4005a0) == 6 && memcmp(out, "4005a0", 6) == 0);
	CHECK("fmt u64: max", rsp_fmt_hex_u64(out, 16, UINT64_MAX) == 16);
	CHECK("fmt u64: cap", rsp_fmt_hex_u64(out, 5, 0x4005a0) == 0);
}

static void test_ptid(void)
{
	struct rsp_ptid id;
	char out[64];
	CHECK("ptid: p1a2b.1a2c", rsp_parse_ptid("p1a2b.1a2c;", 11, &id) == 10 &&
	      id.has_pid && id.pid == 0x1a2b && id.tid == 0x1a2c);
	CHECK("ptid: plain tid", rsp_parse_ptid("1a2c", 4, &id) == 4 && !id.has_pid && id.tid == 0x1a2c);
	CHECK("ptid: -1", rsp_parse_ptid("-1", 2, &id) == 2 && id.tid == -1);
	CHECK("ptid: 0 any", rsp_parse_ptid("0", 1, &id) == 1 && id.tid == 0);
	CHECK("ptid: p-1.-1", rsp_parse_ptid("p-1.-1", 6, &id) == 6 && id.pid == -1 && id.tid == -1);
	CHECK("ptid: p pid alone = all threads", rsp_parse_ptid("p12", 3, &id) == 3 &&
	      id.pid == 0x12 && id.tid == -1);
	CHECK("ptid: p without number", rsp_parse_ptid("p.1", 3, &id) == 0);
	CHECK("ptid: dot without tid", rsp_parse_ptid("p1.", 3, &id) == 0);
	CHECK("ptid: empty", rsp_parse_ptid("", 0, &id) == 0);
	CHECK("ptid: garbage", rsp_parse_ptid("xyz", 3, &id) == 0);
	CHECK("ptid: truncated by len", rsp_parse_ptid("p12.34", 4, &id) == 0);

	id = (struct rsp_ptid){ 0x1a2b, 0x1a2c, true };
	size_t n = rsp_fmt_ptid(out, sizeof out, &id, true);
	CHECK("fmt ptid: multiprocess", n == 10 && memcmp(out, "p1a2b.1a2c", 10) == 0);
	n = rsp_fmt_ptid(out, sizeof out, &id, false);
	CHECK("fmt ptid: plain", n == 4 && memcmp(out, "1a2c", 4) == 0);
	id = (struct rsp_ptid){ 0x10, -1, true };
	n = rsp_fmt_ptid(out, sizeof out, &id, true);
	CHECK("fmt ptid: all threads", n == 6 && memcmp(out, "p10.-1", 6) == 0);
	CHECK("fmt ptid: cap", rsp_fmt_ptid(out, 5, &id, true) == 0);
	/* round trip */
	struct rsp_ptid back;
	id = (struct rsp_ptid){ 0x7fffffff, 0x12345, true };
	n = rsp_fmt_ptid(out, sizeof out, &id, true);
	CHECK("ptid: round trip", rsp_parse_ptid(out, n, &back) == n && back.pid == id.pid &&
	      back.tid == id.tid && back.has_pid);
}

int main(void)
{
	test_hex();
	test_ptid();
	return check_done();
}
