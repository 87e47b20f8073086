/* growth_trace.h — gotap's trace mode: the stack-growth report collected by
 * a GDB tracepoint inside the stub instead of breakpoint stops.
 *
 * One tracepoint where copystack(gp, newsize) is called for a growth:
 * under the register ABI, at newstack's `call runtime.copystack` (gort_probes'
 * grow_call: gp in RAX, the new size in RBX), with a second tracepoint at
 * shrinkstack's call that only counts shrinks (GT_TSV_SHRINKS) and collects
 * nothing; otherwise (no register ABI, a call site not found, or
 * GOTAP_GROWTH_PROBE=entry) at runtime.copystack's entry (RAX/RBX, or
 * [RSP+8] and [RSP+16] without the register ABI; the address growth.c
 * breaks at), which shrinks reach too:
 *  - condition (agent expression): at copystack's entry a growth is newsize
 *    > gp.stack.hi - gp.stack.lo (GC shrinks are not; a shrink increments
 *    GT_TSV_SHRINKS) — at the call site there is nothing to test, so a hit
 *    that is only counted reads no memory at all (issue 6: it costs what
 *    the bare ptrace loop's stop costs); each growth increments trace state
 *    variable GT_TSV_COUNT; only every Nth
 *    (--every) growth is collected, so a hit that is only counted never
 *    leaves the stub;
 *  - actions (one agent expression): the growth number, gp and newsize (as
 *    trace state variables), gp's fields (stack, m, sched, goid: one block),
 *    gp.m.procid (the thread), the word at sched.sp (the return address of
 *    the function that ran out of stack) and the goroutine's frame-pointer
 *    chain from sched.bp: 16 bytes (saved bp, return address) per frame, up
 *    to max_frames frames, staying inside [stack.lo, stack.hi).
 * Each trace frame then becomes the same struct gt_event growth.c builds,
 * for the same sinks: the backtrace is gort_unwind run over a memory view
 * made of the collected blocks (the CFI unwinder reads the return address
 * at CFA-8 = bp+8 of each Go frame, which the chain holds; the frame-pointer
 * walk, its fallback, reads nothing else).
 *
 * Not counted in trace mode: runtime.newstack entries and preemption
 * requests (no tracepoint there); the summary says so.  With --every N only
 * the reported growths are collected, so the summary's sites and bytes
 * cover those; the growth count is the stub's counter.
 */
#ifndef GOTAP_GROWTH_TRACE_H
#define GOTAP_GROWTH_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "growth.h"
#include "rsp_trace.h"
#include "trace_client.h"

/* Trace state variables of the program. */
enum {
	GT_TSV_COUNT = 1,     /* growths so far (every one, collected or not) */
	GT_TSV_GP = 2,        /* gp of the hit being collected */
	GT_TSV_NEWSIZE = 3,   /* its new size */
	GT_TSV_LO = 4,        /* unused (the walk keeps lo and span on the stack); */
	GT_TSV_SPAN = 5,      /* still defined so the numbers stay */
	GT_TSV_SHRINKS = 6,   /* copystack calls that did not grow (GC shrinks) */
	GT_TSV_NUM = 6,
};
#define GT_TRACEPOINT 1
#define GT_TRACEPOINT_SHRINK 2   /* at_call only: counts shrinks, collects nothing */

/* The tracepoint program, in caller-visible buffers (for tests too). */
struct gt_trace_prog {
	uint8_t cond[256];
	size_t cond_len;
	uint8_t action[4096];
	size_t action_len;
	struct tc_action act;
	struct tc_tracepoint tp;
	uint32_t span_lo, span_len;  /* gp's fields block: [gp+span_lo, +span_len) */
	bool at_call;                /* tp at newstack's call to copystack (else copystack's entry) */
	uint8_t shrink_cond[32];     /* at_call: the shrink counter at shrinkstack's call */
	size_t shrink_cond_len;
	struct tc_tracepoint shrink_tp;
};

/* Does the program go at newstack's call to copystack (register ABI, both
 * call sites found, GOTAP_GROWTH_PROBE not "entry")? */
bool gt_trace_at_call(const struct gort_probes *pr);

/* Build the program for cfg (layout, probes, every, max_events, max_frames).
 * Returns 0, or -1 with a reason in err. */
int gt_trace_build(const struct gt_growth_cfg *cfg, struct gt_trace_prog *p,
		   char *err, size_t errlen);

struct gt_trace;

/* cfg as for gt_growth_new (conn and sinks used; mem unused).  NULL if out
 * of memory. */
struct gt_trace *gt_trace_new(const struct gt_growth_cfg *cfg);
void gt_trace_free(struct gt_trace *t);

/* Define and start the experiment: QTinit, QTDV, QTDP, QTBuffer:stream:1,
 * QTStart.  Returns 0; 1 when the stub cannot do it (no tracepoints, no
 * streaming, the program refused: reason in err; QTinit was sent, nothing
 * is left defined); -1 on a transport failure (reason in err). */
int gt_trace_arm(struct gt_trace *t, char *err, size_t errlen);

/* Read what the stub has (one qTBuffer request) and turn every whole frame
 * into events.  Returns the bytes received (0: nothing new), -1 on an RSP
 * failure or a sink write error (reason in err). */
long gt_trace_poll(struct gt_trace *t, char *err, size_t errlen);

/* One frame -> one event to the sinks (what gt_trace_poll does per frame;
 * for tests).  A frame that cannot be decoded is counted in stats.errors.
 * 0, or -1 on a sink write error. */
int gt_trace_on_frame(struct gt_trace *t, const struct rsp_tframe *f, char *err, size_t errlen);

/* QTStop, then read the buffer to its end and take the growth count from
 * the stub (qTV).  Safe to call twice.  0 or -1. */
int gt_trace_stop(struct gt_trace *t, char *err, size_t errlen);

/* Did the stub stop the experiment by itself (an error in the program,
 * a full buffer, ...)?  qTStatus.  Returns 0 while it runs (or when it
 * stopped at the pass count, i.e. --max-events), 1 with the reason in why,
 * -1 on an RSP failure (reason in why). */
int gt_trace_check(struct gt_trace *t, char *why, size_t cap);

/* Is the experiment running (armed and not stopped)? */
bool gt_trace_running(const struct gt_trace *t);

/* max_events reported. */
bool gt_trace_done(const struct gt_trace *t);

const struct gt_stats *gt_trace_stats(const struct gt_trace *t);

/* Stream counters for --debug output: requests, empty ones, bytes, frames. */
const struct tc_stream *gt_trace_stream(const struct gt_trace *t);

/* Every sink's finish() with the final counters.  0 or -1. */
int gt_trace_finish(struct gt_trace *t);

#endif /* GOTAP_GROWTH_TRACE_H */
