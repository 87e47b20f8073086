/* gort_version.c — the Go version a binary was built with.
 *
 * First source: the build information blob (.go.buildinfo; Go's
 * src/debug/buildinfo/buildinfo.go): 14 bytes of magic "\xff Go buildinf:",
 * a pointer-size byte and a flags byte.  With flags bit 2 (Go >= 1.18) the
 * 32-byte header is followed by varint-length strings (version, modinfo);
 * before that, two pointers at offset 16 lead to Go string headers {ptr, len}.
 * Without section headers, the blob is found by its magic at the start of
 * a loaded segment.  Second source: the string variable runtime.buildVersion.
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

/* Parse a build information blob of size bytes at p. */
static int parse_buildinfo(struct gort_bin *b, const unsigned char *p, size_t size)
{
	uint64_t len, ptr;
	size_t used;

	if (size < 32 || memcmp(p, buildinfo_magic, sizeof buildinfo_magic) != 0)
		return -1;
	if (p[15] & 2) {
		used = uvarint(p + 32, size - 32, &len);
		if (!used || len == 0 || len > size - 32 - used)
			return -1;
		/* "go1.25-20250209-RC00 cl/724970549 +ff27d270c9 X:..." can
		 * be long: keep what fits (the version comes first). */
		if (len >= sizeof b->version)
			len = sizeof b->version - 1;
		memcpy(b->version, p + 32 + used, len);
		b->version[len] = '\0';
		return 0;
	}
	if (p[14] != 8 || p[15] != 0)   /* 64-bit little-endian only */
		return -1;
	memcpy(&ptr, p + 16, sizeof ptr);
	return read_go_string(b, ptr);
}

static int from_buildinfo(struct gort_bin *b)
{
	size_t shstrndx, fsize, nph;
	Elf_Scn *scn = NULL;
	const unsigned char *raw;

	if (elf_getshdrstrndx(b->elf, &shstrndx) == 0) {
		while ((scn = elf_nextscn(b->elf, scn)) != NULL) {
			GElf_Shdr sh;
			const char *name;
			Elf_Data *d;

			if (!gelf_getshdr(scn, &sh) ||
			    !(name = elf_strptr(b->elf, shstrndx, sh.sh_name)) ||
			    strcmp(name, ".go.buildinfo") != 0)
				continue;
			d = elf_getdata(scn, NULL);
			if (!d || !d->d_buf)
				return -1;
			return parse_buildinfo(b, d->d_buf, d->d_size);
		}
	}
	/* No section headers (or none named so): the blob is 16-byte aligned
	 * at the start of a writable segment's file contents
	 * (cmd/link: .go.buildinfo opens the data segment); scan for it. */
	raw = (const unsigned char *)elf_rawfile(b->elf, &fsize);
	if (!raw || elf_getphdrnum(b->elf, &nph) != 0)
		return -1;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(b->elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    ph.p_offset > fsize || ph.p_filesz > fsize - ph.p_offset)
			continue;
		for (uint64_t off = 0; off + 32 <= ph.p_filesz && off < 65536; off += 16)
			if (raw[ph.p_offset + off] == 0xff &&
			    parse_buildinfo(b, raw + ph.p_offset + off, ph.p_filesz - off) == 0)
				return 0;
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
