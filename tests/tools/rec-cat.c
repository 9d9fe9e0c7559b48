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
#include "recw.h"
#include "stream.h"

enum { OPT_SET = CLI_LONG, OPT_DEL, OPT_FLOATS, OPT_SKIP_BAD };

static const struct cli_option options[] = {
	{ OPT_SKIP_BAD, "skip-bad", NULL, NULL, "report and skip malformed lines" },
	{ OPT_SET, "set", "key=json", NULL, "add or replace a field with a JSON value" },
	{ OPT_DEL, "del", "key", NULL, "delete a field" },
	{ OPT_FLOATS, "floats", "key", NULL, "read key as an array of floats; add key_sum" },
	{ 'o', "output", "file", "FILE", "write to FILE atomically (default stdout)" },
	{ 'q', "quiet", NULL, NULL, "no summary" },
	CLI_OPTIONS_END
};
static const struct cli_spec spec = {
	NULL, "[file ...]", "Copy JSON Lines records, optionally editing fields.", options, NULL
};

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

struct cat {
	struct edits e;
	struct recw w;
};

static int
one(struct rec *r, void *arg)
{
	struct cat *c = arg;

	if (edit(r, &c->e) != 0)
		return -1;
	recw_rec(&c->w, r);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct cat c = { 0 };
	struct stream s;
	const char *arg;
	char *eq;
	int opt, skip_bad = 0;

	cli_begin(&o, argc, argv, &spec, 0);
	while ((opt = cli_next(&o, &arg)) != -1) {
		switch (opt) {
		case OPT_SET:
			if (!(eq = strchr(arg, '=')) || eq == arg)
				usage_error("--set: '%s' is not key=json", arg);
			*eq = '\0';
			c.e.set_key = arg;
			c.e.set_value = json_tokener_parse(eq + 1);
			if (!c.e.set_value && strcmp(eq + 1, "null") != 0)
				usage_error("--set: '%s' is not JSON", eq + 1);
			break;
		case OPT_DEL:
			c.e.del_key = arg;
			break;
		case OPT_FLOATS:
			c.e.floats_key = arg;
			break;
		case OPT_SKIP_BAD:
			skip_bad = 1;
			break;
		}
	}
	recw_init(&c.w, cli_out_open(&out, o.output), o.output);
	stream_init(&s, &o);
	s.skip_bad = skip_bad;
	s.what = "records";
	s.summary = o.output != NULL;
	stream_run(&s, o.argc, o.argv, one, &c);
	cli_out_commit(&out);
	recw_release(&c.w);
	free(c.e.fbuf);
	json_object_put(c.e.set_value);
	return cli_exit();
}
