/* transport.h — how gotap-stub talks to its client: TCP, Unix socket or stdio.
 *
 * A transport is a small struct of function pointers over one or two file
 * descriptors, so the session's event loop can poll() rfd and never cares
 * which kind it is.  A listener turns a COMM argument (gdbserver syntax) into
 * a bound socket; accepting on it yields a transport.
 *
 * COMM forms:
 *   HOST:PORT   TCP on that address (0.0.0.0:PORT for every interface)
 *   :PORT       TCP on 127.0.0.1 only (gdbserver binds every interface; we
 *               do not: a debug stub gives its client full control)
 *   unix:PATH   Unix stream socket created with mode 0600
 *   -           stdin/stdout (gdb: target remote | gotap-stub - PROG)
 * PORT 0 picks a free port; the listener reports the one it got.
 *
 * Every descriptor is close-on-exec so the debugged program never inherits
 * the client connection.
 */
#ifndef GOTAP_STUB_TRANSPORT_H
#define GOTAP_STUB_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct stub_transport {
	int rfd;            /* poll() this for input */
	int wfd;            /* written to (== rfd for sockets) */
	/* Read up to n bytes; returns count, 0 at end of stream, -errno on error
	 * (-EAGAIN/-EINTR mean "try later"). */
	ssize_t (*read)(struct stub_transport *t, void *buf, size_t n);
	/* Write all n bytes (loops over short writes); 0 or -errno. */
	int (*write)(struct stub_transport *t, const void *buf, size_t n);
	/* Close the descriptors; safe to call twice. */
	void (*close)(struct stub_transport *t);
	/* Read what is there without ever blocking (-EAGAIN when nothing is),
	 * as read() otherwise; NULL when the descriptor cannot do that per call
	 * (a pipe or tty: O_NONBLOCK would change it for everyone sharing it).
	 * The session uses it when its watcher thread said "readable"
	 * (session_wake.h), which a read in between may have made stale. */
	ssize_t (*read_nowait)(struct stub_transport *t, void *buf, size_t n);
};

enum stub_comm_kind { STUB_COMM_TCP, STUB_COMM_UNIX, STUB_COMM_STDIO };

struct stub_listener {
	enum stub_comm_kind kind;
	int fd;              /* listening socket, -1 for stdio */
	int port;            /* TCP: the bound port (after port 0 resolution) */
	char path[108];      /* unix: socket path (removed by stub_listener_close) */
};

/* Parse COMM and, for sockets, bind and listen.  On failure returns -errno
 * and writes a gdbserver-style message into err (e.g. "Can't bind address:
 * Address already in use."). */
int stub_listen(const char *comm, struct stub_listener *l, char *err, size_t errcap);

/* Wait for one client and make *t talk to it.  For TCP/unix prints
 * "Remote debugging from host H, port P" (or the unix path) on stderr; for
 * stdio it takes over fds 0 and 1 (they are moved to new close-on-exec fds,
 * fd 0 becomes /dev/null and fd 1 a copy of stderr, so the program's output
 * cannot corrupt the protocol stream).  Returns 0 or -errno. */
int stub_accept(struct stub_listener *l, struct stub_transport *t);

/* Stop listening; removes a unix socket file. */
void stub_listener_close(struct stub_listener *l);

/* Move stdin/stdout out of the way (see stub_accept).  Call before the
 * program is launched in stdio mode so it inherits /dev/null and stderr. */
int stub_stdio_prepare(void);

#endif /* GOTAP_STUB_TRANSPORT_H */
