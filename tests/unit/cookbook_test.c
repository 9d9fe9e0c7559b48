/*
 * cookbook_test - lib/cookbook: every template's examples pass their own
 * rule (default parameters, other parameters, the smallest vocabulary
 * each allows, a vocabulary file with upper case and UTF-8), determinism,
 * label balance, Skill-It's exact strings, --unique's sets and distinct
 * counts, vocabulary files, the tokeniser, and the messages of rules that
 * cannot apply.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cookbook.h"
#include "cookbook_templates.h"
#include "cookbook_unique.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

#define SEED		UINT64_C(20240607)
#define PER_TEMPLATE	20000

static char tmpdir[128];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *
tmp_path(const char *name)
{
	static char path[256];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return path;
}

static void
spew(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (fp) {
		fwrite(text, 1, len, fp);
		fclose(fp);
	}
}

static size_t
template_index(const struct cookbook_template *t)
{
	size_t n;

	return (size_t)(t - cookbook_templates(&n));
}

/* ex's options as an array for parse. */
static size_t
options_of(const struct cookbook_example *ex, const char **opt)
{
	size_t i;

	for (i = 0; i < ex->noptions; i++)
		opt[i] = cookbook_example_option(ex, i);
	return ex->noptions;
}

static void
generate(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, uint64_t seed, uint64_t index,
    struct cookbook_example *ex)
{
	struct rng r;

	rng_init(&r, seed, template_index(t), index);
	t->generate(t, param, v, &r, ex);
}

/*
 * Generate count examples and verify each with parse + rule, and the
 * example's shape: options exactly for option templates, the answer's
 * text as output, a skill exactly for lego and addition.  Returns the
 * failures; the first is described in why.
 */
static size_t
generate_and_verify(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, uint64_t seed, size_t count, char *why,
    size_t whylen)
{
	struct cookbook_example ex;
	struct cookbook_buf scratch = { 0 }, out = { 0 };
	const char *opt[COOKBOOK_MAX_OPTIONS];
	size_t i, nopt, failures = 0;
	int skilled = strcmp(t->family, "skill") == 0;
	char problem[512];

	why[0] = '\0';
	cookbook_example_init(&ex);
	for (i = 0; i < count; i++) {
		generate(t, param, v, seed, i, &ex);
		nopt = options_of(&ex, opt);
		problem[0] = '\0';
		if (cookbook_verify(t, param, ex.input.s, opt, nopt, ex.output.s,
		    ex.answer_index, &scratch, &out) < 0)
			snprintf(problem, sizeof problem, "%s", loam_error());
		else if (t->has_options != (nopt > 0) ||
		    (nopt > 0) != (ex.answer_index >= 0))
			snprintf(problem, sizeof problem, "options %zu, answer %d",
			    nopt, ex.answer_index);
		else if (nopt && strcmp(ex.output.s, opt[ex.answer_index]))
			snprintf(problem, sizeof problem, "output is not the answer");
		else if (skilled != (ex.skill != NULL))
			snprintf(problem, sizeof problem, "skill %s",
			    ex.skill ? ex.skill : "(null)");
		else if (ex.output.len == 0)
			snprintf(problem, sizeof problem, "empty output");
		if (problem[0] && failures++ == 0)
			snprintf(why, whylen, "index %zu: %s; input '%s'", i,
			    problem, ex.input.s);
	}
	cookbook_example_release(&ex);
	cookbook_buf_release(&scratch);
	cookbook_buf_release(&out);
	return failures;
}

/* ---- the catalogue ---- */

static void
test_catalogue(const struct cookbook_vocab *v)
{
	static const char *const names[] = {
		"docqa-span", "mcq-overlap", "yesno-contains", "entity-match",
		"entity-disambig", "continuation", "fill-blank", "two-choice",
		"lego", "addition",
	};
	const struct cookbook_template *cat;
	long param[COOKBOOK_MAX_PARAMS];
	size_t n, i, j;
	int good;

	cat = cookbook_templates(&n);
	is_int((long long)n, 10, "catalogue: 10 templates");
	for (i = 0; i < n && i < 10; i++) {
		const struct cookbook_template *t = &cat[i];

		good = strcmp(t->name, names[i]) == 0 &&
		    cookbook_template_find(names[i]) == t &&
		    t->nparams <= COOKBOOK_MAX_PARAMS && t->instruction &&
		    t->task && t->context_label && t->generate && t->parse &&
		    t->rule;
		good = good && (!strcmp(t->family, "selection") ||
		    !strcmp(t->family, "search") ||
		    !strcmp(t->family, "comparison") ||
		    !strcmp(t->family, "skill"));
		for (j = 0; j < t->nparams; j++)
			good = good && t->params[j].min <= t->params[j].def &&
			    t->params[j].def <= t->params[j].max &&
			    cookbook_template_param_index(t, t->params[j].name) ==
			    (int)j && t->params[j].doc;
		cookbook_template_defaults(t, param);
		good = good && cookbook_template_check(t, param, v) == 0;
		ok(good, "catalogue: %s is complete and its defaults check",
		    names[i]);
	}
	ok(cookbook_template_find("nope") == NULL, "catalogue: unknown name");
	ok(cookbook_template_param_index(&cat[0], "nope") == -1,
	    "catalogue: unknown parameter");
}

/* ---- every example passes its rule ---- */

static void
test_all_verify(const struct cookbook_vocab *v)
{
	const struct cookbook_template *cat;
	long param[COOKBOOK_MAX_PARAMS];
	char why[1024];
	size_t n, i, failures;

	cat = cookbook_templates(&n);
	for (i = 0; i < n; i++) {
		cookbook_template_defaults(&cat[i], param);
		failures = generate_and_verify(&cat[i], param, v, SEED,
		    PER_TEMPLATE, why, sizeof why);
		if (!ok(failures == 0, "%s: %d examples pass parse + rule",
		    cat[i].name, PER_TEMPLATE))
			diag("%zu failures; first at %s", failures, why);
	}
}

/* Parameters away from the defaults, where the generators' repairs and
 * fallbacks do more of the work. */
static void
test_other_params(const struct cookbook_vocab *v)
{
	static const struct {
		const char *template;
		const char *set;	/* "name=value,..." */
	} cases[] = {
		{ "docqa-span", "doc_len=8,span_len=1,answer_len=1" },
		{ "docqa-span", "doc_len=5,span_len=2,answer_len=3" },
		{ "docqa-span", "doc_len=512,span_len=2,answer_len=20" },
		{ "mcq-overlap", "context_len=3,question_len=1,options=16,option_len=1" },
		{ "mcq-overlap", "context_len=200,question_len=50,options=2,option_len=30" },
		{ "yesno-contains", "passage_len=1,span_len=1" },
		{ "yesno-contains", "passage_len=30,span_len=30" },
		{ "yesno-contains", "passage_len=300,span_len=1" },
		{ "entity-match", "attrs=1,value_len=1,threshold=34" },
		{ "entity-match", "attrs=8,value_len=5,threshold=90" },
		{ "entity-match", "attrs=2,value_len=4,threshold=100" },
		{ "entity-disambig", "context_len=2,mention_len=1,options=16,desc_len=1" },
		{ "entity-disambig", "context_len=100,mention_len=5,options=3,desc_len=20" },
		{ "continuation", "seq_len=2,period_min=1,period_max=1,cont_len=1,options=16" },
		{ "continuation", "seq_len=40,period_min=1,period_max=20,cont_len=30,options=5" },
		{ "fill-blank", "context_len=1,sentence_len=1" },
		{ "fill-blank", "context_len=100,sentence_len=100" },
		{ "two-choice", "goal_len=1,solution_len=1" },
		{ "two-choice", "goal_len=50,solution_len=40" },
		{ "lego", "k=1" },
		{ "lego", "k=26,skill=25" },
		{ "lego", "k=12,skill=0" },
		{ "addition", "k=1" },
		{ "addition", "k=18,skill=17" },
		{ "addition", "k=9,skill=4" },
	};
	const struct cookbook_template *t;
	long param[COOKBOOK_MAX_PARAMS];
	char set[128], why[1024], *name, *value, *save;
	size_t i, failures;
	int idx;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		t = cookbook_template_find(cases[i].template);
		cookbook_template_defaults(t, param);
		snprintf(set, sizeof set, "%s", cases[i].set);
		for (name = strtok_r(set, ",", &save); name;
		    name = strtok_r(NULL, ",", &save)) {
			value = strchr(name, '=');
			*value++ = '\0';
			idx = cookbook_template_param_index(t, name);
			if (idx >= 0)
				param[idx] = strtol(value, NULL, 10);
		}
		if (!ok(cookbook_template_check(t, param, v) == 0, "%s %s: check",
		    t->name, cases[i].set))
			diag("%s", loam_error());
		failures = generate_and_verify(t, param, v, SEED + i, 2000,
		    why, sizeof why);
		if (!ok(failures == 0, "%s %s: 2000 examples pass", t->name,
		    cases[i].set))
			diag("%zu failures; first at %s", failures, why);
	}
}

/* The smallest built-in vocabulary each template accepts at its
 * defaults: the draws that avoid sets of tokens must still end. */
static void
test_smallest_vocab(void)
{
	const struct cookbook_template *cat;
	struct cookbook_vocab v, smaller;
	long param[COOKBOOK_MAX_PARAMS];
	char why[1024];
	size_t n, i, size, failures;

	cat = cookbook_templates(&n);
	for (i = 0; i < n; i++) {
		cookbook_template_defaults(&cat[i], param);
		for (size = 1; size < 1000; size++) {
			cookbook_vocab_builtin(&v, size);
			if (cookbook_template_check(&cat[i], param, &v) == 0)
				break;
			cookbook_vocab_release(&v);
		}
		if (size > 1 && cookbook_vocab_builtin(&smaller, size - 1) == 0) {
			ok(cookbook_template_check(&cat[i], param, &smaller) < 0 &&
			    strstr(loam_error(), "vocabulary"),
			    "%s: a vocabulary of %zu is refused: %s",
			    cat[i].name, size - 1, loam_error());
			cookbook_vocab_release(&smaller);
		}
		failures = generate_and_verify(&cat[i], param, &v, SEED, 2000,
		    why, sizeof why);
		if (!ok(failures == 0, "%s: 2000 examples pass with the "
		    "smallest vocabulary, %zu tokens", cat[i].name, size))
			diag("%zu failures; first at %s", failures, why);
		cookbook_vocab_release(&v);
	}
}

/* A vocabulary file of mixed-case ASCII and UTF-8 tokens: the rules
 * fold case and keep UTF-8, so the outputs must still follow. */
static void
test_file_vocab(void)
{
	const struct cookbook_template *cat;
	struct cookbook_vocab v;
	long param[COOKBOOK_MAX_PARAMS];
	char why[1024], line[64];
	struct cookbook_buf text = { 0 };
	size_t n, i, failures;
	int len;

	for (i = 0; i < 300; i++) {
		if (i % 3 == 0)
			len = snprintf(line, sizeof line, "Tok%zuX\n", i);
		else if (i % 3 == 1)
			len = snprintf(line, sizeof line, "\xc3\xa9t\xc3\xa9%zu\n", i);
		else
			len = snprintf(line, sizeof line, "WORD%zu\n", i);
		cookbook_buf_add(&text, line, (size_t)len);
	}
	spew(tmp_path("mixed.txt"), text.s, text.len);
	cookbook_buf_release(&text);
	if (!ok(cookbook_vocab_load(&v, tmp_path("mixed.txt")) == 0 && v.n == 300,
	    "file vocabulary: 300 mixed tokens"))
		return;
	cat = cookbook_templates(&n);
	for (i = 0; i < n; i++) {
		cookbook_template_defaults(&cat[i], param);
		failures = generate_and_verify(&cat[i], param, &v, SEED, 2000,
		    why, sizeof why);
		if (!ok(failures == 0, "%s: 2000 examples pass with a "
		    "mixed-case UTF-8 vocabulary", cat[i].name))
			diag("%zu failures; first at %s", failures, why);
	}
	cookbook_vocab_release(&v);
}

/* ---- determinism ---- */

static int
same_example(const struct cookbook_example *a, const struct cookbook_example *b)
{
	size_t i;

	if (strcmp(a->input.s, b->input.s) || strcmp(a->output.s, b->output.s) ||
	    a->noptions != b->noptions || a->answer_index != b->answer_index ||
	    (a->skill == NULL) != (b->skill == NULL) ||
	    (a->skill && strcmp(a->skill, b->skill)))
		return 0;
	for (i = 0; i < a->noptions; i++)
		if (strcmp(cookbook_example_option(a, i), cookbook_example_option(b, i)))
			return 0;
	return 1;
}

static void
test_determinism(const struct cookbook_vocab *v)
{
	const struct cookbook_template *cat;
	struct cookbook_example fresh, reused;
	long param[COOKBOOK_MAX_PARAMS];
	size_t n, i, j;
	int same, differs;

	cat = cookbook_templates(&n);
	cookbook_example_init(&reused);
	for (i = 0; i < n; i++) {
		cookbook_template_defaults(&cat[i], param);
		same = 1;
		for (j = 0; j < 50; j++) {
			/* a fresh example, and one that just made others: the
			 * scratch it keeps must not leak into the bytes */
			cookbook_example_init(&fresh);
			generate(&cat[i], param, v, SEED, 1000 + j, &fresh);
			generate(&cat[i], param, v, SEED, j, &reused);
			generate(&cat[i], param, v, SEED, 1000 + j, &reused);
			same = same && same_example(&fresh, &reused);
			cookbook_example_release(&fresh);
		}
		ok(same, "%s: same seed and index, same bytes", cat[i].name);
		cookbook_example_init(&fresh);
		generate(&cat[i], param, v, SEED, 7, &fresh);
		generate(&cat[i], param, v, SEED + 1, 7, &reused);
		differs = strcmp(fresh.input.s, reused.input.s) != 0;
		generate(&cat[i], param, v, SEED, 8, &reused);
		differs = differs && strcmp(fresh.input.s, reused.input.s) != 0;
		ok(differs, "%s: another seed or index, other bytes",
		    cat[i].name);
		cookbook_example_release(&fresh);
	}
	cookbook_example_release(&reused);
}

/* ---- balance ---- */

static void
test_balance(const struct cookbook_vocab *v)
{
	static const char *const names[] = { "yesno-contains", "entity-match" };
	const struct cookbook_template *t;
	struct cookbook_example ex;
	long param[COOKBOOK_MAX_PARAMS];
	size_t i, j, yes;
	double share;

	cookbook_example_init(&ex);
	for (j = 0; j < 2; j++) {
		t = cookbook_template_find(names[j]);
		cookbook_template_defaults(t, param);
		for (i = yes = 0; i < PER_TEMPLATE; i++) {
			generate(t, param, v, SEED, i, &ex);
			yes += strcmp(ex.output.s, "yes") == 0;
		}
		share = (double)yes / PER_TEMPLATE;
		is_dbl(share, 0.5, 0.01, "%s: yes in %.4f of %d", t->name,
		    share, PER_TEMPLATE);
	}
	cookbook_example_release(&ex);
}

/* ---- Skill-It's strings ---- */

static void
test_lego_format(void)
{
	static const char a3[] = "Input:  s = not z , h = val 1 ,  u = not s "
	    ",  o = not h ,  z = val o. Output: u = val 0, ";
	static const char chain[] = "Input:  b = val a ,  c = not b ,  "
	    "d = val c ,  e = not d , a = val 0. Output: c = val 1, ";
	/* the chain h -> o -> z -> s -> u of §A3's example */
	static const int a3_bits[] = { 1, 0, 0, 1, 0 };
	static const size_t a3_order[] = { 3, 0, 4, 1, 2 };
	static const int chain_bits[] = { 0, 0, 1, 1, 0 };
	static const size_t chain_order[] = { 1, 2, 3, 4, 0 };
	static const int one_bit[] = { 1 };
	static const size_t one_order[] = { 0 };
	const struct cookbook_template *t = cookbook_template_find("lego");
	struct cookbook_buf in = { 0 }, out = { 0 }, whole = { 0 }, scratch = { 0 },
	    rule = { 0 };
	long param[COOKBOOK_MAX_PARAMS];
	int answer;

	cookbook_template_defaults(t, param);
	cookbook_lego_format("hozsu", a3_bits, 5, a3_order, 4, &in, &out);
	cookbook_buf_reset(&whole);
	cookbook_buf_add(&whole, in.s, in.len);
	cookbook_buf_add(&whole, out.s, out.len);
	is_str(whole.s, a3, "lego: the example of research §A3, byte for byte");
	is_str(out.s, "0, ", "lego: output is the bit, comma and space");
	ok(in.len > 16 && strcmp(in.s + in.len - 16, "Output: u = val ") == 0,
	    "lego: input ends with 'Output: u = val '");
	ok(cookbook_verify(t, param, in.s, NULL, 0, "0, ", -1, &scratch, &rule) == 0,
	    "lego: the rule resolves §A3's example to 0");

	cookbook_lego_format("abcde", chain_bits, 5, chain_order, 2, &in, &out);
	cookbook_buf_reset(&whole);
	cookbook_buf_add(&whole, in.s, in.len);
	cookbook_buf_add(&whole, out.s, out.len);
	is_str(whole.s, chain, "lego: root clause last, no leading space");
	ok(cookbook_verify(t, param, in.s, NULL, 0, "1, ", -1, &scratch, &rule) == 0,
	    "lego: the rule resolves c to 1 through not");

	cookbook_lego_format("q", one_bit, 1, one_order, 0, &in, &out);
	cookbook_buf_reset(&whole);
	cookbook_buf_add(&whole, in.s, in.len);
	cookbook_buf_add(&whole, out.s, out.len);
	is_str(whole.s, "Input: q = val 1. Output: q = val 1, ", "lego: k = 1");

	cookbook_buf_release(&in);
	cookbook_buf_release(&out);
	cookbook_buf_release(&whole);
	cookbook_buf_release(&scratch);
	cookbook_buf_release(&rule);
	(void)answer;
}

/* The chain position of the queried variable, found by following the
 * generated clauses to the root: it must be the record's skill. */
static long
lego_depth(const char *input)
{
	const char *out = strstr(input, ". Output: ");
	char var = out ? out[10] : 0, pat[8];
	const char *c;
	long depth = 0;

	while (depth < 30) {
		snprintf(pat, sizeof pat, "%c = ", var);
		for (c = input + 7; (c = strstr(c, pat)) != NULL && c < out; c++)
			if (c[-1] == ' ')
				break;
		if (!c || c >= out)
			return -1;
		c += 4;
		c += 4;			/* "val " or "not " */
		if (*c == '0' || *c == '1')
			return depth;
		var = *c;
		depth++;
	}
	return -1;
}

static void
test_lego_generated(const struct cookbook_vocab *v)
{
	const struct cookbook_template *t = cookbook_template_find("lego");
	struct cookbook_example ex;
	long param[COOKBOOK_MAX_PARAMS];
	size_t i, count[5] = { 0 }, bad_shape = 0, bad_skill = 0;
	const char *p;
	int letters, clauses, roots, good_count = 1;

	cookbook_template_defaults(t, param);
	cookbook_example_init(&ex);
	for (i = 0; i < PER_TEMPLATE; i++) {
		generate(t, param, v, SEED, i, &ex);
		/* five distinct letters, five clauses, one of them the root */
		letters = 0;
		for (p = ex.input.s + 7; *p && *p != '.'; p++)
			if (*p >= 'a' && *p <= 'z' && p[1] == ' ' && p[2] == '=')
				letters |= 1 << (*p - 'a');
		clauses = roots = 0;
		for (p = ex.input.s; (p = strstr(p, " = ")) != NULL; p++) {
			clauses++;
			roots += p[3] == 'v' && (p[7] == '0' || p[7] == '1');
		}
		if (__builtin_popcount((unsigned)letters) != 5 || clauses != 6 ||
		    roots != 1 || strncmp(ex.input.s, "Input: ", 7) != 0 ||
		    strlen(ex.output.s) != 3 || ex.output.s[1] != ',')
			bad_shape++;
		if (lego_depth(ex.input.s) != strtol(ex.skill, NULL, 10))
			bad_skill++;
		count[strtol(ex.skill, NULL, 10) % 5]++;
	}
	ok(bad_shape == 0, "lego: %d generated sentences have 5 distinct "
	    "variables, one root and the output shape (%zu bad)",
	    PER_TEMPLATE, bad_shape);
	ok(bad_skill == 0, "lego: skill is the queried variable's chain "
	    "position (%zu bad)", bad_skill);
	for (i = 0; i < 5; i++)
		good_count = good_count && count[i] > PER_TEMPLATE / 5 * 9 / 10 &&
		    count[i] < PER_TEMPLATE / 5 * 11 / 10;
	ok(good_count, "lego: skills uniform (%zu %zu %zu %zu %zu)", count[0],
	    count[1], count[2], count[3], count[4]);
	cookbook_example_release(&ex);
}

static void
test_addition(const struct cookbook_vocab *v)
{
	const struct cookbook_template *t = cookbook_template_find("addition");
	struct cookbook_buf in = { 0 }, out = { 0 }, whole = { 0 }, scratch = { 0 },
	    rule = { 0 };
	struct cookbook_example ex;
	long param[COOKBOOK_MAX_PARAMS];
	size_t i, count[3] = { 0 }, bad = 0;
	long lo = 1000, hi = -1, a1, a2, d;
	int good_count = 1;

	cookbook_template_defaults(t, param);
	cookbook_addition_format(233, 28, 3, 1, &in, &out);
	cookbook_buf_add(&whole, in.s, in.len);
	cookbook_buf_add(&whole, out.s, out.len);
	is_str(whole.s, "Input: A = 2 3 3 + 0 2 8 , A 1 = ? Output: 6",
	    "addition: the example of research §A3, byte for byte");
	is_str(in.s, "Input: A = 2 3 3 + 0 2 8 , A 1 = ? Output: ",
	    "addition: input ends with 'Output: '");
	ok(cookbook_verify(t, param, in.s, NULL, 0, "6", -1, &scratch, &rule) == 0,
	    "addition: the rule gives 6");

	cookbook_addition_format(998, 998, 3, 2, &in, &out);
	is_str(out.s, "9", "addition: 998 + 998 = 1996, digit 2 is 9");
	ok(cookbook_verify(t, param, in.s, NULL, 0, "9", -1, &scratch, &rule) == 0,
	    "addition: the rule carries");
	cookbook_addition_format(7, 5, 4, 1, &in, &out);
	is_str(in.s, "Input: A = 0 0 0 7 + 0 0 0 5 , A 1 = ? Output: ",
	    "addition: k = 4 pads with zeros");
	is_str(out.s, "1", "addition: 7 + 5, digit 1 is the carry");
	ok(cookbook_verify(t, param, in.s, NULL, 0, "1", -1, &scratch, &rule) == 0,
	    "addition: the rule carries into a zero digit");

	/* the reference's ranges: operands in [0, 998], digits 0..2 */
	cookbook_example_init(&ex);
	for (i = 0; i < PER_TEMPLATE; i++) {
		generate(t, param, v, SEED, i, &ex);
		if (sscanf(ex.input.s, "Input: A = %*c %*c %*c + %*c %*c %*c , "
		    "A %ld", &d) != 1 || d < 0 || d > 2 ||
		    d != strtol(ex.skill, NULL, 10)) {
			bad++;
			continue;
		}
		a1 = (ex.input.s[11] - '0') * 100 + (ex.input.s[13] - '0') * 10 +
		    (ex.input.s[15] - '0');
		a2 = (ex.input.s[19] - '0') * 100 + (ex.input.s[21] - '0') * 10 +
		    (ex.input.s[23] - '0');
		lo = a1 < lo ? a1 : lo;
		lo = a2 < lo ? a2 : lo;
		hi = a1 > hi ? a1 : hi;
		hi = a2 > hi ? a2 : hi;
		count[d]++;
	}
	ok(bad == 0 && lo == 0 && hi == 998, "addition: operands span "
	    "[0, 998] exactly (%ld to %ld, %zu malformed)", lo, hi, bad);
	for (i = 0; i < 3; i++)
		good_count = good_count && count[i] > PER_TEMPLATE / 3 * 9 / 10 &&
		    count[i] < PER_TEMPLATE / 3 * 11 / 10;
	ok(good_count, "addition: digits uniform (%zu %zu %zu)", count[0],
	    count[1], count[2]);
	cookbook_example_release(&ex);
	cookbook_buf_release(&in);
	cookbook_buf_release(&out);
	cookbook_buf_release(&whole);
	cookbook_buf_release(&scratch);
	cookbook_buf_release(&rule);
}

/* ---- --unique ---- */

/*
 * Draw one generator dry: a set that takes every new example reaches the
 * distinct count exactly, and then fails.  That checks the count itself:
 * one too high and the set never fills, one too low and the draw after
 * the count still finds a new example.
 */
static void
unique_exhaust(const struct cookbook_vocab *v, const char *name, long k,
    long skill, uint64_t want)
{
	const struct cookbook_template *t = cookbook_template_find(name);
	long param[COOKBOOK_MAX_PARAMS];
	struct cookbook_unique *u;
	struct cookbook_example ex;
	struct rng r;
	uint64_t d, i;
	int failed = 0;

	cookbook_template_defaults(t, param);
	param[cookbook_template_param_index(t, "k")] = k;
	param[cookbook_template_param_index(t, "skill")] = skill;
	d = cookbook_template_distinct(t, param);
	is_int((long long)d, (long long)want, "unique: %s k=%ld skill=%ld has "
	    "%llu distinct examples", name, k, skill, (unsigned long long)want);
	u = cookbook_unique_new(t, param, (size_t)d);
	cookbook_example_init(&ex);
	rng_init(&r, SEED, 77, (uint64_t)k);
	for (i = 0; i < d && !failed; i++)
		failed = cookbook_unique_generate(u, v, &r, &ex) != 0;
	ok(!failed && cookbook_unique_count(u) == d, "unique: %s k=%ld skill=%ld: "
	    "all %llu made (%s)", name, k, skill, (unsigned long long)d,
	    failed ? loam_error() : "ok");
	ok(cookbook_unique_generate(u, v, &r, &ex) != 0 &&
	    strstr(loam_error(), "too few distinct examples") != NULL &&
	    cookbook_unique_count(u) == d, "unique: %s k=%ld skill=%ld: then the "
	    "bound on rejected draws fails the next", name, k, skill);
	ok(cookbook_unique_check(t, param, d) == 0 &&
	    cookbook_unique_check(t, param, d + 1) != 0, "unique: %s k=%ld "
	    "skill=%ld: check allows %llu, not one more", name, k, skill,
	    (unsigned long long)d);
	cookbook_example_release(&ex);
	cookbook_unique_free(u);
}

static void
test_unique(const struct cookbook_vocab *v)
{
	const struct cookbook_template *lego = cookbook_template_find("lego");
	const struct cookbook_template *add = cookbook_template_find("addition");
	const struct cookbook_template *mcq = cookbook_template_find("mcq-overlap");
	long param[COOKBOOK_MAX_PARAMS];
	struct cookbook_example ex, plain;
	struct cookbook_unique *u;
	struct rng r, r2;
	size_t n;

	unique_exhaust(v, "lego", 1, -1, 52);
	unique_exhaust(v, "lego", 2, 1, 5200);
	unique_exhaust(v, "lego", 2, -1, 10400);
	unique_exhaust(v, "addition", 1, -1, 81);
	unique_exhaust(v, "addition", 2, 0, 9801);
	unique_exhaust(v, "addition", 2, -1, 19602);

	cookbook_template_defaults(lego, param);
	is_int((long long)cookbook_template_distinct(lego, param), 151557120000LL,
	    "unique: lego at its defaults (k=5)");
	param[0] = 26;
	ok(cookbook_template_distinct(lego, param) == UINT64_MAX,
	    "unique: lego k=26 saturates");
	cookbook_template_defaults(add, param);
	param[0] = 9;
	ok(cookbook_template_distinct(add, param) == UINT64_C(8999999982000000009),
	    "unique: addition k=9 is 9 (10^9 - 1)^2, just in range");
	param[0] = 18;
	ok(cookbook_template_distinct(add, param) == UINT64_MAX,
	    "unique: addition k=18 saturates");
	cookbook_template_defaults(mcq, param);
	ok(cookbook_template_distinct(mcq, param) == 0 &&
	    cookbook_unique_check(mcq, param, UINT64_MAX / 2) == 0,
	    "unique: random-token templates are not counted, and not refused");
	cookbook_template_defaults(lego, param);
	param[0] = 2;
	ok(cookbook_unique_check(lego, param, 10401) != 0, "unique: refused");
	is_str(loam_error(), "lego (k=2 skill=-1) has 10400 distinct examples; "
	    "--unique cannot make 10401", "unique: the refusal names the "
	    "setting, its count and the count asked for");

	/* Equal means same skill, input and options; the output follows. */
	cookbook_example_init(&ex);
	cookbook_template_defaults(mcq, param);
	u = cookbook_unique_new(mcq, param, 0);
	generate(mcq, param, v, SEED, 0, &ex);
	ok(cookbook_unique_add(u, &ex) == 1, "unique: a first example is new");
	ok(cookbook_unique_add(u, &ex) == 0, "unique: the same again is not");
	ex.output.s[0] ^= 1;
	ok(cookbook_unique_add(u, &ex) == 0, "unique: the output is not compared");
	n = ex.optbuf.len - 2;		/* the last option's last byte */
	ex.optbuf.s[n] ^= 1;
	ok(cookbook_unique_add(u, &ex) == 1, "unique: the options are");
	ex.skill = "0";
	ok(cookbook_unique_add(u, &ex) == 1, "unique: so is the skill");
	ok(cookbook_unique_add(u, &ex) == 0 && cookbook_unique_count(u) == 3,
	    "unique: three distinct examples in the set");
	cookbook_unique_free(u);

	/* The first draw is the plain example: --unique changes the output
	 * only where there are repeats. */
	cookbook_example_init(&plain);
	cookbook_template_defaults(lego, param);
	u = cookbook_unique_new(lego, param, 0);
	rng_init(&r, SEED, 5, 123);
	r2 = r;
	lego->generate(lego, param, v, &r, &plain);
	ok(cookbook_unique_generate(u, v, &r2, &ex) == 0 &&
	    strcmp(ex.input.s, plain.input.s) == 0 &&
	    memcmp(&r, &r2, sizeof r) == 0, "unique: a new example is the "
	    "plain draw, consuming the same randomness");
	lego->generate(lego, param, v, &r, &plain);	/* the second draw */
	rng_init(&r2, SEED, 5, 123);
	ok(cookbook_unique_generate(u, v, &r2, &ex) == 0 &&
	    strcmp(ex.input.s, plain.input.s) == 0, "unique: a repeat is "
	    "replaced by the generator's next draw");
	cookbook_unique_free(u);
	cookbook_example_release(&plain);
	cookbook_example_release(&ex);
}

/* ---- vocabularies ---- */

static void
test_vocab_builtin(void)
{
	struct cookbook_vocab small, v;
	size_t i, j;
	int lower = 1, distinct = 1, prefix = 1;

	ok(cookbook_vocab_builtin(&v, COOKBOOK_VOCAB_DEFAULT) == 0 &&
	    v.n == COOKBOOK_VOCAB_DEFAULT, "builtin vocabulary: 1000 words");
	for (i = 0; i < v.n; i++) {
		lower = lower && strlen(v.token[i]) == v.len[i] && v.len[i] >= 4;
		for (j = 0; j < v.len[i]; j++)
			lower = lower && v.token[i][j] >= 'a' &&
			    v.token[i][j] <= 'z';
		for (j = 0; j < i && distinct; j++)
			distinct = strcmp(v.token[i], v.token[j]) != 0;
	}
	ok(lower, "builtin vocabulary: lower-case letters");
	ok(distinct, "builtin vocabulary: distinct");
	cookbook_vocab_builtin(&small, 10);
	for (i = 0; i < 10; i++)
		prefix = prefix && strcmp(small.token[i], v.token[i]) == 0;
	ok(prefix, "builtin vocabulary: 10 words are the first 10 of 1000 "
	    "(%s %s %s ...)", small.token[0], small.token[1], small.token[2]);
	cookbook_vocab_release(&small);
	cookbook_vocab_release(&v);
	ok(cookbook_vocab_builtin(&v, 0) < 0 && strstr(loam_error(), "size 0"),
	    "builtin vocabulary: size 0 refused: %s", loam_error());
	ok(cookbook_vocab_builtin(&v, 200000) == 0 && v.n == 200000,
	    "builtin vocabulary: 200000 distinct words");
	cookbook_vocab_release(&v);
}

static void
test_vocab_file(void)
{
	static const char good[] = "alpha\n\nBeta\r\nalpha\nBETA\n  \n"
	    "x.y\n##ing\n[PAD]\nstra\xc3\x9f" "e\ngamma";
	struct cookbook_vocab v;
	char want[512], *path;

	path = tmp_path("good.txt");
	spew(path, good, sizeof good - 1);
	ok(cookbook_vocab_load(&v, path) == 0, "vocabulary file: loads");
	ok(v.n == 4 && strcmp(v.token[0], "alpha") == 0 &&
	    strcmp(v.token[1], "Beta") == 0 &&
	    strcmp(v.token[2], "stra\xc3\x9f" "e") == 0 &&
	    strcmp(v.token[3], "gamma") == 0 && v.len[1] == 4,
	    "vocabulary file: blank lines, CR, duplicates and case "
	    "duplicates dropped, UTF-8 kept, no final newline");
	ok(v.nskipped == 3 && v.nduplicates == 2, "vocabulary file: 3 "
	    "skipped for punctuation, 2 duplicates (%zu, %zu)", v.nskipped,
	    v.nduplicates);
	cookbook_vocab_release(&v);

	path = tmp_path("space.txt");
	spew(path, "one\ntwo\nthree four\n", 19);
	snprintf(want, sizeof want, "%s:3: token 'three four' contains "
	    "whitespace", path);
	ok(cookbook_vocab_load(&v, path) < 0, "vocabulary file: whitespace fails");
	is_str(loam_error(), want, "vocabulary file: whitespace names file:line");
	ok(v.token == NULL && v.n == 0, "vocabulary file: released on error");

	path = tmp_path("utf8.txt");
	spew(path, "one\nt\xc3wo\n", 9);
	snprintf(want, sizeof want, "%s:2: invalid UTF-8", path);
	ok(cookbook_vocab_load(&v, path) < 0, "vocabulary file: bad UTF-8 fails");
	is_str(loam_error(), want, "vocabulary file: bad UTF-8 names file:line");

	path = tmp_path("empty.txt");
	spew(path, "", 0);
	snprintf(want, sizeof want, "%s: no tokens", path);
	ok(cookbook_vocab_load(&v, path) < 0, "vocabulary file: empty fails");
	is_str(loam_error(), want, "vocabulary file: empty file message");

	path = tmp_path("punct.txt");
	spew(path, "!\n?\n\n", 5);
	ok(cookbook_vocab_load(&v, path) < 0 &&
	    strstr(loam_error(), "no usable tokens (2 lines skipped"),
	    "vocabulary file: only punctuation fails: %s", loam_error());

	path = tmp_path("missing.txt");
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	ok(cookbook_vocab_load(&v, path) < 0, "vocabulary file: missing fails");
	is_str(loam_error(), want, "vocabulary file: missing file message");
}

/* ---- the tokeniser ---- */

/* The tokens of text joined by '|', from the lower-cased copy. */
static const char *
tokens_of(const char *text)
{
	static char joined[256];
	struct cookbook_buf scratch = { 0 };
	size_t span[16][2], n, i, len = 0;

	n = cookbook_tokenize(text, &scratch, span, 16);
	joined[0] = '\0';
	for (i = 0; i < n && i < 16; i++)
		len += (size_t)snprintf(joined + len, sizeof joined - len,
		    "%s%.*s", i ? "|" : "", (int)span[i][1],
		    scratch.s + span[i][0]);
	cookbook_buf_release(&scratch);
	return joined;
}

static void
test_tokenize(void)
{
	struct cookbook_buf scratch = { 0 };
	size_t span[2][2], n;
	const char *text = "Hello, World!";

	is_str(tokens_of("Hello, World! foo-bar"), "hello|world|foo|bar",
	    "tokenize: punctuation separates, case folds");
	is_str(tokens_of("  don't\tstop\n(3.14)  "), "don|t|stop|3|14",
	    "tokenize: apostrophes and decimal points split, whitespace runs");
	is_str(tokens_of("\xc3\x89" "COLE \xc3\xa9" "cole Stra\xc3\x9f" "e"),
	    "\xc3\x89" "cole|\xc3\xa9" "cole|stra\xc3\x9f" "e",
	    "tokenize: UTF-8 bytes kept and not folded");
	is_str(tokens_of("a_b [c] {d} <e> f@g #h"), "a|b|c|d|e|f|g|h",
	    "tokenize: every ASCII punctuation mark separates");
	is_str(tokens_of(""), "", "tokenize: empty text");
	is_str(tokens_of(".,;:!?"), "", "tokenize: punctuation only");

	n = cookbook_tokenize(text, &scratch, span, 1);
	is_int((long long)n, 2, "tokenize: counts past max");
	ok(span[0][0] == 0 && span[0][1] == 5 &&
	    strncmp(text + span[0][0], "Hello", 5) == 0 &&
	    strcmp(scratch.s, "hello, world!") == 0,
	    "tokenize: offsets index the text and its folded copy alike");
	cookbook_buf_release(&scratch);
}

/* ---- rules that cannot apply ---- */

static int
rule_fails(const char *name, const char *input, const char *const *opt,
    size_t nopt, const char *expect)
{
	const struct cookbook_template *t = cookbook_template_find(name);
	struct cookbook_buf scratch = { 0 }, out = { 0 };
	struct cookbook_query q;
	long param[COOKBOOK_MAX_PARAMS];
	int answer, failed;

	cookbook_template_defaults(t, param);
	failed = t->parse(t, input, opt, nopt, &scratch, &q) < 0 ||
	    t->rule(t, param, &q, &out, &answer) < 0;
	cookbook_buf_release(&scratch);
	cookbook_buf_release(&out);
	if (!ok(failed && strstr(loam_error(), expect) != NULL,
	    "%s fails: %s", name, expect))
		diag("got '%s'", failed ? loam_error() : "success");
	return failed;
}

static void
test_rule_failures(void)
{
	static const char *const two[] = { "red blue", "green blue" };
	static const char *const tie[] = { "red x", "blue y", "green z" };
	static const char *const one[] = { "red" };
	static const char *const both[] = { "red", "blue" };
	static const char *const none[] = { "pink", "cyan" };
	static const char *const cont[] = { "a b", "a b" };
	const struct cookbook_template *t;
	struct cookbook_buf scratch = { 0 }, out = { 0 };
	long param[COOKBOOK_MAX_PARAMS];
	char want[256];

	rule_fails("docqa-span", "Document: a b c d\nQuestion: x y", NULL, 0,
	    "docqa-span: the question 'x y' does not occur in the document");
	rule_fails("docqa-span", "Document: a b c d\nQuestion: c d", NULL, 0,
	    "docqa-span: nothing follows the question 'c d' in the document");
	rule_fails("docqa-span", "Document: a b c d\nQuestion: ...", NULL, 0,
	    "docqa-span: the question has no tokens");
	rule_fails("docqa-span", "Doc: a b\nQuestion: a", NULL, 0,
	    "docqa-span: input does not start with 'Document: '");
	rule_fails("docqa-span", "Document: a b\nQ: a", NULL, 0,
	    "docqa-span: input has no second line starting with 'Question: '");
	rule_fails("docqa-span", "Document: a b\nQuestion: a\nmore", NULL, 0,
	    "docqa-span: input has more than two lines");
	rule_fails("mcq-overlap", "Context: red green blue\nQuestion: q",
	    tie, 3, "mcq-overlap: options 0 and 1 tie with 1 shared tokens");
	rule_fails("mcq-overlap", "Context: red\nQuestion: q", one, 1,
	    "mcq-overlap: 1 options; the rule needs at least 2");
	rule_fails("two-choice", "Goal: blue", two, 2,
	    "two-choice: options 0 and 1 tie with 1 shared tokens");
	rule_fails("two-choice", "Goal: blue\nmore", two, 2,
	    "two-choice: input has more than one line");
	rule_fails("fill-blank", "Context: red blue\nSentence: _ blue", both, 2,
	    "fill-blank: options 0 and 1 both occur in the context");
	rule_fails("fill-blank", "Context: red blue\nSentence: _ blue", none, 2,
	    "fill-blank: no option occurs in the context");
	rule_fails("continuation", "Sequence: a b a b", cont, 2,
	    "continuation: options 0 and 1 tie, each continuing the period-2 "
	    "pattern at 2 positions");
	rule_fails("continuation", "Sequence: ; ;", cont, 2,
	    "continuation: the sequence has no tokens");
	rule_fails("entity-match", "Entity A: ;\nEntity B: k: v", NULL, 0,
	    "entity-match: a record has no tokens");
	rule_fails("yesno-contains", "Passage: a b\nQuestion: ?", NULL, 0,
	    "yesno-contains: the question has no tokens");
	rule_fails("lego", "Input: a = val 1 , b = not c. Output: b = val ",
	    NULL, 0, "lego: variable 'c' is not assigned");
	rule_fails("lego", "Input: a = val b , b = not a. Output: b = val ",
	    NULL, 0, "lego: the assignments of 'b' form a cycle");
	rule_fails("lego", "Input: a = val 1 , a = not a. Output: a = val ",
	    NULL, 0, "lego: variable 'a' is assigned twice");
	rule_fails("lego", "Input: a = is 1. Output: a = val ", NULL, 0,
	    "lego: clause 1 is not '<variable> = val|not <variable|bit>'");
	rule_fails("lego", "Input: a = val 1. Output: a = ", NULL, 0,
	    "lego: input does not end with '<variable> = val '");
	rule_fails("lego", "Input: a = val 1, Output: a = val ", NULL, 0,
	    "lego: input has no '. Output: '");
	rule_fails("addition", "Input: A = 2 3 + , A 1 = ? Output: ", NULL, 0,
	    "addition: 'A = 2 3 + , A 1 = ?' is not 'A = <digits> + <digits> "
	    ", A <position> = ?'");
	rule_fails("addition", "Input: A = 2 + 3 , A 0 = ?", NULL, 0,
	    "addition: input does not end with ' Output: '");

	/* and cookbook_verify's own two messages */
	t = cookbook_template_find("docqa-span");
	cookbook_template_defaults(t, param);
	ok(cookbook_verify(t, param, "Document: a b c d e\nQuestion: a", NULL, 0,
	    "b c", -1, &scratch, &out) < 0, "verify: a wrong output fails");
	is_str(loam_error(), "output 'b c' is not the rule's 'b c d'",
	    "verify: wrong output message");
	t = cookbook_template_find("two-choice");
	cookbook_template_defaults(t, param);
	ok(cookbook_verify(t, param, "Goal: blue green", two, 2, "red blue", 1,
	    &scratch, &out) < 0, "verify: a wrong answer_index fails");
	snprintf(want, sizeof want, "output 'red blue' is not the rule's "
	    "'green blue'");
	is_str(loam_error(), want, "verify: the output is compared first");
	ok(cookbook_verify(t, param, "Goal: blue green", two, 2, "green blue", 0,
	    &scratch, &out) < 0, "verify: a wrong answer_index alone fails");
	is_str(loam_error(), "answer_index 0 is not the rule's 1",
	    "verify: wrong answer_index message");
	ok(cookbook_verify(t, param, "Goal: BLUE, Green!", two, 2, "green blue", 1,
	    &scratch, &out) == 0, "verify: the rule folds case and punctuation");
	cookbook_buf_release(&scratch);
	cookbook_buf_release(&out);
}

/* ---- parameter checks ---- */

static int
check_fails(const char *name, const char *param_name, long value,
    const struct cookbook_vocab *v, const char *expect)
{
	const struct cookbook_template *t = cookbook_template_find(name);
	long param[COOKBOOK_MAX_PARAMS];

	cookbook_template_defaults(t, param);
	param[cookbook_template_param_index(t, param_name)] = value;
	if (!ok(cookbook_template_check(t, param, v) < 0 &&
	    strcmp(loam_error(), expect) == 0, "check: %s %s=%ld", name,
	    param_name, value))
		diag("got '%s'", loam_error());
	return 0;
}

static void
test_param_checks(const struct cookbook_vocab *v)
{
	struct cookbook_vocab tiny;

	check_fails("docqa-span", "doc_len", 0, v,
	    "docqa-span: doc_len 0 out of range 2 to 4096");
	check_fails("docqa-span", "doc_len", 6, v,
	    "docqa-span: span_len 4 + answer_len 3 exceeds doc_len 6");
	check_fails("lego", "skill", 5, v, "lego: skill 5 must be below k 5");
	check_fails("addition", "skill", 3, v,
	    "addition: skill 3 must be below k 3");
	check_fails("entity-match", "threshold", 10, v,
	    "entity-match: threshold 10 leaves no non-matching records: "
	    "replacing every value still gives Jaccard 3/21");
	check_fails("continuation", "seq_len", 11, v,
	    "continuation: seq_len 11 is under 2 * period_max 6");
	check_fails("continuation", "period_min", 7, v,
	    "continuation: period_min 7 exceeds period_max 6");
	check_fails("mcq-overlap", "options", 17, v,
	    "mcq-overlap: options 17 out of range 2 to 16");
	cookbook_vocab_builtin(&tiny, 20);
	check_fails("mcq-overlap", "context_len", 24, &tiny,
	    "mcq-overlap: the vocabulary has 20 tokens; context_len + "
	    "question_len + option_len = 36 are needed");
	cookbook_vocab_release(&tiny);
}

/* ---- speed ---- */

static void
test_speed(const struct cookbook_vocab *v)
{
	const struct cookbook_template *t = cookbook_template_find("docqa-span");
	struct cookbook_example ex;
	struct rng r;
	long param[COOKBOOK_MAX_PARAMS];
	size_t i, n = 0, bytes = 0;
	double start, elapsed;

	cookbook_template_defaults(t, param);
	cookbook_example_init(&ex);
	start = now();
	do {
		for (i = 0; i < 20000; i++, n++) {
			rng_init(&r, SEED, 0, n);
			t->generate(t, param, v, &r, &ex);
			bytes += ex.input.len + ex.output.len;
		}
		elapsed = now() - start;
	} while (elapsed < 0.5);
	diag("docqa-span, 64-token documents: %.2f M examples/s, %.0f MB/s "
	    "of input and output text, one core", (double)n / elapsed / 1e6,
	    (double)bytes / elapsed / 1e6);
	ok(n > 0, "speed: measured");
	cookbook_example_release(&ex);
}

int
main(void)
{
	struct cookbook_vocab v;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/cookbook_test.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	if (cookbook_vocab_builtin(&v, COOKBOOK_VOCAB_DEFAULT) < 0) {
		printf("Bail out! %s\n", loam_error());
		return 1;
	}
	test_catalogue(&v);
	test_all_verify(&v);
	test_other_params(&v);
	test_smallest_vocab();
	test_file_vocab();
	test_determinism(&v);
	test_balance(&v);
	test_lego_format();
	test_lego_generated(&v);
	test_addition(&v);
	test_unique(&v);
	test_vocab_builtin();
	test_vocab_file();
	test_tokenize();
	test_rule_failures();
	test_param_checks(&v);
	test_speed(&v);
	cookbook_vocab_release(&v);

	unlink(tmp_path("mixed.txt"));
	unlink(tmp_path("good.txt"));
	unlink(tmp_path("space.txt"));
	unlink(tmp_path("utf8.txt"));
	unlink(tmp_path("empty.txt"));
	unlink(tmp_path("punct.txt"));
	rmdir(tmpdir);
	return tap_done();
}
