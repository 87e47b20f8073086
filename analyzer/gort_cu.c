/* gort_cu.c — find the compile unit that covers an address.
 *
 * libdw (0.188) maps addresses to CUs through .debug_aranges only, and the
 * Go linker writes none, so dwfl_module_addrdie and dwfl_module_getsrc fail
 * on every Go binary ("address out of range").  gdb builds its own index
 * from each CU's DW_AT_ranges; so does this file: one sorted array of
 * ranges, built on first use from libdw's dwarf_ranges, searched by
 * bisection.  Lines then come from dwarf_getsrc_die on the CU found.
 */
#include <stdlib.h>

#include "gort_int.h"

static int cmp_range(const void *a, const void *b)
{
	const struct gort_curange *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int add_range(struct gort_bin *b, size_t *cap, uint64_t lo, uint64_t hi, Dwarf_Off cu)
{
	if (b->ncus == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct gort_curange *n = realloc(b->cus, ncap * sizeof *n);

		if (!n)
			return -1;
		b->cus = n;
		*cap = ncap;
	}
	b->cus[b->ncus++] = (struct gort_curange){ lo, hi, cu };
	return 0;
}

static void build_index(struct gort_bin *b)
{
	Dwarf_Off off = 0, next;
	size_t hsize, cap = 0;

	b->cus_built = true;
	b->dw = dwfl_module_getdwarf(b->mod, &b->dwbias);
	if (!b->dw)
		return;
	while (dwarf_nextcu(b->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		Dwarf_Addr base, start, end;
		ptrdiff_t r = 0;

		if (dwarf_offdie(b->dw, off + hsize, &cu)) {
			while ((r = dwarf_ranges(&cu, r, &base, &start, &end)) > 0)
				if (end > start && add_range(b, &cap, start, end, off + hsize) != 0)
					return;
		}
		off = next;
	}
	qsort(b->cus, b->ncus, sizeof *b->cus, cmp_range);
}

bool gort_addr_cu(struct gort_bin *b, uint64_t pc, Dwarf_Die *cu)
{
	size_t lo = 0, hi;
	uint64_t a;

	if (!b->cus_built)
		build_index(b);
	if (!b->dw || pc < b->dwbias)
		return false;
	a = pc - b->dwbias;
	/* Last range starting at or before a. */
	hi = b->ncus;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->cus[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || a >= b->cus[lo - 1].hi)
		return false;
	return dwarf_offdie(b->dw, b->cus[lo - 1].cu, cu) != NULL;
}
