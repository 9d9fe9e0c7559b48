/* rewardcount - see rewardcount.h, which states the semantics. */
#include <sys/stat.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "htab.h"
#include "le.h"
#include "numfmt.h"
#include "rewardcount.h"
#include "rng.h"
#include "util.h"

#define FILE_HEADER	24
#define SLOT_FLAG_BIN	1u
/* |x / quantum| must stay below this for a 64-bit integer */
#define QUANT_LIMIT	9.0e18

static const unsigned char table_magic[8] = {
	0x89, 'L', 'O', 'A', 'M', 'R', 'C', 0x0a
};

const char *const rewardcount_mode_names[4] = {
	"progress", "simhash", "exact", "progress-reward"
};
const char *const rewardcount_key_names[2] = { "tuple", "sum" };
const char *const rewardcount_update_names[3] = {
	"batch-sync", "before", "after"
};
const char *const rewardcount_bonus_names[3] = {
	"inv_sqrt", "inv_sqrt_plus1", "inv_sqrt_n1"
};
const char *const rewardcount_scope_names[3] = {
	"global", "env", "episode"
};
static const char *const range_names[] = {
	"default", "none", "fixed", "warmup"
};

#define NAME_OF(tab, v) ((v) >= 0 && (size_t)(v) < sizeof(tab) / \
	sizeof(tab)[0] ? (tab)[v] : "?")

const char *
rewardcount_mode_name(int mode)
{
	return NAME_OF(rewardcount_mode_names, mode);
}

const char *
rewardcount_key_name(int key)
{
	return NAME_OF(rewardcount_key_names, key);
}

const char *
rewardcount_update_name(int update)
{
	return NAME_OF(rewardcount_update_names, update);
}

const char *
rewardcount_scope_name(int scope)
{
	return NAME_OF(rewardcount_scope_names, scope);
}

static uint64_t
double_bits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof u);
	return u;
}

static double
bits_double(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof d);
	return d;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- options ---- */

void
rewardcount_opts_default(struct rewardcount_opts *o, int mode)
{
	memset(o, 0, sizeof *o);
	o->mode = mode;
	o->bins_each = 10;
	o->key = REWARDCOUNT_KEY_TUPLE;
	o->range = REWARDCOUNT_RANGE_DEFAULT;
	o->simhash_bits = 16;
	o->update = REWARDCOUNT_UPDATE_BATCH_SYNC;
	o->bonus = REWARDCOUNT_BONUS_INV_SQRT;
	o->lambda = mode == REWARDCOUNT_PROGRESS_REWARD ? 1.0 : 1e-3;
	o->scope = REWARDCOUNT_SCOPE_GLOBAL;
	o->progress_reward = REWARDCOUNT_PR_SUM;
	o->store_bins = 1;
}

static int
counting(const struct rewardcount_table *t)
{
	return t->opts.mode != REWARDCOUNT_PROGRESS_REWARD;
}

static int
scoped(const struct rewardcount_table *t)
{
	return t->opts.scope != REWARDCOUNT_SCOPE_GLOBAL;
}

/* Bytes of a vector's bin in key material and payload. */
static size_t
bin_len(const struct rewardcount_table *t)
{
	switch (t->opts.mode) {
	case REWARDCOUNT_PROGRESS:
		return t->opts.key == REWARDCOUNT_KEY_TUPLE ? 4 * t->dims : 8;
	case REWARDCOUNT_EXACT:
		return 8 * t->dims;
	case REWARDCOUNT_SIMHASH:
		return 8;
	default:
		return 0;
	}
}

/* Payload: a flags word, the bin padded to 8 bytes, then the scope id
 * and task hash when they join the key. */
static size_t
payload_size(const struct rewardcount_table *t)
{
	if (!counting(t) || !t->opts.store_bins)
		return 0;
	return 8 + ((bin_len(t) + 7) & ~(size_t)7) + 8 * (size_t)scoped(t) +
	    8 * (size_t)(t->opts.task_join != 0);
}

/*
 * Spread a budget of T levels over the dimensions (rewardcount.h,
 * "Levels per dimension").  The sum key shares the T - 1 steps that
 * separate the possible sums; with stage offsets in proportion to i + 1,
 * remainders always to the last (later, finer) dimensions.
 */
static int
spread_total(struct rewardcount_table *t, uint64_t total)
{
	size_t d = t->dims, i;
	uint64_t steps, share, left, wsum, b, *levels;

	if (t->opts.key == REWARDCOUNT_KEY_TUPLE) {
		b = (uint64_t)floor(pow((double)total, 1.0 / (double)d));
		/* pow() may land an ulp off an exact root */
		while (b > 1 && pow((double)b, (double)d) > (double)total)
			b--;
		while (pow((double)(b + 1), (double)d) <= (double)total)
			b++;
		if (b < 1)
			b = 1;
		if (b > UINT32_MAX)
			return loam_seterr("total bins %llu: too many levels "
			    "per dimension", (unsigned long long)total);
		for (i = 0; i < d; i++)
			t->bins[i] = (uint32_t)b;
		return 0;
	}
	steps = total - 1;
	wsum = t->opts.stage_offsets ? (uint64_t)d * (d + 1) / 2 : d;
	left = steps;
	levels = xcalloc(d, sizeof *levels);
	for (i = 0; i < d; i++) {
		share = t->opts.stage_offsets ?
		    (uint64_t)((double)steps * (double)(i + 1) / (double)wsum) :
		    steps / d;
		if (share > left)
			share = left;
		levels[i] = 1 + share;
		left -= share;
	}
	/* what rounding left over goes to the last dimensions, one each,
	 * round and round */
	for (i = d; left > 0; left--) {
		i = i == 0 ? d - 1 : i - 1;
		levels[i]++;
	}
	for (i = 0; i < d; i++) {
		if (levels[i] > UINT32_MAX) {
			free(levels);
			return loam_seterr("total bins %llu: too many levels "
			    "per dimension", (unsigned long long)total);
		}
		t->bins[i] = (uint32_t)levels[i];
	}
	free(levels);
	return 0;
}

static void
set_offsets(struct rewardcount_table *t)
{
	uint64_t reach = 0;
	size_t i;

	for (i = 0; i < t->dims; i++) {
		t->offset[i] = t->opts.stage_offsets ? reach : 0;
		reach = sat_add(reach, sat_add(t->offset[i], t->bins[i] - 1));
	}
}

static int
check_opts(const struct rewardcount_opts *o)
{
	size_t i;

	if (o->mode < REWARDCOUNT_PROGRESS ||
	    o->mode > REWARDCOUNT_PROGRESS_REWARD)
		return loam_seterr("unknown mode %d", o->mode);
	if (o->dims == 0)
		return loam_seterr("no dimensions: the vector length must "
		    "be at least 1");
	if (o->dims > REWARDCOUNT_DIMS_MAX)
		return loam_seterr("%zu dimensions: more than %d", o->dims,
		    REWARDCOUNT_DIMS_MAX);
	if (o->key != REWARDCOUNT_KEY_TUPLE && o->key != REWARDCOUNT_KEY_SUM)
		return loam_seterr("unknown key form %d", o->key);
	if (o->range < REWARDCOUNT_RANGE_DEFAULT ||
	    o->range > REWARDCOUNT_RANGE_WARMUP)
		return loam_seterr("unknown range kind %d", o->range);
	if (o->update < REWARDCOUNT_UPDATE_BATCH_SYNC ||
	    o->update > REWARDCOUNT_UPDATE_AFTER)
		return loam_seterr("unknown update order %d", o->update);
	if (o->bonus < REWARDCOUNT_BONUS_INV_SQRT ||
	    o->bonus > REWARDCOUNT_BONUS_INV_SQRT_N1)
		return loam_seterr("unknown bonus form %d", o->bonus);
	if (o->scope < REWARDCOUNT_SCOPE_GLOBAL ||
	    o->scope > REWARDCOUNT_SCOPE_EPISODE)
		return loam_seterr("unknown scope %d", o->scope);
	if (o->progress_reward != REWARDCOUNT_PR_SUM &&
	    o->progress_reward != REWARDCOUNT_PR_DELTA)
		return loam_seterr("unknown progress-reward form %d",
		    o->progress_reward);
	if (!isfinite(o->lambda) || o->lambda < 0)
		return loam_seterr("lambda %g: must be finite and >= 0",
		    o->lambda);
	if (!isfinite(o->norm_mean) || o->norm_mean < 0)
		return loam_seterr("batch mean %g: must be finite and >= 0",
		    o->norm_mean);
	if (o->mode == REWARDCOUNT_PROGRESS_REWARD && o->norm_mean > 0)
		return loam_seterr("batch-mean normalisation does not apply "
		    "to progress-reward");
	if ((o->mode == REWARDCOUNT_PROGRESS_REWARD ||
	    o->mode == REWARDCOUNT_EXACT) &&
	    (o->range == REWARDCOUNT_RANGE_FIXED ||
	    o->range == REWARDCOUNT_RANGE_WARMUP))
		return loam_seterr("ranges do not apply to %s mode",
		    rewardcount_mode_name(o->mode));
	if (o->mode == REWARDCOUNT_PROGRESS &&
	    o->range == REWARDCOUNT_RANGE_NONE)
		return loam_seterr("progress mode needs ranges");
	if (o->range == REWARDCOUNT_RANGE_WARMUP && o->warmup == 0)
		return loam_seterr("warm-up of 0 vectors");
	if (o->range == REWARDCOUNT_RANGE_FIXED) {
		if (o->range_min == NULL || o->range_max == NULL)
			return loam_seterr("fixed ranges not given");
		for (i = 0; i < o->dims; i++)
			if (!isfinite(o->range_min[i]) ||
			    !isfinite(o->range_max[i]) ||
			    !(o->range_min[i] < o->range_max[i]) ||
			    !isfinite(o->range_max[i] - o->range_min[i]))
				return loam_seterr("range[%zu] %.17g:%.17g: "
				    "needs finite min < max", i,
				    o->range_min[i], o->range_max[i]);
	}
	if (o->mode == REWARDCOUNT_PROGRESS) {
		if (o->bins != NULL) {
			for (i = 0; i < o->dims; i++)
				if (o->bins[i] == 0)
					return loam_seterr("bins[%zu] is 0",
					    i);
		} else if (o->total_bins == 0 && o->bins_each == 0)
			return loam_seterr("bins is 0");
		if (o->stage_offsets && o->key != REWARDCOUNT_KEY_SUM)
			return loam_seterr("stage offsets need the sum key");
		if (o->store_bins && o->key == REWARDCOUNT_KEY_TUPLE &&
		    o->dims > REWARDCOUNT_STORE_DIMS_MAX)
			return loam_seterr("%zu dimensions: too many to store "
			    "bins (at most %d)", o->dims,
			    REWARDCOUNT_STORE_DIMS_MAX);
	}
	if (o->mode == REWARDCOUNT_SIMHASH && (o->simhash_bits < 1 ||
	    o->simhash_bits > REWARDCOUNT_SIMHASH_BITS_MAX))
		return loam_seterr("simhash bits %u: must be 1 to %d",
		    o->simhash_bits, REWARDCOUNT_SIMHASH_BITS_MAX);
	if (o->mode == REWARDCOUNT_EXACT) {
		if (!isfinite(o->quantum) || o->quantum < 0)
			return loam_seterr("quantum %g: must be finite and "
			    ">= 0", o->quantum);
		if (o->store_bins && o->dims > REWARDCOUNT_STORE_DIMS_MAX)
			return loam_seterr("%zu dimensions: too many to store "
			    "bins (at most %d)", o->dims,
			    REWARDCOUNT_STORE_DIMS_MAX);
	}
	return 0;
}

int
rewardcount_init(struct rewardcount_table *t, const struct rewardcount_opts *o)
{
	size_t d, i, j;
	struct rng r;

	memset(t, 0, sizeof *t);
	if (o == NULL)
		return loam_seterr("no dimensions: the vector length must "
		    "be at least 1");
	if (check_opts(o) != 0)
		return -1;
	t->opts = *o;
	t->opts.bins = NULL;
	t->opts.decreasing = NULL;
	t->opts.range_min = t->opts.range_max = NULL;
	t->field = xstrdup(o->field != NULL ? o->field : "progress");
	t->opts.field = t->field;
	/* Settings that do not apply are zeroed, so that they cannot make
	 * two tables that count alike look different. */
	if (o->mode != REWARDCOUNT_SIMHASH) {
		t->opts.simhash_bits = 0;
		t->opts.seed = 0;
	}
	if (o->mode != REWARDCOUNT_EXACT)
		t->opts.quantum = 0;
	if (o->mode != REWARDCOUNT_PROGRESS) {
		t->opts.key = REWARDCOUNT_KEY_TUPLE;
		t->opts.stage_offsets = 0;
	}
	if (o->mode == REWARDCOUNT_PROGRESS_REWARD)
		t->opts.store_bins = 0;
	t->opts.store_bins = t->opts.store_bins != 0;
	t->opts.task_join = t->opts.task_join != 0;
	t->opts.stage_offsets = t->opts.stage_offsets != 0;

	d = t->dims = o->dims;
	t->bins = xcalloc(d, sizeof *t->bins);
	t->offset = xcalloc(d, sizeof *t->offset);
	t->decreasing = xcalloc(d, 1);
	t->lo = xcalloc(d, sizeof *t->lo);
	t->hi = xcalloc(d, sizeof *t->hi);
	t->scratch = xcalloc(d, sizeof *t->scratch);
	t->keybuf = xmalloc(8 * d + 16);
	if (o->decreasing != NULL)
		for (i = 0; i < d; i++)
			t->decreasing[i] = o->decreasing[i] != 0;

	if (o->mode == REWARDCOUNT_PROGRESS) {
		if (o->bins != NULL)
			memcpy(t->bins, o->bins, d * sizeof *t->bins);
		else if (o->total_bins > 0) {
			if (spread_total(t, o->total_bins) != 0) {
				rewardcount_release(t);
				return -1;
			}
		} else
			for (i = 0; i < d; i++)
				t->bins[i] = o->bins_each;
		set_offsets(t);
	}
	t->opts.total_bins = 0;		/* resolved into bins */
	t->opts.bins_each = 0;

	t->range = o->range;
	if (t->range == REWARDCOUNT_RANGE_DEFAULT)
		t->range = o->mode == REWARDCOUNT_PROGRESS ?
		    REWARDCOUNT_RANGE_FIXED : REWARDCOUNT_RANGE_NONE;
	t->opts.range = t->range;
	if (t->range != REWARDCOUNT_RANGE_WARMUP)
		t->opts.warmup = 0;
	t->frozen = t->range != REWARDCOUNT_RANGE_WARMUP;
	if (t->range == REWARDCOUNT_RANGE_FIXED)
		for (i = 0; i < d; i++) {
			t->lo[i] = o->range == REWARDCOUNT_RANGE_FIXED ?
			    o->range_min[i] : 0;
			t->hi[i] = o->range == REWARDCOUNT_RANGE_FIXED ?
			    o->range_max[i] : 1;
		}

	if (o->mode == REWARDCOUNT_SIMHASH) {
		t->proj = xreallocarray(NULL, (size_t)o->simhash_bits * d,
		    sizeof *t->proj);
		rng_init(&r, o->seed, RNG_REWARDCOUNT_SIMHASH, 0);
		for (j = 0; j < o->simhash_bits; j++)
			for (i = 0; i < d; i++)
				t->proj[j * d + i] = rng_normal(&r);
	}
	if (counting(t)) {
		t->payload = payload_size(t);
		t->counts = htab_new(t->payload, 0);
	} else if (o->progress_reward == REWARDCOUNT_PR_DELTA)
		t->prev = htab_new(8, 0);
	return 0;
}

void
rewardcount_release(struct rewardcount_table *t)
{
	free(t->field);
	free(t->bins);
	free(t->offset);
	free(t->decreasing);
	free(t->lo);
	free(t->hi);
	free(t->warm);
	free(t->warm_id);
	free(t->proj);
	if (t->counts != NULL)
		htab_free(t->counts);
	free(t->pending);
	if (t->prev != NULL)
		htab_free(t->prev);
	free(t->scratch);
	free(t->keybuf);
	memset(t, 0, sizeof *t);
}

uint64_t
rewardcount_task_hash(const char *s, size_t len)
{
	return XXH3_64bits(s, len);
}

/* ---- keys ---- */

/* Position of x within dimension i's range, in [0, 1], decreasing
 * dimensions flipped.  Computing max - x directly for a decreasing one
 * keeps 0.2 on [0, 1] at level 8 of 10, as 1 - u would too, but without
 * relying on it. */
static double
unit(const struct rewardcount_table *t, size_t i, double x)
{
	double w = t->hi[i] - t->lo[i], u;

	u = t->decreasing[i] ? (t->hi[i] - x) / w : (x - t->lo[i]) / w;
	if (!(u > 0))
		return 0;
	return u < 1 ? u : 1;
}

static uint32_t
level(const struct rewardcount_table *t, size_t i, double x)
{
	double u = unit(t, i, x);
	uint32_t b;

	if (u >= 1)
		return t->bins[i] - 1;
	b = (uint32_t)(u * t->bins[i]);
	return b < t->bins[i] ? b : t->bins[i] - 1;
}

static uint64_t
simhash_code(const struct rewardcount_table *t, const double *x)
{
	const double *a = t->proj;
	double *g = t->scratch, y;
	size_t d = t->dims, i;
	unsigned j;
	uint64_t code = 0;

	for (i = 0; i < d; i++)
		g[i] = t->range == REWARDCOUNT_RANGE_NONE ? x[i] :
		    2 * unit(t, i, x[i]) - 1;
	for (j = 0; j < t->opts.simhash_bits; j++, a += d) {
		y = 0;
		for (i = 0; i < d; i++)
			y += a[i] * g[i];
		if (y > 0)
			code |= (uint64_t)1 << j;
	}
	return code;
}

/* The bin of x as bin_len() little-endian bytes. */
static void
make_bin(const struct rewardcount_table *t, const double *x, unsigned char *out)
{
	size_t d = t->dims, i;
	uint64_t sum, b;
	double q;

	switch (t->opts.mode) {
	case REWARDCOUNT_PROGRESS:
		if (t->opts.key == REWARDCOUNT_KEY_TUPLE) {
			for (i = 0; i < d; i++)
				le_put32(out + 4 * i, level(t, i, x[i]));
			break;
		}
		sum = 0;
		for (i = 0; i < d; i++) {
			b = level(t, i, x[i]);
			if (b > 0)
				sum += t->offset[i] + b;
		}
		le_put64(out, sum);
		break;
	case REWARDCOUNT_SIMHASH:
		le_put64(out, simhash_code(t, x));
		break;
	case REWARDCOUNT_EXACT:
		for (i = 0; i < d; i++) {
			if (t->opts.quantum > 0) {
				q = floor(x[i] / t->opts.quantum + 0.5);
				le_put64(out + 8 * i, (uint64_t)(int64_t)q);
			} else
				le_put64(out + 8 * i,
				    double_bits(x[i] == 0 ? 0.0 : x[i]));
		}
		break;
	}
}

/* Key of x: the bin, then the ids that join it, hashed.  Leaves the key
 * material in t->keybuf for make_payload(). */
static uint64_t
make_key(const struct rewardcount_table *t, const double *x, uint64_t scope,
    uint64_t task)
{
	unsigned char *p = t->keybuf;
	size_t n = bin_len(t);

	make_bin(t, x, p);
	if (scoped(t)) {
		le_put64(p + n, scope);
		n += 8;
	}
	if (t->opts.task_join) {
		le_put64(p + n, task);
		n += 8;
	}
	return XXH3_64bits(p, n);
}

/* Fill a new slot's payload from the key material make_key() left. */
static void
make_payload(const struct rewardcount_table *t, unsigned char *payload)
{
	size_t n = bin_len(t), padded = (n + 7) & ~(size_t)7;

	memset(payload, 0, t->payload);
	le_put64(payload, SLOT_FLAG_BIN);
	memcpy(payload + 8, t->keybuf, n);
	memcpy(payload + 8 + padded, t->keybuf + n,
	    t->payload - 8 - padded);
}

uint64_t
rewardcount_key(const struct rewardcount_table *t, const double *x,
    uint64_t scope, uint64_t task)
{
	return make_key(t, x, scope, task);
}

double
rewardcount_bonus(const struct rewardcount_table *t, uint64_t n)
{
	double lambda = t->opts.lambda, nn = (double)n;

	switch (t->opts.bonus) {
	case REWARDCOUNT_BONUS_INV_SQRT_PLUS1:
		return lambda / (sqrt(nn) + 1);
	case REWARDCOUNT_BONUS_INV_SQRT_N1:
		return lambda / sqrt(nn + 1);
	default:
		return lambda / sqrt(n > 0 ? nn : 1);
	}
}

/* ---- counting ---- */

static void
push_pending(struct rewardcount_table *t, uint64_t key)
{
	if (t->npending == t->cap_pending) {
		t->cap_pending = t->cap_pending ? 2 * t->cap_pending : 256;
		t->pending = xreallocarray(t->pending, t->cap_pending,
		    sizeof *t->pending);
	}
	t->pending[t->npending++] = key;
}

/* Insert key (its material in t->keybuf), storing its bin if new, and
 * add delta. */
static struct htab_slot *
insert_key(struct rewardcount_table *t, uint64_t key, uint64_t delta)
{
	struct htab_slot *s;
	int is_new;

	s = htab_insert(t->counts, key, &is_new);
	if (is_new && t->payload > 0)
		make_payload(t, s->payload);
	s->count = sat_add(s->count, delta);
	return s;
}

/* Count one key under the update order; the count it is rewarded
 * with. */
static uint64_t
count_key(struct rewardcount_table *t, uint64_t key)
{
	struct htab_slot *s;

	switch (t->opts.update) {
	case REWARDCOUNT_UPDATE_BEFORE:
		s = insert_key(t, key, 1);
		return s->count == UINT64_MAX ? s->count : s->count - 1;
	case REWARDCOUNT_UPDATE_AFTER:
		return insert_key(t, key, 1)->count;
	default:
		/* The slot is made now when bins are kept, so that the bin
		 * is there when rewardcount_end_batch() adds the count. */
		s = t->payload > 0 ? insert_key(t, key, 0) :
		    htab_lookup(t->counts, key);
		push_pending(t, key);
		return s != NULL ? s->count : 0;
	}
}

/* The warm-up is over: ranges from the kept vectors, then count them. */
static void
freeze(struct rewardcount_table *t)
{
	size_t d = t->dims, i, v;
	const double *x;
	uint64_t key;

	for (i = 0; i < d; i++) {
		t->lo[i] = t->hi[i] = t->warm[i];
		for (v = 1; v < t->nwarm; v++) {
			x = t->warm + v * d;
			if (x[i] < t->lo[i])
				t->lo[i] = x[i];
			if (x[i] > t->hi[i])
				t->hi[i] = x[i];
		}
		/* A constant or overflowing width gets width 1 (see
		 * rewardcount.h). */
		if (!(t->hi[i] > t->lo[i]) ||
		    !isfinite(t->hi[i] - t->lo[i]))
			t->hi[i] = t->lo[i] + 1;
	}
	t->frozen = 1;
	for (v = 0; v < t->nwarm; v++) {
		key = make_key(t, t->warm + v * d, t->warm_id[2 * v],
		    t->warm_id[2 * v + 1]);
		insert_key(t, key, 1);
	}
	free(t->warm);
	free(t->warm_id);
	t->warm = NULL;
	t->warm_id = NULL;
	t->nwarm = 0;
}

static void
keep_warm(struct rewardcount_table *t, const double *x, uint64_t scope,
    uint64_t task)
{
	size_t d = t->dims, cap;

	/* grow by doubling from 16; the capacity is implied by nwarm */
	if (t->nwarm == 0 || (t->nwarm >= 16 &&
	    (t->nwarm & (t->nwarm - 1)) == 0)) {
		cap = t->nwarm ? 2 * t->nwarm : 16;
		t->warm = xreallocarray(t->warm, cap, d * sizeof *t->warm);
		t->warm_id = xreallocarray(t->warm_id, cap,
		    2 * sizeof *t->warm_id);
	}
	memcpy(t->warm + t->nwarm * d, x, d * sizeof *x);
	t->warm_id[2 * t->nwarm] = scope;
	t->warm_id[2 * t->nwarm + 1] = task;
	t->nwarm++;
	if (t->nwarm >= t->opts.warmup)
		freeze(t);
}

uint64_t
rewardcount_warmup_left(const struct rewardcount_table *t)
{
	return t->frozen ? 0 : t->opts.warmup - t->nwarm;
}

int
rewardcount_check_length(const struct rewardcount_table *t, size_t len)
{
	if (len != t->dims)
		return loam_seterr("%s: %zu value%s, expected %zu", t->field,
		    len, len == 1 ? "" : "s", t->dims);
	return 0;
}

/* "[v][i]" for a vectorised batch, "[i]" for one vector. */
static const char *
position(char *at, size_t size, size_t n, size_t v, size_t i)
{
	if (n > 1)
		snprintf(at, size, "[%zu][%zu]", v, i);
	else
		snprintf(at, size, "[%zu]", i);
	return at;
}

static int
check_values(const struct rewardcount_table *t, const double *x, size_t n)
{
	size_t d = t->dims, k, nd = n * d;
	int quantised = t->opts.mode == REWARDCOUNT_EXACT &&
	    t->opts.quantum > 0;
	double q;
	char at[48];

	for (k = 0; k < nd; k++) {
		q = x[k];
		if (!isfinite(q))
			return loam_seterr("%s%s is %s", t->field,
			    position(at, sizeof at, n, k / d, k % d),
			    isnan(q) ? "nan" : q > 0 ? "inf" : "-inf");
		if (quantised && fabs(q / t->opts.quantum) >= QUANT_LIMIT)
			return loam_seterr("%s%s %.17g is out of range for "
			    "quantum %.17g", t->field,
			    position(at, sizeof at, n, k / d, k % d), q,
			    t->opts.quantum);
	}
	return 0;
}

static void
progress_reward(struct rewardcount_table *t, const double *x, size_t n,
    const uint64_t *scope, double *bonus_out)
{
	size_t d = t->dims, v, i;
	struct htab_slot *s;
	double p, prev, r;
	int is_new;

	for (v = 0; v < n; v++) {
		p = 0;
		for (i = 0; i < d; i++)
			p += t->decreasing[i] ? -x[v * d + i] : x[v * d + i];
		r = p;
		if (t->opts.progress_reward == REWARDCOUNT_PR_DELTA) {
			s = htab_insert(t->prev, scoped(t) && scope ?
			    scope[v] : 0, &is_new);
			prev = bits_double(le_get64(s->payload));
			r = is_new ? 0 : p - prev;
			le_put64(s->payload, double_bits(p));
		}
		if (bonus_out != NULL)
			bonus_out[v] = t->opts.lambda * r;
	}
}

int
rewardcount_step(struct rewardcount_table *t, const double *x, size_t n,
    const uint64_t *scope, const uint64_t *task, uint64_t *key_out,
    uint64_t *count_out, double *bonus_out)
{
	size_t d = t->dims, v, nwarm, ncounted;
	uint64_t sc, tk, key, c;
	double b, sum, scale;

	if (check_values(t, x, n) != 0)
		return -1;
	if (!counting(t)) {
		progress_reward(t, x, n, scope, bonus_out);
		if (key_out != NULL)
			memset(key_out, 0, n * sizeof *key_out);
		if (count_out != NULL)
			memset(count_out, 0, n * sizeof *count_out);
		return 0;
	}
	nwarm = 0;
	sum = 0;
	for (v = 0; v < n; v++) {
		sc = scoped(t) && scope != NULL ? scope[v] : 0;
		tk = t->opts.task_join && task != NULL ? task[v] : 0;
		if (!t->frozen) {
			keep_warm(t, x + v * d, sc, tk);
			nwarm++;
			key = c = 0;
			b = 0;
		} else {
			key = make_key(t, x + v * d, sc, tk);
			c = count_key(t, key);
			b = rewardcount_bonus(t, c);
			sum += b;
		}
		if (key_out != NULL)
			key_out[v] = key;
		if (count_out != NULL)
			count_out[v] = c;
		if (bonus_out != NULL)
			bonus_out[v] = b;
	}
	ncounted = n - nwarm;
	/* Warm-up vectors come first in a call, so the counted ones are
	 * its tail. */
	if (t->opts.norm_mean > 0 && bonus_out != NULL && ncounted > 0 &&
	    sum > 0) {
		scale = t->opts.norm_mean / (sum / (double)ncounted);
		for (v = nwarm; v < n; v++)
			bonus_out[v] *= scale;
	}
	return 0;
}

void
rewardcount_end_batch(struct rewardcount_table *t)
{
	if (t->npending == 0)
		return;
	htab_add_batch(t->counts, t->pending, NULL, t->npending);
	t->npending = 0;
}

#define PREFETCH_AHEAD 16

int
rewardcount_count_keys(struct rewardcount_table *t, const uint64_t *keys,
    size_t n, uint64_t *counts_out)
{
	struct htab_slot *s;
	uint64_t c;
	size_t i;

	if (!counting(t))
		return loam_seterr("progress-reward mode keeps no counts");
	if (counts_out == NULL) {
		if (t->opts.update != REWARDCOUNT_UPDATE_BATCH_SYNC) {
			htab_add_batch(t->counts, keys, NULL, n);
			return 0;
		}
		for (i = 0; i < n; i++)
			push_pending(t, keys[i]);
		return 0;
	}
	for (i = 0; i < n; i++) {
		/* Counts wanted back: keys go one by one (a lookup under
		 * batch-sync, an add otherwise), so prefetch a few ahead. */
		if (i + PREFETCH_AHEAD < n)
			htab_prefetch(t->counts, keys[i + PREFETCH_AHEAD]);
		switch (t->opts.update) {
		case REWARDCOUNT_UPDATE_BEFORE:
			c = htab_add(t->counts, keys[i], 1);
			counts_out[i] = c == UINT64_MAX ? c : c - 1;
			break;
		case REWARDCOUNT_UPDATE_AFTER:
			counts_out[i] = htab_add(t->counts, keys[i], 1);
			break;
		default:
			s = htab_lookup(t->counts, keys[i]);
			counts_out[i] = s != NULL ? s->count : 0;
			push_pending(t, keys[i]);
			break;
		}
	}
	return 0;
}

uint64_t
rewardcount_count(const struct rewardcount_table *t, uint64_t key)
{
	struct htab_slot *s;

	if (t->counts == NULL)
		return 0;
	s = htab_lookup(t->counts, key);
	return s != NULL ? s->count : 0;
}

size_t
rewardcount_entries(const struct rewardcount_table *t)
{
	return t->counts != NULL ? htab_count(t->counts) : 0;
}

/* ---- bins as JSON text ---- */

struct text {
	char *buf;
	size_t size, len;
};

static void
text_putc(struct text *w, char c)
{
	if (w->len + 1 < w->size)
		w->buf[w->len] = c;
	w->len++;
}

static void
text_puts(struct text *w, const char *s)
{
	while (*s != '\0')
		text_putc(w, *s++);
}

/* Numbers by the suite's one rule (numfmt.h, loam-records(5)). */
static void
text_u64(struct text *w, uint64_t v)
{
	char tmp[NUMFMT_INT_MAX];

	numfmt_uint64(tmp, v);
	text_puts(w, tmp);
}

static void
text_i64(struct text *w, int64_t v)
{
	char tmp[NUMFMT_INT_MAX];

	numfmt_int64(tmp, v);
	text_puts(w, tmp);
}

static void
text_double(struct text *w, double d)
{
	char tmp[NUMFMT_DOUBLE_MAX];

	numfmt_double(tmp, d);
	text_puts(w, tmp);
}

static void
text_end(struct text *w)
{
	if (w->size > 0)
		w->buf[w->len < w->size ? w->len : w->size - 1] = '\0';
}

/* Format bin bytes as make_bin() lays them out. */
static void
format_bin(const struct rewardcount_table *t, const unsigned char *bin,
    struct text *w)
{
	size_t d = t->dims, i;

	switch (t->opts.mode) {
	case REWARDCOUNT_PROGRESS:
		if (t->opts.key == REWARDCOUNT_KEY_SUM) {
			text_u64(w, le_get64(bin));
			return;
		}
		text_putc(w, '[');
		for (i = 0; i < d; i++) {
			if (i > 0)
				text_putc(w, ',');
			text_u64(w, le_get32(bin + 4 * i));
		}
		text_putc(w, ']');
		return;
	case REWARDCOUNT_SIMHASH:
		text_u64(w, le_get64(bin));
		return;
	case REWARDCOUNT_EXACT:
		text_putc(w, '[');
		for (i = 0; i < d; i++) {
			if (i > 0)
				text_putc(w, ',');
			if (t->opts.quantum > 0)
				text_i64(w, (int64_t)le_get64(bin + 8 * i));
			else
				text_double(w, bits_double(le_get64(bin +
				    8 * i)));
		}
		text_putc(w, ']');
		return;
	default:
		text_puts(w, "null");
	}
}

size_t
rewardcount_bin_json(const struct rewardcount_table *t, const double *x,
    char *buf, size_t size)
{
	struct text w = { buf, size, 0 };

	if (!counting(t) || !t->frozen)
		text_puts(&w, "null");
	else {
		make_bin(t, x, t->keybuf);
		format_bin(t, t->keybuf, &w);
	}
	text_end(&w);
	return w.len;
}

/* ---- settings: comparison ---- */

static int
differ(const char *what, const char *here, const char *there,
    const char *name)
{
	return loam_seterr("%s: %s here, %s in %s", what, here, there, name);
}

static int
differ_u64(const char *what, uint64_t here, uint64_t there, const char *name)
{
	return loam_seterr("%s: %llu here, %llu in %s", what,
	    (unsigned long long)here, (unsigned long long)there, name);
}

static const char *
on_off(int v)
{
	return v ? "on" : "off";
}

static int
all_equal_u32(const uint32_t *a, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (a[i] != a[0])
			return 0;
	return 1;
}

int
rewardcount_compatible(const struct rewardcount_table *a,
    const struct rewardcount_table *b, const char *name)
{
	const struct rewardcount_opts *x = &a->opts, *y = &b->opts;
	char what[64], here[80], there[80];
	size_t i;

	if (x->mode != y->mode)
		return differ("mode", rewardcount_mode_name(x->mode),
		    rewardcount_mode_name(y->mode), name);
	if (a->dims != b->dims)
		return differ_u64("dimensions", a->dims, b->dims, name);
	if (x->key != y->key)
		return differ("key", rewardcount_key_name(x->key),
		    rewardcount_key_name(y->key), name);
	if (x->mode == REWARDCOUNT_PROGRESS) {
		if (all_equal_u32(a->bins, a->dims) &&
		    all_equal_u32(b->bins, b->dims) &&
		    a->bins[0] != b->bins[0])
			return differ_u64("bins", a->bins[0], b->bins[0],
			    name);
		for (i = 0; i < a->dims; i++)
			if (a->bins[i] != b->bins[i]) {
				snprintf(what, sizeof what, "bins[%zu]", i);
				return differ_u64(what, a->bins[i],
				    b->bins[i], name);
			}
	}
	if (x->stage_offsets != y->stage_offsets)
		return differ("stage offsets", on_off(x->stage_offsets),
		    on_off(y->stage_offsets), name);
	for (i = 0; i < a->dims; i++)
		if (a->decreasing[i] != b->decreasing[i]) {
			snprintf(what, sizeof what, "decreasing[%zu]", i);
			return differ(what, a->decreasing[i] ? "yes" : "no",
			    b->decreasing[i] ? "yes" : "no", name);
		}
	if (a->range != b->range)
		return differ("range", range_names[a->range],
		    range_names[b->range], name);
	if (x->warmup != y->warmup)
		return differ_u64("warm-up", x->warmup, y->warmup, name);
	if (a->range != REWARDCOUNT_RANGE_NONE && a->frozen && b->frozen)
		for (i = 0; i < a->dims; i++)
			if (a->lo[i] != b->lo[i] || a->hi[i] != b->hi[i]) {
				snprintf(what, sizeof what, "range[%zu]", i);
				snprintf(here, sizeof here, "%.17g:%.17g",
				    a->lo[i], a->hi[i]);
				snprintf(there, sizeof there, "%.17g:%.17g",
				    b->lo[i], b->hi[i]);
				return differ(what, here, there, name);
			}
	if (x->scope != y->scope)
		return differ("scope", rewardcount_scope_name(x->scope),
		    rewardcount_scope_name(y->scope), name);
	if (x->task_join != y->task_join)
		return differ("task join", on_off(x->task_join),
		    on_off(y->task_join), name);
	if (x->simhash_bits != y->simhash_bits)
		return differ_u64("simhash bits", x->simhash_bits,
		    y->simhash_bits, name);
	if (x->seed != y->seed)
		return differ_u64("seed", x->seed, y->seed, name);
	if (x->quantum != y->quantum) {
		snprintf(here, sizeof here, "%.17g", x->quantum);
		snprintf(there, sizeof there, "%.17g", y->quantum);
		return differ("quantum", here, there, name);
	}
	if (x->store_bins != y->store_bins)
		return differ("store bins", on_off(x->store_bins),
		    on_off(y->store_bins), name);
	return 0;
}

int
rewardcount_merge(struct rewardcount_table *dst,
    const struct rewardcount_table *src, const char *name)
{
	size_t d = dst->dims, v;

	if (rewardcount_compatible(dst, src, name) != 0)
		return -1;
	if (!counting(dst))
		return loam_seterr("progress-reward mode keeps no counts");
	if (dst->range == REWARDCOUNT_RANGE_WARMUP &&
	    !(dst->frozen && src->frozen)) {
		/* A fresh table takes over the other's warm-up; tables
		 * that have both counted on ranges of their own cannot
		 * be added. */
		if (!dst->frozen && dst->nwarm == 0 &&
		    htab_count(dst->counts) == 0) {
			if (src->frozen) {
				memcpy(dst->lo, src->lo, d * sizeof *dst->lo);
				memcpy(dst->hi, src->hi, d * sizeof *dst->hi);
				dst->frozen = 1;
			} else
				for (v = 0; v < src->nwarm && !dst->frozen;
				    v++)
					keep_warm(dst, src->warm + v * d,
					    src->warm_id[2 * v],
					    src->warm_id[2 * v + 1]);
		} else if (!src->frozen)
			return loam_seterr("%s: warm-up not finished (%zu of "
			    "%llu vectors)", name, src->nwarm,
			    (unsigned long long)src->opts.warmup);
		else
			return loam_seterr("warm-up not finished here (%zu of "
			    "%llu vectors), so the ranges of %s cannot be "
			    "added", dst->nwarm,
			    (unsigned long long)dst->opts.warmup, name);
	}
	if (htab_merge(dst->counts, src->counts) != 0)
		return -1;
	if (src->npending > 0)
		htab_add_batch(dst->counts, src->pending, NULL,
		    src->npending);
	return 0;
}

/* ---- files ---- */

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static unsigned char *
buf_grow(struct buf *b, size_t n)
{
	unsigned char *at;

	if (b->len + n > b->cap) {
		while (b->len + n > b->cap)
			b->cap = b->cap ? 2 * b->cap : 256;
		b->p = xrealloc(b->p, b->cap);
	}
	at = b->p + b->len;
	b->len += n;
	return at;
}

static void
buf_u32(struct buf *b, uint32_t v)
{
	le_put32(buf_grow(b, 4), v);
}

static void
buf_u64(struct buf *b, uint64_t v)
{
	le_put64(buf_grow(b, 8), v);
}

/*
 * The settings block, in this order: u32 mode, key, stage offsets,
 * scope, task join, range kind (resolved), store bins, simhash bits,
 * frozen, 0 (padding); u64 D, seed, warm-up length, kept vectors W;
 * f64 quantum; per dimension u32 bins, u32 decreasing, f64 min, f64 max;
 * W x (D f64, u64 scope, u64 task); u64 XXH3 of the file up to here.
 */
static void
write_settings(const struct rewardcount_table *t, struct buf *b)
{
	size_t d = t->dims, i, v;
	unsigned char *len_at;

	memcpy(buf_grow(b, 8), table_magic, 8);
	buf_u32(b, REWARDCOUNT_FORMAT_VERSION);
	buf_u32(b, 0);
	buf_u64(b, 0);		/* S, below */
	buf_u32(b, (uint32_t)t->opts.mode);
	buf_u32(b, (uint32_t)t->opts.key);
	buf_u32(b, (uint32_t)t->opts.stage_offsets);
	buf_u32(b, (uint32_t)t->opts.scope);
	buf_u32(b, (uint32_t)t->opts.task_join);
	buf_u32(b, (uint32_t)t->range);
	buf_u32(b, (uint32_t)t->opts.store_bins);
	buf_u32(b, t->opts.simhash_bits);
	buf_u32(b, (uint32_t)t->frozen);
	buf_u32(b, 0);
	buf_u64(b, d);
	buf_u64(b, t->opts.seed);
	buf_u64(b, t->opts.warmup);
	buf_u64(b, t->nwarm);
	buf_u64(b, double_bits(t->opts.quantum));
	for (i = 0; i < d; i++) {
		buf_u32(b, t->bins[i]);
		buf_u32(b, t->decreasing[i]);
		buf_u64(b, double_bits(t->frozen ? t->lo[i] : 0));
		buf_u64(b, double_bits(t->frozen ? t->hi[i] : 0));
	}
	for (v = 0; v < t->nwarm; v++) {
		for (i = 0; i < d; i++)
			buf_u64(b, double_bits(t->warm[v * d + i]));
		buf_u64(b, t->warm_id[2 * v]);
		buf_u64(b, t->warm_id[2 * v + 1]);
	}
	len_at = b->p + 16;
	le_put64(len_at, (uint64_t)(b->len + 8 - FILE_HEADER));
	buf_u64(b, XXH3_64bits(b->p, b->len));
}

int
rewardcount_write(struct rewardcount_table *t, FILE *fp, const char *name)
{
	struct buf b = { NULL, 0, 0 };
	int failed;

	if (!counting(t))
		return loam_seterr("%s: progress-reward mode keeps no counts "
		    "to save", name);
	rewardcount_end_batch(t);
	write_settings(t, &b);
	errno = 0;
	failed = fwrite(b.p, 1, b.len, fp) != b.len;
	free(b.p);
	if (failed)
		return loam_seterr("%s: %s", name,
		    errno ? strerror(errno) : "write error");
	return htab_write(t->counts, fp, name);
}

static int
write_table(FILE *fp, const char *name, void *t)
{
	return rewardcount_write(t, fp, name);
}

int
rewardcount_save(struct rewardcount_table *t, const char *path)
{
	/* Refused before anything is opened (a FIFO would block). */
	if (!counting(t))
		return loam_seterr("%s: progress-reward mode keeps no counts "
		    "to save", path);
	return atomic_save(path, write_table, t);
}

/* Read exactly n bytes; a short read is "truncated WHAT". */
static int
read_full(FILE *fp, void *p, size_t n, const char *name, const char *what)
{
	if (n > 0 && fread(p, 1, n, fp) != n) {
		if (ferror(fp))
			return loam_seterr("%s: %s", name, strerror(errno));
		return loam_seterr("%s: truncated %s", name, what);
	}
	return 0;
}

/* The settings block of length s, read in steps so that a corrupt
 * length from a pipe costs no more memory than the bytes that come. */
static int
read_settings(FILE *fp, const char *name, uint64_t s, struct buf *b)
{
	struct stat st;
	off_t pos;
	size_t step;

	if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) &&
	    (pos = ftello(fp)) >= 0 && pos <= st.st_size &&
	    s > (uint64_t)(st.st_size - pos))
		return loam_seterr("%s: truncated settings", name);
	while (s > 0) {
		step = s < ((size_t)1 << 20) ? (size_t)s : (size_t)1 << 20;
		if (read_full(fp, buf_grow(b, step), step, name,
		    "settings") != 0)
			return -1;
		s -= step;
	}
	return 0;
}

/* Parse a file's settings into a fresh table t (no counts yet). */
static int
parse_settings(struct rewardcount_table *t, const unsigned char *p, size_t len,
    const char *name)
{
	struct rewardcount_opts o;
	const unsigned char *q = p + FILE_HEADER, *end = p + len - 8;
	uint32_t mode, range, frozen;
	uint64_t d, nwarm, i, v;
	uint32_t *bins = NULL;
	unsigned char *dec = NULL;
	double *lo = NULL, *hi = NULL;
	int rv = -1;

#define NEED(n) do { if ((size_t)(end - q) < (n)) goto short_block; } while (0)
	NEED(40 + 40);
	mode = le_get32(q);
	rewardcount_opts_default(&o, (int)mode);
	o.key = (int)le_get32(q + 4);
	o.stage_offsets = (int)le_get32(q + 8);
	o.scope = (int)le_get32(q + 12);
	o.task_join = (int)le_get32(q + 16);
	range = le_get32(q + 20);
	o.store_bins = (int)le_get32(q + 24);
	o.simhash_bits = le_get32(q + 28);
	frozen = le_get32(q + 32);
	q += 40;
	d = le_get64(q);
	o.seed = le_get64(q + 8);
	o.warmup = le_get64(q + 16);
	nwarm = le_get64(q + 24);
	o.quantum = bits_double(le_get64(q + 32));
	q += 40;
	if (d == 0 || d > (uint64_t)(end - q) / 24 ||
	    nwarm > ((uint64_t)(end - q) - 24 * d) / (8 * (d + 2)))
		goto short_block;
	o.dims = (size_t)d;
	if (range > REWARDCOUNT_RANGE_WARMUP) {
		loam_seterr("%s: unknown range kind %lu", name,
		    (unsigned long)range);
		goto out;
	}
	o.range = (int)range;
	bins = xcalloc(o.dims, sizeof *bins);
	dec = xcalloc(o.dims, 1);
	lo = xcalloc(o.dims, sizeof *lo);
	hi = xcalloc(o.dims, sizeof *hi);
	for (i = 0; i < d; i++, q += 24) {
		bins[i] = le_get32(q);
		dec[i] = (unsigned char)(le_get32(q + 4) != 0);
		lo[i] = bits_double(le_get64(q + 8));
		hi[i] = bits_double(le_get64(q + 16));
	}
	if (o.mode == REWARDCOUNT_PROGRESS)
		o.bins = bins;
	o.decreasing = dec;
	if (o.range == REWARDCOUNT_RANGE_FIXED) {
		o.range_min = lo;
		o.range_max = hi;
	}
	if (rewardcount_init(t, &o) != 0) {
		char why[256];

		snprintf(why, sizeof why, "%s", loam_error());
		loam_seterr("%s: bad settings: %s", name, why);
		goto out;
	}
	if (t->range == REWARDCOUNT_RANGE_WARMUP && frozen) {
		for (i = 0; i < d; i++)
			if (!isfinite(lo[i]) || !isfinite(hi[i]) ||
			    !(lo[i] < hi[i])) {
				loam_seterr("%s: bad frozen range[%llu]", name,
				    (unsigned long long)i);
				rewardcount_release(t);
				goto out;
			}
		memcpy(t->lo, lo, o.dims * sizeof *lo);
		memcpy(t->hi, hi, o.dims * sizeof *hi);
		t->frozen = 1;
	}
	if (nwarm > 0 && (t->frozen || nwarm >= o.warmup)) {
		loam_seterr("%s: bad settings: %llu warm-up vectors kept",
		    name, (unsigned long long)nwarm);
		rewardcount_release(t);
		goto out;
	}
	for (v = 0; v < nwarm; v++, q += 8 * (d + 2)) {
		for (i = 0; i < d; i++)
			t->scratch[i] = bits_double(le_get64(q + 8 * i));
		keep_warm(t, t->scratch, le_get64(q + 8 * d),
		    le_get64(q + 8 * d + 8));
	}
	if (q != end) {
		rewardcount_release(t);
		goto short_block;
	}
	rv = 0;
	goto out;

short_block:
	loam_seterr("%s: bad settings block", name);
out:
	free(bins);
	free(dec);
	free(lo);
	free(hi);
	return rv;
#undef NEED
}

/* Read a whole table file into a fresh table. */
static int
read_table(struct rewardcount_table *t, FILE *fp, const char *name)
{
	struct buf b = { NULL, 0, 0 };
	size_t got;
	uint64_t s, sum;
	uint32_t version;

	got = fread(buf_grow(&b, FILE_HEADER), 1, FILE_HEADER, fp);
	if (got < FILE_HEADER && ferror(fp)) {
		loam_seterr("%s: %s", name, strerror(errno));
		goto fail;
	}
	if (got == 0) {
		loam_seterr("%s: empty file, not a reward-count table", name);
		goto fail;
	}
	if (memcmp(b.p, table_magic, got < 8 ? got : 8) != 0) {
		loam_seterr("%s: not a reward-count table (bad magic)", name);
		goto fail;
	}
	if (got < FILE_HEADER) {
		loam_seterr("%s: truncated header", name);
		goto fail;
	}
	version = le_get32(b.p + 8);
	if (version != REWARDCOUNT_FORMAT_VERSION) {
		loam_seterr("%s: reward-count table format version %lu, this "
		    "build reads version %d", name, (unsigned long)version,
		    REWARDCOUNT_FORMAT_VERSION);
		goto fail;
	}
	s = le_get64(b.p + 16);
	if (s < 8 || read_settings(fp, name, s, &b) != 0) {
		if (s < 8)
			loam_seterr("%s: bad settings block", name);
		goto fail;
	}
	sum = XXH3_64bits(b.p, b.len - 8);
	if (sum != le_get64(b.p + b.len - 8)) {
		loam_seterr("%s: settings checksum mismatch", name);
		goto fail;
	}
	if (parse_settings(t, b.p, b.len, name) != 0)
		goto fail;
	free(b.p);
	htab_free(t->counts);
	t->counts = htab_read(fp, name, t->payload);
	if (t->counts == NULL) {
		rewardcount_release(t);
		return -1;
	}
	return 0;

fail:
	free(b.p);
	return -1;
}

int
rewardcount_read(struct rewardcount_table *t, FILE *fp, const char *name)
{
	struct rewardcount_table file;
	int rv;

	if (read_table(&file, fp, name) != 0)
		return -1;
	rv = rewardcount_merge(t, &file, name);
	rewardcount_release(&file);
	return rv;
}

int
rewardcount_load(struct rewardcount_table *t, const char *path)
{
	FILE *fp;
	int rv;

	if ((fp = fopen(path, "rb")) == NULL)
		return loam_seterr("%s: %s", path, strerror(errno));
	rv = rewardcount_read(t, fp, path);
	fclose(fp);
	return rv;
}

int
rewardcount_open(struct rewardcount_table *t, const char *path)
{
	FILE *fp;
	int rv;

	memset(t, 0, sizeof *t);
	if ((fp = fopen(path, "rb")) == NULL)
		return loam_seterr("%s: %s", path, strerror(errno));
	rv = read_table(t, fp, path);
	fclose(fp);
	return rv;
}

/* ---- dump ---- */

static int
compare_slots(const void *a, const void *b)
{
	const struct htab_slot *x = *(const struct htab_slot *const *)a;
	const struct htab_slot *y = *(const struct htab_slot *const *)b;

	return x->key < y->key ? -1 : x->key > y->key;
}

void
rewardcount_dump_init(struct rewardcount_dump *d,
    const struct rewardcount_table *t)
{
	struct htab_slot *s;
	size_t cursor = 0, n;

	memset(d, 0, sizeof *d);
	d->t = t;
	if (t->counts == NULL)
		return;
	n = htab_count(t->counts);
	d->slots = xreallocarray(NULL, n ? n : 1, sizeof *d->slots);
	/* count 0: a slot made for a bin whose batch has not ended */
	while ((s = htab_next(t->counts, &cursor)) != NULL)
		if (s->count > 0)
			d->slots[d->n++] = s;
	qsort(d->slots, d->n, sizeof *d->slots, compare_slots);
	d->text_size = 64;
	d->text = xmalloc(d->text_size);
}

int
rewardcount_dump_next(struct rewardcount_dump *d, struct rewardcount_entry *e)
{
	const struct rewardcount_table *t = d->t;
	const struct htab_slot *s;
	const unsigned char *p;
	struct text w;
	size_t padded;

	if (d->i >= d->n)
		return 0;
	s = d->slots[d->i++];
	memset(e, 0, sizeof *e);
	e->key = s->key;
	e->count = s->count;
	if (t->payload == 0)
		return 1;
	p = s->payload;
	if ((le_get64(p) & SLOT_FLAG_BIN) == 0)
		return 1;
	for (;;) {
		w.buf = d->text;
		w.size = d->text_size;
		w.len = 0;
		format_bin(t, p + 8, &w);
		if (w.len < d->text_size)
			break;
		d->text_size = w.len + 1;
		d->text = xrealloc(d->text, d->text_size);
	}
	text_end(&w);
	e->bin = d->text;
	padded = (bin_len(t) + 7) & ~(size_t)7;
	p += 8 + padded;
	if (scoped(t)) {
		e->has_scope = 1;
		e->scope = le_get64(p);
		p += 8;
	}
	if (t->opts.task_join) {
		e->has_task = 1;
		e->task = le_get64(p);
	}
	return 1;
}

void
rewardcount_dump_release(struct rewardcount_dump *d)
{
	free(d->slots);
	free(d->text);
	memset(d, 0, sizeof *d);
}

void
rewardcount_reserve(struct rewardcount_table *t, size_t expect)
{
	if (t->counts != NULL) {
		htab_reserve(t->counts, expect);
		htab_populate(t->counts);
	}
}
