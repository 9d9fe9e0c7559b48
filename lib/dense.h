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
 * SPEC is "file.npy", "file.safetensors" (its only tensor) or
 * "file.safetensors:NAME".  On success *x (rows x cols floats, free()
 * it) is set; -1 with loam_error() naming the file otherwise.
 */
int dense_load_f32(const char *spec, float **x, size_t *rows, size_t *cols);

#ifdef __cplusplus
}
#endif

#endif
