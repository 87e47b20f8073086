// fuzz-sources: analyzer/rspc.c
/* fuzz_rspc.c — libFuzzer target for gotap's RSP client reply handling.
 *
 * The input is everything a (possibly hostile) stub says, written into one
 * end of a socketpair and then closed; the client on the other end runs its
 * handshake and the requests gotap makes (registers, memory, auxv, exec-file,
 * breakpoints, resume and wait).  Whatever the bytes, every call must return
 * (EOF ends each wait at once) without a crash, a leak or an out-of-bounds
 * access, and the results it reports must stay within the buffers given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rspc.h"

#define MAX_INPUT 65536   /* fits a socket buffer, so one write never blocks */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT) return 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) abort();
	int sndbuf = 4 * MAX_INPUT;
	if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) != 0) abort();
	/* Nobody reads what the client sends: give it room (best effort; the
	 * client's own limits on resends keep its output small anyway). */
	int big = 1 << 20;
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) != 0)
		(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	size_t off = 0;
	while (off < size) {
		ssize_t k = write(sv[1], data + off, size - off);
		if (k <= 0) abort();
		off += (size_t)k;
	}
	if (shutdown(sv[1], SHUT_WR) != 0) abort();

	char err[128];
	struct rspc *c = rspc_from_fd(sv[0], err, sizeof err);
	if (!c) abort();
	rspc_set_output(c, -1);
	struct rsp_stop st = { 0 };
	(void)rspc_handshake(c, &st);
	if (rspc_packet_size(c) < 1) abort();

	uint64_t regs[RSP_AMD64_NREGS], v;
	(void)rspc_read_regs(c, 0x11, regs);
	(void)rspc_read_reg(c, 0, RSP_AMD64_RIP, &v);
	static uint8_t mem[20000];
	long n = rspc_read_mem(c, 0x400000, mem, sizeof mem);
	if (n > (long)sizeof mem) abort();
	static uint8_t aux[4096];
	n = rspc_read_auxv(c, aux, sizeof aux);
	if (n > (long)sizeof aux) abort();
	char path[256];
	if (rspc_exec_file(c, path, sizeof path) == 0 && memchr(path, 0, sizeof path) == NULL) abort();
	(void)rspc_insert_bp(c, 0, 0x401000, 1);
	int sigs[] = { 23, 17 };
	(void)rspc_pass_signals(c, sigs, 2);
	(void)rspc_write_mem(c, 0x401000, "\xcc#$}*", 5);
	(void)rspc_resume(c, 0x11, 0x0b);
	(void)rspc_wait_stop(c, &st, 0);
	if (st.nregs > RSP_STOP_MAX_REGS) abort();
	char reply[64];
	n = rspc_request(c, "qAttached", reply, sizeof reply);
	if (n >= (long)sizeof reply) abort();
	(void)rspc_detach(c);
	(void)rspc_kill(c);
	rspc_close(c);
	close(sv[1]);
	return 0;
}
