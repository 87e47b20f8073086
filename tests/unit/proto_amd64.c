/* proto_amd64.c — unit tests of the amd64-linux register table, target.xml
 * (checked against gdb itself when gdb is installed) and the qXfer helpers. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "rsp.h"

static void test_table(void)
{
	const struct rsp_reg_desc *r = rsp_amd64_regs;
	size_t off = 0;
	bool contiguous = true, named = true;
	for (int i = 0; i < RSP_AMD64_NREGS; i++) {
		if (r[i].offset != off) contiguous = false;
		if (!r[i].name || !r[i].type || !r[i].feature) named = false;
		off += r[i].bits / 8;
	}
	CHECK("amd64: offsets contiguous", contiguous);
	CHECK("amd64: every entry named and typed", named);
	CHECK("amd64: regblock 560 bytes", off == 560 && rsp_amd64_regblock_size() == 560);
	CHECK("amd64: rax", !strcmp(r[0].name, "rax") && r[0].bits == 64 && !strcmp(r[0].type, "int64"));
	CHECK("amd64: rbp data_ptr", !strcmp(r[6].name, "rbp") && !strcmp(r[6].type, "data_ptr"));
	CHECK("amd64: rsp data_ptr", !strcmp(r[7].name, "rsp") && !strcmp(r[7].type, "data_ptr"));
	CHECK("amd64: r15 = 15", !strcmp(r[15].name, "r15"));
	CHECK("amd64: rip = 16 code_ptr, offset 128", !strcmp(r[RSP_AMD64_RIP].name, "rip") &&
	      !strcmp(r[16].type, "code_ptr") && r[16].offset == 128);
	CHECK("amd64: eflags 32-bit flags", !strcmp(r[17].name, "eflags") && r[17].bits == 32 &&
	      !strcmp(r[17].type, "i386_eflags"));
	CHECK("amd64: gs = 23 int32", !strcmp(r[23].name, "gs") && !strcmp(r[23].type, "int32"));
	CHECK("amd64: st0 = 24, 80-bit, offset 164", !strcmp(r[24].name, "st0") && r[24].bits == 80 &&
	      r[24].offset == 164 && !strcmp(r[24].type, "i387_ext"));
	CHECK("amd64: fop = 39 group float", !strcmp(r[39].name, "fop") && !strcmp(r[39].group, "float"));
	CHECK("amd64: xmm0 = 40 vec128 offset 276", !strcmp(r[40].name, "xmm0") && r[40].bits == 128 &&
	      r[40].offset == 276 && !strcmp(r[40].feature, "org.gnu.gdb.i386.sse"));
	CHECK("amd64: mxcsr = 56 group vector", !strcmp(r[56].name, "mxcsr") &&
	      !strcmp(r[56].group, "vector") && !strcmp(r[56].type, "i386_mxcsr"));
	CHECK("amd64: orig_rax = 57 linux feature", !strcmp(r[57].name, "orig_rax") &&
	      r[57].offset == 536 && !strcmp(r[57].feature, "org.gnu.gdb.i386.linux"));
	CHECK("amd64: fs_base = 58 segments", !strcmp(r[58].name, "fs_base") && r[58].offset == 544 &&
	      !strcmp(r[58].feature, "org.gnu.gdb.i386.segments") && !strcmp(r[58].type, "int"));
	CHECK("amd64: gs_base = 59", !strcmp(r[59].name, "gs_base") && r[59].offset == 552);
}

static void test_xml(void)
{
	const char *x = rsp_amd64_target_xml();
	CHECK("xml: architecture", strstr(x, "<architecture>i386:x86-64</architecture>") != NULL);
	CHECK("xml: osabi", strstr(x, "<osabi>GNU/Linux</osabi>") != NULL);
	/* every register appears, in table order */
	const char *at = x;
	bool ordered = true;
	for (int i = 0; i < RSP_AMD64_NREGS; i++) {
		char pat[80];
		snprintf(pat, sizeof pat, "<reg name=\"%s\" bitsize=\"%u\"", rsp_amd64_regs[i].name,
			 rsp_amd64_regs[i].bits);
		const char *f = strstr(at, pat);
		if (!f) { ordered = false; break; }
		at = f + 1;
	}
	CHECK("xml: every register, in order, with its bitsize", ordered);
	CHECK("xml: types defined", strstr(x, "<flags id=\"i386_eflags\"") && strstr(x, "<union id=\"vec128\"") &&
	      strstr(x, "<flags id=\"i386_mxcsr\""));
	CHECK("xml: orig_rax regnum 57", strstr(x, "name=\"orig_rax\" bitsize=\"64\" type=\"int\" regnum=\"57\""));

	/* gdb itself reads the document: remote numbers and g offsets as ours */
	if (system("command -v gdb >/dev/null 2>&1") != 0) {
		SKIP("xml: gdb accepts it", "gdb not installed");
		return;
	}
	char path[] = "/tmp/proto_amd64_XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) { CHECK("xml: temp file", 0); return; }
	size_t n = strlen(x);
	bool wrote = write(fd, x, n) == (ssize_t)n;
	if (close(fd) != 0) wrote = false;
	CHECK("xml: temp file written", wrote);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "gdb -nx -batch -ex 'set tdesc filename %s' "
		 "-ex 'maint print remote-registers' 2>&1", path);
	FILE *p = popen(cmd, "r");
	int seen = 0, good = 0;
	char line[256];
	while (p && fgets(line, sizeof line, p)) {
		char name[32];
		int nr, rel, off, size, rmt, goff;
		char type[64];
		if (sscanf(line, " %31s %d %d %d %d %63s %d %d", name, &nr, &rel, &off, &size,
			   type, &rmt, &goff) != 8)
			continue;
		if (rmt < 0 || rmt >= RSP_AMD64_NREGS) continue;
		seen++;
		const struct rsp_reg_desc *d = &rsp_amd64_regs[rmt];
		if (!strcmp(d->name, name) && d->offset == (unsigned)goff &&
		    d->bits == (unsigned)size * 8)
			good++;
		else
			printf("  gdb: %s rmt %d g-offset %d size %d\n", name, rmt, goff, size);
	}
	int st = p ? pclose(p) : -1;
	unlink(path);
	CHECK("xml: gdb runs", st == 0);
	CHECK("xml: gdb sees all 60 registers at our numbers and offsets", seen == 60 && good == 60);
}

static void test_xfer(void)
{
	const char *a;
	size_t an;
	uint64_t off, len;
	const char *q = "target.xml:1f0,ffb";
	CHECK("xfer parse", rsp_parse_xfer_read(q, strlen(q), &a, &an, &off, &len) == 0 &&
	      an == 10 && !memcmp(a, "target.xml", 10) && off == 0x1f0 && len == 0xffb);
	q = "a:b:10,20";
	CHECK("xfer parse: annex with a colon", rsp_parse_xfer_read(q, strlen(q), &a, &an, &off, &len) == 0 &&
	      an == 3 && !memcmp(a, "a:b", 3) && off == 0x10 && len == 0x20);
	q = ":0,1000";
	CHECK("xfer parse: empty annex", rsp_parse_xfer_read(q, strlen(q), &a, &an, &off, &len) == 0 &&
	      an == 0 && len == 0x1000);
	static const char *bad[] = { "", "target.xml", "a:", "a:1", "a:1,", "a:,1", "a:1,2x",
				     "a:zz,1", "a:1,10000000000000000" };
	bool all = true;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (rsp_parse_xfer_read(bad[i], strlen(bad[i]), &a, &an, &off, &len) != -1) {
			printf("  accepted: %s\n", bad[i]);
			all = false;
		}
	CHECK("xfer parse: malformed rejected", all);

	char out[32];
	const char *doc = "0123456789";
	size_t n = rsp_xfer_reply(out, sizeof out, doc, 10, 0, 4);
	CHECK("xfer reply: m + first piece", n == 5 && !memcmp(out, "m0123", 5));
	n = rsp_xfer_reply(out, sizeof out, doc, 10, 4, 100);
	CHECK("xfer reply: l + last piece", n == 7 && !memcmp(out, "l456789", 7));
	n = rsp_xfer_reply(out, sizeof out, doc, 10, 6, 4);
	CHECK("xfer reply: exact end is l", n == 5 && !memcmp(out, "l6789", 5));
	n = rsp_xfer_reply(out, sizeof out, doc, 10, 10, 4);
	CHECK("xfer reply: at end is l alone", n == 1 && out[0] == 'l');
	n = rsp_xfer_reply(out, sizeof out, doc, 10, UINT64_MAX, UINT64_MAX);
	CHECK("xfer reply: absurd offset", n == 1 && out[0] == 'l');
	n = rsp_xfer_reply(out, 4, doc, 10, 0, 100);
	CHECK("xfer reply: shortened to cap, m", n == 4 && !memcmp(out, "m012", 4));
	n = rsp_xfer_reply(out, sizeof out, "a#b$", 4, 0, 100);
	CHECK("xfer reply: binary left raw (rsp_frame escapes)", n == 5 && !memcmp(out, "la#b$", 5));
	n = rsp_xfer_reply(out, 3, "a#b$", 4, 0, 100);
	CHECK("xfer reply: cut by escaped size", n == 2 && !memcmp(out, "ma", 2));
	n = rsp_xfer_reply(out, 4, "a#b$", 4, 0, 100);
	CHECK("xfer reply: escaped pair fits", n == 3 && !memcmp(out, "ma#", 3));
	n = rsp_xfer_reply(out, 5, "a#b$", 4, 0, 100);
	CHECK("xfer reply: escaped size exactly fits", n == 4 && !memcmp(out, "ma#b", 4));
	n = rsp_xfer_reply(out, 2, "#", 1, 0, 100);
	CHECK("xfer reply: escape does not fit", n == 0);
	/* framed on the wire only once: parse gives back the raw piece */
	uint8_t fr[64], pb[64];
	n = rsp_xfer_reply(out, sizeof out, "}*", 2, 0, 100);
	size_t fn = rsp_frame(fr, sizeof fr, (const uint8_t *)out, n, false);
	struct rsp_parser p;
	enum rsp_event ev;
	rsp_parser_init(&p, pb, sizeof pb);
	rsp_parser_feed(&p, fr, fn, &ev);
	CHECK("xfer reply: escaped once on the wire", fn == 1 + 1 + 4 + 3 && ev == RSP_EV_PACKET &&
	      p.len == 3 && !memcmp(pb, "l}*", 3));
	CHECK("xfer reply: cap 0", rsp_xfer_reply(out, 0, doc, 10, 0, 1) == 0);
	/* reading target.xml in 0x100-byte pieces reassembles it */
	const char *x = rsp_amd64_target_xml();
	size_t xl = strlen(x), got = 0;
	static char whole[16384], piece[0x200];
	bool ok = true;
	for (int guard = 0; guard < 1000; guard++) {
		n = rsp_xfer_reply(piece, sizeof piece, x, xl, got, 0x100);
		if (n == 0) { ok = false; break; }
		memcpy(whole + got, piece + 1, n - 1);   /* XML has no bytes needing escapes */
		got += n - 1;
		if (piece[0] == 'l') break;
	}
	CHECK("xfer reply: target.xml in pieces", ok && got == xl && !memcmp(whole, x, xl));
}

int main(void)
{
	test_table();
	test_xml();
	test_xfer();
	return check_done();
}
