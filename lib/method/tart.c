/*
 * tart - TART's task generator, training step, PCA/whitening, the
 * in-context examples of predict, eval's tasks and the
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

void
tart_train_rng(struct rng *r, uint64_t seed, long step, size_t b)
{
	rng_init(r, seed, RNG_TART_TRAIN_TASKS, (uint64_t)step << 20 | (uint64_t)b);
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
		tart_train_rng(&r, o->seed, step, b);
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

int
tart_pick_examples(const int *y, size_t n, size_t k, uint64_t seed, size_t *pick)
{
	size_t *cls[2], ncls[2] = { 0, 0 }, want[2] = { k / 2, k - k / 2 }, npick = 0;
	struct rng r;

	if (k > n)
		return loam_seterr("-k %zu but only %zu examples", k, n);
	if (k == n) {
		for (size_t i = 0; i < n; i++)
			pick[npick++] = i;
	} else {
		cls[0] = xmalloc((n + 1) * sizeof *cls[0]);
		cls[1] = xmalloc((n + 1) * sizeof *cls[1]);
		for (size_t i = 0; i < n; i++)
			cls[y[i]][ncls[y[i]]++] = i;
		for (int c = 0; c < 2; c++)
			if (ncls[c] < want[c]) {
				free(cls[0]);
				free(cls[1]);
				return loam_seterr("%zu examples of label %d, -k %zu needs %zu",
				    ncls[c], c, k, want[c]);
			}
		rng_init(&r, seed, RNG_TART_PICK, 0);
		for (int c = 0; c < 2; c++) {
			rng_shuffle(&r, cls[c], ncls[c], sizeof *cls[c]);
			for (size_t i = 0; i < want[c]; i++)
				pick[npick++] = cls[c][i];
		}
		free(cls[0]);
		free(cls[1]);
	}
	rng_init(&r, seed, RNG_TART_ORDER, 0);
	rng_shuffle(&r, pick, npick, sizeof *pick);
	return 0;
}

void
tart_next_order(size_t *ord, size_t k, size_t r, uint64_t seed, uint64_t stream,
    uint64_t index)
{
	struct rng g;

	if (r == 0) {
		for (size_t i = 0; i < k; i++)
			ord[i] = i;
		return;
	}
	rng_init(&g, seed, stream, index);
	rng_shuffle(&g, ord, k, sizeof *ord);
}

void
tart_embed(const struct tart_pca *p, const float *vec, float *out, size_t W)
{
	tart_pca_apply(p, vec, 1, out);
	for (size_t j = p->ncomp; j < W; j++)
		out[j] = out[j % p->ncomp];
}

int
tart_context_init(struct tart_context *c, struct gpt *m, const float *X,
    const int *y, size_t D, const size_t *pick, size_t k, size_t ncomp,
    size_t norders, int cached, uint64_t seed)
{
	size_t W = (size_t)m->cfg.n_in, P = 2 * k;
	float *kx = xmalloc(k * D * sizeof *kx + 1);
	size_t *ord;

	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < k; i++)
		memcpy(kx + i * D, X + pick[i] * D, D * sizeof *kx);
	if (tart_pca_fit(&c->pca, kx, k, D, ncomp) != 0) {
		free(kx);
		return -1;
	}
	c->k = k;
	c->W = W;
	c->norders = norders;
	c->prefix = xcalloc(norders * P * W + 1, sizeof *c->prefix);
	if (cached)
		c->cache = xcalloc(norders, sizeof *c->cache);
	ord = xmalloc((k + 1) * sizeof *ord);
	for (size_t oi = 0; oi < norders; oi++) {
		float *pre = c->prefix + oi * P * W;
		tart_next_order(ord, k, oi, seed, RNG_TART_REORDER, oi);
		for (size_t i = 0; i < k; i++) {
			tart_embed(&c->pca, kx + ord[i] * D, pre + 2 * i * W, W);
			pre[(2 * i + 1) * W] = (float)y[pick[ord[i]]];
		}
		if (cached)
			gpt_cache_prefix(m, &c->cache[oi], pre, P);
	}
	free(ord);
	free(kx);
	return 0;
}

void
tart_context_logits(const struct tart_context *c, struct gpt *m, const float *x,
    size_t n, float *logits)
{
	size_t W = c->W, P = 2 * c->k;
	float *one = xmalloc((n + 1) * sizeof *one);

	memset(logits, 0, n * sizeof *logits);
	for (size_t r = 0; r < c->norders; r++) {
		if (c->cache == NULL) {
			float *seq = xmalloc((P + 1) * W * sizeof *seq);
			memcpy(seq, c->prefix + r * P * W, P * W * sizeof *seq);
			for (size_t i = 0; i < n; i++) {
				memcpy(seq + P * W, x + i * W, W * sizeof *seq);
				gpt_forward(m, seq, NULL, 1, P + 1);
				one[i] = m->a.logits[P];
			}
			free(seq);
		} else
			gpt_cache_query(m, &c->cache[r], x, n, one);
		for (size_t i = 0; i < n; i++)
			logits[i] += one[i];
	}
	for (size_t i = 0; i < n; i++)
		logits[i] /= (float)c->norders;
	free(one);
}

void
tart_context_release(struct tart_context *c)
{
	tart_pca_release(&c->pca);
	if (c->cache != NULL)
		for (size_t oi = 0; oi < c->norders; oi++)
			gpt_cache_release(&c->cache[oi]);
	free(c->cache);
	free(c->prefix);
	memset(c, 0, sizeof *c);
}

int
tart_eval_task(struct gpt *m, const struct tart_eval *e, size_t k, size_t t,
    size_t right[3])
{
	size_t W = (size_t)m->cfg.n_in, Q = e->queries, N = k + Q;
	float *x = xmalloc(N * W * sizeof *x), *y = xmalloc(N * sizeof *y);
	float *w = xmalloc(W * sizeof *w), *z = xmalloc(2 * k * W * sizeof *z + 1);
	float *logits = xcalloc(Q + 1, sizeof *logits), *one = xmalloc((Q + 1) * sizeof *one);
	float *xo = xmalloc(k * W * sizeof *xo + 1), *yo = xmalloc((k + 1) * sizeof *yo);
	size_t *ord = xmalloc((k + 1) * sizeof *ord);
	double *lr = xmalloc((W + 1) * sizeof *lr);
	struct rng r;
	int rc;

	rng_init(&r, e->seed, RNG_TART_EVAL_TASKS + k, t);
	tart_sample_task(&r, (int)W, (int)W, e->alpha, N, x, y, w);
	/* The drawn order first, then seeded reshuffles; --orders is at
	 * most 1024: one index per (task, order). */
	for (size_t o = 0; o < e->norders; o++) {
		struct gpt_cache cache;
		tart_next_order(ord, k, o, e->seed, RNG_TART_EVAL_ORDERS + k, t * 1024 + o);
		for (size_t i = 0; i < k; i++) {
			memcpy(xo + i * W, x + ord[i] * W, W * sizeof *xo);
			yo[i] = y[ord[i]];
		}
		tart_interleave(xo, yo, k, (int)W, z);
		gpt_cache_prefix(m, &cache, z, 2 * k);
		gpt_cache_query(m, &cache, x + k * W, Q, one);
		gpt_cache_release(&cache);
		for (size_t q = 0; q < Q; q++)
			logits[q] += one[q];
	}
	for (size_t q = 0; q < Q; q++)
		logits[q] /= (float)e->norders;
	rc = tart_logreg_fit(x, y, k, W, e->C, lr) < 0 ? -1 : 0;
	right[0] = right[1] = right[2] = 0;
	for (size_t q = 0; q < Q; q++) {
		const float *xq = x + (k + q) * W;
		double sl = lr[W], sb = 0;
		for (size_t j = 0; j < W; j++) {
			sl += lr[j] * xq[j];
			sb += (double)w[j] * xq[j];
		}
		int yq = y[k + q] > 0.5f;
		right[0] += (logits[q] >= 0) == yq;
		right[1] += (sl >= 0) == yq;
		right[2] += (sb >= 0) == yq;
	}
	free(x); free(y); free(w); free(z); free(logits); free(one);
	free(xo); free(yo); free(ord); free(lr);
	return rc;
}
