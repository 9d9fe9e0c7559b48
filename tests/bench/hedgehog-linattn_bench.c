/*
 * hedgehog-linattn_bench - causal attention forward of one head
 * (head_dim 64, value dim 64) at lengths 1k, 4k and 16k: Hedgehog linear
 * attention (the map, feature_dim 64 -> 128 features, then lib/linattn's
 * chunked form, chunk 64) against softmax attention (lib/linattn's
 * row-blocked sgemm form, which never holds the n x n matrix).  Goals
 * (issue 8): >= 10x at 4k, and time growing linearly with length.
 * Medians of 3, on one thread: a layer runs its heads in parallel, one
 * head per thread (and small GEMMs split over threads only add
 * synchronisation, badly so on a loaded machine).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "cli.h"
#include "hedgehog.h"
#include "linattn.h"
#include "rng.h"

#define D 64
#define RUNS 3

int
main(void)
{
	static const int lens[] = { 1024, 4096, 16384 };
	double lin[3], soft[3];
	struct hedgehog_maps m;

	progname = "hedgehog-linattn_bench";
	cli_set_threads(1);
	hedgehog_maps_init(&m, HEDGEHOG_FMAP_HEDGEHOG, 1, D, D, 0);
	for (int li = 0; li < 3; li++) {
		int n = lens[li];
		size_t nd = (size_t)n * D;
		float *q = malloc(sizeof *q * nd), *k = malloc(sizeof *k * nd);
		float *v = malloc(sizeof *v * nd), *y = malloc(sizeof *y * nd);
		float *fq = malloc(sizeof *fq * 2 * nd), *fk = malloc(sizeof *fk * 2 * nd);
		float *z = malloc(sizeof *z * nd);
		double tl[RUNS], ts[RUNS];
		struct rng r;

		rng_init(&r, 2, (uint64_t)n, 0);
		for (size_t i = 0; i < nd; i++) {
			q[i] = (float)rng_normal(&r);
			k[i] = (float)rng_normal(&r);
			v[i] = (float)rng_normal(&r);
		}
		for (int i = 0; i < RUNS; i++) {
			double t0 = bench_now();

			hedgehog_maps_features(&m, 0, 0, fq, z, q, n);
			hedgehog_maps_features(&m, 0, 1, fk, z, k, n);
			linattn_forward(y, NULL, fq, fk, v, n, 2 * D, D, LINATTN_CHUNK);
			tl[i] = bench_now() - t0;
			t0 = bench_now();
			linattn_softmax_forward(y, q, k, v, n, D, D, 1 / sqrtf(D), 1, 64);
			ts[i] = bench_now() - t0;
		}
		lin[li] = bench_median(tl, RUNS);
		soft[li] = bench_median(ts, RUNS);
		fprintf(stderr, "# n %5d: linear %.2f ms, softmax %.2f ms, %.1fx\n", n, lin[li] * 1e3,
		    soft[li] * 1e3, soft[li] / lin[li]);
		free(q);
		free(k);
		free(v);
		free(y);
		free(fq);
		free(fk);
		free(z);
	}
	hedgehog_maps_release(&m);
	printf("causal attention forward, 1 head d 64, 1 thread: Hedgehog linear "
	    "1k/4k/16k %.2f/%.2f/%.2f ms (16k/1k %.1fx), softmax %.1f/%.1f/%.1f ms; "
	    "%.1fx faster at 4k, %.1fx at 16k\n", lin[0] * 1e3, lin[1] * 1e3,
	    lin[2] * 1e3, lin[2] / lin[0], soft[0] * 1e3, soft[1] * 1e3, soft[2] * 1e3,
	    soft[1] / lin[1], soft[2] / lin[2]);
	return 0;
}
