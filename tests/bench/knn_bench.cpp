/*
 * knn_bench - exact inner-product search of 20000 x 768 vectors (base =
 * queries, k = 10) through lib/knn (the FAISS C API path, batched) against
 * FAISS's own C++ IndexFlatIP in the same process.  The runs alternate
 * so that both see the same machine state; each side reports the median.
 *
 * stdout: exactly one line.  stderr: timings and checks.  Exit 1 when
 * the two paths disagree or anything fails.
 */
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include <omp.h>

#include <faiss/IndexFlat.h>

#include "bench.h"
#include "knn.h"
#include "rng.h"
#include "util.h"

enum { N = 20000, D = 768, K = 10, REPS = 5 };

/* Uniform in [-1, 1), then normalised: all that flat search cares about
 * is the size of the problem, not where the vectors came from. */
static void
random_normalized(std::vector<float> &x, size_t n, size_t d)
{
	struct rng r;
	size_t i, j;
	double norm;

	rng_init(&r, 1, 0, 0);
	x.resize(n * d);
	for (i = 0; i < n; i++) {
		norm = 0;
		for (j = 0; j < d; j++) {
			x[i * d + j] = rng_uniform_float(&r) * 2.0f - 1.0f;
			norm += (double)x[i * d + j] * x[i * d + j];
		}
		norm = std::sqrt(norm);
		for (j = 0; j < d; j++)
			x[i * d + j] = (float)(x[i * d + j] / norm);
	}
}

int
main(void)
{
	std::vector<float> x, dk((size_t)N * K), df((size_t)N * K);
	std::vector<int64_t> lk((size_t)N * K);
	std::vector<faiss::Index::idx_t> lf((size_t)N * K);
	std::vector<double> tk, tf;
	struct knn *kn;
	double t, qk, qf;
	size_t i, differ = 0, self = 0;
	int r;

	random_normalized(x, N, D);
	fprintf(stderr, "knn_bench: %d x %d, k=%d, %d threads, %d runs "
	    "each\n", N, D, K, omp_get_max_threads(), REPS);

	if ((kn = knn_new(D, "Flat", KNN_IP, 0)) == NULL ||
	    knn_add(kn, x.data(), N) == -1) {
		fprintf(stderr, "knn_bench: %s\n", loam_error());
		knn_free(kn);
		return 1;
	}
	faiss::IndexFlatIP flat(D);
	flat.add(N, x.data());

	for (r = 0; r < REPS; r++) {
		t = bench_now();
		if (knn_search(kn, x.data(), N, K, dk.data(), lk.data()) ==
		    -1) {
			fprintf(stderr, "knn_bench: %s\n", loam_error());
			knn_free(kn);
			return 1;
		}
		tk.push_back(bench_now() - t);
		t = bench_now();
		flat.search(N, x.data(), K, df.data(), lf.data());
		tf.push_back(bench_now() - t);
		fprintf(stderr, "knn_bench: run %d: knn %.3f s, faiss C++ "
		    "%.3f s\n", r + 1, tk.back(), tf.back());
	}
	knn_free(kn);

	/* Same data, same kernels: the two must agree, bar exact ties. */
	for (i = 0; i < (size_t)N * K; i++)
		if (lk[i] != lf[i] && dk[i] != df[i])
			differ++;
	for (i = 0; i < N; i++)
		if (lk[i * K] == (int64_t)i)
			self++;
	fprintf(stderr, "knn_bench: %zu of %d results differ; each vector "
	    "its own nearest: %zu of %d\n", differ, N * K, self, N);

	qk = N / bench_median(tk.data(), (int)tk.size());
	qf = N / bench_median(tf.data(), (int)tf.size());
	printf("knn flat search %dx%d k=%d: %.0f q/s (faiss C++: %.0f q/s; "
	    "overhead %.2fx, goal <= 1.2x)\n", N, D, K, qk, qf, qf / qk);
	return differ != 0 || self != N;
}
