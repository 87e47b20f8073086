/* ana_out.c — unit tests of gotap's output sinks (analyzer/out_*.c): the
 * seed's text format byte for byte, JSON Lines that jansson parses back with
 * every field, folded stacks aggregated root first with counts that add up,
 * --every's unreported events ignored by the per-event sinks but counted by
 * the summary, and the summary's top sites.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "out.h"

static const struct gort_frame frames_a[] = {
	{ 0x4827a4, "main.say", 0xa4, 0xd0, "/src/example.go", 9, "/src/example", false },
	{ 0x44ecb1, "runtime.goexit", 0x1, 0x10, "/usr/lib/go/src/runtime/asm_amd64.s", 2362, "/src/example", false },
};
static const struct gort_frame frames_b[] = {
	{ 0x401000, NULL, 0, 0, NULL, 0, "/src/example", false },
	{ 0x4827a4, "main.say", 0xa4, 0xd0, "/src/example.go", 9, "/src/example", false },
	{ 0x44ecb1, "runtime.goexit", 0x1, 0x10, "/usr/lib/go/src/runtime/asm_amd64.s", 2362, "/src/example", false },
};

static struct gt_event ev(uint64_t seq, const struct gort_frame *fr, int n, bool reported)
{
	struct gt_event e;
	memset(&e, 0, sizeof e);
	e.seq = seq;
	e.time_ns = 1764159300123456789LL;
	e.pid = 41;
	e.tid = 42;
	e.goid = 18;
	e.old_size = 2048;
	e.new_size = 4096;
	e.used = 600;
	e.reported = reported;
	e.site = fr[0];
	e.frames = reported ? fr : NULL;
	e.nframes = reported ? n : 0;
	return e;
}

/* Run events through a sink writing to a memory buffer; returns the text. */
static char *run(int (*mk)(FILE *, struct out_sink *), const struct gt_event *evs, int n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct out_sink s;
	struct gt_stats st = { .growths = (uint64_t)n };
	if (!f || mk(f, &s) != 0)
		return NULL;
	for (int i = 0; i < n; i++)
		if (s.event(s.state, &evs[i]) != 0)
			return NULL;
	if (s.finish(s.state, &st) != 0)
		return NULL;
	s.destroy(s.state);
	fclose(f);
	return buf;
}

static int summary10(FILE *f, struct out_sink *s) { return out_summary_new(f, 10, s); }

int main(void)
{
	struct gt_event evs[4] = {
		ev(1, frames_a, 2, true), ev(2, frames_b, 3, true),
		ev(3, frames_a, 2, false), ev(4, frames_a, 2, true),
	};

	char *t = run(out_text_new, evs, 2);
	const char *want =
		"runtime: newstack: 2048 -> 4096 (goroutine 18)\n"
		" 0x4827a4 : main.say+0xa4/0xd0 at /src/example.go:9 [/src/example]\n"
		" 0x44ecb1 : runtime.goexit+0x1/0x10 at /usr/lib/go/src/runtime/asm_amd64.s:2362 [/src/example]\n"
		"runtime: newstack: 2048 -> 4096 (goroutine 18)\n"
		" 0x401000 : ?? [/src/example]\n"
		" 0x4827a4 : main.say+0xa4/0xd0 at /src/example.go:9 [/src/example]\n"
		" 0x44ecb1 : runtime.goexit+0x1/0x10 at /usr/lib/go/src/runtime/asm_amd64.s:2362 [/src/example]\n";
	CHECK("out.text_seed_format", t && strcmp(t, want) == 0);
	if (t && strcmp(t, want) != 0)
		fputs(t, stdout);
	free(t);

	t = run(out_text_new, evs, 4);
	int headers = 0;
	for (char *p = t; p && (p = strstr(p, "runtime: newstack")); p++)
		headers++;
	CHECK("out.text_skips_unreported", headers == 3);
	free(t);

	t = run(out_json_new, evs, 4);
	int lines = 0, good = 0;
	for (char *line = t ? strtok(t, "\n") : NULL; line; line = strtok(NULL, "\n")) {
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);
		lines++;
		if (!o)
			continue;
		json_t *fr = json_object_get(o, "frames");
		bool ok = json_integer_value(json_object_get(o, "old")) == 2048 &&
			  json_integer_value(json_object_get(o, "new")) == 4096 &&
			  json_integer_value(json_object_get(o, "goid")) == 18 &&
			  json_integer_value(json_object_get(o, "pid")) == 41 &&
			  json_integer_value(json_object_get(o, "tid")) == 42 &&
			  json_is_real(json_object_get(o, "time")) && json_is_array(fr) &&
			  json_array_size(fr) >= 2;
		for (size_t i = 0; ok && i < json_array_size(fr); i++) {
			json_t *f = json_array_get(fr, i);
			const char *k[] = { "pc", "func", "off", "size", "file", "line", "module" };
			for (size_t j = 0; j < 7; j++)
				ok = ok && json_object_get(f, k[j]) != NULL;
		}
		good += ok;
		json_decref(o);
	}
	CHECK("out.json_lines_parse", lines == 3 && good == 3);
	free(t);

	t = run(out_folded_new, evs, 4);
	const char *wantf =
		"runtime.goexit;main.say 2\n"
		"runtime.goexit;main.say;0x401000 1\n";
	CHECK("out.folded_root_first_counts", t && strcmp(t, wantf) == 0);
	if (t && strcmp(t, wantf) != 0)
		fputs(t, stdout);
	free(t);

	t = run(summary10, evs, 4);
	CHECK("out.summary_counts_all", t && strstr(t, "4 stack growths") != NULL);
	/* the site is each event's own first frame: 3 x main.say, 1 x an unknown pc */
	CHECK("out.summary_top_site", t && strstr(t, "  3         1800  main.say at /src/example.go:9\n") != NULL &&
	      strstr(t, "  1          600  0x401000\n") != NULL);
	if (t && !strstr(t, "1800  main.say at"))
		fputs(t, stdout);
	free(t);
	return check_done();
}
