/* handlers_svr4.c — qXfer:libraries-svr4:read: the dynamic linker's list of
 * loaded objects, read from the target's memory as gdbserver does
 * (gdbserver/linux-low.cc, linux_process_target::qxfer_libraries_svr4).
 *
 * Path: auxv AT_PHDR/AT_PHNUM -> program headers -> PT_PHDR gives the load
 * bias, PT_DYNAMIC the dynamic section -> DT_DEBUG holds &r_debug ->
 * r_debug.r_map -> struct link_map chain (glibc <link.h>, amd64 layout:
 * l_addr 0, l_name 8, l_ld 16, l_next 24, l_prev 32; r_debug.r_map at 8).
 * The first link_map is the executable itself (reported as main-lm).
 * Before ld.so has run, or for a static program, the list is empty.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "handlers.h"

enum { XDOC_SVR4 = 2, MAX_LIBS = 65536 };

static bool rd64(struct stub_session *s, uint64_t addr, uint64_t *v)
{
	uint8_t b[8];
	if (s->ops->read_mem(s->tgt, addr, b, 8) != 8) return false;
	*v = 0;
	for (int i = 7; i >= 0; i--) *v = (*v << 8) | b[i];
	return true;
}

/* Address of r_debug, or 0 if there is none (yet). */
static uint64_t find_r_debug(struct stub_session *s)
{
	static uint8_t auxv[8192];
	long n = s->ops->read_auxv(s->tgt, auxv, sizeof auxv);
	uint64_t phdr = 0, phnum = 0;
	for (long i = 0; i + 16 <= n; i += 16) {
		uint64_t key, val;
		memcpy(&key, auxv + i, 8);
		memcpy(&val, auxv + i + 8, 8);
		if (key == AT_PHDR) phdr = val;
		else if (key == AT_PHNUM) phnum = val;
	}
	if (!phdr || !phnum || phnum > 1024) return 0;
	uint64_t bias = 0, dyn = 0;
	bool have_dyn = false;
	for (uint64_t i = 0; i < phnum; i++) {
		Elf64_Phdr ph;
		if (s->ops->read_mem(s->tgt, phdr + i * sizeof ph, (uint8_t *)&ph, sizeof ph) != (long)sizeof ph)
			return 0;
		if (ph.p_type == PT_PHDR) bias = phdr - ph.p_vaddr;
		else if (ph.p_type == PT_DYNAMIC) { dyn = ph.p_vaddr; have_dyn = true; }
	}
	if (!have_dyn) return 0;
	dyn += bias;
	for (int i = 0; i < 4096; i++) {
		uint64_t tag, val;
		if (!rd64(s, dyn + 16 * (uint64_t)i, &tag) || !rd64(s, dyn + 16 * (uint64_t)i + 8, &val))
			return 0;
		if (tag == DT_NULL) return 0;
		if (tag == DT_DEBUG) return val;
	}
	return 0;
}

static bool read_name(struct stub_session *s, uint64_t addr, char *dst, size_t cap)
{
	size_t got = 0;
	dst[0] = 0;
	while (got + 1 < cap) {
		size_t chunk = 64;
		if (chunk > cap - 1 - got) chunk = cap - 1 - got;
		long n = s->ops->read_mem(s->tgt, addr + got, (uint8_t *)dst + got, chunk);
		if (n <= 0) break;
		void *z = memchr(dst + got, 0, (size_t)n);
		if (z) return true;
		got += (size_t)n;
	}
	dst[got] = 0;
	return got > 0;
}

static bool build(struct stub_session *s)
{
	uint64_t rdebug = find_r_debug(s), lm = 0;
	if (rdebug && !rd64(s, rdebug + 8, &lm)) lm = 0;
	if (!lm) return stub_xdoc_add(s, "<library-list-svr4 version=\"1.0\"/>");
	bool ok = stub_xdoc_add(s, "<library-list-svr4 version=\"1.0\" main-lm=\"0x%llx\">",
				(unsigned long long)lm);
	uint64_t prev = 0;
	for (int i = 0; ok && lm && i < MAX_LIBS; i++) {
		uint64_t l_addr, l_name, l_ld, l_next, l_prev;
		if (!rd64(s, lm, &l_addr) || !rd64(s, lm + 8, &l_name) || !rd64(s, lm + 16, &l_ld) ||
		    !rd64(s, lm + 24, &l_next) || !rd64(s, lm + 32, &l_prev))
			break;
		if (l_prev != prev) break;   /* corrupted chain: stop, as gdbserver */
		if (i > 0) {
			char name[4096];
			if (read_name(s, l_name, name, sizeof name) && name[0]) {
				ok = stub_xdoc_add(s, "<library name=\"") &&
				     stub_xdoc_add_escaped(s, name) &&
				     stub_xdoc_add(s, "\" lm=\"0x%llx\" l_addr=\"0x%llx\" l_ld=\"0x%llx\" lmid=\"0x%llx\"/>",
						   (unsigned long long)lm, (unsigned long long)l_addr,
						   (unsigned long long)l_ld, (unsigned long long)rdebug);
			}
		}
		prev = lm;
		lm = l_next;
	}
	return ok && stub_xdoc_add(s, "</library-list-svr4>");
}

int stub_h_xfer_svr4(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	const char *annex;
	size_t alen;
	uint64_t off, len;
	if (rsp_parse_xfer_read(a.p, a.n, &annex, &alen, &off, &len) < 0) return -EINVAL;
	if (off == 0 || s->xdoc_tag != XDOC_SVR4) {
		s->xdoc_len = 0;
		s->xdoc_tag = XDOC_SVR4;
		if (!build(s)) {
			s->xdoc_tag = 0;
			return -ENOMEM;
		}
	}
	stub_xfer_chunk(o, s->xdoc, s->xdoc_len, off, len);
	return STUB_OK;
}
