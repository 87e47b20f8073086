/* session_wake.c — the client watcher thread (see session_wake.h).
 *
 * Why a thread and a signal: wait4 waits for children only, and there is no
 * pwait4 that would unblock a signal atomically with the wait (as ppoll
 * does), so something has to interrupt it.  The watcher poll()s the client
 * fd and an eventfd (ctl: re-armed, served, quit) and does nothing else: it
 * never reads the client and never calls ptrace or wait4 (ptrace requests
 * are the tracer thread's).  It is born with every signal blocked, so that
 * SIGTERM/SIGINT/SIGHUP, SIGPIPE and the wake-up itself always go to the
 * session's thread, and SIGCHLD stays blocked everywhere (pt_events.c).
 *
 * The race.  Client readable: the watcher sets gate.stop and, if
 * gate.waiting is set, sends WAKE_SIG to the tracer thread with tgkill (the
 * handler does nothing; installed without SA_RESTART, so wait4 returns
 * EINTR).  The backend publishes waiting before it checks stop and blocks
 * (both seq_cst): if it saw stop clear, the watcher sees waiting set and
 * signals.  Only a signal landing in the few instructions between that
 * check and the wait4 syscall is lost (the handler runs, wait4 then blocks):
 * so the watcher repeats the signal every RESEND_MS while stop is set and
 * the tracer is waiting, until the session reports the input served
 * (stub_wake_done: stop cleared, ctl written).  Normal latency: one signal;
 * worst case RESEND_MS.  A tracer busy with events is not signalled at all:
 * it sees stop before its next wait4.
 *
 * WAKE_SIG is SIGURG: ignored by default, so a stray one (or one sent to the
 * stub by anybody) harms nothing; the debugged program gets the default
 * back at exec (handlers do not survive it; its mask is reset: pt_process.c).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "session_wake.h"

#define WAKE_SIG SIGURG
#define RESEND_MS 1

struct stub_wake {
	struct tgt_wait_gate gate;  /* gate.stop: client readable and not served yet */
	atomic_int armed;           /* the session blocks in wait_event: watch the client */
	atomic_int quit;
	atomic_int dead;            /* the watcher could not go on: the session polls */
	int fd;                     /* the client's fd */
	int ctl;                    /* eventfd, session -> watcher */
	pid_t pid, tid;             /* the session's thread (the tracer) */
	pthread_t thread;
	bool started;               /* thread created (to be joined) */
	bool failed;                /* setting up failed: never again this session */
};

static void on_wake(int sig)
{
	(void)sig;   /* only there to make wait4 return EINTR */
}

static void ctl_drain(struct stub_wake *w)
{
	uint64_t v;
	if (read(w->ctl, &v, sizeof v) < 0 && errno != EAGAIN && errno != EINTR)
		perror("gotap-stub: wake eventfd read");
}

static void ctl_poke(struct stub_wake *w)
{
	uint64_t one = 1;
	if (write(w->ctl, &one, sizeof one) < 0 && errno != EAGAIN)   /* EAGAIN: already readable */
		perror("gotap-stub: wake eventfd write");
}

static void signal_tracer(struct stub_wake *w)
{
	if (syscall(SYS_tgkill, w->pid, w->tid, WAKE_SIG) < 0)
		perror("gotap-stub: tgkill");
}

/* The watcher gives up (poll failed): the session must not block in wait4
 * any more.  Make it look (stop), and from now on stub_wake_arm says no. */
static void die(struct stub_wake *w)
{
	perror("gotap-stub: client watcher: poll");
	atomic_store(&w->dead, 1);
	atomic_store(&w->gate.stop, 1);
	if (atomic_load(&w->gate.waiting)) signal_tracer(w);
}

static void *watch(void *arg)
{
	struct stub_wake *w = arg;
	while (!atomic_load(&w->quit)) {
		bool armed = atomic_load(&w->armed);
		struct pollfd pf[2] = { { .fd = w->ctl, .events = POLLIN },
					{ .fd = w->fd, .events = POLLIN } };
		if (poll(pf, armed ? 2 : 1, -1) < 0) {
			if (errno == EINTR) continue;
			die(w);
			return NULL;
		}
		if (pf[0].revents) {
			ctl_drain(w);
			continue;   /* re-read armed and quit */
		}
		if (!armed || !pf[1].revents || !atomic_load(&w->armed)) continue;
		atomic_store(&w->gate.stop, 1);
		while (atomic_load(&w->gate.stop) && !atomic_load(&w->quit)) {
			if (atomic_load(&w->gate.waiting)) signal_tracer(w);
			struct pollfd c = { .fd = w->ctl, .events = POLLIN };
			int r = poll(&c, 1, RESEND_MS);
			if (r > 0) ctl_drain(w);
			else if (r < 0 && errno != EINTR) {
				die(w);
				return NULL;
			}
		}
	}
	return NULL;
}

static int start(struct stub_wake *w)
{
	struct sigaction sa = { .sa_handler = on_wake };   /* no SA_RESTART: EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(WAKE_SIG, &sa, NULL) < 0) return -errno;
	w->ctl = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->ctl < 0) return -errno;
	w->pid = getpid();
	w->tid = (pid_t)syscall(SYS_gettid);
	/* Born with every signal blocked (see the top of the file). */
	sigset_t all, old;
	sigfillset(&all);
	int r = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (r != 0) return -r;
	r = pthread_create(&w->thread, NULL, watch, w);
	int r2 = pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) return -r;
	w->started = true;
	if (r2 != 0) return -r2;
	return 0;
}

struct tgt_wait_gate *stub_wake_arm(struct stub_wake **wp, int fd)
{
	struct stub_wake *w = *wp;
	if (!w) {
		w = calloc(1, sizeof *w);
		if (!w) return NULL;
		*wp = w;
		w->ctl = -1;
		w->fd = fd;
		int r = start(w);
		if (r < 0) {
			fprintf(stderr, "gotap-stub: client watcher: %s (waiting with poll)\n", strerror(-r));
			w->failed = true;
		}
	}
	if (w->failed || atomic_load(&w->dead) || w->fd != fd) return NULL;
	if (!atomic_load(&w->armed)) {
		atomic_store(&w->armed, 1);
		ctl_poke(w);   /* it may be parked on ctl alone */
	}
	return &w->gate;
}

void stub_wake_disarm(struct stub_wake *w)
{
	if (w) atomic_store(&w->armed, 0);
}

bool stub_wake_pending(const struct stub_wake *w)
{
	return w && !atomic_load(&w->dead) && atomic_load(&w->gate.stop);
}

void stub_wake_done(struct stub_wake *w)
{
	if (!w || atomic_load(&w->dead) || !atomic_load(&w->gate.stop)) return;
	atomic_store(&w->gate.stop, 0);
	ctl_poke(w);
}

void stub_wake_free(struct stub_wake **wp)
{
	struct stub_wake *w = *wp;
	if (!w) return;
	if (w->started) {
		atomic_store(&w->quit, 1);
		ctl_poke(w);
		int r = pthread_join(w->thread, NULL);
		if (r != 0) fprintf(stderr, "gotap-stub: client watcher: join: %s\n", strerror(r));
	}
	if (w->ctl >= 0 && close(w->ctl) != 0) perror("gotap-stub: close");
	free(w);
	*wp = NULL;
}
