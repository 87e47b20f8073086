/* out_json.c — JSON Lines: one object per reported growth, built with
 * jansson so strings are always escaped correctly:
 *
 *   {"seq":1,"time":1764159300.123456,"pid":41,"tid":41,"goid":18,
 *    "old":2048,"new":4096,"frames":[{"pc":4728740,"func":"main.say",
 *    "off":164,"size":208,"file":"/src/example.go","line":9,
 *    "module":"/src/example","inlined":false}, ...]}
 *
 * Unknown values are null (func, file, module) or 0 (line).  "inlined"
 * marks a call the compiler inlined into the next frame (off, size 0).  time is the
 * wall clock in seconds since the epoch with microsecond precision.
 */
#include <jansson.h>
#include <stdio.h>

#include "out.h"

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

static int json_event(void *state, const struct gt_event *ev)
{
	FILE *f = state;
	if (!ev->reported)   /* not printed; it may end a batch all the same */
		return ev->more || fflush(f) != EOF ? 0 : -1;
	json_t *o = json_object(), *frames = json_array();
	int bad = (o == NULL || frames == NULL);
	if (!bad) {
		put(o, "seq", json_integer((json_int_t)ev->seq), &bad);
		put(o, "time", json_real((double)(ev->time_ns / 1000) / 1e6), &bad);
		put(o, "pid", json_integer(ev->pid), &bad);
		put(o, "tid", json_integer(ev->tid), &bad);
		put(o, "goid", json_integer(ev->goid), &bad);
		put(o, "old", json_integer((json_int_t)ev->old_size), &bad);
		put(o, "new", json_integer((json_int_t)ev->new_size), &bad);
		for (int i = 0; i < ev->nframes && !bad; i++) {
			json_t *fj = frame_json(&ev->frames[i]);
			if (fj == NULL || json_array_append_new(frames, fj) != 0)
				bad = 1;
		}
		if (!bad) {
			bad = json_object_set_new(o, "frames", frames) != 0;
			frames = NULL; /* owned by o now (or freed on failure) */
		}
	}
	int rc = -1;
	if (!bad && json_dumpf(o, f, JSON_COMPACT) == 0 && fputc('\n', f) != EOF &&
	    (ev->more || fflush(f) != EOF))
		rc = 0;
	json_decref(frames);
	json_decref(o);
	return rc;
}

static int json_finish(void *state, const struct gt_stats *st)
{
	(void)st;
	return fflush((FILE *)state) == EOF ? -1 : 0;
}

static void json_destroy(void *state)
{
	(void)state;
}

int out_json_new(FILE *f, struct out_sink *out)
{
	out->name = "json";
	out->state = f;
	out->event = json_event;
	out->finish = json_finish;
	out->destroy = json_destroy;
	return 0;
}
