/*
 * cookbook_mix - Cookbook-Mix's votes, accuracies and weights; see
 * cookbook_mix.h.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cookbook_mix.h"
#include "labelmodel.h"
#include "util.h"

void
cookbook_mix_init(struct cookbook_mix *m, size_t nsources)
{
	memset(m, 0, sizeof *m);
	m->nsources = nsources;
}

void
cookbook_mix_release(struct cookbook_mix *m)
{
	for (size_t i = 0; i < m->ntasks; i++) {
		free(m->task[i].name);
		free(m->task[i].votes);
	}
	free(m->task);
	cookbook_words_release(&m->words);
	cookbook_buf_release(&m->a);
	cookbook_buf_release(&m->b);
	cookbook_buf_release(&m->rule_out);
	memset(m, 0, sizeof *m);
}

static struct cookbook_mix_task *
mix_task(struct cookbook_mix *m, const char *name)
{
	struct cookbook_mix_task *tk;

	for (size_t i = 0; i < m->ntasks; i++)
		if (strcmp(m->task[i].name, name) == 0)
			return &m->task[i];
	m->task = xreallocarray(m->task, m->ntasks + 1, sizeof *m->task);
	tk = &m->task[m->ntasks++];
	memset(tk, 0, sizeof *tk);
	tk->name = xstrdup(name);
	tk->has_options = -1;
	return tk;
}

static void
mix_item(struct cookbook_mix_task *tk, size_t nsources)
{
	if (tk->nitems == tk->cap) {
		tk->cap = tk->cap ? tk->cap * 2 : 256;
		tk->votes = xreallocarray(tk->votes, tk->cap, nsources);
	}
	memset(tk->votes + tk->nitems++ * nsources, 0, nsources);
}

int
cookbook_mix_example(struct cookbook_mix *m, const char *task, size_t nopt,
    int8_t **item)
{
	struct cookbook_mix_task *tk = mix_task(m, task);
	size_t nitems = nopt ? nopt : 1;

	if (tk->has_options < 0)
		tk->has_options = nopt > 0;
	else if (tk->has_options != (nopt > 0))
		return loam_seterr("task '%s' mixes examples with and without options", task);
	if (nopt == 1)
		return loam_seterr("one option is no choice");
	tk->nexamples++;
	if (nopt)
		tk->inv_k_sum += 1.0 / (double)nopt;
	/* All the items first: making one may move the others. */
	for (size_t j = 0; j < nitems; j++)
		mix_item(tk, m->nsources);
	for (size_t j = 0; j < nitems; j++)
		item[j] = tk->votes + (tk->nitems - nitems + j) * m->nsources;
	return 0;
}

/* The votes of source k for option pick (none when out of range), or
 * for the yes/no answer a (words joined). */
static void
vote_option(int8_t *const *item, size_t k, size_t nopt, int pick)
{
	for (size_t j = 0; j < nopt; j++)
		item[j][k] = (int)j == pick ? 1 : -1;
}

static void
vote_yes_no(int8_t *const *item, size_t k, const char *a)
{
	if (strcmp(a, "yes") == 0)
		item[0][k] = 1;
	else if (strcmp(a, "no") == 0)
		item[0][k] = -1;
}

void
cookbook_mix_rule_vote(struct cookbook_mix *m, int8_t *const *item, size_t k,
    const struct cookbook_template *t, const long *param,
    const struct cookbook_query *q)
{
	int answer = -1;

	if (q->noptions && !t->has_options)
		return;
	cookbook_buf_reset(&m->rule_out);
	if (t->rule(t, param, q, &m->rule_out, &answer) != 0)
		return;
	if (q->noptions)
		vote_option(item, k, q->noptions, answer);
	else
		vote_yes_no(item, k, cookbook_words_join(&m->words, m->rule_out.s, &m->a));
}

void
cookbook_mix_text_vote(struct cookbook_mix *m, int8_t *const *item, size_t k,
    const char *answer, const char *const *opt, size_t nopt)
{
	const char *a = cookbook_words_join(&m->words, answer, &m->a);

	if (!nopt) {
		vote_yes_no(item, k, a);
		return;
	}
	for (size_t j = 0; j < nopt; j++)
		if (strcmp(cookbook_words_join(&m->words, opt[j], &m->b), a) == 0) {
			vote_option(item, k, nopt, (int)j);
			return;
		}
}

/* The distinct sources of a task that vote at all: col[d] is the first
 * source of class d, rep[j] source j's class (SIZE_MAX: never votes).
 * Returns the number of classes. */
static size_t
distinct_sources(const struct cookbook_mix_task *tk, size_t m, size_t *col, size_t *rep)
{
	size_t nd = 0;

	for (size_t j = 0; j < m; j++) {
		size_t i, d;
		int votes = 0;

		for (i = 0; i < tk->nitems && !votes; i++)
			votes = tk->votes[i * m + j] != 0;
		rep[j] = SIZE_MAX;
		if (!votes)
			continue;
		for (d = 0; d < nd; d++) {
			for (i = 0; i < tk->nitems; i++)
				if (tk->votes[i * m + j] != tk->votes[i * m + col[d]])
					break;
			if (i == tk->nitems)
				break;
		}
		if (d == nd)
			col[nd++] = j;
		rep[j] = d;
	}
	return nd;
}

int
cookbook_mix_estimate(const struct cookbook_mix *mx, size_t ti, double *acc)
{
	const struct cookbook_mix_task *tk = &mx->task[ti];
	size_t m = mx->nsources;
	size_t *col = xcalloc(m, sizeof *col), *rep = xcalloc(m, sizeof *rep), nd;
	int8_t *v = NULL;
	struct labelmodel lm;
	struct labelmodel_opts opts;
	int rc = -1;

	for (size_t j = 0; j < m; j++)
		acc[j] = -1;
	nd = distinct_sources(tk, m, col, rep);
	if (nd < 3) {
		loam_seterr("task '%s': %zu distinct voting rule%s, the label model needs 3",
		    tk->name, nd, nd == 1 ? "" : "s");
		goto out;
	}
	v = xmalloc(tk->nitems * nd);
	for (size_t i = 0; i < tk->nitems; i++)
		for (size_t d = 0; d < nd; d++)
			v[i * nd + d] = tk->votes[i * m + col[d]];
	labelmodel_opts_default(&opts);
	opts.class_balance = tk->has_options ? tk->inv_k_sum / (double)tk->nexamples : 0.5;
	labelmodel_init(&lm, &opts);
	if (labelmodel_fit(&lm, v, tk->nitems, nd) != 0) {
		char *why = xstrdup(loam_error());

		loam_seterr("task '%s': %s", tk->name, why);
		free(why);
	} else {
		for (size_t j = 0; j < m; j++)
			if (rep[j] != SIZE_MAX && lm.ntriplets[rep[j]] > 0)
				acc[j] = tk->has_options ? lm.cond_pos[rep[j]] :
				    lm.accuracy[rep[j]];
		rc = 0;
	}
	labelmodel_release(&lm);
out:
	free(v);
	free(col);
	free(rep);
	return rc;
}

int
cookbook_mix_weights(const struct cookbook_mix *mx, const double *acc,
    double temperature, double *mean, double *w)
{
	size_t m = mx->nsources;
	double best = -1, wsum = 0;

	for (size_t k = 0; k < m; k++) {
		size_t known = 0;

		mean[k] = 0;
		for (size_t i = 0; i < mx->ntasks; i++)
			if (acc[i * m + k] >= 0) {
				mean[k] += acc[i * m + k];
				known++;
			}
		mean[k] = known ? mean[k] / (double)known : -1;
		if (mean[k] > best)
			best = mean[k];
	}
	if (best < 0)
		return loam_seterr("no template's accuracy could be estimated on any task");
	/* Softmax, shifted by the best for range: w_t ∝ exp((a_t - best) / T). */
	for (size_t k = 0; k < m; k++) {
		w[k] = mean[k] < 0 ? 0 : exp((mean[k] - best) / temperature);
		wsum += w[k];
	}
	for (size_t k = 0; k < m; k++)
		w[k] /= wsum;
	return 0;
}
