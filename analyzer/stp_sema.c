/* stp_sema.c — semantic pass: resolves every name (implicit locals,
 * globals, arrays, user functions, builtins), infers the type of every
 * variable, array and function (number, string, aggregate) as SystemTap
 * does, rejects type mismatches, and compiles probe points and target
 * variables ($var, @cast, @var, $$vars) against the binary's DWARF.
 * Every error is positioned (FILE:LINE:COL + caret) and stops the run
 * before anything touches the target.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stp_int.h"

struct body {
	struct stp_script *sc;
	struct stp_dwarf *dw;
	struct stp_probe *probe;    /* NULL in a function */
	struct stp_func *func;
	int *nlocals;
	char ***names;
	enum stp_type **types;
	char *err;
	size_t errlen;
	bool changed;
	bool check;                 /* final pass: report mismatches */
	int loopdepth;
};

static int serr(struct body *b, const struct stp_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int serr(struct body *b, const struct stp_node *n, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	stp_format_error(b->err, b->errlen, b->sc->name, b->sc->src, n ? n->line : 1, n ? n->col : 1, msg);
	return -1;
}

static const char *tyname(enum stp_type t)
{
	return t == TY_NUM ? "number" : t == TY_STR ? "string" : t == TY_STAT ? "aggregate" : "unknown";
}

static int find_global(struct stp_script *sc, const char *name)
{
	for (int i = 0; i < sc->nglobals; i++)
		if (strcmp(sc->globals[i]->name, name) == 0)
			return i;
	return -1;
}

static int find_func(struct stp_script *sc, const char *name)
{
	for (int i = 0; i < sc->nfuncs; i++)
		if (strcmp(sc->funcs[i]->name, name) == 0)
			return i;
	return -1;
}

static int find_local(struct body *b, const char *name)
{
	for (int i = 0; i < *b->nlocals; i++)
		if (strcmp((*b->names)[i], name) == 0)
			return i;
	return -1;
}

static int add_local(struct body *b, const char *name)
{
	char **nv = realloc(*b->names, (size_t)(*b->nlocals + 1) * sizeof *nv);
	if (nv == NULL)
		return -1;
	*b->names = nv;
	enum stp_type *tv = realloc(*b->types, (size_t)(*b->nlocals + 1) * sizeof *tv);
	if (tv == NULL)
		return -1;
	*b->types = tv;
	if ((nv[*b->nlocals] = strdup(name)) == NULL)
		return -1;
	tv[*b->nlocals] = TY_UNK;
	return (*b->nlocals)++;
}

/* The type slot of a variable node (resolved). */
static enum stp_type *var_slot(struct body *b, struct stp_node *n)
{
	if (n->global)
		return &b->sc->globals[n->sym]->type;
	return &(*b->types)[n->sym];
}

/* Record that n (a variable/array element/function result) has type t. */
static int unify(struct body *b, enum stp_type *slot, enum stp_type t, struct stp_node *at, const char *what)
{
	if (t == TY_UNK)
		return 0;
	if (*slot == TY_UNK) {
		*slot = t;
		b->changed = true;
		return 0;
	}
	if (*slot != t)
		return serr(b, at, "type mismatch: %s is a %s, used as a %s", what, tyname(*slot), tyname(t));
	return 0;
}

static int resolve_var(struct body *b, struct stp_node *n, bool want_array)
{
	int g = find_global(b->sc, n->str);
	int l = find_local(b, n->str);
	if (want_array) {
		if (g < 0)
			return serr(b, n, "'%s' is used as an array but not declared 'global'", n->str);
		if (l >= 0)
			return serr(b, n, "'%s' is a local variable, used as an array", n->str);
		n->global = true;
		n->sym = g;
		struct stp_global *gl = b->sc->globals[g];
		if (!gl->is_array) {
			gl->is_array = true;
			b->changed = true;
		}
		return 0;
	}
	if (l >= 0) {
		n->global = false;
		n->sym = l;
		return 0;
	}
	if (g >= 0) {
		n->global = true;
		n->sym = g;
		return 0;
	}
	int k = add_local(b, n->str);
	if (k < 0)
		return serr(b, n, "out of memory");
	n->global = false;
	n->sym = k;
	b->changed = true;
	return 0;
}

static int walk(struct body *b, struct stp_node *n);

/* Arity and key types of an array use (N_INDEX with args, N_IN, foreach). */
static int check_keys(struct body *b, struct stp_node *n, struct stp_global *g, int nkeys,
		      struct stp_node **keys)
{
	if (g->arity == 0) {
		g->arity = nkeys;
		b->changed = true;
	} else if (g->arity != nkeys) {
		return serr(b, n, "array '%s' is used with %d index%s here and %d elsewhere", g->name, nkeys,
			    nkeys == 1 ? "" : "es", g->arity);
	}
	for (int i = 0; keys && i < nkeys; i++)
		if (unify(b, &g->keytypes[i], keys[i]->type, keys[i], "this array index") < 0)
			return -1;
	return 0;
}

static bool is_target_builtin(int bi)
{
	return bi >= 0 && stp_builtins[bi].needs_target;
}

static int walk_tvar(struct body *b, struct stp_node *n)
{
	if (n->kind == N_TVAR && n->str[0] == '$') {
		/* $$vars, $$parms, $$locals */
		if (b->probe == NULL)
			return serr(b, n, "$%s is only available in a probe of the program", n->str);
		if (b->probe->kind != P_FUNCTION && b->probe->kind != P_STATEMENT)
			return serr(b, n, "$%s is only available in process(...).function/statement probes", n->str);
		if (n->tv != NULL)
			return 0;
		char **names = NULL;
		char msg[300];
		int cnt = stp_dwarf_varlist(b->dw, b->probe, n->str + 1, &names, msg, sizeof msg);
		if (cnt < 0)
			return serr(b, n, "%s", msg);
		for (int i = 0; i < cnt; i++) {
			struct stp_node *v = stp_node_new(b->sc);
			struct stp_node **args = realloc(n->args, (size_t)(n->nargs + 1) * sizeof *args);
			if (v == NULL || args == NULL)
				return serr(b, n, "out of memory");
			n->args = args;
			args[n->nargs++] = v;
			v->kind = N_TVAR;
			v->line = n->line;
			v->col = n->col;
			v->str = names[i];
			names[i] = NULL;
			v->op = 1; /* a struct prints as {...} */
			if (stp_dwarf_tvar(b->dw, b->probe, v, NULL, 0, msg, sizeof msg) < 0) {
				/* not available at this pc: printed as "?" */
				v->tv = NULL;
				v->op = 1;
			}
		}
		free(names);
		n->tv = calloc(1, 1); /* marks "compiled" */
		n->type = TY_STR;
		return 0;
	}
	/* index expressions in the chain */
	for (int i = 0; i < n->nargs; i++)
		if (n->args[i]->kind == N_INDEX) {
			if (walk(b, n->args[i]->a) < 0)
				return -1;
			if (b->check && n->args[i]->a->type == TY_STR)
				return serr(b, n->args[i]->a, "an array index of a target variable must be a number");
		}
	if (n->kind == N_CAST && walk(b, n->a) < 0)
		return -1;
	if (n->kind == N_TVAR) {
		if (b->probe == NULL)
			return serr(b, n, "target variable $%s is only available in a probe, not in function %s",
				    n->str, b->func ? b->func->name : "?");
		if (b->probe->kind != P_FUNCTION && b->probe->kind != P_STATEMENT)
			return serr(b, n, "target variable $%s is not available in a %s probe", n->str,
				    b->probe->kind == P_BEGIN ? "begin" : b->probe->kind == P_END ? "end" : "timer");
	}
	if (n->tv == NULL) {
		if (b->dw == NULL)
			return serr(b, n, "target variables need a program: give one with -- PROG or a process(\"PATH\") probe");
		struct stp_tvar_step steps[32];
		int ns = 0;
		for (int i = 0; i < n->nargs; i++) {
			if (ns == 32)
				return serr(b, n, "target variable access too long");
			steps[ns].kind = n->args[i]->kind == N_STR ? ST_MEMBER : ST_INDEX;
			steps[ns].name = n->args[i]->str;
			steps[ns].index = n->args[i]->kind == N_INDEX ? n->args[i]->a : NULL;
			ns++;
		}
		char msg[400];
		if (stp_dwarf_tvar(b->dw, b->probe, n, steps, ns, msg, sizeof msg) < 0)
			return serr(b, n, "%s", msg);
		b->changed = true;
	}
	return 0;
}

static int walk_list(struct body *b, struct stp_node *n)
{
	for (; n; n = n->next_sib)
		if (walk(b, n) < 0)
			return -1;
	return 0;
}

static bool is_lvalue_num_op(int op)
{
	return op != '=' && op != OP_CATEQ;
}

static int walk(struct body *b, struct stp_node *n)
{
	if (n == NULL)
		return 0;
	switch (n->kind) {
	case N_NUM:
	case N_STR:
		return 0;
	case N_VAR: {
		if (resolve_var(b, n, false) < 0)
			return -1;
		if (n->global && b->sc->globals[n->sym]->is_array)
			return serr(b, n, "array '%s' used without an index", n->str);
		n->type = *var_slot(b, n);
		if (b->check && n->type == TY_STAT)
			return serr(b, n, "aggregate '%s' can only be read with @count, @sum, @min, @max, @avg, @hist_log",
				    n->str);
		return 0;
	}
	case N_INDEX: {
		if (resolve_var(b, n, true) < 0)
			return -1;
		for (int i = 0; i < n->nargs; i++)
			if (walk(b, n->args[i]) < 0)
				return -1;
		struct stp_global *g = b->sc->globals[n->sym];
		if (check_keys(b, n, g, n->nargs, n->args) < 0)
			return -1;
		n->type = g->type;
		if (b->check && n->type == TY_STAT)
			return serr(b, n, "aggregate element %s[...] can only be read with @count, @sum, @min, @max, @avg, @hist_log",
				    n->str);
		return 0;
	}
	case N_IN: {
		for (int i = 0; i < n->nargs; i++)
			if (walk(b, n->args[i]) < 0)
				return -1;
		struct stp_node tmp = *n;
		if (resolve_var(b, &tmp, true) < 0)
			return -1;
		n->sym = tmp.sym;
		n->global = true;
		n->type = TY_NUM;
		return check_keys(b, n, b->sc->globals[n->sym], n->nargs, n->args);
	}
	case N_TVAR:
	case N_CAST:
	case N_ATVAR:
		if (walk_tvar(b, n) < 0)
			return -1;
		if (n->kind == N_ATVAR || n->kind == N_CAST || n->str[0] != '$') {
			/* type set by stp_dwarf_tvar (number or Go string) */
		}
		return 0;
	case N_CALL: {
		for (int i = 0; i < n->nargs; i++)
			if (walk(b, n->args[i]) < 0)
				return -1;
		int f = find_func(b->sc, n->str);
		if (f >= 0) {
			struct stp_func *fn = b->sc->funcs[f];
			n->sym = f;
			n->global = true;  /* user function */
			if (n->nargs != fn->nparams)
				return serr(b, n, "function %s takes %d argument%s, given %d", fn->name, fn->nparams,
					    fn->nparams == 1 ? "" : "s", n->nargs);
			for (int i = 0; i < n->nargs; i++)
				if (unify(b, &fn->localtypes[i], n->args[i]->type, n->args[i], "this argument") < 0)
					return -1;
			n->type = fn->rettype;
			return 0;
		}
		int bi = stp_builtin_find(n->str);
		if (bi < 0)
			return serr(b, n, "unknown function '%s'", n->str);
		n->sym = bi;
		n->global = false;
		const struct stp_builtin *bt = &stp_builtins[bi];
		if (n->nargs < bt->minargs || n->nargs > bt->maxargs) {
			if (bt->minargs == bt->maxargs)
				return serr(b, n, "%s takes %d argument%s, given %d", bt->name, bt->minargs,
					    bt->minargs == 1 ? "" : "s", n->nargs);
			return serr(b, n, "%s takes %d to %d arguments, given %d", bt->name, bt->minargs,
				    bt->maxargs, n->nargs);
		}
		if (is_target_builtin(bi)) {
			if (b->probe && (b->probe->kind == P_BEGIN || b->probe->kind == P_END ||
					 b->probe->kind == P_TIMER))
				return serr(b, n, "%s() reads the program and is not available in a %s probe", bt->name,
					    b->probe->kind == P_BEGIN ? "begin" : b->probe->kind == P_END ? "end" : "timer");
		}
		n->type = bt->ret;
		if (b->check) {
			/* printf-family: the format must be a string */
			if ((strcmp(bt->name, "printf") == 0 || strcmp(bt->name, "sprintf") == 0) &&
			    n->args[0]->type == TY_NUM)
				return serr(b, n->args[0], "the format of %s must be a string", bt->name);
			if ((strcmp(bt->name, "printf") == 0 || strcmp(bt->name, "sprintf") == 0) &&
			    n->args[0]->kind == N_STR) {
				enum stp_type tys[32];
				char msg[200];
				for (int i = 1; i < n->nargs; i++)
					tys[i - 1] = n->args[i]->type;
				if (stp_check_format(n->args[0]->str, tys, n->nargs - 1, msg, sizeof msg) < 0)
					return serr(b, n->args[0], "%s", msg);
			}
			if (strncmp(bt->name, "user_", 5) == 0 || strcmp(bt->name, "u_register") == 0) {
				enum stp_type want = strcmp(bt->name, "u_register") == 0 ? TY_STR : TY_NUM;
				if (n->args[0]->type != TY_UNK && n->args[0]->type != want)
					return serr(b, n->args[0], "%s expects a %s argument", bt->name, tyname(want));
			}
		}
		return 0;
	}
	case N_BINOP: {
		if (walk(b, n->a) < 0 || walk(b, n->b) < 0)
			return -1;
		if (n->op == '.') {
			n->type = TY_STR;
			if (b->check && (n->a->type == TY_NUM || n->b->type == TY_NUM))
				return serr(b, n, "type mismatch: '.' joins strings, found a number (use sprint)");
			return 0;
		}
		bool cmp = n->op == '<' || n->op == '>' || n->op == OP_LE || n->op == OP_GE || n->op == OP_EQ ||
			   n->op == OP_NE;
		n->type = TY_NUM;
		if (cmp) {
			/* a comparison with one side a string makes the other a string */
			if (n->a->type != TY_UNK && n->b->type == TY_UNK && n->b->kind == N_VAR)
				unify(b, var_slot(b, n->b), n->a->type, n->b, n->b->str);
			if (n->b->type != TY_UNK && n->a->type == TY_UNK && n->a->kind == N_VAR)
				unify(b, var_slot(b, n->a), n->b->type, n->a, n->a->str);
			if (b->check && n->a->type != n->b->type && n->a->type != TY_UNK && n->b->type != TY_UNK)
				return serr(b, n, "type mismatch: comparing a %s with a %s", tyname(n->a->type),
					    tyname(n->b->type));
			return 0;
		}
		if (b->check && (n->a->type == TY_STR || n->b->type == TY_STR))
			return serr(b, n, "type mismatch: arithmetic on a string");
		return 0;
	}
	case N_UNOP:
		if (walk(b, n->a) < 0)
			return -1;
		n->type = TY_NUM;
		if (b->check && n->a->type == TY_STR)
			return serr(b, n, "type mismatch: arithmetic on a string");
		return 0;
	case N_LOGIC:
		if (walk(b, n->a) < 0 || walk(b, n->b) < 0)
			return -1;
		n->type = TY_NUM;
		if (b->check && (n->a->type == TY_STR || n->b->type == TY_STR))
			return serr(b, n, "type mismatch: a string used as a condition");
		return 0;
	case N_TERNARY:
		if (walk(b, n->a) < 0 || walk(b, n->b) < 0 || walk(b, n->c) < 0)
			return -1;
		n->type = n->b->type != TY_UNK ? n->b->type : n->c->type;
		if (b->check && n->b->type != n->c->type)
			return serr(b, n, "type mismatch: the branches of ?: are a %s and a %s", tyname(n->b->type),
				    tyname(n->c->type));
		return 0;
	case N_INCDEC:
		if (walk(b, n->a) < 0)
			return -1;
		if (n->a->kind != N_VAR && n->a->kind != N_INDEX)
			return serr(b, n, "++/-- need a variable or an array element");
		if (unify(b, n->a->kind == N_VAR ? var_slot(b, n->a) : &b->sc->globals[n->a->sym]->type, TY_NUM,
			  n->a, n->a->str) < 0)
			return -1;
		n->type = TY_NUM;
		return 0;
	case N_ASSIGN:
	case N_AGGADD: {
		if (walk(b, n->b) < 0)
			return -1;
		/* the target: resolve, then type it from the value */
		struct stp_node *l = n->a;
		if (l->kind == N_VAR) {
			if (resolve_var(b, l, false) < 0)
				return -1;
			if (l->global && b->sc->globals[l->sym]->is_array)
				return serr(b, l, "array '%s' used without an index", l->str);
		} else {
			if (resolve_var(b, l, true) < 0)
				return -1;
			for (int i = 0; i < l->nargs; i++)
				if (walk(b, l->args[i]) < 0)
					return -1;
			if (check_keys(b, l, b->sc->globals[l->sym], l->nargs, l->args) < 0)
				return -1;
		}
		enum stp_type *slot = l->kind == N_VAR ? var_slot(b, l) : &b->sc->globals[l->sym]->type;
		if (n->kind == N_AGGADD) {
			if (l->kind == N_VAR && !l->global)
				return serr(b, l, "aggregate '%s' must be a global", l->str);
			if (unify(b, slot, TY_STAT, l, l->str) < 0)
				return -1;
			if (b->check && n->b->type == TY_STR)
				return serr(b, n->b, "'<<<' takes a number");
			n->type = TY_NUM;
			l->type = TY_STAT;
			return 0;
		}
		enum stp_type vt = n->op == OP_CATEQ ? TY_STR : is_lvalue_num_op(n->op) ? TY_NUM : n->b->type;
		if (unify(b, slot, vt, l, l->str) < 0)
			return -1;
		if (*slot == TY_STAT)
			return serr(b, l, "cannot assign to aggregate '%s' (use <<<)", l->str);
		l->type = *slot;
		n->type = *slot;
		if (b->check && n->b->type != TY_UNK && l->type != TY_UNK) {
			enum stp_type want = n->op == '=' ? l->type : n->op == OP_CATEQ ? TY_STR : TY_NUM;
			if (n->b->type != want)
				return serr(b, n, "type mismatch: assigning a %s to %s (a %s)", tyname(n->b->type),
					    l->str, tyname(l->type));
		}
		return 0;
	}
	case N_STATOP: {
		struct stp_node *v = n->a;
		if (resolve_var(b, v, v->kind == N_INDEX) < 0)
			return -1;
		if (v->kind == N_VAR && !v->global)
			return serr(b, v, "@%s needs a global aggregate, '%s' is a local", n->str, v->str);
		for (int i = 0; i < v->nargs; i++)
			if (walk(b, v->args[i]) < 0)
				return -1;
		struct stp_global *g = b->sc->globals[v->sym];
		if (v->kind == N_INDEX && check_keys(b, v, g, v->nargs, v->args) < 0)
			return -1;
		if (v->kind == N_VAR && g->is_array)
			return serr(b, v, "@%s of array '%s' needs an index", n->str, v->str);
		if (b->check && g->type != TY_STAT)
			return serr(b, v, "'%s' is not an aggregate (no '<<<' fills it)", v->str);
		n->type = n->op == 5 ? TY_STR : TY_NUM;  /* @hist_log prints when used as a statement */
		return 0;
	}
	case S_BLOCK:
		return walk_list(b, n->a);
	case S_EXPR:
		return walk(b, n->a);
	case S_IF:
		if (walk(b, n->a) < 0 || walk(b, n->b) < 0 || walk(b, n->c) < 0)
			return -1;
		if (b->check && n->a->type == TY_STR)
			return serr(b, n->a, "type mismatch: a string used as a condition");
		return 0;
	case S_WHILE:
		if (walk(b, n->a) < 0)
			return -1;
		b->loopdepth++;
		if (walk(b, n->b) < 0)
			return -1;
		b->loopdepth--;
		if (b->check && n->a->type == TY_STR)
			return serr(b, n->a, "type mismatch: a string used as a condition");
		return 0;
	case S_FOR:
		if (walk(b, n->a) < 0 || walk(b, n->b) < 0 || walk(b, n->c) < 0)
			return -1;
		b->loopdepth++;
		if (walk(b, n->d) < 0)
			return -1;
		b->loopdepth--;
		return 0;
	case S_FOREACH: {
		struct stp_node tmp = *n;
		tmp.args = NULL;
		if (resolve_var(b, &tmp, true) < 0)
			return -1;
		n->sym = tmp.sym;
		n->global = true;
		struct stp_global *g = b->sc->globals[n->sym];
		if (check_keys(b, n, g, n->nkeys, NULL) < 0)
			return -1;
		for (int i = 0; i < n->nkeys; i++) {
			struct stp_node *k = n->args[i];
			if (resolve_var(b, k, false) < 0)
				return -1;
			if (k->global)
				return serr(b, k, "foreach loop variable '%s' must be a local, it is a global", k->str);
			if (unify(b, var_slot(b, k), g->keytypes[i], k, k->str) < 0)
				return -1;
			if (g->keytypes[i] == TY_UNK && (*b->types)[k->sym] != TY_UNK)
				unify(b, &g->keytypes[i], (*b->types)[k->sym], k, "this array index");
			k->type = (*b->types)[k->sym];
		}
		if (n->valvar) {
			if (resolve_var(b, n->valvar, false) < 0)
				return -1;
			if (g->type == TY_STAT)
				return serr(b, n->valvar, "foreach (v = ...) needs a value array, '%s' holds aggregates", g->name);
			if (unify(b, var_slot(b, n->valvar), g->type, n->valvar, n->valvar->str) < 0)
				return -1;
		}
		if (n->limit && walk(b, n->limit) < 0)
			return -1;
		b->loopdepth++;
		if (walk(b, n->a) < 0)
			return -1;
		b->loopdepth--;
		return 0;
	}
	case S_DELETE: {
		struct stp_node *v = n->a;
		if (v->kind == N_INDEX) {
			if (resolve_var(b, v, true) < 0)
				return -1;
			for (int i = 0; i < v->nargs; i++)
				if (walk(b, v->args[i]) < 0)
					return -1;
			return check_keys(b, v, b->sc->globals[v->sym], v->nargs, v->args);
		}
		return resolve_var(b, v, false);
	}
	case S_BREAK:
	case S_CONTINUE:
		if (b->loopdepth == 0)
			return serr(b, n, "'%s' outside a loop", n->kind == S_BREAK ? "break" : "continue");
		return 0;
	case S_NEXT:
		if (b->probe == NULL)
			return serr(b, n, "'next' is only allowed in a probe");
		return 0;
	case S_RETURN:
		if (b->func == NULL)
			return serr(b, n, "'return' is only allowed in a function (use 'next' in a probe)");
		if (n->a) {
			if (walk(b, n->a) < 0)
				return -1;
			if (unify(b, &b->func->rettype, n->a->type, n->a, "the function's result") < 0)
				return -1;
		}
		return 0;
	case S_NOP:
	case N_ARRAYREF:
		return 0;
	}
	return 0;
}

static int run_all(struct stp_script *s, struct stp_dwarf *dw, bool check, bool *changed,
		   char *err, size_t errlen)
{
	for (int i = 0; i < s->nfuncs + s->nprobes; i++) {
		struct body b = { .sc = s, .dw = dw, .err = err, .errlen = errlen, .check = check };
		struct stp_node *body;
		if (i < s->nfuncs) {
			struct stp_func *f = s->funcs[i];
			b.func = f;
			b.nlocals = &f->nlocals;
			b.names = &f->localnames;
			b.types = &f->localtypes;
			body = f->body;
		} else {
			struct stp_probe *p = s->probes[i - s->nfuncs];
			b.probe = p;
			b.nlocals = &p->nlocals;
			b.names = &p->localnames;
			b.types = &p->localtypes;
			body = p->body;
		}
		if (walk(&b, body) < 0)
			return -1;
		*changed |= b.changed;
	}
	return 0;
}

/* Anything still unknown is a number, as in stap. */
static void default_types(struct stp_script *s)
{
	for (int i = 0; i < s->nglobals; i++) {
		if (s->globals[i]->type == TY_UNK)
			s->globals[i]->type = TY_NUM;
		for (int k = 0; k < 9; k++)
			if (s->globals[i]->keytypes[k] == TY_UNK)
				s->globals[i]->keytypes[k] = TY_NUM;
	}
	for (int i = 0; i < s->nfuncs; i++) {
		struct stp_func *f = s->funcs[i];
		if (f->rettype == TY_UNK)
			f->rettype = TY_NUM;
		for (int k = 0; k < f->nlocals; k++)
			if (f->localtypes[k] == TY_UNK)
				f->localtypes[k] = TY_NUM;
	}
	for (int i = 0; i < s->nprobes; i++)
		for (int k = 0; k < s->probes[i]->nlocals; k++)
			if (s->probes[i]->localtypes[k] == TY_UNK)
				s->probes[i]->localtypes[k] = TY_NUM;
}

int stp_sema(struct stp_script *s, struct stp_dwarf *dw, char *err, size_t errlen)
{
	/* globals' initializers give their types */
	for (int i = 0; i < s->nglobals; i++)
		if (s->globals[i]->init)
			s->globals[i]->type = s->globals[i]->init->type;
	/* function("pkg.*"): one probe per matching function, each with its
	 * own copy of the body (target variables compile per address) */
	for (int i = 0; dw && i < s->nprobes; i++) {
		struct stp_probe *p = s->probes[i];
		if (p->kind != P_FUNCTION || strpbrk(p->spec, "*?[") == NULL)
			continue;
		char **names = NULL;
		int n = stp_dwarf_match(dw, p->spec, &names);
		if (n <= 0) {
			char msg[400];
			snprintf(msg, sizeof msg, n < 0 ? "out of memory" : "no function matches \"%s\"", p->spec);
			stp_format_error(err, errlen, s->name, s->src, p->line, p->col, msg);
			return -1;
		}
		struct stp_probe **v = realloc(s->probes, (size_t)(s->nprobes + n - 1) * sizeof *v);
		if (v == NULL)
			return -1;
		s->probes = v;
		memmove(&v[i + n], &v[i + 1], (size_t)(s->nprobes - i - 1) * sizeof *v);
		free(p->spec);
		p->spec = names[0];
		for (int k = 1; k < n; k++) {
			struct stp_probe *c = calloc(1, sizeof *c);
			if (c == NULL)
				return -1;
			*c = *p;
			c->spec = names[k];
			c->text = strdup(p->text);
			c->path = p->path ? strdup(p->path) : NULL;
			c->body = stp_node_clone(s, p->body);
			c->localnames = NULL;
			c->localtypes = NULL;
			c->nlocals = 0;
			c->func = NULL;
			c->fdie = NULL;
			v[i + k] = c;
		}
		free(names);
		s->nprobes += n - 1;
		/* pp() names the function each one probes */
		for (int k = 0; k < n; k++) {
			struct stp_probe *c = v[i + k];
			char *t = NULL;
			if (asprintf(&t, "process%s%s%s.function(\"%s\")", c->path ? "(\"" : "", c->path ? c->path : "",
				     c->path ? "\")" : "", c->spec) >= 0) {
				free(c->text);
				c->text = t;
			}
		}
		i += n - 1;
	}
	for (int i = 0; i < s->nprobes; i++)
		s->probes[i]->index = i;
	/* probe addresses first: target variables are compiled at them */
	for (int i = 0; i < s->nprobes; i++) {
		struct stp_probe *p = s->probes[i];
		if (p->kind != P_FUNCTION && p->kind != P_STATEMENT)
			continue;
		char msg[400];
		if (dw == NULL) {
			snprintf(msg, sizeof msg, "no program to probe: give one with -- PROG, --pid or --remote");
		} else if (stp_dwarf_probe(dw, p, msg, sizeof msg) == 0) {
			continue;
		}
		stp_format_error(err, errlen, s->name, s->src, p->line, p->col, msg);
		return -1;
	}
	/* infer to a fixed point, default what is left to numbers (as stap
	 * does), settle again, then one pass that reports mismatches */
	for (int round = 0; round < 3; round++) {
		for (int pass = 0; pass < 30; pass++) {
			bool changed = false;
			if (run_all(s, dw, round == 2, &changed, err, errlen) < 0)
				return -1;
			if (!changed || round == 2)
				break;
		}
		if (round < 2)
			default_types(s);
	}
	return 0;
}
