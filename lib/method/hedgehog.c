/*
 * hedgehog - feature maps, distillation loss, trainer and metrics; see
 * hedgehog.h.
 */
/* Let gcc if-convert float comparisons (vexpf's clamp, the softmax's max)
 * so that the feature-map loops vectorise: loam never traps on floating
 * point exceptions, so assuming comparisons do not trap changes no result. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "hedgehog.h"
#include "linattn.h"
#include "nn.h"
#include "rng.h"
#include "util.h"
#include "vexp.h"


const char *const hedgehog_fmap_names[HEDGEHOG_NFMAP] = {
	"hedgehog", "hedgehog-exp", "hedgehog-fla", "elu1", "relu", "performer",
	"cosformer", "taylor",
};

int
hedgehog_fmap_learned(int kind)
{
	return kind == HEDGEHOG_FMAP_HEDGEHOG || kind == HEDGEHOG_FMAP_EXP || kind == HEDGEHOG_FMAP_FLA;
}

int
hedgehog_feature_count(int kind, int d, int df)
{
	switch (kind) {
	case HEDGEHOG_FMAP_HEDGEHOG:
	case HEDGEHOG_FMAP_EXP:
	case HEDGEHOG_FMAP_FLA:
	case HEDGEHOG_FMAP_PERFORMER:
		return 2 * df;
	case HEDGEHOG_FMAP_ELU1:
	case HEDGEHOG_FMAP_RELU:
		return d;
	case HEDGEHOG_FMAP_COSFORMER:
		return 2 * d;
	case HEDGEHOG_FMAP_TAYLOR:
		return 1 + d + d * d;
	}
	return 0;
}

/* u [k] = softmax(sign * z [k]), clamped below at HEDGEHOG_FEATURE_MIN.  The
 * feature maps are a large part of linear attention's time: the loops are
 * written to vectorise (vexpf, not a libm call). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
/* An AVX2+FMA clone beside the baseline one, chosen at load time: the
 * build targets plain x86-64 (SSE2), and 8 lanes halve this loop. */
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
static void
softmax_into(float *u, const float *z, int k, float sign)
{
	float mx = -INFINITY, s = 0, inv;

	#pragma omp simd reduction(max:mx)
	for (int j = 0; j < k; j++)
		mx = sign * z[j] > mx ? sign * z[j] : mx;
	#pragma omp simd reduction(+:s)
	for (int j = 0; j < k; j++) {
		u[j] = vexpf(sign * z[j] - mx);
		s += u[j];
	}
	inv = 1.0f / s;
	#pragma omp simd
	for (int j = 0; j < k; j++) {
		float v = u[j] * inv;
		u[j] = v < HEDGEHOG_FEATURE_MIN ? HEDGEHOG_FEATURE_MIN : v;
	}
}

void
hedgehog_learned_forward(int kind, float *phi, float *z, const float *x,
    const float *W, const float *b, int n, int d, int df)
{
	int f = 2 * df;

	nn_gemm(0, 0, n, df, d, 1, x, d, W, df, 0, z, df);		/* z = x W */
	for (int i = 0; i < n; i++) {
		float *zi = z + (size_t)i * df, *pi = phi + (size_t)i * f;

		if (b)
			for (int j = 0; j < df; j++)
				zi[j] += b[j];
		switch (kind) {
		case HEDGEHOG_FMAP_HEDGEHOG:
			softmax_into(pi, zi, df, 1);
			softmax_into(pi + df, zi, df, -1);
			break;
		case HEDGEHOG_FMAP_EXP:
			for (int j = 0; j < df; j++) {
				float zc = zi[j] > HEDGEHOG_EXP_ZMAX ? HEDGEHOG_EXP_ZMAX :
				    zi[j] < -HEDGEHOG_EXP_ZMAX ? -HEDGEHOG_EXP_ZMAX : zi[j];

				pi[j] = expf(zc);
				pi[df + j] = expf(-zc);
			}
			break;
		case HEDGEHOG_FMAP_FLA: {
			/* one softmax over [2z, -2z] */
			float mx = -INFINITY, s = 0;

			for (int j = 0; j < df; j++) {
				pi[j] = 2 * zi[j];
				pi[df + j] = -2 * zi[j];
			}
			for (int j = 0; j < f; j++)
				mx = pi[j] > mx ? pi[j] : mx;
			for (int j = 0; j < f; j++)
				s += pi[j] = expf(pi[j] - mx);
			for (int j = 0; j < f; j++) {
				pi[j] /= s;
				if (pi[j] < HEDGEHOG_FEATURE_MIN)
					pi[j] = HEDGEHOG_FEATURE_MIN;
			}
			break;
		}
		}
	}
}

/*
 * Per row, with u, w the two halves of phi and du, dw theirs of dphi:
 *	softmax halves:	dz = u (du - <du, u>) - w (dw - <dw, w>)
 *	exp:		dz = u du - w dw  (0 where z was clamped)
 *	fla:		dl = p (dp - <dp, p>) over all 2 df;
 *			dz = 2 dl[:df] - 2 dl[df:]
 */
void
hedgehog_learned_backward(int kind, float *dW, float *db, float *dz,
    const float *dphi, const float *phi, const float *z, const float *x, int n,
    int d, int df)
{
	int f = 2 * df;

	for (int i = 0; i < n; i++) {
		const float *u = phi + (size_t)i * f, *w = u + df;
		const float *du = dphi + (size_t)i * f, *dw = du + df;
		const float *zi = z + (size_t)i * df;
		float *g = dz + (size_t)i * df;

		switch (kind) {
		case HEDGEHOG_FMAP_HEDGEHOG: {
			float a = 0, c = 0;

			for (int j = 0; j < df; j++) {
				a += du[j] * u[j];
				c += dw[j] * w[j];
			}
			for (int j = 0; j < df; j++)
				g[j] = u[j] * (du[j] - a) - w[j] * (dw[j] - c);
			break;
		}
		case HEDGEHOG_FMAP_EXP:
			for (int j = 0; j < df; j++)
				g[j] = fabsf(zi[j]) > HEDGEHOG_EXP_ZMAX ? 0 : u[j] * du[j] - w[j] * dw[j];
			break;
		case HEDGEHOG_FMAP_FLA: {
			float a = 0;

			for (int j = 0; j < f; j++)
				a += du[j] * u[j];
			for (int j = 0; j < df; j++)
				g[j] = 2 * u[j] * (du[j] - a) - 2 * w[j] * (dw[j] - a);
			break;
		}
		}
	}
	nn_gemm(1, 0, d, df, n, 1, x, d, dz, df, 1, dW, df);		/* dW += x^T dz */
	if (db)
		for (int i = 0; i < n; i++)
			for (int j = 0; j < df; j++)
				db[j] += dz[(size_t)i * df + j];
}

void
hedgehog_fixed_forward(int kind, float *phi, const float *x, int n, int d,
    const float *omega, int m, int is_query)
{
	switch (kind) {
	case HEDGEHOG_FMAP_ELU1:
		for (size_t i = 0; i < (size_t)n * d; i++)
			phi[i] = x[i] > 0 ? x[i] + 1 : expf(x[i]);
		break;
	case HEDGEHOG_FMAP_RELU:
		for (size_t i = 0; i < (size_t)n * d; i++)
			phi[i] = x[i] > 0 ? x[i] : 0;
		break;
	case HEDGEHOG_FMAP_COSFORMER:
		/* cos(pi (i - j) / 2M) = cos_i cos_j + sin_i sin_j, M = n */
		for (int i = 0; i < n; i++) {
			double a = M_PI * i / (2.0 * n);
			float c = (float)cos(a), s = (float)sin(a);

			for (int j = 0; j < d; j++) {
				float r = x[(size_t)i * d + j] > 0 ? x[(size_t)i * d + j] : 0;

				phi[(size_t)i * 2 * d + j] = r * c;
				phi[(size_t)i * 2 * d + d + j] = r * s;
			}
		}
		break;
	case HEDGEHOG_FMAP_TAYLOR: {
		int f = 1 + d + d * d;
		float s1 = 1 / sqrtf(sqrtf((float)d)), s2 = 1 / sqrtf(2 * (float)d);

		for (int i = 0; i < n; i++) {
			const float *xi = x + (size_t)i * d;
			float *p = phi + (size_t)i * f;

			p[0] = 1;
			for (int a = 0; a < d; a++)
				p[1 + a] = xi[a] * s1;
			for (int a = 0; a < d; a++)
				for (int c = 0; c < d; c++)
					p[1 + d + a * d + c] = xi[a] * xi[c] * s2;
		}
		break;
	}
	case HEDGEHOG_FMAP_PERFORMER: {
		/* l_ir = omega_r . x'_i - |x'_i|^2 / 2, x' = x d^-1/4; phi = exp(l - c)
		 * with c the row's max for a query, the max over all rows for
		 * keys: both factors cancel in p. */
		float s = 1 / sqrtf(sqrtf((float)d)), gmax = -INFINITY;

		nn_gemm(0, 1, n, m, d, s, x, d, omega, d, 0, phi, m);
		for (int i = 0; i < n; i++) {
			float nn = 0, *p = phi + (size_t)i * m, mx = -INFINITY;

			for (int j = 0; j < d; j++)
				nn += x[(size_t)i * d + j] * x[(size_t)i * d + j];
			nn *= s * s / 2;
			for (int r = 0; r < m; r++) {
				p[r] -= nn;
				mx = p[r] > mx ? p[r] : mx;
			}
			if (is_query)
				for (int r = 0; r < m; r++)
					p[r] = expf(p[r] - mx);
			gmax = mx > gmax ? mx : gmax;
		}
		if (!is_query)
			for (size_t i = 0; i < (size_t)n * m; i++)
				phi[i] = expf(phi[i] - gmax);
		break;
	}
	}
}

void
hedgehog_performer_init(float *omega, int m, int d, uint64_t seed, uint64_t index)
{
	struct rng r;
	double *G = xmalloc(sizeof *G * (size_t)d * d);

	rng_init(&r, seed, RNG_HEDGEHOG_PERFORMER, index);
	for (int r0 = 0; r0 < m; r0 += d) {
		int rows = m - r0 < d ? m - r0 : d;

		/* d Gaussian rows, orthonormalised (modified Gram-Schmidt) */
		for (size_t i = 0; i < (size_t)d * d; i++)
			G[i] = rng_normal(&r);
		for (int i = 0; i < d; i++) {
			double *gi = G + (size_t)i * d, nrm = 0;

			for (int j = 0; j < i; j++) {
				double *gj = G + (size_t)j * d, dot = 0;

				for (int c = 0; c < d; c++)
					dot += gi[c] * gj[c];
				for (int c = 0; c < d; c++)
					gi[c] -= dot * gj[c];
			}
			for (int c = 0; c < d; c++)
				nrm += gi[c] * gi[c];
			nrm = sqrt(nrm);
			for (int c = 0; c < d; c++)
				gi[c] /= nrm;
		}
		for (int i = 0; i < rows; i++) {
			double chi = 0;

			for (int c = 0; c < d; c++) {
				double g = rng_normal(&r);

				chi += g * g;
			}
			chi = sqrt(chi);
			for (int c = 0; c < d; c++)
				omega[(size_t)(r0 + i) * d + c] = (float)(G[(size_t)i * d + c] * chi);
		}
	}
	free(G);
}

long
hedgehog_loss_workspace(int n, int block)
{
	return 2L * block * n;
}

#define S_FLOOR	1e-30f	/* guards 1/s in the gradient and log s */

double
hedgehog_distill(const float *q, const float *k, const float *fq, const float *fk,
    int n, int d, int f, int causal, int block, int want_loss, float gscale,
    float *dfq, float *dfk, float *ws)
{
	int B = block;
	float *T = ws, *G = ws + (size_t)B * n, scale = 1 / sqrtf((float)d);
	float gs = gscale / (float)n;
	double loss = 0;

	for (int r0 = 0; r0 < n; r0 += B) {
		int m = n - r0 < B ? n - r0 : B;
		int w = causal ? r0 + m : n;

		nn_gemm(0, 1, m, w, d, scale, q + (size_t)r0 * d, d, k, d, 0, T, w);
		nn_gemm(0, 1, m, w, f, 1, fq + (size_t)r0 * f, f, fk, f, 0, G, w);
		for (int i = 0; i < m; i++) {
			float *t = T + (size_t)i * w, *s = G + (size_t)i * w, Z = 0, iz;
			int len = causal ? r0 + i + 1 : n;

			nn_softmax_row(t, len);
			for (int j = 0; j < len; j++)
				Z += s[j];
			if (want_loss) {
				double acc = 0, lz = log((double)Z);

				for (int j = 0; j < len; j++)
					if (t[j] > 0)
						acc += (double)t[j] *
						    (lz - logf(s[j] > S_FLOOR ? s[j] : S_FLOOR));
				loss += acc;
			}
			/* g_ij = (p_ij - t_ij) / s_ij = 1/Z - t_ij / s_ij */
			iz = 1 / Z;
			for (int j = 0; j < len; j++)
				s[j] = gs * (iz - t[j] / (s[j] > S_FLOOR ? s[j] : S_FLOOR));
			for (int j = len; j < w; j++)
				s[j] = 0;
		}
		if (dfq)
			nn_gemm(0, 0, m, f, w, 1, G, w, fk, f, 1, dfq + (size_t)r0 * f, f);
		if (dfk)
			nn_gemm(1, 0, w, f, m, 1, G, w, fq + (size_t)r0 * f, f, 1, dfk, f);
	}
	return loss / n;
}

double
hedgehog_distill_reference(const float *q, const float *k, const float *fq,
    const float *fk, int n, int d, int f, int causal, double *dfq, double *dfk)
{
	double *t = xmalloc(sizeof *t * (size_t)n), *s = xmalloc(sizeof *s * (size_t)n);
	double loss = 0;

	for (int i = 0; i < n; i++) {
		int len = causal ? i + 1 : n;
		double mx = -INFINITY, sum = 0, Z = 0;

		for (int j = 0; j < len; j++) {
			t[j] = 0;
			s[j] = 0;
			for (int c = 0; c < d; c++)
				t[j] += (double)q[(size_t)i * d + c] * k[(size_t)j * d + c];
			t[j] /= sqrt((double)d);
			mx = t[j] > mx ? t[j] : mx;
			for (int c = 0; c < f; c++)
				s[j] += (double)fq[(size_t)i * f + c] * fk[(size_t)j * f + c];
			Z += s[j];
		}
		for (int j = 0; j < len; j++)
			sum += t[j] = exp(t[j] - mx);
		for (int j = 0; j < len; j++) {
			double g;

			t[j] /= sum;
			loss -= t[j] * log(s[j] / Z);
			g = (s[j] / Z - t[j]) / s[j] / n;
			for (int c = 0; c < f; c++) {
				if (dfq)
					dfq[(size_t)i * f + c] += g * fk[(size_t)j * f + c];
				if (dfk)
					dfk[(size_t)j * f + c] += g * fq[(size_t)i * f + c];
			}
		}
	}
	free(t);
	free(s);
	return loss / n;
}

/* Ranks (1-based, ties averaged) of x [len] into rank; vi is workspace. */
struct valix {
	float v;
	int i;
};

static int
cmp_valix(const void *a, const void *b)
{
	float x = ((const struct valix *)a)->v, y = ((const struct valix *)b)->v;

	return (x > y) - (x < y);
}

static void
ranks(double *rank, const float *x, struct valix *vi, int len)
{
	for (int j = 0; j < len; j++) {
		vi[j].v = x[j];
		vi[j].i = j;
	}
	qsort(vi, (size_t)len, sizeof *vi, cmp_valix);
	for (int a = 0; a < len;) {
		int b = a;

		while (b + 1 < len && vi[b + 1].v == vi[a].v)
			b++;
		for (int j = a; j <= b; j++)
			rank[vi[j].i] = (a + b) / 2.0 + 1;
		a = b + 1;
	}
}

/* Pearson correlation of two rank vectors; 0 when one is constant. */
static double
rank_corr(const double *a, const double *b, int len)
{
	double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;

	for (int j = 0; j < len; j++) {
		ma += a[j];
		mb += b[j];
	}
	ma /= len;
	mb /= len;
	for (int j = 0; j < len; j++) {
		sab += (a[j] - ma) * (b[j] - mb);
		saa += (a[j] - ma) * (a[j] - ma);
		sbb += (b[j] - mb) * (b[j] - mb);
	}
	return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
}

void
hedgehog_metrics_add(struct hedgehog_metrics *mt, const float *q, const float *k,
    const float *fq, const float *fk, int n, int d, int f, int causal, int block)
{
	int B = block;
	float *L = xmalloc(sizeof *L * (size_t)B * n), *P = xmalloc(sizeof *P * (size_t)B * n);
	float *t = xmalloc(sizeof *t * (size_t)n);
	double *ra = xmalloc(sizeof *ra * (size_t)n), *rb = xmalloc(sizeof *rb * (size_t)n);
	struct valix *idx = xmalloc(sizeof *idx * (size_t)n);
	float scale = 1 / sqrtf((float)d);

	for (int r0 = 0; r0 < n; r0 += B) {
		int m = n - r0 < B ? n - r0 : B;
		int w = causal ? r0 + m : n;

		nn_gemm(0, 1, m, w, d, scale, q + (size_t)r0 * d, d, k, d, 0, L, w);
		if (fq)
			nn_gemm(0, 1, m, w, f, 1, fq + (size_t)r0 * f, f, fk, f, 0, P, w);
		else	/* Taylor's kernel on u = q.k / sqrt d */
			for (size_t i = 0; i < (size_t)m * w; i++)
				P[i] = 1 + L[i] + L[i] * L[i] / 2;
		for (int i = 0; i < m; i++) {
			float *l = L + (size_t)i * w, *p = P + (size_t)i * w;
			int len = causal ? r0 + i + 1 : n;
			double Z = 0, ce = 0, ht = 0, hp = 0, mt_ = 0, mp = 0;

			memcpy(t, l, sizeof *t * (size_t)len);
			nn_softmax_row(t, len);
			for (int j = 0; j < len; j++)
				Z += p[j];
			for (int j = 0; j < len; j++) {
				double pj = p[j] / (Z + 1e-12), tj = t[j];

				p[j] = (float)pj;
				ce -= tj * log(pj > 1e-12 ? pj : 1e-12);
				if (tj > 0)
					ht -= tj * log(tj);
				if (pj > 0)
					hp -= pj * log(pj);
				mt_ = tj > mt_ ? tj : mt_;
				mp = pj > mp ? pj : mp;
			}
			mt->ce += ce;
			mt->kl += ce - ht;
			mt->entropy += hp;
			mt->teacher_entropy += ht;
			mt->max_weight += mp;
			mt->teacher_max_weight += mt_;
			mt->rows++;
			if (len >= 3) {
				ranks(ra, l, idx, len);
				ranks(rb, p, idx, len);
				mt->monotonicity += rank_corr(ra, rb, len);
				mt->mono_rows++;
			}
		}
	}
	free(L);
	free(P);
	free(t);
	free(ra);
	free(rb);
	free(idx);
}

void
hedgehog_metrics_mean(struct hedgehog_metrics *m)
{
	if (m->rows > 0) {
		m->ce /= m->rows;
		m->kl /= m->rows;
		m->entropy /= m->rows;
		m->teacher_entropy /= m->rows;
		m->max_weight /= m->rows;
		m->teacher_max_weight /= m->rows;
	}
	if (m->mono_rows > 0)
		m->monotonicity /= m->mono_rows;
}

void
hedgehog_maps_init(struct hedgehog_maps *m, int kind, int H, int d, int df, int bias)
{
	size_t nw;

	m->kind = kind;
	m->H = H;
	m->P = kind == HEDGEHOG_FMAP_FLA ? 1 : H;
	m->d = d;
	m->df = df;
	m->bias = bias;
	nw = (size_t)m->P * d * df;
	m->wq = xcalloc(nw, sizeof *m->wq);
	m->wk = xcalloc(nw, sizeof *m->wk);
	m->bq = bias ? xcalloc((size_t)m->P * df, sizeof *m->bq) : NULL;
	m->bk = bias ? xcalloc((size_t)m->P * df, sizeof *m->bk) : NULL;
	for (int p = 0; p < m->P; p++)
		for (int i = 0; i < d && i < df; i++) {
			m->wq[(size_t)p * d * df + (size_t)i * df + i] = 1;
			m->wk[(size_t)p * d * df + (size_t)i * df + i] = 1;
		}
}

void
hedgehog_maps_release(struct hedgehog_maps *m)
{
	free(m->wq);
	free(m->wk);
	free(m->bq);
	free(m->bk);
	m->wq = m->wk = m->bq = m->bk = NULL;
}

int
hedgehog_maps_param(const struct hedgehog_maps *m, int h)
{
	return m->P == 1 ? 0 : h;
}

void
hedgehog_maps_features(const struct hedgehog_maps *m, int h, int which, float *phi,
    float *z, const float *x, int n)
{
	size_t p = (size_t)hedgehog_maps_param(m, h);
	const float *W = (which ? m->wk : m->wq) + p * m->d * m->df;
	const float *b = m->bias ? (which ? m->bk : m->bq) + p * m->df : NULL;

	hedgehog_learned_forward(m->kind, phi, z, x, W, b, n, m->d, m->df);
}

void
hedgehog_fit_opts_default(struct hedgehog_fit_opts *o)
{
	memset(o, 0, sizeof *o);
	o->causal = 1;
	o->block = 64;
	o->lr = 1e-2;
	o->weight_decay = 0;
	o->beta1 = 0.9;
	o->beta2 = 0.999;
	o->adam_eps = 1e-8;
	o->epochs = 2;
	o->steps = 0;
	o->batch = 1;
	o->eval_every = 50;
	o->patience = 10;
	o->min_lr = 1e-5;
	o->xent_factor = 1;
	o->mse_factor = 0;
	o->chunk = LINATTN_CHUNK;
	o->seed = 0;
}

/* One head's buffers for a step. */
struct head_ws {
	float *fq, *fk, *zq, *zk, *dfq, *dfk, *dz, *loss, *grad;
	float *yt, *ys, *dy, *den;	/* MSE term: [n, dv] x 3, [n] */
};

/*
 * A parameter group's vector theta: Wq [d, df], Wk [d, df], then
 * bq [df], bk [df] with bias.
 */
struct group {
	int d, df, bias, kind;
	size_t np;
};

static const float *
g_wq(const struct group *g, const float *th)
{
	return th;
}

static const float *
g_wk(const struct group *g, const float *th)
{
	return th + (size_t)g->d * g->df;
}

static const float *
g_bq(const struct group *g, const float *th)
{
	return g->bias ? th + 2 * (size_t)g->d * g->df : NULL;
}

static const float *
g_bk(const struct group *g, const float *th)
{
	return g->bias ? th + 2 * (size_t)g->d * g->df + g->df : NULL;
}

/*
 * Loss of one head on one sequence (q, k [n, d], v [n, dv] or NULL), and
 * (with grad) gscale times its gradient added into grad, laid out like
 * theta.  The MSE term compares the chunked linear attention's output
 * with softmax attention's and flows back through linattn_backward.
 */
static double
head_step(const struct group *g, const float *th, struct head_ws *w,
    const float *q, const float *k, const float *v, int n, int dv,
    const struct hedgehog_fit_opts *o, int want_loss, float gscale, float *grad)
{
	int d = g->d, df = g->df, f = 2 * df;
	int mse = v && o->mse_factor > 0;
	double L = 0;

	hedgehog_learned_forward(g->kind, w->fq, w->zq, q, g_wq(g, th), g_bq(g, th), n, d, df);
	hedgehog_learned_forward(g->kind, w->fk, w->zk, k, g_wk(g, th), g_bk(g, th), n, d, df);
	if (grad) {
		memset(w->dfq, 0, sizeof *w->dfq * (size_t)n * f);
		memset(w->dfk, 0, sizeof *w->dfk * (size_t)n * f);
	}
	if (o->xent_factor > 0)
		L = o->xent_factor * hedgehog_distill(q, k, w->fq, w->fk, n, d, f, o->causal, o->block,
		    want_loss, (float)(gscale * o->xent_factor), grad ? w->dfq : NULL,
		    grad ? w->dfk : NULL, w->loss);
	if (mse) {
		size_t ny = (size_t)n * dv;
		double se = 0;

		linattn_softmax_forward(w->yt, q, k, v, n, d, dv, 1 / sqrtf((float)d), 1, o->block);
		linattn_forward(w->ys, w->den, w->fq, w->fk, v, n, f, dv, o->chunk);
		for (size_t i = 0; i < ny; i++) {
			double e = (double)w->ys[i] - w->yt[i];

			se += e * e;
			w->dy[i] = (float)(gscale * o->mse_factor * 2 * e / (double)ny);
		}
		L += o->mse_factor * se / (double)ny;
		if (grad)
			linattn_backward(w->dfq, w->dfk, NULL, w->dy, w->ys, w->den, w->fq, w->fk,
			    v, n, f, dv, o->chunk);
	}
	if (!grad)
		return L;
	hedgehog_learned_backward(g->kind, grad, g->bias ? grad + 2 * (size_t)d * df : NULL,
	    w->dz, w->dfq, w->fq, w->zq, q, n, d, df);
	hedgehog_learned_backward(g->kind, grad + (size_t)d * df,
	    g->bias ? grad + 2 * (size_t)d * df + df : NULL, w->dz, w->dfk, w->fk, w->zk,
	    k, n, d, df);
	return L;
}

static void
head_ws_init(struct head_ws *w, int n, int df, int dv, int block, size_t np)
{
	size_t nf = (size_t)n * 2 * df, nz = (size_t)n * df;

	w->fq = xmalloc(sizeof *w->fq * nf);
	w->fk = xmalloc(sizeof *w->fk * nf);
	w->dfq = xmalloc(sizeof *w->dfq * nf);
	w->dfk = xmalloc(sizeof *w->dfk * nf);
	w->zq = xmalloc(sizeof *w->zq * nz);
	w->zk = xmalloc(sizeof *w->zk * nz);
	w->dz = xmalloc(sizeof *w->dz * nz);
	w->loss = xmalloc(sizeof *w->loss * (size_t)hedgehog_loss_workspace(n, block));
	w->grad = xmalloc(sizeof *w->grad * np);
	w->yt = w->ys = w->dy = w->den = NULL;
	if (dv > 0) {
		w->yt = xmalloc(sizeof *w->yt * (size_t)n * dv);
		w->ys = xmalloc(sizeof *w->ys * (size_t)n * dv);
		w->dy = xmalloc(sizeof *w->dy * (size_t)n * dv);
		w->den = xmalloc(sizeof *w->den * (size_t)n);
	}
}

static void
head_ws_release(struct head_ws *w)
{
	free(w->fq);
	free(w->fk);
	free(w->dfq);
	free(w->dfk);
	free(w->zq);
	free(w->zk);
	free(w->dz);
	free(w->loss);
	free(w->grad);
	free(w->yt);
	free(w->ys);
	free(w->dy);
	free(w->den);
}

/* Work (multiply-adds) below which a parallel region costs more than it
 * saves. */
#define PAR_WORK	4e6

/* Mean loss over the sequences seq[0..ns) and the heads h0..h0+nh,
 * summed in a fixed order whatever the threads. */
static double
group_loss(const struct group *g, const float *th, struct head_ws *ws,
    const float *q, const float *k, const float *v, int H, int n, int dv, int h0,
    int nh, const int *seq, int ns, const struct hedgehog_fit_opts *o, int par)
{
	double total = 0, *part = xcalloc((size_t)nh, sizeof *part);
	size_t hs = (size_t)n * g->d, vs = (size_t)n * dv;

#pragma omp parallel for if (par)
	for (int a = 0; a < nh; a++)
		for (int b = 0; b < ns; b++) {
			size_t r = (size_t)seq[b] * H + h0 + a;

			part[a] += head_step(g, th, &ws[a], q + r * hs, k + r * hs,
			    v ? v + r * vs : NULL, n, dv, o, 1, 0, NULL);
		}
	for (int a = 0; a < nh; a++)
		total += part[a];
	free(part);
	return total / ((double)nh * ns);
}

int
hedgehog_fit_layer(struct hedgehog_maps *m, const float *q, const float *k, const float *v,
    int S, int H, int n, int d, int dv, const int *train, int ntrain, const int *val, int nval,
    const struct hedgehog_fit_opts *o, struct hedgehog_fit_report *rep)
{
	struct group g = { d, m->df, m->bias, m->kind, 0 };
	int nh = m->P == 1 ? H : 1;	/* heads per parameter group */
	int spe = (ntrain + o->batch - 1) / o->batch;
	int total = o->steps > 0 ? o->steps : o->epochs * spe;
	long done = 0;
	int failed = 0;
	/* Threads over the heads of one step (only the shared fla map has
	 * several heads per group) when a head's work pays for waking them;
	 * else one thread per parameter group.  Every product then runs
	 * inside an active parallel region, where OpenBLAS keeps it on the
	 * calling thread: results do not depend on the number of threads,
	 * which is the command's (-t) and which lib leaves alone.  (The one
	 * group of fla when small takes a region of its own for this, its
	 * other threads idle.) */
	int big = nh > 1 && (double)n * n * d * o->batch >= PAR_WORK;

	(void)S;
	if (!v || o->mse_factor <= 0) {
		v = NULL;
		dv = 0;
	}
	g.np = 2 * (size_t)d * m->df + (m->bias ? 2 * (size_t)m->df : 0);
	if (nval == 0) {	/* no held-out split: select on the training set */
		val = train;
		nval = ntrain;
	}
	rep->steps = total;

#pragma omp parallel for schedule(dynamic) if (!big)
	for (int p = 0; p < m->P; p++) {
		int h0 = m->P == 1 ? 0 : p;
		size_t np = g.np, dd = (size_t)d * m->df;
		float *th = xmalloc(sizeof *th * np), *best = xmalloc(sizeof *best * np);
		float *grad = xmalloc(sizeof *grad * np);
		float *am = xcalloc(np, sizeof *am), *av = xcalloc(np, sizeof *av);
		int *order = xmalloc(sizeof *order * (size_t)(ntrain ? ntrain : 1));
		struct head_ws *ws = xmalloc(sizeof *ws * (size_t)nh);
		double lr = o->lr, bestv, vl;
		struct nn_adamw opt = { (float)o->lr, (float)o->beta1, (float)o->beta2,
		    (float)o->adam_eps, (float)o->weight_decay };
		int bad = 0, epoch = -1, best_step = 0;

		memcpy(th, m->wq + p * dd, sizeof *th * dd);
		memcpy(th + dd, m->wk + p * dd, sizeof *th * dd);
		if (m->bias) {
			memcpy(th + 2 * dd, m->bq + (size_t)p * m->df, sizeof *th * m->df);
			memcpy(th + 2 * dd + m->df, m->bk + (size_t)p * m->df, sizeof *th * m->df);
		}
		memcpy(best, th, sizeof *th * np);
		for (int a = 0; a < nh; a++)
			head_ws_init(&ws[a], n, m->df, dv, o->block, np);
		bestv = group_loss(&g, th, ws, q, k, v, H, n, dv, h0, nh, val, nval, o, big);
		for (int a = 0; a < nh; a++)
			rep->init_loss[h0 + a] = bestv;
		if (!isfinite(bestv))
			failed = 1;
		for (int step = 0; step < total && !failed; step++) {
			int e = step / spe, b0 = (step % spe) * o->batch;
			int nb = ntrain - b0 < o->batch ? ntrain - b0 : o->batch;

			if (e != epoch) {	/* the epoch's order, the same for every head */
				struct rng r;

				rng_init(&r, o->seed, RNG_HEDGEHOG_SHUFFLE, (uint64_t)e);
				memcpy(order, train, sizeof *order * (size_t)ntrain);
				rng_shuffle(&r, order, (size_t)ntrain, sizeof *order);
				epoch = e;
			}
#pragma omp parallel for if (big)
			for (int a = 0; a < nh; a++) {
				size_t hs = (size_t)n * d, vs = (size_t)n * dv;

				memset(ws[a].grad, 0, sizeof *ws[a].grad * np);
				for (int b = 0; b < nb; b++) {
					size_t r = (size_t)order[b0 + b] * H + h0 + a;

					head_step(&g, th, &ws[a], q + r * hs, k + r * hs,
					    v ? v + r * vs : NULL, n, dv, o, 0,
					    (float)(1.0 / ((double)nb * nh)), ws[a].grad);
				}
			}
			memcpy(grad, ws[0].grad, sizeof *grad * np);
			for (int a = 1; a < nh; a++)
				for (size_t i = 0; i < np; i++)
					grad[i] += ws[a].grad[i];
			/* AdamW (decoupled weight decay), as torch.optim.AdamW */
			opt.lr = (float)lr;
			nn_adamw_update(&opt, th, grad, am, av, np, step + 1);
			if ((step + 1) % o->eval_every == 0 || step + 1 == total) {
				vl = group_loss(&g, th, ws, q, k, v, H, n, dv, h0, nh, val, nval, o, big);
				if (!isfinite(vl)) {
					failed = 1;
					break;
				}
				if (vl < bestv) {
					bestv = vl;
					best_step = step + 1;
					memcpy(best, th, sizeof *th * np);
					bad = 0;
				} else if (++bad >= o->patience) {
					lr = lr * 0.1 > o->min_lr ? lr * 0.1 : o->min_lr;
					bad = 0;
				}
			}
#pragma omp atomic
			done += nh;
			if (o->progress && (m->P == 1 || omp_get_thread_num() == 0))
				o->progress(o->progress_arg, done, (long)total * H);
		}
		memcpy(m->wq + p * dd, best, sizeof *th * dd);
		memcpy(m->wk + p * dd, best + dd, sizeof *th * dd);
		if (m->bias) {
			memcpy(m->bq + (size_t)p * m->df, best + 2 * dd, sizeof *th * m->df);
			memcpy(m->bk + (size_t)p * m->df, best + 2 * dd + m->df, sizeof *th * m->df);
		}
		for (int a = 0; a < nh; a++) {
			rep->best_loss[h0 + a] = bestv;
			rep->best_step[h0 + a] = best_step;
			head_ws_release(&ws[a]);
		}
		free(ws);
		free(th);
		free(best);
		free(grad);
		free(am);
		free(av);
		free(order);
	}
	if (failed)
		return loam_seterr("the distillation loss is not finite");
	return 0;
}
