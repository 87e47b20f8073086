/* stp_int.h — private interfaces of gotap's SystemTap-subset script language
 * (`gotap --script FILE`, `-e 'SCRIPT'`).  Not for callers outside stp_*.c:
 * they use stp_run.h.
 *
 * Pipeline: stp_lex.c (tokens) -> stp_parse.c (AST) -> stp_sema.c (resolve
 * names, infer number/string/array/aggregate, compile target variables
 * through stp_dwarf.c) -> stp_eval.c (tree-walking interpreter) with
 * stp_builtins.c (printf & co, aggregates, backtraces).  stp_run.c drives a
 * whole session over RSP.
 *
 * Semantics follow SystemTap's: 64-bit integers that wrap, strings with
 * '.' concatenation, implicit locals, global associative arrays and
 * statistics aggregates, exit() ends the session after the current probe.
 */
#ifndef GOTAP_STP_INT_H
#define GOTAP_STP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct gort_bin;
struct gort_layout;

/* ------------------------------------------------------------- lexer */

enum stp_tok {
	T_EOF, T_NUM, T_STR, T_IDENT, T_TVAR /* $name, $$vars */, T_AT /* @name */,
	T_OP /* punctuation, text in .text */
};

struct stp_token {
	enum stp_tok kind;
	int line, col;
	int64_t num;
	char text[256];     /* identifier/operator text; decoded string literal */
	size_t len;         /* length of a string literal (may hold no NULs) */
};

struct stp_lexer {
	const char *src, *name;  /* whole script, its name for messages */
	size_t pos, len;
	int line, col;
};

void stp_lex_init(struct stp_lexer *lx, const char *name, const char *src);
/* Next token into *t.  Returns 0, or -1 with a message in err. */
int stp_lex_next(struct stp_lexer *lx, struct stp_token *t, char *err, size_t errlen);

/* Format "FILE:LINE:COL: MSG\n<source line>\n<caret>" into dst. */
void stp_format_error(char *dst, size_t cap, const char *name, const char *src,
		      int line, int col, const char *msg);

/* --------------------------------------------------------------- AST */

enum stp_nk {
	/* expressions */
	N_NUM, N_STR, N_VAR, N_INDEX, N_TVAR, N_CALL, N_BINOP, N_UNOP, N_LOGIC,
	N_ASSIGN, N_INCDEC, N_TERNARY, N_IN, N_STATOP, N_AGGADD, N_CAST, N_ATVAR,
	N_ARRAYREF, /* bare array name as a builtin argument (e.g. print of a stat) */
	/* statements */
	S_BLOCK, S_EXPR, S_IF, S_WHILE, S_FOR, S_FOREACH, S_DELETE, S_NEXT,
	S_BREAK, S_CONTINUE, S_RETURN, S_NOP
};

enum stp_type { TY_UNK = 0, TY_NUM, TY_STR, TY_STAT };

struct stp_tvar;   /* compiled target-variable access (stp_dwarf.c) */

struct stp_node {
	enum stp_nk kind;
	int line, col;
	int op;                 /* operator: a character or an OP_* code */
	int64_t num;
	char *str;              /* literal, name */
	size_t slen;
	struct stp_node *a, *b, *c, *d;
	struct stp_node **args;
	int nargs;
	/* resolved by stp_sema */
	int sym;                /* variable slot / function index / builtin index */
	bool global;
	enum stp_type type;
	/* target variables: member chain as written */
	struct stp_tvar *tv;
	/* foreach */
	int nkeys;              /* loop variables (slots in args) */
	int sort_col;           /* 0 = none, -1 = value, k>=1 = key k */
	int sort_dir;           /* +1 / -1 */
	struct stp_node *limit;
	struct stp_node *valvar; /* foreach (v = [k..] in a) */
	struct stp_node *next_sib; /* statement lists */
	struct stp_node *arena_next; /* every node of a script, for freeing */
};

/* Multi-character operators are encoded as these codes (single characters
 * as themselves). */
enum {
	OP_EQ = 256, OP_NE, OP_LE, OP_GE, OP_SHL, OP_SHR, OP_AND, OP_OR,
	OP_INC, OP_DEC, OP_ARROW, OP_AGG, /* <<< */
	OP_ADDEQ, OP_SUBEQ, OP_MULEQ, OP_DIVEQ, OP_MODEQ, OP_SHLEQ, OP_SHREQ,
	OP_ANDEQ, OP_OREQ, OP_XOREQ, OP_CATEQ, OP_ASSIGN
};

/* A probe point as written, and what it resolved to. */
enum stp_pk { P_BEGIN, P_END, P_TIMER, P_FUNCTION, P_STATEMENT };

struct stp_probe {
	enum stp_pk kind;
	char *text;             /* the probe point as written ("process(\"x\").function(\"f\")") */
	int line, col;
	char *path;             /* process("PATH"); NULL for process.function */
	char *spec;             /* function name, or "FUNC@FILE:LINE" */
	int64_t period_ns;      /* timers */
	struct stp_node *body;
	int nlocals;
	char **localnames;
	enum stp_type *localtypes;
	/* resolved */
	uint64_t addr;          /* runtime address of the breakpoint */
	char *func;             /* probed function's name */
	void *fdie;             /* stp_dwarf private: the function's DIE offset etc. */
	int index;
};

struct stp_func {
	char *name;
	int line, col;
	int nparams;
	struct stp_node *body;
	int nlocals;
	char **localnames;
	enum stp_type *localtypes;
	enum stp_type rettype;
};

struct stp_global {
	char *name;
	int line, col;
	bool is_array;
	int arity;              /* keys (arrays) */
	enum stp_type type;     /* value type (TY_STAT: aggregate) */
	enum stp_type keytypes[9];
	struct stp_node *init;  /* literal initializer */
};

struct stp_script {
	const char *name;       /* file name for messages */
	char *src;
	struct stp_probe **probes;
	int nprobes;
	struct stp_func **funcs;
	int nfuncs;
	struct stp_global **globals;
	int nglobals;
	struct stp_node *arena;  /* all nodes (stp_node_new) */
};

/* A zeroed node owned by the script (freed by stp_script_free). */
struct stp_node *stp_node_new(struct stp_script *s);
/* Deep copy of a tree (with its statement list), owned by the script. */
struct stp_node *stp_node_clone(struct stp_script *s, const struct stp_node *n);

/* Parse src into *s (s->name, s->src set by caller).  Returns 0, or -1 with
 * the whole formatted message (position, line, caret) in err. */
int stp_parse(struct stp_script *s, char *err, size_t errlen);
void stp_script_free(struct stp_script *s);

/* -------------------------------------------------------- resolution */

/* What sema needs from the target binary (NULL when the script has only
 * begin/end/timer probes). */
struct stp_dwarf;

/* Resolve names and types; compile target variables and probe addresses
 * against dw (may be NULL).  Returns 0 or -1 with the message in err. */
int stp_sema(struct stp_script *s, struct stp_dwarf *dw, char *err, size_t errlen);

/* Builtins: index by name, or -1. */
struct stp_builtin {
	const char *name;
	int minargs, maxargs;
	enum stp_type ret;
	bool needs_target;       /* reads the target (not usable in begin/end/timer) */
};
extern const struct stp_builtin stp_builtins[];
/* Check a printf format against its argument types (TY_UNK = any).
 * Returns 0 or -1 with a message. */
int stp_check_format(const char *fmt, const enum stp_type *types, int nargs, char *msg, size_t cap);
int stp_builtin_find(const char *name);

/* ------------------------------------------------------------- DWARF */

/* Open the executable's DWARF and CFI (bias added to every address). */
struct stp_dwarf *stp_dwarf_open(const char *path, uint64_t bias, char *err, size_t errlen);
void stp_dwarf_close(struct stp_dwarf *dw);

/* Names of the functions (with code) matching a glob pattern ("main.*"),
 * sorted; returns the count (0: none) or -1.  Caller frees. */
int stp_dwarf_match(struct stp_dwarf *dw, const char *pattern, char ***names);

/* Resolve a probe's address and function.  Returns 0 or -1 with a message
 * (not positioned) in err. */
int stp_dwarf_probe(struct stp_dwarf *dw, struct stp_probe *p, char *err, size_t errlen);

/* A target-variable access path: a base ($name at the probe's pc, @var
 * global, or an arbitrary expression for @cast) followed by steps. */
enum stp_step { ST_MEMBER, ST_INDEX, ST_DEREF };
struct stp_tvar_step { enum stp_step kind; char *name; struct stp_node *index; };

/* Compile n->tv for the probe p: base in n (N_TVAR name / N_ATVAR name /
 * N_CAST with type name), steps[] as written.  Returns 0 or -1 with msg. */
int stp_dwarf_tvar(struct stp_dwarf *dw, struct stp_probe *p, struct stp_node *n,
		   struct stp_tvar_step *steps, int nsteps, char *err, size_t errlen);
/* "$$vars"/"$$parms"/"$$locals": compile into a list of plain $var nodes
 * and their names; returns count or -1. */
int stp_dwarf_varlist(struct stp_dwarf *dw, struct stp_probe *p, const char *which,
		      char ***names, char *err, size_t errlen);

/* ------------------------------------------------------------ runtime */

/* What a probe hit can read from the target.  All return 0 or -1 (fault). */
struct stp_target {
	void *ctx;
	int (*read_mem)(void *ctx, uint64_t addr, void *buf, size_t len);
	int (*read_reg)(void *ctx, int rsp_regno, uint64_t *val);   /* RSP amd64 numbering */
	struct gort_bin *bin;
	const struct gort_layout *layout;    /* NULL if not known */
	int64_t pid, tid;
	const char *execname;
};

struct stp_val {
	enum stp_type t;         /* TY_NUM or TY_STR */
	int64_t n;
	char *s;                 /* owned, NUL-terminated (TY_STR) */
};

struct stp_stat {
	int64_t count, sum, min, max;
	int64_t hist[128];
};

struct stp_map;              /* associative array */

/* Interpreter state for one script run. */
struct stp_rt {
	struct stp_script *sc;
	FILE *out, *err;
	struct stp_val *gvals;       /* scalar globals */
	struct stp_stat **gstats;    /* scalar aggregates */
	struct stp_map **gmaps;      /* array globals */
	bool exit_requested;
	unsigned long errors;        /* runtime errors (hits skipped) */
	unsigned long err_reported;  /* errors printed (capped) */
	/* the current hit */
	struct stp_probe *probe;
	struct stp_target *tgt;      /* NULL in begin/end/timer */
	struct stp_val *locals;
	char errmsg[512];
	int depth;
	uint64_t steps;              /* statements executed in this hit */
};

int stp_rt_init(struct stp_rt *rt, struct stp_script *sc, FILE *out, FILE *err);
void stp_rt_free(struct stp_rt *rt);

/* Run probe p's body with target t (NULL for begin/end/timer).  Returns 0,
 * or -1 after a runtime error (reported on rt->err, counted, hit skipped). */
int stp_run_probe(struct stp_rt *rt, struct stp_probe *p, struct stp_target *t);

/* Evaluation helpers used by the builtins. */
int stp_eval(struct stp_rt *rt, struct stp_node *n, struct stp_val *out);
void stp_val_free(struct stp_val *v);
int stp_rt_error(struct stp_rt *rt, struct stp_node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
char *stp_strdup_n(const char *s, size_t n);
int stp_val_str(struct stp_val *v, int64_t n);   /* set to decimal string */

/* Builtin call n (n->sym indexes stp_builtins). */
int stp_call_builtin(struct stp_rt *rt, struct stp_node *n, struct stp_val *out);

/* Read a target variable (n->tv) into out. */
int stp_tvar_read(struct stp_rt *rt, struct stp_node *n, struct stp_val *out);

/* Aggregates */
void stp_stat_add(struct stp_stat *st, int64_t v);
void stp_stat_print_hist_log(FILE *f, const struct stp_stat *st);

/* Maps: keys are nkeys values. */
struct stp_map *stp_map_new(int nkeys, enum stp_type vtype);
void stp_map_free(struct stp_map *m);
/* Find or (create) an entry; returns its value slot (stp_val or stp_stat). */
struct stp_val *stp_map_val(struct stp_map *m, const struct stp_val *keys, bool create);
struct stp_stat *stp_map_stat(struct stp_map *m, const struct stp_val *keys, bool create);
bool stp_map_delete(struct stp_map *m, const struct stp_val *keys);
void stp_map_clear(struct stp_map *m);
/* Snapshot of entries for foreach: returns count, *ents an array of entry
 * pointers (caller frees the array only). */
struct stp_mapent {
	struct stp_mapent *next;      /* hash chain */
	struct stp_mapent *inext, *iprev;  /* insertion order */
	uint64_t hash;
	struct stp_val *keys;
	struct stp_val val;
	struct stp_stat *stat;
	bool dead;
};
size_t stp_map_entries(struct stp_map *m, struct stp_mapent ***ents);
int stp_map_nkeys(const struct stp_map *m);

#endif /* GOTAP_STP_INT_H */
