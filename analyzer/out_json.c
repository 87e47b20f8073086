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
 * and only "time" still goes through jansson's real formatting; the event
 * is assembled in one buffer and leaves with one fwrite.  The bytes are
 * those json_dumpf(JSON_COMPACT) wrote for the whole tree.
 */
#include <jansson.h>
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
	b->len = (size_t)(p + 8 - b->p);
	if (json_real_set(s->time, (double)(ev->time_ns / 1000) / 1e6) != 0 || add_dump(b, s->time) < 0 ||
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
