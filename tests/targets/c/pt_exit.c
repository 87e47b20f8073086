/* pt_exit.c — exit_group(2) from a non-leader thread while the others block or spin.
 *
 * Usage: pt_exit NBLOCK NSPIN CHURN DELAY_US CODE
 *   NBLOCK threads (and the leader) block in read(2) on a pipe nobody writes,
 *   NSPIN threads call pt_exit_tick() in a loop (a place for breakpoints),
 *   CHURN threads create and join short-lived threads in a loop (threads are
 *   born and die while the process exits), and one more thread sleeps DELAY_US
 *   microseconds and then calls exit_group(CODE) itself.
 * Used by tests/unit/stub_pt_exit.c.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile unsigned long ticks;
static int pfd[2];
static long delay_us;
static int code;

__attribute__((noinline)) void pt_exit_tick(void)
{
	__sync_fetch_and_add(&ticks, 1);
}

static void *blocker(void *a)
{
	char c;
	(void)a;
	for (;;)
		if (read(pfd[0], &c, 1) <= 0) usleep(1000);
	return NULL;
}

static void *spinner(void *a)
{
	(void)a;
	for (;;) pt_exit_tick();
	return NULL;
}

static void *shortlived(void *a)
{
	(void)a;
	pt_exit_tick();
	return NULL;
}

static void *churn(void *a)
{
	(void)a;
	for (;;) {
		pthread_t t;
		if (pthread_create(&t, NULL, shortlived, NULL) == 0) pthread_join(t, NULL);
	}
	return NULL;
}

static void *exiter(void *a)
{
	(void)a;
	usleep((useconds_t)delay_us);
	syscall(SYS_exit_group, code);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 6 || pipe(pfd) < 0) return 100;
	int nblock = atoi(argv[1]), nspin = atoi(argv[2]), nchurn = atoi(argv[3]);
	delay_us = atol(argv[4]);
	code = atoi(argv[5]);
	pthread_t t;
	for (int i = 0; i < nblock; i++) pthread_create(&t, NULL, blocker, NULL);
	for (int i = 0; i < nspin; i++) pthread_create(&t, NULL, spinner, NULL);
	for (int i = 0; i < nchurn; i++) pthread_create(&t, NULL, churn, NULL);
	pthread_create(&t, NULL, exiter, NULL);
	blocker(NULL);
	return 101;
}
