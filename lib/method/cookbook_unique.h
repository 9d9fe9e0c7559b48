/*
 * cookbook_unique - generation without repeats (cookbook-gen gen --unique).
 *
 * Unique generation, for one template with fixed parameters: the set of
 * examples made so far, kept as 64-bit hashes (XXH3, htab_hash) of the
 * skill, the input and the options, NUL-separated.  Two examples are
 * equal when those three are byte for byte equal (the output then is
 * too: the rule derives it from them).  Examples with distinct hashes
 * are distinct; two distinct examples share a hash with probability
 * 2^-64, so among n examples some pair does with probability about
 * n^2 / 2^65, and then the later one is taken for a duplicate and drawn
 * again: output is never a duplicate, it is at worst, and negligibly,
 * not quite uniform.  Memory: one htab slot (16 bytes) per example, at
 * most twice that while the table is between doublings.
 */
#ifndef LOAM_COOKBOOK_UNIQUE_H
#define LOAM_COOKBOOK_UNIQUE_H

#include <stddef.h>
#include <stdint.h>

#include "cookbook_templates.h"
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

#define COOKBOOK_UNIQUE_MAX_REJECTS	(UINT64_C(1) << 20)
struct cookbook_unique;

/* A set for t with param, with room for expect examples; t's distinct
 * count (if known) sets the bound on consecutive rejected draws, which
 * is the larger of COOKBOOK_UNIQUE_MAX_REJECTS and 64 times that count. */
struct cookbook_unique *cookbook_unique_new(const struct cookbook_template *t,
    const long *param, size_t expect);
void cookbook_unique_free(struct cookbook_unique *u);
/* Examples in the set. */
size_t cookbook_unique_count(const struct cookbook_unique *u);
/* 0 when t can make n distinct examples or it is not known that it
 * cannot; else -1 with a message naming the template, its parameters,
 * the distinct count and n. */
int cookbook_unique_check(const struct cookbook_template *t, const long *param,
    uint64_t n);
/* Add ex: 1 when it is new (and now in the set), 0 when it equals an
 * example already there. */
int cookbook_unique_add(struct cookbook_unique *u, const struct cookbook_example *ex);
/* Generate from r into ex, and again from r, continuing where the last
 * draw stopped, for as long as the example is already in the set; then
 * add it.  0, or -1 with loam_error() when the bound on consecutive
 * rejected draws is reached (the template has too few distinct examples
 * left). */
int cookbook_unique_generate(struct cookbook_unique *u, const struct cookbook_vocab *v,
    struct rng *r, struct cookbook_example *ex);

#ifdef __cplusplus
}
#endif

#endif
