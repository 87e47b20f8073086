/* rsp_trace.h — tracepoint packets (QTDP, QTDV, qTStatus) and trace frames.
 *
 * GDB manual, appendix E.7 "Tracepoint Packets".  gdb defines a tracepoint
 * with one first-form QTDP packet and, when it ended with '-', continuation
 * packets carrying its actions, e.g. (gdb 13, remote.c download_tracepoint):
 *
 *	QTDP:1:0000000000401136:E:0:0-
 *	QTDP:-1:0000000000401136:R1ffffff-        registers (mask, hex, MSB first)
 *	QTDP:-1:0000000000401136:M-1,404028,8-    memory: basereg (-1 absolute),offset,len
 *	QTDP:-1:0000000000401136:X6,2600070d1027  agent expression: len,hex
 *	QTDP:-1:0000000000401136:SR1ffffff        'S': while-stepping actions start
 *
 * All numbers are hex.  A packet may carry several actions back to back, as
 * gdb 13 really sends them (captured with gdbserver, `set debug remote 1`):
 *	QTDP:2:0000555555555159:E:0:0:X13,26000622100222e81608021a164022012b1427-
 *	QTDP:-2:0000555555555159:L-
 *	QTDP:-2:0000555555555159:R07ffffffffffffffffffffffffffffffffffffff-
 *	QTDP:-2:0000555555555159:M-1,555555558040,20X0000000F,26000622100222e816080222080c27X00000008,2c00022e00022927
 *	QTDP:3:00005555555551c7:E:2:0-
 *	QTDP:-3:00005555555551c7:SR010000
 *
 * Trace frames (this project's in-stub trace buffer, gdbserver's layout):
 *	u16 tracepoint number, u32 data size, then data size bytes of blocks:
 *	'R' + register block (rsp_amd64_regblock_size() bytes, 'g' packet order)
 *	'M' + u64 address + u16 length + length bytes
 *	'V' + u32 variable number + i64 value
 * All little endian.  Tracepoint number 0 is never a real tracepoint.
 *
 * Pure code: no malloc, no globals, no I/O; all storage is the caller's.
 */
#ifndef GOTAP_RSP_TRACE_H
#define GOTAP_RSP_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors returned (< 0) by the parsers here. */
enum rsp_trace_err {
	RSP_TRACE_E_FORMAT = -1,   /* malformed packet */
	RSP_TRACE_E_SPACE = -2,    /* more actions or bytes than the caller gave room for */
};

/* ------------------------------------------------------------ QTDP */

enum rsp_tp_action_kind {
	RSP_TP_ACT_REGS = 'R',   /* collect registers (mask) */
	RSP_TP_ACT_MEM = 'M',    /* collect a memory range */
	RSP_TP_ACT_EXPR = 'X',   /* evaluate an agent expression (its trace ops collect) */
	RSP_TP_ACT_SDATA = 'L',  /* collect static tracepoint data ($_sdata); no operands */
};

struct rsp_tp_action {
	char kind;            /* enum rsp_tp_action_kind */
	bool stepping;        /* in a packet that began with 'S' (while-stepping) */
	/* 'M': address = (basereg == -1 ? 0 : value of basereg) + offset */
	int basereg;
	uint64_t offset;
	uint64_t len;
	/* 'R': the mask bytes as sent (most significant byte first);
	 * 'X': the bytecode.  Both are stored in the caller's bytes[]
	 * array at data_off (offsets, so the caller may move the array). */
	size_t data_off, data_len;
};

/* One parsed QTDP packet.  First form: num, addr, enabled, step, pass, fast,
 * flen, is_static, cond (stored in bytes[]).  Continuation form
 * (continuation = true): num, addr and the actions. */
struct rsp_qtdp {
	bool continuation;      /* "-n:addr:..." */
	uint32_t num;
	uint64_t addr;
	bool enabled;           /* 'E' (else 'D') */
	uint64_t step;          /* while-stepping step count */
	uint64_t pass;          /* pass count (0 = none) */
	bool fast;              /* ":F<flen>" present */
	uint64_t flen;
	bool is_static;         /* ":S" present (static tracepoint) */
	bool has_cond;          /* ":X<len>,<hex>" condition present */
	size_t cond_off, cond_len;  /* condition bytecode in bytes[] */
	bool stepping;          /* continuation whose actions begin with 'S' */
	unsigned nacts;         /* actions written to acts[] */
	size_t bytes_used;      /* bytes of bytes[] used (cond, masks, bytecode) */
	bool more;              /* trailing '-': more QTDP packets follow */
};

/* Parse one QTDP packet; p[0..n) is the text after "QTDP:".  Actions go to
 * acts[0..max_acts), condition and action data to bytes[0..bytes_cap)
 * (hex-decoded).  Agent expressions are NOT validated here (use
 * rsp_ax_check).  Unknown first-form fields (e.g. ":K<kind>") are skipped.
 * Returns 0, RSP_TRACE_E_FORMAT or RSP_TRACE_E_SPACE. */
int rsp_qtdp_parse(const char *p, size_t n, struct rsp_qtdp *out,
		   struct rsp_tp_action *acts, unsigned max_acts,
		   uint8_t *bytes, size_t bytes_cap);

/* Whether register regno is set in an 'R' action's mask bytes
 * (mask[0] is the most significant byte; bit 0 of the last byte is reg 0). */
bool rsp_tp_mask_has(const uint8_t *mask, size_t mask_len, unsigned regno);

/* ------------------------------------------------------------ QTDV */

/* QTDV:n:value:builtin:name — a trace state variable.  value is sent as 16
 * hex digits (two's complement); name is hex-encoded text and is left as is
 * (pointer into the packet), which is also the form qTfV/qTsV replies use. */
struct rsp_qtdv {
	uint32_t num;
	int64_t value;
	bool builtin;
	const char *name_hex;   /* into p, not NUL-terminated; may be empty */
	size_t name_hex_len;
};

/* p[0..n) is the text after "QTDV:".  Returns 0 or RSP_TRACE_E_FORMAT. */
int rsp_qtdv_parse(const char *p, size_t n, struct rsp_qtdv *out);

/* Format "n:value:builtin:name" (value in hex without leading zeros, two's
 * complement when negative, as gdbserver replies "1:0:1:7472...") — the body
 * of a qTfV/qTsV reply.  Returns length or 0 if it does not fit. */
size_t rsp_qtdv_format(char *dst, size_t cap, const struct rsp_qtdv *v);

/* ------------------------------------------------------------ qTStatus */

enum rsp_tstop_reason {
	RSP_TSTOP_NOT_RUN = 0,    /* tnotrun:0  never started */
	RSP_TSTOP_RUNNING,        /* (no reason field: T1) */
	RSP_TSTOP_USER,           /* tstop::0   QTStop (gdbserver's form; tstop:0 also parsed) */
	RSP_TSTOP_FULL,           /* tfull:0    buffer full */
	RSP_TSTOP_DISCONNECTED,   /* tdisconnected:0 */
	RSP_TSTOP_PASSCOUNT,      /* tpasscount:<tpnum> */
	RSP_TSTOP_ERROR,          /* terror:<hex text>:<tpnum> */
	RSP_TSTOP_UNKNOWN,        /* tunknown:0 */
};

struct rsp_tstatus {
	bool running;                 /* T1 (else T0) */
	enum rsp_tstop_reason reason; /* when !running */
	uint32_t stop_tp;             /* tracepoint for PASSCOUNT / ERROR */
	const char *error;            /* ERROR text (plain; hex-encoded on the wire), may be NULL */
	size_t error_len;
	uint64_t frames;              /* tframes: frames in the buffer */
	uint64_t created;             /* tcreated: frames created since start */
	uint64_t size;                /* tsize: buffer size */
	uint64_t free;                /* tfree: free bytes */
	bool circular;                /* circular:1 */
	bool disconn;                 /* disconn:1 (disconnected tracing) */
	bool has_size;                /* tsize/tfree sent (else omitted) */
	uint64_t start_time, stop_time; /* starttime/stoptime (usec since epoch, 0 = none) */
};

/* Build a qTStatus reply like gdbserver's, e.g. "T0;tstop::0;tframes:6;
 * tcreated:6;tfree:4fce22;tsize:500000;circular:0;disconn:0;starttime:29476f1d2;
 * stoptime:2947715f0" (running: "T1;tframes:..." without a reason).
 * Returns length (no NUL) or 0 if it does not fit. */
size_t rsp_tstatus_format(char *dst, size_t cap, const struct rsp_tstatus *st);

/* Parse a qTStatus reply (client side).  Unknown fields are ignored.  For
 * ERROR the text stays hex-encoded: error points into src.
 * Returns 0 or RSP_TRACE_E_FORMAT. */
int rsp_tstatus_parse(const char *src, size_t len, struct rsp_tstatus *out);

/* ------------------------------------------------------------ trace frames */

#define RSP_TFRAME_HDR 6u                 /* u16 tpnum + u32 size */
#define RSP_TFRAME_MEM_HDR 11u            /* 'M' + u64 addr + u16 len */
#define RSP_TFRAME_MEM_MAX 0xffffu        /* longest single 'M' block */
#define RSP_TFRAME_TSV_SIZE 13u           /* 'V' + u32 + i64 */

/* Frame encoder over a caller buffer.  Any call that does not fit sets err
 * (and later calls do nothing); rsp_tframe_end then returns 0. */
struct rsp_tframe_enc {
	uint8_t *buf;
	size_t cap;
	size_t len;     /* bytes written so far, header included */
	int err;        /* 0, RSP_TRACE_E_SPACE, or RSP_TRACE_E_FORMAT (tpnum > 0xffff,
			 * reserve of more than RSP_TFRAME_MEM_MAX) */
	size_t last_mem;/* private: offset of the last 'M' block, for trim */
};

/* Start a frame for tracepoint tpnum at buf[0..cap). */
void rsp_tframe_begin(struct rsp_tframe_enc *e, uint8_t *buf, size_t cap,
		      unsigned tpnum);
/* Add an 'R' block: regs[0..n), normally n = rsp_amd64_regblock_size(). */
void rsp_tframe_add_regs(struct rsp_tframe_enc *e, const uint8_t *regs, size_t n);
/* Add 'M' blocks for [addr, addr+len) with data; split into blocks of at
 * most RSP_TFRAME_MEM_MAX bytes. */
void rsp_tframe_add_mem(struct rsp_tframe_enc *e, uint64_t addr,
			const void *data, size_t len);
/* Reserve one 'M' block of len (<= RSP_TFRAME_MEM_MAX) bytes and return
 * where its data goes, so memory can be read straight into the frame; NULL
 * if it does not fit.  rsp_tframe_trim_mem(e, n) then shortens that last
 * block to n <= len bytes (e.g. tracenz, or a read that came up short). */
uint8_t *rsp_tframe_reserve_mem(struct rsp_tframe_enc *e, uint64_t addr, size_t len);
void rsp_tframe_trim_mem(struct rsp_tframe_enc *e, size_t n);
/* Shorten the 'M' block whose header starts at offset off of the frame
 * being built to its first keep bytes (keep 0: take the block out), moving
 * what follows it back.  For a caller that reserves blocks first and reads
 * them later, when a read comes back short.  Does nothing when off is not
 * a whole 'M' block of the frame or keep is not shorter than it. */
void rsp_tframe_cut_mem(struct rsp_tframe_enc *e, size_t off, size_t keep);
/* Add a 'V' block. */
void rsp_tframe_add_tsv(struct rsp_tframe_enc *e, uint32_t num, int64_t value);
/* Finish: write the data size.  Returns the frame's total length, or 0 on
 * overflow (nothing usable in buf then). */
size_t rsp_tframe_end(struct rsp_tframe_enc *e);

/* A decoded frame: points into the buffer it was decoded from. */
struct rsp_tframe {
	unsigned tpnum;
	const uint8_t *data;   /* blocks */
	size_t data_len;
	size_t size;           /* whole frame: RSP_TFRAME_HDR + data_len */
	size_t regs_size;      /* size of an 'R' block: rsp_tframe_next sets
				* rsp_amd64_regblock_size(); a reader of another
				* layout (gdbserver's tfile "R 9c4") may change it */
};

struct rsp_tblock {
	char kind;             /* 'R', 'M' or 'V' */
	const uint8_t *data;   /* R: register block; M: the bytes */
	size_t len;            /* R: register block size; M: byte count */
	uint64_t addr;         /* M */
	uint32_t num;          /* V */
	int64_t value;         /* V */
};

/* Decode the frame at buf[*off..len).  Returns 1 and advances *off past it,
 * 0 if the bytes end before the frame does ("need more bytes": keep them and
 * call again when more arrived; *off unchanged), or RSP_TRACE_E_FORMAT if
 * the frame's size exceeds max_size (0 = no limit; protects a stream reader
 * from waiting forever on garbage).  Blocks are not checked here. */
int rsp_tframe_next(const uint8_t *buf, size_t len, size_t *off,
		    struct rsp_tframe *f, size_t max_size);

/* Decode the next block of f at *boff (start with *boff = 0).  Returns 1
 * and advances *boff, 0 at the end of the frame, RSP_TRACE_E_FORMAT if a
 * block is unknown or runs past the frame. */
int rsp_tframe_block_next(const struct rsp_tframe *f, size_t *boff,
			  struct rsp_tblock *b);

#endif /* GOTAP_RSP_TRACE_H */
