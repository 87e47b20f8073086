/* pt_dstep.c — stepping over a breakpoint without stopping the other threads.
 *
 * Issue 6: the int3 never leaves memory while threads run, and only the
 * thread that hit it stops.  The instruction under the breakpoint is decoded
 * with Zydis when the breakpoint goes in (pt_insn_decode) and is then, when a
 * thread must get past it:
 *   emulated  on the thread's registers when that is cheap and exact: lea,
 *             mov reg,reg / reg,imm, add/sub r64,imm (flags computed as the
 *             CPU does), push r64, relative jmp/jcc/call, near ret.  These
 *             are the instructions at the entry of Go functions (`lea
 *             -N(%rsp),%r12`, `cmp`/`jbe`), after Go's stack-check prologue
 *             (`sub $N,%rsp` at runtime.newstack/copystack's probe point) and
 *             at C function entries (`push %rbp`, `mov %rsp,%rbp`).  Memory
 *             touching ones (push, call, ret) are not emulated while a
 *             watchpoint is set: the real instruction must trigger it.
 *   displaced otherwise: a copy runs in a scratch page mapped into the process
 *             (an mmap syscall injected once, the first time it is needed,
 *             while every thread is held); the thread single-steps there
 *             alone and its rip is mapped back afterwards (gdb's "displaced
 *             stepping", amd64-tdep.c).  A rip-relative operand is rewritten to
 *             use a register the instruction does not touch, loaded with the
 *             address after the original instruction and restored afterwards
 *             (the scratch page may be anywhere, too far for a disp32).  An
 *             indirect call's pushed return address is fixed; indirect jumps
 *             keep the rip they set.
 *   padded    first of all, in auto mode, for a thread resumed with continue
 *             (no client single-step, no signal to deliver, no watchpoint):
 *             a `call rel32`, a push r64 or a displaced kind that neither
 *             uses nor changes rip runs from a jump pad, a relocated copy in
 *             the scratch page followed by `jmp *0(%rip)` back (a call's pad
 *             stores the ORIGINAL return address and jumps to the target, as
 *             gdbserver's fast-tracepoint pads do: amd64_relocate_instruction).
 *             The step-over only sets rip to the pad: a hit costs wait4,
 *             GETREGS, SETREGS, CONT, the bare ptrace floor.  Each breakpoint
 *             has its own 64-byte slot after the displaced-step area, written
 *             once (the first hit) and NEVER rewritten: threads run through
 *             it concurrently and may be inside it at any time; the slot is
 *             reused for the same address and bytes only (the client takes
 *             its breakpoints out and puts them back at every stop); when the
 *             page is full the methods below take over.  A pad is NEVER
 *             visible: a thread that stops inside one (interrupt, group-stop,
 *             asynchronous signal) is single-stepped out of it before the
 *             stop is judged (pt_pad_leave, from pt_wait.c), its signal kept
 *             for the stop it ends in, siginfo included; a fault of the copy
 *             (or of the call pad's stack store) is mapped back to the
 *             breakpoint address with rsp as before, like a displaced step's.
 *             Detach leaves the page and its pads mapped (no thread is inside
 *             one by then: every stop steps them out).
 *   jumps     the int3 itself replaced, for a breakpoint only tracepoints
 *             use (TGT_BP_TRACE: its hits are never client stops) on an
 *             instruction of 5 bytes or more: at its first hit it gets a
 *             JUMP PAD -- an int3, then the pad above -- and `jmp rel32` to
 *             it in place of the int3 (gdbserver's fast-tracepoint jump, with
 *             the collection still done by the stub: the pad traps).  A hit
 *             traps at pad + 1 (pt_wait.c classify_trap) and is reported at
 *             the breakpoint's address, rip = that address in the register
 *             cache while the kernel's stays pad + 1 (th->jp_rip;
 *             pt_regs_store maps a write of the address back); resuming it
 *             writes nothing (pt_step.c): wait4, GETREGS, CONT, nothing else.
 *             Reach: the scratch page is asked for just below the lowest
 *             mapping of the file holding the first address that needs it
 *             (an mmap hint: a non-PIE Go binary's text is at 0x400000); out
 *             of a rel32's reach, the int3 and a plain pad (bp insn.no_jump).
 *             The 5 bytes are written with every thread held (int3 first,
 *             then the tail, then the first byte: pt_poke5) and go back the
 *             same way (pt_jump_out) when anything needs an ordinary int3
 *             there: a client Z0 at the address, a watchpoint, a memory write
 *             into the instruction, a stop-all step-over.  Pads are never
 *             rewritten, so a thread inside one runs on safely.  Reads show
 *             the original bytes, detach restores them, fork children get
 *             them (pt_fork.c: a child entering a pad would die of its int3),
 *             a vfork child sharing the memory gets them and an int3 follows.
 *             A thread needing the original address first (a single-step, a
 *             signal to deliver, a watchpoint) is put back there (the jump
 *             has no effect) and stepped over as any.  Invisible as pads: a
 *             thread stopped at pad + 0 (took the jump, not the int3) is put
 *             back on the address -- its hit comes after, a handler sees the
 *             address; at pad + 1 with its trap still pending (an interrupt
 *             came first) the trap is taken as a hit; anything else at pad +
 *             1 comes after its hit was taken: stepped out (pt_pad_leave).
 *             GOTAP_PT_JUMPPAD=0 disables them.
 *   stop-all  (PT_DSTEP_FALLBACK, pt_step.c) for the rest: syscall/int (the
 *             kernel sees rip, and clone/fork copy it), far branches, other
 *             relative branches (loop, jrcxz, xbegin), rip-relative VEX/EVEX.
 *
 * A displaced step is synchronous: the stub waits for that one thread while
 * the others run on; so one scratch area is enough (use is serialized).
 * Signals that reach the thread meanwhile are handled as in the stop-all
 * method (pt_step.c): passed ones wait until the instruction has run, a
 * fault of the instruction itself is delivered at the ORIGINAL address (a
 * handler such as Go's sigpanic must never see the scratch address), and a
 * reported stop is queued with rip mapped back first.
 *
 * Fork children get a copy of the scratch page (harmless: nothing runs
 * there); exec drops it and the pads (pt_dstep_forget) and the next
 * step-over maps a new one.  Detach leaves the page mapped.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Zydis/Zydis.h>

#include "pt_int.h"

enum pt_step_mode pt_step_mode_env(void)
{
	const char *m = getenv("GOTAP_PT_STEPOVER");
	if (!m) return PT_STEP_AUTO;
	if (strcmp(m, "stopall") == 0) return PT_STEP_STOPALL;
	if (strcmp(m, "displace") == 0) return PT_STEP_DISPLACE;
	return PT_STEP_AUTO;
}

bool pt_jumppad_env(void)
{
	const char *m = getenv("GOTAP_PT_JUMPPAD");
	return !m || strcmp(m, "0") != 0;
}

void pt_dstep_forget(struct tgt *t)
{
	t->scratch = 0;
	t->scratch_failed = false;
	t->scratch_for = 0;
	t->npads = 0;           /* the pads went with the page */
}

/* ------------------------------------------------------------ decoding */

/* Hardware number (0-15) of a 64- or 32-bit GPR, 16 for rip, -1 for none,
 * -2 for anything else. */
static int hwreg(ZydisRegister r)
{
	if (r == ZYDIS_REGISTER_NONE) return -1;
	if (r == ZYDIS_REGISTER_RIP) return 16;
	if (r >= ZYDIS_REGISTER_RAX && r <= ZYDIS_REGISTER_R15) return (int)(r - ZYDIS_REGISTER_RAX);
	if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_R15D) return (int)(r - ZYDIS_REGISTER_EAX);
	return -2;
}

static int gpr_operand(const ZydisDecodedOperand *o, unsigned *size)
{
	if (o->type != ZYDIS_OPERAND_TYPE_REGISTER) return -1;
	int n = hwreg(o->reg.value);
	if (n < 0 || n > 15 || (o->size != 64 && o->size != 32)) return -1;
	*size = o->size / 8;
	return n;
}

static int jcc_code(ZydisMnemonic m)
{
	static const ZydisMnemonic cc[16] = {
		ZYDIS_MNEMONIC_JO, ZYDIS_MNEMONIC_JNO, ZYDIS_MNEMONIC_JB, ZYDIS_MNEMONIC_JNB,
		ZYDIS_MNEMONIC_JZ, ZYDIS_MNEMONIC_JNZ, ZYDIS_MNEMONIC_JBE, ZYDIS_MNEMONIC_JNBE,
		ZYDIS_MNEMONIC_JS, ZYDIS_MNEMONIC_JNS, ZYDIS_MNEMONIC_JP, ZYDIS_MNEMONIC_JNP,
		ZYDIS_MNEMONIC_JL, ZYDIS_MNEMONIC_JNL, ZYDIS_MNEMONIC_JLE, ZYDIS_MNEMONIC_JNLE,
	};
	for (int i = 0; i < 16; i++)
		if (cc[i] == m) return i;
	return -1;
}

/* Simple instructions emulated on the registers.  Returns the kind or 0. */
static int emulable(const ZydisDecodedInstruction *ins, const ZydisDecodedOperand *op,
		    struct pt_insn *in)
{
	unsigned sz = 0, sz2 = 0;
	if (ins->encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY || (ins->attributes & ZYDIS_ATTRIB_HAS_LOCK))
		return 0;
	switch (ins->mnemonic) {
	case ZYDIS_MNEMONIC_LEA:
		in->dst = (int8_t)gpr_operand(&op[0], &sz);
		if (in->dst < 0 || op[1].type != ZYDIS_OPERAND_TYPE_MEMORY || ins->address_width != 64) return 0;
		in->base = (int8_t)hwreg(op[1].mem.base);
		in->index = (int8_t)hwreg(op[1].mem.index);
		if (in->base < -1 || in->index < -1 || in->index == 16) return 0;
		in->scale = op[1].mem.scale ? op[1].mem.scale : 1;
		in->imm = op[1].mem.disp.has_displacement ? op[1].mem.disp.value : 0;
		in->size = (uint8_t)sz;
		return PT_INSN_LEA;
	case ZYDIS_MNEMONIC_MOV:
		in->dst = (int8_t)gpr_operand(&op[0], &sz);
		if (in->dst < 0) return 0;
		in->size = (uint8_t)sz;
		if (op[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
			in->imm = sz == 8 ? (int64_t)op[1].imm.value.u : (int64_t)(uint32_t)op[1].imm.value.u;
			return PT_INSN_MOV_RI;
		}
		in->src = (int8_t)gpr_operand(&op[1], &sz2);
		if (in->src < 0 || sz2 != sz) return 0;
		return PT_INSN_MOV_RR;
	case ZYDIS_MNEMONIC_ADD:
	case ZYDIS_MNEMONIC_SUB:
		in->dst = (int8_t)gpr_operand(&op[0], &sz);
		if (in->dst < 0 || sz != 8 || op[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE) return 0;
		in->size = 8;
		in->imm = op[1].imm.value.s;   /* sign-extended by the decoder */
		return ins->mnemonic == ZYDIS_MNEMONIC_ADD ? PT_INSN_ADD_RI : PT_INSN_SUB_RI;
	case ZYDIS_MNEMONIC_PUSH:
		in->src = (int8_t)gpr_operand(&op[0], &sz);
		if (in->src < 0 || sz != 8) return 0;
		in->size = 8;
		return PT_INSN_PUSH_R;
	default:
		return 0;
	}
}

/* Rewrite a legacy-encoded rip-relative operand (ModRM mod=00 rm=101) as
 * [reg+disp32] with reg a low register the instruction does not use. */
static bool riprel_rewrite(const ZydisDecodedInstruction *ins, const ZydisDecodedOperand *op,
			   struct pt_insn *in)
{
	if (ins->encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY || !(ins->attributes & ZYDIS_ATTRIB_HAS_MODRM))
		return false;
	if (ins->raw.modrm.mod != 0 || ins->raw.modrm.rm != 5) return false;
	bool used[17] = { false };
	for (unsigned i = 0; i < ins->operand_count; i++) {
		const ZydisDecodedOperand *o = &op[i];
		ZydisRegister regs[3] = { ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE };
		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) regs[0] = o->reg.value;
		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			regs[0] = o->mem.base;
			regs[1] = o->mem.index;
		}
		for (int k = 0; k < 2; k++) {
			if (regs[k] == ZYDIS_REGISTER_NONE) continue;
			ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, regs[k]);
			int n = hwreg(big);
			if (n >= 0) used[n] = true;
		}
	}
	static const int cand[] = { 0, 1, 2, 3, 6, 7 };   /* rax rcx rdx rbx rsi rdi */
	int reg = -1;
	for (size_t i = 0; i < sizeof cand / sizeof cand[0] && reg < 0; i++)
		if (!used[cand[i]]) reg = cand[i];
	if (reg < 0) return false;
	uint8_t *m = &in->code[ins->raw.modrm.offset];
	*m = (uint8_t)(0x80 | (*m & 0x38) | reg);       /* mod=10: [reg + disp32] */
	if (ins->attributes & ZYDIS_ATTRIB_HAS_REX) in->code[ins->raw.rex.offset] &= (uint8_t)~1u;  /* REX.B */
	in->riprel_reg = (int8_t)reg;
	return true;
}

void pt_insn_decode(struct tgt *t, struct pt_bp *bp)
{
	struct pt_insn *in = &bp->insn;
	memset(in, 0, sizeof *in);
	in->kind = PT_INSN_STOPALL;
	in->dst = in->src = in->base = in->index = in->riprel_reg = -1;
	uint8_t buf[15];
	long n = pt_read_mem(t, bp->addr, buf, sizeof buf);   /* original bytes, other int3s shadowed */
	if (n <= 0) return;
	ZydisDecoder dec;
	ZydisDecodedInstruction ins;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	if (!ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, buf, (ZyanUSize)n, &ins, op)))
		return;
	in->len = ins.length;
	memset(in->code, 0xcc, sizeof in->code);
	memcpy(in->code, buf, ins.length);

	switch (ins.meta.category) {
	case ZYDIS_CATEGORY_SYSCALL:
	case ZYDIS_CATEGORY_INTERRUPT:
	case ZYDIS_CATEGORY_SYSTEM:
		return;                 /* the kernel sees rip: stop-all */
	default:
		break;
	}
	bool rel_imm = ins.operand_count_visible > 0 && op[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
		       op[0].imm.is_relative;
	int cc = jcc_code(ins.mnemonic);
	if (rel_imm) {
		in->imm = op[0].imm.value.s;
		if (ins.mnemonic == ZYDIS_MNEMONIC_JMP) in->kind = PT_INSN_JMP;
		else if (ins.mnemonic == ZYDIS_MNEMONIC_CALL) {
			in->kind = PT_INSN_CALL;
			in->pad_ok = true;          /* relocated: pushes addr+len, jumps */
		} else if (cc >= 0) {
			in->kind = PT_INSN_JCC;
			in->cc = (uint8_t)cc;
		}
		return;                 /* loop, jrcxz, xbegin...: stop-all */
	}
	if (ins.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) return;
	if (ins.mnemonic == ZYDIS_MNEMONIC_RET) {
		in->imm = ins.operand_count_visible > 0 && op[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE ?
			  (int64_t)op[0].imm.value.u : 0;
		in->kind = PT_INSN_RET;
		return;
	}
	if (cc >= 0 || ins.mnemonic == ZYDIS_MNEMONIC_JMP || ins.mnemonic == ZYDIS_MNEMONIC_CALL) {
		if (ins.mnemonic != ZYDIS_MNEMONIC_JMP && ins.mnemonic != ZYDIS_MNEMONIC_CALL) return;
		in->call_indirect = ins.mnemonic == ZYDIS_MNEMONIC_CALL;   /* near indirect */
	} else if (ins.meta.category == ZYDIS_CATEGORY_COND_BR || ins.meta.category == ZYDIS_CATEGORY_UNCOND_BR ||
		   ins.meta.category == ZYDIS_CATEGORY_CALL || ins.meta.category == ZYDIS_CATEGORY_RET) {
		return;                 /* some other branch */
	} else {
		int k = emulable(&ins, op, in);
		if (k) {
			in->kind = (uint8_t)k;
			in->pad_ok = k == PT_INSN_PUSH_R;   /* position independent */
			return;
		}
		in->dst = in->src = in->base = in->index = -1;
	}
	bool riprel = false;
	for (unsigned i = 0; i < ins.operand_count; i++) {
		if (op[i].type == ZYDIS_OPERAND_TYPE_MEMORY && op[i].mem.base == ZYDIS_REGISTER_RIP) riprel = true;
		if (op[i].type == ZYDIS_OPERAND_TYPE_MEMORY && op[i].mem.base == ZYDIS_REGISTER_EIP) return;  /* addr32 */
		if (op[i].type == ZYDIS_OPERAND_TYPE_REGISTER && op[i].reg.value == ZYDIS_REGISTER_RIP &&
		    !in->call_indirect && ins.mnemonic != ZYDIS_MNEMONIC_JMP)
			return;             /* reads rip some other way */
	}
	if (riprel && !riprel_rewrite(&ins, op, in)) return;
	in->kind = PT_INSN_DISPLACE;
	/* A jump pad runs the bytes verbatim and nobody single-steps it: only
	 * for what neither reads nor writes rip, and no rep string instruction
	 * (interrupted, it stays in the pad for up to rcx more steps). */
	bool rip_written = false;
	for (unsigned i = 0; i < ins.operand_count; i++)
		if (op[i].type == ZYDIS_OPERAND_TYPE_REGISTER && hwreg(op[i].reg.value) == 16 &&
		    (op[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			rip_written = true;
	in->pad_ok = !riprel && !in->call_indirect && ins.mnemonic != ZYDIS_MNEMONIC_JMP && !rip_written &&
		     !(ins.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE));
}

void pt_insn_invalidate(struct tgt *t, uint64_t addr, size_t len)
{
	for (int i = 0; i < t->nbp; i++) {
		uint64_t a = t->bps[i].addr;
		if (a + 15 > addr && a < addr + len) t->bps[i].insn.kind = PT_INSN_UNKNOWN;
	}
}

/* ------------------------------------------------------------ emulation */

static unsigned long long *gpr(struct user_regs_struct *r, int n)
{
	switch (n) {
	case 0: return &r->rax;
	case 1: return &r->rcx;
	case 2: return &r->rdx;
	case 3: return &r->rbx;
	case 4: return &r->rsp;
	case 5: return &r->rbp;
	case 6: return &r->rsi;
	case 7: return &r->rdi;
	case 8: return &r->r8;
	case 9: return &r->r9;
	case 10: return &r->r10;
	case 11: return &r->r11;
	case 12: return &r->r12;
	case 13: return &r->r13;
	case 14: return &r->r14;
	default: return &r->r15;
	}
}

#define FL_CF 0x001ull
#define FL_PF 0x004ull
#define FL_AF 0x010ull
#define FL_ZF 0x040ull
#define FL_SF 0x080ull
#define FL_OF 0x800ull

/* rflags after a 64-bit add (sub=false) or sub a, b giving res (Intel SDM
 * vol. 1, 3.4.3.1). */
static unsigned long long arith_flags(unsigned long long fl, uint64_t a, uint64_t b, uint64_t res, bool sub)
{
	fl &= ~(FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF);
	if (sub ? a < b : res < a) fl |= FL_CF;
	if (!__builtin_parity((unsigned)(res & 0xff))) fl |= FL_PF;
	if ((a ^ b ^ res) & 0x10) fl |= FL_AF;
	if (res == 0) fl |= FL_ZF;
	if (res >> 63) fl |= FL_SF;
	if ((sub ? (a ^ b) & (a ^ res) : ~(a ^ b) & (a ^ res)) >> 63) fl |= FL_OF;
	return fl;
}

static bool jcc_taken(unsigned long long f, unsigned cc)
{
	bool cf = f & FL_CF, zf = f & FL_ZF, sf = f & FL_SF, of = f & FL_OF, pf = f & FL_PF, v;
	switch (cc >> 1) {
	case 0: v = of; break;
	case 1: v = cf; break;
	case 2: v = zf; break;
	case 3: v = cf || zf; break;
	case 4: v = sf; break;
	case 5: v = pf; break;
	case 6: v = sf != of; break;
	default: v = zf || sf != of; break;
	}
	return (cc & 1) ? !v : v;
}

static void set_dst(struct user_regs_struct *r, const struct pt_insn *in, uint64_t v)
{
	*gpr(r, in->dst) = in->size == 8 ? v : (uint32_t)v;   /* 32-bit results zero-extend */
}

/* 1: done (th's registers and memory as after the instruction), 0: not
 * here (use the scratch area or stop-all), -errno. */
static int emulate(struct tgt *t, struct pt_thread *th, const struct pt_insn *in, uint64_t addr)
{
	int r = pt_regs_fetch(th);
	if (r < 0) return r;
	struct user_regs_struct g = th->regs;
	uint64_t next = addr + in->len, v, a, b;
	bool watched = pt_dr_active(t);   /* memory accesses must trigger them for real */
	switch (in->kind) {
	case PT_INSN_LEA:
		v = (uint64_t)in->imm;
		if (in->base == 16) v += next;
		else if (in->base >= 0) v += *gpr(&g, in->base);
		if (in->index >= 0) v += *gpr(&g, in->index) * in->scale;
		set_dst(&g, in, v);
		break;
	case PT_INSN_MOV_RR:
		set_dst(&g, in, *gpr(&g, in->src));
		break;
	case PT_INSN_MOV_RI:
		set_dst(&g, in, (uint64_t)in->imm);
		break;
	case PT_INSN_ADD_RI:
	case PT_INSN_SUB_RI:
		a = *gpr(&g, in->dst);
		b = (uint64_t)in->imm;
		v = in->kind == PT_INSN_ADD_RI ? a + b : a - b;
		g.eflags = arith_flags(g.eflags, a, b, v, in->kind == PT_INSN_SUB_RI);
		*gpr(&g, in->dst) = v;
		break;
	case PT_INSN_PUSH_R:
		if (watched) return 0;
		v = *gpr(&g, in->src);
		if (pt_mem_write_raw(t, g.rsp - 8, (uint8_t *)&v, 8) != 8) return 0;   /* let it fault for real */
		g.rsp -= 8;
		break;
	case PT_INSN_JMP:
		next += (uint64_t)in->imm;
		break;
	case PT_INSN_JCC:
		if (jcc_taken(g.eflags, in->cc)) next += (uint64_t)in->imm;
		break;
	case PT_INSN_CALL:
		if (watched) return 0;
		v = next;
		if (pt_mem_write_raw(t, g.rsp - 8, (uint8_t *)&v, 8) != 8) return 0;
		g.rsp -= 8;
		next += (uint64_t)in->imm;
		break;
	case PT_INSN_RET:
		if (watched) return 0;
		if (pt_mem_read_raw(t, g.rsp, (uint8_t *)&v, 8) != 8) return 0;
		g.rsp += 8 + (uint64_t)in->imm;
		next = v;
		break;
	default:
		return 0;
	}
	g.rip = next;
	th->regs = g;
	r = pt_regs_store(th);
	return r < 0 ? r : 1;
}

/* ------------------------------------------------------------ scratch page */

/* Map the scratch page: every thread held, th (on a breakpoint, at a
 * SIGTRAP stop, so no syscall to restart) executes an injected
 * `syscall` (mmap) at its pc, then its registers and the two bytes go back.
 * Signals that arrive meanwhile are queued again afterwards. */
/* Where to ask for the scratch page: just below the lowest mapping of the
 * file mapped at near (the executable, for a Go binary's text at 0x400000
 * too), else just after its highest, so that jump pads there are within a
 * rel32 of its code.  0 (anywhere) if near is in no file mapping or maps
 * cannot be read.  The kernel takes the hint when the range is free. */
static uint64_t scratch_hint(const struct tgt *t, uint64_t near)
{
	char path[64], line[512], file[256] = "";
	snprintf(path, sizeof path, "/proc/%d/maps", (int)t->pid);
	FILE *f = fopen(path, "re");
	if (!f) return 0;
	uint64_t lo = 0, hi = 0;
	for (int pass = 0; pass < 2; pass++) {
		rewind(f);
		while (fgets(line, sizeof line, f)) {
			unsigned long a, b, ino;
			char name[256] = "";
			if (sscanf(line, "%lx-%lx %*s %*s %*s %lu %255s", &a, &b, &ino, name) < 3 || !name[0] || name[0] != '/')
				continue;
			if (pass == 0 && near >= a && near < b) snprintf(file, sizeof file, "%s", name);
			if (pass == 1 && strcmp(name, file) == 0) {
				if (!lo || a < lo) lo = a;
				if (b > hi) hi = b;
			}
		}
		if (!file[0]) break;
	}
	fclose(f);
	if (!lo) return 0;
	return lo >= 0x100000 ? lo - 4096 : hi;
}

static int scratch_make(struct tgt *t, pid_t tid, uint64_t near)
{
	uint64_t hint = near ? scratch_hint(t, near) : 0;
	int r = pt_hold_all(t);
	struct pt_thread *th = pt_thread_find(t, tid);
	if (r < 0 || !th || !th->kstopped || th->pending || th->exiting || t->exited || t->vforks) {
		pt_release(t);
		return r < 0 ? r : -EAGAIN;
	}
	r = pt_regs_fetch(th);
	if (r < 0) {
		pt_release(t);
		return r;
	}
	struct user_regs_struct save = th->regs;
	uint8_t old[2], sc[2] = { 0x0f, 0x05 };
	if (pt_mem_read_raw(t, save.rip, old, 2) != 2 || pt_mem_write_raw(t, save.rip, sc, 2) != 2) {
		pt_release(t);
		return -EIO;
	}
	th->regs.rax = SYS_mmap;
	th->regs.orig_rax = ~0ull;
	th->regs.rdi = hint;
	th->regs.rsi = 4096;
	th->regs.rdx = PROT_READ | PROT_EXEC;
	th->regs.r10 = MAP_PRIVATE | MAP_ANONYMOUS;
	th->regs.r8 = ~0ull;
	th->regs.r9 = 0;
	r = pt_regs_store(th);
	int sigs[8], ns = 0;
	bool done = false, gone = false;
	for (int tries = 0; r == 0 && tries < 32 && !done; tries++) {
		if (ptrace(PTRACE_SINGLESTEP, tid, 0L, 0L) < 0) {
			r = -errno;
			break;
		}
		int st;
		pid_t w;
		do w = waitpid(tid, &st, __WALL); while (w < 0 && errno == EINTR);
		if (w < 0) {
			r = -errno;
			break;
		}
		int ev = (unsigned)st >> 16, sig = WIFSTOPPED(st) ? WSTOPSIG(st) : 0;
		if (!WIFSTOPPED(st) || ev == PTRACE_EVENT_EXIT) {
			pt_handle_status(t, tid, st);   /* dying: the normal path takes it */
			gone = true;
			r = -ESRCH;
			break;
		}
		if (ev == 0 && sig == SIGTRAP) done = true;
		else if (ev == 0 && ns < 8) sigs[ns++] = sig;   /* not delivered: give it back below */
	}
	uint64_t page = 0;
	if (done) {
		struct user_regs_struct after;
		if (ptrace(PTRACE_GETREGS, tid, 0L, &after) == 0) page = after.rax;
	}
	pt_mem_write_raw(t, save.rip, old, 2);
	if (!gone) {
		th->regs = save;
		th->regs_valid = true;
		if (pt_regs_store(th) < 0 && r == 0) r = -EIO;
		for (int i = 0; i < ns; i++) syscall(SYS_tgkill, t->pid, tid, sigs[i]);
	}
	pt_release(t);
	if (r < 0) return r;
	if (!done || page == 0 || page > (uint64_t)-4096) return -ENOMEM;
	t->scratch = page;
	t->scratch_for = 0;
	return 0;
}

/* ------------------------------------------------------------ displaced step */

/* Is a watchpoint/hw-breakpoint stop of th queued (its instruction ran)? */
static bool watch_queued(struct tgt *t, pid_t tid)
{
	for (int i = 0; i < t->qn; i++)
		if (t->q[i].tid == tid && t->q[i].kind == TGT_EV_STOPPED &&
		    (t->q[i].reason == TGT_REASON_WATCH || t->q[i].reason == TGT_REASON_RWATCH ||
		     t->q[i].reason == TGT_REASON_AWATCH || t->q[i].reason == TGT_REASON_HWBREAK))
			return true;
	return false;
}

/* Bring th's registers back from the scratch area s.  executed: the copy
 * ran.  Nothing to do if the image changed meanwhile (another thread
 * exec'd: th's tid now runs the new program). */
static void map_back(struct tgt *t, struct pt_thread *th, const struct pt_insn *in, uint64_t addr,
		     uint64_t s, unsigned long long saved, bool executed)
{
	if (t->scratch != s || pt_regs_fetch(th) < 0) return;
	struct user_regs_struct *g = &th->regs;
	uint64_t end = s + in->len;
	if (in->riprel_reg >= 0) *gpr(g, in->riprel_reg) = saved;
	if (!executed) {
		if (g->rip == s) g->rip = addr;
	} else {
		if (in->call_indirect) {
			uint64_t ra = 0, fixed = addr + in->len;
			if (pt_mem_read_raw(t, g->rsp, (uint8_t *)&ra, 8) == 8 && ra == end)
				pt_mem_write_raw(t, g->rsp, (uint8_t *)&fixed, 8);
		}
		if (g->rip == end) g->rip = addr + in->len;
	}
	pt_regs_store(th);
}

/* The scratch page, mapped the first time (every thread held meanwhile).
 * 1: it is there (th, tid's thread, still kstopped on the breakpoint);
 * otherwise what the step-over returns: PT_DSTEP_FALLBACK, 0 (th stopped
 * for something else meanwhile, queued) or -errno. */
static int scratch_need(struct tgt *t, pid_t tid, uint64_t near)
{
	if (t->scratch) return 1;
	if (t->scratch_failed || t->vforks || pt_vfork_waiting(t, false)) return PT_DSTEP_FALLBACK;
	int r = scratch_make(t, tid, near);
	struct pt_thread *th = pt_thread_find(t, tid);
	if (!th || !th->kstopped || th->pending || th->exiting || t->exited)
		return r == -ECHILD && t->exited ? 0 : (r < 0 && r != -EAGAIN && r != -ESRCH ? r : 0);
	if (r < 0) {
		if (r != -EAGAIN) t->scratch_failed = true;
		return PT_DSTEP_FALLBACK;
	}
	return 1;
}

static int displaced(struct tgt *t, struct pt_thread *th, const struct pt_insn *in, uint64_t addr)
{
	pid_t tid = th->tid;
	if (!t->scratch) {
		int r = scratch_need(t, tid, addr);
		if (r != 1) return r;
		th = pt_thread_find(t, tid);
	}
	uint64_t s = t->scratch;
	if (t->scratch_for != addr || memcmp(t->scratch_code, in->code, PT_SCRATCH_LEN) != 0) {
		if (pt_mem_write_raw(t, s, in->code, PT_SCRATCH_LEN) != PT_SCRATCH_LEN) return PT_DSTEP_FALLBACK;
		t->scratch_for = addr;
		memcpy(t->scratch_code, in->code, PT_SCRATCH_LEN);
	}
	int r = pt_regs_fetch(th);
	if (r < 0) return r;
	unsigned long long saved = 0;
	if (in->riprel_reg >= 0) {
		saved = *gpr(&th->regs, in->riprel_reg);
		*gpr(&th->regs, in->riprel_reg) = addr + in->len;
	}
	th->regs.rip = s;
	if ((r = pt_regs_store(th)) < 0) return r;

	bool user_step = th->stepping, at_orig = false;
	th->stepping = true;
	th->stepping_over = true;
	th->step_done = false;
	/* As in the stop-all method (pt_step.c): signals wait until the
	 * instruction has run; one the instruction raises itself is delivered
	 * at once -- at the original address. */
	int deferred = th->deliver_sig;
	th->deliver_sig = 0;
	t->hold++;          /* nothing restarts th behind our back */
	r = pt_restart(t, th);
	while (r == 0) {
		r = pt_wait_one(t, tid, true);
		if (r < 0) break;
		r = 0;
		th = pt_thread_find(t, tid);
		if (!th || th->step_done || th->exiting) break;
		if (th->pending) {
			int i = t->qn - 1;
			if (!deferred || i < 0 || t->q[i].tid != tid || t->q[i].kind != TGT_EV_STOPPED ||
			    t->q[i].reason != TGT_REASON_SIGNAL || t->q[i].sig != deferred)
				break;
			pt_queue_remove(t, i);   /* the fault again: deliver it now, from addr */
			th->pending = false;
			map_back(t, th, in, addr, s, saved, false);
			at_orig = true;
			th->deliver_sig = deferred;
			deferred = 0;
		} else if (th->deliver_sig && th->kstopped) {
			if (!deferred) deferred = th->deliver_sig;
			else if (th->deliver_sig != deferred)
				syscall(SYS_tgkill, t->pid, tid, th->deliver_sig);   /* requeue */
			th->deliver_sig = 0;
		}
		if (th->kstopped) r = pt_restart(t, th);  /* passed signal, spurious stop */
	}
	pt_release(t);
	th = pt_thread_find(t, tid);
	if (deferred && th) {
		if (th->deliver_sig && th->deliver_sig != deferred)
			syscall(SYS_tgkill, t->pid, tid, th->deliver_sig);
		th->deliver_sig = deferred;
	}
	int done = 0;
	if (th) {
		bool executed = !at_orig && (th->step_done || watch_queued(t, tid));
		if (th->kstopped && !th->exiting && !at_orig) map_back(t, th, in, addr, s, saved, executed);
		th->stepping = user_step;
		th->stepping_over = false;
		if (th->step_done) {
			th->at_bp = false;
			done = 1;
		} else if (!executed && !at_orig && t->scratch == s) {
			th->at_bp = true;    /* still on the breakpoint: step over it next time */
			th->bp_addr = addr;
		}
		th->step_done = false;
	}
	t->stats.displaced++;
	if (r == -ECHILD && t->exited) r = 0;
	return r < 0 ? r : done;
}

/* ------------------------------------------------------------ jump pads */

static void put32(uint8_t *c, uint32_t v)
{
	memcpy(c, &v, 4);
}

/* The pad of in (at addr) into *p; jump: a jump pad (an int3 first). */
static void pad_build(struct pt_pad *p, const struct pt_insn *in, uint64_t addr, bool jump)
{
	uint64_t next = addr + in->len;
	unsigned n;
	memset(p, 0, sizeof *p);
	memset(p->code, 0xcc, PT_PAD_SLOT);
	p->addr = addr;
	p->back = next;
	p->jump = jump;
	p->body = jump ? 1 : 0;     /* code[0]: the int3 a jump lands on */
	uint8_t *c = p->code + p->body;
	if (in->kind == PT_INSN_CALL) {
		/* As gdb's amd64_relocate_instruction: push the ORIGINAL return
		 * address and jump to the target, so the callee returns straight
		 * to the original code and no pad address stays on the stack.
		 * lea, not sub: the flags stay.  Two 32-bit stores: the address
		 * need not fit a sign-extended imm32 (PIE code is above 2^31). */
		static const uint8_t lea[] = { 0x48, 0x8d, 0x64, 0x24, 0xf8 };   /* lea -8(%rsp),%rsp */
		memcpy(c, lea, sizeof lea);
		n = PT_PAD_CALL_ST1;
		c[n++] = 0xc7; c[n++] = 0x04; c[n++] = 0x24;                    /* movl $lo,(%rsp) */
		put32(c + n, (uint32_t)next);
		n += 4;
		c[n++] = 0xc7; c[n++] = 0x44; c[n++] = 0x24; c[n++] = 0x04;     /* movl $hi,4(%rsp) */
		put32(c + n, (uint32_t)(next >> 32));
		n += 4;
		p->back = next + (uint64_t)in->imm;
		p->call = true;
	} else {
		memcpy(c, in->code, in->len);                                 /* position independent */
		n = in->len;
	}
	p->jmp = (uint8_t)(p->body + n);
	c[n++] = 0xff; c[n++] = 0x25;                                        /* jmp *0(%rip) */
	put32(c + n, 0);
	n += 4;
	memcpy(c + n, &p->back, 8);                                          /* .quad back */
}

/* The slot of pad p (built), written the first time; -1 when the page is
 * full or the write fails. */
static int pad_slot(struct tgt *t, const struct pt_pad *p)
{
	int slot;
	for (slot = 0; slot < t->npads; slot++)
		if (t->pads[slot].addr == p->addr && memcmp(t->pads[slot].code, p->code, PT_PAD_SLOT) == 0) return slot;
	if (t->npads == PT_PAD_MAX) return -1;
	uint64_t at = t->scratch + PT_PAD_OFF + (uint64_t)slot * PT_PAD_SLOT;
	if (pt_mem_write_raw(t, at, p->code, PT_PAD_SLOT) != PT_PAD_SLOT) return -1;
	t->pads[t->npads++] = *p;
	return slot;
}

/* May the breakpoint at addr (its instruction in) get a jump?  Only
 * tracepoints use it (no client breakpoint: its hits are reported as
 * stops, with an int3), the instruction is long enough for the 5 bytes
 * and no other breakpoint is in them, no watchpoint (the pad's copy would
 * trigger it), no vfork child shares the memory. */
static bool jump_ok(struct tgt *t, const struct pt_bp *bp, const struct pt_insn *in)
{
	if (!t->jumppad || t->step_mode != PT_STEP_AUTO || bp->jump || bp->refs != bp->trace_refs || bp->insn.no_jump ||
	    in->len < 5 || pt_dr_active(t) || t->vforks || pt_vfork_waiting(t, false))
		return false;
	for (int i = 0; i < t->nbp; i++)
		if (t->bps[i].addr > bp->addr && t->bps[i].addr < bp->addr + in->len) return false;
	return true;
}

/* Put the jump to jump pad p (slot, written) at addr: every thread held
 * (no thread may be between the first and the fifth byte: none is, but
 * one that executed the int3 just before and whose trap is taken now has
 * its pc rewound to addr, see pt_hold_all).  1 done, 0 not (the int3
 * stays), -errno. */
static int jump_in(struct tgt *t, uint64_t addr, const struct pt_insn *in, const struct pt_pad *p)
{
	int64_t rel = (int64_t)(pt_pad_base(t, p) - (addr + 5));
	if (rel != (int32_t)rel) return 0;      /* out of a rel32's reach */
	uint8_t orig[5];
	if (pt_read_mem(t, addr, orig, 5) != 5) return 0;
	int r = pt_hold_all(t);
	struct pt_bp *bp = pt_bp_find(t, addr);
	bool ok = r == 0 && bp && !t->exited && t->memfd >= 0 && jump_ok(t, bp, in) &&
		  bp->insn.kind == in->kind && memcmp(bp->insn.code, in->code, sizeof in->code) == 0;
	for (int i = 0; ok && i < t->nth; i++) {
		struct pt_thread *o = t->th[i];
		if (!o->kstopped || o->exiting) continue;
		if (pt_regs_fetch(o) < 0 || (o->regs.rip > addr && o->regs.rip < addr + in->len)) ok = false;
	}
	if (ok) {
		uint8_t j[5] = { 0xe9 };
		int32_t r32 = (int32_t)rel;
		memcpy(j + 1, &r32, 4);
		long w = pt_poke5(t->memfd, addr, j);
		if (w == 5) {
			memcpy(bp->jmp5, j, 5);
			memcpy(bp->orig5, orig, 5);
			bp->jump = true;
			t->stats.jumps++;
		} else if (pt_mem_write_raw(t, addr, (const uint8_t[]){ 0xcc }, 1) == 1) {
			/* the int3 back: the tail may be half written, the int3 hides it */
			pt_mem_write_raw(t, addr + 1, orig + 1, 4);
			ok = false;
		} else {
			ok = false;
			r = -EIO;
		}
	}
	pt_release(t);          /* the caller's resume restarts the others */
	if (r < 0) return r;
	return ok ? 1 : 0;
}

/* Step th over the breakpoint at addr through its jump pad: rip set to the
 * pad in the register cache (pt_restart writes it with the pc rewind it
 * writes anyway), nothing else.  A pad is written once, the first time,
 * and kept for the same address and bytes (the client takes breakpoints
 * out and puts them back at every stop).  1, or PT_DSTEP_FALLBACK (no
 * scratch page, pads all used), or as scratch_need().
 * A tracepoint's breakpoint (jump_ok) gets a jump pad instead, and the
 * jump to it in place of the int3: its later hits trap in the pad (the
 * pad's int3) and go on from there with no register write. */
static int padded(struct tgt *t, struct pt_thread *th, const struct pt_insn *in, uint64_t addr)
{
	pid_t tid = th->tid;
	struct pt_bp *bp = pt_bp_find(t, addr);
	bool same = bp && bp->insn.kind == in->kind && memcmp(bp->insn.code, in->code, sizeof in->code) == 0;
	int slot = in->pad - 1;
	if (slot < 0 || slot >= t->npads || t->pads[slot].addr != addr ||
	    (same && !bp->jump && jump_ok(t, bp, in))) {
		int r = scratch_need(t, tid, addr);
		if (r != 1) return r;
		struct pt_pad p;
		bool jump = same && jump_ok(t, bp, in);
		pad_build(&p, in, addr, jump);
		slot = pad_slot(t, &p);
		if (slot < 0 && jump) {     /* no room: a plain pad */
			jump = false;
			pad_build(&p, in, addr, false);
			slot = pad_slot(t, &p);
		}
		if (slot < 0) return PT_DSTEP_FALLBACK;
		if (jump) {
			r = jump_in(t, addr, in, &t->pads[slot]);
			if (r < 0) return r;
			if (r == 0) {           /* a plain pad then, and no more tries */
				if ((bp = pt_bp_find(t, addr)) != NULL) bp->insn.no_jump = true;
				pad_build(&p, in, addr, false);
				slot = pad_slot(t, &p);
				if (slot < 0) return PT_DSTEP_FALLBACK;
			}
		}
		bp = pt_bp_find(t, addr);
		if (bp && bp->insn.kind == in->kind && memcmp(bp->insn.code, in->code, sizeof in->code) == 0)
			bp->insn.pad = (uint8_t)(slot + 1);
		th = pt_thread_find(t, tid);
		if (!th || !th->kstopped || th->pending || th->exiting) return 0;   /* stopped meanwhile: queued */
	}
	int r = pt_regs_fetch(th);
	if (r < 0) return r;
	/* past a jump pad's int3 (this hit came by the int3 at addr) */
	th->regs.rip = pt_pad_base(t, &t->pads[slot]) + t->pads[slot].body;
	th->regs_dirty = true;
	th->at_bp = false;
	t->stats.padded++;
	return 1;
}

static bool is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL;
}

#define DR6_OFF (offsetof(struct user, u_debugreg) + 6 * sizeof(long))

int pt_pad_leave(struct tgt *t, struct pt_thread *th, int sig)
{
	pid_t tid = th->tid;
	const struct pt_pad *p = pt_pad_at(t, th->regs.rip);
	unsigned off = (unsigned)(th->regs.rip - pt_pad_base(t, p));
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (sig && ptrace(PTRACE_GETSIGINFO, tid, 0L, &si) < 0) return 1;   /* gone: its death follows */

	/* A jump pad before its int3: th took the jump, nothing else (the
	 * jump has no side effect).  Back to the breakpoint's address, where
	 * it takes the jump again: the hit comes after what stopped it (a
	 * signal's handler sees the original address). */
	if (p->jump && off == 0) {
		th->regs.rip = p->addr;
		if (pt_regs_store(th) < 0) return 1;
		t->stats.pad_left++;
		return 1;
	}
	unsigned boff = off - p->body;
	/* The copy of the instruction faulted (faults leave rip on the
	 * faulting instruction, nothing done): the state before the original
	 * instruction, the signal as if raised there -- a handler (Go's
	 * sigpanic) must never see the pad.  The thread is back on the
	 * breakpoint, not past it. */
	if (sig && is_fault(sig) && si.si_code > 0 && off >= p->body &&
	    (p->call ? boff == PT_PAD_CALL_ST1 || boff == PT_PAD_CALL_ST2 : boff == 0)) {
		uint64_t pc = th->regs.rip;
		th->regs.rip = p->addr;
		if (p->call) th->regs.rsp += 8;
		if (pt_regs_store(th) < 0) return 1;
		if ((sig == SIGILL || sig == SIGFPE) && (uint64_t)(uintptr_t)si.si_addr == pc) {
			si.si_addr = (void *)(uintptr_t)p->addr;   /* the faulting instruction's address */
			if (ptrace(PTRACE_SETSIGINFO, tid, 0L, &si) < 0) return 1;
		}
		th->at_bp = pt_bp_find(t, p->addr) != NULL;
		th->bp_addr = p->addr;
		t->stats.pad_faults++;
		return 1;
	}

	/* Anything else (an interrupt, a group-stop, an asynchronous signal)
	 * waits until th is out: single-step it to the final jump (a few
	 * instructions at most) and do that one on the registers.  A watchpoint
	 * trap keeps its DR6 (a step clears it). */
	long dr6 = -1;
	if (sig == SIGTRAP && pt_dr_active(t)) {
		errno = 0;
		dr6 = ptrace(PTRACE_PEEKUSER, tid, (void *)DR6_OFF, 0L);
		if (dr6 == -1 && errno) dr6 = -1;
	}
	int extra[8], nextra = 0;
	bool stepped = false, sigstop = true;
	/* n counts the steps that ran an instruction: a step that ends in a
	 * signal-delivery-stop ran none (a signal arriving every ~100 µs on a
	 * host that deschedules us for longer hits most steps); tries bounds
	 * the whole. */
	for (int n = 0, tries = 0; n < 16 && tries < 200 && (p = pt_pad_at(t, th->regs.rip)) != NULL; tries++) {
		off = (unsigned)(th->regs.rip - pt_pad_base(t, p));
		if (off == p->jmp) {
			th->regs.rip = p->back;
			if (pt_regs_store(th) < 0) return 1;
			break;
		}
		if (ptrace(PTRACE_SINGLESTEP, tid, 0L, 0L) < 0) {
			if (errno != ESRCH) return 1;
			th->exiting = true;    /* killed under us: only its death is left */
			th->kstopped = false;
			return -1;
		}
		stepped = true;
		th->regs_valid = false;
		int st;
		pid_t w;
		do w = waitpid(tid, &st, __WALL); while (w < 0 && errno == EINTR);
		if (w < 0) {
			th->kstopped = false;  /* cannot happen: tid is our tracee */
			return -1;
		}
		int ev = (unsigned)st >> 16, s2 = WIFSTOPPED(st) ? WSTOPSIG(st) : 0;
		if (!WIFSTOPPED(st) || ev == PTRACE_EVENT_EXIT) {
			pt_handle_status(t, tid, st);   /* dying: the normal path takes it */
			return -1;
		}
		sigstop = ev == 0;
		int queue = 0;
		if (ev == 0 && s2 != SIGTRAP) {
			queue = s2;                     /* not delivered: queued again below */
		} else if (ev == 0 && s2 == SIGTRAP) {
			siginfo_t s3;
			if (ptrace(PTRACE_GETSIGINFO, tid, 0L, &s3) == 0 && s3.si_code <= 0)
				queue = SIGTRAP;        /* someone's kill, not the step */
			else
				n++;                    /* the step ran an instruction */
		}
		/* each signal once: the kernel merges pending standard signals too */
		for (int i = 0; queue && i < nextra; i++)
			if (extra[i] == queue) queue = 0;
		if (queue && nextra < (int)(sizeof extra / sizeof extra[0])) extra[nextra++] = queue;
		if (pt_regs_fetch(th) < 0) return 1;
	}
	t->stats.pad_left++;
	if (dr6 != -1 && stepped) ptrace(PTRACE_POKEUSER, tid, (void *)DR6_OFF, dr6);
	for (int i = 0; i < nextra; i++) syscall(SYS_tgkill, t->pid, tid, extra[i]);
	if (sig && stepped) {
		/* th now sits in the SIGTRAP stop of its last step: make it the
		 * stop of sig, siginfo and all (restarted with sig, the kernel
		 * delivers that siginfo: ptrace_signal()).  Go checks SIGPROF's
		 * si_code, so no tgkill when this works. */
		if (sigstop && ptrace(PTRACE_SETSIGINFO, tid, 0L, &si) == 0) return 1;
		syscall(SYS_tgkill, t->pid, tid, sig);
		return 2;
	}
	return 1;
}

int pt_dstep(struct tgt *t, struct pt_thread *th, struct pt_bp *bp)
{
	if (bp->insn.kind == PT_INSN_UNKNOWN) pt_insn_decode(t, bp);
	struct pt_insn in = bp->insn;    /* bp may move while we wait */
	uint64_t addr = bp->addr;
	/* The cheapest: a jump pad (no wait, no memory access).  Only for a
	 * thread resumed with continue (a client's single-step must stop right
	 * after the instruction), no signal to deliver first (the handler would
	 * run on the pad's address), no watchpoint (its trap would come from
	 * inside the pad). */
	if (in.pad_ok && t->step_mode == PT_STEP_AUTO && !th->stepping && !th->deliver_sig && !pt_dr_active(t)) {
		pid_t tid = th->tid;
		int r = padded(t, th, &in, addr);
		if (r != PT_DSTEP_FALLBACK) return r;
		th = pt_thread_find(t, tid);
		if (!th) return 0;
	}
	switch (in.kind) {
	case PT_INSN_STOPALL:
	case PT_INSN_UNKNOWN:
		return PT_DSTEP_FALLBACK;
	case PT_INSN_DISPLACE:
		break;
	default:
		if (t->step_mode == PT_STEP_AUTO) {
			int r = emulate(t, th, &in, addr);
			if (r < 0) return r;
			if (r == 1) {
				th->at_bp = false;
				t->stats.emulated++;
				return 1;
			}
		}
		/* Relative branches depend on where they run; the rest of the
		 * emulated kinds do not (a rip-based lea's copy would). */
		if (in.kind == PT_INSN_JMP || in.kind == PT_INSN_JCC || in.kind == PT_INSN_CALL ||
		    (in.kind == PT_INSN_LEA && in.base == 16)) {
			if (t->step_mode == PT_STEP_AUTO) return PT_DSTEP_FALLBACK;
			int r = emulate(t, th, &in, addr);   /* DISPLACE mode: still emulated */
			if (r == 1) {
				th->at_bp = false;
				t->stats.emulated++;
				return 1;
			}
			return r < 0 ? r : PT_DSTEP_FALLBACK;
		}
		break;
	}
	return displaced(t, th, &in, addr);
}
