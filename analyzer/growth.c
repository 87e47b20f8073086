/* growth.c — turns breakpoint stops in runtime.newstack and
 * runtime.copystack into growth events (see growth.h for the model).
 *
 * Reading the runtime (Go 1.19, runtime/stack.go and asm_amd64.s):
 *  - morestack saves the goroutine's state in g.sched (pc = return address
 *    of its CALL in the function that ran out of stack, sp, bp) and switches
 *    to g0, then calls newstack.  In the real (ABIInternal) newstack R14 is
 *    g0; m = g0.m; the goroutine is m.curg.  Binaries without the register
 *    ABI keep g in the TLS slot at fs_base-8.
 *  - newstack reads curg.stackguard0 once: stackPreempt means a preemption
 *    request.  Nobody but the goroutine's own thread clears stackPreempt, so
 *    what we read at the breakpoint (all threads stopped) is what newstack
 *    will read; the other way round (a preemption request that arrives after
 *    our read) newstack does not grow, and the copystack test below catches
 *    that.
 *  - copystack(gp, newsize) is reached from newstack (grow) and shrinkstack
 *    (halve, during GC or at a preemption with preemptShrink).  At its entry
 *    the register ABI has gp in RAX and newsize in RBX (without it, on the
 *    stack above the return address).  A growth is newsize > gp's current
 *    size for the goroutine pending on this thread; g.sched and the old
 *    stack are still intact there, so the event and its backtrace are taken
 *    at copystack.
 *
 * Cost per growth (each RSP round trip costs tens of µs): no 'Hg', no 'g'
 * at newstack (pc expedited in the stop reply, R14 only at a thread's first
 * hit: its M is remembered and re-checked), m's and curg's fields in one
 * small read each; at copystack rax/rbx (one 'g' unless expedited), gp's
 * fields taken from the newstack hit, and the live stack in one read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "growth.h"

#define SIGTRAP_NUM 5
#define DEFAULT_FRAMES 64

struct pending {
	int64_t tid;
	uint64_t gp;        /* goroutine whose growth newstack started; 0 = none */
	int64_t time_ns;
	/* The last hit of each breakpoint on this thread, to recognise the same
	 * hit reported twice (see gt_growth_expect_repeat). */
	uint64_t ns_key[4]; /* newstack: curg, goid, stackguard0, registers */
	uint64_t cs_key[4]; /* copystack: gp, goid, stack.lo/newsize, registers */
	bool expect_repeat;
	/* This thread's M, from the last newstack hit: g0 (R14) and g0.m.
	 * Checked at every use (m.g0 == g0 and m.procid == the thread). */
	uint64_t g0, m;
	/* The pending goroutine's fields read at newstack, valid while gp is
	 * set: newstack changes none of them before copystack (the goroutine
	 * is running newstack, so nothing else may move or scan its stack). */
	uint64_t lo, hi, goid, spc, ssp, sbp;
};

struct gt_growth {
	struct gt_growth_cfg cfg;
	bool armed_newstack, armed_copystack;
	uint64_t bp_newstack, bp_copystack;
	struct pending *pend;
	size_t npend, cappend;
	struct gort_frame *frames;
	struct gort_frame *xframes;     /* frames with inlined calls expanded */
	struct gt_stats stats;
	bool done;
	bool debug;         /* $GOTAP_DEBUG set: trace every hit on stderr */
	uint64_t last_pc;   /* breakpoint of the last claimed stop */
	uint64_t known_m_ok, known_m_fail; /* known_m() checks that passed / failed */
};

static int64_t now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int gt_event_frames(const struct gt_growth_cfg *cfg, struct gort_frame *in, int n,
		    struct gort_frame *x, const struct gort_frame **out)
{
	*out = in;
	if (cfg->no_inline || n <= 0)
		return n;
	*out = x;
	return gort_expand_inline(cfg->bin, in, n, x, n * GT_INLINE_FACTOR);
}

struct gt_growth *gt_growth_new(const struct gt_growth_cfg *cfg)
{
	struct gt_growth *g = calloc(1, sizeof *g);
	if (g == NULL)
		return NULL;
	g->cfg = *cfg;
	if (g->cfg.every == 0)
		g->cfg.every = 1;
	if (g->cfg.max_frames <= 0)
		g->cfg.max_frames = DEFAULT_FRAMES;
	g->frames = calloc((size_t)g->cfg.max_frames, sizeof *g->frames);
	g->xframes = calloc((size_t)g->cfg.max_frames * GT_INLINE_FACTOR, sizeof *g->xframes);
	if (g->frames == NULL || g->xframes == NULL) {
		free(g->frames);
		free(g->xframes);
		free(g);
		return NULL;
	}
	g->bp_newstack = cfg->probes.newstack;
	/* copystack's arguments are only certain at the entry, before the
	 * prologue could spill or reuse the registers. */
	g->bp_copystack = cfg->probes.copystack_entry ? cfg->probes.copystack_entry
						      : cfg->probes.copystack;
	g->stats.start_ns = now_ns();
	g->debug = getenv("GOTAP_DEBUG") != NULL;
	return g;
}

void gt_growth_free(struct gt_growth *g)
{
	if (g == NULL)
		return;
	free(g->pend);
	free(g->frames);
	free(g->xframes);
	free(g);
}

int gt_growth_arm(struct gt_growth *g, char *err, size_t errlen)
{
	struct rspc *c = g->cfg.conn;
	if (!g->armed_newstack) {
		if (rspc_insert_bp(c, 0, g->bp_newstack, 1) < 0) {
			snprintf(err, errlen, "cannot set a breakpoint on runtime.newstack at 0x%" PRIx64 ": %s",
				 g->bp_newstack, rspc_error(c));
			return -1;
		}
		g->armed_newstack = true;
	}
	if (!g->armed_copystack) {
		if (rspc_insert_bp(c, 0, g->bp_copystack, 1) < 0) {
			snprintf(err, errlen, "cannot set a breakpoint on runtime.copystack at 0x%" PRIx64 ": %s",
				 g->bp_copystack, rspc_error(c));
			return -1;
		}
		g->armed_copystack = true;
	}
	return 0;
}

int gt_growth_disarm(struct gt_growth *g)
{
	int rc = 0;
	if (g->armed_newstack) {
		if (rspc_remove_bp(g->cfg.conn, 0, g->bp_newstack, 1) < 0)
			rc = -1;
		g->armed_newstack = false;
	}
	if (g->armed_copystack) {
		if (rspc_remove_bp(g->cfg.conn, 0, g->bp_copystack, 1) < 0)
			rc = -1;
		g->armed_copystack = false;
	}
	return rc;
}

bool gt_growth_armed(const struct gt_growth *g)
{
	return g->armed_newstack || g->armed_copystack;
}

bool gt_growth_done(const struct gt_growth *g)
{
	return g->done;
}

const struct gt_stats *gt_growth_stats(const struct gt_growth *g)
{
	return &g->stats;
}

/* The pending slot of thread tid, created if `create`; NULL if absent or out
 * of memory.  Linear: a Go process has tens of threads, not thousands. */
static struct pending *pending_for(struct gt_growth *g, int64_t tid, bool create)
{
	for (size_t i = 0; i < g->npend; i++)
		if (g->pend[i].tid == tid)
			return &g->pend[i];
	if (!create)
		return NULL;
	if (g->npend == g->cappend) {
		size_t ncap = g->cappend ? g->cappend * 2 : 16;
		struct pending *np = realloc(g->pend, ncap * sizeof *np);
		if (np == NULL)
			return NULL;
		g->pend = np;
		g->cappend = ncap;
	}
	struct pending *p = &g->pend[g->npend++];
	memset(p, 0, sizeof *p);
	p->tid = tid;
	return p;
}

uint64_t gt_growth_last_pc(const struct gt_growth *g)
{
	return g->last_pc;
}

bool gt_growth_is_bp(const struct gt_growth *g, uint64_t pc)
{
	return (g->armed_newstack && pc == g->bp_newstack) ||
	       (g->armed_copystack && pc == g->bp_copystack);
}

void gt_growth_expect_repeat(struct gt_growth *g, int64_t tid)
{
	struct pending *p = pending_for(g, tid, true);
	if (p != NULL)
		p->expect_repeat = true;
}

/* Is this hit the one already analyzed, executed again (after a signal
 * handler, or by a stub that did not step over the breakpoint)?  Only when
 * one was expected, and only if nothing moved: the same goroutine (g and its
 * goid: a g is reused by the next `go` with a new goid), the same runtime
 * state and the same general registers.  Records key as the thread's last
 * hit either way. */
static bool repeated(struct pending *p, uint64_t *last, const uint64_t key[4])
{
	bool rep = p->expect_repeat && memcmp(last, key, 4 * sizeof key[0]) == 0;
	p->expect_repeat = false;
	memcpy(last, key, 4 * sizeof key[0]);
	return rep;
}

/* A fingerprint of a fixed list of registers (not eflags: a signal return
 * may change its system bits).  The list is the same at every hit of the
 * same kind, so the same hit reported again compares equal. */
static uint64_t list_fingerprint(const uint64_t *vals, unsigned n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ vals[i]) * 0x100000001b3ULL;
	return h;
}

static int rd64(struct gt_growth *g, uint64_t addr, uint64_t *v)
{
	return gt_memcache_u64(g->cfg.mem, addr, v);
}

/* Fetch the span of a struct at base that holds the fields at offs[0..n)
 * (8 bytes each) in one small read, so that reading them costs one round
 * trip of a few hundred bytes, not a 4 KiB page.  A span too wide (or an
 * unreadable one) is left to the cache's chunks. */
#define MAX_SPAN 1024
static void prefetch_fields(struct gt_growth *g, uint64_t base, const uint32_t *offs, unsigned n)
{
	uint32_t lo = UINT32_MAX, hi = 0;
	for (unsigned i = 0; i < n; i++) {
		if (offs[i] < lo)
			lo = offs[i];
		if (offs[i] + 8 > hi)
			hi = offs[i] + 8;
	}
	if (n == 0 || base == 0 || hi - lo > MAX_SPAN)
		return;
	(void)gt_memcache_prefetch(g->cfg.mem, base + lo, hi - lo);
}

static void prefetch_curg(struct gt_growth *g, uint64_t m);

/* The thread's M from its last newstack hit, if it still is the M of this
 * thread: its fields are fetched (one small read) and m.procid must be the
 * stopped thread (an M runs on one thread for its whole life, and a thread
 * on one M; a stale M would need its thread id reused by the kernel).  Then
 * *g0 = m.g0, which is R14 at newstack, the cache learns g0.m = m, and curg's
 * fields are fetched: gort_read_growth reads nothing more. */
static bool known_m(struct gt_growth *g, struct pending *p, int64_t tid, uint64_t *g0)
{
	const struct gort_layout *L = &g->cfg.layout;
	uint64_t mg0, procid;
	if (p == NULL || p->m == 0 || tid <= 0)
		return false;
	/* thread ids as the stub numbers them that never match m.procid (a
	 * target in another pid namespace): stop paying for the check */
	if (g->known_m_ok == 0 && g->known_m_fail >= 16)
		return false;
	const uint32_t moff[] = { L->m_g0, L->m_curg, L->m_procid, L->m_morebuf_pc,
				  L->m_morebuf_sp, L->m_morebuf_lr };
	prefetch_fields(g, p->m, moff, 6);
	if (rd64(g, p->m + L->m_g0, &mg0) < 0 || mg0 == 0 || mg0 != p->g0 ||
	    rd64(g, p->m + L->m_procid, &procid) < 0 || procid != (uint64_t)tid) {
		g->known_m_fail++;
		return false;
	}
	g->known_m_ok++;
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(p->m >> (8 * i));
	if (gt_memcache_put(g->cfg.mem, mg0 + L->g_m, b, 8) < 0)
		return false;
	*g0 = mg0;
	prefetch_curg(g, p->m);
	return true;
}

/* What gort_read_growth will read, fetched as three small reads: g0.m, then
 * the m's fields, then curg's. */
static void prefetch_growth(struct gt_growth *g, uint64_t g0)
{
	const struct gort_layout *L = &g->cfg.layout;
	uint64_t m;
	if (g0 == 0)
		return;
	const uint32_t goff[] = { L->g_m };
	prefetch_fields(g, g0, goff, 1);
	if (rd64(g, g0 + L->g_m, &m) < 0 || m == 0)
		return;
	const uint32_t moff[] = { L->m_g0, L->m_curg, L->m_procid, L->m_morebuf_pc,
				  L->m_morebuf_sp, L->m_morebuf_lr };
	prefetch_fields(g, m, moff, 6);
	prefetch_curg(g, m);
}

/* curg's fields gort_read_growth reads, in one small read. */
static void prefetch_curg(struct gt_growth *g, uint64_t m)
{
	const struct gort_layout *L = &g->cfg.layout;
	uint64_t curg;
	if (rd64(g, m + L->m_curg, &curg) < 0 || curg == 0)
		return;
	const uint32_t cgoff[] = { L->g_stack_lo, L->g_stack_hi, L->g_stackguard0, L->g_goid,
				   L->g_sched_pc, L->g_sched_sp, L->g_sched_bp, L->g_sched_lr };
	prefetch_fields(g, curg, cgoff, 8);
}

/* The live part of a goroutine's stack the unwinder walks, in one read: from
 * sched.sp up to stack.hi, at most this much (deeper frames, past the
 * backtrace depth most of the time, go through the cache's chunks). */
#define STACK_PREFETCH (32 * 1024)

static int on_newstack(struct gt_growth *g, int64_t tid, char *err, size_t errlen)
{
	struct gort_growth gg;
	char why[128];
	struct rspc *c = g->cfg.conn;
	uint64_t r14 = 0, fs_base = 0;
	bool have_fs = false;
	struct pending *p = pending_for(g, tid, true);
	if (g->cfg.probes.regabi) {
		/* R14 is g0 = this thread's M's g0: known without a register
		 * read when the M of the thread's last hit checks out */
		if (!known_m(g, p, tid, &r14)) {
			if (rspc_read_reg(c, tid, RSP_AMD64_R14, &r14) < 0)
				goto regs_fail;
			prefetch_growth(g, r14);
		}
	} else {
		if (rspc_read_reg(c, tid, RSP_AMD64_FS_BASE, &fs_base) < 0)
			goto regs_fail;
		have_fs = true;
	}
	int rr = gort_read_growth(&g->cfg.layout, gt_memcache_read, g->cfg.mem, r14, fs_base,
				  &gg, why, sizeof why);
	if (rr < 0 && !have_fs) {
		/* R14 is not g0 here: try the TLS slot as before */
		if (rspc_read_reg(c, tid, RSP_AMD64_FS_BASE, &fs_base) < 0)
			goto regs_fail;
		rr = gort_read_growth(&g->cfg.layout, gt_memcache_read, g->cfg.mem, r14, fs_base,
				      &gg, why, sizeof why);
	}
	if (rr < 0) {
		g->stats.newstack_hits++;
		g->stats.errors++;
		if (p != NULL)
			p->gp = 0;
		return 0;
	}
	if (p != NULL) {
		/* stackguard0 is part of the key: a preemption request that
		 * cannot be served (canPreemptM false) resets it and re-runs the
		 * same prologue, which may then enter newstack again to grow.
		 * A preemption request is fingerprinted with every general
		 * register (one 'g'): two requests in a loop at the same place
		 * differ only there.  A growth needs no more than the registers
		 * at hand: its key changes with every growth (stackguard0 is
		 * stack.lo + guard, and copystack moves the stack). */
		uint64_t fp;
		if (gg.preempt) {
			/* rax..r15, rip: expedited by the stub, else one 'g' */
			unsigned all[17];
			uint64_t regs[RSP_AMD64_NREGS];
			for (unsigned i = 0; i < 17; i++)
				all[i] = RSP_AMD64_RAX + i;
			if (rspc_read_regs_some(c, tid, all, 17, regs) < 0)
				goto regs_fail;
			fp = list_fingerprint(regs, 17);
		} else {
			static const unsigned cheap[] = { RSP_AMD64_RIP, RSP_AMD64_RSP, RSP_AMD64_RBP };
			uint64_t v[4];
			if (rspc_read_regs_some(c, tid, cheap, 3, v) < 0)
				goto regs_fail;
			v[3] = r14;
			fp = list_fingerprint(v, 4);
		}
		const uint64_t key[4] = { gg.g, gg.goid, gg.stackguard0 ^ gg.sched_sp, fp };
		if (repeated(p, p->ns_key, key)) {
			if (g->debug)
				fprintf(stderr, "gotap-debug: newstack tid %" PRId64 " repeated\n", tid);
			g->stats.repeats++;
			return 2;
		}
		p->gp = 0;
	}
	g->stats.newstack_hits++;
	if (g->debug)
		fprintf(stderr, "gotap-debug: newstack tid %" PRId64 " g 0x%" PRIx64 " goid %" PRIu64
			" size %" PRIu64 "%s\n", tid, gg.g, gg.goid, gg.old_size,
			gg.preempt ? " preempt" : "");
	if (gg.preempt) {
		g->stats.preemptions++;
		return 0;
	}
	if (p == NULL) {
		g->stats.errors++; /* out of memory: the copystack will count as unmatched */
		return 0;
	}
	p->gp = gg.g;
	p->time_ns = now_ns();
	p->lo = gg.stack_lo;
	p->hi = gg.stack_hi;
	p->goid = gg.goid;
	p->spc = gg.sched_pc;
	p->ssp = gg.sched_sp;
	p->sbp = gg.sched_bp;
	if (!gg.g0_from_tls) {
		p->g0 = gg.g0;
		p->m = gg.m;
	}
	return 0;

regs_fail:
	snprintf(err, errlen, "cannot read registers of thread %" PRId64 ": %s", tid, rspc_error(c));
	return -1;
}

static int emit(struct gt_growth *g, const struct gt_event *ev, char *err, size_t errlen)
{
	for (int i = 0; i < g->cfg.nsinks; i++) {
		struct out_sink *s = &g->cfg.sinks[i];
		if (s->event(s->state, ev) < 0) {
			snprintf(err, errlen, "cannot write %s output: %s", s->name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int on_copystack(struct gt_growth *g, int64_t tid, char *err, size_t errlen)
{
	const struct gort_layout *L = &g->cfg.layout;
	uint64_t gp, newsize, lo, hi, goid, spc, ssp, sbp;
	/* rax, rbx: copystack's arguments (register ABI); the rest for the
	 * fingerprint.  Expedited ones cost nothing; else one 'g'. */
	static const unsigned want[] = { RSP_AMD64_RAX, RSP_AMD64_RBX, RSP_AMD64_RSP,
					 RSP_AMD64_RBP, RSP_AMD64_RIP };
	uint64_t rv[5];
	if (rspc_read_regs_some(g->cfg.conn, tid, want, 5, rv) < 0) {
		snprintf(err, errlen, "cannot read registers of thread %" PRId64 ": %s", tid,
			 rspc_error(g->cfg.conn));
		return -1;
	}
	if (g->cfg.probes.regabi) {
		gp = rv[0];
		newsize = rv[1];
	} else {
		uint64_t sp = rv[2];
		(void)gt_memcache_prefetch(g->cfg.mem, sp + 8, 16);
		if (rd64(g, sp + 8, &gp) < 0 || rd64(g, sp + 16, &newsize) < 0) {
			g->stats.errors++;
			return 0;
		}
	}
	struct pending *p = pending_for(g, tid, true);
	if (p != NULL && p->gp != 0 && p->gp == gp) {
		/* the growth newstack started: its fields are known */
		lo = p->lo;
		hi = p->hi;
		goid = p->goid;
		spc = p->spc;
		ssp = p->ssp;
		sbp = p->sbp;
	} else {
		const uint32_t goff[] = { L->g_stack_lo, L->g_stack_hi, L->g_goid, L->g_sched_pc,
					  L->g_sched_sp, L->g_sched_bp };
		prefetch_fields(g, gp, goff, 6);
		if (rd64(g, gp + L->g_stack_lo, &lo) < 0 || rd64(g, gp + L->g_stack_hi, &hi) < 0 ||
		    rd64(g, gp + L->g_goid, &goid) < 0 || rd64(g, gp + L->g_sched_pc, &spc) < 0 ||
		    rd64(g, gp + L->g_sched_sp, &ssp) < 0 || rd64(g, gp + L->g_sched_bp, &sbp) < 0) {
			g->stats.errors++;
			return 0;
		}
	}
	if (hi <= lo) {
		g->stats.errors++;
		return 0;
	}
	if (p != NULL) {
		const uint64_t key[4] = { gp, goid, lo ^ (newsize << 1), list_fingerprint(rv, 5) };
		if (repeated(p, p->cs_key, key)) {
			if (g->debug)
				fprintf(stderr, "gotap-debug: copystack tid %" PRId64 " repeated\n", tid);
			g->stats.repeats++;
			return 2;
		}
	}
	bool matched = p != NULL && p->gp == gp;
	if (g->debug)
		fprintf(stderr, "gotap-debug: copystack tid %" PRId64 " g 0x%" PRIx64 " goid %" PRIu64
			" %" PRIu64 " -> %" PRIu64 "%s\n", tid, gp, goid, hi - lo, newsize,
			matched ? "" : newsize > hi - lo ? " UNMATCHED" : "");
	int64_t t = matched ? p->time_ns : now_ns();
	if (p != NULL)
		p->gp = 0;
	uint64_t old = hi - lo;
	if (newsize <= old) {
		g->stats.shrinks++; /* shrinkstack, or a debug forced move */
		return 0;
	}
	if (!matched)
		g->stats.unmatched++;

	struct gt_event ev;
	memset(&ev, 0, sizeof ev);
	ev.seq = ++g->stats.growths;
	ev.time_ns = t;
	ev.pid = g->cfg.pid;
	ev.tid = tid;
	ev.goid = (int64_t)goid;
	ev.old_size = old;
	ev.new_size = newsize;
	ev.used = hi > ssp && hi - ssp <= old ? hi - ssp : 0;
	g->stats.bytes_copied += ev.used;
	g->stats.bytes_allocated += newsize;
	/* sched.pc is the return address of the CALL to morestack */
	if (gort_symbolize(g->cfg.bin, spc, true, &ev.site) < 0) {
		memset(&ev.site, 0, sizeof ev.site);
		ev.site.pc = spc;
	}
	ev.reported = !g->done && ev.seq % g->cfg.every == 0;
	if (ev.reported) {
		if (hi > ssp && ssp >= lo)
			(void)gt_memcache_prefetch(g->cfg.mem, ssp,
						   hi - ssp < STACK_PREFETCH ? hi - ssp : STACK_PREFETCH);
		int n = gort_unwind(g->cfg.bin, gt_memcache_read, g->cfg.mem, spc, ssp, sbp,
				    g->frames, g->cfg.max_frames);
		if (n <= 0) {
			/* nothing unwound: still show the function that grew */
			g->frames[0] = ev.site;
			n = 1;
		}
		ev.nframes = gt_event_frames(&g->cfg, g->frames, n, g->xframes, &ev.frames);
		g->stats.reported++;
		if (g->cfg.max_events && g->stats.reported >= g->cfg.max_events)
			g->done = true;
	}
	return emit(g, &ev, err, errlen);
}

int gt_growth_on_stop(struct gt_growth *g, const struct rsp_stop *st, char *err, size_t errlen)
{
	if (st->kind != RSP_STOP_SIGNAL || st->sig != SIGTRAP_NUM)
		return 0;
	int64_t tid = st->has_thread ? st->thread.tid : 0;
	/* Only the registers this stop needs: the pc (expedited in the stop
	 * reply by gdbserver and gotap-stub: no packet), then per breakpoint
	 * R14 or RAX/RBX (see on_newstack/on_copystack); never a 'g' with the
	 * FP registers unless several are missing. */
	uint64_t pc;
	if (rspc_read_reg(g->cfg.conn, tid, RSP_AMD64_RIP, &pc) < 0) {
		snprintf(err, errlen, "cannot read registers of thread %" PRId64 ": %s", tid,
			 rspc_error(g->cfg.conn));
		return -1;
	}
	g->last_pc = pc;
	int r;
	if (pc == g->bp_newstack && g->armed_newstack)
		r = on_newstack(g, tid, err, errlen);
	else if (pc == g->bp_copystack && g->armed_copystack)
		r = on_copystack(g, tid, err, errlen);
	else
		return 0;
	return r < 0 ? -1 : r == 2 ? 2 : 1;
}

int gt_growth_finish(struct gt_growth *g)
{
	g->stats.end_ns = now_ns();
	int rc = 0;
	for (int i = 0; i < g->cfg.nsinks; i++) {
		struct out_sink *s = &g->cfg.sinks[i];
		if (s->finish(s->state, &g->stats) < 0)
			rc = -1;
	}
	return rc;
}
