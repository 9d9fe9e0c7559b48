/*
 * nn_test - lib/nn kernels and lib/gpt: each fast path against its plain
 * reference, every backward pass against finite differences, and the
 * whole model's gradient, both input kinds.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"
#include "nn.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

static struct rng R;

static float *
randn(size_t n, double sd)
{
	float *p = xmalloc(n * sizeof *p + 1);
	for (size_t i = 0; i < n; i++)
		p[i] = (float)(sd * rng_normal(&R));
	return p;
}

static float *
zeros(size_t n)
{
	return xcalloc(n + 1, sizeof(float));
}

/* max |a - b| / max(max |b|, 1e-3) */
static double
rel_err(const float *a, const float *b, size_t n)
{
	double d = 0.0, m = 1e-3;
	for (size_t i = 0; i < n; i++) {
		if (fabs(a[i] - b[i]) > d)
			d = fabs(a[i] - b[i]);
		if (fabs(b[i]) > m)
			m = fabs(b[i]);
	}
	return d / m;
}

static void
test_linear(int layout)
{
	size_t N = 37, C = 19, OC = 23;
	float *x = randn(N * C, 1), *w = randn(C * OC, 1), *b = randn(OC, 1);
	float *y1 = zeros(N * OC), *y2 = zeros(N * OC), *dy = randn(N * OC, 1);
	float *dx1 = zeros(N * C), *dx2 = zeros(N * C), *dw1 = zeros(C * OC);
	float *dw2 = zeros(C * OC), *db1 = zeros(OC), *db2 = zeros(OC);
	const char *name = layout == NN_OUT_IN ? "out,in" : "in,out";

	nn_linear_forward(y1, x, w, b, N, C, OC, layout);
	nn_ref_linear_forward(y2, x, w, b, N, C, OC, layout);
	ok(rel_err(y1, y2, N * OC) < 1e-5, "linear (%s) forward = reference", name);
	nn_linear_backward(dx1, dw1, db1, dy, x, w, N, C, OC, layout);
	nn_ref_linear_backward(dx2, dw2, db2, dy, x, w, N, C, OC, layout);
	ok(rel_err(dx1, dx2, N * C) < 1e-5, "linear (%s) dinp = reference", name);
	ok(rel_err(dw1, dw2, C * OC) < 1e-5, "linear (%s) dweight = reference", name);
	ok(rel_err(db1, db2, OC) < 1e-5, "linear (%s) dbias = reference", name);
	/* accumulation: a second backward doubles the gradients */
	nn_linear_backward(dx1, dw1, db1, dy, x, w, N, C, OC, layout);
	for (size_t i = 0; i < C * OC; i++)
		dw2[i] *= 2;
	ok(rel_err(dw1, dw2, C * OC) < 1e-5, "linear (%s) backward accumulates", name);

	/* finite differences of L = sum(y * dy) through the reference */
	double worst = 0.0;
	for (int k = 0; k < 20; k++) {
		size_t i = rng_uniform_int(&R, C * OC);
		float keep = w[i], h = 1e-2f;
		double lp = 0, lm = 0;
		w[i] = keep + h;
		nn_ref_linear_forward(y2, x, w, b, N, C, OC, layout);
		for (size_t j = 0; j < N * OC; j++) lp += (double)y2[j] * dy[j];
		w[i] = keep - h;
		nn_ref_linear_forward(y2, x, w, b, N, C, OC, layout);
		for (size_t j = 0; j < N * OC; j++) lm += (double)y2[j] * dy[j];
		w[i] = keep;
		double fd = (lp - lm) / (2 * h), an = dw1[i] / 2;
		double e = fabs(fd - an) / fmax(fabs(fd), 1e-2);
		if (e > worst) worst = e;
	}
	ok(worst < 1e-3, "linear (%s) dweight = finite differences (%.2g)", name, worst);
	free(x); free(w); free(b); free(y1); free(y2); free(dy); free(dx1);
	free(dx2); free(dw1); free(dw2); free(db1); free(db2);
}

/* Finite-difference check of an element-wise or row-wise kernel given as
 * a function computing L = sum(out * g) for input x. */
typedef double (*loss_fn)(const float *x, void *ctx);

static double
fd_check(loss_fn f, void *ctx, float *x, size_t n, const float *grad, float h)
{
	double worst = 0.0;
	for (int k = 0; k < 24; k++) {
		size_t i = rng_uniform_int(&R, n);
		float keep = x[i];
		x[i] = keep + h;
		double lp = f(x, ctx);
		x[i] = keep - h;
		double lm = f(x, ctx);
		x[i] = keep;
		double fd = (lp - lm) / (2 * h);
		double e = fabs(fd - grad[i]) / fmax(fabs(fd), 1e-2);
		if (e > worst) worst = e;
	}
	return worst;
}

struct ln_ctx { size_t N, C; const float *w, *b, *g; };

static double
ln_loss(const float *x, void *p)
{
	struct ln_ctx *c = p;
	float *y = zeros(c->N * c->C), *m = zeros(c->N), *r = zeros(c->N);
	double L = 0;
	nn_layernorm_forward(y, m, r, x, c->w, c->b, c->N, c->C);
	for (size_t i = 0; i < c->N * c->C; i++) L += (double)y[i] * c->g[i];
	free(y); free(m); free(r);
	return L;
}

static void
test_layernorm(void)
{
	size_t N = 9, C = 33;
	float *x = randn(N * C, 2), *w = randn(C, 1), *b = randn(C, 1), *g = randn(N * C, 1);
	float *y = zeros(N * C), *m = zeros(N), *r = zeros(N);
	float *dx = zeros(N * C), *dw = zeros(C), *db = zeros(C);
	struct ln_ctx c = { N, C, w, b, g };

	nn_layernorm_forward(y, m, r, x, w, b, N, C);
	double mu = 0, var = 0;
	for (size_t j = 0; j < C; j++) mu += (y[j] - b[j]) / w[j];
	mu /= C;
	for (size_t j = 0; j < C; j++) var += pow((y[j] - b[j]) / w[j] - mu, 2);
	ok(fabs(mu) < 1e-5 && fabs(var / C - 1) < 1e-3, "layernorm normalises a row");
	nn_layernorm_backward(dx, dw, db, g, x, w, m, r, N, C);
	ok(fd_check(ln_loss, &c, x, N * C, dx, 1e-2f) < 2e-2, "layernorm dinp = finite differences");
	/* dw: L is linear in w through y = xhat w + b */
	double e = 0;
	for (size_t j = 0; j < C; j++) {
		double s = 0;
		for (size_t i = 0; i < N; i++) s += (double)(x[i * C + j] - m[i]) * r[i] * g[i * C + j];
		e = fmax(e, fabs(s - dw[j]) / fmax(fabs(s), 1e-2));
	}
	ok(e < 1e-4, "layernorm dweight = sum of xhat * dout");
	free(x); free(w); free(b); free(g); free(y); free(m); free(r); free(dx); free(dw); free(db);
}

struct gelu_ctx { size_t n; const float *g; };

static double
gelu_loss(const float *x, void *p)
{
	struct gelu_ctx *c = p;
	float *y = zeros(c->n);
	double L = 0;
	nn_gelu_forward(y, x, c->n);
	for (size_t i = 0; i < c->n; i++) L += (double)y[i] * c->g[i];
	free(y);
	return L;
}

static void
test_gelu(void)
{
	size_t n = 200;
	float *x = randn(n, 3), *g = randn(n, 1), *dx = zeros(n), *y = zeros(n);
	struct gelu_ctx c = { n, g };
	double worst = 0;

	nn_gelu_forward(y, x, n);
	for (size_t i = 0; i < n; i++) {
		double v = x[i], t = 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
		worst = fmax(worst, fabs(t - y[i]));
	}
	ok(worst < 1e-6, "gelu = 0.5 x (1 + tanh(...)) in double (%.2g)", worst);
	nn_gelu_backward(dx, x, g, n);
	ok(fd_check(gelu_loss, &c, x, n, dx, 1e-2f) < 1e-2, "gelu backward = finite differences");
	free(x); free(g); free(dx); free(y);
}

struct att_ctx { size_t B, T, C, NH; const float *g; };

static double
att_loss(const float *qkv, void *p)
{
	struct att_ctx *c = p;
	float *y = zeros(c->B * c->T * c->C), *a = zeros(c->B * c->NH * c->T * c->T);
	double L = 0;
	nn_ref_attention_forward(y, a, qkv, c->B, c->T, c->C, c->NH);
	for (size_t i = 0; i < c->B * c->T * c->C; i++) L += (double)y[i] * c->g[i];
	free(y); free(a);
	return L;
}

static void
test_attention(void)
{
	size_t B = 3, T = 17, C = 12, NH = 3;
	size_t nq = B * T * 3 * C, ny = B * T * C, na = B * NH * T * T;
	float *qkv = randn(nq, 1), *g = randn(ny, 1);
	float *y1 = zeros(ny), *y2 = zeros(ny), *a1 = zeros(na), *a2 = zeros(na);
	float *d1 = zeros(nq), *d2 = zeros(nq);
	struct att_ctx c = { B, T, C, NH, g };

	nn_attention_forward(y1, a1, qkv, B, T, C, NH);
	nn_ref_attention_forward(y2, a2, qkv, B, T, C, NH);
	ok(rel_err(y1, y2, ny) < 1e-5, "attention forward = reference");
	ok(rel_err(a1, a2, na) < 1e-5, "attention weights = reference");
	int causal = 1;
	for (size_t t = 0; t < T; t++)
		for (size_t j = t + 1; j < T; j++)
			if (a1[t * T + j] != 0) causal = 0;
	ok(causal, "attention weights are zero past the diagonal");
	nn_attention_backward(d1, g, qkv, a1, B, T, C, NH);
	nn_ref_attention_backward(d2, g, qkv, a2, B, T, C, NH);
	ok(rel_err(d1, d2, nq) < 1e-5, "attention backward = reference");
	ok(fd_check(att_loss, &c, qkv, nq, d2, 1e-2f) < 2e-2,
	    "attention backward = finite differences");
	free(qkv); free(g); free(y1); free(y2); free(a1); free(a2); free(d1); free(d2);
}

static void
test_losses(void)
{
	float z[6] = { -3, -0.5f, 0, 0.5f, 3, 40 }, y[6] = { 0, 1, 1, 0, 1, 0 };
	unsigned char mask[6] = { 1, 1, 0, 1, 1, 1 };
	float dz[6] = { 0 };
	double want = 0;
	for (int i = 0; i < 6; i++)
		if (mask[i]) {
			double p = 1 / (1 + exp(-(double)z[i]));
			want += y[i] ? -log(p) : (z[i] > 30 ? z[i] : -log(1 - p));
		}
	want /= 5;
	is_dbl(nn_bce_forward(z, y, mask, 6), want, 1e-9, "bce = mean -log p over the mask");
	nn_bce_backward(dz, z, y, mask, 6);
	ok(dz[2] == 0 && fabs(dz[5] - 1.0 / 5) < 1e-6, "bce backward: (p - y)/count, masked 0");

	float l[6] = { 1, 2, 3, -1, 0, 1 }, dl[6] = { 0 };
	int t[2] = { 2, 0 };
	double w2 = (log(exp(1) + exp(2) + exp(3)) - 3 + log(exp(-1) + 1 + exp(1)) + 1) / 2;
	is_dbl(nn_softmax_ce_forward(l, t, 2, 3), w2, 1e-6, "softmax cross-entropy");
	nn_softmax_ce_backward(dl, l, t, 2, 3);
	double s = 0;
	for (int i = 0; i < 6; i++) s += dl[i];
	ok(fabs(s) < 1e-6 && dl[2] < 0 && dl[3] < 0 && dl[4] > 0, "softmax ce backward sums to 0, targets negative");
}

static void
test_adam(void)
{
	struct nn_adamw o = { 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f };
	float p[1] = { 1 }, g[1] = { 0.5f }, m[1] = { 0 }, v[1] = { 0 };
	nn_adamw_update(&o, p, g, m, v, 1, 1);
	/* first step moves by lr * sign(g) */
	is_dbl(p[0], 0.9, 1e-6, "adam's first step is lr * sign(g)");
	o.weight_decay = 0.5f;
	p[0] = 1; m[0] = v[0] = 0; g[0] = 0;
	nn_adamw_update(&o, p, g, m, v, 1, 1);
	is_dbl(p[0], 1 - 0.1 * 0.5, 1e-6, "adamw decays decoupled from the gradient");
}

/* The whole model: analytic gradient against central differences of the
 * loss, on a sample of parameters of every tensor. */
static double
model_loss(struct gpt *m, const float *x, const int *tok, size_t B, size_t T,
    const float *g)
{
	double L = 0;
	gpt_forward(m, x, tok, B, T);
	for (size_t i = 0; i < B * T * (size_t)m->cfg.n_out; i++)
		L += (double)m->a.logits[i] * g[i];
	return L;
}

static void
test_model(int tokens)
{
	struct gpt_config cfg = { tokens ? 0 : 5, tokens ? 11 : 0, 9, 2, 2, 8, tokens ? 11 : 1 };
	struct gpt m;
	size_t B = 2, T = 7, nout = (size_t)cfg.n_out;
	float *x = tokens ? NULL : randn(B * T * 5, 1);
	int tok[14];
	float *g = randn(B * T * nout, 1);
	const char *kind = tokens ? "token" : "vector";

	for (int i = 0; i < 14; i++) tok[i] = (int)rng_uniform_int(&R, 11);
	ok(gpt_init(&m, &cfg) == 0, "gpt_init (%s input)", kind);
	gpt_init_weights(&m, 3);
	/* Larger weights than GPT-2's init so that every path carries signal. */
	for (size_t i = 0; i < m.nparams; i++) m.params[i] += (float)(0.2 * rng_normal(&R));
	gpt_train_init(&m);
	model_loss(&m, x, tokens ? tok : NULL, B, T, g);
	gpt_zero_grad(&m);
	gpt_backward(&m, g, x, tokens ? tok : NULL);

	int bad = 0;
	double worst = 0;
	for (size_t ti = 0; ti < m.ntensors; ti++) {
		const struct gpt_tensor *t = &m.tensors[ti];
		for (int k = 0; k < 3; k++) {
			size_t i = t->offset + rng_uniform_int(&R, t->count);
			float keep = m.params[i], h = 1e-2f;
			m.params[i] = keep + h;
			double lp = model_loss(&m, x, tokens ? tok : NULL, B, T, g);
			m.params[i] = keep - h;
			double lm = model_loss(&m, x, tokens ? tok : NULL, B, T, g);
			m.params[i] = keep;
			double fd = (lp - lm) / (2 * h), an = m.grads[i];
			double e = fabs(fd - an) / fmax(fmax(fabs(fd), fabs(an)), 5e-2);
			if (e > worst) worst = e;
			if (e > 3e-2) {
				bad++;
				diag("%s[%zu]: analytic %.6g, numeric %.6g", t->name,
				    i - t->offset, an, fd);
			}
		}
	}
	ok(bad == 0, "whole-model gradient = finite differences, every tensor (%s input; worst %.2g)", kind, worst);

	/* The prefix cache gives the logits of the full forward pass. */
	if (!tokens) {
		size_t P = 6;
		float *seq = randn((P + 1) * 5, 1), *q = xmalloc(3 * 5 * sizeof *q), out[3];
		struct gpt_cache c;
		double e = 0;
		memcpy(q, seq + P * 5, 5 * sizeof *q);
		for (int j = 1; j < 3; j++)
			for (int d = 0; d < 5; d++) q[j * 5 + d] = (float)rng_normal(&R);
		gpt_cache_prefix(&m, &c, seq, P);
		gpt_cache_query(&m, &c, q, 3, out);
		for (int j = 0; j < 3; j++) {
			memcpy(seq + P * 5, q + j * 5, 5 * sizeof *q);
			gpt_forward(&m, seq, NULL, 1, P + 1);
			e = fmax(e, fabs(out[j] - m.a.logits[P]) / fmax(fabs(m.a.logits[P]), 1e-3));
		}
		ok(e < 1e-5, "cached queries = full forward pass (%.2g)", e);
		gpt_cache_release(&c);
		free(seq); free(q);
	}
	gpt_release(&m);
	free(x); free(g);
}

static void
test_config_errors(void)
{
	struct gpt m;
	struct gpt_config c = { 16, 0, 10, 1, 3, 8, 1 };
	ok(gpt_init(&m, &c) == -1 && strstr(loam_error(), "multiple") != NULL,
	    "width not a multiple of heads refused: %s", loam_error());
	c.n_head = 2; c.vocab = 5;
	ok(gpt_init(&m, &c) == -1, "both vectors and tokens refused");
}

/* nn_softmax_row against exp in double; a row with a large entry does not
 * overflow (the max is subtracted). */
static void
test_softmax_row(void)
{
	float x[7] = { 0.5f, -1, 3, 2, 0, -4, 1.25f }, big[3] = { 1000, 999, -1000 };
	double z = 0, err = 0, sum = 0;

	for (int j = 0; j < 7; j++)
		z += exp(x[j]);
	{
		float y[7];

		memcpy(y, x, sizeof y);
		nn_softmax_row(y, 7);
		for (int j = 0; j < 7; j++) {
			err = fmax(err, fabs(y[j] - exp(x[j]) / z));
			sum += y[j];
		}
	}
	ok(err < 1e-7, "softmax_row = exp / sum (error %.2g)", err);
	is_dbl(sum, 1, 1e-6, "softmax_row sums to 1");
	nn_softmax_row(big, 3);
	ok(isfinite(big[0]) && fabs(big[0] - 1 / (1 + exp(-1.0))) < 1e-6 && big[2] == 0,
	    "softmax_row: large entries stay finite");
}

int
main(void)
{
	rng_init(&R, 1234, 0, 0);
	test_linear(NN_OUT_IN);
	test_linear(NN_IN_OUT);
	test_layernorm();
	test_gelu();
	test_softmax_row();
	test_attention();
	test_losses();
	test_adam();
	test_model(0);
	test_model(1);
	test_config_errors();
	return tap_done();
}
