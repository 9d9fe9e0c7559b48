/*
 * porter.c - the Porter stemmer in NLTK's default mode (see porter.h).
 *
 * The word lives in a code-point buffer; each step either leaves it or
 * cuts a suffix and appends a replacement.  Rule lists are tried in order
 * and the first suffix that matches decides, whether or not its condition
 * holds: that is how Porter's steps read, and NLTK follows it.
 */
#include <stdlib.h>
#include <string.h>

#include "porter.h"
#include "utf8.h"
#include "util.h"

struct word {
	uint32_t *c;
	size_t n;
};

static int
is_vowel_letter(uint32_t c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* y is a consonant at the start and after a vowel, a vowel after a
 * consonant. */
static int
consonant(const uint32_t *c, size_t i)
{
	int y_run = 0;

	while (c[i] == 'y') {
		if (i == 0)
			return y_run % 2 == 0;
		y_run++;
		i--;
	}
	/* c[i] is the letter before a run of y_run y's (or the letter itself). */
	return (!is_vowel_letter(c[i])) == (y_run % 2 == 0);
}

/* m in [C](VC)^m[V]: the number of vowel-to-consonant changes. */
static int
measure(const uint32_t *c, size_t n)
{
	int m = 0;

	for (size_t i = 1; i < n; i++)
		m += !consonant(c, i - 1) && consonant(c, i);
	return m;
}

static int
contains_vowel(const uint32_t *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!consonant(c, i))
			return 1;
	return 0;
}

static int
ends_double_consonant(const uint32_t *c, size_t n)
{
	return n >= 2 && c[n - 1] == c[n - 2] && consonant(c, n - 1);
}

/* consonant-vowel-consonant, the last not w, x or y; NLTK also counts a
 * two-letter vowel-consonant word. */
static int
ends_cvc(const uint32_t *c, size_t n)
{
	if (n >= 3 && consonant(c, n - 3) && !consonant(c, n - 2) && consonant(c, n - 1) &&
	    c[n - 1] != 'w' && c[n - 1] != 'x' && c[n - 1] != 'y')
		return 1;
	return n == 2 && !consonant(c, 0) && consonant(c, 1);
}

static int
ends_with(const struct word *w, const char *suffix, size_t len)
{
	if (w->n < len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (w->c[w->n - len + i] != (unsigned char)suffix[i])
			return 0;
	return 1;
}

static void
append(struct word *w, const char *s)
{
	while (*s)
		w->c[w->n++] = (unsigned char)*s++;
}

enum cond {
	ALWAYS,
	M_GT0,		/* measure of the stem > 0 */
	M_GT1,		/* measure of the stem > 1 */
	M_GT1_ST,	/* "ion": measure > 1 and the stem ends in s or t */
	LOGI,		/* "logi": measure of the word less "ogi" > 0 (NLTK) */
};

struct rule {
	const char *suffix, *replacement;
	enum cond cond;
};

static int
holds(enum cond cond, const struct word *w, size_t stem_n)
{
	switch (cond) {
	case ALWAYS:
		return 1;
	case M_GT0:
		return measure(w->c, stem_n) > 0;
	case M_GT1:
		return measure(w->c, stem_n) > 1;
	case M_GT1_ST:
		return measure(w->c, stem_n) > 1 &&
		    (w->c[stem_n - 1] == 's' || w->c[stem_n - 1] == 't');
	case LOGI:
		return measure(w->c, w->n - 3) > 0;
	}
	return 0;
}

/* The first rule whose suffix ends the word decides. */
static void
apply_rules(struct word *w, const struct rule *rules, size_t n_rules)
{
	for (size_t r = 0; r < n_rules; r++) {
		size_t len = strlen(rules[r].suffix);

		if (!ends_with(w, rules[r].suffix, len))
			continue;
		if (holds(rules[r].cond, w, w->n - len)) {
			w->n -= len;
			append(w, rules[r].replacement);
		}
		return;
	}
}

#define N_RULES(a) (sizeof(a) / sizeof((a)[0]))

static void
step1a(struct word *w)
{
	static const struct rule rules[] = {
		{ "sses", "ss", ALWAYS }, { "ies", "i", ALWAYS },
		{ "ss", "ss", ALWAYS }, { "s", "", ALWAYS },
	};

	if (w->n == 4 && ends_with(w, "ies", 3)) {	/* NLTK: "ties" -> "tie" */
		w->n -= 1;
		return;
	}
	apply_rules(w, rules, N_RULES(rules));
}

static void
step1b(struct word *w)
{
	static const struct rule rules[] = {
		{ "at", "ate", ALWAYS }, { "bl", "ble", ALWAYS }, { "iz", "ize", ALWAYS },
	};
	size_t stem;

	if (ends_with(w, "ied", 3)) {		/* NLTK: "tied" -> "tie", "cried" -> "cri" */
		w->n -= w->n == 4 ? 1 : 2;
		return;
	}
	if (ends_with(w, "eed", 3)) {
		if (measure(w->c, w->n - 3) > 0)
			w->n -= 1;
		return;
	}
	if (ends_with(w, "ed", 2) && contains_vowel(w->c, w->n - 2))
		stem = w->n - 2;
	else if (ends_with(w, "ing", 3) && contains_vowel(w->c, w->n - 3))
		stem = w->n - 3;
	else
		return;
	w->n = stem;
	for (size_t r = 0; r < N_RULES(rules); r++)
		if (ends_with(w, rules[r].suffix, 2)) {
			w->n -= 2;
			append(w, rules[r].replacement);
			return;
		}
	if (ends_double_consonant(w->c, w->n)) {
		uint32_t last = w->c[w->n - 1];

		if (last != 'l' && last != 's' && last != 'z')
			w->n -= 1;
		return;
	}
	if (measure(w->c, w->n) == 1 && ends_cvc(w->c, w->n))
		append(w, "e");
}

static void
step1c(struct word *w)
{
	/* NLTK: y -> i after a consonant that is not the first letter. */
	if (ends_with(w, "y", 1) && w->n - 1 > 1 && consonant(w->c, w->n - 2))
		w->c[w->n - 1] = 'i';
}

static void
step2(struct word *w)
{
	static const struct rule rules[] = {
		{ "ational", "ate", M_GT0 }, { "tional", "tion", M_GT0 },
		{ "enci", "ence", M_GT0 }, { "anci", "ance", M_GT0 },
		{ "izer", "ize", M_GT0 }, { "bli", "ble", M_GT0 },
		{ "alli", "al", M_GT0 }, { "entli", "ent", M_GT0 },
		{ "eli", "e", M_GT0 }, { "ousli", "ous", M_GT0 },
		{ "ization", "ize", M_GT0 }, { "ation", "ate", M_GT0 },
		{ "ator", "ate", M_GT0 }, { "alism", "al", M_GT0 },
		{ "iveness", "ive", M_GT0 }, { "fulness", "ful", M_GT0 },
		{ "ousness", "ous", M_GT0 }, { "aliti", "al", M_GT0 },
		{ "iviti", "ive", M_GT0 }, { "biliti", "ble", M_GT0 },
		{ "fulli", "ful", M_GT0 }, { "logi", "log", LOGI },
	};

	/* NLTK: "alli" -> "al", then step 2 again on the result. */
	if (ends_with(w, "alli", 4) && measure(w->c, w->n - 4) > 0)
		w->n -= 2;
	apply_rules(w, rules, N_RULES(rules));
}

static void
step3(struct word *w)
{
	static const struct rule rules[] = {
		{ "icate", "ic", M_GT0 }, { "ative", "", M_GT0 }, { "alize", "al", M_GT0 },
		{ "iciti", "ic", M_GT0 }, { "ical", "ic", M_GT0 }, { "ful", "", M_GT0 },
		{ "ness", "", M_GT0 },
	};

	apply_rules(w, rules, N_RULES(rules));
}

static void
step4(struct word *w)
{
	static const struct rule rules[] = {
		{ "al", "", M_GT1 }, { "ance", "", M_GT1 }, { "ence", "", M_GT1 },
		{ "er", "", M_GT1 }, { "ic", "", M_GT1 }, { "able", "", M_GT1 },
		{ "ible", "", M_GT1 }, { "ant", "", M_GT1 }, { "ement", "", M_GT1 },
		{ "ment", "", M_GT1 }, { "ent", "", M_GT1 }, { "ion", "", M_GT1_ST },
		{ "ou", "", M_GT1 }, { "ism", "", M_GT1 }, { "ate", "", M_GT1 },
		{ "iti", "", M_GT1 }, { "ous", "", M_GT1 }, { "ive", "", M_GT1 },
		{ "ize", "", M_GT1 },
	};

	apply_rules(w, rules, N_RULES(rules));
}

static void
step5(struct word *w)
{
	if (ends_with(w, "e", 1)) {
		int m = measure(w->c, w->n - 1);

		if (m > 1 || (m == 1 && !ends_cvc(w->c, w->n - 1)))
			w->n -= 1;
	}
	if (ends_with(w, "ll", 2) && measure(w->c, w->n - 1) > 1)
		w->n -= 1;
}

/* NLTK's pool of irregular forms, looked up before any step. */
static const char *const irregular[][2] = {
	{ "sky", "sky" }, { "skies", "sky" }, { "dying", "die" }, { "lying", "lie" },
	{ "tying", "tie" }, { "news", "news" }, { "innings", "inning" },
	{ "inning", "inning" }, { "outings", "outing" }, { "outing", "outing" },
	{ "cannings", "canning" }, { "canning", "canning" }, { "howe", "howe" },
	{ "proceed", "proceed" }, { "exceed", "exceed" }, { "succeed", "succeed" },
};

size_t
porter_stem(const uint32_t *c, size_t n, uint32_t *out)
{
	struct word w = { out, n };

	memcpy(out, c, n * sizeof *c);
	for (size_t i = 0; i < N_RULES(irregular); i++) {
		struct word form = { out, n };
		size_t len = strlen(irregular[i][0]);

		if (len == n && ends_with(&form, irregular[i][0], len)) {
			w.n = 0;
			append(&w, irregular[i][1]);
			return w.n;
		}
	}
	if (n <= 2)
		return n;
	step1a(&w);
	step1b(&w);
	step1c(&w);
	step2(&w);
	step3(&w);
	step4(&w);
	step5(&w);
	return w.n;
}

size_t
porter_stem_utf8(const char *word, size_t len, char *out)
{
	uint32_t small[64 + PORTER_GROWTH], small_out[64 + PORTER_GROWTH];
	uint32_t *c = small, *s = small_out;
	size_t n = 0, m, o = 0, w;

	if (len > 64) {
		/* Rare (tokens are words); the stack part stays bounded. */
		uint32_t *heap = xreallocarray(NULL, 2 * (len + PORTER_GROWTH), sizeof *heap);

		c = heap;
		s = heap + len + PORTER_GROWTH;
	}
	for (size_t i = 0; i < len; i += w)
		c[n++] = utf8_decode((const unsigned char *)word + i, len - i, &w);
	m = porter_stem(c, n, s);
	for (size_t i = 0; i < m; i++)
		o += utf8_encode(s[i], out + o);
	if (c != small)
		free(c);
	return o;
}
