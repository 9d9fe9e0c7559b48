/*
 * cookbook_impl - what cookbook_templates.c and cookbook_skillit.c share.
 * Not part of the API: cmd/ and tests use cookbook.h, cookbook_templates.h
 * and cookbook_unique.h.
 */
#ifndef LOAM_COOKBOOK_IMPL_H
#define LOAM_COOKBOOK_IMPL_H

#include <string.h>

#include "cookbook_templates.h"

#define PUT_LIT(b, lit)	cookbook_buf_add((b), (lit), sizeof(lit) - 1)

/* Longest echo of a value in a message. */
#define ECHO_MAX	40

/* The length to echo of s in a message ("%.*s"). */
static inline int
echo_len(const char *s)
{
	size_t n = strlen(s);

	return n > ECHO_MAX ? ECHO_MAX : (int)n;
}

static inline void
put_str(struct cookbook_buf *b, const char *s)
{
	cookbook_buf_add(b, s, strlen(s));
}

/* The Skill-It templates, for the catalogue in cookbook_templates.c. */
#define COOKBOOK_LEGO_NPARAMS		2
#define COOKBOOK_ADDITION_NPARAMS	2
extern const struct cookbook_param cookbook_lego_params[COOKBOOK_LEGO_NPARAMS];
extern const struct cookbook_param cookbook_addition_params[COOKBOOK_ADDITION_NPARAMS];

void cookbook_lego_generate(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, struct rng *r, struct cookbook_example *ex);
int cookbook_lego_parse(const struct cookbook_template *t, const char *input,
    const char *const *options, size_t noptions, struct cookbook_buf *scratch,
    struct cookbook_query *q);
int cookbook_lego_rule(const struct cookbook_template *t, const long *param,
    const struct cookbook_query *q, struct cookbook_buf *output, int *answer_index);

void cookbook_addition_generate(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, struct rng *r, struct cookbook_example *ex);
int cookbook_addition_parse(const struct cookbook_template *t, const char *input,
    const char *const *options, size_t noptions, struct cookbook_buf *scratch,
    struct cookbook_query *q);
int cookbook_addition_rule(const struct cookbook_template *t, const long *param,
    const struct cookbook_query *q, struct cookbook_buf *output, int *answer_index);

/* The distinct examples of each: see cookbook_template_distinct(). */
uint64_t cookbook_lego_distinct(const struct cookbook_template *t, const long *param);
uint64_t cookbook_addition_distinct(const struct cookbook_template *t, const long *param);

/* skill below k, for both */
int cookbook_skill_check(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v);

#endif
