/*
 * reward-query_bench - lib/method/rkhs, the core of reward-query(1): fit
 * + predict on 2,000 observations and 10,000 candidates in 8 dimensions
 * (Matérn 5/2, fixed hyperparameters), against scikit-learn's
 * GaussianProcessRegressor fit + predict(return_std) on the same data
 * (tests/bench/reward_query_sklearn.py; Debian python3-sklearn), timed on
 * both sides inside the process (no start-up, no parsing), alternating,
 * medians of 3.  Then the gopt batch of 10 the command adds (not in the
 * baseline), by the dense path (the 10^4 x 10^4 posterior covariance and
 * rank-one updates) and the lazy one (rkhs_design_lazy: covariance
 * columns on demand); the dense algebra's rate (Cholesky + triangular
 * solves, the kernel evaluation timed apart and left out) against
 * OpenBLAS's dgemm on the same shapes; and gopt's time as the candidates
 * grow, 10^3 / 10^4 / 10^5 (200 observations: the dense path stops at
 * 10^4, its matrix would be 80 GB at 10^5).  The dense gopt at 10^4 and
 * the growth's 10^4 and 10^5 runs are timed once (tens of seconds each).
 * Goals (issue 19): >= 2x scikit-learn on fit + predict; the dense
 * algebra within 1.5x of dgemm's rate.
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "rkhs.h"
#include "rng.h"
#include "util.h"

#define DIM 8
#define NCAND 10000
#define NOBS 2000
#define BATCH 10
#define RUNS 3
#define LS 1.0
#define NOISE 0.01

struct problem {
	struct rkhs_kernel k;
	struct rkhs_set s;
	struct rkhs_obs o;
	double *x, *y;
	size_t *cand;
};

/* N points uniform in [0, 1]^DIM, the first nobs observed as a smooth
 * function plus noise. */
static void
problem_init(struct problem *pb, size_t N, size_t nobs, uint64_t seed)
{
	struct rng r;
	double ls = LS;

	rng_init(&r, seed, 0, 0);
	rkhs_kernel_init(&pb->k, RKHS_MATERN, 2.5, DIM, &ls, 1, 1);
	rkhs_set_init(&pb->s, DIM);
	pb->x = xmalloc(N * DIM * sizeof *pb->x);
	pb->y = xmalloc(nobs * sizeof *pb->y);
	pb->cand = xmalloc(nobs * sizeof *pb->cand);
	for (size_t i = 0; i < N * DIM; i++)
		pb->x[i] = rng_uniform(&r);
	for (size_t i = 0; i < N; i++)
		rkhs_set_add(&pb->s, pb->x + i * DIM, 1, NULL);
	for (size_t i = 0; i < nobs; i++) {
		double f = 0;
		for (int d = 0; d < DIM; d++)
			f += sin(3 * pb->x[i * DIM + d] + d);
		pb->cand[i] = i;
		pb->y[i] = f / sqrt(DIM) + 0.1 * rng_normal(&r);
	}
	rkhs_obs_init(&pb->o, pb->cand, pb->y, nobs);
}

static void
problem_release(struct problem *pb)
{
	rkhs_obs_release(&pb->o);
	rkhs_set_release(&pb->s);
	rkhs_kernel_release(&pb->k);
	free(pb->x);
	free(pb->y);
	free(pb->cand);
}

/* dgemm's rate (GFLOP/s) on an m x k by k x n product, best of 3. */
static double
dgemm_rate(int m, int n, int k)
{
	double *a = xmalloc((size_t)m * k * sizeof *a), *b = xmalloc((size_t)k * n * sizeof *b);
	double *c = xmalloc((size_t)m * n * sizeof *c), best = INFINITY;

	for (size_t i = 0; i < (size_t)m * k; i++)
		a[i] = (double)(i % 1000) / 1000;
	for (size_t i = 0; i < (size_t)k * n; i++)
		b[i] = (double)(i % 997) / 997;
	for (int rep = 0; rep < 4; rep++) {
		double t0 = bench_now();
		cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, m,
		    b, k, 0, c, m);
		if (rep > 0)	/* the first warms up */
			best = fmin(best, bench_now() - t0);
	}
	free(a);
	free(b);
	free(c);
	return 2.0 * m * n * k / best / 1e9;
}

/* The gopt batch from a fitted posterior: dense (lazy 0) or lazy. */
static double
time_gopt(const struct problem *pb, const struct rkhs_post *p, int lazy, size_t *pick)
{
	size_t N = pb->s.n;
	double crit[BATCH], t0 = bench_now();

	if (lazy) {
		if (rkhs_design_lazy(RKHS_GOPT, p, &pb->k, &pb->s, &pb->o, NULL, 0, NULL,
		    BATCH, NULL, pick, crit) != BATCH)
			die("lazy gopt: %s", loam_error());
	} else {
		double *cov = xmalloc(N * N * sizeof *cov);
		rkhs_post_predict(p, &pb->k, &pb->s, &pb->o, NULL, N, NULL, NULL, cov);
		if (rkhs_design(RKHS_GOPT, N, NULL, cov, p->noise, 0, NULL, BATCH, NULL,
		    pick, crit) != BATCH)
			die("gopt: %s", loam_error());
		free(cov);
	}
	return bench_now() - t0;
}

static void
gopt_growth(void)
{
	static const size_t sizes[] = { 1000, 10000, 100000 };
	double dense[2], lazy[3];
	size_t pick[BATCH], pick2[BATCH];
	int same = 1;

	for (int a = 0; a < 3; a++) {
		struct problem pb;
		struct rkhs_post p;
		double td[RUNS], tl[RUNS];
		int runs = a == 0 ? RUNS : 1;	/* 10^4 and 10^5: tens of seconds */

		problem_init(&pb, sizes[a], 200, 2);
		if (rkhs_post_fit(&p, &pb.k, &pb.s, &pb.o, NOISE) < 0)
			die("fit: %s", loam_error());
		for (int i = 0; i < runs; i++) {
			if (a < 2)
				td[i] = time_gopt(&pb, &p, 0, pick);
			tl[i] = time_gopt(&pb, &p, 1, pick2);
			if (a < 2)
				same &= !memcmp(pick, pick2, sizeof pick);
		}
		if (a < 2)
			dense[a] = bench_median(td, runs);
		lazy[a] = bench_median(tl, runs);
		rkhs_post_release(&p);
		problem_release(&pb);
	}
	printf("reward-query gopt batch of %d, 200 observations, |C| = 10^3 / 10^4 / 10^5: "
	    "dense %.3f / %.2f s / (80 GB: not run); lazy %.3f / %.3f / %.2f s "
	    "(x%.1f, x%.1f per x10 candidates; same picks as dense: %s)\n", BATCH,
	    dense[0], dense[1], lazy[0], lazy[1], lazy[2], lazy[1] / lazy[0],
	    lazy[2] / lazy[1], same ? "yes" : "NO");
}

int
main(int argc, char *argv[])
{
	struct cli_opts opts;
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int have_py = system("/usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1") == 0;
	char dir[512], xpath[600], ypath[600], cmd[2000];
	double fit[RUNS], pred[RUNS], gram[RUNS], cross[RUNS], base[RUNS];
	double dense[1], lazy[RUNS];
	struct problem pb;
	FILE *fp;

	cli_init(&opts, argc, argv, "", "", CLI_BLAS);
	progname = "reward-query_bench";
	problem_init(&pb, NCAND, NOBS, 1);
	snprintf(dir, sizeof dir, "%s/loam-rq-bench-XXXXXX", tmp);
	if (!mkdtemp(dir))
		die("mkdtemp failed");
	snprintf(xpath, sizeof xpath, "%s/x.f64", dir);
	snprintf(ypath, sizeof ypath, "%s/y.f64", dir);
	if (!(fp = fopen(xpath, "wb")) ||
	    fwrite(pb.x, sizeof *pb.x, NCAND * DIM, fp) != NCAND * DIM || fclose(fp))
		die("%s: cannot write", xpath);
	if (!(fp = fopen(ypath, "wb")) || fwrite(pb.y, sizeof *pb.y, NOBS, fp) != NOBS ||
	    fclose(fp))
		die("%s: cannot write", ypath);
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/bench/reward_query_sklearn.py %s %s %d %d "
	    "%d %g %g", xpath, ypath, NCAND, NOBS, DIM, LS, NOISE);

	double *G = xmalloc((size_t)NOBS * NCAND * sizeof *G);
	double *mean = xmalloc(NCAND * sizeof *mean), *sd = xmalloc(NCAND * sizeof *sd);
	size_t pick[BATCH], pick2[BATCH];
	for (int i = 0; i < RUNS; i++) {
		struct rkhs_post p;
		double t0 = bench_now();

		if (rkhs_post_fit(&p, &pb.k, &pb.s, &pb.o, NOISE) < 0)
			die("fit: %s", loam_error());
		fit[i] = bench_now() - t0;
		t0 = bench_now();
		rkhs_post_predict(&p, &pb.k, &pb.s, &pb.o, NULL, NCAND, mean, sd, NULL);
		pred[i] = bench_now() - t0;
		/* the kernel evaluation alone: the fit's Gram, predict's cross */
		t0 = bench_now();
		rkhs_cross(&pb.k, &pb.s, pb.o.cand, NOBS, pb.o.cand, NOBS, G);
		gram[i] = bench_now() - t0;
		t0 = bench_now();
		rkhs_cross(&pb.k, &pb.s, pb.o.cand, NOBS, NULL, NCAND, G);
		cross[i] = bench_now() - t0;
		if (i == 0)	/* tens of seconds: once */
			dense[0] = time_gopt(&pb, &p, 0, pick);
		lazy[i] = time_gopt(&pb, &p, 1, pick2);
		rkhs_post_release(&p);
		if (have_py) {
			FILE *py = popen(cmd, "r");
			if (!py || fscanf(py, "%lf", &base[i]) != 1 || pclose(py) != 0)
				die("failed: %s", cmd);
		}
	}
	free(G);
	free(mean);
	free(sd);

	double tf = bench_median(fit, RUNS), tp = bench_median(pred, RUNS);
	double tg = bench_median(gram, RUNS), tc = bench_median(cross, RUNS);
	double ours = tf + tp;
	if (have_py) {
		double b = bench_median(base, RUNS);
		printf("reward-query fit + predict, %d observations, %d candidates, d = %d "
		    "(Matern 5/2): %.3f s (fit %.3f, predict %.3f) (scikit-learn "
		    "GaussianProcessRegressor fit + predict %.3f s; ratio %.1fx; goal >= 2x)\n",
		    NOBS, NCAND, DIM, ours, tf, tp, b, b / ours);
	} else
		printf("reward-query fit + predict, %d observations, %d candidates, d = %d: "
		    "%.3f s (python3-sklearn not installed; goal >= 2x scikit-learn)\n",
		    NOBS, NCAND, DIM, ours);
	printf("reward-query gopt batch of %d on the same posterior (not in the baseline): "
	    "dense %.2f s (one run), lazy %.3f s (same picks: %s)\n", BATCH,
	    dense[0], bench_median(lazy, RUNS),
	    memcmp(pick, pick2, sizeof pick) ? "NO" : "yes");

	/* Cholesky n³/3 and the solves: L⁻¹ G (n² N), α (2n²), the means
	 * and sds (2 n N each) */
	double n = NOBS, N = NCAND;
	double flops = n * n * n / 3 + n * n * N + 2 * n * n + 4 * n * N;
	double algebra = ours - tg - tc;
	double ours_rate = flops / algebra / 1e9;
	double gemm = dgemm_rate(NOBS, NCAND, NOBS);
	printf("reward-query dense algebra (Cholesky + triangular solves, kernel evaluation "
	    "%.3f s left out): %.1f GFLOP/s (OpenBLAS dgemm %dx%dx%d: %.1f GFLOP/s; "
	    "dgemm/ours %.2fx; goal <= 1.5x)\n", tg + tc, ours_rate, NOBS, NCAND, NOBS,
	    gemm, gemm / ours_rate);
	fprintf(stderr, "# reward-query_bench: kernel evaluation gram %.3f s, cross %.3f s\n",
	    tg, tc);
	problem_release(&pb);
	unlink(xpath);
	unlink(ypath);
	rmdir(dir);
	gopt_growth();
	return cli_exit();
}
