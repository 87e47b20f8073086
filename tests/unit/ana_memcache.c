/* ana_memcache.c — unit tests of analyzer/memcache.c over a fake target
 * memory: whole aligned chunks are fetched once per stop, reads across chunk
 * boundaries are stitched, a mapping's end gives a short read, invalidation
 * refetches, a lying backend (more bytes than asked) cannot overrun, and
 * exact ranges (prefetch, put) serve reads for one stop without chunk fetches.
 */
#include <stdint.h>
#include <string.h>

#include "../lib/check.h"
#include "memcache.h"

#define BASE 0x10000u
#define SIZE 0x3000u   /* three 4 KiB pages mapped: [BASE, BASE+SIZE) */

static uint8_t mem[SIZE];
static int calls;
static long lie;       /* if set, the backend claims this many bytes */

static long fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	calls++;
	if (lie)
		return lie;
	if (addr < BASE || addr >= BASE + SIZE)
		return -1;
	size_t n = len;
	if (addr + n > BASE + SIZE)
		n = BASE + SIZE - addr;
	memcpy(buf, mem + (addr - BASE), n);
	return (long)n;
}

int main(void)
{
	for (size_t i = 0; i < SIZE; i++)
		mem[i] = (uint8_t)(i * 7 + 3);
	struct gt_memcache *mc = gt_memcache_new(fake_read, NULL, 4096, 8);
	CHECK("memcache.new", mc != NULL);
	CHECK("memcache.reject_non_pow2", gt_memcache_new(fake_read, NULL, 1000, 8) == NULL);

	uint8_t buf[64];
	long n = gt_memcache_read(mc, BASE + 100, buf, 16);
	CHECK("memcache.read", n == 16 && memcmp(buf, mem + 100, 16) == 0);
	CHECK("memcache.one_fetch", calls == 1);
	for (int i = 0; i < 100; i++)
		gt_memcache_read(mc, BASE + 8 * (uint64_t)i, buf, 8);
	CHECK("memcache.hits_cost_nothing", calls == 1);

	uint8_t big[64];
	n = gt_memcache_read(mc, BASE + 4096 - 20, big, 40);   /* spans two chunks */
	CHECK("memcache.cross_chunk", n == 40 && memcmp(big, mem + 4096 - 20, 40) == 0);
	CHECK("memcache.cross_chunk_fetches_next", calls == 2);

	uint64_t w;
	CHECK("memcache.u64", gt_memcache_u64(mc, BASE + 8, &w) == 0 &&
	      w == ((uint64_t)mem[15] << 56 | (uint64_t)mem[14] << 48 | (uint64_t)mem[13] << 40 |
		    (uint64_t)mem[12] << 32 | (uint64_t)mem[11] << 24 | (uint64_t)mem[10] << 16 |
		    (uint64_t)mem[9] << 8 | mem[8]));

	n = gt_memcache_read(mc, BASE + SIZE - 10, big, 40);   /* runs off the mapping */
	CHECK("memcache.short_at_end", n == 10 && memcmp(big, mem + SIZE - 10, 10) == 0);
	CHECK("memcache.unmapped", gt_memcache_read(mc, 0x500000, big, 8) == -1);
	CHECK("memcache.u64_unmapped", gt_memcache_u64(mc, BASE + SIZE - 4, &w) == -1);

	int before = calls;
	mem[100] ^= 0xff;
	gt_memcache_read(mc, BASE + 100, buf, 1);
	CHECK("memcache.stale_until_invalidated", calls == before && buf[0] != mem[100]);
	gt_memcache_invalidate(mc);
	gt_memcache_read(mc, BASE + 100, buf, 1);
	CHECK("memcache.invalidate_refetches", calls == before + 1 && buf[0] == mem[100]);

	/* many distinct chunks: the direct-mapped slots evict, results stay right */
	static uint8_t far[4096 * 16];
	(void)far;
	gt_memcache_invalidate(mc);
	lie = 1 << 20;   /* a backend that claims a megabyte for a 4 KiB read */
	n = gt_memcache_read(mc, BASE, big, 64);
	CHECK("memcache.lying_backend_bounded", n == 64);
	lie = 0;
	const struct gt_memcache_stats *st = gt_memcache_stats(mc);
	CHECK("memcache.stats", st->misses >= 4 && st->hits >= 100);

	/* exact ranges: one backend read of just that range, later reads free */
	gt_memcache_invalidate(mc);
	calls = 0;
	CHECK("memcache.prefetch", gt_memcache_prefetch(mc, BASE + 0x123, 200) == 200 && calls == 1);
	n = gt_memcache_read(mc, BASE + 0x130, big, 64);
	CHECK("memcache.prefetch_serves_reads", n == 64 && memcmp(big, mem + 0x130, 64) == 0 &&
	      calls == 1);
	CHECK("memcache.prefetch_again_free", gt_memcache_prefetch(mc, BASE + 0x150, 16) == 16 &&
	      calls == 1);
	n = gt_memcache_read(mc, BASE + 0x123 + 190, big, 20);   /* runs past the range */
	CHECK("memcache.prefetch_then_chunk", n == 20 && memcmp(big, mem + 0x123 + 190, 20) == 0 &&
	      calls == 2);
	CHECK("memcache.prefetch_short_at_end", gt_memcache_prefetch(mc, BASE + SIZE - 16, 64) == 16);
	CHECK("memcache.prefetch_unmapped", gt_memcache_prefetch(mc, 0x500000, 64) == -1);
	uint64_t known = 0x0123456789abcdefULL;
	CHECK("memcache.put", gt_memcache_put(mc, 0x700000, &known, 8) == 0 &&
	      gt_memcache_u64(mc, 0x700000, &w) == 0 && w == known);
	gt_memcache_invalidate(mc);
	before = calls;
	CHECK("memcache.invalidate_drops_ranges", gt_memcache_u64(mc, 0x700000, &w) == -1 &&
	      calls == before + 1);
	mem[0x130] ^= 0x55;
	n = gt_memcache_read(mc, BASE + 0x130, big, 1);
	CHECK("memcache.prefetch_refetched_after_invalidate", n == 1 && big[0] == mem[0x130]);

	gt_memcache_free(mc);
	return check_done();
}
