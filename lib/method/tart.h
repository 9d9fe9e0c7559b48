/*
 * tart - TART's reasoning module (Bhatia, Narayan, De Sa, Ré 2023):
 * the synthetic logistic-regression task it is trained on, the dimension
 * and length curriculum, one training step, the PCA and whitening that
 * turn an LLM's embeddings into its 16-dimensional inputs, the
 * interleaved (x, y) sequence, predict's examples and their cached
 * prefixes, eval's tasks, and the L2-regularised logistic regression it is
 * compared with.  The transformer itself is lib/nn/gpt.
 */
#ifndef LOAM_TART_H
#define LOAM_TART_H

#include <stddef.h>
#include <stdint.h>

#include "gpt.h"
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One curriculum variable: start, increased by inc every interval steps,
 * capped at end. */
struct tart_ramp {
	int start, end, inc, interval;
};
int tart_ramp_at(const struct tart_ramp *r, long step);

/* The learning rate falls linearly from adam.lr at step `start` to `min`
 * at step `end` and stays there; none when end <= start. */
struct tart_decay {
	long start, end;
	float min;
};
struct tart_train_opts {
	int n_dims;			/* 16 */
	double alpha;			/* weight scale, 10 */
	int batch;			/* tasks per step, 128 */
	struct tart_ramp dims;		/* 4 -> 16 by 4 every 1000 steps */
	struct tart_ramp points;	/* 18 -> 258 by 30 every 1000 steps */
	struct nn_adamw adam;		/* lr 1e-4, no weight decay */
	struct tart_decay decay;	/* none */
	uint64_t seed;
};
void tart_train_defaults(struct tart_train_opts *o);
/* The learning rate of `step` (0-based). */
float tart_lr_at(const struct tart_train_opts *o, long step);

/*
 * Draw one task: w ~ alpha N(0, I_d), then N points x ~ N(0, I_d) with
 * coordinates >= d set to 0 (x has n_dims columns) and
 * y ~ Bernoulli(sigmoid(x . w)).  w (n_dims) may be NULL.
 */
void tart_sample_task(struct rng *r, int n_dims, int d, double alpha, size_t N,
    float *x, float *y, float *w);
/* The interleaved sequence z (2N, n_dims): x_1, (y_1, 0, ...), x_2, ... */
void tart_interleave(const float *x, const float *y, size_t N, int n_dims,
    float *z);

/* One training step at `step` (0-based): draws the batch from (seed, step)
 * so that a resumed run draws what the uninterrupted one would, runs
 * forward and backward with BCE at every x position, and updates with
 * Adam.  Returns the mean loss.  The model must have gpt_train_init. */
double tart_train_step(struct gpt *m, const struct tart_train_opts *o,
    long step);
/* The generator of task b (< 2^20) of a training step: stream
 * RNG_TART_TRAIN_TASKS, index step << 20 | b. */
void tart_train_rng(struct rng *r, uint64_t seed, long step, size_t b);

/*
 * PCA to `ncomp` components fitted on k rows of dimension D (k > ncomp),
 * then whitening: each component divided by its standard deviation over
 * the k rows (ddof 1).  This is what the reference's sklearn PCA followed
 * by V diag(lambda^-1/2) V^T of np.cov does (the projected features are
 * already decorrelated, so the rotation is the identity); signs follow
 * sklearn's svd_flip (largest |u| of each left singular vector positive).
 */
struct tart_pca {
	size_t D, ncomp;
	double *mean;			/* D */
	double *comp;			/* ncomp x D, each row scaled by 1/sd */
};
int tart_pca_fit(struct tart_pca *p, const float *X, size_t k, size_t D,
    size_t ncomp);
/* out (n, ncomp) from X (n, D). */
void tart_pca_apply(const struct tart_pca *p, const float *X, size_t n,
    float *out);
void tart_pca_release(struct tart_pca *p);

/*
 * predict's examples: k of the n labelled rows (labels y 0/1), half of
 * each label (the odd one a 1) drawn under the seed, then put in a seeded
 * order; all n, in a seeded order, when k == n.  pick gets k indices.
 * Returns 0, or -1 with loam_seterr() when there are too few examples.
 */
int tart_pick_examples(const int *y, size_t n, size_t k, uint64_t seed,
    size_t *pick);

/* The r-th order of k examples (call with r = 0, 1, ...): the identity
 * for r = 0, then each a reshuffle of the one before, drawn from
 * (seed, stream, index). */
void tart_next_order(size_t *ord, size_t k, size_t r, uint64_t seed,
    uint64_t stream, uint64_t index);

/* The module's input (W) from an embedding (p->D): the PCA components,
 * whitened, tiled to the module's width as the reference duplicates 8
 * image/audio components to fill 16.  p->ncomp divides W. */
void tart_embed(const struct tart_pca *p, const float *vec, float *out, size_t W);

/*
 * The in-context examples of predict, ready for queries: the PCA and
 * whitening fitted on the k examples only, and one prefix of 2k tokens
 * per order (the examples' order first, then seeded reshuffles), each
 * with its keys and values cached unless `cached` is 0.
 */
struct tart_context {
	struct tart_pca pca;
	size_t k, W, norders;
	float *prefix;			/* norders x 2k x W */
	struct gpt_cache *cache;	/* norders, or NULL */
};
/* From the k rows pick[] of X (n x D) with labels y.  Returns 0, or -1
 * with loam_seterr() when the PCA cannot be fitted. */
int tart_context_init(struct tart_context *c, struct gpt *m, const float *X,
    const int *y, size_t D, const size_t *pick, size_t k, size_t ncomp,
    size_t norders, int cached, uint64_t seed);
/* The module's logits for n queries x (n x W), averaged over the orders;
 * without the cache the whole sequence is run for every query, as the
 * reference does. */
void tart_context_logits(const struct tart_context *c, struct gpt *m,
    const float *x, size_t n, float *logits);
void tart_context_release(struct tart_context *c);

/*
 * eval: fresh tasks of dimension W (the module's inputs), each with k
 * examples and `queries` test points; the module's logit (averaged over
 * `norders` orders of the examples), logistic regression fitted on the
 * same examples and the Bayes rule with the true weights each classify
 * the test points.  k < 2000 (the random streams of each k are apart).
 */
struct tart_eval {
	size_t queries, norders;
	double alpha, C;
	uint64_t seed;
};
/* Task t for k: the test points each classified right (tart, logistic
 * regression, Bayes) in right[3].  Returns 0, or -1 when logistic
 * regression did not converge (its counts are those of where it
 * stopped). */
int tart_eval_task(struct gpt *m, const struct tart_eval *e, size_t k, size_t t,
    size_t right[3]);

/*
 * Logistic regression with an intercept, minimising
 *	0.5 |w|^2 + C sum_i logloss(y_i, x_i . w + b)
 * (scikit-learn's LogisticRegression(C) objective; the intercept is not
 * penalised) by Newton's method.  w has d + 1 entries, the intercept last.
 * Returns the iterations used, or -1 if it did not converge.
 */
int tart_logreg_fit(const float *x, const float *y, size_t n, size_t d,
    double C, double *w);

#ifdef __cplusplus
}
#endif

#endif
