/* trace.c — the trace buffer, tracepoint hits and collection (see trace.h).
 *
 * Semantics follow gdbserver (gdbserver/tracepoint.cc, GDB manual
 * "Tracepoints"): a hit counts (and its pass count advances) only when the
 * condition holds; each tracepoint at the hit address makes its own frame;
 * an error in a condition or an action stops the run ("terror"); a full
 * linear buffer stops it ("tfull"); reaching a pass count stops it after
 * that frame ("tpasscount").  Stopping takes the breakpoints out at once;
 * a thread of a running process that executed one of those int3s just
 * before gets a SIGTRAP the backend cannot place (the int3 is gone): the
 * hook recognises it by pc-1 == a tracepoint address taken out during this
 * run, rewinds pc and lets the thread run on, so the client never sees it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "rsp_ax.h"
#include "session.h"
#include "trace.h"

/* ================================================================ buffer */

int stub_tbuf_init(struct stub_tbuf *b, size_t cap, enum stub_tbuf_mode mode)
{
	memset(b, 0, sizeof *b);
	b->mem = malloc(cap ? cap : 1);
	b->rcap = 64;
	b->recs = malloc(b->rcap * sizeof *b->recs);
	if (!b->mem || !b->recs) {
		stub_tbuf_free(b);
		return -ENOMEM;
	}
	b->cap = cap;
	b->mode = mode;
	return 0;
}

void stub_tbuf_free(struct stub_tbuf *b)
{
	free(b->mem);
	free(b->recs);
	memset(b, 0, sizeof *b);
}

void stub_tbuf_reset(struct stub_tbuf *b)
{
	b->head = b->tail = 0;
	b->rfirst = b->rn = 0;
}

bool stub_tbuf_fits(const struct stub_tbuf *b, size_t len)
{
	return len <= b->cap - stub_tbuf_used(b);
}

static void drop_oldest(struct stub_tbuf *b)
{
	const struct stub_tframe_rec *r = &b->recs[b->rfirst];
	b->head = r->off + r->size;
	b->rfirst = (b->rfirst + 1) % b->rcap;
	if (--b->rn == 0) {
		b->head = b->tail;
		b->rfirst = 0;
	}
}

static int rec_room(struct stub_tbuf *b)
{
	if (b->rn < b->rcap) return 0;
	size_t nc = b->rcap * 2;
	struct stub_tframe_rec *n = malloc(nc * sizeof *n);
	if (!n) return -ENOMEM;
	for (size_t i = 0; i < b->rn; i++) n[i] = b->recs[(b->rfirst + i) % b->rcap];
	free(b->recs);
	b->recs = n;
	b->rcap = nc;
	b->rfirst = 0;
	return 0;
}

int stub_tbuf_append(struct stub_tbuf *b, const uint8_t *frame, size_t len,
		     uint32_t tpnum, uint64_t pc)
{
	if (len > b->cap || len > UINT32_MAX) return -E2BIG;
	while (!stub_tbuf_fits(b, len)) {
		if (b->mode != STUB_TBUF_CIRCULAR || b->rn == 0) return -ENOSPC;
		drop_oldest(b);
	}
	if (rec_room(b) < 0) return -ENOMEM;
	size_t pos = (size_t)(b->tail % b->cap);
	size_t first = len < b->cap - pos ? len : b->cap - pos;
	memcpy(b->mem + pos, frame, first);
	memcpy(b->mem, frame + first, len - first);
	b->recs[(b->rfirst + b->rn) % b->rcap] = (struct stub_tframe_rec){
		.off = b->tail, .size = (uint32_t)len, .tpnum = tpnum, .pc = pc };
	b->rn++;
	b->tail += len;
	return 0;
}

size_t stub_tbuf_view(const struct stub_tbuf *b, uint64_t off, size_t len,
		      const uint8_t *seg[2], size_t segn[2])
{
	seg[0] = seg[1] = b->mem;
	segn[0] = segn[1] = 0;
	if (off < b->head || off >= b->tail || b->cap == 0) return 0;
	size_t n = b->tail - off < len ? (size_t)(b->tail - off) : len;
	size_t pos = (size_t)(off % b->cap);
	size_t first = n < b->cap - pos ? n : b->cap - pos;
	seg[0] = b->mem + pos;
	segn[0] = first;
	segn[1] = n - first;
	return n;
}

size_t stub_tbuf_read(const struct stub_tbuf *b, uint64_t off, uint8_t *dst, size_t len)
{
	const uint8_t *seg[2];
	size_t segn[2];
	size_t n = stub_tbuf_view(b, off, len, seg, segn);
	if (n == 0) return 0;
	memcpy(dst, seg[0], segn[0]);
	if (segn[1]) memcpy(dst + segn[0], seg[1], segn[1]);
	return n;
}

size_t stub_tbuf_release(struct stub_tbuf *b, uint64_t off)
{
	size_t k = 0;
	while (b->rn > 0) {
		const struct stub_tframe_rec *r = &b->recs[b->rfirst];
		if (r->off + r->size > off) break;
		drop_oldest(b);
		k++;
	}
	return k;
}

const struct stub_tframe_rec *stub_tbuf_frame(const struct stub_tbuf *b, size_t i)
{
	return i < b->rn ? &b->recs[(b->rfirst + i) % b->rcap] : NULL;
}

/* ================================================================ state */

/* gdbserver's builtin $trace_timestamp (number 1): gdb lists it after
 * uploading the target's variables (qTfV) and defines it again with QTDV. */
static void add_builtin_tsvs(struct stub_trace *t)
{
	if (t->captsvs == 0) {
		t->tsvs = calloc(8, sizeof *t->tsvs);
		if (!t->tsvs) return;
		t->captsvs = 8;
	}
	char *name = strdup(STUB_TSV_TIMESTAMP_HEX);
	if (!name) return;
	t->tsvs[0] = (struct stub_tsv){ .num = 1, .builtin = true, .timestamp = true, .name_hex = name };
	t->ntsvs = 1;
}

static void free_defs(struct stub_trace *t);

struct stub_trace *stub_trace_get(struct stub_session *s, bool create)
{
	if (s->trace || !create) return s->trace;
	struct stub_trace *t = calloc(1, sizeof *t);
	if (!t) return NULL;
	t->defining = -1;
	t->sel = -1;
	add_builtin_tsvs(t);
	s->trace = t;
	return t;
}

void stub_trace_free(struct stub_session *s)
{
	struct stub_trace *t = s->trace;
	if (!t) return;
	free_defs(t);
	free(t->tps);
	free(t->tsvs);
	stub_tbuf_free(&t->buf);
	free(t->scratch);
	for (unsigned i = 0; i < t->nparked; i++) free(t->parked[i].frame);
	free(t->parked);
	free(t->removed);
	free(t->steps);
	free(t->selbuf);
	free(t->ro);
	free(t);
	s->trace = NULL;
}

static void free_defs(struct stub_trace *t)
{
	for (unsigned i = 0; i < t->ntps; i++) {
		struct stub_tp *tp = &t->tps[i];
		free(tp->acts);
		free(tp->bytes);
		for (unsigned k = 0; k < tp->nsrc; k++) free(tp->src[k]);
		free(tp->src);
	}
	t->ntps = 0;
	t->defining = -1;
	for (unsigned i = 0; i < t->ntsvs; i++) free(t->tsvs[i].name_hex);
	t->ntsvs = 0;
	t->nro = 0;
}

void stub_trace_clear_defs(struct stub_trace *t)
{
	free_defs(t);
	add_builtin_tsvs(t);
}

uint64_t stub_trace_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct stub_tsv *stub_trace_tsv(struct stub_trace *t, uint32_t num)
{
	/* gdb numbers its variables 1, 2, ... and defines them in order, so
	 * variable n usually sits at index n-1 (an expression's getv/setv per
	 * hit then costs no search) */
	if (num - 1 < t->ntsvs && t->tsvs[num - 1].num == num) return &t->tsvs[num - 1];
	for (unsigned i = 0; i < t->ntsvs; i++)
		if (t->tsvs[i].num == num) return &t->tsvs[i];
	return NULL;
}

/* The run's process went away (exit, kill, detach, another vRun): its
 * breakpoints went with it. */
static void sync_process(struct stub_session *s, struct stub_trace *t)
{
	if (!t->running || (s->pid > 0 && s->pid == t->pid)) return;
	for (unsigned i = 0; i < t->ntps; i++) t->tps[i].inserted = false;
	t->running = false;
	t->reason = RSP_TSTOP_UNKNOWN;
	t->stop_us = stub_trace_now_us();
	t->nparked_hold = 0;
	for (unsigned i = 0; i < t->nparked; i++) t->parked[i].hold = false;
}

void stub_trace_sync(struct stub_session *s)
{
	if (s->trace) sync_process(s, s->trace);
}

static void note_removed(struct stub_trace *t, uint64_t addr)
{
	for (unsigned i = 0; i < t->nremoved; i++)
		if (t->removed[i] == addr) return;
	if (t->nremoved == t->capremoved) {
		unsigned nc = t->capremoved ? 2 * t->capremoved : 8;
		uint64_t *n = realloc(t->removed, nc * sizeof *n);
		if (!n) return;   /* only weakens the stray-SIGTRAP filter */
		t->removed = n;
		t->capremoved = nc;
	}
	t->removed[t->nremoved++] = addr;
}

int stub_trace_insert(struct stub_session *s, struct stub_tp *tp)
{
	if (tp->inserted) return 0;
	/* Its hits are never shown to the client as stops (a client Z0 there
	 * is a breakpoint of its own): the backend may make them cheaper
	 * (pt_ops: a jump to a pad, no register write per hit). */
	int r = s->ops->insert_bp(s->tgt, TGT_BP_TRACE, tp->addr, 1);
	tp->plain_bp = r == -EINVAL;
	if (tp->plain_bp) r = s->ops->insert_bp(s->tgt, TGT_BP_SW, tp->addr, 1);
	if (r < 0) return r;
	tp->inserted = true;
	return 0;
}

void stub_trace_remove(struct stub_session *s, struct stub_tp *tp)
{
	if (!tp->inserted) return;
	tp->inserted = false;
	struct stub_trace *t = s->trace;
	if (s->pid > 0 && t->pid == s->pid) {
		int r = s->ops->remove_bp(s->tgt, tp->plain_bp ? TGT_BP_SW : TGT_BP_TRACE, tp->addr, 1);
		if (r < 0 && r != -ENOENT && r != -ESRCH)
			fprintf(stderr, "gotap-stub: removing tracepoint %u: %s\n", tp->num, strerror(-r));
		note_removed(t, tp->addr);
	}
}

/* May a thread the trace holds be resumed now?  Only while the client
 * believes threads run (non-stop, or all-stop with a resume outstanding);
 * in an all-stop stop it runs on with the others at the next resume. */
static bool may_resume(const struct stub_session *s)
{
	return s->state == STUB_RUNNING || s->nonstop;
}

static struct stub_tstep *step_find(struct stub_trace *t, pid_t tid);
static void step_end(struct stub_trace *t, struct stub_tstep *st);

/* Resume a thread the trace stopped: single-step while it owes
 * while-stepping frames, else continue. */
static void resume_thread(struct stub_session *s, pid_t tid)
{
	struct stub_tstep *st = step_find(s->trace, tid);
	bool step = st && st->left > 0 && s->trace->running;
	if (st && !step) step_end(s->trace, st);
	int r = s->ops->resume(s->tgt, tid, step ? TGT_RESUME_STEP : TGT_RESUME_CONT, 0);
	if (r < 0 && r != -ESRCH)
		fprintf(stderr, "gotap-stub: resuming thread %d after a tracepoint: %s\n", tid, strerror(-r));
	s->trace->stat_resumes++;
}

void stub_trace_stop_run(struct stub_session *s, enum rsp_tstop_reason why, uint32_t tpnum,
			 const char *err)
{
	struct stub_trace *t = s->trace;
	if (!t || !t->running) return;
	for (unsigned i = 0; i < t->ntps; i++) stub_trace_remove(s, &t->tps[i]);
	t->running = false;
	t->reason = why;
	t->stop_tp = tpnum;
	snprintf(t->stop_error, sizeof t->stop_error, "%s", err ? err : "");
	t->stop_us = stub_trace_now_us();
	/* Frames still waiting stay queued (they move into the buffer as the
	 * reader releases room); their threads need not wait any more. */
	for (unsigned i = 0; i < t->nparked; i++) {
		struct stub_tparked *p = &t->parked[i];
		if (!p->hold) continue;
		p->hold = false;
		if (may_resume(s)) resume_thread(s, p->tid);
	}
	t->nparked_hold = 0;
	/* Threads in the middle of while-stepping finish their current step
	 * (its stop is still consumed) and then continue. */
	for (unsigned i = 0; i < t->nsteps; i++) t->steps[i].left = 0;
}

void stub_trace_disarm(struct stub_session *s)
{
	struct stub_trace *t = s->trace;
	if (!t) return;
	sync_process(s, t);
	stub_trace_stop_run(s, RSP_TSTOP_UNKNOWN, 0, NULL);
}

/* Move waiting frames into the buffer while they fit (FIFO); threads that
 * waited for them run on.  Returns the number moved. */
unsigned stub_trace_unpark(struct stub_session *s)
{
	struct stub_trace *t = s->trace;
	unsigned k = 0;
	while (k < t->nparked && stub_tbuf_fits(&t->buf, t->parked[k].len)) {
		struct stub_tparked *p = &t->parked[k];
		if (stub_tbuf_append(&t->buf, p->frame, p->len, p->tpnum, p->pc) < 0) break;
		t->parked_bytes -= p->len;
		free(p->frame);
		if (p->hold) {
			t->nparked_hold--;
			if (may_resume(s)) resume_thread(s, p->tid);
		}
		k++;
	}
	if (k) {
		memmove(t->parked, t->parked + k, (t->nparked - k) * sizeof *t->parked);
		t->nparked -= k;
	}
	return k;
}

/* ================================================================ a hit */

#define CACHE_SLOTS STUB_TRACE_CACHE_SLOTS
#define CACHE_CHUNK STUB_TRACE_CACHE_CHUNK
#define CACHE_PAGE 4096u
#define CACHE_LINE 64u
#define CACHE_SMALL 1024u      /* least read off the stack: a runtime struct's fields */
#define PEND_MAX 16             /* trace blocks waiting to be read, per frame */
#define PEND_BYTES 4096u        /* only blocks up to this size wait */
#define STACK_NEAR (64u << 10)  /* "on the stack": within 64 KiB above rsp (further up, a walk is
				 * seen as reads past a cached block) */

#define HIT_REGS 32              /* registers cached per hit: the general ones and then some */

struct hit {
	struct stub_session *s;
	struct stub_trace *t;
	struct stub_tp *tp;
	pid_t tid;
	bool collecting;             /* false while the condition runs */
	bool have_regs;
	struct rsp_tframe_enc enc;
	struct { uint64_t base; size_t len; unsigned ord; bool walked, near; } slot[CACHE_SLOTS];
	unsigned next;
	unsigned last;               /* the slot that served the last read */
	unsigned nmiss;              /* cache misses so far in this hit */
	bool have_rsp;
	uint64_t rsp;
	/* Registers read so far in this hit: the thread stays stopped and
	 * nothing here writes its registers, so a value read once holds for
	 * the whole hit (the growth program reads gp and newsize in the
	 * condition and again in the action). */
	uint32_t regs_known;         /* bit regno: regv[regno] is valid */
	uint64_t regv[HIT_REGS];
	/* 'M' blocks reserved in the frame whose bytes are read later
	 * (env_trace): with the next cache fill, in the same system call, or
	 * all together when the frame ends (flush_pending) */
	struct pend { size_t off; uint64_t addr; size_t len; bool done; } pend[PEND_MAX];
	unsigned npend, nundone;
};

static int env_reg(void *ctx, unsigned regno, uint64_t *val);

/* Read-ahead learnt over hits: walk_score[k] grows when the block read at
 * the k-th miss of a hit is used beyond its first CACHE_SMALL bytes (a
 * stack walk up from a saved sp the program keeps in memory, which no
 * register points at); from 2 on, that miss reads a whole chunk at once,
 * which costs a point back unless it is used so.  Only read sizes depend
 * on it, never what is collected. */
#define WALK_ORDS 8
static uint8_t walk_score[WALK_ORDS];

static void note_walk(struct hit *h, unsigned k)
{
	if (h->slot[k].walked || h->slot[k].near) return;   /* near rsp: read whole anyway */
	h->slot[k].walked = true;
	unsigned o = h->slot[k].ord;
	if (o < WALK_ORDS && walk_score[o] < 3) walk_score[o]++;
}

/* Is [addr, addr+len) inside [base, base+n)? */
static inline bool inside(uint64_t addr, size_t len, uint64_t base, size_t n)
{
	return addr >= base && addr - base <= n && len <= n - (addr - base);
}

/* From the cache only: true when a slot holds all of [addr, addr+len).
 * The slot of the last read first: a walk reads one chunk many times. */
static inline bool cache_get(struct hit *h, uint64_t addr, void *buf, size_t len)
{
	unsigned i = h->last;
	if (!h->slot[i].len || !inside(addr, len, h->slot[i].base, h->slot[i].len)) {
		for (i = 0; i < CACHE_SLOTS; i++)
			if (h->slot[i].len && inside(addr, len, h->slot[i].base, h->slot[i].len)) break;
		if (i == CACHE_SLOTS) return false;
		h->last = i;
	}
	const uint8_t *src = h->t->cache[i] + (addr - h->slot[i].base);
	/* the sizes a stack walk reads (a word; saved bp and return address)
	 * as fixed-size copies: a call of memcpy per read cost more */
	if (len == 8) memcpy(buf, src, 8);
	else if (len == 16) memcpy(buf, src, 16);
	else memcpy(buf, src, len);
	if (addr - h->slot[i].base >= CACHE_SMALL && !h->slot[i].walked) note_walk(h, i);
	return true;
}

/* Read want bytes at base into cache slot i (read_mem's result).  The
 * trace blocks waiting to be read that lie outside that range go along in
 * the same system call (read_memv); those inside are copied from the slot
 * after. */
static long fill(struct hit *h, unsigned i, uint64_t base, size_t want)
{
	const struct tgt_ops *ops = h->s->ops;
	struct tgt_memv v[1 + PEND_MAX];
	unsigned idx[1 + PEND_MAX], n = 1;
	long got;
	v[0] = (struct tgt_memv){ .addr = base, .buf = h->t->cache[i], .len = want };
	for (unsigned k = 0; k < h->npend && h->nundone; k++) {
		const struct pend *p = &h->pend[k];
		if (p->done || inside(p->addr, p->len, base, want)) continue;
		v[n] = (struct tgt_memv){ .addr = p->addr, .buf = h->enc.buf + p->off, .len = p->len };
		idx[n++] = k;
	}
	if (n > 1 && ops->read_memv(h->s->tgt, v, n) == 0) {
		got = v[0].got;
		for (unsigned j = 1; j < n; j++)
			if (v[j].got == (long)v[j].len) {
				h->pend[idx[j]].done = true;
				h->nundone--;
			}
	} else {
		got = ops->read_mem(h->s->tgt, base, h->t->cache[i], want);
	}
	for (unsigned k = 0; got > 0 && k < h->npend && h->nundone; k++) {
		struct pend *p = &h->pend[k];
		if (p->done || !inside(p->addr, p->len, base, (size_t)got)) continue;
		memcpy(h->enc.buf + p->off, h->t->cache[i] + (p->addr - base), p->len);
		p->done = true;
		h->nundone--;
	}
	return got;
}

/* Memory through the per-hit cache: a miss reads a block around addr in
 * one call (stack walks stay inside a chunk or two). */
static int hit_read(struct hit *h, uint64_t addr, void *buf, size_t len)
{
	if (len == 0) return 0;
	if (cache_get(h, addr, buf, len)) return 0;
	if (len <= CACHE_CHUNK - CACHE_PAGE && addr <= UINT64_MAX - CACHE_CHUNK) {
		/* Whole chunks on the stack near rsp, and where the reads go up
		 * past a chunk already read (a walk up some other stack: a
		 * goroutine's, from its saved sp); elsewhere a small block from
		 * the cache line of addr (a struct's fields: the kernel copies
		 * and walks page tables per page, issue 6).  A read that runs
		 * into a hole comes back short and is not retried. */
		uint64_t base = addr & ~(uint64_t)(CACHE_PAGE - 1);
		size_t want = CACHE_CHUNK;
		bool near = true;
		if (!h->have_rsp) {
			h->have_rsp = true;
			if (env_reg(h, RSP_AMD64_RSP, &h->rsp) < 0) h->rsp = 0;
		}
		if (addr < h->rsp - CACHE_PAGE || addr - h->rsp >= STACK_NEAR) {
			near = false;
			bool walk = false;
			for (unsigned k = 0; k < CACHE_SLOTS; k++) {
				uint64_t end = h->slot[k].base + h->slot[k].len;
				if (h->slot[k].len && addr >= end && addr - end < CACHE_PAGE) {
					walk = true;
					note_walk(h, k);
				}
			}
			unsigned o = h->nmiss;
			base = addr & ~(uint64_t)(CACHE_LINE - 1);   /* up from addr */
			if (!walk && o < WALK_ORDS && walk_score[o] >= 2) {
				walk_score[o]--;     /* a guess: used beyond CACHE_SMALL gives it back */
			} else if (!walk) {
				/* A trace block waiting just below (a struct traced
				 * whole, then its fields read one by one, the first
				 * not at its start): start the read there, so the
				 * block comes from this read and its fields from the
				 * cache afterwards. */
				for (unsigned k = 0; k < h->npend && h->nundone; k++) {
					const struct pend *p = &h->pend[k];
					if (!p->done && p->addr < base && base - p->addr <= CACHE_SMALL / 2 &&
					    p->addr + p->len > addr)
						base = p->addr & ~(uint64_t)(CACHE_LINE - 1);
				}
				size_t span = (size_t)(addr - base) + (len > CACHE_SMALL ? len : CACHE_SMALL);
				want = (span + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1);
			}
		}
		unsigned i = h->next++ % CACHE_SLOTS;
		h->slot[i].len = 0;    /* being refilled: serves nothing meanwhile */
		long n = fill(h, i, base, want);
		h->last = i;
		h->slot[i].ord = h->nmiss++;
		h->slot[i].walked = false;
		h->slot[i].near = near;
		h->slot[i].base = base;
		h->slot[i].len = n > 0 ? (size_t)n : 0;
		if (n > 0 && addr - base + len <= (uint64_t)n) {
			memcpy(buf, h->t->cache[i] + (addr - base), len);
			return 0;
		}
	}
	long n = h->s->ops->read_mem(h->s->tgt, addr, buf, len);
	return n == (long)len ? 0 : -EIO;
}

static int env_reg(void *ctx, unsigned regno, uint64_t *val)
{
	struct hit *h = ctx;
	if (regno >= RSP_AMD64_NREGS) return -EINVAL;
	if (regno < HIT_REGS && (h->regs_known >> regno & 1)) {
		*val = h->regv[regno];
		return 0;
	}
	uint8_t b[16];
	int r = h->s->ops->read_reg(h->s->tgt, h->tid, regno, b);
	if (r < 0) return r;
	unsigned n = rsp_amd64_regs[regno].bits / 8;
	if (n > 8) n = 8;
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;) v = (v << 8) | b[i];
	*val = v;
	if (regno < HIT_REGS) {
		h->regv[regno] = v;
		h->regs_known |= (uint32_t)1 << regno;
	}
	return 0;
}

static int env_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct hit *h = ctx;
	if (len && cache_get(h, addr, buf, len)) return 0;   /* the common case, inline */
	return hit_read(h, addr, buf, len);
}

/* Record [addr, addr+len) in the frame.  Memory that cannot be read is
 * left out (gdb then shows it as unavailable), as a frame is still worth
 * having; a frame that runs out of room is an error (tfull). */
static int env_trace(void *ctx, uint64_t addr, size_t len)
{
	struct hit *h = ctx;
	if (!h->collecting) return 0;
	if (len > 0 && len <= PEND_BYTES && h->npend < PEND_MAX && h->s->ops->read_memv) {
		/* Its bytes are not needed before the frame ends: read them from
		 * the cache now, or later with another read (a thread id in
		 * some struct then costs no system call of its own). */
		uint8_t *p = rsp_tframe_reserve_mem(&h->enc, addr, len);
		if (!p) return -ENOSPC;
		if (!cache_get(h, addr, p, len)) {
			h->pend[h->npend++] = (struct pend){ .off = (size_t)(p - h->enc.buf),
							     .addr = addr, .len = len };
			h->nundone++;
		}
		return 0;
	}
	while (len > 0) {
		size_t n = len < RSP_TFRAME_MEM_MAX ? len : RSP_TFRAME_MEM_MAX;
		size_t mark = h->enc.len;
		uint8_t *p = rsp_tframe_reserve_mem(&h->enc, addr, n);
		if (!p) return -ENOSPC;
		if (hit_read(h, addr, p, n) < 0) {
			long got = h->s->ops->read_mem(h->s->tgt, addr, p, n);
			if (got <= 0) h->enc.len = mark;
			else rsp_tframe_trim_mem(&h->enc, (size_t)got);
			return 0;   /* the rest is unreadable too */
		}
		addr += n;
		len -= n;
	}
	return 0;
}

/* Read the trace blocks still waiting, in one call.  A block that cannot
 * be read whole keeps what can (left out when nothing can), as env_trace
 * does for a block it reads at once.  Cut from the last one back, so the
 * offsets of those before stay right. */
static void flush_pending(struct hit *h)
{
	struct tgt_memv v[PEND_MAX];
	unsigned idx[PEND_MAX], n = 0;
	for (unsigned k = 0; k < h->npend && h->nundone; k++) {
		const struct pend *p = &h->pend[k];
		if (p->done) continue;
		v[n] = (struct tgt_memv){ .addr = p->addr, .buf = h->enc.buf + p->off, .len = p->len };
		idx[n++] = k;
	}
	if (n && h->s->ops->read_memv(h->s->tgt, v, n) < 0)
		for (unsigned j = 0; j < n; j++) v[j].got = -ESRCH;
	for (unsigned j = n; j-- > 0;) {
		if (v[j].got == (long)v[j].len) continue;
		rsp_tframe_cut_mem(&h->enc, h->pend[idx[j]].off - RSP_TFRAME_MEM_HDR,
				   v[j].got > 0 ? (size_t)v[j].got : 0);
	}
	h->npend = h->nundone = 0;
}

static int env_getv(void *ctx, unsigned num, int64_t *val)
{
	struct hit *h = ctx;
	struct stub_tsv *v = stub_trace_tsv(h->t, num);
	if (!v) return -ENOENT;
	if (v->timestamp)
		v->value = (int64_t)stub_trace_now_us();
	*val = v->value;
	return 0;
}

static int env_setv(void *ctx, unsigned num, int64_t val)
{
	struct hit *h = ctx;
	struct stub_tsv *v = stub_trace_tsv(h->t, num);
	if (!v) return -ENOENT;
	v->value = val;
	return 0;
}

static int env_tracev(void *ctx, unsigned num)
{
	struct hit *h = ctx;
	int64_t val;
	int r = env_getv(ctx, num, &val);
	if (r < 0) return r;
	if (!h->collecting) return 0;
	rsp_tframe_add_tsv(&h->enc, num, val);
	return h->enc.err ? -ENOSPC : 0;
}

static int collect_regs(struct hit *h)
{
	if (h->have_regs) return 0;
	uint8_t regs[1024];
	size_t n = rsp_amd64_regblock_size();
	if (n > sizeof regs) return -EOVERFLOW;
	int r = h->s->ops->read_regs(h->s->tgt, h->tid, regs);
	if (r < 0) return r;
	rsp_tframe_add_regs(&h->enc, regs, n);
	h->have_regs = true;
	return h->enc.err ? -ENOSPC : 0;
}

static void stop_error(struct stub_session *s, struct stub_tp *tp, const char *what, int err)
{
	char msg[64];
	snprintf(msg, sizeof msg, "%s: %s", what,
		 err <= 0 && err >= RSP_AX_E_ARG ? rsp_ax_strerror(err) : strerror(err < 0 ? -err : err));
	stub_trace_stop_run(s, RSP_TSTOP_ERROR, tp->num, msg);
}

/* ------------------------------------------------------------ while-stepping
 * A hit of a tracepoint with a step count N resumes its thread with single
 * steps; each of the next N step stops is consumed here and makes a frame of
 * the while-stepping actions (gdbserver does the same), then the thread
 * continues.  During an all-stop report the stepping ends early (the client
 * resumes the thread its own way). */

static struct stub_tstep *step_find(struct stub_trace *t, pid_t tid)
{
	for (unsigned i = 0; i < t->nsteps; i++)
		if (t->steps[i].tid == tid) return &t->steps[i];
	return NULL;
}

static void step_start(struct stub_trace *t, pid_t tid, uint32_t tpnum, uint64_t n)
{
	struct stub_tstep *st = step_find(t, tid);
	if (!st) {
		if (t->nsteps == t->capsteps) {
			unsigned nc = t->capsteps ? 2 * t->capsteps : 8;
			struct stub_tstep *v = realloc(t->steps, nc * sizeof *v);
			if (!v) return;   /* no stepping frames for this hit */
			t->steps = v;
			t->capsteps = nc;
		}
		st = &t->steps[t->nsteps++];
	}
	*st = (struct stub_tstep){ .tid = tid, .tpnum = tpnum, .left = n };
}

static void step_end(struct stub_trace *t, struct stub_tstep *st)
{
	*st = t->steps[--t->nsteps];
}

/* Run tp's actions (the while-stepping ones when stepping) into a frame and
 * store it.  Returns true when the thread must wait (stream back-pressure);
 * *ok tells whether a frame was made (false: the run ended). */
static bool collect_frame(struct stub_session *s, struct stub_trace *t, struct stub_tp *tp,
			  pid_t tid, struct hit *h, bool stepping, uint64_t pc, bool *ok)
{
	struct rsp_ax_env env = { .ctx = h, .reg = env_reg, .mem = env_mem, .trace = env_trace,
				  .getv = env_getv, .setv = env_setv, .tracev = env_tracev };
	*ok = false;
	h->have_regs = false;
	h->npend = h->nundone = 0;
	rsp_tframe_begin(&h->enc, t->scratch, t->scratch_cap, tp->num);
	h->collecting = true;
	for (unsigned i = 0; i < tp->nacts && t->running; i++) {
		const struct rsp_tp_action *a = &tp->acts[i];
		int r = 0;
		if (a->stepping != stepping) continue;
		switch (a->kind) {
		case RSP_TP_ACT_REGS:
			r = collect_regs(h);
			break;
		case RSP_TP_ACT_MEM: {
			uint64_t base = 0;
			if (a->basereg >= 0) r = env_reg(h, (unsigned)a->basereg, &base);
			if (r == 0) r = env_trace(h, base + a->offset, (size_t)a->len);
			break;
		}
		case RSP_TP_ACT_EXPR:
			r = rsp_ax_run(tp->bytes + a->data_off, a->data_len, &env, NULL, 0);
			break;
		}
		if (r == -ENOSPC || r == RSP_AX_E_TRACE || h->enc.err) {
			stub_trace_stop_run(s, RSP_TSTOP_FULL, 0, NULL);
			return false;
		}
		if (r < 0) {
			stop_error(s, tp, "action", r);
			return false;
		}
	}
	if (!t->running) return false;
	flush_pending(h);
	size_t len = rsp_tframe_end(&h->enc);
	if (len == 0) {
		stub_trace_stop_run(s, RSP_TSTOP_FULL, 0, NULL);
		return false;
	}
	bool wait = false;
	int r = t->nparked ? -ENOSPC : stub_tbuf_append(&t->buf, t->scratch, len, tp->num, pc);
	if (r == -ENOSPC && t->buf.mode == STUB_TBUF_STREAM) {
		/* Back-pressure: keep the frame, hold the thread. */
		if (t->nparked == t->capparked) {
			unsigned nc = t->capparked ? 2 * t->capparked : 16;
			struct stub_tparked *n = realloc(t->parked, nc * sizeof *n);
			if (n) {
				t->parked = n;
				t->capparked = nc;
			}
		}
		uint8_t *copy = t->nparked < t->capparked ? malloc(len) : NULL;
		if (!copy) {
			stub_trace_stop_run(s, RSP_TSTOP_FULL, 0, NULL);
			return false;
		}
		memcpy(copy, t->scratch, len);
		t->parked[t->nparked++] = (struct stub_tparked){ .tid = tid, .tpnum = tp->num,
			.pc = pc, .frame = copy, .len = len, .hold = true };
		t->parked_bytes += len;
		t->nparked_hold++;
		t->waits++;
		wait = true;
	} else if (r < 0) {
		stub_trace_stop_run(s, RSP_TSTOP_FULL, 0, NULL);
		return false;
	}
	t->created++;
	tp->usage += len;
	*ok = true;
	return wait;
}

/* One tracepoint's share of a hit: condition, frame, while-stepping
 * start, pass count.  Returns true when the thread must wait. */
static bool hit_one(struct stub_session *s, struct stub_trace *t, struct stub_tp *tp,
		    pid_t tid, struct hit *h)
{
	h->tp = tp;
	h->collecting = false;
	if (tp->has_cond) {
		struct rsp_ax_env env = { .ctx = h, .reg = env_reg, .mem = env_mem, .trace = env_trace,
					  .getv = env_getv, .setv = env_setv, .tracev = env_tracev };
		uint64_t res = 0;
		int r = rsp_ax_run(tp->bytes + tp->cond_off, tp->cond_len, &env, &res, 0);
		if (r < 0) {
			stop_error(s, tp, "condition", r);
			return false;
		}
		if (res == 0) return false;
	}
	tp->hits++;
	bool ok;
	bool wait = collect_frame(s, t, tp, tid, h, false, tp->addr, &ok);
	if (ok && tp->step > 0) step_start(t, tid, tp->num, tp->step);
	if (ok && tp->pass && tp->hits >= tp->pass) stub_trace_stop_run(s, RSP_TSTOP_PASSCOUNT, tp->num, NULL);
	return wait;
}

static bool on_event(struct stub_session *s, const struct tgt_event *ev, bool held)
{
	struct stub_trace *t = s->trace;
	if (!t) return false;
	if (ev->kind == TGT_EV_EXEC && t->running) {
		/* The int3s went with the old image: the run ends there (the
		 * addresses mean nothing in the new program). */
		for (unsigned i = 0; i < t->ntps; i++) t->tps[i].inserted = false;
		stub_trace_stop_run(s, RSP_TSTOP_UNKNOWN, 0, NULL);
		t->nremoved = 0;
		return false;
	}
	if (ev->kind != TGT_EV_STOPPED) return false;
	sync_process(s, t);
	if (ev->reason == TGT_REASON_SWBREAK) {
		if (!t->running) return false;
		struct hit h;
		memset(&h, 0, sizeof h);
		h.s = s;
		h.t = t;
		h.tid = ev->tid;
		bool ours = false, wait = false;
		for (unsigned i = 0; i < t->ntps && t->running; i++) {
			struct stub_tp *tp = &t->tps[i];
			if (!tp->inserted || !tp->enabled || tp->addr != ev->addr) continue;
			ours = true;
			wait |= hit_one(s, t, tp, ev->tid, &h);
		}
		if (!ours) return false;
		t->stat_hits++;
		struct stub_tstep *st = step_find(t, ev->tid);
		/* The client single-stepped this thread onto the int3: its step
		 * goes on (over the int3 now) and ends as the client's step stop;
		 * no while-stepping of ours then. */
		const struct stub_thr *th = stub_thr_find(s, ev->tid);
		if (th && th->stepping && !stub_swbp_has(s, ev->addr)) {
			if (st) step_end(t, st);
			if (wait) stub_trace_unhold(t, ev->tid);
			if (held) return true;
			int r = s->ops->resume(s->tgt, ev->tid, TGT_RESUME_STEP, 0);
			if (r < 0 && r != -ESRCH)
				fprintf(stderr, "gotap-stub: stepping thread %d over a tracepoint: %s\n",
					ev->tid, strerror(-r));
			return true;
		}
		if (stub_swbp_has(s, ev->addr)) {
			/* The client's breakpoint too: it hears of the stop (its
			 * resume runs the thread on, the frame is safe; no
			 * while-stepping then). */
			if (wait) stub_trace_unhold(t, ev->tid);
			if (st) step_end(t, st);
			return false;
		}
		if (wait && !held) return true;       /* waits for room */
		if (wait) stub_trace_unhold(t, ev->tid);
		if (held && st) step_end(t, st);
		if (!held) resume_thread(s, ev->tid);
		return true;
	}
	if (ev->reason == TGT_REASON_STEP && t->nsteps) {
		struct stub_tstep *st = step_find(t, ev->tid);
		if (!st) return false;
		bool wait = false;
		if (t->running && st->left > 0) {
			struct stub_tp *tp = NULL;
			for (unsigned i = 0; i < t->ntps && !tp; i++)
				if (t->tps[i].num == st->tpnum) tp = &t->tps[i];
			struct hit h;
			memset(&h, 0, sizeof h);
			h.s = s;
			h.t = t;
			h.tid = ev->tid;
			h.tp = tp;
			uint64_t pc = 0;
			bool ok = false;
			if (tp && env_reg(&h, RSP_AMD64_RIP, &pc) == 0)
				wait = collect_frame(s, t, tp, ev->tid, &h, true, pc, &ok);
			st = step_find(t, ev->tid);   /* the table may have moved (stop_run) */
			if (st && (!ok || --st->left == 0)) st->left = 0;
		}
		if (held) {
			if (wait) stub_trace_unhold(t, ev->tid);
			if ((st = step_find(t, ev->tid))) step_end(t, st);
			return true;
		}
		if (!wait) resume_thread(s, ev->tid);   /* steps again or continues */
		return true;
	}
	if (ev->reason == TGT_REASON_SIGNAL && ev->sig == SIGTRAP && t->nremoved) {
		uint64_t pc;
		struct hit h = { .s = s, .t = t, .tid = ev->tid };
		if (env_reg(&h, RSP_AMD64_RIP, &pc) < 0 || pc == 0) return false;
		bool ours = false;
		for (unsigned i = 0; i < t->nremoved; i++) ours |= t->removed[i] == pc - 1;
		if (!ours || stub_swbp_has(s, pc - 1)) return false;
		uint8_t b[8];
		for (int i = 0; i < 8; i++) b[i] = (uint8_t)((pc - 1) >> (8 * i));
		if (s->ops->write_reg(s->tgt, ev->tid, RSP_AMD64_RIP, b) < 0) return false;
		if (!held) resume_thread(s, ev->tid);
		return true;
	}
	return false;
}

void stub_trace_unhold(struct stub_trace *t, pid_t tid)
{
	for (unsigned i = 0; i < t->nparked; i++)
		if (t->parked[i].tid == tid && t->parked[i].hold) {
			t->parked[i].hold = false;
			t->nparked_hold--;
		}
}

bool stub_trace_hand_over(struct stub_session *s, pid_t tid)
{
	struct stub_trace *t = s->trace;
	if (!t || t->nparked_hold == 0) return false;
	for (unsigned i = 0; i < t->nparked; i++)
		if (t->parked[i].tid == tid && t->parked[i].hold) {
			stub_trace_unhold(t, tid);
			struct stub_tstep *st = step_find(t, tid);
			if (st) step_end(t, st);
			return true;
		}
	return false;
}

bool stub_trace_on_event(struct stub_session *s, const struct tgt_event *ev)
{
	return on_event(s, ev, false);
}

bool stub_trace_on_held_event(struct stub_session *s, const struct tgt_event *ev)
{
	return on_event(s, ev, true);
}

/* ================================================================ frames */

bool stub_trace_frame_selected(struct stub_session *s)
{
	return s->trace && s->trace->sel >= 0;
}

static bool sel_frame(struct stub_trace *t, struct rsp_tframe *f)
{
	size_t off = 0;
	return t->sel >= 0 && rsp_tframe_next(t->selbuf, t->sellen, &off, f, 0) == 1;
}

int stub_trace_frame_regs(struct stub_session *s, uint8_t *buf, bool *avail)
{
	struct stub_trace *t = s->trace;
	size_t n = rsp_amd64_regblock_size();
	memset(buf, 0, n);
	for (unsigned i = 0; i < RSP_AMD64_NREGS; i++) avail[i] = false;
	struct rsp_tframe f;
	if (!t || !sel_frame(t, &f)) return -EINVAL;
	size_t boff = 0;
	struct rsp_tblock b;
	while (rsp_tframe_block_next(&f, &boff, &b) == 1) {
		if (b.kind != 'R') continue;
		memcpy(buf, b.data, b.len < n ? b.len : n);
		for (unsigned i = 0; i < RSP_AMD64_NREGS; i++)
			avail[i] = rsp_amd64_regs[i].offset + rsp_amd64_regs[i].bits / 8 <= b.len;
		return 0;
	}
	/* No registers collected: the pc is still known, it is the
	 * tracepoint's address (gdbserver does the same). */
	for (unsigned i = 0; i < t->ntps; i++)
		if (t->tps[i].num == t->seltp) {
			for (int k = 0; k < 8; k++)
				buf[rsp_amd64_regs[RSP_AMD64_RIP].offset + k] = (uint8_t)(t->tps[i].addr >> (8 * k));
			avail[RSP_AMD64_RIP] = true;
			break;
		}
	return 0;
}

size_t stub_trace_frame_mem(struct stub_session *s, uint64_t addr, uint8_t *buf, size_t len)
{
	struct stub_trace *t = s->trace;
	struct rsp_tframe f;
	if (!t || !sel_frame(t, &f)) return 0;
	size_t boff = 0;
	struct rsp_tblock b;
	while (rsp_tframe_block_next(&f, &boff, &b) == 1) {
		if (b.kind != 'M' || addr < b.addr || addr - b.addr >= b.len) continue;
		size_t n = (size_t)(b.len - (addr - b.addr));
		if (n > len) n = len;
		memcpy(buf, b.data + (addr - b.addr), n);
		return n;
	}
	return 0;
}
