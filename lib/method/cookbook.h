/*
 * cookbook - rule templates over random tokens, after Cookbook (Narayan,
 * Chen, Bhatia and Ré, 2024), and Skill-It's LEGO and addition synthetics
 * (Chen et al., 2023), the core of cookbook-gen(1).
 *
 * A template makes an instruction example from random tokens and derives
 * its output by an explicit rule that approximates a real task's rule
 * ("copy what follows the question's span in the document").  No
 * reference code for Cookbook is public: the catalogue, parameters,
 * layouts and rules (cookbook_templates.h) are our design after the
 * paper's description (research/skillit-cookbook.md, Part B).  LEGO and addition reproduce
 * the Skill-It reference generators' strings byte for byte (§A3).
 *
 * Tokens.  The rules see text through cookbook_tokenize(): a token is a maximal
 * run of ASCII letters and digits and bytes >= 0x80 (UTF-8 is kept as
 * it is); whitespace, ASCII punctuation and control bytes separate
 * tokens; ASCII letters fold to lower case.  A vocabulary holds only
 * tokens that are one such token each and that stay distinct after
 * folding, so that a generator reasoning about token ids reasons about
 * exactly what the rule will see.
 *
 * This header holds what the templates are made of: vocabularies, buffers,
 * examples and tokens.  The templates, their catalogue and their rules
 * are in cookbook_templates.h, unique generation in cookbook_unique.h,
 * Cookbook-Mix in cookbook_mix.h.
 */
#ifndef LOAM_COOKBOOK_H
#define LOAM_COOKBOOK_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

#define COOKBOOK_MAX_OPTIONS		16
#define COOKBOOK_MAX_PARAMS		8
#define COOKBOOK_VOCAB_DEFAULT	1000
#define COOKBOOK_VOCAB_BUILTIN_MAX	1000000

/*
 * Token vocabulary: the built-in pseudo-words, or a file; made only by
 * the two functions below.  The tokens are NUL-terminated, stored back
 * to back in storage, which the struct owns, and followed by
 * COOKBOOK_VOCAB_PAD zero bytes, so that the generators may copy a short token
 * as one fixed-size block.
 */
#define COOKBOOK_VOCAB_PAD		16
struct cookbook_vocab {
	char **token;
	size_t n;
	char *storage;
	uint32_t *len;		/* strlen(token[i]) */
	size_t maxlen;		/* longest token */
	size_t nskipped;	/* cookbook_vocab_load: lines with ASCII punctuation
				 * or control bytes, which cookbook_tokenize would
				 * split, so they cannot be tokens */
	size_t nduplicates;	/* cookbook_vocab_load: lines equal to an earlier
				 * one after ASCII case folding */
};

/* n pseudo-words (COOKBOOK_VOCAB_DEFAULT usually): 2 to 4 consonant-vowel
 * syllables, lower-case ASCII, distinct, drawn from a fixed generator
 * that does not depend on any seed.  The first m words are the same for
 * every n >= m.  -1 with loam_error() when n is 0 or above
 * COOKBOOK_VOCAB_BUILTIN_MAX. */
int cookbook_vocab_builtin(struct cookbook_vocab *v, size_t n);
/* One token per line.  Blank lines are skipped; a trailing "\r" is part
 * of the line ending; lines with ASCII punctuation or control bytes are
 * skipped and counted in nskipped (a tokenizer's vocabulary has many:
 * "##ing", "[PAD]", "!"); duplicates after case folding are removed, the
 * first kept, and counted in nduplicates.  Errors (-1 with loam_error()):
 * the file cannot be read, "path:line: ..." for a token with whitespace
 * in it or invalid UTF-8, and a file with no usable token. */
int cookbook_vocab_load(struct cookbook_vocab *v, const char *path);
void cookbook_vocab_release(struct cookbook_vocab *v);

/*
 * A growable byte buffer the generators render into; it keeps its memory
 * between records, so steady-state generation allocates nothing.  After
 * any call s is NUL-terminated at len (s is NULL only before the first).
 */
struct cookbook_buf {
	char *s;
	size_t len, cap;
};
void cookbook_buf_reset(struct cookbook_buf *b);
/* Make room for extra more bytes (and the NUL) without reallocating. */
void cookbook_buf_reserve(struct cookbook_buf *b, size_t extra);
void cookbook_buf_add(struct cookbook_buf *b, const char *s, size_t n);
void cookbook_buf_release(struct cookbook_buf *b);

/*
 * One example.  The strings are NUL-terminated views into its buffers,
 * valid until the next generate into the same example.  Initialise with
 * cookbook_example_init() (or zero it); reuse it for every record.
 */
struct cookbook_example {
	struct cookbook_buf input, output;
	struct cookbook_buf optbuf;		/* options, each NUL-terminated */
	size_t noptions;
	size_t optoff[COOKBOOK_MAX_OPTIONS];	/* option i: optbuf.s + optoff[i] */
	int answer_index;		/* -1 when the template has no options */
	const char *skill;		/* lego, addition: "0", "1", ...; else NULL */

	/* Private to the generators: scratch kept between records. */
	uint32_t *ids;			/* token ids */
	size_t idscap;
	uint32_t *mark;			/* per vocabulary id: a set stamp */
	size_t markcap;
	uint32_t stamp;			/* last stamp handed out */
};
void cookbook_example_init(struct cookbook_example *ex);
void cookbook_example_release(struct cookbook_example *ex);
/* Option i of ex. */
const char *cookbook_example_option(const struct cookbook_example *ex, size_t i);

/* Empty input, output and options, no answer, no skill: every
 * generator's first step. */
void cookbook_example_begin(struct cookbook_example *ex);

/* cookbook_tokenize's token bytes: ASCII letters and digits, and every byte of
 * a multibyte UTF-8 sequence. */
static inline int
cookbook_is_token_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80;
}

/* Hash of a token of n bytes after ASCII case folding (FNV-1a): equal
 * for tokens the rules consider equal. */
uint64_t cookbook_token_hash(const char *s, size_t n);
/* memcmp() of n bytes after ASCII case folding. */
int cookbook_token_cmp(const char *a, const char *b, size_t n);

/* Split text into tokens (see above).  *scratch is reset to a lower-cased
 * copy of text; span[i] = { offset, length } of token i, offsets valid
 * in the copy and in text alike (folding moves no byte).  Stores at most
 * max spans and returns how many tokens there are, so a caller whose
 * array was short can grow it and call again. */
size_t cookbook_tokenize(const char *text, struct cookbook_buf *scratch,
    size_t (*span)[2], size_t max);

/* Text compared as its tokens, as align and mix compare a model's answer
 * with a rule's: cookbook_words_join() writes the tokens of text joined
 * by single spaces into out (NUL-terminated) and returns out->s.  The
 * struct is scratch kept between calls (zero it first). */
struct cookbook_words {
	struct cookbook_buf scratch;
	size_t (*span)[2];
	size_t cap;
};
const char *cookbook_words_join(struct cookbook_words *w, const char *text,
    struct cookbook_buf *out);
void cookbook_words_release(struct cookbook_words *w);

#ifdef __cplusplus
}
#endif

#endif
