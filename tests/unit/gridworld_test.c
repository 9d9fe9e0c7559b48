/*
 * gridworld_test - evidence that progress counts explore: the two-room
 * key-and-door gridworld of research/reward-count.md §5.3, solved by
 * tabular Q-learning with the reward shaped through lib/rewardcount.
 *
 * The world: 31 x 15 cells, a wall down column 15 with a door at (15, 7)
 * that opens only to an agent holding the key; start (13, 1), key
 * (1, 13), goal (29, 13); 200 steps an episode, reward 1 on reaching the
 * goal, which ends it.  The agent: Q over (x, y, has_key), alpha 0.2,
 * gamma 0.99, epsilon 0.1, Q0 = 0, ties broken at random.  A seed counts
 * as solved when the goal is reached within the episode budget.
 *
 * Methods (all from the same seeds, so they differ only in the bonus):
 *	sparse		the extrinsic reward alone
 *	progress	+ 0.03 / sqrt(N) over the progress function's bins:
 *			x1 = has_key ? 1 : 1 - dK/dKmax, x2 = has_key ?
 *			1 - dG/dGmax : 0 (BFS distances), 10 levels each,
 *			tuple key, counted before the bonus is read
 *			(REWARDCOUNT_UPDATE_AFTER), global counts; and the same
 *			with the paper's sum key, which for these sequential
 *			subtasks makes the same partition (x2 stays 0 until
 *			x1 is complete) and so the same runs
 *	simhash		+ 0.03 / sqrt(N) over 16-bit SimHash codes of the raw
 *			state (x/W - .5, y/H - .5, key - .5, 1)
 *	exact		+ 0.03 / sqrt(N) over the exact state (the oracle)
 *
 * The notes measured 10/10, 4/10, 0/10 (and 10/10 exact, sum = tuple).
 * Only what cannot flake is asserted: progress solves at least 8 seeds,
 * sparse at most 1, and sum = tuple; the rest is printed.  Everything is
 * deterministic: lib/rng, and no libm call on these paths but sqrt
 * (exact) and, for SimHash's matrix only, log.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rewardcount.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

#define W		31
#define H		15
#define WALL_X		15
#define DOOR_Y		7
#define START_X		13
#define START_Y		1
#define KEY_X		1
#define KEY_Y		13
#define GOAL_X		29
#define GOAL_Y		13
#define HORIZON		200
#define EPISODES	20000
#define SEEDS		10
#define ALPHA		0.2
#define GAMMA		0.99
#define EPSILON		0.1
#define COEF		0.03

enum method { SPARSE, PROGRESS, PROGRESS_SUM, SIMHASH, EXACT, NMETHODS };
static const char *const method_names[NMETHODS] = {
	"sparse reward only", "progress counts (tuple)",
	"progress counts (sum)", "SimHash-16 counts (raw state)",
	"exact-state counts (oracle)"
};

static const int dx[4] = { 0, 0, -1, 1 }, dy[4] = { -1, 1, 0, 0 };

/* BFS distances to the key (door shut) and to the goal (door open). */
static int dist_key[H][W], dist_goal[H][W];
static int dkey_max, dgoal_max;

static int
blocked(int x, int y, int has_key)
{
	if (x < 0 || x >= W || y < 0 || y >= H)
		return 1;
	if (x == WALL_X)
		return y != DOOR_Y || !has_key;
	return 0;
}

static int
bfs(int (*dist)[W], int tx, int ty, int door_open)
{
	int qx[W * H], qy[W * H], head = 0, tail = 0, x, y, a, nx, ny;
	int far = 0;

	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++)
			dist[y][x] = -1;
	dist[ty][tx] = 0;
	qx[tail] = tx;
	qy[tail++] = ty;
	while (head < tail) {
		x = qx[head];
		y = qy[head++];
		if (dist[y][x] > far)
			far = dist[y][x];
		for (a = 0; a < 4; a++) {
			nx = x + dx[a];
			ny = y + dy[a];
			if (blocked(nx, ny, door_open) || dist[ny][nx] >= 0)
				continue;
			dist[ny][nx] = dist[y][x] + 1;
			qx[tail] = nx;
			qy[tail++] = ny;
		}
	}
	return far;
}

/* The progress function an LLM would write for this task. */
static void
progress(int x, int y, int has_key, double *p)
{
	p[0] = has_key ? 1 : 1 - (double)dist_key[y][x] / dkey_max;
	p[1] = has_key ? 1 - (double)dist_goal[y][x] / dgoal_max : 0;
}

static int
greedy(const double *q, struct rng *r)
{
	int a, best = 0, ties = 1;

	for (a = 1; a < 4; a++) {
		if (q[a] > q[best]) {
			best = a;
			ties = 1;
		} else if (q[a] == q[best] &&
		    rng_uniform_int(r, (uint64_t)++ties) == 0)
			best = a;
	}
	return best;
}

struct result {
	int solved;
	long first;		/* episode of the first success, or -1 */
};

/* One seed of one method: episodes until the first success. */
static struct result
run(enum method m, uint64_t seed)
{
	static double q[H][W][2][4];
	struct rewardcount_opts o;
	struct rewardcount_table t;
	struct rng r;
	struct result res = { 0, -1 };
	double state[4], target, reward, bonus, best, *qs;
	const double *qn;
	int x, y, k, a, b, nx, ny, nk, done;
	long ep, step;

	memset(q, 0, sizeof q);
	rng_init(&r, seed, 0, 0);
	switch (m) {
	case PROGRESS:
	case PROGRESS_SUM:
		rewardcount_opts_default(&o, REWARDCOUNT_PROGRESS);
		o.dims = 2;
		o.key = m == PROGRESS_SUM ? REWARDCOUNT_KEY_SUM : REWARDCOUNT_KEY_TUPLE;
		break;
	case SIMHASH:
		rewardcount_opts_default(&o, REWARDCOUNT_SIMHASH);
		o.dims = 4;
		o.simhash_bits = 16;
		o.seed = seed;
		break;
	case EXACT:
		rewardcount_opts_default(&o, REWARDCOUNT_EXACT);
		o.dims = 3;
		break;
	default:
		rewardcount_opts_default(&o, REWARDCOUNT_PROGRESS);
		o.dims = 2;
		break;
	}
	o.update = REWARDCOUNT_UPDATE_AFTER;
	o.lambda = COEF;
	o.store_bins = 0;
	if (rewardcount_init(&t, &o) != 0) {
		diag("rewardcount_init: %s", loam_error());
		return res;
	}
	for (ep = 0; ep < EPISODES && !res.solved; ep++) {
		x = START_X;
		y = START_Y;
		k = 0;
		for (step = 0, done = 0; step < HORIZON && !done; step++) {
			qs = q[y][x][k];
			a = rng_uniform(&r) < EPSILON ?
			    (int)rng_uniform_int(&r, 4) : greedy(qs, &r);
			nx = x + dx[a];
			ny = y + dy[a];
			if (blocked(nx, ny, k)) {
				nx = x;
				ny = y;
			}
			nk = k || (nx == KEY_X && ny == KEY_Y);
			done = nx == GOAL_X && ny == GOAL_Y;
			reward = done;
			switch (m) {
			case PROGRESS:
			case PROGRESS_SUM:
				progress(nx, ny, nk, state);
				break;
			case SIMHASH:
				state[0] = (double)nx / W - 0.5;
				state[1] = (double)ny / H - 0.5;
				state[2] = nk - 0.5;
				state[3] = 1;
				break;
			case EXACT:
				state[0] = nx;
				state[1] = ny;
				state[2] = nk;
				break;
			default:
				break;
			}
			if (m != SPARSE) {
				if (rewardcount_step(&t, state, 1, NULL, NULL, NULL,
				    NULL, &bonus) != 0) {
					diag("rewardcount_step: %s", loam_error());
					rewardcount_release(&t);
					return res;
				}
				reward += bonus;
			}
			/* the goal is terminal; running out of steps is
			 * not, so it bootstraps */
			target = reward;
			if (!done) {
				qn = q[ny][nx][nk];
				best = qn[0];
				for (b = 1; b < 4; b++)
					if (qn[b] > best)
						best = qn[b];
				target += GAMMA * best;
			}
			qs[a] += ALPHA * (target - qs[a]);
			x = nx;
			y = ny;
			k = nk;
		}
		if (done) {
			res.solved = 1;
			res.first = ep + 1;
		}
	}
	rewardcount_release(&t);
	return res;
}

int
main(void)
{
	struct result res;
	int solved[NMETHODS] = { 0 }, m, s, same_sum = 1;
	double first[NMETHODS] = { 0 };
	long first_tuple[SEEDS];
	clock_t c0 = clock();

	dkey_max = bfs(dist_key, KEY_X, KEY_Y, 0);
	dgoal_max = bfs(dist_goal, GOAL_X, GOAL_Y, 1);
	ok(dist_key[START_Y][START_X] > 0 && dist_goal[KEY_Y][KEY_X] > 0,
	    "the key is reachable from the start, the goal from the key "
	    "(dK %d of %d, dG %d of %d)", dist_key[START_Y][START_X],
	    dkey_max, dist_goal[KEY_Y][KEY_X], dgoal_max);

	for (m = 0; m < NMETHODS; m++) {
		for (s = 0; s < SEEDS; s++) {
			res = run((enum method)m, (uint64_t)s + 1);
			if (m == PROGRESS)
				first_tuple[s] = res.first;
			if (m == PROGRESS_SUM && res.first != first_tuple[s])
				same_sum = 0;
			if (res.solved) {
				solved[m]++;
				first[m] += (double)res.first;
			}
		}
	}
	diag("two-room key-and-door gridworld, %d seeds, at most %d "
	    "episodes of %d steps", SEEDS, EPISODES, HORIZON);
	diag("%-32s %8s %22s", "method", "solved", "mean first success");
	for (m = 0; m < NMETHODS; m++) {
		if (solved[m] > 0)
			diag("%-32s %5d/%d %22.0f", method_names[m], solved[m],
			    SEEDS, first[m] / solved[m]);
		else
			diag("%-32s %5d/%d %22s", method_names[m], solved[m],
			    SEEDS, "-");
	}
	diag("(research/reward-count.md §5.3 measured 0/10, 10/10, 10/10, "
	    "4/10, 10/10; %.1f s here)",
	    (double)(clock() - c0) / CLOCKS_PER_SEC);
	ok(solved[PROGRESS] >= 8, "progress counts solve at least 8 of %d "
	    "seeds (%d)", SEEDS, solved[PROGRESS]);
	ok(solved[SPARSE] <= 1, "sparse reward alone solves at most 1 "
	    "(%d)", solved[SPARSE]);
	ok(solved[PROGRESS] > solved[SPARSE] + 5, "progress counts beat "
	    "sparse reward by more than 5 seeds");
	ok(same_sum, "sum and tuple keys give the same runs on sequential "
	    "subtasks");
	return tap_done();
}
