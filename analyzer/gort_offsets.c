/* gort_offsets.c — runtime.g / runtime.m offsets for binaries without DWARF
 * (-ldflags=-w): a per-Go-version table that says where each number came
 * from, corrected by what the binary itself shows.
 *
 * From the binary (always tried, amd64):
 *   - runtime.morestack (asm_amd64.s) stores, in this order:
 *       mov rbx, fs:-8 ; mov rbx, g_m(rbx)        -> g.m
 *       mov rsi, m_g0(rbx)                        -> m.g0
 *       mov rax, [rsp+8] ; mov m_morebuf+gobuf_pc(rbx), rax   -> m.morebuf.pc
 *       lea rax, [rsp+16]; mov m_morebuf+gobuf_sp(rbx), rax   -> m.morebuf.sp
 *       mov rax, [rsp]   ; mov g_sched+gobuf_pc(rsi), rax     -> g.sched.pc
 *       lea rax, [rsp+8] ; mov g_sched+gobuf_sp(rsi), rax     -> g.sched.sp
 *       mov g_sched+gobuf_bp(rsi), rbp                        -> g.sched.bp
 *     gobuf.lr is the word before gobuf.bp in every Go version (runtime2.go),
 *     so sched.lr = sched.bp - 8 and morebuf.lr = morebuf.sp + (sched.bp -
 *     sched.sp) - 8.
 *   - every Go function's stack check `cmp rsp|r12, disp(r14|rcx)` names
 *     g.stackguard0.
 * From the table (no instruction in a fixed place names them): g.goid,
 * m.curg, m.procid, moved by the gobuf size the code shows (a gobuf lies
 * before each of them); g.stack is {lo, hi} at offset 0 in every version.
 */
#include <stdio.h>
#include <string.h>

#include "gort_int.h"

#define GORT_STACK_PREEMPT 0xfffffffffffffadeULL

struct gort_offrow {
	int lo, hi;                  /* Go 1.lo .. 1.hi (minor versions) */
	struct gort_layout l;
	const char *source;
};

/* Field order: stack lo/hi, stackguard0, m, sched sp/pc/bp/lr, goid,
 * m.g0, m.curg, morebuf sp/pc/lr, procid. */
static const struct gort_offrow rows[] = {
	{ 12, 22, { 0, 8, 16, 48, 56, 64, 104, 96, 152, 0, 192, 8, 16, 48, 72, GORT_STACK_PREEMPT },
	  "go1.19 runtime2.go (g: stack 0, stackguard0 16, _panic, _defer, m 48, sched gobuf"
	  "{sp,pc,g,ctxt,ret,lr,bp} 56, syscallsp, syscallpc, stktopsp, param, atomicstatus, "
	  "stackLock, goid 152; m: g0 0, morebuf 8, divmod, procid 72, gsignal, goSigStack 40 B, "
	  "sigmask 8 B, tls 6 words, mstartfn, curg 192), computed from field sizes and equal "
	  "to the DWARF of a go1.19.8 build; the same fields precede these in go1.12-go1.22" },
	{ 23, 25, { 0, 8, 16, 48, 56, 64, 104, 96, 160, 0, 192, 8, 16, 48, 72, GORT_STACK_PREEMPT },
	  "go1.19's row plus g.syscallbp after syscallpc (goid 160; added in go1.23); all 15 "
	  "numbers equal the DWARF of a go1.24.3 binary (docker); gobuf and m.morebuf as "
	  "decoded from runtime.morestack of go1.23.1-1.23.8, go1.24.1-1.24.4 and go1.25rc "
	  "binaries; goid 1 read live at runtime.main's growth in a go1.24.4 binary" },
	{ 26, 99, { 0, 8, 16, 48, 56, 64, 96, 88, 152, 0, 184, 8, 16, 40, 64, GORT_STACK_PREEMPT },
	  "runtime2.go of the development tree after go1.25 (read at golang/go 00814e7): "
	  "gobuf{sp,pc,g,ctxt,lr,bp} without ret, g.syscallbp kept (goid 152), m.morebuf 48 B "
	  "(procid 64, curg 184); not checked against a binary" },
};
#define NEWEST_KNOWN 26      /* the newest minor version the last row was read for */

/* Minor version of "go1.N..." or -1. */
static int minor_of(const char *v)
{
	int m = 0, digits = 0;

	if (!v || strncmp(v, "go1.", 4) != 0)
		return -1;
	for (v += 4; *v >= '0' && *v <= '9' && digits < 4; v++, digits++)
		m = m * 10 + (*v - '0');
	return digits ? m : -1;
}

/* A REX.W mov/lea reg <-> [base+disp] at c[i]: opcode op, ModRM reg field
 * reg, base register base (rbx 3, rsi 6, rsp 4 with SIB 0x24).  Sets *disp
 * and returns the instruction length, or 0. */
static size_t mem_op(const unsigned char *c, size_t n, size_t i, unsigned char op, int reg,
		     int base, int64_t *disp)
{
	size_t at;
	unsigned char modrm;

	if (i + 3 > n || c[i] != 0x48 || c[i + 1] != op)
		return 0;
	modrm = c[i + 2];
	if (((modrm >> 3) & 7) != reg || (modrm & 7) != base)
		return 0;
	at = i + 3;
	if (base == 4) {
		if (at >= n || c[at] != 0x24)
			return 0;
		at++;
	}
	switch (modrm >> 6) {
	case 0:
		if (base == 5)
			return 0;
		*disp = 0;
		return at - i;
	case 1:
		if (at + 1 > n)
			return 0;
		*disp = (int8_t)c[at];
		return at + 1 - i;
	case 2:
		if (at + 4 > n)
			return 0;
		*disp = (int32_t)((uint32_t)c[at] | (uint32_t)c[at + 1] << 8 |
				  (uint32_t)c[at + 2] << 16 | (uint32_t)c[at + 3] << 24);
		return at + 4 - i;
	default:
		return 0;
	}
}

enum { R_AX = 0, R_BX = 3, R_SP = 4, R_BP = 5, R_SI = 6 };
enum { MOV_LOAD = 0x8b, MOV_STORE = 0x89, LEA = 0x8d };

/* First store `mov [base+d], rax` at or after i (within 16 bytes). */
static bool store_after(const unsigned char *c, size_t n, size_t i, int base, int64_t *d)
{
	for (size_t k = i; k < n && k < i + 16; k++)
		if (mem_op(c, n, k, MOV_STORE, R_AX, base, d))
			return true;
	return false;
}

/* The first store of rax to [reg+d] for any reg in mask, after i. */
static bool store_to_any(const unsigned char *c, size_t n, size_t i, unsigned regs, int64_t *d)
{
	for (int r = 0; r < 8; r++)
		if ((regs & (1u << r)) && r != R_SP && store_after(c, n, i, r, d))
			return true;
	return false;
}

/* Offsets from runtime.morestack's code; a field is set only when found
 * (mask bit i for the i-th of m, g0, morebuf.pc, morebuf.sp, sched.pc,
 * sched.sp, sched.bp).  Returns the mask.  The registers differ between
 * versions (go1.19 keeps g in rbx then rsi, go1.24 in rdi), so they are
 * followed: a g register is loaded from the TLS slot (mov r, fs:-8), the m
 * register from g (mov r, g_m(g)); morebuf stores go through m, sched
 * stores through g. */
static unsigned from_morestack(struct gort_bin *b, struct gort_layout *l)
{
	struct gort_pcln_func f;
	unsigned char c[256];
	unsigned mask = 0, gregs = 0;
	int mreg = -1;
	int64_t d;
	size_t n = sizeof c;

	if (!b->have_pcln ||
	    (gort_pcln_by_name(&b->pcln, "runtime.morestack", 0, &f) != 0 &&
	     gort_pcln_by_name(&b->pcln, "runtime.morestack.abi0", 0, &f) != 0))
		return 0;
	if (f.end - f.entry < n)
		n = (size_t)(f.end - f.entry);
	if (n < 32 || gort_elf_read(b, f.entry, c, n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		/* A load through FS is the TLS g slot: `mov r, fs:-8`
		 * (64 48 8b modrm(00 r 100) 25 f8 ff ff ff), or `mov r,
		 * fs:(rcx)` with rcx = the slot's offset (64 48 8b modrm(00 r
		 * 001)), as binaries with another TLS layout do (a go1.25
		 * build here uses fs-0x400). */
		if (i + 4 <= n && c[i] == 0x64 && c[i + 1] == 0x48 && c[i + 2] == MOV_LOAD &&
		    (c[i + 3] & 0xc0) == 0) {
			gregs |= 1u << ((c[i + 3] >> 3) & 7);
			i += (c[i + 3] & 7) == 4 ? 8 : 3;
			continue;
		}
		for (int r = 0; r < 8 && mreg < 0; r++) {
			int dst = (i + 3 <= n && c[i] == 0x48) ? (c[i + 2] >> 3) & 7 : -1;

			if ((gregs & (1u << r)) && dst >= 0 && mem_op(c, n, i, MOV_LOAD, dst, r, &d) && d > 0) {
				l->g_m = (uint32_t)d;
				mreg = dst;
				mask |= 1;
			}
		}
		if (mreg >= 0 && !(mask & 2)) {
			int dst = (i + 3 <= n && c[i] == 0x48) ? (c[i + 2] >> 3) & 7 : -1;

			if (dst >= 0 && dst != mreg && mem_op(c, n, i, MOV_LOAD, dst, mreg, &d) && d >= 0) {
				l->m_g0 = (uint32_t)d;    /* the first load from m: g0 */
				mask |= 2;
				continue;
			}
		}
		if (mreg >= 0 && !(mask & 4) && mem_op(c, n, i, MOV_LOAD, R_AX, R_SP, &d) && d == 8 &&
		    store_after(c, n, i + 5, mreg, &d) && d >= 0) {
			l->m_morebuf_pc = (uint32_t)d;
			mask |= 4;
		} else if (mreg >= 0 && !(mask & 8) && mem_op(c, n, i, LEA, R_AX, R_SP, &d) && d == 16 &&
			   store_after(c, n, i + 5, mreg, &d) && d >= 0) {
			l->m_morebuf_sp = (uint32_t)d;
			mask |= 8;
		} else if (!(mask & 16) && mem_op(c, n, i, MOV_LOAD, R_AX, R_SP, &d) && d == 0 &&
			   store_to_any(c, n, i + 4, gregs, &d) && d > 0) {
			l->g_sched_pc = (uint32_t)d;
			mask |= 16;
		} else if (!(mask & 32) && mem_op(c, n, i, LEA, R_AX, R_SP, &d) && d == 8 &&
			   store_to_any(c, n, i + 5, gregs, &d) && d > 0) {
			l->g_sched_sp = (uint32_t)d;
			mask |= 32;
		} else if ((mask & 32) && !(mask & 64)) {
			for (int r = 0; r < 8; r++)
				if ((gregs & (1u << r)) && r != R_SP &&
				    mem_op(c, n, i, MOV_STORE, R_BP, r, &d) && d > 0) {
					l->g_sched_bp = (uint32_t)d;
					mask |= 64;
					break;
				}
		}
	}
	if ((mask & 64) && (mask & 32) && l->g_sched_bp > l->g_sched_sp)
		l->g_sched_lr = l->g_sched_bp - 8;
	if ((mask & 8) && (mask & 64) && (mask & 32) && l->g_sched_bp > l->g_sched_sp)
		l->m_morebuf_lr = l->m_morebuf_sp + (l->g_sched_bp - l->g_sched_sp) - 8;
	return mask;
}

/* g.stackguard0 from runtime.newstack's stack check, or -1. */
static int64_t stackguard_from_prologue(struct gort_bin *b)
{
	unsigned char c[24];

	if (!b->newstack.found || gort_elf_read(b, b->newstack.addr - b->bias, c, sizeof c) != 0)
		return -1;
	for (size_t i = 0; i + 4 <= sizeof c; i++) {
		unsigned char rex = c[i], modrm = c[i + 2];

		/* cmp reg, disp8(r14) (REX.WB) or disp8(rcx) (REX.W) */
		if ((rex & 0xf8) == 0x48 && c[i + 1] == 0x3b && (modrm >> 6) == 1 &&
		    (((rex & 1) && (modrm & 7) == 6) || (!(rex & 1) && (modrm & 7) == 1)))
			return c[i + 3];
	}
	return -1;
}

int gort_layout_fallback(struct gort_bin *b, struct gort_layout *out, char *note, size_t notelen)
{
	int minor = minor_of(b->version);
	const struct gort_offrow *row = NULL;
	struct gort_layout derived;
	unsigned mask;
	int64_t sg;
	char warn[320] = "";

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (minor >= rows[i].lo && minor <= rows[i].hi)
			row = &rows[i];
	if (!row) {
		/* Unknown (no build info) or older than the table: the closest
		 * row, said loudly. */
		row = minor > rows[0].lo ? &rows[sizeof rows / sizeof rows[0] - 1] : &rows[0];
		snprintf(warn, sizeof warn, "WARNING: Go version %s not in gort's offset table: "
			 "best effort with the go1.%d-%d row; ", b->version[0] ? b->version : "unknown",
			 row->lo, row->hi);
	} else if (minor > NEWEST_KNOWN) {
		snprintf(warn, sizeof warn, "WARNING: %s is newer than gort's offset table "
			 "(go1.%d): best effort with the newest row; ", b->version, NEWEST_KNOWN);
	}
	*out = row->l;
	derived = *out;
	mask = from_morestack(b, &derived);
	if (mask == 0x7f) {
		/* The gobuf size the code shows (bp is its last word) moves
		 * what follows a gobuf: m.procid and m.curg after m.morebuf
		 * (divmod u32, then 8-aligned procid; curg 120 bytes on in
		 * every row), g.goid after g.sched, by the size difference. */
		int64_t gb = (int64_t)derived.g_sched_bp - derived.g_sched_sp + 8;
		int64_t tgb = (int64_t)row->l.g_sched_bp - row->l.g_sched_sp + 8;
		int64_t procid = ((int64_t)derived.m_morebuf_sp + gb + 4 + 7) & ~(int64_t)7;

		if (gb >= 40 && gb <= 128) {
			derived.m_procid = (uint32_t)procid;
			derived.m_curg = (uint32_t)(procid + (row->l.m_curg - row->l.m_procid));
			derived.g_goid = (uint32_t)((int64_t)row->l.g_goid + (gb - tgb) +
						    ((int64_t)derived.g_sched_sp - row->l.g_sched_sp));
		}
	}
	sg = stackguard_from_prologue(b);
	if (sg >= 0)
		derived.g_stackguard0 = (uint32_t)sg;
	/* What the code shows wins over the table. */
	bool differs = memcmp(&derived, out, sizeof derived) != 0;

	*out = derived;
	gort_err(note, notelen, "%sruntime layout from pclntab + table: %s; %u of 7 gobuf/m "
		 "offsets read from runtime.morestack%s, stackguard0 %s the stack check%s",
		 warn, row->source, (unsigned)__builtin_popcount(mask),
		 mask == 0x7f ? "" : " (rest from the table)",
		 sg >= 0 ? "from" : "NOT from", differs ? "; the code DIFFERS from the table: "
		 "code used" : "; code and table agree");
	return 0;
}
