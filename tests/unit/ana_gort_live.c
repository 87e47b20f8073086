/* ana_gort_live.c — gort on a live Go process: the test is its own tiny
 * debugger.  It launches tests/targets/go/gort_recurse.go under ptrace
 * (GOMAXPROCS=1 GOGC=off), puts int3 at gort's runtime.newstack and
 * runtime.copystack probes, and at every hit reads the goroutine with
 * gort_read_growth (R14, then the TLS fallback) and unwinds it with
 * gort_unwind over /proc/PID/mem.  Checks: the first frame of a recursion
 * growth is main.recurse at its declaration line, the chain ends at
 * runtime.goexit through main.run, the frame-pointer fallback walks the same
 * frames as the CFI unwinder, frames agree with `go tool addr2line`,
 * copystack's RBX is the real new size (> 2x old for a 20 KiB frame).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/gort_test.h"
#include "gort.h"
#include "gort_int.h"

#define MAXF 1024

struct bp {
	uint64_t addr;
	long orig;
};

struct event {
	struct gort_growth gg;
	int nframes;
	struct gort_frame f[MAXF];
	uint64_t newsize;        /* from copystack, 0 if none seen */
};

static struct event *events;
static int nevents, npreempt, ncapacity;
static bool fp_same = true, dwfl_same = true, tls_same = true, r14_ok = true, preempt_grew;
static uint64_t preempt_g, preempt_g_size;
static bool quiet_dwfl;   /* without CFI libdwfl's own BP walk skips frame 1: known */   /* last newstack entry was a preemption of it */
static int memfd = -1;
static uint64_t unwind_ns, unwind_frames, dwfl_ns;  /* information only: no timing checks */

static long rd_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	return pread(memfd, buf, len, (off_t)addr);
}

/* A snapshot of one goroutine stack, read once per event (the analyzer's
 * memory cache does the same over RSP); other addresses go to rd_mem. */
struct snap {
	uint64_t lo, hi;
	unsigned char *buf;
};

static long rd_snap(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct snap *s = ctx;

	if (s->buf && addr >= s->lo && addr <= s->hi && len <= s->hi - addr) {
		memcpy(buf, s->buf + (addr - s->lo), len);
		return (long)len;
	}
	return rd_mem(NULL, addr, buf, len);
}

static int bp_insert(pid_t pid, struct bp *b)
{
	errno = 0;
	b->orig = ptrace(PTRACE_PEEKTEXT, pid, (void *)b->addr, NULL);
	if (errno)
		return -1;
	return (int)ptrace(PTRACE_POKETEXT, pid, (void *)b->addr,
			   (void *)((b->orig & ~0xffL) | 0xcc));
}

/* Step tid over breakpoint b (rip is b->addr + 1) and re-insert it.  Text
 * is poked through tid: ptrace needs a stopped thread, and the others run.
 * A signal that arrives instead of the step (Go's SIGURG) is kept in *sig
 * for the next resume and the step retried: delivering it now would run
 * the handler and come back to the breakpoint (a duplicate hit). */
static int bp_step_over(pid_t tid, struct bp *b, struct user_regs_struct *r, long *sig)
{
	int st;

	if (ptrace(PTRACE_POKETEXT, tid, (void *)b->addr, (void *)b->orig) != 0)
		return -1;
	r->rip = b->addr;
	if (ptrace(PTRACE_SETREGS, tid, NULL, r) != 0)
		return -1;
	for (int tries = 0;; tries++) {
		if (tries == 100 || ptrace(PTRACE_SINGLESTEP, tid, NULL, NULL) != 0 ||
		    waitpid(tid, &st, __WALL) != tid || !WIFSTOPPED(st))
			return -1;
		if (WSTOPSIG(st) == SIGTRAP)
			break;
		*sig = WSTOPSIG(st);
	}
	return bp_insert(tid, b);
}

/* Two unwinds give the same pcs (and sps, when both are given). */
static bool same_chain(const char *what, const struct gort_frame *a, const uint64_t *asp, int na,
		       const struct gort_frame *b, const uint64_t *bsp, int nb)
{
	for (int i = 0; i < na || i < nb; i++) {
		if (i < na && i < nb && a[i].pc == b[i].pc && (!asp || !bsp || asp[i] == bsp[i]))
			continue;
		if (!what)
			return false;
		printf("# %s differs at frame %d of %d/%d: 0x%" PRIx64 " %s / 0x%" PRIx64 " %s\n",
		       what, i, na, nb, i < na ? a[i].pc : 0, i < na && a[i].func ? a[i].func : "-",
		       i < nb ? b[i].pc : 0, i < nb && b[i].func ? b[i].func : "-");
		return false;
	}
	return true;
}

static void on_newstack(struct gort_bin *bin, const struct gort_layout *l,
			const struct user_regs_struct *r)
{
	struct gort_growth gg, tls;
	char err[256];
	struct event *e;
	static struct gort_frame other[MAXF];
	static uint64_t sps[MAXF], osps[MAXF];
	struct timespec t0, t1;
	struct snap snap;
	int n;

	if (gort_read_growth(l, rd_mem, NULL, r->r14, r->fs_base, &gg, err, sizeof err) != 0) {
		printf("# read_growth: %s\n", err);
		r14_ok = false;
		return;
	}
	if (gg.g0_from_tls)
		r14_ok = false;
	/* The TLS fallback finds the same g0 when R14 is useless. */
	if (gort_read_growth(l, rd_mem, NULL, 0, r->fs_base, &tls, err, sizeof err) != 0 ||
	    !tls.g0_from_tls || tls.g0 != gg.g0 || tls.g != gg.g)
		tls_same = false;
	preempt_g = 0;
	if (gg.preempt) {
		npreempt++;
		preempt_g = gg.g;
		preempt_g_size = gg.old_size;
		return;
	}
	if (nevents == ncapacity)
		return;
	e = &events[nevents++];
	e->gg = gg;
	e->newsize = 0;
	snap.lo = gg.stack_lo;
	snap.hi = gg.stack_hi;
	snap.buf = malloc(gg.old_size);
	if (snap.buf && rd_mem(NULL, snap.lo, snap.buf, gg.old_size) != (long)gg.old_size) {
		free(snap.buf);
		snap.buf = NULL;
	}
	/* Untimed first pass: symbol, line and CFA caches warm up. */
	(void)gort_unwind_sp(bin, rd_snap, &snap, gg.sched_pc, gg.sched_sp, gg.sched_bp,
			     e->f, sps, MAXF);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	e->nframes = gort_unwind_sp(bin, rd_snap, &snap, gg.sched_pc, gg.sched_sp, gg.sched_bp,
				    e->f, sps, MAXF);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unwind_ns += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec));
	unwind_frames += (uint64_t)e->nframes;
	/* Each unwinder alone gives the same frames as gort_unwind. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = gort_unwind_mode(bin, rd_snap, &snap, gg.sched_pc, gg.sched_sp, gg.sched_bp,
			     other, osps, MAXF, GORT_UW_DWFL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dwfl_ns += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec));
	if (!same_chain(quiet_dwfl ? NULL : "dwfl", e->f, sps, e->nframes, other, osps, n))
		dwfl_same = false;
	n = gort_unwind_mode(bin, rd_mem, NULL, gg.sched_pc, gg.sched_sp, gg.sched_bp,
			     other, osps, MAXF, GORT_UW_FP);
	if (!same_chain("fp", e->f, NULL, e->nframes, other, NULL, n))
		fp_same = false;
	free(snap.buf);
}

static void on_copystack(const struct user_regs_struct *r)
{
	/* RAX = gp, RBX = newsize (regabi, registers as at entry). */
	if (preempt_g && r->rax == preempt_g && r->rbx > preempt_g_size)
		preempt_grew = true;
	for (int i = nevents - 1; i >= 0; i--) {
		if (events[i].gg.g == r->rax) {
			if (!events[i].newsize && r->rbx > events[i].gg.old_size)
				events[i].newsize = r->rbx;
			return;
		}
	}
}

/* The session of one traced run: the binary is opened once the process
 * exists, with the load bias its auxiliary vector gives (PIE or not). */
struct session {
	const char *path;
	struct gort_bin *bin;
	struct gort_layout l;
	struct gort_probes p;
	uint64_t bias;
	const char *godebug;     /* GODEBUG for the target, or NULL */
	const struct gort_layout *layout_from;  /* for a binary without DWARF */
};

/* AT_PHDR from /proc/PID/auxv, or 0. */
static uint64_t auxv_phdr(pid_t pid)
{
	char fn[64];
	uint64_t kv[2], phdr = 0;
	int fd;

	snprintf(fn, sizeof fn, "/proc/%d/auxv", (int)pid);
	fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (read(fd, kv, sizeof kv) == (ssize_t)sizeof kv && kv[0] != 0)
		if (kv[0] == 3)      /* AT_PHDR */
			phdr = kv[1];
	close(fd);
	return phdr;
}

static int open_session(struct session *s, pid_t pid)
{
	char err[256] = "";

	if (gort_pie_bias(s->path, auxv_phdr(pid), &s->bias, err, sizeof err) != 0 ||
	    !(s->bin = gort_open(s->path, s->bias, err, sizeof err)) ||
	    (s->layout_from ? (s->l = *s->layout_from, 0) : gort_layout(s->bin, &s->l, err, sizeof err)) != 0 ||
	    gort_probes(s->bin, &s->p, err, sizeof err) != 0) {
		printf("# open: %s\n", err);
		return -1;
	}
	return 0;
}

/* Run the target to its end under our breakpoints.  0 on a clean exit. */
static int trace(struct session *s)
{
	struct bp bns, bcs;
	char memp[64];
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(null, STDOUT_FILENO) < 0 ||
		    ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0 ||
		    setenv("GOMAXPROCS", "1", 1) != 0 || setenv("GOGC", "off", 1) != 0 ||
		    (s->godebug && setenv("GODEBUG", s->godebug, 1) != 0))
			_exit(126);
		execl(s->path, s->path, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st) || open_session(s, pid) != 0)
		goto fail;
	bns.addr = s->p.newstack;
	bcs.addr = s->p.copystack;
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
		   (void *)(long)(PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL)) != 0 ||
	    bp_insert(pid, &bns) != 0 || bp_insert(pid, &bcs) != 0)
		goto fail;
	snprintf(memp, sizeof memp, "/proc/%d/mem", (int)pid);
	memfd = open(memp, O_RDONLY | O_CLOEXEC);
	if (memfd < 0 || ptrace(PTRACE_CONT, pid, NULL, NULL) != 0)
		goto fail;
	for (;;) {
		pid_t tid = waitpid(-1, &st, __WALL);
		long sig = 0;

		if (tid < 0)
			goto fail;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (tid == pid)
				break;
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		if (WSTOPSIG(st) == SIGTRAP && (st >> 16) == 0) {
			struct user_regs_struct r;

			if (ptrace(PTRACE_GETREGS, tid, NULL, &r) != 0)
				goto fail;
			if (r.rip - 1 == bns.addr) {
				on_newstack(s->bin, &s->l, &r);
				if (bp_step_over(tid, &bns, &r, &sig) != 0)
					goto fail;
			} else if (r.rip - 1 == bcs.addr) {
				on_copystack(&r);
				if (bp_step_over(tid, &bcs, &r, &sig) != 0)
					goto fail;
			} else {
				sig = SIGTRAP;
			}
		} else if (WSTOPSIG(st) != SIGTRAP && WSTOPSIG(st) != SIGSTOP) {
			sig = WSTOPSIG(st);
		}
		if (ptrace(PTRACE_CONT, tid, NULL, (void *)sig) != 0 && errno != ESRCH)
			goto fail;
	}
	close(memfd);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
fail:
	printf("# trace: %s\n", strerror(errno));
	kill(pid, SIGKILL);
	while (waitpid(-1, &st, __WALL) > 0)
		;
	return -1;
}

static bool pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* The first completed growth (copystack seen) whose frame 0 is in func.
 * A newstack hit without copystack happens when sysmon requests preemption
 * between our probe and newstack's own load of stackguard0 (the SIGURG that
 * comes with it shows in the trace): newstack then preempts instead, and
 * the goroutine enters newstack again later for the real growth. */
static const struct event *first_in(const char *func)
{
	for (int i = 0; i < nevents; i++)
		if (events[i].newsize && events[i].nframes > 0 && events[i].f[0].func &&
		    !strcmp(events[i].f[0].func, func))
			return &events[i];
	return NULL;
}

static bool has_func(const struct event *e, const char *func)
{
	for (int i = 0; i < e->nframes; i++)
		if (e->f[i].func && !strcmp(e->f[i].func, func))
			return true;
	return false;
}

static void print_event(const struct event *e)
{
	printf("# runtime: newstack: %" PRIu64 " -> %" PRIu64 " (goroutine %" PRIu64 ")\n",
	       e->gg.old_size, e->newsize, e->gg.goid);
	for (int i = 0; i < e->nframes; i++) {
		const struct gort_frame *f = &e->f[i];

		if (i == 6 && e->nframes > 10) {
			printf("#  ...\n");
			i = e->nframes - 4;
			f = &e->f[i];
		}
		printf("#  0x%" PRIx64 " : %s+0x%" PRIx64 "/0x%" PRIx64 " at %s:%d [%s]\n", f->pc,
		       f->func ? f->func : "?", f->off, f->size, f->file ? f->file : "?", f->line,
		       f->module ? f->module : "?");
	}
}

/* Each frame of e against `go tool addr2line` at the pc gort looked up. */
static void check_addr2line(const char *path, const struct event *e)
{
	char tmp[] = "/tmp/gort-live.XXXXXX", cmd[4096], *out, *line, *save = NULL;
	int fd = mkstemp(tmp), bad = 0, i;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f || !(out = malloc(1 << 20))) {
		SKIP("live: frames == go tool addr2line", "no temp file");
		return;
	}
	for (i = 0; i < e->nframes; i++)  /* frame 0 from morestack: pc-1 too */
		fprintf(f, "0x%" PRIx64 "\n", e->f[i].pc - 1);
	fclose(f);
	snprintf(cmd, sizeof cmd, "go tool addr2line '%s' < %s 2>/dev/null", path, tmp);
	if (gt_run(cmd, out, 1 << 20) <= 0) {
		SKIP("live: frames == go tool addr2line", "go tool addr2line did not run");
	} else {
		line = strtok_r(out, "\n", &save);
		for (i = 0; i < e->nframes && line; i++) {
			char *fl = strtok_r(NULL, "\n", &save), *colon = fl ? strrchr(fl, ':') : NULL;

			if (!colon)
				break;
			*colon = '\0';
			if (!e->f[i].func || strcmp(line, e->f[i].func) || !e->f[i].file ||
			    strcmp(fl, e->f[i].file) || atoi(colon + 1) != e->f[i].line) {
				printf("# frame %d: addr2line %s %s:%s\n", i, line, fl, colon + 1);
				bad++;
			}
			line = strtok_r(NULL, "\n", &save);
		}
		CHECK("live: every frame == go tool addr2line (func, file, line)",
		      i == e->nframes && bad == 0);
	}
	free(out);
	unlink(tmp);
}

static void reset(void)
{
	nevents = npreempt = 0;
	fp_same = dwfl_same = tls_same = r14_ok = true;
	preempt_grew = false;
	preempt_g = 0;
	unwind_ns = unwind_frames = dwfl_ns = 0;
	memset(events, 0, (size_t)ncapacity * sizeof *events);
}

/* The checks for every run; pre prefixes each check's name. */
static char plain_funcs[4096];  /* the plain run's first main.recurse event, func names */

/* Function names of e's frames, space-separated. */
static void funcs_of(const struct event *e, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < e->nframes && n + 1 < cap; i++) {
		int k = snprintf(buf + n, cap - n, "%s ", e->f[i].func ? e->f[i].func : "?");

		if (k < 0)
			break;
		n += (size_t)k;
	}
}

enum run_kind { RUN_PLAIN, RUN_PIE, RUN_NODWARF };

static void check_run(const char *pre, struct session *s, int rec_line, enum run_kind kind)
{
	const struct event *rec, *big;
	bool sizes_ok = true, goexit_ok = true;
	int n_rec = 0;
	char name[256];

#define NAME(what) (snprintf(name, sizeof name, "%s: %s", pre, (what)), name)
	CHECK(NAME("target runs to exit 0 under the probes"), trace(s) == 0);
	printf("# %s: %d growth events, %d preemption entries, load bias 0x%" PRIx64 "\n",
	       pre, nevents, npreempt, s->bias);
	for (int i = 0; i < nevents; i++)
		printf("#   goroutine %" PRIu64 " %" PRIu64 " -> %" PRIu64 " in %s (sp 0x%" PRIx64 ")\n",
		       events[i].gg.goid, events[i].gg.old_size, events[i].newsize,
		       events[i].nframes ? events[i].f[0].func : "?", events[i].gg.sched_sp);
	if (!s->bin)
		return;
	CHECK(NAME("g0 from R14 (m.g0 == R14) at every hit"), r14_ok);
	CHECK(NAME("TLS fallback (fs_base-8) finds the same g0 and g"), tls_same);
	CHECK(NAME("growth events seen"), nevents > 0);
	for (int i = 0; i < nevents; i++) {
		const struct event *e = &events[i];

		if (!pow2(e->gg.old_size) || e->gg.old_size < 2048 ||
		    (e->newsize && (!pow2(e->newsize) || e->newsize <= e->gg.old_size)))
			sizes_ok = false;
		if (e->nframes < 2 || !e->f[e->nframes - 1].func ||
		    strcmp(e->f[e->nframes - 1].func, "runtime.goexit") != 0 ||
		    e->f[e->nframes - 1].off != 1)
			goexit_ok = false;
		if (e->newsize && e->nframes > 0 && e->f[0].func && !strcmp(e->f[0].func, "main.recurse"))
			n_rec++;
	}
	CHECK(NAME("old sizes powers of 2 >= 2048, new sizes larger powers of 2"), sizes_ok);
	CHECK(NAME("every backtrace ends at runtime.goexit+0x1"), goexit_ok);
	if (kind != RUN_NODWARF)
		CHECK(NAME("libdwfl's unwinder alone gives the same frames and SPs"), dwfl_same);
	CHECK(NAME("frame-pointer walk alone gives the same frames"), fp_same);
	printf("# %lu unwinds, %lu needed libdwfl, %lu frame pointers; %" PRIu64 " frames: "
	       "%.2f us/frame cached CFA rules, %.2f us/frame libdwfl (warm caches, stack read once per event)\n",
	       s->bin->unwinds, s->bin->dwfl_used, s->bin->fp_fallbacks, unwind_frames,
	       unwind_frames ? unwind_ns / 1000.0 / (double)unwind_frames : 0.0,
	       unwind_frames ? dwfl_ns / 1000.0 / (double)unwind_frames : 0.0);
	if (kind == RUN_NODWARF)
		CHECK(NAME("no CFI: every unwind by pclntab SP deltas (no fallback)"),
		      s->bin->unwinds == 2 * (unsigned long)nevents && s->bin->dwfl_used == 0 &&
		      s->bin->pcln_used == s->bin->unwinds && s->bin->fp_fallbacks == 0);
	else
		CHECK(NAME("cached CFA rules unwound every stack to goexit (no fallback)"),
		      s->bin->unwinds == 2 * (unsigned long)nevents && s->bin->dwfl_used == 0 &&
		      s->bin->fp_fallbacks == 0);
	rec = first_in("main.recurse");
	CHECK(NAME("a growth in main.recurse"), rec != NULL);
	if (rec) {
		char what[128];

		print_event(rec);
		snprintf(what, sizeof what, "recursion: first frame at gort_recurse.go:%d "
			 "(the func line, where morestack is called)", rec_line);
		/* Without DWARF the line comes from pclntab: the same. */
		CHECK(NAME(what), gt_ends_with(rec->f[0].file, "/gort_recurse.go") &&
			      rec->f[0].line == rec_line);
		if (kind == RUN_PLAIN) {
			funcs_of(rec, plain_funcs, sizeof plain_funcs);
		} else {
			char mine[sizeof plain_funcs];

			funcs_of(rec, mine, sizeof mine);
			CHECK(NAME("recursion: same functions as the plain build's event"),
			      plain_funcs[0] && !strcmp(mine, plain_funcs));
		}
		CHECK(NAME("recursion: chain goes through main.run"), has_func(rec, "main.run"));
		CHECK(NAME("recursion: frame 1 = m.morebuf.pc (the caller)"),
		      rec->nframes > 1 && rec->f[1].pc == rec->gg.morebuf_pc);
		CHECK(NAME("recursion: frame 0 = g.sched.pc"), rec->f[0].pc == rec->gg.sched_pc);
		CHECK(NAME("recursion: module is the executable"),
		      rec->f[0].module && gt_ends_with(rec->f[0].module, s->path + strlen(s->path) -
						       strlen(strrchr(s->path, '/'))));
		CHECK(NAME("recursion: goid and tid read"), rec->gg.goid > 1 && rec->gg.tid > 0);
		CHECK(NAME("recursion: real new size 2x old"), rec->newsize == 2 * rec->gg.old_size);
		if (kind == RUN_PLAIN)
			check_addr2line(s->path, rec);
	}
	CHECK(NAME("recursion to depth 500 grows the stack 5 times (2 KiB -> 64 KiB)"), n_rec == 5);
	big = first_in("main.bigframe");
	CHECK(NAME("a growth in main.bigframe (20 KiB frame)"), big != NULL);
	if (big) {
		print_event(big);
		CHECK(NAME("bigframe: copystack's new size > 2x old (newstack doubled more than once)"),
		      big->newsize > 2 * big->gg.old_size);
		CHECK(NAME("bigframe: chain goes through main.runbig"), has_func(big, "main.runbig"));
	}
#undef NAME
}

int main(void)
{
	char path[1024], pie[PATH_MAX + 32], src[1024], cmd[3 * PATH_MAX + 256];
	char dir[PATH_MAX], rootabs[PATH_MAX];
	const char *root = getenv("GOTAP_ROOT"), *build = getenv("GOTAP_BUILD");
	struct session plain = { .path = path }, spie = { .path = pie };
	int rec_line;

	alarm(120);
	snprintf(src, sizeof src, "%s/tests/targets/go/gort_recurse.go", root ? root : ".");
	rec_line = gt_line_of(src, "func recurse(");
	if (gt_target("gort_recurse", path, sizeof path) != 0) {
		CHECK("build tests/targets/go/gort_recurse.go", 0);
		return check_done();
	}
	ncapacity = 64;
	events = calloc((size_t)ncapacity, sizeof *events);
	if (!events)
		return 1;
	reset();
	check_run("live", &plain, rec_line, RUN_PLAIN);
	CHECK("live: fixed-address executable: load bias 0", plain.bias == 0);
	gort_close(plain.bin);

	/* The same program as a PIE (how Debian builds Go packages), next to
	 * the plain one; go build runs in the source dir: absolute paths. */
	snprintf(cmd, sizeof cmd, "%s/targets", build ? build : "build");
	if (!realpath(cmd, dir) || !realpath(root ? root : ".", rootabs)) {
		CHECK("live-pie: directories", 0);
		return check_done();
	}
	snprintf(pie, sizeof pie, "%s/gort_recurse_pie", dir);
	snprintf(cmd, sizeof cmd, "cd '%s/tests/targets/go' && GOCACHE=\"${GOCACHE:-%s/build/gocache}\" "
		 "GO111MODULE=off go build -buildvcs=false -buildmode=pie -o '%s' gort_recurse.go",
		 rootabs, rootabs, pie);
	if (system(cmd) != 0) {
		SKIP("live-pie", "go build -buildmode=pie failed");
	} else {
		reset();
		check_run("live-pie", &spie, rec_line, RUN_PIE);
		CHECK("live-pie: load bias from AT_PHDR is non-zero", spie.bias != 0);
		gort_close(spie.bin);
	}

	/* Without DWARF (-ldflags=-w: no line table, no CFI): the probes come
	 * from decoding the stack check, unwinding from frame pointers; the
	 * layout is the plain build's (same Go), gort_layout needs DWARF. */
	snprintf(pie, sizeof pie, "%s/gort_recurse_nodwarf", dir);
	snprintf(cmd, sizeof cmd, "cd '%s/tests/targets/go' && GOCACHE=\"${GOCACHE:-%s/build/gocache}\" "
		 "GO111MODULE=off go build -buildvcs=false -ldflags=-w -o '%s' gort_recurse.go",
		 rootabs, rootabs, pie);
	if (system(cmd) != 0) {
		SKIP("live-nodwarf", "go build -ldflags=-w failed");
	} else {
		struct session snd = { .path = pie, .layout_from = &plain.l };

		reset();
		quiet_dwfl = true;
		check_run("live-nodwarf", &snd, rec_line, RUN_NODWARF);
		quiet_dwfl = false;
		CHECK("live-nodwarf: probes equal the plain build's (decoded stack check)",
		      snd.bin && snd.p.newstack == plain.p.newstack &&
		      snd.p.copystack == plain.p.copystack);
		gort_close(snd.bin);
	}

	/* Preemption requests enter newstack too: flagged, and never grow. */
	char ppath[1024];
	struct session sp = { .path = ppath, .godebug = "asyncpreemptoff=1" };

	if (gt_target("gort_preempt", ppath, sizeof ppath) != 0) {
		CHECK("build tests/targets/go/gort_preempt.go", 0);
	} else {
		reset();
		CHECK("preempt: target runs to exit 0 under the probes", trace(&sp) == 0);
		printf("# preempt: %d growth events, %d preemption entries\n", nevents, npreempt);
		CHECK("preempt: preemption entries seen (stackguard0 == stackPreempt)", npreempt > 0);
		CHECK("preempt: no preemption entry grows the stack", !preempt_grew);
		CHECK("preempt: g0 from R14 at every hit", r14_ok);
		gort_close(sp.bin);
	}
	free(events);
	return check_done();
}
