/*
 * skillit-mix - Skill-It's skills graphs, online mixture weights, and
 * one-pass sampling of a record stream to a mixture (Chen et al.,
 * NeurIPS 2023); see skillit-mix(1).
 *
 * The mixture rule, graph estimation, the closed-loop model and the
 * per-skill reservoirs of `sample` live in lib/method (skillit.h,
 * reservoir.h); this file reads graphs, evaluations and records and
 * writes what comes out.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "htab.h"
#include "npy.h"
#include "rec.h"
#include "recw.h"
#include "skillit.h"
#include "stream.h"

enum {
	OPT_GRAPH = CLI_LONG, OPT_SKILLS, OPT_EVAL_SKILLS, OPT_ETA, OPT_WINDOW, OPT_AGG,
	OPT_TARGET, OPT_STATIC, OPT_PRIOR, OPT_INIT, OPT_NORMALIZE_LOSS,
	OPT_INIT_LOSS, OPT_ETA_SCHEDULE, OPT_IGNORE_LONE, OPT_DYNAMIC_LAMBDA,
	OPT_BINARY, OPT_FOLLOW, OPT_METHOD, OPT_THRESHOLD, OPT_WEIGHTS,
	OPT_ROUNDS, OPT_SKILL_FIELD, OPT_DRAW, OPT_REPLACE,
};

static const struct cli_option weights_options[] = {
	{ 'q', "quiet", NULL, NULL, "no summary on stderr" },
	{ OPT_GRAPH, "graph", "file", "FILE", "the skills graph (required): .npy, JSON or YAML" },
	{ OPT_SKILLS, "skills", "names", "NAMES", "a,b,c or a file with one name per line" },
	{ OPT_EVAL_SKILLS, "eval-skills", "names", "NAMES",
	    "column names of a graph that is not square" },
	{ OPT_ETA, "eta", "e", "E", "step size (default 0.2)" },
	{ OPT_WINDOW, "window", "w", "W", "evaluations that count (default 3; 0 = all)" },
	{ OPT_AGG, "agg", "sum|mean", "sum|mean",
	    "aggregate of the window (default: sum, mean with --target)" },
	{ OPT_TARGET, "target", "skill,...", "SKILLS",
	    "fine-tuning: the evaluation skills that matter" },
	{ OPT_STATIC, "static", NULL, NULL, "one mixture from the graph alone (T = 1)" },
	{ OPT_PRIOR, "prior", "skill=w,...", "W", "prior weights, skill=weight,... or a file" },
	{ OPT_INIT, "init", "skill=w,...", "W", "initial weights, skill=weight,... or a file" },
	{ OPT_NORMALIZE_LOSS, "normalize-loss", NULL, NULL, "the reference's variant" },
	{ OPT_INIT_LOSS, "init-loss", NULL, NULL, "the reference's variant" },
	{ OPT_ETA_SCHEDULE, "eta-schedule", NULL, NULL, "the reference's variant" },
	{ OPT_IGNORE_LONE, "ignore-lone-nodes", NULL, NULL, "the reference's variant" },
	{ OPT_DYNAMIC_LAMBDA, "dynamic-lambda", NULL, NULL, "the reference's variant" },
	{ OPT_BINARY, "binary-graph", "yes|no|auto", "MODE",
	    "off-diagonal 1 becomes 0.5: yes, no or auto (default)" },
	{ OPT_FOLLOW, "follow", NULL, NULL, "flush each weights line at once (coprocess use)" },
	{ 'o', "output", "file", "FILE", "write to FILE atomically" },
	CLI_OPTIONS_END
};
static const struct cli_spec weights_spec = {
	"weights", "[file ...]",
	"Online mixture weights from evaluation losses (Skill-It).",
	weights_options, NULL
};

static const struct cli_option graph_options[] = {
	{ 'q', "quiet", NULL, NULL, "no summary on stderr" },
	{ OPT_METHOD, "method", "linear|relative|pairwise", "M",
	    "linear (default), relative or pairwise" },
	{ OPT_THRESHOLD, "threshold", "t", "T", "pairwise: the loss to reach (default 0.01)" },
	{ OPT_SKILLS, "skills", "names", "NAMES", "a,b,c or a file with one name per line" },
	{ 'o', "output", "file", "FILE", "write to FILE atomically (.npy: an array)" },
	CLI_OPTIONS_END
};
static const struct cli_spec graph_spec = {
	"graph", "[file ...]", "Estimate a skills graph from loss logs.", graph_options, NULL
};

static const struct cli_option sample_options[] = {
	{ 'q', "quiet", NULL, NULL, "no summary on stderr" },
	{ 'n', "count", "count", "N", "records per round (default 1000)" },
	{ OPT_WEIGHTS, "weights", "file|skill=w,...", "W", "the mixture: a file or skill=w,... (or --rounds)" },
	{ OPT_ROUNDS, "rounds", "file", "FILE", "a stream of weights records, one round each" },
	{ OPT_SKILL_FIELD, "skill-field", "name", "NAME", "the records' skill field (default skill)" },
	{ OPT_DRAW, "draw", "exact|iid", "exact|iid",
	    "floor(p n) each, the rest to the last (default), or iid" },
	{ OPT_REPLACE, "replace", NULL, NULL, "with replacement" },
	{ 's', "seed", "seed", "N", "random seed (default 0)" },
	{ 'o', "output", "file", "FILE", "write to FILE atomically" },
	CLI_OPTIONS_END
};
static const struct cli_spec sample_spec = {
	"sample", "[file ...]",
	"Sample a record stream to a mixture in one pass.",
	sample_options, NULL
};

/* Room for element n of an array of capacity *cap, doubling it when
 * full: one realloc per record made a million records take seconds
 * (and minutes under ASan, which copies on every realloc). */
static void *
grow(void *p, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 16;
	if (*cap <= n)
		*cap = n + 1;
	return xreallocarray(p, *cap, size);
}

/* ---- names ---- */

struct names {
	char **name;
	size_t n;
	struct htab *index;	/* hash of a name -> its number + 1 */
};

static long names_find(const struct names *nm, const char *s);

static void
names_add(struct names *nm, const char *s, const char *where)
{
	struct htab_slot *sl;
	int is_new;

	/* names are written into JSON records as they are */
	if (!rec_utf8_valid(s, strlen(s)))
		die("%s: skill name is not valid UTF-8", where);
	if (!nm->index)
		nm->index = htab_new(0, 64);
	if (names_find(nm, s) >= 0)
		die("%s: skill '%s' named twice", where, s);
	sl = htab_insert(nm->index, htab_hash(s, strlen(s), 0), &is_new);
	if (!is_new)
		die("%s: skills '%s' and '%s' share a 64-bit hash", where, s,
		    nm->name[sl->count - 1]);
	nm->name = xreallocarray(nm->name, nm->n + 1, sizeof *nm->name);
	nm->name[nm->n++] = xstrdup(s);
	sl->count = nm->n;
}

static long
names_find(const struct names *nm, const char *s)
{
	const struct htab_slot *sl;

	/* A loss record names every skill: with k = 1000 a scan per name
	 * was most of a round. */
	if (nm->index) {
		sl = htab_lookup(nm->index, htab_hash(s, strlen(s), 0));
		return sl && strcmp(nm->name[sl->count - 1], s) == 0 ? (long)sl->count - 1 : -1;
	}
	for (size_t i = 0; i < nm->n; i++)
		if (strcmp(nm->name[i], s) == 0)
			return (long)i;
	return -1;
}

static void
names_release(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->name[i]);
	free(nm->name);
	htab_free(nm->index);
	memset(nm, 0, sizeof *nm);
}

/* a,b,c or a file with one name per line. */
static void
names_from_arg(struct names *nm, const char *arg, const char *opt)
{
	FILE *fp;

	if (access(arg, F_OK) == 0 && (fp = fopen(arg, "r")) != NULL) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;
		unsigned long lineno = 0;

		while ((len = getline(&line, &cap, fp)) > 0) {
			char where[600];

			lineno++;
			while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
			    line[len - 1] == ' '))
				line[--len] = '\0';
			if (!len)
				continue;
			snprintf(where, sizeof where, "%s:%lu", arg, lineno);
			names_add(nm, line, where);
		}
		free(line);
		fclose(fp);
	} else {
		char *copy = xstrdup(arg), *cur = copy, *s;

		while ((s = cli_list_next(&cur, ',', opt, arg)) != NULL)
			names_add(nm, s, opt);
		free(copy);
	}
	if (!nm->n)
		usage_error("%s: no skill names in '%s'", opt, arg);
}

/* ---- reading a graph ---- */

struct graph {
	double *a;		/* k x m, row-major */
	size_t k, m;
	struct names rows, cols;
};

static void
graph_release(struct graph *g)
{
	free(g->a);
	names_release(&g->rows);
	names_release(&g->cols);
}

static void
names_from_json(struct names *nm, json_object *arr, const char *what, const char *path)
{
	if (!arr || !json_object_is_type(arr, json_type_array))
		die("%s: '%s' must be a list of names", arr ? conf_where(arr) : path, what);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);

		if (!e || !json_object_is_type(e, json_type_string))
			die("%s: '%s' must be a list of names", conf_where(arr), what);
		names_add(nm, json_object_get_string(e), conf_where(e));
	}
}

/* .npy, or JSON/YAML: a list of rows, or {"skills": [...] (or
 * "train_skills" and "eval_skills"), "graph": [[...], ...]}. */
static void
graph_load(struct graph *g, const char *path)
{
	size_t len = strlen(path);
	json_object *root, *rows, *v;

	memset(g, 0, sizeof *g);
	if (len > 4 && strcmp(path + len - 4, ".npy") == 0) {
		struct npy a;

		if (npy_open(&a, path) != 0)
			die("%s", loam_error());
		if (a.ndim != 2)
			die("%s: a graph must be a 2-d array, not %d-d", path, a.ndim);
		g->k = a.shape[0];
		g->m = a.shape[1];
		g->a = xreallocarray(NULL, g->k * g->m > 0 ? g->k * g->m : 1, sizeof *g->a);
		if (npy_read_f64(&a, g->a) != 0)
			die("%s", loam_error());
		npy_close(&a);
		return;
	}
	if (!(root = conf_load(path)))
		die("%s", loam_error());
	rows = root;
	if (json_object_is_type(root, json_type_object)) {
		if (!json_object_object_get_ex(root, "graph", &rows))
			die("%s: no 'graph' in %s", conf_where(root), path);
		if (json_object_object_get_ex(root, "skills", &v))
			names_from_json(&g->rows, v, "skills", path);
		if (json_object_object_get_ex(root, "train_skills", &v))
			names_from_json(&g->rows, v, "train_skills", path);
		if (json_object_object_get_ex(root, "eval_skills", &v))
			names_from_json(&g->cols, v, "eval_skills", path);
	}
	if (!rows || !json_object_is_type(rows, json_type_array) ||
	    json_object_array_length(rows) == 0)
		die("%s: the graph must be a non-empty list of rows", rows ? conf_where(rows) : path);
	g->k = json_object_array_length(rows);
	for (size_t i = 0; i < g->k; i++) {
		json_object *row = json_object_array_get_idx(rows, i);

		if (!row || !json_object_is_type(row, json_type_array))
			die("%s: row %zu is not a list", row ? conf_where(row) : path, i);
		if (i == 0) {
			g->m = json_object_array_length(row);
			g->a = xcalloc(g->k * (g->m ? g->m : 1), sizeof *g->a);
		}
		if (json_object_array_length(row) != g->m || g->m == 0)
			die("%s: row %zu has %zu entries, the first has %zu", conf_where(row), i,
			    json_object_array_length(row), g->m);
		for (size_t j = 0; j < g->m; j++) {
			json_object *e = json_object_array_get_idx(row, j);
			char name[64];

			snprintf(name, sizeof name, "graph[%zu][%zu]", i, j);
			if (!e || rec_json_double(e, name, &g->a[i * g->m + j]) != 0)
				die("%s: %s", e ? conf_where(e) : path, e ? loam_error() : "null entry");
		}
	}
	json_object_put(root);
}

/* skill=w,... or a file (map, or a weights record) into k weights in the
 * order of names; unnamed skills get 0. */
static double *
vector_from_arg(const char *arg, const struct names *nm, const char *opt)
{
	double *v = xcalloc(nm->n, sizeof *v);
	json_object *obj = NULL, *inner;

	if (strchr(arg, '=') && access(arg, F_OK) != 0) {
		char *copy = xstrdup(arg), *cur = copy, *item;

		while ((item = cli_list_next(&cur, ',', opt, arg)) != NULL) {
			char *eq = strchr(item, '=');
			long i;

			if (!eq || eq == item)
				usage_error("%s: '%s' is not skill=weight", opt, item);
			*eq = '\0';
			if ((i = names_find(nm, item)) < 0)
				usage_error("%s: unknown skill '%s'", opt, item);
			v[i] = cli_parse_double(opt, eq + 1, 0, 1e300);
		}
		free(copy);
		return v;
	}
	if (!(obj = conf_load(arg)))
		die("%s", loam_error());
	if (json_object_is_type(obj, json_type_object) &&
	    json_object_object_get_ex(obj, "weights", &inner))
		obj = inner;
	if (!json_object_is_type(obj, json_type_object))
		die("%s: expected a map of skills to weights", arg);
	json_object_object_foreach(obj, key, val) {
		long i = names_find(nm, key);

		if (i < 0)
			die("%s: unknown skill '%s'", conf_where(val), key);
		if (!val || rec_json_double(val, key, &v[i]) != 0)
			die("%s: skill '%s': expected a number", conf_where(val), key);
	}
	json_object_put(obj);
	return v;
}

/* ---- weights ---- */

struct weights_args {
	const char *graph, *skills, *eval_skills, *target, *prior, *init;
	int follow;
};

struct weights {
	struct graph g;
	struct skillit s;
	size_t *target;
	double *prior, *init;
	struct recw w;
	double *loss, *p;	/* an evaluation's losses (m), the mixture (k) */
	long round;
	int pending;		/* per-skill records of an evaluation are due */
	int64_t pending_eval, pending_step;
};

static void
weights_release(struct weights *wt)
{
	skillit_release(&wt->s);
	graph_release(&wt->g);
	free(wt->target);
	free(wt->prior);
	free(wt->init);
	free(wt->loss);
	free(wt->p);
	recw_release(&wt->w);
}

static void
weights_option(int c, const char *arg, struct weights_args *a, struct skillit_opts *so)
{
	static const char *const aggs[] = { "sum", "mean" };
	static const char *const modes[] = { "yes", "no", "auto" };
	static const int binary[] = {
		SKILLIT_BINARY_YES, SKILLIT_BINARY_NO, SKILLIT_BINARY_AUTO,
	};

	switch (c) {
	case OPT_GRAPH: a->graph = arg; break;
	case OPT_SKILLS: a->skills = arg; break;
	case OPT_EVAL_SKILLS: a->eval_skills = arg; break;
	case OPT_ETA: so->eta = cli_parse_double("--eta", arg, 0, 1e12); break;
	case OPT_WINDOW: so->window = cli_parse_u64("--window", arg, 0, 1000000); break;
	case OPT_AGG:
		so->agg = cli_parse_choice("--agg", arg, aggs, 2) == 0 ?
		    SKILLIT_AGG_SUM : SKILLIT_AGG_MEAN;
		break;
	case OPT_TARGET: a->target = arg; break;
	case OPT_STATIC: so->static_mix = 1; break;
	case OPT_PRIOR: a->prior = arg; break;
	case OPT_INIT: a->init = arg; break;
	case OPT_NORMALIZE_LOSS: so->normalize_loss = 1; break;
	case OPT_INIT_LOSS: so->init_loss = 1; break;
	case OPT_ETA_SCHEDULE: so->eta_schedule = 1; break;
	case OPT_IGNORE_LONE: so->ignore_lone_nodes = 1; break;
	case OPT_DYNAMIC_LAMBDA: so->dynamic_lambda = 1; break;
	case OPT_BINARY:
		so->binary = binary[cli_parse_choice("--binary-graph", arg, modes, 3)];
		break;
	case OPT_FOLLOW: a->follow = 1; break;
	}
}

/* The graph with its row and column names, and the options that name
 * skills, into wt and so. */
static void
weights_prepare(struct weights *wt, const struct weights_args *a, struct skillit_opts *so)
{
	struct graph *g = &wt->g;

	graph_load(g, a->graph);
	if (a->skills) {
		names_release(&g->rows);
		names_from_arg(&g->rows, a->skills, "--skills");
	}
	if (a->eval_skills) {
		names_release(&g->cols);
		names_from_arg(&g->cols, a->eval_skills, "--eval-skills");
	}
	if (!g->rows.n)
		usage_error("%s has no skill names: give --skills", a->graph);
	if (g->rows.n != g->k)
		die("%s: %zu rows but %zu skill names", a->graph, g->k, g->rows.n);
	if (!g->cols.n && g->m == g->k)
		for (size_t i = 0; i < g->k; i++)
			names_add(&g->cols, g->rows.name[i], "--skills");
	if (g->cols.n != g->m)
		die("%s: %zu columns but %zu evaluation skill names%s", a->graph, g->m,
		    g->cols.n, g->m != g->k ? " (give --eval-skills)" : "");
	if (a->target) {
		struct names t = { 0 };

		names_from_arg(&t, a->target, "--target");
		wt->target = xcalloc(t.n, sizeof *wt->target);
		for (size_t i = 0; i < t.n; i++) {
			long j = names_find(&g->cols, t.name[i]);

			if (j < 0)
				usage_error("--target: unknown skill '%s'", t.name[i]);
			wt->target[i] = (size_t)j;
		}
		so->target = wt->target;
		so->ntarget = t.n;
		names_release(&t);
	}
	if (a->prior)
		so->prior = wt->prior = vector_from_arg(a->prior, &g->rows, "--prior");
	if (a->init)
		so->init = wt->init = vector_from_arg(a->init, &g->rows, "--init");
}

static void
put_weights(struct weights *wt, int64_t step, int has_step, const double *p)
{
	const struct names *nm = &wt->g.rows;

	recw_begin(&wt->w);
	recw_int(&wt->w, "round", wt->round++);
	if (has_step)
		recw_int(&wt->w, "step", step);
	recw_object(&wt->w, "weights");
	for (size_t i = 0; i < nm->n; i++)
		recw_double(&wt->w, nm->name[i], p[i]);
	recw_close(&wt->w);
	if (recw_end(&wt->w) != 0)
		die("%s", loam_error());
}

/* Whether full-graph column j enters the mixture (the targets, or all). */
static int
column_used(const struct skillit *s, size_t j)
{
	for (size_t i = 0; i < s->m; i++)
		if (s->col[i] == j)
			return 1;
	return 0;
}

/* One record per evaluation: {"step":S,"losses":{skill: loss, ...}}. */
static int
weights_eval(struct weights *wt, struct rec *r, json_object *losses, int64_t step,
    int has_step)
{
	if (wt->pending)
		return rec_errorf(r, "an evaluation record while per-skill records of "
		    "evaluation %lld are incomplete", (long long)wt->pending_eval);
	for (size_t j = 0; j < wt->g.m; j++)
		wt->loss[j] = NAN;
	json_object_object_foreach(losses, key, val) {
		long j = names_find(&wt->g.cols, key);

		if (j < 0)
			return rec_errorf(r, "losses: unknown skill '%s'", key);
		if (!val || rec_json_double(val, key, &wt->loss[j]) != 0)
			return rec_errorf(r, "losses: %s", val ? loam_error() : "null loss");
	}
	if (skillit_update(&wt->s, wt->loss, wt->p) != 0)
		return rec_errorf(r, "%s", loam_error());
	put_weights(wt, step, has_step, wt->p);
	return 0;
}

/* One record per skill: {"eval":E,"skill":name,"loss":x}.  An evaluation
 * is complete when every skill in use has reported, so that --follow
 * answers at once. */
static int
weights_part(struct weights *wt, struct rec *r, int64_t step, int has_step)
{
	const char *name;
	int64_t eval;
	double x;
	size_t missing = 0;
	long j;

	if (rec_get_int(r, "eval", &eval) != REC_OK ||
	    rec_get_str(r, "skill", &name, NULL) != REC_OK ||
	    rec_get_double(r, "loss", &x) != REC_OK)
		return rec_errorf(r, "expected {\"step\":S,\"losses\":{...}} or "
		    "{\"eval\":E,\"skill\":name,\"loss\":x}");
	if ((j = names_find(&wt->g.cols, name)) < 0)
		return rec_errorf(r, "unknown skill '%s'", name);
	if (wt->pending && eval != wt->pending_eval)
		return rec_errorf(r, "evaluation %lld is incomplete when %lld begins",
		    (long long)wt->pending_eval, (long long)eval);
	if (!wt->pending) {
		for (size_t i = 0; i < wt->g.m; i++)
			wt->loss[i] = NAN;
		wt->pending = 1;
		wt->pending_eval = eval;
		wt->pending_step = has_step ? step : eval;
	}
	wt->loss[j] = x;
	for (size_t i = 0; i < wt->g.m; i++)
		if (isnan(wt->loss[i]) && column_used(&wt->s, i))
			missing++;
	if (missing == 0) {
		if (skillit_update(&wt->s, wt->loss, wt->p) != 0)
			return rec_errorf(r, "%s", loam_error());
		put_weights(wt, wt->pending_step, 1, wt->p);
		wt->pending = 0;
	}
	return 0;
}

static int
weights_one(struct rec *r, void *arg)
{
	struct weights *wt = arg;
	json_object *losses;
	int64_t step = 0;
	int rc, has_step;

	rc = rec_get_int(r, "step", &step);
	if (rc == REC_BAD)
		return rec_errorf(r, "%s", loam_error());
	has_step = rc == REC_OK;
	rc = rec_get_object(r, "losses", &losses);
	if (rc == REC_BAD)
		return rec_errorf(r, "%s", loam_error());
	if (rc == REC_OK)
		return weights_eval(wt, r, losses, step, has_step);
	return weights_part(wt, r, step, has_step);
}

static int
cmd_weights(int argc, char *argv[])
{
	struct cli_opts o;
	struct skillit_opts so;
	struct weights_args a = { 0 };
	struct weights wt = { 0 };
	struct cli_out out;
	struct stream st;
	const char *arg;
	int c;

	cli_begin(&o, argc, argv, &weights_spec, 0);
	skillit_opts_default(&so);
	while ((c = cli_next(&o, &arg)) != -1)
		weights_option(c, arg, &a, &so);
	if (!a.graph)
		usage_error("--graph is required");
	weights_prepare(&wt, &a, &so);
	if (skillit_init(&wt.s, wt.g.a, wt.g.k, wt.g.m, &so) != 0)
		die("%s", loam_error());

	recw_init(&wt.w, cli_out_open(&out, o.output), o.output);
	wt.w.unbuffered = a.follow;
	put_weights(&wt, 0, 0, skillit_weights(&wt.s));
	wt.loss = xcalloc(wt.g.m, sizeof *wt.loss);
	wt.p = xcalloc(wt.g.k, sizeof *wt.p);
	if (!so.static_mix) {
		stream_init(&st, &o);
		stream_run(&st, o.argc, o.argv, weights_one, &wt);
	}
	if (wt.pending)
		die("evaluation %lld is incomplete at the end of the input",
		    (long long)wt.pending_eval);
	cli_out_commit(&out);
	weights_release(&wt);
	return cli_exit();
}

/* ---- graph ---- */

enum { METHOD_LINEAR, METHOD_RELATIVE, METHOD_PAIRWISE };

struct loss_entry {
	long a, b;		/* trained on a (and b, or -1) */
	long skill;
	double x, y;		/* before/after, or step/loss */
};

struct loss_log {
	int method;
	int fixed;		/* skills named by --skills: no others */
	struct names nm;
	struct loss_entry *e;
	size_t ne, ecap;
};

/* The number of skill name, added unless --skills fixed them; -1 with
 * the record's error when it is unknown. */
static long
skill_index(struct loss_log *lg, const char *name, const struct rec *r)
{
	long i = names_find(&lg->nm, name);

	if (i >= 0)
		return i;
	if (lg->fixed)
		return rec_errorf(r, "unknown skill '%s' (not in --skills)", name);
	names_add(&lg->nm, name, "input");
	return (long)lg->nm.n - 1;
}

/* "trained_on": a skill, or a list of one or two, into x->a and x->b. */
static int
trained_on(struct loss_log *lg, struct rec *r, struct loss_entry *x)
{
	json_object *on;

	if (rec_get(r, "trained_on", &on) != REC_OK || !on)
		return rec_errorf(r, "field 'trained_on' missing");
	if (json_object_is_type(on, json_type_string))
		return (x->a = skill_index(lg, json_object_get_string(on), r)) < 0 ? -1 : 0;
	if (!json_object_is_type(on, json_type_array) ||
	    json_object_array_length(on) < 1 || json_object_array_length(on) > 2)
		return rec_errorf(r, "'trained_on' must be a skill or a list of one or two");
	for (size_t i = 0; i < json_object_array_length(on); i++) {
		json_object *s = json_object_array_get_idx(on, i);

		if (!s || !json_object_is_type(s, json_type_string))
			return rec_errorf(r, "'trained_on' must name skills");
		if ((*(i ? &x->b : &x->a) = skill_index(lg, json_object_get_string(s), r)) < 0)
			return -1;
	}
	return 0;
}

static int
graph_one(struct rec *r, void *arg)
{
	struct loss_log *lg = arg;
	struct loss_entry x = { -1, -1, -1, 0, 0 };
	const char *name;

	if (trained_on(lg, r, &x) != 0)
		return -1;
	if (rec_get_str(r, "skill", &name, NULL) != REC_OK)
		return rec_errorf(r, "field 'skill' missing");
	if ((x.skill = skill_index(lg, name, r)) < 0)
		return -1;
	if (lg->method == METHOD_PAIRWISE) {
		if (rec_get_double(r, "step", &x.x) != REC_OK ||
		    rec_get_double(r, "loss", &x.y) != REC_OK)
			return rec_errorf(r, "pairwise needs numbers 'step' and 'loss'");
		if (x.b >= 0 && x.b != x.skill && x.a != x.skill)
			return rec_errorf(r, "a pair's curve must be measured on one of its skills");
		/* Normalise pairs to (other, measured). */
		if (x.b >= 0 && x.a == x.skill) {
			x.a = x.b;
			x.b = x.skill;
		}
	} else {
		if (x.b >= 0)
			return rec_errorf(r, "linear and relative take runs on one skill");
		if (rec_get_double(r, "before", &x.x) != REC_OK ||
		    rec_get_double(r, "after", &x.y) != REC_OK)
			return rec_errorf(r, "%s needs numbers 'before' and 'after'",
			    lg->method == METHOD_LINEAR ? "linear" : "relative");
	}
	lg->e = grow(lg->e, lg->ne, &lg->ecap, sizeof *lg->e);
	lg->e[lg->ne++] = x;
	return 0;
}

/* linear and relative: one run per (trained on, measured on) pair. */
static void
graph_from_runs(const struct loss_log *lg, double *graph)
{
	size_t k = lg->nm.n;
	double *before = xcalloc(k * k, sizeof *before);
	double *after = xcalloc(k * k, sizeof *after);
	unsigned char *seen = xcalloc(k * k, 1);

	for (size_t i = 0; i < lg->ne; i++) {
		const struct loss_entry *e = &lg->e[i];
		size_t at = (size_t)e->a * k + (size_t)e->skill;

		if (seen[at]++)
			die("trained on '%s', measured on '%s': given twice",
			    lg->nm.name[e->a], lg->nm.name[e->skill]);
		before[at] = e->x;
		after[at] = e->y;
	}
	for (size_t i = 0; i < k * k; i++)
		if (!seen[i])
			die("no run trained on '%s' measured on '%s'", lg->nm.name[i / k],
			    lg->nm.name[i % k]);
	if (skillit_graph_linear(k, k, before, after, lg->method == METHOD_RELATIVE,
	    graph) != 0)
		die("%s", loam_error());
	free(before);
	free(after);
	free(seen);
}

static int
cmp_step(const void *p, const void *q)
{
	const struct loss_entry *a = p, *b = q;

	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	if (a->b != b->b)
		return a->b < b->b ? -1 : 1;
	if (a->skill != b->skill)
		return a->skill < b->skill ? -1 : 1;
	return (a->x > b->x) - (a->x < b->x);
}

/* pairwise: the steps each curve (alone, or in a pair) takes to reach
 * threshold.  Sorts the log. */
static void
graph_from_curves(struct loss_log *lg, double threshold, double *graph)
{
	size_t k = lg->nm.n, ne = lg->ne, i = 0;
	struct loss_entry *e = lg->e;
	double *alone = xcalloc(k, sizeof *alone);
	double *pair = xcalloc(k * k, sizeof *pair);

	for (size_t j = 0; j < k; j++)
		alone[j] = INFINITY;
	for (size_t j = 0; j < k * k; j++)
		pair[j] = INFINITY;
	qsort(e, ne, sizeof *e, cmp_step);
	while (i < ne) {
		size_t start = i, n;
		double *step, *loss, t;

		while (i < ne && e[i].a == e[start].a && e[i].b == e[start].b &&
		    e[i].skill == e[start].skill)
			i++;
		n = i - start;
		step = xcalloc(n, sizeof *step);
		loss = xcalloc(n, sizeof *loss);
		for (size_t q = 0; q < n; q++) {
			step[q] = e[start + q].x;
			loss[q] = e[start + q].y;
		}
		t = skillit_steps_to_threshold(step, loss, n, threshold);
		if (e[start].b < 0 && e[start].a == e[start].skill)
			alone[e[start].skill] = t;
		else if (e[start].b >= 0)
			/* Counted in data on the measured skill, as the paper
			 * compares them: a balanced pair run sees half. */
			pair[(size_t)e[start].a * k + (size_t)e[start].skill] = t / 2;
		free(step);
		free(loss);
	}
	if (skillit_graph_pairwise(k, alone, pair, NULL, graph) != 0)
		die("%s", loam_error());
	free(alone);
	free(pair);
}

/* .npy by the output's name, else {"skills":[...],"graph":[[...],...]}. */
static void
graph_write(const char *path, const struct names *nm, const double *graph)
{
	size_t k = nm->n;
	struct cli_out out;
	struct recw w;

	if (path && strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".npy") == 0) {
		size_t shape[2] = { k, k };

		if (npy_write(path, NPY_F8, 2, shape, graph) != 0)
			die("%s", loam_error());
		return;
	}
	recw_init(&w, cli_out_open(&out, path), path);
	recw_begin(&w);
	recw_array(&w, "skills");
	for (size_t i = 0; i < k; i++)
		recw_str(&w, NULL, nm->name[i]);
	recw_close(&w);
	recw_array(&w, "graph");
	for (size_t i = 0; i < k; i++)
		recw_doubles(&w, NULL, graph + i * k, k);
	recw_close(&w);
	if (recw_end(&w) != 0)
		die("%s", loam_error());
	cli_out_commit(&out);
	recw_release(&w);
}

static int
cmd_graph(int argc, char *argv[])
{
	static const char *const methods[] = { "linear", "relative", "pairwise" };
	struct cli_opts o;
	struct loss_log lg = { 0 };
	struct stream st;
	double threshold = SKILLIT_THRESHOLD, density, *graph;
	size_t k, edges, possible;
	const char *arg;
	int c;

	cli_begin(&o, argc, argv, &graph_spec, 0);
	while ((c = cli_next(&o, &arg)) != -1) {
		switch (c) {
		case OPT_METHOD:
			lg.method = cli_parse_choice("--method", arg, methods, 3);
			break;
		case OPT_THRESHOLD:
			threshold = cli_parse_double("--threshold", arg, -1e300, 1e300);
			break;
		case OPT_SKILLS:
			names_from_arg(&lg.nm, arg, "--skills");
			lg.fixed = 1;
			break;
		}
	}
	stream_init(&st, &o);
	stream_run(&st, o.argc, o.argv, graph_one, &lg);
	if (!(k = lg.nm.n))
		die("no loss records");
	graph = xcalloc(k * k, sizeof *graph);
	if (lg.method == METHOD_PAIRWISE)
		graph_from_curves(&lg, threshold, graph);
	else
		graph_from_runs(&lg, graph);

	density = skillit_graph_density(graph, k, k, &edges, &possible);
	if (!o.quiet)
		note("graph density %.1f%% (%zu of %zu possible edges)", 100 * density, edges, possible);
	if (skillit_graph_shape(density) == SKILLIT_GRAPH_NEARLY_EMPTY)
		note("warning: the graph is nearly empty: Skill-It will sample by loss alone");
	else if (skillit_graph_shape(density) == SKILLIT_GRAPH_NEARLY_COMPLETE)
		note("warning: the graph is nearly complete: Skill-It will act as stratified sampling");
	graph_write(o.output, &lg.nm, graph);
	free(graph);
	free(lg.e);
	names_release(&lg.nm);
	return cli_exit();
}

/* ---- sample ---- */

/* A mixture: skills (in order) and their weights. */
struct mixture {
	char **skill;
	double *p;
	size_t k;
};

static void
mixture_add(struct mixture *mx, const char *skill, double p, const char *where)
{
	for (size_t i = 0; i < mx->k; i++)
		if (strcmp(mx->skill[i], skill) == 0)
			die("%s: skill '%s' given twice", where, skill);
	if (!(p >= 0) || !isfinite(p))
		die("%s: skill '%s': weight must be a number >= 0", where, skill);
	mx->skill = xreallocarray(mx->skill, mx->k + 1, sizeof *mx->skill);
	mx->p = xreallocarray(mx->p, mx->k + 1, sizeof *mx->p);
	mx->skill[mx->k] = xstrdup(skill);
	mx->p[mx->k++] = p;
}

static void
mixture_release(struct mixture *mx)
{
	for (size_t i = 0; i < mx->k; i++)
		free(mx->skill[i]);
	free(mx->skill);
	free(mx->p);
	memset(mx, 0, sizeof *mx);
}

/* {"skill": weight, ...}, or a weights record {"weights": {...}}. */
static void
mixture_from_json(struct mixture *mx, json_object *obj, const char *where)
{
	json_object *inner;

	if (json_object_is_type(obj, json_type_object) &&
	    json_object_object_get_ex(obj, "weights", &inner) &&
	    json_object_is_type(inner, json_type_object))
		obj = inner;
	if (!json_object_is_type(obj, json_type_object))
		die("%s: expected a map of skills to weights", where);
	json_object_object_foreach(obj, skill, val) {
		double p;

		if (!val || rec_json_double(val, skill, &p) != 0)
			die("%s: skill '%s': weight must be a number >= 0", where, skill);
		mixture_add(mx, skill, p, where);
	}
	if (mx->k == 0)
		die("%s: no skills", where);
}

/* --weights a=0.2,b=0.8 or --weights FILE. */
static void
mixture_from_arg(struct mixture *mx, const char *arg)
{
	json_object *obj;

	if (strchr(arg, '=') && access(arg, F_OK) != 0) {
		char *copy = xstrdup(arg), *cur = copy, *item;

		while ((item = cli_list_next(&cur, ',', "--weights", arg)) != NULL) {
			char *eq = strchr(item, '=');

			if (!eq || eq == item)
				usage_error("--weights: '%s' is not skill=weight", item);
			*eq = '\0';
			mixture_add(mx, item, cli_parse_double("--weights", eq + 1, 0, 1e300), "--weights");
		}
		free(copy);
		if (mx->k == 0)
			usage_error("--weights: no skills in '%s'", arg);
		return;
	}
	if (!(obj = conf_load(arg)))
		die("%s", loam_error());
	mixture_from_json(mx, obj, arg);
	json_object_put(obj);
}

/* Rounds from --rounds: one weights record each. */
struct rounds {
	struct mixture *round;
	size_t n, cap;
};

static int
rounds_one(struct rec *r, void *arg)
{
	struct rounds *rs = arg;
	json_object *w;

	if (rec_get_object(r, "weights", &w) != REC_OK)
		return rec_errorf(r, "field 'weights': expected a map of skills to weights");
	rs->round = grow(rs->round, rs->n, &rs->cap, sizeof *rs->round);
	memset(&rs->round[rs->n], 0, sizeof *rs->round);
	mixture_from_json(&rs->round[rs->n++], w, rec_where(r));
	return 0;
}

struct sampler {
	const char *field;	/* the records' skill field */
	struct htab *index;	/* a skill's 64-bit hash -> its number + 1 */
	const char **skill;	/* the rounds' skills, each once (borrowed) */
	size_t k, skillcap;
	struct skillit_sample ss;
};

/* Number the skills of every round, checking each hash hit against the
 * name. */
static void
sampler_index(struct sampler *sp, const struct rounds *rs)
{
	sp->index = htab_new(0, 64);
	for (size_t t = 0; t < rs->n; t++)
		for (size_t i = 0; i < rs->round[t].k; i++) {
			const char *name = rs->round[t].skill[i];
			int is_new;
			struct htab_slot *sl = htab_insert(sp->index,
			    htab_hash(name, strlen(name), 0), &is_new);

			if (is_new) {
				sp->skill = grow(sp->skill, sp->k, &sp->skillcap, sizeof *sp->skill);
				sp->skill[sp->k] = name;
				sl->count = ++sp->k;
			} else if (strcmp(sp->skill[sl->count - 1], name) != 0)
				die("skills '%s' and '%s' share a 64-bit hash", name,
				    sp->skill[sl->count - 1]);
		}
}

/* The number of skill name, or -1 when no round asks for it. */
static long
sampler_find(const struct sampler *sp, const char *name, size_t len)
{
	const struct htab_slot *sl = htab_lookup(sp->index, htab_hash(name, len, 0));

	if (!sl || strcmp(sp->skill[sl->count - 1], name) != 0)
		return -1;
	return (long)sl->count - 1;
}

static int
sample_one(struct rec *r, void *arg)
{
	struct sampler *sp = arg;
	const char *name, *text;
	size_t len, namelen;
	long s;
	int rc = rec_get_str(r, sp->field, &name, &namelen);

	if (rc == REC_ABSENT)
		return rec_errorf(r, "field '%s' missing", sp->field);
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	if ((s = sampler_find(sp, name, namelen)) < 0)
		return 0;	/* a skill no round asks for */
	text = rec_to_string(r, &len);
	skillit_sample_offer(&sp->ss, (size_t)s, text, len);
	return 0;
}

/* The reservoirs: each round's counts (n records) over the skills. */
static void
sampler_start(struct sampler *sp, const struct rounds *rs, uint64_t n, int iid,
    int replace, uint64_t seed)
{
	uint64_t *count = xcalloc(rs->n * sp->k > 0 ? rs->n * sp->k : 1, sizeof *count);

	for (size_t t = 0; t < rs->n; t++) {
		const struct mixture *mx = &rs->round[t];
		uint64_t *c = xcalloc(mx->k, sizeof *c);

		if (skillit_round_counts(mx->p, mx->k, n, iid, seed, t, c) != 0)
			die("%s", loam_error());
		for (size_t i = 0; i < mx->k; i++)
			count[t * sp->k + (size_t)sampler_find(sp, mx->skill[i],
			    strlen(mx->skill[i]))] = c[i];
		free(c);
	}
	skillit_sample_init(&sp->ss, rs->n, sp->k, count, replace, seed);
	free(count);
}

/* Round t's records, in their shuffled order; tagged with the round
 * when rounds come from a stream. */
static void
sampler_write(const struct sampler *sp, size_t t, int tag, struct recw *w)
{
	struct reservoir_item **all;
	size_t m;

	for (size_t s = 0; s < sp->k; s++) {
		const struct reservoir *v = skillit_sample_at(&sp->ss, t, s);
		uint64_t have = reservoir_filled(v);

		if (have < v->cap)
			note("round %zu: skill '%s': %llu record%s, %llu wanted",
			    t, sp->skill[s], (unsigned long long)have, have == 1 ? "" : "s",
			    (unsigned long long)v->cap);
	}
	all = skillit_sample_round(&sp->ss, t, &m);
	for (size_t i = 0; i < m; i++) {
		struct rec *r = rec_parse(all[i]->text, all[i]->len, "sample", 0);

		if (!r || (tag && rec_set_int(r, "round", (int64_t)t) != 0))
			die("%s", loam_error());
		recw_rec(w, r);
		rec_free(r);
	}
	free(all);
}

static int
cmd_sample(int argc, char *argv[])
{
	static const char *const draws[] = { "exact", "iid" };
	struct cli_opts o;
	struct rounds rs = { 0 };
	struct sampler sp = { 0 };
	uint64_t n = 1000;
	const char *weights = NULL, *rounds = NULL, *arg;
	int c, iid = 0, replace = 0;
	struct cli_out out;
	struct stream st;
	struct recw w;

	sp.field = "skill";
	cli_begin(&o, argc, argv, &sample_spec, 0);
	while ((c = cli_next(&o, &arg)) != -1) {
		switch (c) {
		case 'n': n = cli_parse_u64("--count", arg, 0, UINT32_MAX); break;
		case OPT_WEIGHTS: weights = arg; break;
		case OPT_ROUNDS: rounds = arg; break;
		case OPT_SKILL_FIELD: sp.field = arg; break;
		case OPT_DRAW: iid = cli_parse_choice("--draw", arg, draws, 2); break;
		case OPT_REPLACE: replace = 1; break;
		}
	}
	if (!weights == !rounds)
		usage_error("give one of --weights and --rounds");
	if (weights) {
		rs.round = xcalloc(1, sizeof *rs.round);
		mixture_from_arg(&rs.round[0], weights);
		rs.n = 1;
	} else {
		stream_init(&st, &o);
		stream_file(&st, rounds, rounds_one, &rs);
		stream_end(&st);
		if (!rs.n)
			die("%s: no rounds", rounds);
	}
	sampler_index(&sp, &rs);
	sampler_start(&sp, &rs, n, iid, replace, o.seed);

	stream_init(&st, &o);
	st.what = "records";
	st.summary = 1;
	stream_run(&st, o.argc, o.argv, sample_one, &sp);

	recw_init(&w, cli_out_open(&out, o.output), o.output);
	for (size_t t = 0; t < rs.n; t++)
		sampler_write(&sp, t, rounds != NULL, &w);
	cli_out_commit(&out);
	recw_release(&w);

	skillit_sample_release(&sp.ss);
	free(sp.skill);
	htab_free(sp.index);
	for (size_t t = 0; t < rs.n; t++)
		mixture_release(&rs.round[t]);
	free(rs.round);
	return cli_exit();
}

int
main(int argc, char *argv[])
{
	static const struct cli_command commands[] = {
		{ "weights", cmd_weights, &weights_spec },
		{ "graph", cmd_graph, &graph_spec },
		{ "sample", cmd_sample, &sample_spec },
	};

	return cli_subcommand(argc, argv, commands, sizeof commands / sizeof *commands,
	    NULL, NULL, "Each command's options: skillit-mix COMMAND --help.\n");
}
