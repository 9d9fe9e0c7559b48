/*
 * skillit-mix_bench - skillit-mix's two speed goals, measured side by side
 * with their baselines:
 *  - sample: a 2 GB stream of 20M records, MB/s, against `cat` of the same
 *    file to /dev/null (goal >= 0.5x cat and >= 200 MB/s);
 *  - weights: time per round with k = 1000 skills (goal < 1 ms).
 * Medians of 3 runs.  The data files are made here, under $TMPDIR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "npy.h"
#include "rng.h"

#define RECORDS 20000000
#define SKILLS 20
#define RUNS 3
#define K 1000
#define EVALS 200

static double
time_command(const char *cmd)
{
	double t0 = bench_now();

	if (system(cmd) != 0)
		die("command failed: %s", cmd);
	return bench_now() - t0;
}

int
main(void)
{
	const char *out = getenv("LOAM_OUT") ? getenv("LOAM_OUT") : ".";
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[512], data[600], graph[600], names[600], evals[600], cmd[2048];
	double ours[RUNS], cat[RUNS], mb, t, b;
	struct stat st;
	struct rng r;
	FILE *fp;

	progname = "skillit-mix_bench";
	snprintf(dir, sizeof dir, "%s/loam-skillit-bench-XXXXXX", tmp);
	if (!mkdtemp(dir))
		die("mkdtemp failed");
	snprintf(data, sizeof data, "%s/stream.jsonl", dir);
	snprintf(graph, sizeof graph, "%s/graph.npy", dir);
	snprintf(names, sizeof names, "%s/skills.txt", dir);
	snprintf(evals, sizeof evals, "%s/evals.jsonl", dir);

	/* ~100-byte records with a skill each. */
	if (!(fp = fopen(data, "w")))
		die("%s: cannot create", data);
	rng_init(&r, 1, 0, 0);
	for (long i = 0; i < RECORDS; i++)
		fprintf(fp, "{\"id\":%ld,\"skill\":\"skill%02d\",\"text\":\"%016llx %016llx %016llx\"}\n",
		    i, (int)rng_uniform_int(&r, SKILLS), (unsigned long long)rng_next(&r),
		    (unsigned long long)rng_next(&r), (unsigned long long)rng_next(&r));
	if (fclose(fp) != 0 || stat(data, &st) != 0)
		die("%s: write failed", data);
	mb = st.st_size / 1e6;
	for (int i = 0; i < RUNS; i++) {
		snprintf(cmd, sizeof cmd, "cat %s > /dev/null", data);
		cat[i] = mb / time_command(cmd);
		snprintf(cmd, sizeof cmd, "%s/bin/skillit-mix sample -q -n 100000 "
		    "--weights skill00=0.3,skill05=0.3,skill10=0.2,skill19=0.2 %s > /dev/null",
		    out, data);
		ours[i] = mb / time_command(cmd);
	}
	t = bench_median(ours, RUNS);
	b = bench_median(cat, RUNS);
	printf("skillit-mix sample, %.0f MB / %dM records: %.0f MB/s (cat: %.0f MB/s; ratio %.2fx; goal >= 0.5x and >= 200 MB/s)\n",
	    mb, RECORDS / 1000000, t, b, t / b);
	fflush(stdout);
	unlink(data);

	/* A dense 1000 x 1000 graph and 200 evaluations of every skill. */
	{
		double *a = xmalloc(sizeof *a * K * K);
		size_t shape[2] = { K, K };

		for (size_t i = 0; i < (size_t)K * K; i++)
			a[i] = rng_uniform(&r);
		if (npy_write(graph, NPY_F8, 2, shape, a) != 0)
			die("%s", loam_error());
		free(a);
		if (!(fp = fopen(names, "w")))
			die("%s: cannot create", names);
		for (int i = 0; i < K; i++)
			fprintf(fp, "s%d\n", i);
		fclose(fp);
		if (!(fp = fopen(evals, "w")))
			die("%s: cannot create", evals);
		for (int e = 0; e < EVALS; e++) {
			fprintf(fp, "{\"step\":%d,\"losses\":{", e * 100);
			for (int i = 0; i < K; i++)
				fprintf(fp, "%s\"s%d\":%.4f", i ? "," : "", i, 1 + rng_uniform(&r));
			fputs("}}\n", fp);
		}
		fclose(fp);
	}
	/* Per round: the run over all evaluations less the run over the
	 * first, so that loading the 8 MB graph is not counted. */
	for (int i = 0; i < RUNS; i++) {
		snprintf(cmd, sizeof cmd, "%s/bin/skillit-mix weights -q --graph %s --skills %s < %s > /dev/null",
		    out, graph, names, evals);
		ours[i] = time_command(cmd);
		snprintf(cmd, sizeof cmd, "head -n1 %s | %s/bin/skillit-mix weights -q --graph %s --skills %s > /dev/null",
		    evals, out, graph, names);
		cat[i] = time_command(cmd);
	}
	printf("skillit-mix weights, k = %d skills: %.3f ms per round, reading the losses included "
	    "(%d rounds less 1; goal < 1 ms)\n", K,
	    (bench_median(ours, RUNS) - bench_median(cat, RUNS)) / (EVALS - 1) * 1e3, EVALS);
	unlink(graph);
	unlink(names);
	unlink(evals);
	rmdir(dir);
	return cli_exit();
}
