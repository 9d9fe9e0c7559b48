/*
 * rkhs - kernel reward learning with query design: the method core of
 * reward-query(1) (issue 19), after Bhatia, Guo and Steinhardt, "Reward
 * Learning as Doubly Nonparametric Bandits: Optimal Design and Scaling
 * Laws" (arXiv 2302.12349).  The name is the space everything lives in:
 * rewards are functions in a reward kernel's RKHS, and a query (a policy)
 * is a point of that RKHS too, its kernel mean embedding.
 *
 * Kernels.  Stationary, k(x, y) = σf² f(r) with the scaled distance
 * r² = Σ_d (x_d - y_d)² / ℓ_d² (one ℓ for all dimensions, or one each):
 *	Matérn ν	f(r) = 2^(1-ν) / Γ(ν) z^ν K_ν(z), z = sqrt(2ν) r
 *	ν = 1/2		f(r) = exp(-r)
 *	ν = 3/2		f(r) = (1 + √3 r) exp(-√3 r)
 *	ν = 5/2		f(r) = (1 + √5 r + 5r²/3) exp(-√5 r)
 *	RBF		f(r) = exp(-r²/2)	(the limit ν → ∞)
 * The three half-integer ν are evaluated in closed form; any other ν > 0
 * through GSL's log K_ν (gsl_sf_bessel_lnKnu, which cannot underflow).
 *
 * Candidates.  Each candidate is an empirical distribution: samples with
 * weights (normalised here), a single sample for a point query (the GP
 * bandit case).  Its embedding is μ = Σ_i w_i k(x_i, ·), so
 * ⟨μ_a, μ_b⟩ = Σ_i Σ_j w_ai w_bj k(x_ai, x_bj): the mean of the kernel
 * over the sample pairs.
 *
 * The posterior.  Observations y of candidates are consolidated: all the
 * observations of one candidate become their mean ȳ and count c, with
 * noise σn²/c, which gives exactly the posterior of the raw observations
 * and keeps the matrix K = G + diag(σn²/c) positive definite however
 * often a candidate repeats (BoTorch had to add this).  K's Cholesky
 * factor comes from LAPACK dpotrf with this jitter schedule: none; then,
 * while dpotrf fails, 1e-10, 1e-9, ..., 1e-6 times the mean of K's
 * diagonal added to the diagonal (6 tries in all); after that the fit
 * fails with "gram matrix not positive definite".  The jitter used is
 * kept in the posterior.  Predictive mean g(π)ᵀ K⁻¹ ȳ and variance
 * ⟨μ_π, μ_π⟩ - g(π)ᵀ K⁻¹ g(π), g(π)_i = ⟨μ_π, μ_i⟩ (the latent reward's
 * value, noise excluded: scikit-learn's predict without a WhiteKernel).
 *
 * The log marginal likelihood is that of the raw observations: the
 * consolidated Gaussian's plus, per candidate with c observations and
 * within-candidate sum of squares S, -(c-1)/2 log(2πσn²) - ½ log c -
 * S/(2σn²); so repeats inform the noise.  Its gradient is taken in the
 * log hyperparameters θ = (log ℓ_1..log ℓ_p, log σf², log σn²), p = 1
 * or the dimension, and rkhs_fit_hyper() maximises it with L-BFGS
 * (liblbfgs).
 *
 * Design (rkhs_design): a batch of queries, each pick conditioning the
 * posterior covariance of all candidates on a hallucinated observation
 * of it (noise σn²; the value does not matter to the covariance), by the
 * rank-one update
 *	Σ(a, b) -= Σ(a, q) Σ(q, b) / (Σ(q, q) + σn²),
 * which is O(|C|²) and exact (the tests compare it with a refit):
 *  - gopt: the batch S that minimises max_π Σ_S(π, π), the largest
 *    posterior variance over the candidates after all its queries
 *    (G-optimal, minimax, design: the notes' reading of the paper's
 *    design as minimising the bound's sup σ_n).  Searched from maxvar's
 *    batch (greedy D-optimal; Kiefer-Wolfowitz: D- and G-optimal
 *    coincide for continuous designs) by Fedorov-style exchange (ours):
 *    a pass replaces each pick p in turn by the candidate q that
 *    minimises max_π Σ_{S-p+q}(π, π) when that is below the current
 *    worst by more than rounding (1e-9 relative); at most 10 passes, fewer
 *    when one changes nothing, so the worst never rises above the start's.
 *    Σ_{S-p} = Σ_S + c cᵀ / (σn² - Σ_S(p, p)), c = Σ_S(:, p), the
 *    rank-one downdate, is ill-conditioned when that difference is
 *    small: a pick within 1e-9 σn² of it stays, and Σ_S is recomputed
 *    from the covariance before the batch after every pass.  q is found
 *    exactly with a lower bound that skips most candidates (see
 *    rkhs_design_lazy).  The batch is then ordered by maxvar's rule within
 *    it, so its prefixes are spread too.  One-step greedy minimax, which
 *    this replaces, is degenerate from a flat prior: one query lowers
 *    only its own region, every query leaves the same worst variance and
 *    the picks cluster in the middle;
 *  - maxvar: the q of largest posterior variance;
 *  - ucb: the q of largest mean + β sd (GP-UCB; in a batch the mean is
 *    kept and the sd shrinks, as in GP-BUCB);
 *  - eigen: OUR RECONSTRUCTION of the paper's spectral solution, not
 *    read from it: the top eigenvectors u_j of the candidates' posterior
 *    embedding covariance Σ (LAPACK dsyevr), and for the j-th query the
 *    unpicked candidate best aligned with the j-th eigenfunction
 *    φ_j = Σ_π u_j(π) μ_π, that is of largest |u_j(π)| / sqrt(Σ(π, π));
 *    its criterion is the eigenvalue λ_j;
 *  - random: uniform without replacement, from the generator the caller
 *    starts on RNG_REWARD_QUERY_RANDOM.
 * Ties go to the lowest candidate index; eligible[] (NULL: all) restricts
 * the queries (--exclude-observed).
 *
 * Recommendation: the candidate of largest posterior mean, with the bound
 * on its excess risk 2 β_n max_π sd(π), β_n = B + (σ/√λ) sqrt(2 log(1/δ)
 * + log det(I + G/λ)) (the notes' §b.2, reconstructed), λ = σn² the
 * ridge, σ the noise's sub-Gaussian scale, log det over the n raw
 * observations (from K's factor: log det K - Σ log(σn²/c)).
 *
 * Library conventions: errors return -1 with loam_seterr(); out of memory
 * ends the program.  Matrices are column-major (LAPACK's), which for the
 * symmetric ones is the same as row-major.
 */
#ifndef LOAM_RKHS_H
#define LOAM_RKHS_H

#include <stddef.h>

#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

enum rkhs_family { RKHS_MATERN, RKHS_RBF };

struct rkhs_kernel {
	enum rkhs_family family;
	double nu;		/* Matérn smoothness, > 0 */
	int dim;		/* input dimension, >= 1 */
	int nls;		/* 1 (one lengthscale) or dim */
	double *ls;		/* nls lengthscales, > 0 */
	double variance;	/* σf², > 0 */
	double lognorm;		/* log(2^(1-ν) / Γ(ν)), general ν */
};

/* -1 for ν <= 0 (Matérn), dim < 1, nls not 1 or dim, or a lengthscale or
 * variance not finite and positive. */
int rkhs_kernel_init(struct rkhs_kernel *k, enum rkhs_family family, double nu,
    int dim, const double *ls, int nls, double variance);
void rkhs_kernel_release(struct rkhs_kernel *k);
/* Set ν again (it picks the closed form or the Bessel path); -1 if <= 0. */
int rkhs_kernel_set_nu(struct rkhs_kernel *k, double nu);

/* f(r) and f'(r)/r (finite at r = 0 except for ν <= 1, where it is
 * returned as 0 because the only caller multiplies it by Δ² <= r²).
 * matern_bessel is the general path, exposed so that the tests can
 * compare it with the closed forms. */
double rkhs_matern_bessel(double nu, double r);
double rkhs_profile(const struct rkhs_kernel *k, double r, double *dfr);
/* k(x, y) for two points of k->dim coordinates. */
double rkhs_kernel_eval(const struct rkhs_kernel *k, const double *x, const double *y);

/* The candidates: each a weighted sample, point queries a sample of one. */
struct rkhs_set {
	int dim;
	size_t n;		/* candidates */
	size_t *start;		/* n + 1: candidate i has samples
				   [start[i], start[i + 1]) */
	double *x;		/* start[n] * dim coordinates */
	double *w;		/* start[n] weights, summing to 1 per candidate */
	size_t cap, xcap;
};

void rkhs_set_init(struct rkhs_set *s, int dim);
void rkhs_set_release(struct rkhs_set *s);
/* Append a candidate of m samples (x: m * dim); w NULL for equal weights.
 * -1 when m == 0, a value is not finite, a weight negative or all zero. */
int rkhs_set_add(struct rkhs_set *s, const double *x, size_t m, const double *w);

/* ⟨μ_a, μ_b⟩. */
double rkhs_embed_dot(const struct rkhs_kernel *k, const struct rkhs_set *s,
    size_t a, size_t b);
/* out[i + j * na] = ⟨μ_a[i], μ_b[j]⟩ (na × nb, column-major); a or b
 * NULL means all candidates in order. */
void rkhs_cross(const struct rkhs_kernel *k, const struct rkhs_set *s,
    const size_t *a, size_t na, const size_t *b, size_t nb, double *out);
/* The plain reference: one rkhs_embed_dot per entry.  rkhs_cross takes a
 * fast path when all the candidates involved are points (one sample),
 * with the same values to the bit. */
void rkhs_cross_ref(const struct rkhs_kernel *k, const struct rkhs_set *s,
    const size_t *a, size_t na, const size_t *b, size_t nb, double *out);

/* Observations consolidated by candidate, in increasing candidate order. */
struct rkhs_obs {
	size_t n;		/* distinct candidates observed */
	size_t *cand;		/* n candidate indices, increasing */
	double *mean;		/* ȳ */
	double *count;		/* c */
	double *ss;		/* within-candidate sum of squares */
};

/* From nraw observations (cand[i] observed as y[i]).  -1 when a y is not
 * finite (the candidate indices are the caller's to check). */
int rkhs_obs_init(struct rkhs_obs *o, const size_t *cand, const double *y,
    size_t nraw);
void rkhs_obs_release(struct rkhs_obs *o);
/* Total raw observations, Σ c. */
double rkhs_obs_total(const struct rkhs_obs *o);

struct rkhs_post {
	size_t n;		/* consolidated observations */
	double noise;		/* σn² */
	double jitter;		/* added to K's diagonal, 0 when none */
	double *chol;		/* n × n lower factor L of K + jitter I */
	double *alpha;		/* K⁻¹ ȳ */
	double logdet;		/* log det(K + jitter I) */
};

/* Factor K = G + diag(noise / c) for the observed candidates.  -1 when
 * noise is not finite and positive or K stays singular after jitter. */
int rkhs_post_fit(struct rkhs_post *p, const struct rkhs_kernel *k,
    const struct rkhs_set *s, const struct rkhs_obs *o, double noise);
void rkhs_post_release(struct rkhs_post *p);
/* Predictive mean and sd of the candidates idx[0..m) (NULL: all, m = s->n);
 * either output may be NULL.  cov, when not NULL, gets the m × m posterior
 * covariance (column-major), O(m² n). */
void rkhs_post_predict(const struct rkhs_post *p, const struct rkhs_kernel *k,
    const struct rkhs_set *s, const struct rkhs_obs *o, const size_t *idx,
    size_t m, double *mean, double *sd, double *cov);
/* The plain reference: the whole n × m matrix L⁻¹ G, then the sums.
 * rkhs_post_predict works through the candidates in blocks of
 * RKHS_PREDICT_BLOCK, each block's cross matrix, mean, triangular solve
 * (one BLAS thread; the blocks spread over the OpenMP threads, so the
 * results do not depend on their number, which OpenBLAS's threaded solve
 * of the whole matrix did) and sd while it is in cache; without cov no
 * n × m temporary. */
void rkhs_post_predict_ref(const struct rkhs_post *p, const struct rkhs_kernel *k,
    const struct rkhs_set *s, const struct rkhs_obs *o, const size_t *idx,
    size_t m, double *mean, double *sd, double *cov);
#define RKHS_PREDICT_BLOCK 256

/* The log hyperparameters: p = k->nls lengthscales, then σf², then σn². */
int rkhs_nhyper(const struct rkhs_kernel *k);
void rkhs_hyper_get(const struct rkhs_kernel *k, double noise, double *theta);
void rkhs_hyper_set(struct rkhs_kernel *k, double *noise, const double *theta);

/* Log marginal likelihood of the raw observations at the kernel and noise
 * given, and its gradient in θ when grad is not NULL.  NaN with
 * loam_seterr() when K cannot be factored. */
double rkhs_lml(const struct rkhs_kernel *k, const struct rkhs_set *s,
    const struct rkhs_obs *o, double noise, double *grad);

/* Which hyperparameters rkhs_fit_hyper() moves. */
enum {
	RKHS_FIT_LENGTHSCALE = 1 << 0,
	RKHS_FIT_VARIANCE = 1 << 1,
	RKHS_FIT_NOISE = 1 << 2,
};

/* Maximise the log marginal likelihood by L-BFGS from the kernel's and
 * *noise's current values, each log hyperparameter kept in [-18, 18]
 * (e^±18: beyond it the problem is degenerate); updates k and *noise in
 * place, *lml gets the value reached.  Returns liblbfgs's status (>= 0
 * converged or stopped, the best point kept either way), or -1 with
 * loam_seterr() when no point could be evaluated. */
int rkhs_fit_hyper(struct rkhs_kernel *k, double *noise, const struct rkhs_set *s,
    const struct rkhs_obs *o, unsigned which, int max_iter, double *lml);

enum rkhs_design_rule { RKHS_GOPT, RKHS_MAXVAR, RKHS_UCB, RKHS_EIGEN, RKHS_RANDOM };

/* Choose batch queries among the s->n candidates from the posterior mean
 * and covariance (cov: n × n, modified: on return it is conditioned on
 * the picks; gopt holds a second n × n copy).  pick[j] gets the j-th
 * query and crit[j] its criterion: gopt the largest posterior sd left
 * after the picks 0..j (the last: after the batch), maxvar its sd, ucb
 * mean + beta * sd, eigen the eigenvalue, random 0.  Returns how many
 * were picked (fewer than batch when fewer candidates are eligible; each
 * candidate is picked at most once per batch), or -1 on a LAPACK failure.
 * r is used by random only. */
int rkhs_design(enum rkhs_design_rule rule, size_t n, const double *mean,
    double *cov, double noise, double beta, const unsigned char *eligible,
    size_t batch, struct rng *r, size_t *pick, double *crit);
/* rkhs_design for gopt, maxvar, ucb and random without the dense
 * covariance: from the fitted posterior, O(N n) memory for N candidates
 * and n observations, the columns of the covariance computed when needed
 * (gopt: one block of 64 columns bounds every exchange candidate's score
 * from below, and only the candidates whose bound is below the best score
 * found are scored exactly, a block at a time; a swap recomputes the
 * picks' update vectors, there being no downdate; the same picks as
 * rkhs_design, up to rounding).  The noise is p->noise; mean is read by
 * ucb only (may be NULL otherwise).  -1 for eigen, which needs the whole
 * matrix.  gopt's bound prunes well when the top variances sit in a few
 * regions; at worst every candidate is scored exactly, O(N² (n + b))
 * time per pick tried, b picks per pass. */
int rkhs_design_lazy(enum rkhs_design_rule rule, const struct rkhs_post *p,
    const struct rkhs_kernel *k, const struct rkhs_set *s,
    const struct rkhs_obs *o, const double *mean, double beta,
    const unsigned char *eligible, size_t batch, struct rng *r, size_t *pick,
    double *crit);
/* The rank-one update above for a hallucinated observation of q. */
void rkhs_cov_condition(size_t n, double *cov, size_t q, double noise);

/* β_n of the notes from the posterior; sigma <= 0 means sqrt(σn²). */
double rkhs_beta(const struct rkhs_post *p, const struct rkhs_obs *o,
    double B, double sigma, double delta);
/* The candidate of largest mean (lowest index on ties), and in *bound the
 * excess-risk bound 2 β max sd. */
size_t rkhs_recommend(size_t n, const double *mean, const double *sd,
    double beta, double *bound);

#ifdef __cplusplus
}
#endif

#endif
