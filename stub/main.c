/* main.c — gotap-stub's command line, modelled on gdbserver's.
 *
 *   gotap-stub [OPTIONS] COMM PROG [ARGS...]   launch PROG stopped at its first instruction
 *   gotap-stub [OPTIONS] --attach COMM PID     attach to every thread of PID
 *   gotap-stub [OPTIONS] --multi COMM          no program yet (extended-remote: run / attach)
 *
 * It prints gdbserver's messages on stderr (IDE launchers wait for them),
 * serves clients one at a time (session.c), and whatever way a session ends
 * leaves no breakpoint behind: a launched program is killed, an attached one
 * detached (see usage text).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handlers.h"
#include "say.h"
#include "session.h"
#include "target.h"
#include "transport.h"

#define STUB_VERSION "0.1"

static volatile int stop_flag;
static volatile int stop_signal;

static void on_stop_signal(int sig)
{
	stop_flag = 1;
	stop_signal = sig;
}

static void on_sigpipe(int sig)
{
	(void)sig;   /* writes return EPIPE instead; a handler (not SIG_IGN) is
		      * reset by exec, so the debugged program keeps the default */
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage:\tgotap-stub [OPTIONS] COMM PROG [ARGS ...]\n"
		"\tgotap-stub [OPTIONS] --attach COMM PID\n"
		"\tgotap-stub [OPTIONS] --multi COMM\n"
		"\n"
		"COMM may either be a tty device (not supported), or a TCP address:\n"
		"  HOST:PORT      listen on that address (0.0.0.0:PORT for every interface)\n"
		"  :PORT          listen on 127.0.0.1:PORT only (PORT 0 picks a free port)\n"
		"  unix:PATH      listen on a Unix socket created with mode 0600\n"
		"  -              use stdin/stdout (gdb: target remote | gotap-stub - PROG)\n"
		"\n"
		"Operating modes:\n"
		"  --attach              Attach to running process PID.\n"
		"  --multi               Start server without a specific program, and\n"
		"                        only quit when explicitly commanded (vRun needs it).\n"
		"  --once                Exit after the first connection has closed.\n"
		"  --help                Print this message and then exit.\n"
		"  --version             Display version information and exit.\n"
		"\n"
		"Other options:\n"
		"  --wrapper WRAPPER --  Run WRAPPER to start new programs.\n"
		"  --disable-randomization / --no-disable-randomization\n"
		"                        Run PROG with address space randomization\n"
		"                        disabled (the default) or enabled.\n"
		"  --allow-host-io       Let the client read any file through vFile\n"
		"                        (default: only the program's own files).\n"
		"  --quiet               No progress messages (\"Listening on port N\",\n"
		"                        \"Process P created; pid = N\", ...); errors only.\n"
		"\n"
		"Debug options:\n"
		"  --debug               Log every packet on stderr.\n"
		"  --disable-packet=PACKET1[,PACKET2,...]\n"
		"                        Disable support for RSP packets or features.\n"
		"                        Run --disable-packet alone for the list.\n"
		"\n"
		"Lifecycle: when the client goes away without `detach' or `kill', or\n"
		"gotap-stub gets SIGTERM or SIGINT, it removes every breakpoint and\n"
		"watchpoint, then detaches from an attached process (which runs on\n"
		"unharmed) or kills a program it launched (gdbserver's default).\n"
		"\n"
		"Report bugs to the gotap team.\n");
}

/* Take "--wrapper CMD... --" out of argv (getopt cannot express it). */
static int take_wrapper(int *argc, char **argv, char ***wrapper)
{
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0) return 0;
		if (argv[i][0] != '-') return 0;   /* COMM: options end here */
		if (strcmp(argv[i], "--wrapper") != 0) continue;
		int j = i + 1;
		while (j < *argc && strcmp(argv[j], "--") != 0) j++;
		if (j == *argc || j == i + 1) {
			fprintf(stderr, "Missing -- after --wrapper (or empty wrapper)\n");
			return -1;
		}
		int n = j - i - 1;
		char **w = calloc((size_t)n + 1, sizeof *w);
		if (!w) return -1;
		for (int k = 0; k < n; k++) w[k] = argv[i + 1 + k];
		*wrapper = w;
		int drop = j - i + 1;
		memmove(&argv[i], &argv[j + 1], (size_t)(*argc - j) * sizeof *argv);  /* keeps NULL */
		*argc -= drop;
		return 0;
	}
	return 0;
}

/* End the process we hold without a session (startup failure, signal). */
static void release_process(const struct tgt_ops *ops, struct tgt *t)
{
	pid_t pid = ops->pid(t);
	if (pid <= 0) return;
	if (ops->attached(t)) {
		stub_say("Detaching from process %d\n", pid);
		int r = ops->detach(t, 0);
		if (r < 0) fprintf(stderr, "gotap-stub: detach: %s\n", strerror(-r));
	} else {
		stub_say("Killing process %d\n", pid);
		int r = ops->kill(t);
		if (r < 0) fprintf(stderr, "gotap-stub: kill: %s\n", strerror(-r));
	}
}

int main(int argc, char **argv)
{
	struct stub_config cfg = { .disable_aslr = true };
	bool attach = false;
	char **wrapper = NULL;
	enum { O_DISABLE_PACKET = 256, O_ASLR_OFF, O_ASLR_ON, O_HOSTIO };
	static const struct option opts[] = {
		{ "attach", no_argument, NULL, 'a' },
		{ "multi", no_argument, NULL, 'm' },
		{ "once", no_argument, NULL, 'o' },
		{ "debug", no_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "disable-packet", optional_argument, NULL, O_DISABLE_PACKET },
		{ "disable-randomization", no_argument, NULL, O_ASLR_OFF },
		{ "no-disable-randomization", no_argument, NULL, O_ASLR_ON },
		{ "allow-host-io", no_argument, NULL, O_HOSTIO },
		{ NULL, 0, NULL, 0 },
	};
	if (take_wrapper(&argc, argv, &wrapper) < 0) return 1;
	cfg.wrapper = wrapper;
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'a': attach = true; break;
		case 'm': cfg.multi = true; break;
		case 'o': cfg.once = true; break;
		case 'd': cfg.debug = true; break;
		case 'q': stub_quiet = true; break;
		case 'h': usage(stdout); return 0;
		case 'V':
			printf("gotap-stub %s (gdbserver-compatible GDB remote stub)\n", STUB_VERSION);
			return 0;
		case O_DISABLE_PACKET:
			if (!optarg || !*optarg) {
				printf("Disableable packets:\n  ");
				stub_print_packet_names(stdout);
				return 0;
			}
			for (char *p = optarg; *p;) {
				char name[64];
				size_t l = strcspn(p, ",");
				snprintf(name, sizeof name, "%.*s", (int)(l < 63 ? l : 63), p);
				if (!stub_packet_name_known(name)) {
					fprintf(stderr, "Don't know how to disable \"%s\".\n\n", name);
					printf("Disableable packets:\n  ");
					stub_print_packet_names(stdout);
					return 1;
				}
				p += l;
				if (*p) p++;
			}
			cfg.disabled = optarg;
			break;
		case O_ASLR_OFF: cfg.disable_aslr = true; break;
		case O_ASLR_ON: cfg.disable_aslr = false; break;
		case O_HOSTIO: cfg.allow_host_io = true; break;
		default: usage(stderr); return 1;
		}
	}
	int npos = argc - optind;
	char **pos = argv + optind;
	if (npos >= 1 && strcmp(pos[0], "--") == 0) { pos++; npos--; }
	if (npos < 1 || (attach && npos != 2) || (!attach && !cfg.multi && npos < 2)) {
		usage(stderr);
		return 1;
	}
	const char *comm = pos[0];
	pid_t attach_pid = 0;
	if (attach) {
		char *end;
		long v = strtol(pos[1], &end, 10);
		if (*end || v <= 0 || v > 0x7fffffff) {
			fprintf(stderr, "Bad process ID: %s\n", pos[1]);
			return 1;
		}
		attach_pid = (pid_t)v;
	} else if (npos >= 2) {
		cfg.argv = pos + 1;
	}

	struct sigaction sa = { .sa_handler = on_stop_signal };   /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0) {
		perror("gotap-stub: sigaction");
		return 1;
	}
	sa.sa_handler = on_sigpipe;
	if (sigaction(SIGPIPE, &sa, NULL) != 0) {
		perror("gotap-stub: sigaction");
		return 1;
	}

	const struct tgt_ops *ops = &pt_ops;
	struct tgt *t = ops->create();
	if (!t) {
		fprintf(stderr, "gotap-stub: out of memory\n");
		return 1;
	}
	/* In stdio mode the program must not write into the protocol stream. */
	if (strcmp(comm, "-") == 0 && stub_stdio_prepare() < 0) {
		perror("gotap-stub: preparing stdio");
		return 1;
	}
	if (attach) {
		int r = ops->attach(t, attach_pid);
		if (r < 0) {
			fprintf(stderr, "Cannot attach to process %d: %s (%d)\n", attach_pid, strerror(-r), -r);
			ops->destroy(t);
			return 1;
		}
		stub_say("Attached; pid = %d\n", attach_pid);
	} else if (cfg.argv) {
		struct tgt_launch_opts lo = { .argv = cfg.argv, .wrapper = cfg.wrapper,
					      .disable_aslr = cfg.disable_aslr };
		pid_t pid;
		int r = ops->launch(t, &lo, &pid);
		if (r < 0) {
			fprintf(stderr, "Cannot exec %s: %s.\n", cfg.argv[0], strerror(-r));
			ops->destroy(t);
			return 1;
		}
		stub_say("Process %s created; pid = %d\n", cfg.argv[0], pid);
	}

	struct stub_listener l;
	char err[256];
	if (stub_listen(comm, &l, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		release_process(ops, t);
		ops->destroy(t);
		free(wrapper);
		return 1;
	}

	int status = 0;
	for (;;) {
		struct stub_transport tr;
		int r = stub_accept(&l, &tr);
		if (r == -EINTR && !stop_flag) continue;
		if (stop_flag) break;
		if (r < 0) {
			fprintf(stderr, "gotap-stub: accept: %s\n", strerror(-r));
			status = 1;
			break;
		}
		struct stub_session s;
		if (stub_session_init(&s, &cfg, ops, t, &tr, ops->pid(t)) < 0) {
			fprintf(stderr, "gotap-stub: out of memory\n");
			tr.close(&tr);
			status = 1;
			break;
		}
		enum stub_end end = stub_session_run(&s, &stop_flag);
		tr.close(&tr);
		bool had_process = s.pid > 0;
		if (had_process && end == STUB_END_DISCONNECT && !stop_flag)
			stub_say("Remote side has terminated connection.\n");
		stub_session_cleanup(&s);
		stub_session_free(&s);
		if (end == STUB_END_EXIT || stop_flag) break;
		if (cfg.once || !cfg.multi || l.kind == STUB_COMM_STDIO) break;
		stub_say("Remote side has terminated connection.  "
			"gotap-stub will reopen the connection.\n");
		if (l.kind == STUB_COMM_TCP) stub_say("Listening on port %d\n", l.port);
	}
	if (stop_flag)
		fprintf(stderr, "gotap-stub: %s received, exiting\n", strsignal(stop_signal));
	release_process(ops, t);
	stub_listener_close(&l);
	ops->destroy(t);
	free(wrapper);
	return status;
}
