/* stub_trace.c — the stub's trace buffer and tracepoint hits, without a process.
 *
 * Part 1: struct stub_tbuf alone (linear full, circular drop, stream release,
 * reads across the wrap, a frame index that grows).
 * Part 2: the tracepoint packets and the hit hook against a fake backend (a
 * 64 KiB "stack" with a frame-pointer chain, counted memory reads, recorded
 * resumes): collection, condition, pass count, the per-hit memory cache,
 * stream back-pressure (a full buffer holds the hitting thread until qTBuffer
 * releases room), a client Z0 at the same address, frames seen through
 * QTFrame + g/m, and the stray SIGTRAP of an int3 taken out by QTStop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/check.h"
#include "handlers.h"
#include "rsp_ax.h"
#include "session.h"
#include "trace.h"
#include "transport.h"

/* ================================================================ part 1 */

static void fill(uint8_t *f, size_t n, uint8_t v)
{
	memset(f, v, n);
}

static void test_tbuf(void)
{
	struct stub_tbuf b;
	uint8_t f[200], out[200];

	CHECK("tbuf init", stub_tbuf_init(&b, 100, STUB_TBUF_LINEAR) == 0);
	fill(f, 40, 1);
	CHECK("linear: first frame", stub_tbuf_append(&b, f, 40, 1, 0x10) == 0);
	fill(f, 40, 2);
	CHECK("linear: second frame", stub_tbuf_append(&b, f, 40, 1, 0x10) == 0);
	CHECK("linear: full -> ENOSPC", stub_tbuf_append(&b, f, 40, 1, 0x10) == -ENOSPC);
	CHECK("linear: 2 frames, 80 bytes", stub_tbuf_frames(&b) == 2 && stub_tbuf_used(&b) == 80);
	CHECK("too big -> E2BIG", stub_tbuf_append(&b, f, 101, 1, 0) == -E2BIG);
	CHECK("linear: read past end -> 0", stub_tbuf_read(&b, 80, out, 10) == 0);
	CHECK("linear: read clipped at end", stub_tbuf_read(&b, 70, out, 50) == 10 && out[0] == 2);
	stub_tbuf_free(&b);

	stub_tbuf_init(&b, 100, STUB_TBUF_CIRCULAR);
	for (int i = 0; i < 3; i++) {
		fill(f, 40, (uint8_t)(i + 1));
		stub_tbuf_append(&b, f, 40, (uint32_t)(i + 1), 0x10);
	}
	CHECK("circular: oldest dropped", stub_tbuf_frames(&b) == 2 && b.head == 40 && b.tail == 120);
	CHECK("circular: frame 0 is the 2nd", stub_tbuf_frame(&b, 0)->tpnum == 2 && stub_tbuf_frame(&b, 0)->off == 40);
	size_t n = stub_tbuf_read(&b, 80, out, 40);
	bool ok = n == 40;
	for (size_t i = 0; i < n; i++) ok &= out[i] == 3;
	CHECK("circular: a frame read across the wrap", ok);
	CHECK("circular: dropped bytes unreadable", stub_tbuf_read(&b, 39, out, 1) == 0);
	const uint8_t *seg[2];
	size_t segn[2];
	CHECK("view: across the wrap, two pieces in place",
	      stub_tbuf_view(&b, 80, 40, seg, segn) == 40 && seg[0] == b.mem + 80 && segn[0] == 20 &&
	      seg[1] == b.mem && segn[1] == 20 && seg[0][0] == 3 && seg[1][19] == 3);
	CHECK("view: inside, one piece", stub_tbuf_view(&b, 50, 10, seg, segn) == 10 &&
	      seg[0] == b.mem + 50 && segn[0] == 10 && segn[1] == 0);
	CHECK("view: clipped at the end", stub_tbuf_view(&b, 110, 50, seg, segn) == 10 &&
	      seg[0] == b.mem + 10 && segn[0] == 10 && segn[1] == 0);
	CHECK("view: dropped or past the end -> 0", stub_tbuf_view(&b, 39, 1, seg, segn) == 0 &&
	      segn[0] == 0 && segn[1] == 0 && stub_tbuf_view(&b, 120, 1, seg, segn) == 0);
	stub_tbuf_free(&b);

	stub_tbuf_init(&b, 100, STUB_TBUF_STREAM);
	fill(f, 40, 1);
	stub_tbuf_append(&b, f, 40, 1, 0);
	stub_tbuf_append(&b, f, 40, 1, 0);
	CHECK("stream: full -> ENOSPC (nothing dropped)", stub_tbuf_append(&b, f, 40, 1, 0) == -ENOSPC &&
	      stub_tbuf_frames(&b) == 2);
	CHECK("stream: releasing inside a frame keeps it", stub_tbuf_release(&b, 39) == 0 && stub_tbuf_frames(&b) == 2);
	CHECK("stream: release at a frame's end drops it", stub_tbuf_release(&b, 40) == 1 && b.head == 40);
	CHECK("stream: room again", stub_tbuf_append(&b, f, 40, 1, 0) == 0 && b.tail == 120);
	CHECK("stream: absolute offsets keep growing", stub_tbuf_frame(&b, 1)->off == 80);
	CHECK("stream: release everything", stub_tbuf_release(&b, 1000) == 2 && stub_tbuf_used(&b) == 0 &&
	      b.head == 120);
	stub_tbuf_free(&b);

	stub_tbuf_init(&b, 100000, STUB_TBUF_LINEAR);
	for (int i = 0; i < 1000; i++) stub_tbuf_append(&b, f, 10, (uint32_t)i, 0);
	CHECK("index grows: 1000 frames", stub_tbuf_frames(&b) == 1000 && stub_tbuf_frame(&b, 999)->off == 9990 &&
	      stub_tbuf_frame(&b, 999)->tpnum == 999);
	stub_tbuf_reset(&b);
	CHECK("reset", stub_tbuf_frames(&b) == 0 && b.tail == 0);
	stub_tbuf_free(&b);
}

/* ================================================================ part 2 */

#define PID 100
#define BASE 0x100000u
#define MEMSZ 65536u
#define TP 0x101000u               /* the tracepoint's address */
static struct fake {
	uint8_t mem[MEMSZ];
	uint8_t regs[2][1024];
	int nbp;
	uint64_t bp[16];
	pid_t res[64];
	int kind[64];
	int nres;
	int nreads;
	int nreadv;        /* read_memv calls (each counted once in nreads) */
} F;

static struct tgt *f_create(void) { return (struct tgt *)&F; }
static void f_destroy(struct tgt *t) { (void)t; }
static int f_launch(struct tgt *t, const struct tgt_launch_opts *o, pid_t *pid) { (void)t; (void)o; *pid = PID; return 0; }
static int f_attach(struct tgt *t, pid_t pid) { (void)t; (void)pid; return 0; }
static int f_detach(struct tgt *t, int sig) { (void)t; (void)sig; return 0; }
static int f_kill(struct tgt *t) { (void)t; return 0; }
static pid_t f_pid(struct tgt *t) { (void)t; return PID; }
static bool f_attached(struct tgt *t) { (void)t; return false; }
static int f_list(struct tgt *t, struct tgt_thread_info *out, int cap)
{
	(void)t;
	for (int i = 0; i < 2 && i < cap; i++) out[i] = (struct tgt_thread_info){ .tid = PID + i, .stopped = true };
	return 2;
}
static bool f_alive(struct tgt *t, pid_t tid) { (void)t; return tid == PID || tid == PID + 1; }
static int f_resume(struct tgt *t, pid_t tid, enum tgt_resume_kind k, int sig)
{
	(void)t; (void)sig;
	if (F.nres < 64) {
		F.kind[F.nres] = (int)k;
		F.res[F.nres++] = tid;
	}
	return 0;
}
static int f_stop(struct tgt *t, pid_t tid) { (void)t; (void)tid; return 0; }
static int f_stop_all(struct tgt *t) { (void)t; return 0; }
static int f_next(struct tgt *t, struct tgt_event *ev, int ms) { (void)t; (void)ev; (void)ms; return 0; }
static int f_event_fd(struct tgt *t) { (void)t; return -1; }
static int f_read_reg(struct tgt *t, pid_t tid, unsigned r, uint8_t *buf)
{
	if (r >= RSP_AMD64_NREGS || !f_alive(t, tid)) return -EINVAL;
	memcpy(buf, F.regs[tid - PID] + rsp_amd64_regs[r].offset, rsp_amd64_regs[r].bits / 8);
	return 0;
}
static int f_write_reg(struct tgt *t, pid_t tid, unsigned r, const uint8_t *buf)
{
	(void)t;
	memcpy(F.regs[tid - PID] + rsp_amd64_regs[r].offset, buf, rsp_amd64_regs[r].bits / 8);
	return 0;
}
static int f_read_regs(struct tgt *t, pid_t tid, uint8_t *buf) { (void)t; memcpy(buf, F.regs[tid - PID], rsp_amd64_regblock_size()); return 0; }
static int f_write_regs(struct tgt *t, pid_t tid, const uint8_t *buf) { (void)t; memcpy(F.regs[tid - PID], buf, rsp_amd64_regblock_size()); return 0; }
static long f_read_mem(struct tgt *t, uint64_t a, uint8_t *buf, size_t n)
{
	(void)t;
	F.nreads++;
	if (a < BASE || a >= BASE + MEMSZ) return -EIO;
	size_t room = BASE + MEMSZ - a;
	if (n > room) n = room;
	memcpy(buf, F.mem + (a - BASE), n);
	return (long)n;
}
/* One "system call" for the lot, as pt_read_memv's process_vm_readv. */
static int f_read_memv(struct tgt *t, struct tgt_memv *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) v[i].got = f_read_mem(t, v[i].addr, v[i].buf, v[i].len);
	F.nreads -= n ? (int)n - 1 : 0;
	F.nreadv++;
	return 0;
}
static long f_write_mem(struct tgt *t, uint64_t a, const uint8_t *buf, size_t n) { (void)t; (void)a; (void)buf; return (long)n; }
static int f_insert(struct tgt *t, enum tgt_bp_kind k, uint64_t a, unsigned len)
{
	(void)t; (void)k; (void)len;
	if (F.nbp < 16) F.bp[F.nbp++] = a;
	return 0;
}
static int f_remove(struct tgt *t, enum tgt_bp_kind k, uint64_t a, unsigned len)
{
	(void)t; (void)k; (void)len;
	for (int i = 0; i < F.nbp; i++)
		if (F.bp[i] == a) { F.bp[i] = F.bp[--F.nbp]; return 0; }
	return -ENOENT;
}
static void f_pass(struct tgt *t, const bool s[65]) { (void)t; (void)s; }
static long f_auxv(struct tgt *t, uint8_t *buf, size_t cap) { (void)t; (void)buf; (void)cap; return 0; }
static int f_exe(struct tgt *t, char *buf, size_t cap) { (void)t; snprintf(buf, cap, "/bin/true"); return 0; }

static const struct tgt_ops fake_ops = {
	f_create, f_destroy, f_launch, f_attach, f_detach, f_kill, f_pid, f_attached,
	f_list, f_alive, f_resume, f_stop, f_stop_all, f_next, f_event_fd,
	f_read_reg, f_write_reg, f_read_regs, f_write_regs, f_read_mem, f_write_mem,
	f_insert, f_remove, f_pass, f_auxv, f_exe,
	NULL,   /* no wait_event: the session polls event_fd */
	f_read_memv,
};

static struct stub_session S;
static struct stub_config CFG;
static struct stub_transport TR;
static char rbuf[STUB_REPLY_CAP];

static ssize_t tr_read(struct stub_transport *t, void *b, size_t n) { ssize_t r = read(t->rfd, b, n); return r < 0 ? -errno : r; }
static int tr_write(struct stub_transport *t, const void *b, size_t n) { return write(t->wfd, b, n) == (ssize_t)n ? 0 : -EIO; }
static void tr_close(struct stub_transport *t) { close(t->rfd); }

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void set_reg(pid_t tid, unsigned r, uint64_t v)
{
	put64(F.regs[tid - PID] + rsp_amd64_regs[r].offset, v);
}

static const char *req(const char *pkt)
{
	struct stub_out o = { .buf = rbuf, .cap = sizeof rbuf - 1 };
	int r = stub_dispatch(&S, pkt, strlen(pkt), &o);
	if (r == STUB_NO_REPLY) return "<noreply>";
	rbuf[o.len] = 0;
	return rbuf;
}

/* A hit of thread tid at TP, as the backend reports it. */
static bool hit(pid_t tid)
{
	struct tgt_event ev = { .kind = TGT_EV_STOPPED, .pid = PID, .tid = tid, .sig = SIGTRAP,
				.reason = TGT_REASON_SWBREAK, .addr = TP };
	set_reg(tid, RSP_AMD64_RIP, TP);
	return stub_trace_on_event(&S, &ev);
}

static void setup(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { perror("socketpair"); _exit(1); }
	TR = (struct stub_transport){ sv[0], sv[0], tr_read, tr_write, tr_close, NULL };
	CFG = (struct stub_config){ .disable_aslr = true };
	memset(&F, 0, sizeof F);
	/* a frame-pointer chain: 16 frames 0x100 apart from BASE+0x8000, each
	 * with its return address (0x4000 + i) above the saved rbp */
	for (int i = 0; i < 16; i++) {
		uint64_t fp = BASE + 0x8000 + 0x100u * (unsigned)i;
		put64(F.mem + (fp - BASE), i == 15 ? 0 : fp + 0x100);
		put64(F.mem + (fp - BASE) + 8, 0x4000u + (unsigned)i);
	}
	put64(F.mem + 0x20, 42);   /* a "global" at BASE+0x20 */
	for (int t = 0; t < 2; t++) {
		set_reg(PID + t, RSP_AMD64_RBP, BASE + 0x8000);
		set_reg(PID + t, RSP_AMD64_RSP, BASE + 0x7ff0);
		set_reg(PID + t, RSP_AMD64_RDI, (uint64_t)(3 + t));
	}
	stub_session_init(&S, &CFG, &fake_ops, (struct tgt *)&F, &TR, PID);
	S.state = STUB_RUNNING;   /* as with a vCont outstanding */
}

static void hexcat(char *dst, const uint8_t *p, size_t n)
{
	dst += strlen(dst);
	for (size_t i = 0; i < n; i++) dst += sprintf(dst, "%02x", p[i]);
}

/* Decode the hex reply of qTBuffer into bytes; returns the count. */
static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = strlen(h) / 2;
	if (n > cap) n = cap;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void test_hits(void)
{
	char pkt[4096];
	uint8_t code[512];
	struct rsp_axb b;

	setup();
	CHECK("QTinit", strcmp(req("QTinit"), "OK") == 0);
	/* condition: rdi != 4 (thread PID+1 has rdi 4) */
	rsp_axb_init(&b, code, sizeof code);
	rsp_axb_reg(&b, RSP_AMD64_RDI);
	rsp_axb_const(&b, 4);
	rsp_axb_op(&b, RSP_AX_EQUAL);
	rsp_axb_op(&b, RSP_AX_LOG_NOT);
	rsp_axb_op(&b, RSP_AX_END);
	snprintf(pkt, sizeof pkt, "QTDP:1:%x:E:0:3:X%zx,", TP, b.len);
	hexcat(pkt, code, b.len);
	strcat(pkt, "-");
	CHECK("QTDP first form with a condition", strcmp(req(pkt), "OK") == 0);
	/* walk 16 frame pointers, recording each return address */
	rsp_axb_init(&b, code, sizeof code);
	rsp_axb_reg(&b, RSP_AMD64_RBP);
	for (int i = 0; i < 16; i++) {
		rsp_axb_const(&b, 8);
		rsp_axb_op(&b, RSP_AX_ADD);
		rsp_axb_op1(&b, RSP_AX_TRACE_QUICK, 8);
		rsp_axb_const(&b, 8);
		rsp_axb_op(&b, RSP_AX_SUB);
		rsp_axb_op(&b, RSP_AX_REF64);
	}
	rsp_axb_op(&b, RSP_AX_END);
	CHECK("walk bytecode built", b.err == 0);
	snprintf(pkt, sizeof pkt, "QTDP:-1:%x:M-1,%x,8X%zx,", TP, BASE + 0x20, b.len);
	hexcat(pkt, code, b.len);
	CHECK("QTDP continuation: M and X actions", strcmp(req(pkt), "OK") == 0);
	snprintf(pkt, sizeof pkt, "QTDP:2:%x:E:0:0:S", TP + 0x10);
	CHECK("static tracepoint refused", strncmp(req(pkt), "E.", 2) == 0);
	CHECK("QTBuffer:size", strcmp(req("QTBuffer:size:1000"), "OK") == 0);
	CHECK("QTStart", strcmp(req("QTStart"), "OK") == 0);
	CHECK("QTStart inserted the breakpoint", F.nbp == 1 && F.bp[0] == TP);
	CHECK("QTBuffer:size refused while running (E01)", strcmp(req("QTBuffer:size:2000"), "E01") == 0);

	F.nreads = 0;
	CHECK("hit consumed", hit(PID));
	CHECK("hitting thread resumed, alone", F.nres == 1 && F.res[0] == PID);
	CHECK("16-frame walk + global: memory cache, <= 3 reads", F.nreads > 0 && F.nreads <= 3);
	CHECK("qTStatus: running, 1 frame", strstr(req("qTStatus"), "T1;tnotrun:0;tframes:1;tcreated:1;") != NULL);
	CHECK("condition false: consumed", hit(PID + 1));
	CHECK("condition false: resumed, no frame", F.nres == 2 && F.res[1] == PID + 1 &&
	      strstr(req("qTStatus"), "tframes:1;") != NULL);

	/* the frame: M global, 16 return addresses */
	uint8_t raw[4096];
	size_t n = unhex(req("qTBuffer:0,1000"), raw, sizeof raw);
	struct rsp_tframe f;
	size_t off = 0, boff = 0;
	struct rsp_tblock blk;
	int nm = 0;
	bool vals = true;
	CHECK("qTBuffer: one whole frame of tracepoint 1", rsp_tframe_next(raw, n, &off, &f, 0) == 1 &&
	      f.tpnum == 1 && off == n);
	while (rsp_tframe_block_next(&f, &boff, &blk) == 1) {
		if (blk.kind != 'M') continue;
		uint64_t v = 0;
		for (int i = 7; i >= 0; i--) v = (v << 8) | blk.data[i];
		vals &= nm == 0 ? (blk.addr == BASE + 0x20 && v == 42) : v == 0x4000u + (unsigned)(nm - 1);
		nm++;
	}
	CHECK("frame: the global and 16 return addresses", nm == 17 && vals);
	CHECK("qTP: 1 hit", strncmp(req("qTP:1:101000"), "V1:", 3) == 0);

	/* a client breakpoint at the same address: collected and reported */
	stub_swbp_add(&S, TP);
	CHECK("client Z0 too: not consumed", !hit(PID));
	CHECK("client Z0 too: frame collected, not resumed", F.nres == 2 &&
	      strstr(req("qTStatus"), "tframes:2;") != NULL);
	stub_swbp_del(&S, TP);

	/* pass count 3: the third hit stops the run */
	CHECK("third hit consumed", hit(PID));
	CHECK("pass count reached: stopped, breakpoint out", F.nbp == 0 &&
	      strstr(req("qTStatus"), "T0;tpasscount:1;tframes:3;") != NULL);
	CHECK("after the run: a hit is not ours", !hit(PID));

	/* frames through QTFrame */
	CHECK("QTFrame:0", strcmp(req("QTFrame:0"), "F0T1") == 0);
	snprintf(pkt, sizeof pkt, "m%x,8", BASE + 0x20);
	CHECK("m from the frame", strcmp(req(pkt), "2a00000000000000") == 0);
	snprintf(pkt, sizeof pkt, "m%x,8", BASE + 0x40);
	CHECK("m not collected: E01", strcmp(req(pkt), "E01") == 0);
	CHECK("p rip from a frame without registers: the tracepoint address", strcmp(req("p10"), "0010100000000000") == 0);
	CHECK("p rax not collected: x", strcmp(req("p0"), "xxxxxxxxxxxxxxxx") == 0);
	CHECK("traceframe-info lists the memory",
	      strstr(req("qXfer:traceframe-info:read::0,1000"), "<memory start=\"0x100020\" length=\"0x8\"/>") != NULL);
	CHECK("QTFrame:tdp:1 finds the next", strcmp(req("QTFrame:tdp:1"), "F1T1") == 0);
	snprintf(pkt, sizeof pkt, "QTFrame:pc:%x", TP);
	CHECK("QTFrame:pc finds the next", strcmp(req(pkt), "F2T1") == 0);
	CHECK("QTFrame:pc: no more", strcmp(req(pkt), "F-1") == 0);
	CHECK("QTFrame:5: none", strcmp(req("QTFrame:5"), "F-1") == 0);
	CHECK("QTFrame:ffffffff", strcmp(req("QTFrame:ffffffff"), "OK") == 0);
	S.state = STUB_STOPPED;
	CHECK("m live again", strcmp(req("m100020,1"), "2a") == 0);
	stub_session_free(&S);
}

static void test_stream(void)
{
	char pkt[256];
	setup();
	req("QTinit");
	snprintf(pkt, sizeof pkt, "QTDP:1:%x:E:0:0-", TP);
	req(pkt);
	snprintf(pkt, sizeof pkt, "QTDP:-1:%x:M-1,%x,64", TP, BASE + 0x100);   /* 6+11+100 = 117-byte frames */
	req(pkt);
	CHECK("stream: QTBuffer:stream:1", strcmp(req("QTBuffer:stream:1"), "OK") == 0);
	CHECK("stream: gdb's circular:0 keeps stream", strcmp(req("QTBuffer:circular:0"), "OK") == 0);
	req("QTBuffer:size:12c");   /* 300 bytes: two frames */
	CHECK("stream: QTStart", strcmp(req("QTStart"), "OK") == 0);
	F.nres = 0;
	hit(PID);
	hit(PID + 1);
	CHECK("stream: two frames, both resumed", F.nres == 2);
	CHECK("stream: third hit consumed", hit(PID));
	CHECK("stream: buffer full -> the thread waits", F.nres == 2 &&
	      strstr(req("qTStatus"), ";stream:1;thead:0;ttail:ea;twaiting:1") != NULL);
	CHECK("stream: nothing is lost (created 3)", strstr(req("qTStatus"), "tframes:2;tcreated:3;") != NULL);
	CHECK("stream: read from 0 releases nothing", strlen(req("qTBuffer:0,1000")) == 2 * 234 && F.nres == 2);
	CHECK("stream: read at 117 releases frame 1, the waiting frame moves in, its thread runs",
	      strlen(req("qTBuffer:75,1000")) == 2 * 234 && F.nres == 3 && F.res[2] == PID);
	CHECK("stream: window 117..351", strstr(req("qTStatus"), ";thead:75;ttail:15f;twaiting:0") != NULL);
	CHECK("stream: released offsets are gone (E16)", strcmp(req("qTBuffer:0,10"), "E16") == 0);
	CHECK("stream: at the end -> l", strcmp(req("qTBuffer:15f,10"), "l") == 0);
	CHECK("stream: everything read", strcmp(req("qTBuffer:15f,10"), "l") == 0 &&
	      strstr(req("qTStatus"), "tframes:0;") != NULL);
	/* a waiting thread is let go by QTStop; its frame stays queued */
	hit(PID); hit(PID); hit(PID + 1);
	int before = F.nres;
	CHECK("stream: third waits again", F.nres == before && strstr(req("qTStatus"), "twaiting:1") != NULL);
	CHECK("stream: a held thread is handed over on request", stub_trace_hand_over(&S, PID + 1) &&
	      !stub_trace_hand_over(&S, PID + 1) && !stub_trace_hand_over(&S, PID));
	CHECK("stream: its frame still waits", strstr(req("qTStatus"), "twaiting:1") != NULL);
	hit(PID + 1);   /* resumed by the client, it hits again: waits again */
	CHECK("stream: QTStop", strcmp(req("QTStop"), "OK") == 0);
	CHECK("stream: QTStop lets the waiting thread go", F.nres == before + 1 && F.res[before] == PID + 1);
	CHECK("stream: the waiting frames are still delivered", strlen(req("qTBuffer:249,1000")) == 2 * 234);

	/* the SIGTRAP of an int3 taken out while a thread was on its way */
	struct tgt_event ev = { .kind = TGT_EV_STOPPED, .pid = PID, .tid = PID, .sig = SIGTRAP,
				.reason = TGT_REASON_SIGNAL };
	set_reg(PID, RSP_AMD64_RIP, TP + 1);
	F.nres = 0;
	CHECK("stray SIGTRAP at a removed tracepoint: consumed", stub_trace_on_event(&S, &ev));
	uint8_t rip[8];
	f_read_reg(NULL, PID, RSP_AMD64_RIP, rip);
	CHECK("stray SIGTRAP: pc rewound, thread resumed", rip[0] == 0x00 && rip[1] == 0x10 && F.nres == 1);
	set_reg(PID, RSP_AMD64_RIP, TP + 5);
	CHECK("other SIGTRAP: not ours", !stub_trace_on_event(&S, &ev));
	/* exec during a run: the int3s went with the old image */
	CHECK("exec: a new run", strcmp(req("QTStart"), "OK") == 0 && F.nbp == 1);
	struct tgt_event ex = { .kind = TGT_EV_EXEC, .pid = PID, .tid = PID };
	CHECK("exec: not consumed", !stub_trace_on_event(&S, &ex));
	CHECK("exec: the run ended", strncmp(req("qTStatus"), "T0;tunknown:0;", 14) == 0);
	stub_session_free(&S);
}

/* while-stepping: 2 steps after each hit, a frame of the 'S' actions at each */
/* Trace blocks are read late (with the next cache fill or when the frame
 * ends, in one read_memv): what can be read of each still lands in its own
 * block, in the order the expression traced them, and a block nothing of
 * which can be read is left out. */
static void test_late_reads(void)
{
	char pkt[4096];
	uint8_t code[512];
	struct rsp_axb b;

	setup();
	for (unsigned i = 0; i < 64; i++) F.mem[0x3000 + i] = (uint8_t)(0x40 + i);
	put64(F.mem + 0x5000, BASE + 0x6000);   /* a pointer to follow */
	put64(F.mem + 0x6008, 0x1234);
	CHECK("late: QTinit", strcmp(req("QTinit"), "OK") == 0);
	rsp_axb_init(&b, code, sizeof code);
	rsp_axb_const(&b, BASE + 0x3000);
	rsp_axb_op1(&b, RSP_AX_TRACE_QUICK, 16);     /* readable */
	rsp_axb_op(&b, RSP_AX_POP);
	rsp_axb_const(&b, BASE + MEMSZ - 4);
	rsp_axb_op1(&b, RSP_AX_TRACE_QUICK, 8);      /* 4 bytes readable */
	rsp_axb_op(&b, RSP_AX_POP);
	rsp_axb_const(&b, 0x1000);
	rsp_axb_op1(&b, RSP_AX_TRACE_QUICK, 8);      /* nothing readable */
	rsp_axb_op(&b, RSP_AX_POP);
	rsp_axb_const(&b, BASE + 0x5000);
	rsp_axb_op(&b, RSP_AX_REF64);                /* a cache fill: the waiting blocks go along */
	rsp_axb_const(&b, 8);
	rsp_axb_op(&b, RSP_AX_ADD);
	rsp_axb_op1(&b, RSP_AX_TRACE_QUICK, 8);      /* 0x1234 */
	rsp_axb_op(&b, RSP_AX_END);
	snprintf(pkt, sizeof pkt, "QTDP:1:%x:E:0:0-", TP);
	CHECK("late: QTDP", b.err == 0 && strcmp(req(pkt), "OK") == 0);
	snprintf(pkt, sizeof pkt, "QTDP:-1:%x:X%zx,", TP, b.len);
	hexcat(pkt, code, b.len);
	CHECK("late: QTDP X action", strcmp(req(pkt), "OK") == 0);
	CHECK("late: QTStart", strcmp(req("QTStart"), "OK") == 0);
	F.nreads = F.nreadv = 0;
	CHECK("late: hit consumed", hit(PID));
	CHECK("late: reads batched", F.nreadv >= 1 && F.nreads <= 3);
	uint8_t raw[4096];
	size_t n = unhex(req("qTBuffer:0,1000"), raw, sizeof raw);
	struct rsp_tframe f;
	size_t off = 0, boff = 0;
	struct rsp_tblock k;
	CHECK("late: one frame", rsp_tframe_next(raw, n, &off, &f, 0) == 1 && off == n);
	CHECK("late: first block whole", rsp_tframe_block_next(&f, &boff, &k) == 1 && k.kind == 'M' &&
	      k.addr == BASE + 0x3000 && k.len == 16 && k.data[0] == 0x40 && k.data[15] == 0x4f);
	CHECK("late: second block cut to what is readable", rsp_tframe_block_next(&f, &boff, &k) == 1 &&
	      k.kind == 'M' && k.addr == BASE + MEMSZ - 4 && k.len == 4);
	CHECK("late: unreadable block left out, the pointer's target next",
	      rsp_tframe_block_next(&f, &boff, &k) == 1 && k.kind == 'M' && k.addr == BASE + 0x6008 &&
	      k.len == 8 && k.data[0] == 0x34 && k.data[1] == 0x12);
	CHECK("late: nothing else", rsp_tframe_block_next(&f, &boff, &k) == 0);
	req("QTStop");
	stub_session_free(&S);
}

/* A struct traced whole, then its fields read one by one, the first one
 * not at its start (gotap's growth program: gp's block, then gp.m): one
 * read brings both the block and the fields. */
static void test_struct_reads(void)
{
	char pkt[4096];
	uint8_t code[512];
	struct rsp_axb b;
	const uint64_t st = BASE + 0x7020;      /* not on a cache line's start */

	setup();
	for (unsigned i = 0; i < 160; i++) F.mem[0x7020 + i] = (uint8_t)i;
	CHECK("struct: QTinit", strcmp(req("QTinit"), "OK") == 0);
	rsp_axb_init(&b, code, sizeof code);
	rsp_axb_const(&b, st);
	rsp_axb_const(&b, 160);
	rsp_axb_op(&b, RSP_AX_TRACE);                /* the whole struct: waits */
	rsp_axb_const(&b, st + 48);
	rsp_axb_op(&b, RSP_AX_REF64);                /* a field past the first cache line */
	rsp_axb_op(&b, RSP_AX_POP);
	rsp_axb_const(&b, st);
	rsp_axb_op(&b, RSP_AX_REF64);                /* its first field */
	rsp_axb_const(&b, st + 152);
	rsp_axb_op(&b, RSP_AX_REF64);                /* its last */
	rsp_axb_op(&b, RSP_AX_ADD);
	rsp_axb_op(&b, RSP_AX_END);
	snprintf(pkt, sizeof pkt, "QTDP:1:%x:E:0:0-", TP);
	CHECK("struct: QTDP", b.err == 0 && strcmp(req(pkt), "OK") == 0);
	snprintf(pkt, sizeof pkt, "QTDP:-1:%x:X%zx,", TP, b.len);
	hexcat(pkt, code, b.len);
	CHECK("struct: QTDP X action", strcmp(req(pkt), "OK") == 0);
	CHECK("struct: QTStart", strcmp(req("QTStart"), "OK") == 0);
	F.nreads = F.nreadv = 0;
	CHECK("struct: hit consumed", hit(PID));
	CHECK("struct: block and fields in one read", F.nreads == 1);
	uint8_t raw[4096];
	size_t n = unhex(req("qTBuffer:0,1000"), raw, sizeof raw);
	struct rsp_tframe f;
	size_t off = 0, boff = 0;
	struct rsp_tblock k;
	CHECK("struct: the block whole", rsp_tframe_next(raw, n, &off, &f, 0) == 1 &&
	      rsp_tframe_block_next(&f, &boff, &k) == 1 && k.kind == 'M' && k.addr == st && k.len == 160 &&
	      k.data[0] == 0 && k.data[48] == 48 && k.data[159] == 159);
	req("QTStop");
	stub_session_free(&S);
}

static void test_stepping(void)
{
	char pkt[256];
	setup();
	req("QTinit");
	snprintf(pkt, sizeof pkt, "QTDP:1:%x:E:2:0-", TP);
	CHECK("stepping: QTDP with a step count", strcmp(req(pkt), "OK") == 0);
	snprintf(pkt, sizeof pkt, "QTDP:-1:%x:M-1,%x,8-", TP, BASE + 0x20);
	req(pkt);
	snprintf(pkt, sizeof pkt, "QTDP:-1:%x:SM-1,%x,4", TP, BASE + 0x28);
	CHECK("stepping: 'S' actions", strcmp(req(pkt), "OK") == 0);
	req("QTStart");
	F.nres = 0;
	CHECK("stepping: hit consumed", hit(PID));
	CHECK("stepping: resumed with a single step", F.nres == 1 && F.res[0] == PID && F.kind[0] == TGT_RESUME_STEP);
	struct tgt_event ev = { .kind = TGT_EV_STOPPED, .pid = PID, .tid = PID, .sig = SIGTRAP,
				.reason = TGT_REASON_STEP };
	set_reg(PID, RSP_AMD64_RIP, TP + 3);
	CHECK("stepping: first step consumed", stub_trace_on_event(&S, &ev));
	CHECK("stepping: steps again", F.nres == 2 && F.kind[1] == TGT_RESUME_STEP);
	set_reg(PID, RSP_AMD64_RIP, TP + 7);
	CHECK("stepping: second step consumed", stub_trace_on_event(&S, &ev));
	CHECK("stepping: then continues", F.nres == 3 && F.kind[2] == TGT_RESUME_CONT);
	CHECK("stepping: a later step stop is not ours", !stub_trace_on_event(&S, &ev));
	CHECK("stepping: 3 frames", strstr(req("qTStatus"), "tframes:3;") != NULL);
	snprintf(pkt, sizeof pkt, "QTFrame:pc:%x", TP + 7);
	CHECK("stepping: the last frame is at the stepped-to pc", strcmp(req(pkt), "F2T1") == 0);
	snprintf(pkt, sizeof pkt, "m%x,4", BASE + 0x28);
	CHECK("stepping: its memory is the 'S' action's", strcmp(req(pkt), "00000000") == 0);
	req("QTFrame:ffffffff");
	/* a run that ends during the steps: the step in flight is still consumed */
	F.nres = 0;
	hit(PID + 1);
	req("QTStop");
	ev.tid = PID + 1;
	CHECK("stepping: after QTStop the step in flight is consumed", stub_trace_on_event(&S, &ev) &&
	      F.nres == 2 && F.kind[1] == TGT_RESUME_CONT);
	CHECK("stepping: and nothing more", !stub_trace_on_event(&S, &ev));
	stub_session_free(&S);
}

int main(void)
{
	test_tbuf();
	test_hits();
	test_stream();
	test_late_reads();
	test_struct_reads();
	test_stepping();
	return check_done();
}
