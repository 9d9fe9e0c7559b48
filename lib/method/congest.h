/*
 * congest - Congested Bandits (after Awasthi, Bhatia, Gollapudi and
 * Kollias, ICML 2022): K arms whose reward depends on how often each was
 * played in the last Δ steps, the exact planner, a lookahead planner,
 * the simulator, and online algorithms a command calls once per step.
 *
 * The model.  Playing arm a when it was played c times in the last Δ
 * steps (0 <= c <= Δ) pays f_a(c) plus noise; an arm unplayed for Δ
 * steps is back to f_a(0).  The state is the last Δ actions, coded in
 * base K with the oldest action as the most significant digit, so the
 * problem is a deterministic MDP on K^Δ states: action a moves state s
 * to (s * K + a) mod K^Δ and pays f_a(number of a's digits in s).  Its
 * optimal long-run average reward g* is the maximum mean cycle of that
 * graph, and policy regret after T steps is T g* minus the noiseless
 * rewards f of the arms played.
 *
 * Planners.  congest_plan_solve() is exact: Howard's policy iteration
 * for the maximum mean cycle (finite, and a few sweeps of K^Δ states in
 * practice), giving g*, a policy for every state and an optimal cycle.
 * congest_karp_gain() is Karp's algorithm (1978), exact too but
 * O(K^(2Δ+1)) time, kept as the independent check of the first, and so
 * is congest_rvi_gain(), relative value iteration.  All refuse more than
 * max_states states.  Restricting the search to
 * (Δ+1)-periodic schedules (congest_periodic_gain) is NOT optimal:
 * bursts that let an arm reset beat it (the notes' K = 2, Δ = 6
 * instance: 0.511 against 0.651 from a 9-cycle).  Beyond max_states,
 * congest_lookahead() plans by exhaustive search of depth H from the
 * current window: a heuristic, and labelled so by the caller.
 *
 * Algorithms (struct congest_agent; congest_decide() then, any time
 * later, congest_feedback() with the congestion decide reported):
 *  - carmab: our reconstruction of CARMAB, fitted to the paper's bound,
 *    not read from it.  Counts N and means of the K(Δ+1) pairs (a, c);
 *    optimistic values min(1, mean + sqrt(2 log(2 K (Δ+1) T / δ) / N)),
 *    1 when unseen (T: the horizon, or the step count when none is
 *    given); epochs restart (UCRL2's doubling) when some pair's count in
 *    the epoch reaches its count at the epoch's start; each epoch plays
 *    the plan of the optimistic profile.  With monotone, the optimistic
 *    profile of each arm is projected onto non-increasing sequences
 *    (pool adjacent violators, weights N + 1): valid only when congestion
 *    can only hurt.
 *  - known: the oracle; plans once on the true profile.
 *  - ucb1: congestion-unaware UCB1 (Auer et al. 2002) on each arm's mean.
 *  - swucb: sliding-window UCB (Garivier and Moulines 2011) over the last
 *    sw_window feedbacks.
 *  - carcb (struct congest_carcb, below): linear contextual, our
 *    construction.
 *  - carmab-ctx (struct congest_ctx, below): carmab per discrete
 *    context on a shared window, the baseline carcb is measured against.
 * While fewer than Δ actions have been played, the planned algorithms
 * play their cycle from its start (the empty window is the least
 * congested), then their policy at the actual state.
 *
 * Library conventions: errors return -1 (or NaN) with loam_seterr();
 * out of memory ends the program.  Everything is deterministic: the
 * simulator draws its noise from the generator it is given, and ties go
 * to the lowest arm.
 */
#ifndef LOAM_CONGEST_H
#define LOAM_CONGEST_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

struct congest_model {
	int k;			/* arms, >= 1 */
	int window;		/* Δ, >= 0 */
	double *f;		/* k * (window + 1): f[a * (window + 1) + c] */
};

/* A model of k arms and window Δ, f copied (zeros when f is NULL).
 * -1 when k < 1 or window < 0 or a value is not finite. */
int congest_model_init(struct congest_model *m, int k, int window, const double *f);
void congest_model_release(struct congest_model *m);

static inline double
congest_f(const struct congest_model *m, int a, int c)
{
	return m->f[(size_t)a * (size_t)(m->window + 1) + (size_t)c];
}

/* K^Δ in *n, or -1 ("K^Δ states exceed max_states N") when it is larger
 * than max_states. */
int congest_states(int k, int window, uint64_t max_states, uint64_t *n);

/* Mean reward per step of playing cycle[0..len-1] over and over, in the
 * steady state (each play's window wraps around the cycle). */
double congest_cycle_gain(const struct congest_model *m, const int *cycle, int len);

/* The best (Δ+1)-periodic allocation: max over counts c_a summing to
 * Δ+1 of sum_a c_a f_a(c_a - 1) / (Δ+1), by dynamic programming; the
 * counts in counts[k] when not NULL.  Not the optimum in general: kept
 * to show the difference. */
double congest_periodic_gain(const struct congest_model *m, int *counts);

/* The exact plan. */
struct congest_plan {
	double gain;		/* g* */
	uint64_t nstates;	/* K^Δ */
	int *policy;		/* nstates: the action in each state */
	int *cycle;		/* an optimal cycle of actions, from its
				   least state */
	int cycle_len;
	int sweeps;		/* policy iterations */
};

/* Solve m by Howard's policy iteration.  -1 when K^Δ > max_states or the
 * iteration fails to settle (it should not); p is then empty and
 * congest_plan_release() is still safe. */
int congest_plan_solve(struct congest_plan *p, const struct congest_model *m, uint64_t max_states);
void congest_plan_release(struct congest_plan *p);

/* Karp's maximum mean cycle of a graph of n nodes and m edges
 * src[e] -> dst[e] of weight w[e] (any graph: every node is a source);
 * NaN with an error when it has no cycle.  O(n m) time, O(n) memory. */
double congest_mmc_karp(size_t n, size_t m, const uint32_t *src, const uint32_t *dst, const double *w);
/* g* of m by Karp on its K^Δ-state graph; NaN when K^Δ > max_states. */
double congest_karp_gain(const struct congest_model *m, uint64_t max_states);

/* g* of m by relative value iteration with the aperiodicity transform
 * h <- h/2 + Th/2 (plain iteration oscillates on these periodic graphs),
 * until the span bounds on g* are within tol; the sweeps taken, or -1
 * when K^Δ > max_states or max_sweeps pass first. */
int congest_rvi_gain(const struct congest_model *m, uint64_t max_states, double tol, long max_sweeps,
    double *gain);

/* The window: the last Δ actions in a ring, the count of each arm in it,
 * and the state code (while K^Δ fits in 64 bits; code is meaningful for
 * a planner only once t >= Δ). */
struct congest_hist {
	int k, window;
	int *ring;		/* window actions, -1 while empty */
	int pos;		/* the oldest slot */
	int *count;		/* k */
	uint64_t t;		/* actions pushed */
	uint64_t code;
	uint64_t nstates;	/* K^Δ, or 0 when it overflows */
};

void congest_hist_init(struct congest_hist *h, int k, int window);
void congest_hist_release(struct congest_hist *h);
void congest_hist_push(struct congest_hist *h, int a);
/* The i-th oldest action of the window (i < Δ), -1 while empty. */
int congest_hist_at(const struct congest_hist *h, int i);

/* The first action of a best sequence of depth actions from window h on
 * profile m, and that sequence's total in *value (when not NULL).
 * Exhaustive: K^depth sequences.  depth >= 1. */
int congest_lookahead(const struct congest_model *m, const struct congest_hist *h, int depth, double *value);

/* Project y[0..n-1] onto non-increasing sequences in the least-squares
 * norm weighted by w (pool adjacent violators), in place.  w == NULL
 * means unit weights; weights must be positive. */
void congest_pav_nonincreasing(double *y, const double *w, int n);

/* The simulator: the true profile, its own window, and noise sigma drawn
 * from a copy of the generator given (RNG_CONGEST_NOISE). */
struct congest_sim {
	const struct congest_model *truth;	/* borrowed */
	struct congest_hist hist;
	struct rng rng;
	double sigma;
};

void congest_sim_init(struct congest_sim *s, const struct congest_model *truth, double sigma,
    const struct rng *rng);
void congest_sim_release(struct congest_sim *s);
/* Play arm a: the noisy reward; its congestion and noiseless reward in
 * *congestion and *mean when not NULL. */
double congest_sim_play(struct congest_sim *s, int a, int *congestion, double *mean);

enum congest_algo {
	CONGEST_CARMAB,
	CONGEST_KNOWN,
	CONGEST_UCB1,
	CONGEST_SWUCB,
	CONGEST_CARCB,		/* struct congest_carcb, not congest_agent */
	CONGEST_CARMAB_CTX,	/* struct congest_ctx of carmab agents */
};

/* "carmab", "known", "ucb1", "swucb" (also "sw-ucb"), "carcb",
 * "carmab-ctx"; -1 when unknown. */
int congest_algo_parse(const char *name);
const char *congest_algo_name(enum congest_algo a);

struct congest_params {
	enum congest_algo algo;
	int k, window;
	double delta;		/* confidence, in (0, 1); carmab */
	uint64_t horizon;	/* T in the confidence radius; 0: the step count */
	int monotone;		/* PAV on the optimistic profile */
	uint64_t max_states;	/* above: lookahead, or an error without it */
	int lookahead;		/* depth H; 0: the exact planner only */
	int sw_window;		/* swucb's window, >= 1 */
};

/* Defaults: carmab, δ = 0.05, no horizon, max_states 2^20, no lookahead,
 * sw_window 1000; k and window are the caller's. */
void congest_params_default(struct congest_params *p);

struct congest_agent {
	struct congest_params par;
	struct congest_hist hist;
	/* carmab statistics, k * (window + 1) each */
	uint64_t *n;		/* observations of (a, c) */
	double *mean;
	uint64_t *n_epoch;	/* observations in this epoch */
	uint64_t *n_start;	/* n at the epoch's start */
	int replan;		/* an epoch ends before the next decision */
	uint64_t epochs;
	struct congest_model plan_model;	/* known's truth, or carmab's
						   optimistic profile */
	struct congest_plan plan;
	int use_lookahead;	/* K^Δ > max_states: plan by lookahead */
	/* ucb1 and swucb */
	uint64_t *arm_n;	/* k: feedbacks per arm (in the window) */
	double *arm_sum;	/* k */
	uint64_t feedbacks;
	int *sw_arm;		/* sw_window ring of (arm, reward) */
	double *sw_reward;
	uint64_t sw_len, sw_pos;
};

/* -1 when a parameter is out of range, the algorithm is carcb or
 * carmab-ctx, known
 * comes without a truth of the same shape, or K^Δ > max_states without
 * lookahead. */
int congest_agent_init(struct congest_agent *ag, const struct congest_params *p,
    const struct congest_model *truth);
void congest_agent_release(struct congest_agent *ag);
/* The next arm, its congestion (its count in the window before this
 * play) in *congestion when not NULL.  The window advances. */
int congest_decide(struct congest_agent *ag, int *congestion);
/* The reward of a decision: its arm and the congestion decide reported.
 * -1 when the arm or congestion is out of range or reward not finite. */
int congest_feedback(struct congest_agent *ag, int arm, int congestion, double reward);
/* The means of the rewards fed back, per (arm, congestion), in
 * est[k * (window + 1)] (0 where none); the profile it plans on is
 * ag->plan_model. */
void congest_agent_means(const struct congest_agent *ag, double *est);

/*
 * Per-context agents (carmab-ctx: our construction, the baseline for
 * carcb): one congest_agent per discrete context x in 0..nctx-1, each
 * learning from the steps that had its context alone, all deciding on
 * one shared window, because congestion is shared: an arm's count over
 * the last Δ steps counts every play, whichever context made it.  The
 * sub-agents' own windows stay unused.  With algo known, sub-agent x
 * plans on truths[x]: the oracle that carcb's regret is measured
 * against.
 */
struct congest_ctx {
	int nctx;
	struct congest_agent *sub;	/* nctx */
	struct congest_hist hist;	/* the shared window */
};

/* p->algo carmab-ctx (carmab per context), or any congest_agent
 * algorithm; truths: nctx models for known, else NULL.  -1 as
 * congest_agent_init, or when nctx < 1. */
int congest_ctx_init(struct congest_ctx *cx, const struct congest_params *p, int nctx,
    const struct congest_model *truths);
void congest_ctx_release(struct congest_ctx *cx);
/* As congest_decide, by the agent of context x.  -1 when x is out of
 * range. */
int congest_ctx_decide(struct congest_ctx *cx, int x, int *congestion);
/* As congest_feedback, to the agent of the decision's context x. */
int congest_ctx_feedback(struct congest_ctx *cx, int x, int arm, int congestion, double reward);

/*
 * carcb: a linear contextual version, our construction after the
 * paper's CARCB (whose planner we have not read).  The reward of arm a
 * at congestion c under this step's context is theta . phi(x, a, c) for
 * features phi of dimension d the caller computes.  A ridge estimate
 * theta = (lambda I + sum phi phi')^-1 sum phi r (the inverse kept by
 * Sherman-Morrison updates) gives optimistic values
 * min(1, theta . phi + beta ||phi||_(V^-1)), with the OFUL radius
 * beta = sqrt(lambda) + 0.5 sqrt(2 log(1/δ) + d log(1 + n / (lambda d)))
 * (n: feedbacks; rewards in [0, 1] are 1/2-sub-Gaussian); each step
 * plans on this step's optimistic profile as if the context stayed (the
 * exact planner's policy at the current state, or the lookahead).
 */
struct congest_carcb {
	struct congest_params par;
	int d;
	double lambda;
	struct congest_hist hist;
	double *vinv;		/* d * d: (lambda I + sum phi phi')^-1 */
	double *b;		/* d: sum phi r */
	double *theta;		/* d */
	double *tmp;		/* d */
	uint64_t feedbacks;
	int use_lookahead;
	struct congest_model opt;	/* this step's optimistic profile */
	struct congest_plan plan;
};

/* -1 when d < 1, lambda <= 0, δ not in (0, 1), or K^Δ > max_states
 * without lookahead (par.algo is not read). */
int congest_carcb_init(struct congest_carcb *cb, const struct congest_params *par, int d,
    double lambda);
void congest_carcb_release(struct congest_carcb *cb);
/* The next arm given phi[(a * (Δ + 1) + c) * d + j], the features of
 * every arm at every congestion under this step's context; its
 * congestion in *congestion.  -1 when a feature is not finite. */
int congest_carcb_decide(struct congest_carcb *cb, const double *phi, int *congestion);
/* The reward of a decision and the d features of its arm and
 * congestion.  -1 when a value is not finite. */
int congest_carcb_feedback(struct congest_carcb *cb, const double *phi, double reward);

#ifdef __cplusplus
}
#endif

#endif
