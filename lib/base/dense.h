/*
 * dense - load a 2-d float matrix (embeddings, one row per item) from a
 * NumPy .npy file or a tensor of a safetensors file, whatever its dtype
 * and order, into a C-order float array the caller owns.
 */
#ifndef LOAM_DENSE_H
#define LOAM_DENSE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * SPEC is "file.npy", "file.safetensors" or "file.safetensors:NAME".  In
 * a safetensors file the tensor is NAME when the spec gives one; else
 * the tensor called PREFER (may be NULL) when there is one; else the
 * file's only tensor.  On success *x (rows x cols floats, free() it) is
 * set; -1 with loam_error() naming the file otherwise.
 */
int dense_load_f32(const char *spec, const char *prefer, float **x,
    size_t *rows, size_t *cols);

/* Whether SPEC names a matrix file dense_load_f32 reads (by its name:
 * .npy, or .safetensors with or without :NAME), not records. */
int dense_is_spec(const char *spec);

#ifdef __cplusplus
}
#endif

#endif
