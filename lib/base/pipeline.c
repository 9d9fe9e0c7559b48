/* pipeline - see pipeline.h and loam-pipeline(5). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <xxhash.h>

#include "conf.h"
#include "pipeline.h"
#include "util.h"

/* --- small string helpers ------------------------------------------- */

struct sbuf {
	char *s;
	size_t len, cap;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_addc(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

static char *
sb_take(struct sbuf *b)
{
	if (!b->s)
		return xstrdup("");
	return b->s;
}

static void
push_str(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 2, sizeof **v);
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
pipeline_free_words(char **words)
{
	if (!words)
		return;
	for (char **w = words; *w; w++)
		free(*w);
	free(words);
}

/* Shell operators in a command string are almost certainly a mistake. */
static int
is_shell_operator(const char *w)
{
	static const char *const ops[] = {
		"|", "||", "&&", "&", ";", ">", ">>", "<", "2>", "2>&1", NULL,
	};

	for (size_t i = 0; ops[i]; i++)
		if (strcmp(w, ops[i]) == 0)
			return 1;
	return 0;
}

/* pipeline_split_words, also telling the first unquoted word that is a shell
 * operator (*op, NULL when none; points into *words). */
static int
split_words(const char *s, char ***words, size_t *n, const char **op)
{
	struct sbuf w = { 0 };
	int inword = 0, quoted = 0;

	*words = NULL;
	*n = 0;
	if (op)
		*op = NULL;
	for (const char *p = s;; p++) {
		if (*p == '\0' || *p == ' ' || *p == '\t' || *p == '\n') {
			if (inword) {
				push_str(words, n, sb_take(&w));
				if (op && !*op && !quoted && is_shell_operator((*words)[*n - 1]))
					*op = (*words)[*n - 1];
			}
			w = (struct sbuf){ 0 };
			inword = quoted = 0;
			if (*p == '\0')
				break;
			continue;
		}
		inword = 1;
		if (*p == '\'') {
			const char *q = strchr(p + 1, '\'');

			if (!q)
				goto unterminated;
			sb_add(&w, p + 1, (size_t)(q - p - 1));
			if (q == p + 1)
				sb_add(&w, "", 0);
			p = q;
			quoted = 1;
		} else if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0')
					goto unterminated;
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$'))
					p++;
				sb_addc(&w, *p);
			}
			sb_add(&w, "", 0);
			quoted = 1;
		} else if (*p == '\\' && p[1]) {
			sb_addc(&w, *++p);
			quoted = 1;
		} else
			sb_addc(&w, *p);
	}
	if (!*words)
		*words = xcalloc(1, sizeof **words);
	return 0;
unterminated:
	free(w.s);
	pipeline_free_words(*words);
	*words = NULL;
	*n = 0;
	return loam_seterr("unterminated quote");
}

int
pipeline_split_words(const char *s, char ***words, size_t *n)
{
	return split_words(s, words, n, NULL);
}

static const struct pipeline_var *
find_var(const struct pipeline_var *vars, size_t nvars, const char *name, size_t len)
{
	for (size_t i = 0; i < nvars; i++)
		if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
			return &vars[i];
	return NULL;
}

/*
 * pipeline_expand, with limits: variables made of variables grow
 * exponentially (nine levels of ten references are 10^9 times the
 * first), so no value may grow past PL_MAX_VALUE, and, when budget is
 * not NULL, what substitution adds over a whole pipeline is taken from
 * *budget (a thousand words of a 1 MiB value would be 1 GB).
 */
static int
expand(const struct pipeline_var *vars, size_t nvars, const char *s, char **out,
    size_t *budget)
{
	struct sbuf b = { 0 };

	*out = NULL;
	for (const char *p = s; *p; p++) {
		const char *end, *val;
		const struct pipeline_var *v;
		char *name;
		size_t n;

		if (p[0] != '$' || (p[1] != '{' && p[1] != '$')) {
			sb_addc(&b, *p);
			continue;
		}
		if (p[1] == '$') {
			sb_addc(&b, '$');
			p++;
			continue;
		}
		if (!(end = strchr(p + 2, '}'))) {
			free(b.s);
			return loam_seterr("unterminated ${ in '%s'", s);
		}
		v = find_var(vars, nvars, p + 2, (size_t)(end - p - 2));
		name = xmalloc((size_t)(end - p - 2) + 1);
		memcpy(name, p + 2, (size_t)(end - p - 2));
		name[end - p - 2] = '\0';
		val = v ? v->value : (*name ? getenv(name) : NULL);
		if (!val) {
			loam_seterr("undefined variable '%s'", name);
			free(name);
			free(b.s);
			return -1;
		}
		n = strlen(val);
		if (b.len + n > PL_MAX_VALUE || (budget && n > *budget)) {
			if (b.len + n > PL_MAX_VALUE)
				loam_seterr("${%.100s} makes the value longer than "
				    PL_MAX_VALUE_TEXT " (the limit for one value)", name);
			else
				loam_seterr("${%.100s}: the variables substituted come to more "
				    "than " PL_MAX_EXPANDED_TEXT " in all (the limit for a "
				    "pipeline)", name);
			free(name);
			free(b.s);
			return -1;
		}
		if (budget)
			*budget -= n;
		free(name);
		sb_add(&b, val, n);
		p = end;
	}
	*out = sb_take(&b);
	return 0;
}

int
pipeline_expand(const struct pipeline_var *vars, size_t nvars, const char *s, char **out)
{
	return expand(vars, nvars, s, out, NULL);
}

/* Expansion while loading: the first nvars of the pipeline's variables,
 * and its budget. */
static int
subst(struct pipeline *pl, size_t nvars, const char *s, char **out)
{
	return expand(pl->vars, nvars, s, out, &pl->expand_budget);
}

char *
pipeline_shell_quote(const char *s)
{
	struct sbuf b = { 0 };

	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-+=/.,:@%^") == strlen(s))
		return xstrdup(s);
	sb_addc(&b, '\'');
	for (const char *p = s; *p; p++)
		if (*p == '\'')
			sb_add(&b, "'\\''", 4);
		else
			sb_addc(&b, *p);
	sb_addc(&b, '\'');
	return sb_take(&b);
}

char *
pipeline_clean_path(const char *path)
{
	struct sbuf b = { 0 };
	const char *p = path;

	if (*p == '/')
		sb_addc(&b, '/');
	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (!(n == 1 && p[0] == '.')) {
			if (b.len && b.s[b.len - 1] != '/')
				sb_addc(&b, '/');
			sb_add(&b, p, n);
		}
		p += n;
	}
	if (!b.len)
		sb_addc(&b, '.');
	return sb_take(&b);
}

/* --- loading ---------------------------------------------------------- */

/* "where: message" into the error slot; always -1. */
static int fail(const char *where, const char *fmt, ...) LOAM_PRINTF(2, 3);

static int
fail(const char *where, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return loam_seterr("%s: %s", where, msg);
}

/* A scalar's text as an argument word: strings as they are, numbers and
 * booleans as written in the file. */
static const char *
scalar_text(json_object *v)
{
	const char *t;

	if (!v)
		return NULL;
	switch (json_object_get_type(v)) {
	case json_type_string:
		return json_object_get_string(v);
	case json_type_int:
	case json_type_double:
	case json_type_boolean:
		t = conf_text(v);
		return t ? t : json_object_get_string(v);
	default:
		return NULL;
	}
}

static const char *
where_or(json_object *v, const char *fallback)
{
	const char *w = conf_where(v);

	return *w ? w : fallback;
}

static int
valid_name(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.-") == strlen(s);
}

static int
load_vars(struct pipeline *pl, json_object *vars, char *const *sets, size_t nsets)
{
	if (vars && !json_object_is_type(vars, json_type_object))
		return fail(conf_where(vars), "vars: expected a mapping of names to values");
	if (vars) {
		json_object_object_foreach(vars, key, val) {
			const char *text = scalar_text(val);
			struct pipeline_var *v;
			const char *env;
			char *value;

			if (!valid_name(key) || strchr(key, '.'))
				return fail(where_or(val, conf_where(vars)),
				    "vars: '%s' is not a valid name (letters, digits, _ and -)", key);
			if (!val)
				text = "";
			if (!text)
				return fail(conf_where(val), "vars: %s: expected a string or a number", key);
			if (subst(pl, pl->nvars, text, &value) != 0)
				return fail(where_or(val, conf_where(vars)), "vars: %s: %s", key,
				    loam_error());
			pl->vars = xreallocarray(pl->vars, pl->nvars + 1, sizeof *pl->vars);
			v = &pl->vars[pl->nvars++];
			v->name = xstrdup(key);
			v->value = value;
			v->where = xstrdup(where_or(val, conf_where(vars)));
			v->from = PL_FROM_FILE;
			if ((env = getenv(key)) != NULL) {
				free(v->value);
				v->value = xstrdup(env);
				v->from = PL_FROM_ENV;
			}
		}
	}
	for (size_t i = 0; i < nsets; i++) {
		const char *eq = strchr(sets[i], '=');
		struct pipeline_var *v;

		if (!eq || eq == sets[i])
			return loam_seterr("--set: '%s' is not name=value", sets[i]);
		v = (struct pipeline_var *)find_var(pl->vars, pl->nvars, sets[i], (size_t)(eq - sets[i]));
		if (!v)
			return loam_seterr("--set: %s has no variable '%.*s'", pl->path,
			    (int)(eq - sets[i]), sets[i]);
		free(v->value);
		v->value = xstrdup(eq + 1);
		v->from = PL_FROM_SET;
	}
	/* A later variable may have used an earlier one's value from the file:
	 * when an override changed it, expand the file's texts again. */
	for (size_t i = 0; vars && i < pl->nvars; i++) {
		json_object *val;
		char *value;

		if (pl->vars[i].from != PL_FROM_FILE)
			continue;
		json_object_object_get_ex(vars, pl->vars[i].name, &val);
		if (subst(pl, i, val ? scalar_text(val) : "", &value) != 0)
			return fail(pl->vars[i].where, "vars: %s: %s", pl->vars[i].name, loam_error());
		free(pl->vars[i].value);
		pl->vars[i].value = value;
	}
	return 0;
}

/* One path-valued field: a string, variables substituted, tidied. */
static int
load_path(struct pipeline *pl, json_object *v, const char *stage_where, const char *what,
    char **out)
{
	const char *text = scalar_text(v);
	char *s;

	if (!text)
		return fail(where_or(v, stage_where), "%s: expected a file name", what);
	if (subst(pl, pl->nvars, text, &s) != 0)
		return fail(where_or(v, stage_where), "%s: %s", what, loam_error());
	if (!*s || strchr(s, '\n')) {
		free(s);
		return fail(where_or(v, stage_where), "%s: '%s' is not a usable file name",
		    what, text);
	}
	*out = pipeline_clean_path(s);
	free(s);
	return 0;
}

/* A file name or a list of them. */
static int
load_paths(struct pipeline *pl, json_object *v, const char *stage_where, const char *what,
    char ***out, size_t *n)
{
	char *p;

	if (v && json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if (load_path(pl, json_object_array_get_idx(v, i), where_or(v, stage_where),
			    what, &p) != 0)
				return -1;
			push_str(out, n, p);
		}
		return 0;
	}
	if (load_path(pl, v, stage_where, what, &p) != 0)
		return -1;
	push_str(out, n, p);
	return 0;
}

static int
load_run(struct pipeline *pl, struct pipeline_stage *st, json_object *run)
{
	char **words = NULL;
	size_t n = 0;
	const char *op;

	if (!run)
		return fail(st->where, "stage needs run: (the command)");
	if (json_object_is_type(run, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(run); i++) {
			json_object *e = json_object_array_get_idx(run, i);
			const char *text = scalar_text(e);
			char *w;

			if (!text) {
				free_strv(words, n);
				return fail(where_or(e, conf_where(run)),
				    "run: word %zu is not a string or a number", i + 1);
			}
			if (subst(pl, pl->nvars, text, &w) != 0) {
				free_strv(words, n);
				return fail(where_or(e, conf_where(run)), "run: %s", loam_error());
			}
			push_str(&words, &n, w);
		}
	} else {
		const char *text = scalar_text(run);
		char **raw;
		size_t nraw;

		if (!text)
			return fail(conf_where(run), "run: expected a command string or a list of words");
		if (split_words(text, &raw, &nraw, &op) != 0)
			return fail(conf_where(run), "run: %s", loam_error());
		if (op) {
			fail(conf_where(run), "run: '%s' is not run by a shell here: "
			    "write pipes as separate stages and files as stdin:/stdout: "
			    "(or quote it to pass it as an argument)", op);
			pipeline_free_words(raw);
			return -1;
		}
		for (size_t i = 0; i < nraw; i++) {
			char *w;

			if (subst(pl, pl->nvars, raw[i], &w) != 0) {
				pipeline_free_words(raw);
				free_strv(words, n);
				return fail(conf_where(run), "run: %s", loam_error());
			}
			push_str(&words, &n, w);
		}
		pipeline_free_words(raw);
	}
	if (n == 0 || !*words[0]) {
		free_strv(words, n);
		return fail(where_or(run, st->where), "run: empty command");
	}
	st->argv = words;
	st->argc = n;
	return 0;
}

/* An executable regular file, as execvp would accept it. */
static int
is_program(const char *path)
{
	struct stat sb;

	return access(path, X_OK) == 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

char *
pipeline_find_program(const char *name, const char *dir)
{
	const char *path = getenv("PATH");
	const char *p;

	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
	if (dir) {
		size_t len = strlen(dir) + strlen(name) + 2;
		char *full = xmalloc(len);

		snprintf(full, len, "%s/%s", dir, name);
		if (is_program(full))
			return full;
		free(full);
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; ) {
		size_t n = strcspn(p, ":");
		size_t len = (n ? n : 1) + strlen(name) + 2;
		char *full = xmalloc(len);

		snprintf(full, len, "%.*s/%s", n ? (int)n : 1, n ? p : ".", name);
		if (is_program(full))
			return full;
		free(full);
		if (!p[n])
			break;
		p += n + 1;
	}
	return NULL;
}

/*
 * The directory of the running executable, from /proc/self/exe as git
 * finds its git-* commands: loam's programs are built and installed
 * beside pipeline-run, so a pipeline runs the ones that came with it
 * whether or not the user put them on PATH, and a build tree's programs
 * are never mixed with an installed copy's.  NULL where /proc is not
 * there (then PATH alone).
 */
static char *
self_dir(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	char *slash;

	if (n <= 0 || (size_t)n >= sizeof buf - 1)
		return NULL;
	buf[n] = '\0';
	if (buf[0] != '/' || !(slash = strrchr(buf, '/')))
		return NULL;
	*slash = '\0';
	return xstrdup(slash == buf ? "/" : buf);
}

static int
load_stage(struct pipeline *pl, struct pipeline_stage *st, json_object *obj, size_t index)
{
	static const char *const keys[] = {
		"name", "run", "stdin", "stdout", "tee", "needs", NULL,
	};
	json_object *v;

	st->where = xstrdup(conf_where(obj));
	if (!json_object_is_type(obj, json_type_object))
		return fail(where_or(obj, pl->path), "stage %zu: expected a mapping "
		    "with name:, run: ...", index + 1);
	{
		json_object_object_foreach(obj, key, val) {
			size_t i;

			for (i = 0; keys[i] && strcmp(keys[i], key) != 0; i++)
				;
			if (!keys[i])
				return fail(where_or(val, st->where), "unknown key '%s' in a stage "
				    "(expected name, run, stdin, stdout, tee or needs)", key);
		}
	}
	if (load_run(pl, st, json_object_object_get_ex(obj, "run", &v) ? v : NULL) != 0)
		return -1;
	if (json_object_object_get_ex(obj, "name", &v)) {
		const char *text = scalar_text(v);

		if (!text)
			return fail(where_or(v, st->where), "name: expected a string");
		if (!valid_name(text))
			return fail(where_or(v, st->where), "name: '%s' is not a valid stage name "
			    "(letters, digits, '.', '_' and '-')", text ? text : "");
		st->name = xstrdup(text);
	} else {
		const char *base = strrchr(st->argv[0], '/');

		st->name = xstrdup(base ? base + 1 : st->argv[0]);
		if (!valid_name(st->name))
			return fail(st->where, "the stage needs a name: ('%s' cannot be one)",
			    st->name);
	}
	if (json_object_object_get_ex(obj, "stdin", &v) &&
	    load_path(pl, v, st->where, "stdin", &st->in) != 0)
		return -1;
	if (json_object_object_get_ex(obj, "stdout", &v) &&
	    load_path(pl, v, st->where, "stdout", &st->out) != 0)
		return -1;
	if (json_object_object_get_ex(obj, "tee", &v) &&
	    load_paths(pl, v, st->where, "tee", &st->tee, &st->ntee) != 0)
		return -1;
	if (json_object_object_get_ex(obj, "needs", &v) &&
	    load_paths(pl, v, st->where, "needs", &st->needs, &st->nneeds) != 0)
		return -1;
	if (!(st->prog = pipeline_find_program(st->argv[0], pl->bindir))) {
		json_object_object_get_ex(obj, "run", &v);
		return fail(where_or(v, st->where), "stage '%s': program '%s' not found%s",
		    st->name, st->argv[0], strchr(st->argv[0], '/') ? "" : " in PATH");
	}
	return 0;
}

static int
has_str(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* Group stages into chains and collect each chain's files. */
static int
make_chains(struct pipeline *pl)
{
	for (size_t i = 0; i < pl->nstages; i++) {
		struct pipeline_stage *st = &pl->stages[i];
		struct pipeline_chain *c;
		struct sbuf name = { 0 };

		if (i == 0 || pl->stages[i - 1].out || st->in) {
			pl->chains = xreallocarray(pl->chains, pl->nchains + 1, sizeof *pl->chains);
			c = &pl->chains[pl->nchains++];
			memset(c, 0, sizeof *c);
			c->first = i;
			if (st->in)
				push_str(&c->inputs, &c->ninputs, xstrdup(st->in));
		}
		c = &pl->chains[pl->nchains - 1];
		c->count++;
		st->chain = pl->nchains - 1;
		for (size_t j = 0; j < st->nneeds; j++)
			if (!has_str(c->inputs, c->ninputs, st->needs[j]))
				push_str(&c->inputs, &c->ninputs, xstrdup(st->needs[j]));
		for (size_t j = 0; j < st->ntee; j++) {
			if (has_str(c->outputs, c->noutputs, st->tee[j]))
				return fail(st->where, "stage '%s': '%s' is written twice",
				    st->name, st->tee[j]);
			push_str(&c->outputs, &c->noutputs, xstrdup(st->tee[j]));
		}
		/* The last stage's stdout first: it is what the chain makes. */
		if (st->out) {
			if (has_str(c->outputs, c->noutputs, st->out))
				return fail(st->where, "stage '%s': '%s' is written twice",
				    st->name, st->out);
			push_str(&c->outputs, &c->noutputs, NULL);
			memmove(c->outputs + 1, c->outputs, (c->noutputs - 1) * sizeof *c->outputs);
			c->outputs[0] = xstrdup(st->out);
		}
		free(c->name);
		for (size_t j = c->first; j <= i; j++) {
			if (j > c->first)
				sb_addc(&name, '|');
			sb_add(&name, pl->stages[j].name, strlen(pl->stages[j].name));
		}
		c->name = sb_take(&name);
	}
	return 0;
}

/*
 * A file's name for comparing with another's: realpath's where the file
 * exists; else the longest leading part that exists resolved by
 * realpath, and the rest applied as written ("." dropped, ".." going up
 * a level), since pipeline-run creates the missing directories as plain
 * directories: "nodir/../p.yaml" is p.yaml once nodir is made.  malloc'd.
 */
static char *
canonical_name(const char *path)
{
	struct sbuf b = { 0 };
	char *real, *cwd;
	const char *p = path;
	int exists = 1;

	if ((real = realpath(path, NULL)) != NULL)
		return real;
	if (*p == '/')
		cwd = xstrdup("/");
	else if (!(cwd = realpath(".", NULL)))
		cwd = xstrdup(".");
	sb_add(&b, cwd, strlen(cwd));
	free(cwd);
	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		if (!(n = strcspn(p, "/")))
			break;
		if (n == 1 && p[0] == '.') {
			p += n;
			continue;
		}
		if (exists) {
			size_t len = b.len;

			if (b.s[b.len - 1] != '/')
				sb_addc(&b, '/');
			sb_add(&b, p, n);
			if ((real = realpath(b.s, NULL)) != NULL) {
				b.len = 0;
				sb_add(&b, real, strlen(real));
				free(real);
				p += n;
				continue;
			}
			exists = 0;
			b.len = len;
			b.s[len] = '\0';
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(b.s, '/');

			b.len = slash && slash != b.s ? (size_t)(slash - b.s) : 1;
			b.s[b.len] = '\0';
		} else {
			if (b.s[b.len - 1] != '/')
				sb_addc(&b, '/');
			sb_add(&b, p, n);
		}
		p += n;
	}
	return sb_take(&b);
}

/* Whether two names are one file: by device and inode where both exist
 * (hard links too), else by canonical_name (a name whose directories do
 * not exist yet may still come to be the other file). */
static int
same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	int same;
	char *ca, *cb;

	if (strcmp(a, b) == 0)
		return 1;
	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	ca = canonical_name(a);
	cb = canonical_name(b);
	same = strcmp(ca, cb) == 0;
	free(ca);
	free(cb);
	return same;
}

/* Where the file name in a stage's key (the idx'th of a list) was written. */
static const char *
path_where(json_object *stage, const char *key, size_t idx, const char *fallback)
{
	json_object *v;

	if (!json_object_object_get_ex(stage, key, &v))
		return fallback;
	if (v && json_object_is_type(v, json_type_array))
		return where_or(json_object_array_get_idx(v, idx), where_or(v, fallback));
	return where_or(v, fallback);
}

/*
 * Refuse an output that is the pipeline file (it would be truncated as
 * the chain starts, and the run ends with exit 0 and the pipeline gone)
 * or a file the same chain reads (the reader would see it truncated, or
 * its own output).  Names are compared as files, not strings: "p.yaml",
 * "./p.yaml", "/abs/p.yaml" and a link to it are one file.
 */
static int
check_outputs(struct pipeline *pl, json_object *stages)
{
	for (size_t c = 0; c < pl->nchains; c++) {
		const struct pipeline_chain *ch = &pl->chains[c];

		for (size_t s = ch->first; s < ch->first + ch->count; s++) {
			const struct pipeline_stage *st = &pl->stages[s];
			json_object *obj = json_object_array_get_idx(stages, s);

			for (size_t o = 0; o < st->ntee + (st->out != NULL); o++) {
				const char *out = o < st->ntee ? st->tee[o] : st->out;
				const char *key = o < st->ntee ? "tee" : "stdout";
				const char *where = path_where(obj, key, o < st->ntee ? o : 0,
				    st->where);

				if (same_file(out, pl->path))
					return fail(where, "%s: '%s' is the pipeline file itself: "
					    "writing it would destroy the pipeline", key, out);
				for (size_t r = ch->first; r < ch->first + ch->count; r++) {
					const struct pipeline_stage *rd = &pl->stages[r];
					json_object *robj = json_object_array_get_idx(stages, r);

					for (size_t i = 0; i < rd->nneeds + (rd->in != NULL); i++) {
						const char *in = i < rd->nneeds ? rd->needs[i] : rd->in;
						const char *rkey = i < rd->nneeds ? "needs" : "stdin";

						if (same_file(out, in))
							return fail(where, "%s: '%s' is also an input of "
							    "its chain (%s: of stage '%s', %s): a chain "
							    "cannot write a file it reads", key, out, rkey,
							    rd->name, path_where(robj, rkey,
							    i < rd->nneeds ? i : 0, rd->where));
					}
				}
			}
		}
	}
	return 0;
}

/* Which chain writes path; (size_t)-1 when none. */
static size_t
writer_of(const struct pipeline *pl, const char *path)
{
	for (size_t c = 0; c < pl->nchains; c++)
		if (has_str(pl->chains[c].outputs, pl->chains[c].noutputs, path))
			return c;
	return (size_t)-1;
}

const struct pipeline_stage *
pipeline_stage_writing(const struct pipeline *pl, size_t c, const char *path)
{
	const struct pipeline_chain *ch = &pl->chains[c];

	for (size_t s = ch->first; s < ch->first + ch->count; s++)
		if ((pl->stages[s].out && strcmp(pl->stages[s].out, path) == 0) ||
		    has_str(pl->stages[s].tee, pl->stages[s].ntee, path))
			return &pl->stages[s];
	return &pl->stages[ch->first];
}

static int
make_graph(struct pipeline *pl)
{
	size_t *indeg, *queue, head = 0, tail = 0;

	for (size_t c = 0; c < pl->nchains; c++)
		for (size_t o = 0; o < pl->chains[c].noutputs; o++) {
			size_t w = writer_of(pl, pl->chains[c].outputs[o]);

			if (w != c)
				return fail(pipeline_stage_writing(pl, c, pl->chains[c].outputs[o])->where,
				    "'%s' is also written by stage '%s' (%s): a file has one writer",
				    pl->chains[c].outputs[o],
				    pipeline_stage_writing(pl, w, pl->chains[c].outputs[o])->name,
				    pipeline_stage_writing(pl, w, pl->chains[c].outputs[o])->where);
		}
	for (size_t c = 0; c < pl->nchains; c++) {
		struct pipeline_chain *ch = &pl->chains[c];

		for (size_t i = 0; i < ch->ninputs; i++) {
			size_t w = writer_of(pl, ch->inputs[i]), k;

			if (w == (size_t)-1)
				continue;
			for (k = 0; k < ch->ndeps && ch->deps[k] != w; k++)
				;
			if (k == ch->ndeps) {
				ch->deps = xreallocarray(ch->deps, ch->ndeps + 1, sizeof *ch->deps);
				ch->deps[ch->ndeps++] = w;
			}
		}
	}
	/* Kahn's algorithm; what is left over lies on or behind a cycle. */
	indeg = xcalloc(pl->nchains, sizeof *indeg);
	queue = xcalloc(pl->nchains, sizeof *queue);
	for (size_t c = 0; c < pl->nchains; c++)
		if ((indeg[c] = pl->chains[c].ndeps) == 0)
			queue[tail++] = c;
	while (head < tail) {
		size_t c = queue[head++];

		for (size_t d = 0; d < pl->nchains; d++)
			for (size_t k = 0; k < pl->chains[d].ndeps; k++)
				if (pl->chains[d].deps[k] == c && --indeg[d] == 0)
					queue[tail++] = d;
	}
	if (tail < pl->nchains) {
		/* Walk back along dependencies from a left-over chain until a
		 * chain repeats: that walk is a cycle. */
		size_t *seen = xcalloc(pl->nchains, sizeof *seen), c = 0, step = 1;
		struct sbuf b = { 0 };

		while (indeg[c] == 0)
			c++;
		while (!seen[c]) {
			seen[c] = step++;
			for (size_t k = 0; k < pl->chains[c].ndeps; k++)
				if (indeg[pl->chains[c].deps[k]] != 0) {
					c = pl->chains[c].deps[k];
					break;
				}
		}
		/* c is on the cycle: print it in the direction data flows. */
		{
			size_t start = c, n = 0, *path = xcalloc(pl->nchains + 1, sizeof *path);

			do {
				path[n++] = c;
				for (size_t k = 0; k < pl->chains[c].ndeps; k++)
					if (indeg[pl->chains[c].deps[k]] != 0 &&
					    seen[pl->chains[c].deps[k]]) {
						c = pl->chains[c].deps[k];
						break;
					}
			} while (c != start && n <= pl->nchains);
			for (size_t i = n; i-- > 0; ) {
				const char *nm = pl->stages[pl->chains[path[i]].first].name;

				sb_add(&b, nm, strlen(nm));
				sb_add(&b, " -> ", 4);
			}
			sb_add(&b, pl->stages[pl->chains[path[n - 1]].first].name,
			    strlen(pl->stages[pl->chains[path[n - 1]].first].name));
			free(path);
		}
		fail(pl->stages[pl->chains[c].first].where, "cycle: %s (each reads a file "
		    "the one before writes)", b.s);
		free(b.s);
		free(seen);
		free(indeg);
		free(queue);
		return -1;
	}
	pl->order = queue;
	free(indeg);
	return 0;
}

int
pipeline_load(struct pipeline *pl, const char *path, char *const *sets, size_t nsets,
    int *bad_input)
{
	json_object *root, *v, *stages;
	int rc = -1;

	memset(pl, 0, sizeof *pl);
	pl->path = xstrdup(path);
	pl->bindir = self_dir();
	pl->expand_budget = PL_MAX_EXPANDED;
	*bad_input = 0;
	if (access(path, R_OK) != 0) {
		loam_seterr("%s: %s", path, strerror(errno));
		return -1;
	}
	*bad_input = 1;
	if (!(root = conf_load(path)))
		return -1;
	if (!json_object_is_type(root, json_type_object)) {
		fail(where_or(root, path), "expected a mapping with vars: and stages:");
		goto out;
	}
	{
		json_object_object_foreach(root, key, val) {
			if (strcmp(key, "vars") != 0 && strcmp(key, "stages") != 0 &&
			    strcmp(key, "description") != 0) {
				fail(where_or(val, path), "unknown key '%s' (expected description, "
				    "vars or stages)", key);
				goto out;
			}
		}
	}
	/* Text, as everywhere else a scalar is (a number as written). */
	if (json_object_object_get_ex(root, "description", &v) && !scalar_text(v)) {
		fail(where_or(v, where_or(root, path)), "description: expected a string");
		goto out;
	}
	if (load_vars(pl, json_object_object_get_ex(root, "vars", &v) ? v : NULL,
	    sets, nsets) != 0)
		goto out;
	if (!json_object_object_get_ex(root, "stages", &stages) || !stages ||
	    !json_object_is_type(stages, json_type_array) ||
	    json_object_array_length(stages) == 0) {
		fail(where_or(stages, path), "stages: expected a list of stages");
		goto out;
	}
	pl->nstages = json_object_array_length(stages);
	pl->stages = xcalloc(pl->nstages, sizeof *pl->stages);
	for (size_t i = 0; i < pl->nstages; i++) {
		if (load_stage(pl, &pl->stages[i], json_object_array_get_idx(stages, i), i) != 0)
			goto out;
		for (size_t j = 0; j < i; j++)
			if (strcmp(pl->stages[j].name, pl->stages[i].name) == 0) {
				fail(pl->stages[i].where, "a second stage named '%s' (the first is "
				    "at %s): give each a name:", pl->stages[i].name, pl->stages[j].where);
				goto out;
			}
	}
	if (make_chains(pl) != 0 || check_outputs(pl, stages) != 0 || make_graph(pl) != 0)
		goto out;
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

void
pipeline_release(struct pipeline *pl)
{
	for (size_t i = 0; i < pl->nvars; i++) {
		free(pl->vars[i].name);
		free(pl->vars[i].value);
		free(pl->vars[i].where);
	}
	free(pl->vars);
	for (size_t i = 0; i < pl->nstages; i++) {
		struct pipeline_stage *st = &pl->stages[i];

		free(st->name);
		free(st->where);
		pipeline_free_words(st->argv);
		free(st->prog);
		free(st->in);
		free(st->out);
		free_strv(st->tee, st->ntee);
		free_strv(st->needs, st->nneeds);
	}
	free(pl->stages);
	for (size_t i = 0; i < pl->nchains; i++) {
		free(pl->chains[i].name);
		free_strv(pl->chains[i].inputs, pl->chains[i].ninputs);
		free_strv(pl->chains[i].outputs, pl->chains[i].noutputs);
		free(pl->chains[i].deps);
	}
	free(pl->chains);
	free(pl->order);
	free(pl->path);
	free(pl->bindir);
	memset(pl, 0, sizeof *pl);
}

/* --- stamps ----------------------------------------------------------- */

char *
pipeline_stamp_path(const char *output)
{
	const char *slash = strrchr(output, '/');
	size_t dir = slash ? (size_t)(slash - output) + 1 : 0;
	size_t len = strlen(output) + sizeof "..stamp";
	char *s = xmalloc(len);

	snprintf(s, len, "%.*s.%s.stamp", (int)dir, output, output + dir);
	return s;
}

void
pipeline_stamp_release(struct pipeline_stamp *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->lines[i].text);
	free(st->lines);
	memset(st, 0, sizeof *st);
}

static struct pipeline_stamp_line *
stamp_add(struct pipeline_stamp *st, char kind, uint64_t hash, const struct pipeline_fileid *id,
    const char *text)
{
	struct pipeline_stamp_line *l;

	st->lines = xreallocarray(st->lines, st->n + 1, sizeof *st->lines);
	l = &st->lines[st->n++];
	memset(l, 0, sizeof *l);
	l->kind = kind;
	l->hash = hash;
	if (id)
		l->id = *id;
	l->text = xstrdup(text);
	return l;
}

int
pipeline_stamp_read(const char *stamp_path, struct pipeline_stamp *st)
{
	FILE *fp = fopen(stamp_path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int have_key = 0;

	memset(st, 0, sizeof *st);
	if (!fp)
		return errno == ENOENT ? 1 : loam_seterr("%s: %s", stamp_path, strerror(errno));
	while ((len = getline(&line, &cap, fp)) > 0) {
		struct pipeline_fileid id = { 0 };
		unsigned long long h = 0, size = 0, ino = 0;
		long long sec = 0, nsec = 0;
		int off = 0;

		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			if (strcmp(line, "loam-stamp 1") != 0)
				goto bad;
			continue;
		}
		if (sscanf(line, "key %16llx%n", &h, &off) == 1 && off == len) {
			st->key = h;
			have_key = 1;
		} else if (sscanf(line, "cmd %16llx %n", &h, &off) == 1 && off > 0)
			stamp_add(st, 'c', h, NULL, line + off);
		else if (sscanf(line, "prog %16llx %n", &h, &off) == 1 && off > 0)
			stamp_add(st, 'p', h, NULL, line + off);
		else if (sscanf(line, "in %16llx %llu %lld.%9lld %llu %n", &h, &size, &sec, &nsec,
		    &ino, &off) == 5 && off > 0) {
			id = (struct pipeline_fileid){ size, ino, sec, nsec };
			stamp_add(st, 'i', h, &id, line + off);
		} else if (sscanf(line, "out %llu %lld.%9lld %llu %n", &size, &sec, &nsec, &ino,
		    &off) == 4 && off > 0) {
			id = (struct pipeline_fileid){ size, ino, sec, nsec };
			stamp_add(st, 'o', 0, &id, line + off);
		} else
			goto bad;
	}
	free(line);
	if (ferror(fp)) {
		fclose(fp);
		pipeline_stamp_release(st);
		return loam_seterr("%s: %s", stamp_path, strerror(errno));
	}
	fclose(fp);
	if (!have_key) {
		pipeline_stamp_release(st);
		return loam_seterr("%s: no key line", stamp_path);
	}
	return 0;
bad:
	free(line);
	fclose(fp);
	pipeline_stamp_release(st);
	return loam_seterr("%s:%zu: not a stamp line", stamp_path, lineno);
}

int
pipeline_stamp_write(const char *stamp_path, const struct pipeline_stamp *st)
{
	struct atomic_file af;
	struct sbuf b = { 0 };
	char line[128];
	int rc;

	snprintf(line, sizeof line, "loam-stamp 1\nkey %016" PRIx64 "\n", st->key);
	sb_add(&b, line, strlen(line));
	for (size_t i = 0; i < st->n; i++) {
		const struct pipeline_stamp_line *l = &st->lines[i];

		switch (l->kind) {
		case 'c':
			snprintf(line, sizeof line, "cmd %016" PRIx64 " ", l->hash);
			break;
		case 'p':
			snprintf(line, sizeof line, "prog %016" PRIx64 " ", l->hash);
			break;
		case 'i':
			snprintf(line, sizeof line, "in %016" PRIx64 " %" PRIu64 " %" PRId64 ".%09"
			    PRId64 " %" PRIu64 " ", l->hash, l->id.size, l->id.mtime_sec,
			    l->id.mtime_nsec, l->id.ino);
			break;
		default:
			snprintf(line, sizeof line, "out %" PRIu64 " %" PRId64 ".%09" PRId64
			    " %" PRIu64 " ", l->id.size, l->id.mtime_sec, l->id.mtime_nsec, l->id.ino);
		}
		sb_add(&b, line, strlen(line));
		sb_add(&b, l->text, strlen(l->text));
		sb_addc(&b, '\n');
	}
	if (atomic_open(&af, stamp_path) != 0) {
		free(b.s);
		return -1;
	}
	rc = atomic_write(&af, b.s, b.len);
	free(b.s);
	if (rc != 0) {
		atomic_abort(&af);
		return -1;
	}
	return atomic_commit(&af);
}

int
pipeline_file_id(const char *path, struct pipeline_fileid *id)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return loam_seterr("%s: %s", path, strerror(errno));
	id->size = (uint64_t)sb.st_size;
	id->ino = (uint64_t)sb.st_ino;
	id->mtime_sec = (int64_t)sb.st_mtim.tv_sec;
	id->mtime_nsec = (int64_t)sb.st_mtim.tv_nsec;
	return 0;
}

static int
same_id(const struct pipeline_fileid *a, const struct pipeline_fileid *b)
{
	return a->size == b->size && a->ino == b->ino && a->mtime_sec == b->mtime_sec &&
	    a->mtime_nsec == b->mtime_nsec;
}

int
pipeline_hash_file(const char *path, uint64_t *hash)
{
	XXH3_state_t *state;
	char *buf;
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return loam_seterr("%s: %s", path, strerror(errno));
#ifdef POSIX_FADV_SEQUENTIAL
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	state = XXH3_createState();
	if (!state) {
		close(fd);
		return loam_seterr("out of memory");
	}
	(void)XXH3_64bits_reset(state);
	buf = xmalloc(1 << 20);
	while ((n = read(fd, buf, 1 << 20)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			free(buf);
			XXH3_freeState(state);
			close(fd);
			return loam_seterr("%s: %s", path, strerror(saved));
		}
		(void)XXH3_64bits_update(state, buf, (size_t)n);
	}
	*hash = XXH3_64bits_digest(state);
	free(buf);
	XXH3_freeState(state);
	close(fd);
	return 0;
}

struct pipeline_hash_cache {
	char *path;
	uint64_t hash;
	struct pipeline_fileid id;
	struct pipeline_hash_cache *next;
};

void
pipeline_hash_cache_free(struct pipeline_hash_cache *c)
{
	while (c) {
		struct pipeline_hash_cache *next = c->next;

		free(c->path);
		free(c);
		c = next;
	}
}

/* A file's hash through the cache (valid while its stat is unchanged). */
static int
cached_hash(struct pipeline_hash_cache **cache, const char *path, const struct pipeline_fileid *id,
    uint64_t *hash)
{
	struct pipeline_hash_cache *c;

	for (c = *cache; c; c = c->next)
		if (strcmp(c->path, path) == 0 && same_id(&c->id, id)) {
			*hash = c->hash;
			return 0;
		}
	if (pipeline_hash_file(path, hash) != 0)
		return -1;
	c = xcalloc(1, sizeof *c);
	c->path = xstrdup(path);
	c->hash = *hash;
	c->id = *id;
	c->next = *cache;
	*cache = c;
	return 0;
}

static void
hash_str(XXH3_state_t *h, const char *s)
{
	uint64_t n = s ? strlen(s) + 1 : 0;

	(void)XXH3_64bits_update(h, &n, sizeof n);
	if (s)
		(void)XXH3_64bits_update(h, s, n);
}

static void
hash_strv(XXH3_state_t *h, char **v, size_t n)
{
	hash_str(h, "list");
	for (size_t i = 0; i < n; i++)
		hash_str(h, v[i]);
	hash_str(h, NULL);
}

int
pipeline_chain_stamp(const struct pipeline *pl, size_t chain, const struct pipeline_stamp *old,
    struct pipeline_hash_cache **pcache, struct pipeline_stamp *now)
{
	const struct pipeline_chain *c = &pl->chains[chain];
	XXH3_state_t *key = XXH3_createState(), *h = XXH3_createState();
	int rc = -1;

	memset(now, 0, sizeof *now);
	if (!key || !h) {
		loam_seterr("out of memory");
		goto out;
	}
	(void)XXH3_64bits_reset(key);
	for (size_t s = c->first; s < c->first + c->count; s++) {
		const struct pipeline_stage *st = &pl->stages[s];
		struct pipeline_fileid id;
		uint64_t v;

		(void)XXH3_64bits_reset(h);
		hash_strv(h, st->argv, st->argc);
		hash_str(h, st->in);
		hash_str(h, st->out);
		hash_strv(h, st->tee, st->ntee);
		hash_strv(h, st->needs, st->nneeds);
		v = XXH3_64bits_digest(h);
		(void)XXH3_64bits_update(key, &v, sizeof v);
		stamp_add(now, 'c', v, NULL, st->name);
		if (pipeline_file_id(st->prog, &id) != 0 || cached_hash(pcache, st->prog, &id, &v) != 0)
			goto out;
		(void)XXH3_64bits_update(key, &v, sizeof v);
		stamp_add(now, 'p', v, NULL, st->prog);
	}
	for (size_t i = 0; i < c->ninputs; i++) {
		struct pipeline_fileid id;
		uint64_t v = 0;
		size_t k;

		if (pipeline_file_id(c->inputs[i], &id) != 0)
			goto out;
		for (k = 0; old && k < old->n; k++)
			if (old->lines[k].kind == 'i' && strcmp(old->lines[k].text, c->inputs[i]) == 0 &&
			    same_id(&old->lines[k].id, &id))
				break;
		if (old && k < old->n)
			v = old->lines[k].hash;
		else if (cached_hash(pcache, c->inputs[i], &id, &v) != 0)
			goto out;
		hash_str(key, c->inputs[i]);
		(void)XXH3_64bits_update(key, &v, sizeof v);
		stamp_add(now, 'i', v, &id, c->inputs[i]);
	}
	now->key = XXH3_64bits_digest(key);
	rc = 0;
out:
	XXH3_freeState(key);
	XXH3_freeState(h);
	if (rc != 0)
		pipeline_stamp_release(now);
	return rc;
}

int
pipeline_stamp_add_outputs(const struct pipeline *pl, size_t chain, struct pipeline_stamp *st)
{
	const struct pipeline_chain *c = &pl->chains[chain];

	for (size_t i = 0; i < c->noutputs; i++) {
		struct pipeline_fileid id;

		if (pipeline_file_id(c->outputs[i], &id) != 0)
			return -1;
		stamp_add(st, 'o', 0, &id, c->outputs[i]);
	}
	return 0;
}

static const struct pipeline_stamp_line *
stamp_find(const struct pipeline_stamp *st, char kind, const char *text)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->lines[i].kind == kind && strcmp(st->lines[i].text, text) == 0)
			return &st->lines[i];
	return NULL;
}

const char *
pipeline_stamp_reason(const struct pipeline *pl, size_t chain, const struct pipeline_stamp *old,
    int old_state, const struct pipeline_stamp *now, char *buf, size_t size)
{
	const struct pipeline_chain *c = &pl->chains[chain];

	if (c->noutputs == 0)
		return snprintf(buf, size, "it writes no file (nothing to cache)"), buf;
	/* A device or FIFO is written in place and never stamped: what went
	 * there is gone, so nothing says the chain need not run. */
	for (size_t i = 0; i < c->noutputs; i++) {
		struct stat sb;

		if (stat(c->outputs[i], &sb) == 0 && !S_ISREG(sb.st_mode))
			return snprintf(buf, size, "%s is not a regular file", c->outputs[i]), buf;
	}
	for (size_t i = 0; i < c->noutputs; i++) {
		struct pipeline_fileid id;
		const struct pipeline_stamp_line *l;
		char *sp;
		struct pipeline_stamp other;
		int r;

		if (pipeline_file_id(c->outputs[i], &id) != 0)
			return snprintf(buf, size, "%s does not exist", c->outputs[i]), buf;
		if (i == 0) {
			if (old_state > 0)
				return snprintf(buf, size, "%s has no stamp", c->outputs[i]), buf;
			if (old_state < 0)
				return snprintf(buf, size, "%s", loam_error()), buf;
		} else {
			/* Every output's stamp must be the same one. */
			sp = pipeline_stamp_path(c->outputs[i]);
			r = pipeline_stamp_read(sp, &other);
			free(sp);
			if (r != 0 || other.key != old->key) {
				pipeline_stamp_release(&other);
				return snprintf(buf, size, "%s has %s", c->outputs[i],
				    r > 0 ? "no stamp" : "a different stamp"), buf;
			}
			pipeline_stamp_release(&other);
		}
		if (!(l = stamp_find(old, 'o', c->outputs[i])) || !same_id(&l->id, &id))
			return snprintf(buf, size, "%s changed since it was made", c->outputs[i]), buf;
	}
	if (old->key == now->key)
		return NULL;
	for (size_t i = 0; i < now->n; i++) {
		const struct pipeline_stamp_line *n = &now->lines[i], *o;

		o = stamp_find(old, n->kind, n->text);
		if (o && o->hash == n->hash)
			continue;
		switch (n->kind) {
		case 'c':
			snprintf(buf, size, "the command of stage '%s' %s", n->text,
			    o ? "changed" : "is new");
			break;
		case 'p':
			snprintf(buf, size, "program %s %s", n->text, o ? "changed" : "is new");
			break;
		default:
			snprintf(buf, size, "input %s %s", n->text, o ? "changed" : "is new");
		}
		return buf;
	}
	return snprintf(buf, size, "the stages changed"), buf;
}
