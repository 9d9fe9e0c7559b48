/*
 * hedgehog_test - lib/hedgehog: the identity-initialised map equals its
 * analytical value; every learned map's backward against finite
 * differences; the row-blocked loss and gradients against the double
 * reference (causal and bidirectional, blocks that do not divide n) and
 * the whole chain W -> phi -> loss against finite differences; the fixed
 * maps' kernels (1 + ELU, cosFormer's cos(pi(i-j)/2n), Taylor's
 * 1 + u + u^2/2, Performer's estimate of exp(u)); the metrics; and a fit
 * on synthetic q/k (a random projection of structured sequences) that
 * must lower the held-out KL well below 1 + ELU's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hedgehog.h"
#include "hedgehog_io.h"
#include "linattn.h"
#include "rng.h"
#include "safetensors.h"
#include "tap.h"
#include "util.h"
#include "vexp.h"

static float *
randv(struct rng *r, size_t n, double sd)
{
	float *x = xmalloc(sizeof *x * n);

	for (size_t i = 0; i < n; i++)
		x[i] = (float)(sd * rng_normal(r));
	return x;
}

static void
test_identity(void)
{
	enum { N = 3, D = 4 };
	struct hedgehog_maps m;
	struct rng r;
	float *x, phi[N * 2 * D], z[N * D];
	double worst = 0;

	rng_init(&r, 5, 0, 0);
	x = randv(&r, N * D, 1.5);
	hedgehog_maps_init(&m, HEDGEHOG_FMAP_HEDGEHOG, 2, D, D, 0);
	hedgehog_maps_features(&m, 1, 0, phi, z, x, N);
	for (int i = 0; i < N; i++) {
		double sp = 0, sm = 0;

		for (int j = 0; j < D; j++) {
			sp += exp(x[i * D + j]);
			sm += exp(-x[i * D + j]);
		}
		for (int j = 0; j < D; j++) {
			double e1 = fabs(phi[i * 2 * D + j] - exp(x[i * D + j]) / sp);
			double e2 = fabs(phi[i * 2 * D + D + j] - exp(-x[i * D + j]) / sm);

			worst = fmax(worst, fmax(e1, e2));
		}
	}
	ok(worst < 1e-6, "identity init: phi = [softmax(x), softmax(-x)] (%.2g)", worst);
	hedgehog_maps_release(&m);
	/* d > df: the identity picks the first df coordinates (LoLCATs' eye) */
	hedgehog_maps_init(&m, HEDGEHOG_FMAP_HEDGEHOG, 1, D, 2, 0);
	hedgehog_maps_features(&m, 0, 1, phi, z, x, 1);
	is_dbl(phi[0] / phi[1], exp(x[0] - x[1]), 1e-5, "identity init d=4 df=2: first two coordinates");
	hedgehog_maps_release(&m);
	free(x);
}

/* sum R . phi(x W + b) in double. */
static double
map_objective(int kind, const float *R, const float *x, const float *W,
    const float *b, int n, int d, int df, float *phi, float *z)
{
	double s = 0;

	hedgehog_learned_forward(kind, phi, z, x, W, b, n, d, df);
	for (size_t i = 0; i < (size_t)n * 2 * df; i++)
		s += (double)R[i] * phi[i];
	return s;
}

static void
test_map_backward(int kind)
{
	enum { N = 5, D = 4, DF = 3 };
	struct rng r;
	float *x, *W, *b, *R, phi[N * 2 * DF], z[N * DF], dz[N * DF];
	float dW[D * DF] = { 0 }, db[DF] = { 0 };
	double worst = 0;

	rng_init(&r, 6, (uint64_t)kind, 0);
	x = randv(&r, N * D, 1);
	W = randv(&r, D * DF, 0.7);
	b = randv(&r, DF, 0.5);
	R = randv(&r, N * 2 * DF, 1);
	hedgehog_learned_forward(kind, phi, z, x, W, b, N, D, DF);
	hedgehog_learned_backward(kind, dW, db, dz, R, phi, z, x, N, D, DF);
	for (int t = 0; t < D * DF + DF; t++) {
		float *p = t < D * DF ? &W[t] : &b[t - D * DF], keep = *p;
		double g = t < D * DF ? dW[t] : db[t - D * DF], h = 1e-2, fd;

		*p = keep + (float)h;
		fd = map_objective(kind, R, x, W, b, N, D, DF, phi, z);
		*p = keep - (float)h;
		fd -= map_objective(kind, R, x, W, b, N, D, DF, phi, z);
		*p = keep;
		fd /= 2 * h;
		worst = fmax(worst, fabs(fd - g) / (1e-2 + fabs(fd)));
	}
	ok(worst < 1e-2, "%s: dW, db = finite differences (%.2g)", hedgehog_fmap_names[kind], worst);
	free(x);
	free(W);
	free(b);
	free(R);
}

static void
test_loss_reference(int causal, int n, int block)
{
	enum { D = 8, DF = 6, F = 2 * DF };
	struct rng r;
	float *q, *k, *W, *fq, *fk, *z, *dfq, *dfk, *ws;
	double *rq, *rk, L, Lr, wq = 0, wk = 0;

	rng_init(&r, 7, (uint64_t)causal, (uint64_t)n);
	q = randv(&r, (size_t)n * D, 1.5);
	k = randv(&r, (size_t)n * D, 1.5);
	W = randv(&r, D * DF, 0.8);
	fq = xmalloc(sizeof *fq * (size_t)n * F);
	fk = xmalloc(sizeof *fk * (size_t)n * F);
	z = xmalloc(sizeof *z * (size_t)n * DF);
	dfq = xcalloc((size_t)n * F, sizeof *dfq);
	dfk = xcalloc((size_t)n * F, sizeof *dfk);
	rq = xcalloc((size_t)n * F, sizeof *rq);
	rk = xcalloc((size_t)n * F, sizeof *rk);
	ws = xmalloc(sizeof *ws * (size_t)hedgehog_loss_workspace(n, block));
	hedgehog_learned_forward(HEDGEHOG_FMAP_HEDGEHOG, fq, z, q, W, NULL, n, D, DF);
	hedgehog_learned_forward(HEDGEHOG_FMAP_HEDGEHOG, fk, z, k, W, NULL, n, D, DF);
	L = hedgehog_distill(q, k, fq, fk, n, D, F, causal, block, 1, 1, dfq, dfk, ws);
	Lr = hedgehog_distill_reference(q, k, fq, fk, n, D, F, causal, rq, rk);
	for (size_t i = 0; i < (size_t)n * F; i++) {
		wq = fmax(wq, fabs(dfq[i] - rq[i]) / (1e-3 + fabs(rq[i])));
		wk = fmax(wk, fabs(dfk[i] - rk[i]) / (1e-3 + fabs(rk[i])));
	}
	is_dbl(L, Lr, 1e-5 * Lr, "loss = reference (%s, n %d, block %d): %.9g",
	    causal ? "causal" : "bidirectional", n, block, L);
	ok(wq < 1e-4 && wk < 1e-4, "dfq, dfk = reference (%.2g, %.2g)", wq, wk);
	/* without gradients, the same loss */
	is_dbl(hedgehog_distill(q, k, fq, fk, n, D, F, causal, block, 1, 0, NULL, NULL, ws), L, 0,
	    "loss alone = loss with gradients");
	free(q);
	free(k);
	free(W);
	free(fq);
	free(fk);
	free(z);
	free(dfq);
	free(dfk);
	free(rq);
	free(rk);
	free(ws);
}

/* The chain W -> phi(q), phi(k) -> loss, for each learned variant. */
static double
chain_loss(int kind, const float *q, const float *k, const float *Wq,
    const float *Wk, const float *b, int n, int d, int df, float *fq, float *fk,
    float *z, float *ws)
{
	hedgehog_learned_forward(kind, fq, z, q, Wq, b, n, d, df);
	hedgehog_learned_forward(kind, fk, z, k, Wk, b, n, d, df);
	return hedgehog_distill(q, k, fq, fk, n, d, 2 * df, 1, 8, 1, 0, NULL, NULL, ws);
}

static void
test_chain(int kind)
{
	enum { N = 20, D = 4, DF = 4, F = 2 * DF };
	struct rng r;
	float *q, *k, *Wq, *Wk, fq[N * F], fk[N * F], zq[N * DF], zk[N * DF], dz[N * DF];
	float dfq[N * F] = { 0 }, dfk[N * F] = { 0 }, dWq[D * DF] = { 0 }, dWk[D * DF] = { 0 };
	float *ws = xmalloc(sizeof *ws * (size_t)hedgehog_loss_workspace(N, 8));
	double worst = 0;

	rng_init(&r, 8, (uint64_t)kind, 0);
	q = randv(&r, N * D, 1.2);
	k = randv(&r, N * D, 1.2);
	Wq = randv(&r, D * DF, 0.5);
	Wk = randv(&r, D * DF, 0.5);
	hedgehog_learned_forward(kind, fq, zq, q, Wq, NULL, N, D, DF);
	hedgehog_learned_forward(kind, fk, zk, k, Wk, NULL, N, D, DF);
	hedgehog_distill(q, k, fq, fk, N, D, F, 1, 8, 0, 1, dfq, dfk, ws);
	hedgehog_learned_backward(kind, dWq, NULL, dz, dfq, fq, zq, q, N, D, DF);
	hedgehog_learned_backward(kind, dWk, NULL, dz, dfk, fk, zk, k, N, D, DF);
	for (int t = 0; t < 2 * D * DF; t++) {
		float *p = t < D * DF ? &Wq[t] : &Wk[t - D * DF], keep = *p;
		double g = t < D * DF ? dWq[t] : dWk[t - D * DF], h = 5e-3, fd;

		*p = keep + (float)h;
		fd = chain_loss(kind, q, k, Wq, Wk, NULL, N, D, DF, fq, fk, zq, ws);
		*p = keep - (float)h;
		fd -= chain_loss(kind, q, k, Wq, Wk, NULL, N, D, DF, fq, fk, zq, ws);
		*p = keep;
		fd /= 2 * h;
		worst = fmax(worst, fabs(fd - g) / (2e-3 + fabs(fd)));
	}
	ok(worst < 2e-2, "%s: dL/dWq, dL/dWk = finite differences (%.2g)", hedgehog_fmap_names[kind], worst);
	free(q);
	free(k);
	free(Wq);
	free(Wk);
	free(ws);
}

static double
dot(const float *a, const float *b, int n)
{
	double s = 0;

	for (int i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

static void
test_fixed(void)
{
	enum { N = 6, D = 5 };
	struct rng r;
	float *q, *k, pq[N * 2 * D], pk[N * 2 * D];
	float *tq = xmalloc(sizeof *tq * N * (1 + D + D * D));
	float *tk = xmalloc(sizeof *tk * N * (1 + D + D * D));
	double wc = 0, wt = 0;
	int ft = 1 + D + D * D;

	rng_init(&r, 9, 0, 0);
	q = randv(&r, N * D, 1);
	k = randv(&r, N * D, 1);
	hedgehog_fixed_forward(HEDGEHOG_FMAP_ELU1, pq, q, N, D, NULL, 0, 1);
	ok(pq[0] == (q[0] > 0 ? q[0] + 1 : expf(q[0])) && pq[0] > 0, "elu1: elu(x) + 1 > 0");
	hedgehog_fixed_forward(HEDGEHOG_FMAP_RELU, pq, q, N, D, NULL, 0, 1);
	ok(pq[1] == (q[1] > 0 ? q[1] : 0), "relu: max(x, 0)");
	hedgehog_fixed_forward(HEDGEHOG_FMAP_COSFORMER, pq, q, N, D, NULL, 0, 1);
	hedgehog_fixed_forward(HEDGEHOG_FMAP_COSFORMER, pk, k, N, D, NULL, 0, 0);
	hedgehog_fixed_forward(HEDGEHOG_FMAP_TAYLOR, tq, q, N, D, NULL, 0, 1);
	hedgehog_fixed_forward(HEDGEHOG_FMAP_TAYLOR, tk, k, N, D, NULL, 0, 0);
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			double rr = 0, u = dot(q + i * D, k + j * D, D) / sqrt(D);

			for (int c = 0; c < D; c++)
				rr += fmax(q[i * D + c], 0) * fmax(k[j * D + c], 0);
			wc = fmax(wc, fabs(dot(pq + i * 2 * D, pk + j * 2 * D, 2 * D) -
			    rr * cos(M_PI * (i - j) / (2.0 * N))));
			wt = fmax(wt, fabs(dot(tq + i * ft, tk + j * ft, ft) - (1 + u + u * u / 2)));
		}
	ok(wc < 1e-5, "cosformer: phi(q_i).phi(k_j) = relu(q).relu(k) cos(pi(i-j)/2n) (%.2g)", wc);
	ok(wt < 1e-5, "taylor: phi(q).phi(k) = 1 + u + u^2/2 (%.2g)", wt);
	{
		/* Performer: s_ij / s_ij' estimates exp(u_ij - u_ij') */
		enum { M = 16384 };
		float *om = xmalloc(sizeof *om * M * D), *fq = xmalloc(sizeof *fq * N * M);
		float *fk = xmalloc(sizeof *fk * N * M);
		double worst = 0;

		for (int i = 0; i < N * D; i++) {
			q[i] *= 0.5f;
			k[i] *= 0.5f;
		}
		hedgehog_performer_init(om, M, D, 1, 0);
		hedgehog_fixed_forward(HEDGEHOG_FMAP_PERFORMER, fq, q, N, D, om, M, 1);
		hedgehog_fixed_forward(HEDGEHOG_FMAP_PERFORMER, fk, k, N, D, om, M, 0);
		for (int j = 1; j < N; j++) {
			double ratio = dot(fq, fk + (size_t)j * M, M) / dot(fq, fk, M);
			double want = exp((dot(q, k + j * D, D) - dot(q, k, D)) / sqrt(D));

			worst = fmax(worst, fabs(ratio / want - 1));
		}
		ok(worst < 0.05, "performer: s_0j / s_00 estimates exp(u_0j - u_00) (%.3f)", worst);
		free(om);
		free(fq);
		free(fk);
	}
	free(q);
	free(k);
	free(tq);
	free(tk);
}

static void
test_metrics(void)
{
	enum { N = 40, D = 6 };
	struct rng r;
	float *q, *k, *tq, *tk, *eq, *ek;
	struct hedgehog_metrics a = { 0 }, b = { 0 }, e = { 0 };
	int ft = 1 + D + D * D;

	rng_init(&r, 10, 0, 0);
	q = randv(&r, N * D, 0.4);	/* |u| < 1: Taylor is monotone */
	k = randv(&r, N * D, 0.4);
	tq = xmalloc(sizeof *tq * N * ft);
	tk = xmalloc(sizeof *tk * N * ft);
	eq = xmalloc(sizeof *eq * N * D);
	ek = xmalloc(sizeof *ek * N * D);
	hedgehog_fixed_forward(HEDGEHOG_FMAP_TAYLOR, tq, q, N, D, NULL, 0, 1);
	hedgehog_fixed_forward(HEDGEHOG_FMAP_TAYLOR, tk, k, N, D, NULL, 0, 0);
	hedgehog_metrics_add(&a, q, k, tq, tk, N, D, ft, 1, 16);
	hedgehog_metrics_add(&b, q, k, NULL, NULL, N, D, ft, 1, 7);
	hedgehog_metrics_mean(&a);
	hedgehog_metrics_mean(&b);
	is_dbl(a.kl, b.kl, 1e-6, "taylor metrics: features = kernel (KL %.3g)", a.kl);
	is_dbl(a.monotonicity, 1, 1e-9, "taylor with |u| < 1: monotonicity 1");
	is_dbl(a.ce - a.teacher_entropy, a.kl, 1e-9, "KL = CE - H(teacher)");
	ok(a.kl >= 0 && a.kl < 0.01, "taylor ~ softmax for small u: KL %.2g", a.kl);
	is_dbl(a.rows, N, 0, "one row per query");
	is_dbl(a.mono_rows, N - 2, 0, "rows with 3+ keys");
	hedgehog_fixed_forward(HEDGEHOG_FMAP_ELU1, eq, q, N, D, NULL, 0, 1);
	hedgehog_fixed_forward(HEDGEHOG_FMAP_ELU1, ek, k, N, D, NULL, 0, 0);
	hedgehog_metrics_add(&e, q, k, eq, ek, N, D, D, 1, 64);
	hedgehog_metrics_mean(&e);
	ok(e.monotonicity < 0.99 && e.kl > a.kl,
	    "elu1: less monotone (%.3f), larger KL (%.3g)", e.monotonicity, e.kl);
	free(q);
	free(k);
	free(tq);
	free(tk);
	free(eq);
	free(ek);
}

/*
 * Synthetic activations: a sequence of tokens from a small vocabulary
 * with repeats (copy structure), embedded, and projected to q, k by
 * random per-head matrices plus a positional term, so that the
 * attention is spiky and content-dependent.
 */
static void
synth(float *q, float *k, int S, int H, int n, int d, uint64_t seed)
{
	enum { V = 32, E = 24 };
	struct rng r;
	float *emb, *Pq, *Pk;
	int *tok = xmalloc(sizeof *tok * (size_t)n);

	rng_init(&r, seed, 0, 0);
	emb = randv(&r, V * E, 1);
	Pq = randv(&r, (size_t)H * E * d, 1.2 / sqrt(E));
	Pk = randv(&r, (size_t)H * E * d, 1.2 / sqrt(E));
	for (int s = 0; s < S; s++) {
		for (int i = 0; i < n; i++)
			tok[i] = i >= 8 && rng_uniform(&r) < 0.3 ? tok[i - 8] :
			    (int)rng_uniform_int(&r, V);
		for (int h = 0; h < H; h++)
			for (int i = 0; i < n; i++)
				for (int c = 0; c < d; c++) {
					double aq = 0, ak = 0;

					for (int e = 0; e < E; e++) {
						aq += emb[tok[i] * E + e] * Pq[((size_t)h * E + e) * d + c];
						ak += emb[tok[i] * E + e] * Pk[((size_t)h * E + e) * d + c];
					}
					q[(((size_t)s * H + h) * n + i) * d + c] = (float)aq;
					k[(((size_t)s * H + h) * n + i) * d + c] = (float)ak;
				}
	}
	free(emb);
	free(Pq);
	free(Pk);
	free(tok);
}

static double
eval_kl(const struct hedgehog_maps *m, int kind, const float *q, const float *k, int H,
    int n, int d, const int *seqs, int ns)
{
	struct hedgehog_metrics mt = { 0 };
	int f = m ? 2 * m->df : d;
	float *fq = xmalloc(sizeof *fq * (size_t)n * f), *fk = xmalloc(sizeof *fk * (size_t)n * f);
	float *z = xmalloc(sizeof *z * (size_t)n * (m ? m->df : 1));

	for (int a = 0; a < ns; a++)
		for (int h = 0; h < H; h++) {
			size_t off = ((size_t)seqs[a] * H + h) * n * d;

			if (m) {
				hedgehog_maps_features(m, h, 0, fq, z, q + off, n);
				hedgehog_maps_features(m, h, 1, fk, z, k + off, n);
			} else {
				hedgehog_fixed_forward(kind, fq, q + off, n, d, NULL, 0, 1);
				hedgehog_fixed_forward(kind, fk, k + off, n, d, NULL, 0, 0);
			}
			hedgehog_metrics_add(&mt, q + off, k + off, fq, fk, n, d, f, 1, 32);
		}
	hedgehog_metrics_mean(&mt);
	free(fq);
	free(fk);
	free(z);
	return mt.kl;
}

static void
test_fit(int kind)
{
	enum { S = 10, H = 2, N = 48, D = 8 };
	float *q = xmalloc(sizeof *q * S * H * N * D), *k = xmalloc(sizeof *k * S * H * N * D);
	int train[8] = { 0, 1, 2, 3, 4, 5, 6, 7 }, val[2] = { 8, 9 };
	struct hedgehog_maps m, m2;
	struct hedgehog_fit_opts o;
	struct hedgehog_fit_report rep;
	double init_ce[H], best_ce[H], kl0, kl, elu;
	int best_step[H];

	synth(q, k, S, H, N, D, 11);
	hedgehog_maps_init(&m, kind, H, D, D, kind == HEDGEHOG_FMAP_EXP);
	hedgehog_fit_opts_default(&o);
	o.steps = 300;
	o.eval_every = 25;
	rep.init_loss = init_ce;
	rep.best_loss = best_ce;
	rep.best_step = best_step;
	kl0 = eval_kl(&m, kind, q, k, H, N, D, val, 2);
	ok(hedgehog_fit_layer(&m, q, k, NULL, S, H, N, D, 0, train, 8, val, 2, &o, &rep) == 0,
	    "%s: fit", hedgehog_fmap_names[kind]);
	kl = eval_kl(&m, kind, q, k, H, N, D, val, 2);
	elu = eval_kl(NULL, HEDGEHOG_FMAP_ELU1, q, k, H, N, D, val, 2);
	ok(best_ce[0] < init_ce[0] && best_ce[H - 1] < init_ce[H - 1],
	    "%s: held-out CE falls (head 0 %.4f -> %.4f)", hedgehog_fmap_names[kind], init_ce[0], best_ce[0]);
	ok(kl < kl0 / 2 && kl < elu / 3, "%s: held-out KL %.4f (identity %.4f, 1+ELU %.4f)",
	    hedgehog_fmap_names[kind], kl, kl0, elu);
	/* the same seed gives the same weights */
	hedgehog_maps_init(&m2, kind, H, D, D, kind == HEDGEHOG_FMAP_EXP);
	hedgehog_fit_layer(&m2, q, k, NULL, S, H, N, D, 0, train, 8, val, 2, &o, &rep);
	ok(memcmp(m.wq, m2.wq, sizeof *m.wq * m.P * D * D) == 0 &&
	    memcmp(m.wk, m2.wk, sizeof *m.wk * m.P * D * D) == 0,
	    "%s: deterministic", hedgehog_fmap_names[kind]);
	hedgehog_maps_release(&m);
	hedgehog_maps_release(&m2);
	free(q);
	free(k);
}

/* binary16: every half survives half -> float -> half; known values and
 * rounding to nearest even. */
static void
test_half(void)
{
	int bad = 0;

	for (unsigned h = 0; h < 65536; h++) {
		float f = hedgehog_half_to_float((uint16_t)h);

		if (isnan(f) ? !isnan(hedgehog_half_to_float(hedgehog_float_to_half(f))) :
		    hedgehog_float_to_half(f) != h)
			bad++;
	}
	is_int(bad, 0, "half: all 65536 values round-trip");
	is_dbl(hedgehog_half_to_float(0x3c00), 1, 0, "half 0x3c00 = 1");
	is_dbl(hedgehog_half_to_float(0xc000), -2, 0, "half 0xc000 = -2");
	is_dbl(hedgehog_half_to_float(0x0001), ldexp(1, -24), 0, "half 0x0001 = 2^-24");
	is_int(hedgehog_float_to_half(1 + ldexpf(1, -11)), 0x3c00, "1 + 2^-11 rounds to even (1)");
	is_int(hedgehog_float_to_half(1 + 3 * ldexpf(1, -11)), 0x3c02, "1 + 3 2^-11 rounds to even (up)");
	is_int(hedgehog_float_to_half(70000), 0x7c00, "70000 overflows to infinity");
	is_int(hedgehog_float_to_half(65519), 0x7bff, "65519 rounds to the largest half");
	is_dbl(hedgehog_bf16_to_float(0x3f80), 1, 0, "bf16 0x3f80 = 1");
}

/* vexpf against exp in double over its whole range, on a geometric walk. */
static void
test_vexp(void)
{
	double worst = 0;
	int n = 0;

	for (float x = -87.3f; x < 88.0f; x += fabsf(x) * 1e-4f + 1e-6f, n++) {
		double e = exp((double)x), rel = fabs(vexpf(x) - e) / e;
		if (rel > worst)
			worst = rel;
	}
	ok(worst < 3e-7, "vexpf within 3e-7 relative of exp on [-87.3, 88] (%d points, worst %.2g)", n, worst);
	ok(vexpf(-200.0f) > 0 && vexpf(-200.0f) < 1e-37f, "vexpf clamps far below: tiny, positive");
	ok(vexpf(0.0f) == 1.0f, "vexpf(0) = 1");
}

/* The split and the evaluation (lib/method/hedgehog_eval.c), the weights
 * read back (hedgehog_io.c). */
static void
test_split(void)
{
	enum { S = 23 };
	int train[S], val[S], train2[S], val2[S], nt, nt2, seen[S] = { 0 }, sorted = 1, same = 1;

	is_int(hedgehog_default_val(0), 0, "default_val(0) = 0");
	is_int(hedgehog_default_val(1), 0, "default_val(1) = 0: nothing to hold out");
	is_int(hedgehog_default_val(2), 1, "default_val(2) = 1");
	is_int(hedgehog_default_val(9), 1, "default_val(9) = 1");
	is_int(hedgehog_default_val(23), 4, "default_val(23) = a fifth");
	hedgehog_split(S, 5, 7, train, &nt, val);
	is_int(nt, S - 5, "split: %d train of %d", nt, S);
	for (int i = 0; i < 5; i++)
		seen[val[i]]++;
	for (int i = 0; i < nt; i++)
		seen[train[i]]++;
	for (int i = 0; i < S; i++)
		same &= seen[i] == 1;
	ok(same, "split: a partition of the sequences");
	for (int i = 1; i < 5; i++)
		sorted &= val[i - 1] < val[i];
	for (int i = 1; i < nt; i++)
		sorted &= train[i - 1] < train[i];
	ok(sorted, "split: both parts in increasing order");
	hedgehog_split(S, 5, 7, train2, &nt2, val2);
	ok(nt2 == nt && memcmp(val, val2, sizeof *val * 5) == 0, "split: the same seed, the same split");
	hedgehog_split(S, 5, 8, train2, &nt2, val2);
	ok(memcmp(val, val2, sizeof *val * 5) != 0, "split: another seed, another split");
	hedgehog_split(S, 0, 7, train2, &nt2, val2);
	is_int(nt2, S, "split: nval 0 trains on all");
}

/* eval_head (lib/method/hedgehog_eval.c) = the map's features through metrics_add and the MSE of
 * linear against softmax attention, by hand. */
static void
test_eval_head(void)
{
	enum { S = 3, H = 2, N = 20, D = 8, DV = 4 };
	int seq[2] = { 2, 0 }, h = 1;
	struct rng r;
	float *q, *k, *v, *fq, *fk, *om, *ys, *yt;
	struct hedgehog_metrics m, want;
	double mse, se;
	int f;

	rng_init(&r, 3, 0, 0);
	q = randv(&r, (size_t)S * H * N * D, 0.7);
	k = randv(&r, (size_t)S * H * N * D, 0.7);
	v = randv(&r, (size_t)S * H * N * DV, 1);
	for (int kind = HEDGEHOG_FMAP_ELU1; kind < HEDGEHOG_NFMAP; kind++) {
		int kern = kind == HEDGEHOG_FMAP_TAYLOR;

		f = hedgehog_feature_count(kind, D, D);
		fq = xmalloc(sizeof *fq * N * f);
		fk = xmalloc(sizeof *fk * N * f);
		om = xmalloc(sizeof *om * (size_t)f * D);
		ys = xmalloc(sizeof *ys * N * DV);
		yt = xmalloc(sizeof *yt * N * DV);
		hedgehog_performer_init(om, f, D, 11, (uint64_t)5 << 16 | (uint64_t)h);
		memset(&want, 0, sizeof want);
		se = 0;
		for (int s = 0; s < 2; s++) {
			size_t off = ((size_t)seq[s] * H + h) * N * D, voff = ((size_t)seq[s] * H + h) * N * DV;

			hedgehog_fixed_forward(kind, fq, q + off, N, D, om, f, 1);
			hedgehog_fixed_forward(kind, fk, k + off, N, D, om, f, 0);
			hedgehog_metrics_add(&want, q + off, k + off, kern ? NULL : fq, kern ? NULL : fk,
			    N, D, f, 1, 16);
			linattn_forward(ys, NULL, fq, fk, v + voff, N, f, DV, 0);
			linattn_softmax_forward(yt, q + off, k + off, v + voff, N, D, DV,
			    1 / sqrtf((float)D), 1, 16);
			for (int i = 0; i < N * DV; i++)
				se += ((double)ys[i] - yt[i]) * ((double)ys[i] - yt[i]);
		}
		hedgehog_metrics_mean(&want);
		mse = hedgehog_eval_head(&m, kind, NULL, D, 11, 5, h, q, k, v, H, N, D, DV, seq, 2, 1, 16);
		ok(m.kl == want.kl && m.ce == want.ce && m.monotonicity == want.monotonicity &&
		    m.entropy == want.entropy, "eval_head %s: the metrics, exactly",
		    hedgehog_fmap_names[kind]);
		ok(mse == se / (2.0 * N * DV), "eval_head %s: the output MSE (%.3g)",
		    hedgehog_fmap_names[kind], mse);
		free(fq);
		free(fk);
		free(om);
		free(ys);
		free(yt);
	}
	mse = hedgehog_eval_head(&m, HEDGEHOG_FMAP_ELU1, NULL, D, 11, 5, h, q, k, NULL, H, N, D, 0,
	    seq, 2, 1, 16);
	ok(isnan(mse), "eval_head without values: MSE NaN");
	mse = hedgehog_eval_head(&m, HEDGEHOG_FMAP_ELU1, NULL, D, 11, 5, h, q, k, v, H, N, D, DV,
	    seq, 2, 0, 16);
	ok(isnan(mse) && m.rows == 2 * N, "eval_head bidirectional: no MSE, every row");
	free(q);
	free(k);
	free(v);
}

/* A learned map at identity through eval_head equals hedgehog_maps_features
 * by hand; a trained kind needs its maps. */
static void
test_eval_learned(void)
{
	enum { S = 2, H = 2, N = 12, D = 4 };
	int seq[1] = { 1 };
	struct rng r;
	float *q, *k, *fq, *fk, *z;
	struct hedgehog_maps maps;
	struct hedgehog_metrics m, want = { 0 };
	size_t off = ((size_t)1 * H + 0) * N * D;

	rng_init(&r, 4, 0, 0);
	q = randv(&r, (size_t)S * H * N * D, 1);
	k = randv(&r, (size_t)S * H * N * D, 1);
	fq = xmalloc(sizeof *fq * N * 2 * D);
	fk = xmalloc(sizeof *fk * N * 2 * D);
	z = xmalloc(sizeof *z * N * D);
	hedgehog_maps_init(&maps, HEDGEHOG_FMAP_EXP, H, D, D, 1);
	hedgehog_maps_features(&maps, 0, 0, fq, z, q + off, N);
	hedgehog_maps_features(&maps, 0, 1, fk, z, k + off, N);
	hedgehog_metrics_add(&want, q + off, k + off, fq, fk, N, D, 2 * D, 1, 5);
	hedgehog_metrics_mean(&want);
	hedgehog_eval_head(&m, HEDGEHOG_FMAP_EXP, &maps, 99, 0, 0, 0, q, k, NULL, H, N, D, 0, seq,
	    1, 1, 5);
	ok(m.kl == want.kl && m.max_weight == want.max_weight,
	    "eval_head hedgehog-exp: through the maps (df from the maps, not the argument)");
	hedgehog_maps_release(&maps);
	free(q);
	free(k);
	free(fq);
	free(fk);
	free(z);
}

static void
test_pool(void)
{
	struct hedgehog_metrics a = { 1, 2, 3, 4, 5, 6, 0.5, 10, 8 };
	struct hedgehog_metrics b = { 3, 4, 5, 6, 7, 8, -0.5, 10, 8 }, sum = { 0 };
	double x;

	hedgehog_metrics_pool(&sum, &a);
	hedgehog_metrics_pool(&sum, &b);
	hedgehog_metrics_mean(&sum);
	ok(sum.ce == 2 && sum.kl == 3 && sum.entropy == 4 && sum.teacher_entropy == 5 &&
	    sum.max_weight == 6 && sum.teacher_max_weight == 7 && sum.monotonicity == 0,
	    "pool then mean: the mean over heads, each head one row");
	ok(hedgehog_metrics_nonfinite(&a, NAN, &x) == NULL, "nonfinite: none (mse NaN is no MSE)");
	a.teacher_max_weight = INFINITY;
	ok(hedgehog_metrics_nonfinite(&a, 1, &x) && strcmp(hedgehog_metrics_nonfinite(&a, 1, &x),
	    "teacher_max_weight") == 0 && x == INFINITY, "nonfinite: names the field, its value");
	a.teacher_max_weight = 1;
	ok(hedgehog_metrics_nonfinite(&a, -INFINITY, &x) &&
	    strcmp(hedgehog_metrics_nonfinite(&a, -INFINITY, &x), "mse") == 0, "nonfinite: mse");
}

static void
test_weights(void)
{
	char path[] = "/tmp/hedgehog_eval_testXXXXXX";
	float wq[2 * 3 * 4], got[2 * 3 * 4];
	size_t shape[3] = { 2, 3, 4 };
	struct safetensors_tensor t = { "p.0.feature_map_q.mlp.layer", SAFETENSORS_F32, 3, shape,
	    wq, sizeof wq, 0 };
	struct safetensors_kv meta[] = {
		{ "fmap", "hedgehog-fla" }, { "feature_dim", "4" }, { "num_heads", "2" },
		{ "head_dim", "3" }, { "bias", "true" }, { "prefix", "p.{L}." },
		{ "val_sequences", "3,5" },
	};
	struct hedgehog_weights w;
	int fd = mkstemp(path);

	for (int i = 0; i < 24; i++)
		wq[i] = (float)i / 7;
	ok(fd >= 0, "a temporary file");
	close(fd);
	ok(safetensors_write(path, &t, 1, meta, 7) == 0, "write a weights file");
	ok(hedgehog_weights_open(&w, path, "x.") == 0, "weights_open");
	ok(w.kind == HEDGEHOG_FMAP_FLA && w.df == 4 && w.H == 2 && w.d == 3 && w.bias &&
	    strcmp(w.prefix, "p.{L}.") == 0 && w.nval == 2 && w.val[0] == 3 && w.val[1] == 5,
	    "weights_open: the metadata");
	ok(hedgehog_weights_get(&w, 0, "feature_map_q.mlp.layer", 2, 3, got) == 0 &&
	    memcmp(got, wq, sizeof wq) == 0, "weights_get: the tensor");
	ok(hedgehog_weights_get(&w, 1, "feature_map_q.mlp.layer", 2, 3, got) == -1 &&
	    strstr(loam_error(), "no tensor 'p.1.feature_map_q.mlp.layer' for layer 1"),
	    "weights_get: another layer is absent (%s)", loam_error());
	ok(hedgehog_weights_get(&w, 0, "feature_map_q.mlp.layer", 1, 3, got) == -1,
	    "weights_get: a shape that does not match");
	hedgehog_weights_close(&w);
	meta[0].value = "performer";
	ok(safetensors_write(path, &t, 1, meta, 7) == 0 &&
	    hedgehog_weights_open(&w, path, "x.") == -1 &&
	    strstr(loam_error(), "metadata 'fmap' is 'performer', not a hedgehog map"),
	    "weights_open: not a trained map (%s)", loam_error());
	meta[0].value = "hedgehog";
	meta[1].value = "-1";
	ok(safetensors_write(path, &t, 1, meta, 7) == 0 &&
	    hedgehog_weights_open(&w, path, "x.") == -1 &&
	    strstr(loam_error(), "metadata 'feature_dim': '-1' is not a count"),
	    "weights_open: a bad count (%s)", loam_error());
	unlink(path);
}

int
main(void)
{
	test_vexp();
	test_half();
	test_identity();
	for (int kind = HEDGEHOG_FMAP_HEDGEHOG; kind <= HEDGEHOG_FMAP_FLA; kind++)
		test_map_backward(kind);
	test_loss_reference(1, 50, 16);
	test_loss_reference(1, 33, 64);
	test_loss_reference(0, 41, 8);
	for (int kind = HEDGEHOG_FMAP_HEDGEHOG; kind <= HEDGEHOG_FMAP_FLA; kind++)
		test_chain(kind);
	test_fixed();
	test_metrics();
	test_split();
	test_eval_head();
	test_eval_learned();
	test_pool();
	test_weights();
	for (int kind = HEDGEHOG_FMAP_HEDGEHOG; kind <= HEDGEHOG_FMAP_FLA; kind++)
		test_fit(kind);
	return tap_done();
}
