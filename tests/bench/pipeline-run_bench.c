/*
 * pipeline-run_bench - a three-stage pass-through pipeline (cat | cat |
 * cat) moving 2 GB from a file to a file, run by pipeline-run and by bash,
 * side by side in one run (medians of 5, in rotated order).  Both read and
 * write the same files on the same disk.  Figures:
 *  - pipeline-run --force --no-sync against `bash -c 'cat < in | cat |
 *    cat > out'`: the pipes themselves, plus pipeline-run's plan, stamp
 *    check (the input's hash comes from the stamp: same size, mtime,
 *    inode), temporary file and rename;
 *  - pipeline-run --force (fsync before the rename, the default) against
 *    the same bash pipeline followed by `sync out`;
 *  - a cold run: no stamp, so the 2 GB input is read and hashed first.
 * Before each run, sync and a read of the input start it alike.
 * The data are made in $TMPDIR (default /tmp) and removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"

#define RUNS 5
#define BYTES 2000000000ULL

static char warm_cmd[700];

/* Seconds cmd took, after writing back what earlier runs left dirty and
 * reading the input once (so that every run starts alike: the VM's
 * memory reclaim drops cached files between runs, and a run that read
 * the input from disk would be slower for it). */
static double
time_command(const char *cmd)
{
	double t0;

	sync();
	if (warm_cmd[0] && system(warm_cmd) != 0)
		die("command failed: %s", warm_cmd);
	t0 = bench_now();

	if (system(cmd) != 0)
		die("command failed: %s", cmd);
	return bench_now() - t0;
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	const char *out = getenv("LOAM_OUT") ? getenv("LOAM_OUT") : ".";
	char dir[512], path[600], cmd[2048], pr[600];
	double t_bash[RUNS], t_pr[RUNS], t_bash_sync[RUNS], t_pr_sync[RUNS], t_cold[RUNS];
	char *line;
	FILE *fp;

	snprintf(dir, sizeof dir, "%s/loam-pipeline-bench-XXXXXX", tmp);
	if (!mkdtemp(dir))
		die("%s: cannot make a directory", dir);
	if (out[0] == '/')
		snprintf(pr, sizeof pr, "%s/bin/pipeline-run", out);
	else {
		char cwd[400];

		if (!getcwd(cwd, sizeof cwd))
			die("getcwd failed");
		snprintf(pr, sizeof pr, "%s/%s/bin/pipeline-run", cwd, out);
	}

	/* 2 GB of JSON Lines-looking text, 100 bytes a line. */
	snprintf(path, sizeof path, "%s/in.jsonl", dir);
	if (!(fp = fopen(path, "w")))
		die("%s: cannot create", path);
	line = xmalloc(1 << 20);
	for (size_t i = 0; i < (1 << 20) / 100; i++)
		snprintf(line + i * 100, 101, "{\"id\":%09zu,\"text\":\"%-64s\"}\n", i,
		    "a pass-through pipeline moves these bytes unchanged");
	for (unsigned long long done = 0; done < BYTES; done += (1 << 20) / 100 * 100)
		if (fwrite(line, 1, (1 << 20) / 100 * 100, fp) != (1 << 20) / 100 * 100)
			die("%s: write failed", path);
	if (fclose(fp) != 0)
		die("%s: write failed", path);
	free(line);
	snprintf(path, sizeof path, "%s/p.yaml", dir);
	if (!(fp = fopen(path, "w")))
		die("%s: cannot create", path);
	fputs("stages:\n"
	    "  - {name: a, run: [cat], stdin: in.jsonl}\n"
	    "  - {name: b, run: [cat]}\n"
	    "  - {name: c, run: [cat], stdout: out.jsonl}\n", fp);
	fclose(fp);

	/* A first run makes the stamp.  Then each round runs the five
	 * variants in a rotated order, so that none always follows the same
	 * one. */
	snprintf(cmd, sizeof cmd, "cd %s && %s -q --no-sync p.yaml", dir, pr);
	time_command(cmd);
	snprintf(warm_cmd, sizeof warm_cmd, "cat %s/in.jsonl > /dev/null", dir);
	for (int r = 0; r < RUNS; r++)
		for (int k = 0; k < 5; k++)
			switch ((k + r) % 5) {
			case 0:
				snprintf(cmd, sizeof cmd, "cd %s && bash -c 'cat < in.jsonl | cat | cat > out2.jsonl'", dir);
				t_bash[r] = time_command(cmd);
				break;
			case 1:
				snprintf(cmd, sizeof cmd, "cd %s && %s -q --force --no-sync p.yaml", dir, pr);
				t_pr[r] = time_command(cmd);
				break;
			case 2:
				snprintf(cmd, sizeof cmd, "cd %s && bash -c 'cat < in.jsonl | cat | cat > out2.jsonl && sync out2.jsonl'", dir);
				t_bash_sync[r] = time_command(cmd);
				break;
			case 3:
				snprintf(cmd, sizeof cmd, "cd %s && %s -q --force p.yaml", dir, pr);
				t_pr_sync[r] = time_command(cmd);
				break;
			default:
				snprintf(cmd, sizeof cmd, "cd %s && rm -f .out.jsonl.stamp && %s -q --no-sync p.yaml", dir, pr);
				t_cold[r] = time_command(cmd);
			}
	snprintf(cmd, sizeof cmd, "cmp -s %s/in.jsonl %s/out.jsonl", dir, dir);
	if (system(cmd) != 0)
		die("pipeline-run's output differs from its input");
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		die("cannot remove %s", dir);
	{
		double mb = (double)BYTES / 1e6, best_bash = t_bash[0], best_pr = t_pr[0];

		for (int r = 1; r < RUNS; r++) {
			best_bash = t_bash[r] < best_bash ? t_bash[r] : best_bash;
			best_pr = t_pr[r] < best_pr ? t_pr[r] : best_pr;
		}
		fprintf(stderr, "# pipeline-run bench: fastest runs: bash %.0f, pipeline-run %.0f MB/s "
		    "(%.2fx)\n", mb / best_bash, mb / best_pr, best_bash / best_pr);
	}
	{
		double mb = (double)BYTES / 1e6;
		double bash = mb / bench_median(t_bash, RUNS), prr = mb / bench_median(t_pr, RUNS);
		double bs = mb / bench_median(t_bash_sync, RUNS), ps = mb / bench_median(t_pr_sync, RUNS);
		double cold = mb / bench_median(t_cold, RUNS);

		fprintf(stderr, "# pipeline-run bench: bash %.0f, pipeline-run %.0f, bash+sync %.0f, "
		    "pipeline-run fsync %.0f, cold %.0f MB/s\n", bash, prr, bs, ps, cold);
		printf("pipeline-run cat|cat|cat, 2 GB file to file: %.0f MB/s (bash %.0f MB/s; ratio %.2fx; "
		    "goal >= 0.95x); with fsync %.0f MB/s (bash + sync %.0f; %.2fx); cold, input hashed "
		    "first: %.0f MB/s (%.2fx bash)\n", prr, bash, prr / bash, ps, bs, ps / bs, cold,
		    cold / bash);
	}
	return 0;
}
