/* out_json.c — JSON Lines: one object per reported growth:
 *
 *   {"seq":1,"time":1764159300.123456,"pid":41,"tid":41,"goid":18,
 *    "old":2048,"new":4096,"frames":[{"pc":4728740,"func":"main.say",
 *    "off":164,"size":208,"file":"/src/example.go","line":9,
 *    "module":"/src/example","inlined":false}, ...]}
 *
 * Unknown values are null (func, file, module) or 0 (line).  "inlined"
 * marks a call the compiler inlined into the next frame (off, size 0).  time is the
 * wall clock in seconds since the epoch with microsecond precision.
 *
 * Strings are escaped by jansson (a frame object is built and dumped with
 * it), but not once per event: building and dumping a jansson tree of ~25
 * frames cost ~200 µs an event (an allocation per value, a hash table per
 * object, its loop check formatting every container's address, a stdio
 * call per token).  So each frame's dumped object is kept in the per-frame
 * cache (out_fcache.h), the integers of the event's head are written here,
 * and "time" too when it is a plausible clock (fmt_time), else jansson
 * formats it; the event is assembled in one buffer and leaves with one
 * fwrite.  The bytes are those json_dumpf(JSON_COMPACT) wrote for the whole
 * tree.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "out.h"
#include "out_buf.h"
#include "out_fcache.h"

struct json_state {
	FILE *f;
	struct out_fcache *cache;   /* NULL: no cache (allocation failed) */
	struct out_buf buf;         /* the event being assembled */
	json_t *time;               /* a real reused for the time field */
};

static json_t *str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* json_object_set_new, but remembers a failure in *bad instead of returning. */
static void put(json_t *obj, const char *key, json_t *val, int *bad)
{
	if (val == NULL || json_object_set_new(obj, key, val) != 0)
		*bad = 1;
}

static json_t *frame_json(const struct gort_frame *fr)
{
	json_t *o = json_object();
	int bad = 0;
	if (o == NULL)
		return NULL;
	put(o, "pc", json_integer((json_int_t)fr->pc), &bad);
	put(o, "func", str_or_null(fr->func), &bad);
	put(o, "off", json_integer((json_int_t)fr->off), &bad);
	put(o, "size", json_integer((json_int_t)fr->size), &bad);
	put(o, "file", str_or_null(fr->file), &bad);
	put(o, "line", json_integer(fr->line), &bad);
	put(o, "module", str_or_null(fr->module), &bad);
	put(o, "inlined", json_boolean(fr->inlined), &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Dump json value v (any type) at the end of the buffer.  0 or -1. */
static int add_dump(struct out_buf *b, const json_t *v)
{
	for (;;) {
		size_t room = b->cap - b->len;
		size_t n = json_dumpb(v, b->p + b->len, room, JSON_COMPACT | JSON_ENCODE_ANY);
		if (n == 0)
			return -1;
		if (n <= room) {
			b->len += n;
			return 0;
		}
		if (out_buf_reserve(b, n) < 0)   /* too small: n is the size it needs */
			return -1;
	}
}

/* Append fr's object, from the cache when possible.  -1 when jansson
 * refuses a string (not UTF-8) or memory runs out. */
static int add_frame(struct json_state *s, const struct gort_frame *fr)
{
	size_t clen;
	const char *cached = out_fcache_get(s->cache, fr, &clen);
	if (cached != NULL)
		return out_buf_add(&s->buf, cached, clen);
	json_t *o = frame_json(fr);
	if (o == NULL)
		return -1;
	size_t start = s->buf.len;
	int r = add_dump(&s->buf, o);
	json_decref(o);
	if (r == 0)
		out_fcache_put(s->cache, fr, s->buf.p + start, s->buf.len - start);
	return r;
}

/* A real as jansson writes it (strconv.c jsonp_dtostr: "%.17g", then ".0"
 * when that has neither '.' nor 'e'), for 1e9 <= v < 9e9 (the clock
 * between 2001 and 2255): 10 digits, '.', then the 7 decimals of the exact
 * binary value rounded to nearest, trailing zeros dropped (at least one
 * "0" stays).  glibc's printf was ~5,000 instructions of each event (exact
 * multi-precision division); here it is one 128-bit multiply.  Returns the
 * length written at p (at most 18), or 0 when v is outside that range or
 * falls exactly halfway between two 17-digit decimals (then jansson
 * formats it: its rounding of a tie is the C library's business). */
static size_t fmt_time(char *p, double v)
{
	if (!(v >= 1e9 && v < 9e9))
		return 0;
	int e;
	double f = frexp(v, &e);            /* v = f * 2^e, 0.5 <= f < 1 */
	uint64_t m = (uint64_t)ldexp(f, 53);  /* exact: v = m * 2^(e-53) */
	int shift = 53 - e;                 /* 19..23 in this range */
	unsigned __int128 x = (unsigned __int128)m * 10000000u;
	unsigned __int128 half = (unsigned __int128)1 << (shift - 1);
	unsigned __int128 rest = x & ((half << 1) - 1);
	uint64_t q = (uint64_t)(x >> shift);
	if (rest == half)
		return 0;
	if (rest > half)
		q++;
	uint64_t ip = q / 10000000u, fp = q % 10000000u;
	if (ip >= 10000000000ULL)
		return 0;   /* rounded up to 11 digits: cannot happen below 9e9 */
	char *s = out_put_u64(p, ip);
	*s++ = '.';
	int digits = 7;
	while (digits > 1 && fp % 10 == 0) {
		fp /= 10;
		digits--;
	}
	for (int i = digits - 1; i >= 0; i--, fp /= 10)
		s[i] = (char)('0' + fp % 10);
	return (size_t)(s + digits - p);
}

/* Append literal key text and a signed integer as json_integer prints it. */
static void add_int(char **p, const char *key, size_t klen, int64_t v)
{
	memcpy(*p, key, klen);
	*p = out_put_i64(*p + klen, v);
}

#define KEY(s) s, sizeof s - 1

static int json_event(void *state, const struct gt_event *ev)
{
	struct json_state *s = state;
	if (!ev->reported)   /* not printed; it may end a batch all the same */
		return ev->more || fflush(s->f) != EOF ? 0 : -1;
	struct out_buf *b = &s->buf;
	b->len = 0;
	/* the keys in the order the jansson tree had them (insertion order) */
	if (out_buf_reserve(b, 256) < 0)
		return -1;
	char *p = b->p;
	add_int(&p, KEY("{\"seq\":"), (int64_t)ev->seq);
	memcpy(p, ",\"time\":", 8);
	p += 8;
	double t = (double)(ev->time_ns / 1000) / 1e6;
	size_t tl = fmt_time(p, t);
	b->len = (size_t)(p + tl - b->p);
	if ((tl == 0 && (json_real_set(s->time, t) != 0 || add_dump(b, s->time) < 0)) ||
	    out_buf_reserve(b, 192) < 0)
		return -1;
	p = b->p + b->len;
	add_int(&p, KEY(",\"pid\":"), ev->pid);
	add_int(&p, KEY(",\"tid\":"), ev->tid);
	add_int(&p, KEY(",\"goid\":"), ev->goid);
	add_int(&p, KEY(",\"old\":"), (int64_t)ev->old_size);
	add_int(&p, KEY(",\"new\":"), (int64_t)ev->new_size);
	memcpy(p, ",\"frames\":[", 11);
	b->len = (size_t)(p + 11 - b->p);
	for (int i = 0; i < ev->nframes; i++)
		if ((i > 0 && out_buf_add(b, ",", 1) < 0) || add_frame(s, &ev->frames[i]) < 0)
			return -1;
	if (out_buf_add(b, "]}\n", 3) < 0 || fwrite(b->p, 1, b->len, s->f) != b->len)
		return -1;
	/* within a batch (ev->more) the batch's last event flushes */
	return !ev->more && fflush(s->f) == EOF ? -1 : 0;
}

static int json_finish(void *state, const struct gt_stats *st)
{
	(void)st;
	struct json_state *s = state;
	return fflush(s->f) == EOF ? -1 : 0;
}

static void json_destroy(void *state)
{
	struct json_state *s = state;
	if (s == NULL)
		return;
	out_fcache_free(s->cache);
	out_buf_free(&s->buf);
	json_decref(s->time);
	free(s);
}

int out_json_new(FILE *f, struct out_sink *out)
{
	struct json_state *s = calloc(1, sizeof *s);
	if (s == NULL)
		return -1;
	s->f = f;
	s->time = json_real(0);
	if (s->time == NULL) {
		free(s);
		return -1;
	}
	s->cache = out_fcache_new();  /* optional: NULL only costs speed */
	out->name = "json";
	out->state = s;
	out->event = json_event;
	out->finish = json_finish;
	out->destroy = json_destroy;
	return 0;
}
