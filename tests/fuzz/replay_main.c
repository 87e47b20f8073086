/* replay_main.c — run a libFuzzer target over its saved corpus without libFuzzer.
 *
 * `make test` links each tests/fuzz/fuzz_*.c with this driver and passes the
 * corpus directory; every file is fed to LLVMFuzzerTestOneInput once, so inputs
 * that once crashed stay regression tests.  Prints one PASS line per directory
 * (a crash aborts the process and the runner counts a failure).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) { perror(path); return -1; }
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) { free(buf); fclose(f); return -1; }
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		if (n == 0) break;
		len += n;
	}
	int err = ferror(f);
	fclose(f);
	if (err) { free(buf); return -1; }
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int failures = 0;
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		if (!d) { printf("SKIP: %s: no corpus\n", argv[i]); continue; }
		struct dirent *e;
		int n = 0;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.') continue;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
			if (run_file(path) < 0) failures++;
			else n++;
		}
		closedir(d);
		if (failures) printf("FAIL: replay %s: %d unreadable inputs\n", argv[i], failures);
		else printf("PASS: replay %s (%d inputs)\n", argv[i], n);
	}
	return failures ? 1 : 0;
}
