// fuzz-sources: analyzer/gort_bin.c analyzer/gort_cu.c analyzer/gort_growth.c analyzer/gort_inline.c analyzer/gort_layout.c analyzer/gort_offsets.c analyzer/gort_pclnsym.c analyzer/gort_pclntab.c analyzer/gort_probes.c analyzer/gort_sym.c analyzer/gort_unwind.c analyzer/gort_version.c
// fuzz-libs: -ldw -lelf -lZydis
/* fuzz_pclntab.c — libFuzzer target for gort's .gopclntab reader and for
 * gort_open on damaged binaries.
 *
 * Input starting with "\x7fELF": a whole (corrupted) executable, written to
 * a temporary file and opened with gort_open; if that works, the probes,
 * the layout (DWARF or the pclntab fallback), symbolization and unwinding
 * (memory = the input bytes) all run.  Any other input: the bytes are a
 * pclntab (parsed in place, with the header scan too), and every query
 * the unwinder and symbolizer make runs against it.  Whatever the bytes:
 * an error or an answer, never a crash, a hang, a leak or an out-of-bounds
 * access.  Seeds (tests/fuzz/corpus/fuzz_pclntab/): the synthetic tables of
 * ana_pclntab (`ana_pclntab --write-seeds DIR`) and damaged headers.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gort.h"
#include "gort_pcln.h"

#define MAX_INPUT (1 << 20)

struct mem {
	const uint8_t *data;
	size_t size;
};

/* Target memory for the unwinder: the input itself at address 0x1000. */
static long rd(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct mem *m = ctx;

	if (addr < 0x1000 || addr - 0x1000 > m->size || len > m->size - (addr - 0x1000))
		return -1;
	memcpy(buf, m->data + (addr - 0x1000), len);
	return (long)len;
}

static void query_table(const struct gort_pcln *t)
{
	struct gort_pcln_func f;
	const char *file;
	int line;
	int32_t v;
	uint64_t size;

	for (uint32_t i = 0; i < t->nfunc && i < 64; i++) {
		if (gort_pcln_func_i(t, i, &f) != 0)
			continue;
		(void)gort_pcln_size(t, &f, &size);
		for (uint64_t pc = f.entry; pc < f.end && pc < f.entry + 64; pc += 7) {
			if (gort_pcln_func_at(t, pc, &f) != 0)
				break;
			(void)gort_pcln_line(t, &f, pc, &file, &line);
			(void)gort_pcln_value(t, &f, GORT_PCLN_SP, pc, &v);
			if (file && line)
				(void)strlen(file);
		}
	}
	(void)gort_pcln_by_name(t, "runtime.newstack", 1, &f);
}

static void fuzz_elf(const uint8_t *data, size_t size)
{
	char path[64], err[256];
	struct gort_bin *b;
	struct gort_probes p;
	struct gort_layout l;
	struct gort_frame fr[16];
	struct mem m = { data, size };
	int fd;

	snprintf(path, sizeof path, "/tmp/fuzz_pclntab.%d", (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	b = gort_open(path, 0, err, sizeof err);
	if (b) {
		(void)gort_source(b);
		(void)gort_go_version(b);
		if (gort_probes(b, &p, err, sizeof err) == 0)
			(void)gort_symbolize(b, p.newstack, false, &fr[0]);
		if (gort_layout(b, &l, err, sizeof err) == 0)
			(void)gort_layout_source(b);
		for (uint64_t pc = 0x401000; pc < 0x401100; pc += 0x11) {
			(void)gort_symbolize(b, pc, true, &fr[0]);
			(void)gort_symbolize_inline(b, pc, false, fr, 16);
		}
		(void)gort_unwind(b, rd, &m, 0x401000, 0x1000 + size / 2, 0x1000 + size / 2, fr, 16);
		gort_close(b);
	}
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gort_pcln t;
	long at;

	if (size > MAX_INPUT)
		return 0;
	if (size >= 4 && !memcmp(data, "\x7f" "ELF", 4)) {
		fuzz_elf(data, size);
		return 0;
	}
	/* The bytes as a table, with and without a text-start hint. */
	if (gort_pcln_parse(&t, data, size, 0, NULL, 0) == 0)
		query_table(&t);
	if (gort_pcln_parse(&t, data, size, 0x401000, NULL, 0) == 0)
		query_table(&t);
	/* The header scan over the bytes (a binary without sections). */
	at = gort_pcln_scan(data, size, 1, 0x401000);
	if (at >= 0) {
		if ((size_t)at >= size || gort_pcln_parse(&t, data + at, size - (size_t)at, 0x401000, NULL, 0) != 0)
			abort();      /* scan promised a table that parses */
		query_table(&t);
	}
	return 0;
}
