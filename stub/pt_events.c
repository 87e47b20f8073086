/* pt_events.c — the event queue's consumer side and poll() readiness.
 *
 * SIGCHLD is blocked in the calling thread and read through a signalfd; an
 * eventfd is kept readable while the queue holds an event; event_fd() is an
 * epoll fd over both.  Blocking SIGCHLD in create() (before the session
 * starts its client watcher thread, which inherits the mask: session_wake.c)
 * covers the whole process: a program the stub starts gets an empty mask
 * back (pt_process.c).
 *
 * Two ways to wait, freely mixed: pt_next_event() (poll()-driven: the
 * session polls event_fd() with its client) and pt_wait_event() (the hot
 * path, issue 6: block in wait4 itself, one syscall per status).  The
 * signalfd is level-triggered on SIGCHLD and only pt_next_event() (and
 * pt_vfork_hold) drain it, each time followed by wait4 until "none"; the
 * blocking path never drains, so the SIGCHLDs of the statuses it took stay
 * pending (event_fd() reads as "maybe": the next pt_next_event() drains and
 * finds nothing) and no status is ever left without a pending SIGCHLD.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pt_int.h"

/* Pop the first event.  A breakpoint hit whose breakpoint was removed since
 * is dropped (the thread, pc rewound, simply executes the original instruction
 * when resumed). */
bool pt_queue_pop(struct tgt *t, struct tgt_event *ev)
{
	while (t->qn > 0) {
		*ev = t->q[0];
		pt_queue_remove(t, 0);
		if (ev->kind != TGT_EV_STOPPED && ev->kind != TGT_EV_EXEC) return true;
		struct pt_thread *th = pt_thread_find(t, ev->tid);
		if (!th) continue;
		th->pending = false;
		if (ev->kind == TGT_EV_STOPPED && ev->reason == TGT_REASON_SWBREAK &&
		    !pt_bp_find(t, ev->addr)) {
			th->at_bp = false;
			if (th->running && th->kstopped && !t->hold) pt_restart(t, th);
			continue;
		}
		th->running = false;
		t->last_tid = th->tid;
		return true;
	}
	return false;
}

int pt_events_init(struct tgt *t)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	/* Auto-reaping (SIGCHLD ignored) would steal our children's statuses. */
	struct sigaction sa;
	if (sigaction(SIGCHLD, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
		sa.sa_handler = SIG_DFL;
		if (sigaction(SIGCHLD, &sa, NULL) < 0) return -errno;
	}
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return -errno;
	t->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (t->sigfd < 0) return -errno;
	t->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->evfd < 0) return -errno;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0) return -errno;
	struct epoll_event e = { .events = EPOLLIN };
	e.data.fd = t->sigfd;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->sigfd, &e) < 0) return -errno;
	e.data.fd = t->evfd;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->evfd, &e) < 0) return -errno;
	return 0;
}

void pt_events_fini(struct tgt *t)
{
	if (t->epfd >= 0) close(t->epfd);
	if (t->evfd >= 0) close(t->evfd);
	if (t->sigfd >= 0) close(t->sigfd);
	t->epfd = t->evfd = t->sigfd = -1;
}

void pt_evfd_update(struct tgt *t)
{
	if (t->evfd < 0) return;
	bool want = t->qn > 0;
	if (want == t->ev_signaled) return;
	uint64_t v = 1;
	ssize_t n = want ? write(t->evfd, &v, sizeof v) : read(t->evfd, &v, sizeof v);
	if (n == (ssize_t)sizeof v || (!want && n < 0 && errno == EAGAIN)) t->ev_signaled = want;
}

void pt_drain_sigfd(struct tgt *t)
{
	/* SIGCHLD is not a real-time signal: at most one is pending, so a read
	 * that returns less than the buffer took everything (no EAGAIN read). */
	struct signalfd_siginfo si[8];
	ssize_t n;
	do n = read(t->sigfd, si, sizeof si);
	while (n == (ssize_t)sizeof si || (n < 0 && errno == EINTR));
}

static bool anyone_running(struct tgt *t)
{
	for (int i = 0; i < t->nth; i++)
		if (t->th[i]->running || !t->th[i]->kstopped) return true;
	return false;
}

long pt_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pt_next_event(struct tgt *t, struct tgt_event *ev, int timeout_ms)
{
	long deadline = timeout_ms > 0 ? pt_now_ms() + timeout_ms : 0;
	for (;;) {
		int r = 0;
		/* The event fd is level-triggered on the signalfd: every status not
		 * collected yet must have a SIGCHLD pending that arrived after the
		 * last drain.  So a drain is always followed by waiting until
		 * wait4 says "none" (r == 0) before we say "nothing".  Hot path
		 * (issue 6): try one wait4 first without draining; if it makes
		 * an event, hand it out and leave the SIGCHLD pending (the fd stays
		 * readable, the next call drains): 1 syscall instead of 3-4. */
		bool confirmed = true;
		if (t->pid && !t->exited) {
			if (t->qn == 0) {
				r = pt_wait_one(t, -1, false);
				if (r > 0 && t->qn > 0) confirmed = false;
			}
			if (confirmed && r >= 0) {
				pt_drain_sigfd(t);
				while ((r = pt_wait_one(t, -1, false)) > 0) {}
			}
		}
		if (pt_queue_pop(t, ev)) {
			if (ev->kind == TGT_EV_EXITED || ev->kind == TGT_EV_KILLED) pt_forget(t);
			pt_evfd_update(t);
			return 1;
		}
		if (!confirmed) continue;   /* its event was dropped: drain and wait properly */
		pt_evfd_update(t);
		if (!t->pid) return -ECHILD;
		if (r < 0 && r != -ECHILD) return r;
		if (r == -ECHILD) return -ECHILD;  /* threads we think exist cannot be waited for */
		if (timeout_ms == 0 || !anyone_running(t)) return 0;
		int wait = -1;
		if (timeout_ms > 0) {
			long left = deadline - pt_now_ms();
			if (left <= 0) return 0;
			wait = (int)left;
		}
		struct pollfd pf = { .fd = t->sigfd, .events = POLLIN };
		int p = poll(&pf, 1, wait);
		if (p < 0 && errno != EINTR) return -errno;
		if (p < 0) return -EINTR;
	}
}

/* The hot path (issue 6): one blocking wait4 per status, nothing else -- no
 * poll, no signalfd read, no "until none" wait4.  g (set by the session's
 * client watcher, another thread) ends the wait: stop is checked after
 * waiting is published and before each wait4, and a signal sent while
 * waiting is set interrupts it (EINTR: the handler has no SA_RESTART).
 * Only this thread (the tracer) calls wait4 and ptrace. */
int pt_wait_event(struct tgt *t, struct tgt_event *ev, struct tgt_wait_gate *g)
{
	for (;;) {
		if (pt_queue_pop(t, ev)) {
			if (ev->kind == TGT_EV_EXITED || ev->kind == TGT_EV_KILLED) pt_forget(t);
			pt_evfd_update(t);
			return 1;
		}
		pt_evfd_update(t);   /* no syscall unless the pop dropped the last entry */
		if (!t->pid) return -ECHILD;
		if (!anyone_running(t)) return 0;
		atomic_store(&g->waiting, 1);
		if (atomic_load(&g->stop)) {
			atomic_store(&g->waiting, 0);
			return -EINTR;
		}
		int status;
		pid_t w = waitpid(-1, &status, __WALL);
		int e = errno;
		atomic_store(&g->waiting, 0);
		if (w < 0) return -e;   /* EINTR: the watcher's signal; ECHILD: nothing to wait for */
		pt_handle_status(t, w, status);
	}
}
