/* pt_fork.c — fork and vfork children of the traced process.
 *
 * The children are not debugged (no follow-fork): they must run without the
 * parent's int3s, and no hit of the parent may be lost meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pt_int.h"

/* Write every int3 (in) or original byte (out) of the breakpoint table
 * through fd (a /proc/PID/mem).  A jump's 5 original bytes go back out (a
 * fork child must never enter a pad: its int3 would kill it untraced);
 * in, it becomes an int3 again (threads may run: a 5-byte write is only
 * made with every thread held, pt_dstep.c puts the jump back at a hit). */
void pt_put_bps(struct tgt *t, int fd, bool in)
{
	for (int i = 0; i < t->nbp; i++) {
		struct pt_bp *bp = &t->bps[i];
		if (!in && bp->jump) {
			pt_poke5(fd, bp->addr, bp->orig5);   /* int3 first: safe while threads run */
			continue;
		}
		if (in) bp->jump = false;
		uint8_t b = in ? 0xcc : bp->orig;
		ssize_t n;
		do n = pwrite(fd, &b, 1, (off_t)bp->addr); while (n < 0 && errno == EINTR);
	}
}

/* fork/vfork: the child is not debugged.  It got auto-attached; once it is
 * in its first stop, our int3s are taken out of its memory and it is let go
 * (as gdbserver does; debug registers are not inherited).
 *
 * A vfork child shares our memory until it execs or exits (the parent then
 * reports PTRACE_EVENT_VFORK_DONE), so while it runs the int3s must be out
 * of the parent too.  So that no hit is lost meanwhile, the child stays in
 * its first stop until every other thread is held stopped (vfork_hold); the
 * int3s go out, the child and its parent run until VFORK_DONE (normally
 * microseconds: the child execs), the int3s go back, everyone runs.  After
 * PT_VFORK_HOLD_MS the threads are let go anyway, so a child that never
 * execs cannot hang us (hits in the rest of that window are then lost, as
 * with gdb, which never holds them). */
#define PT_VFORK_HOLD_MS 1000

/* th is going away while its vfork child waits in its first stop: the child
 * still has the old memory with our int3s in it.  Clean it and let it go. */
void pt_drop_vfork_child(struct tgt *t, struct pt_thread *th)
{
	if (!th->vfork_child) return;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)th->vfork_child);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		pt_put_bps(t, fd, false);
		close(fd);
	}
	ptrace(PTRACE_DETACH, th->vfork_child, 0L, 0L);
	th->vfork_child = 0;
}

/* Let th's stopped vfork child go: int3s out of the shared memory first. */
void pt_vfork_release(struct tgt *t, struct pt_thread *th)
{
	if (!th->vfork_child) return;
	if (t->vforks++ == 0 && t->memfd >= 0) pt_put_bps(t, t->memfd, false);
	if (ptrace(PTRACE_DETACH, th->vfork_child, 0L, 0L) < 0 && errno == ESRCH) {
		/* It died under us: no VFORK_DONE will tell, undo now. */
		if (--t->vforks == 0 && t->memfd >= 0) pt_put_bps(t, t->memfd, true);
	} else {
		th->in_vfork = true;
	}
	th->vfork_child = 0;
}

void pt_vfork_children_drop(struct tgt *t, bool kill_them)
{
	for (int i = 0; i < t->nth; i++) {
		struct pt_thread *th = t->th[i];
		pid_t c = th->vfork_child;
		if (!c) continue;
		th->vfork_child = 0;
		if (kill_them) {
			kill(c, SIGKILL);
			for (;;) {
				int st;
				pid_t w = waitpid(c, &st, __WALL);
				/* EINTR: the session's client watcher signals us (session_wake.c) */
				if (w < 0 && errno == EINTR) continue;
				if (w != c || !WIFSTOPPED(st)) break;
				ptrace(PTRACE_CONT, c, 0L, 0L);
			}
		} else {
			ptrace(PTRACE_DETACH, c, 0L, 0L);   /* the caller took the int3s out */
		}
	}
}

bool pt_vfork_waiting(struct tgt *t, bool stopped_only)
{
	for (int i = 0; i < t->nth; i++) {
		struct pt_thread *th = t->th[i];
		if (stopped_only ? th->vfork_child && th->kstopped && th->running && !th->pending
				 : th->in_vfork || th->vfork_child)
			return true;
	}
	return false;
}

/* Hold every thread, let the vfork children go and their parents run until
 * the children exec or exit, then let everyone go. */
void pt_vfork_hold(struct tgt *t)
{
	int r = pt_hold_all(t);
	long deadline = pt_now_ms() + PT_VFORK_HOLD_MS;
	while (r == 0 && !t->exited) {
		for (int i = 0; i < t->nth; i++) {
			struct pt_thread *th = t->th[i];
			if (!th->vfork_child || !th->kstopped || !th->running || th->pending) continue;
			pt_vfork_release(t, th);
			pt_restart(t, th);
		}
		bool waiting = false;
		for (int i = 0; i < t->nth; i++) waiting |= t->th[i]->in_vfork;
		if (!waiting) break;
		pt_drain_sigfd(t);
		r = pt_wait_one(t, -1, false);
		if (r != 0) {
			r = r > 0 ? 0 : r;
			continue;
		}
		long left = deadline - pt_now_ms();
		if (left <= 0) break;
		struct pollfd pf = { .fd = t->sigfd, .events = POLLIN };
		if (poll(&pf, 1, (int)(left < 10 ? left : 10)) < 0 && errno != EINTR) break;
	}
	pt_release(t);
	if (!t->hold) pt_restart_plain(t);
}

void pt_on_fork(struct tgt *t, struct pt_thread *th, bool vfork, bool satisfied)
{
	unsigned long msg = 0;
	pid_t parent = th->tid;
	if (ptrace(PTRACE_GETEVENTMSG, parent, 0L, &msg) == 0 && msg > 0) {
		pid_t child = (pid_t)msg;
		int st = 0;
		bool have = pt_stray_take(t, child, &st);
		while (!have) {
			pid_t w = waitpid(child, &st, __WALL);
			if (w == child) have = true;
			else if (w < 0 && errno != EINTR) break;
		}
		if (have && WIFSTOPPED(st)) {
			if (vfork) {
				th->vfork_child = child;    /* released by pt_vfork_hold() */
				if (!t->nbp) pt_vfork_release(t, th);
			} else {
				if (t->nbp) {
					char path[64];
					snprintf(path, sizeof path, "/proc/%d/mem", (int)child);
					int fd = open(path, O_RDWR | O_CLOEXEC);
					if (fd >= 0) {
						pt_put_bps(t, fd, false);
						close(fd);
					}
				}
				ptrace(PTRACE_DETACH, child, 0L, 0L);
			}
		}
	}
	th = pt_thread_find(t, parent);
	if (th) pt_settle(t, th, satisfied);   /* a running vfork parent: pt_vfork_hold() via restart_idle */
}
