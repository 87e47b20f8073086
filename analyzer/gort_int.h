/* gort_int.h — private state shared by the gort_*.c files (not for callers of
 * gort.h).  One struct gort_bin owns a libdwfl session holding exactly one
 * module (the executable), a pc -> frame cache, and the per-unwind state that
 * libdwfl's thread callbacks read.
 */
#ifndef GOTAP_GORT_INT_H
#define GOTAP_GORT_INT_H

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "gort.h"
#include "gort_pcln.h"

/* Direct-mapped pc -> frame cache: bounded memory however long the session. */
#define GORT_CACHE_SLOTS 4096

struct gort_cache_ent {
	uint64_t key;            /* pc << 1 | is_return_addr; 0 = empty */
	int rc;                  /* gort_symbolize's result for this key */
	struct gort_frame fr;
};

/* Cached CFA rule of one pc (key as above): CFA = rsp + cfa_off, return
 * address at [CFA + ra_off]; ok == false: no such simple rule. */
struct gort_cfa_ent {
	uint64_t key;
	int32_t cfa_off, ra_off;
	bool ok;
};

/* One step of the rule walk (gort_unwind.c unwind_rules), cached by pc:
 * the frame as add_frame symbolizes it and the rule that finds its caller.
 * Frame 0 is symbolized and ruled differently from a return address, and
 * pclntab rules differ from CFI rules, so both are in the key. */
struct gort_step_ent {
	uint64_t key;            /* pc << 2 | first << 1 | pcln; 0 = empty */
	struct gort_frame fr;
	int32_t cfa_off, ra_off;
	bool ok;                 /* the rule is usable */
	bool goexit;             /* pc is in runtime.goexit: the walk ends here */
};

/* Inline chains by pc (gort_symbolize_inline); fewer slots: each holds
 * several frames. */
#define GORT_INLINE_SLOTS 1024
#define GORT_INLINE_MAX 8

struct gort_inline_ent {
	uint64_t key;            /* as gort_cache_ent */
	int n;                   /* entries, or -1: pc unknown */
	struct gort_frame fr[GORT_INLINE_MAX];
};

/* Names we own (a Go ABI0 symbol "runtime.goexit.abi0" reported as
 * "runtime.goexit"); keyed by the symbol-table string they came from. */
struct gort_name {
	const char *orig;
	struct gort_name *next;
	char name[];
};

/* A function from the ELF symbol table (link-time address + bias). */
struct gort_sym {
	uint64_t addr, size;
	bool found;
};

/* One address range of a compile unit (link-time addresses). */
struct gort_curange {
	uint64_t lo, hi;         /* [lo, hi) */
	Dwarf_Off cu;            /* offset of the CU's DIE */
};

struct gort_bin {
	char *path;              /* absolute path, reported as gort_frame.module */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	Elf *elf;                /* the module's main ELF (owned by dwfl) */
	GElf_Addr bias;          /* module bias = load bias */
	char version[128];       /* "go1.19.8", "" if unknown (truncated if longer) */

	struct gort_sym newstack, newstack_abi0, copystack, shrinkstack, goexit;

	/* Unwinding: set before each dwfl_getthread_frames call. */
	bool attached;
	gort_read_fn rd;
	void *rdctx;
	uint64_t init_pc, init_sp, init_bp;
	/* Counters: unwinds, and how many needed libdwfl or frame pointers. */
	unsigned long unwinds, dwfl_used, fp_fallbacks;

	/* Address -> CU index (Go writes no .debug_aranges, and libdw 0.188
	 * finds CUs by address only through it); built on first use. */
	Dwarf *dw;
	Dwarf_Addr dwbias;
	struct gort_curange *cus;
	size_t ncus;
	bool cus_built;

	struct gort_cache_ent *cache;
	struct gort_cfa_ent *cfa_cache;
	struct gort_inline_ent *inline_cache;   /* allocated on first use */
	struct gort_step_ent *step_cache;       /* gort_unwind's rule-walk steps */
	Dwarf_CFI *cfi;          /* .debug_frame (else .eh_frame), NULL if none */
	Dwarf_Addr cfibias;
	bool cfi_looked;
	struct gort_name *names;

	/* .gopclntab (gort_pclnsym.c): kept in every Go binary, the source
	 * of names, lines and SP deltas when DWARF or the symbol table is
	 * gone.  Addresses in it are link-time (add bias). */
	struct gort_pcln pcln;
	bool have_pcln;
	uint64_t pcln_addr;      /* link-time address of the table */
	uint64_t gofunc;         /* moduledata.gofunc (funcdata base, >= 1.18) */
	bool gofunc_looked, gofunc_ok;
	bool has_dwarf;          /* .debug_info present: gort_source() "DWARF" */
	bool syms_from_pcln;     /* runtime functions found through pclntab */
	struct gort_cfa_ent *sp_cache;  /* pcsp rules by pc (same keys as cfa_cache) */
	unsigned long pcln_used; /* unwinds done with pclntab SP deltas */
	char layout_note[1024];   /* where gort_layout's numbers came from */
};

/* Copy len bytes at link-time virtual address vaddr from the ELF file's
 * loaded segments (PT_LOAD file contents).  Returns 0, or -1 if any byte is
 * outside the file-backed part of a segment. */
int gort_elf_read(struct gort_bin *b, uint64_t vaddr, void *buf, size_t len);

/* The CU DIE covering runtime address pc.  Returns true and fills *cu. */
bool gort_addr_cu(struct gort_bin *b, uint64_t pc, Dwarf_Die *cu);

/* Go version from .go.buildinfo or runtime.buildVersion into b->version. */
void gort_read_version(struct gort_bin *b);

/* Name reported for a symbol: strips Go's ".abi0" suffix (ABI wrappers and
 * assembly functions), as `go tool addr2line` prints them.  The result lives
 * until gort_close().  NULL only on allocation failure. */
const char *gort_func_name(struct gort_bin *b, const char *symname);

/* Which unwinder gort_unwind_mode uses.  AUTO (what gort_unwind does):
 * CACHED first (PCLN first when the binary has no CFI), then DWFL, PCLN,
 * FP, keeping the first chain that reaches runtime.goexit (else the
 * longest).  The others alone are for tests.  PCLN: pclntab SP deltas. */
enum gort_unwinder { GORT_UW_AUTO, GORT_UW_CACHED, GORT_UW_DWFL, GORT_UW_FP, GORT_UW_PCLN };

int gort_unwind_mode(struct gort_bin *b, gort_read_fn rd, void *ctx,
		     uint64_t pc, uint64_t sp, uint64_t bp,
		     struct gort_frame *out, uint64_t *sps, int max, enum gort_unwinder mode);

/* Find and parse .gopclntab (by section, else by scanning the loaded
 * segments for its header); sets b->have_pcln.  Called by gort_open. */
void gort_pcln_load(struct gort_bin *b);

/* Fill the runtime functions gort looks up by name (newstack, its ABI0
 * wrapper, copystack, goexit) from pclntab where the symbol table had
 * none.  Of two functions named runtime.newstack the larger is the real
 * one, the other the wrapper. */
void gort_pcln_syms(struct gort_bin *b);

/* gort_symbolize from pclntab alone (func, off, size, file:line; module).
 * Uncached.  Returns 0, or -1 if pc is in no function of the table. */
int gort_pcln_symbolize(struct gort_bin *b, uint64_t pc, bool is_ret, struct gort_frame *out);

/* gort_symbolize_inline from pclntab alone (the runtime's inline tree:
 * FUNCDATA_InlTree + PCDATA_InlTreeIndex), for binaries without DWARF.
 * Same contract as gort_symbolize_inline; returns -1 if pc is unknown or
 * the tree cannot be read (the caller then reports the outer function). */
int gort_pcln_inline(struct gort_bin *b, uint64_t pc, bool is_ret, struct gort_frame *out, int max);

/* The frame size rule at pc from pclntab's pc->SP table, as the runtime's
 * gentraceback uses it: CFA (the caller's SP) = sp + spdelta + 8, the
 * return address at CFA - 8.  is_ret: pc is a return address (looked up
 * at pc - 1).  Cached by pc; ok == false if unknown. */
const struct gort_cfa_ent *gort_pcln_rule(struct gort_bin *b, uint64_t pc, bool is_ret);

/* gort_layout without DWARF types (gort_offsets.c): the per-version table
 * row for b->version, corrected by offsets decoded from runtime.morestack
 * and the stack check.  Writes a one-line account (with a WARNING for an
 * unknown or newer version) to note.  Returns 0. */
int gort_layout_fallback(struct gort_bin *b, struct gort_layout *out, char *note, size_t notelen);

/* Bounded snprintf into err (tolerates err == NULL or errlen == 0). */
void gort_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* GOTAP_GORT_INT_H */
