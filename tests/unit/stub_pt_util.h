/* stub_pt_util.h — helpers shared by the ptrace backend's unit tests (stub_pt_*.c).
 *
 * Finding the test programs ($GOTAP_BUILD/targets, built on demand with
 * tests/targets/build.sh), symbol addresses from an ELF .symtab plus the load
 * base from /proc/PID/maps, and waiting for the next event that is not
 * thread bookkeeping.
 */
#ifndef GOTAP_STUB_PT_UTIL_H
#define GOTAP_STUB_PT_UTIL_H

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "target.h"

static inline const char *ptu_build_dir(void)
{
	const char *b = getenv("GOTAP_BUILD");
	return b && *b ? b : "/work/main/build";
}

/* Path of test program NAME, building it if it is missing. */
static inline const char *ptu_target(const char *name)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/targets/%s", ptu_build_dir(), name);
	if (access(path, X_OK) == 0) return path;
	const char *root = getenv("GOTAP_ROOT");
	char cmd[PATH_MAX * 2];
	snprintf(cmd, sizeof cmd, "GOTAP_BUILD='%s' '%s/tests/targets/build.sh' '%s' >&2",
		 ptu_build_dir(), root && *root ? root : "/work/main", name);
	if (system(cmd) != 0 || access(path, X_OK) != 0) return NULL;
	return path;
}

/* ptu_target, as an absolute path (the backend's exe_path answers
 * compare with it); prints the FAIL line itself.  NULL on failure. */
static inline const char *ptu_target_abs(const char *name)
{
	static char abs[PATH_MAX];
	const char *p = ptu_target(name);
	if (!p) {
		printf("FAIL: build %s\n", name);
		return NULL;
	}
	if (!realpath(p, abs)) {
		printf("FAIL: realpath %s: %s\n", p, strerror(errno));
		return NULL;
	}
	return abs;
}

/* st_value of symbol NAME in the ELF file PATH's .symtab; 0 if absent.
 * *is_dyn tells whether the file is ET_DYN (needs the load base). */
static inline uint64_t ptu_elf_sym(const char *path, const char *name, int *is_dyn)
{
	uint64_t val = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0) return 0;
	struct stat st;
	if (fstat(fd, &st) < 0) { close(fd); return 0; }
	uint8_t *img = malloc((size_t)st.st_size);
	if (!img || pread(fd, img, (size_t)st.st_size, 0) != st.st_size) goto out;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0) goto out;
	if (is_dyn) *is_dyn = eh->e_type == ET_DYN;
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB) continue;
		Elf64_Sym *sym = (Elf64_Sym *)(img + sh[i].sh_offset);
		const char *str = (const char *)(img + sh[sh[i].sh_link].sh_offset);
		size_t n = sh[i].sh_size / sizeof *sym;
		for (size_t k = 0; k < n; k++)
			if (strcmp(str + sym[k].st_name, name) == 0 && sym[k].st_value) {
				val = sym[k].st_value;
				goto out;
			}
	}
out:
	free(img);
	close(fd);
	return val;
}

/* Load base of the main executable of pid (start of its offset-0 mapping). */
static inline uint64_t ptu_load_base(pid_t pid)
{
	char path[64], exe[PATH_MAX], line[PATH_MAX + 256];
	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(path, exe, sizeof exe - 1);
	if (n < 0) return 0;
	exe[n] = 0;
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f) return 0;
	uint64_t base = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, off;
		char file[PATH_MAX] = "";
		if (sscanf(line, "%lx-%*x %*s %lx %*s %*s %4095s", &lo, &off, file) < 2) continue;
		if (off == 0 && strcmp(file, exe) == 0) {
			base = lo;
			break;
		}
	}
	fclose(f);
	return base;
}

/* Runtime address of symbol name in the program pid runs from path. */
static inline uint64_t ptu_sym(pid_t pid, const char *path, const char *name)
{
	int dyn = 0;
	uint64_t v = ptu_elf_sym(path, name, &dyn);
	if (!v) return 0;
	return dyn ? v + ptu_load_base(pid) : v;
}

/* Next event that is not thread bookkeeping; 1, 0 on timeout, or -errno. */
static inline int ptu_wait(const struct tgt_ops *ops, struct tgt *t, struct tgt_event *ev, int ms)
{
	for (;;) {
		int r = ops->next_event(t, ev, ms);
		if (r != 1) return r;
		if (ev->kind == TGT_EV_THREAD_CREATED || ev->kind == TGT_EV_THREAD_EXITED) continue;
		return 1;
	}
}

static inline bool ptu_proc_exists(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	return access(path, F_OK) == 0;
}

/* Launch PROG with ARGS (NULL-terminated, at most 6) under the ptrace
 * backend, the program's stdout sent to the file OUT (opened O_TRUNC;
 * NULL: /dev/null): its output is not the test's to print.  NULL on
 * failure (*err, if given, gets the launch's -errno). */
static inline struct tgt *ptu_launch(const char *prog, char *const *args, const char *out,
				     pid_t *pid, int *err)
{
	if (err) *err = -EIO;
	struct tgt *t = pt_ops.create();
	if (!t) return NULL;
	char *argv[8] = { (char *)prog };
	for (int i = 0; args && args[i] && i < 6; i++) argv[i + 1] = args[i];
	struct tgt_launch_opts o = { .argv = argv, .disable_aslr = true };
	fflush(stdout);
	int save = dup(1), fd = open(out ? out : "/dev/null", O_WRONLY | (out ? O_TRUNC : 0));
	int r = -EIO;
	if (save >= 0 && fd >= 0 && dup2(fd, 1) >= 0) {
		r = pt_ops.launch(t, &o, pid);
		dup2(save, 1);
	}
	if (save >= 0) close(save);
	if (fd >= 0) close(fd);
	if (err) *err = r;
	if (r < 0) {
		pt_ops.destroy(t);
		return NULL;
	}
	return t;
}

#endif
