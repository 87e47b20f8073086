/* stp_parse.c — recursive-descent parser for the script language: globals,
 * functions and probes into an AST (struct stp_node, stp_int.h).
 *
 * Operator precedence is SystemTap's (parse.cxx): assignment < ?: < || < &&
 * < | < ^ < & < `in` < comparisons < shifts < `.` < + - < * / % < unary <
 * ++/-- < postfix/primary.  Statements need no `;` between them.  A probe
 * with several points (`probe a, b { }`) gets one copy of its body per
 * point, since target variables compile per probe address.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stp_int.h"

struct parser {
	struct stp_lexer lx;
	struct stp_token tok, nxt;
	bool have_nxt;
	struct stp_script *sc;
	char *err;
	size_t errlen;
	int depth;
};

#define MAX_DEPTH 200

static int perr(struct parser *p, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int perr(struct parser *p, int line, int col, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	stp_format_error(p->err, p->errlen, p->sc->name, p->sc->src, line, col, msg);
	return -1;
}

static int advance(struct parser *p)
{
	if (p->have_nxt) {
		p->tok = p->nxt;
		p->have_nxt = false;
		return 0;
	}
	return stp_lex_next(&p->lx, &p->tok, p->err, p->errlen);
}

static int peek2(struct parser *p, struct stp_token **t)
{
	if (!p->have_nxt) {
		if (stp_lex_next(&p->lx, &p->nxt, p->err, p->errlen) < 0)
			return -1;
		p->have_nxt = true;
	}
	*t = &p->nxt;
	return 0;
}

static bool is_op(const struct stp_token *t, int op)
{
	return t->kind == T_OP && t->num == op;
}

static bool is_kw(const struct stp_token *t, const char *kw)
{
	return t->kind == T_IDENT && strcmp(t->text, kw) == 0;
}

static const char *tokdesc(const struct stp_token *t, char *buf, size_t cap)
{
	switch (t->kind) {
	case T_EOF: return "end of input";
	case T_STR: snprintf(buf, cap, "string \"%.40s\"", t->text); return buf;
	default: snprintf(buf, cap, "'%.60s'", t->text); return buf;
	}
}

static int expect(struct parser *p, int op, const char *what)
{
	if (!is_op(&p->tok, op)) {
		char b[100];
		return perr(p, p->tok.line, p->tok.col, "expected %s, found %s", what,
			    tokdesc(&p->tok, b, sizeof b));
	}
	return advance(p);
}

struct stp_node *stp_node_new(struct stp_script *s)
{
	struct stp_node *n = calloc(1, sizeof *n);
	if (n) {
		n->arena_next = s->arena;
		s->arena = n;
	}
	return n;
}

static struct stp_node *mk(struct parser *p, enum stp_nk k, const struct stp_token *at)
{
	struct stp_node *n = stp_node_new(p->sc);
	if (n == NULL) {
		perr(p, at->line, at->col, "out of memory");
		return NULL;
	}
	n->kind = k;
	n->line = at->line;
	n->col = at->col;
	return n;
}

static int push_arg(struct stp_node *n, struct stp_node *a)
{
	struct stp_node **v = realloc(n->args, (size_t)(n->nargs + 1) * sizeof *v);
	if (v == NULL)
		return -1;
	v[n->nargs++] = a;
	n->args = v;
	return 0;
}

char *stp_strdup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}


static struct stp_node *parse_expr(struct parser *p);
static struct stp_node *parse_stmt(struct parser *p);

/* ------------------------------------------------------- expressions */

/* Target-variable chain after a base: ->name, [expr] (kept as args:
 * N_STR member names and index expressions wrapped in N_INDEX nodes). */
static int parse_chain(struct parser *p, struct stp_node *base)
{
	for (;;) {
		if (is_op(&p->tok, OP_ARROW)) {
			struct stp_token at = p->tok;
			if (advance(p) < 0)
				return -1;
			if (p->tok.kind != T_IDENT) {
				char b[100];
				return perr(p, p->tok.line, p->tok.col, "expected a member name after '->', found %s",
					    tokdesc(&p->tok, b, sizeof b));
			}
			struct stp_node *m = mk(p, N_STR, &at);
			if (m == NULL || (m->str = strdup(p->tok.text)) == NULL || push_arg(base, m) < 0)
				return -1;
			if (advance(p) < 0)
				return -1;
		} else if (is_op(&p->tok, '[')) {
			struct stp_token at = p->tok;
			if (advance(p) < 0)
				return -1;
			struct stp_node *ix = mk(p, N_INDEX, &at);
			if (ix == NULL)
				return -1;
			if ((ix->a = parse_expr(p)) == NULL || push_arg(base, ix) < 0)
				return -1;
			if (expect(p, ']', "']'") < 0)
				return -1;
		} else {
			return 0;
		}
	}
}

static struct stp_node *parse_primary(struct parser *p)
{
	struct stp_token t = p->tok;
	struct stp_node *n = NULL;
	char b[100];
	switch (t.kind) {
	case T_NUM:
		if ((n = mk(p, N_NUM, &t)) == NULL)
			return NULL;
		n->num = t.num;
		n->type = TY_NUM;
		return advance(p) < 0 ? NULL : n;
	case T_STR:
		if ((n = mk(p, N_STR, &t)) == NULL)
			return NULL;
		if ((n->str = stp_strdup_n(t.text, t.len)) == NULL)
			return NULL;
		n->slen = t.len;
		n->type = TY_STR;
		if (advance(p) < 0)
			return NULL;
		/* adjacent literals concatenate, as in C and stap */
		while (p->tok.kind == T_STR) {
			char *s = realloc(n->str, n->slen + p->tok.len + 1);
			if (s == NULL)
				return NULL;
			memcpy(s + n->slen, p->tok.text, p->tok.len + 1);
			n->str = s;
			n->slen += p->tok.len;
			if (advance(p) < 0)
				return NULL;
		}
		return n;
	case T_IDENT: {
		if ((n = mk(p, N_VAR, &t)) == NULL || (n->str = strdup(t.text)) == NULL)
			return NULL;
		if (advance(p) < 0)
			return NULL;
		if (is_op(&p->tok, '(')) {
			n->kind = N_CALL;
			if (advance(p) < 0)
				return NULL;
			if (!is_op(&p->tok, ')')) {
				for (;;) {
					struct stp_node *a = parse_expr(p);
					if (a == NULL || push_arg(n, a) < 0)
						return NULL;
					if (is_op(&p->tok, ','))  {
						if (advance(p) < 0)
							return NULL;
						continue;
					}
					break;
				}
			}
			if (expect(p, ')', "')' or ',' in the argument list") < 0)
				return NULL;
		} else if (is_op(&p->tok, '[')) {
			n->kind = N_INDEX;
			if (advance(p) < 0)
				return NULL;
			for (;;) {
				struct stp_node *a = parse_expr(p);
				if (a == NULL || push_arg(n, a) < 0)
					return NULL;
				if (is_op(&p->tok, ',')) {
					if (advance(p) < 0)
						return NULL;
					continue;
				}
				break;
			}
			if (n->nargs > 9) {
				perr(p, t.line, t.col, "too many array indexes (9 at most)");
				return NULL;
			}
			if (expect(p, ']', "']'") < 0)
				return NULL;
		}
		return n;
	}
	case T_TVAR:
		if ((n = mk(p, N_TVAR, &t)) == NULL || (n->str = strdup(t.text + 1)) == NULL)
			return NULL;
		if (advance(p) < 0 || parse_chain(p, n) < 0)
			return NULL;
		return n;
	case T_AT: {
		const char *nm = t.text + 1;
		if (advance(p) < 0)
			return NULL;
		if (strcmp(nm, "cast") == 0 || strcmp(nm, "var") == 0) {
			bool cast = nm[0] == 'c';
			if ((n = mk(p, cast ? N_CAST : N_ATVAR, &t)) == NULL)
				return NULL;
			if (expect(p, '(', "'('") < 0)
				return NULL;
			if (cast) {
				if ((n->a = parse_expr(p)) == NULL || expect(p, ',', "',' and a type name") < 0)
					return NULL;
			}
			if (p->tok.kind != T_STR) {
				perr(p, p->tok.line, p->tok.col, "expected a string (%s name), found %s",
				     cast ? "type" : "variable", tokdesc(&p->tok, b, sizeof b));
				return NULL;
			}
			if ((n->str = strdup(p->tok.text)) == NULL || advance(p) < 0)
				return NULL;
			if (is_op(&p->tok, ',')) {  /* module argument: accepted, must be the program */
				if (advance(p) < 0)
					return NULL;
				if (p->tok.kind != T_STR) {
					perr(p, p->tok.line, p->tok.col, "expected a module string");
					return NULL;
				}
				if (advance(p) < 0)
					return NULL;
			}
			if (expect(p, ')', "')'") < 0 || parse_chain(p, n) < 0)
				return NULL;
			return n;
		}
		static const char *stats[] = { "count", "sum", "min", "max", "avg", "hist_log" };
		int which = -1;
		for (int i = 0; i < 6; i++)
			if (strcmp(nm, stats[i]) == 0)
				which = i;
		if (which < 0) {
			perr(p, t.line, t.col, "unknown operator '@%s'", nm);
			return NULL;
		}
		if ((n = mk(p, N_STATOP, &t)) == NULL || (n->str = strdup(nm)) == NULL)
			return NULL;
		n->op = which;
		if (expect(p, '(', "'('") < 0)
			return NULL;
		if (p->tok.kind != T_IDENT) {
			perr(p, p->tok.line, p->tok.col, "@%s needs an aggregate variable, found %s", nm,
			     tokdesc(&p->tok, b, sizeof b));
			return NULL;
		}
		if ((n->a = parse_primary(p)) == NULL)
			return NULL;
		if (n->a->kind != N_VAR && n->a->kind != N_INDEX) {
			perr(p, n->a->line, n->a->col, "@%s needs an aggregate variable", nm);
			return NULL;
		}
		if (expect(p, ')', "')'") < 0)
			return NULL;
		return n;
	}
	case T_OP:
		if (t.num == '(') {
			if (advance(p) < 0 || (n = parse_expr(p)) == NULL)
				return NULL;
			if (expect(p, ')', "')'") < 0)
				return NULL;
			return n;
		}
		/* fallthrough */
	default:
		perr(p, t.line, t.col, "expected an expression, found %s", tokdesc(&t, b, sizeof b));
		return NULL;
	}
}

static struct stp_node *parse_postfix(struct parser *p)
{
	struct stp_node *n = parse_primary(p);
	if (n == NULL)
		return NULL;
	while (is_op(&p->tok, OP_INC) || is_op(&p->tok, OP_DEC)) {
		struct stp_node *u = mk(p, N_INCDEC, &p->tok);
		if (u == NULL)
			return NULL;
		u->op = (int)p->tok.num;
		u->num = 1; /* postfix */
		u->a = n;
		n = u;
		if (advance(p) < 0)
			return NULL;
	}
	return n;
}

static struct stp_node *parse_unary(struct parser *p)
{
	struct stp_token t = p->tok;
	if (t.kind == T_OP && (t.num == '!' || t.num == '~' || t.num == '-' || t.num == '+' ||
			       t.num == OP_INC || t.num == OP_DEC)) {
		if (++p->depth > MAX_DEPTH) {
			perr(p, t.line, t.col, "expression nested too deeply");
			return NULL;
		}
		if (advance(p) < 0)
			return NULL;
		struct stp_node *a = parse_unary(p);
		p->depth--;
		if (a == NULL)
			return NULL;
		struct stp_node *n = mk(p, t.num == OP_INC || t.num == OP_DEC ? N_INCDEC : N_UNOP, &t);
		if (n == NULL)
			return NULL;
		n->op = (int)t.num;
		n->a = a;
		return n;
	}
	return parse_postfix(p);
}

/* Binary levels, lowest first (below `in`). */
static const int lv_mul[] = { '*', '/', '%', 0 };
static const int lv_add[] = { '+', '-', 0 };
static const int lv_cat[] = { '.', 0 };
static const int lv_shift[] = { OP_SHL, OP_SHR, 0 };
static const int lv_cmp[] = { '<', '>', OP_LE, OP_GE, OP_EQ, OP_NE, 0 };
static const int *levels[] = { lv_cmp, lv_shift, lv_cat, lv_add, lv_mul };

static struct stp_node *parse_level(struct parser *p, int lv)
{
	if (lv == 5)
		return parse_unary(p);
	struct stp_node *n = parse_level(p, lv + 1);
	if (n == NULL)
		return NULL;
	for (;;) {
		bool hit = false;
		if (p->tok.kind == T_OP)
			for (const int *o = levels[lv]; *o; o++)
				if (p->tok.num == *o)
					hit = true;
		if (!hit)
			return n;
		struct stp_node *b = mk(p, N_BINOP, &p->tok);
		if (b == NULL)
			return NULL;
		b->op = (int)p->tok.num;
		if (advance(p) < 0)
			return NULL;
		b->a = n;
		if ((b->b = parse_level(p, lv + 1)) == NULL)
			return NULL;
		n = b;
	}
}

/* `expr in arr` / `[e1, e2] in arr` */
static struct stp_node *parse_in(struct parser *p)
{
	struct stp_node *keys = NULL;
	struct stp_token at = p->tok;
	if (is_op(&p->tok, '[')) {
		if (advance(p) < 0 || (keys = mk(p, N_IN, &at)) == NULL)
			return NULL;
		for (;;) {
			struct stp_node *a = parse_expr(p);
			if (a == NULL || push_arg(keys, a) < 0)
				return NULL;
			if (is_op(&p->tok, ',')) {
				if (advance(p) < 0)
					return NULL;
				continue;
			}
			break;
		}
		if (expect(p, ']', "']'") < 0)
			return NULL;
		if (!is_kw(&p->tok, "in")) {
			perr(p, p->tok.line, p->tok.col, "expected 'in' after '[...]'");
			return NULL;
		}
	} else {
		struct stp_node *e = parse_level(p, 0);
		if (e == NULL)
			return NULL;
		if (!is_kw(&p->tok, "in"))
			return e;
		if ((keys = mk(p, N_IN, &at)) == NULL || push_arg(keys, e) < 0)
			return NULL;
	}
	if (advance(p) < 0)
		return NULL;
	if (p->tok.kind != T_IDENT) {
		perr(p, p->tok.line, p->tok.col, "expected an array name after 'in'");
		return NULL;
	}
	if ((keys->str = strdup(p->tok.text)) == NULL || advance(p) < 0)
		return NULL;
	keys->type = TY_NUM;
	return keys;
}

static struct stp_node *parse_bits(struct parser *p, int which)
{
	static const int bops[] = { '|', '^', '&' };
	struct stp_node *n = which == 3 ? parse_in(p) : parse_bits(p, which + 1);
	if (n == NULL)
		return NULL;
	while (which < 3 && is_op(&p->tok, bops[which])) {
		struct stp_node *b = mk(p, N_BINOP, &p->tok);
		if (b == NULL || advance(p) < 0)
			return NULL;
		b->op = bops[which];
		b->a = n;
		if ((b->b = parse_bits(p, which + 1)) == NULL)
			return NULL;
		n = b;
	}
	return n;
}

static struct stp_node *parse_logic(struct parser *p, int op)
{
	struct stp_node *n = op == OP_OR ? parse_logic(p, OP_AND) : parse_bits(p, 0);
	if (n == NULL)
		return NULL;
	while (is_op(&p->tok, op)) {
		struct stp_node *b = mk(p, N_LOGIC, &p->tok);
		if (b == NULL || advance(p) < 0)
			return NULL;
		b->op = op;
		b->a = n;
		if ((b->b = op == OP_OR ? parse_logic(p, OP_AND) : parse_bits(p, 0)) == NULL)
			return NULL;
		n = b;
	}
	return n;
}

static struct stp_node *parse_ternary(struct parser *p)
{
	struct stp_node *c = parse_logic(p, OP_OR);
	if (c == NULL || !is_op(&p->tok, '?'))
		return c;
	struct stp_node *n = mk(p, N_TERNARY, &p->tok);
	if (n == NULL || advance(p) < 0)
		return NULL;
	n->a = c;
	if ((n->b = parse_expr(p)) == NULL || expect(p, ':', "':'") < 0)
		return NULL;
	if ((n->c = parse_ternary(p)) == NULL)
		return NULL;
	return n;
}

static bool is_assign_op(const struct stp_token *t)
{
	if (t->kind != T_OP)
		return false;
	return t->num == '=' || t->num == OP_AGG || (t->num >= OP_ADDEQ && t->num <= OP_CATEQ);
}

static struct stp_node *parse_expr(struct parser *p)
{
	if (++p->depth > MAX_DEPTH) {
		perr(p, p->tok.line, p->tok.col, "expression nested too deeply");
		return NULL;
	}
	struct stp_node *l = parse_ternary(p);
	if (l != NULL && is_assign_op(&p->tok)) {
		struct stp_token t = p->tok;
		if (l->kind != N_VAR && l->kind != N_INDEX && l->kind != N_TVAR) {
			perr(p, l->line, l->col, "the left side of '%s' must be a variable or array element", t.text);
			return NULL;
		}
		if (l->kind == N_TVAR) {
			perr(p, l->line, l->col,
			     "writing to target variable $%s is not supported (gotap never changes the program)", l->str);
			return NULL;
		}
		struct stp_node *n = mk(p, t.num == OP_AGG ? N_AGGADD : N_ASSIGN, &t);
		if (n == NULL || advance(p) < 0)
			return NULL;
		n->op = (int)t.num;
		n->a = l;
		if ((n->b = parse_expr(p)) == NULL)
			return NULL;
		l = n;
	}
	p->depth--;
	return l;
}

/* -------------------------------------------------------- statements */

static struct stp_node *parse_block(struct parser *p)
{
	struct stp_node *b = mk(p, S_BLOCK, &p->tok);
	if (b == NULL || expect(p, '{', "'{'") < 0)
		return NULL;
	struct stp_node **tail = &b->a;
	while (!is_op(&p->tok, '}')) {
		if (p->tok.kind == T_EOF) {
			perr(p, b->line, b->col, "unclosed '{'");
			return NULL;
		}
		struct stp_node *s = parse_stmt(p);
		if (s == NULL)
			return NULL;
		*tail = s;
		tail = &s->next_sib;
	}
	if (advance(p) < 0)
		return NULL;
	return b;
}

static struct stp_node *parse_foreach(struct parser *p, struct stp_node *n)
{
	if (expect(p, '(', "'('") < 0)
		return NULL;
	struct stp_token *nx;
	/* optional "v =" */
	if (p->tok.kind == T_IDENT) {
		if (peek2(p, &nx) < 0)
			return NULL;
		if (is_op(nx, '=')) {
			if ((n->valvar = mk(p, N_VAR, &p->tok)) == NULL ||
			    (n->valvar->str = strdup(p->tok.text)) == NULL)
				return NULL;
			if (advance(p) < 0 || advance(p) < 0)
				return NULL;
		}
	}
	bool bracket = is_op(&p->tok, '[');
	if (bracket && advance(p) < 0)
		return NULL;
	for (;;) {
		if (p->tok.kind != T_IDENT) {
			perr(p, p->tok.line, p->tok.col, "expected a loop variable name");
			return NULL;
		}
		struct stp_node *v = mk(p, N_VAR, &p->tok);
		if (v == NULL || (v->str = strdup(p->tok.text)) == NULL || push_arg(n, v) < 0)
			return NULL;
		if (advance(p) < 0)
			return NULL;
		if (is_op(&p->tok, '+') || is_op(&p->tok, '-')) {
			if (n->sort_col != 0) {
				perr(p, p->tok.line, p->tok.col, "only one sort mark is allowed in foreach");
				return NULL;
			}
			n->sort_col = n->nargs;
			n->sort_dir = p->tok.num == '+' ? 1 : -1;
			if (advance(p) < 0)
				return NULL;
		}
		if (bracket && is_op(&p->tok, ',')) {
			if (advance(p) < 0)
				return NULL;
			continue;
		}
		break;
	}
	if (bracket && expect(p, ']', "']'") < 0)
		return NULL;
	if (!is_kw(&p->tok, "in")) {
		perr(p, p->tok.line, p->tok.col, "expected 'in' in foreach");
		return NULL;
	}
	if (advance(p) < 0)
		return NULL;
	if (p->tok.kind != T_IDENT) {
		perr(p, p->tok.line, p->tok.col, "expected an array name after 'in'");
		return NULL;
	}
	if ((n->str = strdup(p->tok.text)) == NULL || advance(p) < 0)
		return NULL;
	if (is_op(&p->tok, '+') || is_op(&p->tok, '-')) {
		if (n->sort_col != 0) {
			perr(p, p->tok.line, p->tok.col, "only one sort mark is allowed in foreach");
			return NULL;
		}
		n->sort_col = -1;
		n->sort_dir = p->tok.num == '+' ? 1 : -1;
		if (advance(p) < 0)
			return NULL;
	}
	n->nkeys = n->nargs;
	if (is_kw(&p->tok, "limit")) {
		if (advance(p) < 0 || (n->limit = parse_expr(p)) == NULL)
			return NULL;
	}
	if (expect(p, ')', "')'") < 0)
		return NULL;
	if ((n->a = parse_stmt(p)) == NULL)
		return NULL;
	return n;
}

static struct stp_node *parse_stmt(struct parser *p)
{
	struct stp_token t = p->tok;
	struct stp_node *n;
	if (++p->depth > MAX_DEPTH) {
		perr(p, t.line, t.col, "statements nested too deeply");
		return NULL;
	}
	p->depth--;
	if (is_op(&t, '{'))
		return parse_block(p);
	if (is_op(&t, ';')) {
		n = mk(p, S_NOP, &t);
		return n == NULL || advance(p) < 0 ? NULL : n;
	}
	if (is_kw(&t, "if")) {
		if ((n = mk(p, S_IF, &t)) == NULL || advance(p) < 0 || expect(p, '(', "'(' after if") < 0)
			return NULL;
		if ((n->a = parse_expr(p)) == NULL || expect(p, ')', "')'") < 0)
			return NULL;
		if ((n->b = parse_stmt(p)) == NULL)
			return NULL;
		if (is_kw(&p->tok, "else")) {
			if (advance(p) < 0 || (n->c = parse_stmt(p)) == NULL)
				return NULL;
		}
		return n;
	}
	if (is_kw(&t, "while")) {
		if ((n = mk(p, S_WHILE, &t)) == NULL || advance(p) < 0 || expect(p, '(', "'(' after while") < 0)
			return NULL;
		if ((n->a = parse_expr(p)) == NULL || expect(p, ')', "')'") < 0)
			return NULL;
		if ((n->b = parse_stmt(p)) == NULL)
			return NULL;
		return n;
	}
	if (is_kw(&t, "for")) {
		if ((n = mk(p, S_FOR, &t)) == NULL || advance(p) < 0 || expect(p, '(', "'(' after for") < 0)
			return NULL;
		if (!is_op(&p->tok, ';') && (n->a = parse_expr(p)) == NULL)
			return NULL;
		if (expect(p, ';', "';'") < 0)
			return NULL;
		if (!is_op(&p->tok, ';') && (n->b = parse_expr(p)) == NULL)
			return NULL;
		if (expect(p, ';', "';'") < 0)
			return NULL;
		if (!is_op(&p->tok, ')') && (n->c = parse_expr(p)) == NULL)
			return NULL;
		if (expect(p, ')', "')'") < 0 || (n->d = parse_stmt(p)) == NULL)
			return NULL;
		return n;
	}
	if (is_kw(&t, "foreach")) {
		if ((n = mk(p, S_FOREACH, &t)) == NULL || advance(p) < 0)
			return NULL;
		return parse_foreach(p, n);
	}
	if (is_kw(&t, "delete")) {
		if ((n = mk(p, S_DELETE, &t)) == NULL || advance(p) < 0 || (n->a = parse_expr(p)) == NULL)
			return NULL;
		if (n->a->kind != N_VAR && n->a->kind != N_INDEX) {
			perr(p, n->a->line, n->a->col, "delete needs a variable, an array or an array element");
			return NULL;
		}
		return n;
	}
	if (is_kw(&t, "next") || is_kw(&t, "break") || is_kw(&t, "continue")) {
		n = mk(p, t.text[0] == 'n' ? S_NEXT : t.text[0] == 'b' ? S_BREAK : S_CONTINUE, &t);
		return n == NULL || advance(p) < 0 ? NULL : n;
	}
	if (is_kw(&t, "return")) {
		if ((n = mk(p, S_RETURN, &t)) == NULL || advance(p) < 0)
			return NULL;
		if (!is_op(&p->tok, ';') && !is_op(&p->tok, '}') && (n->a = parse_expr(p)) == NULL)
			return NULL;
		return n;
	}
	if (is_kw(&t, "global") || is_kw(&t, "probe") || is_kw(&t, "function")) {
		perr(p, t.line, t.col, "'%s' is not allowed inside a block", t.text);
		return NULL;
	}
	if ((n = mk(p, S_EXPR, &t)) == NULL || (n->a = parse_expr(p)) == NULL)
		return NULL;
	return n;
}

/* ------------------------------------------------------ declarations */

static int add_global(struct parser *p)
{
	for (;;) {
		if (p->tok.kind != T_IDENT)
			return perr(p, p->tok.line, p->tok.col, "expected a global variable name");
		for (int i = 0; i < p->sc->nglobals; i++)
			if (strcmp(p->sc->globals[i]->name, p->tok.text) == 0)
				return perr(p, p->tok.line, p->tok.col, "global '%s' declared twice", p->tok.text);
		struct stp_global *g = calloc(1, sizeof *g);
		struct stp_global **v = realloc(p->sc->globals, (size_t)(p->sc->nglobals + 1) * sizeof *v);
		if (g == NULL || v == NULL || (g->name = strdup(p->tok.text)) == NULL) {
			free(g);
			return perr(p, p->tok.line, p->tok.col, "out of memory");
		}
		p->sc->globals = v;
		v[p->sc->nglobals++] = g;
		g->line = p->tok.line;
		g->col = p->tok.col;
		if (advance(p) < 0)
			return -1;
		if (is_op(&p->tok, '[')) {   /* global a[100]: a size, accepted */
			g->is_array = true;
			if (advance(p) < 0)
				return -1;
			if (p->tok.kind != T_NUM)
				return perr(p, p->tok.line, p->tok.col, "expected an array size");
			if (advance(p) < 0 || expect(p, ']', "']'") < 0)
				return -1;
		} else if (is_op(&p->tok, '=')) {
			if (advance(p) < 0)
				return -1;
			bool neg = false;
			if (is_op(&p->tok, '-')) {
				neg = true;
				if (advance(p) < 0)
					return -1;
			}
			if (p->tok.kind != T_NUM && (p->tok.kind != T_STR || neg))
				return perr(p, p->tok.line, p->tok.col, "a global's initial value must be a literal");
			if ((g->init = parse_primary(p)) == NULL)
				return -1;
			if (neg)
				g->init->num = (int64_t)(0 - (uint64_t)g->init->num);
		}
		if (!is_op(&p->tok, ','))
			return 0;
		if (advance(p) < 0)
			return -1;
	}
}

static int add_function(struct parser *p)
{
	if (p->tok.kind != T_IDENT)
		return perr(p, p->tok.line, p->tok.col, "expected a function name");
	for (int i = 0; i < p->sc->nfuncs; i++)
		if (strcmp(p->sc->funcs[i]->name, p->tok.text) == 0)
			return perr(p, p->tok.line, p->tok.col, "function '%s' defined twice", p->tok.text);
	struct stp_func *f = calloc(1, sizeof *f);
	struct stp_func **v = realloc(p->sc->funcs, (size_t)(p->sc->nfuncs + 1) * sizeof *v);
	if (f == NULL || v == NULL || (f->name = strdup(p->tok.text)) == NULL) {
		free(f);
		return perr(p, p->tok.line, p->tok.col, "out of memory");
	}
	p->sc->funcs = v;
	v[p->sc->nfuncs++] = f;
	f->line = p->tok.line;
	f->col = p->tok.col;
	if (advance(p) < 0)
		return -1;
	if (is_op(&p->tok, ':')) {   /* function f:long (...) */
		if (advance(p) < 0)
			return -1;
		if (is_kw(&p->tok, "long"))
			f->rettype = TY_NUM;
		else if (is_kw(&p->tok, "string"))
			f->rettype = TY_STR;
		else
			return perr(p, p->tok.line, p->tok.col, "expected 'long' or 'string'");
		if (advance(p) < 0)
			return -1;
	}
	if (expect(p, '(', "'('") < 0)
		return -1;
	while (!is_op(&p->tok, ')')) {
		if (p->tok.kind != T_IDENT)
			return perr(p, p->tok.line, p->tok.col, "expected a parameter name");
		char **ln = realloc(f->localnames, (size_t)(f->nlocals + 1) * sizeof *ln);
		enum stp_type *lt = realloc(f->localtypes, (size_t)(f->nlocals + 1) * sizeof *lt);
		if (ln) f->localnames = ln;
		if (lt) f->localtypes = lt;
		if (ln == NULL || lt == NULL || (ln[f->nlocals] = strdup(p->tok.text)) == NULL)
			return perr(p, p->tok.line, p->tok.col, "out of memory");
		lt[f->nlocals] = TY_UNK;
		for (int i = 0; i < f->nlocals; i++)
			if (strcmp(ln[i], p->tok.text) == 0)
				return perr(p, p->tok.line, p->tok.col, "parameter '%s' given twice", p->tok.text);
		f->nlocals++;
		f->nparams++;
		if (advance(p) < 0)
			return -1;
		if (is_op(&p->tok, ':')) {
			if (advance(p) < 0)
				return -1;
			if (is_kw(&p->tok, "long"))
				lt[f->nlocals - 1] = TY_NUM;
			else if (is_kw(&p->tok, "string"))
				lt[f->nlocals - 1] = TY_STR;
			else
				return perr(p, p->tok.line, p->tok.col, "expected 'long' or 'string'");
			if (advance(p) < 0)
				return -1;
		}
		if (is_op(&p->tok, ',')) {
			if (advance(p) < 0)
				return -1;
		} else if (!is_op(&p->tok, ')')) {
			return perr(p, p->tok.line, p->tok.col, "expected ',' or ')' in the parameter list");
		}
	}
	if (advance(p) < 0)
		return -1;
	f->body = parse_block(p);
	return f->body ? 0 : -1;
}

static struct stp_node *clone(struct stp_script *sc, const struct stp_node *n)
{
	if (n == NULL)
		return NULL;
	struct stp_node *c = stp_node_new(sc);
	if (c == NULL)
		return NULL;
	struct stp_node *keep = c->arena_next;
	*c = *n;
	c->arena_next = keep;
	c->str = NULL;
	c->args = NULL;
	c->a = clone(sc, n->a);
	c->b = clone(sc, n->b);
	c->c = clone(sc, n->c);
	c->d = clone(sc, n->d);
	c->limit = clone(sc, n->limit);
	c->valvar = clone(sc, n->valvar);
	c->next_sib = clone(sc, n->next_sib);
	if (n->str)
		c->str = stp_strdup_n(n->str, n->slen ? n->slen : strlen(n->str));
	if (n->nargs) {
		c->args = calloc((size_t)n->nargs, sizeof *c->args);
		for (int i = 0; c->args && i < n->nargs; i++)
			c->args[i] = clone(sc, n->args[i]);
	}
	return c;
}

struct stp_node *stp_node_clone(struct stp_script *s, const struct stp_node *n)
{
	return clone(s, n);
}

/* One probe point: component ('.' component)* where component is
 * NAME or NAME(literal). */
static int parse_point(struct parser *p, struct stp_probe *pr)
{
	struct { char name[256]; int kind; /* 0 none, 1 str, 2 num */ char str[256]; int64_t num; int line, col; } c[6];
	int nc = 0;
	size_t start = p->lx.pos;
	pr->line = p->tok.line;
	pr->col = p->tok.col;
	const char *text_start = p->sc->src;
	/* the token is already read: find its start in the source */
	{
		const char *q = p->sc->src;
		for (int l = 1; l < p->tok.line && *q; l++) {
			q = strchr(q, '\n');
			q = q ? q + 1 : "";
		}
		text_start = q + p->tok.col - 1;
	}
	(void)start;
	for (;;) {
		if (p->tok.kind != T_IDENT)
			return perr(p, p->tok.line, p->tok.col, "expected a probe point");
		if (nc == 6)
			return perr(p, p->tok.line, p->tok.col, "probe point too long");
		snprintf(c[nc].name, sizeof c[nc].name, "%s", p->tok.text);
		c[nc].kind = 0;
		c[nc].line = p->tok.line;
		c[nc].col = p->tok.col;
		if (advance(p) < 0)
			return -1;
		if (is_op(&p->tok, '(')) {
			if (advance(p) < 0)
				return -1;
			if (p->tok.kind == T_STR) {
				c[nc].kind = 1;
				snprintf(c[nc].str, sizeof c[nc].str, "%s", p->tok.text);
			} else if (p->tok.kind == T_NUM) {
				c[nc].kind = 2;
				c[nc].num = p->tok.num;
			} else {
				return perr(p, p->tok.line, p->tok.col,
					    "expected a string or number literal in the probe point");
			}
			if (advance(p) < 0 || expect(p, ')', "')'") < 0)
				return -1;
		}
		nc++;
		if (!is_op(&p->tok, '.'))
			break;
		if (advance(p) < 0)
			return -1;
	}
	/* text as written, up to the current token */
	{
		const char *q = p->sc->src;
		for (int l = 1; l < p->tok.line && *q; l++) {
			q = strchr(q, '\n');
			q = q ? q + 1 : "";
		}
		const char *end = p->tok.kind == T_EOF ? p->sc->src + strlen(p->sc->src) : q + p->tok.col - 1;
		while (end > text_start && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\t'))
			end--;
		pr->text = stp_strdup_n(text_start, end > text_start ? (size_t)(end - text_start) : 0);
	}
	if (is_op(&p->tok, '?') || is_op(&p->tok, '!'))
		if (advance(p) < 0)
			return -1;
	const char *n0 = c[0].name;
	if (nc == 1 && c[0].kind == 0 && strcmp(n0, "begin") == 0) {
		pr->kind = P_BEGIN;
		return 0;
	}
	if (nc == 1 && c[0].kind == 0 && strcmp(n0, "end") == 0) {
		pr->kind = P_END;
		return 0;
	}
	if (strcmp(n0, "timer") == 0) {
		static const struct { const char *u; int64_t ns; } units[] = {
			{ "s", 1000000000LL }, { "sec", 1000000000LL }, { "ms", 1000000LL }, { "msec", 1000000LL },
			{ "us", 1000LL }, { "usec", 1000LL }, { "ns", 1 }, { "nsec", 1 },
		};
		if (nc != 2 || c[1].kind != 2)
			return perr(p, c[0].line, c[0].col, "timer probes are timer.s(N), timer.ms(N), timer.us(N)");
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strcmp(c[1].name, units[i].u) == 0) {
				if (c[1].num <= 0)
					return perr(p, c[1].line, c[1].col, "the timer period must be positive");
				pr->kind = P_TIMER;
				pr->period_ns = c[1].num * units[i].ns;
				if (pr->period_ns < 1000000)
					return perr(p, c[1].line, c[1].col, "the timer period must be at least 1ms");
				return 0;
			}
		return perr(p, c[1].line, c[1].col, "unknown timer unit '%s' (s, ms, us, ns)", c[1].name);
	}
	if (strcmp(n0, "process") == 0) {
		if (c[0].kind == 2)
			return perr(p, c[0].line, c[0].col, "process(PID) probes are not supported; use process(\"PATH\")");
		if (c[0].kind == 1 && (pr->path = strdup(c[0].str)) == NULL)
			return perr(p, c[0].line, c[0].col, "out of memory");
		if (nc < 2)
			return perr(p, c[0].line, c[0].col, "process probes need .function(\"NAME\") or .statement(\"SPEC\")");
		if (c[1].kind != 1 || (strcmp(c[1].name, "function") != 0 && strcmp(c[1].name, "statement") != 0))
			return perr(p, c[1].line, c[1].col,
				    "unsupported process probe '%s' (function(\"NAME\") and statement(\"FUNC@FILE:LINE\") are)",
				    c[1].name);
		pr->kind = c[1].name[0] == 'f' ? P_FUNCTION : P_STATEMENT;
		if ((pr->spec = strdup(c[1].str)) == NULL)
			return perr(p, c[1].line, c[1].col, "out of memory");
		if (nc >= 3) {
			if (strcmp(c[2].name, "return") == 0)
				return perr(p, c[2].line, c[2].col,
					    ".return probes are refused: a return probe replaces the return address on the "
					    "goroutine stack, and Go moves and copies stacks (newstack/copystack), which would "
					    "corrupt the program; probe a statement before the return instead");
			if (strcmp(c[2].name, "call") != 0 || nc > 3)
				return perr(p, c[2].line, c[2].col, "unsupported probe point suffix '.%s'", c[2].name);
		}
		return 0;
	}
	if (strcmp(n0, "kernel") == 0 || strcmp(n0, "module") == 0 || strcmp(n0, "syscall") == 0)
		return perr(p, c[0].line, c[0].col,
			    "kernel probes are not available: gotap probes a user-space program over RSP");
	return perr(p, c[0].line, c[0].col, "unknown probe point '%s'", n0);
}

static int add_probe(struct parser *p)
{
	struct stp_probe *pts[32];
	int np = 0;
	for (;;) {
		if (np == 32)
			return perr(p, p->tok.line, p->tok.col, "too many probe points");
		struct stp_probe *pr = calloc(1, sizeof *pr);
		if (pr == NULL)
			return perr(p, p->tok.line, p->tok.col, "out of memory");
		pts[np++] = pr;
		struct stp_probe **v = realloc(p->sc->probes, (size_t)(p->sc->nprobes + 1) * sizeof *v);
		if (v == NULL)
			return perr(p, p->tok.line, p->tok.col, "out of memory");
		p->sc->probes = v;
		pr->index = p->sc->nprobes;
		v[p->sc->nprobes++] = pr;
		if (parse_point(p, pr) < 0)
			return -1;
		if (!is_op(&p->tok, ','))
			break;
		if (advance(p) < 0)
			return -1;
	}
	if (is_op(&p->tok, '='))
		return perr(p, p->tok.line, p->tok.col, "probe aliases are not supported");
	struct stp_node *body = parse_block(p);
	if (body == NULL)
		return -1;
	pts[0]->body = body;
	for (int i = 1; i < np; i++)
		if ((pts[i]->body = clone(p->sc, body)) == NULL)
			return perr(p, body->line, body->col, "out of memory");
	return 0;
}

int stp_parse(struct stp_script *s, char *err, size_t errlen)
{
	struct parser p;
	memset(&p, 0, sizeof p);
	p.sc = s;
	p.err = err;
	p.errlen = errlen;
	stp_lex_init(&p.lx, s->name, s->src);
	if (advance(&p) < 0)
		return -1;
	while (p.tok.kind != T_EOF) {
		if (is_kw(&p.tok, "global")) {
			if (advance(&p) < 0 || add_global(&p) < 0)
				return -1;
		} else if (is_kw(&p.tok, "probe")) {
			if (advance(&p) < 0 || add_probe(&p) < 0)
				return -1;
		} else if (is_kw(&p.tok, "function")) {
			if (advance(&p) < 0 || add_function(&p) < 0)
				return -1;
		} else if (is_op(&p.tok, ';')) {
			if (advance(&p) < 0)
				return -1;
		} else {
			char b[100];
			return perr(&p, p.tok.line, p.tok.col, "expected 'probe', 'global' or 'function', found %s",
				    tokdesc(&p.tok, b, sizeof b));
		}
	}
	if (s->nprobes == 0)
		return perr(&p, p.tok.line, p.tok.col, "the script has no probes");
	return 0;
}

void stp_script_free(struct stp_script *s)
{
	for (struct stp_node *n = s->arena; n;) {
		struct stp_node *nx = n->arena_next;
		free(n->args);
		free(n->str);
		free(n->tv);
		free(n);
		n = nx;
	}
	for (int i = 0; i < s->nprobes; i++) {
		struct stp_probe *p = s->probes[i];
		for (int k = 0; k < p->nlocals; k++)
			free(p->localnames[k]);
		free(p->localnames);
		free(p->localtypes);
		free(p->text);
		free(p->path);
		free(p->spec);
		free(p->func);
		free(p->fdie);
		free(p);
	}
	free(s->probes);
	for (int i = 0; i < s->nfuncs; i++) {
		struct stp_func *f = s->funcs[i];
		for (int k = 0; k < f->nlocals; k++)
			free(f->localnames[k]);
		free(f->localnames);
		free(f->localtypes);
		free(f->name);
		free(f);
	}
	free(s->funcs);
	for (int i = 0; i < s->nglobals; i++) {
		free(s->globals[i]->name);
		free(s->globals[i]);
	}
	free(s->globals);
	memset(s, 0, sizeof *s);
}
