/*
 * skillit - Skill-It's online data mixture (Chen et al., NeurIPS 2023,
 * Algorithm 1), skills-graph estimation from loss logs, and the paper's
 * idealised closed loop.  skillit-mix(1) maps its options onto this
 * module; research/skillit-cookbook.md Part A (cited as §A1.4 and so on)
 * gives the reference's semantics, which are those of HazyResearch/
 * skill-it, trainer/mw_trainer.py and dataset/utils.py.
 *
 * Objects.  k training skills (rows) and m evaluation skills (columns):
 * the skills graph A is k x m doubles, row-major, A[i][j] = how much
 * training on skill i helps skill j (the reference's graph.dot(loss)
 * orientation; Aioli writes the transpose).  A loss vector has one entry
 * per column of the graph as given to skillit_init(), the "full" columns.
 *
 * Preparing the graph, in this order, at skillit_init():
 *
 * 1. Self entries.  When the graph is square, training skill i is
 *    evaluation skill i and A[i][i] is its self-loop.  A non-square graph
 *    (out of domain, S_eval and S_train disjoint) has none.  (The
 *    reference compares raw indices and would take A[i][i], i < m, of a
 *    59 x 12 graph for self-loops although training category i and test
 *    category i are unrelated: a quirk not kept.)
 * 2. The binary rule: every entry that is not a self entry and equals 1
 *    exactly becomes 0.5 (the reference's synthetics' edge weight).  The
 *    reference applies it to every graph; here opts.binary says when:
 *    SKILLIT_BINARY_AUTO (default) when every entry is 0 or 1, YES
 *    always (the reference), NO never.
 * 3. Static mode (opts.static_mix, the reference's path without --mw,
 *    T = 1): every self entry becomes 1 (the shipped NI graph has a zero
 *    diagonal).
 * 4. Target skills (opts.target, fine-tuning, the reference's
 *    --target_mask): keep only those columns, in the order given.  Column
 *    j of the result is then training skill target[j] when the full
 *    graph is square.  The number of columns kept is s->m.
 * 5. Lone nodes (opts.ignore_lone_nodes, square graph without targets
 *    only, as the reference computes it): skill i is lone when
 *    A[i][i] == 1 and its row and its column each sum to exactly 1 after
 *    step 2.
 *
 * The mixture.  Write w0 for the prior (opts.prior, default all ones),
 * eta_t for the step size, x for the aggregated loss vector and
 * softmax(z)_i = exp(z_i - max z) / sum_l exp(z_l - max z):
 *
 *	p_1     = softmax(log w0 + eta A 1_m)		(opts.init: given)
 *	p_{t+1} = softmax(log w0 + eta_t A x_t)
 *	x_t     = agg(the last W evaluations)
 *
 * Each round is recomputed from w0, not from p_t (the reference's rule,
 * equal to the unrolled Algorithm 1 with a moving window, §A1.4).  The
 * reference exponentiates without subtracting the maximum and overflows
 * at large eta (RedPajama's eta = 100, §A1.4); computing in logs gives
 * the same normalised mixture and stays finite at any eta.  A zero prior
 * entry gives weight 0.
 *
 * Evaluations and rounds.  skillit_observe() adds one evaluation (one
 * vector of losses) to the history; skillit_next() ends a round and
 * computes the next mixture from the history.  The window W counts
 * evaluations, not rounds (§A1.6 item 1): with several evaluations per
 * round only the last W enter.  A shorter history uses what there is;
 * W = 0 means the whole history.  agg is the elementwise sum over the
 * window (SKILLIT_AGG_SUM) or its mean (SKILLIT_AGG_MEAN);
 * SKILLIT_AGG_AUTO (default) is the reference's: sum without target
 * skills (continual pre-training, out of domain), mean with them
 * (fine-tuning).
 *
 * The three settings of §A1.2:
 *	continual pre-training	k x k graph, no targets, sum
 *	fine-tuning		k x k graph, opts.target, mean
 *	out of domain		k x m graph (m != k), no targets, sum
 *
 * Variants (all off by default, as in the reference):
 *	prior		w0 above (--mw_prior).  The reference also uses the
 *			prior as p_1's pseudo-loss in pre-training
 *			(exp(eta A w0)); here p_1 always uses 1_m, so that
 *			the prior's scale does not matter.
 *	init		p_1 given instead of computed (--mw_init); later
 *			rounds still start from w0.  Normalised here.
 *	init_loss	prepend the pseudo-evaluation mean(L^(1)) 1_m to
 *			the history when the first evaluation L^(1) arrives
 *			(--initialize_loss); it counts as one window entry.
 *	normalize_loss	x / L_0 elementwise (--normalize_loss).
 *	eta_schedule	eta_t = eta / (sum L^(last) / sum L_0)
 *			(--eta_schedule).
 *	ignore_lone_nodes
 *			lone skills get a fixed 1/k each; the mixture runs
 *			on the others, their rows and columns only, scaled
 *			to the remaining mass (--ignore_lone_nodes).  (The
 *			reference aliases its prior to p_1 here, so later
 *			rounds carry p_1 as an extra factor; here they start
 *			from w0 like every other round, and eta_schedule
 *			sums both vectors over the same skills.)
 *	dynamic_lambda	after every round, halve each positive entry of A
 *			that is not a self entry (--dynamic_lambda; self
 *			means column j is training skill i, also through
 *			the targets).
 * L_0 is the reference's loss_0: the second evaluation once there is
 * one (the one at step ckpt_steps), the first before that.  Where L_0
 * would be divided by, its entries (normalize_loss) or its sum
 * (eta_schedule) must be positive.
 *
 * Losses.  skillit_observe() reads the entries of the used columns only
 * (the targets, or every column); they must be finite, else -1 naming
 * the column.  Entries of unused columns are ignored and may be NaN, so
 * a caller that evaluates only the target skills passes NaN for the
 * rest.  A skill that was not evaluated in an evaluation is the
 * caller's business (it may carry the last value forward).
 *
 * Cost: O(k m) per round (the product A x), O(m W) per evaluation.  The
 * product runs over a transposed copy of A as m column sweeps of length
 * k, which the compiler vectorises; it adds the same terms in the same
 * order as the plain row-by-row dot products of skillit_logits_ref(), so
 * the two are bit-identical (the tests check).
 *
 * Errors: functions that can fail return -1 with loam_error() set and
 * never print or exit.
 *
 * Ownership: skillit_init() copies the graph and every array the options
 * point to; the caller may free them at once.  s->opts keeps the scalar
 * options, its pointers set to NULL.  skillit_release() frees everything
 * and may be called twice, or on a zeroed struct, or after a failed
 * skillit_init().
 */
#ifndef LOAM_SKILLIT_H
#define LOAM_SKILLIT_H

#include <stddef.h>
#include <stdint.h>

#include "reservoir.h"

#ifdef __cplusplus
extern "C" {
#endif

enum skillit_agg {
	SKILLIT_AGG_AUTO = 0,	/* sum, or mean with target skills */
	SKILLIT_AGG_SUM,
	SKILLIT_AGG_MEAN
};

enum skillit_binary {
	SKILLIT_BINARY_AUTO = 0,	/* when every entry is 0 or 1 */
	SKILLIT_BINARY_YES,		/* always (the reference) */
	SKILLIT_BINARY_NO
};

struct skillit_opts {
	double		 eta;		/* step size; 0.2 (the reference has no
					 * default; 0.2 is the paper's NI and
					 * Aioli's value) */
	size_t		 window;	/* W evaluations; 3; 0 = all */
	int		 agg;		/* enum skillit_agg; AUTO */
	int		 binary;	/* enum skillit_binary; AUTO */
	int		 static_mix;	/* T = 1: p_1 with self entries := 1,
					 * never updated; 0 */
	const size_t	*target;	/* ntarget full-graph columns; NULL */
	size_t		 ntarget;
	const double	*prior;		/* k entries >= 0, one > 0; NULL = 1 */
	const double	*init;		/* k entries >= 0, one > 0; NULL */
	int		 init_loss;	/* 0 */
	int		 normalize_loss; /* 0 */
	int		 eta_schedule;	/* 0 */
	int		 ignore_lone_nodes; /* 0 */
	int		 dynamic_lambda; /* 0 */
};

struct skillit {
	struct skillit_opts opts;	/* scalars as given; pointers NULL */
	size_t	 k;		/* training skills */
	size_t	 m_full;	/* columns of the graph as given */
	size_t	 m;		/* columns used: ntarget, or m_full */
	int	 agg;		/* SKILLIT_AGG_SUM or _MEAN, resolved */
	int	 binary;	/* 1 when step 2 changed 1s to 0.5 */
	double	*graph;		/* k x m prepared graph, row-major; lone
				 * skills' columns zeroed; halved in place
				 * by dynamic_lambda */
	double	*graph_t;	/* m x k, the same transposed */
	size_t	*col;		/* m: full-graph column of column j */
	long	*self;		/* m: training skill that column j is, -1 */
	double	*log_prior;	/* k: log w0, -inf for a zero prior */
	unsigned char *lone;	/* k: 1 for a lone skill */
	size_t	 nlone;
	double	*p;		/* k: the current mixture */
	/* history: a ring of the last W evaluations (all when W = 0: a
	 * running sum), used columns only */
	double	*ring;		/* ring_len x m, grown up to cap = W rows
				 * as evaluations come (a huge W costs
				 * nothing up front) */
	size_t	 cap, ring_len, nring, head;
	double	*runsum;	/* m: W = 0's sum */
	size_t	 nrun;
	double	*loss_first;	/* m: first evaluation */
	double	*loss_ref;	/* m: L_0, see above */
	double	*loss_last;	/* m: latest evaluation */
	size_t	 nevals;	/* evaluations observed */
	size_t	 round;		/* mixtures computed after p_1 */
	double	 eta_last;	/* eta_t of the last round */
	double	*x;		/* m: scratch, the aggregated losses */
	double	*z;		/* k: scratch, the logits */
};

/* The defaults documented in struct skillit_opts. */
void skillit_opts_default(struct skillit_opts *o);

/*
 * Prepare graph[k * m] (row-major, m = full columns) under *o (defaults
 * when NULL) and compute p_1.  0, or -1 with loam_error() set: k or m
 * zero, a non-finite graph entry, eta not finite, a target column out of
 * range or repeated, a prior or init entry negative or not finite or
 * none positive (counting only skills that are not lone), static_mix
 * with init, ignore_lone_nodes on a non-square graph or with targets.
 * On failure nothing is held.
 */
int skillit_init(struct skillit *s, const double *graph, size_t k, size_t m,
    const struct skillit_opts *o);
void skillit_release(struct skillit *s);

/* The current mixture, k weights summing to 1: p_1 after skillit_init(),
 * then the result of the last skillit_next().  Borrowed from s. */
const double *skillit_weights(const struct skillit *s);

/* Add one evaluation: losses[m_full], see "Losses" above.  0 or -1; on
 * failure the history is unchanged. */
int skillit_observe(struct skillit *s, const double *losses);

/*
 * End a round: compute p_{t+1} from the history, make it the current
 * mixture, then apply dynamic_lambda.  Copies it to weights[k] unless
 * NULL.  -1 when no evaluation has been observed, or when L_0 cannot be
 * divided by.  In static mode the mixture stays p_1 (T = 1) and this
 * only copies it.
 */
int skillit_next(struct skillit *s, double *weights);

/* skillit_observe() then skillit_next(): one evaluation per round, the
 * reference's NI fine-tuning and out-of-domain schedule. */
int skillit_update(struct skillit *s, const double *losses, double *weights);

/*
 * The kernel.  z[k] = log_prior[i] + eta * sum_j A[i][j] x[j] (log_prior
 * NULL: 0), the sum over j in increasing order.  skillit_logits_ref()
 * reads A row-major (k x m) with plain dot products, the reference the
 * fast path is tested against; skillit_logits() reads its transpose
 * at[m * k] as column sweeps.  (Lone nodes need no special case: their
 * columns are zero in s->graph, and their rows' z are not used.)
 */
void skillit_logits_ref(const double *a, size_t k, size_t m, const double *x,
    double eta, const double *log_prior, double *z);
void skillit_logits(const double *at, size_t k, size_t m, const double *x,
    double eta, const double *log_prior, double *z);

/* In place: z[n] becomes softmax(z) by log-sum-exp, entries -inf giving
 * 0.  -1 when no entry is finite, or one is +inf or NaN. */
int skillit_softmax(double *z, size_t n);

/* ---- graph estimation from loss logs (§A1.3; Part C item 2) ---- */

/*
 * The linear (one-hot) estimate: run i trains on skill i alone;
 * before[i * m + j] and after[i * m + j] are the losses on evaluation
 * skill j at its start and end (pass the same row k times when every run
 * starts from one base model).  graph[i * m + j] = before - after, the
 * raw decrease (negative values kept: training on i hurt j); relative
 * divides by before (Aioli's skills_graph), which must then be positive.
 * 0, or -1 naming the entry for a non-finite value.
 */
int skillit_graph_linear(size_t k, size_t m, const double *before,
    const double *after, int relative, double *graph);

/* The first step[t] (t in log order) with loss[t] <= threshold, or
 * INFINITY when the curve never gets there (the reference draws no edge
 * then, "even if loss is decreasing").  NaN losses never qualify.  The
 * unit of step is the caller's; see skillit_graph_pairwise(). */
double skillit_steps_to_threshold(const double *step, const double *loss,
    size_t n, double threshold);

/* The reference's threshold: validation loss 0.01 (§A1.3). */
#define SKILLIT_THRESHOLD	0.01
/* The brute-force edge weight (the diagonal is 1). */
#define SKILLIT_EDGE		0.5

/*
 * The brute-force estimate over k skills (square): alone[j] is what
 * training on j alone takes to reach the threshold on j, pair[i * k + j]
 * what training on the balanced (i, j) mixture takes (INFINITY: never;
 * the diagonal of pair is not read).  graph[i][j] = SKILLIT_EDGE when
 * pair[i][j] < alone[j] (a finite count beats never), 0 otherwise;
 * graph[i][i] = 1.  single[i * k + j] (NULL: not used) is the loss
 * decrease on j from training on i alone; a positive one also gives the
 * edge (the reference's LEGO rule).  -1 for a NaN or negative count.
 *
 * The counts are compared as given.  The notes read the paper's rule as
 * counting data on skill j ("steps (data on skill j)", §A1.3), which for
 * a balanced pair run is half its steps: pass that to compare data, raw
 * steps to compare compute.  Under the idealised dynamics at rate c a
 * balanced mixture beats j alone in raw steps only when A[i][j] > 1, and
 * in data on j when A[i][j] > c (1 + A[i][j])^2 / 4, nearly every edge
 * at a small rate (tests/unit/skillit_test.c recovers a known graph so).
 */
int skillit_graph_pairwise(size_t k, const double *alone, const double *pair,
    const double *single, double *graph);

/*
 * Graph density: the share of possible edges present, an edge being an
 * entry > 0 that is not a self entry (so a square graph has k (k - 1)
 * possible edges, a non-square one k m).  The paper's examples: Pile of
 * Law 3.9 % (nearly empty), NI 42.7 %, Alpaca 97.4 % (nearly complete).
 * Skill-It only helps in between: on an empty graph it samples by loss
 * alone, on a complete one it is stratified sampling (§A1.4).  *edges and
 * *possible (each may be NULL) receive the counts; a 1 x 1 graph has
 * density 0 of 0.
 */
double skillit_graph_density(const double *graph, size_t k, size_t m,
    size_t *edges, size_t *possible);

/* Cut-offs for the warning, between the paper's examples. */
#define SKILLIT_NEARLY_EMPTY	0.10	/* density below: nearly empty */
#define SKILLIT_NEARLY_COMPLETE	0.90	/* density above: nearly complete */

enum skillit_shape {
	SKILLIT_GRAPH_INTERMEDIATE = 0,
	SKILLIT_GRAPH_NEARLY_EMPTY,
	SKILLIT_GRAPH_NEARLY_COMPLETE
};

/* enum skillit_shape of a density, by the cut-offs above. */
int skillit_graph_shape(double density);

/* ---- the paper's idealised closed loop (App. B.1) ---- */

/* One round of L <- L (1 - c A^T p), clipped at 0: loss[m] updated in
 * place from graph[k * m] and the mixture p[k]. */
void skillit_sim_step(const double *graph, size_t k, size_t m,
    const double *p, double c, double *loss);

struct skillit_sim {
	double		 c;		/* learning rate of the dynamics; 0.3 */
	double		 target;	/* total loss to reach (sum over the
					 * used columns) */
	size_t		 max_rounds;	/* give up after; 1000 */
	const double	*loss0;		/* m_full initial losses; NULL: 0.7 */
	const double	*pool;		/* k pool sizes for random sampling;
					 * NULL: equal */
};

void skillit_sim_default(struct skillit_sim *sim);

/* Rounds to reach the target, or SKILLIT_SIM_NEVER. */
#define SKILLIT_SIM_NEVER	((size_t)-1)

struct skillit_sim_result {
	size_t	skillit;	/* Skill-It under the given opts */
	size_t	random;		/* p proportional to the pools: uniform over
				 * records, the paper's "random" */
	size_t	stratified;	/* p = 1/k: uniform over skills, the
				 * paper's "skill-stratified" */
	double	final[3];	/* total loss after the last round run, in
				 * that order */
};

/*
 * Run the three strategies on the same dynamics: the graph prepared by
 * steps 1, 2 and 4 above (not 3: static_mix only changes what Skill-It
 * believes) drives every strategy, starting from loss0 (used columns).
 * A round trains on the current mixture (one step), then evaluates;
 * Skill-It observes that evaluation and computes the next mixture
 * (skillit_update()).  Rounds count until the total loss is <= target;
 * 0 when loss0 already is.  -1 on a bad argument or whatever
 * skillit_init() refuses.
 */
int skillit_simulate(const double *graph, size_t k, size_t m,
    const struct skillit_opts *o, const struct skillit_sim *sim,
    struct skillit_sim_result *r);

/* ---- sampling a record stream to mixtures (skillit_sample.c) ---- */

/*
 * Round t of n records drawn to the mixture p[k] (weights >= 0, not all
 * 0): count[i] records of skill i, either exact, floor(n p_i / sum p)
 * with the remainder to the last skill (the reference's sampler), or
 * iid, n independent draws from p.  The draws come from the registry's
 * RNG_SKILLIT_ROUNDS stream of seed at index t.  -1 when the weights sum
 * to zero.
 */
int skillit_round_counts(const double *p, size_t k, uint64_t n, int iid,
    uint64_t seed, uint64_t t, uint64_t *count);

/*
 * One pass over a record stream for nrounds rounds over k skills, in
 * memory proportional to the sample: each (round t, skill s) keeps a
 * reservoir (reservoir.h) of count[t * k + s] records, drawing from
 * RNG_SKILLIT_RESERVOIR + t of the seed at index s.  A record of skill s
 * is offered to every round.  A round's records come out in a seeded
 * shuffle (RNG_SKILLIT_ROUNDS, index UINT64_MAX - t), not in the input's
 * order.
 */
struct skillit_sample {
	size_t nrounds, k;
	uint64_t seed;
	struct reservoir *rv;	/* nrounds x k, round-major */
};

void skillit_sample_init(struct skillit_sample *ss, size_t nrounds, size_t k,
    const uint64_t *count, int replace, uint64_t seed);
void skillit_sample_release(struct skillit_sample *ss);
/* Offer a record of skill s (< k) to every round. */
void skillit_sample_offer(struct skillit_sample *ss, size_t s, const char *text, size_t len);
/* The reservoir of (round t, skill s): its cap and reservoir_filled(). */
const struct reservoir *skillit_sample_at(const struct skillit_sample *ss, size_t t, size_t s);
/* Round t's records in output order, *n of them, in an array the caller
 * frees (the items stay owned by the sample). */
struct reservoir_item **skillit_sample_round(const struct skillit_sample *ss, size_t t,
    size_t *n);

#ifdef __cplusplus
}
#endif

#endif
