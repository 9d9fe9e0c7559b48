/*
 * bench.h - what the benchmarks share (header only, C and C++).
 * Figures are medians of repeated runs: the machine is shared and noisy.
 */
#ifndef LOAM_BENCH_H
#define LOAM_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v). */
static inline double
bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Seconds a shell command takes; exits on failure. */
static inline double
bench_time_command(const char *cmd)
{
	double t0 = bench_now();

	if (system(cmd) != 0) {
		fprintf(stderr, "bench: command failed: %s\n", cmd);
		exit(1);
	}
	return bench_now() - t0;
}

#endif
