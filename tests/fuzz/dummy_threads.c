/* dummy_threads.c — fuzz_stub_dispatch's traced dummy as a plain program
 * (see dummy_threads.h); scripts/fuzz.sh builds it next to the fuzzer and
 * names it in GOTAP_FUZZ_DUMMY_BIN. */
#include "dummy_threads.h"

int main(void)
{
	dummy_run();
	return 0;
}
