/*
 * rewardcount_test - lib/rewardcount: binning and bonuses computed by
 * hand for every mode and update order, SimHash's properties, warm-up
 * ranges, vectorised against one-at-a-time steps, merges of shards,
 * table files (round trip, canonical bytes, settings that differ,
 * damage) and bad input.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rewardcount.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

static char tmpdir[128];

static char *
tmp_path(const char *name)
{
	static char path[4][256];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
	return p;
}

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
spit(const char *path, const unsigned char *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (fp) {
		fwrite(buf, 1, len, fp);
		fclose(fp);
	}
}

static int
same_file(const char *a, const char *b)
{
	size_t la, lb;
	unsigned char *x = slurp(a, &la), *y = slurp(b, &lb);
	int same = x && y && la == lb && memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return same;
}

/* A progress table of d dimensions under update order u, lambda 1. */
static void
progress_opts(struct rewardcount_opts *o, size_t d, int update)
{
	rewardcount_opts_default(o, REWARDCOUNT_PROGRESS);
	o->dims = d;
	o->update = update;
	o->lambda = 1;
}

static const char *
bin_of(const struct rewardcount_table *t, const double *x)
{
	static char buf[256];

	rewardcount_bin_json(t, x, buf, sizeof buf);
	return buf;
}

/* Every (key, count, bin) of two tables agree. */
static int
same_tables(const struct rewardcount_table *a, const struct rewardcount_table *b)
{
	struct rewardcount_dump da, db;
	struct rewardcount_entry ea, eb;
	int same = 1, ra, rb;

	rewardcount_dump_init(&da, a);
	rewardcount_dump_init(&db, b);
	for (;;) {
		ra = rewardcount_dump_next(&da, &ea);
		rb = rewardcount_dump_next(&db, &eb);
		if (ra != rb) {
			same = 0;
			break;
		}
		if (!ra)
			break;
		if (ea.key != eb.key || ea.count != eb.count ||
		    (ea.bin == NULL) != (eb.bin == NULL) ||
		    (ea.bin && strcmp(ea.bin, eb.bin) != 0)) {
			same = 0;
			break;
		}
	}
	rewardcount_dump_release(&da);
	rewardcount_dump_release(&db);
	return same;
}

/* ---- discretisation (research §6 item 2) ---- */

static void
test_levels(void)
{
	struct rewardcount_opts o;
	struct rewardcount_table t;
	const double xs[] = { 0.0, 0.0999, 0.1, 1.0, -0.5, 1.7, 0.55 };
	const char *want[] = { "[0]", "[0]", "[1]", "[9]", "[0]", "[9]",
	    "[5]" };
	const unsigned char dec = 1;
	double x, a[2], b[2];
	uint64_t ka, kb;
	size_t i;
	char small[4];

	progress_opts(&o, 1, REWARDCOUNT_UPDATE_BEFORE);
	ok(rewardcount_init(&t, &o) == 0, "progress table, [0,1], 10 levels");
	for (i = 0; i < sizeof xs / sizeof xs[0]; i++)
		is_str(bin_of(&t, &xs[i]), want[i], "x = %g -> level %s",
		    xs[i], want[i]);
	x = 0.55;
	is_int((long long)rewardcount_bin_json(&t, &x, small, 3), 3,
	    "rewardcount_bin_json returns the length it needs");
	is_str(small, "[5", "and truncates with a NUL");
	rewardcount_release(&t);

	/* decreasing: (1 - 0.2) / 1 = 0.8 -> floor(8.0) = 8 */
	o.decreasing = &dec;
	rewardcount_init(&t, &o);
	x = 0.2;
	is_str(bin_of(&t, &x), "[8]", "decreasing 0.2 on [0,1] -> 8");
	rewardcount_release(&t);

	/* (0.35, 0.75) and (0.75, 0.35) are levels (3,7) and (7,3): the
	 * same sum 10, different tuples */
	a[0] = b[1] = 0.35;
	a[1] = b[0] = 0.75;
	progress_opts(&o, 2, REWARDCOUNT_UPDATE_BEFORE);
	rewardcount_init(&t, &o);
	is_str(bin_of(&t, a), "[3,7]", "tuple bin of (0.35, 0.75)");
	ka = rewardcount_key(&t, a, 0, 0);
	kb = rewardcount_key(&t, b, 0, 0);
	ok(ka != kb, "tuple keys keep (3,7) and (7,3) apart");
	rewardcount_release(&t);
	o.key = REWARDCOUNT_KEY_SUM;
	rewardcount_init(&t, &o);
	is_str(bin_of(&t, a), "10", "sum bin of (3,7) is 10");
	is_str(bin_of(&t, b), "10", "sum bin of (7,3) is 10");
	ok(rewardcount_key(&t, a, 0, 0) == rewardcount_key(&t, b, 0, 0),
	    "sum keys merge (3,7) and (7,3)");
	rewardcount_release(&t);

	/* stage offsets, bins 10 and 10: off = [0, 0 + 9] = [0, 9], so
	 * c_1 = 9 + b_1 once subtask 1 started:
	 *   (9,0) -> 9;  (0,1) -> 0 + (9 + 1) = 10;  (5,3) -> 5 + 12 = 17 */
	o.stage_offsets = 1;
	ok(rewardcount_init(&t, &o) == 0, "sum key with stage offsets");
	a[0] = 0.95; a[1] = 0;
	is_str(bin_of(&t, a), "9", "offsets: (9,0) -> 9");
	a[0] = 0; a[1] = 0.15;
	is_str(bin_of(&t, a), "10", "offsets: (0,1) -> 10, above (9,0)");
	a[0] = 0.55; a[1] = 0.35;
	is_str(bin_of(&t, a), "17", "offsets: (5,3) -> 5 + 9 + 3 = 17");
	rewardcount_release(&t);

	/* total bins */
	progress_opts(&o, 3, REWARDCOUNT_UPDATE_BEFORE);
	o.total_bins = 1000;
	rewardcount_init(&t, &o);
	ok(t.bins[0] == 10 && t.bins[1] == 10 && t.bins[2] == 10,
	    "tuple, 1000 total bins over 3 dims: 10 each (an exact root "
	    "that pow() may miss)");
	rewardcount_release(&t);
	/* sum: 999 steps, 499 each, the one left to the last: 500 + 501,
	 * (500 - 1) + (501 - 1) + 1 = 1000 possible sums */
	progress_opts(&o, 2, REWARDCOUNT_UPDATE_BEFORE);
	o.total_bins = 1000;
	o.key = REWARDCOUNT_KEY_SUM;
	rewardcount_init(&t, &o);
	ok(t.bins[0] == 500 && t.bins[1] == 501,
	    "sum, 1000 total bins over 2 dims: 500 and 501 (got %u, %u)",
	    t.bins[0], t.bins[1]);
	rewardcount_release(&t);
	/* with offsets, in proportion to 1 and 2: floor(999/3) = 333 and
	 * floor(999 * 2/3) = 666 steps, levels 334 and 667 */
	o.stage_offsets = 1;
	rewardcount_init(&t, &o);
	ok(t.bins[0] == 334 && t.bins[1] == 667 && t.offset[1] == 333,
	    "sum with offsets, 1000 total: finer later, 334 and 667, "
	    "offset 333 (got %u, %u, %llu)", t.bins[0], t.bins[1],
	    (unsigned long long)t.offset[1]);
	rewardcount_release(&t);
}

/* ---- bonuses and update orders, by hand ---- */

static void
test_bonus_forms(void)
{
	struct rewardcount_opts o;
	struct rewardcount_table t;
	double x = 0.5, b;
	uint64_t c;
	int i;

	/* AFTER, inv_sqrt, lambda 1: the n-th visit has N = n, bonus
	 * 1/sqrt(n): n = 1, 4, 9, 100 -> 1, 0.5, 1/3, 0.1 (§6 item 1) */
	progress_opts(&o, 1, REWARDCOUNT_UPDATE_AFTER);
	rewardcount_init(&t, &o);
	for (i = 1; i <= 100; i++) {
		rewardcount_step(&t, &x, 1, NULL, NULL, NULL, &c, &b);
		if (i == 1 || i == 4 || i == 9 || i == 100)
			is_dbl(b, 1 / sqrt(i), 1e-15,
			    "after, inv_sqrt: visit %d has N = %llu, bonus "
			    "1/sqrt(%d)", i, (unsigned long long)c, i);
	}
	rewardcount_release(&t);

	/* BEFORE, inv_sqrt_plus1 (precursor): N = 0, 1, 3 -> 1/(0+1) = 1,
	 * 1/(1+1) = 0.5, 1/(sqrt 3 + 1) = 0.36602540378443865 */
	progress_opts(&o, 1, REWARDCOUNT_UPDATE_BEFORE);
	o.bonus = REWARDCOUNT_BONUS_INV_SQRT_PLUS1;
	rewardcount_init(&t, &o);
	rewardcount_step(&t, &x, 1, NULL, NULL, NULL, &c, &b);
	is_dbl(b, 1, 0, "before, plus1: N = 0 -> 1");
	rewardcount_step(&t, &x, 1, NULL, NULL, NULL, &c, &b);
	is_dbl(b, 0.5, 0, "before, plus1: N = 1 -> 0.5");
	rewardcount_step(&t, &x, 1, NULL, NULL, NULL, &c, &b);
	rewardcount_step(&t, &x, 1, NULL, NULL, NULL, &c, &b);
	ok(c == 3, "before: fourth visit has N = 3");
	is_dbl(b, 0.36602540378443865, 1e-16, "before, plus1: N = 3 -> "
	    "1/(sqrt 3 + 1)");
	is_dbl(rewardcount_bonus(&t, 0), 1, 0, "rewardcount_bonus plus1 N = 0");
	rewardcount_release(&t);

	/* inv_sqrt_n1: lambda/sqrt(N + 1); lambda 2: N = 0 -> 2, N = 3 ->
	 * 2/2 = 1 */
	o.bonus = REWARDCOUNT_BONUS_INV_SQRT_N1;
	o.lambda = 2;
	rewardcount_init(&t, &o);
	is_dbl(rewardcount_bonus(&t, 0), 2, 0, "n1: N = 0 -> lambda");
	is_dbl(rewardcount_bonus(&t, 3), 1, 0, "n1: N = 3 -> lambda / 2");
	rewardcount_release(&t);

	/* inv_sqrt at N = 0 is lambda / sqrt(1) (EPG's max(1, n)) */
	rewardcount_opts_default(&o, REWARDCOUNT_PROGRESS);
	o.dims = 1;
	rewardcount_init(&t, &o);
	is_dbl(o.lambda, 1e-3, 0, "default lambda 1e-3 (paper)");
	ok(t.opts.update == REWARDCOUNT_UPDATE_BATCH_SYNC, "default update is "
	    "batch-sync");
	is_dbl(rewardcount_bonus(&t, 0), 1e-3, 0, "inv_sqrt: N = 0 -> lambda");
	is_dbl(rewardcount_bonus(&t, 16), 2.5e-4, 0, "inv_sqrt: N = 16 -> "
	    "1e-3 / 4");
	rewardcount_step(&t, &x, 1, NULL, NULL, NULL, &c, &b);
	ok(c == 0 && b == 1e-3, "batch-sync, first visit: N = 0, bonus "
	    "1e-3");
	rewardcount_release(&t);
}

static void
test_update_orders(void)
{
	struct rewardcount_opts o;
	struct rewardcount_table t;
	/* keys A, A, B, A (levels 2, 2, 7, 2) */
	const double x[4] = { 0.25, 0.25, 0.75, 0.25 }, y[2] = { 0.25, 0.75 };
	uint64_t c[4], k[4], kb;
	double b[4];

	/* BEFORE: N = 0, 1, 0, 2; bonuses 1, 1, 1, 1/sqrt 2 */
	progress_opts(&o, 1, REWARDCOUNT_UPDATE_BEFORE);
	rewardcount_init(&t, &o);
	rewardcount_step(&t, x, 4, NULL, NULL, k, c, b);
	ok(c[0] == 0 && c[1] == 1 && c[2] == 0 && c[3] == 2,
	    "before: counts 0 1 0 2");
	ok(b[0] == 1 && b[1] == 1 && b[2] == 1 &&
	    fabs(b[3] - 1 / sqrt(2)) < 1e-15, "before: bonuses 1 1 1 "
	    "0.7071");
	ok(k[0] == k[1] && k[1] == k[3] && k[0] != k[2],
	    "keys: A A B A");
	ok(rewardcount_count(&t, k[0]) == 3 && rewardcount_count(&t, k[2]) == 1,
	    "before: table A 3, B 1");
	rewardcount_release(&t);

	/* AFTER: N = 1, 2, 1, 3; bonuses 1, 1/sqrt 2, 1, 1/sqrt 3 */
	progress_opts(&o, 1, REWARDCOUNT_UPDATE_AFTER);
	rewardcount_init(&t, &o);
	rewardcount_step(&t, x, 4, NULL, NULL, k, c, b);
	ok(c[0] == 1 && c[1] == 2 && c[2] == 1 && c[3] == 3,
	    "after: counts 1 2 1 3");
	ok(b[0] == 1 && fabs(b[1] - 1 / sqrt(2)) < 1e-15 && b[2] == 1 &&
	    fabs(b[3] - 1 / sqrt(3)) < 1e-15, "after: bonuses 1 .7071 1 "
	    ".5774");
	rewardcount_release(&t);

	/* BATCH_SYNC: every vector of the batch sees the counts before it,
	 * duplicates included: N = 0 0 0 0, bonuses 1; after the batch
	 * A = 3, B = 1; the next batch (A, B) sees 3 and 1: 1/sqrt 3, 1 */
	progress_opts(&o, 1, REWARDCOUNT_UPDATE_BATCH_SYNC);
	rewardcount_init(&t, &o);
	rewardcount_step(&t, x, 4, NULL, NULL, k, c, b);
	ok(c[0] == 0 && c[1] == 0 && c[2] == 0 && c[3] == 0 && b[0] == 1 &&
	    b[1] == 1 && b[2] == 1 && b[3] == 1,
	    "batch-sync: duplicates in a batch all see N = 0, bonus 1");
	ok(rewardcount_count(&t, k[0]) == 0, "batch-sync: nothing added before the "
	    "batch ends");
	rewardcount_end_batch(&t);
	ok(rewardcount_count(&t, k[0]) == 3 && rewardcount_count(&t, k[2]) == 1,
	    "batch-sync: batch added at its end: A 3, B 1");
	rewardcount_step(&t, y, 2, NULL, NULL, NULL, c, b);
	ok(c[0] == 3 && c[1] == 1 && fabs(b[0] - 1 / sqrt(3)) < 1e-15 &&
	    b[1] == 1, "batch-sync: next batch sees A 3, B 1");
	rewardcount_release(&t);

	/* a batch split over calls, in another order: the same answers */
	rewardcount_init(&t, &o);
	rewardcount_step(&t, x + 2, 2, NULL, NULL, NULL, c, b);
	rewardcount_step(&t, x, 2, NULL, NULL, NULL, c + 2, b + 2);
	ok(c[0] == 0 && c[1] == 0 && c[2] == 0 && c[3] == 0,
	    "batch-sync: a batch split over calls still sees N = 0");
	rewardcount_end_batch(&t);
	kb = rewardcount_key(&t, x + 2, 0, 0);
	ok(rewardcount_count(&t, rewardcount_key(&t, x, 0, 0)) == 3 &&
	    rewardcount_count(&t, kb) == 1,
	    "batch-sync: split batch adds the same counts");
	rewardcount_end_batch(&t);
	ok(rewardcount_count(&t, kb) == 1, "ending an empty batch adds nothing");
	rewardcount_release(&t);
}

static void
test_normalise(void)
{
	struct rewardcount_opts o;
	struct rewardcount_table t;
	double x[6] = { 0.05, 0.05, 0.05, 0.15, 0.95, 0.05 }, b[6], sum;
	int i;

	/* raw bonuses under AFTER: 1, 1/sqrt 2, 1/sqrt 3, 1, 1, 1/2; then
	 * rescaled so that their mean is 0.01 */
	progress_opts(&o, 1, REWARDCOUNT_UPDATE_AFTER);
	o.norm_mean = 0.01;
	rewardcount_init(&t, &o);
	rewardcount_step(&t, x, 6, NULL, NULL, NULL, NULL, b);
	for (sum = 0, i = 0; i < 6; i++)
		sum += b[i];
	is_dbl(sum / 6, 0.01, 1e-17, "batch mean is 0.01 (precursor's "
	    "boost)");
	is_dbl(b[1] / b[0], 1 / sqrt(2), 1e-15, "ratios kept");
	rewardcount_release(&t);
}

/* ---- other modes ---- */

static void
test_progress_reward(void)
{
	struct rewardcount_opts o;
	struct rewardcount_table t;
	const unsigned char dec[2] = { 0, 1 };
	double x[2] = { 0.2, 0.3 }, b[3], v[6];
	uint64_t env[3], c, k;

	rewardcount_opts_default(&o, REWARDCOUNT_PROGRESS_REWARD);
	o.dims = 2;
	ok(rewardcount_init(&t, &o) == 0, "progress-reward table");
	is_dbl(t.opts.lambda, 1, 0, "progress-reward lambda defaults to 1");
	rewardcount_step(&t, x, 1, NULL, NULL, &k, &c, b);
	is_dbl(b[0], 0.5, 1e-15, "sum: 0.2 + 0.3 = 0.5");
	ok(k == 0 && c == 0, "no key or count");
	rewardcount_release(&t);
	o.decreasing = dec;
	rewardcount_init(&t, &o);
	rewardcount_step(&t, x, 1, NULL, NULL, NULL, NULL, b);
	is_dbl(b[0], -0.1, 1e-15, "sum with dimension 1 decreasing: "
	    "0.2 - 0.3");
	ok(rewardcount_save(&t, tmp_path("pr.rc")) == -1 &&
	    strstr(loam_error(), "keeps no counts") != NULL,
	    "progress-reward has no table to save");
	rewardcount_release(&t);

	/* delta per env: env 1 0.1 then 0.3 -> 0, 0.2; env 2 first -> 0;
	 * env 1 again 0.2 + 0.5 = 0.7 -> 0.4 */
	o.decreasing = NULL;
	o.progress_reward = REWARDCOUNT_PR_DELTA;
	o.scope = REWARDCOUNT_SCOPE_ENV;
	o.lambda = 2;
	rewardcount_init(&t, &o);
	v[0] = 0.1; v[1] = 0; v[2] = 0.3; v[3] = 0; v[4] = 0.9; v[5] = 0;
	env[0] = env[1] = 1;
	env[2] = 2;
	rewardcount_step(&t, v, 3, env, NULL, NULL, NULL, b);
	is_dbl(b[0], 0, 0, "delta: first vector of env 1 -> 0");
	is_dbl(b[1], 2 * 0.2, 1e-15, "delta: env 1 0.1 -> 0.3, lambda 2: "
	    "0.4");
	is_dbl(b[2], 0, 0, "delta: first vector of env 2 -> 0");
	v[0] = 0.2; v[1] = 0.5;
	rewardcount_step(&t, v, 1, env, NULL, NULL, NULL, b);
	is_dbl(b[0], 2 * 0.4, 1e-15, "delta: env 1 0.3 -> 0.7: 0.8");
	rewardcount_release(&t);
	o.norm_mean = 0.01;
	ok(rewardcount_init(&t, &o) == -1, "progress-reward refuses batch-mean");
	o.norm_mean = 0;
	o.range = REWARDCOUNT_RANGE_WARMUP;
	o.warmup = 3;
	ok(rewardcount_init(&t, &o) == -1 && strcmp(loam_error(), "ranges do not "
	    "apply to progress-reward mode") == 0, "and ranges: %s",
	    loam_error());
}

static void
simhash_opts(struct rewardcount_opts *o, size_t d, unsigned k, uint64_t seed)
{
	rewardcount_opts_default(o, REWARDCOUNT_SIMHASH);
	o->dims = d;
	o->simhash_bits = k;
	o->seed = seed;
	o->update = REWARDCOUNT_UPDATE_AFTER;
	o->lambda = 1;
}

static uint64_t
code_of(const struct rewardcount_table *t, const double *x)
{
	return strtoull(bin_of(t, x), NULL, 10);
}

static void
test_simhash(void)
{
	struct rewardcount_opts o;
	struct rewardcount_table t, u, w;
	struct rng r;
	double x[5] = { 0.3, -1.2, 2.5, 0.01, -0.7 }, y[5], a, dot;
	uint64_t want = 0, mask = 0xffff, c;
	int i, j, differ = 0;

	simhash_opts(&o, 5, 16, 42);
	ok(rewardcount_init(&t, &o) == 0, "simhash table, k = 16, seed 42");
	/* by hand: A row-major from rng_init(42, 0, 0) by rng_normal; bit
	 * j = (A x)_j > 0 */
	rng_init(&r, 42, 0, 0);
	for (j = 0; j < 16; j++) {
		dot = 0;
		for (i = 0; i < 5; i++) {
			a = rng_normal(&r);
			dot += a * x[i];
		}
		if (dot > 0)
			want |= (uint64_t)1 << j;
	}
	c = code_of(&t, x);
	ok(c == want, "code = sgn(A x) with A drawn as documented (%llu)",
	    (unsigned long long)want);
	ok(c <= mask, "a 16-bit code");
	ok(code_of(&t, x) == c && rewardcount_key(&t, x, 0, 0) == rewardcount_key(&t, x, 0, 0),
	    "same state, same code and key");
	for (i = 0; i < 5; i++)
		y[i] = 3.5 * x[i];
	ok(code_of(&t, y) == c, "sgn(A cx) = sgn(A x) for c > 0");
	for (i = 0; i < 5; i++)
		y[i] = -x[i];
	ok(code_of(&t, y) == (~c & mask), "-x gives the complement");

	rewardcount_init(&u, &o);
	ok(code_of(&u, x) == c, "same seed, same A, same code");
	o.seed = 43;
	rewardcount_init(&w, &o);
	/* codes of 20 random states under seeds 42 and 43: a chance
	 * agreement of all 16 bits of all 20 is 2^-320 */
	rng_init(&r, 7, 0, 0);
	for (j = 0; j < 20; j++) {
		for (i = 0; i < 5; i++)
			y[i] = rng_normal(&r);
		if (code_of(&t, y) != code_of(&w, y))
			differ++;
	}
	ok(differ > 10, "different seeds, different codes (%d of 20)",
	    differ);
	rewardcount_release(&t);
	rewardcount_release(&u);
	rewardcount_release(&w);

	/* bonus: counts of codes, as for progress bins */
	simhash_opts(&o, 5, 64, 1);
	ok(rewardcount_init(&t, &o) == 0, "k = 64 allowed");
	rewardcount_step(&t, x, 1, NULL, NULL, NULL, &c, &a);
	rewardcount_step(&t, x, 1, NULL, NULL, NULL, &c, &a);
	ok(c == 2 && fabs(a - 1 / sqrt(2)) < 1e-15, "simhash: second "
	    "visit, N = 2, bonus 1/sqrt 2");
	rewardcount_release(&t);
	simhash_opts(&o, 5, 65, 1);
	ok(rewardcount_init(&t, &o) == -1 && strcmp(loam_error(), "simhash bits 65: "
	    "must be 1 to 64") == 0, "k = 65 refused: %s", loam_error());

	/* with ranges the input is centred: 2u - 1 */
	simhash_opts(&o, 2, 8, 5);
	o.range = REWARDCOUNT_RANGE_FIXED;
	o.range_min = (const double[]){ 0, 0 };
	o.range_max = (const double[]){ 10, 10 };
	rewardcount_init(&t, &o);
	x[0] = 5; x[1] = 10;
	y[0] = 0; y[1] = 1;	/* 2 * (0.5, 1) - 1 */
	rewardcount_release(&u);
	simhash_opts(&o, 2, 8, 5);
	rewardcount_init(&u, &o);
	ok(code_of(&t, x) == code_of(&u, y), "ranges map (5, 10) on [0,10] "
	    "to (0, 1)");
	rewardcount_release(&t);
	rewardcount_release(&u);
}

static void
test_exact(void)
{
	struct rewardcount_opts o;
	struct rewardcount_table t;
	double x[2] = { 0.74, -0.3 }, z[2] = { 0.0, 1.0 };
	double nz[2] = { -0.0, 1.0 };

	rewardcount_opts_default(&o, REWARDCOUNT_EXACT);
	o.dims = 2;
	o.quantum = 0.5;
	ok(rewardcount_init(&t, &o) == 0, "exact, quantum 0.5");
	/* floor(0.74/0.5 + 0.5) = floor(1.98) = 1;
	 * floor(-0.3/0.5 + 0.5) = floor(-0.1) = -1 */
	is_str(bin_of(&t, x), "[1,-1]", "quantised bin [1,-1]");
	x[0] = 0.76;	/* floor(2.02) = 2 */
	is_str(bin_of(&t, x), "[2,-1]", "0.76 -> 2");
	x[0] = 1e300;
	ok(rewardcount_step(&t, x, 1, NULL, NULL, NULL, NULL, NULL) == -1 &&
	    strstr(loam_error(), "out of range for quantum") != NULL,
	    "a value too large to quantise: %s", loam_error());
	rewardcount_release(&t);
	o.quantum = 0;
	rewardcount_init(&t, &o);
	is_str(bin_of(&t, z), "[0,1]", "doubles as they are");
	ok(rewardcount_key(&t, z, 0, 0) == rewardcount_key(&t, nz, 0, 0), "-0 counts as +0");
	x[0] = 0.5; x[1] = 0.1;
	is_str(bin_of(&t, x), "[0.5,0.1]", "shortest round-trip, not %%.17g");
	x[0] = -2.5e-300; x[1] = 1e21;
	is_str(bin_of(&t, x), "[-2.5e-300,1e+21]", "%%.17g's layout");
	rewardcount_release(&t);
	o.range = REWARDCOUNT_RANGE_FIXED;
	ok(rewardcount_init(&t, &o) == -1, "exact refuses ranges");
}

static void
test_scope_task(void)
{
	struct rewardcount_opts o;
	struct rewardcount_table t;
	double x = 0.5, xs[2] = { 0.5, 0.5 };
	uint64_t ka, kb, ids[2] = { 1, 2 }, tasks[2], c[2];

	progress_opts(&o, 1, REWARDCOUNT_UPDATE_BEFORE);
	rewardcount_init(&t, &o);
	ok(rewardcount_key(&t, &x, 1, 7) == rewardcount_key(&t, &x, 2, 8),
	    "global scope, no task join: ids ignored");
	rewardcount_release(&t);
	o.scope = REWARDCOUNT_SCOPE_ENV;
	rewardcount_init(&t, &o);
	ka = rewardcount_key(&t, &x, 1, 0);
	kb = rewardcount_key(&t, &x, 2, 0);
	ok(ka != kb && rewardcount_key(&t, &x, 1, 9) == ka,
	    "env scope: the scope id joins the key, the task does not");
	rewardcount_step(&t, xs, 2, ids, NULL, NULL, c, NULL);
	ok(c[0] == 0 && c[1] == 0, "per env: two envs count apart");
	rewardcount_release(&t);
	o.scope = REWARDCOUNT_SCOPE_GLOBAL;
	o.task_join = 1;
	rewardcount_init(&t, &o);
	tasks[0] = rewardcount_task_hash("open", 4);
	tasks[1] = rewardcount_task_hash("close", 5);
	ok(tasks[0] != tasks[1], "task hashes differ");
	rewardcount_step(&t, xs, 2, NULL, tasks, NULL, c, NULL);
	rewardcount_step(&t, xs, 2, NULL, tasks, NULL, c, NULL);
	ok(c[0] == 1 && c[1] == 1, "task joins the key: each task counted "
	    "once before");
	rewardcount_release(&t);
}

/* ---- warm-up ---- */

static void
test_warmup(void)
{
	struct rewardcount_opts o;
	struct rewardcount_table t, u;
	/* dimension 0: 2, 4, 3, 6 -> [2, 6]; dimension 1 constant 0 ->
	 * [0, 1] */
	double w[8] = { 2, 0, 4, 0, 3, 0, 6, 0 };
	double more[4] = { 5, 0.5, 100, 0 }, b[3];
	uint64_t c[3], k[3];

	progress_opts(&o, 2, REWARDCOUNT_UPDATE_BEFORE);
	o.range = REWARDCOUNT_RANGE_WARMUP;
	o.warmup = 4;
	ok(rewardcount_init(&t, &o) == 0, "warm-up of 4 vectors");
	ok(rewardcount_warmup_left(&t) == 4, "4 to go");
	rewardcount_step(&t, w, 3, NULL, NULL, k, c, b);
	ok(k[0] == 0 && c[2] == 0 && b[1] == 0, "warm-up vectors answered "
	    "at once: key 0, count 0, bonus 0");
	ok(rewardcount_warmup_left(&t) == 1 && !t.frozen, "1 to go, not frozen");
	is_str(bin_of(&t, w), "null", "bin is null before the freeze");
	ok(rewardcount_entries(&t) == 0, "nothing counted yet");
	/* 4th warm-up vector, then two answered with the frozen ranges */
	memcpy(w, w + 6, 2 * sizeof *w);
	memcpy(w + 2, more, 4 * sizeof *more);
	rewardcount_step(&t, w, 3, NULL, NULL, k, c, b);
	ok(t.frozen && t.lo[0] == 2 && t.hi[0] == 6 && t.lo[1] == 0 &&
	    t.hi[1] == 1, "frozen after 4: [2,6] and a constant dimension "
	    "[0,1]");
	ok(k[0] == 0 && b[0] == 0, "the 4th is still a warm-up vector");
	/* (5, 0.5): (5-2)/4 = 0.75 -> 7, 0.5 -> 5; (100, 0) -> 9, 0 */
	is_str(bin_of(&t, more), "[7,5]", "(5, 0.5) -> [7,5]");
	is_str(bin_of(&t, more + 2), "[9,0]", "(100, 0) clipped -> [9,0]");
	/* kept vectors counted at the freeze: levels (0,0) (5,0) (2,0)
	 * (9,0); (100, 0) is (9,0) again: N = 1 under BEFORE */
	ok(c[1] == 0 && c[2] == 1, "kept vectors counted at the freeze: "
	    "(100,0) meets the kept (6,0) in level 9");
	ok(rewardcount_entries(&t) == 5, "5 distinct bins after 6 vectors");
	ok(t.hi[0] == 6, "ranges stay frozen");

	/* saved mid-warm-up and resumed gives the same as one run */
	rewardcount_init(&u, &o);
	rewardcount_step(&u, w + 2, 1, NULL, NULL, NULL, NULL, NULL);
	ok(rewardcount_save(&u, tmp_path("warm.rc")) == 0, "save during warm-up");
	rewardcount_release(&u);
	rewardcount_init(&u, &o);
	ok(rewardcount_load(&u, tmp_path("warm.rc")) == 0 && u.nwarm == 1 &&
	    rewardcount_warmup_left(&u) == 3, "load: 1 kept vector, 3 to go");
	rewardcount_release(&u);
	rewardcount_release(&t);
}

/* ---- vectorised against one at a time ---- */

static void
random_vectors(double *x, size_t n, size_t d, uint64_t seed)
{
	struct rng r;
	size_t i;

	rng_init(&r, seed, 0, 0);
	for (i = 0; i < n * d; i++)
		x[i] = rng_uniform(&r);
}

static void
test_vectorised(void)
{
	enum { N = 300, D = 3 };
	static double x[N * D];
	static uint64_t k1[N], k2[N], c1[N], c2[N];
	static double b1[N], b2[N];
	struct rewardcount_opts o;
	struct rewardcount_table t1, t2;
	int u, i, agree;
	static const int orders[] = { REWARDCOUNT_UPDATE_BEFORE, REWARDCOUNT_UPDATE_AFTER,
	    REWARDCOUNT_UPDATE_BATCH_SYNC };

	random_vectors(x, N, D, 11);
	for (u = 0; u < 3; u++) {
		progress_opts(&o, D, orders[u]);
		o.bins_each = 3;	/* 27 bins for 300 vectors */
		rewardcount_init(&t1, &o);
		rewardcount_init(&t2, &o);
		rewardcount_step(&t1, x, N, NULL, NULL, k1, c1, b1);
		for (i = 0; i < N; i++)
			rewardcount_step(&t2, x + i * D, 1, NULL, NULL, k2 + i, c2 + i,
			    b2 + i);
		rewardcount_end_batch(&t1);
		rewardcount_end_batch(&t2);
		for (agree = 1, i = 0; i < N; i++)
			if (k1[i] != k2[i] || c1[i] != c2[i] ||
			    b1[i] != b2[i])
				agree = 0;
		ok(agree, "%s: one call of %d vectors = %d calls of one",
		    rewardcount_update_name(orders[u]), N, N);
		ok(same_tables(&t1, &t2), "%s: same table",
		    rewardcount_update_name(orders[u]));
		rewardcount_release(&t2);
		/* rewardcount_count_keys() on the keys gives the same counts */
		rewardcount_init(&t2, &o);
		rewardcount_count_keys(&t2, k1, N, c2);
		rewardcount_end_batch(&t2);
		for (agree = 1, i = 0; i < N; i++)
			if (c1[i] != c2[i])
				agree = 0;
		ok(agree, "%s: rewardcount_count_keys gives rewardcount_step's counts",
		    rewardcount_update_name(orders[u]));
		rewardcount_release(&t2);
		o.store_bins = 0;
		rewardcount_init(&t2, &o);
		rewardcount_count_keys(&t2, k1, N, NULL);
		rewardcount_end_batch(&t2);
		for (agree = 1, i = 0; i < N; i++)
			if (rewardcount_count(&t1, k1[i]) != rewardcount_count(&t2, k1[i]))
				agree = 0;
		ok(agree && rewardcount_entries(&t2) == rewardcount_entries(&t1),
		    "%s: rewardcount_count_keys fast path, same counts",
		    rewardcount_update_name(orders[u]));
		rewardcount_release(&t1);
		rewardcount_release(&t2);
	}
	/* batch-sync in one batch: order does not matter */
	progress_opts(&o, D, REWARDCOUNT_UPDATE_BATCH_SYNC);
	o.bins_each = 3;
	rewardcount_init(&t1, &o);
	rewardcount_init(&t2, &o);
	rewardcount_step(&t1, x, N, NULL, NULL, NULL, c1, NULL);
	for (i = N - 1; i >= 0; i--)
		rewardcount_step(&t2, x + i * D, 1, NULL, NULL, NULL, c2 + i, NULL);
	rewardcount_end_batch(&t1);
	rewardcount_end_batch(&t2);
	for (agree = 1, i = 0; i < N; i++)
		if (c1[i] != 0 || c2[i] != 0)
			agree = 0;
	ok(agree && same_tables(&t1, &t2), "batch-sync: a batch in reverse "
	    "order gives the same counts and table");
	rewardcount_release(&t1);
	rewardcount_release(&t2);
}

/* ---- merge and files ---- */

static void
test_merge_files(void)
{
	enum { N = 2000, D = 2, SHARDS = 3 };
	static double x[N * D];
	struct rewardcount_opts o;
	struct rewardcount_table whole, shard[SHARDS], m, f;
	struct rewardcount_dump dump;
	struct rewardcount_entry e;
	char name[32];
	size_t lo, hi, nd;
	int s, sorted, bins_ok;
	uint64_t prev, total;

	random_vectors(x, N, D, 3);
	progress_opts(&o, D, REWARDCOUNT_UPDATE_BATCH_SYNC);
	o.bins_each = 20;
	rewardcount_init(&whole, &o);
	rewardcount_step(&whole, x, N, NULL, NULL, NULL, NULL, NULL);
	rewardcount_end_batch(&whole);
	for (s = 0; s < SHARDS; s++) {
		rewardcount_init(&shard[s], &o);
		lo = (size_t)s * N / SHARDS;
		hi = (size_t)(s + 1) * N / SHARDS;
		rewardcount_step(&shard[s], x + lo * D, hi - lo, NULL, NULL, NULL,
		    NULL, NULL);
		/* shard 2 is merged with its batch still pending */
		if (s != 2)
			rewardcount_end_batch(&shard[s]);
	}
	rewardcount_init(&m, &o);
	for (s = 0; s < SHARDS; s++)
		ok(rewardcount_merge(&m, &shard[s], "shard") == 0, "merge shard %d",
		    s);
	ok(same_tables(&m, &whole), "merge of 3 shard tables = the single "
	    "run's table");

	/* files: shards saved, the first opened, the others loaded */
	for (s = 0; s < SHARDS; s++) {
		snprintf(name, sizeof name, "shard%d.rc", s);
		ok(rewardcount_save(&shard[s], tmp_path(name)) == 0, "save %s", name);
	}
	ok(rewardcount_save(&whole, tmp_path("whole.rc")) == 0, "save whole");
	ok(rewardcount_open(&f, tmp_path("shard0.rc")) == 0, "open shard0.rc");
	ok(rewardcount_load(&f, tmp_path("shard1.rc")) == 0 &&
	    rewardcount_load(&f, tmp_path("shard2.rc")) == 0, "load shard1, shard2");
	ok(rewardcount_save(&f, tmp_path("merged.rc")) == 0, "save merged");
	ok(same_file(tmp_path("merged.rc"), tmp_path("whole.rc")),
	    "merged file is byte-identical to the single run's");
	ok(same_tables(&f, &whole), "and so is the table");
	rewardcount_release(&f);

	/* round trip: open, save again, same bytes; load into a fresh
	 * table from the same options */
	ok(rewardcount_open(&f, tmp_path("whole.rc")) == 0 && same_tables(&f, &whole),
	    "round trip through rewardcount_open");
	ok(f.bins[0] == 20 && f.dims == 2 && f.opts.mode == REWARDCOUNT_PROGRESS,
	    "settings come back");
	rewardcount_save(&f, tmp_path("again.rc"));
	ok(same_file(tmp_path("again.rc"), tmp_path("whole.rc")),
	    "saved again: same bytes");
	rewardcount_release(&f);
	rewardcount_init(&f, &o);
	ok(rewardcount_load(&f, tmp_path("whole.rc")) == 0 && same_tables(&f, &whole),
	    "round trip through rewardcount_load into a fresh table");
	rewardcount_release(&f);

	/* dump: increasing keys, bins as text, counts sum to N */
	rewardcount_dump_init(&dump, &whole);
	sorted = bins_ok = 1;
	prev = 0;
	total = 0;
	nd = 0;
	while (rewardcount_dump_next(&dump, &e)) {
		if (nd > 0 && e.key <= prev)
			sorted = 0;
		if (e.bin == NULL || e.bin[0] != '[' || e.has_scope ||
		    e.has_task)
			bins_ok = 0;
		prev = e.key;
		total += e.count;
		nd++;
	}
	rewardcount_dump_release(&dump);
	ok(sorted && bins_ok && total == N && nd == rewardcount_entries(&whole),
	    "dump: %zu entries in key order with tuple bins, counts sum to "
	    "%d", nd, N);

	for (s = 0; s < SHARDS; s++)
		rewardcount_release(&shard[s]);
	rewardcount_release(&m);
	rewardcount_release(&whole);
}

static void
test_mismatch(void)
{
	struct rewardcount_opts o;
	struct rewardcount_table a, b;
	char want[512];
	const char *path = tmp_path("b10.rc");
	const uint32_t bins[2] = { 10, 30 };
	double x[2] = { 0.5, 0.5 };

	progress_opts(&o, 2, REWARDCOUNT_UPDATE_BEFORE);
	rewardcount_init(&a, &o);
	rewardcount_step(&a, x, 1, NULL, NULL, NULL, NULL, NULL);
	rewardcount_save(&a, path);
	rewardcount_release(&a);

	o.bins_each = 20;
	rewardcount_init(&b, &o);
	snprintf(want, sizeof want, "bins: 20 here, 10 in %s", path);
	ok(rewardcount_load(&b, path) == -1, "load refuses other bins");
	is_str(loam_error(), want, "message names the difference");
	ok(rewardcount_entries(&b) == 0, "nothing added");
	rewardcount_release(&b);
	o.bins = bins;
	rewardcount_init(&b, &o);
	snprintf(want, sizeof want, "bins[1]: 30 here, 10 in %s", path);
	rewardcount_load(&b, path);
	is_str(loam_error(), want, "per-dimension bins");
	rewardcount_release(&b);
	o.bins = NULL;
	o.bins_each = 10;
	o.key = REWARDCOUNT_KEY_SUM;
	rewardcount_init(&b, &o);
	snprintf(want, sizeof want, "key: sum here, tuple in %s", path);
	rewardcount_load(&b, path);
	is_str(loam_error(), want, "key form");
	rewardcount_release(&b);
	o.key = REWARDCOUNT_KEY_TUPLE;
	o.range = REWARDCOUNT_RANGE_FIXED;
	o.range_min = (const double[]){ 0, -1 };
	o.range_max = (const double[]){ 1, 1 };
	rewardcount_init(&b, &o);
	snprintf(want, sizeof want, "range[1]: -1:1 here, 0:1 in %s", path);
	rewardcount_load(&b, path);
	is_str(loam_error(), want, "ranges");
	rewardcount_release(&b);
	o.range = REWARDCOUNT_RANGE_DEFAULT;
	o.scope = REWARDCOUNT_SCOPE_EPISODE;
	rewardcount_init(&b, &o);
	snprintf(want, sizeof want, "scope: episode here, global in %s",
	    path);
	rewardcount_load(&b, path);
	is_str(loam_error(), want, "scope");
	rewardcount_release(&b);
	simhash_opts(&o, 2, 16, 1);
	rewardcount_init(&b, &o);
	snprintf(want, sizeof want, "mode: simhash here, progress in %s",
	    path);
	rewardcount_load(&b, path);
	is_str(loam_error(), want, "mode");
	rewardcount_release(&b);
	/* bonus settings may differ */
	progress_opts(&o, 2, REWARDCOUNT_UPDATE_AFTER);
	o.lambda = 0.5;
	o.bonus = REWARDCOUNT_BONUS_INV_SQRT_PLUS1;
	rewardcount_init(&b, &o);
	ok(rewardcount_load(&b, path) == 0 && rewardcount_entries(&b) == 1, "update order, "
	    "bonus form and lambda may differ");
	rewardcount_release(&b);

	/* simhash seeds must agree */
	simhash_opts(&o, 2, 16, 1);
	rewardcount_init(&a, &o);
	o.seed = 2;
	rewardcount_init(&b, &o);
	ok(rewardcount_merge(&a, &b, "b.rc") == -1 && strcmp(loam_error(),
	    "seed: 1 here, 2 in b.rc") == 0, "simhash seed: %s",
	    loam_error());
	rewardcount_release(&a);
	rewardcount_release(&b);

	/* warm-up ranges frozen apart cannot be added */
	progress_opts(&o, 1, REWARDCOUNT_UPDATE_BEFORE);
	o.range = REWARDCOUNT_RANGE_WARMUP;
	o.warmup = 2;
	rewardcount_init(&a, &o);
	rewardcount_init(&b, &o);
	rewardcount_step(&a, (const double[]){ 0, 1 }, 2, NULL, NULL, NULL, NULL,
	    NULL);
	rewardcount_step(&b, (const double[]){ 0, 2 }, 2, NULL, NULL, NULL, NULL,
	    NULL);
	ok(rewardcount_merge(&a, &b, "b.rc") == -1 && strcmp(loam_error(),
	    "range[0]: 0:1 here, 0:2 in b.rc") == 0, "frozen apart: %s",
	    loam_error());
	rewardcount_release(&b);
	rewardcount_init(&b, &o);
	rewardcount_step(&b, (const double[]){ 0 }, 1, NULL, NULL, NULL, NULL, NULL);
	ok(rewardcount_merge(&a, &b, "b.rc") == -1 && strcmp(loam_error(),
	    "b.rc: warm-up not finished (1 of 2 vectors)") == 0,
	    "unfinished warm-up: %s", loam_error());
	rewardcount_release(&b);
	rewardcount_init(&b, &o);
	ok(rewardcount_merge(&b, &a, "a.rc") == 0 && b.frozen && b.hi[0] == 1 &&
	    rewardcount_entries(&b) == 2, "a fresh table takes the frozen ranges");
	rewardcount_release(&a);
	rewardcount_release(&b);
}

static void
test_bad_files(void)
{
	struct rewardcount_opts o;
	struct rewardcount_table t, f;
	const char *good = tmp_path("good.rc"), *bad = tmp_path("bad.rc");
	unsigned char *buf;
	size_t len;
	char want[512];
	double x[2] = { 0.1, 0.9 };

	progress_opts(&o, 2, REWARDCOUNT_UPDATE_AFTER);
	rewardcount_init(&t, &o);
	rewardcount_step(&t, x, 1, NULL, NULL, NULL, NULL, NULL);
	rewardcount_save(&t, good);
	buf = slurp(good, &len);

	spit(bad, buf, 0);
	snprintf(want, sizeof want, "%s: empty file, not a reward-count "
	    "table", bad);
	ok(rewardcount_open(&f, bad) == -1, "empty file refused");
	is_str(loam_error(), want, "empty file message");
	spit(bad, (const unsigned char *)"{\"a\":1}\n", 8);
	snprintf(want, sizeof want, "%s: not a reward-count table (bad "
	    "magic)", bad);
	rewardcount_open(&f, bad);
	is_str(loam_error(), want, "bad magic");
	spit(bad, buf, 30);
	snprintf(want, sizeof want, "%s: truncated settings", bad);
	rewardcount_open(&f, bad);
	is_str(loam_error(), want, "truncated settings");
	buf[40] ^= 1;
	spit(bad, buf, len);
	snprintf(want, sizeof want, "%s: settings checksum mismatch", bad);
	rewardcount_open(&f, bad);
	is_str(loam_error(), want, "damaged settings");
	buf[40] ^= 1;
	buf[len - 1] ^= 1;
	spit(bad, buf, len);
	ok(rewardcount_load(&t, bad) == -1 && strstr(loam_error(), "checksum "
	    "mismatch") != NULL, "damaged counts: %s", loam_error());
	buf[len - 1] ^= 1;
	buf[8] = 9;
	spit(bad, buf, len);
	rewardcount_open(&f, bad);
	snprintf(want, sizeof want, "%s: reward-count table format version "
	    "9, this build reads version 1", bad);
	is_str(loam_error(), want, "future version");
	snprintf(want, sizeof want, "%s/none.rc", tmpdir);
	ok(rewardcount_load(&t, want) == -1 && strstr(loam_error(), "No such file") !=
	    NULL, "missing file: %s", loam_error());
	snprintf(want, sizeof want, "%s/no/dir/x.rc", tmpdir);
	ok(rewardcount_save(&t, want) == -1, "save into a missing directory fails");
	ok(rewardcount_count(&t, rewardcount_key(&t, x, 0, 0)) == 1, "failed loads left the "
	    "table alone");
	free(buf);
	rewardcount_release(&t);
}

static void
test_bad_input(void)
{
	struct rewardcount_opts o;
	struct rewardcount_table t;
	double x[6] = { 0.1, 0.2, 0.3, 0.4, INFINITY, 0.6 };
	uint64_t c[3];

	progress_opts(&o, 2, REWARDCOUNT_UPDATE_AFTER);
	rewardcount_init(&t, &o);
	ok(rewardcount_step(&t, x, 3, NULL, NULL, NULL, c, NULL) == -1,
	    "infinity refused");
	is_str(loam_error(), "progress[2][0] is inf", "vectorised position");
	ok(rewardcount_entries(&t) == 0, "a failed step counts nothing, not even the "
	    "good vectors before the bad one");
	x[1] = NAN;
	rewardcount_step(&t, x, 1, NULL, NULL, NULL, c, NULL);
	is_str(loam_error(), "progress[1] is nan", "one vector's position");
	ok(rewardcount_check_length(&t, 2) == 0, "right length");
	ok(rewardcount_check_length(&t, 3) == -1, "wrong length");
	is_str(loam_error(), "progress: 3 values, expected 2",
	    "wrong length message");
	rewardcount_release(&t);
	o.field = "obs";
	rewardcount_init(&t, &o);
	x[0] = -INFINITY;
	rewardcount_step(&t, x, 1, NULL, NULL, NULL, c, NULL);
	is_str(loam_error(), "obs[0] is -inf", "field name in messages");
	rewardcount_release(&t);

	progress_opts(&o, 0, REWARDCOUNT_UPDATE_AFTER);
	ok(rewardcount_init(&t, &o) == -1 && strstr(loam_error(), "no dimensions"),
	    "0 dimensions");
	progress_opts(&o, 2, REWARDCOUNT_UPDATE_AFTER);
	o.bins = (const uint32_t[]){ 3, 0 };
	ok(rewardcount_init(&t, &o) == -1, "0 bins");
	is_str(loam_error(), "bins[1] is 0", "0 bins message");
	o.bins = NULL;
	o.stage_offsets = 1;
	ok(rewardcount_init(&t, &o) == -1, "stage offsets with the tuple key");
	is_str(loam_error(), "stage offsets need the sum key", "message");
	o.stage_offsets = 0;
	o.range = REWARDCOUNT_RANGE_FIXED;
	o.range_min = (const double[]){ 0, 1 };
	o.range_max = (const double[]){ 1, 1 };
	ok(rewardcount_init(&t, &o) == -1, "empty range");
	is_str(loam_error(), "range[1] 1:1: needs finite min < max",
	    "empty range message");
	o.range = REWARDCOUNT_RANGE_WARMUP;
	o.warmup = 0;
	ok(rewardcount_init(&t, &o) == -1, "warm-up of 0");
	o.range = REWARDCOUNT_RANGE_NONE;
	ok(rewardcount_init(&t, &o) == -1, "progress without ranges");
	o.range = REWARDCOUNT_RANGE_DEFAULT;
	o.lambda = NAN;
	ok(rewardcount_init(&t, &o) == -1, "lambda nan");
	ok(rewardcount_init(&t, NULL) == -1, "no options");
	rewardcount_release(&t);
	rewardcount_release(&t);
	ok(1, "rewardcount_release twice on a failed table");
}

/* The names reward-count(1) parses options with are the ones messages
 * use, indexed by the enums. */
static void
test_names(void)
{
	is_str(rewardcount_mode_names[REWARDCOUNT_PROGRESS_REWARD], "progress-reward",
	    "mode names by enum");
	is_str(rewardcount_key_names[REWARDCOUNT_KEY_SUM], "sum", "key names");
	is_str(rewardcount_update_names[REWARDCOUNT_UPDATE_AFTER], "after", "update names");
	is_str(rewardcount_bonus_names[REWARDCOUNT_BONUS_INV_SQRT_N1], "inv_sqrt_n1",
	    "bonus names");
	is_str(rewardcount_scope_names[REWARDCOUNT_SCOPE_EPISODE], "episode", "scope names");
	is_str(rewardcount_mode_name(REWARDCOUNT_EXACT), "exact", "rewardcount_mode_name");
	is_str(rewardcount_scope_name(7), "?", "an unknown value is ?");
}

int
main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/rctest.XXXXXX",
	    base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp %s: %s\n", tmpdir, strerror(errno));
		return 1;
	}
	test_levels();
	test_bonus_forms();
	test_update_orders();
	test_normalise();
	test_progress_reward();
	test_simhash();
	test_exact();
	test_scope_task();
	test_warmup();
	test_vectorised();
	test_merge_files();
	test_mismatch();
	test_bad_files();
	test_bad_input();
	test_names();
	{
		static const char *const names[] = { "pr.rc", "warm.rc",
		    "shard0.rc", "shard1.rc", "shard2.rc", "whole.rc",
		    "merged.rc", "again.rc", "b10.rc", "good.rc", "bad.rc" };
		size_t i;

		for (i = 0; i < sizeof names / sizeof names[0]; i++)
			unlink(tmp_path(names[i]));
	}
	if (rmdir(tmpdir) != 0)
		diag("rmdir %s: %s", tmpdir, strerror(errno));
	return tap_done();
}
