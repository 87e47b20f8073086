/* gort_pcln.h — private to gort: a reader for Go's runtime metadata table
 * .gopclntab (function table, names, file table, pc->file/line/SP-delta
 * tables), the one piece of debug information every Go binary keeps, even
 * when built with -ldflags='-s -w'.
 *
 * Pure code over a byte buffer: no ELF, no allocation, no globals, so it is
 * fuzzed on its own (tests/fuzz/fuzz_pclntab.c).  Every access to the table
 * is bounds-checked; a damaged table gives an error, never a crash.
 *
 * References (Go 1.19 sources): runtime/symtab.go (pcHeader, _func, pcvalue,
 * step, funcline1, funcfile), debug/gosym/pclntab.go (the four layouts),
 * cmd/link/internal/ld/pcln.go (how the linker writes them).
 */
#ifndef GOTAP_GORT_PCLN_H
#define GOTAP_GORT_PCLN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Layouts, by header magic (little-endian uint32 at offset 0). */
enum gort_pcln_ver {
	GORT_PCLN_NONE = 0,
	GORT_PCLN_12,    /* 0xfffffffb: Go 1.2 - 1.15 */
	GORT_PCLN_116,   /* 0xfffffffa: Go 1.16, 1.17 */
	GORT_PCLN_118,   /* 0xfffffff0: Go 1.18, 1.19 */
	GORT_PCLN_120,   /* 0xfffffff1: Go 1.20 and later */
};

/* The pc-value tables of one function (fields of runtime._func). */
enum gort_pcln_tab { GORT_PCLN_SP, GORT_PCLN_FILE, GORT_PCLN_LINE };

/* A parsed table.  data is borrowed: it must outlive the struct.  All
 * offsets below are into data and were checked against size at parse time
 * (the parts they start; each read is checked again). */
struct gort_pcln {
	const uint8_t *data;
	size_t size;
	enum gort_pcln_ver ver;
	uint32_t quantum;        /* pc quantum (1 on amd64) */
	uint32_t ptrsize;        /* 8 (only 64-bit little-endian tables are accepted) */
	uint32_t nfunc, nfiles;
	uint64_t text_start;     /* base of the 32-bit entry offsets (>= 1.18) */
	size_t funcnametab, cutab, filetab, pctab, functab, funcdata;
	size_t functab_size;     /* bytes: (2 * nfunc + 1) fields */
	uint32_t fieldsz;        /* functab field size: 4 (>= 1.18) or ptrsize */
};

/* One function of the table. */
struct gort_pcln_func {
	uint32_t idx;            /* index in the function table */
	uint64_t entry;          /* entry pc (link-time address) */
	uint64_t end;            /* next function's entry (or the table's end pc) */
	size_t fd;               /* offset of its runtime._func in data */
	const char *name;        /* NUL-terminated inside data, or NULL if damaged */
};

/* Parse the table at data[0..size).  text_hint is the address of the text
 * start (.text / runtime.text) used by >= 1.18 tables when the header's
 * textStart is 0 (unrelocated, e.g. a PIE); 0 if unknown.  Returns 0, or -1
 * with a reason in err ("pclntab: bad magic", "... truncated", ...). */
int gort_pcln_parse(struct gort_pcln *t, const uint8_t *data, size_t size, uint64_t text_hint,
		    char *err, size_t errlen);

/* Offset of the first plausible pclntab header in buf[from..len) (magic,
 * two zero bytes, quantum 1/2/4, pointer size 8, at a 4-byte aligned
 * offset, and the rest of the header parses), or -1.  For binaries whose
 * section headers are gone. */
long gort_pcln_scan(const uint8_t *buf, size_t len, size_t from, uint64_t text_hint);

/* Function i (0 <= i < nfunc) into *f.  Returns 0, or -1 if damaged. */
int gort_pcln_func_i(const struct gort_pcln *t, uint32_t i, struct gort_pcln_func *f);

/* The function whose [entry, end) holds pc (binary search of the function
 * table, as runtime.findfunc).  Returns 0, or -1 if none or damaged. */
int gort_pcln_func_at(const struct gort_pcln *t, uint64_t pc, struct gort_pcln_func *f);

/* Value of table tab of f at pc (runtime.pcvalue: varint/zigzag value
 * deltas, pc deltas in quanta, starting at value -1 at the entry).
 * Returns 0 and sets *val, or -1 if pc is outside the table or damaged. */
int gort_pcln_value(const struct gort_pcln *t, const struct gort_pcln_func *f,
		    enum gort_pcln_tab tab, uint64_t pc, int32_t *val);

/* The function's code size: where its pc->SP table ends (the symbol's
 * size without the alignment padding up to the next function), or
 * end - entry if that table is damaged.  Returns 0 or -1. */
int gort_pcln_size(const struct gort_pcln *t, const struct gort_pcln_func *f, uint64_t *size);

/* File name and line at pc inside f.  Returns 0, or -1 if unknown. */
int gort_pcln_line(const struct gort_pcln *t, const struct gort_pcln_func *f, uint64_t pc,
		   const char **file, int *line);

/* PCDATA table idx of f at pc (runtime.pcdatavalue; idx 2 is the inline
 * tree index).  Returns 0 and sets *val, or -1 if f has no such table or
 * it is damaged. */
int gort_pcln_pcdata(const struct gort_pcln *t, const struct gort_pcln_func *f, uint32_t idx,
		     uint64_t pc, int32_t *val);

/* FUNCDATA slot idx of f (idx 3 is the inline tree): for >= 1.18 tables a
 * 32-bit offset from moduledata.gofunc (*absolute = false), for 1.16 an
 * absolute link-time address (*absolute = true).  Returns 0, or -1 if f
 * has no such slot, it is nil, or the table is 1.2. */
int gort_pcln_funcdata(const struct gort_pcln *t, const struct gort_pcln_func *f, uint32_t idx,
		       uint64_t *val, bool *absolute);

/* The function name at nameoff in the name table (as _func.nameoff and
 * the inline tree use), or NULL if it runs off the table. */
const char *gort_pcln_name(const struct gort_pcln *t, uint32_t nameoff);

/* Look a function up by its exact name.  Several functions may share one
 * name (a register-ABI function and its ABI0 wrapper): nth = 0 is the
 * first in address order, 1 the second...  Returns 0 or -1 (linear scan). */
int gort_pcln_by_name(const struct gort_pcln *t, const char *name, int nth,
		      struct gort_pcln_func *f);

#endif /* GOTAP_GORT_PCLN_H */
