/*
 * hedgehog_io - hedgehog-train's inputs: query/key/value activations in
 * safetensors files or .npy files, found by name, read as float.
 *
 * A set of input files acts as one namespace of tensors: every tensor of
 * every safetensors file, and each .npy file under its base name without
 * ".npy" (so layers.0.q.npy holds the tensor "layers.0.q").  A name found
 * twice is an error.  Activations have shape [sequences, heads, length,
 * head_dim], or [heads, length, head_dim] for one sequence; dtypes F32,
 * F64, F16 and BF16 (.npy: '<f4', '<f8').  A NaN or infinity is an error
 * that names the file, the tensor and the element, and so is a value
 * beyond +-HEDGEHOG_INPUT_MAX.
 */
#ifndef LOAM_HEDGEHOG_IO_H
#define LOAM_HEDGEHOG_IO_H

#include <stddef.h>
#include <stdint.h>

#include "npy.h"
#include "safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest magnitude accepted in q, k and v: float16's largest value,
 * which activations of a model run in half precision never exceed.  Why a
 * bound at all: the scores q.k / sqrt(d) reach sqrt(d) x^2 (2.7e11 at
 * d = 4096) and the Taylor kernel d x^4 / 2 (3.8e22), finite in float; at
 * 3e38 they overflow to infinity, and softmax and the losses turn to NaN
 * that would be printed as metrics. */
#define HEDGEHOG_INPUT_MAX 65504.0f

struct hedgehog_inputs {
	int nst, nnpy;
	struct safetensors *st;
	struct npy *npy;
	char **npy_names;	/* base names without .npy */
};

/* Open every path (".npy" by suffix, anything else as safetensors).
 * -1 with loam_error() naming the file; nothing held then. */
int hedgehog_inputs_open(struct hedgehog_inputs *in, char *const *paths, int n);
void hedgehog_inputs_close(struct hedgehog_inputs *in);

/* One activation tensor, viewed as [S, H, n, d]. */
struct hedgehog_tensor {
	const char *name, *file;
	size_t S, H, n, d;
	const struct safetensors_tensor *st;	/* or */
	const struct npy *npy;
};

/* 1 and t filled when NAME exists, 0 when it does not, -1 with
 * loam_error() when it exists but is not [S, H, n, d] or [H, n, d] of a
 * float dtype, or exists twice. */
int hedgehog_inputs_find(const struct hedgehog_inputs *in, const char *name, struct hedgehog_tensor *t);
/* Copy t as float into dst [S*H*n*d]; -1 on a non-finite value. */
int hedgehog_tensor_read(const struct hedgehog_tensor *t, float *dst);

/* IEEE binary16 and bfloat16 <-> float (round to nearest even). */
float hedgehog_half_to_float(uint16_t h);
uint16_t hedgehog_float_to_half(float f);
float hedgehog_bf16_to_float(uint16_t h);

/* PATTERN with every "{L}" replaced by the layer number, into a new
 * string the caller frees. */
char *hedgehog_layer_name(const char *pattern, int layer);

/*
 * The maps fit writes, read back: a safetensors file whose metadata names
 * the map ("fmap" one of the hedgehog kinds), "feature_dim", "num_heads",
 * "head_dim", "bias", the weight names' "prefix" and the held-out
 * "val_sequences" (a comma list, maybe empty).
 */
struct hedgehog_weights {
	struct safetensors st;
	int kind, df, bias, H, d;
	char *prefix;
	int *val, nval;
};
/* 0, or -1 with loam_error() naming the file and what is wrong;
 * default_prefix when the metadata has none. */
int hedgehog_weights_open(struct hedgehog_weights *w, const char *path,
    const char *default_prefix);
void hedgehog_weights_close(struct hedgehog_weights *w);
/* Copy the tensor prefix(layer) + suffix, P x rows x df floats, into dst:
 * 0, or -1 with loam_error() when it is absent or not F32 of that size. */
int hedgehog_weights_get(const struct hedgehog_weights *w, int layer, const char *suffix,
    int P, int rows, float *dst);

#ifdef __cplusplus
}
#endif

#endif
