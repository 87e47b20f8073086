/* rsp_ax.c — GDB agent expression interpreter, checker and builder.
 *
 * Semantics from the GDB manual, appendix "Agent Expressions" / "Bytecode
 * Descriptions", opcode numbers from gdb's ax.def.  Where the manual leaves a
 * case open we define it (and the tests pin it down):
 *   - shifts by >= 64: lsh and rsh_unsigned give 0, rsh_signed gives the sign
 *     fill (0 or all ones);
 *   - div_signed INT64_MIN / -1 wraps to INT64_MIN, rem_signed gives 0;
 *   - ext 0 gives 0, ext n >= 64 and zero_ext n >= 64 leave the value alone;
 *   - memory is read as little-endian (amd64);
 *   - tracenz with size 0 records nothing.
 * rsp_ax_eval is memory-safe on any input (fuzzed): every operand read,
 * jump and stack access is bounds-checked, and max_steps ends loops.
 * rsp_ax_run, the one a stub runs per tracepoint hit, is so on code that
 * passed rsp_ax_check (fuzzed against rsp_ax_eval on such code).
 */
#include "rsp_ax.h"

#include <stdbool.h>
#include <string.h>

/* Operand bytes per opcode; -1 marks "not an opcode".  Indexed by opcode. */
static const signed char operand_size[0x35] = {
	[0x00] = -1,
	[RSP_AX_TRACE_QUICK] = 1, [RSP_AX_EXT] = 1, [RSP_AX_IF_GOTO] = 2,
	[RSP_AX_GOTO] = 2, [RSP_AX_CONST8] = 1, [RSP_AX_CONST16] = 2,
	[RSP_AX_CONST32] = 4, [RSP_AX_CONST64] = 8, [RSP_AX_REG] = 2,
	[RSP_AX_ZERO_EXT] = 1, [RSP_AX_GETV] = 2, [RSP_AX_SETV] = 2,
	[RSP_AX_TRACEV] = 2, [RSP_AX_TRACE16] = 2, [RSP_AX_INVALID2] = -1,
	[RSP_AX_PICK] = 1,
};

static const char *const opnames[0x35] = {
	[0x01] = "float", "add", "sub", "mul", "div_signed", "div_unsigned",
	"rem_signed", "rem_unsigned", "lsh", "rsh_signed", "rsh_unsigned",
	"trace", "trace_quick", "log_not", "bit_and", "bit_or", "bit_xor",
	"bit_not", "equal", "less_signed", "less_unsigned", "ext", "ref8",
	"ref16", "ref32", "ref64", "ref_float", "ref_double",
	"ref_long_double", "l_to_d", "d_to_l", "if_goto", "goto", "const8",
	"const16", "const32", "const64", "reg", "end", "dup", "pop",
	"zero_ext", "swap", "getv", "setv", "tracev", "tracenz", "trace16",
	"invalid2", "pick", "rot", "printf",
};

int rsp_ax_operand_size(uint8_t op)
{
	if (op >= sizeof operand_size) return -1;
	return operand_size[op];
}

const char *rsp_ax_opname(uint8_t op)
{
	if (op >= sizeof opnames / sizeof opnames[0] || op == 0 ||
	    op == RSP_AX_INVALID2)
		return NULL;
	return opnames[op];
}

/* The opcodes we decline to run: a distinct error for each family. */
static int unsupported(uint8_t op)
{
	switch (op) {
	case RSP_AX_FLOAT: case RSP_AX_REF_FLOAT: case RSP_AX_REF_DOUBLE:
	case RSP_AX_REF_LONG_DOUBLE: case RSP_AX_L_TO_D: case RSP_AX_D_TO_L:
		return RSP_AX_E_FLOAT;
	case RSP_AX_PRINTF:
		return RSP_AX_E_PRINTF;
	default:
		return rsp_ax_operand_size(op) < 0 ? RSP_AX_E_BADOP : 0;
	}
}

const char *rsp_ax_strerror(int err)
{
	switch (err) {
	case RSP_AX_OK: return "success";
	case RSP_AX_E_BADOP: return "invalid opcode";
	case RSP_AX_E_FLOAT: return "floating point opcode not supported";
	case RSP_AX_E_PRINTF: return "printf opcode not supported";
	case RSP_AX_E_TRUNC: return "operand past the end of the expression";
	case RSP_AX_E_JUMP: return "bad jump target";
	case RSP_AX_E_OVERFLOW: return "stack overflow";
	case RSP_AX_E_UNDERFLOW: return "stack underflow";
	case RSP_AX_E_DIV0: return "division by zero";
	case RSP_AX_E_STEPS: return "step limit reached";
	case RSP_AX_E_NOENV: return "operation not available here";
	case RSP_AX_E_REG: return "register read failed";
	case RSP_AX_E_MEM: return "memory read failed";
	case RSP_AX_E_TRACE: return "trace collection failed";
	case RSP_AX_E_TSV: return "trace state variable access failed";
	case RSP_AX_E_NOEND: return "expression has no end";
	case RSP_AX_E_ARG: return "bad argument";
	default: return "unknown error";
	}
}

/* Big-endian operand of n bytes at p. */
static uint64_t operand(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static int mem_read(const struct rsp_ax_env *env, uint64_t addr, unsigned size,
		    uint64_t *out)
{
	uint8_t b[8];
	if (!env || !env->mem) return RSP_AX_E_NOENV;
	if (env->mem(env->ctx, addr, b, size) < 0) return RSP_AX_E_MEM;
	uint64_t v = 0;
	for (unsigned i = size; i-- > 0;)
		v = v << 8 | b[i];
	*out = v;
	return 0;
}

static int do_trace(const struct rsp_ax_env *env, uint64_t addr, uint64_t size)
{
	if (!env || !env->trace) return RSP_AX_E_NOENV;
	if (size > SIZE_MAX) return RSP_AX_E_TRACE;
	return env->trace(env->ctx, addr, (size_t)size) < 0 ? RSP_AX_E_TRACE : 0;
}

/* tracenz: record the bytes at addr up to and including the first zero,
 * at most size of them.  Memory is read in chunks (a string may end just
 * before an unmapped page, so never read past the first zero's chunk more
 * than needed: chunks stop at 256-byte boundaries of the address). */
static int do_tracenz(const struct rsp_ax_env *env, uint64_t addr, uint64_t size)
{
	if (!env || !env->mem || !env->trace) return RSP_AX_E_NOENV;
	uint64_t n = 0;
	bool found = false;
	while (n < size && !found) {
		uint8_t chunk[256];
		uint64_t a = addr + n;
		size_t k = 256 - (size_t)(a & 255);   /* to the next 256-byte boundary */
		if (k > size - n) k = (size_t)(size - n);
		if (env->mem(env->ctx, a, chunk, k) < 0) return RSP_AX_E_MEM;
		const uint8_t *z = memchr(chunk, 0, k);
		if (z) {
			k = (size_t)(z - chunk) + 1;
			found = true;
		}
		n += k;
	}
	if (n == 0) return 0;
	return do_trace(env, addr, n);
}

int rsp_ax_eval(const uint8_t *code, size_t len, const struct rsp_ax_env *env,
		uint64_t *result, unsigned max_steps)
{
	uint64_t st[RSP_AX_STACK_MAX];
	size_t sp = 0, pc = 0;
	unsigned steps = 0, limit = max_steps ? max_steps : RSP_AX_DEFAULT_STEPS;
	int err;

	if (!code && len) return RSP_AX_E_ARG;
	if (len > RSP_AX_MAX_LEN) return RSP_AX_E_ARG;

#define NEED(k) do { if (sp < (k)) return RSP_AX_E_UNDERFLOW; } while (0)
#define ROOM(k) do { if (RSP_AX_STACK_MAX - sp < (k)) return RSP_AX_E_OVERFLOW; } while (0)
#define TOP st[sp - 1]
#define BINARY(expr) do { NEED(2); uint64_t a = st[sp - 2], b = st[sp - 1]; \
	(void)a; (void)b; sp--; TOP = (expr); } while (0)
#define CHECKED(call) do { if ((err = (call)) < 0) return err; } while (0)

	for (;;) {
		if (pc >= len) return RSP_AX_E_NOEND;
		if (steps++ >= limit) return RSP_AX_E_STEPS;
		uint8_t op = code[pc];
		if ((err = unsupported(op)) < 0) return err;
		int osz = operand_size[op];
		if (len - pc - 1 < (size_t)osz) return RSP_AX_E_TRUNC;
		uint64_t arg = operand(code + pc + 1, osz);
		size_t next = pc + 1 + (size_t)osz;

		switch (op) {
		case RSP_AX_ADD: BINARY(a + b); break;
		case RSP_AX_SUB: BINARY(a - b); break;
		case RSP_AX_MUL: BINARY(a * b); break;
		case RSP_AX_DIV_SIGNED:
		case RSP_AX_REM_SIGNED: {
			NEED(2);
			int64_t a = (int64_t)st[sp - 2], b = (int64_t)st[sp - 1];
			if (b == 0) return RSP_AX_E_DIV0;
			int64_t r;
			if (b == -1)   /* INT64_MIN / -1 overflows in C: define it */
				r = op == RSP_AX_DIV_SIGNED ? (int64_t)(0 - (uint64_t)a) : 0;
			else
				r = op == RSP_AX_DIV_SIGNED ? a / b : a % b;
			sp--;
			TOP = (uint64_t)r;
			break;
		}
		case RSP_AX_DIV_UNSIGNED:
		case RSP_AX_REM_UNSIGNED:
			NEED(2);
			if (st[sp - 1] == 0) return RSP_AX_E_DIV0;
			if (op == RSP_AX_DIV_UNSIGNED) BINARY(a / b);
			else BINARY(a % b);
			break;
		case RSP_AX_LSH: BINARY(b >= 64 ? 0 : a << b); break;
		case RSP_AX_RSH_UNSIGNED: BINARY(b >= 64 ? 0 : a >> b); break;
		case RSP_AX_RSH_SIGNED: {
			/* arithmetic shift without relying on implementation-defined >> */
			NEED(2);
			uint64_t a = st[sp - 2], b = st[sp - 1];
			uint64_t fill = (a >> 63) ? ~(uint64_t)0 : 0;
			uint64_t r = b >= 64 ? fill : b == 0 ? a : (a >> b) | (fill << (64 - b));
			sp--;
			TOP = r;
			break;
		}
		case RSP_AX_TRACE: {
			NEED(2);
			uint64_t addr = st[sp - 2], size = st[sp - 1];
			sp -= 2;
			CHECKED(do_trace(env, addr, size));
			break;
		}
		case RSP_AX_TRACE_QUICK:
		case RSP_AX_TRACE16:
			NEED(1);
			CHECKED(do_trace(env, TOP, arg));
			break;
		case RSP_AX_TRACENZ: {
			NEED(2);
			uint64_t addr = st[sp - 2], size = st[sp - 1];
			sp -= 2;
			CHECKED(do_tracenz(env, addr, size));
			break;
		}
		case RSP_AX_LOG_NOT: NEED(1); TOP = TOP == 0; break;
		case RSP_AX_BIT_AND: BINARY(a & b); break;
		case RSP_AX_BIT_OR: BINARY(a | b); break;
		case RSP_AX_BIT_XOR: BINARY(a ^ b); break;
		case RSP_AX_BIT_NOT: NEED(1); TOP = ~TOP; break;
		case RSP_AX_EQUAL: BINARY(a == b); break;
		case RSP_AX_LESS_SIGNED: BINARY((int64_t)a < (int64_t)b); break;
		case RSP_AX_LESS_UNSIGNED: BINARY(a < b); break;
		case RSP_AX_EXT:
			NEED(1);
			if (arg == 0) {
				TOP = 0;
			} else if (arg < 64) {
				uint64_t sign = (uint64_t)1 << (arg - 1);
				uint64_t v = TOP & ((sign << 1) - 1);
				TOP = (v ^ sign) - sign;
			}
			break;
		case RSP_AX_ZERO_EXT:
			NEED(1);
			if (arg < 64) TOP &= ((uint64_t)1 << arg) - 1;
			break;
		case RSP_AX_REF8: NEED(1); CHECKED(mem_read(env, TOP, 1, &TOP)); break;
		case RSP_AX_REF16: NEED(1); CHECKED(mem_read(env, TOP, 2, &TOP)); break;
		case RSP_AX_REF32: NEED(1); CHECKED(mem_read(env, TOP, 4, &TOP)); break;
		case RSP_AX_REF64: NEED(1); CHECKED(mem_read(env, TOP, 8, &TOP)); break;
		case RSP_AX_IF_GOTO:
			NEED(1);
			if (arg >= len) return RSP_AX_E_JUMP;
			if (st[--sp] != 0) next = (size_t)arg;
			break;
		case RSP_AX_GOTO:
			if (arg >= len) return RSP_AX_E_JUMP;
			next = (size_t)arg;
			break;
		case RSP_AX_CONST8: case RSP_AX_CONST16:
		case RSP_AX_CONST32: case RSP_AX_CONST64:
			ROOM(1);
			st[sp++] = arg;
			break;
		case RSP_AX_REG: {
			ROOM(1);
			if (!env || !env->reg) return RSP_AX_E_NOENV;
			uint64_t v;
			if (env->reg(env->ctx, (unsigned)arg, &v) < 0) return RSP_AX_E_REG;
			st[sp++] = v;
			break;
		}
		case RSP_AX_END:
			if (result) *result = sp ? TOP : 0;
			return 0;
		case RSP_AX_DUP: NEED(1); ROOM(1); st[sp] = st[sp - 1]; sp++; break;
		case RSP_AX_POP: NEED(1); sp--; break;
		case RSP_AX_SWAP: {
			NEED(2);
			uint64_t t = st[sp - 1];
			st[sp - 1] = st[sp - 2];
			st[sp - 2] = t;
			break;
		}
		case RSP_AX_GETV: {
			ROOM(1);
			if (!env || !env->getv) return RSP_AX_E_NOENV;
			int64_t v;
			if (env->getv(env->ctx, (unsigned)arg, &v) < 0) return RSP_AX_E_TSV;
			st[sp++] = (uint64_t)v;
			break;
		}
		case RSP_AX_SETV:
			NEED(1);
			if (!env || !env->setv) return RSP_AX_E_NOENV;
			if (env->setv(env->ctx, (unsigned)arg, (int64_t)TOP) < 0) return RSP_AX_E_TSV;
			break;
		case RSP_AX_TRACEV:
			if (!env || !env->tracev) return RSP_AX_E_NOENV;
			if (env->tracev(env->ctx, (unsigned)arg) < 0) return RSP_AX_E_TRACE;
			break;
		case RSP_AX_PICK:
			if (sp <= arg) return RSP_AX_E_UNDERFLOW;
			ROOM(1);
			st[sp] = st[sp - 1 - (size_t)arg];
			sp++;
			break;
		case RSP_AX_ROT: {
			NEED(3);
			uint64_t a = st[sp - 3], b = st[sp - 2], c = st[sp - 1];
			st[sp - 3] = c;
			st[sp - 2] = a;
			st[sp - 1] = b;
			break;
		}
		default:
			return RSP_AX_E_BADOP;   /* not reached: unsupported() filtered */
		}
		pc = next;
	}
#undef NEED
#undef ROOM
#undef TOP
#undef BINARY
#undef CHECKED
}

/* A 16-bit big-endian operand. */
static inline uint64_t be16(const uint8_t *p) { return (uint64_t)p[0] << 8 | p[1]; }

/* The little-endian value of n (1, 2, 4 or 8) bytes: one load on a
 * little-endian host. */
static inline uint64_t le_value(const uint8_t *b, unsigned n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v = 0;
	memcpy(&v, b, n);
	return v;
#else
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;) v = v << 8 | b[i];
	return v;
#endif
}

/* The interpreter for code rsp_ax_check accepted (see rsp_ax.h): the same
 * machine as rsp_ax_eval, minus what the check already proved for every
 * instruction — a known, supported opcode, its operand inside the code,
 * jump targets at instruction starts, no falling off the end — so each
 * opcode decodes its own operand and nothing else is re-checked.  Stack
 * bounds, the step limit, missing callbacks and every runtime error stay,
 * in the same order as in rsp_ax_eval: fuzz_ax runs both on every checked
 * input and requires the same result, error and callback trail. */
int rsp_ax_run(const uint8_t *code, size_t len, const struct rsp_ax_env *env,
	       uint64_t *result, unsigned max_steps)
{
	uint64_t st[RSP_AX_STACK_MAX];
	size_t sp = 0;
	const uint8_t *pc = code;
	unsigned left = max_steps ? max_steps : RSP_AX_DEFAULT_STEPS;
	int err;

	if (!code || len == 0 || len > RSP_AX_MAX_LEN) return rsp_ax_eval(code, len, env, result, max_steps);

#define NEED(k) do { if (sp < (k)) return RSP_AX_E_UNDERFLOW; } while (0)
#define ROOM(k) do { if (RSP_AX_STACK_MAX - sp < (k)) return RSP_AX_E_OVERFLOW; } while (0)
#define TOP st[sp - 1]
#define BINARY(expr) do { NEED(2); uint64_t a = st[sp - 2], b = st[sp - 1]; \
	sp--; TOP = (expr); } while (0)
#define CHECKED(call) do { if ((err = (call)) < 0) return err; } while (0)
#define REF(n) do { NEED(1); if (!env || !env->mem) return RSP_AX_E_NOENV; \
	uint8_t b_[8]; if (env->mem(env->ctx, TOP, b_, n) < 0) return RSP_AX_E_MEM; \
	TOP = le_value(b_, n); pc++; } while (0)

	for (;;) {
		if (left-- == 0) return RSP_AX_E_STEPS;
		switch (*pc) {
		case RSP_AX_ADD: BINARY(a + b); pc++; break;
		case RSP_AX_SUB: BINARY(a - b); pc++; break;
		case RSP_AX_MUL: BINARY(a * b); pc++; break;
		case RSP_AX_DIV_SIGNED:
		case RSP_AX_REM_SIGNED: {
			NEED(2);
			int64_t a = (int64_t)st[sp - 2], b = (int64_t)st[sp - 1];
			if (b == 0) return RSP_AX_E_DIV0;
			int64_t r;
			if (b == -1)
				r = *pc == RSP_AX_DIV_SIGNED ? (int64_t)(0 - (uint64_t)a) : 0;
			else
				r = *pc == RSP_AX_DIV_SIGNED ? a / b : a % b;
			sp--;
			TOP = (uint64_t)r;
			pc++;
			break;
		}
		case RSP_AX_DIV_UNSIGNED:
			NEED(2);
			if (st[sp - 1] == 0) return RSP_AX_E_DIV0;
			BINARY(a / b);
			pc++;
			break;
		case RSP_AX_REM_UNSIGNED:
			NEED(2);
			if (st[sp - 1] == 0) return RSP_AX_E_DIV0;
			BINARY(a % b);
			pc++;
			break;
		case RSP_AX_LSH: BINARY(b >= 64 ? 0 : a << b); pc++; break;
		case RSP_AX_RSH_UNSIGNED: BINARY(b >= 64 ? 0 : a >> b); pc++; break;
		case RSP_AX_RSH_SIGNED: {
			NEED(2);
			uint64_t a = st[sp - 2], b = st[sp - 1];
			uint64_t fill = (a >> 63) ? ~(uint64_t)0 : 0;
			sp--;
			TOP = b >= 64 ? fill : b == 0 ? a : (a >> b) | (fill << (64 - b));
			pc++;
			break;
		}
		case RSP_AX_TRACE: {
			NEED(2);
			uint64_t addr = st[sp - 2], size = st[sp - 1];
			sp -= 2;
			CHECKED(do_trace(env, addr, size));
			pc++;
			break;
		}
		case RSP_AX_TRACE_QUICK:
			NEED(1);
			if (!env || !env->trace) return RSP_AX_E_NOENV;
			if (env->trace(env->ctx, TOP, pc[1]) < 0) return RSP_AX_E_TRACE;
			pc += 2;
			break;
		case RSP_AX_TRACE16:
			NEED(1);
			if (!env || !env->trace) return RSP_AX_E_NOENV;
			if (env->trace(env->ctx, TOP, (size_t)be16(pc + 1)) < 0) return RSP_AX_E_TRACE;
			pc += 3;
			break;
		case RSP_AX_TRACENZ: {
			NEED(2);
			uint64_t addr = st[sp - 2], size = st[sp - 1];
			sp -= 2;
			CHECKED(do_tracenz(env, addr, size));
			pc++;
			break;
		}
		case RSP_AX_LOG_NOT: NEED(1); TOP = TOP == 0; pc++; break;
		case RSP_AX_BIT_AND: BINARY(a & b); pc++; break;
		case RSP_AX_BIT_OR: BINARY(a | b); pc++; break;
		case RSP_AX_BIT_XOR: BINARY(a ^ b); pc++; break;
		case RSP_AX_BIT_NOT: NEED(1); TOP = ~TOP; pc++; break;
		case RSP_AX_EQUAL: BINARY(a == b); pc++; break;
		case RSP_AX_LESS_SIGNED: BINARY((int64_t)a < (int64_t)b); pc++; break;
		case RSP_AX_LESS_UNSIGNED: BINARY(a < b); pc++; break;
		case RSP_AX_EXT: {
			NEED(1);
			unsigned n = pc[1];
			if (n == 0) {
				TOP = 0;
			} else if (n < 64) {
				uint64_t sign = (uint64_t)1 << (n - 1);
				uint64_t v = TOP & ((sign << 1) - 1);
				TOP = (v ^ sign) - sign;
			}
			pc += 2;
			break;
		}
		case RSP_AX_ZERO_EXT:
			NEED(1);
			if (pc[1] < 64) TOP &= ((uint64_t)1 << pc[1]) - 1;
			pc += 2;
			break;
		case RSP_AX_REF8: REF(1); break;
		case RSP_AX_REF16: REF(2); break;
		case RSP_AX_REF32: REF(4); break;
		case RSP_AX_REF64: REF(8); break;
		case RSP_AX_IF_GOTO:
			NEED(1);
			pc = st[--sp] != 0 ? code + be16(pc + 1) : pc + 3;
			break;
		case RSP_AX_GOTO:
			pc = code + be16(pc + 1);
			break;
		case RSP_AX_CONST8: ROOM(1); st[sp++] = pc[1]; pc += 2; break;
		case RSP_AX_CONST16: ROOM(1); st[sp++] = be16(pc + 1); pc += 3; break;
		case RSP_AX_CONST32: ROOM(1); st[sp++] = operand(pc + 1, 4); pc += 5; break;
		case RSP_AX_CONST64: ROOM(1); st[sp++] = operand(pc + 1, 8); pc += 9; break;
		case RSP_AX_REG: {
			ROOM(1);
			if (!env || !env->reg) return RSP_AX_E_NOENV;
			uint64_t v;
			if (env->reg(env->ctx, (unsigned)be16(pc + 1), &v) < 0) return RSP_AX_E_REG;
			st[sp++] = v;
			pc += 3;
			break;
		}
		case RSP_AX_END:
			if (result) *result = sp ? TOP : 0;
			return 0;
		case RSP_AX_DUP: NEED(1); ROOM(1); st[sp] = st[sp - 1]; sp++; pc++; break;
		case RSP_AX_POP: NEED(1); sp--; pc++; break;
		case RSP_AX_SWAP: {
			NEED(2);
			uint64_t t = st[sp - 1];
			st[sp - 1] = st[sp - 2];
			st[sp - 2] = t;
			pc++;
			break;
		}
		case RSP_AX_GETV: {
			ROOM(1);
			if (!env || !env->getv) return RSP_AX_E_NOENV;
			int64_t v;
			if (env->getv(env->ctx, (unsigned)be16(pc + 1), &v) < 0) return RSP_AX_E_TSV;
			st[sp++] = (uint64_t)v;
			pc += 3;
			break;
		}
		case RSP_AX_SETV:
			NEED(1);
			if (!env || !env->setv) return RSP_AX_E_NOENV;
			if (env->setv(env->ctx, (unsigned)be16(pc + 1), (int64_t)TOP) < 0) return RSP_AX_E_TSV;
			pc += 3;
			break;
		case RSP_AX_TRACEV:
			if (!env || !env->tracev) return RSP_AX_E_NOENV;
			if (env->tracev(env->ctx, (unsigned)be16(pc + 1)) < 0) return RSP_AX_E_TRACE;
			pc += 3;
			break;
		case RSP_AX_PICK:
			if (sp <= pc[1]) return RSP_AX_E_UNDERFLOW;
			ROOM(1);
			st[sp] = st[sp - 1 - pc[1]];
			sp++;
			pc += 2;
			break;
		case RSP_AX_ROT: {
			NEED(3);
			uint64_t a = st[sp - 3], b = st[sp - 2], c = st[sp - 1];
			st[sp - 3] = c;
			st[sp - 2] = a;
			st[sp - 1] = b;
			pc++;
			break;
		}
		default:
			/* not checked code after all: the careful interpreter
			 * gives the error this instruction deserves */
		{
			int e = unsupported(*pc);
			return e < 0 ? e : RSP_AX_E_BADOP;
		}
		}
	}
#undef NEED
#undef ROOM
#undef TOP
#undef BINARY
#undef CHECKED
#undef REF
}

int rsp_ax_check(const uint8_t *code, size_t len)
{
	uint8_t start[(RSP_AX_MAX_LEN + 8) / 8];
	if (!code && len) return RSP_AX_E_ARG;
	if (len > RSP_AX_MAX_LEN) return RSP_AX_E_ARG;
	if (len == 0) return RSP_AX_E_NOEND;
	memset(start, 0, (len + 7) / 8);
	size_t pc = 0;
	uint8_t last = 0;
	while (pc < len) {
		uint8_t op = code[pc];
		int err = unsupported(op);
		if (err < 0) return err;
		int osz = operand_size[op];
		if (len - pc - 1 < (size_t)osz) return RSP_AX_E_TRUNC;
		start[pc / 8] |= (uint8_t)(1u << (pc % 8));
		last = op;
		pc += 1 + (size_t)osz;
	}
	/* Execution must not fall off the end. */
	if (last != RSP_AX_END && last != RSP_AX_GOTO) return RSP_AX_E_NOEND;
	for (pc = 0; pc < len; pc += 1 + (size_t)operand_size[code[pc]]) {
		uint8_t op = code[pc];
		if (op != RSP_AX_GOTO && op != RSP_AX_IF_GOTO) continue;
		uint64_t t = operand(code + pc + 1, 2);
		if (t >= len || !(start[t / 8] & (1u << (t % 8)))) return RSP_AX_E_JUMP;
	}
	return 0;
}

/* ------------------------------------------------------------ builder */

void rsp_axb_init(struct rsp_axb *b, uint8_t *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->err = 0;
}

/* Append op and n big-endian operand bytes of v, all or nothing. */
static void emit(struct rsp_axb *b, uint8_t op, uint64_t v, int n)
{
	if (b->err) return;
	if (b->cap - b->len < (size_t)(1 + n)) {
		b->err = RSP_AX_E_OVERFLOW;
		return;
	}
	b->buf[b->len++] = op;
	for (int i = n - 1; i >= 0; i--)
		b->buf[b->len++] = (uint8_t)(v >> (8 * i));
}

void rsp_axb_op(struct rsp_axb *b, uint8_t op)
{
	emit(b, op, 0, 0);
}

void rsp_axb_op1(struct rsp_axb *b, uint8_t op, uint8_t n)
{
	emit(b, op, n, 1);
}

void rsp_axb_const(struct rsp_axb *b, uint64_t v)
{
	if (v <= 0xff) emit(b, RSP_AX_CONST8, v, 1);
	else if (v <= 0xffff) emit(b, RSP_AX_CONST16, v, 2);
	else if (v <= 0xffffffffu) emit(b, RSP_AX_CONST32, v, 4);
	else emit(b, RSP_AX_CONST64, v, 8);
}

void rsp_axb_reg(struct rsp_axb *b, unsigned regno)
{
	if (regno > 0xffff) {
		if (!b->err) b->err = RSP_AX_E_ARG;
		return;
	}
	emit(b, RSP_AX_REG, regno, 2);
}

void rsp_axb_v(struct rsp_axb *b, uint8_t op, unsigned num)
{
	if (num > 0xffff) {
		if (!b->err) b->err = RSP_AX_E_ARG;
		return;
	}
	emit(b, op, num, 2);
}

size_t rsp_axb_jump(struct rsp_axb *b, uint8_t op)
{
	emit(b, op, 0, 2);
	return b->err ? 0 : b->len - 2;
}

void rsp_axb_patch(struct rsp_axb *b, size_t pos, size_t target)
{
	if (b->err) return;
	if (target > 0xffff || pos < 1 || pos + 2 > b->len) {
		b->err = RSP_AX_E_JUMP;
		return;
	}
	b->buf[pos] = (uint8_t)(target >> 8);
	b->buf[pos + 1] = (uint8_t)target;
}

size_t rsp_axb_here(const struct rsp_axb *b)
{
	return b->len;
}
