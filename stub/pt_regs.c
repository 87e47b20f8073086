/* pt_regs.c — registers in gdb's amd64-linux numbering over PTRACE_GETREGS/GETFPREGS.
 *
 * The 'g' block is every register of protocol/rsp.h's rsp_amd64_regs in
 * order, each of pt_reg_size() bytes, little-endian (560 bytes); the unit test
 * checks our sizes against that table.  Values are cached per thread stop and
 * written through on change, so a resume never rewrites registers that did
 * not change (issue 6: gdbserver rewrites the extended set on every resume).
 *
 * The x87 part follows gdbserver's i387_fxsave_to_cache/i387_cache_to_fxsave
 * (gdbserver/i387-fp.cc): FXSAVE keeps an abridged tag byte (1 = valid) that
 * is expanded into the full 16-bit tag word by looking at each register's
 * value, fiseg/fioff and foseg/fooff are the halves of the 64-bit FPU IP/DP,
 * fop is 11 bits.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>

#include "pt_int.h"

/* gdb register sizes in bytes, indexed by regno (rsp.h enum rsp_amd64_regno). */
static const uint8_t reg_size[60] = {
	8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,   /* rax..r15 */
	8, 4, 4, 4, 4, 4, 4, 4,                           /* rip eflags cs ss ds es fs gs */
	10, 10, 10, 10, 10, 10, 10, 10,                   /* st0..st7 */
	4, 4, 4, 4, 4, 4, 4, 4,                           /* fctrl fstat ftag fiseg fioff foseg fooff fop */
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, /* xmm0..15 */
	4, 8, 8, 8,                                       /* mxcsr orig_rax fs_base gs_base */
};

/* Offsets in struct user_regs_struct of the general registers 0..23 and 57..59. */
#define UR(f) offsetof(struct user_regs_struct, f)
static const unsigned short gp_off[60] = {
	UR(rax), UR(rbx), UR(rcx), UR(rdx), UR(rsi), UR(rdi), UR(rbp), UR(rsp),
	UR(r8), UR(r9), UR(r10), UR(r11), UR(r12), UR(r13), UR(r14), UR(r15),
	UR(rip), UR(eflags), UR(cs), UR(ss), UR(ds), UR(es), UR(fs), UR(gs),
	[57] = UR(orig_rax), [58] = UR(fs_base), [59] = UR(gs_base),
};

unsigned pt_reg_size(unsigned regno)
{
	return regno < 60 ? reg_size[regno] : 0;
}

static bool is_gp(unsigned regno)
{
	return regno < 24 || (regno >= 57 && regno < 60);
}

int pt_regs_fetch(struct pt_thread *th)
{
	if (th->regs_valid) return 0;
	if (ptrace(PTRACE_GETREGS, th->tid, 0L, &th->regs) < 0) return -errno;
	if (th->jp_rip && th->regs.rip == th->jp_rip) th->regs.rip = th->jp_addr;   /* a jump pad hit */
	th->regs_valid = true;
	return 0;
}

int pt_regs_store(struct pt_thread *th)
{
	th->regs_dirty = false;
	/* A hit through a jump: the breakpoint's address is its pad + 1 for
	 * the kernel (past the pad's int3, before the relocated instruction);
	 * any other rip takes it out of there. */
	unsigned long long rip = th->regs.rip;
	bool jp = th->jp_rip && rip == th->jp_addr;
	if (jp) th->regs.rip = th->jp_rip;
	else th->jp_rip = 0;
	long r = ptrace(PTRACE_SETREGS, th->tid, 0L, &th->regs);
	th->regs.rip = rip;
	if (r < 0) {
		int e = errno;
		th->regs_valid = false;
		return -e;
	}
	return 0;
}

int pt_regs_flush(struct pt_thread *th)
{
	if (!th->regs_dirty) return 0;
	if (!th->regs_valid) {   /* cannot happen: a dirty cache is a valid one */
		th->regs_dirty = false;
		return 0;
	}
	return pt_regs_store(th);
}

static int fp_fetch(struct pt_thread *th)
{
	if (th->fpregs_valid) return 0;
	if (ptrace(PTRACE_GETFPREGS, th->tid, 0L, &th->fpregs) < 0) return -errno;
	th->fpregs_valid = true;
	return 0;
}

static int fp_store(struct pt_thread *th)
{
	if (ptrace(PTRACE_SETFPREGS, th->tid, 0L, &th->fpregs) < 0) {
		int e = errno;
		th->fpregs_valid = false;
		return -e;
	}
	return 0;
}

/* i387 tag of one 80-bit value: 0 valid, 1 zero, 2 special (gdbserver i387_ftag). */
static unsigned x87_tag(const uint8_t *raw)
{
	unsigned exponent = ((raw[9] & 0x7fu) << 8) | raw[8];
	bool integer = raw[7] & 0x80;
	bool frac_zero = true;
	for (int i = 0; i < 8; i++)
		if ((i < 7 ? raw[i] : raw[7] & 0x7f) != 0) frac_zero = false;
	if (exponent == 0x7fff) return 2;
	if (exponent == 0) return frac_zero && !integer ? 1 : 2;
	return integer ? 0 : 2;
}

static uint32_t full_ftag(const struct user_fpregs_struct *fp)
{
	unsigned top = (fp->swd >> 11) & 7;
	uint32_t val = 0;
	for (int i = 7; i >= 0; i--) {
		unsigned tag = 3;   /* empty */
		if (fp->ftw & (1u << i))
			tag = x87_tag((const uint8_t *)fp->st_space + ((i + 8 - top) % 8) * 16);
		val |= tag << (2 * i);
	}
	return val;
}

static uint16_t abridged_ftag(uint32_t full)
{
	uint16_t v = 0;
	for (int i = 0; i < 8; i++)
		if (((full >> (2 * i)) & 3) != 3) v |= (uint16_t)(1u << i);
	return v;
}

/* Copy register regno between the caches and buf (to_buf: read). */
static void xfer_reg(struct pt_thread *th, unsigned regno, uint8_t *buf, bool to_buf)
{
	unsigned sz = reg_size[regno];
	if (is_gp(regno)) {
		uint8_t *p = (uint8_t *)&th->regs + gp_off[regno];
		if (to_buf) {
			memcpy(buf, p, sz);
		} else {
			uint64_t v = 0;
			memcpy(&v, buf, sz);     /* 4-byte registers: zero-extended */
			memcpy(p, &v, 8);
		}
		return;
	}
	struct user_fpregs_struct *fp = &th->fpregs;
	uint8_t *raw = NULL;
	if (regno >= 24 && regno < 32) raw = (uint8_t *)fp->st_space + (regno - 24) * 16;
	else if (regno >= 40 && regno < 56) raw = (uint8_t *)fp->xmm_space + (regno - 40) * 16;
	if (raw) {
		if (to_buf) memcpy(buf, raw, sz);
		else memcpy(raw, buf, sz);
		return;
	}
	uint32_t v = 0;
	if (!to_buf) memcpy(&v, buf, 4);
	switch (regno) {
	case 32: if (to_buf) v = fp->cwd; else fp->cwd = (uint16_t)v; break;
	case 33: if (to_buf) v = fp->swd; else fp->swd = (uint16_t)v; break;
	case 34: if (to_buf) v = full_ftag(fp); else fp->ftw = abridged_ftag(v); break;
	case 35: /* fiseg: bits 32..47 of the FPU instruction pointer */
		if (to_buf) v = (uint32_t)(fp->rip >> 32) & 0xffff;
		else fp->rip = (fp->rip & 0xffffffffull) | ((uint64_t)(v & 0xffff) << 32);
		break;
	case 36: /* fioff */
		if (to_buf) v = (uint32_t)fp->rip;
		else fp->rip = (fp->rip & ~0xffffffffull) | v;
		break;
	case 37: /* foseg */
		if (to_buf) v = (uint32_t)(fp->rdp >> 32) & 0xffff;
		else fp->rdp = (fp->rdp & 0xffffffffull) | ((uint64_t)(v & 0xffff) << 32);
		break;
	case 38: /* fooff */
		if (to_buf) v = (uint32_t)fp->rdp;
		else fp->rdp = (fp->rdp & ~0xffffffffull) | v;
		break;
	case 39: if (to_buf) v = fp->fop & 0x7ff; else fp->fop = (uint16_t)(v & 0x7ff); break;
	case 56: if (to_buf) v = fp->mxcsr; else fp->mxcsr = v; break;
	}
	if (to_buf) memcpy(buf, &v, 4);
}

static struct pt_thread *stopped_thread(struct tgt *t, pid_t tid, int *err)
{
	struct pt_thread *th = pt_thread_find(t, tid);
	*err = 0;
	if (!th || th->exiting) *err = -ESRCH;
	else if (!th->kstopped) *err = -EBUSY;
	return *err ? NULL : th;
}

int pt_read_reg(struct tgt *t, pid_t tid, unsigned regno, uint8_t *buf)
{
	int r;
	if (regno >= 60) return -EINVAL;
	struct pt_thread *th = stopped_thread(t, tid, &r);
	if (!th) return r;
	r = is_gp(regno) ? pt_regs_fetch(th) : fp_fetch(th);
	if (r < 0) return r;
	xfer_reg(th, regno, buf, true);
	return 0;
}

int pt_write_reg(struct tgt *t, pid_t tid, unsigned regno, const uint8_t *buf)
{
	int r;
	if (regno >= 60) return -EINVAL;
	struct pt_thread *th = stopped_thread(t, tid, &r);
	if (!th) return r;
	r = is_gp(regno) ? pt_regs_fetch(th) : fp_fetch(th);
	if (r < 0) return r;
	xfer_reg(th, regno, (uint8_t *)buf, false);
	return is_gp(regno) ? pt_regs_store(th) : fp_store(th);
}

int pt_read_regs(struct tgt *t, pid_t tid, uint8_t *buf)
{
	int r;
	struct pt_thread *th = stopped_thread(t, tid, &r);
	if (!th) return r;
	if ((r = pt_regs_fetch(th)) < 0 || (r = fp_fetch(th)) < 0) return r;
	for (unsigned i = 0; i < 60; i++) {
		xfer_reg(th, i, buf, true);
		buf += reg_size[i];
	}
	return 0;
}

int pt_write_regs(struct tgt *t, pid_t tid, const uint8_t *buf)
{
	int r;
	struct pt_thread *th = stopped_thread(t, tid, &r);
	if (!th) return r;
	if ((r = pt_regs_fetch(th)) < 0 || (r = fp_fetch(th)) < 0) return r;
	for (unsigned i = 0; i < 60; i++) {
		xfer_reg(th, i, (uint8_t *)buf, false);
		buf += reg_size[i];
	}
	if ((r = pt_regs_store(th)) < 0) return r;
	return fp_store(th);
}
