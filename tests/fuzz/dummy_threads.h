/* dummy_threads.h — the traced dummy program of fuzz_stub_dispatch.c: three
 * threads calling dummy_tick() (a breakpoint site) and writing a global (a
 * watchpoint site) every millisecond, forever.  Included by the fuzz target
 * (which can re-execute itself as the dummy) and by dummy_threads.c (the
 * same program as a small plain executable: scripts/fuzz.sh builds it, so
 * that relaunching a dummy the fuzzer's input killed costs a fork and a tiny
 * exec instead of starting another ASan+libFuzzer image). */
#ifndef GOTAP_FUZZ_DUMMY_THREADS_H
#define GOTAP_FUZZ_DUMMY_THREADS_H
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile long dummy_counter;
static volatile long dummy_faults, dummy_signals;
static __thread sigjmp_buf dummy_jb;
static char dummy_altstack[3][65536];
static volatile int dummy_nthreads;

__attribute__((noinline)) void dummy_tick(void)
{
	dummy_counter++;
}

/* Signals an input delivers (vCont;C<sig>, a register or memory write that
 * makes a thread fault) no longer kill the dummy, so one dummy serves many
 * inputs (a relaunch costs a fork of the fuzzer and ~20 ms): a fault goes
 * back to the thread's loop (on an alternate stack: rsp may be garbage),
 * other signals are counted.  SIGTERM, SIGQUIT, SIGABRT keep their default
 * action (deaths stay reachable), and stop signals theirs (group-stops); a
 * dummy that keeps faulting (memory it runs was overwritten) exits, and the
 * fuzz target launches a new one. */
static void dummy_on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	bool fault = (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
		      sig == SIGTRAP || sig == SIGSYS) && si->si_code > 0;
	if (!fault) {
		dummy_signals++;
		return;
	}
	if (++dummy_faults > 1000) _exit(6);
	siglongjmp(dummy_jb, 1);
}

static void dummy_signals_setup(void)
{
	int i = __sync_fetch_and_add(&dummy_nthreads, 1);
	if (i < 3) {
		stack_t st = { .ss_sp = dummy_altstack[i], .ss_size = sizeof dummy_altstack[i] };
		sigaltstack(&st, NULL);
	}
	sigset_t none;
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
}

static void *dummy_thread(void *arg)
{
	(void)arg;
	dummy_signals_setup();
	sigsetjmp(dummy_jb, 1);
	for (;;) {
		dummy_tick();
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* Never returns. */
static void dummy_run(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = dummy_on_signal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < 32; sig++) {
		switch (sig) {
		case SIGKILL: case SIGSTOP: case SIGTERM: case SIGQUIT: case SIGABRT:
		case SIGCHLD: case SIGCONT: case SIGTSTP: case SIGTTIN: case SIGTTOU:
			continue;
		}
		sigaction(sig, &sa, NULL);
	}
	pthread_t th;
	for (int i = 0; i < 2; i++)
		if (pthread_create(&th, NULL, dummy_thread, NULL) != 0) _exit(3);
	dummy_thread(NULL);
	_exit(4);
}
#endif
