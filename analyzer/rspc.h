/* rspc.h — gotap's RSP client: one connection to a stub (gotap-stub or any
 * gdbserver-compatible one), over TCP, a Unix socket, or a stub gotap starts
 * itself on a socketpair (stdio transport, no port needed).
 *
 * Built on protocol/rsp.h.  Synchronous request/reply with a bounded receive
 * buffer; stop replies can be awaited with a timeout so the caller can also
 * watch for Ctrl-C.  Every call returns 0 (or a count) on success and a
 * negative value on failure, with a one-line reason in rspc_error().
 */
#ifndef GOTAP_RSPC_H
#define GOTAP_RSPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rsp.h"

struct rspc;

/* Connect to "HOST:PORT", ":PORT" (127.0.0.1), or "unix:PATH".
 * Returns NULL with a reason in err ("connection refused", ...). */
struct rspc *rspc_connect(const char *addr, char *err, size_t errlen);

/* Start `stub_path --once - ARGV...` (stdio transport) on a socketpair, or
 * with pid > 0 `stub_path --once --attach - PID`; the stub's stdin/stdout are
 * the socket, its stderr is inherited.  *stub_pid receives the child pid. */
struct rspc *rspc_spawn(const char *stub_path, char *const argv[], pid_t attach_pid,
			pid_t *stub_pid, char *err, size_t errlen);

/* Wrap an already connected stream socket (ownership passes to the client,
 * rspc_close closes it).  For transports made elsewhere, tests and fuzzing. */
struct rspc *rspc_from_fd(int fd, char *err, size_t errlen);

/* Where 'O' console output from the stub goes: an fd (default 1, stdout),
 * or -1 to drop it. */
void rspc_set_output(struct rspc *c, int fd);

/* Close the connection (does not detach: call rspc_detach first). */
void rspc_close(struct rspc *c);

const char *rspc_error(const struct rspc *c);

/* Set the connection's error message (for layers built on rspc that judge
 * a reply themselves).  Always returns -1. */
int rspc_fail_msg(struct rspc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* qSupported + QStartNoAckMode (if offered) + '?' : fills *initial with the
 * initial stop reply.  Call once after connecting. */
int rspc_handshake(struct rspc *c, struct rsp_stop *initial);

/* Send one packet and wait for its reply (up to cap bytes copied into reply,
 * NUL-terminated; returns the reply length).  For packets that are not
 * resumptions.  An 'E' reply is returned as is (the caller decides). */
long rspc_request(struct rspc *c, const char *pkt, char *reply, size_t cap);

/* rspc_request without the copy, for a bulk reply decoded at once
 * (qTBuffer): *reply points at the reply in the connection's receive
 * buffer (binary, not NUL-terminated), valid until the next call on c.
 * Returns the reply length or -1. */
long rspc_request_view(struct rspc *c, const char *pkt, const uint8_t **reply);

/* Was feature "name" offered by the stub's qSupported ("multiprocess",
 * "QNonStop", "PacketSize" ...)?  For PacketSize use rspc_packet_size(). */
bool rspc_has_feature(const struct rspc *c, const char *name);
size_t rspc_packet_size(const struct rspc *c);

/* Memory: read len bytes at addr in as few packets as PacketSize allows
 * ('x' binary reads when supported, else 'm').  Returns bytes read (short at
 * an unmapped page), or negative on a transport failure. */
long rspc_read_mem(struct rspc *c, uint64_t addr, void *buf, size_t len);
int rspc_write_mem(struct rspc *c, uint64_t addr, const void *buf, size_t len);

/* Registers of thread tid (0 = current): one 'g' (after Hg if needed),
 * decoded into the amd64 numbering (64-bit values for regs 0..23 and
 * fs_base/gs_base).  Or a single register via 'p'.
 *
 * Registers are cached for the current stop: the ones the stop reply
 * expedited (gdbserver: rbp, rsp, rip) are known without a packet, and
 * whatever 'p'/'g' read stays known until the next resumption (rspc_resume,
 * or any packet through rspc_request other than q/m/x/p/g/?).  After a stop
 * reply naming thread T, T is taken as the stub's current thread (gdbserver
 * and gotap-stub do that, and gdb relies on it), so no Hg is sent for it.
 * A stub without 'p' is read with 'g'. */
int rspc_read_regs(struct rspc *c, int64_t tid, uint64_t regs[RSP_AMD64_NREGS]);
int rspc_read_reg(struct rspc *c, int64_t tid, unsigned regno, uint64_t *val);

/* Several registers of thread tid into vals[0..n): from the cache, else one
 * 'p' if a single one is missing, else one 'g'.  0 or -1. */
int rspc_read_regs_some(struct rspc *c, int64_t tid, const unsigned *regnos, unsigned n,
			uint64_t *vals);

/* Is register regno of tid (0 = current) known at this stop without a
 * packet?  Then *val has it. */
bool rspc_reg_cached(const struct rspc *c, int64_t tid, unsigned regno, uint64_t *val);

/* Z0/z0 software breakpoints (and Z1..Z4 with kind). */
int rspc_insert_bp(struct rspc *c, int type, uint64_t addr, unsigned kind);
int rspc_remove_bp(struct rspc *c, int type, uint64_t addr, unsigned kind);

/* QPassSignals with the given Linux signal numbers. */
int rspc_pass_signals(struct rspc *c, const int *sigs, int n);

/* Resume: vCont;c (or 'c') / with a signal for the thread that stopped with
 * it: "vCont;C<sig>:<tid>;c".  Does not wait. */
int rspc_resume(struct rspc *c, int64_t sig_tid, int gdb_sig);

/* Wait for the stop reply that follows a resume.  timeout_ms -1 = forever.
 * Returns 1 with *st filled, 0 on timeout, negative on error/EOF.
 * 'O' console-output packets are consumed and written to stdout. */
int rspc_wait_stop(struct rspc *c, struct rsp_stop *st, int timeout_ms);

/* "p<pid>.<tid>" (multiprocess, pid known from a stop reply) or "<tid>", hex,
 * as vCont and H packets name a thread.  Returns the length written (0 if it
 * does not fit; dst is NUL-terminated when cap > 0). */
size_t rspc_fmt_ptid(const struct rspc *c, int64_t tid, char *dst, size_t cap);

/* All-stop: resume thread tid alone, the others staying stopped, and wait for
 * the stop that follows: "vCont;<action>[sig]:<ptid>" with action 's' or 'c',
 * or 'S'/'C' with gdb_sig.  Console output ('O') that comes before the stop is
 * written as rspc_wait_stop does.  Returns 0 with *st, or -1 (reason in
 * rspc_error: transport failure, no stop within 60 s, or a reply that is no
 * stop reply). */
int rspc_resume_thread(struct rspc *c, char action, int gdb_sig, int64_t tid,
		       struct rsp_stop *st);

/* Non-stop mode (GDB manual E.10 "Remote Non-Stop", E.9 "Notification
 * Packets").  rspc_set_nonstop sends QNonStop:1/0 (stub must offer
 * QNonStop+); 0, or -1 if refused.  In non-stop mode resumptions answer "OK"
 * at once and stops come as "%Stop:" notifications, which may arrive at any
 * time, also between a request and its reply: rspc keeps them (any request
 * may be sent while threads run: m, qTBuffer, ...).
 *
 * rspc_resume_ns: "vCont;c" (tid <= 0: every thread), "vCont;c:<ptid>", or
 *   with gdb_sig "vCont;C<sig>:<ptid>"; expects "OK".  0 or -1.
 * rspc_next_stop_ns: the next stop event: from the queue, else from a kept
 *   or arriving %Stop notification, which is then acknowledged with vStopped
 *   until "OK" (every stop so taken is queued).  Waits at most timeout_ms
 *   (0: only what is already here, -1: forever).  Returns 1 with *st, 0 on
 *   timeout, -1 on error.  Console output notifications are written as in
 *   all-stop. */
int rspc_set_nonstop(struct rspc *c, bool on);
bool rspc_is_nonstop(const struct rspc *c);
int rspc_resume_ns(struct rspc *c, int64_t tid, int gdb_sig);
int rspc_next_stop_ns(struct rspc *c, struct rsp_stop *st, int timeout_ms);

/* Send the interrupt byte (0x03) to stop a running target. */
int rspc_interrupt(struct rspc *c);

/* 'D' (detach: target runs on) and 'k'/vKill. */
int rspc_detach(struct rspc *c);
int rspc_kill(struct rspc *c);

/* qXfer:auxv:read (whole object into buf); returns length or negative. */
long rspc_read_auxv(struct rspc *c, uint8_t *buf, size_t cap);
/* qXfer:exec-file:read (NUL-terminated path); 0 or negative. */
int rspc_exec_file(struct rspc *c, char *buf, size_t cap);

/* The underlying fd (for poll()). */
int rspc_fd(const struct rspc *c);

/* Packets sent on this connection so far (resends not counted): lets tests
 * and benchmarks check that bulk reads really take few round trips. */
unsigned long rspc_packets_sent(const struct rspc *c);

/* Host I/O (GDB manual E.9 "Host I/O Packets"): files as the stub sees them,
 * the way gdb's "target:" sysroot reads the executable.  gotap uses these to
 * fetch a binary it has no local copy of.
 *
 * rspc_vfile_setfs: "vFile:setfs:PID" (0 = the stub's own filesystem, a pid =
 *   that process's mount namespace).  Returns 0, 1 when the stub does not
 *   know the packet (then paths are the stub's own), -1 on error.
 * rspc_vfile_open: "vFile:open:" read-only (flags 0, mode 0).  Returns the
 *   remote fd (>= 0) or -1; *err_no gets the stub's errno (GDB File-I/O
 *   numbering mapped back to Linux: ENOENT, EACCES...), ENOSYS when the stub
 *   has no host I/O, 0 for a transport failure.  err_no may be NULL.
 * rspc_vfile_pread: read up to len bytes at off with "vFile:pread:" pieces
 *   as large as PacketSize allows; returns the bytes read (short only at end
 *   of file) or -1.
 * rspc_vfile_close: "vFile:close:"; 0 or -1. */
int rspc_vfile_setfs(struct rspc *c, int64_t pid);
int rspc_vfile_open(struct rspc *c, const char *path, int *err_no);
long rspc_vfile_pread(struct rspc *c, int fd, void *buf, size_t len, uint64_t off);
int rspc_vfile_close(struct rspc *c, int fd);

#endif /* GOTAP_RSPC_H */
