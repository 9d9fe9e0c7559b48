/*
 * meteor-sim - the METEOR score as NLTK computes it, and SuperHF's METEOR
 * similarity, the collapse metric of Mukobi et al. (2023); see
 * meteor-sim(1).
 *
 * The metric is lib/method/meteor.c (with porter.c and wordnet.c); this
 * file reads texts, groups them and writes the scores.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "meteor.h"
#include "rec.h"
#include "recw.h"
#include "rng.h"
#include "stream.h"
#include "strtab.h"
#include "superhf.h"
#include "util.h"
#include "wordnet.h"

enum {
	OPT_TEXT_FIELD = CLI_LONG, OPT_GROUP_FIELD, OPT_HYP_FIELD, OPT_REF_FIELD,
	OPT_DELIMITER, OPT_PAIRS, OPT_ALPHA, OPT_BETA, OPT_GAMMA, OPT_STAGES, OPT_WORDNET,
	OPT_SKIP_BAD,
};

#define METRIC_OPTIONS \
	{ OPT_DELIMITER, "delimiter", "str", "STR", \
	    "score only what follows the first STR (SuperHF: \"\\n\\nAssistant:\")" }, \
	{ OPT_STAGES, "stages", "list", "LIST", \
	    "exact, exact,stem or exact,stem,synonym (default, as NLTK)" }, \
	{ OPT_WORDNET, "wordnet", "dir", "DIR", "the WordNet 3.0 database (" WORDNET_DIR ")" }, \
	{ OPT_ALPHA, "alpha", "a", "A", "precision's weight in F (default 0.9)" }, \
	{ OPT_BETA, "beta", "b", "B", "the penalty's exponent (default 3)" }, \
	{ OPT_GAMMA, "gamma", "g", "G", "the penalty's weight (default 0.5)" }, \
	{ OPT_SKIP_BAD, "skip-bad", NULL, NULL, "report and skip bad records" }, \
	{ 'o', "output", "file", "FILE", "write to FILE atomically" }

static const struct cli_option pairs_options[] = {
	{ 'q', "quiet", NULL, NULL, "no summary line on stderr" },
	{ OPT_PAIRS, "pairs", "all|n", "all|N",
	    "every ordered pair (default), or N bootstrap draws per group" },
	{ 's', "seed", "seed", "SEED", "the bootstrap's seed (default 0)" },
	{ OPT_TEXT_FIELD, "text-field", "name", "NAME", "the text (default completion)" },
	{ OPT_GROUP_FIELD, "group-field", "name", "NAME",
	    "the group (default dataset; \"\": one group)" },
	METRIC_OPTIONS,
	CLI_OPTIONS_END
};
static const struct cli_spec pairs_spec = {
	"pairs", "[file ...]",
	"METEOR similarity of pairs within each group (SuperHF).",
	pairs_options,
	"Writes a record per group and one for all: meteor_similarity, stderr, pairs.\n"
};

static const struct cli_option score_options[] = {
	{ 'q', "quiet", NULL, NULL, "no summary line on stderr" },
	{ OPT_HYP_FIELD, "hyp-field", "name", "NAME", "the hypothesis (default hypothesis)" },
	{ OPT_REF_FIELD, "ref-field", "name", "NAME", "the reference (default reference)" },
	METRIC_OPTIONS,
	CLI_OPTIONS_END
};
static const struct cli_spec score_spec = {
	"score", "[file ...]",
	"METEOR of each hypothesis against its reference (NLTK's).",
	score_options,
	"Adds meteor to each record.\n"
};

/* What both commands share: the metric and how texts are cut. */
struct metric {
	struct meteor_params p;
	const char *wordnet_dir;
	char *delimiter;
	int skip_bad;
	struct wordnet *wn;
	struct meteor *m;
};

/* The options both commands share; 1 if c was one of them. */
static int
metric_option(struct metric *mt, int c, const char *arg)
{
	int stages;

	switch (c) {
	case OPT_DELIMITER:
		free(mt->delimiter);
		mt->delimiter = superhf_unescape(arg);
		return 1;
	case OPT_STAGES:
		if ((stages = meteor_parse_stages(arg)) < 0)
			usage_error("--stages: expected exact, exact,stem or exact,stem,synonym, "
			    "not '%s'", arg);
		mt->p.stages = (unsigned)stages;
		return 1;
	case OPT_WORDNET: mt->wordnet_dir = arg; return 1;
	case OPT_ALPHA: mt->p.alpha = cli_parse_double("--alpha", arg, 0, 1); return 1;
	case OPT_BETA: mt->p.beta = cli_parse_double("--beta", arg, 0, 1e6); return 1;
	case OPT_GAMMA: mt->p.gamma = cli_parse_double("--gamma", arg, 0, 1); return 1;
	case OPT_SKIP_BAD: mt->skip_bad = 1; return 1;
	}
	return 0;
}

static void
metric_open(struct metric *mt)
{
	if (mt->p.stages & METEOR_SYNONYM) {
		mt->wn = wordnet_open(mt->wordnet_dir);
		if (!mt->wn)
			die("%s (install wordnet-base, point --wordnet at WordNet 3.0, "
			    "or leave synonyms out with --stages exact,stem)", loam_error());
	}
	mt->m = meteor_new(&mt->p, mt->wn);
}

static void
metric_close(struct metric *mt)
{
	meteor_free(mt->m);
	wordnet_close(mt->wn);
	free(mt->delimiter);
}

/* The text of field in r, past the first delimiter when there is one;
 * -1 after rec_errorf. */
static int
text_of(struct metric *mt, struct rec *r, const char *field, struct meteor_text *t)
{
	const char *s, *d;
	size_t len;
	int rc = rec_get_str(r, field, &s, &len);

	if (rc == REC_ABSENT)
		return rec_errorf(r, "field '%s' missing", field);
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	if (mt->delimiter && *mt->delimiter && !memchr(s, '\0', len) &&
	    (d = strstr(s, mt->delimiter)) != NULL) {
		size_t skip = (size_t)(d - s) + strlen(mt->delimiter);

		s += skip;
		len -= skip;
	}
	meteor_prepare(mt->m, s, len, t);
	return 0;
}

/* pairs: texts held per group until the end of input. */
struct group {
	struct meteor_text *text;
	size_t n, cap;
};

struct pairs {
	struct metric mt;
	const char *text_field, *group_field;
	uint64_t draws;			/* 0: every ordered pair */
	struct strtab *keys;		/* the group keys; an id is a group's number */
	struct group *groups;
	size_t ngroups, cap;
};

/* The group of key: groups are numbered by their keys' ids. */
static struct group *
find_group(struct pairs *p, const char *key, size_t len)
{
	uint32_t id = strtab_intern(p->keys, key, len);

	if (id == p->ngroups) {
		if (p->ngroups == p->cap) {
			p->cap = p->cap ? 2 * p->cap : 16;
			p->groups = xreallocarray(p->groups, p->cap, sizeof *p->groups);
		}
		memset(&p->groups[p->ngroups++], 0, sizeof *p->groups);
	}
	return &p->groups[id];
}

static int
pairs_one(struct rec *r, void *arg)
{
	struct pairs *p = arg;
	const char *key = "";
	size_t len = 0;
	char num[24];
	struct group *g;
	struct meteor_text t;

	if (*p->group_field && rec_get_key(r, p->group_field, num, &key, &len) != 0)
		return -1;
	if (text_of(&p->mt, r, p->text_field, &t) != 0)
		return -1;
	g = find_group(p, key, len);
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->text = xreallocarray(g->text, g->cap, sizeof *g->text);
	}
	g->text[g->n++] = t;
	return 0;
}

/* A mean, its standard error and its count, pooled across groups. */
struct stat {
	uint64_t n;
	double mean, m2;
};

static void
stat_merge(struct stat *a, uint64_t n, double mean, double sd)
{
	double d = mean - a->mean, total = (double)(a->n + n);

	if (n == 0)
		return;
	a->m2 += (n > 1 ? sd * sd * (double)(n - 1) : 0) + d * d * (double)a->n * (double)n / total;
	a->mean += d * (double)n / total;
	a->n += n;
}

static void
write_stat(struct recw *w, uint64_t pairs, const struct stat *st)
{
	recw_uint(w, "pairs", pairs);
	if (st->n)
		recw_double(w, "meteor_similarity", st->mean);
	else
		recw_null(w, "meteor_similarity");
	if (st->n > 1)
		recw_double(w, "stderr", sqrt(st->m2 / (double)(st->n - 1) / (double)st->n));
	else
		recw_null(w, "stderr");
}

/* One group's similarity: every ordered pair, or the paper's bootstrap
 * (each draw's mean of both orders is one sample of the mean). */
static void
score_group(struct pairs *p, size_t gi, uint64_t seed, struct stat *st, uint64_t *pairs)
{
	struct group *g = &p->groups[gi];
	double sd;

	memset(st, 0, sizeof *st);
	*pairs = 0;
	if (g->n < 2)
		return;
	if (p->draws == 0) {
		double mean = meteor_similarity(p->mt.m, g->text, NULL, g->n, UINT64_MAX, NULL,
		    pairs, &sd);

		stat_merge(st, *pairs, mean, sd);
	} else {
		double *draw = xreallocarray(NULL, p->draws, sizeof *draw);
		struct rng r;

		rng_init(&r, seed, RNG_METEOR_PAIRS, gi);
		meteor_bootstrap(p->mt.m, g->text, g->n, p->draws, &r, draw);
		for (uint64_t d = 0; d < p->draws; d++)
			stat_merge(st, 1, draw[d], 0);
		*pairs = 2 * p->draws;
		free(draw);
	}
}

static int
cmd_pairs(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct stream s;
	struct recw w;
	struct pairs p = { .mt = { METEOR_PARAMS_NLTK, WORDNET_DIR, NULL, 0, NULL, NULL },
		.text_field = "completion", .group_field = "dataset" };
	struct stat all = { 0, 0, 0 };
	uint64_t all_pairs = 0, texts = 0;
	const char *arg;
	int c;

	cli_begin(&o, argc, argv, &pairs_spec, 0);
	while ((c = cli_next(&o, &arg)) != -1) {
		if (metric_option(&p.mt, c, arg))
			continue;
		switch (c) {
		case OPT_TEXT_FIELD: p.text_field = arg; break;
		case OPT_GROUP_FIELD: p.group_field = arg; break;
		case OPT_PAIRS:
			p.draws = strcmp(arg, "all") == 0 ? 0 :
			    cli_parse_u64("--pairs", arg, 1, UINT64_C(1) << 32);
			break;
		}
	}
	metric_open(&p.mt);
	p.keys = strtab_new();
	stream_init(&s, &o);
	s.skip_bad = p.mt.skip_bad;
	stream_run(&s, o.argc, o.argv, pairs_one, &p);
	recw_init(&w, cli_out_open(&out, o.output), o.output);
	for (size_t gi = 0; gi < p.ngroups; gi++) {
		struct group *g = &p.groups[gi];
		struct stat st;
		uint64_t pairs;
		const char *key;
		size_t keylen;

		score_group(&p, gi, o.seed, &st, &pairs);
		recw_begin(&w);
		recw_str(&w, "type", "group");
		key = strtab_str(p.keys, (uint32_t)gi, &keylen);
		recw_strn(&w, "group", key, keylen);
		recw_uint(&w, "texts", g->n);
		write_stat(&w, pairs, &st);
		recw_end(&w);
		stat_merge(&all, st.n, st.mean, st.n > 1 ? sqrt(st.m2 / (double)(st.n - 1)) : 0);
		all_pairs += pairs;
		texts += g->n;
		for (size_t i = 0; i < g->n; i++)
			meteor_text_release(&g->text[i]);
		free(g->text);
	}
	recw_begin(&w);
	recw_str(&w, "type", "overall");
	recw_uint(&w, "groups", p.ngroups);
	recw_uint(&w, "texts", texts);
	write_stat(&w, all_pairs, &all);
	recw_end(&w);
	cli_out_commit(&out);
	if (!o.quiet)
		note("%zu group%s, %llu texts, %llu pairs: METEOR similarity %.4g", p.ngroups,
		    p.ngroups == 1 ? "" : "s", (unsigned long long)texts,
		    (unsigned long long)all_pairs, all.n ? all.mean : NAN);
	recw_release(&w);
	strtab_free(p.keys);
	free(p.groups);
	metric_close(&p.mt);
	return cli_exit();
}

struct score {
	struct metric mt;
	const char *hyp_field, *ref_field;
	struct recw w;
	uint64_t n;
	double sum;
};

static int
score_one(struct rec *r, void *arg)
{
	struct score *sc = arg;
	struct meteor_text hyp, ref;
	double s;

	if (text_of(&sc->mt, r, sc->hyp_field, &hyp) != 0)
		return -1;
	if (text_of(&sc->mt, r, sc->ref_field, &ref) != 0) {
		meteor_text_release(&hyp);
		return -1;
	}
	s = meteor_score(sc->mt.m, &hyp, &ref);
	meteor_text_release(&hyp);
	meteor_text_release(&ref);
	if (rec_set_double(r, "meteor", s) != 0)
		die("%s", loam_error());
	recw_rec(&sc->w, r);
	sc->n++;
	sc->sum += s;
	return 0;
}

static int
cmd_score(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct stream s;
	struct score sc = { .mt = { METEOR_PARAMS_NLTK, WORDNET_DIR, NULL, 0, NULL, NULL },
		.hyp_field = "hypothesis", .ref_field = "reference" };
	const char *arg;
	int c;

	cli_begin(&o, argc, argv, &score_spec, 0);
	while ((c = cli_next(&o, &arg)) != -1) {
		if (metric_option(&sc.mt, c, arg))
			continue;
		switch (c) {
		case OPT_HYP_FIELD: sc.hyp_field = arg; break;
		case OPT_REF_FIELD: sc.ref_field = arg; break;
		}
	}
	metric_open(&sc.mt);
	recw_init(&sc.w, cli_out_open(&out, o.output), o.output);
	stream_init(&s, &o);
	s.skip_bad = sc.mt.skip_bad;
	stream_run(&s, o.argc, o.argv, score_one, &sc);
	cli_out_commit(&out);
	if (!o.quiet)
		note("%llu pairs scored: mean METEOR %.4g", (unsigned long long)sc.n,
		    sc.n ? sc.sum / (double)sc.n : NAN);
	recw_release(&sc.w);
	metric_close(&sc.mt);
	return cli_exit();
}

int
main(int argc, char *argv[])
{
	static const struct cli_command commands[] = {
		{ "pairs", cmd_pairs, &pairs_spec },
		{ "score", cmd_score, &score_spec },
	};

	return cli_subcommand(argc, argv, commands, sizeof commands / sizeof *commands,
	    NULL, NULL, "Each command's options: meteor-sim COMMAND --help.\n");
}
