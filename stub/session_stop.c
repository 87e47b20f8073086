/* session_stop.c — what gdb is told when the target stops, and what waits.
 *
 * Stop replies (T/S/W/X with thread, reason and expedited registers, the
 * exec: form), the record of the stop gdb last saw, the queue of stops not yet
 * reported (all-stop keeps them pending, see session.h), the software
 * breakpoint list used to judge a pending hit stale, and the signals handed
 * back to the program on detach.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "handlers.h"
#include "say.h"
#include "session.h"

/* ------------------------------------------------------------ breakpoints */

void stub_swbp_add(struct stub_session *s, uint64_t addr)
{
	if (stub_swbp_has(s, addr)) return;
	if (s->nswbps == s->capswbps) {
		size_t nc = s->capswbps ? s->capswbps * 2 : 32;
		uint64_t *p = realloc(s->swbps, nc * sizeof *p);
		if (!p) return;   /* only weakens pending-stop validation */
		s->swbps = p;
		s->capswbps = nc;
	}
	s->swbps[s->nswbps++] = addr;
}

void stub_swbp_del(struct stub_session *s, uint64_t addr)
{
	for (size_t i = 0; i < s->nswbps; i++)
		if (s->swbps[i] == addr) {
			s->swbps[i] = s->swbps[--s->nswbps];
			return;
		}
}

bool stub_swbp_has(struct stub_session *s, uint64_t addr)
{
	for (size_t i = 0; i < s->nswbps; i++)
		if (s->swbps[i] == addr) return true;
	return false;
}

/* ------------------------------------------------------------ stop replies */

static int gdb_sig_for(const struct stub_session *s, const struct tgt_event *ev)
{
	if (ev->kind == TGT_EV_EXEC) return rsp_sig_from_host(SIGTRAP);
	switch (ev->reason) {
	case TGT_REASON_SIGNAL:
		return rsp_sig_from_host(ev->sig);
	case TGT_REASON_INTERRUPT:
		/* A ^C stop is SIGINT for gdb; a stop we caused for other reasons is 0. */
		return ev->sig == SIGINT ? rsp_sig_from_host(SIGINT) : 0;
	default:
		(void)s;
		return rsp_sig_from_host(SIGTRAP);
	}
}

size_t stub_stop_reply(struct stub_session *s, const struct tgt_event *ev,
		       char *dst, size_t cap)
{
	struct rsp_stop st;
	memset(&st, 0, sizeof st);
	st.core = -1;
	switch (ev->kind) {
	case TGT_EV_EXITED:
		st.kind = RSP_STOP_EXITED;
		st.exit_code = ev->status;
		st.process = s->mp ? stub_ns_out(s, ev->pid) : 0;
		break;
	case TGT_EV_KILLED:
		st.kind = RSP_STOP_TERMINATED;
		st.sig = rsp_sig_from_host(ev->sig);
		st.process = s->mp ? stub_ns_out(s, ev->pid) : 0;
		break;
	default:
		st.kind = RSP_STOP_SIGNAL;
		st.sig = gdb_sig_for(s, ev);
		st.has_thread = true;
		st.thread = (struct rsp_ptid){ .pid = stub_ns_out(s, ev->pid ? ev->pid : s->pid),
					       .tid = stub_ns_out(s, ev->tid), .has_pid = s->mp };
		switch (ev->reason) {
		case TGT_REASON_SWBREAK:
			if (s->c_swbreak) st.reason = RSP_REASON_SWBREAK;
			break;
		case TGT_REASON_HWBREAK:
			if (s->c_hwbreak) st.reason = RSP_REASON_HWBREAK;
			break;
		case TGT_REASON_WATCH: st.reason = RSP_REASON_WATCH; st.reason_addr = ev->addr; break;
		case TGT_REASON_RWATCH: st.reason = RSP_REASON_RWATCH; st.reason_addr = ev->addr; break;
		case TGT_REASON_AWATCH: st.reason = RSP_REASON_AWATCH; st.reason_addr = ev->addr; break;
		default: break;
		}
		/* Expedite rbp, rsp, rip (gdb then needs no 'g' to show the frame,
		 * as with gdbserver), and rax, rbx, r14, fs_base: Go's register ABI
		 * keeps g in r14 and the first arguments in rax/rbx, so an analyzer
		 * at a runtime probe needs no register round trip at all. */
		static const unsigned exp[] = { RSP_AMD64_RBP, RSP_AMD64_RSP, RSP_AMD64_RIP,
						RSP_AMD64_RAX, RSP_AMD64_RBX, RSP_AMD64_R14,
						RSP_AMD64_FS_BASE };
		_Static_assert(sizeof exp / sizeof exp[0] <= RSP_STOP_MAX_REGS, "stop reply register slots");
		for (unsigned i = 0; i < sizeof exp / sizeof exp[0]; i++) {
			uint8_t b[8];
			if (s->ops->read_reg(s->tgt, ev->tid, exp[i], b) != 0) continue;
			uint64_t v = 0;
			for (int k = 7; k >= 0; k--) v = (v << 8) | b[k];
			st.regs[st.nregs].regno = exp[i];
			st.regs[st.nregs].value = v;
			st.nregs++;
		}
		break;
	}
	if (st.kind == RSP_STOP_SIGNAL && stub_name_disabled(s, "T")) {
		/* --disable-packet=T: the bare "S sig" form, as old stubs */
		int w = snprintf(dst, cap, "S%02x", (unsigned)st.sig & 0xff);
		return w > 0 && (size_t)w < cap ? (size_t)w : 0;
	}
	if (stub_name_disabled(s, "Tthread")) st.has_thread = false;
	size_t n = rsp_stop_encode(dst, cap, &st, s->mp);
	if (ev->kind == TGT_EV_EXEC && n >= 3) {
		/* "T05exec:HEX(path);..." — the codec has no path field, so the
		 * reason goes in here, after the signal number (E.3 "exec"). */
		char path[4096], ins[2 * sizeof path + 8];
		if (s->ops->exe_path(s->tgt, path, sizeof path) < 0) return 0;
		size_t pl = strnlen(path, sizeof path);
		memcpy(ins, "exec:", 5);
		size_t il = 5 + rsp_hex_encode(ins + 5, sizeof ins - 6, (const uint8_t *)path, pl);
		ins[il++] = ';';
		if (n + il > cap) return 0;
		memmove(dst + 3 + il, dst + 3, n - 3);
		memcpy(dst + 3, ins, il);
		n += il;
	}
	return n;
}

void stub_session_forget_process(struct stub_session *s)
{
	s->pidns = 0;
	s->nnsmap = 0;
	s->pid = 0;
	s->state = STUB_NOPROC;
	s->nswbps = 0;
	s->npending = 0;
	s->nqsig = 0;
	s->gthread = s->cthread = 0;
	s->interrupting = false;
	stub_thr_reset(s);
	stub_vfile_close_all(s);
}

/* Remember ev as the stop gdb now knows about. */
void stub_note_stop(struct stub_session *s, const struct tgt_event *ev)
{
	s->last = *ev;
	s->have_last = true;
	s->interrupting = false;
	if (ev->kind == TGT_EV_EXITED || ev->kind == TGT_EV_KILLED) {
		if (ev->kind == TGT_EV_EXITED)
			stub_say("\nChild exited with status %d\n", ev->status);
		else
			stub_say("\nChild terminated with signal = 0x%x (%s)\n",
				(unsigned)ev->sig, strsignal(ev->sig));
		stub_session_forget_process(s);
		return;
	}
	s->state = STUB_STOPPED;
	s->gthread = ev->tid;   /* as gdbserver: the reporting thread becomes current */
}

void stub_report(struct stub_session *s, const struct tgt_event *ev)
{
	size_t n = stub_stop_reply(s, ev, s->reply, STUB_REPLY_CAP);
	stub_note_stop(s, ev);
	stub_send_packet(s, s->reply, n);
}

size_t stub_report_now(struct stub_session *s, const struct tgt_event *ev, char *dst, size_t cap)
{
	size_t n = stub_stop_reply(s, ev, dst, cap);
	stub_note_stop(s, ev);
	return n;
}

/* ------------------------------------------------------------ pending stops */

static void drop_pending(struct stub_session *s, int i)
{
	memmove(&s->pending[i], &s->pending[i + 1], (size_t)(s->npending - i - 1) * sizeof s->pending[0]);
	s->npending--;
}

void stub_keep_pending(struct stub_session *s, const struct tgt_event *ev)
{
	if (ev->kind == TGT_EV_THREAD_EXITED) {
		for (int i = s->npending - 1; i >= 0; i--)
			if (s->pending[i].tid == ev->tid && s->pending[i].kind == TGT_EV_STOPPED)
				drop_pending(s, i);
		return;
	}
	if (ev->kind == TGT_EV_THREAD_CREATED || ev->kind == TGT_EV_EXEC || ev->kind == TGT_EV_NONE)
		return;
	if (ev->kind == TGT_EV_STOPPED && ev->reason == TGT_REASON_INTERRUPT) return;
	if (s->npending == STUB_MAX_PENDING) {
		/* Full: a breakpoint hit that is dropped re-executes (pc was
		 * rewound); anything else is lost, so say so. */
		fprintf(stderr, "gotap-stub: too many pending stops; dropping one for thread %d\n", ev->tid);
		return;
	}
	s->pending[s->npending++] = *ev;
}

bool stub_take_pending(struct stub_session *s, const pid_t *want, int n, struct tgt_event *ev)
{
	for (int i = 0; i < s->npending; i++) {
		struct tgt_event *p = &s->pending[i];
		if (p->kind == TGT_EV_STOPPED) {
			if (!s->ops->thread_alive(s->tgt, p->tid)) {
				drop_pending(s, i--);
				continue;
			}
			if (want) {
				bool in = false;
				for (int k = 0; k < n; k++) in |= want[k] == p->tid;
				if (!in) continue;
			}
			/* Judged only now that the thread is to run: gdb removes every
			 * breakpoint at each stop and reinserts them before resuming,
			 * so "removed" means something only at this moment.  A hit of
			 * a breakpoint that is gone is stale: the thread (pc rewound)
			 * executes the original instruction again, and the backend does
			 * not step over a breakpoint that is not inserted. */
			if (p->reason == TGT_REASON_SWBREAK && !stub_swbp_has(s, p->addr)) {
				drop_pending(s, i--);
				continue;
			}
		}
		*ev = *p;
		drop_pending(s, i);
		return true;
	}
	return false;
}

/* All-stop: a thread stopped (first, or NULL for ^C).  Stop the others,
 * keep what else happened as pending, report one stop. */
void stub_hand_back_signals(struct stub_session *s)
{
	/* Stops gdb never saw were taken from the backend into s->pending, so
	 * its detach cannot know them; and the signal of the last reported stop
	 * is the program's if gdb would pass it (QProgramSignals), as gdbserver
	 * decides in get_detach_signal().  Queue each again with tgkill: the
	 * thread is in a ptrace-stop, the signal arrives once it is detached. */
	for (int i = 0; i < s->npending; i++) {
		const struct tgt_event *p = &s->pending[i];
		if (p->kind != TGT_EV_STOPPED || p->reason != TGT_REASON_SIGNAL ||
		    p->sig <= 0 || p->sig == SIGTRAP || p->sig == SIGSTOP)
			continue;
		if (syscall(SYS_tgkill, s->pid, p->tid, p->sig) != 0 && errno != ESRCH)
			perror("gotap-stub: tgkill");
	}
	s->npending = 0;
	if (s->nonstop) {
		/* Non-stop: each stopped thread's own last stop (a thread resumed
		 * since has had its signal delivered or dropped by gdb's choice). */
		stub_thr_sync(s);
		for (int i = 0; i < s->nthr; i++) {
			const struct stub_thr *t = &s->thr[i];
			const struct tgt_event *l = &t->last;
			if (!t->stopped || l->kind != TGT_EV_STOPPED || l->reason != TGT_REASON_SIGNAL ||
			    l->sig <= 0 || l->sig > 64 || l->sig == SIGTRAP || l->sig == SIGSTOP ||
			    (s->program_set && !s->program[l->sig]))
				continue;
			if (syscall(SYS_tgkill, s->pid, t->tid, l->sig) != 0 && errno != ESRCH)
				perror("gotap-stub: tgkill");
		}
		for (int i = 0; i < s->nqsig; i++)
			if (syscall(SYS_tgkill, s->pid, s->qsig[i].tid, s->qsig[i].sig) != 0 && errno != ESRCH)
				perror("gotap-stub: tgkill");
		s->nqsig = 0;
		return;
	}
	/* Signals gdb already asked to deliver, still waiting for their
	 * thread to resume (see qsig in session.h). */
	const struct tgt_event *l = &s->last;
	bool last_queued = false;
	for (int i = 0; i < s->nqsig; i++) {
		if (s->qsig[i].tid == l->tid && s->qsig[i].sig == l->sig) last_queued = true;
		if (syscall(SYS_tgkill, s->pid, s->qsig[i].tid, s->qsig[i].sig) != 0 && errno != ESRCH)
			perror("gotap-stub: tgkill");
	}
	s->nqsig = 0;
	if (s->have_last && !last_queued && l->kind == TGT_EV_STOPPED && l->reason == TGT_REASON_SIGNAL &&
	    l->sig > 0 && l->sig <= 64 && l->sig != SIGTRAP && l->sig != SIGSTOP &&
	    (!s->program_set || s->program[l->sig]) && s->ops->thread_alive(s->tgt, l->tid)) {
		if (syscall(SYS_tgkill, s->pid, l->tid, l->sig) != 0 && errno != ESRCH)
			perror("gotap-stub: tgkill");
	}
}
