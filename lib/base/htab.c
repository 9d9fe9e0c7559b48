/* htab - see htab.h, which also specifies the file format. */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Inline XXH3: key hashing is on the hot path of every counting tool,
 * and inlining needs no link flag (research/ecosystem.md §4). */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "htab.h"
#include "le.h"
#include "util.h"

#define MIN_CAPACITY	8
#define HEADER_SIZE	24
#define CHECKSUM_SIZE	8
#define HUGE_PAGE	((size_t)2 << 20)
#define PREFETCH_AHEAD	16

static const unsigned char htab_magic[8] = {
	0x89, 'L', 'O', 'A', 'M', 'H', 'T', 0x0a
};

struct htab {
	uint64_t *slots;	/* capacity slots of stride words each */
	int slots_mapped;	/* slots came from mmap(), not malloc() */
	size_t capacity;	/* a power of two */
	size_t mask;		/* capacity - 1 */
	unsigned shift;		/* 64 - log2(capacity), for home() */
	size_t scatter;		/* odd step of the iteration order */
	size_t used;		/* occupied array slots (not key 0) */
	size_t grow_at;		/* most used before the array doubles */
	size_t stride;		/* slot size in 64-bit words */
	size_t payload_size;
	uint64_t *zero_slot;	/* key 0's: in the array 0 means empty */
	int has_zero;
};

uint64_t
htab_hash(const void *key, size_t len, uint64_t seed)
{
	return XXH3_64bits_withSeed(key, len, seed);
}

static inline struct htab_slot *
slot_at(const struct htab *h, size_t i)
{
	return (struct htab_slot *)(h->slots + i * h->stride);
}

/* Fibonacci hashing: the top bits of key times 2^64/phi.  Cheap, and it
 * spreads keys that are not well mixed (small integers, values that
 * differ only in high bits), which a plain mask would pile into one run.
 * Taking top bits also keeps growth streaming: slot i of the old array
 * moves to about 2i in the new one. */
static inline size_t
home_at(uint64_t key, unsigned shift)
{
	return (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> shift);
}

static inline size_t
home(const struct htab *h, uint64_t key)
{
	return home_at(key, h->shift);
}

/* A probe into a table bigger than the caches waits on memory; asking
 * for the home slot of a key some places ahead lets those waits overlap.
 * Only a hint: if the table grows in between, one fetch is wasted. */
static inline void
prefetch_home(const struct htab *h, uint64_t key)
{
#if defined(__GNUC__)
	__builtin_prefetch(h->slots + home(h, key) * h->stride, 1);
#else
	(void)h;
	(void)key;
#endif
}

static inline void
prefetch_slot(const struct htab *h, size_t i)
{
#if defined(__GNUC__)
	__builtin_prefetch(h->slots + i * h->stride, 0);
#else
	(void)h;
	(void)i;
#endif
}

static inline uint64_t
saturating_add(uint64_t a, uint64_t b)
{
	uint64_t sum = a + b;

	return sum < a ? UINT64_MAX : sum;
}

/* The smallest power of two that holds expect entries under the load
 * limit.  Past the largest power of two it stops, and the allocation
 * then fails as out of memory, which it would be. */
static size_t
capacity_for(size_t expect)
{
	size_t cap = MIN_CAPACITY;

	while (cap / 4 * 3 < expect && cap <= SIZE_MAX / 2)
		cap *= 2;
	return cap;
}

/* Zeroed slot arrays.  Small ones come from malloc().  From 2 MiB up
 * they are mapped afresh, 2 MiB aligned, and marked for transparent huge
 * pages: growing touches every page of a new array at once, and 4 KiB
 * page faults were a third of htab_bench's time; huge pages also spare
 * the TLB on random probes.  A fresh mapping is zero already, and never
 * a stretch of heap that earlier mallocs faulted in with small pages.
 * Where THP is off or absent the madvise() fails harmlessly. */
static size_t
mapped_size(size_t bytes)
{
	return (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
}

static uint64_t *
alloc_slots(size_t bytes, int *mapped)
{
	void *p;

#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE)
	if (bytes >= HUGE_PAGE && bytes <= SIZE_MAX / 2) {
		size_t len = mapped_size(bytes) + HUGE_PAGE, head;
		unsigned char *map = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (map != MAP_FAILED) {
			/* keep the aligned middle, give back both ends */
			head = (HUGE_PAGE - (uintptr_t)map % HUGE_PAGE) %
			    HUGE_PAGE;
			if (head > 0)
				munmap(map, head);
			munmap(map + head + mapped_size(bytes),
			    HUGE_PAGE - head);
			(void)madvise(map + head, mapped_size(bytes),
			    MADV_HUGEPAGE);
			*mapped = 1;
			return (uint64_t *)(void *)(map + head);
		}
	}
#endif
	*mapped = 0;
	p = xmalloc(bytes);
	return memset(p, 0, bytes);
}

static void
free_slots(uint64_t *slots, size_t bytes, int mapped)
{
	if (mapped)
		munmap(slots, mapped_size(bytes));
	else
		free(slots);
}

static size_t
slots_size(const struct htab *h)
{
	return h->capacity * h->stride * sizeof *h->slots;
}

static void
set_capacity(struct htab *h, size_t cap)
{
	unsigned bits = 0;

	while (((size_t)1 << bits) < cap)
		bits++;
	/* past this, calloc() would fail too: let it say out of memory */
	if (cap > SIZE_MAX / (h->stride * sizeof *h->slots))
		(void)xcalloc(cap, h->stride * sizeof *h->slots);
	h->capacity = cap;
	h->slots = alloc_slots(slots_size(h), &h->slots_mapped);
	h->mask = cap - 1;
	h->shift = 64 - bits;
	/* odd, so k * scatter visits every slot once; near cap/phi, so
	 * the visits spread evenly (cap is a power of two: exact) */
	h->scatter = (size_t)((double)cap * 0.6180339887498949) | 1;
	h->grow_at = cap / 4 * 3;
}

/* Move every entry into a zeroed array of capacity cap.  Old slots are
 * read in array order, so the new layout depends only on the old one,
 * and the writes advance through the new array in step with the reads. */
static void
rehash(struct htab *h, size_t cap)
{
	uint64_t *old = h->slots, *from, *to;
	size_t old_cap = h->capacity, old_size = slots_size(h);
	size_t stride = h->stride, i, j;
	int old_mapped = h->slots_mapped;

	set_capacity(h, cap);
	for (i = 0, from = old; i < old_cap; i++, from += stride) {
		if (from[0] == 0)
			continue;
		for (j = home(h, from[0]); h->slots[j * stride] != 0;
		    j = (j + 1) & h->mask)
			;
		to = h->slots + j * stride;
		to[0] = from[0];
		to[1] = from[1];
		if (stride > 2)
			memcpy(to + 2, from + 2, (stride - 2) * sizeof *to);
	}
	free_slots(old, old_size, old_mapped);
}

struct htab *
htab_new(size_t payload_size, size_t expect)
{
	struct htab *h;

	if (payload_size > HTAB_PAYLOAD_MAX) {
		loam_seterr("hash table payload of %zu bytes is over the "
		    "limit of %d", payload_size, HTAB_PAYLOAD_MAX);
		return NULL;
	}
	h = xcalloc(1, sizeof *h);
	h->payload_size = payload_size;
	/* payloads round up to whole words: keys and counts stay aligned */
	h->stride = 2 + (payload_size + 7) / 8;
	h->zero_slot = xcalloc(h->stride, sizeof *h->zero_slot);
	set_capacity(h, capacity_for(expect));
	return h;
}

void
htab_free(struct htab *h)
{
	if (!h)
		return;
	free_slots(h->slots, slots_size(h), h->slots_mapped);
	free(h->zero_slot);
	free(h);
}

size_t
htab_count(const struct htab *h)
{
	return h->used + (h->has_zero ? 1 : 0);
}

size_t
htab_payload_size(const struct htab *h)
{
	return h->payload_size;
}

void
htab_reserve(struct htab *h, size_t expect)
{
	size_t cap = capacity_for(expect);

	if (cap > h->capacity)
		rehash(h, cap);
}

void
htab_populate(struct htab *h)
{
	volatile unsigned char *p = (volatile unsigned char *)h->slots;
	size_t len;

	if (!h->slots_mapped)
		return;		/* malloc()ed and zeroed: touched already */
	len = mapped_size(slots_size(h));
#ifdef MADV_POPULATE_WRITE
	/* Linux 5.14 on: the kernel faults the range in writable, huge
	 * pages where the advice above got them. */
	if (madvise((void *)h->slots, len, MADV_POPULATE_WRITE) == 0)
		return;
#endif
	/* Else a write per small page; the array is all zeros, so writing
	 * a zero changes nothing. */
	for (size_t off = 0; off < len; off += 4096)
		p[off] = 0;
}

void
htab_prefetch(const struct htab *h, uint64_t key)
{
	prefetch_slot(h, home(h, key));
}

struct htab_slot *
htab_lookup(const struct htab *h, uint64_t key)
{
	struct htab_slot *s;
	size_t i;

	if (key == 0)
		return h->has_zero ? (struct htab_slot *)h->zero_slot : NULL;
	for (i = home(h, key);; i = (i + 1) & h->mask) {
		s = slot_at(h, i);
		if (s->key == key)
			return s;
		if (s->key == 0)
			return NULL;
	}
}

struct htab_slot *
htab_insert(struct htab *h, uint64_t key, int *is_new)
{
	struct htab_slot *s;
	size_t i;

	if (key == 0) {
		if (is_new)
			*is_new = !h->has_zero;
		h->has_zero = 1;
		return (struct htab_slot *)h->zero_slot;
	}
	for (i = home(h, key);; i = (i + 1) & h->mask) {
		s = slot_at(h, i);
		if (s->key == key) {
			if (is_new)
				*is_new = 0;
			return s;
		}
		if (s->key == 0)
			break;
	}
	/* Grow only for a key that is really new, so that finding an
	 * existing key never moves slots. */
	if (h->used >= h->grow_at) {
		rehash(h, h->capacity * 2);
		for (i = home(h, key); slot_at(h, i)->key != 0;
		    i = (i + 1) & h->mask)
			;
		s = slot_at(h, i);
	}
	/* Empty slots are all zero (nothing is ever removed), so count and
	 * payload start at zero already. */
	s->key = key;
	h->used++;
	if (is_new)
		*is_new = 1;
	return s;
}

uint64_t
htab_add(struct htab *h, uint64_t key, uint64_t delta)
{
	struct htab_slot *s = htab_insert(h, key, NULL);

	s->count = saturating_add(s->count, delta);
	return s->count;
}

void
htab_add_batch(struct htab *h, const uint64_t *keys, const uint64_t *deltas,
    size_t n)
{
	/* The table's fields in locals: stores into slots could alias them
	 * (all are 64-bit integers), and reloading them costs a fifth of
	 * the time when the table is in cache. */
	uint64_t *slots = h->slots, *s, key, delta;
	size_t mask = h->mask, stride = h->stride, used = h->used;
	size_t grow_at = h->grow_at, i, j;
	unsigned shift = h->shift;

	for (i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n) {
#if defined(__GNUC__)
			__builtin_prefetch(slots +
			    home_at(keys[i + PREFETCH_AHEAD], shift) * stride, 1);
#endif
		}
		key = keys[i];
		delta = deltas ? deltas[i] : 1;
		/* htab_add() inlined for the common cases, the key there or
		 * new without growth: the same probes and slots, so the same
		 * table as htab_add() in a loop would make. */
		if (key == 0)
			goto slow;
		for (j = home_at(key, shift);; j = (j + 1) & mask) {
			s = slots + j * stride;
			if (s[0] == key) {
				s[1] = saturating_add(s[1], delta);
				break;
			}
			if (s[0] == 0) {
				if (used >= grow_at)
					goto slow;
				s[0] = key;
				s[1] = delta;
				used++;
				break;
			}
		}
		continue;
slow:
		h->used = used;
		htab_add(h, key, delta);
		slots = h->slots;
		mask = h->mask;
		shift = h->shift;
		used = h->used;
		grow_at = h->grow_at;
	}
	h->used = used;
}

/* Slot k of the iteration order.  Array order would hand out keys sorted
 * by home, and inserting them so into another table (a copy, a merge)
 * fills it front to back: with a smaller table every key so far lands in
 * its first stretch, one cluster, quadratic time.  The scattered order
 * spreads each prefix of the iteration evenly over any table. */
static inline size_t
scattered(const struct htab *h, size_t k)
{
	return (k * h->scatter) & h->mask;
}

struct htab_slot *
htab_next(const struct htab *h, size_t *cursor)
{
	struct htab_slot *s;
	size_t k;

	/* cursor 0 is key 0's side slot; cursor k + 1 is step k */
	if (*cursor == 0) {
		*cursor = 1;
		if (h->has_zero)
			return (struct htab_slot *)h->zero_slot;
	}
	for (k = *cursor - 1; k < h->capacity; k++) {
		prefetch_slot(h, scattered(h, k + PREFETCH_AHEAD));
		s = slot_at(h, scattered(h, k));
		if (s->key != 0) {
			*cursor = k + 2;
			return s;
		}
	}
	*cursor = h->capacity + 1;
	return NULL;
}

static void
merge_slot(struct htab *dst, const struct htab_slot *from, size_t payload)
{
	struct htab_slot *to;
	int is_new;

	to = htab_insert(dst, from->key, &is_new);
	to->count = saturating_add(to->count, from->count);
	if (is_new)
		memcpy(to->payload, from->payload, payload);
}

int
htab_merge(struct htab *dst, const struct htab *src)
{
	size_t k;

	if (dst->payload_size != src->payload_size)
		return loam_seterr("cannot merge hash tables with payloads "
		    "of %zu and %zu bytes", dst->payload_size,
		    src->payload_size);
	/* the result holds at least the larger table: grow once, now */
	htab_reserve(dst, htab_count(src) > htab_count(dst) ?
	    htab_count(src) : htab_count(dst));
	/* htab_next()'s order, with a two-stage prefetch: src's slot far
	 * ahead, so that its key is at hand to prefetch dst's slot when
	 * near */
	if (src->has_zero)
		merge_slot(dst, (const struct htab_slot *)src->zero_slot,
		    src->payload_size);
	for (k = 0; k < src->capacity; k++) {
		prefetch_slot(src, scattered(src, k + 2 * PREFETCH_AHEAD));
		prefetch_home(dst, slot_at(src, scattered(src,
		    k + PREFETCH_AHEAD))->key);
		if (slot_at(src, scattered(src, k))->key != 0)
			merge_slot(dst, slot_at(src, scattered(src, k)),
			    src->payload_size);
	}
	return 0;
}

/* ---- the file format ---- */

static int
compare_slot_keys(const void *a, const void *b)
{
	uint64_t x = (*(const struct htab_slot *const *)a)->key;
	uint64_t y = (*(const struct htab_slot *const *)b)->key;

	return (x > y) - (x < y);
}

/* Bytes go through one buffer that feeds both the checksum and the
 * stream, so the file is hashed exactly as written. */
struct writer {
	FILE *fp;
	XXH3_state_t *hash;
	unsigned char *buf;
	size_t len;
	int failed;
};

#define WRITER_BUFSIZE	(1 << 16)

static void
writer_flush(struct writer *w)
{
	if (w->len == 0 || w->failed)
		return;
	(void)XXH3_64bits_update(w->hash, w->buf, w->len);
	if (fwrite(w->buf, 1, w->len, w->fp) != w->len)
		w->failed = 1;
	w->len = 0;
}

static void
writer_put(struct writer *w, const void *p, size_t n)
{
	const unsigned char *bytes = p;
	size_t chunk;

	while (n > 0) {
		if (w->len == WRITER_BUFSIZE)
			writer_flush(w);
		chunk = WRITER_BUFSIZE - w->len;
		if (chunk > n)
			chunk = n;
		memcpy(w->buf + w->len, bytes, chunk);
		w->len += chunk;
		bytes += chunk;
		n -= chunk;
	}
}

int
htab_write(const struct htab *h, FILE *fp, const char *name)
{
	/* On the stack: XXH3_state_t wants 64-byte alignment, which
	 * malloc() does not promise. */
	XXH3_state_t hash;
	struct writer w = { fp, &hash, NULL, 0, 0 };
	struct htab_slot **sorted, *s;
	unsigned char header[HEADER_SIZE], entry[16], sum[CHECKSUM_SIZE];
	size_t n = htab_count(h), i = 0, cursor = 0;

	sorted = xreallocarray(NULL, n, sizeof *sorted);
	while ((s = htab_next(h, &cursor)) != NULL)
		sorted[i++] = s;
	qsort(sorted, n, sizeof *sorted, compare_slot_keys);

	w.buf = xmalloc(WRITER_BUFSIZE);
	(void)XXH3_64bits_reset(&hash);
	memcpy(header, htab_magic, sizeof htab_magic);
	le_put32(header + 8, HTAB_FORMAT_VERSION);
	le_put32(header + 12, (uint32_t)h->payload_size);
	le_put64(header + 16, (uint64_t)n);
	errno = 0;
	writer_put(&w, header, sizeof header);
	for (i = 0; i < n && !w.failed; i++) {
		le_put64(entry, sorted[i]->key);
		le_put64(entry + 8, sorted[i]->count);
		writer_put(&w, entry, sizeof entry);
		writer_put(&w, sorted[i]->payload, h->payload_size);
	}
	writer_flush(&w);
	le_put64(sum, XXH3_64bits_digest(&hash));
	if (!w.failed && fwrite(sum, 1, sizeof sum, fp) != sizeof sum)
		w.failed = 1;
	if (fflush(fp) != 0 || ferror(fp))
		w.failed = 1;
	free(sorted);
	free(w.buf);
	if (w.failed)
		return loam_seterr("%s: %s", name,
		    errno ? strerror(errno) : "write error");
	return 0;
}

static int
write_htab(FILE *fp, const char *name, void *h)
{
	return htab_write(h, fp, name);
}

int
htab_save(const struct htab *h, const char *path)
{
	return atomic_save(path, write_htab, (void *)h);
}

/* Read exactly n bytes into buf and hash them.  Returns 0, or -1 with
 * loam_error() set, saying which part of the file (what) was cut off. */
static int
read_hashed(FILE *fp, XXH3_state_t *hash, void *buf, size_t n,
    const char *name, const char *what)
{
	if (fread(buf, 1, n, fp) != n) {
		if (ferror(fp))
			return loam_seterr("%s: %s", name, strerror(errno));
		return loam_seterr("%s: truncated %s", name, what);
	}
	(void)XXH3_64bits_update(hash, buf, n);
	return 0;
}

/* Check the header; returns the payload size the file declares, or -1
 * with loam_error() set. */
static long
check_header(const unsigned char *header, size_t got, const char *name,
    size_t payload_size)
{
	uint32_t version, file_payload;

	if (got == 0)
		return loam_seterr("%s: empty file, not a loam hash table",
		    name);
	if (memcmp(header, htab_magic, got < sizeof htab_magic ? got :
	    sizeof htab_magic) != 0)
		return loam_seterr("%s: not a loam hash table (bad magic)",
		    name);
	if (got < HEADER_SIZE)
		return loam_seterr("%s: truncated header", name);
	version = le_get32(header + 8);
	file_payload = le_get32(header + 12);
	if (version != HTAB_FORMAT_VERSION)
		return loam_seterr("%s: hash table format version %lu, this "
		    "build reads version %d", name, (unsigned long)version,
		    HTAB_FORMAT_VERSION);
	if (file_payload > HTAB_PAYLOAD_MAX)
		return loam_seterr("%s: payload of %lu bytes is over the "
		    "limit of %d", name, (unsigned long)file_payload,
		    HTAB_PAYLOAD_MAX);
	if (payload_size != HTAB_PAYLOAD_ANY && file_payload != payload_size)
		return loam_seterr("%s: payload of %lu bytes, expected %zu",
		    name, (unsigned long)file_payload, payload_size);
	return (long)file_payload;
}

/* A regular file's remaining size must match the header exactly: this
 * catches truncation before any reading, and a corrupt entry count before
 * it can ask for a huge table.  Returns 1 when checked, 0 when fp is not
 * a seekable regular file, -1 with loam_error() set on a mismatch. */
static int
check_file_size(FILE *fp, const char *name, uint64_t n, size_t entry_size)
{
	struct stat st;
	off_t pos;
	uint64_t left, body;

	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	pos = ftello(fp);
	if (pos < 0 || pos > st.st_size)
		return 0;
	left = (uint64_t)(st.st_size - pos);
	body = left < CHECKSUM_SIZE ? 0 : left - CHECKSUM_SIZE;
	if (left < CHECKSUM_SIZE || n > body / entry_size)
		return loam_seterr("%s: truncated: %lld bytes, too few for "
		    "%llu entries", name, (long long)st.st_size,
		    (unsigned long long)n);
	if (n * entry_size != body)
		return loam_seterr("%s: %lld bytes, too many for %llu entries",
		    name, (long long)st.st_size, (unsigned long long)n);
	return 1;
}

struct htab *
htab_read(FILE *fp, const char *name, size_t payload_size)
{
	XXH3_state_t hash;	/* on the stack for its 64-byte alignment */
	unsigned char header[HEADER_SIZE], sum[CHECKSUM_SIZE], *entry;
	struct htab *h;
	struct htab_slot *s;
	uint64_t n, i, key, prev_key = 0, file_sum, content_sum;
	uint64_t unordered_at = 0;	/* entry 0 is never out of order */
	size_t got, entry_size, expect;
	long file_payload;
	int sized;

	got = fread(header, 1, sizeof header, fp);
	if (got < sizeof header && ferror(fp)) {
		loam_seterr("%s: %s", name, strerror(errno));
		return NULL;
	}
	file_payload = check_header(header, got, name, payload_size);
	if (file_payload < 0)
		return NULL;
	n = le_get64(header + 16);
	entry_size = 16 + (size_t)file_payload;
	sized = check_file_size(fp, name, n, entry_size);
	if (sized < 0)
		return NULL;
	/* an unchecked count (a pipe) gets a modest start and growth */
	expect = (sized || n < (1u << 20)) ? (size_t)n : (size_t)1 << 20;
	h = htab_new((size_t)file_payload, expect);
	entry = xmalloc(entry_size);
	(void)XXH3_64bits_reset(&hash);
	(void)XXH3_64bits_update(&hash, header, sizeof header);
	for (i = 0; i < n; i++) {
		if (read_hashed(fp, &hash, entry, entry_size, name,
		    "entries") != 0)
			goto fail;
		key = le_get64(entry);
		/* Keys must increase strictly: the format is canonical, and
		 * a duplicate would merge silently.  Reported only after
		 * the checksum, which names the likelier cause. */
		if (i > 0 && key <= prev_key && unordered_at == 0)
			unordered_at = i;
		prev_key = key;
		s = htab_insert(h, key, NULL);
		s->count = le_get64(entry + 8);
		memcpy(s->payload, entry + 16, (size_t)file_payload);
	}
	content_sum = XXH3_64bits_digest(&hash);
	if (fread(sum, 1, sizeof sum, fp) != sizeof sum) {
		if (ferror(fp))
			loam_seterr("%s: %s", name, strerror(errno));
		else
			loam_seterr("%s: truncated checksum", name);
		goto fail;
	}
	file_sum = le_get64(sum);
	if (file_sum != content_sum) {
		loam_seterr("%s: checksum mismatch (file says %016llx, "
		    "content hashes to %016llx)", name,
		    (unsigned long long)file_sum,
		    (unsigned long long)content_sum);
		goto fail;
	}
	if (unordered_at != 0) {
		loam_seterr("%s: entry %llu: keys out of order", name,
		    (unsigned long long)unordered_at);
		goto fail;
	}
	if (getc(fp) != EOF) {
		loam_seterr("%s: data after the checksum", name);
		goto fail;
	}
	if (ferror(fp)) {
		loam_seterr("%s: %s", name, strerror(errno));
		goto fail;
	}
	free(entry);
	return h;

fail:
	free(entry);
	htab_free(h);
	return NULL;
}

struct htab *
htab_load(const char *path, size_t payload_size)
{
	struct htab *h;
	FILE *fp = fopen(path, "rb");

	if (!fp) {
		loam_seterr("%s: %s", path, strerror(errno));
		return NULL;
	}
	h = htab_read(fp, path, payload_size);
	fclose(fp);
	return h;
}
