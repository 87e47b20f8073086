/* fuzz_rsp_parser.c — libFuzzer target for the RSP receive path.
 *
 * The input is treated as a raw byte stream from a peer.  It is fed to the
 * parser in chunks whose sizes come from the input itself (so every split is
 * reachable), with a small and a large buffer.  Every packet the parser
 * accepts must survive rsp_frame -> parser unchanged; its payload is also
 * run through the stop-reply decoder (and, if accepted, encode -> decode must
 * keep its meaning), the thread-id parser and the qXfer parser.  Any broken
 * invariant aborts, which libFuzzer (or the replay driver) reports.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rsp.h"

#define BIG 4096
#define SMALL 16

static void require(int ok)
{
	if (!ok) abort();
}

/* Frame the payload again and parse it back: it must come out identical. */
static void roundtrip_frame(const uint8_t *pl, size_t n, bool notification)
{
	static uint8_t framed[2 * BIG + 8], back[BIG];
	size_t fn = rsp_frame(framed, sizeof framed, pl, n, notification);
	require(fn >= n + 4);
	struct rsp_parser p;
	rsp_parser_init(&p, back, sizeof back);
	enum rsp_event ev;
	size_t k = rsp_parser_feed(&p, framed, fn, &ev);
	require(k == fn);
	require(ev == (notification ? RSP_EV_NOTIFICATION : RSP_EV_PACKET));
	require(p.len == n && memcmp(back, pl, n) == 0);
}

static bool same_stop(const struct rsp_stop *a, const struct rsp_stop *b)
{
	if (a->kind != b->kind || a->sig != b->sig || a->exit_code != b->exit_code ||
	    a->has_thread != b->has_thread || a->process != b->process ||
	    a->reason != b->reason || a->core != b->core || a->nregs != b->nregs)
		return false;
	if (a->has_thread && (a->thread.tid != b->thread.tid ||
			      (a->thread.has_pid && a->thread.pid != b->thread.pid)))
		return false;
	switch (a->reason) {
	case RSP_REASON_WATCH: case RSP_REASON_RWATCH: case RSP_REASON_AWATCH:
	case RSP_REASON_FORK: case RSP_REASON_VFORK: case RSP_REASON_CLONE:
		if (a->reason_addr != b->reason_addr) return false;
		break;
	default:
		break;
	}
	for (unsigned i = 0; i < a->nregs; i++)
		if (a->regs[i].regno != b->regs[i].regno || a->regs[i].value != b->regs[i].value)
			return false;
	return true;
}

static void check_stop(const uint8_t *pl, size_t n)
{
	struct rsp_stop st, again;
	if (rsp_stop_decode((const char *)pl, n, &st) != 0) return;
	require(st.nregs <= RSP_STOP_MAX_REGS);
	if (st.kind == RSP_STOP_OUTPUT) return;
	bool mp = st.has_thread ? st.thread.has_pid : st.process != 0;
	char out[1024];
	size_t en = rsp_stop_encode(out, sizeof out, &st, mp);
	require(en > 0);
	require(rsp_stop_decode(out, en, &again) == 0);
	if (!mp && (st.kind == RSP_STOP_EXITED || st.kind == RSP_STOP_TERMINATED))
		again.process = st.process;   /* ";process:" only exists in multiprocess */
	require(same_stop(&st, &again));
}

static void check_ptid(const uint8_t *pl, size_t n)
{
	struct rsp_ptid id, back;
	size_t k = rsp_parse_ptid((const char *)pl, n, &id);
	require(k <= n);
	if (k == 0) return;
	char out[64];
	size_t fn = rsp_fmt_ptid(out, sizeof out, &id, id.has_pid);
	require(fn > 0);
	require(rsp_parse_ptid(out, fn, &back) == fn);
	require(back.tid == id.tid && back.has_pid == id.has_pid &&
		(!id.has_pid || back.pid == id.pid));
}

static void check_xfer(const uint8_t *pl, size_t n)
{
	const char *annex;
	size_t an;
	uint64_t off, len;
	if (rsp_parse_xfer_read((const char *)pl, n, &annex, &an, &off, &len) != 0) return;
	require(annex == (const char *)pl && an < n);
	const char *doc = rsp_amd64_target_xml();
	char reply[300];
	size_t rn = rsp_xfer_reply(reply, sizeof reply, doc, strlen(doc), off, len);
	require(rn <= sizeof reply);
	require(rn == 0 || reply[0] == 'l' || reply[0] == 'm');
}

static void check_hex(const uint8_t *pl, size_t n)
{
	uint64_t u;
	int64_t s;
	uint8_t bytes[64];
	require(rsp_parse_hex_u64((const char *)pl, n, &u) <= n);
	require(rsp_parse_hex_i64((const char *)pl, n, &s) <= n);
	size_t nb = n / 2 < sizeof bytes ? n / 2 : sizeof bytes;
	long r = rsp_hex_decode(bytes, nb, (const char *)pl, n);
	if (r >= 0) {
		char back[128];
		require(rsp_hex_encode(back, sizeof back, bytes, nb) == 2 * nb);
	}
}

/* rsp_escape and rsp_escape_fit agree on how much fits a budget. */
static void check_escape(const uint8_t *pl, size_t n)
{
	static uint8_t out[BIG];
	size_t budget = n % 97 + (n ? pl[0] : 0);
	if (budget > sizeof out) budget = sizeof out;
	size_t used;
	size_t w = rsp_escape(out, budget, pl, n, &used);
	require(w <= budget && used <= n);
	require(rsp_escape_fit(pl, n, budget) == used);
}

static void on_payload(const uint8_t *pl, size_t n, bool notification)
{
	roundtrip_frame(pl, n, notification);
	check_escape(pl, n);
	check_stop(pl, n);
	check_ptid(pl, n);
	check_xfer(pl, n);
	check_hex(pl, n);
}

/* Feed data with chunk sizes from a tiny PRNG seeded by the input. */
static void feed(const uint8_t *data, size_t size, size_t cap, uint32_t seed)
{
	static uint8_t buf[BIG];
	struct rsp_parser p;
	rsp_parser_init(&p, buf, cap);
	size_t off = 0;
	uint32_t x = seed | 1;
	while (off < size) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		size_t chunk = 1 + x % 9;
		if (x & 0x100) chunk = size - off;     /* sometimes the rest at once */
		if (chunk > size - off) chunk = size - off;
		const uint8_t *in = data + off;
		size_t left = chunk;
		while (left) {
			enum rsp_event ev;
			size_t k = rsp_parser_feed(&p, in, left, &ev);
			require(k <= left);
			require(p.len <= cap);
			in += k;
			left -= k;
			if (ev == RSP_EV_NONE) {
				require(left == 0);
				break;
			}
			if (ev == RSP_EV_PACKET || ev == RSP_EV_NOTIFICATION)
				on_payload(p.buf, p.len, ev == RSP_EV_NOTIFICATION);
		}
		off += chunk;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t seed = 0x9e3779b9u;
	for (size_t i = 0; i < size && i < 8; i++)
		seed = seed * 31 + data[i];
	feed(data, size, BIG, seed);
	feed(data, size, SMALL, seed ^ 0x5bd1e995u);
	/* The raw input as a bare payload too (what a handler would see). */
	if (size <= BIG) on_payload(data, size, false);
	return 0;
}
