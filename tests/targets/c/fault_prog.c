/* fault_prog: the C target of the fault-injection and bad-input tests
 * (tests/integration/fault_*.sh, badinput_*.sh).  Deterministic output:
 *
 *   fault_prog           prints "fault_prog: waiting pid=N", then loops calling
 *                        tick() (writes g_watch) every millisecond until
 *                        SIGUSR1 arrives, then calls finish() once and prints
 *                        "fault_prog: done buf=S usr1=1" (S: byte sum of g_buf,
 *                        0 unless a debugger wrote it) and exits with status 5.
 *   fault_prog threads   the same with 3 extra threads that call tick() too.
 *
 * tick() is the hot breakpoint site (reached at once), finish() the cold one
 * (reached only after SIGUSR1): a breakpoint left in finish() by a session that
 * went away kills the program with SIGTRAP, a watchpoint left on g_watch
 * likewise, so a normal exit proves the stub removed them. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile int g_watch;                 /* written by tick(): watchpoint target */
volatile sig_atomic_t g_usr1;         /* the test's "finish now" */
unsigned char g_buf[65536];           /* large-write target */

__attribute__((noinline)) void tick(void)
{
	g_watch = g_watch + 1;
}

__attribute__((noinline)) int finish(void)
{
	unsigned long sum = 0;
	for (size_t i = 0; i < sizeof g_buf; i++) sum += g_buf[i];
	return (int)(sum & 0x7fffffff);
}

static void on_usr1(int sig)
{
	(void)sig;
	g_usr1 = 1;
}

static void *worker(void *arg)
{
	(void)arg;
	while (!g_usr1) {
		tick();
		usleep(1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL) != 0) {
		perror("sigaction");
		return 100;
	}
	pthread_t th[3];
	int nth = (argc > 1 && strcmp(argv[1], "threads") == 0) ? 3 : 0;
	for (int i = 0; i < nth; i++)
		if (pthread_create(&th[i], NULL, worker, NULL) != 0) return 101;
	printf("fault_prog: waiting pid=%d\n", (int)getpid());
	fflush(stdout);
	while (!g_usr1) {
		tick();
		usleep(1000);
	}
	for (int i = 0; i < nth; i++) pthread_join(th[i], NULL);
	int s = finish();
	printf("fault_prog: done buf=%d usr1=%d\n", s, (int)g_usr1);
	fflush(stdout);
	return 5;
}
