/*
 * hedgehog - feature maps for linear attention trained to mimic softmax
 * attention by attention distillation (Zhang, Bhatia, Kumbong and Re,
 * "The Hedgehog & the Porcupine", ICLR 2024), the baseline maps they are
 * compared with, the distillation loss and its gradients, the trainer
 * (AdamW, held-out selection) and the analysis metrics.  hedgehog-train(1)
 * is the command; research/hedgehog.md has the derivations (section
 * numbers below are its).
 *
 * Per head: queries and keys q_i, k_j in R^d (n rows); the teacher is
 * causal softmax attention t_ij = softmax_j(q_i . k_j / sqrt d), j <= i;
 * the student is linear attention with map phi: R^d -> R^f,
 * p_ij = s_ij / sum_m s_im with s_ij = phi(q_i) . phi(k_j) (no 1/sqrt d:
 * the map absorbs it).  The loss is the soft-label cross-entropy
 * L = mean_i -sum_j t_ij log p_ij (§2.1), whose gradient is that of
 * KL(t || p).
 *
 * Arrays are flat, row-major floats; shapes are in the comments.
 * Backward functions accumulate (+=) into their gradient outputs.
 */
#ifndef LOAM_HEDGEHOG_H
#define LOAM_HEDGEHOG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum hedgehog_fmap {
	/* learned (§1.3), z = x W (+ b), W [d, df] */
	HEDGEHOG_FMAP_HEDGEHOG,   /* [softmax(z), softmax(-z)], per head (LoLCATs) */
	HEDGEHOG_FMAP_EXP,        /* [exp(z), exp(-z)], bias on (the paper) */
	HEDGEHOG_FMAP_FLA,        /* softmax([2z, -2z]), one map for all heads (fla) */
	/* fixed baselines (§3.1) */
	HEDGEHOG_FMAP_ELU1,       /* elu(x) + 1, f = d */
	HEDGEHOG_FMAP_RELU,       /* max(x, 0), f = d */
	HEDGEHOG_FMAP_PERFORMER,  /* FAVOR+ positive random features, f = 2 df */
	HEDGEHOG_FMAP_COSFORMER,  /* [relu(x) cos(pi i/2n), relu(x) sin(pi i/2n)], f = 2d */
	HEDGEHOG_FMAP_TAYLOR,     /* [1, x/d^1/4, vec(x x^T)/(sqrt 2 sqrt d)], f = 1 + d + d^2 */
	HEDGEHOG_NFMAP
};

/* "hedgehog", "hedgehog-exp", ... in enum order. */
extern const char *const hedgehog_fmap_names[HEDGEHOG_NFMAP];

/* Trained maps: the three hedgehog variants. */
int hedgehog_fmap_learned(int kind);
/* Output features f of a map on d inputs with hidden width df. */
int hedgehog_feature_count(int kind, int d, int df);

/* Clamp of the features of the softmax forms (LoLCATs's 1e-12) and the
 * range of z for the exp form, so that products of two features stay
 * finite in float. */
#define HEDGEHOG_FEATURE_MIN	1e-12f
#define HEDGEHOG_EXP_ZMAX	40.0f

/*
 * Learned map forward: z [n, df] = x [n, d] W [d, df] + b [df] (b may be
 * NULL), then phi [n, 2 df] by the variant.  z is kept (workspace the
 * caller owns).
 */
void hedgehog_learned_forward(int kind, float *phi, float *z, const float *x,
    const float *W, const float *b, int n, int d, int df);
/*
 * Its backward: from dphi [n, 2 df] and the forward's phi and z,
 * dW [d, df] += x^T dz, db [df] += sum_rows dz (db may be NULL).
 * dz [n, df] is workspace.
 */
void hedgehog_learned_backward(int kind, float *dW, float *db, float *dz,
    const float *dphi, const float *phi, const float *z, const float *x, int n,
    int d, int df);

/*
 * Fixed maps.  phi [n, f]; omega [m, d] the Performer's projections
 * (m = f, from hedgehog_performer_init), NULL otherwise.  Positive random
 * features are defined up to a factor per query and one factor for all
 * keys (they cancel in p), which the forward uses for range: is_query
 * says which side x is.
 */
void hedgehog_fixed_forward(int kind, float *phi, const float *x, int n, int d,
    const float *omega, int m, int is_query);
/* Orthogonal Gaussian projections, omega [m, d], rows in blocks of d
 * orthonormal directions scaled by chi(d) norms (FAVOR+), drawn from
 * stream RNG_HEDGEHOG_PERFORMER of the seed at index (layer << 16 | head). */
void hedgehog_performer_init(float *omega, int m, int d, uint64_t seed, uint64_t index);

/*
 * The distillation loss of one head on one sequence, in row blocks of
 * `block` queries: O(block n) memory, never the n x n matrices.
 * q, k [n, d] (teacher), fq, fk [n, f] (student).
 * Returns L = mean_i CE_i when want_loss (else 0); when dfq, dfk are not
 * NULL adds gscale dL/dfq, gscale dL/dfk into them:
 *	g_ij = (p_ij - t_ij) / s_ij,  dfq = G fk,  dfk = G^T fq  (§2.5).
 * ws holds hedgehog_loss_workspace(n, block) floats.
 */
double hedgehog_distill(const float *q, const float *k, const float *fq,
    const float *fk, int n, int d, int f, int causal, int block, int want_loss,
    float gscale, float *dfq, float *dfk, float *ws);
long hedgehog_loss_workspace(int n, int block);
/* The same in double over whole matrices: the reference the tests use. */
double hedgehog_distill_reference(const float *q, const float *k, const float *fq,
    const float *fk, int n, int d, int f, int causal, double *dfq, double *dfk);

/*
 * Analysis (§3.2), summed over rows by hedgehog_metrics_add() and averaged by
 * hedgehog_metrics_mean().  Student weights p_ij = s_ij / (sum s + 1e-12) and
 * CE with log(max(p, 1e-12)), as LoLCATs computes them, so maps that
 * give 0 weights (ReLU) have a finite CE.
 *	ce		-sum_j t_ij log p_ij
 *	kl		ce - H(t_i)
 *	entropy		H(p_i);  teacher_entropy  H(t_i)
 *	max_weight	max_j p_ij;  teacher_max_weight  max_j t_ij
 *	monotonicity	Spearman correlation of q_i . k_j and p_ij over j,
 *			rows with at least 3 keys (ties share ranks; a row
 *			of constant weights counts 0)
 */
struct hedgehog_metrics {
	double ce, kl, entropy, teacher_entropy, max_weight, teacher_max_weight;
	double monotonicity;
	double rows, mono_rows;
};
/* For Taylor, pass fq = fk = NULL: s_ij = 1 + u + u^2/2 with
 * u = q_i . k_j / sqrt d, the map's exact kernel, without its d^2 features. */
void hedgehog_metrics_add(struct hedgehog_metrics *m, const float *q, const float *k,
    const float *fq, const float *fk, int n, int d, int f, int causal, int block);
void hedgehog_metrics_mean(struct hedgehog_metrics *m);

/*
 * The trained maps of one layer: for q and for k, W [P, d, df] and
 * b [P, df] (NULL without bias), P = H heads, or 1 for the shared fla
 * form.  Identity initialisation: W[p][i][j] = (i == j), b = 0 (§1.3).
 */
struct hedgehog_maps {
	int kind, H, P, d, df, bias;
	float *wq, *wk, *bq, *bk;
};
void hedgehog_maps_init(struct hedgehog_maps *m, int kind, int H, int d, int df, int bias);
void hedgehog_maps_release(struct hedgehog_maps *m);
/* Parameter head of head h (h, or 0 when shared). */
int hedgehog_maps_param(const struct hedgehog_maps *m, int h);

/* The trainer's settings (defaults from LoLCATs, §2.4). */
struct hedgehog_fit_opts {
	int causal;		/* 1 */
	int block;		/* query rows per block: 64 */
	double lr;		/* 1e-2 */
	double weight_decay;	/* 0 */
	double beta1, beta2, adam_eps;	/* 0.9, 0.999, 1e-8 */
	int epochs;		/* 2; ignored when steps > 0 */
	int steps;		/* 0 */
	int batch;		/* sequences per step: 1 */
	int eval_every;		/* steps between validations: 50 */
	int patience;		/* validations without progress before lr *= 0.1: 10 */
	double min_lr;		/* 1e-5 */
	double xent_factor;	/* weight of the cross-entropy term: 1 */
	double mse_factor;	/* weight of the output MSE term (needs v): 0 */
	int chunk;		/* linear attention chunk for the MSE term: 64 */
	uint64_t seed;		/* order of the training sequences */
	/* called by one thread now and then with the steps done over all
	 * parameter heads (out of H x steps), or NULL */
	void (*progress)(void *arg, long done, long total);
	void *progress_arg;
};
void hedgehog_fit_opts_default(struct hedgehog_fit_opts *o);

/* What a fit reports per head: the validation loss before training and
 * at its best, and the step of the best.  The loss is
 * xent_factor CE + mse_factor MSE, the MSE being LoLCATs' output term
 * mean (y_linear - y_softmax)^2 over the head's outputs. */
struct hedgehog_fit_report {
	double *init_loss, *best_loss;	/* [H] */
	int *best_step;			/* [H] */
	int steps;
};

/*
 * Train m (initialised by the caller) on one layer's activations
 * q, k [S, H, n, d] (and v [S, H, n, dv] for the MSE term, else NULL and
 * dv 0): sequences train[0..ntrain) for the steps, val[0..nval)
 * for the held-out CE; the weights of the best validation are kept.
 * Parameter heads train in parallel on the OpenMP threads.  rep's arrays
 * hold H entries each (the caller allocates).  Returns 0, or -1 with
 * loam_error() on a non-finite loss.
 */
int hedgehog_fit_layer(struct hedgehog_maps *m, const float *q, const float *k,
    const float *v, int S, int H, int n, int d, int dv, const int *train, int ntrain, const int *val, int nval,
    const struct hedgehog_fit_opts *o, struct hedgehog_fit_report *rep);

/* Features of head h for x [n, d] (q when which = 0, k when 1) through
 * the trained maps; phi [n, 2 df], z [n, df] workspace. */
void hedgehog_maps_features(const struct hedgehog_maps *m, int h, int which, float *phi,
    float *z, const float *x, int n);

/*
 * Evaluation (lib/method/hedgehog_eval.c).
 *
 * The held-out sequences: the first nval of a shuffle of [0, S) drawn
 * from stream RNG_HEDGEHOG_SPLIT of the seed, in increasing order into
 * val; the others, in order, into train (*ntrain of them).
 */
void hedgehog_split(int S, int nval, uint64_t seed, int *train, int *ntrain, int *val);
/* The default number held out: a fifth of S, at least 1 of 2 or more. */
int hedgehog_default_val(int S);
/*
 * One map on head h of one layer, over the sequences seq[0..ns) of
 * q, k [S, H, n, d] (v [S, H, n, dv] or NULL): m receives the metrics'
 * means; returns the output MSE of linear against softmax attention
 * (causal only; NaN without v or without the mask).  maps holds the
 * learned maps for the hedgehog kinds (else NULL); df is the fixed maps'
 * width (Performer: 2 df features drawn from the seed, index
 * layer << 16 | h).
 */
double hedgehog_eval_head(struct hedgehog_metrics *m, int kind,
    const struct hedgehog_maps *maps, int df, uint64_t seed, int layer, int h,
    const float *q, const float *k, const float *v, int H, int n, int d, int dv,
    const int *seq, int ns, int causal, int block);
/* Add one head's means m into sum as one row, for a mean over heads
 * (hedgehog_metrics_mean() then divides). */
void hedgehog_metrics_pool(struct hedgehog_metrics *sum, const struct hedgehog_metrics *m);
/* The name of the first metric that is not finite, its value in *value
 * (mse NaN means no MSE, not a bad one), or NULL. */
const char *hedgehog_metrics_nonfinite(const struct hedgehog_metrics *m, double mse,
    double *value);

#ifdef __cplusplus
}
#endif

#endif
