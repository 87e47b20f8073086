/* rsp_hex.c — hex digits and thread ids, the two number formats of RSP.
 *
 * Everything reads from (pointer, length) pairs: packet bodies are binary and
 * never NUL-terminated, so nothing here calls strtol.  Thread ids follow GDB
 * manual E.2 "thread-id syntax": [p<pid>.]<tid>, hex, -1 = all, 0 = any.
 */
#include <string.h>

#include "rsp.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static const char hexdig[] = "0123456789abcdef";

/* Digit value of every byte, -1 for a non-digit: one load per digit instead
 * of three range tests (rsp_hex_decode was 11% of gotap's CPU, issue #6). */
#define X16 -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
static const int8_t hexval_tab[256] = {
	X16, X16, X16,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,       /* 0x30 */
	-1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,   /* 0x40 */
	X16,
	-1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,   /* 0x60 */
	X16, X16, X16, X16, X16, X16, X16, X16, X16,
};
#undef X16

static int hexval(char c)
{
	return hexval_tab[(uint8_t)c];
}

/* "000102...ff": the two digits of every byte value. */
static const char hexpairs[512] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

#if defined(__SSE2__)
/* Nibbles 0..15 -> '0'..'9', 'a'..'f'. */
static inline __m128i nibble_ascii(__m128i n)
{
	__m128i letter = _mm_cmpgt_epi8(n, _mm_set1_epi8(9));
	return _mm_add_epi8(_mm_add_epi8(n, _mm_set1_epi8('0')),
			    _mm_and_si128(letter, _mm_set1_epi8('a' - '0' - 10)));
}

/* Unsigned x < k for every byte, with SSE2's signed compare. */
static inline __m128i below(__m128i x, int k)
{
	const __m128i bias = _mm_set1_epi8((char)0x80);
	return _mm_cmplt_epi8(_mm_xor_si128(x, bias), _mm_set1_epi8((char)(k ^ 0x80)));
}

/* Digit values of 16 hex characters; false if any is not a digit. */
static inline bool hex_values(__m128i c, __m128i *val)
{
	__m128i d = _mm_sub_epi8(c, _mm_set1_epi8('0'));
	__m128i l = _mm_sub_epi8(_mm_or_si128(c, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
	__m128i isd = below(d, 10), isl = below(l, 6);
	if (_mm_movemask_epi8(_mm_or_si128(isd, isl)) != 0xffff) return false;
	*val = _mm_or_si128(_mm_and_si128(isd, d),
			    _mm_and_si128(isl, _mm_add_epi8(l, _mm_set1_epi8(10))));
	return true;
}

/* 32 digit values (hi, lo, hi, lo, ...) -> 16 bytes. */
static inline __m128i pack_pairs(__m128i a, __m128i b)
{
	const __m128i lowbyte = _mm_set1_epi16(0x00ff);
	__m128i ra = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(a, lowbyte), 4), _mm_srli_epi16(a, 8));
	__m128i rb = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(b, lowbyte), 4), _mm_srli_epi16(b, 8));
	return _mm_packus_epi16(ra, rb);
}
#endif

size_t rsp_hex_encode(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	if (n > cap / 2) return 0;
	size_t i = 0;
#if defined(__SSE2__)
	const __m128i m0f = _mm_set1_epi8(0x0f);
	for (; n - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
		__m128i hi = nibble_ascii(_mm_and_si128(_mm_srli_epi16(v, 4), m0f));
		__m128i lo = nibble_ascii(_mm_and_si128(v, m0f));
		_mm_storeu_si128((__m128i *)(void *)(dst + 2 * i), _mm_unpacklo_epi8(hi, lo));
		_mm_storeu_si128((__m128i *)(void *)(dst + 2 * i + 16), _mm_unpackhi_epi8(hi, lo));
	}
#endif
	for (; i < n; i++)
		memcpy(dst + 2 * i, hexpairs + 2 * src[i], 2);
	return 2 * n;
}

long rsp_hex_decode(uint8_t *dst, size_t n, const char *src, size_t srclen)
{
	if (srclen / 2 < n) return -1;
	const uint8_t *s = (const uint8_t *)src;
	size_t i = 0;
#if defined(__SSE2__)
	for (; n - i >= 16; i += 16, s += 32) {
		__m128i a, b;
		if (!hex_values(_mm_loadu_si128((const __m128i *)(const void *)s), &a) ||
		    !hex_values(_mm_loadu_si128((const __m128i *)(const void *)(s + 16)), &b))
			return -1;
		_mm_storeu_si128((__m128i *)(void *)(dst + i), pack_pairs(a, b));
	}
#endif
	/* four bytes per round; any non-digit makes the OR negative */
	for (; n - i >= 4; i += 4, s += 8) {
		int h0 = hexval_tab[s[0]], l0 = hexval_tab[s[1]];
		int h1 = hexval_tab[s[2]], l1 = hexval_tab[s[3]];
		int h2 = hexval_tab[s[4]], l2 = hexval_tab[s[5]];
		int h3 = hexval_tab[s[6]], l3 = hexval_tab[s[7]];
		if ((h0 | l0 | h1 | l1 | h2 | l2 | h3 | l3) < 0) return -1;
		dst[i] = (uint8_t)(h0 << 4 | l0);
		dst[i + 1] = (uint8_t)(h1 << 4 | l1);
		dst[i + 2] = (uint8_t)(h2 << 4 | l2);
		dst[i + 3] = (uint8_t)(h3 << 4 | l3);
	}
	for (; i < n; i++, s += 2) {
		int hi = hexval_tab[s[0]], lo = hexval_tab[s[1]];
		if ((hi | lo) < 0) return -1;
		dst[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)n;
}

size_t rsp_parse_hex_u64(const char *src, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < len; i++) {
		int d = hexval(src[i]);
		if (d < 0) break;
		if (v > (UINT64_MAX >> 4)) return 0;   /* would overflow */
		v = v << 4 | (uint64_t)d;
	}
	if (i == 0) return 0;
	*out = v;
	return i;
}

size_t rsp_parse_hex_i64(const char *src, size_t len, int64_t *out)
{
	bool neg = len > 0 && src[0] == '-';
	uint64_t v;
	size_t k = rsp_parse_hex_u64(src + neg, len - neg, &v);
	if (k == 0) return 0;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1) return 0;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX) return 0;
		*out = (int64_t)v;
	}
	return k + neg;
}

size_t rsp_fmt_hex_u64(char *dst, size_t cap, uint64_t v)
{
	char tmp[16];
	size_t n = 0;
	do {
		tmp[n++] = hexdig[v & 15];
		v >>= 4;
	} while (v);
	if (cap < n) return 0;
	for (size_t i = 0; i < n; i++)
		dst[i] = tmp[n - 1 - i];
	return n;
}

/* Signed hex as thread ids are written: "-1" for all, else plain hex. */
static size_t fmt_hex_i64(char *dst, size_t cap, int64_t v)
{
	if (v >= 0) return rsp_fmt_hex_u64(dst, cap, (uint64_t)v);
	if (cap < 2) return 0;
	dst[0] = '-';
	size_t k = rsp_fmt_hex_u64(dst + 1, cap - 1, (uint64_t)0 - (uint64_t)v);
	return k ? k + 1 : 0;
}

size_t rsp_parse_ptid(const char *src, size_t len, struct rsp_ptid *out)
{
	struct rsp_ptid id = { 0, 0, false };
	size_t i = 0, k;
	if (len > 0 && src[0] == 'p') {
		id.has_pid = true;
		k = rsp_parse_hex_i64(src + 1, len - 1, &id.pid);
		if (k == 0) return 0;
		i = 1 + k;
		if (i < len && src[i] == '.') {
			k = rsp_parse_hex_i64(src + i + 1, len - i - 1, &id.tid);
			if (k == 0) return 0;
			i += 1 + k;
		} else {
			id.tid = -1;   /* "p<pid>" alone means every thread of pid */
		}
	} else {
		k = rsp_parse_hex_i64(src, len, &id.tid);
		if (k == 0) return 0;
		i = k;
	}
	*out = id;
	return i;
}

size_t rsp_fmt_ptid(char *dst, size_t cap, const struct rsp_ptid *id,
		    bool multiprocess)
{
	size_t o = 0, k;
	if (multiprocess) {
		if (cap < 1) return 0;
		dst[o++] = 'p';
		k = fmt_hex_i64(dst + o, cap - o, id->pid);
		if (k == 0) return 0;
		o += k;
		if (cap - o < 1) return 0;
		dst[o++] = '.';
	}
	k = fmt_hex_i64(dst + o, cap - o, id->tid);
	if (k == 0) return 0;
	return o + k;
}
