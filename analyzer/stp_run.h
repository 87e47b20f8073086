/* stp_run.h — run a SystemTap-style script against a Go program over RSP
 * (`gotap --script FILE` / `gotap -e 'SCRIPT'`).  The language is described
 * in docs/SCRIPTS.md; its implementation is analyzer/stp_*.c.
 */
#ifndef GOTAP_STP_RUN_H
#define GOTAP_STP_RUN_H

#include <stdio.h>
#include <sys/types.h>

struct stp_run_opts {
	const char *script_file;   /* --script FILE ("-" reads stdin); or */
	const char *script_text;   /* -e SCRIPT: exactly one of the two */
	char **argv;               /* -- PROG ARGS (NULL-terminated), or NULL */
	const char *remote;        /* --remote HOST:PORT|unix:PATH, or NULL */
	pid_t pid;                 /* --pid PID, or 0 */
	const char *binary;        /* --binary PATH (local copy of the executable), or NULL */
	const char *stub_path;     /* gotap-stub to start; NULL: $GOTAP_STUB, else next to
				      the running executable */
	FILE *out;                 /* script output; NULL = stdout */
	double duration;           /* stop after this many seconds (0 = no limit) */
};

/* A whole session: read and compile the script (against the program's
 * DWARF when it has process probes), and only if that succeeds start or
 * attach to the program, insert the probe breakpoints, run `begin`
 * probes, run probe handlers at every hit (timers meanwhile), until the
 * program exits, a probe calls exit(), --duration passes, or SIGINT/
 * SIGTERM/SIGHUP arrives; then `end` probes, breakpoints out, and a
 * launched program is killed if still running (a --remote/--pid one is
 * detached and runs on).  With no -- PROG/--pid/--remote, a script whose
 * process probes all name one PATH launches PATH (no arguments); a script
 * without process probes runs with no program at all.
 * Messages go to stderr ("gotap: ..."); compile errors as
 * FILE:LINE:COL + source line + caret.
 * Returns the exit status for gotap: 0 success (runtime errors in probes are
 * reported and counted, not fatal), 1 session failure (stub, connection),
 * 2 script error (nothing was started). */
int stp_run(const struct stp_run_opts *o);

/* Compile and run a script that needs no program (begin, end, timer
 * probes) with its output to out and messages to err: for tests and
 * `gotap -e` without a target.  Returns as stp_run.  Unlike stp_run it does
 * not wait for a signal when no timer or exit() ends the script: it runs
 * begin, then (timers until exit()), then end. */
int stp_run_string(const char *name, const char *src, FILE *out, FILE *err);

#endif /* GOTAP_STP_RUN_H */
