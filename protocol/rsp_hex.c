/* rsp_hex.c — hex digits and thread ids, the two number formats of RSP.
 *
 * Everything reads from (pointer, length) pairs: packet bodies are binary and
 * never NUL-terminated, so nothing here calls strtol.  Thread ids follow GDB
 * manual E.2 "thread-id syntax": [p<pid>.]<tid>, hex, -1 = all, 0 = any.
 */
#include "rsp.h"

static const char hexdig[] = "0123456789abcdef";

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

size_t rsp_hex_encode(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	if (n > cap / 2) return 0;
	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = hexdig[src[i] >> 4];
		dst[2 * i + 1] = hexdig[src[i] & 15];
	}
	return 2 * n;
}

long rsp_hex_decode(uint8_t *dst, size_t n, const char *src, size_t srclen)
{
	if (srclen / 2 < n) return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(src[2 * i]), lo = hexval(src[2 * i + 1]);
		if (hi < 0 || lo < 0) return -1;
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
