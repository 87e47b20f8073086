/* check.h — the tiny assertion kit of gotap's C unit tests.
 *
 * Each CHECK prints "PASS: <name>" or "FAIL: <name>: <expr> (file:line)", the
 * line format tests/run.sh counts.  check_done() returns the exit status.
 */
#ifndef GOTAP_CHECK_H
#define GOTAP_CHECK_H
#include <stdio.h>

static int check_failures;

#define CHECK(name, expr) do { \
	if (expr) printf("PASS: %s\n", (name)); \
	else { printf("FAIL: %s: %s (%s:%d)\n", (name), #expr, __FILE__, __LINE__); check_failures++; } \
	fflush(stdout); \
} while (0)

#define SKIP(name, why) do { printf("SKIP: %s: %s\n", (name), (why)); fflush(stdout); } while (0)

static inline int check_done(void) { return check_failures ? 1 : 0; }
#endif
