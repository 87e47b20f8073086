/* proto_ax.c — unit tests of the agent expression interpreter, checker and builder.
 *
 * A fake environment stands in for the target: 4 KiB of memory at 0x10000,
 * sixty registers, eight trace state variables and a log of what the
 * expression traced.  Besides one test per opcode and per error path there is
 * the program the analyzer runs on Go stacks: walk a frame-pointer chain and
 * collect 16 bytes (saved rbp, return address) per frame.
 */
#include <string.h>

#include "../lib/check.h"
#include "rsp.h"
#include "rsp_ax.h"

#define MEM_BASE 0x10000u
#define MEM_SIZE 4096u

struct fake {
	uint8_t mem[MEM_SIZE];
	uint64_t regs[RSP_AMD64_NREGS];
	int64_t tsv[8];
	struct { uint64_t addr; size_t len; } traced[64];
	unsigned ntraced;
	unsigned tracev_log[8];
	unsigned ntracev;
	unsigned mem_calls;
	int fail_trace;     /* trace callback fails after this many calls (0 = never) */
};

static int f_reg(void *ctx, unsigned regno, uint64_t *val)
{
	struct fake *f = ctx;
	if (regno >= RSP_AMD64_NREGS) return -22;
	*val = f->regs[regno];
	return 0;
}

static int f_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct fake *f = ctx;
	f->mem_calls++;
	if (addr < MEM_BASE || addr - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (addr - MEM_BASE))
		return -14;
	memcpy(buf, f->mem + (addr - MEM_BASE), len);
	return 0;
}

static int f_trace(void *ctx, uint64_t addr, size_t len)
{
	struct fake *f = ctx;
	if (f->fail_trace && f->ntraced + 1 >= (unsigned)f->fail_trace) return -28;
	if (f->ntraced >= 64) return -28;
	f->traced[f->ntraced].addr = addr;
	f->traced[f->ntraced].len = len;
	f->ntraced++;
	return 0;
}

static int f_getv(void *ctx, unsigned num, int64_t *val)
{
	struct fake *f = ctx;
	if (num >= 8) return -2;
	*val = f->tsv[num];
	return 0;
}

static int f_setv(void *ctx, unsigned num, int64_t val)
{
	struct fake *f = ctx;
	if (num >= 8) return -2;
	f->tsv[num] = val;
	return 0;
}

static int f_tracev(void *ctx, unsigned num)
{
	struct fake *f = ctx;
	if (num >= 8) return -2;
	if (f->ntracev < 8) f->tracev_log[f->ntracev++] = num;
	return 0;
}

static struct fake F;
static struct rsp_ax_env ENV = { &F, f_reg, f_mem, f_trace, f_getv, f_setv, f_tracev };

static void reset(void)
{
	memset(&F, 0, sizeof F);
	for (unsigned i = 0; i < MEM_SIZE; i++)
		F.mem[i] = (uint8_t)(i * 7 + 3);
	for (unsigned i = 0; i < RSP_AMD64_NREGS; i++)
		F.regs[i] = 0x1000 + i;
}

/* Programs run through both interpreters, and those that disagreed. */
static unsigned ran_both, disagreed;

/* Evaluate; returns the error and stores the result.  Code that passes
 * rsp_ax_check also goes through rsp_ax_run from the same starting state:
 * it must end with the same error, result and fake state (memory reads,
 * traces, variables). */
static int run(const uint8_t *code, size_t len, uint64_t *res)
{
	static struct fake before, after;
	before = F;
	*res = 0xdeadbeef;
	int err = rsp_ax_eval(code, len, &ENV, res, 0);
	if (rsp_ax_check(code, len) == 0) {
		uint64_t r2 = 0xdeadbeef;
		after = F;
		F = before;
		int err2 = rsp_ax_run(code, len, &ENV, &r2, 0);
		ran_both++;
		if (err2 != err || r2 != *res || memcmp(&after, &F, sizeof F) != 0) disagreed++;
		F = after;
	}
	return err;
}

/* Evaluate "a b OP end" with a, b as const64. */
static int binop(uint8_t op, uint64_t a, uint64_t b, uint64_t *res)
{
	uint8_t c[32];
	size_t n = 0;
	c[n++] = RSP_AX_CONST64;
	for (int i = 7; i >= 0; i--) c[n++] = (uint8_t)(a >> (8 * i));
	c[n++] = RSP_AX_CONST64;
	for (int i = 7; i >= 0; i--) c[n++] = (uint8_t)(b >> (8 * i));
	c[n++] = op;
	c[n++] = RSP_AX_END;
	return run(c, n, res);
}

static bool bin_is(uint8_t op, uint64_t a, uint64_t b, uint64_t want)
{
	uint64_t r;
	return binop(op, a, b, &r) == 0 && r == want;
}

/* Evaluate "a OP end" (unary) or "a OP n end" (op with one-byte operand). */
static bool un_is(uint8_t op, int operand, uint64_t a, uint64_t want)
{
	uint8_t c[16];
	size_t n = 0;
	c[n++] = RSP_AX_CONST64;
	for (int i = 7; i >= 0; i--) c[n++] = (uint8_t)(a >> (8 * i));
	c[n++] = op;
	if (operand >= 0) c[n++] = (uint8_t)operand;
	c[n++] = RSP_AX_END;
	uint64_t r;
	return run(c, n, &r) == 0 && r == want;
}

#define M1 UINT64_MAX
#define MIN64 ((uint64_t)1 << 63)

static void test_arith(void)
{
	reset();
	CHECK("add", bin_is(RSP_AX_ADD, 2, 3, 5));
	CHECK("add wraps", bin_is(RSP_AX_ADD, M1, 2, 1));
	CHECK("sub", bin_is(RSP_AX_SUB, 2, 3, M1));
	CHECK("mul", bin_is(RSP_AX_MUL, 7, 6, 42));
	CHECK("mul wraps", bin_is(RSP_AX_MUL, MIN64, 2, 0));
	CHECK("div_signed", bin_is(RSP_AX_DIV_SIGNED, (uint64_t)-7, 2, (uint64_t)-3));
	CHECK("div_signed INT64_MIN/-1 wraps", bin_is(RSP_AX_DIV_SIGNED, MIN64, M1, MIN64));
	CHECK("div_unsigned", bin_is(RSP_AX_DIV_UNSIGNED, (uint64_t)-8, 2, M1 / 2 - 3));
	CHECK("rem_signed", bin_is(RSP_AX_REM_SIGNED, (uint64_t)-7, 2, M1));
	CHECK("rem_signed INT64_MIN%-1 = 0", bin_is(RSP_AX_REM_SIGNED, MIN64, M1, 0));
	CHECK("rem_unsigned", bin_is(RSP_AX_REM_UNSIGNED, 17, 5, 2));
	uint64_t r;
	CHECK("div_signed by zero", binop(RSP_AX_DIV_SIGNED, 1, 0, &r) == RSP_AX_E_DIV0);
	CHECK("div_unsigned by zero", binop(RSP_AX_DIV_UNSIGNED, 1, 0, &r) == RSP_AX_E_DIV0);
	CHECK("rem_signed by zero", binop(RSP_AX_REM_SIGNED, 1, 0, &r) == RSP_AX_E_DIV0);
	CHECK("rem_unsigned by zero", binop(RSP_AX_REM_UNSIGNED, 1, 0, &r) == RSP_AX_E_DIV0);

	CHECK("lsh", bin_is(RSP_AX_LSH, 1, 63, MIN64));
	CHECK("lsh 64 = 0", bin_is(RSP_AX_LSH, 1, 64, 0));
	CHECK("lsh huge = 0", bin_is(RSP_AX_LSH, 1, M1, 0));
	CHECK("rsh_unsigned", bin_is(RSP_AX_RSH_UNSIGNED, MIN64, 63, 1));
	CHECK("rsh_unsigned 64 = 0", bin_is(RSP_AX_RSH_UNSIGNED, M1, 64, 0));
	CHECK("rsh_signed negative", bin_is(RSP_AX_RSH_SIGNED, MIN64, 62, (uint64_t)-2));
	CHECK("rsh_signed positive", bin_is(RSP_AX_RSH_SIGNED, 0x100, 4, 0x10));
	CHECK("rsh_signed by 0", bin_is(RSP_AX_RSH_SIGNED, MIN64 | 5, 0, MIN64 | 5));
	CHECK("rsh_signed 64 negative = -1", bin_is(RSP_AX_RSH_SIGNED, MIN64, 64, M1));
	CHECK("rsh_signed 200 positive = 0", bin_is(RSP_AX_RSH_SIGNED, 12345, 200, 0));

	CHECK("bit_and", bin_is(RSP_AX_BIT_AND, 0xf0f0, 0xff00, 0xf000));
	CHECK("bit_or", bin_is(RSP_AX_BIT_OR, 0xf0f0, 0x0f00, 0xfff0));
	CHECK("bit_xor", bin_is(RSP_AX_BIT_XOR, 0xff, 0x0f, 0xf0));
	CHECK("bit_not", un_is(RSP_AX_BIT_NOT, -1, 0, M1));
	CHECK("log_not 0", un_is(RSP_AX_LOG_NOT, -1, 0, 1));
	CHECK("log_not 5", un_is(RSP_AX_LOG_NOT, -1, 5, 0));
	CHECK("equal yes", bin_is(RSP_AX_EQUAL, 9, 9, 1));
	CHECK("equal no", bin_is(RSP_AX_EQUAL, 9, 8, 0));
	CHECK("less_signed -1 < 1", bin_is(RSP_AX_LESS_SIGNED, M1, 1, 1));
	CHECK("less_signed 1 < -1 false", bin_is(RSP_AX_LESS_SIGNED, 1, M1, 0));
	CHECK("less_unsigned 1 < max", bin_is(RSP_AX_LESS_UNSIGNED, 1, M1, 1));
	CHECK("less_unsigned max < 1 false", bin_is(RSP_AX_LESS_UNSIGNED, M1, 1, 0));
	CHECK("less_signed equal false", bin_is(RSP_AX_LESS_SIGNED, 4, 4, 0));

	CHECK("ext 8 negative", un_is(RSP_AX_EXT, 8, 0x80, (uint64_t)-128));
	CHECK("ext 8 positive, clears high bits", un_is(RSP_AX_EXT, 8, 0x1234567f, 0x7f));
	CHECK("ext 32", un_is(RSP_AX_EXT, 32, 0xffffffffu, M1));
	CHECK("ext 1", un_is(RSP_AX_EXT, 1, 1, M1));
	CHECK("ext 0 = 0", un_is(RSP_AX_EXT, 0, 0x55, 0));
	CHECK("ext 64 no-op", un_is(RSP_AX_EXT, 64, 0x8000, 0x8000));
	CHECK("ext 200 no-op", un_is(RSP_AX_EXT, 200, 0x8000, 0x8000));
	CHECK("zero_ext 8", un_is(RSP_AX_ZERO_EXT, 8, M1, 0xff));
	CHECK("zero_ext 0", un_is(RSP_AX_ZERO_EXT, 0, M1, 0));
	CHECK("zero_ext 63", un_is(RSP_AX_ZERO_EXT, 63, M1, M1 >> 1));
	CHECK("zero_ext 64 no-op", un_is(RSP_AX_ZERO_EXT, 64, M1, M1));
}

static void test_consts_stack(void)
{
	uint64_t r;
	reset();
	const uint8_t c8[] = { RSP_AX_CONST8, 0xff, RSP_AX_END };
	CHECK("const8 zero-extends", run(c8, sizeof c8, &r) == 0 && r == 0xff);
	const uint8_t c16[] = { RSP_AX_CONST16, 0x12, 0x34, RSP_AX_END };
	CHECK("const16 big-endian", run(c16, sizeof c16, &r) == 0 && r == 0x1234);
	const uint8_t c32[] = { RSP_AX_CONST32, 0x89, 0xab, 0xcd, 0xef, RSP_AX_END };
	CHECK("const32", run(c32, sizeof c32, &r) == 0 && r == 0x89abcdef);
	const uint8_t c64[] = { RSP_AX_CONST64, 1, 2, 3, 4, 5, 6, 7, 8, RSP_AX_END };
	CHECK("const64", run(c64, sizeof c64, &r) == 0 && r == 0x0102030405060708);
	const uint8_t empty[] = { RSP_AX_END };
	CHECK("end on empty stack gives 0", run(empty, 1, &r) == 0 && r == 0);
	const uint8_t nores[] = { RSP_AX_CONST8, 1, RSP_AX_END };
	CHECK("NULL result pointer ok", rsp_ax_eval(nores, 3, &ENV, NULL, 0) == 0);

	const uint8_t dup[] = { RSP_AX_CONST8, 3, RSP_AX_DUP, RSP_AX_MUL, RSP_AX_END };
	CHECK("dup", run(dup, sizeof dup, &r) == 0 && r == 9);
	const uint8_t pop[] = { RSP_AX_CONST8, 3, RSP_AX_CONST8, 4, RSP_AX_POP, RSP_AX_END };
	CHECK("pop", run(pop, sizeof pop, &r) == 0 && r == 3);
	const uint8_t swap[] = { RSP_AX_CONST8, 10, RSP_AX_CONST8, 3, RSP_AX_SWAP, RSP_AX_SUB, RSP_AX_END };
	CHECK("swap", run(swap, sizeof swap, &r) == 0 && r == (uint64_t)-7);
	/* rot: a b c => c a b (top c becomes third, b becomes the top) */
	const uint8_t rot[] = { RSP_AX_CONST8, 1, RSP_AX_CONST8, 2, RSP_AX_CONST8, 3, RSP_AX_ROT, RSP_AX_END };
	const uint8_t rot_pop1[] = { RSP_AX_CONST8, 1, RSP_AX_CONST8, 2, RSP_AX_CONST8, 3, RSP_AX_ROT,
				     RSP_AX_POP, RSP_AX_END };
	const uint8_t rot_pop2[] = { RSP_AX_CONST8, 1, RSP_AX_CONST8, 2, RSP_AX_CONST8, 3, RSP_AX_ROT,
				     RSP_AX_POP, RSP_AX_POP, RSP_AX_END };
	uint64_t r1, r2;
	CHECK("rot: a b c => c a b",
	      run(rot, sizeof rot, &r) == 0 && r == 2 &&
	      run(rot_pop1, sizeof rot_pop1, &r1) == 0 && r1 == 1 &&
	      run(rot_pop2, sizeof rot_pop2, &r2) == 0 && r2 == 3);
	const uint8_t pick0[] = { RSP_AX_CONST8, 5, RSP_AX_CONST8, 6, RSP_AX_PICK, 0, RSP_AX_END };
	CHECK("pick 0 = dup", run(pick0, sizeof pick0, &r) == 0 && r == 6);
	const uint8_t pick1[] = { RSP_AX_CONST8, 5, RSP_AX_CONST8, 6, RSP_AX_PICK, 1, RSP_AX_END };
	CHECK("pick 1", run(pick1, sizeof pick1, &r) == 0 && r == 5);
	const uint8_t pick2[] = { RSP_AX_CONST8, 5, RSP_AX_CONST8, 6, RSP_AX_PICK, 2, RSP_AX_END };
	CHECK("pick too deep", run(pick2, sizeof pick2, &r) == RSP_AX_E_UNDERFLOW);

	const uint8_t under[] = { RSP_AX_CONST8, 1, RSP_AX_ADD, RSP_AX_END };
	CHECK("underflow: add with one item", run(under, sizeof under, &r) == RSP_AX_E_UNDERFLOW);
	const uint8_t under_pop[] = { RSP_AX_POP, RSP_AX_END };
	CHECK("underflow: pop empty", run(under_pop, sizeof under_pop, &r) == RSP_AX_E_UNDERFLOW);
	const uint8_t under_rot[] = { RSP_AX_CONST8, 1, RSP_AX_CONST8, 1, RSP_AX_ROT, RSP_AX_END };
	CHECK("underflow: rot with two", run(under_rot, sizeof under_rot, &r) == RSP_AX_E_UNDERFLOW);
	const uint8_t under_if[] = { RSP_AX_IF_GOTO, 0, 3, RSP_AX_END };
	CHECK("underflow: if_goto empty", run(under_if, sizeof under_if, &r) == RSP_AX_E_UNDERFLOW);

	/* 64 pushes fit, the 65th overflows */
	uint8_t deep[2 * 65 + 1];
	for (int i = 0; i < 65; i++) { deep[2 * i] = RSP_AX_CONST8; deep[2 * i + 1] = (uint8_t)i; }
	deep[2 * 64] = RSP_AX_END;
	CHECK("stack: 64 entries fit", run(deep, 2 * 64 + 1, &r) == 0 && r == 63);
	deep[2 * 64] = RSP_AX_CONST8;
	deep[2 * 65] = RSP_AX_END;
	CHECK("stack: 65 entries overflow", run(deep, sizeof deep, &r) == RSP_AX_E_OVERFLOW);
	/* dup loop: overflow rather than anything else */
	const uint8_t duploop[] = { RSP_AX_CONST8, 1, RSP_AX_DUP, RSP_AX_GOTO, 0, 2 };
	CHECK("stack: dup loop overflows", run(duploop, sizeof duploop, &r) == RSP_AX_E_OVERFLOW);
}

static void test_control(void)
{
	uint64_t r;
	reset();
	/* if_goto taken / not taken */
	const uint8_t ifg[] = { RSP_AX_CONST8, 1, RSP_AX_IF_GOTO, 0, 8, RSP_AX_CONST8, 10, RSP_AX_END,
				RSP_AX_CONST8, 20, RSP_AX_END };
	CHECK("if_goto taken", run(ifg, sizeof ifg, &r) == 0 && r == 20);
	uint8_t ifn[sizeof ifg];
	memcpy(ifn, ifg, sizeof ifg);
	ifn[1] = 0;
	CHECK("if_goto not taken", run(ifn, sizeof ifn, &r) == 0 && r == 10);
	const uint8_t gt[] = { RSP_AX_GOTO, 0, 5, RSP_AX_CONST8, 1, RSP_AX_CONST8, 2, RSP_AX_END };
	CHECK("goto", run(gt, sizeof gt, &r) == 0 && r == 2);
	const uint8_t badj[] = { RSP_AX_GOTO, 0, 9, RSP_AX_END };
	CHECK("goto past end", run(badj, sizeof badj, &r) == RSP_AX_E_JUMP);
	const uint8_t badj2[] = { RSP_AX_CONST8, 1, RSP_AX_IF_GOTO, 0xff, 0xff, RSP_AX_END };
	CHECK("if_goto past end", run(badj2, sizeof badj2, &r) == RSP_AX_E_JUMP);
	const uint8_t loop[] = { RSP_AX_GOTO, 0, 0 };
	CHECK("infinite loop stops at the step limit", run(loop, sizeof loop, &r) == RSP_AX_E_STEPS);
	CHECK("custom step limit", rsp_ax_eval(loop, sizeof loop, &ENV, &r, 10) == RSP_AX_E_STEPS);
	/* countdown from 10 using 3 ops per round: needs > 30 steps */
	const uint8_t count[] = { RSP_AX_CONST8, 10,
				  /*2*/ RSP_AX_CONST8, 1, RSP_AX_SUB, RSP_AX_DUP, RSP_AX_IF_GOTO, 0, 2,
				  RSP_AX_END };
	CHECK("counted loop runs to its end", run(count, sizeof count, &r) == 0 && r == 0);
	CHECK("counted loop: step limit 20 hits", rsp_ax_eval(count, sizeof count, &ENV, &r, 20) == RSP_AX_E_STEPS);
	CHECK("rsp_ax_run: custom step limit", rsp_ax_run(loop, sizeof loop, &ENV, &r, 10) == RSP_AX_E_STEPS);
	CHECK("rsp_ax_run: counted loop, step limit 20 hits",
	      rsp_ax_run(count, sizeof count, &ENV, &r, 20) == RSP_AX_E_STEPS);
	const uint8_t noend[] = { RSP_AX_CONST8, 1 };
	CHECK("no end", run(noend, sizeof noend, &r) == RSP_AX_E_NOEND);
	CHECK("empty code", run(NULL, 0, &r) == RSP_AX_E_NOEND);
	CHECK("NULL code with length", run(NULL, 3, &r) == RSP_AX_E_ARG);
	const uint8_t trunc[] = { RSP_AX_CONST32, 1, 2 };
	CHECK("truncated operand", run(trunc, sizeof trunc, &r) == RSP_AX_E_TRUNC);
	const uint8_t trunc_goto[] = { RSP_AX_GOTO, 0 };
	CHECK("truncated goto", run(trunc_goto, sizeof trunc_goto, &r) == RSP_AX_E_TRUNC);
	const uint8_t bad0[] = { 0x00, RSP_AX_END };
	CHECK("opcode 0 invalid", run(bad0, sizeof bad0, &r) == RSP_AX_E_BADOP);
	const uint8_t bad31[] = { RSP_AX_INVALID2, RSP_AX_END };
	CHECK("invalid2 invalid", run(bad31, sizeof bad31, &r) == RSP_AX_E_BADOP);
	const uint8_t bad35[] = { 0x35, RSP_AX_END };
	CHECK("opcode 0x35 invalid", run(bad35, sizeof bad35, &r) == RSP_AX_E_BADOP);
	const uint8_t badff[] = { 0xff, RSP_AX_END };
	CHECK("opcode 0xff invalid", run(badff, sizeof badff, &r) == RSP_AX_E_BADOP);
	static const uint8_t fl[] = { RSP_AX_FLOAT, RSP_AX_REF_FLOAT, RSP_AX_REF_DOUBLE,
				      RSP_AX_REF_LONG_DOUBLE, RSP_AX_L_TO_D, RSP_AX_D_TO_L };
	bool all = true;
	for (size_t i = 0; i < sizeof fl; i++) {
		const uint8_t c[] = { RSP_AX_CONST8, 1, fl[i], RSP_AX_END };
		if (run(c, sizeof c, &r) != RSP_AX_E_FLOAT) all = false;
	}
	CHECK("float opcodes -> E_FLOAT", all);
	const uint8_t pf[] = { RSP_AX_PRINTF, RSP_AX_END };
	CHECK("printf -> E_PRINTF", run(pf, sizeof pf, &r) == RSP_AX_E_PRINTF);
	/* typical gdb condition: $rdi == 5 */
	F.regs[RSP_AMD64_RDI] = 5;
	const uint8_t cond[] = { RSP_AX_REG, 0, RSP_AMD64_RDI, RSP_AX_CONST8, 5, RSP_AX_EQUAL, RSP_AX_END };
	CHECK("condition $rdi == 5 true", run(cond, sizeof cond, &r) == 0 && r == 1);
	F.regs[RSP_AMD64_RDI] = 6;
	CHECK("condition $rdi == 5 false", run(cond, sizeof cond, &r) == 0 && r == 0);
}

static void test_env(void)
{
	uint64_t r;
	reset();
	F.regs[RSP_AMD64_RSP] = 0x7ffe0000;
	const uint8_t reg[] = { RSP_AX_REG, 0, RSP_AMD64_RSP, RSP_AX_END };
	CHECK("reg", run(reg, sizeof reg, &r) == 0 && r == 0x7ffe0000);
	const uint8_t badreg[] = { RSP_AX_REG, 0x01, 0x00, RSP_AX_END };
	CHECK("reg unknown -> E_REG", run(badreg, sizeof badreg, &r) == RSP_AX_E_REG);

	/* memory is bytes i*7+3 at MEM_BASE+i, little endian */
	const uint8_t r8[] = { RSP_AX_CONST32, 0, 1, 0, 1, RSP_AX_REF8, RSP_AX_END };
	CHECK("ref8", run(r8, sizeof r8, &r) == 0 && r == 10);
	const uint8_t r16[] = { RSP_AX_CONST32, 0, 1, 0, 0, RSP_AX_REF16, RSP_AX_END };
	CHECK("ref16 little endian", run(r16, sizeof r16, &r) == 0 && r == 0x0a03);
	const uint8_t r32[] = { RSP_AX_CONST32, 0, 1, 0, 0, RSP_AX_REF32, RSP_AX_END };
	CHECK("ref32", run(r32, sizeof r32, &r) == 0 && r == 0x18110a03);
	const uint8_t r64[] = { RSP_AX_CONST32, 0, 1, 0, 0, RSP_AX_REF64, RSP_AX_END };
	CHECK("ref64", run(r64, sizeof r64, &r) == 0 && r == 0x342d261f18110a03ull);
	const uint8_t rbad[] = { RSP_AX_CONST8, 8, RSP_AX_REF64, RSP_AX_END };
	CHECK("ref64 unreadable -> E_MEM", run(rbad, sizeof rbad, &r) == RSP_AX_E_MEM);
	const uint8_t redge[] = { RSP_AX_CONST32, 0, 1, 0x0f, 0xf9, RSP_AX_REF64, RSP_AX_END };
	CHECK("ref64 straddling the end -> E_MEM", run(redge, sizeof redge, &r) == RSP_AX_E_MEM);

	/* trace: addr size => */
	const uint8_t tr[] = { RSP_AX_CONST32, 0, 1, 0, 0x10, RSP_AX_CONST8, 24, RSP_AX_TRACE,
			       RSP_AX_END };
	CHECK("trace", run(tr, sizeof tr, &r) == 0 && r == 0 && F.ntraced == 1 &&
	      F.traced[0].addr == 0x10010 && F.traced[0].len == 24);
	reset();
	const uint8_t tq[] = { RSP_AX_CONST32, 0, 1, 0, 0x20, RSP_AX_TRACE_QUICK, 16, RSP_AX_END };
	CHECK("trace_quick leaves addr", run(tq, sizeof tq, &r) == 0 && r == 0x10020 &&
	      F.ntraced == 1 && F.traced[0].addr == 0x10020 && F.traced[0].len == 16);
	reset();
	const uint8_t t16[] = { RSP_AX_CONST32, 0, 1, 0, 0x20, RSP_AX_TRACE16, 0x01, 0x00, RSP_AX_END };
	CHECK("trace16 leaves addr", run(t16, sizeof t16, &r) == 0 && r == 0x10020 &&
	      F.ntraced == 1 && F.traced[0].len == 256);
	reset();
	F.fail_trace = 1;
	CHECK("trace failure -> E_TRACE", run(tq, sizeof tq, &r) == RSP_AX_E_TRACE);

	/* tracenz: up to and including the first zero, at most size */
	reset();
	memcpy(F.mem + 0x100, "hello\0world", 12);
	const uint8_t nz[] = { RSP_AX_CONST32, 0, 1, 1, 0, RSP_AX_CONST8, 64, RSP_AX_TRACENZ, RSP_AX_END };
	CHECK("tracenz stops after the zero", run(nz, sizeof nz, &r) == 0 && F.ntraced == 1 &&
	      F.traced[0].addr == 0x10100 && F.traced[0].len == 6);
	reset();
	memcpy(F.mem + 0x100, "hello\0world", 12);
	const uint8_t nz3[] = { RSP_AX_CONST32, 0, 1, 1, 0, RSP_AX_CONST8, 3, RSP_AX_TRACENZ, RSP_AX_END };
	CHECK("tracenz at most size", run(nz3, sizeof nz3, &r) == 0 && F.ntraced == 1 &&
	      F.traced[0].len == 3);
	reset();
	const uint8_t nz0[] = { RSP_AX_CONST32, 0, 1, 1, 0, RSP_AX_CONST8, 0, RSP_AX_TRACENZ, RSP_AX_END };
	CHECK("tracenz size 0 records nothing", run(nz0, sizeof nz0, &r) == 0 && F.ntraced == 0);
	reset();
	F.mem[0x101] = 0;   /* first zero found only after a chunk boundary: 0x10200 */
	for (unsigned i = 0x102; i < 0x300; i++) if (!F.mem[i]) F.mem[i] = 1;
	F.mem[0x280] = 0;
	const uint8_t nzl[] = { RSP_AX_CONST32, 0, 1, 1, 2, RSP_AX_CONST16, 4, 0, RSP_AX_TRACENZ, RSP_AX_END };
	CHECK("tracenz across read chunks", run(nzl, sizeof nzl, &r) == 0 && F.ntraced == 1 &&
	      F.traced[0].addr == 0x10102 && F.traced[0].len == 0x280 - 0x102 + 1);
	reset();
	/* string running into unmapped memory, zero before it: fine */
	memset(F.mem + MEM_SIZE - 8, 'x', 8);
	F.mem[MEM_SIZE - 1] = 0;
	const uint8_t nze[] = { RSP_AX_CONST32, 0, 1, 0x0f, 0xf8, RSP_AX_CONST16, 0x10, 0, RSP_AX_TRACENZ, RSP_AX_END };
	CHECK("tracenz near unmapped memory", run(nze, sizeof nze, &r) == 0 && F.ntraced == 1 &&
	      F.traced[0].len == 8);
	F.mem[MEM_SIZE - 1] = 'x';
	F.ntraced = 0;
	CHECK("tracenz into unmapped memory -> E_MEM", run(nze, sizeof nze, &r) == RSP_AX_E_MEM &&
	      F.ntraced == 0);

	/* trace state variables */
	reset();
	F.tsv[3] = -5;
	const uint8_t gv[] = { RSP_AX_GETV, 0, 3, RSP_AX_END };
	CHECK("getv", run(gv, sizeof gv, &r) == 0 && r == (uint64_t)-5);
	const uint8_t sv[] = { RSP_AX_GETV, 0, 3, RSP_AX_CONST8, 1, RSP_AX_ADD, RSP_AX_SETV, 0, 3, RSP_AX_END };
	CHECK("setv leaves the value", run(sv, sizeof sv, &r) == 0 && r == (uint64_t)-4 && F.tsv[3] == -4);
	const uint8_t tv[] = { RSP_AX_TRACEV, 0, 2, RSP_AX_END };
	CHECK("tracev", run(tv, sizeof tv, &r) == 0 && F.ntracev == 1 && F.tracev_log[0] == 2);
	const uint8_t gvbad[] = { RSP_AX_GETV, 0, 9, RSP_AX_END };
	CHECK("getv unknown -> E_TSV", run(gvbad, sizeof gvbad, &r) == RSP_AX_E_TSV);
	const uint8_t svbad[] = { RSP_AX_CONST8, 1, RSP_AX_SETV, 0, 9, RSP_AX_END };
	CHECK("setv unknown -> E_TSV", run(svbad, sizeof svbad, &r) == RSP_AX_E_TSV);

	/* missing callbacks */
	struct rsp_ax_env none = { NULL, NULL, NULL, NULL, NULL, NULL, NULL };
	CHECK("no reg callback", rsp_ax_eval(reg, sizeof reg, &none, &r, 0) == RSP_AX_E_NOENV);
	CHECK("no mem callback", rsp_ax_eval(r64, sizeof r64, &none, &r, 0) == RSP_AX_E_NOENV);
	CHECK("no trace callback", rsp_ax_eval(tq, sizeof tq, &none, &r, 0) == RSP_AX_E_NOENV);
	CHECK("no tracenz callbacks", rsp_ax_eval(nz, sizeof nz, &none, &r, 0) == RSP_AX_E_NOENV);
	CHECK("no getv callback", rsp_ax_eval(gv, sizeof gv, &none, &r, 0) == RSP_AX_E_NOENV);
	CHECK("no setv callback", rsp_ax_eval(sv, sizeof sv, &none, &r, 0) == RSP_AX_E_NOENV);
	CHECK("no tracev callback", rsp_ax_eval(tv, sizeof tv, &none, &r, 0) == RSP_AX_E_NOENV);
	CHECK("NULL env", rsp_ax_eval(reg, sizeof reg, NULL, &r, 0) == RSP_AX_E_NOENV);
	const uint8_t pure[] = { RSP_AX_CONST8, 2, RSP_AX_CONST8, 3, RSP_AX_MUL, RSP_AX_END };
	CHECK("NULL env, pure expression", rsp_ax_eval(pure, sizeof pure, NULL, &r, 0) == 0 && r == 6);
}

/* The analyzer's stack walk: from rbp, follow saved frame pointers and
 * collect [fp, fp+16) per frame, at most `limit` frames, until fp == 0. */
static size_t build_fp_walk(uint8_t *buf, size_t cap, uint8_t limit)
{
	struct rsp_axb b;
	rsp_axb_init(&b, buf, cap);
	rsp_axb_reg(&b, RSP_AMD64_RBP);               /* fp */
	rsp_axb_const(&b, limit);                     /* fp n */
	size_t loop = rsp_axb_here(&b);
	rsp_axb_op(&b, RSP_AX_DUP);
	rsp_axb_op(&b, RSP_AX_LOG_NOT);
	size_t done1 = rsp_axb_jump(&b, RSP_AX_IF_GOTO);   /* n == 0 */
	rsp_axb_const(&b, 1);
	rsp_axb_op(&b, RSP_AX_SUB);                   /* fp n-1 */
	rsp_axb_op(&b, RSP_AX_SWAP);                  /* n-1 fp */
	rsp_axb_op(&b, RSP_AX_DUP);
	rsp_axb_op(&b, RSP_AX_LOG_NOT);
	size_t done2 = rsp_axb_jump(&b, RSP_AX_IF_GOTO);   /* fp == 0 */
	rsp_axb_op1(&b, RSP_AX_TRACE_QUICK, 16);      /* n-1 fp, [fp,fp+16) traced */
	rsp_axb_op(&b, RSP_AX_REF64);                 /* n-1 next */
	rsp_axb_op(&b, RSP_AX_SWAP);                  /* next n-1 */
	size_t back = rsp_axb_jump(&b, RSP_AX_GOTO);
	rsp_axb_patch(&b, back, loop);
	size_t end = rsp_axb_here(&b);
	rsp_axb_op(&b, RSP_AX_END);
	rsp_axb_patch(&b, done1, end);
	rsp_axb_patch(&b, done2, end);
	return b.err ? 0 : b.len;
}

static void put64(uint64_t addr, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		F.mem[addr - MEM_BASE + i] = (uint8_t)(v >> (8 * i));
}

static void test_fp_walk(void)
{
	uint8_t code[64];
	uint64_t r;
	reset();
	size_t n = build_fp_walk(code, sizeof code, 32);
	CHECK("fp walk: builds", n > 0);
	CHECK("fp walk: passes static check", rsp_ax_check(code, n) == 0);
	/* five frames: 0x10100 -> 0x10180 -> 0x10200 -> 0x10300 -> 0x10400 -> 0 */
	const uint64_t fps[] = { 0x10100, 0x10180, 0x10200, 0x10300, 0x10400 };
	for (int i = 0; i < 5; i++) {
		put64(fps[i], i < 4 ? fps[i + 1] : 0);
		put64(fps[i] + 8, 0x401000 + (uint64_t)i * 0x10);
	}
	F.regs[RSP_AMD64_RBP] = fps[0];
	int err = run(code, n, &r);
	bool ok = err == 0 && F.ntraced == 5;
	for (unsigned i = 0; ok && i < 5; i++)
		ok = F.traced[i].addr == fps[i] && F.traced[i].len == 16;
	CHECK("fp walk: 5 frames collected, 16 bytes each", ok);

	/* the frame limit stops a cycle */
	reset();
	put64(0x10100, 0x10180);
	put64(0x10180, 0x10100);
	F.regs[RSP_AMD64_RBP] = 0x10100;
	n = build_fp_walk(code, sizeof code, 7);
	CHECK("fp walk: cycle stops at the frame limit", run(code, n, &r) == 0 && F.ntraced == 7);

	/* a bad frame pointer ends with E_MEM after collecting what it could */
	reset();
	put64(0x10100, 0x999999);
	F.regs[RSP_AMD64_RBP] = 0x10100;
	n = build_fp_walk(code, sizeof code, 32);
	F.fail_trace = 0;
	err = run(code, n, &r);
	CHECK("fp walk: wild pointer -> E_MEM (trace of it attempted first)",
	      err == RSP_AX_E_MEM && F.ntraced == 2 && F.traced[1].addr == 0x999999);
	reset();
	F.regs[RSP_AMD64_RBP] = 0;
	CHECK("fp walk: rbp == 0 collects nothing", run(code, n, &r) == 0 && F.ntraced == 0);
}

static void test_check(void)
{
	const uint8_t ok[] = { RSP_AX_REG, 0, 7, RSP_AX_TRACE_QUICK, 16, RSP_AX_END };
	CHECK("check: ok", rsp_ax_check(ok, sizeof ok) == 0);
	CHECK("check: empty", rsp_ax_check(ok, 0) == RSP_AX_E_NOEND);
	const uint8_t fall[] = { RSP_AX_CONST8, 1 };
	CHECK("check: falls off the end", rsp_ax_check(fall, sizeof fall) == RSP_AX_E_NOEND);
	const uint8_t trunc[] = { RSP_AX_CONST16, 1 };
	CHECK("check: truncated operand", rsp_ax_check(trunc, sizeof trunc) == RSP_AX_E_TRUNC);
	const uint8_t mid[] = { RSP_AX_GOTO, 0, 4, RSP_AX_CONST16, 0x27, 0x27, RSP_AX_END };
	CHECK("check: jump into an operand", rsp_ax_check(mid, sizeof mid) == RSP_AX_E_JUMP);
	const uint8_t past[] = { RSP_AX_GOTO, 0, 7, RSP_AX_END };
	CHECK("check: jump past the end", rsp_ax_check(past, sizeof past) == RSP_AX_E_JUMP);
	const uint8_t good_jump[] = { RSP_AX_CONST8, 0, RSP_AX_IF_GOTO, 0, 6, RSP_AX_END, RSP_AX_CONST8, 1,
				      RSP_AX_END };
	CHECK("check: good jump", rsp_ax_check(good_jump, sizeof good_jump) == 0);
	const uint8_t endgoto[] = { RSP_AX_GOTO, 0, 0 };
	CHECK("check: ends with goto ok (the step limit bounds it)", rsp_ax_check(endgoto, 3) == 0);
	const uint8_t fl[] = { RSP_AX_CONST8, 1, RSP_AX_L_TO_D, RSP_AX_END };
	CHECK("check: float", rsp_ax_check(fl, sizeof fl) == RSP_AX_E_FLOAT);
	const uint8_t pf[] = { RSP_AX_PRINTF, RSP_AX_END };
	CHECK("check: printf", rsp_ax_check(pf, sizeof pf) == RSP_AX_E_PRINTF);
	const uint8_t bad[] = { 0x40, RSP_AX_END };
	CHECK("check: bad opcode", rsp_ax_check(bad, sizeof bad) == RSP_AX_E_BADOP);
	/* every opcode gdb can emit for integer expressions is accepted */
	bool all = true;
	for (unsigned op = 0x02; op <= 0x33; op++) {
		if ((op >= 0x1b && op <= 0x1f) || op == RSP_AX_INVALID2) continue;
		uint8_t c[12] = { (uint8_t)op };
		int osz = rsp_ax_operand_size((uint8_t)op);
		memset(c + 1, 0, 8);
		c[1 + osz] = RSP_AX_END;
		if (rsp_ax_check(c, (size_t)osz + 2) != 0) all = false;
		if (!rsp_ax_opname((uint8_t)op)) all = false;
	}
	CHECK("check: all integer opcodes accepted and named", all);
	CHECK("opname", strcmp(rsp_ax_opname(RSP_AX_TRACENZ), "tracenz") == 0 &&
	      strcmp(rsp_ax_opname(RSP_AX_ROT), "rot") == 0 &&
	      strcmp(rsp_ax_opname(RSP_AX_ADD), "add") == 0 &&
	      strcmp(rsp_ax_opname(RSP_AX_PRINTF), "printf") == 0 &&
	      rsp_ax_opname(0) == NULL && rsp_ax_opname(0x31) == NULL && rsp_ax_opname(0x99) == NULL);
	CHECK("operand sizes", rsp_ax_operand_size(RSP_AX_CONST64) == 8 &&
	      rsp_ax_operand_size(RSP_AX_CONST32) == 4 && rsp_ax_operand_size(RSP_AX_REG) == 2 &&
	      rsp_ax_operand_size(RSP_AX_PICK) == 1 && rsp_ax_operand_size(RSP_AX_ADD) == 0 &&
	      rsp_ax_operand_size(0) == -1 && rsp_ax_operand_size(0xff) == -1);
	CHECK("strerror", strcmp(rsp_ax_strerror(RSP_AX_E_DIV0), "division by zero") == 0 &&
	      strcmp(rsp_ax_strerror(-999), "unknown error") == 0);
}

static void test_builder(void)
{
	uint8_t buf[16];
	struct rsp_axb b;
	rsp_axb_init(&b, buf, sizeof buf);
	rsp_axb_const(&b, 0x12);
	rsp_axb_const(&b, 0x1234);
	rsp_axb_const(&b, 0x12345678);
	CHECK("axb: smallest const", b.err == 0 && b.len == 2 + 3 + 5 &&
	      buf[0] == RSP_AX_CONST8 && buf[2] == RSP_AX_CONST16 && buf[3] == 0x12 && buf[4] == 0x34 &&
	      buf[5] == RSP_AX_CONST32 && buf[6] == 0x12 && buf[9] == 0x78);
	rsp_axb_const(&b, 0x123456789a);   /* 9 bytes: does not fit in 6 left */
	CHECK("axb: overflow sets err, nothing written", b.err == RSP_AX_E_OVERFLOW && b.len == 10);
	rsp_axb_op(&b, RSP_AX_END);
	CHECK("axb: sticky error", b.len == 10);

	uint8_t big[32];
	rsp_axb_init(&b, big, sizeof big);
	rsp_axb_const(&b, UINT64_MAX);
	rsp_axb_reg(&b, RSP_AMD64_RIP);
	rsp_axb_v(&b, RSP_AX_GETV, 0x102);
	CHECK("axb: const64, reg, getv", b.err == 0 && b.len == 9 + 3 + 3 && big[0] == RSP_AX_CONST64 &&
	      big[9] == RSP_AX_REG && big[10] == 0 && big[11] == 16 &&
	      big[12] == RSP_AX_GETV && big[13] == 1 && big[14] == 2);
	rsp_axb_reg(&b, 0x10000);
	CHECK("axb: reg too big", b.err == RSP_AX_E_ARG);
	rsp_axb_init(&b, big, sizeof big);
	size_t j = rsp_axb_jump(&b, RSP_AX_GOTO);
	rsp_axb_patch(&b, j, 0x10000);
	CHECK("axb: jump target too far", b.err == RSP_AX_E_JUMP);
	rsp_axb_init(&b, big, sizeof big);
	rsp_axb_patch(&b, 5, 0);
	CHECK("axb: patch outside the code", b.err == RSP_AX_E_JUMP);
}

int main(void)
{
	test_arith();
	test_consts_stack();
	test_control();
	test_env();
	test_fp_walk();
	test_check();
	test_builder();
	CHECK("rsp_ax_run agrees with rsp_ax_eval on every checked program", ran_both > 50 && disagreed == 0);
	return check_done();
}
