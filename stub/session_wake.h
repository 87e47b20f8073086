/* session_wake.h — hear the client while the tracer thread blocks in wait4.
 *
 * Issue 6: while threads run and the client is quiet (a trace run, non-stop,
 * an all-stop vCont outstanding) the session waits for target events in the
 * backend's own blocking wait (tgt_ops.wait_event: wait4), so a tracepoint
 * hit costs one wait4 plus the ptrace calls of the collection, instead of
 * poll + signalfd read + three wait4.  Client input must still be served
 * at once: a watcher thread poll()s the client fd (it never reads it and
 * never calls ptrace: only the tracer thread may) and, when it is readable,
 * sets the wait gate's stop flag and interrupts the wait with a signal (see
 * session_wake.c for the race this closes).  The session serves the client
 * and then calls stub_wake_done(), which lets the watcher look again.
 *
 * One watcher per session, started the first time stub_wake_arm() is
 * called, joined by stub_wake_free() before the transport is closed.
 */
#ifndef GOTAP_STUB_SESSION_WAKE_H
#define GOTAP_STUB_SESSION_WAKE_H

#include <stdbool.h>

#include "target.h"

struct stub_wake;

/* Watch fd for the calling thread (which must be the one that will block
 * in wait_event: it is the one signalled).  Starts the watcher on first
 * use.  Returns the gate to hand to wait_event, or NULL when no watcher can
 * run (thread or eventfd creation failed: the caller then waits in poll(),
 * as without wait_event).  *w is allocated on first use. */
struct tgt_wait_gate *stub_wake_arm(struct stub_wake **w, int fd);
/* The caller waits in poll() on the client itself for a while: the watcher
 * stops looking (no syscall here; it parks when it next wakes). */
void stub_wake_disarm(struct stub_wake *w);
/* Has the watcher seen the client readable (and not been told done)? */
bool stub_wake_pending(const struct stub_wake *w);
/* The client was read and served: clear the flag, let the watcher poll
 * again (one eventfd write, only when the flag was set).  NULL-safe. */
void stub_wake_done(struct stub_wake *w);
/* Stop and join the watcher, release everything; *w becomes NULL. */
void stub_wake_free(struct stub_wake **w);

#endif /* GOTAP_STUB_SESSION_WAKE_H */
