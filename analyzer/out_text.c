/* out_text.c — the seed's text format, one event at a time:
 *
 *   runtime: newstack: 2048 -> 4096 (goroutine 18)
 *    0x4827a4 : main.say+0xa4/0xd0 at /src/example.go:9 [/src/example]
 *
 * The header line is what the SystemTap script printed plus the goroutine id;
 * frame lines are stap's print_ubacktrace_fileline() layout.  Events that
 * --every skipped are not printed.  Each event is flushed so a pipe reader
 * sees it at once.
 */
#include <inttypes.h>
#include <stdio.h>

#include "out.h"

int out_text_frame(FILE *f, const struct gort_frame *fr)
{
	int r;
	if (fr->func == NULL)
		r = fprintf(f, " 0x%" PRIx64 " : ??", fr->pc);
	else if (fr->inlined)  /* a call inlined into the next frame: no offset of its own */
		r = fprintf(f, " 0x%" PRIx64 " : %s (inlined)", fr->pc, fr->func);
	else
		r = fprintf(f, " 0x%" PRIx64 " : %s+0x%" PRIx64 "/0x%" PRIx64,
			    fr->pc, fr->func, fr->off, fr->size);
	if (r < 0)
		return -1;
	if (fr->file != NULL && fr->line > 0 &&
	    fprintf(f, " at %s:%d", fr->file, fr->line) < 0)
		return -1;
	if (fr->module != NULL && fprintf(f, " [%s]", fr->module) < 0)
		return -1;
	return fputc('\n', f) == EOF ? -1 : 0;
}

static int text_event(void *state, const struct gt_event *ev)
{
	FILE *f = state;
	if (!ev->reported)
		return 0;
	if (fprintf(f, "runtime: newstack: %" PRIu64 " -> %" PRIu64 " (goroutine %" PRId64 ")\n",
		    ev->old_size, ev->new_size, ev->goid) < 0)
		return -1;
	for (int i = 0; i < ev->nframes; i++)
		if (out_text_frame(f, &ev->frames[i]) < 0)
			return -1;
	return fflush(f) == EOF ? -1 : 0;
}

static int text_finish(void *state, const struct gt_stats *st)
{
	(void)st;
	return fflush((FILE *)state) == EOF ? -1 : 0;
}

static void text_destroy(void *state)
{
	(void)state;
}

int out_text_new(FILE *f, struct out_sink *out)
{
	out->name = "text";
	out->state = f;
	out->event = text_event;
	out->finish = text_finish;
	out->destroy = text_destroy;
	return 0;
}
