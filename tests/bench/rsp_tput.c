/* rsp_tput.c — throughput of the RSP codec hot paths (issue #6); a
 * measurement, not a test (not built by make).  From the repository root:
 *	cc -O2 -std=c11 -D_GNU_SOURCE -Iprotocol -o /tmp/rsp_tput tests/bench/rsp_tput.c protocol/[a-z]*.c
 *	/tmp/rsp_tput
 * Prints MB/s of: the parser on a stream of 32 KiB hex packets ('m' replies)
 * fed in 64 KiB and 1500-byte reads and on 16 KiB binary packets; hex
 * decode/encode of 16 KiB; framing a 32 KiB hex and a 16 KiB binary payload;
 * rsp_escape_fit over 16 KiB of binary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rsp.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint8_t stream[64 << 20];
static uint8_t pbuf[RSP_PACKET_SIZE + 16];
static uint8_t raw[16384];
static char hex[32768 + 16];

/* Build a stream of framed packets: each payload = 32 KiB of hex (an 'm' reply). */
static size_t build_stream(int kind, size_t *npk)
{
	size_t o = 0, n = 0;
	uint32_t x = 1;
	while (o + 70000 < sizeof stream && n < 1500) {
		static uint8_t pl[40000];
		size_t pn;
		if (kind == 0) {          /* hex reply */
			for (size_t i = 0; i < sizeof raw; i++) { x = x * 1103515245 + 12345; raw[i] = (uint8_t)(x >> 16); }
			pn = rsp_hex_encode((char *)pl, sizeof pl, raw, sizeof raw);
		} else {                  /* binary with escapes */
			for (size_t i = 0; i < 16384; i++) { x = x * 1103515245 + 12345; pl[i] = (uint8_t)(x >> 16); }
			pn = 16384;
		}
		stream[o++] = '+';
		o += rsp_frame(stream + o, sizeof stream - o, pl, pn, false);
		n++;
	}
	*npk = n;
	return o;
}

static void bench_parser(const char *name, int kind, size_t chunk)
{
	size_t npk;
	size_t len = build_stream(kind, &npk);
	struct rsp_parser p;
	double best = 1e9;
	for (int rep = 0; rep < 5; rep++) {
		rsp_parser_init(&p, pbuf, RSP_PACKET_SIZE);
		size_t got = 0;
		double t0 = now();
		for (size_t off = 0; off < len;) {
			size_t c = len - off < chunk ? len - off : chunk;
			size_t done = 0;
			while (done < c) {
				enum rsp_event ev;
				done += rsp_parser_feed(&p, stream + off + done, c - done, &ev);
				if (ev == RSP_EV_PACKET) got++;
				else if (ev == RSP_EV_NONE) break;
			}
			off += c;
		}
		double t = now() - t0;
		if (got != npk) { printf("parser lost packets %zu/%zu\n", got, npk); exit(1); }
		if (t < best) best = t;
	}
	printf("%-34s %8.1f MB/s\n", name, len / best / 1e6);
}

int main(void)
{
	bench_parser("parser hex payload, 64 KiB reads", 0, 65536);
	bench_parser("parser hex payload, 1500 B reads", 0, 1500);
	bench_parser("parser binary payload, 64 KiB", 1, 65536);

	for (size_t i = 0; i < sizeof raw; i++) raw[i] = (uint8_t)(i * 131 + 7);
	rsp_hex_encode(hex, sizeof hex, raw, sizeof raw);
	double t0 = now();
	long iters = 20000;
	volatile long sink = 0;
	for (long i = 0; i < iters; i++) sink += rsp_hex_decode(raw, sizeof raw, hex, 2 * sizeof raw);
	double t = now() - t0;
	printf("%-34s %8.1f MB/s (hex in)\n", "hex decode 16 KiB", iters * 2.0 * sizeof raw / t / 1e6);
	t0 = now();
	for (long i = 0; i < iters; i++) sink += (long)rsp_hex_encode(hex, sizeof hex, raw, sizeof raw);
	t = now() - t0;
	printf("%-34s %8.1f MB/s (hex out)\n", "hex encode 16 KiB", iters * 2.0 * sizeof raw / t / 1e6);
	static uint8_t fr[70000];
	t0 = now();
	for (long i = 0; i < iters; i++) sink += (long)rsp_frame(fr, sizeof fr, (const uint8_t *)hex, 2 * sizeof raw, false);
	t = now() - t0;
	printf("%-34s %8.1f MB/s\n", "frame 32 KiB hex payload", iters * 2.0 * sizeof raw / t / 1e6);
	static uint8_t bin[16384];
	for (size_t i = 0; i < sizeof bin; i++) bin[i] = (uint8_t)(i * 2654435761u >> 13);
	t0 = now();
	for (long i = 0; i < iters; i++) sink += (long)rsp_frame(fr, sizeof fr, bin, sizeof bin, false);
	t = now() - t0;
	printf("%-34s %8.1f MB/s\n", "frame 16 KiB binary payload", iters * 1.0 * sizeof bin / t / 1e6);
	t0 = now();
	for (long i = 0; i < iters; i++) sink += (long)rsp_escape_fit(bin, sizeof bin, 20000);
	t = now() - t0;
	printf("%-34s %8.1f MB/s\n", "escape_fit 16 KiB binary", iters * 1.0 * sizeof bin / t / 1e6);
	(void)sink;
	return 0;
}
