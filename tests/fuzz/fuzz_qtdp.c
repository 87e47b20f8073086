/* fuzz_qtdp.c — libFuzzer target for tracepoint packets and trace frames.
 *
 * The input is used three ways:
 *   - as the text after "QTDP:" (with roomy and tiny action/byte arrays):
 *     every offset the parser reports must lie inside what it says it used,
 *     and the agent expressions it extracted go through rsp_ax_check;
 *   - as a QTDV body and a qTStatus reply: parse -> format -> parse keeps
 *     the meaning;
 *   - as a stream of trace frames: decoding it whole and decoding it as it
 *     arrives in pieces give the same frames, every block stays inside its
 *     frame, and a frame whose blocks all decode re-encodes byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rsp.h"
#include "rsp_ax.h"
#include "rsp_trace.h"

static void require(int ok)
{
	if (!ok) abort();
}

static void check_qtdp(const char *p, size_t n, unsigned max_acts, size_t cap)
{
	static struct rsp_tp_action acts[32];
	static uint8_t bytes[4096];
	struct rsp_qtdp q;
	require(max_acts <= 32 && cap <= sizeof bytes);
	int r = rsp_qtdp_parse(p, n, &q, acts, max_acts, bytes, cap);
	require(r == 0 || r == RSP_TRACE_E_FORMAT || r == RSP_TRACE_E_SPACE);
	if (r) return;
	require(q.nacts <= max_acts && q.bytes_used <= cap);
	if (q.has_cond) {
		require(!q.continuation);
		require(q.cond_off + q.cond_len <= q.bytes_used);
		(void)rsp_ax_check(bytes + q.cond_off, q.cond_len);
	}
	if (!q.continuation) require(q.nacts == 0);
	for (unsigned i = 0; i < q.nacts; i++) {
		const struct rsp_tp_action *a = &acts[i];
		require(a->kind == 'R' || a->kind == 'M' || a->kind == 'X' || a->kind == 'L');
		require(a->stepping == q.stepping);
		if (a->kind == 'R' || a->kind == 'X') {
			require(a->data_off + a->data_len <= q.bytes_used);
			if (a->kind == 'R') {
				require(a->data_len > 0);
				(void)rsp_tp_mask_has(bytes + a->data_off, a->data_len, i * 7);
			} else {
				(void)rsp_ax_check(bytes + a->data_off, a->data_len);
			}
		}
		if (a->kind == 'M') require(a->basereg >= -1 && a->basereg <= 0xffff);
	}
}

static void check_qtdv(const char *p, size_t n)
{
	struct rsp_qtdv v, w;
	if (rsp_qtdv_parse(p, n, &v) != 0) return;
	require(v.name_hex >= p && v.name_hex + v.name_hex_len <= p + n);
	char out[256];
	size_t k = rsp_qtdv_format(out, sizeof out, &v);
	if (v.name_hex_len > 200) return;
	require(k > 0);
	require(rsp_qtdv_parse(out, k, &w) == 0);
	require(w.num == v.num && w.value == v.value && w.builtin == v.builtin &&
		w.name_hex_len == v.name_hex_len &&
		memcmp(w.name_hex, v.name_hex, v.name_hex_len) == 0);
}

static void check_tstatus(const char *p, size_t n)
{
	struct rsp_tstatus st, again;
	if (rsp_tstatus_parse(p, n, &st) != 0) return;
	if (st.error) require(st.error >= p && st.error + st.error_len <= p + n);
	/* the error text is hex on the wire; the builder hex-encodes plain text,
	 * so hand it something plain */
	st.error = st.error ? "x" : NULL;
	st.error_len = st.error ? 1 : 0;
	char out[512];
	size_t k = rsp_tstatus_format(out, sizeof out, &st);
	require(k > 0);
	require(rsp_tstatus_parse(out, k, &again) == 0);
	require(again.running == st.running && again.frames == st.frames &&
		again.created == st.created && again.has_size == st.has_size &&
		again.circular == st.circular && again.disconn == st.disconn &&
		again.start_time == st.start_time && again.stop_time == st.stop_time);
	if (st.has_size) require(again.size == st.size && again.free == st.free);
	if (!st.running) {
		enum rsp_tstop_reason want = st.reason == RSP_TSTOP_RUNNING ? RSP_TSTOP_UNKNOWN : st.reason;
		require(again.reason == want);
		if (want == RSP_TSTOP_PASSCOUNT || want == RSP_TSTOP_ERROR)
			require(again.stop_tp == st.stop_tp);
	}
}

/* Re-encode a frame whose blocks all decode with our register size. */
static void reencode(const struct rsp_tframe *f)
{
	static uint8_t out[1 << 17];
	struct rsp_tframe_enc e;
	rsp_tframe_begin(&e, out, sizeof out, f->tpnum);
	size_t boff = 0;
	struct rsp_tblock b;
	int r;
	while ((r = rsp_tframe_block_next(f, &boff, &b)) == 1) {
		require(b.data == NULL || (b.data >= f->data && b.data + b.len <= f->data + f->data_len));
		require(boff <= f->data_len);
		switch (b.kind) {
		case 'R': rsp_tframe_add_regs(&e, b.data, b.len); break;
		case 'M': rsp_tframe_add_mem(&e, b.addr, b.data, b.len); break;
		case 'V': rsp_tframe_add_tsv(&e, b.num, b.value); break;
		default: abort();
		}
	}
	require(r == 0 || r == RSP_TRACE_E_FORMAT);
	if (r != 0 || f->regs_size != rsp_amd64_regblock_size()) return;
	size_t n = rsp_tframe_end(&e);
	if (f->size > sizeof out) return;
	require(n == f->size);
	require(memcmp(out, f->data - RSP_TFRAME_HDR, n) == 0);
}

static void check_frames(const uint8_t *d, size_t size, size_t regs_size)
{
	/* whole */
	size_t off = 0, nwhole = 0;
	unsigned tp[64];
	size_t sz[64];
	struct rsp_tframe f;
	int r;
	while ((r = rsp_tframe_next(d, size, &off, &f, 1 << 16)) == 1) {
		require(off <= size && f.size == RSP_TFRAME_HDR + f.data_len);
		if (nwhole < 64) { tp[nwhole] = f.tpnum; sz[nwhole] = f.size; }
		nwhole++;
		if (regs_size) f.regs_size = regs_size;
		reencode(&f);
	}
	require(r == 0 || r == RSP_TRACE_E_FORMAT);
	/* in pieces: a reader that appends what arrives and decodes what it can */
	static uint8_t acc[1 << 16];
	size_t have = 0, done = 0, npieces = 0, step = 1 + (size ? d[0] % 17 : 0);
	for (size_t pos = 0; pos < size && size <= sizeof acc;) {
		size_t k = size - pos < step ? size - pos : step;
		memcpy(acc + have, d + pos, k);
		have += k;
		pos += k;
		while ((r = rsp_tframe_next(acc, have, &done, &f, 1 << 16)) == 1) {
			if (npieces < 64 && npieces < nwhole)
				require(f.tpnum == tp[npieces] && f.size == sz[npieces]);
			npieces++;
		}
		if (r < 0) break;
	}
	if (size <= sizeof acc) require(npieces == nwhole);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	check_qtdp(p, size, 32, 4096);
	check_qtdp(p, size, 2, 16);
	check_qtdv(p, size);
	check_tstatus(p, size);
	check_frames(data, size, 0);
	check_frames(data, size, size ? 1 + data[size - 1] % 40 : 1);
	return 0;
}
