/* stp_eval.c — the tree-walking interpreter of the script language, and its
 * associative arrays.
 *
 * Numbers are int64_t with two's-complement wraparound (arithmetic is done
 * in uint64_t so overflow is defined); division or modulo by zero is a
 * runtime error.  Strings are owned heap copies.  A runtime error (also an
 * unreadable target pointer) aborts the current probe hit: it is reported
 * once per error site, counted, and the target is never touched by it.
 * Bounds as in stap: statements per hit (MAXACTION-like) and call depth.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stp_int.h"

#define MAX_STEPS 10000000ULL   /* statements per probe hit */
#define MAX_DEPTH 200           /* nested function calls */
#define MAX_REPORTED 64         /* distinct error sites printed */

enum { R_OK = 0, R_ERR = -1, R_NEXT = 1, R_BREAK, R_CONT, R_RETURN };

/* ------------------------------------------------------------ values */

void stp_val_free(struct stp_val *v)
{
	free(v->s);
	v->s = NULL;
}

static int set_num(struct stp_val *v, int64_t n)
{
	v->t = TY_NUM;
	v->n = n;
	v->s = NULL;
	return 0;
}

static int set_str(struct stp_rt *rt, struct stp_val *v, const char *s, size_t n)
{
	v->t = TY_STR;
	v->n = 0;
	v->s = stp_strdup_n(s, n);
	if (v->s == NULL)
		return stp_rt_error(rt, NULL, "out of memory");
	return 0;
}

int stp_val_str(struct stp_val *v, int64_t n)
{
	char b[32];
	snprintf(b, sizeof b, "%" PRId64, n);
	v->t = TY_STR;
	v->s = strdup(b);
	return v->s ? 0 : -1;
}

static int copy_val(struct stp_rt *rt, struct stp_val *dst, const struct stp_val *src)
{
	if (src->t == TY_STR)
		return set_str(rt, dst, src->s ? src->s : "", src->s ? strlen(src->s) : 0);
	return set_num(dst, src->n);
}

static void init_val(struct stp_val *v, enum stp_type t)
{
	v->t = t == TY_STR ? TY_STR : TY_NUM;
	v->n = 0;
	v->s = t == TY_STR ? strdup("") : NULL;
}

/* ------------------------------------------------------------ errors */

static const void *reported[MAX_REPORTED];

int stp_rt_error(struct stp_rt *rt, struct stp_node *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rt->errmsg, sizeof rt->errmsg, fmt, ap);
	va_end(ap);
	/* report once per site */
	const void *site = at ? (const void *)at : (const void *)rt->probe;
	bool seen = false;
	for (unsigned long i = 0; i < rt->err_reported && i < MAX_REPORTED; i++)
		if (reported[i] == site)
			seen = true;
	if (!seen && rt->err) {
		if (at)
			fprintf(rt->err, "gotap: ERROR: %s at %s:%d:%d (probe %s); skipping this hit\n", rt->errmsg,
				rt->sc->name, at->line, at->col, rt->probe ? rt->probe->text : "?");
		else
			fprintf(rt->err, "gotap: ERROR: %s (probe %s); skipping this hit\n", rt->errmsg,
				rt->probe ? rt->probe->text : "?");
		fflush(rt->err);
		if (rt->err_reported < MAX_REPORTED)
			reported[rt->err_reported] = site;
		rt->err_reported++;
	}
	return R_ERR;
}

/* ------------------------------------------------------------- maps */

struct stp_map {
	int nkeys;
	enum stp_type vtype;
	size_t nbuckets, count;
	struct stp_mapent **buckets;
	struct stp_mapent *head, *tail;
};

static uint64_t key_hash(const struct stp_val *k, int n)
{
	uint64_t h = 1469598103934665603ULL;
	for (int i = 0; i < n; i++) {
		if (k[i].t == TY_STR) {
			for (const char *p = k[i].s; p && *p; p++)
				h = (h ^ (uint8_t)*p) * 1099511628211ULL;
			h = (h ^ 0xff) * 1099511628211ULL;
		} else {
			uint64_t v = (uint64_t)k[i].n;
			for (int b = 0; b < 8; b++)
				h = (h ^ ((v >> (8 * b)) & 0xff)) * 1099511628211ULL;
		}
	}
	return h;
}

static bool key_eq(const struct stp_val *a, const struct stp_val *b, int n)
{
	for (int i = 0; i < n; i++) {
		if (a[i].t != b[i].t)
			return false;
		if (a[i].t == TY_STR ? strcmp(a[i].s ? a[i].s : "", b[i].s ? b[i].s : "") != 0 : a[i].n != b[i].n)
			return false;
	}
	return true;
}

struct stp_map *stp_map_new(int nkeys, enum stp_type vtype)
{
	struct stp_map *m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	m->nkeys = nkeys < 1 ? 1 : nkeys;
	m->vtype = vtype;
	m->nbuckets = 64;
	m->buckets = calloc(m->nbuckets, sizeof *m->buckets);
	if (m->buckets == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

int stp_map_nkeys(const struct stp_map *m)
{
	return m->nkeys;
}

static void ent_free(struct stp_map *m, struct stp_mapent *e)
{
	for (int i = 0; i < m->nkeys; i++)
		stp_val_free(&e->keys[i]);
	free(e->keys);
	stp_val_free(&e->val);
	free(e->stat);
	free(e);
}

void stp_map_clear(struct stp_map *m)
{
	struct stp_mapent *e = m->head;
	while (e) {
		struct stp_mapent *nx = e->inext;
		ent_free(m, e);
		e = nx;
	}
	memset(m->buckets, 0, m->nbuckets * sizeof *m->buckets);
	m->head = m->tail = NULL;
	m->count = 0;
}

void stp_map_free(struct stp_map *m)
{
	if (m == NULL)
		return;
	stp_map_clear(m);
	free(m->buckets);
	free(m);
}

static struct stp_mapent *map_find(struct stp_map *m, const struct stp_val *keys, bool create)
{
	uint64_t h = key_hash(keys, m->nkeys);
	for (struct stp_mapent *e = m->buckets[h % m->nbuckets]; e; e = e->next)
		if (e->hash == h && key_eq(e->keys, keys, m->nkeys))
			return e;
	if (!create)
		return NULL;
	if (m->count >= m->nbuckets * 2) {
		size_t nb = m->nbuckets * 4;
		struct stp_mapent **b = calloc(nb, sizeof *b);
		if (b) {
			for (struct stp_mapent *e = m->head; e; e = e->inext) {
				e->next = b[e->hash % nb];
				b[e->hash % nb] = e;
			}
			free(m->buckets);
			m->buckets = b;
			m->nbuckets = nb;
		}
	}
	struct stp_mapent *e = calloc(1, sizeof *e);
	if (e == NULL)
		return NULL;
	e->keys = calloc((size_t)m->nkeys, sizeof *e->keys);
	if (e->keys == NULL) {
		free(e);
		return NULL;
	}
	for (int i = 0; i < m->nkeys; i++) {
		e->keys[i] = keys[i];
		if (keys[i].t == TY_STR && (e->keys[i].s = strdup(keys[i].s ? keys[i].s : "")) == NULL) {
			m->nkeys = i; /* free only what was copied */
			ent_free(m, e);
			return NULL;
		}
	}
	if (m->vtype == TY_STAT) {
		e->stat = calloc(1, sizeof *e->stat);
		if (e->stat == NULL) {
			ent_free(m, e);
			return NULL;
		}
	} else {
		init_val(&e->val, m->vtype);
		if (m->vtype == TY_STR && e->val.s == NULL) {
			ent_free(m, e);
			return NULL;
		}
	}
	e->hash = h;
	e->next = m->buckets[h % m->nbuckets];
	m->buckets[h % m->nbuckets] = e;
	e->iprev = m->tail;
	if (m->tail)
		m->tail->inext = e;
	else
		m->head = e;
	m->tail = e;
	m->count++;
	return e;
}

struct stp_val *stp_map_val(struct stp_map *m, const struct stp_val *keys, bool create)
{
	struct stp_mapent *e = map_find(m, keys, create);
	return e ? &e->val : NULL;
}

struct stp_stat *stp_map_stat(struct stp_map *m, const struct stp_val *keys, bool create)
{
	struct stp_mapent *e = map_find(m, keys, create);
	return e ? e->stat : NULL;
}

bool stp_map_delete(struct stp_map *m, const struct stp_val *keys)
{
	uint64_t h = key_hash(keys, m->nkeys);
	for (struct stp_mapent **pp = &m->buckets[h % m->nbuckets]; *pp; pp = &(*pp)->next) {
		struct stp_mapent *e = *pp;
		if (e->hash == h && key_eq(e->keys, keys, m->nkeys)) {
			*pp = e->next;
			if (e->iprev)
				e->iprev->inext = e->inext;
			else
				m->head = e->inext;
			if (e->inext)
				e->inext->iprev = e->iprev;
			else
				m->tail = e->iprev;
			m->count--;
			ent_free(m, e);
			return true;
		}
	}
	return false;
}

size_t stp_map_entries(struct stp_map *m, struct stp_mapent ***ents)
{
	*ents = NULL;
	if (m->count == 0)
		return 0;
	struct stp_mapent **v = malloc(m->count * sizeof *v);
	if (v == NULL)
		return 0;
	size_t i = 0;
	for (struct stp_mapent *e = m->head; e; e = e->inext)
		v[i++] = e;
	*ents = v;
	return i;
}

/* ------------------------------------------------------------ runtime */

int stp_rt_init(struct stp_rt *rt, struct stp_script *sc, FILE *out, FILE *err)
{
	memset(rt, 0, sizeof *rt);
	rt->sc = sc;
	rt->out = out;
	rt->err = err;
	int n = sc->nglobals;
	rt->gvals = calloc((size_t)n + 1, sizeof *rt->gvals);
	rt->gstats = calloc((size_t)n + 1, sizeof *rt->gstats);
	rt->gmaps = calloc((size_t)n + 1, sizeof *rt->gmaps);
	if (rt->gvals == NULL || rt->gstats == NULL || rt->gmaps == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		struct stp_global *g = sc->globals[i];
		if (g->is_array) {
			if ((rt->gmaps[i] = stp_map_new(g->arity, g->type)) == NULL)
				return -1;
		} else if (g->type == TY_STAT) {
			if ((rt->gstats[i] = calloc(1, sizeof **rt->gstats)) == NULL)
				return -1;
		} else if (g->init) {
			if (g->init->kind == N_STR) {
				if (set_str(rt, &rt->gvals[i], g->init->str, g->init->slen) < 0)
					return -1;
			} else {
				set_num(&rt->gvals[i], g->init->num);
			}
		} else {
			init_val(&rt->gvals[i], g->type);
		}
	}
	return 0;
}

void stp_rt_free(struct stp_rt *rt)
{
	if (rt->sc == NULL)
		return;
	for (int i = 0; i < rt->sc->nglobals; i++) {
		if (rt->gvals)
			stp_val_free(&rt->gvals[i]);
		if (rt->gstats)
			free(rt->gstats[i]);
		if (rt->gmaps)
			stp_map_free(rt->gmaps[i]);
	}
	free(rt->gvals);
	free(rt->gstats);
	free(rt->gmaps);
	rt->gvals = NULL;
}

/* ------------------------------------------------------------ aggregates */

static int val_to_bucket(int64_t v)
{
	if (v == 0)
		return 64;
	bool neg = v < 0;
	uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int bits = 64 - __builtin_clzll(u);
	int b = neg ? 64 - bits : 64 + bits;
	if (b < 0)
		b = 0;
	if (b > 127)
		b = 127;
	return b;
}

void stp_stat_add(struct stp_stat *st, int64_t v)
{
	if (st->count == 0) {
		st->sum = st->min = st->max = v;
	} else {
		st->sum = (int64_t)((uint64_t)st->sum + (uint64_t)v);
		if (v < st->min)
			st->min = v;
		if (v > st->max)
			st->max = v;
	}
	st->count++;
	st->hist[val_to_bucket(v)]++;
}

/* ------------------------------------------------------------ eval */

static int exec(struct stp_rt *rt, struct stp_node *n, struct stp_val *ret);

static bool truthy(const struct stp_val *v)
{
	return v->t == TY_STR ? (v->s && v->s[0]) : v->n != 0;
}

/* Evaluate index expressions into keys[] (caller frees). */
static int eval_keys(struct stp_rt *rt, struct stp_node **args, int n, struct stp_val *keys)
{
	for (int i = 0; i < n; i++) {
		if (stp_eval(rt, args[i], &keys[i]) < 0) {
			for (int k = 0; k < i; k++)
				stp_val_free(&keys[k]);
			return R_ERR;
		}
	}
	return 0;
}

static void free_keys(struct stp_val *keys, int n)
{
	for (int i = 0; i < n; i++)
		stp_val_free(&keys[i]);
}

/* The storage of an lvalue (N_VAR or N_INDEX), created if needed. */
static struct stp_val *lvalue(struct stp_rt *rt, struct stp_node *l)
{
	if (l->kind == N_VAR)
		return l->global ? &rt->gvals[l->sym] : &rt->locals[l->sym];
	struct stp_val keys[9];
	if (eval_keys(rt, l->args, l->nargs, keys) < 0)
		return NULL;
	struct stp_val *v = stp_map_val(rt->gmaps[l->sym], keys, true);
	free_keys(keys, l->nargs);
	if (v == NULL)
		stp_rt_error(rt, l, "out of memory");
	return v;
}

static struct stp_stat *stat_of(struct stp_rt *rt, struct stp_node *v, bool create, int *rc)
{
	*rc = 0;
	if (v->kind == N_VAR)
		return rt->gstats[v->sym];
	struct stp_val keys[9];
	if ((*rc = eval_keys(rt, v->args, v->nargs, keys)) < 0)
		return NULL;
	struct stp_stat *st = stp_map_stat(rt->gmaps[v->sym], keys, create);
	free_keys(keys, v->nargs);
	return st;
}

static int arith(struct stp_rt *rt, struct stp_node *at, int op, int64_t a, int64_t b, int64_t *out)
{
	uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
	switch (op) {
	case '+': case OP_ADDEQ: *out = (int64_t)(ua + ub); return 0;
	case '-': case OP_SUBEQ: *out = (int64_t)(ua - ub); return 0;
	case '*': case OP_MULEQ: *out = (int64_t)(ua * ub); return 0;
	case '/': case OP_DIVEQ:
	case '%': case OP_MODEQ:
		if (b == 0)
			return stp_rt_error(rt, at, "division by 0");
		if (a == INT64_MIN && b == -1) {
			*out = (op == '/' || op == OP_DIVEQ) ? INT64_MIN : 0;
			return 0;
		}
		*out = (op == '/' || op == OP_DIVEQ) ? a / b : a % b;
		return 0;
	case OP_SHL: case OP_SHLEQ: *out = b < 0 || b > 63 ? 0 : (int64_t)(ua << b); return 0;
	case OP_SHR: case OP_SHREQ: *out = b < 0 || b > 63 ? (a < 0 ? -1 : 0) : a >> b; return 0;
	case '&': case OP_ANDEQ: *out = a & b; return 0;
	case '|': case OP_OREQ: *out = a | b; return 0;
	case '^': case OP_XOREQ: *out = a ^ b; return 0;
	}
	return stp_rt_error(rt, at, "internal: bad operator %d", op);
}

static int concat(struct stp_rt *rt, const struct stp_val *a, const struct stp_val *b, struct stp_val *out)
{
	char na[32], nb[32];
	const char *sa = a->t == TY_STR ? (a->s ? a->s : "") : (snprintf(na, sizeof na, "%" PRId64, a->n), na);
	const char *sb = b->t == TY_STR ? (b->s ? b->s : "") : (snprintf(nb, sizeof nb, "%" PRId64, b->n), nb);
	size_t la = strlen(sa), lb = strlen(sb);
	char *s = malloc(la + lb + 1);
	if (s == NULL)
		return stp_rt_error(rt, NULL, "out of memory");
	memcpy(s, sa, la);
	memcpy(s + la, sb, lb + 1);
	out->t = TY_STR;
	out->n = 0;
	out->s = s;
	return 0;
}

static int call_user(struct stp_rt *rt, struct stp_node *n, struct stp_val *out)
{
	struct stp_func *f = rt->sc->funcs[n->sym];
	if (rt->depth >= MAX_DEPTH)
		return stp_rt_error(rt, n, "function calls nested too deeply (%d)", MAX_DEPTH);
	struct stp_val *locals = calloc((size_t)f->nlocals + 1, sizeof *locals);
	if (locals == NULL)
		return stp_rt_error(rt, n, "out of memory");
	int rc = 0;
	for (int i = 0; i < f->nlocals; i++) {
		if (i < f->nparams) {
			if (stp_eval(rt, n->args[i], &locals[i]) < 0) {
				rc = R_ERR;
				for (int k = 0; k < i; k++)
					stp_val_free(&locals[k]);
				free(locals);
				return rc;
			}
		} else {
			init_val(&locals[i], f->localtypes[i]);
		}
	}
	struct stp_val *saved = rt->locals;
	rt->locals = locals;
	rt->depth++;
	struct stp_val ret;
	init_val(&ret, f->rettype);
	rc = exec(rt, f->body, &ret);
	rt->depth--;
	rt->locals = saved;
	for (int i = 0; i < f->nlocals; i++)
		stp_val_free(&locals[i]);
	free(locals);
	if (rc == R_ERR || rc == R_NEXT) {
		stp_val_free(&ret);
		return rc == R_NEXT ? stp_rt_error(rt, n, "'next' inside a function") : R_ERR;
	}
	*out = ret;
	return 0;
}

static int eval_assign(struct stp_rt *rt, struct stp_node *n, struct stp_val *out)
{
	struct stp_val rv;
	if (stp_eval(rt, n->b, &rv) < 0)
		return R_ERR;
	struct stp_val *lv = lvalue(rt, n->a);
	if (lv == NULL) {
		stp_val_free(&rv);
		return R_ERR;
	}
	if (n->op == '=') {
		stp_val_free(lv);
		*lv = rv;
	} else if (n->op == OP_CATEQ) {
		struct stp_val r;
		if (concat(rt, lv, &rv, &r) < 0) {
			stp_val_free(&rv);
			return R_ERR;
		}
		stp_val_free(&rv);
		stp_val_free(lv);
		*lv = r;
	} else {
		int64_t res;
		if (arith(rt, n, n->op, lv->n, rv.n, &res) < 0) {
			stp_val_free(&rv);
			return R_ERR;
		}
		stp_val_free(&rv);
		lv->n = res;
	}
	return copy_val(rt, out, lv);
}

int stp_eval(struct stp_rt *rt, struct stp_node *n, struct stp_val *out)
{
	out->s = NULL;
	out->t = TY_NUM;
	out->n = 0;
	switch (n->kind) {
	case N_NUM:
		return set_num(out, n->num);
	case N_STR:
		return set_str(rt, out, n->str, n->slen);
	case N_VAR:
		return copy_val(rt, out, n->global ? &rt->gvals[n->sym] : &rt->locals[n->sym]);
	case N_INDEX: {
		struct stp_val keys[9];
		if (eval_keys(rt, n->args, n->nargs, keys) < 0)
			return R_ERR;
		struct stp_val *v = stp_map_val(rt->gmaps[n->sym], keys, false);
		free_keys(keys, n->nargs);
		if (v == NULL) {
			init_val(out, n->type);
			return 0;
		}
		return copy_val(rt, out, v);
	}
	case N_IN: {
		struct stp_val keys[9];
		if (eval_keys(rt, n->args, n->nargs, keys) < 0)
			return R_ERR;
		bool has = stp_map_val(rt->gmaps[n->sym], keys, false) != NULL ||
			   (rt->sc->globals[n->sym]->type == TY_STAT && stp_map_stat(rt->gmaps[n->sym], keys, false));
		free_keys(keys, n->nargs);
		return set_num(out, has);
	}
	case N_TVAR:
	case N_CAST:
	case N_ATVAR:
		return stp_tvar_read(rt, n, out);
	case N_CALL:
		if (n->global)
			return call_user(rt, n, out);
		return stp_call_builtin(rt, n, out);
	case N_BINOP: {
		struct stp_val a, b;
		if (stp_eval(rt, n->a, &a) < 0)
			return R_ERR;
		if (stp_eval(rt, n->b, &b) < 0) {
			stp_val_free(&a);
			return R_ERR;
		}
		int rc = 0;
		if (n->op == '.') {
			rc = concat(rt, &a, &b, out);
		} else if (n->op == '<' || n->op == '>' || n->op == OP_LE || n->op == OP_GE || n->op == OP_EQ ||
			   n->op == OP_NE) {
			int c;
			if (a.t == TY_STR || b.t == TY_STR)
				c = strcmp(a.s ? a.s : "", b.s ? b.s : "");
			else
				c = a.n < b.n ? -1 : a.n > b.n;
			bool r = n->op == '<' ? c < 0 : n->op == '>' ? c > 0 : n->op == OP_LE ? c <= 0
				: n->op == OP_GE ? c >= 0 : n->op == OP_EQ ? c == 0 : c != 0;
			set_num(out, r);
		} else {
			int64_t res;
			rc = arith(rt, n, n->op, a.n, b.n, &res);
			if (rc == 0)
				set_num(out, res);
		}
		stp_val_free(&a);
		stp_val_free(&b);
		return rc;
	}
	case N_UNOP: {
		struct stp_val a;
		if (stp_eval(rt, n->a, &a) < 0)
			return R_ERR;
		int64_t v = a.n;
		bool t = truthy(&a);
		stp_val_free(&a);
		switch (n->op) {
		case '!': return set_num(out, !t);
		case '~': return set_num(out, ~v);
		case '-': return set_num(out, (int64_t)(0 - (uint64_t)v));
		default: return set_num(out, v);
		}
	}
	case N_LOGIC: {
		struct stp_val a;
		if (stp_eval(rt, n->a, &a) < 0)
			return R_ERR;
		bool ta = truthy(&a);
		stp_val_free(&a);
		if (n->op == OP_AND ? !ta : ta)
			return set_num(out, ta);
		if (stp_eval(rt, n->b, &a) < 0)
			return R_ERR;
		bool tb = truthy(&a);
		stp_val_free(&a);
		return set_num(out, tb);
	}
	case N_TERNARY: {
		struct stp_val c;
		if (stp_eval(rt, n->a, &c) < 0)
			return R_ERR;
		bool t = truthy(&c);
		stp_val_free(&c);
		return stp_eval(rt, t ? n->b : n->c, out);
	}
	case N_ASSIGN:
		return eval_assign(rt, n, out);
	case N_INCDEC: {
		struct stp_val *lv = lvalue(rt, n->a);
		if (lv == NULL)
			return R_ERR;
		int64_t old = lv->n;
		lv->n = (int64_t)((uint64_t)lv->n + (n->op == OP_INC ? 1u : (uint64_t)-1));
		return set_num(out, n->num ? old : lv->n);
	}
	case N_AGGADD: {
		struct stp_val v;
		if (stp_eval(rt, n->b, &v) < 0)
			return R_ERR;
		int src;
		struct stp_stat *st = stat_of(rt, n->a, true, &src);
		if (src < 0)
			return R_ERR;
		if (st == NULL)
			return stp_rt_error(rt, n, "out of memory");
		stp_stat_add(st, v.n);
		return set_num(out, v.n);
	}
	case N_STATOP: {
		int src;
		struct stp_stat *st = stat_of(rt, n->a, false, &src);
		if (src < 0)
			return R_ERR;
		static struct stp_stat empty;
		if (st == NULL)
			st = &empty;
		switch (n->op) {
		case 0: return set_num(out, st->count);
		case 1: return set_num(out, st->sum);
		case 2: case 3: case 4:
			if (st->count == 0)
				return stp_rt_error(rt, n, "empty aggregate: @%s of %s", n->str, n->a->str);
			return set_num(out, n->op == 2 ? st->min : n->op == 3 ? st->max : st->sum / st->count);
		default: {
			char *buf = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&buf, &len);
			if (f == NULL)
				return stp_rt_error(rt, n, "out of memory");
			stp_stat_print_hist_log(f, st);
			if (fclose(f) != 0) {
				free(buf);
				return stp_rt_error(rt, n, "out of memory");
			}
			out->t = TY_STR;
			out->s = buf;
			return 0;
		}
		}
	}
	default:
		return stp_rt_error(rt, n, "internal: cannot evaluate node kind %d", n->kind);
	}
}

/* ----------------------------------------------------------- statements */

static int cmp_vals(const struct stp_val *a, const struct stp_val *b)
{
	if (a->t == TY_STR || b->t == TY_STR)
		return strcmp(a->s ? a->s : "", b->s ? b->s : "");
	return a->n < b->n ? -1 : a->n > b->n;
}

struct sortctx { int col, dir; };
static struct sortctx g_sort;   /* qsort has no context argument in C11 */

static int ent_cmp(const void *pa, const void *pb)
{
	const struct stp_mapent *a = *(struct stp_mapent *const *)pa;
	const struct stp_mapent *b = *(struct stp_mapent *const *)pb;
	int c;
	if (g_sort.col < 0) {
		if (a->stat || b->stat) {
			int64_t x = a->stat ? a->stat->count : 0, y = b->stat ? b->stat->count : 0;
			c = x < y ? -1 : x > y;
		} else {
			c = cmp_vals(&a->val, &b->val);
		}
	} else {
		c = cmp_vals(&a->keys[g_sort.col - 1], &b->keys[g_sort.col - 1]);
	}
	if (c == 0) {
		/* stable: earlier insertion first (pointer order is not meaningful) */
		return 0;
	}
	return c * g_sort.dir;
}

static int exec_foreach(struct stp_rt *rt, struct stp_node *n, struct stp_val *ret)
{
	struct stp_map *m = rt->gmaps[n->sym];
	struct stp_mapent **ents;
	size_t cnt = stp_map_entries(m, &ents);
	if (cnt == 0)
		return R_OK;
	/* copy the keys: the body may delete entries */
	int nk = stp_map_nkeys(m);
	if (n->sort_col != 0) {
		g_sort.col = n->sort_col;
		g_sort.dir = n->sort_dir;
		/* insertion order as tie-break: mergesort-like stability via index */
		qsort(ents, cnt, sizeof *ents, ent_cmp);
	}
	int64_t limit = -1;
	if (n->limit) {
		struct stp_val lv;
		if (stp_eval(rt, n->limit, &lv) < 0) {
			free(ents);
			return R_ERR;
		}
		limit = lv.n;
		stp_val_free(&lv);
	}
	struct stp_val *keys = calloc(cnt * (size_t)nk, sizeof *keys);
	if (keys == NULL) {
		free(ents);
		return stp_rt_error(rt, n, "out of memory");
	}
	for (size_t i = 0; i < cnt; i++)
		for (int k = 0; k < nk; k++)
			copy_val(rt, &keys[i * (size_t)nk + (size_t)k], &ents[i]->keys[k]);
	free(ents);
	int rc = R_OK;
	for (size_t i = 0; i < cnt && (limit < 0 || (int64_t)i < limit); i++) {
		struct stp_val *kv = &keys[i * (size_t)nk];
		if (rt->sc->globals[n->sym]->type != TY_STAT && stp_map_val(m, kv, false) == NULL)
			continue; /* deleted by the body */
		for (int k = 0; k < n->nkeys && k < nk; k++) {
			struct stp_val *slot = &rt->locals[n->args[k]->sym];
			stp_val_free(slot);
			copy_val(rt, slot, &kv[k]);
		}
		if (n->valvar) {
			struct stp_val *slot = &rt->locals[n->valvar->sym];
			struct stp_val *v = stp_map_val(m, kv, false);
			stp_val_free(slot);
			if (v)
				copy_val(rt, slot, v);
			else
				init_val(slot, rt->sc->globals[n->sym]->type);
		}
		rc = exec(rt, n->a, ret);
		if (rc == R_BREAK) {
			rc = R_OK;
			break;
		}
		if (rc == R_CONT)
			rc = R_OK;
		if (rc != R_OK)
			break;
	}
	for (size_t i = 0; i < cnt * (size_t)nk; i++)
		stp_val_free(&keys[i]);
	free(keys);
	return rc;
}

static int exec(struct stp_rt *rt, struct stp_node *n, struct stp_val *ret)
{
	if (n == NULL)
		return R_OK;
	if (++rt->steps > MAX_STEPS)
		return stp_rt_error(rt, n, "too many statements in one probe hit (%llu): an endless loop?",
				    (unsigned long long)MAX_STEPS);
	struct stp_val v;
	int rc;
	switch (n->kind) {
	case S_BLOCK:
		for (struct stp_node *s = n->a; s; s = s->next_sib)
			if ((rc = exec(rt, s, ret)) != R_OK)
				return rc;
		return R_OK;
	case S_EXPR:
		if (stp_eval(rt, n->a, &v) < 0)
			return R_ERR;
		stp_val_free(&v);
		return R_OK;
	case S_IF:
		if (stp_eval(rt, n->a, &v) < 0)
			return R_ERR;
		rc = truthy(&v);
		stp_val_free(&v);
		return exec(rt, rc ? n->b : n->c, ret);
	case S_WHILE:
	case S_FOR:
		if (n->kind == S_FOR && n->a) {
			if (stp_eval(rt, n->a, &v) < 0)
				return R_ERR;
			stp_val_free(&v);
		}
		for (;;) {
			struct stp_node *cond = n->kind == S_WHILE ? n->a : n->b;
			if (cond) {
				if (stp_eval(rt, cond, &v) < 0)
					return R_ERR;
				bool t = truthy(&v);
				stp_val_free(&v);
				if (!t)
					break;
			}
			if (++rt->steps > MAX_STEPS)
				return stp_rt_error(rt, n, "too many loop iterations in one probe hit: an endless loop?");
			rc = exec(rt, n->kind == S_WHILE ? n->b : n->d, ret);
			if (rc == R_BREAK)
				break;
			if (rc != R_OK && rc != R_CONT)
				return rc;
			if (n->kind == S_FOR && n->c) {
				if (stp_eval(rt, n->c, &v) < 0)
					return R_ERR;
				stp_val_free(&v);
			}
		}
		return R_OK;
	case S_FOREACH:
		return exec_foreach(rt, n, ret);
	case S_DELETE: {
		struct stp_node *t = n->a;
		if (t->kind == N_INDEX) {
			struct stp_val keys[9];
			if (eval_keys(rt, t->args, t->nargs, keys) < 0)
				return R_ERR;
			stp_map_delete(rt->gmaps[t->sym], keys);
			free_keys(keys, t->nargs);
			return R_OK;
		}
		if (t->global && rt->gmaps[t->sym]) {
			stp_map_clear(rt->gmaps[t->sym]);
		} else if (t->global && rt->gstats[t->sym]) {
			memset(rt->gstats[t->sym], 0, sizeof *rt->gstats[t->sym]);
		} else {
			struct stp_val *slot = t->global ? &rt->gvals[t->sym] : &rt->locals[t->sym];
			enum stp_type ty = slot->t;
			stp_val_free(slot);
			init_val(slot, ty);
		}
		return R_OK;
	}
	case S_NEXT:
		return R_NEXT;
	case S_BREAK:
		return R_BREAK;
	case S_CONTINUE:
		return R_CONT;
	case S_RETURN:
		if (n->a) {
			if (stp_eval(rt, n->a, &v) < 0)
				return R_ERR;
			stp_val_free(ret);
			*ret = v;
		}
		return R_RETURN;
	case S_NOP:
		return R_OK;
	default:
		return stp_rt_error(rt, n, "internal: not a statement (%d)", n->kind);
	}
}

int stp_run_probe(struct stp_rt *rt, struct stp_probe *p, struct stp_target *t)
{
	struct stp_val *locals = calloc((size_t)p->nlocals + 1, sizeof *locals);
	if (locals == NULL) {
		rt->errors++;
		return -1;
	}
	for (int i = 0; i < p->nlocals; i++)
		init_val(&locals[i], p->localtypes[i]);
	rt->probe = p;
	rt->tgt = t;
	rt->locals = locals;
	rt->steps = 0;
	rt->depth = 0;
	struct stp_val ret = { TY_NUM, 0, NULL };
	int rc = exec(rt, p->body, &ret);
	stp_val_free(&ret);
	for (int i = 0; i < p->nlocals; i++)
		stp_val_free(&locals[i]);
	free(locals);
	rt->locals = NULL;
	rt->tgt = NULL;
	fflush(rt->out);
	if (rc == R_ERR) {
		rt->errors++;
		return -1;
	}
	return 0;
}
