/*
 * meteor_test.c - METEOR as NLTK 3.8 computes it: its documented example,
 * the Porter variant, Python's lowercase, WordNet lookups (Debian's
 * wordnet-base, which make deps installs), the fast alignment against the
 * plain list scans on random texts, and the similarity over pairs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meteor.h"
#include "porter.h"
#include "rng.h"
#include "tap.h"
#include "utf8.h"
#include "wordnet.h"

static double
score_text(struct meteor *m, const char *hyp, const char *ref)
{
	struct meteor_text h, r;
	double s;

	meteor_prepare(m, hyp, strlen(hyp), &h);
	meteor_prepare(m, ref, strlen(ref), &r);
	s = meteor_score(m, &h, &r);
	ok(s == meteor_score_reference(m, &h, &r), "fast and reference agree on '%.20s'", hyp);
	meteor_text_release(&h);
	meteor_text_release(&r);
	return s;
}

static void
test_porter(void)
{
	static const char *const pairs[][2] = {
		{ "generously", "gener" }, { "dying", "die" }, { "news", "news" },
		{ "happily", "happili" }, { "skies", "sky" }, { "cried", "cri" },
		{ "ties", "tie" }, { "agreed", "agre" }, { "hopping", "hop" },
		{ "relational", "relat" }, { "my", "my" }, { "conditional", "condit" },
		{ "hopefulness", "hope" }, { "electrical", "electr" },
		{ "analogousli", "analog" }, { "feudalism", "feudal" },
	};
	char out[64];

	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		size_t n = porter_stem_utf8(pairs[i][0], strlen(pairs[i][0]), out);

		ok(n == strlen(pairs[i][1]) && memcmp(out, pairs[i][1], n) == 0,
		    "porter: %s -> %s (NLTK)", pairs[i][0], pairs[i][1]);
	}
}

static void
test_lower(void)
{
	static const char *const pairs[][2] = {
		{ "\xc3\x80" "B", "\xc3\xa0" "b" },			/* ÀB */
		{ "\xc4\xb0x", "i\xcc\x87x" },				/* İx */
		{ "\xce\x9f\xce\x94\xce\x9f\xce\xa3",			/* ΟΔΟΣ: final sigma */
		  "\xce\xbf\xce\xb4\xce\xbf\xcf\x82" },
		{ "\xce\xa3\xce\x91 \xce\xa3",				/* ΣΑ Σ */
		  "\xcf\x83\xce\xb1 \xcf\x83" },
	};
	char out[64];

	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		size_t n = py_lower(pairs[i][0], strlen(pairs[i][0]), out);

		ok(n == strlen(pairs[i][1]) && memcmp(out, pairs[i][1], n) == 0,
		    "str.lower() case %zu", i);
	}
}

struct found {
	const char *want;
	int seen;
};

static void
look(void *arg, const char *name, size_t len)
{
	struct found *f = arg;

	f->seen |= strlen(f->want) == len && memcmp(f->want, name, len) == 0;
}

static void
test_wordnet(void)
{
	static const char *const pairs[][2] = {
		{ "dog", "hound" }, { "run", "scarper" }, { "feet", "foot" },
		{ "geese", "goose" }, { "better", "well" },
	};
	struct wordnet *wn;

	wn = wordnet_open(WORDNET_DIR);
	ok(wn != NULL, "wordnet opens");
	for (size_t i = 0; wn && i < sizeof pairs / sizeof pairs[0]; i++) {
		struct found f = { pairs[i][1], 0 };

		wordnet_lemma_names(wn, pairs[i][0], strlen(pairs[i][0]), look, &f);
		ok(f.seen, "wordnet: %s has %s", pairs[i][0], pairs[i][1]);
	}
	wordnet_close(wn);
	ok(wordnet_open("/nonexistent") == NULL, "a missing database is an error");
}

/* Random texts over a small vocabulary with shared stems, so that every
 * stage has work. */
static void
random_text(struct rng *r, char *buf, size_t cap)
{
	static const char *const words[] = {
		"run", "runs", "running", "ran", "dog", "dogs", "hound", "the", "a",
		"Guide", "guides", "guiding", "ensure", "ensures", "heed", "obey",
		"party", "Party", "commands", "command", "military", "always",
	};
	size_t n = (size_t)rng_uniform_int(r, 30), len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len + 16 < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " " : "",
		    words[rng_uniform_int(r, sizeof words / sizeof words[0])]);
}

int
main(void)
{
	struct meteor_params p = METEOR_PARAMS_NLTK;
	/* make deps installs wordnet-base */
	struct wordnet *wn = wordnet_open(WORDNET_DIR);
	struct meteor *m;
	struct rng r;
	char a[512], b[512];
	int same = 1;

	ok(wn != NULL, "WordNet 3.0 at " WORDNET_DIR " (Debian's wordnet-base)");
	m = meteor_new(&p, wn);
	/* NLTK's documentation: round(single_meteor_score(...), 4) == 0.6944 */
	ok(score_text(m, "It is a guide to action which ensures that the military always "
	    "obeys the commands of the party", "It is a guide to action that ensures that "
	    "the military will forever heed Party commands") == 0.6944444444444445,
	    "NLTK's example: 0.6944444444444445");
	ok(score_text(m, "non matching hypothesis", "this is a cat") == 0, "disjoint: 0");
	ok(score_text(m, "", "this is a cat") == 0, "empty hypothesis: 0");
	ok(score_text(m, "a cat", "") == 0, "empty reference: 0");
	ok(fabs(score_text(m, "the cat sat", "the cat sat") - (1 - 0.5 / 27.0)) < 1e-15,
	    "identical: 1 - gamma (1/3)^3");

	rng_init(&r, 1, 0, 0);
	for (int i = 0; i < 3000; i++) {
		struct meteor_text h, t;

		random_text(&r, a, sizeof a);
		random_text(&r, b, sizeof b);
		meteor_prepare(m, a, strlen(a), &h);
		meteor_prepare(m, b, strlen(b), &t);
		same &= meteor_score(m, &h, &t) == meteor_score_reference(m, &h, &t);
		meteor_text_release(&h);
		meteor_text_release(&t);
	}
	ok(same, "fast and reference alignments agree on 3000 random pairs");

	{
		const char *texts[] = { "the dog runs", "a dog ran", "the party obeys", "the dog runs" };
		uint32_t group[] = { 0, 1, 1, 2 };
		struct meteor_text t[4];
		uint64_t pairs;
		double sd, all, grouped, sampled, direct = 0, draw[5];
		int distinct_pairs = 1;

		for (int i = 0; i < 4; i++)
			meteor_prepare(m, texts[i], strlen(texts[i]), &t[i]);
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < 4; j++)
				if (i != j)
					direct += meteor_score(m, &t[j], &t[i]);
		all = meteor_similarity(m, t, NULL, 4, 1000, NULL, &pairs, &sd);
		ok(pairs == 12 && fabs(all - direct / 12) < 1e-15, "all 12 ordered pairs");
		grouped = meteor_similarity(m, t, group, 4, 1000, NULL, &pairs, &sd);
		ok(pairs == 10 && grouped != all, "pairs within a group are left out (10)");
		rng_init(&r, 3, RNG_METEOR_PAIRS, 0);
		sampled = meteor_similarity(m, t, group, 4, 5, &r, &pairs, &sd);
		ok(pairs == 5 && sampled >= 0 && sampled <= 1, "5 pairs drawn");
		rng_init(&r, 3, RNG_METEOR_PAIRS, 0);
		ok(meteor_similarity(m, t, group, 4, 5, &r, &pairs, &sd) == sampled,
		    "the same seed draws the same pairs");
		rng_init(&r, 3, RNG_METEOR_PAIRS, 0);
		meteor_bootstrap(m, t, 2, 5, &r, draw);
		for (int d = 0; d < 5; d++)
			distinct_pairs &= draw[d] == (meteor_score(m, &t[0], &t[1]) +
			    meteor_score(m, &t[1], &t[0])) / 2;
		ok(distinct_pairs, "bootstrap: two distinct texts, both orders");
		for (int i = 0; i < 4; i++)
			meteor_text_release(&t[i]);
	}
	ok(meteor_parse_stages("exact,stem") == (METEOR_EXACT | METEOR_STEM) &&
	    meteor_parse_stages("stem") == -1, "--stages parsing");
	meteor_free(m);
	wordnet_close(wn);
	test_porter();
	test_lower();
	test_wordnet();
	return tap_done();
}
