/*
 * congest - Congested Bandits: model, planners, simulator, algorithms.
 * See congest.h for the model and what is reconstructed.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "congest.h"
#include "rng.h"
#include "util.h"

#define HOWARD_MAX_SWEEPS 10000

int
congest_model_init(struct congest_model *m, int k, int window, const double *f)
{
	size_t len;

	memset(m, 0, sizeof *m);
	if (k < 1)
		return loam_seterr("congest: %d arms (need at least 1)", k);
	if (window < 0)
		return loam_seterr("congest: window %d (need at least 0)", window);
	len = (size_t)k * (size_t)(window + 1);
	if (f)
		for (size_t i = 0; i < len; i++)
			if (!isfinite(f[i]))
				return loam_seterr("congest: arm %zu, congestion %zu: reward not finite",
				    i / (size_t)(window + 1), i % (size_t)(window + 1));
	m->k = k;
	m->window = window;
	m->f = xcalloc(len, sizeof *m->f);
	if (f)
		memcpy(m->f, f, len * sizeof *f);
	return 0;
}

void
congest_model_release(struct congest_model *m)
{
	free(m->f);
	memset(m, 0, sizeof *m);
}

int
congest_states(int k, int window, uint64_t max_states, uint64_t *n)
{
	uint64_t s = 1;

	for (int i = 0; i < window; i++) {
		if (s > max_states / (uint64_t)k)
			return loam_seterr("congest: K^Δ = %d^%d states exceed max-states %llu",
			    k, window, (unsigned long long)max_states);
		s *= (uint64_t)k;
	}
	if (s > max_states)
		return loam_seterr("congest: K^Δ = %d^%d states exceed max-states %llu",
		    k, window, (unsigned long long)max_states);
	*n = s;
	return 0;
}

double
congest_cycle_gain(const struct congest_model *m, const int *cycle, int len)
{
	double sum = 0;

	for (int j = 0; j < len; j++) {
		int c = 0;

		/* the Δ plays before position j, wrapping around the cycle */
		for (int d = 1; d <= m->window; d++) {
			int i = ((j - d) % len + len) % len;

			c += cycle[i] == cycle[j];
		}
		sum += congest_f(m, cycle[j], c);
	}
	return sum / len;
}

double
congest_periodic_gain(const struct congest_model *m, int *counts)
{
	int p = m->window + 1, k = m->k;
	/* best[a][s]: the best total of arms 0..a-1 with s plays in all */
	double *best = xmalloc((size_t)(k + 1) * (size_t)(p + 1) * sizeof *best);
	int *pick = xmalloc((size_t)(k + 1) * (size_t)(p + 1) * sizeof *pick);
	double g;

	for (int s = 0; s <= p; s++)
		best[s] = s == 0 ? 0 : -INFINITY;
	for (int a = 0; a < k; a++)
		for (int s = 0; s <= p; s++) {
			double b = -INFINITY;
			int bc = 0;

			for (int c = 0; c <= s; c++) {
				double prev = best[(size_t)a * (size_t)(p + 1) + (size_t)(s - c)];
				double v = prev + (c ? c * congest_f(m, a, c - 1) : 0);

				if (prev > -INFINITY && v > b) {
					b = v;
					bc = c;
				}
			}
			best[(size_t)(a + 1) * (size_t)(p + 1) + (size_t)s] = b;
			pick[(size_t)(a + 1) * (size_t)(p + 1) + (size_t)s] = bc;
		}
	g = best[(size_t)k * (size_t)(p + 1) + (size_t)p] / p;
	if (counts)
		for (int a = k, s = p; a > 0; a--) {
			counts[a - 1] = pick[(size_t)a * (size_t)(p + 1) + (size_t)s];
			s -= counts[a - 1];
		}
	free(best);
	free(pick);
	return g;
}

/* The successor of state v under action a, in a graph of n = K^Δ states. */
static inline uint64_t
succ(const struct congest_model *m, uint64_t n, uint64_t v, int a)
{
	if (m->window == 0)
		return 0;
	return v % (n / (uint64_t)m->k) * (uint64_t)m->k + (uint64_t)a;
}

/* How often a is a digit of state v. */
static inline int
digits_of(const struct congest_model *m, uint64_t v, int a)
{
	int c = 0;

	for (int d = 0; d < m->window; d++, v /= (uint64_t)m->k)
		c += (int)(v % (uint64_t)m->k) == a;
	return c;
}

static inline double
edge_reward(const struct congest_model *m, uint64_t v, int a)
{
	return congest_f(m, a, digits_of(m, v, a));
}

/* The count of each arm among the digits of state v, in cnt[k]. */
static void
state_counts(const struct congest_model *m, uint64_t v, int *cnt)
{
	memset(cnt, 0, (size_t)m->k * sizeof *cnt);
	for (int d = 0; d < m->window; d++, v /= (uint64_t)m->k)
		cnt[v % (uint64_t)m->k]++;
}

/* Howard's policy evaluation: the gain g and bias h of every state under
 * the policy whose edges go to nxt[v] and pay wpol[v].  Each state's walk
 * ends on a cycle: the cycle's mean is the gain of every state leading
 * to it, and h averages 0 over the cycle. */
static void
howard_evaluate(uint64_t n, const uint32_t *nxt, const double *wpol, double *g, double *h,
    uint32_t *stamp, uint32_t *path)
{
	uint32_t walk = 0;

	memset(stamp, 0, n * sizeof *stamp);
	for (uint64_t v0 = 0; v0 < n; v0++) {
		uint64_t v = v0, len = 0;

		if (stamp[v0])
			continue;
		walk++;
		while (!stamp[v]) {
			stamp[v] = walk;
			path[len++] = (uint32_t)v;
			v = nxt[v];
		}
		if (stamp[v] == walk) {
			uint64_t j = len - 1;
			double sum = 0, gc;

			while (path[j] != v)
				j--;
			for (uint64_t i = j; i < len; i++)
				sum += wpol[path[i]];
			gc = sum / (double)(len - j);
			g[v] = gc;
			h[v] = 0;
			sum = 0;
			for (uint64_t i = len - 1; i > j; i--) {
				uint32_t u = path[i];

				g[u] = gc;
				h[u] = wpol[u] - gc + h[nxt[u]];
				sum += h[u];
			}
			/* the true bias: zero on average over the cycle (with
			 * h = 0 where the walk met it, policy iteration can
			 * circle between cycles of equal gain) */
			sum /= (double)(len - j);
			for (uint64_t i = j; i < len; i++)
				h[path[i]] -= sum;
			len = j;
		}
		while (len > 0) {
			uint32_t u = path[--len];

			g[u] = g[nxt[u]];
			h[u] = wpol[u] - g[nxt[u]] + h[nxt[u]];
		}
	}
}

int
congest_plan_solve(struct congest_plan *p, const struct congest_model *m, uint64_t max_states)
{
	uint64_t n, start, least, v, low;
	double *g, *h, *wpol;
	uint32_t *stamp, *path, *nxt;
	int *pol, *cnt, settled = 0, k;
	const double eps_g = 1e-12;

	memset(p, 0, sizeof *p);
	if (congest_states(m->k, m->window, max_states, &n) < 0)
		return -1;
	if (n > UINT32_MAX)
		return loam_seterr("congest: %llu states are too many", (unsigned long long)n);
	k = m->k;
	low = m->window ? n / (uint64_t)k : 0;	/* succ(v, a) = v % low * k + a */
	pol = xmalloc(n * sizeof *pol);
	g = xmalloc(n * sizeof *g);
	h = xmalloc(n * sizeof *h);
	wpol = xmalloc(n * sizeof *wpol);
	nxt = xmalloc(n * sizeof *nxt);
	stamp = xmalloc(n * sizeof *stamp);
	path = xmalloc(n * sizeof *path);
	cnt = xmalloc((size_t)k * sizeof *cnt);
	/* start from the greedy policy */
	for (v = 0; v < n; v++) {
		int best = 0;

		state_counts(m, v, cnt);
		for (int a = 1; a < k; a++)
			if (congest_f(m, a, cnt[a]) > congest_f(m, best, cnt[best]))
				best = a;
		pol[v] = best;
		wpol[v] = congest_f(m, best, cnt[best]);
		nxt[v] = (uint32_t)(low ? v % low * (uint64_t)k + (uint64_t)best : 0);
	}
	for (p->sweeps = 1; p->sweeps <= HOWARD_MAX_SWEEPS; p->sweeps++) {
		int changed = 0;

		howard_evaluate(n, nxt, wpol, g, h, stamp, path);
		/* first the gain: move to a successor of a better cycle */
		for (v = 0; v < n; v++) {
			uint64_t base = low ? v % low * (uint64_t)k : 0;
			int best = pol[v];
			double bg = g[nxt[v]];

			for (int a = 0; a < k; a++) {
				double ga = g[low ? base + (uint64_t)a : 0];

				if (ga > bg + eps_g) {
					bg = ga;
					best = a;
				}
			}
			if (best != pol[v]) {
				pol[v] = best;
				nxt[v] = (uint32_t)(low ? base + (uint64_t)best : 0);
				wpol[v] = edge_reward(m, v, best);
				changed = 1;
			}
		}
		if (changed)
			continue;
		/* then the bias, among successors of the same gain */
		for (v = 0; v < n; v++) {
			uint64_t base = low ? v % low * (uint64_t)k : 0;
			int best = pol[v];
			double bh = h[v], eps_h = 1e-10 * (1 + fabs(h[v]));

			state_counts(m, v, cnt);
			for (int a = 0; a < k; a++) {
				uint64_t s = low ? base + (uint64_t)a : 0;
				double ha;

				if (fabs(g[s] - g[v]) > eps_g)
					continue;
				ha = congest_f(m, a, cnt[a]) - g[s] + h[s];
				if (ha > bh + eps_h) {
					bh = ha;
					best = a;
				}
			}
			if (best != pol[v]) {
				pol[v] = best;
				nxt[v] = (uint32_t)(low ? base + (uint64_t)best : 0);
				wpol[v] = congest_f(m, best, cnt[best]);
				changed = 1;
			}
		}
		if (!changed) {
			settled = 1;
			break;
		}
	}
	free(wpol);
	free(cnt);
	if (!settled) {
		free(pol);
		free(g);
		free(h);
		free(stamp);
		free(path);
		free(nxt);
		memset(p, 0, sizeof *p);
		return loam_seterr("congest: policy iteration did not settle in %d sweeps",
		    HOWARD_MAX_SWEEPS);
	}
	/* the best cycle: follow the policy from the state of best gain,
	 * then start the cycle at its least state */
	start = 0;
	for (v = 1; v < n; v++)
		if (g[v] > g[start] + eps_g)
			start = v;
	memset(stamp, 0, n * sizeof *stamp);
	for (v = start; !stamp[v]; v = nxt[v])
		stamp[v] = 1;
	least = start = v;
	p->cycle_len = 0;
	do {
		if (v < least)
			least = v;
		p->cycle_len++;
		v = nxt[v];
	} while (v != start);
	p->cycle = xmalloc((size_t)p->cycle_len * sizeof *p->cycle);
	v = start = least;
	for (int i = 0; i < p->cycle_len; i++) {
		p->cycle[i] = pol[v];
		v = nxt[v];
	}
	p->gain = g[start];
	p->nstates = n;
	p->policy = pol;
	free(g);
	free(h);
	free(stamp);
	free(path);
	free(nxt);
	return 0;
}

void
congest_plan_release(struct congest_plan *p)
{
	free(p->policy);
	free(p->cycle);
	memset(p, 0, sizeof *p);
}

double
congest_mmc_karp(size_t n, size_t m, const uint32_t *src, const uint32_t *dst, const double *w)
{
	/* D_k(v): the heaviest walk of exactly k edges ending at v, from
	 * anywhere.  g* = max_v min_{k<n} (D_n(v) - D_k(v)) / (n - k).  The
	 * rows are recomputed rather than stored: two passes, O(n) memory. */
	double *prev = xmalloc(n * sizeof *prev), *cur = xmalloc(n * sizeof *cur);
	double *dn = xmalloc(n * sizeof *dn), *lo = xmalloc(n * sizeof *lo), *t;
	double best = -INFINITY;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t v = 0; v < n; v++) {
			prev[v] = 0;
			lo[v] = INFINITY;
		}
		for (size_t k = 0; k < n; k++) {
			if (pass == 1)
				for (size_t v = 0; v < n; v++)
					if (dn[v] > -INFINITY && prev[v] > -INFINITY) {
						double r = (dn[v] - prev[v]) / (double)(n - k);

						if (r < lo[v])
							lo[v] = r;
					}
			for (size_t v = 0; v < n; v++)
				cur[v] = -INFINITY;
			for (size_t e = 0; e < m; e++)
				if (prev[src[e]] > -INFINITY && prev[src[e]] + w[e] > cur[dst[e]])
					cur[dst[e]] = prev[src[e]] + w[e];
			t = prev;
			prev = cur;
			cur = t;
		}
		if (pass == 0)
			memcpy(dn, prev, n * sizeof *dn);
	}
	for (size_t v = 0; v < n; v++)
		if (dn[v] > -INFINITY && lo[v] > best)
			best = lo[v];
	free(prev);
	free(cur);
	free(dn);
	free(lo);
	if (best == -INFINITY) {
		loam_seterr("congest: the graph has no cycle");
		return NAN;
	}
	return best;
}

double
congest_karp_gain(const struct congest_model *m, uint64_t max_states)
{
	uint64_t n;
	size_t edges, e = 0;
	uint32_t *src, *dst;
	double *w, g;

	if (congest_states(m->k, m->window, max_states, &n) < 0)
		return NAN;
	if (n > UINT32_MAX / (uint64_t)m->k) {
		loam_seterr("congest: %llu states are too many", (unsigned long long)n);
		return NAN;
	}
	edges = (size_t)n * (size_t)m->k;
	src = xmalloc(edges * sizeof *src);
	dst = xmalloc(edges * sizeof *dst);
	w = xmalloc(edges * sizeof *w);
	for (uint64_t v = 0; v < n; v++)
		for (int a = 0; a < m->k; a++, e++) {
			src[e] = (uint32_t)v;
			dst[e] = (uint32_t)succ(m, n, v, a);
			w[e] = edge_reward(m, v, a);
		}
	g = congest_mmc_karp((size_t)n, edges, src, dst, w);
	free(src);
	free(dst);
	free(w);
	return g;
}

int
congest_rvi_gain(const struct congest_model *m, uint64_t max_states, double tol, long max_sweeps,
    double *gain)
{
	uint64_t n, low;
	double *h, *th;
	int *cnt, k = m->k;

	if (congest_states(m->k, m->window, max_states, &n) < 0)
		return -1;
	low = m->window ? n / (uint64_t)k : 0;
	h = xcalloc(n, sizeof *h);
	th = xmalloc(n * sizeof *th);
	cnt = xmalloc((size_t)k * sizeof *cnt);
	for (long it = 1; it <= max_sweeps; it++) {
		double lo = INFINITY, hi = -INFINITY, ref;

		/* T'h = h/2 + Th/2: the Bellman operator of the same MDP
		 * staying put with probability 1/2, aperiodic, of gain g/2 */
		for (uint64_t v = 0; v < n; v++) {
			uint64_t base = low ? v % low * (uint64_t)k : 0;
			double best = -INFINITY;

			state_counts(m, v, cnt);
			for (int a = 0; a < k; a++) {
				double q = congest_f(m, a, cnt[a]) + h[low ? base + (uint64_t)a : 0];

				if (q > best)
					best = q;
			}
			th[v] = 0.5 * h[v] + 0.5 * best;
			if (th[v] - h[v] < lo)
				lo = th[v] - h[v];
			if (th[v] - h[v] > hi)
				hi = th[v] - h[v];
		}
		ref = th[0];
		for (uint64_t v = 0; v < n; v++)
			h[v] = th[v] - ref;
		/* g/2 lies in [lo, hi] */
		if (hi - lo <= tol / 2) {
			*gain = lo + hi;
			free(h);
			free(th);
			free(cnt);
			return (int)(it < INT32_MAX ? it : INT32_MAX);
		}
	}
	free(h);
	free(th);
	free(cnt);
	return loam_seterr("congest: relative value iteration did not settle in %ld sweeps", max_sweeps);
}

void
congest_hist_init(struct congest_hist *h, int k, int window)
{
	uint64_t n = 1;

	memset(h, 0, sizeof *h);
	h->k = k;
	h->window = window;
	h->ring = xmalloc((size_t)(window > 0 ? window : 1) * sizeof *h->ring);
	for (int i = 0; i < window; i++)
		h->ring[i] = -1;
	h->count = xcalloc((size_t)k, sizeof *h->count);
	for (int i = 0; i < window && n; i++)
		n = n > UINT64_MAX / (uint64_t)k ? 0 : n * (uint64_t)k;
	h->nstates = n;
}

void
congest_hist_release(struct congest_hist *h)
{
	free(h->ring);
	free(h->count);
	memset(h, 0, sizeof *h);
}

void
congest_hist_push(struct congest_hist *h, int a)
{
	h->t++;
	if (h->window == 0)
		return;
	if (h->ring[h->pos] >= 0)
		h->count[h->ring[h->pos]]--;
	h->ring[h->pos] = a;
	h->count[a]++;
	h->pos = (h->pos + 1) % h->window;
	if (h->nstates)
		h->code = h->code % (h->nstates / (uint64_t)h->k) * (uint64_t)h->k + (uint64_t)a;
}

int
congest_hist_at(const struct congest_hist *h, int i)
{
	return h->ring[(h->pos + i) % h->window];
}

struct lookahead {
	const struct congest_model *m;
	int *seq;		/* window + depth: the window, then the plan */
	int *count;
	int depth;
};

/* The best total of the remaining steps from step d. */
static double
lookahead_dfs(struct lookahead *la, int d, int *first)
{
	int w = la->m->window, p = w + d;
	double best = -INFINITY;

	if (d == la->depth)
		return 0;
	for (int a = 0; a < la->m->k; a++) {
		double r = congest_f(la->m, a, la->count[a]);
		int out = w ? la->seq[p - w] : -1;

		la->seq[p] = a;
		if (w) {
			la->count[a]++;
			if (out >= 0)
				la->count[out]--;
		}
		r += lookahead_dfs(la, d + 1, NULL);
		if (w) {
			la->count[a]--;
			if (out >= 0)
				la->count[out]++;
		}
		if (r > best) {
			best = r;
			if (first)
				*first = a;
		}
	}
	return best;
}

int
congest_lookahead(const struct congest_model *m, const struct congest_hist *h, int depth, double *value)
{
	struct lookahead la;
	int first = 0;
	double v;

	la.m = m;
	la.depth = depth;
	la.seq = xmalloc((size_t)(m->window + depth) * sizeof *la.seq);
	la.count = xmalloc((size_t)m->k * sizeof *la.count);
	for (int i = 0; i < m->window; i++)
		la.seq[i] = congest_hist_at(h, i);
	memcpy(la.count, h->count, (size_t)m->k * sizeof *la.count);
	v = lookahead_dfs(&la, 0, &first);
	if (value)
		*value = v;
	free(la.seq);
	free(la.count);
	return first;
}

void
congest_pav_nonincreasing(double *y, const double *w, int n)
{
	/* blocks on a stack: each has a weighted mean, a weight and a length;
	 * a new value merges with the top while it is larger (a violation) */
	double *mean = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *mean);
	double *wt = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *wt);
	int *len = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *len);
	int top = 0, i = 0;

	for (int j = 0; j < n; j++) {
		mean[top] = y[j];
		wt[top] = w ? w[j] : 1;
		len[top] = 1;
		top++;
		while (top > 1 && mean[top - 1] > mean[top - 2]) {
			double ww = wt[top - 2] + wt[top - 1];

			mean[top - 2] = (wt[top - 2] * mean[top - 2] + wt[top - 1] * mean[top - 1]) / ww;
			wt[top - 2] = ww;
			len[top - 2] += len[top - 1];
			top--;
		}
	}
	for (int b = 0; b < top; b++)
		for (int j = 0; j < len[b]; j++)
			y[i++] = mean[b];
	free(mean);
	free(wt);
	free(len);
}

void
congest_sim_init(struct congest_sim *s, const struct congest_model *truth, double sigma,
    const struct rng *rng)
{
	s->truth = truth;
	s->sigma = sigma;
	s->rng = *rng;
	congest_hist_init(&s->hist, truth->k, truth->window);
}

void
congest_sim_release(struct congest_sim *s)
{
	congest_hist_release(&s->hist);
}

double
congest_sim_play(struct congest_sim *s, int a, int *congestion, double *mean)
{
	int c = s->hist.count[a];
	double f = congest_f(s->truth, a, c);

	congest_hist_push(&s->hist, a);
	if (congestion)
		*congestion = c;
	if (mean)
		*mean = f;
	return s->sigma > 0 ? f + s->sigma * rng_normal(&s->rng) : f;
}

static const char *const algo_names[] = {
	[CONGEST_CARMAB] = "carmab",
	[CONGEST_KNOWN] = "known",
	[CONGEST_UCB1] = "ucb1",
	[CONGEST_SWUCB] = "swucb",
	[CONGEST_CARCB] = "carcb",
	[CONGEST_CARMAB_CTX] = "carmab-ctx",
};

int
congest_algo_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof algo_names / sizeof *algo_names); i++)
		if (strcmp(name, algo_names[i]) == 0)
			return i;
	if (strcmp(name, "sw-ucb") == 0)
		return CONGEST_SWUCB;
	return -1;
}

const char *
congest_algo_name(enum congest_algo a)
{
	return algo_names[a];
}

void
congest_params_default(struct congest_params *p)
{
	memset(p, 0, sizeof *p);
	p->algo = CONGEST_CARMAB;
	p->delta = 0.05;
	p->max_states = UINT64_C(1) << 20;
	p->sw_window = 1000;
}

/* Plan on ag->plan_model: exactly, or nothing to do for the lookahead. */
static int
agent_plan(struct congest_agent *ag)
{
	if (ag->use_lookahead)
		return 0;
	congest_plan_release(&ag->plan);
	return congest_plan_solve(&ag->plan, &ag->plan_model, ag->par.max_states);
}

/* carmab: start an epoch on the optimistic profile, t steps played. */
static int
carmab_epoch(struct congest_agent *ag, uint64_t t)
{
	int k = ag->par.k, p = ag->par.window + 1;
	size_t len = (size_t)k * (size_t)p;
	double T = ag->par.horizon ? (double)ag->par.horizon : (double)(t + 1);
	double logterm = log(2.0 * k * p * T / ag->par.delta);
	double *w = xmalloc((size_t)p * sizeof *w);

	for (size_t i = 0; i < len; i++) {
		double v = 1;

		if (ag->n[i]) {
			v = ag->mean[i] + sqrt(2 * (logterm > 0 ? logterm : 0) / (double)ag->n[i]);
			if (v > 1)
				v = 1;
		}
		ag->plan_model.f[i] = v;
		ag->n_start[i] = ag->n[i];
		ag->n_epoch[i] = 0;
	}
	if (ag->par.monotone)
		for (int a = 0; a < k; a++) {
			for (int c = 0; c < p; c++)
				w[c] = (double)ag->n[(size_t)a * (size_t)p + (size_t)c] + 1;
			congest_pav_nonincreasing(ag->plan_model.f + (size_t)a * (size_t)p, w, p);
		}
	free(w);
	ag->epochs++;
	ag->replan = 0;
	return agent_plan(ag);
}

/* The checks the agents share: the shape, δ for the optimistic ones,
 * the lookahead's depth, and whether the state graph fits (*lookahead
 * set when it does not and a depth is given).  0, or -1. */
static int
params_check(const struct congest_params *p, int optimistic, int planned, int *lookahead)
{
	uint64_t n;

	*lookahead = 0;
	if (p->k < 1 || p->window < 0)
		return loam_seterr("congest: %d arms and window %d (need at least 1 and 0)",
		    p->k, p->window);
	if (optimistic && !(p->delta > 0 && p->delta < 1))
		return loam_seterr("congest: delta %g is not in (0, 1)", p->delta);
	if (p->lookahead < 0 || p->lookahead > 64)
		return loam_seterr("congest: lookahead %d is not in 0..64", p->lookahead);
	if (planned && congest_states(p->k, p->window, p->max_states, &n) < 0) {
		if (!p->lookahead)
			return -1;
		*lookahead = 1;
	}
	return 0;
}

int
congest_agent_init(struct congest_agent *ag, const struct congest_params *p,
    const struct congest_model *truth)
{
	size_t len;
	int planned = p->algo == CONGEST_CARMAB || p->algo == CONGEST_KNOWN;

	memset(ag, 0, sizeof *ag);
	if (p->algo == CONGEST_CARCB)
		return loam_seterr("congest: carcb runs as struct congest_carcb");
	if (p->algo == CONGEST_CARMAB_CTX)
		return loam_seterr("congest: carmab-ctx runs as struct congest_ctx");
	if (params_check(p, p->algo == CONGEST_CARMAB, planned, &ag->use_lookahead) < 0)
		return -1;
	if (p->algo == CONGEST_SWUCB && p->sw_window < 1)
		return loam_seterr("congest: sliding window %d (need at least 1)", p->sw_window);
	if (p->algo == CONGEST_KNOWN && (!truth || truth->k != p->k || truth->window != p->window))
		return loam_seterr("congest: known needs the true profiles of %d arms and window %d",
		    p->k, p->window);
	ag->par = *p;
	len = (size_t)p->k * (size_t)(p->window + 1);
	congest_hist_init(&ag->hist, p->k, p->window);
	ag->n = xcalloc(len, sizeof *ag->n);
	ag->mean = xcalloc(len, sizeof *ag->mean);
	ag->n_epoch = xcalloc(len, sizeof *ag->n_epoch);
	ag->n_start = xcalloc(len, sizeof *ag->n_start);
	ag->arm_n = xcalloc((size_t)p->k, sizeof *ag->arm_n);
	ag->arm_sum = xcalloc((size_t)p->k, sizeof *ag->arm_sum);
	if (p->algo == CONGEST_SWUCB) {
		ag->sw_arm = xmalloc((size_t)p->sw_window * sizeof *ag->sw_arm);
		ag->sw_reward = xmalloc((size_t)p->sw_window * sizeof *ag->sw_reward);
	}
	congest_model_init(&ag->plan_model, p->k, p->window, truth && p->algo == CONGEST_KNOWN ? truth->f : NULL);
	if (p->algo == CONGEST_KNOWN && agent_plan(ag) < 0) {
		congest_agent_release(ag);
		return -1;
	}
	ag->replan = p->algo == CONGEST_CARMAB;
	return 0;
}

void
congest_agent_release(struct congest_agent *ag)
{
	congest_hist_release(&ag->hist);
	free(ag->n);
	free(ag->mean);
	free(ag->n_epoch);
	free(ag->n_start);
	free(ag->arm_n);
	free(ag->arm_sum);
	free(ag->sw_arm);
	free(ag->sw_reward);
	congest_model_release(&ag->plan_model);
	congest_plan_release(&ag->plan);
	memset(ag, 0, sizeof *ag);
}

/* UCB1 and SW-UCB: the arm of the highest index; an arm without
 * feedback first. */
static int
ucb_pick(const struct congest_agent *ag)
{
	uint64_t t = ag->par.algo == CONGEST_SWUCB ? ag->sw_len : ag->feedbacks;
	double best = -INFINITY;
	int arm = 0;

	for (int a = 0; a < ag->par.k; a++) {
		double idx;

		if (ag->arm_n[a] == 0)
			return a;
		idx = ag->arm_sum[a] / (double)ag->arm_n[a] +
		    sqrt(2 * log((double)t) / (double)ag->arm_n[a]);
		if (idx > best) {
			best = idx;
			arm = a;
		}
	}
	return arm;
}

/* The arm ag picks at window h (its own, or the one its per-context
 * siblings share); h is not moved. */
static int
agent_pick(struct congest_agent *ag, const struct congest_hist *h)
{
	if (ag->replan && carmab_epoch(ag, h->t) < 0)
		return -1;
	switch (ag->par.algo) {
	case CONGEST_CARMAB:
	case CONGEST_KNOWN:
		if (ag->use_lookahead)
			return congest_lookahead(&ag->plan_model, h, ag->par.lookahead, NULL);
		if (h->t < (uint64_t)ag->par.window)
			return ag->plan.cycle[h->t % (uint64_t)ag->plan.cycle_len];
		return ag->plan.policy[h->code];
	default:
		return ucb_pick(ag);
	}
}

int
congest_decide(struct congest_agent *ag, int *congestion)
{
	int arm = agent_pick(ag, &ag->hist);

	if (arm < 0)
		return -1;
	if (congestion)
		*congestion = ag->hist.count[arm];
	congest_hist_push(&ag->hist, arm);
	return arm;
}

int
congest_feedback(struct congest_agent *ag, int arm, int congestion, double reward)
{
	size_t i;

	if (arm < 0 || arm >= ag->par.k)
		return loam_seterr("congest: arm %d is not in 0..%d", arm, ag->par.k - 1);
	if (congestion < 0 || congestion > ag->par.window)
		return loam_seterr("congest: congestion %d is not in 0..%d", congestion, ag->par.window);
	if (!isfinite(reward))
		return loam_seterr("congest: reward not finite");
	i = (size_t)arm * (size_t)(ag->par.window + 1) + (size_t)congestion;
	ag->n[i]++;
	ag->mean[i] += (reward - ag->mean[i]) / (double)ag->n[i];
	ag->n_epoch[i]++;
	if (ag->par.algo == CONGEST_CARMAB && ag->n_epoch[i] >= (ag->n_start[i] ? ag->n_start[i] : 1))
		ag->replan = 1;
	ag->feedbacks++;
	if (ag->par.algo == CONGEST_SWUCB) {
		uint64_t W = (uint64_t)ag->par.sw_window;

		if (ag->sw_len == W) {
			int old = ag->sw_arm[ag->sw_pos];

			ag->arm_n[old]--;
			ag->arm_sum[old] -= ag->sw_reward[ag->sw_pos];
		} else {
			ag->sw_len++;
		}
		ag->sw_arm[ag->sw_pos] = arm;
		ag->sw_reward[ag->sw_pos] = reward;
		ag->sw_pos = (ag->sw_pos + 1) % W;
	}
	ag->arm_n[arm]++;
	ag->arm_sum[arm] += reward;
	return 0;
}

int
congest_ctx_init(struct congest_ctx *cx, const struct congest_params *p, int nctx,
    const struct congest_model *truths)
{
	struct congest_params sub = *p;

	memset(cx, 0, sizeof *cx);
	if (nctx < 1)
		return loam_seterr("congest: %d contexts (need at least 1)", nctx);
	if (sub.algo == CONGEST_CARMAB_CTX)
		sub.algo = CONGEST_CARMAB;
	cx->sub = xcalloc((size_t)nctx, sizeof *cx->sub);
	for (int x = 0; x < nctx; x++) {
		if (congest_agent_init(&cx->sub[x], &sub, truths ? &truths[x] : NULL) < 0) {
			congest_ctx_release(cx);
			return -1;
		}
		cx->nctx = x + 1;
	}
	congest_hist_init(&cx->hist, p->k, p->window);
	return 0;
}

void
congest_ctx_release(struct congest_ctx *cx)
{
	for (int x = 0; x < cx->nctx; x++)
		congest_agent_release(&cx->sub[x]);
	free(cx->sub);
	if (cx->hist.count)
		congest_hist_release(&cx->hist);
	memset(cx, 0, sizeof *cx);
}

int
congest_ctx_decide(struct congest_ctx *cx, int x, int *congestion)
{
	int arm;

	if (x < 0 || x >= cx->nctx)
		return loam_seterr("congest: context %d is not in 0..%d", x, cx->nctx - 1);
	if ((arm = agent_pick(&cx->sub[x], &cx->hist)) < 0)
		return -1;
	if (congestion)
		*congestion = cx->hist.count[arm];
	congest_hist_push(&cx->hist, arm);
	return arm;
}

int
congest_ctx_feedback(struct congest_ctx *cx, int x, int arm, int congestion, double reward)
{
	if (x < 0 || x >= cx->nctx)
		return loam_seterr("congest: context %d is not in 0..%d", x, cx->nctx - 1);
	return congest_feedback(&cx->sub[x], arm, congestion, reward);
}

void
congest_agent_means(const struct congest_agent *ag, double *est)
{
	memcpy(est, ag->mean, (size_t)ag->par.k * (size_t)(ag->par.window + 1) * sizeof *est);
}

int
congest_carcb_init(struct congest_carcb *cb, const struct congest_params *par, int d,
    double lambda)
{
	memset(cb, 0, sizeof *cb);
	if (params_check(par, 1, 1, &cb->use_lookahead) < 0)
		return -1;
	if (d < 1)
		return loam_seterr("congest: %d features (need at least 1)", d);
	if (!(lambda > 0) || !isfinite(lambda))
		return loam_seterr("congest: ridge %g is not positive", lambda);
	cb->par = *par;
	cb->d = d;
	cb->lambda = lambda;
	congest_hist_init(&cb->hist, par->k, par->window);
	cb->vinv = xcalloc((size_t)d * (size_t)d, sizeof *cb->vinv);
	for (int i = 0; i < d; i++)
		cb->vinv[(size_t)i * (size_t)d + (size_t)i] = 1 / lambda;
	cb->b = xcalloc((size_t)d, sizeof *cb->b);
	cb->theta = xcalloc((size_t)d, sizeof *cb->theta);
	cb->tmp = xcalloc((size_t)d, sizeof *cb->tmp);
	congest_model_init(&cb->opt, par->k, par->window, NULL);
	return 0;
}

void
congest_carcb_release(struct congest_carcb *cb)
{
	congest_hist_release(&cb->hist);
	free(cb->vinv);
	free(cb->b);
	free(cb->theta);
	free(cb->tmp);
	congest_model_release(&cb->opt);
	congest_plan_release(&cb->plan);
	memset(cb, 0, sizeof *cb);
}

/* tmp = vinv x; returns x' vinv x. */
static double
carcb_quad(const struct congest_carcb *cb, const double *x)
{
	int d = cb->d;
	double q = 0;

	for (int i = 0; i < d; i++) {
		double s = 0;

		for (int j = 0; j < d; j++)
			s += cb->vinv[(size_t)i * (size_t)d + (size_t)j] * x[j];
		cb->tmp[i] = s;
		q += x[i] * s;
	}
	return q;
}

int
congest_carcb_decide(struct congest_carcb *cb, const double *phi, int *congestion)
{
	int d = cb->d, p = cb->par.window + 1, arm;
	size_t len = (size_t)cb->par.k * (size_t)p;
	double beta = sqrt(cb->lambda) + 0.5 * sqrt(2 * log(1 / cb->par.delta) +
	    d * log(1 + (double)cb->feedbacks / (cb->lambda * d)));

	for (size_t i = 0; i < len * (size_t)d; i++)
		if (!isfinite(phi[i]))
			return loam_seterr("congest: feature %zu of arm %zu, congestion %zu not finite",
			    i % (size_t)d, i / (size_t)d / (size_t)p, i / (size_t)d % (size_t)p);
	for (size_t i = 0; i < len; i++) {
		const double *x = phi + i * (size_t)d;
		double v = 0, q = carcb_quad(cb, x);

		for (int j = 0; j < d; j++)
			v += cb->theta[j] * x[j];
		v += beta * sqrt(q > 0 ? q : 0);
		cb->opt.f[i] = v < 1 ? v : 1;
	}
	if (cb->par.monotone)
		for (int a = 0; a < cb->par.k; a++)
			congest_pav_nonincreasing(cb->opt.f + (size_t)a * (size_t)p, NULL, p);
	if (cb->use_lookahead) {
		arm = congest_lookahead(&cb->opt, &cb->hist, cb->par.lookahead, NULL);
	} else {
		congest_plan_release(&cb->plan);
		if (congest_plan_solve(&cb->plan, &cb->opt, cb->par.max_states) < 0)
			return -1;
		arm = cb->plan.policy[cb->hist.code];
	}
	if (congestion)
		*congestion = cb->hist.count[arm];
	congest_hist_push(&cb->hist, arm);
	return arm;
}

int
congest_carcb_feedback(struct congest_carcb *cb, const double *phi, double reward)
{
	int d = cb->d;
	double q;

	if (!isfinite(reward))
		return loam_seterr("congest: reward not finite");
	for (int j = 0; j < d; j++)
		if (!isfinite(phi[j]))
			return loam_seterr("congest: feature %d not finite", j);
	/* Sherman-Morrison: V^-1 -= (V^-1 x)(V^-1 x)' / (1 + x' V^-1 x) */
	q = carcb_quad(cb, phi);
	for (int i = 0; i < d; i++)
		for (int j = 0; j < d; j++)
			cb->vinv[(size_t)i * (size_t)d + (size_t)j] -= cb->tmp[i] * cb->tmp[j] / (1 + q);
	for (int j = 0; j < d; j++)
		cb->b[j] += reward * phi[j];
	for (int i = 0; i < d; i++) {
		double s = 0;

		for (int j = 0; j < d; j++)
			s += cb->vinv[(size_t)i * (size_t)d + (size_t)j] * cb->b[j];
		cb->theta[i] = s;
	}
	cb->feedbacks++;
	return 0;
}
