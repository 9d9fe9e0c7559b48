/*
 * superhf - SuperHF's filtering step (Mukobi et al., 2023, arXiv
 * 2310.16763; reference code openfeedback/superhf, training.py and
 * filtering.py): trim each sampled completion, drop the empty ones, shape
 * the score, keep the best k per prompt.  The fine-tuning that follows is
 * not here: superhf-filter(1) writes its training set.
 *
 * Trimming (training.py, collate_fn_rm_train): the text after the first
 * prompt delimiter ("\n\nAssistant:") when the text holds one, cut at the
 * first match of a regular expression (default "\n\n[^:]+:|Human|Assistant",
 * which removes invented extra turns of dialogue), then stripped of white
 * space as Python's str.strip() strips it.  Its length is counted in
 * characters (code points), as Python's len() counts.
 *
 * Selection (filtering.py, CompletionFilterTopK): completions shorter than
 * min_chars go; the score becomes score - c * ln(chars) with a length
 * penalty c; the k highest scores are kept.  Ties go to the candidate that
 * came first, as Python's stable sort (reverse=True keeps the order of
 * equal keys) gives.  Two options the reference lacks, after RAFT: a
 * floor on the score, and a margin over the group's mean score.
 */
#ifndef LOAM_SUPERHF_H
#define LOAM_SUPERHF_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* SuperHF's defaults (constants.py). */
#define SUPERHF_DELIMITER "\n\nAssistant:"
#define SUPERHF_TRIM_REGEX "\n\n[^:]+:|Human|Assistant"

struct superhf_trim {
	const char *delimiter;	/* NULL or "": the text is all completion */
	regex_t re;
	int have_re;		/* 0: no cut, only the strip */
	int default_re;		/* the regex is SUPERHF_TRIM_REGEX: a matcher
				   of its own finds the same cut faster */
};

/* A copy of s (an option's value) with the two-character sequences \n,
 * \t and \r turned into newline, tab and carriage return, so that the
 * defaults can be written on a command line; other backslashes stay (a
 * regular expression's own escapes).  Free it. */
char *superhf_unescape(const char *s);

/* Compile the regular expression (POSIX extended; NULL for none).  -1
 * with loam_seterr() when it does not compile. */
int superhf_trim_init(struct superhf_trim *t, const char *delimiter, const char *regex);
void superhf_trim_release(struct superhf_trim *t);

/* The completion within text[0, len): *start and *n delimit it inside
 * text; *prompt_len is the length of the prompt before it, delimiter
 * included (0 when the text held no delimiter).  The text must be a
 * NUL-ended string (len is its length). */
void superhf_trim(const struct superhf_trim *t, const char *text, size_t len,
    size_t *start, size_t *n, size_t *prompt_len);

/* Where the default trim regex first matches s (NUL-ended), by regexec
 * (the reference) and by the fast matcher superhf_trim() uses for it:
 * the offset, or -1 for no match.  Exposed for the tests. */
long superhf_default_cut_regex(const regex_t *re, const char *s);
long superhf_default_cut_fast(const char *s);

/* Python's str.strip() on UTF-8: the span of s[0, len) without leading
 * and trailing white space (the characters str.isspace() accepts). */
void superhf_strip(const char *s, size_t len, size_t *start, size_t *n);


/* The shaped score: score - c * ln(chars) (chars > 0). */
double superhf_shaped_score(double score, double length_penalty, size_t chars);

/*
 * One group's candidates: running mean and variance of the (shaped)
 * scores over every candidate offered (Welford), and the best k kept in
 * a heap.  A kept candidate is an opaque payload the caller owns
 * (superhf_group_offer returns the one it displaced, or the one offered
 * when it did not make the cut, for the caller to free or reuse).
 */
struct superhf_kept {
	double score;
	uint64_t seq;		/* arrival order: the tie-break */
	size_t chars;
	void *payload;
};

struct superhf_group {
	uint64_t n;		/* candidates offered */
	double mean, m2;	/* Welford */
	size_t k, nkept;
	struct superhf_kept *heap;	/* worst on top */
};

void superhf_group_init(struct superhf_group *g, size_t k);
void superhf_group_release(struct superhf_group *g);
/* Offer a candidate; returns the payload that is not kept (the offered
 * one or the one displaced), or NULL when nothing was displaced. */
void *superhf_group_offer(struct superhf_group *g, double score, uint64_t seq,
    size_t chars, void *payload);
/* Population standard deviation of the scores offered. */
double superhf_group_sd(const struct superhf_group *g);
/* Sort the kept candidates best first (rank 1 at index 0) and drop those
 * below min_score or below mean + margin (NAN: no such test); returns how
 * many are left in g->heap[0, n).  Dropped payloads are handed to drop
 * (may be NULL). */
size_t superhf_group_finish(struct superhf_group *g, double min_score, double margin,
    void (*drop)(void *payload, void *arg), void *arg);

#ifdef __cplusplus
}
#endif

#endif
