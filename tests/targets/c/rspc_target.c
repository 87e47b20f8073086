/* rspc_target.c — the small C program tests/unit/ana_rspc.c debugs through
 * gdbserver: a known global to read, a buffer larger than one packet, a
 * function to break on, and a line of output (to stdout and, if given, to the
 * file argv[1]) that shows what the debugger changed.
 *   rspc_target [OUTFILE]  ->  "rspc_target done counter=N sum=S"
 */
#include <stdio.h>

volatile unsigned long long rspc_magic = 0x1122334455667788ULL;
unsigned char rspc_big[40000];
volatile int rspc_counter;

__attribute__((noinline)) void rspc_hit(int n)
{
	rspc_counter += n;
}

int main(int argc, char **argv)
{
	for (unsigned i = 0; i < sizeof rspc_big; i++)
		rspc_big[i] = (unsigned char)(i * 7 + 3);
	rspc_hit(5);
	unsigned long sum = 0;
	for (unsigned i = 0; i < sizeof rspc_big; i++)
		sum += rspc_big[i];
	printf("rspc_target done counter=%d sum=%lu\n", rspc_counter, sum);
	if (fflush(stdout) != 0) return 1;
	if (argc > 1) {
		FILE *f = fopen(argv[1], "w");
		if (!f) return 1;
		fprintf(f, "rspc_target done counter=%d sum=%lu\n", rspc_counter, sum);
		if (fclose(f) != 0) return 1;
	}
	return 0;
}
