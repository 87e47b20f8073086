/* gort_pclnsym.c — gort's view of a binary through .gopclntab: where the
 * table is in the ELF file, the runtime functions by name, symbolization
 * and SP-delta frame rules.  This is what keeps gotap working on binaries
 * built with -ldflags='-s -w' (no symbol table, no DWARF), and what fills
 * gaps (file:line with -w) where DWARF is partial.
 *
 * Finding the table: the ".gopclntab" section; when section headers are
 * gone (sstrip and similar), a scan of the loaded segments' file bytes for
 * a header that parses (gort_pcln_scan).  The table's addresses are
 * link-time; the load bias is added for answers.
 */
#include <stdlib.h>
#include <string.h>

#include "gort_int.h"

/* Section by name: file offset and size inside the raw file, and address. */
static bool section(Elf *elf, const char *want, size_t fsize, uint64_t *off, uint64_t *size,
		    uint64_t *addr)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, want) != 0)
			continue;
		if (sh.sh_type == SHT_NOBITS || sh.sh_offset > fsize || sh.sh_size > fsize - sh.sh_offset)
			return false;
		*off = sh.sh_offset;
		*size = sh.sh_size;
		*addr = sh.sh_addr;
		return true;
	}
	return false;
}

void gort_pcln_load(struct gort_bin *b)
{
	size_t fsize, nph;
	const uint8_t *raw = (const uint8_t *)elf_rawfile(b->elf, &fsize);
	uint64_t off, size, addr, text = 0, tsize;

	b->have_pcln = false;
	if (!raw)
		return;
	b->has_dwarf = section(b->elf, ".debug_info", fsize, &off, &size, &addr) ||
		       section(b->elf, ".zdebug_info", fsize, &off, &size, &addr);
	(void)section(b->elf, ".text", fsize, &off, &tsize, &text);
	if (section(b->elf, ".gopclntab", fsize, &off, &size, &addr) &&
	    gort_pcln_parse(&b->pcln, raw + off, size, text, NULL, 0) == 0) {
		b->have_pcln = true;
		b->pcln_addr = addr;
		return;
	}
	/* No section headers: scan the file-backed part of each PT_LOAD.  The
	 * text start (for an unrelocated header) is then the executable
	 * segment's first address past the ELF headers' page. */
	if (elf_getphdrnum(b->elf, &nph) != 0)
		return;
	for (size_t i = 0; i < nph && !text; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(b->elf, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X))
			text = ph.p_offset == 0 ? ph.p_vaddr + 0x1000 : ph.p_vaddr;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		long at;

		if (!gelf_getphdr(b->elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    ph.p_offset > fsize || ph.p_filesz > fsize - ph.p_offset)
			continue;
		at = gort_pcln_scan(raw + ph.p_offset, ph.p_filesz, 0, text);
		if (at >= 0 && gort_pcln_parse(&b->pcln, raw + ph.p_offset + at,
					       ph.p_filesz - (size_t)at, text, NULL, 0) == 0) {
			b->have_pcln = true;
			b->pcln_addr = ph.p_vaddr + (uint64_t)at;
			return;
		}
	}
}

/* Set s from pclntab function f (link-time -> runtime address). */
static void set_sym(struct gort_bin *b, struct gort_sym *s, const struct gort_pcln_func *f)
{
	uint64_t size;

	if (gort_pcln_size(&b->pcln, f, &size) != 0)
		size = f->end - f->entry;
	s->addr = f->entry + b->bias;
	s->size = size;
	s->found = true;
}

void gort_pcln_syms(struct gort_bin *b)
{
	struct gort_pcln_func f, g;

	if (!b->have_pcln)
		return;
	if (!b->newstack.found && gort_pcln_by_name(&b->pcln, "runtime.newstack", 0, &f) == 0) {
		/* The ABI0 wrapper (Go >= 1.17) carries the same name in
		 * pclntab: the larger function is the real one. */
		if (gort_pcln_by_name(&b->pcln, "runtime.newstack", 1, &g) == 0) {
			uint64_t fs = 0, gs = 0;

			(void)gort_pcln_size(&b->pcln, &f, &fs);
			(void)gort_pcln_size(&b->pcln, &g, &gs);
			set_sym(b, &b->newstack, fs >= gs ? &f : &g);
			if (!b->newstack_abi0.found)
				set_sym(b, &b->newstack_abi0, fs >= gs ? &g : &f);
		} else {
			set_sym(b, &b->newstack, &f);
		}
		b->syms_from_pcln = true;
	}
	if (!b->copystack.found && gort_pcln_by_name(&b->pcln, "runtime.copystack", 0, &f) == 0)
		set_sym(b, &b->copystack, &f);
	if (!b->shrinkstack.found && gort_pcln_by_name(&b->pcln, "runtime.shrinkstack", 0, &f) == 0)
		set_sym(b, &b->shrinkstack, &f);
	if (!b->goexit.found && (gort_pcln_by_name(&b->pcln, "runtime.goexit", 0, &f) == 0 ||
				 gort_pcln_by_name(&b->pcln, "runtime.goexit.abi0", 0, &f) == 0))
		set_sym(b, &b->goexit, &f);
}

int gort_pcln_symbolize(struct gort_bin *b, uint64_t pc, bool is_ret, struct gort_frame *out)
{
	uint64_t at = is_ret && pc ? pc - 1 : pc, size;
	struct gort_pcln_func f;
	const char *file;
	int line;

	memset(out, 0, sizeof *out);
	out->pc = pc;
	if (!b->have_pcln || at < b->bias ||
	    gort_pcln_func_at(&b->pcln, at - b->bias, &f) != 0 || !f.name)
		return -1;
	out->module = b->path;
	out->func = gort_func_name(b, f.name);
	out->off = pc - (f.entry + b->bias);
	if (gort_pcln_size(&b->pcln, &f, &size) == 0)
		out->size = size;
	if (gort_pcln_line(&b->pcln, &f, at - b->bias, &file, &line) == 0) {
		out->file = file;
		out->line = line;
	}
	return out->func ? 0 : -1;
}

const struct gort_cfa_ent *gort_pcln_rule(struct gort_bin *b, uint64_t pc, bool is_ret)
{
	static const struct gort_cfa_ent none;
	uint64_t key = pc << 1 | (is_ret ? 1 : 0), at = is_ret ? pc - 1 : pc;
	struct gort_cfa_ent *e;
	struct gort_pcln_func f;
	int32_t spd;

	if (!b->have_pcln || key == 0)
		return &none;
	if (!b->sp_cache && !(b->sp_cache = calloc(GORT_CACHE_SLOTS, sizeof *b->sp_cache)))
		return &none;
	e = &b->sp_cache[(size_t)((key * 0x9e3779b97f4a7c15ULL) >> 52) & (GORT_CACHE_SLOTS - 1)];
	if (e->key == key)
		return e;
	e->key = key;
	e->ok = false;
	/* runtime.gentraceback (traceback.go): frame.fp = sp + funcspdelta(pc)
	 * + PtrSize on x86 (the call pushed the return address); the caller's
	 * pc is at fp - PtrSize and its sp is fp. */
	if (at >= b->bias && gort_pcln_func_at(&b->pcln, at - b->bias, &f) == 0 &&
	    gort_pcln_value(&b->pcln, &f, GORT_PCLN_SP, at - b->bias, &spd) == 0 &&
	    spd >= 0 && spd < INT32_MAX - 8) {
		e->cfa_off = spd + 8;
		e->ra_off = -8;
		e->ok = true;
	}
	return e;
}

/* Inline tree entries (runtime/symtab.go inlinedCall): go1.16-1.19
 * {parent i16, funcID u8, _, file i32, line i32, func_ i32, parentPc i32},
 * go1.20+ {funcID u8, _[3], nameOff i32, parentPc i32, startLine i32}. */
struct inl {
	uint32_t nameoff;
	int32_t parent_pc;
};

static bool read_inl(struct gort_bin *b, uint64_t tree, int32_t ix, struct inl *e)
{
	unsigned char c[20];
	bool v120 = b->pcln.ver >= GORT_PCLN_120;
	size_t sz = v120 ? 16 : 20;
	int32_t v[2];

	if (ix < 0 || ix > (1 << 20) || gort_elf_read(b, tree + (uint64_t)ix * sz, c, sz) != 0)
		return false;
	memcpy(&v[0], c + (v120 ? 4 : 12), 4);
	memcpy(&v[1], c + (v120 ? 8 : 16), 4);
	e->nameoff = (uint32_t)v[0];
	e->parent_pc = v[1];
	return true;
}

/* Does base look like moduledata.gofunc: the first inline-tree entry of
 * sampled functions names a function and points inside its caller? */
static bool gofunc_plausible(struct gort_bin *b, uint64_t base)
{
	int seen = 0;

	for (uint32_t i = 0; i < b->pcln.nfunc && seen < 64; i += 1 + b->pcln.nfunc / 512) {
		struct gort_pcln_func f;
		uint64_t off, size;
		bool abs;
		struct inl e;

		if (gort_pcln_func_i(&b->pcln, i, &f) != 0 ||
		    gort_pcln_funcdata(&b->pcln, &f, 3, &off, &abs) != 0)
			continue;
		seen++;
		if (gort_pcln_size(&b->pcln, &f, &size) != 0 || !read_inl(b, base + off, 0, &e) ||
		    e.parent_pc < 0 || (uint64_t)e.parent_pc >= size || !gort_pcln_name(&b->pcln, e.nameoff))
			return false;
	}
	return seen > 0;
}

/* Find moduledata (its first word points at the pclntab header, the next
 * at the name table) in the writable segments, then gofunc among its words:
 * word 38 in go1.18/1.19, 40 from go1.20 (covctrs), else any word that
 * passes the plausibility check. */
static void find_gofunc(struct gort_bin *b)
{
	size_t fsize, nph;
	const uint8_t *raw = (const uint8_t *)elf_rawfile(b->elf, &fsize);

	b->gofunc_looked = true;
	if (b->pcln.ver == GORT_PCLN_116) {     /* absolute funcdata pointers */
		b->gofunc_ok = true;
		return;
	}
	if (!raw || !b->pcln_addr || elf_getphdrnum(b->elf, &nph) != 0)
		return;
	for (size_t i = 0; i < nph && !b->gofunc_ok; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(b->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_W) ||
		    ph.p_offset > fsize || ph.p_filesz > fsize - ph.p_offset)
			continue;
		for (uint64_t o = 0; o + 64 * 8 <= ph.p_filesz && !b->gofunc_ok; o += 8) {
			uint64_t w[64];
			static const int prefer[] = { 38, 40 };

			memcpy(w, raw + ph.p_offset + o, 16);
			if (w[0] != b->pcln_addr || w[1] != b->pcln_addr + b->pcln.funcnametab)
				continue;
			memcpy(w, raw + ph.p_offset + o, sizeof w);
			for (size_t k = 0; k < 2 && !b->gofunc_ok; k++)
				if (gofunc_plausible(b, w[prefer[k]])) {
					b->gofunc = w[prefer[k]];
					b->gofunc_ok = true;
				}
			for (int k = 20; k < 64 && !b->gofunc_ok; k++)
				if (w[k] && gofunc_plausible(b, w[k])) {
					b->gofunc = w[k];
					b->gofunc_ok = true;
				}
		}
	}
}

int gort_pcln_inline(struct gort_bin *b, uint64_t pc, bool is_ret, struct gort_frame *out, int max)
{
	uint64_t at = is_ret && pc ? pc - 1 : pc, off, tree, trace;
	struct gort_pcln_func f;
	struct gort_frame outer;
	bool abs;
	int n = 0;

	if (max <= 0 || gort_symbolize(b, pc, is_ret, &outer) != 0 || !b->have_pcln || at < b->bias ||
	    gort_pcln_func_at(&b->pcln, at - b->bias, &f) != 0)
		return -1;
	if (!b->gofunc_looked)
		find_gofunc(b);
	trace = at - b->bias;
	/* runtime.gentraceback's inline expansion: while pc is inside an
	 * inlined body, report it and move to the call site in its caller. */
	if (b->gofunc_ok && gort_pcln_funcdata(&b->pcln, &f, 3, &off, &abs) == 0) {
		tree = abs ? off : b->gofunc + off;
		for (int depth = 0; depth < 64 && n < max - 1; depth++) {
			int32_t ix;
			struct inl e;
			const char *file = NULL, *name;
			int line = 0;

			if (gort_pcln_pcdata(&b->pcln, &f, 2, trace, &ix) != 0 || ix < 0 ||
			    !read_inl(b, tree, ix, &e) || !(name = gort_pcln_name(&b->pcln, e.nameoff)) ||
			    e.parent_pc < 0 || (uint64_t)e.parent_pc >= f.end - f.entry)
				break;
			(void)gort_pcln_line(&b->pcln, &f, trace, &file, &line);
			out[n] = outer;
			out[n].func = gort_func_name(b, name);
			out[n].off = out[n].size = 0;
			out[n].file = file;
			out[n].line = line;
			out[n].inlined = true;
			n++;
			trace = f.entry + (uint64_t)e.parent_pc;
		}
	}
	out[n] = outer;
	{
		const char *file;
		int line;

		if (n > 0 && gort_pcln_line(&b->pcln, &f, trace, &file, &line) == 0) {
			out[n].file = file;
			out[n].line = line;
		}
	}
	return n + 1;
}
