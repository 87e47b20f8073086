/* handlers_run.c — packets that run, stop, start and end the process:
 * ?, c/C/s/S, vCont?/vCont, k, vKill, D, vAttach, vRun, QPassSignals,
 * QProgramSignals.
 *
 * Resuming (GDB manual E.4 "vCont"): each thread takes the leftmost action
 * whose thread-id matches it; threads no action matches stay stopped.  If a
 * thread about to be resumed has a pending stop (see session.h), that stop is
 * reported at once and nothing is resumed, as gdbserver does.
 *
 * Non-stop (session.h): vCont answers OK at once; each thread takes its
 * action on its own (a running thread named by c/s keeps running, one no
 * action names keeps its state, 't' stops a running thread and its stop is
 * reported with signal 0); a thread whose stop the client has not
 * acknowledged yet counts as running.  QNonStop and vStopped live here too.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "say.h"

enum act_kind { ACT_NONE = 0, ACT_CONT, ACT_STEP, ACT_STOP };

struct action {
	enum act_kind kind;
	int sig;                 /* host signal number, 0 for none */
	struct rsp_ptid id;      /* tid -1: all */
};

#define MAX_ACTIONS 64

static int host_sig(struct stub_session *s, uint64_t gdb_sig)
{
	if (gdb_sig == 0 || gdb_sig > 255) return 0;
	int h = rsp_sig_to_host((int)gdb_sig);
	if (h <= 0 || h > 64) return 0;
	/* QProgramSignals: signals gdb may not hand to the program are dropped. */
	if (s->program_set && !s->program[h]) return 0;
	return h;
}

static bool ptid_matches(const struct stub_session *s, const struct rsp_ptid *id, pid_t tid)
{
	if (id->has_pid && id->pid != -1 && id->pid != 0 && id->pid != s->pid) return false;
	return id->tid == -1 || id->tid == 0 || id->tid == tid;
}

/* A resumed thread with no signal of its own gets the one queued for it
 * while another thread's pending stop was reported instead. */
static void take_queued_signals(struct stub_session *s, struct action *per, int n)
{
	for (int q = 0; q < s->nqsig; ) {
		int i;
		for (i = 0; i < n; i++)
			if (s->thr[i].tid == s->qsig[q].tid &&
			    (per[i].kind == ACT_CONT || per[i].kind == ACT_STEP) && per[i].sig == 0)
				break;
		if (i < n) {
			per[i].sig = s->qsig[q].sig;
			s->qsig[q] = s->qsig[--s->nqsig];
		} else {
			q++;
		}
	}
}

/* Every thread continues, none with a signal: one resume-all call. */
static bool is_uniform(const struct action *per, int n)
{
	for (int i = 0; i < n; i++)
		if (per[i].kind != ACT_CONT || per[i].sig != 0) return false;
	return true;
}

/* The leftmost action naming tid, or NULL. */
static const struct action *action_for(const struct stub_session *s, const struct action *acts,
				       int nacts, pid_t tid)
{
	for (int a = 0; a < nacts; a++)
		if (ptid_matches(s, &acts[a].id, tid)) return &acts[a];
	return NULL;
}

static int resume_nonstop(struct stub_session *s, const struct action *acts, int nacts,
			  struct stub_out *o)
{
	int n = stub_thr_sync(s);
	if (n < 0) return n;
	int r = 0;
	/* Stops first, then steppers (a step over a breakpoint starts while
	 * the continuing threads are still stopped), then the rest. */
	for (int pass = 0; pass < 3 && r >= 0; pass++)
		for (int i = 0; i < s->nthr; i++) {
			struct stub_thr *t = &s->thr[i];
			const struct action *x = action_for(s, acts, nacts, t->tid);
			if (!x) continue;
			if (pass == 0) {
				if (x->kind != ACT_STOP) continue;
				int e = stub_nonstop_stop(s, t);
				if (e < 0 && e != -ESRCH) r = e;
				continue;
			}
			if (pass == 1 ? x->kind != ACT_STEP : x->kind != ACT_CONT) continue;
			/* running for the client: running, or its stop not acknowledged */
			if (!t->stopped || stub_nonstop_queued(s, t->tid)) continue;
			struct tgt_event ev;
			if (stub_take_pending(s, &t->tid, 1, &ev)) {
				/* a stop it had before non-stop began: that is its news */
				if (x->sig && s->nqsig < STUB_MAX_PENDING)
					s->qsig[s->nqsig++] = (struct stub_qsig){ t->tid, x->sig };
				stub_nonstop_queue(s, &ev);
				continue;
			}
			int sig = x->sig;
			for (int q = 0; sig == 0 && q < s->nqsig; q++)
				if (s->qsig[q].tid == t->tid) {
					sig = s->qsig[q].sig;
					s->qsig[q] = s->qsig[--s->nqsig];
				}
			int e = s->ops->resume(s->tgt, t->tid,
					       x->kind == ACT_STEP ? TGT_RESUME_STEP : TGT_RESUME_CONT, sig);
			if (e == 0) {
				t->stopped = false;
				t->stopping = false;
				t->stepping = x->kind == ACT_STEP;
			} else if (e != -ESRCH) {   /* a thread that just died is fine */
				r = e;
			}
		}
	if (r < 0) return r;
	stub_out_str(o, "OK");
	return STUB_OK;
}

static int resume(struct stub_session *s, const struct action *acts, int nacts, struct stub_out *o)
{
	if (s->nonstop) return resume_nonstop(s, acts, nacts, o);
	int n = stub_thr_sync(s);
	if (n < 0) return n;
	if (n == 0) {
		/* Every thread is dying (an exit_group under way): nothing to run,
		 * but the exit is still to be reported -- wait for it, as gdbserver. */
		if (s->pid <= 0 || s->ops->resume(s->tgt, -1, TGT_RESUME_CONT, 0) < 0) return -ESRCH;
		s->state = STUB_RUNNING;
		s->interrupting = false;
		return STUB_NO_REPLY;
	}
	pid_t *tids = malloc((size_t)n * sizeof *tids);
	struct action *per = malloc((size_t)n * sizeof *per);
	if (!tids || !per) {
		free(tids);
		free(per);
		return -ENOMEM;
	}
	int nres = 0;
	for (int i = 0; i < n; i++) {
		const struct action *x = action_for(s, acts, nacts, s->thr[i].tid);
		per[i] = x ? *x : (struct action){ .kind = ACT_NONE };
		if (per[i].kind == ACT_CONT || per[i].kind == ACT_STEP) tids[nres++] = s->thr[i].tid;
	}
	struct tgt_event ev;
	int r = 0;
	bool reported = true;   /* the reply is already in o */
	if (nres == 0) {
		stub_out_str(o, "OK");   /* nothing to run (only 't' actions) */
	} else if (stub_take_pending(s, tids, nres, &ev)) {
		/* Nothing runs: keep the signals gdb wanted delivered for the
		 * threads' real resumption, or they would be lost. */
		for (int i = 0; i < n; i++)
			if ((per[i].kind == ACT_CONT || per[i].kind == ACT_STEP) && per[i].sig != 0 &&
			    s->nqsig < STUB_MAX_PENDING)
				s->qsig[s->nqsig++] = (struct stub_qsig){ s->thr[i].tid, per[i].sig };
		o->len = stub_report_now(s, &ev, o->buf, o->cap);
		if (!o->len) r = -EIO;
	} else if (take_queued_signals(s, per, n), is_uniform(per, n)) {
		for (int i = 0; i < n; i++) s->thr[i].stepping = false;
		reported = false;
		r = s->ops->resume(s->tgt, -1, TGT_RESUME_CONT, 0);
	} else {
		reported = false;
		/* Steppers first, so a step over a breakpoint starts while the
		 * rest are still stopped. */
		for (int pass = 0; pass < 2 && r >= 0; pass++)
			for (int i = 0; i < n; i++) {
				enum act_kind k = per[i].kind;
				if (pass == 0 ? k != ACT_STEP : k != ACT_CONT) continue;
				s->thr[i].stepping = k == ACT_STEP;
				int e = s->ops->resume(s->tgt, s->thr[i].tid,
						       k == ACT_STEP ? TGT_RESUME_STEP : TGT_RESUME_CONT,
						       per[i].sig);
				if (e < 0 && e != -ESRCH) {   /* a thread that just died is fine */
					r = e;
					break;
				}
			}
	}
	free(tids);
	free(per);
	if (r < 0) return r;
	if (reported) return STUB_OK;
	s->state = STUB_RUNNING;
	s->interrupting = false;
	return STUB_NO_REPLY;
}

/* c/C/s/S [sig][;addr] — the pre-vCont packets (gdb uses vCont when offered). */
static int legacy(struct stub_session *s, struct stub_cur a, bool step, bool with_sig,
		  struct stub_out *o)
{
	uint64_t sig = 0, addr;
	if (with_sig && !stub_cur_hex(&a, &sig)) return -EINVAL;
	if (with_sig && !stub_cur_end(&a) && !stub_cur_char(&a, ';')) return -EINVAL;
	pid_t cur = s->cthread > 0 ? s->cthread : stub_current_thread(s);
	if (!stub_cur_end(&a)) {
		if (!stub_cur_hex(&a, &addr) || !stub_cur_end(&a)) return -EINVAL;
		uint8_t b[8];
		for (int i = 0; i < 8; i++) b[i] = (uint8_t)(addr >> (8 * i));
		int r = s->ops->write_reg(s->tgt, cur, RSP_AMD64_RIP, b);
		if (r < 0) return r;
	}
	struct action acts[2];
	int n = 0;
	acts[n++] = (struct action){ step ? ACT_STEP : ACT_CONT, host_sig(s, sig),
				     { 0, cur, false } };
	if (!step) acts[n++] = (struct action){ ACT_CONT, 0, { 0, -1, false } };
	return resume(s, acts, n, o);
}

int stub_h_c(struct stub_session *s, struct stub_cur a, struct stub_out *o) { return legacy(s, a, false, false, o); }
int stub_h_C(struct stub_session *s, struct stub_cur a, struct stub_out *o) { return legacy(s, a, false, true, o); }
int stub_h_s(struct stub_session *s, struct stub_cur a, struct stub_out *o) { return legacy(s, a, true, false, o); }
int stub_h_S(struct stub_session *s, struct stub_cur a, struct stub_out *o) { return legacy(s, a, true, true, o); }

int stub_h_vcont_q(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)s; (void)a;
	stub_out_str(o, "vCont;c;C;s;S;t");
	return STUB_OK;
}

int stub_h_vcont(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	struct action acts[MAX_ACTIONS];
	int n = 0;
	for (;;) {
		if (n == MAX_ACTIONS || a.n == 0) return -EINVAL;
		struct action *x = &acts[n++];
		uint64_t v;
		char c = a.p[0];
		a.p++; a.n--;
		x->sig = 0;
		switch (c) {
		case 'c': x->kind = ACT_CONT; break;
		case 's': x->kind = ACT_STEP; break;
		case 't': x->kind = ACT_STOP; break;
		case 'C':
		case 'S':
			x->kind = c == 'C' ? ACT_CONT : ACT_STEP;
			{
				struct stub_cur two = { a.p, a.n < 2 ? a.n : 2 };
				if (a.n < 2 || !stub_cur_hex(&two, &v) || two.n != 0) return -EINVAL;
				a.p += 2; a.n -= 2;
			}
			x->sig = host_sig(s, v);
			break;
		case 'r':   /* range step: a plain step is a correct (slower) answer */
			x->kind = ACT_STEP;
			if (!stub_cur_hex(&a, &v) || !stub_cur_char(&a, ',') || !stub_cur_hex(&a, &v))
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
		x->id = (struct rsp_ptid){ 0, -1, false };
		if (stub_cur_char(&a, ':') && !stub_cur_ptid(&a, &x->id)) return -EINVAL;
		if (!stub_ptid_in(s, &x->id)) x->id.tid = -2;   /* no such thread: matches none */
		if (stub_cur_end(&a)) break;
		if (!stub_cur_char(&a, ';')) return -EINVAL;
	}
	return resume(s, acts, n, o);
}

int stub_h_status(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)a;
	if (s->nonstop) {
		/* every stopped thread, the first here, the rest by vStopped */
		o->len = stub_nonstop_status(s, o->buf, o->cap);
		return o->len ? STUB_OK : -EIO;
	}
	if (s->state == STUB_NOPROC) {
		/* No process: report the last exit if there was one. */
		if (s->have_last && (s->last.kind == TGT_EV_EXITED || s->last.kind == TGT_EV_KILLED)) {
			o->len = stub_stop_reply(s, &s->last, o->buf, o->cap);
			return o->len ? STUB_OK : -EIO;
		}
		stub_out_str(o, "W00");
		return STUB_OK;
	}
	struct tgt_event ev = s->last;
	if (!s->have_last || ev.kind != TGT_EV_STOPPED || !s->ops->thread_alive(s->tgt, ev.tid)) {
		ev = (struct tgt_event){ .kind = TGT_EV_STOPPED, .pid = s->pid,
					 .tid = stub_current_thread(s), .sig = SIGTRAP };
	}
	o->len = stub_stop_reply(s, &ev, o->buf, o->cap);
	return o->len ? STUB_OK : -EIO;
}

static void kill_process(struct stub_session *s)
{
	int r = s->ops->kill(s->tgt);
	if (r < 0) fprintf(stderr, "gotap-stub: kill: %s\n", strerror(-r));
	stub_nonstop_clear(s);
	stub_session_forget_process(s);
	s->have_last = true;
	s->last = (struct tgt_event){ .kind = TGT_EV_KILLED, .sig = SIGKILL };
}

int stub_h_k(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)a; (void)o;
	/* 'k' has no reply (gdb does not read one).  Without extended-remote
	 * the session ends, as with gdbserver. */
	if (s->pid > 0) {
		stub_say("Killing all inferiors\n");
		kill_process(s);
	}
	if (!s->extended) s->disconnect = true;
	return STUB_NO_REPLY;
}

int stub_h_vkill(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	uint64_t pid;
	if (!stub_cur_hex(&a, &pid) || !stub_cur_end(&a)) return -EINVAL;
	if (s->pid <= 0 || pid > 0x7fffffff || stub_ns_in(s, (pid_t)pid) != s->pid) return -ESRCH;
	kill_process(s);
	stub_out_str(o, "OK");
	return STUB_OK;
}

int stub_h_D(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	uint64_t pid = 0;
	if (stub_cur_char(&a, ';') && !stub_cur_hex(&a, &pid)) return -EINVAL;
	if (!stub_cur_end(&a)) return -EINVAL;
	if (s->pid <= 0 || pid > 0x7fffffff || (pid != 0 && stub_ns_in(s, (pid_t)pid) != s->pid))
		return -ESRCH;
	if (s->state == STUB_RUNNING) return -EBUSY;
	stub_say("Detaching from process %d\n", s->pid);
	/* The backend removes every breakpoint and watchpoint first. */
	stub_hand_back_signals(s);
	int r = s->ops->detach(s->tgt, 0);
	if (r < 0) return r;
	stub_nonstop_clear(s);
	stub_session_forget_process(s);
	s->have_last = false;
	stub_out_str(o, "OK");
	if (!s->extended) s->disconnect = true;
	return STUB_OK;
}

static void set_started(struct stub_session *s, pid_t pid, struct stub_out *o)
{
	stub_session_forget_process(s);
	s->pid = pid;
	s->state = STUB_STOPPED;
	struct tgt_event ev = { .kind = TGT_EV_STOPPED, .pid = pid, .tid = pid, .sig = SIGTRAP };
	o->len = stub_report_now(s, &ev, o->buf, o->cap);
}

int stub_h_vattach(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	uint64_t pid;
	if (!stub_cur_hex(&a, &pid) || !stub_cur_end(&a) || pid == 0 || pid > 0x7fffffff)
		return -EINVAL;
	if (s->pid > 0) {
		fprintf(stderr, "Already debugging a process\n");
		return -EBUSY;
	}
	int r = s->ops->attach(s->tgt, (pid_t)pid);
	if (r < 0) {
		fprintf(stderr, "Cannot attach to process %d: %s\n", (int)pid, strerror(-r));
		return r;
	}
	stub_say("Attached; pid = %d\n", (int)pid);
	set_started(s, (pid_t)pid, o);
	if (s->nonstop) {
		/* Non-stop: "OK", then every thread's stop (signal 0, as they
		 * were stopped on request) by notification. */
		o->len = 0;
		stub_out_str(o, "OK");
		if (stub_thr_sync(s) > 0)
			for (int i = 0; i < s->nthr; i++) {
				struct tgt_event ev = { .kind = TGT_EV_STOPPED, .pid = s->pid,
							.tid = s->thr[i].tid, .reason = TGT_REASON_INTERRUPT };
				stub_nonstop_queue(s, &ev);
			}
	}
	return STUB_OK;
}

int stub_h_vrun(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	if (!s->cfg->multi) return -EPERM;   /* starting programs needs --multi */
	if (s->pid > 0) {
		fprintf(stderr, "Already debugging a process\n");
		return -EBUSY;
	}
	/* vRun;hex(prog)[;hex(arg)]... */
	enum { MAXARGS = 256, ARGCAP = 4096 };
	char **argv = calloc(MAXARGS + 1, sizeof *argv);
	if (!argv) return -ENOMEM;
	int argc = 0, r = 0;
	while (argc < MAXARGS) {
		argv[argc] = malloc(ARGCAP);
		if (!argv[argc]) { r = -ENOMEM; break; }
		if (!stub_cur_hexstr(&a, ';', argv[argc], ARGCAP)) { r = -EINVAL; argc++; break; }
		argc++;
		if (stub_cur_end(&a)) break;
	}
	if (r == 0 && !stub_cur_end(&a)) r = -E2BIG;
	if (r == 0 && argv[0][0] == 0) {
		/* empty name: the program from the command line */
		if (!s->cfg->argv || !s->cfg->argv[0]) r = -ENOENT;
		else if (argc == 1) {
			for (int i = 0; i < argc; i++) free(argv[i]);
			argc = 0;
			for (; s->cfg->argv[argc] && argc < MAXARGS; argc++) {
				argv[argc] = strdup(s->cfg->argv[argc]);
				if (!argv[argc]) { r = -ENOMEM; break; }
			}
		} else {
			free(argv[0]);
			argv[0] = strdup(s->cfg->argv[0]);
			if (!argv[0]) r = -ENOMEM;
		}
	}
	pid_t pid = 0;
	if (r == 0) {
		argv[argc] = NULL;
		struct tgt_launch_opts lo = { .argv = argv, .wrapper = s->cfg->wrapper,
					      .cwd = s->cwd, .envp = NULL,
					      .disable_aslr = s->disable_aslr };
		r = s->ops->launch(s->tgt, &lo, &pid);
		if (r < 0) fprintf(stderr, "Cannot run %s: %s\n", argv[0], strerror(-r));
		else stub_say("Process %s created; pid = %d\n", argv[0], pid);
	}
	for (int i = 0; i < argc; i++) free(argv[i]);
	free(argv);
	if (r < 0) return r;
	set_started(s, pid, o);
	return STUB_OK;
}

/* "QPassSignals:a;b;..." / "QProgramSignals:..." — gdb signal numbers in hex. */
static int parse_sigset(struct stub_session *s, struct stub_cur a, bool set[65])
{
	bool tmp[65] = { false };
	while (!stub_cur_end(&a)) {
		uint64_t v;
		if (!stub_cur_hex(&a, &v)) return -EINVAL;
		if (v > 0 && v < 256) {
			int h = rsp_sig_to_host((int)v);
			if (h > 0 && h <= 64) tmp[h] = true;
		}
		if (!stub_cur_end(&a) && !stub_cur_char(&a, ';')) return -EINVAL;
	}
	(void)s;
	memcpy(set, tmp, sizeof tmp);
	return 0;
}

int stub_h_pass_signals(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	int r = parse_sigset(s, a, s->pass);
	if (r < 0) return r;
	s->ops->set_pass_signals(s->tgt, s->pass);
	stub_out_str(o, "OK");
	return STUB_OK;
}

int stub_h_program_signals(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	int r = parse_sigset(s, a, s->program);
	if (r < 0) return r;
	s->program_set = true;
	stub_out_str(o, "OK");
	return STUB_OK;
}

/* QNonStop:1 / QNonStop:0 (GDB manual "Remote Non-Stop").  Entering non-stop
 * leaves every thread as it is (all stopped: packets are only read while
 * stopped in all-stop); leaving it stops every thread first. */
int stub_h_qnonstop(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	uint64_t v;
	if (!stub_cur_hex(&a, &v) || !stub_cur_end(&a) || v > 1) return -EINVAL;
	if (v == 1 && !s->nonstop) {
		stub_nonstop_clear(s);
		s->nonstop = true;
		if (s->pid > 0) {
			int n = stub_thr_sync(s);
			if (n < 0) {
				s->nonstop = false;
				return n;
			}
			for (int i = 0; i < s->nthr; i++) {
				s->thr[i].stopped = true;
				s->thr[i].stopping = false;
			}
		}
	} else if (v == 0 && s->nonstop) {
		int r = stub_nonstop_leave(s);
		if (r < 0) return r;
	}
	stub_out_str(o, "OK");
	return STUB_OK;
}

/* vStopped: the client has the last stop reply; send the next or OK. */
int stub_h_vstopped(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)a;
	o->len = stub_nonstop_vstopped(s, o->buf, o->cap);
	return o->len ? STUB_OK : -EIO;
}
