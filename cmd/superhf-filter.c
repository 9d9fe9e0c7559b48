/*
 * superhf-filter - SuperHF's best-of-n filtering step (Mukobi et al.,
 * 2023): one superbatch of scored samples in, the training set out, and
 * a summary of the superbatch; see superhf-filter(1).
 *
 * The method is lib/method/superhf.c; this file reads candidates, keeps
 * one heap per group and writes what is kept.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "htab.h"
#include "meteor.h"
#include "rec.h"
#include "recw.h"
#include "rng.h"
#include "stream.h"
#include "superhf.h"
#include "utf8.h"
#include "util.h"
#include "wordnet.h"

enum {
	OPT_GROUP_FIELD = CLI_LONG, OPT_TEXT_FIELD, OPT_SCORE_FIELD, OPT_TRIM_REGEX,
	OPT_DELIMITER, OPT_NO_TRIM, OPT_MIN_CHARS, OPT_LENGTH_PENALTY, OPT_TOP_K,
	OPT_MIN_SCORE, OPT_MARGIN, OPT_SORTED, OPT_SUMMARY, OPT_SKIP_BAD, OPT_METEOR_PAIRS,
	OPT_WORDNET,
};

static const struct cli_option options[] = {
	{ 'q', "quiet", NULL, NULL, "no summary line on stderr" },
	{ OPT_SORTED, "sorted", NULL, NULL,
	    "groups arrive contiguous: emit each as it ends (memory: one group)" },
	{ OPT_NO_TRIM, "no-trim", NULL, NULL, "keep the completion text as it is" },
	{ OPT_SKIP_BAD, "skip-bad", NULL, NULL, "report and skip bad records" },
	{ OPT_GROUP_FIELD, "group-field", "name", "NAME", "the group key (default prompt_id)" },
	{ OPT_TEXT_FIELD, "text-field", "name", "NAME", "the completion (default completion)" },
	{ OPT_SCORE_FIELD, "score-field", "name", "NAME", "the reward (default score)" },
	{ OPT_DELIMITER, "delimiter", "str", "STR",
	    "the completion follows the first STR (default \"\\n\\nAssistant:\")" },
	{ OPT_TRIM_REGEX, "trim-regex", "re", "RE",
	    "cut at the first match (default \"\\n\\n[^:]+:|Human|Assistant\")" },
	{ OPT_MIN_CHARS, "min-chars", "n", "N", "drop completions shorter than N characters (1)" },
	{ OPT_LENGTH_PENALTY, "length-penalty", "c", "C", "score - C * ln(characters) (default 0)" },
	{ OPT_TOP_K, "top-k", "k", "K", "keep the K best of each group (default 1)" },
	{ OPT_MIN_SCORE, "min-score", "s", "S", "keep only scores of at least S" },
	{ OPT_MARGIN, "margin", "m", "M", "keep only scores at least M over the group's mean" },
	{ OPT_METEOR_PAIRS, "meteor-pairs", "n", "N",
	    "the summary's METEOR similarity: at most N pairs (100000; 0: none)" },
	{ 's', "seed", "seed", "SEED", "the seed of the pairs drawn beyond N (default 0)" },
	{ OPT_WORDNET, "wordnet", "dir", "DIR", "the WordNet 3.0 database (" WORDNET_DIR ")" },
	{ OPT_SUMMARY, "summary", "file", "FILE", "write the summary record to FILE (atomically)" },
	{ 'o', "output", "file", "FILE", "write the kept records to FILE atomically" },
	CLI_OPTIONS_END
};
static const struct cli_spec spec = {
	NULL, "[file ...]",
	"Keep the best-scored completions of each prompt (SuperHF's filter).",
	options,
	"Adds to each kept record: rank, n_candidates, score_mean, score_std.\n"
};

/* A candidate's line, kept in a heap; buffers displaced from a heap are
 * reused for the next candidates that enter one. */
struct line {
	struct line *next;	/* on the spare list */
	size_t len, cap;
	char text[];
};

/* One group: its key, its heap, and where it first came. */
struct group {
	char *key;
	uint32_t number;	/* in order of first sight */
	struct superhf_group g;
};

struct filter {
	/* Settings. */
	const char *group_field, *text_field, *score_field;
	struct superhf_trim trim;
	int do_trim, sorted;
	size_t min_chars, top_k;
	double length_penalty, min_score, margin;
	/* State. */
	struct htab *index;		/* key hash -> group number + 1; --sorted:
					   the hashes of the groups that ended */
	uint64_t groups_seen;
	struct group *groups;
	size_t ngroups, cap;
	uint64_t seq;
	struct group *last;		/* the previous record's group */
	struct line *spare;		/* line buffers to reuse */
	struct recw w;
	/* Summary. */
	uint64_t candidates, dropped_short, kept;
	double score_sum_all, score_sum_kept, chars_sum_kept;
	uint64_t kl_n;
	double kl_sum;
	/* The kept completions, for the METEOR similarity. */
	uint64_t meteor_pairs;
	struct wordnet *wn;
	struct meteor *meteor;
	struct meteor_text *kept_text;
	uint32_t *kept_group;
	size_t n_kept_text, cap_kept_text;
};

static struct group *
new_group(struct filter *f, const char *key, size_t len)
{
	if (f->ngroups == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->groups = xreallocarray(f->groups, f->cap, sizeof *f->groups);
		f->last = NULL;
	}
	f->groups[f->ngroups].key = xstrndup(key, len);
	f->groups[f->ngroups].number = (uint32_t)f->groups_seen;
	superhf_group_init(&f->groups[f->ngroups].g, f->top_k);
	f->groups_seen++;
	return &f->groups[f->ngroups++];
}

static int
same_key(const struct group *g, const char *key, size_t len)
{
	return strlen(g->key) == len && memcmp(g->key, key, len) == 0;
}

static struct group *
find_group(struct filter *f, const char *key, size_t len)
{
	struct htab_slot *sl;
	int is_new;

	/* Candidates of one prompt mostly come together. */
	if (f->last && same_key(f->last, key, len))
		return f->last;
	/* The table holds hashes only: on the rare collision of two keys,
	 * the next seed's hash is tried. */
	for (uint64_t seed = 0;; seed++) {
		sl = htab_insert(f->index, htab_hash(key, len, seed), &is_new);
		if (is_new) {
			sl->count = f->ngroups + 1;
			return f->last = new_group(f, key, len);
		}
		if (same_key(&f->groups[sl->count - 1], key, len))
			return f->last = &f->groups[sl->count - 1];
	}
}

static void emit_group(struct filter *f, struct group *gr);

/* --sorted: the group of this record, ending the one before when the key
 * changes.  A key seen again after its group ended means the input was
 * not sorted: an error, as the kept records of that group are out. */
static struct group *
sorted_group(struct filter *f, struct rec *r, const char *key, size_t len)
{
	int is_new;

	if (f->ngroups && same_key(&f->groups[0], key, len))
		return &f->groups[0];
	if (f->ngroups) {
		const char *old = f->groups[0].key;

		htab_insert(f->index, htab_hash(old, strlen(old), 0), &is_new);
		emit_group(f, &f->groups[0]);
		superhf_group_release(&f->groups[0].g);
		free(f->groups[0].key);
		f->ngroups = 0;
		f->last = NULL;
	}
	if (htab_lookup(f->index, htab_hash(key, len, 0))) {
		rec_errorf(r, "group '%.*s' again after it ended: the input is not sorted "
		    "by %s (leave out --sorted)", (int)(len > 64 ? 64 : len), key, f->group_field);
		return NULL;
	}
	return new_group(f, key, len);
}

/* The kept record as written: the trimmed completion in place of the
 * text, the prompt when the text held it and the record had none, and
 * the shaped score.  Trimming again here, for the few records kept,
 * spares every other candidate a rewritten copy. */
static void
edit_kept(struct filter *f, struct rec *r, double score, size_t *chars)
{
	const char *text;
	size_t len, start = 0, n, prompt_len = 0;
	char *completion, *prompt = NULL;

	if (rec_get_str(r, f->text_field, &text, &len) != REC_OK)
		die("%s", loam_error());
	n = len;
	if (f->do_trim)
		superhf_trim(&f->trim, text, len, &start, &n, &prompt_len);
	*chars = utf8_chars(text + start, n);
	/* Unchanged text is not replaced: the record keeps its line. */
	if ((!f->do_trim || (start == 0 && n == len)) && f->length_penalty == 0)
		return;
	completion = xstrndup(text + start, n);
	if (prompt_len && rec_get_str(r, "prompt", NULL, NULL) == REC_ABSENT)
		prompt = xstrndup(text, prompt_len);
	if ((f->do_trim && (start != 0 || n != len) &&
	    rec_set_str(r, f->text_field, completion) != 0) ||
	    (prompt && rec_set_str(r, "prompt", prompt) != 0) ||
	    (f->length_penalty != 0 && rec_set_double(r, "score_shaped", score) != 0))
		die("%s", loam_error());
	free(completion);
	free(prompt);
}

static void
drop_payload(void *payload, void *arg)
{
	struct filter *f = arg;
	struct line *l = payload;

	if (l) {
		l->next = f->spare;
		f->spare = l;
	}
}

static struct line *
line_copy(struct filter *f, const char *s, size_t len)
{
	struct line *l = f->spare;

	if (l)
		f->spare = l->next;
	if (!l || l->cap < len + 1) {
		size_t cap = len + 1 < 512 ? 512 : 2 * (len + 1);

		free(l);
		l = xmalloc(sizeof *l + cap);
		l->cap = cap;
	}
	memcpy(l->text, s, len);
	l->text[len] = '\0';
	l->len = len;
	return l;
}

/* Hold a kept completion's words for the summary's METEOR similarity. */
static void
keep_text(struct filter *f, struct rec *r, uint32_t group)
{
	const char *text;
	size_t len;

	if (rec_get_str(r, f->text_field, &text, &len) != REC_OK)
		die("%s", loam_error());
	if (f->n_kept_text == f->cap_kept_text) {
		f->cap_kept_text = f->cap_kept_text ? 2 * f->cap_kept_text : 256;
		f->kept_text = xreallocarray(f->kept_text, f->cap_kept_text, sizeof *f->kept_text);
		f->kept_group = xreallocarray(f->kept_group, f->cap_kept_text,
		    sizeof *f->kept_group);
	}
	meteor_prepare(f->meteor, text, len, &f->kept_text[f->n_kept_text]);
	f->kept_group[f->n_kept_text++] = group;
}

/* Write a group's kept records, best first, and forget them. */
static void
emit_group(struct filter *f, struct group *gr)
{
	struct superhf_group *g = &gr->g;
	size_t n = superhf_group_finish(g, f->min_score, f->margin, drop_payload, f);

	for (size_t i = 0; i < n; i++) {
		struct line *line = g->heap[i].payload;
		struct rec *r = rec_parse(line->text, line->len, "", 0);
		size_t chars;

		if (!r)
			die("%s", loam_error());
		edit_kept(f, r, g->heap[i].score, &chars);
		if (rec_set_int(r, "rank", (int64_t)i + 1) != 0 ||
		    rec_set_int(r, "n_candidates", (int64_t)g->n) != 0 ||
		    rec_set_double(r, "score_mean", g->mean) != 0 ||
		    rec_set_double(r, "score_std", superhf_group_sd(g)) != 0)
			die("%s", loam_error());
		recw_rec(&f->w, r);
		if (f->meteor)
			keep_text(f, r, gr->number);
		rec_free(r);
		f->kept++;
		f->score_sum_kept += g->heap[i].score;
		f->chars_sum_kept += (double)chars;
		drop_payload(line, f);
	}
	g->nkept = 0;
}

static int
one(struct rec *r, void *arg)
{
	struct filter *f = arg;
	const char *key, *text, *line;
	size_t keylen, len, start, n, prompt_len;
	double score, logp, ref_logp;
	char num[24];
	struct group *gr;
	int rc;

	if (rec_get_key(r, f->group_field, num, &key, &keylen) != 0)
		return -1;
	rc = rec_get_double(r, f->score_field, &score);
	if (rc == REC_ABSENT)
		return rec_errorf(r, "field '%s' missing", f->score_field);
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	rc = rec_get_str(r, f->text_field, &text, &len);
	if (rc == REC_ABSENT)
		return rec_errorf(r, "field '%s' missing", f->text_field);
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	if (memchr(text, '\0', len))
		return rec_errorf(r, "field '%s': holds a NUL character", f->text_field);
	if (f->sorted) {
		if (!(gr = sorted_group(f, r, key, keylen)))
			return -1;
	} else
		gr = find_group(f, key, keylen);
	f->candidates++;
	if (rec_get_double(r, "logp", &logp) == REC_OK &&
	    rec_get_double(r, "ref_logp", &ref_logp) == REC_OK) {
		f->kl_sum += logp - ref_logp;
		f->kl_n++;
	}
	start = 0;
	n = len;
	if (f->do_trim)
		superhf_trim(&f->trim, text, len, &start, &n, &prompt_len);
	/* Characters are counted only where they are needed: a length of
	 * zero is n == 0 whatever the encoding. */
	if (n == 0 || (f->min_chars > 1 && utf8_chars(text + start, n) < f->min_chars)) {
		f->dropped_short++;
		return 0;
	}
	if (f->length_penalty != 0)
		score = superhf_shaped_score(score, f->length_penalty, utf8_chars(text + start, n));
	f->score_sum_all += score;
	/* A candidate that cannot enter the heap is not copied. */
	if (gr->g.nkept == gr->g.k && score <= gr->g.heap[0].score) {
		superhf_group_offer(&gr->g, score, f->seq++, 0, NULL);
		return 0;
	}
	line = rec_to_string(r, &len);
	drop_payload(superhf_group_offer(&gr->g, score, f->seq++, 0, line_copy(f, line, len)), f);
	return 0;
}

/* SuperHF's collapse metric over the kept completions: ordered pairs of
 * different groups, all of them or --meteor-pairs drawn. */
static double
kept_similarity(struct filter *f, uint64_t seed, uint64_t *pairs)
{
	struct rng r;
	double sim;

	*pairs = 0;
	if (!f->meteor)
		return NAN;
	rng_init(&r, seed, RNG_METEOR_PAIRS, 0);
	sim = meteor_similarity(f->meteor, f->kept_text, f->kept_group, f->n_kept_text,
	    f->meteor_pairs, &r, pairs, NULL);
	for (size_t i = 0; i < f->n_kept_text; i++)
		meteor_text_release(&f->kept_text[i]);
	free(f->kept_text);
	free(f->kept_group);
	meteor_free(f->meteor);
	wordnet_close(f->wn);
	return sim;
}

static void
summary(struct filter *f, uint64_t groups, const struct cli_opts *o, const char *path)
{
	struct cli_out out;
	struct recw w;
	double n_mean = groups ? (double)f->candidates / (double)groups : 0;
	uint64_t scored = f->candidates - f->dropped_short;
	double all = scored ? f->score_sum_all / (double)scored : NAN;
	double kept = f->kept ? f->score_sum_kept / (double)f->kept : NAN;
	double len = f->kept ? f->chars_sum_kept / (double)f->kept : NAN;
	int have_meteor = f->meteor != NULL;
	uint64_t pairs;
	double sim = kept_similarity(f, o->seed, &pairs);

	if (!o->quiet) {
		char kl[64] = "", met[64] = "";

		if (f->kl_n)
			snprintf(kl, sizeof kl, ", KL %.4g", f->kl_sum / (double)f->kl_n);
		if (pairs)
			snprintf(met, sizeof met, ", METEOR similarity %.4g", sim);
		note("%llu group%s, %.1f candidates each, %llu kept: score %.4g -> %.4g, "
		    "length %.1f%s%s", (unsigned long long)groups, groups == 1 ? "" : "s", n_mean,
		    (unsigned long long)f->kept, all, kept, len, met, kl);
	}
	if (!path)
		return;
	recw_init(&w, cli_out_open(&out, path), path);
	recw_begin(&w);
	recw_str(&w, "type", "summary");
	recw_uint(&w, "groups", groups);
	recw_uint(&w, "candidates", f->candidates);
	recw_double(&w, "n_mean", n_mean);
	recw_uint(&w, "dropped_short", f->dropped_short);
	recw_uint(&w, "kept", f->kept);
	if (scored)
		recw_double(&w, "score_mean_all", all);
	else
		recw_null(&w, "score_mean_all");
	if (f->kept) {
		recw_double(&w, "score_mean_kept", kept);
		recw_double(&w, "len_mean_kept", len);
	} else {
		recw_null(&w, "score_mean_kept");
		recw_null(&w, "len_mean_kept");
	}
	if (have_meteor) {
		if (pairs)
			recw_double(&w, "meteor_similarity_kept", sim);
		else
			recw_null(&w, "meteor_similarity_kept");
		recw_uint(&w, "meteor_pairs", pairs);
	}
	if (f->kl_n)
		recw_double(&w, "kl_estimate", f->kl_sum / (double)f->kl_n);
	if (recw_end(&w) != 0)
		die("%s: %s", path, loam_error());
	cli_out_commit(&out);
	recw_release(&w);
}

int
main(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct stream s;
	struct filter f = {
		.group_field = "prompt_id", .text_field = "completion", .score_field = "score",
		.do_trim = 1, .min_chars = 1, .top_k = 1, .min_score = NAN, .margin = NAN,
		.meteor_pairs = 100000,
	};
	const char *arg, *delimiter = SUPERHF_DELIMITER, *regex = SUPERHF_TRIM_REGEX;
	const char *summary_path = NULL, *wordnet_dir = WORDNET_DIR;
	struct meteor_params mp = METEOR_PARAMS_NLTK;
	char *delim_copy, *regex_copy;
	uint64_t groups;
	int c, skip_bad = 0;

	cli_begin(&o, argc, argv, &spec, 0);
	while ((c = cli_next(&o, &arg)) != -1)
		switch (c) {
		case OPT_GROUP_FIELD: f.group_field = arg; break;
		case OPT_TEXT_FIELD: f.text_field = arg; break;
		case OPT_SCORE_FIELD: f.score_field = arg; break;
		case OPT_DELIMITER: delimiter = arg; break;
		case OPT_TRIM_REGEX: regex = arg; break;
		case OPT_NO_TRIM: f.do_trim = 0; break;
		case OPT_MIN_CHARS:
			f.min_chars = (size_t)cli_parse_u64("--min-chars", arg, 0, SIZE_MAX);
			break;
		case OPT_LENGTH_PENALTY:
			f.length_penalty = cli_parse_double("--length-penalty", arg, -1e300, 1e300);
			break;
		case OPT_TOP_K:
			f.top_k = (size_t)cli_parse_u64("--top-k", arg, 1, 1 << 20);
			break;
		case OPT_MIN_SCORE:
			f.min_score = cli_parse_double("--min-score", arg, -1e300, 1e300);
			break;
		case OPT_MARGIN:
			f.margin = cli_parse_double("--margin", arg, -1e300, 1e300);
			break;
		case OPT_SORTED: f.sorted = 1; break;
		case OPT_SUMMARY: summary_path = arg; break;
		case OPT_SKIP_BAD: skip_bad = 1; break;
		case OPT_METEOR_PAIRS:
			f.meteor_pairs = cli_parse_u64("--meteor-pairs", arg, 0, UINT64_MAX);
			break;
		case OPT_WORDNET: wordnet_dir = arg; break;
		}
	delimiter = delim_copy = superhf_unescape(delimiter);
	regex = regex_copy = superhf_unescape(regex);
	if (f.do_trim && superhf_trim_init(&f.trim, delimiter, regex) != 0)
		usage_error("%s", loam_error());
	if (f.meteor_pairs > 0) {
		if (!(f.wn = wordnet_open(wordnet_dir)))
			die("%s (install wordnet-base, point --wordnet at WordNet 3.0, or "
			    "leave the METEOR similarity out with --meteor-pairs 0)", loam_error());
		f.meteor = meteor_new(&mp, f.wn);
	}
	f.index = htab_new(0, 0);
	recw_init(&f.w, cli_out_open(&out, o.output), o.output);
	stream_init(&s, &o);
	s.skip_bad = skip_bad;
	stream_run(&s, o.argc, o.argv, one, &f);
	groups = f.groups_seen;
	for (size_t i = 0; i < f.ngroups; i++) {
		emit_group(&f, &f.groups[i]);
		superhf_group_release(&f.groups[i].g);
		free(f.groups[i].key);
	}
	cli_out_commit(&out);
	summary(&f, groups, &o, summary_path);
	recw_release(&f.w);
	while (f.spare) {
		struct line *l = f.spare;

		f.spare = l->next;
		free(l);
	}
	htab_free(f.index);
	free(f.groups);
	superhf_trim_release(&f.trim);
	free(delim_copy);
	free(regex_copy);
	return cli_exit();
}
