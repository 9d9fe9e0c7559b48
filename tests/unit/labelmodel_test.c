/*
 * labelmodel_test - lib/labelmodel and lib/embroid: moments, triplets and
 * tables worked by hand on a tiny matrix (default and reference steps),
 * recovery of known accuracies from synthetic sources against the
 * Bayes-optimal accuracy, sign recovery, the refusals, the smoothed votes,
 * and Embroid's DBPedia demo under testdata/external against the numbers
 * of research/embroid-tart.md §E.3.  Run from the repository root.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embroid.h"
#include "labelmodel.h"
#include "npy.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

#define DEMO	"testdata/external/embroid-dbpedia-animal/"

static int
has(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

/*
 * Three sources, eight rows, with abstains.  By hand, over the rows where
 * both vote (6 rows for every pair):
 *	M01 = (1+1+1-1+1+1)/6 = 2/3, M02 = (1-1+1+1+1+1)/6 = 2/3,
 *	M12 = (1-1+1-1+1+1)/6 = 1/3;
 * over all 8 rows (the reference): 4/8, 4/8, 2/8.
 */
static const int8_t tiny[8 * 3] = {
	+1, +1, +1,
	+1, +1, -1,
	-1, -1, -1,
	-1, +1, -1,
	+1,  0, +1,
	-1, -1,  0,
	 0, +1, +1,
	+1, +1, +1,
};

static void
test_tiny_default(void)
{
	struct labelmodel_opts o;
	struct labelmodel lm;
	double e0 = sqrt(4.0 / 3), e12 = sqrt(1.0 / 3), a2, cp2, cn2, lo;
	double proba[8];
	int8_t labels[8];

	labelmodel_opts_default(&o);
	o.min_z = 0;		/* 6 rows are too few for the z test */
	labelmodel_init(&lm, &o);
	ok(labelmodel_fit(&lm, tiny, 8, 3) == 0, "tiny: fit");
	is_int((long long)lm.nsources, 3, "tiny: nsources");
	is_dbl(lm.moment[0 * 3 + 1], 2.0 / 3, 1e-15, "tiny: M01 = 2/3");
	is_dbl(lm.moment[0 * 3 + 2], 2.0 / 3, 1e-15, "tiny: M02 = 2/3");
	is_dbl(lm.moment[1 * 3 + 2], 1.0 / 3, 1e-15, "tiny: M12 = 1/3");
	is_dbl(lm.moment[2 * 3 + 1], 1.0 / 3, 1e-15, "tiny: M symmetric");
	is_dbl(lm.moment[1 * 3 + 1], 1, 0, "tiny: M11 = 1");
	is_int((long long)lm.pair_rows[0 * 3 + 2], 6, "tiny: n02 = 6");
	is_int((long long)lm.pair_rows[1 * 3 + 1], 7, "tiny: n1 = 7");
	is_dbl(lm.coverage[2], 7.0 / 8, 1e-15, "tiny: coverage 7/8");
	/* e_i^2 = M_ij M_ik / M_jk, one triplet each */
	is_dbl(lm.vote_y[0], e0, 1e-12, "tiny: e0 = sqrt(4/3), past 1");
	is_dbl(lm.vote_y[1], e12, 1e-12, "tiny: e1 = sqrt(1/3)");
	is_dbl(lm.vote_y[2], e12, 1e-12, "tiny: e2 = sqrt(1/3)");
	is_int((long long)lm.ntriplets[0], 1, "tiny: one triplet a source");
	is_dbl(lm.class_balance, 0.5, 0, "tiny: class balance 0.5");
	/*
	 * Source 0 votes +1 on 4 of its 7 rows: at p = 1/2 its accuracy is
	 * at most 1 - (4/7 - 1/2) = 13/14, and e0 > 1 is clipped there:
	 * A = min(p, q) = 1/2, P(+|+) = 1 (floored to 0.999), P(-|-) =
	 * (1 - p - q + A) / (1 - p) = 6/7.  Source 1 (q = 5/7) is just past
	 * its bound 11/14 as well.  Source 2 (q = 4/7) is inside:
	 * A = (p + q + (1 + e2)/2 - 1) / 2 = 2/7 + e2/4.
	 */
	a2 = 2.0 / 7 + e12 / 4;
	cp2 = a2 / 0.5;
	cn2 = (0.5 - 4.0 / 7 + a2) / 0.5;
	is_dbl(lm.accuracy[0], 13.0 / 14, 1e-12, "tiny: acc0 clipped to 13/14");
	is_dbl(lm.accuracy[1], 11.0 / 14, 1e-12, "tiny: acc1 clipped to 11/14");
	is_dbl(lm.accuracy[2], (1 + e12) / 2, 1e-12, "tiny: acc2 = (1+e2)/2");
	is_dbl(lm.cond_pos[0], 0.999, 1e-15, "tiny: P0(+|+) floored");
	is_dbl(lm.cond_neg[0], 6.0 / 7, 1e-12, "tiny: P0(-|-) = 6/7");
	is_dbl(lm.cond_neg[1], 4.0 / 7, 1e-12, "tiny: P1(-|-) = 4/7");
	is_dbl(lm.cond_pos[2], cp2, 1e-12, "tiny: P2(+|+)");
	is_dbl(lm.cond_neg[2], cn2, 1e-12, "tiny: P2(-|-)");
	ok(labelmodel_predict(&lm, tiny, 8, 3, proba, labels) == 0,
	    "tiny: predict");
	lo = log(0.999 / (1.0 / 7)) + log(0.999 / (3.0 / 7)) +
	    log(cp2 / (1 - cn2));
	is_dbl(proba[0], 1 / (1 + exp(-lo)), 1e-12, "tiny: row 0 posterior");
	lo = log(0.999 / (1.0 / 7)) + log(cp2 / (1 - cn2));
	is_dbl(proba[4], 1 / (1 + exp(-lo)), 1e-12,
	    "tiny: row 4 posterior, abstain adds nothing");
	lo = log(0.001 / (6.0 / 7)) + log(0.999 / (3.0 / 7)) +
	    log((1 - cp2) / cn2);
	is_dbl(proba[3], 1 / (1 + exp(-lo)), 1e-12, "tiny: row 3 posterior");
	is_int(labels[0], 1, "tiny: row 0 label +1");
	is_int(labels[2], -1, "tiny: row 2 label -1");
	labelmodel_release(&lm);
	labelmodel_release(&lm);
	ok(lm.accuracy == NULL && lm.nsources == 0, "tiny: release twice");
}

/*
 * The reference's steps on the same matrix.  a_i from moments over all
 * 8 rows: a0 = sqrt(.5 * .5 / .25) = 1, a1 = a2 = sqrt(.5 * .25 / .5) =
 * .5.  Source 0: z = 1/8, q = 1/2, s = (1 + a - z)/2 = 15/16,
 * A = (p(1-z) + q + s - (1-z))/2 = 1/2; cells (+,+) 1/2, (+,-) 0,
 * (-,+) 7/16 - 1/2 = -1/16, flipped to 1/16, (-,-) 7/16, (0,+-) 1/16;
 * sum 18/16.  Source 1: z = 1/8, q = 5/8: (+,+) 7/16, (+,-) 3/16,
 * (-,+) 0, (-,-) 1/4.  Source 2: q = 1/2: 3/8, 1/8, 1/16, 5/16.
 */
static void
test_tiny_reference(void)
{
	struct labelmodel_opts o;
	struct labelmodel lm;
	double proba[8], pos, neg;
	int8_t labels[8];

	labelmodel_opts_reference(&o);
	labelmodel_init(&lm, &o);
	ok(labelmodel_fit(&lm, tiny, 8, 3) == 0, "tiny ref: fit");
	is_dbl(lm.moment[0 * 3 + 1], 0.5, 0, "tiny ref: M01 over n = 1/2");
	is_dbl(lm.moment[1 * 3 + 2], 0.25, 0, "tiny ref: M12 over n = 1/4");
	is_dbl(lm.moment[0 * 3 + 0], 7.0 / 8, 0, "tiny ref: M00 = 1 - z0");
	is_dbl(lm.vote_y[0] * lm.coverage[0], 1, 1e-15, "tiny ref: a0 = 1");
	is_dbl(lm.vote_y[1] * lm.coverage[1], 0.5, 1e-15,
	    "tiny ref: a1 = 1/2");
	is_int((long long)lm.ntriplets[2], 1, "tiny ref: one triplet");
	is_dbl(lm.accuracy[0], 15.0 / 16, 1e-15, "tiny ref: acc0 after flip");
	is_dbl(lm.cond_pos[0], 8.0 / 9, 1e-15, "tiny ref: P0(+|+) = 8/9");
	is_dbl(lm.cond_neg[0], 1, 1e-15, "tiny ref: P0(-|-) = 1");
	is_dbl(lm.accuracy[1], 11.0 / 14, 1e-15, "tiny ref: acc1 = 11/14");
	is_dbl(lm.cond_neg[1], 4.0 / 7, 1e-15, "tiny ref: P1(-|-) = 4/7");
	is_dbl(lm.cond_pos[2], 6.0 / 7, 1e-15, "tiny ref: P2(+|+) = 6/7");
	is_dbl(lm.cond_neg[2], 5.0 / 7, 1e-15, "tiny ref: P2(-|-) = 5/7");
	ok(labelmodel_predict(&lm, tiny, 8, 3, proba, labels) == 0,
	    "tiny ref: predict");
	/* cell (+,-) of source 0 is 0: a +1 from it rules out y = -1 */
	is_dbl(proba[0], 1, 0, "tiny ref: row 0 posterior exactly 1");
	/* cell (-,+) of source 1 is 0 */
	is_dbl(proba[5], 0, 0, "tiny ref: row 5 posterior exactly 0");
	is_int(labels[5], -1, "tiny ref: row 5 label -1");
	/* row 3 (-,+,-): prior^-(m-2) cancels at p = 1/2 */
	pos = log((1.0 / 16) / (18.0 / 16)) + log(7.0 / 16) + log(1.0 / 16);
	neg = log((7.0 / 16) / (18.0 / 16)) + log(3.0 / 16) + log(5.0 / 16);
	is_dbl(proba[3], 1 / (1 + exp(neg - pos)), 1e-12,
	    "tiny ref: row 3 posterior");
	labelmodel_release(&lm);
}

/* n rows of labels y (P(y = +1) = p) and m conditionally independent
 * sources: source i votes with probability cov[i], and then is right
 * with probability acc[i]. */
static void
synth(int8_t *L, int8_t *y, size_t n, size_t m, const double *acc,
    const double *cov, double p, uint64_t seed)
{
	struct rng r;
	size_t t, i;

	rng_init(&r, seed, 0, 0);
	for (t = 0; t < n; t++) {
		y[t] = rng_uniform(&r) < p ? 1 : -1;
		for (i = 0; i < m; i++) {
			int8_t v = 0;

			if (rng_uniform(&r) < cov[i])
				v = rng_uniform(&r) < acc[i] ? y[t] :
				    (int8_t)-y[t];
			L[t * m + i] = v;
		}
	}
}

/* The Bayes-optimal accuracy under the true parameters, exactly: the sum
 * over all 3^m vote patterns of max_y P(y, pattern). */
static double
bayes_accuracy(size_t m, const double *acc, const double *cov, double p)
{
	size_t npat = 1, k, i;
	double total = 0;

	for (i = 0; i < m; i++)
		npat *= 3;
	for (k = 0; k < npat; k++) {
		double pp = p, pn = 1 - p;
		size_t code = k;

		for (i = 0; i < m; i++, code /= 3) {
			int v = (int)(code % 3) - 1;

			if (v == 0) {
				pp *= 1 - cov[i];
				pn *= 1 - cov[i];
			} else {
				pp *= cov[i] * (v > 0 ? acc[i] : 1 - acc[i]);
				pn *= cov[i] * (v < 0 ? acc[i] : 1 - acc[i]);
			}
		}
		total += pp > pn ? pp : pn;
	}
	return total;
}

static double
label_accuracy(const int8_t *labels, const int8_t *y, size_t n)
{
	double right = 0;
	size_t t;

	for (t = 0; t < n; t++)
		right += labels[t] == y[t] ? 1 : labels[t] == 0 ? 0.5 : 0;
	return right / (double)n;
}

#define NSYN	100000

static void
test_synthetic(void)
{
	static const double acc[5] = { 0.85, 0.75, 0.70, 0.65, 0.80 };
	static const double cov[5] = { 1.0, 0.8, 0.6, 0.9, 0.5 };
	struct labelmodel lm, lm2;
	int8_t *L = xmalloc(NSYN * 5), *y = xmalloc(NSYN);
	int8_t *labels = xmalloc(NSYN);
	double *proba = xmalloc(NSYN * sizeof *proba);
	double *proba2 = xmalloc(NSYN * sizeof *proba2);
	double got, bayes, worst = 0;
	size_t i;

	synth(L, y, NSYN, 5, acc, cov, 0.5, 1);
	labelmodel_init(&lm, NULL);
	ok(labelmodel_fit(&lm, L, NSYN, 5) == 0, "synthetic: fit");
	for (i = 0; i < 5; i++) {
		double d = fabs(lm.accuracy[i] - acc[i]);

		if (d > worst)
			worst = d;
		is_dbl(lm.accuracy[i], acc[i], 0.02,
		    "synthetic: accuracy of source %zu", i);
		is_int((long long)lm.ntriplets[i], 6,
		    "synthetic: source %zu uses all 6 triplets", i);
	}
	diag("synthetic: largest accuracy error %.4f", worst);
	ok(labelmodel_predict(&lm, L, NSYN, 5, proba, labels) == 0,
	    "synthetic: predict");
	got = label_accuracy(labels, y, NSYN);
	bayes = bayes_accuracy(5, acc, cov, 0.5);
	diag("synthetic: accuracy %.4f, Bayes-optimal %.4f", got, bayes);
	is_dbl(got, bayes, 0.01, "synthetic: accuracy near Bayes-optimal");

	/* the same fit again: the same bits */
	labelmodel_init(&lm2, NULL);
	ok(labelmodel_fit(&lm2, L, NSYN, 5) == 0 &&
	    labelmodel_predict(&lm2, L, NSYN, 5, proba2, NULL) == 0 &&
	    memcmp(proba, proba2, NSYN * sizeof *proba) == 0 &&
	    memcmp(lm.accuracy, lm2.accuracy, 5 * sizeof *lm.accuracy) == 0,
	    "synthetic: deterministic");
	/* refitting a fitted model replaces it */
	ok(labelmodel_fit(&lm2, L, NSYN / 2, 5) == 0 &&
	    lm2.nrows == NSYN / 2, "synthetic: refit");
	labelmodel_release(&lm2);
	labelmodel_release(&lm);
	free(L);
	free(y);
	free(labels);
	free(proba);
	free(proba2);
}

static void
test_balance(void)
{
	static const double acc[4] = { 0.80, 0.75, 0.70, 0.85 };
	static const double cov[4] = { 1.0, 0.7, 0.9, 0.6 };
	struct labelmodel_opts o;
	struct labelmodel lm;
	int8_t *L = xmalloc(NSYN * 4), *y = xmalloc(NSYN);
	int8_t *labels = xmalloc(NSYN);
	double got, bayes;
	size_t i;

	synth(L, y, NSYN, 4, acc, cov, 0.7, 2);
	labelmodel_opts_default(&o);
	o.class_balance = LABELMODEL_ESTIMATE;
	labelmodel_init(&lm, &o);
	ok(labelmodel_fit(&lm, L, NSYN, 4) == 0, "balance: fit");
	diag("balance: estimated p = %.4f (true 0.7)", lm.class_balance);
	is_dbl(lm.class_balance, 0.7, 0.02, "balance: p estimated");
	for (i = 0; i < 4; i++)
		is_dbl(lm.accuracy[i], acc[i], 0.02,
		    "balance: accuracy of source %zu", i);
	ok(labelmodel_predict(&lm, L, NSYN, 4, NULL, labels) == 0,
	    "balance: predict");
	got = label_accuracy(labels, y, NSYN);
	bayes = bayes_accuracy(4, acc, cov, 0.7);
	diag("balance: accuracy %.4f, Bayes-optimal %.4f", got, bayes);
	is_dbl(got, bayes, 0.01, "balance: accuracy near Bayes-optimal");
	labelmodel_release(&lm);
	free(L);
	free(y);
	free(labels);
}

/* A source worse than chance: the reference's all-positive signs take it
 * for its mirror image; the eigenvector signs do not. */
static void
test_signs(void)
{
	static const double acc[4] = { 0.80, 0.75, 0.70, 0.30 };
	static const double cov[4] = { 1, 1, 1, 1 };
	struct labelmodel_opts o;
	struct labelmodel lm;
	int8_t *L = xmalloc(NSYN * 4), *y = xmalloc(NSYN);
	size_t i;

	synth(L, y, NSYN, 4, acc, cov, 0.5, 3);
	labelmodel_init(&lm, NULL);
	ok(labelmodel_fit(&lm, L, NSYN, 4) == 0, "signs: fit");
	for (i = 0; i < 4; i++)
		is_dbl(lm.accuracy[i], acc[i], 0.02,
		    "signs: accuracy of source %zu", i);
	ok(lm.vote_y[3] < 0, "signs: e3 negative");
	labelmodel_release(&lm);
	labelmodel_opts_reference(&o);
	labelmodel_init(&lm, &o);
	ok(labelmodel_fit(&lm, L, NSYN, 4) == 0, "signs: reference fit");
	diag("signs: the reference takes source 3 (0.30) for %.3f",
	    lm.accuracy[3]);
	is_dbl(lm.accuracy[3], 0.70, 0.02, "signs: reference mirrors it");
	labelmodel_release(&lm);
	free(L);
	free(y);
}

#define NDEG	400

static void
expect_error(const int8_t *L, size_t n, size_t m,
    const struct labelmodel_opts *o, const char *want, const char *name)
{
	struct labelmodel lm;

	labelmodel_init(&lm, o);
	ok(labelmodel_fit(&lm, L, n, m) == -1 && has(loam_error(), want) &&
	    lm.nsources == 0 && lm.accuracy == NULL, "%s: \"%s\"", name,
	    loam_error());
	labelmodel_release(&lm);
}

static void
test_degenerate(void)
{
	static const double acc[4] = { 0.8, 0.75, 0.7, 0.85 };
	static const double cov[4] = { 1, 1, 0.8, 1 };
	struct labelmodel_opts o;
	struct labelmodel lm;
	int8_t *L = xmalloc(NDEG * 4), *y = xmalloc(NDEG);
	int8_t *M = xmalloc(NDEG * 4), labels[4];
	double proba[4];
	size_t t;

	synth(L, y, NDEG, 4, acc, cov, 0.5, 4);

	/* two sources: no triplet */
	for (t = 0; t < NDEG; t++) {
		M[t * 2] = L[t * 4];
		M[t * 2 + 1] = L[t * 4 + 1];
	}
	expect_error(M, NDEG, 2, NULL, "at least 3 sources, got 2",
	    "two sources");
	expect_error(L, 0, 4, NULL, "no rows", "no rows");

	/* source 2 always abstains */
	memcpy(M, L, NDEG * 4);
	for (t = 0; t < NDEG; t++)
		M[t * 4 + 2] = 0;
	expect_error(M, NDEG, 4, NULL, "source 2 never votes",
	    "always abstains");

	/* source 3 a copy of source 2, abstains included */
	memcpy(M, L, NDEG * 4);
	for (t = 0; t < NDEG; t++)
		M[t * 4 + 3] = M[t * 4 + 2];
	expect_error(M, NDEG, 4, NULL, "sources 2 and 3 are identical",
	    "identical sources");
	for (t = 0; t < NDEG; t++)
		M[t * 4 + 3] = (int8_t)-M[t * 4 + 2];
	expect_error(M, NDEG, 4, NULL, "sources 2 and 3 are exact opposites",
	    "opposite sources");

	/* a copy that differs in one row is allowed: its estimate is
	 * clipped to a possible table */
	for (t = 0; t < NDEG; t++)
		M[t * 4 + 3] = M[t * 4 + 2];
	M[3] = M[2] == 1 ? -1 : 1;
	labelmodel_init(&lm, NULL);
	if (!ok(labelmodel_fit(&lm, M, NDEG, 4) == 0, "near copy: fits"))
		diag("%s", loam_error());
	else
		ok(lm.accuracy[3] <= 1 && lm.cond_pos[3] <= 0.999 &&
		    lm.cond_neg[3] <= 0.999,
		    "near copy: accuracy %.3f, conditionals floored",
		    lm.accuracy[3]);
	labelmodel_release(&lm);

	/* a source that always says +1 carries no evidence at p = 1/2 */
	memcpy(M, L, NDEG * 4);
	for (t = 0; t < NDEG; t++)
		M[t * 4 + 1] = 1;
	labelmodel_init(&lm, NULL);
	ok(labelmodel_fit(&lm, M, NDEG, 4) == 0, "constant source: fits");
	is_dbl(lm.accuracy[1], 0.5, 1e-12, "constant source: accuracy 1/2");
	is_dbl(lm.logw[(1 * 2) * 3 + 2] - lm.logw[(1 * 2 + 1) * 3 + 2], 0,
	    1e-12, "constant source: weight 0");
	labelmodel_release(&lm);

	memcpy(M, L, NDEG * 4);
	M[7 * 4 + 1] = 2;
	expect_error(M, NDEG, 4, NULL, "row 7, source 1: vote 2",
	    "vote out of range");

	labelmodel_opts_default(&o);
	o.class_balance = 1.5;
	expect_error(L, NDEG, 4, &o, "class balance 1.5", "class balance");
	labelmodel_opts_default(&o);
	o.prob_floor = 0.5;
	expect_error(L, NDEG, 4, &o, "probability floor", "floor");

	/* prediction: not fitted, wrong width, bad vote, ties */
	labelmodel_init(&lm, NULL);
	ok(labelmodel_predict(&lm, L, 1, 4, proba, labels) == -1 &&
	    has(loam_error(), "not fitted"), "predict before fit");
	ok(labelmodel_fit(&lm, L, NDEG, 4) == 0, "fit for predict");
	ok(labelmodel_predict(&lm, L, 1, 3, proba, labels) == -1 &&
	    has(loam_error(), "3 sources"), "predict: wrong width: \"%s\"",
	    loam_error());
	memcpy(M, L, 8);
	M[5] = -3;
	ok(labelmodel_predict(&lm, M, 2, 4, proba, labels) == -1 &&
	    has(loam_error(), "row 1, source 1: vote -3"),
	    "predict: bad vote: \"%s\"", loam_error());
	memset(M, 0, 4);
	ok(labelmodel_predict(&lm, M, 1, 4, proba, labels) == 0 &&
	    proba[0] == 0.5 && labels[0] == 0,
	    "predict: all-abstain row is a tie, label 0");
	lm.opts.tie = LABELMODEL_TIE_NEGATIVE;
	ok(labelmodel_predict(&lm, M, 1, 4, proba, labels) == 0 &&
	    labels[0] == -1, "predict: tie rule -1");
	lm.opts.tie = LABELMODEL_TIE_POSITIVE;
	ok(labelmodel_predict(&lm, M, 1, 4, NULL, labels) == 0 &&
	    labels[0] == 1, "predict: tie rule +1");
	labelmodel_release(&lm);
	free(L);
	free(y);
	free(M);
}

/*
 * Smoothed votes by hand: 5 rows, 2 sources, neighbour lists of 4 that
 * hold the row itself in varying places.
 */
static void
test_smooth(void)
{
	static const int8_t v[5 * 2] = {
		+1, +1,
		+1, -1,
		-1,  0,
		-1,  0,
		+1, -1,
	};
	static const int64_t nb0[5 * 4] = {
		0, 1, 2, 4,	/* self first */
		2, 1, 3, 0,	/* self second */
		2, 3, 4, 0,
		3, 2, -1, -1,	/* one real neighbour, then padding */
		4, 0, 1, 2,
	};
	static const int64_t nb1[5 * 4] = {
		1, 4, 2, 3,	/* self absent */
		1, 0, 2, 3,
		2, 0, 1, 3,
		3, 4, 0, 1,
		4, 2, 3, 0,
	};
	const int64_t *nb[2] = { nb0, nb1 };
	int64_t bad[5 * 4];
	const int64_t *nbad[1] = { bad };
	double tp[2] = { 0.5, 0.5 }, tn[2] = { 0.5, 0.5 };
	double dp[2], dn[2];
	int8_t S[5 * 4], L[5 * 6];
	/*
	 * k = 2, thresholds 0.5/0.5 (the reference's): for source 0
	 *	row 0, space 0: neighbours 1, 2 -> f = 1/2 -> -1 (tie to -)
	 *	row 1, space 0: 2, 3 -> f = 0 -> -1
	 *	row 2, space 0: 3, 4 -> 1/2 -> -1
	 *	row 3, space 0: 2 only -> 0 -> -1
	 *	row 4, space 0: 0, 1 -> 1 -> +1
	 * source 1 (row 2 and 3 abstain):
	 *	row 0: 1 -> -1, 2 abstains: f = 0 -> -1
	 *	row 1: 2, 3 both abstain -> 0
	 *	row 2: 3 abstains, 4 -> -1
	 *	row 3: 2 abstains -> 0
	 *	row 4: 0 (+1), 1 (-1) -> 1/2 -> -1
	 * space 1, k = 2: row 0: 1, 4; row 1: 0, 2; row 2: 0, 1;
	 * row 3: 4, 0; row 4: 2, 3.
	 */
	static const int8_t want[5 * 4] = {
		-1, -1,	 +1, -1,
		-1,  0,	 -1, +1,
		-1, -1,	 +1, -1,
		-1,  0,	 +1, -1,
		+1, -1,	 -1,  0,
	};

	ok(embroid_smooth_votes(v, 5, 2, nb, 2, 4, 2, tp, tn, S) == 0,
	    "smooth: runs");
	ok(memcmp(S, want, sizeof want) == 0, "smooth: votes by hand");
	ok(embroid_label_matrix(v, 5, 2, nb, 2, 4, 2, tp, tn, L) == 0 &&
	    memcmp(L, v, 2) == 0 && memcmp(L + 2, want, 4) == 0 &&
	    memcmp(L + 4 * 6, v + 4 * 2, 2) == 0 &&
	    memcmp(L + 4 * 6 + 2, want + 4 * 4, 4) == 0,
	    "smooth: label matrix is [votes | smoothed]");

	/* defaults: source 0 votes +1 on 3 of 5, source 1 on 1 of 3 */
	embroid_default_thresholds(v, 5, 2, dp, dn);
	is_dbl(dp[0], 0.6, 1e-15, "smooth: default tau+ = share of +1");
	is_dbl(dn[0], 0.4, 1e-15, "smooth: default tau- = 1 - tau+");
	is_dbl(dp[1], 1.0 / 3, 1e-15, "smooth: share among votes only");
	/* with them, row 0 space 0 source 0: f = 1/2 < 0.6, 1 - f >= 0.4 */
	ok(embroid_smooth_votes(v, 5, 2, nb, 2, 4, 2, NULL, NULL, S) == 0 &&
	    S[0] == -1 && S[4 * 4] == 1, "smooth: default thresholds");
	/* thresholds above 1/2 each leave a middle band of abstains */
	tp[0] = tn[0] = 0.6;
	ok(embroid_smooth_votes(v, 5, 2, nb, 2, 4, 2, tp, tn, S) == 0 &&
	    S[0] == 0 && S[1 * 4] == -1, "smooth: abstain band");

	ok(embroid_smooth_votes(v, 5, 2, nb, 2, 4, 5, tp, tn, S) == -1 &&
	    has(loam_error(), "k = 5"), "smooth: k too large: \"%s\"",
	    loam_error());
	memcpy(bad, nb0, sizeof bad);
	bad[2 * 4 + 1] = 5;
	ok(embroid_smooth_votes(v, 5, 2, nbad, 1, 4, 2, tp, tn, S) == -1 &&
	    has(loam_error(), "row 2, column 1: neighbour id 5"),
	    "smooth: id out of range: \"%s\"", loam_error());
	tp[1] = NAN;
	ok(embroid_smooth_votes(v, 5, 2, nb, 2, 4, 2, tp, tn, S) == -1 &&
	    has(loam_error(), "source 1: threshold"), "smooth: NaN threshold");
}

/* ---- Embroid's DBPedia-animal demo ---- */

static int
load_i64(const char *name, int64_t **out, size_t *count, size_t *cols)
{
	char path[256];
	struct npy a;

	snprintf(path, sizeof path, "%s%s", DEMO, name);
	if (npy_open(&a, path) < 0)
		return -1;
	*out = xmalloc(a.count * sizeof **out);
	if (npy_read_i64(&a, *out) < 0) {
		npy_close(&a);
		free(*out);
		return -1;
	}
	*count = a.count;
	*cols = a.ndim == 2 ? a.shape[1] : 1;
	npy_close(&a);
	return 0;
}

/* Macro-F1 of labels in {-1, +1} against y in {0, 1}; sklearn's
 * f1_score(average="macro"). */
static double
macro_f1(const int8_t *labels, const int64_t *y, size_t n)
{
	double tp = 0, fp = 0, fn = 0, tn = 0;
	size_t t;

	for (t = 0; t < n; t++) {
		int pred = labels[t] > 0, truth = y[t] == 1;

		tp += pred && truth;
		fp += pred && !truth;
		fn += !pred && truth;
		tn += !pred && !truth;
	}
	return (2 * tp / (2 * tp + fp + fn) + 2 * tn / (2 * tn + fn + fp)) / 2;
}

#define ND	2000

/* Embroid on the demo with k neighbours, thresholds tau (NULL: the
 * defaults) and label-model options o; labels into out[ND]. */
static int
demo_run(const int8_t *v, const int64_t *const *nb, size_t k,
    const double *tau_pos, const double *tau_neg,
    const struct labelmodel_opts *o, int8_t *out, struct labelmodel *keep)
{
	struct labelmodel lm;
	int8_t *L = xmalloc(ND * 4);
	int ret = -1;

	labelmodel_init(&lm, o);
	if (embroid_label_matrix(v, ND, 1, nb, 3, 20, k, tau_pos, tau_neg,
	    L) == 0 && labelmodel_fit(&lm, L, ND, 4) == 0 &&
	    labelmodel_predict(&lm, L, ND, 4, NULL, out) == 0)
		ret = 0;
	free(L);
	if (ret == 0 && keep != NULL)
		*keep = lm;
	else
		labelmodel_release(&lm);
	return ret;
}

static void
count_labels(const int8_t *labels, const int8_t *v, size_t *pos,
    size_t *flipped, size_t *ties)
{
	size_t t;

	*pos = *flipped = *ties = 0;
	for (t = 0; t < ND; t++) {
		*pos += labels[t] > 0;
		*flipped += labels[t] != v[t];
		*ties += labels[t] == 0;
	}
}

static void
test_demo(void)
{
	static const char *spaces[3] = {
		"roberta_neighbors.npy", "sbert_neighbors.npy",
		"bert_neighbors.npy"
	};
	/* §E.3's intermediate values, notebook setting, k = 10 */
	static const double want_a[4] = { 0.6688, 0.8590, 0.8203, 0.8677 };
	static const double want_cp[4] = { 0.7364, 0.9000, 0.8577, 0.8973 };
	static const double want_cn[4] = { 0.9324, 0.9590, 0.9627, 0.9703 };
	static const double single[3] = { 0.779, 0.769, 0.741 };
	struct labelmodel_opts ref;
	struct labelmodel lm;
	int64_t *votes = NULL, *y = NULL, *nbs[3] = { NULL, NULL, NULL };
	const int64_t *nb[3];
	size_t count, cols, i, t, pos, flipped, ties;
	int8_t v[ND], lab[ND], lab2[ND], S[ND * 3], col[ND];
	double f1, half[1] = { 0.5 }, six[1] = { 0.6 };

	if (load_i64("votes.npy", &votes, &count, &cols) < 0) {
		diag("%s", loam_error());
		ok(0, "demo: votes.npy loads");
		return;
	}
	ok(count == ND && cols == 1, "demo: votes 2000 x 1");
	ok(load_i64("labels.npy", &y, &count, &cols) == 0 && count == ND,
	    "demo: labels");
	for (i = 0; i < 3; i++) {
		ok(load_i64(spaces[i], &nbs[i], &count, &cols) == 0 &&
		    count == ND * 20 && cols == 20, "demo: %s 2000 x 20",
		    spaces[i]);
		nb[i] = nbs[i];
	}
	if (y == NULL || nbs[0] == NULL || nbs[1] == NULL || nbs[2] == NULL)
		goto out;
	for (t = 0; t < ND; t++)
		v[t] = (int8_t)(2 * votes[t] - 1);

	f1 = macro_f1(v, y, ND);
	diag("demo: macro-F1 of the LM votes %.4f (notes: 0.7203, "
	    "notebook 0.72)", f1);
	is_dbl(f1, 0.72, 0.01, "demo: LM votes macro-F1 0.72");
	is_dbl(f1, 0.7203, 0.0001, "demo: LM votes macro-F1 0.7203");

	/* each smoothed vote alone, notebook thresholds */
	ok(embroid_smooth_votes(v, ND, 1, nb, 3, 20, 10, NULL, NULL, S) == 0,
	    "demo: smoothed votes");
	for (i = 0; i < 3; i++) {
		for (t = 0; t < ND; t++)
			col[t] = S[t * 3 + i];
		is_dbl(macro_f1(col, y, ND), single[i], 0.0006,
		    "demo: %s smoothed vote alone, macro-F1 %.4f", spaces[i],
		    macro_f1(col, y, ND));
	}

	/* Embroid, k = 10, default thresholds and label model */
	ok(demo_run(v, nb, 10, NULL, NULL, NULL, lab, &lm) == 0,
	    "demo: embroid k = 10");
	f1 = macro_f1(lab, y, ND);
	count_labels(lab, v, &pos, &flipped, &ties);
	diag("demo: macro-F1 after Embroid %.4f (notes: 0.7670, notebook "
	    "0.77); %zu positive, %zu flipped", f1, pos, flipped);
	is_dbl(f1, 0.77, 0.01, "demo: Embroid macro-F1 0.77");
	is_dbl(f1, 0.7670, 0.0001, "demo: Embroid macro-F1 0.7670");
	is_int((long long)flipped, 342, "demo: 342 labels flipped");
	is_int((long long)pos, 992, "demo: 992 positive");
	is_int((long long)ties, 0, "demo: no ties");
	for (i = 0; i < 4; i++) {
		is_dbl(lm.vote_y[i], want_a[i], 0.0001, "demo: a%zu", i);
		is_dbl(lm.cond_pos[i], want_cp[i], 0.0001,
		    "demo: P%zu(+|+)", i);
		is_dbl(lm.cond_neg[i], want_cn[i], 0.0001,
		    "demo: P%zu(-|-)", i);
	}
	labelmodel_release(&lm);

	/* the reference's steps agree here, to every label */
	labelmodel_opts_reference(&ref);
	ok(demo_run(v, nb, 10, NULL, NULL, &ref, lab2, NULL) == 0 &&
	    memcmp(lab, lab2, ND) == 0, "demo: reference steps, same labels");

	/*
	 * The reference's run_embroid() default thresholds 0.5/0.5.  Here
	 * the smoothed votes say +1 on under 40 % of rows yet come out more
	 * accurate than that allows at p = 1/2: their (+1, y = -1) cells
	 * are negative.  The reference flips them (0.7610); step 5 clips
	 * them to the possible range (0.7740, measured here).
	 */
	ok(demo_run(v, nb, 10, half, half, &ref, lab, NULL) == 0,
	    "demo: thresholds 0.5, reference steps");
	count_labels(lab, v, &pos, &flipped, &ties);
	f1 = macro_f1(lab, y, ND);
	is_dbl(f1, 0.7610, 0.0001,
	    "demo: thresholds 0.5, reference steps, macro-F1 0.7610");
	ok(flipped == 310 && pos == 868,
	    "demo: thresholds 0.5, reference steps, 310 flipped, 868 positive");
	ok(demo_run(v, nb, 10, half, half, NULL, lab, NULL) == 0,
	    "demo: thresholds 0.5, default steps");
	diag("demo: thresholds 0.5: reference %.4f, default steps %.4f", f1,
	    macro_f1(lab, y, ND));
	is_dbl(macro_f1(lab, y, ND), 0.7740, 0.0001,
	    "demo: thresholds 0.5, default steps, macro-F1 0.7740");

	ok(demo_run(v, nb, 5, NULL, NULL, NULL, lab, NULL) == 0,
	    "demo: k = 5");
	is_dbl(macro_f1(lab, y, ND), 0.7664, 0.0001,
	    "demo: k = 5, macro-F1 0.7664");
	ok(demo_run(v, nb, 19, NULL, NULL, NULL, lab, NULL) == 0,
	    "demo: k = 19");
	is_dbl(macro_f1(lab, y, ND), 0.7690, 0.0001,
	    "demo: k = 19, macro-F1 0.7690");

	/* thresholds 0.6/0.6: 7.5 % abstains; the reference's moments over
	 * all rows give its 0.7645, co-coverage moments their own */
	ok(demo_run(v, nb, 10, six, six, &ref, lab, NULL) == 0,
	    "demo: thresholds 0.6, reference steps");
	f1 = macro_f1(lab, y, ND);
	is_dbl(f1, 0.7645, 0.0001,
	    "demo: thresholds 0.6, reference steps, macro-F1 0.7645");
	ok(demo_run(v, nb, 10, six, six, NULL, lab, NULL) == 0,
	    "demo: thresholds 0.6, default steps");
	diag("demo: thresholds 0.6: reference %.4f, default steps %.4f", f1,
	    macro_f1(lab, y, ND));
out:
	free(votes);
	free(y);
	for (i = 0; i < 3; i++)
		free(nbs[i]);
}

int
main(void)
{
	test_tiny_default();
	test_tiny_reference();
	test_synthetic();
	test_balance();
	test_signs();
	test_degenerate();
	test_smooth();
	test_demo();
	return tap_done();
}
