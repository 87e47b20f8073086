/* memcache.c — chunked, direct-mapped cache of target memory (see
 * memcache.h).  Each slot holds one aligned chunk tagged with the
 * generation it was read in; invalidation bumps the generation, so nothing
 * is cleared or freed between stops.  A chunk the backend could read only in
 * part (the end of a mapping) remembers its valid length.  Besides the
 * chunks, a few exact ranges per generation (gt_memcache_prefetch) are kept
 * in one arena, looked up before the chunks.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "memcache.h"

struct slot {
	uint64_t base;     /* chunk address */
	uint64_t gen;      /* generation it was filled in; 0 = never */
	size_t valid;      /* bytes of the chunk that were readable */
	uint8_t *data;
};

/* A range read exactly as asked (gt_memcache_prefetch), for this generation. */
struct extent {
	uint64_t addr;
	size_t len;        /* readable bytes */
	size_t off;        /* in ext_store */
};

#define MAX_EXTENTS 16
#define EXT_STORE (128 * 1024)

struct gt_memcache {
	struct extent ext[MAX_EXTENTS];
	size_t next;       /* extents valid in ext_gen */
	uint64_t ext_gen;
	size_t ext_used;   /* bytes of ext_store in use */
	uint8_t *ext_store;
	gt_mem_read_fn rd;
	void *ctx;
	size_t chunk, nslots;
	uint64_t gen;      /* current generation, starts at 1 */
	struct slot *slots;
	uint8_t *store;
	struct gt_memcache_stats stats;
};

struct gt_memcache *gt_memcache_new(gt_mem_read_fn rd, void *ctx, size_t chunk, size_t nslots)
{
	if (chunk == 0)
		chunk = 4096;
	if (nslots == 0)
		nslots = 64;
	if (chunk < 64 || (chunk & (chunk - 1)) != 0 || nslots > (SIZE_MAX / chunk))
		return NULL;
	struct gt_memcache *mc = calloc(1, sizeof *mc);
	if (mc == NULL)
		return NULL;
	mc->slots = calloc(nslots, sizeof *mc->slots);
	mc->store = malloc(chunk * nslots);
	mc->ext_store = malloc(EXT_STORE);
	if (mc->slots == NULL || mc->store == NULL || mc->ext_store == NULL) {
		gt_memcache_free(mc);
		return NULL;
	}
	for (size_t i = 0; i < nslots; i++)
		mc->slots[i].data = mc->store + i * chunk;
	mc->rd = rd;
	mc->ctx = ctx;
	mc->chunk = chunk;
	mc->nslots = nslots;
	mc->gen = 1;
	return mc;
}

void gt_memcache_free(struct gt_memcache *mc)
{
	if (mc == NULL)
		return;
	free(mc->slots);
	free(mc->store);
	free(mc->ext_store);
	free(mc);
}

void gt_memcache_invalidate(struct gt_memcache *mc)
{
	mc->gen++;
}

const struct gt_memcache_stats *gt_memcache_stats(const struct gt_memcache *mc)
{
	return &mc->stats;
}

/* The slot holding the chunk at base, filled if needed; NULL if the backend
 * could read nothing there. */
static struct slot *get_chunk(struct gt_memcache *mc, uint64_t base)
{
	uint64_t idx = base / mc->chunk;
	struct slot *s = &mc->slots[(idx ^ (idx >> 7)) % mc->nslots];
	if (s->gen == mc->gen && s->base == base) {
		mc->stats.hits++;
		return s->valid ? s : NULL;
	}
	mc->stats.misses++;
	mc->stats.backend_reads++;
	long n = mc->rd(mc->ctx, base, s->data, mc->chunk);
	s->base = base;
	s->gen = mc->gen;
	s->valid = n > 0 ? (size_t)n : 0;
	if (s->valid > mc->chunk)
		s->valid = mc->chunk; /* a lying backend must not make us overread */
	return s->valid ? s : NULL;
}

/* The prefetched extent holding address a, or NULL. */
static const struct extent *find_extent(const struct gt_memcache *mc, uint64_t a)
{
	if (mc->ext_gen != mc->gen)
		return NULL;
	for (size_t i = mc->next; i-- > 0;) {
		const struct extent *e = &mc->ext[i];
		if (a >= e->addr && a - e->addr < e->len)
			return e;
	}
	return NULL;
}

/* Is [addr, addr+len) all readable from the cache without the backend? */
static bool cached(const struct gt_memcache *mc, uint64_t addr, size_t len)
{
	uint64_t a = addr, end = addr + len;
	if (end < addr)
		return false;
	while (a < end) {
		const struct extent *e = find_extent(mc, a);
		if (e != NULL) {
			a = e->addr + e->len;
			continue;
		}
		uint64_t base = a & ~(uint64_t)(mc->chunk - 1);
		uint64_t idx = base / mc->chunk;
		const struct slot *s = &mc->slots[(idx ^ (idx >> 7)) % mc->nslots];
		if (s->gen != mc->gen || s->base != base || a - base >= s->valid)
			return false;
		a = base + s->valid;
		if (s->valid < mc->chunk)
			return a >= end;
	}
	return true;
}

long gt_memcache_prefetch(struct gt_memcache *mc, uint64_t addr, size_t len)
{
	if (len == 0 || addr + len < addr)
		return -1;
	if (cached(mc, addr, len))
		return (long)len;
	if (mc->ext_gen != mc->gen) {
		mc->ext_gen = mc->gen;
		mc->next = 0;
		mc->ext_used = 0;
	}
	if (len > EXT_STORE - mc->ext_used || mc->next == MAX_EXTENTS)
		return -1; /* no room: reads go through the chunks */
	mc->stats.misses++;
	mc->stats.backend_reads++;
	long n = mc->rd(mc->ctx, addr, mc->ext_store + mc->ext_used, len);
	if (n <= 0)
		return -1;
	if ((size_t)n > len)
		n = (long)len; /* a lying backend must not make us overread */
	struct extent *e = &mc->ext[mc->next++];
	e->addr = addr;
	e->len = (size_t)n;
	e->off = mc->ext_used;
	mc->ext_used += (size_t)n;
	return n;
}

int gt_memcache_put(struct gt_memcache *mc, uint64_t addr, const void *buf, size_t len)
{
	if (len == 0 || addr + len < addr)
		return -1;
	if (mc->ext_gen != mc->gen) {
		mc->ext_gen = mc->gen;
		mc->next = 0;
		mc->ext_used = 0;
	}
	if (len > EXT_STORE - mc->ext_used || mc->next == MAX_EXTENTS)
		return -1;
	memcpy(mc->ext_store + mc->ext_used, buf, len);
	struct extent *e = &mc->ext[mc->next++];
	e->addr = addr;
	e->len = len;
	e->off = mc->ext_used;
	mc->ext_used += len;
	return 0;
}

long gt_memcache_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct gt_memcache *mc = ctx;
	size_t done = 0;
	uint8_t *out = buf;
	while (done < len) {
		uint64_t a = addr + done;
		if (a < addr)
			break; /* wrapped past the end of the address space */
		const struct extent *e = find_extent(mc, a);
		if (e != NULL) {
			size_t off = (size_t)(a - e->addr);
			size_t n = e->len - off;
			if (n > len - done)
				n = len - done;
			memcpy(out + done, mc->ext_store + e->off + off, n);
			mc->stats.hits++;
			done += n;
			continue;
		}
		uint64_t base = a & ~(uint64_t)(mc->chunk - 1);
		size_t off = (size_t)(a - base);
		struct slot *s = get_chunk(mc, base);
		if (s == NULL || off >= s->valid)
			break;
		size_t n = s->valid - off;
		if (n > len - done)
			n = len - done;
		memcpy(out + done, s->data + off, n);
		done += n;
		if (s->valid < mc->chunk)
			break; /* the rest of this chunk is unreadable */
	}
	return done > 0 ? (long)done : -1;
}

int gt_memcache_u64(struct gt_memcache *mc, uint64_t addr, uint64_t *out)
{
	uint8_t b[8];
	if (gt_memcache_read(mc, addr, b, 8) != 8)
		return -1;
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	*out = v;
	return 0;
}
