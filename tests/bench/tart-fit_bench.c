/*
 * tart-fit_bench - TART's reasoning module:
 *  1. prediction of 10,000 queries at k = 128 with the prefix cache
 *     against recomputing the whole context for each query (--no-cache,
 *     the reference's way), on the paper's standard module (12 layers,
 *     256 wide, 8 heads); the uncached path is timed on a sample of
 *     queries and its rate extrapolated (10,000 would take many minutes);
 *  2. one training step of the small config (6 layers, 128 wide, 4 heads,
 *     batch 8 x 258 points) against the same architecture and step in
 *     PyTorch (tests/bench/tart_torch.py, Debian's python3-torch) on the
 *     same number of threads; skipped when torch is absent.
 * Goals (issue 7): >= 50x for the cache; >= 1x against PyTorch.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "gpt.h"
#include "rng.h"
#include "tart.h"

#define TORCH_SCRIPT "tests/bench/tart_torch.py"

static void
bench_predict(void)
{
	struct gpt_config cfg = { 16, 0, 516, 12, 8, 256, 1 };
	struct gpt m;
	struct gpt_cache c;
	size_t k = 128, P = 2 * k, Q = 10000, Qslow = 12;
	float *x = malloc((k + Q) * 16 * sizeof *x), *y = malloc((k + Q) * sizeof *y);
	float *z = malloc((P + 1) * 16 * sizeof *z), *logits = malloc(Q * sizeof *logits);
	struct rng r;
	double t_cache[3], t_slow[3], maxdiff = 0;

	gpt_init(&m, &cfg);
	gpt_init_weights(&m, 1);
	rng_init(&r, 1, 0, 0);
	tart_sample_task(&r, 16, 16, 10.0, k + Q, x, y, NULL);
	tart_interleave(x, y, k, 16, z);
	for (int rep = 0; rep < 3; rep++) {
		double t0 = bench_now();
		gpt_cache_prefix(&m, &c, z, P);
		gpt_cache_query(&m, &c, x + k * 16, Q, logits);
		t_cache[rep] = bench_now() - t0;
		gpt_cache_release(&c);
		t0 = bench_now();
		for (size_t q = 0; q < Qslow; q++) {
			memcpy(z + P * 16, x + (k + q) * 16, 16 * sizeof *z);
			gpt_forward(&m, z, NULL, 1, P + 1);
			double d = fabs(m.a.logits[P] - logits[q]);
			if (d > maxdiff)
				maxdiff = d;
		}
		t_slow[rep] = (bench_now() - t0) / (double)Qslow * (double)Q;
	}
	double tc = bench_median(t_cache, 3), ts = bench_median(t_slow, 3);
	printf("tart-fit predict, k = 128, standard module (12x256x8), 10000 queries: "
	    "cached %.3f s (%.0f queries/s), --no-cache %.1f s (%.1f queries/s, "
	    "extrapolated from %zu): %.0fx (goal >= 50x)\n", tc, Q / tc, ts, Q / ts,
	    Qslow, ts / tc);
	fprintf(stderr, "# tart predict: largest |logit| difference cached vs not: %.2g\n",
	    maxdiff);
	gpt_release(&m);
	free(x); free(y); free(z); free(logits);
}

static void
bench_train(void)
{
	int layers = 6, width = 128, heads = 4, batch = 8, points = 258, reps = 5;
	int threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	struct gpt_config cfg = { 16, 0, 2 * points, layers, heads, width, 1 };
	struct tart_train_opts o;
	struct gpt m;
	double t[8];
	char cmd[512], line[128];
	FILE *p;

	tart_train_defaults(&o);
	o.batch = batch;
	o.points = (struct tart_ramp){ points, points, 0, 1 };
	o.dims = (struct tart_ramp){ 16, 16, 0, 1 };
	gpt_init(&m, &cfg);
	gpt_init_weights(&m, 1);
	gpt_train_init(&m);
	tart_train_step(&m, &o, 0);	/* warm-up, as the baseline */
	for (int i = 0; i < reps; i++) {
		double t0 = bench_now();
		tart_train_step(&m, &o, i + 1);
		t[i] = bench_now() - t0;
	}
	double ours = bench_median(t, reps);
	gpt_release(&m);

	snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c 'import torch' 2>/dev/null && "
	    "/usr/bin/python3 %s %d %d %d %d %d %d %d", TORCH_SCRIPT, layers, width, heads,
	    batch, points, threads, reps);
	p = popen(cmd, "r");
	if (p == NULL || fgets(line, sizeof line, p) == NULL) {
		if (p)
			pclose(p);
		printf("tart-fit train step, small (6x128x4), batch 8 x 258 points, %d threads: "
		    "%.3f s (PyTorch baseline skipped: python3-torch not installed)\n",
		    threads, ours);
		return;
	}
	pclose(p);
	double torch = atof(line);
	printf("tart-fit train step, small (6x128x4), batch 8 x 258 points, %d threads: "
	    "%.3f s, PyTorch %.3f s: %.2fx (goal >= 1x)\n", threads, ours, torch,
	    torch / ours);
}

int
main(void)
{
	cli_set_threads((int)sysconf(_SC_NPROCESSORS_ONLN));
	bench_predict();
	bench_train();
	return 0;
}
