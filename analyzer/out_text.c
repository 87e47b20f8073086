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
 * kept in a small cache keyed by every field that goes into it (an exact
 * hit gives the same bytes), and an event is assembled in one buffer and
 * written with a single fwrite: formatting stays off the per-event profile.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"

#define LINE_CACHE 4096  /* entries, power of two */

struct line_ent {
	struct gort_frame key;  /* all fields compared; func/file/module by pointer */
	char *text;             /* formatted line with its '\n' */
	size_t len;
};

struct text_state {
	FILE *f;
	struct line_ent *cache; /* NULL: no cache (allocation failed) */
	char *buf;              /* the event being assembled */
	size_t len, cap;
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

static bool same_frame(const struct gort_frame *a, const struct gort_frame *b)
{
	return a->pc == b->pc && a->func == b->func && a->off == b->off &&
	       a->size == b->size && a->file == b->file && a->line == b->line &&
	       a->module == b->module && a->inlined == b->inlined;
}

static int reserve(struct text_state *s, size_t more)
{
	if (s->len + more <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 4096;
	while (cap < s->len + more)
		cap *= 2;
	char *nb = realloc(s->buf, cap);
	if (nb == NULL)
		return -1;
	s->buf = nb;
	s->cap = cap;
	return 0;
}

/* Append fr's line to the event buffer, from the cache when possible. */
static int append_frame(struct text_state *s, const struct gort_frame *fr)
{
	struct line_ent *e = NULL;
	if (s->cache != NULL) {
		uint64_t h = fr->pc * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)fr->func;
		e = &s->cache[(h >> 32) & (LINE_CACHE - 1)];
		if (e->text != NULL && same_frame(&e->key, fr)) {
			if (reserve(s, e->len) < 0)
				return -1;
			memcpy(s->buf + s->len, e->text, e->len);
			s->len += e->len;
			return 0;
		}
	}
	int n = frame_len(fr);
	if (n < 0 || reserve(s, (size_t)n + 1) < 0)
		return -1;
	if (fmt_frame(s->buf + s->len, (size_t)n + 1, fr) != n)
		return -1;
	if (e != NULL) {
		char *t = malloc((size_t)n);
		if (t != NULL) {
			free(e->text);
			memcpy(t, s->buf + s->len, (size_t)n);
			e->text = t;
			e->len = (size_t)n;
			e->key = *fr;
		}
	}
	s->len += (size_t)n;
	return 0;
}

/* Decimal digits of v at p; returns the end (at most 20 characters). */
static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static int text_event(void *state, const struct gt_event *ev)
{
	struct text_state *s = state;
	if (!ev->reported)   /* not printed; it may end a batch all the same */
		return ev->more || fflush(s->f) != EOF ? 0 : -1;
	s->len = 0;
	if (reserve(s, 128) < 0)
		return -1;
	/* "runtime: newstack: %" PRIu64 " -> %" PRIu64 " (goroutine %" PRId64 ")\n" */
	static const char h1[] = "runtime: newstack: ", h2[] = " -> ", h3[] = " (goroutine ";
	char *p = s->buf;
	memcpy(p, h1, sizeof h1 - 1);
	p = put_u64(p + sizeof h1 - 1, ev->old_size);
	memcpy(p, h2, sizeof h2 - 1);
	p = put_u64(p + sizeof h2 - 1, ev->new_size);
	memcpy(p, h3, sizeof h3 - 1);
	p += sizeof h3 - 1;
	if (ev->goid < 0) {
		*p++ = '-';
		p = put_u64(p, (uint64_t)0 - (uint64_t)ev->goid);
	} else {
		p = put_u64(p, (uint64_t)ev->goid);
	}
	*p++ = ')';
	*p++ = '\n';
	s->len = (size_t)(p - s->buf);
	for (int i = 0; i < ev->nframes; i++)
		if (append_frame(s, &ev->frames[i]) < 0)
			return -1;
	if (fwrite(s->buf, 1, s->len, s->f) != s->len)
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
	if (s->cache != NULL)
		for (size_t i = 0; i < LINE_CACHE; i++)
			free(s->cache[i].text);
	free(s->cache);
	free(s->buf);
	free(s);
}

int out_text_new(FILE *f, struct out_sink *out)
{
	struct text_state *s = calloc(1, sizeof *s);
	if (s == NULL)
		return -1;
	s->f = f;
	s->cache = calloc(LINE_CACHE, sizeof *s->cache);  /* optional: NULL only costs speed */
	out->name = "text";
	out->state = s;
	out->event = text_event;
	out->finish = text_finish;
	out->destroy = text_destroy;
	return 0;
}
