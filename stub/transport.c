/* transport.c — TCP, Unix-socket and stdio transports for gotap-stub.
 *
 * See transport.h for the COMM syntax.  Messages printed on stderr follow
 * gdbserver's wording, because IDE launchers wait for them
 * ("Listening on port N", "Remote debugging from host H, port P").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "say.h"
#include "transport.h"

static int stdio_in = -1, stdio_out = -1;   /* moved copies of fds 0 and 1 */

static ssize_t fd_read(struct stub_transport *t, void *buf, size_t n)
{
	ssize_t r = read(t->rfd, buf, n);
	return r < 0 ? -errno : r;
}

static ssize_t sock_read_nowait(struct stub_transport *t, void *buf, size_t n)
{
	ssize_t r = recv(t->rfd, buf, n, MSG_DONTWAIT);   /* EWOULDBLOCK is EAGAIN on Linux */
	return r < 0 ? -errno : r;
}

static bool is_socket(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int fd_write(struct stub_transport *t, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		/* send() with MSG_NOSIGNAL on sockets; write() on pipes (SIGPIPE
		 * has a no-op handler in main.c, so EPIPE comes back here). */
		ssize_t w = send(t->wfd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK) w = write(t->wfd, p, n);
		if (w < 0) {
			if (errno == EINTR) continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void fd_close(struct stub_transport *t)
{
	if (t->rfd >= 0 && close(t->rfd) != 0) perror("gotap-stub: close");
	if (t->wfd >= 0 && t->wfd != t->rfd && close(t->wfd) != 0) perror("gotap-stub: close");
	t->rfd = t->wfd = -1;
}

int stub_stdio_prepare(void)
{
	if (stdio_in >= 0) return 0;
	stdio_in = fcntl(0, F_DUPFD_CLOEXEC, 3);
	if (stdio_in < 0) return -errno;
	stdio_out = fcntl(1, F_DUPFD_CLOEXEC, 3);
	if (stdio_out < 0) return -errno;
	int nul = open("/dev/null", O_RDONLY);
	if (nul < 0) return -errno;
	if (dup2(nul, 0) < 0 || dup2(2, 1) < 0) {
		int e = errno;
		close(nul);
		return -e;
	}
	if (nul != 0 && close(nul) != 0) return -errno;
	return 0;
}

static int listen_unix(const char *path, struct stub_listener *l, char *err, size_t errcap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) == 0 || strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errcap, "Bad unix socket path: %s", path);
		return -EINVAL;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errcap, "Can't open socket: %s.", strerror(errno));
		return -errno;
	}
	/* A stale socket file (nobody accepting) is replaced; a live one is "in use". */
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0) {
			int live = connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
			close(probe);
			if (!live && unlink(path) != 0) {
				snprintf(err, errcap, "Can't remove stale socket %s: %s.", path, strerror(errno));
				close(fd);
				return -EADDRINUSE;
			}
		}
	}
	mode_t old = umask(0177);   /* created 0600: only our user may connect */
	int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	int e = errno;
	umask(old);
	if (r != 0) {
		snprintf(err, errcap, "Can't bind address: %s.", strerror(e));
		close(fd);
		return -e;
	}
	if (chmod(path, 0600) != 0 || listen(fd, 1) != 0) {
		e = errno;
		snprintf(err, errcap, "Can't listen on %s: %s.", path, strerror(e));
		close(fd);
		unlink(path);
		return -e;
	}
	l->kind = STUB_COMM_UNIX;
	l->fd = fd;
	snprintf(l->path, sizeof l->path, "%s", path);
	stub_say("Listening on %s\n", path);
	return 0;
}

static int listen_tcp(const char *comm, struct stub_listener *l, char *err, size_t errcap)
{
	const char *colon = strrchr(comm, ':');
	char host[256];
	if (!colon) {
		snprintf(err, errcap, "Bad COMM '%s': expected HOST:PORT, :PORT, unix:PATH or -", comm);
		return -EINVAL;
	}
	size_t hl = (size_t)(colon - comm);
	if (hl >= sizeof host) {
		snprintf(err, errcap, "Host name too long: %s", comm);
		return -EINVAL;
	}
	memcpy(host, comm, hl);
	host[hl] = 0;
	/* "[::1]:PORT" */
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
	}
	const char *port = colon + 1;
	char *end;
	long pn = strtol(port, &end, 10);
	if (*port == 0 || *end != 0 || pn < 0 || pn > 65535) {
		snprintf(err, errcap, "Bad port argument: %s", port);
		return -EINVAL;
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res;
	/* ":PORT" means loopback only, unlike gdbserver. */
	int g = getaddrinfo(hl ? host : "127.0.0.1", port, &hints, &res);
	if (g != 0) {
		snprintf(err, errcap, "Can't resolve %s: %s", hl ? host : "127.0.0.1", gai_strerror(g));
		return -EINVAL;
	}
	int e = EADDRNOTAVAIL, fd = -1;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) { e = errno; continue; }
		int one = 1;
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
		    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1) != 0) {
			e = errno;
			close(fd);
			fd = -1;
			continue;
		}
		break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errcap, "Can't bind address: %s.", strerror(e));
		return -e;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		e = errno;
		close(fd);
		snprintf(err, errcap, "getsockname: %s", strerror(e));
		return -e;
	}
	l->kind = STUB_COMM_TCP;
	l->fd = fd;
	l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	stub_say("Listening on port %d\n", l->port);
	return 0;
}

int stub_listen(const char *comm, struct stub_listener *l, char *err, size_t errcap)
{
	memset(l, 0, sizeof *l);
	l->fd = -1;
	err[0] = 0;
	if (strcmp(comm, "-") == 0) {
		l->kind = STUB_COMM_STDIO;
		return 0;
	}
	if (strncmp(comm, "unix:", 5) == 0) return listen_unix(comm + 5, l, err, errcap);
	if (strncmp(comm, "tcp:", 4) == 0) comm += 4;
	return listen_tcp(comm, l, err, errcap);
}

int stub_accept(struct stub_listener *l, struct stub_transport *t)
{
	t->read = fd_read;
	t->write = fd_write;
	t->close = fd_close;
	t->read_nowait = sock_read_nowait;
	if (l->kind == STUB_COMM_STDIO) {
		int r = stub_stdio_prepare();
		if (r < 0) return r;
		if (stdio_in < 0) return -EBADF;   /* already handed out and closed */
		t->rfd = stdio_in;
		t->wfd = stdio_out;
		stdio_in = stdio_out = -1;
		if (!is_socket(t->rfd)) t->read_nowait = NULL;   /* gotap passes a socketpair */
		stub_say("Remote debugging using stdio\n");
		return 0;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0) return -errno;   /* -EINTR: a signal; the caller decides */
	t->rfd = t->wfd = fd;
	if (l->kind == STUB_COMM_TCP) {
		int one = 1;
		/* Every RSP exchange is a small request/reply: no Nagle delay. */
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
			perror("gotap-stub: TCP_NODELAY");
		char host[INET6_ADDRSTRLEN] = "?";
		int port = 0;
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
			port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
			port = ntohs(in6->sin6_port);
		}
		stub_say("Remote debugging from host %s, port %d\n", host, port);
	} else {
		stub_say("Remote debugging using %s\n", l->path);
	}
	return 0;
}

void stub_listener_close(struct stub_listener *l)
{
	if (l->fd >= 0) {
		if (close(l->fd) != 0) perror("gotap-stub: close");
		l->fd = -1;
	}
	if (l->kind == STUB_COMM_UNIX && l->path[0]) {
		if (unlink(l->path) != 0 && errno != ENOENT) perror("gotap-stub: unlink");
		l->path[0] = 0;
	}
}
