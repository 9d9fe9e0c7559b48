/*
 * rewinfer_test - lib/method/rewinfer: input checks, value iteration on
 * hand-solved MDPs, the likelihood's gradient against finite differences,
 * the dense and iterative successor features, the MLE from simulated
 * demonstrations, and the notes' CPU check (research/other-four.md §(d).2)
 * in our own setting: a 10 x 6 gridworld (60 states, 5 actions), d = 3
 * normal cell features, β = 2, γ = 0.9, soft backups, infinite data
 * (w = ρ π̃ with ρ uniform), biases π̃ = π at θ* + ε v.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewinfer.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

static void
test_refused(void)
{
	struct rewinfer_mdp m;
	int s[] = { 0, 0, 1, 1 }, a[] = { 0, 1, 0, 1 }, s2[] = { 0, 1, 1, 0 };
	double p[] = { 1, 0.9, 1, 1 }, phi[4] = { 0 }, bad_start[] = { 0.5, 0.6 };
	int bad_a[] = { 0, 2, 0, 1 };

	ok(rewinfer_mdp_init(&m, 2, 2, 1, 0.9, 4, s, a, s2, p, phi, NULL) < 0 &&
	    strstr(loam_error(), "transitions from state 0 action 1 sum to 0.9") &&
	    strstr(loam_error(), "not 1 (tolerance 1e-06)"),
	    "a row summing to 0.9 is refused: %s", loam_error());
	p[1] = 1 - 1e-9;
	ok(rewinfer_mdp_init(&m, 2, 2, 1, 0.9, 4, s, a, s2, p, phi, NULL) == 0,
	    "a row within the tolerance is taken");
	rewinfer_mdp_release(&m);
	p[1] = 1;
	ok(rewinfer_mdp_init(&m, 2, 2, 1, 0.9, 4, s, a, s2, p, phi, bad_start) < 0 &&
	    strstr(loam_error(), "start probabilities sum to 1.1"),
	    "a start distribution summing to 1.1 is refused: %s", loam_error());
	ok(rewinfer_mdp_init(&m, 2, 2, 1, 0.9, 4, s, bad_a, s2, p, phi, NULL) < 0 &&
	    strstr(loam_error(), "transition 1: action 2 out of range [0, 2)"),
	    "an action out of range is refused: %s", loam_error());
	ok(rewinfer_mdp_init(&m, 2, 2, 1, 1.0, 4, s, a, s2, p, phi, NULL) < 0 &&
	    strstr(loam_error(), "discount 1 is not in [0, 1)"),
	    "gamma 1 is refused: %s", loam_error());
	p[0] = -0.5;
	ok(rewinfer_mdp_init(&m, 2, 2, 1, 0.9, 4, s, a, s2, p, phi, NULL) < 0 &&
	    strstr(loam_error(), "probability -0.5 is not in [0, 1]"),
	    "a negative probability is refused: %s", loam_error());
}

/*
 * Two states, action 0 stays and action 1 switches, r = 1 in state 1,
 * γ = 0.5.  Hard: V(1) = 1 + V(1)/2 = 2, V(0) = V(1)/2 = 1, so
 * Q = [0.5, 1; 2, 1.5].  Soft, one state with two identical actions,
 * r = 1, β = 1: V = 1 + log 2 + V/2, V = 2 (1 + log 2).
 */
static void
test_value_iteration(void)
{
	struct rewinfer_mdp m;
	struct rewinfer_eval e;
	struct rewinfer_model h = { .beta = 3, .gamma = 0.5, .hard = 1 };
	int s[] = { 0, 0, 1, 1 }, a[] = { 0, 1, 0, 1 }, s2[] = { 0, 1, 1, 0 };
	double p[] = { 1, 1, 1, 1 }, phi[] = { 0, 0, 1, 1 }, theta = 1;
	double want[] = { 0.5, 1, 2, 1.5 };

	ok(rewinfer_mdp_init(&m, 2, 2, 1, 0.5, 4, s, a, s2, p, phi, NULL) == 0, "2-state MDP");
	rewinfer_eval_init(&e, &m);
	ok(rewinfer_policy(&e, &m, &h, &theta) == 0, "hard value iteration");
	for (int i = 0; i < 4; i++)
		is_dbl(e.q[i], want[i], 1e-12, "hard Q[%d]", i);
	is_dbl(rewinfer_transition_prob(&m, 0, 1, 1), 1, 0, "P(1|0, switch) = 1");
	is_dbl(rewinfer_transition_prob(&m, 0, 1, 0), 0, 0, "P(0|0, switch) = 0: impossible");
	is_dbl(e.v[0], 1, 1e-12, "hard V(0)");
	is_dbl(e.v[1], 2, 1e-12, "hard V(1)");
	is_dbl(e.pi[1], exp(3 * 1.0) / (exp(3 * 0.5) + exp(3 * 1.0)), 1e-12,
	    "Boltzmann policy at state 0");
	rewinfer_eval_release(&e);
	rewinfer_mdp_release(&m);

	{
		int s1[] = { 0, 0 }, a1[] = { 0, 1 }, n1[] = { 0, 0 };
		double p1[] = { 1, 1 }, f1[] = { 1, 1 };
		struct rewinfer_model soft = { .beta = 1, .gamma = 0.5 };

		rewinfer_mdp_init(&m, 1, 2, 1, 0.5, 2, s1, a1, n1, p1, f1, NULL);
		rewinfer_eval_init(&e, &m);
		ok(rewinfer_policy(&e, &m, &soft, &theta) == 0, "soft value iteration");
		is_dbl(e.v[0], 2 * (1 + log(2.0)), 1e-12, "soft V = 2 (1 + log 2)");
		is_dbl(e.pi[0], 0.5, 1e-15, "soft policy uniform on equal actions");
		rewinfer_eval_release(&e);
		rewinfer_mdp_release(&m);
	}
}

/* A random MDP: S states, A actions, 3 successors per (s, a). */
static void
random_mdp(struct rewinfer_mdp *m, int S, int A, int d, uint64_t seed)
{
	size_t n = (size_t)S * A * 3;
	int *s = xmalloc(n * sizeof *s), *a = xmalloc(n * sizeof *a);
	int *s2 = xmalloc(n * sizeof *s2);
	double *p = xmalloc(n * sizeof *p), *phi = xmalloc((size_t)S * A * d * sizeof *phi);
	struct rng r;

	rng_init(&r, seed, 0, 0);
	for (size_t i = 0; i < (size_t)S * A; i++) {
		double w[3], sum = 0;

		for (int k = 0; k < 3; k++)
			sum += w[k] = 0.1 + rng_uniform(&r);
		for (int k = 0; k < 3; k++) {
			s[i * 3 + k] = (int)(i / A);
			a[i * 3 + k] = (int)(i % A);
			s2[i * 3 + k] = (int)rng_uniform_int(&r, (uint64_t)S);
			p[i * 3 + k] = w[k] / sum;
		}
	}
	for (size_t i = 0; i < (size_t)S * A * d; i++)
		phi[i] = rng_normal(&r);
	if (rewinfer_mdp_init(m, S, A, d, 0.9, n, s, a, s2, p, phi, NULL) < 0)
		diag("random_mdp: %s", loam_error());
	free(s);
	free(a);
	free(s2);
	free(p);
	free(phi);
}

static void
test_gradient(void)
{
	struct rewinfer_mdp m, slipped;
	struct rewinfer_eval e;
	const int S = 8, A = 3, d = 3;
	double w[8 * 3], g[3], gfd[3], th[3], lp, lm, ll;
	struct rng r;

	random_mdp(&m, S, A, d, 11);
	rewinfer_mdp_slip(&slipped, &m, 0.2);
	rewinfer_eval_init(&e, &m);
	rng_init(&r, 12, 0, 0);
	for (int i = 0; i < S * A; i++)
		w[i] = rng_uniform_int(&r, 4);
	for (int trial = 0; trial < 4; trial++) {
		struct rewinfer_model h = { .beta = 0.5 + trial, .gamma = 0.6 + 0.1 * trial,
			.dynamics = trial % 2 ? &slipped : NULL };
		double theta[3], worst = 0, sfd = 0;

		for (int j = 0; j < d; j++)
			theta[j] = 2 * rng_normal(&r);
		rewinfer_loglik(&e, &m, &h, w, 0.1, theta, &ll, g);
		for (int j = 0; j < d; j++) {
			double step = 1e-5;

			memcpy(th, theta, sizeof th);
			th[j] += step;
			rewinfer_loglik(&e, &m, &h, w, 0.1, th, &lp, NULL);
			th[j] -= 2 * step;
			rewinfer_loglik(&e, &m, &h, w, 0.1, th, &lm, NULL);
			gfd[j] = (lp - lm) / (2 * step);
			if (fabs(g[j] - gfd[j]) > worst)
				worst = fabs(g[j] - gfd[j]);
			sfd += fabs(gfd[j]);
		}
		ok(worst <= 1e-6 * (1 + sfd), "soft gradient = finite differences, theta %d (%.2g off, |g| %.3g)",
		    trial, worst, sfd);
	}
	/* The dense solve and the fixed-point iteration agree. */
	{
		struct rewinfer_model h = { .beta = 2, .gamma = 0.95, .dynamics = &slipped };
		double theta[3] = { 0.3, -1, 0.7 }, *psi = xmalloc((size_t)S * A * d * sizeof *psi);
		double worst = 0;

		rewinfer_policy(&e, &m, &h, theta);
		rewinfer_successor(&e, &m, &h, 1);
		memcpy(psi, e.psi, (size_t)S * A * d * sizeof *psi);
		rewinfer_successor(&e, &m, &h, 0);
		for (int i = 0; i < S * A * d; i++)
			if (fabs(psi[i] - e.psi[i]) > worst)
				worst = fabs(psi[i] - e.psi[i]);
		ok(worst < 1e-10, "dense and iterative successor features agree (%.2g)", worst);
		free(psi);
	}
	/* Hard backups: away from ties the subgradient is the gradient. */
	{
		struct rewinfer_model h = { .beta = 1, .gamma = 0.8, .hard = 1 };
		double theta[3] = { 0.5, -0.2, 1.1 }, worst = 0;

		rewinfer_loglik(&e, &m, &h, w, 0, theta, &ll, g);
		for (int j = 0; j < d; j++) {
			memcpy(th, theta, sizeof th);
			th[j] += 1e-6;
			rewinfer_loglik(&e, &m, &h, w, 0, th, &lp, NULL);
			th[j] -= 2e-6;
			rewinfer_loglik(&e, &m, &h, w, 0, th, &lm, NULL);
			if (fabs(g[j] - (lp - lm) / 2e-6) > worst)
				worst = fabs(g[j] - (lp - lm) / 2e-6);
		}
		ok(worst < 1e-5, "hard subgradient = finite differences off ties (%.2g)", worst);
	}
	/* The expected visitations give the successor features' gradient:
	 * soft and hard, true and believed dynamics, with an L2 term. */
	for (int trial = 0; trial < 4; trial++) {
		struct rewinfer_model h = { .beta = 0.7 + trial, .gamma = 0.5 + 0.15 * trial,
			.hard = trial >= 2, .dynamics = trial % 2 ? &slipped : NULL };
		double theta[3] = { 0.4 - trial, -0.3, 0.9 }, gv[3], llv, worst = 0, size = 0;

		rewinfer_loglik(&e, &m, &h, w, 0.05, theta, &ll, g);
		ok(rewinfer_loglik_visit(&e, &m, &h, w, 0.05, theta, &llv, gv) == 0,
		    "visitation gradient, model %d", trial);
		for (int j = 0; j < d; j++) {
			if (fabs(g[j] - gv[j]) > worst)
				worst = fabs(g[j] - gv[j]);
			size += fabs(g[j]);
		}
		ok(worst <= 1e-10 * (1 + size) && llv == ll,
		    "visitation gradient = successor-feature gradient, %s, model %d (%.2g off, |g| %.3g)",
		    h.hard ? "hard" : "soft", trial, worst, size);
	}
	rewinfer_eval_release(&e);
	rewinfer_mdp_release(&slipped);
	rewinfer_mdp_release(&m);
}

/* Anderson-accelerated value iteration and visitations (the default)
 * against the plain sweeps kept as the reference (e.plain = 1): the same
 * values, policies and gradients to the tolerances, in fewer sweeps. */
static void
test_accelerated(void)
{
	const int S = 400, A = 4, d = 3;
	struct rewinfer_mdp m, slipped;
	struct rewinfer_eval fast, plain;
	double *w = xmalloc((size_t)S * A * sizeof *w);
	struct rng r;

	random_mdp(&m, S, A, d, 21);
	rewinfer_mdp_slip(&slipped, &m, 0.15);
	rewinfer_eval_init(&fast, &m);
	rewinfer_eval_init(&plain, &m);
	plain.plain = 1;
	rng_init(&r, 22, 0, 0);
	for (int i = 0; i < S * A; i++)
		w[i] = (double)rng_uniform_int(&r, 3);
	for (int trial = 0; trial < 4; trial++) {
		struct rewinfer_model h = { .beta = 1.5, .gamma = 0.95, .hard = trial >= 2,
			.dynamics = trial % 2 ? &slipped : NULL };
		double theta[3] = { 1.2, -0.7, 0.4 + trial }, gf[3], gp[3], lf, lp;
		double dv = 0, dpi = 0, dg = 0, size = 0, vmax = 0;
		int itf, itp;

		if (!ok(rewinfer_policy(&fast, &m, &h, theta) == 0 &&
		    rewinfer_policy(&plain, &m, &h, theta) == 0, "accelerated and plain value iteration, %s%s",
		    h.hard ? "hard" : "soft", h.dynamics ? ", slipped" : ""))
			continue;
		itf = fast.iterations;
		itp = plain.iterations;
		for (int s = 0; s < S; s++) {
			dv = fmax(dv, fabs(fast.v[s] - plain.v[s]));
			vmax = fmax(vmax, fabs(plain.v[s]));
		}
		for (int i = 0; i < S * A; i++)
			dpi = fmax(dpi, fabs(fast.pi[i] - plain.pi[i]));
		ok(dv <= 1e-11 * vmax && dpi <= 1e-11, "the same values (%.2g of %.3g) and policy (%.2g)",
		    dv, vmax, dpi);
		ok(itf * 2 < itp, "in fewer sweeps: %d against %d", itf, itp);
		rewinfer_loglik_visit(&fast, &m, &h, w, 0.01, theta, &lf, gf);
		rewinfer_loglik_visit(&plain, &m, &h, w, 0.01, theta, &lp, gp);
		for (int j = 0; j < d; j++) {
			dg = fmax(dg, fabs(gf[j] - gp[j]));
			size += fabs(gp[j]);
		}
		ok(dg <= 1e-9 * (1 + size) && fabs(lf - lp) <= 1e-10 * (1 + fabs(lp)),
		    "the same visitation gradient (%.2g off, |g| %.3g)", dg, size);
	}
	rewinfer_eval_release(&fast);
	rewinfer_eval_release(&plain);
	rewinfer_mdp_release(&slipped);
	rewinfer_mdp_release(&m);
	free(w);
}

static double
cosine(const double *x, const double *y, int d)
{
	double xy = 0, xx = 0, yy = 0;

	for (int j = 0; j < d; j++) {
		xy += x[j] * y[j];
		xx += x[j] * x[j];
		yy += y[j] * y[j];
	}
	return xy / sqrt(xx * yy);
}

static void
cell_features(double *phi, int cells, int d, uint64_t seed)
{
	struct rng r;

	rng_init(&r, seed, 0, 0);
	for (int i = 0; i < cells * d; i++)
		phi[i] = rng_normal(&r);
}

static void
test_mle(void)
{
	enum { W = 6, H = 5, D = 3, NTRAJ = 400, HOR = 20 };
	struct rewinfer_mdp m;
	struct rewinfer_eval e;
	struct rewinfer_model h = { .beta = 1, .gamma = 0.9 };
	double phi[W * H * D], theta_true[D] = { 1, -0.5, 0.8 }, theta[D] = { 0 }, ll;
	double w[W * H * REWINFER_GRID_ACTIONS] = { 0 };
	int *pairs = xmalloc(NTRAJ * HOR * 2 * sizeof *pairs);
	int *again = xmalloc(NTRAJ * HOR * 2 * sizeof *again);

	cell_features(phi, W * H, D, 5);
	ok(rewinfer_gridworld(&m, W, H, 0.1, 0.9, D, phi, NULL) == 0, "gridworld 6 x 5");
	is_int(m.S, 30, "gridworld states");
	rewinfer_eval_init(&e, &m);
	rewinfer_policy(&e, &m, &h, theta_true);
	rewinfer_simulate(&m, e.pi, 42, 0, NTRAJ, HOR, pairs);
	rewinfer_simulate(&m, e.pi, 42, 0, NTRAJ, HOR, again);
	ok(memcmp(pairs, again, NTRAJ * HOR * 2 * sizeof *pairs) == 0,
	    "simulation is deterministic for a seed");
	rewinfer_simulate(&m, e.pi, 42, 7, 1, HOR, again);
	ok(memcmp(pairs + 7 * HOR * 2, again, HOR * 2 * sizeof *pairs) == 0,
	    "trajectory 7 simulated alone matches");
	rewinfer_count(REWINFER_GRID_ACTIONS, pairs, NTRAJ * HOR, w);
	if (!ok(rewinfer_fit(&m, &h, w, 0, 0, theta, &ll) == 0, "fit from theta = 0"))
		diag("%s", loam_error());
	diag("theta* (1, -0.5, 0.8), theta^ (%.4f, %.4f, %.4f), loglik %.3f",
	    theta[0], theta[1], theta[2], ll);
	ok(cosine(theta, theta_true, D) > 0.99, "MLE recovers theta: cosine %.5f",
	    cosine(theta, theta_true, D));
	free(pairs);
	free(again);
	rewinfer_eval_release(&e);
	rewinfer_mdp_release(&m);
}

/* Infinite-data weights ρ(s) π(a|s), ρ uniform. */
static void
weights_of(const double *pi, int S, int A, double *w)
{
	for (int i = 0; i < S * A; i++)
		w[i] = pi[i] / S;
}

struct check_row {
	double tv, err, bound;
};

/* The adversarial (dir = v) or random-direction bias of size eps. */
static int
bias_case(const struct rewinfer_mdp *m, const struct rewinfer_model *h,
    const double *theta_star, const double *dir, double eps,
    const struct rewinfer_report *rep, struct check_row *row)
{
	int S = m->S, A = m->A, d = m->d;
	struct rewinfer_eval e;
	double *pstar = xmalloc((size_t)S * A * sizeof *pstar);
	double *w = xmalloc((size_t)S * A * sizeof *w), *rho = xmalloc((size_t)S * sizeof *rho);
	double biased[3], theta[3] = { 0 }, ll, err = 0;
	int rc;

	rewinfer_eval_init(&e, m);
	rewinfer_policy(&e, m, h, theta_star);
	memcpy(pstar, e.pi, (size_t)S * A * sizeof *pstar);
	for (int j = 0; j < d; j++)
		biased[j] = theta_star[j] + eps * dir[j];
	rewinfer_policy(&e, m, h, biased);
	weights_of(e.pi, S, A, w);
	rewinfer_state_dist(S, A, w, rho);
	row->tv = rewinfer_tv(S, A, rho, e.pi, pstar);
	rc = rewinfer_fit(m, h, w, 0, 0, theta, &ll);
	for (int j = 0; j < d; j++)
		err += (theta[j] - theta_star[j]) * (theta[j] - theta_star[j]);
	row->err = sqrt(err);
	row->bound = 2 * rep->G * row->tv / rep->alpha;
	free(pstar);
	free(w);
	free(rho);
	rewinfer_eval_release(&e);
	return rc;
}

static void
cpu_check(double scale, double *ratio_first, double *ratio_last, double *alpha,
    int *under)
{
	enum { W = 10, H = 6, D = 3, A = REWINFER_GRID_ACTIONS };
	static const double eps[] = { 0.05, 0.1, 0.2, 0.4 };
	struct rewinfer_mdp m;
	struct rewinfer_eval e;
	struct rewinfer_model h = { .beta = 2, .gamma = 0.9 };
	double phi[W * H * D], theta_star[D] = { 1, -1, 0.5 }, w[W * H * A];
	double v[D], info[D * D];
	struct rewinfer_report rep = { .direction = v, .info = info };
	struct check_row row;
	struct rng r;

	cell_features(phi, W * H, D, 0);
	for (int i = 0; i < W * H; i++)
		phi[i * D + 2] *= scale;
	rewinfer_gridworld(&m, W, H, 0, 0.9, D, phi, NULL);
	rewinfer_eval_init(&e, &m);
	rewinfer_policy(&e, &m, &h, theta_star);
	weights_of(e.pi, W * H, A, w);
	rewinfer_sensitivity(&m, &h, w, 0, theta_star, &rep);
	*alpha = rep.alpha;
	diag("scale %g: alpha %.4g, lambda_max %.4g, condition %.4g, G %.4g, amplification %.4g, 2G/alpha %.4g, v (%.3f, %.3f, %.3f)",
	    scale, rep.alpha, rep.lambda_max, rep.condition, rep.G, rep.amplification,
	    2 * rep.G / rep.alpha, v[0], v[1], v[2]);
	*under = 1;
	for (size_t k = 0; k < sizeof eps / sizeof *eps; k++) {
		bias_case(&m, &h, theta_star, v, eps[k], &rep, &row);
		diag("  adversarial eps %.2f: TV %.4f  error %.4f  ratio %.3f  bound %.4f",
		    eps[k], row.tv, row.err, row.err / row.tv, row.bound);
		if (k == 0)
			*ratio_first = row.err / row.tv;
		*ratio_last = row.err / row.tv;
		if (!(row.err <= row.bound))
			*under = 0;
	}
	rng_init(&r, 99, 0, 0);
	for (int k = 0; k < 3; k++) {
		double u[D], n = 0;

		for (int j = 0; j < D; j++) {
			u[j] = rng_normal(&r);
			n += u[j] * u[j];
		}
		for (int j = 0; j < D; j++)
			u[j] /= sqrt(n);
		bias_case(&m, &h, theta_star, u, 0.2, &rep, &row);
		diag("  random direction %d: TV %.4f  error %.4f  ratio %.3f  bound %.4f",
		    k, row.tv, row.err, row.err / row.tv, row.bound);
		if (!(row.err <= row.bound))
			*under = 0;
	}
	rewinfer_eval_release(&e);
	rewinfer_mdp_release(&m);
}

static void
test_cpu_check(void)
{
	double r0, r1, a_well, q0, q1, a_ill;
	int under_well, under_ill;

	cpu_check(1, &r0, &r1, &a_well, &under_well);
	cpu_check(0.05, &q0, &q1, &a_ill, &under_ill);
	ok(r1 / r0 > 0.7 && r1 / r0 < 1.3,
	    "well conditioned: error/TV stays flat (%.3f at eps 0.05, %.3f at 0.4)", r0, r1);
	ok(under_well, "well conditioned: every case under 2 G TV / alpha");
	ok(a_ill < a_well / 10, "uninformative feature: alpha %.3g << %.3g", a_ill, a_well);
	ok(q0 > 5 * r0, "uninformative feature: error/TV %.3f >> %.3f", q0, r0);
	ok(under_ill, "uninformative feature: every case under the bound");
}

/*
 * Preferences: the Bradley-Terry term's gradient against finite
 * differences, the features of a trajectory by hand, and a fit from
 * preferences alone moving θ towards what the preferred trajectories
 * have more of.
 */
static void
test_prefs(void)
{
	struct rewinfer_mdp m;
	const int S = 6, A = 2, d = 3;
	int traj[] = { 0, 1, 2, 0, 4, 1 };
	double phi3[3], want[3] = { 0 }, dphi[4 * 3], y[4] = { 1, 0, 0.7, 1 };
	double theta[3] = { 0.4, -0.8, 1.3 }, g[3] = { 0 }, th[3], worst = 0, sfd = 0;
	struct rewinfer_prefs pr = { .n = 4, .dphi = dphi, .y = y };
	struct rng r;

	random_mdp(&m, S, A, d, 21);
	rewinfer_traj_features(&m, 0.5, traj, 3, phi3);
	for (int t = 0; t < 3; t++)
		for (int j = 0; j < d; j++)
			want[j] += pow(0.5, t) * m.phi[((size_t)traj[2 * t] * A + traj[2 * t + 1]) * d + j];
	for (int j = 0; j < d; j++)
		worst = fmax(worst, fabs(phi3[j] - want[j]));
	ok(worst < 1e-15, "trajectory features are the discounted sum of phi");
	rng_init(&r, 22, 0, 0);
	for (int i = 0; i < 4 * 3; i++)
		dphi[i] = rng_normal(&r);
	rewinfer_pref_loglik(&pr, d, 1.7, theta, g);
	worst = 0;
	for (int j = 0; j < d; j++) {
		double lp, lm;

		memcpy(th, theta, sizeof th);
		th[j] += 1e-6;
		lp = rewinfer_pref_loglik(&pr, d, 1.7, th, NULL);
		th[j] -= 2e-6;
		lm = rewinfer_pref_loglik(&pr, d, 1.7, th, NULL);
		worst = fmax(worst, fabs(g[j] - (lp - lm) / 2e-6));
		sfd += fabs(g[j]);
	}
	ok(worst <= 1e-7 * (1 + sfd), "preference gradient = finite differences (%.2g off)", worst);
	/* The fit with preferences in the objective: its gradient is zero at
	 * θ̂ whether or not demonstrations are there too. */
	{
		struct rewinfer_model h = { .beta = 1, .gamma = 0.9 };
		double w[6 * 2] = { 0 }, t0[3] = { 0 }, ll, y1[4] = { 1, 1, 1, 1 }, dp[4 * 3];
		struct rewinfer_prefs one = { .n = 4, .dphi = dp, .y = y1 };
		int rc;

		/* Every preferred trajectory has more of feature 0. */
		for (int i = 0; i < 4; i++) {
			dp[i * 3] = 1 + 0.1 * i;
			dp[i * 3 + 1] = rng_normal(&r) * 0.1;
			dp[i * 3 + 2] = rng_normal(&r) * 0.1;
		}
		rc = rewinfer_fit_prefs(&m, &h, w, &one, 0.1, 0, t0, &ll);
		ok(rc == 0 && t0[0] > 0.5, "preferences alone pull theta towards the preferred feature (%.3f)", t0[0]);
		w[1] = 3;
		w[4] = 2;
		t0[0] = t0[1] = t0[2] = 0;
		rc = rewinfer_fit_prefs(&m, &h, w, &pr, 0.01, 0, t0, &ll);
		ok(rc == 0, "fit with demos and preferences");
		{
			struct rewinfer_eval e;
			double gg[3], l0, n = 0;

			rewinfer_eval_init(&e, &m);
			rewinfer_loglik(&e, &m, &h, w, 0.01, t0, &l0, gg);
			rewinfer_pref_loglik(&pr, d, h.beta, t0, gg);
			for (int j = 0; j < d; j++)
				n += gg[j] * gg[j];
			ok(sqrt(n) < 1e-5 && fabs(l0 + rewinfer_pref_loglik(&pr, d, 1, t0, NULL) - ll) < 1e-9,
			    "its gradient vanishes at theta-hat (%.2g) and loglik includes both terms", sqrt(n));
			rewinfer_eval_release(&e);
		}
	}
	rewinfer_mdp_release(&m);
}

/*
 * Expected visits: two states, action 1 switches.  From state 0 under
 * "always switch" the states alternate, so over 4 steps each of (0, 1)
 * and (1, 1) has half the weight; under a 50/50 policy the first step
 * is in state 0 and the rest split evenly.
 */
static void
test_visits(void)
{
	struct rewinfer_mdp m;
	int s[] = { 0, 0, 1, 1 }, a[] = { 0, 1, 0, 1 }, s2[] = { 0, 1, 1, 0 };
	double p[] = { 1, 1, 1, 1 }, phi[4] = { 0 }, start[] = { 1, 0 };
	double sw[] = { 0, 1, 0, 1 }, half[] = { 0.5, 0.5, 0.5, 0.5 }, w[4];

	rewinfer_mdp_init(&m, 2, 2, 1, 0.9, 4, s, a, s2, p, phi, start);
	rewinfer_visits(&m, sw, 4, w);
	ok(w[0] == 0 && w[1] == 0.5 && w[2] == 0 && w[3] == 0.5, "visits of a switching policy alternate");
	rewinfer_visits(&m, half, 3, w);
	/* ρ: step 0 (1, 0), steps 1 and 2 (0.5, 0.5): state 0 has 2/3. */
	ok(fabs(w[0] - 1.0 / 3) < 1e-15 && fabs(w[1] - 1.0 / 3) < 1e-15 &&
	    fabs(w[2] - 1.0 / 6) < 1e-15 && fabs(w[3] - 1.0 / 6) < 1e-15,
	    "visits under a uniform policy (%g %g %g %g)", w[0], w[1], w[2], w[3]);
	rewinfer_mdp_release(&m);
}

/* The biased demonstrator's direction: adversarial is the report's
 * least identifiable direction on the reference's visits; random is a
 * unit vector along RNG_REWINFER_BIAS's normals, the same for a seed. */
static void
test_bias_direction(void)
{
	enum { S = 8, A = 3, D = 4, H = 12 };
	struct rewinfer_mdp m;
	struct rewinfer_model h0 = { .beta = 2, .gamma = 0.9 };
	struct rewinfer_eval e;
	struct rewinfer_report rep;
	struct rng r;
	double theta[D] = { 1, -0.5, 0.25, 0 }, pi0[S * A], w[S * A];
	double want[D], dir[D], again[D], other[D], z[D], n = 0, dot = 0, nz = 0;
	int same = 1, differs = 0, zero = 1;

	random_mdp(&m, S, A, D, 31);
	rewinfer_eval_init(&e, &m);
	rewinfer_policy(&e, &m, &h0, theta);
	memcpy(pi0, e.pi, sizeof pi0);
	rewinfer_visits(&m, pi0, H, w);
	rep = (struct rewinfer_report){ .direction = want };
	rewinfer_sensitivity(&m, &h0, w, 0, theta, &rep);
	is_int(rewinfer_bias_direction(&m, &h0, theta, pi0, H, REWINFER_BIAS_ADVERSARIAL, 5, dir),
	    0, "adversarial direction");
	ok(memcmp(dir, want, sizeof dir) == 0,
	    "adversarial = the report's direction on the reference's visits (%g %g %g %g)",
	    dir[0], dir[1], dir[2], dir[3]);

	rewinfer_bias_direction(&m, &h0, theta, pi0, H, REWINFER_BIAS_RANDOM, 5, dir);
	rewinfer_bias_direction(&m, &h0, theta, pi0, H, REWINFER_BIAS_RANDOM, 5, again);
	rewinfer_bias_direction(&m, &h0, theta, pi0, H, REWINFER_BIAS_RANDOM, 6, other);
	rng_init(&r, 5, RNG_REWINFER_BIAS, 0);
	for (int j = 0; j < D; j++) {
		z[j] = rng_normal(&r);
		n += dir[j] * dir[j];
		dot += dir[j] * z[j];
		nz += z[j] * z[j];
		same &= dir[j] == again[j];
		differs |= dir[j] != other[j];
	}
	ok(fabs(n - 1) < 1e-12, "random direction is a unit vector (|v|^2 = %.17g)", n);
	ok(fabs(dot / sqrt(nz) - 1) < 1e-12, "random direction along RNG_REWINFER_BIAS's normals");
	ok(same, "random direction: the same for the same seed");
	ok(differs, "random direction: another for another seed");

	rewinfer_bias_direction(&m, &h0, theta, pi0, H, REWINFER_BIAS_NONE, 5, dir);
	for (int j = 0; j < D; j++)
		zero &= dir[j] == 0;
	ok(zero, "no bias: a zero direction");
	rewinfer_eval_release(&e);
	rewinfer_mdp_release(&m);
}

/* The bias's size: zero against itself; otherwise rewinfer_tv and
 * rewinfer_wkl on the demonstrator's own visit distribution. */
static void
test_bias_size(void)
{
	enum { S = 8, A = 3, D = 4, H = 12 };
	struct rewinfer_mdp m;
	struct rewinfer_model h = { .beta = 2, .gamma = 0.9 };
	struct rewinfer_eval e;
	double theta[D] = { 1, -0.5, 0.25, 0 }, biased[D] = { 1, 0.5, 0.25, -1 };
	double pi0[S * A], w[S * A], visits[S * A], rho[S], tv, wkl;

	random_mdp(&m, S, A, D, 32);
	rewinfer_eval_init(&e, &m);
	rewinfer_policy(&e, &m, &h, theta);
	memcpy(pi0, e.pi, sizeof pi0);
	rewinfer_bias_size(&m, pi0, pi0, H, w, &tv, &wkl);
	ok(tv == 0 && wkl == 0, "no bias: TV %g, KL %g", tv, wkl);
	rewinfer_policy(&e, &m, &h, biased);
	rewinfer_bias_size(&m, e.pi, pi0, H, w, &tv, &wkl);
	rewinfer_visits(&m, e.pi, H, visits);
	rewinfer_state_dist(S, A, visits, rho);
	ok(memcmp(w, visits, sizeof w) == 0, "bias size: w is the demonstrator's visits");
	ok(tv > 0 && tv == rewinfer_tv(S, A, rho, e.pi, pi0), "bias size: TV %g on its visits", tv);
	ok(wkl > 0 && wkl == rewinfer_wkl(S, A, rho, e.pi, pi0), "bias size: KL %g on its visits",
	    wkl);
	rewinfer_eval_release(&e);
	rewinfer_mdp_release(&m);
}

int
main(void)
{
	test_refused();
	test_value_iteration();
	test_gradient();
	test_accelerated();
	test_mle();
	test_cpu_check();
	test_prefs();
	test_visits();
	test_bias_direction();
	test_bias_size();
	return tap_done();
}
