/*
 * cookbook_mix - Cookbook-Mix: template weights from unlabeled task
 * records (`cookbook-gen mix`, cookbook-gen(1)).
 *
 * As far as the paper's abstract and reviews describe it (weights from
 * each template rule's accuracy on each target task, estimated without
 * labels by weak supervision); the estimator and the objective below are
 * this module's design.
 *
 * For each task, every source (a template rule, or a model whose answers
 * were computed elsewhere) votes on every example; the votes go to the
 * triplet label model (labelmodel.h), which estimates each source's
 * accuracy without labels:
 *  - on a task whose examples have options, each (example, option) pair
 *    is an item whose label says whether the option is the answer; a
 *    source votes +1 for the option it picks and -1 for the others, and
 *    its task accuracy is the label model's P(vote = +1 | y = +1) (the
 *    class balance is the mean of 1/K);
 *  - on a task without options, a source that answers yes or no votes +1
 *    or -1, and its accuracy is P(vote = y | vote != 0) (class balance
 *    1/2);
 *  - a source that does not apply, or ties, abstains.
 * Sources that vote alike on every item are one source to the label
 * model and share its estimate; at least three distinct sources are
 * needed.  The weights maximise the mean estimated accuracy over tasks
 * plus temperature times the entropy of the weights:
 *	w = argmax_w sum_t w_t abar_t + T * H(w)  =>  w_t ∝ exp(abar_t / T),
 * abar_t being source t's accuracy averaged over the tasks where it was
 * estimated.
 *
 *	struct cookbook_mix m;
 *	cookbook_mix_init(&m, nsources);
 *	for each record:
 *		int8_t *item[COOKBOOK_MAX_OPTIONS];
 *		if (cookbook_mix_example(&m, task, nopt, item) != 0) error;
 *		for each source k:
 *			cookbook_mix_rule_vote(&m, item, k, t, param, &q);
 *			(or cookbook_mix_text_vote(&m, item, k, answer, opt, nopt))
 *	for each task i:
 *		if (cookbook_mix_estimate(&m, i, acc + i * nsources) != 0) warn;
 *	if (cookbook_mix_weights(&m, acc, temperature, mean, w) != 0) error;
 *	cookbook_mix_release(&m);
 */
#ifndef LOAM_COOKBOOK_MIX_H
#define LOAM_COOKBOOK_MIX_H

#include <stddef.h>
#include <stdint.h>

#include "cookbook.h"
#include "cookbook_templates.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cookbook_mix_task {
	char *name;
	int has_options;	/* -1 until the first example */
	int8_t *votes;		/* nitems x nsources, row-major */
	size_t nitems, cap;
	double inv_k_sum;	/* sum of 1/K over examples with K options */
	size_t nexamples;
};

struct cookbook_mix {
	size_t nsources;
	struct cookbook_mix_task *task;	/* in order of first appearance */
	size_t ntasks;
	/* scratch kept between calls */
	struct cookbook_words words;
	struct cookbook_buf a, b, rule_out;
};

void cookbook_mix_init(struct cookbook_mix *m, size_t nsources);
void cookbook_mix_release(struct cookbook_mix *m);

/* An example of task with nopt options (0: a yes/no task): its items,
 * one per option (or one), their votes all abstaining, are item[0..nopt)
 * (item[0] alone for a yes/no task), valid until the next call.  -1 with
 * loam_error() when the task had examples with options and this one has
 * none (or the other way round), or nopt is 1. */
int cookbook_mix_example(struct cookbook_mix *m, const char *task, size_t nopt,
    int8_t **item);

/* Source k's vote from template t's rule on query q (q->noptions options,
 * those of the example's items): the option the rule picks, or its
 * yes/no answer; a template with options on a yes/no task, a rule that
 * fails and any other answer abstain. */
void cookbook_mix_rule_vote(struct cookbook_mix *m, int8_t *const *item, size_t k,
    const struct cookbook_template *t, const long *param,
    const struct cookbook_query *q);
/* Source k's vote from its answer text: the option whose words equal the
 * answer's (cookbook_words_join), or "yes" or "no" on a yes/no task;
 * anything else abstains. */
void cookbook_mix_text_vote(struct cookbook_mix *m, int8_t *const *item, size_t k,
    const char *answer, const char *const *opt, size_t nopt);

/* Each source's accuracy on task i into acc[0..nsources), negative where
 * it is not known.  -1 with loam_error() ("task 'x': ...") when the label
 * model cannot run on the task (fewer than 3 distinct voting sources) or
 * fails; acc is then all unknown. */
int cookbook_mix_estimate(const struct cookbook_mix *m, size_t i, double *acc);

/* From acc[ntasks x nsources] (cookbook_mix_estimate's), each source's
 * mean accuracy over the tasks where it is known into mean (negative
 * where nowhere), and the weights into w, summing to 1 (0 for a source
 * with no estimate).  -1 with loam_error() when no source has one. */
int cookbook_mix_weights(const struct cookbook_mix *m, const double *acc,
    double temperature, double *mean, double *w);

#ifdef __cplusplus
}
#endif

#endif
