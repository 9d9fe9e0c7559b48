/*
 * linattn - causal linear attention and softmax attention; see linattn.h.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linattn.h"
#include "nn.h"
#include "util.h"

/* Zero the strict upper triangle of A [m, m]. */
static void
mask_upper(float *A, int m)
{
	for (int i = 0; i < m; i++)
		memset(A + (size_t)i * m + i + 1, 0, sizeof *A * (size_t)(m - 1 - i));
}

/*
 * Backward of the chunked causal product O [n, e] = tril(Q K^T) V (Q, K
 * [n, f]; linattn_forward computes it with V's ones column folded into a
 * separate denominator) given dO [n, e]:
 *	dQ = tril(dO V^T) K,  dK = tril(dO V^T)^T Q,  dV = tril(Q K^T)^T dO,
 * chunked: a forward sweep carries S = sum K^T V for dQ, a reverse sweep
 * carries dS = sum Q^T dO for dK and dV.  Accumulates into dQ, dK, dV.
 */
static void
causal_product_backward(float *dQ, float *dK, float *dV, const float *dO,
    const float *Q, const float *K, const float *V, int n, int f, int e, int C,
    float *S, float *A)
{
	int last = ((n - 1) / C) * C;

	if (dQ) {
		memset(S, 0, sizeof *S * (size_t)f * e);
		for (int c0 = 0; c0 < n; c0 += C) {
			int m = n - c0 < C ? n - c0 : C;
			const float *Kc = K + (size_t)c0 * f, *Vc = V + (size_t)c0 * e;
			const float *dOc = dO + (size_t)c0 * e;
			float *dQc = dQ + (size_t)c0 * f;

			nn_gemm(0, 1, m, m, e, 1, dOc, e, Vc, e, 0, A, m);	/* A = dOc Vc^T */
			mask_upper(A, m);
			nn_gemm(0, 0, m, f, m, 1, A, m, Kc, f, 1, dQc, f);	/* dQc += A Kc */
			if (c0)
				nn_gemm(0, 1, m, f, e, 1, dOc, e, S, e, 1, dQc, f); /* += dOc S^T */
			nn_gemm(1, 0, f, e, m, 1, Kc, f, Vc, e, 1, S, e);
		}
	}
	if (!dK && !dV)
		return;
	memset(S, 0, sizeof *S * (size_t)f * e);	/* now dS */
	for (int c0 = last; c0 >= 0; c0 -= C) {
		int m = n - c0 < C ? n - c0 : C;
		const float *Qc = Q + (size_t)c0 * f, *Kc = K + (size_t)c0 * f;
		const float *Vc = V + (size_t)c0 * e, *dOc = dO + (size_t)c0 * e;

		if (dK) {
			float *dKc = dK + (size_t)c0 * f;

			nn_gemm(0, 1, m, m, e, 1, dOc, e, Vc, e, 0, A, m);
			mask_upper(A, m);
			nn_gemm(1, 0, m, f, m, 1, A, m, Qc, f, 1, dKc, f);	/* dKc += A^T Qc */
			if (c0 != last)
				nn_gemm(0, 1, m, f, e, 1, Vc, e, S, e, 1, dKc, f); /* += Vc dS^T */
		}
		if (dV) {
			float *dVc = dV + (size_t)c0 * e;

			nn_gemm(0, 1, m, m, f, 1, Qc, f, Kc, f, 0, A, m);
			mask_upper(A, m);
			nn_gemm(1, 0, m, e, m, 1, A, m, dOc, e, 1, dVc, e);	/* dVc += A^T dOc */
			if (c0 != last)
				nn_gemm(0, 0, m, e, f, 1, Kc, f, S, e, 1, dVc, e); /* += Kc dS */
		}
		nn_gemm(1, 0, f, e, m, 1, Qc, f, dOc, e, 1, S, e);		/* dS += Qc^T dOc */
	}
}

/* V' [n, dv+1] = [v, 1]. */
static float *
augment(const float *v, int n, int dv)
{
	float *va = xmalloc(sizeof *va * (size_t)n * (dv + 1));

	for (int i = 0; i < n; i++) {
		memcpy(va + (size_t)i * (dv + 1), v + (size_t)i * dv, sizeof *v * (size_t)dv);
		va[(size_t)i * (dv + 1) + dv] = 1;
	}
	return va;
}

/*
 * The chunked forward pass.  Per chunk of C rows: A = Qc Kc^T masked to
 * its lower triangle, Yc = A Vc + Qc S, the denominator = A's row sums +
 * Qc z; then S += Kc^T Vc and z += the chunk's keys.  This is the product
 * above with V's ones column folded into z (the backward pass keeps the
 * column), so that every product is dv wide, not dv + 1, which
 * OpenBLAS's kernels tile without a ragged edge: 1.2x on the 4k bench.
 */
void
linattn_forward(float *y, float *den, const float *fq, const float *fk,
    const float *v, int n, int f, int dv, int chunk)
{
	int C = chunk > 0 ? chunk : LINATTN_CHUNK;
	float *S = xcalloc((size_t)f * dv, sizeof *S);
	float *z = xcalloc((size_t)f, sizeof *z);
	float *A = xmalloc(sizeof *A * (size_t)C * C);

	for (int c0 = 0; c0 < n; c0 += C) {
		int m = n - c0 < C ? n - c0 : C;
		const float *Qc = fq + (size_t)c0 * f, *Kc = fk + (size_t)c0 * f;
		const float *Vc = v + (size_t)c0 * dv;
		float *Yc = y + (size_t)c0 * dv;

		nn_gemm(0, 1, m, m, f, 1, Qc, f, Kc, f, 0, A, m);		/* A = Qc Kc^T */
		mask_upper(A, m);
		nn_gemm(0, 0, m, dv, m, 1, A, m, Vc, dv, 0, Yc, dv);	/* Yc = A Vc */
		if (c0)
			nn_gemm(0, 0, m, dv, f, 1, Qc, f, S, dv, 1, Yc, dv); /* Yc += Qc S */
		for (int i = 0; i < m; i++) {
			const float *a = A + (size_t)i * m, *q = Qc + (size_t)i * f;
			float d = 0, *yi = Yc + (size_t)i * dv;
			for (int j = 0; j <= i; j++)
				d += a[j];
			for (int c = 0; c < f; c++)
				d += q[c] * z[c];
			d += LINATTN_EPS;
			if (den)
				den[c0 + i] = d;
			for (int c = 0; c < dv; c++)
				yi[c] /= d;
		}
		nn_gemm(1, 0, f, dv, m, 1, Kc, f, Vc, dv, 1, S, dv);	/* S += Kc^T Vc */
		for (int i = 0; i < m; i++)
			for (int c = 0; c < f; c++)
				z[c] += Kc[(size_t)i * f + c];
	}
	free(S);
	free(z);
	free(A);
}

/*
 * With O = [num, den]: y = num / den, so
 *	dnum = dy / den,  dden = -(dy . y) / den,
 * and the rest is the product's backward with dO = [dnum, dden].
 */
void
linattn_backward(float *dfq, float *dfk, float *dv_, const float *dy,
    const float *y, const float *den, const float *fq, const float *fk,
    const float *v, int n, int f, int dv, int chunk)
{
	int e = dv + 1, C = chunk > 0 ? chunk : LINATTN_CHUNK;
	float *va = augment(v, n, dv);
	float *dO = xmalloc(sizeof *dO * (size_t)n * e);
	float *dva = dv_ ? xcalloc((size_t)n * e, sizeof *dva) : NULL;
	float *S = xmalloc(sizeof *S * (size_t)f * e);
	float *A = xmalloc(sizeof *A * (size_t)C * C);

	for (int i = 0; i < n; i++) {
		double dot = 0;

		for (int c = 0; c < dv; c++) {
			dO[(size_t)i * e + c] = dy[(size_t)i * dv + c] / den[i];
			dot += (double)dy[(size_t)i * dv + c] * y[(size_t)i * dv + c];
		}
		dO[(size_t)i * e + dv] = (float)(-dot / den[i]);
	}
	causal_product_backward(dfq, dfk, dva, dO, fq, fk, va, n, f, e, C, S, A);
	if (dv_)
		for (int i = 0; i < n; i++)
			for (int c = 0; c < dv; c++)
				dv_[(size_t)i * dv + c] += dva[(size_t)i * e + c];
	free(va);
	free(dO);
	free(dva);
	free(S);
	free(A);
}

void
linattn_reference_forward(float *y, const float *fq, const float *fk,
    const float *v, int n, int f, int dv)
{
	double *num = xmalloc(sizeof *num * (size_t)dv);

	for (int i = 0; i < n; i++) {
		double den = 0;

		memset(num, 0, sizeof *num * (size_t)dv);
		for (int j = 0; j <= i; j++) {
			double a = 0;

			for (int c = 0; c < f; c++)
				a += (double)fq[(size_t)i * f + c] * fk[(size_t)j * f + c];
			den += a;
			for (int c = 0; c < dv; c++)
				num[c] += a * v[(size_t)j * dv + c];
		}
		den += LINATTN_EPS;
		for (int c = 0; c < dv; c++)
			y[(size_t)i * dv + c] = (float)(num[c] / den);
	}
	free(num);
}

/*
 * With a_ij = fq_i . fk_j (j <= i), num_i = sum_j a_ij v_j,
 * den_i = sum_j a_ij + eps, y_i = num_i / den_i:
 *	da_ij = (dy_i . v_j - dy_i . y_i) / den_i,
 *	dfq_i += sum_j da_ij fk_j,  dfk_j += sum_i da_ij fq_i,
 *	dv_j += sum_i a_ij dy_i / den_i.
 */
void
linattn_reference_backward(float *dfq, float *dfk, float *dv_,
    const float *dy, const float *fq, const float *fk, const float *v, int n,
    int f, int dv)
{
	double *a = xmalloc(sizeof *a * (size_t)n);
	double *yi = xmalloc(sizeof *yi * (size_t)dv);

	for (int i = 0; i < n; i++) {
		double den = 0, dyy = 0;

		for (int c = 0; c < dv; c++)
			yi[c] = 0;
		for (int j = 0; j <= i; j++) {
			a[j] = 0;
			for (int c = 0; c < f; c++)
				a[j] += (double)fq[(size_t)i * f + c] * fk[(size_t)j * f + c];
			den += a[j];
			for (int c = 0; c < dv; c++)
				yi[c] += a[j] * v[(size_t)j * dv + c];
		}
		den += LINATTN_EPS;
		for (int c = 0; c < dv; c++)
			dyy += dy[(size_t)i * dv + c] * (yi[c] / den);
		for (int j = 0; j <= i; j++) {
			double dyv = 0, da;

			for (int c = 0; c < dv; c++)
				dyv += (double)dy[(size_t)i * dv + c] * v[(size_t)j * dv + c];
			da = (dyv - dyy) / den;
			for (int c = 0; c < f; c++) {
				if (dfq)
					dfq[(size_t)i * f + c] += (float)(da * fk[(size_t)j * f + c]);
				if (dfk)
					dfk[(size_t)j * f + c] += (float)(da * fq[(size_t)i * f + c]);
			}
			if (dv_)
				for (int c = 0; c < dv; c++)
					dv_[(size_t)j * dv + c] +=
					    (float)(a[j] * dy[(size_t)i * dv + c] / den);
		}
	}
	free(a);
	free(yi);
}

void
linattn_state_init(struct linattn_state *st, int f, int dv)
{
	st->f = f;
	st->dv = dv;
	st->S = xcalloc((size_t)f * dv, sizeof *st->S);
	st->z = xcalloc((size_t)f, sizeof *st->z);
}

void
linattn_state_release(struct linattn_state *st)
{
	free(st->S);
	free(st->z);
	st->S = st->z = NULL;
}

void
linattn_step(struct linattn_state *st, float *y, const float *fq,
    const float *fk, const float *v)
{
	int f = st->f, dv = st->dv;
	float den = 0;

	/* S += fk v^T, z += fk */
	cblas_sger(CblasRowMajor, f, dv, 1, fk, 1, v, 1, st->S, dv);
	cblas_saxpy(f, 1, fk, 1, st->z, 1);
	/* y = (fq^T S) / (fq . z + eps) */
	cblas_sgemv(CblasRowMajor, CblasTrans, f, dv, 1, st->S, dv, fq, 1, 0, y, 1);
	den = cblas_sdot(f, fq, 1, st->z, 1) + LINATTN_EPS;
	for (int c = 0; c < dv; c++)
		y[c] /= den;
}

void
linattn_softmax_forward(float *y, const float *q, const float *k, const float *v,
    int n, int d, int dv, float scale, int causal, int block)
{
	int B = block > 0 ? block : 64;
	float *P = xmalloc(sizeof *P * (size_t)B * n);

	for (int r0 = 0; r0 < n; r0 += B) {
		int m = n - r0 < B ? n - r0 : B;
		int w = causal ? r0 + m : n;	/* columns any row of the block sees */

		/* P = scale q_block k[0:w]^T */
		nn_gemm(0, 1, m, w, d, scale, q + (size_t)r0 * d, d, k, d, 0, P, w);
		for (int i = 0; i < m; i++) {
			float *p = P + (size_t)i * w;
			int len = causal ? r0 + i + 1 : n;

			nn_softmax_row(p, len);
			if (len < w)
				memset(p + len, 0, sizeof *p * (size_t)(w - len));
		}
		nn_gemm(0, 0, m, dv, w, 1, P, w, v, dv, 0, y + (size_t)r0 * dv, dv);
	}
	free(P);
}

void
linattn_softmax_reference(float *y, const float *q, const float *k, const float *v,
    int n, int d, int dv, float scale, int causal)
{
	double *a = xmalloc(sizeof *a * (size_t)n);

	for (int i = 0; i < n; i++) {
		int len = causal ? i + 1 : n;
		double mx = -INFINITY, s = 0;

		for (int j = 0; j < len; j++) {
			a[j] = 0;
			for (int c = 0; c < d; c++)
				a[j] += (double)q[(size_t)i * d + c] * k[(size_t)j * d + c];
			a[j] *= scale;
			mx = a[j] > mx ? a[j] : mx;
		}
		for (int j = 0; j < len; j++)
			s += a[j] = exp(a[j] - mx);
		for (int c = 0; c < dv; c++) {
			double acc = 0;

			for (int j = 0; j < len; j++)
				acc += a[j] * v[(size_t)j * dv + c];
			y[(size_t)i * dv + c] = (float)(acc / s);
		}
	}
	free(a);
}
