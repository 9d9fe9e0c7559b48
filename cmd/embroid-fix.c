/*
 * embroid-fix - correct a language model's predictions by the consistency
 * of neighbourhoods in several embedding spaces and a triplet label model
 * (Embroid, Guha et al., NeurIPS 2023); see embroid-fix(1).
 *
 * The method is lib/method/embroid.c (the smoothing rule and the
 * one-vs-all loop over the label model, lib/method/labelmodel.c), the
 * neighbourhoods lib/base/knn.c over FAISS; this file reads the records
 * and the spaces, wires them together and reports.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dense.h"
#include "embroid.h"
#include "knn.h"
#include "labelmodel.h"
#include "npy.h"
#include "rec.h"
#include "recw.h"
#include "stream.h"

enum {
	OPT_VOTES = CLI_LONG, OPT_ZERO_ONE, OPT_CLASSES, OPT_EMBED_FIELD, OPT_NEIGHBORS,
	OPT_METRIC, OPT_INDEX, OPT_THRESHOLDS, OPT_CLASS_BALANCE, OPT_MIN_Z, OPT_REFERENCE,
	OPT_EXPLAIN, OPT_GOLD,
};

static const struct cli_option options[] = {
	{ OPT_VOTES, "votes", "field", "FIELD",
	    "per-source votes: an array (or one number) in {-1,0,+1}" },
	{ OPT_ZERO_ONE, "zero-one", NULL, NULL, "votes and output are 0/1 (null abstains)" },
	{ OPT_CLASSES, "classes", "k", "K",
	    "votes are classes 0..K-1 (null or -1 abstains); one-vs-all" },
	{ 'e', "embedding", "name=file", "NAME=FILE",
	    "an embedding space: .npy or safetensors, row i = record i" },
	{ OPT_EMBED_FIELD, "embed-field", "name", "NAME",
	    "an embedding space from the records' own arrays" },
	{ OPT_NEIGHBORS, "neighbors", "name=file", "NAME=FILE",
	    "precomputed neighbour ids (.npy, n x c int64)" },
	{ 'k', NULL, "k", "K", "neighbours (default 10)" },
	{ OPT_METRIC, "metric", "cosine|l2|ip", "M", "cosine (default), l2 or ip" },
	{ OPT_INDEX, "index", "flat|spec", "SPEC",
	    "flat (default, exact) or a FAISS index_factory string" },
	{ OPT_THRESHOLDS, "thresholds", "t+,t-[;t+,t-...]", "T",
	    "t+,t- for every source, or t+,t-;t+,t-;... per source\n"
	    "                      (default: each source's share of positive votes)" },
	{ OPT_CLASS_BALANCE, "class-balance", "p|estimate", "P",
	    "P(y = +1): a number, or estimate (default 0.5)" },
	{ OPT_MIN_Z, "min-z", "z", "Z",
	    "skip a triplet whose |M_jk| is within Z standard\n"
	    "                      errors of 0 (default 2; 0: only M_jk = 0)" },
	{ OPT_REFERENCE, "reference", NULL, NULL,
	    "FlyingSquid's label model with its defects, as the\n"
	    "                      reference runs it" },
	{ OPT_EXPLAIN, "explain", NULL, NULL, "add the smoothed votes and the sources' accuracies" },
	{ OPT_GOLD, "gold", "field", "FIELD", "report accuracy and macro-F1 before and after" },
	{ 't', "threads", "threads", "N", "threads for FAISS and OpenBLAS" },
	{ 'o', "output", "file", "FILE", "write to FILE atomically" },
	{ 'q', "quiet", NULL, NULL, "no summary on stderr" },
	CLI_OPTIONS_END
};
static const struct cli_spec spec = {
	NULL, "[file]", "Correct votes by kNN consistency across embedding spaces (Embroid).",
	options, NULL
};

enum space_kind { SPACE_FILE, SPACE_FIELD, SPACE_NEIGHBORS };

struct space {
	enum space_kind kind;
	char *name, *path;
	float *x;		/* n x d, owned (files and fields) */
	size_t d;
	int64_t *nbr;		/* n x ncols neighbour ids, owned */
	size_t ncols;
};

/* What the options ask for. */
struct settings {
	const char *votes_field, *gold_field, *index, *thresholds, *metric_name;
	int k, zero_one, classes, explain, reference;
	double min_z;		/* -1: the label model's default */
	double class_balance;
	enum knn_metric metric;
	int metric_flags;
	struct space *sp;	/* nsp spaces, owned */
	size_t nsp;
};

/* The records as read, for the one pass over them all that Embroid needs. */
struct rows {
	const struct settings *st;
	struct space *sp;	/* st's spaces: fields are filled as rows come */
	char **line;		/* compact record text, owned */
	size_t n, cap;
	int8_t *votes;		/* n x m raw votes as read (see read_vote) */
	size_t m;
	int *gold;		/* n, or NULL */
};

/* Votes are kept as int8: -1/0/+1 in binary mode; in multiclass mode the
 * class, or -1 for an abstain. */
static int
read_vote(struct rec *r, json_object *v, const struct settings *st, int8_t *out, size_t j)
{
	double d;

	if (!v) {
		*out = st->classes ? -1 : 0;	/* null abstains */
		return 0;
	}
	if (rec_json_double(v, "votes", &d) != 0 || d != floor(d))
		return rec_errorf(r, "vote %zu is not an integer", j);
	if (st->classes) {
		if (d < -1 || d >= st->classes)
			return rec_errorf(r, "vote %zu: %g is not a class in [0, %d) or -1",
			    j, d, st->classes);
	} else if (st->zero_one) {
		if (d != 0 && d != 1)
			return rec_errorf(r, "vote %zu: %g is not 0 or 1", j, d);
		d = 2 * d - 1;
	} else if (d < -1 || d > 1) {
		return rec_errorf(r, "vote %zu: %g is not -1, 0 or +1", j, d);
	}
	*out = (int8_t)d;
	return 0;
}

static int
read_gold(struct rec *r, const struct settings *st, int *out)
{
	int64_t g;

	if (rec_get_int(r, st->gold_field, &g) != REC_OK)
		return rec_errorf(r, "field '%s': expected an integer label", st->gold_field);
	if (!st->classes && !st->zero_one && g != -1 && g != 1)
		return rec_errorf(r, "field '%s': %lld is not -1 or +1", st->gold_field,
		    (long long)g);
	if (st->zero_one && g != 0 && g != 1)
		return rec_errorf(r, "field '%s': %lld is not 0 or 1", st->gold_field,
		    (long long)g);
	*out = st->zero_one ? (int)(2 * g - 1) : (int)g;
	return 0;
}

/* A space given as a field: this record's array, row rw->n. */
static int
read_field_space(struct rec *r, struct rows *rw, struct space *sp)
{
	size_t n;

	if (rec_get_array_len(r, sp->name, &n) != REC_OK)
		return rec_errorf(r, "field '%s': expected an array of numbers", sp->name);
	if (rw->n == 0)
		sp->d = n;
	else if (n != sp->d)
		return rec_errorf(r, "field '%s': %zu numbers, the first record has %zu",
		    sp->name, n, sp->d);
	sp->x = xreallocarray(sp->x, rw->cap * sp->d, sizeof *sp->x);
	if (rec_get_floats(r, sp->name, sp->x + rw->n * sp->d, sp->d, &n) != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	return 0;
}

/* stream_fn: one record's votes, gold label and field spaces, and its text. */
static int
read_row(struct rec *r, void *arg)
{
	struct rows *rw = arg;
	const struct settings *st = rw->st;
	json_object *v;
	const char *text;
	size_t len, m;
	int is_array;

	if (rec_get(r, st->votes_field, &v) != REC_OK)
		return rec_errorf(r, "field '%s' missing", st->votes_field);
	is_array = v && json_object_is_type(v, json_type_array);
	m = is_array ? json_object_array_length(v) : 1;
	if (rw->n == 0)
		rw->m = m;
	else if (m != rw->m)
		return rec_errorf(r, "%zu votes, the first record has %zu", m, rw->m);
	if (rw->n == rw->cap) {
		rw->cap = rw->cap ? rw->cap * 2 : 1024;
		rw->line = xreallocarray(rw->line, rw->cap, sizeof *rw->line);
		rw->votes = xreallocarray(rw->votes, rw->cap, rw->m);
		if (st->gold_field)
			rw->gold = xreallocarray(rw->gold, rw->cap, sizeof *rw->gold);
	}
	for (size_t j = 0; j < m; j++)
		if (read_vote(r, is_array ? json_object_array_get_idx(v, j) : v, st,
		    &rw->votes[rw->n * m + j], j) != 0)
			return -1;
	if (st->gold_field && read_gold(r, st, &rw->gold[rw->n]) != 0)
		return -1;
	for (size_t s = 0; s < st->nsp; s++)
		if (rw->sp[s].kind == SPACE_FIELD && read_field_space(r, rw, &rw->sp[s]) != 0)
			return -1;
	text = rec_to_string(r, &len);
	rw->line[rw->n] = xmalloc(len + 1);
	memcpy(rw->line[rw->n], text, len);
	rw->line[rw->n][len] = '\0';
	rw->n++;
	return 0;
}

/* An embedding or neighbour file into the space; its rows must match. */
static void
load_space(struct space *sp, size_t n)
{
	size_t rows;

	if (sp->kind != SPACE_NEIGHBORS) {
		/* a safetensors file's tensor named as the space, or its only one */
		if (dense_load_f32(sp->path, sp->name, &sp->x, &rows, &sp->d) != 0)
			die("%s", loam_error());
		if (rows != n)
			die("%s: %zu rows but %zu records", sp->path, rows, n);
		return;
	}
	struct npy a;

	if (npy_open(&a, sp->path) != 0)
		die("%s", loam_error());
	if (a.ndim != 2)
		die("%s: expected a 2-d array, not %d-d", sp->path, a.ndim);
	if (a.shape[0] != n)
		die("%s: %zu rows but %zu records", sp->path, a.shape[0], n);
	sp->ncols = a.shape[1];
	sp->nbr = xreallocarray(NULL, n * sp->ncols > 0 ? n * sp->ncols : 1, sizeof *sp->nbr);
	if (npy_read_i64(&a, sp->nbr) != 0)
		die("%s", loam_error());
	npy_close(&a);
}

static void
neighbours(struct space *sp, size_t n, const struct settings *st)
{
	struct knn *kn;
	float *dist;
	int rc;

	for (size_t i = 0; i < n * sp->d; i++)
		if (!isfinite(sp->x[i]))
			die("%s: row %zu: a value is not a finite number", sp->name, i / sp->d);
	if (sp->d > 1u << 30)
		die("%s: %zu dimensions", sp->name, sp->d);
	kn = knn_new((int)sp->d, st->index, st->metric, st->metric_flags);
	if (!kn)
		die("%s: %s", sp->name, loam_error());
	/* An IVF with too few points fails here, in FAISS's training. */
	if (knn_add(kn, sp->x, n) != 0) {
		knn_free(kn);
		die("%s: %s", sp->name, loam_error());
	}
	/* One more than k: the query itself is among its own neighbours
	 * (the smoothing drops it by id, wherever it ranks). */
	sp->ncols = (size_t)st->k + 1 < n ? (size_t)st->k + 1 : n;
	sp->nbr = xreallocarray(NULL, n * sp->ncols, sizeof *sp->nbr);
	dist = xreallocarray(NULL, n * sp->ncols, sizeof *dist);
	rc = knn_search(kn, sp->x, n, (int)sp->ncols, dist, sp->nbr);
	free(dist);
	knn_free(kn);
	if (rc != 0)
		die("%s: %s", sp->name, loam_error());
}

/* "t+,t-" for all, or "t+,t-;t+,t-;..." one pair per source. */
static void
parse_thresholds(const char *arg, size_t m, double *tp, double *tn)
{
	char *copy = xstrdup(arg), *cur = copy, *pair;
	size_t i = 0;

	for (; (pair = cli_list_next(&cur, ';', "--thresholds", arg)) != NULL; i++) {
		char *comma = strchr(pair, ',');

		if (!comma)
			usage_error("--thresholds: '%s' is not t+,t-", pair);
		*comma = '\0';
		if (i >= m)
			usage_error("--thresholds: more pairs than the %zu sources", m);
		tp[i] = cli_parse_double("--thresholds", pair, 0, 1);
		tn[i] = cli_parse_double("--thresholds", comma + 1, 0, 1);
	}
	if (i == 1)
		for (size_t j = 1; j < m; j++)
			tp[j] = tp[0], tn[j] = tn[0];
	else if (i != m)
		usage_error("--thresholds: %zu pairs for %zu sources", i, m);
	free(copy);
}

/* -e, --neighbors (name=file) or --embed-field (name): one more space. */
static void
add_space(struct settings *st, int opt, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct space *sp;

	st->sp = xreallocarray(st->sp, st->nsp + 1, sizeof *st->sp);
	sp = &st->sp[st->nsp++];
	memset(sp, 0, sizeof *sp);
	sp->name = xstrdup(arg);
	if (opt == OPT_EMBED_FIELD) {
		sp->kind = SPACE_FIELD;
		return;
	}
	if (!eq || eq == arg || !eq[1])
		usage_error("%s: '%s' is not name=file", opt == 'e' ? "-e" : "--neighbors", arg);
	sp->kind = opt == 'e' ? SPACE_FILE : SPACE_NEIGHBORS;
	sp->name[eq - arg] = '\0';
	sp->path = xstrdup(eq + 1);
}

static void
parse_options(struct cli_opts *o, int argc, char *argv[], struct settings *st)
{
	const char *arg;
	int c;

	memset(st, 0, sizeof *st);
	st->k = 10;
	st->metric_name = "cosine";
	st->min_z = -1;
	st->class_balance = 0.5;
	cli_begin(o, argc, argv, &spec, CLI_BLAS);
	while ((c = cli_next(o, &arg)) != -1) {
		switch (c) {
		case OPT_VOTES: st->votes_field = arg; break;
		case OPT_ZERO_ONE: st->zero_one = 1; break;
		case OPT_CLASSES:
			st->classes = (int)cli_parse_u64("--classes", arg, 2, 127);
			break;
		case 'e':
		case OPT_NEIGHBORS:
		case OPT_EMBED_FIELD: add_space(st, c, arg); break;
		case 'k': st->k = (int)cli_parse_u64("-k", arg, 1, 100000); break;
		case OPT_METRIC: st->metric_name = arg; break;
		case OPT_INDEX: st->index = strcmp(arg, "flat") == 0 ? NULL : arg; break;
		case OPT_THRESHOLDS: st->thresholds = arg; break;
		case OPT_CLASS_BALANCE:
			st->class_balance = strcmp(arg, "estimate") == 0 ? LABELMODEL_ESTIMATE :
			    cli_parse_double("--class-balance", arg, 1e-6, 1 - 1e-6);
			break;
		case OPT_EXPLAIN: st->explain = 1; break;
		case OPT_GOLD: st->gold_field = arg; break;
		case OPT_MIN_Z: st->min_z = cli_parse_double("--min-z", arg, 0, 1e6); break;
		case OPT_REFERENCE: st->reference = 1; break;
		}
	}
	if (!st->votes_field)
		usage_error("--votes is required");
	if (!st->nsp)
		usage_error("no embedding space: give -e, --embed-field or --neighbors");
	if (st->zero_one && st->classes)
		usage_error("--zero-one and --classes exclude each other");
	/* The reference's label model averages every triplet: a threshold
	 * given with it would be silently ignored. */
	if (st->reference && st->min_z >= 0)
		usage_error("--min-z and --reference exclude each other");
	if (o->argc > 1)
		usage_error("one input file at most");
	if (knn_metric_parse(st->metric_name, &st->metric, &st->metric_flags) != 0)
		usage_error("--metric: '%s' is not cosine, l2 or ip", st->metric_name);
}

/* Every space's neighbour ids: loaded, or searched with FAISS. */
static void
find_neighbours(const struct settings *st, size_t n)
{
	for (size_t s = 0; s < st->nsp; s++) {
		struct space *sp = &st->sp[s];

		if (sp->kind != SPACE_FIELD)
			load_space(sp, n);
		if (sp->kind != SPACE_NEIGHBORS)
			neighbours(sp, n, st);
		if (sp->ncols < 2 || (size_t)st->k > sp->ncols)
			die("%s: %zu neighbour columns, -k %d needs more", sp->name, sp->ncols,
			    st->k);
	}
}

/* Embroid over the rows, with the options' thresholds and label model. */
static void
run_embroid(const struct settings *st, const struct rows *rw, struct embroid *e)
{
	struct labelmodel_opts lo;
	struct embroid_opts eo = { 0 };
	const int64_t **nb = xcalloc(st->nsp, sizeof *nb);
	size_t *ncols = xcalloc(st->nsp, sizeof *ncols);
	double *tp = NULL, *tn = NULL;

	if (st->reference)
		labelmodel_opts_reference(&lo);
	else
		labelmodel_opts_default(&lo);
	lo.class_balance = st->class_balance;
	lo.tie = LABELMODEL_TIE_NEGATIVE;	/* the reference's rule */
	if (st->min_z >= 0)
		lo.min_z = st->min_z;
	if (st->thresholds) {
		tp = xcalloc(rw->m, sizeof *tp);
		tn = xcalloc(rw->m, sizeof *tn);
		parse_thresholds(st->thresholds, rw->m, tp, tn);
	}
	eo.classes = st->classes;
	eo.k = (size_t)st->k;
	eo.tau_pos = tp;
	eo.tau_neg = tn;
	eo.model = &lo;
	eo.keep_matrix = st->explain;
	for (size_t s = 0; s < st->nsp; s++) {
		nb[s] = st->sp[s].nbr;
		ncols[s] = st->sp[s].ncols;
	}
	if (embroid_run(e, &eo, rw->votes, rw->n, rw->m, nb, ncols, st->nsp) != 0)
		die("%s", loam_error());
	free(tp);
	free(tn);
	free(nb);
	free(ncols);
}

/* An accuracy as --explain has always shown it: 6 significant digits. */
static double
six_digits(double v)
{
	char num[32];

	snprintf(num, sizeof num, "%.6g", v);
	return strtod(num, NULL);
}

/* The array built in value mode since recw_begin_value(), as field key. */
static void
set_array(struct recw *w, struct rec *r, const char *key)
{
	const char *text;
	size_t len;

	recw_close(w);
	text = recw_text(w, &len);
	if (!text || rec_set_raw(r, key, text, len) != 0)
		die("%s", loam_error());
}

/* --explain's fields of row i: the smoothed votes, and the accuracies
 * (one array, or one per class). */
static void
explain_row(struct recw *w, struct rec *r, const struct embroid *e, size_t i, int classes)
{
	recw_begin_value(w);
	recw_array(w, NULL);
	for (size_t q = 0; q < e->problems; q++) {
		const int8_t *row = e->matrix + q * e->n * e->width + i * e->width;

		if (classes)
			recw_array(w, NULL);
		for (size_t j = e->m; j < e->width; j++)
			recw_int(w, NULL, row[j]);
		if (classes)
			recw_close(w);
	}
	set_array(w, r, "embroid_smoothed");
	recw_begin_value(w);
	recw_array(w, NULL);
	for (size_t q = 0; q < e->problems; q++) {
		const double *acc = e->accuracy + q * e->width;

		if (classes)
			recw_array(w, NULL);
		for (size_t j = 0; j < e->width; j++)
			recw_double(w, NULL, six_digits(acc[j]));
		if (classes)
			recw_close(w);
	}
	set_array(w, r, "embroid_accuracy");
}

/* Each record with its label, the label's posterior and with --explain
 * the smoothed votes and the accuracies. */
static void
write_records(FILE *fp, const char *name, const struct settings *st, const struct rows *rw,
    const struct embroid *e)
{
	struct recw w;

	recw_init(&w, fp, name);
	for (size_t i = 0; i < rw->n; i++) {
		struct rec *r = rec_parse(rw->line[i], strlen(rw->line[i]), "output", 0);

		if (!r)
			die("internal: cannot rebuild a record");
		if (rec_set_int(r, "embroid", st->zero_one ? (e->label[i] + 1) / 2 : e->label[i])
		    != 0 || rec_set_double(r, "embroid_p", e->label_p[i]) != 0)
			die("%s", loam_error());
		if (st->explain)
			explain_row(&w, r, e, i, st->classes);
		recw_rec(&w, r);
		rec_free(r);
	}
	recw_release(&w);
}

/* The summary on stderr: counts, times, flips, accuracies, and with
 * --gold the scores before and after. */
static void
report(const struct settings *st, const struct rows *rw, const struct embroid *e,
    double t_knn, double t_rest)
{
	size_t n = rw->n, m = rw->m, nsp = st->nsp, flipped = 0;
	int *before = xcalloc(n, sizeof *before);

	for (size_t i = 0; i < n; i++) {
		before[i] = embroid_majority(rw->votes + i * m, m, st->classes);
		flipped += before[i] != e->label[i];
	}
	note("%zu rows, %zu source%s, %zu space%s: knn %.3f s, rest %.3f s; flipped %zu of %zu",
	    n, m, m == 1 ? "" : "s", nsp, nsp == 1 ? "" : "s", t_knn, t_rest, flipped, n);
	for (size_t q = 0; q < e->problems; q++) {
		char line[4096];
		size_t at = 0;

		for (size_t j = 0; j < e->width && at + 32 < sizeof line; j++)
			at += (size_t)snprintf(line + at, sizeof line - at, " %.4f",
			    e->accuracy[q * e->width + j]);
		if (st->classes)
			note("class %zu: estimated accuracies (votes, then smoothed by space):%s", q, line);
		else
			note("estimated accuracies (votes, then smoothed by space):%s", line);
	}
	if (st->gold_field) {
		size_t right0 = 0, right1 = 0;

		for (size_t i = 0; i < n; i++) {
			right0 += before[i] == rw->gold[i];
			right1 += e->label[i] == rw->gold[i];
		}
		note("gold: accuracy %.4f -> %.4f, macro-F1 %.4f -> %.4f",
		    (double)right0 / n, (double)right1 / n,
		    embroid_macro_f1(rw->gold, before, n, st->classes),
		    embroid_macro_f1(rw->gold, e->label, n, st->classes));
	}
	free(before);
}

static void
release(struct settings *st, struct rows *rw)
{
	for (size_t s = 0; s < st->nsp; s++) {
		free(st->sp[s].name);
		free(st->sp[s].path);
		free(st->sp[s].x);
		free(st->sp[s].nbr);
	}
	free(st->sp);
	for (size_t i = 0; i < rw->n; i++)
		free(rw->line[i]);
	free(rw->line);
	free(rw->votes);
	free(rw->gold);
}

int
main(int argc, char *argv[])
{
	struct cli_opts o;
	struct settings st;
	struct rows rw = { 0 };
	struct embroid e = { 0 };
	struct stream s;
	struct cli_out out;
	FILE *fp;
	double t0, t_knn;

	parse_options(&o, argc, argv, &st);
	rw.st = &st;
	rw.sp = st.sp;
	stream_init(&s, &o);
	stream_file(&s, o.argc ? o.argv[0] : "-", read_row, &rw);
	stream_end(&s);
	fp = cli_out_open(&out, o.output);
	if (rw.n == 0) {
		/* No records: nothing to smooth, an empty output. */
		cli_out_commit(&out);
		release(&st, &rw);
		return cli_exit();
	}
	if (rw.n < 2)
		die("%zu record: Embroid needs neighbours", rw.n);

	t0 = cli_now();
	find_neighbours(&st, rw.n);
	t_knn = cli_now() - t0;
	t0 = cli_now();
	run_embroid(&st, &rw, &e);
	t0 = cli_now() - t0;
	write_records(fp, o.output, &st, &rw, &e);
	cli_out_commit(&out);
	if (!o.quiet)
		report(&st, &rw, &e, t_knn, t0);
	embroid_release(&e);
	release(&st, &rw);
	return cli_exit();
}
