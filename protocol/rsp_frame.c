/* rsp_frame.c — outgoing framing: checksums, binary escapes, "$...#xx".
 *
 * GDB manual, E.1 "Overview": the checksum is the sum of the payload bytes as
 * sent (after escaping) modulo 256; '#', '$', '}' and '*' inside a payload are
 * sent as '}' followed by the byte xor 0x20 ("Binary data").  We never
 * run-length encode on output: it is optional and gdb does not need it.
 *
 * Speed (issue #6): runs of plain bytes are found and copied in bulk
 * (rsp_scan.h), and a payload without any special byte — every hex reply —
 * is copied and summed in the same pass (rsp_plain_run), with no escape
 * pass at all.
 */
#include <string.h>

#include "rsp.h"
#include "rsp_scan.h"

uint8_t rsp_checksum(const uint8_t *data, size_t n)
{
	return rsp_sum_bytes(data, n);
}

size_t rsp_escape(uint8_t *dst, size_t cap, const uint8_t *data, size_t n,
		  size_t *consumed)
{
	size_t o = 0, i = 0;
	while (i < n) {
		size_t k = rsp_find_special(data + i, n - i);
		if (k > cap - o) k = cap - o;    /* plain bytes: as many as fit */
		if (k) {
			memcpy(dst + o, data + i, k);
			o += k;
			i += k;
		}
		if (i == n || !rsp_is_special(data[i])) break;   /* done, or dst full */
		if (cap - o < 2) break;          /* an escape pair is never split */
		dst[o++] = '}';
		dst[o++] = data[i++] ^ 0x20;
	}
	if (consumed) *consumed = i;
	return o;
}

size_t rsp_escape_fit(const uint8_t *data, size_t n, size_t budget)
{
	size_t used = 0, i = 0;
	while (i < n) {
		size_t k = rsp_find_special(data + i, n - i);
		if (k > budget - used) return i + (budget - used);
		used += k;
		i += k;
		if (i == n || budget - used < 2) break;
		used += 2;
		i++;
	}
	return i;
}

size_t rsp_frame(uint8_t *dst, size_t cap, const uint8_t *payload, size_t n,
		 bool notification)
{
	static const char hex[] = "0123456789abcdef";
	/* escaping only lengthens: a payload longer than the room never fits */
	if (cap < 4 || n > cap - 4) return 0;
	dst[0] = notification ? '%' : '$';
	uint8_t s = 0;
	size_t o = rsp_plain_run(dst + 1, payload, n, &s);
	if (o < n) {   /* a special byte: escape from there on */
		size_t used;
		size_t k = rsp_escape(dst + 1 + o, cap - 4 - o, payload + o, n - o, &used);
		if (used != n - o) return 0;
		s = (uint8_t)(s + rsp_sum_bytes(dst + 1 + o, k));
		o += k;
	}
	o++;
	dst[o++] = '#';
	dst[o++] = (uint8_t)hex[s >> 4];
	dst[o++] = (uint8_t)hex[s & 15];
	return o;
}
