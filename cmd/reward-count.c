/*
 * reward-count - count-based intrinsic rewards over LLM-written progress
 * estimates (Sarukkai et al., 2024), with SimHash (Tang et al., 2017) and
 * exact-state baselines and mergeable count tables; see reward-count(1).
 *
 * The counting core is lib/method/rewardcount.c; this file reads steps,
 * groups them into batches, writes rewards, and runs merge and dump.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "numfmt.h"
#include "rec.h"
#include "recw.h"
#include "rewardcount.h"
#include "stream.h"

enum {
	OPT_MODE = CLI_LONG, OPT_FIELD, OPT_BINS, OPT_TOTAL_BINS, OPT_RANGE, OPT_KEY,
	OPT_STAGE_OFFSETS, OPT_UPDATE, OPT_BONUS, OPT_LAMBDA, OPT_NORMALIZE, OPT_SCOPE,
	OPT_SIMHASH_BITS, OPT_QUANTUM, OPT_LOAD, OPT_SAVE, OPT_UNBUFFERED,
	OPT_MAX_LINE,
};

static const struct cli_option run_options[] = {
	{ 'q', "quiet", NULL, NULL, "no summary" },
	{ OPT_MODE, "mode", "progress|simhash|exact|progress-reward", "M",
	    "progress (default), simhash, exact, progress-reward" },
	{ OPT_FIELD, "field", "name", "NAME",
	    "the vector field (default progress; state for simhash, exact)" },
	{ OPT_BINS, "bins", "n[,n...]", "N,...", "levels per dimension (default 10)" },
	{ OPT_TOTAL_BINS, "total-bins", "n", "N", "levels shared out over the dimensions" },
	{ OPT_RANGE, "range", "min:max[,...]|warmup:n", "R",
	    "min:max per dimension, or warmup:N to estimate from N vectors" },
	{ OPT_KEY, "key", "tuple|sum", NULL, "bin key: the tuple, or the paper's sum of bins" },
	{ OPT_STAGE_OFFSETS, "stage-offsets", NULL, NULL,
	    "sum key: lift later subtasks above earlier ones" },
	{ OPT_UPDATE, "update", "batch-sync|before|after", "U",
	    "batch-sync (default), before, after" },
	{ OPT_BONUS, "bonus", "inv_sqrt|inv_sqrt_plus1", "B",
	    "inv_sqrt (default) or inv_sqrt_plus1" },
	{ OPT_LAMBDA, "lambda", "l", "L", "bonus scale (default 1e-3; 1 for progress-reward)" },
	{ OPT_NORMALIZE, "normalize", "mean", "M", "rescale each batch's bonuses to mean M" },
	{ OPT_SCOPE, "scope", "global|env|episode", "S", "global (default), env or episode" },
	{ OPT_SIMHASH_BITS, "simhash-bits", "k", "K", "SimHash code length (default 16)" },
	{ OPT_QUANTUM, "quantum", "q", "Q", "exact: quantisation step (default 0: the doubles)" },
	{ 's', "seed", "seed", "N", "seed of the SimHash projection" },
	{ OPT_LOAD, "load", "table", "F", "count table to start from" },
	{ OPT_SAVE, "save", "table", "F", "count table to write at the end" },
	{ OPT_UNBUFFERED, "unbuffered", NULL, NULL, "flush every output line (coprocess use)" },
	{ OPT_MAX_LINE, "max-line", "bytes", "N",
	    "the longest input line in bytes (default 1 GiB)" },
	{ 'o', "output", "file", "FILE", "write to FILE atomically" },
	CLI_OPTIONS_END
};
static const struct cli_spec run_spec = {
	NULL, "[file ...]",
	"Intrinsic rewards lambda/sqrt(N) from counts of binned progress (or states).",
	run_options,
	"Fields read: the vector, r (extrinsic reward), task, env, episode, iter (batch).\n"
};

/* merge's -o is not optional: the operands show it. */
static const struct cli_option merge_options[] = {
	{ 'q', "quiet", NULL, NULL, "no summary" },
	{ 'o', "output", "table", NULL, NULL },
	CLI_OPTIONS_END
};
static const struct cli_spec merge_spec = {
	"merge", "-o table table ...", "Add count tables into one (-o, written atomically).",
	merge_options, NULL
};

static const struct cli_option dump_options[] = {
	CLI_OPTIONS_END
};
static const struct cli_spec dump_spec = {
	"dump", "table", "Print a count table's entries as records, in key order.",
	dump_options, NULL
};

/* The last few numbers written, by their bits: bonuses repeat (they
 * depend on the count alone unless normalised), so the writer spells
 * most of them once. */
#define MEMO_SIZE 256
struct memo {
	uint64_t bits[MEMO_SIZE];
	unsigned char len[MEMO_SIZE];	/* 0: empty */
	char text[MEMO_SIZE][NUMFMT_DOUBLE_MAX];
};

/* The run: its settings, the table, and one record's vectors and
 * results (grown as needed). */
struct run {
	struct rewardcount_opts ro;	/* dims set from the first vector */
	const char *load, *save;
	uint32_t *bins;
	double *lo, *hi;
	size_t nbins, nrange;
	struct rewardcount_table t;
	int started, have_iter;
	uint64_t last_iter;
	size_t records;
	double *x;			/* n vectors of d */
	size_t xcap, n, d;
	int vectorised;
	uint64_t *space;		/* key, count, scope, task, bonus: ncap each */
	size_t ncap;
	uint64_t *key, *count, *scope, *task;
	double *bonus;
	struct recw w;
	struct memo memo;
};

/* "a:b,c:d" or "warmup:N" into the run's settings. */
static void
parse_range(struct run *u, const char *arg)
{
	char *copy, *cur, *p;

	u->nrange = 0;
	if (strncmp(arg, "warmup:", 7) == 0) {
		u->ro.range = REWARDCOUNT_RANGE_WARMUP;
		u->ro.warmup = cli_parse_u64("--range", arg + 7, 1, UINT64_MAX);
		return;
	}
	cur = copy = xstrdup(arg);
	while ((p = cli_list_next(&cur, ',', "--range", arg)) != NULL) {
		char *colon = strchr(p, ':');
		size_t n = u->nrange;

		if (!colon)
			usage_error("--range: '%s' is not min:max", p);
		*colon = '\0';
		u->lo = xreallocarray(u->lo, n + 1, sizeof *u->lo);
		u->hi = xreallocarray(u->hi, n + 1, sizeof *u->hi);
		u->lo[n] = cli_parse_double("--range", p, -1e300, 1e300);
		u->hi[n] = cli_parse_double("--range", colon + 1, -1e300, 1e300);
		/* the option's own mistake: a usage error, not a run's */
		if (!(u->lo[n] < u->hi[n]))
			usage_error("--range: '%s:%s' is empty: min must be below max",
			    p, colon + 1);
		u->nrange++;
	}
	free(copy);
	u->ro.range = REWARDCOUNT_RANGE_FIXED;
}

static void
parse_bins(struct run *u, const char *arg)
{
	char *copy = xstrdup(arg), *cur = copy, *p;

	while ((p = cli_list_next(&cur, ',', "--bins", arg)) != NULL) {
		u->bins = xreallocarray(u->bins, u->nbins + 1, sizeof *u->bins);
		u->bins[u->nbins++] = (uint32_t)cli_parse_u64("--bins", p, 1, UINT32_MAX);
	}
	free(copy);
}

/* The options into u->ro and the rest of u; the stream's line limit. */
static void
parse_options(struct cli_opts *o, struct run *u, size_t *max_line, int *unbuffered)
{
	const char *arg, *field = NULL;
	double lambda = -1;
	struct rewardcount_opts def;
	int c;

	rewardcount_opts_default(&u->ro, REWARDCOUNT_PROGRESS);
	while ((c = cli_next(o, &arg)) != -1) {
		switch (c) {
		case OPT_MODE:
			u->ro.mode = cli_parse_choice("--mode", arg, rewardcount_mode_names, 4);
			break;
		case OPT_FIELD: field = arg; break;
		case OPT_BINS: parse_bins(u, arg); break;
		case OPT_TOTAL_BINS:
			u->ro.total_bins = cli_parse_u64("--total-bins", arg, 1, UINT64_MAX);
			break;
		case OPT_RANGE: parse_range(u, arg); break;
		case OPT_KEY:
			u->ro.key = cli_parse_choice("--key", arg, rewardcount_key_names, 2);
			break;
		case OPT_STAGE_OFFSETS: u->ro.stage_offsets = 1; break;
		case OPT_UPDATE:
			u->ro.update = cli_parse_choice("--update", arg, rewardcount_update_names, 3);
			break;
		case OPT_BONUS:	/* inv_sqrt_n1 is the library's, not offered */
			u->ro.bonus = cli_parse_choice("--bonus", arg, rewardcount_bonus_names, 2);
			break;
		case OPT_LAMBDA: lambda = cli_parse_double("--lambda", arg, 0, 1e300); break;
		case OPT_NORMALIZE:
			u->ro.norm_mean = cli_parse_double("--normalize", arg, 1e-300, 1e300);
			break;
		case OPT_SCOPE:
			u->ro.scope = cli_parse_choice("--scope", arg, rewardcount_scope_names, 3);
			break;
		case OPT_SIMHASH_BITS:
			u->ro.simhash_bits = (unsigned)cli_parse_u64("--simhash-bits", arg, 1, 64);
			break;
		case OPT_QUANTUM:
			u->ro.quantum = cli_parse_double("--quantum", arg, 0, 1e300);
			break;
		case OPT_LOAD: u->load = arg; break;
		case OPT_SAVE: u->save = arg; break;
		case OPT_UNBUFFERED: *unbuffered = 1; break;
		case OPT_MAX_LINE:
			*max_line = (size_t)cli_parse_u64("--max-line", arg, 1, REC_LINE_HARD_MAX);
			break;
		}
	}
	/* The mode's own defaults for what was not given. */
	rewardcount_opts_default(&def, u->ro.mode);
	u->ro.lambda = lambda >= 0 ? lambda : def.lambda;
	if (!field)
		field = u->ro.mode == REWARDCOUNT_SIMHASH || u->ro.mode == REWARDCOUNT_EXACT ?
		    "state" : "progress";
	u->ro.field = field;
	u->ro.seed = o->seed;
	u->ro.task_join = 1;
	if (u->nbins > 1)
		u->ro.bins = u->bins;
	else if (u->nbins == 1)
		u->ro.bins_each = u->bins[0];
	u->ro.range_min = u->lo;
	u->ro.range_max = u->hi;
}

/* An integer-or-string field into a 64-bit id, 0 when absent.  Anything
 * else is refused rather than read as absent: -1, 1.5, null, true, [1]
 * and 2^64-1 would otherwise all share scope 0 with the records that have
 * no such field, and their counts would merge. */
static int
field_id(struct rec *r, const char *key, uint64_t *id)
{
	json_object *v = NULL;
	const char *s, *text;
	size_t len;
	int64_t i;
	int rc;

	*id = 0;
	rc = rec_get_str(r, key, &s, &len);
	if (rc == REC_OK) {
		*id = rewardcount_task_hash(s, len);
		return 0;
	}
	if (rc == REC_ABSENT)
		return 0;
	if (rec_get_int(r, key, &i) == REC_OK && i >= 0) {
		*id = (uint64_t)i + 1;
		return 0;
	}
	rec_get(r, key, &v);
	text = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null";
	len = strlen(text);
	return rec_errorf(r, "field '%s': expected a string or an integer in [0, 2^63), got %.*s%s",
	    key, (int)(len > 40 ? 40 : len), text, len > 40 ? "..." : "");
}

static void
grow_vectors(struct run *u, size_t cap)
{
	if (u->xcap < cap) {
		u->xcap = cap;
		u->x = xreallocarray(u->x, u->xcap, sizeof *u->x);
	}
}

/* The vector(s) of a record into u->x: u->n vectors of u->d. */
static int
read_vectors(struct run *u, struct rec *r)
{
	const char *field = u->ro.field;
	json_object *v, *e;
	size_t len;

	/* The common case, one vector, is read without building a tree. */
	grow_vectors(u, 64);
	u->vectorised = 0;
	u->n = 1;
	if (rec_get_doubles(r, field, u->x, u->xcap, &u->d) == REC_OK)
		return 0;
	/* Longer than the buffer: the length first, which a long array of
	 * numbers gives by counting its commas, so that a huge one is
	 * refused before anything is converted or allocated for it. */
	if (rec_get_array_len(r, field, &len) == REC_OK) {
		if (len > REWARDCOUNT_DIMS_MAX)
			return rec_errorf(r, "field '%s': %zu values, more than %d (vectors "
			    "and vectors per record are limited alike)", field, len,
			    REWARDCOUNT_DIMS_MAX);
		if (len > u->xcap) {
			grow_vectors(u, len);
			if (rec_get_doubles(r, field, u->x, u->xcap, &u->d) == REC_OK)
				return 0;
		}
	}
	if (rec_get(r, field, &v) != REC_OK || !v || !json_object_is_type(v, json_type_array))
		return rec_errorf(r, "field '%s': expected an array of numbers", field);
	len = json_object_array_length(v);
	e = len ? json_object_array_get_idx(v, 0) : NULL;
	u->vectorised = e && json_object_is_type(e, json_type_array);
	if (!u->vectorised) {
		u->d = len;
		grow_vectors(u, len + 1);
		for (size_t j = 0; j < len; j++)
			if (rec_json_double(json_object_array_get_idx(v, j), field, u->x + j) != 0)
				return rec_errorf(r, "%s", loam_error());
		return 0;
	}
	u->n = len;
	u->d = json_object_array_length(e);
	if (u->d > REWARDCOUNT_DIMS_MAX)
		return rec_errorf(r, "field '%s': vector 0 has %zu values, more than %d", field,
		    u->d, REWARDCOUNT_DIMS_MAX);
	grow_vectors(u, len * u->d + 1);
	for (size_t i = 0; i < len; i++) {
		json_object *row = json_object_array_get_idx(v, i);

		if (!row || !json_object_is_type(row, json_type_array) ||
		    json_object_array_length(row) != u->d)
			return rec_errorf(r, "field '%s': vector %zu has not %zu numbers", field,
			    i, u->d);
		for (size_t j = 0; j < u->d; j++)
			if (rec_json_double(json_object_array_get_idx(row, j), field,
			    u->x + i * u->d + j) != 0)
				return rec_errorf(r, "%s", loam_error());
	}
	return 0;
}

/* The table, once the first vector gives its dimension. */
static int
start_table(struct run *u, struct rec *r)
{
	u->ro.dims = u->d;
	if (u->nbins > 1 && u->nbins != u->d)
		return rec_errorf(r, "--bins gives %zu levels for %zu dimensions", u->nbins, u->d);
	if (u->nrange && u->nrange != u->d)
		return rec_errorf(r, "--range gives %zu ranges for %zu dimensions", u->nrange,
		    u->d);
	if (rewardcount_init(&u->t, &u->ro) != 0)
		die("%s", loam_error());
	if (u->load && rewardcount_load(&u->t, u->load) != 0)
		die("%s", loam_error());
	u->started = 1;
	return 0;
}

/* Each vector's scope id and task hash, from env, episode and task. */
static int
set_scopes(struct run *u, struct rec *r)
{
	uint64_t env, episode, task;

	if (u->n > u->ncap || !u->space) {
		u->ncap = u->n > 1 ? u->n : 1;
		u->space = xreallocarray(u->space, u->ncap, 5 * sizeof *u->space);
		u->key = u->space;
		u->count = u->key + u->ncap;
		u->scope = u->count + u->ncap;
		u->task = u->scope + u->ncap;
		u->bonus = (double *)(void *)(u->task + u->ncap);
	}
	if (field_id(r, "env", &env) != 0 || field_id(r, "episode", &episode) != 0 ||
	    field_id(r, "task", &task) != 0)
		return -1;
	for (size_t i = 0; i < u->n; i++) {
		uint64_t e = u->vectorised ? i + 1 : env;

		u->scope[i] = u->ro.scope == REWARDCOUNT_SCOPE_EPISODE ?
		    e * UINT64_C(0x9e3779b97f4a7c15) ^ episode : e;
		u->task[i] = task;
	}
	return 0;
}

/* A 64-bit key or id as 16 hex digits, as dumps (and long bins) show it. */
static void
write_hex(struct recw *w, const char *key, uint64_t v)
{
	char hex[24];

	snprintf(hex, sizeof hex, "%016llx", (unsigned long long)v);
	recw_str(w, key, hex);
}

/* Vector i's bin into the writer: its JSON text, or the key in hex when
 * the bin is too long to show. */
static void
write_bin(struct run *u, size_t i)
{
	char bt[8192];
	size_t n = rewardcount_bin_json(&u->t, u->x + i * u->d, bt, sizeof bt);

	if (n && n < sizeof bt)
		recw_raw(&u->w, NULL, bt, n);
	else
		write_hex(&u->w, NULL, u->key[i]);
}

/* The value the writer holds (value mode) as the record's field key. */
static int
set_value(struct run *u, struct rec *r, const char *key)
{
	size_t len;
	const char *s = recw_text(&u->w, &len);

	if (!s)
		return rec_errorf(r, "%s", loam_error());
	return rec_set_raw(r, key, s, len);
}

/* Set key to v, a number (through the memo). */
static int
set_number(struct run *u, struct rec *r, const char *key, double v)
{
	struct memo *m = &u->memo;
	uint64_t bits;
	size_t i;

	memcpy(&bits, &v, sizeof bits);
	i = (size_t)((bits * UINT64_C(0x9e3779b97f4a7c15)) >> 56);
	if (!m->len[i] || m->bits[i] != bits) {
		const char *s;
		size_t len;

		recw_begin_value(&u->w);
		recw_double(&u->w, key, v);
		if (!(s = recw_text(&u->w, &len)))
			return rec_errorf(r, "%s", loam_error());
		memcpy(m->text[i], s, len);
		m->len[i] = (unsigned char)len;
		m->bits[i] = bits;
	}
	return rec_set_raw(r, key, m->text[i], m->len[i]);
}

/* A one-vector record's bin, count, r_int and (with r) r_total.  The
 * keys given inside values name the field in the writer's refusals. */
static int
set_step(struct run *u, struct rec *r)
{
	double rext;
	/* r, when there, must be a number: "1.5" or [1] is not left out
	 * silently. */
	int has_r = rec_get_double(r, "r", &rext);

	if (has_r == REC_BAD)
		return rec_errorf(r, "%s", loam_error());
	recw_begin_value(&u->w);
	write_bin(u, 0);
	set_value(u, r, "bin");
	recw_begin_value(&u->w);
	recw_uint(&u->w, NULL, u->count[0]);
	set_value(u, r, "count");
	if (set_number(u, r, "r_int", u->bonus[0]) != 0 ||
	    (has_r == REC_OK && set_number(u, r, "r_total", rext + u->bonus[0]) != 0))
		return -1;
	return 0;
}

/* The same for a vectorised record: arrays of n. */
static int
set_batch(struct run *u, struct rec *r)
{
	json_object *rv = NULL;
	int rt = rec_get(r, "r", &rv) == REC_OK;

	/* r, when there, must be n numbers, one per vector. */
	if (rt && (!rv || !json_object_is_type(rv, json_type_array) ||
	    json_object_array_length(rv) != u->n))
		return rec_errorf(r, "field 'r': expected an array of %zu numbers, one per vector",
		    u->n);
	recw_begin_value(&u->w);
	recw_array(&u->w, NULL);
	for (size_t i = 0; i < u->n; i++)
		write_bin(u, i);
	recw_close(&u->w);
	set_value(u, r, "bin");
	recw_begin_value(&u->w);
	recw_uints(&u->w, NULL, u->count, u->n);
	set_value(u, r, "count");
	for (int total = 0; total < 1 + rt; total++) {
		const char *key = total ? "r_total" : "r_int";

		recw_begin_value(&u->w);
		recw_array(&u->w, NULL);
		for (size_t i = 0; i < u->n; i++) {
			double v = u->bonus[i], rr;

			if (total) {
				if (rec_json_double(json_object_array_get_idx(rv, i), "r", &rr) != 0)
					return rec_errorf(r, "%s", loam_error());
				v += rr;
			}
			recw_double(&u->w, key, v);
		}
		recw_close(&u->w);
		if (set_value(u, r, key) != 0)
			return -1;
	}
	return 0;
}

/* One record: its vectors counted and rewarded, the record written with
 * bin, count, r_int (and r_total). */
static int
one_record(struct rec *r, void *arg)
{
	struct run *u = arg;
	int64_t iter;
	int rc;

	if (read_vectors(u, r) != 0)
		return -1;
	if (!u->started && start_table(u, r) != 0)
		return -1;
	if (rewardcount_check_length(&u->t, u->d) != 0)
		return rec_errorf(r, "%s", loam_error());
	/* A new iter value closes the batch before it. */
	rc = rec_get_int(r, "iter", &iter);
	if (rc == REC_BAD)
		return rec_errorf(r, "%s", loam_error());
	if (rc == REC_OK) {
		if (u->have_iter && (uint64_t)iter != u->last_iter)
			rewardcount_end_batch(&u->t);
		u->have_iter = 1;
		u->last_iter = (uint64_t)iter;
	}
	if (set_scopes(u, r) != 0)
		return -1;
	if (rewardcount_step(&u->t, u->x, u->n, u->scope, u->task, u->key, u->count,
	    u->bonus) != 0)
		return rec_errorf(r, "%s", loam_error());
	if (rc != REC_OK)
		rewardcount_end_batch(&u->t);	/* no iter: a record is a batch */
	if ((u->vectorised ? set_batch(u, r) : set_step(u, r)) != 0)
		return -1;
	recw_rec(&u->w, r);
	u->records++;
	return 0;
}

static int
cmd_run(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct stream s;
	struct run u = { 0 };
	size_t max_line = REC_LINE_MAX;
	int unbuffered = 0;

	cli_begin(&o, argc, argv, &run_spec, 0);
	parse_options(&o, &u, &max_line, &unbuffered);
	recw_init(&u.w, cli_out_open(&out, o.output), o.output);
	u.w.unbuffered = unbuffered;
	stream_init(&s, &o);
	s.max_line = max_line;
	stream_run(&s, o.argc, o.argv, one_record, &u);
	cli_out_commit(&out);
	if (u.started) {
		rewardcount_end_batch(&u.t);
		if (u.save && rewardcount_save(&u.t, u.save) != 0)
			die("%s", loam_error());
		if (!o.quiet)
			note("%zu records, %zu distinct keys", u.records, rewardcount_entries(&u.t));
		rewardcount_release(&u.t);
	} else if (u.save) {
		note("no records: %s not written", u.save);
	}
	recw_release(&u.w);
	free(u.bins);
	free(u.lo);
	free(u.hi);
	free(u.x);
	free(u.space);
	return cli_exit();
}

static int
cmd_merge(int argc, char *argv[])
{
	struct cli_opts o;
	struct rewardcount_table t, u;
	const char *arg;

	cli_begin(&o, argc, argv, &merge_spec, 0);
	while (cli_next(&o, &arg) != -1)
		;
	if (!o.output)
		usage_error("merge needs -o file");
	if (o.argc < 1)
		usage_error("merge needs tables");
	if (rewardcount_open(&t, o.argv[0]) != 0)
		die("%s", loam_error());
	for (int i = 1; i < o.argc; i++) {
		if (rewardcount_open(&u, o.argv[i]) != 0)
			die("%s", loam_error());
		if (rewardcount_merge(&t, &u, o.argv[i]) != 0)
			die("%s", loam_error());
		rewardcount_release(&u);
	}
	if (rewardcount_save(&t, o.output) != 0)
		die("%s", loam_error());
	if (!o.quiet)
		note("%d table%s merged: %zu distinct keys", o.argc, o.argc == 1 ? "" : "s",
		    rewardcount_entries(&t));
	rewardcount_release(&t);
	return cli_exit();
}

static int
cmd_dump(int argc, char *argv[])
{
	struct cli_opts o;
	struct rewardcount_table t;
	struct rewardcount_dump dm;
	struct rewardcount_entry e;
	struct recw w;
	const char *arg;

	cli_begin(&o, argc, argv, &dump_spec, 0);
	while (cli_next(&o, &arg) != -1)
		;
	if (o.argc != 1)
		usage_error("dump takes one table");
	if (rewardcount_open(&t, o.argv[0]) != 0)
		die("%s", loam_error());
	recw_init(&w, stdout, NULL);
	rewardcount_dump_init(&dm, &t);
	while (rewardcount_dump_next(&dm, &e)) {
		recw_begin(&w);
		write_hex(&w, "key", e.key);
		recw_uint(&w, "count", e.count);
		if (e.bin)
			recw_raw(&w, "bin", e.bin, strlen(e.bin));
		if (e.has_scope)
			write_hex(&w, "scope", e.scope);
		if (e.has_task)
			write_hex(&w, "task", e.task);
		if (recw_end(&w) != 0)
			die("%s", loam_error());
	}
	recw_release(&w);
	rewardcount_dump_release(&dm);
	rewardcount_release(&t);
	return cli_exit();
}

int
main(int argc, char *argv[])
{
	static const struct cli_command commands[] = {
		{ "merge", cmd_merge, &merge_spec },
		{ "dump", cmd_dump, &dump_spec },
	};

	return cli_subcommand(argc, argv, commands, sizeof commands / sizeof *commands,
	    cmd_run, NULL, NULL);
}
