/* handlers_vfile.c — host I/O for gdb's "target:" sysroot (GDB manual E.9
 * "Host I/O Packets"): vFile:setfs, open, pread, fstat, close, readlink.
 *
 * Access policy: a connected client may read the target's own files only —
 * its executable, every file it has mapped (/proc/PID/maps), its /proc/PID
 * entries (files of procfs only: /proc/PID/root, cwd and fd/N lead out of
 * /proc and what they reach follows the other rules), and separate debug
 * info under /usr/lib/debug — unless the stub
 * runs with --allow-host-io.  Files are opened read-only; the descriptors gdb
 * sees are indexes into a small table, not the stub's own fds.
 * Errors are "F-1,errno" with gdb's File-I/O errno values (E.13.8).
 *
 * Whose files: after "vFile:setfs:PID" naming the target, paths are looked
 * up as the target sees them.  For a target in another mount namespace or
 * root (gotap-stub on the host attached into a container) that means inside
 * /proc/PID/root, with openat2(RESOLVE_IN_ROOT) so that absolute symlinks in
 * the container (/lib64/ld-linux-x86-64.so.2 -> /lib/...) resolve in the
 * container too; the paths qXfer:exec-file and /proc/PID/maps give are
 * already the target's view.  setfs:0 (the default) is the stub's own view.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "handlers.h"

#define STUB_VFILE_CHUNK 16384

static int fio_errno(int e)
{
	switch (e) {
	case EPERM: case ENOENT: case EINTR: case EBADF: case EACCES: case EFAULT:
	case EBUSY: case EEXIST: case ENODEV: case ENOTDIR: case EISDIR: case EINVAL:
	case ENFILE: case EMFILE: case EFBIG: case ENOSPC: case ESPIPE: case EROFS:
		return e;   /* same numbers on Linux */
	case ENAMETOOLONG: return 91;
	default: return 9999;
	}
}

static int fail(struct stub_out *o, int e)
{
	stub_out_fmt(o, "F-1,%x", fio_errno(e));
	return STUB_OK;
}

void stub_vfile_close_all(struct stub_session *s)
{
	for (int i = 0; i < STUB_MAX_VFILE; i++)
		if (s->vfd[i] >= 0) {
			if (close(s->vfd[i]) != 0) perror("gotap-stub: close");
			s->vfd[i] = -1;
		}
}

/* Is the file at canonical path real one of the target's own? */
static bool mapped_by_target(struct stub_session *s, const char *real)
{
	char mp[64];
	snprintf(mp, sizeof mp, "/proc/%d/maps", (int)s->pid);
	FILE *f = fopen(mp, "re");
	if (!f) return false;
	char line[PATH_MAX + 256];
	bool found = false;
	while (!found && fgets(line, sizeof line, f)) {
		char *slash = strchr(line, '/');
		if (!slash) continue;
		slash[strcspn(slash, "\n")] = 0;
		found = strcmp(slash, real) == 0;
	}
	if (fclose(f) != 0) perror("gotap-stub: fclose");
	return found;
}

/* Do the files at /proc/PID/<name> and /proc/self/<name> differ? */
static bool differs(pid_t pid, const char *name)
{
	char p[64], q[64];
	struct stat a, b;
	snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, name);
	snprintf(q, sizeof q, "/proc/self/%s", name);
	if (stat(p, &a) != 0 || stat(q, &b) != 0) return false;
	return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

/* An O_PATH descriptor of the target's root when host I/O must look there
 * (setfs named the target, and its mount namespace or its root is not
 * ours), else -1. */
static int target_root(struct stub_session *s)
{
	if (s->vfs_pid <= 0 || s->pid <= 0) return -1;
	if (!differs(s->pid, "ns/mnt") && !differs(s->pid, "root")) return -1;
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/root", (int)s->pid);
	return open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* open path inside root (RESOLVE_IN_ROOT: "/" and absolute symlinks mean root). */
static int open_in_root(int root, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT };
	return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

/* Is fd (opened in the target's root) one of the target's own files?  The
 * same rules as allowed(), in the target's view: its executable (same file),
 * a file it has mapped, its /proc/PID entries (the wire pid, in its own
 * /proc), separate debug info. */
static bool allowed_fd(struct stub_session *s, const char *path, int fd)
{
	if (s->cfg->allow_host_io) return true;
	char own[64];
	int n = snprintf(own, sizeof own, "/proc/%d/", (int)stub_ns_out(s, s->pid));
	struct statfs sf;
	if (strncmp(path, own, (size_t)n) == 0 && !strstr(path, "/..") &&
	    fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC)
		return true;
	struct stat st, ex;
	char exe[64];
	snprintf(exe, sizeof exe, "/proc/%d/exe", (int)s->pid);
	if (fstat(fd, &st) == 0 && stat(exe, &ex) == 0 && st.st_dev == ex.st_dev && st.st_ino == ex.st_ino)
		return true;
	/* the kernel names a file of another mount namespace as that namespace
	 * sees it, as in /proc/PID/maps */
	char fdp[64], real[PATH_MAX];
	snprintf(fdp, sizeof fdp, "/proc/self/fd/%d", fd);
	ssize_t l = readlink(fdp, real, sizeof real - 1);
	if (l <= 0) return false;
	real[l] = 0;
	if (strncmp(real, "/usr/lib/debug/", 15) == 0) return true;
	return mapped_by_target(s, real);
}

/* With setfs:0 gdb names the target's /proc entries with the ids it knows,
 * which are the target's own (stub_ns_out): "/proc/<pid>[/task/<tid>]/..."
 * becomes the stub's /proc path of the same process and thread.  Other
 * paths are copied as they are.  false if the path does not fit. */
static bool proc_path_in(struct stub_session *s, const char *path, char *out, size_t cap)
{
	int pid, tid, n = 0, m = 0;
	if (sscanf(path, "/proc/%d/%n", &pid, &n) == 1 && n > 0 && pid > 0) {
		pid_t hp = stub_ns_in(s, pid);
		if (hp > 0 && hp == s->pid && pid != hp) {
			const char *rest = path + n;
			if (sscanf(rest, "task/%d/%n", &tid, &m) == 1 && m > 0 && tid > 0) {
				pid_t ht = stub_ns_in(s, tid);
				if (ht > 0)
					return snprintf(out, cap, "/proc/%d/task/%d/%s", (int)hp, (int)ht,
							rest + m) < (int)cap;
			}
			return snprintf(out, cap, "/proc/%d/%s", (int)hp, rest) < (int)cap;
		}
	}
	return snprintf(out, cap, "%s", path) < (int)cap;
}

/* Is path (resolved) a file of procfs?  /proc/PID/root, cwd and fd/N are
 * links out of /proc: what they lead to is not one of "the target's /proc
 * entries" and goes through the other rules. */
static bool on_procfs(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

/* link_only: the caller reads the link itself (vFile:readlink), not what
 * it leads to, so /proc/PID/cwd and the like may be named. */
static bool allowed(struct stub_session *s, const char *path, bool link_only)
{
	if (s->cfg->allow_host_io) return true;
	if (s->pid <= 0 || path[0] != '/') return false;
	char real[PATH_MAX], own[64];
	if (!realpath(path, real)) return errno == ENOENT;   /* open() then says ENOENT */
	int n = snprintf(own, sizeof own, "/proc/%d/", (int)s->pid);
	if (strncmp(path, own, (size_t)n) == 0 && !strstr(path, "/..") &&
	    (link_only || on_procfs(real)))
		return true;
	if (strncmp(real, "/usr/lib/debug/", 15) == 0) return true;
	char exe[PATH_MAX], rexe[PATH_MAX];
	if (s->ops->exe_path(s->tgt, exe, sizeof exe) == 0 && realpath(exe, rexe) &&
	    strcmp(rexe, real) == 0)
		return true;
	return mapped_by_target(s, real);
}

static int vf_open(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	char path[PATH_MAX];
	uint64_t flags, mode;
	if (!stub_cur_hexstr(&a, ',', path, sizeof path) || !stub_cur_hex(&a, &flags) ||
	    !stub_cur_char(&a, ',') || !stub_cur_hex(&a, &mode) || !stub_cur_end(&a))
		return fail(o, EINVAL);
	if (path[0] != '/') return fail(o, ENOENT);   /* gdb probes with "just probing" */
	if (flags != 0) return fail(o, EACCES);   /* read-only host I/O */
	int root = target_root(s);
	char own[PATH_MAX];
	if (root < 0) {
		if (!proc_path_in(s, path, own, sizeof own)) return fail(o, ENAMETOOLONG);
		memcpy(path, own, strlen(own) + 1);
	}
	if (root < 0 && !allowed(s, path, false)) return fail(o, EACCES);
	int slot = -1;
	for (int i = 0; i < STUB_MAX_VFILE && slot < 0; i++)
		if (s->vfd[i] < 0) slot = i;
	if (slot < 0) {
		if (root >= 0) close(root);
		return fail(o, EMFILE);
	}
	int fd;
	if (root >= 0) {
		fd = open_in_root(root, path, O_RDONLY);
		int e = errno;
		close(root);
		if (fd < 0) return fail(o, e);
		if (!allowed_fd(s, path, fd)) {
			close(fd);
			return fail(o, EACCES);
		}
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) return fail(o, errno);
	s->vfd[slot] = fd;
	stub_out_fmt(o, "F%x", slot);
	return STUB_OK;
}

static int get_fd(struct stub_session *s, struct stub_cur *a, int *fd)
{
	uint64_t v;
	if (!stub_cur_hex(a, &v) || v >= STUB_MAX_VFILE || s->vfd[v] < 0) return -1;
	*fd = s->vfd[v];
	return (int)v;
}

static int vf_pread(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	int fd;
	uint64_t count, off;
	if (get_fd(s, &a, &fd) < 0) return fail(o, EBADF);
	if (!stub_cur_char(&a, ',') || !stub_cur_hex(&a, &count) || !stub_cur_char(&a, ',') ||
	    !stub_cur_hex(&a, &off) || !stub_cur_end(&a) || off > INT64_MAX)
		return fail(o, EINVAL);
	/* gdb asks for a whole PacketSize (128 KiB) at every pread and keeps
	 * only the last chunk, while BFD reads a few hundred bytes here and
	 * there: big chunks multiply the bytes moved (4x over gdbserver's
	 * 18 KiB in a `attach` scenario).  A short read is legal (pread
	 * semantics; gdb asks again for the rest). */
	if (count > STUB_VFILE_CHUNK) count = STUB_VFILE_CHUNK;
	size_t room = o->cap - 32;
	if (count > room) count = room;
	/* Read straight into the reply after a header of maximal size, then
	 * move the data down behind the real header. */
	char *data = o->buf + 24;
	ssize_t n = pread(fd, data, (size_t)count, (off_t)off);
	if (n < 0) return fail(o, errno);
	char hdr[24];
	int hl = snprintf(hdr, sizeof hdr, "F%zx;", (size_t)n);
	memmove(o->buf + hl, data, (size_t)n);
	memcpy(o->buf, hdr, (size_t)hl);
	o->len = (size_t)hl + (size_t)n;
	return STUB_OK;
}

static void be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static int vf_fstat(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	int fd;
	if (get_fd(s, &a, &fd) < 0 || !stub_cur_end(&a)) return fail(o, EBADF);
	struct stat st;
	if (fstat(fd, &st) != 0) return fail(o, errno);
	/* struct fio_stat: big-endian, 7 x u32, 3 x u64, 3 x u32 (E.13.7) */
	uint8_t b[64];
	be(b + 0, st.st_dev, 4);
	be(b + 4, st.st_ino, 4);
	be(b + 8, st.st_mode, 4);
	be(b + 12, st.st_nlink, 4);
	be(b + 16, st.st_uid, 4);
	be(b + 20, st.st_gid, 4);
	be(b + 24, st.st_rdev, 4);
	be(b + 28, (uint64_t)st.st_size, 8);
	be(b + 36, (uint64_t)st.st_blksize, 8);
	be(b + 44, (uint64_t)st.st_blocks, 8);
	be(b + 52, (uint64_t)st.st_atime, 4);
	be(b + 56, (uint64_t)st.st_mtime, 4);
	be(b + 60, (uint64_t)st.st_ctime, 4);
	stub_out_fmt(o, "F%zx;", sizeof b);
	stub_out_mem(o, b, sizeof b);
	return STUB_OK;
}

static int vf_close(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	int fd;
	int slot = get_fd(s, &a, &fd);
	if (slot < 0 || !stub_cur_end(&a)) return fail(o, EBADF);
	s->vfd[slot] = -1;
	if (close(fd) != 0) return fail(o, errno);
	stub_out_str(o, "F0");
	return STUB_OK;
}

static int vf_readlink(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	char path[PATH_MAX], target[PATH_MAX];
	if (!stub_cur_hexstr(&a, 0, path, sizeof path)) return fail(o, EINVAL);
	int root = target_root(s);
	char own[PATH_MAX];
	if (root < 0) {
		if (!proc_path_in(s, path, own, sizeof own)) return fail(o, ENAMETOOLONG);
		memcpy(path, own, strlen(own) + 1);
	}
	ssize_t n;
	if (root >= 0) {
		/* the link itself, found inside the target's root */
		int fd = open_in_root(root, path, O_PATH | O_NOFOLLOW);
		int e = errno;
		close(root);
		if (fd < 0) return fail(o, e);
		if (!allowed_fd(s, path, fd)) {
			close(fd);
			return fail(o, EACCES);
		}
		n = readlinkat(fd, "", target, sizeof target);
		e = errno;
		close(fd);
		if (n < 0) return fail(o, e);
	} else {
		if (!allowed(s, path, true)) return fail(o, EACCES);
		n = readlink(path, target, sizeof target);
		if (n < 0) return fail(o, errno);
	}
	stub_out_fmt(o, "F%zx;", (size_t)n);
	stub_out_mem(o, target, (size_t)n);
	return STUB_OK;
}

static int vf_setfs(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	uint64_t pid;
	if (!stub_cur_hex(&a, &pid) || !stub_cur_end(&a) || pid > 0x7fffffff) return fail(o, EINVAL);
	/* 0: the stub's own files; the target's (wire) pid: the target's view
	 * (target_root); any other process is not ours to show. */
	if (pid != 0 && (s->pid <= 0 || stub_ns_in(s, (pid_t)pid) != s->pid)) return fail(o, ESRCH);
	s->vfs_pid = (pid_t)pid;
	stub_out_str(o, "F0");
	return STUB_OK;
}

int stub_h_vfile(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	static const struct {
		const char *op;
		int (*fn)(struct stub_session *, struct stub_cur, struct stub_out *);
	} ops[] = {
		{ "open:", vf_open }, { "pread:", vf_pread }, { "fstat:", vf_fstat },
		{ "close:", vf_close }, { "readlink:", vf_readlink }, { "setfs:", vf_setfs },
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		size_t l = strlen(ops[i].op);
		if (a.n >= l && memcmp(a.p, ops[i].op, l) == 0)
			return ops[i].fn(s, (struct stub_cur){ a.p + l, a.n - l }, o);
	}
	return STUB_OK;   /* unknown vFile operation: empty reply */
}
