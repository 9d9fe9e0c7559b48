/*
 * gpt - a GPT-2 style decoder over lib/nn: pre-LayerNorm blocks (causal
 * multi-head attention and a GELU MLP, 4x wide), learned absolute
 * positions, a final LayerNorm, no dropout.  The input side is either a
 * linear read-in of continuous tokens (TART's reasoning module) or a
 * token embedding table (a language model, as hedgehog-train's test
 * model); the output side is a linear read-out at every position.
 *
 * Parameters live in one flat float block, gradients in a second of the
 * same layout, Adam's moments in two more; each tensor has the name and
 * layout of the reference's PyTorch state dict (Hugging Face GPT2Model
 * under "_backbone.", Conv1D weights stored (in, out); nn.Linear read-in
 * and read-out stored (out, in)), so a reference checkpoint converted to
 * safetensors loads and ours loads in PyTorch.
 *
 * Ownership: gpt_init allocates everything the struct points to;
 * gpt_release frees it.  Activations are sized by the last gpt_forward's
 * (B, T) and reallocated when that changes.
 */
#ifndef LOAM_GPT_H
#define LOAM_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"
#include "safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

struct gpt_config {
	int n_in;	/* continuous token width (read-in); 0 when vocab is used */
	int vocab;	/* token vocabulary (embedding table); 0 when n_in is used */
	int max_len;	/* positions: rows of wpe */
	int n_layer;
	int n_head;
	int n_embd;	/* C; a multiple of n_head */
	int n_out;	/* read-out width at every position */
};

struct gpt_layer {
	float *ln1_w, *ln1_b;
	float *qkv_w, *qkv_b;		/* (C, 3C), (3C) */
	float *proj_w, *proj_b;		/* (C, C), (C) */
	float *ln2_w, *ln2_b;
	float *fc_w, *fc_b;		/* (C, 4C), (4C) */
	float *fcproj_w, *fcproj_b;	/* (4C, C), (C) */
};

/* Pointers to every tensor of one flat block (parameters or gradients). */
struct gpt_weights {
	float *in_w, *in_b;		/* (C, n_in), (C), or NULL */
	float *wte;			/* (vocab, C), or NULL */
	float *wpe;			/* (max_len, C) */
	struct gpt_layer *layers;	/* n_layer */
	float *lnf_w, *lnf_b;
	float *out_w, *out_b;		/* (n_out, C), (n_out) */
};

struct gpt_tensor {
	char *name;
	int ndim;
	size_t shape[2];
	size_t offset;			/* in floats from the block's start */
	size_t count;
};

/* One layer's saved activations, rows = B*T. */
struct gpt_layer_acts {
	float *ln1, *ln1_mean, *ln1_rstd;
	float *qkv;			/* (B, T, 3C) */
	float *att;			/* (B, NH, T, T) */
	float *atty;
	float *res2;
	float *ln2, *ln2_mean, *ln2_rstd;
	float *fch, *fchg;		/* (B, T, 4C) */
	float *res3;
};

struct gpt_acts {
	size_t B, T;
	float *block;			/* one allocation behind all of these */
	float *x0;			/* read-in (or embedding) + positions */
	struct gpt_layer_acts *layers;
	float *lnf, *lnf_mean, *lnf_rstd;
	float *logits;			/* (B, T, n_out) */
	/* backward scratch */
	float *dres, *dln, *dqkv, *datty, *dfch, *dfchg;
};

struct gpt {
	struct gpt_config cfg;
	size_t nparams;
	float *params;
	struct gpt_weights w;
	float *grads;			/* NULL until gpt_train_init */
	struct gpt_weights g;
	float *adam_m, *adam_v;		/* NULL until gpt_train_init */
	long adam_t;			/* Adam steps taken */
	size_t ntensors;
	struct gpt_tensor *tensors;
	struct gpt_acts a;
};

/* Check cfg and allocate a zeroed model.  -1 with loam_error() on a bad
 * configuration (nothing held then). */
int gpt_init(struct gpt *m, const struct gpt_config *cfg);
void gpt_release(struct gpt *m);
/* The reference's initialisation from seed: Hugging Face GPT-2's N(0, 0.02)
 * with residual projections scaled by 1/sqrt(2 n_layer), LayerNorms 1 and
 * 0, zero biases; PyTorch nn.Linear's U(-1/sqrt(in), 1/sqrt(in)) for
 * read-in and read-out. */
void gpt_init_weights(struct gpt *m, uint64_t seed);
/* Allocate gradients and Adam's moments (zeroed). */
void gpt_train_init(struct gpt *m);

/*
 * Forward pass over B sequences of T positions: x is (B, T, n_in) for a
 * read-in model, tokens (B, T) for an embedding model (the other NULL).
 * T <= max_len.  The logits land in m->a.logits (B, T, n_out).
 */
void gpt_forward(struct gpt *m, const float *x, const int *tokens,
    size_t B, size_t T);
/* Zero the gradient block. */
void gpt_zero_grad(struct gpt *m);
/* Backward pass of the last gpt_forward, given dlogits (B, T, n_out) and
 * the same inputs; accumulates into m->grads. */
void gpt_backward(struct gpt *m, const float *dlogits, const float *x,
    const int *tokens);
/* One Adam(W) step over all parameters. */
void gpt_adam_step(struct gpt *m, const struct nn_adamw *opt);

/* The (B, T, 3C) query/key/value activations of layer l from the last
 * forward pass. */
const float *gpt_layer_qkv(const struct gpt *m, int l);

/*
 * Prefix caching for inference: every query of a batch shares the same
 * causal prefix, so its keys and values are computed once, and each query
 * then costs one position's forward pass.
 */
struct gpt_cache {
	size_t len;			/* prefix length P */
	float *k, *v;			/* (n_layer, P, C) each */
};
/* Run the prefix x (P, n_in) and keep its keys and values. */
void gpt_cache_prefix(struct gpt *m, struct gpt_cache *c, const float *x,
    size_t P);
/* Logits (Q, n_out) of Q queries xq (Q, n_in), each placed alone at
 * position P after the cached prefix (P < max_len). */
void gpt_cache_query(struct gpt *m, const struct gpt_cache *c,
    const float *xq, size_t Q, float *logits);
void gpt_cache_release(struct gpt_cache *c);

/* Metadata keys for the configuration, and back.  gpt_config_from_meta
 * fails naming the missing or bad key. */
int gpt_config_from_meta(struct gpt_config *cfg, const struct safetensors *st);
/* The configuration read off the tensors' names and shapes, for a
 * checkpoint without loam's metadata (a converted reference state dict);
 * the head count cannot be seen in shapes and is given. */
int gpt_config_from_tensors(struct gpt_config *cfg, const struct safetensors *st,
    int n_head);
/* Write the parameters (which = 0), Adam's first (1) or second (2)
 * moments to path with the given metadata (the configuration keys are
 * added first). */
int gpt_save(const struct gpt *m, const char *path, int which,
    const struct safetensors_kv *meta, size_t nmeta);
/* Copy tensors by name from st into parameters (which = 0) or moments.
 * Every tensor must be present, F32, with the right shape; others in the
 * file (GPT-2's unused token table, attention mask buffers) are ignored. */
int gpt_load(struct gpt *m, const struct safetensors *st, int which);

/* Adam's state for resuming: tensors "exp_avg.NAME" and "exp_avg_sq.NAME"
 * (PyTorch's names) and the metadata "step" (the caller's training step,
 * a string) and "adam_t".  gpt_load_adam refuses a file whose step is
 * not `step`: a model and an optimiser state from different moments. */
int gpt_save_adam(const struct gpt *m, const char *path, const char *step);
int gpt_load_adam(struct gpt *m, const struct safetensors *st, long step);

#ifdef __cplusplus
}
#endif

#endif
