/* tc_hex.c — hex decoding of the trace-buffer stream (see tc_hex.h).
 *
 * 64 characters at a time with AVX2 where the CPU has it (checked once at
 * run time: the binary stays baseline x86-64), else 32 at a time with SSE2
 * (every x86-64 has it), the rest through a 256-entry table of digit
 * values.  All paths give the same bytes and the same verdict (unit test
 * ana_hex compares them).
 *
 * Per 16 characters: d = c - '0' and l = (c | 0x20) - 'a' are digits when
 * d <= 9 or l <= 5 (unsigned: min + compare), the value is d or l + 10;
 * pairs of values become one byte (first digit high) and 16-bit lanes are
 * packed to bytes.  An invalid character only sets a flag tested at the end.
 */
#include <stdbool.h>

#include "tc_hex.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TC_HEX_X86 1
#include <immintrin.h>
#endif

static int8_t hexval[256];
static bool hexval_ready;

static void hexval_init(void)
{
	for (int i = 0; i < 256; i++)
		hexval[i] = (int8_t)(i >= '0' && i <= '9' ? i - '0' : i >= 'a' && i <= 'f' ? i - 'a' + 10
				     : i >= 'A' && i <= 'F' ? i - 'A' + 10 : -1);
	hexval_ready = true;
}

/* The table path for characters [2i, 2n). */
static int unhex_tail(uint8_t *dst, const char *src, size_t i, size_t n)
{
	int bad = 0;
	for (; i < n; i++) {
		int hi = hexval[(uint8_t)src[2 * i]], lo = hexval[(uint8_t)src[2 * i + 1]];
		bad |= (hi | lo) & 0x100;   /* -1 has every bit */
		dst[i] = (uint8_t)((unsigned)hi << 4 | (unsigned)lo);   /* garbage when bad */
	}
	return bad;
}

#ifdef TC_HEX_X86
/* 16 hex characters -> digit values (0..15); *ok keeps 0xff in the bytes
 * that were digits. */
static inline __m128i hex16(__m128i c, __m128i *ok)
{
	const __m128i d = _mm_sub_epi8(c, _mm_set1_epi8('0'));
	const __m128i l = _mm_sub_epi8(_mm_or_si128(c, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
	const __m128i dm = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);   /* d <= 9 */
	const __m128i lm = _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(5)), l);   /* l <= 5 */
	*ok = _mm_and_si128(*ok, _mm_or_si128(dm, lm));
	return _mm_or_si128(_mm_and_si128(d, dm),
			    _mm_and_si128(_mm_add_epi8(l, _mm_set1_epi8(10)), lm));
}

/* Digit values (first digit in the low byte of each 16-bit lane) -> one
 * byte per lane, high nibble first, in the lane's low byte. */
static inline __m128i hexpairs(__m128i v)
{
	const __m128i hi = _mm_slli_epi16(_mm_and_si128(v, _mm_set1_epi16(0x00ff)), 4);
	return _mm_or_si128(hi, _mm_srli_epi16(v, 8));
}

static int unhex_sse2(uint8_t *dst, const char *src, size_t n)
{
	__m128i ok = _mm_set1_epi8(-1);
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m128i a = hex16(_mm_loadu_si128((const __m128i *)(const void *)(src + 2 * i)), &ok);
		__m128i b = hex16(_mm_loadu_si128((const __m128i *)(const void *)(src + 2 * i + 16)), &ok);
		_mm_storeu_si128((__m128i *)(void *)(dst + i), _mm_packus_epi16(hexpairs(a), hexpairs(b)));
	}
	int bad = _mm_movemask_epi8(ok) != 0xffff;
	return bad | unhex_tail(dst, src, i, n);
}

#define AVX2 __attribute__((target("avx2")))

AVX2 static inline __m256i hex32(__m256i c, __m256i *ok)
{
	const __m256i d = _mm256_sub_epi8(c, _mm256_set1_epi8('0'));
	const __m256i l = _mm256_sub_epi8(_mm256_or_si256(c, _mm256_set1_epi8(0x20)), _mm256_set1_epi8('a'));
	const __m256i dm = _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(9)), d);
	const __m256i lm = _mm256_cmpeq_epi8(_mm256_min_epu8(l, _mm256_set1_epi8(5)), l);
	*ok = _mm256_and_si256(*ok, _mm256_or_si256(dm, lm));
	return _mm256_or_si256(_mm256_and_si256(d, dm),
			       _mm256_and_si256(_mm256_add_epi8(l, _mm256_set1_epi8(10)), lm));
}

AVX2 static inline __m256i hexpairs32(__m256i v)
{
	const __m256i hi = _mm256_slli_epi16(_mm256_and_si256(v, _mm256_set1_epi16(0x00ff)), 4);
	return _mm256_or_si256(hi, _mm256_srli_epi16(v, 8));
}

AVX2 static int unhex_avx2(uint8_t *dst, const char *src, size_t n)
{
	__m256i ok = _mm256_set1_epi8(-1);
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		__m256i a = hex32(_mm256_loadu_si256((const __m256i *)(const void *)(src + 2 * i)), &ok);
		__m256i b = hex32(_mm256_loadu_si256((const __m256i *)(const void *)(src + 2 * i + 32)), &ok);
		/* packus works within 128-bit halves: a0 b0 a1 b1 -> a0 a1 b0 b1 */
		__m256i p = _mm256_packus_epi16(hexpairs32(a), hexpairs32(b));
		_mm256_storeu_si256((__m256i *)(void *)(dst + i), _mm256_permute4x64_epi64(p, 0xd8));
	}
	int bad = _mm256_movemask_epi8(ok) != -1;
	return bad | unhex_sse2(dst + i, src + 2 * i, n - i);
}
#endif

/* The implementation this CPU runs; chosen at the first call. */
static int (*unhex_impl)(uint8_t *, const char *, size_t);

static int unhex_table(uint8_t *dst, const char *src, size_t n)
{
	return unhex_tail(dst, src, 0, n);
}

int tc_unhex_force(int path)
{
	if (!hexval_ready)
		hexval_init();
	switch (path) {
	case 0:
		unhex_impl = unhex_table;
		return 0;
#ifdef TC_HEX_X86
	case 1:
		unhex_impl = unhex_sse2;
		return 0;
	case 2:
		if (!__builtin_cpu_supports("avx2"))
			return -1;
		unhex_impl = unhex_avx2;
		return 0;
	case -1:
		unhex_impl = __builtin_cpu_supports("avx2") ? unhex_avx2 : unhex_sse2;
		return 0;
#else
	case -1:
		unhex_impl = unhex_table;
		return 0;
#endif
	default:
		return -1;
	}
}

int tc_unhex(uint8_t *dst, const char *src, size_t n)
{
	if (unhex_impl == NULL)
		tc_unhex_force(-1);
	return unhex_impl(dst, src, n) != 0 ? -1 : 0;
}
