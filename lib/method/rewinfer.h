/*
 * rewinfer - reward inference under a Boltzmann-rational human model on a
 * tabular MDP, and how sensitive it is to that model being wrong (after
 * Hong, Bhatia and Dragan, "On the Sensitivity of Reward Inference to
 * Misspecified Human Models", ICLR 2023; the core of reward-sensitivity(1)).
 * The name: reward inference, the thing this module does; the sensitivity
 * report is one function of it.
 *
 * The MDP.  S states, A actions, sparse transitions (s, a, s2, p) stored
 * by (s, a) rows, features φ(s, a) in R^d, a start distribution and a
 * discount γ.  The reward is linear, r_θ(s, a) = θᵀφ(s, a).  Every (s, a)
 * row must sum to 1 within REWINFER_PROB_TOL (absolute), and so must the
 * start distribution; duplicate (s, a, s2) entries add.
 *
 * The human model (struct rewinfer_model): π(a|s) ∝ exp(β Q(s, a)), with
 * Q from value iteration of r_θ under the human's discount γ_h and the
 * dynamics the human believes (the true ones, a slipped copy from
 * rewinfer_mdp_slip(), or any MDP with the same S and A):
 *	Q(s, a) = r_θ(s, a) + γ_h Σ_s2 P_h(s2|s, a) V(s2)
 *	soft:	V(s) = (1/β) log Σ_a exp(β Q(s, a))
 *	hard:	V(s) = max_a Q(s, a)
 * The soft policy is the maximum causal entropy one (MCE-IRL at β = 1).
 *
 * The gradient.  ∇_θ Q(s, a) = Ψ(s, a), the successor features of the
 * backup's policy (soft: π itself; hard: the greedy policy, lowest action
 * on ties):
 *	μ = (I - γ_h P_π)^-1 φ_π,   Ψ(s, a) = φ(s, a) + γ_h Σ P_h(s2|s,a) μ(s2)
 * one linear solve with d right-hand sides per evaluation (LAPACKE dgesv,
 * or fixed-point iteration above REWINFER_DENSE_MAX states; the two agree
 * and the tests compare them).  Then ∇ log π(a|s) = β (Ψ(s, a) -
 * Σ_b π(b|s) Ψ(s, b)).  Soft: the exact gradient.  Hard: a subgradient,
 * exact wherever the argmax is unique (and the β → ∞ limit of the soft
 * one's successor features).  Above REWINFER_DENSE_MAX states the fit and
 * the report's difference quotients take the same gradient through its
 * adjoint instead, the expected visitations (rewinfer_loglik_visit()): one
 * S-vector iterated where Ψ needs d.
 *
 * Demonstrations are weights w(s, a) >= 0 (counts of state-action pairs,
 * or ρ(s) π̃(a|s) for the infinite-data likelihood).  The log-likelihood
 * L(θ) = Σ w(s, a) log π_θ(a|s) - (λ/2)|θ|², maximised by L-BFGS
 * (liblbfgs) on -L / Σw from the θ given.
 *
 * The sensitivity report (the notes' §(d).2, our derivation
 * [reconstructed]; all per demonstration pair, i.e. of L / Σw):
 *	information	-∇² (L / Σw) at θ̂, by central differences of the
 *			analytic gradient (step 1e-4 max(1, |θ̂|)),
 *			symmetrised; for hard backups only a finite-
 *			difference slope of a subgradient
 *	α̂		its smallest eigenvalue (LAPACKE dsyevr), with the
 *			eigenvector, the least identifiable direction v
 *			(sign: largest component positive)
 *	condition	λ_max / α̂ (infinite when α̂ <= 0)
 *	Ĝ		max over demonstrated states s and all actions a of
 *			|∇_θ log π_θ̂(a|s)| (the score has mean 0 under π, so
 *			this is the notes' sup |∇ log π - E_π ∇ log π|)
 *	amplification	1 / (d/dt E_ρ TV(π_θ̂, π_θ̂+tv) at t = 0), i.e.
 *			1 / E_ρ ½ Σ_a π(a|s) |∇ log π(a|s)·v|: how far θ
 *			moves per unit of policy change along v
 *	bound		|θ̂ - θ*| <= 2Ĝ TV / α̂, TV = E_ρ TV(π̃, π_θ*);
 *			amplification <= 2Ĝ/α̂ always.
 *
 * Library conventions: errors return -1 with loam_seterr(); out of memory
 * ends the program.  Deterministic: the simulator draws from lib/rng
 * stream RNG_REWINFER_DEMOS, index the trajectory.
 */
#ifndef LOAM_REWINFER_H
#define LOAM_REWINFER_H

#include <stddef.h>
#include <stdint.h>

#include "anderson.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How far from 1 a row of transition or start probabilities may sum. */
#define REWINFER_PROB_TOL 1e-6
/* The largest S whose successor features come from a dense solve. */
#define REWINFER_DENSE_MAX 3000

struct rewinfer_mdp {
	int S, A, d;
	double gamma;		/* [0, 1) */
	size_t *row;		/* S*A + 1: row[s*A+a] .. row[s*A+a+1] in next, p */
	int *next;		/* successor states */
	double *p;		/* their probabilities */
	double *phi;		/* S*A*d: φ(s, a) at phi[(s*A + a)*d] */
	double *start;		/* S */
};

/* An MDP from n transitions (s[i], a[i], s2[i], p[i]), features phi
 * (S*A*d, copied) and start (S, copied; NULL: uniform).  -1 with a message
 * naming the offending entry or row when a size is out of range, an index
 * is out of range, a value is not finite, a probability is outside
 * [0, 1], or a row does not sum to 1 (REWINFER_PROB_TOL). */
int rewinfer_mdp_init(struct rewinfer_mdp *m, int S, int A, int d, double gamma,
    size_t n, const int *s, const int *a, const int *s2, const double *p,
    const double *phi, const double *start);
void rewinfer_mdp_release(struct rewinfer_mdp *m);

/* P(s2|s, a) under m (indices in range): 0 marks an impossible step of
 * a demonstration. */
double rewinfer_transition_prob(const struct rewinfer_mdp *m, int s, int a, int s2);

/* out = m with slipped dynamics: with probability slip the action taken
 * is replaced by one drawn uniformly from all A actions:
 * P'(s2|s, a) = (1 - slip) P(s2|s, a) + slip/A Σ_b P(s2|s, b). */
int rewinfer_mdp_slip(struct rewinfer_mdp *out, const struct rewinfer_mdp *m,
    double slip);

/* The gridworld: a w x h grid, state s = y*w + x, five actions (0 stay,
 * 1 up (y - 1), 2 right, 3 down, 4 left); a move into the edge stays put;
 * slip as in rewinfer_mdp_slip(); φ(s, a) = cell_phi[s*d ..] for every a
 * (a reward for being in a cell); start NULL: uniform. */
enum { REWINFER_GRID_ACTIONS = 5 };
int rewinfer_gridworld(struct rewinfer_mdp *m, int w, int h, double slip,
    double gamma, int d, const double *cell_phi, const double *start);

struct rewinfer_model {
	double beta;		/* > 0 */
	double gamma;		/* the human's discount, [0, 1) */
	int hard;		/* 0: soft backups; 1: hard (max) backups */
	const struct rewinfer_mdp *dynamics;	/* believed; NULL: the true */
};

/* Buffers for one evaluation, sized for m. */
struct rewinfer_eval {
	int S, A, d;
	double *r;		/* S*A rewards */
	double *q;		/* S*A */
	double *v;		/* S */
	double *pi;		/* S*A: π(a|s) */
	double *psi;		/* S*A*d: Ψ(s, a) */
	double *mu;		/* S*d: successor features of states */
	double *lu;		/* S*S for the dense solve (S <= REWINFER_DENSE_MAX) */
	int *ipiv;		/* S */
	int iterations;		/* of the last value iteration */
	int warm;		/* 1: value iteration starts from v as the last
				 * call left it (rewinfer_fit(): successive θ
				 * are close), and so do the expected
				 * visitations from visit; 0: from 0 */
	double *visit;		/* S: rewinfer_loglik_visit()'s last x, or NULL */
	int plain;		/* 1: plain sweeps, the reference; 0 (what
				 * rewinfer_eval_init() sets): Anderson-
				 * accelerated, the same fixed points to the
				 * same tolerances in a fraction of the sweeps */
	struct anderson aa;	/* for value iteration and the visitations */
	double *image;		/* S: a sweep's image of the iterate */
};
void rewinfer_eval_init(struct rewinfer_eval *e, const struct rewinfer_mdp *m);
void rewinfer_eval_release(struct rewinfer_eval *e);

/* Q, V and π of θ under h, into e (value iteration to 1e-13 of the value
 * scale; Anderson-accelerated unless e->plain, see lib/base/anderson.h).
 * -1 when the model is invalid or iteration does not converge. */
int rewinfer_policy(struct rewinfer_eval *e, const struct rewinfer_mdp *m,
    const struct rewinfer_model *h, const double *theta);
/* Ψ and μ for the π (soft) or greedy policy (hard) of the last
 * rewinfer_policy() call; dense selects the LAPACKE solve (1), the
 * fixed-point iteration (0) or by size (-1). */
int rewinfer_successor(struct rewinfer_eval *e, const struct rewinfer_mdp *m,
    const struct rewinfer_model *h, int dense);

/* L(θ) (w: S*A weights, l2: λ >= 0) into *loglik, and its gradient into
 * grad (d; NULL: not computed).  Leaves π (and Ψ) of θ in e. */
int rewinfer_loglik(struct rewinfer_eval *e, const struct rewinfer_mdp *m,
    const struct rewinfer_model *h, const double *w, double l2,
    const double *theta, double *loglik, double *grad);

/* The same L and gradient through the adjoint of the successor features,
 * the expected discounted visitations of the signed measure c(s, a) =
 * w(s, a) - w(s) π(a|s) under the backup's policy μ:
 *	x(s2) = γ_h Σ P_h(s2|s, a) (c(s, a) + μ(a|s) x(s)),
 *	∇L = β Σ (c(s, a) + μ(a|s) x(s)) φ(s, a) - λθ
 * (MCE-IRL's empirical minus expected feature counts), by fixed-point
 * iteration: one S-vector where Ψ needs d, so rewinfer_fit() uses it
 * above REWINFER_DENSE_MAX states.  Leaves π, not Ψ, in e. */
int rewinfer_loglik_visit(struct rewinfer_eval *e, const struct rewinfer_mdp *m,
    const struct rewinfer_model *h, const double *w, double l2,
    const double *theta, double *loglik, double *grad);

/* The MLE: theta (d) in as the starting point, out as θ̂; *loglik its
 * L.  -1 when no weight is positive or L-BFGS fails (a message names
 * liblbfgs's status); reaching its iteration cap (max_iter, 0: 1000) with
 * a finite L is not an error. */
int rewinfer_fit(const struct rewinfer_mdp *m, const struct rewinfer_model *h,
    const double *w, double l2, int max_iter, double *theta, double *loglik);

struct rewinfer_report {
	double alpha;		/* smallest eigenvalue of the information */
	double lambda_max;
	double condition;	/* lambda_max / alpha */
	double G;
	double amplification;
	double *direction;	/* d, caller's buffer: the eigenvector of alpha */
	double *info;		/* d*d, caller's buffer or NULL */
};

/* The report at theta (normally θ̂) for weights w; see above. */
int rewinfer_sensitivity(const struct rewinfer_mdp *m,
    const struct rewinfer_model *h, const double *w, double l2,
    const double *theta, struct rewinfer_report *rep);

/*
 * Pairwise preferences (Bradley-Terry on discounted returns).  A
 * trajectory τ = (s_0, a_0), (s_1, a_1), ... has the return R(τ) =
 * Σ_t γ_h^t θᵀφ(s_t, a_t) = θᵀΦ(τ) under the human's discount, and
 *	P(a ≻ b) = σ(β (R(a) - R(b))) = σ(z),  z = β θᵀ(Φ(a) - Φ(b)).
 * A label y in [0, 1] (1: a preferred, 0: b) adds
 *	y log σ(z) + (1 - y) log σ(-z)
 * to L, with gradient β (y - σ(z)) (Φ(a) - Φ(b)); each preference counts
 * as one observation beside the demonstration pairs when L is divided
 * by their number.  The term is concave in θ.
 */
struct rewinfer_prefs {
	size_t n;
	double *dphi;		/* n*d: Φ(a) - Φ(b) */
	double *y;		/* n */
};
/* Φ(τ) of len pairs (s, a) (indices in range) into out (d). */
void rewinfer_traj_features(const struct rewinfer_mdp *m, double gamma_h,
    const int *pairs, size_t len, double *out);
/* The preferences' log-likelihood at theta; its gradient is added to
 * grad (d; NULL: not computed). */
double rewinfer_pref_loglik(const struct rewinfer_prefs *p, int d, double beta,
    const double *theta, double *grad);
/* rewinfer_fit() and rewinfer_sensitivity() with preferences (NULL:
 * none) in the objective; w may then be all zero.  The report's Ĝ and
 * amplification stay those of the demonstrated states. */
int rewinfer_fit_prefs(const struct rewinfer_mdp *m, const struct rewinfer_model *h,
    const double *w, const struct rewinfer_prefs *prefs, double l2, int max_iter,
    double *theta, double *loglik);
int rewinfer_sensitivity_prefs(const struct rewinfer_mdp *m,
    const struct rewinfer_model *h, const double *w,
    const struct rewinfer_prefs *prefs, double l2, const double *theta,
    struct rewinfer_report *rep);

/* ρ(s) = Σ_a w(s, a) / Σ w into rho (S); -1 when no weight is positive. */
int rewinfer_state_dist(int S, int A, const double *w, double *rho);
/* E_ρ TV(p(.|s), q(.|s)) = Σ_s ρ(s) ½ Σ_a |p - q|. */
double rewinfer_tv(int S, int A, const double *rho, const double *p,
    const double *q);
/* E_ρ KL(p(.|s) || q(.|s)); infinite where q = 0 < p. */
double rewinfer_wkl(int S, int A, const double *rho, const double *p,
    const double *q);

/* ntraj trajectories of horizon steps from m's start distribution under
 * m's true dynamics, actions drawn from pi (S*A, a demonstrator's policy
 * from rewinfer_policy() under any model), trajectory t from
 * rng_init(seed, RNG_REWINFER_DEMOS, first + t).  pairs (ntraj*horizon*2):
 * s, a of step k of trajectory t at pairs[(t*horizon + k)*2]. */
void rewinfer_simulate(const struct rewinfer_mdp *m, const double *pi,
    uint64_t seed, uint64_t first, size_t ntraj, size_t horizon, int *pairs);
/* The expected share of each (s, a) among the horizon steps of a
 * trajectory from m's start under pi and m's true dynamics, into w (S*A,
 * summing to 1): the infinite-data weights of rewinfer_simulate(). */
void rewinfer_visits(const struct rewinfer_mdp *m, const double *pi, size_t horizon,
    double *w);
/* w(s, a) += 1 for each of n pairs. */
void rewinfer_count(int A, const int *pairs, size_t n, double *w);

/*
 * A biased demonstrator (reward-sensitivity simulate): it demonstrates
 * θ* + ε v instead of θ*, v a unit direction.  The reference
 * demonstrator is h0 at θ* (policy pi0, S*A; normally the MDP's discount
 * and true dynamics, as fit assumes).  Adversarial: v is the sensitivity
 * report's least identifiable direction at θ* on pi0's expected visits
 * over horizon steps (rewinfer_visits()), the direction in which the fit
 * can least tell θ from θ*.  Random: v is normal draws from lib/rng
 * stream RNG_REWINFER_BIAS (seed, index 0) scaled to unit length.  None:
 * v = 0.
 */
enum rewinfer_bias { REWINFER_BIAS_NONE, REWINFER_BIAS_ADVERSARIAL, REWINFER_BIAS_RANDOM };
/* v into dir (d); -1 when the report fails (adversarial only). */
int rewinfer_bias_direction(const struct rewinfer_mdp *m, const struct rewinfer_model *h0,
    const double *theta, const double *pi0, size_t horizon, enum rewinfer_bias kind,
    uint64_t seed, double *dir);
/* The bias's size on the demonstrator's own states: its expected visits
 * of horizon steps under pi into w (S*A), and E_ρ TV and E_ρ KL of pi
 * from pi0 on their state distribution ρ into *tv and *wkl. */
void rewinfer_bias_size(const struct rewinfer_mdp *m, const double *pi, const double *pi0,
    size_t horizon, double *w, double *tv, double *wkl);

#ifdef __cplusplus
}
#endif

#endif
