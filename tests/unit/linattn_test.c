/*
 * linattn_test - lib/linattn: the chunked causal linear attention equals
 * the quadratic form (1e-5) for chunk lengths that do and do not divide
 * n, the recurrent form equals both, the chunked backward equals the
 * reference backward and finite differences, and the row-blocked softmax
 * attention equals its reference, causal and not.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linattn.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

static float *
randv(struct rng *r, size_t n, double lo, double hi)
{
	float *x = xmalloc(sizeof *x * n);

	for (size_t i = 0; i < n; i++)
		x[i] = (float)(lo + (hi - lo) * rng_uniform(r));
	return x;
}

/* Largest |a - b| / (1 + |b|). */
static double
maxrel(const float *a, const float *b, size_t n)
{
	double m = 0;

	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)a[i] - b[i]) / (1 + fabs((double)b[i]));

		m = e > m ? e : m;
	}
	return m;
}

static void
test_forward(int n, int f, int dv, int chunk)
{
	struct rng r;
	float *fq, *fk, *v, *y, *yr, *den;

	rng_init(&r, 1, (uint64_t)n, (uint64_t)chunk);
	fq = randv(&r, (size_t)n * f, 0, 1);
	fk = randv(&r, (size_t)n * f, 0, 1);
	v = randv(&r, (size_t)n * dv, -1, 1);
	y = xmalloc(sizeof *y * (size_t)n * dv);
	yr = xmalloc(sizeof *yr * (size_t)n * dv);
	den = xmalloc(sizeof *den * (size_t)n);
	linattn_forward(y, den, fq, fk, v, n, f, dv, chunk);
	linattn_reference_forward(yr, fq, fk, v, n, f, dv);
	ok(maxrel(y, yr, (size_t)n * dv) < 1e-5,
	    "chunked = quadratic (n %d, f %d, dv %d, chunk %d): %.2g", n, f, dv, chunk,
	    maxrel(y, yr, (size_t)n * dv));
	if (chunk == 64) {
		struct linattn_state st;
		float *ys = xmalloc(sizeof *ys * (size_t)n * dv);

		linattn_state_init(&st, f, dv);
		for (int i = 0; i < n; i++)
			linattn_step(&st, ys + (size_t)i * dv, fq + (size_t)i * f,
			    fk + (size_t)i * f, v + (size_t)i * dv);
		linattn_state_release(&st);
		ok(maxrel(ys, yr, (size_t)n * dv) < 1e-5, "recurrent = quadratic (n %d): %.2g",
		    n, maxrel(ys, yr, (size_t)n * dv));
		free(ys);
	}
	free(fq);
	free(fk);
	free(v);
	free(y);
	free(yr);
	free(den);
}

/* L = sum_i w_i . y_i, in double over the chunked forward's y. */
static double
loss(const float *w, const float *fq, const float *fk, const float *v, int n,
    int f, int dv, float *y)
{
	double L = 0;

	linattn_forward(y, NULL, fq, fk, v, n, f, dv, 8);
	for (size_t i = 0; i < (size_t)n * dv; i++)
		L += (double)w[i] * y[i];
	return L;
}

static void
test_backward(void)
{
	enum { N = 37, F = 6, DV = 5, CHUNK = 8 };
	struct rng r;
	float *fq, *fk, *v, *w, *y, *den, *g[3], *gr[3], *x[3];
	size_t sz[3] = { N * F, N * F, N * DV };
	const char *name[3] = { "dfq", "dfk", "dv" };

	rng_init(&r, 2, 0, 0);
	fq = randv(&r, N * F, 0.1, 1);
	fk = randv(&r, N * F, 0.1, 1);
	v = randv(&r, N * DV, -1, 1);
	w = randv(&r, N * DV, -1, 1);	/* dL/dy */
	y = xmalloc(sizeof *y * N * DV);
	den = xmalloc(sizeof *den * N);
	for (int t = 0; t < 3; t++) {
		g[t] = xcalloc(sz[t], sizeof *g[t]);
		gr[t] = xcalloc(sz[t], sizeof *gr[t]);
	}
	linattn_forward(y, den, fq, fk, v, N, F, DV, CHUNK);
	linattn_backward(g[0], g[1], g[2], w, y, den, fq, fk, v, N, F, DV, CHUNK);
	linattn_reference_backward(gr[0], gr[1], gr[2], w, fq, fk, v, N, F, DV);
	x[0] = fq;
	x[1] = fk;
	x[2] = v;
	for (int t = 0; t < 3; t++) {
		double worst = 0;

		ok(maxrel(g[t], gr[t], sz[t]) < 1e-5, "backward %s = reference: %.2g", name[t],
		    maxrel(g[t], gr[t], sz[t]));
		/* central differences on a sample of entries */
		for (size_t i = 0; i < sz[t]; i += 7) {
			float keep = x[t][i];
			double h = 1e-2, lp, lm, fd;

			x[t][i] = keep + (float)h;
			lp = loss(w, fq, fk, v, N, F, DV, y);
			x[t][i] = keep - (float)h;
			lm = loss(w, fq, fk, v, N, F, DV, y);
			x[t][i] = keep;
			fd = (lp - lm) / (2 * h);
			if (fabs(fd - g[t][i]) / (1e-3 + fabs(fd)) > worst)
				worst = fabs(fd - g[t][i]) / (1e-3 + fabs(fd));
		}
		ok(worst < 1e-2, "backward %s = finite differences: %.2g", name[t], worst);
	}
	for (int t = 0; t < 3; t++) {
		free(g[t]);
		free(gr[t]);
	}
	free(fq);
	free(fk);
	free(v);
	free(w);
	free(y);
	free(den);
}

static void
test_softmax(int causal)
{
	enum { N = 150, D = 16, DV = 12 };
	struct rng r;
	float *q, *k, *v, *y, *yr;

	rng_init(&r, 3, (uint64_t)causal, 0);
	q = randv(&r, N * D, -2, 2);
	k = randv(&r, N * D, -2, 2);
	v = randv(&r, N * DV, -1, 1);
	y = xmalloc(sizeof *y * N * DV);
	yr = xmalloc(sizeof *yr * N * DV);
	linattn_softmax_forward(y, q, k, v, N, D, DV, 0.25f, causal, 32);
	linattn_softmax_reference(yr, q, k, v, N, D, DV, 0.25f, causal);
	ok(maxrel(y, yr, N * DV) < 1e-5, "softmax attention (%s) = reference: %.2g",
	    causal ? "causal" : "bidirectional", maxrel(y, yr, N * DV));
	/* row 0 of the causal form sees only itself */
	if (causal)
		ok(maxrel(y, v, DV) < 1e-6, "causal row 0 = v_0");
	free(q);
	free(k);
	free(v);
	free(y);
	free(yr);
}

int
main(void)
{
	test_forward(200, 16, 8, 64);
	test_forward(200, 16, 8, 17);
	test_forward(64, 8, 3, 64);
	test_forward(1, 4, 2, 64);
	test_forward(130, 32, 32, 1);
	test_backward();
	test_softmax(1);
	test_softmax(0);
	return tap_done();
}
