/* stp_driver.c — a stand-in for `gotap --script` / `gotap -e` until
 * analyzer/main.c routes those options to stp_run(): the integration tests
 * build it against libana and call it with gotap's own option names.
 *   stp_driver (--script FILE | -e SCRIPT) [--remote ADDR | --pid PID]
 *              [--binary PATH] [--duration SECS] [-- PROG ARGS...]
 * The stub comes from $GOTAP_STUB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stp_run.h"

int main(int argc, char **argv)
{
	struct stp_run_opts o = { 0 };
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--") == 0) {
			o.argv = &argv[i + 1];
			break;
		}
		if (v == NULL) {
			fprintf(stderr, "stp_driver: %s needs a value\n", a);
			return 2;
		}
		if (strcmp(a, "--script") == 0)
			o.script_file = v;
		else if (strcmp(a, "-e") == 0)
			o.script_text = v;
		else if (strcmp(a, "--remote") == 0)
			o.remote = v;
		else if (strcmp(a, "--pid") == 0)
			o.pid = atoi(v);
		else if (strcmp(a, "--binary") == 0)
			o.binary = v;
		else if (strcmp(a, "--duration") == 0)
			o.duration = atof(v);
		else {
			fprintf(stderr, "stp_driver: unknown option %s\n", a);
			return 2;
		}
	}
	if (o.argv && o.argv[0] == NULL)
		o.argv = NULL;
	return stp_run(&o);
}
