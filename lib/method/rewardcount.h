/*
 * rewardcount - count-based intrinsic rewards over task-progress vectors
 * (Sarukkai et al. 2024, "Automated Rewards via LLM-Generated Progress
 * Functions"), the SimHash baseline (Tang et al. 2017), exact-state counts
 * and progress-as-reward; mergeable count tables on lib/htab.
 * reward-count(1) maps its options onto this module;
 * research/reward-count.md (cited as §9 and so on) gives the method.
 *
 * A table is configured once (struct rewardcount_opts) and then fed batches of
 * n vectors of D doubles each (row-major, n x D): rewardcount_step() turns
 * every vector into a 64-bit key, counts it and returns the count N it was
 * rewarded with and the bonus.  The modes:
 *
 * REWARDCOUNT_PROGRESS
 *		Each value is scaled by its range and cut into levels:
 *
 *		    u_i = clip((x_i - min_i) / (max_i - min_i), 0, 1)
 *		    u_i = (max_i - x_i) / (max_i - min_i), clipped,
 *			  when dimension i is decreasing (y_i, §3.1)
 *		    b_i = min(floor(u_i * bins_i), bins_i - 1)
 *
 *		so with [0,1] and 10 levels 0 -> 0, 0.0999 -> 0, 0.1 -> 1,
 *		1 -> 9 (the top edge joins the last level), -0.5 -> 0,
 *		1.7 -> 9, and decreasing 0.2 -> 8 (§6 item 2).  The bin is
 *		the tuple (b_0 .. b_{D-1}) (REWARDCOUNT_KEY_TUPLE, the
 *		default: keeps parallel subtasks apart) or the paper's sum
 *		B = sum c_i (REWARDCOUNT_KEY_SUM, §2.2 step 3), where
 *		c_i = b_i, or with stage offsets (below) c_i = 0 for b_i = 0
 *		and off_i + b_i else.
 * REWARDCOUNT_SIMHASH
 *		The code sgn(A g(x)) of k bits (Tang et al.): A is k x D, N(0,1)
 *		entries drawn at rewardcount_init() by rng_normal() from
 *		rng_init(seed, RNG_REWARDCOUNT_SIMHASH, 0), row-major, row j
 *		first; bit j of the code is 1 when (A g(x))_j > 0.  g(x) = x
 *		(REWARDCOUNT_RANGE_NONE, the default), or 2 u - 1 with u as
 *		above when ranges are given (fixed or warm-up), which centres
 *		the input as Tang's preprocessing does.  The bin is the
 *		code, 0 .. 2^k - 1.
 * REWARDCOUNT_EXACT
 *		The state itself: q_i = floor(x_i / quantum + 0.5) as a
 *		64-bit integer, or, with quantum 0 (the default), the
 *		double's bits (-0 counted as +0).  The bin is q.
 * REWARDCOUNT_PROGRESS_REWARD
 *		No counts: the bonus is lambda * P with P = sum_i s_i x_i
 *		(s_i = -1 for a decreasing dimension, else 1), the paper's
 *		ProgressAsReward (REWARDCOUNT_PR_SUM), or its change P - P_prev
 *		since the previous vector of the same scope
 *		(REWARDCOUNT_PR_DELTA, the potential-based form of §4.2), 0 for
 *		a scope's first vector.  Ranges, bins and keys do not apply; key
 *		and count are 0.
 *
 * Keys.  The key is XXH3_64bits (seed 0: keys never depend on the run's seed,
 * so shards run with different seeds still merge) of the little-endian words,
 * in order: the bin (tuple: D uint32 levels; sum: uint64 B; simhash: uint64
 * code; exact: D int64 q or double bits), the scope id (only when opts.scope is
 * not REWARDCOUNT_SCOPE_GLOBAL), the task hash (only when opts.task_join).  The
 * caller makes scope ids (a hash of the env, or of env and episode) and task
 * hashes (rewardcount_task_hash()); the library only joins them to the key.
 * Counts are global by default (§2.3: one table for all parallel environments,
 * never reset).
 *
 * Levels per dimension: opts.bins[i], or opts.bins_each for every
 * dimension, or opts.total_bins T spread over the D dimensions:
 *	tuple		every bins_i = floor(T^(1/D)), at least 1, so the
 *			product is at most T;
 *	sum		sum_i (bins_i - 1) + 1 = T, the possible sums
 *			without offsets: T - 1 steps shared equally, the
 *			remainder going to the last dimensions; with stage
 *			offsets shared in proportion to i + 1 instead
 *			("finer granularity for later subtasks", §2.2
 *			step 2), the remainder again to the last ones.
 * Stage offsets (opts.stage_offsets, sum key only): off_0 = 0 and
 * off_i = sum_{j<i} (off_j + bins_j - 1), the largest sum the earlier
 * dimensions can reach, so a state in which subtask i has started (b_i
 * > 0) always sums above every state in which only earlier subtasks
 * have (the reading of §2.2 "subtask i maps to an integer range above
 * every value reachable while earlier subtasks are incomplete").  For
 * strictly sequential subtasks the plain sum already orders the stages
 * (§5.3: sum and tuple give identical runs); offsets matter when a later
 * subtask starts before an earlier one is complete.
 *
 * Ranges (opts.range):
 *	REWARDCOUNT_RANGE_DEFAULT
 *			progress: [0, 1] for every dimension; the other
 *			modes: REWARDCOUNT_RANGE_NONE
 *	REWARDCOUNT_RANGE_NONE
 *			no scaling (simhash, exact); refused for progress
 *	REWARDCOUNT_RANGE_FIXED
 *			range_min[i], range_max[i], finite, min < max
 *	REWARDCOUNT_RANGE_WARMUP
 *			estimated from the first opts.warmup vectors (all
 *			scopes together), then frozen for good and recorded
 *			in the table file (§7).  A dimension that is
 *			constant during the warm-up gets [v, v + 1]
 *			(progress usually lies in [0, 1], and a later
 *			subtask is still 0 while warming up).
 * During the warm-up nothing is delayed: a warm-up vector is answered at once
 * with key 0, count 0 and bonus 0, and kept.  When the warm-up-th vector
 * arrives the ranges freeze and every kept vector is binned and counted
 * (directly into the table, as a batch before the current one), so the table
 * ends as if they had been counted from the start; only their own bonuses were
 * 0.  Vectors after the freeze in the same rewardcount_step() call are answered
 * normally.  rewardcount_warmup_left() tells the caller how many of the next
 * vectors will be warm-up vectors.  Progress-reward mode refuses ranges.
 *
 * Update order (opts.update) decides which count N a vector is rewarded
 * with; count_out returns that N:
 *	REWARDCOUNT_UPDATE_BATCH_SYNC
 *			(default) N is the key's count before the current
 *			batch: every vector of a batch, duplicates
 *			included, sees the same snapshot, and the batch's keys
 *			are added when the batch ends (rewardcount_end_batch()).
 *			A batch may span several rewardcount_step() calls
 *			(records that share an iteration marker); the result
 *			does not depend on how a batch is split into calls or
 *			ordered, which makes sharded runs deterministic (§8.4).
 *	REWARDCOUNT_UPDATE_BEFORE
 *			N is the count before this vector (earlier vectors
 *			of the same call included), then it is added.  A new
 *			key has N = 0.
 *	REWARDCOUNT_UPDATE_AFTER
 *			the vector is added, then N is the count after it
 *			(>= 1): Tang et al.'s Algorithm 1, EPG, §5.3's toy.
 * Under BEFORE and AFTER one call with n vectors gives exactly what n
 * calls with one vector each give; under BATCH_SYNC the same holds when
 * the batch is ended only after the last of them.
 *
 * Bonus forms (opts.bonus), lambda = opts.lambda:
 *	REWARDCOUNT_BONUS_INV_SQRT
 *			lambda / sqrt(max(N, 1)): the paper's lambda /
 *			sqrt(N) (§2.1), with N = 0 (a key never seen before
 *			the batch, under BEFORE or BATCH_SYNC) rewarded as
 *			N = 1, which is EPG's 1 / max(1, sqrt(n)) (§4.1)
 *	REWARDCOUNT_BONUS_INV_SQRT_PLUS1
 *			lambda / (sqrt(N) + 1): the precursor's form (§2.3);
 *			N = 0, 1, 3 give 1, 0.5, 0.3660
 *	REWARDCOUNT_BONUS_INV_SQRT_N1
 *			lambda / sqrt(N + 1)
 * opts.norm_mean > 0 rescales the bonuses of each rewardcount_step() call so
 * that their mean is norm_mean (the precursor's bin_reward_boost, 0.01, §2.3);
 * lambda then cancels.  Warm-up vectors (bonus 0) are left out of the mean.  It
 * is per call, not per batch: a batch-wide mean would have to hold back output.
 *
 * Table files, version 1 (integers little-endian, doubles IEEE 754 bits):
 *
 *	offset	size	field
 *	0	8	magic: 0x89 'L' 'O' 'A' 'M' 'R' 'C' 0x0a
 *	8	4	format version: 1
 *	12	4	reserved, 0
 *	16	8	settings length S in bytes
 *	24	S	settings (rewardcount.c, write_settings(): mode, key,
 *			stage offsets, scope, task join, range kind, store
 *			bins, simhash bits, D, seed (simhash only, else 0),
 *			quantum, warm-up length, warm-up vectors kept W;
 *			per dimension: bins, decreasing, min, max (frozen or
 *			given; 0 while unfrozen); W kept vectors of D doubles,
 *			scope and task each; then XXH3_64bits, seed 0, of
 *			every byte of the file before it)
 *	24+S	...	the counts: htab's file format (htab.h) to the end
 *
 * Settings that change what is counted must agree for rewardcount_load() and
 * rewardcount_merge(): mode, D, levels, ranges (as given or as frozen), warm-up
 * length, decreasing flags, key form, stage offsets, scope, task join,
 * simhash bits and seed, quantum, store_bins.  The first difference is
 * the error, as "bins[1]: 10 here, 20 in b.bin".  Update order, bonus
 * form, lambda and norm_mean only change bonuses and may differ.
 *
 * Bins in the table.  With opts.store_bins (default on) every key's slot
 * also keeps its bin (and scope id and task hash when they join the key),
 * so that a dump can show bin -> count.  Keys counted through
 * rewardcount_count_keys() have no bin unless rewardcount_step() stored one.
 *
 * Errors: functions that can fail return -1 (or NULL) with loam_error() set and
 * never print or exit.  A table is not safe to use from two threads at once,
 * not even through the const functions (they share scratch space in the table).
 * rewardcount_step() checks every vector before it changes anything, so a
 * failed call leaves the table as it was.
 *
 * Ownership: rewardcount_init() copies every array the options point to; the
 * caller may free them at once.  rewardcount_release() frees everything and may
 * be called twice, on a zeroed struct, or after a failed rewardcount_init().
 */
#ifndef LOAM_REWARDCOUNT_H
#define LOAM_REWARDCOUNT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define REWARDCOUNT_FORMAT_VERSION	1
#define REWARDCOUNT_SIMHASH_BITS_MAX	64
/* A bin or a state longer than this is not kept in the table's slots
 * (store_bins is refused: htab payloads are for a few numbers). */
#define REWARDCOUNT_STORE_DIMS_MAX	500
/* The most values a vector may have.  A progress function gives a few,
 * a state some thousands; the bound keeps one bad record (a 200 MB line
 * of 50 million numbers) from taking gigabytes of projections and keys
 * before it fails.  reward-count also holds a record's vectors to it. */
#define REWARDCOUNT_DIMS_MAX		65536

enum rewardcount_mode {
	REWARDCOUNT_PROGRESS = 0,
	REWARDCOUNT_SIMHASH,
	REWARDCOUNT_EXACT,
	REWARDCOUNT_PROGRESS_REWARD
};

enum rewardcount_key {
	REWARDCOUNT_KEY_TUPLE = 0,
	REWARDCOUNT_KEY_SUM
};

enum rewardcount_range {
	REWARDCOUNT_RANGE_DEFAULT = 0,	/* progress: [0,1] each; else NONE */
	REWARDCOUNT_RANGE_NONE,
	REWARDCOUNT_RANGE_FIXED,
	REWARDCOUNT_RANGE_WARMUP
};

enum rewardcount_update {
	REWARDCOUNT_UPDATE_BATCH_SYNC = 0,
	REWARDCOUNT_UPDATE_BEFORE,
	REWARDCOUNT_UPDATE_AFTER
};

enum rewardcount_bonus {
	REWARDCOUNT_BONUS_INV_SQRT = 0,
	REWARDCOUNT_BONUS_INV_SQRT_PLUS1,
	REWARDCOUNT_BONUS_INV_SQRT_N1
};

enum rewardcount_scope {
	REWARDCOUNT_SCOPE_GLOBAL = 0,
	REWARDCOUNT_SCOPE_ENV,
	REWARDCOUNT_SCOPE_EPISODE
};

enum rewardcount_progress_reward {
	REWARDCOUNT_PR_SUM = 0,
	REWARDCOUNT_PR_DELTA
};

struct rewardcount_opts {
	int		 mode;		/* enum rewardcount_mode; PROGRESS */
	size_t		 dims;		/* D, values per vector; required */
	const char	*field;		/* name in messages; "progress" */

	/* levels (progress): bins, else total_bins when > 0, else
	 * bins_each */
	const uint32_t	*bins;		/* D entries >= 1; NULL */
	uint32_t	 bins_each;	/* 10 (§5.3) */
	uint64_t	 total_bins;	/* 0; the paper's 1000, see above */
	int		 key;		/* enum rewardcount_key; KEY_TUPLE */
	int		 stage_offsets;	/* sum key only; 0 */
	const unsigned char *decreasing; /* D flags (y_i); NULL: none */

	/* ranges (progress, simhash) */
	int		 range;		/* enum rewardcount_range; DEFAULT */
	const double	*range_min;	/* D each, REWARDCOUNT_RANGE_FIXED */
	const double	*range_max;
	uint64_t	 warmup;	/* vectors, RANGE_WARMUP; >= 1 */

	/* simhash, exact */
	unsigned	 simhash_bits;	/* k, 1..64; 16 */
	uint64_t	 seed;		/* draws A; 0 */
	double		 quantum;	/* exact: >= 0; 0 = the doubles */

	/* counting and bonus */
	int		 update;	/* enum rewardcount_update */
	int		 bonus;		/* enum rewardcount_bonus; INV_SQRT */
	double		 lambda;	/* >= 0, finite; 1e-3 (§2.1), and 1
					 * for progress-reward */
	double		 norm_mean;	/* > 0: batch-mean rescale; 0 */
	int		 scope;		/* enum rewardcount_scope; GLOBAL */
	int		 task_join;	/* task hash joins the key; 0 */
	int		 progress_reward; /* enum rewardcount_progress_reward */
	int		 store_bins;	/* keep bins for dumps; 1 */
};

struct htab;

struct rewardcount_table {
	/* the options: scalars as given; pointers NULL, field copied */
	struct rewardcount_opts	 opts;
	char		*field;		/* owned copy of opts.field */
	size_t		 dims;
	uint32_t	*bins;		/* D levels, resolved */
	uint64_t	*offset;	/* D stage offsets (0 without) */
	unsigned char	*decreasing;	/* D flags */
	double		*lo, *hi;	/* D ranges, valid once frozen */
	int		 range;		/* resolved: NONE, FIXED, WARMUP */
	int		 frozen;	/* ranges usable (always, unless
					 * warm-up is running) */
	double		*warm;		/* nwarm x D kept warm-up vectors */
	uint64_t	*warm_id;	/* nwarm x 2: scope, task */
	size_t		 nwarm;
	double		*proj;		/* simhash: k x D matrix A */
	struct htab	*counts;	/* key -> count (+ bin payload) */
	size_t		 payload;	/* bytes of bin kept per slot */
	uint64_t	*pending;	/* BATCH_SYNC keys not yet added */
	size_t		 npending, cap_pending;
	struct htab	*prev;		/* progress-reward delta: scope ->
					 * previous P (payload: double) */
	double		*scratch;	/* D: g(x) for simhash */
	unsigned char	*keybuf;	/* key material of one vector */
};

/* The defaults documented in struct rewardcount_opts, for mode (lambda 1 for
 * progress-reward, 1e-3 otherwise); dims stays 0 for the caller. */
void rewardcount_opts_default(struct rewardcount_opts *o, int mode);

/* Names as reward-count(1) spells them, in the enums' order ("progress",
 * "simhash", "exact", "progress-reward"; "tuple", "sum"; "batch-sync",
 * "before", "after"; "inv_sqrt", "inv_sqrt_plus1", "inv_sqrt_n1";
 * "global", "env", "episode"), and the functions that give them for
 * messages, "?" for an unknown value. */
extern const char *const rewardcount_mode_names[4];
extern const char *const rewardcount_key_names[2];
extern const char *const rewardcount_update_names[3];
extern const char *const rewardcount_bonus_names[3];
extern const char *const rewardcount_scope_names[3];
const char *rewardcount_mode_name(int mode);
const char *rewardcount_key_name(int key);
const char *rewardcount_update_name(int update);
const char *rewardcount_scope_name(int scope);

/*
 * Set t up under *o (start from rewardcount_opts_default() and set dims).  0,
 * or -1 with loam_error() set: o NULL, D zero, a level count zero, a range not
 * finite or min >= max, warm-up 0, simhash bits outside 1..64, quantum negative
 * or not finite, lambda or norm_mean negative or not finite, stage offsets with
 * the tuple key, ranges with exact or progress-reward, batch-mean with
 * progress-reward, REWARDCOUNT_RANGE_NONE with progress, store_bins with a bin
 * longer than REWARDCOUNT_STORE_DIMS_MAX, an unknown enum value.  On failure
 * nothing is held.
 */
int rewardcount_init(struct rewardcount_table *t,
    const struct rewardcount_opts *o);
void rewardcount_release(struct rewardcount_table *t);

/* Hash of a task name for the task argument of rewardcount_step(): XXH3_64bits,
 * seed 0, of its bytes. */
uint64_t rewardcount_task_hash(const char *s, size_t len);

/*
 * Count a batch of n vectors x[n * D] and reward them under the update
 * order.  scope[n] and task[n] are the vectors' scope ids and task
 * hashes; NULL (or a setting that leaves them out of the key) means 0.
 * Each output (NULL: not wanted) gets n values: the key, the count N the
 * bonus came from, the bonus.  Progress-reward mode gives key 0, count 0
 * and the reward as the bonus.  -1 when a value is NaN or infinite
 * ("progress[3][2] is nan", the index of the vector shown only when
 * n > 1; the name is opts.field) or a quantised value is out of range,
 * with nothing changed.
 */
int rewardcount_step(struct rewardcount_table *t, const double *x, size_t n,
    const uint64_t *scope, const uint64_t *task, uint64_t *key_out,
    uint64_t *count_out, double *bonus_out);

/* End the current batch: add its keys to the counts (BATCH_SYNC; a no-op
 * under BEFORE and AFTER, or with nothing pending).  Call it when the batch
 * marker changes, after every vectorised record when each is a batch, and at
 * the end of input.  rewardcount_save() and rewardcount_write() call it.  */
void rewardcount_end_batch(struct rewardcount_table *t);

/* Check a vector's length before rewardcount_step(): 0, or -1 with
 * "progress: 3 values, expected 4" (opts.field). */
int rewardcount_check_length(const struct rewardcount_table *t, size_t len);

/* Vectors still to come before the ranges freeze: 0 once frozen or
 * without a warm-up.  Asked before rewardcount_step(), it says how many of the
 * call's vectors are warm-up vectors (the first that many), whose "bin"
 * a caller prints as null: rewardcount_bin_json() after the call already sees
 * the frozen ranges. */
uint64_t rewardcount_warmup_left(const struct rewardcount_table *t);

/* The key of one vector x[D] (after rewardcount_step()'s checks have
 * passed; the ranges must be frozen): what rewardcount_step() would
 * count. */
uint64_t rewardcount_key(const struct rewardcount_table *t, const double *x,
    uint64_t scope, uint64_t task);

/* The bonus of a count N under t's form and lambda (no normalisation). */
double rewardcount_bonus(const struct rewardcount_table *t, uint64_t n);

/*
 * The bin of one vector x[D] as JSON text for the record's "bin" field, written
 * to buf[size] NUL-terminated: [3,7] (tuple), 10 (sum), 40503 (simhash code),
 * [2,-1] (exact, quantised) or [0.5,1] (exact, doubles, shortest round-trip:
 * numfmt.h), null before the ranges freeze and in progress-reward mode.
 * Returns the length it needs without the NUL (as snprintf does); the text is
 * complete when that is < size.  x must have passed the checks.
 */
size_t rewardcount_bin_json(const struct rewardcount_table *t, const double *x,
    char *buf, size_t size);

/*
 * The fast path: add n precomputed keys (from rewardcount_key() or a previous
 * run) under the update order, with no bins stored.  counts_out (NULL: not
 * wanted) receives each key's N as rewardcount_step() would give; with NULL,
 * BEFORE and AFTER go straight through htab_add_batch() (prefetching), and
 * BATCH_SYNC queues the keys for rewardcount_end_batch(), which does.  -1 in
 * progress-reward mode.
 */
int rewardcount_count_keys(struct rewardcount_table *t, const uint64_t *keys,
    size_t n, uint64_t *counts_out);

/* Make room for expect distinct keys now, so that the table does not
 * grow (and move every slot) while counting, and fault its memory in, so
 * that counting does not wait on page faults either (htab_populate). */
void rewardcount_reserve(struct rewardcount_table *t, size_t expect);

/* The count of key now (0 if absent; pending BATCH_SYNC keys not
 * included). */
uint64_t rewardcount_count(const struct rewardcount_table *t, uint64_t key);
/* Distinct keys in the table.  Under BATCH_SYNC with store_bins a key
 * first seen in the current batch already has a slot (count 0, holding
 * its bin) until rewardcount_end_batch(); dumps skip such slots. */
size_t rewardcount_entries(const struct rewardcount_table *t);

/*
 * 0 when b's counts may be added to a's (the settings listed above
 * agree), or -1 with the first difference: "FIELD: A here, B in NAME"
 * (name names b, typically its file).
 */
int rewardcount_compatible(const struct rewardcount_table *a,
    const struct rewardcount_table *b, const char *name);

/*
 * Add src's counts (its pending batch included) to dst's; dst's pending
 * batch stays pending.  Warm-up: dst takes src's ranges, or src's kept
 * warm-up vectors, when dst has seen no vector yet; otherwise both must
 * be frozen ("b.bin: warm-up not finished (12 of 1000 vectors)").  0, or
 * -1 when the settings differ (see rewardcount_compatible(); name names src).
 */
int rewardcount_merge(struct rewardcount_table *dst,
    const struct rewardcount_table *src, const char *name);

/* Write t in the table format to fp (the caller opens and closes it);
 * ends t's pending batch first.  rewardcount_save(): atomically to path
 * (temporary file, fsync, rename; path untouched on failure).  0 or -1. */
int rewardcount_write(struct rewardcount_table *t, FILE *fp, const char *name);
int rewardcount_save(struct rewardcount_table *t, const char *path);

/* rewardcount_merge() of the table in the file at path (or read from fp to its
 * end) into t, which was set up from options: the file's settings must
 * agree ("bins: 10 here, 20 in t.bin").  --load is this on a fresh t. */
int rewardcount_read(struct rewardcount_table *t, FILE *fp, const char *name);
int rewardcount_load(struct rewardcount_table *t, const char *path);

/* Set t up from the file's own settings and counts (for merge and dump,
 * which take no options); the bonus settings are rewardcount_opts_default()'s.
 * */
int rewardcount_open(struct rewardcount_table *t, const char *path);

/* One entry of a dump. */
struct rewardcount_entry {
	uint64_t	 key;
	uint64_t	 count;
	const char	*bin;		/* JSON text as rewardcount_bin_json()
					 * writes it, or NULL when not
					 * stored; borrowed until the next
					 * call */
	int		 has_scope;	/* scope joins the key and is stored */
	uint64_t	 scope;
	int		 has_task;
	uint64_t	 task;
};

/* Dump iteration in increasing key order (so a dump is a function of the
 * table's content): rewardcount_dump_init() sorts the entries (pending
 * BATCH_SYNC keys not included); rewardcount_dump_next() returns 1 with *e
 * filled, 0 at the end.  The table must not change during the iteration.  */
struct rewardcount_dump {
	const struct rewardcount_table	*t;
	const void		**slots;	/* sorted struct htab_slot * */
	size_t			 n, i;
	char			*text;		/* bin text buffer */
	size_t			 text_size;
};
void rewardcount_dump_init(struct rewardcount_dump *d,
    const struct rewardcount_table *t);
int rewardcount_dump_next(struct rewardcount_dump *d,
    struct rewardcount_entry *e);
void rewardcount_dump_release(struct rewardcount_dump *d);

#ifdef __cplusplus
}
#endif

#endif
