/*
 * nn - neural-network kernels; see nn.h.
 *
 * The fast paths hand every matrix product to cblas_sgemm; the loops left
 * are element-wise or per row and run under OpenMP.  Inside an OpenMP
 * parallel region OpenBLAS (its OpenMP build, which config.mk links)
 * runs single-threaded, so attention parallelises over (batch, head)
 * pairs and calls sgemm on each.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "util.h"

#define LN_EPS	1e-5f

void
nn_linear_forward(float *out, const float *inp, const float *weight,
    const float *bias, size_t N, size_t C, size_t OC, int layout)
{
	float beta = 0.0f;

	if (N == 0 || OC == 0)
		return;
	if (bias != NULL) {
		#pragma omp parallel for if (N * OC > 65536)
		for (size_t i = 0; i < N; i++)
			memcpy(out + i * OC, bias, OC * sizeof *out);
		beta = 1.0f;
	}
	if (C == 0) {
		if (bias == NULL)
			memset(out, 0, N * OC * sizeof *out);
		return;
	}
	if (layout == NN_OUT_IN)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)OC,
		    (int)C, 1.0f, inp, (int)C, weight, (int)C, beta, out, (int)OC);
	else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)OC,
		    (int)C, 1.0f, inp, (int)C, weight, (int)OC, beta, out, (int)OC);
}

void
nn_linear_backward(float *dinp, float *dweight, float *dbias,
    const float *dout, const float *inp, const float *weight,
    size_t N, size_t C, size_t OC, int layout)
{
	if (N == 0 || OC == 0 || C == 0)
		goto bias;
	if (dinp != NULL) {
		/* dinp[N,C] += dout[N,OC] W^T: W^T is C x OC in either layout. */
		if (layout == NN_OUT_IN)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N,
			    (int)C, (int)OC, 1.0f, dout, (int)OC, weight, (int)C, 1.0f,
			    dinp, (int)C);
		else
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N,
			    (int)C, (int)OC, 1.0f, dout, (int)OC, weight, (int)OC, 1.0f,
			    dinp, (int)C);
	}
	if (layout == NN_OUT_IN)	/* dW[OC,C] += dout^T inp */
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)OC, (int)C,
		    (int)N, 1.0f, dout, (int)OC, inp, (int)C, 1.0f, dweight, (int)C);
	else				/* dW[C,OC] += inp^T dout */
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)C, (int)OC,
		    (int)N, 1.0f, inp, (int)C, dout, (int)OC, 1.0f, dweight, (int)OC);
bias:
	if (dbias != NULL) {
		/* Row by row, a whole row at a time: contiguous, vectorised, and
		 * the same sums whatever the thread count. */
		for (size_t i = 0; i < N; i++) {
			const float *row = dout + i * OC;
			for (size_t o = 0; o < OC; o++)
				dbias[o] += row[o];
		}
	}
}

void
nn_ref_linear_forward(float *out, const float *inp, const float *weight,
    const float *bias, size_t N, size_t C, size_t OC, int layout)
{
	for (size_t i = 0; i < N; i++)
		for (size_t o = 0; o < OC; o++) {
			double s = bias != NULL ? bias[o] : 0.0;
			for (size_t c = 0; c < C; c++)
				s += (double)inp[i * C + c] * (layout == NN_OUT_IN ?
				    weight[o * C + c] : weight[c * OC + o]);
			out[i * OC + o] = (float)s;
		}
}

void
nn_ref_linear_backward(float *dinp, float *dweight, float *dbias,
    const float *dout, const float *inp, const float *weight,
    size_t N, size_t C, size_t OC, int layout)
{
	for (size_t i = 0; i < N; i++)
		for (size_t o = 0; o < OC; o++) {
			float g = dout[i * OC + o];
			if (dbias != NULL)
				dbias[o] += g;
			for (size_t c = 0; c < C; c++) {
				size_t wi = layout == NN_OUT_IN ? o * C + c : c * OC + o;
				if (dinp != NULL)
					dinp[i * C + c] += g * weight[wi];
				dweight[wi] += g * inp[i * C + c];
			}
		}
}

void
nn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
    const float *w, const float *b, size_t N, size_t C)
{
	#pragma omp parallel for if (N * C > 65536)
	for (size_t i = 0; i < N; i++) {
		const float *x = inp + i * C;
		float *y = out + i * C;
		float m = 0.0f, v = 0.0f;
		for (size_t c = 0; c < C; c++)
			m += x[c];
		m /= (float)C;
		for (size_t c = 0; c < C; c++)
			v += (x[c] - m) * (x[c] - m);
		v /= (float)C;
		float s = 1.0f / sqrtf(v + LN_EPS);
		for (size_t c = 0; c < C; c++)
			y[c] = (x[c] - m) * s * w[c] + b[c];
		mean[i] = m;
		rstd[i] = s;
	}
}

void
nn_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
    const float *inp, const float *w, const float *mean, const float *rstd,
    size_t N, size_t C)
{
	/* dinp rows are independent; dw and db sum over rows, done per column
	 * below so that no two threads write one element. */
	#pragma omp parallel for if (N * C > 65536)
	for (size_t i = 0; i < N; i++) {
		const float *x = inp + i * C, *g = dout + i * C;
		float m = mean[i], s = rstd[i];
		float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
		for (size_t c = 0; c < C; c++) {
			float xhat = (x[c] - m) * s;
			float dn = w[c] * g[c];
			dnorm_mean += dn;
			dnorm_norm_mean += dn * xhat;
		}
		dnorm_mean /= (float)C;
		dnorm_norm_mean /= (float)C;
		for (size_t c = 0; c < C; c++) {
			float xhat = (x[c] - m) * s;
			float dn = w[c] * g[c];
			dinp[i * C + c] += (dn - dnorm_mean - xhat * dnorm_norm_mean) * s;
		}
	}
	#pragma omp parallel for if (N * C > 65536)
	for (size_t c = 0; c < C; c++) {
		float sw = 0.0f, sb = 0.0f;
		for (size_t i = 0; i < N; i++) {
			float g = dout[i * C + c];
			sw += (inp[i * C + c] - mean[i]) * rstd[i] * g;
			sb += g;
		}
		dw[c] += sw;
		db[c] += sb;
	}
}

#define GELU_SCALE 0.7978845608028654f	/* sqrt(2 / pi) */

/* tanh through one expf: glibc's tanhf costs several times more and GELU
 * is a fifth of a training step.  Absolute error ~1e-7, which is all
 * GELU needs (it multiplies by x/2 and adds 1); large |u| saturate
 * cleanly to +-1 through expf's overflow to inf or underflow to 0. */
static inline float
tanh_fast(float u)
{
	return 1.0f - 2.0f / (expf(2.0f * u) + 1.0f);
}

void
nn_gelu_forward(float *out, const float *inp, size_t n)
{
	#pragma omp parallel for if (n > 65536)
	for (size_t i = 0; i < n; i++) {
		float x = inp[i];
		out[i] = 0.5f * x * (1.0f + tanh_fast(GELU_SCALE * (x + 0.044715f * x * x * x)));
	}
}

void
nn_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n)
{
	#pragma omp parallel for if (n > 65536)
	for (size_t i = 0; i < n; i++) {
		float x = inp[i];
		float u = GELU_SCALE * (x + 0.044715f * x * x * x);
		float t = tanh_fast(u);
		float sech2 = 1.0f - t * t;
		float grad = 0.5f * (1.0f + t) +
		    0.5f * x * sech2 * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
		dinp[i] += grad * dout[i];
	}
}

void
nn_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *A, int lda,
    const float *B, int ldb, float beta, float *C, int ldc)
{
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
	    tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

void
nn_softmax_row(float *x, int len)
{
	float mx = -INFINITY, s = 0, inv;

#pragma omp simd reduction(max:mx)
	for (int j = 0; j < len; j++)
		mx = x[j] > mx ? x[j] : mx;
	for (int j = 0; j < len; j++) {
		x[j] = expf(x[j] - mx);
		s += x[j];
	}
	inv = 1 / s;
#pragma omp simd
	for (int j = 0; j < len; j++)
		x[j] *= inv;
}

void
nn_attention_forward(float *out, float *att, const float *qkv,
    size_t B, size_t T, size_t C, size_t NH)
{
	size_t hs = C / NH, C3 = 3 * C;
	float scale = 1.0f / sqrtf((float)hs);

	#pragma omp parallel for schedule(dynamic, 1) if (B * NH > 1)
	for (size_t bh = 0; bh < B * NH; bh++) {
		size_t b = bh / NH, h = bh % NH;
		const float *q = qkv + b * T * C3 + h * hs;
		const float *k = q + C, *v = q + 2 * C;
		float *a = att + bh * T * T;
		/* a = scale Q K^T: the upper triangle is computed and then
		 * zeroed; sgemm on the full square beats a triangle by hand. */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)T,
		    (int)hs, scale, q, (int)C3, k, (int)C3, 0.0f, a, (int)T);
		for (size_t t = 0; t < T; t++) {	/* row t: columns 0..t */
			nn_softmax_row(a + t * T, (int)t + 1);
			memset(a + t * T + t + 1, 0, sizeof *a * (T - t - 1));
		}
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)T, (int)hs,
		    (int)T, 1.0f, a, (int)T, v, (int)C3, 0.0f, out + b * T * C + h * hs,
		    (int)C);
	}
}

void
nn_attention_backward(float *dqkv, const float *dout, const float *qkv,
    const float *att, size_t B, size_t T, size_t C, size_t NH)
{
	size_t hs = C / NH, C3 = 3 * C;
	float scale = 1.0f / sqrtf((float)hs);

	#pragma omp parallel if (B * NH > 1)
	{
		float *datt = xmalloc(T * T * sizeof *datt);
		#pragma omp for schedule(dynamic, 1)
		for (size_t bh = 0; bh < B * NH; bh++) {
			size_t b = bh / NH, h = bh % NH;
			const float *q = qkv + b * T * C3 + h * hs;
			const float *k = q + C, *v = q + 2 * C;
			float *dq = dqkv + b * T * C3 + h * hs;
			float *dk = dq + C, *dv = dq + 2 * C;
			const float *a = att + bh * T * T;
			const float *dy = dout + b * T * C + h * hs;

			/* datt = dY V^T; dV += A^T dY */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T,
			    (int)T, (int)hs, 1.0f, dy, (int)C, v, (int)C3, 0.0f, datt,
			    (int)T);
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)T,
			    (int)hs, (int)T, 1.0f, a, (int)T, dy, (int)C, 1.0f, dv,
			    (int)C3);
			/* Softmax backward, row by row, times the score scale. */
			for (size_t t = 0; t < T; t++) {
				const float *ar = a + t * T;
				float *dr = datt + t * T;
				float dot = 0.0f;
				for (size_t j = 0; j <= t; j++)
					dot += ar[j] * dr[j];
				for (size_t j = 0; j <= t; j++)
					dr[j] = ar[j] * (dr[j] - dot) * scale;
				for (size_t j = t + 1; j < T; j++)
					dr[j] = 0.0f;
			}
			/* dQ += dS K; dK += dS^T Q */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)T,
			    (int)hs, (int)T, 1.0f, datt, (int)T, k, (int)C3, 1.0f, dq,
			    (int)C3);
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)T,
			    (int)hs, (int)T, 1.0f, datt, (int)T, q, (int)C3, 1.0f, dk,
			    (int)C3);
		}
		free(datt);
	}
}

void
nn_ref_attention_forward(float *out, float *att, const float *qkv,
    size_t B, size_t T, size_t C, size_t NH)
{
	size_t hs = C / NH, C3 = 3 * C;
	float scale = 1.0f / sqrtf((float)hs);

	for (size_t b = 0; b < B; b++)
		for (size_t h = 0; h < NH; h++)
			for (size_t t = 0; t < T; t++) {
				const float *q = qkv + (b * T + t) * C3 + h * hs;
				float *a = att + ((b * NH + h) * T + t) * T;
				double mx = -INFINITY, sum = 0.0;
				for (size_t j = 0; j <= t; j++) {
					const float *k = qkv + (b * T + j) * C3 + C + h * hs;
					double s = 0.0;
					for (size_t i = 0; i < hs; i++)
						s += (double)q[i] * k[i];
					a[j] = (float)(s * scale);
					if (a[j] > mx)
						mx = a[j];
				}
				for (size_t j = 0; j <= t; j++) {
					a[j] = (float)exp(a[j] - mx);
					sum += a[j];
				}
				for (size_t j = 0; j < T; j++)
					a[j] = j <= t ? (float)(a[j] / sum) : 0.0f;
				float *y = out + (b * T + t) * C + h * hs;
				for (size_t i = 0; i < hs; i++) {
					double s = 0.0;
					for (size_t j = 0; j <= t; j++)
						s += (double)a[j] *
						    qkv[(b * T + j) * C3 + 2 * C + h * hs + i];
					y[i] = (float)s;
				}
			}
}

void
nn_ref_attention_backward(float *dqkv, const float *dout, const float *qkv,
    const float *att, size_t B, size_t T, size_t C, size_t NH)
{
	size_t hs = C / NH, C3 = 3 * C;
	float scale = 1.0f / sqrtf((float)hs);

	for (size_t b = 0; b < B; b++)
		for (size_t h = 0; h < NH; h++)
			for (size_t t = 0; t < T; t++) {
				const float *a = att + ((b * NH + h) * T + t) * T;
				const float *dy = dout + (b * T + t) * C + h * hs;
				const float *q = qkv + (b * T + t) * C3 + h * hs;
				float *dq = dqkv + (b * T + t) * C3 + h * hs;
				double dot = 0.0;
				/* dA[j] = dy . v_j; dv_j += a[j] dy */
				double *da = xmalloc((t + 1) * sizeof *da);
				for (size_t j = 0; j <= t; j++) {
					const float *v = qkv + (b * T + j) * C3 + 2 * C + h * hs;
					float *dv = dqkv + (b * T + j) * C3 + 2 * C + h * hs;
					double s = 0.0;
					for (size_t i = 0; i < hs; i++) {
						s += (double)dy[i] * v[i];
						dv[i] += a[j] * dy[i];
					}
					da[j] = s;
					dot += s * a[j];
				}
				for (size_t j = 0; j <= t; j++) {
					const float *k = qkv + (b * T + j) * C3 + C + h * hs;
					float *dk = dqkv + (b * T + j) * C3 + C + h * hs;
					double ds = a[j] * (da[j] - dot) * scale;
					for (size_t i = 0; i < hs; i++) {
						dq[i] += (float)(ds * k[i]);
						dk[i] += (float)(ds * q[i]);
					}
				}
				free(da);
			}
}

void
nn_residual_forward(float *out, const float *a, const float *b, size_t n)
{
	#pragma omp parallel for if (n > 65536)
	for (size_t i = 0; i < n; i++)
		out[i] = a[i] + b[i];
}

static size_t
mask_count(const unsigned char *mask, size_t n)
{
	size_t c = 0;

	if (mask == NULL)
		return n;
	for (size_t i = 0; i < n; i++)
		c += mask[i] != 0;
	return c;
}

double
nn_bce_forward(const float *z, const float *y, const unsigned char *mask,
    size_t n)
{
	size_t count = mask_count(mask, n);
	double loss = 0.0;

	if (count == 0)
		return 0.0;
	for (size_t i = 0; i < n; i++) {
		if (mask != NULL && !mask[i])
			continue;
		double x = z[i];
		/* softplus(x) = max(x, 0) + log1p(exp(-|x|)) */
		loss += (x > 0 ? x : 0) + log1p(exp(-fabs(x))) - y[i] * x;
	}
	return loss / (double)count;
}

void
nn_bce_backward(float *dz, const float *z, const float *y,
    const unsigned char *mask, size_t n)
{
	size_t count = mask_count(mask, n);

	if (count == 0)
		return;
	float inv = 1.0f / (float)count;
	for (size_t i = 0; i < n; i++) {
		if (mask != NULL && !mask[i])
			continue;
		float p = 1.0f / (1.0f + expf(-z[i]));
		dz[i] += (p - y[i]) * inv;
	}
}

double
nn_softmax_ce_forward(const float *logits, const int *targets, size_t N,
    size_t V)
{
	double loss = 0.0;

	#pragma omp parallel for reduction(+:loss) if (N * V > 65536)
	for (size_t i = 0; i < N; i++) {
		const float *l = logits + i * V;
		float mx = l[0];
		for (size_t j = 1; j < V; j++)
			if (l[j] > mx)
				mx = l[j];
		double sum = 0.0;
		for (size_t j = 0; j < V; j++)
			sum += exp((double)l[j] - mx);
		/* sum >= 1: the maximum's own term is exp(0) */
		/* cppcheck-suppress invalidFunctionArg */
		loss += log(sum) + mx - l[targets[i]];
	}
	return N > 0 ? loss / (double)N : 0.0;
}

void
nn_softmax_ce_backward(float *dlogits, const float *logits, const int *targets,
    size_t N, size_t V)
{
	float inv = N > 0 ? 1.0f / (float)N : 0.0f;

	#pragma omp parallel for if (N * V > 65536)
	for (size_t i = 0; i < N; i++) {
		const float *l = logits + i * V;
		float *d = dlogits + i * V;
		float mx = l[0], sum = 0.0f;
		for (size_t j = 1; j < V; j++)
			if (l[j] > mx)
				mx = l[j];
		for (size_t j = 0; j < V; j++)
			sum += expf(l[j] - mx);
		for (size_t j = 0; j < V; j++)
			d[j] += (expf(l[j] - mx) / sum - (j == (size_t)targets[i])) * inv;
	}
}

void
nn_adamw_update(const struct nn_adamw *opt, float *params, const float *grads,
    float *m, float *v, size_t n, long t)
{
	float b1 = opt->beta1, b2 = opt->beta2;
	float c1 = 1.0f - powf(b1, (float)t), c2 = 1.0f - powf(b2, (float)t);

	#pragma omp parallel for if (n > 65536)
	for (size_t i = 0; i < n; i++) {
		float g = grads[i];
		m[i] = b1 * m[i] + (1.0f - b1) * g;
		v[i] = b2 * v[i] + (1.0f - b2) * g * g;
		float mhat = m[i] / c1, vhat = v[i] / c2;
		params[i] -= opt->lr * (mhat / (sqrtf(vhat) + opt->eps) +
		    opt->weight_decay * params[i]);
	}
}
