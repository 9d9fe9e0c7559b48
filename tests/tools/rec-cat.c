/*
 * rec-cat - copy JSON Lines records through lib/rec and lib/cli.
 *
 * A test and benchmark driver for the foundation, not an installed
 * program: it exercises everything a loam command shares (options, error
 * messages, exit codes, atomic -o, --skip-bad, EPIPE, checked close)
 * without any method on top.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rec.h"

static const char usage[] =
    "usage: rec-cat [-hqV] [--skip-bad] [--set key=json] [--del key]\n"
    "               [--floats key] [-o file] [file ...]\n";
static const char help[] =
    "Copy JSON Lines records, optionally editing fields.\n"
    "  --set key=json   add or replace a field with a JSON value\n"
    "  --del key        delete a field\n"
    "  --floats key     read key as an array of floats; add key_sum\n"
    "  --skip-bad       report and skip malformed lines\n"
    "  -o, --output F   write to F atomically (default stdout)\n"
    "  -q, --quiet      no summary\n"
    "  -h, --help       this help\n"
    "  -V, --version    print the version\n";

enum { OPT_SET = 256, OPT_DEL, OPT_FLOATS, OPT_SKIP_BAD };

struct edits {
	const char *set_key;
	json_object *set_value;	/* parsed once; NULL is JSON null */
	const char *del_key;
	const char *floats_key;
	float *fbuf;
	size_t fcap;
};

static int
edit(struct rec *r, struct edits *e)
{
	if (e->floats_key) {
		size_t n, i;
		double sum = 0;
		int rc = rec_get_array_len(r, e->floats_key, &n);

		if (rc == REC_ABSENT)
			return rec_errorf(r, "field '%s' missing", e->floats_key);
		if (rc == REC_BAD)
			return rec_errorf(r, "%s", loam_error());
		if (n > e->fcap) {
			e->fcap = n;
			e->fbuf = xreallocarray(e->fbuf, n, sizeof *e->fbuf);
		}
		if (rec_get_floats(r, e->floats_key, e->fbuf, e->fcap, &n) != REC_OK)
			return rec_errorf(r, "%s", loam_error());
		for (i = 0; i < n; i++)
			sum += e->fbuf[i];
		char key[300];
		snprintf(key, sizeof key, "%s_sum", e->floats_key);
		if (rec_set_double(r, key, sum) != 0)
			return rec_errorf(r, "%s", loam_error());
	}
	if (e->set_key) {
		int rc = e->set_value ?
		    rec_set_json(r, e->set_key, json_object_get(e->set_value)) :
		    rec_set_null(r, e->set_key);
		if (rc != 0)
			return rec_errorf(r, "%s", loam_error());
	}
	if (e->del_key)
		rec_del(r, e->del_key);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "set", required_argument, NULL, OPT_SET },
		{ "del", required_argument, NULL, OPT_DEL },
		{ "floats", required_argument, NULL, OPT_FLOATS },
		{ "skip-bad", no_argument, NULL, OPT_SKIP_BAD },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	struct cli_out out;
	struct edits e = { 0 };
	struct progress prog;
	struct rec_reader rd;
	struct rec *r;
	int c, skip_bad = 0, rc, i;
	unsigned long bad = 0;
	char *eq;
	FILE *fp;

	cli_init(&o, argc, argv, usage, help, 0);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SET:
			if (!(eq = strchr(optarg, '=')) || eq == optarg)
				usage_error("--set: '%s' is not key=json", optarg);
			*eq = '\0';
			e.set_key = optarg;
			e.set_value = json_tokener_parse(eq + 1);
			if (!e.set_value && strcmp(eq + 1, "null") != 0)
				usage_error("--set: '%s' is not JSON", eq + 1);
			break;
		case OPT_DEL:
			e.del_key = optarg;
			break;
		case OPT_FLOATS:
			e.floats_key = optarg;
			break;
		case OPT_SKIP_BAD:
			skip_bad = 1;
			break;
		default:
			cli_common_option(&o, c);
		}
	}
	argc -= optind;
	argv += optind;

	fp = cli_out_open(&out, o.output);
	progress_init(&prog, "records", 0, o.quiet);
	for (i = 0; i < (argc ? argc : 1); i++) {
		if (rec_reader_open(&rd, argc ? argv[i] : "-") != 0) {
			cli_warn("%s", loam_error());
			continue;
		}
		while ((rc = rec_next(&rd, &r)) != 0) {
			if (rc < 0) {
				if (!skip_bad || rd.error)
					die("%s", loam_error());
				note("%s", loam_error());
				bad++;
				continue;
			}
			if (edit(r, &e) != 0)
				die("%s", loam_error());
			if (rec_write(r, fp) != 0)
				cli_write_failed(o.output ? o.output : "stdout");
			progress_update(&prog, prog.done + 1);
		}
		rec_reader_close(&rd);
	}
	cli_out_commit(&out);
	if (bad)
		note("skipped %lu bad line%s", bad, bad == 1 ? "" : "s");
	if (!o.quiet && o.output)
		progress_end(&prog);
	free(e.fbuf);
	json_object_put(e.set_value);
	return cli_exit();
}
