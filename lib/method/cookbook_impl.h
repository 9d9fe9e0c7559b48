/*
 * cookbook_impl - what lib/cookbook.c, cookbook_templates.c and
 * cookbook_skillit.c share.  Not part of the API: cmd/ and tests use
 * cookbook.h only.
 */
#ifndef LOAM_COOKBOOK_IMPL_H
#define LOAM_COOKBOOK_IMPL_H

#include "cookbook.h"

/* Empty input, output and options, no answer, no skill: every
 * generator's first step. */
void ck_example_begin(struct ck_example *ex);

/* The Skill-It templates, for the catalogue in cookbook_templates.c. */
#define CK_LEGO_NPARAMS		2
#define CK_ADDITION_NPARAMS	2
extern const struct ck_param ck_lego_params[CK_LEGO_NPARAMS];
extern const struct ck_param ck_addition_params[CK_ADDITION_NPARAMS];

void ck_lego_generate(const struct ck_template *t, const long *param,
    const struct ck_vocab *v, struct rng *r, struct ck_example *ex);
int ck_lego_parse(const struct ck_template *t, const char *input,
    const char *const *options, size_t noptions, struct ck_buf *scratch,
    struct ck_query *q);
int ck_lego_rule(const struct ck_template *t, const long *param,
    const struct ck_query *q, struct ck_buf *output, int *answer_index);

void ck_addition_generate(const struct ck_template *t, const long *param,
    const struct ck_vocab *v, struct rng *r, struct ck_example *ex);
int ck_addition_parse(const struct ck_template *t, const char *input,
    const char *const *options, size_t noptions, struct ck_buf *scratch,
    struct ck_query *q);
int ck_addition_rule(const struct ck_template *t, const long *param,
    const struct ck_query *q, struct ck_buf *output, int *answer_index);

/* The distinct examples of each: see ck_template_distinct(). */
uint64_t ck_lego_distinct(const struct ck_template *t, const long *param);
uint64_t ck_addition_distinct(const struct ck_template *t, const long *param);

/* skill below k, for both */
int ck_skill_check(const struct ck_template *t, const long *param,
    const struct ck_vocab *v);

#endif
