/*
 * reward-count - count-based intrinsic rewards over LLM-written progress
 * estimates (Sarukkai et al., 2024), with SimHash (Tang et al., 2017) and
 * exact-state baselines and mergeable count tables; see reward-count(1).
 *
 * The counting core is lib/method/rewardcount.c; this file reads steps, groups
 * them into batches, writes rewards, and runs merge and dump.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/printbuf.h>

#include "cli.h"
#include "numfmt.h"
#include "rec.h"
#include "rewardcount.h"

static const char usage[] =
    "usage: reward-count [-q] [--mode progress|simhash|exact|progress-reward]\n"
    "                    [--field name] [--bins n[,n...]] [--total-bins n]\n"
    "                    [--range min:max[,...]|warmup:n] [--key tuple|sum] [--stage-offsets]\n"
    "                    [--update batch-sync|before|after] [--bonus inv_sqrt|inv_sqrt_plus1]\n"
    "                    [--lambda l] [--normalize mean] [--scope global|env|episode]\n"
    "                    [--simhash-bits k] [--quantum q] [-s seed] [--load file]\n"
    "                    [--save file] [--unbuffered] [--max-line bytes] [-o file]\n"
    "                    [file ...]\n"
    "       reward-count merge [-q] -o file table ...\n"
    "       reward-count dump [-q] table\n";
static const char help[] =
    "Intrinsic rewards lambda/sqrt(N) from counts of binned progress (or states).\n"
    "  --mode M            progress (default), simhash, exact, progress-reward\n"
    "  --field NAME        the vector field (default progress; state for simhash, exact)\n"
    "  --bins N,...        levels per dimension (default 10)\n"
    "  --total-bins N      levels shared out over the dimensions\n"
    "  --range R           min:max per dimension, or warmup:N to estimate from N vectors\n"
    "  --key tuple|sum     bin key: the tuple, or the paper's sum of bins\n"
    "  --update U          batch-sync (default), before, after\n"
    "  --bonus B           inv_sqrt (default) or inv_sqrt_plus1\n"
    "  --lambda L          bonus scale (default 1e-3; 1 for progress-reward)\n"
    "  --normalize M       rescale each batch's bonuses to mean M\n"
    "  --scope S           global (default), env or episode\n"
    "  --simhash-bits K    SimHash code length (default 16)\n"
    "  --quantum Q         exact: quantisation step (default 0: the doubles)\n"
    "  --load F, --save F  count table to start from, and to write at the end\n"
    "  --unbuffered        flush every output line (coprocess use)\n"
    "  --max-line N        the longest input line in bytes (default 1 GiB)\n"
    "  -s, --seed N        seed of the SimHash projection\n"
    "  -o, --output FILE   write to FILE atomically\n"
    "  -q, --quiet         no summary\n"
    "  -h, --help          this help\n"
    "  -V, --version       print the version\n"
    "Fields read: the vector, r (extrinsic reward), task, env, episode, iter (batch).\n";

enum {
	OPT_MODE = 256, OPT_FIELD, OPT_BINS, OPT_TOTAL_BINS, OPT_RANGE, OPT_KEY,
	OPT_STAGE_OFFSETS, OPT_UPDATE, OPT_BONUS, OPT_LAMBDA, OPT_NORMALIZE, OPT_SCOPE,
	OPT_SIMHASH_BITS, OPT_QUANTUM, OPT_LOAD, OPT_SAVE, OPT_UNBUFFERED,
	OPT_MAX_LINE,
};

/* "a:b,c:d" or "warmup:N" into the options; D from the pairs. */
static size_t
parse_range(struct rewardcount_opts *o, const char *arg, double **lo, double **hi)
{
	size_t n = 0;
	char *copy, *cur, *p;

	if (strncmp(arg, "warmup:", 7) == 0) {
		o->range = REWARDCOUNT_RANGE_WARMUP;
		o->warmup = cli_parse_u64("--range", arg + 7, 1, UINT64_MAX);
		return 0;
	}
	cur = copy = xstrdup(arg);
	while ((p = cli_list_next(&cur, ',', "--range", arg)) != NULL) {
		char *colon = strchr(p, ':');

		if (!colon)
			usage_error("--range: '%s' is not min:max", p);
		*colon = '\0';
		*lo = xreallocarray(*lo, n + 1, sizeof **lo);
		*hi = xreallocarray(*hi, n + 1, sizeof **hi);
		(*lo)[n] = cli_parse_double("--range", p, -1e300, 1e300);
		(*hi)[n] = cli_parse_double("--range", colon + 1, -1e300, 1e300);
		/* the option's own mistake: a usage error, not a run's */
		if (!((*lo)[n] < (*hi)[n]))
			usage_error("--range: '%s:%s' is empty: min must be below max",
			    p, colon + 1);
		n++;
	}
	free(copy);
	o->range = REWARDCOUNT_RANGE_FIXED;
	return n;
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

/* The vector(s) of a record into *x (grown as needed): n vectors of d. */
static int
read_vectors(struct rec *r, const char *field, double **x, size_t *cap, size_t *n,
    size_t *d, int *vectorised)
{
	json_object *v, *e;
	size_t len;

	/* The common case, one vector, is read without building a tree. */
	if (*cap < 64) {
		*cap = 64;
		*x = xreallocarray(*x, *cap, sizeof **x);
	}
	if (rec_get_doubles(r, field, *x, *cap, &len) == REC_OK) {
		*vectorised = 0;
		*n = 1;
		*d = len;
		return 0;
	}
	/* Longer than the buffer: the length first, which a long array of
	 * numbers gives by counting its commas, so that a huge one is
	 * refused before anything is converted or allocated for it. */
	if (rec_get_array_len(r, field, &len) == REC_OK) {
		if (len > REWARDCOUNT_DIMS_MAX)
			return rec_errorf(r, "field '%s': %zu values, more than %d (vectors "
			    "and vectors per record are limited alike)", field, len, REWARDCOUNT_DIMS_MAX);
		if (len > *cap) {
			*cap = len;
			*x = xreallocarray(*x, *cap, sizeof **x);
			if (rec_get_doubles(r, field, *x, *cap, &len) == REC_OK) {
				*vectorised = 0;
				*n = 1;
				*d = len;
				return 0;
			}
		}
	}
	if (rec_get(r, field, &v) != REC_OK || !v || !json_object_is_type(v, json_type_array))
		return rec_errorf(r, "field '%s': expected an array of numbers", field);
	len = json_object_array_length(v);
	e = len ? json_object_array_get_idx(v, 0) : NULL;
	*vectorised = e && json_object_is_type(e, json_type_array);
	if (!*vectorised) {
		*n = 1;
		*d = len;
		if (*cap < len + 1) {
			*cap = len + 1;
			*x = xreallocarray(*x, *cap, sizeof **x);
		}
		for (size_t j = 0; j < len; j++)
			if (rec_json_double(json_object_array_get_idx(v, j), field, *x + j) != 0)
				return rec_errorf(r, "%s", loam_error());
		return 0;
	}
	*n = len;
	*d = json_object_array_length(e);
	if (*d > REWARDCOUNT_DIMS_MAX)
		return rec_errorf(r, "field '%s': vector 0 has %zu values, more than %d", field,
		    *d, REWARDCOUNT_DIMS_MAX);
	if (*cap < len * *d + 1) {
		*cap = len * *d + 1;
		*x = xreallocarray(*x, *cap, sizeof **x);
	}
	for (size_t i = 0; i < len; i++) {
		json_object *row = json_object_array_get_idx(v, i);

		if (!row || !json_object_is_type(row, json_type_array) ||
		    json_object_array_length(row) != *d)
			return rec_errorf(r, "field '%s': vector %zu has not %zu numbers", field, i, *d);
		for (size_t j = 0; j < *d; j++)
			if (rec_json_double(json_object_array_get_idx(row, j), field,
			    *x + i * *d + j) != 0)
				return rec_errorf(r, "%s", loam_error());
	}
	return 0;
}

/* The bin of x as JSON text into buf (the key in hex when the bin is
 * too long to show); its length. */
static size_t
bin_text(struct rewardcount_table *t, const double *x, uint64_t key, char *buf, size_t size)
{
	size_t n = rewardcount_bin_json(t, x, buf, size);

	if (n && n < size)
		return n;
	return (size_t)snprintf(buf, size, "\"%016llx\"", (unsigned long long)key);
}

/* A record's keys, counts, scopes, tasks and bonuses, in one block grown
 * as needed, and the text of its vectorised fields: file-scope, so that
 * they stay reachable (no leak reported) when die() exits mid-record. */
static uint64_t *step_space;
static struct printbuf *pb;

/* The last few numbers printed, by their bits: bonuses repeat (they depend
 * on the count alone unless normalised), so most are printed once. */
#define MEMO_SIZE 256
struct memo {
	uint64_t bits[MEMO_SIZE];
	unsigned char len[MEMO_SIZE];	/* 0: empty */
	char text[MEMO_SIZE][NUMFMT_DOUBLE_MAX];
};

/* Set key to v as a JSON number (shortest text that reads back as v). */
static int
set_number(struct rec *r, const char *key, double v, struct memo *m)
{
	uint64_t bits;
	size_t i;

	if (!isfinite(v))
		return loam_seterr("field '%s': %s is not a JSON number", key,
		    isnan(v) ? "NaN" : "infinity");
	memcpy(&bits, &v, sizeof bits);
	i = (size_t)((bits * UINT64_C(0x9e3779b97f4a7c15)) >> 56);
	if (!m->len[i] || m->bits[i] != bits) {
		m->bits[i] = bits;
		m->len[i] = (unsigned char)numfmt_double(m->text[i], v);
	}
	return rec_set_raw(r, key, m->text[i], m->len[i]);
}

static int
cmd_run(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "field", required_argument, NULL, OPT_FIELD },
		{ "bins", required_argument, NULL, OPT_BINS },
		{ "total-bins", required_argument, NULL, OPT_TOTAL_BINS },
		{ "range", required_argument, NULL, OPT_RANGE },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "stage-offsets", no_argument, NULL, OPT_STAGE_OFFSETS },
		{ "update", required_argument, NULL, OPT_UPDATE },
		{ "bonus", required_argument, NULL, OPT_BONUS },
		{ "lambda", required_argument, NULL, OPT_LAMBDA },
		{ "normalize", required_argument, NULL, OPT_NORMALIZE },
		{ "scope", required_argument, NULL, OPT_SCOPE },
		{ "simhash-bits", required_argument, NULL, OPT_SIMHASH_BITS },
		{ "quantum", required_argument, NULL, OPT_QUANTUM },
		{ "load", required_argument, NULL, OPT_LOAD },
		{ "save", required_argument, NULL, OPT_SAVE },
		{ "unbuffered", no_argument, NULL, OPT_UNBUFFERED },
		{ "max-line", required_argument, NULL, OPT_MAX_LINE },
		CLI_COMMON_LONGOPTS,
	};
	static const char *const modes[] = { "progress", "simhash", "exact", "progress-reward" };
	static const char *const keys[] = { "tuple", "sum" };
	static const char *const updates[] = { "batch-sync", "before", "after" };
	static const char *const bonuses[] = { "inv_sqrt", "inv_sqrt_plus1" };
	static const char *const scopes[] = { "global", "env", "episode" };
	struct cli_opts o;
	struct rewardcount_opts ro;
	struct rewardcount_table t;
	int c, rc, mode = REWARDCOUNT_PROGRESS, started = 0, unbuffered = 0, have_iter = 0;
	const char *field = NULL, *load = NULL, *save = NULL;
	uint32_t *bins = NULL;
	size_t max_line = REC_LINE_MAX, nbins = 0, nrange = 0, xcap = 0, n = 0, d = 0, records = 0, ncap = 0;
	double *lo = NULL, *hi = NULL, *x = NULL, *bonus = NULL;
	uint64_t *key = NULL, *count = NULL, *scope = NULL, *task = NULL, last_iter = 0;
	struct rec_reader rd;
	struct rec *r;
	struct cli_out out;
	struct memo memo;
	FILE *fp;

	cli_init(&o, argc, argv, usage, help, 0);
	/* Options apply after the mode's defaults: keep them for later. */
	struct { int c; char *arg; } given[64];
	int ngiven = 0;

	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1) {
		if (c == OPT_MODE)
			mode = cli_parse_choice("--mode", optarg, modes, 4);
		else if (c >= OPT_MODE && ngiven < 64)
			given[ngiven].c = c, given[ngiven++].arg = optarg;
		else
			cli_common_option(&o, c);
	}
	argc -= optind;
	argv += optind;
	rewardcount_opts_default(&ro, mode);
	ro.seed = o.seed;
	ro.task_join = 1;
	field = mode == REWARDCOUNT_SIMHASH || mode == REWARDCOUNT_EXACT ? "state" : "progress";
	for (int i = 0; i < ngiven; i++) {
		char *arg = given[i].arg;

		switch (given[i].c) {
		case OPT_FIELD: field = arg; break;
		case OPT_BINS: {
			char *copy = xstrdup(arg), *cur = copy, *p;

			while ((p = cli_list_next(&cur, ',', "--bins", arg)) != NULL) {
				bins = xreallocarray(bins, nbins + 1, sizeof *bins);
				bins[nbins++] = (uint32_t)cli_parse_u64("--bins", p, 1, UINT32_MAX);
			}
			free(copy);
			break;
		}
		case OPT_TOTAL_BINS:
			ro.total_bins = cli_parse_u64("--total-bins", arg, 1, UINT64_MAX);
			break;
		case OPT_RANGE: nrange = parse_range(&ro, arg, &lo, &hi); break;
		case OPT_KEY: ro.key = cli_parse_choice("--key", arg, keys, 2); break;
		case OPT_STAGE_OFFSETS: ro.stage_offsets = 1; break;
		case OPT_UPDATE: ro.update = cli_parse_choice("--update", arg, updates, 3); break;
		case OPT_BONUS: ro.bonus = cli_parse_choice("--bonus", arg, bonuses, 2); break;
		case OPT_LAMBDA: ro.lambda = cli_parse_double("--lambda", arg, 0, 1e300); break;
		case OPT_NORMALIZE:
			ro.norm_mean = cli_parse_double("--normalize", arg, 1e-300, 1e300);
			break;
		case OPT_SCOPE: ro.scope = cli_parse_choice("--scope", arg, scopes, 3); break;
		case OPT_SIMHASH_BITS:
			ro.simhash_bits = (unsigned)cli_parse_u64("--simhash-bits", arg, 1, 64);
			break;
		case OPT_QUANTUM: ro.quantum = cli_parse_double("--quantum", arg, 0, 1e300); break;
		case OPT_LOAD: load = arg; break;
		case OPT_SAVE: save = arg; break;
		case OPT_UNBUFFERED: unbuffered = 1; break;
		case OPT_MAX_LINE:
			max_line = (size_t)cli_parse_u64("--max-line", arg, 1, REC_LINE_HARD_MAX);
			break;
		}
	}
	ro.field = field;
	if (nbins > 1)
		ro.bins = bins;
	else if (nbins == 1)
		ro.bins_each = bins[0];
	ro.range_min = lo;
	ro.range_max = hi;

	memset(memo.len, 0, sizeof memo.len);
	pb = printbuf_new();
	fp = cli_out_open(&out, o.output);
	for (int f = 0; f < (argc ? argc : 1); f++) {
		if (rec_reader_open(&rd, argc ? argv[f] : "-") != 0) {
			cli_warn("%s", loam_error());
			continue;
		}
		rd.max_line = max_line;
		while ((rc = rec_next(&rd, &r)) != 0) {
			int vectorised = 0, iter_given;
			int64_t iter;
			double rext;

			if (rc < 0)
				die("%s", loam_error());
			if (read_vectors(r, field, &x, &xcap, &n, &d, &vectorised) != 0)
				die("%s", loam_error());
			if (!started) {
				/* The table's dimension comes from the first vector. */
				ro.dims = d;
				if (nbins > 1 && nbins != d)
					die("%s: --bins gives %zu levels for %zu dimensions",
					    rec_where(r), nbins, d);
				if (nrange && nrange != d)
					die("%s: --range gives %zu ranges for %zu dimensions",
					    rec_where(r), nrange, d);
				if (rewardcount_init(&t, &ro) != 0)
					die("%s", loam_error());
				if (load && rewardcount_load(&t, load) != 0)
					die("%s", loam_error());
				started = 1;
			}
			if (rewardcount_check_length(&t, d) != 0)
				die("%s: %s", rec_where(r), loam_error());
			/* A new iter value closes the batch before it. */
			rc = rec_get_int(r, "iter", &iter);
			if (rc == REC_BAD)
				die("%s: %s", rec_where(r), loam_error());
			iter_given = rc == REC_OK;
			if (iter_given) {
				if (have_iter && (uint64_t)iter != last_iter)
					rewardcount_end_batch(&t);
				have_iter = 1;
				last_iter = (uint64_t)iter;
			}
			if (n > ncap || !step_space) {
				ncap = n > 1 ? n : 1;
				step_space = xreallocarray(step_space, ncap, 5 * sizeof *step_space);
				key = step_space;
				count = key + ncap;
				scope = count + ncap;
				task = scope + ncap;
				bonus = (double *)(void *)(task + ncap);
			}
			{
				uint64_t env, episode, tk;

				if (field_id(r, "env", &env) != 0 ||
				    field_id(r, "episode", &episode) != 0 ||
				    field_id(r, "task", &tk) != 0)
					die("%s", loam_error());

				for (size_t i = 0; i < n; i++) {
					uint64_t e = vectorised ? i + 1 : env;

					scope[i] = ro.scope == REWARDCOUNT_SCOPE_EPISODE ?
					    e * UINT64_C(0x9e3779b97f4a7c15) ^ episode : e;
					task[i] = tk;
				}
			}
			if (rewardcount_step(&t, x, n, scope, task, key, count, bonus) != 0)
				die("%s: %s", rec_where(r), loam_error());
			if (!iter_given)
				rewardcount_end_batch(&t);	/* no iter: a record is a batch */

			/* The record with bin, count, r_int (and r_total), written
			 * as text: no json-c value per field. */
			if (!vectorised) {
				/* r, when there, must be a number: "1.5" or [1] is
				 * not left out silently. */
				int has_r = rec_get_double(r, "r", &rext);

				if (has_r == REC_BAD)
					die("%s: %s", rec_where(r), loam_error());
				has_r = has_r == REC_OK;

				char bt[8192], num[NUMFMT_DOUBLE_MAX];
				size_t bl = bin_text(&t, x, key[0], bt, sizeof bt);

				rec_set_raw(r, "bin", bt, bl);
				rec_set_raw(r, "count", num, numfmt_uint64(num, count[0]));
				if (set_number(r, "r_int", bonus[0], &memo) != 0 ||
				    (has_r && set_number(r, "r_total", rext + bonus[0], &memo) != 0))
					die("%s: %s", rec_where(r), loam_error());
			} else {
				json_object *rv = NULL;
				int rt = rec_get(r, "r", &rv) == REC_OK;
				char num[NUMFMT_DOUBLE_MAX];

				/* r, when there, must be n numbers, one per vector. */
				if (rt && (!rv || !json_object_is_type(rv, json_type_array) ||
				    json_object_array_length(rv) != n))
					die("%s: field 'r': expected an array of %zu numbers, one per vector",
					    rec_where(r), n);

				printbuf_reset(pb);
				for (size_t i = 0; i < n; i++) {
					char bt[8192];

					printbuf_memappend(pb, i ? "," : "[", 1);
					printbuf_memappend(pb, bt,
					    (int)bin_text(&t, x + i * d, key[i], bt, sizeof bt));
				}
				printbuf_memappend(pb, n ? "]" : "[]", n ? 1 : 2);
				rec_set_raw(r, "bin", pb->buf, (size_t)pb->bpos);
				printbuf_reset(pb);
				for (size_t i = 0; i < n; i++) {
					printbuf_memappend(pb, i ? "," : "[", 1);
					printbuf_memappend(pb, num, (int)numfmt_uint64(num, count[i]));
				}
				printbuf_memappend(pb, n ? "]" : "[]", n ? 1 : 2);
				rec_set_raw(r, "count", pb->buf, (size_t)pb->bpos);
				for (int which = 0; which < 1 + rt; which++) {
					printbuf_reset(pb);
					for (size_t i = 0; i < n; i++) {
						double v = bonus[i], rr;

						if (which) {
							if (rec_json_double(json_object_array_get_idx(rv, i),
							    "r", &rr) != 0)
								die("%s: %s", rec_where(r), loam_error());
							v += rr;
						}
						if (!isfinite(v))
							die("%s: field '%s': %s is not a JSON number",
							    rec_where(r), which ? "r_total" : "r_int",
							    isnan(v) ? "NaN" : "infinity");
						printbuf_memappend(pb, i ? "," : "[", 1);
						printbuf_memappend(pb, num, (int)numfmt_double(num, v));
					}
					printbuf_memappend(pb, n ? "]" : "[]", n ? 1 : 2);
					rec_set_raw(r, which ? "r_total" : "r_int", pb->buf,
					    (size_t)pb->bpos);
				}
			}
			if (rec_write(r, fp) != 0 || (unbuffered && fflush(fp) != 0))
				cli_write_failed(o.output ? o.output : "stdout");
			records++;
		}
		rec_reader_close(&rd);
	}
	cli_out_commit(&out);
	if (started) {
		rewardcount_end_batch(&t);
		if (save && rewardcount_save(&t, save) != 0)
			die("%s", loam_error());
		if (!o.quiet)
			note("%zu records, %zu distinct keys", records, rewardcount_entries(&t));
		rewardcount_release(&t);
	} else if (save) {
		note("no records: %s not written", save);
	}
	printbuf_free(pb);
	pb = NULL;
	free(bins);
	free(lo);
	free(hi);
	free(x);
	free(step_space);
	step_space = NULL;
	return cli_exit();
}

static int
cmd_merge(int argc, char *argv[])
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS };
	struct cli_opts o;
	struct rewardcount_table t, u;
	int c;

	cli_init(&o, argc, argv, usage, help, 0);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1)
		cli_common_option(&o, c);
	argc -= optind;
	argv += optind;
	if (!o.output)
		usage_error("merge needs -o file");
	if (argc < 1)
		usage_error("merge needs tables");
	if (rewardcount_open(&t, argv[0]) != 0)
		die("%s", loam_error());
	for (int i = 1; i < argc; i++) {
		if (rewardcount_open(&u, argv[i]) != 0)
			die("%s", loam_error());
		if (rewardcount_merge(&t, &u, argv[i]) != 0)
			die("%s", loam_error());
		rewardcount_release(&u);
	}
	if (rewardcount_save(&t, o.output) != 0)
		die("%s", loam_error());
	if (!o.quiet)
		note("%d table%s merged: %zu distinct keys", argc, argc == 1 ? "" : "s", rewardcount_entries(&t));
	rewardcount_release(&t);
	return cli_exit();
}

static int
cmd_dump(int argc, char *argv[])
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS };
	struct cli_opts o;
	struct rewardcount_table t;
	struct rewardcount_dump dm;
	struct rewardcount_entry e;
	int c;

	cli_init(&o, argc, argv, usage, help, 0);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1)
		cli_common_option(&o, c);
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage_error("dump takes one table");
	if (rewardcount_open(&t, argv[0]) != 0)
		die("%s", loam_error());
	rewardcount_dump_init(&dm, &t);
	while (rewardcount_dump_next(&dm, &e)) {
		printf("{\"key\":\"%016llx\",\"count\":%llu", (unsigned long long)e.key,
		    (unsigned long long)e.count);
		if (e.bin)
			printf(",\"bin\":%s", e.bin);
		if (e.has_scope)
			printf(",\"scope\":\"%016llx\"", (unsigned long long)e.scope);
		if (e.has_task)
			printf(",\"task\":\"%016llx\"", (unsigned long long)e.task);
		if (printf("}\n") < 0)
			cli_write_failed("stdout");
	}
	rewardcount_dump_release(&dm);
	rewardcount_release(&t);
	return cli_exit();
}

int
main(int argc, char *argv[])
{
	static const struct cli_command commands[] = {
		{ "merge", cmd_merge, NULL },
		{ "dump", cmd_dump, NULL },
	};

	return cli_subcommand(argc, argv, commands, sizeof commands / sizeof *commands,
	    cmd_run, usage, help);
}
