/* rsp_frame.c — outgoing framing: checksums, binary escapes, "$...#xx".
 *
 * GDB manual, E.1 "Overview": the checksum is the sum of the payload bytes as
 * sent (after escaping) modulo 256; '#', '$', '}' and '*' inside a payload are
 * sent as '}' followed by the byte xor 0x20 ("Binary data").  We never
 * run-length encode on output: it is optional and gdb does not need it.
 */
#include "rsp.h"

static bool needs_escape(uint8_t c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

uint8_t rsp_checksum(const uint8_t *data, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + data[i]);
	return s;
}

size_t rsp_escape(uint8_t *dst, size_t cap, const uint8_t *data, size_t n,
		  size_t *consumed)
{
	size_t o = 0, i = 0;
	for (; i < n; i++) {
		uint8_t c = data[i];
		if (needs_escape(c)) {
			if (cap - o < 2) break;
			dst[o++] = '}';
			dst[o++] = c ^ 0x20;
		} else {
			if (cap - o < 1) break;
			dst[o++] = c;
		}
	}
	if (consumed) *consumed = i;
	return o;
}

size_t rsp_escape_fit(const uint8_t *data, size_t n, size_t budget)
{
	size_t used = 0, i = 0;
	for (; i < n; i++) {
		size_t w = needs_escape(data[i]) ? 2 : 1;
		if (budget - used < w) break;
		used += w;
	}
	return i;
}

size_t rsp_frame(uint8_t *dst, size_t cap, const uint8_t *payload, size_t n,
		 bool notification)
{
	static const char hex[] = "0123456789abcdef";
	if (cap < 4) return 0;
	dst[0] = notification ? '%' : '$';
	size_t used;
	size_t o = rsp_escape(dst + 1, cap - 4, payload, n, &used);
	if (used != n) return 0;
	uint8_t s = rsp_checksum(dst + 1, o);
	o++;
	dst[o++] = '#';
	dst[o++] = (uint8_t)hex[s >> 4];
	dst[o++] = (uint8_t)hex[s & 15];
	return o;
}
