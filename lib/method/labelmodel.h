/*
 * labelmodel - the triplet label model of FlyingSquid (Fu et al., ICML
 * 2020) for one binary task, in closed form, as Embroid runs it (Guha et
 * al., NeurIPS 2023), with the reference's defects fixed.  embroid-fix
 * combines an LM's votes with their smoothed neighbourhood votes through
 * it; cookbook-gen mix reads each template rule's estimated accuracy on a
 * task that has no labels.  Section numbers (§E.1.4 and so on) are those
 * of research/embroid-tart.md, which derives what the reference computes.
 *
 * Input: votes, n rows (samples) by m columns (sources: prompts, LMs,
 * template rules, smoothed votes), row-major int8, each -1, +1, or 0 for
 * an abstain.  The model: an unseen label y in {-1, +1} with
 * P(y = +1) = p; sources conditionally independent given y; whether a
 * source abstains independent of y.  Write n_i for the rows where source
 * i votes, n_ij for those where both i and j vote, and
 * e_i = E[L_i y | L_i != 0] = 2 acc_i - 1 for the quantity the triplets
 * estimate, acc_i = P(L_i = y | L_i != 0) being source i's accuracy.
 *
 * labelmodel_fit() runs five closed-form steps:
 *
 * 1. Second moments (§E.1.4 step 1), over the rows where both sources of
 *    a pair vote:  M_ij = (1/n_ij) sum_t L_ti L_tj.  The model gives
 *    M_ij = e_i e_j.  (The reference divides by n and so estimates
 *    (1-z_i) e_i (1-z_j) e_j, z_i being the abstain rate: equal when
 *    abstains are independent, but wrong when abstain patterns are
 *    correlated, and each source's accuracy then mixes in its coverage.)
 *
 * 2. Triplets (§E.1.4 step 2, FlyingSquid's "triplet_mean", which Embroid
 *    uses; not the single seeded triplet of its "triplet" default):
 *    |e_i| = mean over every unordered pair {j, k} of the other sources of
 *    sqrt(r), r = M_ij M_ik / M_jk, since r = e_i^2 under the model.  Two
 *    fixes (§E.5 defect 5 and the clipping of impossible moments):
 *    - a triplet is skipped, not averaged in as 0, when a pair in it has
 *      no row where both vote, or when M_jk is within min_z standard
 *      errors of 0, |M_jk| < min_z sqrt((1 - M_jk^2) / n_jk): the ratio
 *      is then noise over noise, and the reference's estimate blows up
 *      long before M_jk is exactly 0.  With min_z = 0 only M_jk = 0 is
 *      skipped.
 *    - r <= 0 is impossible under the model (it is e_i^2); such a term
 *      counts as 0, the nearest possible value, where the reference takes
 *      |r|.
 *    ntriplets[i] counts the triplets averaged.  A source with none is
 *    not identified: it is treated as independent of y (weight 0,
 *    accuracy p q_i + (1-p)(1-q_i), which is 0.5 at p = 0.5).
 *
 * 3. Signs.  The reference assumes every e_i > 0 ("all_positive"), so a
 *    source worse than chance comes out as good as its mirror image.
 *    Here the signs are those of the leading eigenvector of the matrix
 *    with M_ij off the diagonal and |e_i|^2 on it (M = e e^T under the
 *    model), the whole vector oriented so that sum_i sign_i |e_i| >= 0:
 *    the sources are assumed better than chance on balance, not each
 *    one.  When every M_ij > 0 (sources that agree), all signs are +.
 *
 * 4. Class balance p (§E.1.4 step 3).  Given (default 0.5, the
 *    reference's hard-wired value; the caller may pass the LM's base
 *    rate, §E.5 defect 4) or estimated: with sources that are equally
 *    accurate on both classes, E[L_i | L_i != 0] = (2p - 1) e_i, so
 *    2p - 1 is the least-squares slope, weighted by n_i, of the sources'
 *    mean votes on their e_i (each e_i clipped to [-1, 1]):
 *    2p - 1 = sum_i n_i mean_i e_i / sum_i n_i e_i^2, then p clipped to
 *    [0.01, 0.99]; 0.5 when no source is identified.
 *
 * 5. Per-source table (§E.1.4 step 4), conditional on voting:
 *    A = P(L_i = +1, y = +1 | L_i != 0) = (p + q_i + s_i - 1) / 2, with
 *    q_i = P(L_i = +1 | L_i != 0) and s_i = (1 + e_i) / 2; the other
 *    cells are q_i - A, p - A and 1 - p - q_i + A.  (This is the
 *    reference's 6x6 solution divided by 1 - z_i.)  Where the estimate is
 *    impossible, a negative cell, the reference flips its sign and
 *    renormalises ("flip_negative"), which invents a distribution; here
 *    A is clipped to [max(0, p + q_i - 1), min(p, q_i)], the range in
 *    which every cell is a probability, which lowers e_i to the most
 *    accurate value that the source's vote rate q_i allows at balance p.
 *    Then acc_i = 2A - p - q_i + 1, and the class conditionals
 *    P(L = +1 | y = +1) = A / p and P(L = -1 | y = -1) =
 *    (1 - p - q_i + A) / (1 - p) are kept in [prob_floor, 1 - prob_floor]
 *    so that one source cannot make a posterior exactly 0 or 1.
 *
 * Prediction (§E.1.4 steps 5 and 6): naive Bayes over the sources,
 *    log P(y=+1|L)/P(y=-1|L) = log(p/(1-p)) + sum_i w_i(L_i),
 *    w_i(+1) = log(P(+1|+1) / P(+1|-1)), w_i(-1) = log(P(-1|+1) /
 *    P(-1|-1)), w_i(0) = 0: an abstain carries no evidence.  At p = 0.5
 *    this is exactly the reference's weights log((2q+a)/(2q-a)) and
 *    -log((2v+a)/(2v-a)).  The reference divides by P(y)^(m-2), not
 *    P(y)^(m-1) (a junction-tree count): the same at p = 0.5, a doubled
 *    prior otherwise; here the prior counts once.  The posterior is
 *    computed from the log-odds per row, with no row loop beyond one pass
 *    over its m votes.  Hard labels: +1 when the log-odds are positive,
 *    -1 when negative; an exact tie (all sources abstain at p = 0.5, or
 *    evidence that cancels to the last bit) follows opts.tie, by default
 *    0, no decision, where the reference says -1 (§E.5 defect 6).
 *
 * On data where the reference is well defined (no abstains, every
 * M_ij > 0 and far from 0, every table cell positive) the default steps
 * compute what the reference computes, and the predictions equal its
 * predictions: on Embroid's DBPedia demo with the notebook's thresholds
 * they match its golden outputs (§E.3: macro-F1 0.7670, 342 flipped).
 * With the thresholds at 0.5 the smoothed votes there are more accurate
 * than their vote rates allow at p = 0.5; the reference's flip gives
 * 0.7610, step 5's clip 0.7740.  opts.reference = 1 restores every unfixed step for
 * side-by-side runs: moments over all n rows, the mean over all pairs
 * with a term 0 where M_jk = 0 and sqrt(|r|) elsewhere, all signs +, the
 * 6-cell unconditional table with flip_negative, and the prior to the
 * power -(m-2); class_balance and tie still apply (set tie to
 * LABELMODEL_TIE_NEGATIVE, as labelmodel_opts_reference() does, for the
 * reference's argmax).
 *
 * Refused with an error: fewer than 3 sources (no triplet exists; the
 * reference raises too), no rows, a vote not in {-1, 0, +1}, a source
 * that never votes (nothing identifies it: drop it), and two sources
 * whose columns are identical or exact opposites (the triplets would
 * take one for a perfect witness of the other: drop one).
 *
 * Everything is deterministic: fixed summation orders, and LAPACK's
 * symmetric eigensolver (dsyev) on the m x m matrix of step 3, whose
 * eigenvector serves only for its signs.  Costs O(n m^2) for the
 * moments, O(m^3) for the triplets, O(n m) to predict.
 *
 * Ownership: labelmodel_init() takes a copy of the options.  After a
 * successful fit the struct owns the per-source arrays below, which stay
 * valid until the next fit or labelmodel_release(); a failed fit leaves
 * it unfitted (nsources 0).  labelmodel_release() frees everything and
 * may be called on an initialised struct more than once.  The caller owns
 * votes and the output buffers of labelmodel_predict().
 */
#ifndef LOAM_LABELMODEL_H
#define LOAM_LABELMODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* opts.class_balance: estimate p from the votes (step 4). */
#define LABELMODEL_ESTIMATE	(-1.0)

/* Hard label of a row whose log-odds are exactly 0. */
enum labelmodel_tie {
	LABELMODEL_TIE_ABSTAIN = 0,	/* 0: no decision (default) */
	LABELMODEL_TIE_NEGATIVE,	/* -1, FlyingSquid's argmax */
	LABELMODEL_TIE_POSITIVE		/* +1 */
};

struct labelmodel_opts {
	double	class_balance;	/* P(y = +1) in (0, 1), or LABELMODEL_ESTIMATE;
				 * default 0.5 */
	double	min_z;		/* step 2's significance test on M_jk; 2 */
	double	prob_floor;	/* step 5's floor, in [0, 0.5); 1e-3 */
	int	tie;		/* enum labelmodel_tie; LABELMODEL_TIE_ABSTAIN */
	int	reference;	/* 1: FlyingSquid's unfixed steps; 0 */
};

struct labelmodel {
	struct labelmodel_opts opts;
	size_t	 nsources;	/* m of the last fit; 0 when not fitted */
	size_t	 nrows;		/* n of the last fit */
	double	 class_balance;	/* p used: given or estimated */
	/* per source, m entries each: */
	double	*accuracy;	/* P(vote = y | vote != 0), after step 5 */
	double	*coverage;	/* n_i / n, the share of rows it votes on */
	double	*vote_y;	/* e_i as steps 2-3 estimate it (signed, before
				 * step 5's clip; may pass 1) */
	size_t	*ntriplets;	/* triplets averaged into |e_i|; 0: not
				 * identified */
	double	*cond_pos;	/* P(vote = +1 | y = +1, vote != 0), as used */
	double	*cond_neg;	/* P(vote = -1 | y = -1, vote != 0), as used */
	/* per pair, m x m row-major, symmetric: */
	double	*moment;	/* M_ij of step 1 (reference: over n rows);
				 * diagonal 1 (reference: 1 - z_i) */
	size_t	*pair_rows;	/* n_ij; diagonal n_i */
	/* for labelmodel_predict(): */
	double	*logw;		/* [m][2][3]: source i, y (+1, -1), vote
				 * (-1, 0, +1) -> log-likelihood term */
	double	 logprior[2];	/* y = +1, y = -1 */
};

/* Defaults as documented above; the FlyingSquid settings Embroid runs
 * (reference = 1, p = 0.5, ties to -1). */
void labelmodel_opts_default(struct labelmodel_opts *o);
void labelmodel_opts_reference(struct labelmodel_opts *o);

/* An unfitted model with a copy of *o (defaults when o is NULL). */
void labelmodel_init(struct labelmodel *lm, const struct labelmodel_opts *o);
void labelmodel_release(struct labelmodel *lm);

/* Fit on votes[n * m] (row-major, see above).  Returns 0, or -1 with
 * loam_error() set, leaving lm unfitted. */
int labelmodel_fit(struct labelmodel *lm, const int8_t *votes, size_t n,
    size_t m);

/*
 * For each of the n rows of votes[n * m] (m must be the fitted m), write
 * P(y = +1 | votes) to proba[t] and the hard label (-1, +1, or the tie
 * rule's) to labels[t]; either output may be NULL.  Returns 0, or -1
 * with loam_error() set (not fitted, m differs, a bad vote: the outputs
 * are then partly written).
 */
int labelmodel_predict(const struct labelmodel *lm, const int8_t *votes,
    size_t n, size_t m, double *proba, int8_t *labels);

#ifdef __cplusplus
}
#endif

#endif
