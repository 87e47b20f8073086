/* out_fcache.c — the sinks' per-frame text cache (see out_fcache.h). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "out_fcache.h"

#define FCACHE_SLOTS 4096  /* power of two */

struct fc_ent {
	struct gort_frame key;  /* all fields compared; func/file/module by pointer */
	char *text;             /* NULL: empty slot */
	size_t len;
};

struct out_fcache {
	struct fc_ent slot[FCACHE_SLOTS];
};

struct out_fcache *out_fcache_new(void)
{
	return calloc(1, sizeof(struct out_fcache));
}

void out_fcache_free(struct out_fcache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < FCACHE_SLOTS; i++)
		free(c->slot[i].text);
	free(c);
}

static bool same_frame(const struct gort_frame *a, const struct gort_frame *b)
{
	return a->pc == b->pc && a->func == b->func && a->off == b->off &&
	       a->size == b->size && a->file == b->file && a->line == b->line &&
	       a->module == b->module && a->inlined == b->inlined;
}

/* pc alone would do for one binary; func's pointer separates the inlined
 * frames that share their caller's pc. */
static size_t slot_of(const struct gort_frame *fr)
{
	uint64_t h = fr->pc * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)fr->func;
	return (size_t)(h >> 32) & (FCACHE_SLOTS - 1);
}

const char *out_fcache_get(const struct out_fcache *c, const struct gort_frame *fr, size_t *len)
{
	if (c == NULL)
		return NULL;
	const struct fc_ent *e = &c->slot[slot_of(fr)];
	if (e->text == NULL || !same_frame(&e->key, fr))
		return NULL;
	*len = e->len;
	return e->text;
}

void out_fcache_put(struct out_fcache *c, const struct gort_frame *fr, const char *text, size_t len)
{
	if (c == NULL)
		return;
	char *t = malloc(len > 0 ? len : 1);
	if (t == NULL)
		return;
	memcpy(t, text, len);
	struct fc_ent *e = &c->slot[slot_of(fr)];
	free(e->text);
	e->text = t;
	e->len = len;
	e->key = *fr;
}
