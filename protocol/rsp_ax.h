/* rsp_ax.h — GDB agent expressions: a bytecode interpreter, a static checker
 * and a builder.
 *
 * Agent expressions are what gdb sends in tracepoint conditions and 'X'
 * actions (QTDP) and in breakpoint conditions: a small stack machine whose
 * values are 64-bit integers.  The opcode numbers are those of gdb's
 * gdb/ax.def (gdbsupport/ax.def); the semantics are the GDB manual's
 * appendix "Agent Expressions", section "Bytecode Descriptions".  Operands
 * inside the bytecode are big-endian; jump targets are absolute offsets from
 * the start of the expression.  Stack notation below: "a b => c" means a was
 * pushed before b (b is the top), and c replaces them.
 *
 * Pure code: no malloc, no globals, no I/O.  Everything the expression needs
 * from the outside world (registers, memory, the trace buffer, trace state
 * variables) comes through struct rsp_ax_env, whose callbacks may be NULL:
 * an opcode that needs a missing callback fails with RSP_AX_E_NOENV.
 * Floating point opcodes and printf are recognised but not supported
 * (RSP_AX_E_FLOAT / RSP_AX_E_PRINTF): gdb does not emit them for the integer
 * expressions tracepoints use.
 */
#ifndef GOTAP_RSP_AX_H
#define GOTAP_RSP_AX_H

#include <stddef.h>
#include <stdint.h>

/* Opcodes, named after gdb's ax.def.  Operand bytes follow the opcode. */
enum rsp_ax_op {
	RSP_AX_FLOAT = 0x01,           /* prefix: next op is floating point (unsupported) */
	RSP_AX_ADD = 0x02,             /* a b => a+b */
	RSP_AX_SUB = 0x03,             /* a b => a-b */
	RSP_AX_MUL = 0x04,             /* a b => a*b */
	RSP_AX_DIV_SIGNED = 0x05,      /* a b => a/b (signed) */
	RSP_AX_DIV_UNSIGNED = 0x06,
	RSP_AX_REM_SIGNED = 0x07,      /* a b => a%b (signed) */
	RSP_AX_REM_UNSIGNED = 0x08,
	RSP_AX_LSH = 0x09,             /* a b => a<<b (0 when b >= 64) */
	RSP_AX_RSH_SIGNED = 0x0a,      /* a b => a>>b arithmetic (sign fill when b >= 64) */
	RSP_AX_RSH_UNSIGNED = 0x0b,    /* a b => a>>b logical (0 when b >= 64) */
	RSP_AX_TRACE = 0x0c,           /* addr size => ; record size bytes at addr */
	RSP_AX_TRACE_QUICK = 0x0d,     /* n(u8): addr => addr ; record n bytes at addr */
	RSP_AX_LOG_NOT = 0x0e,         /* a => !a */
	RSP_AX_BIT_AND = 0x0f,
	RSP_AX_BIT_OR = 0x10,
	RSP_AX_BIT_XOR = 0x11,
	RSP_AX_BIT_NOT = 0x12,         /* a => ~a */
	RSP_AX_EQUAL = 0x13,           /* a b => a==b */
	RSP_AX_LESS_SIGNED = 0x14,     /* a b => a<b */
	RSP_AX_LESS_UNSIGNED = 0x15,
	RSP_AX_EXT = 0x16,             /* n(u8): sign-extend from n bits */
	RSP_AX_REF8 = 0x17,            /* addr => *(uint8_t *)addr, zero-extended */
	RSP_AX_REF16 = 0x18,
	RSP_AX_REF32 = 0x19,
	RSP_AX_REF64 = 0x1a,
	RSP_AX_REF_FLOAT = 0x1b,       /* unsupported */
	RSP_AX_REF_DOUBLE = 0x1c,      /* unsupported */
	RSP_AX_REF_LONG_DOUBLE = 0x1d, /* unsupported */
	RSP_AX_L_TO_D = 0x1e,          /* unsupported */
	RSP_AX_D_TO_L = 0x1f,          /* unsupported */
	RSP_AX_IF_GOTO = 0x20,         /* off(u16): a => ; jump to off if a != 0 */
	RSP_AX_GOTO = 0x21,            /* off(u16): jump to off */
	RSP_AX_CONST8 = 0x22,          /* n(u8): => n (zero-extended) */
	RSP_AX_CONST16 = 0x23,         /* n(u16) */
	RSP_AX_CONST32 = 0x24,         /* n(u32) */
	RSP_AX_CONST64 = 0x25,         /* n(u64) */
	RSP_AX_REG = 0x26,             /* n(u16): => value of register n */
	RSP_AX_END = 0x27,             /* stop; the top of stack is the result */
	RSP_AX_DUP = 0x28,             /* a => a a */
	RSP_AX_POP = 0x29,             /* a => */
	RSP_AX_ZERO_EXT = 0x2a,        /* n(u8): clear the bits above the low n */
	RSP_AX_SWAP = 0x2b,            /* a b => b a */
	RSP_AX_GETV = 0x2c,            /* n(u16): => value of trace state variable n */
	RSP_AX_SETV = 0x2d,            /* n(u16): v => v ; variable n = v */
	RSP_AX_TRACEV = 0x2e,          /* n(u16): record variable n's value */
	RSP_AX_TRACENZ = 0x2f,         /* addr size => ; record bytes up to and with the first 0, at most size */
	RSP_AX_TRACE16 = 0x30,         /* n(u16): addr => addr ; record n bytes at addr */
	RSP_AX_INVALID2 = 0x31,        /* never valid */
	RSP_AX_PICK = 0x32,            /* n(u8): a_n ... a_0 => a_n ... a_0 a_n (0 = dup) */
	RSP_AX_ROT = 0x33,             /* a b c => c a b */
	RSP_AX_PRINTF = 0x34,          /* unsupported */
};

/* Errors: rsp_ax_eval and rsp_ax_check return 0 or one of these (< 0). */
enum rsp_ax_err {
	RSP_AX_OK = 0,
	RSP_AX_E_BADOP = -1,      /* unknown or invalid opcode */
	RSP_AX_E_FLOAT = -2,      /* floating point opcode: not supported */
	RSP_AX_E_PRINTF = -3,     /* printf opcode: not supported */
	RSP_AX_E_TRUNC = -4,      /* operand runs past the end of the code */
	RSP_AX_E_JUMP = -5,       /* jump target outside the code or inside an instruction */
	RSP_AX_E_OVERFLOW = -6,   /* stack deeper than RSP_AX_STACK_MAX */
	RSP_AX_E_UNDERFLOW = -7,  /* pop from an empty stack (or pick too deep) */
	RSP_AX_E_DIV0 = -8,       /* division or remainder by zero */
	RSP_AX_E_STEPS = -9,      /* step limit reached (a loop that did not end) */
	RSP_AX_E_NOENV = -10,     /* the opcode needs a callback the env does not have */
	RSP_AX_E_REG = -11,       /* register read failed */
	RSP_AX_E_MEM = -12,       /* memory read failed */
	RSP_AX_E_TRACE = -13,     /* trace callback failed (buffer full, ...) */
	RSP_AX_E_TSV = -14,       /* trace state variable callback failed */
	RSP_AX_E_NOEND = -15,     /* execution ran off the end without 'end' */
	RSP_AX_E_ARG = -16,       /* bad argument (NULL code with len > 0, ...) */
};

#define RSP_AX_STACK_MAX 64          /* entries */
#define RSP_AX_DEFAULT_STEPS 100000u /* opcodes executed per evaluation */
#define RSP_AX_MAX_LEN 0xffffu       /* jump offsets are 16-bit: longer code is refused */

/* The world an expression runs against.  Every callback returns 0 on success
 * or a negative value (e.g. -errno) on failure; any may be NULL. */
struct rsp_ax_env {
	void *ctx;
	/* Register regno in gdb's amd64 numbering (enum rsp_amd64_regno). */
	int (*reg)(void *ctx, unsigned regno, uint64_t *val);
	/* Read len bytes at addr into buf (len <= 8 for ref*, up to the
	 * tracenz size for tracenz, which reads in chunks of at most 256). */
	int (*mem)(void *ctx, uint64_t addr, void *buf, size_t len);
	/* Record the memory block [addr, addr+len) into the trace frame.  len is
	 * whatever the expression computed (trace pops it from the stack): the
	 * callee must bound it (fail, or record what fits). */
	int (*trace)(void *ctx, uint64_t addr, size_t len);
	int (*getv)(void *ctx, unsigned num, int64_t *val);   /* trace state variables */
	int (*setv)(void *ctx, unsigned num, int64_t val);
	int (*tracev)(void *ctx, unsigned num);               /* record variable num */
};

/* Evaluate code[0..len) against env.  Returns 0 and stores in *result (if not
 * NULL) the top of the stack when 'end' executes (0 if the stack is empty),
 * or a negative RSP_AX_E_* code.  max_steps bounds the opcodes executed
 * (0 = RSP_AX_DEFAULT_STEPS), so a looping expression cannot hang the caller.
 * The stack holds at most RSP_AX_STACK_MAX entries.  Side effects made
 * before an error (trace, setv) stay made. */
int rsp_ax_eval(const uint8_t *code, size_t len, const struct rsp_ax_env *env,
		uint64_t *result, unsigned max_steps);

/* rsp_ax_eval for code that passed rsp_ax_check(code, len) == 0 (a stub
 * checks once, when the expression arrives, and runs it on every hit): same
 * result, errors and callbacks, in the same order, without re-checking per
 * instruction what the check proved (opcodes, operands, jump targets, the
 * end).  Stack bounds, the step limit and the callbacks' errors are still
 * checked.  Code that did not pass the check is undefined behaviour (it may
 * read past the end of code or jump anywhere inside it): use rsp_ax_eval. */
int rsp_ax_run(const uint8_t *code, size_t len, const struct rsp_ax_env *env,
	       uint64_t *result, unsigned max_steps);

/* Static validation, as a stub does when the expression arrives (QTDP):
 * every opcode known and supported, operands complete, every jump target the
 * start of an instruction, len <= RSP_AX_MAX_LEN, and the code ends with an
 * instruction boundary.  Returns 0 or a negative RSP_AX_E_*.  Stack depth is
 * not checked here (it depends on the path taken); eval checks it. */
int rsp_ax_check(const uint8_t *code, size_t len);

/* A short English description of an RSP_AX_E_* code (static string). */
const char *rsp_ax_strerror(int err);

/* Name of an opcode as in ax.def ("add", "ref64", ...), or NULL if unknown. */
const char *rsp_ax_opname(uint8_t op);

/* Number of operand bytes that follow opcode op (0, 1, 2, 4 or 8), or -1 if
 * op is not an opcode. */
int rsp_ax_operand_size(uint8_t op);

/* ------------------------------------------------------------ builder
 * Builds bytecode into a fixed caller buffer (for the analyzer).  On
 * overflow b->err is set to RSP_AX_E_OVERFLOW and nothing more is written;
 * check b->err once at the end.  Typical use:
 *
 *	struct rsp_axb b; uint8_t buf[256];
 *	rsp_axb_init(&b, buf, sizeof buf);
 *	rsp_axb_reg(&b, RSP_AMD64_RSP);
 *	rsp_axb_op1(&b, RSP_AX_TRACE_QUICK, 16);
 *	rsp_axb_op(&b, RSP_AX_END);
 *	if (b.err) ...; send buf[0..b.len)
 */
struct rsp_axb {
	uint8_t *buf;
	size_t len, cap;
	int err;
};

void rsp_axb_init(struct rsp_axb *b, uint8_t *buf, size_t cap);
/* A plain opcode (no operand). */
void rsp_axb_op(struct rsp_axb *b, uint8_t op);
/* An opcode with a one-byte operand: ext, zero_ext, trace_quick, pick, const8. */
void rsp_axb_op1(struct rsp_axb *b, uint8_t op, uint8_t n);
/* Push v with the smallest constN that holds it (zero-extended). */
void rsp_axb_const(struct rsp_axb *b, uint64_t v);
/* Push register regno. */
void rsp_axb_reg(struct rsp_axb *b, unsigned regno);
/* getv / setv / tracev / trace16 with a 16-bit operand. */
void rsp_axb_v(struct rsp_axb *b, uint8_t op, unsigned num);
/* goto / if_goto with a placeholder target; returns the position to patch. */
size_t rsp_axb_jump(struct rsp_axb *b, uint8_t op);
/* Set the target of the jump whose position rsp_axb_jump returned. */
void rsp_axb_patch(struct rsp_axb *b, size_t pos, size_t target);
/* Current length = offset of the next instruction (a jump target). */
size_t rsp_axb_here(const struct rsp_axb *b);

#endif /* GOTAP_RSP_AX_H */
