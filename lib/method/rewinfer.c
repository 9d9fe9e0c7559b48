/*
 * rewinfer - reward inference under a Boltzmann human model: the MDP,
 * value iteration, successor features, the likelihood, the MLE and the
 * sensitivity report.  See rewinfer.h for the model and the conventions.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>
#include <lbfgs.h>

#include "rewinfer.h"
#include "rng.h"
#include "util.h"

#define VI_MAX_ITER 1000000
#define VI_TOL 1e-13
#define SF_TOL 1e-13
/* Differences Anderson acceleration remembers. */
#define REWINFER_ANDERSON_MEMORY 5

static int
mdp_alloc(struct rewinfer_mdp *m, int S, int A, int d, double gamma, size_t nnz)
{
	size_t sa = (size_t)S * (size_t)A;

	m->S = S;
	m->A = A;
	m->d = d;
	m->gamma = gamma;
	m->row = xcalloc(sa + 1, sizeof *m->row);
	m->next = xcalloc(nnz ? nnz : 1, sizeof *m->next);
	m->p = xcalloc(nnz ? nnz : 1, sizeof *m->p);
	m->phi = xcalloc(sa * (size_t)(d ? d : 1), sizeof *m->phi);
	m->start = xcalloc((size_t)S, sizeof *m->start);
	return 0;
}

void
rewinfer_mdp_release(struct rewinfer_mdp *m)
{
	free(m->row);
	free(m->next);
	free(m->p);
	free(m->phi);
	free(m->start);
	memset(m, 0, sizeof *m);
}

static int
check_sizes(int S, int A, int d, double gamma)
{
	if (S < 1 || A < 1)
		return loam_seterr("rewinfer: %d states and %d actions (need at least 1 of each)",
		    S, A);
	if ((size_t)S * (size_t)A > (size_t)INT32_MAX)
		return loam_seterr("rewinfer: %d states x %d actions is too many", S, A);
	if (d < 1)
		return loam_seterr("rewinfer: %d features (need at least 1)", d);
	if (!(gamma >= 0 && gamma < 1))
		return loam_seterr("rewinfer: discount %g is not in [0, 1)", gamma);
	return 0;
}

static int
check_start(struct rewinfer_mdp *m, const double *start)
{
	double sum = 0;

	for (int s = 0; s < m->S; s++) {
		double v = start ? start[s] : 1.0 / m->S;

		if (!isfinite(v) || v < 0)
			return loam_seterr("rewinfer: start probability of state %d is %g", s, v);
		m->start[s] = v;
		sum += v;
	}
	if (fabs(sum - 1) > REWINFER_PROB_TOL)
		return loam_seterr("rewinfer: start probabilities sum to %.17g, not 1 (tolerance %g)",
		    sum, REWINFER_PROB_TOL);
	return 0;
}

/* Every (s, a) row sums to 1 within the tolerance. */
static int
check_rows(const struct rewinfer_mdp *m)
{
	for (int s = 0; s < m->S; s++)
		for (int a = 0; a < m->A; a++) {
			size_t i = (size_t)s * m->A + a;
			double sum = 0;

			for (size_t k = m->row[i]; k < m->row[i + 1]; k++)
				sum += m->p[k];
			if (fabs(sum - 1) > REWINFER_PROB_TOL)
				return loam_seterr("rewinfer: transitions from state %d action %d sum to %.17g, not 1 (tolerance %g)",
				    s, a, sum, REWINFER_PROB_TOL);
		}
	return 0;
}

int
rewinfer_mdp_init(struct rewinfer_mdp *m, int S, int A, int d, double gamma,
    size_t n, const int *s, const int *a, const int *s2, const double *p,
    const double *phi, const double *start)
{
	size_t sa, *fill;

	memset(m, 0, sizeof *m);
	if (check_sizes(S, A, d, gamma) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0 || s[i] >= S || s2[i] < 0 || s2[i] >= S)
			return loam_seterr("rewinfer: transition %zu: state %d -> %d out of range [0, %d)",
			    i, s[i], s2[i], S);
		if (a[i] < 0 || a[i] >= A)
			return loam_seterr("rewinfer: transition %zu: action %d out of range [0, %d)",
			    i, a[i], A);
		if (!isfinite(p[i]) || p[i] < 0 || p[i] > 1)
			return loam_seterr("rewinfer: transition %zu: probability %g is not in [0, 1]",
			    i, p[i]);
	}
	sa = (size_t)S * (size_t)A;
	for (size_t i = 0; i < sa * (size_t)d; i++)
		if (!isfinite(phi[i]))
			return loam_seterr("rewinfer: feature %zu of state %zu action %zu is not finite",
			    i % (size_t)d, i / (size_t)d / (size_t)A, i / (size_t)d % (size_t)A);
	mdp_alloc(m, S, A, d, gamma, n);
	for (size_t i = 0; i < n; i++)
		m->row[(size_t)s[i] * A + a[i] + 1]++;
	for (size_t i = 0; i < sa; i++)
		m->row[i + 1] += m->row[i];
	fill = xmalloc(sa * sizeof *fill);
	memcpy(fill, m->row, sa * sizeof *fill);
	for (size_t i = 0; i < n; i++) {
		size_t k = fill[(size_t)s[i] * A + a[i]]++;

		m->next[k] = s2[i];
		m->p[k] = p[i];
	}
	free(fill);
	memcpy(m->phi, phi, sa * (size_t)d * sizeof *m->phi);
	if (check_rows(m) < 0 || check_start(m, start) < 0) {
		rewinfer_mdp_release(m);
		return -1;
	}
	return 0;
}

double
rewinfer_transition_prob(const struct rewinfer_mdp *m, int s, int a, int s2)
{
	size_t i = (size_t)s * m->A + a;
	double p = 0;

	for (size_t k = m->row[i]; k < m->row[i + 1]; k++)
		if (m->next[k] == s2)
			p += m->p[k];
	return p;
}

int
rewinfer_mdp_slip(struct rewinfer_mdp *out, const struct rewinfer_mdp *m,
    double slip)
{
	int S = m->S, A = m->A;
	size_t sa = (size_t)S * A, k = 0;
	double *dense;

	memset(out, 0, sizeof *out);
	if (!(slip >= 0 && slip <= 1))
		return loam_seterr("rewinfer: slip %g is not in [0, 1]", slip);
	/* Row by row through one dense S-vector: a state's rows may reach
	 * any successor of any of its actions. */
	mdp_alloc(out, S, A, m->d, m->gamma, sa * (size_t)S);
	dense = xcalloc((size_t)S, sizeof *dense);
	for (int s = 0; s < S; s++)
		for (int a = 0; a < A; a++) {
			size_t i = (size_t)s * A + a;

			for (int b = 0; b < A; b++) {
				size_t j = (size_t)s * A + b;
				double wt = slip / A + (b == a ? 1 - slip : 0);

				for (size_t t = m->row[j]; t < m->row[j + 1]; t++)
					dense[m->next[t]] += wt * m->p[t];
			}
			out->row[i] = k;
			for (int s2 = 0; s2 < S; s2++)
				if (dense[s2] != 0) {
					out->next[k] = s2;
					out->p[k++] = dense[s2];
					dense[s2] = 0;
				}
		}
	out->row[sa] = k;
	free(dense);
	memcpy(out->phi, m->phi, sa * (size_t)m->d * sizeof *out->phi);
	memcpy(out->start, m->start, (size_t)S * sizeof *out->start);
	return 0;
}

int
rewinfer_gridworld(struct rewinfer_mdp *m, int w, int h, double slip,
    double gamma, int d, const double *cell_phi, const double *start)
{
	static const int dx[REWINFER_GRID_ACTIONS] = { 0, 0, 1, 0, -1 };
	static const int dy[REWINFER_GRID_ACTIONS] = { 0, -1, 0, 1, 0 };
	const int A = REWINFER_GRID_ACTIONS;
	struct rewinfer_mdp det;
	int S, *ts, *ta, *ts2, rc;
	double *tp, *phi;

	if (w < 1 || h < 1 || w > 46340 / h)
		return loam_seterr("rewinfer: gridworld %d x %d (need 1 x 1 up to 2^31 cells)",
		    w, h);
	S = w * h;
	ts = xmalloc((size_t)S * A * sizeof *ts);
	ta = xmalloc((size_t)S * A * sizeof *ta);
	ts2 = xmalloc((size_t)S * A * sizeof *ts2);
	tp = xmalloc((size_t)S * A * sizeof *tp);
	phi = xcalloc((size_t)S * A * (size_t)(d > 0 ? d : 1), sizeof *phi);
	for (int s = 0; s < S; s++)
		for (int a = 0; a < A; a++) {
			size_t i = (size_t)s * A + a;
			int x = s % w + dx[a], y = s / w + dy[a];

			if (x < 0 || x >= w || y < 0 || y >= h)
				x = s % w, y = s / w;
			ts[i] = s;
			ta[i] = a;
			ts2[i] = y * w + x;
			tp[i] = 1;
			if (d > 0)
				memcpy(phi + i * d, cell_phi + (size_t)s * d, (size_t)d * sizeof *phi);
		}
	rc = rewinfer_mdp_init(&det, S, A, d, gamma, (size_t)S * A, ts, ta, ts2, tp,
	    phi, start);
	free(ts);
	free(ta);
	free(ts2);
	free(tp);
	free(phi);
	if (rc < 0)
		return -1;
	rc = rewinfer_mdp_slip(m, &det, slip);
	rewinfer_mdp_release(&det);
	return rc;
}

void
rewinfer_eval_init(struct rewinfer_eval *e, const struct rewinfer_mdp *m)
{
	size_t sa = (size_t)m->S * m->A;

	memset(e, 0, sizeof *e);
	e->S = m->S;
	e->A = m->A;
	e->d = m->d;
	e->r = xcalloc(sa, sizeof *e->r);
	e->q = xcalloc(sa, sizeof *e->q);
	e->v = xcalloc((size_t)m->S, sizeof *e->v);
	e->pi = xcalloc(sa, sizeof *e->pi);
	e->psi = xcalloc(sa * m->d, sizeof *e->psi);
	e->mu = xcalloc((size_t)m->S * m->d, sizeof *e->mu);
	if (m->S <= REWINFER_DENSE_MAX) {
		e->lu = xcalloc((size_t)m->S * m->S, sizeof *e->lu);
		e->ipiv = xcalloc((size_t)m->S, sizeof *e->ipiv);
	}
	anderson_init(&e->aa, m->S, REWINFER_ANDERSON_MEMORY);
	e->image = xcalloc((size_t)m->S, sizeof *e->image);
}

void
rewinfer_eval_release(struct rewinfer_eval *e)
{
	free(e->r);
	free(e->q);
	free(e->v);
	free(e->pi);
	free(e->psi);
	free(e->mu);
	free(e->lu);
	free(e->ipiv);
	free(e->visit);
	anderson_release(&e->aa);
	free(e->image);
	memset(e, 0, sizeof *e);
}

static int
check_model(const struct rewinfer_mdp *m, const struct rewinfer_model *h)
{
	if (!(h->beta > 0) || !isfinite(h->beta))
		return loam_seterr("rewinfer: beta %g is not positive", h->beta);
	if (!(h->gamma >= 0 && h->gamma < 1))
		return loam_seterr("rewinfer: human discount %g is not in [0, 1)", h->gamma);
	if (h->dynamics && (h->dynamics->S != m->S || h->dynamics->A != m->A))
		return loam_seterr("rewinfer: believed dynamics have %d states and %d actions, the MDP %d and %d",
		    h->dynamics->S, h->dynamics->A, m->S, m->A);
	return 0;
}

/* π = softmax of βq (A). */
static void
softmax_policy(const double *q, int A, double beta, double *pi)
{
	double mx = q[0], z = 0;

	for (int a = 1; a < A; a++)
		if (q[a] > mx)
			mx = q[a];
	for (int a = 0; a < A; a++)
		z += pi[a] = exp(beta * (q[a] - mx));
	for (int a = 0; a < A; a++)
		pi[a] /= z;
}

/* The backup of q (A): soft (1/β) log Σ exp(β q), hard max q; no exp for
 * the largest q (its term is 1). */
static double
backup_value(const double *q, int A, double beta, int hard)
{
	double z = 1;
	int best = 0;

	for (int a = 1; a < A; a++)
		if (q[a] > q[best])
			best = a;
	if (hard)
		return q[best];
	for (int a = 0; a < A; a++)
		if (a != best)
			z += exp(beta * (q[a] - q[best]));
	return q[best] + log(z) / beta;
}

/* q = r + γ P v. */
static void
bellman_q(struct rewinfer_eval *e, const struct rewinfer_mdp *P, double gamma)
{
	for (size_t i = 0; i < (size_t)e->S * e->A; i++) {
		double ev = 0;

		for (size_t k = P->row[i]; k < P->row[i + 1]; k++)
			ev += P->p[k] * e->v[P->next[k]];
		e->q[i] = e->r[i] + gamma * ev;
	}
}

int
rewinfer_policy(struct rewinfer_eval *e, const struct rewinfer_mdp *m,
    const struct rewinfer_model *h, const double *theta)
{
	const struct rewinfer_mdp *P = h->dynamics ? h->dynamics : m;
	int S = m->S, A = m->A, d = m->d, cold, done;
	double rmax = 0, scale;

	if (check_model(m, h) < 0)
		return -1;
	for (size_t i = 0; i < (size_t)S * A; i++) {
		double r = 0;

		for (int j = 0; j < d; j++)
			r += theta[j] * m->phi[i * d + j];
		if (!isfinite(r))
			return loam_seterr("rewinfer: reward not finite");
		e->r[i] = r;
		if (fabs(r) > rmax)
			rmax = fabs(r);
	}
	/* Values are bounded by (rmax + log(A)/β) / (1 - γ): stop when a
	 * sweep moves them by less than VI_TOL of that, scaled so that the
	 * distance to the fixed point is below it too. */
	scale = (1 + rmax + log(A) / h->beta) / (1 - h->gamma);
	cold = !e->warm;
	for (int s = 0; s < S && !cold; s++)
		cold = !isfinite(e->v[s]);
	if (cold)
		memset(e->v, 0, (size_t)S * sizeof *e->v);
	anderson_reset(&e->aa);
	for (e->iterations = 1; e->iterations <= VI_MAX_ITER; e->iterations++) {
		double change = 0, *nv = e->image;

		/* Jacobi sweep: q from v, then its image nv. */
		bellman_q(e, P, h->gamma);
		for (int s = 0; s < S; s++) {
			nv[s] = backup_value(e->q + (size_t)s * A, A, h->beta, h->hard);
			if (fabs(nv[s] - e->v[s]) > change)
				change = fabs(nv[s] - e->v[s]);
		}
		/* |nv - v*| <= γ |nv - v| / (1 - γ) whatever v was, so the
		 * test holds for accelerated iterates too. */
		done = change * h->gamma <= VI_TOL * scale * (1 - h->gamma) || change == 0;
		if (done || e->plain)
			memcpy(e->v, nv, (size_t)S * sizeof *e->v);
		else
			anderson_step(&e->aa, e->v, nv, change);
		if (done)
			break;
	}
	if (e->iterations > VI_MAX_ITER)
		return loam_seterr("rewinfer: value iteration did not converge in %d sweeps",
		    VI_MAX_ITER);
	/* q and π of the final v. */
	bellman_q(e, P, h->gamma);
	for (int s = 0; s < S; s++)
		softmax_policy(e->q + (size_t)s * A, A, h->beta, e->pi + (size_t)s * A);
	return 0;
}

/* The backup's policy at s into w (A): π, or greedy (lowest on ties). */
static void
backup_policy(const struct rewinfer_eval *e, const struct rewinfer_model *h,
    int s, double *w)
{
	int A = e->A, best = 0;
	const double *q = e->q + (size_t)s * A;

	if (!h->hard) {
		memcpy(w, e->pi + (size_t)s * A, (size_t)A * sizeof *w);
		return;
	}
	for (int a = 1; a < A; a++)
		if (q[a] > q[best])
			best = a;
	for (int a = 0; a < A; a++)
		w[a] = a == best;
}

/* Ψ(s, a) = φ(s, a) + γ Σ P(s2|s, a) μ(s2), for every (s, a). */
static void
psi_from_mu(struct rewinfer_eval *e, const struct rewinfer_mdp *m,
    const struct rewinfer_mdp *P, double gamma)
{
	int d = m->d;

	for (size_t i = 0; i < (size_t)m->S * m->A; i++) {
		double *psi = e->psi + i * d;

		memcpy(psi, m->phi + i * d, (size_t)d * sizeof *psi);
		for (size_t k = P->row[i]; k < P->row[i + 1]; k++)
			for (int j = 0; j < d; j++)
				psi[j] += gamma * P->p[k] * e->mu[(size_t)P->next[k] * d + j];
	}
}

int
rewinfer_successor(struct rewinfer_eval *e, const struct rewinfer_mdp *m,
    const struct rewinfer_model *h, int dense)
{
	const struct rewinfer_mdp *P = h->dynamics ? h->dynamics : m;
	int S = m->S, A = m->A, d = m->d;
	double *w = xmalloc((size_t)A * sizeof *w);
	int rc = 0;

	if (dense < 0)
		dense = e->lu != NULL;
	if (dense && !e->lu) {
		free(w);
		return loam_seterr("rewinfer: %d states are too many for a dense solve (at most %d)",
		    S, REWINFER_DENSE_MAX);
	}
	/* φ_π into μ (the right-hand side), and I - γ P_π into lu. */
	memset(e->mu, 0, (size_t)S * d * sizeof *e->mu);
	if (dense)
		memset(e->lu, 0, (size_t)S * S * sizeof *e->lu);
	for (int s = 0; s < S; s++) {
		backup_policy(e, h, s, w);
		if (dense)
			e->lu[(size_t)s * S + s] += 1;
		for (int a = 0; a < A; a++) {
			size_t i = (size_t)s * A + a;

			if (w[a] == 0)
				continue;
			for (int j = 0; j < d; j++)
				e->mu[(size_t)s * d + j] += w[a] * m->phi[i * d + j];
			if (dense)
				for (size_t k = P->row[i]; k < P->row[i + 1]; k++)
					e->lu[(size_t)s * S + P->next[k]] -= h->gamma * w[a] * P->p[k];
		}
	}
	if (dense) {
		lapack_int info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, S, d, e->lu, S, e->ipiv,
		    e->mu, d);

		if (info != 0)
			rc = loam_seterr("rewinfer: successor-feature solve failed (dgesv info %d)",
			    (int)info);
	} else {
		/* μ ← φ_π + γ P_π μ, a γ-contraction, from μ = φ_π. */
		double *phipi = xmalloc((size_t)S * d * sizeof *phipi);
		double *nmu = xmalloc((size_t)S * d * sizeof *nmu);
		double big = 0;
		int it;

		memcpy(phipi, e->mu, (size_t)S * d * sizeof *phipi);
		for (size_t i = 0; i < (size_t)S * d; i++)
			if (fabs(phipi[i]) > big)
				big = fabs(phipi[i]);
		for (it = 0; it < VI_MAX_ITER; it++) {
			double change = 0;

			memcpy(nmu, phipi, (size_t)S * d * sizeof *nmu);
			for (int s = 0; s < S; s++) {
				backup_policy(e, h, s, w);
				for (int a = 0; a < A; a++) {
					size_t i = (size_t)s * A + a;

					if (w[a] == 0)
						continue;
					for (size_t k = P->row[i]; k < P->row[i + 1]; k++)
						for (int j = 0; j < d; j++)
							nmu[(size_t)s * d + j] += h->gamma * w[a] * P->p[k] *
							    e->mu[(size_t)P->next[k] * d + j];
				}
			}
			for (size_t i = 0; i < (size_t)S * d; i++)
				if (fabs(nmu[i] - e->mu[i]) > change)
					change = fabs(nmu[i] - e->mu[i]);
			memcpy(e->mu, nmu, (size_t)S * d * sizeof *nmu);
			if (change * h->gamma <= SF_TOL * (1 + big) || change == 0)
				break;
		}
		free(phipi);
		free(nmu);
		if (it == VI_MAX_ITER)
			rc = loam_seterr("rewinfer: successor features did not converge");
	}
	free(w);
	if (rc == 0)
		psi_from_mu(e, m, P, h->gamma);
	return rc;
}

int
rewinfer_loglik(struct rewinfer_eval *e, const struct rewinfer_mdp *m,
    const struct rewinfer_model *h, const double *w, double l2,
    const double *theta, double *loglik, double *grad)
{
	int S = m->S, A = m->A, d = m->d;
	double ll = 0;

	if (rewinfer_policy(e, m, h, theta) < 0)
		return -1;
	for (size_t i = 0; i < (size_t)S * A; i++)
		if (w[i] > 0)
			ll += w[i] * log(e->pi[i]);
	for (int j = 0; j < d; j++)
		ll -= 0.5 * l2 * theta[j] * theta[j];
	*loglik = ll;
	if (!grad)
		return 0;
	if (rewinfer_successor(e, m, h, -1) < 0)
		return -1;
	for (int j = 0; j < d; j++)
		grad[j] = -l2 * theta[j];
	for (int s = 0; s < S; s++) {
		const double *pi = e->pi + (size_t)s * A;
		double ws = 0;

		/* Σ_a w(s,a) β (Ψ(s,a) - E_π Ψ(s,.)) */
		for (int a = 0; a < A; a++)
			if (w[(size_t)s * A + a] > 0)
				ws += w[(size_t)s * A + a];
		if (ws == 0)
			continue;
		for (int a = 0; a < A; a++) {
			double c = (w[(size_t)s * A + a] > 0 ? w[(size_t)s * A + a] : 0) - ws * pi[a];
			const double *psi = e->psi + ((size_t)s * A + a) * d;

			for (int j = 0; j < d; j++)
				grad[j] += h->beta * c * psi[j];
		}
	}
	return 0;
}

int
rewinfer_loglik_visit(struct rewinfer_eval *e, const struct rewinfer_mdp *m,
    const struct rewinfer_model *h, const double *w, double l2,
    const double *theta, double *loglik, double *grad)
{
	const struct rewinfer_mdp *P = h->dynamics ? h->dynamics : m;
	int S = m->S, A = m->A, d = m->d, it, rc = 0, cold, done;
	double total = 0;
	double *x, *nx, *c, *mu;

	if (rewinfer_loglik(e, m, h, w, l2, theta, loglik, NULL) < 0)
		return -1;
	if (!grad)
		return 0;
	if (!e->visit)
		e->visit = xcalloc((size_t)S, sizeof *e->visit);
	x = e->visit;
	cold = !e->warm;
	for (int s = 0; s < S && !cold; s++)
		cold = !isfinite(x[s]);
	if (cold)
		memset(x, 0, (size_t)S * sizeof *x);
	nx = e->image;	/* free once rewinfer_policy() is done with it */
	c = xmalloc((size_t)S * A * sizeof *c);
	mu = xmalloc((size_t)S * A * sizeof *mu);
	/* c(s, a) = w(s, a) - w(s) π(a|s), the coefficient of ∇Q(s, a) in
	 * ∇L / β; μ, the backup's policy, carries ∇V(s) = Σ μ(a|s) ∇Q(s, a). */
	for (int s = 0; s < S; s++) {
		double ws = 0;

		for (int a = 0; a < A; a++)
			if (w[(size_t)s * A + a] > 0)
				ws += w[(size_t)s * A + a];
		total += ws;
		for (int a = 0; a < A; a++) {
			size_t i = (size_t)s * A + a;

			c[i] = (w[i] > 0 ? w[i] : 0) - ws * e->pi[i];
		}
		backup_policy(e, h, s, mu + (size_t)s * A);
	}
	/* x = γ P^T (c + μ x): a γ-contraction in the 1-norm, from x = 0
	 * (or the last call's x when e->warm).
	 * Its error after a sweep that moved it by δ is at most γδ/(1 - γ),
	 * whatever the iterate was (so accelerated ones too);
	 * |c|_1 <= 2 Σw. */
	anderson_reset(&e->aa);
	for (it = 0; it < VI_MAX_ITER; it++) {
		double change = 0;

		memset(nx, 0, (size_t)S * sizeof *nx);
		for (int s = 0; s < S; s++)
			for (int a = 0; a < A; a++) {
				size_t i = (size_t)s * A + a;
				double D = c[i] + mu[i] * x[s];

				if (D == 0)
					continue;
				for (size_t k = P->row[i]; k < P->row[i + 1]; k++)
					nx[P->next[k]] += h->gamma * P->p[k] * D;
			}
		for (int s = 0; s < S; s++)
			change += fabs(nx[s] - x[s]);
		done = change * h->gamma <= SF_TOL * (1 - h->gamma) * total || change == 0;
		if (done || e->plain)
			memcpy(x, nx, (size_t)S * sizeof *x);
		else
			anderson_step(&e->aa, x, nx, change);
		if (done)
			break;
	}
	if (it == VI_MAX_ITER)
		rc = loam_seterr("rewinfer: expected visitations did not converge");
	else {
		/* ∇L = β Σ (c + μ x) φ - λθ */
		for (int j = 0; j < d; j++)
			grad[j] = -l2 * theta[j];
		for (int s = 0; s < S; s++)
			for (int a = 0; a < A; a++) {
				size_t i = (size_t)s * A + a;
				double D = h->beta * (c[i] + mu[i] * x[s]);

				if (D != 0)
					for (int j = 0; j < d; j++)
						grad[j] += D * m->phi[i * d + j];
			}
	}
	free(c);
	free(mu);
	return rc;
}

struct fit_ctx {
	struct rewinfer_eval e;
	const struct rewinfer_mdp *m;
	const struct rewinfer_model *h;
	const double *w;
	const struct rewinfer_prefs *prefs;
	double l2, total;
	int failed;
};

static double
log_sigmoid(double z)
{
	return z > 0 ? -log1p(exp(-z)) : z - log1p(exp(z));
}

void
rewinfer_traj_features(const struct rewinfer_mdp *m, double gamma_h,
    const int *pairs, size_t len, double *out)
{
	double disc = 1;

	for (int j = 0; j < m->d; j++)
		out[j] = 0;
	for (size_t t = 0; t < len; t++, disc *= gamma_h) {
		const double *phi = m->phi + ((size_t)pairs[2 * t] * m->A + pairs[2 * t + 1]) * m->d;

		for (int j = 0; j < m->d; j++)
			out[j] += disc * phi[j];
	}
}

double
rewinfer_pref_loglik(const struct rewinfer_prefs *p, int d, double beta,
    const double *theta, double *grad)
{
	double ll = 0;

	for (size_t i = 0; p && i < p->n; i++) {
		const double *dphi = p->dphi + i * d;
		double z = 0, y = p->y[i];

		for (int j = 0; j < d; j++)
			z += theta[j] * dphi[j];
		z *= beta;
		ll += y * log_sigmoid(z) + (1 - y) * log_sigmoid(-z);
		if (grad) {
			/* σ(z) as 1 - σ(-z) where that keeps its digits. */
			double sig = z > 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));

			for (int j = 0; j < d; j++)
				grad[j] += beta * (y - sig) * dphi[j];
		}
	}
	return ll;
}

/* L with the preferences' term. */
static int
objective(struct rewinfer_eval *e, const struct rewinfer_mdp *m,
    const struct rewinfer_model *h, const double *w,
    const struct rewinfer_prefs *prefs, double l2, const double *theta,
    double *loglik, double *grad)
{
	/* Above the dense solve's size the successor features would iterate
	 * d columns; the expected visitations need one. */
	int rc = e->lu ? rewinfer_loglik(e, m, h, w, l2, theta, loglik, grad) :
	    rewinfer_loglik_visit(e, m, h, w, l2, theta, loglik, grad);

	if (rc < 0)
		return -1;
	*loglik += rewinfer_pref_loglik(prefs, m->d, h->beta, theta, grad);
	return 0;
}

static lbfgsfloatval_t
fit_evaluate(void *arg, const lbfgsfloatval_t *x, lbfgsfloatval_t *g, int n,
    lbfgsfloatval_t step)
{
	struct fit_ctx *c = arg;
	double ll;

	(void)step;
	if (objective(&c->e, c->m, c->h, c->w, c->prefs, c->l2, x, &ll, g) < 0) {
		/* A step too long for value iteration: tell the line search
		 * it went uphill. */
		c->failed = 1;
		for (int j = 0; j < n; j++)
			g[j] = 0;
		return HUGE_VAL;
	}
	for (int j = 0; j < n; j++)
		g[j] = -g[j] / c->total;
	return -ll / c->total;
}

static double
weight_total(const struct rewinfer_mdp *m, const double *w)
{
	double total = 0;

	for (size_t i = 0; i < (size_t)m->S * m->A; i++)
		if (w[i] > 0)
			total += w[i];
	return total;
}

int
rewinfer_fit(const struct rewinfer_mdp *m, const struct rewinfer_model *h,
    const double *w, double l2, int max_iter, double *theta, double *loglik)
{
	return rewinfer_fit_prefs(m, h, w, NULL, l2, max_iter, theta, loglik);
}

int
rewinfer_fit_prefs(const struct rewinfer_mdp *m, const struct rewinfer_model *h,
    const double *w, const struct rewinfer_prefs *prefs, double l2, int max_iter,
    double *theta, double *loglik)
{
	struct fit_ctx c = { .m = m, .h = h, .w = w, .prefs = prefs, .l2 = l2 };
	lbfgs_parameter_t param;
	lbfgsfloatval_t fx, *x;
	int rc, d = m->d;

	if (check_model(m, h) < 0)
		return -1;
	if (!(l2 >= 0) || !isfinite(l2))
		return loam_seterr("rewinfer: L2 weight %g is negative", l2);
	c.total = weight_total(m, w) + (double)(prefs ? prefs->n : 0);
	if (!(c.total > 0))
		return loam_seterr("rewinfer: no demonstrations");
	rewinfer_eval_init(&c.e, m);
	c.e.warm = 1;
	lbfgs_parameter_init(&param);
	param.max_iterations = max_iter > 0 ? max_iter : 1000;
	param.epsilon = 1e-10;
	param.delta = 1e-14;
	param.past = 3;
	param.linesearch = LBFGS_LINESEARCH_BACKTRACKING_STRONG_WOLFE;
	/* glibc's malloc is 16-byte aligned, as liblbfgs's SSE2 paths need. */
	x = xmalloc((size_t)d * sizeof *x);
	for (int j = 0; j < d; j++)
		x[j] = theta[j];
	rc = lbfgs(d, x, &fx, fit_evaluate, NULL, &c, &param);
	/* Converged, stopped by the stall test, or stalled in the line search
	 * at a point as good as it gets in double precision: all give θ̂. */
	if (rc == LBFGS_SUCCESS || rc == LBFGS_STOP || rc == LBFGS_ALREADY_MINIMIZED ||
	    rc == LBFGSERR_MAXIMUMITERATION || rc == LBFGSERR_ROUNDING_ERROR ||
	    rc == LBFGSERR_MAXIMUMLINESEARCH || rc == LBFGSERR_MINIMUMSTEP ||
	    rc == LBFGSERR_CANCELED)
		rc = isfinite(fx) ? 0 : -1;
	if (rc == 0) {
		for (int j = 0; j < d; j++)
			theta[j] = x[j];
		*loglik = -fx * c.total;
	} else {
		loam_seterr("rewinfer: L-BFGS failed (liblbfgs status %d)%s", rc,
		    c.failed ? " after value iteration failed" : "");
		rc = -1;
	}
	free(x);
	rewinfer_eval_release(&c.e);
	return rc;
}

int
rewinfer_sensitivity(const struct rewinfer_mdp *m,
    const struct rewinfer_model *h, const double *w, double l2,
    const double *theta, struct rewinfer_report *rep)
{
	return rewinfer_sensitivity_prefs(m, h, w, NULL, l2, theta, rep);
}

int
rewinfer_sensitivity_prefs(const struct rewinfer_mdp *m,
    const struct rewinfer_model *h, const double *w,
    const struct rewinfer_prefs *prefs, double l2, const double *theta,
    struct rewinfer_report *rep)
{
	int S = m->S, A = m->A, d = m->d, rc = -1;
	struct rewinfer_eval e;
	double wtotal = weight_total(m, w), norm = 0, hstep, ll, rate = 0;
	double total = wtotal + (double)(prefs ? prefs->n : 0);
	double *H = xcalloc((size_t)d * d, sizeof *H);
	double *gp = xmalloc((size_t)d * sizeof *gp), *gm = xmalloc((size_t)d * sizeof *gm);
	double *th = xmalloc((size_t)d * sizeof *th), *ev = xmalloc((size_t)d * sizeof *ev);
	double *Z = xmalloc((size_t)d * d * sizeof *Z), *score = xmalloc((size_t)d * sizeof *score);
	lapack_int nfound, *isuppz = xmalloc(2 * (size_t)d * sizeof *isuppz);

	if (!(total > 0)) {
		loam_seterr("rewinfer: no demonstrations");
		goto out;
	}
	rewinfer_eval_init(&e, m);
	/* The difference quotients' θ ± h e_j are all near θ: each value
	 * iteration starts from the last. */
	e.warm = 1;
	for (int j = 0; j < d; j++)
		norm += theta[j] * theta[j];
	hstep = 1e-4 * fmax(1, sqrt(norm));
	/* Column j: -(g(θ + h e_j) - g(θ - h e_j)) / (2h Σw). */
	for (int j = 0; j < d; j++) {
		memcpy(th, theta, (size_t)d * sizeof *th);
		th[j] = theta[j] + hstep;
		if (objective(&e, m, h, w, prefs, l2, th, &ll, gp) < 0)
			goto out_e;
		th[j] = theta[j] - hstep;
		if (objective(&e, m, h, w, prefs, l2, th, &ll, gm) < 0)
			goto out_e;
		for (int i = 0; i < d; i++)
			H[(size_t)i * d + j] = -(gp[i] - gm[i]) / (2 * hstep * total);
	}
	for (int i = 0; i < d; i++)
		for (int j = 0; j < i; j++)
			H[(size_t)i * d + j] = H[(size_t)j * d + i] =
			    0.5 * (H[(size_t)i * d + j] + H[(size_t)j * d + i]);
	if (rep->info)
		memcpy(rep->info, H, (size_t)d * d * sizeof *H);
	if (LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'A', 'U', d, H, d, 0, 0, 0, 0, 0,
	    &nfound, ev, Z, d, isuppz) != 0 || nfound != d) {
		loam_seterr("rewinfer: eigenvalues of the information failed (dsyevr)");
		goto out_e;
	}
	rep->alpha = ev[0];
	rep->lambda_max = ev[d - 1];
	rep->condition = ev[0] > 0 ? ev[d - 1] / ev[0] : HUGE_VAL;
	{
		int big = 0;

		for (int j = 1; j < d; j++)
			if (fabs(Z[(size_t)j * d]) > fabs(Z[(size_t)big * d]))
				big = j;
		for (int j = 0; j < d; j++)
			rep->direction[j] = Z[(size_t)big * d] < 0 ? -Z[(size_t)j * d] : Z[(size_t)j * d];
	}
	/* Ĝ and the TV rate along v, from the scores at θ. */
	if (rewinfer_loglik(&e, m, h, w, l2, theta, &ll, gp) < 0)
		goto out_e;
	rep->G = 0;
	for (int s = 0; s < S; s++) {
		const double *pi = e.pi + (size_t)s * A;
		double ws = 0;

		for (int a = 0; a < A; a++)
			if (w[(size_t)s * A + a] > 0)
				ws += w[(size_t)s * A + a];
		if (ws == 0)
			continue;
		for (int j = 0; j < d; j++) {
			score[j] = 0;
			for (int a = 0; a < A; a++)
				score[j] += pi[a] * e.psi[((size_t)s * A + a) * d + j];
		}
		for (int a = 0; a < A; a++) {
			const double *psi = e.psi + ((size_t)s * A + a) * d;
			double n2 = 0, dot = 0;

			for (int j = 0; j < d; j++) {
				double g = h->beta * (psi[j] - score[j]);

				n2 += g * g;
				dot += g * rep->direction[j];
			}
			if (sqrt(n2) > rep->G)
				rep->G = sqrt(n2);
			rate += ws / wtotal * 0.5 * pi[a] * fabs(dot);
		}
	}
	rep->amplification = rate > 0 ? 1 / rate : HUGE_VAL;
	rc = 0;
out_e:
	rewinfer_eval_release(&e);
out:
	free(H);
	free(gp);
	free(gm);
	free(th);
	free(ev);
	free(Z);
	free(score);
	free(isuppz);
	return rc;
}

int
rewinfer_state_dist(int S, int A, const double *w, double *rho)
{
	double total = 0;

	for (int s = 0; s < S; s++) {
		rho[s] = 0;
		for (int a = 0; a < A; a++)
			if (w[(size_t)s * A + a] > 0)
				rho[s] += w[(size_t)s * A + a];
		total += rho[s];
	}
	if (!(total > 0))
		return loam_seterr("rewinfer: no demonstrations");
	for (int s = 0; s < S; s++)
		rho[s] /= total;
	return 0;
}

double
rewinfer_tv(int S, int A, const double *rho, const double *p, const double *q)
{
	double tv = 0;

	for (int s = 0; s < S; s++) {
		double t = 0;

		if (rho[s] == 0)
			continue;
		for (int a = 0; a < A; a++)
			t += fabs(p[(size_t)s * A + a] - q[(size_t)s * A + a]);
		tv += rho[s] * 0.5 * t;
	}
	return tv;
}

double
rewinfer_wkl(int S, int A, const double *rho, const double *p, const double *q)
{
	double kl = 0;

	for (int s = 0; s < S; s++) {
		double k = 0;

		if (rho[s] == 0)
			continue;
		for (int a = 0; a < A; a++) {
			double pa = p[(size_t)s * A + a], qa = q[(size_t)s * A + a];

			if (pa > 0)
				k += qa > 0 ? pa * log(pa / qa) : HUGE_VAL;
		}
		kl += rho[s] * k;
	}
	/* A KL is >= 0; between policies equal to rounding the sum can
	 * come out at -1e-17, which would read as nonsense. */
	return kl > 0 ? kl : 0;
}

void
rewinfer_simulate(const struct rewinfer_mdp *m, const double *pi,
    uint64_t seed, uint64_t first, size_t ntraj, size_t horizon, int *pairs)
{
	int A = m->A;

	for (size_t t = 0; t < ntraj; t++) {
		struct rng r;
		int s;

		rng_init(&r, seed, RNG_REWINFER_DEMOS, first + t);
		s = (int)rng_weighted(&r, m->start, (size_t)m->S);
		for (size_t k = 0; k < horizon; k++) {
			int a = (int)rng_weighted(&r, pi + (size_t)s * A, (size_t)A);
			size_t i;

			/* A policy row of rounding-level zeros cannot happen
			 * for a softmax; clamp all the same. */
			if (a >= A)
				a = 0;
			pairs[(t * horizon + k) * 2] = s;
			pairs[(t * horizon + k) * 2 + 1] = a;
			i = (size_t)s * A + a;
			s = m->next[m->row[i] + rng_weighted(&r, m->p + m->row[i],
			    m->row[i + 1] - m->row[i]) % (m->row[i + 1] - m->row[i])];
		}
	}
}

void
rewinfer_count(int A, const int *pairs, size_t n, double *w)
{
	for (size_t i = 0; i < n; i++)
		w[(size_t)pairs[2 * i] * A + pairs[2 * i + 1]] += 1;
}

void
rewinfer_visits(const struct rewinfer_mdp *m, const double *pi, size_t horizon,
    double *w)
{
	int S = m->S, A = m->A;
	double *rho = xmalloc((size_t)S * sizeof *rho), *next = xmalloc((size_t)S * sizeof *next);

	memcpy(rho, m->start, (size_t)S * sizeof *rho);
	memset(w, 0, (size_t)S * A * sizeof *w);
	for (size_t k = 0; k < horizon; k++) {
		memset(next, 0, (size_t)S * sizeof *next);
		for (int s = 0; s < S; s++) {
			if (rho[s] == 0)
				continue;
			for (int a = 0; a < A; a++) {
				size_t i = (size_t)s * A + a;
				double f = rho[s] * pi[i];

				w[i] += f / (double)horizon;
				for (size_t e = m->row[i]; e < m->row[i + 1]; e++)
					next[m->next[e]] += f * m->p[e];
			}
		}
		memcpy(rho, next, (size_t)S * sizeof *rho);
	}
	free(rho);
	free(next);
}

int
rewinfer_bias_direction(const struct rewinfer_mdp *m, const struct rewinfer_model *h0,
    const double *theta, const double *pi0, size_t horizon, enum rewinfer_bias kind,
    uint64_t seed, double *dir)
{
	int d = m->d;

	memset(dir, 0, (size_t)d * sizeof *dir);
	if (kind == REWINFER_BIAS_ADVERSARIAL) {
		struct rewinfer_report rep = { .direction = dir };
		double *w = xmalloc((size_t)m->S * m->A * sizeof *w);
		int rc;

		rewinfer_visits(m, pi0, horizon, w);
		rc = rewinfer_sensitivity(m, h0, w, 0, theta, &rep);
		free(w);
		return rc;
	}
	if (kind == REWINFER_BIAS_RANDOM) {
		struct rng r;
		double n;

		rng_init(&r, seed, RNG_REWINFER_BIAS, 0);
		do {
			double s = 0;

			for (int j = 0; j < d; j++)
				dir[j] = rng_normal(&r);
			for (int j = 0; j < d; j++)
				s += dir[j] * dir[j];
			n = sqrt(s);
		} while (!(n > 0));
		for (int j = 0; j < d; j++)
			dir[j] /= n;
	}
	return 0;
}

void
rewinfer_bias_size(const struct rewinfer_mdp *m, const double *pi, const double *pi0,
    size_t horizon, double *w, double *tv, double *wkl)
{
	double *rho = xmalloc((size_t)m->S * sizeof *rho);

	rewinfer_visits(m, pi, horizon, w);
	rewinfer_state_dist(m->S, m->A, w, rho);
	*tv = rewinfer_tv(m->S, m->A, rho, pi, pi0);
	*wkl = rewinfer_wkl(m->S, m->A, rho, pi, pi0);
	free(rho);
}
