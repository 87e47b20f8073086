/* stp_run.c — a whole script session (`gotap --script`): compile, connect,
 * probe, report, let go.
 *
 * Compile first (parse, resolve, DWARF probe addresses and target
 * variables): a script error never starts or touches a program.  Then the
 * program is launched under gotap-stub (socketpair, no port), attached
 * (--pid) or reached (--remote); signals the program uses pass without a
 * stop (QPassSignals: SIGURG above all, Go preempts with it); one software
 * breakpoint per distinct probe address.  At a hit, the handlers of every
 * probe at that address run with a context that reads registers (one 'g'
 * packet, only if asked) and memory through a page cache (gt_memcache:
 * never one round trip per word).  Then the thread must get past the
 * breakpoint while the other threads stay stopped, so no hit is lost:
 * gotap-stub does that itself on resume; gdbserver never steps over its
 * client's breakpoints (it reports the same hit again), so then gotap does
 * what gdb does: z0, vCont;s:TID, Z0.  The first hit tells which
 * (probe_step).
 * Timers run between stops (they have no target context).  The session
 * ends at program exit, exit(), --duration or SIGINT/SIGTERM/SIGHUP.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gort.h"
#include "memcache.h"
#include "rsp.h"
#include "rspc.h"
#include "stp_int.h"
#include "stp_run.h"

#define GDB_SIGINT 2
#define GDB_SIGTRAP 5
#define SLICE_MS 100

static void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warnx(const char *fmt, ...)
{
	va_list ap;
	fputs("gotap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------ script */

static char *read_all(const char *path, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "cannot read script %s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	bool bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (buf == NULL || bad) {
		free(buf);
		snprintf(err, errlen, "cannot read script %s", path);
		return NULL;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		free(buf);
		snprintf(err, errlen, "script %s contains a NUL byte", path);
		return NULL;
	}
	return buf;
}

static bool needs_program(const struct stp_script *s)
{
	for (int i = 0; i < s->nprobes; i++)
		if (s->probes[i]->kind == P_FUNCTION || s->probes[i]->kind == P_STATEMENT)
			return true;
	return false;
}

/* ------------------------------------------------------------ timers */

struct timers {
	int64_t *next;          /* per probe; 0 = not a timer */
};

static int timers_init(struct timers *t, struct stp_script *s)
{
	t->next = calloc((size_t)s->nprobes + 1, sizeof *t->next);
	if (t->next == NULL)
		return -1;
	int64_t now = mono_ns();
	for (int i = 0; i < s->nprobes; i++)
		if (s->probes[i]->kind == P_TIMER)
			t->next[i] = now + s->probes[i]->period_ns;
	return 0;
}

/* Run the due timer probes; returns ms until the next one (-1: none). */
static int timers_run(struct timers *t, struct stp_script *s, struct stp_rt *rt)
{
	int64_t now = mono_ns(), soonest = -1;
	for (int i = 0; i < s->nprobes && !rt->exit_requested; i++) {
		if (t->next[i] == 0)
			continue;
		if (now >= t->next[i]) {
			stp_run_probe(rt, s->probes[i], NULL);
			t->next[i] += s->probes[i]->period_ns;
			if (t->next[i] < now)
				t->next[i] = now + s->probes[i]->period_ns;  /* we fell behind: skip, as stap */
		}
		if (soonest < 0 || t->next[i] < soonest)
			soonest = t->next[i];
	}
	if (soonest < 0)
		return -1;
	int64_t ms = (soonest - mono_ns() + 999999) / 1000000;
	return ms < 0 ? 0 : ms > 1000000 ? 1000000 : (int)ms;
}

static void run_kind(struct stp_rt *rt, enum stp_pk kind)
{
	for (int i = 0; i < rt->sc->nprobes; i++)
		if (rt->sc->probes[i]->kind == kind)
			stp_run_probe(rt, rt->sc->probes[i], NULL);
}

static void report_errors(struct stp_rt *rt)
{
	if (rt->errors)
		fprintf(rt->err ? rt->err : stderr,
			"gotap: WARNING: %lu probe hit%s skipped after runtime errors\n", rt->errors,
			rt->errors == 1 ? "" : "s");
}

int stp_run_string(const char *name, const char *src, FILE *out, FILE *err)
{
	struct stp_script sc;
	memset(&sc, 0, sizeof sc);
	sc.name = name;
	sc.src = strdup(src);
	char msg[2048];
	if (sc.src == NULL)
		return 1;
	if (stp_parse(&sc, msg, sizeof msg) < 0 || stp_sema(&sc, NULL, msg, sizeof msg) < 0) {
		fprintf(err, "%s\n", msg);
		char *own = sc.src;
		stp_script_free(&sc);
		free(own);
		return 2;
	}
	struct stp_rt rt;
	struct timers tm = { 0 };
	int status = 0;
	if (stp_rt_init(&rt, &sc, out, err) < 0 || timers_init(&tm, &sc) < 0) {
		fprintf(err, "gotap: out of memory\n");
		status = 1;
	} else {
		run_kind(&rt, P_BEGIN);
		int wait = timers_run(&tm, &sc, &rt);
		while (!rt.exit_requested && wait >= 0) {
			struct timespec ts = { wait / 1000, (long)(wait % 1000) * 1000000L };
			nanosleep(&ts, NULL);
			wait = timers_run(&tm, &sc, &rt);
		}
		run_kind(&rt, P_END);
		fflush(out);
		report_errors(&rt);
	}
	free(tm.next);
	stp_rt_free(&rt);
	char *s = sc.src;
	stp_script_free(&sc);
	free(s);
	return status;
}

/* ------------------------------------------------------------ session */

struct hit_ctx {
	struct rspc *c;
	struct gt_memcache *mc;
	int64_t tid;
	uint64_t regs[RSP_AMD64_NREGS];
	bool have_regs;
	const struct rsp_stop *st;
};

static int hit_read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct hit_ctx *h = ctx;
	return gt_memcache_read(h->mc, addr, buf, len) == (long)len ? 0 : -1;
}

static int hit_read_reg(void *ctx, int regno, uint64_t *val)
{
	struct hit_ctx *h = ctx;
	if (regno < 0 || regno >= RSP_AMD64_NREGS)
		return -1;
	if (!h->have_regs) {
		/* expedited registers first (rip, rsp, rbp come with the stop) */
		for (unsigned i = 0; h->st && i < h->st->nregs; i++)
			if ((int)h->st->regs[i].regno == regno) {
				*val = h->st->regs[i].value;
				return 0;
			}
		if (rspc_read_regs(h->c, h->tid, h->regs) < 0)
			return -1;
		h->have_regs = true;
	}
	*val = h->regs[regno];
	return 0;
}

static long mem_backend(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return rspc_read_mem(ctx, addr, buf, len);
}

static sigset_t stop_sigs;

static int stop_signal_pending(void)
{
	struct timespec zero = { 0, 0 };
	int s = sigtimedwait(&stop_sigs, NULL, &zero);
	return s > 0 ? s : 0;
}

static char *find_stub(const char *given)
{
	if (given)
		return access(given, X_OK) == 0 ? strdup(given) : NULL;
	const char *env = getenv("GOTAP_STUB");
	if (env != NULL && *env)
		return access(env, X_OK) == 0 ? strdup(env) : NULL;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	char *stub;
	if (asprintf(&stub, "%s/gotap-stub", self) < 0)
		return NULL;
	if (access(stub, X_OK) != 0) {
		free(stub);
		return NULL;
	}
	return stub;
}

static char *find_program(const char *name)
{
	struct stat sb;
	if (strchr(name, '/') != NULL)
		return stat(name, &sb) == 0 && S_ISREG(sb.st_mode) ? strdup(name) : NULL;
	const char *path = getenv("PATH");
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		char *cand;
		if (asprintf(&cand, "%.*s/%s", (int)n, n ? path : ".", name) < 0)
			return NULL;
		if (stat(cand, &sb) == 0 && S_ISREG(sb.st_mode) && access(cand, X_OK) == 0)
			return cand;
		free(cand);
		path += n + (colon != NULL);
	}
	return NULL;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Signals the program gets without a stop: all but SIGTRAP (breakpoints),
 * SIGINT (our interrupt), SIGKILL/SIGSTOP and glibc's private ones. */
static int pass_signals(struct rspc *c)
{
	int sigs[64], n = 0;
	for (int s = 1; s <= 64; s++) {
		if (s == SIGTRAP || s == SIGINT || s == SIGKILL || s == SIGSTOP)
			continue;
		if (s > 31 && s < SIGRTMIN)
			continue;
		sigs[n++] = rsp_sig_from_host(s) == 143 ? s : s;
	}
	return rspc_pass_signals(c, sigs, n);
}

static uint64_t load_bias(struct rspc *c, const char *binary)
{
	uint8_t h[64];
	int fd = open(binary, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, h, sizeof h);
	close(fd);
	if (n != (ssize_t)sizeof h || memcmp(h, "\177ELF", 4) != 0 || (h[16] | h[17] << 8) != 3 /* ET_DYN */)
		return 0;
	uint64_t entry = 0;
	for (int i = 7; i >= 0; i--)
		entry = (entry << 8) | h[24 + i];
	static uint8_t auxv[8192];
	long k = rspc_read_auxv(c, auxv, sizeof auxv);
	for (long i = 0; i + 16 <= k; i += 16) {
		uint64_t key = 0, v = 0;
		for (int j = 7; j >= 0; j--) {
			key = (key << 8) | auxv[i + j];
			v = (v << 8) | auxv[i + 8 + j];
		}
		if (key == 9 /* AT_ENTRY */)
			return v - entry;
		if (key == 0)
			break;
	}
	return 0;
}

struct session {
	const struct stp_run_opts *o;
	struct stp_script *sc;
	struct stp_rt *rt;
	struct rspc *c;
	struct gt_memcache *mc;
	struct gort_bin *bin;
	struct gort_layout layout;
	bool have_layout;
	const char *binary;
	int64_t pid;
	uint64_t *bps;
	int nbps;
	bool launched;
	bool exited;
	bool interrupt_pending;
	/* threads whose next hit at pc is a re-report of a hit already run
	 * (a signal handler returned to the breakpoint, or the step was
	 * pre-empted by another thread's pending stop) */
	struct { int64_t tid; uint64_t pc; } repeats[64];
	int nrepeats;
	bool warned_trap;
	/* Who steps a thread over our breakpoint: unknown until the first
	 * hit; the stub (gotap-stub does it on resume, the others held), or
	 * gotap (gdbserver never steps over its client's breakpoints: it
	 * reports the same hit again, so gotap does z0, vCont;s, Z0). */
	enum { STEP_UNKNOWN, STEP_STUB, STEP_CLIENT } stepper;
};

static void expect_repeat(struct session *s, int64_t tid, uint64_t pc)
{
	for (int i = 0; i < s->nrepeats; i++)
		if (s->repeats[i].tid == tid) {
			s->repeats[i].pc = pc;
			return;
		}
	if (s->nrepeats < 64) {
		s->repeats[s->nrepeats].tid = tid;
		s->repeats[s->nrepeats].pc = pc;
		s->nrepeats++;
	}
}

/* Is this hit a re-report?  Consumes the mark. */
static bool take_repeat(struct session *s, int64_t tid, uint64_t pc)
{
	for (int i = 0; i < s->nrepeats; i++)
		if (s->repeats[i].tid == tid) {
			bool r = s->repeats[i].pc == pc;
			s->repeats[i] = s->repeats[--s->nrepeats];
			return r;
		}
	return false;
}

static bool is_bp(struct session *s, uint64_t pc)
{
	for (int i = 0; i < s->nbps; i++)
		if (s->bps[i] == pc)
			return true;
	return false;
}

/* Resume thread tid alone (rspc_resume_thread: 's', or 'C' with a signal)
 * and wait for its stop.  Returns 0 with *st, or -1 (said). */
static int resume_one(struct session *s, char action, int gdb_sig, int64_t tid,
		      struct rsp_stop *st)
{
	gt_memcache_invalidate(s->mc);
	fflush(stdout);   /* the script's output before the program's */
	if (rspc_resume_thread(s->c, action, gdb_sig, tid, st) < 0) {
		warnx("%s", rspc_error(s->c));
		return -1;
	}
	return 0;
}

static uint64_t stop_pc(struct session *s, const struct rsp_stop *st, int64_t tid, bool *ok)
{
	for (unsigned i = 0; i < st->nregs; i++)
		if (st->regs[i].regno == RSP_AMD64_RIP) {
			*ok = true;
			return st->regs[i].value;
		}
	uint64_t pc = 0;
	*ok = rspc_read_reg(s->c, tid, RSP_AMD64_RIP, &pc) == 0;
	return pc;
}

/* Step thread tid over our breakpoint at pc, the others staying stopped.
 * Returns 0 (done; *sig may hold a signal for the next resume), 1 when *st
 * holds a stop the loop must handle instead, -1 on error. */
static int step_over(struct session *s, int64_t tid, uint64_t pc, struct rsp_stop *st, int *sig)
{
	struct rsp_stop st2;
	if (rspc_remove_bp(s->c, 0, pc, 1) < 0) {
		warnx("cannot remove the breakpoint at 0x%" PRIx64 ": %s", pc, rspc_error(s->c));
		return -1;
	}
	if (resume_one(s, 's', 0, tid, &st2) < 0)
		return -1;
	if (st2.kind != RSP_STOP_SIGNAL) {
		*st = st2;
		return 1;   /* the program exited meanwhile: nothing to put back */
	}
	if (rspc_insert_bp(s->c, 0, pc, 1) < 0) {
		warnx("cannot put back the breakpoint at 0x%" PRIx64 ": %s", pc, rspc_error(s->c));
		return -1;
	}
	if (st2.has_thread && st2.thread.tid != tid) {
		/* A stub that queues stops (gotap-stub) reports another
		 * thread's pending stop before it steps ours: ours has not
		 * moved, its hit is already handled. */
		expect_repeat(s, tid, pc);
		*st = st2;
		return 1;
	}
	bool ok;
	uint64_t now = stop_pc(s, &st2, tid, &ok);
	if (getenv("GOTAP_DEBUG"))
		fprintf(stderr, "[stp] step tid %" PRId64 " from %" PRIx64 ": stop tid %" PRId64 " sig %d pc %" PRIx64 "\n",
			tid, pc, st2.has_thread ? st2.thread.tid : -1, st2.sig, now);
	if (!ok) {
		warnx("cannot read the pc of thread %" PRId64 ": %s", tid, rspc_error(s->c));
		return -1;
	}
	if (st2.sig == GDB_SIGTRAP || st2.sig == 0) {
		/* A passed signal (SIGURG) delivered with the step ends it at
		 * the handler's first instruction; the handler returns to the
		 * breakpoint, which then reports this same hit again.  (The
		 * probed instruction may itself be a call or a jump: only a
		 * stop in the signal trampoline means "not executed yet".) */
		struct gort_frame f;
		if (now == pc || (s->bin && gort_symbolize(s->bin, now, false, &f) == 0 && f.func &&
				  strstr(f.func, "sigtramp") != NULL))
			expect_repeat(s, tid, pc);
		return 0;
	}
	if (st2.sig == GDB_SIGINT) {
		*st = st2;
		return 1;
	}
	if (now == pc)
		expect_repeat(s, tid, pc);
	*sig = st2.sig;
	return 0;
}

/* First hit: find out who steps over breakpoints.  Single-step thread tid
 * with the breakpoint in place: a stub that steps over it itself moves the
 * thread past pc; one that does not reports the same breakpoint again (pc
 * unchanged), and gotap steps from then on.  Same results as step_over. */
static int probe_step(struct session *s, int64_t tid, uint64_t pc, struct rsp_stop *st, int *sig)
{
	struct rsp_stop st2;
	if (resume_one(s, 's', 0, tid, &st2) < 0)
		return -1;
	if (st2.kind != RSP_STOP_SIGNAL || (st2.has_thread && st2.thread.tid != tid)) {
		*st = st2;     /* someone else's stop came first: still undecided */
		return 1;
	}
	bool ok;
	uint64_t now = stop_pc(s, &st2, tid, &ok);
	if (!ok) {
		warnx("cannot read the pc of thread %" PRId64 ": %s", tid, rspc_error(s->c));
		return -1;
	}
	if (st2.sig == GDB_SIGTRAP && now == pc) {
		s->stepper = STEP_CLIENT;
		if (getenv("GOTAP_DEBUG"))
			warnx("the stub does not step over breakpoints: gotap steps itself");
		return step_over(s, tid, pc, st, sig);
	}
	struct gort_frame f;
	if (s->bin && gort_symbolize(s->bin, now, false, &f) == 0 && f.func && strstr(f.func, "sigtramp")) {
		/* a passed signal's handler came first; it returns to pc,
		 * which then reports this hit again: still undecided */
		expect_repeat(s, tid, pc);
		return 0;
	}
	s->stepper = STEP_STUB;
	if (st2.sig == GDB_SIGINT) {
		*st = st2;
		return 1;
	}
	if (st2.sig != GDB_SIGTRAP && st2.sig != 0)
		*sig = st2.sig;
	return 0;
}

/* Run every probe at pc for thread tid. */
static void run_hit(struct session *s, uint64_t pc, int64_t tid, const struct rsp_stop *st)
{
	struct hit_ctx h = { .c = s->c, .mc = s->mc, .tid = tid, .st = st };
	struct stp_target t = {
		.ctx = &h, .read_mem = hit_read_mem, .read_reg = hit_read_reg, .bin = s->bin,
		.layout = s->have_layout ? &s->layout : NULL, .pid = s->pid, .tid = tid, .execname = s->binary,
	};
	for (int i = 0; i < s->sc->nprobes; i++) {
		struct stp_probe *p = s->sc->probes[i];
		if ((p->kind == P_FUNCTION || p->kind == P_STATEMENT) && p->addr == pc)
			stp_run_probe(s->rt, p, &t);
	}
}

enum end { END_EXITED, END_STOP, END_ERROR, END_GONE };

static enum end loop(struct session *s, struct timers *tm, int64_t deadline)
{
	struct rsp_stop st;
	int64_t sig_tid = -1;
	int sig = 0;
	bool stopping = false;      /* interrupt sent, waiting for the stop */
	bool have = false;
	int64_t int_deadline = 0;
	for (;;) {
		if (!have) {
			if (s->rt->exit_requested || stop_signal_pending() || (deadline && mono_ns() >= deadline))
				return END_STOP;
			gt_memcache_invalidate(s->mc);
			if (rspc_resume(s->c, sig_tid, sig) < 0) {
				warnx("cannot resume the program: %s", rspc_error(s->c));
				return END_ERROR;
			}
			sig_tid = -1;
			sig = 0;
			for (;;) {
				int wait = timers_run(tm, s->sc, s->rt);
				if (wait < 0 || wait > SLICE_MS)
					wait = SLICE_MS;
				int r = rspc_wait_stop(s->c, &st, wait);
				if (r < 0) {
					if (stop_signal_pending() || stopping)
						return END_GONE;
					warnx("the stub closed the connection: %s", rspc_error(s->c));
					return END_ERROR;
				}
				if (r > 0) {
					if (st.kind == RSP_STOP_OUTPUT)
						continue;
					break;
				}
				if (!stopping && (s->rt->exit_requested || stop_signal_pending() ||
						  (deadline && mono_ns() >= deadline))) {
					if (rspc_interrupt(s->c) < 0) {
						warnx("cannot interrupt the program: %s", rspc_error(s->c));
						return END_ERROR;
					}
					s->rt->exit_requested = true;
					stopping = true;
					s->interrupt_pending = true;
					int_deadline = mono_ns() + 5000000000LL;
				} else if (stopping && mono_ns() > int_deadline) {
					warnx("the program did not stop after an interrupt");
					return END_ERROR;
				}
			}
		}
		have = false;
		switch (st.kind) {
		case RSP_STOP_EXITED:
			s->exited = true;
			if (st.exit_code != 0)
				warnx("the program exited with status %d", st.exit_code);
			return END_EXITED;
		case RSP_STOP_TERMINATED:
			s->exited = true;
			warnx("the program was killed by signal %d", rsp_sig_to_host(st.sig));
			return END_EXITED;
		case RSP_STOP_SIGNAL: {
			int64_t tid = st.has_thread ? st.thread.tid : 0;
			if (st.sig == GDB_SIGTRAP) {
				bool ok;
				uint64_t pc = stop_pc(s, &st, tid, &ok);
				if (ok && is_bp(s, pc)) {
					bool rep = take_repeat(s, tid, pc);
					if (getenv("GOTAP_DEBUG"))
						fprintf(stderr, "[stp] hit tid %" PRId64 " pc %" PRIx64 "%s\n", tid, pc,
							rep ? " (repeat, skipped)" : "");
					if (!rep && !s->rt->exit_requested)   /* after exit(): only end probes */
						run_hit(s, pc, tid, &st);
					int r = s->stepper == STEP_STUB ? 0
						: s->stepper == STEP_CLIENT ? step_over(s, tid, pc, &st, &sig)
						: probe_step(s, tid, pc, &st, &sig);
					if (r < 0)
						return END_ERROR;
					if (r == 1) {
						have = true;
						continue;
					}
					if (sig)
						sig_tid = tid;
				} else if (!s->warned_trap) {
					warnx("the program stopped with SIGTRAP outside gotap's breakpoints; not delivering it");
					s->warned_trap = true;
				}
			} else if (st.sig == GDB_SIGINT && s->interrupt_pending) {
				s->interrupt_pending = false;
				if (stopping)
					return END_STOP;
			} else if (st.sig != 0) {
				sig_tid = tid;
				sig = st.sig;
			}
			if (stopping && !s->interrupt_pending)
				return END_STOP;
			break;
		}
		case RSP_STOP_THREAD_EXIT:
		case RSP_STOP_OUTPUT:
			break;
		case RSP_STOP_NO_RESUMED:
			warnx("the stub has no thread left to resume");
			return END_ERROR;
		}
	}
}

static void reap(pid_t pid)
{
	for (int i = 0; pid > 0 && i < 50; i++) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return;
		struct timespec ts = { 0, 100000000L };
		nanosleep(&ts, NULL);
	}
}

int stp_run(const struct stp_run_opts *o)
{
	char err[4096];
	FILE *out = o->out ? o->out : stdout;
	struct stp_script sc;
	memset(&sc, 0, sizeof sc);
	if ((o->script_file != NULL) == (o->script_text != NULL)) {
		warnx("give exactly one of --script FILE and -e SCRIPT");
		return 2;
	}
	sc.name = o->script_file ? o->script_file : "<command line>";
	sc.src = o->script_file ? read_all(o->script_file, err, sizeof err) : strdup(o->script_text);
	if (sc.src == NULL) {
		warnx("%s", o->script_file ? err : "out of memory");
		return 2;
	}
	char *src = sc.src;
	int status = 0;
	char *binary = NULL, *prog = NULL, *stub = NULL;
	struct stp_dwarf *dw = NULL;
	struct gort_bin *bin = NULL;
	struct rspc *c = NULL;
	pid_t stub_pid = 0;
	struct gt_memcache *mc = NULL;
	struct stp_rt rt;
	memset(&rt, 0, sizeof rt);
	struct timers tm = { 0 };
	char **argv = o->argv;
	char *auto_argv[2] = { NULL, NULL };
	enum end why = END_STOP;

	if (stp_parse(&sc, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		status = 2;
		goto done;
	}
	bool want_prog = needs_program(&sc);
	bool have_target = (argv && argv[0]) || o->remote || o->pid > 0;
	/* which executable: --binary, PROG, the script's process("PATH") */
	const char *script_path = NULL;
	for (int i = 0; i < sc.nprobes; i++)
		if (sc.probes[i]->path) {
			if (script_path && strcmp(script_path, sc.probes[i]->path) != 0 &&
			    !same_file(script_path, sc.probes[i]->path)) {
				fprintf(stderr, "%s:%d:%d: probes name two programs (%s and %s): gotap probes one\n",
					sc.name, sc.probes[i]->line, sc.probes[i]->col, script_path, sc.probes[i]->path);
				status = 2;
				goto done;
			}
			script_path = sc.probes[i]->path;
		}
	if (argv && argv[0]) {
		prog = find_program(argv[0]);
		if (prog == NULL) {
			warnx("no such program: %s", argv[0]);
			status = 2;
			goto done;
		}
	} else if (!have_target && want_prog) {
		if (script_path == NULL) {
			warnx("the script probes process.function(...) but no program was given: use -- PROG [ARGS]");
			status = 2;
			goto done;
		}
		prog = find_program(script_path);
		if (prog == NULL) {
			warnx("no such program: %s", script_path);
			status = 2;
			goto done;
		}
		auto_argv[0] = prog;
		argv = auto_argv;
		have_target = true;
	}
	if (o->binary)
		binary = strdup(o->binary);
	else if (prog)
		binary = strdup(prog);
	else if (o->pid > 0 && asprintf(&binary, "/proc/%d/exe", (int)o->pid) < 0)
		binary = NULL;
	else if (o->remote && script_path)
		binary = strdup(script_path);
	if (want_prog && binary == NULL) {
		warnx("cannot find a local copy of the program: give --binary PATH");
		status = 2;
		goto done;
	}
	if (binary && script_path && !same_file(binary, script_path)) {
		warnx("the script probes %s but the program is %s", script_path, binary);
		status = 2;
		goto done;
	}
	if (want_prog) {
		dw = stp_dwarf_open(binary, 0, err, sizeof err);
		if (dw == NULL) {
			warnx("%s", err);
			status = 2;
			goto done;
		}
	}
	if (stp_sema(&sc, dw, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		status = 2;
		goto done;
	}
	if (binary && want_prog) {
		bin = gort_open(binary, 0, err, sizeof err);
		if (bin == NULL) {
			warnx("%s: %s", binary, err);
			status = 2;
			goto done;
		}
	}
	/* compiled: only now anything starts */
	if (stp_rt_init(&rt, &sc, out, stderr) < 0 || timers_init(&tm, &sc) < 0) {
		warnx("out of memory");
		status = 1;
		goto done;
	}
	if (sigemptyset(&stop_sigs) != 0 || sigaddset(&stop_sigs, SIGINT) != 0 ||
	    sigaddset(&stop_sigs, SIGTERM) != 0 || sigaddset(&stop_sigs, SIGHUP) != 0 ||
	    sigprocmask(SIG_BLOCK, &stop_sigs, NULL) != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		warnx("cannot block SIGINT/SIGTERM: %s", strerror(errno));
		status = 1;
		goto done;
	}
	int64_t deadline = o->duration > 0 ? mono_ns() + (int64_t)(o->duration * 1e9) : 0;
	if (!have_target) {
		/* no program: begin, timers until exit()/signal/duration, end */
		run_kind(&rt, P_BEGIN);
		while (!rt.exit_requested) {
			int wait = timers_run(&tm, &sc, &rt);
			if (wait < 0 || wait > SLICE_MS)
				wait = SLICE_MS;
			if (rt.exit_requested || stop_signal_pending() || (deadline && mono_ns() >= deadline))
				break;
			struct timespec ts = { wait / 1000, (long)(wait % 1000) * 1000000L };
			if (sigtimedwait(&stop_sigs, NULL, &ts) > 0)
				break;
		}
		run_kind(&rt, P_END);
		goto finish;
	}

	if (o->remote) {
		c = rspc_connect(o->remote, err, sizeof err);
		if (c == NULL) {
			warnx("cannot reach the stub at %s: %s", o->remote, err);
			status = 1;
			goto done;
		}
	} else {
		stub = find_stub(o->stub_path);
		if (stub == NULL) {
			warnx("cannot find gotap-stub (next to gotap, or set GOTAP_STUB)");
			status = 1;
			goto done;
		}
		if (argv && argv[0] && prog)
			argv[0] = prog;
		c = rspc_spawn(stub, o->pid > 0 ? NULL : argv, o->pid > 0 ? o->pid : 0, &stub_pid, err, sizeof err);
		if (c == NULL) {
			warnx("cannot start %s: %s", stub, err);
			status = 1;
			goto done;
		}
	}
	struct rsp_stop initial;
	if (rspc_handshake(c, &initial) < 0) {
		warnx("the stub did not answer the handshake: %s", rspc_error(c));
		status = 1;
		goto done;
	}
	if (initial.kind == RSP_STOP_EXITED || initial.kind == RSP_STOP_TERMINATED) {
		warnx("the program has already exited");
		status = 1;
		goto done;
	}
	struct session s = { .o = o, .sc = &sc, .rt = &rt, .c = c, .bin = bin, .binary = binary,
			     .launched = !o->remote && o->pid <= 0 };
	s.pid = o->pid > 0 ? o->pid
		: initial.has_thread && initial.thread.has_pid ? initial.thread.pid
		: initial.has_thread ? initial.thread.tid : 0;
	if (binary) {
		uint64_t bias = load_bias(c, binary);
		if (bias != 0) {
			for (int i = 0; i < sc.nprobes; i++)
				if (sc.probes[i]->kind == P_FUNCTION || sc.probes[i]->kind == P_STATEMENT)
					sc.probes[i]->addr += bias;
			if (bin) {
				gort_close(bin);
				bin = s.bin = gort_open(binary, bias, err, sizeof err);
			}
			warnx("note: position-independent program (bias 0x%" PRIx64 "); @var() addresses are not "
			      "relocated", bias);
		}
	}
	if (bin && gort_layout(bin, &s.layout, err, sizeof err) == 0)
		s.have_layout = true;
	if (pass_signals(c) < 0)
		warnx("the stub refused QPassSignals (%s); signals pass one stop at a time", rspc_error(c));
	mc = s.mc = gt_memcache_new(mem_backend, c, 4096, 64);
	s.bps = calloc((size_t)sc.nprobes + 1, sizeof *s.bps);
	if (mc == NULL || s.bps == NULL) {
		warnx("out of memory");
		status = 1;
		goto let_go;
	}
	for (int i = 0; i < sc.nprobes; i++) {
		struct stp_probe *p = sc.probes[i];
		if ((p->kind != P_FUNCTION && p->kind != P_STATEMENT) || is_bp(&s, p->addr))
			continue;
		if (rspc_insert_bp(c, 0, p->addr, 1) < 0) {
			warnx("cannot insert the breakpoint for %s at 0x%" PRIx64 ": %s", p->text, p->addr,
			      rspc_error(c));
			status = 1;
			goto let_go;
		}
		s.bps[s.nbps++] = p->addr;
	}
	run_kind(&rt, P_BEGIN);
	why = rt.exit_requested ? END_STOP : loop(&s, &tm, deadline);
	if (why == END_ERROR)
		status = 1;
let_go:
	if (!s.exited && why != END_GONE && c) {
		for (int i = 0; i < s.nbps; i++)
			if (rspc_remove_bp(c, 0, s.bps[i], 1) < 0)
				warnx("cannot remove the breakpoint at 0x%" PRIx64 ": %s", s.bps[i], rspc_error(c));
		if (s.launched) {
			if (rspc_kill(c) < 0)
				warnx("cannot kill the program: %s", rspc_error(c));
		} else if (rspc_detach(c) < 0) {
			warnx("cannot detach: %s", rspc_error(c));
		}
	}
	free(s.bps);
	run_kind(&rt, P_END);
finish:
	fflush(out);
	report_errors(&rt);
done:
	free(tm.next);
	stp_rt_free(&rt);
	gt_memcache_free(mc);
	if (c)
		rspc_close(c);
	reap(stub_pid);
	gort_close(bin);
	stp_dwarf_close(dw);
	stp_script_free(&sc);
	free(src);
	free(binary);
	free(prog);
	free(stub);
	return status;
}
