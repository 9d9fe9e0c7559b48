/*
 * meteor-sim_bench - METEOR scoring throughput against NLTK.
 *
 * 3000 pairs of the SuperHF paper's test completions (the same pairs as
 * tests/meteor-sim.bats, from testdata/external/superhf), all three stages:
 * meteor-sim score against NLTK 3.8's meteor_score (tests/tools/nltk-meteor),
 * both as processes.  Each side is also timed on no input, and pairs/s is
 * (pairs) / (t(pairs) - t(none)): the scoring, without either side's
 * start-up (Python's imports, both WordNet loads).  Medians of 3 runs,
 * alternating.  Goal (issue 17): >= 50x NLTK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"

#define PAIRS 3000
#define RUNS 3

int
main(void)
{
	const char *out = getenv("LOAM_OUT") ? getenv("LOAM_OUT") : ".";
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[512], data[600], cmd[1400];
	double ours[RUNS], ours0[RUNS], base[RUNS], base0[RUNS];
	int have_nltk = system("/usr/bin/python3 -c 'import nltk' 2>/dev/null") == 0;

	progname = "meteor-sim_bench";
	snprintf(dir, sizeof dir, "%s/loam-meteor-bench-XXXXXX", tmp);
	if (!mkdtemp(dir))
		die("mkdtemp failed");
	snprintf(data, sizeof data, "%s/pairs.jsonl", dir);
	snprintf(cmd, sizeof cmd, "gzip -dc testdata/external/superhf/candidates.jsonl.gz | "
	    "jq -c -s '. as $a | range(%d) | {hypothesis: ($a[(. * 7919) %% 6400].completion | "
	    "split(\"\\n\\nAssistant:\")[1:] | join(\"\\n\\nAssistant:\")), reference: "
	    "($a[(. * 104729 + 13) %% 6400].completion | split(\"\\n\\nAssistant:\")[1:] | "
	    "join(\"\\n\\nAssistant:\"))}' > %s", PAIRS, data);
	if (system(cmd) != 0)
		die("cannot make the pairs (jq, testdata/external/superhf)");
	for (int i = 0; i < RUNS; i++) {
		snprintf(cmd, sizeof cmd, "%s/bin/meteor-sim score -q %s > /dev/null", out, data);
		ours[i] = bench_time_command(cmd);
		snprintf(cmd, sizeof cmd, "%s/bin/meteor-sim score -q < /dev/null > /dev/null", out);
		ours0[i] = bench_time_command(cmd);
		if (have_nltk) {
			snprintf(cmd, sizeof cmd, "tests/tools/nltk-meteor < %s > /dev/null", data);
			base[i] = bench_time_command(cmd);
			base0[i] = bench_time_command("tests/tools/nltk-meteor < /dev/null > /dev/null");
		}
	}
	{
		double t = bench_median(ours, RUNS), t0 = bench_median(ours0, RUNS);
		double rate = PAIRS / (t - t0);

		if (have_nltk) {
			double b = bench_median(base, RUNS), b0 = bench_median(base0, RUNS);
			double brate = PAIRS / (b - b0);

			printf("meteor-sim score, %d superhf pairs, exact+stem+synonym: %.0f pairs/s "
			    "(NLTK meteor_score: %.0f pairs/s; ratio %.0fx; with start-up %.2f s vs "
			    "%.2f s, %.0fx; goal >= 50x)\n", PAIRS, rate, brate, rate / brate, t, b, b / t);
		} else
			printf("meteor-sim score, %d superhf pairs: %.0f pairs/s (python3-nltk not "
			    "installed: no ratio)\n", PAIRS, rate);
	}
	unlink(data);
	rmdir(dir);
	return 0;
}
