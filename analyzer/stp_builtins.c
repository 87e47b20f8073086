/* stp_builtins.c — the script language's built-in functions: output
 * (printf/sprintf with stap's conversions and flags, print, println),
 * session (exit), context (pid, tid, execname, probefunc, pp, registers),
 * target memory (user_long/int/short/char/string), backtraces in stap's
 * formats, the Go helpers go_goid()/go_stack_size(), string helpers, and
 * @hist_log rendering exactly as SystemTap prints it (runtime/stat-common.c:
 * 50 columns, two empty buckets of margin, elided runs marked "~").
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gort.h"
#include "rsp.h"
#include "stp_int.h"

enum {
	B_PRINTF, B_SPRINTF, B_PRINT, B_PRINTLN, B_SPRINT, B_SPRINTLN, B_PRINTD, B_PRINTDLN,
	B_EXIT, B_PID, B_TID, B_EXECNAME, B_PROBEFUNC, B_PP,
	B_GTOD_NS, B_GTOD_US, B_GTOD_MS, B_GTOD_S,
	B_USER_LONG, B_USER_INT, B_USER_SHORT, B_USER_CHAR, B_USER_STRING, B_USER_STRING_N,
	B_USER_INT8, B_USER_UINT8, B_USER_INT16, B_USER_UINT16, B_USER_INT32, B_USER_UINT32,
	B_USER_INT64, B_USER_UINT64,
	B_UBT, B_UBT_FILELINE, B_SPRINT_UBT, B_UREGISTER, B_UADDR,
	B_GO_GOID, B_GO_STACK_SIZE,
	B_STRLEN, B_SUBSTR, B_ISINSTR, B_ERROR, B_WARN, B_USYMNAME, B_USYMDATA, B_HEX,
	B_COUNT
};

const struct stp_builtin stp_builtins[] = {
	[B_PRINTF] = { "printf", 1, 32, TY_NUM, false },
	[B_SPRINTF] = { "sprintf", 1, 32, TY_STR, false },
	[B_PRINT] = { "print", 1, 32, TY_NUM, false },
	[B_PRINTLN] = { "println", 0, 32, TY_NUM, false },
	[B_SPRINT] = { "sprint", 1, 32, TY_STR, false },
	[B_SPRINTLN] = { "sprintln", 0, 32, TY_STR, false },
	[B_PRINTD] = { "printd", 2, 32, TY_NUM, false },
	[B_PRINTDLN] = { "printdln", 2, 32, TY_NUM, false },
	[B_EXIT] = { "exit", 0, 0, TY_NUM, false },
	[B_PID] = { "pid", 0, 0, TY_NUM, false },
	[B_TID] = { "tid", 0, 0, TY_NUM, false },
	[B_EXECNAME] = { "execname", 0, 0, TY_STR, false },
	[B_PROBEFUNC] = { "probefunc", 0, 0, TY_STR, false },
	[B_PP] = { "pp", 0, 0, TY_STR, false },
	[B_GTOD_NS] = { "gettimeofday_ns", 0, 0, TY_NUM, false },
	[B_GTOD_US] = { "gettimeofday_us", 0, 0, TY_NUM, false },
	[B_GTOD_MS] = { "gettimeofday_ms", 0, 0, TY_NUM, false },
	[B_GTOD_S] = { "gettimeofday_s", 0, 0, TY_NUM, false },
	[B_USER_LONG] = { "user_long", 1, 1, TY_NUM, true },
	[B_USER_INT] = { "user_int", 1, 1, TY_NUM, true },
	[B_USER_SHORT] = { "user_short", 1, 1, TY_NUM, true },
	[B_USER_CHAR] = { "user_char", 1, 1, TY_NUM, true },
	[B_USER_STRING] = { "user_string", 1, 1, TY_STR, true },
	[B_USER_STRING_N] = { "user_string_n", 2, 2, TY_STR, true },
	[B_USER_INT8] = { "user_int8", 1, 1, TY_NUM, true },
	[B_USER_UINT8] = { "user_uint8", 1, 1, TY_NUM, true },
	[B_USER_INT16] = { "user_int16", 1, 1, TY_NUM, true },
	[B_USER_UINT16] = { "user_uint16", 1, 1, TY_NUM, true },
	[B_USER_INT32] = { "user_int32", 1, 1, TY_NUM, true },
	[B_USER_UINT32] = { "user_uint32", 1, 1, TY_NUM, true },
	[B_USER_INT64] = { "user_int64", 1, 1, TY_NUM, true },
	[B_USER_UINT64] = { "user_uint64", 1, 1, TY_NUM, true },
	[B_UBT] = { "print_ubacktrace", 0, 0, TY_NUM, true },
	[B_UBT_FILELINE] = { "print_ubacktrace_fileline", 0, 3, TY_NUM, true },
	[B_SPRINT_UBT] = { "sprint_ubacktrace", 0, 0, TY_STR, true },
	[B_UREGISTER] = { "u_register", 1, 1, TY_NUM, true },
	[B_UADDR] = { "uaddr", 0, 0, TY_NUM, true },
	[B_GO_GOID] = { "go_goid", 0, 0, TY_NUM, true },
	[B_GO_STACK_SIZE] = { "go_stack_size", 0, 0, TY_NUM, true },
	[B_STRLEN] = { "strlen", 1, 1, TY_NUM, false },
	[B_SUBSTR] = { "substr", 3, 3, TY_STR, false },
	[B_ISINSTR] = { "isinstr", 2, 2, TY_NUM, false },
	[B_ERROR] = { "error", 1, 1, TY_NUM, false },
	[B_WARN] = { "warn", 1, 1, TY_NUM, false },
	[B_USYMNAME] = { "usymname", 1, 1, TY_STR, true },
	[B_USYMDATA] = { "usymdata", 1, 1, TY_STR, true },
	[B_HEX] = { "sprint_hex", 1, 1, TY_STR, false },
	[B_COUNT] = { NULL, 0, 0, TY_UNK, false },
};

int stp_builtin_find(const char *name)
{
	for (int i = 0; i < B_COUNT; i++)
		if (strcmp(stp_builtins[i].name, name) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------ printf */

/* Append formatted text to a growing buffer. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 128;
		while (nc < b->len + n + 1)
			nc *= 2;
		char *np = realloc(b->p, nc);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof tmp) {
		sb_put(b, tmp, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (big == NULL) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_put(b, big, (size_t)n);
	free(big);
}

/* Check a literal format against argument types (sema, and at run time for
 * computed formats).  Returns 0 or -1 with a message. */
int stp_check_format(const char *fmt, const enum stp_type *types, int nargs, char *msg, size_t cap)
{
	int ai = 0;
	for (const char *p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == '%')
			continue;
		while (*p && strchr("-+ #0", *p))
			p++;
		if (*p == '*') {
			if (ai >= nargs) {
				snprintf(msg, cap, "format needs more arguments than given (%d)", nargs);
				return -1;
			}
			if (types[ai] == TY_STR) {
				snprintf(msg, cap, "the '*' width of argument %d must be a number", ai + 1);
				return -1;
			}
			ai++;
			p++;
		}
		while (isdigit((unsigned char)*p))
			p++;
		if (*p == '.') {
			p++;
			if (*p == '*') {
				ai++;
				p++;
			}
			while (isdigit((unsigned char)*p))
				p++;
		}
		while (*p == 'l' || *p == 'h')
			p++;
		if (*p == '\0') {
			snprintf(msg, cap, "format ends inside a conversion");
			return -1;
		}
		if (strchr("diuxXopcsbm", *p) == NULL) {
			snprintf(msg, cap, "invalid format conversion '%%%c'", *p);
			return -1;
		}
		if (ai >= nargs) {
			snprintf(msg, cap, "format needs more arguments than the %d given", nargs);
			return -1;
		}
		bool wants_str = *p == 's' || *p == 'm';
		if (types[ai] != TY_UNK && (types[ai] == TY_STR) != wants_str) {
			snprintf(msg, cap, "format '%%%c' expects a %s, argument %d is a %s", *p,
				 wants_str ? "string" : "number", ai + 1, types[ai] == TY_STR ? "string" : "number");
			return -1;
		}
		ai++;
	}
	if (ai < nargs) {
		snprintf(msg, cap, "too many arguments for the format (%d used, %d given)", ai, nargs);
		return -1;
	}
	return 0;
}

static int do_format(struct stp_rt *rt, struct stp_node *at, const char *fmt, struct stp_val *args, int nargs,
		     struct sbuf *out)
{
	int ai = 0;
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			const char *q = strchr(p, '%');
			size_t n = q ? (size_t)(q - p) : strlen(p);
			sb_put(out, p, n);
			p += n - 1;
			continue;
		}
		p++;
		if (*p == '%') {
			sb_put(out, "%", 1);
			continue;
		}
		char spec[32] = "%";
		size_t sl = 1;
		while (*p && strchr("-+ #0", *p) && sl < 8)
			spec[sl++] = *p++;
		int width = -1, prec = -1;
		if (*p == '*') {
			if (ai >= nargs)
				return stp_rt_error(rt, at, "format needs more arguments");
			width = (int)args[ai++].n;
			p++;
		} else {
			if (isdigit((unsigned char)*p))
				width = 0;
			while (isdigit((unsigned char)*p))
				width = width * 10 + (*p++ - '0');
		}
		if (*p == '.') {
			p++;
			prec = 0;
			if (*p == '*') {
				if (ai >= nargs)
					return stp_rt_error(rt, at, "format needs more arguments");
				prec = (int)args[ai++].n;
				p++;
			}
			while (isdigit((unsigned char)*p))
				prec = prec * 10 + (*p++ - '0');
		}
		while (*p == 'l' || *p == 'h')
			p++;
		char conv = *p;
		if (conv == '\0')
			return stp_rt_error(rt, at, "format ends inside a conversion");
		if (ai >= nargs)
			return stp_rt_error(rt, at, "format needs more arguments than given");
		struct stp_val *a = &args[ai++];
		if (width > 4096)
			width = 4096;
		if (prec > 4096)
			prec = 4096;
		if (width >= 0)
			sl += (size_t)snprintf(spec + sl, sizeof spec - sl, "%d", width);
		if (prec >= 0)
			sl += (size_t)snprintf(spec + sl, sizeof spec - sl, ".%d", prec);
		char numbuf[32];
		const char *sval = a->t == TY_STR ? (a->s ? a->s : "")
			: (snprintf(numbuf, sizeof numbuf, "%" PRId64, a->n), numbuf);
		switch (conv) {
		case 'd': case 'i':
			snprintf(spec + sl, sizeof spec - sl, "lld");
			sb_printf(out, spec, (long long)a->n);
			break;
		case 'u': case 'x': case 'X': case 'o':
			snprintf(spec + sl, sizeof spec - sl, "ll%c", conv);
			sb_printf(out, spec, (unsigned long long)a->n);
			break;
		case 'p': {
			/* stap: "0x" and 16 zero-padded hex digits, then the width */
			char pb[40];
			snprintf(pb, sizeof pb, "0x%016llx", (unsigned long long)a->n);
			spec[1] = spec[1] == '-' ? '-' : '\0';
			char s2[24];
			snprintf(s2, sizeof s2, "%%%s%ds", spec[1] == '-' ? "-" : "", width > 0 ? width : 0);
			sb_printf(out, s2, pb);
			break;
		}
		case 'c': {
			char ch = (char)a->n;
			snprintf(spec + sl, sizeof spec - sl, "c");
			sb_printf(out, spec, ch);
			break;
		}
		case 's': case 'm':
			snprintf(spec + sl, sizeof spec - sl, "s");
			sb_printf(out, spec, sval);
			break;
		case 'b': {
			uint64_t v = (uint64_t)a->n;
			sb_put(out, (const char *)&v, 8);
			break;
		}
		default:
			return stp_rt_error(rt, at, "invalid format conversion '%%%c'", conv);
		}
	}
	if (out->oom)
		return stp_rt_error(rt, at, "out of memory");
	return 0;
}

/* ------------------------------------------------------------ histogram */

static int needed_space(int64_t v)
{
	int space = 0;
	if (v == 0)
		return 1;
	uint64_t u = (uint64_t)v;
	if (v < 0) {
		space++;
		u = (uint64_t)0 - u;
	}
	while (u) {
		u /= 10;
		space++;
	}
	return space;
}

static int64_t bucket_to_val(int b)
{
	if (b == 64)
		return 0;
	if (b > 64)
		return (int64_t)(1ULL << (b - 65));
	return -(int64_t)(1ULL << (63 - b));
}

#define HIST_WIDTH 50
#define HIST_ELISION 2

void stp_stat_print_hist_log(FILE *f, const struct stp_stat *st)
{
	int low = -1, high = 0;
	int64_t valmax = 0;
	for (int i = 0; i < 128; i++) {
		if (st->hist[i] > 0 && low == -1)
			low = i;
		if (st->hist[i] > 0)
			high = i;
		if (st->hist[i] > valmax)
			valmax = st->hist[i];
	}
	if (low == -1)
		return; /* empty: stap prints nothing */
	for (int i = 0; i < 2; i++) {
		if (low != 64 && low > 0)
			low--;
		if (high < 127)
			high++;
	}
	int64_t scale = 1;
	if (valmax > HIST_WIDTH) {
		scale = valmax / HIST_WIDTH;
		if (valmax % HIST_WIDTH)
			scale++;
	}
	int cnt_space = needed_space(valmax);
	int val_space = needed_space(bucket_to_val(high));
	if (needed_space(bucket_to_val(low)) > val_space)
		val_space = needed_space(bucket_to_val(low));
	if (val_space < 5)
		val_space = 5;
	fprintf(f, "%*s |", val_space, "value");
	for (int j = 0; j < HIST_WIDTH; j++)
		fputc('-', f);
	fprintf(f, " count\n");
	bool eliding = false;
	for (int i = low; i <= high; i++) {
		int minb = low, maxb = high;
		if (i - HIST_ELISION > minb)
			minb = i - HIST_ELISION;
		if (i + HIST_ELISION < maxb)
			maxb = i + HIST_ELISION;
		bool elide = true;
		for (int k = minb; k <= maxb; k++)
			if (st->hist[k] != 0)
				elide = false;
		if (elide) {
			eliding = true;
			continue;
		}
		if (eliding) {
			fprintf(f, "%*s ~\n", val_space, "");
			eliding = false;
		}
		int64_t val = bucket_to_val(i);
		fprintf(f, "%*s%lld |", val_space - needed_space(val), "", (long long)val);
		int64_t v = st->hist[i] / scale;
		for (int64_t j = 0; j < v; j++)
			fputc('@', f);
		fprintf(f, "%*lld\n", (int)(HIST_WIDTH - v + 1 + cnt_space), (long long)st->hist[i]);
	}
	fputc('\n', f);
}

/* ------------------------------------------------------------ target */

static int need_target(struct stp_rt *rt, struct stp_node *n)
{
	if (rt->tgt == NULL)
		return stp_rt_error(rt, n, "%s() needs a probe of the program", stp_builtins[n->sym].name);
	return 0;
}

static int rd_reg(struct stp_rt *rt, struct stp_node *n, int regno, uint64_t *v)
{
	if (rt->tgt->read_reg(rt->tgt->ctx, regno, v) < 0)
		return stp_rt_error(rt, n, "cannot read register %s", rsp_amd64_regs[regno].name);
	return 0;
}

static int rd_mem(struct stp_rt *rt, struct stp_node *n, uint64_t addr, void *buf, size_t len)
{
	if (rt->tgt->read_mem(rt->tgt->ctx, addr, buf, len) < 0)
		return stp_rt_error(rt, n, "user memory read fault at 0x%" PRIx64 " (%zu bytes)", addr, len);
	return 0;
}

static long gort_rd(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct stp_target *t = ctx;
	return t->read_mem(t->ctx, addr, buf, len) < 0 ? -1 : (long)len;
}

/* stap's formats: " 0xPC : FUNC+0xOFF/0xSIZE at FILE:LINE [MODULE]"
 * (fileline) or " 0xPC : FUNC+0xOFF/0xSIZE [MODULE]". */
static void print_frames(struct sbuf *sb, const struct gort_frame *fr, int n, bool fileline)
{
	for (int i = 0; i < n; i++) {
		const struct gort_frame *f = &fr[i];
		if (f->func == NULL) {
			sb_printf(sb, " 0x%" PRIx64 " : 0x%" PRIx64 " [%s]\n", f->pc, f->pc,
				  f->module ? f->module : "?");
			continue;
		}
		sb_printf(sb, " 0x%" PRIx64 " : %s+0x%" PRIx64 "/0x%" PRIx64, f->pc, f->func, f->off, f->size);
		if (fileline && f->file)
			sb_printf(sb, " at %s:%d", f->file, f->line);
		sb_printf(sb, " [%s]\n", f->module ? f->module : "?");
	}
}

static int backtrace(struct stp_rt *rt, struct stp_node *n, uint64_t pc, uint64_t sp, uint64_t bp, bool fileline,
		     struct sbuf *sb)
{
	if (rt->tgt->bin == NULL)
		return stp_rt_error(rt, n, "no symbols for a backtrace");
	struct gort_frame fr[64];
	int cnt = gort_unwind(rt->tgt->bin, gort_rd, rt->tgt, pc, sp, bp, fr, 64);
	if (cnt <= 0)
		return stp_rt_error(rt, n, "cannot unwind from pc 0x%" PRIx64, pc);
	print_frames(sb, fr, cnt, fileline);
	return 0;
}

/* The goroutine a probe hit runs for: R14 (Go's register ABI keeps the
 * running g there), or on g0 (the scheduler stack, e.g. in newstack) its
 * m.curg. */
static int cur_goroutine(struct stp_rt *rt, struct stp_node *n, uint64_t *gp)
{
	const struct gort_layout *l = rt->tgt->layout;
	if (l == NULL)
		return stp_rt_error(rt, n, "the Go runtime layout of this binary is unknown");
	uint64_t g, m, g0, curg;
	if (rd_reg(rt, n, RSP_AMD64_R14, &g) < 0)
		return -1;
	if (g == 0 || rt->tgt->read_mem(rt->tgt->ctx, g + l->g_m, &m, 8) < 0 || m == 0) {
		uint64_t fs;
		if (rd_reg(rt, n, RSP_AMD64_FS_BASE, &fs) < 0 || rd_mem(rt, n, fs - 8, &g, 8) < 0)
			return -1;
		if (g == 0 || rd_mem(rt, n, g + l->g_m, &m, 8) < 0)
			return -1;
	}
	if (m != 0 && rd_mem(rt, n, m + l->m_g0, &g0, 8) == 0 && g0 == g &&
	    rd_mem(rt, n, m + l->m_curg, &curg, 8) == 0 && curg != 0)
		g = curg;
	*gp = g;
	return 0;
}

/* ------------------------------------------------------------ dispatch */

static int eval_args(struct stp_rt *rt, struct stp_node *n, struct stp_val *args)
{
	for (int i = 0; i < n->nargs; i++)
		if (stp_eval(rt, n->args[i], &args[i]) < 0) {
			for (int k = 0; k < i; k++)
				stp_val_free(&args[k]);
			return -1;
		}
	return 0;
}

static void put_val(struct sbuf *sb, const struct stp_val *v)
{
	if (v->t == TY_STR)
		sb_put(sb, v->s ? v->s : "", v->s ? strlen(v->s) : 0);
	else
		sb_printf(sb, "%" PRId64, v->n);
}

static int emit(struct stp_rt *rt, struct stp_node *n, struct sbuf *sb, bool to_string, struct stp_val *out)
{
	if (sb->oom) {
		free(sb->p);
		return stp_rt_error(rt, n, "out of memory");
	}
	if (to_string) {
		out->t = TY_STR;
		out->s = sb->p ? sb->p : strdup("");
		return out->s ? 0 : stp_rt_error(rt, n, "out of memory");
	}
	if (sb->len && fwrite(sb->p, 1, sb->len, rt->out) != sb->len) {
		free(sb->p);
		return stp_rt_error(rt, n, "cannot write the output");
	}
	free(sb->p);
	out->t = TY_NUM;
	out->n = 0;
	return 0;
}

int stp_call_builtin(struct stp_rt *rt, struct stp_node *n, struct stp_val *out)
{
	struct stp_val args[32];
	memset(args, 0, sizeof args);
	struct sbuf sb = { 0 };
	int rc = 0;
	int b = n->sym;
	out->t = stp_builtins[b].ret == TY_STR ? TY_STR : TY_NUM;
	out->n = 0;
	out->s = NULL;
	if (stp_builtins[b].needs_target && need_target(rt, n) < 0)
		return -1;
	if (eval_args(rt, n, args) < 0)
		return -1;
	struct stp_target *t = rt->tgt;
	switch (b) {
	case B_PRINTF:
	case B_SPRINTF:
		if (args[0].t != TY_STR) {
			rc = stp_rt_error(rt, n, "the format must be a string");
			break;
		}
		if (do_format(rt, n, args[0].s, args + 1, n->nargs - 1, &sb) < 0) {
			free(sb.p);
			rc = -1;
			break;
		}
		rc = emit(rt, n, &sb, b == B_SPRINTF, out);
		break;
	case B_PRINT: case B_PRINTLN: case B_SPRINT: case B_SPRINTLN:
		for (int i = 0; i < n->nargs; i++)
			put_val(&sb, &args[i]);
		if (b == B_PRINTLN || b == B_SPRINTLN)
			sb_put(&sb, "\n", 1);
		rc = emit(rt, n, &sb, b == B_SPRINT || b == B_SPRINTLN, out);
		break;
	case B_PRINTD: case B_PRINTDLN:
		for (int i = 1; i < n->nargs; i++) {
			if (i > 1)
				put_val(&sb, &args[0]);
			put_val(&sb, &args[i]);
		}
		if (b == B_PRINTDLN)
			sb_put(&sb, "\n", 1);
		rc = emit(rt, n, &sb, false, out);
		break;
	case B_EXIT:
		rt->exit_requested = true;
		break;
	case B_PID:
		out->n = t ? t->pid : 0;
		break;
	case B_TID:
		out->n = t ? t->tid : 0;
		break;
	case B_EXECNAME: {
		const char *e = t && t->execname ? t->execname : "gotap";
		const char *sl = strrchr(e, '/');
		out->s = strdup(sl ? sl + 1 : e);
		break;
	}
	case B_PROBEFUNC:
		out->s = strdup(rt->probe && rt->probe->func ? rt->probe->func : "");
		break;
	case B_PP:
		out->s = strdup(rt->probe ? rt->probe->text : "");
		break;
	case B_GTOD_NS: case B_GTOD_US: case B_GTOD_MS: case B_GTOD_S: {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
		out->n = b == B_GTOD_NS ? ns : b == B_GTOD_US ? ns / 1000 : b == B_GTOD_MS ? ns / 1000000 : ts.tv_sec;
		break;
	}
	case B_USER_LONG: case B_USER_INT64: case B_USER_UINT64: {
		int64_t v;
		if ((rc = rd_mem(rt, n, (uint64_t)args[0].n, &v, 8)) == 0)
			out->n = v;
		break;
	}
	case B_USER_INT: case B_USER_INT32: case B_USER_UINT32: {
		int32_t v;
		if ((rc = rd_mem(rt, n, (uint64_t)args[0].n, &v, 4)) == 0)
			out->n = b == B_USER_UINT32 ? (int64_t)(uint32_t)v : v;
		break;
	}
	case B_USER_SHORT: case B_USER_INT16: case B_USER_UINT16: {
		int16_t v;
		if ((rc = rd_mem(rt, n, (uint64_t)args[0].n, &v, 2)) == 0)
			out->n = b == B_USER_UINT16 ? (int64_t)(uint16_t)v : v;
		break;
	}
	case B_USER_CHAR: case B_USER_INT8: case B_USER_UINT8: {
		int8_t v;
		if ((rc = rd_mem(rt, n, (uint64_t)args[0].n, &v, 1)) == 0)
			out->n = b == B_USER_INT8 ? v : (int64_t)(uint8_t)v;
		break;
	}
	case B_USER_STRING: case B_USER_STRING_N: {
		size_t max = b == B_USER_STRING_N ? (size_t)(args[1].n < 0 ? 0 : args[1].n) : 1023;
		if (max > 4096)
			max = 4096;
		char *s = malloc(max + 1);
		if (s == NULL) {
			rc = stp_rt_error(rt, n, "out of memory");
			break;
		}
		size_t i = 0;
		uint64_t a = (uint64_t)args[0].n;
		while (i < max) {
			char c;
			if (rt->tgt->read_mem(rt->tgt->ctx, a + i, &c, 1) < 0) {
				if (i == 0) {
					free(s);
					s = NULL;
					rc = stp_rt_error(rt, n, "user string copy fault at 0x%" PRIx64, a);
				}
				break;
			}
			if (c == '\0')
				break;
			s[i++] = c;
		}
		if (s)
			s[i] = '\0';
		out->s = s;
		break;
	}
	case B_UBT: case B_SPRINT_UBT: case B_UBT_FILELINE: {
		uint64_t pc, sp, bp = 0;
		if (b == B_UBT_FILELINE && n->nargs == 3) {
			pc = (uint64_t)args[0].n;
			sp = (uint64_t)args[1].n;
		} else if (b == B_UBT_FILELINE && n->nargs != 0) {
			rc = stp_rt_error(rt, n, "print_ubacktrace_fileline takes no arguments or (pc, sp, lr)");
			break;
		} else if (rd_reg(rt, n, RSP_AMD64_RIP, &pc) < 0 || rd_reg(rt, n, RSP_AMD64_RSP, &sp) < 0 ||
			   rd_reg(rt, n, RSP_AMD64_RBP, &bp) < 0) {
			rc = -1;
			break;
		}
		if (backtrace(rt, n, pc, sp, bp, b == B_UBT_FILELINE, &sb) < 0) {
			free(sb.p);
			rc = -1;
			break;
		}
		rc = emit(rt, n, &sb, b == B_SPRINT_UBT, out);
		break;
	}
	case B_UREGISTER: case B_UADDR: {
		const char *name = b == B_UADDR ? "rip" : args[0].s ? args[0].s : "";
		int regno = -1;
		for (int i = 0; i < RSP_AMD64_NREGS; i++)
			if (strcmp(rsp_amd64_regs[i].name, name) == 0)
				regno = i;
		static const char *alias[][2] = { { "pc", "rip" }, { "ip", "rip" }, { "sp", "rsp" }, { "fp", "rbp" } };
		for (size_t i = 0; regno < 0 && i < sizeof alias / sizeof alias[0]; i++)
			if (strcmp(name, alias[i][0]) == 0)
				for (int k = 0; k < RSP_AMD64_NREGS; k++)
					if (strcmp(rsp_amd64_regs[k].name, alias[i][1]) == 0)
						regno = k;
		if (regno < 0) {
			rc = stp_rt_error(rt, n, "unknown register '%s'", name);
			break;
		}
		uint64_t v;
		if ((rc = rd_reg(rt, n, regno, &v)) == 0)
			out->n = (int64_t)v;
		break;
	}
	case B_GO_GOID: case B_GO_STACK_SIZE: {
		uint64_t g = 0, v1 = 0, v2 = 0;
		const struct gort_layout *l = rt->tgt->layout;
		if ((rc = cur_goroutine(rt, n, &g)) < 0)
			break;
		if (b == B_GO_GOID) {
			if ((rc = rd_mem(rt, n, g + l->g_goid, &v1, 8)) == 0)
				out->n = (int64_t)v1;
		} else {
			if ((rc = rd_mem(rt, n, g + l->g_stack_lo, &v1, 8)) == 0 &&
			    (rc = rd_mem(rt, n, g + l->g_stack_hi, &v2, 8)) == 0)
				out->n = (int64_t)(v2 - v1);
		}
		break;
	}
	case B_USYMNAME: case B_USYMDATA: {
		struct gort_frame f;
		if (t->bin && gort_symbolize(t->bin, (uint64_t)args[0].n, false, &f) == 0 && f.func) {
			if (b == B_USYMNAME)
				out->s = strdup(f.func);
			else if (asprintf(&out->s, "%s+0x%" PRIx64 "/0x%" PRIx64, f.func, f.off, f.size) < 0)
				out->s = NULL;
		} else if (asprintf(&out->s, "0x%" PRIx64, (uint64_t)args[0].n) < 0) {
			out->s = NULL;
		}
		break;
	}
	case B_STRLEN:
		out->n = args[0].s ? (int64_t)strlen(args[0].s) : 0;
		break;
	case B_SUBSTR: {
		const char *s = args[0].s ? args[0].s : "";
		int64_t len = (int64_t)strlen(s), st = args[1].n, ln = args[2].n;
		if (st < 0 || st > len)
			st = len;
		if (ln < 0 || ln > len - st)
			ln = len - st;
		out->s = stp_strdup_n(s + st, (size_t)ln);
		break;
	}
	case B_ISINSTR:
		out->n = strstr(args[0].s ? args[0].s : "", args[1].s ? args[1].s : "") != NULL;
		break;
	case B_ERROR:
		rc = stp_rt_error(rt, n, "%s", args[0].s ? args[0].s : "");
		break;
	case B_WARN:
		fprintf(rt->err, "WARNING: %s\n", args[0].s ? args[0].s : "");
		break;
	case B_HEX:
		rc = asprintf(&out->s, "0x%" PRIx64, (uint64_t)args[0].n) < 0 ? -1 : 0;
		break;
	default:
		rc = stp_rt_error(rt, n, "internal: builtin %d", b);
	}
	for (int i = 0; i < n->nargs; i++)
		stp_val_free(&args[i]);
	if (rc == 0 && out->t == TY_STR && out->s == NULL)
		return stp_rt_error(rt, n, "out of memory");
	if (rc < 0) {
		stp_val_free(out);
		out->t = TY_NUM;
		return -1;
	}
	return 0;
}
