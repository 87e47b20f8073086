/* out_fcache.h — a per-frame cache of formatted text for the output sinks.
 *
 * A full report prints up to 64 frames per growth and the same few hundred
 * frames come back event after event, so a sink formats a frame once (a text
 * line, a JSON object) and keeps the bytes here, keyed by every field of
 * struct gort_frame: an exact hit gives the same bytes as formatting again.
 * func/file/module are compared by pointer: the symbol tables own those
 * strings for the whole run and never change them in place.
 *
 * Direct-mapped (a colliding frame replaces the older one): lookups cost one
 * hash and one compare.  Not thread-safe; one cache per sink.
 */
#ifndef GOTAP_OUT_FCACHE_H
#define GOTAP_OUT_FCACHE_H

#include <stddef.h>

#include "gort.h"

struct out_fcache;

/* A new, empty cache, or NULL (out of memory: callers then format every
 * time, which only costs speed). */
struct out_fcache *out_fcache_new(void);
void out_fcache_free(struct out_fcache *c);

/* The bytes kept for fr (*len set), or NULL if fr is not cached.  The
 * pointer stays valid until the next out_fcache_put or out_fcache_free.
 * c may be NULL (then always NULL). */
const char *out_fcache_get(const struct out_fcache *c, const struct gort_frame *fr, size_t *len);

/* Keep a copy of text[0..len) for fr, replacing what its slot held.  A
 * failed allocation keeps nothing (not an error).  c may be NULL. */
void out_fcache_put(struct out_fcache *c, const struct gort_frame *fr, const char *text, size_t len);

#endif /* GOTAP_OUT_FCACHE_H */
