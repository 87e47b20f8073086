/* gort_test.h — helpers shared by the gort unit tests (ana_gort*.c): where
 * the Go test programs are, building them when missing, and running a tool
 * (gdb, go tool addr2line) to compare gort's answers with.
 */
#ifndef GOTAP_GORT_TEST_H
#define GOTAP_GORT_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* $GOTAP_BUILD/targets/NAME (built with tests/targets/build.sh if absent).
 * Returns 0, or -1 if it cannot be built. */
static inline int gt_target(const char *name, char *path, size_t cap)
{
	const char *build = getenv("GOTAP_BUILD"), *root = getenv("GOTAP_ROOT");
	char cmd[4096];

	if (!build)
		build = "build";
	if (!root)
		root = ".";
	if (snprintf(path, cap, "%s/targets/%s", build, name) >= (int)cap)
		return -1;
	if (access(path, X_OK) == 0)
		return 0;
	if (snprintf(cmd, sizeof cmd, "GOTAP_BUILD='%s' '%s/tests/targets/build.sh' %s >&2",
		     build, root, name) >= (int)sizeof cmd || system(cmd) != 0)
		return -1;
	return access(path, X_OK);
}

/* Run a shell command; its stdout (NUL-terminated, truncated to cap-1)
 * goes to out.  Returns the number of bytes, or -1. */
static inline long gt_run(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0, r;

	if (!p)
		return -1;
	while (n + 1 < cap && (r = fread(out + n, 1, cap - 1 - n, p)) > 0)
		n += r;
	out[n] = '\0';
	if (pclose(p) == -1)
		return -1;
	return (long)n;
}

/* Line number (1-based) of the first line of file containing needle, or 0. */
static inline int gt_line_of(const char *file, const char *needle)
{
	FILE *f = fopen(file, "r");
	char line[1024];
	int n = 0, found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof line, f)) {
		n++;
		if (strstr(line, needle))
			found = n;
	}
	fclose(f);
	return found;
}

/* True if s ends with suffix. */
static inline int gt_ends_with(const char *s, const char *suffix)
{
	size_t a = s ? strlen(s) : 0, b = strlen(suffix);

	return s && a >= b && strcmp(s + a - b, suffix) == 0;
}

#endif /* GOTAP_GORT_TEST_H */
