/*
 * blas_bench - what cli_init(CLI_BLAS) buys: single-precision GEMM speed
 * with loam's choice of OpenBLAS kernels against OpenBLAS's own choice.
 *
 * OpenBLAS 0.3.21 picks its Haswell kernels on CPUs it does not know (AMD
 * Zen 4/5) although they have AVX-512; loam re-executes a BLAS-using
 * program once with OPENBLAS_CORETYPE=SkylakeX on such CPUs.  This bench
 * runs itself as a child both ways (LOAM_NO_REEXEC=1 keeps OpenBLAS's own
 * choice), alternating, and prints the medians.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "bench.h"
#include "cli.h"

#define N 1024
#define REPS 20
#define RUNS 3

static void
child(void)
{
	float *a = xmalloc(sizeof(float) * N * N), *b = xmalloc(sizeof(float) * N * N),
	    *c = xmalloc(sizeof(float) * N * N);
	double best = 1e9;

	for (int i = 0; i < N * N; i++) {
		a[i] = (float)((i * 7919L) % 1000) / 1000.0f;
		b[i] = (float)((i * 104729L) % 1000) / 1000.0f;
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1, a, N, b, N, 0, c, N);
	for (int r = 0; r < REPS; r++) {
		double t0 = bench_now(), t;

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N,
		    1, a, N, b, N, 0, c, N);
		t = bench_now() - t0;
		if (t < best)
			best = t;
	}
	printf("%.1f %s\n", 2.0 * N * N * N / best / 1e9, openblas_get_corename());
	free(a);
	free(b);
	free(c);
}

static double
run_child(const char *self, int keep_default, char *core, size_t corelen)
{
	char cmd[600], line[200];
	FILE *p;
	double gflops = 0;

	snprintf(cmd, sizeof cmd, "%s%s --child", keep_default ? "LOAM_NO_REEXEC=1 " : "", self);
	p = popen(cmd, "r");
	if (!p || !fgets(line, sizeof line, p) || sscanf(line, "%lf %63s", &gflops, core) != 2)
		die("child run failed: %s", cmd);
	pclose(p);
	(void)corelen;
	return gflops;
}

int
main(int argc, char *argv[])
{
	struct cli_opts o;
	double ours[RUNS], theirs[RUNS];
	char our_core[64] = "", their_core[64] = "", self[512];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (argc > 1 && strcmp(argv[1], "--child") == 0) {
		cli_init(&o, argc, argv, "", "", CLI_BLAS);
		child();
		return cli_exit();
	}
	progname = "blas_bench";
	if (n <= 0)
		die("cannot find my own executable");
	self[n] = '\0';
	if (getenv("OPENBLAS_CORETYPE"))
		note("OPENBLAS_CORETYPE=%s is set: both sides use it", getenv("OPENBLAS_CORETYPE"));
	for (int i = 0; i < RUNS; i++) {
		theirs[i] = run_child(self, 1, their_core, sizeof their_core);
		ours[i] = run_child(self, 0, our_core, sizeof our_core);
	}
	printf("sgemm %dx%dx%d: %.0f GFLOP/s with loam's kernel choice (%s) (OpenBLAS's own choice, %s: %.0f GFLOP/s; ratio %.2fx)\n",
	    N, N, N, bench_median(ours, RUNS), our_core, their_core,
	    bench_median(theirs, RUNS), bench_median(ours, RUNS) / bench_median(theirs, RUNS));
	return cli_exit();
}
