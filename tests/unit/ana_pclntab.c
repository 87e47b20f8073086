/* ana_pclntab.c — gort without DWARF and without a symbol table: the
 * .gopclntab reader and everything built on it.
 *
 * 1. Synthetic tables in the four layouts (Go 1.2, 1.16, 1.18, 1.20), made
 *    here byte by byte: parse, function lookup, names, sizes, file:line,
 *    SP deltas; every truncation of each gives an error or a right answer.
 *    (`ana_pclntab --write-seeds DIR` writes them as fuzz seeds.)
 * 2. The same Go program built three ways — plain, -ldflags=-w,
 *    -ldflags='-s -w' — into $GOTAP_BUILD/targets, plus the -s -w build
 *    with its section headers removed (pclntab and build info found by
 *    scanning) and a -s -w PIE: gort_open, gort_source, version, probes and
 *    runtime layout agree; symbolization of two pcs in every function
 *    agrees with `go tool addr2line`; on the plain build the DWARF path and
 *    the pclntab path give the same frame for those pcs.
 * 3. Live: each build traced with ptrace at gort's runtime.newstack probe
 *    (GOMAXPROCS=1 GOGC=off); every growth event unwound: all builds give
 *    the same frames (function, file, line) event for event; on the plain
 *    build the pclntab unwinder (SP deltas) gives the same pcs and SPs as
 *    the CFI one and the pclntab symbolization the same frames as DWARF;
 *    every frame agrees with `go tool addr2line` (not for the PIE: go1.19's
 *    addr2line cannot read PIEs).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/gort_test.h"
#include "gort.h"
#include "gort_int.h"
#include "gort_pcln.h"

/* ---------------------------------------------------------------- 1 --- */

/* A byte buffer the synthetic tables are written into. */
struct buf {
	uint8_t b[4096];
	size_t n;
};

static size_t put(struct buf *w, const void *p, size_t len)
{
	size_t at = w->n;

	memcpy(w->b + w->n, p, len);
	w->n += len;
	return at;
}

static size_t put32(struct buf *w, uint32_t v) { return put(w, &v, 4); }
static size_t put64(struct buf *w, uint64_t v) { return put(w, &v, 8); }
static void set32(struct buf *w, size_t at, uint32_t v) { memcpy(w->b + at, &v, 4); }
static void set64(struct buf *w, size_t at, uint64_t v) { memcpy(w->b + at, &v, 8); }
static void align(struct buf *w, size_t a) { while (w->n % a) w->b[w->n++] = 0; }

/* pc-value table bytes (value deltas zigzag, pc deltas): built by hand. */
static size_t put_pcvalue(struct buf *w, const int32_t *vals, const uint32_t *pcs, int n)
{
	size_t at = w->n;
	int32_t prev = -1;

	for (int i = 0; i < n; i++) {
		int32_t d = vals[i] - prev;
		uint32_t z = (uint32_t)((d << 1) ^ (d >> 31)), p = pcs[i];

		do { w->b[w->n++] = (uint8_t)((z & 0x7f) | (z > 0x7f ? 0x80 : 0)); z >>= 7; } while (z);
		do { w->b[w->n++] = (uint8_t)((p & 0x7f) | (p > 0x7f ? 0x80 : 0)); p >>= 7; } while (p);
		prev = vals[i];
	}
	w->b[w->n++] = 0;
	return at;
}

#define TEXT 0x401000ULL
/* Two functions: main.f at TEXT (0x40 bytes, SP delta 0 for 4 bytes then
 * 0x18; line 10 for 8 bytes, then 11, in a.go), main.g at TEXT+0x40 (0x200
 * bytes: SP delta 0 for 5 bytes, then 0x28; line 20 in a.go, then 21 in
 * b.go from +0x100). */
static void make_table(struct buf *w, enum gort_pcln_ver ver)
{
	static const int32_t f_sp[] = { 0, 0x18 }, f_file[] = { 0 }, f_line[] = { 10, 11 };
	static const uint32_t f_sp_pc[] = { 4, 0x3c }, f_file_pc[] = { 0x40 }, f_line_pc[] = { 8, 0x38 };
	static const int32_t g_sp[] = { 0, 0x28 }, g_file[] = { 0, 1 }, g_line[] = { 20, 21 };
	static const uint32_t g_sp_pc[] = { 5, 0x1fb }, g_file_pc[] = { 0x100, 0x100 },
		g_line_pc[] = { 0x100, 0x100 };
	uint32_t magic = ver == GORT_PCLN_12 ? 0xfffffffb : ver == GORT_PCLN_116 ? 0xfffffffa :
			 ver == GORT_PCLN_118 ? 0xfffffff0 : 0xfffffff1;
	bool new_ = ver >= GORT_PCLN_118;
	size_t hdr_words = new_ ? 8 : 7, names, ftab, cutab, filetab, pctab, fn[2], fa, fb, nameoff[2];
	size_t sp[2], fl[2], ln[2];

	memset(w, 0, sizeof *w);
	put32(w, magic);
	w->b[w->n++] = 0; w->b[w->n++] = 0; w->b[w->n++] = 1; w->b[w->n++] = 8;
	if (ver == GORT_PCLN_12) {
		/* 1.2: nfunc, functab {entry, off} x 3, u32 filetab offset, then
		 * the _funcs, names, files and pc tables (offsets from start). */
		put64(w, 2);
		ftab = w->n;
		for (int i = 0; i < 5; i++)
			put64(w, 0);
		size_t fileoff_at = put32(w, 0);

		align(w, 8);
		names = w->n;
		nameoff[0] = put(w, "main.f", 7);
		nameoff[1] = put(w, "main.g", 7);
		fa = put(w, "/src/a.go", 10);
		fb = put(w, "/src/b.go", 10);
		sp[0] = put_pcvalue(w, f_sp, f_sp_pc, 2);
		{	/* 1.2 file numbers are global and start at 1 */
			static const int32_t f_file12[] = { 1 }, g_file12[] = { 1, 2 };

			fl[0] = put_pcvalue(w, f_file12, f_file_pc, 1);
			ln[0] = put_pcvalue(w, f_line, f_line_pc, 2);
			sp[1] = put_pcvalue(w, g_sp, g_sp_pc, 2);
			fl[1] = put_pcvalue(w, g_file12, g_file_pc, 2);
		}
		ln[1] = put_pcvalue(w, g_line, g_line_pc, 2);
		align(w, 8);
		for (int i = 0; i < 2; i++) {
			fn[i] = put64(w, TEXT + (i ? 0x40 : 0));
			put32(w, (uint32_t)nameoff[i]);
			put32(w, 0); put32(w, 0);
			put32(w, (uint32_t)sp[i]); put32(w, (uint32_t)fl[i]); put32(w, (uint32_t)ln[i]);
			put32(w, 0); put32(w, 0);
		}
		filetab = put32(w, 3);
		put32(w, (uint32_t)fa); put32(w, (uint32_t)fb);   /* [0] is the count */
		set32(w, fileoff_at, (uint32_t)filetab);
		set64(w, ftab, TEXT); set64(w, ftab + 8, fn[0]);
		set64(w, ftab + 16, TEXT + 0x40); set64(w, ftab + 24, fn[1]);
		set64(w, ftab + 32, TEXT + 0x240);
		(void)names;
		return;
	}
	size_t words = w->n;

	for (size_t i = 0; i < hdr_words; i++)
		put64(w, 0);
	names = w->n;
	nameoff[0] = put(w, "main.f", 7) - names;
	nameoff[1] = put(w, "main.g", 7) - names;
	align(w, 4);
	cutab = put32(w, 0);        /* CU 0: file 0 -> "a.go" at 0, file 1 -> "b.go" */
	put32(w, 10);
	filetab = put(w, "/src/a.go", 10);
	put(w, "/src/b.go", 10);
	pctab = w->n;
	w->b[w->n++] = 0;           /* offset 0 means "no table" */
	sp[0] = put_pcvalue(w, f_sp, f_sp_pc, 2) - pctab;
	fl[0] = put_pcvalue(w, f_file, f_file_pc, 1) - pctab;
	ln[0] = put_pcvalue(w, f_line, f_line_pc, 2) - pctab;
	sp[1] = put_pcvalue(w, g_sp, g_sp_pc, 2) - pctab;
	fl[1] = put_pcvalue(w, g_file, g_file_pc, 2) - pctab;
	ln[1] = put_pcvalue(w, g_line, g_line_pc, 2) - pctab;
	align(w, 8);
	ftab = w->n;
	for (int i = 0; i < 3; i++) {
		uint64_t pc = i == 0 ? 0 : i == 1 ? 0x40 : 0x240;

		if (new_) {
			put32(w, (uint32_t)pc);
			put32(w, 0);
		} else {
			put64(w, TEXT + pc);
			put64(w, 0);
		}
	}
	w->n -= new_ ? 4 : 8;       /* the end entry has no func offset */
	align(w, 8);
	for (int i = 0; i < 2; i++) {
		fn[i] = w->n;
		if (new_)
			put32(w, i ? 0x40 : 0);
		else
			put64(w, TEXT + (i ? 0x40 : 0));
		put32(w, (uint32_t)nameoff[i]);
		put32(w, 0); put32(w, 0);
		put32(w, (uint32_t)sp[i]); put32(w, (uint32_t)fl[i]); put32(w, (uint32_t)ln[i]);
		put32(w, 0); put32(w, 0);         /* npcdata, cuOffset */
		put32(w, 0);                      /* 1.20 startLine / funcID... */
		if (new_)
			set32(w, ftab + 4 + 8 * (size_t)i, (uint32_t)(fn[i] - ftab));
		else
			set64(w, ftab + 8 + 16 * (size_t)i, fn[i] - ftab);
	}
	{
		uint64_t hv[8];
		size_t k = 0;

		hv[k++] = 2;
		hv[k++] = 2;
		if (new_)
			hv[k++] = TEXT;
		hv[k++] = names;
		hv[k++] = cutab;
		hv[k++] = filetab;
		hv[k++] = pctab;
		hv[k++] = ftab;
		for (size_t i = 0; i < k; i++)
			set64(w, words + 8 * i, hv[i]);
	}
}

/* Answers a correct reader gives for the synthetic table (or an error). */
static bool answers_right(const struct gort_pcln *t, bool must)
{
	static const struct { uint64_t pc; const char *fn, *file; int line; int32_t sp; } q[] = {
		{ TEXT, "main.f", "/src/a.go", 10, 0 },
		{ TEXT + 4, "main.f", "/src/a.go", 10, 0x18 },
		{ TEXT + 8, "main.f", "/src/a.go", 11, 0x18 },
		{ TEXT + 0x3f, "main.f", "/src/a.go", 11, 0x18 },
		{ TEXT + 0x40, "main.g", "/src/a.go", 20, 0 },
		{ TEXT + 0x45, "main.g", "/src/a.go", 20, 0x28 },
		{ TEXT + 0x140, "main.g", "/src/b.go", 21, 0x28 },
		{ TEXT + 0x23f, "main.g", "/src/b.go", 21, 0x28 },
	};
	struct gort_pcln_func f;
	bool ok = true;

	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		const char *file = NULL;
		int line = 0;
		int32_t sp = -5;
		uint64_t size = 0;
		int r1 = gort_pcln_func_at(t, q[i].pc, &f);

		if (r1 != 0) {
			ok = ok && !must;
			continue;
		}
		int r2 = gort_pcln_line(t, &f, q[i].pc, &file, &line);
		int r3 = gort_pcln_value(t, &f, GORT_PCLN_SP, q[i].pc, &sp);
		int r4 = gort_pcln_size(t, &f, &size);

		/* Whatever is answered must be right; with must, all of it. */
		if (f.name && strcmp(f.name, q[i].fn))
			ok = false;
		if (r2 == 0 && (strcmp(file, q[i].file) || line != q[i].line))
			ok = false;
		if (r3 == 0 && sp != q[i].sp)
			ok = false;
		if (r4 == 0 && size != (f.entry == TEXT ? 0x40u : 0x200u))
			ok = false;
		if (must && (!f.name || r2 || r3 || r4))
			ok = false;
		if (must && getenv("PCLN_DEBUG"))
			printf("# q%zu: %s r %d %d %d file %s:%d sp %d size %#" PRIx64 "\n", i, f.name, r2, r3,
			       r4, file ? file : "-", line, sp, size);
	}
	if (must && (gort_pcln_func_at(t, TEXT - 1, &f) == 0 || gort_pcln_func_at(t, TEXT + 0x240, &f) == 0))
		ok = false;
	return ok;
}

static const char *ver_name(enum gort_pcln_ver v)
{
	return v == GORT_PCLN_12 ? "go1.2" : v == GORT_PCLN_116 ? "go1.16" :
	       v == GORT_PCLN_118 ? "go1.18" : "go1.20";
}

static void test_synthetic(void)
{
	static struct buf w;
	char name[128], err[160];

	for (enum gort_pcln_ver v = GORT_PCLN_12; v <= GORT_PCLN_120; v++) {
		struct gort_pcln t;
		struct gort_pcln_func f;
		bool trunc_ok = true, flip_ok = true;
		uint8_t *copy;

		make_table(&w, v);
		snprintf(name, sizeof name, "synthetic %s table: parses, layout recognised", ver_name(v));
		CHECK(name, gort_pcln_parse(&t, w.b, w.n, 0, err, sizeof err) == 0 && t.ver == v &&
		      t.nfunc == 2);
		snprintf(name, sizeof name, "synthetic %s table: functions, names, sizes, "
			 "file:line, SP deltas", ver_name(v));
		CHECK(name, answers_right(&t, true));
		snprintf(name, sizeof name, "synthetic %s table: lookup by name", ver_name(v));
		CHECK(name, gort_pcln_by_name(&t, "main.g", 0, &f) == 0 && f.entry == TEXT + 0x40 &&
		      gort_pcln_by_name(&t, "main.g", 1, &f) != 0 &&
		      gort_pcln_by_name(&t, "main.h", 0, &f) != 0);
		/* Every truncation: an error, or only right answers.  Each copy
		 * is exactly n bytes on the heap, so ASan sees any overread. */
		for (size_t n = 0; n < w.n; n++) {
			copy = malloc(n ? n : 1);
			if (!copy)
				break;
			memcpy(copy, w.b, n);
			if (gort_pcln_parse(&t, copy, n, 0, NULL, 0) == 0 && !answers_right(&t, false))
				trunc_ok = false;
			free(copy);
		}
		snprintf(name, sizeof name, "synthetic %s table: every truncation -> error or right "
			 "answers", ver_name(v));
		CHECK(name, trunc_ok);
		/* Every single byte set to 0xff: no crash (ASan), lookups bounded. */
		copy = malloc(w.n);
		for (size_t i = 0; copy && i < w.n; i++) {
			memcpy(copy, w.b, w.n);
			copy[i] = 0xff;
			if (gort_pcln_parse(&t, copy, w.n, 0, NULL, 0) == 0) {
				const char *file;
				int line;
				int32_t sp;

				for (uint64_t pc = TEXT - 2; pc < TEXT + 0x244; pc += 3)
					if (gort_pcln_func_at(&t, pc, &f) == 0) {
						(void)gort_pcln_line(&t, &f, pc, &file, &line);
						(void)gort_pcln_value(&t, &f, GORT_PCLN_SP, pc, &sp);
					}
			}
		}
		free(copy);
		snprintf(name, sizeof name, "synthetic %s table: every byte corrupted -> no crash",
			 ver_name(v));
		CHECK(name, flip_ok);
	}
	/* Found by its header inside other bytes (a binary without sections). */
	{
		static uint8_t hay[8192];
		struct gort_pcln t;
		long at;

		make_table(&w, GORT_PCLN_118);
		memset(hay, 0, sizeof hay);
		memcpy(hay + 100, "\xf0\xff\xff\xff\x00\x00\x01\x08", 8);   /* a decoy header */
		memcpy(hay + 1000, w.b, w.n);
		at = gort_pcln_scan(hay, sizeof hay, 0, 0);
		CHECK("scan: finds the table by its header, skipping a decoy", at == 1000 &&
		      gort_pcln_parse(&t, hay + at, sizeof hay - (size_t)at, 0, NULL, 0) == 0 &&
		      answers_right(&t, true));
	}
	/* Go 1.18+ with an unrelocated (zero) textStart: the hint is used. */
	{
		struct gort_pcln t;

		make_table(&w, GORT_PCLN_118);
		set64(&w, 8 + 16, 0);
		CHECK("go1.18 table with textStart 0: entries from the text hint",
		      gort_pcln_parse(&t, w.b, w.n, TEXT, NULL, 0) == 0 && answers_right(&t, true));
	}
	{
		struct gort_pcln t;
		uint8_t bad[64] = { 0xfe, 0xff, 0xff, 0xff, 0, 0, 1, 8 };

		CHECK("bad magic -> error naming it", gort_pcln_parse(&t, bad, sizeof bad, 0, err, sizeof err) != 0 &&
		      strstr(err, "bad magic"));
		CHECK("NULL table -> error", gort_pcln_parse(&t, NULL, 0, 0, err, sizeof err) != 0);
	}
}

static int write_seeds(const char *dir)
{
	static struct buf w;
	char path[PATH_MAX];

	for (enum gort_pcln_ver v = GORT_PCLN_12; v <= GORT_PCLN_120; v++) {
		FILE *f;

		make_table(&w, v);
		snprintf(path, sizeof path, "%s/synthetic_%s", dir, ver_name(v));
		if (!(f = fopen(path, "wb")) || fwrite(w.b, 1, w.n, f) != w.n || fclose(f) != 0)
			return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- 2 --- */

enum { PLAIN, NODWARF, STRIPPED, NOSHDR, PIE_SW, NBUILDS };
static const char *const build_name[NBUILDS] = { "plain", "-w", "-s -w", "no section headers",
						 "PIE -s -w" };
static char paths[NBUILDS][PATH_MAX];

/* Build tests/targets/go/gort_recurse.go with ldflags (as a PIE if pie) into
 * $GOTAP_BUILD/targets/NAME unless it is newer than the source. */
static int build_variant(const char *name, const char *ldflags, bool pie, char *out, size_t cap)
{
	const char *root = getenv("GOTAP_ROOT"), *build = getenv("GOTAP_BUILD");
	char rootabs[PATH_MAX], dir[PATH_MAX], src[PATH_MAX + 64], cmd[4 * PATH_MAX];
	struct stat ss, so;

	snprintf(dir, sizeof dir, "%s/targets", build ? build : "build");
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -1;
	if (!realpath(root ? root : ".", rootabs) || !realpath(dir, src))
		return -1;
	memcpy(dir, src, sizeof dir);
	snprintf(src, sizeof src, "%s/tests/targets/go/gort_recurse.go", rootabs);
	if (snprintf(out, cap, "%s/%s", dir, name) >= (int)cap)
		return -1;
	if (stat(out, &so) == 0 && stat(src, &ss) == 0 && so.st_mtime >= ss.st_mtime)
		return 0;
	if (snprintf(cmd, sizeof cmd, "cd '%s/tests/targets/go' && GOCACHE='%s/../gocache' GO111MODULE=off "
		     "GOFLAGS=-buildvcs=false go build %s -ldflags='%s' -o '%s' gort_recurse.go >&2",
		     rootabs, dir, pie ? "-buildmode=pie" : "", ldflags, out) >= (int)sizeof cmd)
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

/* Copy the -s -w build to out with its section headers gone (e_shoff,
 * e_shnum, e_shstrndx zeroed, as sstrip leaves a binary): pclntab and the
 * build info must then be found by scanning the segments. */
static int strip_sections(const char *from, const char *out)
{
	static uint8_t data[16 << 20];
	FILE *f = fopen(from, "rb");
	size_t n = f ? fread(data, 1, sizeof data, f) : 0;
	uint64_t zero8 = 0;
	uint16_t zero2 = 0;

	if (f)
		fclose(f);
	if (n < 64 || n == sizeof data)
		return -1;
	memcpy(data + 0x28, &zero8, 8);          /* e_shoff */
	memcpy(data + 0x3a, &zero2, 2);          /* e_shentsize */
	memcpy(data + 0x3c, &zero2, 2);          /* e_shnum */
	memcpy(data + 0x3e, &zero2, 2);          /* e_shstrndx */
	if (!(f = fopen(out, "wb")) || fwrite(data, 1, n, f) != n || fclose(f) != 0 ||
	    chmod(out, 0755) != 0)
		return -1;
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* pcs to check: one inside each function of the table (entry + size/2),
 * plus each entry.  Returns the count. */
static int pick_pcs(struct gort_bin *b, uint64_t *pcs, int max)
{
	int n = 0;

	for (uint32_t i = 0; i < b->pcln.nfunc && n + 2 <= max; i++) {
		struct gort_pcln_func f;
		uint64_t size;

		if (gort_pcln_func_i(&b->pcln, i, &f) != 0 || gort_pcln_size(&b->pcln, &f, &size) != 0)
			continue;
		pcs[n++] = f.entry;
		pcs[n++] = f.entry + size / 2;
	}
	return n;
}

/* Compare gort_symbolize at each pc (not a return address) with `go tool
 * addr2line`.  Names the linker abbreviates in pclntab ("[...]" for array
 * lengths in generated type..eq functions) differ from the ELF symbol
 * table's by design: counted, not failed, when the symbol table is used. */
static void check_addr2line_all(struct gort_bin *b, const char *path, const char *what,
				const uint64_t *pcs, int n)
{
	char tmp[] = "/tmp/gort-pcln.XXXXXX", cmd[PATH_MAX + 128], *out, *save = NULL, *line;
	int fd = mkstemp(tmp), bad = 0, abbrev = 0, i;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	char name[160];

	snprintf(name, sizeof name, "%s: gort_symbolize == go tool addr2line at %d pcs "
		 "(2 in each function)", what, n);
	if (!f || !(out = malloc(4 << 20))) {
		SKIP(name, "no temp file");
		return;
	}
	for (i = 0; i < n; i++)
		fprintf(f, "0x%" PRIx64 "\n", pcs[i]);
	fclose(f);
	if (snprintf(cmd, sizeof cmd, "go tool addr2line '%s' < %s 2>/dev/null", path, tmp) >= (int)sizeof cmd ||
	    gt_run(cmd, out, 4 << 20) <= 0) {
		SKIP(name, "go tool addr2line did not run");
		free(out);
		unlink(tmp);
		return;
	}
	line = strtok_r(out, "\n", &save);
	for (i = 0; i < n && line; i++) {
		char *fl = strtok_r(NULL, "\n", &save), *colon = fl ? strrchr(fl, ':') : NULL;
		struct gort_frame fr;

		if (!colon)
			break;
		*colon = '\0';
		if (gort_symbolize(b, pcs[i], false, &fr) != 0 || !same_str(fr.file, fl) ||
		    fr.line != atoi(colon + 1)) {
			if (bad++ < 5)
				printf("# %s 0x%" PRIx64 ": addr2line %s %s:%s, gort %s %s:%d\n", what,
				       pcs[i], line, fl, colon + 1, fr.func ? fr.func : "-",
				       fr.file ? fr.file : "-", fr.line);
		} else if (strcmp(fr.func, line) != 0) {
			if (strstr(line, "[...]") && strchr(fr.func, '['))
				abbrev++;
			else if (bad++ < 5)
				printf("# %s 0x%" PRIx64 ": addr2line %s, gort %s\n", what, pcs[i], line,
				       fr.func);
		}
		line = strtok_r(NULL, "\n", &save);
	}
	printf("# %s: %d pcs, %d names abbreviated by pclntab (\"[...]\") where gort used the "
	       "symbol table\n", what, i, abbrev);
	CHECK(name, i == n && bad == 0);
	free(out);
	unlink(tmp);
}

/* On a binary with DWARF: the DWARF path (gort_symbolize) and the
 * pclntab path (gort_pcln_symbolize) give the same frame. */
static void check_dwarf_vs_pcln(struct gort_bin *b, const uint64_t *pcs, int n)
{
	int bad = 0, names = 0;

	for (int i = 0; i < n; i++)
		for (int r = 0; r < 2; r++) {
			struct gort_frame d, p;
			uint64_t pc = pcs[i] + (uint64_t)r;   /* r = 1: as a return address */

			if (gort_symbolize(b, pc, r == 1, &d) != 0 || gort_pcln_symbolize(b, pc, r == 1, &p) != 0 ||
			    d.off != p.off || d.size != p.size || !same_str(d.file, p.file) ||
			    d.line != p.line) {
				if (bad++ < 5)
					printf("# 0x%" PRIx64 "%s: DWARF %s+%#" PRIx64 "/%#" PRIx64 " %s:%d, "
					       "pclntab %s+%#" PRIx64 "/%#" PRIx64 " %s:%d\n", pc,
					       r ? " (ret)" : "", d.func, d.off, d.size, d.file, d.line, p.func,
					       p.off, p.size, p.file, p.line);
			} else if (strcmp(d.func, p.func) != 0) {
				if (strstr(p.func, "[...]"))
					names++;
				else if (bad++ < 5)
					printf("# 0x%" PRIx64 ": DWARF %s, pclntab %s\n", pc, d.func, p.func);
			}
		}
	printf("# DWARF vs pclntab: %d pcs x 2, %d names abbreviated in pclntab\n", n, names);
	CHECK("plain: DWARF and pclntab symbolization agree (func, off, size, file, line) at "
	      "every checked pc, as pc and as return address", bad == 0);
}

/* ---------------------------------------------------------------- 3 --- */

#define MAXF 1024
#define MAXEV 32

struct ev {
	uint64_t g, sched_sp;
	int n;
	char frames[MAXF][160];     /* "func file:line" */
	uint64_t pcs[MAXF];
};

struct live {
	struct gort_bin *bin;
	struct gort_layout l;
	struct gort_probes p;
	struct ev *ev;
	int nev, npre;
	bool unwinders_same, syms_same;
	int memfd;
	uint64_t bias;
};

/* AT_PHDR from /proc/PID/auxv, or 0. */
static uint64_t auxv_phdr(pid_t pid)
{
	char fn[64];
	uint64_t kv[2], phdr = 0;
	int fd;

	snprintf(fn, sizeof fn, "/proc/%d/auxv", (int)pid);
	fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (read(fd, kv, sizeof kv) == (ssize_t)sizeof kv && kv[0] != 0)
		if (kv[0] == 3)      /* AT_PHDR */
			phdr = kv[1];
	close(fd);
	return phdr;
}

static long rd_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return pread(*(int *)ctx, buf, len, (off_t)addr);
}

static int bp_insert(pid_t pid, uint64_t addr, long *orig)
{
	errno = 0;
	*orig = ptrace(PTRACE_PEEKTEXT, pid, (void *)addr, NULL);
	if (errno)
		return -1;
	return (int)ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)((*orig & ~0xffL) | 0xcc));
}

/* Step tid over the breakpoint at addr and put it back (see
 * ana_gort_live.c: a signal arriving instead of the step is kept). */
static int bp_step_over(pid_t tid, uint64_t addr, long orig, struct user_regs_struct *r, long *sig)
{
	int st;
	long o2;

	if (ptrace(PTRACE_POKETEXT, tid, (void *)addr, (void *)orig) != 0)
		return -1;
	r->rip = addr;
	if (ptrace(PTRACE_SETREGS, tid, NULL, r) != 0)
		return -1;
	for (int tries = 0;; tries++) {
		if (tries == 100 || ptrace(PTRACE_SINGLESTEP, tid, NULL, NULL) != 0 ||
		    waitpid(tid, &st, __WALL) != tid || !WIFSTOPPED(st))
			return -1;
		if (WSTOPSIG(st) == SIGTRAP)
			break;
		*sig = WSTOPSIG(st);
	}
	return bp_insert(tid, addr, &o2);
}

static void on_hit(struct live *lv, const struct user_regs_struct *r)
{
	struct gort_growth gg;
	static struct gort_frame fr[MAXF], alt[MAXF];
	static uint64_t sps[MAXF], asps[MAXF];
	char err[256];
	struct ev *e;
	int n;

	if (gort_read_growth(&lv->l, rd_mem, &lv->memfd, r->r14, r->fs_base, &gg, err, sizeof err) != 0) {
		printf("# read_growth: %s\n", err);
		return;
	}
	if (gg.preempt) {
		lv->npre++;
		return;
	}
	/* A hit that sysmon turned into a preemption comes back with the
	 * same g and sched.sp: one event. */
	if (lv->nev > 0 && lv->ev[lv->nev - 1].g == gg.g && lv->ev[lv->nev - 1].sched_sp == gg.sched_sp)
		return;
	if (lv->nev == MAXEV)
		return;
	e = &lv->ev[lv->nev++];
	e->g = gg.g;
	e->sched_sp = gg.sched_sp;
	n = gort_unwind_sp(lv->bin, rd_mem, &lv->memfd, gg.sched_pc, gg.sched_sp, gg.sched_bp, fr, sps, MAXF);
	e->n = n;
	for (int i = 0; i < n; i++) {
		snprintf(e->frames[i], sizeof e->frames[i], "%s %s:%d", fr[i].func ? fr[i].func : "?",
			 fr[i].file ? fr[i].file : "?", fr[i].line);
		e->pcs[i] = fr[i].pc;
	}
	if (lv->bin->has_dwarf) {
		/* The pclntab unwinder alone: the same pcs and SPs.  And each
		 * frame symbolized from pclntab alone: the same frame. */
		int m = gort_unwind_mode(lv->bin, rd_mem, &lv->memfd, gg.sched_pc, gg.sched_sp,
					 gg.sched_bp, alt, asps, MAXF, GORT_UW_PCLN);

		if (m != n)
			lv->unwinders_same = false;
		for (int i = 0; i < n && i < m; i++) {
			struct gort_frame p;

			if (alt[i].pc != fr[i].pc || asps[i] != sps[i])
				lv->unwinders_same = false;
			if (gort_pcln_symbolize(lv->bin, fr[i].pc, !(i == 0 && fr[0].off == 0), &p) != 0 ||
			    !same_str(p.func, fr[i].func) || !same_str(p.file, fr[i].file) ||
			    p.line != fr[i].line || p.off != fr[i].off || p.size != fr[i].size) {
				if (lv->syms_same)
					printf("# frame %d: DWARF %s, pclntab %s %s:%d\n", i, e->frames[i],
					       p.func ? p.func : "?", p.file ? p.file : "?", p.line);
				lv->syms_same = false;
			}
		}
	}
}

/* Trace path to its exit with a breakpoint at gort's newstack probe. */
static int trace(const char *path, struct live *lv)
{
	char memp[64], err[256] = "";
	int st;
	long orig;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(null, STDOUT_FILENO) < 0 || ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0 ||
		    setenv("GOMAXPROCS", "1", 1) != 0 || setenv("GOGC", "off", 1) != 0)
			_exit(126);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st))
		goto fail;
	/* The load bias from AT_PHDR: 0 for fixed-address executables. */
	if (gort_pie_bias(path, auxv_phdr(pid), &lv->bias, err, sizeof err) != 0 ||
	    !(lv->bin = gort_open(path, lv->bias, err, sizeof err)) ||
	    gort_layout(lv->bin, &lv->l, err, sizeof err) != 0 ||
	    gort_probes(lv->bin, &lv->p, err, sizeof err) != 0) {
		printf("# %s: %s\n", path, err);
		goto fail;
	}
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL)) != 0 ||
	    bp_insert(pid, lv->p.newstack, &orig) != 0)
		goto fail;
	snprintf(memp, sizeof memp, "/proc/%d/mem", (int)pid);
	lv->memfd = open(memp, O_RDONLY | O_CLOEXEC);
	if (lv->memfd < 0 || ptrace(PTRACE_CONT, pid, NULL, NULL) != 0)
		goto fail;
	for (;;) {
		pid_t tid = waitpid(-1, &st, __WALL);
		long sig = 0;

		if (tid < 0)
			goto fail;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (tid == pid)
				break;
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		if (WSTOPSIG(st) == SIGTRAP && (st >> 16) == 0) {
			struct user_regs_struct r;

			if (ptrace(PTRACE_GETREGS, tid, NULL, &r) != 0)
				goto fail;
			if (r.rip - 1 == lv->p.newstack) {
				on_hit(lv, &r);
				if (bp_step_over(tid, lv->p.newstack, orig, &r, &sig) != 0)
					goto fail;
			} else {
				sig = SIGTRAP;
			}
		} else if (WSTOPSIG(st) != SIGTRAP && WSTOPSIG(st) != SIGSTOP) {
			sig = WSTOPSIG(st);
		}
		if (ptrace(PTRACE_CONT, tid, NULL, (void *)sig) != 0 && errno != ESRCH)
			goto fail;
	}
	close(lv->memfd);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
fail:
	printf("# trace %s: %s\n", path, strerror(errno));
	kill(pid, SIGKILL);
	while (waitpid(-1, &st, __WALL) > 0)
		;
	return -1;
}

/* Every frame of every event against `go tool addr2line` (pc-1: frame 0
 * is the return address of f's call to morestack, the others return
 * addresses). */
static bool live_addr2line(const char *path, const struct live *lv)  /* pcs minus lv->bias */
{
	char tmp[] = "/tmp/gort-pcln-live.XXXXXX", cmd[PATH_MAX + 128], *out, *save = NULL, *line;
	int fd = mkstemp(tmp), bad = 0, total = 0;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f || !(out = malloc(1 << 22)))
		return false;
	for (int e = 0; e < lv->nev; e++)
		for (int i = 0; i < lv->ev[e].n; i++)
			fprintf(f, "0x%" PRIx64 "\n", lv->ev[e].pcs[i] - 1 - lv->bias);
	fclose(f);
	if (snprintf(cmd, sizeof cmd, "go tool addr2line '%s' < %s 2>/dev/null", path, tmp) >= (int)sizeof cmd ||
	    gt_run(cmd, out, 1 << 22) <= 0) {
		free(out);
		unlink(tmp);
		return false;
	}
	line = strtok_r(out, "\n", &save);
	for (int e = 0; e < lv->nev; e++)
		for (int i = 0; i < lv->ev[e].n && line; i++) {
			char *fl = strtok_r(NULL, "\n", &save), want[160];

			snprintf(want, sizeof want, "%s %s", line, fl ? fl : "?");
			total++;
			if (strcmp(want, lv->ev[e].frames[i]) != 0 && bad++ < 5)
				printf("# event %d frame %d: addr2line '%s', gort '%s'\n", e, i, want,
				       lv->ev[e].frames[i]);
			line = strtok_r(NULL, "\n", &save);
		}
	free(out);
	unlink(tmp);
	printf("# %s: %d frames checked against go tool addr2line\n", path, total);
	return bad == 0 && total > 0;
}

static void test_live(void)
{
	static struct live lv[NBUILDS];
	char name[160];
	bool traced[NBUILDS];

	for (int k = 0; k < NBUILDS; k++) {
		lv[k].ev = calloc(MAXEV, sizeof *lv[k].ev);
		lv[k].unwinders_same = lv[k].syms_same = true;
		if (!lv[k].ev)
			return;
		snprintf(name, sizeof name, "live %s: traced to exit 0 at the newstack probe", build_name[k]);
		traced[k] = trace(paths[k], &lv[k]) == 0;
		CHECK(name, traced[k]);
		printf("# live %s: %d growth events, %d preemption entries, source %s\n", build_name[k],
		       lv[k].nev, lv[k].npre, lv[k].bin ? gort_source(lv[k].bin) : "?");
		if (!traced[k])
			continue;
		snprintf(name, sizeof name, "live %s: every event unwound to runtime.goexit", build_name[k]);
		{
			bool ok = lv[k].nev > 0;

			for (int e = 0; e < lv[k].nev; e++)
				if (lv[k].ev[e].n < 2 || strncmp(lv[k].ev[e].frames[lv[k].ev[e].n - 1],
								 "runtime.goexit ", 15) != 0)
					ok = false;
			CHECK(name, ok);
			if (!ok)
				for (int e = 0; e < lv[k].nev; e++)
					printf("#   event %d: %d frames, last %s\n", e, lv[k].ev[e].n,
					       lv[k].ev[e].n ? lv[k].ev[e].frames[lv[k].ev[e].n - 1] : "-");
		}
		snprintf(name, sizeof name, "live %s: every frame == go tool addr2line (func file:line)",
			 build_name[k]);
		/* go1.19's go tool addr2line answers "?" for every pc of a PIE,
		 * even one with symbols (checked by hand): compared with the
		 * plain build's frames below instead. */
		if (k == PIE_SW)
			SKIP(name, "go tool addr2line cannot read PIE binaries");
		else
			CHECK(name, live_addr2line(paths[k == NOSHDR ? STRIPPED : k], &lv[k]));
	}
	if (traced[PLAIN]) {
		CHECK("live plain: pclntab SP-delta unwinder == CFI unwinder (pcs and SPs, every event)",
		      lv[PLAIN].unwinders_same);
		CHECK("live plain: pclntab symbolization == DWARF symbolization on every frame",
		      lv[PLAIN].syms_same);
		for (int e = 0; e < lv[PLAIN].nev && e < 1; e++)
			for (int i = 0; i < lv[PLAIN].ev[e].n; i++)
				printf("#   %s\n", lv[PLAIN].ev[e].frames[i]);
	}
	for (int k = NODWARF; k < NBUILDS; k++) {
		bool same = traced[k] && traced[PLAIN] && lv[k].nev == lv[PLAIN].nev;

		for (int e = 0; same && e < lv[k].nev; e++) {
			same = lv[k].ev[e].n == lv[PLAIN].ev[e].n;
			for (int i = 0; same && i < lv[k].ev[e].n; i++)
				same = !strcmp(lv[k].ev[e].frames[i], lv[PLAIN].ev[e].frames[i]);
			if (!same)
				printf("# %s: event %d differs from plain\n", build_name[k], e);
		}
		snprintf(name, sizeof name, "live %s: same events, same frames (func, file, line) as the "
			 "plain build", build_name[k]);
		CHECK(name, same);
	}
	for (int k = 0; k < NBUILDS; k++) {
		gort_close(lv[k].bin);
		free(lv[k].ev);
	}
}

int main(int argc, char **argv)
{
	static const char *const ldflags[NBUILDS] = { "", "-w", "-s -w", "-s -w", "-s -w" };
	static const char *const file[NBUILDS] = { "gort_recurse_pcl_plain", "gort_recurse_pcl_w",
						   "gort_recurse_pcl_sw", "gort_recurse_pcl_sw_noshdr",
						   "gort_recurse_pcl_pie_sw" };
	static const char *const source[NBUILDS] = { "DWARF", "pclntab", "pclntab", "pclntab", "pclntab" };
	static uint64_t pcs[8192];
	struct gort_bin *b[NBUILDS] = { 0 };
	struct gort_layout lay[NBUILDS];
	struct gort_probes pr[NBUILDS];
	char err[256], name[200];
	int npcs = 0;

	if (argc == 3 && !strcmp(argv[1], "--write-seeds"))
		return write_seeds(argv[2]);
	alarm(300);
	test_synthetic();

	for (int k = 0; k < NBUILDS; k++) {
		snprintf(name, sizeof name, "build gort_recurse.go with -ldflags='%s'%s", ldflags[k],
			 k == NOSHDR ? ", section headers removed" : "");
		if (k == NOSHDR && snprintf(paths[k], sizeof paths[k], "%s_noshdr", paths[STRIPPED]) > 0 &&
		    strip_sections(paths[STRIPPED], paths[k]) != 0) {
			CHECK(name, 0);
			return check_done();
		}
		if (k != NOSHDR && build_variant(file[k], ldflags[k], k == PIE_SW, paths[k], sizeof paths[k]) != 0) {
			CHECK(name, 0);
			return check_done();
		}
		b[k] = gort_open(paths[k], 0, err, sizeof err);
		snprintf(name, sizeof name, "%s: gort_open works", build_name[k]);
		CHECK(name, b[k] != NULL);
		if (!b[k]) {
			printf("# %s\n", err);
			return check_done();
		}
		snprintf(name, sizeof name, "%s: gort_source is %s", build_name[k], source[k]);
		CHECK(name, !strcmp(gort_source(b[k]), source[k]));
		snprintf(name, sizeof name, "%s: .gopclntab found, Go 1.18+ layout (go1.19)", build_name[k]);
		CHECK(name, b[k]->have_pcln && b[k]->pcln.ver == GORT_PCLN_118);
		snprintf(name, sizeof name, "%s: Go version from the build info", build_name[k]);
		CHECK(name, gort_go_version(b[k]) && !strncmp(gort_go_version(b[k]), "go1.", 4));
		snprintf(name, sizeof name, "%s: probes and runtime layout read", build_name[k]);
		CHECK(name, gort_probes(b[k], &pr[k], err, sizeof err) == 0 &&
		      gort_layout(b[k], &lay[k], err, sizeof err) == 0);
		printf("# %s: %s; %s\n", build_name[k], gort_go_version(b[k]), gort_layout_source(b[k]));
	}
	CHECK("-s -w: runtime functions came from pclntab", b[STRIPPED]->syms_from_pcln &&
	      b[STRIPPED]->newstack_abi0.found);
	for (int k = NODWARF; k < NBUILDS; k++) {
		snprintf(name, sizeof name, "%s: probes == plain build's (real newstack, copystack, regabi)",
			 build_name[k]);
		if (k == PIE_SW)   /* other code, other addresses: the same offsets into the functions */
			CHECK(name, pr[k].newstack - pr[k].newstack_entry == pr[PLAIN].newstack - pr[PLAIN].newstack_entry &&
			      pr[k].copystack - pr[k].copystack_entry == pr[PLAIN].copystack - pr[PLAIN].copystack_entry &&
			      pr[k].regabi);
		else
		CHECK(name, pr[k].newstack == pr[PLAIN].newstack && pr[k].copystack == pr[PLAIN].copystack &&
		      pr[k].newstack_entry == pr[PLAIN].newstack_entry && pr[k].regabi && pr[PLAIN].regabi);
		snprintf(name, sizeof name, "%s: layout without DWARF == the DWARF layout, code and table "
			 "agree", build_name[k]);
		CHECK(name, !memcmp(&lay[k], &lay[PLAIN], sizeof lay[k]) &&
		      strstr(gort_layout_source(b[k]), "agree") && strstr(gort_layout_source(b[k]), "7 of 7"));
	}
	CHECK("plain: layout from DWARF types", strstr(gort_layout_source(b[PLAIN]), "DWARF") != NULL);
	/* A Go version the table does not know: a WARNING, and the best
	 * effort still decodes the offsets from the code. */
	{
		struct gort_layout l;

		snprintf(b[STRIPPED]->version, sizeof b[STRIPPED]->version, "go1.99.1");
		CHECK("unknown newer Go version: layout works, WARNING in gort_layout_source",
		      gort_layout(b[STRIPPED], &l, err, sizeof err) == 0 &&
		      !strncmp(gort_layout_source(b[STRIPPED]), "WARNING: go1.99.1 is newer", 26) &&
		      l.g_sched_pc == lay[PLAIN].g_sched_pc && l.m_morebuf_pc == lay[PLAIN].m_morebuf_pc);
		printf("# %.160s...\n", gort_layout_source(b[STRIPPED]));
		b[STRIPPED]->version[0] = '\0';
		CHECK("no Go version at all: layout works, WARNING in gort_layout_source",
		      gort_layout(b[STRIPPED], &l, err, sizeof err) == 0 &&
		      !strncmp(gort_layout_source(b[STRIPPED]), "WARNING: Go version unknown", 27) &&
		      !memcmp(&l, &lay[PLAIN], sizeof l));
		snprintf(b[STRIPPED]->version, sizeof b[STRIPPED]->version, "%s", gort_go_version(b[PLAIN]));
	}

	npcs = pick_pcs(b[PLAIN], pcs, (int)(sizeof pcs / sizeof pcs[0]));
	/* go tool addr2line needs the section headers: the fourth build is
	 * compared with the -s -w one (same bytes otherwise) below. */
	for (int k = 0; k < NOSHDR; k++)
		check_addr2line_all(b[k], paths[k], build_name[k], pcs, npcs);
	{
		bool same = true;

		for (int i = 0; i < npcs; i++) {
			struct gort_frame x, y;

			if (gort_symbolize(b[STRIPPED], pcs[i], false, &x) != 0 ||
			    gort_symbolize(b[NOSHDR], pcs[i], false, &y) != 0 || strcmp(x.func, y.func) ||
			    x.off != y.off || x.size != y.size || !same_str(x.file, y.file) || x.line != y.line)
				same = false;
		}
		CHECK("no section headers: pclntab found by scanning, every pc symbolized as with -s -w",
		      same && b[NOSHDR]->have_pcln);
	}
	check_dwarf_vs_pcln(b[PLAIN], pcs, npcs);
	for (int k = 0; k < NBUILDS; k++)
		gort_close(b[k]);

	test_live();
	return check_done();
}
