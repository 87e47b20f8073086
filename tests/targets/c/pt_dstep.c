/* pt_dstep.c — instructions under breakpoints, for the step-over tests
 * (tests/unit/stub_pt_dstep.c: emulation and displaced stepping, stub/pt_dstep.c).
 *
 * Usage: pt_dstep MODE [ARGS]
 *   sites        runs ds_run once: every ds_s_* label is one instruction of a
 *                class the step-over must get right (push, mov, sub/add,
 *                lea, rip-relative load/store/compare/SSE, imul, jcc taken
 *                and not, jmp, call rel/reg/mem, ret, pop, syscall, leave);
 *                exit 0 iff the results are what native execution gives
 *   fault        ds_s_fault (`mov %rcx,(%rax)`, rax 0) faults; the SIGSEGV
 *                handler checks that the interrupted rip is ds_s_fault and
 *                skips the instruction; exit 0 iff it did
 *   hot T N      T threads each call ds_hot_rip (first instruction
 *                `lock incq ds_counter(%rip)`, displaced) and ds_hot_c (a C
 *                function: `push %rbp`, emulated) N times, while one more
 *                thread spins on ds_spin; exit 0 iff both counts are T*N
 *   padhot T N F T threads each call ds_pad_caller N times: its first
 *                instruction ds_s_padcall is a `call rel32` (a jump pad's
 *                case); the callee checks that [rsp] is the original return
 *                address.  F (a string, "-" for none): 's' adds a SIGALRM
 *                every 100 us (setitimer) whose handler records the
 *                interrupted rip and si_code; 'w' waits for a SIGUSR2 before
 *                exiting; 'f': each thread forks twice (halfway through and
 *                at the end) a child that calls ds_pad_caller 1000 times
 *                and exits 0 iff its count and return addresses were right
 *                (the parent counts a child's death as bad: exit 4).  Exit 0 iff the count is T*N, every return address
 *                was right and no handler saw a rip in an anonymous
 *                executable mapping (the stub's scratch page: its pads must
 *                stay invisible); 1 count, 3 rip in a pad, 4 return address
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <ucontext.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

long ds_data = 7, ds_out, ds_counter, ds_calls, ds_pad_count, ds_pad_bad;
double ds_dbl = 2.5, ds_dblout;
void *ds_fnptr;
volatile long ds_spin;
atomic_long ds_c_count;
static volatile int stop_spin;

long ds_run(void);
void ds_callee(void);
void ds_hot_rip(void);
void ds_fault(void);
void ds_pad_caller(void);
extern char ds_s_fault[];
static volatile int fault_ok;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	(void)sig;
	(void)si;
	if (uc->uc_mcontext.gregs[REG_RIP] == (greg_t)(uintptr_t)ds_s_fault) fault_ok = 1;
	uc->uc_mcontext.gregs[REG_RIP] += 3;   /* skip it */
}

__asm__(
	"	.text\n"
	"	.globl ds_callee\n"
	"	.type ds_callee,@function\n"
	"ds_callee:\n"
	"	addq $1, ds_calls(%rip)\n"
	"	.globl ds_s_ret\n"
	"ds_s_ret:\n"
	"	ret\n"
	"	.globl ds_hot_rip\n"
	"	.type ds_hot_rip,@function\n"
	"ds_hot_rip:\n"
	"	lock incq ds_counter(%rip)\n"
	"	ret\n"
	"	.globl ds_pad_caller\n"
	"	.type ds_pad_caller,@function\n"
	"ds_pad_caller:\n"
	"	.globl ds_s_padcall\n"
	"ds_s_padcall:\n"
	"	call ds_pad_callee\n"
	"ds_pad_ret:\n"
	"	ret\n"
	"	.globl ds_pad_callee\n"
	"	.type ds_pad_callee,@function\n"
	"ds_pad_callee:\n"
	"	lea ds_pad_ret(%rip), %rax\n"
	"	cmp %rax, (%rsp)\n"
	"	je 1f\n"
	"	lock incq ds_pad_bad(%rip)\n"
	"1:\n"
	"	lock incq ds_pad_count(%rip)\n"
	"	ret\n"
	"	.globl ds_fault\n"
	"	.type ds_fault,@function\n"
	"ds_fault:\n"
	"	xor %eax, %eax\n"
	"	.globl ds_s_fault\n"
	"ds_s_fault:\n"
	"	mov %rcx, (%rax)\n"
	"	ret\n"
	"	.globl ds_run\n"
	"	.type ds_run,@function\n"
	"ds_run:\n"
	"	.globl ds_s_push\n"
	"ds_s_push:\n"
	"	push %rbp\n"
	"	.globl ds_s_movrr\n"
	"ds_s_movrr:\n"
	"	mov %rsp, %rbp\n"
	"	.globl ds_s_sub\n"
	"ds_s_sub:\n"
	"	sub $0x20, %rsp\n"
	"	.globl ds_s_movri\n"
	"ds_s_movri:\n"
	"	mov $-1, %rax\n"
	"	.globl ds_s_movri32\n"
	"ds_s_movri32:\n"
	"	mov $0x12345678, %ecx\n"
	"	.globl ds_s_lea\n"
	"ds_s_lea:\n"
	"	lea -0x130(%rsp), %r11\n"
	"	.globl ds_s_lea32\n"
	"ds_s_lea32:\n"
	"	lea 0x10(%rcx,%rax,4), %edx\n"
	"	.globl ds_s_learip\n"
	"ds_s_learip:\n"
	"	lea ds_data(%rip), %rsi\n"
	"	.globl ds_s_load\n"
	"ds_s_load:\n"
	"	mov ds_data(%rip), %rax\n"
	"	.globl ds_s_load9\n"
	"ds_s_load9:\n"
	"	mov ds_data(%rip), %r9\n"
	"	.globl ds_s_addrip\n"
	"ds_s_addrip:\n"
	"	add ds_data(%rip), %rax\n"
	"	.globl ds_s_cmprip\n"
	"ds_s_cmprip:\n"
	"	cmpq $5, ds_data(%rip)\n"
	"	.globl ds_s_store\n"
	"ds_s_store:\n"
	"	mov %rax, ds_out(%rip)\n"
	"	.globl ds_s_sse\n"
	"ds_s_sse:\n"
	"	movsd ds_dbl(%rip), %xmm0\n"
	"	addsd %xmm0, %xmm0\n"
	"	movsd %xmm0, ds_dblout(%rip)\n"
	"	.globl ds_s_imul\n"
	"ds_s_imul:\n"
	"	imul %rcx, %rax\n"
	"	.globl ds_s_addrsp\n"
	"ds_s_addrsp:\n"
	"	add $0x8, %rsp\n"
	"	sub $0x8, %rsp\n"
	"	cmp $14, %r9\n"
	"	.globl ds_s_jz_not\n"
	"ds_s_jz_not:\n"
	"	je 9f\n"
	"	cmp $7, %r9\n"
	"	.globl ds_s_jz_taken\n"
	"ds_s_jz_taken:\n"
	"	je 1f\n"
	"	jmp 9f\n"
	"1:\n"
	"	.globl ds_s_jmp\n"
	"ds_s_jmp:\n"
	"	jmp 2f\n"
	"	jmp 9f\n"
	"2:\n"
	"	.globl ds_s_call\n"
	"ds_s_call:\n"
	"	call ds_callee\n"
	"	lea ds_callee(%rip), %r8\n"
	"	.globl ds_s_callr\n"
	"ds_s_callr:\n"
	"	call *%r8\n"
	"	lea ds_callee(%rip), %r8\n"
	"	mov %r8, ds_fnptr(%rip)\n"
	"	.globl ds_s_callm\n"
	"ds_s_callm:\n"
	"	call *ds_fnptr(%rip)\n"
	"	lea 3f(%rip), %rdx\n"
	"	.globl ds_s_jmpr\n"
	"ds_s_jmpr:\n"
	"	jmp *%rdx\n"
	"	jmp 9f\n"
	"3:\n"
	"	push %rax\n"
	"	.globl ds_s_pop\n"
	"ds_s_pop:\n"
	"	pop %rcx\n"
	"	mov $39, %eax\n"
	"	.globl ds_s_syscall\n"
	"ds_s_syscall:\n"
	"	syscall\n"
	"	mov ds_out(%rip), %rax\n"
	"	.globl ds_s_leave\n"
	"ds_s_leave:\n"
	"	leave\n"
	"	ret\n"
	"9:\n"
	"	mov $-1, %rax\n"
	"	leave\n"
	"	ret\n");

__attribute__((noinline)) void ds_hot_c(void)
{
	atomic_fetch_add(&ds_c_count, 1);
}

static long per_thread;

#define NPC (1 << 16)
static uintptr_t sig_pc[NPC];
static atomic_long sig_n, sig_notkernel;

static void on_alrm(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	(void)sig;
	long i = atomic_fetch_add(&sig_n, 1);
	if (i < NPC) sig_pc[i] = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	if (si->si_code != SI_KERNEL) atomic_fetch_add(&sig_notkernel, 1);   /* siginfo not the timer's */
}

/* A fork child runs the traced code untraced: the stub must have taken
 * its breakpoints (int3 or jump) out of the child's memory. */
static void pad_fork(void)
{
	pid_t c = fork();
	if (c == 0) {
		long before = ds_pad_count, bad = ds_pad_bad;
		for (int i = 0; i < 1000; i++) ds_pad_caller();
		_exit(ds_pad_count == before + 1000 && ds_pad_bad == bad ? 0 : 1);
	}
	int st;
	if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		__atomic_add_fetch(&ds_pad_bad, 1, __ATOMIC_SEQ_CST);
		fprintf(stderr, "pt_dstep: fork child: status %#x\n", c > 0 ? st : -1);
	}
}

static bool pad_forks;

static void *pad_worker(void *arg)
{
	(void)arg;
	for (long i = 0; i < per_thread; i++) {
		ds_pad_caller();
		if (pad_forks && (i == per_thread / 2 || i == per_thread - 1)) pad_fork();
	}
	return NULL;
}

/* How many recorded handler rips lie in an anonymous executable mapping. */
static long rips_in_anon_exec(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	long bad = 0, n = sig_n < NPC ? sig_n : NPC;
	if (!f) return -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi, ino;
		char perm[8], path[256] = "";
		if (sscanf(line, "%lx-%lx %7s %*s %*s %lu %255s", &lo, &hi, perm, &ino, path) < 4) continue;
		if (perm[2] != 'x' || ino != 0 || path[0]) continue;
		for (long i = 0; i < n; i++)
			if (sig_pc[i] >= lo && sig_pc[i] < hi) bad++;
	}
	fclose(f);
	return bad;
}

static int pad_hot(int nt, const char *flags)
{
	pthread_t th[64];
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	if (nt < 1 || nt > 64 || pthread_sigmask(SIG_BLOCK, &usr2, NULL)) return 2;
	pad_forks = strchr(flags, 'f') != NULL;
	if (strchr(flags, 's')) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_alrm;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		struct itimerval it = { { 0, 100 }, { 0, 100 } };
		if (sigaction(SIGALRM, &sa, NULL) || setitimer(ITIMER_REAL, &it, NULL)) return 2;
	}
	for (int i = 0; i < nt; i++)
		if (pthread_create(&th[i], NULL, pad_worker, NULL)) return 90;
	for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	if (setitimer(ITIMER_REAL, &off, NULL)) return 2;
	long inpad = rips_in_anon_exec();
	printf("padhot %ld bad %ld signals %ld in-pad %ld not-kernel %ld\n", ds_pad_count, ds_pad_bad,
	       (long)sig_n, inpad, (long)sig_notkernel);
	fflush(stdout);
	int sig;
	if (strchr(flags, 'w') && sigwait(&usr2, &sig)) return 2;
	if (ds_pad_count != nt * per_thread) return 1;
	if (inpad != 0) return 3;
	return ds_pad_bad ? 4 : 0;
}

static void *worker(void *arg)
{
	(void)arg;
	for (long i = 0; i < per_thread; i++) {
		ds_hot_rip();
		ds_hot_c();
	}
	return NULL;
}

static void *spinner(void *arg)
{
	(void)arg;
	while (!stop_spin) ds_spin++;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "sites")) {
		long r = ds_run();
		int bad = 0;
		bad |= (r != 14) << 0;             /* ds_out: 7 + 7 */
		bad |= (ds_calls != 3) << 1;
		bad |= (ds_dblout != 5.0) << 2;
		printf("sites r=%ld calls=%ld dbl=%g bad=%d\n", r, ds_calls, ds_dblout, bad);
		return bad;
	}
	if (!strcmp(mode, "fault")) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSEGV, &sa, NULL);
		ds_fault();
		printf("fault %d\n", fault_ok);
		return fault_ok ? 0 : 1;
	}
	if (!strcmp(mode, "hot")) {
		int nt = argc > 2 ? atoi(argv[2]) : 4;
		per_thread = argc > 3 ? atol(argv[3]) : 100;
		pthread_t th[64], sp;
		if (nt < 1 || nt > 64) return 2;
		if (pthread_create(&sp, NULL, spinner, NULL)) return 90;
		for (int i = 0; i < nt; i++)
			if (pthread_create(&th[i], NULL, worker, NULL)) return 90;
		for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
		stop_spin = 1;
		pthread_join(sp, NULL);
		long want = nt * per_thread;
		printf("hot %ld %ld spin %ld\n", ds_counter, (long)ds_c_count, ds_spin);
		return ds_counter == want && ds_c_count == want ? 0 : 1;
	}
	if (!strcmp(mode, "padhot") && argc > 4) {
		per_thread = atol(argv[3]);
		return pad_hot(atoi(argv[2]), argv[4]);
	}
	return 99;
}
