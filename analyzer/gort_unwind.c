/* gort_unwind.c — unwind one goroutine stack from a saved (pc, sp, bp).
 *
 * Go writes a .debug_frame FDE for every function, always of one shape:
 * CFA = rsp + N (N changes only inside prologue and epilogue), return
 * address at CFA-8, nothing about other registers.  Three unwinders use it:
 *
 * 1. Cached CFA rules (the fast path): for each pc, libdw's CFI
 *    (dwarf_cfi_addrframe) is asked once for its CFA and return-address
 *    rules; when they have that simple shape, N is cached by pc, and a
 *    frame costs one cache lookup and one word read: caller pc = [sp+N-8],
 *    caller sp = sp+N.  Measured on the live test: libdwfl's per-frame state
 *    machinery costs ~8 us a frame; the cached rule a fraction of that.
 * 2. libdwfl's unwinder over the same CFI, the general path: gort_bin acts
 *    as a one-thread "process" (dwfl_attach_state): set_initial_registers
 *    hands over rip/rsp/rbp (DWARF 16/7/6), memory_read goes to the caller's
 *    read callback one word at a time (the analyzer caches reads).
 * 3. pclntab SP deltas (gort_pcln_rule), the runtime's own unwind data,
 *    for binaries without DWARF (-ldflags=-w): the same walk as 1.
 * 4. Frame pointers, when there is neither: Go on amd64 keeps them; a
 *    function with a frame stores the caller's BP at [BP] and its return
 *    address at [BP+8].  (Go's CFI says nothing about BP, so libdwfl assumes
 *    "same value" and cannot carry BP through; this walk starts over.)
 *
 * The state morestack saves in g.sched (asm_amd64.s) is taken at the return
 * address of f's `call runtime.morestack`, where f has not built its frame
 * yet: sp points at f's return address and bp is still the caller's.  The
 * CFI says so (CFA = rsp+8 there); the frame-pointer walk recognises the
 * call just before pc and starts with [sp].
 *
 * Unwinding stops after runtime.goexit (kept as the last frame, as
 * SystemTap prints it), at a zero pc, or at max frames.  Frame 0 is
 * symbolized as Go's traceback does (pc-1 unless pc is a function entry),
 * every other frame as a return address.
 */
#include <stdlib.h>
#include <string.h>

#include "gort_int.h"

#define GORT_TID 1           /* the one thread libdwfl sees */

enum { DW_RBP = 6, DW_RSP = 7 };

static pid_t cb_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = arg;
	return GORT_TID;
}

static bool cb_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	(void)dwfl;
	if (tid != GORT_TID)
		return false;
	*thread_argp = arg;
	return true;
}

static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct gort_bin *b = arg;
	uint64_t w;

	(void)dwfl;
	if (b->rd(b->rdctx, addr, &w, sizeof w) != (long)sizeof w)
		return false;
	*result = w;
	return true;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct gort_bin *b = arg;
	Dwarf_Word regs[2] = { b->init_bp, b->init_sp };   /* DWARF 6, 7 */

	if (!dwfl_thread_state_registers(thread, DW_RBP, 2, regs))
		return false;
	dwfl_thread_state_register_pc(thread, b->init_pc);
	return true;
}

static const Dwfl_Thread_Callbacks gort_thread_callbacks = {
	.next_thread = cb_next_thread,
	.get_thread = cb_get_thread,
	.memory_read = cb_memory_read,
	.set_initial_registers = cb_set_initial_registers,
};

/* Frames collected by either unwinder. */
struct walk {
	struct gort_bin *b;
	struct gort_frame *out;
	uint64_t *sps;
	int n, max;
	bool at_goexit;
};

static bool in_goexit(const struct gort_bin *b, uint64_t pc)
{
	return b->goexit.found && pc >= b->goexit.addr && pc < b->goexit.addr + b->goexit.size;
}

/* Symbolize the frame at pc as the walks report it: frame 0 (first) as Go's
 * traceback does, at pc unless pc is a function entry, the others as
 * return addresses. */
static void symbolize_frame(struct gort_bin *b, uint64_t pc, bool first, struct gort_frame *f)
{
	bool is_ret = true;

	if (first && gort_symbolize(b, pc, false, f) == 0 && f->off == 0)
		is_ret = false;             /* frame 0 at a function entry */
	if (gort_symbolize(b, pc, is_ret, f) != 0)
		f->pc = pc;
}

/* Append one frame; returns false when the walk must stop. */
static bool add_frame(struct walk *w, uint64_t pc, uint64_t sp)
{
	symbolize_frame(w->b, pc, w->n == 0, &w->out[w->n]);
	if (w->sps)
		w->sps[w->n] = sp;
	w->n++;
	if (in_goexit(w->b, pc)) {
		w->at_goexit = true;
		return false;
	}
	return w->n < w->max;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;
	Dwarf_Word sp = 0;
	bool act;

	if (!dwfl_frame_pc(state, &pc, &act) || pc == 0)
		return DWARF_CB_ABORT;
	if (w->n == 0)
		sp = w->b->init_sp;
	else if (dwfl_frame_reg(state, DW_RSP, &sp) != 0)
		sp = 0;
	return add_frame(w, pc, sp) ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static void unwind_dwfl(struct walk *w)
{
	struct gort_bin *b = w->b;

	if (!b->attached) {
		if (!dwfl_attach_state(b->dwfl, NULL, GORT_TID, &gort_thread_callbacks, b))
			return;
		b->attached = true;
	}
	/* An error only ends the walk; the frames so far are kept. */
	(void)dwfl_getthread_frames(b->dwfl, GORT_TID, frame_cb, w);
}

static bool read_word(struct gort_bin *b, uint64_t addr, uint64_t *v)
{
	return b->rd(b->rdctx, addr, v, sizeof *v) == (long)sizeof *v;
}

/* True if f (the function of pc) has not built its frame at pc: pc is its
 * entry, or pc is the return address of its `call runtime.morestack*`
 * (what morestack saves in g.sched; after it come the argument reloads and
 * `jmp f`). */
static bool at_function_entry(struct gort_bin *b, uint64_t pc)
{
	struct gort_frame f, callee;
	unsigned char c[5];
	uint64_t target;

	if (gort_symbolize(b, pc, false, &f) != 0)
		return false;
	if (f.off == 0)
		return true;
	if (f.off < 5 || gort_elf_read(b, pc - 5 - b->bias, c, sizeof c) != 0 || c[0] != 0xe8)
		return false;
	target = pc + (uint64_t)(int64_t)(int32_t)((uint32_t)c[1] | (uint32_t)c[2] << 8 |
						   (uint32_t)c[3] << 16 | (uint32_t)c[4] << 24);
	return gort_symbolize(b, target, false, &callee) == 0 && callee.off == 0 &&
	       strncmp(callee.func, "runtime.morestack", 17) == 0;
}

/* Constant offset from the CFA that ops compute, as libdw describes an
 * "offset(N)" register rule: DW_OP_call_frame_cfa then constant arithmetic. */
static bool cfa_relative(const Dwarf_Op *ops, size_t nops, int64_t *off)
{
	int64_t acc = 0, k = 0;
	bool have_k = false;

	if (nops == 0 || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	for (size_t i = 1; i < nops; i++) {
		switch (ops[i].atom) {
		case DW_OP_consts:
			k = (int64_t)ops[i].number;
			have_k = true;
			break;
		case DW_OP_constu:
			k = (int64_t)ops[i].number;
			have_k = true;
			break;
		case DW_OP_plus:
			if (!have_k)
				return false;
			acc += k;
			have_k = false;
			break;
		case DW_OP_minus:
			if (!have_k)
				return false;
			acc -= k;
			have_k = false;
			break;
		case DW_OP_plus_uconst:
			acc += (int64_t)ops[i].number;
			break;
		default:
			return false;   /* DW_OP_stack_value and the rest: not simple */
		}
	}
	if (have_k)
		return false;
	*off = acc;
	return true;
}

/* Find the binary's CFI once (.debug_frame, else .eh_frame). */
static void look_cfi(struct gort_bin *b)
{
	if (!b->cfi_looked) {
		b->cfi_looked = true;
		b->cfi = dwfl_module_dwarf_cfi(b->mod, &b->cfibias);
		if (!b->cfi)
			b->cfi = dwfl_module_eh_cfi(b->mod, &b->cfibias);
	}
}

/* The cached CFA rule for pc (looked up at pc-1 for a return address). */
static const struct gort_cfa_ent *cfa_rule(struct gort_bin *b, uint64_t pc, bool is_ret)
{
	uint64_t key = pc << 1 | (is_ret ? 1 : 0);
	struct gort_cfa_ent *e = &b->cfa_cache[(size_t)((key * 0x9e3779b97f4a7c15ULL) >> 52) &
					       (GORT_CACHE_SLOTS - 1)];
	Dwarf_Frame *fr = NULL;
	Dwarf_Op *ops, ops_mem[3];
	size_t nops;
	int64_t ra, cfa = 0;

	if (e->key == key)
		return e;
	look_cfi(b);
	e->key = key;
	e->ok = false;
	if (!b->cfi || dwarf_cfi_addrframe(b->cfi, (is_ret ? pc - 1 : pc) - b->cfibias, &fr) != 0)
		return e;
	/* CFA = rsp + N: DW_OP_bregx 7, N (or DW_OP_breg7 N). */
	if (dwarf_frame_cfa(fr, &ops, &nops) == 0 && nops == 1) {
		if (ops[0].atom == DW_OP_bregx && ops[0].number == DW_RSP)
			cfa = (int64_t)ops[0].number2;
		else if (ops[0].atom == DW_OP_breg7)
			cfa = (int64_t)ops[0].number;
	}
	/* Return address (DWARF 16) saved at CFA + k. */
	if (cfa > 0 && cfa < INT32_MAX &&
	    dwarf_frame_register(fr, 16, ops_mem, &ops, &nops) == 0 &&
	    cfa_relative(ops, nops, &ra) && ra < 0 && ra > -INT32_MAX) {
		e->cfa_off = (int32_t)cfa;
		e->ra_off = (int32_t)ra;
		e->ok = true;
	}
	free(fr);
	return e;
}

/* The step of the rule walk at pc: its frame and its rule, computed once
 * per (pc, first, pcln) and kept in b->step_cache; a frame then costs one
 * lookup instead of a symbolization, a rule lookup and a goexit test (the
 * same answers: each is a pure function of pc and those flags).  A pc whose
 * top bits the key would drop (no user-space pc has them) is computed into
 * *tmp, uncached. */
static const struct gort_step_ent *step_of(struct gort_bin *b, uint64_t pc, bool first, bool pcln,
					   struct gort_step_ent *tmp)
{
	uint64_t key = pc << 2 | (first ? 2u : 0u) | (pcln ? 1u : 0u);
	struct gort_step_ent *e = tmp;
	const struct gort_cfa_ent *r;

	/* key 0 (pc 0, a return address by CFI) would look like an empty
	 * slot: the walks never step to pc 0, but keep it uncached */
	if (key != 0 && pc >> 62 == 0) {
		e = &b->step_cache[(size_t)((key * 0x9e3779b97f4a7c15ULL) >> 52) &
				   (GORT_CACHE_SLOTS - 1)];
		if (e->key == key)
			return e;
	}
	r = pcln ? gort_pcln_rule(b, pc, !first) : cfa_rule(b, pc, !first);
	e->cfa_off = r->cfa_off;
	e->ra_off = r->ra_off;
	e->ok = r->ok;
	symbolize_frame(b, pc, first, &e->fr);
	e->goexit = in_goexit(b, pc);
	e->key = e == tmp ? 0 : key;
	return e;
}

/* Walk with frame rules from CFI (pcln false) or pclntab's SP deltas:
 * add_frame's frames and stops, one cached step per frame (the walk's
 * fields in locals: the stores into out would make the compiler reload
 * them every frame). */
static void unwind_rules(struct walk *w, uint64_t pc, uint64_t sp, bool pcln)
{
	struct gort_bin *b = w->b;
	struct gort_frame *out = w->out;
	uint64_t *sps = w->sps;
	int n = w->n, max = w->max;

	for (;;) {
		struct gort_step_ent tmp;
		const struct gort_step_ent *s = step_of(b, pc, n == 0, pcln, &tmp);
		uint64_t cfa, ra;

		out[n] = s->fr;
		if (sps)
			sps[n] = sp;
		n++;
		if (s->goexit) {
			w->at_goexit = true;
			break;
		}
		if (n >= max || !s->ok)
			break;
		cfa = sp + (uint64_t)(int64_t)s->cfa_off;
		if (!read_word(b, cfa + (uint64_t)(int64_t)s->ra_off, &ra) || ra == 0)
			break;
		pc = ra;
		sp = cfa;
	}
	w->n = n;
}

static void unwind_fp(struct walk *w, uint64_t pc, uint64_t sp, uint64_t bp)
{
	struct gort_bin *b = w->b;

	if (!add_frame(w, pc, sp))
		return;
	if (at_function_entry(b, pc)) {
		if (!read_word(b, sp, &pc) || pc == 0 || !add_frame(w, pc, sp + 8))
			return;
	}
	for (;;) {
		uint64_t next_bp;

		if (bp == 0 || !read_word(b, bp + 8, &pc) || !read_word(b, bp, &next_bp) || pc == 0)
			return;
		if (!add_frame(w, pc, bp + 16))
			return;
		if (next_bp <= bp)          /* stacks grow down: callers sit higher */
			return;
		bp = next_bp;
	}
}

/* Run one unwinder into a fresh walk over out/sps. */
static int run(struct gort_bin *b, enum gort_unwinder mode, uint64_t pc, uint64_t sp,
	       uint64_t bp, struct gort_frame *out, uint64_t *sps, int max, bool *at_goexit)
{
	struct walk w = { .b = b, .out = out, .sps = sps, .max = max };

	if (mode == GORT_UW_CACHED || mode == GORT_UW_PCLN)
		unwind_rules(&w, pc, sp, mode == GORT_UW_PCLN);
	else if (mode == GORT_UW_DWFL)
		unwind_dwfl(&w);
	else
		unwind_fp(&w, pc, sp, bp);
	*at_goexit = w.at_goexit;
	return w.n;
}

int gort_unwind_mode(struct gort_bin *b, gort_read_fn rd, void *ctx,
		     uint64_t pc, uint64_t sp, uint64_t bp,
		     struct gort_frame *out, uint64_t *sps, int max, enum gort_unwinder mode)
{
	/* Without CFI, libdwfl falls back to its own BP walk (elfutils'
	 * x86_64_unwind), which does not know that frame 0 from morestack has
	 * no frame yet and skips frame 1: never use it then.  pclntab's SP
	 * deltas are the runtime's own unwind data (and what Go's linker
	 * builds .debug_frame from): first without CFI, else after libdwfl. */
	enum gort_unwinder order[3], first;
	size_t norder = 0;
	struct gort_frame *tf = NULL;
	uint64_t *ts = NULL;
	bool done;
	int n;

	if (max <= 0 || pc == 0)
		return 0;
	b->rd = rd;
	b->rdctx = ctx;
	b->init_pc = pc;
	b->init_sp = sp;
	b->init_bp = bp;
	if (mode != GORT_UW_AUTO)
		return run(b, mode, pc, sp, bp, out, sps, max, &done);
	b->unwinds++;
	look_cfi(b);
	first = b->cfi ? GORT_UW_CACHED : b->have_pcln ? GORT_UW_PCLN : GORT_UW_FP;
	if (b->cfi)
		order[norder++] = GORT_UW_DWFL;
	if (b->have_pcln && first != GORT_UW_PCLN)
		order[norder++] = GORT_UW_PCLN;
	if (first != GORT_UW_FP)
		order[norder++] = GORT_UW_FP;
	n = run(b, first, pc, sp, bp, out, sps, max, &done);
	if (first == GORT_UW_PCLN)
		b->pcln_used++;
	else if (first == GORT_UW_FP)
		b->fp_fallbacks++;
	if (done || n == max)
		return n;
	/* The first walk stopped early: try the others, keep the best chain. */
	tf = malloc((size_t)max * sizeof *tf);
	ts = malloc((size_t)max * sizeof *ts);
	for (size_t i = 0; tf && ts && i < norder; i++) {
		int m = run(b, order[i], pc, sp, bp, tf, ts, max, &done);

		if (m > n || (done && m == n)) {
			memcpy(out, tf, (size_t)m * sizeof *out);
			if (sps)
				memcpy(sps, ts, (size_t)m * sizeof *sps);
			n = m;
			if (order[i] == GORT_UW_DWFL)
				b->dwfl_used++;
			else if (order[i] == GORT_UW_PCLN)
				b->pcln_used++;
			else
				b->fp_fallbacks++;
		}
		if (done || n == max)
			break;
	}
	free(tf);
	free(ts);
	return n;
}

int gort_unwind_sp(struct gort_bin *b, gort_read_fn rd, void *ctx,
		   uint64_t pc, uint64_t sp, uint64_t bp,
		   struct gort_frame *out, uint64_t *sps, int max)
{
	return gort_unwind_mode(b, rd, ctx, pc, sp, bp, out, sps, max, GORT_UW_AUTO);
}

int gort_unwind(struct gort_bin *b, gort_read_fn rd, void *ctx,
		uint64_t pc, uint64_t sp, uint64_t bp,
		struct gort_frame *out, int max)
{
	return gort_unwind_mode(b, rd, ctx, pc, sp, bp, out, NULL, max, GORT_UW_AUTO);
}
