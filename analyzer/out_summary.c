/* out_summary.c — the --summary report written at the end of a run:
 * how many growths and preemption entries newstack saw, the bytes copied,
 * and the functions that ran out of stack most often ("growth sites").
 *
 * Every growth counts here, including those --every did not report: the
 * site is the goroutine's saved pc (g.sched.pc, inside the function whose
 * prologue called morestack), which the growth logic symbolizes for each
 * event without unwinding.  Sites are keyed by that pc in an open-addressing
 * table.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "out.h"

struct site {
	uint64_t pc;       /* 0 = empty slot */
	uint64_t count;
	uint64_t bytes;    /* bytes copied by growths at this site */
	struct gort_frame fr;
};

struct sum_state {
	FILE *f;
	int top;
	struct site *tab;
	size_t cap, used;
	int failed;
};

static struct site *lookup(struct sum_state *s, uint64_t pc)
{
	size_t i = (size_t)((pc * 0x9e3779b97f4a7c15ULL) >> 20) & (s->cap - 1);
	while (s->tab[i].pc != 0 && s->tab[i].pc != pc)
		i = (i + 1) & (s->cap - 1);
	return &s->tab[i];
}

static int rehash(struct sum_state *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 64;
	struct site *old = s->tab;
	size_t ocap = s->cap;
	s->tab = calloc(ncap, sizeof *s->tab);
	if (s->tab == NULL) {
		s->tab = old;
		return -1;
	}
	s->cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].pc != 0)
			*lookup(s, old[i].pc) = old[i];
	free(old);
	return 0;
}

static int sum_event(void *state, const struct gt_event *ev)
{
	struct sum_state *s = state;
	uint64_t pc = ev->site.pc ? ev->site.pc : 1; /* 0 marks empty slots */
	if ((s->used + 1) * 2 > s->cap && rehash(s) < 0) {
		s->failed = 1;
		return 0; /* a summary with a missing site is better than no run */
	}
	struct site *st = lookup(s, pc);
	if (st->pc == 0) {
		st->pc = pc;
		st->fr = ev->site;
		s->used++;
	}
	st->count++;
	st->bytes += ev->used;
	return 0;
}

static int by_count(const void *a, const void *b)
{
	const struct site *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

static int sum_finish(void *state, const struct gt_stats *st)
{
	struct sum_state *s = state;
	FILE *f = s->f;
	double secs = (double)(st->end_ns - st->start_ns) / 1e9;
	int r;
	if (st->trace_mode)
		/* one tracepoint on copystack: newstack is never watched */
		r = fprintf(f,
			"gotap summary: %" PRIu64 " stack growths (%" PRIu64 " reported) in %.3f s\n"
			"  trace mode: growths counted in the stub; newstack entries and preemption requests not counted\n"
			"  copystack shrinks ignored: %" PRIu64 "\n"
			"  bytes copied: %" PRIu64 ", new stack bytes allocated: %" PRIu64 "%s\n",
			st->growths, st->reported, secs, st->shrinks, st->bytes_copied, st->bytes_allocated,
			st->sampled ? " (of the reported growths)" : "");
	else
		r = fprintf(f,
			"gotap summary: %" PRIu64 " stack growths (%" PRIu64 " reported) in %.3f s\n"
			"  newstack entries: %" PRIu64 ", of which preemption requests: %" PRIu64 " (not growth)\n"
			"  copystack shrinks ignored: %" PRIu64 "\n"
			"  bytes copied: %" PRIu64 ", new stack bytes allocated: %" PRIu64 "\n",
			st->growths, st->reported, secs, st->newstack_hits, st->preemptions,
			st->shrinks, st->bytes_copied, st->bytes_allocated);
	if (r < 0)
		return -1;
	if (st->unmatched && fprintf(f, "  growths without a preceding newstack (attach): %" PRIu64 "\n",
				     st->unmatched) < 0)
		return -1;
	if (st->repeats && fprintf(f, "  hits seen twice after a signal and skipped: %" PRIu64 "\n",
				   st->repeats) < 0)
		return -1;
	if (st->errors && fprintf(f, "  hits that could not be analyzed: %" PRIu64 "\n", st->errors) < 0)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < s->cap; i++)
		if (s->tab[i].pc != 0)
			s->tab[n++] = s->tab[i]; /* compact in place: table is not used again */
	s->used = 0;
	qsort(s->tab, n, sizeof *s->tab, by_count);
	if (n > 0 && fprintf(f, "  top growth sites (function that ran out of stack)%s:\n"
			     "  %10s %12s  site\n", st->sampled ? ", of the reported growths" : "",
			     "growths", "bytes copied") < 0)
		return -1;
	for (size_t i = 0; i < n && (int)i < s->top; i++) {
		const struct gort_frame *fr = &s->tab[i].fr;
		if (fprintf(f, "  %10" PRIu64 " %12" PRIu64 "  ", s->tab[i].count, s->tab[i].bytes) < 0)
			return -1;
		if (fr->func)
			r = fprintf(f, "%s", fr->func);
		else
			r = fprintf(f, "0x%" PRIx64, fr->pc);
		if (r < 0 || (fr->file && fr->line > 0 && fprintf(f, " at %s:%d", fr->file, fr->line) < 0) ||
		    fputc('\n', f) == EOF)
			return -1;
	}
	if (s->failed && fprintf(f, "  (some sites were not recorded: out of memory)\n") < 0)
		return -1;
	/* the table was compacted: forget it so a second finish() is harmless */
	for (size_t i = 0; i < s->cap; i++)
		s->tab[i].pc = 0;
	return fflush(f) == EOF ? -1 : 0;
}

static void sum_destroy(void *state)
{
	struct sum_state *s = state;
	free(s->tab);
	free(s);
}

int out_summary_new(FILE *f, int top, struct out_sink *out)
{
	struct sum_state *s = calloc(1, sizeof *s);
	if (s == NULL)
		return -1;
	s->f = f;
	s->top = top > 0 ? top : 10;
	if (rehash(s) < 0) {
		free(s);
		return -1;
	}
	out->name = "summary";
	out->state = s;
	out->event = sum_event;
	out->finish = sum_finish;
	out->destroy = sum_destroy;
	return 0;
}
