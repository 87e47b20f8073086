/* stub_pt_wake.c — the blocking wait (pt_ops.wait_event) and the client
 * watcher that interrupts it (stub/session_wake.c).
 *
 * Scenarios: a program that never makes an event (pt_prog spin): every
 * byte a "client" writes on a socketpair, at random moments around the
 * wait4 call (before it, in the window between the gate check and the
 * syscall, during it), ends wait_event with -EINTR -- none is missed
 * (a missed one would block here for good: the test would time out).
 * Four threads hitting a breakpoint 800 times while bytes arrive at random
 * and the waits alternate between wait_event and next_event (the poll()
 * path, whose signalfd the blocking path never drains): every hit comes
 * out, nothing else, then the exit.  Without threads running wait_event
 * returns 0 at once.  The watcher's thread is joined, its eventfd closed.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "../lib/check.h"
#include "session_wake.h"
#include "stub_pt_util.h"

static const struct tgt_ops *ops = &pt_ops;
static const char *prog;

/* ------------------------------------------------------------ the "client" */

static int sv[2];                 /* sv[0]: the stub's end, sv[1]: the client's */
static atomic_int writer_go;      /* rounds requested */
static atomic_int writer_quit;
static unsigned seed = 12345;

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) != 0) {}
}

/* Writes one byte per round requested, after 0-300 µs (0 in a quarter of
 * the rounds: the byte is there before the wait starts). */
static void *writer(void *arg)
{
	(void)arg;
	unsigned s = seed;
	int done = 0;
	while (!atomic_load(&writer_quit)) {
		if (atomic_load(&writer_go) == done) {
			sleep_us(20);
			continue;
		}
		s = s * 1103515245u + 12345u;
		unsigned r = (s >> 16) % 400;
		if (r >= 100) sleep_us(r - 100);
		if (write(sv[1], "x", 1) != 1) break;
		done++;
	}
	return (void *)(intptr_t)done;
}

static long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The session's side of one byte: read it, tell the watcher. */
static bool take_byte(struct stub_wake *w)
{
	char c;
	ssize_t n = recv(sv[0], &c, 1, MSG_DONTWAIT);
	stub_wake_done(w);
	return n == 1;
}

static struct tgt *launch(pid_t *pid, char *a1, char *a2, char *a3)
{
	char *args[] = { a1, a2, a3, NULL };
	return ptu_launch(prog, args, NULL, pid, NULL);
}

/* ------------------------------------------------------------ scenarios */

static void test_interrupt(void)
{
	pid_t pid;
	struct tgt *t = launch(&pid, "spin", NULL, NULL);
	CHECK("spin: launch", t != NULL);
	if (!t) return;
	struct stub_wake *w = NULL;
	struct tgt_wait_gate *g = stub_wake_arm(&w, sv[0]);
	CHECK("spin: watcher armed", g != NULL);
	struct tgt_event ev;
	CHECK("spin: nothing resumed: wait_event returns 0 at once", g && ops->wait_event(t, &ev, g) == 0);
	CHECK("spin: resume", ops->resume(t, -1, TGT_RESUME_CONT, 0) == 0);
	pthread_t wt;
	CHECK("spin: writer thread", pthread_create(&wt, NULL, writer, NULL) == 0);
	int rounds = 400, eintr = 0, bytes = 0, other = 0;
	long worst = 0;
	for (int i = 0; g && i < rounds; i++) {
		atomic_fetch_add(&writer_go, 1);
		long t0 = now_us();
		int r = ops->wait_event(t, &ev, g);
		long dt = now_us() - t0;
		if (dt > worst) worst = dt;
		if (r == -EINTR) eintr++;
		else other++;
		/* the byte may still be on its way if a stray signal ended the
		 * wait: wait until the watcher saw it */
		while (!stub_wake_pending(w)) sleep_us(10);
		if (take_byte(w)) bytes++;
	}
	printf("# spin: worst wait until interrupted: %ld us\n", worst);
	CHECK("spin: every byte ended the wait with -EINTR", eintr == rounds && other == 0);
	CHECK("spin: every byte read", bytes == rounds);
	atomic_store(&writer_quit, 1);
	pthread_join(wt, NULL);
	stub_wake_free(&w);
	CHECK("spin: watcher freed", w == NULL);
	CHECK("spin: kill", ops->kill(t) == 0);
	CHECK("spin: no zombie", !ptu_proc_exists(pid));
	ops->destroy(t);
}

static void test_mixed(void)
{
	pid_t pid;
	struct tgt *t = launch(&pid, "threads", "4", "200");
	CHECK("mixed: launch", t != NULL);
	if (!t) return;
	uint64_t hit = ptu_sym(pid, prog, "pt_hit");
	CHECK("mixed: breakpoint", hit && ops->insert_bp(t, TGT_BP_SW, hit, 1) == 0);
	struct stub_wake *w = NULL;
	struct tgt_wait_gate *g = stub_wake_arm(&w, sv[0]);
	atomic_store(&writer_quit, 0);
	atomic_store(&writer_go, 0);
	pthread_t wt;
	CHECK("mixed: writer thread", pthread_create(&wt, NULL, writer, NULL) == 0);
	CHECK("mixed: resume", ops->resume(t, -1, TGT_RESUME_CONT, 0) == 0);
	int hits = 0, bad = 0, intr = 0, turns = 0, exitcode = -1, asked = 0, got = 0;
	bool over = false;
	while (g && !over && turns < 100000) {
		turns++;
		if (turns % 16 == 0 && asked < 200) {
			atomic_fetch_add(&writer_go, 1);
			asked++;
		}
		if (stub_wake_pending(w) && take_byte(w)) got++;
		struct tgt_event ev;
		int r = turns % 3 == 0 ? ops->next_event(t, &ev, 2000) : ops->wait_event(t, &ev, g);
		if (r == -EINTR) {
			intr++;
			continue;
		}
		if (r != 1) {
			printf("# mixed: wait returned %d\n", r);
			bad++;
			break;
		}
		switch (ev.kind) {
		case TGT_EV_THREAD_CREATED:
		case TGT_EV_THREAD_EXITED:
			break;
		case TGT_EV_EXITED:
			exitcode = ev.status;
			over = true;
			break;
		case TGT_EV_STOPPED:
			if (ev.reason == TGT_REASON_SWBREAK && ev.addr == hit) {
				hits++;
				if (ops->resume(t, ev.tid, TGT_RESUME_CONT, 0) < 0) bad++;
				break;
			}
			/* fall through */
		default:
			printf("# mixed: unexpected event kind %d reason %d sig %d\n", ev.kind, ev.reason, ev.sig);
			bad++;
			over = true;
		}
	}
	atomic_store(&writer_quit, 1);
	void *sent = NULL;
	pthread_join(wt, &sent);
	while (take_byte(w)) got++;
	printf("# mixed: %d hits, %d interrupted waits, %d bytes sent\n", hits, intr, (int)(intptr_t)sent);
	CHECK("mixed: every hit reported once, nothing else", hits == 800 && bad == 0);
	CHECK("mixed: exit 0 reported (the program counted 800)", over && exitcode == 0);
	CHECK("mixed: every client byte read", got == (int)(intptr_t)sent);
	stub_wake_free(&w);
	ops->destroy(t);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	prog = ptu_target_abs("pt_prog");
	if (!prog) return 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		printf("FAIL: socketpair\n");
		return 1;
	}
	test_interrupt();
	test_mixed();
	close(sv[0]);
	close(sv[1]);
	return check_done();
}
