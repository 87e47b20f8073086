/* stub_handlers.c — the stub's packet table and handlers against a fake backend.
 *
 * A scripted in-memory target (two threads, 4 KiB of memory, a register
 * block, an event queue) stands in for ptrace, so every packet rule can be
 * checked without a process: replies, error replies for malformed input,
 * the empty reply for unknown packets, qSupported built from the table,
 * vCont per-thread actions, and the all-stop pending-stop rules.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/check.h"
#include "handlers.h"
#include "session.h"
#include "transport.h"

/* ------------------------------------------------------------ fake target */

#define PID 100
#define BASE 0x10000u
static struct fake {
	uint8_t mem[4096];
	uint8_t regs[2][1024];
	int nbp;
	uint64_t bp[16];
	struct resumed { pid_t tid; int kind, sig; } res[16];
	int nres;
	struct tgt_event q[8];
	int qn;
	bool detached, killed;
} F;

static struct tgt *f_create(void) { return (struct tgt *)&F; }
static void f_destroy(struct tgt *t) { (void)t; }
static int f_launch(struct tgt *t, const struct tgt_launch_opts *o, pid_t *pid) { (void)t; (void)o; *pid = PID; return 0; }
static int f_attach(struct tgt *t, pid_t pid) { (void)t; (void)pid; return 0; }
static int f_detach(struct tgt *t, int sig) { (void)t; (void)sig; F.detached = true; return 0; }
static int f_kill(struct tgt *t) { (void)t; F.killed = true; return 0; }
static pid_t f_pid(struct tgt *t) { (void)t; return PID; }
static bool f_attached(struct tgt *t) { (void)t; return false; }
static int f_list(struct tgt *t, struct tgt_thread_info *out, int cap)
{
	(void)t;
	for (int i = 0; i < 2 && i < cap; i++) {
		out[i] = (struct tgt_thread_info){ .tid = PID + i, .stopped = true, .core = i };
		strcpy(out[i].name, i ? "work<er>" : "prog");
	}
	return 2;
}
static bool f_alive(struct tgt *t, pid_t tid) { (void)t; return tid == PID || tid == PID + 1; }
static int f_resume(struct tgt *t, pid_t tid, enum tgt_resume_kind k, int sig)
{
	(void)t;
	if (F.nres < 16) F.res[F.nres++] = (struct resumed){ tid, (int)k, sig };
	return 0;
}
static int f_stop(struct tgt *t, pid_t tid) { (void)t; (void)tid; return 0; }
static int f_stop_all(struct tgt *t) { (void)t; return 0; }
static int f_next(struct tgt *t, struct tgt_event *ev, int ms)
{
	(void)t; (void)ms;
	if (F.qn == 0) return 0;
	*ev = F.q[0];
	memmove(&F.q[0], &F.q[1], (size_t)--F.qn * sizeof F.q[0]);
	return 1;
}
static int f_event_fd(struct tgt *t) { (void)t; return -1; }
static int f_read_reg(struct tgt *t, pid_t tid, unsigned r, uint8_t *buf)
{
	(void)t;
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
	if (a < BASE || a >= BASE + sizeof F.mem) return -EIO;
	size_t room = BASE + sizeof F.mem - a;
	if (n > room) n = room;
	memcpy(buf, F.mem + (a - BASE), n);
	return (long)n;
}
static long f_write_mem(struct tgt *t, uint64_t a, const uint8_t *buf, size_t n)
{
	(void)t;
	if (a < BASE || a + n > BASE + sizeof F.mem) return -EIO;
	memcpy(F.mem + (a - BASE), buf, n);
	return (long)n;
}
static int f_insert(struct tgt *t, enum tgt_bp_kind k, uint64_t a, unsigned len)
{
	(void)t; (void)len;
	if (k == TGT_WP_WRITE && len == 3) return -EINVAL;
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
static long f_auxv(struct tgt *t, uint8_t *buf, size_t cap) { (void)t; (void)cap; memset(buf, 0, 16); return 16; }
static int f_exe(struct tgt *t, char *buf, size_t cap) { (void)t; snprintf(buf, cap, "/bin/true"); return 0; }

static const struct tgt_ops fake_ops = {
	f_create, f_destroy, f_launch, f_attach, f_detach, f_kill, f_pid, f_attached,
	f_list, f_alive, f_resume, f_stop, f_stop_all, f_next, f_event_fd,
	f_read_reg, f_write_reg, f_read_regs, f_write_regs, f_read_mem, f_write_mem,
	f_insert, f_remove, f_pass, f_auxv, f_exe,
	NULL,   /* no wait_event: the session polls event_fd */
	NULL,   /* no read_memv: the trace reads with read_mem */
};

/* ------------------------------------------------------------ harness */

static struct stub_session S;
static struct stub_config CFG;
static struct stub_transport TR;
static int peer = -1;
static char rbuf[STUB_REPLY_CAP];
static struct stub_out O;

static ssize_t tr_read(struct stub_transport *t, void *b, size_t n) { ssize_t r = read(t->rfd, b, n); return r < 0 ? -errno : r; }
static int tr_write(struct stub_transport *t, const void *b, size_t n) { return write(t->wfd, b, n) == (ssize_t)n ? 0 : -EIO; }
static void tr_close(struct stub_transport *t) { close(t->rfd); }

static void setup(const char *disabled)
{
	int sv[2];
	if (peer >= 0) { stub_session_free(&S); close(peer); close(TR.rfd); }
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { perror("socketpair"); _exit(1); }
	TR = (struct stub_transport){ sv[0], sv[0], tr_read, tr_write, tr_close, NULL };
	peer = sv[1];
	CFG = (struct stub_config){ .disable_aslr = true, .disabled = disabled };
	memset(&F, 0, sizeof F);
	for (int i = 0; i < 4096; i++) F.mem[i] = (uint8_t)i;
	F.regs[0][rsp_amd64_regs[RSP_AMD64_RIP].offset] = 0x34;
	F.regs[1][rsp_amd64_regs[RSP_AMD64_RIP].offset] = 0x56;
	stub_session_init(&S, &CFG, &fake_ops, (struct tgt *)&F, &TR, PID);
}

/* Dispatch pkt; returns the reply as a NUL-terminated string ("<noreply>" if none). */
static const char *req(const char *pkt)
{
	O = (struct stub_out){ .buf = rbuf, .cap = sizeof rbuf - 1 };
	int r = stub_dispatch(&S, pkt, strlen(pkt), &O);
	if (r == STUB_NO_REPLY) return "<noreply>";
	rbuf[O.len] = 0;
	return rbuf;
}

#define EQ(name, pkt, want) CHECK(name, strcmp(req(pkt), want) == 0)
#define HAS(name, pkt, want) CHECK(name, strstr(req(pkt), want) != NULL)

int main(void)
{
	setup(NULL);
	EQ("unknown packet: empty reply", "qNoSuchThing", "");
	EQ("vMustReplyEmpty: empty", "vMustReplyEmpty", "");
	const char *q = req("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
	CHECK("qSupported PacketSize", strncmp(q, "PacketSize=20000", 16) == 0);
	CHECK("qSupported multiprocess (vKill present)", strstr(q, ";multiprocess+") != NULL);
	CHECK("qSupported xfer features", strstr(q, "qXfer:features:read+") && strstr(q, "qXfer:libraries-svr4:read+"));
	CHECK("qSupported vContSupported", strstr(q, "vContSupported+") != NULL);
	CHECK("client multiprocess noted", S.mp && S.c_swbreak);
	EQ("qC", "qC", "QCp64.64");
	EQ("qC does not swallow qCRC", "qCRC:10000,4", "");
	EQ("m reads memory", "m10000,4", "00010203");
	EQ("m partial at end of mapping", "m10ffe,8", "feff");
	EQ("m unmapped: E05", "m0,4", "E05");
	EQ("m malformed: E16", "mzz", "E16");
	EQ("m missing length: E16", "m10000", "E16");
	EQ("M writes", "M10000,2:abcd", "OK");
	EQ("M then m", "m10000,2", "abcd");
	EQ("M odd hex: E16", "M10000,2:abc", "E16");
	EQ("X binary write", "X10004,2:\x01\x02", "OK");
	EQ("X then m", "m10004,2", "0102");
	EQ("X length mismatch: E16", "X10004,3:\x01", "E16");
	EQ("X zero-length probe", "X10000,0:", "OK");
	CHECK("g size", strlen(req("g")) == 2 * rsp_amd64_regblock_size());
	EQ("p rip", "p10", "3400000000000000");
	EQ("p out of range: E16", "p999", "E16");
	EQ("P rip", "P10=1100000000000000", "OK");
	EQ("P then p", "p10", "1100000000000000");
	EQ("P short value: E16", "P10=11", "E16");
	EQ("Hg other thread", "Hgp64.65", "OK");
	EQ("p follows Hg", "p10", "5600000000000000");
	EQ("Hg unknown thread: E03", "Hgp64.3e7", "E03");
	EQ("Hg0 (any)", "Hg0", "OK");
	EQ("Hc-1", "Hc-1", "OK");
	EQ("T alive", "Tp64.65", "OK");
	EQ("T dead: E03", "T3e7", "E03");
	EQ("qfThreadInfo", "qfThreadInfo", "mp64.64,p64.65");
	EQ("qsThreadInfo", "qsThreadInfo", "l");
	HAS("qXfer:threads with names (escaped)", "qXfer:threads:read::0,fff", "name=\"work&lt;er&gt;\"");
	HAS("qXfer:features target.xml", "qXfer:features:read:target.xml:0,20", "m<?xml");
	EQ("qXfer:features other annex: E02", "qXfer:features:read:foo.xml:0,20", "E02");
	EQ("qXfer:exec-file", "qXfer:exec-file:read:64:0,100", "l/bin/true");
	EQ("qXfer malformed: E16", "qXfer:auxv:read::zz", "E16");
	EQ("qAttached launched", "qAttached:64", "0");
	EQ("Z0", "Z0,10010,1", "OK");
	CHECK("Z0 reached backend", F.nbp == 1 && F.bp[0] == 0x10010);
	EQ("Z2 bad length: E16", "Z2,10010,3", "E16");
	EQ("Z9 unsupported: empty", "Z9,10010,1", "");
	EQ("Z malformed: E16", "Z0,zz", "E16");
	EQ("vCont?", "vCont?", "vCont;c;C;s;S;t");
	EQ("vCont malformed: E16", "vCont;x", "E16");
	EQ("vCont bad signal: E16", "vCont;Cz", "E16");
	EQ("QPassSignals", "QPassSignals:e;10;14", "OK");
	EQ("QPassSignals malformed", "QPassSignals:zz", "E16");
	EQ("qSymbol", "qSymbol::", "OK");
	EQ("qOffsets: empty (as gdbserver on Linux)", "qOffsets", "");

	/* resume: every thread continues */
	EQ("vCont;c runs", "vCont;c", "<noreply>");
	CHECK("vCont;c = one resume of all", F.nres == 1 && F.res[0].tid == -1 && S.state == STUB_RUNNING);
	EQ("packets needing a stopped target while running: E10", "g", "E10");
	S.state = STUB_STOPPED;
	F.nres = 0;
	EQ("vCont step one, continue rest", "vCont;s:p64.65;c", "<noreply>");
	CHECK("stepper resumed first", F.nres == 2 && F.res[0].tid == PID + 1 && F.res[0].kind == TGT_RESUME_STEP &&
	      F.res[1].tid == PID && F.res[1].kind == TGT_RESUME_CONT);
	S.state = STUB_STOPPED;
	F.nres = 0;
	EQ("vCont step only one thread", "vCont;s:p64.64", "<noreply>");
	CHECK("others stay stopped", F.nres == 1 && F.res[0].tid == PID);
	S.state = STUB_STOPPED;
	F.nres = 0;
	EQ("vCont signal", "vCont;C1e:p64.64;c", "<noreply>");   /* GDB 30 = SIGUSR1 */
	CHECK("signal delivered as host SIGUSR1", F.res[0].tid == PID && F.res[0].sig == SIGUSR1);
	S.state = STUB_STOPPED;

	/* pending stops */
	F.nres = 0;
	S.npending = 1;
	S.pending[0] = (struct tgt_event){ .kind = TGT_EV_STOPPED, .pid = PID, .tid = PID + 1, .sig = SIGTRAP,
					   .reason = TGT_REASON_SWBREAK, .addr = 0x10010 };
	HAS("pending breakpoint reported instead of resuming", "vCont;c", "thread:p64.65");
	CHECK("nothing resumed, reporting thread current", F.nres == 0 && S.gthread == PID + 1 && S.npending == 0);
	HAS("stop reply has swbreak", "?", "T05");
	S.npending = 1;
	EQ("z0 removes", "z0,10010,1", "OK");
	EQ("pending hit of a removed breakpoint is dropped", "vCont;c", "<noreply>");
	CHECK("and the target resumed", F.nres == 1 && S.npending == 0);
	S.state = STUB_STOPPED;
	S.npending = 1;
	F.nres = 0;
	S.pending[0].reason = TGT_REASON_SIGNAL;
	S.pending[0].sig = SIGUSR1;
	EQ("pending stop of a thread not resumed stays pending", "vCont;s:p64.64", "<noreply>");
	CHECK("still pending", S.npending == 1);
	S.state = STUB_STOPPED;
	S.npending = 0;

	/* gdb removes every breakpoint at a stop and steps the reporting thread
	 * over it alone: another thread's pending hit there is not stale yet. */
	F.nres = 0;
	S.npending = 1;
	S.pending[0] = (struct tgt_event){ .kind = TGT_EV_STOPPED, .pid = PID, .tid = PID + 1, .sig = SIGTRAP,
					   .reason = TGT_REASON_SWBREAK, .addr = 0x10010 };
	EQ("step the other thread while the bp is out", "vCont;s:p64.64", "<noreply>");
	CHECK("pending hit of a thread not resumed kept while bp removed", S.npending == 1);
	S.state = STUB_STOPPED;
	EQ("reinsert", "Z0,10010,1", "OK");
	HAS("kept hit reported once the bp is back", "vCont;c", "thread:p64.65");
	CHECK("queue empty", S.npending == 0);
	EQ("remove again", "z0,10010,1", "OK");

	char sr[256];
	struct tgt_event ev = { .kind = TGT_EV_STOPPED, .pid = PID, .tid = PID, .sig = SIGTRAP,
				.reason = TGT_REASON_SWBREAK, .addr = 0x10010 };
	size_t n = stub_stop_reply(&S, &ev, sr, sizeof sr);
	sr[n] = 0;
	CHECK("stop reply: swbreak, expedited regs, thread",
	      strstr(sr, "swbreak:") && strstr(sr, "06:") && strstr(sr, "07:") && strstr(sr, "10:") &&
	      strstr(sr, "thread:p64.64"));
	ev.reason = TGT_REASON_WATCH;
	ev.addr = 0x10020;
	n = stub_stop_reply(&S, &ev, sr, sizeof sr);
	sr[n] = 0;
	CHECK("stop reply: watch address", strstr(sr, "watch:10020") != NULL);
	ev = (struct tgt_event){ .kind = TGT_EV_EXITED, .pid = PID, .status = 3 };
	n = stub_stop_reply(&S, &ev, sr, sizeof sr);
	sr[n] = 0;
	CHECK("exit reply W", sr[0] == 'W' && strstr(sr, "process:64"));

	EQ("vRun refused without --multi", "vRun;", "E01");
	EQ("vAttach while debugging: E10", "vAttach;123", "E10");   /* EBUSY 16 */
	EQ("qRcmd exit", "qRcmd,65786974", "OK");
	CHECK("monitor exit ends the stub", S.quit && S.disconnect);
	S.quit = S.disconnect = false;
	EQ("qRcmd malformed", "qRcmd,6", "E16");
	EQ("D detaches", "D;64", "OK");
	CHECK("detach reached backend, no process left", F.detached && S.state == STUB_NOPROC);
	EQ("? with no process", "?", "W00");
	EQ("g with no process: E01", "g", "E01");
	EQ("qC with no process: empty", "qC", "");

	/* Hostile input: table prefixes followed by random bytes; every
	 * packet must get a reply (or resume) and never crash (run under ASan). */
	static const char *const pfx[] = { "m", "M", "X", "g", "G", "p", "P", "Z", "z", "c", "C", "s", "S",
		"vCont;", "vCont?", "H", "T", "qC", "qXfer:threads:read:", "qXfer:features:read:",
		"qXfer:auxv:read:", "qXfer:exec-file:read:", "qXfer:libraries-svr4:read:", "vFile:open:",
		"vFile:pread:", "vFile:close:", "vFile:fstat:", "vFile:setfs:", "QPassSignals:",
		"QProgramSignals:", "qRcmd,", "qSupported:", "vAttach;", "vRun;", "vKill;", "D;", "qAttached:" };
	static const char alpha[] = "0123456789abcdefABCDEF,:;-p.xz\x00}*#$ ";
	uint32_t seed = 12345;
	bool all_ok = true;
	for (int i = 0; i < 20000 && all_ok; i++) {
		char pkt[96];
		size_t n = 0;
		seed = seed * 1103515245u + 12345u;
		const char *p = pfx[(seed >> 8) % (sizeof pfx / sizeof pfx[0])];
		n = strlen(p);
		memcpy(pkt, p, n);
		seed = seed * 1103515245u + 12345u;
		size_t extra = (seed >> 10) % 40;
		for (size_t k = 0; k < extra; k++) {
			seed = seed * 1103515245u + 12345u;
			pkt[n++] = alpha[(seed >> 12) % (sizeof alpha - 1)];
		}
		S.state = STUB_STOPPED;
		S.pid = PID;
		S.npending = 0;
		S.quit = S.disconnect = false;
		O = (struct stub_out){ .buf = rbuf, .cap = sizeof rbuf - 1 };
		int r = stub_dispatch(&S, pkt, n, &O);
		if (r != STUB_OK && r != STUB_NO_REPLY) all_ok = false;
		if (O.len > O.cap) all_ok = false;
	}
	CHECK("20000 hostile packets: every one answered", all_ok);
	stub_vfile_close_all(&S);

	setup("vCont,qXfer:auxv:read");
	q = req("qSupported:multiprocess+");
	CHECK("disabled vCont leaves qSupported", strstr(q, "vContSupported") == NULL && strstr(q, "auxv") == NULL);
	EQ("disabled vCont?: empty", "vCont?", "");
	EQ("disabled vCont: empty", "vCont;c", "");
	setup("T");
	HAS("--disable-packet=T: S stop replies", "?", "S05");
	setup("Tthread");
	q = req("?");
	CHECK("--disable-packet=Tthread: no thread:", q[0] == 'T' && !strstr(q, "thread:"));
	CHECK("packet names known", stub_packet_name_known("vCont") && stub_packet_name_known("Tthread") &&
	      !stub_packet_name_known("bogus"));
	stub_session_free(&S);
	return check_done();
}
