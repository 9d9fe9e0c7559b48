/*
 * rng - seeded, splittable random numbers: the only source of randomness
 * in loam.
 *
 * Every algorithm below is part of loam's output format: the same seed
 * must give the same data in every version on every platform, so the
 * exact steps are written down here and tests/unit/rng_test.c pins them
 * with known answers.  Changing any of them changes every generator's
 * output and needs a major version and a note in the man pages.
 *
 * Core generator: xoshiro256** 1.0 (Blackman and Vigna, 2018), 256 bits
 * of state s[0..3], period 2^256 - 1:
 *
 *	result = rotl(s[1] * 5, 7) * 9
 *	t = s[1] << 17
 *	s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]
 *	s[2] ^= t; s[3] = rotl(s[3], 45)
 *
 * Mixer and seeder: SplitMix64 (Steele, Lea and Flood, 2014):
 *
 *	rng_mix64(z):	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
 *			z = (z ^ (z >> 27)) * 0x94d049bb133111eb
 *			return z ^ (z >> 31)
 *	rng_splitmix64(&x):	x += 0x9e3779b97f4a7c15
 *				return rng_mix64(x)
 *
 * Substreams.  rng_init(r, seed, stream, index) derives a generator from
 * a triple, so that a program can start record `index` directly instead
 * of generating records 0..index-1 first: that is what makes
 * `--shard I/N` exact (shards concatenate to the unsharded output).
 * `stream` separates independent uses of one seed (for example stream 0
 * draws records, stream 1 splits train/test).  The derivation:
 *
 *	x = seed; k[0..5] = six successive rng_splitmix64(&x)
 *	a = index; b = stream
 *	a ^= rng_mix64(b + k[0]); b ^= rng_mix64(a + k[1])
 *	a ^= rng_mix64(b + k[2]); b ^= rng_mix64(a + k[3])
 *	s = { a, b, rng_mix64(a + k[4]), rng_mix64(b + k[5]) }
 *
 * The four rounds form a Feistel network keyed by the seed, so for one
 * seed distinct (stream, index) pairs always give distinct states: no two
 * records of a run can share a generator, however many there are (a
 * 64-bit hash of the triple would collide with probability n^2 / 2^65).
 * Every output word depends on all three inputs.  The state is never all
 * zero because k[4] != k[5].
 *
 * Derived draws (each consumes the generator outputs stated):
 *
 * rng_uniform_int(n)	Lemire's multiply-shift with rejection (2019):
 *			m = x * n as a 128-bit product; l = low 64 bits;
 *			if l < n: t = (2^64 - n) mod n, and while l < t draw
 *			a new x and recompute; return the high 64 bits.  One
 *			output, more only on rejection (probability < n/2^64).
 *			n == 0 stands for 2^64 and returns rng_next().
 * rng_uniform		(x >> 11) * 2^-53: one output, 53 bits, in [0, 1).
 * rng_uniform_float	(x >> 40) * 2^-24: one output, 24 bits, in [0, 1).
 * rng_normal		Marsaglia's polar method: u = 2U - 1, v = 2U - 1
 *			(U = rng_uniform) until 0 < s = u*u + v*v < 1;
 *			f = sqrt(-2 log(s) / s); return u*f and keep v*f,
 *			which the next call returns without drawing.  It
 *			needs only log() and sqrt(); sqrt is exact in IEEE
 *			754, and log may differ across libms in the last ulp,
 *			which is the only platform dependence in this module.
 * rng_shuffle		Fisher-Yates (Durstenfeld): for i = n-1 down to 1,
 *			j = rng_uniform_int(i + 1), swap elements i and j.
 * rng_weighted		one U = rng_uniform; target = U * sum(w); return
 *			the first i with target < w[0] + ... + w[i].
 * rng_alias_sample	i = rng_uniform_int(n), then U = rng_uniform;
 *			return U < prob[i] ? i : alias[i].
 * rng_alias_init	Vose's method (1991): p[i] = w[i] * n / sum(w);
 *			stacks small (p < 1) and large, pushed in index
 *			order; while both are non-empty pop l from small and
 *			g from large, set prob[l] = p[l], alias[l] = g,
 *			p[g] = (p[g] + p[l]) - 1, push g on small if
 *			p[g] < 1 else on large.  Then what is left in large
 *			gets prob 1; what is left in small (rounding) gets
 *			prob 1, or, for a zero weight, prob 0 and the alias
 *			of the first largest weight.
 *
 * rng_permute(i, n, seed, stream)
 *			a keyed bijection of [0, n): position i of a random
 *			permutation, computed alone in O(1) memory (so a shard
 *			of a shuffled sequence is computed without the rest).
 *			Let h = the smallest half-width with 4^h >= n (h >= 1),
 *			mask = 2^h - 1, k[0..5] from x = seed ^ rng_mix64(stream)
 *			by rng_splitmix64.  Encrypt: l = i >> h, r = i & mask;
 *			six rounds of (l, r) = (r, l ^ (rng_mix64(r + k[j])
 *			& mask)); result (l << h) | r.  Cycle-walk: re-encrypt
 *			while the result is >= n (the domain is < 4n, so the
 *			expected walk is under 4 steps).
 *
 * The floating-point steps are plain IEEE double operations; rng.c must
 * be compiled without FMA contraction (gcc -std=c11 implies
 * -ffp-contract=off; clang is told so by a pragma) so that they round
 * alike everywhere.
 */
#ifndef LOAM_RNG_H
#define LOAM_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The registry of random streams: every use of a seed in loam, one row
 * each, so that no two uses in one program share a generator (rng_init's
 * promise holds only for distinct (stream, index) pairs).  A use draws
 * from streams [first, first + count) of the seed, with any index; a use
 * whose own numbering has two parts (layer and head, round and skill)
 * puts one in the stream and one in the index, or both in the index.
 * Values are part of the output format: a row keeps its numbers, and a
 * new use gets a free range.  rng_uses[] lists them with the programs
 * that run them; tests/unit/rng_test.c checks that the ranges of any two
 * uses one program runs are disjoint, and that every row is distinct.
 * Uses with a fixed seed of their own (RNG_COOKBOOK_VOCAB) never meet the
 * user's seed but are listed all the same.
 */
enum rng_stream {
	/* cookbook-gen: the order of examples (rng_permute's stream), and
	 * each template's examples at stream 1 + its catalogue index. */
	RNG_COOKBOOK_ORDER = 0,
	RNG_COOKBOOK_EXAMPLES = 1,		/* + catalogue index, < 4096 */
	RNG_COOKBOOK_VOCAB = 0x766f6361,	/* under the seed 0x6c6f616d */
	/* skillit-mix sample: per-round counts and the output shuffle share
	 * stream 0 (index t from the bottom, UINT64_MAX - t from the top);
	 * reservoirs at stream 1 + round, index skill. */
	RNG_SKILLIT_ROUNDS = 0,
	RNG_SKILLIT_RESERVOIR = 1,		/* + round, < 2^32 */
	/* reward-count: the SimHash projection. */
	RNG_REWARDCOUNT_SIMHASH = 0,
	/* tart-fit: predict's choice of the k examples, their order, and
	 * the reshuffles of --orders (index: the order); train's tasks
	 * (index step << 20 | batch row) and the GPT's weights (index: the
	 * tensor); eval's tasks of each k (1000 + k, index: the task) and
	 * their reshuffles (3000 + k, index task << 10 | order), k < 2000. */
	RNG_TART_PICK = 1,
	RNG_TART_ORDER = 2,
	RNG_TART_REORDER = 3,
	RNG_TART_TRAIN_TASKS = 4,
	RNG_GPT_INIT = 7,
	RNG_TART_EVAL_TASKS = 1000,		/* + k, k < 2000 */
	RNG_TART_EVAL_ORDERS = 3000,		/* + k, k < 2000 */
	/* hedgehog-train: the epoch shuffle (index epoch), the train and
	 * validation split, and the Performer feature maps (index
	 * layer << 16 | head). */
	RNG_HEDGEHOG_SHUFFLE = 1,
	RNG_HEDGEHOG_SPLIT = 2,
	RNG_HEDGEHOG_PERFORMER = 3,

	/* meteor-sim, superhf-filter */
	RNG_METEOR_PAIRS = 0,			/* + group, < 2^32 */

	/* congest-route sim: the simulator's reward noise (index: the run,
	 * 0 for one simulation). */
	RNG_CONGEST_NOISE = 0,

	/* reward-query: --design random (index: the round, the number of
	 * raw observations so far). */
	RNG_REWARD_QUERY_RANDOM = 0,

	/* reward-sensitivity simulate: the demonstrations (index: the
	 * trajectory). */
	RNG_REWINFER_DEMOS = 0,
	/* reward-sensitivity simulate --bias random: the direction (index 0). */
	RNG_REWINFER_BIAS = 1,
};

/* Programs, for rng_uses[].programs. */
enum {
	RNG_IN_COOKBOOK_GEN = 1 << 0,
	RNG_IN_SKILLIT_MIX = 1 << 1,
	RNG_IN_REWARD_COUNT = 1 << 2,
	RNG_IN_TART_FIT = 1 << 3,
	RNG_IN_HEDGEHOG_TRAIN = 1 << 4,
	RNG_IN_EMBROID_FIX = 1 << 5,
	RNG_IN_METEOR_SIM = 1 << 6,
	RNG_IN_SUPERHF_FILTER = 1 << 7,
	RNG_IN_CONGEST_ROUTE = 1 << 8,
	RNG_IN_REWARD_QUERY = 1 << 9,
	RNG_IN_REWARD_SENSITIVITY = 1 << 10,
};

struct rng_use {
	const char *name;
	uint64_t first, count;	/* streams [first, first + count) */
	unsigned programs;	/* RNG_IN_* */
	int own_seed;		/* drawn under a fixed seed, not the user's */
	int index_split;	/* shares its stream with another use of the
				   program by index (RNG_SKILLIT_ROUNDS) */
};
extern const struct rng_use rng_uses[];
extern const size_t rng_nuses;

/* Position i (< n) of the permutation of [0, n) keyed by (seed, stream). */
uint64_t rng_permute(uint64_t i, uint64_t n, uint64_t seed, uint64_t stream);

/* A generator.  Plain data: copy it to fork an identical stream. */
struct rng {
	uint64_t s[4];		/* xoshiro256** state, never all zero */
	double normal_spare;	/* second value of the last polar pair */
	int has_normal_spare;
};

/* SplitMix64: advance *state and return its next output. */
uint64_t rng_splitmix64(uint64_t *state);
/* SplitMix64's finaliser: a bijective, avalanching 64-bit mixer. */
uint64_t rng_mix64(uint64_t z);

/* Start r on substream (stream, index) of seed; see above. */
void rng_init(struct rng *r, uint64_t seed, uint64_t stream, uint64_t index);

/* The next raw 64-bit output. */
uint64_t rng_next(struct rng *r);

/* Advance r by 2^128 outputs, as if rng_next() had been called that many
 * times: 2^128 non-overlapping sequences for parallel use.  The reference
 * jump polynomial of xoshiro256; costs 256 steps. */
void rng_jump(struct rng *r);

/* Uniform integer in [0, n) without modulo bias; n == 0 means 2^64. */
uint64_t rng_uniform_int(struct rng *r, uint64_t n);
/* Uniform double in [0, 1), multiples of 2^-53. */
double rng_uniform(struct rng *r);
/* Uniform float in [0, 1), multiples of 2^-24. */
float rng_uniform_float(struct rng *r);
/* Standard normal N(0, 1). */
double rng_normal(struct rng *r);

/* Shuffle count elements of size bytes each at base, uniformly. */
void rng_shuffle(struct rng *r, void *base, size_t count, size_t size);

/* Index in [0, n) drawn with probability w[i] / sum(w), by a linear scan
 * (O(n) per draw; build an rng_alias for many draws from one w).  Weights
 * must be finite and non-negative; a zero weight is never chosen.
 * Returns n, after drawing nothing, when no weight is positive. */
size_t rng_weighted(struct rng *r, const double *w, size_t n);

/* Walker's alias table for O(1) draws from a fixed discrete distribution. */
struct rng_alias {
	size_t n;
	double *prob;		/* probability of keeping column i */
	size_t *alias;		/* where column i sends the rest */
};

/* Build a from n weights.  Returns 0, or -1 with loam_error() set when
 * n == 0, a weight is negative or not finite, or no weight is positive.
 * On failure a is left empty and rng_alias_release() is still safe. */
int rng_alias_init(struct rng_alias *a, const double *w, size_t n);
/* Index in [0, a->n) with probability w[i] / sum(w). */
size_t rng_alias_sample(const struct rng_alias *a, struct rng *r);
void rng_alias_release(struct rng_alias *a);

#ifdef __cplusplus
}
#endif

#endif
