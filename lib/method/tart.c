/*
 * tart - TART's task generator, training step, PCA/whitening and the
 * logistic-regression baseline; see tart.h.
 */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tart.h"
#include "util.h"

int
tart_ramp_at(const struct tart_ramp *r, long step)
{
	long v = r->start;

	if (r->interval > 0 && r->inc > 0)
		v += (long)r->inc * (step / r->interval);
	return v > r->end ? r->end : (int)v;
}

float
tart_lr_at(const struct tart_train_opts *o, long step)
{
	const struct tart_decay *d = &o->decay;
	double f;

	if (d->end <= d->start || step < d->start)
		return o->adam.lr;
	if (step >= d->end)
		return d->min;
	f = (double)(step - d->start) / (double)(d->end - d->start);
	return (float)(o->adam.lr + f * ((double)d->min - o->adam.lr));
}

void
tart_train_defaults(struct tart_train_opts *o)
{
	memset(o, 0, sizeof *o);
	o->n_dims = 16;
	o->alpha = 10.0;
	o->batch = 128;
	o->dims = (struct tart_ramp){ 4, 16, 4, 1000 };
	o->points = (struct tart_ramp){ 18, 258, 30, 1000 };
	o->adam = (struct nn_adamw){ 1e-4f, 0.9f, 0.999f, 1e-8f, 0.0f };
}

void
tart_sample_task(struct rng *r, int n_dims, int d, double alpha, size_t N,
    float *x, float *y, float *w)
{
	double *wv = xmalloc((size_t)n_dims * sizeof *wv + 1);

	if (d > n_dims)
		d = n_dims;
	/* The whole w is drawn whatever d is, so that the draws of a task do
	 * not shift with the curriculum; only x's coordinates are cut. */
	for (int j = 0; j < n_dims; j++)
		wv[j] = alpha * rng_normal(r);
	for (size_t i = 0; i < N; i++) {
		double dot = 0.0;
		for (int j = 0; j < n_dims; j++) {
			double v = rng_normal(r);
			if (j >= d)
				v = 0.0;
			x[i * n_dims + j] = (float)v;
			dot += (float)v * wv[j];
		}
		double p = 1.0 / (1.0 + exp(-dot));
		y[i] = rng_uniform(r) < p ? 1.0f : 0.0f;
	}
	if (w != NULL)
		for (int j = 0; j < n_dims; j++)
			w[j] = j < d ? (float)wv[j] : 0.0f;
	free(wv);
}

void
tart_interleave(const float *x, const float *y, size_t N, int n_dims, float *z)
{
	size_t D = (size_t)n_dims;

	memset(z, 0, 2 * N * D * sizeof *z);
	for (size_t i = 0; i < N; i++) {
		memcpy(z + 2 * i * D, x + i * D, D * sizeof *z);
		z[(2 * i + 1) * D] = y[i];
	}
}

double
tart_train_step(struct gpt *m, const struct tart_train_opts *o, long step)
{
	size_t B = (size_t)o->batch, D = (size_t)o->n_dims;
	size_t N = (size_t)tart_ramp_at(&o->points, step);
	int d = tart_ramp_at(&o->dims, step);
	size_t T = 2 * N;
	float *z = xmalloc(B * T * D * sizeof *z);
	float *x = xmalloc(N * D * sizeof *x), *y = xmalloc(N * sizeof *y);
	float *target = xcalloc(B * T, sizeof *target);
	unsigned char *mask = xcalloc(B * T, 1);
	float *dlogits = xcalloc(B * T, sizeof *dlogits);
	double loss;

	for (size_t b = 0; b < B; b++) {
		struct rng r;
		rng_init(&r, o->seed, (uint64_t)step, b);
		tart_sample_task(&r, o->n_dims, d, o->alpha, N, x, y, NULL);
		tart_interleave(x, y, N, o->n_dims, z + b * T * D);
		/* The logit at x_i predicts y_i. */
		for (size_t i = 0; i < N; i++) {
			target[b * T + 2 * i] = y[i];
			mask[b * T + 2 * i] = 1;
		}
	}
	gpt_forward(m, z, NULL, B, T);
	loss = nn_bce_forward(m->a.logits, target, mask, B * T);
	nn_bce_backward(dlogits, m->a.logits, target, mask, B * T);
	gpt_zero_grad(m);
	gpt_backward(m, dlogits, z, NULL);
	struct nn_adamw adam = o->adam;
	adam.lr = tart_lr_at(o, step);
	gpt_adam_step(m, &adam);
	free(z);
	free(x);
	free(y);
	free(target);
	free(mask);
	free(dlogits);
	return loss;
}

int
tart_pca_fit(struct tart_pca *p, const float *X, size_t k, size_t D,
    size_t ncomp)
{
	size_t r = k < D ? k : D;
	double *A, *U, *s, *Vt, *superb;
	lapack_int info;

	memset(p, 0, sizeof *p);
	if (k <= ncomp)
		return loam_seterr("%zu examples for %zu components: PCA needs more "
		    "examples than components", k, ncomp);
	if (D < ncomp)
		return loam_seterr("embeddings have %zu dimensions, fewer than %zu "
		    "components", D, ncomp);
	p->D = D;
	p->ncomp = ncomp;
	p->mean = xcalloc(D, sizeof *p->mean);
	for (size_t i = 0; i < k; i++)
		for (size_t j = 0; j < D; j++)
			p->mean[j] += X[i * D + j];
	for (size_t j = 0; j < D; j++)
		p->mean[j] /= (double)k;
	A = xmalloc(k * D * sizeof *A);
	for (size_t i = 0; i < k; i++)
		for (size_t j = 0; j < D; j++)
			A[i * D + j] = X[i * D + j] - p->mean[j];
	U = xmalloc(k * r * sizeof *U);
	s = xmalloc(r * sizeof *s);
	Vt = xmalloc(r * D * sizeof *Vt);
	superb = xmalloc(r * sizeof *superb);
	info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'S', 'S', (lapack_int)k,
	    (lapack_int)D, A, (lapack_int)D, s, U, (lapack_int)r, Vt, (lapack_int)D,
	    superb);
	if (info != 0) {
		free(A); free(U); free(s); free(Vt); free(superb);
		tart_pca_release(p);
		return loam_seterr("PCA: the SVD did not converge (LAPACK info %d)",
		    (int)info);
	}
	p->comp = xmalloc(ncomp * D * sizeof *p->comp);
	for (size_t c = 0; c < ncomp; c++) {
		/* svd_flip: the largest |u| of component c made positive */
		size_t arg = 0;
		for (size_t i = 1; i < k; i++)
			if (fabs(U[i * r + c]) > fabs(U[arg * r + c]))
				arg = i;
		double sign = U[arg * r + c] < 0 ? -1.0 : 1.0;
		double sd = s[c] / sqrt((double)(k - 1));
		if (!(sd > 1e-12 * (s[0] > 0 ? s[0] : 1.0))) {
			free(A); free(U); free(s); free(Vt); free(superb);
			tart_pca_release(p);
			return loam_seterr("the examples span fewer than %zu dimensions "
			    "(component %zu has zero variance)", ncomp, c + 1);
		}
		for (size_t j = 0; j < D; j++)
			p->comp[c * D + j] = sign * Vt[c * D + j] / sd;
	}
	free(A); free(U); free(s); free(Vt); free(superb);
	return 0;
}

void
tart_pca_apply(const struct tart_pca *p, const float *X, size_t n, float *out)
{
	size_t D = p->D;

	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < p->ncomp; c++) {
			double s = 0.0;
			const double *v = p->comp + c * D;
			for (size_t j = 0; j < D; j++)
				s += (X[i * D + j] - p->mean[j]) * v[j];
			out[i * p->ncomp + c] = (float)s;
		}
}

void
tart_pca_release(struct tart_pca *p)
{
	free(p->mean);
	free(p->comp);
	memset(p, 0, sizeof *p);
}

int
tart_logreg_fit(const float *x, const float *y, size_t n, size_t d, double C,
    double *w)
{
	size_t P = d + 1;
	double *H = xmalloc(P * P * sizeof *H), *g = xmalloc(P * sizeof *g);
	int it, rc = -1;

	memset(w, 0, P * sizeof *w);
	for (it = 1; it <= 100; it++) {
		/* gradient and Hessian of the objective at w */
		memset(H, 0, P * P * sizeof *H);
		for (size_t j = 0; j < d; j++) {
			g[j] = w[j];
			H[j * P + j] = 1.0;
		}
		g[d] = 0.0;
		for (size_t i = 0; i < n; i++) {
			const float *xi = x + i * d;
			double z = w[d];
			for (size_t j = 0; j < d; j++)
				z += w[j] * xi[j];
			double p = 1.0 / (1.0 + exp(-z)), q = C * p * (1.0 - p);
			double r = C * (p - y[i]);
			for (size_t a = 0; a < P; a++) {
				double xa = a < d ? xi[a] : 1.0;
				g[a] += r * xa;
				for (size_t b = 0; b <= a; b++)
					H[a * P + b] += q * xa * (b < d ? xi[b] : 1.0);
			}
		}
		for (size_t a = 0; a < P; a++)
			for (size_t b = a + 1; b < P; b++)
				H[a * P + b] = H[b * P + a];
		/* The intercept's diagonal has no penalty; a tiny ridge keeps H
		 * positive definite when every p(1-p) underflows. */
		H[d * P + d] += 1e-12;
		if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', (lapack_int)P, 1, H,
		    (lapack_int)P, g, 1) != 0)
			break;
		double step = 0.0;
		for (size_t a = 0; a < P; a++) {
			w[a] -= g[a];
			step += g[a] * g[a];
		}
		if (sqrt(step) < 1e-10) {
			rc = it;
			break;
		}
	}
	free(H);
	free(g);
	return rc;
}
