/* labelmodel - see labelmodel.h, which states the estimator step by step. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "labelmodel.h"
#include "util.h"

/* Step 4's estimated p stays this far from 0 and 1: a balance estimated
 * at the edge would make every source's table degenerate. */
#define BALANCE_MIN	0.01

/* logw layout: [source][y][vote + 1], y index 0 for +1 and 1 for -1. */
#define W(lm, i, y, v)	\
	((lm)->logw[((i) * 2 + (size_t)(y)) * 3 + (size_t)((v) + 1)])

void
labelmodel_opts_default(struct labelmodel_opts *o)
{
	o->class_balance = 0.5;
	o->min_z = 2.0;
	o->prob_floor = 1e-3;
	o->tie = LABELMODEL_TIE_ABSTAIN;
	o->reference = 0;
}

void
labelmodel_opts_reference(struct labelmodel_opts *o)
{
	labelmodel_opts_default(o);
	o->tie = LABELMODEL_TIE_NEGATIVE;
	o->reference = 1;
}

void
labelmodel_init(struct labelmodel *lm, const struct labelmodel_opts *o)
{
	memset(lm, 0, sizeof *lm);
	if (o != NULL)
		lm->opts = *o;
	else
		labelmodel_opts_default(&lm->opts);
}

static void
free_arrays(struct labelmodel *lm)
{
	free(lm->accuracy);
	free(lm->coverage);
	free(lm->vote_y);
	free(lm->ntriplets);
	free(lm->cond_pos);
	free(lm->cond_neg);
	free(lm->moment);
	free(lm->pair_rows);
	free(lm->logw);
	lm->accuracy = lm->coverage = lm->vote_y = NULL;
	lm->cond_pos = lm->cond_neg = lm->moment = lm->logw = NULL;
	lm->ntriplets = lm->pair_rows = NULL;
	lm->nsources = lm->nrows = 0;
}

void
labelmodel_release(struct labelmodel *lm)
{
	free_arrays(lm);
}

static int
check_opts(const struct labelmodel_opts *o)
{
	double p = o->class_balance;

	if (p != LABELMODEL_ESTIMATE && !(p > 0 && p < 1))
		return loam_seterr("class balance %g is not in (0, 1)", p);
	if (!(o->min_z >= 0) || !isfinite(o->min_z))
		return loam_seterr("triplet threshold %g is not a finite "
		    "number >= 0", o->min_z);
	if (!(o->prob_floor >= 0 && o->prob_floor < 0.5))
		return loam_seterr("probability floor %g is not in [0, 0.5)",
		    o->prob_floor);
	if (o->tie != LABELMODEL_TIE_ABSTAIN &&
	    o->tie != LABELMODEL_TIE_NEGATIVE &&
	    o->tie != LABELMODEL_TIE_POSITIVE)
		return loam_seterr("unknown tie rule %d", o->tie);
	return 0;
}

static double
clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/*
 * Step 1.  The columns are copied out first so that each pair's sums
 * run over two contiguous int8 arrays, which the compiler vectorises:
 * O(n m^2) work with m in the hundreds stays in seconds at n = 10^6.
 * Sums stay integers until the end, so the moments do not depend on
 * the order of the rows.  Also counts each source's +1 and -1 votes.
 */
static int
count_moments(struct labelmodel *lm, const int8_t *votes, size_t n, size_t m,
    size_t *npos, size_t *nneg, int64_t *sum)
{
	int8_t *col;
	size_t i, j, t;

	col = xmalloc(n * m);
	for (t = 0; t < n; t++)
		for (i = 0; i < m; i++) {
			int8_t v = votes[t * m + i];

			if (v < -1 || v > 1) {
				free(col);
				return loam_seterr("row %zu, source %zu: vote %d "
				    "is not -1, 0 or +1", t, i, (int)v);
			}
			col[i * n + t] = v;
			npos[i] += v > 0;
			nneg[i] += v < 0;
		}
	for (i = 0; i < m; i++) {
		lm->pair_rows[i * m + i] = npos[i] + nneg[i];
		sum[i * m + i] = (int64_t)(npos[i] + nneg[i]);
		for (j = i + 1; j < m; j++) {
			const int8_t *a = col + i * n, *b = col + j * n;
			int64_t s = 0, c = 0;

			for (t = 0; t < n; t++) {
				int prod = a[t] * b[t];

				s += prod;
				c += prod * prod;
			}
			sum[i * m + j] = sum[j * m + i] = s;
			lm->pair_rows[i * m + j] = lm->pair_rows[j * m + i] =
			    (size_t)c;
		}
	}
	free(col);
	return 0;
}

/* The refusals of the header: sources that identify nothing. */
static int
check_degenerate(const struct labelmodel *lm, size_t m, const int64_t *sum)
{
	size_t i, j;

	for (i = 0; i < m; i++)
		if (lm->pair_rows[i * m + i] == 0)
			return loam_seterr("source %zu never votes", i);
	for (i = 0; i < m; i++)
		for (j = i + 1; j < m; j++) {
			size_t nij = lm->pair_rows[i * m + j];

			/* same abstain rows, and every vote equal or
			 * every vote opposite */
			if (nij != lm->pair_rows[i * m + i] ||
			    nij != lm->pair_rows[j * m + j])
				continue;
			if (sum[i * m + j] == (int64_t)nij)
				return loam_seterr("sources %zu and %zu are "
				    "identical", i, j);
			if (sum[i * m + j] == -(int64_t)nij)
				return loam_seterr("sources %zu and %zu are "
				    "exact opposites", i, j);
		}
	return 0;
}

/* Step 2 as labelmodel.h describes it; |e_i| into vote_y. */
static void
triplets(struct labelmodel *lm, size_t m)
{
	const double *M = lm->moment;
	const size_t *nr = lm->pair_rows;
	size_t i, j, k;

	for (i = 0; i < m; i++) {
		double total = 0;
		size_t count = 0;

		for (j = 0; j < m; j++) {
			if (j == i)
				continue;
			for (k = j + 1; k < m; k++) {
				double mij = M[i * m + j], mik = M[i * m + k];
				double mjk = M[j * m + k], r;

				if (k == i)
					continue;
				if (lm->opts.reference) {
					/* FlyingSquid: a zero denominator
					 * still counts, as 0 */
					count++;
					if (mjk != 0)
						total += sqrt(fabs(mij * mik /
						    mjk));
					continue;
				}
				if (nr[i * m + j] == 0 || nr[i * m + k] == 0 ||
				    nr[j * m + k] == 0 || mjk == 0)
					continue;
				if (fabs(mjk) < lm->opts.min_z *
				    sqrt((1 - mjk * mjk) / (double)nr[j * m + k]))
					continue;
				r = mij * mik / mjk;
				count++;
				if (r > 0)
					total += sqrt(r);
			}
		}
		lm->ntriplets[i] = count;
		lm->vote_y[i] = count > 0 ? total / (double)count : 0;
	}
}

/*
 * Step 3: the signs of the leading eigenvector of M with |e|^2 on the
 * diagonal.  Under the model that matrix is e e^T, whose only nonzero
 * eigenvector is e itself; the eigenvector of the noisy one weighs every
 * pair by how strongly it is correlated, where signs taken from any one
 * anchor source would inherit that source's noise.
 */
static int
recover_signs(struct labelmodel *lm, size_t m)
{
	double *a, *w, total = 0;
	size_t i, j;
	lapack_int info;

	a = xcalloc(m * m, sizeof *a);
	w = xcalloc(m, sizeof *w);
	for (i = 0; i < m; i++)
		for (j = 0; j < m; j++) {
			if (i == j)
				a[i * m + j] = lm->vote_y[i] * lm->vote_y[i];
			else if (lm->pair_rows[i * m + j] > 0)
				a[i * m + j] = lm->moment[i * m + j];
		}
	/* eigenvalues ascending; the vectors are a's columns */
	info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)m, a,
	    (lapack_int)m, w);
	if (info != 0) {
		free(a);
		free(w);
		return loam_seterr("sign recovery: eigendecomposition failed "
		    "(LAPACK dsyev info %d)", (int)info);
	}
	for (i = 0; i < m; i++) {
		if (a[i * m + (m - 1)] < 0)
			lm->vote_y[i] = -lm->vote_y[i];
		total += lm->vote_y[i];
	}
	/* the eigenvector's orientation is arbitrary: take the one in which
	 * the sources are better than chance on balance */
	if (total < 0)
		for (i = 0; i < m; i++)
			lm->vote_y[i] = -lm->vote_y[i];
	free(a);
	free(w);
	return 0;
}

/* Step 4's estimator.  vote_y holds e_i conditional on voting. */
static double
estimate_balance(const struct labelmodel *lm, size_t m, const size_t *npos,
    const size_t *nneg)
{
	double num = 0, den = 0;
	size_t i;

	for (i = 0; i < m; i++) {
		double ni = (double)(npos[i] + nneg[i]);
		double e = clamp(lm->vote_y[i], -1, 1);
		double mean = ((double)npos[i] - (double)nneg[i]) / ni;

		if (lm->ntriplets[i] == 0)
			continue;
		num += ni * mean * e;
		den += ni * e * e;
	}
	if (den <= 0)
		return 0.5;
	return clamp(0.5 * (1 + num / den), BALANCE_MIN, 1 - BALANCE_MIN);
}

/* Step 5, and the weights that prediction sums. */
static void
table(struct labelmodel *lm, size_t i, double p, double q)
{
	double lo = fmax(0, p + q - 1), hi = fmin(p, q), fl = lm->opts.prob_floor;
	double A, cp, cn;

	if (lm->ntriplets[i] == 0)
		A = p * q;	/* independent of y */
	else
		A = clamp(0.5 * (p + q + 0.5 * (1 + lm->vote_y[i]) - 1), lo, hi);
	lm->accuracy[i] = 2 * A - p - q + 1;
	cp = clamp(A / p, fl, 1 - fl);
	cn = clamp((1 - p - q + A) / (1 - p), fl, 1 - fl);
	lm->cond_pos[i] = cp;
	lm->cond_neg[i] = cn;
	W(lm, i, 0, +1) = log(cp);
	W(lm, i, 0, -1) = log(1 - cp);
	W(lm, i, 0, 0) = 0;
	W(lm, i, 1, +1) = log(1 - cn);
	W(lm, i, 1, -1) = log(cn);
	W(lm, i, 1, 0) = 0;
}

/*
 * The reference's step 5 (§E.1.4 step 4): the 6-cell joint table of
 * (vote, y) over all rows, its negative cells flipped and the whole
 * renormalised, used directly as the clique marginal.  a is the
 * reference's unconditional E[L y], q = P(L = +1), z = P(L = 0).
 */
static void
table_reference(struct labelmodel *lm, size_t i, double p, double a,
    double q, double z)
{
	double s = 0.5 * (1 + a - z), A = 0.5 * (p * (1 - z) + q + s - (1 - z));
	double mu[3][2], sum = 0;	/* [vote + 1][y: 0 for +1, 1 for -1] */
	int v, y, flip = 0;

	mu[2][0] = A;
	mu[2][1] = q - A;
	mu[0][0] = p * (1 - z) - A;
	mu[0][1] = s - A;
	mu[1][0] = p * z;
	mu[1][1] = (1 - p) * z;
	for (v = 0; v < 3; v++)
		for (y = 0; y < 2; y++)
			if (mu[v][y] < 0)
				flip = 1;
	for (v = 0; v < 3; v++)
		for (y = 0; y < 2; y++) {
			if (flip)
				mu[v][y] = fabs(mu[v][y]);
			sum += mu[v][y];
		}
	for (v = 0; v < 3; v++)
		for (y = 0; y < 2; y++) {
			mu[v][y] /= sum;
			W(lm, i, y, v - 1) = log(mu[v][y]);
		}
	sum = mu[0][0] + mu[0][1] + mu[2][0] + mu[2][1];
	lm->accuracy[i] = sum > 0 ? (mu[2][0] + mu[0][1]) / sum : 0.5;
	sum = mu[2][0] + mu[0][0];
	lm->cond_pos[i] = sum > 0 ? mu[2][0] / sum : 0.5;
	sum = mu[2][1] + mu[0][1];
	lm->cond_neg[i] = sum > 0 ? mu[0][1] / sum : 0.5;
}

int
labelmodel_fit(struct labelmodel *lm, const int8_t *votes, size_t n,
    size_t m)
{
	size_t *npos = NULL, *nneg = NULL, i, j;
	int64_t *sum = NULL;
	double p, *a_ref = NULL;
	int ret = -1;

	free_arrays(lm);
	if (check_opts(&lm->opts) < 0)
		return -1;
	if (m < 3)
		return loam_seterr("the triplet label model needs at least 3 "
		    "sources, got %zu", m);
	if (n == 0)
		return loam_seterr("no rows to fit the label model on");
	if (m > SIZE_MAX / m || n > SIZE_MAX / m)
		return loam_seterr("%zu rows by %zu sources is too large", n,
		    m);

	lm->accuracy = xcalloc(m, sizeof *lm->accuracy);
	lm->coverage = xcalloc(m, sizeof *lm->coverage);
	lm->vote_y = xcalloc(m, sizeof *lm->vote_y);
	lm->ntriplets = xcalloc(m, sizeof *lm->ntriplets);
	lm->cond_pos = xcalloc(m, sizeof *lm->cond_pos);
	lm->cond_neg = xcalloc(m, sizeof *lm->cond_neg);
	lm->moment = xcalloc(m * m, sizeof *lm->moment);
	lm->pair_rows = xcalloc(m * m, sizeof *lm->pair_rows);
	lm->logw = xcalloc(m * 6, sizeof *lm->logw);
	npos = xcalloc(m, sizeof *npos);
	nneg = xcalloc(m, sizeof *nneg);
	sum = xcalloc(m * m, sizeof *sum);

	if (count_moments(lm, votes, n, m, npos, nneg, sum) < 0 ||
	    check_degenerate(lm, m, sum) < 0)
		goto out;
	for (i = 0; i < m; i++) {
		lm->coverage[i] = (double)lm->pair_rows[i * m + i] / (double)n;
		for (j = 0; j < m; j++) {
			size_t d = lm->opts.reference ? n : lm->pair_rows[i * m + j];

			lm->moment[i * m + j] = d > 0 ?
			    (double)sum[i * m + j] / (double)d : 0;
		}
	}

	triplets(lm, m);
	if (lm->opts.reference) {
		/* the triplets estimated E[L y] over all rows, which the
		 * reference's table takes as it is */
		a_ref = xmalloc(m * sizeof *a_ref);
		for (i = 0; i < m; i++) {
			a_ref[i] = lm->vote_y[i];
			lm->vote_y[i] /= lm->coverage[i];
		}
	} else if (recover_signs(lm, m) < 0)
		goto out;

	p = lm->opts.class_balance;
	if (p == LABELMODEL_ESTIMATE)
		p = estimate_balance(lm, m, npos, nneg);
	lm->class_balance = p;

	for (i = 0; i < m; i++) {
		double ni = (double)lm->pair_rows[i * m + i];

		if (lm->opts.reference)
			table_reference(lm, i, p, a_ref[i],
			    (double)npos[i] / (double)n,
			    (double)(n - lm->pair_rows[i * m + i]) / (double)n);
		else
			table(lm, i, p, (double)npos[i] / ni);
	}
	if (lm->opts.reference) {
		lm->logprior[0] = -(double)(m - 2) * log(p);
		lm->logprior[1] = -(double)(m - 2) * log(1 - p);
	} else {
		lm->logprior[0] = log(p);
		lm->logprior[1] = log(1 - p);
	}
	lm->nsources = m;
	lm->nrows = n;
	ret = 0;
out:
	free(npos);
	free(nneg);
	free(sum);
	free(a_ref);
	if (ret < 0)
		free_arrays(lm);
	return ret;
}

int
labelmodel_predict(const struct labelmodel *lm, const int8_t *votes,
    size_t n, size_t m, double *proba, int8_t *labels)
{
	int8_t tie = lm->opts.tie == LABELMODEL_TIE_POSITIVE ? 1 :
	    lm->opts.tie == LABELMODEL_TIE_NEGATIVE ? -1 : 0;
	size_t t, i;

	if (lm->nsources == 0)
		return loam_seterr("label model is not fitted");
	if (m != lm->nsources)
		return loam_seterr("votes have %zu sources, the label model "
		    "was fitted on %zu", m, lm->nsources);
	for (t = 0; t < n; t++) {
		const int8_t *row = votes + t * m;
		/* log P(y, votes) up to a common constant; a table cell of
		 * 0 (reference mode only) makes one -inf, never NaN */
		double pos = lm->logprior[0], neg = lm->logprior[1], d;
		double post;
		int8_t label;

		for (i = 0; i < m; i++) {
			int v = row[i];

			if (v < -1 || v > 1)
				return loam_seterr("row %zu, source %zu: vote "
				    "%d is not -1, 0 or +1", t, i, v);
			pos += W(lm, i, 0, v);
			neg += W(lm, i, 1, v);
		}
		if (pos == neg) {
			post = 0.5;
			label = tie;
		} else {
			d = pos - neg;
			/* the logistic of the log-odds without overflow */
			post = d > 0 ? 1 / (1 + exp(-d)) :
			    exp(d) / (1 + exp(d));
			label = d > 0 ? 1 : -1;
		}
		if (proba != NULL)
			proba[t] = post;
		if (labels != NULL)
			labels[t] = label;
	}
	return 0;
}
