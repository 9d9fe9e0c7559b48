/*
 * hedgehog_eval - what hedgehog-train's eval measures and how both
 * subcommands choose the sequences: the seeded held-out split, one map's
 * metrics on one head, and the pooled means; see hedgehog.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hedgehog.h"
#include "linattn.h"
#include "rng.h"
#include "util.h"

int
hedgehog_default_val(int S)
{
	return S < 2 ? 0 : S / 5 > 1 ? S / 5 : 1;
}

void
hedgehog_split(int S, int nval, uint64_t seed, int *train, int *ntrain, int *val)
{
	int *perm = xmalloc(sizeof *perm * (size_t)(S > 0 ? S : 1));
	char *is_val = xcalloc((size_t)(S > 0 ? S : 1), 1);
	struct rng r;
	int nv = 0;

	for (int i = 0; i < S; i++)
		perm[i] = i;
	rng_init(&r, seed, RNG_HEDGEHOG_SPLIT, 0);
	rng_shuffle(&r, perm, (size_t)S, sizeof *perm);
	for (int i = 0; i < nval; i++)
		is_val[perm[i]] = 1;
	*ntrain = 0;
	for (int i = 0; i < S; i++) {
		if (is_val[i])
			val[nv++] = i;
		else
			train[(*ntrain)++] = i;
	}
	free(perm);
	free(is_val);
}

double
hedgehog_eval_head(struct hedgehog_metrics *mt, int kind, const struct hedgehog_maps *maps,
    int df, uint64_t seed, int layer, int h, const float *q, const float *k,
    const float *v, int H, int n, int d, int dv, const int *seq, int ns, int causal,
    int block)
{
	int learned = hedgehog_fmap_learned(kind);
	int f = hedgehog_feature_count(kind, d, learned ? maps->df : df);
	int kern = kind == HEDGEHOG_FMAP_TAYLOR;	/* metrics through the kernel */
	float *fq = xmalloc(sizeof *fq * (size_t)n * f);
	float *fk = xmalloc(sizeof *fk * (size_t)n * f);
	float *z = learned ? xmalloc(sizeof *z * (size_t)n * maps->df) : NULL;
	float *om = NULL, *ys = NULL, *yt = NULL;
	double se = 0;

	memset(mt, 0, sizeof *mt);
	if (kind == HEDGEHOG_FMAP_PERFORMER) {
		om = xmalloc(sizeof *om * (size_t)f * d);
		hedgehog_performer_init(om, f, d, seed, (uint64_t)layer << 16 | (uint64_t)h);
	}
	if (v) {
		ys = xmalloc(sizeof *ys * (size_t)n * dv);
		yt = xmalloc(sizeof *yt * (size_t)n * dv);
	}
	for (int s = 0; s < ns; s++) {
		size_t off = ((size_t)seq[s] * H + h) * n * d;
		size_t voff = ((size_t)seq[s] * H + h) * n * dv;

		if (learned) {
			hedgehog_maps_features(maps, h, 0, fq, z, q + off, n);
			hedgehog_maps_features(maps, h, 1, fk, z, k + off, n);
		} else {
			hedgehog_fixed_forward(kind, fq, q + off, n, d, om, f, 1);
			hedgehog_fixed_forward(kind, fk, k + off, n, d, om, f, 0);
		}
		hedgehog_metrics_add(mt, q + off, k + off, kern ? NULL : fq, kern ? NULL : fk, n,
		    d, f, causal, block);
		if (v && causal) {
			linattn_forward(ys, NULL, fq, fk, v + voff, n, f, dv, 0);
			linattn_softmax_forward(yt, q + off, k + off, v + voff, n, d, dv,
			    1 / sqrtf((float)d), 1, block);
			for (size_t i = 0; i < (size_t)n * dv; i++)
				se += ((double)ys[i] - yt[i]) * ((double)ys[i] - yt[i]);
		}
	}
	hedgehog_metrics_mean(mt);
	free(fq);
	free(fk);
	free(z);
	free(om);
	free(ys);
	free(yt);
	return v && causal ? se / ((double)ns * n * dv) : NAN;
}

void
hedgehog_metrics_pool(struct hedgehog_metrics *sum, const struct hedgehog_metrics *m)
{
	sum->ce += m->ce;
	sum->kl += m->kl;
	sum->entropy += m->entropy;
	sum->teacher_entropy += m->teacher_entropy;
	sum->max_weight += m->max_weight;
	sum->teacher_max_weight += m->teacher_max_weight;
	sum->monotonicity += m->monotonicity;
	sum->rows++;
	sum->mono_rows++;
}

const char *
hedgehog_metrics_nonfinite(const struct hedgehog_metrics *m, double mse, double *value)
{
	const struct {
		const char *key;
		double v;
	} f[] = {
		{ "ce", m->ce }, { "kl", m->kl }, { "entropy", m->entropy },
		{ "teacher_entropy", m->teacher_entropy }, { "max_weight", m->max_weight },
		{ "teacher_max_weight", m->teacher_max_weight },
		{ "monotonicity", m->monotonicity }, { "mse", isnan(mse) ? 0 : mse },
	};

	for (size_t i = 0; i < sizeof f / sizeof *f; i++)
		if (!isfinite(f[i].v)) {
			*value = f[i].v;
			return f[i].key;
		}
	return NULL;
}
