/* growth.h — the stack-growth event logic of gotap.
 *
 * Two breakpoints tell the whole story of a growth (Go 1.19
 * runtime/stack.go, asm_amd64.s):
 *  - runtime.newstack (the real one, on g0 after morestack): the goroutine
 *    m.curg ran out of stack.  If curg.stackguard0 == stackPreempt this is a
 *    preemption request, not a growth: counted apart, never reported.
 *    Otherwise a growth is pending for that goroutine on this thread.
 *  - runtime.copystack(gp, newsize): the runtime's real new size (a big
 *    frame makes newstack double more than once).  copystack also runs for
 *    shrinks (shrinkstack, during GC): only a call that grows the goroutine
 *    pending on the same thread counts; shrinks are ignored.
 * The event is then built from the goroutine: goid, old size (stack.hi -
 * stack.lo), real new size, and the backtrace from g.sched (the function
 * that ran out of stack, then its callers) via gort_unwind.
 *
 * This module does not resume the target: the caller runs the stop loop,
 * hands every SIGTRAP stop to gt_growth_on_stop(), and invalidates the
 * memory cache before each resume.
 */
#ifndef GOTAP_GROWTH_H
#define GOTAP_GROWTH_H

#include <stdbool.h>
#include <stdint.h>

#include "gort.h"
#include "memcache.h"
#include "out.h"
#include "rsp.h"
#include "rspc.h"

struct gt_growth_cfg {
	struct gort_bin *bin;           /* loaded executable (owned by the caller) */
	struct gort_layout layout;      /* runtime struct offsets */
	struct gort_probes probes;      /* breakpoint addresses */
	struct rspc *conn;              /* stub connection (owned by the caller) */
	struct gt_memcache *mem;        /* memory cache over conn (owned by the caller) */
	int64_t pid;                    /* for the events */
	uint64_t every;                 /* report every Nth growth; 0 or 1 = all */
	uint64_t max_events;            /* stop after this many reported; 0 = no limit */
	int max_frames;                 /* backtrace depth; 0 picks 64 */
	bool no_inline;                 /* do not show inlined calls as frames of their own */
	struct out_sink *sinks;         /* every growth goes to each sink in order */
	int nsinks;
};

/* Frames an event may show per unwound frame once inlined calls are
 * expanded (deeper inline chains are cut to their outermost frames). */
#define GT_INLINE_FACTOR 4

/* The backtrace of a reported growth: in[0..n) as unwound, or, unless
 * cfg->no_inline, expanded into x (room for GT_INLINE_FACTOR * n frames).
 * Sets *out and returns the count. */
int gt_event_frames(const struct gt_growth_cfg *cfg, struct gort_frame *in, int n,
		    struct gort_frame *x, const struct gort_frame **out);

struct gt_growth;

/* Create the analyzer state.  Returns NULL when out of memory. */
struct gt_growth *gt_growth_new(const struct gt_growth_cfg *cfg);
void gt_growth_free(struct gt_growth *g);

/* Insert / remove the two breakpoints (Z0/z0).  arm returns 0, or -1 with a
 * reason in err; disarm removes whatever arm inserted and may be called
 * twice. */
int gt_growth_arm(struct gt_growth *g, char *err, size_t errlen);
int gt_growth_disarm(struct gt_growth *g);
bool gt_growth_armed(const struct gt_growth *g);

/* Handle one stop reply.  Returns 1 if it was one of our breakpoints (the
 * event, if any, has gone to the sinks; resume without a signal), 2 if it
 * was one of our breakpoints reporting a hit already handled (see
 * gt_growth_expect_repeat; nothing emitted), 0 if it was not ours, -1 on an
 * RSP transport failure or a sink write error (reason in err).  An
 * unreadable goroutine is counted in stats.errors, not fatal. */
int gt_growth_on_stop(struct gt_growth *g, const struct rsp_stop *st, char *err, size_t errlen);

/* The breakpoint address of the last stop gt_growth_on_stop() claimed (the
 * caller steps that thread over it before resuming). */
uint64_t gt_growth_last_pc(const struct gt_growth *g);

/* Is pc one of the armed breakpoint addresses? */
bool gt_growth_is_bp(const struct gt_growth *g, uint64_t pc);

/* A signal is being delivered to thread tid while it sits at one of our
 * breakpoints (the stub reported the signal during its step over the
 * breakpoint).  The handler returns to the breakpoint, so the thread's next
 * hit may be the same hit again: it is then skipped (stats.repeats), not
 * counted twice. */
void gt_growth_expect_repeat(struct gt_growth *g, int64_t tid);

/* max_events reached: the caller should stop analyzing. */
bool gt_growth_done(const struct gt_growth *g);

/* Counters so far (end_ns is set by gt_growth_finish). */
const struct gt_stats *gt_growth_stats(const struct gt_growth *g);

/* Call every sink's finish() with the final counters.  0 or -1 (write error). */
int gt_growth_finish(struct gt_growth *g);

#endif /* GOTAP_GROWTH_H */
