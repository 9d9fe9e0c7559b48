/*
 * dense - 2-d float matrices from .npy or safetensors; see dense.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dense.h"
#include "npy.h"
#include "safetensors.h"
#include "util.h"

static int
load_safetensors(const char *path, const char *name, const char *prefer,
    float **x, size_t *rows, size_t *cols)
{
	struct safetensors st;
	const struct safetensors_tensor *t = NULL;
	size_t n;

	if (safetensors_open(&st, path) != 0)
		return -1;
	if (name != NULL)
		t = safetensors_find(&st, name);
	else {
		for (size_t i = 0; prefer != NULL && i < st.ntensors && !t; i++)
			if (strcmp(st.tensors[i].name, prefer) == 0)
				t = &st.tensors[i];
		if (t == NULL && st.ntensors == 1)
			t = &st.tensors[0];
		if (t == NULL)
			loam_seterr("%s: %zu tensors: name one as %s:NAME", path,
			    st.ntensors, path);
	}
	if (t == NULL) {
		safetensors_close(&st);
		return -1;
	}
	if (t->ndim != 2 || (t->dtype != SAFETENSORS_F32 &&
	    t->dtype != SAFETENSORS_F64)) {
		loam_seterr("%s: tensor '%s' must be a 2-d F32 or F64 matrix", path,
		    t->name);
		safetensors_close(&st);
		return -1;
	}
	*rows = t->shape[0];
	*cols = t->shape[1];
	n = *rows * *cols;
	*x = xreallocarray(NULL, n > 0 ? n : 1, sizeof **x);
	/* memcpy per element: the data need not be aligned */
	for (size_t i = 0; i < n; i++) {
		if (t->dtype == SAFETENSORS_F32) {
			float f;
			memcpy(&f, (const char *)t->data + 4 * i, 4);
			(*x)[i] = f;
		} else {
			double d;
			memcpy(&d, (const char *)t->data + 8 * i, 8);
			(*x)[i] = (float)d;
		}
	}
	safetensors_close(&st);
	return 0;
}

/* The ".safetensors" of a spec followed by its end or ":NAME", or NULL. */
static const char *
safetensors_suffix(const char *spec)
{
	const char *dot = strstr(spec, ".safetensors");

	return dot != NULL && (dot[12] == '\0' || dot[12] == ':') ? dot : NULL;
}

int
dense_is_spec(const char *spec)
{
	size_t n = strlen(spec);

	return (n > 4 && strcmp(spec + n - 4, ".npy") == 0) ||
	    safetensors_suffix(spec) != NULL;
}

int
dense_load_f32(const char *spec, const char *prefer, float **x, size_t *rows,
    size_t *cols)
{
	const char *dot = safetensors_suffix(spec);
	struct npy a;

	*x = NULL;
	if (dot != NULL) {
		char *path = xstrdup(spec);
		int rc;
		path[dot - spec + 12] = '\0';
		rc = load_safetensors(path, dot[12] == ':' ? dot + 13 : NULL, prefer, x,
		    rows, cols);
		free(path);
		return rc;
	}
	if (npy_open(&a, spec) != 0)
		return -1;
	if (a.ndim != 2) {
		loam_seterr("%s: expected a 2-d array, not %d-d", spec, a.ndim);
		npy_close(&a);
		return -1;
	}
	*rows = a.shape[0];
	*cols = a.shape[1];
	*x = xreallocarray(NULL, a.count > 0 ? a.count : 1, sizeof **x);
	if (npy_read_f32(&a, *x) != 0) {
		free(*x);
		*x = NULL;
		npy_close(&a);
		return -1;
	}
	npy_close(&a);
	return 0;
}
