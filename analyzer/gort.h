/* gort.h — gotap's knowledge of a Go program: its binary (ELF, DWARF via
 * elfutils), the runtime's data structures, where stack growth happens, and
 * how to unwind and symbolize a goroutine's stack.
 *
 * Without DWARF or without a symbol table (-ldflags=-w, '-s -w', even with
 * the section headers gone) the same answers come from .gopclntab, the
 * runtime's own metadata that every Go binary keeps (gort_pcln.h), and the
 * runtime layout from a per-version table checked against the binary's code
 * (gort_offsets.c); gort_source() says which.
 *
 * This module never talks RSP: target memory comes through a read callback
 * (the analyzer's client backs it with a cache that reads large chunks over
 * RSP), registers come as plain values.  That keeps it testable against a
 * local process or a core-like buffer.
 *
 * Go runtime references (Go 1.19, src/runtime): runtime2.go (g, m, gobuf,
 * stack), stack.go (newstack, copystack, stackPreempt), asm_amd64.s
 * (morestack: saves the caller's state in g.sched and m.morebuf).
 */
#ifndef GOTAP_GORT_H
#define GOTAP_GORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read len bytes of target memory at addr into buf.  Returns the number of
 * bytes read (short or <= 0 on failure). */
typedef long (*gort_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* Offsets (bytes) inside runtime structures, from DWARF when present. */
struct gort_layout {
	uint32_t g_stack_lo, g_stack_hi;   /* g.stack.lo / g.stack.hi */
	uint32_t g_stackguard0;            /* g.stackguard0 */
	uint32_t g_m;                      /* g.m (*m) */
	uint32_t g_sched_sp, g_sched_pc, g_sched_bp, g_sched_lr; /* g.sched.{sp,pc,bp,lr} */
	uint32_t g_goid;                   /* g.goid */
	uint32_t m_g0, m_curg;             /* m.g0, m.curg */
	uint32_t m_morebuf_sp, m_morebuf_pc, m_morebuf_lr; /* m.morebuf.{sp,pc,lr} */
	uint32_t m_procid;                 /* m.procid (the thread id) */
	uint64_t stack_preempt;            /* runtime stackPreempt value (0xfffffffffffffade) */
};

/* One loaded executable. */
struct gort_bin;

/* Where gotap puts its breakpoints (runtime addresses, load bias applied).
 *
 * "After the prologue" is gdb's choice (`break runtime.newstack`): the second
 * line-table row of the function, which in Go is the instruction right after
 * the stack-check `cmp ...,16(R14); jbe <morestack path>`, before `sub rsp`.
 * At that address every register still holds its value at function entry
 * (the check only writes R12 and flags; arguments are spilled only on the
 * morestack path, which re-enters at the entry).  (For copystack an
 * address past the decoded stack check is never used, so RAX/RBX hold for
 * any Go version; in Go 1.19 both choices coincide.)  So at both addresses:
 *   newstack:  R14 = g0 (called from morestack via the ABI0 wrapper, which
 *              loads R14 from TLS; the TLS slot fs_base-8 also holds g0);
 *              [RSP] = return address into runtime.morestack.
 *   copystack: RAX = gp (*g being copied), RBX = newsize (bytes), R14 = the
 *              running g (g0 when called from newstack).
 *              copystack is also called to SHRINK stacks (shrinkstack, from
 *              GC and from the preemption path): a growth is newsize >
 *              gp.stack.hi - gp.stack.lo.
 * Without register ABI (regabi false, Go < 1.17) arguments are on the stack:
 * copystack's gp at [RSP+8], newsize at [RSP+16]; g via TLS only.
 *
 * grow_call / shrink_call: the `call runtime.copystack` instruction inside
 * runtime.newstack / runtime.shrinkstack (the only one in each; 0 when not
 * found exactly once).  Under the register ABI the call's arguments are in
 * RAX (gp) and RBX (newsize) at that instruction, as at copystack's entry,
 * and every pass through grow_call IS a growth: a probe there needs no
 * memory read to tell a growth from a shrink.  (The one exception is the
 * runtime's test hook gcTestMoveStackOnNextCall, which moves a stack at
 * the same size through the same call.) */
struct gort_probes {
	uint64_t newstack;        /* real runtime.newstack (not the ABI wrapper), after its prologue */
	uint64_t newstack_entry;  /* its entry address */
	uint64_t copystack;       /* runtime.copystack after its prologue: gives the real new size */
	uint64_t copystack_entry;
	uint64_t grow_call;       /* newstack's call to copystack, 0 if not found exactly once */
	uint64_t shrink_call;     /* shrinkstack's call to copystack, likewise */
	bool regabi;              /* Go >= 1.17 register ABI: g in R14, args in RAX, RBX, ... */
};

/* Open path (an ELF executable), index its symbols, DWARF and CFI.
 * load_bias is added to link-time addresses (0 for non-PIE Go binaries).
 * Returns NULL and writes a one-line reason to err on failure:
 * "no such file: P", "not an ELF file: P", "not an x86-64 executable: P",
 * "truncated or damaged ELF file: P", "not a Go binary (no runtime.newstack): P",
 * "P: Go binary without a symbol table (stripped) and no readable .gopclntab:
 * runtime.newstack not found".  A stripped binary opens: the runtime
 * functions are then looked up in .gopclntab (found by section, else by
 * scanning the loaded segments for its header). */
struct gort_bin *gort_open(const char *path, uint64_t load_bias, char *err, size_t errlen);

/* The load bias to pass to gort_open for a running process, from its
 * auxiliary vector's AT_PHDR (runtime address of the program headers):
 * 0 for a fixed-address executable (ET_EXEC, the Go default), AT_PHDR minus
 * the headers' link-time address for a PIE (-buildmode=pie: Go links those
 * at 0x400000, so the bias is not the mapping start).  Returns 0, or -1 with
 * a reason in err. */
int gort_pie_bias(const char *path, uint64_t at_phdr, uint64_t *bias, char *err, size_t errlen);
void gort_close(struct gort_bin *b);

/* Where gort's answers come from: "DWARF" when the binary has DWARF
 * (symbols, lines, CFI and runtime type layouts from it, pclntab filling
 * gaps), "pclntab" when it has none (-ldflags=-w or '-s -w': names, lines
 * and SP deltas from .gopclntab, runtime layout from gort's per-version
 * table; see gort_layout).  A static string; never NULL. */
const char *gort_source(const struct gort_bin *b);

/* One line saying where gort_layout's offsets came from: "runtime layout
 * from DWARF types", or the table row's source and what was decoded from
 * the code, starting with "WARNING: " when the Go version is unknown to
 * the table.  Valid until gort_close(). */
const char *gort_layout_source(const struct gort_bin *b);

/* Go version string from the binary ("go1.19.8"), or NULL if unknown. */
const char *gort_go_version(const struct gort_bin *b);

/* Layout and probe addresses.  Return 0, or -1 with a reason in err.
 * gort_layout reads the DWARF types when present; without them (-w) it
 * uses gort's per-Go-version table, with the offsets that runtime.morestack
 * and the stack-check prologue show decoded from the binary taking
 * precedence, and succeeds (an unknown or newer Go version gets a best
 * effort and a WARNING in gort_layout_source). */
int gort_layout(struct gort_bin *b, struct gort_layout *out, char *err, size_t errlen);
int gort_probes(struct gort_bin *b, struct gort_probes *out, char *err, size_t errlen);

/* One symbolized frame.  Strings point into the gort_bin's storage and stay
 * valid until gort_close(). */
struct gort_frame {
	uint64_t pc;            /* return address or current pc, as unwound */
	const char *func;       /* "main.say", or NULL if unknown */
	uint64_t off;           /* pc - function start */
	uint64_t size;          /* function size */
	const char *file;       /* source file, or NULL */
	int line;               /* 0 if unknown */
	const char *module;     /* path of the executable / shared object */
	bool inlined;           /* gort_symbolize_inline only: this function is
				   inlined into the next frame (off, size = 0) */
};

/* Symbolize one pc (for a return address, lookups use pc-1 for the line, as
 * gdb and stap do, but report pc itself).  Returns 0 or -1 if unknown.
 * func is the Go name as `go tool addr2line` prints it: the ELF symbol with
 * its ".abi0" suffix dropped (runtime.goexit.abi0 -> runtime.goexit); off
 * and size come from the ELF symbol table, file:line from DWARF; whatever
 * those lack (-s, -w) comes from .gopclntab, the same table `go tool
 * addr2line` and the Go runtime read ("./x.go" from DWARF is reported as
 * pclntab spells it, "x.go").  Answers
 * are cached by pc (direct-mapped, bounded).  A gort_bin is not thread-safe. */
int gort_symbolize(struct gort_bin *b, uint64_t pc, bool is_return_addr,
		   struct gort_frame *out);

/* The inlined calls at one pc, as gdb's `bt` and Go's own tracebacks show
 * them (DWARF DW_TAG_inlined_subroutine; `go tool addr2line` and gort_
 * symbolize report only the outer function with the inner file:line).
 * out[0] is the innermost function at pc's own file:line; each next entry is
 * the function it was inlined into, at the call's file:line; the last entry
 * is the real (outermost) function with gort_symbolize's func/off/size.
 * Every entry but the last has inlined = true and off = size = 0; all have
 * the same pc.  Returns the number of entries (1 when nothing is inlined at
 * pc, at most max), or -1 if pc is unknown.  Cached by pc. */
int gort_symbolize_inline(struct gort_bin *b, uint64_t pc, bool is_return_addr,
			  struct gort_frame *out, int max);

/* The backtrace in[0..n) (gort_unwind's) with every inlined call shown as
 * its own frame, as gdb's `bt`, Delve and Go's own tracebacks show them:
 * each frame whose pc lies in inlined code becomes its inline chain
 * (gort_symbolize_inline: the inlined functions, innermost first, at their
 * own file:line, then the frame itself at the line of the outermost call);
 * frames without inlining are copied as they are.  Writes at most max
 * frames to out (out must not overlap in): a chain that does not fit is
 * not split, its frame is written as unwound and ends the list.  Returns
 * how many. */
int gort_expand_inline(struct gort_bin *b, const struct gort_frame *in, int n,
		       struct gort_frame *out, int max);

/* Unwind a goroutine stack that starts at (pc, sp, bp) — for a growth event,
 * the goroutine's g.sched — using the binary's CFI (libdwfl), or without
 * CFI the pc->SP-delta table of .gopclntab as the Go runtime's own
 * gentraceback does, with a frame-pointer fallback, stopping after
 * runtime.goexit (included as the
 * last frame, "runtime.goexit+0x1"), at a zero pc, or at max frames.
 * Frames are symbolized: frame 0 as Go's own traceback does (pc-1 for the
 * line unless pc is a function entry: g.sched.pc from morestack is the
 * return address of f's `call morestack`, so frame 0 is f at its `func`
 * line), the others as return addresses.  out[0].pc == pc, and for a growth
 * out[1].pc == m.morebuf.pc (the seed's first frame).  Memory comes word by
 * word through rd: back it with a cache.  Returns the number of frames. */
int gort_unwind(struct gort_bin *b, gort_read_fn rd, void *ctx,
		uint64_t pc, uint64_t sp, uint64_t bp,
		struct gort_frame *out, int max);

/* Everything gotap reads from the target at a runtime.newstack hit. */
struct gort_growth {
	uint64_t g0, m, g;        /* g0 (from R14 or TLS), g0.m, the growing goroutine m.curg */
	bool g0_from_tls;         /* R14 did not hold g0; the TLS slot fs_base-8 did */
	uint64_t goid;
	uint64_t tid;             /* m.procid: the OS thread id */
	uint64_t stack_lo, stack_hi;
	uint64_t old_size;        /* stack_hi - stack_lo */
	uint64_t stackguard0;
	bool preempt;             /* stackguard0 == stackPreempt: a preemption request,
				     NOT a growth (newstack preempts and returns).
				     Read at the probe: sysmon may still set it before
				     newstack's own load a few instructions later, so a
				     !preempt hit can turn out a preemption; the growth
				     is certain only at copystack with newsize > old. */
	uint64_t sched_pc, sched_sp, sched_bp, sched_lr; /* where g ran out of stack */
	uint64_t morebuf_pc, morebuf_sp, morebuf_lr;    /* its caller (the seed's start) */
};

/* Fill *out at a runtime.newstack probe hit.  r14 is the thread's R14 (pass
 * 0 for non-regabi binaries), fs_base its FS base (the TLS g slot is at
 * fs_base-8); g0 is taken from R14 when g0.m.g0 == R14, else from the TLS
 * slot with the same check.  Returns 0, or -1 with a reason in err (memory
 * unreadable, neither candidate is a g0, curg is nil). */
int gort_read_growth(const struct gort_layout *l, gort_read_fn rd, void *ctx,
		     uint64_t r14, uint64_t fs_base, struct gort_growth *out,
		     char *err, size_t errlen);

/* Like gort_unwind, with the frames' stack pointers too (sps[i] is frame i's
 * SP; may be NULL).  gort_unwind(b, ...) == gort_unwind_sp(b, ..., NULL). */
int gort_unwind_sp(struct gort_bin *b, gort_read_fn rd, void *ctx,
		   uint64_t pc, uint64_t sp, uint64_t bp,
		   struct gort_frame *out, uint64_t *sps, int max);

#endif /* GOTAP_GORT_H */
