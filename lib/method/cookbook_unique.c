/*
 * cookbook_unique - `cookbook-gen gen --unique`: generation that skips
 * examples equal to earlier ones, as Skill-It's LEGO generator does with
 * its per-skill set of sentences (research/skillit-cookbook.md §A3).  See
 * cookbook_unique in cookbook.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookbook_unique.h"
#include "htab.h"
#include "rng.h"
#include "util.h"

struct cookbook_unique {
	const struct cookbook_template *t;
	const long *param;
	struct htab *seen;
	struct cookbook_buf key;		/* the bytes hashed, kept between calls */
	uint64_t max_rejects;
};

struct cookbook_unique *
cookbook_unique_new(const struct cookbook_template *t, const long *param, size_t expect)
{
	struct cookbook_unique *u = xcalloc(1, sizeof *u);
	uint64_t d = cookbook_template_distinct(t, param);

	u->t = t;
	u->param = param;
	u->seen = htab_new(0, expect);
	/*
	 * With n of d equally likely examples made, a draw is new with
	 * probability (d - n) / d >= 1 / d, so a run that asks for no more
	 * than d fails only after 64 d rejections in a row: probability
	 * below e^-64.  Where d is unknown (the random-token templates,
	 * whose count is astronomical unless a tiny vocabulary and tiny
	 * parameters make it small) the fixed bound catches exhaustion.
	 */
	u->max_rejects = COOKBOOK_UNIQUE_MAX_REJECTS;
	if (d > u->max_rejects / 64)
		u->max_rejects = d > UINT64_MAX / 64 ? UINT64_MAX : 64 * d;
	return u;
}

void
cookbook_unique_free(struct cookbook_unique *u)
{
	if (!u)
		return;
	htab_free(u->seen);
	cookbook_buf_release(&u->key);
	free(u);
}

size_t
cookbook_unique_count(const struct cookbook_unique *u)
{
	return htab_count(u->seen);
}

int
cookbook_unique_check(const struct cookbook_template *t, const long *param, uint64_t n)
{
	char desc[256];
	uint64_t d = cookbook_template_distinct(t, param);
	size_t i, len = 0;

	if (d == 0 || n <= d)
		return 0;
	desc[0] = '\0';
	for (i = 0; i < t->nparams && len < sizeof desc; i++)
		len += (size_t)snprintf(desc + len, sizeof desc - len, "%s%s=%ld",
		    i ? " " : "", t->params[i].name, param[i]);
	return loam_seterr("%s (%s) has %llu distinct examples; --unique "
	    "cannot make %llu", t->name, desc, (unsigned long long)d,
	    (unsigned long long)n);
}

int
cookbook_unique_add(struct cookbook_unique *u, const struct cookbook_example *ex)
{
	struct cookbook_buf *k = &u->key;
	int is_new;

	/* Skill, input and options, each ended by a NUL: none of them holds
	 * one, so different triples give different bytes. */
	cookbook_buf_reset(k);
	if (ex->skill)
		cookbook_buf_add(k, ex->skill, strlen(ex->skill));
	cookbook_buf_add(k, "", 1);
	cookbook_buf_add(k, ex->input.s, ex->input.len);
	cookbook_buf_add(k, "", 1);
	if (ex->noptions)
		cookbook_buf_add(k, ex->optbuf.s, ex->optbuf.len);
	htab_insert(u->seen, htab_hash(k->s, k->len, 0), &is_new);
	return is_new;
}

int
cookbook_unique_generate(struct cookbook_unique *u, const struct cookbook_vocab *v,
    struct rng *r, struct cookbook_example *ex)
{
	uint64_t rejects = 0;

	for (;;) {
		u->t->generate(u->t, u->param, v, r, ex);
		if (cookbook_unique_add(u, ex))
			return 0;
		if (++rejects == u->max_rejects)
			return loam_seterr("%s: %llu draws in a row repeated "
			    "earlier examples (%zu distinct made): too few "
			    "distinct examples for --unique", u->t->name,
			    (unsigned long long)rejects, cookbook_unique_count(u));
	}
}
