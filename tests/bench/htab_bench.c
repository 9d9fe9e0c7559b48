/*
 * htab_bench - inserts of 1M distinct pre-hashed keys into a fresh
 * lib/htab table (default capacity, so every doubling is paid), against
 * the same inserts into a textbook chained hash table: an array of bucket
 * lists, one malloc'd node per key, doubling at load factor 1.  Median of
 * 5 runs each, measured in the same process on the same keys.
 *
 * The headline is htab_add(), one key at a time, the general path.
 * htab_add_batch(), which prefetches, is timed too and reported on
 * stderr with the other details.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"
#include "htab.h"
#include "rng.h"
#include "util.h"

#define NKEYS	1000000
#define RUNS	5
#define GOAL	20.0	/* M inserts/s */

/* ---- the baseline: a chained hash table as textbooks write it ---- */

struct chain_node {
	uint64_t key;
	uint64_t count;
	struct chain_node *next;
};

struct chain_table {
	struct chain_node **buckets;
	size_t nbuckets;	/* a power of two: keys are already hashes */
	size_t count;
};

static void
chain_init(struct chain_table *t)
{
	t->nbuckets = 8;
	t->buckets = xcalloc(t->nbuckets, sizeof *t->buckets);
	t->count = 0;
}

static void
chain_grow(struct chain_table *t)
{
	size_t n = t->nbuckets * 2, i;
	struct chain_node **b = xcalloc(n, sizeof *b), *node, *next;

	for (i = 0; i < t->nbuckets; i++) {
		for (node = t->buckets[i]; node; node = next) {
			next = node->next;
			node->next = b[node->key & (n - 1)];
			b[node->key & (n - 1)] = node;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

static void
chain_add(struct chain_table *t, uint64_t key, uint64_t delta)
{
	struct chain_node **head = &t->buckets[key & (t->nbuckets - 1)];
	struct chain_node *node;

	for (node = *head; node; node = node->next) {
		if (node->key == key) {
			node->count += delta;
			return;
		}
	}
	node = xmalloc(sizeof *node);
	node->key = key;
	node->count = delta;
	node->next = *head;
	*head = node;
	if (++t->count > t->nbuckets)
		chain_grow(t);
}

static void
chain_release(struct chain_table *t)
{
	struct chain_node *node, *next;
	size_t i;

	for (i = 0; i < t->nbuckets; i++) {
		for (node = t->buckets[i]; node; node = next) {
			next = node->next;
			free(node);
		}
	}
	free(t->buckets);
}

/* ---- timing ---- */

/* Each timing builds a fresh table from nothing and checks that it
 * holds every key, so no run can be optimised away or go wrong quietly. */
static double
time_htab_add(const uint64_t *keys)
{
	double t0 = bench_now(), dt;
	struct htab *h = htab_new(0, 0);
	size_t i, count;

	for (i = 0; i < NKEYS; i++)
		htab_add(h, keys[i], 1);
	dt = bench_now() - t0;
	count = htab_count(h);
	htab_free(h);
	if (count != NKEYS)
		fprintf(stderr, "htab_bench: htab_add: %zu keys, not %d\n",
		    count, NKEYS);
	return dt;
}

static double
time_htab_add_batch(const uint64_t *keys)
{
	double t0 = bench_now(), dt;
	struct htab *h = htab_new(0, 0);
	size_t count;

	htab_add_batch(h, keys, NULL, NKEYS);
	dt = bench_now() - t0;
	count = htab_count(h);
	htab_free(h);
	if (count != NKEYS)
		fprintf(stderr, "htab_bench: htab_add_batch: %zu keys, "
		    "not %d\n", count, NKEYS);
	return dt;
}

static double
time_chained(const uint64_t *keys)
{
	double t0 = bench_now(), dt;
	struct chain_table t;
	size_t i, count;

	chain_init(&t);
	for (i = 0; i < NKEYS; i++)
		chain_add(&t, keys[i], 1);
	dt = bench_now() - t0;
	count = t.count;
	chain_release(&t);
	if (count != NKEYS)
		fprintf(stderr, "htab_bench: chained: %zu keys, not %d\n",
		    count, NKEYS);
	return dt;
}

int
main(void)
{
	uint64_t *keys = xmalloc(NKEYS * sizeof *keys);
	double htab_s[RUNS], batch_s[RUNS], chain_s[RUNS];
	double htab_rate, batch_rate, chain_rate;
	struct rng r;
	size_t i;
	int run;

	rng_init(&r, 20240601, 0, 0);
	for (i = 0; i < NKEYS; i++)
		keys[i] = rng_next(&r);

	/* One untimed round first: the process's first touch of memory
	 * would cost whichever came first.  Then alternate, so that
	 * neither gets a quieter machine. */
	time_htab_add(keys);
	time_htab_add_batch(keys);
	time_chained(keys);
	for (run = 0; run < RUNS; run++) {
		htab_s[run] = time_htab_add(keys);
		batch_s[run] = time_htab_add_batch(keys);
		chain_s[run] = time_chained(keys);
		fprintf(stderr, "run %d: htab_add %.1f ms, htab_add_batch "
		    "%.1f ms, chained %.1f ms\n", run + 1, htab_s[run] * 1e3,
		    batch_s[run] * 1e3, chain_s[run] * 1e3);
	}
	htab_rate = NKEYS / bench_median(htab_s, RUNS) / 1e6;
	batch_rate = NKEYS / bench_median(batch_s, RUNS) / 1e6;
	chain_rate = NKEYS / bench_median(chain_s, RUNS) / 1e6;
	fprintf(stderr, "median of %d: htab_add %.1f ns/insert, "
	    "htab_add_batch %.1f ns/insert (%.1f M/s), chained %.1f "
	    "ns/insert\n", RUNS, 1e3 / htab_rate, 1e3 / batch_rate,
	    batch_rate, 1e3 / chain_rate);
	printf("htab insert 1M distinct keys: %.1f M/s one at a time, %.1f M/s "
	    "batched (baseline chained hash table: %.1f M/s; ratio %.2fx and "
	    "%.2fx; goal >= %.0f M/s)\n", htab_rate, batch_rate, chain_rate,
	    htab_rate / chain_rate, batch_rate / chain_rate, GOAL);
	free(keys);
	return 0;
}
