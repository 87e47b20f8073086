/* gort_bin.c — open a Go executable with libdwfl: one offline module (the
 * ELF file, at its load bias), its symbol table scanned once for the runtime
 * functions gotap needs, and small ELF helpers shared by the other gort_*.c.
 *
 * libdw reads Go's compressed DWARF by itself: Go 1.19 emits SHF_COMPRESSED
 * .debug_* sections (older Go wrote .zdebug_*), both of which libdw inflates
 * on first use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gort_int.h"

void gort_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	if (vsnprintf(err, errlen, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
}

static const Dwfl_Callbacks gort_dwfl_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* Record the symbols gort looks up by name (linear scan, once per open). */
static void scan_symbols(struct gort_bin *b)
{
	static const struct { const char *name; size_t off; } want[] = {
		{ "runtime.newstack", offsetof(struct gort_bin, newstack) },
		{ "runtime.newstack.abi0", offsetof(struct gort_bin, newstack_abi0) },
		{ "runtime.copystack", offsetof(struct gort_bin, copystack) },
		{ "runtime.shrinkstack", offsetof(struct gort_bin, shrinkstack) },
		{ "runtime.goexit.abi0", offsetof(struct gort_bin, goexit) },
		{ "runtime.goexit", offsetof(struct gort_bin, goexit) },
	};
	int n = dwfl_module_getsymtab(b->mod);

	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		Elf *elf;
		Dwarf_Addr bias;
		const char *name = dwfl_module_getsym_info(b->mod, i, &sym, &addr,
							   &shndx, &elf, &bias);

		if (!name || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
			struct gort_sym *s = (struct gort_sym *)((char *)b + want[k].off);

			if (strcmp(name, want[k].name) != 0)
				continue;
			/* Several symbols of one name: keep the largest (the
			 * real function rather than a tiny wrapper). */
			if (!s->found || sym.st_size > s->size) {
				s->addr = addr;
				s->size = sym.st_size;
				s->found = true;
			}
		}
	}
}

/* True if the ELF has a section that only Go binaries carry. */
static bool has_go_section(Elf *elf)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".gopclntab") || !strcmp(name, ".go.buildinfo") ||
			     !strcmp(name, ".note.go.buildid")))
			return true;
	}
	return false;
}

/* True if the headers and every section's contents lie inside the file
 * (Go writes its section headers right after the program headers, so a
 * truncated file still parses: look at the sections themselves). */
static bool contents_fit(Elf *elf, const GElf_Ehdr *eh, size_t size)
{
	Elf_Scn *scn = NULL;

	if (eh->e_shoff + (uint64_t)eh->e_shnum * eh->e_shentsize > size ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * eh->e_phentsize > size)
		return false;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return false;
		if (sh.sh_type != SHT_NOBITS && (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset))
			return false;
	}
	return true;
}

/* Check that fd is a 64-bit x86-64 ELF executable; reason in err if not. */
static int check_elf(int fd, const char *path, char *err, size_t errlen)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	size_t size;
	int rc = -1;

	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		gort_err(err, errlen, "not an ELF file: %s", path);
	} else if (!gelf_getehdr(elf, &eh)) {
		gort_err(err, errlen, "not an ELF file: %s (%s)", path, elf_errmsg(-1));
	} else if (eh.e_machine != EM_X86_64 || gelf_getclass(elf) != ELFCLASS64) {
		gort_err(err, errlen, "not an x86-64 executable: %s", path);
	} else if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		gort_err(err, errlen, "not an executable: %s", path);
	} else if (!elf_rawfile(elf, &size) || !contents_fit(elf, &eh, size)) {
		gort_err(err, errlen, "truncated or damaged ELF file: %s", path);
	} else {
		rc = 0;
	}
	if (elf)
		elf_end(elf);
	return rc;
}

struct gort_bin *gort_open(const char *path, uint64_t load_bias, char *err, size_t errlen)
{
	struct gort_bin *b;
	char abspath[PATH_MAX];
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		gort_err(err, errlen, "libelf: %s", elf_errmsg(-1));
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			gort_err(err, errlen, "no such file: %s", path);
		else
			gort_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (check_elf(fd, path, err, errlen) != 0) {
		close(fd);
		return NULL;
	}
	b = calloc(1, sizeof *b);
	if (!b || !realpath(path, abspath) || !(b->path = strdup(abspath)) ||
	    !(b->cache = calloc(GORT_CACHE_SLOTS, sizeof *b->cache)) ||
	    !(b->cfa_cache = calloc(GORT_CACHE_SLOTS, sizeof *b->cfa_cache)) ||
	    !(b->step_cache = calloc(GORT_CACHE_SLOTS, sizeof *b->step_cache))) {
		gort_err(err, errlen, "%s: %s", path, strerror(errno ? errno : ENOMEM));
		close(fd);
		gort_close(b);
		return NULL;
	}
	b->dwfl = dwfl_begin(&gort_dwfl_callbacks);
	if (!b->dwfl) {
		gort_err(err, errlen, "libdwfl: %s", dwfl_errmsg(-1));
		close(fd);
		gort_close(b);
		return NULL;
	}
	dwfl_report_begin(b->dwfl);
	/* On success libdwfl owns fd.  For ET_EXEC libdwfl ignores the base
	 * (bias 0); for a PIE, base is where its first segment was mapped. */
	b->mod = dwfl_report_elf(b->dwfl, b->path, b->path, fd, load_bias, true);
	if (!b->mod) {
		gort_err(err, errlen, "%s: %s", path, dwfl_errmsg(-1));
		close(fd);
		gort_close(b);
		return NULL;
	}
	if (dwfl_report_end(b->dwfl, NULL, NULL) != 0 ||
	    !(b->elf = dwfl_module_getelf(b->mod, &b->bias))) {
		gort_err(err, errlen, "%s: %s", path, dwfl_errmsg(-1));
		gort_close(b);
		return NULL;
	}
	gort_pcln_load(b);
	scan_symbols(b);
	gort_pcln_syms(b);      /* stripped (-s): the runtime functions from pclntab */
	if (!b->newstack.found) {
		if (has_go_section(b->elf) || b->have_pcln)
			gort_err(err, errlen, "%s: Go binary without a symbol table "
				 "(stripped) and no readable .gopclntab: runtime.newstack not found", path);
		else
			gort_err(err, errlen, "not a Go binary (no runtime.newstack): %s", path);
		gort_close(b);
		return NULL;
	}
	gort_read_version(b);
	return b;
}

void gort_close(struct gort_bin *b)
{
	if (!b)
		return;
	if (b->dwfl)
		dwfl_end(b->dwfl);
	while (b->names) {
		struct gort_name *n = b->names;

		b->names = n->next;
		free(n);
	}
	free(b->cus);
	free(b->sp_cache);
	free(b->cfa_cache);
	free(b->inline_cache);
	free(b->step_cache);
	free(b->cache);
	free(b->path);
	free(b);
}

const char *gort_source(const struct gort_bin *b)
{
	return b && b->has_dwarf ? "DWARF" : "pclntab";
}

const char *gort_go_version(const struct gort_bin *b)
{
	return b && b->version[0] ? b->version : NULL;
}

int gort_elf_read(struct gort_bin *b, uint64_t vaddr, void *buf, size_t len)
{
	size_t nph, fsize;
	const char *raw = elf_rawfile(b->elf, &fsize);

	if (!raw || elf_getphdrnum(b->elf, &nph) != 0)
		return -1;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(b->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr < ph.p_vaddr || vaddr - ph.p_vaddr > ph.p_filesz ||
		    len > ph.p_filesz - (vaddr - ph.p_vaddr))
			continue;
		if (ph.p_offset + (vaddr - ph.p_vaddr) + len > fsize)
			return -1;
		memcpy(buf, raw + ph.p_offset + (vaddr - ph.p_vaddr), len);
		return 0;
	}
	return -1;
}

const char *gort_func_name(struct gort_bin *b, const char *symname)
{
	static const char suffix[] = ".abi0";
	size_t n = strlen(symname), sl = sizeof suffix - 1;
	struct gort_name *e;

	if (n <= sl || strcmp(symname + n - sl, suffix) != 0)
		return symname;
	for (e = b->names; e; e = e->next)
		if (e->orig == symname)
			return e->name;
	e = malloc(sizeof *e + n - sl + 1);
	if (!e)
		return NULL;
	e->orig = symname;
	memcpy(e->name, symname, n - sl);
	e->name[n - sl] = '\0';
	e->next = b->names;
	b->names = e;
	return e->name;
}

int gort_pie_bias(const char *path, uint64_t at_phdr, uint64_t *bias, char *err, size_t errlen)
{
	int fd, rc = -1;
	Elf *elf;
	GElf_Ehdr eh;
	size_t nph;

	*bias = 0;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		gort_err(err, errlen, "libelf: %s", elf_errmsg(-1));
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		gort_err(err, errlen, "%s: %s", path, errno == ENOENT ? "no such file" : strerror(errno));
		return -1;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || !gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, &nph) != 0) {
		gort_err(err, errlen, "not an ELF file: %s", path);
	} else if (eh.e_type != ET_DYN) {
		rc = 0;
	} else {
		/* Link-time address of the program headers: PT_PHDR, else the
		 * PT_LOAD whose file range holds e_phoff. */
		for (size_t i = 0; i < nph && rc != 0; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(elf, (int)i, &ph))
				continue;
			if (ph.p_type == PT_PHDR ||
			    (ph.p_type == PT_LOAD && eh.e_phoff >= ph.p_offset &&
			     eh.e_phoff - ph.p_offset < ph.p_filesz)) {
				*bias = at_phdr - (ph.p_vaddr + (ph.p_type == PT_PHDR ? 0 :
								 eh.e_phoff - ph.p_offset));
				rc = 0;
			}
		}
		if (rc != 0)
			gort_err(err, errlen, "%s: no segment holds the program headers", path);
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return rc;
}
