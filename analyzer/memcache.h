/* memcache.h — a read cache of target memory for one stop of the target.
 *
 * Every RSP memory read is a round trip (tens of µs); a growth event needs
 * g0, m, the goroutine and a few hundred bytes of its stack, and an unwind
 * reads word after word.  The cache reads whole aligned chunks (4 KiB by
 * default, one page, so a chunk is either mapped or not) and serves every
 * later read in that chunk from memory, so one event costs a handful of
 * round trips, never one per word.
 *
 * Target memory changes whenever the target runs: the caller must call
 * gt_memcache_invalidate() before every resume (it is O(1)).
 */
#ifndef GOTAP_MEMCACHE_H
#define GOTAP_MEMCACHE_H

#include <stddef.h>
#include <stdint.h>

/* Backend read: same contract as gort_read_fn (bytes read, short or <= 0 on
 * failure). */
typedef long (*gt_mem_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

struct gt_memcache;

struct gt_memcache_stats {
	uint64_t hits, misses;     /* chunk lookups served / fetched */
	uint64_t backend_reads;    /* calls to the backend */
};

/* Create a cache over `rd(ctx, ...)` with `nslots` chunks of `chunk` bytes
 * (chunk a power of two >= 64; 0 picks 4096; nslots 0 picks 64).
 * Returns NULL if out of memory or chunk is not a power of two. */
struct gt_memcache *gt_memcache_new(gt_mem_read_fn rd, void *ctx, size_t chunk, size_t nslots);
void gt_memcache_free(struct gt_memcache *mc);

/* Read len bytes at addr through the cache.  Returns the number of bytes
 * read: len, or fewer if the memory past that point is unreadable, or -1 if
 * nothing could be read.  Usable directly as a gort_read_fn (ctx = mc). */
long gt_memcache_read(void *mc, uint64_t addr, void *buf, size_t len);

/* Read exactly [addr, addr+len) from the backend in one call (unless the
 * cache already holds all of it) and keep it for this generation: later
 * gt_memcache_read()s inside it cost nothing, and no whole chunk is fetched
 * for them.  For callers that know what they will read (a struct's fields,
 * the live part of a stack): one small round trip instead of 4 KiB pages.
 * Returns the bytes now cached from addr (short at an unmapped page), or -1
 * if nothing could be read or there is no room left in this generation's
 * extent store (16 ranges, 128 KiB in all): then reads go through the
 * chunks as before. */
long gt_memcache_prefetch(struct gt_memcache *mc, uint64_t addr, size_t len);

/* Tell the cache what [addr, addr+len) holds at this stop, when the caller
 * knows it without reading (a value it proved unchanged): later reads of it
 * cost nothing.  Same store as the prefetched ranges; 0, or -1 if full. */
int gt_memcache_put(struct gt_memcache *mc, uint64_t addr, const void *buf, size_t len);

/* Read one little-endian 64-bit word; 0 on success, -1 if unreadable. */
int gt_memcache_u64(struct gt_memcache *mc, uint64_t addr, uint64_t *out);

/* Forget everything (the target is about to run). */
void gt_memcache_invalidate(struct gt_memcache *mc);

const struct gt_memcache_stats *gt_memcache_stats(const struct gt_memcache *mc);

#endif /* GOTAP_MEMCACHE_H */
