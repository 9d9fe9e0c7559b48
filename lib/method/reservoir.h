/*
 * reservoir - a uniform sample of cap records from a stream of unknown
 * length, in one pass and memory proportional to the sample.
 *
 * Without replacement it is Algorithm R (Vitter 1985): the first cap
 * records fill the slots, and the t-th record (t > cap) replaces slot
 * j = uniform[0, t) when j < cap.  With replacement every slot is its own
 * reservoir of one, which record t takes over with probability 1/t;
 * rather than a draw per slot per record, each slot draws the index of
 * its next replacement, floor(t / u) + 1 for u uniform in (0, 1]
 * (P(no change up to j) = t / j), and a heap finds the slots due.
 *
 * A record is held as text (struct reservoir_item); with replacement one
 * record may fill several slots and is held once, counted.
 *
 *	struct reservoir rv;
 *	struct rng r;
 *	rng_init(&r, seed, RNG_..., i);
 *	reservoir_init(&rv, cap, replace, &r);
 *	for each record: reservoir_offer(&rv, text, len);
 *	for (i = 0; i < rv.cap; i++) if (rv.slot[i]) ... rv.slot[i]->text ...
 *	reservoir_release(&rv);
 *
 * The draws depend on the generator alone, so a sample is a function of
 * the generator's seed and the stream.  Out of memory ends the program
 * (util.h's x* allocators).
 */
#ifndef LOAM_RESERVOIR_H
#define LOAM_RESERVOIR_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A record's text, shared by the slots that hold it. */
struct reservoir_item {
	int refs;
	size_t len;
	char text[];
};

struct reservoir {
	struct reservoir_item **slot;	/* cap slots; NULL while empty */
	uint64_t cap;		/* < 2^32 */
	uint64_t seen;		/* records offered */
	uint64_t *next;		/* with replacement: each slot's next record */
	uint32_t *heap;		/* with replacement: slots ordered by next */
	struct rng rng;
};

/* An empty reservoir of cap slots drawing from a copy of *rng. */
void reservoir_init(struct reservoir *rv, uint64_t cap, int replace, const struct rng *rng);
void reservoir_release(struct reservoir *rv);

/* Offer the next record of the stream (its text is copied if kept). */
void reservoir_offer(struct reservoir *rv, const char *text, size_t len);

/* Slots filled: min(seen, cap) without replacement; cap or 0 with. */
uint64_t reservoir_filled(const struct reservoir *rv);

#ifdef __cplusplus
}
#endif

#endif
