/* gttrace: the C target of the tracepoint scenarios (tests/integration/stub_trace.sh)
 * and of the per-hit cost measurement.  Deterministic in every mode:
 *
 *   gttrace [run]        traced(i, &g_table[i % 8]) for i = 0..9, then done()
 *   gttrace threads [N]  4 threads call traced() N/4 times each (default 10000
 *                        in total), joined, then done()
 *   gttrace loop N       N calls of traced() in one thread, then done() (for the
 *                        per-hit cost: run it with and without a tracepoint)
 *
 * done() prints "gttrace: done calls=C sum=S" (the program's own view, which
 * tracing must not change) and is where the scenarios put their breakpoint. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long g_table[8] = { 10, 11, 12, 13, 14, 15, 16, 17 };
long *g_ptr = g_table;
long g_calls = 0;               /* calls of traced(), all threads */
long g_sum = 0;
struct point { int x, y; } g_point = { 3, 4 };
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) long traced(long i, long *p)
{
	long v = i * 2 + *p;
	__atomic_add_fetch(&g_calls, 1, __ATOMIC_RELAXED);
	return v;
}

__attribute__((noinline)) void done(void)
{
	printf("gttrace: done calls=%ld sum=%ld\n", g_calls, g_sum);
	fflush(stdout);
}

static long g_per_thread;

static void *worker(void *arg)
{
	long id = (long)arg, s = 0;
	for (long i = 0; i < g_per_thread; i++) s += traced(id, &g_table[id]);
	pthread_mutex_lock(&g_mu);
	g_sum += s;
	pthread_mutex_unlock(&g_mu);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "run";
	if (strcmp(mode, "threads") == 0) {
		long total = argc > 2 ? atol(argv[2]) : 10000;
		pthread_t th[4];
		g_per_thread = total / 4;
		for (long i = 0; i < 4; i++)
			if (pthread_create(&th[i], NULL, worker, (void *)i) != 0) return 2;
		for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
	} else if (strcmp(mode, "loop") == 0) {
		long n = argc > 2 ? atol(argv[2]) : 100000;
		for (long i = 0; i < n; i++) g_sum += traced(i, &g_table[i % 8]);
	} else {
		for (long i = 0; i < 10; i++) g_sum += traced(i, &g_table[i % 8]);
	}
	done();
	return 0;
}
