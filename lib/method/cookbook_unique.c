/*
 * cookbook_unique - `cookbook-gen gen --unique`: generation that skips
 * examples equal to earlier ones, as Skill-It's LEGO generator does with
 * its per-skill set of sentences (research/skillit-cookbook.md §A3).  See
 * ck_unique in cookbook.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookbook.h"
#include "htab.h"
#include "rng.h"
#include "util.h"

struct ck_unique {
	const struct ck_template *t;
	const long *param;
	struct htab *seen;
	struct ck_buf key;		/* the bytes hashed, kept between calls */
	uint64_t max_rejects;
};

uint64_t
ck_template_distinct(const struct ck_template *t, const long *param)
{
	return t->distinct ? t->distinct(t, param) : 0;
}

struct ck_unique *
ck_unique_new(const struct ck_template *t, const long *param, size_t expect)
{
	struct ck_unique *u = xcalloc(1, sizeof *u);
	uint64_t d = ck_template_distinct(t, param);

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
	u->max_rejects = CK_UNIQUE_MAX_REJECTS;
	if (d > u->max_rejects / 64)
		u->max_rejects = d > UINT64_MAX / 64 ? UINT64_MAX : 64 * d;
	return u;
}

void
ck_unique_free(struct ck_unique *u)
{
	if (!u)
		return;
	htab_free(u->seen);
	ck_buf_release(&u->key);
	free(u);
}

size_t
ck_unique_count(const struct ck_unique *u)
{
	return htab_count(u->seen);
}

int
ck_unique_check(const struct ck_template *t, const long *param, uint64_t n)
{
	char desc[256];
	uint64_t d = ck_template_distinct(t, param);
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
ck_unique_add(struct ck_unique *u, const struct ck_example *ex)
{
	struct ck_buf *k = &u->key;
	int is_new;

	/* Skill, input and options, each ended by a NUL: none of them holds
	 * one, so different triples give different bytes. */
	ck_buf_reset(k);
	if (ex->skill)
		ck_buf_add(k, ex->skill, strlen(ex->skill));
	ck_buf_add(k, "", 1);
	ck_buf_add(k, ex->input.s, ex->input.len);
	ck_buf_add(k, "", 1);
	if (ex->noptions)
		ck_buf_add(k, ex->optbuf.s, ex->optbuf.len);
	htab_insert(u->seen, htab_hash(k->s, k->len, 0), &is_new);
	return is_new;
}

int
ck_unique_generate(struct ck_unique *u, const struct ck_vocab *v,
    struct rng *r, struct ck_example *ex)
{
	uint64_t rejects = 0;

	for (;;) {
		u->t->generate(u->t, u->param, v, r, ex);
		if (ck_unique_add(u, ex))
			return 0;
		if (++rejects == u->max_rejects)
			return loam_seterr("%s: %llu draws in a row repeated "
			    "earlier examples (%zu distinct made): too few "
			    "distinct examples for --unique", u->t->name,
			    (unsigned long long)rejects, ck_unique_count(u));
	}
}
