/* rspc.c — gotap's RSP client: transports (TCP, Unix socket, a stub spawned
 * on a socketpair), the ack protocol, and the typed requests gotap needs.
 *
 * One connection, synchronous: send a packet, read until its reply.  Receive
 * goes through protocol/'s incremental parser, fed from a read buffer, so a
 * reply split over many reads (or several replies in one read) is handled the
 * same way.  Acks (GDB manual E.11 "Packet Acknowledgment"): until
 * QStartNoAckMode succeeds every packet we receive is answered '+' (or '-' if
 * its checksum is bad), a '-' from the stub makes us resend our last packet,
 * and a stray '+' is ignored.  Memory is read in as few packets as the stub's
 * PacketSize allows, never one round trip per word.  Registers are cached for
 * the current stop (expedited ones cost no packet) and the stopped thread is
 * taken as the stub's current one (no Hg).  A complete unescaped packet in
 * the read buffer is taken whole (memchr), not byte by byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rspc.h"
#include "rsp_scan.h"  /* the protocol library's bulk scanners (header-only) */

/* A request gets its reply within this time or the stub is declared hung. */
#define RSPC_REPLY_TIMEOUT_MS 60000
/* Give up after this many '-' for the same packet. */
#define RSPC_MAX_RESENDS 16
/* Bytes of framing and command text we keep free in a packet. */
#define RSPC_PKT_OVERHEAD 64

struct rspc {
	int fd;
	bool noack;             /* QStartNoAckMode accepted */
	bool multiprocess;      /* both sides said multiprocess+ */
	bool vcont, vcont_sig;  /* vCont;c / vCont;C supported */
	int x_write;            /* 'X' binary write: -1 unknown, 0 no, 1 yes */
	bool x_read;            /* 'x' binary read (binary-upload+) */
	size_t packet_size;
	int64_t pid;            /* from stop replies (multiprocess), 0 if unknown */
	int64_t hg_tid;         /* thread selected with Hg, 0 if none yet */
	/* Registers of one thread known at this stop (expedited in the stop
	 * reply, or read with 'p'/'g'); forgotten when the target resumes. */
	int64_t rc_tid;         /* 0 = nothing cached */
	bool rc_all;            /* a whole 'g' is cached */
	bool p_unsupported;     /* the stub answered 'p' with an empty reply */
	bool parser_idle;       /* the parser is between packets (fast path allowed) */
	uint8_t rc_known[RSP_AMD64_NREGS];
	uint64_t rc_val[RSP_AMD64_NREGS];
	int out_fd;             /* where 'O' output goes, -1 to drop it */
	/* Non-stop: the %Stop notification not taken yet (the stub sends the
	 * next one only after vStopped has drained its queue), and the stops
	 * taken with vStopped, not handed out yet. */
	bool nonstop;
	bool notif_wanted;      /* recv_packet returns 2 on a notification */
	uint8_t *notif;
	size_t notif_len, notif_cap;
	bool have_notif;
	struct rsp_stop *sq;
	size_t sq_head, sq_len, sq_cap;
	unsigned long sent;     /* packets sent (not counting resends) */
	char *features;         /* qSupported reply, NUL-terminated */
	struct rsp_parser parser;
	uint8_t rx[RSP_PACKET_SIZE];   /* the parser's payload buffer */
	/* Payload of the last packet received: in c->in when the fast path
	 * took it whole (no copy), else in c->rx.  Valid until the next
	 * receive. */
	const uint8_t *pl;
	size_t pl_len;
	/* Fast path, packet not complete yet: how much of its payload was
	 * scanned (no special byte there) and that part's sum, so the next
	 * read does not scan it again. */
	size_t fp_scanned;
	unsigned fp_sum;
	uint8_t in[2 * RSP_PACKET_SIZE + 64]; /* raw bytes read, not parsed yet */
	size_t in_off, in_len;
	uint8_t *tx;                   /* last frame sent (for resends) */
	size_t tx_len, tx_cap;
	char err[256];
};

static int fail(struct rspc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void hexv_init(void);
static void scan_init(void);
static void regcache_forget(struct rspc *c);

static int fail(struct rspc *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return -1;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0) return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ transport */

static struct rspc *rspc_new(int fd, char *err, size_t errlen)
{
	struct rspc *c = calloc(1, sizeof *c);
	if (!c) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	c->tx_cap = 2 * RSP_PACKET_SIZE + 8;
	c->tx = malloc(c->tx_cap);
	if (!c->tx) {
		free(c);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = fd;
	c->out_fd = 1;
	c->x_write = -1;
	c->packet_size = 0x3fff;   /* until qSupported says otherwise */
	c->parser_idle = true;
	hexv_init();
	scan_init();
	rsp_parser_init(&c->parser, c->rx, sizeof c->rx);
	return c;
}

static int write_all(struct rspc *c, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR) continue;
			if (errno == ENOTSOCK) k = write(c->fd, p, n);
			if (k < 0) {
				if (errno == EINTR) continue;
				return fail(c, "cannot write to the stub: %s", strerror(errno));
			}
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Read more raw bytes, waiting at most timeout_ms (-1 forever).
 * Returns 1 if bytes arrived, 0 on timeout, -1 on error or EOF. */
static int fill(struct rspc *c, int timeout_ms)
{
	if (c->in_off == c->in_len) c->in_off = c->in_len = 0;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int r;
	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR && timeout_ms < 0);
	if (r < 0) {
		if (errno == EINTR) return 0;   /* a signal: let the caller look */
		return fail(c, "poll: %s", strerror(errno));
	}
	if (r == 0) return 0;
	ssize_t k;
	do {
		k = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
	} while (k < 0 && errno == EINTR);
	if (k < 0) return fail(c, "cannot read from the stub: %s", strerror(errno));
	if (k == 0) return fail(c, "the stub closed the connection");
	c->in_len += (size_t)k;
	return 1;
}

/* Hex digit value, -1 if not one (a table: memory replies are mostly hex). */
static signed char hexv[256];
static bool hexv_ready;

static void hexv_init(void)
{
	if (hexv_ready) return;
	for (int i = 0; i < 256; i++) hexv[i] = -1;
	for (int i = 0; i < 10; i++) hexv['0' + i] = (signed char)i;
	for (int i = 0; i < 6; i++) {
		hexv['a' + i] = (signed char)(10 + i);
		hexv['A' + i] = (signed char)(10 + i);
	}
	hexv_ready = true;
}

/* Decode 2n hex digits at src into n bytes; -1 if one is not hex. */
static int unhex(uint8_t *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexv[src[2 * i]], lo = hexv[src[2 * i + 1]];
		if ((hi | lo) < 0) return -1;
		dst[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* The index of the first '#', '$', '}' or '*' in s[0..n) (n if none), and
 * *sum plus the bytes before it, mod 256, in one pass over the data
 * (rsp_scan.h rsp_plain_run, 16 bytes a step with SSE2); scan_sum below
 * picks AVX2 (32) when the CPU has it. */
static size_t scan_sum_sse2(const uint8_t *s, size_t n, unsigned *sum)
{
	uint8_t b = (uint8_t)*sum;
	size_t i = rsp_plain_run(NULL, s, n, &b);
	*sum = b;
	return i;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define RSPC_AVX2 1

__attribute__((target("avx2")))
static size_t scan_sum_avx2(const uint8_t *s, size_t n, unsigned *sum)
{
	size_t i = 0;
	const __m256i h = _mm256_set1_epi8('#'), d = _mm256_set1_epi8('$');
	const __m256i e = _mm256_set1_epi8('}'), r = _mm256_set1_epi8('*');
	const __m256i zero = _mm256_setzero_si256();
	__m256i acc = zero;
	for (; n - i >= 32; i += 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
		__m256i m = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, h), _mm256_cmpeq_epi8(v, d)),
					    _mm256_or_si256(_mm256_cmpeq_epi8(v, e), _mm256_cmpeq_epi8(v, r)));
		if (_mm256_movemask_epi8(m) != 0)
			break;   /* the SSE2 scan finds it */
		acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, zero));
	}
	uint64_t lanes[4];
	_mm256_storeu_si256((__m256i *)(void *)lanes, acc);
	*sum = (unsigned)((*sum + lanes[0] + lanes[1] + lanes[2] + lanes[3]) & 0xff);
	return i + scan_sum_sse2(s + i, n - i, sum);
}
#endif

/* scan_sum_sse2, or scan_sum_avx2 once scan_init saw the CPU has AVX2. */
static size_t (*scan_sum)(const uint8_t *s, size_t n, unsigned *sum) = scan_sum_sse2;

static void scan_init(void)
{
#ifdef RSPC_AVX2
	if (__builtin_cpu_supports("avx2"))
		scan_sum = scan_sum_avx2;
#endif
}

/* Fast path of the receiver: a whole "$payload#xx" at c->in[c->in_off]
 * without escapes or run-length encoding (every hex reply, most others) is
 * taken after one SSE2 pass (find the end, checksum) instead of the
 * byte-at-a-time state machine (which took a third of gotap's CPU).  Only
 * when the parser is between packets.  Returns 1 with the payload at c->pl[0..c->pl_len),
 * -1 if the packet is not complete in the buffer yet, 0 if the parser must
 * handle it (escapes, a bad checksum, too long).  The payload is not copied:
 * c->pl points at it in c->in, which only the next receive reuses (a 64 KiB
 * trace-buffer reply used to be copied twice before it was decoded). */
static int fast_packet(struct rspc *c)
{
	const uint8_t *p = c->in + c->in_off;
	size_t avail = c->in_len - c->in_off;
	size_t done = c->fp_scanned;   /* of this packet, by the last call */
	unsigned sum = c->fp_sum;
	c->fp_scanned = 0;
	c->fp_sum = 0;
	if (!c->parser_idle || avail == 0 || p[0] != '$') return 0;
	if (done >= avail) done = sum = 0;   /* cannot happen; never trust it */
	/* one pass finds the '#', proves there is no '}', '*' or '$' before
	 * it and sums the payload */
	size_t k = done + scan_sum(p + 1 + done, avail - 1 - done, &sum);
	if (k == avail - 1) {
		if (avail - 1 > 2 * sizeof c->rx) return 0;
		c->fp_scanned = k;
		c->fp_sum = sum;
		return -1;
	}
	if (p[1 + k] != '#') return 0;
	const uint8_t *h = p + 1 + k;
	size_t n = k;
	if ((size_t)(h - p) + 3 > avail) {
		c->fp_scanned = k;   /* the '#' is found again at once */
		c->fp_sum = sum;
		return -1;
	}
	if (n > sizeof c->rx) return 0;
	const uint8_t *d = p + 1;
	int hi = hexv[h[1]], lo = hexv[h[2]];
	if ((hi | lo) < 0 || (uint8_t)(hi << 4 | lo) != sum) return 0;
	c->pl = d;
	c->pl_len = n;
	c->in_off += n + 4;
	return 1;
}

/* Keep the notification just parsed (c->pl) for rspc_next_stop_ns.  A
 * "%Stop:" while one is kept is a repeat of it (a stub may re-send until
 * vStopped): dropped.  Other kinds are ignored, as the manual allows. */
static int keep_notification(struct rspc *c)
{
	size_t n = c->pl_len;
	if (n < 5 || memcmp(c->pl, "Stop:", 5) != 0 || c->have_notif) return 0;
	if (n > c->notif_cap) {
		uint8_t *p = realloc(c->notif, n);
		if (!p) return fail(c, "out of memory");
		c->notif = p;
		c->notif_cap = n;
	}
	memcpy(c->notif, c->pl, n);
	c->notif_len = n;
	c->have_notif = true;
	return 0;
}

/* Next packet from the stub (payload at c->pl[0..c->pl_len), valid until
 * the next receive).
 * Acks, naks and resends are handled here.  Returns 1 with a packet, 0 on
 * timeout, -1 on error; 2 when a notification was kept and notif_wanted
 * is set (else notifications are kept and the wait goes on). */
static int recv_packet(struct rspc *c, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	int naks = 0, corrupt = 0;
	for (;;) {
		while (c->in_off < c->in_len) {
			int f = fast_packet(c);
			if (f > 0) {
				if (!c->noack && write_all(c, "+", 1) < 0) return -1;
				return 1;
			}
			if (f < 0) {
				/* incomplete: keep it at the start of the buffer and
				 * read the rest (the buffer holds any whole packet) */
				if (c->in_off > 0) {
					memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
					c->in_len -= c->in_off;
					c->in_off = 0;
				}
				if (c->in_len < sizeof c->in) break;
			}
			enum rsp_event ev;
			size_t k = rsp_parser_feed(&c->parser, c->in + c->in_off,
						   c->in_len - c->in_off, &ev);
			c->in_off += k;
			c->parser_idle = ev != RSP_EV_NONE;
			c->fp_scanned = 0;   /* the parser took over that packet */
			c->fp_sum = 0;
			c->pl = c->rx;
			c->pl_len = c->parser.len;
			switch (ev) {
			case RSP_EV_NONE:
			case RSP_EV_ACK:          /* stray or expected '+': nothing to do */
			case RSP_EV_INTERRUPT:    /* meaningless from a stub */
				break;
			case RSP_EV_NOTIFICATION: /* non-stop: never acked (E.9) */
				if (keep_notification(c) < 0) return -1;
				if (c->notif_wanted) return 2;
				break;
			case RSP_EV_NAK:
				if (c->noack || c->tx_len == 0) break;
				if (++naks > RSPC_MAX_RESENDS)
					return fail(c, "the stub rejected our packet %d times", naks - 1);
				if (write_all(c, c->tx, c->tx_len) < 0) return -1;
				break;
			case RSP_EV_PACKET:
				if (!c->noack && write_all(c, "+", 1) < 0) return -1;
				return 1;
			case RSP_EV_BAD_CHECKSUM:
			case RSP_EV_BAD_FORMAT:
				if (c->noack)
					return fail(c, "the stub sent a corrupt packet");
				/* ask again, but not forever (found by fuzz_rspc:
				 * a stub answering every '-' with garbage) */
				if (++corrupt > RSPC_MAX_RESENDS)
					return fail(c, "the stub sent %d corrupt packets in a row", corrupt);
				if (write_all(c, "-", 1) < 0) return -1;
				break;
			case RSP_EV_TOO_LONG:
				if (!c->noack && write_all(c, "+", 1) < 0) return -1;
				return fail(c, "the stub sent a packet longer than %zu bytes",
					    sizeof c->rx);
			}
		}
		int left = -1;
		if (timeout_ms >= 0) {
			int64_t l = deadline - now_ms();
			left = l <= 0 ? 0 : l > 1000000 ? 1000000 : (int)l;
		}
		int r = fill(c, left);
		if (r < 0) return -1;
		if (r == 0 && left == 0) return 0;   /* deadline passed, nothing pending */
	}
}

/* Frame and send payload[0..n); remembered for resends. */
static int send_packet(struct rspc *c, const void *payload, size_t n)
{
	size_t f = rsp_frame(c->tx, c->tx_cap, payload, n, false);
	if (f == 0) return fail(c, "packet of %zu bytes too large to send", n);
	c->tx_len = f;
	c->sent++;
	return write_all(c, c->tx, f);
}

/* Send and wait for the reply; *reply points at it in a receive buffer
 * (binary, not NUL-terminated, valid until the next receive).  Returns the
 * reply length or -1. */
static long transact(struct rspc *c, const void *pkt, size_t n, const uint8_t **reply)
{
	if (send_packet(c, pkt, n) < 0) return -1;
	int r = recv_packet(c, RSPC_REPLY_TIMEOUT_MS);
	if (r < 0) return -1;
	if (r == 0) return fail(c, "the stub did not answer within %d s", RSPC_REPLY_TIMEOUT_MS / 1000);
	*reply = c->pl;
	return (long)c->pl_len;
}

static long transact_str(struct rspc *c, const char *pkt, const uint8_t **reply)
{
	return transact(c, pkt, strlen(pkt), reply);
}

static bool is_ok(const uint8_t *r, long n)
{
	return n == 2 && r[0] == 'O' && r[1] == 'K';
}

/* Describe a reply that is not what we wanted. */
static int bad_reply(struct rspc *c, const char *what, const uint8_t *r, long n)
{
	if (n == 0) return fail(c, "%s: not supported by the stub", what);
	if (r[0] == 'E') return fail(c, "%s: the stub answered %.*s", what, (int)(n > 40 ? 40 : n), (const char *)r);
	return fail(c, "%s: unexpected reply \"%.*s\"", what, (int)(n > 40 ? 40 : n), (const char *)r);
}

/* Expect "OK" for pkt. */
static int request_ok(struct rspc *c, const char *pkt, const char *what)
{
	const uint8_t *r;
	long n = transact_str(c, pkt, &r);
	if (n < 0) return -1;
	if (!is_ok(r, n)) return bad_reply(c, what, r, n);
	return 0;
}

static int tcp_connect(const char *host, const char *port, char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int gr = getaddrinfo(host, port, &hints, &res);
	if (gr != 0) {
		set_err(err, errlen, "%s:%s: %s", host, port, gai_strerror(gr));
		return -1;
	}
	int fd = -1, saved = 0;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) { saved = errno; continue; }
		int r;
		do {
			r = connect(fd, a->ai_addr, a->ai_addrlen);
		} while (r < 0 && errno == EINTR);
		if (r == 0) break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		set_err(err, errlen, "%s", strerror(saved));
		return -1;
	}
	int one = 1;
	/* Every packet is one small request awaiting its reply: Nagle would
	 * only add delay. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
		set_err(err, errlen, "TCP_NODELAY: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int unix_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path) {
		set_err(err, errlen, "unix socket path too long");
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_err(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int r;
	do {
		r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	} while (r < 0 && errno == EINTR);
	if (r != 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct rspc *rspc_connect(const char *addr, char *err, size_t errlen)
{
	int fd;
	if (strncmp(addr, "unix:", 5) == 0) {
		fd = unix_connect(addr + 5, err, errlen);
	} else {
		char host[256];
		const char *colon = strrchr(addr, ':');
		if (!colon || !colon[1]) {
			set_err(err, errlen, "address must be HOST:PORT, :PORT or unix:PATH");
			return NULL;
		}
		size_t hl = (size_t)(colon - addr);
		if (hl >= sizeof host) {
			set_err(err, errlen, "host name too long");
			return NULL;
		}
		memcpy(host, addr, hl);
		host[hl] = 0;
		if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {   /* [::1]:2345 */
			memmove(host, host + 1, hl - 2);
			host[hl - 2] = 0;
		}
		fd = tcp_connect(hl ? host : "127.0.0.1", colon + 1, err, errlen);
	}
	if (fd < 0) return NULL;
	struct rspc *c = rspc_new(fd, err, errlen);
	if (!c) close(fd);
	return c;
}

struct rspc *rspc_spawn(const char *stub_path, char *const argv[], pid_t attach_pid,
			pid_t *stub_pid, char *err, size_t errlen)
{
	int sv[2], ep[2];
	if (attach_pid <= 0 && (!argv || !argv[0])) {
		set_err(err, errlen, "nothing to run: no program and no pid");
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		set_err(err, errlen, "socketpair: %s", strerror(errno));
		return NULL;
	}
	/* exec failures come back through a close-on-exec pipe */
	if (pipe2(ep, O_CLOEXEC) != 0) {
		set_err(err, errlen, "pipe: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	size_t n = 0;
	while (attach_pid <= 0 && argv[n]) n++;
	char pidbuf[32];
	char **args = calloc(n + 6, sizeof *args);
	if (!args) {
		set_err(err, errlen, "out of memory");
		close(sv[0]); close(sv[1]); close(ep[0]); close(ep[1]);
		return NULL;
	}
	size_t a = 0;
	args[a++] = (char *)stub_path;
	args[a++] = "--once";
	if (attach_pid > 0) {
		snprintf(pidbuf, sizeof pidbuf, "%d", (int)attach_pid);
		args[a++] = "--attach";
		args[a++] = "-";
		args[a++] = pidbuf;
	} else {
		args[a++] = "-";
		for (size_t i = 0; i < n; i++) args[a++] = argv[i];
	}
	args[a] = NULL;

	pid_t pid = fork();
	if (pid < 0) {
		set_err(err, errlen, "fork: %s", strerror(errno));
		free(args);
		close(sv[0]); close(sv[1]); close(ep[0]); close(ep[1]);
		return NULL;
	}
	if (pid == 0) {
		/* child: the socket becomes stdin and stdout (dup2 clears CLOEXEC).
		 * A session of its own, as gdb gives `target remote | CMD`: the
		 * terminal's ^C goes to gotap, which detaches or kills through
		 * the stub; reaching the stub too, it would cut the connection
		 * under gotap's feet (the stub cleans up when gotap dies). */
		int e = 0;
		if (setsid() < 0) e = errno;
		if (!e && (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)) e = errno;
		if (!e) {
			execvp(stub_path, args);
			e = errno;
		}
		ssize_t w = write(ep[1], &e, sizeof e);
		(void)w;   /* nothing more a failed child can do */
		_exit(127);
	}
	free(args);
	close(sv[1]);
	close(ep[1]);
	int e = 0;
	ssize_t k;
	do {
		k = read(ep[0], &e, sizeof e);
	} while (k < 0 && errno == EINTR);
	close(ep[0]);
	if (k == (ssize_t)sizeof e) {
		set_err(err, errlen, "cannot run %s: %s", stub_path, strerror(e));
		close(sv[0]);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
		return NULL;
	}
	struct rspc *c = rspc_new(sv[0], err, errlen);
	if (!c) {
		close(sv[0]);
		kill(pid, SIGTERM);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
		return NULL;
	}
	if (stub_pid) *stub_pid = pid;
	return c;
}

struct rspc *rspc_from_fd(int fd, char *err, size_t errlen)
{
	if (fd < 0) {
		set_err(err, errlen, "bad file descriptor");
		return NULL;
	}
	return rspc_new(fd, err, errlen);
}

void rspc_set_output(struct rspc *c, int fd)
{
	c->out_fd = fd;
}

void rspc_close(struct rspc *c)
{
	if (!c) return;
	if (c->fd >= 0) close(c->fd);   /* nothing to do about a failing close here */
	free(c->features);
	free(c->tx);
	free(c->notif);
	free(c->sq);
	free(c);
}

int rspc_fail_msg(struct rspc *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return -1;
}

const char *rspc_error(const struct rspc *c)
{
	return c ? c->err : "no connection";
}

int rspc_fd(const struct rspc *c)
{
	return c->fd;
}

unsigned long rspc_packets_sent(const struct rspc *c)
{
	return c->sent;
}

/* ------------------------------------------------------------ handshake */

/* Find "name" in the qSupported reply as name+ / name- / name=value.
 * Returns the entry's text after the name (e.g. "+", "=47ff") or NULL. */
static const char *feature(const struct rspc *c, const char *name)
{
	if (!c->features) return NULL;
	size_t nl = strlen(name);
	for (const char *p = c->features; *p;) {
		const char *e = strchr(p, ';');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l > nl && memcmp(p, name, nl) == 0 &&
		    (p[nl] == '+' || p[nl] == '-' || p[nl] == '='))
			return p + nl;
		p += l;
		if (*p) p++;
	}
	return NULL;
}

bool rspc_has_feature(const struct rspc *c, const char *name)
{
	const char *f = feature(c, name);
	return f && (f[0] == '+' || f[0] == '=');
}

size_t rspc_packet_size(const struct rspc *c)
{
	return c->packet_size;
}

static void note_pid(struct rspc *c, const struct rsp_stop *st)
{
	if (st->has_thread && st->thread.has_pid && st->thread.pid > 0)
		c->pid = st->thread.pid;
	else if (st->has_thread && !c->multiprocess && c->pid == 0 && st->thread.tid > 0)
		c->pid = st->thread.tid;   /* single process: the main thread's tid */
}

int rspc_handshake(struct rspc *c, struct rsp_stop *initial)
{
	const uint8_t *r;
	long n = transact_str(c, "qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+;no-resumed+", &r);
	if (n < 0) return -1;
	if (n == 0 || r[0] == 'E') return bad_reply(c, "qSupported", r, n);
	free(c->features);
	c->features = malloc((size_t)n + 1);
	if (!c->features) return fail(c, "out of memory");
	memcpy(c->features, r, (size_t)n);
	c->features[n] = 0;

	const char *ps = feature(c, "PacketSize");
	uint64_t v;
	if (ps && ps[0] == '=' && rsp_parse_hex_u64(ps + 1, strlen(ps + 1), &v) > 0) {
		if (v < 256) return fail(c, "the stub's PacketSize %#llx is too small", (unsigned long long)v);
		c->packet_size = v > sizeof c->rx ? sizeof c->rx : (size_t)v;
	}
	c->multiprocess = rspc_has_feature(c, "multiprocess");
	c->x_read = rspc_has_feature(c, "binary-upload");

	if (rspc_has_feature(c, "QStartNoAckMode")) {
		n = transact_str(c, "QStartNoAckMode", &r);
		if (n < 0) return -1;
		/* recv_packet acked this "OK"; from now on neither side acks */
		if (is_ok(r, n)) c->noack = true;
	}

	n = transact_str(c, "vCont?", &r);
	if (n < 0) return -1;
	if (n >= 5 && memcmp(r, "vCont", 5) == 0) {
		for (long i = 5; i + 1 < n; i++) {
			if (r[i] != ';') continue;
			if (r[i + 1] == 'c') c->vcont = true;
			if (r[i + 1] == 'C') c->vcont_sig = true;
		}
	}

	n = transact_str(c, "?", &r);
	if (n < 0) return -1;
	struct rsp_stop st;
	if (rsp_stop_decode((const char *)r, (size_t)n, &st) != 0)
		return bad_reply(c, "initial stop reply ('?')", r, n);
	note_pid(c, &st);
	if (initial) *initial = st;
	return 0;
}

static void note_stop(struct rspc *c, const struct rsp_stop *st, const uint8_t *raw, size_t n);

/* Packets that change neither registers nor the current thread. */
static bool is_pure_read(const char *pkt)
{
	return strchr("qmxpg?", pkt[0]) != NULL && pkt[0] != 0;
}

long rspc_request_view(struct rspc *c, const char *pkt, const uint8_t **reply)
{
	const uint8_t *r;
	if (!is_pure_read(pkt)) {
		/* a resumption, a register write, Hg...: what we knew is stale */
		regcache_forget(c);
		c->hg_tid = 0;
	}
	long n = transact_str(c, pkt, &r);
	if (n < 0) return -1;
	if (!is_pure_read(pkt) && n > 0 && (r[0] == 'T' || r[0] == 'S')) {
		struct rsp_stop st;
		if (rsp_stop_decode((const char *)r, (size_t)n, &st) == 0) {
			note_pid(c, &st);
			note_stop(c, &st, r, (size_t)n);
		}
	}
	*reply = r;
	return n;
}

long rspc_request(struct rspc *c, const char *pkt, char *reply, size_t cap)
{
	const uint8_t *r;
	long n = rspc_request_view(c, pkt, &r);
	if (n < 0) return -1;
	if (cap == 0 || (size_t)n >= cap)
		return fail(c, "reply of %ld bytes does not fit in %zu", n, cap);
	memcpy(reply, r, (size_t)n);
	reply[n] = 0;
	return n;
}

/* ------------------------------------------------------------ memory */

/* Largest memory chunk per 'm'/'x'/'M'/'X' so that neither our request nor
 * the reply exceeds PacketSize (or our receive buffer). */
static size_t mem_chunk(const struct rspc *c, bool hex)
{
	size_t ps = c->packet_size;
	if (ps > sizeof c->rx) ps = sizeof c->rx;
	size_t room = ps > RSPC_PKT_OVERHEAD ? ps - RSPC_PKT_OVERHEAD : 1;
	return hex ? room / 2 : room;
}

/* One read of at most len bytes at addr.  Returns bytes read (0 for an error
 * reply), or -1 on transport failure. */
static long read_chunk(struct rspc *c, uint64_t addr, uint8_t *dst, size_t len)
{
	char pkt[64];
	snprintf(pkt, sizeof pkt, "%c%llx,%zx", c->x_read ? 'x' : 'm', (unsigned long long)addr, len);
	const uint8_t *r;
	long n = transact_str(c, pkt, &r);
	if (n < 0) return -1;
	if (n == 0 && !c->x_read) return fail(c, "memory read: 'm' not supported by the stub");
	if (n >= 1 && r[0] == 'E' && (n == 3 || (n > 1 && r[1] == '.'))) return 0;
	if (c->x_read) {
		/* binary-upload reply: 'b' then the bytes (escapes already decoded) */
		if (n < 1 || r[0] != 'b') return bad_reply(c, "memory read", r, n);
		size_t got = (size_t)n - 1;
		if (got > len) return fail(c, "memory read: the stub sent %zu bytes for %zu", got, len);
		memcpy(dst, r + 1, got);
		return (long)got;
	}
	if (n % 2) return fail(c, "memory read: odd-length hex reply");
	size_t got = (size_t)n / 2;
	if (got > len) return fail(c, "memory read: the stub sent %zu bytes for %zu", got, len);
	if (unhex(dst, r, got) < 0)
		return fail(c, "memory read: reply is not hex");
	return (long)got;
}

long rspc_read_mem(struct rspc *c, uint64_t addr, void *buf, size_t len)
{
	uint8_t *dst = buf;
	size_t done = 0, chunk = mem_chunk(c, !c->x_read);
	while (done < len) {
		size_t want = len - done < chunk ? len - done : chunk;
		uint64_t a = addr + done;
		long got = read_chunk(c, a, dst + done, want);
		if (got < 0) return -1;
		if (got == 0) {
			/* An error for a chunk that crosses a page boundary may come
			 * from a later page: retry up to the first boundary. */
			size_t to_page = (size_t)(0x1000 - (a & 0xfff));
			if (to_page < want) {
				got = read_chunk(c, a, dst + done, to_page);
				if (got < 0) return -1;
			}
			if (got == 0) break;
		}
		done += (size_t)got;
		if ((size_t)got < want)
			break;   /* the stub read up to an unreadable page */
	}
	return (long)done;
}

/* 'X' with binary data when the stub has it (probed once with a 0-byte
 * write, as gdb does), else 'M' with hex. */
static int write_chunk(struct rspc *c, uint64_t addr, const uint8_t *src, size_t len,
		       size_t *wrote)
{
	static const char what[] = "memory write";
	uint8_t *pkt = malloc(c->packet_size + 64);
	if (!pkt) return fail(c, "out of memory");
	int head;
	const uint8_t *r;
	long n;
	size_t take;
	if (c->x_write != 0) {
		take = rsp_escape_fit(src, len, mem_chunk(c, false));
		head = snprintf((char *)pkt, 64, "X%llx,%zx:", (unsigned long long)addr, take);
		memcpy(pkt + head, src, take);
		n = transact(c, pkt, (size_t)head + take, &r);
		if (n == 0 && c->x_write < 0) {
			c->x_write = 0;    /* no 'X': fall through to 'M' */
		} else {
			free(pkt);
			if (n < 0) return -1;
			if (!is_ok(r, n)) return bad_reply(c, what, r, n);
			c->x_write = 1;
			*wrote = take;
			return 0;
		}
	}
	take = len < mem_chunk(c, true) ? len : mem_chunk(c, true);
	head = snprintf((char *)pkt, 64, "M%llx,%zx:", (unsigned long long)addr, take);
	rsp_hex_encode((char *)pkt + head, 2 * take, src, take);
	n = transact(c, pkt, (size_t)head + 2 * take, &r);
	free(pkt);
	if (n < 0) return -1;
	if (!is_ok(r, n)) return bad_reply(c, what, r, n);
	*wrote = take;
	return 0;
}

int rspc_write_mem(struct rspc *c, uint64_t addr, const void *buf, size_t len)
{
	const uint8_t *src = buf;
	size_t done = 0;
	while (done < len) {
		size_t w = 0;
		if (write_chunk(c, addr + done, src + done, len - done, &w) < 0) return -1;
		if (w == 0) return fail(c, "memory write: no progress");
		done += w;
	}
	return 0;
}

/* ------------------------------------------------------------ registers */

static size_t fmt_thread(const struct rspc *c, char *dst, size_t cap, int64_t tid)
{
	struct rsp_ptid id = { c->pid, tid, c->multiprocess };
	return rsp_fmt_ptid(dst, cap, &id, c->multiprocess && c->pid > 0);
}

static int select_thread(struct rspc *c, int64_t tid)
{
	if (tid == 0 || tid == c->hg_tid) return 0;
	char pkt[80] = "Hg";
	size_t k = fmt_thread(c, pkt + 2, sizeof pkt - 3, tid);
	pkt[2 + k] = 0;
	if (request_ok(c, pkt, "select thread (Hg)") < 0) return -1;
	c->hg_tid = tid;
	return 0;
}

/* The register cache holds one thread's registers for the current stop. */
static void regcache_forget(struct rspc *c)
{
	if (c->rc_tid == 0) return;
	c->rc_tid = 0;
	c->rc_all = false;
	memset(c->rc_known, 0, sizeof c->rc_known);
}

/* Make tid the cached thread (dropping another's values). */
static void regcache_for(struct rspc *c, int64_t tid)
{
	if (c->rc_tid == tid) return;
	regcache_forget(c);
	c->rc_tid = tid;
}

/* The thread a request for tid (0 = the current one) is about, 0 if unknown. */
static int64_t effective_tid(const struct rspc *c, int64_t tid)
{
	return tid ? tid : c->hg_tid;
}

static bool regcache_get(const struct rspc *c, int64_t tid, unsigned regno, uint64_t *val)
{
	tid = effective_tid(c, tid);
	if (tid == 0 || tid != c->rc_tid || regno >= RSP_AMD64_NREGS || !c->rc_known[regno])
		return false;
	*val = c->rc_val[regno];
	return true;
}

/* A stop reply: gdbserver and gotap-stub make the reporting thread the
 * current one for 'g'/'p' (gdb's remote.c relies on it too), and the
 * registers it expedites are its values now. */
static int le_value(const char *hex, size_t nbytes, uint64_t *out);

static void note_stop(struct rspc *c, const struct rsp_stop *st, const uint8_t *raw, size_t n)
{
	regcache_forget(c);
	c->hg_tid = 0;
	if (st->kind != RSP_STOP_SIGNAL || !st->has_thread || st->thread.tid <= 0) return;
	c->hg_tid = st->thread.tid;
	regcache_for(c, st->thread.tid);
	for (unsigned i = 0; i < st->nregs && i < RSP_STOP_MAX_REGS; i++) {
		unsigned r = st->regs[i].regno;
		if (r >= RSP_AMD64_NREGS || rsp_amd64_regs[r].bits > 64) continue;
		c->rc_val[r] = st->regs[i].value;
		c->rc_known[r] = 1;
	}
	/* rsp_stop_decode keeps RSP_STOP_MAX_REGS registers: take any further
	 * "NN:value;" pairs of a 'T' reply from the text itself */
	if (raw == NULL || n < 3 || raw[0] != 'T') return;
	size_t i = 3;
	while (i < n) {
		size_t colon = i, end;
		while (colon < n && raw[colon] != ':' && raw[colon] != ';') colon++;
		end = colon;
		while (end < n && raw[end] != ';') end++;
		uint64_t regno;
		if (colon < n && raw[colon] == ':' && colon > i &&
		    rsp_parse_hex_u64((const char *)raw + i, colon - i, &regno) == colon - i &&
		    regno < RSP_AMD64_NREGS && rsp_amd64_regs[regno].bits <= 64 &&
		    end - colon - 1 == rsp_amd64_regs[regno].bits / 4) {
			uint64_t v;
			if (le_value((const char *)raw + colon + 1, rsp_amd64_regs[regno].bits / 8, &v) == 0) {
				c->rc_val[regno] = v;
				c->rc_known[regno] = 1;
			}
		}
		i = end + 1;
	}
}

/* Little-endian value of a register's bytes, unavailable ('x') as 0.
 * Wider registers keep their low 8 bytes. */
static int le_value(const char *hex, size_t nbytes, uint64_t *out)
{
	uint64_t v = 0;
	for (size_t b = 0; b < nbytes; b++) {
		uint8_t byte;
		if (hex[2 * b] == 'x' && hex[2 * b + 1] == 'x') byte = 0;
		else if (unhex(&byte, (const uint8_t *)hex + 2 * b, 1) < 0) return -1;
		if (b < 8) v |= (uint64_t)byte << (8 * b);
	}
	*out = v;
	return 0;
}

int rspc_read_regs(struct rspc *c, int64_t tid, uint64_t regs[RSP_AMD64_NREGS])
{
	int64_t et = effective_tid(c, tid);
	if (et != 0 && et == c->rc_tid && c->rc_all) {
		memcpy(regs, c->rc_val, sizeof c->rc_val);
		return 0;
	}
	if (select_thread(c, tid) < 0) return -1;
	const uint8_t *r;
	long n = transact_str(c, "g", &r);
	if (n < 0) return -1;
	if (n == 0 || r[0] == 'E') return bad_reply(c, "read registers (g)", r, n);
	/* rip..gs must be there; a stub without fs_base/gs_base (older
	 * gdbserver) may stop earlier: those read as 0. */
	size_t need = 2 * rsp_amd64_regs[RSP_AMD64_ST0].offset;
	if (n % 2 || (size_t)n < need)
		return fail(c, "read registers: the stub sent %ld hex digits, at least %zu expected "
			    "for amd64", n, need);
	for (unsigned i = 0; i < RSP_AMD64_NREGS; i++) {
		const struct rsp_reg_desc *d = &rsp_amd64_regs[i];
		size_t off = 2 * d->offset, sz = d->bits / 8;
		regs[i] = 0;
		if (off + 2 * sz > (size_t)n) continue;
		if (le_value((const char *)r + off, sz, &regs[i]) < 0)
			return fail(c, "read registers: reply is not hex");
	}
	et = effective_tid(c, tid);
	if (et != 0) {
		regcache_for(c, et);
		memcpy(c->rc_val, regs, sizeof c->rc_val);
		memset(c->rc_known, 1, sizeof c->rc_known);
		c->rc_all = true;
	}
	return 0;
}

int rspc_read_reg(struct rspc *c, int64_t tid, unsigned regno, uint64_t *val)
{
	if (regno >= RSP_AMD64_NREGS) return fail(c, "no register number %u", regno);
	if (regcache_get(c, tid, regno, val)) return 0;
	if (c->p_unsupported) {
		uint64_t all[RSP_AMD64_NREGS];
		if (rspc_read_regs(c, tid, all) < 0) return -1;
		*val = all[regno];
		return 0;
	}
	if (select_thread(c, tid) < 0) return -1;
	char pkt[32];
	snprintf(pkt, sizeof pkt, "p%x", regno);
	const uint8_t *r;
	long n = transact_str(c, pkt, &r);
	if (n < 0) return -1;
	size_t sz = rsp_amd64_regs[regno].bits / 8;
	if (n == 0) {   /* no 'p': take it from 'g' */
		c->p_unsupported = true;
		uint64_t all[RSP_AMD64_NREGS];
		if (rspc_read_regs(c, tid, all) < 0) return -1;
		*val = all[regno];
		return 0;
	}
	if (r[0] == 'E' || (size_t)n != 2 * sz) return bad_reply(c, "read register (p)", r, n);
	if (le_value((const char *)r, sz, val) < 0) return fail(c, "read register: reply is not hex");
	int64_t et = effective_tid(c, tid);
	if (et != 0) {
		regcache_for(c, et);
		c->rc_val[regno] = *val;
		c->rc_known[regno] = 1;
	}
	return 0;
}

int rspc_read_regs_some(struct rspc *c, int64_t tid, const unsigned *regnos, unsigned n,
			uint64_t *vals)
{
	unsigned missing = 0;
	for (unsigned i = 0; i < n; i++) {
		if (regnos[i] >= RSP_AMD64_NREGS) return fail(c, "no register number %u", regnos[i]);
		if (!regcache_get(c, tid, regnos[i], &vals[i])) missing++;
	}
	if (missing == 0) return 0;
	if (missing == 1) {
		for (unsigned i = 0; i < n; i++)
			if (!regcache_get(c, tid, regnos[i], &vals[i]))
				return rspc_read_reg(c, tid, regnos[i], &vals[i]);
	}
	/* two or more: one 'g' costs less than a round trip per register */
	uint64_t all[RSP_AMD64_NREGS];
	if (rspc_read_regs(c, tid, all) < 0) return -1;
	for (unsigned i = 0; i < n; i++) vals[i] = all[regnos[i]];
	return 0;
}

bool rspc_reg_cached(const struct rspc *c, int64_t tid, unsigned regno, uint64_t *val)
{
	return regcache_get(c, tid, regno, val);
}

/* ------------------------------------------------------------ breakpoints */

static int bp(struct rspc *c, char op, int type, uint64_t addr, unsigned kind)
{
	char pkt[64];
	if (type < 0 || type > 4) return fail(c, "no breakpoint type %d", type);
	snprintf(pkt, sizeof pkt, "%c%d,%llx,%x", op, type, (unsigned long long)addr, kind);
	return request_ok(c, pkt, op == 'Z' ? "insert breakpoint" : "remove breakpoint");
}

int rspc_insert_bp(struct rspc *c, int type, uint64_t addr, unsigned kind)
{
	return bp(c, 'Z', type, addr, kind);
}

int rspc_remove_bp(struct rspc *c, int type, uint64_t addr, unsigned kind)
{
	return bp(c, 'z', type, addr, kind);
}

int rspc_pass_signals(struct rspc *c, const int *sigs, int n)
{
	/* GDB numbers, ascending, each once, as gdb sends them */
	bool on[256] = { false };
	for (int i = 0; i < n; i++) {
		int g = rsp_sig_from_host(sigs[i]);
		if (g > 0 && g < 143) on[g] = true;
	}
	char pkt[1024] = "QPassSignals:";
	size_t o = strlen(pkt);
	bool first = true;
	for (int g = 1; g < 256; g++) {
		if (!on[g]) continue;
		o += (size_t)snprintf(pkt + o, sizeof pkt - o, "%s%x", first ? "" : ";", g);
		first = false;
	}
	return request_ok(c, pkt, "QPassSignals");
}

/* ------------------------------------------------------------ run control */

int rspc_resume(struct rspc *c, int64_t sig_tid, int gdb_sig)
{
	char pkt[96];
	c->hg_tid = 0;   /* the stub may change its current thread at the next stop */
	regcache_forget(c);
	if (gdb_sig < 0 || gdb_sig > 0xff) return fail(c, "no signal number %d", gdb_sig);
	if (c->vcont && (gdb_sig == 0 || (c->vcont_sig && sig_tid > 0))) {
		if (gdb_sig) {
			int k = snprintf(pkt, sizeof pkt, "vCont;C%02x:", gdb_sig);
			size_t t = fmt_thread(c, pkt + k, sizeof pkt - (size_t)k - 4, sig_tid);
			memcpy(pkt + k + t, ";c", 3);
		} else {
			strcpy(pkt, "vCont;c");
		}
	} else if (gdb_sig) {
		snprintf(pkt, sizeof pkt, "C%02x", gdb_sig);
	} else {
		strcpy(pkt, "c");
	}
	return send_packet(c, pkt, strlen(pkt));
}

/* Write an 'O' packet's hex text to the output fd. */
static int console_output(struct rspc *c, const uint8_t *hex, size_t n)
{
	uint8_t text[512];
	if (n % 2) return fail(c, "console output is not hex");
	while (n >= 2) {
		size_t k = n / 2 < sizeof text ? n / 2 : sizeof text;
		if (rsp_hex_decode(text, k, (const char *)hex, 2 * k) < 0)
			return fail(c, "console output is not hex");
		size_t off = 0;
		while (c->out_fd >= 0 && off < k) {
			ssize_t w = write(c->out_fd, text + off, k - off);
			if (w < 0 && errno == EINTR) continue;
			if (w < 0) return fail(c, "writing program output: %s", strerror(errno));
			off += (size_t)w;
		}
		hex += 2 * k;
		n -= 2 * k;
	}
	return 0;
}

int rspc_wait_stop(struct rspc *c, struct rsp_stop *st, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	for (;;) {
		int left = -1;
		if (timeout_ms >= 0) {
			int64_t l = deadline - now_ms();
			left = l < 0 ? 0 : (int)l;
		}
		int r = recv_packet(c, left);
		if (r <= 0) return r;
		const uint8_t *p = c->pl;
		size_t n = c->pl_len;
		if (n > 0 && p[0] == 'O' && n > 1) {   /* "OK" is not output, but never comes here */
			if (console_output(c, p + 1, n - 1) < 0) return -1;
			continue;
		}
		if (rsp_stop_decode((const char *)p, n, st) != 0)
			return bad_reply(c, "stop reply", p, (long)n);
		note_pid(c, st);
		note_stop(c, st, p, n);
		return 1;
	}
}

size_t rspc_fmt_ptid(const struct rspc *c, int64_t tid, char *dst, size_t cap)
{
	if (cap == 0) return 0;
	size_t k = fmt_thread(c, dst, cap - 1, tid);
	dst[k] = 0;
	return k;
}

int rspc_resume_thread(struct rspc *c, char action, int gdb_sig, int64_t tid,
		       struct rsp_stop *st)
{
	char pkt[96];
	int k;
	if (action == 'C' || action == 'S') {
		if (gdb_sig < 0 || gdb_sig > 0xff) return fail(c, "no signal number %d", gdb_sig);
		k = snprintf(pkt, sizeof pkt, "vCont;%c%02x:", action, gdb_sig);
	} else if (action == 'c' || action == 's') {
		k = snprintf(pkt, sizeof pkt, "vCont;%c:", action);
	} else {
		return fail(c, "no resume action '%c'", action);
	}
	if (rspc_fmt_ptid(c, tid, pkt + k, sizeof pkt - (size_t)k) == 0)
		return fail(c, "thread id %lld does not fit", (long long)tid);
	/* the thread runs: what we knew of registers and Hg is stale */
	regcache_forget(c);
	c->hg_tid = 0;
	const uint8_t *r;
	long n = transact_str(c, pkt, &r);
	if (n < 0) return -1;
	if (n > 1 && r[0] == 'O' && !is_ok(r, n)) {
		/* console output came first: the stop follows */
		if (console_output(c, r + 1, (size_t)n - 1) < 0) return -1;
		int w = rspc_wait_stop(c, st, RSPC_REPLY_TIMEOUT_MS);
		if (w == 0) return fail(c, "no stop after %s within %d s", pkt, RSPC_REPLY_TIMEOUT_MS / 1000);
		return w < 0 ? -1 : 0;
	}
	if (n == 0 || rsp_stop_decode((const char *)r, (size_t)n, st) != 0)
		return bad_reply(c, pkt, r, n);
	note_pid(c, st);
	note_stop(c, st, r, (size_t)n);
	return 0;
}

/* ------------------------------------------------------------ non-stop */

int rspc_set_nonstop(struct rspc *c, bool on)
{
	if (request_ok(c, on ? "QNonStop:1" : "QNonStop:0", "QNonStop") < 0) return -1;
	c->nonstop = on;
	regcache_forget(c);
	c->hg_tid = 0;
	return 0;
}

bool rspc_is_nonstop(const struct rspc *c)
{
	return c->nonstop;
}

int rspc_resume_ns(struct rspc *c, int64_t tid, int gdb_sig)
{
	char pkt[96] = "vCont;c";
	if (gdb_sig < 0 || gdb_sig > 0xff) return fail(c, "no signal number %d", gdb_sig);
	if (gdb_sig && tid <= 0) return fail(c, "a signal needs a thread");
	if (tid > 0) {
		int k = gdb_sig ? snprintf(pkt, sizeof pkt, "vCont;C%02x:", gdb_sig)
				: snprintf(pkt, sizeof pkt, "vCont;c:");
		if (rspc_fmt_ptid(c, tid, pkt + k, sizeof pkt - (size_t)k) == 0)
			return fail(c, "thread id %lld does not fit", (long long)tid);
	}
	regcache_forget(c);
	c->hg_tid = 0;
	return request_ok(c, pkt, "resume (non-stop vCont)");
}

/* Queue one decoded stop for rspc_next_stop_ns. */
static int sq_push(struct rspc *c, const struct rsp_stop *st)
{
	if (c->sq_head > 0 && c->sq_head == c->sq_len) c->sq_head = c->sq_len = 0;
	if (c->sq_len == c->sq_cap) {
		size_t ncap = c->sq_cap ? 2 * c->sq_cap : 16;
		struct rsp_stop *p = realloc(c->sq, ncap * sizeof *p);
		if (!p) return fail(c, "out of memory");
		c->sq = p;
		c->sq_cap = ncap;
	}
	c->sq[c->sq_len++] = *st;
	return 0;
}

/* Take the kept %Stop notification: its stop, then vStopped until "OK"
 * (each reply is the stub's next queued stop).  0 or -1. */
static int take_notification(struct rspc *c)
{
	struct rsp_stop st;
	c->have_notif = false;
	if (rsp_stop_decode((const char *)c->notif + 5, c->notif_len - 5, &st) != 0)
		return bad_reply(c, "stop notification", c->notif, (long)c->notif_len);
	note_pid(c, &st);
	if (sq_push(c, &st) < 0) return -1;
	for (int guard = 0; guard < 1000000; guard++) {
		const uint8_t *r;
		long n = transact_str(c, "vStopped", &r);
		if (n < 0) return -1;
		if (is_ok(r, n)) return 0;
		if (n == 0 || rsp_stop_decode((const char *)r, (size_t)n, &st) != 0)
			return bad_reply(c, "vStopped", r, n);
		note_pid(c, &st);
		if (sq_push(c, &st) < 0) return -1;
	}
	return fail(c, "vStopped: the stub's stop queue does not end");
}

int rspc_next_stop_ns(struct rspc *c, struct rsp_stop *st, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	for (;;) {
		if (c->sq_head < c->sq_len) {
			*st = c->sq[c->sq_head++];
			/* a thread stopped: the stub's current thread and what we
			 * knew of registers may have changed */
			regcache_forget(c);
			c->hg_tid = 0;
			if (st->kind == RSP_STOP_OUTPUT) continue;
			return 1;
		}
		if (c->have_notif) {
			if (take_notification(c) < 0) return -1;
			continue;
		}
		int left = -1;
		if (timeout_ms >= 0) {
			int64_t l = deadline - now_ms();
			left = l < 0 ? 0 : l > 1000000 ? 1000000 : (int)l;
		}
		c->notif_wanted = true;
		int r = recv_packet(c, left);
		c->notif_wanted = false;
		if (r < 0) return -1;
		if (r == 0) return 0;
		if (r == 1) {
			/* a packet while no request is outstanding: console output
			 * (all-stop habit) is shown, anything else is stray */
			const uint8_t *p = c->pl;
			size_t n = c->pl_len;
			if (n > 1 && p[0] == 'O' && !is_ok(p, (long)n) && console_output(c, p + 1, n - 1) < 0)
				return -1;
		}
	}
}

int rspc_interrupt(struct rspc *c)
{
	return write_all(c, "\x03", 1);
}

int rspc_detach(struct rspc *c)
{
	char pkt[48] = "D";
	if (c->multiprocess && c->pid > 0)
		snprintf(pkt, sizeof pkt, "D;%llx", (unsigned long long)c->pid);
	return request_ok(c, pkt, "detach");
}

int rspc_kill(struct rspc *c)
{
	if (c->multiprocess && c->pid > 0) {
		char pkt[48];
		snprintf(pkt, sizeof pkt, "vKill;%llx", (unsigned long long)c->pid);
		const uint8_t *r;
		long n = transact_str(c, pkt, &r);
		if (n < 0) return -1;
		if (n > 0) return is_ok(r, n) ? 0 : bad_reply(c, "kill", r, n);
	}
	/* 'k' has no defined reply; the stub may answer X09/OK or just go away. */
	if (send_packet(c, "k", 1) < 0) return -1;
	int r = recv_packet(c, 1000);
	(void)r;
	return 0;
}

/* ------------------------------------------------------------ qXfer */

/* Read a whole qXfer object into buf[0..cap).  Returns its length or -1. */
static long xfer_read(struct rspc *c, const char *object, const char *annex,
		      uint8_t *buf, size_t cap)
{
	size_t got = 0, piece = mem_chunk(c, false);
	for (;;) {
		char pkt[256];
		snprintf(pkt, sizeof pkt, "qXfer:%s:read:%s:%zx,%zx", object, annex, got, piece);
		const uint8_t *r;
		long n = transact_str(c, pkt, &r);
		if (n < 0) return -1;
		if (n == 0 || (r[0] != 'm' && r[0] != 'l'))
			return bad_reply(c, object, r, n);
		size_t k = (size_t)n - 1;
		if (k > cap - got) return fail(c, "%s: larger than %zu bytes", object, cap);
		memcpy(buf + got, r + 1, k);
		got += k;
		if (r[0] == 'l') return (long)got;
		if (k == 0) return fail(c, "%s: the stub sent an empty 'm' piece", object);
	}
}

long rspc_read_auxv(struct rspc *c, uint8_t *buf, size_t cap)
{
	return xfer_read(c, "auxv", "", buf, cap);
}

int rspc_exec_file(struct rspc *c, char *buf, size_t cap)
{
	char annex[32] = "";
	if (cap == 0) return fail(c, "exec-file: no room");
	if (c->pid > 0) snprintf(annex, sizeof annex, "%llx", (unsigned long long)c->pid);
	long n = xfer_read(c, "exec-file", annex, (uint8_t *)buf, cap - 1);
	if (n < 0) return -1;
	buf[n] = 0;
	return 0;
}

/* ------------------------------------------------------------ host I/O */

/* GDB File-I/O errno (GDB manual E.13.8) -> Linux errno: the same numbers
 * but ENAMETOOLONG (91) and "unknown" (9999). */
static int fio_to_errno(uint64_t e)
{
	if (e == 91) return ENAMETOOLONG;
	if (e == 0 || e >= 9999 || e > 4095) return EIO;
	return (int)e;
}

/* Decode a host I/O reply "F<result>[,<errno>][;<attachment>]".  Returns 1
 * with *result (and *err_no for result -1, *att and *att_len for the data), 0 for
 * an empty reply (unsupported), -1 for anything else (error set). */
static int hostio_reply(struct rspc *c, const char *what, const uint8_t *r, long n,
			int64_t *result, int *err_no, const uint8_t **att, size_t *att_len)
{
	if (n == 0) return 0;
	if (r[0] != 'F' || n < 2) return bad_reply(c, what, r, n);
	size_t i = 1;
	bool neg = r[i] == '-';
	if (neg) i++;
	uint64_t v;
	size_t k = rsp_parse_hex_u64((const char *)r + i, (size_t)n - i, &v);
	if (k == 0 || v > INT64_MAX) return bad_reply(c, what, r, n);
	i += k;
	*result = neg ? -(int64_t)v : (int64_t)v;
	*err_no = 0;
	if (i < (size_t)n && r[i] == ',') {
		uint64_t e;
		k = rsp_parse_hex_u64((const char *)r + i + 1, (size_t)n - i - 1, &e);
		if (k == 0) return bad_reply(c, what, r, n);
		*err_no = fio_to_errno(e);
		i += 1 + k;
	}
	if (att) {
		*att = NULL;
		*att_len = 0;
		if (i < (size_t)n && r[i] == ';') {
			*att = r + i + 1;
			*att_len = (size_t)n - i - 1;
			i = (size_t)n;
		}
	}
	if (i != (size_t)n && r[i] != ';') return bad_reply(c, what, r, n);
	if (*result < 0 && *err_no == 0) *err_no = EIO;
	return 1;
}

int rspc_vfile_setfs(struct rspc *c, int64_t pid)
{
	char pkt[64];
	snprintf(pkt, sizeof pkt, "vFile:setfs:%llx", (unsigned long long)(pid > 0 ? pid : 0));
	const uint8_t *r;
	long n = transact_str(c, pkt, &r);
	if (n < 0) return -1;
	int64_t res;
	int e;
	int k = hostio_reply(c, "vFile:setfs", r, n, &res, &e, NULL, NULL);
	if (k <= 0) return k < 0 ? -1 : 1;
	if (res < 0) return fail(c, "vFile:setfs:%llx: %s", (unsigned long long)pid, strerror(e));
	return 0;
}

int rspc_vfile_open(struct rspc *c, const char *path, int *err_no)
{
	int dummy;
	if (!err_no) err_no = &dummy;
	*err_no = 0;
	size_t pl = strlen(path);
	if (pl == 0 || pl > 4096) {
		*err_no = ENAMETOOLONG;
		return fail(c, "vFile:open: bad path length %zu", pl);
	}
	char pkt[2 * 4096 + 64];
	int h = snprintf(pkt, sizeof pkt, "vFile:open:");
	size_t w = rsp_hex_encode(pkt + h, sizeof pkt - (size_t)h, (const uint8_t *)path, pl);
	snprintf(pkt + h + w, sizeof pkt - (size_t)h - w, ",0,0");   /* O_RDONLY, mode 0 */
	const uint8_t *r;
	long n = transact_str(c, pkt, &r);
	if (n < 0) return -1;
	int64_t res;
	int k = hostio_reply(c, "vFile:open", r, n, &res, err_no, NULL, NULL);
	if (k == 0) {
		*err_no = ENOSYS;
		return fail(c, "vFile:open: the stub has no host I/O");
	}
	if (k < 0) return -1;
	if (res < 0) return fail(c, "vFile:open %s: %s", path, strerror(*err_no));
	if (res > INT32_MAX) return fail(c, "vFile:open %s: bad descriptor %lld", path, (long long)res);
	return (int)res;
}

long rspc_vfile_pread(struct rspc *c, int fd, void *buf, size_t len, uint64_t off)
{
	/* The data comes back binary (escaped on the wire, decoded by the parser)
	 * after "F<count>;": keep that header's room free in our receive buffer. */
	size_t piece = mem_chunk(c, false);
	uint8_t *dst = buf;
	size_t got = 0;
	while (got < len) {
		size_t want = len - got < piece ? len - got : piece;
		char pkt[96];
		snprintf(pkt, sizeof pkt, "vFile:pread:%x,%zx,%llx", fd, want,
			 (unsigned long long)(off + got));
		const uint8_t *r, *att;
		size_t alen;
		long n = transact_str(c, pkt, &r);
		if (n < 0) return -1;
		int64_t res;
		int e;
		int k = hostio_reply(c, "vFile:pread", r, n, &res, &e, &att, &alen);
		if (k == 0) return fail(c, "vFile:pread: the stub has no host I/O");
		if (k < 0) return -1;
		if (res < 0) return fail(c, "vFile:pread: %s", strerror(e));
		if ((uint64_t)res != alen || alen > want)
			return fail(c, "vFile:pread: the stub said %lld bytes and sent %zu (asked %zu)",
				    (long long)res, alen, want);
		if (alen == 0) break;   /* end of file */
		memcpy(dst + got, att, alen);
		got += alen;
	}
	return (long)got;
}

int rspc_vfile_close(struct rspc *c, int fd)
{
	char pkt[64];
	snprintf(pkt, sizeof pkt, "vFile:close:%x", fd);
	const uint8_t *r;
	long n = transact_str(c, pkt, &r);
	if (n < 0) return -1;
	int64_t res;
	int e;
	int k = hostio_reply(c, "vFile:close", r, n, &res, &e, NULL, NULL);
	if (k == 0) return fail(c, "vFile:close: the stub has no host I/O");
	if (k < 0) return -1;
	if (res < 0) return fail(c, "vFile:close: %s", strerror(e));
	return 0;
}
