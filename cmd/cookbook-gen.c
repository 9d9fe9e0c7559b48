/*
 * cookbook-gen - instruction data from rule templates over random tokens
 * (Cookbook, Narayan, Chen, Bhatia and Re, COLM 2024); see cookbook-gen(1).
 *
 * The templates and their rules live in lib/cookbook.c; this file is the
 * command line: choosing templates and counts, interleaving, sharding,
 * output formats, and the check and align commands.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/printbuf.h>

#include "cli.h"
#include "conf.h"
#include "cookbook.h"
#include "cookbook_templates.h"
#include "cookbook_unique.h"
#include "labelmodel.h"
#include "rec.h"
#include "rng.h"

static const char usage[] =
    "usage: cookbook-gen list [-hV]\n"
    "       cookbook-gen gen [-q] [-n count] [--mix file] [-p [template.]name=value]\n"
    "                        [--vocab file] [--format record|alpaca|chat|text]\n"
    "                        [-s seed] [--shard i/n] [--unique] [-o file]\n"
    "                        [template ...]\n"
    "       cookbook-gen check [-q] [-p [template.]name=value] [--vocab file] [file ...]\n"
    "       cookbook-gen align [-q] [--templates name,...] [-o file] [file ...]\n"
    "       cookbook-gen mix [-q] [--details] [--templates name,...] [--temperature t]\n"
    "                        [-o file] [file ...]\n";
static const char help[] =
    "Commands:\n"
    "  list                the templates, as records\n"
    "  gen                 generate examples from templates\n"
    "  check               re-derive each record's output with its template's rule\n"
    "  align               template alignment of a model's generations on task records\n"
    "  mix                 Cookbook-Mix: template weights from unlabeled task records\n"
    "Options:\n"
    "  -n, --count N       examples to generate (default 1000)\n"
    "      --mix FILE      YAML or JSON map template -> weight\n"
    "  -p, --param P=V     set a template parameter (name=value for every template\n"
    "                      that has it, or template.name=value)\n"
    "      --vocab FILE    tokens, one per line (default: 1000 built-in pseudo-words)\n"
    "      --format F      record (default), alpaca, chat or text\n"
    "      --templates L   align: the templates to apply (default: all with a rule\n"
    "                      that reads natural-language input)\n"
    "      --shard I/N     write only the I-th of N equal parts (0-based)\n"
    "      --unique        gen: no two examples of a template alike (per part)\n"
    "      --temperature T mix: softmax temperature of the weights (default 0.1)\n"
    "      --details       mix: per template and task accuracies instead of the map\n"
    "  -s, --seed N        random seed (default 0)\n"
    "  -o, --output FILE   write to FILE atomically\n"
    "  -q, --quiet         no summary on stderr\n"
    "  -h, --help          this help\n"
    "  -V, --version       print the version\n";

enum {
	OPT_MIX = 256, OPT_VOCAB, OPT_FORMAT, OPT_SHARD, OPT_TEMPLATES,
	OPT_TEMPERATURE, OPT_DETAILS, OPT_UNIQUE,
};
enum format { FMT_RECORD, FMT_ALPACA, FMT_CHAT, FMT_TEXT };

struct settings {
	const struct cookbook_template *catalogue;
	size_t ntemplates;
	long (*param)[COOKBOOK_MAX_PARAMS];	/* per catalogue template */
	struct cookbook_vocab vocab;
	const char *vocab_path;
};

static void
settings_init(struct settings *st)
{
	memset(st, 0, sizeof *st);
	st->catalogue = cookbook_templates(&st->ntemplates);
	st->param = xcalloc(st->ntemplates, sizeof *st->param);
	for (size_t i = 0; i < st->ntemplates; i++)
		cookbook_template_defaults(&st->catalogue[i], st->param[i]);
}

static void
settings_release(struct settings *st)
{
	cookbook_vocab_release(&st->vocab);
	free(st->param);
}

static size_t
catalogue_index(const struct settings *st, const struct cookbook_template *t)
{
	return (size_t)(t - st->catalogue);
}

/* -p name=value or template.name=value. */
static void
set_param(struct settings *st, char *arg)
{
	char *eq = strchr(arg, '='), *dot, *name = arg;
	const char *only = NULL;
	long value;
	int hits = 0;

	if (!eq || eq == arg)
		usage_error("--param: '%s' is not name=value", arg);
	*eq = '\0';
	if ((dot = strchr(arg, '.')) != NULL) {
		*dot = '\0';
		only = arg;
		name = dot + 1;
		if (!cookbook_template_find(only))
			usage_error("--param: unknown template '%s'", only);
	}
	for (size_t i = 0; i < st->ntemplates; i++) {
		const struct cookbook_template *t = &st->catalogue[i];
		int k;

		if (only && strcmp(t->name, only) != 0)
			continue;
		if ((k = cookbook_template_param_index(t, name)) < 0)
			continue;
		value = (long)cli_parse_i64(name, eq + 1, t->params[k].min, t->params[k].max);
		st->param[i][k] = value;
		hits++;
	}
	if (!hits)
		usage_error("--param: no template%s%s has a parameter '%s'",
		    only ? " " : "", only ? only : "", name);
}

static void
load_vocab(struct settings *st)
{
	int rc = st->vocab_path ? cookbook_vocab_load(&st->vocab, st->vocab_path) :
	    cookbook_vocab_builtin(&st->vocab, COOKBOOK_VOCAB_DEFAULT);

	if (rc != 0)
		die("%s", loam_error());
}

/* ---- output ---- */

static void
put_key(struct printbuf *pb, const char *key, int first)
{
	if (!first)
		printbuf_memappend(pb, ",", 1);
	rec_escape_string(pb, key, strlen(key));
	printbuf_memappend(pb, ":", 1);
}

static void
put_str(struct printbuf *pb, const char *key, const char *s, size_t len, int first)
{
	put_key(pb, key, first);
	rec_escape_string(pb, s, len);
}

/* The input as a model sees it in the alpaca, chat and text formats:
 * options, when there are any, follow it one per line. */
static void
model_input(struct printbuf *pb, const struct cookbook_example *ex)
{
	printbuf_memappend(pb, ex->input.s, (int)ex->input.len);
	if (ex->noptions) {
		printbuf_memappend(pb, "\nOptions:", 9);
		for (size_t i = 0; i < ex->noptions; i++) {
			const char *o = cookbook_example_option(ex, i);

			printbuf_memappend(pb, "\n- ", 3);
			printbuf_memappend(pb, o, (int)strlen(o));
		}
	}
}

static void
render(struct printbuf *pb, struct printbuf *tmp, enum format fmt, uint64_t id,
    const struct cookbook_template *t, const struct cookbook_example *ex)
{
	char num[32];
	int n;

	printbuf_reset(pb);
	printbuf_memappend(pb, "{", 1);
	switch (fmt) {
	case FMT_RECORD:
		n = snprintf(num, sizeof num, "%llu", (unsigned long long)id);
		put_key(pb, "id", 1);
		printbuf_memappend(pb, num, n);
		put_str(pb, "template", t->name, strlen(t->name), 0);
		put_str(pb, "family", t->family, strlen(t->family), 0);
		put_str(pb, "instruction", t->instruction, strlen(t->instruction), 0);
		put_str(pb, "input", ex->input.s, ex->input.len, 0);
		put_str(pb, "output", ex->output.s, ex->output.len, 0);
		if (ex->noptions) {
			put_key(pb, "options", 0);
			printbuf_memappend(pb, "[", 1);
			for (size_t i = 0; i < ex->noptions; i++) {
				const char *o = cookbook_example_option(ex, i);

				if (i)
					printbuf_memappend(pb, ",", 1);
				rec_escape_string(pb, o, strlen(o));
			}
			printbuf_memappend(pb, "]", 1);
			n = snprintf(num, sizeof num, "%d", ex->answer_index);
			put_key(pb, "answer_index", 0);
			printbuf_memappend(pb, num, n);
		}
		if (ex->skill)
			put_str(pb, "skill", ex->skill, strlen(ex->skill), 0);
		break;
	case FMT_ALPACA:
		printbuf_reset(tmp);
		model_input(tmp, ex);
		put_str(pb, "instruction", t->instruction, strlen(t->instruction), 1);
		put_str(pb, "input", tmp->buf, (size_t)tmp->bpos, 0);
		put_str(pb, "output", ex->output.s, ex->output.len, 0);
		break;
	case FMT_CHAT:
		printbuf_reset(tmp);
		printbuf_memappend(tmp, t->instruction, (int)strlen(t->instruction));
		printbuf_memappend(tmp, "\n\n", 2);
		model_input(tmp, ex);
		put_key(pb, "messages", 1);
		printbuf_memappend(pb, "[{\"role\":\"user\",\"content\":", 26);
		rec_escape_string(pb, tmp->buf, (size_t)tmp->bpos);
		printbuf_memappend(pb, "},{\"role\":\"assistant\",\"content\":", 32);
		rec_escape_string(pb, ex->output.s, ex->output.len);
		printbuf_memappend(pb, "}]", 2);
		break;
	case FMT_TEXT:
		/* Instruction, a blank line, then input and output exactly
		 * as they join (for lego and addition: the reference string). */
		printbuf_reset(tmp);
		printbuf_memappend(tmp, t->instruction, (int)strlen(t->instruction));
		printbuf_memappend(tmp, "\n\n", 2);
		model_input(tmp, ex);
		if (ex->noptions)
			printbuf_memappend(tmp, "\nAnswer: ", 9);
		printbuf_memappend(tmp, ex->output.s, (int)ex->output.len);
		put_str(pb, "text", tmp->buf, (size_t)tmp->bpos, 1);
		break;
	}
	printbuf_memappend(pb, "}\n", 2);
}

/* ---- gen ---- */

/* The templates of a run, their weights and their example counts. */
struct plan {
	const struct cookbook_template **t;
	double *weight;
	uint64_t *count, *start;	/* start[i] = count[0] + ... + count[i-1] */
	size_t n;
};

static void
plan_add(struct plan *p, const struct cookbook_template *t, double w, const char *where)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->t[i] == t)
			usage_error("%s: template '%s' named twice", where, t->name);
	p->t = xreallocarray(p->t, p->n + 1, sizeof *p->t);
	p->weight = xreallocarray(p->weight, p->n + 1, sizeof *p->weight);
	p->t[p->n] = t;
	p->weight[p->n] = w;
	p->n++;
}

/* --mix FILE: {template: weight, ...}; weights >= 0, not all zero. */
static void
plan_from_mix(struct plan *p, const char *path)
{
	json_object *root = conf_load(path);

	if (!root)
		die("%s", loam_error());
	if (!json_object_is_type(root, json_type_object))
		die("%s: expected a map of template names to weights", conf_where(root));
	json_object_object_foreach(root, name, val) {
		const struct cookbook_template *t = cookbook_template_find(name);
		double w;

		if (!t)
			die("%s: unknown template '%s' (cookbook-gen list shows them)",
			    conf_where(val), name);
		if (!val || rec_json_double(val, name, &w) != 0 || w < 0)
			die("%s: template '%s': weight must be a number >= 0",
			    val ? conf_where(val) : path, name);
		plan_add(p, t, w, path);
	}
	json_object_put(root);
	if (p->n == 0)
		die("%s: no templates", path);
}

/* floor(p_i * N) each, then the remainder one by one to the largest
 * fractional parts (ties: the earlier template). */
static void
plan_counts(struct plan *p, uint64_t total, const char *what)
{
	double sum = 0;
	uint64_t given = 0;
	double *frac = xcalloc(p->n, sizeof *frac);

	for (size_t i = 0; i < p->n; i++)
		sum += p->weight[i];
	if (!(sum > 0))
		die("%s: the weights sum to zero", what);
	p->count = xcalloc(p->n, sizeof *p->count);
	p->start = xcalloc(p->n + 1, sizeof *p->start);
	for (size_t i = 0; i < p->n; i++) {
		long double exact = (long double)total * p->weight[i] / sum;

		p->count[i] = (uint64_t)exact;
		frac[i] = (double)(exact - (long double)p->count[i]);
		given += p->count[i];
	}
	while (given < total) {
		size_t best = 0;

		for (size_t i = 1; i < p->n; i++)
			if (frac[i] > frac[best])
				best = i;
		p->count[best]++;
		frac[best] = -1;
		given++;
	}
	for (size_t i = 0; i < p->n; i++)
		p->start[i + 1] = p->start[i] + p->count[i];
	free(frac);
}

static void
plan_release(struct plan *p)
{
	free(p->t);
	free(p->weight);
	free(p->count);
	free(p->start);
}

/* Which template slot s belongs to: the last i with start[i] <= s. */
static size_t
plan_find(const struct plan *p, uint64_t s)
{
	size_t lo = 0, hi = p->n;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (p->start[mid] <= s)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/*
 * --unique: a set per template of the examples the part [lo, hi) has
 * made.  Each template's share of the part is counted first, so that a
 * setting with fewer distinct examples than that fails before any
 * output rather than after a long search.  Unsharded the shares are the
 * plan's counts; a shard's come from walking its positions, as cheap as
 * the shuffle that the generation loop does anyway.
 */
#define UNIQUE_RESERVE_MAX	(UINT64_C(1) << 24)

static struct cookbook_unique **
unique_sets(const struct plan *p, const struct settings *st, uint64_t seed,
    uint64_t lo, uint64_t hi)
{
	struct cookbook_unique **seen;
	uint64_t *n = xcalloc(p->n, sizeof *n), total = p->start[p->n];

	if (lo == 0 && hi == total)
		memcpy(n, p->count, p->n * sizeof *n);
	else
		for (uint64_t pos = lo; pos < hi; pos++)
			n[plan_find(p, rng_permute(pos, total, seed, RNG_COOKBOOK_ORDER))]++;
	/* Every check before any set is made: the die() leaves nothing
	 * behind that LeakSanitizer could count. */
	for (size_t i = 0; i < p->n; i++)
		if (cookbook_unique_check(p->t[i], st->param[catalogue_index(st, p->t[i])], n[i]) != 0) {
			free(n);
			die("%s", loam_error());
		}
	seen = xcalloc(p->n, sizeof *seen);
	for (size_t i = 0; i < p->n; i++) {
		const long *param = st->param[catalogue_index(st, p->t[i])];

		/* room up front for a usual run; a huge one grows as it goes
		 * rather than claim gigabytes before its first example */
		seen[i] = cookbook_unique_new(p->t[i], param,
		    (size_t)(n[i] < UNIQUE_RESERVE_MAX ? n[i] : UNIQUE_RESERVE_MAX));
	}
	free(n);
	return seen;
}

static int
cmd_gen(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "param", required_argument, NULL, 'p' },
		{ "mix", required_argument, NULL, OPT_MIX },
		{ "vocab", required_argument, NULL, OPT_VOCAB },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "unique", no_argument, NULL, OPT_UNIQUE },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	struct settings st;
	struct plan plan = { 0 };
	struct cookbook_unique **seen = NULL;	/* --unique: per plan template */
	struct cli_out out;
	struct cookbook_example ex;
	struct progress prog;
	struct printbuf *pb = printbuf_new(), *tmp = printbuf_new();
	const char *mix = NULL;
	enum format fmt = FMT_RECORD;
	uint64_t total = 1000, shard = 0, nshards = 1, lo, hi;
	FILE *fp;
	int c, unique = 0;

	cli_init(&o, argc, argv, usage, help, 0);
	settings_init(&st);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS("n:p:"), longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			total = cli_parse_u64("--count", optarg, 0, UINT64_MAX / 2);
			break;
		case 'p':
			set_param(&st, optarg);
			break;
		case OPT_MIX:
			mix = optarg;
			break;
		case OPT_VOCAB:
			st.vocab_path = optarg;
			break;
		case OPT_FORMAT: {
			/* In enum format's order. */
			static const char *const formats[] = { "record", "alpaca", "chat", "text" };

			fmt = (enum format)cli_parse_choice("--format", optarg, formats, 4);
			break;
		}
		case OPT_SHARD:
			cli_parse_shard("--shard", optarg, &shard, &nshards);
			break;
		case OPT_UNIQUE:
			unique = 1;
			break;
		default:
			cli_common_option(&o, c);
		}
	}
	argc -= optind;
	argv += optind;
	if (mix && argc)
		usage_error("give templates or --mix, not both");
	if (mix)
		plan_from_mix(&plan, mix);
	else if (!argc)
		usage_error("no templates: name some, or give --mix (cookbook-gen list shows them)");
	for (int i = 0; i < argc; i++) {
		const struct cookbook_template *t = cookbook_template_find(argv[i]);

		if (!t)
			usage_error("unknown template '%s' (cookbook-gen list shows them)", argv[i]);
		plan_add(&plan, t, 1.0, "arguments");
	}
	plan_counts(&plan, total, mix ? mix : "arguments");
	load_vocab(&st);
	for (size_t i = 0; i < plan.n; i++)
		if (cookbook_template_check(plan.t[i], st.param[catalogue_index(&st, plan.t[i])],
		    &st.vocab) != 0)
			die("%s", loam_error());

	/* Shard s of S writes positions [total*s/S, total*(s+1)/S). */
	lo = (uint64_t)((unsigned __int128)total * shard / nshards);
	hi = (uint64_t)((unsigned __int128)total * (shard + 1) / nshards);
	if (unique)
		seen = unique_sets(&plan, &st, o.seed, lo, hi);
	fp = cli_out_open(&out, o.output);
	cookbook_example_init(&ex);
	progress_init(&prog, "examples", hi - lo, o.quiet);
	for (uint64_t pos = lo; pos < hi; pos++) {
		/* The seeded shuffle interleaves the templates; each example
		 * is drawn from its own substream, so any position can be
		 * made without the ones before it. */
		uint64_t slot = rng_permute(pos, total, o.seed, RNG_COOKBOOK_ORDER);
		size_t i = plan_find(&plan, slot);
		const struct cookbook_template *t = plan.t[i];
		size_t ci = catalogue_index(&st, t);
		struct rng r;

		rng_init(&r, o.seed, RNG_COOKBOOK_EXAMPLES + ci, slot - plan.start[i]);
		if (!seen)
			t->generate(t, st.param[ci], &st.vocab, &r, &ex);
		else if (cookbook_unique_generate(seen[i], &st.vocab, &r, &ex) != 0)
			die("%s", loam_error());
		render(pb, tmp, fmt, pos, t, &ex);
		if (fwrite(pb->buf, 1, (size_t)pb->bpos, fp) != (size_t)pb->bpos)
			cli_write_failed(o.output ? o.output : "stdout");
		if (((pos - lo) & 0xfff) == 0)
			progress_update(&prog, pos - lo);
	}
	prog.done = hi - lo;
	cli_out_commit(&out);
	if (o.output)
		progress_end(&prog);
	for (size_t i = 0; seen && i < plan.n; i++)
		cookbook_unique_free(seen[i]);
	free(seen);
	cookbook_example_release(&ex);
	printbuf_free(pb);
	printbuf_free(tmp);
	plan_release(&plan);
	settings_release(&st);
	return cli_exit();
}

/* ---- list ---- */

static int
cmd_list(int argc, char *argv[])
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS };
	struct cli_opts o;
	struct printbuf *pb = printbuf_new();
	const struct cookbook_template *cat;
	size_t n;
	int c;

	cli_init(&o, argc, argv, usage, help, 0);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1)
		cli_common_option(&o, c);
	if (optind < argc)
		usage_error("list takes no arguments");
	cat = cookbook_templates(&n);
	for (size_t i = 0; i < n; i++) {
		const struct cookbook_template *t = &cat[i];
		char num[32];

		printbuf_reset(pb);
		printbuf_memappend(pb, "{", 1);
		put_str(pb, "name", t->name, strlen(t->name), 1);
		put_str(pb, "family", t->family, strlen(t->family), 0);
		put_str(pb, "task", t->task, strlen(t->task), 0);
		put_str(pb, "instruction", t->instruction, strlen(t->instruction), 0);
		put_key(pb, "parameters", 0);
		printbuf_memappend(pb, "{", 1);
		for (size_t k = 0; k < t->nparams; k++) {
			int len = snprintf(num, sizeof num, "%ld", t->params[k].def);

			put_key(pb, t->params[k].name, k == 0);
			printbuf_memappend(pb, num, len);
		}
		printbuf_memappend(pb, "}}\n", 3);
		if (fwrite(pb->buf, 1, (size_t)pb->bpos, stdout) != (size_t)pb->bpos)
			cli_write_failed("stdout");
	}
	printbuf_free(pb);
	return cli_exit();
}

/* ---- check ---- */

/* Options of a record as a borrowed array of strings. */
static int
record_options(struct rec *r, const char **opt, size_t *n)
{
	json_object *arr;
	int rc = rec_get(r, "options", &arr);

	*n = 0;
	if (rc == REC_ABSENT || !arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return rec_errorf(r, "field 'options': expected an array of strings");
	if (json_object_array_length(arr) > COOKBOOK_MAX_OPTIONS)
		return rec_errorf(r, "field 'options': more than %d options", COOKBOOK_MAX_OPTIONS);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(e, json_type_string))
			return rec_errorf(r, "field 'options': element %zu is not a string", i);
		opt[(*n)++] = json_object_get_string(e);
	}
	return 0;
}

static int
need_str(struct rec *r, const char *key, const char **s)
{
	int rc = rec_get_str(r, key, s, NULL);

	if (rc == REC_ABSENT)
		return rec_errorf(r, "field '%s' missing", key);
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	return 0;
}

/* A task record for align and mix: its parts default to the input. */
struct task_record {
	const char *input, *task, *context, *question;
	const char *opt[COOKBOOK_MAX_OPTIONS];
	size_t nopt;
};

static void
read_task_record(struct rec *r, struct task_record *tr, int need_input)
{
	const char *const keys[] = { "task", "context", "question" };
	const char **dst[] = { &tr->task, &tr->context, &tr->question };

	tr->input = "";
	if ((need_input && need_str(r, "input", &tr->input)) ||
	    (!need_input && rec_get_str(r, "input", &tr->input, NULL) == REC_BAD) ||
	    record_options(r, tr->opt, &tr->nopt))
		die("%s", loam_error());
	for (size_t k = 0; k < 3; k++) {
		int rc = rec_get_str(r, keys[k], dst[k], NULL);

		if (rc == REC_BAD)
			die("%s: %s", rec_where(r), loam_error());
		if (rc == REC_ABSENT)
			*dst[k] = k == 0 ? "-" : tr->input;
	}
}

static int
cmd_check(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "param", required_argument, NULL, 'p' },
		{ "vocab", required_argument, NULL, OPT_VOCAB },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	struct settings st;
	struct rec_reader rd;
	struct rec *r;
	struct cookbook_buf scratch = { 0 }, rule_out = { 0 };
	unsigned long records = 0, mismatches = 0;
	int c, rc;

	cli_init(&o, argc, argv, usage, help, 0);
	settings_init(&st);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS("p:"), longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			set_param(&st, optarg);
			break;
		case OPT_VOCAB:
			st.vocab_path = optarg;	/* accepted for symmetry with gen */
			break;
		default:
			cli_common_option(&o, c);
		}
	}
	argc -= optind;
	argv += optind;
	for (int f = 0; f < (argc ? argc : 1); f++) {
		if (rec_reader_open(&rd, argc ? argv[f] : "-") != 0) {
			cli_warn("%s", loam_error());
			continue;
		}
		while ((rc = rec_next(&rd, &r)) != 0) {
			const char *name, *input, *output, *opt[COOKBOOK_MAX_OPTIONS];
			const struct cookbook_template *t;
			int64_t answer = -1;
			size_t nopt;

			if (rc < 0)
				die("%s", loam_error());
			records++;
			if (need_str(r, "template", &name) || need_str(r, "input", &input) ||
			    need_str(r, "output", &output) || record_options(r, opt, &nopt))
				die("%s", loam_error());
			if (!(t = cookbook_template_find(name)))
				die("%s: unknown template '%s'", rec_where(r), name);
			rc = rec_get_int(r, "answer_index", &answer);
			if (rc == REC_BAD)
				die("%s: %s", rec_where(r), loam_error());
			if (cookbook_verify(t, st.param[catalogue_index(&st, t)], input, opt, nopt,
			    output, (int)answer, &scratch, &rule_out) != 0) {
				note("%s: template '%s': %s", rec_where(r), name, loam_error());
				mismatches++;
			}
		}
		rec_reader_close(&rd);
	}
	if (!o.quiet)
		note("checked %lu record%s: %lu mismatch%s", records, records == 1 ? "" : "s",
		    mismatches, mismatches == 1 ? "" : "es");
	cookbook_buf_release(&scratch);
	cookbook_buf_release(&rule_out);
	settings_release(&st);
	rc = cli_exit();
	return mismatches ? EXIT_FAIL : rc;
}

/* ---- align ---- */

/* Text compared as its tokens (cookbook_tokenize: case folded, punctuation and
 * spacing dropped), joined by single spaces into out. */
static const char *
normalise(const char *s, struct cookbook_buf *scratch, struct cookbook_buf *out)
{
	static size_t (*span)[2];
	static size_t cap;
	size_t n = cookbook_tokenize(s, scratch, span, cap);

	if (n > cap) {
		cap = n * 2;
		span = xreallocarray(span, cap, sizeof *span);
		n = cookbook_tokenize(s, scratch, span, cap);
	}
	cookbook_buf_reset(out);
	for (size_t i = 0; i < n; i++) {
		if (i)
			cookbook_buf_add(out, " ", 1);
		cookbook_buf_add(out, scratch->s + span[i][0], span[i][1]);
	}
	cookbook_buf_add(out, "", 1);		/* NUL */
	return out->s;
}

struct align_cell {
	char *task;
	const struct cookbook_template *t;
	unsigned long n, aligned, rule_failed, gold, rule_right, model_right,
	    model_right_rule_right, model_right_rule_wrong;
};

struct align_table {
	struct align_cell *cell;
	size_t n;
};

static struct align_cell *
align_cell(struct align_table *tab, const struct cookbook_template *t, const char *task)
{
	for (size_t i = 0; i < tab->n; i++)
		if (tab->cell[i].t == t && strcmp(tab->cell[i].task, task) == 0)
			return &tab->cell[i];
	tab->cell = xreallocarray(tab->cell, tab->n + 1, sizeof *tab->cell);
	memset(&tab->cell[tab->n], 0, sizeof *tab->cell);
	tab->cell[tab->n].t = t;
	tab->cell[tab->n].task = xstrdup(task);
	return &tab->cell[tab->n++];
}

static void
put_ratio(struct printbuf *pb, const char *key, unsigned long num, unsigned long den)
{
	char buf[40];
	int n;

	put_key(pb, key, 0);
	if (!den) {
		printbuf_memappend(pb, "null", 4);
		return;
	}
	n = snprintf(buf, sizeof buf, "%.17g", (double)num / (double)den);
	printbuf_memappend(pb, buf, n);
}

static void
put_count(struct printbuf *pb, const char *key, unsigned long v)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%lu", v);

	put_key(pb, key, 0);
	printbuf_memappend(pb, buf, n);
}

/* --templates a,b,c, or every template but the skill synthetics, which
 * have no natural-language counterpart. */
static size_t
choose_templates(const struct settings *st, char *list, const struct cookbook_template **use,
    size_t max)
{
	size_t n = 0;

	if (!list) {
		for (size_t i = 0; i < st->ntemplates && n < max; i++)
			if (strcmp(st->catalogue[i].family, "skill") != 0)
				use[n++] = &st->catalogue[i];
		return n;
	}
	char *whole = xstrdup(list), *cur = list, *name;

	while ((name = cli_list_next(&cur, ',', "--templates", whole)) != NULL) {
		const struct cookbook_template *t = cookbook_template_find(name);

		if (!t)
			usage_error("--templates: unknown template '%s'", name);
		for (size_t i = 0; i < n; i++)
			if (use[i] == t)
				usage_error("--templates: '%s' named twice", name);
		if (n < max)
			use[n++] = t;
	}
	free(whole);
	return n;
}

/* A double, or null for a negative ("unknown") value. */
static void
put_number(struct printbuf *pb, const char *key, double v)
{
	char buf[40];
	int n;

	put_key(pb, key, 0);
	if (v < 0) {
		printbuf_memappend(pb, "null", 4);
		return;
	}
	n = snprintf(buf, sizeof buf, "%.17g", v);
	printbuf_memappend(pb, buf, n);
}

static int
cmd_align(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "templates", required_argument, NULL, OPT_TEMPLATES },
		{ "param", required_argument, NULL, 'p' },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	struct settings st;
	struct rec_reader rd;
	struct rec *r;
	struct align_table tab = { 0 };
	const struct cookbook_template *use[64];
	size_t nuse = 0;
	struct cookbook_buf scratch = { 0 }, ruleout = { 0 }, na = { 0 }, nb = { 0 };
	struct printbuf *pb = printbuf_new();
	struct cli_out out;
	char *list = NULL;
	FILE *fp;
	int c, rc;

	cli_init(&o, argc, argv, usage, help, 0);
	settings_init(&st);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS("p:"), longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TEMPLATES:
			list = optarg;
			break;
		case 'p':
			set_param(&st, optarg);
			break;
		default:
			cli_common_option(&o, c);
		}
	}
	argc -= optind;
	argv += optind;
	nuse = choose_templates(&st, list, use, sizeof use / sizeof *use);

	for (int f = 0; f < (argc ? argc : 1); f++) {
		if (rec_reader_open(&rd, argc ? argv[f] : "-") != 0) {
			cli_warn("%s", loam_error());
			continue;
		}
		while ((rc = rec_next(&rd, &r)) != 0) {
			struct task_record tr;
			const char *gen, *gold_text = NULL, *const *opt = tr.opt;
			int64_t gold_index = -1;
			size_t nopt;
			char *gen_norm, *gold_norm = NULL;

			if (rc < 0)
				die("%s", loam_error());
			read_task_record(r, &tr, 1);
			if (need_str(r, "generation", &gen))
				die("%s", loam_error());
			nopt = tr.nopt;
			/* Gold: an index into the options, or the answer's text. */
			rc = rec_get_int(r, "answer", &gold_index);
			if (rc == REC_OK) {
				if (gold_index < 0 || (size_t)gold_index >= nopt)
					die("%s: field 'answer': %lld is not an option index",
					    rec_where(r), (long long)gold_index);
				gold_text = opt[gold_index];
			} else if (rc == REC_BAD && rec_get_str(r, "answer", &gold_text, NULL) != REC_OK)
				die("%s: field 'answer': expected an option index or a string",
				    rec_where(r));
			gen_norm = xstrdup(normalise(gen, &scratch, &na));
			if (gold_text)
				gold_norm = xstrdup(normalise(gold_text, &scratch, &na));

			for (size_t k = 0; k < nuse; k++) {
				const struct cookbook_template *t = use[k];
				struct align_cell *cell = align_cell(&tab, t, tr.task);
				struct cookbook_query q = { tr.context, tr.question, opt, nopt };
				int answer = -1, rule_ok;

				cell->n++;
				if (t->has_options && nopt == 0) {
					cell->rule_failed++;
					continue;
				}
				cookbook_buf_reset(&ruleout);
				rule_ok = t->rule(t, st.param[catalogue_index(&st, t)], &q,
				    &ruleout, &answer) == 0;
				if (!rule_ok) {
					cell->rule_failed++;
				} else {
					cookbook_buf_add(&ruleout, "", 1);
					const char *rn = normalise(ruleout.s, &scratch, &nb);

					if (strcmp(rn, gen_norm) == 0)
						cell->aligned++;
					if (gold_norm) {
						int right = t->has_options && gold_index >= 0 ?
						    answer == gold_index : strcmp(rn, gold_norm) == 0;
						int model = strcmp(gen_norm, gold_norm) == 0;

						cell->gold++;
						cell->rule_right += right;
						cell->model_right += model;
						if (right)
							cell->model_right_rule_right += model;
						else
							cell->model_right_rule_wrong += model;
					}
				}
			}
			free(gen_norm);
			free(gold_norm);
		}
		rec_reader_close(&rd);
	}

	fp = cli_out_open(&out, o.output);
	for (size_t i = 0; i < tab.n; i++) {
		struct align_cell *cl = &tab.cell[i];

		printbuf_reset(pb);
		printbuf_memappend(pb, "{", 1);
		put_str(pb, "template", cl->t->name, strlen(cl->t->name), 1);
		put_str(pb, "task", cl->task, strlen(cl->task), 0);
		put_count(pb, "n", cl->n);
		put_ratio(pb, "alignment", cl->aligned, cl->n);
		put_count(pb, "rule_failures", cl->rule_failed);
		put_count(pb, "n_gold", cl->gold);
		put_ratio(pb, "rule_accuracy", cl->rule_right, cl->gold);
		put_ratio(pb, "model_accuracy", cl->model_right, cl->gold);
		put_ratio(pb, "model_accuracy_rule_right", cl->model_right_rule_right, cl->rule_right);
		put_ratio(pb, "model_accuracy_rule_wrong", cl->model_right_rule_wrong,
		    cl->gold - cl->rule_right);
		printbuf_memappend(pb, "}\n", 2);
		if (fwrite(pb->buf, 1, (size_t)pb->bpos, fp) != (size_t)pb->bpos)
			cli_write_failed(o.output ? o.output : "stdout");
		free(cl->task);
	}
	cli_out_commit(&out);
	free(tab.cell);
	printbuf_free(pb);
	cookbook_buf_release(&scratch);
	cookbook_buf_release(&ruleout);
	cookbook_buf_release(&na);
	cookbook_buf_release(&nb);
	settings_release(&st);
	return cli_exit();
}

/* ---- mix ---- */

/*
 * Cookbook-Mix, as far as the paper's abstract and reviews describe it
 * (weights from each template rule's accuracy on each target task,
 * estimated without labels by weak supervision); the estimator and the
 * objective below are this program's design.
 *
 * For each task, every template rule votes on every example; the votes go
 * to the triplet label model (lib/labelmodel), which estimates each rule's
 * accuracy without labels:
 *  - on a task whose examples have options, each (example, option) pair
 *    is an item whose label says whether the option is the answer; a rule
 *    votes +1 for the option it picks and -1 for the others, and its task
 *    accuracy is the label model's P(vote = +1 | y = +1) (the class
 *    balance is the mean of 1/K);
 *  - on a task without options, a rule that answers yes or no votes +1 or
 *    -1, and its accuracy is P(vote = y | vote != 0) (class balance 1/2);
 *  - a rule that does not apply, or ties, abstains.
 * Rules that vote alike on every item are one source to the label model
 * and share its estimate; at least three distinct sources are needed.
 * The weights maximise the mean estimated accuracy over tasks plus
 * temperature times the entropy of the weights:
 *	w = argmax_w sum_t w_t abar_t + T * H(w)  =>  w_t ∝ exp(abar_t / T),
 * abar_t being template t's accuracy averaged over the tasks where it was
 * estimated.
 */
struct mix_task {
	char *name;
	int has_options;	/* -1 until the first record */
	int8_t *votes;		/* items x nuse */
	size_t nitems, cap;
	double inv_k_sum;	/* sum of 1/K over examples */
	size_t nexamples;
};

static struct mix_task *
mix_task(struct mix_task **tasks, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*tasks)[i].name, name) == 0)
			return &(*tasks)[i];
	*tasks = xreallocarray(*tasks, *n + 1, sizeof **tasks);
	memset(&(*tasks)[*n], 0, sizeof **tasks);
	(*tasks)[*n].name = xstrdup(name);
	(*tasks)[*n].has_options = -1;
	return &(*tasks)[(*n)++];
}

static int8_t *
mix_item(struct mix_task *tk, size_t m)
{
	if (tk->nitems == tk->cap) {
		tk->cap = tk->cap ? tk->cap * 2 : 256;
		tk->votes = xreallocarray(tk->votes, tk->cap, m);
	}
	memset(tk->votes + tk->nitems * m, 0, m);
	return tk->votes + tk->nitems++ * m;
}

/* Estimate each source's accuracy on one task; acc[j] < 0 when unknown. */
static void
mix_estimate(const struct mix_task *tk, size_t m, double *acc)
{
	size_t *col = xcalloc(m, sizeof *col), *rep = xcalloc(m, sizeof *rep), nd = 0;
	int8_t *v;
	struct labelmodel lm;
	struct labelmodel_opts opts;

	for (size_t j = 0; j < m; j++)
		acc[j] = -1;
	/* Distinct sources that vote at all; rep[j] = its representative. */
	for (size_t j = 0; j < m; j++) {
		size_t i, d;
		int votes = 0;

		for (i = 0; i < tk->nitems && !votes; i++)
			votes = tk->votes[i * m + j] != 0;
		rep[j] = SIZE_MAX;
		if (!votes)
			continue;
		for (d = 0; d < nd; d++) {
			for (i = 0; i < tk->nitems; i++)
				if (tk->votes[i * m + j] != tk->votes[i * m + col[d]])
					break;
			if (i == tk->nitems)
				break;
		}
		if (d == nd)
			col[nd++] = j;
		rep[j] = d;
	}
	if (nd < 3) {
		cli_warn("task '%s': %zu distinct voting rule%s, the label model needs 3",
		    tk->name, nd, nd == 1 ? "" : "s");
		goto out;
	}
	v = xmalloc(tk->nitems * nd);
	for (size_t i = 0; i < tk->nitems; i++)
		for (size_t d = 0; d < nd; d++)
			v[i * nd + d] = tk->votes[i * m + col[d]];
	labelmodel_opts_default(&opts);
	opts.class_balance = tk->has_options ? tk->inv_k_sum / (double)tk->nexamples : 0.5;
	labelmodel_init(&lm, &opts);
	if (labelmodel_fit(&lm, v, tk->nitems, nd) != 0)
		cli_warn("task '%s': %s", tk->name, loam_error());
	else
		for (size_t j = 0; j < m; j++)
			if (rep[j] != SIZE_MAX && lm.ntriplets[rep[j]] > 0)
				acc[j] = tk->has_options ? lm.cond_pos[rep[j]] : lm.accuracy[rep[j]];
	labelmodel_release(&lm);
	free(v);
out:
	free(col);
	free(rep);
}

/* The sources of precomputed outputs: the first record's keys. */
static size_t
source_names(json_object *outs, char ***names)
{
	size_t n = 0;

	*names = xcalloc((size_t)json_object_object_length(outs) + 1, sizeof **names);
	json_object_object_foreach(outs, key, val) {
		(void)val;
		(*names)[n++] = xstrdup(key);
	}
	if (n == 0)
		die("the first record's 'outputs' is empty");
	return n;
}

/* Votes from precomputed outputs: an option task's output names an option
 * (compared as tokens), a task without options answers yes or no; null,
 * a missing source or anything else abstains. */
static void
external_votes(struct rec *r, json_object *outs, char *const *names, size_t m,
    const char *const *opt, size_t nopt, int8_t *const *item)
{
	static struct cookbook_buf scratch, a, b;

	json_object_object_foreach(outs, key, val) {
		size_t k;

		for (k = 0; k < m && strcmp(names[k], key) != 0; k++)
			;
		if (k == m)
			die("%s: output '%s' is not among the first record's", rec_where(r), key);
		if (!val)
			continue;
		if (!json_object_is_type(val, json_type_string))
			die("%s: output '%s': expected a string or null", rec_where(r), key);
		normalise(json_object_get_string(val), &scratch, &a);
		if (nopt) {
			size_t pick = nopt;

			for (size_t j = 0; j < nopt && pick == nopt; j++)
				if (strcmp(normalise(opt[j], &scratch, &b), a.s) == 0)
					pick = j;
			if (pick < nopt)
				for (size_t j = 0; j < nopt; j++)
					item[j][k] = j == pick ? 1 : -1;
		} else if (strcmp(a.s, "yes") == 0) {
			item[0][k] = 1;
		} else if (strcmp(a.s, "no") == 0) {
			item[0][k] = -1;
		}
	}
}

#define SOURCE(k) (names ? names[k] : use[k]->name)

static int
cmd_mix(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "templates", required_argument, NULL, OPT_TEMPLATES },
		{ "temperature", required_argument, NULL, OPT_TEMPERATURE },
		{ "details", no_argument, NULL, OPT_DETAILS },
		{ "param", required_argument, NULL, 'p' },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	struct settings st;
	struct rec_reader rd;
	struct rec *r;
	const struct cookbook_template *use[64];
	size_t nuse = 0, ntasks = 0;
	struct mix_task *tasks = NULL;
	json_object *outs = NULL;
	char **names = NULL;		/* sources of precomputed outputs */
	int external = -1;
	struct cookbook_buf scratch = { 0 }, ruleout = { 0 }, norm = { 0 };
	struct printbuf *pb = printbuf_new();
	struct cli_out out;
	double temperature = 0.1, *acc, *mean, *w, wsum = 0, best = -1;
	char *list = NULL;
	int c, rc, details = 0;
	FILE *fp;

	cli_init(&o, argc, argv, usage, help, 0);
	settings_init(&st);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS("p:"), longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TEMPLATES:
			list = optarg;
			break;
		case OPT_TEMPERATURE:
			temperature = cli_parse_double("--temperature", optarg, 1e-6, 1e6);
			break;
		case OPT_DETAILS:
			details = 1;
			break;
		case 'p':
			set_param(&st, optarg);
			break;
		default:
			cli_common_option(&o, c);
		}
	}
	argc -= optind;
	argv += optind;
	nuse = choose_templates(&st, list, use, sizeof use / sizeof *use);

	for (int f = 0; f < (argc ? argc : 1); f++) {
		if (rec_reader_open(&rd, argc ? argv[f] : "-") != 0) {
			cli_warn("%s", loam_error());
			continue;
		}
		while ((rc = rec_next(&rd, &r)) != 0) {
			struct task_record tr;
			const char *task, *const *opt = tr.opt;
			struct mix_task *tk;
			size_t nopt;
			int8_t *item[COOKBOOK_MAX_OPTIONS];

			if (rc < 0)
				die("%s", loam_error());
			rc = rec_get_object(r, "outputs", &outs);
			if (rc == REC_BAD)
				die("%s: %s", rec_where(r), loam_error());
			if (external < 0)
				external = rc == REC_OK;
			else if (external != (rc == REC_OK))
				die("%s: some records have 'outputs' and some not", rec_where(r));
			read_task_record(r, &tr, !external);
			task = tr.task;
			nopt = tr.nopt;
			if (external && !names)
				nuse = source_names(outs, &names);
			tk = mix_task(&tasks, &ntasks, task);
			if (tk->has_options < 0)
				tk->has_options = nopt > 0;
			else if (tk->has_options != (nopt > 0))
				die("%s: task '%s' mixes examples with and without options",
				    rec_where(r), task);
			if (nopt == 1)
				die("%s: one option is no choice", rec_where(r));
			tk->nexamples++;
			if (nopt)
				tk->inv_k_sum += 1.0 / (double)nopt;
			for (size_t j = 0; j < (nopt ? nopt : 1); j++)
				item[j] = mix_item(tk, nuse);
			if (external) {
				external_votes(r, outs, names, nuse, opt, nopt, item);
				continue;
			}
			for (size_t k = 0; k < nuse; k++) {
				const struct cookbook_template *t = use[k];
				struct cookbook_query q = { tr.context, tr.question, opt, nopt };
				int answer = -1;

				if (nopt && !t->has_options)
					continue;		/* abstains */
				cookbook_buf_reset(&ruleout);
				if (t->rule(t, st.param[catalogue_index(&st, t)], &q,
				    &ruleout, &answer) != 0)
					continue;		/* abstains */
				if (nopt) {
					for (size_t j = 0; j < nopt; j++)
						item[j][k] = (int)j == answer ? 1 : -1;
				} else {
					const char *a = normalise(ruleout.s, &scratch, &norm);

					if (strcmp(a, "yes") == 0)
						item[0][k] = 1;
					else if (strcmp(a, "no") == 0)
						item[0][k] = -1;
				}
			}
		}
		rec_reader_close(&rd);
	}
	if (ntasks == 0)
		die("no task records");

	acc = xcalloc(ntasks * nuse, sizeof *acc);
	mean = xcalloc(nuse, sizeof *mean);
	w = xcalloc(nuse, sizeof *w);
	for (size_t i = 0; i < ntasks; i++)
		mix_estimate(&tasks[i], nuse, acc + i * nuse);
	for (size_t k = 0; k < nuse; k++) {
		size_t known = 0;

		for (size_t i = 0; i < ntasks; i++)
			if (acc[i * nuse + k] >= 0) {
				mean[k] += acc[i * nuse + k];
				known++;
			}
		mean[k] = known ? mean[k] / (double)known : -1;
		if (mean[k] > best)
			best = mean[k];
	}
	if (best < 0)
		die("no template's accuracy could be estimated on any task");
	/* Softmax, shifted by the best for range: w_t ∝ exp((a_t - best) / T). */
	for (size_t k = 0; k < nuse; k++) {
		w[k] = mean[k] < 0 ? 0 : exp((mean[k] - best) / temperature);
		wsum += w[k];
	}

	fp = cli_out_open(&out, o.output);
	if (details) {
		for (size_t k = 0; k < nuse; k++)
			for (size_t i = 0; i < ntasks; i++) {
				printbuf_reset(pb);
				printbuf_memappend(pb, "{", 1);
				put_str(pb, "template", SOURCE(k), strlen(SOURCE(k)), 1);
				put_str(pb, "task", tasks[i].name, strlen(tasks[i].name), 0);
				put_count(pb, "examples", tasks[i].nexamples);
				put_number(pb, "accuracy", acc[i * nuse + k]);
				put_number(pb, "mean_accuracy", mean[k]);
				put_number(pb, "weight", w[k] / wsum);
				printbuf_memappend(pb, "}\n", 2);
				if (fwrite(pb->buf, 1, (size_t)pb->bpos, fp) != (size_t)pb->bpos)
					cli_write_failed(o.output ? o.output : "stdout");
			}
	} else {
		int first = 1;

		/* One map template -> weight: the --mix file of cookbook-gen gen. */
		printbuf_reset(pb);
		printbuf_memappend(pb, "{", 1);
		for (size_t k = 0; k < nuse; k++)
			if (w[k] > 0) {
				char num[40];
				int n = snprintf(num, sizeof num, "%.17g", w[k] / wsum);

				put_key(pb, SOURCE(k), first);
				printbuf_memappend(pb, num, n);
				first = 0;
			}
		printbuf_memappend(pb, "}\n", 2);
		if (fwrite(pb->buf, 1, (size_t)pb->bpos, fp) != (size_t)pb->bpos)
			cli_write_failed(o.output ? o.output : "stdout");
	}
	cli_out_commit(&out);
	for (size_t i = 0; i < ntasks; i++) {
		free(tasks[i].name);
		free(tasks[i].votes);
	}
	for (size_t k = 0; names && k < nuse; k++)
		free(names[k]);
	free(names);
	free(tasks);
	free(acc);
	free(mean);
	free(w);
	printbuf_free(pb);
	cookbook_buf_release(&scratch);
	cookbook_buf_release(&ruleout);
	cookbook_buf_release(&norm);
	settings_release(&st);
	return cli_exit();
}

/* ---- main ---- */

int
main(int argc, char *argv[])
{
	static const struct cli_command commands[] = {
		{ "list", cmd_list, NULL },
		{ "gen", cmd_gen, NULL },
		{ "check", cmd_check, NULL },
		{ "align", cmd_align, NULL },
		{ "mix", cmd_mix, NULL },
	};

	return cli_subcommand(argc, argv, commands, sizeof commands / sizeof *commands,
	    NULL, usage, help);
}
