/*
 * cookbook_bench - cookbook-gen's generation speed: docqa-span with
 * 64-token documents on one core, as records/s and MB/s, against the
 * physical bound of writing the same number of bytes (`head -c N
 * /dev/zero > /dev/null`), measured side by side; medians of 3 runs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "cli.h"

#define RECORDS 1000000
#define RUNS 3

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
	char cmd[512], line[64];
	double ours[RUNS], bound[RUNS], bytes;
	FILE *p;

	progname = "cookbook_bench";
	snprintf(cmd, sizeof cmd, "%s/bin/cookbook-gen gen -q -n %d -p doc_len=64 docqa-span | wc -c",
	    out, RECORDS);
	if (!(p = popen(cmd, "r")) || !fgets(line, sizeof line, p))
		die("cannot run: %s", cmd);
	pclose(p);
	bytes = atof(line);
	for (int i = 0; i < RUNS; i++) {
		snprintf(cmd, sizeof cmd, "%s/bin/cookbook-gen gen -q -n %d -p doc_len=64 docqa-span > /dev/null",
		    out, RECORDS);
		ours[i] = time_command(cmd);
		snprintf(cmd, sizeof cmd, "head -c %.0f /dev/zero > /dev/null", bytes);
		bound[i] = time_command(cmd);
	}
	double t = bench_median(ours, RUNS), b = bench_median(bound, RUNS);
	printf("cookbook-gen gen docqa-span, 64-token documents: %.2f M records/s, %.0f MB/s "
	    "(head -c of the same %.0f MB: %.0f MB/s; ratio %.2fx; goal >= 1M records/s and >= 200 MB/s)\n",
	    RECORDS / t / 1e6, bytes / t / 1e6, bytes / 1e6, bytes / b / 1e6, b / t);
	return cli_exit();
}
