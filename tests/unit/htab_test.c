/*
 * htab_test - lib/htab: many keys through growth, the awkward keys,
 * payloads, merging, iteration, and the file format's round trip,
 * canonical bytes and every kind of damage.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "htab.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

static char tmpdir[128];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *
tmp_path(const char *name)
{
	static char path[256];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return path;
}

/* The whole file, for byte comparisons; *len gets its size. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf;
	long size;

	*len = 0;
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	buf = xmalloc((size_t)size + 1);
	*len = fread(buf, 1, (size_t)size, fp);
	fclose(fp);
	return buf;
}

static void
spew(const char *path, const unsigned char *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (fp) {
		fwrite(buf, 1, len, fp);
		fclose(fp);
	}
}

/* Files in tmpdir whose names start with prefix: leftover temporaries. */
static int
count_files(const char *prefix)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void
test_hash(void)
{
	ok(htab_hash("", 0, 0) == 0x2d06800538d394c2ULL,
	    "XXH3_64bits(\"\") = 2d06800538d394c2");
	ok(htab_hash("hello", 5, 0) == 0x9555e8555c62dcfdULL,
	    "XXH3_64bits(\"hello\") = 9555e8555c62dcfd");
	ok(htab_hash("hello", 5, 1) != htab_hash("hello", 5, 0),
	    "the seed changes the hash");
}

static void
test_many_keys(void)
{
	const char *san = getenv("LOAM_SANITIZE");
	size_t n = san && *san ? 1000000 : 10000000, i, missing = 0;
	size_t wrong = 0, found_absent = 0;
	struct htab *h = htab_new(0, 0);
	struct htab_slot *s;
	double t0, t_insert, t_lookup;

	if (san && *san)
		diag("LOAM_SANITIZE=%s: 1M keys instead of 10M", san);
	/* rng_mix64 is a bijection, so these keys are distinct; i = 0
	 * gives key 0 */
	t0 = now();
	for (i = 0; i < n; i++)
		htab_add(h, rng_mix64(i), i + 1);
	t_insert = now() - t0;
	is_int((long long)htab_count(h), (long long)n,
	    "%zu distinct keys inserted from the smallest table", n);

	t0 = now();
	for (i = 0; i < n; i++) {
		s = htab_lookup(h, rng_mix64(i));
		if (!s)
			missing++;
		else if (s->count != i + 1 || s->key != rng_mix64(i))
			wrong++;
	}
	t_lookup = now() - t0;
	is_int((long long)missing, 0, "every key found after growth");
	is_int((long long)wrong, 0, "every count intact after growth");
	for (i = n; i < n + n / 10; i++)
		if (htab_lookup(h, rng_mix64(i)))
			found_absent++;
	is_int((long long)found_absent, 0, "absent keys not found");
	diag("%zu keys: insert %.0f ns/key, lookup %.0f ns/key", n,
	    t_insert * 1e9 / (double)n, t_lookup * 1e9 / (double)n);
	htab_free(h);

	/* the batch path builds the very same table */
	{
		size_t m = n / 10, c1 = 0, c2 = 0, differ = 0;
		uint64_t *keys = xmalloc(m * sizeof *keys);
		uint64_t *deltas = xmalloc(m * sizeof *deltas);
		struct htab *one = htab_new(0, 0), *batch = htab_new(0, 0);
		struct htab_slot *a, *b;

		for (i = 0; i < m; i++) {
			keys[i] = rng_mix64(i % (m / 2));  /* repeats too */
			deltas[i] = i;
			htab_add(one, keys[i], deltas[i]);
		}
		htab_add_batch(batch, keys, deltas, m);
		do {
			a = htab_next(one, &c1);
			b = htab_next(batch, &c2);
			if ((a == NULL) != (b == NULL) || (a && (a->key !=
			    b->key || a->count != b->count)))
				differ++;
		} while (a && b);
		is_int((long long)differ, 0, "htab_add_batch builds the same "
		    "table as htab_add, slot for slot");
		htab_free(batch);
		batch = htab_new(0, 0);
		htab_add_batch(batch, keys, NULL, 3);
		ok(htab_count(batch) == 3 && htab_lookup(batch, keys[1]) &&
		    htab_lookup(batch, keys[1])->count == 1,
		    "htab_add_batch without deltas adds 1");
		htab_free(one);
		htab_free(batch);

		/* with payloads, key 0, saturation, and growth between
		 * chunks (the batch loop keeps the table's fields in
		 * locals) */
		one = htab_new(16, 0);
		batch = htab_new(16, 0);
		for (i = 0; i < m; i++) {
			keys[i] = i % 97 == 0 ? 0 : rng_mix64(i % (m / 3));
			deltas[i] = i % 89 == 0 ? UINT64_MAX - 5 : i % 7;
			htab_add(one, keys[i], deltas[i]);
		}
		for (i = 0; i < m; i += 1000)
			htab_add_batch(batch, keys + i, deltas + i, m - i < 1000 ? m - i : 1000);
		c1 = c2 = differ = 0;
		do {
			a = htab_next(one, &c1);
			b = htab_next(batch, &c2);
			if ((a == NULL) != (b == NULL) || (a && (a->key !=
			    b->key || a->count != b->count)))
				differ++;
		} while (a && b);
		is_int((long long)differ, 0, "the same with payloads, key 0, "
		    "saturated counts and chunks");
		ok(htab_count(one) == htab_count(batch) && htab_lookup(batch, 0) &&
		    htab_lookup(batch, 0)->count == htab_lookup(one, 0)->count,
		    "key 0 counted alike");
		htab_free(one);
		htab_free(batch);
		free(keys);
		free(deltas);
	}

	/* htab_populate faults memory in and changes nothing else */
	{
		struct htab *big = htab_new(0, 200000), *small = htab_new(8, 10);
		size_t lost = 0;

		for (i = 1; i <= 1000; i++) {
			htab_add(big, rng_mix64(i), i);
			htab_add(small, rng_mix64(i), i);
		}
		htab_populate(big);	/* 4 MiB: mapped */
		htab_populate(small);	/* malloc()ed: nothing to do */
		for (i = 1; i <= 1000; i++)
			lost += !htab_lookup(big, rng_mix64(i)) ||
			    htab_lookup(big, rng_mix64(i))->count != i ||
			    !htab_lookup(small, rng_mix64(i)) ||
			    htab_lookup(small, rng_mix64(i))->count != i;
		is_int((long long)lost, 0, "htab_populate keeps every entry");
		ok(htab_count(big) == 1000 && htab_count(small) == 1000 &&
		    htab_add(big, 0, 2) == 2, "and the table goes on working");
		htab_free(big);
		htab_free(small);
	}

	/* sequential keys: what a plain mask would pile into one run */
	h = htab_new(0, 0);
	for (i = 1; i <= 100000; i++)
		htab_add(h, i << 32, 1);
	for (i = 1, missing = 0; i <= 100000; i++)
		if (!htab_lookup(h, i << 32))
			missing++;
	ok(missing == 0 && htab_count(h) == 100000,
	    "keys differing only in high bits");
	htab_free(h);
}

static void
test_awkward_keys(void)
{
	struct htab *h = htab_new(8, 0);
	struct htab_slot *s;
	int is_new = -1;

	ok(htab_lookup(h, 0) == NULL, "key 0 absent in an empty table");
	ok(htab_lookup(h, UINT64_MAX) == NULL, "UINT64_MAX absent too");
	s = htab_insert(h, 0, &is_new);
	ok(s && s->key == 0 && s->count == 0 && is_new == 1,
	    "key 0 inserts as new with count 0");
	memcpy(s->payload, "zerozero", 8);
	htab_insert(h, 0, &is_new);
	is_int(is_new, 0, "key 0 found the second time");
	is_int((long long)htab_add(h, 0, 5), 5, "key 0 counts");
	is_int((long long)htab_add(h, UINT64_MAX, 7), 7, "UINT64_MAX counts");
	is_int((long long)htab_count(h), 2, "key 0 and UINT64_MAX both held");
	s = htab_lookup(h, 0);
	ok(s && memcmp(s->payload, "zerozero", 8) == 0,
	    "key 0 keeps its payload");
	ok(htab_lookup(h, 1) == NULL, "key 1 still absent");
	is_int((long long)htab_add(h, UINT64_MAX, UINT64_MAX), -1,
	    "counts saturate at UINT64_MAX");
	htab_free(h);

	ok(htab_new(HTAB_PAYLOAD_MAX + 1, 0) == NULL,
	    "payload over the limit refused");
	is_str(loam_error(), "hash table payload of 4097 bytes is over the "
	    "limit of 4096", "payload limit message");
}

struct payload {
	float x, y, z;		/* 12 bytes: not a multiple of 8 */
};

static void
test_payload(void)
{
	enum { N = 200000 };
	struct htab *h = htab_new(sizeof(struct payload), 1);
	struct htab_slot *s;
	struct payload p;
	size_t i, bad = 0;
	int is_new;

	is_int((long long)htab_payload_size(h), 12, "payload size kept");
	for (i = 0; i < N; i++) {
		s = htab_insert(h, rng_mix64(i + 1000), &is_new);
		p.x = (float)i;
		p.y = (float)i * 0.5f;
		p.z = -(float)i;
		memcpy(s->payload, &p, sizeof p);
		s->count = i;
	}
	for (i = 0; i < N; i++) {
		s = htab_lookup(h, rng_mix64(i + 1000));
		if (!s) {
			bad++;
			continue;
		}
		memcpy(&p, s->payload, sizeof p);
		if (p.x != (float)i || p.y != (float)i * 0.5f ||
		    p.z != -(float)i || s->count != i)
			bad++;
	}
	is_int((long long)bad, 0, "payloads survive growth from 8 slots");
	s = htab_insert(h, 123456789, &is_new);
	ok(is_new && memcmp(s->payload, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0,
	    "a new slot's payload is zero");
	htab_free(h);

	/* an odd size, and reserve moving everything */
	h = htab_new(5, 0);
	for (i = 0; i < 1000; i++)
		memcpy(htab_insert(h, i, NULL)->payload, "abcde", 5);
	htab_reserve(h, 100000);
	for (i = 0, bad = 0; i < 1000; i++) {
		s = htab_lookup(h, i);
		if (!s || memcmp(s->payload, "abcde", 5) != 0)
			bad++;
	}
	is_int((long long)bad, 0, "5-byte payloads survive htab_reserve");
	htab_free(h);
}

static void
test_merge(void)
{
	struct htab *a = htab_new(4, 0), *b = htab_new(4, 0), *c;
	struct htab_slot *s;
	size_t i, bad = 0;
	uint32_t tag;

	for (i = 0; i < 100000; i++) {
		s = htab_insert(a, i, NULL);
		s->count = 1;
		tag = 0xaaaa;
		memcpy(s->payload, &tag, 4);
	}
	for (i = 50000; i < 150000; i++) {
		s = htab_insert(b, i, NULL);
		s->count = 2;
		tag = 0xbbbb;
		memcpy(s->payload, &tag, 4);
	}
	ok(htab_merge(a, b) == 0, "merge succeeds");
	is_int((long long)htab_count(a), 150000, "merge unites the keys");
	for (i = 0; i < 150000; i++) {
		s = htab_lookup(a, i);
		if (!s) {
			bad++;
			continue;
		}
		memcpy(&tag, s->payload, 4);
		if (i < 50000 && (s->count != 1 || tag != 0xaaaa))
			bad++;
		else if (i >= 50000 && i < 100000 &&
		    (s->count != 3 || tag != 0xaaaa))
			bad++;
		else if (i >= 100000 && (s->count != 2 || tag != 0xbbbb))
			bad++;
	}
	is_int((long long)bad, 0, "merge adds counts; new keys bring their "
	    "payload, old keys keep theirs");
	is_int((long long)htab_count(b), 100000, "merge leaves src alone");

	/* count(A u B) == merge(count(A), count(B)), order aside */
	c = htab_new(4, 0);
	htab_merge(c, b);
	htab_merge(c, b);
	s = htab_lookup(c, 60000);
	ok(s && s->count == 4 && htab_count(c) == 100000,
	    "merging twice doubles");
	htab_free(c);

	/* key 0 lives beside the array: it must merge too */
	c = htab_new(4, 0);
	htab_add(c, 0, 5);
	htab_add(a, 0, 6);
	htab_merge(c, a);
	s = htab_lookup(c, 0);
	ok(s && s->count == 12 && htab_count(c) == 150000, "key 0 merges");
	htab_merge(c, c);
	s = htab_lookup(c, 0);
	ok(s && s->count == 24 && htab_count(c) == 150000,
	    "merging a table into itself doubles it");
	htab_free(c);

	/* Orders that cluster a naive table: a copy in iteration order
	 * into a smaller table, and a merge of two dense tables of one
	 * capacity.  Quadratic behaviour would take minutes here; the time
	 * is reported, not asserted (machines are shared: no timing test). */
	{
		struct htab *x = htab_new(0, 0), *y = htab_new(0, 0);
		struct htab *z = htab_new(0, 0);
		size_t cursor = 0, m = 700000;
		double t0 = now(), dt;

		for (i = 0; i < m; i++) {
			htab_add(x, rng_mix64(i + 1), 1);
			htab_add(y, rng_mix64(i + 1 + m), 1);
		}
		while ((s = htab_next(x, &cursor)) != NULL)
			htab_add(z, s->key, s->count);
		htab_merge(y, x);
		dt = now() - t0;
		ok(htab_count(z) == m && htab_count(y) == 2 * m,
		    "copy by iteration and same-capacity merge (%.2f s)", dt);
		htab_free(x);
		htab_free(y);
		htab_free(z);
	}

	c = htab_new(8, 0);
	ok(htab_merge(c, a) == -1, "merge refuses different payload sizes");
	is_str(loam_error(), "cannot merge hash tables with payloads of 8 "
	    "and 4 bytes", "payload mismatch message");
	htab_free(c);
	htab_free(a);
	htab_free(b);
}

static void
test_iteration(void)
{
	enum { N = 50000 };
	struct htab *h = htab_new(0, 0), *twin = htab_new(0, 0);
	struct htab *visits = htab_new(0, 0);
	struct htab_slot *s, *t;
	size_t cursor = 0, twin_cursor = 0, seen = 0, i, bad = 0, order = 1;

	for (i = 0; i < N; i++) {
		htab_add(h, rng_mix64(i), 1);
		htab_add(twin, rng_mix64(i), 1);
	}
	while ((s = htab_next(h, &cursor)) != NULL) {
		if (htab_add(visits, s->key, 1) != 1)
			bad++;
		seen++;
		t = htab_next(twin, &twin_cursor);
		if (!t || t->key != s->key)
			order = 0;
	}
	is_int((long long)seen, N, "iteration visits %d entries", N);
	is_int((long long)bad, 0, "no entry visited twice");
	for (i = 0; i < N; i++)
		if (!htab_lookup(visits, rng_mix64(i)))
			bad++;
	is_int((long long)bad, 0, "every entry visited");
	ok(order && htab_next(twin, &twin_cursor) == NULL,
	    "same insertions, same iteration order");
	ok(htab_next(h, &cursor) == NULL, "iteration stays finished");
	htab_free(h);
	htab_free(twin);
	htab_free(visits);

	h = htab_new(0, 0);
	cursor = 0;
	ok(htab_next(h, &cursor) == NULL, "empty table iterates nothing");
	htab_free(h);
}

/* A table of n keys whose content does not depend on the order given. */
static struct htab *
build(size_t n, size_t expect, int reverse)
{
	struct htab *h = htab_new(sizeof(double), expect);
	struct htab_slot *s;
	size_t i, k;
	double v;

	for (i = 0; i < n; i++) {
		k = reverse ? n - 1 - i : i;
		s = htab_insert(h, k == 7 ? 0 : rng_mix64(k + 1), NULL);
		s->count = k * 3 + 1;
		v = (double)k / 7;
		memcpy(s->payload, &v, sizeof v);
	}
	htab_add(h, UINT64_MAX, 9);
	return h;
}

static int
tables_equal(const struct htab *a, const struct htab *b)
{
	struct htab_slot *s, *t;
	size_t cursor = 0;

	if (htab_count(a) != htab_count(b) ||
	    htab_payload_size(a) != htab_payload_size(b))
		return 0;
	while ((s = htab_next(a, &cursor)) != NULL) {
		t = htab_lookup(b, s->key);
		if (!t || t->count != s->count ||
		    memcmp(s->payload, t->payload, htab_payload_size(a)) != 0)
			return 0;
	}
	return 1;
}

static void
test_save_load(void)
{
	struct htab *h = build(10000, 0, 0), *g, *r;
	unsigned char *fa, *fb;
	size_t la, lb;
	char path_a[256], path_b[256];
	FILE *fp;

	snprintf(path_a, sizeof path_a, "%s", tmp_path("a.ht"));
	snprintf(path_b, sizeof path_b, "%s", tmp_path("b.ht"));
	ok(htab_save(h, path_a) == 0, "save");
	r = htab_load(path_a, sizeof(double));
	ok(r != NULL, "load");
	ok(r && tables_equal(h, r), "round trip keeps keys, counts and "
	    "payloads (key 0 and UINT64_MAX among them)");
	htab_free(r);

	g = build(10000, 50000, 1);
	ok(htab_save(g, path_b) == 0, "save the same content, built "
	    "backwards into a bigger table");
	fa = slurp(path_a, &la);
	fb = slurp(path_b, &lb);
	ok(fa && fb && la == lb && memcmp(fa, fb, la) == 0,
	    "same content gives byte-identical files (%zu bytes)", la);
	is_int((long long)la, 24 + 10001LL * 24 + 8,
	    "file size is header + entries + checksum");
	ok(la > 8 && memcmp(fa, "\x89LOAMHT\n\1\0\0\0\x08\0\0\0", 16) == 0,
	    "header: magic, version 1, payload 8, little-endian");
	free(fb);
	htab_free(g);

	/* saving over an existing file replaces it */
	g = build(10, 0, 0);
	ok(htab_save(g, path_b) == 0, "save over an existing file");
	r = htab_load(path_b, HTAB_PAYLOAD_ANY);
	ok(r && tables_equal(g, r), "the new content is there");
	htab_free(r);
	htab_free(g);

	/* an empty table and a payload-free table */
	g = htab_new(0, 0);
	ok(htab_save(g, path_b) == 0 && (r = htab_load(path_b, 0)) != NULL &&
	    htab_count(r) == 0, "empty table round trip");
	htab_free(r);
	htab_add(g, 0, 1);
	htab_add(g, 42, 2);
	ok(htab_save(g, path_b) == 0 && (r = htab_load(path_b, 0)) != NULL &&
	    tables_equal(g, r), "payload-free round trip");
	htab_free(r);
	htab_free(g);

	/* a stream: no size to check ahead, read to the end */
	fp = fopen(path_a, "rb");
	r = htab_read(fp, "stream", HTAB_PAYLOAD_ANY);
	ok(r && tables_equal(h, r), "htab_read from an open file");
	fclose(fp);
	htab_free(r);
	fp = fmemopen(fa, la, "rb");
	r = htab_read(fp, "memory", sizeof(double));
	ok(r && tables_equal(h, r), "htab_read from a stream without a size");
	fclose(fp);
	htab_free(r);
	fp = fmemopen(fa, la - 3, "rb");
	r = htab_read(fp, "memory", sizeof(double));
	ok(r == NULL, "a cut stream fails");
	is_str(loam_error(), "memory: truncated checksum",
	    "cut stream message");
	fclose(fp);

	free(fa);
	htab_free(h);
	unlink(path_a);
	unlink(path_b);
	is_int(count_files("a.ht"), 0, "no temporary files left");
}

/* Damage a good file and expect a message that starts with want. */
static void
damaged(const unsigned char *good, size_t len, size_t at, int xor_with,
    size_t keep, size_t payload, const char *want, const char *what)
{
	unsigned char *buf = xmalloc(len + 16);
	char path[256];
	struct htab *h;

	memcpy(buf, good, len);
	if (at < len)
		buf[at] ^= (unsigned char)xor_with;
	if (keep > len)		/* grow: append junk */
		memset(buf + len, 'x', keep - len);
	snprintf(path, sizeof path, "%s", tmp_path("bad.ht"));
	spew(path, buf, keep);
	h = htab_load(path, payload);
	ok(h == NULL, "%s is refused", what);
	ok(strncmp(loam_error(), want, strlen(want)) == 0, "%s: '%s'", what,
	    loam_error());
	htab_free(h);
	free(buf);
	unlink(path);
}

static void
test_damage(void)
{
	struct htab *h = build(100, 0, 0);
	unsigned char *good;
	size_t len;
	char path[256], want[1024];

	snprintf(path, sizeof path, "%s", tmp_path("good.ht"));
	htab_save(h, path);
	good = slurp(path, &len);

	snprintf(want, sizeof want, "%s: checksum mismatch (file says ",
	    tmp_path("bad.ht"));
	damaged(good, len, 24 + 50 * 24 + 9, 0x01, len, 8, want,
	    "a flipped count byte");
	damaged(good, len, len - 1, 0x80, len, 8, want,
	    "a flipped checksum byte");
	damaged(good, len, 30, 0x10, len, 8, want, "a flipped key byte");
	damaged(good, len, 24 + 99 * 24 + 20, 0x04, len, 8, want,
	    "a flipped payload byte");

	snprintf(want, sizeof want, "%s: truncated: %zu bytes, too few for "
	    "101 entries", tmp_path("bad.ht"), len - 5);
	damaged(good, len, len, 0, len - 5, 8, want, "a truncated file");
	snprintf(want, sizeof want, "%s: %zu bytes, too many for 101 entries",
	    tmp_path("bad.ht"), len + 3);
	damaged(good, len, len, 0, len + 3, 8, want, "trailing data");
	snprintf(want, sizeof want, "%s: not a loam hash table (bad magic)",
	    tmp_path("bad.ht"));
	damaged(good, len, 1, 0x20, len, 8, want, "a bad magic");
	damaged(good, len, 1, 0x20, 3, 8, want, "a 3-byte file of other bytes");
	snprintf(want, sizeof want, "%s: hash table format version 2, this "
	    "build reads version 1", tmp_path("bad.ht"));
	damaged(good, len, 8, 0x03, len, 8, want, "a wrong version");
	snprintf(want, sizeof want, "%s: payload of 8 bytes, expected 4",
	    tmp_path("bad.ht"));
	damaged(good, len, len, 0, len, 4, want, "an unexpected payload size");
	snprintf(want, sizeof want, "%s: truncated header", tmp_path("bad.ht"));
	damaged(good, len, len, 0, 12, 8, want, "a cut header");
	snprintf(want, sizeof want, "%s: empty file, not a loam hash table",
	    tmp_path("bad.ht"));
	damaged(good, len, len, 0, 0, 8, want, "an empty file");
	snprintf(want, sizeof want, "%s: truncated: %zu bytes, too few for "
	    "%llu entries", tmp_path("bad.ht"), len,
	    (unsigned long long)(101 + (1ULL << 56)));
	damaged(good, len, 23, 0x01, len, 8, want, "a corrupt entry count");

	/* out of order but with a valid checksum: a buggy writer */
	{
		unsigned char *buf = xmalloc(len), tmp[24];
		uint64_t sum;
		struct htab *r;
		FILE *fp;
		int i;

		memcpy(buf, good, len);
		memcpy(tmp, buf + 24 + 24 * 3, 24);
		memcpy(buf + 24 + 24 * 3, buf + 24 + 24 * 4, 24);
		memcpy(buf + 24 + 24 * 4, tmp, 24);
		sum = htab_hash(buf, len - 8, 0);
		for (i = 0; i < 8; i++)
			buf[len - 8 + i] = (unsigned char)(sum >> (8 * i));
		fp = fmemopen(buf, len, "rb");
		r = htab_read(fp, "swapped", 8);
		ok(r == NULL, "keys out of order are refused");
		is_str(loam_error(), "swapped: entry 4: keys out of order",
		    "out of order message");
		fclose(fp);
		free(buf);
	}

	snprintf(want, sizeof want, "%s: No such file or directory",
	    tmp_path("absent.ht"));
	ok(htab_load(tmp_path("absent.ht"), 8) == NULL, "a missing file");
	is_str(loam_error(), want, "missing file message");

	free(good);
	htab_free(h);
	unlink(path);
}

static void
test_save_failures(void)
{
	struct htab *small = build(10, 0, 0), *big = build(20000, 0, 0);
	char keep[256], want[1024], dir[256];
	unsigned char *before, *after;
	size_t lb, la;
	struct rlimit old, lim;
	FILE *fp;
	void (*old_handler)(int);

	snprintf(keep, sizeof keep, "%s", tmp_path("keep.ht"));
	htab_save(small, keep);
	before = slurp(keep, &lb);

	/* a file size limit makes the write fail half-way: EFBIG */
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 4096;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &lim) == 0) {
		ok(htab_save(big, keep) == -1, "save fails when the write "
		    "fails");
		snprintf(want, sizeof want, "%s: %s", keep, strerror(EFBIG));
		is_str(loam_error(), want, "write failure message");
		setrlimit(RLIMIT_FSIZE, &old);
		after = slurp(keep, &la);
		ok(after && la == lb && memcmp(before, after, la) == 0,
		    "the old file is untouched");
		free(after);
		is_int(count_files("keep.ht."), 0, "the temporary is removed");
	} else {
		diag("setrlimit: %s; write-failure test skipped",
		    strerror(errno));
	}
	signal(SIGXFSZ, old_handler);

	/* renaming over a directory fails after the write */
	snprintf(dir, sizeof dir, "%s", tmp_path("dir.ht"));
	mkdir(dir, 0777);
	ok(htab_save(small, dir) == -1, "save over a directory fails");
	snprintf(want, sizeof want, "%s: %s", dir, strerror(EISDIR));
	is_str(loam_error(), want, "rename failure message");
	is_int(count_files("dir.ht."), 0, "its temporary is removed");
	rmdir(dir);

	snprintf(want, sizeof want, "%s/no/such/dir/x.ht", tmpdir);
	ok(htab_save(small, want) == -1, "save into a missing directory");

	fp = fopen("/dev/full", "wb");
	if (fp) {
		ok(htab_write(big, fp, "/dev/full") == -1,
		    "htab_write to a full disk fails");
		is_str(loam_error(), "/dev/full: No space left on device",
		    "full disk message");
		fclose(fp);
	}

	free(before);
	unlink(keep);
	htab_free(small);
	htab_free(big);
}

int
main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/htab_test.XXXXXX",
	    base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp %s: %s\n", tmpdir, strerror(errno));
		return 1;
	}
	test_hash();
	test_awkward_keys();
	test_payload();
	test_merge();
	test_iteration();
	test_save_load();
	test_damage();
	test_save_failures();
	test_many_keys();
	rmdir(tmpdir);
	return tap_done();
}
