/* reservoir - see reservoir.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reservoir.h"
#include "util.h"

static struct reservoir_item *
item_new(const char *s, size_t len)
{
	struct reservoir_item *it = xmalloc(sizeof *it + len);

	it->refs = 1;
	it->len = len;
	memcpy(it->text, s, len);
	return it;
}

static void
item_put(struct reservoir_item *it)
{
	if (it && --it->refs == 0)
		free(it);
}

static double
uniform_open0(struct rng *r)
{
	/* (0, 1]: 1 - [0, 1). */
	return 1.0 - rng_uniform(r);
}

static void
heap_down(struct reservoir *rv, uint64_t i)
{
	uint64_t n = rv->cap;

	for (;;) {
		uint64_t l = 2 * i + 1, m = i;

		if (l < n && rv->next[rv->heap[l]] < rv->next[rv->heap[m]])
			m = l;
		if (l + 1 < n && rv->next[rv->heap[l + 1]] < rv->next[rv->heap[m]])
			m = l + 1;
		if (m == i)
			return;
		uint32_t t = rv->heap[i];
		rv->heap[i] = rv->heap[m];
		rv->heap[m] = t;
		i = m;
	}
}

void
reservoir_init(struct reservoir *rv, uint64_t cap, int replace, const struct rng *rng)
{
	memset(rv, 0, sizeof *rv);
	rv->cap = cap;
	rv->slot = xcalloc(cap ? cap : 1, sizeof *rv->slot);
	rv->rng = *rng;
	if (replace) {
		rv->next = xcalloc(cap ? cap : 1, sizeof *rv->next);
		rv->heap = xcalloc(cap ? cap : 1, sizeof *rv->heap);
		for (uint64_t i = 0; i < cap; i++) {
			rv->next[i] = 1;	/* the first record fills every slot */
			rv->heap[i] = (uint32_t)i;
		}
	}
}

void
reservoir_offer(struct reservoir *rv, const char *text, size_t len)
{
	struct reservoir_item *it = NULL;

	rv->seen++;
	if (rv->cap == 0)
		return;
	if (rv->heap) {
		while (rv->next[rv->heap[0]] == rv->seen) {
			uint32_t s = rv->heap[0];
			double next = floor((double)rv->seen / uniform_open0(&rv->rng)) + 1;

			if (!it)
				it = item_new(text, len);
			else
				it->refs++;
			item_put(rv->slot[s]);
			rv->slot[s] = it;
			rv->next[s] = next >= 1.8e19 ? UINT64_MAX : (uint64_t)next;
			heap_down(rv, 0);
		}
		return;
	}
	if (rv->seen <= rv->cap) {
		rv->slot[rv->seen - 1] = item_new(text, len);
		return;
	}
	uint64_t j = rng_uniform_int(&rv->rng, rv->seen);
	if (j < rv->cap) {
		item_put(rv->slot[j]);
		rv->slot[j] = item_new(text, len);
	}
}

uint64_t
reservoir_filled(const struct reservoir *rv)
{
	if (rv->heap)
		return rv->seen ? rv->cap : 0;
	return rv->seen < rv->cap ? rv->seen : rv->cap;
}

void
reservoir_release(struct reservoir *rv)
{
	if (rv->slot)
		for (uint64_t i = 0; i < rv->cap; i++)
			item_put(rv->slot[i]);
	free(rv->slot);
	free(rv->next);
	free(rv->heap);
	memset(rv, 0, sizeof *rv);
}
