/* pt_prog.c — the program the ptrace backend's unit tests (tests/unit/stub_pt_*.c) drive.
 *
 * Usage: pt_prog MODE [ARGS]; it prints what it did and its exit code
 * tells the test whether it saw what it should have:
 *   hits N          call pt_hit() N times; prints "hits N"; exit 0
 *   threads T N     T threads ("pt-worker-I") each call pt_hit() N times;
 *                   prints "total X"; exit 0 iff X == T*N
 *   watch           writes 1, 2, 3 to pt_watched; prints "watched 3"
 *   signal          raises SIGUSR1 then SIGUSR2; exit code = bits of the handlers
 *                   that ran (1: USR1, 2: USR2)
 *   attachme T MS   T threads count for MS milliseconds after printing
 *                   "ready" (stdout flushed), then "done" and exit 0; every
 *                   worker passes pt_hit() once per loop
 *   exit N          exit with code N
 *   spin            sleep forever
 *   fork N          N forked children each call pt_hit() and exit 0; the parent
 *                   calls it once per child too; exit 0 iff every child exited 0
 *   vfork N         N times vfork + exec of "pt_prog exit 0"; pt_hit() per child
 *   exec            pt_hit(), then exec "pt_prog hits 2"
 *   thexec          a second thread (main sleeping) execs "pt_prog hits 2"
 *   crash           pt_hit(), then a write through a null pointer (SIGSEGV)
 *   usr1wait        waits (spinning) for SIGUSR1; exit 5 once its handler ran
 *   twatch          pt_hit(), then a new thread writes 7 to pt_watched
 *   churn N         N short-lived threads, 8 at a time, each calls pt_hit() once;
 *                   exit 0 iff the count is N
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile int pt_global = 0x12345678;
volatile int pt_watched = 0;
atomic_long pt_count;
static volatile sig_atomic_t got;
static long per_thread;
static volatile int stop_now;

__attribute__((noinline)) void pt_hit(void)
{
	atomic_fetch_add(&pt_count, 1);
}

static void on_sig(int sig)
{
	got |= sig == SIGUSR1 ? 1 : 2;
}

static void *worker(void *arg)
{
	char name[16];
	snprintf(name, sizeof name, "pt-worker-%ld", (long)(intptr_t)arg);
	pthread_setname_np(pthread_self(), name);
	for (long i = 0; i < per_thread; i++) pt_hit();
	return NULL;
}

static void *once(void *arg)
{
	(void)arg;
	pt_hit();
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	pt_watched = 7;
	return NULL;
}

static char *self_argv0;

static void *execer(void *arg)
{
	(void)arg;
	execl("/proc/self/exe", self_argv0, "hits", "2", (char *)NULL);
	return NULL;
}

static void *spinner(void *arg)
{
	char name[16];
	snprintf(name, sizeof name, "pt-worker-%ld", (long)(intptr_t)arg);
	pthread_setname_np(pthread_self(), name);
	while (!stop_now) {
		pt_hit();
		usleep(100);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "hits";
	if (!strcmp(mode, "hits")) {
		long n = argc > 2 ? atol(argv[2]) : 3;
		for (long i = 0; i < n; i++) pt_hit();
		printf("hits %ld\n", (long)pt_count);
		return 0;
	}
	if (!strcmp(mode, "threads") || !strcmp(mode, "attachme")) {
		int nt = argc > 2 ? atoi(argv[2]) : 4;
		per_thread = argc > 3 ? atol(argv[3]) : 100;
		bool attach = !strcmp(mode, "attachme");
		pthread_t th[64];
		if (nt > 64) nt = 64;
		if (attach) {
			printf("ready\n");
			fflush(stdout);
		}
		for (int i = 0; i < nt; i++)
			if (pthread_create(&th[i], NULL, attach ? spinner : worker, (void *)(intptr_t)i)) return 90;
		if (attach) {
			struct timespec ts = { per_thread / 1000, (per_thread % 1000) * 1000000L };
			while (nanosleep(&ts, &ts) != 0) {}
			stop_now = 1;
		}
		for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
		if (attach) {
			printf("done %d\n", pt_global);
			return 0;
		}
		printf("total %ld\n", (long)pt_count);
		return pt_count == nt * per_thread ? 0 : 1;
	}
	if (!strcmp(mode, "watch")) {
		for (int i = 1; i <= 3; i++) pt_watched = i;
		printf("watched %d\n", pt_watched);
		return 0;
	}
	if (!strcmp(mode, "signal")) {
		signal(SIGUSR1, on_sig);
		signal(SIGUSR2, on_sig);
		raise(SIGUSR1);
		raise(SIGUSR2);
		return got;
	}
	if (!strcmp(mode, "exit")) return argc > 2 ? atoi(argv[2]) : 0;
	if (!strcmp(mode, "fork") || !strcmp(mode, "vfork")) {
		int n = argc > 2 ? atoi(argv[2]) : 3, bad = 0;
		bool v = mode[0] == 'v';
		for (int i = 0; i < n; i++) {
			pt_hit();
			pid_t c = v ? vfork() : fork();
			if (c == 0) {
				if (v) {
					execl("/proc/self/exe", argv[0], "exit", "0", (char *)NULL);
					_exit(126);
				}
				pt_hit();
				_exit(0);
			}
			int st;
			if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) bad++;
		}
		printf("children %d bad %d\n", n, bad);
		return bad != 0;
	}
	if (!strcmp(mode, "exec")) {
		pt_hit();
		fflush(stdout);
		execl("/proc/self/exe", argv[0], "hits", "2", (char *)NULL);
		return 98;
	}
	if (!strcmp(mode, "thexec")) {
		pthread_t th;
		self_argv0 = argv[0];
		if (pthread_create(&th, NULL, execer, NULL)) return 90;
		for (;;) pause();
	}
	if (!strcmp(mode, "crash")) {
		pt_hit();
		*(volatile int *)(intptr_t)(argc - 2) = 1;   /* argc == 2: address 0 */
		return 97;
	}
	if (!strcmp(mode, "usr1wait")) {
		signal(SIGUSR1, on_sig);
		while (!got) {}
		return 5;
	}
	if (!strcmp(mode, "twatch")) {
		pthread_t th;
		pt_hit();
		if (pthread_create(&th, NULL, writer, NULL)) return 90;
		pthread_join(th, NULL);
		return pt_watched == 7 ? 0 : 1;
	}
	if (!strcmp(mode, "churn")) {
		long n = argc > 2 ? atol(argv[2]) : 100;
		for (long i = 0; i < n; i += 8) {
			pthread_t th[8];
			int k = 0;
			for (; k < 8 && i + k < n; k++)
				if (pthread_create(&th[k], NULL, once, NULL)) return 90;
			for (int j = 0; j < k; j++) pthread_join(th[j], NULL);
		}
		printf("churn %ld\n", (long)pt_count);
		return pt_count == n ? 0 : 1;
	}
	if (!strcmp(mode, "spin"))
		for (;;) pause();
	return 99;
}
