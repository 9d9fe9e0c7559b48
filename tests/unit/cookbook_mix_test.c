/*
 * cookbook_mix_test - Cookbook-Mix (lib/method/cookbook_mix.c): votes,
 * the label model's accuracies on a case worked by hand, the weights,
 * and the errors.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookbook.h"
#include "cookbook_mix.h"
#include "cookbook_templates.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

static void
test_words(void)
{
	struct cookbook_words w = { 0 };
	struct cookbook_buf out = { 0 };

	is_str(cookbook_words_join(&w, "  Hello,  WORLD! 42x ", &out), "hello world 42x",
	    "words: folded, punctuation and spacing dropped");
	is_str(cookbook_words_join(&w, "", &out), "", "words: empty text");
	is_str(cookbook_words_join(&w, "a b c d e f g h i j k l m n o p q r s t u v w x y z",
	    &out), "a b c d e f g h i j k l m n o p q r s t u v w x y z",
	    "words: more tokens than the spans first held");
	cookbook_words_release(&w);
	cookbook_buf_release(&out);
}

/* Three yes/no sources on 16 items (and their mirror images), 25 times:
 * all agree on 10, r1 alone differs on 1, r2 alone on 1, r3 alone on 4.
 * Second moments M12 = 12/16, M13 = M23 = 6/16; the triplet method gives
 * e1 = e2 = sqrt(M12 M13 / M23) = sqrt(.75), e3 = sqrt(.1875), so the
 * accuracies (1 + e)/2 are 0.9330127 and 0.7165064, and with T = 0.1 the
 * weights are 1/(2 + exp(-2.1650635)) = 0.4728708 (twice) and 0.0542584. */
static void
add(struct cookbook_mix *m, const char *r1, const char *r2, const char *r3)
{
	const char *ans[3] = { r1, r2, r3 };
	int8_t *item[COOKBOOK_MAX_OPTIONS];

	if (cookbook_mix_example(m, "T", 0, item) != 0)
		abort();
	for (size_t k = 0; k < 3; k++)
		cookbook_mix_text_vote(m, item, k, ans[k], NULL, 0);
}

static void
test_by_hand(void)
{
	struct cookbook_mix m;
	double acc[3], mean[3], w[3];
	double e12 = sqrt(0.75), e3 = sqrt(0.1875);
	double a1 = (1 + e12) / 2, a3 = (1 + e3) / 2;
	double w3 = exp((a3 - a1) / 0.1) / (2 + exp((a3 - a1) / 0.1));

	cookbook_mix_init(&m, 3);
	for (int rep = 0; rep < 25; rep++)
		for (int flip = 0; flip < 2; flip++) {
			const char *y = flip ? "no" : "Yes.", *n = flip ? "yes" : "NO";

			for (int i = 0; i < 5; i++) {
				add(&m, y, y, y);
				add(&m, n, n, n);
			}
			add(&m, n, y, y);
			add(&m, y, n, y);
			for (int i = 0; i < 2; i++) {
				add(&m, y, y, n);
				add(&m, n, n, y);
			}
		}
	is_int((long long)m.ntasks, 1, "one task");
	is_int((long long)m.task[0].nexamples, 800, "800 examples");
	is_int((long long)m.task[0].nitems, 800, "one item each on a yes/no task");
	ok(cookbook_mix_estimate(&m, 0, acc) == 0, "estimate");
	is_dbl(acc[0], a1, 1e-12, "r1's accuracy (1 + sqrt(.75)) / 2");
	is_dbl(acc[1], a1, 1e-12, "r2's accuracy (1 + sqrt(.75)) / 2");
	is_dbl(acc[2], a3, 1e-12, "r3's accuracy (1 + sqrt(.1875)) / 2");
	ok(cookbook_mix_weights(&m, acc, 0.1, mean, w) == 0, "weights");
	is_dbl(mean[2], a3, 1e-12, "one task: the mean is the accuracy");
	is_dbl(w[2], w3, 1e-12, "r3's weight 0.0542584");
	is_dbl(w[0], (1 - w3) / 2, 1e-12, "r1's weight 0.4728708");
	is_dbl(w[0] + w[1] + w[2], 1, 1e-15, "the weights sum to 1");
	cookbook_mix_release(&m);
}

static void
test_options(void)
{
	struct cookbook_mix m;
	const char *opt[3] = { "Sunlight and water", "rocks", "sand" };
	int8_t *item[COOKBOOK_MAX_OPTIONS];

	cookbook_mix_init(&m, 2);
	ok(cookbook_mix_example(&m, "arc", 3, item) == 0, "an example with 3 options");
	cookbook_mix_text_vote(&m, item, 0, "sunlight, and WATER", opt, 3);
	cookbook_mix_text_vote(&m, item, 1, "gravel", opt, 3);
	ok(item[0][0] == 1 && item[1][0] == -1 && item[2][0] == -1,
	    "an answer that is an option's words votes for it, against the others");
	ok(item[0][1] == 0 && item[1][1] == 0 && item[2][1] == 0, "any other answer abstains");
	is_dbl(m.task[0].inv_k_sum, 1.0 / 3, 1e-15, "1/K summed");
	/* Many examples: the votes move as they grow; item stays right. */
	int bad = 0;

	for (int i = 0; i < 300; i++) {
		bad += cookbook_mix_example(&m, "arc", 3, item) != 0;
		cookbook_mix_text_vote(&m, item, 0, "rocks", opt, 3);
		bad += item[1][0] != 1 || item[0][0] != -1 || item[2][0] != -1;
	}
	is_int(bad, 0, "300 examples more, each one's items right");
	is_int((long long)m.task[0].nitems, 903, "3 items an example");
	ok(m.task[0].votes[900 * 2] == -1 && m.task[0].votes[901 * 2] == 1,
	    "the last example's votes in place");
	ok(cookbook_mix_example(&m, "arc", 0, item) == -1 &&
	    strcmp(loam_error(), "task 'arc' mixes examples with and without options") == 0,
	    "a task mixing examples with and without options: %s", loam_error());
	ok(cookbook_mix_example(&m, "other", 1, item) == -1 &&
	    strcmp(loam_error(), "one option is no choice") == 0,
	    "one option: %s", loam_error());
	cookbook_mix_release(&m);
}

/* The rules of two-choice and mcq-overlap vote alike on generated
 * examples: too few distinct sources. */
static void
test_rules(void)
{
	const struct cookbook_template *t[2] = {
		cookbook_template_find("two-choice"), cookbook_template_find("mcq-overlap"),
	};
	long param[2][COOKBOOK_MAX_PARAMS];
	struct cookbook_vocab v;
	struct cookbook_example ex;
	struct cookbook_mix m;
	struct rng r;
	double acc[2], mean[2], w[2];
	int agree = 0;

	if (cookbook_vocab_builtin(&v, COOKBOOK_VOCAB_DEFAULT) != 0)
		abort();
	for (int k = 0; k < 2; k++)
		cookbook_template_defaults(t[k], param[k]);
	cookbook_example_init(&ex);
	cookbook_mix_init(&m, 2);
	for (uint64_t i = 0; i < 50; i++) {
		const char *opt[COOKBOOK_MAX_OPTIONS];
		int8_t *item[COOKBOOK_MAX_OPTIONS];
		struct cookbook_buf scratch = { 0 };
		struct cookbook_query q;

		rng_init(&r, 1, RNG_COOKBOOK_EXAMPLES, i);
		t[0]->generate(t[0], param[0], &v, &r, &ex);
		for (size_t j = 0; j < ex.noptions; j++)
			opt[j] = cookbook_example_option(&ex, j);
		if (t[0]->parse(t[0], ex.input.s, opt, ex.noptions, &scratch, &q) != 0 ||
		    cookbook_mix_example(&m, "piqa", ex.noptions, item) != 0)
			abort();
		for (int k = 0; k < 2; k++)
			cookbook_mix_rule_vote(&m, item, (size_t)k, t[k], param[k], &q);
		agree += item[ex.answer_index][0] == 1;
		cookbook_buf_release(&scratch);
	}
	is_int(agree, 50, "two-choice's rule votes for the answer of its own examples");
	ok(cookbook_mix_estimate(&m, 0, acc) == -1 &&
	    strcmp(loam_error(),
	    "task 'piqa': 1 distinct voting rule, the label model needs 3") == 0,
	    "too few distinct rules: %s", loam_error());
	ok(acc[0] < 0 && acc[1] < 0, "accuracies unknown");
	ok(cookbook_mix_weights(&m, acc, 0.1, mean, w) == -1 &&
	    strcmp(loam_error(), "no template's accuracy could be estimated on any task") == 0,
	    "no estimate, no weights: %s", loam_error());
	cookbook_mix_release(&m);
	cookbook_example_release(&ex);
	cookbook_vocab_release(&v);
}

int
main(void)
{
	test_words();
	test_by_hand();
	test_options();
	test_rules();
	return tap_done();
}
