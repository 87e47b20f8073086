/* rsp_scan.h — private helpers of the protocol library: bulk scanning of
 * packet bytes (the protocol library's .c files, and the RSP client's receive
 * fast path in analyzer/rspc.c; header-only, pure).
 *
 * A packet body is mostly plain bytes; only '#', '$', '}' and '*' mean
 * something inside it (end, resync, escape, run-length).  Finding the next
 * such byte and summing the plain run before it in blocks of 16 bytes is
 * what makes the parser and the framer run at memory speed instead of one
 * state-machine step per byte.  SSE2 is baseline on x86-64; other targets
 * use the portable loops, which give the same results.
 */
#ifndef GOTAP_RSP_SCAN_H
#define GOTAP_RSP_SCAN_H

#include <stddef.h>
#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static inline int rsp_is_special(uint8_t c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

/* Index of the first '#', '$', '}' or '*' in s[0..n), or n if none. */
static inline size_t rsp_find_special(const uint8_t *s, size_t n)
{
	size_t i = 0;
#if defined(__SSE2__)
	const __m128i h = _mm_set1_epi8('#'), d = _mm_set1_epi8('$');
	const __m128i e = _mm_set1_epi8('}'), r = _mm_set1_epi8('*');
	for (; n - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, h), _mm_cmpeq_epi8(v, d)),
					 _mm_or_si128(_mm_cmpeq_epi8(v, e), _mm_cmpeq_epi8(v, r)));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);
		if (mask) return i + (size_t)__builtin_ctz(mask);
	}
#endif
	for (; i < n; i++)
		if (rsp_is_special(s[i])) return i;
	return n;
}

/* Sum of s[0..n) modulo 256. */
static inline uint8_t rsp_sum_bytes(const uint8_t *s, size_t n)
{
	size_t i = 0;
	uint64_t total = 0;
#if defined(__SSE2__)
	const __m128i zero = _mm_setzero_si128();
	__m128i acc = zero;
	/* psadbw adds 8 bytes into a 16-bit lane of a 64-bit slot: no overflow
	 * for any n we can be given (2^64 / 255 bytes). */
	for (; n - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		acc = _mm_add_epi64(acc, _mm_sad_epu8(v, zero));
	}
	uint64_t lanes[2];
	_mm_storeu_si128((__m128i *)(void *)lanes, acc);
	total = lanes[0] + lanes[1];
#endif
	for (; i < n; i++)
		total += s[i];
	return (uint8_t)total;
}

/* The plain run at the start of s[0..n): its length (up to the first '#',
 * '$', '}' or '*'; n when none is special), added into *sum (mod 256), and,
 * when dst is not NULL, copied to dst.  One pass that loads each byte once
 * for the test, the copy and the checksum: a hex reply (the trace stream's
 * 64 KiB qTBuffer answers) is framed at the cost of a memcpy instead of
 * three passes (scan, copy, sum), and the client's receive path finds a
 * packet's end and sums it in one pass.  dst must not overlap s. */
static inline size_t rsp_plain_run(uint8_t *dst, const uint8_t *s, size_t n, uint8_t *sum)
{
	size_t i = 0;
	uint64_t total = *sum;
#if defined(__SSE2__)
	const __m128i h = _mm_set1_epi8('#'), d = _mm_set1_epi8('$');
	const __m128i e = _mm_set1_epi8('}'), r = _mm_set1_epi8('*');
	const __m128i zero = _mm_setzero_si128();
	__m128i acc = zero;
	for (; n - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, h), _mm_cmpeq_epi8(v, d)),
					 _mm_or_si128(_mm_cmpeq_epi8(v, e), _mm_cmpeq_epi8(v, r)));
		if (_mm_movemask_epi8(m)) break;   /* the scalar loop stops at it */
		if (dst) _mm_storeu_si128((__m128i *)(void *)(dst + i), v);
		acc = _mm_add_epi64(acc, _mm_sad_epu8(v, zero));
	}
	uint64_t lanes[2];
	_mm_storeu_si128((__m128i *)(void *)lanes, acc);
	total += lanes[0] + lanes[1];
#endif
	for (; i < n && !rsp_is_special(s[i]); i++) {
		if (dst) dst[i] = s[i];
		total += s[i];
	}
	*sum = (uint8_t)total;
	return i;
}

#endif /* GOTAP_RSP_SCAN_H */
