/* ana_fetch.c — unit tests of analyzer/fetch.c (build IDs, the cache, fetching
 * the target's executable over RSP host I/O) and of rspc's vFile calls.
 *
 * Build IDs are compared with what the toolchain says: `go tool buildid` for
 * Go's note, `readelf -n` for NT_GNU_BUILD_ID.  The fetch runs against the
 * REAL gdbserver, started (through a wrapper) in a private mount namespace
 * where the program sits on a tmpfs: this process cannot see that file, so
 * gotap must fetch it.  Needs root for that part (SKIP otherwise).
 * Target: tests/targets/go/grow_recurse.go in $GOTAP_BUILD/targets/.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/check.h"
#include "fetch.h"
#include "rspc.h"

static char target[PATH_MAX];
static char tmp[] = "/tmp/ana_fetch.XXXXXX";

/* First line of a command's output, trailing newline removed. */
static int run_line(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	if (!p) return -1;
	out[0] = 0;
	if (!fgets(out, (int)cap, p)) out[0] = 0;
	int st = pclose(p);
	out[strcspn(out, "\n")] = 0;
	return st == 0 && out[0] ? 0 : -1;
}

static bool same_file_content(const char *a, const char *b)
{
	char cmd[2 * PATH_MAX + 32];
	snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
	return system(cmd) == 0;
}

static void test_build_ids(void)
{
	struct fetch_id id;
	char want[512], cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof cmd, "go tool buildid '%s' 2>/dev/null", target);
	int r = fetch_file_build_id(target, &id);
	CHECK("build id: Go binary has Go's note", r == 0 && id.kind && strcmp(id.kind, "go") == 0);
	if (run_line(cmd, want, sizeof want) == 0)
		CHECK("build id: equals `go tool buildid`", r == 0 && strcmp(id.id, want) == 0);
	else
		SKIP("build id: equals `go tool buildid`", "go tool buildid not available");

	const char *c_bin = "/bin/true";
	snprintf(cmd, sizeof cmd, "readelf -n %s 2>/dev/null | sed -n 's/.*Build ID: *//p'", c_bin);
	if (run_line(cmd, want, sizeof want) == 0) {
		r = fetch_file_build_id(c_bin, &id);
		CHECK("build id: C binary uses NT_GNU_BUILD_ID", r == 0 && id.kind && strcmp(id.kind, "gnu") == 0);
		CHECK("build id: equals readelf's", r == 0 && strcmp(id.id, want) == 0);
	} else {
		SKIP("build id: C binary uses NT_GNU_BUILD_ID", "/bin/true has no GNU build ID here");
	}
	CHECK("build id: not an ELF file", fetch_file_build_id("/etc/passwd", &id) == -1 && id.kind == NULL);
	CHECK("build id: missing file", fetch_file_build_id("/nonexistent/x", &id) == -1);

	struct fetch_id a = { "go", "x/y" }, b = { "go", "x/y" }, c = { "gnu", "x/y" }, n = { NULL, "" };
	CHECK("build id: equal", fetch_id_equal(&a, &b));
	CHECK("build id: kind matters", !fetch_id_equal(&a, &c));
	CHECK("build id: none never equal", !fetch_id_equal(&n, &n));
}

/* A truncated or hostile ELF never crashes the note reader. */
static void test_hostile_elf(void)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/bad.elf", tmp);
	uint8_t h[128] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	/* e_phoff = 64, e_phentsize = 56, e_phnum = 0xffff (beyond our limit) */
	h[32] = 64; h[54] = 56; h[56] = 0xff; h[57] = 0xff;
	FILE *f = fopen(path, "w");
	if (!f || fwrite(h, 1, sizeof h, f) != sizeof h || fclose(f) != 0) {
		CHECK("hostile elf: written", 0);
		return;
	}
	struct fetch_id id;
	CHECK("hostile elf: huge phnum -> no id", fetch_file_build_id(path, &id) == 1);
	/* one PT_NOTE pointing past the end of the file */
	h[56] = 1; h[57] = 0;
	memset(h + 64, 0, 56);
	h[64] = 4;                       /* PT_NOTE */
	h[72] = 0xf0; h[73] = 0xff;      /* p_offset far away */
	h[96] = 0x10;                    /* p_filesz */
	f = fopen(path, "w");
	if (!f || fwrite(h, 1, sizeof h, f) != sizeof h || fclose(f) != 0) return;
	CHECK("hostile elf: note past the end -> no id", fetch_file_build_id(path, &id) == 1);
}

static void test_cache_dir(void)
{
	char d[PATH_MAX];
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	CHECK("cache dir: $XDG_CACHE_HOME/gotap", fetch_cache_dir(d, sizeof d) == 0 && strcmp(d, "/x/cache/gotap") == 0);
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "/h", 1);
	CHECK("cache dir: ~/.cache/gotap", fetch_cache_dir(d, sizeof d) == 0 && strcmp(d, "/h/.cache/gotap") == 0);
	setenv("XDG_CACHE_HOME", "relative", 1);   /* XDG: relative paths are ignored */
	CHECK("cache dir: relative XDG_CACHE_HOME ignored", fetch_cache_dir(d, sizeof d) == 0 &&
	      strcmp(d, "/h/.cache/gotap") == 0);
}

/* gdbserver in a private mount namespace, the program on a tmpfs there. */
static struct rspc *spawn_hidden(const char *dir, pid_t *stub_pid, char *err, size_t errlen)
{
	char wrap[PATH_MAX + 16];
	snprintf(wrap, sizeof wrap, "%s/wrap.sh", tmp);
	FILE *f = fopen(wrap, "w");
	if (!f) return NULL;
	fprintf(f, "#!/bin/sh\n"
		   "exec unshare --mount --propagation private sh -c "
		   "'mount -t tmpfs none \"%s\" && cp \"%s\" \"%s/prog\" && exec gdbserver \"$@\"' sh \"$@\"\n",
		dir, target, dir);
	if (fclose(f) != 0 || chmod(wrap, 0755) != 0) return NULL;
	char prog[PATH_MAX + 16];
	snprintf(prog, sizeof prog, "%s/prog", dir);
	char *argv[] = { prog, NULL };
	return rspc_spawn(wrap, argv, 0, stub_pid, err, errlen);
}

static void test_fetch_gdbserver(void)
{
	if (geteuid() != 0 || system("unshare --mount true 2>/dev/null") != 0) {
		SKIP("fetch from gdbserver", "needs root for a private mount namespace");
		return;
	}
	if (system("command -v gdbserver >/dev/null 2>&1") != 0) {
		SKIP("fetch from gdbserver", "gdbserver not installed");
		return;
	}
	char dir[PATH_MAX], cache[PATH_MAX], err[512];
	snprintf(dir, sizeof dir, "%s/hidden", tmp);
	snprintf(cache, sizeof cache, "%s/cache", tmp);
	if (mkdir(dir, 0755) != 0) {
		CHECK("fetch: mkdir", 0);
		return;
	}
	setenv("XDG_CACHE_HOME", cache, 1);
	for (int round = 0; round < 2; round++) {
		pid_t spid = 0;
		struct rspc *c = spawn_hidden(dir, &spid, err, sizeof err);
		struct rsp_stop st;
		if (!c || rspc_handshake(c, &st) < 0) {
			CHECK("fetch: gdbserver started in its namespace", 0);
			if (c) rspc_close(c);
			return;
		}
		int64_t pid = st.has_thread && st.thread.has_pid ? st.thread.pid : st.thread.tid;
		char path[PATH_MAX + 16];
		snprintf(path, sizeof path, "%s/prog", dir);
		if (round == 0) {
			CHECK("fetch: the program is not visible here", access(path, F_OK) != 0);
			/* host I/O directly */
			int e = 0;
			CHECK("vfile: setfs", rspc_vfile_setfs(c, pid) == 0);
			CHECK("vfile: open of a missing file says ENOENT",
			      rspc_vfile_open(c, "/nonexistent/file", &e) < 0 && e == ENOENT);
			int fd = rspc_vfile_open(c, path, &e);
			CHECK("vfile: open the target's executable", fd >= 0);
			char hdr[4];
			CHECK("vfile: pread reads the ELF magic",
			      fd >= 0 && rspc_vfile_pread(c, fd, hdr, 4, 0) == 4 && memcmp(hdr, "\177ELF", 4) == 0);
			struct stat sb;
			static char big[4 << 20];
			long n = fd >= 0 ? rspc_vfile_pread(c, fd, big, sizeof big, 0) : -1;
			CHECK("vfile: pread of the whole file (many packets) stops at its end",
			      stat(target, &sb) == 0 && n == sb.st_size);
			CHECK("vfile: pread past the end reads 0",
			      fd >= 0 && rspc_vfile_pread(c, fd, hdr, 4, (uint64_t)sb.st_size + 10) == 0);
			CHECK("vfile: close", fd >= 0 && rspc_vfile_close(c, fd) == 0);
			CHECK("vfile: close again fails", fd >= 0 && rspc_vfile_close(c, fd) < 0);
		}
		struct fetch_result fr;
		/* round 0: a wrong --binary is refused and the stub's copy fetched;
		 * round 1: the cache answers */
		int r = fetch_executable(c, round == 0 ? "/bin/true" : NULL, pid, NULL, &fr, err, sizeof err);
		if (r < 0) fprintf(stderr, "ana_fetch: %s\n", err);
		if (round == 0) {
			CHECK("fetch: fetched from gdbserver", r == 0 && fr.fetched && fr.cached);
			CHECK("fetch: the copy equals the program", r == 0 && same_file_content(fr.path, target));
			CHECK("fetch: target path as the stub says", r == 0 && fr.target_path &&
			      strcmp(fr.target_path, path) == 0);
			CHECK("fetch: cached under <cache>/gotap/<build-id>/prog", r == 0 &&
			      strncmp(fr.path, cache, strlen(cache)) == 0 &&
			      strcmp(strrchr(fr.path, '/'), "/prog") == 0);
		} else {
			CHECK("fetch: second time from the cache", r == 0 && !fr.fetched && fr.cached &&
			      same_file_content(fr.path, target));
		}
		if (r == 0) fetch_result_free(&fr);
		(void)rspc_kill(c);
		rspc_close(c);
		int ws;
		(void)waitpid(spid, &ws, 0);
	}
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const char *build = getenv("GOTAP_BUILD");
	if (!build || !*build) build = "/work/main/build";
	snprintf(target, sizeof target, "%s/targets/grow_recurse", build);
	if (access(target, X_OK) != 0) {
		const char *root = getenv("GOTAP_ROOT");
		char cmd[2 * PATH_MAX + 64];
		snprintf(cmd, sizeof cmd, "GOTAP_BUILD='%s' '%s/tests/targets/build.sh' grow_recurse >&2",
			 build, root && *root ? root : "/work/main");
		if (system(cmd) != 0) fprintf(stderr, "ana_fetch: %s failed\n", cmd);
	}
	if (!mkdtemp(tmp)) {
		CHECK("mkdtemp", 0);
		return check_done();
	}
	if (access(target, X_OK) != 0) {
		CHECK("target grow_recurse built", 0);
	} else {
		test_build_ids();
		test_fetch_gdbserver();
	}
	test_hostile_elf();
	test_cache_dir();
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0) fprintf(stderr, "ana_fetch: cannot remove %s\n", tmp);
	return check_done();
}
