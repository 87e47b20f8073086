/* gort.h — gotap's knowledge of a Go program: its binary (ELF, DWARF via
 * elfutils), the runtime's data structures, where stack growth happens, and
 * how to unwind and symbolize a goroutine's stack.
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

/* Where gotap puts its breakpoints (runtime addresses, load bias applied). */
struct gort_probes {
	uint64_t newstack;        /* real runtime.newstack (not the ABI wrapper), after its prologue */
	uint64_t newstack_entry;  /* its entry address */
	uint64_t copystack;       /* runtime.copystack after its prologue: gives the real new size */
	uint64_t copystack_entry;
	bool regabi;              /* Go >= 1.17 register ABI: g in R14, args in RAX, RBX, ... */
};

/* Open path (an ELF executable), index its symbols, DWARF and CFI.
 * load_bias is added to link-time addresses (0 for non-PIE Go binaries).
 * Returns NULL and writes a one-line reason to err on failure:
 * "no such file", "not an ELF file", "not a Go binary (no runtime.newstack)". */
struct gort_bin *gort_open(const char *path, uint64_t load_bias, char *err, size_t errlen);
void gort_close(struct gort_bin *b);

/* Go version string from the binary ("go1.19.8"), or NULL if unknown. */
const char *gort_go_version(const struct gort_bin *b);

/* Layout and probe addresses.  Return 0, or -1 with a reason in err. */
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
};

/* Symbolize one pc (for a return address, lookups use pc-1 for the line, as
 * gdb and stap do, but report pc itself).  Returns 0 or -1 if unknown. */
int gort_symbolize(struct gort_bin *b, uint64_t pc, bool is_return_addr,
		   struct gort_frame *out);

/* Unwind a goroutine stack that starts at (pc, sp, bp) — for a growth event,
 * the goroutine's g.sched — using the binary's CFI (libdwfl), with a
 * frame-pointer fallback, stopping at runtime.goexit, a zero pc, or max
 * frames.  Frames are symbolized.  Returns the number of frames (>= 0). */
int gort_unwind(struct gort_bin *b, gort_read_fn rd, void *ctx,
		uint64_t pc, uint64_t sp, uint64_t bp,
		struct gort_frame *out, int max);

#endif /* GOTAP_GORT_H */
