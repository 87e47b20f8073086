/* pt_ops.c — the Linux ptrace backend's tgt_ops table and its small entries.
 *
 * The table is the only export of stub/pt_*.c (target.h).  The work lives in
 * pt_process.c (launch/attach/detach/kill), pt_wait.c (events, stopping),
 * pt_resume.c + pt_step.c (resuming, stepping over breakpoints), pt_regs.c,
 * pt_mem.c and pt_breakpoints.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pt_int.h"

static struct tgt *pt_create(void)
{
	struct tgt *t = calloc(1, sizeof *t);
	if (!t) return NULL;
	t->memfd = t->sigfd = t->evfd = t->epfd = -1;
	t->step_mode = pt_step_mode_env();
	t->jumppad = pt_jumppad_env();
	if (pt_events_init(t) < 0) {
		pt_events_fini(t);
		free(t);
		return NULL;
	}
	return t;
}

static void pt_destroy(struct tgt *t)
{
	if (!t) return;
	if (t->pid) {
		if (t->attached) pt_detach(t, 0);
		else pt_kill(t);
	}
	pt_forget(t);
	pt_events_fini(t);
	free(t->th);
	free(t->q);
	free(t->stray);
	free(t->bps);
	free(t);
}

static int pt_launch_op(struct tgt *t, const struct tgt_launch_opts *o, pid_t *pid)
{
	int r = pt_launch(t, o, pid);
	pt_evfd_update(t);
	return r;
}

static int pt_detach_op(struct tgt *t, int sig)
{
	int r = pt_detach(t, sig);
	pt_evfd_update(t);
	return r;
}

static int pt_kill_op(struct tgt *t)
{
	int r = pt_kill(t);
	pt_evfd_update(t);
	return r;
}

static pid_t pt_pid(struct tgt *t)
{
	return t->pid;
}

static bool pt_attached(struct tgt *t)
{
	return t->pid && t->attached;
}

static bool pt_thread_alive(struct tgt *t, pid_t tid)
{
	struct pt_thread *th = pt_thread_find(t, tid);
	return th && !th->exiting && !t->exited;
}

static int pt_event_fd(struct tgt *t)
{
	return t->epfd;
}

static void pt_set_pass_signals(struct tgt *t, const bool sigs[65])
{
	memcpy(t->pass, sigs, sizeof t->pass);
}

static long pt_read_auxv(struct tgt *t, uint8_t *buf, size_t cap)
{
	if (!t->pid || t->exited) return -ESRCH;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/auxv", (int)t->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return -errno;
	size_t done = 0;
	while (done < cap) {
		ssize_t n = read(fd, buf + done, cap - done);
		if (n < 0 && errno == EINTR) continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (n == 0) break;
		done += (size_t)n;
	}
	close(fd);
	return (long)done;
}

static int pt_exe_path(struct tgt *t, char *buf, size_t cap)
{
	if (!t->pid || t->exited) return -ESRCH;
	if (cap == 0) return -ENAMETOOLONG;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/exe", (int)t->pid);
	ssize_t n = readlink(path, buf, cap - 1);
	if (n < 0) return -errno;
	if ((size_t)n == cap - 1) return -ENAMETOOLONG;
	buf[n] = 0;
	return 0;
}

static int pt_resume_op(struct tgt *t, pid_t tid, enum tgt_resume_kind k, int sig)
{
	return pt_resume(t, tid, k, sig);
}

static long pt_read_mem_op(struct tgt *t, uint64_t addr, uint8_t *buf, size_t len)
{
	if (!t->pid || t->exited) return -ESRCH;
	return pt_read_mem(t, addr, buf, len);
}

static long pt_write_mem_op(struct tgt *t, uint64_t addr, const uint8_t *buf, size_t len)
{
	if (!t->pid || t->exited) return -ESRCH;
	return pt_write_mem(t, addr, buf, len);
}

static int pt_read_memv_op(struct tgt *t, struct tgt_memv *v, unsigned n)
{
	if (!t->pid || t->exited) return -ESRCH;
	return pt_read_memv(t, v, n);
}

const struct tgt_ops pt_ops = {
	.create = pt_create,
	.destroy = pt_destroy,
	.launch = pt_launch_op,
	.attach = pt_attach,
	.detach = pt_detach_op,
	.kill = pt_kill_op,
	.pid = pt_pid,
	.attached = pt_attached,
	.list_threads = pt_list_threads,
	.thread_alive = pt_thread_alive,
	.resume = pt_resume_op,
	.stop = pt_stop,
	.stop_all = pt_stop_all,
	.next_event = pt_next_event,
	.event_fd = pt_event_fd,
	.read_reg = pt_read_reg,
	.write_reg = pt_write_reg,
	.read_regs = pt_read_regs,
	.write_regs = pt_write_regs,
	.read_mem = pt_read_mem_op,
	.write_mem = pt_write_mem_op,
	.insert_bp = pt_insert_bp,
	.remove_bp = pt_remove_bp,
	.set_pass_signals = pt_set_pass_signals,
	.read_auxv = pt_read_auxv,
	.exe_path = pt_exe_path,
	.wait_event = pt_wait_event,
	.read_memv = pt_read_memv_op,
};
