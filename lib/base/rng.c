/* rng - see rng.h, which documents every algorithm as a format promise. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

/* A fused multiply-add rounds once where the documented steps round
 * twice; clang contracts by default, gcc -std=c11 does not (and warns
 * about the pragma). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* The full 128-bit product of a and b.  Where the compiler has no 128-bit
 * type, the schoolbook version gives the same bits. */
static inline void
mul_64x64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
#if defined(__SIZEOF_INT128__)
	__extension__ unsigned __int128 m = (unsigned __int128)a * b;

	*hi = (uint64_t)(m >> 64);
	*lo = (uint64_t)m;
#else
	uint64_t a_lo = a & 0xffffffff, a_hi = a >> 32;
	uint64_t b_lo = b & 0xffffffff, b_hi = b >> 32;
	uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi;
	uint64_t hl = a_hi * b_lo, hh = a_hi * b_hi;
	uint64_t mid = (ll >> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);

	*hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
	*lo = (mid << 32) | (ll & 0xffffffff);
#endif
}

uint64_t
rng_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint64_t
rng_splitmix64(uint64_t *state)
{
	*state += UINT64_C(0x9e3779b97f4a7c15);
	return rng_mix64(*state);
}

void
rng_init(struct rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
	uint64_t k[6], a = index, b = stream, x = seed;
	int i;

	for (i = 0; i < 6; i++)
		k[i] = rng_splitmix64(&x);
	/* Feistel rounds: invertible, so distinct (stream, index) pairs
	 * cannot collide on one seed. */
	a ^= rng_mix64(b + k[0]);
	b ^= rng_mix64(a + k[1]);
	a ^= rng_mix64(b + k[2]);
	b ^= rng_mix64(a + k[3]);
	r->s[0] = a;
	r->s[1] = b;
	r->s[2] = rng_mix64(a + k[4]);
	r->s[3] = rng_mix64(b + k[5]);
	r->normal_spare = 0;
	r->has_normal_spare = 0;
}

uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

void
rng_jump(struct rng *r)
{
	static const uint64_t jump[4] = {
		UINT64_C(0x180ec6d33cfd0aba), UINT64_C(0xd5a61266f0c9392c),
		UINT64_C(0xa9582618e03fc9aa), UINT64_C(0x39abdc4529b1661c),
	};
	uint64_t t[4] = { 0, 0, 0, 0 };
	int i, b, w;

	for (i = 0; i < 4; i++) {
		for (b = 0; b < 64; b++) {
			if (jump[i] & UINT64_C(1) << b)
				for (w = 0; w < 4; w++)
					t[w] ^= r->s[w];
			rng_next(r);
		}
	}
	memcpy(r->s, t, sizeof t);
	/* A pending normal belongs to the old position in the stream. */
	r->has_normal_spare = 0;
}

uint64_t
rng_uniform_int(struct rng *r, uint64_t n)
{
	uint64_t hi, lo, threshold;

	if (n == 0)
		return rng_next(r);
	mul_64x64(rng_next(r), n, &hi, &lo);
	/* The low word falls below n only near a boundary of the 2^64/n
	 * intervals, so the division is rarely paid. */
	if (lo < n) {
		threshold = -n % n;
		while (lo < threshold)
			mul_64x64(rng_next(r), n, &hi, &lo);
	}
	return hi;
}

double
rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

float
rng_uniform_float(struct rng *r)
{
	return (float)(rng_next(r) >> 40) * 0x1.0p-24f;
}

double
rng_normal(struct rng *r)
{
	double u, v, s, f;

	if (r->has_normal_spare) {
		r->has_normal_spare = 0;
		return r->normal_spare;
	}
	do {
		u = 2.0 * rng_uniform(r) - 1.0;
		v = 2.0 * rng_uniform(r) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	f = sqrt(-2.0 * log(s) / s);
	r->normal_spare = v * f;
	r->has_normal_spare = 1;
	return u * f;
}

/* Swap two size-byte elements through a small buffer: elements may be
 * of any size and alignment. */
static void
swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
	unsigned char tmp[64];
	size_t chunk;

	while (size > 0) {
		chunk = size < sizeof tmp ? size : sizeof tmp;
		memcpy(tmp, a, chunk);
		memcpy(a, b, chunk);
		memcpy(b, tmp, chunk);
		a += chunk;
		b += chunk;
		size -= chunk;
	}
}

void
rng_shuffle(struct rng *r, void *base, size_t count, size_t size)
{
	unsigned char *p = base;
	size_t i, j;

	for (i = count; i > 1; i--) {
		j = (size_t)rng_uniform_int(r, i);
		if (j != i - 1)
			swap_bytes(p + (i - 1) * size, p + j * size, size);
	}
}

size_t
rng_weighted(struct rng *r, const double *w, size_t n)
{
	double total = 0, target, acc = 0;
	size_t i, last = n;

	for (i = 0; i < n; i++) {
		total += w[i];
		if (w[i] > 0)
			last = i;
	}
	if (last == n || !(total > 0) || !isfinite(total))
		return n;
	target = rng_uniform(r) * total;
	for (i = 0; i < n; i++) {
		acc += w[i];
		if (target < acc)
			return i;
	}
	/* Only rounding can get here: the sum in the loop is the same sum
	 * as total, and target < total.  The last positive weight is the
	 * column the missing sliver belongs to. */
	return last;
}

int
rng_alias_init(struct rng_alias *a, const double *w, size_t n)
{
	double total = 0, *scaled;
	size_t *small, *large, nsmall = 0, nlarge = 0, i, l, g, heaviest = 0;

	a->n = 0;
	a->prob = NULL;
	a->alias = NULL;
	if (n == 0)
		return loam_seterr("alias table: no weights");
	for (i = 0; i < n; i++) {
		if (!isfinite(w[i]) || w[i] < 0)
			return loam_seterr("alias table: weight %zu is %g, "
			    "not a finite non-negative number", i, w[i]);
		total += w[i];
		if (w[i] > w[heaviest])
			heaviest = i;
	}
	if (!(total > 0))
		return loam_seterr("alias table: all %zu weights are zero", n);
	if (!isfinite(total))
		return loam_seterr("alias table: weights sum to infinity");

	/* Vose's method: columns below the mean are filled up from
	 * columns above it, one donor at a time, in a fixed order. */
	scaled = xreallocarray(NULL, n, sizeof *scaled);
	small = xreallocarray(NULL, n, sizeof *small);
	large = xreallocarray(NULL, n, sizeof *large);
	a->prob = xreallocarray(NULL, n, sizeof *a->prob);
	a->alias = xreallocarray(NULL, n, sizeof *a->alias);
	a->n = n;
	for (i = 0; i < n; i++) {
		scaled[i] = w[i] * (double)n / total;
		if (scaled[i] < 1)
			small[nsmall++] = i;
		else
			large[nlarge++] = i;
	}
	while (nsmall > 0 && nlarge > 0) {
		l = small[--nsmall];
		g = large[--nlarge];
		a->prob[l] = scaled[l];
		a->alias[l] = g;
		/* Vose's order of operations loses less than
		 * scaled[g] - (1 - scaled[l]). */
		scaled[g] = (scaled[g] + scaled[l]) - 1;
		if (scaled[g] < 1)
			small[nsmall++] = g;
		else
			large[nlarge++] = g;
	}
	while (nlarge > 0) {
		g = large[--nlarge];
		a->prob[g] = 1;
		a->alias[g] = g;
	}
	/* Left over only through rounding: each is really full, unless its
	 * weight is zero, which must stay unreachable. */
	while (nsmall > 0) {
		l = small[--nsmall];
		a->prob[l] = w[l] > 0 ? 1 : 0;
		a->alias[l] = w[l] > 0 ? l : heaviest;
	}
	free(scaled);
	free(small);
	free(large);
	return 0;
}

size_t
rng_alias_sample(const struct rng_alias *a, struct rng *r)
{
	size_t i = (size_t)rng_uniform_int(r, a->n);

	return rng_uniform(r) < a->prob[i] ? i : a->alias[i];
}

void
rng_alias_release(struct rng_alias *a)
{
	free(a->prob);
	free(a->alias);
	a->n = 0;
	a->prob = NULL;
	a->alias = NULL;
}

uint64_t
rng_permute(uint64_t i, uint64_t n, uint64_t seed, uint64_t stream)
{
	uint64_t k[6], x = seed ^ rng_mix64(stream), mask, l, r, t;
	unsigned h = 1;

	if (n <= 1)
		return 0;
	while (h < 32 && ((uint64_t)1 << (2 * h)) < n)
		h++;
	mask = ((uint64_t)1 << h) - 1;
	for (int j = 0; j < 6; j++)
		k[j] = rng_splitmix64(&x);
	/* A Feistel network permutes [0, 4^h); walking the cycle from i
	 * until it lands below n restricts it to a permutation of [0, n). */
	do {
		l = i >> h;
		r = i & mask;
		for (int j = 0; j < 6; j++) {
			t = l ^ (rng_mix64(r + k[j]) & mask);
			l = r;
			r = t;
		}
		i = (l << h) | r;
	} while (i >= n);
	return i;
}

/* The registry: see rng.h.  One row per use; keep in step with the enum. */
const struct rng_use rng_uses[] = {
	{ "cookbook order", RNG_COOKBOOK_ORDER, 1, RNG_IN_COOKBOOK_GEN, 0, 0 },
	{ "cookbook examples", RNG_COOKBOOK_EXAMPLES, 4096, RNG_IN_COOKBOOK_GEN, 0, 0 },
	{ "cookbook vocabulary", RNG_COOKBOOK_VOCAB, 1, RNG_IN_COOKBOOK_GEN, 1, 0 },
	{ "skillit rounds and output shuffle", RNG_SKILLIT_ROUNDS, 1, RNG_IN_SKILLIT_MIX, 0, 1 },
	{ "skillit reservoirs", RNG_SKILLIT_RESERVOIR, UINT64_C(1) << 32, RNG_IN_SKILLIT_MIX, 0, 0 },
	{ "reward-count simhash", RNG_REWARDCOUNT_SIMHASH, 1, RNG_IN_REWARD_COUNT, 0, 0 },
	{ "tart example pick", RNG_TART_PICK, 1, RNG_IN_TART_FIT, 0, 0 },
	{ "tart example order", RNG_TART_ORDER, 1, RNG_IN_TART_FIT, 0, 0 },
	{ "tart example reorders", RNG_TART_REORDER, 1, RNG_IN_TART_FIT, 0, 0 },
	{ "tart training tasks", RNG_TART_TRAIN_TASKS, 1, RNG_IN_TART_FIT, 0, 0 },
	{ "gpt init", RNG_GPT_INIT, 1, RNG_IN_TART_FIT, 0, 0 },
	{ "tart eval tasks", RNG_TART_EVAL_TASKS, 2000, RNG_IN_TART_FIT, 0, 0 },
	{ "tart eval reorders", RNG_TART_EVAL_ORDERS, 2000, RNG_IN_TART_FIT, 0, 0 },
	{ "hedgehog shuffle", RNG_HEDGEHOG_SHUFFLE, 1, RNG_IN_HEDGEHOG_TRAIN, 0, 0 },
	{ "hedgehog split", RNG_HEDGEHOG_SPLIT, 1, RNG_IN_HEDGEHOG_TRAIN, 0, 0 },
	{ "hedgehog performer", RNG_HEDGEHOG_PERFORMER, 1, RNG_IN_HEDGEHOG_TRAIN, 0, 0 },
	{ "meteor pairs", RNG_METEOR_PAIRS, UINT64_C(1) << 32,
	    RNG_IN_METEOR_SIM | RNG_IN_SUPERHF_FILTER, 0, 0 },
	{ "congest noise", RNG_CONGEST_NOISE, 1, RNG_IN_CONGEST_ROUTE, 0, 0 },
	{ "reward-query random design", RNG_REWARD_QUERY_RANDOM, 1,
	    RNG_IN_REWARD_QUERY, 0, 0 },
	{ "reward-sensitivity demonstrations", RNG_REWINFER_DEMOS, 1,
	    RNG_IN_REWARD_SENSITIVITY, 0, 0 },
	{ "reward-sensitivity random bias", RNG_REWINFER_BIAS, 1,
	    RNG_IN_REWARD_SENSITIVITY, 0, 0 },
};
const size_t rng_nuses = sizeof rng_uses / sizeof *rng_uses;
