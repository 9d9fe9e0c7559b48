/*
 * rng_test - lib/rng: known answers that pin the output format, then
 * statistical checks of every derived draw.
 *
 * The known answers come from second, deliberately plain implementations
 * written here from the published descriptions, so a slip in rng.c shows
 * up as a disagreement rather than being copied into the expected values.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "tap.h"
#include "util.h"

/* ---- reference implementations, straight from the papers ---- */

struct ref_xoshiro {
	uint64_t a, b, c, d;
};

static uint64_t
ref_rotl(uint64_t x, unsigned k)
{
	return k == 0 ? x : (x << k) | (x >> (64 - k));
}

static uint64_t
ref_xoshiro_next(struct ref_xoshiro *x)
{
	uint64_t out = ref_rotl(x->b * 5, 7) * 9;
	uint64_t na, nb, nc, nd;

	/* the update written as new values from old ones */
	nc = x->c ^ x->a;
	nd = x->d ^ x->b;
	nb = x->b ^ nc;
	na = x->a ^ nd;
	nc ^= x->b << 17;
	nd = ref_rotl(nd, 45);
	x->a = na;
	x->b = nb;
	x->c = nc;
	x->d = nd;
	return out;
}

static uint64_t
ref_splitmix(uint64_t *x)
{
	uint64_t z;

	*x += 0x9e3779b97f4a7c15ULL;
	z = *x;
	z ^= z >> 30;
	z *= 0xbf58476d1ce4e5b9ULL;
	z ^= z >> 27;
	z *= 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z;
}

static uint64_t
ref_mix(uint64_t z)
{
	uint64_t x = z - 0x9e3779b97f4a7c15ULL;

	return ref_splitmix(&x);
}

/* rng_init as rng.h describes it. */
static void
ref_init(struct ref_xoshiro *x, uint64_t seed, uint64_t stream,
    uint64_t index)
{
	uint64_t k0 = ref_splitmix(&seed), k1 = ref_splitmix(&seed);
	uint64_t k2 = ref_splitmix(&seed), k3 = ref_splitmix(&seed);
	uint64_t k4 = ref_splitmix(&seed), k5 = ref_splitmix(&seed);
	uint64_t a = index, b = stream;

	a = a ^ ref_mix(b + k0);
	b = b ^ ref_mix(a + k1);
	a = a ^ ref_mix(b + k2);
	b = b ^ ref_mix(a + k3);
	x->a = a;
	x->b = b;
	x->c = ref_mix(a + k4);
	x->d = ref_mix(b + k5);
}

/* Lemire's bounded draw with the 128-bit product done by hand in 32-bit
 * halves, so it also vouches for the fallback path in rng.c. */
static uint64_t
ref_bounded(struct ref_xoshiro *x, uint64_t n)
{
	uint64_t v, a0, a1, b0 = n & 0xffffffffu, b1 = n >> 32;
	uint64_t p00, p01, p10, p11, carry, lo, hi, t;

	for (;;) {
		v = ref_xoshiro_next(x);
		a0 = v & 0xffffffffu;
		a1 = v >> 32;
		p00 = a0 * b0;
		p01 = a0 * b1;
		p10 = a1 * b0;
		p11 = a1 * b1;
		carry = (p00 >> 32) + (p01 & 0xffffffffu) +
		    (p10 & 0xffffffffu);
		lo = (carry << 32) | (p00 & 0xffffffffu);
		hi = p11 + (p01 >> 32) + (p10 >> 32) + (carry >> 32);
		t = (0 - n) % n;
		if (lo >= t)	/* the same acceptance, written plainly */
			return hi;
	}
}

static double
ref_uniform(struct ref_xoshiro *x)
{
	return (double)(ref_xoshiro_next(x) >> 11) / 9007199254740992.0;
}

/* The documented draws, written out again: they pin the format. */
static void
test_documented_draws(void)
{
	struct rng r;
	struct ref_xoshiro x;
	int a[50], b[50], i, j, t, same = 1;
	static const double w[5] = { 0.5, 0, 3, 1.25, 2 };
	double u, v, q, f, total, target, acc, spare = 0;
	size_t k, want;

	/* Fisher-Yates from the top, j = uniform_int(i + 1) */
	rng_init(&r, 6, 1, 2);
	ref_init(&x, 6, 1, 2);
	for (i = 0; i < 50; i++)
		a[i] = b[i] = i;
	rng_shuffle(&r, a, 50, sizeof *a);
	for (i = 49; i > 0; i--) {
		j = (int)ref_bounded(&x, (uint64_t)i + 1);
		t = b[i];
		b[i] = b[j];
		b[j] = t;
	}
	ok(memcmp(a, b, sizeof a) == 0, "shuffle is Fisher-Yates as "
	    "documented");

	/* polar normals, second value kept for the next call */
	rng_init(&r, 6, 2, 0);
	ref_init(&x, 6, 2, 0);
	for (i = 0; i < 1000 && same; i++) {
		if (i % 2 == 1) {
			same = rng_normal(&r) == spare;
			continue;
		}
		do {
			u = 2.0 * ref_uniform(&x) - 1.0;
			v = 2.0 * ref_uniform(&x) - 1.0;
			q = u * u + v * v;
		} while (q >= 1.0 || q == 0.0);
		f = sqrt(-2.0 * log(q) / q);
		spare = v * f;
		same = rng_normal(&r) == u * f;
	}
	ok(same, "normal is Marsaglia's polar method as documented");

	/* weighted: first i with target < cumulative sum */
	rng_init(&r, 6, 3, 0);
	ref_init(&x, 6, 3, 0);
	for (i = 0, same = 1; i < 1000; i++) {
		total = 0;
		for (k = 0; k < 5; k++)
			total += w[k];
		target = ref_uniform(&x) * total;
		for (k = 0, acc = 0, want = 4; k < 5; k++) {
			acc += w[k];
			if (target < acc) {
				want = k;
				break;
			}
		}
		if (rng_weighted(&r, w, 5) != want)
			same = 0;
	}
	ok(same, "weighted choice is the documented scan");

	/* Golden: Vose's table for these weights is prob {.6 0 1 .8 0 .4},
	 * alias {3 5 2 2 5 3}, worked by hand from rng.h. */
	{
		static const double aw[6] = { 1, 0, 2, 3, 0, 4 };
		static const double prob[6] = { 0.6, 0, 1, 0.8, 0, 0.4 };
		static const size_t alias[6] = { 3, 5, 2, 2, 5, 3 };
		static const size_t golden[20] = {
			5, 5, 3, 5, 2, 5, 2, 3, 5, 5,
			5, 3, 5, 3, 3, 3, 5, 5, 0, 3,
		};
		struct rng_alias al;

		rng_alias_init(&al, aw, 6);
		for (k = 0, same = 1; k < 6; k++)
			if (fabs(al.prob[k] - prob[k]) > 1e-12 ||
			    al.alias[k] != alias[k])
				same = 0;
		ok(same, "alias table is Vose's, in the documented order");
		rng_init(&r, 6, 4, 0);
		for (k = 0, same = 1; k < 20; k++)
			if (rng_alias_sample(&al, &r) != golden[k])
				same = 0;
		ok(same, "golden: alias samples for seed 6 stream 4");
		rng_alias_release(&al);
	}
}

/* ---- helpers ---- */

static double
chi_square(const long *observed, const double *expected, size_t n)
{
	double chi = 0, d;
	size_t i;

	for (i = 0; i < n; i++) {
		if (expected[i] <= 0)
			continue;
		d = (double)observed[i] - expected[i];
		chi += d * d / expected[i];
	}
	return chi;
}

/* A bound that a correct generator exceeds with probability ~1e-6, and
 * since every seed here is fixed the result never flickers. */
static double
chi_bound(size_t df)
{
	return (double)df + 8 * sqrt(2.0 * (double)df);
}

static double
correlation(const double *x, const double *y, size_t n)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	return sxy / sqrt(sxx * syy);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* ---- tests ---- */

static void
test_known_answers(void)
{
	/* rand_xoshiro's published test vector for state {1, 2, 3, 4} */
	static const uint64_t published[10] = {
		11520ULL, 0ULL, 1509978240ULL, 1215971899390074240ULL,
		1216172134540287360ULL, 607988272756665600ULL,
		16172922978634559625ULL, 8476171486693032832ULL,
		10595114339597558777ULL, 2904607092377533576ULL,
	};
	struct rng r;
	struct ref_xoshiro x = { 1, 2, 3, 4 };
	uint64_t sm = 0, got, want;
	int i, same;

	memset(&r, 0, sizeof r);
	r.s[0] = 1;
	r.s[1] = 2;
	r.s[2] = 3;
	r.s[3] = 4;
	for (i = 0, same = 1; i < 10; i++)
		if (rng_next(&r) != published[i])
			same = 0;
	ok(same, "xoshiro256** from {1,2,3,4} matches the published vector");

	r.s[0] = 1;
	r.s[1] = 2;
	r.s[2] = 3;
	r.s[3] = 4;
	for (i = 0, same = 1; i < 100000; i++)
		if (rng_next(&r) != ref_xoshiro_next(&x))
			same = 0;
	ok(same, "xoshiro256** agrees with the reference for 100000 steps");

	sm = 0;
	got = rng_splitmix64(&sm);
	ok(got == 0xe220a8397b1dcdafULL,
	    "splitmix64 seed 0 first output %016llx",
	    (unsigned long long)got);
	sm = 0;
	(void)rng_splitmix64(&sm);
	got = rng_splitmix64(&sm);
	ok(got == 0x6e789e6aa1b965f4ULL,
	    "splitmix64 seed 0 second output %016llx",
	    (unsigned long long)got);
	ok(rng_mix64(0) == 0 && rng_mix64(1) != 1, "mix64 fixes only 0");

	/* rng_init follows its documentation, for awkward triples too */
	{
		static const uint64_t triples[][3] = {
			{ 0, 0, 0 }, { 42, 0, 0 }, { 42, 1, 0 }, { 42, 0, 1 },
			{ UINT64_MAX, UINT64_MAX, UINT64_MAX },
			{ 7, 3, 1000000007 },
		};
		size_t t;

		for (t = 0, same = 1; t < sizeof triples / sizeof *triples;
		    t++) {
			rng_init(&r, triples[t][0], triples[t][1],
			    triples[t][2]);
			ref_init(&x, triples[t][0], triples[t][1],
			    triples[t][2]);
			for (i = 0; i < 1000; i++)
				if (rng_next(&r) != ref_xoshiro_next(&x))
					same = 0;
		}
		ok(same, "rng_init derives states as rng.h documents");
	}

	/* Golden values: these pin the format.  If this fails, every
	 * generator's output changed. */
	rng_init(&r, 42, 0, 0);
	got = rng_next(&r);
	want = 0x0eb84d93b035036cULL;
	ok(got == want, "golden: seed 42 stream 0 index 0 -> %016llx",
	    (unsigned long long)got);
	rng_init(&r, 1, 2, 3);
	for (i = 0; i < 9; i++)
		rng_next(&r);
	got = rng_next(&r);
	want = 0xc249b3257888072bULL;
	ok(got == want, "golden: seed 1 stream 2 index 3, 10th -> %016llx",
	    (unsigned long long)got);
}

static void
test_determinism(void)
{
	struct rng a, b;
	int i, same = 1;

	rng_init(&a, 12345, 6, 789);
	rng_init(&b, 12345, 6, 789);
	for (i = 0; i < 10000; i++)
		if (rng_next(&a) != rng_next(&b))
			same = 0;
	ok(same, "same (seed, stream, index) gives the same sequence");

	rng_init(&a, 5, 0, 0);
	rng_init(&b, 5, 0, 0);
	for (i = 0; i < 1001; i++)	/* odd: leaves a normal spare */
		if (rng_normal(&a) != rng_normal(&b))
			same = 0;
	rng_init(&a, 5, 0, 0);
	ok(same && !a.has_normal_spare,
	    "normals repeat; rng_init clears the spare");

	/* a copy of the struct forks an identical stream */
	rng_init(&a, 9, 9, 9);
	rng_normal(&a);
	b = a;
	ok(rng_normal(&a) == rng_normal(&b) && rng_next(&a) == rng_next(&b),
	    "copying the struct forks the stream");
}

static void
test_substreams(void)
{
	enum { N = 10000, NIDX = 100000 };
	struct rng a, b;
	double *x = xmalloc(N * sizeof *x), *y = xmalloc(N * sizeof *y);
	uint64_t *first = xmalloc(NIDX * sizeof *first);
	double rho, worst = 0;
	size_t i, dup;
	int differ = 1, k;

	/* neighbours in index, in stream, and in seed */
	static const uint64_t pairs[][6] = {
		{ 1, 0, 0, 1, 0, 1 },
		{ 1, 0, 500, 1, 0, 501 },
		{ 1, 0, 0, 1, 1, 0 },
		{ 1, 7, 0, 1, 8, 0 },
		{ 1, 0, 0, 2, 0, 0 },
		{ 0, 0, 0, 0, 1, 1 },
	};

	for (k = 0; k < (int)(sizeof pairs / sizeof *pairs); k++) {
		rng_init(&a, pairs[k][0], pairs[k][1], pairs[k][2]);
		rng_init(&b, pairs[k][3], pairs[k][4], pairs[k][5]);
		for (i = 0; i < N; i++) {
			x[i] = rng_uniform(&a);
			y[i] = rng_uniform(&b);
			if (x[i] == y[i])
				differ = 0;
		}
		rho = correlation(x, y, N);
		if (fabs(rho) > fabs(worst))
			worst = rho;
	}
	ok(differ, "neighbouring substreams give different sequences");
	ok(fabs(worst) < 0.05,
	    "neighbouring substreams uncorrelated (worst r = %.4f)", worst);

	/* record i's first double against record i+1's, across records:
	 * what a sharded generator actually consumes */
	for (i = 0; i < N; i++) {
		rng_init(&a, 77, 0, i);
		x[i] = rng_uniform(&a);
		rng_init(&a, 77, 0, i + 1);
		y[i] = rng_uniform(&a);
	}
	rho = correlation(x, y, N);
	ok(fabs(rho) < 0.05, "first draws of records i, i+1 uncorrelated "
	    "(r = %.4f)", rho);

	for (i = 0; i < NIDX; i++) {
		rng_init(&a, 2024, 0, i);
		first[i] = rng_next(&a);
	}
	qsort(first, NIDX, sizeof *first, cmp_u64);
	for (i = 1, dup = 0; i < NIDX; i++)
		if (first[i] == first[i - 1])
			dup++;
	is_int((long long)dup, 0, "no equal first outputs among %d indices",
	    NIDX);

	free(x);
	free(y);
	free(first);
}

static void
test_uniform_int(void)
{
	enum { BUCKETS = 7, DRAWS = 700000 };
	static const uint64_t bounds[] = {
		1, 2, 3, 7, 10, 1000, 0x80000001ULL, 0xffffffffULL,
		(1ULL << 63) + 1, 0xaaaaaaaaaaaaaaabULL, UINT64_MAX,
	};
	struct rng r;
	struct ref_xoshiro x;
	long counts[BUCKETS] = { 0 };
	double expected[BUCKETS], chi;
	uint64_t v, big = (1ULL << 63) + 1, quarter = 1ULL << 62;
	long high = 0, n1 = 0;
	int i, in_range = 1, same = 1;
	size_t b;

	rng_init(&r, 3, 0, 0);
	for (i = 0; i < DRAWS; i++) {
		v = rng_uniform_int(&r, BUCKETS);
		if (v >= BUCKETS)
			in_range = 0;
		else
			counts[v]++;
	}
	for (i = 0; i < BUCKETS; i++)
		expected[i] = (double)DRAWS / BUCKETS;
	chi = chi_square(counts, expected, BUCKETS);
	ok(in_range, "uniform_int(7) stays in [0, 7)");
	ok(chi < chi_bound(BUCKETS - 1), "uniform_int(7) unbiased: "
	    "chi-square %.2f, df %d", chi, BUCKETS - 1);

	for (i = 0; i < 1000; i++)
		n1 += (long)rng_uniform_int(&r, 1);
	is_int(n1, 0, "uniform_int(1) is always 0");

	/* 2^63 + 1 rejects almost half of all draws: the slow path.  Its
	 * upper half, [2^62, 2^63], must still get half of the draws. */
	for (i = 0, in_range = 1; i < 100000; i++) {
		v = rng_uniform_int(&r, big);
		if (v >= big)
			in_range = 0;
		if (v >= quarter)
			high++;
	}
	ok(in_range, "uniform_int(2^63 + 1) stays in range");
	ok(high > 49000 && high < 51000,
	    "uniform_int(2^63 + 1) fills its upper half (%ld of 100000)",
	    high);

	/* the exact algorithm, across bounds with and without rejection */
	for (b = 0; b < sizeof bounds / sizeof *bounds; b++) {
		rng_init(&r, 11, b, 0);
		ref_init(&x, 11, b, 0);
		for (i = 0; i < 20000; i++)
			if (rng_uniform_int(&r, bounds[b]) !=
			    ref_bounded(&x, bounds[b]))
				same = 0;
	}
	ok(same, "uniform_int is Lemire's method, draw for draw");

	rng_init(&r, 11, 0, 0);
	ref_init(&x, 11, 0, 0);
	ok(rng_uniform_int(&r, 0) == ref_xoshiro_next(&x),
	    "uniform_int(0) means 2^64: one raw output");
}

static void
test_uniform_real(void)
{
	enum { N = 1000000 };
	struct rng r;
	double d, lo = 1, hi = 0, sum = 0;
	float f, flo = 1, fhi = 0;
	int i, in_range = 1, grid = 1, fin_range = 1, fgrid = 1;
	struct ref_xoshiro x;

	rng_init(&r, 8, 0, 0);
	for (i = 0; i < N; i++) {
		d = rng_uniform(&r);
		if (!(d >= 0 && d < 1))
			in_range = 0;
		if (d * 0x1.0p53 != floor(d * 0x1.0p53))
			grid = 0;
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		sum += d;
	}
	ok(in_range, "doubles lie in [0, 1) (min %g, max %.17g)", lo, hi);
	ok(grid, "doubles are multiples of 2^-53");
	is_dbl(sum / N, 0.5, 0.002, "doubles have mean 1/2");

	for (i = 0; i < N; i++) {
		f = rng_uniform_float(&r);
		if (!(f >= 0 && f < 1))
			fin_range = 0;
		if (f * 0x1.0p24f != floorf(f * 0x1.0p24f))
			fgrid = 0;
		flo = f < flo ? f : flo;
		fhi = f > fhi ? f : fhi;
	}
	ok(fin_range, "floats lie in [0, 1) (min %g, max %.9g)", (double)flo,
	    (double)fhi);
	ok(fgrid, "floats are multiples of 2^-24");

	rng_init(&r, 8, 1, 0);
	ref_init(&x, 8, 1, 0);
	d = rng_uniform(&r);
	ok(d == (double)(ref_xoshiro_next(&x) >> 11) / 9007199254740992.0,
	    "uniform uses the top 53 bits");
	f = rng_uniform_float(&r);
	ok(f == (float)(ref_xoshiro_next(&x) >> 40) / 16777216.0f,
	    "uniform_float uses the top 24 bits");
}

static void
test_normal(void)
{
	enum { N = 1000000 };
	struct rng r;
	double z, sum = 0, sum2 = 0, sum4 = 0, mean, var;
	long within1 = 0;
	int i, finite = 1;

	rng_init(&r, 31337, 0, 0);
	for (i = 0; i < N; i++) {
		z = rng_normal(&r);
		if (!isfinite(z))
			finite = 0;
		sum += z;
		sum2 += z * z;
		sum4 += z * z * z * z;
		if (fabs(z) < 1)
			within1++;
	}
	mean = sum / N;
	var = sum2 / N - mean * mean;
	ok(finite, "normals are finite");
	is_dbl(mean, 0, 0.005, "normal mean ~ 0 (%.5f)", mean);
	is_dbl(var, 1, 0.01, "normal variance ~ 1 (%.5f)", var);
	is_dbl(sum4 / N, 3, 0.05, "normal fourth moment ~ 3");
	is_dbl((double)within1 / N, 0.682689, 0.003,
	    "P(|z| < 1) ~ 0.6827");
}

static void
test_shuffle(void)
{
	enum { N = 10, ROUNDS = 2000, BIG = 100, NBIG = 37 };
	struct rng r;
	int a[N], seen[N], reached[N][N], have[NBIG] = { 0 };
	long pos_count[N];
	struct big { unsigned char bytes[BIG]; } *e;
	int i, j, round, perm = 1, all = 1, intact = 1;
	double expected[N], chi, worst = 0;

	memset(reached, 0, sizeof reached);
	memset(pos_count, 0, sizeof pos_count);
	rng_init(&r, 100, 0, 0);
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < N; i++)
			a[i] = i;
		rng_shuffle(&r, a, N, sizeof *a);
		memset(seen, 0, sizeof seen);
		for (i = 0; i < N; i++) {
			if (a[i] < 0 || a[i] >= N || seen[a[i]]++)
				perm = 0;
			else
				reached[a[i]][i]++;
		}
	}
	ok(perm, "shuffle always gives a permutation");
	for (i = 0; i < N; i++) {
		for (j = 0; j < N; j++) {
			if (reached[i][j] == 0)
				all = 0;
			pos_count[j] = reached[i][j];
			expected[j] = (double)ROUNDS / N;
		}
		chi = chi_square(pos_count, expected, N);
		worst = chi > worst ? chi : worst;
	}
	ok(all, "every element reaches every position");
	ok(worst < chi_bound(N - 1) + 10, "positions uniform per element "
	    "(worst chi-square %.2f over %d elements)", worst, N);

	/* elements larger than rng.c's 64-byte swap buffer */
	e = xmalloc(NBIG * sizeof *e);
	for (i = 0; i < NBIG; i++)
		memset(e[i].bytes, i, sizeof e[i].bytes);
	rng_shuffle(&r, e, NBIG, sizeof *e);
	for (i = 0; i < NBIG; i++) {
		for (j = 1; j < BIG; j++)
			if (e[i].bytes[j] != e[i].bytes[0])
				intact = 0;
		if (e[i].bytes[0] < NBIG)
			have[e[i].bytes[0]]++;
	}
	for (i = 0; i < NBIG; i++)
		if (have[i] != 1)
			intact = 0;
	ok(intact, "shuffle moves %d-byte elements whole", BIG);
	free(e);

	a[0] = 42;
	rng_shuffle(&r, a, 1, sizeof *a);
	rng_shuffle(&r, NULL, 0, sizeof *a);
	is_int(a[0], 42, "shuffle of 0 and 1 elements");
}

static void
test_weighted(void)
{
	enum { N = 6, DRAWS = 600000 };
	static const double w[N] = { 1, 0, 2, 3, 0, 4 };
	static const double zeros[3] = { 0, 0, 0 };
	static const double bad[3] = { 1, -1, 2 };
	static const double one[1] = { 0.5 };
	struct rng r;
	struct rng_alias al;
	long counts[N] = { 0 }, acounts[N] = { 0 };
	double expected[N], chi;
	size_t i, k;
	int in_range = 1;

	for (i = 0; i < N; i++)
		expected[i] = DRAWS * w[i] / 10.0;

	rng_init(&r, 55, 0, 0);
	for (i = 0; i < DRAWS; i++) {
		k = rng_weighted(&r, w, N);
		if (k >= N)
			in_range = 0;
		else
			counts[k]++;
	}
	chi = chi_square(counts, expected, N);
	ok(in_range, "weighted choice stays in range");
	ok(chi < chi_bound(3), "weighted frequencies match weights "
	    "(chi-square %.2f, df 3)", chi);
	ok(counts[1] == 0 && counts[4] == 0, "zero weights never chosen");
	is_int((long long)rng_weighted(&r, zeros, 3), 3,
	    "weighted choice with no positive weight returns n");

	ok(rng_alias_init(&al, w, N) == 0, "alias table builds");
	for (i = 0, in_range = 1; i < DRAWS; i++) {
		k = rng_alias_sample(&al, &r);
		if (k >= N)
			in_range = 0;
		else
			acounts[k]++;
	}
	chi = chi_square(acounts, expected, N);
	ok(in_range, "alias samples stay in range");
	ok(chi < chi_bound(3), "alias frequencies match weights "
	    "(chi-square %.2f, df 3)", chi);
	ok(acounts[1] == 0 && acounts[4] == 0,
	    "alias table never picks a zero weight");
	rng_alias_release(&al);

	/* many tiny weights and one huge: the rounding leftovers */
	{
		enum { M = 1000 };
		double *mw = xmalloc(M * sizeof *mw);
		long hits = 0, zero_hits = 0;

		for (i = 0; i < M; i++)
			mw[i] = i % 3 == 0 ? 0 : (i == 500 ? 1e6 : 1e-3 * i);
		ok(rng_alias_init(&al, mw, M) == 0, "alias table of %d", M);
		for (i = 0; i < 200000; i++) {
			k = rng_alias_sample(&al, &r);
			if (k == 500)
				hits++;
			if (mw[k] == 0)
				zero_hits++;
		}
		ok(zero_hits == 0 && hits > 190000, "skewed alias table: "
		    "heavy column %ld of 200000, zero columns %ld", hits,
		    zero_hits);
		rng_alias_release(&al);
		free(mw);
	}

	ok(rng_alias_init(&al, one, 1) == 0 && rng_alias_sample(&al, &r) == 0,
	    "alias table of one");
	rng_alias_release(&al);

	ok(rng_alias_init(&al, zeros, 3) == -1 && al.prob == NULL,
	    "alias table rejects all-zero weights");
	is_str(loam_error(), "alias table: all 3 weights are zero",
	    "all-zero message");
	ok(rng_alias_init(&al, bad, 3) == -1, "alias table rejects "
	    "a negative weight");
	is_str(loam_error(), "alias table: weight 1 is -1, not a finite "
	    "non-negative number", "negative weight message");
	ok(rng_alias_init(&al, w, 0) == -1, "alias table rejects n = 0");
	rng_alias_release(&al);
}

static void
test_jump(void)
{
	struct rng a, b, c;
	int i, differ = 1;

	rng_init(&a, 1, 0, 0);
	b = a;
	rng_jump(&b);
	c = a;
	rng_jump(&c);
	ok(memcmp(b.s, c.s, sizeof b.s) == 0, "jump is deterministic");
	for (i = 0; i < 1000; i++)
		if (rng_next(&a) == rng_next(&b))
			differ = 0;
	ok(differ, "jumped stream differs from the original");

	/* jumping is a polynomial in the step: it commutes with it */
	rng_init(&a, 2, 0, 0);
	b = a;
	rng_jump(&a);
	rng_next(&a);
	rng_next(&b);
	rng_jump(&b);
	ok(memcmp(a.s, b.s, sizeof a.s) == 0, "jump commutes with next");
	rng_init(&a, 3, 0, 0);
	rng_normal(&a);
	rng_jump(&a);
	ok(!a.has_normal_spare, "jump drops a pending normal");
}

/* The registry (rng.h): within a program, no two uses of the user's seed
 * share a stream, so no two share a generator. */
static void
test_registry(void)
{
	int good = 1, overlap = 0;

	for (size_t i = 0; i < rng_nuses; i++) {
		const struct rng_use *a = &rng_uses[i];

		if (a->count == 0 || a->first + a->count <= a->first || a->programs == 0)
			good = 0;
		for (size_t j = i + 1; j < rng_nuses; j++) {
			const struct rng_use *b = &rng_uses[j];

			if (strcmp(a->name, b->name) == 0)
				good = 0;
			if (!(a->programs & b->programs) || a->own_seed || b->own_seed)
				continue;
			if (a->first < b->first + b->count && b->first < a->first + a->count) {
				diag("rng streams of '%s' and '%s' overlap", a->name, b->name);
				overlap++;
			}
		}
	}
	ok(good, "rng registry: %zu uses, each named once with a non-empty range", rng_nuses);
	ok(overlap == 0, "rng registry: no two uses in one program share a stream");
}

int
main(void)
{
	test_registry();
	test_known_answers();
	test_documented_draws();
	test_determinism();
	test_substreams();
	test_uniform_int();
	test_uniform_real();
	test_normal();
	test_shuffle();
	test_weighted();
	test_jump();
	{
		/* rng_permute is a bijection of [0, n) for awkward n too. */
		static const uint64_t sizes[] = { 1, 2, 3, 7, 1000, 65537, 100003 };
		for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
			uint64_t n = sizes[z], moved = 0;
			unsigned char *seen = calloc(n, 1);
			int bad = 0;
			for (uint64_t i = 0; i < n; i++) {
				uint64_t p = rng_permute(i, n, 42, 1);
				if (p >= n || seen[p]++)
					bad++;
				moved += p != i;
			}
			ok(!bad && (n < 8 || moved > n / 2), "rng_permute is a permutation of [0, %llu)",
			    (unsigned long long)n);
			free(seen);
		}
		ok(rng_permute(5, 1000, 42, 1) != rng_permute(5, 1000, 43, 1) ||
		    rng_permute(6, 1000, 42, 1) != rng_permute(6, 1000, 43, 1),
		    "rng_permute depends on the seed");
		ok(rng_permute(5, 1000, 42, 1) == rng_permute(5, 1000, 42, 1), "and is deterministic");
	}
	return tap_done();
}
