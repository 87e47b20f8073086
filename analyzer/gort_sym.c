/* gort_sym.c — pc -> function+offset/size, file:line, module, through
 * libdwfl (ELF symbol table for functions, DWARF line table for lines),
 * with a direct-mapped cache by pc as in strace's unwind-libdw.c: a growth
 * site repeats, so after warm-up a frame costs one array lookup.
 */
#include <string.h>

#include "gort_int.h"

static size_t slot_of(uint64_t key)
{
	/* Fibonacci hashing spreads nearby return addresses over the table. */
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 52) & (GORT_CACHE_SLOTS - 1);
}

/* Uncached lookup; fills *out and returns 0, or -1 if no function covers pc. */
static int lookup(struct gort_bin *b, uint64_t pc, bool is_ret, struct gort_frame *out)
{
	uint64_t at = is_ret && pc ? pc - 1 : pc;
	GElf_Off off;
	GElf_Sym sym;
	GElf_Word shndx;
	Elf *elf;
	Dwarf_Addr bias;
	const char *name;
	Dwfl_Line *line;
	Dwarf_Line *dl;
	Dwarf_Die cu;

	memset(out, 0, sizeof *out);
	out->pc = pc;
	if (dwfl_addrmodule(b->dwfl, at) != b->mod)
		return -1;
	out->module = b->path;
	name = dwfl_module_addrinfo(b->mod, at, &off, &sym, &shndx, &elf, &bias);
	if (name) {
		out->func = gort_func_name(b, name);
		out->off = pc - (at - off);
		out->size = sym.st_size;
	}
	line = dwfl_module_getsrc(b->mod, at);
	if (line) {
		int lineno = 0;
		const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);

		if (file) {
			out->file = file;
			out->line = lineno;
		}
	} else if (gort_addr_cu(b, at, &cu) && (dl = dwarf_getsrc_die(&cu, at - b->dwbias))) {
		/* No .debug_aranges (every Go binary): through our CU index. */
		const char *file = dwarf_linesrc(dl, NULL, NULL);
		int lineno = 0;

		if (file && dwarf_lineno(dl, &lineno) == 0) {
			out->file = file;
			out->line = lineno;
		}
	}
	return out->func ? 0 : -1;
}

int gort_symbolize(struct gort_bin *b, uint64_t pc, bool is_return_addr,
		   struct gort_frame *out)
{
	uint64_t key = pc << 1 | (is_return_addr ? 1 : 0);
	struct gort_cache_ent *e;

	if (key == 0) {                 /* pc 0: never cached, never known */
		memset(out, 0, sizeof *out);
		return -1;
	}
	e = &b->cache[slot_of(key)];
	if (e->key != key) {
		e->rc = lookup(b, pc, is_return_addr, &e->fr);
		e->key = key;
	}
	*out = e->fr;
	return e->rc;
}
