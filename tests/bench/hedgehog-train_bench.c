/*
 * hedgehog-train_bench - one attention-distillation step of a GPT-2-sized
 * layer (12 heads, head_dim 64, feature_dim 64, length 1024, causal,
 * LoLCATs' softmax map, AdamW), hedgehog-train's trainer against the
 * PyTorch implementation of the same step (tests/bench/hedgehog_torch.py,
 * Debian's python3-torch) on the same threads and the same q/k; goal
 * >= 1.5x faster (research/hedgehog.md §4.5).  Skipped when torch is
 * absent.
 *
 * Our step is timed through hedgehog_fit_layer itself: runs of 1 and of 11
 * steps, whose difference over 10 is the cost of a step (the validation
 * passes before and after cancel).  The step computes the gradients, not
 * the loss value, which the trainer needs only at validations; the first
 * step's loss of both sides is printed to stderr as a check that they
 * compute the same thing.  Medians of 3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "hedgehog.h"
#include "npy.h"
#include "rng.h"

#define H 12
#define N 1024
#define D 64
#define RUNS 3

static double
fit_time(const float *q, const float *k, int steps)
{
	struct hedgehog_maps m;
	struct hedgehog_fit_opts o;
	struct hedgehog_fit_report rep;
	double init[H], best[H], t0;
	int bs[H], train[1] = { 0 };

	hedgehog_fit_opts_default(&o);
	o.steps = steps;
	o.eval_every = 1 << 30;
	rep.init_loss = init;
	rep.best_loss = best;
	rep.best_step = bs;
	hedgehog_maps_init(&m, HEDGEHOG_FMAP_HEDGEHOG, H, D, D, 0);
	t0 = bench_now();
	if (hedgehog_fit_layer(&m, q, k, NULL, 1, H, N, D, 0, train, 1, NULL, 0, &o, &rep) != 0)
		die("%s", loam_error());
	t0 = bench_now() - t0;
	hedgehog_maps_release(&m);
	return t0;
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[512], qp[600], kp[600], cmd[2048], line[256];
	size_t shape[3] = { H, N, D };
	float *q = malloc(sizeof *q * H * N * D), *k = malloc(sizeof *k * H * N * D);
	double ours[RUNS], mine[2], theirs[2], loss = 0, tloss = 0;
	int threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	struct rng r;
	FILE *p;

	progname = "hedgehog-train_bench";
	rng_init(&r, 1, 0, 0);
	for (size_t i = 0; i < (size_t)H * N * D; i++) {
		q[i] = (float)rng_normal(&r);
		k[i] = (float)rng_normal(&r);
	}
	{
		/* the first step's loss: identity maps */
		struct hedgehog_maps m;
		float *fq = malloc(sizeof *fq * N * 2 * D), *fk = malloc(sizeof *fk * N * 2 * D);
		float *z = malloc(sizeof *z * N * D);
		float *ws = malloc(sizeof *ws * (size_t)hedgehog_loss_workspace(N, 64));

		hedgehog_maps_init(&m, HEDGEHOG_FMAP_HEDGEHOG, H, D, D, 0);
		for (int h = 0; h < H; h++) {
			hedgehog_maps_features(&m, h, 0, fq, z, q + (size_t)h * N * D, N);
			hedgehog_maps_features(&m, h, 1, fk, z, k + (size_t)h * N * D, N);
			loss += hedgehog_distill(q + (size_t)h * N * D, k + (size_t)h * N * D, fq, fk, N, D,
			    2 * D, 1, 64, 1, 0, NULL, NULL, ws) / H;
		}
		hedgehog_maps_release(&m);
		free(fq);
		free(fk);
		free(z);
		free(ws);
	}
	snprintf(dir, sizeof dir, "%s/loam-hedgehog-bench-XXXXXX", tmp);
	if (!mkdtemp(dir))
		die("mkdtemp failed");
	snprintf(qp, sizeof qp, "%s/q.npy", dir);
	snprintf(kp, sizeof kp, "%s/k.npy", dir);
	if (npy_write(qp, NPY_F4, 3, shape, q) != 0 || npy_write(kp, NPY_F4, 3, shape, k) != 0)
		die("%s", loam_error());
	/* all the cores, then one: a loaded machine hurts threads unevenly */
	for (int c = 0; c < 2; c++) {
		int t = c == 0 ? threads : 1;

		cli_set_threads(t);
		for (int i = 0; i < RUNS; i++)
			ours[i] = (fit_time(q, k, 11) - fit_time(q, k, 1)) / 10;
		mine[c] = bench_median(ours, RUNS);
		snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null && "
		    "OMP_NUM_THREADS=%d /usr/bin/python3 tests/bench/hedgehog_torch.py %s %s %d 5",
		    t, qp, kp, t);
		theirs[c] = 0;
		if ((p = popen(cmd, "r")) != NULL) {
			if (!fgets(line, sizeof line, p) ||
			    sscanf(line, "%lf %lf", &tloss, &theirs[c]) != 2)
				theirs[c] = 0;
			pclose(p);
		}
		fprintf(stderr, "# %d thread(s): %.1f ms here, %.1f ms PyTorch\n", t, mine[c] * 1e3,
		    theirs[c] * 1e3);
	}
	unlink(qp);
	unlink(kp);
	rmdir(dir);
	fprintf(stderr, "# hedgehog-train: first-step loss %.7f here, %.7f in PyTorch\n", loss, tloss);
	if (theirs[0] > 0 && theirs[1] > 0)
		printf("hedgehog-train distillation step (12 heads, d 64, df 64, n 1024): "
		    "%d threads %.1f ms vs PyTorch %.1f ms, %.2fx faster; 1 thread %.1f ms vs "
		    "%.1f ms, %.2fx\n", threads, mine[0] * 1e3, theirs[0] * 1e3,
		    theirs[0] / mine[0], mine[1] * 1e3, theirs[1] * 1e3, theirs[1] / mine[1]);
	else
		printf("hedgehog-train distillation step (12 heads, d 64, df 64, n 1024): "
		    "%d threads %.1f ms, 1 thread %.1f ms; PyTorch skipped (python3-torch not "
		    "installed)\n", threads, mine[0] * 1e3, mine[1] * 1e3);
	free(q);
	free(k);
	return 0;
}
