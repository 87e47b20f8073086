/* ana_trace.c — gotap's trace mode without a stub: the copystack
 * tracepoint program (growth_trace.c), its QTDP packets (trace_client.c),
 * the stream reader, and the events built from trace frames.
 *
 * Synthetic part: the condition and the action run in protocol/rsp_ax.c's
 * interpreter against a fake goroutine (registers and memory in arrays):
 * shrinks are not collected, growths are counted, --every N collects every
 * Nth; the frame-pointer walk collects exactly the chain inside the stack,
 * stops at a zero, looping or out-of-stack bp and at max_frames.
 *
 * Live part: the test is its own tracing stub.  It runs
 * tests/targets/go/grow_recurse.go under ptrace (GOMAXPROCS=1 GOGC=off)
 * with int3 at runtime.copystack's entry, and at every hit evaluates the
 * program against the stopped thread (PTRACE_GETREGS, /proc/PID/mem) into a
 * trace frame (rsp_tframe_*) as gotap-stub does, then hands the frame to
 * gt_trace_on_frame.  Every event must equal the stop mode's view of the
 * same hit: the same goid, sizes, thread and backtrace (gort_unwind over the
 * whole of /proc/PID/mem), frame by frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/gort_test.h"
#include "growth_trace.h"
#include "rsp.h"
#include "rsp_ax.h"
#include "rsp_trace.h"
#include "trace_client.h"

/* ------------------------------------------------------------ a fake target */

#define FAKE_BASE 0x10000000ULL
#define FAKE_SIZE 0x10000

struct fake {
	uint64_t regs[RSP_AMD64_NREGS];
	uint8_t mem[FAKE_SIZE];            /* target memory at FAKE_BASE */
	int64_t tsv[16];
	struct rsp_tframe_enc enc;
	uint8_t frame[65536];
	int mem_errors;
	int mem_reads;                     /* f_mem calls */
	/* live mode */
	int memfd;
};

static int f_reg(void *ctx, unsigned regno, uint64_t *val)
{
	struct fake *f = ctx;
	if (regno >= RSP_AMD64_NREGS)
		return -1;
	*val = f->regs[regno];
	return 0;
}

static int f_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct fake *f = ctx;
	f->mem_reads++;
	if (f->memfd >= 0) {
		if (pread(f->memfd, buf, len, (off_t)addr) != (ssize_t)len) {
			f->mem_errors++;
			return -EIO;
		}
		return 0;
	}
	if (addr < FAKE_BASE || addr - FAKE_BASE > FAKE_SIZE || len > FAKE_SIZE - (addr - FAKE_BASE)) {
		f->mem_errors++;
		return -EFAULT;
	}
	memcpy(buf, f->mem + (addr - FAKE_BASE), len);
	return 0;
}

static int f_trace(void *ctx, uint64_t addr, size_t len)
{
	struct fake *f = ctx;
	uint8_t *dst = rsp_tframe_reserve_mem(&f->enc, addr, len);
	if (dst == NULL)
		return -ENOSPC;
	return f_mem(ctx, addr, dst, len);
}

static int f_getv(void *ctx, unsigned num, int64_t *val)
{
	struct fake *f = ctx;
	if (num >= 16)
		return -1;
	*val = f->tsv[num];
	return 0;
}

static int f_setv(void *ctx, unsigned num, int64_t val)
{
	struct fake *f = ctx;
	if (num >= 16)
		return -1;
	f->tsv[num] = val;
	return 0;
}

static int f_tracev(void *ctx, unsigned num)
{
	struct fake *f = ctx;
	if (num >= 16)
		return -1;
	rsp_tframe_add_tsv(&f->enc, num, f->tsv[num]);
	return f->enc.err ? -ENOSPC : 0;
}

static void put64(struct fake *f, uint64_t addr, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		f->mem[addr - FAKE_BASE + (uint64_t)i] = (uint8_t)(v >> (8 * i));
}

/* Run one hit as the stub does: the condition, then (if true) the action
 * into a new frame, with the stub's interpreter for checked code (the
 * program passes rsp_ax_check: "program: builds and passes rsp_ax_check").
 * Returns 1 with the frame length in *flen, 0 when the condition is false,
 * < 0 on an agent-expression error. */
static int hit(struct fake *f, const struct gt_trace_prog *p, size_t *flen)
{
	struct rsp_ax_env env = { f, f_reg, f_mem, f_trace, f_getv, f_setv, f_tracev };
	uint64_t res;
	int r = rsp_ax_run(p->cond, p->cond_len, &env, &res, 0);
	if (r < 0)
		return r;
	if (res == 0)
		return 0;
	rsp_tframe_begin(&f->enc, f->frame, sizeof f->frame, GT_TRACEPOINT);
	r = rsp_ax_run(p->action, p->action_len, &env, NULL, 0);
	if (r < 0)
		return r;
	*flen = rsp_tframe_end(&f->enc);
	return *flen ? 1 : -100;
}

/* A layout like Go 1.19's runtime.g / runtime.m. */
static struct gt_growth_cfg fake_cfg(void)
{
	struct gt_growth_cfg cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.layout = (struct gort_layout){
		.g_stack_lo = 0, .g_stack_hi = 8, .g_stackguard0 = 16, .g_m = 48,
		.g_sched_sp = 56, .g_sched_pc = 64, .g_sched_lr = 96, .g_sched_bp = 104,
		.g_goid = 152, .m_g0 = 0, .m_curg = 192, .m_procid = 72,
	};
	cfg.probes = (struct gort_probes){ .copystack = 0x401000, .copystack_entry = 0x401000,
					   .regabi = true };
	cfg.every = 1;
	cfg.max_frames = 64;
	return cfg;
}

#define G_ADDR (FAKE_BASE + 0x100)
#define M_ADDR (FAKE_BASE + 0x400)
#define STK_LO (FAKE_BASE + 0x8000)
#define STK_HI (FAKE_BASE + 0x9000)

/* A goroutine with a 4 KiB stack whose frame-pointer chain has nframes
 * frames, 64 bytes apart from sched.sp up; the last saved bp is 0. */
static void fake_goroutine(struct fake *f, int nframes)
{
	struct gt_growth_cfg cfg = fake_cfg();
	const struct gort_layout *L = &cfg.layout;
	memset(f->mem, 0, sizeof f->mem);
	uint64_t ssp = STK_HI - 0x800;
	put64(f, G_ADDR + L->g_stack_lo, STK_LO);
	put64(f, G_ADDR + L->g_stack_hi, STK_HI);
	put64(f, G_ADDR + L->g_goid, 42);
	put64(f, G_ADDR + L->g_m, M_ADDR);
	put64(f, M_ADDR + L->m_procid, 4242);
	put64(f, G_ADDR + L->g_sched_pc, 0x401234);
	put64(f, G_ADDR + L->g_sched_sp, ssp);
	put64(f, ssp, 0x402000);  /* first return address */
	uint64_t bp = ssp + 0x30;
	put64(f, G_ADDR + L->g_sched_bp, bp);
	for (int i = 0; i < nframes; i++) {
		uint64_t next = i + 1 < nframes ? bp + 64 : 0;
		put64(f, bp, next);
		put64(f, bp + 8, 0x403000 + (uint64_t)i);
		bp = next;
	}
	f->regs[RSP_AMD64_RAX] = G_ADDR;
}

struct decoded {
	int nmem, nchain;
	bool has_count, has_gp, has_ns;
	int64_t count, gp, ns;
	bool chain_in_stack;
	uint64_t last_ra;
};

static void decode(const uint8_t *buf, size_t len, struct decoded *d)
{
	struct rsp_tframe fr;
	struct rsp_tblock b;
	size_t off = 0, boff = 0;
	memset(d, 0, sizeof *d);
	d->chain_in_stack = true;
	if (rsp_tframe_next(buf, len, &off, &fr, 0) != 1)
		return;
	while (rsp_tframe_block_next(&fr, &boff, &b) == 1) {
		if (b.kind == 'V') {
			if (b.num == GT_TSV_COUNT) { d->has_count = true; d->count = b.value; }
			if (b.num == GT_TSV_GP) { d->has_gp = true; d->gp = b.value; }
			if (b.num == GT_TSV_NEWSIZE) { d->has_ns = true; d->ns = b.value; }
		} else if (b.kind == 'M') {
			d->nmem++;
			if (b.len == 16) {
				d->nchain++;
				if (b.addr < STK_LO || b.addr + 16 > STK_HI)
					d->chain_in_stack = false;
				uint64_t ra = 0;
				for (int i = 7; i >= 0; i--)
					ra = ra << 8 | b.data[8 + i];
				d->last_ra = ra;
			}
		}
	}
}

static void test_program(void)
{
	struct gt_growth_cfg cfg = fake_cfg();
	struct gt_trace_prog p;
	char err[256] = "";
	static struct fake f;
	size_t flen = 0;
	struct decoded d;

	f.memfd = -1;
	CHECK("program: builds and passes rsp_ax_check", gt_trace_build(&cfg, &p, err, sizeof err) == 0);
	if (err[0])
		printf("# %s\n", err);
	CHECK("program: tracepoint at copystack's entry, one X action",
	      p.tp.addr == 0x401000 && p.tp.nacts == 1 && p.act.kind == 'X' && p.tp.pass == 0);
	CHECK("program: gp's fields in one block from stack.lo to past goid",
	      p.span_lo == 0 && p.span_len == 160);

	/* a shrink: 4 KiB stack, newsize 2 KiB: not collected, not counted */
	fake_goroutine(&f, 5);
	f.regs[RSP_AMD64_RBX] = 2048;
	memset(f.tsv, 0, sizeof f.tsv);
	CHECK("condition: a shrink is not collected", hit(&f, &p, &flen) == 0);
	CHECK("condition: a shrink is not counted", f.tsv[GT_TSV_COUNT] == 0);
	f.regs[RSP_AMD64_RBX] = 4096;
	CHECK("condition: same size (a forced move) is not collected", hit(&f, &p, &flen) == 0);
	CHECK("condition: both counted as shrinks", f.tsv[GT_TSV_SHRINKS] == 2);

	/* a growth */
	f.regs[RSP_AMD64_RBX] = 8192;
	int r = hit(&f, &p, &flen);
	CHECK("condition: a growth is collected", r == 1);
	CHECK("condition: a growth is counted", f.tsv[GT_TSV_COUNT] == 1);
	decode(f.frame, flen, &d);
	CHECK("action: count, gp, newsize recorded",
	      d.has_count && d.count == 1 && d.has_gp && d.gp == (int64_t)G_ADDR && d.has_ns && d.ns == 8192);
	CHECK("action: 5 chain frames, all inside the stack", d.nchain == 5 && d.chain_in_stack);
	CHECK("action: the chain's last return address is the outermost frame's", d.last_ra == 0x403004);
	CHECK("action: gp block + procid + [sched.sp] + chain", d.nmem == 3 + 5);
	CHECK("action: no unreadable memory touched", f.mem_errors == 0);

	/* depth limit */
	fake_goroutine(&f, 40);
	f.regs[RSP_AMD64_RBX] = 8192;
	struct gt_growth_cfg c8 = cfg;
	struct gt_trace_prog p8;
	c8.max_frames = 8;
	CHECK("program: max_frames 8 builds", gt_trace_build(&c8, &p8, err, sizeof err) == 0);
	CHECK("action: max_frames 8 stops the walk at 8 frames",
	      hit(&f, &p8, &flen) == 1 && (decode(f.frame, flen, &d), d.nchain == 8));
	/* the chain leaves the stack: stop there, read nothing outside */
	put64(&f, STK_HI - 0x800 + 0x30 + 3 * 64, STK_HI + 0x100);
	f.mem_errors = 0;
	CHECK("action: a bp past stack.hi ends the walk",
	      hit(&f, &p, &flen) == 1 && (decode(f.frame, flen, &d), d.nchain == 4) && f.mem_errors == 0);
	/* a loop: bp pointing back down: bounded by max_frames, inside the stack */
	fake_goroutine(&f, 10);
	f.regs[RSP_AMD64_RBX] = 8192;
	put64(&f, STK_HI - 0x800 + 0x30 + 2 * 64, STK_HI - 0x800 + 0x30);
	f.mem_errors = 0;
	CHECK("action: a looping chain stops at max_frames, inside the stack",
	      hit(&f, &p, &flen) == 1 && (decode(f.frame, flen, &d), d.nchain == 64 && d.chain_in_stack) &&
	      f.mem_errors == 0);
	/* below stack.lo */
	fake_goroutine(&f, 10);
	f.regs[RSP_AMD64_RBX] = 8192;
	put64(&f, STK_HI - 0x800 + 0x30 + 1 * 64, STK_LO - 0x40);
	CHECK("action: a bp below stack.lo ends the walk",
	      hit(&f, &p, &flen) == 1 && (decode(f.frame, flen, &d), d.nchain == 2) && f.mem_errors == 0);
	/* no M: the thread is not collected but the rest is */
	fake_goroutine(&f, 2);
	f.regs[RSP_AMD64_RBX] = 8192;
	put64(&f, G_ADDR + cfg.layout.g_m, 0);
	f.mem_errors = 0;
	CHECK("action: g.m == 0 skips the thread id",
	      hit(&f, &p, &flen) == 1 && (decode(f.frame, flen, &d), d.nmem == 2 + 2) && f.mem_errors == 0);

	/* --every 3: counted 7 times, collected at 3 and 6 */
	struct gt_growth_cfg c3 = cfg;
	struct gt_trace_prog p3;
	c3.every = 3;
	CHECK("program: --every 3 builds", gt_trace_build(&c3, &p3, err, sizeof err) == 0);
	fake_goroutine(&f, 2);
	f.regs[RSP_AMD64_RBX] = 8192;
	memset(f.tsv, 0, sizeof f.tsv);
	int collected = 0, at[8] = { 0 };
	for (int i = 0; i < 7; i++)
		if (hit(&f, &p3, &flen) == 1) {
			decode(f.frame, flen, &d);
			at[collected++] = (int)d.count;
		}
	CHECK("condition: --every 3 counts all 7 growths", f.tsv[GT_TSV_COUNT] == 7);
	CHECK("condition: --every 3 collects the 3rd and the 6th", collected == 2 && at[0] == 3 && at[1] == 6);

	/* non-regabi: gp and newsize on the stack above the return address */
	struct gt_growth_cfg c0 = cfg;
	struct gt_trace_prog p0;
	c0.probes.regabi = false;
	CHECK("program: stack-ABI variant builds", gt_trace_build(&c0, &p0, err, sizeof err) == 0);
	fake_goroutine(&f, 3);
	memset(f.tsv, 0, sizeof f.tsv);
	f.regs[RSP_AMD64_RAX] = 0;
	f.regs[RSP_AMD64_RSP] = FAKE_BASE + 0x2000;
	put64(&f, FAKE_BASE + 0x2008, G_ADDR);
	put64(&f, FAKE_BASE + 0x2010, 16384);
	CHECK("stack ABI: growth read from [rsp+8], [rsp+16]",
	      hit(&f, &p0, &flen) == 1 && (decode(f.frame, flen, &d), d.ns == 16384 && d.gp == (int64_t)G_ADDR &&
					   d.nchain == 3));

	/* at newstack's call to copystack: every hit grows, the condition
	 * reads no memory; shrinks are counted by a second tracepoint */
	struct gt_growth_cfg cc = cfg;
	struct gt_trace_prog pc, pcs;
	cc.probes.grow_call = 0x402000;
	cc.probes.shrink_call = 0x403000;
	CHECK("call site: program builds", gt_trace_build(&cc, &pc, err, sizeof err) == 0);
	CHECK("call site: growth tracepoint at newstack's call, shrink counter at shrinkstack's",
	      pc.at_call && pc.tp.addr == 0x402000 && pc.tp.nacts == 1 &&
	      pc.shrink_tp.addr == 0x403000 && pc.shrink_tp.num == GT_TRACEPOINT_SHRINK &&
	      pc.shrink_tp.nacts == 0 && pc.shrink_tp.cond_len > 0);
	fake_goroutine(&f, 4);
	f.regs[RSP_AMD64_RBX] = 8192;
	memset(f.tsv, 0, sizeof f.tsv);
	struct rsp_ax_env env = { &f, f_reg, f_mem, f_trace, f_getv, f_setv, f_tracev };
	uint64_t res = 0;
	f.mem_reads = 0;
	int cr = rsp_ax_run(pc.cond, pc.cond_len, &env, &res, 0);
	CHECK("call site: the condition collects without reading memory",
	      cr == 0 && res != 0 && f.mem_reads == 0 && f.tsv[GT_TSV_COUNT] == 1);
	f.tsv[GT_TSV_COUNT] = 0;
	CHECK("call site: the same event as at copystack's entry",
	      hit(&f, &pc, &flen) == 1 &&
	      (decode(f.frame, flen, &d), d.count == 1 && d.gp == (int64_t)G_ADDR && d.ns == 8192 && d.nchain == 4));
	res = 1;
	cr = rsp_ax_run(pc.shrink_cond, pc.shrink_cond_len, &env, &res, 0);
	cr |= rsp_ax_run(pc.shrink_cond, pc.shrink_cond_len, &env, &res, 0);
	CHECK("call site: a shrink is counted, never collected",
	      cr == 0 && res == 0 && f.tsv[GT_TSV_SHRINKS] == 2 && f.tsv[GT_TSV_COUNT] == 1);
	setenv("GOTAP_GROWTH_PROBE", "entry", 1);
	CHECK("call site: GOTAP_GROWTH_PROBE=entry keeps copystack's entry",
	      gt_trace_build(&cc, &pcs, err, sizeof err) == 0 && !pcs.at_call && pcs.tp.addr == 0x401000);
	unsetenv("GOTAP_GROWTH_PROBE");
	cc.probes.shrink_call = 0;
	CHECK("call site: not without shrinkstack's call (shrinks would go uncounted)",
	      gt_trace_build(&cc, &pcs, err, sizeof err) == 0 && !pcs.at_call);
	cc.probes.shrink_call = 0x403000;
	cc.probes.regabi = false;
	CHECK("call site: not without the register ABI (the arguments are in memory)",
	      gt_trace_build(&cc, &pcs, err, sizeof err) == 0 && !pcs.at_call);
}

static void test_packets(void)
{
	struct gt_growth_cfg cfg = fake_cfg();
	struct gt_trace_prog p;
	char err[256], pkt[8192];
	cfg.max_events = 5;
	CHECK("packets: program builds", gt_trace_build(&cfg, &p, err, sizeof err) == 0);
	long n0 = tc_format_qtdp(&p.tp, 0, pkt, sizeof pkt);
	CHECK("packets: first form with pass count and condition, '-' for the action",
	      n0 > 0 && strncmp(pkt, "QTDP:1:0000000000401000:E:0:5:X", 31) == 0 && pkt[n0 - 1] == '-');
	struct rsp_qtdp q;
	struct rsp_tp_action acts[4];
	uint8_t bytes[4096];
	int r = rsp_qtdp_parse(pkt + 5, (size_t)n0 - 5, &q, acts, 4, bytes, sizeof bytes);
	CHECK("packets: first form parses back (rsp_qtdp_parse) with the same condition",
	      r == 0 && !q.continuation && q.num == 1 && q.addr == 0x401000 && q.enabled && q.pass == 5 &&
	      q.has_cond && q.cond_len == p.cond_len && memcmp(bytes + q.cond_off, p.cond, p.cond_len) == 0 &&
	      q.more);
	long n1 = tc_format_qtdp(&p.tp, 1, pkt, sizeof pkt);
	r = rsp_qtdp_parse(pkt + 5, (size_t)n1 - 5, &q, acts, 4, bytes, sizeof bytes);
	CHECK("packets: the X action parses back, last packet without '-'",
	      n1 > 0 && r == 0 && q.continuation && q.nacts == 1 && acts[0].kind == 'X' &&
	      acts[0].data_len == p.action_len && memcmp(bytes + acts[0].data_off, p.action, p.action_len) == 0 &&
	      !q.more);
	CHECK("packets: nothing after the last action", tc_format_qtdp(&p.tp, 2, pkt, sizeof pkt) == 0);
	CHECK("packets: too small a buffer is refused", tc_format_qtdp(&p.tp, 1, pkt, 40) == -1);
	struct tc_action ra[2] = { { .kind = 'R', .mask = 0x10003 },
				   { .kind = 'M', .basereg = -1, .offset = 0x404028, .len = 8 } };
	struct tc_tracepoint tp = { .num = 2, .addr = 0x401136, .enabled = true, .acts = ra, .nacts = 2 };
	tc_format_qtdp(&tp, 0, pkt, sizeof pkt);
	CHECK("packets: plain first form", strcmp(pkt, "QTDP:2:0000000000401136:E:0:0-") == 0);
	tc_format_qtdp(&tp, 1, pkt, sizeof pkt);
	CHECK("packets: R mask, MSB first", strcmp(pkt, "QTDP:-2:0000000000401136:R0000000000010003-") == 0);
	r = rsp_qtdp_parse(pkt + 5, strlen(pkt) - 5, &q, acts, 4, bytes, sizeof bytes);
	CHECK("packets: R mask parses back: rax, rbx, rip",
	      r == 0 && acts[0].kind == 'R' && rsp_tp_mask_has(bytes + acts[0].data_off, acts[0].data_len, 0) &&
	      rsp_tp_mask_has(bytes + acts[0].data_off, acts[0].data_len, 1) &&
	      rsp_tp_mask_has(bytes + acts[0].data_off, acts[0].data_len, 16) &&
	      !rsp_tp_mask_has(bytes + acts[0].data_off, acts[0].data_len, 2));
	tc_format_qtdp(&tp, 2, pkt, sizeof pkt);
	CHECK("packets: absolute M range", strcmp(pkt, "QTDP:-2:0000000000401136:M-1,404028,8") == 0);
}

static void test_stream(void)
{
	/* three frames arriving one byte at a time */
	uint8_t buf[512], data[3][64];
	size_t total = 0;
	for (int i = 0; i < 3; i++) {
		struct rsp_tframe_enc e;
		rsp_tframe_begin(&e, data[i], sizeof data[i], 1);
		rsp_tframe_add_tsv(&e, 1, i + 1);
		uint64_t w = 0x1111 * (uint64_t)(i + 1);
		rsp_tframe_add_mem(&e, 0x1000 + (uint64_t)i, &w, 8);
		size_t n = rsp_tframe_end(&e);
		memcpy(buf + total, data[i], n);
		total += n;
	}
	struct tc_stream s;
	char err[64];
	struct rspc *c = rspc_from_fd(open("/dev/null", O_RDWR), err, sizeof err);
	CHECK("stream: reader set up", c != NULL && tc_stream_init(&s, c) == 0);
	if (c == NULL)
		return;
	int got = 0, early = 0;
	size_t ends[3], pos = 0;
	for (int i = 0; i < 3; i++) {
		size_t off = pos;
		struct rsp_tframe f;
		rsp_tframe_next(buf, total, &off, &f, 0);
		ends[i] = off;
		pos = off;
	}
	for (size_t i = 0; i < total; i++) {
		struct rsp_tframe f;
		tc_stream_feed(&s, buf + i, 1);
		int r;
		while ((r = tc_stream_next(&s, &f)) == 1) {
			if (got >= 3 || i + 1 != ends[got])
				early++;
			struct rsp_tblock b;
			size_t bo = 0;
			if (rsp_tframe_block_next(&f, &bo, &b) != 1 || b.kind != 'V' || b.value != got + 1)
				early++;
			got++;
		}
	}
	CHECK("stream: three frames fed byte by byte come out whole, each when its last byte arrived",
	      got == 3 && early == 0);
	CHECK("stream: offset counts every byte", s.off == total && s.frames == 3);
	/* a garbage size is refused, not waited for */
	uint8_t bad[6] = { 1, 0, 0xff, 0xff, 0xff, 0x7f };
	tc_stream_feed(&s, bad, sizeof bad);
	struct rsp_tframe f;
	CHECK("stream: a frame larger than max_frame is an error", tc_stream_next(&s, &f) < 0);
	tc_stream_free(&s);
	rspc_close(c);
}

/* ------------------------------------------------------------ live */

struct capture {
	int n;
	struct gt_event ev;
	struct gort_frame frames[64];
};

static int cap_event(void *state, const struct gt_event *ev)
{
	struct capture *c = state;
	c->n++;
	c->ev = *ev;
	int n = ev->nframes > 64 ? 64 : ev->nframes;
	memcpy(c->frames, ev->frames, (size_t)n * sizeof *ev->frames);
	c->ev.frames = c->frames;
	return 0;
}
static int cap_finish(void *s, const struct gt_stats *st) { (void)s; (void)st; return 0; }
static void cap_destroy(void *s) { (void)s; }

static int live_memfd = -1;
static long rd_live(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	return pread(live_memfd, buf, len, (off_t)addr);
}

static bool same_frame(const struct gort_frame *a, const struct gort_frame *b)
{
	return a->pc == b->pc && a->off == b->off && a->line == b->line &&
	       ((!a->func && !b->func) || (a->func && b->func && !strcmp(a->func, b->func))) &&
	       ((!a->file && !b->file) || (a->file && b->file && !strcmp(a->file, b->file)));
}

static void regs_of(struct fake *f, const struct user_regs_struct *r)
{
	const unsigned long long v[17] = { r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp, r->rsp,
					   r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
					   r->rip };
	for (int i = 0; i < 17; i++)
		f->regs[i] = v[i];
}

static void test_live(bool entry)
{
	const char *v = entry ? "live(entry)" : "live(call)";
	char name[160];
#define LCHECK(what, cond) do { snprintf(name, sizeof name, "%s: %s", v, what); CHECK(name, cond); } while (0)
	if (entry)
		setenv("GOTAP_GROWTH_PROBE", "entry", 1);
	else
		unsetenv("GOTAP_GROWTH_PROBE");
	char path[4096], err[256] = "";
	if (gt_target("grow_recurse", path, sizeof path) != 0) {
		SKIP(v, "cannot build tests/targets/go/grow_recurse.go");
		return;
	}
	struct gort_bin *bin = gort_open(path, 0, err, sizeof err);
	struct gt_growth_cfg cfg = fake_cfg();
	if (!bin || gort_layout(bin, &cfg.layout, err, sizeof err) != 0 ||
	    gort_probes(bin, &cfg.probes, err, sizeof err) != 0) {
		printf("# %s\n", err);
		LCHECK("binary opens", false);
		return;
	}
	static struct capture cap;
	struct out_sink sink = { "capture", &cap, cap_event, cap_finish, cap_destroy };
	cfg.bin = bin;
	cfg.sinks = &sink;
	cfg.nsinks = 1;
	cfg.max_frames = 64;
	struct gt_trace *t = gt_trace_new(&cfg);
	static struct gt_trace_prog p;
	LCHECK("program builds for the real layout", t && gt_trace_build(&cfg, &p, err, sizeof err) == 0);
	LCHECK(entry ? "tracepoint at copystack's entry" : "tracepoint at newstack's call to copystack",
	       entry ? !p.at_call && p.tp.addr == cfg.probes.copystack_entry
		     : p.at_call && p.tp.addr == cfg.probes.grow_call && cfg.probes.grow_call != 0);
	if (!t)
		return;

	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null < 0 || dup2(null, 1) < 0 || ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0 ||
		    setenv("GOMAXPROCS", "1", 1) != 0 || setenv("GOGC", "off", 1) != 0)
			_exit(126);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	int st;
	char memp[64];
	uint64_t bpaddr = p.tp.addr;
	long orig = 0;
	static struct fake f;
	int events = 0, mismatches = 0, tid_ok = 0, cond_err = 0, stop_frames_total = 0;
	bool ok = pid > 0 && waitpid(pid, &st, 0) == pid && WIFSTOPPED(st);
	snprintf(memp, sizeof memp, "/proc/%d/mem", (int)pid);
	if (ok) {
		errno = 0;
		orig = ptrace(PTRACE_PEEKTEXT, pid, (void *)bpaddr, NULL);
		ok = errno == 0 &&
		     ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL)) == 0 &&
		     ptrace(PTRACE_POKETEXT, pid, (void *)bpaddr, (void *)((orig & ~0xffL) | 0xcc)) == 0 &&
		     (live_memfd = open(memp, O_RDONLY | O_CLOEXEC)) >= 0 &&
		     ptrace(PTRACE_CONT, pid, NULL, NULL) == 0;
	}
	f.memfd = live_memfd;
	memset(f.tsv, 0, sizeof f.tsv);
	while (ok) {
		pid_t tid = waitpid(-1, &st, __WALL);
		long sig = 0;
		if (tid < 0) {
			ok = false;
			break;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (tid == pid)
				break;
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		if (WSTOPSIG(st) == SIGTRAP && (st >> 16) == 0) {
			struct user_regs_struct r;
			if (ptrace(PTRACE_GETREGS, tid, NULL, &r) != 0 || r.rip - 1 != bpaddr) {
				sig = SIGTRAP;
			} else {
				r.rip = bpaddr;
				regs_of(&f, &r);
				size_t flen = 0;
				int h = hit(&f, &p, &flen);
				if (h < 0)
					cond_err++;
				if (h == 1) {
					struct rsp_tframe fr;
					size_t off = 0;
					cap.n = 0;
					if (rsp_tframe_next(f.frame, flen, &off, &fr, 0) == 1 &&
					    gt_trace_on_frame(t, &fr, err, sizeof err) == 0 && cap.n == 1) {
						/* the stop mode's view of the same hit */
						const struct gort_layout *L = &cfg.layout;
						uint64_t g = r.rax, v[6];
						const uint32_t o[6] = { L->g_stack_lo, L->g_stack_hi, L->g_goid,
									L->g_sched_pc, L->g_sched_sp, L->g_sched_bp };
						for (int i = 0; i < 6; i++)
							rd_live(NULL, g + o[i], &v[i], 8);
						static struct gort_frame sf[64];
						int sn = gort_unwind(bin, rd_live, NULL, v[3], v[4], v[5], sf, 64);
						stop_frames_total += sn;
						bool same = cap.ev.goid == (int64_t)v[2] && cap.ev.old_size == v[1] - v[0] &&
							    cap.ev.new_size == r.rbx && cap.ev.nframes == sn &&
							    cap.ev.seq == (uint64_t)events + 1;
						for (int i = 0; same && i < sn; i++)
							same = same_frame(&cap.frames[i], &sf[i]);
						if (!same && mismatches < 3)
							printf("# event %d differs: goid %" PRId64 "/%" PRIu64 " sizes %" PRIu64
							       "/%" PRIu64 " frames %d/%d\n", events + 1, cap.ev.goid, v[2],
							       cap.ev.old_size, v[1] - v[0], cap.ev.nframes, sn);
						mismatches += !same;
						tid_ok += cap.ev.tid == tid;
					} else {
						mismatches++;
					}
					events++;
				}
				/* step over: put the byte back, single-step, re-insert */
				if (ptrace(PTRACE_POKETEXT, tid, (void *)bpaddr, (void *)orig) != 0 ||
				    ptrace(PTRACE_SETREGS, tid, NULL, &r) != 0) {
					ok = false;
					break;
				}
				for (int tries = 0;; tries++) {
					if (tries == 100 || ptrace(PTRACE_SINGLESTEP, tid, NULL, NULL) != 0 ||
					    waitpid(tid, &st, __WALL) != tid || !WIFSTOPPED(st)) {
						ok = false;
						break;
					}
					if (WSTOPSIG(st) == SIGTRAP)
						break;
					sig = WSTOPSIG(st);
				}
				if (!ok || ptrace(PTRACE_POKETEXT, tid, (void *)bpaddr,
						  (void *)((orig & ~0xffL) | 0xcc)) != 0) {
					ok = false;
					break;
				}
			}
		} else if (WSTOPSIG(st) != SIGTRAP && WSTOPSIG(st) != SIGSTOP) {
			sig = WSTOPSIG(st);
		}
		if (ptrace(PTRACE_CONT, tid, NULL, (void *)sig) != 0 && errno != ESRCH) {
			ok = false;
			break;
		}
	}
	if (!ok) {
		kill(pid, SIGKILL);
		while (waitpid(-1, &st, __WALL) > 0)
			;
	}
	if (live_memfd >= 0)
		close(live_memfd);
	printf("# %s: %d growths collected, %d stop-mode frames in all, %d mismatches\n", v, events,
	       stop_frames_total, mismatches);
	LCHECK("grow_recurse runs to its end under the tracepoint", ok && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	LCHECK("the program never fails (no agent-expression error)", cond_err == 0);
	LCHECK("65 growths collected (8 goroutines 2K -> 512K + main)", events == 65);
	LCHECK("every event == the stop mode's (goid, sizes, seq, every frame)", events > 0 && mismatches == 0);
	LCHECK("the thread is m.procid = the stopped thread", tid_ok == events);
	LCHECK("growths counted in the stub's variable", f.tsv[GT_TSV_COUNT] == events);
	LCHECK("full backtraces (to runtime.goexit or 64 frames)", stop_frames_total >= events * 2);
	gt_trace_free(t);
	gort_close(bin);
	unsetenv("GOTAP_GROWTH_PROBE");
#undef LCHECK
}


/* ------------------------------------------------------------ a scripted stub */

/* The child end of a socketpair: answers each packet by its prefix from a
 * table, logs every packet it got (one per line) to logfd. */
struct script_row { const char *prefix, *reply; };

static void fake_stub(int fd, int logfd, const struct script_row *rows, int nrows)
{
	static char in[1 << 16];
	size_t len = 0;
	int qtstatus = 0, qtbuffer = 0, vstopped = 0;
	for (;;) {
		ssize_t k = read(fd, in + len, sizeof in - len - 1);
		if (k <= 0)
			_exit(0);
		len += (size_t)k;
		for (;;) {
			char *d = memchr(in, '$', len), *h = d ? memchr(d, '#', len - (size_t)(d - in)) : NULL;
			if (!h || (size_t)(h - in) + 3 > len)
				break;
			*h = 0;
			const char *pkt = d + 1;
			if (write(logfd, pkt, strlen(pkt)) < 0 || write(logfd, "\n", 1) < 0)
				_exit(1);
			const char *reply = "";
			char buf[512];
			for (int i = 0; i < nrows; i++)
				if (strncmp(pkt, rows[i].prefix, strlen(rows[i].prefix)) == 0) {
					reply = rows[i].reply;
					break;
				}
			if (strcmp(pkt, "qTStatus") == 0)
				reply = qtstatus++ == 0 ? "T1;tframes:0;tcreated:0" : "T0;terror:626f6f6d:1;tframes:0";
			if (strncmp(pkt, "qTBuffer:", 9) == 0) {
				/* two frames of an unknown tracepoint (7), in two replies cut mid-frame */
				static const char *const parts[] = {
					"07000d000000" "560100000007000000000000",
					"00" "07000d000000" "5601000000",
					"0800000000000000",
				};
				reply = qtbuffer < 3 ? parts[qtbuffer] : "l";
				qtbuffer++;
			}
			if (strcmp(pkt, "vStopped") == 0)
				reply = vstopped++ == 0 ? "T05thread:03;" : "OK";
			unsigned sum = 0;
			for (const char *c = reply; *c; c++)
				sum += (unsigned char)*c;
			int n = snprintf(buf, sizeof buf, "+$%s#%02x", reply, sum & 0xff);
			if (strcmp(pkt, "vCont;c") == 0) {
				/* non-stop: OK, then a stop notification at once */
				const char *nt = "Stop:T05thread:02;";
				unsigned ns = 0;
				for (const char *c = nt; *c; c++)
					ns += (unsigned char)*c;
				n += snprintf(buf + n, sizeof buf - (size_t)n, "%%%s#%02x", nt, ns & 0xff);
			}
			if (write(fd, buf, (size_t)n) != n)
				_exit(1);
			size_t used = (size_t)(h - in) + 3;
			memmove(in, in + used, len - used);
			len -= used;
		}
	}
}

static pid_t start_fake(const struct script_row *rows, int nrows, int *fd, int *logfd, char *logpath)
{
	int sv[2];
	*logfd = mkstemp(logpath);
	if (*logfd < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		fake_stub(sv[1], *logfd, rows, nrows);
		_exit(0);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

static void test_nonstop(void)
{
	static const struct script_row rows[] = {
		{ "qSupported", "PacketSize=4000;QNonStop+;multiprocess-" },
		{ "vCont?", "vCont;c;C;s;S;t" }, { "?", "T05thread:01;" },
		{ "QNonStop:1", "OK" }, { "vCont;C", "OK" }, { "vCont;c", "OK" }, { "qTV:1", "V9" },
	};
	char logpath[] = "/tmp/ana_trace_ns.XXXXXX", err[256] = "";
	int fd, logfd;
	pid_t pid = start_fake(rows, (int)(sizeof rows / sizeof rows[0]), &fd, &logfd, logpath);
	if (pid < 0) {
		SKIP("nonstop", "no socketpair");
		return;
	}
	struct rspc *c = rspc_from_fd(fd, err, sizeof err);
	struct rsp_stop st, a, b;
	int64_t v = 0;
	CHECK("nonstop: QNonStop:1 accepted", c && rspc_handshake(c, &st) == 0 && rspc_set_nonstop(c, true) == 0 &&
	      rspc_is_nonstop(c));
	CHECK("nonstop: vCont;c answered OK", rspc_resume_ns(c, -1, 0) == 0);
	CHECK("nonstop: a request answered after a %Stop notification gets its own reply",
	      tc_get_tsv(c, 1, &v) == 1 && v == 9);
	int r1 = rspc_next_stop_ns(c, &a, 0), r2 = rspc_next_stop_ns(c, &b, 0), r3 = rspc_next_stop_ns(c, &st, 0);
	CHECK("nonstop: the kept notification's stop, then vStopped's, then nothing",
	      r1 == 1 && a.kind == RSP_STOP_SIGNAL && a.thread.tid == 2 && r2 == 1 && b.thread.tid == 3 && r3 == 0);
	CHECK("nonstop: one thread resumed with a signal", rspc_resume_ns(c, 2, 0x10) == 0);
	rspc_close(c);
	int wst;
	waitpid(pid, &wst, 0);
	static char log[8192];
	ssize_t ln = pread(logfd, log, sizeof log - 1, 0);
	log[ln > 0 ? ln : 0] = 0;
	close(logfd);
	unlink(logpath);
	CHECK("nonstop: packets: QNonStop:1, vCont;c, qTV:1, vStopped x2, vCont;C10:2",
	      strstr(log, "QNonStop:1\nvCont;c\nqTV:1\nvStopped\nvStopped\nvCont;C10:2\n") != NULL);
	if (!strstr(log, "vCont;C10:2"))
		printf("# log:\n%s", log);
}

static void test_client(void)
{
	static const struct script_row rows[] = {
		{ "qSupported", "PacketSize=4000;ConditionalTracepoints+;QNonStop+" },
		{ "vCont?", "vCont;c;C;s;S" },
		{ "?", "T05thread:01;" },
		{ "QTinit", "OK" }, { "QTDV:", "OK" }, { "QTDP:", "OK" }, { "QTBuffer:size:", "OK" },
		{ "QTBuffer:stream:1", "OK" }, { "QTStart", "OK" }, { "QTStop", "OK" },
		{ "qTV:1", "V5" }, { "qTV:6", "V2" },
	};
	int sv[2];
	char logpath[] = "/tmp/ana_trace_fake.XXXXXX";
	int logfd = mkstemp(logpath);
	if (logfd < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		SKIP("client", "no socketpair");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		fake_stub(sv[1], logfd, rows, (int)(sizeof rows / sizeof rows[0]));
		_exit(0);
	}
	close(sv[1]);
	char err[256] = "";
	struct rspc *c = rspc_from_fd(sv[0], err, sizeof err);
	struct rsp_stop st;
	CHECK("client: handshake with the scripted stub", c && rspc_handshake(c, &st) == 0);
	CHECK("client: tracepoints and non-stop seen in qSupported",
	      c && tc_supported(c) && rspc_has_feature(c, "QNonStop"));
	struct gt_growth_cfg cfg = fake_cfg();
	cfg.conn = c;
	struct gt_trace *t = gt_trace_new(&cfg);
	int ar = t ? gt_trace_arm(t, err, sizeof err) : -1;
	CHECK("client: arm (QTinit, QTDV x6, QTDP x2, QTBuffer, QTStart)", ar == 0);
	if (ar != 0)
		printf("# arm: %d %s\n", ar, err);
	char why[300] = "";
	CHECK("client: qTStatus T1: running, no failure", t && gt_trace_check(t, why, sizeof why) == 0);
	long n1 = t ? gt_trace_poll(t, err, sizeof err) : -1;
	long n2 = t ? gt_trace_poll(t, err, sizeof err) : -1;
	long n3 = t ? gt_trace_poll(t, err, sizeof err) : -1;
	long n4 = t ? gt_trace_poll(t, err, sizeof err) : -1;
	CHECK("client: the stream's pieces (18, 12, 8 bytes), then nothing ('l')",
	      n1 == 18 && n2 == 12 && n3 == 8 && n4 == 0);
	CHECK("client: two whole frames decoded across the cuts",
	      t && gt_trace_stream(t)->frames == 2 && gt_trace_stream(t)->empty_requests == 1);
	CHECK("client: a frame of another tracepoint makes no event", t && gt_trace_stats(t)->reported == 0);
	CHECK("client: qTStatus terror: reported with the stub's text",
	      t && gt_trace_check(t, why, sizeof why) == 1 &&
	      strstr(why, "an error in the tracepoint program: boom") != NULL);
	printf("# %s\n", why);
	CHECK("client: stop takes the counts from qTV", t && gt_trace_stop(t, err, sizeof err) == 0 &&
	      gt_trace_stats(t)->growths == 5 && gt_trace_stats(t)->shrinks == 2);
	rspc_close(c);
	int wst;
	waitpid(pid, &wst, 0);
	/* what the client sent, in order */
	static char log[65536];
	ssize_t ln = pread(logfd, log, sizeof log - 1, 0);
	log[ln > 0 ? ln : 0] = 0;
	close(logfd);
	unlink(logpath);
	const char *order[] = { "QTinit\n", "QTDV:1:0000000000000000:0:", "QTDV:6:", "QTDP:1:", "QTDP:-1:",
				"QTBuffer:size:400000\n", "QTBuffer:stream:1\n", "QTStart\n", "qTStatus\n",
				"qTBuffer:0,", "qTBuffer:12,", "qTBuffer:1e,", "qTBuffer:26,", "QTStop\n",
				"qTBuffer:26,", "qTV:1\n", "qTV:6\n" };
	const char *p = log;
	bool in_order = true;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		const char *q = strstr(p, order[i]);
		if (!q) {
			printf("# missing or out of order: %s\n", order[i]);
			in_order = false;
			break;
		}
		p = q + strlen(order[i]);
	}
	CHECK("client: packets in order, qTBuffer offsets absolute (0, 12, 1e, 26)", in_order);
	gt_trace_free(t);
}

int main(void)
{
	test_program();
	test_packets();
	test_stream();
	test_client();
	test_nonstop();
	test_live(false);
	test_live(true);
	return check_done();
}
