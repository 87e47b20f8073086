/* gort_growth.c — what one runtime.newstack hit means: which goroutine ran
 * out of stack, how big its stack is, and whether this entry is a real
 * growth or a preemption request.
 *
 * At the probe (see gort_probes) the thread runs on g0: morestack switched
 * to it before calling newstack (asm_amd64.s), so R14 = g0 with the register
 * ABI and the TLS slot g (fs_base-8) holds g0 too.  From g0: m = g0.m, the
 * goroutine is m.curg; morestack stored the goroutine's state in curg.sched
 * (pc/sp/bp inside the function that ran out of stack) and its caller's in
 * m.morebuf.  newstack (stack.go) treats stackguard0 == stackPreempt as a
 * preemption request and does not grow the stack on that entry.
 */
#include <string.h>

#include "gort_int.h"

static int rd64(gort_read_fn rd, void *ctx, uint64_t addr, uint64_t *v)
{
	return rd(ctx, addr, v, sizeof *v) == (long)sizeof *v ? 0 : -1;
}

/* m if cand is a g0 (cand.m.g0 == cand), else 0. */
static uint64_t m_of_g0(const struct gort_layout *l, gort_read_fn rd, void *ctx, uint64_t cand)
{
	uint64_t m, g0;

	if (cand == 0 || rd64(rd, ctx, cand + l->g_m, &m) != 0 || m == 0 ||
	    rd64(rd, ctx, m + l->m_g0, &g0) != 0 || g0 != cand)
		return 0;
	return m;
}

int gort_read_growth(const struct gort_layout *l, gort_read_fn rd, void *ctx,
		     uint64_t r14, uint64_t fs_base, struct gort_growth *out,
		     char *err, size_t errlen)
{
	uint64_t g, tls_g = 0;
	const struct { uint32_t off; uint64_t *dst; } gf[] = {
		{ l->g_stack_lo, &out->stack_lo }, { l->g_stack_hi, &out->stack_hi },
		{ l->g_stackguard0, &out->stackguard0 }, { l->g_goid, &out->goid },
		{ l->g_sched_pc, &out->sched_pc }, { l->g_sched_sp, &out->sched_sp },
		{ l->g_sched_bp, &out->sched_bp }, { l->g_sched_lr, &out->sched_lr },
	};

	memset(out, 0, sizeof *out);
	out->m = m_of_g0(l, rd, ctx, r14);
	if (out->m) {
		out->g0 = r14;
	} else if (fs_base >= 8 && rd64(rd, ctx, fs_base - 8, &tls_g) == 0 &&
		   (out->m = m_of_g0(l, rd, ctx, tls_g)) != 0) {
		out->g0 = tls_g;
		out->g0_from_tls = true;
	} else {
		gort_err(err, errlen, "no g0: neither R14 (0x%llx) nor TLS fs_base-8 (0x%llx) "
			 "holds a g with g.m.g0 == g", (unsigned long long)r14,
			 (unsigned long long)tls_g);
		return -1;
	}
	if (rd64(rd, ctx, out->m + l->m_curg, &g) != 0 || g == 0) {
		gort_err(err, errlen, "m 0x%llx: curg unreadable or nil", (unsigned long long)out->m);
		return -1;
	}
	out->g = g;
	for (size_t i = 0; i < sizeof gf / sizeof gf[0]; i++) {
		if (rd64(rd, ctx, g + gf[i].off, gf[i].dst) != 0) {
			gort_err(err, errlen, "g 0x%llx unreadable at +%u",
				 (unsigned long long)g, gf[i].off);
			return -1;
		}
	}
	if (rd64(rd, ctx, out->m + l->m_procid, &out->tid) != 0 ||
	    rd64(rd, ctx, out->m + l->m_morebuf_pc, &out->morebuf_pc) != 0 ||
	    rd64(rd, ctx, out->m + l->m_morebuf_sp, &out->morebuf_sp) != 0 ||
	    rd64(rd, ctx, out->m + l->m_morebuf_lr, &out->morebuf_lr) != 0) {
		gort_err(err, errlen, "m 0x%llx unreadable", (unsigned long long)out->m);
		return -1;
	}
	out->old_size = out->stack_hi - out->stack_lo;
	out->preempt = out->stackguard0 == l->stack_preempt;
	return 0;
}
