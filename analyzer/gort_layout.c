/* gort_layout.c — offsets inside runtime.g and runtime.m from the binary's
 * DWARF types (runtime2.go: g, m, gobuf, stack), so gotap follows whatever
 * Go version built the target instead of hard-coding offsets.
 *
 * Without DWARF types (-ldflags=-w) the numbers come from gort_offsets.c.
 *
 * Go emits its types as top-level DIEs (DW_TAG_structure_type "runtime.g")
 * with constant DW_AT_data_member_location members; nested fields such as
 * g.sched.pc are reached through each member's DW_AT_type, which for a
 * named struct is a DW_TAG_typedef of it.
 */
#include <string.h>

#include "gort_int.h"

/* runtime/stack.go: stackPreempt = uintptrMask & -1314.  A constant: Go
 * emits no DWARF for it. */
#define GORT_STACK_PREEMPT 0xfffffffffffffadeULL

/* Look for runtime.g and runtime.m among the top-level DIEs of one CU. */
static void scan_cu(Dwarf *dw, Dwarf_Off cuoff, Dwarf_Die *g, bool *have_g, Dwarf_Die *m, bool *have_m)
{
	Dwarf_Die cu, d;

	if (!dwarf_offdie(dw, cuoff, &cu) || dwarf_child(&cu, &d) != 0)
		return;
	do {
		const char *n;

		if (dwarf_tag(&d) != DW_TAG_structure_type || !(n = dwarf_diename(&d)))
			continue;
		if (!*have_g && !strcmp(n, "runtime.g")) {
			*g = d;
			*have_g = true;
		} else if (!*have_m && !strcmp(n, "runtime.m")) {
			*m = d;
			*have_m = true;
		}
	} while (!(*have_g && *have_m) && dwarf_siblingof(&d, &d) == 0);
}

/* Find the structure types runtime.g and runtime.m.  Go writes no
 * DW_AT_sibling, so scanning a CU's top level parses all of its DIEs; the
 * linker puts the types in a CU named "runtime" after the code's CUs, so
 * the CUs named "runtime" are scanned first, last one first, then the rest.
 * Returns true when both were found. */
static bool find_g_m(Dwarf *dw, Dwarf_Die *g, Dwarf_Die *m)
{
	enum { MAXCU = 4096 };
	static const int passes = 2;
	Dwarf_Off offs[MAXCU], off = 0, next;
	bool is_rt[MAXCU], have_g = false, have_m = false;
	size_t hsize, n = 0;

	while (n < MAXCU && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		const char *name;

		offs[n] = off + hsize;
		is_rt[n] = dwarf_offdie(dw, off + hsize, &cu) && (name = dwarf_diename(&cu)) &&
			   !strcmp(name, "runtime");
		n++;
		off = next;
	}
	for (int pass = 0; pass < passes; pass++)
		for (size_t i = n; i-- > 0 && !(have_g && have_m);)
			if (is_rt[i] == (pass == 0))
				scan_cu(dw, offs[i], g, &have_g, m, &have_m);
	return have_g && have_m;
}

/* Offset of the member called name (length len) in struct die; its type DIE
 * goes to *type.  Returns -1 if absent or not a constant offset. */
static int64_t member(Dwarf_Die *st, const char *name, size_t len, Dwarf_Die *type)
{
	Dwarf_Die d;

	if (dwarf_child(st, &d) != 0)
		return -1;
	do {
		const char *n = dwarf_diename(&d);
		Dwarf_Attribute a;
		Dwarf_Word off;

		if (dwarf_tag(&d) != DW_TAG_member || !n || strlen(n) != len ||
		    memcmp(n, name, len) != 0)
			continue;
		if (!dwarf_attr(&d, DW_AT_data_member_location, &a) ||
		    dwarf_formudata(&a, &off) != 0)
			return -1;
		if (!dwarf_attr(&d, DW_AT_type, &a) || !dwarf_formref_die(&a, type))
			return -1;
		return (int64_t)off;
	} while (dwarf_siblingof(&d, &d) == 0);
	return -1;
}

/* Offset of a dotted field path ("sched.pc") inside struct st. */
static int64_t path_offset(Dwarf_Die *st, const char *path)
{
	Dwarf_Die cur = *st, type;
	int64_t total = 0;

	for (;;) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		int64_t off = member(&cur, path, len, &type);

		if (off < 0)
			return -1;
		total += off;
		if (!dot)
			return total;
		/* Go wraps named struct types in a DW_TAG_typedef. */
		if (dwarf_peel_type(&type, &cur) != 0)
			return -1;
		path = dot + 1;
	}
}

int gort_layout(struct gort_bin *b, struct gort_layout *out, char *err, size_t errlen)
{
	static const struct { bool in_m; const char *path; size_t off; } fields[] = {
		{ false, "stack.lo", offsetof(struct gort_layout, g_stack_lo) },
		{ false, "stack.hi", offsetof(struct gort_layout, g_stack_hi) },
		{ false, "stackguard0", offsetof(struct gort_layout, g_stackguard0) },
		{ false, "m", offsetof(struct gort_layout, g_m) },
		{ false, "sched.sp", offsetof(struct gort_layout, g_sched_sp) },
		{ false, "sched.pc", offsetof(struct gort_layout, g_sched_pc) },
		{ false, "sched.bp", offsetof(struct gort_layout, g_sched_bp) },
		{ false, "sched.lr", offsetof(struct gort_layout, g_sched_lr) },
		{ false, "goid", offsetof(struct gort_layout, g_goid) },
		{ true, "g0", offsetof(struct gort_layout, m_g0) },
		{ true, "curg", offsetof(struct gort_layout, m_curg) },
		{ true, "morebuf.sp", offsetof(struct gort_layout, m_morebuf_sp) },
		{ true, "morebuf.pc", offsetof(struct gort_layout, m_morebuf_pc) },
		{ true, "morebuf.lr", offsetof(struct gort_layout, m_morebuf_lr) },
		{ true, "procid", offsetof(struct gort_layout, m_procid) },
	};
	Dwarf_Addr bias;
	Dwarf *dw = dwfl_module_getdwarf(b->mod, &bias);
	Dwarf_Die g, m;

	memset(out, 0, sizeof *out);
	if (!dw || !find_g_m(dw, &g, &m)) {
		/* -ldflags=-w: the per-version table, checked against the code. */
		if (b->have_pcln)
			return gort_layout_fallback(b, out, b->layout_note, sizeof b->layout_note);
		if (!dw)
			gort_err(err, errlen, "no DWARF in %s: %s", b->path, dwfl_errmsg(-1));
		else
			gort_err(err, errlen, "no DWARF type runtime.g / runtime.m in %s", b->path);
		return -1;
	}
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		int64_t off = path_offset(fields[i].in_m ? &m : &g, fields[i].path);

		if (off < 0 || off > UINT32_MAX) {
			gort_err(err, errlen, "DWARF type runtime.%s has no field %s",
				 fields[i].in_m ? "m" : "g", fields[i].path);
			return -1;
		}
		*(uint32_t *)((char *)out + fields[i].off) = (uint32_t)off;
	}
	out->stack_preempt = GORT_STACK_PREEMPT;
	gort_err(b->layout_note, sizeof b->layout_note, "runtime layout from DWARF types");
	return 0;
}

const char *gort_layout_source(const struct gort_bin *b)
{
	return b && b->layout_note[0] ? b->layout_note : "runtime layout not read yet";
}
