/* ns_prog: the multi-threaded C target of the non-stop scenarios
 * (tests/integration/stub_nonstop.sh).  Built with -g -O0 -pthread.
 *
 * main starts three workers (named "worker1".."worker3") and joins them:
 *   worker1  calls point_a(1) once, then spins in spin() until g_stop
 *   worker2  spins until gdb sets g_release_b, calls point_b(2) once, then
 *            spins until g_stop
 *   worker3  spins until g_stop
 * Every thread that is not stopped by gdb keeps running, so a scenario can
 * stop one thread (a breakpoint on point_a) while the others run, write
 * g_release_b with the others running (the second breakpoint, point_b, is
 * hit while worker1 is still stopped), and end the program by setting
 * g_stop: each worker returns, main prints
 *   ns_prog: done a=A b=B
 * and exits with status 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

volatile int g_stop = 0;         /* set by gdb: every worker returns */
volatile int g_release_b = 0;    /* set by gdb: worker2 calls point_b */
volatile int g_a = 0, g_b = 0;   /* calls of point_a / point_b */
volatile long g_spins[4];

int point_a(int id)
{
	g_a++;
	return id * 10;
}

int point_b(int id)
{
	g_b++;
	return id * 20;
}

void spin(int id)
{
	while (!g_stop) {
		g_spins[id]++;
		usleep(1000);
	}
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	char name[16];
	snprintf(name, sizeof name, "worker%d", id);
	pthread_setname_np(pthread_self(), name);
	if (id == 1) {
		point_a(id);
	} else if (id == 2) {
		while (!g_release_b && !g_stop) usleep(1000);
		if (!g_stop) point_b(id);
	}
	spin(id);
	return NULL;
}

int main(void)
{
	pthread_t th[3];
	printf("ns_prog: start\n");
	fflush(stdout);
	for (long i = 0; i < 3; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(i + 1)) != 0) return 100;
	for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
	printf("ns_prog: done a=%d b=%d\n", g_a, g_b);
	fflush(stdout);
	return 0;
}
