/*
 * strtab.c - interned strings (see strtab.h).
 */
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "strtab.h"
#include "util.h"

struct strtab {
	char *arena;		/* the strings, each NUL-terminated */
	size_t arena_len, arena_cap;
	size_t *start;		/* by id: offset in the arena */
	uint32_t *len;		/* by id: length */
	size_t n, cap;
	uint32_t *slot;		/* ids; STRTAB_NONE where empty */
	size_t mask;
};

struct strtab *
strtab_new(void)
{
	struct strtab *t = xcalloc(1, sizeof *t);

	t->mask = 1023;
	t->slot = xreallocarray(NULL, t->mask + 1, sizeof *t->slot);
	memset(t->slot, 0xff, (t->mask + 1) * sizeof *t->slot);
	return t;
}

void
strtab_free(struct strtab *t)
{
	if (!t)
		return;
	free(t->arena);
	free(t->start);
	free(t->len);
	free(t->slot);
	free(t);
}

static size_t
home(const struct strtab *t, const char *s, size_t len)
{
	return (size_t)htab_hash(s, len, 0) & t->mask;
}

static size_t
probe(const struct strtab *t, const char *s, size_t len)
{
	size_t i = home(t, s, len);

	for (;; i = (i + 1) & t->mask) {
		uint32_t id = t->slot[i];

		if (id == STRTAB_NONE ||
		    (t->len[id] == len && memcmp(t->arena + t->start[id], s, len) == 0))
			return i;
	}
}

uint32_t
strtab_find(const struct strtab *t, const char *s, size_t len)
{
	return t->slot[probe(t, s, len)];
}

/* Double the slots at half full. */
static void
grow(struct strtab *t)
{
	free(t->slot);
	t->mask = t->mask * 2 + 1;
	t->slot = xreallocarray(NULL, t->mask + 1, sizeof *t->slot);
	memset(t->slot, 0xff, (t->mask + 1) * sizeof *t->slot);
	for (uint32_t id = 0; id < t->n; id++)
		t->slot[probe(t, t->arena + t->start[id], t->len[id])] = id;
}

uint32_t
strtab_intern(struct strtab *t, const char *s, size_t len)
{
	size_t i = probe(t, s, len);
	uint32_t id;

	if (t->slot[i] != STRTAB_NONE)
		return t->slot[i];
	/* 2^32 - 1 distinct strings would take over 50 GB here: the
	 * allocator gives out first. */
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->start = xreallocarray(t->start, t->cap, sizeof *t->start);
		t->len = xreallocarray(t->len, t->cap, sizeof *t->len);
	}
	if (t->arena_len + len + 1 > t->arena_cap) {
		while (t->arena_len + len + 1 > t->arena_cap)
			t->arena_cap = t->arena_cap ? 2 * t->arena_cap : 4096;
		t->arena = xrealloc(t->arena, t->arena_cap);
	}
	id = (uint32_t)t->n++;
	t->start[id] = t->arena_len;
	t->len[id] = (uint32_t)len;
	memcpy(t->arena + t->arena_len, s, len);
	t->arena[t->arena_len + len] = '\0';
	t->arena_len += len + 1;
	t->slot[i] = id;
	if (2 * t->n > t->mask)
		grow(t);
	return id;
}

const char *
strtab_str(const struct strtab *t, uint32_t id, size_t *len)
{
	if (len)
		*len = t->len[id];
	return t->arena + t->start[id];
}

size_t
strtab_count(const struct strtab *t)
{
	return t->n;
}
