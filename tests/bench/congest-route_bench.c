/*
 * congest-route_bench - the router's decisions per second.
 *
 * 10^6 requests on two routes with Δ = 3, each answered by its feedback
 * two requests later (2 x 10^6 lines): congest-route route (carmab) as a
 * process reading a file and writing a file, against the same policy in
 * plain Python (tests/bench/congest_route.py: json.loads, the plan's
 * table at the window, the means and epoch counts by t, a new plan when
 * an epoch ends; Debian python3) in the same run, whose decisions are
 * checked to be ours byte for byte.  Medians of 3 runs, alternating the
 * two sides.  Goal (issue 18): >= 1M decisions/s on one core, JSON
 * reading included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"

#define REQUESTS 1000000
#define RUNS 3

/* plan's time at K^Δ = 10^4, 10^5, 10^6 states (10 arms, Δ = 4, 5, 6;
 * decreasing profiles from a fixed LCG): how it grows with the states. */
static void
plan_growth(const char *out, const char *dir)
{
	double t[3];
	char path[600], cmd[1400];
	unsigned long s = 12345;

	snprintf(path, sizeof path, "%s/profiles.json", dir);
	for (int d = 4; d <= 6; d++) {
		double runs[RUNS];
		FILE *fp = fopen(path, "w");

		if (!fp)
			die("%s: cannot create", path);
		fputc('{', fp);
		for (int a = 0; a < 10; a++) {
			double v = 1;

			fprintf(fp, "%s\"a%d\":[", a ? "," : "", a);
			for (int c = 0; c <= d; c++) {
				s = (s * 1103515245 + 12345) % 2147483648UL;
				fprintf(fp, "%s%.4f", c ? "," : "", v);
				v *= 0.5 + 0.5 * (double)s / 2147483648.0;
			}
			fputc(']', fp);
		}
		fputs("}\n", fp);
		fclose(fp);
		snprintf(cmd, sizeof cmd, "%s/bin/congest-route plan --max-states 2000000 "
		    "--profiles %s > /dev/null", out, path);
		for (int i = 0; i < RUNS; i++)
			runs[i] = bench_time_command(cmd);
		t[d - 4] = bench_median(runs, RUNS);
	}
	unlink(path);
	printf("congest-route plan, 10 arms, K^Δ = 10^4 / 10^5 / 10^6 states: %.3f / %.3f / %.2f s "
	    "(x%.1f, x%.1f per x10 states)\n", t[0], t[1], t[2], t[1] / t[0], t[2] / t[1]);
}

int
main(void)
{
	const char *out = getenv("LOAM_OUT") ? getenv("LOAM_OUT") : ".";
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[512], data[600], res[600], pyres[600], cmd[2000];
	double ours[RUNS], base[RUNS];
	int same = 0, have_py = system("command -v python3 >/dev/null 2>&1") == 0;
	FILE *fp;

	progname = "congest-route_bench";
	snprintf(dir, sizeof dir, "%s/loam-congest-bench-XXXXXX", tmp);
	if (!mkdtemp(dir))
		die("mkdtemp failed");
	snprintf(data, sizeof data, "%s/requests.jsonl", dir);
	snprintf(res, sizeof res, "%s/decisions.jsonl", dir);
	snprintf(pyres, sizeof pyres, "%s/decisions-py.jsonl", dir);
	if (!(fp = fopen(data, "w")))
		die("%s: cannot create", data);
	for (long t = 1; t <= REQUESTS; t++) {
		fprintf(fp, "{\"type\":\"request\",\"t\":%ld}\n", t);
		if (t > 2)
			fprintf(fp, "{\"type\":\"feedback\",\"t\":%ld,\"reward\":%.3f}\n", t - 2,
			    (double)((t * 7919) % 1000) / 1000);
	}
	fclose(fp);
	for (int i = 0; i < RUNS; i++) {
		snprintf(cmd, sizeof cmd, "%s/bin/congest-route route -q --arms r1,r2 --window 3 "
		    "-o %s %s", out, res, data);
		ours[i] = bench_time_command(cmd);
		if (have_py) {
			snprintf(cmd, sizeof cmd, "python3 tests/bench/congest_route.py r1,r2 3 < %s > %s",
			    data, pyres);
			base[i] = bench_time_command(cmd);
		}
	}
	/* the same policy: the same decisions, ours followed by the summary */
	snprintf(cmd, sizeof cmd, "head -n -1 %s | cmp -s - %s", res, pyres);
	same = have_py && system(cmd) == 0;
	{
		double t = bench_median(ours, RUNS);

		if (have_py) {
			double b = bench_median(base, RUNS);

			printf("congest-route route, 10^6 requests and their feedback (2 routes, Δ = 3): "
			    "%.2f M decisions/s (Python json loop of the same policy: %.3f M/s, %s; "
			    "ratio %.1fx; goal >= 1 M/s)\n", REQUESTS / t / 1e6, REQUESTS / b / 1e6,
			    same ? "the same decisions" : "DECISIONS DIFFER", b / t);
		} else
			printf("congest-route route, 10^6 requests and their feedback: %.2f M decisions/s "
			    "(python3 not installed; goal >= 1 M/s)\n", REQUESTS / t / 1e6);
	}
	plan_growth(out, dir);
	unlink(data);
	unlink(res);
	unlink(pyres);
	rmdir(dir);
	return 0;
}
