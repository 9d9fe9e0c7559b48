/*
 * anderson - Anderson acceleration (type II) of a fixed-point iteration
 * x = g(x) in R^n: value iteration, expected visitations, any contraction
 * whose plain iteration needs hundreds of sweeps.
 *
 * With f(x) = g(x) - x and the last k <= m differences of iterates ΔX
 * and of residuals ΔF, the next iterate is
 *	x' = g(x) - (ΔX + ΔF) γ,   γ = argmin |f(x) - ΔF γ|_2
 * (least squares by the normal equations with a small ridge: near
 * convergence the columns become collinear).  For a
 * linear g this is GMRES in disguise; for a smooth contraction it cuts
 * the sweeps severalfold (value iteration of a soft Bellman operator at
 * γ = 0.9: a factor of 10 in 7 sweeps instead of 22).  It is not
 * guaranteed to converge, so there is a safeguard: anderson_step() is
 * told each residual's size and, when one is more than twice the
 * smallest so far, forgets the history (the next step is a plain one);
 * after ANDERSON_MAX_FAILS of those it stays plain for good, which is the
 * plain iteration's guarantee.  The caller's stopping test should bound
 * the distance to the fixed point by the residual (for a γ-contraction
 * |g(x) - x*| <= γ |g(x) - x| / (1 - γ) at any x), not by how far an
 * iterate moved.
 *
 * Deterministic: the same inputs give the same iterates, bit for bit.
 */
#ifndef LOAM_ANDERSON_H
#define LOAM_ANDERSON_H

#ifdef __cplusplus
extern "C" {
#endif

#define ANDERSON_MAX_FAILS 10
#define ANDERSON_MAX_MEMORY 16

struct anderson {
	int n, m;
	int k;			/* differences stored, <= m */
	int next;		/* the ring slot the next difference goes to */
	int have_prev;
	int fails;		/* residual growths seen */
	double best_norm;	/* the smallest residual size so far */
	double *dx, *df;	/* m*n: differences of iterates and of residuals */
	double *xprev, *fprev;	/* n: the last iterate and its residual */
	double *gram;		/* m*m: ΔFᵀΔF by ring slot */
};

/* For n unknowns, remembering m differences (1 <= m <= ANDERSON_MAX_MEMORY;
 * clamped). */
void anderson_init(struct anderson *aa, int n, int m);
void anderson_release(struct anderson *aa);
/* Forget the history and the failures: a new solve. */
void anderson_reset(struct anderson *aa);

/* x is the current iterate, gx = g(x), norm the caller's size of
 * gx - x (any norm; it only compares them): x becomes the next iterate.
 * Returns 1 when the step was accelerated, 0 when plain (x = gx). */
int anderson_step(struct anderson *aa, double *x, const double *gx, double norm);

#ifdef __cplusplus
}
#endif

#endif
