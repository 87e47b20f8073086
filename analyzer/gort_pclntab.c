/* gort_pclntab.c — parse Go's .gopclntab (see gort_pcln.h) for the layouts
 * of Go 1.2, 1.16, 1.18 and 1.20+, and answer what the runtime's own
 * traceback asks of it: which function holds a pc, its name and size, the
 * file:line at a pc, and the SP delta at a pc (for unwinding).
 *
 * Layouts (debug/gosym/pclntab.go, runtime/symtab.go):
 *   header  magic u32, 0, 0, quantum u8, ptrsize u8, then ptrsize words:
 *     1.18+: nfunc, nfiles, textStart, funcname, cu, filetab, pctab, pcln
 *     1.16:  nfunc, nfiles,            funcname, cu, filetab, pctab, pcln
 *     1.2:   nfunc, then the function table itself (offsets from the table
 *            start; the file table follows the function table: u32 offset)
 *   function table: nfunc+1 pairs {entry, funcoff}; 1.18+ uses u32 fields
 *     (entry relative to textStart), older tables ptrsize fields; the last
 *     entry is the end pc.  funcoff leads to runtime._func (relative to the
 *     function table for 1.16+, to the whole table for 1.2).
 *   _func: entry (u32 for 1.18+, else uintptr), then u32 fields nameoff,
 *     args, deferreturn, pcsp, pcfile, pcln, npcdata, cuOffset (1.16+) ...
 *     (1.20 adds startLine after cuOffset: nothing before it moves).
 *   pc-value tables (pcsp/pcfile/pcln offsets into pctab): pairs of
 *     (zigzag value delta, pc delta / quantum) varints, value -1 at entry,
 *     ended by a zero value delta after the first pair.
 *   files: 1.16+: pcfile gives a CU-relative index, cutab[cuOffset+i] the
 *     offset of the NUL-terminated name in filetab (~0: none); 1.2: pcfile
 *     gives a global index into the u32 offsets of filetab.
 * Only little-endian 64-bit tables are accepted (gotap is amd64-only).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gort_pcln.h"

/* Bounded message into err (this file links without the rest of gort). */
static void pcln_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pcln_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	if (vsnprintf(err, errlen, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* True if [off, off+len) lies inside the table. */
static bool in(const struct gort_pcln *t, size_t off, size_t len)
{
	return off <= t->size && len <= t->size - off;
}

static bool get32(const struct gort_pcln *t, size_t off, uint32_t *v)
{
	if (!in(t, off, 4))
		return false;
	*v = rd32(t->data + off);
	return true;
}

/* One functab field (4 bytes or ptrsize). */
static bool field(const struct gort_pcln *t, size_t off, uint64_t *v)
{
	if (!in(t, off, t->fieldsz))
		return false;
	*v = t->fieldsz == 4 ? rd32(t->data + off) : rd64(t->data + off);
	return true;
}

/* NUL-terminated string at off, or NULL if it runs off the table. */
static const char *str_at(const struct gort_pcln *t, size_t base, uint64_t off)
{
	const uint8_t *p;

	if (off > t->size || base > t->size - off)
		return NULL;
	p = t->data + base + off;
	return memchr(p, 0, t->size - (base + off)) ? (const char *)p : NULL;
}

static enum gort_pcln_ver ver_of(uint32_t magic)
{
	switch (magic) {
	case 0xfffffffbu: return GORT_PCLN_12;
	case 0xfffffffau: return GORT_PCLN_116;
	case 0xfffffff0u: return GORT_PCLN_118;
	case 0xfffffff1u: return GORT_PCLN_120;
	default: return GORT_PCLN_NONE;
	}
}

/* Entry pc of function-table slot i (0..nfunc, nfunc = end pc). */
static bool slot_pc(const struct gort_pcln *t, uint32_t i, uint64_t *pc)
{
	uint64_t v;

	if (!field(t, t->functab + (size_t)2 * i * t->fieldsz, &v))
		return false;
	*pc = t->ver >= GORT_PCLN_118 ? t->text_start + v : v;
	return true;
}

int gort_pcln_parse(struct gort_pcln *t, const uint8_t *data, size_t size, uint64_t text_hint,
		    char *err, size_t errlen)
{
	uint64_t w[8] = { 0 };
	size_t nw;

	memset(t, 0, sizeof *t);
	t->data = data;
	t->size = size;
	if (!data || size < 16) {
		pcln_err(err, errlen, "pclntab: truncated header");
		return -1;
	}
	t->ver = ver_of(rd32(data));
	if (t->ver == GORT_PCLN_NONE) {
		pcln_err(err, errlen, "pclntab: bad magic 0x%08x", rd32(data));
		return -1;
	}
	t->quantum = data[6];
	t->ptrsize = data[7];
	if (data[4] || data[5] || (t->quantum != 1 && t->quantum != 2 && t->quantum != 4) ||
	    t->ptrsize != 8) {
		pcln_err(err, errlen, "pclntab: unsupported header (quantum %u, pointer size %u)",
			 t->quantum, t->ptrsize);
		return -1;
	}
	nw = t->ver >= GORT_PCLN_118 ? 8 : t->ver == GORT_PCLN_116 ? 7 : 1;
	if (!in(t, 8, nw * 8)) {
		pcln_err(err, errlen, "pclntab: truncated header");
		return -1;
	}
	for (size_t i = 0; i < nw; i++)
		w[i] = rd64(data + 8 + 8 * i);
	if (w[0] == 0 || w[0] > UINT32_MAX / 4 || (nw > 1 && w[1] > UINT32_MAX / 4)) {
		pcln_err(err, errlen, "pclntab: implausible counts (%llu functions)",
			 (unsigned long long)w[0]);
		return -1;
	}
	t->nfunc = (uint32_t)w[0];
	switch (t->ver) {
	case GORT_PCLN_118:
	case GORT_PCLN_120:
		t->nfiles = (uint32_t)w[1];
		t->text_start = w[2] ? w[2] : text_hint;
		t->funcnametab = w[3];
		t->cutab = w[4];
		t->filetab = w[5];
		t->pctab = w[6];
		t->functab = t->funcdata = w[7];
		t->fieldsz = 4;
		break;
	case GORT_PCLN_116:
		t->nfiles = (uint32_t)w[1];
		t->funcnametab = w[2];
		t->cutab = w[3];
		t->filetab = w[4];
		t->pctab = w[5];
		t->functab = t->funcdata = w[6];
		t->fieldsz = 8;
		break;
	default:               /* 1.2: everything relative to the table start */
		t->functab = 16;
		t->fieldsz = 8;
		break;
	}
	/* Offsets come from the file: compare before adding. */
	for (size_t i = 3; i < nw; i++)
		if (w[i] > size) {
			pcln_err(err, errlen, "pclntab: header offset %zu beyond the table", i);
			return -1;
		}
	t->functab_size = ((size_t)2 * t->nfunc + 1) * t->fieldsz;
	if (!in(t, t->functab, t->functab_size)) {
		pcln_err(err, errlen, "pclntab: function table truncated (%u functions)", t->nfunc);
		return -1;
	}
	if (t->ver == GORT_PCLN_12) {
		uint32_t fileoff, n;

		if (!get32(t, t->functab + t->functab_size, &fileoff) || !get32(t, fileoff, &n) ||
		    !in(t, fileoff, (size_t)n * 4)) {
			pcln_err(err, errlen, "pclntab: file table truncated");
			return -1;
		}
		t->filetab = fileoff;
		t->nfiles = n;
	}
	/* The runtime binary-searches the function table: it must be sorted.
	 * Checking once here keeps every later search meaningful. */
	for (uint64_t i = 0, last = 0; i <= t->nfunc; i++) {
		uint64_t pc;

		if (!slot_pc(t, (uint32_t)i, &pc) || pc < last) {
			pcln_err(err, errlen, "pclntab: function table not sorted at %llu",
				 (unsigned long long)i);
			return -1;
		}
		last = pc;
	}
	return 0;
}

long gort_pcln_scan(const uint8_t *buf, size_t len, size_t from, uint64_t text_hint)
{
	struct gort_pcln t;

	for (size_t off = (from + 3) & ~(size_t)3; buf && off < len && len - off >= 72; off += 4) {
		const uint8_t *p = buf + off;

		if (p[0] < 0xf0 || p[1] != 0xff || p[2] != 0xff || p[3] != 0xff ||
		    ver_of(rd32(p)) == GORT_PCLN_NONE || p[4] || p[5] || p[7] != 8 ||
		    (p[6] != 1 && p[6] != 2 && p[6] != 4))
			continue;
		if (gort_pcln_parse(&t, p, len - off, text_hint, NULL, 0) == 0)
			return (long)off;
	}
	return -1;
}

int gort_pcln_func_i(const struct gort_pcln *t, uint32_t i, struct gort_pcln_func *f)
{
	uint64_t funcoff;
	uint32_t nameoff;

	memset(f, 0, sizeof *f);
	if (!t || i >= t->nfunc || !slot_pc(t, i, &f->entry) || !slot_pc(t, i + 1, &f->end) ||
	    !field(t, t->functab + ((size_t)2 * i + 1) * t->fieldsz, &funcoff) ||
	    funcoff > t->size || !in(t, t->funcdata + funcoff, 0))
		return -1;
	f->idx = i;
	f->fd = t->funcdata + (size_t)funcoff;
	/* _func must hold at least its fields up to cuOffset. */
	if (!in(t, f->fd, (t->ver >= GORT_PCLN_118 ? 4 : 8) + 8 * 4))
		return -1;
	if (get32(t, f->fd + (t->ver >= GORT_PCLN_118 ? 4 : 8), &nameoff))
		f->name = str_at(t, t->funcnametab, nameoff);
	return 0;
}

int gort_pcln_func_at(const struct gort_pcln *t, uint64_t pc, struct gort_pcln_func *f)
{
	uint32_t lo = 0, hi;
	uint64_t first, last;

	if (!t || t->nfunc == 0 || !slot_pc(t, 0, &first) || !slot_pc(t, t->nfunc, &last) ||
	    pc < first || pc >= last)
		return -1;
	/* Largest i with entry(i) <= pc. */
	for (hi = t->nfunc; hi - lo > 1;) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint64_t e;

		if (!slot_pc(t, mid, &e))
			return -1;
		if (e <= pc)
			lo = mid;
		else
			hi = mid;
	}
	if (gort_pcln_func_i(t, lo, f) != 0 || pc < f->entry || pc >= f->end)
		return -1;
	return 0;
}

/* runtime.readvarint: at most 5 bytes, a uint32. */
static bool varint(const struct gort_pcln *t, size_t *off, uint32_t *v)
{
	uint32_t x = 0;

	for (unsigned shift = 0; shift < 35; shift += 7) {
		uint8_t b;

		if (*off >= t->size)
			return false;
		b = t->data[(*off)++];
		x |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* Offset of table tab of f in data, or false if none. */
static bool table_of(const struct gort_pcln *t, const struct gort_pcln_func *f,
		     enum gort_pcln_tab tab, size_t *off)
{
	static const uint8_t fieldno[] = { [GORT_PCLN_SP] = 4, [GORT_PCLN_FILE] = 5,
					   [GORT_PCLN_LINE] = 6 };
	size_t sz0 = t->ver >= GORT_PCLN_118 ? 4 : 8;
	uint32_t v;

	if (!get32(t, f->fd + sz0 + (size_t)(fieldno[tab] - 1) * 4, &v) || v == 0 ||
	    v > t->size || !in(t, t->pctab + v, 1))
		return false;
	*off = t->pctab + v;
	return true;
}

/* runtime.step: one (value, pc) pair.  false at the end or if damaged. */
static bool step(const struct gort_pcln *t, size_t *p, uint64_t *pc, int32_t *val, bool first,
		 bool *damaged)
{
	uint32_t uv, pcd;

	if (!varint(t, p, &uv)) {
		*damaged = true;
		return false;
	}
	if (uv == 0 && !first)
		return false;
	/* Go's int32 arithmetic wraps; a damaged table must not overflow ours. */
	*val = (int32_t)((uint32_t)*val + (-(uv & 1) ^ (uv >> 1)));
	if (!varint(t, p, &pcd)) {
		*damaged = true;
		return false;
	}
	*pc += (uint64_t)pcd * t->quantum;
	return true;
}

int gort_pcln_value(const struct gort_pcln *t, const struct gort_pcln_func *f,
		    enum gort_pcln_tab tab, uint64_t pc, int32_t *val)
{
	size_t p;
	uint64_t cur;
	int32_t v = -1;
	bool damaged = false;

	if (!t || !f || !table_of(t, f, tab, &p) || pc < f->entry)
		return -1;
	cur = f->entry;
	/* Each step eats at least two bytes: the loop ends with the table. */
	while (step(t, &p, &cur, &v, cur == f->entry, &damaged)) {
		if (pc < cur) {
			*val = v;
			return 0;
		}
		if (cur >= f->end && f->end > f->entry)
			break;      /* past the function: damaged or pc beyond */
	}
	return -1;
}

int gort_pcln_size(const struct gort_pcln *t, const struct gort_pcln_func *f, uint64_t *size)
{
	size_t p;
	uint64_t cur;
	int32_t v = -1;
	bool damaged = false;

	if (!t || !f || f->end < f->entry)
		return -1;
	*size = f->end - f->entry;
	if (!table_of(t, f, GORT_PCLN_SP, &p))
		return 0;
	cur = f->entry;
	while (step(t, &p, &cur, &v, cur == f->entry, &damaged))
		if (cur > f->end)
			return 0;
	if (!damaged && cur > f->entry)
		*size = cur - f->entry;
	return 0;
}

int gort_pcln_line(const struct gort_pcln *t, const struct gort_pcln_func *f, uint64_t pc,
		   const char **file, int *line)
{
	int32_t fno, ln;
	uint32_t cuoff, fileoff;
	const char *name;

	if (gort_pcln_value(t, f, GORT_PCLN_FILE, pc, &fno) != 0 ||
	    gort_pcln_value(t, f, GORT_PCLN_LINE, pc, &ln) != 0 || ln < 0)
		return -1;
	if (t->ver == GORT_PCLN_12) {
		if (fno <= 0 || (uint32_t)fno >= t->nfiles ||
		    !get32(t, t->filetab + (size_t)fno * 4, &fileoff))
			return -1;
		name = str_at(t, 0, fileoff);
	} else {
		if (fno < 0 || !get32(t, f->fd + (t->ver >= GORT_PCLN_118 ? 4 : 8) + 7 * 4, &cuoff) ||
		    (uint64_t)cuoff + (uint32_t)fno > t->size / 4 ||
		    !get32(t, t->cutab + ((size_t)cuoff + (uint32_t)fno) * 4, &fileoff) ||
		    fileoff == UINT32_MAX)
			return -1;
		name = str_at(t, t->filetab, fileoff);
	}
	if (!name)
		return -1;
	*file = name;
	*line = ln;
	return 0;
}

int gort_pcln_by_name(const struct gort_pcln *t, const char *name, int nth,
		      struct gort_pcln_func *f)
{
	for (uint32_t i = 0; t && i < t->nfunc; i++)
		if (gort_pcln_func_i(t, i, f) == 0 && f->name && !strcmp(f->name, name) && nth-- == 0)
			return 0;
	return -1;
}

/* Size of the fixed part of runtime._func, before its pcdata offsets
 * (1.18/1.19: 40; 1.20 adds startLine: 44; 1.16: uintptr entry, no
 * startLine: 44), or 0 for 1.2 (not supported here). */
static size_t func_fixed(const struct gort_pcln *t)
{
	switch (t->ver) {
	case GORT_PCLN_118: return 40;
	case GORT_PCLN_120: return 44;
	case GORT_PCLN_116: return 44;
	default: return 0;
	}
}

/* npcdata and nfuncdata of f. */
static bool func_counts(const struct gort_pcln *t, const struct gort_pcln_func *f,
			uint32_t *npcdata, uint32_t *nfuncdata)
{
	size_t fixed = func_fixed(t);

	if (!fixed || !in(t, f->fd, fixed) ||
	    !get32(t, f->fd + (t->ver >= GORT_PCLN_118 ? 4 : 8) + 6 * 4, npcdata))
		return false;
	*nfuncdata = t->data[f->fd + fixed - 1];
	return *npcdata < 1024;
}

int gort_pcln_pcdata(const struct gort_pcln *t, const struct gort_pcln_func *f, uint32_t idx,
		     uint64_t pc, int32_t *val)
{
	uint32_t np, nf, off;
	size_t p;
	uint64_t cur;
	int32_t v = -1;
	bool damaged = false;

	if (!t || !f || !func_counts(t, f, &np, &nf) || idx >= np ||
	    !get32(t, f->fd + func_fixed(t) + (size_t)idx * 4, &off) || off == 0 || off > t->size ||
	    !in(t, t->pctab + off, 1) || pc < f->entry)
		return -1;
	p = t->pctab + off;
	cur = f->entry;
	while (step(t, &p, &cur, &v, cur == f->entry, &damaged)) {
		if (pc < cur) {
			*val = v;
			return 0;
		}
		if (cur >= f->end && f->end > f->entry)
			break;
	}
	return -1;
}

int gort_pcln_funcdata(const struct gort_pcln *t, const struct gort_pcln_func *f, uint32_t idx,
		       uint64_t *val, bool *absolute)
{
	uint32_t np, nf, v32;
	size_t at;

	if (!t || !f || !func_counts(t, f, &np, &nf) || idx >= nf)
		return -1;
	at = f->fd + func_fixed(t) + (size_t)np * 4;
	if (t->ver >= GORT_PCLN_118) {
		if (!get32(t, at + (size_t)idx * 4, &v32) || v32 == UINT32_MAX)
			return -1;
		*val = v32;
		*absolute = false;
		return 0;
	}
	at = (at + 7) & ~(size_t)7;      /* uintptr slots, 8-aligned */
	if (!in(t, at + (size_t)idx * 8, 8))
		return -1;
	*val = rd64(t->data + at + (size_t)idx * 8);
	*absolute = true;
	return *val ? 0 : -1;
}

const char *gort_pcln_name(const struct gort_pcln *t, uint32_t nameoff)
{
	return t ? str_at(t, t->funcnametab, nameoff) : NULL;
}
