/*
 * tart_test - lib/tart: the task generator's statistics, the sequence
 * layout, the curriculum, PCA and whitening on a hand-computed case,
 * logistic regression's optimality, checkpoints with the reference's
 * names, training steps that resume exactly and draw from their own
 * stream, predict's example pick, orders and prefixes, and eval's tasks.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpt.h"
#include "safetensors.h"
#include "tap.h"
#include "tart.h"
#include "util.h"

static void
test_generator(void)
{
	enum { D = 16, N = 64, TASKS = 400 };
	float x[N * D], y[N], w[D];
	double sx[D] = { 0 }, sxx[D] = { 0 }, sww = 0, ones = 0, agree = 0;
	int zero_ok = 1;
	struct rng r;

	for (int t = 0; t < TASKS; t++) {
		rng_init(&r, 5, 0, (uint64_t)t);
		tart_sample_task(&r, D, 12, 10.0, N, x, y, w);
		for (int j = 0; j < D; j++) {
			if (j < 12)
				sww += (double)w[j] * w[j];
			else if (w[j] != 0)
				zero_ok = 0;
		}
		for (int i = 0; i < N; i++) {
			double dot = 0;
			for (int j = 0; j < D; j++) {
				sx[j] += x[i * D + j];
				sxx[j] += (double)x[i * D + j] * x[i * D + j];
				dot += (double)x[i * D + j] * w[j];
				if (j >= 12 && x[i * D + j] != 0)
					zero_ok = 0;
			}
			ones += y[i];
			agree += (dot >= 0) == (y[i] > 0.5f);
		}
	}
	double n = (double)TASKS * N, mean = 0, var = 0;
	for (int j = 0; j < 12; j++) {
		mean = fmax(mean, fabs(sx[j] / n));
		var = fmax(var, fabs(sxx[j] / n - 1));
	}
	ok(zero_ok, "coordinates beyond the curriculum's d are 0 (x and w)");
	ok(mean < 0.03 && var < 0.05, "x ~ N(0, I) on the first d coordinates (|mean| %.3f, |var-1| %.3f)", mean, var);
	is_dbl(sww / (TASKS * 12.0), 100.0, 8.0, "w ~ 10 N(0, I): E w_j^2 = 100");
	is_dbl(ones / n, 0.5, 0.02, "labels balanced");
	/* Bayes accuracy at alpha 10, d 12: P(sign agrees) ~ 0.98 */
	ok(agree / n > 0.96 && agree / n < 0.995, "y ~ Bernoulli(sigmoid(x.w)): sign agreement %.4f", agree / n);

	/* the same (seed, stream, index) gives the same task */
	float x2[N * D], y2[N];
	rng_init(&r, 5, 0, 3);
	tart_sample_task(&r, D, 12, 10.0, N, x, y, NULL);
	rng_init(&r, 5, 0, 3);
	tart_sample_task(&r, D, 12, 10.0, N, x2, y2, NULL);
	ok(memcmp(x, x2, sizeof x) == 0 && memcmp(y, y2, sizeof y) == 0, "tasks are seeded");
}

static void
test_interleave_and_ramp(void)
{
	float x[2 * 3] = { 1, 2, 3, 4, 5, 6 }, y[2] = { 1, 0 }, z[4 * 3];
	float want[12] = { 1, 2, 3, 1, 0, 0, 4, 5, 6, 0, 0, 0 };
	struct tart_ramp r = { 18, 258, 30, 1000 };

	tart_interleave(x, y, 2, 3, z);
	ok(memcmp(z, want, sizeof z) == 0, "interleave: x_1, (y_1, 0..), x_2, (y_2, 0..)");
	ok(tart_ramp_at(&r, 0) == 18 && tart_ramp_at(&r, 999) == 18 &&
	    tart_ramp_at(&r, 1000) == 48 && tart_ramp_at(&r, 7999) == 228 &&
	    tart_ramp_at(&r, 8000) == 258 && tart_ramp_at(&r, 100000) == 258,
	    "curriculum: 18 + 30 per 1000 steps, capped at 258");

	struct tart_train_opts o;
	tart_train_defaults(&o);
	o.adam.lr = 1e-3f;
	ok(tart_lr_at(&o, 0) == 1e-3f && tart_lr_at(&o, 1000000) == 1e-3f,
	    "learning rate: constant without --decay");
	o.decay = (struct tart_decay){ 100, 300, 1e-5f };
	ok(tart_lr_at(&o, 99) == 1e-3f && tart_lr_at(&o, 100) == 1e-3f &&
	    fabsf(tart_lr_at(&o, 200) - 5.05e-4f) < 1e-9f &&
	    tart_lr_at(&o, 300) == 1e-5f && tart_lr_at(&o, 5000) == 1e-5f,
	    "learning rate: linear from lr at start to min at end, then min");
}

static void
test_pca(void)
{
	/* x = (3,-1,-1,-1,0,0,0), y = (0,0,0,0,2,-1,-1): centred, uncorrelated,
	 * var_x = 12/6 = 2 and var_y = 6/6 = 1 (ddof 1).  Component 1 is x,
	 * component 2 is y; svd_flip makes row 0's x and row 4's y positive. */
	float X[7 * 2] = { 3, 0, -1, 0, -1, 0, -1, 0, 0, 2, 0, -1, 0, -1 };
	float out[7 * 2];
	struct tart_pca p;

	/* Shift every row: PCA centres first, so nothing changes. */
	for (int i = 0; i < 7; i++) {
		X[2 * i] += 10;
		X[2 * i + 1] -= 4;
	}
	ok(tart_pca_fit(&p, X, 7, 2, 2) == 0, "pca fit");
	tart_pca_apply(&p, X, 7, out);
	is_dbl(out[0], 3 / sqrt(2), 1e-5, "row 0, component 1 = 3/sqrt(2)");
	is_dbl(out[1], 0, 1e-5, "row 0, component 2 = 0");
	is_dbl(out[8], 0, 1e-5, "row 4, component 1 = 0");
	is_dbl(out[9], 2, 1e-5, "row 4, component 2 = 2/sqrt(1)");
	is_dbl(out[2], -1 / sqrt(2), 1e-5, "row 1, component 1 = -1/sqrt(2)");
	double v1 = 0, v2 = 0;
	for (int i = 0; i < 7; i++) {
		v1 += out[2 * i] * out[2 * i];
		v2 += out[2 * i + 1] * out[2 * i + 1];
	}
	ok(fabs(v1 / 6 - 1) < 1e-5 && fabs(v2 / 6 - 1) < 1e-5, "whitened: unit variance (ddof 1)");
	tart_pca_release(&p);

	ok(tart_pca_fit(&p, X, 2, 2, 2) == -1 &&
	    strstr(loam_error(), "more examples than components") != NULL,
	    "k <= components refused: %s", loam_error());
	float flat[4 * 3] = { 1, 2, 0, 2, 4, 0, 3, 6, 0, 4, 8, 0 };
	ok(tart_pca_fit(&p, flat, 4, 3, 2) == -1 &&
	    strstr(loam_error(), "fewer than 2 dimensions") != NULL,
	    "rank-deficient examples refused: %s", loam_error());
}

static void
test_logreg(void)
{
	enum { N = 40, D = 3 };
	float x[N * D], y[N];
	double w[D + 1], C = 0.7;
	struct rng r;

	rng_init(&r, 9, 0, 0);
	for (int i = 0; i < N; i++) {
		double dot = 0.3;
		for (int j = 0; j < D; j++) {
			x[i * D + j] = (float)rng_normal(&r);
			dot += x[i * D + j] * (j + 1.0);
		}
		y[i] = rng_uniform(&r) < 1 / (1 + exp(-dot));
	}
	ok(tart_logreg_fit(x, y, N, D, C, w) > 0, "logistic regression converges");
	/* Optimality: w_j + C sum (p - y) x_j = 0, sum (p - y) = 0. */
	double g[D + 1] = { 0 };
	for (int j = 0; j < D; j++) g[j] = w[j];
	for (int i = 0; i < N; i++) {
		double z = w[D];
		for (int j = 0; j < D; j++) z += w[j] * x[i * D + j];
		double e = 1 / (1 + exp(-z)) - y[i];
		for (int j = 0; j < D; j++) g[j] += C * e * x[i * D + j];
		g[D] += e;
	}
	double worst = 0;
	for (int j = 0; j <= D; j++) worst = fmax(worst, fabs(g[j]));
	ok(worst < 1e-8, "gradient of 0.5|w|^2 + C sum logloss is 0 at the solution (%.2g)", worst);
	/* Separable data stays finite through the penalty. */
	for (int i = 0; i < N; i++) y[i] = x[i * D] > 0;
	ok(tart_logreg_fit(x, y, N, D, 1.0, w) > 0 && isfinite(w[0]) && w[0] > 0,
	    "separable data: finite weights");
}

static int
same_params(const struct gpt *a, const struct gpt *b)
{
	return a->nparams == b->nparams &&
	    memcmp(a->params, b->params, a->nparams * sizeof *a->params) == 0;
}

static void
test_checkpoint_and_resume(void)
{
	struct gpt_config cfg = { 16, 0, 40, 2, 2, 16, 1 };
	struct tart_train_opts o;
	struct gpt a, b;
	struct safetensors st;
	char path[] = "/tmp/tart_test_XXXXXX", apath[64];
	int fd = mkstemp(path);
	const struct safetensors_tensor *t;

	close(fd);
	snprintf(apath, sizeof apath, "%s.adam", path);
	tart_train_defaults(&o);
	o.batch = 4;
	o.points = (struct tart_ramp){ 6, 20, 7, 1 };
	o.dims = (struct tart_ramp){ 4, 16, 4, 1 };
	o.adam.lr = 1e-3f;
	o.seed = 11;

	gpt_init(&a, &cfg);
	gpt_init_weights(&a, 11);
	gpt_train_init(&a);
	double l0 = tart_train_step(&a, &o, 0);
	tart_train_step(&a, &o, 1);
	ok(isfinite(l0) && l0 > 0.3 && l0 < 2, "first loss near log 2 (%.4f)", l0);
	struct safetensors_kv meta[] = { { "step", "2" } };
	ok(gpt_save(&a, path, 0, meta, 1) == 0 && gpt_save_adam(&a, apath, "2") == 0,
	    "checkpoint written");
	tart_train_step(&a, &o, 2);

	ok(safetensors_open(&st, path) == 0, "checkpoint reads back");
	t = safetensors_find(&st, "_backbone.h.1.attn.c_attn.weight");
	ok(t != NULL && t->ndim == 2 && t->shape[0] == 16 && t->shape[1] == 48,
	    "c_attn stored (in, out) = (16, 48) as Hugging Face's Conv1D");
	t = safetensors_find(&st, "_read_in.weight");
	ok(t != NULL && t->shape[0] == 16 && t->shape[1] == 16, "_read_in.weight (out, in)");
	ok(safetensors_find(&st, "_backbone.wpe.weight") != NULL &&
	    safetensors_find(&st, "_backbone.ln_f.bias") != NULL &&
	    safetensors_find(&st, "_read_out.bias") != NULL &&
	    safetensors_find(&st, "_backbone.h.0.mlp.c_proj.weight") != NULL,
	    "reference state-dict names");
	struct gpt_config c2, c3;
	ok(gpt_config_from_meta(&c2, &st) == 0 && memcmp(&c2, &cfg, sizeof cfg) == 0,
	    "configuration from __metadata__");
	ok(gpt_config_from_tensors(&c3, &st, 2) == 0 && memcmp(&c3, &cfg, sizeof cfg) == 0,
	    "configuration from the tensors' shapes (a converted reference checkpoint)");

	/* resume: load step 2 and Adam's state, take step 2 again */
	gpt_init(&b, &c2);
	gpt_train_init(&b);
	ok(gpt_load(&b, &st, 0) == 0, "parameters load");
	safetensors_close(&st);
	ok(safetensors_open(&st, apath) == 0 && gpt_load_adam(&b, &st, 2) == 0,
	    "Adam state loads");
	ok(gpt_load_adam(&b, &st, 3) == -1 && strstr(loam_error(), "step 2") != NULL,
	    "Adam state from another step refused: %s", loam_error());
	safetensors_close(&st);
	tart_train_step(&b, &o, 2);
	ok(same_params(&a, &b), "resumed training = uninterrupted training, bit for bit");

	/* A model missing a tensor is refused by name. */
	struct gpt_config big = cfg;
	big.n_layer = 3;
	struct gpt c;
	gpt_init(&c, &big);
	safetensors_open(&st, path);
	ok(gpt_load(&c, &st, 0) == -1 && strstr(loam_error(), "_backbone.h.2.") != NULL,
	    "missing tensor named: %s", loam_error());
	safetensors_close(&st);
	gpt_release(&c);
	gpt_release(&a);
	gpt_release(&b);
	unlink(path);
	unlink(apath);
}


/* Training tasks draw from RNG_TART_TRAIN_TASKS: step 7, row i no
 * longer shares a generator with the GPT's weight init of tensor i. */
static void
test_train_rng(void)
{
	struct rng a, b;
	int apart = 1;

	for (size_t i = 0; i < 8; i++) {
		tart_train_rng(&a, 42, 7, i);
		rng_init(&b, 42, RNG_GPT_INIT, i);
		if (rng_next(&a) == rng_next(&b))
			apart = 0;
	}
	ok(apart, "step 7's tasks and the weight init draw from different generators");
	tart_train_rng(&a, 42, 3, 5);
	rng_init(&b, 42, RNG_TART_TRAIN_TASKS, (UINT64_C(3) << 20) | 5);
	ok(rng_next(&a) == rng_next(&b), "task b of step s: index s << 20 | b");
}

static void
test_pick(void)
{
	enum { N = 20 };
	int y[N];
	size_t pick[N], again[N], seen[N], ones = 0, good = 1;

	for (int i = 0; i < N; i++)
		y[i] = i % 4 == 0;	/* 5 ones, 15 zeros */
	ok(tart_pick_examples(y, N, 7, 3, pick) == 0, "7 of 20 picked");
	memset(seen, 0, sizeof seen);
	for (int i = 0; i < 7; i++) {
		if (pick[i] >= N || seen[pick[i]]++)
			good = 0;
		else
			ones += (size_t)y[pick[i]];
	}
	ok(good && ones == 4, "distinct, class-balanced, the odd one a 1 (%zu ones)", ones);
	tart_pick_examples(y, N, 7, 3, again);
	ok(memcmp(pick, again, 7 * sizeof *pick) == 0, "the same seed picks the same");
	tart_pick_examples(y, N, 7, 4, again);
	ok(memcmp(pick, again, 7 * sizeof *pick) != 0, "another seed picks otherwise");
	ok(tart_pick_examples(y, N, N, 3, pick) == 0, "k = n: all of them");
	memset(seen, 0, sizeof seen);
	good = 1;
	for (int i = 0; i < N; i++)
		if (pick[i] >= N || seen[pick[i]]++)
			good = 0;
	ok(good, "k = n: a permutation of the examples");
	ok(tart_pick_examples(y, N, 21, 3, pick) == -1 &&
	    strcmp(loam_error(), "-k 21 but only 20 examples") == 0,
	    "too few examples: %s", loam_error());
	ok(tart_pick_examples(y, N, 12, 3, pick) == -1 &&
	    strcmp(loam_error(), "5 examples of label 1, -k 12 needs 6") == 0,
	    "too few of a label: %s", loam_error());
}

static void
test_orders_and_embed(void)
{
	size_t ord[10], seen[10] = { 0 }, moved = 0, good = 1;
	float X[4 * 3] = { 1, 0, 2, 0, 1, 3, 2, 2, 0, -1, 1, 1 }, out[6];
	struct tart_pca p;

	tart_next_order(ord, 10, 0, 1, RNG_TART_REORDER, 0);
	for (size_t i = 0; i < 10; i++)
		good &= ord[i] == i;
	ok(good, "order 0 is the examples' own");
	tart_next_order(ord, 10, 1, 1, RNG_TART_REORDER, 1);
	for (size_t i = 0; i < 10; i++) {
		if (ord[i] >= 10 || seen[ord[i]]++)
			good = 0;
		moved += ord[i] != i;
	}
	ok(good && moved > 0, "order 1 is a reshuffle");

	ok(tart_pca_fit(&p, X, 4, 3, 2) == 0, "PCA of 4 rows to 2 components");
	tart_embed(&p, X + 3, out, 6);
	ok(out[2] == out[0] && out[4] == out[0] && out[3] == out[1] && out[5] == out[1],
	    "2 components tiled to a width of 6");
	tart_pca_release(&p);
}

/* predict's context: cached and recomputed logits agree; the prefix
 * holds the picked examples' labels in each order. */
static void
test_context(void)
{
	enum { N = 40, D = 20, K = 20, Q = 5 };
	struct gpt_config cfg = { 16, 0, 64, 2, 2, 16, 1 };
	struct gpt m;
	struct tart_context c, u;
	struct rng r;
	float *X = malloc(N * D * sizeof *X), q[Q * 16], a[Q], b[Q];
	int y[N], labels = 1;
	size_t pick[K];

	rng_init(&r, 9, 0, 1);
	for (int i = 0; i < N * D; i++)
		X[i] = (float)rng_normal(&r);
	for (int i = 0; i < N; i++)
		y[i] = X[i * D] > 0;
	gpt_init(&m, &cfg);
	gpt_init_weights(&m, 5);
	tart_pick_examples(y, N, K, 2, pick);
	ok(tart_context_init(&c, &m, X, y, D, pick, K, 16, 3, 1, 2) == 0 &&
	    tart_context_init(&u, &m, X, y, D, pick, K, 16, 3, 0, 2) == 0,
	    "contexts of 20 examples, 3 orders");
	for (size_t o = 0; o < 3; o++) {
		/* The labels of an order are those of the picked examples. */
		int sum = 0, want = 0;
		for (size_t i = 0; i < K; i++) {
			sum += (int)c.prefix[o * 2 * K * 16 + (2 * i + 1) * 16];
			want += y[pick[i]];
		}
		labels &= sum == want;
	}
	ok(labels, "each order holds the examples' labels");
	for (int i = 0; i < Q; i++)
		tart_embed(&c.pca, X + (N - Q + i) * D, q + i * 16, 16);
	tart_context_logits(&c, &m, q, Q, a);
	tart_context_logits(&u, &m, q, Q, b);
	double worst = 0;
	for (int i = 0; i < Q; i++)
		worst = fmax(worst, fabs((double)a[i] - b[i]));
	ok(worst < 1e-4, "cached and recomputed logits agree (%.2g)", worst);
	tart_context_release(&u);
	ok(tart_context_init(&u, &m, X, y, D, pick, 10, 16, 1, 1, 2) == -1,
	    "10 examples cannot fit 16 components: %s", loam_error());
	tart_context_release(&c);
	tart_context_release(&u);
	gpt_release(&m);
	free(X);
}

static void
test_eval_task(void)
{
	struct gpt_config cfg = { 16, 0, 64, 2, 2, 16, 1 };
	struct tart_eval e = { 200, 2, 10.0, 1.0, 3 };
	struct gpt m;
	size_t r1[3], r2[3];

	gpt_init(&m, &cfg);
	gpt_init_weights(&m, 5);
	tart_eval_task(&m, &e, 24, 0, r1);
	tart_eval_task(&m, &e, 24, 0, r2);
	ok(memcmp(r1, r2, sizeof r1) == 0, "a task is the same every time");
	ok(r1[0] <= 200 && r1[1] <= 200 && r1[2] >= 160,
	    "counts of 200 queries; Bayes with the true weights is right most often "
	    "(%zu %zu %zu)", r1[0], r1[1], r1[2]);
	tart_eval_task(&m, &e, 24, 1, r2);
	ok(memcmp(r1, r2, sizeof r1) != 0, "another task, other counts");
	gpt_release(&m);
}

int
main(void)
{
	test_generator();
	test_interleave_and_ramp();
	test_pca();
	test_logreg();
	test_checkpoint_and_resume();
	test_train_rng();
	test_pick();
	test_orders_and_embed();
	test_context();
	test_eval_task();
	return tap_done();
}
