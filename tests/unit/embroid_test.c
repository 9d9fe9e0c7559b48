/*
 * embroid_test - lib/method/embroid's whole method, embroid_run(): that a
 * binary run is the label matrix and label model by hand, that spaces of
 * different widths are cut to the narrowest, that one-vs-all solves each
 * class as its own binary problem and picks the most probable, the
 * messages of a refused problem; and the majority vote and macro-F1 on
 * cases worked by hand.  The smoothing itself is in labelmodel_test.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embroid.h"
#include "labelmodel.h"
#include "tap.h"
#include "util.h"

#define N	240
#define M	3
#define NCOL	8

static uint64_t lcg = 12345;

static double
uniform(void)
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(lcg >> 11) / 9007199254740992.0;
}

/* Truths 0..classes-1 (or -1/+1 when classes is 0), sources right with
 * probability acc[j], and two spaces whose neighbours share the truth
 * (mostly: one in eight is any row): the query first, then the next (space
 * 0) or previous (space 1) rows of its class. */
static void
make_task(int classes, int *truth, int8_t *votes, int64_t *nb0, int64_t *nb1)
{
	static const double acc[M] = { 0.65, 0.75, 0.85 };
	int k = classes ? classes : 2;

	for (size_t t = 0; t < N; t++) {
		int y = (int)(uniform() * k);

		truth[t] = classes ? y : 2 * y - 1;
		for (size_t j = 0; j < M; j++) {
			int v = y;

			if (uniform() >= acc[j])
				v = (y + 1 + (int)(uniform() * (k - 1))) % k;
			votes[t * M + j] = (int8_t)(classes ? v : 2 * v - 1);
		}
	}
	for (size_t t = 0; t < N; t++) {
		int64_t *r0 = nb0 + t * NCOL, *r1 = nb1 + t * NCOL;
		size_t c0 = 1, c1 = 1;

		r0[0] = r1[0] = (int64_t)t;
		for (size_t d = 1; d < N && (c0 < NCOL || c1 < NCOL); d++) {
			size_t up = (t + d) % N, down = (t + N - d) % N;

			if (c0 < NCOL && truth[up] == truth[t])
				r0[c0++] = uniform() < 0.125 ? (int64_t)(uniform() * N) : (int64_t)up;
			if (c1 < NCOL && truth[down] == truth[t])
				r1[c1++] = uniform() < 0.125 ? (int64_t)(uniform() * N) : (int64_t)down;
		}
	}
}

static void
test_majority_and_f1(void)
{
	static const int8_t bin[] = { 1, 1, -1, 1, -1, 0, 0, 0, 0 };
	static const int8_t cls[] = { 2, 2, 0, 1, 0, -1, -1, -1, -1 };
	static const int gold[] = { 1, 1, -1, -1 }, pred[] = { 1, -1, -1, -1 };
	static const int gold3[] = { 0, 1, 1, 0 }, pred3[] = { 0, 1, 0, 0 };

	is_int(embroid_majority(bin, 3, 0), 1, "majority: +1 +1 -1 is +1");
	is_int(embroid_majority(bin + 3, 3, 0), 0, "majority: +1 -1 0 ties at 0");
	is_int(embroid_majority(bin + 6, 3, 0), 0, "majority: all abstain is 0");
	is_int(embroid_majority(cls, 3, 3), 2, "plurality: 2 2 0 is 2");
	is_int(embroid_majority(cls + 3, 3, 3), -1, "plurality: 1 0 -1 ties: -1");
	is_int(embroid_majority(cls + 6, 3, 3), -1, "plurality: all abstain: -1");
	/* +1: tp 1, fp 0, fn 1 -> 2/3; -1: tp 2, fp 1, fn 0 -> 4/5 */
	is_dbl(embroid_macro_f1(gold, pred, 4, 0), (2.0 / 3 + 0.8) / 2, 1e-15,
	    "macro-F1 binary by hand");
	/* class 0: tp 2, fp 1 -> 4/5; class 1: tp 1, fn 1 -> 2/3; class 2 absent */
	is_dbl(embroid_macro_f1(gold3, pred3, 4, 3), (0.8 + 2.0 / 3) / 2, 1e-15,
	    "macro-F1 over the classes present");
	is_dbl(embroid_macro_f1(gold3, pred3, 0, 3), 0, 0, "macro-F1 of nothing is 0");
}

/* Problem q by hand: label matrix, fit, predict, as embroid_run() should. */
static int
by_hand(const int8_t *bin, const int64_t *const *nb, size_t k,
    const struct labelmodel_opts *lo, double *proba, double *acc, int8_t *L)
{
	struct labelmodel lm;
	int rc;

	if (embroid_label_matrix(bin, N, M, nb, 2, NCOL, k, NULL, NULL, L) != 0)
		return -1;
	labelmodel_init(&lm, lo);
	rc = labelmodel_fit(&lm, L, N, 3 * M);
	if (rc == 0)
		rc = labelmodel_predict(&lm, L, N, 3 * M, proba, NULL);
	if (rc == 0)
		memcpy(acc, lm.accuracy, 3 * M * sizeof *acc);
	labelmodel_release(&lm);
	return rc;
}

static void
test_binary(void)
{
	static int truth[N];
	static int8_t votes[N * M], L[N * 3 * M];
	static int64_t nb0[N * NCOL], nb1[N * NCOL], wide[N * (NCOL + 3)];
	static double proba[N], acc[3 * M];
	const int64_t *nb[2] = { nb0, nb1 };
	size_t ncols[2] = { NCOL, NCOL };
	struct labelmodel_opts lo;
	struct embroid_opts o = { 0 };
	struct embroid e, e2;
	size_t right = 0, same = 1, labels_ok = 1;

	make_task(0, truth, votes, nb0, nb1);
	labelmodel_opts_default(&lo);
	lo.tie = LABELMODEL_TIE_NEGATIVE;
	o.k = 5;
	o.model = &lo;
	o.keep_matrix = 1;
	ok(embroid_run(&e, &o, votes, N, M, nb, ncols, 2) == 0, "binary: runs: %s",
	    loam_error());
	ok(by_hand(votes, nb, 5, &lo, proba, acc, L) == 0, "binary: by hand runs");
	is_int((long long)e.problems, 1, "binary: one problem");
	is_int((long long)e.width, 3 * M, "binary: width m (E + 1)");
	ok(memcmp(e.proba, proba, sizeof proba) == 0, "binary: posteriors as by hand");
	ok(memcmp(e.accuracy, acc, sizeof acc) == 0, "binary: accuracies as by hand");
	ok(e.matrix && memcmp(e.matrix, L, sizeof L) == 0, "binary: the kept label matrix");
	for (size_t t = 0; t < N; t++) {
		labels_ok &= e.label[t] == (proba[t] > 0.5 ? 1 : -1) && e.label_p[t] == proba[t];
		right += e.label[t] == truth[t];
	}
	ok(labels_ok, "binary: label = sign of P(y = +1), ties to -1");
	diag("binary: %zu of %d right", right, N);
	ok(right > N * 85 / 100, "binary: better than the best source (%zu of %d)", right, N);
	embroid_release(&e);

	/* A wider first space is cut to the narrowest: with one id of the
	 * first NCOL dropped (-1) and k = NCOL - 1, a row has too few ids
	 * in them, and the cut decides whether the extra columns count. */
	static int64_t cut[N * NCOL];
	static int8_t S8[N * M], S11[N * M];
	const int64_t *one[1];

	for (size_t t = 0; t < N; t++) {
		memcpy(wide + t * (NCOL + 3), nb0 + t * NCOL, NCOL * sizeof *wide);
		wide[t * (NCOL + 3) + 2] = -1;
		for (size_t c = NCOL; c < NCOL + 3; c++)
			wide[t * (NCOL + 3) + c] = (int64_t)((t * 7 + c) % N);
		memcpy(cut + t * NCOL, wide + t * (NCOL + 3), NCOL * sizeof *cut);
	}
	one[0] = wide;
	embroid_smooth_votes(votes, N, M, one, 1, NCOL + 3, NCOL - 1, NULL, NULL, S11);
	one[0] = cut;
	embroid_smooth_votes(votes, N, M, one, 1, NCOL, NCOL - 1, NULL, NULL, S8);
	ok(memcmp(S8, S11, sizeof S8) != 0, "narrowest: the extra columns would matter");
	nb[0] = cut;
	ok(by_hand(votes, nb, NCOL - 1, &lo, proba, acc, L) == 0, "narrowest: by hand runs");
	nb[0] = wide;
	ncols[0] = NCOL + 3;
	o.k = NCOL - 1;
	o.keep_matrix = 0;
	ok(embroid_run(&e2, &o, votes, N, M, nb, ncols, 2) == 0, "narrowest: runs");
	ok(e2.matrix == NULL, "narrowest: no matrix unless asked");
	for (size_t t = 0; t < N; t++)
		same &= e2.proba[t] == proba[t];
	ok(same, "narrowest: the wider space is cut to the narrower's columns");
	embroid_release(&e2);
}

static void
test_classes(void)
{
	static int truth[N];
	static int8_t votes[N * M], bin[N * M], L[N * 3 * M];
	static int64_t nb0[N * NCOL], nb1[N * NCOL];
	static double proba[N], acc[3 * M];
	const int64_t *nb[2] = { nb0, nb1 };
	size_t ncols[2] = { NCOL, NCOL };
	struct labelmodel_opts lo;
	struct embroid_opts o = { 0 };
	struct embroid e;
	size_t right = 0, argmax = 1;

	make_task(3, truth, votes, nb0, nb1);
	labelmodel_opts_default(&lo);
	o.classes = 3;
	o.k = 4;
	o.model = &lo;
	o.keep_matrix = 1;
	ok(embroid_run(&e, &o, votes, N, M, nb, ncols, 2) == 0, "classes: runs: %s",
	    loam_error());
	is_int((long long)e.problems, 3, "classes: one problem per class");
	for (size_t q = 0; q < 3; q++) {
		for (size_t i = 0; i < N * M; i++)
			bin[i] = votes[i] < 0 ? 0 : votes[i] == (int8_t)q ? 1 : -1;
		ok(by_hand(bin, nb, 4, &lo, proba, acc, L) == 0 &&
		    memcmp(e.proba + q * N, proba, sizeof proba) == 0 &&
		    memcmp(e.accuracy + q * 3 * M, acc, sizeof acc) == 0 &&
		    memcmp(e.matrix + q * N * 3 * M, L, sizeof L) == 0,
		    "classes: class %zu is its own binary problem", q);
	}
	for (size_t t = 0; t < N; t++) {
		size_t b = (size_t)e.label[t];

		for (size_t q = 0; q < 3; q++)
			argmax &= e.proba[q * N + t] <= e.proba[b * N + t] &&
			    (q >= b || e.proba[q * N + t] < e.proba[b * N + t]);
		argmax &= e.label_p[t] == e.proba[b * N + t];
		right += e.label[t] == truth[t];
	}
	ok(argmax, "classes: the label is the first most probable class");
	diag("classes: %zu of %d right", right, N);
	ok(right > N * 8 / 10, "classes: mostly right (%zu of %d)", right, N);
	embroid_release(&e);
}

static void
test_refusals(void)
{
	static int truth[N];
	static int8_t votes[N * M], two[N * 2];
	static int64_t nb0[N * NCOL], nb1[N * NCOL];
	const int64_t *nb[2] = { nb0, nb1 };
	size_t ncols[2] = { NCOL, NCOL };
	struct embroid_opts o = { 0 };
	struct embroid e;

	make_task(0, truth, votes, nb0, nb1);
	for (size_t t = 0; t < N; t++)
		two[t * 2] = votes[t * M], two[t * 2 + 1] = votes[t * M + 1];
	o.k = 3;
	/* 1 source and 1 space: 2 columns, where the label model needs 3. */
	ok(embroid_run(&e, &o, two, N, 1, nb, ncols, 1) == -1 &&
	    strncmp(loam_error(), "0: ", 3) == 0,
	    "refused binary problem: \"%s\"", loam_error());
	embroid_release(&e);
	o.classes = 3;
	for (size_t t = 0; t < N; t++)
		two[t] = (int8_t)(t % 3);
	ok(embroid_run(&e, &o, two, N, 1, nb, ncols, 1) == -1 &&
	    strncmp(loam_error(), "class 0: ", 9) == 0,
	    "refused class problem: \"%s\"", loam_error());
	embroid_release(&e);
	o.classes = 0;
	o.k = NCOL + 1;
	ok(embroid_run(&e, &o, votes, N, M, nb, ncols, 2) == -1 &&
	    strstr(loam_error(), "k = 9") != NULL,
	    "k past the columns: \"%s\"", loam_error());
	embroid_release(&e);
	ok(embroid_run(&e, &o, votes, N, M, nb, ncols, 0) == -1,
	    "no space: \"%s\"", loam_error());
	embroid_release(&e);
}

int
main(void)
{
	test_majority_and_f1();
	test_binary();
	test_classes();
	test_refusals();
	return tap_done();
}
