/*
 * anderson - Anderson acceleration of a fixed-point iteration; see
 * anderson.h.  The least squares goes through the k x k normal equations
 * with a small ridge (regularised Anderson acceleration, as SCS does):
 * plain loops in a fixed order, so the iterates do not depend on a BLAS
 * library's threads, and k <= m is small enough that their conditioning
 * is the ridge's business.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "anderson.h"
#include "util.h"

/* The ridge, relative to the largest diagonal of ΔFᵀΔF. */
#define ANDERSON_RIDGE 1e-10
/* How far above the smallest residual so far one may be before the
 * history is forgotten: the residual of an accelerated iteration is not
 * monotone (a softmax's switching shows as bumps), and forgetting at
 * every bump cost most of the gain on value iteration. */
#define ANDERSON_SLACK 2.0

void
anderson_init(struct anderson *aa, int n, int m)
{
	memset(aa, 0, sizeof *aa);
	aa->n = n;
	aa->m = m < 1 ? 1 : m > ANDERSON_MAX_MEMORY ? ANDERSON_MAX_MEMORY : m;
	aa->dx = xmalloc((size_t)aa->m * n * sizeof *aa->dx);
	aa->df = xmalloc((size_t)aa->m * n * sizeof *aa->df);
	aa->xprev = xmalloc((size_t)n * sizeof *aa->xprev);
	aa->fprev = xmalloc((size_t)n * sizeof *aa->fprev);
	aa->gram = xmalloc((size_t)aa->m * aa->m * sizeof *aa->gram);
	anderson_reset(aa);
}

void
anderson_release(struct anderson *aa)
{
	free(aa->dx);
	free(aa->df);
	free(aa->xprev);
	free(aa->fprev);
	free(aa->gram);
	memset(aa, 0, sizeof *aa);
}

void
anderson_reset(struct anderson *aa)
{
	aa->k = aa->next = aa->have_prev = aa->fails = 0;
	aa->best_norm = HUGE_VAL;
}

/* Forget the differences, keep the failure count. */
static void
forget(struct anderson *aa)
{
	aa->k = aa->next = 0;
}

/* Solve (G + ridge I) y = b for the k x k symmetric G (row stride m) by
 * Cholesky; 0 on success, -1 when it is not positive definite. */
static int
ridge_solve(const double *G, int m, int k, const double *b, double *y)
{
	double L[ANDERSON_MAX_MEMORY * ANDERSON_MAX_MEMORY], top = 0;

	for (int i = 0; i < k; i++)
		top = fmax(top, G[i * m + i]);
	if (!(top > 0) || !isfinite(top))
		return -1;
	for (int i = 0; i < k; i++)
		for (int j = 0; j <= i; j++) {
			double s = G[i * m + j] + (i == j ? ANDERSON_RIDGE * top : 0);

			for (int l = 0; l < j; l++)
				s -= L[i * k + l] * L[j * k + l];
			if (i == j) {
				if (!(s > 0))
					return -1;
				L[i * k + i] = sqrt(s);
			} else
				L[i * k + j] = s / L[j * k + j];
		}
	for (int i = 0; i < k; i++) {
		double s = b[i];

		for (int l = 0; l < i; l++)
			s -= L[i * k + l] * y[l];
		y[i] = s / L[i * k + i];
	}
	for (int i = k - 1; i >= 0; i--) {
		double s = y[i];

		for (int l = i + 1; l < k; l++)
			s -= L[l * k + i] * y[l];
		y[i] = s / L[i * k + i];
	}
	return 0;
}

int
anderson_step(struct anderson *aa, double *x, const double *gx, double norm)
{
	int n = aa->n, m = aa->m, k, slot;
	double b[ANDERSON_MAX_MEMORY], y[ANDERSON_MAX_MEMORY];
	double *dx, *df;

	if (aa->have_prev && !(norm <= ANDERSON_SLACK * aa->best_norm)) {
		/* The residual grew well past the best (or is not a number):
		 * start over from a plain step, and after a few of these stay
		 * plain. */
		aa->fails++;
		forget(aa);
		aa->have_prev = 0;
	}
	if (aa->fails >= ANDERSON_MAX_FAILS || !isfinite(norm)) {
		memcpy(x, gx, (size_t)n * sizeof *x);
		return 0;
	}
	/* The newest differences go to the ring's next slot (when there is
	 * a last iterate to differ from), then this iterate becomes the
	 * last. */
	slot = aa->next;
	dx = aa->dx + (size_t)slot * n;
	df = aa->df + (size_t)slot * n;
	for (int i = 0; i < n; i++) {
		double f = gx[i] - x[i];

		if (aa->have_prev) {
			dx[i] = x[i] - aa->xprev[i];
			df[i] = f - aa->fprev[i];
		}
		aa->xprev[i] = x[i];
		aa->fprev[i] = f;
	}
	if (aa->have_prev) {
		/* The Gram matrix's row and column of that slot. */
		aa->next = (slot + 1) % m;
		if (aa->k < m)
			aa->k++;
		for (int j = 0; j < aa->k; j++) {
			const double *dj = aa->df + (size_t)j * n;
			double s = 0;

			for (int i = 0; i < n; i++)
				s += df[i] * dj[i];
			aa->gram[slot * m + j] = aa->gram[j * m + slot] = s;
		}
	}
	aa->have_prev = 1;
	if (!(norm >= aa->best_norm))
		aa->best_norm = norm;
	k = aa->k;
	if (k > 0) {
		for (int j = 0; j < k; j++) {
			const double *dj = aa->df + (size_t)j * n;
			double s = 0;

			for (int i = 0; i < n; i++)
				s += dj[i] * aa->fprev[i];
			b[j] = s;
		}
		if (ridge_solve(aa->gram, m, k, b, y) == 0) {
			int finite = 1;

			for (int i = 0; i < n; i++) {
				double c = 0;

				for (int j = 0; j < k; j++)
					c += y[j] * (aa->dx[(size_t)j * n + i] +
					    aa->df[(size_t)j * n + i]);
				x[i] = gx[i] - c;
				finite &= isfinite(x[i]);
			}
			if (finite)
				return 1;
		}
		forget(aa);
	}
	memcpy(x, gx, (size_t)n * sizeof *x);
	return 0;
}
