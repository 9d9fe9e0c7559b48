/*
 * cookbook-gen - instruction data from rule templates over random tokens
 * (Cookbook, Narayan, Chen, Bhatia and Re, COLM 2024); see cookbook-gen(1).
 *
 * The templates and their rules live in lib/method/cookbook*, Cookbook-Mix
 * in lib/method/cookbook_mix.c; this file is the command line: choosing
 * templates and counts, interleaving, sharding, output formats, and the
 * check, align and mix commands' records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "cookbook.h"
#include "cookbook_mix.h"
#include "cookbook_templates.h"
#include "cookbook_unique.h"
#include "htab.h"
#include "rec.h"
#include "recw.h"
#include "rng.h"
#include "stream.h"

enum {
	OPT_MIX = CLI_LONG, OPT_VOCAB, OPT_FORMAT, OPT_SHARD, OPT_TEMPLATES,
	OPT_TEMPERATURE, OPT_DETAILS, OPT_UNIQUE,
};

#define OPTION_QUIET	{ 'q', "quiet", NULL, NULL, "no summary on stderr" }
#define OPTION_OUTPUT	{ 'o', "output", "file", "FILE", "write to FILE atomically" }
#define OPTION_PARAM	{ 'p', "param", "[template.]name=value", "P=V", \
	"set a template parameter (name=value for every\n" \
	"                      template that has it, or template.name=value)" }
#define OPTION_VOCAB	{ OPT_VOCAB, "vocab", "file", "FILE", \
	"tokens, one per line (default: 1000 built-in\n" \
	"                      pseudo-words)" }
#define OPTION_TEMPLATES { OPT_TEMPLATES, "templates", "name,...", "L", \
	"the templates to apply (default: all with a rule\n" \
	"                      that reads natural-language input)" }

static const struct cli_option list_options[] = { CLI_OPTIONS_END };
static const struct cli_option gen_options[] = {
	OPTION_QUIET,
	{ 'n', "count", "count", "N", "examples to generate (default 1000)" },
	{ OPT_MIX, "mix", "file", "FILE", "YAML or JSON map template -> weight" },
	OPTION_PARAM,
	OPTION_VOCAB,
	{ OPT_FORMAT, "format", "record|alpaca|chat|text", "F",
	    "record (default), alpaca, chat or text" },
	{ 's', "seed", "seed", "N", "random seed (default 0)" },
	{ OPT_SHARD, "shard", "i/n", "I/N", "write only the I-th of N equal parts (0-based)" },
	{ OPT_UNIQUE, "unique", NULL, NULL, "no two examples of a template alike (per part)" },
	OPTION_OUTPUT,
	CLI_OPTIONS_END
};
static const struct cli_option check_options[] = {
	OPTION_QUIET,
	OPTION_PARAM,
	OPTION_VOCAB,
	CLI_OPTIONS_END
};
static const struct cli_option align_options[] = {
	OPTION_QUIET,
	OPTION_TEMPLATES,
	OPTION_PARAM,
	OPTION_OUTPUT,
	CLI_OPTIONS_END
};
static const struct cli_option mix_options[] = {
	OPTION_QUIET,
	{ OPT_DETAILS, "details", NULL, NULL,
	    "per template and task accuracies instead of the map" },
	OPTION_TEMPLATES,
	{ OPT_TEMPERATURE, "temperature", "t", "T",
	    "softmax temperature of the weights (default 0.1)" },
	OPTION_PARAM,
	OPTION_OUTPUT,
	CLI_OPTIONS_END
};

static const struct cli_spec list_spec = {
	"list", NULL, "the templates, as records", list_options, NULL
};
static const struct cli_spec gen_spec = {
	"gen", "[template ...]", "generate examples from templates", gen_options, NULL
};
static const struct cli_spec check_spec = {
	"check", "[file ...]", "re-derive each record's output with its template's rule",
	check_options, NULL
};
static const struct cli_spec align_spec = {
	"align", "[file ...]", "template alignment of a model's generations on task records",
	align_options, NULL
};
static const struct cli_spec mix_spec = {
	"mix", "[file ...]", "Cookbook-Mix: template weights from unlabeled task records",
	mix_options, NULL
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

/* A template's parameter values. */
static const long *
params_of(const struct settings *st, const struct cookbook_template *t)
{
	return st->param[catalogue_index(st, t)];
}

/* -p name=value or template.name=value. */
static void
set_param(struct settings *st, const char *opt)
{
	char *arg = xstrdup(opt), *eq = strchr(arg, '='), *dot, *name = arg;
	const char *only = NULL;
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
		st->param[i][k] = (long)cli_parse_i64(name, eq + 1, t->params[k].min,
		    t->params[k].max);
		hits++;
	}
	if (!hits)
		usage_error("--param: no template%s%s has a parameter '%s'",
		    only ? " " : "", only ? only : "", name);
	free(arg);
}

static void
load_vocab(struct settings *st)
{
	int rc = st->vocab_path ? cookbook_vocab_load(&st->vocab, st->vocab_path) :
	    cookbook_vocab_builtin(&st->vocab, COOKBOOK_VOCAB_DEFAULT);

	if (rc != 0)
		die("%s", loam_error());
}

/* ---- list ---- */

static int
cmd_list(int argc, char *argv[])
{
	struct cli_opts o;
	struct recw w;
	const struct cookbook_template *cat;
	const char *arg;
	size_t n;

	cli_begin(&o, argc, argv, &list_spec, 0);
	while (cli_next(&o, &arg) != -1)
		;
	if (o.argc)
		usage_error("list takes no arguments");
	recw_init(&w, stdout, NULL);
	cat = cookbook_templates(&n);
	for (size_t i = 0; i < n; i++) {
		const struct cookbook_template *t = &cat[i];

		recw_begin(&w);
		recw_str(&w, "name", t->name);
		recw_str(&w, "family", t->family);
		recw_str(&w, "task", t->task);
		recw_str(&w, "instruction", t->instruction);
		recw_object(&w, "parameters");
		for (size_t k = 0; k < t->nparams; k++)
			recw_int(&w, t->params[k].name, t->params[k].def);
		recw_close(&w);
		if (recw_end(&w) != 0)
			die("%s", loam_error());
	}
	recw_release(&w);
	return cli_exit();
}

/* ---- gen ---- */

/* The input as a model sees it in the alpaca, chat and text formats:
 * options, when there are any, follow it one per line. */
static void
model_input(struct cookbook_buf *b, const struct cookbook_example *ex)
{
	cookbook_buf_add(b, ex->input.s, ex->input.len);
	if (ex->noptions) {
		cookbook_buf_add(b, "\nOptions:", 9);
		for (size_t i = 0; i < ex->noptions; i++) {
			const char *o = cookbook_example_option(ex, i);

			cookbook_buf_add(b, "\n- ", 3);
			cookbook_buf_add(b, o, strlen(o));
		}
	}
}

/* The instruction, a blank line, and the model's input. */
static void
prompt(struct cookbook_buf *b, const struct cookbook_template *t,
    const struct cookbook_example *ex)
{
	cookbook_buf_reset(b);
	cookbook_buf_add(b, t->instruction, strlen(t->instruction));
	cookbook_buf_add(b, "\n\n", 2);
	model_input(b, ex);
}

static void
write_record(struct recw *w, uint64_t id, const struct cookbook_template *t,
    const struct cookbook_example *ex)
{
	recw_uint(w, "id", id);
	recw_str(w, "template", t->name);
	recw_str(w, "family", t->family);
	recw_str(w, "instruction", t->instruction);
	recw_strn(w, "input", ex->input.s, ex->input.len);
	recw_strn(w, "output", ex->output.s, ex->output.len);
	if (ex->noptions) {
		recw_array(w, "options");
		for (size_t i = 0; i < ex->noptions; i++)
			recw_str(w, NULL, cookbook_example_option(ex, i));
		recw_close(w);
		recw_int(w, "answer_index", ex->answer_index);
	}
	if (ex->skill)
		recw_str(w, "skill", ex->skill);
}

static void
write_example(struct recw *w, struct cookbook_buf *tmp, enum format fmt, uint64_t id,
    const struct cookbook_template *t, const struct cookbook_example *ex)
{
	recw_begin(w);
	switch (fmt) {
	case FMT_RECORD:
		write_record(w, id, t, ex);
		break;
	case FMT_ALPACA:
		cookbook_buf_reset(tmp);
		model_input(tmp, ex);
		recw_str(w, "instruction", t->instruction);
		recw_strn(w, "input", tmp->s, tmp->len);
		recw_strn(w, "output", ex->output.s, ex->output.len);
		break;
	case FMT_CHAT:
		prompt(tmp, t, ex);
		recw_array(w, "messages");
		recw_object(w, NULL);
		recw_str(w, "role", "user");
		recw_strn(w, "content", tmp->s, tmp->len);
		recw_close(w);
		recw_object(w, NULL);
		recw_str(w, "role", "assistant");
		recw_strn(w, "content", ex->output.s, ex->output.len);
		recw_close(w);
		recw_close(w);
		break;
	case FMT_TEXT:
		/* Instruction, a blank line, then input and output exactly
		 * as they join (for lego and addition: the reference string). */
		prompt(tmp, t, ex);
		if (ex->noptions)
			cookbook_buf_add(tmp, "\nAnswer: ", 9);
		cookbook_buf_add(tmp, ex->output.s, ex->output.len);
		recw_strn(w, "text", tmp->s, tmp->len);
		break;
	}
	if (recw_end(w) != 0)
		die("%s", loam_error());
}

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
	for (size_t i = 0; i < p->n; i++)
		if (cookbook_unique_check(p->t[i], params_of(st, p->t[i]), n[i]) != 0)
			die("%s", loam_error());
	seen = xcalloc(p->n, sizeof *seen);
	for (size_t i = 0; i < p->n; i++)
		/* room up front for a usual run; a huge one grows as it goes
		 * rather than claim gigabytes before its first example */
		seen[i] = cookbook_unique_new(p->t[i], params_of(st, p->t[i]),
		    (size_t)(n[i] < UNIQUE_RESERVE_MAX ? n[i] : UNIQUE_RESERVE_MAX));
	free(n);
	return seen;
}

struct gen {
	struct cli_opts o;
	struct settings st;
	struct plan plan;
	const char *mix;
	enum format fmt;
	uint64_t total, shard, nshards;
	int unique;
};

/* Options and operands into g, then the plan (templates and counts)
 * and the vocabulary, checked against each template. */
static void
gen_setup(struct gen *g, int argc, char *argv[])
{
	/* In enum format's order. */
	static const char *const formats[] = { "record", "alpaca", "chat", "text" };
	const char *arg;
	int c;

	cli_begin(&g->o, argc, argv, &gen_spec, 0);
	settings_init(&g->st);
	g->total = 1000;
	g->nshards = 1;
	while ((c = cli_next(&g->o, &arg)) != -1)
		switch (c) {
		case 'n':
			g->total = cli_parse_u64("--count", arg, 0, UINT64_MAX / 2);
			break;
		case 'p':
			set_param(&g->st, arg);
			break;
		case OPT_MIX:
			g->mix = arg;
			break;
		case OPT_VOCAB:
			g->st.vocab_path = arg;
			break;
		case OPT_FORMAT:
			g->fmt = (enum format)cli_parse_choice("--format", arg, formats, 4);
			break;
		case OPT_SHARD:
			cli_parse_shard("--shard", arg, &g->shard, &g->nshards);
			break;
		case OPT_UNIQUE:
			g->unique = 1;
			break;
		}
	if (g->mix && g->o.argc)
		usage_error("give templates or --mix, not both");
	if (g->mix)
		plan_from_mix(&g->plan, g->mix);
	else if (!g->o.argc)
		usage_error("no templates: name some, or give --mix "
		    "(cookbook-gen list shows them)");
	for (int i = 0; i < g->o.argc; i++) {
		const struct cookbook_template *t = cookbook_template_find(g->o.argv[i]);

		if (!t)
			usage_error("unknown template '%s' (cookbook-gen list shows them)",
			    g->o.argv[i]);
		plan_add(&g->plan, t, 1.0, "arguments");
	}
	plan_counts(&g->plan, g->total, g->mix ? g->mix : "arguments");
	load_vocab(&g->st);
	for (size_t i = 0; i < g->plan.n; i++)
		if (cookbook_template_check(g->plan.t[i], params_of(&g->st, g->plan.t[i]),
		    &g->st.vocab) != 0)
			die("%s", loam_error());
}

static int
cmd_gen(int argc, char *argv[])
{
	struct gen g = { 0 };
	struct cookbook_unique **seen = NULL;	/* --unique: per plan template */
	struct cli_out out;
	struct recw w;
	struct cookbook_example ex;
	struct cookbook_buf tmp = { 0 };
	struct progress prog;
	uint64_t lo, hi;

	gen_setup(&g, argc, argv);
	/* Shard s of S writes positions [total*s/S, total*(s+1)/S). */
	lo = (uint64_t)((unsigned __int128)g.total * g.shard / g.nshards);
	hi = (uint64_t)((unsigned __int128)g.total * (g.shard + 1) / g.nshards);
	if (g.unique)
		seen = unique_sets(&g.plan, &g.st, g.o.seed, lo, hi);
	recw_init(&w, cli_out_open(&out, g.o.output), g.o.output);
	cookbook_example_init(&ex);
	progress_init(&prog, "examples", hi - lo, g.o.quiet);
	for (uint64_t pos = lo; pos < hi; pos++) {
		/* The seeded shuffle interleaves the templates; each example
		 * is drawn from its own substream, so any position can be
		 * made without the ones before it. */
		uint64_t slot = rng_permute(pos, g.total, g.o.seed, RNG_COOKBOOK_ORDER);
		size_t i = plan_find(&g.plan, slot);
		const struct cookbook_template *t = g.plan.t[i];
		size_t ci = catalogue_index(&g.st, t);
		struct rng r;

		rng_init(&r, g.o.seed, RNG_COOKBOOK_EXAMPLES + ci, slot - g.plan.start[i]);
		if (!seen)
			t->generate(t, g.st.param[ci], &g.st.vocab, &r, &ex);
		else if (cookbook_unique_generate(seen[i], &g.st.vocab, &r, &ex) != 0)
			die("%s", loam_error());
		write_example(&w, &tmp, g.fmt, pos, t, &ex);
		if (((pos - lo) & 0xfff) == 0)
			progress_update(&prog, pos - lo);
	}
	prog.done = hi - lo;
	cli_out_commit(&out);
	if (g.o.output)
		progress_end(&prog);
	for (size_t i = 0; seen && i < g.plan.n; i++)
		cookbook_unique_free(seen[i]);
	free(seen);
	recw_release(&w);
	cookbook_example_release(&ex);
	cookbook_buf_release(&tmp);
	plan_release(&g.plan);
	settings_release(&g.st);
	return cli_exit();
}

/* ---- task records: check, align, mix ---- */

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
		return rec_errorf(r, "field 'options': more than %d options",
		    COOKBOOK_MAX_OPTIONS);
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

static int
read_task_record(struct rec *r, struct task_record *tr, int need_input)
{
	const char *const keys[] = { "task", "context", "question" };
	const char **dst[] = { &tr->task, &tr->context, &tr->question };

	tr->input = "";
	if ((need_input && need_str(r, "input", &tr->input)) ||
	    (!need_input && rec_get_str(r, "input", &tr->input, NULL) == REC_BAD) ||
	    record_options(r, tr->opt, &tr->nopt))
		return -1;
	for (size_t k = 0; k < 3; k++) {
		int rc = rec_get_str(r, keys[k], dst[k], NULL);

		if (rc == REC_BAD)
			return rec_errorf(r, "%s", loam_error());
		if (rc == REC_ABSENT)
			*dst[k] = k == 0 ? "-" : tr->input;
	}
	return 0;
}

/* The query a rule sees in a task record. */
static struct cookbook_query
task_query(const struct task_record *tr)
{
	struct cookbook_query q = { tr->context, tr->question, tr->opt, tr->nopt };

	return q;
}

/* --templates a,b,c, or every template but the skill synthetics, which
 * have no natural-language counterpart. */
static size_t
choose_templates(const struct settings *st, const char *list,
    const struct cookbook_template **use, size_t max)
{
	size_t n = 0;

	if (!list) {
		for (size_t i = 0; i < st->ntemplates && n < max; i++)
			if (strcmp(st->catalogue[i].family, "skill") != 0)
				use[n++] = &st->catalogue[i];
		return n;
	}
	char *whole = xstrdup(list), *copy = xstrdup(list), *cur = copy, *name;

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
	free(copy);
	return n;
}

/* A ratio, or null when the denominator is 0. */
static void
write_ratio(struct recw *w, const char *key, unsigned long num, unsigned long den)
{
	if (den)
		recw_double(w, key, (double)num / (double)den);
	else
		recw_null(w, key);
}

/* A number, or null for a negative ("unknown") value. */
static void
write_known(struct recw *w, const char *key, double v)
{
	if (v < 0)
		recw_null(w, key);
	else
		recw_double(w, key, v);
}

/* ---- check ---- */

struct check {
	struct settings st;
	struct cookbook_buf scratch, rule_out;
	unsigned long records, mismatches;
};

static int
check_one(struct rec *r, void *arg)
{
	struct check *ck = arg;
	const char *name, *input, *output, *opt[COOKBOOK_MAX_OPTIONS];
	const struct cookbook_template *t;
	int64_t answer = -1;
	size_t nopt;

	ck->records++;
	if (need_str(r, "template", &name) || need_str(r, "input", &input) ||
	    need_str(r, "output", &output) || record_options(r, opt, &nopt))
		return -1;
	if (!(t = cookbook_template_find(name)))
		return rec_errorf(r, "unknown template '%s'", name);
	if (rec_get_int(r, "answer_index", &answer) == REC_BAD)
		return rec_errorf(r, "%s", loam_error());
	if (cookbook_verify(t, params_of(&ck->st, t), input, opt, nopt, output, (int)answer,
	    &ck->scratch, &ck->rule_out) != 0) {
		note("%s: template '%s': %s", rec_where(r), name, loam_error());
		ck->mismatches++;
	}
	return 0;
}

static int
cmd_check(int argc, char *argv[])
{
	struct cli_opts o;
	struct check ck = { 0 };
	struct stream s;
	const char *arg;
	int c, rc;

	cli_begin(&o, argc, argv, &check_spec, 0);
	settings_init(&ck.st);
	while ((c = cli_next(&o, &arg)) != -1)
		switch (c) {
		case 'p':
			set_param(&ck.st, arg);
			break;
		case OPT_VOCAB:
			ck.st.vocab_path = arg;	/* accepted for symmetry with gen */
			break;
		}
	stream_init(&s, &o);
	stream_run(&s, o.argc, o.argv, check_one, &ck);
	if (!o.quiet)
		note("checked %lu record%s: %lu mismatch%s", ck.records,
		    ck.records == 1 ? "" : "s", ck.mismatches, ck.mismatches == 1 ? "" : "es");
	cookbook_buf_release(&ck.scratch);
	cookbook_buf_release(&ck.rule_out);
	settings_release(&ck.st);
	rc = cli_exit();
	return ck.mismatches ? EXIT_FAIL : rc;
}

/* ---- align ---- */

struct align_cell {
	char *task;
	const struct cookbook_template *t;
	unsigned long n, aligned, rule_failed, gold, rule_right, model_right,
	    model_right_rule_right, model_right_rule_wrong;
};

struct align {
	struct settings st;
	const struct cookbook_template *use[64];
	size_t nuse;
	struct align_cell *cell;	/* in order of first appearance */
	size_t ncells;
	struct htab *cells;		/* hash of (template, task) -> cell index */
	struct cookbook_words words;
	struct cookbook_buf rule_out, gen, gold, rule;
};

/* The cell of (t, task), found through a hash table (a scan per record
 * was quadratic in the tasks); two cells whose hashes collide (2^-64 a
 * pair) are told apart by a scan. */
static struct align_cell *
align_cell(struct align *a, const struct cookbook_template *t, const char *task)
{
	uint64_t key = htab_hash(task, strlen(task), (uint64_t)catalogue_index(&a->st, t));
	int is_new;
	struct htab_slot *slot = htab_insert(a->cells, key, &is_new);
	struct align_cell *c;

	if (is_new) {
		slot->count = a->ncells;
	} else {
		c = &a->cell[slot->count];
		if (c->t == t && strcmp(c->task, task) == 0)
			return c;
		for (size_t i = 0; i < a->ncells; i++)
			if (a->cell[i].t == t && strcmp(a->cell[i].task, task) == 0)
				return &a->cell[i];
	}
	a->cell = xreallocarray(a->cell, a->ncells + 1, sizeof *a->cell);
	c = &a->cell[a->ncells++];
	memset(c, 0, sizeof *c);
	c->t = t;
	c->task = xstrdup(task);
	return c;
}

/* The gold answer: an index into the options, or the answer's text
 * (NULL: none). */
static int
read_gold(struct rec *r, const struct task_record *tr, int64_t *index, const char **text)
{
	int rc = rec_get_int(r, "answer", index);

	*text = NULL;
	if (rc == REC_OK) {
		if (*index < 0 || (size_t)*index >= tr->nopt)
			return rec_errorf(r, "field 'answer': %lld is not an option index",
			    (long long)*index);
		*text = tr->opt[*index];
	} else if (rc == REC_BAD && rec_get_str(r, "answer", text, NULL) != REC_OK) {
		return rec_errorf(r, "field 'answer': expected an option index or a string");
	}
	return 0;
}

/* Template t's rule on one record, counted in its cell. */
static void
align_rule(struct align *a, const struct cookbook_template *t, const struct task_record *tr,
    const char *gen, const char *gold, int64_t gold_index)
{
	struct align_cell *cell = align_cell(a, t, tr->task);
	struct cookbook_query q = task_query(tr);
	int answer = -1;

	cell->n++;
	if (t->has_options && tr->nopt == 0) {
		cell->rule_failed++;
		return;
	}
	cookbook_buf_reset(&a->rule_out);
	if (t->rule(t, params_of(&a->st, t), &q, &a->rule_out, &answer) != 0) {
		cell->rule_failed++;
		return;
	}
	const char *rn = cookbook_words_join(&a->words, a->rule_out.s, &a->rule);

	if (strcmp(rn, gen) == 0)
		cell->aligned++;
	if (gold) {
		int right = t->has_options && gold_index >= 0 ?
		    answer == gold_index : strcmp(rn, gold) == 0;
		int model = strcmp(gen, gold) == 0;

		cell->gold++;
		cell->rule_right += right;
		cell->model_right += model;
		if (right)
			cell->model_right_rule_right += model;
		else
			cell->model_right_rule_wrong += model;
	}
}

static int
align_one(struct rec *r, void *arg)
{
	struct align *a = arg;
	struct task_record tr;
	const char *gen, *gold_text, *gold = NULL;
	int64_t gold_index = -1;

	if (read_task_record(r, &tr, 1) || need_str(r, "generation", &gen) ||
	    read_gold(r, &tr, &gold_index, &gold_text))
		return -1;
	gen = cookbook_words_join(&a->words, gen, &a->gen);
	if (gold_text)
		gold = cookbook_words_join(&a->words, gold_text, &a->gold);
	for (size_t k = 0; k < a->nuse; k++)
		align_rule(a, a->use[k], &tr, gen, gold, gold_index);
	return 0;
}

static void
align_write(struct align *a, const char *path)
{
	struct cli_out out;
	struct recw w;

	recw_init(&w, cli_out_open(&out, path), path);
	for (size_t i = 0; i < a->ncells; i++) {
		struct align_cell *cl = &a->cell[i];

		recw_begin(&w);
		recw_str(&w, "template", cl->t->name);
		recw_str(&w, "task", cl->task);
		recw_uint(&w, "n", cl->n);
		write_ratio(&w, "alignment", cl->aligned, cl->n);
		recw_uint(&w, "rule_failures", cl->rule_failed);
		recw_uint(&w, "n_gold", cl->gold);
		write_ratio(&w, "rule_accuracy", cl->rule_right, cl->gold);
		write_ratio(&w, "model_accuracy", cl->model_right, cl->gold);
		write_ratio(&w, "model_accuracy_rule_right", cl->model_right_rule_right,
		    cl->rule_right);
		write_ratio(&w, "model_accuracy_rule_wrong", cl->model_right_rule_wrong,
		    cl->gold - cl->rule_right);
		if (recw_end(&w) != 0)
			die("%s", loam_error());
	}
	cli_out_commit(&out);
	recw_release(&w);
}

static int
cmd_align(int argc, char *argv[])
{
	struct cli_opts o;
	struct align a = { 0 };
	struct stream s;
	const char *arg, *list = NULL;
	int c;

	cli_begin(&o, argc, argv, &align_spec, 0);
	settings_init(&a.st);
	while ((c = cli_next(&o, &arg)) != -1)
		switch (c) {
		case OPT_TEMPLATES:
			list = arg;
			break;
		case 'p':
			set_param(&a.st, arg);
			break;
		}
	a.nuse = choose_templates(&a.st, list, a.use, sizeof a.use / sizeof *a.use);
	a.cells = htab_new(0, 0);
	stream_init(&s, &o);
	stream_run(&s, o.argc, o.argv, align_one, &a);
	align_write(&a, o.output);
	for (size_t i = 0; i < a.ncells; i++)
		free(a.cell[i].task);
	free(a.cell);
	htab_free(a.cells);
	cookbook_words_release(&a.words);
	cookbook_buf_release(&a.rule_out);
	cookbook_buf_release(&a.gen);
	cookbook_buf_release(&a.gold);
	cookbook_buf_release(&a.rule);
	settings_release(&a.st);
	return cli_exit();
}

/* ---- mix ---- */

struct mixrun {
	struct settings st;
	const struct cookbook_template *use[64];
	size_t nuse;
	char **names;		/* sources of precomputed outputs */
	int external;		/* -1 until the first record */
	int started;		/* mix made, with its sources */
	struct cookbook_mix mix;
};

#define SOURCE(x, k) ((x)->names ? (x)->names[k] : (x)->use[k]->name)

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
 * (compared as words), a task without options answers yes or no; null,
 * a missing source or anything else abstains. */
static int
external_votes(struct mixrun *x, struct rec *r, json_object *outs,
    const struct task_record *tr, int8_t *const *item)
{
	json_object_object_foreach(outs, key, val) {
		size_t k;

		for (k = 0; k < x->nuse && strcmp(x->names[k], key) != 0; k++)
			;
		if (k == x->nuse)
			return rec_errorf(r, "output '%s' is not among the first record's", key);
		if (!val)
			continue;
		if (!json_object_is_type(val, json_type_string))
			return rec_errorf(r, "output '%s': expected a string or null", key);
		cookbook_mix_text_vote(&x->mix, item, k, json_object_get_string(val),
		    tr->opt, tr->nopt);
	}
	return 0;
}

static int
mix_one(struct rec *r, void *arg)
{
	struct mixrun *x = arg;
	struct task_record tr;
	json_object *outs = NULL;
	int8_t *item[COOKBOOK_MAX_OPTIONS];
	int rc = rec_get_object(r, "outputs", &outs);

	if (rc == REC_BAD)
		return rec_errorf(r, "%s", loam_error());
	if (x->external < 0)
		x->external = rc == REC_OK;
	else if (x->external != (rc == REC_OK))
		return rec_errorf(r, "some records have 'outputs' and some not");
	if (read_task_record(r, &tr, !x->external))
		return -1;
	if (!x->started) {
		if (x->external)
			x->nuse = source_names(outs, &x->names);
		cookbook_mix_init(&x->mix, x->nuse);
		x->started = 1;
	}
	if (cookbook_mix_example(&x->mix, tr.task, tr.nopt, item) != 0)
		return rec_errorf(r, "%s", loam_error());
	if (x->external)
		return external_votes(x, r, outs, &tr, item);
	struct cookbook_query q = task_query(&tr);

	for (size_t k = 0; k < x->nuse; k++)
		cookbook_mix_rule_vote(&x->mix, item, k, x->use[k],
		    params_of(&x->st, x->use[k]), &q);
	return 0;
}

/* Per template and task accuracies (--details), or the map template ->
 * weight that is a --mix file of cookbook-gen gen. */
static void
mix_write(const struct mixrun *x, const char *path, int details, const double *acc,
    const double *mean, const double *w)
{
	const struct cookbook_mix *m = &x->mix;
	struct cli_out out;
	struct recw rw;

	recw_init(&rw, cli_out_open(&out, path), path);
	for (size_t k = 0; details && k < x->nuse; k++)
		for (size_t i = 0; i < m->ntasks; i++) {
			recw_begin(&rw);
			recw_str(&rw, "template", SOURCE(x, k));
			recw_str(&rw, "task", m->task[i].name);
			recw_uint(&rw, "examples", m->task[i].nexamples);
			write_known(&rw, "accuracy", acc[i * x->nuse + k]);
			write_known(&rw, "mean_accuracy", mean[k]);
			write_known(&rw, "weight", w[k]);
			if (recw_end(&rw) != 0)
				die("%s", loam_error());
		}
	if (!details) {
		recw_begin(&rw);
		for (size_t k = 0; k < x->nuse; k++)
			if (w[k] > 0)
				recw_double(&rw, SOURCE(x, k), w[k]);
		if (recw_end(&rw) != 0)
			die("%s", loam_error());
	}
	cli_out_commit(&out);
	recw_release(&rw);
}

static int
cmd_mix(int argc, char *argv[])
{
	struct cli_opts o;
	struct mixrun x = { 0 };
	struct stream s;
	const char *arg, *list = NULL;
	double temperature = 0.1, *acc, *mean, *w;
	int c, details = 0;

	cli_begin(&o, argc, argv, &mix_spec, 0);
	settings_init(&x.st);
	while ((c = cli_next(&o, &arg)) != -1)
		switch (c) {
		case OPT_TEMPLATES:
			list = arg;
			break;
		case OPT_TEMPERATURE:
			temperature = cli_parse_double("--temperature", arg, 1e-6, 1e6);
			break;
		case OPT_DETAILS:
			details = 1;
			break;
		case 'p':
			set_param(&x.st, arg);
			break;
		}
	x.nuse = choose_templates(&x.st, list, x.use, sizeof x.use / sizeof *x.use);
	x.external = -1;
	stream_init(&s, &o);
	stream_run(&s, o.argc, o.argv, mix_one, &x);
	if (x.mix.ntasks == 0)
		die("no task records");
	acc = xcalloc(x.mix.ntasks * x.nuse, sizeof *acc);
	mean = xcalloc(x.nuse, sizeof *mean);
	w = xcalloc(x.nuse, sizeof *w);
	for (size_t i = 0; i < x.mix.ntasks; i++)
		if (cookbook_mix_estimate(&x.mix, i, acc + i * x.nuse) != 0)
			cli_warn("%s", loam_error());
	if (cookbook_mix_weights(&x.mix, acc, temperature, mean, w) != 0)
		die("%s", loam_error());
	mix_write(&x, o.output, details, acc, mean, w);
	for (size_t k = 0; x.names && k < x.nuse; k++)
		free(x.names[k]);
	free(x.names);
	free(acc);
	free(mean);
	free(w);
	cookbook_mix_release(&x.mix);
	settings_release(&x.st);
	return cli_exit();
}

/* ---- main ---- */

int
main(int argc, char *argv[])
{
	static const struct cli_command commands[] = {
		{ "list", cmd_list, &list_spec },
		{ "gen", cmd_gen, &gen_spec },
		{ "check", cmd_check, &check_spec },
		{ "align", cmd_align, &align_spec },
		{ "mix", cmd_mix, &mix_spec },
	};

	return cli_subcommand(argc, argv, commands, sizeof commands / sizeof *commands,
	    NULL, NULL, NULL);
}
