/*
 * rkhs - kernels, kernel mean embeddings, the GP posterior, its marginal
 * likelihood, and query design for reward-query(1).  See rkhs.h.
 */
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <lbfgs.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_sf_gamma.h>

#include "rkhs.h"
#include "util.h"

/* Which closed form ν takes, 0 when none. */
static int
half_integer(double nu)
{
	if (nu == 0.5)
		return 1;
	if (nu == 1.5)
		return 3;
	if (nu == 2.5)
		return 5;
	return 0;
}

int
rkhs_kernel_set_nu(struct rkhs_kernel *k, double nu)
{
	if (!(nu > 0) || !isfinite(nu))
		return loam_seterr("matern nu %g: must be finite and positive", nu);
	k->nu = nu;
	k->lognorm = (1 - nu) * M_LN2 - gsl_sf_lngamma(nu);
	return 0;
}

int
rkhs_kernel_init(struct rkhs_kernel *k, enum rkhs_family family, double nu,
    int dim, const double *ls, int nls, double variance)
{
	memset(k, 0, sizeof *k);
	k->family = family;
	if (dim < 1)
		return loam_seterr("kernel dimension %d: must be at least 1", dim);
	if (nls != 1 && nls != dim)
		return loam_seterr("%d lengthscales for dimension %d: give 1 or %d",
		    nls, dim, dim);
	for (int d = 0; d < nls; d++)
		if (!(ls[d] > 0) || !isfinite(ls[d]))
			return loam_seterr("lengthscale %g: must be finite and positive",
			    ls[d]);
	if (!(variance > 0) || !isfinite(variance))
		return loam_seterr("variance %g: must be finite and positive", variance);
	if (family == RKHS_MATERN && rkhs_kernel_set_nu(k, nu) < 0)
		return -1;
	k->dim = dim;
	k->nls = nls;
	k->ls = xmalloc((size_t)nls * sizeof *k->ls);
	memcpy(k->ls, ls, (size_t)nls * sizeof *k->ls);
	k->variance = variance;
	return 0;
}

void
rkhs_kernel_release(struct rkhs_kernel *k)
{
	free(k->ls);
	k->ls = NULL;
}

/* f(r) for general ν, in logs so that K_ν cannot underflow. */
static double
matern_general(double lognorm, double nu, double r, double *dfr)
{
	double z = sqrt(2 * nu) * r;
	gsl_sf_result kn;

	if (z <= 0) {
		if (dfr)
			*dfr = nu > 1 ? -nu / (nu - 1) : 0;
		return 1;
	}
	double lz = log(z);
	if (dfr) {
		/* d/dz z^ν K_ν(z) = -z^ν K_{ν-1}(z), K_{-a} = K_a; so
		 * f'(r)/r = -c 2ν z^(ν-1) K_{ν-1}(z) */
		gsl_sf_bessel_lnKnu_e(fabs(nu - 1), z, &kn);
		*dfr = -exp(lognorm + log(2 * nu) + (nu - 1) * lz + kn.val);
	}
	gsl_sf_bessel_lnKnu_e(nu, z, &kn);
	return exp(lognorm + nu * lz + kn.val);
}

double
rkhs_matern_bessel(double nu, double r)
{
	double lognorm = (1 - nu) * M_LN2 - gsl_sf_lngamma(nu);

	return matern_general(lognorm, nu, r, NULL);
}

double
rkhs_profile(const struct rkhs_kernel *k, double r, double *dfr)
{
	double e, f, fr;

	/* Past r = 1e100 every profile is 0 in doubles, but the closed
	 * forms would compute it as inf * 0 = NaN once r² overflows (a
	 * tiny lengthscale, or coordinates 1e160 apart). */
	if (!(r < 1e100)) {
		if (dfr)
			*dfr = 0;
		return 0;
	}
	if (k->family == RKHS_RBF) {
		f = exp(-0.5 * r * r);
		fr = -f;
	} else {
		switch (half_integer(k->nu)) {
		case 1:
			f = exp(-r);
			fr = r > 0 ? -f / r : 0;
			break;
		case 3:
			e = exp(-sqrt(3) * r);
			f = (1 + sqrt(3) * r) * e;
			fr = -3 * e;
			break;
		case 5:
			e = exp(-sqrt(5) * r);
			f = (1 + sqrt(5) * r + 5 * r * r / 3) * e;
			fr = -5.0 / 3 * (1 + sqrt(5) * r) * e;
			break;
		default:
			return matern_general(k->lognorm, k->nu, r, dfr);
		}
	}
	if (dfr)
		*dfr = fr;
	return f;
}

/* σf² f(r) for one pair; with g, adds w times its derivative in each
 * log lengthscale: σf² f'(r)/r · (-(Δ_d/ℓ_d)²), summed over d for one
 * shared lengthscale. */
static double
pair_eval(const struct rkhs_kernel *k, const double *x, const double *y,
    double w, double *g)
{
	double r2 = 0, u, dfr, f;
	int d;

	/* each difference scaled before squaring: Σ Δ² / ℓ² would be 0/0
	 * at x = y once ℓ² underflows */
	for (d = 0; d < k->dim; d++) {
		u = (x[d] - y[d]) / k->ls[k->nls == 1 ? 0 : d];
		r2 += u * u;
	}
	f = rkhs_profile(k, sqrt(r2), g ? &dfr : NULL);
	if (g && dfr != 0) {
		double c = -w * k->variance * dfr;
		if (k->nls == 1) {
			g[0] += c * r2;
		} else {
			for (d = 0; d < k->dim; d++) {
				u = (x[d] - y[d]) / k->ls[d];
				g[d] += c * u * u;
			}
		}
	}
	return k->variance * f;
}

double
rkhs_kernel_eval(const struct rkhs_kernel *k, const double *x, const double *y)
{
	return pair_eval(k, x, y, 1, NULL);
}

void
rkhs_set_init(struct rkhs_set *s, int dim)
{
	memset(s, 0, sizeof *s);
	s->dim = dim;
	s->start = xcalloc(1, sizeof *s->start);
}

void
rkhs_set_release(struct rkhs_set *s)
{
	free(s->start);
	free(s->x);
	free(s->w);
	memset(s, 0, sizeof *s);
}

int
rkhs_set_add(struct rkhs_set *s, const double *x, size_t m, const double *w)
{
	size_t i, base = s->start[s->n], dim = (size_t)s->dim;
	double sum = 0;

	if (m == 0)
		return loam_seterr("a candidate with no samples");
	for (i = 0; i < m * dim; i++)
		if (!isfinite(x[i]))
			return loam_seterr("sample value %g is not finite", x[i]);
	for (i = 0; w && i < m; i++) {
		if (!(w[i] >= 0) || !isfinite(w[i]))
			return loam_seterr("weight %g: must be finite and non-negative",
			    w[i]);
		sum += w[i];
	}
	if (w && !(sum > 0))
		return loam_seterr("the weights sum to zero");
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->start = xreallocarray(s->start, s->cap, sizeof *s->start);
	}
	if (base + m > s->xcap) {
		while (base + m > s->xcap)
			s->xcap = s->xcap ? 2 * s->xcap : 64;
		s->x = xreallocarray(s->x, s->xcap * dim, sizeof *s->x);
		s->w = xreallocarray(s->w, s->xcap, sizeof *s->w);
	}
	memcpy(s->x + base * dim, x, m * dim * sizeof *x);
	for (i = 0; i < m; i++)
		s->w[base + i] = w ? w[i] / sum : 1.0 / (double)m;
	s->n++;
	s->start[s->n] = base + m;
	return 0;
}

/* ⟨μ_a, μ_b⟩, and with g its gradient in the log lengthscales added. */
static double
embed_dot_grad(const struct rkhs_kernel *k, const struct rkhs_set *s,
    size_t a, size_t b, double *g)
{
	size_t dim = (size_t)s->dim, i, j;
	double sum = 0;

	if (a > b) {	/* one order of summation: the Gram matrix is
			   exactly symmetric */
		size_t t = a;
		a = b;
		b = t;
	}
	for (i = s->start[a]; i < s->start[a + 1]; i++)
		for (j = s->start[b]; j < s->start[b + 1]; j++) {
			double w = s->w[i] * s->w[j];
			sum += w * pair_eval(k, s->x + i * dim, s->x + j * dim, w, g);
		}
	return sum;
}

double
rkhs_embed_dot(const struct rkhs_kernel *k, const struct rkhs_set *s,
    size_t a, size_t b)
{
	return embed_dot_grad(k, s, a, b, NULL);
}

void
rkhs_cross_ref(const struct rkhs_kernel *k, const struct rkhs_set *s,
    const size_t *a, size_t na, const size_t *b, size_t nb, double *out)
{
	long j;

	#pragma omp parallel for schedule(static) if (na * nb > 4096)
	for (j = 0; j < (long)nb; j++) {
		size_t bj = b ? b[j] : (size_t)j;
		for (size_t i = 0; i < na; i++)
			out[i + (size_t)j * na] =
			    rkhs_embed_dot(k, s, a ? a[i] : i, bj);
	}
}

/* The fast path for point candidates (one sample each, weight 1: the GP
 * bandit case and the usual one).  ⟨μ_a, μ_b⟩ is then k(x_a, x_b), and
 * the embed_dot loop's per-pair calls become loops over the observed
 * (a) side, vectorised: a's coordinates are gathered dimension-major, and
 * r² accumulates over d, Δ_d / ℓ_d squared, in the same order and with
 * the same operations as pair_eval, so that the values are the reference
 * path's to the bit (the tests check; the dgemm identity |x|² + |y|² -
 * 2 x·y would be faster still, but cancels for near points). */
struct point_side {
	size_t n;
	double *xt;	/* dim × n: coordinate d of point i at xt[i + d n] */
};

/* Whether the candidates idx[0..n) (NULL: all of s) are points. */
static int
all_points(const struct rkhs_set *s, const size_t *idx, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t c = idx ? idx[i] : i;
		if (s->start[c + 1] - s->start[c] != 1)
			return 0;
	}
	return 1;
}

static void
point_side_init(struct point_side *ps, const struct rkhs_set *s,
    const size_t *idx, size_t n)
{
	size_t dim = (size_t)s->dim;

	ps->n = n;
	ps->xt = xmalloc((n ? n * dim : 1) * sizeof *ps->xt);
	for (size_t i = 0; i < n; i++) {
		const double *x = s->x + s->start[idx ? idx[i] : i] * dim;
		for (size_t d = 0; d < dim; d++)
			ps->xt[i + d * n] = x[d];
	}
}

/* out[i] = σf² f(r) for r² in out[i], i < n: rkhs_profile's values, the
 * usual closed forms inlined. */
static void
profile_fill(const struct rkhs_kernel *k, double *out, size_t n)
{
	int form = k->family == RKHS_MATERN ? half_integer(k->nu) : 0;
	size_t i;

	#pragma omp simd
	for (i = 0; i < n; i++)
		out[i] = sqrt(out[i]);
	if (form == 5) {
		for (i = 0; i < n; i++) {
			double r = out[i];
			/* rkhs_profile's cut-off, then its expression */
			out[i] = !(r < 1e100) ? 0 : k->variance *
			    ((1 + sqrt(5) * r + 5 * r * r / 3) * exp(-sqrt(5) * r));
		}
	} else {
		for (i = 0; i < n; i++)
			out[i] = k->variance * rkhs_profile(k, out[i], NULL);
	}
}

/* out[0..ps->n) = k(x_i, y) over the points of ps, for one point y. */
static void
point_column(const struct rkhs_kernel *k, const struct point_side *ps,
    const double *y, double *out)
{
	size_t n = ps->n, i;

	for (i = 0; i < n; i++)
		out[i] = 0;
	for (int d = 0; d < k->dim; d++) {
		const double *xd = ps->xt + (size_t)d * n;
		double yd = y[d], l = k->ls[k->nls == 1 ? 0 : d];
		#pragma omp simd
		for (i = 0; i < n; i++) {
			double u = (xd[i] - yd) / l;
			out[i] += u * u;
		}
	}
	profile_fill(k, out, n);
}

/* Columns j0..j1 of the cross matrix (a × b, leading dimension na) into
 * out (column j0 first), serially: the callers parallelise.  ps is a's
 * point side, or NULL for the reference's embed_dot loop. */
static void
cross_columns(const struct rkhs_kernel *k, const struct rkhs_set *s,
    const struct point_side *ps, const size_t *a, size_t na, const size_t *b,
    size_t j0, size_t j1, double *out)
{
	for (size_t j = j0; j < j1; j++) {
		size_t bj = b ? b[j] : j;
		double *c = out + (j - j0) * na;
		if (ps) {
			point_column(k, ps, s->x + s->start[bj] * (size_t)s->dim, c);
		} else {
			for (size_t i = 0; i < na; i++)
				c[i] = rkhs_embed_dot(k, s, a ? a[i] : i, bj);
		}
	}
}

void
rkhs_cross(const struct rkhs_kernel *k, const struct rkhs_set *s,
    const size_t *a, size_t na, const size_t *b, size_t nb, double *out)
{
	struct point_side ps;
	long j;

	if (na * nb <= 4096 || !all_points(s, a, na) || !all_points(s, b, nb)) {
		rkhs_cross_ref(k, s, a, na, b, nb, out);
		return;
	}
	point_side_init(&ps, s, a, na);
	#pragma omp parallel for schedule(static)
	for (j = 0; j < (long)nb; j++)
		cross_columns(k, s, &ps, a, na, b, (size_t)j, (size_t)j + 1,
		    out + (size_t)j * na);
	free(ps.xt);
}

static int
cmp_index(const void *pa, const void *pb)
{
	const size_t *a = pa, *b = pb;

	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

int
rkhs_obs_init(struct rkhs_obs *o, const size_t *cand, const double *y,
    size_t nraw)
{
	size_t (*order)[2], i, g;

	memset(o, 0, sizeof *o);
	for (i = 0; i < nraw; i++)
		if (!isfinite(y[i]))
			return loam_seterr("observation %g is not finite", y[i]);
	order = xcalloc(nraw ? nraw : 1, sizeof *order);
	for (i = 0; i < nraw; i++) {
		order[i][0] = cand[i];
		order[i][1] = i;
	}
	qsort(order, nraw, sizeof *order, cmp_index);
	o->cand = xcalloc(nraw ? nraw : 1, sizeof *o->cand);
	o->mean = xcalloc(nraw ? nraw : 1, sizeof *o->mean);
	o->count = xcalloc(nraw ? nraw : 1, sizeof *o->count);
	o->ss = xcalloc(nraw ? nraw : 1, sizeof *o->ss);
	/* Welford's update, in the input order within each candidate */
	for (i = 0; i < nraw; i++) {
		double v = y[order[i][1]], d;
		if (i == 0 || order[i][0] != order[i - 1][0]) {
			g = o->n++;
			o->cand[g] = order[i][0];
		} else {
			g = o->n - 1;
		}
		o->count[g] += 1;
		d = v - o->mean[g];
		o->mean[g] += d / o->count[g];
		o->ss[g] += d * (v - o->mean[g]);
	}
	free(order);
	return 0;
}

void
rkhs_obs_release(struct rkhs_obs *o)
{
	free(o->cand);
	free(o->mean);
	free(o->count);
	free(o->ss);
	memset(o, 0, sizeof *o);
}

double
rkhs_obs_total(const struct rkhs_obs *o)
{
	double t = 0;

	for (size_t i = 0; i < o->n; i++)
		t += o->count[i];
	return t;
}

/* K = G + diag(noise / c) over the observed candidates (n × n). */
static double *
noisy_gram(const struct rkhs_kernel *k, const struct rkhs_set *s,
    const struct rkhs_obs *o, double noise)
{
	size_t n = o->n;
	double *K = xmalloc((n ? n * n : 1) * sizeof *K);

	rkhs_cross(k, s, o->cand, n, o->cand, n, K);
	for (size_t i = 0; i < n; i++)
		K[i + i * n] += noise / o->count[i];
	return K;
}

/* dpotrf on one BLAS thread: OpenBLAS's threaded Cholesky synchronises
 * after every panel, and at n = 2,000 on the shared two-core machine its
 * threads waited more than they computed (0.4-0.9 s against 0.16 s on
 * one thread, the bench's K). */
static lapack_int
potrf_one_thread(double *K, size_t n)
{
	int threads = openblas_get_num_threads();
	lapack_int info;

	openblas_set_num_threads(1);
	info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)n, K, (lapack_int)n);
	openblas_set_num_threads(threads);
	return info;
}

/* Factor K in place (lower), by the jitter schedule of rkhs.h.  dpotrf
 * reads and writes the lower triangle only, so each retry restores it
 * from the upper one (K is symmetric) and the diagonal from a copy. */
static int
factor(double *K, size_t n, double *jitter, double *logdet)
{
	double *diag, mean = 0, j = 0;
	size_t i, c;
	int try;
	lapack_int info = 0;

	diag = xmalloc((n ? n : 1) * sizeof *diag);
	for (i = 0; i < n; i++) {
		diag[i] = K[i + i * n];
		mean += diag[i];
	}
	mean = n ? mean / (double)n : 1;
	for (try = 0; try < 6; try++) {
		j = try == 0 ? 0 : mean * pow(10, -11 + try);
		if (try > 0)
			for (c = 0; c < n; c++) {
				K[c + c * n] = diag[c] + j;
				for (i = c + 1; i < n; i++)
					K[i + c * n] = K[c + i * n];
			}
		info = n ? potrf_one_thread(K, n) : 0;
		if (info == 0)
			break;
	}
	free(diag);
	if (info != 0)
		return loam_seterr("gram matrix not positive definite after jitter "
		    "%g (1e-6 of its mean diagonal)", j);
	*jitter = j;
	*logdet = 0;
	for (i = 0; i < n; i++)
		*logdet += 2 * log(K[i + i * n]);
	return 0;
}

int
rkhs_post_fit(struct rkhs_post *p, const struct rkhs_kernel *k,
    const struct rkhs_set *s, const struct rkhs_obs *o, double noise)
{
	size_t n = o->n;

	memset(p, 0, sizeof *p);
	if (!(noise > 0) || !isfinite(noise))
		return loam_seterr("noise %g: must be finite and positive", noise);
	p->n = n;
	p->noise = noise;
	p->chol = noisy_gram(k, s, o, noise);
	if (factor(p->chol, n, &p->jitter, &p->logdet) < 0) {
		rkhs_post_release(p);
		return -1;
	}
	p->alpha = xmalloc((n ? n : 1) * sizeof *p->alpha);
	memcpy(p->alpha, o->mean, n * sizeof *p->alpha);
	if (n)
		LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)n, 1, p->chol,
		    (lapack_int)n, p->alpha, (lapack_int)n);
	return 0;
}

void
rkhs_post_release(struct rkhs_post *p)
{
	free(p->chol);
	free(p->alpha);
	memset(p, 0, sizeof *p);
}

/* cov (m × m) = the candidates' kernel matrix - Vᵀ V, V = L⁻¹ G (n × m). */
static void
covariance(const struct rkhs_kernel *k, const struct rkhs_set *s,
    const size_t *idx, size_t m, size_t n, const double *V, double *cov)
{
	rkhs_cross(k, s, idx, m, idx, m, cov);
	if (n && m)
		cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, (int)m, (int)n, -1,
		    V, (int)n, 1, cov, (int)m);
	for (size_t j = 0; j < m; j++)
		for (size_t i = j + 1; i < m; i++)
			cov[j + i * m] = cov[i + j * m];
}

void
rkhs_post_predict_ref(const struct rkhs_post *p, const struct rkhs_kernel *k,
    const struct rkhs_set *s, const struct rkhs_obs *o, const size_t *idx,
    size_t m, double *mean, double *sd, double *cov)
{
	size_t n = p->n, i, j;
	double *V;

	if (!idx)
		m = s->n;
	V = xmalloc((n && m ? n * m : 1) * sizeof *V);
	/* column j of V: g(π_j) over the observed, then L⁻¹ g(π_j) */
	rkhs_cross(k, s, o->cand, n, idx, m, V);
	if (mean)
		for (j = 0; j < m; j++) {
			double t = 0;
			for (i = 0; i < n; i++)
				t += V[i + j * n] * p->alpha[i];
			mean[j] = t;
		}
	if (n && m)
		LAPACKE_dtrtrs(LAPACK_COL_MAJOR, 'L', 'N', 'N', (lapack_int)n,
		    (lapack_int)m, p->chol, (lapack_int)n, V, (lapack_int)n);
	if (sd)
		for (j = 0; j < m; j++) {
			size_t c = idx ? idx[j] : j;
			double v = rkhs_embed_dot(k, s, c, c);
			for (i = 0; i < n; i++)
				v -= V[i + j * n] * V[i + j * n];
			sd[j] = v > 0 ? sqrt(v) : 0;
		}
	if (cov)
		covariance(k, s, idx, m, n, V, cov);
	free(V);
}

/* One block of rkhs_post_predict: candidates idx[j0..j1) (NULL: j0..j1),
 * V the n × (j1 - j0) work space. */
static void
predict_block(const struct rkhs_post *p, const struct rkhs_kernel *k,
    const struct rkhs_set *s, const struct rkhs_obs *o,
    const struct point_side *ps, const size_t *idx, size_t j0, size_t j1,
    double *V, double *mean, double *sd)
{
	size_t n = p->n, mb = j1 - j0, i, j;

	cross_columns(k, s, ps, o->cand, n, idx, j0, j1, V);
	if (mean)
		for (j = 0; j < mb; j++) {
			double t = 0;
			for (i = 0; i < n; i++)
				t += V[i + j * n] * p->alpha[i];
			mean[j0 + j] = t;
		}
	if (!sd)
		return;
	if (n)
		cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans,
		    CblasNonUnit, (int)n, (int)mb, 1, p->chol, (int)n, V, (int)n);
	for (j = 0; j < mb; j++) {
		size_t c = idx ? idx[j0 + j] : j0 + j;
		double v = rkhs_embed_dot(k, s, c, c);
		for (i = 0; i < n; i++)
			v -= V[i + j * n] * V[i + j * n];
		sd[j0 + j] = v > 0 ? sqrt(v) : 0;
	}
}

void
rkhs_post_predict(const struct rkhs_post *p, const struct rkhs_kernel *k,
    const struct rkhs_set *s, const struct rkhs_obs *o, const size_t *idx,
    size_t m, double *mean, double *sd, double *cov)
{
	size_t n = p->n, nblock;
	struct point_side ps, *psp = NULL;
	double *Vall = NULL, *tmp_sd = NULL;
	long b;

	if (!idx)
		m = s->n;
	if (cov && !sd)	/* the covariance needs the solves */
		sd = tmp_sd = xmalloc((m ? m : 1) * sizeof *sd);
	if (cov)	/* the whole of L⁻¹ G, block by block */
		Vall = xmalloc((n && m ? n * m : 1) * sizeof *Vall);
	if (all_points(s, o->cand, n) && all_points(s, idx, m)) {
		point_side_init(&ps, s, o->cand, n);
		psp = &ps;
	}
	nblock = (m + RKHS_PREDICT_BLOCK - 1) / RKHS_PREDICT_BLOCK;
	#pragma omp parallel
	{
		double *V = Vall ? NULL : xmalloc((n ? n : 1) * RKHS_PREDICT_BLOCK * sizeof *V);
		#pragma omp for schedule(dynamic)
		for (b = 0; b < (long)nblock; b++) {
			size_t j0 = (size_t)b * RKHS_PREDICT_BLOCK;
			size_t j1 = j0 + RKHS_PREDICT_BLOCK < m ? j0 + RKHS_PREDICT_BLOCK : m;
			predict_block(p, k, s, o, psp, idx, j0, j1, Vall ? Vall + j0 * n : V,
			    mean, sd);
		}
		free(V);
	}
	if (psp)
		free(ps.xt);
	if (cov) {
		covariance(k, s, idx, m, n, Vall, cov);
		free(Vall);
		free(tmp_sd);
	}
}

int
rkhs_nhyper(const struct rkhs_kernel *k)
{
	return k->nls + 2;
}

void
rkhs_hyper_get(const struct rkhs_kernel *k, double noise, double *theta)
{
	for (int d = 0; d < k->nls; d++)
		theta[d] = log(k->ls[d]);
	theta[k->nls] = log(k->variance);
	theta[k->nls + 1] = log(noise);
}

void
rkhs_hyper_set(struct rkhs_kernel *k, double *noise, const double *theta)
{
	for (int d = 0; d < k->nls; d++)
		k->ls[d] = exp(theta[d]);
	k->variance = exp(theta[k->nls]);
	*noise = exp(theta[k->nls + 1]);
}

double
rkhs_lml(const struct rkhs_kernel *k, const struct rkhs_set *s,
    const struct rkhs_obs *o, double noise, double *grad)
{
	size_t n = o->n, i, j;
	int p = k->nls, h;
	double *K, *alpha, jitter, logdet, lml = 0, q = 0;
	const double log2pi = log(2 * M_PI);

	K = noisy_gram(k, s, o, noise);
	if (factor(K, n, &jitter, &logdet) < 0) {
		free(K);
		return NAN;
	}
	alpha = xmalloc((n ? n : 1) * sizeof *alpha);
	memcpy(alpha, o->mean, n * sizeof *alpha);
	if (n)
		LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)n, 1, K,
		    (lapack_int)n, alpha, (lapack_int)n);
	for (i = 0; i < n; i++)
		q += o->mean[i] * alpha[i];
	lml = -0.5 * q - 0.5 * logdet - 0.5 * (double)n * log2pi;
	for (i = 0; i < n; i++)
		lml += -0.5 * (o->count[i] - 1) * (log2pi + log(noise)) -
		    0.5 * log(o->count[i]) - o->ss[i] / (2 * noise);
	if (grad) {
		/* ∂/∂θ = ½ tr((ααᵀ - K⁻¹) ∂K/∂θ); W = ααᵀ - K⁻¹ */
		double *W = K, gl[64], *gd = p <= 64 ? gl : xmalloc((size_t)p * sizeof *gd);
		if (n)
			LAPACKE_dpotri(LAPACK_COL_MAJOR, 'L', (lapack_int)n, W,
			    (lapack_int)n);
		for (h = 0; h < p + 2; h++)
			grad[h] = 0;
		for (j = 0; j < n; j++)
			for (i = j; i < n; i++) {
				double w = alpha[i] * alpha[j] - W[i + j * n];
				double sym = i == j ? 0.5 : 1;	/* both triangles */
				double g;
				memset(gd, 0, (size_t)p * sizeof *gd);
				g = embed_dot_grad(k, s, o->cand[i], o->cand[j], gd);
				for (h = 0; h < p; h++)
					grad[h] += sym * w * gd[h];
				grad[p] += sym * w * g;
				if (i == j)
					grad[p + 1] += 0.5 * w * noise / o->count[i];
			}
		for (i = 0; i < n; i++)
			grad[p + 1] += -0.5 * (o->count[i] - 1) + o->ss[i] / (2 * noise);
		if (gd != gl)
			free(gd);
	}
	free(alpha);
	free(K);
	return lml;
}

struct fit_state {
	struct rkhs_kernel *k;
	const struct rkhs_set *s;
	const struct rkhs_obs *o;
	double theta0[66];	/* the full θ; the free ones are L-BFGS's x */
	int map[66], nfree;
	double best, best_theta[66];
};

#define THETA_BOUND 18.0

static lbfgsfloatval_t
fit_evaluate(void *arg, const lbfgsfloatval_t *x, lbfgsfloatval_t *g, int n,
    lbfgsfloatval_t step)
{
	struct fit_state *f = arg;
	int nh = rkhs_nhyper(f->k), i;
	double theta[66], grad[66], noise, lml;

	memcpy(theta, f->theta0, (size_t)nh * sizeof *theta);
	for (i = 0; i < n; i++)
		theta[f->map[i]] = x[i];
	for (i = 0; i < nh; i++)
		if (fabs(theta[i]) > THETA_BOUND) {
			/* outside the box: a wall L-BFGS's line search backs
			 * off from, sloping back towards the box */
			for (int j = 0; j < n; j++)
				g[j] = x[j] > THETA_BOUND ? 1e10 :
				    x[j] < -THETA_BOUND ? -1e10 : 0;
			return 1e300;
		}
	rkhs_hyper_set(f->k, &noise, theta);
	lml = rkhs_lml(f->k, f->s, f->o, noise, grad);
	if (!isfinite(lml)) {
		for (i = 0; i < n; i++)
			g[i] = 0;
		return 1e300;
	}
	if (lml > f->best) {
		f->best = lml;
		memcpy(f->best_theta, theta, (size_t)nh * sizeof *theta);
	}
	for (i = 0; i < n; i++)
		g[i] = -grad[f->map[i]];
	return -lml;
}

int
rkhs_fit_hyper(struct rkhs_kernel *k, double *noise, const struct rkhs_set *s,
    const struct rkhs_obs *o, unsigned which, int max_iter, double *lml)
{
	struct fit_state f;
	lbfgs_parameter_t param;
	lbfgsfloatval_t *x, fx;
	int nh = rkhs_nhyper(k), i, status;

	if (nh > 66)
		return loam_seterr("%d lengthscales: at most 64 can be fitted", k->nls);
	memset(&f, 0, sizeof f);
	f.k = k;
	f.s = s;
	f.o = o;
	f.best = -INFINITY;
	rkhs_hyper_get(k, *noise, f.theta0);
	memcpy(f.best_theta, f.theta0, sizeof f.theta0);
	for (i = 0; i < nh; i++) {
		unsigned bit = i < k->nls ? RKHS_FIT_LENGTHSCALE :
		    i == k->nls ? RKHS_FIT_VARIANCE : RKHS_FIT_NOISE;
		if (which & bit)
			f.map[f.nfree++] = i;
	}
	x = lbfgs_malloc(f.nfree ? f.nfree : 1);
	for (i = 0; i < f.nfree; i++)
		x[i] = f.theta0[f.map[i]];
	lbfgs_parameter_init(&param);
	param.max_iterations = max_iter;
	param.epsilon = 1e-6;
	if (f.nfree)
		status = lbfgs(f.nfree, x, &fx, fit_evaluate, NULL, &f, &param);
	else
		status = 0, fit_evaluate(&f, x, x, 0, 0);
	lbfgs_free(x);
	rkhs_hyper_set(k, noise, f.best_theta);
	if (!isfinite(f.best))
		return loam_seterr("log marginal likelihood: %s", *loam_error() ?
		    loam_error() : "no finite value");
	*lml = f.best;
	return status < 0 ? 0 : status;
}

void
rkhs_cov_condition(size_t n, double *cov, size_t q, double noise)
{
	double *c = xmalloc((n ? n : 1) * sizeof *c);
	double d = cov[q + q * n] + noise;

	memcpy(c, cov + q * n, n * sizeof *c);
	/* Σ -= c cᵀ / d; the whole matrix (both triangles) */
	cblas_dger(CblasColMajor, (int)n, (int)n, -1 / d, c, 1, c, 1, cov, (int)n);
	free(c);
}

static double
clamp_sd(double v)
{
	return v > 0 ? sqrt(v) : 0;
}

/* The j-th top eigenvector picks: see rkhs.h.  -1 on a LAPACK failure. */
static int
design_eigen(size_t n, const double *cov, unsigned char *avail, size_t batch,
    size_t *pick, double *crit)
{
	double *a = xmalloc(n * n * sizeof *a), *w = xmalloc(n * sizeof *w);
	double *z = xmalloc(n * batch * sizeof *z);
	lapack_int *isuppz = xmalloc(2 * batch * sizeof *isuppz), m;
	lapack_int info;
	size_t got = 0;

	memcpy(a, cov, n * n * sizeof *a);
	/* eigenvalues ascending: the top batch are il = n - batch + 1..n */
	info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, 'V', 'I', 'L', (lapack_int)n, a,
	    (lapack_int)n, 0, 0, (lapack_int)(n - batch + 1), (lapack_int)n, 0,
	    &m, w, z, (lapack_int)n, isuppz);
	if (info == 0)
		for (lapack_int j = m - 1; j >= 0; j--) {
			size_t best = n;
			double score = -1;
			for (size_t i = 0; i < n; i++) {
				double v = cov[i + i * n], t;
				if (!avail[i] || !(v > 0))
					continue;
				t = fabs(z[i + (size_t)j * n]) / sqrt(v);
				if (t > score) {
					score = t;
					best = i;
				}
			}
			if (best == n)
				break;
			avail[best] = 0;
			pick[got] = best;
			crit[got++] = w[j];
		}
	free(a);
	free(w);
	free(z);
	free(isuppz);
	if (info != 0)
		return loam_seterr("eigen design: LAPACK dsyevr info %d", (int)info);
	return (int)got;
}

/* random: a partial Fisher-Yates shuffle of the navail eligible. */
static size_t
design_random(size_t n, const unsigned char *avail, size_t navail, size_t batch,
    struct rng *r, size_t *pick, double *crit)
{
	size_t *pool = xmalloc((navail ? navail : 1) * sizeof *pool), k = 0, got, i;

	for (i = 0; i < n; i++)
		if (avail[i])
			pool[k++] = i;
	for (got = 0; got < batch; got++) {
		size_t j = got + (size_t)rng_uniform_int(r, navail - got);
		size_t t = pool[got];
		pool[got] = pool[j];
		pool[j] = t;
		pick[got] = pool[got];
		crit[got] = 0;
	}
	free(pool);
	return got;
}

/* avail[i] from eligible (NULL: all); returns how many are available. */
static size_t
design_avail(size_t n, const unsigned char *eligible, unsigned char *avail)
{
	size_t navail = 0;

	for (size_t i = 0; i < n; i++) {
		avail[i] = eligible ? eligible[i] != 0 : 1;
		navail += avail[i];
	}
	return navail;
}

/* gopt's exchange works on the posterior covariance after the picks,
 * Σ_S, through these operations, dense (the matrix in memory) or lazy
 * (its columns computed when needed). */
struct gopt_ops {
	size_t N;
	const double *var;	/* Σ_S's diagonal */
	/* out (N × m) = Σ_S(:, Q) */
	void (*cols)(void *ctx, const size_t *Q, size_t m, double *out);
	/* pick[k] replaced by q (pick already holds q): update Σ_S */
	void (*swap)(void *ctx, const size_t *pick, size_t b, size_t k, size_t old,
	    const double *c, double den);
	/* Σ_S back to the covariance before the picks */
	void (*reset)(void *ctx);
	/* Σ_S conditioned on one more pick, q */
	void (*condition)(void *ctx, size_t q);
	void *ctx;
};

struct keyed {
	double key;
	size_t i;
};

/* By key, then index. */
static int
cmp_keyed(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

#define GOPT_PROBES 64	/* the candidates of largest variance the bound uses */
#define GOPT_BLOCK 64	/* columns fetched together */
#define GOPT_PASSES 10	/* exchange passes at most */

/* Σ(:, Q) of the covariance with the pick p removed,
 * Σ_S(:, Q) + c c(Q)ᵀ / den (c NULL: nothing removed). */
static void
gopt_cols(const struct gopt_ops *op, const double *c, double den, const size_t *Q,
    size_t m, double *out)
{
	op->cols(op->ctx, Q, m, out);
	if (c)
		for (size_t j = 0; j < m; j++)
			for (size_t i = 0; i < op->N; i++)
				out[i + j * op->N] += c[i] * c[Q[j]] / den;
}

/* The available q that minimises max_i Σ'_{+q}(i, i), Σ' = Σ_S with the
 * pick whose column is c removed (c NULL: Σ_S itself; den = σn² minus
 * that pick's variance), if its score is below *best_score, which it
 * then gets; N if none is.  Exactly, without every column: each q's
 * score is bounded below by the same maximum over the GOPT_PROBES
 * candidates of largest variance (one block of columns), and the
 * candidates are scored exactly, in blocks, in increasing order of that
 * bound until the bound exceeds the best score found. */
static size_t
gopt_best(const struct gopt_ops *op, const unsigned char *avail, double noise,
    const double *c, double den, double *best_score)
{
	size_t N = op->N, M = N < GOPT_PROBES ? N : GOPT_PROBES, i, a, navail = 0;
	size_t *probe = xmalloc((M ? M : 1) * sizeof *probe), best = N, block[GOPT_BLOCK];
	struct keyed *order = xmalloc((N ? N : 1) * sizeof *order);
	double *d = xmalloc((N ? N : 1) * sizeof *d), *cols, vmax = 0;

	for (i = 0; i < N; i++) {
		d[i] = op->var[i] + (c ? c[i] * c[i] / den : 0);
		order[i].key = -d[i];
		order[i].i = i;
		vmax = fmax(vmax, d[i]);
	}
	/* the probes: the M largest variances (ties: lowest index) */
	qsort(order, N, sizeof *order, cmp_keyed);
	for (a = 0; a < M; a++)
		probe[a] = order[a].i;
	cols = xmalloc((N ? N : 1) * (M > GOPT_BLOCK ? M : GOPT_BLOCK) * sizeof *cols);
	gopt_cols(op, c, den, probe, M, cols);
	/* the bounds, from Σ(probe, q) = Σ(q, probe) by symmetry */
	for (i = 0; i < N; i++) {
		double dq = d[i] + noise, w = -INFINITY;
		if (!avail[i])
			continue;
		for (a = 0; a < M; a++) {
			double x = cols[i + a * N];
			w = fmax(w, d[probe[a]] - x * x / dq);
		}
		order[navail].key = w;
		order[navail++].i = i;
	}
	qsort(order, navail, sizeof *order, cmp_keyed);
	/* a bound from other columns' rounding can exceed the exact score by
	 * a few ulps: keep a margin */
	double slack = 1e-12 * (vmax + noise);
	for (a = 0; a < navail && order[a].key <= *best_score + slack;) {
		size_t m = 0;
		while (m < GOPT_BLOCK && a < navail && order[a].key <= *best_score + slack)
			block[m++] = order[a++].i;
		gopt_cols(op, c, den, block, m, cols);
		for (size_t j = 0; j < m; j++) {
			const double *col = cols + j * N;
			double dq = d[block[j]] + noise, w = -INFINITY;
			for (i = 0; i < N; i++)
				w = fmax(w, d[i] - col[i] * col[i] / dq);
			if (w < *best_score || (w == *best_score && block[j] < best)) {
				*best_score = w;
				best = block[j];
			}
		}
	}
	free(order);
	free(probe);
	free(cols);
	free(d);
	return best;
}

static double
max_of(size_t n, const double *v)
{
	double m = -INFINITY;

	for (size_t i = 0; i < n; i++)
		m = fmax(m, v[i]);
	return m;
}

/* Σ_S recomputed from the covariance before the picks by conditioning on
 * pick[0..b) in order; crit (NULL: not wanted) gets the sd of the largest
 * variance after each prefix. */
static void
gopt_rebuild(const struct gopt_ops *op, const size_t *pick, size_t b, double *crit)
{
	op->reset(op->ctx);
	for (size_t j = 0; j < b; j++) {
		op->condition(op->ctx, pick[j]);
		if (crit)
			crit[j] = clamp_sd(max_of(op->N, op->var));
	}
}

/* The batch's order: maxvar's rule within it (the pick of largest
 * variance given those before it, ties to the lowest candidate), so that
 * each prefix is spread like maxvar's rather than wherever the exchange
 * left it; then Σ_S and crit as in gopt_rebuild. */
static void
gopt_order(const struct gopt_ops *op, size_t *pick, size_t b, double *crit)
{
	op->reset(op->ctx);
	for (size_t j = 0; j < b; j++) {
		size_t best = j;
		for (size_t k = j + 1; k < b; k++) {
			double vk = op->var[pick[k]], vb = op->var[pick[best]];
			if (vk > vb || (vk == vb && pick[k] < pick[best]))
				best = k;
		}
		size_t t = pick[j];
		pick[j] = pick[best];
		pick[best] = t;
		op->condition(op->ctx, pick[j]);
		crit[j] = clamp_sd(max_of(op->N, op->var));
	}
}

/* gopt: Fedorov-style exchange from the batch pick[0..b) (maxvar's):
 * each pass tries, for each pick in order, the available candidate that
 * would leave the smallest largest variance in its place, and swaps it
 * in when that is lower than the current largest variance by more than
 * rounding; passes stop when one swaps nothing, or after GOPT_PASSES.
 * avail excludes the picks.  A pick whose own variance is within 1e-9
 * σn² of σn² is left in place (removing it is ill-conditioned: the
 * downdate divides by that difference). */
static void
gopt_exchange(const struct gopt_ops *op, unsigned char *avail, double noise,
    size_t *pick, size_t b, double *crit)
{
	size_t N = op->N;
	double *c = xmalloc((N ? N : 1) * sizeof *c);

	for (int pass = 0; pass < GOPT_PASSES; pass++) {
		int swapped = 0;
		for (size_t k = 0; k < b; k++) {
			double worst = max_of(N, op->var), den = noise - op->var[pick[k]];
			double score = worst - 1e-9 * (worst + noise);
			if (!(den > 1e-9 * noise))
				continue;
			op->cols(op->ctx, pick + k, 1, c);
			size_t q = gopt_best(op, avail, noise, c, den, &score);
			if (q == N)
				continue;
			size_t old = pick[k];
			avail[old] = 1;
			avail[q] = 0;
			pick[k] = q;
			op->swap(op->ctx, pick, b, k, old, c, den);
			swapped = 1;
		}
		if (!swapped)
			break;
		/* the swaps' updates drift: start the next pass afresh */
		gopt_rebuild(op, pick, b, NULL);
	}
	gopt_order(op, pick, b, crit);
	free(c);
}

struct dense_cov {
	size_t N;
	double noise;
	double *cov;		/* Σ_S */
	const double *base;	/* the covariance before the picks */
	double *var;
};

static void
dense_cols(void *ctx, const size_t *Q, size_t m, double *out)
{
	struct dense_cov *z = ctx;

	for (size_t j = 0; j < m; j++)
		memcpy(out + j * z->N, z->cov + Q[j] * z->N, z->N * sizeof *out);
}

static void
dense_diag(struct dense_cov *z)
{
	for (size_t i = 0; i < z->N; i++)
		z->var[i] = z->cov[i + i * z->N];
}

/* Σ_{S-p} = Σ_S + c cᵀ / den (the rank-one downdate), then condition on q. */
static void
dense_swap(void *ctx, const size_t *pick, size_t b, size_t k, size_t old,
    const double *c, double den)
{
	struct dense_cov *z = ctx;

	(void)b;
	(void)old;
	cblas_dger(CblasColMajor, (int)z->N, (int)z->N, 1 / den, c, 1, c, 1, z->cov,
	    (int)z->N);
	rkhs_cov_condition(z->N, z->cov, pick[k], z->noise);
	dense_diag(z);
}

static void
dense_reset(void *ctx)
{
	struct dense_cov *z = ctx;

	memcpy(z->cov, z->base, z->N * z->N * sizeof *z->cov);
	dense_diag(z);
}

static void
dense_condition(void *ctx, size_t q)
{
	struct dense_cov *z = ctx;

	rkhs_cov_condition(z->N, z->cov, q, z->noise);
	dense_diag(z);
}

int
rkhs_design(enum rkhs_design_rule rule, size_t n, const double *mean,
    double *cov, double noise, double beta, const unsigned char *eligible,
    size_t batch, struct rng *r, size_t *pick, double *crit)
{
	unsigned char *avail = xmalloc(n ? n : 1);
	size_t navail = design_avail(n, eligible, avail), got = 0, i;
	double *base = NULL;

	if (batch > navail)
		batch = navail;
	if (rule == RKHS_EIGEN) {
		int e = batch ? design_eigen(n, cov, avail, batch, pick, crit) : 0;
		free(avail);
		return e;
	}
	if (rule == RKHS_RANDOM) {
		got = design_random(n, avail, navail, batch, r, pick, crit);
		free(avail);
		return (int)got;
	}
	if (rule == RKHS_GOPT && batch) {
		base = xmalloc(n * n * sizeof *base);
		memcpy(base, cov, n * n * sizeof *base);
	}
	/* ucb and maxvar greedily; gopt starts from maxvar's batch */
	for (got = 0; got < batch; got++) {
		size_t best = n;
		double score = 0, v;
		for (i = 0; i < n; i++) {
			if (!avail[i])
				continue;
			v = rule == RKHS_UCB ? mean[i] + beta * clamp_sd(cov[i + i * n]) :
			    cov[i + i * n];
			if (best == n || v > score) {
				best = i;
				score = v;
			}
		}
		pick[got] = best;
		crit[got] = rule == RKHS_UCB ? score : clamp_sd(score);
		avail[best] = 0;
		rkhs_cov_condition(n, cov, best, noise);
	}
	if (base) {
		struct dense_cov z = { n, noise, cov, base, xmalloc(n * sizeof *z.var) };
		struct gopt_ops op = { n, z.var, dense_cols, dense_swap, dense_reset,
		    dense_condition, &z };
		dense_diag(&z);
		gopt_exchange(&op, avail, noise, pick, batch, crit);
		free(z.var);
		free(base);
	}
	free(avail);
	return (int)got;
}

/* The design without the dense covariance (rkhs_design_lazy): the
 * posterior covariance of the candidates after t hallucinated picks is
 *	Σ_t = K_CC - Vᵀ V - U Uᵀ,
 * V = L⁻¹ G (n × N, G the cross matrix of the observed and all N
 * candidates), U's column s the s-th pick's update vector
 * Σ_{s-1}(:, q_s) / sqrt(Σ_{s-1}(q_s, q_s) + σn²); its columns are
 * computed when needed and its diagonal kept. */
struct lazy_cov {
	const struct rkhs_kernel *k;
	const struct rkhs_set *s;
	size_t N, n, t;
	double *V;	/* n × N */
	double *U;	/* N × batch */
	double *var;	/* N: the diagonal of Σ_t */
};

/* out (N × m) = Σ_t(:, Q). */
static void
lazy_columns(const struct lazy_cov *z, const size_t *Q, size_t m, double *out)
{
	size_t N = z->N, n = z->n, t = z->t, j, h;

	rkhs_cross(z->k, z->s, NULL, N, Q, m, out);
	if (n) {
		double *VQ = xmalloc(n * m * sizeof *VQ);
		for (j = 0; j < m; j++)
			memcpy(VQ + j * n, z->V + Q[j] * n, n * sizeof *VQ);
		cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)N, (int)m,
		    (int)n, -1, z->V, (int)n, VQ, (int)n, 1, out, (int)N);
		free(VQ);
	}
	if (t) {
		double *UQ = xmalloc(t * m * sizeof *UQ);
		for (j = 0; j < m; j++)
			for (h = 0; h < t; h++)
				UQ[h + j * t] = z->U[Q[j] + h * N];
		cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)m,
		    (int)t, -1, z->U, (int)N, UQ, (int)t, 1, out, (int)N);
		free(UQ);
	}
}

/* Condition on a hallucinated observation of q whose column is col. */
static void
lazy_condition(struct lazy_cov *z, size_t q, const double *col, double noise)
{
	double d = sqrt(z->var[q] + noise), *u = z->U + z->t * z->N;

	for (size_t i = 0; i < z->N; i++) {
		u[i] = col[i] / d;
		z->var[i] -= u[i] * u[i];
	}
	z->t++;
}

/* gopt's operations on the lazy covariance; var0 the diagonal before the
 * picks. */
struct lazy_gopt {
	struct lazy_cov *z;
	const double *var0;
	double noise;
	double *col;
};

static void
lazy_gopt_cols(void *ctx, const size_t *Q, size_t m, double *out)
{
	struct lazy_gopt *g = ctx;

	lazy_columns(g->z, Q, m, out);
}

static void
lazy_gopt_reset(void *ctx)
{
	struct lazy_gopt *g = ctx;

	g->z->t = 0;
	memcpy(g->z->var, g->var0, g->z->N * sizeof *g->z->var);
}

static void
lazy_gopt_condition(void *ctx, size_t q)
{
	struct lazy_gopt *g = ctx;

	lazy_columns(g->z, &q, 1, g->col);
	lazy_condition(g->z, q, g->col, g->noise);
}

/* The lazy form has no downdate: the swap recomputes U. */
static void
lazy_gopt_swap(void *ctx, const size_t *pick, size_t b, size_t k, size_t old,
    const double *c, double den)
{
	(void)k;
	(void)old;
	(void)c;
	(void)den;
	lazy_gopt_reset(ctx);
	for (size_t j = 0; j < b; j++)
		lazy_gopt_condition(ctx, pick[j]);
}

int
rkhs_design_lazy(enum rkhs_design_rule rule, const struct rkhs_post *p,
    const struct rkhs_kernel *k, const struct rkhs_set *s,
    const struct rkhs_obs *o, const double *mean, double beta,
    const unsigned char *eligible, size_t batch, struct rng *r, size_t *pick,
    double *crit)
{
	size_t N = s->n, n = p->n, got, i, j;
	unsigned char *avail;
	struct lazy_cov z;
	double *col, *var0;

	if (rule == RKHS_EIGEN)
		return loam_seterr("eigen design: needs the dense covariance");
	avail = xmalloc(N ? N : 1);
	size_t navail = design_avail(N, eligible, avail);
	if (batch > navail)
		batch = navail;
	if (rule == RKHS_RANDOM) {
		got = design_random(N, avail, navail, batch, r, pick, crit);
		free(avail);
		return (int)got;
	}
	memset(&z, 0, sizeof z);
	z.k = k;
	z.s = s;
	z.N = N;
	z.n = n;
	z.V = xmalloc((n && N ? n * N : 1) * sizeof *z.V);
	z.U = xmalloc((N && batch ? N * batch : 1) * sizeof *z.U);
	z.var = xmalloc((N ? N : 1) * sizeof *z.var);
	col = xmalloc((N ? N : 1) * sizeof *col);
	rkhs_cross(k, s, o->cand, n, NULL, N, z.V);
	if (n && N)
		cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans,
		    CblasNonUnit, (int)n, (int)N, 1, p->chol, (int)n, z.V, (int)n);
	for (j = 0; j < N; j++) {
		double v = rkhs_embed_dot(k, s, j, j);
		for (i = 0; i < n; i++)
			v -= z.V[i + j * n] * z.V[i + j * n];
		z.var[j] = v;
	}
	var0 = xmalloc((N ? N : 1) * sizeof *var0);
	memcpy(var0, z.var, N * sizeof *var0);
	for (got = 0; got < batch; got++) {
		size_t best = N;
		double score = 0, v;
		/* gopt starts from maxvar's batch */
		for (i = 0; i < N; i++) {
			if (!avail[i])
				continue;
			v = rule == RKHS_UCB ? mean[i] + beta * clamp_sd(z.var[i]) : z.var[i];
			if (best == N || v > score) {
				best = i;
				score = v;
			}
		}
		crit[got] = rule == RKHS_UCB ? score : clamp_sd(score);
		pick[got] = best;
		avail[best] = 0;
		lazy_columns(&z, &best, 1, col);
		lazy_condition(&z, best, col, p->noise);
	}
	if (rule == RKHS_GOPT && batch) {
		struct lazy_gopt g = { &z, var0, p->noise, col };
		struct gopt_ops op = { N, z.var, lazy_gopt_cols, lazy_gopt_swap,
		    lazy_gopt_reset, lazy_gopt_condition, &g };
		gopt_exchange(&op, avail, p->noise, pick, batch, crit);
	}
	free(var0);
	free(z.V);
	free(z.U);
	free(z.var);
	free(col);
	free(avail);
	return (int)got;
}

double
rkhs_beta(const struct rkhs_post *p, const struct rkhs_obs *o, double B,
    double sigma, double delta)
{
	/* log det(I_N + K_N/λ) over the N raw observations equals
	 * log det(G + D) - log det D with D = diag(λ/c) (Sylvester) */
	double logdet = p->logdet, lambda = p->noise;

	for (size_t i = 0; i < o->n; i++)
		logdet -= log(lambda / o->count[i]);
	if (logdet < 0)
		logdet = 0;
	if (!(sigma > 0))
		sigma = sqrt(lambda);
	return B + sigma / sqrt(lambda) * sqrt(2 * log(1 / delta) + logdet);
}

size_t
rkhs_recommend(size_t n, const double *mean, const double *sd, double beta,
    double *bound)
{
	size_t best = 0;
	double worst = 0;

	for (size_t i = 0; i < n; i++) {
		if (mean[i] > mean[best])
			best = i;
		if (sd[i] > worst)
			worst = sd[i];
	}
	*bound = 2 * beta * worst;
	return best;
}
