/*
 * meteor.h - the METEOR score as NLTK 3.8's meteor_score computes it, and
 * SuperHF's METEOR similarity built on it.
 *
 * METEOR (Banerjee & Lavie 2005; Lavie & Agarwal 2007) aligns the words of
 * a hypothesis with a reference and scores the alignment:
 *
 *	P = m/|h|, R = m/|r|, F = P R / (alpha P + (1 - alpha) R),
 *	score = (1 - gamma (chunks/m)^beta) F		(0 when m = 0)
 *
 * with m the matched words and chunks the fewest runs of matches adjacent
 * in both.  NLTK aligns greedily in three stages -- exact words, then
 * Porter stems, then WordNet synonyms -- each scanning the hypothesis from
 * its end and taking the last unmatched reference word that fits, which
 * is not the fewest-crossings alignment of the METEOR papers.  Its
 * synonym stage looks up the *stems* left from the stem stage ("ensures"
 * is looked up as "ensur"); we do the same, since parity with NLTK is the
 * point: SuperHF reports NLTK's numbers.
 *
 * Words are Python's str.split() tokens lowercased by str.lower().  Every
 * distinct word, stem and WordNet lemma gets an id in one table, and each
 * word's stem and each stem's synonym set are computed once: scoring a
 * pair then costs a few passes over two arrays of ids.
 */
#ifndef LOAM_METEOR_H
#define LOAM_METEOR_H

#include <stddef.h>
#include <stdint.h>

#include "wordnet.h"

enum {
	METEOR_EXACT = 1 << 0,
	METEOR_STEM = 1 << 1,
	METEOR_SYNONYM = 1 << 2,
	METEOR_ALL = METEOR_EXACT | METEOR_STEM | METEOR_SYNONYM,
};

struct meteor_params {
	double alpha, beta, gamma;
	unsigned stages;		/* METEOR_*; exact is always on */
};

#define METEOR_PARAMS_NLTK { 0.9, 3.0, 0.5, METEOR_ALL }

/* A text made ready for scoring: its words and their stems, as ids. */
struct meteor_text {
	uint32_t *word, *stem;
	size_t n;
};

struct meteor;

/* wn may be NULL when the synonym stage is off; it is borrowed. */
struct meteor *meteor_new(const struct meteor_params *p, const struct wordnet *wn);
void meteor_free(struct meteor *m);

/* Parse "exact", "exact,stem" or "exact,stem,synonym" into METEOR_*;
 * -1 if it is none of those. */
int meteor_parse_stages(const char *s);

/* Tokenise valid UTF-8 text (split, lower, stem) into t, which owns its
 * arrays until meteor_text_release. */
void meteor_prepare(struct meteor *m, const char *text, size_t len, struct meteor_text *t);
void meteor_text_release(struct meteor_text *t);

/* NLTK's meteor_score([reference], hypothesis). */
double meteor_score(struct meteor *m, const struct meteor_text *hyp,
    const struct meteor_text *ref);

/* The plain reference implementation of the same alignment (list scans, as
 * NLTK writes it), for the tests. */
double meteor_score_reference(struct meteor *m, const struct meteor_text *hyp,
    const struct meteor_text *ref);

struct rng;

/* SuperHF's METEOR similarity: the mean of meteor_score(text[j], text[i])
 * (text[i] the reference) over ordered pairs of texts of different groups
 * (group NULL: each text a group of its own, as in SuperHF's
 * _calculate_meteor_similarity).  All such pairs when there are at most
 * max_pairs, otherwise max_pairs pairs drawn uniformly with r.  Sets
 * *pairs and the scores' standard deviation *sd; NaN with no pairs. */
double meteor_similarity(struct meteor *m, const struct meteor_text *text,
    const uint32_t *group, size_t n, uint64_t max_pairs, struct rng *r,
    uint64_t *pairs, double *sd);

/* The paper's bootstrap (SuperHF's bootstrap_meteor_similarity_from_
 * completions): draws times, two distinct texts drawn uniformly, both
 * orders scored; each draw's mean into draw_mean[].  n >= 2. */
void meteor_bootstrap(struct meteor *m, const struct meteor_text *text, size_t n,
    size_t draws, struct rng *r, double *draw_mean);

#endif
