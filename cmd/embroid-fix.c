/*
 * embroid-fix - correct a language model's predictions by the consistency
 * of neighbourhoods in several embedding spaces and a triplet label model
 * (Embroid, Guha et al., NeurIPS 2023); see embroid-fix(1).
 *
 * The smoothing rule is lib/embroid.c, the label model lib/labelmodel.c,
 * the neighbourhoods lib/knn.c over FAISS; this file reads the records
 * and the spaces, wires them together and reports.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/printbuf.h>

#include "cli.h"
#include "dense.h"
#include "embroid.h"
#include "knn.h"
#include "labelmodel.h"
#include "npy.h"
#include "rec.h"

static const char usage[] =
    "usage: embroid-fix [-q] --votes field [--zero-one | --classes k] [-e name=file]\n"
    "                   [--embed-field name] [--neighbors name=file] [-k k]\n"
    "                   [--metric cosine|l2|ip] [--index flat|spec]\n"
    "                   [--thresholds t+,t-[;t+,t-...]] [--class-balance p|estimate]\n"
    "                   [--min-z z] [--reference] [--explain] [--gold field]\n"
    "                   [-t threads] [-o file] [file]\n";
static const char help[] =
    "Correct votes by kNN consistency across embedding spaces (Embroid).\n"
    "  --votes FIELD          per-source votes: an array (or one number) in {-1,0,+1}\n"
    "  --zero-one             votes and output are 0/1 (null abstains)\n"
    "  --classes K            votes are classes 0..K-1 (null or -1 abstains); one-vs-all\n"
    "  -e NAME=FILE           an embedding space: .npy or safetensors, row i = record i\n"
    "  --embed-field NAME     an embedding space from the records' own arrays\n"
    "  --neighbors NAME=FILE  precomputed neighbour ids (.npy, n x c int64)\n"
    "  -k K                   neighbours (default 10)\n"
    "  --metric M             cosine (default), l2 or ip\n"
    "  --index SPEC           flat (default, exact) or a FAISS index_factory string\n"
    "  --thresholds T         t+,t- for every source, or t+,t-;t+,t-;... per source\n"
    "                         (default: each source's share of positive votes)\n"
    "  --class-balance P      P(y = +1): a number, or estimate (default 0.5)\n"
    "  --min-z Z              skip a triplet whose |M_jk| is within Z standard\n"
    "                         errors of 0 (default 2; 0: only M_jk = 0)\n"
    "  --reference            FlyingSquid's label model with its defects, as the\n"
    "                         reference runs it\n"
    "  --explain              add the smoothed votes and the sources' accuracies\n"
    "  --gold FIELD           report accuracy and macro-F1 before and after\n"
    "  -t, --threads N        threads for FAISS and OpenBLAS\n"
    "  -o, --output FILE      write to FILE atomically\n"
    "  -q, --quiet            no summary on stderr\n"
    "  -h, --help             this help\n"
    "  -V, --version          print the version\n";

enum {
	OPT_VOTES = 256, OPT_ZERO_ONE, OPT_CLASSES, OPT_EMBED_FIELD, OPT_NEIGHBORS,
	OPT_METRIC, OPT_INDEX, OPT_THRESHOLDS, OPT_CLASS_BALANCE, OPT_EXPLAIN, OPT_GOLD,
	OPT_MIN_Z, OPT_REFERENCE,
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

struct rows {
	char **line;		/* compact record text, owned */
	size_t n, cap;
	int8_t *votes;		/* n x m raw votes as read (see vote_code) */
	size_t m;
	int *gold;		/* n, or NULL */
};

/* Votes are kept as int8: -1/0/+1 in binary mode; in multiclass mode the
 * class, or -1 for an abstain. */

static int
read_vote(json_object *v, int zero_one, int classes, int8_t *out, const char *where, size_t j)
{
	double d;

	if (!v) {
		*out = classes ? -1 : 0;	/* null abstains */
		return 0;
	}
	if (rec_json_double(v, "votes", &d) != 0 || d != floor(d))
		return loam_seterr("%s: vote %zu is not an integer", where, j);
	if (classes) {
		if (d < -1 || d >= classes)
			return loam_seterr("%s: vote %zu: %g is not a class in [0, %d) or -1",
			    where, j, d, classes);
	} else if (zero_one) {
		if (d != 0 && d != 1)
			return loam_seterr("%s: vote %zu: %g is not 0 or 1", where, j, d);
		d = 2 * d - 1;
	} else if (d < -1 || d > 1) {
		return loam_seterr("%s: vote %zu: %g is not -1, 0 or +1", where, j, d);
	}
	*out = (int8_t)d;
	return 0;
}

static void
read_rows(struct rows *rw, const char *path, const char *votes_field, int zero_one,
    int classes, const char *gold_field, struct space *sp, size_t nsp)
{
	struct rec_reader rd;
	struct rec *r;
	int rc;

	if (rec_reader_open(&rd, path) != 0)
		die("%s", loam_error());
	while ((rc = rec_next(&rd, &r)) != 0) {
		json_object *v;
		const char *text;
		size_t len, m;

		if (rc < 0)
			die("%s", loam_error());
		rc = rec_get(r, votes_field, &v);
		if (rc != REC_OK)
			die("%s: field '%s' missing", rec_where(r), votes_field);
		m = v && json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 1;
		if (rw->n == 0)
			rw->m = m;
		else if (m != rw->m)
			die("%s: %zu votes, the first record has %zu", rec_where(r), m, rw->m);
		if (rw->n == rw->cap) {
			rw->cap = rw->cap ? rw->cap * 2 : 1024;
			rw->line = xreallocarray(rw->line, rw->cap, sizeof *rw->line);
			rw->votes = xreallocarray(rw->votes, rw->cap, rw->m);
			if (gold_field)
				rw->gold = xreallocarray(rw->gold, rw->cap, sizeof *rw->gold);
		}
		for (size_t j = 0; j < m; j++) {
			json_object *e = m == 1 && !(v && json_object_is_type(v, json_type_array)) ?
			    v : json_object_array_get_idx(v, j);

			if (read_vote(e, zero_one, classes, &rw->votes[rw->n * m + j],
			    rec_where(r), j) != 0)
				die("%s", loam_error());
		}
		if (gold_field) {
			int64_t g;

			if (rec_get_int(r, gold_field, &g) != REC_OK)
				die("%s: field '%s': expected an integer label", rec_where(r), gold_field);
			if (!classes && !zero_one && g != -1 && g != 1)
				die("%s: field '%s': %lld is not -1 or +1", rec_where(r), gold_field,
				    (long long)g);
			if (zero_one && g != 0 && g != 1)
				die("%s: field '%s': %lld is not 0 or 1", rec_where(r), gold_field,
				    (long long)g);
			rw->gold[rw->n] = zero_one ? (int)(2 * g - 1) : (int)g;
		}
		for (size_t s = 0; s < nsp; s++) {
			size_t n;

			if (sp[s].kind != SPACE_FIELD)
				continue;
			rc = rec_get_array_len(r, sp[s].name, &n);
			if (rc != REC_OK)
				die("%s: field '%s': expected an array of numbers", rec_where(r),
				    sp[s].name);
			if (rw->n == 0)
				sp[s].d = n;
			else if (n != sp[s].d)
				die("%s: field '%s': %zu numbers, the first record has %zu",
				    rec_where(r), sp[s].name, n, sp[s].d);
			sp[s].x = xreallocarray(sp[s].x, rw->cap * sp[s].d, sizeof *sp[s].x);
			if (rec_get_floats(r, sp[s].name, sp[s].x + rw->n * sp[s].d, sp[s].d, &n) != REC_OK)
				die("%s: %s", rec_where(r), loam_error());
		}
		text = rec_to_string(r, &len);
		rw->line[rw->n] = xmalloc(len + 1);
		memcpy(rw->line[rw->n], text, len);
		rw->line[rw->n][len] = '\0';
		rw->n++;
	}
	rec_reader_close(&rd);
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
neighbours(struct space *sp, size_t n, int k, const char *index, enum knn_metric metric,
    int flags)
{
	struct knn *kn;
	float *dist;
	int rc;

	for (size_t i = 0; i < n * sp->d; i++)
		if (!isfinite(sp->x[i]))
			die("%s: row %zu: a value is not a finite number", sp->name, i / sp->d);
	if (sp->d > 1u << 30)
		die("%s: %zu dimensions", sp->name, sp->d);
	kn = knn_new((int)sp->d, index, metric, flags);
	if (!kn)
		die("%s: %s", sp->name, loam_error());
	/* The index is freed before die(): nothing else points at it, so
	 * LeakSanitizer would report FAISS's training buffers (an IVF
	 * with too few points fails in knn_add). */
	if (knn_add(kn, sp->x, n) != 0) {
		knn_free(kn);
		die("%s: %s", sp->name, loam_error());
	}
	/* One more than k: the query itself is among its own neighbours
	 * (the smoothing drops it by id, wherever it ranks). */
	sp->ncols = (size_t)k + 1 < n ? (size_t)k + 1 : n;
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

/* Macro-F1 over the classes present in gold or pred (binary: -1, +1). */
static double
macro_f1(const int *gold, const int *pred, size_t n, int classes)
{
	int lo = classes ? 0 : -1, hi = classes ? classes - 1 : 1;
	double sum = 0;
	int seen = 0;

	for (int c = lo; c <= hi; c++) {
		size_t tp = 0, fp = 0, fn = 0;

		if (!classes && c == 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			tp += pred[i] == c && gold[i] == c;
			fp += pred[i] == c && gold[i] != c;
			fn += pred[i] != c && gold[i] == c;
		}
		if (tp + fp + fn == 0)
			continue;
		sum += 2.0 * tp / (2.0 * tp + fp + fn);
		seen++;
	}
	return seen ? sum / seen : 0;
}

/* The original prediction: the sources' majority (binary) or plurality
 * (classes); 0 or -1 when none or tied. */
static int
original_vote(const int8_t *v, size_t m, int classes)
{
	if (!classes) {
		int s = 0;

		for (size_t j = 0; j < m; j++)
			s += v[j];
		return s > 0 ? 1 : s < 0 ? -1 : 0;
	}
	int best = -1, bestn = 0, tie = 0;
	for (int c = 0; c < classes; c++) {
		int cnt = 0;

		for (size_t j = 0; j < m; j++)
			cnt += v[j] == c;
		if (cnt > bestn)
			best = c, bestn = cnt, tie = 0;
		else if (cnt == bestn && cnt > 0)
			tie = 1;
	}
	return tie ? -1 : best;
}

/* Append ,"key":value to a record's compact text (rec keeps the rest). */
static void
write_record(FILE *fp, const char *outname, const char *line, struct printbuf *extra)
{
	struct rec *r = rec_parse(line, strlen(line), "output", 0);
	json_object *add;
	const char *s;
	size_t len;

	/* The extra fields come as a JSON object text; add each to the
	 * record so that an existing field of that name is replaced. */
	if (!r || !(add = json_tokener_parse(extra->buf)))
		die("internal: cannot rebuild a record");
	json_object_object_foreach(add, key, val)
		rec_set_json(r, key, json_object_get(val));
	json_object_put(add);
	s = rec_to_string(r, &len);
	if (fwrite(s, 1, len, fp) != len || putc('\n', fp) == EOF)
		cli_write_failed(outname);
	rec_free(r);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "votes", required_argument, NULL, OPT_VOTES },
		{ "zero-one", no_argument, NULL, OPT_ZERO_ONE },
		{ "classes", required_argument, NULL, OPT_CLASSES },
		{ "embedding", required_argument, NULL, 'e' },
		{ "embed-field", required_argument, NULL, OPT_EMBED_FIELD },
		{ "neighbors", required_argument, NULL, OPT_NEIGHBORS },
		{ "metric", required_argument, NULL, OPT_METRIC },
		{ "index", required_argument, NULL, OPT_INDEX },
		{ "thresholds", required_argument, NULL, OPT_THRESHOLDS },
		{ "class-balance", required_argument, NULL, OPT_CLASS_BALANCE },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "gold", required_argument, NULL, OPT_GOLD },
		{ "min-z", required_argument, NULL, OPT_MIN_Z },
		{ "reference", no_argument, NULL, OPT_REFERENCE },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	/* Static: die() can end the run at any point, and LeakSanitizer must
	 * still find these reachable (as locals they were, or were not,
	 * depending on what a register held: a flaky report). */
	static struct space *sp;
	static struct rows rw;
	size_t nsp = 0, n, m, E, width;
	const char *votes_field = NULL, *gold_field = NULL, *index = NULL, *thresholds = NULL;
	const char *metric_name = "cosine";
	enum knn_metric metric;
	int c, k = 10, zero_one = 0, classes = 0, explain = 0, metric_flags;
	int reference = 0;
	double min_z = -1;	/* -1: the label model's default */
	double class_balance = 0.5, t0, t_knn = 0, t_rest;
	static int8_t *bin, *L;
	static double *tp, *tn, *proba, *best_p, *acc;
	static int *label, *before;
	static struct labelmodel lm;
	struct labelmodel_opts lo;
	struct printbuf *extra = printbuf_new();
	struct cli_out out;
	FILE *fp;
	size_t flipped = 0, problems;

	cli_init(&o, argc, argv, usage, help, CLI_BLAS);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS("e:k:"), longopts, NULL)) != -1) {
		switch (c) {
		case OPT_VOTES: votes_field = optarg; break;
		case OPT_ZERO_ONE: zero_one = 1; break;
		case OPT_CLASSES:
			classes = (int)cli_parse_u64("--classes", optarg, 2, 127);
			break;
		case 'e':
		case OPT_NEIGHBORS:
		case OPT_EMBED_FIELD: {
			char *eq = strchr(optarg, '=');

			sp = xreallocarray(sp, nsp + 1, sizeof *sp);
			memset(&sp[nsp], 0, sizeof *sp);
			if (c == OPT_EMBED_FIELD) {
				sp[nsp].kind = SPACE_FIELD;
				sp[nsp].name = xstrdup(optarg);
			} else {
				if (!eq || eq == optarg || !eq[1])
					usage_error("%s: '%s' is not name=file",
					    c == 'e' ? "-e" : "--neighbors", optarg);
				sp[nsp].kind = c == 'e' ? SPACE_FILE : SPACE_NEIGHBORS;
				sp[nsp].name = xstrdup(optarg);
				sp[nsp].name[eq - optarg] = '\0';
				sp[nsp].path = xstrdup(eq + 1);
			}
			nsp++;
			break;
		}
		case 'k':
			k = (int)cli_parse_u64("-k", optarg, 1, 100000);
			break;
		case OPT_METRIC: metric_name = optarg; break;
		case OPT_INDEX:
			index = strcmp(optarg, "flat") == 0 ? NULL : optarg;
			break;
		case OPT_THRESHOLDS: thresholds = optarg; break;
		case OPT_CLASS_BALANCE:
			class_balance = strcmp(optarg, "estimate") == 0 ? LABELMODEL_ESTIMATE :
			    cli_parse_double("--class-balance", optarg, 1e-6, 1 - 1e-6);
			break;
		case OPT_EXPLAIN: explain = 1; break;
		case OPT_GOLD: gold_field = optarg; break;
		case OPT_MIN_Z:
			min_z = cli_parse_double("--min-z", optarg, 0, 1e6);
			break;
		case OPT_REFERENCE: reference = 1; break;
		default:
			cli_common_option(&o, c);
		}
	}
	argc -= optind;
	argv += optind;
	if (!votes_field)
		usage_error("--votes is required");
	if (!nsp)
		usage_error("no embedding space: give -e, --embed-field or --neighbors");
	if (zero_one && classes)
		usage_error("--zero-one and --classes exclude each other");
	/* The reference's label model averages every triplet: a threshold
	 * given with it would be silently ignored. */
	if (reference && min_z >= 0)
		usage_error("--min-z and --reference exclude each other");
	if (argc > 1)
		usage_error("one input file at most");
	if (knn_metric_parse(metric_name, &metric, &metric_flags) != 0)
		usage_error("--metric: '%s' is not cosine, l2 or ip", metric_name);

	read_rows(&rw, argc ? argv[0] : "-", votes_field, zero_one, classes, gold_field, sp, nsp);
	n = rw.n;
	m = rw.m;
	E = nsp;
	fp = cli_out_open(&out, o.output);
	if (n == 0) {
		/* No records: nothing to smooth, an empty output. */
		cli_out_commit(&out);
		for (size_t s = 0; s < nsp; s++) {
			free(sp[s].name);
			free(sp[s].path);
			free(sp[s].x);
		}
		free(sp);
		printbuf_free(extra);
		return cli_exit();
	}
	if (n < 2)
		die("%zu record: Embroid needs neighbours", n);

	t0 = cli_now();
	for (size_t s = 0; s < nsp; s++) {
		if (sp[s].kind == SPACE_FIELD)
			;
		else
			load_space(&sp[s], n);
		if (sp[s].kind != SPACE_NEIGHBORS)
			neighbours(&sp[s], n, k, index, metric, metric_flags);
		if (sp[s].ncols < 2 || (size_t)k > sp[s].ncols)
			die("%s: %zu neighbour columns, -k %d needs more", sp[s].name, sp[s].ncols, k);
	}
	t_knn = cli_now() - t0;

	/* Binary problems: one, or one per class (one-vs-all). */
	t0 = cli_now();
	problems = classes ? (size_t)classes : 1;
	width = m * (E + 1);
	bin = xmalloc(n * m);
	L = xmalloc(n * width);
	tp = xcalloc(m, sizeof *tp);
	tn = xcalloc(m, sizeof *tn);
	proba = xcalloc(n * problems, sizeof *proba);
	acc = xcalloc(problems * width, sizeof *acc);
	int8_t *smooth_keep = explain ? xmalloc(n * width * problems) : NULL;
	const int64_t **nb = xcalloc(E, sizeof *nb);
	size_t ncols = sp[0].ncols;

	for (size_t s = 0; s < E; s++) {
		nb[s] = sp[s].nbr;
		if (sp[s].ncols < ncols)
			ncols = sp[s].ncols;
	}
	/* Each space's matrix has its own width; the smoothing takes one
	 * width, so copy to the narrowest when they differ. */
	for (size_t s = 0; s < E; s++)
		if (sp[s].ncols != ncols) {
			int64_t *narrow = xmalloc(n * ncols * sizeof *narrow);

			for (size_t i = 0; i < n; i++)
				memcpy(narrow + i * ncols, sp[s].nbr + i * sp[s].ncols,
				    ncols * sizeof *narrow);
			free(sp[s].nbr);
			sp[s].nbr = narrow;
			sp[s].ncols = ncols;
			nb[s] = narrow;
		}
	for (size_t q = 0; q < problems; q++) {
		for (size_t i = 0; i < n * m; i++) {
			int8_t v = rw.votes[i];

			bin[i] = !classes ? v : v < 0 ? 0 : v == (int8_t)q ? 1 : -1;
		}
		if (thresholds)
			parse_thresholds(thresholds, m, tp, tn);
		else
			embroid_default_thresholds(bin, n, m, tp, tn);
		if (embroid_label_matrix(bin, n, m, nb, E, ncols, (size_t)k, tp, tn, L) != 0)
			die("%s", loam_error());
		if (smooth_keep)
			memcpy(smooth_keep + q * n * width, L, n * width);
		if (reference)
			labelmodel_opts_reference(&lo);
		else
			labelmodel_opts_default(&lo);
		lo.class_balance = class_balance;
		lo.tie = LABELMODEL_TIE_NEGATIVE;	/* the reference's rule */
		if (min_z >= 0)
			lo.min_z = min_z;
		labelmodel_init(&lm, &lo);
		if (labelmodel_fit(&lm, L, n, width) != 0)
			die("%s%s%zu: %s", classes ? "class " : "", classes ? "" : "",
			    classes ? q : 0, loam_error());
		if (labelmodel_predict(&lm, L, n, width, proba + q * n, NULL) != 0)
			die("%s", loam_error());
		memcpy(acc + q * width, lm.accuracy, width * sizeof *acc);
		labelmodel_release(&lm);
	}

	/* Labels: the sign of the posterior (ties to -1, the reference's
	 * rule), or the most probable class. */
	label = xcalloc(n, sizeof *label);
	before = xcalloc(n, sizeof *before);
	best_p = xcalloc(n, sizeof *best_p);
	for (size_t i = 0; i < n; i++) {
		before[i] = original_vote(rw.votes + i * m, m, classes);
		if (!classes) {
			label[i] = proba[i] > 0.5 ? 1 : -1;
			best_p[i] = proba[i];
		} else {
			size_t b = 0;

			for (size_t q = 1; q < problems; q++)
				if (proba[q * n + i] > proba[b * n + i])
					b = q;
			label[i] = (int)b;
			best_p[i] = proba[b * n + i];
		}
		flipped += before[i] != label[i];
	}
	t_rest = cli_now() - t0;

	for (size_t i = 0; i < n; i++) {
		char num[64];
		int len;

		printbuf_reset(extra);
		len = snprintf(num, sizeof num, "{\"embroid\":%d,\"embroid_p\":%.17g",
		    zero_one ? (label[i] + 1) / 2 : label[i], best_p[i]);
		printbuf_memappend(extra, num, len);
		if (explain) {
			printbuf_memappend(extra, ",\"embroid_smoothed\":[", 21);
			for (size_t q = 0; q < problems; q++) {
				if (classes)
					printbuf_memappend(extra, q ? ",[" : "[", q ? 2 : 1);
				for (size_t j = m; j < width; j++) {
					len = snprintf(num, sizeof num, "%s%d", j > m ? "," : "",
					    smooth_keep[q * n * width + i * width + j]);
					printbuf_memappend(extra, num, len);
				}
				if (classes)
					printbuf_memappend(extra, "]", 1);
			}
			printbuf_memappend(extra, "],\"embroid_accuracy\":[", 22);
			for (size_t q = 0; q < problems; q++) {
				if (classes)
					printbuf_memappend(extra, q ? ",[" : "[", q ? 2 : 1);
				for (size_t j = 0; j < width; j++) {
					len = snprintf(num, sizeof num, "%s%.6g", j ? "," : "",
					    acc[q * width + j]);
					printbuf_memappend(extra, num, len);
				}
				if (classes)
					printbuf_memappend(extra, "]", 1);
			}
			printbuf_memappend(extra, "]", 1);
		}
		printbuf_memappend(extra, "}", 1);
		write_record(fp, o.output ? o.output : "stdout", rw.line[i], extra);
	}
	cli_out_commit(&out);

	if (!o.quiet) {
		note("%zu rows, %zu source%s, %zu space%s: knn %.3f s, rest %.3f s; flipped %zu of %zu",
		    n, m, m == 1 ? "" : "s", E, E == 1 ? "" : "s", t_knn, t_rest, flipped, n);
		for (size_t q = 0; q < problems; q++) {
			char line[4096];
			size_t at = 0;

			for (size_t j = 0; j < width && at + 32 < sizeof line; j++)
				at += (size_t)snprintf(line + at, sizeof line - at, " %.4f", acc[q * width + j]);
			if (classes)
				note("class %zu: estimated accuracies (votes, then smoothed by space):%s", q, line);
			else
				note("estimated accuracies (votes, then smoothed by space):%s", line);
		}
		if (gold_field) {
			size_t right0 = 0, right1 = 0;

			for (size_t i = 0; i < n; i++) {
				right0 += before[i] == rw.gold[i];
				right1 += label[i] == rw.gold[i];
			}
			note("gold: accuracy %.4f -> %.4f, macro-F1 %.4f -> %.4f",
			    (double)right0 / n, (double)right1 / n,
			    macro_f1(rw.gold, before, n, classes), macro_f1(rw.gold, label, n, classes));
		}
	}

	for (size_t s = 0; s < nsp; s++) {
		free(sp[s].name);
		free(sp[s].path);
		free(sp[s].x);
		free(sp[s].nbr);
	}
	free(sp);
	for (size_t i = 0; i < n; i++)
		free(rw.line[i]);
	free(rw.line);
	free(rw.votes);
	free(rw.gold);
	free(bin);
	free(L);
	free(tp);
	free(tn);
	free(proba);
	free(acc);
	free(smooth_keep);
	free(nb);
	free(label);
	free(before);
	free(best_p);
	printbuf_free(extra);
	return cli_exit();
}
