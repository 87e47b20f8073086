/* stub_pt_basic.c — the ptrace backend (pt_ops) on one-thread programs.
 *
 * Scenarios against tests/targets/c/pt_prog.c: launch stops at the first
 * instruction; registers read and write (gdb numbering, x87/SSE included);
 * memory of a global, short reads, errors; a breakpoint hit with pc rewound
 * and reason SWBREAK; reads under a breakpoint show the original byte;
 * continuing over it N times; single-step; a hardware write watchpoint; a
 * signal reported and delivered on resume; a passed signal not reported;
 * exit codes; kill leaves no zombie.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "../lib/check.h"
#include "rsp.h"
#include "stub_pt_util.h"

static const struct tgt_ops *ops = &pt_ops;
static const char *prog;
static char outpath[] = "/tmp/gotap-pt-out.XXXXXX";

/* Launch pt_prog with args; its stdout goes to outpath. */
static struct tgt *launch(pid_t *pid, char *a1, char *a2, char *a3)
{
	char *args[] = { a1, a2, a3, NULL };
	int r;
	struct tgt *t = ptu_launch(prog, args, outpath, pid, &r);
	if (!t) printf("# launch: %s\n", strerror(-r));
	return t;
}

static bool output_is(const char *want)
{
	char buf[256] = "";
	int fd = open(outpath, O_RDONLY);
	if (fd < 0) return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) return false;
	buf[n] = 0;
	if (strcmp(buf, want) != 0) printf("# output: \"%s\" want \"%s\"\n", buf, want);
	return strcmp(buf, want) == 0;
}

static uint64_t reg64(struct tgt *t, pid_t tid, unsigned regno)
{
	uint8_t b[16] = { 0 };
	uint64_t v = 0;
	if (ops->read_reg(t, tid, regno, b) == 0) memcpy(&v, b, 8);
	return v;
}

/* Continue to the next non-bookkeeping event; 1 or a failure. */
static int cont(struct tgt *t, struct tgt_event *ev)
{
	int r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	if (r < 0) return r;
	return ptu_wait(ops, t, ev, 20000);
}

static void test_entry_regs_mem(void)
{
	pid_t pid;
	struct tgt *t = launch(&pid, "hits", "3", NULL);
	CHECK("launch", t != NULL);
	if (!t) return;
	CHECK("launch: pid", ops->pid(t) == pid && !ops->attached(t));

	struct tgt_thread_info ti[4];
	CHECK("launch: one stopped thread", ops->list_threads(t, ti, 4) == 1 && ti[0].tid == pid && ti[0].stopped);
	CHECK("launch: thread name", strcmp(ti[0].name, "pt_prog") == 0);

	/* First instruction after exec: the dynamic loader's entry = AT_BASE + its e_entry. */
	uint8_t auxv[1024];
	long na = ops->read_auxv(t, auxv, sizeof auxv);
	uint64_t at_base = 0, at_entry = 0;
	for (long i = 0; i + 16 <= na; i += 16) {
		uint64_t k, v;
		memcpy(&k, auxv + i, 8);
		memcpy(&v, auxv + i + 8, 8);
		if (k == AT_BASE) at_base = v;
		if (k == AT_ENTRY) at_entry = v;
	}
	CHECK("auxv read", na > 0 && at_base && at_entry);
	uint64_t ld_entry = ptu_elf_sym("/lib64/ld-linux-x86-64.so.2", "_start", NULL);
	uint64_t rip = reg64(t, pid, RSP_AMD64_RIP);
	Elf64_Ehdr eh;
	int lfd = open("/lib64/ld-linux-x86-64.so.2", O_RDONLY);
	bool ehok = lfd >= 0 && read(lfd, &eh, sizeof eh) == (ssize_t)sizeof eh;
	if (lfd >= 0) close(lfd);
	(void)ld_entry;
	CHECK("launch: stopped at the loader's first instruction", ehok && rip == at_base + eh.e_entry);

	char exe[256];
	CHECK("exe_path", ops->exe_path(t, exe, sizeof exe) == 0 && strcmp(exe, prog) == 0);

	/* Register block layout agrees with protocol/rsp.h. */
	size_t total = 0;
	bool layout = true;
	for (unsigned i = 0; i < RSP_AMD64_NREGS; i++) {
		uint8_t b[16];
		if (ops->read_reg(t, pid, i, b) != 0) layout = false;
		if (rsp_amd64_regs[i].offset != total) layout = false;
		total += rsp_amd64_regs[i].bits / 8;
	}
	CHECK("regs: every register readable, layout as rsp_amd64_regs", layout && total == rsp_amd64_regblock_size());
	uint8_t blk[1024], blk2[1024];
	CHECK("regs: read block", ops->read_regs(t, pid, blk) == 0);
	uint64_t v;
	memcpy(&v, blk + rsp_amd64_regs[RSP_AMD64_RIP].offset, 8);
	CHECK("regs: block rip = rip", v == rip);
	uint32_t w32;
	memcpy(&w32, blk + rsp_amd64_regs[RSP_AMD64_FCTRL].offset, 4);
	CHECK("regs: fctrl 0x37f after exec", w32 == 0x37f);
	memcpy(&w32, blk + rsp_amd64_regs[RSP_AMD64_FTAG].offset, 4);
	CHECK("regs: ftag 0xffff (all empty) after exec", w32 == 0xffff);
	memcpy(&w32, blk + rsp_amd64_regs[RSP_AMD64_MXCSR].offset, 4);
	CHECK("regs: mxcsr 0x1f80", w32 == 0x1f80);
	memcpy(&w32, blk + rsp_amd64_regs[RSP_AMD64_CS].offset, 4);
	CHECK("regs: cs 0x33", w32 == 0x33);

	uint8_t r12[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	CHECK("regs: write r12", ops->write_reg(t, pid, RSP_AMD64_R12, r12) == 0);
	CHECK("regs: r12 reads back", reg64(t, pid, RSP_AMD64_R12) == 0x8877665544332211ull);
	uint8_t x[16];
	for (int i = 0; i < 16; i++) x[i] = (uint8_t)(0xa0 + i);
	uint8_t xb[16] = { 0 };
	CHECK("regs: write xmm3", ops->write_reg(t, pid, RSP_AMD64_XMM0 + 3, x) == 0);
	CHECK("regs: xmm3 reads back", ops->read_reg(t, pid, RSP_AMD64_XMM0 + 3, xb) == 0 && memcmp(x, xb, 16) == 0);
	uint8_t one[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f };   /* 1.0L */
	uint8_t stb[10];
	uint32_t ftag = 0xfffc;   /* st0 (physical 0 with top 0) valid */
	CHECK("regs: write st0 + ftag", ops->write_reg(t, pid, RSP_AMD64_ST0, one) == 0 &&
	      ops->write_reg(t, pid, RSP_AMD64_FTAG, (uint8_t *)&ftag) == 0);
	CHECK("regs: st0 reads back", ops->read_reg(t, pid, RSP_AMD64_ST0, stb) == 0 && memcmp(stb, one, 10) == 0);
	uint8_t ft[4];
	CHECK("regs: ftag rebuilt from the value (valid)", ops->read_reg(t, pid, RSP_AMD64_FTAG, ft) == 0 &&
	      (ft[0] | ft[1] << 8) == 0xfffc);
	/* whole block write round trip */
	CHECK("regs: read block again", ops->read_regs(t, pid, blk) == 0);
	memcpy(blk + rsp_amd64_regs[RSP_AMD64_R13].offset, r12, 8);
	CHECK("regs: write block", ops->write_regs(t, pid, blk) == 0);
	CHECK("regs: block reads back", ops->read_regs(t, pid, blk2) == 0 &&
	      memcmp(blk, blk2, rsp_amd64_regblock_size()) == 0);
	uint64_t fsb = reg64(t, pid, RSP_AMD64_FS_BASE);
	CHECK("regs: fs_base 0 before the loader sets up TLS", fsb == 0);
	CHECK("regs: bad regno", ops->read_reg(t, pid, 60, xb) == -EINVAL);
	CHECK("regs: unknown thread", ops->read_reg(t, 999999, 0, xb) == -ESRCH);

	/* Memory: the initialized global, a write, an unmapped address. */
	uint64_t g = ptu_sym(pid, prog, "pt_global");
	uint32_t gv = 0;
	CHECK("mem: read global", g && ops->read_mem(t, g, (uint8_t *)&gv, 4) == 4 && gv == 0x12345678);
	uint32_t nv = 0xcafef00d;
	CHECK("mem: write global", ops->write_mem(t, g, (uint8_t *)&nv, 4) == 4);
	gv = 0;
	CHECK("mem: write reads back", ops->read_mem(t, g, (uint8_t *)&gv, 4) == 4 && gv == nv);
	uint8_t b8[8];
	CHECK("mem: unmapped address fails", ops->read_mem(t, 0x10, b8, 8) < 0);
	CHECK("mem: kernel address fails", ops->read_mem(t, 0xffffffffff600000ull - 0x1000000, b8, 8) < 0 &&
	      ops->read_mem(t, UINT64_MAX - 3, b8, 8) < 0);
	/* A read running off the end of the last mapping before a hole comes back short. */
	char mp[64], line[512];
	snprintf(mp, sizeof mp, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(mp, "r");
	unsigned long lo, hi, prev_hi = 0, edge = 0;
	while (f && fgets(line, sizeof line, f)) {
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2) continue;
		if (prev_hi && lo > prev_hi && !edge && strstr(line, "r") ) edge = prev_hi;
		prev_hi = hi;
	}
	if (f) fclose(f);
	uint8_t big[8192];
	long got = edge ? ops->read_mem(t, edge - 100, big, sizeof big) : -1;
	CHECK("mem: short read at the end of a mapping", got == 100);
	CHECK("mem: big read", ops->read_mem(t, at_base, big, sizeof big) == (long)sizeof big);
	/* Scatter read (one process_vm_readv): each range gets what read_mem
	 * gives it, also after a range that fails or comes back short. */
	{
		static uint8_t a[4], b[8], c[8192], d[8192];
		struct tgt_memv v[4] = {
			{ .addr = g, .buf = a, .len = 4 },
			{ .addr = 0x10, .buf = b, .len = 8 },
			{ .addr = edge ? edge - 100 : g, .buf = c, .len = sizeof c },
			{ .addr = at_base, .buf = d, .len = sizeof d },
		};
		CHECK("memv: call", ops->read_memv(t, v, 4) == 0);
		CHECK("memv: the global", v[0].got == 4 && memcmp(a, &nv, 4) == 0);
		CHECK("memv: unmapped fails", v[1].got <= 0);
		CHECK("memv: short at the end of a mapping", !edge || v[2].got == 100);
		CHECK("memv: big range after those", v[3].got == (long)sizeof d && memcmp(d, big, sizeof d) == 0);
	}

	/* Breakpoint: hit, pc rewound, original byte visible, N hits. */
	uint64_t hit = ptu_sym(pid, prog, "pt_hit");
	uint8_t orig = 0, shown = 0, raw = 0;
	CHECK("bp: read original byte", ops->read_mem(t, hit, &orig, 1) == 1 && orig != 0xcc);
	CHECK("bp: insert", ops->insert_bp(t, TGT_BP_SW, hit, 1) == 0);
	CHECK("bp: insert again (refcount)", ops->insert_bp(t, TGT_BP_SW, hit, 1) == 0);
	CHECK("bp: reads show the original byte", ops->read_mem(t, hit, &shown, 1) == 1 && shown == orig);
	uint8_t sv[2] = { 0, 0 };
	struct tgt_memv bv[2] = { { .addr = g, .buf = &sv[1], .len = 1 }, { .addr = hit, .buf = &sv[0], .len = 1 } };
	CHECK("bp: scatter reads show the original byte", ops->read_memv(t, bv, 2) == 0 &&
	      bv[1].got == 1 && sv[0] == orig);
	char memp[64];
	snprintf(memp, sizeof memp, "/proc/%d/mem", (int)pid);
	int mfd = open(memp, O_RDONLY);
	CHECK("bp: memory holds int3", mfd >= 0 && pread(mfd, &raw, 1, (off_t)hit) == 1 && raw == 0xcc);
	struct tgt_event ev;
	int hits = 0;
	for (;;) {
		int r = cont(t, &ev);
		if (r != 1) break;
		if (ev.kind != TGT_EV_STOPPED) break;
		if (ev.reason != TGT_REASON_SWBREAK || ev.addr != hit || ev.tid != pid) break;
		if (reg64(t, pid, RSP_AMD64_RIP) != hit) break;
		hits++;
		if (hits == 1) {
			CHECK("bp: hit reports SWBREAK at the address, SIGTRAP", ev.sig == SIGTRAP);
			CHECK("bp: pc rewound", reg64(t, pid, RSP_AMD64_RIP) == hit);
			CHECK("bp: thread listed as stopped", ops->list_threads(t, ti, 4) == 1 && ti[0].stopped);
			/* single-step from the breakpoint: one instruction, no second hit */
			CHECK("step: resume step", ops->resume(t, pid, TGT_RESUME_STEP, 0) == 0);
			int r2 = ptu_wait(ops, t, &ev, 20000);
			uint64_t pc = reg64(t, pid, RSP_AMD64_RIP);
			CHECK("step: STEP event", r2 == 1 && ev.kind == TGT_EV_STOPPED &&
			      ev.reason == TGT_REASON_STEP && ev.sig == SIGTRAP && ev.tid == pid);
			CHECK("step: pc moved one instruction", pc > hit && pc < hit + 16);
			CHECK("step: int3 still in memory", pread(mfd, &raw, 1, (off_t)hit) == 1 && raw == 0xcc);
			CHECK("step: another step", ops->resume(t, pid, TGT_RESUME_STEP, 0) == 0 &&
			      ptu_wait(ops, t, &ev, 20000) == 1 && ev.reason == TGT_REASON_STEP &&
			      reg64(t, pid, RSP_AMD64_RIP) != pc);
		}
	}
	CHECK("bp: 3 hits, then exit", hits == 3 && ev.kind == TGT_EV_EXITED && ev.status == 0 && ev.pid == pid);
	CHECK("exit: program output", output_is("hits 3\n"));
	CHECK("exit: no process left", ops->pid(t) == 0 && !ptu_proc_exists(pid));
	if (mfd >= 0) close(mfd);
	ops->destroy(t);
}

static void test_watch(void)
{
	pid_t pid;
	struct tgt *t = launch(&pid, "watch", NULL, NULL);
	CHECK("watch: launch", t != NULL);
	if (!t) return;
	uint64_t w = ptu_sym(pid, prog, "pt_watched");
	CHECK("watch: bad length", ops->insert_bp(t, TGT_WP_WRITE, w, 0) == -EINVAL);
	CHECK("watch: insert", ops->insert_bp(t, TGT_WP_WRITE, w, 4) == 0);
	struct tgt_event ev;
	int r = cont(t, &ev);
	uint32_t v = 0;
	ops->read_mem(t, w, (uint8_t *)&v, 4);
	CHECK("watch: fires with the address", r == 1 && ev.kind == TGT_EV_STOPPED &&
	      ev.reason == TGT_REASON_WATCH && ev.addr == w && ev.sig == SIGTRAP);
	CHECK("watch: after the write", v == 1);
	r = cont(t, &ev);
	ops->read_mem(t, w, (uint8_t *)&v, 4);
	CHECK("watch: fires again", r == 1 && ev.reason == TGT_REASON_WATCH && v == 2);
	CHECK("watch: remove", ops->remove_bp(t, TGT_WP_WRITE, w, 4) == 0);
	CHECK("watch: remove twice fails", ops->remove_bp(t, TGT_WP_WRITE, w, 4) == -ENOENT);
	r = cont(t, &ev);
	CHECK("watch: runs to exit once removed", r == 1 && ev.kind == TGT_EV_EXITED && ev.status == 0);
	CHECK("watch: output", output_is("watched 3\n"));
	/* five aligned regions cannot fit four debug registers */
	ops->destroy(t);
	t = launch(&pid, "watch", NULL, NULL);
	if (!t) return;
	w = ptu_sym(pid, prog, "pt_watched");
	CHECK("watch: unaligned range split", ops->insert_bp(t, TGT_WP_ACCESS, w + 1, 4) == 0);
	CHECK("watch: out of debug registers", ops->insert_bp(t, TGT_WP_WRITE, w + 64, 32) == -ENOSPC);
	CHECK("watch: unaligned remove", ops->remove_bp(t, TGT_WP_ACCESS, w + 1, 4) == 0);
	CHECK("watch: 32 bytes take four registers", ops->insert_bp(t, TGT_WP_WRITE, w + 64, 32) == 0);
	CHECK("watch: then none is left", ops->insert_bp(t, TGT_BP_HW, w, 1) == -ENOSPC);
	ops->destroy(t);
	CHECK("watch: destroy kills the launched process", !ptu_proc_exists(pid));
}

static void test_signals(void)
{
	pid_t pid;
	struct tgt *t = launch(&pid, "signal", NULL, NULL);
	CHECK("signal: launch", t != NULL);
	if (!t) return;
	bool pass[65] = { false };
	pass[SIGUSR2] = true;
	ops->set_pass_signals(t, pass);
	struct tgt_event ev;
	int r = cont(t, &ev);
	CHECK("signal: SIGUSR1 reported", r == 1 && ev.kind == TGT_EV_STOPPED &&
	      ev.reason == TGT_REASON_SIGNAL && ev.sig == SIGUSR1 && ev.tid == pid);
	CHECK("signal: resume delivering it", ops->resume(t, pid, TGT_RESUME_CONT, SIGUSR1) == 0);
	r = ptu_wait(ops, t, &ev, 20000);
	CHECK("signal: passed SIGUSR2 not reported; both handlers ran",
	      r == 1 && ev.kind == TGT_EV_EXITED && ev.status == 3);
	ops->destroy(t);

	/* Resumed without the signal: the handler does not run. */
	t = launch(&pid, "signal", NULL, NULL);
	if (!t) return;
	ops->set_pass_signals(t, pass);
	r = cont(t, &ev);
	CHECK("signal: reported again", r == 1 && ev.sig == SIGUSR1);
	r = cont(t, &ev);
	CHECK("signal: suppressed when resumed with 0", r == 1 && ev.kind == TGT_EV_EXITED && ev.status == 2);
	ops->destroy(t);

	/* A signal given to a thread stopped by an interrupt (not at a signal
	 * stop, where ptrace would drop it) is delivered, not reported back. */
	t = launch(&pid, "usr1wait", NULL, NULL);
	if (!t) return;
	r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	usleep(20000);
	r = r ? r : ops->stop(t, -1);
	r = r ? r : ptu_wait(ops, t, &ev, 5000);
	CHECK("signal: interrupted spinning thread", r == 1 && ev.reason == TGT_REASON_INTERRUPT);
	CHECK("signal: resume it with SIGUSR1", ops->resume(t, pid, TGT_RESUME_CONT, SIGUSR1) == 0);
	r = ptu_wait(ops, t, &ev, 5000);
	CHECK("signal: delivered, handler ran, not reported", r == 1 && ev.kind == TGT_EV_EXITED && ev.status == 5);
	ops->destroy(t);

	/* Step with a signal: the step ends at the handler's first instruction. */
	t = launch(&pid, "usr1wait", NULL, NULL);
	if (!t) return;
	r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	usleep(20000);
	r = r ? r : ops->stop(t, -1);
	r = r ? r : ptu_wait(ops, t, &ev, 5000);
	r = r == 1 ? ops->resume(t, pid, TGT_RESUME_STEP, SIGUSR1) : -1;
	r = r ? r : ptu_wait(ops, t, &ev, 5000);
	uint64_t handler = ptu_sym(pid, prog, "on_sig");
	CHECK("signal: step with SIGUSR1 stops at the handler's entry", r == 1 && ev.kind == TGT_EV_STOPPED &&
	      ev.reason == TGT_REASON_STEP && handler && reg64(t, pid, RSP_AMD64_RIP) == handler);
	r = cont(t, &ev);
	CHECK("signal: then runs to exit 5", r == 1 && ev.kind == TGT_EV_EXITED && ev.status == 5);
	ops->destroy(t);

	/* A passed signal reaching a thread the client single-steps is reported
	 * (as gdbserver does: gdb steps over the handler itself). */
	t = launch(&pid, "usr1wait", NULL, NULL);
	if (!t) return;
	bool p1[65] = { false };
	p1[SIGUSR1] = true;
	ops->set_pass_signals(t, p1);
	r = ops->resume(t, -1, TGT_RESUME_CONT, 0);
	usleep(20000);
	r = r ? r : ops->stop(t, -1);
	r = r ? r : ptu_wait(ops, t, &ev, 5000);
	kill(pid, SIGUSR1);
	r = r == 1 ? ops->resume(t, pid, TGT_RESUME_STEP, 0) : -1;
	r = r ? r : ptu_wait(ops, t, &ev, 5000);
	CHECK("signal: passed signal reported while stepping", r == 1 && ev.kind == TGT_EV_STOPPED &&
	      ev.reason == TGT_REASON_SIGNAL && ev.sig == SIGUSR1);
	r = ops->resume(t, pid, TGT_RESUME_CONT, SIGUSR1);
	r = r ? r : ptu_wait(ops, t, &ev, 5000);
	CHECK("signal: and delivered when continued with it", r == 1 && ev.kind == TGT_EV_EXITED && ev.status == 5);
	ops->destroy(t);
}

static void test_exit_kill(void)
{
	pid_t pid;
	struct tgt *t = launch(&pid, "exit", "42", NULL);
	CHECK("exit: launch", t != NULL);
	if (!t) return;
	struct tgt_event ev;
	int r = cont(t, &ev);
	CHECK("exit: EXITED with code 42", r == 1 && ev.kind == TGT_EV_EXITED && ev.status == 42 && ev.pid == pid);
	CHECK("exit: next_event without a process", ops->next_event(t, &ev, 0) == -ECHILD);
	CHECK("exit: resume without a process", ops->resume(t, -1, TGT_RESUME_CONT, 0) == -ESRCH);

	/* The same object launches again. */
	char *argv[] = { (char *)prog, "spin", NULL };
	struct tgt_launch_opts o = { .argv = argv, .disable_aslr = true };
	CHECK("kill: launch again", ops->launch(t, &o, &pid) == 0);
	CHECK("kill: running", ops->resume(t, -1, TGT_RESUME_CONT, 0) == 0 &&
	      ops->next_event(t, &ev, 100) == 0);
	CHECK("kill: interrupt", ops->stop(t, -1) == 0 && ptu_wait(ops, t, &ev, 5000) == 1 &&
	      ev.kind == TGT_EV_STOPPED && ev.reason == TGT_REASON_INTERRUPT && ev.tid == pid);
	CHECK("kill", ops->kill(t) == 0);
	CHECK("kill: reaped, no zombie", !ptu_proc_exists(pid) && waitpid(pid, NULL, WNOHANG) < 0);
	CHECK("kill: no process", ops->pid(t) == 0);

	/* Through a wrapper: stops at the program's exec, not the wrapper's. */
	char *w[] = { "/usr/bin/env", "PT_WRAPPED=1", NULL };
	char *ex[] = { (char *)prog, "exit", "7", NULL };
	struct tgt_launch_opts wo = { .argv = ex, .wrapper = w, .disable_aslr = true, .cwd = "/" };
	char exe[256];
	CHECK("wrapper: launch", ops->launch(t, &wo, &pid) == 0);
	CHECK("wrapper: stopped in the program", ops->exe_path(t, exe, sizeof exe) == 0 && strcmp(exe, prog) == 0);
	char envp[64];
	snprintf(envp, sizeof envp, "/proc/%d/environ", (int)pid);
	char envb[8192] = "";
	int efd = open(envp, O_RDONLY);
	ssize_t en = efd >= 0 ? read(efd, envb, sizeof envb - 1) : -1;
	if (efd >= 0) close(efd);
	bool wrapped = false;
	for (ssize_t i = 0; i < en; i += (ssize_t)strlen(envb + i) + 1)
		if (strcmp(envb + i, "PT_WRAPPED=1") == 0) wrapped = true;
	CHECK("wrapper: ran (its environment reached the program)", wrapped);
	CHECK("wrapper: program exits 7", cont(t, &ev) == 1 && ev.kind == TGT_EV_EXITED && ev.status == 7);

	char *bad[] = { "/nonexistent/program", NULL };
	o.argv = bad;
	CHECK("launch: missing program gives ENOENT", ops->launch(t, &o, &pid) == -ENOENT);
	ops->destroy(t);
}

static int count_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0) n++;
	return n;
}

int main(void)
{
	int fds0 = count_fds();
	prog = ptu_target_abs("pt_prog");
	if (!prog) return 1;
	int fd = mkstemp(outpath);
	if (fd < 0) return 1;
	close(fd);
	test_entry_regs_mem();
	test_watch();
	test_signals();
	test_exit_kill();
	CHECK("no descriptor leaked", count_fds() == fds0);
	unlink(outpath);
	return check_done();
}
