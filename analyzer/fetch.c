/* fetch.c — the target's executable for gotap when the user has no copy of
 * it (a program in a container, on another host): compare build IDs, use a
 * local file only when it is the same build, otherwise fetch the stub's copy
 * over the GDB remote protocol's host I/O packets and cache it by build ID.
 *
 * The path comes from qXfer:exec-file:read (the path as the target sees it:
 * inside a container that path may not exist here, or may be another file).
 * The bytes come from vFile:open/pread/close after vFile:setfs:PID, which
 * asks the stub to look the path up in the target's mount namespace (GDB
 * manual E.9 "Host I/O Packets") — what gdb's default "target:" sysroot does.
 *
 * Build IDs are read from the ELF notes without loading the whole file: the
 * header, the program headers and the PT_NOTE segments (a few KB, so a few
 * round trips for the remote side).  Go writes its own note even when the
 * GNU one is absent (cmd/link: ".note.go.buildid", name "Go", type 4); we use
 * NT_GNU_BUILD_ID when there is one (it is what debuginfod and gdb key on).
 *
 * Cache layout: $XDG_CACHE_HOME/gotap/<build-id>/<basename> (default
 * ~/.cache/gotap), written to a temporary name, verified, then renamed, so a
 * crashed or concurrent fetch never leaves a half file under the final name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"

#define FETCH_MAX_PHNUM 512           /* more program headers than that: not a sane ELF */
#define FETCH_MAX_SHNUM 4096
#define FETCH_MAX_NOTES (64 * 1024)   /* bytes of one note segment we look at */
#define FETCH_CHUNK (1024 * 1024)     /* bytes per rspc_vfile_pread call (it splits further) */

#define NT_GNU_BUILD_ID_ 3
#define NT_GO_BUILDID_ 4
#define PT_NOTE_ 4
#define SHT_NOTE_ 7

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	fputs("gotap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Read exactly len bytes at off.  0 or -1. */
static int read_full(fetch_read_fn rd, void *ctx, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		long n = rd(ctx, (uint8_t *)buf + got, len - got, off + got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* Scan one note area for GNU and Go build IDs. */
static void scan_notes(const uint8_t *p, size_t n, struct fetch_id *gnu, struct fetch_id *go)
{
	size_t i = 0;
	while (i + 12 <= n) {
		uint32_t namesz = (uint32_t)le(p + i, 4), descsz = (uint32_t)le(p + i + 4, 4);
		uint32_t type = (uint32_t)le(p + i + 8, 4);
		size_t name = i + 12;
		size_t desc = name + (((size_t)namesz + 3) & ~(size_t)3);
		size_t next = desc + (((size_t)descsz + 3) & ~(size_t)3);
		if (namesz > n || descsz > n || desc > n || next > n || desc + descsz > n)
			return;
		if (type == NT_GNU_BUILD_ID_ && namesz == 4 && memcmp(p + name, "GNU", 4) == 0 &&
		    descsz > 0 && descsz * 2 < FETCH_ID_MAX && gnu->kind == NULL) {
			static const char hx[] = "0123456789abcdef";
			for (uint32_t k = 0; k < descsz; k++) {
				gnu->id[2 * k] = hx[p[desc + k] >> 4];
				gnu->id[2 * k + 1] = hx[p[desc + k] & 15];
			}
			gnu->id[2 * descsz] = '\0';
			gnu->kind = "gnu";
		} else if (type == NT_GO_BUILDID_ && (namesz == 3 || namesz == 4) &&
			   memcmp(p + name, "Go", 3) == 0 &&
			   descsz > 0 && descsz < FETCH_ID_MAX && go->kind == NULL) {
			size_t l = descsz;
			while (l > 0 && p[desc + l - 1] == '\0')
				l--;
			if (l > 0) {
				memcpy(go->id, p + desc, l);
				go->id[l] = '\0';
				go->kind = "go";
			}
		}
		if (next <= i)
			return;
		i = next;
	}
}

/* Read [off, off+size) (capped) and scan it. */
static void scan_area(fetch_read_fn rd, void *ctx, uint64_t off, uint64_t size,
		      struct fetch_id *gnu, struct fetch_id *go)
{
	if (size == 0)
		return;
	if (size > FETCH_MAX_NOTES)
		size = FETCH_MAX_NOTES;
	uint8_t *buf = malloc((size_t)size);
	if (buf == NULL)
		return;
	if (read_full(rd, ctx, buf, (size_t)size, off) == 0)
		scan_notes(buf, (size_t)size, gnu, go);
	free(buf);
}

int fetch_build_id(fetch_read_fn rd, void *ctx, struct fetch_id *out)
{
	memset(out, 0, sizeof *out);
	uint8_t eh[64];
	if (read_full(rd, ctx, eh, sizeof eh, 0) < 0)
		return -1;
	if (memcmp(eh, "\177ELF", 4) != 0 || eh[4] != 2 /* ELFCLASS64 */ || eh[5] != 1 /* LSB */)
		return -1;
	uint64_t phoff = le(eh + 32, 8), shoff = le(eh + 40, 8);
	unsigned phentsize = (unsigned)le(eh + 54, 2), phnum = (unsigned)le(eh + 56, 2);
	unsigned shentsize = (unsigned)le(eh + 58, 2), shnum = (unsigned)le(eh + 60, 2);
	struct fetch_id gnu = { 0 }, go = { 0 };

	if (phoff != 0 && phentsize >= 56 && phnum > 0 && phnum <= FETCH_MAX_PHNUM) {
		size_t sz = (size_t)phentsize * phnum;
		uint8_t *ph = malloc(sz);
		if (ph != NULL && read_full(rd, ctx, ph, sz, phoff) == 0) {
			for (unsigned i = 0; i < phnum; i++) {
				const uint8_t *p = ph + (size_t)i * phentsize;
				if (le(p, 4) == PT_NOTE_)
					scan_area(rd, ctx, le(p + 8, 8), le(p + 32, 8), &gnu, &go);
			}
		}
		free(ph);
	}
	/* Not in a loaded note segment (e.g. an object linked oddly): the
	 * section headers, which sit at the end of the file. */
	if (gnu.kind == NULL && go.kind == NULL && shoff != 0 && shentsize >= 64 && shnum > 0 &&
	    shnum <= FETCH_MAX_SHNUM) {
		size_t sz = (size_t)shentsize * shnum;
		uint8_t *sh = malloc(sz);
		if (sh != NULL && read_full(rd, ctx, sh, sz, shoff) == 0) {
			for (unsigned i = 0; i < shnum; i++) {
				const uint8_t *p = sh + (size_t)i * shentsize;
				if (le(p + 4, 4) == SHT_NOTE_)
					scan_area(rd, ctx, le(p + 24, 8), le(p + 32, 8), &gnu, &go);
			}
		}
		free(sh);
	}
	if (gnu.kind)
		*out = gnu;
	else if (go.kind)
		*out = go;
	else
		return 1;
	return 0;
}

static long read_local(void *ctx, void *buf, size_t len, uint64_t off)
{
	int fd = *(int *)ctx;
	ssize_t n;
	do
		n = pread(fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	return (long)n;
}

int fetch_file_build_id(const char *path, struct fetch_id *out)
{
	memset(out, 0, sizeof *out);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fetch_build_id(read_local, &fd, out);
	if (close(fd) != 0)
		return -1;
	return r;
}

bool fetch_id_equal(const struct fetch_id *a, const struct fetch_id *b)
{
	return a->kind != NULL && b->kind != NULL && strcmp(a->kind, b->kind) == 0 &&
	       strcmp(a->id, b->id) == 0;
}

/* ---------------------------------------------------------------- remote */

struct remote_file {
	struct rspc *c;
	int fd;
};

static long read_remote(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct remote_file *rf = ctx;
	return rspc_vfile_pread(rf->c, rf->fd, buf, len, off);
}

/* ----------------------------------------------------------------- cache */

static const char *id_str(const struct fetch_id *id, char *buf, size_t cap)
{
	if (id->kind == NULL)
		snprintf(buf, cap, "none");
	else
		snprintf(buf, cap, "%s %s", id->kind, id->id);
	return buf;
}

int fetch_cache_dir(char *buf, size_t cap)
{
	const char *x = getenv("XDG_CACHE_HOME");
	int n;
	if (x != NULL && x[0] == '/') {
		n = snprintf(buf, cap, "%s/gotap", x);
	} else {
		const char *home = getenv("HOME");
		if (home == NULL || home[0] != '/') {
			struct passwd *pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : NULL;
		}
		if (home == NULL || home[0] != '/')
			return -1;
		n = snprintf(buf, cap, "%s/.cache/gotap", home);
	}
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* mkdir -p, mode 0700 for what we create. */
static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return -1;
	struct stat st;
	return stat(tmp, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* A directory name for an ID: GNU's hex as is; Go's id with '/' as '.'
 * (Go build IDs use the base64url alphabet and '/'), anything else hex. */
static void id_key(const struct fetch_id *id, char *buf, size_t cap)
{
	bool safe = true;
	for (const char *p = id->id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-' || *p == '/'))
			safe = false;
	if (safe) {
		snprintf(buf, cap, "%s", id->id);
		for (char *p = buf; *p; p++)
			if (*p == '/')
				*p = '.';
		return;
	}
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)id->id; *p && o + 3 < cap; p++) {
		buf[o++] = hx[*p >> 4];
		buf[o++] = hx[*p & 15];
	}
	buf[o] = '\0';
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	const char *b = s ? s + 1 : path;
	return *b ? b : "executable";
}

/* Copy a file read through rd into a new file in dir: a temporary name,
 * its build ID checked against want, then renamed to dir/name (dst).
 * Returns the size, or -1 with err set (nothing left behind). */
static long long copy_in(fetch_read_fn rd, void *ctx, const struct fetch_id *want,
			 const char *dir, const char *name, char *dst, size_t dstcap,
			 char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, name) >= (int)sizeof tmp ||
	    snprintf(dst, dstcap, "%s/%s", dir, name) >= (int)dstcap) {
		set_err(err, errlen, "cache path too long");
		return -1;
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		set_err(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	uint8_t *buf = malloc(FETCH_CHUNK);
	long long total = 0;
	if (buf == NULL) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	for (;;) {
		long n = rd(ctx, buf, FETCH_CHUNK, (uint64_t)total);
		if (n < 0) {
			if (*err == '\0')   /* the reader may have said why */
				set_err(err, errlen, "read error: %s", strerror(errno));
			goto fail;
		}
		for (long w = 0; w < n;) {
			ssize_t k = write(fd, buf + w, (size_t)(n - w));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				set_err(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
				goto fail;
			}
			w += k;
		}
		total += n;
		if (n < FETCH_CHUNK)
			break;
	}
	free(buf);
	buf = NULL;
	if (fchmod(fd, 0755) != 0 || close(fd) != 0) {
		fd = -1;
		set_err(err, errlen, "cannot finish %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	struct fetch_id got;
	if (fetch_file_build_id(tmp, &got) != 0 || !fetch_id_equal(&got, want)) {
		char a[FETCH_ID_MAX + 8], b[FETCH_ID_MAX + 8];
		set_err(err, errlen, "the copy has build ID %s, not the target's %s",
			id_str(&got, a, sizeof a), id_str(want, b, sizeof b));
		goto fail;
	}
	if (rename(tmp, dst) != 0) {
		set_err(err, errlen, "cannot rename %s to %s: %s", tmp, dst, strerror(errno));
		goto fail;
	}
	return total;
fail:
	free(buf);
	if (fd >= 0)
		(void)close(fd);
	(void)unlink(tmp);
	return -1;
}

/* Read errors of the stub's copy carry rspc's reason. */
struct remote_ctx {
	struct remote_file rf;
	char *err;
	size_t errlen;
};

static long read_remote_err(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct remote_ctx *r = ctx;
	long n = read_remote(&r->rf, buf, len, off);
	if (n < 0)
		set_err(r->err, r->errlen, "%s", rspc_error(r->rf.c));
	return n;
}

static long long download(struct rspc *c, int rfd, const struct fetch_id *want, const char *dir,
			  const char *name, char *dst, size_t dstcap, char *err, size_t errlen)
{
	struct remote_ctx r = { { c, rfd }, err, errlen };
	err[0] = '\0';
	return copy_in(read_remote_err, &r, want, dir, name, dst, dstcap, err, errlen);
}

static long long copy_local(int fd, const struct fetch_id *want, const char *dir, const char *name,
			    char *dst, size_t dstcap, char *err, size_t errlen)
{
	err[0] = '\0';
	return copy_in(read_local, &fd, want, dir, name, dst, dstcap, err, errlen);
}

/* ------------------------------------------------------------- decision */

void fetch_result_free(struct fetch_result *res)
{
	free(res->path);
	free(res->target_path);
	res->path = res->target_path = NULL;
}

/* Use path if it is readable and (when the target's ID is known) has the
 * same ID.  Says why not when `what` is given.  Returns true to use it. */
static bool usable(const char *path, const struct fetch_id *want, const char *what)
{
	struct stat st;
	if (path == NULL || stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, R_OK) != 0)
		return false;
	if (want->kind == NULL)
		return true;
	struct fetch_id have;
	int r = fetch_file_build_id(path, &have);
	if (r == 0 && fetch_id_equal(&have, want))
		return true;
	if (what != NULL) {
		char a[FETCH_ID_MAX + 8], b[FETCH_ID_MAX + 8];
		say("%s %s is not the target's build (build ID %s, the target's is %s): not using it",
		    what, path, r < 0 ? "unreadable" : id_str(&have, a, sizeof a), id_str(want, b, sizeof b));
	}
	return false;
}

static int take(struct fetch_result *res, const char *path, char *err, size_t errlen)
{
	res->path = strdup(path);
	if (res->path == NULL) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int fetch_executable(struct rspc *c, const char *local, int64_t pid, const char *proc_exe,
		     struct fetch_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	char tpath[PATH_MAX];
	char why[320] = "";
	int rfd = -1;
	int rc = -1;

	if (rspc_exec_file(c, tpath, sizeof tpath) == 0 && tpath[0] != '\0') {
		res->target_path = strdup(tpath);
		if (res->target_path == NULL) {
			set_err(err, errlen, "out of memory");
			return -1;
		}
	} else {
		snprintf(why, sizeof why, "the stub does not say which file the target runs (%s)",
			 rspc_error(c));
	}

	/* The target's build ID: from /proc/PID/exe when we run on the same
	 * machine (gotap --pid), else from the stub's copy via host I/O. */
	if (proc_exe != NULL && fetch_file_build_id(proc_exe, &res->id) < 0)
		memset(&res->id, 0, sizeof res->id);
	if (res->target_path != NULL && (proc_exe == NULL || res->id.kind == NULL)) {
		int e = 0;
		if (rspc_vfile_setfs(c, pid) < 0)
			snprintf(why, sizeof why, "%s", rspc_error(c));
		else if ((rfd = rspc_vfile_open(c, res->target_path, &e)) < 0)
			snprintf(why, sizeof why, "%s", rspc_error(c));
		if (rfd >= 0) {
			struct remote_file rf = { c, rfd };
			int r = fetch_build_id(read_remote, &rf, &res->id);
			if (r < 0) {
				snprintf(why, sizeof why, "the stub's %s is not a readable ELF64 file (%s)",
					 res->target_path, rspc_error(c));
				memset(&res->id, 0, sizeof res->id);
			}
		}
	}

	/* 1. --binary */
	if (local != NULL) {
		if (usable(local, &res->id, "--binary")) {
			rc = take(res, local, err, errlen);
			goto out;
		}
		if (access(local, R_OK) != 0) {
			set_err(err, errlen, "--binary %s: %s", local, strerror(errno));
			goto out;
		}
	}
	/* 2. the target's own path, if this machine has the same file */
	if (res->target_path != NULL &&
	    usable(res->target_path, &res->id, local == NULL ? "local file" : NULL)) {
		rc = take(res, res->target_path, err, errlen);
		goto out;
	}
	/* 3. /proc/PID/exe (gotap --pid): the running file itself, when its
	 * path leads to it from here (not so for a program in another mount
	 * namespace: then it is copied into the cache below). */
	char real[PATH_MAX];
	if (proc_exe != NULL && realpath(proc_exe, real) != NULL && usable(real, &res->id, NULL)) {
		rc = take(res, real, err, errlen);
		goto out;
	}
	if (res->id.kind == NULL) {
		set_err(err, errlen, "cannot find a local copy of the target's executable%s%s%s%s; give --binary PATH",
			res->target_path ? " " : "", res->target_path ? res->target_path : "",
			why[0] ? ": " : "", why);
		goto out;
	}

	/* 4. the cache */
	char dir[PATH_MAX], key[2 * FETCH_ID_MAX + 1], dst[PATH_MAX], idb[FETCH_ID_MAX + 8];
	const char *name = base_name(res->target_path ? res->target_path : "executable");
	id_key(&res->id, key, sizeof key);
	bool have_cache = fetch_cache_dir(dir, sizeof dir) == 0 &&
			  strlen(dir) + strlen(key) + 2 < sizeof dir;
	if (have_cache) {
		strcat(dir, "/");
		strcat(dir, key);
		if (snprintf(dst, sizeof dst, "%s/%s", dir, name) < (int)sizeof dst &&
		    usable(dst, &res->id, NULL)) {
			say("using %s (cached copy of the target's %s, build ID %s)", dst,
			    res->target_path ? res->target_path : "executable",
			    id_str(&res->id, idb, sizeof idb));
			res->cached = true;
			rc = take(res, dst, err, errlen);
			goto out;
		}
	}

	/* 5. fetch it: copy /proc/PID/exe, else read the stub's copy */
	int lfd = -1;
	if (proc_exe != NULL && usable(proc_exe, &res->id, NULL))
		lfd = open(proc_exe, O_RDONLY | O_CLOEXEC);
	if (rfd < 0 && lfd < 0) {
		set_err(err, errlen, "cannot fetch the target's executable %s: %s; give --binary PATH",
			res->target_path ? res->target_path : "", why);
		goto out;
	}
	if (!have_cache || mkdirs(dir) != 0) {
		/* No writable cache: a private temporary directory instead. */
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof dir, "%s/gotap-fetch.XXXXXX", t && t[0] == '/' ? t : "/tmp");
		if (mkdtemp(dir) == NULL) {
			set_err(err, errlen, "cannot create a directory for the fetched executable: %s",
				strerror(errno));
			goto out;
		}
		say("the cache directory is not writable; fetching into %s", dir);
	} else {
		res->cached = true;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long long size = lfd >= 0 ? copy_local(lfd, &res->id, dir, name, dst, sizeof dst, err, errlen)
		: download(c, rfd, &res->id, dir, name, dst, sizeof dst, err, errlen);
	if (lfd >= 0)
		(void)close(lfd);
	if (size < 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (lfd >= 0)
		say("copied %s (%s, in another mount namespace; build ID %s) into %s", proc_exe,
		    res->target_path ? res->target_path : "the target's executable",
		    id_str(&res->id, idb, sizeof idb), dst);
	else
		say("fetched %s from the stub (%lld bytes in %.2f s, build ID %s) into %s", res->target_path,
		    size, secs, id_str(&res->id, idb, sizeof idb), dst);
	res->fetched = true;
	rc = take(res, dst, err, errlen);
out:
	if (rfd >= 0 && rspc_vfile_close(c, rfd) < 0 && rc == 0)
		say("vFile:close: %s", rspc_error(c));
	if (rc < 0)
		fetch_result_free(res);
	return rc;
}
