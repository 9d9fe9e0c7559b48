/*
 * cookbook_templates - the catalogue of Cookbook's rule templates and
 * Skill-It's LEGO and addition (cookbook.h has what they are made of).
 *
 * Every generated example satisfies
 *
 *	rule(parse(input, options)) == (output, answer_index)
 *
 * which is what cookbook_verify() and `cookbook-gen check` test.  Generators
 * build that property in, repairing single tokens where a random draw
 * could break it; they never redraw whole examples until one passes.
 *
 * Overlap, where a rule counts it, is the number of distinct tokens two
 * texts share.  A rule that would have to break a tie fails instead (-1
 * with a message): on natural-language input (`cookbook-gen align`) that
 * reads as "the rule abstains", never as an arbitrary pick.
 *
 * The catalogue (input lines are separated by "\n"; options are separate
 * strings, never part of the input; an option template's output is the
 * text of its correct option; yes/no outputs are "yes" or "no"):
 *
 * docqa-span (search; document QA)
 *	params doc_len=64 span_len=4 answer_len=3
 *	input  "Document: w1 ... w64\nQuestion: w17 w18 w19 w20"
 *	rule   find the question's token sequence in the document (first
 *	       occurrence) and copy the answer_len tokens that follow it
 *	       (fewer if the document ends first; none: fails)
 *	gen    the span is chosen with answer_len tokens after it, and any
 *	       other occurrence of it is broken by redrawing a token outside
 *	       the span, so it occurs exactly once
 * mcq-overlap (selection; ARC, OpenBookQA)
 *	params context_len=24 question_len=8 options=4 option_len=4
 *	input  "Context: ...\nQuestion: ..."; options of option_len tokens
 *	rule   the option sharing the most distinct tokens with context and
 *	       question together
 *	gen    the answer shares c tokens, c uniform in [1, option_len]
 *	       (fewer if context and question have fewer distinct tokens),
 *	       every other option a number uniform in [0, c); the rest of
 *	       each option is distinct tokens from neither
 * yesno-contains (search; BoolQ)
 *	params passage_len=48 span_len=4
 *	input  "Passage: ...\nQuestion: ..."
 *	rule   "yes" iff the question's token sequence occurs in the passage
 *	gen    label first (fair coin); "no" questions are passage spans with
 *	       one token changed: to another passage token when that leaves
 *	       no occurrence (4 tries), else to a token absent from the
 *	       passage
 * entity-match (comparison; entity matching)
 *	params attrs=3 value_len=3 threshold=50
 *	input  "Entity A: k1: v v v; k2: v v v; k3: v v v\nEntity B: ..."
 *	rule   "yes" iff the Jaccard index of the two lines' distinct token
 *	       sets (attribute names included) is >= threshold percent,
 *	       computed exactly as 100 |A and B| >= threshold |A or B|
 *	gen    label first (fair coin); B copies A and replaces r of its
 *	       attrs*value_len value tokens by fresh ones, r drawn uniformly
 *	       among the counts that give the label
 * entity-disambig (selection; entity disambiguation)
 *	params context_len=32 mention_len=2 options=4 desc_len=6
 *	input  "Context: ...\nMention: m1 m2"; options "m1 m2: d1 ... d6"
 *	rule   the candidate sharing the most distinct tokens with context
 *	       and mention together (the mention is a span of the context)
 *	gen    the context outside the mention avoids the mention's tokens;
 *	       then as mcq-overlap, over the context tokens outside the
 *	       mention (the mention counts alike for every candidate)
 * continuation (selection; HellaSwag)
 *	params seq_len=24 period_min=2 period_max=6 cont_len=4 options=4
 *	input  "Sequence: ..." (a random pattern of period p repeated)
 *	rule   take the smallest period p of the sequence's tokens, extend
 *	       the sequence by it, and choose the option agreeing with the
 *	       extension at the most positions
 *	gen    p uniform in [period_min, period_max]; seq_len >= 2 period_max
 *	       makes the smallest period give the same extension; wrong
 *	       options are the pattern at a wrong phase, the continuation with
 *	       one token changed, or pattern tokens in random order, all
 *	       distinct
 * fill-blank (selection; WinoGrande)
 *	params context_len=24 sentence_len=8
 *	input  "Context: ...\nSentence: w w _ w w"; two one-token options
 *	rule   the option whose tokens occur in the context, if exactly one
 *	       does (none or both: fails)
 *	gen    the sentence is a span of the context with the answer blanked;
 *	       the other option is a token absent from the context
 * two-choice (selection; PIQA)
 *	params goal_len=12 solution_len=6
 *	input  "Goal: ..."; two options of solution_len tokens
 *	rule   the solution sharing more distinct tokens with the goal
 *	gen    as mcq-overlap with two options
 * lego (skill; Skill-It LEGO)
 *	params k=5 skill=-1 (-1: uniform over the k variables)
 *	input  "Input:  s = not z , h = val 1 ,  u = not s ,  o = not h ,"
 *	       "  z = val o. Output: u = val " (one string)   output "0, "
 *	rule   follow the queried variable's val/not chain to its root's bit
 *	gen    the reference's draws: k fair bits, a permutation of a-z (the
 *	       first k letters name the chain x0 -> x1 -> ... of
 *	       nx.path_graph), a permutation of the k clauses
 * addition (skill; Skill-It addition)
 *	params k=3 skill=-1 (-1: uniform over the k digits)
 *	input  "Input: A = 2 3 3 + 0 2 8 , A 1 = ? Output: "   output "6"
 *	rule   digit d of the sum, d = 0 the ones digit
 *	gen    operands uniform in [0, 10^k - 2], as NumPy's randint(0,
 *	       10^k - 1) in the reference
 *
 * For lego and addition the reference string is exactly input + output.
 * Addition's input ends in "Output: ".  LEGO's ends in "Output: u = val ":
 * the queried variable is part of what the model is given (the reference
 * scores only the answer bit's tokens), and a rule could not know which
 * variable to resolve otherwise.  Their `skill` is the reference's skill
 * index as a decimal string: for LEGO the queried variable's position in
 * the chain (0 is the root, which is assigned a constant), for addition
 * the digit position (0 is the ones digit).  The reference also drops
 * duplicate sentences within a skill (LEGO); plain generation cannot,
 * since each example is made from its own generator alone, so that is
 * the opt-in cookbook_unique below (`gen --unique`).
 *
 * Randomness comes only from the struct rng a generator is given (the
 * command starts one per example from seed, template and index), so
 * example i never depends on examples before it, except under
 * cookbook_unique, where whether a draw is kept does.
 */
#ifndef LOAM_COOKBOOK_TEMPLATES_H
#define LOAM_COOKBOOK_TEMPLATES_H

#include <stddef.h>
#include <stdint.h>

#include "cookbook.h"
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cookbook_param {
	const char *name;
	long def, min, max;
	const char *doc;
};

/*
 * What a rule sees: the parts of an input, split by the template's labels
 * ("Document: ", "Question: "), or built by `align` from a task record's
 * fields.  query is NULL for templates with one input line; for lego it
 * is the queried variable and context the clauses, for addition context
 * is "A = ... = ?".
 */
struct cookbook_query {
	const char *context;
	const char *query;
	const char *const *options;
	size_t noptions;
};

struct cookbook_template {
	const char *name;		/* "docqa-span", ... */
	const char *family;		/* selection, search, comparison; skill */
	const char *task;		/* the task kind it targets */
	const char *instruction;
	const char *context_label;	/* first input line's label, "Document: " */
	const char *query_label;	/* second line's, or NULL */
	const struct cookbook_param *params;
	size_t nparams;
	int has_options;
	/* Make one example from r; param[i] is the value of params[i], and
	 * (param, v) passed cookbook_template_check(). */
	void (*generate)(const struct cookbook_template *t, const long *param,
	    const struct cookbook_vocab *v, struct rng *r, struct cookbook_example *ex);
	/* Split a generated input into parts; -1 with loam_error() if it does
	 * not have the template's layout.  The parts point into a copy owned
	 * by *scratch (the caller frees it with cookbook_buf_release()). */
	int (*parse)(const struct cookbook_template *t, const char *input,
	    const char *const *options, size_t noptions,
	    struct cookbook_buf *scratch, struct cookbook_query *q);
	/* The rule: derive the output (and the answer index, -1 when none)
	 * from the parts.  Pure.  -1 with loam_error() when it cannot apply. */
	int (*rule)(const struct cookbook_template *t, const long *param,
	    const struct cookbook_query *q, struct cookbook_buf *output, int *answer_index);
	/* Constraints between parameters and on the vocabulary size, beyond
	 * each parameter's range; NULL when none.  Use cookbook_template_check(). */
	int (*check)(const struct cookbook_template *t, const long *param,
	    const struct cookbook_vocab *v);
	/* How many distinct examples generate can make, saturating at
	 * UINT64_MAX; NULL where it is not computed (the random-token
	 * templates, whose count is a power of the vocabulary size).  Use
	 * cookbook_template_distinct(). */
	uint64_t (*distinct)(const struct cookbook_template *t, const long *param);
};

/* The catalogue, in a fixed order. */
const struct cookbook_template *cookbook_templates(size_t *n);
/* NULL when there is no such template. */
const struct cookbook_template *cookbook_template_find(const char *name);
/* Fill param[0..nparams) with the defaults. */
void cookbook_template_defaults(const struct cookbook_template *t, long *param);
/* Index of the parameter called name, or -1. */
int cookbook_template_param_index(const struct cookbook_template *t, const char *name);
/* 0 when generate may run with (param, v); else -1 with a message that
 * names the template, the parameter and the value ("docqa-span: span_len
 * 70 + answer_len 3 exceeds doc_len 64"). */
int cookbook_template_check(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v);

/* The number of distinct examples (cookbook_unique's sense of equal) that t
 * can make with param: UINT64_MAX when it is at least that, 0 when it is
 * not computed for t.  Every example is drawn with positive probability,
 * and for lego and addition all of them equally likely. */
uint64_t cookbook_template_distinct(const struct cookbook_template *t, const long *param);

/* parse + rule, compared with a record's output and answer_index: 0 when
 * they agree, else -1 with the parse or rule error or with "output 'x'
 * is not the rule's 'y'" / "answer_index 1 is not the rule's 2".  The
 * buffers are the caller's scratch, kept between calls. */
int cookbook_verify(const struct cookbook_template *t, const long *param,
    const char *input, const char *const *options, size_t noptions,
    const char *output, int answer_index,
    struct cookbook_buf *scratch, struct cookbook_buf *rule_output);

/* Skill-It's string formats, exposed so that tests can build them from
 * chosen values.  LEGO: names[i] is the letter of chain variable i (whose
 * parent is i - 1), bits[i] its value, order[j] the clause written j-th,
 * query the variable asked for.  input gets everything through
 * "Output: <v> = val ", output "<bit>, ".  Addition: input gets "Input: A
 * = ... , A <digit> = ? Output: ", output the digit of a1 + a2. */
void cookbook_lego_format(const char *names, const int *bits, size_t k,
    const size_t *order, size_t query,
    struct cookbook_buf *input, struct cookbook_buf *output);
void cookbook_addition_format(unsigned long long a1, unsigned long long a2,
    int k, int digit, struct cookbook_buf *input, struct cookbook_buf *output);

#ifdef __cplusplus
}
#endif

#endif
