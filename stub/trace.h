/* trace.h — tracepoints collected inside gotap-stub (issue 6).
 *
 * GDB manual, "Tracepoints" and appendix E.7 "Tracepoint Packets".  gdb
 * defines tracepoints (QTDP), trace state variables (QTDV) and starts a run
 * (QTStart); from then on a hit is handled here, inside the stub, and never
 * reaches the client: the hitting thread is stopped by its int3 anyway, the
 * stub evaluates the condition (an agent expression, protocol/rsp_ax.h),
 * collects registers and memory into a trace frame (protocol/rsp_trace.h
 * layout) and resumes that one thread (the backend steps it over the int3
 * without taking the int3 out).  gdb later looks at the frames (QTFrame, then
 * g/p/m answered from the selected frame) or downloads them (qTBuffer).
 *
 * The trace buffer is a byte ring of frames with absolute offsets
 * (struct stub_tbuf, pure: no I/O, unit tested):
 *   - linear (default): a frame that does not fit stops the run ("tfull");
 *   - circular (QTBuffer:circular:1): the oldest frames make room;
 *   - stream (QTBuffer:stream:1, this project's extension): qTBuffer offsets
 *     are absolute byte offsets since QTStart and reading releases the
 *     frames that end at or before the offset read; a frame that does not
 *     fit waits (collected, outside the buffer) and its thread stays stopped
 *     until the reader releases room: back-pressure, nothing lost.
 *
 * Hot path (stub_trace_on_event): registers are read once per hit (the
 * backend caches them per stop), memory through a per-hit cache of page
 * chunks, so an expression walking a frame-pointer chain on one stack costs
 * one read per 8 KiB of stack, not one per frame.  Expressions were checked
 * at QTDP and run without per-instruction checks (rsp_ax_run).  Bytes a
 * trace op records are not needed while the expression runs: a block the
 * cache cannot serve is reserved in the frame and read later, along with
 * the next cache fill (one process_vm_readv for all: tgt_ops.read_memv) or
 * with the other late blocks when the frame ends.
 */
#ifndef GOTAP_STUB_TRACE_H
#define GOTAP_STUB_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rsp_trace.h"

struct stub_session;
struct tgt_event;

/* ------------------------------------------------------------ the buffer */

/* One frame held in the buffer. */
struct stub_tframe_rec {
	uint64_t off;       /* absolute offset of its first byte */
	uint32_t size;      /* whole frame, header included */
	uint32_t tpnum;
	uint64_t pc;        /* the tracepoint's address (QTFrame:pc/range/outside) */
};

enum stub_tbuf_mode {
	STUB_TBUF_LINEAR = 0,
	STUB_TBUF_CIRCULAR,
	STUB_TBUF_STREAM,
};

struct stub_tbuf {
	uint8_t *mem;
	size_t cap;                 /* bytes */
	enum stub_tbuf_mode mode;
	uint64_t head, tail;        /* absolute offsets: oldest byte kept, end */
	struct stub_tframe_rec *recs;   /* ring of the frames kept, oldest first */
	size_t rcap, rfirst, rn;
};

/* Allocate cap bytes (and a first frame index).  0 or -ENOMEM. */
int stub_tbuf_init(struct stub_tbuf *b, size_t cap, enum stub_tbuf_mode mode);
void stub_tbuf_free(struct stub_tbuf *b);
/* Forget every frame; offsets start again at 0. */
void stub_tbuf_reset(struct stub_tbuf *b);
/* Append one frame (frame[0..len), a whole encoded frame).  Returns 0;
 * -ENOSPC when it does not fit (linear and stream modes; circular mode first
 * drops the oldest frames); -E2BIG when it could never fit; -ENOMEM. */
int stub_tbuf_append(struct stub_tbuf *b, const uint8_t *frame, size_t len,
		     uint32_t tpnum, uint64_t pc);
/* Would a frame of len bytes fit now (without dropping anything)? */
bool stub_tbuf_fits(const struct stub_tbuf *b, size_t len);
/* Copy up to len bytes from absolute offset off; returns the count (0 when
 * off is at or past the end, or before the oldest byte kept). */
size_t stub_tbuf_read(const struct stub_tbuf *b, uint64_t off, uint8_t *dst, size_t len);
/* The same bytes in place: up to len bytes from absolute offset off are
 * seg[0][0..segn[0]) then seg[1][0..segn[1]) (the ring wraps at most once;
 * segn[1] is 0 when it does not).  Returns segn[0] + segn[1].  The pointers
 * stay valid until the buffer next changes.  For qTBuffer, which hex-encodes
 * straight from the ring instead of copying each reply first. */
size_t stub_tbuf_view(const struct stub_tbuf *b, uint64_t off, size_t len,
		      const uint8_t *seg[2], size_t segn[2]);
/* Drop every frame that ends at or before absolute offset off (stream mode
 * release).  Returns the number of frames dropped. */
size_t stub_tbuf_release(struct stub_tbuf *b, uint64_t off);
static inline size_t stub_tbuf_frames(const struct stub_tbuf *b) { return b->rn; }
static inline size_t stub_tbuf_used(const struct stub_tbuf *b) { return (size_t)(b->tail - b->head); }
/* The i-th frame kept (0 = oldest), or NULL. */
const struct stub_tframe_rec *stub_tbuf_frame(const struct stub_tbuf *b, size_t i);

/* ------------------------------------------------------------ the state */

#define STUB_TRACE_CACHE_SLOTS 4
#define STUB_TRACE_CACHE_CHUNK 8192u

struct stub_tp {
	uint32_t num;
	uint64_t addr;
	bool enabled;
	uint64_t step, pass;         /* while-stepping count, pass count */
	bool has_cond;
	size_t cond_off, cond_len;   /* condition bytecode in bytes[] */
	struct rsp_tp_action *acts;  /* data_off/data_len index bytes[] */
	unsigned nacts;
	uint8_t *bytes;              /* every expression in it passed rsp_ax_check (QTDP refuses
				      * others): hits run them with rsp_ax_run */
	size_t nbytes;
	char **src;                  /* QTDPsrc bodies, replayed by qTsP */
	unsigned nsrc;
	uint64_t hits;               /* frames collected (condition true) */
	uint64_t usage;              /* bytes of frames collected */
	bool inserted;               /* its breakpoint is in (by us) */
	bool plain_bp;               /* ... as TGT_BP_SW (the backend has no TGT_BP_TRACE) */
};

struct stub_tsv {
	uint32_t num;
	int64_t initial, value;
	bool builtin;
	bool timestamp;              /* builtin $trace_timestamp: read at each use */
	char *name_hex;              /* as sent, hex */
};

/* A hit whose frame did not fit (stream mode): the frame waits here and the
 * thread stays stopped until the reader releases room. */
struct stub_tparked {
	pid_t tid;
	uint32_t tpnum;
	uint64_t pc;
	uint8_t *frame;
	size_t len;
	bool hold;                   /* the thread waits for this frame */
};

/* A thread owing while-stepping frames (trace.c). */
struct stub_tstep {
	pid_t tid;
	uint32_t tpnum;
	uint64_t left;               /* steps still to collect; 0: finish the current one, continue */
};

struct stub_trace {
	struct stub_tp *tps;
	unsigned ntps, captps;
	int defining;                /* index of the tracepoint QTDP continuations extend, or -1 */
	struct stub_tsv *tsvs;
	unsigned ntsvs, captsvs;
	unsigned tp_iter, tp_src_iter, tp_act_iter, tsv_iter;   /* qTfP/qTsP, qTfV/qTsV */

	bool running;
	bool ran;                    /* started at least once (qTStatus says why it stopped) */
	enum rsp_tstop_reason reason;
	uint32_t stop_tp;
	char stop_error[64];
	pid_t pid;                   /* the process the run's breakpoints are in */
	uint64_t start_us, stop_us;
	uint64_t created;            /* frames created since QTStart */

	size_t want_size;            /* QTBuffer:size (0 = default) */
	enum stub_tbuf_mode want_mode;
	struct stub_tbuf buf;
	uint8_t *scratch;            /* one frame being collected */
	size_t scratch_cap;

	struct stub_tparked *parked;
	unsigned nparked, capparked;
	uint64_t parked_bytes;

	unsigned nparked_hold;       /* parked entries whose thread waits */
	uint64_t waits;              /* frames that had to wait (stream back-pressure), this run */

	struct stub_tstep *steps;    /* threads in while-stepping */
	unsigned nsteps, capsteps;

	uint64_t *removed;           /* tracepoint addresses taken out during this run */
	unsigned nremoved, capremoved;

	struct { uint64_t lo, hi; } *ro;   /* QTro: read-only ranges, read live from a frame */
	unsigned nro, capro;

	long sel;                    /* selected frame (QTFrame), -1 none */
	uint8_t *selbuf;             /* its bytes */
	size_t sellen, selcap;
	uint32_t seltp;

	uint64_t stat_hits, stat_resumes;   /* for the debug log */

	/* per-hit memory cache (trace.c hit_read) */
	uint8_t cache[STUB_TRACE_CACHE_SLOTS][STUB_TRACE_CACHE_CHUNK];
};

/* "trace_timestamp" in hex: gdb's builtin variable $trace_timestamp (QTDV
 * with builtin 1), whose value is read at each use (microseconds). */
#define STUB_TSV_TIMESTAMP_HEX "74726163655f74696d657374616d70"

/* --- between trace.c and handlers_trace.c ---------------------------- */
uint64_t stub_trace_now_us(void);
struct stub_tsv *stub_trace_tsv(struct stub_trace *t, uint32_t num);
/* Forget tracepoints, variables and read-only ranges. */
void stub_trace_clear_defs(struct stub_trace *t);
/* Insert / take out one tracepoint's breakpoint (refcounted in the backend). */
int stub_trace_insert(struct stub_session *s, struct stub_tp *tp);
void stub_trace_remove(struct stub_session *s, struct stub_tp *tp);
/* End the run (no-op when none): breakpoints out, reason recorded, waiting
 * threads may go (their frames stay queued). */
void stub_trace_stop_run(struct stub_session *s, enum rsp_tstop_reason why, uint32_t tpnum,
			 const char *err);
/* Move queued frames into the buffer while they fit; returns how many. */
unsigned stub_trace_unpark(struct stub_session *s);
/* Notice that the run's process is gone (the run then stopped, "tunknown"). */
void stub_trace_sync(struct stub_session *s);
/* tid no longer waits for its queued frames. */
void stub_trace_unhold(struct stub_trace *t, pid_t tid);

/* ------------------------------------------------------------ session side */

/* Is there a trace state for s (any QT packet seen)?  Allocates on demand in
 * the packet handlers; everything below is a no-op without it. */
struct stub_trace *stub_trace_get(struct stub_session *s, bool create);
void stub_trace_free(struct stub_session *s);

/* The hook: a backend event entered the session while threads run (all-stop
 * with a vCont outstanding, or non-stop).  A hit of a tracepoint (SWBREAK at
 * its address while a run is on) is collected; the thread is resumed (or,
 * stream mode with a full buffer, kept stopped until room is released) and
 * the event is consumed: returns true.  If the client also has a Z0 at that
 * address the frame is still collected but false is returned: report it.
 * Also consumed: the SIGTRAP of a thread that executed a tracepoint int3 the
 * stub had just taken out (pc rewound, resumed).  Anything else: false. */
bool stub_trace_on_event(struct stub_session *s, const struct tgt_event *ev);
/* The same for events taken while the session stops every thread (the
 * stop_all drain of an all-stop report): a consumed thread is NOT resumed;
 * it stays stopped on the tracepoint and runs on with the others when the
 * client resumes them (the backend steps it over the int3 then). */
bool stub_trace_on_held_event(struct stub_session *s, const struct tgt_event *ev);

/* Non-stop vCont;t (or any stop request) for thread tid: if the trace holds
 * it stopped (a frame waiting for room), it is handed over: the trace will
 * not resume it, and true says "already stopped: report it as stopped now"
 * (the backend's stop of a stopped thread makes no event). */
bool stub_trace_hand_over(struct stub_session *s, pid_t tid);

/* A trace frame is selected (QTFrame): g/p/m are answered from it. */
bool stub_trace_frame_selected(struct stub_session *s);
/* Answers from the selected frame: registers ('g' block into buf, avail[i]
 * false for registers not collected) and memory (bytes collected at addr;
 * returns the count, 0 when nothing collected there). */
int stub_trace_frame_regs(struct stub_session *s, uint8_t *buf, bool *avail);
size_t stub_trace_frame_mem(struct stub_session *s, uint64_t addr, uint8_t *buf, size_t len);

/* g, p and m while a frame is selected: true if pkt was answered (o, and
 * *res as a handler's result); false to serve it normally. */
struct stub_out;
bool stub_trace_frame_packet(struct stub_session *s, const char *pkt, size_t len,
			     struct stub_out *o, int *res);

/* Take every tracepoint breakpoint out (detach, kill, end of session); the
 * run, if any, is stopped. */
void stub_trace_disarm(struct stub_session *s);

#endif /* GOTAP_STUB_TRACE_H */
