/*
 * superhf-filter_bench - best-of-n filtering throughput.
 *
 * 10^6 candidates of about 300 bytes in groups of 16 (a generator's
 * superbatches), top-1 per group: superhf-filter against jq doing the same
 * (group_by the prompt, the first of the highest scores), both as
 * processes reading a file and writing /dev/null.  Medians of 3 runs,
 * alternating the two sides.  Goals (issue 17): >= 20x jq, >= 100 MB/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "rng.h"

#define RECORDS 1000000
#define GROUP 16
#define RUNS 3

int
main(void)
{
	const char *out = getenv("LOAM_OUT") ? getenv("LOAM_OUT") : ".";
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	static const char *words[] = { "the", "model", "answer", "helpful", "question",
	    "because", "would", "please", "sorry", "information", "can", "you" };
	char dir[512], data[600], cmd[1400], text[400];
	double ours[RUNS], base[RUNS], mb;
	int have_jq = system("command -v jq >/dev/null 2>&1") == 0;
	struct stat st;
	struct rng r;
	FILE *fp;

	progname = "superhf-filter_bench";
	snprintf(dir, sizeof dir, "%s/loam-shf-bench-XXXXXX", tmp);
	if (!mkdtemp(dir))
		die("mkdtemp failed");
	snprintf(data, sizeof data, "%s/candidates.jsonl", dir);
	if (!(fp = fopen(data, "w")))
		die("%s: cannot create", data);
	rng_init(&r, 1, 0, 0);
	for (long i = 0; i < RECORDS; i++) {
		size_t at = 0;

		while (at < 200)
			at += (size_t)snprintf(text + at, sizeof text - at, "%s ",
			    words[rng_uniform_int(&r, sizeof words / sizeof *words)]);
		text[at - 1] = '\0';
		fprintf(fp, "{\"prompt_id\":\"p%ld\",\"dataset\":\"bench\",\"completion\":"
		    "\"%s\",\"score\":%.4f}\n", i / GROUP, text, rng_normal(&r));
	}
	fclose(fp);
	if (stat(data, &st) != 0)
		die("%s: cannot stat", data);
	mb = (double)st.st_size / 1e6;
	for (int i = 0; i < RUNS; i++) {
		/* --meteor-pairs 0: jq computes no METEOR similarity either
		 * (meteor-sim_bench times that part). */
		snprintf(cmd, sizeof cmd, "%s/bin/superhf-filter -q --meteor-pairs 0 %s > /dev/null",
		    out, data);
		ours[i] = bench_time_command(cmd);
		if (have_jq) {
			snprintf(cmd, sizeof cmd, "jq -c -s 'group_by(.prompt_id) | "
			    "map(sort_by(-.score) | .[0]) | .[]' %s > /dev/null", data);
			base[i] = bench_time_command(cmd);
		}
	}
	{
		double t = bench_median(ours, RUNS);

		if (have_jq) {
			double b = bench_median(base, RUNS);

			printf("superhf-filter top-1 of 16, 10^6 candidates of %.0f bytes: %.2f M records/s, "
			    "%.0f MB/s (jq group_by: %.3f M/s; ratio %.1fx; goals >= 20x and >= 100 MB/s)\n",
			    mb * 1e6 / RECORDS, RECORDS / t / 1e6, mb / t, RECORDS / b / 1e6, b / t);
		} else
			printf("superhf-filter top-1 of 16, 10^6 candidates: %.2f M records/s, %.0f MB/s "
			    "(jq not installed; goal >= 100 MB/s)\n", RECORDS / t / 1e6, mb / t);
	}
	unlink(data);
	rmdir(dir);
	return 0;
}
