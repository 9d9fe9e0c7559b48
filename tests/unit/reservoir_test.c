/*
 * reservoir_test - lib/method/reservoir and skillit_sample.c: Algorithm R
 * and the with-replacement reservoir keep what they should (everything
 * while the stream is short, nothing at cap 0) and sample uniformly
 * (inclusion frequencies over many seeds); a sample is a function of
 * the generator; skillit_round_counts() (exact and iid); and the
 * sampler's rounds, pinned to the draws skillit-mix made before the
 * sampler moved out of cmd/ (the registry's streams, RNG_SKILLIT_*).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reservoir.h"
#include "rng.h"
#include "skillit.h"
#include "tap.h"
#include "util.h"

static void
offer_ids(struct reservoir *rv, int first, int n)
{
	char text[32];

	for (int i = first; i < first + n; i++) {
		int len = snprintf(text, sizeof text, "%d", i);
		reservoir_offer(rv, text, (size_t)len);
	}
}

static int
id_of(const struct reservoir_item *it)
{
	char text[32];

	snprintf(text, sizeof text, "%.*s", (int)it->len, it->text);
	return atoi(text);
}

static void
test_short_streams(void)
{
	struct reservoir rv;
	struct rng r;
	int in_order = 1;

	rng_init(&r, 1, 2, 3);
	reservoir_init(&rv, 0, 0, &r);
	offer_ids(&rv, 0, 10);
	is_int((long long)reservoir_filled(&rv), 0, "cap 0 keeps nothing");
	is_int((long long)rv.seen, 10, "cap 0 still counts what it saw");
	reservoir_release(&rv);

	reservoir_init(&rv, 8, 0, &r);
	is_int((long long)reservoir_filled(&rv), 0, "empty before the first record");
	offer_ids(&rv, 0, 5);
	is_int((long long)reservoir_filled(&rv), 5, "a short stream is kept whole");
	for (int i = 0; i < 5; i++)
		in_order &= rv.slot[i] && id_of(rv.slot[i]) == i;
	ok(in_order && !rv.slot[5], "in its order, the other slots empty");
	offer_ids(&rv, 5, 100);
	is_int((long long)reservoir_filled(&rv), 8, "a long one fills the cap");
	reservoir_release(&rv);

	reservoir_init(&rv, 4, 1, &r);
	is_int((long long)reservoir_filled(&rv), 0, "with replacement: empty before a record");
	offer_ids(&rv, 7, 1);
	is_int((long long)reservoir_filled(&rv), 4, "one record fills every slot");
	ok(rv.slot[0] == rv.slot[3] && rv.slot[0]->refs == 4 && id_of(rv.slot[0]) == 7,
	    "held once, counted four times");
	reservoir_release(&rv);
	ok(rv.slot == NULL && rv.cap == 0, "release leaves a zeroed reservoir");
	reservoir_release(&rv);
	ok(1, "release twice is harmless");
}

/* Inclusion frequency of each of n records in a sample of cap over
 * trials seeds: cap / n for both kinds (with replacement, a slot holds
 * record i with probability 1 / n). */
static void
test_uniform(int replace)
{
	enum { N = 20, CAP = 5, TRIALS = 20000 };
	long hits[N] = { 0 };
	double worst = 0;

	for (int t = 0; t < TRIALS; t++) {
		struct reservoir rv;
		struct rng r;

		rng_init(&r, 42, 9, (uint64_t)t);
		reservoir_init(&rv, CAP, replace, &r);
		offer_ids(&rv, 0, N);
		for (int i = 0; i < CAP; i++)
			hits[id_of(rv.slot[i])]++;
		reservoir_release(&rv);
	}
	for (int i = 0; i < N; i++) {
		/* Per slot draw p = 1/N; a count's sd is about sqrt(T C p). */
		double want = (double)TRIALS * CAP / N;
		double z = fabs(hits[i] - want) / sqrt(want * (1 - 1.0 / N));

		if (z > worst)
			worst = z;
	}
	ok(worst < 4.5, "%s: every record kept cap/n of the time (worst %.2f sd)",
	    replace ? "with replacement" : "Algorithm R", worst);
}

static void
test_deterministic(void)
{
	struct reservoir a, b;
	struct rng r;
	int same = 1;

	rng_init(&r, 5, 6, 7);
	reservoir_init(&a, 10, 0, &r);
	reservoir_init(&b, 10, 0, &r);
	offer_ids(&a, 0, 1000);
	offer_ids(&b, 0, 1000);
	for (int i = 0; i < 10; i++)
		same &= id_of(a.slot[i]) == id_of(b.slot[i]);
	ok(same, "the same generator, the same sample");
	reservoir_release(&a);
	reservoir_release(&b);
}

static void
test_round_counts(void)
{
	const double p[3] = { 0.5, 0.3, 0.2 }, zero[2] = { 0, 0 };
	uint64_t c[3], d[3];

	ok(skillit_round_counts(p, 3, 101, 0, 0, 0, c) == 0 && c[0] == 50 && c[1] == 30 &&
	    c[2] == 21, "exact: floor(p n), the remainder to the last skill");
	ok(skillit_round_counts(zero, 2, 10, 0, 0, 0, c) == -1 &&
	    strcmp(loam_error(), "a round's weights sum to zero") == 0,
	    "weights summing to zero are refused");
	skillit_round_counts(p, 3, 10000, 1, 3, 1, c);
	skillit_round_counts(p, 3, 10000, 1, 3, 1, d);
	ok(c[0] + c[1] + c[2] == 10000 && memcmp(c, d, sizeof c) == 0,
	    "iid: n draws, the same for the same seed and round");
	ok(fabs(c[0] / 10000.0 - 0.5) < 0.03 && fabs(c[2] / 10000.0 - 0.2) < 0.03,
	    "iid: frequencies follow p (%llu %llu %llu)", (unsigned long long)c[0],
	    (unsigned long long)c[1], (unsigned long long)c[2]);
}

/* 100 records {"id":i,"skill":"s0"}, one round of 5 at seed 0: the ids,
 * in output order, that skillit-mix sample wrote before the sampler
 * moved into lib (and so the registry's streams). */
static void
test_sampler_golden(int replace, const int *want)
{
	struct skillit_sample ss;
	struct reservoir_item **all;
	uint64_t count = 5;
	char text[64];
	size_t m;
	int same = 1;

	skillit_sample_init(&ss, 1, 1, &count, replace, 0);
	for (int i = 0; i < 100; i++) {
		int len = snprintf(text, sizeof text, "{\"id\":%d,\"skill\":\"s0\"}", i);
		skillit_sample_offer(&ss, 0, text, (size_t)len);
	}
	all = skillit_sample_round(&ss, 0, &m);
	for (size_t i = 0; i < m && i < 5; i++) {
		int id = -1;

		sscanf(all[i]->text, "{\"id\":%d", &id);
		same &= id == want[i];
	}
	ok(m == 5 && same, "%s: the sample and order skillit-mix made before the move",
	    replace ? "with replacement" : "without");
	free(all);
	skillit_sample_release(&ss);
}

/* Two rounds over two skills: each (round, skill) keeps its count, a
 * record goes to every round, and a round's records are its reservoirs'
 * records. */
static void
test_sampler_rounds(void)
{
	struct skillit_sample ss;
	struct reservoir_item **all;
	const uint64_t count[4] = { 3, 0, 1, 2 };	/* round 0: s0 3, s1 0 */
	char text[32];
	size_t m0, m1;
	int skills_ok = 1;

	skillit_sample_init(&ss, 2, 2, count, 0, 9);
	for (int i = 0; i < 50; i++) {
		int len = snprintf(text, sizeof text, "%c%d", i % 2 ? 'b' : 'a', i);
		skillit_sample_offer(&ss, (size_t)(i % 2), text, (size_t)len);
	}
	is_int((long long)skillit_sample_at(&ss, 1, 1)->seen, 25, "every round sees a record");
	all = skillit_sample_round(&ss, 0, &m0);
	for (size_t i = 0; i < m0; i++)
		skills_ok &= all[i]->text[0] == 'a';
	free(all);
	all = skillit_sample_round(&ss, 1, &m1);
	ok(m0 == 3 && skills_ok && m1 == 3, "round sizes follow the counts, by skill");
	free(all);
	skillit_sample_release(&ss);
	skillit_sample_release(&ss);
	ok(1, "release twice is harmless");
}

int
main(void)
{
	static const int without[5] = { 0, 79, 53, 6, 71 };
	static const int with[5] = { 48, 21, 11, 68, 21 };

	test_short_streams();
	test_uniform(0);
	test_uniform(1);
	test_deterministic();
	test_round_counts();
	test_sampler_golden(0, without);
	test_sampler_golden(1, with);
	test_sampler_rounds();
	return tap_done();
}
