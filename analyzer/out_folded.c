/* out_folded.c — folded stacks, the input format of flamegraph.pl and
 * speedscope: one line per distinct stack, frames root first separated by
 * ';', then a space and how many reported growths had that stack:
 *
 *   runtime.goexit;main.say;fmt.Println;...;runtime.mallocgc 2
 *
 * The counts add up to the number of reported events.  A frame without a
 * symbol is written as its pc (0x...); spaces and ';' inside a name (never
 * seen in Go symbols) become '_' so the line stays parseable.
 *
 * Cost: an event is counted without building its text.  Its key is one
 * word a frame, root first: the function name's pointer (the symbol tables
 * own those strings for the whole run), or for a frame without a symbol its
 * pc with the top bit set (no user-space pointer has it).  Keys are counted
 * in a chained hash table; finish() turns each distinct key into its line,
 * sorts the lines and adds up equal ones (two keys can name the same stack,
 * e.g. the same name at two addresses), so the output is what aggregating
 * the text directly gave.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"

#define PC_TAG ((uint64_t)1 << 63)

struct fold_entry {
	struct fold_entry *next;
	uint64_t hash, count;
	size_t n;           /* words in key */
	char *line;         /* finish(): the stack's text */
	uint64_t key[];     /* root first */
};

struct fold_state {
	FILE *f;
	struct fold_entry **buckets;
	size_t nbuckets, nentries;
	int failed;                 /* an allocation failed: finish() reports it */
	uint64_t *key;              /* the event's key, reused from event to event */
	size_t key_cap;
};

static uint64_t hash_key(const uint64_t *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ n;
	for (size_t i = 0; i < n; i++)
		h = (h ^ k[i]) * 0x9e3779b97f4a7c15ULL;
	return h ^ h >> 29;
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
	size_t n = ev->nframes > 0 ? (size_t)ev->nframes : 0;
	if (n > s->key_cap) {
		uint64_t *k = realloc(s->key, n * sizeof *k);
		if (k == NULL)
			goto oom;
		s->key = k;
		s->key_cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		const struct gort_frame *fr = &ev->frames[n - 1 - i];
		s->key[i] = fr->func != NULL ? (uint64_t)(uintptr_t)fr->func : fr->pc | PC_TAG;
	}
	if (s->nentries >= s->nbuckets && grow_table(s) < 0)
		goto oom;
	uint64_t h = hash_key(s->key, n);
	for (struct fold_entry *e = s->buckets[h % s->nbuckets]; e; e = e->next) {
		if (e->hash == h && e->n == n && memcmp(e->key, s->key, n * sizeof *s->key) == 0) {
			e->count++;
			return 0;
		}
	}
	struct fold_entry *e = malloc(sizeof *e + n * sizeof *s->key);
	if (e == NULL)
		goto oom;
	if (n > 0)
		memcpy(e->key, s->key, n * sizeof *s->key);
	e->n = n;
	e->hash = h;
	e->count = 1;
	e->line = NULL;
	e->next = s->buckets[h % s->nbuckets];
	s->buckets[h % s->nbuckets] = e;
	s->nentries++;
	return 0;
oom:
	s->failed = 1;
	return -1;
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

/* The text of e's stack into e->line (malloc'd).  0 or -1. */
static int make_line(struct fold_entry *e)
{
	char *buf = NULL, pcbuf[32];
	size_t len = 0, cap = 0;
	for (size_t i = 0; i < e->n; i++) {
		const char *name = (const char *)(uintptr_t)e->key[i];
		if (e->key[i] & PC_TAG) {
			snprintf(pcbuf, sizeof pcbuf, "0x%" PRIx64, e->key[i] & ~PC_TAG);
			name = pcbuf;
		}
		if ((len > 0 && append(&buf, &len, &cap, ";", false) < 0) ||
		    append(&buf, &len, &cap, name, true) < 0)
			goto oom;
	}
	if (e->n == 0 && append(&buf, &len, &cap, "[unknown]", false) < 0)
		goto oom;
	e->line = buf;
	return 0;
oom:
	free(buf);
	return -1;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct fold_entry *x = *(const struct fold_entry *const *)a;
	const struct fold_entry *y = *(const struct fold_entry *const *)b;
	return strcmp(x->line, y->line);
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
	int rc = 0;
	for (size_t i = 0; i < s->nbuckets; i++)
		for (struct fold_entry *e = s->buckets[i]; e; e = e->next) {
			if (e->line == NULL && make_line(e) < 0)
				rc = -1;
			all[n++] = e;
		}
	if (rc == 0)
		qsort(all, n, sizeof *all, cmp_entry);
	for (size_t i = 0; i < n && rc == 0; ) {
		uint64_t count = 0;
		size_t j = i;
		for (; j < n && strcmp(all[j]->line, all[i]->line) == 0; j++)
			count += all[j]->count;
		if (fprintf(s->f, "%s %" PRIu64 "\n", all[i]->line, count) < 0)
			rc = -1;
		i = j;
	}
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
			free(e->line);
			free(e);
		}
	}
	free(s->buckets);
	free(s->key);
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
