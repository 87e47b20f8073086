/* gort_inline.c — expand the inlined calls at a pc into frames.
 *
 * The Go compiler inlines small functions (fmt.Println into main.say) and
 * records each inlined body as a DW_TAG_inlined_subroutine inside the
 * function's DW_TAG_subprogram, with DW_AT_abstract_origin (the inlined
 * function) and DW_AT_call_file/DW_AT_call_line (where it was called).
 * libdw's dwarf_getscopes lists the scopes around a pc innermost first; the
 * line table gives the innermost file:line, each inlined_subroutine the
 * call site one level out.  Without DWARF, pclntab's inline tree gives the
 * same chain (gort_pcln_inline).
 */
#include <stdlib.h>
#include <string.h>

#include "gort_int.h"

/* DW_AT_call_file/DW_AT_call_line of an inlined_subroutine. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *inl, const char **file, int *line)
{
	Dwarf_Attribute a;
	Dwarf_Word idx, ln;
	Dwarf_Files *files;
	size_t nfiles;

	*file = NULL;
	*line = 0;
	if (dwarf_attr(inl, DW_AT_call_line, &a) && dwarf_formudata(&a, &ln) == 0)
		*line = (int)ln;
	if (dwarf_attr(inl, DW_AT_call_file, &a) && dwarf_formudata(&a, &idx) == 0 &&
	    dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && idx < nfiles)
		*file = dwarf_filesrc(files, idx, NULL, NULL);
}

/* Uncached expansion into out[0..max); returns the count or -1. */
static int expand(struct gort_bin *b, uint64_t pc, bool is_ret, struct gort_frame *out, int max)
{
	struct gort_frame outer;
	Dwarf_Die cu, *scopes = NULL;
	int nscopes, n = 0;

	if (gort_symbolize(b, pc, is_ret, &outer) != 0)
		return -1;
	if (max <= 0)
		return 0;
	if (!b->has_dwarf)              /* -w: the runtime's own inline tree */
		return (n = gort_pcln_inline(b, pc, is_ret, out, max)) > 0 ? n : (out[0] = outer, 1);
	if (!gort_addr_cu(b, is_ret ? pc - 1 : pc, &cu) ||
	    (nscopes = dwarf_getscopes(&cu, (is_ret ? pc - 1 : pc) - b->dwbias, &scopes)) <= 0) {
		out[0] = outer;
		free(scopes);
		return 1;
	}
	/* Innermost first: each inlined_subroutine is one frame at the
	 * position set by the scope inside it (or the line table). */
	const char *file = outer.file;
	int line = outer.line;

	for (int i = 0; i < nscopes && n < max - 1; i++) {
		Dwarf_Attribute a;
		const char *name;

		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		name = dwarf_attr_integrate(&scopes[i], DW_AT_name, &a) ? dwarf_formstring(&a) : NULL;
		out[n] = outer;
		out[n].func = name ? name : "?";
		out[n].off = out[n].size = 0;
		out[n].file = file;
		out[n].line = line;
		out[n].inlined = true;
		n++;
		call_site(&cu, &scopes[i], &file, &line);
	}
	free(scopes);
	out[n] = outer;
	out[n].file = file;
	out[n].line = line;
	return n + 1;
}

int gort_symbolize_inline(struct gort_bin *b, uint64_t pc, bool is_return_addr,
			  struct gort_frame *out, int max)
{
	uint64_t key = pc << 1 | (is_return_addr ? 1 : 0);
	struct gort_inline_ent *e;
	int n;

	if (key == 0)
		return -1;
	if (!b->inline_cache && !(b->inline_cache = calloc(GORT_INLINE_SLOTS, sizeof *b->inline_cache)))
		return expand(b, pc, is_return_addr, out, max);
	e = &b->inline_cache[(size_t)((key * 0x9e3779b97f4a7c15ULL) >> 54) & (GORT_INLINE_SLOTS - 1)];
	if (e->key != key) {
		e->n = expand(b, pc, is_return_addr, e->fr, GORT_INLINE_MAX);
		e->key = key;
	}
	if (e->n < 0)
		return -1;
	n = e->n < max ? e->n : max;
	if (n > 0) {
		memcpy(out, e->fr, (size_t)n * sizeof *out);
		/* Cut short: the last entry given is still the outermost known. */
		if (n < e->n)
			out[n - 1] = e->fr[e->n - 1];
	}
	return n;
}

int gort_expand_inline(struct gort_bin *b, const struct gort_frame *in, int n,
		       struct gort_frame *out, int max)
{
	struct gort_frame chain[GORT_INLINE_MAX];
	int k = 0;

	for (int i = 0; i < n && k < max; i++) {
		/* Frame 0 is f at its stack check (no inlined code there) and
		 * the others are return addresses: looked up at pc - 1. */
		int c = in[i].func ? gort_symbolize_inline(b, in[i].pc, true, chain, GORT_INLINE_MAX) : -1;
		if (c <= 1 || c > max - k) {
			/* nothing inlined here, or no room left for the whole
			 * chain: the frame as unwound (and the last one) */
			out[k++] = in[i];
			if (c > 1)
				break;
			continue;
		}
		for (int j = 0; j < c - 1; j++)
			out[k++] = chain[j];
		/* the frame as unwound (its function, offset, module), at the
		 * line of the call the compiler inlined */
		out[k] = in[i];
		out[k].file = chain[c - 1].file;
		out[k].line = chain[c - 1].line;
		k++;
	}
	return k;
}
