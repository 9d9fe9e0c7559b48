/*
 * anderson_test - lib/base/anderson: on a linear contraction it reaches
 * the plain iteration's fixed point in a fraction of the sweeps; on a
 * nonlinear one (a soft Bellman operator) likewise; a map that defeats
 * it ends in plain steps that still converge; bit-for-bit repeatable.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "anderson.h"
#include "tap.h"
#include "util.h"

#define N 200

/* Test data from a fixed LCG (not lib/rng: no method's stream). */
static double
lcg_uniform(unsigned long *s)
{
	*s = *s * 6364136223846793005UL + 1442695040888963407UL;
	return (double)(*s >> 11) / 9007199254740992.0;
}

/* g(x) = γ M x + b with M a random row-stochastic matrix: a γ-contraction
 * in the sup norm. */
struct affine {
	double gamma, m[N * N], b[N];
};

static void
affine_init(struct affine *f, double gamma, unsigned long seed)
{
	f->gamma = gamma;
	for (int i = 0; i < N; i++) {
		double sum = 0;

		for (int j = 0; j < N; j++)
			sum += f->m[i * N + j] = lcg_uniform(&seed);
		for (int j = 0; j < N; j++)
			f->m[i * N + j] /= sum;
		f->b[i] = 2 * lcg_uniform(&seed) - 1;
	}
}

static void
affine_apply(const void *arg, const double *x, double *gx)
{
	const struct affine *f = arg;

	for (int i = 0; i < N; i++) {
		double s = 0;

		for (int j = 0; j < N; j++)
			s += f->m[i * N + j] * x[j];
		gx[i] = f->gamma * s + f->b[i];
	}
}

/* A soft Bellman operator on a random 2-action MDP over N states:
 * g(v)(s) = log Σ_a exp(r(s, a) + γ Σ P(s2|s, a) v(s2)), successors
 * s + 1 and s * 7 mod N. */
struct softvi {
	double gamma, r[2 * N];
};

static void
softvi_apply(const void *arg, const double *v, double *gv)
{
	const struct softvi *f = arg;

	for (int s = 0; s < N; s++) {
		double q0 = f->r[2 * s] + f->gamma * v[(s + 1) % N];
		double q1 = f->r[2 * s + 1] + f->gamma * 0.5 *
		    (v[(s * 7) % N] + v[(s + 3) % N]);
		double mx = fmax(q0, q1);

		gv[s] = mx + log(exp(q0 - mx) + exp(q1 - mx));
	}
}

/* Iterate to |g(x) - x|∞ <= tol, accelerated (m > 0) or plain; the
 * sweeps, or -1 past cap. */
static int
solve(void (*g)(const void *, const double *, double *), const void *arg,
    int m, double tol, int cap, double *x)
{
	struct anderson aa;
	double gx[N];
	int it;

	anderson_init(&aa, N, m > 0 ? m : 1);
	memset(x, 0, N * sizeof *x);
	for (it = 1; it <= cap; it++) {
		double r = 0;

		g(arg, x, gx);
		for (int i = 0; i < N; i++)
			r = fmax(r, fabs(gx[i] - x[i]));
		if (r <= tol) {
			memcpy(x, gx, sizeof gx);
			break;
		}
		if (m > 0)
			anderson_step(&aa, x, gx, r);
		else
			memcpy(x, gx, sizeof gx);
	}
	anderson_release(&aa);
	return it <= cap ? it : -1;
}

static double
maxdiff(const double *a, const double *b)
{
	double d = 0;

	for (int i = 0; i < N; i++)
		d = fmax(d, fabs(a[i] - b[i]));
	return d;
}

/* A map for the safeguard's test: a shift that expands a little, so
 * its differences never vanish (the test, not the map, reports the
 * residual sizes). */
static void
shift_apply(const void *arg, const double *x, double *gx)
{
	(void)arg;
	for (int i = 0; i < N; i++)
		gx[i] = 1.1 * x[(i + 1) % N] + i % 3;
}

int
main(void)
{
	static struct affine lin;
	struct softvi sv;
	unsigned long seed = 5;
	double plain[N], fast[N], again[N];
	int np, na, nb;

	affine_init(&lin, 0.95, 11);
	np = solve(affine_apply, &lin, 0, 1e-12, 100000, plain);
	na = solve(affine_apply, &lin, 5, 1e-12, 100000, fast);
	ok(np > 0 && na > 0, "linear: both converge (plain %d sweeps, accelerated %d)", np, na);
	ok(na * 4 < np, "linear: accelerated in under a quarter of the sweeps");
	ok(maxdiff(plain, fast) <= 1e-9, "linear: the same fixed point (%.1e)",
	    maxdiff(plain, fast));
	nb = solve(affine_apply, &lin, 5, 1e-12, 100000, again);
	ok(nb == na && memcmp(fast, again, sizeof fast) == 0,
	    "linear: a second run is bit-identical");

	sv.gamma = 0.9;
	for (int i = 0; i < 2 * N; i++)
		sv.r[i] = 3 * lcg_uniform(&seed);
	np = solve(softvi_apply, &sv, 0, 1e-12, 100000, plain);
	na = solve(softvi_apply, &sv, 5, 1e-12, 100000, fast);
	ok(np > 0 && na > 0, "soft value iteration: both converge (plain %d, accelerated %d)",
	    np, na);
	ok(na * 2 < np, "soft value iteration: accelerated in under half the sweeps");
	ok(maxdiff(plain, fast) <= 1e-9, "soft value iteration: the same fixed point (%.1e)",
	    maxdiff(plain, fast));

	/* The safeguard: a residual size far above the best after every
	 * accelerated step makes each one a failure; after
	 * ANDERSON_MAX_FAILS the steps are plain (x = g(x)). */
	{
		struct anderson aa;
		double x[N], gx[N], small = 1;
		int accelerated = 0, last = 0;

		anderson_init(&aa, N, 3);
		memset(x, 0, sizeof x);
		for (int it = 0; it < 100; it++) {
			shift_apply(NULL, x, gx);
			small *= 0.9;
			last = anderson_step(&aa, x, gx, last ? 100 : small);
			accelerated += last;
		}
		ok(aa.fails == ANDERSON_MAX_FAILS && last == 0,
		    "safeguard: gives up after %d growths and stays plain", aa.fails);
		ok(accelerated == ANDERSON_MAX_FAILS,
		    "safeguard: one accelerated step before each growth (%d)", accelerated);
		ok(maxdiff(x, gx) == 0, "safeguard: a plain step is x = g(x)");
		anderson_reset(&aa);
		ok(aa.fails == 0 && aa.k == 0, "reset forgets history and failures");
		anderson_release(&aa);
	}

	/* A non-finite residual size is a plain step, never extrapolated. */
	{
		struct anderson aa;
		double x[N], gx[N];

		anderson_init(&aa, N, 3);
		for (int i = 0; i < N; i++)
			x[i] = 0;
		shift_apply(NULL, x, gx);
		anderson_step(&aa, x, gx, 1);
		shift_apply(NULL, x, gx);
		ok(anderson_step(&aa, x, gx, NAN) == 0 && maxdiff(x, gx) == 0,
		    "a NaN residual size gives a plain step");
		anderson_release(&aa);
	}
	return tap_done();
}
