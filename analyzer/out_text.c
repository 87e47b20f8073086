/* out_text.c — the seed's text format, one event at a time:
 *
 *   runtime: newstack: 2048 -> 4096 (goroutine 18)
 *    0x4827a4 : main.say+0xa4/0xd0 at /src/example.go:9 [/src/example]
 *
 * The header line is what the SystemTap script printed plus the goroutine id;
 * frame lines are stap's print_ubacktrace_fileline() layout.  Events that
 * --every skipped are not printed.  Each event is flushed so a pipe reader
 * sees it at once (a batch of events, ev->more, once at its last event).
 *
 * Cost: a full report prints up to 64 frame lines per growth, and the same
 * few hundred pcs come back event after event, so each formatted line is
 * kept in the per-frame cache (out_fcache.h: an exact hit gives the same
 * bytes), and an event is assembled in one buffer and written with a single
 * fwrite: formatting stays off the per-event profile.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"
#include "out_buf.h"
#include "out_fcache.h"

struct text_state {
	FILE *f;
	struct out_fcache *cache; /* NULL: no cache (allocation failed) */
	struct out_buf buf;       /* the event being assembled */
};

static int fmt_frame(char *dst, size_t cap, const struct gort_frame *fr)
{
	int n;
	if (fr->func == NULL)
		n = snprintf(dst, cap, " 0x%" PRIx64 " : ??", fr->pc);
	else if (fr->inlined)  /* a call inlined into the next frame: no offset of its own */
		n = snprintf(dst, cap, " 0x%" PRIx64 " : %s (inlined)", fr->pc, fr->func);
	else
		n = snprintf(dst, cap, " 0x%" PRIx64 " : %s+0x%" PRIx64 "/0x%" PRIx64,
			     fr->pc, fr->func, fr->off, fr->size);
	if (n < 0)
		return -1;
	size_t used = (size_t)n < cap ? (size_t)n : cap;
	int m = 0;
	if (fr->file != NULL && fr->line > 0)
		m = snprintf(dst + used, cap - used, " at %s:%d", fr->file, fr->line);
	if (m < 0)
		return -1;
	n += m;
	used = (size_t)n < cap ? (size_t)n : cap;
	m = 0;
	if (fr->module != NULL)
		m = snprintf(dst + used, cap - used, " [%s]", fr->module);
	if (m < 0)
		return -1;
	n += m;
	used = (size_t)n < cap ? (size_t)n : cap;
	if (used + 1 < cap) {
		dst[used] = '\n';
		dst[used + 1] = '\0';
	}
	return n + 1;
}

/* The formatted length of a frame line (with '\n'), or -1. */
static int frame_len(const struct gort_frame *fr)
{
	char tmp[1];
	return fmt_frame(tmp, sizeof tmp, fr);
}

int out_text_frame(FILE *f, const struct gort_frame *fr)
{
	char small[512];
	int n = fmt_frame(small, sizeof small, fr);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof small)
		return fwrite(small, 1, (size_t)n, f) == (size_t)n ? 0 : -1;
	char *big = malloc((size_t)n + 1);
	if (big == NULL)
		return -1;
	int r = fmt_frame(big, (size_t)n + 1, fr) == n &&
		fwrite(big, 1, (size_t)n, f) == (size_t)n ? 0 : -1;
	free(big);
	return r;
}

/* Append fr's line to the event buffer, from the cache when possible. */
static int append_frame(struct text_state *s, const struct gort_frame *fr)
{
	size_t clen;
	const char *cached = out_fcache_get(s->cache, fr, &clen);
	if (cached != NULL)
		return out_buf_add(&s->buf, cached, clen);
	int n = frame_len(fr);
	if (n < 0 || out_buf_reserve(&s->buf, (size_t)n + 1) < 0)
		return -1;
	char *dst = s->buf.p + s->buf.len;
	if (fmt_frame(dst, (size_t)n + 1, fr) != n)
		return -1;
	out_fcache_put(s->cache, fr, dst, (size_t)n);
	s->buf.len += (size_t)n;
	return 0;
}

static int text_event(void *state, const struct gt_event *ev)
{
	struct text_state *s = state;
	if (!ev->reported)   /* not printed; it may end a batch all the same */
		return ev->more || fflush(s->f) != EOF ? 0 : -1;
	s->buf.len = 0;
	if (out_buf_reserve(&s->buf, 128) < 0)
		return -1;
	/* "runtime: newstack: %" PRIu64 " -> %" PRIu64 " (goroutine %" PRId64 ")\n" */
	static const char h1[] = "runtime: newstack: ", h2[] = " -> ", h3[] = " (goroutine ";
	char *p = s->buf.p;
	memcpy(p, h1, sizeof h1 - 1);
	p = out_put_u64(p + sizeof h1 - 1, ev->old_size);
	memcpy(p, h2, sizeof h2 - 1);
	p = out_put_u64(p + sizeof h2 - 1, ev->new_size);
	memcpy(p, h3, sizeof h3 - 1);
	p = out_put_i64(p + sizeof h3 - 1, ev->goid);
	*p++ = ')';
	*p++ = '\n';
	s->buf.len = (size_t)(p - s->buf.p);
	for (int i = 0; i < ev->nframes; i++)
		if (append_frame(s, &ev->frames[i]) < 0)
			return -1;
	if (fwrite(s->buf.p, 1, s->buf.len, s->f) != s->buf.len)
		return -1;
	/* within a batch (ev->more) the batch's last event flushes */
	return !ev->more && fflush(s->f) == EOF ? -1 : 0;
}

static int text_finish(void *state, const struct gt_stats *st)
{
	(void)st;
	struct text_state *s = state;
	return fflush(s->f) == EOF ? -1 : 0;
}

static void text_destroy(void *state)
{
	struct text_state *s = state;
	if (s == NULL)
		return;
	out_fcache_free(s->cache);
	out_buf_free(&s->buf);
	free(s);
}

int out_text_new(FILE *f, struct out_sink *out)
{
	struct text_state *s = calloc(1, sizeof *s);
	if (s == NULL)
		return -1;
	s->f = f;
	s->cache = out_fcache_new();  /* optional: NULL only costs speed */
	out->name = "text";
	out->state = s;
	out->event = text_event;
	out->finish = text_finish;
	out->destroy = text_destroy;
	return 0;
}
