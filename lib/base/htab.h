/*
 * htab - open-addressing hash table keyed by 64-bit hashes, with a count
 * and an optional fixed-size payload per key; savable and mergeable.
 *
 * Keys are already hashes (htab_hash() makes them from bytes), so the
 * table stores no key bytes: 16 bytes a slot plus the payload.  Every
 * 64-bit value is a valid key, 0 and UINT64_MAX included.  Counts are
 * integers and add with saturation at UINT64_MAX, so a merge can never
 * wrap a hot key round to a small count.
 *
 * Layout: linear probing over a power-of-two array, home slot
 * (key * 0x9e3779b97f4a7c15) >> (64 - log2 capacity), so that keys that
 * are not well mixed (small integers) still spread; the array doubles
 * when it would pass 3/4 full.  Empty slots hold key 0, and the real key
 * 0 lives in a slot of its own beside the array.  There is no removal.
 * The layout is internal: only files are a format.
 *
 * Slot pointers returned by htab_lookup(), htab_insert() and htab_next()
 * stay valid until the next call that can add a key to the same table
 * (htab_insert, htab_add, htab_add_batch, htab_merge into it,
 * htab_reserve): growing moves every slot.  Through them the caller may
 * change count and payload, never key.
 *
 * File format, version 1 (all integers little-endian):
 *
 *	offset	size	field
 *	0	8	magic: 0x89 'L' 'O' 'A' 'M' 'H' 'T' 0x0a
 *	8	4	format version: 1
 *	12	4	payload size P in bytes
 *	16	8	number of entries N
 *	24	N*(16+P) entries in strictly increasing key order, each:
 *			key (8), count (8), payload (P bytes, as stored)
 *	24+N*(16+P) 8	XXH3_64bits, seed 0, of every byte before it
 *
 * Sorting by key makes the file a function of the table's content alone:
 * equal tables give byte-identical files whatever their insertion order
 * or capacity, so files can be compared with cmp(1) and cached by hash.
 * The magic's first byte catches 7-bit transfers, its last byte newline
 * translation.  Payload bytes are written as they are in memory: a caller
 * whose payload holds numbers and who wants the file to be portable
 * across byte orders stores them little-endian.
 */
#ifndef LOAM_HTAB_H
#define LOAM_HTAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HTAB_FORMAT_VERSION	1
/* Payloads are for a few numbers per key, not for records. */
#define HTAB_PAYLOAD_MAX	4096
/* For htab_read()/htab_load(): accept whatever payload size the file has. */
#define HTAB_PAYLOAD_ANY	SIZE_MAX

struct htab_slot {
	uint64_t key;
	uint64_t count;
	unsigned char payload[];	/* payload_size bytes, 8-byte aligned */
};

struct htab;

/* XXH3_64bits_withSeed(key, len, seed): the hash loam persists, frozen
 * since xxHash 0.8.0. */
uint64_t htab_hash(const void *key, size_t len, uint64_t seed);

/* A new, empty table whose slots carry payload_size bytes (0 for none),
 * with room for expect entries before it first grows (0: a small
 * default).  Returns NULL with loam_error() set when payload_size is over
 * HTAB_PAYLOAD_MAX.  Free with htab_free(). */
struct htab *htab_new(size_t payload_size, size_t expect);
void htab_free(struct htab *h);

/* Entries in the table. */
size_t htab_count(const struct htab *h);
size_t htab_payload_size(const struct htab *h);
/* Grow now so that expect entries fit without growing later. */
void htab_reserve(struct htab *h, size_t expect);
/* Fault the slot array's memory in now (a big array is mapped lazily, and
 * its first touches, page by page, would otherwise stall the first pass
 * of inserts: on a fresh virtual machine most of the time of counting
 * 10^8 new keys).  Only what is there now: a later growth maps afresh. */
void htab_populate(struct htab *h);

/* A hint that key will be looked up soon: its home slot is fetched into
 * the cache meanwhile.  Callers that know their keys some steps ahead
 * (a batch) overlap the memory waits of a table bigger than the caches. */
void htab_prefetch(const struct htab *h, uint64_t key);

/* The slot of key, or NULL when key is absent. */
struct htab_slot *htab_lookup(const struct htab *h, uint64_t key);
/* The slot of key, made with count 0 and a zeroed payload if absent;
 * *is_new (when is_new is not NULL) says which. */
struct htab_slot *htab_insert(struct htab *h, uint64_t key, int *is_new);
/* Add delta to key's count, inserting the key if absent; returns the new
 * count. */
uint64_t htab_add(struct htab *h, uint64_t key, uint64_t delta);

/* htab_add(h, keys[i], deltas ? deltas[i] : 1) for i = 0..n-1 in order,
 * giving the same table, but faster on tables bigger than the caches:
 * slots are prefetched a few keys ahead. */
void htab_add_batch(struct htab *h, const uint64_t *keys,
    const uint64_t *deltas, size_t n);

/* Iterate: start with *cursor = 0; each call returns the next slot, NULL
 * at the end.  Every entry comes exactly once, key 0 first if present,
 * then the array in a fixed scattered order: deterministic for a given
 * sequence of calls since htab_new(), neither sorted nor insertion order.
 * The scatter makes it safe to insert entries into another table in the
 * order they come (array order would cluster the other table). */
struct htab_slot *htab_next(const struct htab *h, size_t *cursor);

/* Add every count of src into dst (a key new to dst also takes src's
 * payload; a key already in dst keeps its own).  This is how count
 * tables from shards and workers combine.  Returns 0, or -1 with
 * loam_error() set when the payload sizes differ. */
int htab_merge(struct htab *dst, const struct htab *src);

/* Write h in the file format to fp, which the caller opened and closes;
 * name is for messages.  Returns 0, or -1 with loam_error() set. */
int htab_write(const struct htab *h, FILE *fp, const char *name);
/* Write h to path atomically: a temporary file in the same directory,
 * flushed to disk, then renamed over path.  On failure path is untouched
 * and the temporary file removed.  Returns 0, or -1 with loam_error()
 * set. */
int htab_save(const struct htab *h, const char *path);

/* Read a table from fp to its end, checking magic, version, payload size
 * (unless payload_size is HTAB_PAYLOAD_ANY), length, key order and
 * checksum.  Returns a new table, or NULL with loam_error() set. */
struct htab *htab_read(FILE *fp, const char *name, size_t payload_size);
/* htab_read() of the file at path. */
struct htab *htab_load(const char *path, size_t payload_size);

#ifdef __cplusplus
}
#endif

#endif
