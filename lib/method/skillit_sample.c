/* skillit_sample - a record stream sampled to Skill-It's mixtures in one
 * pass; see skillit.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "skillit.h"
#include "util.h"

int
skillit_round_counts(const double *p, size_t k, uint64_t n, int iid,
    uint64_t seed, uint64_t t, uint64_t *count)
{
	double sum = 0;
	uint64_t given = 0;
	struct rng r;

	for (size_t i = 0; i < k; i++)
		sum += p[i];
	if (k == 0 || !(sum > 0))
		return loam_seterr("a round's weights sum to zero");
	memset(count, 0, k * sizeof *count);
	if (iid) {
		rng_init(&r, seed, RNG_SKILLIT_ROUNDS, t);
		for (uint64_t j = 0; j < n; j++) {
			size_t i = rng_weighted(&r, p, k);
			count[i < k ? i : k - 1]++;
		}
		return 0;
	}
	for (size_t i = 0; i < k; i++) {
		count[i] = (uint64_t)floor((double)n * (p[i] / sum));
		given += count[i];
	}
	count[k - 1] += n - given;
	return 0;
}

void
skillit_sample_init(struct skillit_sample *ss, size_t nrounds, size_t k,
    const uint64_t *count, int replace, uint64_t seed)
{
	struct rng r;

	ss->nrounds = nrounds;
	ss->k = k;
	ss->seed = seed;
	ss->rv = xcalloc(nrounds * k > 0 ? nrounds * k : 1, sizeof *ss->rv);
	for (size_t t = 0; t < nrounds; t++)
		for (size_t s = 0; s < k; s++) {
			rng_init(&r, seed, RNG_SKILLIT_RESERVOIR + t, s);
			reservoir_init(&ss->rv[t * k + s], count[t * k + s], replace, &r);
		}
}

void
skillit_sample_release(struct skillit_sample *ss)
{
	if (ss->rv)
		for (size_t i = 0; i < ss->nrounds * ss->k; i++)
			reservoir_release(&ss->rv[i]);
	free(ss->rv);
	memset(ss, 0, sizeof *ss);
}

void
skillit_sample_offer(struct skillit_sample *ss, size_t s, const char *text, size_t len)
{
	for (size_t t = 0; t < ss->nrounds; t++)
		reservoir_offer(&ss->rv[t * ss->k + s], text, len);
}

const struct reservoir *
skillit_sample_at(const struct skillit_sample *ss, size_t t, size_t s)
{
	return &ss->rv[t * ss->k + s];
}

struct reservoir_item **
skillit_sample_round(const struct skillit_sample *ss, size_t t, size_t *n)
{
	struct reservoir_item **all;
	size_t m = 0;
	struct rng r;

	for (size_t s = 0; s < ss->k; s++)
		m += reservoir_filled(&ss->rv[t * ss->k + s]);
	all = xcalloc(m ? m : 1, sizeof *all);
	m = 0;
	for (size_t s = 0; s < ss->k; s++) {
		const struct reservoir *v = &ss->rv[t * ss->k + s];

		for (uint64_t i = 0; i < v->cap; i++)
			if (v->slot[i])
				all[m++] = v->slot[i];
	}
	rng_init(&r, ss->seed, RNG_SKILLIT_ROUNDS, UINT64_MAX - t);
	rng_shuffle(&r, all, m, sizeof *all);
	*n = m;
	return all;
}
