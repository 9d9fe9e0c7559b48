/*
 * skillit-mix - Skill-It's skills graphs, online mixture weights, and
 * one-pass sampling of a record stream to a mixture (Chen et al.,
 * NeurIPS 2023); see skillit-mix(1).
 *
 * The mixture rule, graph estimation and the closed-loop model live in
 * lib/skillit.c; this file reads graphs, evaluations and records, and
 * keeps the per-skill reservoirs of `sample`.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/printbuf.h>

#include "cli.h"
#include "conf.h"
#include "htab.h"
#include "npy.h"
#include "rec.h"
#include "rng.h"
#include "skillit.h"

static const char usage[] =
    "usage: skillit-mix weights [-q] --graph file [--skills names] [--eval-skills names]\n"
    "                           [--eta e] [--window w] [--agg sum|mean] [--target skill,...]\n"
    "                           [--static] [--prior skill=w,...] [--init skill=w,...]\n"
    "                           [--normalize-loss] [--init-loss] [--eta-schedule]\n"
    "                           [--ignore-lone-nodes] [--dynamic-lambda]\n"
    "                           [--binary-graph yes|no|auto] [--follow] [-o file] [file ...]\n"
    "       skillit-mix graph [-q] [--method linear|relative|pairwise] [--threshold t]\n"
    "                         [--skills names] [-o file] [file ...]\n"
    "       skillit-mix sample [-q] [-n count] --weights file|skill=w,... | --rounds file\n"
    "                          [--skill-field name] [--draw exact|iid] [--replace]\n"
    "                          [-s seed] [-o file] [file ...]\n";
static const char help[] =
    "Commands:\n"
    "  weights   online mixture weights from evaluation losses (Skill-It Algorithm 1)\n"
    "  graph     estimate a skills graph from loss logs\n"
    "  sample    sample a record stream to a mixture in one pass\n"
    "Options (see skillit-mix(1) for the details):\n"
    "  --graph FILE          .npy, or JSON/YAML {\"skills\":[...],\"graph\":[[...]]}\n"
    "  --skills NAMES        a,b,c or a file with one name per line\n"
    "  --eval-skills NAMES   column names of a graph that is not square\n"
    "  --eta E               step size (default 0.2)\n"
    "  --window W            evaluations that count (default 3; 0 = all)\n"
    "  --agg sum|mean        aggregate of the window (default: sum, mean with --target)\n"
    "  --target SKILLS       fine-tuning: the evaluation skills that matter\n"
    "  --static              one mixture from the graph alone (T = 1)\n"
    "  --prior, --init       skill=weight,... (or a file)\n"
    "  --normalize-loss, --init-loss, --eta-schedule, --ignore-lone-nodes,\n"
    "  --dynamic-lambda      the reference's variants\n"
    "  --binary-graph MODE   off-diagonal 1 becomes 0.5: yes, no or auto (default)\n"
    "  --follow              flush each weights line at once (coprocess use)\n"
    "  --method M            graph: linear (default), relative or pairwise\n"
    "  --threshold T         graph pairwise: the loss to reach (default 0.01)\n"
    "  -n, --count N         sample: records per round (default 1000)\n"
    "  --weights W           sample: file or skill=w,...\n"
    "  --rounds FILE         sample: a stream of weights records, one round each\n"
    "  --skill-field NAME    sample: the records' skill field (default skill)\n"
    "  --draw exact|iid      sample: floor(p n) per skill, remainder to the last\n"
    "                        (default), or independent draws\n"
    "  --replace             sample: with replacement\n"
    "  -s, --seed N          random seed (default 0)\n"
    "  -o, --output FILE     write to FILE atomically\n"
    "  -q, --quiet           no summary on stderr\n"
    "  -h, --help            this help\n"
    "  -V, --version         print the version\n";

enum {
	OPT_GRAPH = 256, OPT_SKILLS, OPT_EVAL_SKILLS, OPT_ETA, OPT_WINDOW, OPT_AGG,
	OPT_TARGET, OPT_STATIC, OPT_PRIOR, OPT_INIT, OPT_NORMALIZE_LOSS,
	OPT_INIT_LOSS, OPT_ETA_SCHEDULE, OPT_IGNORE_LONE, OPT_DYNAMIC_LAMBDA,
	OPT_BINARY, OPT_FOLLOW, OPT_METHOD, OPT_THRESHOLD, OPT_WEIGHTS,
	OPT_ROUNDS, OPT_SKILL_FIELD, OPT_DRAW, OPT_REPLACE,
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

/* Whether full-graph column j enters the mixture (the targets, or all). */
static int
column_used(const struct skillit *s, size_t j)
{
	for (size_t i = 0; i < s->m; i++)
		if (s->col[i] == j)
			return 1;
	return 0;
}

static void
put_weights(FILE *fp, const char *outname, struct printbuf *pb, long round, int64_t step,
    int has_step, const struct names *nm, const double *p, int follow)
{
	char num[40];
	int n;

	printbuf_reset(pb);
	n = snprintf(num, sizeof num, "{\"round\":%ld", round);
	printbuf_memappend(pb, num, n);
	if (has_step) {
		n = snprintf(num, sizeof num, ",\"step\":%lld", (long long)step);
		printbuf_memappend(pb, num, n);
	}
	printbuf_memappend(pb, ",\"weights\":{", 12);
	for (size_t i = 0; i < nm->n; i++) {
		if (i)
			printbuf_memappend(pb, ",", 1);
		rec_escape_string(pb, nm->name[i], strlen(nm->name[i]));
		n = snprintf(num, sizeof num, ":%.17g", p[i]);
		printbuf_memappend(pb, num, n);
	}
	printbuf_memappend(pb, "}}\n", 3);
	if (fwrite(pb->buf, 1, (size_t)pb->bpos, fp) != (size_t)pb->bpos)
		cli_write_failed(outname);
	if (follow && fflush(fp) != 0)
		cli_write_failed(outname);
}

static int
cmd_weights(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "graph", required_argument, NULL, OPT_GRAPH },
		{ "skills", required_argument, NULL, OPT_SKILLS },
		{ "eval-skills", required_argument, NULL, OPT_EVAL_SKILLS },
		{ "eta", required_argument, NULL, OPT_ETA },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "agg", required_argument, NULL, OPT_AGG },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "static", no_argument, NULL, OPT_STATIC },
		{ "prior", required_argument, NULL, OPT_PRIOR },
		{ "init", required_argument, NULL, OPT_INIT },
		{ "normalize-loss", no_argument, NULL, OPT_NORMALIZE_LOSS },
		{ "init-loss", no_argument, NULL, OPT_INIT_LOSS },
		{ "eta-schedule", no_argument, NULL, OPT_ETA_SCHEDULE },
		{ "ignore-lone-nodes", no_argument, NULL, OPT_IGNORE_LONE },
		{ "dynamic-lambda", no_argument, NULL, OPT_DYNAMIC_LAMBDA },
		{ "binary-graph", required_argument, NULL, OPT_BINARY },
		{ "follow", no_argument, NULL, OPT_FOLLOW },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	struct skillit_opts so;
	/* Static, so that LeakSanitizer finds them when die() ends the run
	 * on a bad record (as locals they were, or were not, reachable
	 * depending on what a register held). */
	static struct skillit s;
	static struct graph g;
	static double *prior_v, *init_v, *loss, *w;
	static size_t *target_v;
	static struct printbuf *pb;
	const char *graph_path = NULL, *skills = NULL, *eval_skills = NULL, *target = NULL;
	const char *prior = NULL, *init = NULL;
	struct cli_out out;
	struct rec_reader rd;
	struct rec *r;
	int c, rc, follow = 0, pending = 0;
	int64_t pending_eval = 0, pending_step = 0;
	long round = 0;
	const char *outname;
	FILE *fp;

	cli_init(&o, argc, argv, usage, help, 0);
	skillit_opts_default(&so);
	pb = printbuf_new();
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1) {
		switch (c) {
		case OPT_GRAPH: graph_path = optarg; break;
		case OPT_SKILLS: skills = optarg; break;
		case OPT_EVAL_SKILLS: eval_skills = optarg; break;
		case OPT_ETA:
			so.eta = cli_parse_double("--eta", optarg, 0, 1e12);
			break;
		case OPT_WINDOW:
			so.window = cli_parse_u64("--window", optarg, 0, 1000000);
			break;
		case OPT_AGG: {
			static const char *const aggs[] = { "sum", "mean" };

			so.agg = cli_parse_choice("--agg", optarg, aggs, 2) == 0 ?
			    SKILLIT_AGG_SUM : SKILLIT_AGG_MEAN;
			break;
		}
		case OPT_TARGET: target = optarg; break;
		case OPT_STATIC: so.static_mix = 1; break;
		case OPT_PRIOR: prior = optarg; break;
		case OPT_INIT: init = optarg; break;
		case OPT_NORMALIZE_LOSS: so.normalize_loss = 1; break;
		case OPT_INIT_LOSS: so.init_loss = 1; break;
		case OPT_ETA_SCHEDULE: so.eta_schedule = 1; break;
		case OPT_IGNORE_LONE: so.ignore_lone_nodes = 1; break;
		case OPT_DYNAMIC_LAMBDA: so.dynamic_lambda = 1; break;
		case OPT_BINARY: {
			static const char *const modes[] = { "yes", "no", "auto" };
			static const int values[] = {
				SKILLIT_BINARY_YES, SKILLIT_BINARY_NO, SKILLIT_BINARY_AUTO,
			};

			so.binary = values[cli_parse_choice("--binary-graph", optarg, modes, 3)];
			break;
		}
		case OPT_FOLLOW: follow = 1; break;
		default:
			cli_common_option(&o, c);
		}
	}
	argc -= optind;
	argv += optind;
	if (!graph_path)
		usage_error("--graph is required");
	graph_load(&g, graph_path);
	if (skills) {
		names_release(&g.rows);
		names_from_arg(&g.rows, skills, "--skills");
	}
	if (eval_skills) {
		names_release(&g.cols);
		names_from_arg(&g.cols, eval_skills, "--eval-skills");
	}
	if (!g.rows.n)
		usage_error("%s has no skill names: give --skills", graph_path);
	if (g.rows.n != g.k)
		die("%s: %zu rows but %zu skill names", graph_path, g.k, g.rows.n);
	if (!g.cols.n && g.m == g.k)
		for (size_t i = 0; i < g.k; i++)
			names_add(&g.cols, g.rows.name[i], "--skills");
	if (g.cols.n != g.m)
		die("%s: %zu columns but %zu evaluation skill names%s", graph_path, g.m,
		    g.cols.n, g.m != g.k ? " (give --eval-skills)" : "");
	if (target) {
		struct names t = { 0 };

		names_from_arg(&t, target, "--target");
		target_v = xcalloc(t.n, sizeof *target_v);
		for (size_t i = 0; i < t.n; i++) {
			long j = names_find(&g.cols, t.name[i]);

			if (j < 0)
				usage_error("--target: unknown skill '%s'", t.name[i]);
			target_v[i] = (size_t)j;
		}
		so.target = target_v;
		so.ntarget = t.n;
		names_release(&t);
	}
	if (prior)
		so.prior = prior_v = vector_from_arg(prior, &g.rows, "--prior");
	if (init)
		so.init = init_v = vector_from_arg(init, &g.rows, "--init");
	if (skillit_init(&s, g.a, g.k, g.m, &so) != 0)
		die("%s", loam_error());

	fp = cli_out_open(&out, o.output);
	outname = o.output ? o.output : "stdout";
	put_weights(fp, outname, pb, round++, 0, 0, &g.rows, skillit_weights(&s), follow);
	loss = xcalloc(g.m, sizeof *loss);
	w = xcalloc(g.k, sizeof *w);
	for (int f = 0; !so.static_mix && f < (argc ? argc : 1); f++) {
		if (rec_reader_open(&rd, argc ? argv[f] : "-") != 0) {
			cli_warn("%s", loam_error());
			continue;
		}
		while ((rc = rec_next(&rd, &r)) != 0) {
			json_object *losses;
			int64_t step = 0, eval;
			int has_step;

			if (rc < 0)
				die("%s", loam_error());
			rc = rec_get_int(r, "step", &step);
			if (rc == REC_BAD)
				die("%s: %s", rec_where(r), loam_error());
			has_step = rc == REC_OK;
			rc = rec_get_object(r, "losses", &losses);
			if (rc == REC_BAD)
				die("%s: %s", rec_where(r), loam_error());
			if (rc == REC_OK) {
				/* One record per evaluation. */
				if (pending)
					die("%s: an evaluation record while per-skill records of "
					    "evaluation %lld are incomplete", rec_where(r),
					    (long long)pending_eval);
				for (size_t j = 0; j < g.m; j++)
					loss[j] = NAN;
				json_object_object_foreach(losses, key, val) {
					long j = names_find(&g.cols, key);

					if (j < 0)
						die("%s: losses: unknown skill '%s'", rec_where(r), key);
					if (!val || rec_json_double(val, key, &loss[j]) != 0)
						die("%s: losses: %s", rec_where(r), val ? loam_error() :
						    "null loss");
				}
				if (skillit_update(&s, loss, w) != 0)
					die("%s: %s", rec_where(r), loam_error());
				put_weights(fp, outname, pb, round++, step, has_step, &g.rows, w, follow);
				continue;
			}
			/* One record per skill: {"eval":E,"skill":name,"loss":x}.  An
			 * evaluation is complete when every skill in use has
			 * reported, so that --follow answers at once. */
			const char *name;
			double x;
			long j;

			if (rec_get_int(r, "eval", &eval) != REC_OK ||
			    rec_get_str(r, "skill", &name, NULL) != REC_OK ||
			    rec_get_double(r, "loss", &x) != REC_OK)
				die("%s: expected {\"step\":S,\"losses\":{...}} or "
				    "{\"eval\":E,\"skill\":name,\"loss\":x}", rec_where(r));
			if ((j = names_find(&g.cols, name)) < 0)
				die("%s: unknown skill '%s'", rec_where(r), name);
			if (pending && eval != pending_eval)
				die("%s: evaluation %lld is incomplete when %lld begins",
				    rec_where(r), (long long)pending_eval, (long long)eval);
			if (!pending) {
				for (size_t i = 0; i < g.m; i++)
					loss[i] = NAN;
				pending = 1;
				pending_eval = eval;
				pending_step = has_step ? step : eval;
			}
			loss[j] = x;
			size_t missing = 0;
			for (size_t i = 0; i < g.m; i++)
				if (isnan(loss[i]) && column_used(&s, i))
					missing++;
			if (missing == 0) {
				if (skillit_update(&s, loss, w) != 0)
					die("%s: %s", rec_where(r), loam_error());
				put_weights(fp, outname, pb, round++, pending_step, 1, &g.rows, w,
				    follow);
				pending = 0;
			}
		}
		rec_reader_close(&rd);
	}
	if (pending)
		die("evaluation %lld is incomplete at the end of the input",
		    (long long)pending_eval);
	cli_out_commit(&out);
	skillit_release(&s);
	graph_release(&g);
	free(loss);
	free(w);
	free(target_v);
	free(prior_v);
	free(init_v);
	printbuf_free(pb);
	return cli_exit();
}

/* ---- graph ---- */

struct loss_entry {
	long a, b;		/* trained on a (and b, or -1) */
	long skill;
	double x, y;		/* before/after, or step/loss */
};

static long
skill_index(struct names *nm, const char *name, int fixed, const struct rec *r)
{
	long i = names_find(nm, name);

	if (i >= 0)
		return i;
	if (fixed)
		die("%s: unknown skill '%s' (not in --skills)", rec_where(r), name);
	names_add(nm, name, "input");
	return (long)nm->n - 1;
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

static int
cmd_graph(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "method", required_argument, NULL, OPT_METHOD },
		{ "threshold", required_argument, NULL, OPT_THRESHOLD },
		{ "skills", required_argument, NULL, OPT_SKILLS },
		CLI_COMMON_LONGOPTS,
	};
	enum { LINEAR, RELATIVE, PAIRWISE } method = LINEAR;
	struct cli_opts o;
	/* Static: die() can end the run at any point, and LeakSanitizer
	 * must still find these (a local is reachable, or not, depending on
	 * what a register held). */
	static struct names nm;
	static struct loss_entry *e;
	static double *graph, *before, *after, *alone, *pair;
	static unsigned char *seen;
	size_t ne = 0, ecap = 0, k, edges, possible;
	double threshold = SKILLIT_THRESHOLD, density;
	int c, rc, fixed = 0;
	struct rec_reader rd;
	struct rec *r;

	cli_init(&o, argc, argv, usage, help, 0);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1) {
		switch (c) {
		case OPT_METHOD: {
			static const char *const methods[] = { "linear", "relative", "pairwise" };

			method = cli_parse_choice("--method", optarg, methods, 3);
			break;
		}
		case OPT_THRESHOLD:
			threshold = cli_parse_double("--threshold", optarg, -1e300, 1e300);
			break;
		case OPT_SKILLS:
			names_from_arg(&nm, optarg, "--skills");
			fixed = 1;
			break;
		default:
			cli_common_option(&o, c);
		}
	}
	argc -= optind;
	argv += optind;

	for (int f = 0; f < (argc ? argc : 1); f++) {
		if (rec_reader_open(&rd, argc ? argv[f] : "-") != 0) {
			cli_warn("%s", loam_error());
			continue;
		}
		while ((rc = rec_next(&rd, &r)) != 0) {
			struct loss_entry x = { -1, -1, -1, 0, 0 };
			json_object *on;
			const char *name;

			if (rc < 0)
				die("%s", loam_error());
			if (rec_get(r, "trained_on", &on) != REC_OK || !on)
				die("%s: field 'trained_on' missing", rec_where(r));
			if (json_object_is_type(on, json_type_string)) {
				x.a = skill_index(&nm, json_object_get_string(on), fixed, r);
			} else if (json_object_is_type(on, json_type_array) &&
			    json_object_array_length(on) >= 1 && json_object_array_length(on) <= 2) {
				for (size_t i = 0; i < json_object_array_length(on); i++) {
					json_object *s = json_object_array_get_idx(on, i);

					if (!s || !json_object_is_type(s, json_type_string))
						die("%s: 'trained_on' must name skills", rec_where(r));
					*(i ? &x.b : &x.a) = skill_index(&nm, json_object_get_string(s),
					    fixed, r);
				}
			} else
				die("%s: 'trained_on' must be a skill or a list of one or two",
				    rec_where(r));
			if (rec_get_str(r, "skill", &name, NULL) != REC_OK)
				die("%s: field 'skill' missing", rec_where(r));
			x.skill = skill_index(&nm, name, fixed, r);
			if (method == PAIRWISE) {
				if (rec_get_double(r, "step", &x.x) != REC_OK ||
				    rec_get_double(r, "loss", &x.y) != REC_OK)
					die("%s: pairwise needs numbers 'step' and 'loss'", rec_where(r));
				if (x.b >= 0 && x.b != x.skill && x.a != x.skill)
					die("%s: a pair's curve must be measured on one of its skills",
					    rec_where(r));
				/* Normalise pairs to (other, measured). */
				if (x.b >= 0 && x.a == x.skill) {
					long t = x.a;
					x.a = x.b;
					x.b = t;
				}
			} else {
				if (x.b >= 0)
					die("%s: linear and relative take runs on one skill", rec_where(r));
				if (rec_get_double(r, "before", &x.x) != REC_OK ||
				    rec_get_double(r, "after", &x.y) != REC_OK)
					die("%s: %s needs numbers 'before' and 'after'", rec_where(r),
					    method == LINEAR ? "linear" : "relative");
			}
			e = grow(e, ne, &ecap, sizeof *e);
			e[ne++] = x;
		}
		rec_reader_close(&rd);
	}
	if (!(k = nm.n))
		die("no loss records");
	graph = xcalloc(k * k, sizeof *graph);
	if (method != PAIRWISE) {
		before = xcalloc(k * k, sizeof *before);
		after = xcalloc(k * k, sizeof *after);
		seen = xcalloc(k * k, 1);

		for (size_t i = 0; i < ne; i++) {
			size_t at = (size_t)e[i].a * k + (size_t)e[i].skill;

			if (seen[at]++)
				die("trained on '%s', measured on '%s': given twice",
				    nm.name[e[i].a], nm.name[e[i].skill]);
			before[at] = e[i].x;
			after[at] = e[i].y;
		}
		for (size_t i = 0; i < k * k; i++)
			if (!seen[i])
				die("no run trained on '%s' measured on '%s'", nm.name[i / k],
				    nm.name[i % k]);
		if (skillit_graph_linear(k, k, before, after, method == RELATIVE, graph) != 0)
			die("%s", loam_error());
		free(before);
		free(after);
		free(seen);
	} else {
		size_t i = 0;

		alone = xcalloc(k, sizeof *alone);
		pair = xcalloc(k * k, sizeof *pair);

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

	density = skillit_graph_density(graph, k, k, &edges, &possible);
	if (!o.quiet)
		note("graph density %.1f%% (%zu of %zu possible edges)", 100 * density, edges, possible);
	if (skillit_graph_shape(density) == SKILLIT_GRAPH_NEARLY_EMPTY)
		note("warning: the graph is nearly empty: Skill-It will sample by loss alone");
	else if (skillit_graph_shape(density) == SKILLIT_GRAPH_NEARLY_COMPLETE)
		note("warning: the graph is nearly complete: Skill-It will act as stratified sampling");

	if (o.output && strlen(o.output) > 4 && strcmp(o.output + strlen(o.output) - 4, ".npy") == 0) {
		size_t shape[2] = { k, k };

		if (npy_write(o.output, NPY_F8, 2, shape, graph) != 0)
			die("%s", loam_error());
	} else {
		struct cli_out out;
		struct printbuf *pb = printbuf_new();
		FILE *fp = cli_out_open(&out, o.output);
		char num[40];

		printbuf_memappend(pb, "{\"skills\":[", 11);
		for (size_t i = 0; i < k; i++) {
			if (i)
				printbuf_memappend(pb, ",", 1);
			rec_escape_string(pb, nm.name[i], strlen(nm.name[i]));
		}
		printbuf_memappend(pb, "],\"graph\":[", 11);
		for (size_t i = 0; i < k; i++) {
			printbuf_memappend(pb, i ? ",[" : "[", i ? 2 : 1);
			for (size_t j = 0; j < k; j++) {
				int n = snprintf(num, sizeof num, "%s%.17g", j ? "," : "", graph[i * k + j]);
				printbuf_memappend(pb, num, n);
			}
			printbuf_memappend(pb, "]", 1);
		}
		printbuf_memappend(pb, "]}\n", 3);
		if (fwrite(pb->buf, 1, (size_t)pb->bpos, fp) != (size_t)pb->bpos)
			cli_write_failed(o.output ? o.output : "stdout");
		cli_out_commit(&out);
		printbuf_free(pb);
	}
	free(graph);
	free(e);
	names_release(&nm);
	return cli_exit();
}

/* ---- sample ---- */

/*
 * One pass over the input, memory proportional to the sample: each
 * (round, skill) keeps a reservoir of the records it will output.
 * Without replacement it is Algorithm R (Vitter 1985): the t-th record of
 * the skill replaces slot j = uniform[0, t) when j < capacity.  With
 * replacement every slot is its own reservoir of one, which record t
 * takes over with probability 1/t; rather than a draw per slot per
 * record, each slot draws the index of its next replacement, floor(t/u)
 * + 1 for u uniform in (0, 1] (P(no change up to j) = t/j), and a heap
 * finds the slots due.
 */
struct line {
	int refs;
	size_t len;
	char text[];
};

static struct line *
line_new(const char *s, size_t len)
{
	struct line *l = xmalloc(sizeof *l + len);

	l->refs = 1;
	l->len = len;
	memcpy(l->text, s, len);
	return l;
}

static void
line_put(struct line *l)
{
	if (l && --l->refs == 0)
		free(l);
}

struct reservoir {
	struct line **slot;
	uint64_t cap, seen;
	uint64_t *next;		/* with replacement: slot's next record */
	uint32_t *heap;		/* slots ordered by next */
	struct rng rng;
};

static double
uniform_open0(struct rng *r)
{
	/* (0, 1]: 1 - [0, 1). */
	return 1.0 - rng_uniform(r);
}

static void
heap_down(struct reservoir *rv, uint64_t i)
{
	uint64_t n = rv->cap;

	for (;;) {
		uint64_t l = 2 * i + 1, m = i;

		if (l < n && rv->next[rv->heap[l]] < rv->next[rv->heap[m]])
			m = l;
		if (l + 1 < n && rv->next[rv->heap[l + 1]] < rv->next[rv->heap[m]])
			m = l + 1;
		if (m == i)
			return;
		uint32_t t = rv->heap[i];
		rv->heap[i] = rv->heap[m];
		rv->heap[m] = t;
		i = m;
	}
}

static void
reservoir_init(struct reservoir *rv, uint64_t cap, int replace, uint64_t seed,
    uint64_t round, uint64_t skill)
{
	memset(rv, 0, sizeof *rv);
	rv->cap = cap;
	rv->slot = xcalloc(cap ? cap : 1, sizeof *rv->slot);
	rng_init(&rv->rng, seed, 1 + round, skill);
	if (replace) {
		rv->next = xcalloc(cap ? cap : 1, sizeof *rv->next);
		rv->heap = xcalloc(cap ? cap : 1, sizeof *rv->heap);
		for (uint64_t i = 0; i < cap; i++) {
			rv->next[i] = 1;	/* the first record fills every slot */
			rv->heap[i] = (uint32_t)i;
		}
	}
}

static void
reservoir_offer(struct reservoir *rv, const char *text, size_t len)
{
	struct line *l = NULL;

	rv->seen++;
	if (rv->cap == 0)
		return;
	if (rv->heap) {
		while (rv->next[rv->heap[0]] == rv->seen) {
			uint32_t s = rv->heap[0];
			double next = floor((double)rv->seen / uniform_open0(&rv->rng)) + 1;

			if (!l)
				l = line_new(text, len);
			else
				l->refs++;
			line_put(rv->slot[s]);
			rv->slot[s] = l;
			rv->next[s] = next >= 1.8e19 ? UINT64_MAX : (uint64_t)next;
			heap_down(rv, 0);
		}
		return;
	}
	if (rv->seen <= rv->cap) {
		rv->slot[rv->seen - 1] = line_new(text, len);
		return;
	}
	uint64_t j = rng_uniform_int(&rv->rng, rv->seen);
	if (j < rv->cap) {
		line_put(rv->slot[j]);
		rv->slot[j] = line_new(text, len);
	}
}

static void
reservoir_release(struct reservoir *rv)
{
	for (uint64_t i = 0; i < rv->cap; i++)
		line_put(rv->slot[i]);
	free(rv->slot);
	free(rv->next);
	free(rv->heap);
}

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

/* Per-skill counts of a round of n: exact (floor(p n), the remainder to
 * the last skill, as the reference's sampler) or i.i.d. draws. */
static void
round_counts(const struct mixture *mx, uint64_t n, int iid, struct rng *r, uint64_t *count)
{
	double sum = 0;
	uint64_t given = 0;

	for (size_t i = 0; i < mx->k; i++)
		sum += mx->p[i];
	if (!(sum > 0))
		die("a round's weights sum to zero");
	memset(count, 0, mx->k * sizeof *count);
	if (iid) {
		for (uint64_t t = 0; t < n; t++) {
			size_t i = rng_weighted(r, mx->p, mx->k);
			count[i < mx->k ? i : mx->k - 1]++;
		}
		return;
	}
	for (size_t i = 0; i < mx->k; i++) {
		count[i] = (uint64_t)floor((double)n * (mx->p[i] / sum));
		given += count[i];
	}
	count[mx->k - 1] += n - given;
}

static void
write_round_line(FILE *fp, const struct line *l, long round, const char *outname)
{
	if (round >= 0) {
		/* Rounds from a stream: say which round a record belongs to. */
		struct rec *r = rec_parse(l->text, l->len, "sample", 0);
		const char *s;
		size_t len;

		if (!r || rec_set_int(r, "round", round) != 0)
			die("%s", loam_error());
		s = rec_to_string(r, &len);
		if (fwrite(s, 1, len, fp) != len || putc('\n', fp) == EOF)
			cli_write_failed(outname);
		rec_free(r);
		return;
	}
	if (fwrite(l->text, 1, l->len, fp) != l->len || putc('\n', fp) == EOF)
		cli_write_failed(outname);
}

static int
cmd_sample(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "weights", required_argument, NULL, OPT_WEIGHTS },
		{ "rounds", required_argument, NULL, OPT_ROUNDS },
		{ "skill-field", required_argument, NULL, OPT_SKILL_FIELD },
		{ "draw", required_argument, NULL, OPT_DRAW },
		{ "replace", no_argument, NULL, OPT_REPLACE },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	/* Static, so that LeakSanitizer finds them when die() ends the run. */
	static struct mixture *round;
	static char **skill;	/* union of the rounds' skills */
	static struct htab *index;
	static struct reservoir *rv;
	static uint64_t *count;
	size_t nrounds = 0, roundcap = 0, k = 0, skillcap = 0;
	uint64_t n = 1000;
	const char *field = "skill", *weights = NULL, *rounds = NULL;
	int c, iid = 0, replace = 0, rc;
	struct rec_reader rd;
	struct rec *r;
	struct cli_out out;
	struct progress prog;
	FILE *fp;

	cli_init(&o, argc, argv, usage, help, 0);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS("n:"), longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = cli_parse_u64("--count", optarg, 0, UINT32_MAX);
			break;
		case OPT_WEIGHTS:
			weights = optarg;
			break;
		case OPT_ROUNDS:
			rounds = optarg;
			break;
		case OPT_SKILL_FIELD:
			field = optarg;
			break;
		case OPT_DRAW: {
			static const char *const draws[] = { "exact", "iid" };

			iid = cli_parse_choice("--draw", optarg, draws, 2);
			break;
		}
		case OPT_REPLACE:
			replace = 1;
			break;
		default:
			cli_common_option(&o, c);
		}
	}
	argc -= optind;
	argv += optind;
	if (!weights == !rounds)
		usage_error("give one of --weights and --rounds");
	if (weights) {
		round = xcalloc(1, sizeof *round);
		mixture_from_arg(&round[0], weights);
		nrounds = 1;
	} else {
		struct rec_reader wr;

		if (rec_reader_open(&wr, rounds) != 0)
			die("%s", loam_error());
		while ((rc = rec_next(&wr, &r)) != 0) {
			json_object *w;

			if (rc < 0)
				die("%s", loam_error());
			if (rec_get_object(r, "weights", &w) != REC_OK)
				die("%s: field 'weights': expected a map of skills to weights",
				    rec_where(r));
			round = grow(round, nrounds, &roundcap, sizeof *round);
			memset(&round[nrounds], 0, sizeof *round);
			mixture_from_json(&round[nrounds++], w, rec_where(r));
		}
		rec_reader_close(&wr);
		if (!nrounds)
			die("%s: no rounds", rounds);
	}

	/* Index the skills: a 64-bit hash to a skill number (+1), checked
	 * against the name on every hit. */
	index = htab_new(0, 64);
	for (size_t t = 0; t < nrounds; t++)
		for (size_t i = 0; i < round[t].k; i++) {
			const char *name = round[t].skill[i];
			int is_new;
			struct htab_slot *sl = htab_insert(index, htab_hash(name, strlen(name), 0), &is_new);

			if (is_new) {
				skill = grow(skill, k, &skillcap, sizeof *skill);
				skill[k] = round[t].skill[i];
				sl->count = ++k;
			} else if (strcmp(skill[sl->count - 1], name) != 0)
				die("skills '%s' and '%s' share a 64-bit hash", name, skill[sl->count - 1]);
		}
	rv = xcalloc(nrounds * k, sizeof *rv);
	count = xcalloc(k, sizeof *count);
	for (size_t t = 0; t < nrounds; t++) {
		uint64_t *rc_count = xcalloc(round[t].k, sizeof *rc_count);
		struct rng cr;

		rng_init(&cr, o.seed, 0, t);
		round_counts(&round[t], n, iid, &cr, rc_count);
		for (size_t s = 0; s < k; s++) {
			uint64_t cap = 0;

			for (size_t i = 0; i < round[t].k; i++)
				if (strcmp(round[t].skill[i], skill[s]) == 0)
					cap = rc_count[i];
			reservoir_init(&rv[t * k + s], cap, replace, o.seed, t, s);
		}
		free(rc_count);
	}

	progress_init(&prog, "records", 0, o.quiet);
	for (int f = 0; f < (argc ? argc : 1); f++) {
		if (rec_reader_open(&rd, argc ? argv[f] : "-") != 0) {
			cli_warn("%s", loam_error());
			continue;
		}
		while ((rc = rec_next(&rd, &r)) != 0) {
			const char *name, *text;
			size_t len, namelen;
			struct htab_slot *sl;

			if (rc < 0)
				die("%s", loam_error());
			rc = rec_get_str(r, field, &name, &namelen);
			if (rc == REC_ABSENT)
				die("%s: field '%s' missing", rec_where(r), field);
			if (rc != REC_OK)
				die("%s: %s", rec_where(r), loam_error());
			sl = htab_lookup(index, htab_hash(name, namelen, 0));
			if (!sl || strcmp(skill[sl->count - 1], name) != 0)
				continue;	/* a skill no round asks for */
			text = rec_to_string(r, &len);
			for (size_t t = 0; t < nrounds; t++)
				reservoir_offer(&rv[t * k + sl->count - 1], text, len);
			if ((++prog.done & 0xffff) == 0)
				progress_update(&prog, prog.done);
		}
		rec_reader_close(&rd);
	}

	fp = cli_out_open(&out, o.output);
	for (size_t t = 0; t < nrounds; t++) {
		struct line **all;
		size_t m = 0;
		struct rng sr;

		for (size_t s = 0; s < k; s++) {
			struct reservoir *v = &rv[t * k + s];
			uint64_t have = replace ? (v->seen ? v->cap : 0) :
			    (v->seen < v->cap ? v->seen : v->cap);

			if (have < v->cap)
				note("round %zu: skill '%s': %llu record%s, %llu wanted",
				    t, skill[s], (unsigned long long)have, have == 1 ? "" : "s",
				    (unsigned long long)v->cap);
			m += have;
		}
		all = xcalloc(m ? m : 1, sizeof *all);
		m = 0;
		for (size_t s = 0; s < k; s++) {
			struct reservoir *v = &rv[t * k + s];

			for (uint64_t i = 0; i < v->cap; i++)
				if (v->slot[i])
					all[m++] = v->slot[i];
		}
		/* The output order is a seeded shuffle, not the input's. */
		rng_init(&sr, o.seed, 0, UINT64_MAX - t);
		rng_shuffle(&sr, all, m, sizeof *all);
		for (size_t i = 0; i < m; i++)
			write_round_line(fp, all[i], rounds ? (long)t : -1,
			    o.output ? o.output : "stdout");
		free(all);
	}
	cli_out_commit(&out);
	progress_end(&prog);

	for (size_t i = 0; i < nrounds * k; i++)
		reservoir_release(&rv[i]);
	free(rv);
	free(count);
	free(skill);
	for (size_t t = 0; t < nrounds; t++)
		mixture_release(&round[t]);
	free(round);
	htab_free(index);
	return cli_exit();
}

int
main(int argc, char *argv[])
{
	static const struct cli_command commands[] = {
		{ "weights", cmd_weights, NULL },
		{ "graph", cmd_graph, NULL },
		{ "sample", cmd_sample, NULL },
	};

	return cli_subcommand(argc, argv, commands, sizeof commands / sizeof *commands,
	    NULL, usage, help);
}
