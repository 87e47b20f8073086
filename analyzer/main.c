/* main.c — gotap: report every goroutine stack growth of a Go program,
 * headless, over the GDB remote protocol.
 *
 *   gotap [options] -- PROG [ARGS]   start gotap-stub on PROG (socketpair, no port)
 *   gotap --remote HOST:PORT|unix:PATH   use a stub that is already serving
 *   gotap --pid PID                  attach to a running process (through gotap-stub)
 *
 * The flow: load the binary (gort: symbols, DWARF layouts, probe addresses),
 * connect, tell the stub which signals to pass without stopping (Go's
 * preemption signal SIGURG above all), then one of two modes:
 *  - trace (default when the stub can): a copystack tracepoint collected in
 *    the stub (growth_trace.c), the program running non-stop, the trace
 *    buffer streamed and turned into events (run_trace_nonstop; without
 *    non-stop, run_trace_allstop interrupts every 20 ms to read);
 *  - stop: the two breakpoints (growth.c) and a stop loop (run): our
 *    breakpoints become events for the sinks, any other signal goes back to
 *    the program.
 * It ends when the program exits, on Ctrl-C/SIGTERM, --duration or
 * --max-events: breakpoints (or the tracepoint) come out, then a launched
 * program is killed on Ctrl-C (it is ours, as with gdbserver) or runs on to
 * its end otherwise; a --remote/--pid target is detached and keeps running
 * unharmed.  A launched program's exit status becomes gotap's.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stp_run.h"
#include "fetch.h"
#include "gort.h"
#include "growth.h"
#include "growth_trace.h"
#include "memcache.h"
#include "out.h"
#include "rsp.h"
#include "rspc.h"

#ifndef GOTAP_VERSION
#define GOTAP_VERSION "0.1.0"
#endif

#define WAIT_SLICE_MS 100        /* how often the stop wait looks at signals and the clock */
#define INTERRUPT_GRACE_MS 5000  /* how long a stop may take after an interrupt */
#define GDB_SIGINT 2
#define GDB_SIGTRAP 5

enum mode { MODE_NONE, MODE_LAUNCH, MODE_REMOTE, MODE_PID };
enum fmt { FMT_TEXT, FMT_JSON, FMT_FOLDED };
enum how { HOW_AUTO, HOW_TRACE, HOW_STOP };   /* --mode */

struct opts {
	enum mode mode;
	const char *remote;
	pid_t pid;
	const char *binary;
	enum fmt format;
	const char *outfile;
	bool summary;
	bool no_inline;         /* backtraces without inlined calls as frames (as stap prints them) */
	uint64_t every, max_events;
	double duration;            /* seconds; 0 = none */
	char **argv;                /* PROG ARGS for MODE_LAUNCH */
	const char *script_file;    /* --script FILE */
	const char *script_text;    /* -e SCRIPT */
	enum how how;               /* --mode trace|stop (auto: trace when the stub can) */
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("gotap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...)
{
	va_list ap;
	fputs("gotap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gotap [options] -- PROG [ARGS...]   start PROG under gotap-stub and report its stack growths\n"
		"       gotap [options] --remote HOST:PORT|unix:PATH   use a stub that is already serving\n"
		"       gotap [options] --pid PID            attach to a running Go process\n"
		"\n"
		"Reports every goroutine stack growth (runtime.newstack -> copystack) with the old\n"
		"and new size, the goroutine id and the goroutine's backtrace, starting at the\n"
		"function that ran out of stack.  Preemption requests are never reported (--mode=stop\n"
		"counts them).\n"
		"\n"
		"Options:\n"
		"  --remote ADDR       connect to a gdbserver-compatible stub (HOST:PORT, :PORT, unix:PATH)\n"
		"  --pid PID           attach to process PID (gotap starts gotap-stub --attach)\n"
		"  --binary PATH       local copy of the executable (default: PROG; for --remote/--pid\n"
		"                      the file the stub names, if it is here with the target's build\n"
		"                      ID, else a copy fetched from the stub and cached in\n"
		"                      $XDG_CACHE_HOME/gotap/<build-id>/ (~/.cache/gotap))\n"
		"  --format FMT        text (default, the SystemTap script's format), json (JSON Lines),\n"
		"                      folded (one line per distinct stack and its count, for flamegraph.pl)\n"
		"  -o, --output FILE   write events to FILE instead of stdout\n"
		"  --summary           at exit, print counts, bytes copied and top growth sites (stderr)\n"
		"  --every N           report only every Nth growth (all are counted)\n"
		"  --max-events N      stop analyzing after N reported growths\n"
		"  --no-inline         do not show inlined calls as frames of their own (stap's\n"
		"                      print_ubacktrace: the outer function at the inner line)\n"
		"  --duration SECS     stop analyzing after SECS seconds\n"
		"  --mode MODE         trace: a tracepoint collects each growth inside the stub while the\n"
		"                      program runs (non-stop), gotap streams the trace buffer; stop: a\n"
		"                      breakpoint stop per newstack/copystack hit, read over RSP.  Default:\n"
		"                      trace when the stub offers tracepoints, non-stop and streaming\n"
		"  --script FILE       run a SystemTap-style probe script instead of the growth report\n"
		"  -e SCRIPT           the same, with the script on the command line (docs/SCRIPTS.md)\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n"
		"\n"
		"Ctrl-C or SIGTERM: breakpoints are removed; a --remote/--pid target is detached\n"
		"and keeps running, a program gotap started is killed.  When analysis stops for\n"
		"--duration or --max-events, a started program runs on to its end.\n"
		"With -- PROG, the program's own output goes to stderr (stdout carries the report).\n"
		"The stub is found next to gotap, or in $GOTAP_STUB.\n");
}

static uint64_t parse_u64(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		die("%s: not a number: '%s'", opt, s);
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_REMOTE = 256, O_PID, O_BINARY, O_FORMAT, O_SUMMARY, O_EVERY, O_MAX, O_DURATION, O_SCRIPT,
	       O_MODE, O_NO_INLINE };
	static const struct option lo[] = {
		{ "remote", required_argument, NULL, O_REMOTE },
		{ "pid", required_argument, NULL, O_PID },
		{ "binary", required_argument, NULL, O_BINARY },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "output", required_argument, NULL, 'o' },
		{ "summary", no_argument, NULL, O_SUMMARY },
		{ "every", required_argument, NULL, O_EVERY },
		{ "max-events", required_argument, NULL, O_MAX },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "script", required_argument, NULL, O_SCRIPT },
		{ "mode", required_argument, NULL, O_MODE },
		{ "no-inline", no_argument, NULL, O_NO_INLINE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof *o);
	o->every = 1;
	int c;
	/* '+': the first non-option is PROG; everything after it is PROG's */
	while ((c = getopt_long(argc, argv, "+o:e:hV", lo, NULL)) != -1) {
		switch (c) {
		case O_REMOTE: o->remote = optarg; break;
		case O_PID: {
			uint64_t p = parse_u64("--pid", optarg);
			if (p == 0 || p > INT_MAX)
				die("--pid: not a process id: '%s'", optarg);
			o->pid = (pid_t)p;
			break;
		}
		case O_BINARY: o->binary = optarg; break;
		case O_FORMAT:
			if (strcmp(optarg, "text") == 0) o->format = FMT_TEXT;
			else if (strcmp(optarg, "json") == 0) o->format = FMT_JSON;
			else if (strcmp(optarg, "folded") == 0) o->format = FMT_FOLDED;
			else die("--format: expected text, json or folded, not '%s'", optarg);
			break;
		case 'o': o->outfile = optarg; break;
		case O_SUMMARY: o->summary = true; break;
		case O_NO_INLINE: o->no_inline = true; break;
		case O_EVERY:
			o->every = parse_u64("--every", optarg);
			if (o->every == 0)
				die("--every: must be at least 1");
			break;
		case O_MAX: o->max_events = parse_u64("--max-events", optarg); break;
		case O_DURATION: {
			char *end;
			errno = 0;
			o->duration = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->duration > 0))
				die("--duration: expected a positive number of seconds, not '%s'", optarg);
			break;
		}
		case O_SCRIPT: o->script_file = optarg; break;
		case O_MODE:
			if (strcmp(optarg, "trace") == 0) o->how = HOW_TRACE;
			else if (strcmp(optarg, "stop") == 0) o->how = HOW_STOP;
			else die("--mode: expected trace or stop, not '%s'", optarg);
			break;
		case 'e': o->script_text = optarg; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("gotap %s\n", GOTAP_VERSION); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	int modes = (o->remote != NULL) + (o->pid != 0) + (optind < argc);
	bool script = o->script_file || o->script_text;
	if (o->script_file && o->script_text)
		die("give --script FILE or -e SCRIPT, not both");
	if (modes == 0 && !script) {
		usage(stderr);
		exit(2);
	}
	if (modes > 1)
		die("give exactly one of: -- PROG [ARGS], --remote ADDR, --pid PID");
	if (modes == 0)
		o->mode = MODE_NONE;   /* a script names its program, or needs none */
	else if (o->remote)
		o->mode = MODE_REMOTE;
	else if (o->pid)
		o->mode = MODE_PID;
	else {
		o->mode = MODE_LAUNCH;
		o->argv = &argv[optind];
	}
}

/* Resolve PROG as execvp would: a name with '/' as is, else along $PATH.
 * Returns a malloc'd path or NULL. */
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

/* gotap-stub: $GOTAP_STUB, else next to this executable. */
static char *find_stub(void)
{
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

/* ELF type and entry point from the file header (for a PIE's load bias).
 * Returns 0 or -1. */
static int elf_entry(const char *path, uint16_t *type, uint64_t *entry)
{
	uint8_t h[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, h, sizeof h);
	if (close(fd) != 0 || n != (ssize_t)sizeof h || memcmp(h, "\177ELF", 4) != 0 || h[4] != 2)
		return -1;
	*type = (uint16_t)(h[16] | h[17] << 8);
	uint64_t e = 0;
	for (int i = 7; i >= 0; i--)
		e = (e << 8) | h[24 + i];
	*entry = e;
	return 0;
}

/* Load bias of the main executable: AT_ENTRY from the target's auxv minus the
 * ELF entry, for position-independent executables; 0 otherwise. */
static uint64_t load_bias(struct rspc *c, const char *binary)
{
	uint16_t type;
	uint64_t entry;
	if (elf_entry(binary, &type, &entry) < 0 || type != 3 /* ET_DYN */)
		return 0;
	static uint8_t auxv[8192];
	long n = rspc_read_auxv(c, auxv, sizeof auxv);
	for (long i = 0; i + 16 <= n; i += 16) {
		uint64_t k = 0, v = 0;
		for (int j = 7; j >= 0; j--) {
			k = (k << 8) | auxv[i + j];
			v = (v << 8) | auxv[i + 8 + j];
		}
		if (k == 9 /* AT_ENTRY */)
			return v - entry;
		if (k == 0)
			break;
	}
	warn("%s is position-independent but the target's auxv gave no entry point; assuming no relocation",
	     binary);
	return 0;
}

/* Open the binary and check it has what gotap needs. */
static struct gort_bin *load_binary(const char *path, uint64_t bias, struct gort_layout *lay,
				    struct gort_probes *pr)
{
	char err[256];
	struct gort_bin *b = gort_open(path, bias, err, sizeof err);
	if (b == NULL)
		die("%s: %s", path, err);
	if (gort_probes(b, pr, err, sizeof err) < 0)
		die("%s: %s", path, err);
	if (gort_layout(b, lay, err, sizeof err) < 0)
		die("%s: %s", path, err);
	/* Say what the report rests on: a stripped binary is read from its
	 * .gopclntab, and an unknown Go version only gets a best effort. */
	const char *ver = gort_go_version(b);
	warn("%s: %s, symbols from %s; %s", path, ver ? ver : "unknown Go version",
	     gort_source(b), gort_layout_source(b));
	return b;
}

/* ---------------------------------------------------------------- signals */

static sigset_t stop_sigs;        /* SIGINT, SIGTERM: blocked, polled between waits */

static void block_stop_signals(void)
{
	if (sigemptyset(&stop_sigs) != 0 || sigaddset(&stop_sigs, SIGINT) != 0 ||
	    sigaddset(&stop_sigs, SIGTERM) != 0 || sigaddset(&stop_sigs, SIGHUP) != 0 ||
	    sigprocmask(SIG_BLOCK, &stop_sigs, NULL) != 0)
		die("cannot block SIGINT/SIGTERM: %s", strerror(errno));
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("cannot ignore SIGPIPE: %s", strerror(errno));
}

/* Was SIGINT/SIGTERM/SIGHUP sent to gotap?  Consumes it. */
static int stop_signal_pending(void)
{
	struct timespec zero = { 0, 0 };
	int s = sigtimedwait(&stop_sigs, NULL, &zero);
	return s > 0 ? s : 0;
}

/* Signals the program gets without a stop reaching gotap: everything a Go
 * program may use but SIGTRAP (our breakpoints) and SIGINT (the interrupt
 * gotap sends); SIGKILL/SIGSTOP are never passed by a stub anyway.  gdb's
 * own defaults pass SIGURG, SIGCHLD, SIGWINCH, SIGALRM, SIGPROF, SIGIO,
 * SIGVTALRM; gotap is not interactive, so it passes the rest too. */
static int pass_signals(struct rspc *c)
{
	int sigs[64], n = 0;
	for (int s = 1; s <= 64; s++) {
		if (s == SIGTRAP || s == SIGINT || s == SIGKILL || s == SIGSTOP)
			continue;
		if (s > 31 && s < SIGRTMIN)
			continue; /* glibc's private real-time signals */
		sigs[n++] = s;
	}
	return rspc_pass_signals(c, sigs, n);
}

/* ------------------------------------------------------------ live counter */

struct live {
	bool on;          /* stderr is a terminal */
	bool shown;       /* a counter line is on screen */
	bool out_tty;     /* events go to the same terminal */
	int64_t last_ns;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void live_clear(struct live *lv)
{
	if (lv->shown) {
		fputs("\r\033[K", stderr);
		lv->shown = false;
	}
}

static void live_update(struct live *lv, const struct gt_stats *st, bool force)
{
	if (!lv->on)
		return;
	int64_t now = mono_ns();
	if (!force && now - lv->last_ns < 250000000LL)
		return;
	lv->last_ns = now;
	fprintf(stderr, "\r\033[K[gotap] %" PRIu64 " growths, %" PRIu64 " preemptions",
		st->growths, st->preemptions);
	lv->shown = true;
}

/* ---------------------------------------------------------------- session */

enum end_reason { END_EXITED, END_SIGNAL, END_LIMIT, END_ERROR, END_STUB_GONE };

struct session {
	struct opts *o;
	struct rspc *c;
	struct gt_growth *gr;       /* stop mode */
	struct gt_trace *tr;        /* trace mode (gr is NULL then) */
	struct gt_memcache *mc;
	struct live live;
	int64_t deadline_ns;        /* mono clock; 0 = none */
	int exit_status;            /* program's, for MODE_LAUNCH */
	bool exited;
	bool warned_trap;
	bool stub_gone;             /* the stub went away after gotap got a stop signal */
	int stop_signal;            /* SIGINT/SIGTERM/SIGHUP received (0 = none yet) */
	bool interrupt_pending;     /* we sent ^C and have not seen its SIGINT stop yet */
	bool client_step;           /* gotap steps threads over its breakpoints itself */
	int64_t fast_tid;           /* thread last resumed at our breakpoint (stub steps) */
	int fast_repeats;           /* consecutive repeats of that thread's hit */
	bool trace_failed;          /* the stub stopped the trace experiment by itself */
	int64_t trace_check_ns;     /* mono clock of the next qTStatus check */
};

static bool conn_closed(struct rspc *c);

static const struct gt_stats *stats_of(const struct session *s)
{
	return s->tr ? gt_trace_stats(s->tr) : gt_growth_stats(s->gr);
}

static int resume(struct session *s, int64_t tid, int sig)
{
	gt_memcache_invalidate(s->mc);
	if (rspc_resume(s->c, tid, sig) < 0) {
		warn("cannot resume the target: %s", rspc_error(s->c));
		return -1;
	}
	return 0;
}

/* Wait for the next stop.  Sets *stop_req when a stop signal or the deadline
 * arrived (the target is then interrupted once).  Returns 1 with *st, or -1. */
static int wait_stop(struct session *s, struct rsp_stop *st, int *stop_req)
{
	bool interrupted = false;
	int64_t grace_end = 0;
	for (;;) {
		int r = rspc_wait_stop(s->c, st, WAIT_SLICE_MS);
		if (r < 0) {
			live_clear(&s->live);
			if (!*stop_req)
				*stop_req = s->stop_signal = stop_signal_pending();
			if (*stop_req > 0) {
				/* Ctrl-C from a terminal reaches the whole process group:
				 * the stub got it too and let go of the target itself. */
				s->stub_gone = true;
				return -1;
			}
			warn("the stub closed the connection: %s", rspc_error(s->c));
			return -1;
		}
		if (r > 0) {
			if (st->kind == RSP_STOP_OUTPUT)
				continue; /* rspc already wrote it */
			return 1;
		}
		live_update(&s->live, stats_of(s), false);
		if (!*stop_req) {
			int sig = stop_signal_pending();
			if (sig)
				*stop_req = s->stop_signal = sig;
			else if (s->deadline_ns && mono_ns() >= s->deadline_ns)
				*stop_req = -1;
		}
		if (*stop_req && !interrupted) {
			if (rspc_interrupt(s->c) < 0) {
				if (*stop_req > 0 && conn_closed(s->c)) {
					s->stub_gone = true;
					return -1;
				}
				warn("cannot interrupt the target: %s", rspc_error(s->c));
				return -1;
			}
			interrupted = true;
			s->interrupt_pending = true;
			grace_end = mono_ns() + INTERRUPT_GRACE_MS * 1000000LL;
		} else if (interrupted && mono_ns() > grace_end) {
			warn("the target did not stop after an interrupt");
			return -1;
		}
	}
}

/* Has the stub closed its end?  (No data is consumed.) */
static bool conn_closed(struct rspc *c)
{
	struct pollfd p = { .fd = rspc_fd(c), .events = POLLIN };
	if (poll(&p, 1, 0) <= 0)
		return false;
	if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
		return true;
	char b;
	return recv(p.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* gotap was told to stop and the stub is gone: a terminal's Ctrl-C reached
 * the whole process group, and the stub let go of the target itself. */
static bool stub_went_away(struct session *s)
{
	if (!s->stop_signal)
		s->stop_signal = stop_signal_pending();
	return s->stop_signal > 0 && conn_closed(s->c);
}

/* A session loop failed (reason: what to warn).  After a terminal's ^C the
 * stub may have gone first: that is no error to report, only remembered. */
static enum end_reason end_failed(struct session *s, const char *reason)
{
	live_clear(&s->live);
	if (stub_went_away(s))
		s->stub_gone = true;
	else
		warn("%s", reason);
	return END_ERROR;
}

/* Take the breakpoints out and let go of the target.  `kill_it`: end a
 * program gotap launched; otherwise detach (it runs on).  0 or -1. */
static int let_go(struct session *s, bool kill_it)
{
	/* After a terminal's Ctrl-C the stub may be letting go by itself:
	 * a failure is then no failure (checked after each step, since the
	 * stub may close its end at any moment). */
	if (stub_went_away(s)) {
		s->stub_gone = true;
		return -1;
	}
	if (s->tr) {
		/* stop collecting (what was collected is still reported), then
		 * forget the tracepoint: no int3 may stay in a target that runs on */
		char err[256];
		if (gt_trace_stop(s->tr, err, sizeof err) < 0 || tc_init(s->c) < 0) {
			if (stub_went_away(s)) {
				s->stub_gone = true;
				return -1;
			}
			warn("cannot stop the trace experiment: %s", rspc_error(s->c));
			return -1;
		}
	} else if (gt_growth_disarm(s->gr) < 0) {
		if (stub_went_away(s)) {
			s->stub_gone = true;
			return -1;
		}
		warn("cannot remove a breakpoint: %s", rspc_error(s->c));
		return -1;
	}
	int r = kill_it ? rspc_kill(s->c) : rspc_detach(s->c);
	if (r < 0) {
		if (stub_went_away(s)) {
			s->stub_gone = true;
			return -1;
		}
		warn("cannot %s: %s", kill_it ? "kill the program" : "detach", rspc_error(s->c));
		return -1;
	}
	return 0;
}

/* Resume thread tid alone (rspc_resume_thread: 's', or 'C' with a signal)
 * and wait for its stop.  Returns 0 with *st, or -1 (said). */
static int resume_one(struct session *s, char action, int gdb_sig, int64_t tid,
		      struct rsp_stop *st)
{
	gt_memcache_invalidate(s->mc);
	if (rspc_resume_thread(s->c, action, gdb_sig, tid, st) < 0) {
		warn("%s", rspc_error(s->c));
		return -1;
	}
	return 0;
}

/* Deliver gdb_sig to thread tid alone, the other threads staying stopped,
 * and wait for its next stop (*st).  Used when a signal is reported for a
 * thread that sits at one of our breakpoints (it was being stepped over it):
 * resuming everyone would let sysmon send the next SIGURG before the step
 * completes, forever.  The handler returns to the breakpoint, which then
 * reports the same hit again (gt_growth_expect_repeat skips it). */
static int deliver_alone(struct session *s, int64_t tid, int gdb_sig, struct rsp_stop *st)
{
	gt_growth_expect_repeat(s->gr, tid);
	return resume_one(s, 'C', gdb_sig, tid, st);
}

/* Step thread tid over our breakpoint at pc, the others staying stopped, as
 * gdb does: gdbserver (rightly) never steps over a breakpoint its client
 * inserted, it reports it again.  z0, vCont;s:tid, Z0.  Returns 0 when the
 * step is done (*sig and *sig_tid may then hold a signal to deliver on the next
 * resume), 1 when *st holds a stop the loop must handle instead, -1 on error. */
static int step_over(struct session *s, int64_t tid, uint64_t pc,
		     struct rsp_stop *st, int64_t *sig_tid, int *sig)
{
	struct rsp_stop st2;
	if (rspc_remove_bp(s->c, 0, pc, 1) < 0) {
		warn("cannot remove the breakpoint at 0x%" PRIx64 ": %s", pc, rspc_error(s->c));
		return -1;
	}
	if (resume_one(s, 's', 0, tid, &st2) < 0)
		return -1;
	if (rspc_insert_bp(s->c, 0, pc, 1) < 0) {
		warn("cannot put back the breakpoint at 0x%" PRIx64 ": %s", pc, rspc_error(s->c));
		return -1;
	}
	if (st2.kind != RSP_STOP_SIGNAL) {
		*st = st2;
		return 1;
	}
	if (st2.sig == GDB_SIGTRAP || st2.sig == 0) {
		/* A stub that delivers a passed signal (SIGURG) with the step
		 * ends the step at the handler's first instruction; the handler
		 * returns to the breakpoint, which then reports this hit again.
		 * Our breakpoints sit on plain instructions (no jumps), so a
		 * finished step is just past pc. */
		uint64_t now = 0;
		bool have = false;
		for (unsigned i = 0; i < st2.nregs; i++)
			if (st2.regs[i].regno == RSP_AMD64_RIP) {
				now = st2.regs[i].value;
				have = true;
			}
		if (!have && rspc_read_reg(s->c, tid, RSP_AMD64_RIP, &now) < 0) {
			warn("cannot read the pc of thread %" PRId64 ": %s", tid, rspc_error(s->c));
			return -1;
		}
		if (now <= pc || now > pc + 15)
			gt_growth_expect_repeat(s->gr, tid);
		return 0;
	}
	if (st2.sig == GDB_SIGINT) {
		/* an interrupt (ours, or gotap's Ctrl-C reaching the stub) */
		*st = st2;
		return 1;
	}
	uint64_t now;
	if (rspc_read_reg(s->c, tid, RSP_AMD64_RIP, &now) < 0) {
		warn("cannot read the pc of thread %" PRId64 ": %s", tid, rspc_error(s->c));
		return -1;
	}
	if (now == pc) {
		/* the signal came before the instruction ran */
		if (deliver_alone(s, tid, st2.sig, st) < 0)
			return -1;
		return 1;
	}
	*sig_tid = tid;
	*sig = st2.sig;
	return 0;
}

/* The stop loop.  Returns how the analysis ended. */
static enum end_reason run(struct session *s)
{
	struct rsp_stop st;
	char err[256];
	int64_t sig_tid = -1;
	int sig = 0;
	int stop_req = 0;          /* >0 a signal to gotap, -1 the deadline */
	bool passive = false;      /* limit reached: breakpoints out, program runs to its end */
	bool have_stop = false;    /* st already holds the next stop (deliver_alone) */
	int64_t step_tid = 0;      /* thread stopped at our breakpoint step_pc */
	uint64_t step_pc = 0;
	for (;;) {
		if (!have_stop && step_tid > 0) {
			int64_t t = step_tid;
			step_tid = 0;
			if (gt_growth_armed(s->gr) && gt_growth_is_bp(s->gr, step_pc)) {
				int r = step_over(s, t, step_pc, &st, &sig_tid, &sig);
				if (r < 0)
					return END_ERROR;
				have_stop = r == 1;
			}
		}
		if (!have_stop) {
			if (!stop_req && !passive) {
				int ps = stop_signal_pending();
				if (ps)
					stop_req = s->stop_signal = ps;
			}
			if (stop_req && !passive)
				break;
			if (resume(s, sig_tid, sig) < 0)
				return END_ERROR;
			sig_tid = -1;
			sig = 0;
			int prev_req = stop_req;
			if (wait_stop(s, &st, &stop_req) < 0)
				return END_ERROR;
			if (passive && stop_req && !prev_req) {
				/* Ctrl-C while a launched program runs on without breakpoints */
				if (stop_req > 0) {
					live_clear(&s->live);
					if (rspc_kill(s->c) < 0)
						warn("cannot kill the program: %s", rspc_error(s->c));
					return END_SIGNAL;
				}
				stop_req = 0;
			}
		}
		have_stop = false;
		switch (st.kind) {
		case RSP_STOP_EXITED:
			s->exited = true;
			s->exit_status = st.exit_code;
			return END_EXITED;
		case RSP_STOP_TERMINATED:
			s->exited = true;
			s->exit_status = 128 + rsp_sig_to_host(st.sig);
			live_clear(&s->live);
			warn("the program was killed by signal %d", rsp_sig_to_host(st.sig));
			return END_EXITED;
		case RSP_STOP_SIGNAL: {
			if (s->live.out_tty)
				live_clear(&s->live);
			int r = gt_growth_on_stop(s->gr, &st, err, sizeof err);
			if (r < 0) {
				return end_failed(s, err);
			}
			live_update(&s->live, stats_of(s), false);
			int64_t tid = st.has_thread ? st.thread.tid : 0;
			if (r >= 1) {
				/* Who steps the thread over our breakpoint?  gotap-stub does
				 * it on resume (fast: the breakpoint never leaves memory);
				 * gdbserver, rightly for a gdb stub, never steps over a
				 * breakpoint its client inserted and reports the same hit
				 * again.  After a few such immediate repeats gotap steps
				 * itself (z0, vCont;s, Z0), as gdb does.  One repeat
				 * can also be a signal handler returning to the breakpoint. */
				if (r == 2 && tid == s->fast_tid && ++s->fast_repeats >= 50 &&
				    !s->client_step) {
					s->client_step = true;
					if (getenv("GOTAP_DEBUG"))
						warn("the stub does not step over breakpoints: gotap steps itself");
				} else if (r == 1 || tid != s->fast_tid) {
					s->fast_repeats = 0;
				}
				if (s->client_step) {
					step_tid = tid;
					step_pc = gt_growth_last_pc(s->gr);
				} else {
					gt_growth_expect_repeat(s->gr, tid);
					s->fast_tid = tid;
				}
			}
			if (r == 0) {
				if (st.sig == GDB_SIGTRAP) {
					if (!s->warned_trap)
						warn("the program stopped with SIGTRAP outside gotap's breakpoints; not delivering it");
					s->warned_trap = true;
				} else if (st.sig == GDB_SIGINT && s->interrupt_pending) {
					/* our own interrupt (it may come after a breakpoint
					 * stop that was already on its way) */
					s->interrupt_pending = false;
				} else if (st.sig != 0) {
					uint64_t pc = 0;
					if (tid > 0 && gt_growth_armed(s->gr) &&
					    rspc_read_reg(s->c, tid, RSP_AMD64_RIP, &pc) == 0 &&
					    gt_growth_is_bp(s->gr, pc)) {
						if (deliver_alone(s, tid, st.sig, &st) < 0)
							return END_ERROR;
						have_stop = true;
						continue;
					}
					sig_tid = tid;
					sig = st.sig;
				}
			}
			if (!passive && gt_growth_done(s->gr)) {
				if (s->o->mode != MODE_LAUNCH)
					return END_LIMIT;
				if (gt_growth_disarm(s->gr) < 0) {
					warn("cannot remove a breakpoint: %s", rspc_error(s->c));
					return END_ERROR;
				}
				passive = true;
			}
			if (stop_req == -1 && !passive) {
				/* --duration: same as --max-events */
				if (s->o->mode != MODE_LAUNCH)
					return END_LIMIT;
				if (gt_growth_disarm(s->gr) < 0) {
					warn("cannot remove a breakpoint: %s", rspc_error(s->c));
					return END_ERROR;
				}
				passive = true;
				stop_req = 0;
				s->deadline_ns = 0;
			}
			break;
		}
		case RSP_STOP_THREAD_EXIT:
		case RSP_STOP_OUTPUT:
			break;
		case RSP_STOP_NO_RESUMED:
			warn("the stub has no thread left to resume");
			return END_ERROR;
		}
	}
	return END_SIGNAL;
}

/* ------------------------------------------------------------ trace mode */

/* Trace mode (--mode=trace, growth_trace.h): the stub collects each growth
 * into its trace buffer while the program runs; gotap reads the buffer as a
 * stream.  With non-stop (QNonStop) the program never stops for gotap:
 * stops of single threads (signals not passed in the stub) come as %Stop
 * notifications and that thread alone is resumed.  Without non-stop
 * (all-stop) packets can only be sent while the program is stopped: gotap
 * interrupts it every TRACE_SLICE_MS, reads what the buffer holds and lets
 * it go again.  A hitting thread never waits for gotap unless the buffer is
 * full (the stub's back-pressure). */
#define TRACE_POLL_MS 8          /* idle: at most this long between two reads of the buffer */
#define TRACE_BATCH_MS 2         /* after a partial read: let frames gather this long */
#define TRACE_SLICE_MS 20        /* all-stop: how long the program runs between reads */

/* Ask for the trace buffer until it has nothing more.  0 or -1 (said). */
static int trace_drain(struct session *s)
{
	char err[256];
	for (;;) {
		long n = gt_trace_poll(s->tr, err, sizeof err);
		if (n < 0) {
			live_clear(&s->live);
			warn("%s", err);
			return -1;
		}
		if (n == 0)
			return 0;
	}
}

/* Has the stub stopped the experiment by itself (a program error, a full
 * buffer)?  Asked every TRACE_CHECK_MS and at the end: growths after that
 * would go unseen, so say it (and gotap's exit status will).  0, 1 when it
 * has (said), -1 (said). */
#define TRACE_CHECK_MS 500
static int trace_check(struct session *s, bool now)
{
	char why[300];
	int64_t t = mono_ns();
	if (!now && t < s->trace_check_ns)
		return 0;
	s->trace_check_ns = t + TRACE_CHECK_MS * 1000000LL;
	int r = gt_trace_check(s->tr, why, sizeof why);
	if (r != 0) {
		live_clear(&s->live);
		warn("%s", why);
	}
	if (r > 0)
		s->trace_failed = true;
	return r;
}

/* Stop the experiment (the last frames are read and reported).  check:
 * say so if the stub had stopped it by itself (not after the program's
 * exit: the stub ends the run then). */
static int trace_end(struct session *s, bool check)
{
	char err[256];
	if (check && trace_check(s, true) < 0)
		return -1;
	if (gt_trace_stop(s->tr, err, sizeof err) < 0) {
		live_clear(&s->live);
		warn("cannot stop the trace experiment: %s", err);
		return -1;
	}
	return 0;
}

/* Is it time to stop collecting?  Sets *stop_req for a stop signal (> 0) or
 * the deadline (-1). */
static void trace_check_limits(struct session *s, int *stop_req)
{
	if (*stop_req)
		return;
	int sig = stop_signal_pending();
	if (sig)
		*stop_req = s->stop_signal = sig;
	else if (s->deadline_ns && mono_ns() >= s->deadline_ns)
		*stop_req = -1;
}

/* The program exited: what it collected before is still in the stub. */
static enum end_reason trace_exited(struct session *s, const struct rsp_stop *st)
{
	s->exited = true;
	if (st->kind == RSP_STOP_EXITED) {
		s->exit_status = st->exit_code;
	} else {
		s->exit_status = 128 + rsp_sig_to_host(st->sig);
		live_clear(&s->live);
		warn("the program was killed by signal %d", rsp_sig_to_host(st->sig));
	}
	if (gt_trace_running(s->tr) && trace_end(s, false) < 0)
		return END_ERROR;
	return END_EXITED;
}

/* A signal stop of one thread: which signal to give back (0 = none). */
static int trace_signal(struct session *s, const struct rsp_stop *st)
{
	if (st->sig == GDB_SIGTRAP) {
		/* tracepoint hits never come here: the stub consumes them */
		if (!s->warned_trap)
			warn("the program stopped with SIGTRAP outside gotap's tracepoint; not delivering it");
		s->warned_trap = true;
		return 0;
	}
	if (st->sig == GDB_SIGINT && s->interrupt_pending) {
		s->interrupt_pending = false;   /* ours (all-stop) */
		return 0;
	}
	return st->sig;
}

/* A stop signal or the deadline arrived, or max_events were reported:
 * stop collecting.  Returns 0 to go on (passive: a launched program runs to
 * its end), or the end reason. */
static int trace_limit(struct session *s, int stop_req, bool *passive)
{
	if (trace_end(s, true) < 0)
		return END_ERROR;
	if (stop_req > 0)
		return END_SIGNAL;
	if (s->o->mode != MODE_LAUNCH)
		return END_LIMIT;
	*passive = true;
	return 0;
}

static enum end_reason run_trace_nonstop(struct session *s)
{
	char err[256];
	int stop_req = 0;
	bool passive = false;
	long got = 0;
	int idle_ms = 0;   /* the wait before the next read (see below) */
	if (rspc_resume_ns(s->c, -1, 0) < 0) {
		warn("cannot resume the target: %s", rspc_error(s->c));
		return END_ERROR;
	}
	for (;;) {
		struct rsp_stop st;
		int r = rspc_next_stop_ns(s->c, &st, passive ? WAIT_SLICE_MS : idle_ms);
		if (r < 0) {
			char why[512];
			snprintf(why, sizeof why, "the stub closed the connection: %s", rspc_error(s->c));
			return end_failed(s, why);
		}
		if (r > 0) {
			switch (st.kind) {
			case RSP_STOP_EXITED:
			case RSP_STOP_TERMINATED:
				return trace_exited(s, &st);
			case RSP_STOP_SIGNAL: {
				int64_t tid = st.has_thread ? st.thread.tid : 0;
				int sig = trace_signal(s, &st);
				if (tid > 0 && rspc_resume_ns(s->c, tid, sig) < 0) {
					warn("cannot resume thread %" PRId64 ": %s", tid, rspc_error(s->c));
					return END_ERROR;
				}
				break;
			}
			case RSP_STOP_NO_RESUMED:
				warn("the stub has no thread left to resume");
				return END_ERROR;
			default:
				break;   /* a thread's exit, output */
			}
			continue;    /* take every stop before reading the buffer */
		}
		if (!passive) {
			got = gt_trace_poll(s->tr, err, sizeof err);
			/* Read again at once only after a full read: a few frames at a
			 * time would cost a round trip (two context switches) each;
			 * the stub's buffer holds tens of ms of growths meanwhile. */
			if (got > 0 && (size_t)got >= gt_trace_stream(s->tr)->max_req / 2)
				idle_ms = 0;
			else if (got > 0)
				idle_ms = TRACE_BATCH_MS;
			else
				idle_ms = idle_ms == 0 ? 1 : idle_ms * 2 > TRACE_POLL_MS ? TRACE_POLL_MS : idle_ms * 2;
			if (got < 0) {
				return end_failed(s, err);
			}
			live_update(&s->live, stats_of(s), false);
			int c = trace_check(s, false);
			if (c < 0)
				return END_ERROR;
			if (c > 0 && !stop_req)
				stop_req = -1;   /* nothing more comes: as --duration */
		}
		trace_check_limits(s, &stop_req);
		if (passive) {
			if (stop_req > 0) {
				/* Ctrl-C while a launched program runs on */
				live_clear(&s->live);
				if (rspc_kill(s->c) < 0)
					warn("cannot kill the program: %s", rspc_error(s->c));
				return END_SIGNAL;
			}
			continue;
		}
		if (stop_req || gt_trace_done(s->tr)) {
			int e = trace_limit(s, stop_req, &passive);
			if (e)
				return (enum end_reason)e;
			stop_req = 0;
			s->deadline_ns = 0;
			got = 0;
		}
	}
}

static enum end_reason run_trace_allstop(struct session *s)
{
	int stop_req = 0;
	bool passive = false;
	int64_t sig_tid = -1;
	int sig = 0;
	for (;;) {
		struct rsp_stop st;
		if (resume(s, sig_tid, sig) < 0)
			return END_ERROR;
		sig_tid = -1;
		sig = 0;
		int r;
		if (passive) {
			int prev = stop_req;
			if (wait_stop(s, &st, &stop_req) < 0)
				return END_ERROR;
			if (stop_req > 0 && !prev) {
				live_clear(&s->live);
				if (rspc_kill(s->c) < 0)
					warn("cannot kill the program: %s", rspc_error(s->c));
				return END_SIGNAL;
			}
			stop_req = 0;
			r = 1;
		} else {
			r = rspc_wait_stop(s->c, &st, TRACE_SLICE_MS);
			if (r == 0) {
				/* time to read the buffer: stop the program */
				if (rspc_interrupt(s->c) < 0) {
					warn("cannot interrupt the target: %s", rspc_error(s->c));
					return END_ERROR;
				}
				s->interrupt_pending = true;
				r = rspc_wait_stop(s->c, &st, INTERRUPT_GRACE_MS);
				if (r == 0) {
					warn("the target did not stop after an interrupt");
					return END_ERROR;
				}
			}
		}
		if (r < 0) {
			char why[512];
			snprintf(why, sizeof why, "the stub closed the connection: %s", rspc_error(s->c));
			return end_failed(s, why);
		}
		switch (st.kind) {
		case RSP_STOP_EXITED:
		case RSP_STOP_TERMINATED:
			return trace_exited(s, &st);
		case RSP_STOP_SIGNAL:
			sig = trace_signal(s, &st);
			sig_tid = sig && st.has_thread ? st.thread.tid : -1;
			if (sig_tid <= 0)
				sig = 0;
			break;
		case RSP_STOP_NO_RESUMED:
			warn("the stub has no thread left to resume");
			return END_ERROR;
		default:
			break;
		}
		if (passive)
			continue;
		if (trace_drain(s) < 0)
			return END_ERROR;
		live_update(&s->live, stats_of(s), false);
		int c = trace_check(s, false);
		if (c < 0)
			return END_ERROR;
		if (c > 0 && !stop_req)
			stop_req = -1;
		trace_check_limits(s, &stop_req);
		if (stop_req || gt_trace_done(s->tr)) {
			int e = trace_limit(s, stop_req, &passive);
			if (e)
				return (enum end_reason)e;
			stop_req = 0;
			s->deadline_ns = 0;
		}
	}
}

/* ---------------------------------------------------- target-view paths */

/* A sink in front of the real ones that shows the executable as the target
 * sees it (qXfer:exec-file) rather than the local copy gotap loaded (a
 * fetched one in the cache, /proc/PID/exe): frames whose module is `local`
 * are passed on with `target` instead. */
struct rename_sink {
	struct out_sink inner;
	const char *local, *target;
	struct gort_frame frames[128];
};

static void rename_frame(const struct rename_sink *r, struct gort_frame *f)
{
	if (f->module != NULL && strcmp(f->module, r->local) == 0)
		f->module = r->target;
}

static int rename_event(void *state, const struct gt_event *ev)
{
	struct rename_sink *r = state;
	struct gt_event e = *ev;
	int n = ev->nframes < 0 ? 0 : ev->nframes;
	if (n > (int)(sizeof r->frames / sizeof r->frames[0]))
		n = (int)(sizeof r->frames / sizeof r->frames[0]);
	if (ev->frames != NULL && n > 0) {
		memcpy(r->frames, ev->frames, (size_t)n * sizeof r->frames[0]);
		for (int i = 0; i < n; i++)
			rename_frame(r, &r->frames[i]);
		e.frames = r->frames;
		e.nframes = n;
	}
	rename_frame(r, &e.site);
	return r->inner.event(r->inner.state, &e);
}

static int rename_finish(void *state, const struct gt_stats *st)
{
	struct rename_sink *r = state;
	return r->inner.finish ? r->inner.finish(r->inner.state, st) : 0;
}

static void rename_destroy(void *state)
{
	struct rename_sink *r = state;
	if (r->inner.destroy)
		r->inner.destroy(r->inner.state);
	free(r);
}

/* Wrap *sink so it reports `target` for the module `local`.  0 or -1. */
static int rename_wrap(struct out_sink *sink, const char *local, const char *target)
{
	struct rename_sink *r = calloc(1, sizeof *r);
	if (r == NULL)
		return -1;
	r->inner = *sink;
	r->local = local;
	r->target = target;
	*sink = (struct out_sink){ .name = sink->name, .state = r, .event = rename_event,
				   .finish = rename_finish, .destroy = rename_destroy };
	return 0;
}

/* memcache backend: target memory over RSP. */
static long read_target(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return rspc_read_mem(ctx, addr, buf, len);
}

/* Reap the stub gotap started (it exits after detach/kill/exit); give up
 * after a few seconds rather than hang. */
static void reap_stub(pid_t pid)
{
	if (pid <= 0)
		return;
	for (int i = 0; pid > 0 && i < 50; i++) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return;
		struct timespec ts = { 0, 100000000L };
		nanosleep(&ts, NULL);
	}
	warn("gotap-stub (pid %d) did not exit", (int)pid);
}

/* The report's stream.  Not a terminal: a buffer that holds a whole batch
 * of trace-mode events (the sinks flush at a batch's end), so a batch
 * leaves in one write instead of one per 4 KiB (stdio's default for files
 * and pipes; ~2.4 KB of text an event). */
#define OUTPUT_BUFFER (1u << 20)

static FILE *open_output(const char *path)
{
	FILE *f = stdout;
	if (path != NULL && strcmp(path, "-") != 0) {
		f = fopen(path, "w");
		if (f == NULL)
			die("cannot write %s: %s", path, strerror(errno));
	}
	/* before any output; on failure stdio keeps its own buffer */
	if (!isatty(fileno(f)) && setvbuf(f, NULL, _IOFBF, OUTPUT_BUFFER) != 0)
		warn("cannot enlarge the output buffer; writing in small pieces");
	return f;
}

int main(int argc, char **argv)
{
	struct opts o;
	parse_opts(argc, argv, &o);
	if (o.script_file || o.script_text) {
		/* A probe script replaces the built-in report: stp_run does the
		 * whole session (compile first, then start/attach/connect). */
		struct stp_run_opts so = {
			.script_file = o.script_file, .script_text = o.script_text,
			.argv = o.mode == MODE_LAUNCH ? o.argv : NULL,
			.remote = o.remote, .pid = o.pid, .binary = o.binary,
			.stub_path = NULL, .out = NULL, .duration = o.duration,
		};
		return stp_run(&so);
	}

	char err[256];
	char *prog = NULL, *binary = NULL;
	struct gort_layout lay;
	struct gort_probes pr;
	struct gort_bin *bin = NULL;

	if (o.mode == MODE_LAUNCH) {
		prog = find_program(o.argv[0]);
		if (prog == NULL)
			die("no such program: %s", o.argv[0]);
		o.argv[0] = prog;
	}
	if (o.binary) {
		if (access(o.binary, R_OK) != 0)
			die("--binary %s: %s", o.binary, strerror(errno));
		binary = strdup(o.binary);
	} else if (prog) {
		binary = strdup(prog);
	}
	if (binary == NULL && (o.binary || prog))
		die("out of memory");
	/* Check the binary before starting anything: "not a Go binary" should not
	 * cost a process. */
	if (binary)
		bin = load_binary(binary, 0, &lay, &pr);

	if (o.mode == MODE_PID && kill(o.pid, 0) != 0 && errno == ESRCH)
		die("no such process: %d", (int)o.pid);

	struct rspc *c = NULL;
	pid_t stub_pid = 0;
	if (o.mode == MODE_REMOTE) {
		c = rspc_connect(o.remote, err, sizeof err);
		if (c == NULL)
			die("cannot reach the stub at %s: %s", o.remote, err);
	} else {
		char *stub = find_stub();
		if (stub == NULL)
			die("cannot find gotap-stub (next to gotap, or set GOTAP_STUB)");
		c = rspc_spawn(stub, o.mode == MODE_LAUNCH ? o.argv : NULL,
			       o.mode == MODE_PID ? o.pid : 0, &stub_pid, err, sizeof err);
		if (c == NULL)
			die("cannot start %s: %s", stub, err);
		free(stub);
	}
	block_stop_signals();

	struct rsp_stop initial;
	if (rspc_handshake(c, &initial) < 0)
		die("the stub did not answer the handshake: %s", rspc_error(c)); /* "...closed the connection" */
	if (initial.kind == RSP_STOP_EXITED || initial.kind == RSP_STOP_TERMINATED)
		die("the program has already exited");

	/* The process id as the stub speaks it: for a target in another PID
	 * namespace that is the id the target sees, not the one we attached. */
	int64_t pid = initial.has_thread && initial.thread.has_pid && initial.thread.pid > 0
		? initial.thread.pid
		: o.mode == MODE_PID ? o.pid
		: initial.has_thread ? initial.thread.tid : 0;

	/* --remote/--pid: the executable must be the target's own build; fetch
	 * it from the stub when there is no such copy here (fetch.c). */
	struct fetch_result fr = { 0 };
	if (o.mode != MODE_LAUNCH) {
		char proc_exe[64];
		snprintf(proc_exe, sizeof proc_exe, "/proc/%d/exe", (int)o.pid);
		if (fetch_executable(c, o.binary, pid, o.mode == MODE_PID ? proc_exe : NULL, &fr,
				     err, sizeof err) < 0) {
			(void)rspc_detach(c);
			die("%s", err);
		}
		if (binary == NULL || strcmp(binary, fr.path) != 0) {
			if (bin != NULL)
				gort_close(bin);
			free(binary);
			binary = strdup(fr.path);
			if (binary == NULL)
				die("out of memory");
			bin = load_binary(binary, 0, &lay, &pr);
		}
	}
	uint64_t bias = load_bias(c, binary);
	if (bias != 0) {
		gort_close(bin);
		bin = load_binary(binary, bias, &lay, &pr);
	}

	if (pass_signals(c) < 0)
		warn("the stub refused QPassSignals (%s); signals will be passed one stop at a time",
		     rspc_error(c));

	FILE *out = open_output(o.outfile);
	struct out_sink sinks[2];
	int nsinks = 0;
	int r = o.format == FMT_JSON ? out_json_new(out, &sinks[nsinks])
		: o.format == FMT_FOLDED ? out_folded_new(out, &sinks[nsinks])
		: out_text_new(out, &sinks[nsinks]);
	if (r < 0)
		die("out of memory");
	nsinks++;
	if (o.summary) {
		if (out_summary_new(stderr, 10, &sinks[nsinks]) < 0)
			die("out of memory");
		nsinks++;
	}
	/* gort names frames with the canonical path of what it loaded */
	char *loaded = realpath(binary, NULL);
	if (fr.target_path != NULL && loaded != NULL && strcmp(fr.target_path, loaded) != 0)
		for (int i = 0; i < nsinks; i++)
			if (rename_wrap(&sinks[i], loaded, fr.target_path) < 0)
				die("out of memory");

	struct gt_memcache *mc = gt_memcache_new(read_target, c, 4096, 64);
	if (mc == NULL)
		die("out of memory");
	struct gt_growth_cfg cfg = {
		.bin = bin, .layout = lay, .probes = pr, .conn = c, .mem = mc, .pid = pid,
		.every = o.every, .max_events = o.max_events, .max_frames = 64, .no_inline = o.no_inline,
		.sinks = sinks, .nsinks = nsinks,
	};
	/* Trace mode when the stub has tracepoints, non-stop and a streaming
	 * trace buffer (or when asked: then all-stop does if non-stop is
	 * missing); stop mode else, or when the stub refuses the program. */
	struct gt_growth *gr = NULL;
	struct gt_trace *tr = NULL;
	bool nonstop = false;
	if (o.how == HOW_TRACE ||
	    (o.how == HOW_AUTO && tc_supported(c) && rspc_has_feature(c, "QNonStop") &&
	     rspc_has_feature(c, "QTBuffer:stream"))) {
		tr = gt_trace_new(&cfg);
		if (tr == NULL)
			die("out of memory");
		int ar = gt_trace_arm(tr, err, sizeof err);
		if (ar != 0 && (ar < 0 || o.how == HOW_TRACE)) {
			warn("trace mode: %s", err);
			gt_trace_free(tr);
			if (o.mode == MODE_LAUNCH)
				(void)rspc_kill(c);
			else
				(void)rspc_detach(c);
			return 2;
		}
		if (ar != 0) {
			if (getenv("GOTAP_DEBUG"))
				warn("trace mode not available (%s): stop mode", err);
			gt_trace_free(tr);
			tr = NULL;
		} else if (rspc_has_feature(c, "QNonStop")) {
			if (rspc_set_nonstop(c, true) == 0)
				nonstop = true;
			else if (getenv("GOTAP_DEBUG"))
				warn("non-stop refused (%s): all-stop trace mode", rspc_error(c));
		}
	}
	if (tr == NULL) {
		gr = gt_growth_new(&cfg);
		if (gr == NULL)
			die("out of memory");
		if (gt_growth_arm(gr, err, sizeof err) < 0) {
			warn("%s", err);
			(void)gt_growth_disarm(gr);
			if (o.mode == MODE_LAUNCH)
				(void)rspc_kill(c);
			else
				(void)rspc_detach(c);
			return 2;
		}
	}
	if (getenv("GOTAP_DEBUG"))
		warn("mode: %s", tr ? nonstop ? "trace (non-stop)" : "trace (all-stop)" : "stop");

	struct session s = { .o = &o, .c = c, .gr = gr, .tr = tr, .mc = mc };
	s.live.on = isatty(STDERR_FILENO) == 1;
	s.live.out_tty = out == stdout && isatty(STDOUT_FILENO) == 1;
	if (o.duration > 0)
		s.deadline_ns = mono_ns() + (int64_t)(o.duration * 1e9);

	enum end_reason why = tr == NULL ? run(&s)
			      : nonstop ? run_trace_nonstop(&s) : run_trace_allstop(&s);
	if (why == END_ERROR && s.stub_gone)
		why = END_STUB_GONE;
	int status = 0;
	switch (why) {
	case END_EXITED:
		status = o.mode == MODE_LAUNCH ? s.exit_status : 0;
		break;
	case END_SIGNAL:
		if (let_go(&s, o.mode == MODE_LAUNCH) < 0 && !s.stub_gone)
			status = 1;
		else if (s.stub_gone)
			status = o.mode == MODE_LAUNCH ? 130 : 0;
		else if (o.mode == MODE_LAUNCH)
			status = 130;
		break;
	case END_LIMIT:
		if (let_go(&s, false) < 0)
			status = 1;
		break;
	case END_ERROR:
		status = 1;
		break;
	case END_STUB_GONE:
		warn("the stub got the signal too and let go of the program");
		status = o.mode == MODE_LAUNCH ? 130 : 0;
		break;
	}
	if (why == END_SIGNAL && s.stub_gone)
		warn("the stub got the signal too and let go of the program");
	live_clear(&s.live);
	if (s.trace_failed && status == 0)
		status = 1;
	if ((tr ? gt_trace_finish(tr) : gt_growth_finish(gr)) < 0) {
		warn("cannot write the output: %s", strerror(errno));
		status = 1;
	}
	if (getenv("GOTAP_DEBUG")) {
		fprintf(stderr, "gotap-debug: %lu packets sent, memory cache %" PRIu64 " hits %" PRIu64 " misses\n",
			rspc_packets_sent(c), gt_memcache_stats(mc)->hits, gt_memcache_stats(mc)->misses);
		if (tr) {
			const struct tc_stream *ts = gt_trace_stream(tr);
			fprintf(stderr, "gotap-debug: trace stream: %" PRIu64 " qTBuffer requests (%" PRIu64
				" empty), %" PRIu64 " bytes, %" PRIu64 " frames\n", ts->requests,
				ts->empty_requests, ts->bytes, ts->frames);
		}
	}
	if (o.mode != MODE_LAUNCH && why == END_EXITED)
		fprintf(stderr, "gotap: the program exited (status %d)\n", s.exit_status);
	if (out != stdout && fclose(out) != 0) {
		warn("cannot write %s: %s", o.outfile, strerror(errno));
		status = 1;
	}
	for (int i = 0; i < nsinks; i++)
		sinks[i].destroy(sinks[i].state);
	gt_growth_free(gr);
	gt_trace_free(tr);
	gt_memcache_free(mc);
	rspc_close(c);
	gort_close(bin);
	free(binary);
	free(loaded);
	fetch_result_free(&fr);
	free(prog);
	reap_stub(stub_pid);
	return status;
}
