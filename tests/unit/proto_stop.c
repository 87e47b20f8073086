/* proto_stop.c — unit tests of stop replies (encode as gdbserver does, decode
 * what gdbserver sends) and of the Linux <-> GDB signal numbering. */
#include <signal.h>
#include <string.h>

#include "../lib/check.h"
#include "rsp.h"

static bool enc_is(const struct rsp_stop *st, bool mp, const char *want)
{
	char out[256];
	size_t n = rsp_stop_encode(out, sizeof out, st, mp);
	if (n != strlen(want) || memcmp(out, want, n) != 0) {
		printf("  got: %.*s\n  want: %s\n", (int)n, out, want);
		return false;
	}
	return true;
}

static void test_encode(void)
{
	struct rsp_stop st = { 0 };
	st.kind = RSP_STOP_SIGNAL;
	st.sig = 5;
	st.has_thread = true;
	st.thread = (struct rsp_ptid){ 0x1a2b, 0x1a2b, true };
	st.reason = RSP_REASON_SWBREAK;
	st.core = -1;
	st.nregs = 3;
	st.regs[0].regno = RSP_AMD64_RBP; st.regs[0].value = 0x7fffffffe690;
	st.regs[1].regno = RSP_AMD64_RSP; st.regs[1].value = 0x7fffffffe3d8;
	st.regs[2].regno = RSP_AMD64_RIP; st.regs[2].value = 0x7ffff7fcc060;
	/* as captured from gdbserver 13 */
	CHECK("stop encode: T05 swbreak, expedited, thread (gdbserver order)",
	      enc_is(&st, true, "T05swbreak:;06:90e6ffffff7f0000;07:d8e3ffffff7f0000;"
			       "10:60c0fcf7ff7f0000;thread:p1a2b.1a2b;"));
	st.core = 3;
	CHECK("stop encode: core", enc_is(&st, true, "T05swbreak:;06:90e6ffffff7f0000;"
		"07:d8e3ffffff7f0000;10:60c0fcf7ff7f0000;thread:p1a2b.1a2b;core:3;"));
	st.core = -1;
	st.nregs = 0;
	st.reason = RSP_REASON_NONE;
	CHECK("stop encode: no multiprocess", enc_is(&st, false, "T05thread:1a2b;"));
	st.reason = RSP_REASON_WATCH;
	st.reason_addr = 0x4c6010;
	CHECK("stop encode: watch", enc_is(&st, true, "T05watch:4c6010;thread:p1a2b.1a2b;"));
	st.reason = RSP_REASON_HWBREAK;
	st.sig = 0x11;
	CHECK("stop encode: hwbreak, 2-digit signal", enc_is(&st, true, "T11hwbreak:;thread:p1a2b.1a2b;"));
	st.reason = RSP_REASON_FORK;
	st.reason_addr = 0x1a30;
	st.sig = 5;
	CHECK("stop encode: fork", enc_is(&st, true, "T05fork:p1a30.1a30;thread:p1a2b.1a2b;"));
	st.reason = RSP_REASON_CLONE;
	st.reason_addr = 0x1a31;
	CHECK("stop encode: clone", enc_is(&st, true, "T05clone:p1a2b.1a31;thread:p1a2b.1a2b;"));

	struct rsp_stop w = { 0 };
	w.kind = RSP_STOP_EXITED;
	w.exit_code = 3;
	w.process = 0x1527;
	CHECK("stop encode: W multiprocess (as gdbserver: no padding)", enc_is(&w, true, "W3;process:1527"));
	CHECK("stop encode: W plain", enc_is(&w, false, "W03"));
	w.exit_code = 0;
	CHECK("stop encode: W00", enc_is(&w, false, "W00"));
	w.kind = RSP_STOP_TERMINATED;
	w.sig = 9;
	CHECK("stop encode: X multiprocess", enc_is(&w, true, "X9;process:1527"));
	CHECK("stop encode: X plain", enc_is(&w, false, "X09"));
	w.kind = RSP_STOP_THREAD_EXIT;
	w.exit_code = 0;
	w.thread = (struct rsp_ptid){ 0x1a2b, 0x1a2c, true };
	CHECK("stop encode: w", enc_is(&w, true, "w0;p1a2b.1a2c"));
	w.kind = RSP_STOP_NO_RESUMED;
	CHECK("stop encode: N", enc_is(&w, true, "N"));

	char small[8];
	st.reason = RSP_REASON_NONE;
	CHECK("stop encode: too small", rsp_stop_encode(small, sizeof small, &st, true) == 0);
}

static void test_decode(void)
{
	struct rsp_stop st;
	const char *t = "T05swbreak:;06:90e6ffffff7f0000;07:d8e3ffffff7f0000;"
			"10:60c0fcf7ff7f0000;thread:p1527.1528;core:1;";
	CHECK("stop decode: gdbserver T05", rsp_stop_decode(t, strlen(t), &st) == 0 &&
	      st.kind == RSP_STOP_SIGNAL && st.sig == 5 && st.reason == RSP_REASON_SWBREAK &&
	      st.has_thread && st.thread.pid == 0x1527 && st.thread.tid == 0x1528 &&
	      st.core == 1 && st.nregs == 3 && st.regs[2].regno == 16 &&
	      st.regs[2].value == 0x7ffff7fcc060 && st.regs[0].value == 0x7fffffffe690);
	t = "T0506:0000000000000000;07:90e7ffffff7f0000;10:704bfef7ff7f0000;thread:p1527.1527;core:0;";
	CHECK("stop decode: no reason", rsp_stop_decode(t, strlen(t), &st) == 0 &&
	      st.reason == RSP_REASON_NONE && st.core == 0 && st.nregs == 3);
	t = "T05thread:p1a2b.1a2b;06:0100000000000000;swbreak:;";
	CHECK("stop decode: any order", rsp_stop_decode(t, strlen(t), &st) == 0 &&
	      st.reason == RSP_REASON_SWBREAK && st.nregs == 1 && st.regs[0].value == 1);
	t = "T05thread:1a2b;unknownfield:zzz;replaylog:;core:2";
	CHECK("stop decode: unknown ignored, last ';' optional", rsp_stop_decode(t, strlen(t), &st) == 0 &&
	      !st.thread.has_pid && st.thread.tid == 0x1a2b && st.core == 2);
	t = "T05watch:4c6010;thread:p1.1;";
	CHECK("stop decode: watch", rsp_stop_decode(t, strlen(t), &st) == 0 &&
	      st.reason == RSP_REASON_WATCH && st.reason_addr == 0x4c6010);
	t = "T05awatch:10;";
	CHECK("stop decode: awatch", rsp_stop_decode(t, strlen(t), &st) == 0 && st.reason == RSP_REASON_AWATCH);
	t = "T05rwatch:10;";
	CHECK("stop decode: rwatch", rsp_stop_decode(t, strlen(t), &st) == 0 && st.reason == RSP_REASON_RWATCH);
	t = "T05fork:p20.20;thread:p1.1;";
	CHECK("stop decode: fork", rsp_stop_decode(t, strlen(t), &st) == 0 &&
	      st.reason == RSP_REASON_FORK && st.reason_addr == 0x20);
	t = "T05clone:p1.21;";
	CHECK("stop decode: clone", rsp_stop_decode(t, strlen(t), &st) == 0 &&
	      st.reason == RSP_REASON_CLONE && st.reason_addr == 0x21);
	t = "T05create:;";
	CHECK("stop decode: create", rsp_stop_decode(t, strlen(t), &st) == 0 && st.reason == RSP_REASON_CREATE);
	t = "T05library:;";
	CHECK("stop decode: library", rsp_stop_decode(t, strlen(t), &st) == 0 && st.reason == RSP_REASON_LIBRARY);
	t = "T0511:00112233445566778899aabbccddeeff;";
	CHECK("stop decode: 16-byte register keeps low 8", rsp_stop_decode(t, strlen(t), &st) == 0 &&
	      st.nregs == 1 && st.regs[0].regno == 0x11 && st.regs[0].value == 0x7766554433221100);
	t = "T0500:01;01:01;02:01;03:01;04:01;05:01;06:01;07:01;08:01;09:01;";
	CHECK("stop decode: more than MAX_REGS kept bounded", rsp_stop_decode(t, strlen(t), &st) == 0 &&
	      st.nregs == RSP_STOP_MAX_REGS);
	CHECK("stop decode: S05", rsp_stop_decode("S05", 3, &st) == 0 && st.sig == 5 && !st.has_thread);
	CHECK("stop decode: W00", rsp_stop_decode("W00", 3, &st) == 0 && st.kind == RSP_STOP_EXITED &&
	      st.exit_code == 0 && st.process == 0);
	CHECK("stop decode: W3;process:1527", rsp_stop_decode("W3;process:1527", 15, &st) == 0 &&
	      st.exit_code == 3 && st.process == 0x1527);
	CHECK("stop decode: X09", rsp_stop_decode("X09", 3, &st) == 0 && st.kind == RSP_STOP_TERMINATED &&
	      st.sig == 9);
	CHECK("stop decode: w", rsp_stop_decode("w0;p1.2", 7, &st) == 0 && st.kind == RSP_STOP_THREAD_EXIT &&
	      st.thread.tid == 2);
	CHECK("stop decode: N", rsp_stop_decode("N", 1, &st) == 0 && st.kind == RSP_STOP_NO_RESUMED);
	CHECK("stop decode: O", rsp_stop_decode("O6869", 5, &st) == 0 && st.kind == RSP_STOP_OUTPUT);

	static const char *bad[] = {
		"", "T", "T5", "T0g", "Tzz", "T05thread", "T05thread:;", "T05thread:pzz;",
		"T05core:zz;", "T0506:123;", "T0506:zz;", "T05watch:;", "S05x", "W", "Wzz",
		"W100", "W00;proc:1", "W00;process:", "W00;process:zz", "w0", "w0;", "w0p1.1",
		"Nx", "O123", "Ozz", "E01", "OK", "T05fork:;",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[80];
		snprintf(name, sizeof name, "stop decode: malformed \"%s\"", bad[i]);
		st.sig = 1234;
		CHECK(name, rsp_stop_decode(bad[i], strlen(bad[i]), &st) == -1 && st.sig == 1234);
	}

	/* encode -> decode round trip */
	struct rsp_stop a = { 0 }, b;
	char out[256];
	a.kind = RSP_STOP_SIGNAL; a.sig = 0x1e; a.core = 7; a.has_thread = true;
	a.thread = (struct rsp_ptid){ 10, 11, true };
	a.reason = RSP_REASON_WATCH; a.reason_addr = 0xdeadbeef;
	a.nregs = 2; a.regs[0].regno = 6; a.regs[0].value = UINT64_MAX;
	a.regs[1].regno = 16; a.regs[1].value = 0x401000;
	size_t n = rsp_stop_encode(out, sizeof out, &a, true);
	CHECK("stop: round trip", n > 0 && rsp_stop_decode(out, n, &b) == 0 && b.sig == a.sig &&
	      b.core == 7 && b.thread.pid == 10 && b.thread.tid == 11 && b.reason == a.reason &&
	      b.reason_addr == a.reason_addr && b.nregs == 2 && b.regs[0].value == UINT64_MAX &&
	      b.regs[1].regno == 16 && b.regs[1].value == 0x401000);
}

static void test_signals(void)
{
	CHECK("sig: SIGTRAP 5 <-> 5", rsp_sig_from_host(SIGTRAP) == 5 && rsp_sig_to_host(5) == SIGTRAP);
	CHECK("sig: SIGINT 2", rsp_sig_from_host(SIGINT) == 2);
	CHECK("sig: SIGSEGV 11", rsp_sig_from_host(SIGSEGV) == 11 && rsp_sig_to_host(11) == SIGSEGV);
	CHECK("sig: SIGBUS 7 -> 10", rsp_sig_from_host(SIGBUS) == 10 && rsp_sig_to_host(10) == SIGBUS);
	CHECK("sig: SIGUSR1 10 -> 30", rsp_sig_from_host(SIGUSR1) == 30 && rsp_sig_to_host(30) == SIGUSR1);
	CHECK("sig: SIGUSR2 12 -> 31", rsp_sig_from_host(SIGUSR2) == 31 && rsp_sig_to_host(31) == SIGUSR2);
	CHECK("sig: SIGURG 23 -> 16", rsp_sig_from_host(SIGURG) == 16 && rsp_sig_to_host(16) == SIGURG);
	CHECK("sig: SIGCHLD 17 -> 20", rsp_sig_from_host(SIGCHLD) == 20 && rsp_sig_to_host(20) == SIGCHLD);
	CHECK("sig: SIGSTOP 19 -> 17", rsp_sig_from_host(SIGSTOP) == 17 && rsp_sig_to_host(17) == SIGSTOP);
	CHECK("sig: SIGCONT 18 -> 19", rsp_sig_from_host(SIGCONT) == 19);
	CHECK("sig: SIGTSTP 20 -> 18", rsp_sig_from_host(SIGTSTP) == 18);
	CHECK("sig: SIGIO 29 -> 23", rsp_sig_from_host(SIGIO) == 23 && rsp_sig_to_host(23) == SIGIO);
	CHECK("sig: GDB SIGPOLL 33 -> 29", rsp_sig_to_host(33) == SIGPOLL);
	CHECK("sig: SIGPWR 30 -> 32", rsp_sig_from_host(SIGPWR) == 32 && rsp_sig_to_host(32) == SIGPWR);
	CHECK("sig: SIGSYS 31 -> 12", rsp_sig_from_host(SIGSYS) == 12 && rsp_sig_to_host(12) == SIGSYS);
	CHECK("sig: SIGWINCH 28", rsp_sig_from_host(SIGWINCH) == 28);
	CHECK("sig: SIGPROF 27", rsp_sig_from_host(SIGPROF) == 27);
	CHECK("sig: SIGSTKFLT unknown", rsp_sig_from_host(16) == 143);
	CHECK("sig: SIG32 -> 77", rsp_sig_from_host(32) == 77 && rsp_sig_to_host(77) == 32);
	CHECK("sig: SIGRTMIN 34 -> 46", rsp_sig_from_host(34) == 46 && rsp_sig_to_host(46) == 34);
	CHECK("sig: 63 -> 75", rsp_sig_from_host(63) == 75 && rsp_sig_to_host(75) == 63);
	CHECK("sig: 64 -> 78", rsp_sig_from_host(64) == 78 && rsp_sig_to_host(78) == 64);
	CHECK("sig: GDB SIGEMT has no Linux number", rsp_sig_to_host(7) == -1);
	CHECK("sig: GDB SIGINFO none", rsp_sig_to_host(142) == -1);
	CHECK("sig: GDB UNKNOWN none", rsp_sig_to_host(143) == -1);
	CHECK("sig: out of range", rsp_sig_from_host(65) == 143 && rsp_sig_from_host(-1) == 143 &&
	      rsp_sig_to_host(-5) == -1 && rsp_sig_to_host(1000) == -1);
	bool rt = true;
	for (int h = 1; h <= 64; h++) {
		if (h == 16) continue;
		if (rsp_sig_to_host(rsp_sig_from_host(h)) != h) rt = false;
	}
	CHECK("sig: every Linux signal round-trips", rt);
}

int main(void)
{
	test_encode();
	test_decode();
	test_signals();
	return check_done();
}
