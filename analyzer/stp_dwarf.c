/* stp_dwarf.c — what the script language needs from the program's DWARF
 * (libdw): probe addresses and target variables.
 *
 *  - process("P").function("F"): F's address after its prologue (the
 *    line-table row flagged prologue_end, else the function's second row —
 *    gdb's `break F`).  statement("F@FILE:LINE"): the lowest is_stmt row of
 *    LINE inside F whose file ends with FILE (gdb's `break FILE:LINE`);
 *    when no file name ends with FILE (another Go installation), the
 *    basename decides and a note says which file was used.
 *  - $var: the innermost variable or parameter named var whose scope holds
 *    the probe pc; its location list entry at that pc (registers, frame base
 *    = DW_OP_call_frame_cfa via the CFI, pieces) is copied at compile time,
 *    so a hit only reads registers and memory.  ->member, [index] (arrays,
 *    pointers, Go slices), @cast(addr, "TYPE"), @var("pkg.name").
 *    Go strings ({str, len}) read as script strings; other values as
 *    numbers.  A name that is not there, or has no location at the probe
 *    pc, is a compile-time error.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rsp.h"
#include "stp_int.h"

struct stp_dwarf {
	int fd;
	Dwarf *dw;
	Dwarf_CFI *cfi;
	uint64_t bias;
	char *path;
};

#define TV_MAXLOC 48
#define TV_MAXOPS 48

enum tv_base { TB_LOC, TB_ADDR, TB_CAST };
enum tv_opk { TV_DEREF, TV_OFFSET, TV_INDEX };
enum tv_final { TF_INT, TF_UINT, TF_GOSTRING, TF_STRUCT, TF_FLOAT, TF_BOOL };

struct tvop {
	enum tv_opk kind;
	int64_t off;
	uint64_t elem;
	struct stp_node *index;
};

struct stp_tvar {
	enum tv_base base;
	Dwarf_Op loc[TV_MAXLOC];
	size_t nloc;
	Dwarf_Op fb[8];
	size_t nfb;
	Dwarf_Op cfa[8];
	size_t ncfa;
	uint64_t addr;            /* TB_ADDR */
	struct tvop ops[TV_MAXOPS];
	int nops;
	enum tv_final final;
	int size;
};

struct stp_dwarf *stp_dwarf_open(const char *path, uint64_t bias, char *err, size_t errlen)
{
	struct stp_dwarf *d = calloc(1, sizeof *d);
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		snprintf(err, errlen, "cannot open %s", path);
		free(d);
		return NULL;
	}
	d->dw = dwarf_begin(d->fd, DWARF_C_READ);
	if (d->dw == NULL) {
		snprintf(err, errlen, "%s has no DWARF debug information (built with -ldflags=-w?): "
			 "probes and target variables need it", path);
		close(d->fd);
		free(d);
		return NULL;
	}
	d->cfi = dwarf_getcfi(d->dw);
	if (d->cfi == NULL)
		d->cfi = dwarf_getcfi_elf(dwarf_getelf(d->dw));
	d->bias = bias;
	d->path = strdup(path);
	return d;
}

void stp_dwarf_close(struct stp_dwarf *d)
{
	if (d == NULL)
		return;
	dwarf_end(d->dw);
	close(d->fd);
	free(d->path);
	free(d);
}

/* ------------------------------------------------------------ lookup */

/* Visit the top-level DIEs of every CU; cb returns 1 to stop (found). */
static int each_top_die(struct stp_dwarf *d, int (*cb)(Dwarf_Die *cu, Dwarf_Die *die, void *arg), void *arg)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, child;
		if (dwarf_offdie(d->dw, off + hsize, &cu) != NULL && dwarf_child(&cu, &child) == 0) {
			do {
				int r = cb(&cu, &child, arg);
				if (r)
					return r;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		off = next;
	}
	return 0;
}

struct find_arg {
	const char *name;
	int tag1, tag2, tag3;
	bool need_pc;
	Dwarf_Die die, cu;
};

static int find_cb(Dwarf_Die *cu, Dwarf_Die *die, void *arg)
{
	struct find_arg *a = arg;
	int tag = dwarf_tag(die);
	if (tag != a->tag1 && tag != a->tag2 && tag != a->tag3)
		return 0;
	const char *nm = dwarf_diename(die);
	if (nm == NULL || strcmp(nm, a->name) != 0)
		return 0;
	if (a->need_pc) {
		Dwarf_Addr lo;
		if (dwarf_lowpc(die, &lo) != 0)
			return 0; /* abstract instance of an inlined function */
	}
	a->die = *die;
	a->cu = *cu;
	return 1;
}

static bool find_die(struct stp_dwarf *d, const char *name, int t1, int t2, int t3, bool need_pc,
		     Dwarf_Die *die, Dwarf_Die *cu)
{
	struct find_arg a = { .name = name, .tag1 = t1, .tag2 = t2, .tag3 = t3, .need_pc = need_pc };
	if (each_top_die(d, find_cb, &a) != 1)
		return false;
	*die = a.die;
	if (cu)
		*cu = a.cu;
	return true;
}

struct match_arg {
	const char *pat;
	char **v;
	int n;
	bool oom;
};

static int match_cb(Dwarf_Die *cu, Dwarf_Die *die, void *arg)
{
	(void)cu;
	struct match_arg *a = arg;
	Dwarf_Addr lo;
	const char *nm;
	if (dwarf_tag(die) != DW_TAG_subprogram || (nm = dwarf_diename(die)) == NULL ||
	    fnmatch(a->pat, nm, 0) != 0 || dwarf_lowpc(die, &lo) != 0)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->v[i], nm) == 0)
			return 0;
	char **v = realloc(a->v, (size_t)(a->n + 1) * sizeof *v);
	if (v == NULL || (v[a->n] = strdup(nm)) == NULL) {
		if (v)
			a->v = v;
		a->oom = true;
		return 1;
	}
	a->v = v;
	a->n++;
	return a->n >= 10000;   /* enough */
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int stp_dwarf_match(struct stp_dwarf *d, const char *pattern, char ***names)
{
	struct match_arg a = { .pat = pattern };
	each_top_die(d, match_cb, &a);
	if (a.oom) {
		for (int i = 0; i < a.n; i++)
			free(a.v[i]);
		free(a.v);
		return -1;
	}
	if (a.n > 1)
		qsort(a.v, (size_t)a.n, sizeof *a.v, cmp_str);
	*names = a.v;
	return a.n;
}

/* Is `suffix` a path suffix of `path` (whole components)? */
static bool path_suffix(const char *path, const char *suffix)
{
	size_t lp = strlen(path), ls = strlen(suffix);
	if (ls > lp || strcmp(path + lp - ls, suffix) != 0)
		return false;
	return ls == lp || suffix[0] == '/' || path[lp - ls - 1] == '/';
}

int stp_dwarf_probe(struct stp_dwarf *d, struct stp_probe *p, char *err, size_t errlen)
{
	char fname[256], file[512] = "";
	long line = 0;
	snprintf(fname, sizeof fname, "%s", p->spec);
	if (p->kind == P_STATEMENT) {
		char *at = strchr(fname, '@');
		char *colon = at ? strrchr(at, ':') : NULL;
		if (at == NULL || colon == NULL) {
			snprintf(err, errlen, "statement probes are written \"FUNC@FILE:LINE\", not \"%s\"", p->spec);
			return -1;
		}
		*at = '\0';
		*colon = '\0';
		snprintf(file, sizeof file, "%s", at + 1);
		char *end;
		line = strtol(colon + 1, &end, 10);
		if (*end != '\0' || line <= 0) {
			snprintf(err, errlen, "bad line number '%s' in \"%s\"", colon + 1, p->spec);
			return -1;
		}
	}
	if (strpbrk(fname, "*?[") != NULL) {
		snprintf(err, errlen, "wildcards are supported in function(\"...\") only, not in statements (\"%s\")",
			 fname);
		return -1;
	}
	Dwarf_Die fn, cu;
	if (!find_die(d, fname, DW_TAG_subprogram, -1, -1, true, &fn, &cu)) {
		snprintf(err, errlen, "no function %s in %s", fname, d->path);
		return -1;
	}
	Dwarf_Addr lo, hi;
	if (dwarf_lowpc(&fn, &lo) != 0 || dwarf_highpc(&fn, &hi) != 0) {
		snprintf(err, errlen, "function %s has no address range", fname);
		return -1;
	}
	Dwarf_Lines *lines;
	size_t nl;
	if (dwarf_getsrclines(&cu, &lines, &nl) != 0) {
		snprintf(err, errlen, "no line table for %s", fname);
		return -1;
	}
	uint64_t best = 0;
	bool found = false;
	if (p->kind == P_FUNCTION) {
		/* prologue_end, else the second distinct address */
		uint64_t second = 0;
		for (size_t i = 0; i < nl; i++) {
			Dwarf_Line *l = dwarf_onesrcline(lines, i);
			Dwarf_Addr a;
			bool pe = false;
			if (l == NULL || dwarf_lineaddr(l, &a) != 0 || a < lo || a >= hi)
				continue;
			dwarf_lineprologueend(l, &pe);
			if (pe && (!found || a < best)) {
				best = a;
				found = true;
			}
			if (a > lo && (second == 0 || a < second))
				second = a;
		}
		if (!found) {
			best = second ? second : lo;
			found = true;
		}
	} else {
		const char *used = NULL;
		for (int pass = 0; pass < 2 && !found; pass++) {
			const char *base = strrchr(file, '/');
			base = base ? base + 1 : file;
			for (size_t i = 0; i < nl; i++) {
				Dwarf_Line *l = dwarf_onesrcline(lines, i);
				Dwarf_Addr a;
				int ln;
				bool stmt = false;
				if (l == NULL || dwarf_lineaddr(l, &a) != 0 || a < lo || a >= hi ||
				    dwarf_lineno(l, &ln) != 0 || ln != line)
					continue;
				dwarf_linebeginstatement(l, &stmt);
				const char *src = dwarf_linesrc(l, NULL, NULL);
				if (!stmt || src == NULL)
					continue;
				if (pass == 0 ? !path_suffix(src, file) : !path_suffix(src, base))
					continue;
				if (!found || a < best) {
					best = a;
					used = src;
				}
				found = true;
			}
			if (found && pass == 1)
				fprintf(stderr, "gotap: note: no source file of %s ends in %s; using %s:%ld\n", fname, file,
					used, line);
		}
		if (!found) {
			snprintf(err, errlen, "no statement at %s:%ld in function %s (is the line inside %s, "
				 "in this Go version's source?)", file, line, fname, fname);
			return -1;
		}
	}
	p->addr = best + d->bias;
	free(p->func);
	p->func = strdup(fname);
	free(p->fdie);
	p->fdie = malloc(sizeof(Dwarf_Off));
	if (p->func == NULL || p->fdie == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*(Dwarf_Off *)p->fdie = dwarf_dieoffset(&fn);
	return 0;
}

/* ------------------------------------------------------------ variables */

/* Innermost DIE named `name` (variable or parameter) whose scope holds pc,
 * searching fn's children and lexical blocks. */
static bool find_var(Dwarf_Die *scope, const char *name, Dwarf_Addr pc, Dwarf_Die *out, int depth)
{
	Dwarf_Die child;
	bool found = false;
	if (depth > 32 || dwarf_child(scope, &child) != 0)
		return false;
	do {
		int tag = dwarf_tag(&child);
		if (tag == DW_TAG_lexical_block) {
			if (dwarf_haspc(&child, pc) == 1 && find_var(&child, name, pc, out, depth + 1))
				return true; /* inner scope wins */
		} else if (tag == DW_TAG_variable || tag == DW_TAG_formal_parameter) {
			const char *nm = dwarf_diename(&child);
			if (nm && strcmp(nm, name) == 0 && !found) {
				*out = child;
				found = true;
			}
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return found;
}

/* Names of the variables visible at pc (params first when which has
 * "parms"/"vars"). */
struct namelist {
	char **v;
	int n;
};

static void add_name(struct namelist *nl, const char *s)
{
	for (int i = 0; i < nl->n; i++)
		if (strcmp(nl->v[i], s) == 0)
			return;
	char **v = realloc(nl->v, (size_t)(nl->n + 1) * sizeof *v);
	if (v == NULL)
		return;
	nl->v = v;
	if ((v[nl->n] = strdup(s)) != NULL)
		nl->n++;
}

static void list_vars(Dwarf_Die *scope, Dwarf_Addr pc, int want_tag, struct namelist *nl, int depth)
{
	Dwarf_Die child;
	if (depth > 32 || dwarf_child(scope, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		if (tag == DW_TAG_lexical_block) {
			if (dwarf_haspc(&child, pc) == 1)
				list_vars(&child, pc, want_tag, nl, depth + 1);
		} else if (tag == want_tag) {
			const char *nm = dwarf_diename(&child);
			if (nm && nm[0] != '~' && nm[0] != '.')
				add_name(nl, nm);
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static bool probe_fn(struct stp_dwarf *d, struct stp_probe *p, Dwarf_Die *fn)
{
	return p && p->fdie && dwarf_offdie(d->dw, *(Dwarf_Off *)p->fdie, fn) != NULL;
}

int stp_dwarf_varlist(struct stp_dwarf *d, struct stp_probe *p, const char *which, char ***names, char *err,
		      size_t errlen)
{
	Dwarf_Die fn;
	if (d == NULL || !probe_fn(d, p, &fn)) {
		snprintf(err, errlen, "$$%s needs a probe in the program", which);
		return -1;
	}
	bool parms = strcmp(which, "parms") == 0, locals = strcmp(which, "locals") == 0;
	if (!parms && !locals && strcmp(which, "vars") != 0) {
		snprintf(err, errlen, "unknown $$%s (use $$vars, $$parms or $$locals)", which);
		return -1;
	}
	struct namelist nl = { 0 };
	Dwarf_Addr pc = p->addr - d->bias;
	if (!locals)
		list_vars(&fn, pc, DW_TAG_formal_parameter, &nl, 0);
	if (!parms)
		list_vars(&fn, pc, DW_TAG_variable, &nl, 0);
	*names = nl.v;
	return nl.n;
}

static Dwarf_Die *type_of(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;
	if (dwarf_attr_integrate(die, DW_AT_type, &a) == NULL || dwarf_formref_die(&a, out) == NULL)
		return NULL;
	return out;
}

/* Strip typedefs, const, volatile. */
static void peel(Dwarf_Die *t)
{
	for (int i = 0; i < 16; i++) {
		int tag = dwarf_tag(t);
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type)
			return;
		Dwarf_Die n;
		if (type_of(t, &n) == NULL)
			return;
		*t = n;
	}
}

static uint64_t type_size(Dwarf_Die *t)
{
	Dwarf_Word sz;
	Dwarf_Die c = *t;
	peel(&c);
	if (dwarf_tag(&c) == DW_TAG_pointer_type)
		return 8;
	if (dwarf_aggregate_size(&c, &sz) == 0)
		return sz;
	Dwarf_Attribute a;
	if (dwarf_attr(&c, DW_AT_byte_size, &a) && dwarf_formudata(&a, &sz) == 0)
		return sz;
	return 8;
}

static const char *tname(Dwarf_Die *t)
{
	const char *n = dwarf_diename(t);
	return n ? n : dwarf_tag(t) == DW_TAG_pointer_type ? "pointer" : "anonymous type";
}

static bool is_go_string(Dwarf_Die *t)
{
	const char *n = dwarf_diename(t);
	return dwarf_tag(t) == DW_TAG_structure_type && n && strcmp(n, "string") == 0;
}

static bool is_go_slice(Dwarf_Die *t)
{
	const char *n = dwarf_diename(t);
	return dwarf_tag(t) == DW_TAG_structure_type && n && strncmp(n, "[]", 2) == 0;
}

static bool member(Dwarf_Die *st, const char *name, Dwarf_Die *mem, int64_t *off)
{
	Dwarf_Die c;
	if (dwarf_child(st, &c) != 0)
		return false;
	do {
		if (dwarf_tag(&c) != DW_TAG_member)
			continue;
		const char *nm = dwarf_diename(&c);
		if (nm == NULL || strcmp(nm, name) != 0)
			continue;
		Dwarf_Attribute a;
		Dwarf_Word w = 0;
		if (dwarf_attr(&c, DW_AT_data_member_location, &a) && dwarf_formudata(&a, &w) != 0)
			return false;
		*mem = c;
		*off = (int64_t)w;
		return true;
	} while (dwarf_siblingof(&c, &c) == 0);
	return false;
}

static void member_names(Dwarf_Die *st, char *buf, size_t cap)
{
	Dwarf_Die c;
	size_t n = 0;
	buf[0] = '\0';
	if (dwarf_child(st, &c) != 0)
		return;
	do {
		const char *nm = dwarf_tag(&c) == DW_TAG_member ? dwarf_diename(&c) : NULL;
		if (nm && n + strlen(nm) + 3 < cap)
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", nm);
	} while (dwarf_siblingof(&c, &c) == 0);
}


/* Go writes single location expressions as DW_FORM_block1 in version 4
 * units, which libdw 0.188 refuses ("not a location list value"): decode
 * such a block ourselves (the operations Go emits).  Returns the number of
 * ops, or -1. */
static int decode_block(Dwarf_Attribute *a, Dwarf_Op *ops, size_t cap)
{
	Dwarf_Block b;
	if (dwarf_formblock(a, &b) != 0)
		return -1;
	const uint8_t *p = b.data, *end = b.data + b.length;
	size_t n = 0;
	while (p < end) {
		if (n == cap)
			return -1;
		Dwarf_Op o = { .atom = *p, .offset = (Dwarf_Word)(p - b.data) };
		p++;
		uint8_t at = o.atom;
		uint64_t u = 0;
		int shift = 0;
		bool uleb = at == DW_OP_regx || at == DW_OP_piece || at == DW_OP_plus_uconst || at == DW_OP_constu ||
			    at == DW_OP_bregx;
		bool sleb = at == DW_OP_fbreg || at == DW_OP_consts || (at >= DW_OP_breg0 && at <= DW_OP_breg31);
		if (at == DW_OP_addr) {
			if (end - p < 8)
				return -1;
			for (int i = 7; i >= 0; i--)
				u = (u << 8) | p[i];
			p += 8;
			o.number = u;
		} else if (uleb || sleb) {
			uint8_t byte;
			do {
				if (p >= end)
					return -1;
				byte = *p++;
				if (shift < 64)
					u |= (uint64_t)(byte & 0x7f) << shift;
				shift += 7;
			} while (byte & 0x80);
			if (sleb && shift < 64 && (byte & 0x40))
				u |= ~(uint64_t)0 << shift;
			o.number = u;
			if (at == DW_OP_bregx) {   /* second operand: sleb */
				uint64_t v = 0;
				shift = 0;
				do {
					if (p >= end)
						return -1;
					byte = *p++;
					if (shift < 64)
						v |= (uint64_t)(byte & 0x7f) << shift;
					shift += 7;
				} while (byte & 0x80);
				if (shift < 64 && (byte & 0x40))
					v |= ~(uint64_t)0 << shift;
				o.number2 = v;
			}
		} else if (!(at == DW_OP_call_frame_cfa || at == DW_OP_stack_value || at == DW_OP_deref ||
			     at == DW_OP_plus || at == DW_OP_minus || at == DW_OP_nop ||
			     (at >= DW_OP_lit0 && at <= DW_OP_lit31) || (at >= DW_OP_reg0 && at <= DW_OP_reg31))) {
			return -1;
		}
		ops[n++] = o;
	}
	return (int)n;
}

/* The location expression of attribute a at pc: a location list entry, or
 * the single expression.  Returns ops copied into buf, 0 if none covers pc,
 * -1 if unreadable. */
static int location_at(Dwarf_Attribute *a, Dwarf_Addr pc, Dwarf_Op *buf, size_t cap)
{
	Dwarf_Op *expr;
	size_t elen;
	int form = dwarf_whatform(a);
	if (form == DW_FORM_block1 || form == DW_FORM_block2 || form == DW_FORM_block4 || form == DW_FORM_block)
		return decode_block(a, buf, cap);
	int r = dwarf_getlocation_addr(a, pc, &expr, &elen, 1);
	if (r <= 0)
		return r;
	if (elen > cap)
		return -1;
	memcpy(buf, expr, elen * sizeof *expr);
	return (int)elen;
}

static int copy_ops(Dwarf_Op *dst, size_t cap, size_t *n, const Dwarf_Op *src, size_t len)
{
	if (len > cap)
		return -1;
	memcpy(dst, src, len * sizeof *src);
	*n = len;
	return 0;
}

/* Walk the steps over type t, appending ops to tv; sets final. */
static int compile_steps(struct stp_tvar *tv, Dwarf_Die t, struct stp_tvar_step *steps, int nsteps,
			 const char *base, bool allow_struct, char *err, size_t errlen)
{
	char what[400];
	snprintf(what, sizeof what, "%s", base);
	for (int i = 0; i < nsteps; i++) {
		if (i > 0) {
			size_t wl = strlen(what);
			if (steps[i - 1].kind == ST_MEMBER)
				snprintf(what + wl, sizeof what - wl, "->%s", steps[i - 1].name);
			else
				snprintf(what + wl, sizeof what - wl, "[...]");
		}
		peel(&t);
		if (tv->nops + 2 >= TV_MAXOPS) {
			snprintf(err, errlen, "target variable access too long");
			return -1;
		}
		int tag = dwarf_tag(&t);
		if (steps[i].kind == ST_MEMBER) {
			if (tag == DW_TAG_pointer_type) {
				Dwarf_Die pt;
				if (type_of(&t, &pt) == NULL) {
					snprintf(err, errlen, "%s is an untyped pointer: cannot take ->%s", what, steps[i].name);
					return -1;
				}
				tv->ops[tv->nops++] = (struct tvop){ .kind = TV_DEREF };
				t = pt;
				peel(&t);
				tag = dwarf_tag(&t);
			}
			if (tag != DW_TAG_structure_type && tag != DW_TAG_union_type) {
				snprintf(err, errlen, "%s is a %s, not a struct: no member '%s'", what, tname(&t),
					 steps[i].name);
				return -1;
			}
			Dwarf_Die m, mt;
			int64_t off;
			if (!member(&t, steps[i].name, &m, &off)) {
				char names[300];
				member_names(&t, names, sizeof names);
				snprintf(err, errlen, "%s (type %s) has no member '%s' (members: %s)", what, tname(&t),
					 steps[i].name, names);
				return -1;
			}
			tv->ops[tv->nops++] = (struct tvop){ .kind = TV_OFFSET, .off = off };
			if (type_of(&m, &mt) == NULL) {
				snprintf(err, errlen, "member %s has no type", steps[i].name);
				return -1;
			}
			t = mt;
		} else {
			Dwarf_Die et;
			if (tag == DW_TAG_array_type) {
				if (type_of(&t, &et) == NULL)
					return -1;
			} else if (tag == DW_TAG_pointer_type) {
				if (type_of(&t, &et) == NULL) {
					snprintf(err, errlen, "%s is an untyped pointer: cannot index it", what);
					return -1;
				}
				tv->ops[tv->nops++] = (struct tvop){ .kind = TV_DEREF };
			} else if (is_go_slice(&t)) {
				Dwarf_Die m, at;
				int64_t off;
				if (!member(&t, "array", &m, &off) || type_of(&m, &at) == NULL || type_of(&at, &et) == NULL) {
					snprintf(err, errlen, "cannot index slice %s", what);
					return -1;
				}
				tv->ops[tv->nops++] = (struct tvop){ .kind = TV_OFFSET, .off = off };
				tv->ops[tv->nops++] = (struct tvop){ .kind = TV_DEREF };
			} else {
				snprintf(err, errlen, "%s is a %s: only arrays, pointers and slices can be indexed", what,
					 tname(&t));
				return -1;
			}
			tv->ops[tv->nops++] = (struct tvop){ .kind = TV_INDEX, .elem = type_size(&et),
							     .index = steps[i].index };
			t = et;
		}
	}
	if (nsteps > 0) {
		size_t wl = strlen(what);
		if (steps[nsteps - 1].kind == ST_MEMBER)
			snprintf(what + wl, sizeof what - wl, "->%s", steps[nsteps - 1].name);
		else
			snprintf(what + wl, sizeof what - wl, "[...]");
	}
	peel(&t);
	int tag = dwarf_tag(&t);
	tv->size = (int)type_size(&t);
	if (tag == DW_TAG_pointer_type) {
		tv->final = TF_UINT;
		tv->size = 8;
	} else if (is_go_string(&t)) {
		tv->final = TF_GOSTRING;
	} else if (tag == DW_TAG_base_type) {
		Dwarf_Attribute a;
		Dwarf_Word enc = DW_ATE_signed;
		if (dwarf_attr(&t, DW_AT_encoding, &a))
			dwarf_formudata(&a, &enc);
		tv->final = enc == DW_ATE_signed || enc == DW_ATE_signed_char ? TF_INT
			: enc == DW_ATE_boolean ? TF_BOOL
			: enc == DW_ATE_float ? TF_FLOAT : TF_UINT;
		if (tv->size > 8 || tv->size <= 0) {
			snprintf(err, errlen, "%s has a %d-byte type %s, not readable as a number", what, tv->size,
				 tname(&t));
			return -1;
		}
	} else if (tag == DW_TAG_enumeration_type) {
		tv->final = TF_INT;
	} else if (allow_struct) {
		tv->final = TF_STRUCT;
	} else if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_array_type) {
		char names[300] = "";
		if (tag != DW_TAG_array_type)
			member_names(&t, names, sizeof names);
		snprintf(err, errlen, "%s is a %s %s: name a member%s%s", what,
			 tag == DW_TAG_array_type ? "array" : "struct", tname(&t), names[0] ? " (members: " : "",
			 names[0] ? names : "");
		if (names[0])
			strncat(err, ")", errlen - strlen(err) - 1);
		return -1;
	} else {
		tv->final = TF_UINT;
		if (tv->size > 8)
			tv->size = 8;
	}
	return 0;
}

int stp_dwarf_tvar(struct stp_dwarf *d, struct stp_probe *p, struct stp_node *n, struct stp_tvar_step *steps,
		   int nsteps, char *err, size_t errlen)
{
	struct stp_tvar *tv = calloc(1, sizeof *tv);
	if (tv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char what[300];
	Dwarf_Die t;
	if (n->kind == N_TVAR) {
		Dwarf_Die fn, var;
		snprintf(what, sizeof what, "$%s", n->str);
		if (!probe_fn(d, p, &fn)) {
			snprintf(err, errlen, "$%s: the probe has no function", n->str);
			goto fail;
		}
		Dwarf_Addr pc = p->addr - d->bias;
		if (!find_var(&fn, n->str, pc, &var, 0)) {
			struct namelist nl = { 0 };
			list_vars(&fn, pc, DW_TAG_formal_parameter, &nl, 0);
			list_vars(&fn, pc, DW_TAG_variable, &nl, 0);
			char names[400] = "";
			size_t k = 0;
			for (int i = 0; i < nl.n; i++) {
				if (k + strlen(nl.v[i]) + 4 < sizeof names)
					k += (size_t)snprintf(names + k, sizeof names - k, "%s$%s", i ? " " : "", nl.v[i]);
				free(nl.v[i]);
			}
			free(nl.v);
			snprintf(err, errlen, "unknown target variable $%s in %s (variables here: %s)", n->str, p->func,
				 names[0] ? names : "none");
			goto fail;
		}
		Dwarf_Attribute la;
		int nl = dwarf_attr_integrate(&var, DW_AT_location, &la) ? location_at(&la, pc, tv->loc, TV_MAXLOC) : 0;
		if (nl <= 0) {
			snprintf(err, errlen, "target variable $%s is not available at %s (pc 0x%" PRIx64
				 "): %s", n->str, p->text, p->addr,
				 nl < 0 ? "its DWARF location is not readable" : "optimized out or not live there");
			goto fail;
		}
		tv->nloc = (size_t)nl;
		tv->base = TB_LOC;
		Dwarf_Attribute fa;
		int nf = dwarf_attr(&fn, DW_AT_frame_base, &fa) ? location_at(&fa, pc, tv->fb, 8) : 0;
		tv->nfb = nf > 0 ? (size_t)nf : 0;
		if (tv->nfb == 0) {
			/* Go's frame base is always the CFA */
			tv->fb[0] = (Dwarf_Op){ .atom = DW_OP_call_frame_cfa };
			tv->nfb = 1;
		}
		if (d->cfi) {
			Dwarf_Frame *fr;
			Dwarf_Op *cops;
			size_t nc;
			if (dwarf_cfi_addrframe(d->cfi, pc, &fr) == 0) {
				if (dwarf_frame_cfa(fr, &cops, &nc) == 0)
					copy_ops(tv->cfa, 8, &tv->ncfa, cops, nc);
				free(fr);
			}
		}
		if (type_of(&var, &t) == NULL) {
			snprintf(err, errlen, "$%s has no type", n->str);
			goto fail;
		}
	} else if (n->kind == N_ATVAR) {
		char name[256];
		snprintf(name, sizeof name, "%s", n->str);
		char *at = strchr(name, '@');
		if (at)
			*at = '\0';
		snprintf(what, sizeof what, "@var(\"%s\")", name);
		Dwarf_Die var;
		if (!find_die(d, name, DW_TAG_variable, -1, -1, false, &var, NULL)) {
			snprintf(err, errlen, "no global variable %s in the program", name);
			goto fail;
		}
		Dwarf_Attribute la;
		Dwarf_Op expr[4];
		if (dwarf_attr(&var, DW_AT_location, &la) == NULL || location_at(&la, 0, expr, 4) != 1 ||
		    expr[0].atom != DW_OP_addr) {
			snprintf(err, errlen, "global %s has no static address", name);
			goto fail;
		}
		tv->base = TB_ADDR;
		tv->addr = expr[0].number + d->bias;
		if (type_of(&var, &t) == NULL) {
			snprintf(err, errlen, "%s has no type", name);
			goto fail;
		}
	} else {
		snprintf(what, sizeof what, "@cast(..., \"%s\")", n->str);
		const char *tn = n->str;
		if (!find_die(d, tn, DW_TAG_structure_type, DW_TAG_typedef, DW_TAG_base_type, false, &t, NULL) &&
		    !find_die(d, tn, DW_TAG_pointer_type, DW_TAG_union_type, DW_TAG_array_type, false, &t, NULL)) {
			snprintf(err, errlen, "no type named \"%s\" in the program's DWARF (Go names types "
				 "with their package: \"runtime.g\")", tn);
			goto fail;
		}
		tv->base = TB_CAST;
	}
	if (compile_steps(tv, t, steps, nsteps, what, n->kind == N_TVAR && n->op == 1,
			  err, errlen) < 0)
		goto fail;
	free(n->tv);
	n->tv = tv;
	n->type = tv->final == TF_GOSTRING || tv->final == TF_STRUCT ? TY_STR : TY_NUM;
	return 0;
fail:
	free(tv);
	return -1;
}

/* ------------------------------------------------------------ runtime */

/* DWARF x86-64 register number -> RSP amd64 register number. */
static int dw2rsp(unsigned r)
{
	static const int map[17] = {
		RSP_AMD64_RAX, RSP_AMD64_RDX, RSP_AMD64_RCX, RSP_AMD64_RBX, RSP_AMD64_RSI, RSP_AMD64_RDI,
		RSP_AMD64_RBP, RSP_AMD64_RSP, RSP_AMD64_R8, RSP_AMD64_R9, RSP_AMD64_R10, RSP_AMD64_R11,
		RSP_AMD64_R12, RSP_AMD64_R13, RSP_AMD64_R14, RSP_AMD64_R15, RSP_AMD64_RIP,
	};
	return r < 17 ? map[r] : -1;
}

/* A located value: in memory, or its bytes (registers, pieces, values). */
struct loc {
	bool mem;
	uint64_t addr;
	uint8_t bytes[64];
	size_t len;
};

static int reg(struct stp_rt *rt, struct stp_node *at, unsigned dwreg, uint64_t *v)
{
	int r = dw2rsp(dwreg);
	if (r < 0)
		return stp_rt_error(rt, at, "DWARF register %u is not readable by gotap", dwreg);
	if (rt->tgt->read_reg(rt->tgt->ctx, r, v) < 0)
		return stp_rt_error(rt, at, "cannot read register %s", rsp_amd64_regs[r].name);
	return 0;
}

static int run_ops(struct stp_rt *rt, struct stp_node *at, const struct stp_tvar *tv, const Dwarf_Op *ops,
		   size_t nops, struct loc *out, int depth);

static int eval_cfa(struct stp_rt *rt, struct stp_node *at, const struct stp_tvar *tv, uint64_t *cfa, int depth)
{
	struct loc l;
	if (tv->ncfa == 0)
		return stp_rt_error(rt, at, "no call frame information at the probe address");
	if (run_ops(rt, at, tv, tv->cfa, tv->ncfa, &l, depth + 1) < 0)
		return -1;
	if (l.mem) {
		*cfa = l.addr;
		return 0;
	}
	memcpy(cfa, l.bytes, 8);
	return 0;
}

static int run_ops(struct stp_rt *rt, struct stp_node *at, const struct stp_tvar *tv, const Dwarf_Op *ops,
		   size_t nops, struct loc *out, int depth)
{
	uint64_t st[16];
	int sp = 0;
	bool is_value = false;
	bool in_reg = false;
	uint64_t regval = 0;
	memset(out, 0, sizeof *out);
	bool pieces = false;
	if (depth > 4)
		return stp_rt_error(rt, at, "DWARF expression too deep");
#define PUSH(v) do { if (sp == 16) return stp_rt_error(rt, at, "DWARF stack overflow"); st[sp++] = (v); } while (0)
#define POP(v) do { if (sp == 0) return stp_rt_error(rt, at, "DWARF stack underflow"); (v) = st[--sp]; } while (0)
	for (size_t i = 0; i < nops; i++) {
		const Dwarf_Op *o = &ops[i];
		uint8_t a = o->atom;
		uint64_t v, w;
		if (a >= DW_OP_reg0 && a <= DW_OP_reg31) {
			if (reg(rt, at, a - DW_OP_reg0, &regval) < 0)
				return -1;
			in_reg = true;
		} else if (a == DW_OP_regx) {
			if (reg(rt, at, (unsigned)o->number, &regval) < 0)
				return -1;
			in_reg = true;
		} else if (a >= DW_OP_breg0 && a <= DW_OP_breg31) {
			if (reg(rt, at, a - DW_OP_breg0, &v) < 0)
				return -1;
			PUSH(v + o->number);
		} else if (a == DW_OP_bregx) {
			if (reg(rt, at, (unsigned)o->number, &v) < 0)
				return -1;
			PUSH(v + o->number2);
		} else if (a >= DW_OP_lit0 && a <= DW_OP_lit31) {
			PUSH((uint64_t)(a - DW_OP_lit0));
		} else {
			switch (a) {
			case DW_OP_addr: PUSH(o->number + (rt->tgt ? 0 : 0)); break;
			case DW_OP_const1u: case DW_OP_const2u: case DW_OP_const4u: case DW_OP_const8u:
			case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s: case DW_OP_const8s:
			case DW_OP_constu: case DW_OP_consts:
				PUSH(o->number);
				break;
			case DW_OP_fbreg: {
				struct loc fb;
				if (tv->nfb == 0)
					return stp_rt_error(rt, at, "no frame base");
				if (run_ops(rt, at, tv, tv->fb, tv->nfb, &fb, depth + 1) < 0)
					return -1;
				uint64_t base;
				if (fb.mem)
					base = fb.addr;
				else
					memcpy(&base, fb.bytes, 8);
				PUSH(base + o->number);
				break;
			}
			case DW_OP_call_frame_cfa:
				if (eval_cfa(rt, at, tv, &v, depth) < 0)
					return -1;
				PUSH(v);
				break;
			case DW_OP_plus_uconst: POP(v); PUSH(v + o->number); break;
			case DW_OP_plus: POP(w); POP(v); PUSH(v + w); break;
			case DW_OP_minus: POP(w); POP(v); PUSH(v - w); break;
			case DW_OP_and: POP(w); POP(v); PUSH(v & w); break;
			case DW_OP_dup: POP(v); PUSH(v); PUSH(v); break;
			case DW_OP_drop: POP(v); break;
			case DW_OP_deref:
				POP(v);
				if (rt->tgt->read_mem(rt->tgt->ctx, v, &w, 8) < 0)
					return stp_rt_error(rt, at, "user memory read fault at 0x%" PRIx64, v);
				PUSH(w);
				break;
			case DW_OP_stack_value:
				is_value = true;
				break;
			case DW_OP_piece: {
				size_t sz = (size_t)o->number;
				pieces = true;
				if (out->len + sz > sizeof out->bytes)
					return stp_rt_error(rt, at, "value too large");
				if (in_reg) {
					memcpy(out->bytes + out->len, &regval, sz > 8 ? 8 : sz);
				} else if (sp > 0) {
					POP(v);
					if (is_value)
						memcpy(out->bytes + out->len, &v, sz > 8 ? 8 : sz);
					else if (rt->tgt->read_mem(rt->tgt->ctx, v, out->bytes + out->len, sz) < 0)
						return stp_rt_error(rt, at, "user memory read fault at 0x%" PRIx64, v);
				} /* else: an optimized-out piece reads as zeros */
				out->len += sz;
				in_reg = false;
				is_value = false;
				break;
			}
			case DW_OP_nop:
				break;
			default:
				return stp_rt_error(rt, at, "unsupported DWARF operation 0x%x in a location", a);
			}
		}
	}
#undef PUSH
#undef POP
	if (pieces)
		return 0;
	if (in_reg) {
		memcpy(out->bytes, &regval, 8);
		out->len = 8;
		return 0;
	}
	if (sp == 0)
		return stp_rt_error(rt, at, "empty DWARF location");
	if (is_value) {
		memcpy(out->bytes, &st[sp - 1], 8);
		out->len = 8;
		return 0;
	}
	out->mem = true;
	out->addr = st[sp - 1];
	return 0;
}

/* Read n bytes of the located value at offset off. */
static int loc_read(struct stp_rt *rt, struct stp_node *at, const struct loc *l, void *buf, size_t n)
{
	if (l->mem) {
		if (rt->tgt->read_mem(rt->tgt->ctx, l->addr, buf, n) < 0)
			return stp_rt_error(rt, at, "user memory read fault at 0x%" PRIx64 " (reading %s)", l->addr,
					    at->kind == N_TVAR ? at->str : "a target value");
		return 0;
	}
	if (n > l->len) {
		memset(buf, 0, n);
		memcpy(buf, l->bytes, l->len);
		return 0;
	}
	memcpy(buf, l->bytes, n);
	return 0;
}

int stp_tvar_read(struct stp_rt *rt, struct stp_node *n, struct stp_val *out)
{
	out->t = TY_NUM;
	out->n = 0;
	out->s = NULL;
	const struct stp_tvar *tv = n->tv;
	if (n->kind == N_TVAR && n->str[0] == '$') {
		/* $$vars: "a=0x1 b=\"x\" c={...}" */
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (f == NULL)
			return stp_rt_error(rt, n, "out of memory");
		for (int i = 0; i < n->nargs; i++) {
			struct stp_node *v = n->args[i];
			fprintf(f, "%s%s=", i ? " " : "", v->str);
			if (v->tv == NULL) {
				fputc('?', f);
				continue;
			}
			const struct stp_tvar *vt = v->tv;
			if (vt->final == TF_STRUCT) {
				fputs("{...}", f);
				continue;
			}
			struct stp_val x;
			unsigned long errs = rt->err_reported;
			FILE *saved = rt->err;
			rt->err = NULL;   /* an unreadable member prints "?" */
			int rc = stp_tvar_read(rt, v, &x);
			rt->err = saved;
			rt->err_reported = errs;
			if (rc < 0)
				fputc('?', f);
			else if (x.t == TY_STR)
				fprintf(f, "\"%s\"", x.s);
			else
				fprintf(f, "0x%" PRIx64, (uint64_t)x.n);
			stp_val_free(&x);
		}
		if (fclose(f) != 0)
			return stp_rt_error(rt, n, "out of memory");
		out->t = TY_STR;
		out->s = buf;
		return 0;
	}
	if (rt->tgt == NULL && tv->base != TB_CAST)
		return stp_rt_error(rt, n, "target variables need a probe of the program");
	if (rt->tgt == NULL)
		return stp_rt_error(rt, n, "@cast reads the program: not available in begin/end/timer probes");
	struct loc l;
	memset(&l, 0, sizeof l);
	if (tv->base == TB_LOC) {
		if (run_ops(rt, n, tv, tv->loc, tv->nloc, &l, 0) < 0)
			return -1;
	} else if (tv->base == TB_ADDR) {
		l.mem = true;
		l.addr = tv->addr;
	} else {
		struct stp_val a;
		if (stp_eval(rt, n->a, &a) < 0)
			return -1;
		l.mem = true;
		l.addr = (uint64_t)a.n;
		stp_val_free(&a);
	}
	for (int i = 0; i < tv->nops; i++) {
		const struct tvop *o = &tv->ops[i];
		switch (o->kind) {
		case TV_DEREF: {
			uint64_t p;
			if (loc_read(rt, n, &l, &p, 8) < 0)
				return -1;
			if (p == 0)
				return stp_rt_error(rt, n, "nil pointer dereference");
			l.mem = true;
			l.addr = p;
			break;
		}
		case TV_OFFSET:
			if (l.mem) {
				l.addr += (uint64_t)o->off;
			} else {
				if ((size_t)o->off >= l.len)
					return stp_rt_error(rt, n, "member outside the value held in registers");
				memmove(l.bytes, l.bytes + o->off, l.len - (size_t)o->off);
				l.len -= (size_t)o->off;
			}
			break;
		case TV_INDEX: {
			struct stp_val iv;
			if (stp_eval(rt, o->index, &iv) < 0)
				return -1;
			uint64_t off = (uint64_t)iv.n * o->elem;
			stp_val_free(&iv);
			if (!l.mem)
				return stp_rt_error(rt, n, "cannot index a value held in registers");
			l.addr += off;
			break;
		}
		}
	}
	if (tv->final == TF_GOSTRING) {
		uint64_t hdr[2];
		if (loc_read(rt, n, &l, hdr, 16) < 0)
			return -1;
		size_t len = hdr[1] > 1024 ? 1024 : (size_t)hdr[1];
		char *s = malloc(len + 1);
		if (s == NULL)
			return stp_rt_error(rt, n, "out of memory");
		if (len && rt->tgt->read_mem(rt->tgt->ctx, hdr[0], s, len) < 0) {
			free(s);
			return stp_rt_error(rt, n, "user string copy fault at 0x%" PRIx64, hdr[0]);
		}
		s[len] = '\0';
		out->t = TY_STR;
		out->s = s;
		return 0;
	}
	if (tv->final == TF_STRUCT) {
		out->t = TY_STR;
		out->s = strdup("{...}");
		return out->s ? 0 : stp_rt_error(rt, n, "out of memory");
	}
	uint64_t raw = 0;
	int size = tv->size > 8 ? 8 : tv->size;
	if (loc_read(rt, n, &l, &raw, (size_t)size) < 0)
		return -1;
	if (tv->final == TF_INT && size < 8) {
		int shift = 64 - 8 * size;
		out->n = (int64_t)(raw << shift) >> shift;
	} else {
		out->n = (int64_t)raw;
	}
	return 0;
}
