/* rsp_xfer.c — qXfer read requests and replies (GDB manual E.4, "qXfer").
 *
 * Request body after "qXfer:<object>:read:" is "annex:offset,length" in hex.
 * The reply is 'm' + data when more follows or 'l' + data for the last piece.
 * The data is binary: it is written raw here and escaped by rsp_frame(), but
 * the piece is cut so that its escaped form fits the caller's budget (a short
 * 'm' is legal: the client asks again from where the piece ended).
 */
#include <string.h>

#include "rsp.h"

int rsp_parse_xfer_read(const char *src, size_t len, const char **annex,
			size_t *annex_len, uint64_t *offset, uint64_t *length)
{
	/* the last ':' ends the annex: offset and length never contain one */
	const char *colon = NULL;
	for (size_t i = len; i > 0; i--)
		if (src[i - 1] == ':') { colon = src + i - 1; break; }
	if (!colon) return -1;
	size_t an = (size_t)(colon - src);
	const char *s = colon + 1;
	size_t n = len - an - 1;
	uint64_t off, ln;
	size_t k = rsp_parse_hex_u64(s, n, &off);
	if (k == 0 || k >= n || s[k] != ',') return -1;
	s += k + 1; n -= k + 1;
	if (rsp_parse_hex_u64(s, n, &ln) != n || n == 0) return -1;
	*annex = src;
	*annex_len = an;
	*offset = off;
	*length = ln;
	return 0;
}

size_t rsp_xfer_reply(char *dst, size_t cap, const char *doc, size_t doclen,
		      uint64_t offset, uint64_t length)
{
	if (cap < 1) return 0;
	if (offset >= doclen) {
		dst[0] = 'l';
		return 1;
	}
	size_t avail = doclen - (size_t)offset;
	size_t want = length < avail ? (size_t)length : avail;
	const uint8_t *src = (const uint8_t *)doc + offset;
	size_t fit = rsp_escape_fit(src, want, cap - 1);
	if (fit == 0 && want > 0) return 0;   /* not even one byte fits */
	memcpy(dst + 1, src, fit);
	dst[0] = (fit == avail) ? 'l' : 'm';
	return fit + 1;
}
