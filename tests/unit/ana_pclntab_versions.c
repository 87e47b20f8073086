/* ana_pclntab_versions.c — gort on real Go binaries of other Go versions
 * than the machine's toolchain builds, checked against the Go runtime's own
 * answers: each program is started blocked (opening a FIFO), sent SIGQUIT
 * with GOTRACEBACK=system, and its goroutine dump — function, file:line,
 * +offset, and the sp/fp/pc of every physical frame, all computed by that
 * binary's own runtime from its pclntab — is compared with gort's:
 *   - gort_symbolize(pc): same function and offset; same file:line as the
 *     innermost (inlined) entry the runtime printed for that pc;
 *   - gort_symbolize_inline (pclntab's inline tree): the same chain of
 *     inlined calls, names and file:line, as the runtime printed;
 *   - pclntab SP deltas: sp + frame size == the runtime's fp (caller's SP),
 *     and the return address gort would read is the next frame's pc;
 *   - the runtime layout gort derives from runtime.morestack agrees with
 *     its per-version table.
 * Binaries: those listed in GOTAP_GO_BINARIES (space-separated "PATH ARGS"
 * entries separated by ';', "@FIFO" replaced by a FIFO), else known ones if
 * installed: Debian's gofmt (go1.19.8, stripped by dh_strip: the 1.18
 * table layout), and on the build machine Google Cloud SDK's gcloud-crc32c
 * and kubectl (go1.24.4 and go1.23.8, built -s -w: the 1.20+ layout).
 * SKIP for what is not there.
 * Also: gort_open, version, layout (decoded from runtime.morestack) for every
 * Go binary found in /usr/bin and /usr/local/bin.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/gort_test.h"
#include "gort.h"
#include "gort_int.h"

/* The runtime prints generic instantiations as "F[...]": do the same. */
static void print_name(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	int depth = 0;

	for (; *in && n + 4 < cap; in++) {
		if (*in == '[') {
			if (depth++ == 0) {
				memcpy(out + n, "[...]", 5);
				n += 5;
			}
		} else if (*in == ']') {
			depth--;
		} else if (depth == 0) {
			out[n++] = *in;
		}
	}
	out[n] = '\0';
}

#define MAXINL 6

struct dframe {
	char func[512];
	char file[512];     /* innermost file:line printed for this pc */
	int line;
	uint64_t off, fp, sp, pc;
	bool physical;
	/* The whole chain the runtime printed for this pc, innermost first:
	 * the inlined calls, then the function itself at the call site. */
	int nchain;
	char cfunc[MAXINL][512], cfile[MAXINL][512];
	int cline[MAXINL];
};

/* Run "path args" with @FIFO replaced, dump its goroutines into buf. */
static long dump(const char *cmdline, const char *fifo, char *buf, size_t cap, int wait_ms)
{
	char *argv[16], copy[1024], *save = NULL, *tok;
	int argc = 0, pipefd[2], st;
	pid_t pid;
	long n = 0;
	ssize_t k;

	snprintf(copy, sizeof copy, "%s", cmdline);
	for (tok = strtok_r(copy, " ", &save); tok && argc < 15; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = !strcmp(tok, "@FIFO") ? (char *)fifo : tok;
	argv[argc] = NULL;
	if (argc == 0 || pipe(pipefd) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(pipefd[1], 2) < 0 ||
		    setenv("GOTRACEBACK", "system", 1) != 0 || setenv("GOMAXPROCS", "1", 1) != 0)
			_exit(126);
		close(pipefd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	usleep((useconds_t)wait_ms * 1000);   /* blocked opening the FIFO by now */
	kill(pid, SIGQUIT);
	while (n + 1 < (long)cap && (k = read(pipefd[0], buf + n, cap - 1 - (size_t)n)) > 0)
		n += k;
	buf[n] = '\0';
	close(pipefd[0]);
	waitpid(pid, &st, 0);
	return n;
}

/* Parse the dump of the first goroutine in a system call. */
static int parse(char *text, struct dframe *fr, int max, uint64_t *gp, uint64_t *mp)
{
	char *save = NULL, *line, *pending_inl_file = NULL;
	int n = 0, pending_inl_line = 0, nchain = 0;
	bool in_g = false;
	static char cfunc[MAXINL][512], cfile[MAXINL][512];
	static int cline[MAXINL];

	*gp = *mp = 0;
	for (line = strtok_r(text, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "goroutine ", 10)) {
			if (in_g)
				break;
			/* The goroutine blocked opening the FIFO ([syscall]; not
			 * goroutine 0, the g0 that took the signal): every frame
			 * pc is then a return address (no signal frame). */
			if (!strncmp(line, "goroutine 0 ", 12) || !strstr(line, "[syscall"))
				continue;
			in_g = true;
			const char *g = strstr(line, "gp="), *m = strstr(line, "mp=");

			if (g)
				*gp = strtoull(g + 3, NULL, 16);
			if (m)
				*mp = strtoull(m + 3, NULL, 16);
			continue;
		}
		if (!strncmp(line, "created by ", 11) && in_g)
			break;               /* the go statement: not a frame */
		if (!in_g || line[0] == '\t' || !strchr(line, '('))
			continue;
		/* a function line; the next one is "\tfile:line [+0x.. fp= sp= pc=]" */
		char *loc = strtok_r(NULL, "\n", &save), *colon, *plus;

		if (!loc || loc[0] != '\t')
			break;
		struct dframe *f = &fr[n];

		memset(f, 0, sizeof *f);
		*strrchr(line, '(') = '\0';
		snprintf(f->func, sizeof f->func, "%s", line);
		plus = strstr(loc, " +0x");
		if (plus)
			*plus = '\0';
		colon = strrchr(loc, ':');
		if (!colon)
			continue;
		*colon = '\0';
		f->line = atoi(colon + 1);
		if (nchain < MAXINL) {
			snprintf(cfunc[nchain], sizeof cfunc[0], "%s", f->func);
			snprintf(cfile[nchain], sizeof cfile[0], "%s", loc + 1);
			cline[nchain++] = f->line;
		}
		if (!plus) {                 /* an inlined call: remember the innermost */
			if (!pending_inl_file) {
				pending_inl_file = loc + 1;
				pending_inl_line = f->line;
			}
			continue;
		}
		f->nchain = nchain;
		memcpy(f->cfunc, cfunc, sizeof cfunc);
		memcpy(f->cfile, cfile, sizeof cfile);
		memcpy(f->cline, cline, sizeof cline);
		nchain = 0;
		f->physical = true;
		snprintf(f->file, sizeof f->file, "%s", pending_inl_file ? pending_inl_file : loc + 1);
		if (pending_inl_file)
			f->line = pending_inl_line;
		pending_inl_file = NULL;
		f->off = strtoull(plus + 2, NULL, 16);
		const char *p;

		if ((p = strstr(plus + 1, "fp=")))
			f->fp = strtoull(p + 3, NULL, 16);
		if ((p = strstr(plus + 1, "sp=")))
			f->sp = strtoull(p + 3, NULL, 16);
		if ((p = strstr(plus + 1, "pc=")))
			f->pc = strtoull(p + 3, NULL, 16);
		n++;
	}
	return n;
}

static void check_binary(const char *cmdline, const char *fifo)
{
	static char text[1 << 20];
	static struct dframe fr[128];
	char path[PATH_MAX], name[PATH_MAX + 128], err[256], pn[512];
	struct gort_bin *b;
	struct gort_layout l;
	uint64_t gp, mp;
	int n, bad_sym = 0, bad_line = 0, bad_sp = 0, checked_sp = 0;

	sscanf(cmdline, "%4095s", path);
	if (access(path, X_OK) != 0) {
		snprintf(name, sizeof name, "%s", path);
		SKIP(name, "not installed");
		return;
	}
	if (!(b = gort_open(path, 0, err, sizeof err))) {
		snprintf(name, sizeof name, "%s: gort_open", path);
		CHECK(name, 0);
		printf("# %s\n", err);
		return;
	}
	snprintf(name, sizeof name, "%s (%s): goroutine dump", path, gort_go_version(b));
	/* A slow starter may still be initializing: wait longer and retry. */
	n = 0;
	for (int wait_ms = 700; wait_ms <= 2800 && n < 3; wait_ms *= 2)
		if (dump(cmdline, fifo, text, sizeof text, wait_ms) > 0)
			n = parse(text, fr, 128, &gp, &mp);
	if (n < 3) {
		SKIP(name, "no goroutine dump");
		gort_close(b);
		return;
	}
	for (int i = 0; i < n; i++) {
		struct gort_frame g;
		const struct gort_cfa_ent *r;

		/* The runtime symbolizes pc-1 unless pc is the entry. */
		if (gort_symbolize(b, fr[i].pc, true, &g) != 0) {
			bad_sym++;
			continue;
		}
		print_name(g.func, pn, sizeof pn);
		if (strcmp(pn, fr[i].func) || g.off != fr[i].off) {
			if (bad_sym++ < 3)
				printf("# pc %#" PRIx64 ": runtime %s+%#" PRIx64 ", gort %s+%#" PRIx64 "\n",
				       fr[i].pc, fr[i].func, fr[i].off, pn, g.off);
		}
		if (!g.file || !gt_ends_with(g.file, fr[i].file) || g.line != fr[i].line) {
			if (bad_line++ < 3)
				printf("# pc %#" PRIx64 ": runtime %s:%d, gort %s:%d\n", fr[i].pc, fr[i].file,
				       fr[i].line, g.file ? g.file : "-", g.line);
		}
		/* The frame size from pclntab: sp + size == fp, and the next
		 * frame's pc is the return address stored below fp. */
		if (fr[i].sp && fr[i].fp) {
			r = gort_pcln_rule(b, fr[i].pc, true);
			checked_sp++;
			if (!r->ok || fr[i].sp + (uint64_t)r->cfa_off != fr[i].fp) {
				if (bad_sp++ < 3)
					printf("# pc %#" PRIx64 ": runtime sp %#" PRIx64 " fp %#" PRIx64 ", gort frame %d\n",
					       fr[i].pc, fr[i].sp, fr[i].fp, r->ok ? r->cfa_off : -1);
			}
		}
	}
	printf("# %s: %d physical frames of the goroutine in open(FIFO) (gp=%#" PRIx64 " mp=%#" PRIx64 ")\n", path, n,
	       gp, mp);
	/* Inline expansion (pclntab's inline tree) == the runtime's chain. */
	int bad_inl = 0, ninl = 0;

	for (int i = 0; i < n; i++) {
		struct gort_frame ch[MAXINL + 2];
		int m = gort_symbolize_inline(b, fr[i].pc, true, ch, MAXINL + 2);
		bool same = m == fr[i].nchain;

		ninl += fr[i].nchain > 1;
		for (int k = 0; same && k < m; k++) {
			print_name(ch[k].func, pn, sizeof pn);
			same = !strcmp(pn, fr[i].cfunc[k]) && ch[k].file && gt_ends_with(ch[k].file, fr[i].cfile[k]) &&
			       ch[k].line == fr[i].cline[k];
		}
		if (!same && bad_inl++ < 3) {
			printf("# pc %#" PRIx64 ": runtime chain", fr[i].pc);
			for (int k = 0; k < fr[i].nchain; k++)
				printf(" %s@%s:%d", fr[i].cfunc[k], fr[i].cfile[k], fr[i].cline[k]);
			printf(" | gort");
			for (int k = 0; k < m; k++)
				printf(" %s@%s:%d", ch[k].func, ch[k].file ? ch[k].file : "-", ch[k].line);
			printf("\n");
		}
	}
	snprintf(name, sizeof name, "%s (%s): inlined calls at every pc (%d frames with inlining) == "
		 "the runtime's", path, gort_go_version(b), ninl);
	CHECK(name, bad_inl == 0);
	snprintf(name, sizeof name, "%s (%s): function+offset == the runtime's traceback", path,
		 gort_go_version(b));
	CHECK(name, bad_sym == 0);
	snprintf(name, sizeof name, "%s (%s): file:line == the runtime's (innermost inlined)", path,
		 gort_go_version(b));
	CHECK(name, bad_line == 0);
	snprintf(name, sizeof name, "%s (%s): pclntab SP deltas give the runtime's frame sizes", path,
		 gort_go_version(b));
	CHECK(name, checked_sp > 0 && bad_sp == 0);
	snprintf(name, sizeof name, "%s (%s): runtime layout: the 7 gobuf/m offsets decoded "
		 "from runtime.morestack agree with the table", path, gort_go_version(b));
	CHECK(name, gort_layout(b, &l, err, sizeof err) == 0 &&
	      strstr(gort_layout_source(b), "7 of 7") && strstr(gort_layout_source(b), "agree"));
	gort_close(b);
}

/* The ELF symbol table spells some generated names differently from
 * pclntab (which the runtime and go tool addr2line use): "[...]" for array
 * lengths, "." for the middle dot "·".  Otherwise names must match. */
static bool same_name(const char *sym, const char *pcln)
{
	char a[1024], b[1024];
	size_t n = 0;

	if (!strcmp(sym, pcln) || strstr(pcln, "[...]"))
		return true;
	for (const char *p = pcln; *p && n + 1 < sizeof b; p++) {
		if ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xb7) {
			b[n++] = '.';
			p++;
		} else {
			b[n++] = *p;
		}
	}
	b[n] = '\0';
	snprintf(a, sizeof a, "%s", sym);
	return !strcmp(a, b);
}

/* A Go binary of another version with DWARF (docker, go1.24 here): the
 * layout without DWARF (table + decoded code) equals the DWARF one, and
 * pclntab symbolization equals DWARF symbolization in every function. */
static void check_dwarf_binary(struct gort_bin *b, const char *path)
{
	struct gort_layout dw, tab;
	char err[256], note[1024], name[PATH_MAX + 160];
	int bad = 0, n = 0;

	snprintf(name, sizeof name, "%s (%s, DWARF): layout from table + code == layout from DWARF",
		 path, gort_go_version(b));
	CHECK(name, gort_layout(b, &dw, err, sizeof err) == 0 &&
	      gort_layout_fallback(b, &tab, note, sizeof note) == 0 && !memcmp(&dw, &tab, sizeof dw));
	for (uint32_t i = 0; i < b->pcln.nfunc; i += 7) {
		struct gort_pcln_func f;
		struct gort_frame x, y;
		uint64_t size, pc;

		if (gort_pcln_func_i(&b->pcln, i, &f) != 0 || gort_pcln_size(&b->pcln, &f, &size) != 0)
			continue;
		pc = f.entry + b->bias + size / 2;
		n++;
		if (gort_symbolize(b, pc, false, &x) != 0 || gort_pcln_symbolize(b, pc, false, &y) != 0 ||
		    x.off != y.off || x.size != y.size || (x.file && y.file && strcmp(x.file, y.file)) ||
		    x.line != y.line || !same_name(x.func, y.func)) {
			if (bad++ < 3)
				printf("# %#" PRIx64 ": DWARF %s+%#" PRIx64 "/%#" PRIx64 " %s:%d, pclntab %s+%#"
				       PRIx64 "/%#" PRIx64 " %s:%d\n", pc, x.func, x.off, x.size, x.file, x.line,
				       y.func, y.off, y.size, y.file, y.line);
		}
	}
	snprintf(name, sizeof name, "%s (%s, DWARF): DWARF and pclntab symbolization agree at %d pcs",
		 path, gort_go_version(b), n);
	CHECK(name, n > 0 && bad == 0);
}

/* Every Go binary in a directory: opens, version, probes, layout decoded. */
static void scan_dir(const char *dir, int *nbin, int *nok)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char p[PATH_MAX], err[256];
		struct gort_bin *b;
		struct gort_layout l;
		struct gort_probes pr;
		struct stat st;
		FILE *f;
		unsigned char hdr[4];

		if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p || stat(p, &st) != 0 ||
		    !S_ISREG(st.st_mode) || !(f = fopen(p, "rb")))
			continue;
		if (fread(hdr, 1, 4, f) != 4 || memcmp(hdr, "\x7f" "ELF", 4)) {
			fclose(f);
			continue;
		}
		fclose(f);
		if (!(b = gort_open(p, 0, err, sizeof err)))
			continue;          /* not Go (C programs): fine */
		(*nbin)++;
		if (gort_probes(b, &pr, err, sizeof err) == 0 && gort_layout(b, &l, err, sizeof err) == 0 &&
		    gort_go_version(b)) {
			(*nok)++;
			printf("# %s: %s, %s, pclntab layout %d, layout: %s\n", p, gort_go_version(b),
			       gort_source(b), b->pcln.ver, strstr(gort_layout_source(b), "agree") ?
			       "code and table agree" : gort_layout_source(b));
		} else {
			printf("# %s: %s\n", p, err);
		}
		if (b->has_dwarf)
			check_dwarf_binary(b, p);
		gort_close(b);
	}
	if (d)
		closedir(d);
}

int main(void)
{
	static const char *const known[] = {
		"/usr/lib/go-1.19/bin/gofmt @FIFO",     /* go1.19: the 1.18 table layout */
		"/usr/bin/gcloud-crc32c @FIFO",
		"/usr/bin/kubectl apply --dry-run=client -f @FIFO",
	};
	char fifo[] = "/tmp/gort-fifo.XXXXXX", fpath[64], list[4096];
	const char *env = getenv("GOTAP_GO_BINARIES");
	int nbin = 0, nok = 0;

	alarm(120);
	if (!mkdtemp(fifo))
		return 1;
	snprintf(fpath, sizeof fpath, "%s/fifo", fifo);
	if (mkfifo(fpath, 0600) != 0)
		return 1;
	if (env) {
		char *save = NULL, *tok;

		snprintf(list, sizeof list, "%s", env);
		for (tok = strtok_r(list, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
			check_binary(tok, fpath);
	} else {
		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
			check_binary(known[i], fpath);
	}
	scan_dir("/usr/bin", &nbin, &nok);
	scan_dir("/usr/local/bin", &nbin, &nok);
	if (nbin == 0)
		SKIP("installed Go binaries: open, probes, layout", "none found");
	else
		CHECK("installed Go binaries: every one opens, has probes, layout and version", nok == nbin);
	unlink(fpath);
	rmdir(fifo);
	return check_done();
}
