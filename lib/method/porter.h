/*
 * porter.h - the Porter stemmer as NLTK 3.8 runs it by default
 * (PorterStemmer(mode=NLTK_EXTENSIONS)), on Unicode code points.
 *
 * METEOR's second stage matches words whose stems agree, and NLTK's
 * meteor_score uses this variant: Porter (1980) with Martin Porter's later
 * corrections and NLTK's own departures (a pool of irregular forms,
 * "ies"/"ied" on four-letter words, "y" -> "i" only after a consonant,
 * "alli" applied repeatedly, "fulli", "logi", "cvc" on two-letter stems,
 * words of two letters or fewer left alone).  libstemmer's "porter" is the
 * original algorithm and differs on common words ("dying", "news",
 * "generously"), so a match count would differ; hence our own code.
 *
 * Letters are the code points of a lowercased word; only a, e, i, o, u
 * are vowels (y by position), any other code point is a consonant, as in
 * NLTK.
 */
#ifndef LOAM_PORTER_H
#define LOAM_PORTER_H

#include <stddef.h>
#include <stdint.h>

/* Room porter_stem may need beyond the word's length. */
#define PORTER_GROWTH 4

/* Stem the n code points of w into out (room for n + PORTER_GROWTH) and
 * return the stem's length.  w and out may not overlap. */
size_t porter_stem(const uint32_t *w, size_t n, uint32_t *out);

/* The same on a UTF-8 word (valid UTF-8, already lowercased): the stem,
 * UTF-8, into out (room for len + PORTER_GROWTH bytes); returns its length. */
size_t porter_stem_utf8(const char *word, size_t len, char *out);

#endif
