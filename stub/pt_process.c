/* pt_process.c — getting a process under the ptrace backend and letting it go.
 *
 * launch: fork; the child waits on a pipe until the parent has PTRACE_SEIZEd
 *   it (seized tracees can be stopped with PTRACE_INTERRUPT, which leaves no
 *   SIGSTOP behind), then execs (through the wrapper, if any: each exec of the
 *   wrapper chain is let through until the program's own).  The process is
 *   left at its PTRACE_EVENT_EXEC stop: the first instruction of the new image
 *   (the dynamic loader's entry), as gdbserver leaves it.  A second, close-on-
 *   exec pipe carries errno back if execve fails.  PTRACE_O_EXITKILL: if the
 *   stub dies, a launched program dies with it.
 * attach: seize every thread listed in /proc/PID/task and interrupt it,
 *   re-reading the list until a pass finds no thread we do not know (threads
 *   that seized threads create are auto-attached through PTRACE_O_TRACECLONE).
 * detach: stop all, have every kernel SIGTRAP still pending dequeued (a
 *   thread interrupted right after it hit an int3, finished a step or fired a
 *   watchpoint would die of it once untraced), take every breakpoint out and
 *   clear the debug registers, hand back pending signals, PTRACE_DETACH each
 *   thread (which also clears a single-step's TF).
 * kill: SIGKILL, then reap every thread so no zombie is left.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pt_int.h"

extern char **environ;

void pt_forget(struct tgt *t)
{
	pt_threads_clear(t);
	pt_bp_forget_all(t);
	pt_dstep_forget(t);
	pt_mem_close(t);
	t->qn = 0;
	t->pid = 0;
	t->exited = false;
	t->attached = false;
	t->hold = 0;
	t->last_tid = 0;
	pt_evfd_update(t);
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	ssize_t n;
	do n = read(fd, buf, len); while (n < 0 && errno == EINTR);
	return n;
}

/* Child side of launch: never returns. */
static void child(int go, int err, char **argv, const struct tgt_launch_opts *o)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);   /* the stub blocks SIGCHLD */
	signal(SIGPIPE, SIG_DFL);                /* a stub ignores SIGPIPE for its sockets */
	signal(SIGCHLD, SIG_DFL);
	char c;
	if (read_full(go, &c, 1) < 0) _exit(127);   /* EOF: the parent has seized us */
	if (o->disable_aslr) {
		int p = personality(0xffffffff);
		if (p != -1) personality((unsigned long)p | ADDR_NO_RANDOMIZE);
	}
	int e = 0;
	if (o->cwd && chdir(o->cwd) < 0) e = errno;
	if (!e) {
		execvpe(argv[0], argv, o->envp ? o->envp : environ);
		e = errno;
	}
	ssize_t w = write(err, &e, sizeof e);
	(void)w;
	_exit(127);
}

/* Reap a seized child that is on its way out. */
static void reap(pid_t pid)
{
	int st;
	for (;;) {
		pid_t w = waitpid(pid, &st, __WALL);
		if (w < 0 && errno == EINTR) continue;
		if (w < 0 || WIFEXITED(st) || WIFSIGNALED(st)) return;
		if (ptrace(PTRACE_CONT, pid, 0L, 0L) < 0 && errno != ESRCH) return;
	}
}

int pt_launch(struct tgt *t, const struct tgt_launch_opts *o, pid_t *pidp)
{
	if (t->pid) return -EBUSY;
	if (!o || !o->argv || !o->argv[0]) return -EINVAL;
	size_t nw = 0, na = 0;
	while (o->wrapper && o->wrapper[nw]) nw++;
	while (o->argv[na]) na++;
	char **argv = calloc(nw + na + 1, sizeof *argv);
	if (!argv) return -ENOMEM;
	for (size_t i = 0; i < nw; i++) argv[i] = o->wrapper[i];
	for (size_t i = 0; i < na; i++) argv[nw + i] = o->argv[i];

	int go[2], err[2];
	if (pipe2(go, O_CLOEXEC) < 0) {
		free(argv);
		return -errno;
	}
	if (pipe2(err, O_CLOEXEC) < 0) {
		int e = errno;
		close(go[0]);
		close(go[1]);
		free(argv);
		return -e;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(err[0]);
		child(go[0], err[1], argv, o);
	}
	int e = pid < 0 ? errno : 0;
	free(argv);
	close(go[0]);
	close(err[1]);
	if (pid < 0) {
		close(go[1]);
		close(err[0]);
		return -e;
	}
	if (ptrace(PTRACE_SEIZE, pid, 0L,
		   (long)(PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)) < 0) {
		e = errno;
		kill(pid, SIGKILL);
		close(go[1]);
		close(err[0]);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
		return -e;
	}
	close(go[1]);        /* let it exec */
	int cerr = 0;
	ssize_t n = read_full(err[0], &cerr, sizeof cerr);
	close(err[0]);
	if (n == (ssize_t)sizeof cerr) {
		reap(pid);
		return -(cerr ? cerr : ENOEXEC);
	}

	/* Let the wrapper chain's execs through; stop at the program's. */
	int execs = nw ? 2 : 1;
	for (;;) {
		int st;
		pid_t w = waitpid(pid, &st, __WALL);
		if (w < 0 && errno == EINTR) continue;
		if (w < 0) return -errno;
		if (WIFEXITED(st) || WIFSIGNALED(st)) return -ECHILD;
		int ev = (unsigned)st >> 16, sig = WSTOPSIG(st);
		if (ev == PTRACE_EVENT_EXEC && --execs == 0) break;
		long data = (ev == 0 && sig != SIGTRAP) ? sig : 0;   /* wrapper's own signals */
		if (ptrace(PTRACE_CONT, pid, 0L, data) < 0) {
			e = errno;
			kill(pid, SIGKILL);
			reap(pid);
			return -e;
		}
	}
	/* Now the full option set: threads of the program are followed. */
	if (ptrace(PTRACE_SETOPTIONS, pid, 0L, (long)(PT_OPTIONS | PTRACE_O_EXITKILL)) < 0) {
		e = errno;
		kill(pid, SIGKILL);
		reap(pid);
		return -e;
	}
	t->pid = pid;
	t->attached = false;
	t->exited = false;
	struct pt_thread *th = pt_thread_add(t, pid);
	int r = th ? pt_mem_open(t) : -ENOMEM;
	if (r < 0) {
		kill(pid, SIGKILL);
		reap(pid);
		pt_forget(t);
		return r;
	}
	th->kstopped = true;
	th->running = false;
	t->last_tid = pid;
	*pidp = pid;
	return 0;
}

/* Seize and interrupt every thread in /proc/PID/task we do not know yet.
 * Returns how many were new, or -errno. */
static int seize_new(struct tgt *t, pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d) return -errno;
	int added = 0, r = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long v = strtol(de->d_name, &end, 10);
		if (*end || v <= 0) continue;
		pid_t tid = (pid_t)v;
		if (pt_thread_find(t, tid)) continue;
		if (ptrace(PTRACE_SEIZE, tid, 0L, (long)PT_OPTIONS) < 0) {
			if (errno == ESRCH) continue;          /* exited meanwhile */
			if (errno == EPERM && t->nth > 0) {
				/* Already ours: auto-attached as a clone whose event we
				 * have not collected yet.  Its first stop will come. */
				struct pt_thread *th = pt_thread_add(t, tid);
				if (!th) { r = -ENOMEM; break; }
				th->new_thread = true;
				added++;
				continue;
			}
			r = -errno;
			break;
		}
		struct pt_thread *th = pt_thread_add(t, tid);
		if (!th) { r = -ENOMEM; break; }
		added++;
		if (ptrace(PTRACE_INTERRUPT, tid, 0L, 0L) < 0) {
			if (errno != ESRCH) { r = -errno; break; }
			th->exiting = true;
		} else {
			th->stop_req = true;
		}
	}
	closedir(d);
	return r < 0 ? r : added;
}

int pt_attach(struct tgt *t, pid_t pid)
{
	if (t->pid) return -EBUSY;
	if (pid <= 0 || pid == getpid()) return -EINVAL;
	t->pid = pid;
	t->attached = true;
	t->exited = false;
	int r;
	do {
		r = seize_new(t, pid);
		if (r < 0) break;
		/* Take in clone events so their threads count as known. */
		int w;
		while ((w = pt_wait_one(t, -1, false)) > 0) {}
	} while (r > 0);
	if (r == 0 && t->nth == 0) r = -ESRCH;
	if (r == 0) {
		t->hold++;
		for (;;) {
			bool all = true;
			for (int i = 0; i < t->nth; i++)
				if (!t->th[i]->kstopped && !t->th[i]->exiting) all = false;
			if (all || t->exited) break;
			r = pt_wait_one(t, -1, true);
			if (r < 0) break;
			r = 0;
		}
		t->hold--;
	}
	if (r == 0 && t->exited) r = -ESRCH;
	if (r == 0) r = pt_mem_open(t);
	if (r < 0) {
		/* Let go of whatever we took. */
		for (int i = 0; i < t->nth; i++) ptrace(PTRACE_DETACH, t->th[i]->tid, 0L, 0L);
		pt_forget(t);
		return r;
	}
	t->last_tid = pid;
	pt_evfd_update(t);
	return 0;
}

/* The signal a thread should carry out of detach: one the session never
 * saw (queued), or one owed to it (passed), never our own SIGTRAPs. */
static int owed_signal(struct tgt *t, struct pt_thread *th)
{
	if (th->deliver_sig) return th->deliver_sig;
	for (int i = 0; i < t->qn; i++)
		if (t->q[i].tid == th->tid && t->q[i].kind == TGT_EV_STOPPED &&
		    t->q[i].reason == TGT_REASON_SIGNAL && t->q[i].sig != SIGTRAP)
			return t->q[i].sig;
	return 0;
}

int pt_detach(struct tgt *t, int sig)
{
	if (!t->pid) return -ESRCH;
	if (t->exited) {
		pt_forget(t);
		return 0;
	}
	int r = pt_stop_all(t);
	if (r < 0 && !t->exited) return r;
	if (t->exited) {
		pt_forget(t);
		return 0;
	}
	/* A trap a thread took just before it was stopped must not outlive
	 * us: have it dequeued while the breakpoints are still in (pc
	 * rewound if it is a hit); its stop is suppressed at PTRACE_DETACH. */
	r = pt_take_traps(t);
	if (t->exited) {
		pt_forget(t);
		return 0;
	}
	int first_err = r < 0 && r != -ESRCH ? r : 0;
	r = pt_bp_remove_all(t);
	if (r < 0 && !first_err) first_err = r;
	pt_vfork_children_drop(t, false);
	pid_t cur = pt_thread_find(t, t->last_tid) ? t->last_tid : t->pid;
	for (int i = 0; i < t->nth; i++) {
		struct pt_thread *th = t->th[i];
		if (th->exiting) continue;
		int s = th->tid == cur && sig ? sig : owed_signal(t, th);
		if (s && !th->sig_stop) {
			syscall(SYS_tgkill, t->pid, th->tid, s);
			s = 0;
		}
		if (ptrace(PTRACE_DETACH, th->tid, 0L, (long)s) < 0 && errno != ESRCH && !first_err)
			first_err = -errno;
	}
	/* Threads that were dying are still ours to reap. */
	for (int i = 0; i < t->nth; i++)
		if (t->th[i]->exiting && t->th[i]->tid != t->pid)
			while (waitpid(t->th[i]->tid, NULL, __WALL) < 0 && errno == EINTR) {}
	pt_forget(t);
	return first_err;
}

int pt_kill(struct tgt *t)
{
	if (!t->pid) return -ESRCH;
	pid_t pid = t->pid;
	if (!t->exited) {
		pt_vfork_children_drop(t, true);
		if (kill(pid, SIGKILL) < 0 && errno != ESRCH) return -errno;
		/* A process already in exit_group ignores that SIGKILL: a thread
		 * whose ptrace-stop (its PTRACE_EVENT_EXIT) was collected and not
		 * answered would never die, nor the leader become reapable.  Let
		 * every thread in a ptrace-stop go (ESRCH for the others): known
		 * ones, stopped strays, and whatever /proc/PID/task lists. */
		for (int i = 0; i < t->nth; i++) ptrace(PTRACE_CONT, t->th[i]->tid, 0L, 0L);
		for (int i = 0; i < t->nstray; i++)
			if (WIFSTOPPED(t->stray[i].status)) ptrace(PTRACE_CONT, t->stray[i].tid, 0L, 0L);
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
		DIR *d = opendir(path);
		for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
			char *end;
			long v = strtol(de->d_name, &end, 10);
			if (!*end && v > 0) ptrace(PTRACE_CONT, (pid_t)v, 0L, 0L);
		}
		if (d) closedir(d);
		/* Reap every thread, the leader last (the kernel reports it only
		 * once the others are gone).  Other children's statuses are kept
		 * as strays and dropped with the process. */
		for (;;) {
			int st;
			pid_t w = waitpid(-1, &st, __WALL);
			if (w < 0 && errno == EINTR) continue;
			if (w < 0) break;
			if (WIFSTOPPED(st)) {
				ptrace(PTRACE_CONT, w, 0L, 0L);
				continue;
			}
			if (w == pid) break;
		}
	}
	pt_forget(t);
	return 0;
}
