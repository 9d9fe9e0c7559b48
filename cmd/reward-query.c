/*
 * reward-query - kernel reward learning with optimal query design (after
 * Bhatia, Guo and Steinhardt, arXiv 2302.12349): a kernel ridge (GP)
 * reward model over candidates' kernel mean embeddings, its predictions,
 * its recommendation and the next queries; see reward-query(1).
 *
 * The method is lib/method/rkhs.c.  This file reads candidate and obs
 * records, keeps them until the end of the input (an obs may come before
 * its candidate), then fits, predicts, designs and writes; and it saves
 * and loads the state a closed loop carries from one call to the next.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rec.h"
#include "recw.h"
#include "rkhs.h"
#include "rkhs_state.h"
#include "rng.h"
#include "stream.h"
#include "strtab.h"
#include "util.h"

enum {
	OPT_KERNEL = CLI_LONG, OPT_LENGTHSCALE, OPT_VARIANCE, OPT_LAMBDA, OPT_NOISE,
	OPT_FIT_HYPER, OPT_DESIGN, OPT_BATCH, OPT_EXCLUDE, OPT_NO_PRED, OPT_B, OPT_DELTA,
	OPT_SAVE, OPT_LOAD, OPT_SKIP_BAD,
};

/* The largest dimension and batch taken: far beyond what a dense
 * posterior over the candidates can serve anyway. */
#define MAX_DIM 65536
#define MAX_BATCH 1000000
#define FIT_ITERATIONS 200
#define DENSE_DESIGN_MAX 2048	/* candidates; above, rkhs_design_lazy */

static const struct cli_option options[] = {
	{ 'q', "quiet", NULL, NULL, "no summary line on stderr" },
	{ OPT_KERNEL, "kernel", "name", "K",
	    "matern12, matern32, matern52 (default), matern:NU or rbf" },
	{ OPT_LENGTHSCALE, "lengthscale", "l[,l...]", "L",
	    "one lengthscale, or one per dimension (default 1)" },
	{ OPT_VARIANCE, "variance", "v", "V", "the signal variance (default 1)" },
	{ OPT_LAMBDA, "lambda", "l", "L", "the ridge λ, the noise variance (default 0.01)" },
	{ OPT_NOISE, "noise", "s2", "S2", "the noise variance σ² (the same as --lambda)" },
	{ OPT_FIT_HYPER, "fit-hyper", NULL, NULL,
	    "fit lengthscales, variance and noise by marginal likelihood" },
	{ OPT_DESIGN, "design", "rule", "RULE",
	    "gopt (default), maxvar, ucb, eigen or random" },
	{ OPT_BATCH, "batch", "n", "N", "queries to choose (default 1; 0: none)" },
	{ OPT_EXCLUDE, "exclude-observed", NULL, NULL, "query only candidates not observed" },
	{ OPT_NO_PRED, "no-pred", NULL, NULL, "write no pred records" },
	{ OPT_B, "B", "b", "B", "the bound B on the reward's RKHS norm (default 1)" },
	{ OPT_DELTA, "delta", "d", "D", "the bound's confidence δ (default 0.05)" },
	{ 's', "seed", "seed", "SEED", "the random design's seed (default 0)" },
	{ OPT_LOAD, "load", "file", "FILE", "start from a saved state" },
	{ OPT_SAVE, "save", "file", "FILE", "save the state at the end (atomically)" },
	{ OPT_SKIP_BAD, "skip-bad", NULL, NULL, "report and skip bad records" },
	{ 'o', "output", "file", "FILE", "write to FILE atomically" },
	CLI_OPTIONS_END
};
static const struct cli_spec spec = {
	NULL, "[file ...]",
	"Fit a kernel reward model to observed candidates; choose the next queries.",
	options,
	"Reads {\"type\":\"candidate\",\"id\":I,\"x\":[...]} (or \"samples\" and \"weights\")\n"
	"and {\"type\":\"obs\",\"id\":I,\"y\":Y}; writes pred, recommend and query records.\n"
};

static const char *const design_names[] = { "gopt", "maxvar", "ucb", "eigen", "random" };

/* Settings; the *_given flags say what a loaded state may not override. */
struct settings {
	struct rkhs_hyper hyper;	/* kernel and noise */
	int kernel_given, ls_given, variance_given, noise_given;
	int fit_hyper, exclude_observed, no_pred, skip_bad;
	enum rkhs_design_rule design;
	size_t batch;
	double B, delta;
	const char *save, *load;
};

/* Everything read: the candidates, their ids, the raw observations. */
struct query {
	struct rkhs_set set;		/* dim 0 until the first candidate */
	struct strtab *ids;		/* every id seen, candidate's or obs's */
	size_t *cand_of;		/* per id: its candidate + 1, 0 for none yet */
	size_t idcap;
	uint32_t *cand_id;		/* per candidate: its id */
	unsigned char *cand_int;	/* per candidate: the id was an integer */
	char **cand_text;		/* per candidate: its record, for --save */
	size_t candcap;
	uint32_t *obs_id;		/* per raw observation */
	double *obs_y;
	uint32_t *obs_file;		/* where it was read, for messages */
	unsigned long *obs_line;
	size_t nobs, obscap;
	struct strtab *files;
	int skip_bad;
	uint64_t skipped;
};

static void
query_init(struct query *q)
{
	memset(q, 0, sizeof *q);
	rkhs_set_init(&q->set, 0);
	q->ids = strtab_new();
	q->files = strtab_new();
}

static void
query_release(struct query *q)
{
	for (size_t i = 0; i < q->set.n; i++)
		free(q->cand_text[i]);
	rkhs_set_release(&q->set);
	strtab_free(q->ids);
	strtab_free(q->files);
	free(q->cand_of);
	free(q->cand_id);
	free(q->cand_int);
	free(q->cand_text);
	free(q->obs_id);
	free(q->obs_y);
	free(q->obs_file);
	free(q->obs_line);
}

/* The id field: interned, and whether it was an integer. */
static int
read_id(struct query *q, struct rec *r, uint32_t *id, int *is_int)
{
	char num[24];
	const char *s;
	size_t len;

	if (rec_get_key(r, "id", num, &s, &len) != 0)
		return -1;
	*id = strtab_intern(q->ids, s, len);
	*is_int = s == num;
	if (*id >= q->idcap) {
		size_t cap = q->idcap ? 2 * q->idcap : 256;
		q->cand_of = xreallocarray(q->cand_of, cap, sizeof *q->cand_of);
		memset(q->cand_of + q->idcap, 0, (cap - q->idcap) * sizeof *q->cand_of);
		q->idcap = cap;
	}
	return 0;
}

static void
write_id(struct recw *w, const struct query *q, size_t c)
{
	size_t len;
	const char *s = strtab_str(q->ids, q->cand_id[c], &len);

	if (q->cand_int[c])
		recw_raw(w, "id", s, len);
	else
		recw_strn(w, "id", s, len);
}

/* The point of "x" or the samples of "samples" (n × dim, row by row)
 * into *buf; the candidate's dimension is set from the first. */
static int
read_point(struct rec *r, double **buf, size_t *cap, size_t at, int *dim,
    const char *what, json_object *v)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array))
		return rec_errorf(r, "%s: expected an array of numbers", what);
	n = json_object_array_length(v);
	if (n == 0 || n > MAX_DIM)
		return rec_errorf(r, "%s: %zu coordinates (1 to %d)", what, n, MAX_DIM);
	if (*dim == 0)
		*dim = (int)n;
	else if (n != (size_t)*dim)
		return rec_errorf(r, "%s: %zu coordinates; the candidates have %d", what, n,
		    *dim);
	if (at + n > *cap) {
		*cap = 2 * (at + n);
		*buf = xreallocarray(*buf, *cap, sizeof **buf);
	}
	for (size_t i = 0; i < n; i++) {
		double *x = *buf + at + i;
		if (rec_json_double(json_object_array_get_idx(v, i), what, x) != REC_OK)
			return rec_errorf(r, "%s", loam_error());
		if (!isfinite(*x))
			return rec_errorf(r, "%s: coordinate %zu is not finite", what, i);
	}
	return 0;
}

static int
read_candidate(struct query *q, struct rec *r)
{
	json_object *x, *samples;
	double *pts = NULL, *w = NULL;
	size_t cap = 0, m = 0, n, c = q->set.n;
	int dim = q->set.dim, hx, hs, is_int, rc = -1;
	uint32_t id;
	const char *text;

	if (read_id(q, r, &id, &is_int) != 0)
		return -1;
	if (q->cand_of[id]) {
		size_t len;
		return rec_errorf(r, "candidate id '%s' given twice",
		    strtab_str(q->ids, id, &len));
	}
	hx = rec_get(r, "x", &x);
	hs = rec_get(r, "samples", &samples);
	if (hx == REC_BAD || hs == REC_BAD)
		return rec_errorf(r, "%s", loam_error());
	if ((hx == REC_OK) == (hs == REC_OK))
		return rec_errorf(r, "a candidate has either 'x' or 'samples'");
	if (hx == REC_OK) {
		if (rec_get(r, "weights", &x) != REC_ABSENT)
			return rec_errorf(r, "field 'weights' goes with 'samples', not 'x'");
		rec_get(r, "x", &x);
		if (read_point(r, &pts, &cap, 0, &dim, "field 'x'", x) != 0)
			goto out;
		m = 1;
	} else {
		if (!json_object_is_type(samples, json_type_array) ||
		    (m = json_object_array_length(samples)) == 0) {
			rc = rec_errorf(r, "field 'samples': expected a non-empty array of points");
			goto out;
		}
		for (size_t i = 0; i < m; i++)
			if (read_point(r, &pts, &cap, i * (size_t)dim, &dim, "field 'samples'",
			    json_object_array_get_idx(samples, i)) != 0)
				goto out;
		switch (rec_get_array_len(r, "weights", &n)) {
		case REC_ABSENT:
			break;
		case REC_OK:
			if (n != m) {
				rc = rec_errorf(r, "field 'weights': %zu weights for %zu samples",
				    n, m);
				goto out;
			}
			w = xmalloc(m * sizeof *w);
			if (rec_get_doubles(r, "weights", w, m, &n) == REC_OK)
				break;
			/* FALLTHROUGH */
		default:
			rc = rec_errorf(r, "%s", loam_error());
			goto out;
		}
	}
	if (q->set.n == 0 && q->set.dim == 0)
		q->set.dim = dim;
	if (rkhs_set_add(&q->set, pts, m, w) != 0) {
		rc = rec_errorf(r, "%s", loam_error());
		goto out;
	}
	if (c + 1 > q->candcap) {
		q->candcap = q->candcap ? 2 * q->candcap : 256;
		q->cand_id = xreallocarray(q->cand_id, q->candcap, sizeof *q->cand_id);
		q->cand_int = xreallocarray(q->cand_int, q->candcap, sizeof *q->cand_int);
		q->cand_text = xreallocarray(q->cand_text, q->candcap, sizeof *q->cand_text);
	}
	q->cand_id[c] = id;
	q->cand_int[c] = (unsigned char)is_int;
	text = rec_to_string(r, &n);
	q->cand_text[c] = xstrndup(text ? text : "", text ? n : 0);
	q->cand_of[id] = c + 1;
	rc = 0;
out:
	free(pts);
	free(w);
	return rc;
}

static int
read_obs(struct query *q, struct rec *r)
{
	uint32_t id;
	int is_int, rc;
	double y;

	if (read_id(q, r, &id, &is_int) != 0)
		return -1;
	rc = rec_get_double(r, "y", &y);
	if (rc == REC_ABSENT)
		return rec_errorf(r, "field 'y' missing");
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	if (!isfinite(y))
		return rec_errorf(r, "field 'y': not a finite number");
	if (q->nobs == q->obscap) {
		q->obscap = q->obscap ? 2 * q->obscap : 256;
		q->obs_id = xreallocarray(q->obs_id, q->obscap, sizeof *q->obs_id);
		q->obs_y = xreallocarray(q->obs_y, q->obscap, sizeof *q->obs_y);
		q->obs_file = xreallocarray(q->obs_file, q->obscap, sizeof *q->obs_file);
		q->obs_line = xreallocarray(q->obs_line, q->obscap, sizeof *q->obs_line);
	}
	q->obs_id[q->nobs] = id;
	q->obs_y[q->nobs] = y;
	q->obs_file[q->nobs] = strtab_intern(q->files, r->file, strlen(r->file));
	q->obs_line[q->nobs++] = r->line;
	return 0;
}

static int
is_type(const char *type, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(type, name, len) == 0;
}

static int
query_one(struct rec *r, void *arg)
{
	static const char *const ours[] = { "pred", "recommend", "query", "hyper" };
	struct query *q = arg;
	const char *type;
	size_t len;
	int rc = rec_get_str(r, "type", &type, &len);

	if (rc == REC_ABSENT)
		return rec_errorf(r, "field 'type' missing (candidate or obs)");
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	if (is_type(type, len, "candidate"))
		return read_candidate(q, r);
	if (is_type(type, len, "obs"))
		return read_obs(q, r);
	/* What reward-query writes may come back through a labeller that
	 * passes its input on: it is not input, and is ignored. */
	for (size_t i = 0; i < sizeof ours / sizeof *ours; i++)
		if (is_type(type, len, ours[i]))
			return 0;
	return rec_errorf(r, "type '%.*s': expected candidate or obs", (int)(len > 32 ? 32 : len),
	    type);
}

/* "file:line" of raw observation i. */
static void
obs_where(const struct query *q, size_t i, char *buf, size_t n)
{
	size_t len;

	snprintf(buf, n, "%s:%lu", strtab_str(q->files, q->obs_file[i], &len), q->obs_line[i]);
}

/* The candidate index of every raw observation; an obs whose id no
 * candidate has is the error (or, with --skip-bad, dropped). */
static size_t *
resolve_obs(struct query *q)
{
	size_t *cand = xmalloc((q->nobs ? q->nobs : 1) * sizeof *cand), k = 0;
	char where[512];

	for (size_t i = 0; i < q->nobs; i++) {
		size_t c = q->cand_of[q->obs_id[i]], len;

		if (c == 0) {
			const char *id = strtab_str(q->ids, q->obs_id[i], &len);
			obs_where(q, i, where, sizeof where);
			if (!q->skip_bad)
				die("%s: obs for unknown id '%s': no candidate has it", where, id);
			note("%s: obs for unknown id '%s': no candidate has it (skipped)", where,
			    id);
			q->skipped++;
			continue;
		}
		q->obs_id[k] = q->obs_id[i];
		q->obs_y[k] = q->obs_y[i];
		q->obs_file[k] = q->obs_file[i];
		q->obs_line[k] = q->obs_line[i];
		cand[k++] = c - 1;
	}
	q->nobs = k;
	return cand;
}

static void
write_hyper(struct recw *w, const struct rkhs_kernel *k, double noise, double lml,
    size_t nobs)
{
	char name[64];

	recw_begin(w);
	recw_str(w, "type", "hyper");
	rkhs_kernel_name(k, name, sizeof name);
	recw_str(w, "kernel", name);
	recw_doubles(w, "lengthscale", k->ls, (size_t)k->nls);
	recw_double(w, "variance", k->variance);
	recw_double(w, "noise", noise);
	recw_double(w, "lml", lml);
	recw_uint(w, "observations", nobs);
	if (recw_end(w) != 0)
		die("%s", loam_error());
}

/*
 * The state file (rkhs_state.h): the header, the candidate records as
 * read, and the observations, each id as its candidate gave it; so a
 * call that loads it and reads new records computes what one call over
 * all the records would.
 */
static void
state_save(const struct query *q, const struct rkhs_hyper *h, const char *path)
{
	struct cli_out out;
	struct recw w;
	FILE *fp = cli_out_open(&out, path);

	recw_init(&w, fp, path);
	recw_begin(&w);
	rkhs_state_write_header(&w, h);
	if (recw_end(&w) != 0)
		die("%s: %s", path, loam_error());
	for (size_t i = 0; i < q->set.n; i++)
		if (fputs(q->cand_text[i], fp) == EOF || putc('\n', fp) == EOF)
			cli_write_failed(path);
	for (size_t i = 0; i < q->nobs; i++) {
		recw_begin(&w);
		recw_str(&w, "type", "obs");
		write_id(&w, q, q->cand_of[q->obs_id[i]] - 1);
		recw_double(&w, "y", q->obs_y[i]);
		if (recw_end(&w) != 0)
			die("%s: %s", path, loam_error());
	}
	cli_out_commit(&out);
	recw_release(&w);
}

/* The header's hyperparameters where the command line gave none, then
 * the state's records as input. */
static void
state_load(struct query *q, struct settings *st, const char *path)
{
	struct rec_reader rd;
	struct rkhs_hyper h;
	struct rec *r;
	int rc;

	if (rec_reader_open(&rd, path) != 0)
		die("%s", loam_error());
	if ((rc = rec_next(&rd, &r)) != 1)
		die("%s: %s", path, rc < 0 ? loam_error() : "empty: not a reward-query state");
	rkhs_hyper_init(&h);
	if (rkhs_state_read_header(r, &h) != 0)
		die("%s: %s", rec_where(r), loam_error());
	if (!st->kernel_given) {
		st->hyper.family = h.family;
		st->hyper.nu = h.nu;
	}
	if (!st->ls_given)
		rkhs_hyper_set_ls(&st->hyper, h.ls, h.nls);
	if (!st->variance_given)
		st->hyper.variance = h.variance;
	if (!st->noise_given)
		st->hyper.noise = h.noise;
	rkhs_hyper_release(&h);
	while ((rc = rec_next(&rd, &r)) == 1)
		if (query_one(r, q) != 0)
			break;
	if (rc != 0)
		die("%s", loam_error());
	rec_reader_close(&rd);
}

/* Fit, predict, recommend and design; write the records. */
static void
query_finish(struct query *q, struct settings *st, struct recw *w, uint64_t seed,
    int quiet)
{
	size_t n = q->set.n, *cand, *pick = NULL;
	struct rkhs_kernel k;
	struct rkhs_obs obs;
	struct rkhs_post post;
	double *mean, *sd, *cov = NULL, *crit = NULL, beta, bound, noise = st->hyper.noise;
	unsigned char *eligible = NULL;
	int got = 0;
	char where[512];

	cand = resolve_obs(q);
	if (rkhs_obs_init(&obs, cand, q->obs_y, q->nobs) != 0)
		die("%s", loam_error());
	if (n == 0) {
		if (!quiet)
			note("no candidates");
		free(cand);
		rkhs_obs_release(&obs);
		return;
	}
	if (rkhs_hyper_kernel(&st->hyper, q->set.dim, &k) != 0)
		usage_error("%s", loam_error());
	if (st->fit_hyper) {
		double lml = 0;
		if (obs.n && rkhs_fit_hyper(&k, &noise, &q->set, &obs, RKHS_FIT_LENGTHSCALE |
		    RKHS_FIT_VARIANCE | RKHS_FIT_NOISE, FIT_ITERATIONS, &lml) < 0)
			die("--fit-hyper: %s", loam_error());
		rkhs_hyper_from_kernel(&st->hyper, &k, noise);
		write_hyper(w, &k, noise, lml, q->nobs);
	}
	if (rkhs_post_fit(&post, &k, &q->set, &obs, noise) != 0) {
		if (q->nobs) {
			obs_where(q, q->nobs - 1, where, sizeof where);
			die("%s: %s", where, loam_error());
		}
		die("%s", loam_error());
	}
	mean = xmalloc(n * sizeof *mean);
	sd = xmalloc(n * sizeof *sd);
	/* The dense covariance, n² doubles (two copies for gopt), is faster
	 * up to a few thousand candidates; above, the columns are computed
	 * when needed (rkhs_design_lazy: the same picks).  eigen needs it. */
	if (st->batch && st->design != RKHS_RANDOM &&
	    (n <= DENSE_DESIGN_MAX || st->design == RKHS_EIGEN))
		cov = xmalloc(n * n * sizeof *cov);
	rkhs_post_predict(&post, &k, &q->set, &obs, NULL, n, mean, sd, cov);
	for (size_t i = 0; !st->no_pred && i < n; i++) {
		recw_begin(w);
		recw_str(w, "type", "pred");
		write_id(w, q, i);
		recw_double(w, "mean", mean[i]);
		recw_double(w, "sd", sd[i]);
		if (recw_end(w) != 0)
			die("%s", loam_error());
	}
	beta = rkhs_beta(&post, &obs, st->B, 0, st->delta);
	{
		size_t best = rkhs_recommend(n, mean, sd, beta, &bound);
		recw_begin(w);
		recw_str(w, "type", "recommend");
		write_id(w, q, best);
		recw_double(w, "mean", mean[best]);
		recw_double(w, "sd", sd[best]);
		recw_double(w, "bound", bound);
		recw_double(w, "beta", beta);
		if (recw_end(w) != 0)
			die("%s", loam_error());
	}
	if (st->batch) {
		struct rng r;
		size_t b = st->batch < n ? st->batch : n;

		if (st->exclude_observed) {
			eligible = xmalloc(n);
			memset(eligible, 1, n);
			for (size_t i = 0; i < obs.n; i++)
				eligible[obs.cand[i]] = 0;
		}
		rng_init(&r, seed, RNG_REWARD_QUERY_RANDOM, q->nobs);
		pick = xmalloc(b * sizeof *pick);
		crit = xmalloc(b * sizeof *crit);
		if (cov || st->design == RKHS_RANDOM)
			got = rkhs_design(st->design, n, mean, cov, noise, beta, eligible, b,
			    &r, pick, crit);
		else
			got = rkhs_design_lazy(st->design, &post, &k, &q->set, &obs, mean,
			    beta, eligible, b, &r, pick, crit);
		if (got < 0)
			die("%s", loam_error());
		for (int j = 0; j < got; j++) {
			recw_begin(w);
			recw_str(w, "type", "query");
			write_id(w, q, pick[j]);
			recw_int(w, "order", j + 1);
			recw_double(w, "criterion", crit[j]);
			if (recw_end(w) != 0)
				die("%s", loam_error());
		}
	}
	if (!quiet)
		note("%zu candidates, %zu observations of %zu; jitter %g; %d queries", n, q->nobs,
		    obs.n, post.jitter, got);
	free(cand);
	free(mean);
	free(sd);
	free(cov);
	free(crit);
	free(pick);
	free(eligible);
	rkhs_post_release(&post);
	rkhs_obs_release(&obs);
	rkhs_kernel_release(&k);
}

static void
parse_lengthscales(struct settings *st, const char *arg)
{
	char *copy = xstrdup(arg), *cur = copy, *e;
	size_t n = 1;
	double *ls;

	for (const char *p = arg; *p; p++)
		n += *p == ',';
	if (n > MAX_DIM)
		usage_error("--lengthscale: more than %d values", MAX_DIM);
	ls = xmalloc(n * sizeof *ls);
	n = 0;
	while ((e = cli_list_next(&cur, ',', "--lengthscale", arg)) != NULL)
		ls[n++] = cli_parse_double("--lengthscale", e, 1e-300, 1e300);
	rkhs_hyper_set_ls(&st->hyper, ls, (int)n);
	free(ls);
	free(copy);
}

int
main(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct settings st;
	struct query q;
	struct stream s;
	struct recw w;
	const char *arg;
	int c;

	memset(&st, 0, sizeof st);
	rkhs_hyper_init(&st.hyper);
	st.design = RKHS_GOPT;
	st.batch = 1;
	st.B = 1;
	st.delta = 0.05;
	cli_begin(&o, argc, argv, &spec, CLI_BLAS);
	while ((c = cli_next(&o, &arg)) != -1)
		switch (c) {
		case OPT_KERNEL:
			if (rkhs_kernel_parse(arg, &st.hyper.family, &st.hyper.nu) != 0)
				usage_error("--kernel: '%s' is not matern12, matern32, matern52, "
				    "matern:NU (NU > 0) or rbf", arg);
			st.kernel_given = 1;
			break;
		case OPT_LENGTHSCALE:
			parse_lengthscales(&st, arg);
			st.ls_given = 1;
			break;
		case OPT_VARIANCE:
			st.hyper.variance = cli_parse_double("--variance", arg, 1e-300, 1e300);
			st.variance_given = 1;
			break;
		case OPT_LAMBDA:
		case OPT_NOISE:
			if (st.noise_given)
				usage_error("--lambda and --noise: the same value, given twice");
			st.hyper.noise = cli_parse_double(c == OPT_LAMBDA ? "--lambda" : "--noise",
			    arg, 1e-300, 1e300);
			st.noise_given = 1;
			break;
		case OPT_FIT_HYPER: st.fit_hyper = 1; break;
		case OPT_DESIGN:
			st.design = (enum rkhs_design_rule)cli_parse_choice("--design", arg,
			    design_names, 5);
			break;
		case OPT_BATCH: st.batch = cli_parse_u64("--batch", arg, 0, MAX_BATCH); break;
		case OPT_EXCLUDE: st.exclude_observed = 1; break;
		case OPT_NO_PRED: st.no_pred = 1; break;
		case OPT_B: st.B = cli_parse_double("--B", arg, 0, 1e300); break;
		case OPT_DELTA: st.delta = cli_parse_double("--delta", arg, 1e-300, 1); break;
		case OPT_SAVE: st.save = arg; break;
		case OPT_LOAD: st.load = arg; break;
		case OPT_SKIP_BAD: st.skip_bad = 1; break;
		}
	if (st.delta >= 1)
		usage_error("--delta: '%g' is not in (0, 1)", st.delta);
	query_init(&q);
	if (st.load)
		state_load(&q, &st, st.load);
	q.skip_bad = st.skip_bad;
	stream_init(&s, &o);
	s.skip_bad = st.skip_bad;
	stream_run(&s, o.argc, o.argv, query_one, &q);
	recw_init(&w, cli_out_open(&out, o.output), o.output);
	query_finish(&q, &st, &w, o.seed, o.quiet);
	if (st.save)
		state_save(&q, &st.hyper, st.save);
	cli_out_commit(&out);
	recw_release(&w);
	query_release(&q);
	rkhs_hyper_release(&st.hyper);
	return cli_exit();
}
