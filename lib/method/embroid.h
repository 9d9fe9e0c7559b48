/*
 * embroid - Embroid's smoothed neighbourhood votes (Guha et al., NeurIPS
 * 2023; research/embroid-tart.md §E.1.3), the inputs its label model
 * (labelmodel.h) combines with the original votes.
 *
 * votes: n rows by m sources, row-major int8 in {-1, 0, +1} (0: the
 * source abstains; the reference refuses abstains, §E.5 defect 2).
 * neighbors: for each of E embedding spaces, an n x ncols row-major int64
 * matrix of neighbour row ids, nearest first, as a kNN search returns
 * them.  For row t, space e and source j the smoothed vote is:
 *
 *	take the first k entries of row t that are not t itself and not
 *	negative (FAISS pads a short list with -1): the query's own id is
 *	dropped wherever it stands, where the reference drops column 0
 *	blindly (§E.5 defect 3; with duplicate texts another id can rank
 *	first); a row with fewer such entries uses those it has;
 *	pos, neg = how many of them source j voted +1, -1 on (their raw
 *	votes: one hop, not smoothed ones);
 *	if pos + neg = 0: S = 0 (no neighbour voted);
 *	else f = pos / (pos + neg) and, in the reference's order, S = +1
 *	if f >= tau_pos[j], then S = -1 if 1 - f >= tau_neg[j] (so -1
 *	wins when both hold), else S = 0.
 *
 * Without abstains pos + neg = k and this is the reference's rule
 * f = (1/k) sum 1[V = +1] to the bit.  With abstains, f is the positive
 * share among the neighbours that vote, which keeps the thresholds on the
 * same scale as the defaults below.  S abstains only when
 * tau_pos + tau_neg > 1 or no neighbour votes.
 *
 * Thresholds are per source, tau_pos[j] and tau_neg[j] (the reference
 * indexes its one threshold row by source and so fails with more than one
 * source, §E.5 defect 1).  NULL for either means the defaults of the
 * reference's notebook (§E.2): tau_pos[j] = the share of +1 among source
 * j's votes, tau_neg[j] = 1 - tau_pos[j]; then S = +1 exactly when the
 * neighbourhood is more positive than the source is overall.  The
 * reference's run_embroid() default, 0.5 and 0.5, is had by passing
 * arrays of 0.5.
 *
 * Output columns are ordered space by space: smoothed[t][e * m + j].
 * Ownership: the smoothing functions keep nothing (the caller owns every
 * buffer); struct embroid owns what embroid_run() leaves in it.
 */
#ifndef LOAM_EMBROID_H
#define LOAM_EMBROID_H

#include <stddef.h>
#include <stdint.h>

#include "labelmodel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The notebook thresholds above into tau_pos[m] and tau_neg[m]; a source
 * that never votes gets 0.5 and 0.5 (its smoothed votes are all 0). */
void embroid_default_thresholds(const int8_t *votes, size_t n, size_t m,
    double *tau_pos, double *tau_neg);

/*
 * Smoothed votes into smoothed[n * (m * nspaces)].  neighbors[e] is space
 * e's n x ncols matrix.  1 <= k <= ncols.  Returns 0, or -1 with
 * loam_error() set for a bad vote, a neighbour id >= n or below -1, a
 * threshold that is not a number, or k out of range.
 */
int embroid_smooth_votes(const int8_t *votes, size_t n, size_t m,
    const int64_t *const *neighbors, size_t nspaces, size_t ncols, size_t k,
    const double *tau_pos, const double *tau_neg, int8_t *smoothed);

/*
 * The label model's input, L = [votes | S_1 | ... | S_E], into
 * L[n * (m * (nspaces + 1))]: row t holds the m original votes, then
 * space 1's m smoothed votes, and so on (the reference's column order,
 * §E.1.3).  Arguments and errors as for embroid_smooth_votes().
 */
int embroid_label_matrix(const int8_t *votes, size_t n, size_t m,
    const int64_t *const *neighbors, size_t nspaces, size_t ncols, size_t k,
    const double *tau_pos, const double *tau_neg, int8_t *L);

/*
 * The whole method over n records: the label matrix and the label model
 * (labelmodel.h) for one binary problem, or with classes = K >= 2 for K
 * one-vs-all problems (class q's votes: +1 where a source says q, -1
 * where it says another class, 0 where it abstains), then each row's
 * label: the sign of P(y = +1) (ties to -1, the reference's rule), or
 * the class whose problem gives the highest posterior (the first on a
 * tie).
 *
 * votes are n x m int8 as read: {-1, 0, +1} in binary mode; in multiclass
 * mode the class 0..K-1, or -1 for an abstain.  neighbors[e] is space
 * e's n x ncols[e] matrix; spaces of different widths are cut to the
 * narrowest (the smoothing takes one width).  tau_pos and tau_neg give m
 * thresholds for every problem, or NULL for each problem's defaults
 * (embroid_default_thresholds()).  model: the label model's options.
 */
struct embroid_opts {
	int classes;		/* 0: binary; K >= 2: one-vs-all */
	size_t k;		/* neighbours per row, 1 <= k <= every ncols */
	const double *tau_pos, *tau_neg;	/* m each, or NULL */
	const struct labelmodel_opts *model;	/* NULL: labelmodel's defaults */
	int keep_matrix;	/* keep each problem's label matrix */
};

struct embroid {
	size_t n, m, nspaces;
	size_t problems;	/* 1, or K */
	size_t width;		/* m * (nspaces + 1), the label matrix's columns */
	double *proba;		/* [problems][n]: P(y = +1) in problem q */
	double *accuracy;	/* [problems][width]: the label model's accuracies */
	int8_t *matrix;		/* [problems][n][width]: L, or NULL unless kept */
	int *label;		/* [n]: -1 or +1, or the class */
	double *label_p;	/* [n]: the posterior of that label's problem */
};

/*
 * Run it into e (any previous content is not freed).  Returns 0, or -1
 * with loam_error() set: a smoothing error as embroid_label_matrix(), a
 * problem the label model cannot fit ("0: ..." in binary mode, "class q:
 * ..." in multiclass mode), or no space.  e owns its arrays until embroid_release(),
 * which may be called after a failure too.
 */
int embroid_run(struct embroid *e, const struct embroid_opts *o,
    const int8_t *votes, size_t n, size_t m,
    const int64_t *const *neighbors, const size_t *ncols, size_t nspaces);
void embroid_release(struct embroid *e);

/* The prediction before smoothing, from one row's m votes as read: the
 * sign of their sum (binary, 0 on a tie), or the class most sources
 * voted for (-1 when none votes or two classes tie). */
int embroid_majority(const int8_t *votes, size_t m, int classes);

/* Macro-F1 of pred against gold over the classes that either holds
 * (binary: -1 and +1; classes: 0..classes-1); 0 when neither holds one. */
double embroid_macro_f1(const int *gold, const int *pred, size_t n, int classes);

#ifdef __cplusplus
}
#endif

#endif
