/* pt_breakpoints.c — software breakpoints (int3) and the x86 debug registers.
 *
 * Software breakpoints are reference counted: gdb and the stub itself may
 * insert the same address twice; the byte goes back when the last one goes.
 *
 * Hardware breakpoints and watchpoints use DR0-3 (addresses) and DR7 (enable,
 * type, length), written with PTRACE_POKEUSER into struct user's u_debugreg.
 * Every thread needs its own copy: the kernel does not copy them into new
 * threads, so each thread records the generation it has (pt_thread.dr_gen)
 * and gets the current set before it next runs (pt_restart) or at its first
 * stop.  A watched range that is not one aligned 1/2/4/8-byte region is split
 * into several such regions, one register each (as gdbserver's x86-dregs.cc
 * does); -ENOSPC when they do not fit.  DR7 layout: Intel SDM vol. 3, 17.2.4.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <unistd.h>

#include "pt_int.h"

#define DR_OFF(i) (offsetof(struct user, u_debugreg) + (size_t)(i) * sizeof(long))

struct pt_bp *pt_bp_find(struct tgt *t, uint64_t addr)
{
	for (int i = 0; i < t->nbp; i++)
		if (t->bps[i].addr == addr) return &t->bps[i];
	return NULL;
}

/* Write a jump's bytes so that a thread arriving at addr at any moment
 * sees either an int3 or the whole instruction: the first byte becomes
 * an int3, then the tail, then the first byte (as Linux's text_poke_bp).
 * Used with every thread held; the order also covers the paths that
 * cannot hold them (pt_fork.c). */
/* n bytes at addr through fd, all or an error (-errno, -EIO if short). */
static long poke(int fd, uint64_t addr, const uint8_t *b, size_t n)
{
	ssize_t w;
	do w = pwrite(fd, b, n, (off_t)addr); while (w < 0 && errno == EINTR);
	return w == (ssize_t)n ? w : w < 0 ? -errno : -EIO;
}

long pt_poke5(int fd, uint64_t addr, const uint8_t b[5])
{
	static const uint8_t cc = 0xcc;
	long r = poke(fd, addr, &cc, 1);
	if (r == 1) r = poke(fd, addr + 1, b + 1, 4);
	if (r == 4) r = poke(fd, addr, b, 1);
	return r == 1 ? 5 : r < 0 ? r : -EIO;
}

int pt_jump_out(struct tgt *t, struct pt_bp *bp)
{
	if (!bp->jump) return 0;
	uint64_t addr = bp->addr;
	if (t->vforks) {           /* the original bytes are in memory now; the int3 comes back at VFORK_DONE */
		bp->jump = false;
		return 0;
	}
	int r = pt_hold_all(t);
	bp = pt_bp_find(t, addr);  /* the table does not move while held, but be sure */
	if (r == 0 && bp && bp->jump && t->memfd >= 0 && !t->exited) {
		uint8_t b[5];
		memcpy(b, bp->orig5, 5);
		b[0] = 0xcc;
		long w = pt_poke5(t->memfd, addr, b);
		if (w == 5) bp->jump = false;
		else r = w < 0 ? (int)w : -EIO;
	}
	pt_release(t);
	if (t->exited) return 0;
	return r;
}

/* Every jump back to an int3 (a watchpoint: a pad's copy of the
 * instruction must not be what triggers it); the held threads go on. */
static int jumps_out(struct tgt *t)
{
	int err = 0;
	bool any = false;
	for (int i = 0; i < t->nbp; i++) {
		if (!t->bps[i].jump) continue;
		any = true;
		int r = pt_jump_out(t, &t->bps[i]);
		if (r < 0 && !err) err = r;
	}
	if (any) pt_restart_idle(t);
	return err;
}

static int sw_insert(struct tgt *t, uint64_t addr, bool trace)
{
	/* A breakpoint inside another's jump (its tail bytes): that one goes
	 * back to an int3 first, so that the byte read below is the original. */
	bool moved = false;
	for (int i = 0; i < t->nbp; i++)
		if (t->bps[i].jump && addr > t->bps[i].addr && addr - t->bps[i].addr < 5) {
			int r = pt_jump_out(t, &t->bps[i]);
			if (r < 0) return r;
			moved = true;
		}
	struct pt_bp *bp = pt_bp_find(t, addr);
	if (bp) {
		bp->refs++;
		if (trace) bp->trace_refs++;
		else if (bp->jump) {
			/* A client breakpoint: its hits are reported as stops, with
			 * an int3 as any (a jump is for tracepoints only). */
			int r = pt_jump_out(t, bp);
			pt_restart_idle(t);
			if (r < 0) {
				if ((bp = pt_bp_find(t, addr)) != NULL) bp->refs--;
				return r;
			}
		}
		if (moved) pt_restart_idle(t);
		return 0;
	}
	if (moved) pt_restart_idle(t);
	if (t->nbp == t->bpcap) {
		int cap = t->bpcap ? t->bpcap * 2 : 16;
		struct pt_bp *n = realloc(t->bps, (size_t)cap * sizeof *n);
		if (!n) return -ENOMEM;
		t->bps = n;
		t->bpcap = cap;
	}
	uint8_t orig, cc = 0xcc;
	long r = pt_mem_read_raw(t, addr, &orig, 1);
	if (r != 1) return r < 0 ? (int)r : -EIO;
	if (!t->vforks) {      /* during a vfork the int3s are out (pt_wait.c on_fork) */
		r = pt_mem_write_raw(t, addr, &cc, 1);
		if (r != 1) return r < 0 ? (int)r : -EIO;
	}
	t->bps[t->nbp++] = (struct pt_bp){ .addr = addr, .orig = orig, .refs = 1, .trace_refs = trace };
	pt_insn_decode(t, &t->bps[t->nbp - 1]);   /* for stepping over it (pt_dstep.c) */
	return 0;
}

static int sw_remove(struct tgt *t, uint64_t addr, bool trace)
{
	struct pt_bp *bp = pt_bp_find(t, addr);
	if (!bp) return -ENOENT;
	if (trace && bp->trace_refs > 0) bp->trace_refs--;
	if (--bp->refs > 0) return 0;
	long r = 0;
	if (bp->jump) {
		/* Back to an int3 first, every thread held (pt_jump_out).  A
		 * thread that took the jump just before traps in the pad (a hit
		 * of a breakpoint that is gone: pt_wait.c lets it run on through
		 * the pad). */
		r = pt_jump_out(t, bp);
		pt_restart_idle(t);
		if (!(bp = pt_bp_find(t, addr))) return 0;
		if (t->exited) r = 1;
	}
	if (r == 0) r = pt_mem_write_raw(t, addr, &bp->orig, 1);
	*bp = t->bps[--t->nbp];
	t->gone_bps[t->gone_next++ % (sizeof t->gone_bps / sizeof t->gone_bps[0])] = addr;
	return r == 1 ? 0 : (r < 0 ? (int)r : -EIO);
}

/* ------------------------------------------------------------ debug registers */

bool pt_dr_active(struct tgt *t)
{
	for (int i = 0; i < 4; i++)
		if (t->slots[i].refs) return true;
	return false;
}

static uint64_t dr7_value(const struct tgt *t)
{
	uint64_t v = 0;
	for (int i = 0; i < 4; i++) {
		const struct pt_slot *s = &t->slots[i];
		if (!s->refs) continue;
		unsigned rw = s->kind == TGT_BP_HW ? 0 : s->kind == TGT_WP_WRITE ? 1 : 3;
		unsigned ln = s->kind == TGT_BP_HW ? 0 :
			      s->len == 1 ? 0 : s->len == 2 ? 1 : s->len == 8 ? 2 : 3;
		v |= 1ull << (2 * i);                       /* Li */
		v |= (uint64_t)(rw | ln << 2) << (16 + 4 * i);
	}
	return v;
}

int pt_dr_apply(struct tgt *t, struct pt_thread *th)
{
	/* Disable first, then addresses, then the new enables: the kernel checks
	 * each write against the others. */
	if (ptrace(PTRACE_POKEUSER, th->tid, (void *)DR_OFF(7), 0L) < 0) return -errno;
	for (int i = 0; i < 4; i++) {
		if (!t->slots[i].refs) continue;
		if (ptrace(PTRACE_POKEUSER, th->tid, (void *)DR_OFF(i), (long)t->slots[i].addr) < 0)
			return -errno;
	}
	uint64_t v = dr7_value(t);
	if (v && ptrace(PTRACE_POKEUSER, th->tid, (void *)DR_OFF(7), (long)v) < 0) return -errno;
	th->dr_gen = t->dr_gen;
	return 0;
}

int pt_dr_hit(struct tgt *t, struct pt_thread *th)
{
	errno = 0;
	long dr6 = ptrace(PTRACE_PEEKUSER, th->tid, (void *)DR_OFF(6), 0L);
	if (dr6 == -1 && errno) return -1;
	int hit = -1;
	for (int i = 0; i < 4; i++)
		if ((dr6 & (1L << i)) && t->slots[i].refs) {
			hit = i;
			break;
		}
	if (dr6 & 0xf) ptrace(PTRACE_POKEUSER, th->tid, (void *)DR_OFF(6), 0L);
	return hit;
}

/* Split [addr, addr+len) into aligned regions of 1, 2, 4 or 8 bytes. */
static int split(uint64_t addr, unsigned len, uint64_t *a, unsigned *l)
{
	int n = 0;
	while (len > 0) {
		unsigned sz = 8;
		while (sz > 1 && ((addr & (sz - 1)) || sz > len)) sz /= 2;
		if (n == 4) return -ENOSPC;
		a[n] = addr;
		l[n] = sz;
		n++;
		addr += sz;
		len -= sz;
	}
	return n;
}

static int find_slot(struct tgt *t, enum tgt_bp_kind k, uint64_t addr, unsigned len)
{
	for (int i = 0; i < 4; i++)
		if (t->slots[i].refs && t->slots[i].kind == k && t->slots[i].addr == addr &&
		    t->slots[i].len == len)
			return i;
	return -1;
}

/* The new set must reach threads that are running now too. */
static int dr_publish(struct tgt *t)
{
	t->dr_gen++;
	bool all = true;
	for (int i = 0; i < t->nth; i++)
		if (!t->th[i]->kstopped && !t->th[i]->exiting) all = false;
	if (all) return 0;     /* each thread gets them in pt_restart() */
	int r = pt_hold_all(t);
	for (int i = 0; r == 0 && i < t->nth; i++)
		if (t->th[i]->kstopped && t->th[i]->dr_gen != t->dr_gen) {
			int e = pt_dr_apply(t, t->th[i]);
			if (e < 0 && e != -ESRCH) r = e;
		}
	pt_release(t);
	pt_restart_idle(t);
	return r;
}

static int hw_insert(struct tgt *t, enum tgt_bp_kind k, uint64_t addr, unsigned len)
{
	uint64_t a[4];
	unsigned l[4];
	int n;
	if (k == TGT_BP_HW) {
		a[0] = addr;
		l[0] = 1;
		n = 1;
	} else {
		if (len == 0 || len > 32) return -EINVAL;
		n = split(addr, len, a, l);
		if (n < 0) return n;
	}
	int need = 0, free_slots = 0;
	for (int i = 0; i < n; i++)
		if (find_slot(t, k, a[i], l[i]) < 0) need++;
	for (int i = 0; i < 4; i++)
		if (!t->slots[i].refs) free_slots++;
	if (need > free_slots) return -ENOSPC;
	for (int i = 0; i < n; i++) {
		int s = find_slot(t, k, a[i], l[i]);
		if (s >= 0) {
			t->slots[s].refs++;
			continue;
		}
		for (s = 0; t->slots[s].refs; s++) {}
		t->slots[s] = (struct pt_slot){ .refs = 1, .kind = k, .addr = a[i], .len = l[i] };
	}
	return dr_publish(t);
}

static int hw_remove(struct tgt *t, enum tgt_bp_kind k, uint64_t addr, unsigned len)
{
	uint64_t a[4];
	unsigned l[4];
	int n;
	if (k == TGT_BP_HW) {
		a[0] = addr;
		l[0] = 1;
		n = 1;
	} else {
		if (len == 0 || len > 32) return -EINVAL;
		n = split(addr, len, a, l);
		if (n < 0) return -ENOENT;
	}
	for (int i = 0; i < n; i++)
		if (find_slot(t, k, a[i], l[i]) < 0) return -ENOENT;
	for (int i = 0; i < n; i++)
		t->slots[find_slot(t, k, a[i], l[i])].refs--;
	return dr_publish(t);
}

int pt_insert_bp(struct tgt *t, enum tgt_bp_kind k, uint64_t addr, unsigned len)
{
	if (!t->pid || t->exited) return -ESRCH;
	switch (k) {
	case TGT_BP_SW:
	case TGT_BP_TRACE:
		if (len != 1) return -EINVAL;   /* x86: gdb's kind is always 1 */
		return sw_insert(t, addr, k == TGT_BP_TRACE);
	case TGT_BP_HW:
	case TGT_WP_WRITE:
	case TGT_WP_READ:
	case TGT_WP_ACCESS: {
		int r = jumps_out(t);
		if (r < 0) return r;
		return hw_insert(t, k, addr, len);
	}
	}
	return -EINVAL;
}

int pt_remove_bp(struct tgt *t, enum tgt_bp_kind k, uint64_t addr, unsigned len)
{
	if (!t->pid || t->exited) return -ESRCH;
	switch (k) {
	case TGT_BP_SW:
	case TGT_BP_TRACE:
		if (len != 1) return -EINVAL;
		return sw_remove(t, addr, k == TGT_BP_TRACE);
	case TGT_BP_HW:
	case TGT_WP_WRITE:
	case TGT_WP_READ:
	case TGT_WP_ACCESS:
		return hw_remove(t, k, addr, len);
	}
	return -EINVAL;
}

int pt_bp_remove_all(struct tgt *t)
{
	int err = 0;
	for (int i = 0; i < t->nbp; i++) {
		/* every thread is stopped (detach): a jump's 5 bytes go back too */
		const struct pt_bp *bp = &t->bps[i];
		long w = bp->jump ? (pt_poke5(t->memfd, bp->addr, bp->orig5) == 5 ? 1 : -EIO)
				  : pt_mem_write_raw(t, bp->addr, &bp->orig, 1);
		if (w != 1 && !err) err = w < 0 ? (int)w : -EIO;
	}
	t->nbp = 0;
	bool had = pt_dr_active(t);
	memset(t->slots, 0, sizeof t->slots);
	if (had) {
		t->dr_gen++;
		for (int i = 0; i < t->nth; i++) {
			if (!t->th[i]->kstopped || t->th[i]->exiting) continue;
			int r = pt_dr_apply(t, t->th[i]);
			if (r < 0 && r != -ESRCH && !err) err = r;
		}
	}
	return err;
}

void pt_bp_forget_all(struct tgt *t)
{
	t->nbp = 0;
	t->vforks = 0;
	memset(t->slots, 0, sizeof t->slots);
	t->dr_gen++;
}
