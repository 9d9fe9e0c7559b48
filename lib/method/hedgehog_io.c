/*
 * hedgehog_io - activations by name from safetensors and .npy files; see
 * hedgehog_io.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hedgehog.h"
#include "hedgehog_io.h"
#include "util.h"

static int
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

int
hedgehog_inputs_open(struct hedgehog_inputs *in, char *const *paths, int n)
{
	memset(in, 0, sizeof *in);
	in->st = xcalloc((size_t)n + 1, sizeof *in->st);
	in->npy = xcalloc((size_t)n + 1, sizeof *in->npy);
	in->npy_names = xcalloc((size_t)n + 1, sizeof *in->npy_names);
	for (int i = 0; i < n; i++) {
		if (has_suffix(paths[i], ".npy")) {
			const char *base = strrchr(paths[i], '/');
			char *name;

			base = base ? base + 1 : paths[i];
			if (npy_open(&in->npy[in->nnpy], paths[i]) != 0)
				goto fail;
			name = xstrdup(base);
			name[strlen(name) - 4] = '\0';
			in->npy_names[in->nnpy++] = name;
		} else {
			if (safetensors_open(&in->st[in->nst], paths[i]) != 0)
				goto fail;
			in->nst++;
		}
	}
	return 0;
fail:
	{
		char *msg = xstrdup(loam_error());

		hedgehog_inputs_close(in);
		loam_seterr("%s", msg);
		free(msg);
	}
	return -1;
}

void
hedgehog_inputs_close(struct hedgehog_inputs *in)
{
	for (int i = 0; i < in->nst; i++)
		safetensors_close(&in->st[i]);
	for (int i = 0; i < in->nnpy; i++) {
		npy_close(&in->npy[i]);
		free(in->npy_names[i]);
	}
	free(in->st);
	free(in->npy);
	free(in->npy_names);
	memset(in, 0, sizeof *in);
}

static int
shape_of(struct hedgehog_tensor *t, int ndim, const size_t *shape)
{
	if (ndim == 4) {
		t->S = shape[0];
		t->H = shape[1];
		t->n = shape[2];
		t->d = shape[3];
	} else if (ndim == 3) {
		t->S = 1;
		t->H = shape[0];
		t->n = shape[1];
		t->d = shape[2];
	} else
		return loam_seterr("%s: tensor '%s': %d dimensions, expected 4 "
		    "[sequences, heads, length, head_dim] or 3", t->file, t->name, ndim);
	if (!t->S || !t->H || !t->n || !t->d)
		return loam_seterr("%s: tensor '%s': empty", t->file, t->name);
	return 0;
}

int
hedgehog_inputs_find(const struct hedgehog_inputs *in, const char *name, struct hedgehog_tensor *t)
{
	int found = 0;

	memset(t, 0, sizeof *t);
	t->name = name;
	for (int i = 0; i < in->nst; i++) {
		const struct safetensors_tensor *x = NULL;

		for (size_t j = 0; j < in->st[i].ntensors; j++)
			if (strcmp(in->st[i].tensors[j].name, name) == 0)
				x = &in->st[i].tensors[j];
		if (!x)
			continue;
		if (found++)
			return loam_seterr("%s: tensor '%s' also in %s", in->st[i].name, name,
			    t->file);
		t->file = in->st[i].name;
		t->st = x;
		if (x->dtype != SAFETENSORS_F32 && x->dtype != SAFETENSORS_F64 &&
		    x->dtype != SAFETENSORS_F16 && x->dtype != SAFETENSORS_BF16)
			return loam_seterr("%s: tensor '%s': dtype %s, expected F32, F64, F16 "
			    "or BF16", t->file, name, safetensors_dtype_name(x->dtype));
		if (shape_of(t, x->ndim, x->shape) != 0)
			return -1;
	}
	for (int i = 0; i < in->nnpy; i++) {
		const struct npy *a = &in->npy[i];

		if (strcmp(in->npy_names[i], name) != 0)
			continue;
		if (found++)
			return loam_seterr("%s: tensor '%s' also in %s", a->name, name, t->file);
		t->file = a->name;
		t->npy = a;
		if (a->dtype != NPY_F4 && a->dtype != NPY_F8)
			return loam_seterr("%s: dtype '%s', expected '<f4' or '<f8'", a->name,
			    npy_descr(a->dtype));
		if (shape_of(t, a->ndim, a->shape) != 0)
			return -1;
	}
	return found;
}

float
hedgehog_half_to_float(uint16_t h)
{
	int e = (h >> 10) & 0x1f, m = h & 0x3ff;
	float v;

	if (e == 0)
		v = ldexpf((float)m, -24);
	else if (e == 31)
		v = m ? NAN : INFINITY;
	else
		v = ldexpf((float)(m | 0x400), e - 25);
	return h & 0x8000 ? -v : v;
}

uint16_t
hedgehog_float_to_half(float f)
{
	uint32_t x, sign, mant;
	int e;

	memcpy(&x, &f, 4);
	sign = (x >> 16) & 0x8000;
	e = (int)((x >> 23) & 0xff) - 127 + 15;
	mant = x & 0x7fffff;
	if (((x >> 23) & 0xff) == 0xff)		/* inf, nan */
		return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
	if (e >= 31)
		return (uint16_t)(sign | 0x7c00);
	if (e <= 0) {				/* subnormal or zero */
		uint32_t m, shift, r, half;

		if (e < -10)
			return (uint16_t)sign;
		m = mant | 0x800000;
		shift = (uint32_t)(14 - e);
		r = m >> shift;
		half = 1u << (shift - 1);
		if ((m & ((half << 1) - 1)) > half || ((m & ((half << 1) - 1)) == half && (r & 1)))
			r++;
		return (uint16_t)(sign | r);
	}
	{
		uint32_t r = ((uint32_t)e << 10) | (mant >> 13), rest = mant & 0x1fff;

		if (rest > 0x1000 || (rest == 0x1000 && (r & 1)))
			r++;			/* may carry into the exponent: right */
		return (uint16_t)(sign | r);
	}
}

float
hedgehog_bf16_to_float(uint16_t h)
{
	uint32_t x = (uint32_t)h << 16;
	float f;

	memcpy(&f, &x, 4);
	return f;
}

int
hedgehog_tensor_read(const struct hedgehog_tensor *t, float *dst)
{
	size_t count = t->S * t->H * t->n * t->d;

	if (t->npy) {
		if (npy_read_f32(t->npy, dst) != 0)
			return -1;
	} else {
		const unsigned char *p = t->st->data;

		for (size_t i = 0; i < count; i++) {
			uint16_t h;
			double dv;

			switch (t->st->dtype) {
			case SAFETENSORS_F32:
				memcpy(&dst[i], p + 4 * i, 4);
				break;
			case SAFETENSORS_F64:
				memcpy(&dv, p + 8 * i, 8);
				dst[i] = (float)dv;
				break;
			case SAFETENSORS_F16:
				memcpy(&h, p + 2 * i, 2);
				dst[i] = hedgehog_half_to_float(h);
				break;
			default:
				memcpy(&h, p + 2 * i, 2);
				dst[i] = hedgehog_bf16_to_float(h);
				break;
			}
		}
	}
	for (size_t i = 0; i < count; i++)
		if (!(fabsf(dst[i]) <= HEDGEHOG_INPUT_MAX)) {
			size_t c = i % t->d, r = i / t->d, pos = r % t->n, h = (r / t->n) % t->H;
			size_t s = r / t->n / t->H;

			if (!isfinite(dst[i]))
				return loam_seterr("%s: tensor '%s': non-finite value at "
				    "[%zu, %zu, %zu, %zu]", t->file, t->name, s, h, pos, c);
			return loam_seterr("%s: tensor '%s': value %g at [%zu, %zu, %zu, %zu] "
			    "is beyond +-%g, more than the attention scores can hold",
			    t->file, t->name, (double)dst[i], s, h, pos, c, (double)HEDGEHOG_INPUT_MAX);
		}
	return 0;
}

char *
hedgehog_layer_name(const char *pattern, int layer)
{
	size_t n = strlen(pattern), cap = n + 32 * 4 + 1, o = 0;
	char *s = xmalloc(cap);

	for (size_t i = 0; i < n; i++) {
		if (strncmp(pattern + i, "{L}", 3) == 0) {
			if (o + 16 > cap)
				s = xrealloc(s, cap *= 2);
			o += (size_t)snprintf(s + o, cap - o, "%d", layer);
			i += 2;
		} else {
			if (o + 2 > cap)
				s = xrealloc(s, cap *= 2);
			s[o++] = pattern[i];
		}
	}
	s[o] = '\0';
	return s;
}

/* A count in the metadata, 0 to 2^24. */
static int
meta_count(const struct safetensors *st, const char *key, int *v)
{
	const char *s = safetensors_meta(st, key);
	char *end;
	long x;

	if (!s)
		return loam_seterr("%s: no metadata '%s'", st->name, key);
	x = strtol(s, &end, 10);
	if (*end || x < 0 || x > 1 << 24)
		return loam_seterr("%s: metadata '%s': '%s' is not a count", st->name, key, s);
	*v = (int)x;
	return 0;
}

int
hedgehog_weights_open(struct hedgehog_weights *w, const char *path, const char *default_prefix)
{
	const char *s;

	memset(w, 0, sizeof *w);
	if (safetensors_open(&w->st, path) != 0)
		return -1;
	s = safetensors_meta(&w->st, "fmap");
	w->kind = -1;
	for (int i = 0; i < HEDGEHOG_NFMAP; i++)
		if (s && hedgehog_fmap_learned(i) && strcmp(s, hedgehog_fmap_names[i]) == 0)
			w->kind = i;
	if (w->kind < 0) {
		loam_seterr("%s: metadata 'fmap' is '%s', not a hedgehog map", path, s ? s : "(none)");
		safetensors_close(&w->st);
		return -1;
	}
	if (meta_count(&w->st, "feature_dim", &w->df) != 0 ||
	    meta_count(&w->st, "num_heads", &w->H) != 0 ||
	    meta_count(&w->st, "head_dim", &w->d) != 0) {
		safetensors_close(&w->st);
		return -1;
	}
	s = safetensors_meta(&w->st, "bias");
	w->bias = s && strcmp(s, "true") == 0;
	s = safetensors_meta(&w->st, "prefix");
	w->prefix = xstrdup(s ? s : default_prefix);
	s = safetensors_meta(&w->st, "val_sequences");
	w->val = xmalloc(sizeof *w->val * (s ? strlen(s) / 2 + 2 : 1));
	if (s && *s) {
		char *copy = xstrdup(s), *save = NULL;

		for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
			w->val[w->nval++] = atoi(p);
		free(copy);
	}
	return 0;
}

void
hedgehog_weights_close(struct hedgehog_weights *w)
{
	safetensors_close(&w->st);
	free(w->prefix);
	free(w->val);
}

int
hedgehog_weights_get(const struct hedgehog_weights *w, int layer, const char *suffix, int P,
    int rows, float *dst)
{
	char *base = hedgehog_layer_name(w->prefix, layer), name[1024];
	const struct safetensors_tensor *x;
	size_t want = (size_t)P * rows * w->df;

	snprintf(name, sizeof name, "%s%s", base, suffix);
	free(base);
	if (!(x = safetensors_find(&w->st, name)))
		return loam_seterr("%s: no tensor '%s' for layer %d", w->st.name, name, layer);
	if (x->dtype != SAFETENSORS_F32 || x->nbytes != want * sizeof(float))
		return loam_seterr("%s: tensor '%s' is not F32 with %zu values", w->st.name, name, want);
	memcpy(dst, x->data, x->nbytes);
	return 0;
}
