/* ana_stp_lang.c — the script language without a program: a table of small
 * scripts (begin/end/timer probes only), each with the exact output it must
 * print, or the exact error (position, source line, caret) it must give.
 * Runs them through stp_run_string (analyzer/stp_run.h).
 */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "stp_run.h"

struct tcase {
	const char *name;
	const char *src;
	const char *out;     /* exact stdout */
	int rc;              /* expected status */
	const char *err;     /* substring of stderr (NULL: stderr must be empty) */
};

static const struct tcase cases[] = {
	{ "hello", "probe begin { printf(\"hello %s %d\\n\", \"world\", 42) }", "hello world 42\n", 0, NULL },
	{ "arith", "probe begin { println(7 / 2, \" \", -7 / 2, \" \", -7 % 3, \" \", 1 << 62 << 1, \" \", 3 ^ 5, \" \", ~0, \" \", !5) }",
	  "3 -3 -1 -9223372036854775808 6 -1 0\n", 0, NULL },
	{ "wraparound", "probe begin { x = 9223372036854775807; x++; println(x); y = -9223372036854775807 - 1; println(y - 1); println(y / -1); println(3 * 6148914691236517206) }",
	  "-9223372036854775808\n9223372036854775807\n-9223372036854775808\n2\n", 0, NULL },
	{ "precedence", "probe begin { println(1 + 2 * 3, \" \", (1 + 2) * 3, \" \", 1 < 2 == 1, \" \", 6 & 3 | 8, \" \", 1 ? 2 : 3, \" \", 0 || 0 && 1) }",
	  "7 9 1 10 2 0\n", 0, NULL },
	{ "strings", "probe begin { s = \"ab\" . \"cd\"; s .= \"e\"; println(s, \" \", strlen(s), \" \", substr(s, 1, 3), \" \", s == \"abcde\", \" \", \"a\" < \"b\", \" \", isinstr(s, \"cd\")) }",
	  "abcde 5 bcd 1 1 1\n", 0, NULL },
	{ "printf-flags", "probe begin { printf(\"[%5d][%-5d][%05d][%x][%X][%#x][%o][%u][%c][%%][%8s][%-4s]\\n\", 42, 42, 42, 255, 255, 255, 8, -1, 65, \"hi\", \"ab\") }",
	  "[   42][42   ][00042][ff][FF][0xff][10][18446744073709551615][A][%][      hi][ab  ]\n", 0, NULL },
	{ "printf-p-i", "probe begin { printf(\"%p %i %s\\n\", 4096, -3, sprintf(\"<%d>\", 5)) }",
	  "0x0000000000001000 -3 <5>\n", 0, NULL },
	{ "globals", "global n = 5, s = \"x\"\nprobe begin { n += 2; s = s . \"y\" }\nprobe end { println(n, s) }", "7xy\n", 0, NULL },
	{ "if-while-for", "probe begin { i = 0; while (i < 10) { i++; if (i == 3) continue; if (i > 5) break; printf(\"%d \", i) } for (j = 0; j < 3; j++) printf(\"j%d \", j); println(\"\") }",
	  "1 2 4 5 j0 j1 j2 \n", 0, NULL },
	{ "functions", "function fib(n) { if (n < 2) return n; return fib(n - 1) + fib(n - 2) }\nfunction greet:string(who:string) { return \"hi \" . who }\nprobe begin { println(fib(20), \" \", greet(\"go\")) }",
	  "6765 hi go\n", 0, NULL },
	{ "arrays-foreach-sorted", "global a\nprobe begin { a[\"x\"] = 3; a[\"y\"] = 1; a[\"z\"] = 2; foreach (k+ in a) printf(\"%s=%d \", k, a[k]); println(\"\"); foreach (k in a-) printf(\"%s \", k); println(\"\"); foreach (k in a+ limit 2) printf(\"%s \", k); println(\"\") }",
	  "x=3 y=1 z=2 \nx z y \ny z \n", 0, NULL },
	{ "arrays-multi-in-delete", "global a\nprobe begin { a[1, \"b\"] = 10; a[2, \"c\"] = 20; a[1, \"b\"]++; println(a[1, \"b\"], \" \", [2, \"c\"] in a, \" \", [3, \"d\"] in a); delete a[2, \"c\"]; foreach ([i, s] in a) printf(\"%d %s\\n\", i, s); delete a; foreach ([i, s] in a) println(\"left\") }",
	  "11 1 0\n1 b\n", 0, NULL },
	{ "foreach-value", "global c\nprobe begin { c[\"a\"] = 5; c[\"b\"] = 7; foreach (v = [k] in c+) printf(\"%s:%d \", k, v); println(\"\") }",
	  "a:5 b:7 \n", 0, NULL },
	{ "aggregates", "global s\nprobe begin { s <<< 1; s <<< 2; s <<< 3; s <<< 10; printf(\"%d %d %d %d %d\\n\", @count(s), @sum(s), @min(s), @max(s), @avg(s)) }",
	  "4 16 1 10 4\n", 0, NULL },
	{ "aggregate-array", "global t\nprobe begin { t[\"a\"] <<< 4; t[\"a\"] <<< 6; t[\"b\"] <<< 1; foreach (k+ in t) printf(\"%s %d %d\\n\", k, @count(t[k]), @avg(t[k])) }",
	  "a 2 5\nb 1 1\n", 0, NULL },
	{ "hist_log", "global h\nprobe begin { h <<< 0; h <<< 1; h <<< 2; h <<< 3; h <<< 8; h <<< 1000; print(@hist_log(h)) }",
	  "value |-------------------------------------------------- count\n"
	  "    0 |@                                                  1\n"
	  "    1 |@                                                  1\n"
	  "    2 |@@                                                 2\n"
	  "    4 |                                                   0\n"
	  "    8 |@                                                  1\n"
	  "   16 |                                                   0\n"
	  "   32 |                                                   0\n"
	  "      ~\n"
	  "  128 |                                                   0\n"
	  "  256 |                                                   0\n"
	  "  512 |@                                                  1\n"
	  " 1024 |                                                   0\n"
	  " 2048 |                                                   0\n"
	  "\n", 0, NULL },
	{ "hist_log-scaled", "global h\nprobe begin { for (i = 0; i < 200; i++) h <<< 5; h <<< 64; print(@hist_log(h)) }",
	  "value |-------------------------------------------------- count\n"
	  "    1 |                                                     0\n"
	  "    2 |                                                     0\n"
	  "    4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 200\n"
	  "    8 |                                                     0\n"
	  "   16 |                                                     0\n"
	  "   32 |                                                     0\n"
	  "   64 |                                                     1\n"
	  "  128 |                                                     0\n"
	  "  256 |                                                     0\n"
	  "\n", 0, NULL },
	{ "timer-exit-end", "global n\nprobe timer.ms(5) { n++; if (n == 3) exit() }\nprobe end { printf(\"ticks %d\\n\", n) }", "ticks 3\n", 0, NULL },
	{ "exit-finishes-probe", "probe begin { exit(); println(\"still runs\") }\nprobe end { println(\"end\") }", "still runs\nend\n", 0, NULL },
	{ "next", "probe begin { println(\"a\"); next; println(\"b\") }\nprobe begin { println(\"c\") }", "a\nc\n", 0, NULL },
	{ "multi-probe-points", "global n\nprobe begin, end { n++; println(n) }", "1\n2\n", 0, NULL },
	{ "pp-probefunc", "probe begin { println(pp(), \"|\", probefunc(), \"|\") }", "begin||\n", 0, NULL },
	{ "comments", "# hash\n// slashes\n/* block\n comment */ probe begin { println(0x1f + 010) }", "39\n", 0, NULL },
	{ "div-by-zero", "probe begin { x = 0; println(\"before\"); println(5 / x); println(\"not here\") }\nprobe end { println(\"end runs\") }",
	  "before\nend runs\n", 0, "division by 0 at t.stp:1:51" },
	{ "empty-aggregate", "global s\nprobe begin { if (0) s <<< 1; println(@count(s)); println(@avg(s)) }", "0\n", 0, "empty aggregate" },
	/* compile errors: position, source line, caret; nothing runs */
	{ "err-syntax", "probe begin {\n  x = (1 + ;\n}", "", 2, "t.stp:2:12: expected an expression, found ';'\n      x = (1 + ;\n               ^" },
	{ "err-unknown-func", "probe begin { foo(1) }", "", 2, "t.stp:1:15: unknown function 'foo'" },
	{ "err-type", "probe begin { x = \"a\"; y = x + 1 }", "", 2, "t.stp:1:30: type mismatch: arithmetic on a string" },
	{ "err-format-args", "probe begin { printf(\"%d %d\\n\", 1) }", "", 2, "format needs more arguments" },
	{ "err-format-type", "probe begin { printf(\"%d\\n\", \"s\") }", "", 2, "format '%d' expects a number, argument 1 is a string" },
	{ "err-return-probe", "probe process(\"/bin/true\").function(\"main\").return { }", "", 2,
	  "t.stp:1:45: .return probes are refused" },
	{ "err-kernel", "probe kernel.function(\"sys_open\") { }", "", 2, "kernel probes are not available" },
	{ "err-array-undeclared", "probe begin { a[1] = 2 }", "", 2, "t.stp:1:15: 'a' is used as an array but not declared 'global'" },
	{ "err-tvar-in-begin", "probe begin { println($x) }", "", 2, "t.stp:1:23: target variable $x is not available in a begin probe" },
	{ "err-user-in-end", "probe end { println(user_long(0)) }", "", 2, "user_long() reads the program and is not available in a end probe" },
	{ "err-unterminated-string", "probe begin { println(\"abc) }", "", 2, "t.stp:1:23: unterminated string" },
	{ "err-no-probes", "global x", "", 2, "the script has no probes" },
	{ "err-arity", "global a\nprobe begin { a[1] = 1; a[1, 2] = 2 }", "", 2, "array 'a' is used with 2 indexes here and 1 elsewhere" },
	{ "err-break-outside", "probe begin { break }", "", 2, "'break' outside a loop" },
	{ "err-assign-agg", "global s\nprobe begin { s <<< 1; s = 2 }", "", 2, "type mismatch" },
};

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct tcase *t = &cases[i];
		char *ob = NULL, *eb = NULL;
		size_t ol = 0, el = 0;
		FILE *out = open_memstream(&ob, &ol);
		FILE *err = open_memstream(&eb, &el);
		if (out == NULL || err == NULL) {
			printf("FAIL: %s: open_memstream\n", t->name);
			return 1;
		}
		int rc = stp_run_string("t.stp", t->src, out, err);
		fclose(out);
		fclose(err);
		char name[128];
		snprintf(name, sizeof name, "stp %s", t->name);
		bool ok_out = strcmp(ob, t->out) == 0;
		bool ok_err = t->err ? strstr(eb, t->err) != NULL : el == 0;
		bool ok_rc = rc == t->rc;
		if (ok_out && ok_err && ok_rc) {
			printf("PASS: %s\n", name);
		} else {
			printf("FAIL: %s: rc %d (want %d)\n--- output\n%s--- want\n%s--- stderr\n%s--- want in stderr\n%s\n",
			       name, rc, t->rc, ob, t->out, eb, t->err ? t->err : "(nothing)");
			check_failures++;
		}
		free(ob);
		free(eb);
	}
	return check_done();
}
