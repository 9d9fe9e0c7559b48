/*
 * reward-count_bench - reward-count's speed goals, each with its baseline
 * measured in the same run (medians of 3):
 *  - end to end: JSONL steps with 4-d progress, records/s on one core,
 *    against `jq -c .progress` on the same input (parsing alone);
 *  - the counting core on pre-computed keys: with the table in cache
 *    (1000 keys) and with 10^8 distinct keys;
 *  - merging two tables of 10^7 keys each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "rewardcount.h"
#include "rng.h"

#define RECORDS 2000000
#define RUNS 3

static double
time_command(const char *cmd)
{
	double t0 = bench_now();

	if (system(cmd) != 0)
		die("command failed: %s", cmd);
	return bench_now() - t0;
}

static void
table(struct rewardcount_table *t, int update)
{
	struct rewardcount_opts o;

	rewardcount_opts_default(&o, REWARDCOUNT_PROGRESS);
	o.dims = 1;
	o.update = update;
	if (rewardcount_init(t, &o) != 0)
		die("%s", loam_error());
}

/* Count updates per second, keys[n] in chunks of 4096: the core alone
 * (no counts asked back), which runs through htab_add_batch's prefetching
 * path; a batch-sync run counts each batch the same way at its end.
 * With reserve, rewardcount_reserve() first makes the table and faults its memory
 * in, untimed; *reserve_s (if not NULL) gets how long that took. */
static double
count_rate(const uint64_t *keys, size_t n, size_t reserve, double *reserve_s)
{
	struct rewardcount_table t;
	uint64_t *counts = NULL;
	double t0, dt;

	table(&t, REWARDCOUNT_UPDATE_AFTER);
	t0 = bench_now();
	if (reserve)
		rewardcount_reserve(&t, reserve);
	if (reserve_s)
		*reserve_s = bench_now() - t0;
	t0 = bench_now();
	for (size_t i = 0; i < n; i += 4096) {
		size_t m = n - i < 4096 ? n - i : 4096;

		if (rewardcount_count_keys(&t, keys + i, m, counts) != 0)
			die("%s", loam_error());
		rewardcount_end_batch(&t);
	}
	dt = bench_now() - t0;
	rewardcount_release(&t);
	free(counts);
	return n / dt;
}

int
main(void)
{
	const char *out = getenv("LOAM_OUT") ? getenv("LOAM_OUT") : ".";
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[512], data[600], cmd[1200];
	double ours[RUNS], base[RUNS];
	struct rng r;
	FILE *fp;
	int have_jq = system("command -v jq >/dev/null 2>&1") == 0;

	progname = "reward-count_bench";
	snprintf(dir, sizeof dir, "%s/loam-rc-bench-XXXXXX", tmp);
	if (!mkdtemp(dir))
		die("mkdtemp failed");
	snprintf(data, sizeof data, "%s/steps.jsonl", dir);
	if (!(fp = fopen(data, "w")))
		die("%s: cannot create", data);
	rng_init(&r, 1, 0, 0);
	for (long i = 0; i < RECORDS; i++)
		fprintf(fp, "{\"progress\":[%.3f,%.3f,%.3f,%.3f],\"r\":0}\n", rng_uniform(&r),
		    rng_uniform(&r), rng_uniform(&r), rng_uniform(&r));
	fclose(fp);
	for (int i = 0; i < RUNS; i++) {
		snprintf(cmd, sizeof cmd, "%s/bin/reward-count -q -t 1 %s > /dev/null", out, data);
		ours[i] = RECORDS / time_command(cmd);
		if (have_jq) {
			snprintf(cmd, sizeof cmd, "jq -c .progress %s > /dev/null", data);
			base[i] = RECORDS / time_command(cmd);
		}
	}
	if (have_jq)
		printf("reward-count end to end, 4-d progress: %.2f M records/s (jq -c .progress: %.2f M/s; ratio %.1fx; goal >= 1M records/s)\n",
		    bench_median(ours, RUNS) / 1e6, bench_median(base, RUNS) / 1e6,
		    bench_median(ours, RUNS) / bench_median(base, RUNS));
	else
		printf("reward-count end to end, 4-d progress: %.2f M records/s (jq not installed; goal >= 1M records/s)\n",
		    bench_median(ours, RUNS) / 1e6);
	fflush(stdout);
	unlink(data);
	rmdir(dir);

	/* The core: hot keys, then 10^8 distinct ones. */
	{
		size_t n = 20000000, big = 100000000;
		uint64_t *keys = xmalloc(big * sizeof *keys);
		double hot[RUNS], cold[RUNS], with[RUNS], res[RUNS];

		for (size_t i = 0; i < n; i++)
			keys[i] = rng_next(&r) % 1000 * UINT64_C(0x9e3779b97f4a7c15);
		for (int i = 0; i < RUNS; i++)
			hot[i] = count_rate(keys, n, 0, NULL);
		for (size_t i = 0; i < big; i++)
			keys[i] = rng_next(&r);
		/* The table for 10^8 keys is 4 GiB; faulting it in costs from
		 * under 1 s to 10 s on a virtual machine whose host backs
		 * memory lazily.  rewardcount_reserve() does it before counting, so it
		 * is shown apart, and with it counted in. */
		for (int i = 0; i < RUNS; i++) {
			cold[i] = count_rate(keys, big, big, &res[i]);
			with[i] = big / (big / cold[i] + res[i]);
		}
		printf("reward-count counting core: %.1f M updates/s with 1000 keys in cache, %.1f M/s with 10^8 distinct keys (goals >= 25 and >= 10 M/s; reserving the table took %.1f s before: %.1f M/s with it)\n",
		    bench_median(hot, RUNS) / 1e6, bench_median(cold, RUNS) / 1e6,
		    bench_median(res, RUNS), bench_median(with, RUNS) / 1e6);
		fflush(stdout);

		/* Merge: two tables of 10^7 keys, half shared. */
		struct rewardcount_table a, b;
		uint64_t *counts = xmalloc(4096 * sizeof *counts);
		double t0, dt;

		table(&a, REWARDCOUNT_UPDATE_BATCH_SYNC);
		table(&b, REWARDCOUNT_UPDATE_BATCH_SYNC);
		rewardcount_reserve(&a, 15000000);
		rewardcount_reserve(&b, 10000000);
		for (size_t i = 0; i < 10000000; i += 4096) {
			size_t m = 10000000 - i < 4096 ? 10000000 - i : 4096;

			rewardcount_count_keys(&a, keys + i, m, counts);
			rewardcount_count_keys(&b, keys + 5000000 + i, m, counts);
		}
		rewardcount_end_batch(&a);
		rewardcount_end_batch(&b);
		t0 = bench_now();
		if (rewardcount_merge(&a, &b, "b") != 0)
			die("%s", loam_error());
		dt = bench_now() - t0;
		printf("reward-count merge of two 10^7-key tables: %.1f M keys/s (%.2f s; %zu keys after)\n",
		    10000000 / dt / 1e6, dt, rewardcount_entries(&a));
		rewardcount_release(&a);
		rewardcount_release(&b);
		free(counts);
		free(keys);
	}
	return cli_exit();
}
