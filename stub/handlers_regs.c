/* handlers_regs.c — register packets g, G, p, P (GDB manual E.4).
 *
 * Registers use gdb's amd64-linux numbering and the 'g' block layout of
 * protocol/rsp.h (rsp_amd64_regs); values are target (little-endian) bytes
 * in hex.  They apply to the thread selected by Hg (stub_current_thread).
 */
#include <errno.h>
#include <string.h>

#include "handlers.h"

int stub_h_g(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)a;
	uint8_t buf[1024];
	size_t n = rsp_amd64_regblock_size();
	if (n > sizeof buf) return -EOVERFLOW;
	int r = s->ops->read_regs(s->tgt, stub_current_thread(s), buf);
	if (r < 0) return r;
	stub_out_hex(o, buf, n);
	return STUB_OK;
}

int stub_h_G(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	uint8_t buf[1024];
	size_t n = rsp_amd64_regblock_size();
	if (n > sizeof buf) return -EOVERFLOW;
	if (a.n != 2 * n || rsp_hex_decode(buf, n, a.p, a.n) < 0) return -EINVAL;
	int r = s->ops->write_regs(s->tgt, stub_current_thread(s), buf);
	if (r < 0) return r;
	stub_out_str(o, "OK");
	return STUB_OK;
}

int stub_h_p(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	uint64_t regno;
	if (!stub_cur_hex(&a, &regno) || !stub_cur_end(&a)) return -EINVAL;
	if (regno >= RSP_AMD64_NREGS) return -EINVAL;
	uint8_t buf[16];
	size_t n = rsp_amd64_regs[regno].bits / 8;
	if (n > sizeof buf) return -EOVERFLOW;
	int r = s->ops->read_reg(s->tgt, stub_current_thread(s), (unsigned)regno, buf);
	if (r < 0) return r;
	stub_out_hex(o, buf, n);
	return STUB_OK;
}

int stub_h_P(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	uint64_t regno;
	if (!stub_cur_hex(&a, &regno) || !stub_cur_char(&a, '=')) return -EINVAL;
	if (regno >= RSP_AMD64_NREGS) return -EINVAL;
	uint8_t buf[16];
	size_t n = rsp_amd64_regs[regno].bits / 8;
	if (n > sizeof buf || a.n != 2 * n || rsp_hex_decode(buf, n, a.p, a.n) < 0) return -EINVAL;
	int r = s->ops->write_reg(s->tgt, stub_current_thread(s), (unsigned)regno, buf);
	if (r < 0) return r;
	stub_out_str(o, "OK");
	return STUB_OK;
}
