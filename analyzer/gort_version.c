/* gort_version.c — the Go version a binary was built with.
 *
 * First source: the build information blob (.go.buildinfo; Go's
 * src/debug/buildinfo/buildinfo.go): 14 bytes of magic "\xff Go buildinf:",
 * a pointer-size byte and a flags byte.  With flags bit 2 (Go >= 1.18) the
 * 32-byte header is followed by varint-length strings (version, modinfo);
 * before that, two pointers at offset 16 lead to Go string headers {ptr, len}.
 * Second source: the string variable runtime.buildVersion.
 */
#include <string.h>

#include "gort_int.h"

static const char buildinfo_magic[14] = "\xff Go buildinf:";

/* Copy a Go string header {ptr, len} found at vaddr into b->version. */
static int read_go_string(struct gort_bin *b, uint64_t vaddr)
{
	uint64_t hdr[2];

	if (gort_elf_read(b, vaddr, hdr, sizeof hdr) != 0 || hdr[1] == 0 ||
	    hdr[1] >= sizeof b->version)
		return -1;
	if (gort_elf_read(b, hdr[0], b->version, hdr[1]) != 0)
		return -1;
	b->version[hdr[1]] = '\0';
	return 0;
}

/* Decode an unsigned LEB128 varint from p[0..n); returns bytes used or 0. */
static size_t uvarint(const unsigned char *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n && i < 10; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

static int from_buildinfo(struct gort_bin *b)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(b->elf, &shstrndx) != 0)
		return -1;
	while ((scn = elf_nextscn(b->elf, scn)) != NULL) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;
		const unsigned char *p;
		uint64_t len;
		size_t used;

		if (!gelf_getshdr(scn, &sh) ||
		    !(name = elf_strptr(b->elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".go.buildinfo") != 0)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size < 32 ||
		    memcmp(d->d_buf, buildinfo_magic, sizeof buildinfo_magic) != 0)
			return -1;
		p = d->d_buf;
		if (p[15] & 2) {
			used = uvarint(p + 32, d->d_size - 32, &len);
			if (!used || len == 0 || len >= sizeof b->version ||
			    len > d->d_size - 32 - used)
				return -1;
			memcpy(b->version, p + 32 + used, len);
			b->version[len] = '\0';
			return 0;
		}
		if (p[14] != 8 || p[15] != 0)   /* 64-bit little-endian only */
			return -1;
		uint64_t ptr;
		memcpy(&ptr, p + 16, sizeof ptr);
		return read_go_string(b, ptr);
	}
	return -1;
}

static int from_symbol(struct gort_bin *b)
{
	int n = dwfl_module_getsymtab(b->mod);

	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		Elf *elf;
		Dwarf_Addr bias;
		const char *name = dwfl_module_getsym_info(b->mod, i, &sym, &addr,
							   &shndx, &elf, &bias);

		if (name && !strcmp(name, "runtime.buildVersion"))
			return read_go_string(b, addr - b->bias);
	}
	return -1;
}

void gort_read_version(struct gort_bin *b)
{
	if (from_buildinfo(b) != 0 && from_symbol(b) != 0)
		b->version[0] = '\0';
}
