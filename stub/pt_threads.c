/* pt_threads.c — the ptrace backend's thread table and /proc thread info.
 *
 * Threads are kept as individually allocated entries so a pointer stays valid
 * until that thread is removed; callers that wait (which may remove threads)
 * look threads up again by tid afterwards.  A Go program has tens of threads,
 * so lookup is a linear scan.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pt_int.h"

struct pt_thread *pt_thread_find(struct tgt *t, pid_t tid)
{
	for (int i = 0; i < t->nth; i++)
		if (t->th[i]->tid == tid) return t->th[i];
	return NULL;
}

struct pt_thread *pt_thread_add(struct tgt *t, pid_t tid)
{
	struct pt_thread *th = pt_thread_find(t, tid);
	if (th) return th;
	if (t->nth == t->thcap) {
		int cap = t->thcap ? t->thcap * 2 : 16;
		struct pt_thread **n = realloc(t->th, (size_t)cap * sizeof *n);
		if (!n) return NULL;
		t->th = n;
		t->thcap = cap;
	}
	th = calloc(1, sizeof *th);
	if (!th) return NULL;
	th->tid = tid;
	t->th[t->nth++] = th;
	return th;
}

void pt_thread_remove(struct tgt *t, pid_t tid)
{
	for (int i = 0; i < t->nth; i++) {
		if (t->th[i]->tid != tid) continue;
		free(t->th[i]);
		memmove(&t->th[i], &t->th[i + 1], (size_t)(t->nth - i - 1) * sizeof t->th[0]);
		t->nth--;
		return;
	}
}

void pt_threads_clear(struct tgt *t)
{
	for (int i = 0; i < t->nth; i++) free(t->th[i]);
	t->nth = 0;
	t->nstray = 0;
}

int pt_stray_add(struct tgt *t, pid_t tid, int status)
{
	if (t->nstray == t->straycap) {
		int cap = t->straycap ? t->straycap * 2 : 8;
		struct pt_stray *n = realloc(t->stray, (size_t)cap * sizeof *n);
		if (!n) return -ENOMEM;
		t->stray = n;
		t->straycap = cap;
	}
	t->stray[t->nstray++] = (struct pt_stray){ tid, status };
	return 0;
}

bool pt_stray_take(struct tgt *t, pid_t tid, int *status)
{
	for (int i = 0; i < t->nstray; i++) {
		if (t->stray[i].tid != tid) continue;
		*status = t->stray[i].status;
		memmove(&t->stray[i], &t->stray[i + 1], (size_t)(t->nstray - i - 1) * sizeof t->stray[0]);
		t->nstray--;
		return true;
	}
	return false;
}

/* Read /proc/PID/task/TID/<file> into buf (NUL-terminated).  Returns length or -errno. */
static ssize_t read_task_file(pid_t pid, pid_t tid, const char *file, char *buf, size_t cap)
{
	char path[96];
	snprintf(path, sizeof path, "/proc/%d/task/%d/%s", (int)pid, (int)tid, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return -errno;
	ssize_t n;
	do n = read(fd, buf, cap - 1); while (n < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (n < 0) return -e;
	buf[n] = 0;
	return n;
}

/* Last CPU the thread ran on: field 39 of stat, counted after the ")" of comm. */
static int thread_core(pid_t pid, pid_t tid)
{
	char buf[1024];
	if (read_task_file(pid, tid, "stat", buf, sizeof buf) <= 0) return -1;
	char *p = strrchr(buf, ')');
	if (!p) return -1;
	/* after ")" comes field 3 (state); processor is field 39 */
	int field = 2;
	for (; *p && field < 39; p++)
		if (*p == ' ') field++;
	if (field != 39) return -1;
	return atoi(p);
}

int pt_list_threads(struct tgt *t, struct tgt_thread_info *out, int cap)
{
	int n = 0;
	for (int i = 0; i < t->nth; i++) {
		struct pt_thread *th = t->th[i];
		if (th->exiting) continue;
		if (n < cap) {
			struct tgt_thread_info *ti = &out[n];
			memset(ti, 0, sizeof *ti);
			ti->tid = th->tid;
			ti->stopped = !th->running;
			char name[64];
			ssize_t l = read_task_file(t->pid, th->tid, "comm", name, sizeof name);
			if (l > 0) {
				if (name[l - 1] == '\n') name[--l] = 0;
				size_t c = (size_t)l < sizeof ti->name - 1 ? (size_t)l : sizeof ti->name - 1;
				memcpy(ti->name, name, c);
				ti->name[c] = 0;
			}
			ti->core = thread_core(t->pid, th->tid);
		}
		n++;
	}
	return n;
}
