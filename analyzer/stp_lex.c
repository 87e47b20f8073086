/* stp_lex.c — tokens of the script language (SystemTap's lexical rules):
 * comments `#`, `//`, C block comments; decimal, hex (0x) and octal (0)
 * integers; "strings" with C escapes; identifiers; $target and $$vars;
 * @name operators (@cast, @var, @count ...); punctuation, longest match.
 * Also the error formatter every stage uses: FILE:LINE:COL, the line, a caret.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stp_int.h"

void stp_lex_init(struct stp_lexer *lx, const char *name, const char *src)
{
	lx->src = src;
	lx->name = name;
	lx->pos = 0;
	lx->len = strlen(src);
	lx->line = 1;
	lx->col = 1;
}

void stp_format_error(char *dst, size_t cap, const char *name, const char *src,
		      int line, int col, const char *msg)
{
	const char *p = src;
	for (int l = 1; l < line && p && *p; l++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (p == NULL)
		p = "";
	size_t n = strcspn(p, "\n");
	if (n > 200)
		n = 200;
	char caret[256];
	int c = col < 1 ? 0 : col - 1;
	if (c > 200)
		c = 200;
	for (int i = 0; i < c; i++)
		caret[i] = p[i] == '\t' ? '\t' : ' ';
	caret[c] = '^';
	caret[c + 1] = '\0';
	snprintf(dst, cap, "%s:%d:%d: %s\n    %.*s\n    %s", name, line, col, msg, (int)n, p, caret);
}

static int peek(const struct stp_lexer *lx, size_t k)
{
	return lx->pos + k < lx->len ? (unsigned char)lx->src[lx->pos + k] : -1;
}

static void adv(struct stp_lexer *lx)
{
	if (lx->pos >= lx->len)
		return;
	if (lx->src[lx->pos] == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->pos++;
}

static int lex_err(struct stp_lexer *lx, int line, int col, char *err, size_t errlen, const char *msg)
{
	stp_format_error(err, errlen, lx->name, lx->src, line, col, msg);
	return -1;
}

/* Punctuation, longest first. */
static const struct { const char *s; int op; } ops[] = {
	{ "<<<", OP_AGG }, { "<<=", OP_SHLEQ }, { ">>=", OP_SHREQ },
	{ "==", OP_EQ }, { "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE },
	{ "<<", OP_SHL }, { ">>", OP_SHR }, { "&&", OP_AND }, { "||", OP_OR },
	{ "++", OP_INC }, { "--", OP_DEC }, { "->", OP_ARROW },
	{ "+=", OP_ADDEQ }, { "-=", OP_SUBEQ }, { "*=", OP_MULEQ }, { "/=", OP_DIVEQ },
	{ "%=", OP_MODEQ }, { "&=", OP_ANDEQ }, { "|=", OP_OREQ }, { "^=", OP_XOREQ },
	{ ".=", OP_CATEQ },
};

int stp_lex_next(struct stp_lexer *lx, struct stp_token *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	for (;;) {
		int ch = peek(lx, 0);
		if (ch == -1)
			break;
		if (isspace(ch)) {
			adv(lx);
		} else if (ch == '#' || (ch == '/' && peek(lx, 1) == '/')) {
			while (peek(lx, 0) != -1 && peek(lx, 0) != '\n')
				adv(lx);
		} else if (ch == '/' && peek(lx, 1) == '*') {
			int l = lx->line, c = lx->col;
			adv(lx);
			adv(lx);
			while (!(peek(lx, 0) == '*' && peek(lx, 1) == '/')) {
				if (peek(lx, 0) == -1)
					return lex_err(lx, l, c, err, errlen, "unterminated comment");
				adv(lx);
			}
			adv(lx);
			adv(lx);
		} else {
			break;
		}
	}
	t->line = lx->line;
	t->col = lx->col;
	int ch = peek(lx, 0);
	if (ch == -1) {
		t->kind = T_EOF;
		strcpy(t->text, "end of input");
		return 0;
	}
	if (isdigit(ch)) {
		size_t start = lx->pos;
		while (isalnum(peek(lx, 0)))
			adv(lx);
		size_t n = lx->pos - start;
		char buf[64];
		if (n >= sizeof buf)
			return lex_err(lx, t->line, t->col, err, errlen, "number too long");
		memcpy(buf, lx->src + start, n);
		buf[n] = '\0';
		char *end;
		errno = 0;
		unsigned long long v = strtoull(buf, &end, 0);
		if (*end != '\0')
			return lex_err(lx, t->line, t->col, err, errlen, "malformed number");
		if (errno == ERANGE)
			return lex_err(lx, t->line, t->col, err, errlen, "number out of range");
		t->kind = T_NUM;
		t->num = (int64_t)v;
		snprintf(t->text, sizeof t->text, "%s", buf);
		return 0;
	}
	if (ch == '"') {
		adv(lx);
		size_t n = 0;
		for (;;) {
			int c = peek(lx, 0);
			if (c == -1 || c == '\n')
				return lex_err(lx, t->line, t->col, err, errlen, "unterminated string");
			adv(lx);
			if (c == '"')
				break;
			if (c == '\\') {
				int e = peek(lx, 0);
				if (e == -1)
					return lex_err(lx, t->line, t->col, err, errlen, "unterminated string");
				adv(lx);
				switch (e) {
				case 'n': c = '\n'; break;
				case 't': c = '\t'; break;
				case 'r': c = '\r'; break;
				case 'a': c = '\a'; break;
				case 'b': c = '\b'; break;
				case 'f': c = '\f'; break;
				case 'v': c = '\v'; break;
				case '\\': case '"': case '\'': c = e; break;
				case 'x': {
					int v = 0, k = 0;
					while (k < 2 && isxdigit(peek(lx, 0))) {
						int d = peek(lx, 0);
						v = v * 16 + (isdigit(d) ? d - '0' : tolower(d) - 'a' + 10);
						adv(lx);
						k++;
					}
					c = v;
					break;
				}
				default:
					if (e >= '0' && e <= '7') {
						int v = e - '0', k = 1;
						while (k < 3 && peek(lx, 0) >= '0' && peek(lx, 0) <= '7') {
							v = v * 8 + peek(lx, 0) - '0';
							adv(lx);
							k++;
						}
						c = v & 0xff;
					} else {
						c = e; /* stap keeps unknown escapes' character */
					}
				}
			}
			if (n + 1 >= sizeof t->text)
				return lex_err(lx, t->line, t->col, err, errlen,
					       "string literal too long (255 bytes at most)");
			t->text[n++] = (char)c;
		}
		t->text[n] = '\0';
		t->len = n;
		t->kind = T_STR;
		return 0;
	}
	if (isalpha(ch) || ch == '_' || ch == '$' || ch == '@') {
		size_t start = lx->pos;
		t->kind = ch == '$' ? T_TVAR : ch == '@' ? T_AT : T_IDENT;
		adv(lx);
		if (ch == '$' && peek(lx, 0) == '$')
			adv(lx);
		while (isalnum(peek(lx, 0)) || peek(lx, 0) == '_')
			adv(lx);
		size_t n = lx->pos - start;
		if (n >= sizeof t->text)
			return lex_err(lx, t->line, t->col, err, errlen, "identifier too long");
		if (n == 1 && ch != '$' && ch != '@') {
			/* one letter identifier */
		} else if (n == 1) {
			return lex_err(lx, t->line, t->col, err, errlen,
				       ch == '$' ? "'$' must be followed by a variable name"
						 : "'@' must be followed by a name");
		}
		memcpy(t->text, lx->src + start, n);
		t->text[n] = '\0';
		return 0;
	}
	t->kind = T_OP;
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		size_t n = strlen(ops[i].s);
		if (lx->pos + n <= lx->len && memcmp(lx->src + lx->pos, ops[i].s, n) == 0) {
			for (size_t k = 0; k < n; k++)
				adv(lx);
			t->num = ops[i].op;
			snprintf(t->text, sizeof t->text, "%s", ops[i].s);
			return 0;
		}
	}
	if (strchr("{}()[];,.=+-*/%<>!~&|^?:", ch) == NULL) {
		char msg[64];
		snprintf(msg, sizeof msg, isprint(ch) ? "unexpected character '%c'" : "unexpected byte 0x%02x", ch);
		return lex_err(lx, t->line, t->col, err, errlen, msg);
	}
	adv(lx);
	t->num = ch;
	t->text[0] = (char)ch;
	t->text[1] = '\0';
	return 0;
}
