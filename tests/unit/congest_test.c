/*
 * congest_test - lib/method/congest: Karp's maximum mean cycle against
 * brute force over every simple cycle of small random graphs; the exact
 * planner (policy iteration) against Karp and against enumeration of
 * periodic schedules; the notes' planner pitfall (K = 2, Δ = 6: 0.651
 * from a 9-cycle against 0.511 for the best (Δ+1)-periodic schedule);
 * the max-states guard; pool adjacent violators on hand examples; the
 * simulator; and the algorithms on the notes' two-route instance
 * (research/other-four.md §c.3): known's regret 0, ucb1's linear,
 * carmab's sublinear.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "congest.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

static struct rng test_rng;

static double
uniform(void)
{
	return rng_uniform(&test_rng);
}

static int
cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y) - (x > y);
}

/* ---- Karp against every simple cycle ---- */

struct graph {
	int n, m;
	uint32_t src[64], dst[64];
	double w[64];
};

/* The best mean of a simple cycle through start whose other nodes are
 * all greater than start: depth-first over paths. */
static void
cycles_from(const struct graph *g, int start, int v, int *on, double sum, int len, double *best)
{
	for (int e = 0; e < g->m; e++) {
		int u = (int)g->dst[e];

		if ((int)g->src[e] != v)
			continue;
		if (u == start) {
			double mean = (sum + g->w[e]) / (len + 1);

			if (mean > *best)
				*best = mean;
		} else if (u > start && !on[u]) {
			on[u] = 1;
			cycles_from(g, start, u, on, sum + g->w[e], len + 1, best);
			on[u] = 0;
		}
	}
}

static double
brute_mmc(const struct graph *g)
{
	double best = -INFINITY;
	int on[16] = { 0 };

	for (int s = 0; s < g->n; s++)
		cycles_from(g, s, s, on, 0, 0, &best);
	return best;
}

static void
test_karp(void)
{
	int agree = 0, cyclic = 0, trials = 200;
	struct graph g;
	double k;

	/* a hand case: a 2-cycle of mean 2.5 beats a self-loop of 2 */
	g.n = 3;
	g.m = 4;
	g.src[0] = 0, g.dst[0] = 1, g.w[0] = 1;
	g.src[1] = 1, g.dst[1] = 0, g.w[1] = 4;
	g.src[2] = 2, g.dst[2] = 2, g.w[2] = 2;
	g.src[3] = 1, g.dst[3] = 2, g.w[3] = 100;
	is_dbl(congest_mmc_karp(3, 4, g.src, g.dst, g.w), 2.5, 1e-12,
	    "karp: a 2-cycle of mean 2.5 beats a self-loop of 2 (and a heavy edge on no cycle)");
	g.m = 1;
	g.src[0] = 0, g.dst[0] = 1, g.w[0] = 1;
	ok(isnan(congest_mmc_karp(3, 1, g.src, g.dst, g.w)) &&
	    strcmp(loam_error(), "congest: the graph has no cycle") == 0,
	    "karp: an acyclic graph is NaN, 'the graph has no cycle'");

	for (int t = 0; t < trials; t++) {
		double b;

		g.n = 2 + (int)(uniform() * 6);
		g.m = 0;
		for (int u = 0; u < g.n; u++)
			for (int v = 0; v < g.n; v++)
				if (uniform() < 0.35 && g.m < 64) {
					g.src[g.m] = (uint32_t)u;
					g.dst[g.m] = (uint32_t)v;
					g.w[g.m] = uniform() * 2 - 0.5;
					g.m++;
				}
		b = brute_mmc(&g);
		k = congest_mmc_karp((size_t)g.n, (size_t)g.m, g.src, g.dst, g.w);
		if (b == -INFINITY) {
			agree += isnan(k);
			continue;
		}
		cyclic++;
		agree += fabs(k - b) <= 1e-9;
	}
	ok(agree == trials, "karp = brute force over all simple cycles on %d random graphs "
	    "(%d with a cycle): %d agree", trials, cyclic, agree);
}

/* ---- the exact planner ---- */

/* The best mean of a periodic schedule of period <= maxlen, by
 * enumerating every sequence: the brute force over cycles of the state
 * graph (a simple cycle of length L is a sequence of period L). */
static double
brute_schedules(const struct congest_model *m, int maxlen)
{
	int seq[24];
	double best = -INFINITY;

	for (int len = 1; len <= maxlen; len++) {
		uint64_t total = 1;

		for (int i = 0; i < len; i++)
			total *= (uint64_t)m->k;
		for (uint64_t x = 0; x < total; x++) {
			uint64_t y = x;
			double g;

			for (int i = 0; i < len; i++, y /= (uint64_t)m->k)
				seq[i] = (int)(y % (uint64_t)m->k);
			g = congest_cycle_gain(m, seq, len);
			if (g > best)
				best = g;
		}
	}
	return best;
}

static void
random_monotone(struct congest_model *m, int k, int window)
{
	double *f = xmalloc((size_t)k * (size_t)(window + 1) * sizeof *f);

	for (int i = 0; i < k * (window + 1); i++)
		f[i] = uniform();
	for (int a = 0; a < k; a++)
		qsort(f + a * (window + 1), (size_t)(window + 1), sizeof *f, cmp_desc);
	congest_model_init(m, k, window, f);
	free(f);
}

static void
test_pitfall(void)
{
	static const double f[] = {
		0.944, 0.871, 0.818, 0.376, 0.340, 0.326, 0.179,
		0.964, 0.938, 0.538, 0.277, 0.194, 0.165, 0.147,
	};
	static const int burst[] = { 0, 0, 0, 0, 0, 1, 1, 1, 1 };
	struct congest_model m;
	struct congest_plan p;
	int counts[2], arm0 = 0, runs = 0, sweeps;
	double per, karp, rvi;

	congest_model_init(&m, 2, 6, f);
	ok(congest_plan_solve(&p, &m, 1 << 20) == 0, "pitfall: K = 2, Δ = 6 solves");
	is_int((long long)p.nstates, 64, "pitfall: 2^6 states");
	is_dbl(p.gain, 5.861 / 9, 1e-12, "pitfall: g* = 5.861/9 = %.6f (the notes: 0.651)", p.gain);
	is_dbl(congest_cycle_gain(&m, burst, 9), 5.861 / 9, 1e-12,
	    "pitfall: the notes' 9-cycle 'arm 1 x5, arm 2 x4' attains it");
	is_int(p.cycle_len, 9, "pitfall: the planner's cycle has 9 steps");
	for (int i = 0; i < p.cycle_len; i++) {
		arm0 += p.cycle[i] == 0;
		runs += p.cycle[i] != p.cycle[(i + 1) % p.cycle_len];
	}
	ok(arm0 == 5 && runs == 2, "pitfall: the cycle is one burst of 5 of arm 1 and one of 4 of arm 2"
	    " (%d of arm 1, %d switches)", arm0, runs);
	is_dbl(congest_cycle_gain(&m, p.cycle, p.cycle_len), p.gain, 1e-12,
	    "pitfall: the planner's cycle, played over and over, pays g*");
	karp = congest_karp_gain(&m, 1 << 20);
	is_dbl(karp, p.gain, 1e-12, "pitfall: karp agrees (%.6f)", karp);
	sweeps = congest_rvi_gain(&m, 1 << 20, 1e-11, 1000000, &rvi);
	ok(sweeps > 0 && fabs(rvi - p.gain) <= 1e-10,
	    "pitfall: relative value iteration agrees (%.9f in %d sweeps)", rvi, sweeps);
	per = congest_periodic_gain(&m, counts);
	is_dbl(per, 0.511, 0.0005, "pitfall: the best (Δ+1)-periodic allocation pays %.4f "
	    "(the notes: 0.511) with counts %d, %d", per, counts[0], counts[1]);
	is_int(counts[0] + counts[1], 7, "pitfall: the periodic counts fill Δ + 1 = 7 plays");
	is_dbl(brute_schedules(&m, 12), p.gain, 1e-12,
	    "pitfall: no schedule of period <= 12 beats the planner");
	congest_plan_release(&p);
	congest_model_release(&m);
}

static void
test_random_plans(void)
{
	int trials = 100, karp_ok = 0, rvi_ok = 0, brute_ok = 0, bound_ok = 0, cycle_ok = 0,
	    exact = 0, periodic_worse = 0;
	double worst_gap = 0;

	for (int t = 0; t < trials; t++) {
		struct congest_model m;
		struct congest_plan p;
		int k = 2 + (t % 2), window = 1 + (int)(uniform() * (k == 2 ? 6 : 4));
		/* brute force is exhaustive over simple cycles when K^Δ <= 12 */
		uint64_t n = 1;
		int maxlen;
		double karp, brute, per, rvi;

		random_monotone(&m, k, window);
		for (int i = 0; i < window; i++)
			n *= (uint64_t)k;
		maxlen = n <= 12 ? (int)n : k == 2 ? 14 : 9;
		if (congest_plan_solve(&p, &m, 1 << 20) < 0) {
			congest_model_release(&m);
			continue;
		}
		karp = congest_karp_gain(&m, 1 << 20);
		brute = brute_schedules(&m, maxlen);
		per = congest_periodic_gain(&m, NULL);
		karp_ok += fabs(karp - p.gain) <= 1e-9;
		rvi_ok += congest_rvi_gain(&m, 1 << 20, 1e-11, 1000000, &rvi) > 0 &&
		    fabs(rvi - p.gain) <= 1e-9;
		cycle_ok += fabs(congest_cycle_gain(&m, p.cycle, p.cycle_len) - p.gain) <= 1e-9;
		bound_ok += brute <= p.gain + 1e-9 && per <= p.gain + 1e-9;
		if (n <= 12 || p.cycle_len <= maxlen) {
			exact++;
			brute_ok += fabs(brute - p.gain) <= 1e-9;
		}
		if (per < p.gain - 1e-9) {
			periodic_worse++;
			if (p.gain - per > worst_gap)
				worst_gap = p.gain - per;
		}
		congest_plan_release(&p);
		congest_model_release(&m);
	}
	is_int(karp_ok, trials, "random plans: policy iteration = karp to 1e-9 on %d monotone "
	    "instances (K in {2, 3}, Δ <= 6)", trials);
	is_int(rvi_ok, trials, "random plans: relative value iteration (aperiodic) = policy iteration "
	    "to 1e-9");
	is_int(cycle_ok, trials, "random plans: each planned cycle pays the planned gain");
	is_int(bound_ok, trials, "random plans: no enumerated schedule and no periodic allocation "
	    "beats the planner");
	is_int(brute_ok, exact, "random plans: = brute force over cycles where that is exhaustive "
	    "or reaches the planner's cycle length (%d instances)", exact);
	ok(periodic_worse > 0, "random plans: (Δ+1)-periodic allocations fall short in %d of %d "
	    "(the notes: 135 of 300), by up to %.3f", periodic_worse, trials, worst_gap);
}

/* Profiles of two or four levels make many cycles of equal gain, where
 * policy iteration can circle if the bias is normalised carelessly. */
static void
test_tied_plans(void)
{
	int trials = 300, agree = 0, settled = 0;

	for (int t = 0; t < trials; t++) {
		int k = 2 + t % 3, window = 1 + (int)(uniform() * (k == 2 ? 8 : k == 3 ? 5 : 4));
		int levels = t % 2 ? 2 : 4;
		double f[64];
		struct congest_model m;
		struct congest_plan p;

		for (int i = 0; i < k * (window + 1); i++)
			f[i] = floor(uniform() * levels) / (levels - 1);
		congest_model_init(&m, k, window, f);
		if (congest_plan_solve(&p, &m, 1 << 20) == 0) {
			settled++;
			agree += fabs(p.gain - congest_karp_gain(&m, 1 << 20)) <= 1e-9 &&
			    fabs(congest_cycle_gain(&m, p.cycle, p.cycle_len) - p.gain) <= 1e-9;
		}
		congest_plan_release(&p);
		congest_model_release(&m);
	}
	is_int(settled, trials, "tied plans: policy iteration settles on %d profiles of 2 or 4 levels "
	    "(K in 2..4, K^Δ <= 256)", trials);
	is_int(agree, trials, "tied plans: = karp, and the cycle pays it");
}

static void
test_guard(void)
{
	struct congest_model m;
	struct congest_plan p;
	struct congest_params par;
	struct congest_agent ag;
	uint64_t n;

	random_monotone(&m, 4, 10);
	ok(congest_plan_solve(&p, &m, 1000) < 0 &&
	    strcmp(loam_error(), "congest: K^Δ = 4^10 states exceed max-states 1000") == 0,
	    "guard: 4^10 states over max-states 1000 refused: '%s'", loam_error());
	ok(isnan(congest_karp_gain(&m, 1000)), "guard: karp refuses them too");
	ok(congest_states(4, 10, UINT64_C(1) << 20, &n) == 0 && n == UINT64_C(1) << 20,
	    "guard: 4^10 = 2^20 states within 2^20");
	ok(congest_states(10, 40, UINT64_MAX, &n) < 0, "guard: 10^40 states overflow, refused");
	congest_params_default(&par);
	par.k = 4;
	par.window = 10;
	par.max_states = 1000;
	ok(congest_agent_init(&ag, &par, NULL) < 0, "guard: carmab without lookahead refused");
	par.lookahead = 3;
	ok(congest_agent_init(&ag, &par, NULL) == 0 && ag.use_lookahead,
	    "guard: with lookahead 3 it plans by lookahead");
	congest_agent_release(&ag);
	congest_plan_release(&p);
	congest_model_release(&m);
}

static void
test_large_plan(void)
{
	struct congest_model m;
	struct congest_plan p;
	double karp;
	int rc;

	/* 2^10 states: Karp is still quick enough to check */
	random_monotone(&m, 2, 10);
	rc = congest_plan_solve(&p, &m, 1 << 20);
	ok(rc == 0, "2^10 states: solved in %d sweeps", p.sweeps);
	karp = congest_karp_gain(&m, 1 << 20);
	is_dbl(p.gain, karp, 1e-9, "2^10 states: policy iteration %.9f = karp %.9f", p.gain, karp);
	congest_plan_release(&p);
	congest_model_release(&m);
	random_monotone(&m, 4, 8);
	rc = congest_plan_solve(&p, &m, 1 << 20);
	ok(rc == 0 &&
	    fabs(congest_cycle_gain(&m, p.cycle, p.cycle_len) - p.gain) <= 1e-9,
	    "4^8 = 65536 states: solved in %d sweeps, cycle of %d pays g* = %.6f",
	    p.sweeps, p.cycle_len, p.gain);
	congest_plan_release(&p);
	congest_model_release(&m);
}

/* ---- pool adjacent violators ---- */

static void
test_pav(void)
{
	double a[] = { 1, 3, 2, 0 };
	double b[] = { 0.2, 0.8, 0.5 }, bw[] = { 1, 3, 1 };
	double c[] = { 3, 1, 2, 4 };
	double d[] = { 5, 4, 4, 1 };

	congest_pav_nonincreasing(a, NULL, 4);
	ok(a[0] == 2 && a[1] == 2 && a[2] == 2 && a[3] == 0,
	    "pav: (1, 3, 2, 0) -> (2, 2, 2, 0): %g %g %g %g", a[0], a[1], a[2], a[3]);
	congest_pav_nonincreasing(b, bw, 3);
	ok(fabs(b[0] - 0.65) < 1e-15 && fabs(b[1] - 0.65) < 1e-15 && b[2] == 0.5,
	    "pav: (0.2, 0.8, 0.5) weighted (1, 3, 1) -> (0.65, 0.65, 0.5)");
	congest_pav_nonincreasing(c, NULL, 4);
	ok(c[0] == 3 && fabs(c[1] - 7.0 / 3) < 1e-15 && fabs(c[3] - 7.0 / 3) < 1e-15,
	    "pav: (3, 1, 2, 4) -> (3, 7/3, 7/3, 7/3), a pooled block pooled again");
	congest_pav_nonincreasing(d, NULL, 4);
	ok(d[0] == 5 && d[1] == 4 && d[2] == 4 && d[3] == 1, "pav: a non-increasing sequence is kept");
}

/* ---- the simulator and the algorithms ---- */

static const double two_routes[] = { 1.0, 0.6, 0.2, 0.0, 0.5, 0.5, 0.5, 0.5 };

static void
test_sim(void)
{
	struct congest_model m;
	struct congest_sim s;
	struct rng r;
	static const int plays[] = { 0, 0, 1, 0, 0, 1, 1, 1, 0 };
	static const int want_c[] = { 0, 1, 0, 2, 2, 1, 1, 2, 0 };
	int good = 1, c;
	double mean, x, sum = 0, sq = 0;

	congest_model_init(&m, 2, 3, two_routes);
	rng_init(&r, 1, RNG_CONGEST_NOISE, 0);
	congest_sim_init(&s, &m, 0, &r);
	for (int i = 0; i < 9; i++) {
		x = congest_sim_play(&s, plays[i], &c, &mean);
		good &= c == want_c[i] && x == mean && mean == congest_f(&m, plays[i], c);
	}
	ok(good, "sim: congestion counts the last Δ = 3 plays; noiseless at σ = 0");
	congest_sim_release(&s);
	congest_sim_init(&s, &m, 0.1, &r);
	for (int i = 0; i < 20000; i++) {
		x = congest_sim_play(&s, 1, NULL, &mean) - mean;
		sum += x;
		sq += x * x;
	}
	ok(fabs(sum / 20000) < 0.003 && fabs(sqrt(sq / 20000) - 0.1) < 0.003,
	    "sim: noise of mean %.4f and sd %.4f (σ = 0.1)", sum / 20000, sqrt(sq / 20000));
	congest_sim_release(&s);
	congest_model_release(&m);
}

/* Run algo on the two-route instance for T steps; the policy regret. */
static double
run(enum congest_algo algo, uint64_t T, uint64_t seed, int monotone, int lookahead, uint64_t *epochs)
{
	struct congest_model m;
	struct congest_params par;
	struct congest_agent ag;
	struct congest_sim s;
	struct rng r;
	double total = 0, mean, reward, gain;
	int c;

	congest_model_init(&m, 2, 3, two_routes);
	congest_params_default(&par);
	par.algo = algo;
	par.k = 2;
	par.window = 3;
	par.horizon = T;
	par.monotone = monotone;
	if (lookahead) {
		par.lookahead = lookahead;
		par.max_states = 4;
	}
	if (congest_agent_init(&ag, &par, &m) < 0) {
		congest_model_release(&m);
		return NAN;
	}
	rng_init(&r, seed, RNG_CONGEST_NOISE, 0);
	congest_sim_init(&s, &m, 0.1, &r);
	for (uint64_t t = 0; t < T; t++) {
		int arm = congest_decide(&ag, &c), sc;

		reward = congest_sim_play(&s, arm, &sc, &mean);
		if (sc != c)
			fprintf(stderr, "congestion disagrees\n");
		congest_feedback(&ag, arm, c, reward);
		total += mean;
	}
	if (epochs)
		*epochs = ag.epochs;
	gain = 0.625;
	congest_sim_release(&s);
	congest_agent_release(&ag);
	congest_model_release(&m);
	return (double)T * gain - total;
}

static void
test_algorithms(void)
{
	static const uint64_t Ts[] = { 1000, 4000, 16000, 64000 };
	double reg[3][4], known = 0;
	uint64_t epochs = 0;
	const char *names[] = { "known", "ucb1", "carmab" };
	enum congest_algo algos[] = { CONGEST_KNOWN, CONGEST_UCB1, CONGEST_CARMAB };
	struct congest_model m;
	struct congest_plan p;
	double mono, sw;

	congest_model_init(&m, 2, 3, two_routes);
	congest_plan_solve(&p, &m, 1 << 20);
	is_dbl(p.gain, 0.625, 1e-12, "two routes: g* = 0.625 (the notes)");
	ok(p.cycle_len == 4 && p.cycle[0] + p.cycle[1] + p.cycle[2] + p.cycle[3] == 3,
	    "two routes: from route 1 once every 4 steps");
	congest_plan_release(&p);
	congest_model_release(&m);

	diag("two routes, σ = 0.1, mean regret of 3 seeds (the notes: ucb1 136 547 2122 8213,"
	    " carmab 84 215 454 943):");
	for (int a = 0; a < 3; a++) {
		for (int i = 0; i < 4; i++) {
			reg[a][i] = 0;
			for (uint64_t seed = 1; seed <= 3; seed++)
				reg[a][i] += run(algos[a], Ts[i], seed, 0, 0, a == 2 && i == 3 ? &epochs : NULL) / 3;
		}
		diag("  %-7s T = 1k %8.1f  4k %8.1f  16k %8.1f  64k %8.1f", names[a],
		    reg[a][0], reg[a][1], reg[a][2], reg[a][3]);
	}
	for (int i = 0; i < 4; i++)
		known = fmax(known, fabs(reg[0][i]));
	ok(known < 1e-9, "known: regret 0 at every horizon");
	ok(reg[1][3] / 64000 > 0.1 && reg[1][3] / 64000 < 0.16 && reg[1][3] / reg[1][2] > 3.5,
	    "ucb1: linear regret, %.3f T at 64k (the notes: 0.128 T), x%.2f per x4 in T",
	    reg[1][3] / 64000, reg[1][3] / reg[1][2]);
	ok(reg[2][3] / 64000 < reg[2][1] / 4000 && reg[2][2] / 16000 < reg[2][0] / 1000,
	    "carmab: regret/T falls as T grows (%.4f at 4k, %.4f at 64k)",
	    reg[2][1] / 4000, reg[2][3] / 64000);
	ok(reg[2][3] / reg[2][2] < 3, "carmab: x%.2f per x4 in T from 16k to 64k (sublinear; √T is x2)",
	    reg[2][3] / reg[2][2]);
	ok(epochs > 0 && epochs < 200, "carmab: %llu epochs in 64k steps (K(Δ+1) log T scale)",
	    (unsigned long long)epochs);
	ok(run(CONGEST_CARMAB, 16000, 7, 0, 0, NULL) == run(CONGEST_CARMAB, 16000, 7, 0, 0, NULL),
	    "carmab: deterministic for a seed");
	mono = run(CONGEST_CARMAB, 16000, 1, 1, 0, NULL);
	ok(mono < 16000 * 0.05, "carmab --monotone: regret %.1f at 16k", mono);
	sw = run(CONGEST_SWUCB, 16000, 1, 0, 0, NULL);
	ok(sw > 16000 * 0.05, "swucb: congestion-unaware, linear too (%.1f at 16k)", sw);
	sw = run(CONGEST_CARMAB, 16000, 1, 0, 4, NULL);
	ok(sw < 16000 * 0.05, "carmab with lookahead 4 (K^Δ over max-states): regret %.1f at 16k", sw);
	ok(fabs(run(CONGEST_KNOWN, 4000, 1, 0, 4, NULL)) < 4000 * 0.01,
	    "known with lookahead 4 (K^Δ over max-states): regret %.1f at 4k",
	    run(CONGEST_KNOWN, 4000, 1, 0, 4, NULL));
}

/* A contextual instance: each step a context x of n, uniformly, at the
 * point z = x / (n - 1) in [0, 1]; arm 0 pays 0.3 + 0.5 (1 - z) - 0.1 c
 * and arm 1 0.3 + 0.5 z - 0.1 c.  Features (a == 0, a == 1, z_a, c)
 * with z_0 = 1 - z, z_1 = z make it linear with theta = (0.3, 0.3,
 * 0.5, -0.1).  With n = 2, arm x pays 0.5 more. */
static const double ctx_theta[] = { 0.3, 0.3, 0.5, -0.1 };

static void
ctx_features(int x, int n, double *phi)
{
	double z = (double)x / (n - 1);

	for (int a = 0; a < 2; a++)
		for (int c = 0; c <= 3; c++) {
			double *f = phi + (a * 4 + c) * 4;

			f[0] = a == 0;
			f[1] = a == 1;
			f[2] = a == 0 ? 1 - z : z;
			f[3] = c;
		}
}

static double
ctx_mean(const double *f)
{
	double v = 0;

	for (int j = 0; j < 4; j++)
		v += ctx_theta[j] * f[j];
	return v;
}

/* Mean noiseless reward per step over T steps of n contexts: 0 carcb,
 * 1 context-blind carmab, 2 the per-step planner on the true profile of
 * the context, 3 carcb planning by lookahead of depth 4, 4 carmab-ctx,
 * 5 known per context (congest_ctx, the same oracle as 2). */
static double
ctx_run(int who, int n, uint64_t T, uint64_t seed, double *theta)
{
	struct congest_params par;
	struct congest_carcb cb;
	struct congest_agent ag;
	struct congest_ctx cx;
	struct congest_model *truths = NULL;
	struct congest_hist h;
	struct congest_model truth;
	struct rng ctx, noise;
	double phi[32], total = 0;

	congest_params_default(&par);
	par.k = 2;
	par.window = 3;
	par.horizon = T;
	rng_init(&ctx, seed, RNG_CONGEST_CONTEXT, 0);
	rng_init(&noise, seed, RNG_CONGEST_NOISE, 0);
	congest_hist_init(&h, 2, 3);
	congest_model_init(&truth, 2, 3, NULL);
	if (who == 3) {
		par.max_states = 4;
		par.lookahead = 4;
	}
	if (who == 0 || who == 3)
		congest_carcb_init(&cb, &par, 4, 1.0);
	else if (who == 1)
		congest_agent_init(&ag, &par, NULL);
	if (who == 5) {
		par.algo = CONGEST_KNOWN;
		truths = calloc((size_t)n, sizeof *truths);
		for (int x = 0; x < n; x++) {
			congest_model_init(&truths[x], 2, 3, NULL);
			ctx_features(x, n, phi);
			for (int i = 0; i < 8; i++)
				truths[x].f[i] = ctx_mean(phi + i * 4);
		}
	}
	if (who == 4)
		par.algo = CONGEST_CARMAB_CTX;
	if (who == 4 || who == 5)
		congest_ctx_init(&cx, &par, n, truths);
	for (uint64_t t = 0; t < T; t++) {
		int x = (int)rng_uniform_int(&ctx, (uint64_t)n), arm, c;
		double mean, r;

		ctx_features(x, n, phi);
		if (who == 0 || who == 3) {
			arm = congest_carcb_decide(&cb, phi, &c);
		} else if (who == 1) {
			arm = congest_decide(&ag, &c);
		} else if (who >= 4) {
			arm = congest_ctx_decide(&cx, x, &c);
		} else {
			struct congest_plan p;

			for (int i = 0; i < 8; i++)
				truth.f[i] = ctx_mean(phi + i * 4);
			congest_plan_solve(&p, &truth, 1 << 20);
			arm = p.policy[h.code];
			congest_plan_release(&p);
		}
		c = h.count[arm];
		congest_hist_push(&h, arm);
		mean = ctx_mean(phi + (arm * 4 + c) * 4);
		r = mean + 0.1 * rng_normal(&noise);
		total += mean;
		if (who == 0 || who == 3)
			congest_carcb_feedback(&cb, phi + (arm * 4 + c) * 4, r);
		else if (who == 1)
			congest_feedback(&ag, arm, c, r);
		else if (who >= 4)
			congest_ctx_feedback(&cx, x, arm, c, r);
	}
	if (who == 0 || who == 3) {
		if (theta)
			memcpy(theta, cb.theta, 4 * sizeof *theta);
		congest_carcb_release(&cb);
	} else if (who == 1) {
		congest_agent_release(&ag);
	} else if (who >= 4) {
		congest_ctx_release(&cx);
	}
	for (int x = 0; truths && x < n; x++)
		congest_model_release(&truths[x]);
	free(truths);
	congest_hist_release(&h);
	congest_model_release(&truth);
	return total / (double)T;
}

static void
test_carcb(void)
{
	double theta[4], err = 0, cb = 0, blind = 0, oracle = 0, la;
	struct congest_params par;
	struct congest_carcb c;

	for (uint64_t seed = 1; seed <= 3; seed++) {
		cb += ctx_run(0, 2, 20000, seed, theta) / 3;
		blind += ctx_run(1, 2, 20000, seed, NULL) / 3;
		oracle += ctx_run(2, 2, 20000, seed, NULL) / 3;
	}
	for (int j = 0; j < 4; j++)
		err = fmax(err, fabs(theta[j] - ctx_theta[j]));
	diag("contextual, 20k steps, 3 seeds: mean reward carcb %.4f, context-blind carmab %.4f,"
	    " per-step oracle %.4f", cb, blind, oracle);
	ok(cb > blind + 0.1, "carcb: %.4f per step beats context-blind carmab's %.4f", cb, blind);
	ok(cb > oracle - 0.01, "carcb: within 0.01 of the per-step oracle (%.4f)", oracle);
	ok(err < 0.03, "carcb: theta within %.4f of the truth (%.3f %.3f %.3f %.3f)", err,
	    theta[0], theta[1], theta[2], theta[3]);
	la = ctx_run(3, 2, 20000, 1, NULL);
	ok(la > oracle - 0.03, "carcb with lookahead 4 (K^Δ over max-states): %.4f per step", la);
	congest_params_default(&par);
	par.k = 2;
	par.window = 3;
	ok(congest_carcb_init(&c, &par, 0, 1) < 0 &&
	    strcmp(loam_error(), "congest: 0 features (need at least 1)") == 0,
	    "carcb: no features refused");
}

/* carcb against carmab run per context (carmab-ctx), on 20 contexts
 * whose profiles are linear in the point z: per-context carmab learns
 * 20 tables of 8 values from a twentieth of the steps each, carcb 4
 * parameters from all of them. */
static void
test_carmab_ctx(void)
{
	double cb[2] = { 0 }, per[2] = { 0 }, oracle[2] = { 0 };
	const uint64_t T[2] = { 2000, 16000 };
	struct congest_params par;
	struct congest_ctx cx;

	for (int i = 0; i < 2; i++)
		for (uint64_t seed = 1; seed <= 3; seed++) {
			cb[i] += ctx_run(0, 20, T[i], seed, NULL) / 3;
			per[i] += ctx_run(4, 20, T[i], seed, NULL) / 3;
			oracle[i] += ctx_run(2, 20, T[i], seed, NULL) / 3;
		}
	diag("20 contexts, 3 seeds: mean reward at T = 2k / 16k: carcb %.4f / %.4f, carmab-ctx"
	    " %.4f / %.4f, oracle %.4f / %.4f", cb[0], cb[1], per[0], per[1], oracle[0], oracle[1]);
	for (int i = 0; i < 2; i++)
		ok(cb[i] > per[i] + 0.02, "carcb beats carmab per context at T = %llu: %.4f vs %.4f",
		    (unsigned long long)T[i], cb[i], per[i]);
	ok(oracle[1] - per[1] < oracle[0] - per[0], "carmab-ctx: its gap to the oracle narrows with T");
	ok(ctx_run(5, 20, 2000, 1, NULL) == ctx_run(2, 20, 2000, 1, NULL),
	    "known per context on the shared window plays the per-step oracle exactly");
	congest_params_default(&par);
	par.k = 2;
	par.window = 3;
	ok(congest_ctx_init(&cx, &par, 0, NULL) < 0 &&
	    strcmp(loam_error(), "congest: 0 contexts (need at least 1)") == 0, "ctx: no contexts refused");
	congest_ctx_init(&cx, &par, 2, NULL);
	ok(congest_ctx_decide(&cx, 2, NULL) < 0 &&
	    strcmp(loam_error(), "congest: context 2 is not in 0..1") == 0, "ctx: unknown context refused");
	congest_ctx_release(&cx);
}

static void
test_feedback_errors(void)
{
	struct congest_params par;
	struct congest_agent ag;

	congest_params_default(&par);
	par.k = 2;
	par.window = 3;
	congest_agent_init(&ag, &par, NULL);
	ok(congest_feedback(&ag, 2, 0, 0.5) < 0 && strcmp(loam_error(), "congest: arm 2 is not in 0..1") == 0,
	    "feedback: unknown arm refused");
	ok(congest_feedback(&ag, 0, 4, 0.5) < 0 &&
	    strcmp(loam_error(), "congest: congestion 4 is not in 0..3") == 0,
	    "feedback: congestion over Δ refused");
	ok(congest_feedback(&ag, 0, 0, NAN) < 0 && strcmp(loam_error(), "congest: reward not finite") == 0,
	    "feedback: non-finite reward refused");
	is_int(congest_algo_parse("sw-ucb"), CONGEST_SWUCB, "algo: sw-ucb is swucb");
	is_int(congest_algo_parse("ucb"), -1, "algo: ucb is unknown");
	congest_agent_release(&ag);
	par.algo = CONGEST_CARCB;
	ok(congest_agent_init(&ag, &par, NULL) < 0, "algo: carcb is not a congest_agent");
}

int
main(void)
{
	rng_init(&test_rng, 20260512, 0, 0);
	test_karp();
	test_pitfall();
	test_random_plans();
	test_tied_plans();
	test_guard();
	test_large_plan();
	test_pav();
	test_sim();
	test_algorithms();
	test_carcb();
	test_carmab_ctx();
	test_feedback_errors();
	return tap_done();
}
