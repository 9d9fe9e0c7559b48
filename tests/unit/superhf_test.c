/* superhf_test - SuperHF's filter (lib/method/superhf): trimming as the
 * reference trims, Python's strip and len, the top-k heap and its
 * tie-break, and the method's claim on a toy: best-of-n distillation with
 * a KL penalty keeps a categorical policy diverse, the more so the larger
 * the KL coefficient (research notes, other-four.md §a.4). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "superhf.h"
#include "tap.h"
#include "utf8.h"

static void
check_trim(const struct superhf_trim *t, const char *text, const char *want,
    size_t want_prompt)
{
	size_t start, n, plen;

	superhf_trim(t, text, strlen(text), &start, &n, &plen);
	ok(n == strlen(want) && memcmp(text + start, want, n) == 0 && plen == want_prompt,
	    "trim to '%s' (prompt of %zu bytes): got '%.*s', %zu", want, want_prompt,
	    (int)n, text + start, plen);
}

static void
trimming(void)
{
	struct superhf_trim t;
	size_t start, n;

	ok(superhf_trim_init(&t, SUPERHF_DELIMITER, SUPERHF_TRIM_REGEX) == 0, "default regex compiles");
	check_trim(&t, "\n\nHuman: hi\n\nAssistant: Hello there.", "Hello there.", 23);
	/* An invented next turn goes, whatever its speaker. */
	check_trim(&t, "\n\nHuman: hi\n\nAssistant: Sure.\n\nUser: more", "Sure.", 23);
	check_trim(&t, "\n\nHuman: hi\n\nAssistant: Yes Human friend", "Yes", 23);
	/* The regex's words match inside words too, as Python's re does. */
	check_trim(&t, "\n\nHuman: q\n\nAssistant: Humanity wins", "", 22);
	/* No delimiter: the whole text is the completion. */
	check_trim(&t, "  plain text \n", "plain text", 0);
	/* Only the first delimiter splits. */
	check_trim(&t, "\n\nHuman: a\n\nAssistant: b\n\nAssistant: c", "b", 22);
	superhf_trim_release(&t);
	ok(superhf_trim_init(&t, SUPERHF_DELIMITER, "(") == -1, "a bad regex is an error");

	{
		char *u = superhf_unescape("\\n\\n[^:]+:|a\\.b\\t\\\\x");

		is_str(u, "\n\n[^:]+:|a\\.b\t\\\\x", "unescape: \\n and \\t, other escapes kept");
		free(u);
	}
	/* str.strip(): Unicode white space, not only ASCII. */
	superhf_strip("\xc2\xa0\xe3\x80\x80 x y\x1f\t\xe2\x80\xa8", 14, &start, &n);
	ok(n == 3 && start == 6, "strip: NBSP, ideographic space, U+001F, LS");
	superhf_strip(" \t ", 3, &start, &n);
	ok(n == 0, "strip: all white space");
	ok(utf8_chars("h\xc3\xa9llo \xe2\x82\xac", 10) == 7, "len() counts code points");
	is_dbl(superhf_shaped_score(1, 0.5, 100), 1 - 0.5 * log(100), 1e-15, "length penalty");
	is_dbl(superhf_shaped_score(1, 0, 100), 1, 0, "no penalty");
}

/* The fast matcher of the default expression against regexec, on texts
 * built from the pieces that matter. */
static void
fast_cut(void)
{
	static const char *piece[] = { "\n", "\n\n", ":", "Human", "Assistant", "Hum",
	    "Assist", "a", " ", "x:", "\n\n:", "H" };
	struct superhf_trim t;
	struct rng r;
	char text[256];
	long bad = 0;

	superhf_trim_init(&t, NULL, SUPERHF_TRIM_REGEX);
	ok(t.default_re, "the default expression takes the fast matcher");
	rng_init(&r, 17, 0, 0);
	for (int i = 0; i < 200000; i++) {
		size_t at = 0, n = rng_uniform_int(&r, 12);

		text[0] = '\0';
		for (size_t j = 0; j < n; j++)
			at += (size_t)snprintf(text + at, sizeof text - at, "%s",
			    piece[rng_uniform_int(&r, sizeof piece / sizeof *piece)]);
		if (superhf_default_cut_fast(text) != superhf_default_cut_regex(&t.re, text)) {
			if (bad++ < 3)
				diag("differ on '%s': fast %ld, regex %ld", text,
				    superhf_default_cut_fast(text), superhf_default_cut_regex(&t.re, text));
		}
	}
	is_int(bad, 0, "fast matcher == regexec on 200000 random texts");
	superhf_trim_release(&t);
}

static void
heap(void)
{
	struct superhf_group g;
	static char tag[8][2] = { "a", "b", "c", "d", "e", "f", "g", "h" };
	const double score[8] = { 1, 3, 2, 3, -1, 3, 0, 2 };
	void *out;
	size_t n, freed = 0;

	superhf_group_init(&g, 3);
	for (int i = 0; i < 8; i++) {
		out = superhf_group_offer(&g, score[i], (uint64_t)i, 1, tag[i]);
		freed += out != NULL;
	}
	ok(freed == 5, "8 offered, 3 kept, 5 handed back");
	is_dbl(g.mean, 13.0 / 8, 1e-15, "mean of all offered");
	is_dbl(superhf_group_sd(&g), sqrt((1 + 9 + 4 + 9 + 1 + 9 + 0 + 4) / 8.0 - (13.0 / 8) * (13.0 / 8)),
	    1e-12, "population sd");
	n = superhf_group_finish(&g, NAN, NAN, NULL, NULL);
	/* Three 3s: the earliest first (Python's stable sort, reverse). */
	ok(n == 3 && strcmp(g.heap[0].payload, "b") == 0 && strcmp(g.heap[1].payload, "d") == 0 &&
	    strcmp(g.heap[2].payload, "f") == 0, "ties go to the earlier candidate");
	superhf_group_release(&g);

	superhf_group_init(&g, 4);
	for (int i = 0; i < 8; i++)
		superhf_group_offer(&g, score[i], (uint64_t)i, 1, tag[i]);
	n = superhf_group_finish(&g, 2.5, NAN, NULL, NULL);
	ok(n == 3, "--min-score drops the 2 among the top 4");
	superhf_group_release(&g);
	superhf_group_init(&g, 8);
	for (int i = 0; i < 8; i++)
		superhf_group_offer(&g, score[i], (uint64_t)i, 1, tag[i]);
	n = superhf_group_finish(&g, NAN, 1.0, NULL, NULL);
	ok(n == 3, "--margin 1 keeps what beats the mean 1.625 by 1: the three 3s");
	superhf_group_release(&g);
}

/* The toy SuperHF loop: a policy over K completions, softmax(z); each
 * step draws n completions, keeps the best by a proxy reward (the group
 * heap, k = 1), and takes a gradient step on -log p(y*) + beta KL(p0||p),
 * whose gradient in z is (p - e_y*) + beta (p - p0). */
enum { TOY_K = 200, TOY_N = 16, TOY_STEPS = 3000 };

static void
toy(double beta, uint64_t seed, double *collision, double *kl)
{
	double z[TOY_K], p[TOY_K], p0[TOY_K], reward[TOY_K];
	struct rng r;

	rng_init(&r, seed, 0, 0);
	for (int i = 0; i < TOY_K; i++) {
		z[i] = rng_normal(&r);
		reward[i] = rng_normal(&r);
	}
	for (int step = 0; step <= TOY_STEPS; step++) {
		struct superhf_group g;
		double max = z[0], sum = 0;
		size_t best;

		for (int i = 1; i < TOY_K; i++)
			max = fmax(max, z[i]);
		for (int i = 0; i < TOY_K; i++)
			sum += p[i] = exp(z[i] - max);
		for (int i = 0; i < TOY_K; i++)
			p[i] /= sum;
		if (step == 0)
			memcpy(p0, p, sizeof p);
		if (step == TOY_STEPS)
			break;
		superhf_group_init(&g, 1);
		for (int j = 0; j < TOY_N; j++) {
			size_t y = rng_weighted(&r, p, TOY_K);

			superhf_group_offer(&g, reward[y], (uint64_t)j, 1, (void *)(y + 1));
		}
		superhf_group_finish(&g, NAN, NAN, NULL, NULL);
		best = (size_t)g.heap[0].payload - 1;
		superhf_group_release(&g);
		for (int i = 0; i < TOY_K; i++)
			z[i] -= 0.05 * ((p[i] - (i == (int)best)) + beta * (p[i] - p0[i]));
	}
	*collision = 0;
	*kl = 0;
	for (int i = 0; i < TOY_K; i++) {
		*collision += p[i] * p[i];
		*kl += p0[i] * log(p0[i] / p[i]);
	}
}

static void
toy_loop(void)
{
	const double betas[3] = { 0, 0.35, 1 };
	double coll[3] = { 0 }, kl[3] = { 0 };
	int each = 1;

	for (uint64_t seed = 1; seed <= 5; seed++) {
		double c[3], k[3];

		for (int b = 0; b < 3; b++) {
			toy(betas[b], seed, &c[b], &k[b]);
			coll[b] += c[b] / 5;
			kl[b] += k[b] / 5;
		}
		each &= c[0] > c[1] && c[1] > c[2] && k[0] > k[1] && k[1] > k[2];
	}
	diag("toy SuperHF, K=200, n=16, 3000 steps, 5 seeds: collision %.3f %.3f %.3f, "
	    "KL(p0||p) %.3f %.3f %.3f at beta 0, 0.35, 1 (research notes: 0.98 0.55 0.25; 4.7 1.4 0.7)",
	    coll[0], coll[1], coll[2], kl[0], kl[1], kl[2]);
	ok(each, "collision probability and KL fall as beta rises, for each of 5 seeds");
	ok(coll[0] > 0.8 && coll[2] < 0.5, "beta 0 collapses (sum p^2 > 0.8), beta 1 does not (< 0.5)");
}

int
main(void)
{
	trimming();
	fast_cut();
	heap();
	toy_loop();
	return tap_done();
}
