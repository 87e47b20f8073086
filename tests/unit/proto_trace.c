/* proto_trace.c — unit tests of tracepoint packets and trace frames.
 *
 * The QTDP/QTDV packets and qTStatus replies below were captured from gdb
 * 13.1 talking to gdbserver (`set debug remote 1`) for
 *	tvariable $hits = 7
 *	trace work if x > 1     actions: collect $regs, gbuf, x, $hits;
 *				teval $hits = $hits + 1; collect $_sdata
 *	trace tp.c:9            actions: while-stepping 2 / collect $rip
 * and the agent expressions in them are run through rsp_ax_eval, so the
 * parser, the checker and the interpreter are tested on what gdb really
 * sends.  The frame decoder is also run on gdbserver's own trace buffer
 * (saved with tsave) when the fixture file is present.
 */
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "rsp.h"
#include "rsp_ax.h"
#include "rsp_trace.h"

#define S(lit) lit, sizeof(lit) - 1

static struct rsp_tp_action acts[16];
static uint8_t bytes[512];

static int parse(const char *pkt, size_t n, struct rsp_qtdp *q)
{
	memset(acts, 0xa5, sizeof acts);
	return rsp_qtdp_parse(pkt, n, q, acts, 16, bytes, sizeof bytes);
}

/* ---- a fake target for the captured expressions: x lives at rbp-8 */
static uint64_t fake_rbp = 0x7fffffffe660;
static int64_t fake_x;
static int64_t fake_tsv2 = 7;
static uint64_t traced_addr;
static size_t traced_len;
static unsigned tracev_num;

static int e_reg(void *ctx, unsigned regno, uint64_t *val)
{
	(void)ctx;
	if (regno != RSP_AMD64_RBP) return -1;
	*val = fake_rbp;
	return 0;
}

static int e_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr != fake_rbp - 8 || len != 8) return -14;
	memcpy(buf, &fake_x, 8);
	return 0;
}

static int e_trace(void *ctx, uint64_t addr, size_t len)
{
	(void)ctx;
	traced_addr = addr;
	traced_len = len;
	return 0;
}

static int e_getv(void *ctx, unsigned num, int64_t *v)
{
	(void)ctx;
	if (num != 2) return -1;
	*v = fake_tsv2;
	return 0;
}

static int e_setv(void *ctx, unsigned num, int64_t v)
{
	(void)ctx;
	if (num != 2) return -1;
	fake_tsv2 = v;
	return 0;
}

static int e_tracev(void *ctx, unsigned num)
{
	(void)ctx;
	tracev_num = num;
	return 0;
}

static const struct rsp_ax_env env = { NULL, e_reg, e_mem, e_trace, e_getv, e_setv, e_tracev };

static void test_qtdp_gdb13(void)
{
	struct rsp_qtdp q;
	uint64_t r;

	/* first form with a condition (x > 1) and more to come */
	static const char p1[] = "2:0000555555555159:E:0:0:X13,26000622100222e81608021a164022012b1427-";
	CHECK("qtdp gdb13: first form parses", parse(S(p1), &q) == 0);
	CHECK("qtdp gdb13: fields", !q.continuation && q.num == 2 && q.addr == 0x555555555159 &&
	      q.enabled && q.step == 0 && q.pass == 0 && !q.fast && !q.is_static && q.more &&
	      q.nacts == 0);
	CHECK("qtdp gdb13: condition", q.has_cond && q.cond_len == 0x13 && q.cond_off == 0 &&
	      q.bytes_used == 0x13 && bytes[0] == 0x26 && bytes[0x12] == RSP_AX_END);
	CHECK("qtdp gdb13: condition passes rsp_ax_check", rsp_ax_check(bytes + q.cond_off, q.cond_len) == 0);
	fake_x = 1;
	CHECK("qtdp gdb13: condition x > 1 false for x = 1",
	      rsp_ax_eval(bytes + q.cond_off, q.cond_len, &env, &r, 0) == 0 && r == 0);
	fake_x = 2;
	CHECK("qtdp gdb13: condition x > 1 true for x = 2",
	      rsp_ax_eval(bytes + q.cond_off, q.cond_len, &env, &r, 0) == 0 && r == 1);
	fake_x = -5;
	CHECK("qtdp gdb13: condition is signed (x = -5)",
	      rsp_ax_eval(bytes + q.cond_off, q.cond_len, &env, &r, 0) == 0 && r == 0);

	static const char p2[] = "-2:0000555555555159:L-";
	CHECK("qtdp gdb13: $_sdata action 'L'", parse(S(p2), &q) == 0 && q.continuation &&
	      q.num == 2 && q.addr == 0x555555555159 && q.more && q.nacts == 1 &&
	      acts[0].kind == RSP_TP_ACT_SDATA && !acts[0].stepping);

	static const char p3[] = "-2:0000555555555159:R07ffffffffffffffffffffffffffffffffffffff-";
	CHECK("qtdp gdb13: registers", parse(S(p3), &q) == 0 && q.nacts == 1 &&
	      acts[0].kind == RSP_TP_ACT_REGS && acts[0].data_len == 20 && q.more);
	const uint8_t *mask = bytes + acts[0].data_off;
	CHECK("qtdp gdb13: register mask bits", rsp_tp_mask_has(mask, 20, 0) &&
	      rsp_tp_mask_has(mask, 20, RSP_AMD64_RIP) && rsp_tp_mask_has(mask, 20, 154) &&
	      !rsp_tp_mask_has(mask, 20, 155) && !rsp_tp_mask_has(mask, 20, 160) &&
	      !rsp_tp_mask_has(mask, 20, 1000));

	static const char p4[] = "-2:0000555555555159:M-1,555555558040,20X0000000F,"
		"26000622100222e816080222080c27X00000008,2c00022e00022927X0000000C,"
		"2c000222010216402d000227";
	CHECK("qtdp gdb13: four actions in one packet", parse(S(p4), &q) == 0 && !q.more &&
	      q.nacts == 4 && q.bytes_used == 0xf + 8 + 0xc);
	CHECK("qtdp gdb13: memory action (absolute)", acts[0].kind == RSP_TP_ACT_MEM &&
	      acts[0].basereg == -1 && acts[0].offset == 0x555555558040 && acts[0].len == 0x20);
	CHECK("qtdp gdb13: X actions", acts[1].kind == RSP_TP_ACT_EXPR && acts[1].data_len == 15 &&
	      acts[2].kind == RSP_TP_ACT_EXPR && acts[2].data_len == 8 &&
	      acts[3].kind == RSP_TP_ACT_EXPR && acts[3].data_len == 12 &&
	      acts[2].data_off == acts[1].data_off + 15);
	bool checked = true;
	for (int i = 1; i < 4; i++)
		if (rsp_ax_check(bytes + acts[i].data_off, acts[i].data_len) != 0) checked = false;
	CHECK("qtdp gdb13: X actions pass rsp_ax_check", checked);
	/* collect x: trace 8 bytes at rbp+16-24 */
	traced_len = 0;
	CHECK("qtdp gdb13: 'collect x' traces 8 bytes at rbp-8",
	      rsp_ax_eval(bytes + acts[1].data_off, acts[1].data_len, &env, &r, 0) == 0 &&
	      traced_addr == fake_rbp - 8 && traced_len == 8);
	CHECK("qtdp gdb13: 'collect $hits' is tracev 2",
	      rsp_ax_eval(bytes + acts[2].data_off, acts[2].data_len, &env, &r, 0) == 0 && tracev_num == 2);
	fake_tsv2 = 7;
	CHECK("qtdp gdb13: 'teval $hits = $hits + 1'",
	      rsp_ax_eval(bytes + acts[3].data_off, acts[3].data_len, &env, &r, 0) == 0 &&
	      fake_tsv2 == 8 && r == 8);

	static const char p5[] = "3:00005555555551c7:E:2:0-";
	CHECK("qtdp gdb13: while-stepping tracepoint, step count 2", parse(S(p5), &q) == 0 &&
	      q.num == 3 && q.addr == 0x5555555551c7 && q.step == 2 && q.more && !q.has_cond);
	static const char p6[] = "-3:00005555555551c7:SR010000";
	CHECK("qtdp gdb13: 'S' while-stepping actions", parse(S(p6), &q) == 0 && q.stepping &&
	      !q.more && q.nacts == 1 && acts[0].kind == RSP_TP_ACT_REGS && acts[0].stepping &&
	      rsp_tp_mask_has(bytes + acts[0].data_off, acts[0].data_len, RSP_AMD64_RIP) &&
	      !rsp_tp_mask_has(bytes + acts[0].data_off, acts[0].data_len, RSP_AMD64_RAX));
}

static void test_qtdp_forms(void)
{
	struct rsp_qtdp q;
	CHECK("qtdp: minimal", parse(S("1:401136:D:0:0"), &q) == 0 && q.num == 1 &&
	      q.addr == 0x401136 && !q.enabled && !q.more && !q.has_cond);
	CHECK("qtdp: pass count", parse(S("1:401136:E:0:a"), &q) == 0 && q.pass == 10);
	CHECK("qtdp: fast + static + unknown K field",
	      parse(S("4:401136:E:0:0:F5:S:K1:X2,2227-"), &q) == 0 && q.fast && q.flen == 5 &&
	      q.is_static && q.has_cond && q.cond_len == 2 && q.more);
	CHECK("qtdp: register-relative memory",
	      parse(S("-1:401136:M6,ffffffffffffffe8,8"), &q) == 0 && q.nacts == 1 &&
	      acts[0].basereg == 6 && acts[0].offset == (uint64_t)-24 && acts[0].len == 8);
	CHECK("qtdp: lower-case X length", parse(S("-1:401136:Xf,26000622100222e816080222080c27"), &q) == 0 &&
	      acts[0].data_len == 15);

	/* errors */
	CHECK("qtdp err: empty", parse(S(""), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: no address", parse(S("1"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: bad enable", parse(S("1:401136:Q:0:0"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: missing pass", parse(S("1:401136:E:0"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: garbage field", parse(S("1:401136:E:0:0;x"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: X short", parse(S("1:401136:E:0:0:X4,2227"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: X non-hex", parse(S("1:401136:E:0:0:X2,22zz"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: X no comma", parse(S("1:401136:E:0:0:X2"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: two conditions", parse(S("1:401136:E:0:0:X1,27:X1,27"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: tp number too big", parse(S("100000000:401136:E:0:0"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: address overflow", parse(S("1:10000000000000000:E:0:0"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: continuation without action", parse(S("-1:401136:"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: continuation, lone dash", parse(S("-1:401136:-"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: unknown action", parse(S("-1:401136:Q12"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: R without mask", parse(S("-1:401136:R"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: R odd mask", parse(S("-1:401136:R123"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: M missing len", parse(S("-1:401136:M-1,1000"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: M basereg -2", parse(S("-1:401136:M-2,1000,8"), &q) == RSP_TRACE_E_FORMAT);
	CHECK("qtdp err: S twice", parse(S("-1:401136:SSR01"), &q) == RSP_TRACE_E_FORMAT);
	struct rsp_tp_action one[1];
	CHECK("qtdp err: too many actions",
	      rsp_qtdp_parse(S("-1:401136:R01R01"), &q, one, 1, bytes, sizeof bytes) == RSP_TRACE_E_SPACE);
	CHECK("qtdp err: bytes full",
	      rsp_qtdp_parse(S("-1:401136:X4,22012227"), &q, acts, 16, bytes, 3) == RSP_TRACE_E_SPACE);
	CHECK("qtdp: exactly fits",
	      rsp_qtdp_parse(S("-1:401136:X4,22012227"), &q, acts, 16, bytes, 4) == 0 && q.bytes_used == 4);
	CHECK("qtdp err: NULL", rsp_qtdp_parse(NULL, 0, &q, acts, 16, bytes, 4) == RSP_TRACE_E_FORMAT);
}

static void test_qtdv(void)
{
	struct rsp_qtdv v;
	static const char t1[] = "1:0000000000000000:1:74726163655f74696d657374616d70";
	CHECK("qtdv gdb13: builtin trace_timestamp", rsp_qtdv_parse(S(t1), &v) == 0 && v.num == 1 &&
	      v.value == 0 && v.builtin && v.name_hex_len == 30 && memcmp(v.name_hex, "7472", 4) == 0);
	static const char t2[] = "2:0000000000000007:0:68697473";
	CHECK("qtdv gdb13: $hits = 7", rsp_qtdv_parse(S(t2), &v) == 0 && v.num == 2 && v.value == 7 &&
	      !v.builtin && v.name_hex_len == 8);
	char out[128];
	size_t n = rsp_qtdv_format(out, sizeof out, &v);
	CHECK("qtdv format like gdbserver's qTfV reply", n == 14 && memcmp(out, "2:7:0:68697473", 14) == 0);
	static const char neg[] = "3:fffffffffffffffe:0:";
	CHECK("qtdv: negative, empty name", rsp_qtdv_parse(S(neg), &v) == 0 && v.value == -2 &&
	      v.name_hex_len == 0);
	n = rsp_qtdv_format(out, sizeof out, &v);
	CHECK("qtdv: negative formats as two's complement", n == 21 &&
	      memcmp(out, "3:fffffffffffffffe:0:", 21) == 0);
	CHECK("qtdv: format too small", rsp_qtdv_format(out, 5, &v) == 0);
	CHECK("qtdv err: builtin 2", rsp_qtdv_parse(S("1:0:2:41"), &v) == RSP_TRACE_E_FORMAT);
	CHECK("qtdv err: odd name", rsp_qtdv_parse(S("1:0:0:414"), &v) == RSP_TRACE_E_FORMAT);
	CHECK("qtdv err: non-hex name", rsp_qtdv_parse(S("1:0:0:zz"), &v) == RSP_TRACE_E_FORMAT);
	CHECK("qtdv err: missing fields", rsp_qtdv_parse(S("1:0"), &v) == RSP_TRACE_E_FORMAT);
}

static void test_tstatus(void)
{
	struct rsp_tstatus st;
	static const char notrun[] = "T0;tnotrun:0;tframes:0;tcreated:0;tfree:500000;tsize:500000;"
		"circular:0;disconn:0;starttime:0;stoptime:0;username:;notes::";
	CHECK("tstatus gdbserver: not run", rsp_tstatus_parse(S(notrun), &st) == 0 && !st.running &&
	      st.reason == RSP_TSTOP_NOT_RUN && st.frames == 0 && st.has_size &&
	      st.size == 0x500000 && st.free == 0x500000 && !st.circular && !st.disconn);
	static const char running[] = "T1;tnotrun:0;tframes:6;tcreated:6;tfree:4fce22;tsize:500000;"
		"circular:0;disconn:0;starttime:29476f1d2;stoptime:0;username:;notes::";
	CHECK("tstatus gdbserver: running", rsp_tstatus_parse(S(running), &st) == 0 && st.running &&
	      st.reason == RSP_TSTOP_RUNNING && st.frames == 6 && st.created == 6 &&
	      st.free == 0x4fce22 && st.start_time == 0x29476f1d2);
	static const char stopped[] = "T0;tstop::0;tframes:6;tcreated:6;tfree:4fce22;tsize:500000;"
		"circular:0;disconn:0;starttime:29476f1d2;stoptime:2947715f0;username:;notes::";
	CHECK("tstatus gdbserver: stopped by user", rsp_tstatus_parse(S(stopped), &st) == 0 &&
	      !st.running && st.reason == RSP_TSTOP_USER && st.stop_time == 0x2947715f0);

	char out[256];
	size_t n = rsp_tstatus_format(out, sizeof out, &st);
	static const char want[] = "T0;tstop::0;tframes:6;tcreated:6;tfree:4fce22;tsize:500000;"
		"circular:0;disconn:0;starttime:29476f1d2;stoptime:2947715f0";
	CHECK("tstatus format: gdbserver's field order", n == sizeof want - 1 && memcmp(out, want, n) == 0);
	struct rsp_tstatus b = { 0 };
	b.running = false;
	b.reason = RSP_TSTOP_ERROR;
	b.error = "bad";
	b.error_len = 3;
	b.stop_tp = 4;
	b.frames = 1;
	b.circular = true;
	n = rsp_tstatus_format(out, sizeof out, &b);
	static const char want2[] = "T0;terror:626164:4;tframes:1;tcreated:0;circular:1;disconn:0;"
		"starttime:0;stoptime:0";
	CHECK("tstatus format: error, no size", n == sizeof want2 - 1 && memcmp(out, want2, n) == 0);
	CHECK("tstatus parse: error", rsp_tstatus_parse(out, n, &st) == 0 &&
	      st.reason == RSP_TSTOP_ERROR && st.stop_tp == 4 && st.error_len == 6 &&
	      memcmp(st.error, "626164", 6) == 0 && st.circular && !st.has_size);
	b.reason = RSP_TSTOP_PASSCOUNT;
	b.stop_tp = 0x1f;
	n = rsp_tstatus_format(out, sizeof out, &b);
	CHECK("tstatus: passcount round trip", rsp_tstatus_parse(out, n, &st) == 0 &&
	      st.reason == RSP_TSTOP_PASSCOUNT && st.stop_tp == 0x1f);
	b.reason = RSP_TSTOP_FULL;
	n = rsp_tstatus_format(out, sizeof out, &b);
	CHECK("tstatus: full round trip", rsp_tstatus_parse(out, n, &st) == 0 && st.reason == RSP_TSTOP_FULL);
	b.reason = RSP_TSTOP_DISCONNECTED;
	n = rsp_tstatus_format(out, sizeof out, &b);
	CHECK("tstatus: disconnected round trip", rsp_tstatus_parse(out, n, &st) == 0 &&
	      st.reason == RSP_TSTOP_DISCONNECTED);
	b.running = true;
	n = rsp_tstatus_format(out, sizeof out, &b);
	CHECK("tstatus: running has no reason", n > 3 && memcmp(out, "T1;tframes:", 11) == 0);
	CHECK("tstatus: old-style tstop:0", rsp_tstatus_parse(S("T0;tstop:0"), &st) == 0 &&
	      st.reason == RSP_TSTOP_USER);
	CHECK("tstatus: format too small", rsp_tstatus_format(out, 10, &b) == 0);
	CHECK("tstatus err: not T", rsp_tstatus_parse(S("E01"), &st) == RSP_TRACE_E_FORMAT);
	CHECK("tstatus err: T2", rsp_tstatus_parse(S("T2"), &st) == RSP_TRACE_E_FORMAT);
	CHECK("tstatus err: junk after T0", rsp_tstatus_parse(S("T0x"), &st) == RSP_TRACE_E_FORMAT);
	CHECK("tstatus: bare T0", rsp_tstatus_parse(S("T0"), &st) == 0 && st.reason == RSP_TSTOP_UNKNOWN);
}

static void test_frames(void)
{
	size_t rs = rsp_amd64_regblock_size();
	uint8_t regs[2048];
	uint8_t buf[4096];
	for (size_t i = 0; i < sizeof regs; i++) regs[i] = (uint8_t)i;
	CHECK("tframe: register block fits the test", rs <= sizeof regs);

	struct rsp_tframe_enc e;
	rsp_tframe_begin(&e, buf, sizeof buf, 7);
	rsp_tframe_add_regs(&e, regs, rs);
	rsp_tframe_add_mem(&e, 0xc000123400, "0123456789abcdef", 16);
	rsp_tframe_add_tsv(&e, 2, -9);
	uint8_t *p = rsp_tframe_reserve_mem(&e, 0x5000, 32);
	CHECK("tframe: reserve", p != NULL);
	if (p) { memcpy(p, "hi\0garbage", 10); rsp_tframe_trim_mem(&e, 3); }
	size_t n = rsp_tframe_end(&e);
	size_t want = 6 + 1 + rs + 11 + 16 + 13 + 11 + 3;
	CHECK("tframe: encoded length", n == want);
	CHECK("tframe: header is gdbserver's layout", buf[0] == 7 && buf[1] == 0 &&
	      buf[2] == (uint8_t)(want - 6) && buf[3] == (uint8_t)((want - 6) >> 8) &&
	      buf[4] == 0 && buf[5] == 0 && buf[6] == 'R');

	struct rsp_tframe f;
	size_t off = 0;
	CHECK("tframe: decode", rsp_tframe_next(buf, n, &off, &f, 0) == 1 && off == n &&
	      f.tpnum == 7 && f.size == n && f.data_len == n - 6 && f.regs_size == rs);
	struct rsp_tblock b;
	size_t boff = 0;
	CHECK("tframe: R block", rsp_tframe_block_next(&f, &boff, &b) == 1 && b.kind == 'R' &&
	      b.len == rs && memcmp(b.data, regs, rs) == 0);
	CHECK("tframe: M block", rsp_tframe_block_next(&f, &boff, &b) == 1 && b.kind == 'M' &&
	      b.addr == 0xc000123400 && b.len == 16 && memcmp(b.data, "0123456789abcdef", 16) == 0);
	CHECK("tframe: V block", rsp_tframe_block_next(&f, &boff, &b) == 1 && b.kind == 'V' &&
	      b.num == 2 && b.value == -9);
	CHECK("tframe: trimmed M block", rsp_tframe_block_next(&f, &boff, &b) == 1 && b.kind == 'M' &&
	      b.addr == 0x5000 && b.len == 3 && memcmp(b.data, "hi", 3) == 0);
	CHECK("tframe: end of blocks", rsp_tframe_block_next(&f, &boff, &b) == 0);

	/* every truncation of a two-frame stream is "need more bytes" */
	uint8_t two[8192];
	memcpy(two, buf, n);
	memcpy(two + n, buf, n);
	two[n] = 9;   /* second frame: tracepoint 9 */
	bool ok = true;
	for (size_t cut = 0; cut < 2 * n; cut++) {
		off = 0;
		int r1 = rsp_tframe_next(two, cut, &off, &f, 0);
		if (cut < n) {
			if (r1 != 0 || off != 0) ok = false;
		} else {
			if (r1 != 1 || off != n || f.tpnum != 7) ok = false;
			if (rsp_tframe_next(two, cut, &off, &f, 0) != 0 || off != n) ok = false;
		}
	}
	CHECK("tframe: every truncation asks for more bytes", ok);
	off = 0;
	CHECK("tframe: two frames back to back", rsp_tframe_next(two, 2 * n, &off, &f, 0) == 1 &&
	      rsp_tframe_next(two, 2 * n, &off, &f, 0) == 1 && f.tpnum == 9 && off == 2 * n &&
	      rsp_tframe_next(two, 2 * n, &off, &f, 0) == 0);
	off = 0;
	CHECK("tframe: max_size rejects a huge size", rsp_tframe_next(
		(const uint8_t *)"\x01\x00\xff\xff\xff\x7f", 6, &off, &f, 1 << 20) == RSP_TRACE_E_FORMAT);
	off = 0;
	CHECK("tframe: max_size allows the exact size", rsp_tframe_next(two, n, &off, &f, n) == 1);
	off = 0;
	CHECK("tframe: max_size one less rejects", rsp_tframe_next(two, n, &off, &f, n - 1) == RSP_TRACE_E_FORMAT);
	off = 7;
	CHECK("tframe: offset past len is need-more", rsp_tframe_next(two, 3, &off, &f, 0) == 0 && off == 7);

	/* an empty frame (a while-stepping tracepoint's own hit collects nothing) */
	rsp_tframe_begin(&e, buf, sizeof buf, 3);
	n = rsp_tframe_end(&e);
	off = 0;
	boff = 0;
	CHECK("tframe: empty frame", n == 6 && rsp_tframe_next(buf, n, &off, &f, 0) == 1 &&
	      f.data_len == 0 && rsp_tframe_block_next(&f, &boff, &b) == 0);

	/* malformed blocks */
	const uint8_t badkind[] = { 1, 0, 1, 0, 0, 0, 'Q' };
	off = 0; boff = 0;
	CHECK("tframe: unknown block kind", rsp_tframe_next(badkind, sizeof badkind, &off, &f, 0) == 1 &&
	      rsp_tframe_block_next(&f, &boff, &b) == RSP_TRACE_E_FORMAT);
	const uint8_t shortm[] = { 1, 0, 13, 0, 0, 0, 'M', 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 'a', 'b' };
	off = 0; boff = 0;
	CHECK("tframe: M block past the frame", rsp_tframe_next(shortm, sizeof shortm, &off, &f, 0) == 1 &&
	      rsp_tframe_block_next(&f, &boff, &b) == RSP_TRACE_E_FORMAT);
	const uint8_t shortv[] = { 1, 0, 5, 0, 0, 0, 'V', 1, 0, 0, 0 };
	off = 0; boff = 0;
	CHECK("tframe: V block past the frame", rsp_tframe_next(shortv, sizeof shortv, &off, &f, 0) == 1 &&
	      rsp_tframe_block_next(&f, &boff, &b) == RSP_TRACE_E_FORMAT);
	const uint8_t shortr[] = { 1, 0, 2, 0, 0, 0, 'R', 0 };
	off = 0; boff = 0;
	CHECK("tframe: R block past the frame", rsp_tframe_next(shortr, sizeof shortr, &off, &f, 0) == 1 &&
	      rsp_tframe_block_next(&f, &boff, &b) == RSP_TRACE_E_FORMAT);

	/* encoder limits */
	rsp_tframe_begin(&e, buf, 5, 1);
	CHECK("tframe enc: no room for the header", e.err == RSP_TRACE_E_SPACE && rsp_tframe_end(&e) == 0);
	rsp_tframe_begin(&e, buf, 40, 1);
	rsp_tframe_add_mem(&e, 0, regs, 30);
	CHECK("tframe enc: M too big for the buffer", e.err == RSP_TRACE_E_SPACE && rsp_tframe_end(&e) == 0);
	rsp_tframe_add_tsv(&e, 1, 1);
	CHECK("tframe enc: error is sticky", e.len == 6);
	rsp_tframe_begin(&e, buf, sizeof buf, 0x10000);
	CHECK("tframe enc: tpnum > 0xffff", e.err == RSP_TRACE_E_FORMAT && rsp_tframe_end(&e) == 0);
	rsp_tframe_begin(&e, buf, sizeof buf, 1);
	CHECK("tframe enc: reserve > 0xffff refused", rsp_tframe_reserve_mem(&e, 0, 0x10000) == NULL &&
	      e.err == RSP_TRACE_E_FORMAT);

	/* a large memory range is split into 0xffff-byte blocks */
	static uint8_t big[0x20000], out[0x20100];
	for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 13);
	rsp_tframe_begin(&e, out, sizeof out, 2);
	rsp_tframe_add_mem(&e, 0x100000, big, sizeof big);
	n = rsp_tframe_end(&e);
	off = 0; boff = 0;
	unsigned blocks = 0;
	size_t total = 0;
	ok = n == 6 + 3 * 11 + sizeof big && rsp_tframe_next(out, n, &off, &f, 0) == 1;
	while (ok && rsp_tframe_block_next(&f, &boff, &b) == 1) {
		ok = b.kind == 'M' && b.addr == 0x100000 + total && b.len <= 0xffff &&
		     memcmp(b.data, big + total, b.len) == 0;
		total += b.len;
		blocks++;
	}
	CHECK("tframe: 128 KiB range -> 3 M blocks", ok && blocks == 3 && total == sizeof big);
}

/* gdbserver's own trace buffer (tsave of the session in the header comment):
 * frames of tracepoint 2 (R, M gbuf "hello", M x, V $hits) and 3. */
/* Blocks reserved first and read later: a middle one cut short, one
 * taken out, the last one trimmed after that. */
static void test_cut_mem(void)
{
	uint8_t buf[512];
	struct rsp_tframe_enc e;
	rsp_tframe_begin(&e, buf, sizeof buf, 3);
	uint8_t *a = rsp_tframe_reserve_mem(&e, 0x1000, 16);
	uint8_t *b = rsp_tframe_reserve_mem(&e, 0x2000, 8);
	rsp_tframe_add_tsv(&e, 5, 77);
	uint8_t *c = rsp_tframe_reserve_mem(&e, 0x3000, 8);
	CHECK("cut: reserved", a && b && c);
	if (!a || !b || !c) return;
	size_t aoff = (size_t)(a - buf) - RSP_TFRAME_MEM_HDR, boff0 = (size_t)(b - buf) - RSP_TFRAME_MEM_HDR;
	memcpy(a, "AAAAAAAAaaaaaaaa", 16);
	memcpy(b, "BBBBBBBB", 8);
	memcpy(c, "CCCCCCCC", 8);
	rsp_tframe_cut_mem(&e, boff0, 0);          /* b unreadable: out */
	rsp_tframe_cut_mem(&e, aoff, 5);           /* a readable for 5 bytes */
	rsp_tframe_cut_mem(&e, aoff + 1, 0);       /* not a block start: nothing */
	rsp_tframe_cut_mem(&e, aoff, 9);           /* not shorter: nothing */
	rsp_tframe_trim_mem(&e, 2);                /* c, the last reserved, still trims */
	size_t n = rsp_tframe_end(&e);
	CHECK("cut: length", n == 6 + (11 + 5) + 13 + (11 + 2));
	struct rsp_tframe f;
	size_t off = 0, bo = 0;
	struct rsp_tblock k;
	CHECK("cut: decodes", rsp_tframe_next(buf, n, &off, &f, 0) == 1 && off == n);
	CHECK("cut: a shortened", rsp_tframe_block_next(&f, &bo, &k) == 1 && k.kind == 'M' &&
	      k.addr == 0x1000 && k.len == 5 && memcmp(k.data, "AAAAA", 5) == 0);
	CHECK("cut: b gone, V next", rsp_tframe_block_next(&f, &bo, &k) == 1 && k.kind == 'V' &&
	      k.num == 5 && k.value == 77);
	CHECK("cut: c trimmed", rsp_tframe_block_next(&f, &bo, &k) == 1 && k.kind == 'M' &&
	      k.addr == 0x3000 && k.len == 2 && memcmp(k.data, "CC", 2) == 0);
	CHECK("cut: end", rsp_tframe_block_next(&f, &bo, &k) == 0);
}

static void test_gdbserver_frames(void)
{
	const char *root = getenv("GOTAP_ROOT");
	char path[4096];
	snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_qtdp/gdbserver_tfile_frames",
		 root ? root : ".");
	FILE *fp = fopen(path, "rb");
	if (!fp) { SKIP("tframe: gdbserver frames", "fixture not found"); return; }
	static uint8_t d[16384];
	size_t len = fread(d, 1, sizeof d, fp);
	fclose(fp);
	size_t off = 0;
	struct rsp_tframe f;
	unsigned frames = 0, tp2 = 0, hello = 0;
	int64_t hits[3] = { 0 };
	bool ok = true;
	while (rsp_tframe_next(d, len, &off, &f, 1 << 20) == 1) {
		f.regs_size = 0x9c4;   /* gdbserver's tdesc (AVX...) is larger than ours: "R 9c4" */
		frames++;
		size_t boff = 0;
		struct rsp_tblock b;
		int r;
		while ((r = rsp_tframe_block_next(&f, &boff, &b)) == 1) {
			if (b.kind == 'M' && b.addr == 0x555555558040 && b.len == 32 &&
			    memcmp(b.data, "hello", 6) == 0)
				hello++;
			if (b.kind == 'V' && b.num == 2 && tp2 < 3) hits[tp2] = b.value;
		}
		if (r != 0) ok = false;
		if (f.tpnum == 2) tp2++;
	}
	CHECK("tframe: gdbserver buffer decodes", ok && frames == 6 && tp2 == 3 && hello == 3);
	CHECK("tframe: gdbserver $hits values 7, 8, 9", hits[0] == 7 && hits[1] == 8 && hits[2] == 9);
}

int main(void)
{
	test_qtdp_gdb13();
	test_qtdp_forms();
	test_qtdv();
	test_tstatus();
	test_frames();
	test_cut_mem();
	test_gdbserver_frames();
	return check_done();
}
