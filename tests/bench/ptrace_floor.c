/* ptrace_floor.c — the cheapest correct way to count hits of one breakpoint
 * with ptrace: the floor that gotap's per-event cost is measured against
 * (`make bench`, issue 6).
 *
 * It starts PROG under ptrace, follows every thread (PTRACE_O_TRACECLONE),
 * writes an int3 over the first byte of the instruction at ADDR and counts
 * the hits.  How a thread gets past the int3 (-m):
 *
 *   emulate  (default) the int3 is never taken out.  The tracer decodes the
 *            one instruction it replaced once, at start-up, and on each hit
 *            does its work on the registers: PTRACE_GETREGS, apply the
 *            instruction, PTRACE_SETREGS (rip past it), PTRACE_CONT.  Only the
 *            hitting thread stops; no hit can be missed.  The decoder knows
 *            the instructions Go puts first in a function — `lea disp(%rsp),
 *            reg` (frames larger than the stack guard: runtime.newstack) and
 *            `mov reg, reg` — and refuses anything else.
 *   stopall  what gdb and gdbserver do in all-stop mode: stop every other
 *            thread (tgkill SIGSTOP + wait), put the original byte back,
 *            single-step, re-insert the int3, resume the others.  Correct but
 *            several ptrace calls and context switches per thread per hit.
 *   step     the naive version: like stopall without stopping the others.
 *            While the byte is out another thread can run through ADDR
 *            unseen, so hits are LOST: shown for comparison only.
 *
 * Every other signal (Go's SIGURG preemption among them) is passed through;
 * one that arrives during a single-step is delivered after it.
 *
 * usage: ptrace_floor [-m emulate|stopall|step] ADDR -- PROG [ARGS...]
 *        ADDR in hex (`go tool nm PROG | awk '$3=="runtime.newstack"'`).
 * Prints on stderr, when PROG has exited:
 *   ptrace_floor: mode=M hits=N threads=T signals=S exit=E
 * and exits with PROG's exit status (128+signal if it was killed).
 * Needs only libc (no disassembler library: one instruction is decoded by hand).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

enum mode { MODE_EMULATE, MODE_STOPALL, MODE_STEP };
static const char *const mode_names[] = {"emulate", "stopall", "step"};

static enum mode mode = MODE_EMULATE;
static pid_t leader;                /* the traced process (thread group id) */
static uintptr_t bp_addr;
static long orig_word, trap_word;   /* the 8 bytes at bp_addr without / with int3 */
static long hits, signals_passed, threads_seen;

static void die(const char *what)
{
	fprintf(stderr, "ptrace_floor: %s: %s\n", what, strerror(errno));
	exit(125);
}

/* ---- the instruction under the int3 ------------------------------------ */

/* What the emulator does with the replaced instruction: dst = src + disp
 * (lea disp(%src), dst  or  mov %src, dst  with disp 0), then rip += len. */
static struct {
	int len, dst, src;
	int64_t disp;
} insn;

/* user_regs_struct field for an x86-64 register number (0 = rax .. 15 = r15) */
static unsigned long long *reg_slot(struct user_regs_struct *r, int n)
{
	switch (n) {
	case 0: return &r->rax;  case 1: return &r->rcx;  case 2: return &r->rdx;
	case 3: return &r->rbx;  case 4: return &r->rsp;  case 5: return &r->rbp;
	case 6: return &r->rsi;  case 7: return &r->rdi;  case 8: return &r->r8;
	case 9: return &r->r9;   case 10: return &r->r10; case 11: return &r->r11;
	case 12: return &r->r12; case 13: return &r->r13; case 14: return &r->r14;
	default: return &r->r15;
	}
}

/* Decode the instruction at the start of `b` (8 bytes) into `insn`.
 * Accepted: REX.W 8D /r with a [base+disp8|disp32] operand (lea), and
 * REX.W 89 or 8B /r register-register (mov).  Returns false otherwise. */
static bool decode(const unsigned char *b)
{
	unsigned rex = b[0];
	if ((rex & 0xf8) != 0x48)       /* REX.W, no other prefix */
		return false;
	unsigned op = b[1], modrm = b[2];
	unsigned mod = modrm >> 6, reg = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
	unsigned rm = (modrm & 7) | (rex & 1 ? 8 : 0);
	if ((op == 0x89 || op == 0x8b) && mod == 3) {
		insn.len = 3;
		insn.dst = op == 0x89 ? (int)rm : (int)reg;
		insn.src = op == 0x89 ? (int)reg : (int)rm;
		insn.disp = 0;
		return true;
	}
	if (op != 0x8d || mod == 0 || mod == 3)
		return false;
	int at = 3;
	int base = (int)rm;
	if ((modrm & 7) == 4) {         /* SIB: accept only "no index" */
		unsigned sib = b[at++];
		if (((sib >> 3) & 7) != 4 || (rex & 2))
			return false;
		base = (int)((sib & 7) | (rex & 1 ? 8 : 0));
	}
	if (mod == 1) {
		insn.disp = (int8_t)b[at];
		at += 1;
	} else {
		int32_t d;
		memcpy(&d, b + at, 4);
		insn.disp = d;
		at += 4;
	}
	if (at > 8)
		return false;
	insn.len = at;
	insn.dst = (int)reg;
	insn.src = base;
	return true;
}

/* ---- threads ------------------------------------------------------------ */

#define MAX_THREADS 4096
static pid_t tids[MAX_THREADS];
static int ntids;

static void thread_add(pid_t t)
{
	for (int i = 0; i < ntids; i++)
		if (tids[i] == t)
			return;
	if (ntids == MAX_THREADS) {
		fprintf(stderr, "ptrace_floor: more than %d threads\n", MAX_THREADS);
		exit(125);
	}
	tids[ntids++] = t;
	threads_seen++;
}

static void thread_del(pid_t t)
{
	for (int i = 0; i < ntids; i++)
		if (tids[i] == t) {
			tids[i] = tids[--ntids];
			return;
		}
}

/* Stops collected while stopping the others (stopall) that are not our
 * SIGSTOP: a breakpoint hit, a signal, a clone event.  They are handled by
 * the main loop before it waits again.  Our SIGSTOP to such a thread stays
 * queued and is swallowed when it is reported. */
static struct { pid_t tid; int status; } held[MAX_THREADS];
static int nheld;

static bool is_held(pid_t t)
{
	for (int i = 0; i < nheld; i++)
		if (held[i].tid == t)
			return true;
	return false;
}

static void stop_others(pid_t self)
{
	for (int i = 0; i < ntids; i++)
		if (tids[i] != self && !is_held(tids[i]))
			if (syscall(SYS_tgkill, leader, tids[i], SIGSTOP) < 0 && errno != ESRCH)
				die("tgkill");
	for (int i = 0; i < ntids; i++) {
		pid_t t = tids[i];
		if (t == self || is_held(t))
			continue;
		int st;
		if (waitpid(t, &st, __WALL) < 0) {
			if (errno == ECHILD) {  /* gone */
				thread_del(t);
				i--;
				continue;
			}
			die("waitpid(stop)");
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			thread_del(t);
			i--;
			continue;
		}
		if (WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP && (st >> 16) == 0)
			continue;               /* our stop */
		held[nheld].tid = t;
		held[nheld].status = st;
		nheld++;
	}
}

static void resume_others(pid_t self)
{
	for (int i = 0; i < ntids; i++)
		if (tids[i] != self && !is_held(tids[i]))
			if (ptrace(PTRACE_CONT, tids[i], 0, 0) < 0 && errno != ESRCH)
				die("PTRACE_CONT(others)");
}

/* ---- getting past the breakpoint ----------------------------------------- */

static void poke(pid_t t, long word)
{
	if (ptrace(PTRACE_POKETEXT, t, (void *)bp_addr, (void *)word) < 0)
		die("PTRACE_POKETEXT");
}

/* Take the int3 out, single-step thread t (whose regs are r, rip rewound),
 * put the int3 back.  Returns the signal to deliver with the next
 * PTRACE_CONT (one that arrived during the step), or -1 if t went away. */
static int step_over(pid_t t, struct user_regs_struct *r)
{
	int deliver = 0;
	poke(t, orig_word);
	r->rip = bp_addr;
	if (ptrace(PTRACE_SETREGS, t, 0, r) < 0)
		die("PTRACE_SETREGS");
	for (;;) {
		if (ptrace(PTRACE_SINGLESTEP, t, 0, 0) < 0)
			die("PTRACE_SINGLESTEP");
		int st;
		if (waitpid(t, &st, __WALL) < 0)
			die("waitpid(step)");
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			thread_del(t);
			if (ntids > 0)
				ptrace(PTRACE_POKETEXT, tids[0], (void *)bp_addr, (void *)trap_word);
			return -1;
		}
		if (!WIFSTOPPED(st) || (st >> 16) != 0)
			continue;
		if (WSTOPSIG(st) == SIGTRAP)
			break;                  /* the step is done */
		if (WSTOPSIG(st) != SIGSTOP)
			deliver = WSTOPSIG(st); /* e.g. SIGURG: after the step */
	}
	poke(t, trap_word);
	return deliver;
}

/* One hit of the breakpoint by thread t, stopped with rip == bp_addr + 1. */
static void on_hit(pid_t t, struct user_regs_struct *r)
{
	int deliver = 0;
	hits++;
	switch (mode) {
	case MODE_EMULATE:
		*reg_slot(r, insn.dst) = *reg_slot(r, insn.src) + (unsigned long long)insn.disp;
		r->rip = bp_addr + (unsigned)insn.len;
		if (ptrace(PTRACE_SETREGS, t, 0, r) < 0)
			die("PTRACE_SETREGS");
		break;
	case MODE_STEP:
		deliver = step_over(t, r);
		break;
	case MODE_STOPALL:
		stop_others(t);
		deliver = step_over(t, r);
		resume_others(t);
		break;
	}
	if (deliver < 0)
		return;
	if (deliver)
		signals_passed++;
	if (ptrace(PTRACE_CONT, t, 0, (void *)(long)deliver) < 0 && errno != ESRCH)
		die("PTRACE_CONT");
}

int main(int argc, char **argv)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-m") && i + 1 < argc) {
			const char *m = argv[++i];
			if (!strcmp(m, "emulate")) mode = MODE_EMULATE;
			else if (!strcmp(m, "stopall")) mode = MODE_STOPALL;
			else if (!strcmp(m, "step")) mode = MODE_STEP;
			else { fprintf(stderr, "ptrace_floor: unknown mode %s\n", m); return 2; }
		} else {
			break;
		}
	}
	if (i + 2 >= argc || strcmp(argv[i + 1], "--")) {
		fprintf(stderr, "usage: ptrace_floor [-m emulate|stopall|step] ADDR -- PROG [ARGS...]\n");
		return 2;
	}
	char *end;
	bp_addr = strtoul(argv[i], &end, 16);
	if (*end || !bp_addr) {
		fprintf(stderr, "ptrace_floor: bad address %s\n", argv[i]);
		return 2;
	}
	char **prog = &argv[i + 2];

	leader = fork();
	if (leader < 0)
		die("fork");
	if (leader == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
			die("PTRACE_TRACEME");
		execvp(prog[0], prog);
		die(prog[0]);
	}
	int st;
	if (waitpid(leader, &st, __WALL) < 0)
		die("waitpid(exec)");
	if (!WIFSTOPPED(st)) {
		fprintf(stderr, "ptrace_floor: %s did not start\n", prog[0]);
		return 125;
	}
	if (ptrace(PTRACE_SETOPTIONS, leader, 0,
	           (void *)(long)(PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL)) < 0)
		die("PTRACE_SETOPTIONS");
	thread_add(leader);

	errno = 0;
	orig_word = ptrace(PTRACE_PEEKTEXT, leader, (void *)bp_addr, 0);
	if (errno)
		die("PTRACE_PEEKTEXT");
	trap_word = (orig_word & ~0xffL) | 0xcc;
	if (mode == MODE_EMULATE) {
		unsigned char b[8];
		memcpy(b, &orig_word, sizeof b);
		if (!decode(b)) {
			fprintf(stderr, "ptrace_floor: cannot emulate the instruction at %#lx "
			        "(%02x %02x %02x %02x ...): use -m stopall\n",
			        (unsigned long)bp_addr, b[0], b[1], b[2], b[3]);
			kill(leader, SIGKILL);
			return 125;
		}
	}
	poke(leader, trap_word);
	if (ptrace(PTRACE_CONT, leader, 0, 0) < 0)
		die("PTRACE_CONT");

	int exit_status = 0;
	for (;;) {
		pid_t t;
		if (nheld > 0) {
			nheld--;
			t = held[nheld].tid;
			st = held[nheld].status;
		} else if ((t = waitpid(-1, &st, __WALL)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				break;
			die("waitpid");
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (t == leader)
				exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			thread_del(t);
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st), event = st >> 16;
		if (event == PTRACE_EVENT_CLONE) {
			unsigned long nt;
			if (ptrace(PTRACE_GETEVENTMSG, t, 0, &nt) == 0)
				thread_add((pid_t)nt);
			sig = 0;
		} else if (event) {
			sig = 0;
		} else if (sig == SIGSTOP) {    /* a new thread's first stop, or ours */
			thread_add(t);
			sig = 0;
		} else if (sig == SIGTRAP) {
			struct user_regs_struct r;
			if (ptrace(PTRACE_GETREGS, t, 0, &r) < 0) {
				if (errno == ESRCH)
					continue;
				die("PTRACE_GETREGS");
			}
			if (r.rip == bp_addr + 1) {
				on_hit(t, &r);
				continue;
			}
		}
		if (sig)
			signals_passed++;
		if (ptrace(PTRACE_CONT, t, 0, (void *)(long)sig) < 0 && errno != ESRCH)
			die("PTRACE_CONT");
	}
	fprintf(stderr, "ptrace_floor: mode=%s hits=%ld threads=%ld signals=%ld exit=%d\n",
	        mode_names[mode], hits, threads_seen, signals_passed, exit_status);
	return exit_status;
}
