// fuzz-sources: stub/[!m]*.c
// fuzz-libs: -lZydis
// fuzz-dummy: tests/fuzz/dummy_threads.c
/* fuzz_stub_dispatch.c — libFuzzer target for the stub's packet dispatcher
 * against a REAL traced process (issue 7, item 1).
 *
 * The first input launches a dummy through the ptrace backend (pt_ops): the
 * program GOTAP_FUZZ_DUMMY_BIN names (dummy_threads.c, which scripts/fuzz.sh
 * builds without sanitizers), else this same executable, re-run with
 * GOTAP_FUZZ_DUMMY=1, where a constructor turns it into the same small
 * 3-thread program (dummy_threads.h: a loop calling dummy_tick() and writing
 * a global) before libFuzzer's main is ever reached.  The dummy is kept for
 * every later input and launched again only when an input made it die.  It
 * survives most signals (faults go back to the thread's loop, others are
 * counted; SIGTERM/SIGQUIT/SIGABRT still kill it), since a relaunch (a fork
 * of this big process, ~20-40 ms) was most of the time per input: 1 input
 * in 15 relaunched before, 1 in 400 now; ~2x executions per second.
 *
 * Input: packets separated by '\n' (at most 64), each given to stub_dispatch()
 * the way session.c's on_packet() does; replies are discarded.  After a
 * packet that resumed the target (STUB_NO_REPLY) every thread is stopped
 * again and the events are drained, so the next packet sees a stopped
 * process, as in an all-stop session.  The backend is wrapped so that no
 * input can take the dummy away or leave state behind for the next input:
 *   kill/detach    no-ops (the session still forgets the process, as after k/D)
 *   launch/attach  refused (vRun, vAttach)
 *   insert_bp      recorded, and removed again at the end of the input
 *   pass signals   cleared at the end of the input
 * Each input gets a fresh session (stub_session_init/free), as a new client.
 * GOTAP_FUZZ_VERBOSE=1 prints every packet and its reply on stderr.
 *
 * Seed corpus: tests/fuzz/corpus/fuzz_stub_dispatch/, packets of real gdb
 * sessions (gotap-stub --debug logs of the stub_* scenarios) plus the
 * malformed classes of tests/integration/badinput_rsp.sh.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "handlers.h"
#include "say.h"
#include "session.h"
#include "target.h"
#include "transport.h"

#define MAX_PACKETS 64
#define MAX_BPS 256

/* ------------------------------------------------------------ the dummy */

#include "dummy_threads.h"

/* Runs before main in the re-executed copy; never returns there. */
__attribute__((constructor)) static void dummy_main(void)
{
	if (!getenv("GOTAP_FUZZ_DUMMY")) return;
	dummy_run();
}

/* ------------------------------------------------------------ wrapped backend */

static struct tgt_ops ops;        /* pt_ops with the wrappers below */
static struct tgt *T;
static struct bp { enum tgt_bp_kind k; uint64_t addr; unsigned len; } bps[MAX_BPS];
static int nbps;
static bool verbose;   /* GOTAP_FUZZ_VERBOSE=1: packets and replies on stderr */

static int w_launch(struct tgt *t, const struct tgt_launch_opts *o, pid_t *pid)
{
	(void)t; (void)o; (void)pid;
	return -EPERM;
}
static int w_attach(struct tgt *t, pid_t pid)
{
	(void)t; (void)pid;
	return -EPERM;
}
static int w_detach(struct tgt *t, int sig)
{
	(void)t; (void)sig;
	return 0;
}
static int w_kill(struct tgt *t)
{
	(void)t;
	return 0;
}
static int w_insert_bp(struct tgt *t, enum tgt_bp_kind k, uint64_t addr, unsigned len)
{
	if (nbps == MAX_BPS) return -ENOSPC;
	int r = pt_ops.insert_bp(t, k, addr, len);
	if (r == 0) bps[nbps++] = (struct bp){ k, addr, len };
	return r;
}
static int w_remove_bp(struct tgt *t, enum tgt_bp_kind k, uint64_t addr, unsigned len)
{
	int r = pt_ops.remove_bp(t, k, addr, len);
	if (r == 0)
		for (int i = nbps; i-- > 0;)
			if (bps[i].k == k && bps[i].addr == addr && bps[i].len == len) {
				bps[i] = bps[--nbps];
				break;
			}
	return r;
}

/* The transport: nothing to read, writes vanish (the replies are discarded). */
static ssize_t tr_read(struct stub_transport *t, void *b, size_t n)
{
	(void)t; (void)b; (void)n;
	return 0;
}
static int tr_write(struct stub_transport *t, const void *b, size_t n)
{
	(void)t; (void)b; (void)n;
	return 0;
}
static void tr_close(struct stub_transport *t) { (void)t; }

/* ------------------------------------------------------------ process */

static void launch_dummy(void)
{
	static char self[4096];
	ssize_t l = readlink("/proc/self/exe", self, sizeof self - 1);
	if (l <= 0) abort();
	self[l] = 0;
	static char *argv[2];
	const char *bin = getenv("GOTAP_FUZZ_DUMMY_BIN");   /* the plain build (fuzz.sh) */
	argv[0] = bin && *bin ? (char *)bin : self;
	extern char **environ;
	size_t n = 0;
	while (environ[n]) n++;
	char **envp = calloc(n + 2, sizeof *envp);
	if (!envp) abort();
	for (size_t i = 0; i < n; i++) envp[i] = environ[i];
	envp[n] = "GOTAP_FUZZ_DUMMY=1";
	struct tgt_launch_opts lo = { .argv = argv, .envp = envp, .disable_aslr = true };
	pid_t pid;
	int r = pt_ops.launch(T, &lo, &pid);
	free(envp);
	if (r < 0) {
		fprintf(stderr, "fuzz_stub_dispatch: launching the dummy: %s\n", strerror(-r));
		abort();
	}
	/* Run it into its loop (past the dynamic loader and the constructor's
	 * thread creation: all 3 threads exist), then stop it: inputs start
	 * from a running program's stop, the common case. */
	static unsigned launches;
	launches++;
	struct tgt_thread_info ti[4];
	int tries;
	for (tries = 0; tries < 10; tries++) {   /* ~100 ms at most: then go on with what exists */
		if (pt_ops.resume(T, -1, TGT_RESUME_CONT, 0) < 0) abort();
		/* collect events while it runs, as the session's loop does (see
		 * harden.md: a clone seen first by stop_all() left the parent
		 * stopped), until its 3 threads exist or 10 ms have passed */
		struct tgt_event ev;
		for (int ms = 0; ms < 10 && pt_ops.list_threads(T, ti, 4) < 3; ms++)
			if (pt_ops.next_event(T, &ev, 1) == 1 &&
			    (ev.kind == TGT_EV_EXITED || ev.kind == TGT_EV_KILLED))
				abort();
		if (pt_ops.stop_all(T) < 0) abort();
		while (pt_ops.next_event(T, &ev, 0) == 1)
			if (ev.kind == TGT_EV_EXITED || ev.kind == TGT_EV_KILLED) abort();
		if (pt_ops.list_threads(T, ti, 4) >= 3) break;
	}
	if (verbose) {
		char cmd[96];
		snprintf(cmd, sizeof cmd, "ls /proc/%d/task | wc -l >&2", (int)pid);
		fprintf(stderr, "fuzz_stub_dispatch: dummy %d launched (#%u, %d threads known after %d tries; in /proc:)\n",
			(int)pid, launches, pt_ops.list_threads(T, ti, 4), tries);
		if (system(cmd) != 0) fprintf(stderr, "(no task count)\n");
	}
}

static void init_once(void)
{
	if (T) return;
	stub_quiet = true;
	verbose = getenv("GOTAP_FUZZ_VERBOSE") != NULL;
	/* The backend reads SIGCHLD through a signalfd: keep it blocked in
	 * every thread (libFuzzer's own threads are created after this). */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	ops = pt_ops;
	ops.launch = w_launch;
	ops.attach = w_attach;
	ops.detach = w_detach;
	ops.kill = w_kill;
	ops.insert_bp = w_insert_bp;
	ops.remove_bp = w_remove_bp;
	T = pt_ops.create();
	if (!T) abort();
	launch_dummy();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	init_once();
	return 0;
}

/* After a resume: stop everything again and drain the events.  Returns
 * false when the process ended. */
static bool settle(struct stub_session *s)
{
	if (pt_ops.pid(T) == 0) return false;
	int r = pt_ops.stop_all(T);
	struct tgt_event ev;
	while (pt_ops.next_event(T, &ev, 0) == 1)
		if (ev.kind == TGT_EV_EXITED || ev.kind == TGT_EV_KILLED) return false;
	if (r < 0 && pt_ops.pid(T) == 0) return false;
	s->state = STUB_STOPPED;
	s->npending = 0;
	return pt_ops.pid(T) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	if (pt_ops.pid(T) == 0) launch_dummy();
	static const struct stub_config cfg = { .disable_aslr = true };
	struct stub_transport tr = { -1, -1, tr_read, tr_write, tr_close, NULL };
	struct stub_session s;
	if (stub_session_init(&s, &cfg, &ops, T, &tr, pt_ops.pid(T)) < 0) abort();
	bool alive = true;
	size_t off = 0;
	for (int k = 0; k < MAX_PACKETS && off < size && alive; k++) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
		if (len <= RSP_PACKET_SIZE) {
			/* the packet lives in the receive buffer, as in on_packet() */
			memcpy(s.rx, data + off, len);
			struct stub_out o = { .buf = s.reply, .cap = STUB_REPLY_CAP };
			int r = stub_dispatch(&s, (const char *)s.rx, len, &o);
			if (o.len > o.cap) abort();   /* a handler wrote past its reply */
			if (verbose)
				fprintf(stderr, "<- %.*s\n-> %.*s%s\n", (int)(len < 200 ? len : 200),
					(const char *)s.rx, (int)(o.len < 200 ? o.len : 200), o.buf,
					r == STUB_NO_REPLY ? "(resumed)" : "");
			if (r == STUB_NO_REPLY || s.state == STUB_RUNNING) alive = settle(&s);
			else alive = pt_ops.pid(T) != 0;
		}
		off += len + (nl ? 1 : 0);
	}
	/* Leave the dummy as we found it: no breakpoint, no passed signal. */
	if (pt_ops.pid(T) != 0) {
		while (nbps > 0) {
			struct bp b = bps[nbps - 1];
			/* -ENOENT after an exec took the image (and its breakpoints) */
			(void)pt_ops.remove_bp(T, b.k, b.addr, b.len);
			nbps--;
		}
		bool none[65] = { false };
		pt_ops.set_pass_signals(T, none);
	} else {
		nbps = 0;
	}
	stub_session_free(&s);
	return 0;
}
