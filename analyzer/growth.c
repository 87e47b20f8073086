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
};

struct gt_growth {
	struct gt_growth_cfg cfg;
	bool armed_newstack, armed_copystack;
	uint64_t bp_newstack, bp_copystack;
	struct pending *pend;
	size_t npend, cappend;
	struct gort_frame *frames;
	struct gt_stats stats;
	bool done;
	bool debug;         /* $GOTAP_DEBUG set: trace every hit on stderr */
	uint64_t last_pc;   /* breakpoint of the last claimed stop */
};

static int64_t now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
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
	if (g->frames == NULL) {
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

/* A fingerprint of the general registers rax..r15 and rip (not eflags: a
 * signal return may change its system bits). */
static uint64_t regs_fingerprint(const uint64_t *regs)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (unsigned i = RSP_AMD64_RAX; i <= RSP_AMD64_RIP; i++)
		h = (h ^ regs[i]) * 0x100000001b3ULL;
	return h;
}

static int rd64(struct gt_growth *g, uint64_t addr, uint64_t *v)
{
	return gt_memcache_u64(g->cfg.mem, addr, v);
}

static int on_newstack(struct gt_growth *g, int64_t tid, const uint64_t *regs)
{
	struct gort_growth gg;
	char why[128];
	struct pending *p = pending_for(g, tid, true);
	if (gort_read_growth(&g->cfg.layout, gt_memcache_read, g->cfg.mem,
			     g->cfg.probes.regabi ? regs[RSP_AMD64_R14] : 0,
			     regs[RSP_AMD64_FS_BASE], &gg, why, sizeof why) < 0) {
		g->stats.newstack_hits++;
		g->stats.errors++;
		if (p != NULL)
			p->gp = 0;
		return 0;
	}
	if (p != NULL) {
		/* stackguard0 is part of the key: a preemption request that
		 * cannot be served (canPreemptM false) resets it and re-runs the
		 * same prologue, which may then enter newstack again to grow */
		const uint64_t key[4] = { gg.g, gg.goid, gg.stackguard0 ^ gg.sched_sp,
					  regs_fingerprint(regs) };
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
	return 0;
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

static int on_copystack(struct gt_growth *g, int64_t tid, const uint64_t *regs,
			char *err, size_t errlen)
{
	const struct gort_layout *L = &g->cfg.layout;
	uint64_t gp, newsize, lo, hi, goid, spc, ssp, sbp;
	if (g->cfg.probes.regabi) {
		gp = regs[RSP_AMD64_RAX];
		newsize = regs[RSP_AMD64_RBX];
	} else {
		uint64_t sp = regs[RSP_AMD64_RSP];
		if (rd64(g, sp + 8, &gp) < 0 || rd64(g, sp + 16, &newsize) < 0) {
			g->stats.errors++;
			return 0;
		}
	}
	if (rd64(g, gp + L->g_stack_lo, &lo) < 0 || rd64(g, gp + L->g_stack_hi, &hi) < 0 ||
	    rd64(g, gp + L->g_goid, &goid) < 0 || rd64(g, gp + L->g_sched_pc, &spc) < 0 ||
	    rd64(g, gp + L->g_sched_sp, &ssp) < 0 || rd64(g, gp + L->g_sched_bp, &sbp) < 0 ||
	    hi <= lo) {
		g->stats.errors++;
		return 0;
	}
	struct pending *p = pending_for(g, tid, true);
	if (p != NULL) {
		const uint64_t key[4] = { gp, goid, lo ^ (newsize << 1), regs_fingerprint(regs) };
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
		int n = gort_unwind(g->cfg.bin, gt_memcache_read, g->cfg.mem, spc, ssp, sbp,
				    g->frames, g->cfg.max_frames);
		if (n <= 0) {
			/* nothing unwound: still show the function that grew */
			g->frames[0] = ev.site;
			n = 1;
		}
		ev.frames = g->frames;
		ev.nframes = n;
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
	uint64_t regs[RSP_AMD64_NREGS];
	memset(regs, 0, sizeof regs);
	if (rspc_read_regs(g->cfg.conn, tid, regs) < 0) {
		snprintf(err, errlen, "cannot read registers of thread %" PRId64 ": %s", tid,
			 rspc_error(g->cfg.conn));
		return -1;
	}
	uint64_t pc = regs[RSP_AMD64_RIP];
	g->last_pc = pc;
	int r;
	if (pc == g->bp_newstack && g->armed_newstack)
		r = on_newstack(g, tid, regs);
	else if (pc == g->bp_copystack && g->armed_copystack)
		r = on_copystack(g, tid, regs, err, errlen);
	else
		return 0;
	return r < 0 ? -1 : r == 2 ? 2 : 1;
	return 0;
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
