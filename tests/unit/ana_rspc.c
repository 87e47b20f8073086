/* ana_rspc.c — tests of gotap's RSP client against the real gdbserver (over
 * rspc_spawn's socketpair and over TCP) and against a scripted fake stub on a
 * Unix socket that exercises the ack protocol (naks, resends, bad checksums,
 * stray '+') and PacketSize splitting.
 *
 * Target: tests/targets/c/rspc_target.c, built into $GOTAP_BUILD/targets/
 * (default /work/main/build) by tests/targets/build.sh if missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/check.h"
#include "rspc.h"

static char target[4096];

struct syms { uint64_t entry, hit, magic, big, counter; };

/* st_value of the symbols the test needs, and the ELF entry point. */
static int read_syms(const char *path, struct syms *s)
{
	memset(s, 0, sizeof *s);
	if (elf_version(EV_CURRENT) == EV_NONE) return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	if (!e || !gelf_getehdr(e, &eh)) {
		if (e) elf_end(e);
		close(fd);
		return -1;
	}
	s->entry = eh.e_entry;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB) continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; d && i < n; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, (int)i, &sym)) continue;
			const char *name = elf_strptr(e, sh.sh_link, sym.st_name);
			if (!name) continue;
			if (!strcmp(name, "rspc_hit")) s->hit = sym.st_value;
			else if (!strcmp(name, "rspc_magic")) s->magic = sym.st_value;
			else if (!strcmp(name, "rspc_big")) s->big = sym.st_value;
			else if (!strcmp(name, "rspc_counter")) s->counter = sym.st_value;
		}
	}
	elf_end(e);
	close(fd);
	return s->hit && s->magic && s->big && s->counter ? 0 : -1;
}

/* Load bias of a PIE from the target's auxv (AT_ENTRY minus e_entry). */
static int64_t bias_from_auxv(struct rspc *c, uint64_t e_entry)
{
	static uint8_t auxv[4096];
	long n = rspc_read_auxv(c, auxv, sizeof auxv);
	for (long i = 0; i + 16 <= n; i += 16) {
		uint64_t k, v;
		memcpy(&k, auxv + i, 8);
		memcpy(&v, auxv + i + 8, 8);
		if (k == 9) return (int64_t)(v - e_entry);
		if (k == 0) break;
	}
	return -1;
}

/* Wait up to `ms` for pid to exit; kill it after that.  Returns the wait
 * status, or -1 if it had to be killed. */
static int reap(pid_t pid, int ms)
{
	int st;
	for (int i = 0; i < ms / 10; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) return st;
		if (r < 0 && errno != EINTR) return -1;
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
	return -1;
}

/* Read a small file the target writes when it finishes (it is not our child
 * after a detach, so we look for its output instead of its exit status). */
static bool wait_file(const char *path, char *buf, size_t cap, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		FILE *f = fopen(path, "r");
		if (f) {
			size_t n = fread(buf, 1, cap - 1, f);
			fclose(f);
			buf[n] = 0;
			if (n > 0 && buf[n - 1] == '\n') return true;
		}
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
	}
	return false;
}

static unsigned long expected_sum(void)
{
	unsigned long sum = 0;
	for (unsigned i = 0; i < 40000; i++) sum += (unsigned char)(i * 7 + 3);
	return sum;
}

/* ------------------------------------------------ real gdbserver, stdio */

static void test_gdbserver_spawn(const struct syms *sy)
{
	char outfile[] = "/tmp/ana_rspc_out_XXXXXX";
	int ofd = mkstemp(outfile);
	if (ofd < 0 || close(ofd) != 0 || unlink(outfile) != 0) {
		CHECK("spawn: temp file", 0);
		return;
	}
	char *argv[] = { target, outfile, NULL };
	char err[256];
	pid_t stub = 0;
	struct rspc *c = rspc_spawn("gdbserver", argv, 0, &stub, err, sizeof err);
	CHECK("spawn: gdbserver --once - rspc_target", c != NULL && stub > 0);
	if (!c) { printf("  %s\n", err); return; }

	struct rsp_stop st;
	int r = rspc_handshake(c, &st);
	CHECK("spawn: handshake", r == 0);
	if (r) { printf("  %s\n", rspc_error(c)); rspc_close(c); reap(stub, 2000); return; }
	CHECK("spawn: initial stop is SIGTRAP with a thread", st.kind == RSP_STOP_SIGNAL &&
	      st.sig == 5 && st.has_thread && st.thread.tid > 0);
	int64_t pid = st.thread.has_pid ? st.thread.pid : st.thread.tid;
	CHECK("spawn: multiprocess and PacketSize negotiated", rspc_has_feature(c, "multiprocess") &&
	      rspc_packet_size(c) >= 0x1000 && rspc_has_feature(c, "QStartNoAckMode") &&
	      !rspc_has_feature(c, "NoSuchFeature"));

	int64_t bias = bias_from_auxv(c, sy->entry);
	CHECK("spawn: auxv gives the load bias", bias >= 0);
	if (bias < 0) bias = 0;
	uint64_t hit = sy->hit + (uint64_t)bias;

	uint64_t magic = 0;
	long n = rspc_read_mem(c, sy->magic + (uint64_t)bias, &magic, 8);
	CHECK("spawn: read a known global", n == 8 && magic == 0x1122334455667788ULL);
	uint8_t junk[16];
	CHECK("spawn: read at address 0 is short, not an error", rspc_read_mem(c, 0, junk, 16) == 0);

	uint64_t regs[RSP_AMD64_NREGS], rip = 0;
	r = rspc_read_regs(c, 0, regs);
	CHECK("spawn: read registers", r == 0 && regs[RSP_AMD64_RIP] != 0 && regs[RSP_AMD64_RSP] != 0);
	CHECK("spawn: read one register agrees", rspc_read_reg(c, 0, RSP_AMD64_RIP, &rip) == 0 &&
	      rip == regs[RSP_AMD64_RIP]);

	int sigs[] = { SIGURG, SIGCHLD, SIGWINCH, SIGUSR1 };
	CHECK("spawn: QPassSignals", rspc_pass_signals(c, sigs, 4) == 0);
	CHECK("spawn: insert breakpoint at rspc_hit", rspc_insert_bp(c, 0, hit, 1) == 0);
	CHECK("spawn: resume", rspc_resume(c, 0, 0) == 0);
	r = rspc_wait_stop(c, &st, 20000);
	uint64_t exp_rip = 0;
	for (unsigned i = 0; i < st.nregs; i++)
		if (st.regs[i].regno == RSP_AMD64_RIP) exp_rip = st.regs[i].value;
	CHECK("spawn: stop at the breakpoint", r == 1 && st.kind == RSP_STOP_SIGNAL && st.sig == 5 &&
	      st.reason == RSP_REASON_SWBREAK);
	CHECK("spawn: stop names the thread", st.has_thread && st.thread.tid == pid);
	CHECK("spawn: expedited pc is the breakpoint", exp_rip == hit);
	unsigned long p0 = rspc_packets_sent(c);
	uint64_t crip = 0;
	CHECK("spawn: expedited pc read without a packet", rspc_read_reg(c, st.thread.tid, RSP_AMD64_RIP,
	      &crip) == 0 && crip == hit && rspc_packets_sent(c) == p0);
	r = rspc_read_regs(c, st.thread.tid, regs);
	CHECK("spawn: registers of the stopped thread: one 'g', no Hg", rspc_packets_sent(c) == p0 + 1);
	uint64_t crdi = 0;
	CHECK("spawn: registers cached for the stop", rspc_read_reg(c, st.thread.tid, RSP_AMD64_RDI,
	      &crdi) == 0 && crdi == regs[RSP_AMD64_RDI] && rspc_packets_sent(c) == p0 + 1);
	CHECK("spawn: registers at the breakpoint (rip, first argument 5)", r == 0 &&
	      regs[RSP_AMD64_RIP] == hit && regs[RSP_AMD64_RDI] == 5);
	if (r) printf("  %s\n", rspc_error(c));
	uint64_t fsb = 0;
	CHECK("spawn: fs_base (reg 58) set by libc, same via 'g' and 'p'", regs[RSP_AMD64_FS_BASE] != 0 &&
	      rspc_read_reg(c, 0, RSP_AMD64_FS_BASE, &fsb) == 0 && fsb == regs[RSP_AMD64_FS_BASE]);

	static uint8_t big[40000];
	unsigned long before = rspc_packets_sent(c);
	n = rspc_read_mem(c, sy->big + (uint64_t)bias, big, sizeof big);
	unsigned long used = rspc_packets_sent(c) - before;
	bool pattern = n == (long)sizeof big;
	for (unsigned i = 0; pattern && i < sizeof big; i++)
		if (big[i] != (uint8_t)(i * 7 + 3)) pattern = false;
	CHECK("spawn: 40000-byte read correct", pattern);
	size_t per = (rspc_packet_size(c) - 64) / 2;
	CHECK("spawn: 40000-byte read in PacketSize chunks", used >= 2 &&
	      used <= (sizeof big + per - 1) / per);
	printf("  (40000 bytes in %lu packets, PacketSize %#zx)\n", used, rspc_packet_size(c));

	int32_t hundred = 100, back = 0;
	CHECK("spawn: write memory", rspc_write_mem(c, sy->counter + (uint64_t)bias, &hundred, 4) == 0);
	CHECK("spawn: read back the write", rspc_read_mem(c, sy->counter + (uint64_t)bias, &back, 4) == 4 &&
	      back == 100);

	CHECK("spawn: remove breakpoint", rspc_remove_bp(c, 0, hit, 1) == 0);
	r = rspc_detach(c);
	CHECK("spawn: detach", r == 0);
	if (r) printf("  %s\n", rspc_error(c));
	rspc_close(c);
	int ws = reap(stub, 10000);
	CHECK("spawn: gdbserver exits after detach", ws >= 0 && WIFEXITED(ws));
	char out[256], want[256];
	snprintf(want, sizeof want, "rspc_target done counter=105 sum=%lu\n", expected_sum());
	bool got = wait_file(outfile, out, sizeof out, 10000);
	CHECK("spawn: target runs on after detach with its normal output", got && !strcmp(out, want));
	if (got && strcmp(out, want)) printf("  got: %s", out);
	unlink(outfile);
}

/* ------------------------------------------------ real gdbserver, TCP */

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return -1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	int port = -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void test_gdbserver_tcp(void)
{
	int port = free_port();
	CHECK("tcp: free port", port > 0);
	if (port <= 0) return;
	char where[64];
	snprintf(where, sizeof where, "127.0.0.1:%d", port);
	pid_t gs = fork();
	if (gs < 0) { CHECK("tcp: fork", 0); return; }
	if (gs == 0) {
		int nul = open("/dev/null", O_WRONLY);
		if (nul >= 0) { dup2(nul, 1); dup2(nul, 2); }
		execlp("gdbserver", "gdbserver", "--once", where, target, (char *)NULL);
		_exit(127);
	}
	struct rspc *c = NULL;
	char err[256] = "";
	for (int i = 0; i < 500 && !c; i++) {   /* until gdbserver listens (at most 5 s) */
		c = rspc_connect(where, err, sizeof err);
		if (!c) {
			struct timespec ts = { 0, 10 * 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	CHECK("tcp: connect to gdbserver", c != NULL);
	if (!c) { printf("  %s\n", err); reap(gs, 100); return; }
	struct rsp_stop st;
	CHECK("tcp: handshake", rspc_handshake(c, &st) == 0 && st.kind == RSP_STOP_SIGNAL);
	char reply[64];
	CHECK("tcp: raw request qAttached", rspc_request(c, "qAttached", reply, sizeof reply) == 1 &&
	      reply[0] == '0');
	char path[4096];
	CHECK("tcp: exec-file", rspc_exec_file(c, path, sizeof path) == 0 && !strcmp(path, target));
	CHECK("tcp: resume", rspc_resume(c, 0, 0) == 0);
	int r = rspc_wait_stop(c, &st, 20000);
	CHECK("tcp: program exits, W with process", r == 1 && st.kind == RSP_STOP_EXITED &&
	      st.exit_code == 0 && st.process > 0);
	rspc_close(c);
	int ws = reap(gs, 10000);
	CHECK("tcp: gdbserver exits", ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	char err2[256];
	CHECK("tcp: refused connection is an error", rspc_connect(where, err2, sizeof err2) == NULL &&
	      strstr(err2, "refused") != NULL);
}

/* ------------------------------------------------ scripted fake stub */

/* The fake stub's side: blocking reads through the same parser. */
struct peer {
	int fd;
	struct rsp_parser p;
	uint8_t buf[4096];
	uint8_t in[4096];
	size_t off, len;
	int acks, naks;
};

/* Next event from the client (acks counted). 0 on EOF. */
static enum rsp_event peer_next(struct peer *pr)
{
	for (;;) {
		while (pr->off < pr->len) {
			enum rsp_event ev;
			pr->off += rsp_parser_feed(&pr->p, pr->in + pr->off, pr->len - pr->off, &ev);
			if (ev != RSP_EV_NONE) return ev;
		}
		ssize_t k = read(pr->fd, pr->in, sizeof pr->in);
		if (k <= 0) return RSP_EV_NONE;
		pr->off = 0;
		pr->len = (size_t)k;
	}
}

static bool peer_packet(struct peer *pr, const char *want_prefix)
{
	for (;;) {
		enum rsp_event ev = peer_next(pr);
		if (ev == RSP_EV_NONE) return false;
		if (ev == RSP_EV_ACK) { pr->acks++; continue; }
		if (ev == RSP_EV_NAK) { pr->naks++; continue; }
		if (ev != RSP_EV_PACKET) return false;
		size_t n = strlen(want_prefix);
		return pr->p.len >= n && memcmp(pr->buf, want_prefix, n) == 0;
	}
}

static bool peer_send(struct peer *pr, const char *raw, size_t n)
{
	return write(pr->fd, raw, n) == (ssize_t)n;
}

static bool peer_reply(struct peer *pr, const char *payload)
{
	uint8_t f[1024];
	size_t n = rsp_frame(f, sizeof f, (const uint8_t *)payload, strlen(payload), false);
	return n && peer_send(pr, (const char *)f, n);
}

/* Wait for one specific ack byte from the client. */
static bool peer_ack(struct peer *pr, enum rsp_event want)
{
	enum rsp_event ev = peer_next(pr);
	if (ev == RSP_EV_ACK) pr->acks++;
	if (ev == RSP_EV_NAK) pr->naks++;
	return ev == want;
}

/* The script; returns a bitmask of failed steps (0 = all went as expected). */
static int fake_stub(int fd)
{
	struct peer pr = { .fd = fd };
	rsp_parser_init(&pr.p, pr.buf, sizeof pr.buf);
	int bad = 0;
	/* 1: nak the first qSupported: the client must resend it */
	if (!peer_packet(&pr, "qSupported:")) bad |= 1;
	peer_send(&pr, "-", 1);
	if (!peer_packet(&pr, "qSupported:")) bad |= 2;
	/* 2: ack, then a reply with a bad checksum: the client must answer '-' */
	peer_send(&pr, "+", 1);
	static const char corrupt[] = "$PacketSize=100;QStartNoAckMode+#00";
	peer_send(&pr, corrupt, sizeof corrupt - 1);
	if (!peer_ack(&pr, RSP_EV_NAK)) bad |= 4;
	/* 3: stray '+' bytes, then the good reply: the client acks it */
	peer_send(&pr, "++", 2);
	peer_reply(&pr, "PacketSize=100;QStartNoAckMode+;multiprocess+");
	if (!peer_ack(&pr, RSP_EV_ACK)) bad |= 8;
	/* 4: QStartNoAckMode in ack mode; its OK is acked; then no acks */
	if (!peer_packet(&pr, "QStartNoAckMode")) bad |= 16;
	peer_send(&pr, "+", 1);
	peer_reply(&pr, "OK");
	if (!peer_ack(&pr, RSP_EV_ACK)) bad |= 32;
	int acks_before = pr.acks;
	if (!peer_packet(&pr, "vCont?")) bad |= 64;
	peer_reply(&pr, "vCont;c;C;s;S");
	if (!peer_packet(&pr, "?")) bad |= 128;
	peer_reply(&pr, "T05thread:p10.10;");
	/* 5: 600 bytes with PacketSize 0x100: 'm' requests of at most 96 bytes */
	size_t total = 0;
	int requests = 0;
	while (total < 600) {
		if (!peer_packet(&pr, "m")) { bad |= 256; break; }
		uint64_t addr, len;
		const char *s = (const char *)pr.buf + 1;
		size_t n = pr.p.len - 1;
		size_t k = rsp_parse_hex_u64(s, n, &addr);
		if (!k || k >= n || s[k] != ',' ||
		    rsp_parse_hex_u64(s + k + 1, n - k - 1, &len) != n - k - 1 || len > 96) {
			bad |= 512;
			break;
		}
		char hex[256];
		for (uint64_t i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", (unsigned)((addr + i) & 0xff));
		peer_reply(&pr, hex);
		total += len;
		requests++;
	}
	if (requests != 7) bad |= 1024;
	/* 6: no 'X' here (empty reply): the client falls back to 'M' */
	if (!peer_packet(&pr, "X2000,4:")) bad |= 8192;
	peer_reply(&pr, "");
	if (!peer_packet(&pr, "M2000,4:01237d2a") || pr.p.len != 16) bad |= 16384;
	peer_reply(&pr, "OK");
	if (!peer_packet(&pr, "M2004,1:ff")) bad |= 32768;   /* no second 'X' try */
	peer_reply(&pr, "OK");
	/* 7: a stub that lies: a 'g' reply far too short, a memory reply longer
	 * than asked, a stop reply that is not one; then console output */
	if (!peer_packet(&pr, "g")) bad |= 65536;
	peer_reply(&pr, "0011");
	if (!peer_packet(&pr, "m3000,4")) bad |= 0x20000;
	peer_reply(&pr, "00112233445566");
	if (!peer_packet(&pr, "vCont;c")) bad |= 0x40000;
	peer_reply(&pr, "O6869210a");      /* "hi!\n" to the client's output fd */
	peer_reply(&pr, "Q#bogus");
	if (!peer_packet(&pr, "vCont;C0b:p10.11;c")) bad |= 0x80000;
	peer_reply(&pr, "T0bthread:p10.11;");
	/* 8: detach with the pid */
	if (!peer_packet(&pr, "D;10")) bad |= 2048;
	peer_reply(&pr, "OK");
	if (pr.acks != acks_before) bad |= 4096;   /* no acks in no-ack mode */
	return bad;
}

static void test_fake_stub(void)
{
	char dir[] = "/tmp/ana_rspc_XXXXXX";
	if (!mkdtemp(dir)) { CHECK("fake: temp dir", 0); return; }
	char path[256], addr[300];
	snprintf(path, sizeof path, "%s/stub.sock", dir);
	snprintf(addr, sizeof addr, "unix:%s", path);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, path);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 1) != 0) {
		CHECK("fake: listen on a unix socket", 0);
		return;
	}
	pid_t child = fork();
	if (child < 0) { CHECK("fake: fork", 0); return; }
	if (child == 0) {
		alarm(20);
		int fd = accept(ls, NULL, NULL);
		if (fd < 0) _exit(100);
		int b = fake_stub(fd);
		if (b) fprintf(stderr, "fake stub: failed steps, mask %#x\n", b);
		_exit(b ? 1 : 0);
	}
	close(ls);
	char err[256];
	struct rspc *c = rspc_connect(addr, err, sizeof err);
	CHECK("fake: connect unix:PATH", c != NULL);
	if (!c) { printf("  %s\n", err); reap(child, 100); return; }
	struct rsp_stop st;
	int r = rspc_handshake(c, &st);
	CHECK("fake: handshake through nak, bad checksum and stray acks", r == 0 &&
	      st.has_thread && st.thread.pid == 0x10 && rspc_packet_size(c) == 0x100);
	if (r) printf("  %s\n", rspc_error(c));
	uint8_t buf[600];
	long n = rspc_read_mem(c, 0x1000, buf, sizeof buf);
	bool ok = n == 600;
	for (int i = 0; ok && i < 600; i++)
		if (buf[i] != (uint8_t)((0x1000 + i) & 0xff)) ok = false;
	CHECK("fake: 600 bytes in 96-byte 'm' requests", ok);
	CHECK("fake: write falls back from X to M", rspc_write_mem(c, 0x2000, "\x01\x23\x7d\x2a", 4) == 0 &&
	      rspc_write_mem(c, 0x2004, "\xff", 1) == 0);
	uint64_t regs[RSP_AMD64_NREGS];
	CHECK("fake: short 'g' reply is a clear error", rspc_read_regs(c, 0, regs) < 0 &&
	      strstr(rspc_error(c), "hex digits") != NULL);
	CHECK("fake: oversized memory reply is an error", rspc_read_mem(c, 0x3000, buf, 4) < 0 &&
	      strstr(rspc_error(c), "7 bytes for 4") != NULL);
	int pfd[2];
	bool piped = pipe(pfd) == 0;
	if (piped) rspc_set_output(c, pfd[1]);
	CHECK("fake: resume", rspc_resume(c, 0, 0) == 0);
	CHECK("fake: a stop reply that is not one is an error", rspc_wait_stop(c, &st, 10000) < 0);
	char text[16] = "";
	if (piped) {
		ssize_t k = read(pfd[0], text, sizeof text - 1);
		text[k > 0 ? k : 0] = 0;
		close(pfd[0]);
		close(pfd[1]);
	}
	CHECK("fake: console output reaches the output fd", !strcmp(text, "hi!\n"));
	rspc_set_output(c, -1);
	CHECK("fake: resume with a signal for a thread", rspc_resume(c, 0x11, 0x0b) == 0 &&
	      rspc_wait_stop(c, &st, 10000) == 1 && st.sig == 0x0b && st.thread.tid == 0x11);
	CHECK("fake: detach D;pid", rspc_detach(c) == 0);
	rspc_close(c);
	int ws = reap(child, 10000);
	CHECK("fake: the stub saw the expected exchange", ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	if (ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws)) printf("  fake stub status %d\n", WEXITSTATUS(ws));
	unlink(path);
	rmdir(dir);
}

/* ------------------------------------------------ replies without a copy */

/* rspc_request_view hands out the reply where it was received: a plain
 * packet straight from the read buffer (also the second of two that came in
 * one read), an escaped one from the parser's buffer; a large hex reply
 * comes through whole.  Replies are queued in the socket before the
 * request: the client sends, then reads them. */
static void test_request_view(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { CHECK("view: socketpair", 0); return; }
	char err[256];
	struct rspc *c = rspc_from_fd(sv[0], err, sizeof err);
	if (!c) { CHECK("view: rspc_from_fd", 0); close(sv[0]); close(sv[1]); return; }
	static uint8_t frame[40100];
	static char hex[60000];
	const uint8_t *r;
	/* two packets in one write: both taken by the fast path */
	size_t n1 = rsp_frame(frame, sizeof frame, (const uint8_t *)"0123abcd", 8, false);
	size_t n2 = rsp_frame(frame + n1, sizeof frame - n1, (const uint8_t *)"l", 1, false);
	bool wrote = write(sv[1], frame, n1 + n2) == (ssize_t)(n1 + n2);
	long n = rspc_request_view(c, "qTBuffer:0,10", &r);
	CHECK("view: plain reply", wrote && n == 8 && memcmp(r, "0123abcd", 8) == 0);
	n = rspc_request_view(c, "qTBuffer:4,10", &r);
	CHECK("view: second reply of the same read", n == 1 && r[0] == 'l');
	/* '}' escapes: through the parser */
	static const char esc[] = "$a}]b#00";   /* "a}b", checksum patched below */
	char e[16];
	memcpy(e, esc, sizeof esc);
	unsigned sum = 'a' + '}' + ']' + 'b';
	snprintf(e + 6, 3, "%02x", sum & 0xff);
	wrote = write(sv[1], e, 8) == 8;
	n = rspc_request_view(c, "qTBuffer:5,10", &r);
	CHECK("view: escaped reply decoded", wrote && n == 3 && memcmp(r, "a}b", 3) == 0);
	/* 20000 bytes of hex in one reply */
	for (size_t i = 0; i < 20000; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned)(i * 7 & 0xff));
	size_t nf = rsp_frame(frame, sizeof frame, (const uint8_t *)hex, 40000, false);
	wrote = nf > 0 && write(sv[1], frame, nf) == (ssize_t)nf;
	if (!wrote) { CHECK("view: 40000-character reply queued", 0); rspc_close(c); close(sv[1]); return; }
	n = rspc_request_view(c, "qTBuffer:8,4e20", &r);
	CHECK("view: 40000-character reply", wrote && n == 40000 && memcmp(r, hex, 40000) == 0);
	/* the same in three pieces, the last one the checksum's second digit:
	 * the client resumes its scan where the last piece ended */
	pid_t w = fork();
	if (w == 0) {
		size_t cut[] = { 0, 17000, nf - 1, nf };
		for (int i = 0; i < 3; i++) {
			usleep(30000);
			if (write(sv[1], frame + cut[i], cut[i + 1] - cut[i]) != (ssize_t)(cut[i + 1] - cut[i]))
				_exit(1);
		}
		_exit(0);
	}
	n = w > 0 ? rspc_request_view(c, "qTBuffer:8,4e20", &r) : -1;
	CHECK("view: reply in pieces", n == 40000 && memcmp(r, hex, 40000) == 0);
	CHECK("view: writer done", w > 0 && reap(w, 5000) == 0);
	rspc_close(c);
	close(sv[1]);
}

/* ------------------------------------------------ attach, stdio */

static void test_gdbserver_attach(void)
{
	pid_t victim = fork();
	if (victim < 0) { CHECK("attach: fork", 0); return; }
	if (victim == 0) {
		execlp("sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	char err[256];
	pid_t stub = 0;
	struct rspc *c = rspc_spawn("gdbserver", NULL, victim, &stub, err, sizeof err);
	CHECK("attach: gdbserver --once --attach - PID", c != NULL);
	if (!c) { printf("  %s\n", err); kill(victim, SIGKILL); reap(victim, 1000); return; }
	struct rsp_stop st;
	int r = rspc_handshake(c, &st);
	CHECK("attach: handshake, stopped thread is the process", r == 0 && st.kind == RSP_STOP_SIGNAL &&
	      st.has_thread && st.thread.tid == victim);
	if (r) printf("  %s\n", rspc_error(c));
	CHECK("attach: detach", rspc_detach(c) == 0);
	rspc_close(c);
	reap(stub, 10000);
	/* still alive and running: it dies of our SIGTERM, not of a stop */
	bool alive = kill(victim, 0) == 0;
	kill(victim, SIGTERM);
	int ws = reap(victim, 10000);
	CHECK("attach: process runs on after detach", alive && ws >= 0 && WIFSIGNALED(ws) &&
	      WTERMSIG(ws) == SIGTERM);
}

/* A stub that answers every '-' with another corrupt packet: the client
 * gives up with an error instead of asking forever (fuzz_rspc finding). */
static void test_corrupt_flood(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		CHECK("flood: socketpair", 0);
		return;
	}
	static const char bad[] = "$OK#00";
	bool wrote = true;
	for (int i = 0; i < 100; i++)
		if (write(sv[1], bad, sizeof bad - 1) != (ssize_t)(sizeof bad - 1)) wrote = false;
	char err[128];
	struct rspc *c = rspc_from_fd(sv[0], err, sizeof err);
	char reply[16];
	long n = c ? rspc_request(c, "qAttached", reply, sizeof reply) : 0;
	CHECK("flood: endless corrupt replies end in an error", wrote && c && n < 0 &&
	      strstr(rspc_error(c), "corrupt packets in a row") != NULL);
	rspc_close(c);
	close(sv[1]);
}

static void test_errors(void)
{
	char err[256];
	pid_t pid;
	char *argv[] = { "x", NULL };
	CHECK("errors: spawn of a missing stub", rspc_spawn("/nonexistent/stub", argv, 0, &pid, err,
							    sizeof err) == NULL &&
	      strstr(err, "No such file") != NULL);
	CHECK("errors: bad address", rspc_connect("nocolon", err, sizeof err) == NULL);
	CHECK("errors: missing unix socket", rspc_connect("unix:/nonexistent/s", err, sizeof err) == NULL);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const char *build = getenv("GOTAP_BUILD");
	if (!build || !*build) build = "/work/main/build";
	snprintf(target, sizeof target, "%s/targets/rspc_target", build);
	if (access(target, X_OK) != 0) {   /* build it: from GOTAP_ROOT, the cwd, or /work/main */
		const char *root = getenv("GOTAP_ROOT");
		const char *roots[] = { root && *root ? root : ".", "/work/main" };
		for (int i = 0; i < 2 && access(target, X_OK) != 0; i++) {
			char cmd[4200];
			snprintf(cmd, sizeof cmd, "GOTAP_BUILD='%s' '%s/tests/targets/build.sh' rspc_target >&2",
				 build, roots[i]);
			if (system(cmd) != 0)
				fprintf(stderr, "ana_rspc: %s failed\n", cmd);
		}
	}
	test_errors();
	test_corrupt_flood();
	test_fake_stub();
	test_request_view();
	struct syms sy;
	if (access(target, X_OK) != 0 || read_syms(target, &sy) != 0) {
		CHECK("target rspc_target built, with symbols", 0);
		return check_done();
	}
	if (system("command -v gdbserver >/dev/null 2>&1") != 0) {
		SKIP("gdbserver tests", "gdbserver not installed");
		return check_done();
	}
	test_gdbserver_spawn(&sy);
	test_gdbserver_tcp();
	test_gdbserver_attach();
	return check_done();
}
