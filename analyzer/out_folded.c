/* out_folded.c — folded stacks, the input format of flamegraph.pl and
 * speedscope: one line per distinct stack, frames root first separated by
 * ';', then a space and how many reported growths had that stack:
 *
 *   runtime.goexit;main.say;fmt.Println;...;runtime.mallocgc 2
 *
 * Stacks are aggregated in a chained hash table and written, sorted, at
 * finish(); the counts add up to the number of reported events.  A frame
 * without a symbol is written as its pc (0x...); spaces and ';' inside a
 * name (never seen in Go symbols) become '_' so the line stays parseable.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"

struct fold_entry {
	struct fold_entry *next;
	uint64_t hash, count;
	char *stack;
};

struct fold_state {
	FILE *f;
	struct fold_entry **buckets;
	size_t nbuckets, nentries;
	int failed;                 /* an allocation failed: finish() reports it */
	char *buf;                  /* the event's stack, reused from event to event */
	size_t cap;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

/* Append src to buf (growing it); with `name`, the separator-safe
 * substitutions apply. */
static int append(char **buf, size_t *len, size_t *cap, const char *src, bool name)
{
	size_t n = strlen(src);
	if (*len + n + 2 > *cap) {
		size_t ncap = (*cap ? *cap * 2 : 256);
		while (ncap < *len + n + 2)
			ncap *= 2;
		char *nb = realloc(*buf, ncap);
		if (nb == NULL)
			return -1;
		*buf = nb;
		*cap = ncap;
	}
	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		(*buf)[(*len)++] = (name && (c == ' ' || c == ';')) ? '_' : c;
	}
	(*buf)[*len] = '\0';
	return 0;
}

static int grow_table(struct fold_state *s)
{
	size_t nb = s->nbuckets ? s->nbuckets * 2 : 64;
	struct fold_entry **b = calloc(nb, sizeof *b);
	if (b == NULL)
		return -1;
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct fold_entry *e = s->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash % nb];
			b[e->hash % nb] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = nb;
	return 0;
}

static int fold_event(void *state, const struct gt_event *ev)
{
	struct fold_state *s = state;
	if (!ev->reported)
		return 0;
	char *stack = s->buf;       /* built in the reused buffer; copied only when new */
	size_t len = 0, cap = s->cap;
	char pcbuf[32];
	for (int i = ev->nframes - 1; i >= 0; i--) {
		const char *name = ev->frames[i].func;
		if (name == NULL) {
			snprintf(pcbuf, sizeof pcbuf, "0x%" PRIx64, ev->frames[i].pc);
			name = pcbuf;
		}
		if ((len > 0 && append(&stack, &len, &cap, ";", false) < 0) ||
		    append(&stack, &len, &cap, name, true) < 0)
			goto oom;
	}
	if (ev->nframes <= 0 && append(&stack, &len, &cap, "[unknown]", false) < 0)
		goto oom;
	s->buf = stack;
	s->cap = cap;
	if (s->nentries >= s->nbuckets && grow_table(s) < 0)
		goto oom;
	uint64_t h = fnv1a(stack);
	for (struct fold_entry *e = s->buckets[h % s->nbuckets]; e; e = e->next) {
		if (e->hash == h && strcmp(e->stack, stack) == 0) {
			e->count++;
			return 0;
		}
	}
	struct fold_entry *e = malloc(sizeof *e);
	char *copy = malloc(len + 1);
	if (e == NULL || copy == NULL) {
		free(e);
		free(copy);
		goto oom;
	}
	memcpy(copy, stack, len + 1);
	e->hash = h;
	e->count = 1;
	e->stack = copy;
	e->next = s->buckets[h % s->nbuckets];
	s->buckets[h % s->nbuckets] = e;
	s->nentries++;
	return 0;
oom:
	s->buf = stack;     /* append keeps the buffer valid when it fails */
	s->cap = cap;
	s->failed = 1;
	return -1;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct fold_entry *x = *(const struct fold_entry *const *)a;
	const struct fold_entry *y = *(const struct fold_entry *const *)b;
	return strcmp(x->stack, y->stack);
}

static int fold_finish(void *state, const struct gt_stats *st)
{
	struct fold_state *s = state;
	(void)st;
	if (s->nentries == 0)
		return fflush(s->f) == EOF || s->failed ? -1 : 0;
	struct fold_entry **all = malloc(s->nentries * sizeof *all);
	if (all == NULL)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < s->nbuckets; i++)
		for (struct fold_entry *e = s->buckets[i]; e; e = e->next)
			all[n++] = e;
	qsort(all, n, sizeof *all, cmp_entry);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (fprintf(s->f, "%s %" PRIu64 "\n", all[i]->stack, all[i]->count) < 0)
			rc = -1;
	free(all);
	if (fflush(s->f) == EOF || s->failed)
		rc = -1;
	return rc;
}

static void fold_destroy(void *state)
{
	struct fold_state *s = state;
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct fold_entry *e = s->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			free(e->stack);
			free(e);
		}
	}
	free(s->buckets);
	free(s->buf);
	free(s);
}

int out_folded_new(FILE *f, struct out_sink *out)
{
	struct fold_state *s = calloc(1, sizeof *s);
	if (s == NULL)
		return -1;
	s->f = f;
	out->name = "folded";
	out->state = s;
	out->event = fold_event;
	out->finish = fold_finish;
	out->destroy = fold_destroy;
	return 0;
}
