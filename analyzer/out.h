/* out.h — gotap's output sinks: what a growth event looks like once the
 * analyzer has it, and the small struct of function pointers every output
 * format implements (text as the seed printed it, JSON Lines, folded stacks
 * for flame graphs, and the end-of-run summary).
 *
 * The growth logic (growth.c) fills a struct gt_event and hands it to every
 * sink; a sink never talks to the target.  Events that --every skipped are
 * still passed (reported == false, no frames) so the summary can count them;
 * the per-event formats ignore those.  A per-event format flushes its output
 * after each event whose `more` is false, so a pipe reader sees it at once.
 */
#ifndef GOTAP_OUT_H
#define GOTAP_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gort.h"

/* One goroutine stack growth, as the runtime performed it. */
struct gt_event {
	uint64_t seq;                   /* 1-based growth number in this run */
	int64_t time_ns;                /* CLOCK_REALTIME when the growth was seen */
	int64_t pid, tid;               /* process, and the thread that grew it */
	int64_t goid;                   /* goroutine id */
	uint64_t old_size, new_size;    /* stack bytes before / after (real, from copystack) */
	uint64_t used;                  /* bytes in use, i.e. copied to the new stack */
	bool reported;                  /* false: counted only (--every) */
	struct gort_frame site;         /* the function that ran out of stack (always set) */
	const struct gort_frame *frames;/* backtrace, innermost first (reported only) */
	int nframes;
	bool more;                      /* more events follow at once (trace mode hands out a
					   batch): a sink may leave this one buffered; the
					   batch's last event has more == false: flush then */
};

/* Counters for the whole run. */
struct gt_stats {
	uint64_t newstack_hits;         /* entries into runtime.newstack */
	uint64_t preemptions;           /* of which preemption requests (not growth) */
	uint64_t growths;               /* copystack calls that grew a pending goroutine */
	uint64_t reported;              /* growths handed to the sinks with a backtrace */
	uint64_t shrinks;               /* copystack calls that did not grow (GC shrink): ignored */
	uint64_t unmatched;             /* growths with no newstack seen first (e.g. right after attach) */
	uint64_t bytes_copied;          /* sum of used bytes of every growth */
	uint64_t bytes_allocated;       /* sum of new sizes */
	uint64_t repeats;               /* the same hit reported again after a signal: skipped */
	uint64_t errors;                /* hits that could not be analyzed (unreadable memory) */
	int64_t start_ns, end_ns;       /* wall clock of the analysis */
	bool trace_mode;                /* collected by a tracepoint in the stub (--mode=trace):
					   newstack entries and preemptions are not counted */
	bool sampled;                   /* trace mode with --every N > 1: only reported growths
					   reach the sinks (sites and bytes cover those) */
};

/* A sink.  event() is called for every growth in order, finish() once at
 * the end (folded and summary write there), destroy() frees state.  Each
 * returns 0 or -1 (write error: the caller stops and says so). */
struct out_sink {
	const char *name;
	void *state;
	int (*event)(void *state, const struct gt_event *ev);
	int (*finish)(void *state, const struct gt_stats *st);
	void (*destroy)(void *state);
};

/* Constructors.  `f` stays owned by the caller and must outlive the sink.
 * Return 0 and fill *out, or -1 (out of memory). */
int out_text_new(FILE *f, struct out_sink *out);     /* the seed's format */
int out_json_new(FILE *f, struct out_sink *out);     /* JSON Lines */
int out_folded_new(FILE *f, struct out_sink *out);   /* "root;...;leaf COUNT" */
/* Summary: events, preemptions, bytes, the top `top` growth sites. */
int out_summary_new(FILE *f, int top, struct out_sink *out);

/* Write one frame as the seed does:
 *  " 0x4827a4 : main.say+0xa4/0xd0 at /src/example.go:9 [/src/example]".
 * Returns 0 or -1 on a write error. */
int out_text_frame(FILE *f, const struct gort_frame *fr);

#endif /* GOTAP_OUT_H */
