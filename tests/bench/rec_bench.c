/*
 * rec_bench - JSON Lines throughput of lib/rec.
 *
 * Prints two lines:
 *  1. parse + re-emit of ~100-byte records by rec-cat (a process built on
 *     lib/rec), against `jq -c .` on the same file, both as processes
 *     reading a file and writing /dev/null;
 *  2. parse of records holding 1024-float arrays with the floats copied
 *     into a float buffer, through lib/rec, against json-c walking the
 *     same array element by element (the general path).
 * Each figure is the median of 5 runs, alternating the two sides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "bench.h"
#include "cli.h"
#include "rec.h"
#include "rng.h"

#define RUNS 5

static double
file_mb(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		die("%s: cannot stat", path);
	return st.st_size / 1e6;
}

static double
time_command(const char *cmd)
{
	double t0 = bench_now();

	if (system(cmd) != 0)
		die("command failed: %s", cmd);
	return bench_now() - t0;
}

static const char *words[] = {
	"alpha", "beta", "gamma", "delta", "café", "naïve", "tab\\there",
	"quote\\\"d", "emoji😀", "zeta", "eta", "theta", "iota", "kappa",
};

static void
write_small(const char *path, int n)
{
	FILE *fp = fopen(path, "w");
	struct rng r;

	if (!fp)
		die("%s: cannot create", path);
	rng_init(&r, 1, 0, 0);
	for (int i = 0; i < n; i++) {
		int nw = 3 + (int)rng_uniform_int(&r, 8);

		fprintf(fp, "{\"id\":%d,\"text\":\"", i);
		for (int w = 0; w < nw; w++)
			fprintf(fp, "%s%s", w ? " " : "",
			    words[rng_uniform_int(&r, sizeof words / sizeof *words)]);
		fprintf(fp, "\",\"skill\":\"s%d\",\"loss\":%.6g}\n",
		    (int)rng_uniform_int(&r, 23), rng_uniform(&r) * 4);
	}
	fclose(fp);
}

static void
write_embeddings(const char *path, int n, int d)
{
	FILE *fp = fopen(path, "w");
	struct rng r;

	if (!fp)
		die("%s: cannot create", path);
	rng_init(&r, 2, 0, 0);
	for (int i = 0; i < n; i++) {
		fprintf(fp, "{\"id\":%d,\"emb\":[", i);
		for (int j = 0; j < d; j++)
			fprintf(fp, "%s%.9g", j ? "," : "", (double)(float)rng_normal(&r));
		fputs("]}\n", fp);
	}
	fclose(fp);
}

/* lib/rec: parse each line and copy the floats out. */
static double
floats_rec(const char *path, int d, double *checksum)
{
	struct rec_reader rd;
	struct rec *r;
	float *buf = xmalloc(d * sizeof *buf);
	size_t n;
	double t0 = bench_now(), sum = 0;

	if (rec_reader_open(&rd, path) != 0)
		die("%s", loam_error());
	while (rec_next(&rd, &r) > 0) {
		if (rec_get_floats(r, "emb", buf, d, &n) != REC_OK)
			die("%s", loam_error());
		sum += buf[0] + buf[n - 1];
	}
	rec_reader_close(&rd);
	free(buf);
	*checksum = sum;
	return bench_now() - t0;
}

/* The baseline: json-c strict parse, then json_object_get_double on each
 * element, with the same line reading. */
static double
floats_jsonc(const char *path, int d, double *checksum)
{
	FILE *fp = fopen(path, "r");
	json_tokener *tok = json_tokener_new();
	float *buf = xmalloc(d * sizeof *buf);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	double t0 = bench_now(), sum = 0;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	while ((len = getline(&line, &cap, fp)) > 0) {
		json_object *obj, *emb;
		size_t n;

		json_tokener_reset(tok);
		obj = json_tokener_parse_ex(tok, line, (int)len - 1);
		if (!obj || !json_object_object_get_ex(obj, "emb", &emb))
			die("baseline parse failed");
		n = json_object_array_length(emb);
		for (size_t j = 0; j < n && j < (size_t)d; j++)
			buf[j] = (float)json_object_get_double(json_object_array_get_idx(emb, j));
		sum += buf[0] + buf[n - 1];
		json_object_put(obj);
	}
	free(line);
	free(buf);
	json_tokener_free(tok);
	fclose(fp);
	*checksum = sum;
	return bench_now() - t0;
}

/* rec-cat with rec_args against jq with jq_prog, as processes. */
static void
compare(const char *out, const char *file, double mb, const char *rec_args,
    const char *jq_prog, const char *what, int have_jq)
{
	double ours[RUNS], base[RUNS], o, b;
	char cmd[512];

	for (int i = 0; i < RUNS; i++) {
		snprintf(cmd, sizeof cmd, "%s/build/tests/tools/rec-cat %s %s > /dev/null",
		    out, rec_args, file);
		ours[i] = mb / time_command(cmd);
		if (have_jq) {
			snprintf(cmd, sizeof cmd, "jq -c '%s' %s > /dev/null", jq_prog, file);
			base[i] = mb / time_command(cmd);
		}
	}
	o = bench_median(ours, RUNS);
	if (!have_jq) {
		printf("rec %s, %.0f-byte records: %.0f MB/s (jq: not installed; goal >= 150 MB/s)\n",
		    what, mb * 1e6 / 400000, o);
		return;
	}
	b = bench_median(base, RUNS);
	printf("rec %s, %.0f-byte records: %.0f MB/s (jq -c '%s': %.1f MB/s; ratio %.1fx; goal >= 150 MB/s and >= 5x)\n",
	    what, mb * 1e6 / 400000, o, jq_prog, b, o / b);
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	char dir[] = "/tmp/loam-bench-XXXXXX", small[64], emb[64];
	const char *out = getenv("LOAM_OUT") ? getenv("LOAM_OUT") : ".";
	double ours[RUNS], base[RUNS], mb, c1, c2;
	int have_jq = system("command -v jq >/dev/null 2>&1") == 0;

	(void)argc;
	progname = "rec_bench";
	(void)argv;
	if (!mkdtemp(dir))
		die("mkdtemp failed");
	snprintf(small, sizeof small, "%s/small.jsonl", dir);
	snprintf(emb, sizeof emb, "%s/emb.jsonl", dir);

	write_small(small, 400000);
	mb = file_mb(small);
	compare(out, small, mb, "", ".", "validate+re-emit (pass-through)", have_jq);
	compare(out, small, mb, "--set k=1", ".k=1", "validate+add a field+re-emit (no tree)", have_jq);
	compare(out, small, mb, "--set id=1", ".id=1", "parse to tree+replace a field+re-emit", have_jq);

	write_embeddings(emb, 3000, 1024);
	mb = file_mb(emb);
	for (int i = 0; i < RUNS; i++) {
		ours[i] = mb / floats_rec(emb, 1024, &c1);
		base[i] = mb / floats_jsonc(emb, 1024, &c2);
		if (c1 != c2)
			die("float results differ: %.17g vs %.17g", c1, c2);
	}
	printf("rec parse of 1024-float records into float[]: %.0f MB/s (json-c element walk: %.0f MB/s; ratio %.2fx; goal >= 100 MB/s)\n",
	    bench_median(ours, RUNS), bench_median(base, RUNS), bench_median(ours, RUNS) / bench_median(base, RUNS));
	unlink(small);
	unlink(emb);
	rmdir(dir);
	return cli_exit();
}
