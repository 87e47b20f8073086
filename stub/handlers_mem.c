/* handlers_mem.c — memory and breakpoint packets: m, M, X, Z0-Z4, z0-z4.
 *
 * Memory reads may come back short at the end of a mapping: the reply then
 * carries what was read (the GDB manual allows a partial 'm' reply); nothing
 * readable at all is an error.  Reads show the original bytes under software
 * breakpoints (the backend's contract), so gdb never sees 0xCC.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "handlers.h"

static uint8_t scratch[RSP_PACKET_SIZE];

/* "addr,len" -> values; len clamped so addr+len does not wrap. */
static bool addr_len(struct stub_cur *a, uint64_t *addr, uint64_t *len)
{
	if (!stub_cur_hex(a, addr) || !stub_cur_char(a, ',') || !stub_cur_hex(a, len)) return false;
	if (*len > UINT64_MAX - *addr) *len = UINT64_MAX - *addr;
	return true;
}

int stub_h_m(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	uint64_t addr, len;
	if (!addr_len(&a, &addr, &len) || !stub_cur_end(&a)) return -EINVAL;
	/* The hex reply must fit in the PacketSize we advertise (a client may
	 * size its buffer by it); a short reply makes gdb ask for the rest. */
	if (len > (RSP_PACKET_SIZE - 16) / 2) len = (RSP_PACKET_SIZE - 16) / 2;
	if ((o->cap - o->len) / 2 < len) len = (o->cap - o->len) / 2;
	if (len == 0) return STUB_OK;
	long n = s->ops->read_mem(s->tgt, addr, scratch, (size_t)len);
	if (n <= 0) return n < 0 ? (int)n : -EIO;
	stub_out_hex(o, scratch, (size_t)n);
	return STUB_OK;
}

static int write_all(struct stub_session *s, uint64_t addr, const uint8_t *p, size_t n)
{
	if (n == 0) return 0;
	long w = s->ops->write_mem(s->tgt, addr, p, n);
	if (w < 0) return (int)w;
	if ((size_t)w != n) return -EIO;
	return 0;
}

int stub_h_M(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	uint64_t addr, len;
	if (!addr_len(&a, &addr, &len) || !stub_cur_char(&a, ':')) return -EINVAL;
	if (len > sizeof scratch || a.n != 2 * len) return -EINVAL;
	if (rsp_hex_decode(scratch, (size_t)len, a.p, a.n) < 0) return -EINVAL;
	int r = write_all(s, addr, scratch, (size_t)len);
	if (r < 0) return r;
	stub_out_str(o, "OK");
	return STUB_OK;
}

/* X addr,len:binary — the parser already undid the '}' escapes. */
int stub_h_X(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	uint64_t addr, len;
	if (!addr_len(&a, &addr, &len) || !stub_cur_char(&a, ':')) return -EINVAL;
	if (a.n != len) return -EINVAL;
	int r = write_all(s, addr, (const uint8_t *)a.p, a.n);
	if (r < 0) return r;
	stub_out_str(o, "OK");
	return STUB_OK;
}

/* Z/z type,addr,kind[;cond...]: conditions are not offered, so ignored. */
static int bp(struct stub_session *s, struct stub_cur a, struct stub_out *o, bool insert)
{
	uint64_t type, addr, kind;
	if (!stub_cur_hex(&a, &type) || !stub_cur_char(&a, ',') || !stub_cur_hex(&a, &addr) ||
	    !stub_cur_char(&a, ',') || !stub_cur_hex(&a, &kind))
		return -EINVAL;
	if (!stub_cur_end(&a) && !stub_cur_char(&a, ';')) return -EINVAL;
	if (type > 4) return STUB_OK;   /* unknown type: empty reply = unsupported */
	if (kind == 0 || kind > 8) return -EINVAL;
	enum tgt_bp_kind k = (enum tgt_bp_kind)type;
	int r = insert ? s->ops->insert_bp(s->tgt, k, addr, (unsigned)kind)
		       : s->ops->remove_bp(s->tgt, k, addr, (unsigned)kind);
	if (r == -ENOSYS || r == -EOPNOTSUPP) return STUB_OK;   /* unsupported */
	if (r < 0) return r;
	if (k == TGT_BP_SW) {
		if (insert) stub_swbp_add(s, addr);
		else stub_swbp_del(s, addr);
	}
	stub_out_str(o, "OK");
	return STUB_OK;
}

int stub_h_Z(struct stub_session *s, struct stub_cur a, struct stub_out *o) { return bp(s, a, o, true); }
int stub_h_z(struct stub_session *s, struct stub_cur a, struct stub_out *o) { return bp(s, a, o, false); }
