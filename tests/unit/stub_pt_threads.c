/* stub_pt_threads.c — the ptrace backend with several threads.
 *
 * - Threads hit one breakpoint in a loop; the test continues over every hit,
 *   all-stop style (stop_all, drain, resume all) and one-thread style
 *   (resume only the hitting thread): the hits counted equal the program's own
 *   count, so no thread ever ran through the breakpoint while it was out.
 * - The thread list has every thread, with its name.
 * - Attach to a running multi-threaded process (started outside the backend),
 *   hit a breakpoint there, then detach: it finishes with its normal output
 *   and exit status, its text restored.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "../lib/check.h"
#include "stub_pt_util.h"

static const struct tgt_ops *ops = &pt_ops;
static const char *prog;

static struct tgt *launch_quiet(pid_t *pid, char *const *args)
{
	return ptu_launch(prog, args, NULL, pid, NULL);
}

/* Run "threads NT N" with a breakpoint on pt_hit; count hits. */
static void hit_loop(bool all_stop, const char *label)
{
	char name[128];
	pid_t pid;
	char *args[] = { "threads", "4", "300", NULL };
	struct tgt *t = launch_quiet(&pid, args);
	snprintf(name, sizeof name, "%s: launch", label);
	CHECK(name, t != NULL);
	if (!t) return;
	uint64_t hit = ptu_sym(pid, prog, "pt_hit");
	snprintf(name, sizeof name, "%s: insert bp", label);
	CHECK(name, hit && ops->insert_bp(t, TGT_BP_SW, hit, 1) == 0);
	int hits = 0, created = 0, exited_threads = 0, bad = 0;
	bool listed = false, names_ok = false;
	struct tgt_event ev = { 0 };
	int r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	while (r == 0) {
		r = ops->next_event(t, &ev, 20000);
		if (r != 1) {
			printf("# next_event: %d\n", r);
			break;
		}
		r = 0;
		if (ev.kind == TGT_EV_THREAD_CREATED) { created++; continue; }
		if (ev.kind == TGT_EV_THREAD_EXITED) { exited_threads++; continue; }
		if (ev.kind != TGT_EV_STOPPED) break;
		if (ev.reason != TGT_REASON_SWBREAK || ev.addr != hit) {
			printf("# unexpected stop: reason %d sig %d\n", ev.reason, ev.sig);
			bad++;
		} else {
			hits++;
		}
		if (all_stop) {
			r = ops->stop_all(t);
			if (r < 0) break;
			struct tgt_event e2;
			while (ops->next_event(t, &e2, 0) == 1) {
				if (e2.kind == TGT_EV_STOPPED && e2.reason == TGT_REASON_SWBREAK && e2.addr == hit) hits++;
				else if (e2.kind == TGT_EV_STOPPED) bad++;
				else if (e2.kind == TGT_EV_THREAD_CREATED) created++;
				else if (e2.kind == TGT_EV_THREAD_EXITED) exited_threads++;
			}
			if (!listed && created == 4 && exited_threads == 0) {
				/* Workers name themselves before their first pt_hit(),
				 * so look until every one has hit once. */
				struct tgt_thread_info ti[16];
				int n = ops->list_threads(t, ti, 16);
				int workers = 0;
				bool all_stopped = true;
				for (int i = 0; i < n && i < 16; i++) {
					if (strncmp(ti[i].name, "pt-worker-", 10) == 0) workers++;
					if (!ti[i].stopped) all_stopped = false;
				}
				if (workers == 4) {
					listed = true;
					names_ok = n == 5 && all_stopped && ti[0].tid == pid &&
						   strcmp(ti[0].name, "pt_prog") == 0;
				}
			}
			r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
		} else {
			r = ops->resume(t, ev.tid, TGT_RESUME_CONT, 0);
		}
	}
	snprintf(name, sizeof name, "%s: every hit reported, program saw the same count (1200)", label);
	CHECK(name, hits == 1200 && bad == 0);
	if (hits != 1200) printf("# hits %d bad %d\n", hits, bad);
	snprintf(name, sizeof name, "%s: exit 0 (program's own total matched)", label);
	CHECK(name, ev.kind == TGT_EV_EXITED && ev.status == 0);
	snprintf(name, sizeof name, "%s: thread created/exited events", label);
	CHECK(name, created == 4 && exited_threads == 4);
	if (all_stop) CHECK("threads: list with names, all stopped after stop_all", listed && names_ok);
	ops->destroy(t);
	CHECK(label, !ptu_proc_exists(pid));
}

/* Start pt_prog attachme outside the backend; returns pid, stdout pipe in *out. */
static pid_t spawn(char *const *args, int *out)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char *argv[8] = { (char *)prog };
		for (int i = 0; args[i] && i < 6; i++) argv[i + 1] = args[i];
		execv(prog, argv);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

static ssize_t read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) break;
		n += (size_t)r;
	}
	buf[n] = 0;
	return (ssize_t)n;
}

static void test_attach(void)
{
	int out;
	char *args[] = { "attachme", "3", "1500", NULL };
	pid_t pid = spawn(args, &out);
	char line[64] = "";
	ssize_t n = read(out, line, 6);
	CHECK("attach: program ready", pid > 0 && n == 6 && memcmp(line, "ready\n", 6) == 0);
	usleep(50000);   /* let its threads start */
	struct tgt *t = ops->create();
	int r = ops->attach(t, pid);
	CHECK("attach", r == 0 && ops->pid(t) == pid && ops->attached(t));
	if (r != 0) {
		printf("# attach: %s\n", strerror(-r));
		ops->destroy(t);
		return;
	}
	struct tgt_thread_info ti[16];
	int nt = ops->list_threads(t, ti, 16);
	bool all_stopped = true;
	int workers = 0;
	for (int i = 0; i < nt && i < 16; i++) {
		all_stopped &= ti[i].stopped;
		if (strncmp(ti[i].name, "pt-worker-", 10) == 0) workers++;
	}
	CHECK("attach: every thread, stopped, named", nt == 4 && workers == 3 && all_stopped && ti[0].tid == pid);
	char stat[64], buf[512];
	bool traced = true;
	for (int i = 0; i < nt && i < 16; i++) {
		snprintf(stat, sizeof stat, "/proc/%d/task/%d/status", (int)pid, (int)ti[i].tid);
		FILE *f = fopen(stat, "r");
		bool this_one = false;
		while (f && fgets(buf, sizeof buf, f))
			if (strncmp(buf, "State:", 6) == 0) this_one = strstr(buf, "t (tracing stop)") != NULL;
		if (f) fclose(f);
		traced &= this_one;
	}
	CHECK("attach: all threads in tracing stop", traced);

	uint64_t hit = ptu_sym(pid, prog, "pt_hit");
	uint8_t before = 0, after = 0;
	char memp[64];
	snprintf(memp, sizeof memp, "/proc/%d/mem", (int)pid);
	int mfd = open(memp, O_RDONLY);
	if (mfd >= 0 && pread(mfd, &before, 1, (off_t)hit) != 1) before = 0;
	CHECK("attach: insert bp", ops->insert_bp(t, TGT_BP_SW, hit, 1) == 0);
	struct tgt_event ev;
	int hits = 0;
	for (int k = 0; k < 20; k++) {
		r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
		if (r < 0) break;
		if (ptu_wait(ops, t, &ev, 5000) != 1 || ev.kind != TGT_EV_STOPPED) break;
		if (ev.reason == TGT_REASON_SWBREAK && ev.addr == hit) hits++;
		ops->stop_all(t);
		while (ops->next_event(t, &ev, 0) == 1)
			if (ev.kind == TGT_EV_STOPPED && ev.reason == TGT_REASON_SWBREAK) hits++;
	}
	CHECK("attach: breakpoint hits in the attached process", hits >= 20);
	uint32_t g = 0;
	CHECK("attach: read a global", ops->read_mem(t, ptu_sym(pid, prog, "pt_global"), (uint8_t *)&g, 4) == 4 &&
	      g == 0x12345678);
	r = ops->detach(t, 0);
	CHECK("detach", r == 0 && ops->pid(t) == 0);
	if (mfd >= 0 && pread(mfd, &after, 1, (off_t)hit) != 1) after = 0xcc;
	CHECK("detach: text restored", before != 0 && before == after);
	if (mfd >= 0) close(mfd);
	read_all(out, buf, sizeof buf);
	close(out);
	int st = 0;
	pid_t w;
	do w = waitpid(pid, &st, 0); while (w < 0 && errno == EINTR);
	CHECK("detach: program finishes normally", w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	      strcmp(buf, "done 305419896\n") == 0);
	if (strcmp(buf, "done 305419896\n") != 0) printf("# output: %s\n", buf);
	ops->destroy(t);

	/* Attach, then destroy: an attached process is detached, not killed. */
	pid = spawn((char *[]){ "attachme", "2", "300", NULL }, &out);
	n = read(out, line, 6);
	t = ops->create();
	CHECK("attach: second process", n == 6 && ops->attach(t, pid) == 0);
	ops->destroy(t);
	read_all(out, buf, sizeof buf);
	close(out);
	do w = waitpid(pid, &st, 0); while (w < 0 && errno == EINTR);
	CHECK("attach: destroy detaches (program exits 0)", w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	t = ops->create();
	CHECK("attach: no such process", ops->attach(t, 999999) < 0 && ops->pid(t) == 0);
	CHECK("attach: self refused", ops->attach(t, getpid()) < 0);
	ops->destroy(t);
}

/* A watchpoint set before a thread exists fires in that thread. */
static void test_watch_new_thread(void)
{
	pid_t pid;
	char *args[] = { "twatch", NULL };
	struct tgt *t = launch_quiet(&pid, args);
	CHECK("twatch: launch", t != NULL);
	if (!t) return;
	uint64_t hit = ptu_sym(pid, prog, "pt_hit"), w = ptu_sym(pid, prog, "pt_watched");
	struct tgt_event ev;
	int r = ops->insert_bp(t, TGT_BP_SW, hit, 1);
	r = r ? r : ops->resume(t, -1, TGT_RESUME_CONT, 0);
	r = r ? r : ptu_wait(ops, t, &ev, 20000);
	CHECK("twatch: at pt_hit, one thread", r == 1 && ev.reason == TGT_REASON_SWBREAK &&
	      ops->list_threads(t, NULL, 0) == 1);
	CHECK("twatch: insert watch, remove bp", ops->insert_bp(t, TGT_WP_WRITE, w, 4) == 0 &&
	      ops->remove_bp(t, TGT_BP_SW, hit, 1) == 0);
	r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	r = r ? r : ptu_wait(ops, t, &ev, 20000);
	CHECK("twatch: fires in the new thread", r == 1 && ev.kind == TGT_EV_STOPPED &&
	      ev.reason == TGT_REASON_WATCH && ev.addr == w && ev.tid != pid);
	ops->stop_all(t);
	while (ops->next_event(t, &ev, 0) == 1) {}
	r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	r = r ? r : ptu_wait(ops, t, &ev, 20000);
	CHECK("twatch: exits 0", r == 1 && ev.kind == TGT_EV_EXITED && ev.status == 0);
	ops->destroy(t);
}

/* Per-thread requests: step one thread off a breakpoint while the others
 * continue; stop() one running thread. */
static void test_per_thread(void)
{
	pid_t pid;
	char *args[] = { "threads", "3", "200", NULL };
	struct tgt *t = launch_quiet(&pid, args);
	CHECK("vcont: launch", t != NULL);
	if (!t) return;
	uint64_t hit = ptu_sym(pid, prog, "pt_hit");
	struct tgt_event ev;
	int r = ops->insert_bp(t, TGT_BP_SW, hit, 1);
	r = r ? r : ops->resume(t, -1, TGT_RESUME_CONT, 0);
	r = r ? r : ptu_wait(ops, t, &ev, 20000);
	CHECK("vcont: first hit", r == 1 && ev.reason == TGT_REASON_SWBREAK);
	pid_t T = ev.tid;
	ops->stop_all(t);
	int hits = 1, steps = 0;
	struct tgt_event e2;
	while (ops->next_event(t, &e2, 0) == 1)
		if (e2.kind == TGT_EV_STOPPED && e2.reason == TGT_REASON_SWBREAK) hits++;
	/* vCont;s:T;c */
	r = ops->resume(t, T, TGT_RESUME_STEP, 0);
	r = r ? r : ops->resume(t, -1, TGT_RESUME_CONT, 0);
	CHECK("vcont: s:T;c accepted", r == 0);
	bool step_seen = false;
	for (;;) {
		if (ptu_wait(ops, t, &ev, 20000) != 1) break;
		if (ev.kind != TGT_EV_STOPPED) break;
		if (ev.reason == TGT_REASON_STEP) {
			steps++;
			step_seen = ev.tid == T;
		} else if (ev.reason == TGT_REASON_SWBREAK) hits++;
		ops->stop_all(t);
		while (ops->next_event(t, &e2, 0) == 1)
			if (e2.kind == TGT_EV_STOPPED && e2.reason == TGT_REASON_SWBREAK) hits++;
			else if (e2.kind == TGT_EV_STOPPED && e2.reason == TGT_REASON_STEP) steps++;
		if (step_seen) break;
		r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
		if (r) break;
	}
	CHECK("vcont: the stepped thread reports one step", step_seen && steps == 1);
	/* one-thread interrupt while the others run */
	r = ops->remove_bp(t, TGT_BP_SW, hit, 1);
	CHECK("stop(tid): resume all", r == 0 && ops->resume(t, -1, TGT_RESUME_CONT, 0) == 0);
	CHECK("stop(tid): interrupt the leader", ops->stop(t, pid) == 0);
	r = ptu_wait(ops, t, &ev, 20000);
	CHECK("stop(tid): INTERRUPT event for that thread",
	      r == 1 && ((ev.kind == TGT_EV_STOPPED && ev.tid == pid && ev.reason == TGT_REASON_INTERRUPT) ||
			 ev.kind == TGT_EV_EXITED));
	if (ev.kind == TGT_EV_STOPPED) {
		ops->stop_all(t);
		while (ops->next_event(t, &e2, 0) == 1) {}
		r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
		r = r ? r : ptu_wait(ops, t, &ev, 20000);
	}
	CHECK("vcont: program's own count still right", ev.kind == TGT_EV_EXITED && ev.status == 0);
	ops->destroy(t);
}

int main(void)
{
	prog = ptu_target_abs("pt_prog");
	if (!prog) return 1;
	hit_loop(true, "threads all-stop");
	hit_loop(false, "threads one-thread resume");
	test_attach();
	test_watch_new_thread();
	test_per_thread();
	return check_done();
}
