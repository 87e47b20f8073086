/* fuzz_ax.c — libFuzzer target for the agent expression interpreter.
 *
 * Input: byte 0 configures the fake environment (which callbacks exist,
 * whether memory below 0x1000 is unmapped, whether the trace buffer fills
 * up), byte 1 a step limit, the rest is bytecode.  Memory returns
 * deterministic bytes derived from the address, registers from their number.
 * Invariants checked (abort on violation):
 *   - eval returns 0 or a known RSP_AX_E_* code, never anything else;
 *   - code accepted by rsp_ax_check never fails with a static error
 *     (bad opcode, float, printf, truncated, bad jump, no end) at run time;
 *   - evaluation is deterministic (same env state -> same result);
 *   - on checked code rsp_ax_run (the interpreter without per-instruction
 *     checks) agrees with rsp_ax_eval: error, result, traces, variables;
 *   - callbacks are called with sane sizes (ref: 1..8 bytes; tracenz reads
 *     at most 256 bytes per call).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rsp_ax.h"

static void require(int ok)
{
	if (!ok) abort();
}

struct fenv {
	uint8_t cfg;
	unsigned traces;
	uint64_t trace_sum;
	int64_t tsv[4];
};

static int f_reg(void *ctx, unsigned regno, uint64_t *val)
{
	(void)ctx;
	if (regno >= 60) return -22;
	*val = 0x1000ull * regno + 0x7ff0;
	return 0;
}

static int f_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct fenv *e = ctx;
	require(len >= 1 && len <= 256);
	if ((e->cfg & 0x40) && addr < 0x1000) return -14;
	uint8_t *b = buf;
	for (size_t i = 0; i < len; i++) {
		uint64_t a = addr + i;
		uint64_t h = a * 0x9e3779b97f4a7c15ull;
		b[i] = (uint8_t)(h >> 56);
		if ((a & 0x3f) == 0x3f) b[i] = 0;   /* strings end now and then */
	}
	return 0;
}

static int f_trace(void *ctx, uint64_t addr, size_t len)
{
	struct fenv *e = ctx;
	if ((e->cfg & 0x80) && e->traces >= 3) return -28;   /* buffer full */
	e->traces++;
	e->trace_sum += addr * 31 + len;
	return 0;
}

static int f_getv(void *ctx, unsigned num, int64_t *val)
{
	struct fenv *e = ctx;
	if (num >= 4) return -2;
	*val = e->tsv[num];
	return 0;
}

static int f_setv(void *ctx, unsigned num, int64_t val)
{
	struct fenv *e = ctx;
	if (num >= 4) return -2;
	e->tsv[num] = val;
	return 0;
}

static int f_tracev(void *ctx, unsigned num)
{
	struct fenv *e = ctx;
	if (num >= 4) return -2;
	e->traces++;
	return 0;
}

static int eval_with(int (*fn)(const uint8_t *, size_t, const struct rsp_ax_env *, uint64_t *, unsigned),
		     const uint8_t *code, size_t len, uint8_t cfg, unsigned steps,
		     uint64_t *res, struct fenv *fe)
{
	memset(fe, 0, sizeof *fe);
	fe->cfg = cfg;
	fe->tsv[1] = -1;
	struct rsp_ax_env env = {
		fe,
		(cfg & 1) ? f_reg : NULL,
		(cfg & 2) ? f_mem : NULL,
		(cfg & 4) ? f_trace : NULL,
		(cfg & 8) ? f_getv : NULL,
		(cfg & 16) ? f_setv : NULL,
		(cfg & 32) ? f_tracev : NULL,
	};
	*res = 0x5a5a5a5a;
	return fn(code, len, &env, res, steps);
}

static int eval(const uint8_t *code, size_t len, uint8_t cfg, unsigned steps,
		uint64_t *res, struct fenv *fe)
{
	return eval_with(rsp_ax_eval, code, len, cfg, steps, res, fe);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2) return 0;
	uint8_t cfg = data[0];
	unsigned steps = data[1] == 0xff ? 0 : 1u + data[1] * 40u;
	const uint8_t *code = data + 2;
	size_t len = size - 2;

	int chk = rsp_ax_check(code, len);
	require(chk <= 0 && chk >= RSP_AX_E_ARG);

	uint64_t r1, r2;
	struct fenv e1, e2;
	int err = eval(code, len, cfg, steps, &r1, &e1);
	require(err <= 0 && err >= RSP_AX_E_ARG);
	require(rsp_ax_strerror(err) != NULL);
	if (chk == 0) {
		require(err != RSP_AX_E_BADOP && err != RSP_AX_E_FLOAT &&
			err != RSP_AX_E_PRINTF && err != RSP_AX_E_TRUNC &&
			err != RSP_AX_E_JUMP && err != RSP_AX_E_NOEND &&
			err != RSP_AX_E_ARG);
	}
	if (chk == 0) {
		/* the interpreter for checked code: same result, same trail */
		uint64_t r3;
		struct fenv e3;
		int err3 = eval_with(rsp_ax_run, code, len, cfg, steps, &r3, &e3);
		require(err3 == err && r3 == r1 && e1.traces == e3.traces &&
			e1.trace_sum == e3.trace_sum && memcmp(e1.tsv, e3.tsv, sizeof e1.tsv) == 0);
	}
	int err2 = eval(code, len, cfg, steps, &r2, &e2);
	require(err2 == err && e1.traces == e2.traces && e1.trace_sum == e2.trace_sum &&
		memcmp(e1.tsv, e2.tsv, sizeof e1.tsv) == 0);
	if (err == 0) require(r1 == r2);
	else require(r1 == 0x5a5a5a5a);   /* result untouched on error */

	/* A larger step budget changes nothing unless the smaller one ran out. */
	if (err != RSP_AX_E_STEPS && steps) {
		err2 = eval(code, len, cfg, steps * 2, &r2, &e2);
		require(err2 == err && (err != 0 || r2 == r1));
	}

	/* The builder never writes past its buffer and its output is checked
	 * code when built from these bytes as a sequence of constants. */
	uint8_t out[64];
	struct rsp_axb b;
	rsp_axb_init(&b, out, (size_t)(data[1] % 64));
	for (size_t i = 0; i + 1 < len && i < 32; i += 2)
		rsp_axb_const(&b, (uint64_t)code[i] << (code[i + 1] % 64));
	rsp_axb_op(&b, RSP_AX_END);
	require(b.len <= b.cap);
	if (!b.err) require(rsp_ax_check(out, b.len) == 0);
	return 0;
}
