/* handlers.h — the stub's packet table and the helpers packet handlers share.
 *
 * One table (handlers.c) maps packet-name prefixes to handler functions; the
 * longest matching prefix wins and a packet no row matches gets the empty
 * reply ("not supported", GDB manual E.1).  The same rows carry the
 * qSupported feature each handler stands for, so the stub never advertises a
 * packet it does not implement, and --disable-packet removes a row from both.
 *
 * A handler gets the packet's argument bytes (after the prefix; binary, not
 * NUL-terminated) and writes its reply into a struct stub_out.  It returns:
 *   STUB_OK          send o as the reply (possibly empty)
 *   STUB_NO_REPLY    the target was resumed: the reply is a later stop
 *   < 0              -errno: the dispatcher answers "E" + errno in hex
 */
#ifndef GOTAP_STUB_HANDLERS_H
#define GOTAP_STUB_HANDLERS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "session.h"

enum { STUB_OK = 0, STUB_NO_REPLY = 1 };

/* Reply under construction: buf[0..len) within cap.  Writers that do not
 * fit set overflow instead of writing; the dispatcher then answers E.  */
struct stub_out {
	char *buf;
	size_t len, cap;
	bool overflow;
};

void stub_out_str(struct stub_out *o, const char *str);
void stub_out_mem(struct stub_out *o, const void *p, size_t n);
void stub_out_fmt(struct stub_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void stub_out_hex(struct stub_out *o, const void *p, size_t n);

/* Argument cursor over the packet bytes. */
struct stub_cur {
	const char *p;
	size_t n;
};

/* Each returns false (and consumes nothing) if the next bytes do not match. */
bool stub_cur_hex(struct stub_cur *c, uint64_t *v);       /* one hex number */
bool stub_cur_char(struct stub_cur *c, char ch);          /* exactly ch */
bool stub_cur_ptid(struct stub_cur *c, struct rsp_ptid *id);
static inline bool stub_cur_end(const struct stub_cur *c) { return c->n == 0; }
/* Decode hex text up to the next sep (or the end) into a NUL-terminated
 * string dst[cap]; consumes the separator.  False if malformed or too long. */
bool stub_cur_hexstr(struct stub_cur *c, char sep, char *dst, size_t cap);

typedef int (*stub_handler_fn)(struct stub_session *s, struct stub_cur args,
			       struct stub_out *o);

enum {
	STUB_H_EXACT = 1,     /* the packet must equal the prefix (no arguments) */
	STUB_H_PROCESS = 2,   /* needs a stopped process: E01 otherwise (ESRCH) */
};

struct stub_handler {
	const char *prefix;      /* packet prefix, e.g. "m", "qXfer:auxv:read:" */
	stub_handler_fn fn;
	const char *feature;     /* qSupported entry, e.g. "qXfer:auxv:read+", or NULL */
	unsigned flags;
	const char *name;        /* --disable-packet name (gdbserver's where it has one) */
};

/* Dispatch one packet: fills o, returns as a handler does (errors already
 * turned into "E.." replies, so the result is STUB_OK or STUB_NO_REPLY). */
int stub_dispatch(struct stub_session *s, const char *pkt, size_t len, struct stub_out *o);

/* Is name in the --disable-packet list? */
bool stub_name_disabled(const struct stub_session *s, const char *name);

/* Names accepted by --disable-packet (for --help); true if name is known. */
bool stub_packet_name_known(const char *name);
void stub_print_packet_names(FILE *f);

/* Serve doc[0..len) at offset/length as a qXfer reply ('m'/'l' + raw bytes;
 * framing escapes them). */
void stub_xfer_chunk(struct stub_out *o, const char *doc, size_t len,
		     uint64_t offset, uint64_t length);
/* Append to the session's qXfer document buffer (grows). false on ENOMEM. */
bool stub_xdoc_add(struct stub_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append an XML-escaped string to the qXfer document. */
bool stub_xdoc_add_escaped(struct stub_session *s, const char *str);

/* Refresh s->threads/s->nthreads from the backend.  Returns the count or -errno. */
int stub_load_threads(struct stub_session *s);

/* Handler groups (one file each). */
/* handlers_regs.c */
int stub_h_g(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_G(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_p(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_P(struct stub_session *, struct stub_cur, struct stub_out *);
/* handlers_mem.c */
int stub_h_m(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_M(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_X(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_Z(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_z(struct stub_session *, struct stub_cur, struct stub_out *);
/* handlers_run.c */
int stub_h_status(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_c(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_C(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_s(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_S(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_vcont_q(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_vcont(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_k(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_vkill(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_D(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_vattach(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_vrun(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_pass_signals(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_program_signals(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qnonstop(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_vstopped(struct stub_session *, struct stub_cur, struct stub_out *);
/* handlers_thread.c */
int stub_h_H(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_T(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qC(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qfthreadinfo(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qsthreadinfo(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_xfer_threads(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qattached(struct stub_session *, struct stub_cur, struct stub_out *);
/* handlers_query.c */
int stub_h_qsupported(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_noack(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_extended(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_xfer_features(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_xfer_auxv(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_xfer_exec_file(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qrcmd(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qsymbol(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_list_end(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_ok(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_disable_aslr(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_set_cwd(struct stub_session *, struct stub_cur, struct stub_out *);
/* handlers_svr4.c */
int stub_h_xfer_svr4(struct stub_session *, struct stub_cur, struct stub_out *);
/* handlers_trace.c (tracepoints, stub/trace.h) */
int stub_h_qtinit(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtdp(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtdpsrc(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtdv(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtro(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtnotes(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtdisconnected(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtenable(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtdisable(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtbuffer_circular(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtbuffer_size(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtbuffer_stream(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtstart(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtstop(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtstatus_trace(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtp(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtv(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtfp(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtsp(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtfv(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtsv(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtbuffer(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_qtframe(struct stub_session *, struct stub_cur, struct stub_out *);
int stub_h_xfer_tfinfo(struct stub_session *, struct stub_cur, struct stub_out *);
/* handlers_vfile.c */
int stub_h_vfile(struct stub_session *, struct stub_cur, struct stub_out *);
void stub_vfile_close_all(struct stub_session *s);

#endif /* GOTAP_STUB_HANDLERS_H */
