/* growth_trace.c — the copystack tracepoint program and the events built
 * from its trace frames (see growth_trace.h for the model).
 *
 * The program, in agent-expression bytecode (GDB manual "Agent
 * Expressions"; stack shown left to right, top last):
 *
 * condition:
 *	gp.hi gp.lo sub newsize less_unsigned      old < newsize: a growth?
 *	if_goto G ; getv SHRINKS 1 add setv SHRINKS pop ; const 0 ; end
 *   G: getv COUNT ; 1 add ; setv COUNT           count every growth
 *	[every > 1: const N ; rem_unsigned ; log_not]   collect every Nth
 *	end
 * action (one 'X'):
 *	tracev COUNT                                    the growth's number
 *	gp setv GP tracev GP ; newsize setv NEWSIZE pop tracev NEWSIZE
 *	(gp stays on the stack from here on)
 *	gp + span_lo ; span_len ; trace                 gp's fields, one block
 *	gp.m ; if nonzero: + m_procid trace_quick 8     the thread
 *	gp.sched.sp trace_quick 8                       first return address
 *	span = hi - 16 - lo, lo, bp = sched.bp on the stack
 *	max_frames times (unrolled):
 *	    stop unless bp - lo <= span (unsigned: lo <= bp <= hi - 16)
 *	    bp trace_quick 16 (saved bp, return address) ; bp = [bp]
 * The walk ends at the goroutine's first frame (its saved bp is 0, outside
 * the stack) or at the depth limit; nothing outside the goroutine's stack
 * is ever read, so the action cannot fail on a bad pointer.
 *
 * Go 1.19 runtime: g.stack {lo, hi} is the first field; g.m; g.sched
 * {sp, pc, g, ctxt, ret, lr, bp}; m.procid (runtime/runtime2.go).  Offsets
 * come from gort_layout (DWARF, else the per-version table).
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "growth_trace.h"
#include "rsp.h"
#include "rsp_ax.h"

#define DEFAULT_FRAMES 64
#define MAX_SPAN 1024            /* gp's fields in one block up to this size */
#define TRACE_BUFFER_SIZE (4u << 20)

struct block {
	uint64_t addr;
	const uint8_t *data;
	size_t len;
};

struct gt_trace {
	struct gt_growth_cfg cfg;
	struct gt_trace_prog prog;
	struct tc_stream stream;
	bool stream_ok;
	bool armed;          /* QTStart done */
	bool stopped;        /* QTStop done */
	bool done;
	struct gt_stats stats;
	struct gort_frame *frames;
	struct gort_frame *xframes;   /* frames with inlined calls expanded */
	struct block *blocks;
	size_t nblocks, capblocks;
	size_t hint;         /* view_read: the block of the last read */
	bool batch_more;     /* gt_trace_poll: another frame follows this one */
	bool unflushed;      /* the last event went out with more == true */
	bool debug;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------ the program */

bool gt_trace_at_call(const struct gort_probes *pr)
{
	const char *e = getenv("GOTAP_GROWTH_PROBE");
	if (e && strcmp(e, "entry") == 0)
		return false;
	return pr->regabi && pr->grow_call && pr->shrink_call;
}

/* Push gp / newsize: copystack's arguments at its entry. */
static void push_gp(struct rsp_axb *b, const struct gort_probes *pr)
{
	if (pr->regabi) {
		rsp_axb_reg(b, RSP_AMD64_RAX);
	} else {
		rsp_axb_reg(b, RSP_AMD64_RSP);
		rsp_axb_const(b, 8);
		rsp_axb_op(b, RSP_AX_ADD);
		rsp_axb_op(b, RSP_AX_REF64);
	}
}

static void push_newsize(struct rsp_axb *b, const struct gort_probes *pr)
{
	if (pr->regabi) {
		rsp_axb_reg(b, RSP_AMD64_RBX);
	} else {
		rsp_axb_reg(b, RSP_AMD64_RSP);
		rsp_axb_const(b, 16);
		rsp_axb_op(b, RSP_AX_ADD);
		rsp_axb_op(b, RSP_AX_REF64);
	}
}

/* addr (top) + off */
static void add_off(struct rsp_axb *b, uint64_t off)
{
	if (off != 0) {
		rsp_axb_const(b, off);
		rsp_axb_op(b, RSP_AX_ADD);
	}
}

/* Push the 64-bit field at gp+off, gp on the top of the stack (kept). */
static void push_field(struct rsp_axb *b, uint32_t off)
{
	rsp_axb_op(b, RSP_AX_DUP);
	add_off(b, off);
	rsp_axb_op(b, RSP_AX_REF64);
}

/* tsv += 1, the new value left on the stack. */
static void incr_tsv(struct rsp_axb *b, unsigned tsv)
{
	rsp_axb_v(b, RSP_AX_GETV, tsv);
	rsp_axb_const(b, 1);
	rsp_axb_op(b, RSP_AX_ADD);
	rsp_axb_v(b, RSP_AX_SETV, tsv);
}

/* A condition's end for a copystack call that does not grow: count it as
 * a shrink, collect nothing. */
static void count_shrink(struct rsp_axb *b)
{
	incr_tsv(b, GT_TSV_SHRINKS);
	rsp_axb_op(b, RSP_AX_POP);
	rsp_axb_const(b, 0);
	rsp_axb_op(b, RSP_AX_END);
}

int gt_trace_build(const struct gt_growth_cfg *cfg, struct gt_trace_prog *p,
		   char *err, size_t errlen)
{
	const struct gort_layout *L = &cfg->layout;
	const struct gort_probes *pr = &cfg->probes;
	uint64_t every = cfg->every ? cfg->every : 1;
	int maxf = cfg->max_frames > 0 ? cfg->max_frames : DEFAULT_FRAMES;
	struct rsp_axb b;

	memset(p, 0, sizeof *p);
	/* condition */
	rsp_axb_init(&b, p->cond, sizeof p->cond);
	p->at_call = gt_trace_at_call(pr);
	if (!p->at_call) {      /* at newstack's call every pass grows: nothing to test */
		push_gp(&b, pr);
		add_off(&b, L->g_stack_hi);
		rsp_axb_op(&b, RSP_AX_REF64);
		push_gp(&b, pr);
		add_off(&b, L->g_stack_lo);
		rsp_axb_op(&b, RSP_AX_REF64);
		rsp_axb_op(&b, RSP_AX_SUB);
		push_newsize(&b, pr);
		rsp_axb_op(&b, RSP_AX_LESS_UNSIGNED);
		size_t to_grow = rsp_axb_jump(&b, RSP_AX_IF_GOTO);
		count_shrink(&b);                              /* not a growth: counted, not collected */
		rsp_axb_patch(&b, to_grow, rsp_axb_here(&b));
	}
	incr_tsv(&b, GT_TSV_COUNT);                    /* the new count stays on the stack */
	if (every > 1) {
		rsp_axb_const(&b, every);
		rsp_axb_op(&b, RSP_AX_REM_UNSIGNED);
		rsp_axb_op(&b, RSP_AX_LOG_NOT);
	}
	rsp_axb_op(&b, RSP_AX_END);
	if (b.err) {
		snprintf(err, errlen, "tracepoint condition: %s", rsp_ax_strerror(b.err));
		return -1;
	}
	p->cond_len = b.len;

	/* gp's fields the event needs, as one block */
	const uint32_t offs[] = { L->g_stack_lo, L->g_stack_hi, L->g_goid, L->g_m,
				  L->g_sched_pc, L->g_sched_sp, L->g_sched_bp };
	uint32_t lo = UINT32_MAX, hi = 0;
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		if (offs[i] < lo)
			lo = offs[i];
		if (offs[i] + 8 > hi)
			hi = offs[i] + 8;
	}
	if (hi - lo > MAX_SPAN) {
		snprintf(err, errlen, "runtime.g fields span %u bytes: layout not understood", hi - lo);
		return -1;
	}
	p->span_lo = lo;
	p->span_len = hi - lo;

	/* action: gp stays at the bottom of the stack throughout (no variable
	 * lookups per field) */
	rsp_axb_init(&b, p->action, sizeof p->action);
	rsp_axb_v(&b, RSP_AX_TRACEV, GT_TSV_COUNT);
	push_gp(&b, pr);
	rsp_axb_v(&b, RSP_AX_SETV, GT_TSV_GP);         /* gp */
	rsp_axb_v(&b, RSP_AX_TRACEV, GT_TSV_GP);
	push_newsize(&b, pr);
	rsp_axb_v(&b, RSP_AX_SETV, GT_TSV_NEWSIZE);
	rsp_axb_op(&b, RSP_AX_POP);
	rsp_axb_v(&b, RSP_AX_TRACEV, GT_TSV_NEWSIZE);
	/* gp's fields */
	rsp_axb_op(&b, RSP_AX_DUP);
	add_off(&b, p->span_lo);
	rsp_axb_const(&b, p->span_len);
	rsp_axb_op(&b, RSP_AX_TRACE);
	/* the thread: gp.m.procid (gp.m is set while gp runs newstack) */
	push_field(&b, L->g_m);                        /* gp m */
	rsp_axb_op(&b, RSP_AX_DUP);
	size_t have_m = rsp_axb_jump(&b, RSP_AX_IF_GOTO);
	size_t no_m = rsp_axb_jump(&b, RSP_AX_GOTO);
	rsp_axb_patch(&b, have_m, rsp_axb_here(&b));
	add_off(&b, L->m_procid);
	rsp_axb_op1(&b, RSP_AX_TRACE_QUICK, 8);
	rsp_axb_patch(&b, no_m, rsp_axb_here(&b));
	rsp_axb_op(&b, RSP_AX_POP);                    /* gp */
	/* the word at sched.sp: the return address of the call to morestack's
	 * caller, frame 1 of the backtrace */
	push_field(&b, L->g_sched_sp);
	rsp_axb_op1(&b, RSP_AX_TRACE_QUICK, 8);
	rsp_axb_op(&b, RSP_AX_POP);
	/* the frame-pointer chain, unrolled max_frames times (no loop
	 * counter).  Every bp read lies inside the goroutine's stack, which is
	 * mapped: lo <= bp <= hi - 16, one unsigned compare (bp - lo <= span),
	 * span and lo kept on the stack.  A chain that does not climb (never
	 * seen: Go's frames are sound) only wastes the remaining iterations,
	 * inside the stack. */
	push_field(&b, L->g_stack_lo);                 /* gp lo */
	rsp_axb_op1(&b, RSP_AX_PICK, 1);
	add_off(&b, L->g_stack_hi);
	rsp_axb_op(&b, RSP_AX_REF64);                  /* gp lo hi */
	rsp_axb_const(&b, 16);
	rsp_axb_op(&b, RSP_AX_SUB);
	rsp_axb_op1(&b, RSP_AX_PICK, 1);
	rsp_axb_op(&b, RSP_AX_SUB);                    /* gp lo span (= hi - 16 - lo) */
	rsp_axb_op(&b, RSP_AX_SWAP);                   /* gp span lo */
	rsp_axb_op1(&b, RSP_AX_PICK, 2);
	add_off(&b, L->g_sched_bp);
	rsp_axb_op(&b, RSP_AX_REF64);                  /* gp span lo bp */
	size_t ndone = 0, *done = calloc((size_t)maxf, sizeof *done);
	if (done == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < maxf; i++) {
		rsp_axb_op1(&b, RSP_AX_PICK, 2);          /* .. span lo bp span */
		rsp_axb_op1(&b, RSP_AX_PICK, 1);          /* .. span lo bp span bp */
		rsp_axb_op1(&b, RSP_AX_PICK, 3);          /* .. span lo bp span bp lo */
		rsp_axb_op(&b, RSP_AX_SUB);               /* .. span lo bp span bp-lo */
		rsp_axb_op(&b, RSP_AX_LESS_UNSIGNED);     /* .. span lo bp (span < bp-lo) */
		done[ndone++] = rsp_axb_jump(&b, RSP_AX_IF_GOTO);
		rsp_axb_op1(&b, RSP_AX_TRACE_QUICK, 16);  /* [bp] saved bp, [bp+8] return address */
		if (i + 1 < maxf)
			rsp_axb_op(&b, RSP_AX_REF64);     /* .. span lo bp': the caller's bp */
	}
	size_t end = rsp_axb_here(&b);
	for (size_t i = 0; i < ndone; i++)
		rsp_axb_patch(&b, done[i], end);
	free(done);
	rsp_axb_op(&b, RSP_AX_END);
	if (b.err) {
		snprintf(err, errlen, "tracepoint action: %s", rsp_ax_strerror(b.err));
		return -1;
	}
	p->action_len = b.len;
	int ce = rsp_ax_check(p->cond, p->cond_len), ae = rsp_ax_check(p->action, p->action_len);
	if (ce != 0 || ae != 0) {
		snprintf(err, errlen, "tracepoint program does not check: %s",
			 rsp_ax_strerror(ce != 0 ? ce : ae));
		return -1;
	}

	p->act = (struct tc_action){ .kind = 'X', .code = p->action, .code_len = p->action_len };
	if (p->at_call) {
		/* shrinks: counted at shrinkstack's call, never collected */
		rsp_axb_init(&b, p->shrink_cond, sizeof p->shrink_cond);
		count_shrink(&b);
		if (b.err || rsp_ax_check(p->shrink_cond, b.len) != 0) {
			snprintf(err, errlen, "shrink tracepoint condition: %s",
				 rsp_ax_strerror(b.err ? b.err : rsp_ax_check(p->shrink_cond, b.len)));
			return -1;
		}
		p->shrink_cond_len = b.len;
		p->shrink_tp = (struct tc_tracepoint){
			.num = GT_TRACEPOINT_SHRINK,
			.addr = pr->shrink_call,
			.enabled = true,
			.cond = p->shrink_cond, .cond_len = p->shrink_cond_len,
		};
	}
	p->tp = (struct tc_tracepoint){
		.num = GT_TRACEPOINT,
		.addr = p->at_call ? pr->grow_call :
			pr->copystack_entry ? pr->copystack_entry : pr->copystack,
		.enabled = true,
		/* stop collecting at the max_events-th reported growth: the
		 * growth count then stops there too, as in stop mode */
		.pass = cfg->max_events,
		.cond = p->cond, .cond_len = p->cond_len,
		.acts = &p->act, .nacts = 1,
	};
	return 0;
}

/* ------------------------------------------------------------ state */

struct gt_trace *gt_trace_new(const struct gt_growth_cfg *cfg)
{
	struct gt_trace *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	t->cfg = *cfg;
	if (t->cfg.every == 0)
		t->cfg.every = 1;
	if (t->cfg.max_frames <= 0)
		t->cfg.max_frames = DEFAULT_FRAMES;
	t->frames = calloc((size_t)t->cfg.max_frames, sizeof *t->frames);
	t->xframes = calloc((size_t)t->cfg.max_frames * GT_INLINE_FACTOR, sizeof *t->xframes);
	if (t->frames == NULL || t->xframes == NULL) {
		free(t->frames);
		free(t->xframes);
		free(t);
		return NULL;
	}
	t->stats.start_ns = now_ns();
	t->stats.trace_mode = true;
	t->stats.sampled = t->cfg.every > 1;
	t->debug = getenv("GOTAP_DEBUG") != NULL;
	return t;
}

void gt_trace_free(struct gt_trace *t)
{
	if (t == NULL)
		return;
	if (t->stream_ok)
		tc_stream_free(&t->stream);
	free(t->frames);
	free(t->xframes);
	free(t->blocks);
	free(t);
}

bool gt_trace_running(const struct gt_trace *t)
{
	return t->armed && !t->stopped;
}

bool gt_trace_done(const struct gt_trace *t)
{
	return t->done;
}

const struct gt_stats *gt_trace_stats(const struct gt_trace *t)
{
	return &t->stats;
}

const struct tc_stream *gt_trace_stream(const struct gt_trace *t)
{
	return &t->stream;
}

int gt_trace_arm(struct gt_trace *t, char *err, size_t errlen)
{
	struct rspc *c = t->cfg.conn;
	if (gt_trace_build(&t->cfg, &t->prog, err, errlen) < 0)
		return 1;
	if (!tc_supported(c)) {
		snprintf(err, errlen, "the stub has no conditional tracepoints");
		return 1;
	}
	static const char *const names[] = { "gotap_growths", "gotap_gp", "gotap_newsize",
					     "gotap_lo", "gotap_span", "gotap_shrinks" };
	int r = tc_init(c);
	for (unsigned i = 0; r == 0 && i < GT_TSV_NUM; i++)
		r = tc_define_tsv(c, i + 1, 0, names[i]);
	if (r == 0)
		r = tc_define(c, &t->prog.tp);
	if (r == 0 && t->prog.at_call)
		r = tc_define(c, &t->prog.shrink_tp);
	if (r == 0) {
		/* a bigger buffer only smooths bursts: without it the stub's
		 * default and back-pressure do */
		r = tc_buffer_size(c, TRACE_BUFFER_SIZE) < 0 ? -1 : 0;
	}
	if (r == 0) {
		int s = tc_stream_mode(c);
		if (s < 0)
			r = -1;
		else if (s > 0) {
			snprintf(err, errlen, "the stub cannot stream its trace buffer (QTBuffer:stream)");
			(void)tc_init(c);
			return 1;
		}
	}
	if (r == 0)
		r = tc_start(c);
	if (r < 0) {
		snprintf(err, errlen, "%s", rspc_error(c));
		/* refused (not a dead connection): clean up, tell the caller */
		if (tc_init(c) == 0)
			return 1;
		return -1;
	}
	if (tc_stream_init(&t->stream, c) < 0) {
		snprintf(err, errlen, "%s", rspc_error(c));
		return -1;
	}
	t->stream_ok = true;
	t->armed = true;
	t->stats.start_ns = now_ns();
	return 0;
}

/* ------------------------------------------------------------ frames */

static int by_addr(const void *a, const void *b)
{
	const struct block *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Is blocks[i] the one view_read serves address a from: the last block
 * starting at or below a, and holding a? */
static inline bool serves(const struct gt_trace *t, size_t i, uint64_t a)
{
	const struct block *bl = &t->blocks[i];
	return a >= bl->addr && a - bl->addr < bl->len &&
	       (i + 1 == t->nblocks || t->blocks[i + 1].addr > a);
}

/* view_read's general path: any length, a search per piece. */
static long view_search(struct gt_trace *t, uint64_t addr, uint8_t *dst, size_t len)
{
	size_t done = 0;
	while (done < len) {
		uint64_t a = addr + done;
		/* last block starting at or below a */
		size_t lo = 0, hi = t->nblocks;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (t->blocks[mid].addr <= a)
				lo = mid + 1;
			else
				hi = mid;
		}
		bool found = false;
		/* overlapping blocks: look back a little */
		for (size_t i = lo; i > 0 && lo - i < 4; i--) {
			const struct block *bl = &t->blocks[i - 1];
			if (a >= bl->addr && a - bl->addr < bl->len) {
				size_t k = bl->len - (size_t)(a - bl->addr);
				if (k > len - done)
					k = len - done;
				memcpy(dst + done, bl->data + (a - bl->addr), k);
				done += k;
				found = true;
				t->hint = i - 1;
				break;
			}
		}
		if (!found)
			break;
	}
	return done > 0 ? (long)done : -1;
}

/* The 8 bytes at a when blocks[h] serves a and holds them all, else NULL. */
static inline const uint8_t *view_word(const struct gt_trace *t, size_t h, uint64_t a)
{
	if (h >= t->nblocks || !serves(t, h, a))
		return NULL;
	const struct block *bl = &t->blocks[h];
	uint64_t d = a - bl->addr;
	return bl->len - d >= 8 ? bl->data + d : NULL;
}

/* The memory view over one frame's blocks: a gort_read_fn.  Reads only
 * what was collected; a read that runs across adjacent blocks is served
 * piece by piece.  The unwinder reads the frame-pointer chain's blocks in
 * address order, one word per block: the block after the previous read's
 * is tried first, then that block (one block serves an address), before
 * a search. */
static long view_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct gt_trace *t = ctx;
	if (len == 8) {
		size_t h = t->hint + 1;
		const uint8_t *p = view_word(t, h, addr);
		if (p == NULL)
			p = view_word(t, --h, addr);
		if (p != NULL) {
			memcpy(buf, p, 8);
			t->hint = h;
			return 8;
		}
	}
	return view_search(t, addr, buf, len);
}

static int view_u64(struct gt_trace *t, uint64_t addr, uint64_t *v)
{
	uint64_t x;
	if (view_search(t, addr, (uint8_t *)&x, 8) != 8)   /* a word off the chain */
		return -1;
	*v = le64toh(x);
	return 0;
}

/* A field of gp: from the block the action traced gp's fields in (gb, when
 * the frame has it), else through the view.  The same bytes: no other
 * collected block overlaps a runtime.g (the stack and m are elsewhere).
 * m.procid is read the same way from the block traced after gp's. */
static int gp_field(struct gt_trace *t, const struct block *gb, uint64_t addr, uint64_t *v)
{
	uint64_t d = addr - gb->addr;
	if (gb->len >= 8 && d <= gb->len - 8) {
		uint64_t x;
		memcpy(&x, gb->data + d, 8);
		*v = le64toh(x);
		return 0;
	}
	return view_u64(t, addr, v);
}

static int emit(struct gt_trace *t, const struct gt_event *ev, char *err, size_t errlen)
{
	for (int i = 0; i < t->cfg.nsinks; i++) {
		struct out_sink *s = &t->cfg.sinks[i];
		if (s->event(s->state, ev) < 0) {
			snprintf(err, errlen, "cannot write %s output: %s", s->name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int gt_trace_on_frame(struct gt_trace *t, const struct rsp_tframe *f, char *err, size_t errlen)
{
	const struct gort_layout *L = &t->cfg.layout;
	struct rsp_tblock blk;
	size_t boff = 0;
	bool have_seq = false, have_gp = false, have_ns = false;
	uint64_t seq = 0, gp = 0, newsize = 0;
	struct block gb = { 0, NULL, 0 };   /* gp's fields, once seen */
	struct block mb = { 0, NULL, 0 };   /* the block after gb: m.procid, if gp.m != 0 */
	int r;

	if (f->tpnum != GT_TRACEPOINT)
		return 0;    /* not ours */
	t->hint = 0;
	/* the frame's blocks, gathered in locals (t->blocks stays valid:
	 * only this loop grows it) */
	struct block *bls = t->blocks;
	size_t nb = 0, cap = t->capblocks;
	const uint8_t *data = f->data;
	size_t data_len = f->data_len;
	for (;;) {
		/* 'M' blocks (all but three) decoded here, as
		 * rsp_tframe_block_next does; anything else through it */
		uint64_t baddr;
		const uint8_t *bdata;
		size_t blen;
		const uint8_t *p = data + boff;
		size_t left = data_len - boff;
		uint16_t n16;
		if (boff < data_len && p[0] == 'M' && left >= RSP_TFRAME_MEM_HDR &&
		    (memcpy(&n16, p + 9, 2), left - RSP_TFRAME_MEM_HDR >= le16toh(n16))) {
			uint64_t a;
			memcpy(&a, p + 1, 8);
			baddr = le64toh(a);
			bdata = p + RSP_TFRAME_MEM_HDR;
			blen = le16toh(n16);
			boff += RSP_TFRAME_MEM_HDR + blen;
		} else {
			if ((r = rsp_tframe_block_next(f, &boff, &blk)) != 1)
				break;
			if (blk.kind == 'V') {
				if (blk.num == GT_TSV_COUNT) {
					seq = (uint64_t)blk.value;
					have_seq = true;
				} else if (blk.num == GT_TSV_GP) {
					gp = (uint64_t)blk.value;
					have_gp = true;
				} else if (blk.num == GT_TSV_NEWSIZE) {
					newsize = (uint64_t)blk.value;
					have_ns = true;
				}
				continue;
			}
			if (blk.kind != 'M')
				continue;
			baddr = blk.addr;
			bdata = blk.data;
			blen = blk.len;
		}
		if (blen == 0)
			continue;
		if (nb == cap) {
			size_t ncap = cap ? 2 * cap : 128;
			struct block *nbl = realloc(bls, ncap * sizeof *nbl);
			if (nbl == NULL) {
				t->nblocks = 0;
				t->stats.errors++;
				return 0;
			}
			t->blocks = bls = nbl;
			t->capblocks = cap = ncap;
		}
		bls[nb++] = (struct block){ baddr, bdata, blen };
		if (gb.data == NULL) {
			if (have_gp && baddr == gp + t->prog.span_lo)
				gb = bls[nb - 1];
		} else if (mb.data == NULL) {
			mb = bls[nb - 1];
		}
	}
	t->nblocks = nb;
	if (r < 0 || !have_seq || !have_gp || !have_ns) {
		t->stats.errors++;
		return 0;
	}
	/* nearly sorted already (the chain climbs): insertion sort */
	for (size_t i = 1; i < t->nblocks; i++) {
		if (t->blocks[i - 1].addr <= t->blocks[i].addr)
			continue;          /* in place already: the common case */
		struct block b = t->blocks[i];
		size_t j = i;
		while (j > 0 && by_addr(&t->blocks[j - 1], &b) > 0) {
			t->blocks[j] = t->blocks[j - 1];
			j--;
		}
		t->blocks[j] = b;
	}

	uint64_t lo, hi, goid, spc, ssp, sbp, m, tid = 0;
	if (gp_field(t, &gb, gp + L->g_stack_lo, &lo) < 0 || gp_field(t, &gb, gp + L->g_stack_hi, &hi) < 0 ||
	    gp_field(t, &gb, gp + L->g_goid, &goid) < 0 || gp_field(t, &gb, gp + L->g_sched_pc, &spc) < 0 ||
	    gp_field(t, &gb, gp + L->g_sched_sp, &ssp) < 0 || gp_field(t, &gb, gp + L->g_sched_bp, &sbp) < 0 ||
	    hi <= lo) {
		t->stats.errors++;
		return 0;
	}
	if (gp_field(t, &gb, gp + L->g_m, &m) == 0 && m != 0)
		(void)gp_field(t, &mb, m + L->m_procid, &tid);   /* (mb, else the view) */

	uint64_t old = hi - lo;
	if (seq > t->stats.growths)
		t->stats.growths = seq;
	if (newsize <= old) {
		/* the condition lets only growths through */
		t->stats.errors++;
		return 0;
	}
	if (t->debug)
		fprintf(stderr, "gotap-debug: trace frame %" PRIu64 ": tid %" PRIu64 " g 0x%" PRIx64
			" goid %" PRIu64 " %" PRIu64 " -> %" PRIu64 ", %zu blocks\n",
			seq, tid, gp, goid, old, newsize, t->nblocks);

	struct gt_event ev;
	memset(&ev, 0, sizeof ev);
	ev.seq = seq;
	ev.time_ns = now_ns();
	ev.pid = t->cfg.pid;
	ev.tid = (int64_t)tid;
	ev.goid = (int64_t)goid;
	ev.old_size = old;
	ev.new_size = newsize;
	ev.used = hi > ssp && hi - ssp <= old ? hi - ssp : 0;
	t->stats.bytes_copied += ev.used;
	t->stats.bytes_allocated += newsize;
	if (gort_symbolize(t->cfg.bin, spc, true, &ev.site) < 0) {
		memset(&ev.site, 0, sizeof ev.site);
		ev.site.pc = spc;
	}
	ev.reported = !t->done && seq % t->cfg.every == 0;
	ev.more = t->batch_more;
	if (ev.reported) {
		int n = gort_unwind(t->cfg.bin, view_read, t, spc, ssp, sbp, t->frames,
				    t->cfg.max_frames);
		if (n <= 0) {
			t->frames[0] = ev.site;
			n = 1;
		}
		ev.nframes = gt_event_frames(&t->cfg, t->frames, n, t->xframes, &ev.frames);
		t->stats.reported++;
		if (t->cfg.max_events && t->stats.reported >= t->cfg.max_events)
			t->done = true;
	}
	if (t->done)
		ev.more = false;    /* no event follows this one */
	t->unflushed = ev.more;
	return emit(t, &ev, err, errlen);
}

long gt_trace_poll(struct gt_trace *t, char *err, size_t errlen)
{
	if (!t->stream_ok)
		return 0;
	long n = tc_stream_fill(&t->stream);
	if (n < 0) {
		snprintf(err, errlen, "reading the trace buffer: %s", rspc_error(t->cfg.conn));
		return -1;
	}
	/* One frame of look-ahead: the events of one reply are a batch (ev.more
	 * while another frame follows), which the sinks flush once, at its
	 * last event, instead of once per event. */
	struct rsp_tframe f, nf;
	int r = tc_stream_next(&t->stream, &f);
	while (r == 1) {
		int rn = tc_stream_next(&t->stream, &nf);
		if (!t->done) {     /* past --max-events: released, not reported */
			t->batch_more = rn == 1;
			int e = gt_trace_on_frame(t, &f, err, errlen);
			t->batch_more = false;
			if (e < 0)
				return -1;
		}
		f = nf;
		r = rn;
	}
	if (t->unflushed) {
		/* the batch's last frames made no event (not ours, not
		 * decodable): what was written still has to go out */
		t->unflushed = false;
		if (fflush(NULL) == EOF) {
			snprintf(err, errlen, "cannot write output: %s", strerror(errno));
			return -1;
		}
	}
	if (r < 0) {
		snprintf(err, errlen, "%s", rspc_error(t->cfg.conn));
		return -1;
	}
	return n;
}

int gt_trace_check(struct gt_trace *t, char *why, size_t cap)
{
	struct rsp_tstatus ts;
	char text[200];
	if (!gt_trace_running(t))
		return 0;
	if (tc_status(t->cfg.conn, &ts, text, sizeof text) < 0) {
		snprintf(why, cap, "%s", rspc_error(t->cfg.conn));
		return -1;
	}
	/* the pass count is --max-events; "unknown" is what a stub says once
	 * the process is gone (its exit is on its way as a stop) */
	if (ts.running || ts.reason == RSP_TSTOP_PASSCOUNT || ts.reason == RSP_TSTOP_UNKNOWN ||
	    ts.reason == RSP_TSTOP_NOT_RUN)
		return 0;
	const char *r = ts.reason == RSP_TSTOP_ERROR ? "an error in the tracepoint program"
		: ts.reason == RSP_TSTOP_FULL ? "the trace buffer is full"
		: ts.reason == RSP_TSTOP_USER ? "stopped by a client (QTStop)"
		: ts.reason == RSP_TSTOP_DISCONNECTED ? "a client disconnected"
		: ts.reason == RSP_TSTOP_NOT_RUN ? "not running" : "unknown reason";
	snprintf(why, cap, "the stub stopped tracing: %s%s%s", r, text[0] ? ": " : "", text);
	t->stats.errors++;
	return 1;
}

int gt_trace_stop(struct gt_trace *t, char *err, size_t errlen)
{
	struct rspc *c = t->cfg.conn;
	if (!t->armed || t->stopped)
		return 0;
	t->stopped = true;
	if (tc_stop(c) < 0) {
		snprintf(err, errlen, "%s", rspc_error(c));
		return -1;
	}
	/* what was collected before the stop */
	for (int i = 0; i < 100000; i++) {
		long n = gt_trace_poll(t, err, errlen);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
	}
	int64_t v;
	int r = tc_get_tsv(c, GT_TSV_COUNT, &v);
	if (r < 0) {
		snprintf(err, errlen, "%s", rspc_error(c));
		return -1;
	}
	if (r == 1 && v > 0 && (uint64_t)v > t->stats.growths)
		t->stats.growths = (uint64_t)v;
	r = tc_get_tsv(c, GT_TSV_SHRINKS, &v);
	if (r < 0) {
		snprintf(err, errlen, "%s", rspc_error(c));
		return -1;
	}
	if (r == 1 && v > 0)
		t->stats.shrinks = (uint64_t)v;
	if (t->debug) {
		struct rsp_tstatus ts;
		char text[8];
		if (tc_status(c, &ts, text, sizeof text) == 0)
			fprintf(stderr, "gotap-debug: trace status: running %d, frames created %" PRIu64
				", in buffer %" PRIu64 ", size %" PRIu64 ", free %" PRIu64 "\n",
				ts.running, ts.created, ts.frames, ts.size, ts.free);
	}
	return 0;
}

int gt_trace_finish(struct gt_trace *t)
{
	t->stats.end_ns = now_ns();
	int rc = 0;
	for (int i = 0; i < t->cfg.nsinks; i++) {
		struct out_sink *s = &t->cfg.sinks[i];
		if (s->finish(s->state, &t->stats) < 0)
			rc = -1;
	}
	return rc;
}
