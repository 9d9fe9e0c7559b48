/*
 * wordnet.h - synonyms from the WordNet 3.0 database files, as NLTK 3.8's
 * WordNetCorpusReader finds them (METEOR's third stage).
 *
 * We read the files Debian's wordnet-base installs (index.*, data.*,
 * *.exc under /usr/share/wordnet) ourselves: the lookup METEOR needs is
 * NLTK's wordnet.synsets(word) -- its morphy() over the four parts of
 * speech, exceptions first, then the detachment rules applied until some
 * form is in the index -- and the lemma names of those synsets.  The
 * index is loaded into memory (about 0.2 s); synset lines are read from
 * the mapped data files by their byte offsets.
 */
#ifndef LOAM_WORDNET_H
#define LOAM_WORDNET_H

#include <stddef.h>

#define WORDNET_DIR "/usr/share/wordnet"

struct wordnet;

/* Open the database in dir (index.noun, data.noun, noun.exc, ... for noun,
 * verb, adj, adv); NULL with loam_error() set on failure. */
struct wordnet *wordnet_open(const char *dir);
void wordnet_close(struct wordnet *wn);

/* Call fn with each lemma name (syntactic marker such as "(a)" removed)
 * of each synset NLTK's wordnet.synsets(word) returns for the lowercase
 * word; names may repeat. */
void wordnet_lemma_names(const struct wordnet *wn, const char *word, size_t len,
    void (*fn)(void *arg, const char *name, size_t len), void *arg);

#endif
