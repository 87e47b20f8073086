/* stub_pt_dstep.c — stepping over breakpoints without stopping the world
 * (stub/pt_dstep.c: emulation and displaced stepping; issue 6).
 *
 * White-box: the test sets the backend's step mode itself (struct tgt,
 * pt_int.h) and reads its counters.
 * - Instruction classes: tests/targets/c/pt_dstep.c "sites" has one
 *   breakpoint per class (push, mov reg/imm, sub/add rsp, lea, rip-relative
 *   load/store/cmp/SSE, imul, jcc taken/not, jmp, call rel/reg/mem, ret, pop,
 *   syscall, leave).  At each hit the thread is single-stepped over it; the
 *   registers and the top of the stack afterwards must equal those of the
 *   stop-all method (the original byte back in, a real hardware single-step),
 *   in "auto" (emulate + displace) and "displace" (no emulation) mode, and
 *   the program's own checks pass.
 * - Exact counts, threads: "hot 4 N" with breakpoints on a displaced
 *   (rip-relative `lock incq`) and an emulated (`push %rbp`) first
 *   instruction, resuming only the thread that hit: every call is reported,
 *   and the backend never stopped the other threads (no hold but the one
 *   that maps the scratch page, no stop-all step-over).
 * - Jumps (jump pads proper): a TGT_BP_TRACE breakpoint on the `call rel32`
 *   of "padhot 4 12500": 50000 exact hits, rip the breakpoint's at each,
 *   all but the first few resumed with no register write (stats.flushes);
 *   with SIGALRM at 10 kHz, 200 stop-alls, a signal for a thread at pad + 0,
 *   a client Z0 at the same address (back to an int3), fork children
 *   running the same code, detach (5 original bytes back), and
 *   GOTAP_PT_JUMPPAD=0 (t->jumppad) for comparison.
 * - Go: pt_gohot (3200 main.hot calls, SIGURG passed), one-thread resume:
 *   exact, in every mode.  The wall time per hit of each mode is printed
 *   (figures in /tmp/gotap-notes/dstep.md).
 */
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

#include "../lib/check.h"
#include "stub_pt_util.h"
#include "pt_int.h"

static const struct tgt_ops *ops = &pt_ops;

static const char *const mode_name[] = { "auto", "displace", "stopall" };

static const char *const sites[] = {
	"ds_s_push", "ds_s_movrr", "ds_s_sub", "ds_s_movri", "ds_s_movri32", "ds_s_lea", "ds_s_lea32",
	"ds_s_learip", "ds_s_load", "ds_s_load9", "ds_s_addrip", "ds_s_cmprip", "ds_s_store", "ds_s_sse",
	"ds_s_imul", "ds_s_addrsp", "ds_s_jz_not", "ds_s_jz_taken", "ds_s_jmp", "ds_s_call", "ds_s_ret",
	"ds_s_callr", "ds_s_callm", "ds_s_jmpr", "ds_s_pop", "ds_s_syscall", "ds_s_leave",
};
#define NSITES ((int)(sizeof sites / sizeof sites[0]))

struct rec {
	int hits;                          /* ds_s_ret is hit three times: the last one is kept */
	struct user_regs_struct after;
	uint64_t stack[2];                 /* [rsp], [rsp+8] after the step */
	struct user_fpregs_struct fp;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct tgt *launch(const char *prog, char *const *args, enum pt_step_mode m, pid_t *pid)
{
	struct tgt *t = ops->create();
	if (!t) return NULL;
	t->step_mode = m;
	char *argv[8] = { (char *)prog };
	for (int i = 0; args[i] && i < 6; i++) argv[i + 1] = args[i];
	/* The same environment every time: the stacks of the runs compared
	 * must be at the same addresses. */
	static char *envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };
	struct tgt_launch_opts o = { .argv = argv, .envp = envp, .disable_aslr = true };
	fflush(stdout);
	int save = dup(1), nul = open("/dev/null", O_WRONLY);
	if (save < 0 || nul < 0 || dup2(nul, 1) < 0) return NULL;
	int r = ops->launch(t, &o, pid);
	dup2(save, 1);
	close(save);
	close(nul);
	if (r < 0) {
		ops->destroy(t);
		return NULL;
	}
	return t;
}

/* Run "sites" in mode m, stepping over every breakpoint with a STEP resume.
 * Returns the exit status (-1 on trouble). */
static int run_sites(const char *prog, enum pt_step_mode m, struct rec *rec, unsigned long *stats)
{
	pid_t pid;
	char name[160];
	struct tgt *t = launch(prog, (char *[]){ "sites", NULL }, m, &pid);
	snprintf(name, sizeof name, "sites %s: launch", mode_name[m]);
	CHECK(name, t != NULL);
	if (!t) return -1;
	uint64_t addr[NSITES];
	bool ins = true;
	for (int i = 0; i < NSITES; i++) {
		addr[i] = ptu_sym(pid, prog, sites[i]);
		ins &= addr[i] && ops->insert_bp(t, TGT_BP_SW, addr[i], 1) == 0;
	}
	snprintf(name, sizeof name, "sites %s: %d breakpoints", mode_name[m], NSITES);
	CHECK(name, ins);
	bool pass[65] = { false };
	pass[SIGURG] = true;
	ops->set_pass_signals(t, pass);
	struct tgt_event ev = { 0 };
	int bad = 0, status = -1;
	int r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	while (r == 0 && ptu_wait(ops, t, &ev, 20000) == 1) {
		if (ev.kind == TGT_EV_EXITED) {
			status = ev.status;
			break;
		}
		if (ev.kind != TGT_EV_STOPPED || ev.reason != TGT_REASON_SWBREAK) {
			printf("# %s: unexpected event %d reason %d sig %d\n", mode_name[m], ev.kind, ev.reason, ev.sig);
			bad++;
			break;
		}
		int k = 0;
		while (k < NSITES && addr[k] != ev.addr) k++;
		if (k == NSITES) { bad++; break; }
		pid_t tid = ev.tid;
		/* The backend's view (a hit's pc rewind stays in its register
		 * cache until the thread runs: raw PTRACE_GETREGS sees bp+1). */
		uint8_t before[560];
		ops->read_regs(t, tid, before);
		/* A signal arrives while the thread steps over: a passed one
		 * (SIGURG) waits until the instruction has run; a reported one
		 * (SIGWINCH) is reported with the thread back at the breakpoint,
		 * registers untouched, and delivered after the step. */
		bool urg = strcmp(sites[k], "ds_s_load") == 0 || strcmp(sites[k], "ds_s_callm") == 0;
		bool winch = strcmp(sites[k], "ds_s_store") == 0 || strcmp(sites[k], "ds_s_imul") == 0;
		if (urg || winch) syscall(SYS_tgkill, pid, tid, urg ? SIGURG : SIGWINCH);
		r = ops->resume(t, tid, TGT_RESUME_STEP, 0);
		if (winch) {
			uint8_t at[560];
			r = r ? r : ptu_wait(ops, t, &ev, 20000) != 1;
			ops->read_regs(t, tid, at);
			snprintf(name, sizeof name, "sites %s: %s: SIGWINCH reported at the breakpoint, registers as before",
				 mode_name[m], sites[k]);
			CHECK(name, r == 0 && ev.kind == TGT_EV_STOPPED && ev.reason == TGT_REASON_SIGNAL &&
			      ev.sig == SIGWINCH && memcmp(at, before, sizeof at) == 0);
			r = ops->resume(t, tid, TGT_RESUME_STEP, SIGWINCH);
		}
		if (r || ptu_wait(ops, t, &ev, 20000) != 1 || ev.kind != TGT_EV_STOPPED ||
		    ev.reason != TGT_REASON_STEP || ev.tid != tid) {
			printf("# %s: %s: no step event (%d %d)\n", mode_name[m], sites[k], ev.kind, ev.reason);
			bad++;
			break;
		}
		struct rec *x = &rec[k];
		x->hits++;
		ptrace(PTRACE_GETREGS, tid, 0L, &x->after);
		ptrace(PTRACE_GETFPREGS, tid, 0L, &x->fp);
		ops->read_mem(t, x->after.rsp, (uint8_t *)x->stack, sizeof x->stack);
		r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	}
	stats[0] = t->stats.emulated;
	stats[1] = t->stats.displaced;
	stats[2] = t->stats.stopall;
	stats[3] = t->stats.holds;
	ops->destroy(t);
	return bad ? -1 : status;
}

#define NREG (sizeof(struct user_regs_struct) / sizeof(unsigned long long))

static struct rec g_ref[NSITES];   /* the stop-all method's results (test_sites) */
static const char *const regname[NREG] = {
	"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx",
	"rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base",
	"ds", "es", "fs", "gs",
};

/* Does got (site k) equal the stop-all method's registers and stack? */
static bool same_as_ref(const char *what, int k, const struct rec *got)
{
	const struct rec *ref = &g_ref[k];
	const unsigned long long *a = (const unsigned long long *)&ref->after;
	const unsigned long long *b = (const unsigned long long *)&got->after;
	bool same = ref->hits == got->hits && ref->hits > 0;
	for (size_t i = 0; i < NREG; i++) {
		/* eflags: TF, RF; r11 holds the rflags the syscall before
		 * ds_s_leave saved: TF if the reference stepped it, not if a
		 * pad run let it run */
		unsigned long long mask = i == 18 || i == 6 ? ~0x10100ull : ~0ull;
		if (i == 10 && strcmp(sites[k], "ds_s_syscall") == 0) mask = 0;  /* getpid */
		if ((a[i] & mask) != (b[i] & mask)) {
			printf("# %s %s: %s %#llx, stop-all gives %#llx\n", what, sites[k], regname[i], b[i], a[i]);
			same = false;
		}
	}
	if (memcmp(ref->stack, got->stack, sizeof ref->stack) != 0) {
		printf("# %s %s: stack top %#lx %#lx, stop-all gives %#lx %#lx\n", what, sites[k], got->stack[0],
		       got->stack[1], ref->stack[0], ref->stack[1]);
		same = false;
	}
	if (memcmp(ref->fp.xmm_space, got->fp.xmm_space, 16) != 0) {
		printf("# %s %s: xmm0 differs\n", what, sites[k]);
		same = false;
	}
	return same;
}

static void test_sites(const char *prog)
{
	struct rec *ref = g_ref, got[NSITES];
	unsigned long st[4];
	memset(g_ref, 0, sizeof g_ref);
	int s = run_sites(prog, PT_STEP_STOPALL, ref, st);
	CHECK("sites stopall (reference): program checks pass, exit 0", s == 0);
	CHECK("sites stopall: every step-over by stop-all", st[0] == 0 && st[1] == 0 && st[2] >= (unsigned long)NSITES);
	for (enum pt_step_mode m = PT_STEP_AUTO; m <= PT_STEP_DISPLACE; m++) {
		char name[160];
		memset(got, 0, sizeof got);
		s = run_sites(prog, m, got, st);
		snprintf(name, sizeof name, "sites %s: program checks pass, exit 0", mode_name[m]);
		CHECK(name, s == 0);
		printf("# %s: emulated %lu displaced %lu stopall %lu holds %lu\n", mode_name[m], st[0], st[1],
		       st[2], st[3]);
		int mism = 0;
		for (int k = 0; k < NSITES; k++) mism += !same_as_ref(mode_name[m], k, &got[k]);
		snprintf(name, sizeof name, "sites %s: registers and stack after each of %d step-overs as native",
			 mode_name[m], NSITES);
		CHECK(name, mism == 0);
		/* Only the syscall takes the stop-all path; the scratch page is
		 * mapped once (the only hold). */
		snprintf(name, sizeof name, "sites %s: one stop-all (the syscall), one hold", mode_name[m]);
		CHECK(name, st[2] == 1 && st[3] == 2);
		if (m == PT_STEP_AUTO) {
			CHECK("sites auto: both emulated and displaced instructions", st[0] >= 15 && st[1] >= 8);
		} else {
			/* relative branches and the rip-relative lea are always emulated */
			CHECK("sites displace: only relative branches and lea rip emulated", st[0] == 5);
		}
	}
}

/* A breakpoint on an instruction that faults: the step over it reports
 * SIGSEGV at the breakpoint's address; delivered, the program's handler sees
 * that address as the interrupted rip (never the scratch copy's). */
static void test_fault(const char *prog, enum pt_step_mode m)
{
	char name[160];
	pid_t pid;
	struct tgt *t = launch(prog, (char *[]){ "fault", NULL }, m, &pid);
	snprintf(name, sizeof name, "fault %s: launch", mode_name[m]);
	CHECK(name, t != NULL);
	if (!t) return;
	uint64_t a = ptu_sym(pid, prog, "ds_s_fault");
	struct tgt_event ev = { 0 };
	int r = a && ops->insert_bp(t, TGT_BP_SW, a, 1) == 0 ? 0 : -1;
	r = r ? r : ops->resume(t, -1, TGT_RESUME_CONT, 0);
	r = r ? r : ptu_wait(ops, t, &ev, 20000) != 1;
	snprintf(name, sizeof name, "fault %s: hit", mode_name[m]);
	CHECK(name, r == 0 && ev.reason == TGT_REASON_SWBREAK && ev.addr == a);
	r = r ? r : ops->resume(t, -1, TGT_RESUME_CONT, 0);
	r = r ? r : ptu_wait(ops, t, &ev, 20000) != 1;
	struct user_regs_struct g = { 0 };
	ptrace(PTRACE_GETREGS, ev.tid, 0L, &g);
	snprintf(name, sizeof name, "fault %s: SIGSEGV reported at the breakpoint", mode_name[m]);
	CHECK(name, r == 0 && ev.kind == TGT_EV_STOPPED && ev.reason == TGT_REASON_SIGNAL && ev.sig == SIGSEGV &&
	      g.rip == a);
	r = r ? r : ops->resume(t, ev.tid, TGT_RESUME_CONT, SIGSEGV);
	while (r == 0 && ptu_wait(ops, t, &ev, 20000) == 1 && ev.kind == TGT_EV_STOPPED) {
		printf("# fault: stop reason %d sig %d\n", ev.reason, ev.sig);
		r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	}
	snprintf(name, sizeof name, "fault %s: handler saw rip = the breakpoint, exit 0", mode_name[m]);
	CHECK(name, ev.kind == TGT_EV_EXITED && ev.status == 0);
	ops->destroy(t);
}

/* One-thread resume loop (the hitting thread only) over breakpoints at
 * bp[0..nbp); SIGURG passed.  Returns hits; *ev is the last event. */
static int hit_loop(struct tgt *t, const uint64_t *bp, int nbp, struct tgt_event *ev, int *other)
{
	int hits = 0;
	bool pass[65] = { false };
	pass[SIGURG] = true;
	ops->set_pass_signals(t, pass);
	*other = 0;
	int r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	while (r == 0 && ptu_wait(ops, t, ev, 30000) == 1) {
		if (ev->kind != TGT_EV_STOPPED) break;
		bool mine = false;
		for (int i = 0; i < nbp; i++) mine |= ev->reason == TGT_REASON_SWBREAK && ev->addr == bp[i];
		if (mine) hits++;
		else {
			(*other)++;
			printf("# stop: reason %d sig %d\n", ev->reason, ev->sig);
		}
		r = ops->resume(t, ev->tid, TGT_RESUME_CONT, 0);
	}
	return hits;
}

static void test_hot_threads(const char *prog, enum pt_step_mode m)
{
	char name[160];
	pid_t pid;
	const int T = 4, N = 500;
	struct tgt *t = launch(prog, (char *[]){ "hot", "4", "500", NULL }, m, &pid);
	snprintf(name, sizeof name, "hot threads %s: launch", mode_name[m]);
	CHECK(name, t != NULL);
	if (!t) return;
	uint64_t bp[2] = { ptu_sym(pid, prog, "ds_hot_rip"), ptu_sym(pid, prog, "ds_hot_c") };
	CHECK("hot threads: breakpoints", bp[0] && bp[1] && ops->insert_bp(t, TGT_BP_SW, bp[0], 1) == 0 &&
	      ops->insert_bp(t, TGT_BP_SW, bp[1], 1) == 0);
	struct tgt_event ev = { 0 };
	int other;
	double t0 = now_s();
	int hits = hit_loop(t, bp, 2, &ev, &other);
	double dt = now_s() - t0;
	snprintf(name, sizeof name, "hot threads %s: %d hits, program counted the same, exit 0", mode_name[m],
		 2 * T * N);
	CHECK(name, hits == 2 * T * N && other == 0 && ev.kind == TGT_EV_EXITED && ev.status == 0);
	if (hits != 2 * T * N) printf("# hits %d other %d\n", hits, other);
	printf("# hot threads %s: %d hits in %.3f s = %.1f us/hit (padded %lu emulated %lu displaced %lu stopall %lu holds %lu)\n",
	       mode_name[m], hits, dt, dt * 1e6 / (hits ? hits : 1), t->stats.padded, t->stats.emulated, t->stats.displaced,
	       t->stats.stopall, t->stats.holds);
	if (m != PT_STEP_STOPALL) {
		snprintf(name, sizeof name, "hot threads %s: the other threads never stopped (1 hold: scratch page)",
			 mode_name[m]);
		CHECK(name, t->stats.stopall == 0 && t->stats.holds == 1);
	}
	ops->destroy(t);
}

/* Jump pads (stub/pt_dstep.c): in "auto" mode a thread resumed with continue
 * from a breakpoint on a `call rel32` or a plain position-independent
 * instruction runs a relocated copy from a pad in the scratch page.  Nobody
 * can single-step it there, so the state after it is observed at a second
 * breakpoint on the next instruction (the call's target: [rsp] must be the
 * ORIGINAL return address) and compared with the stop-all method's. */
static void test_pad_sites(const char *prog)
{
	static const char *const pads[] = { "ds_s_push", "ds_s_imul", "ds_s_call", "ds_s_pop", "ds_s_leave" };
	enum { NP = sizeof pads / sizeof pads[0] };
	char name[160];
	pid_t pid;
	struct tgt *t = launch(prog, (char *[]){ "sites", NULL }, PT_STEP_AUTO, &pid);
	CHECK("pad sites: launch", t != NULL);
	if (!t) return;
	int k[NP];
	uint64_t at[NP], after[NP];
	bool ok = true;
	for (int i = 0; i < NP; i++) {
		k[i] = 0;
		while (k[i] < NSITES && strcmp(sites[k[i]], pads[i]) != 0) k[i]++;
		at[i] = ptu_sym(pid, prog, pads[i]);
		ok &= k[i] < NSITES && at[i] && ops->insert_bp(t, TGT_BP_SW, at[i], 1) == 0;
		struct pt_bp *bp = ok ? pt_bp_find(t, at[i]) : NULL;
		ok &= bp && bp->insn.pad_ok;
		if (!ok) break;
		after[i] = at[i] + bp->insn.len + (bp->insn.kind == PT_INSN_CALL ? (uint64_t)bp->insn.imm : 0);
	}
	for (int i = 0; ok && i < NP; i++) ok &= ops->insert_bp(t, TGT_BP_SW, after[i], 1) == 0;
	CHECK("pad sites: push, imul, call, pop, leave can run from a pad; breakpoints after each", ok);
	struct rec got[NP];
	memset(got, 0, sizeof got);
	struct tgt_event ev = { 0 };
	int cur = -1, status = -1, r = ok ? ops->resume(t, -1, TGT_RESUME_CONT, 0) : -1;
	while (r == 0 && ptu_wait(ops, t, &ev, 20000) == 1) {
		if (ev.kind == TGT_EV_EXITED) {
			status = ev.status;
			break;
		}
		if (ev.kind != TGT_EV_STOPPED || ev.reason != TGT_REASON_SWBREAK) break;
		if (cur >= 0 && ev.addr == after[cur]) {
			struct rec *x = &got[cur];
			x->hits++;
			ptrace(PTRACE_GETREGS, ev.tid, 0L, &x->after);
			x->after.rip = ev.addr;   /* the hit's rewind is in the backend's cache only */
			ptrace(PTRACE_GETFPREGS, ev.tid, 0L, &x->fp);
			ops->read_mem(t, x->after.rsp, (uint8_t *)x->stack, sizeof x->stack);
			cur = -1;
		}
		for (int i = 0; i < NP; i++)
			if (ev.addr == at[i]) cur = i;
		r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	}
	CHECK("pad sites: program checks pass, exit 0", status == 0);
	int mism = 0;
	for (int i = 0; i < NP; i++) mism += !same_as_ref("pad", k[i], &got[i]);
	snprintf(name, sizeof name, "pad sites: registers and stack after each of %d pads as native", NP);
	CHECK(name, mism == 0);
	printf("# pad sites: padded %lu emulated %lu displaced %lu stopall %lu\n", t->stats.padded,
	       t->stats.emulated, t->stats.displaced, t->stats.stopall);
	CHECK("pad sites: each of them stepped over through its pad", t->stats.padded == NP);
	ops->destroy(t);
}

/* Is any thread's pc, as the backend reports it, inside the scratch page? */
static int pcs_in_scratch(struct tgt *t)
{
	struct tgt_thread_info ti[16];
	int n = ops->list_threads(t, ti, 16), bad = 0;
	for (int i = 0; i < n && i < 16; i++) {
		uint64_t pc = 0;
		if (ops->read_reg(t, ti[i].tid, 16, (uint8_t *)&pc) < 0) continue;   /* exiting */
		if (t->scratch && pc >= t->scratch && pc < t->scratch + 4096) {
			printf("# thread %d at %#lx: in the scratch page\n", (int)ti[i].tid, (unsigned long)pc);
			bad++;
		}
	}
	return bad;
}

/* Stop every thread, count those whose pc is in the scratch page, resume
 * them all. */
static int stop_all_round(struct tgt *t, int *inpad)
{
	int r = ops->stop_all(t);
	*inpad += pcs_in_scratch(t);
	return r ? r : ops->resume(t, -1, TGT_RESUME_CONT, 0);
}

/* "padhot 4 N F": a breakpoint on ds_s_padcall (`call rel32`), only the
 * hitting thread resumed, with continue.  Every call is reported once, the
 * program's result and return addresses are right, and in "auto" mode each
 * hit went through the pad: the other threads never stopped (one hold: the
 * scratch page).  F 's': a SIGALRM every 100 us, passed; its handler must
 * never see a pad address.  rounds > 0: every 20 hits the hitting thread is
 * resumed and at once every thread stopped (an all-stop report), and no
 * thread's pc may be in the scratch page, rounds times. */
static void test_pad_hot(const char *prog, enum pt_step_mode m, const char *flags, int rounds)
{
	char name[200], what[64];
	pid_t pid;
	const int T = 4;
	const long N = 12500;
	snprintf(what, sizeof what, "pad hot %s%s%s", mode_name[m], strchr(flags, 's') ? " +SIGALRM" : "",
		 rounds ? " +stop-all" : "");
	struct tgt *t = launch(prog, (char *[]){ "padhot", "4", "12500", (char *)flags, NULL }, m, &pid);
	snprintf(name, sizeof name, "%s: launch", what);
	CHECK(name, t != NULL);
	if (!t) return;
	uint64_t bp = ptu_sym(pid, prog, "ds_s_padcall");
	snprintf(name, sizeof name, "%s: breakpoint on the call", what);
	CHECK(name, bp && ops->insert_bp(t, TGT_BP_SW, bp, 1) == 0);
	bool pass[65] = { false };
	pass[SIGALRM] = true;
	ops->set_pass_signals(t, pass);
	struct tgt_event ev = { 0 };
	long hits = 0, other = 0;
	int done_rounds = 0, inpad = 0;
	double t0 = now_s();
	int r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	while (r == 0 && ptu_wait(ops, t, &ev, 30000) == 1) {
		if (ev.kind != TGT_EV_STOPPED) break;
		if (ev.reason == TGT_REASON_SWBREAK && ev.addr == bp) hits++;
		else if (ev.reason != TGT_REASON_INTERRUPT && other++ < 5)
			printf("# stop: reason %d sig %d\n", ev.reason, ev.sig);
		r = ops->resume(t, ev.tid, TGT_RESUME_CONT, 0);
		if (r == 0 && done_rounds < rounds && hits % 20 == 0) {
			/* ev.tid was just sent into its pad: stop it (and all) now */
			done_rounds++;
			r = stop_all_round(t, &inpad);
		}
	}
	double dt = now_s() - t0;
	snprintf(name, sizeof name, "%s: %ld hits, program's count and return addresses right%s, exit 0", what,
		 T * N, strchr(flags, 's') ? ", no handler saw a pad" : "");
	CHECK(name, hits == T * N && other == 0 && ev.kind == TGT_EV_EXITED && ev.status == 0);
	if (hits != T * N || ev.kind != TGT_EV_EXITED || ev.status != 0)
		printf("# hits %ld other %ld last event %d status %d\n", hits, other, ev.kind, ev.status);
	printf("# %s: %ld hits in %.3f s = %.1f us/hit (padded %lu emulated %lu displaced %lu stopall %lu holds %lu; "
	       "pad exits %lu pad faults %lu)\n", what, hits, dt, dt * 1e6 / (hits ? (double)hits : 1),
	       t->stats.padded, t->stats.emulated, t->stats.displaced, t->stats.stopall, t->stats.holds,
	       t->stats.pad_left, t->stats.pad_faults);
	if (m == PT_STEP_AUTO) {
		snprintf(name, sizeof name, "%s: every hit through the pad, no stop-all, one hold (scratch page)",
			 what);
		CHECK(name, t->stats.padded + t->stats.emulated == (unsigned long)hits && t->stats.emulated <= 4 &&
		      t->stats.stopall == 0 && t->stats.holds == 1);
	}
	if (strchr(flags, 's') && m == PT_STEP_AUTO) {
		snprintf(name, sizeof name, "%s: threads stopped in a pad were moved out of it", what);
		CHECK(name, t->stats.pad_left > 0);
	}
	if (rounds) {
		snprintf(name, sizeof name, "%s: %d stop-alls, no thread's pc in the scratch page (%lu moved out)",
			 what, rounds, t->stats.pad_left);
		CHECK(name, done_rounds == rounds && inpad == 0 && t->stats.pad_left > 0);
	}
	ops->destroy(t);
}

/* Detach while 4 threads run through the pad (jump false: an int3, the
 * thread's rip set to the pad) or through a jump to it (a tracepoint's
 * breakpoint): the program goes on to its normal end with the right
 * result, and the original bytes are back. */
static void test_detach_through(const char *prog, bool jump)
{
	const char *what = jump ? "jump detach" : "pad detach";
	char name[160];
	pid_t pid;
	struct tgt *t = launch(prog, (char *[]){ "padhot", "4", "200000", "w", NULL }, PT_STEP_AUTO, &pid);
	snprintf(name, sizeof name, "%s: launch", what);
	CHECK(name, t != NULL);
	if (!t) return;
	uint64_t bp = ptu_sym(pid, prog, "ds_s_padcall");
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t orig[8] = { 0 }, now[8] = { 0 }, mid[8] = { 0 };
	bool ok = fd >= 0 && pread(fd, orig, sizeof orig, (off_t)bp) == (ssize_t)sizeof orig;
	snprintf(name, sizeof name, "%s: breakpoint on the call", what);
	CHECK(name, ok && bp && ops->insert_bp(t, jump ? TGT_BP_TRACE : TGT_BP_SW, bp, 1) == 0);
	struct tgt_event ev = { 0 };
	long hits = 0;
	int r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	while (r == 0 && hits < 3000 && ptu_wait(ops, t, &ev, 30000) == 1 && ev.kind == TGT_EV_STOPPED) {
		hits += ev.reason == TGT_REASON_SWBREAK;
		if (hits < 3000) r = ops->resume(t, ev.tid, TGT_RESUME_CONT, 0);
	}
	/* in memory meanwhile: the jump, or the int3 */
	ok = fd >= 0 && pread(fd, mid, sizeof mid, (off_t)bp) == (ssize_t)sizeof mid && mid[0] == (jump ? 0xe9 : 0xcc);
	unsigned long through = jump ? t->stats.jumppad : t->stats.padded;
	r = r ? r : ops->detach(t, 0);
	snprintf(name, sizeof name, "%s: 3000 hits through the %s, detached", what, jump ? "jump" : "pad");
	CHECK(name, r == 0 && hits == 3000 && through >= 2990 && ok);
	/* The program waits for SIGUSR2 before it exits: its memory is there. */
	ok = fd >= 0 && pread(fd, now, sizeof now, (off_t)bp) == (ssize_t)sizeof now;
	snprintf(name, sizeof name, "%s: the original bytes are back", what);
	CHECK(name, ok && memcmp(orig, now, sizeof now) == 0 && now[0] != 0xcc);
	if (fd >= 0) close(fd);
	int st = -1;
	pid_t w = kill(pid, SIGUSR2) == 0 ? waitpid(pid, &st, 0) : -1;
	snprintf(name, sizeof name, "%s: the program ends normally with the right result", what);
	CHECK(name, w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (w == pid && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) printf("# status %#x\n", st);
	ops->destroy(t);
}

/* Jump pads proper: a TGT_BP_TRACE breakpoint (a tracepoint's: its hits
 * are never reported to a client) on a `call rel32` gets, at its first
 * hit, a `jmp rel32` to a pad that starts with an int3 in place of the
 * int3.  A hit then traps at pad + 1, is reported at the breakpoint's
 * address (registers too) and is resumed with no register write.
 * "padhot 4 12500 F" again, only the hitting thread resumed.  F 's':
 * SIGALRM at 10 kHz, passed (the handler never sees a pad, counts exact);
 * 'f': every thread forks children that run the same code untraced (the
 * jump must not be in their memory: its int3 would kill them).
 * rounds: as test_pad_hot.  client: after 1000 hits a client Z0 at the
 * same address turns the jump back into an int3; hits go on, ordinary. */
static void test_jump_hot(const char *prog, const char *flags, int rounds, bool client, bool jumppad)
{
	char name[240], what[96];
	pid_t pid;
	const int T = 4;
	const long N = 12500;
	snprintf(what, sizeof what, "jump %s%s%s%s%s", jumppad ? "" : "(GOTAP_PT_JUMPPAD=0) ",
		 strchr(flags, 'z') ? "hot +signal at pad+0" : "hot",
		 strchr(flags, 's') ? " +SIGALRM" : "", strchr(flags, 'f') ? " +fork" : "",
		 rounds ? " +stop-all" : client ? " +client Z0" : "");
	struct tgt *t = launch(prog, (char *[]){ "padhot", "4", "12500", (char *)flags, NULL }, PT_STEP_AUTO, &pid);
	snprintf(name, sizeof name, "%s: launch", what);
	CHECK(name, t != NULL);
	if (!t) return;
	t->jumppad = jumppad;
	uint64_t bp = ptu_sym(pid, prog, "ds_s_padcall");
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t orig[8] = { 0 };
	bool ok = fd >= 0 && pread(fd, orig, sizeof orig, (off_t)bp) == (ssize_t)sizeof orig;
	snprintf(name, sizeof name, "%s: tracepoint breakpoint on the call", what);
	CHECK(name, ok && bp && ops->insert_bp(t, TGT_BP_TRACE, bp, 1) == 0);
	bool pass[65] = { false };
	pass[SIGALRM] = true;
	pass[SIGCHLD] = true;   /* the fork children's */
	ops->set_pass_signals(t, pass);
	struct tgt_event ev = { 0 };
	long hits = 0, other = 0, badpc = 0;
	int done_rounds = 0, inpad = 0;
	bool mem_seen = false, mem_ok = true, converted = false;
	unsigned long jp_at_conv = 0, pad_left = 0;
	int extra = 0;          /* 'z': the pad + 0 case made (2) */
	double t0 = now_s();
	int r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	while (r == 0 && ptu_wait(ops, t, &ev, 30000) == 1) {
		if (ev.kind != TGT_EV_STOPPED) break;
		if (ev.reason == TGT_REASON_SWBREAK && ev.addr == bp) {
			hits++;
			uint64_t pc = 0;
			if (ops->read_reg(t, ev.tid, 16, (uint8_t *)&pc) < 0 || pc != bp) badpc++;
		} else if (ev.reason != TGT_REASON_INTERRUPT && other++ < 5) {
			printf("# stop: reason %d sig %d\n", ev.reason, ev.sig);
		}
		if (hits == 500 && !mem_seen) {
			/* the jump is in memory; reads through the backend show the original bytes */
			uint8_t raw[8], seen[8];
			mem_seen = true;
			mem_ok = pread(fd, raw, sizeof raw, (off_t)bp) == (ssize_t)sizeof raw &&
				 ops->read_mem(t, bp - 2, seen, 8) == 8 && memcmp(seen + 2, orig, 6) == 0;
			if (jumppad) mem_ok &= raw[0] == 0xe9 && memcmp(raw + 5, orig + 5, 3) == 0;
			else mem_ok &= raw[0] == 0xcc && memcmp(raw + 1, orig + 1, 7) == 0;
		}
		if (client && hits == 1000 && !converted) {
			converted = true;
			uint8_t raw[8];
			bool in = ops->insert_bp(t, TGT_BP_SW, bp, 1) == 0;
			in &= pread(fd, raw, sizeof raw, (off_t)bp) == (ssize_t)sizeof raw && raw[0] == 0xcc &&
			      memcmp(raw + 1, orig + 1, 7) == 0;
			jp_at_conv = t->stats.jumppad;
			snprintf(name, sizeof name, "%s: a client breakpoint there turns the jump back into an int3", what);
			CHECK(name, in && t->stats.jumps == 1);
		}
		struct pt_thread *th = pt_thread_find(t, ev.tid);
		if (strchr(flags, 'z') && hits == 2000 && !extra && th && th->jp_rip) {
			/* A signal finds a thread at pad + 0 (it took the jump, not
			 * yet the int3): made so here by moving this thread back
			 * before its int3 (as if its hit had not happened yet) and
			 * queueing a SIGALRM.  It must be put back on the breakpoint's
			 * address (the handler sees that), then hit it again. */
			struct user_regs_struct g;
			extra = ptrace(PTRACE_GETREGS, ev.tid, 0L, &g) == 0 && g.rip == th->jp_rip;
			g.rip = th->jp_rip - 1;
			extra = extra && ptrace(PTRACE_SETREGS, ev.tid, 0L, &g) == 0;
			th->jp_rip = 0;
			th->regs_valid = false;
			th->at_bp = false;
			extra = extra && syscall(SYS_tgkill, pid, ev.tid, SIGALRM) == 0;
			pad_left = t->stats.pad_left;
		}
		r = ops->resume(t, ev.tid, TGT_RESUME_CONT, 0);
		if (extra == 1 && hits == 2000) {
			/* its next event: the hit again (no other thread's may come between) */
			extra = 2;
		}
		if (r == 0 && done_rounds < rounds && hits % 20 == 0) {
			done_rounds++;
			r = stop_all_round(t, &inpad);
		}
	}
	double dt = now_s() - t0;
	long want = T * N + (extra == 2);   /* 'z': that thread's hit twice */
	snprintf(name, sizeof name, "%s: %ld hits, rip at each the breakpoint, program's count and return addresses "
		 "right%s%s, exit 0", what, want, strchr(flags, 's') ? ", no handler saw a pad" : "",
		 strchr(flags, 'f') ? ", fork children right" : "");
	CHECK(name, hits == want && badpc == 0 && other == 0 && ev.kind == TGT_EV_EXITED && ev.status == 0);
	if (strchr(flags, 'z')) {
		snprintf(name, sizeof name, "%s: a signal for a thread at pad + 0: delivered at the breakpoint's address "
			 "(moved back), the hit again after it", what);
		CHECK(name, extra == 2 && t->stats.pad_left > pad_left);
	}
	if (hits != want || badpc || ev.kind != TGT_EV_EXITED || ev.status != 0)
		printf("# hits %ld bad pc %ld other %ld last event %d status %d\n", hits, badpc, other, ev.kind, ev.status);
	printf("# %s: %ld hits in %.3f s = %.1f us/hit (jumppad %lu padded %lu emulated %lu displaced %lu stopall %lu "
	       "holds %lu jumps %lu flushes %lu; pad exits %lu)\n", what, hits, dt, dt * 1e6 / (hits ? (double)hits : 1),
	       t->stats.jumppad, t->stats.padded, t->stats.emulated, t->stats.displaced, t->stats.stopall,
	       t->stats.holds, t->stats.jumps, t->stats.flushes, t->stats.pad_left);
	snprintf(name, sizeof name, "%s: memory read through the backend shows the original bytes (%s in memory)", what,
		 jumppad ? "the jump" : "the int3");
	CHECK(name, mem_seen && mem_ok);
	unsigned long thru = t->stats.jumppad + t->stats.padded + t->stats.emulated;
	if (!jumppad) {
		snprintf(name, sizeof name, "%s: no jump, every hit through a plain pad", what);
		CHECK(name, t->stats.jumps == 0 && t->stats.jumppad == 0 && thru == (unsigned long)hits);
	} else if (client) {
		snprintf(name, sizeof name, "%s: hits through the jump before, ordinary (int3 + pad) after", what);
		CHECK(name, thru == (unsigned long)hits && jp_at_conv >= 900 &&
		      t->stats.jumppad - jp_at_conv <= (unsigned long)T && t->stats.jumps == 1);
	} else {
		snprintf(name, sizeof name, "%s: every hit but the first few through the jump, resumed with no register "
			 "write", what);
		bool quiet = !strchr(flags, 's') && !rounds;   /* pad exits and rewinds write registers */
		CHECK(name, thru + (extra == 2) == (unsigned long)hits && t->stats.jumppad + 8 >= (unsigned long)hits &&
		      t->stats.stopall == 0 && (strchr(flags, 'f') || t->stats.jumps == 1) &&
		      (!quiet || t->stats.flushes <= (unsigned long)hits - t->stats.jumppad + 8));
	}
	if (rounds) {
		snprintf(name, sizeof name, "%s: %d stop-alls, no thread's pc in the scratch page (%lu moved out)",
			 what, rounds, t->stats.pad_left);
		CHECK(name, done_rounds == rounds && inpad == 0);
	}
	if (fd >= 0) close(fd);
	ops->destroy(t);
}

static void test_go(const char *prog, enum pt_step_mode m)
{
	char name[160];
	pid_t pid;
	struct tgt *t = launch(prog, (char *[]){ NULL }, m, &pid);
	snprintf(name, sizeof name, "go hot %s: launch", mode_name[m]);
	CHECK(name, t != NULL);
	if (!t) return;
	uint64_t hot = ptu_sym(pid, prog, "main.hot");
	CHECK("go hot: breakpoint on main.hot", hot && ops->insert_bp(t, TGT_BP_SW, hot, 1) == 0);
	struct tgt_event ev = { 0 };
	int other;
	double t0 = now_s();
	int hits = hit_loop(t, &hot, 1, &ev, &other);
	double dt = now_s() - t0;
	snprintf(name, sizeof name, "go hot %s: 3200 hits, SIGURG passed, exit 0", mode_name[m]);
	CHECK(name, hits == 3200 && other == 0 && ev.kind == TGT_EV_EXITED && ev.status == 0);
	if (hits != 3200) printf("# hits %d other %d\n", hits, other);
	printf("# go hot %s: %d hits in %.3f s = %.1f us/hit (padded %lu emulated %lu displaced %lu stopall %lu holds %lu)\n",
	       mode_name[m], hits, dt, dt * 1e6 / (hits ? hits : 1), t->stats.padded, t->stats.emulated, t->stats.displaced,
	       t->stats.stopall, t->stats.holds);
	if (m != PT_STEP_STOPALL) {
		snprintf(name, sizeof name, "go hot %s: no stop-all step-over", mode_name[m]);
		CHECK(name, t->stats.stopall == 0 && t->stats.holds <= 1);
	}
	ops->destroy(t);
}

int main(void)
{
	static char prog[PATH_MAX], goprog[PATH_MAX];
	const char *p = ptu_target("pt_dstep");
	if (!p || !realpath(p, prog)) {
		printf("FAIL: build pt_dstep\n");
		return 1;
	}
	test_sites(prog);
	for (enum pt_step_mode m = PT_STEP_AUTO; m <= PT_STEP_STOPALL; m++) test_fault(prog, m);
	for (enum pt_step_mode m = PT_STEP_AUTO; m <= PT_STEP_STOPALL; m++) test_hot_threads(prog, m);
	test_pad_sites(prog);
	for (enum pt_step_mode m = PT_STEP_AUTO; m <= PT_STEP_STOPALL; m++) test_pad_hot(prog, m, "-", 0);
	test_pad_hot(prog, PT_STEP_AUTO, "s", 0);
	test_pad_hot(prog, PT_STEP_AUTO, "-", 200);
	test_pad_hot(prog, PT_STEP_AUTO, "s", 200);
	test_detach_through(prog, false);
	test_jump_hot(prog, "-", 0, false, true);
	test_jump_hot(prog, "-", 0, false, false);
	test_jump_hot(prog, "s", 0, false, true);
	test_jump_hot(prog, "sz", 0, false, true);
	test_jump_hot(prog, "-", 200, false, true);
	test_jump_hot(prog, "s", 200, false, true);
	test_jump_hot(prog, "-", 0, true, true);
	test_jump_hot(prog, "f", 0, false, true);
	test_jump_hot(prog, "sf", 0, false, true);
	test_detach_through(prog, true);
	p = ptu_target("pt_gohot");
	if (p && realpath(p, goprog)) {
		for (enum pt_step_mode m = PT_STEP_AUTO; m <= PT_STEP_STOPALL; m++) test_go(goprog, m);
	} else {
		SKIP("go hot", "cannot build tests/targets/go/pt_gohot.go");
	}
	return check_done();
}
