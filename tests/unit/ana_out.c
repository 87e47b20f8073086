/* ana_out.c — unit tests of gotap's output sinks (analyzer/out_*.c): the
 * seed's text format byte for byte, JSON Lines that jansson parses back with
 * every field, folded stacks aggregated root first with counts that add up,
 * --every's unreported events ignored by the per-event sinks but counted by
 * the summary, and the summary's top sites.  The JSON bytes are pinned down
 * too (they were json_dumpf of a whole jansson tree; frames now come from a
 * per-frame cache), and folded stacks counted by function pointer still add
 * up by name.
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

/* Strings jansson must escape, a frame without a symbol or a line, an
 * inlined one. */
static const struct gort_frame frames_c[] = {
	{ 0x4827a4, "main.say", 0xa4, 0xd0, "/src/ex \"q\"\\\t.go", 9, "/src/example", false },
	{ 0x4827a4, "main.inl\u00e9", 0, 0, "/src/example.go", 12, NULL, true },
	{ 0x401000, NULL, 0, 0, NULL, 0, "/src/example", false },
};

/* Two functions of the same name at different addresses (different
 * pointers): one folded line. */
static char say_copy[] = "main.say";
static const struct gort_frame frames_d[] = {
	{ 0x482700, say_copy, 0x10, 0xd0, "/src/example.go", 7, "/src/example", false },
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

	/* byte for byte, twice: the second event's frames come from the cache */
	struct gt_event evc[2] = { ev(7, frames_c, 3, true), ev(8, frames_c, 3, true) };
	evc[0].goid = -1;
	evc[0].time_ns = 1764159300123456789LL;
	evc[1].time_ns = 0;
	evc[1].old_size = 1ULL << 40;
	t = run(out_json_new, evc, 2);
	const char *fj =
		"[{\"pc\":4728740,\"func\":\"main.say\",\"off\":164,\"size\":208,"
		"\"file\":\"/src/ex \\\"q\\\"\\\\\\t.go\",\"line\":9,\"module\":\"/src/example\",\"inlined\":false},"
		"{\"pc\":4728740,\"func\":\"main.inl\u00e9\",\"off\":0,\"size\":0,"
		"\"file\":\"/src/example.go\",\"line\":12,\"module\":null,\"inlined\":true},"
		"{\"pc\":4198400,\"func\":null,\"off\":0,\"size\":0,"
		"\"file\":null,\"line\":0,\"module\":\"/src/example\",\"inlined\":false}]}\n";
	char wantj[2048];
	snprintf(wantj, sizeof wantj,
		 "{\"seq\":7,\"time\":1764159300.123456,\"pid\":41,\"tid\":42,\"goid\":-1,"
		 "\"old\":2048,\"new\":4096,\"frames\":%s"
		 "{\"seq\":8,\"time\":0.0,\"pid\":41,\"tid\":42,\"goid\":18,"
		 "\"old\":1099511627776,\"new\":4096,\"frames\":%s", fj, fj);
	CHECK("out.json_exact_bytes", t && strcmp(t, wantj) == 0);
	if (t && strcmp(t, wantj) != 0)
		fputs(t, stdout);
	free(t);

	/* "time" as jansson formats a real, over the clock's range and past
	 * its ends (where jansson itself formats it): 300,000 values */
	{
		enum { NT = 300000 };
		struct gt_event *et = calloc(NT, sizeof *et);
		uint64_t x = 88172645463325252ULL;
		for (int i = 0; et && i < NT; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			int64_t ns;
			switch (i % 6) {
			case 0: ns = (int64_t)(x % 9000000000000000000ULL); break;          /* 0 .. 2255 */
			case 1: ns = 1000000000000000000LL + (int64_t)(x % 1000000000000ULL); break;  /* near 1e9 s */
			case 2: ns = 9000000000000000000LL - (int64_t)(x % 1000000000000ULL); break;  /* near 9e9 s */
			case 3: ns = 1764159300000000000LL + (int64_t)(x % 100000000000ULL) * 1000; break;
			case 4: ns = (int64_t)(x % 1000000000000000ULL); break;             /* small */
			default: ns = (int64_t)(x >> 1); break;                          /* anything */
			}
			et[i] = ev((uint64_t)i + 1, frames_a, 0, true);
			et[i].time_ns = ns;
		}
		t = et ? run(out_json_new, et, NT) : NULL;
		int seen = 0, same = 0;
		char *line = t, *end = t ? t + strlen(t) : NULL;
		/* bounded searches: ASan's strstr measures the whole 40 MB text each call */
		for (int i = 0; line && i < NT; i++) {
			char *nl = memchr(line, '\n', (size_t)(end - line));
			char *tp = nl ? memmem(line, (size_t)(nl - line), "\"time\":", 7) : NULL;
			if (!tp)
				break;
			tp += 7;
			char *te = memchr(tp, ',', (size_t)(nl - tp));
			json_t *r = json_real((double)(et[i].time_ns / 1000) / 1e6);
			char *want = r ? json_dumps(r, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
			seen++;
			if (want && te && (size_t)(te - tp) == strlen(want) && memcmp(tp, want, strlen(want)) == 0)
				same++;
			else if (same + 5 > seen)
				printf("  time %lld: got %.*s want %s\n", (long long)et[i].time_ns,
				       te ? (int)(te - tp) : 0, tp, want ? want : "?");
			free(want);
			json_decref(r);
			line = nl + 1;
		}
		CHECK("out.json_time_as_jansson_prints_it", seen == NT && same == NT);
		free(t);
		free(et);
	}

	struct gt_event evd[3] = { ev(1, frames_a, 2, true), ev(2, frames_d, 2, true), ev(3, frames_d, 2, true) };
	t = run(out_folded_new, evd, 3);
	CHECK("out.folded_same_name_one_line", t && strcmp(t, "runtime.goexit;main.say 3\n") == 0);
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
