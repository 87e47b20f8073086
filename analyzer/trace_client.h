/* trace_client.h — a GDB tracepoint client over gotap's RSP connection
 * (GDB manual E.7 "Tracepoint Packets"): define trace state variables and
 * tracepoints with conditions and actions (agent-expression bytecode from
 * protocol/rsp_ax.h), start and stop the experiment, ask its status and a
 * variable's value, and read the trace buffer as a stream while the target
 * runs.
 *
 * Streaming (this project's extension, docs/DESIGN.md): after
 * "QTBuffer:stream:1" (before QTStart) qTBuffer offsets are absolute byte
 * offsets since QTStart, and "qTBuffer:OFF,LEN" also releases every frame
 * that ends at or before OFF: the stub never drops a frame, a hitting thread
 * waits for room instead.  The reader asks for as much as a packet holds
 * (PacketSize/2 bytes, the reply being hex), keeps a frame that arrived in
 * pieces until it is whole, and hands out whole frames (rsp_trace.h).  A
 * reply is decoded from the client's receive buffer straight into the
 * reader's (rspc_request_view): no copy of the hex on the way.
 *
 * Nothing here knows Go: growth_trace.c builds the programs.  All calls
 * return 0 (or a count) on success and a negative value on failure, with the
 * reason in rspc_error(c).
 */
#ifndef GOTAP_TRACE_CLIENT_H
#define GOTAP_TRACE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsp_trace.h"
#include "rspc.h"

/* One tracepoint action. */
struct tc_action {
	char kind;              /* 'R' registers, 'M' memory, 'X' agent expression */
	uint64_t mask;          /* R: registers 0..63 (gdb amd64 numbering), bit n = reg n */
	int basereg;            /* M: address = (basereg < 0 ? 0 : reg) + offset */
	uint64_t offset, len;   /* M */
	const uint8_t *code;    /* X: bytecode */
	size_t code_len;
};

struct tc_tracepoint {
	unsigned num;           /* >= 1 */
	uint64_t addr;
	bool enabled;
	uint64_t pass;          /* stop the experiment after this many collections; 0 = never */
	const uint8_t *cond;    /* condition bytecode, or NULL: always collect */
	size_t cond_len;
	const struct tc_action *acts;
	unsigned nacts;
};

/* Does the stub say it has tracepoints with conditions (qSupported
 * ConditionalTracepoints+)? */
bool tc_supported(const struct rspc *c);

/* QTinit: forget every tracepoint, variable and frame. */
int tc_init(struct rspc *c);

/* QTDV:num:value:0:name (name hex-encoded; may be NULL). */
int tc_define_tsv(struct rspc *c, unsigned num, int64_t initial, const char *name);

/* QTDP: the first form (condition included) and one continuation packet per
 * action, as gdb sends them.  The bytecode is not checked here. */
int tc_define(struct rspc *c, const struct tc_tracepoint *tp);

/* Format the packets tc_define sends, one at a time: packet i (0 = the
 * first form) into dst[0..cap), NUL-terminated.  Returns its length, 0 when
 * i is past the last packet, -1 if it does not fit.  For tests. */
long tc_format_qtdp(const struct tc_tracepoint *tp, unsigned i, char *dst, size_t cap);

/* QTBuffer:size:N.  0, 1 when the stub does not know the packet, -1. */
int tc_buffer_size(struct rspc *c, uint64_t size);

/* QTBuffer:stream:1.  0, 1 when the stub has no streaming (empty reply or
 * an error), -1 on a transport failure. */
int tc_stream_mode(struct rspc *c);

int tc_start(struct rspc *c);   /* QTStart */
int tc_stop(struct rspc *c);    /* QTStop */

/* qTStatus, parsed.  The error text of a run stopped by an error
 * ("terror") is decoded into text[0..cap) (NUL-terminated, "" if none;
 * st->error is left NULL).  0 or -1. */
int tc_status(struct rspc *c, struct rsp_tstatus *st, char *text, size_t cap);

/* qTV:num.  1 with *val, 0 when the value is unknown ("U"), -1. */
int tc_get_tsv(struct rspc *c, unsigned num, int64_t *val);

/* ------------------------------------------------------------ the stream */

struct tc_stream {
	struct rspc *c;
	uint64_t off;           /* absolute stream offset of the next byte to ask for */
	uint8_t *buf;           /* received, not handed out yet: buf[pos..len) */
	size_t pos, len, cap;
	size_t max_req;         /* bytes per request */
	size_t max_frame;       /* a frame larger than this is garbage */
	uint64_t requests, empty_requests, bytes, frames;
};

/* Prepare a reader from offset 0 (the experiment's start).  0 or -1. */
int tc_stream_init(struct tc_stream *s, struct rspc *c);
void tc_stream_free(struct tc_stream *s);

/* One "qTBuffer:OFF,LEN" request.  Frames handed out before the call are
 * released in the stub by it.  Returns the bytes received (0: none yet,
 * reply 'l'), or -1 (reason in rspc_error). */
long tc_stream_fill(struct tc_stream *s);

/* Feed bytes received by other means (tests): appended as a reply would be. */
int tc_stream_feed(struct tc_stream *s, const uint8_t *data, size_t n);

/* The next whole frame received: 1 with *f (pointing into the reader's
 * buffer, valid until the next fill/feed), 0 when none is complete yet, -1
 * when the stream is corrupt (a frame larger than max_frame). */
int tc_stream_next(struct tc_stream *s, struct rsp_tframe *f);

#endif /* GOTAP_TRACE_CLIENT_H */
