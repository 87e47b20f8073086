/* rsp.h — the GDB Remote Serial Protocol codec shared by gotap-stub and gotap.
 *
 * Pure code: bytes in, packets and values out.  No sockets, no globals, no
 * allocation (every buffer is the caller's, passed with its capacity), so the
 * whole library can be fuzzed and unit-tested without a process or a network.
 *
 * Reference: GDB manual, appendix E "GDB Remote Serial Protocol"
 * (Overview, Packets, Stop Reply Packets, General Query Packets, Notification
 * Packets, Remote Non-Stop, Binary data, Run-length encoding).
 */
#ifndef GOTAP_RSP_H
#define GOTAP_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default PacketSize we advertise and the capacity of receive buffers.
 * Large enough that gdb (and gotap) can read a whole 16 KiB of memory in one
 * 'm' packet (hex doubles it) or 64 KiB in one binary 'x'/'X'. */
#define RSP_PACKET_SIZE 0x20000

/* ---------------------------------------------------------------- framing */

/* What rsp_parser_feed() recognised. */
enum rsp_event {
	RSP_EV_NONE = 0,      /* need more bytes */
	RSP_EV_ACK,           /* '+' */
	RSP_EV_NAK,           /* '-' */
	RSP_EV_INTERRUPT,     /* 0x03 outside a packet (Ctrl-C from gdb) */
	RSP_EV_PACKET,        /* '$' payload '#xx' with a good checksum */
	RSP_EV_NOTIFICATION,  /* '%' payload '#xx' (non-stop notifications, client side) */
	RSP_EV_BAD_CHECKSUM,  /* complete packet, wrong checksum: answer '-' */
	RSP_EV_TOO_LONG,      /* complete packet whose decoded payload exceeded cap: answer error */
	RSP_EV_BAD_FORMAT,    /* complete packet with a bad escape or run-length sequence */
};

/* Incremental receive state machine.  Feed it any split of the byte stream;
 * it decodes '}' escapes and '*' run-length encoding into buf (never writing
 * past cap) and reports one event at a time.  buf is owned by the caller. */
struct rsp_parser {
	uint8_t *buf;     /* decoded payload of the current packet */
	size_t cap;       /* capacity of buf */
	size_t len;       /* decoded length so far / of the completed packet */
	int state;        /* private */
	uint8_t sum;      /* private: running checksum */
	uint8_t want;     /* private: checksum digits */
	bool overflow;    /* private */
	bool bad;         /* private */
	bool notification;/* private */
	int prev;         /* private: last decoded byte, for RLE; -1 if none */
};

/* Prepare p to receive into buf[0..cap). */
void rsp_parser_init(struct rsp_parser *p, uint8_t *buf, size_t cap);

/* Consume bytes from in[0..n) until one event is recognised or input ends.
 * Returns the number of bytes consumed (<= n) and stores the event in *ev
 * (RSP_EV_NONE if the input ended first).  After RSP_EV_PACKET or
 * RSP_EV_NOTIFICATION the payload is p->buf[0..p->len); it stays valid until
 * the next call.  Bytes between packets other than '+', '-', 0x03 are ignored.
 * Call again with the rest of the input while bytes remain: one call reports
 * at most one event.  Details: a '$' inside a packet restarts the packet
 * (resync, as gdb does); a non-hex checksum digit gives RSP_EV_BAD_CHECKSUM
 * and is left unconsumed (it may be the next '$'); when several faults
 * coincide the order is BAD_CHECKSUM (answer '-': the sender resends), then
 * TOO_LONG, then BAD_FORMAT.  After TOO_LONG, buf holds the first cap bytes.
 * The payload is not NUL-terminated. */
size_t rsp_parser_feed(struct rsp_parser *p, const uint8_t *in, size_t n,
		       enum rsp_event *ev);

/* Frame payload[0..n) as "$" data "#xx" into dst[0..cap), escaping '#', '$',
 * '}' and '*' (as '}' then byte^0x20) so binary payloads survive.  With
 * notification set the frame starts with '%'.  Returns the framed length, or 0
 * if it does not fit in cap (dst is then unspecified). */
size_t rsp_frame(uint8_t *dst, size_t cap, const uint8_t *payload, size_t n,
		 bool notification);

/* Checksum of data[0..n): sum of bytes modulo 256. */
uint8_t rsp_checksum(const uint8_t *data, size_t n);

/* Escape binary data[0..n) for a packet body ('#','$','}','*' -> '}' x^0x20)
 * into dst[0..cap).  Returns the number of bytes written; *consumed receives
 * how many input bytes fit (an escape pair is never split).
 * NOTE: rsp_frame() already escapes its payload, so payloads handed to
 * rsp_frame() must stay RAW; this function (and rsp_escape_fit) is for
 * sizing, or for a transport that frames by other means. */
size_t rsp_escape(uint8_t *dst, size_t cap, const uint8_t *data, size_t n,
		  size_t *consumed);

/* How many leading bytes of data[0..n) fit in `budget` bytes once escaped.
 * Use it to size binary payloads ('X', 'x' and qXfer replies) so the framed
 * packet stays within PacketSize. */
size_t rsp_escape_fit(const uint8_t *data, size_t n, size_t budget);

/* ------------------------------------------------------------------- hex */

/* Write n bytes as 2n lowercase hex digits.  Returns 2n, or 0 if cap < 2n. */
size_t rsp_hex_encode(char *dst, size_t cap, const uint8_t *src, size_t n);

/* Decode exactly 2n hex digits from src[0..srclen) into dst[0..n).
 * Returns n on success, or -1 if srclen < 2n or a digit is not hex. */
long rsp_hex_decode(uint8_t *dst, size_t n, const char *src, size_t srclen);

/* Parse a run of hex digits at src[0..len) as an unsigned value.
 * Returns the number of digits consumed (>= 1) or 0 if there is no digit or
 * the value overflows 64 bits.  Never reads past len. */
size_t rsp_parse_hex_u64(const char *src, size_t len, uint64_t *out);

/* Same for a signed hex value with optional leading '-' (thread ids: "-1"). */
size_t rsp_parse_hex_i64(const char *src, size_t len, int64_t *out);

/* Write v as lowercase hex without leading zeros ("0" for zero). Returns the
 * length written or 0 if cap is too small. */
size_t rsp_fmt_hex_u64(char *dst, size_t cap, uint64_t v);

/* ------------------------------------------------------------ thread ids */

/* A thread id as the protocol writes it: [p<pid>.]<tid>, where each part is
 * hex, or -1 for "all", or 0 for "any". */
struct rsp_ptid {
	int64_t pid;   /* 0 when absent (no multiprocess) */
	int64_t tid;
	bool has_pid;
};

/* Parse a thread id at src[0..len).  Returns bytes consumed, 0 on error. */
size_t rsp_parse_ptid(const char *src, size_t len, struct rsp_ptid *out);

/* Format a thread id; with multiprocess, "p<pid>.<tid>".  Returns length or 0. */
size_t rsp_fmt_ptid(char *dst, size_t cap, const struct rsp_ptid *id,
		    bool multiprocess);

/* ------------------------------------------------------------ stop replies */

enum rsp_stop_kind {
	RSP_STOP_SIGNAL,      /* 'T'/'S' */
	RSP_STOP_EXITED,      /* 'W' exit code */
	RSP_STOP_TERMINATED,  /* 'X' signal */
	RSP_STOP_THREAD_EXIT, /* 'w' (QThreadEvents) */
	RSP_STOP_NO_RESUMED,  /* 'N' */
	RSP_STOP_OUTPUT,      /* 'O' console output (client side; hex text in buf) */
};

enum rsp_stop_reason {
	RSP_REASON_NONE = 0,
	RSP_REASON_SWBREAK,
	RSP_REASON_HWBREAK,
	RSP_REASON_WATCH,
	RSP_REASON_RWATCH,
	RSP_REASON_AWATCH,
	RSP_REASON_LIBRARY,
	RSP_REASON_EXEC,
	RSP_REASON_FORK,
	RSP_REASON_VFORK,
	RSP_REASON_CLONE,
	RSP_REASON_CREATE,
};

#define RSP_STOP_MAX_REGS 8

struct rsp_stop {
	enum rsp_stop_kind kind;
	int sig;                    /* GDB signal number (not Linux's: convert with rsp_sig_*) */
	int exit_code;              /* for EXITED */
	struct rsp_ptid thread;     /* has_thread tells whether present */
	bool has_thread;
	int64_t process;            /* ;process:pid for W/X, 0 if absent */
	enum rsp_stop_reason reason;
	uint64_t reason_addr;       /* watch address, or new ptid/pid for fork/clone */
	int core;                   /* -1 if absent */
	unsigned nregs;             /* expedited registers */
	struct { unsigned regno; uint64_t value; } regs[RSP_STOP_MAX_REGS];
};

/* Encode a stop reply into dst as gdbserver writes it: reason first, then the
 * expedited registers (8 little-endian bytes each), thread, core:
 * "T05swbreak:;06:<8B>;07:<8B>;10:<8B>;thread:p1a2b.1a2b;core:1;".  Exit:
 * "W03" or, multiprocess, "W3;process:1a2b" (gdbserver drops the zero padding
 * there); 'X' likewise; "w0;p1a2b.1a2c"; "N".  core < 0 is omitted (set core
 * to -1 when unknown: 0 is a real core).  RSP_STOP_OUTPUT is not encoded here
 * (returns 0).  Returns length (no NUL written), or 0 if it does not fit. */
size_t rsp_stop_encode(char *dst, size_t cap, const struct rsp_stop *st,
		       bool multiprocess);

/* Decode a stop reply ("T05thread:p1.2;06:...;swbreak:;", "W00;process:1", ...)
 * from src[0..len).  Unknown fields are ignored, as the manual requires;
 * fields may come in any order; at most RSP_STOP_MAX_REGS registers are kept
 * (values wider than 8 bytes keep their low 8).  core is -1 when absent.
 * For 'O' only the kind is set (the hex text stays in src).
 * Returns 0 on success, -1 if malformed (*out untouched then). */
int rsp_stop_decode(const char *src, size_t len, struct rsp_stop *out);

/* Linux signal number <-> GDB's target-independent signal number
 * (include/gdb/signals.def).  They differ even below 16 (Linux SIGBUS 7 is
 * GDB 10, SIGUSR1 10 is GDB 30, SIGUSR2 12 is GDB 31) and widely above
 * (SIGURG 23 <-> GDB 16, SIGCHLD 17 <-> GDB 20; real-time 34..64 <-> 46..78).
 * rsp_sig_from_host returns 143 (GDB_SIGNAL_UNKNOWN) for a number Linux does
 * not have; rsp_sig_to_host returns -1 for a GDB signal Linux does not have. */
int rsp_sig_from_host(int host_sig);
int rsp_sig_to_host(int gdb_sig);

/* -------------------------------------------------- amd64-linux registers */

/* gdb's amd64-linux register numbering, as in gdbserver's target.xml
 * (features core, sse, linux, segments; no AVX): */
enum rsp_amd64_regno {
	RSP_AMD64_RAX = 0, RSP_AMD64_RBX, RSP_AMD64_RCX, RSP_AMD64_RDX,
	RSP_AMD64_RSI, RSP_AMD64_RDI, RSP_AMD64_RBP, RSP_AMD64_RSP,
	RSP_AMD64_R8, RSP_AMD64_R9, RSP_AMD64_R10, RSP_AMD64_R11,
	RSP_AMD64_R12, RSP_AMD64_R13, RSP_AMD64_R14, RSP_AMD64_R15,
	RSP_AMD64_RIP = 16, RSP_AMD64_EFLAGS, RSP_AMD64_CS, RSP_AMD64_SS,
	RSP_AMD64_DS, RSP_AMD64_ES, RSP_AMD64_FS, RSP_AMD64_GS,
	RSP_AMD64_ST0 = 24,            /* st0..st7: 10 bytes each */
	RSP_AMD64_FCTRL = 32, RSP_AMD64_FSTAT, RSP_AMD64_FTAG, RSP_AMD64_FISEG,
	RSP_AMD64_FIOFF, RSP_AMD64_FOSEG, RSP_AMD64_FOOFF, RSP_AMD64_FOP,
	RSP_AMD64_XMM0 = 40,           /* xmm0..xmm15: 16 bytes each */
	RSP_AMD64_MXCSR = 56,
	RSP_AMD64_ORIG_RAX = 57,
	RSP_AMD64_FS_BASE = 58,
	RSP_AMD64_GS_BASE = 59,
	RSP_AMD64_NREGS = 60,
};

struct rsp_reg_desc {
	const char *name;
	unsigned bits;        /* 32, 64, 80 or 128 */
	unsigned offset;      /* byte offset in the 'g' packet's register block */
	const char *type;     /* target.xml type: int64, code_ptr, data_ptr, i387_ext, vec128, ... */
	const char *group;    /* target.xml group or NULL */
	const char *feature;  /* org.gnu.gdb.i386.core / .sse / .linux / .segments */
};

/* Table of RSP_AMD64_NREGS entries, indexed by regno. */
extern const struct rsp_reg_desc rsp_amd64_regs[RSP_AMD64_NREGS];

/* Total byte size of the 'g' packet register block (sum of sizes). */
size_t rsp_amd64_regblock_size(void);

/* The complete target.xml document (NUL-terminated, static storage),
 * describing exactly rsp_amd64_regs in that order (osabi GNU/Linux). */
const char *rsp_amd64_target_xml(void);

/* ------------------------------------------------------ qXfer helpers */

/* Parse "annex:offset,length" (offset and length hex) found after
 * "qXfer:<object>:read:".  annex points into src (not NUL-terminated).
 * Returns 0 on success, -1 if malformed. */
int rsp_parse_xfer_read(const char *src, size_t len, const char **annex,
			size_t *annex_len, uint64_t *offset, uint64_t *length);

/* Build a qXfer read reply for document doc[0..doclen) at offset/length:
 * 'm' + chunk if more follows, 'l' + chunk for the last piece.  The chunk is
 * written RAW (rsp_frame escapes it on the way out), but it is cut so that
 * its ESCAPED size plus the 'm'/'l' byte fits in cap: pass cap = PacketSize
 * budget and the framed reply fits.  A shortened piece is 'm' (legal: the
 * client asks again from where it ended).  Offset at or past the end gives
 * "l".  Returns reply length, or 0 if not even one byte of data fits. */
size_t rsp_xfer_reply(char *dst, size_t cap, const char *doc, size_t doclen,
		      uint64_t offset, uint64_t length);

#endif /* GOTAP_RSP_H */
