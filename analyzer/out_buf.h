/* out_buf.h — the growable byte buffer a per-event sink assembles one event
 * in, so that the event leaves with a single fwrite (stdio's per-call
 * locking and bookkeeping showed in the profile when every field was its own
 * write), and the decimal formatting those events need.  Header-only: the
 * helpers are a few lines each and sit on the per-event path.
 */
#ifndef GOTAP_OUT_BUF_H
#define GOTAP_OUT_BUF_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct out_buf {
	char *p;
	size_t len, cap;
};

/* Room for `more` bytes after p[len].  0, or -1 (out of memory; the buffer
 * stays as it was). */
static inline int out_buf_reserve(struct out_buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	char *np = realloc(b->p, cap);
	if (np == NULL)
		return -1;
	b->p = np;
	b->cap = cap;
	return 0;
}

static inline int out_buf_add(struct out_buf *b, const void *src, size_t n)
{
	if (out_buf_reserve(b, n) < 0)
		return -1;
	memcpy(b->p + b->len, src, n);
	b->len += n;
	return 0;
}

static inline void out_buf_free(struct out_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Decimal digits of v at p (at most 20); returns the end. */
static inline char *out_put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* The same for a signed value (at most 20 characters with the '-'). */
static inline char *out_put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return out_put_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return out_put_u64(p, (uint64_t)v);
}

#endif /* GOTAP_OUT_BUF_H */
