// link: -lgtshared
/* gtcprog: the C target of the integration scenarios (tests/integration/stub_*.sh).
 * Built with -g -O0 and linked with libgtshared.so.  Every run is deterministic:
 *
 *   gtcprog [run]    compute(5) -> 21 through the library, bump() twice, then exit
 *   gtcprog signal   as run, then raise(SIGUSR1); the handler counts it
 *   gtcprog spin     prints "gtcprog: spinning", then loops until gdb sets g_stop
 *   gtcprog wait     prints "gtcprog: waiting pid=N", then sleeps in a loop until
 *                    g_stop is set (by gdb) or SIGUSR1 arrives (from the test)
 *
 * Every mode ends by calling bump(1) once more (a breakpoint a detached/disconnected
 * session must have removed) and printing
 *   gtcprog: done counter=C watched=W usr1=U
 * then exits with status g_counter (7 unless gdb changed it), so `set var` is
 * visible in the program's own output and exit code. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int gtshared_add(int a, int b);
const char *gtshared_name(void);

int g_counter = 7;               /* printed and set by gdb; the exit status */
int g_watched = 0;               /* watched by gdb: 0 -> 21 -> 22 -> ... */
volatile int g_stop = 0;         /* spin/wait loops end when gdb sets it */
volatile long g_spins = 0;       /* work done by the spin loop */
volatile sig_atomic_t g_usr1 = 0; /* SIGUSR1 deliveries seen by the handler */

static void on_usr1(int sig)
{
	(void)sig;
	g_usr1++;
}

/* Adds by to g_watched (the watchpoint scenarios' write) and returns it. */
int bump(int by)
{
	g_watched += by;
	return g_watched;
}

/* Returns 3 * (x + 2), the addition done in the shared library. */
int compute(int x)
{
	int y = gtshared_add(x, 2);
	y = y * 3;
	return y;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "run";
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL) != 0) {
		perror("sigaction");
		return 100;
	}
	printf("gtcprog: start mode=%s lib=%s\n", mode, gtshared_name());
	fflush(stdout);
	int r = compute(5);
	bump(r);
	bump(1);
	if (strcmp(mode, "signal") == 0) {
		raise(SIGUSR1);
		printf("gtcprog: after raise usr1=%d\n", (int)g_usr1);
	} else if (strcmp(mode, "spin") == 0) {
		printf("gtcprog: spinning\n");
		fflush(stdout);
		while (!g_stop)
			g_spins++;
	} else if (strcmp(mode, "wait") == 0) {
		printf("gtcprog: waiting pid=%d\n", (int)getpid());
		fflush(stdout);
		while (!g_stop && !g_usr1)
			usleep(1000);
	}
	bump(1); /* after-wait: a breakpoint here is reached only once the loop ends */
	printf("gtcprog: done counter=%d watched=%d usr1=%d\n", g_counter, g_watched, (int)g_usr1);
	fflush(stdout);
	return g_counter;
}
