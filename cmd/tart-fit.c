/*
 * tart-fit - TART's reasoning module (Bhatia, Narayan, De Sa, Ré 2023):
 * train it on synthetic logistic regression, apply it to embeddings with
 * the k-example prefix cached, and evaluate it against in-context
 * logistic regression; see tart-fit(1).
 *
 * The model is lib/nn/gpt; the task, the examples' pick, PCA and
 * prefixes, and eval's tasks are lib/method/tart.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dense.h"
#include "gpt.h"
#include "npy.h"
#include "rec.h"
#include "recw.h"
#include "safetensors.h"
#include "stream.h"
#include "tart.h"

enum {
	OPT_CONFIG = CLI_LONG, OPT_LAYERS, OPT_WIDTH, OPT_HEADS, OPT_POSITIONS, OPT_STEPS,
	OPT_BATCH, OPT_LR, OPT_ALPHA, OPT_DIMS, OPT_POINTS, OPT_CKPT, OPT_LOG,
	OPT_RESUME, OPT_TRAIN, OPT_COMPONENTS, OPT_NO_CACHE, OPT_FIELD,
	OPT_LABEL_FIELD, OPT_KS, OPT_TASKS, OPT_QUERIES, OPT_C, OPT_TRAIN_LABELS,
	OPT_EMBEDDINGS, OPT_DECAY, OPT_ORDERS, OPT_INIT,
};

/* ---- the module file ---- */

/* A file with loam's metadata must say it is a loam-tart module of a
 * version this program reads: a file of another format that happened to
 * carry the same keys would otherwise load as garbage. */
static void
check_format(const struct safetensors *st)
{
	const char *f = safetensors_meta(st, "format");
	const char *v = safetensors_meta(st, "format_version");

	if (f == NULL || strcmp(f, "loam-tart") != 0)
		die("%s: __metadata__ format is %s%s%s, not 'loam-tart'", st->name,
		    f ? "'" : "", f ? f : "missing", f ? "'" : "");
	if (v == NULL || strcmp(v, "1") != 0)
		die("%s: __metadata__ format_version is %s%s%s, not 1", st->name,
		    v ? "'" : "", v ? v : "missing", v ? "'" : "");
}

/* Open a model file: loam's metadata when present, else the shapes of a
 * converted reference checkpoint (heads given by --heads). */
static void
load_model(struct gpt *m, const char *path, int heads)
{
	struct safetensors st;
	struct gpt_config cfg;

	if (safetensors_open(&st, path) != 0)
		die("%s", loam_error());
	if (safetensors_meta(&st, "n_layer") != NULL) {
		check_format(&st);
		if (gpt_config_from_meta(&cfg, &st) != 0)
			die("%s", loam_error());
	} else if (gpt_config_from_tensors(&cfg, &st, heads) != 0)
		die("%s", loam_error());
	if (cfg.vocab != 0 || cfg.n_in < 1 || cfg.n_out != 1)
		die("%s: not a TART reasoning module (vocab %d, n_in %d, n_out %d)",
		    path, cfg.vocab, cfg.n_in, cfg.n_out);
	if (gpt_init(m, &cfg) != 0 || gpt_load(m, &st, 0) != 0)
		die("%s", loam_error());
	safetensors_close(&st);
}

static double
meta_double(const struct safetensors *st, const char *key)
{
	const char *v = safetensors_meta(st, key);
	char *end;
	double d;

	if (v == NULL)
		die("%s: no '%s' in __metadata__", st->name, key);
	d = strtod(v, &end);
	if (*end != '\0' || !isfinite(d))
		die("%s: bad __metadata__ %s '%s'", st->name, key, v);
	return d;
}

/* An integer setting: seeds use all 64 bits, which a double cannot hold. */
static uint64_t
meta_u64(const struct safetensors *st, const char *key)
{
	const char *v = safetensors_meta(st, key);
	char *end;
	unsigned long long u;

	if (v == NULL)
		die("%s: no '%s' in __metadata__", st->name, key);
	errno = 0;
	u = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || errno != 0)
		die("%s: bad __metadata__ %s '%s'", st->name, key, v);
	return u;
}

static void
meta_ramp(const struct safetensors *st, const char *key, struct tart_ramp *r)
{
	const char *v = safetensors_meta(st, key);

	if (v == NULL || sscanf(v, "%d:%d:%d:%d", &r->start, &r->end, &r->inc,
	    &r->interval) != 4)
		die("%s: no valid '%s' in __metadata__", st->name, key);
}

/* The decay a checkpoint was trained with ("start:end:min"), or none. */
static void
meta_decay(const struct safetensors *st, struct tart_decay *d)
{
	const char *v = safetensors_meta(st, "decay");
	long a, b;
	double lo;
	int n = 0;

	*d = (struct tart_decay){ 0, 0, 0.0f };
	if (v == NULL)
		return;
	if (sscanf(v, "%ld:%ld:%lf%n", &a, &b, &lo, &n) != 3 || v[n] != '\0' || a < 0 ||
	    b <= a || !(lo >= 0 && lo <= 10))
		die("%s: bad __metadata__ decay '%s'", st->name, v);
	*d = (struct tart_decay){ a, b, (float)lo };
}

/* The model file's training settings, and every setting needed to use it. */
static void
save_model(const struct gpt *m, const char *path, int with_adam,
    const struct tart_train_opts *o, const char *init, long step, double loss)
{
	char steps[32], seed[32], alpha[32], lr[32], batch[32], lossb[32], nd[32];
	char decay[96], dims[96], points[96], adam_path[4096];
	struct safetensors_kv meta[] = {
		{ "format", "loam-tart" }, { "format_version", "1" },
		{ "task", "probabilistic_logistic_regression" },
		{ "n_dims", nd }, { "n_y", "1" }, { "step", steps }, { "seed", seed },
		{ "alpha", alpha }, { "lr", lr }, { "batch", batch }, { "dims", dims },
		{ "points", points }, { "loss", lossb },
		{ "read_out_at", "x positions (even tokens)" },
		{ "tokens", "x_1, (y_1, 0, ...), x_2, ... ; y in {0, 1}" },
		{ "activation", "gelu_new" }, { "layer_norm_epsilon", "1e-05" },
		{ NULL, NULL }, { NULL, NULL },	/* init and decay, when set */
	};
	size_t nmeta = sizeof meta / sizeof *meta - 2;

	if (init != NULL)
		meta[nmeta++] = (struct safetensors_kv){ "init", init };
	if (o->decay.end > o->decay.start) {
		snprintf(decay, sizeof decay, "%ld:%ld:%.9g", o->decay.start,
		    o->decay.end, (double)o->decay.min);
		meta[nmeta++] = (struct safetensors_kv){ "decay", decay };
	}
	snprintf(dims, sizeof dims, "%d:%d:%d:%d", o->dims.start, o->dims.end,
	    o->dims.inc, o->dims.interval);
	snprintf(points, sizeof points, "%d:%d:%d:%d", o->points.start, o->points.end,
	    o->points.inc, o->points.interval);
	snprintf(steps, sizeof steps, "%ld", step);
	snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
	snprintf(alpha, sizeof alpha, "%.17g", o->alpha);
	snprintf(lr, sizeof lr, "%.9g", (double)o->adam.lr);
	snprintf(batch, sizeof batch, "%d", o->batch);
	snprintf(lossb, sizeof lossb, "%.9g", loss);
	snprintf(nd, sizeof nd, "%d", o->n_dims);
	/* Adam's state first: a run killed between the two writes leaves a
	 * model older than its Adam file, which --resume refuses by step. */
	snprintf(adam_path, sizeof adam_path, "%s.adam", path);
	if (with_adam && gpt_save_adam(m, adam_path, steps) != 0)
		die("%s", loam_error());
	if (gpt_save(m, path, 0, meta, nmeta) != 0)
		die("%s", loam_error());
}

/* ---- train ---- */

static const struct cli_option train_options[] = {
	{ 'q', "quiet", NULL, NULL, "no progress" },
	{ OPT_CONFIG, "config", "tiny|small|standard", "NAME",
	    "tiny (3 layers, 64 wide, 2 heads), small (6, 128, 4),\n"
	    "                      standard (12, 256, 8; the paper's; default)" },
	{ OPT_LAYERS, "layers", "n", "N", "layers (overrides the config)" },
	{ OPT_WIDTH, "width", "n", "N", "width (overrides the config)" },
	{ OPT_HEADS, "heads", "n", "N", "heads (overrides the config)" },
	{ OPT_POSITIONS, "positions", "n", "N", "longest sequence in points (default 258: k <= 257)" },
	{ OPT_STEPS, "steps", "n", "N", "training steps (default 24000, the released checkpoint's)" },
	{ OPT_BATCH, "batch", "n", "N", "tasks per step (default 128)" },
	{ OPT_LR, "lr", "x", "X", "Adam learning rate (default 1e-4)" },
	{ OPT_ALPHA, "alpha", "x", "X", "task weight scale (default 10)" },
	{ OPT_DIMS, "dims", "a:b:inc:every", "A:B:INC:EVERY",
	    "dimension curriculum (default 4:16:4:1000)" },
	{ OPT_POINTS, "points", "a:b:inc:every", "A:B:INC:EVERY",
	    "length curriculum (default 18:258:30:1000)" },
	{ OPT_DECAY, "decay", "start:end:min", "S:E:MIN",
	    "lr falls linearly from --lr at step S to MIN at step E\n"
	    "                      (default: constant, as the reference)" },
	{ OPT_CKPT, "checkpoint-every", "n", "N",
	    "write the model (and Adam's state) every N steps (1000)" },
	{ OPT_LOG, "log-every", "n", "N",
	    "a progress line every N steps when stderr is no terminal (100)" },
	{ OPT_RESUME, "resume", NULL, NULL, "continue the run saved beside the -o file" },
	{ OPT_INIT, "init", "model", "FILE", "start from FILE's weights (and sizes), Adam afresh" },
	{ 's', "seed", "seed", "N", "seed of the initialisation and of every task" },
	{ 't', "threads", "threads", "N", "threads" },
	CLI_OPTIONS_END
};
static const struct cli_spec train_spec = {
	"train", "-o model", "Train the module on synthetic logistic-regression tasks.",
	train_options,
	"  -o, --output FILE   the model (safetensors); checkpoints go to FILE.ckpt\n"
	"                      and FILE.ckpt.adam (Adam's state)\n"
};

static const struct {
	const char *name;
	int layers, width, heads;
} configs[] = {
	{ "tiny", 3, 64, 2 }, { "small", 6, 128, 4 }, { "standard", 12, 256, 8 },
};

/* The n elements of an option's "a:b:..." value into el (pointers into
 * copy, which the caller frees); a usage error naming form otherwise. */
static void
split_colons(const char *opt, const char *s, const char *form, char **copy,
    char **el, int n)
{
	char *cur, *t;
	int i = 0;

	*copy = cur = xstrdup(s);
	while ((t = cli_list_next(&cur, ':', opt, s)) != NULL) {
		if (i == n)
			usage_error("%s: '%s' is not %s", opt, s, form);
		el[i++] = t;
	}
	if (i != n)
		usage_error("%s: '%s' is not %s", opt, s, form);
}

/* --dims, --points: START:END:INC:EVERY */
static void
parse_ramp(const char *opt, const char *s, struct tart_ramp *r)
{
	char *copy, *el[4];
	int v[4];

	split_colons(opt, s, "start:end:inc:every", &copy, el, 4);
	for (int i = 0; i < 4; i++)
		v[i] = (int)cli_parse_u64(opt, el[i], 0, 1000000);
	free(copy);
	if (v[0] < 1 || v[0] > v[1])
		usage_error("%s: '%s': start must be >= 1 and <= end", opt, s);
	*r = (struct tart_ramp){ v[0], v[1], v[2], v[3] };
}

/* --decay START:END:MIN */
static void
parse_decay(const char *s, struct tart_decay *d)
{
	char *copy, *el[3];
	long a, b;
	double lo;

	split_colons("--decay", s, "start:end:min", &copy, el, 3);
	a = (long)cli_parse_i64("--decay", el[0], 0, INT64_C(1) << 40);
	b = (long)cli_parse_i64("--decay", el[1], 0, INT64_C(1) << 40);
	lo = cli_parse_double("--decay", el[2], 0, 10);
	free(copy);
	if (b <= a)
		usage_error("--decay: '%s' is not start:end:min with start < end and "
		    "0 <= min <= 10", s);
	*d = (struct tart_decay){ a, b, (float)lo };
}

/* A training run: its settings, and where it stands. */
struct train {
	struct tart_train_opts t;
	struct gpt m;
	struct gpt_config cfg;
	int config, layers, width, heads, positions;	/* sizes of a fresh run */
	int resume, seed_set, points_set, sizes_set;
	char *init_path;		/* owned */
	long steps, ckpt_every, log_every, step0;
	double step_loss;		/* the last step's, for the model file */
	char ckpt_path[4000];		/* room for ".adam" in a 4096 path */
};

/* The model to train: the checkpoint's (--resume), --init's weights, or
 * freshly initialised at the chosen sizes. */
static void
train_model(struct train *tr)
{
	struct tart_train_opts *t = &tr->t;

	if (tr->resume) {
		struct safetensors st, sa;
		char adam_path[4096];
		if (safetensors_open(&st, tr->ckpt_path) != 0)
			die("%s", loam_error());
		check_format(&st);
		if (gpt_config_from_meta(&tr->cfg, &st) != 0)
			die("%s", loam_error());
		if (gpt_init(&tr->m, &tr->cfg) != 0 || gpt_load(&tr->m, &st, 0) != 0)
			die("%s", loam_error());
		tr->step0 = (long)meta_u64(&st, "step");
		t->alpha = meta_double(&st, "alpha");
		t->adam.lr = (float)meta_double(&st, "lr");
		t->batch = (int)meta_u64(&st, "batch");
		if (!tr->seed_set)
			t->seed = meta_u64(&st, "seed");
		if (safetensors_meta(&st, "init") != NULL)
			tr->init_path = xstrdup(safetensors_meta(&st, "init"));
		meta_decay(&st, &t->decay);
		if (safetensors_meta(&st, "loss") != NULL)
			tr->step_loss = strtod(safetensors_meta(&st, "loss"), NULL);
		meta_ramp(&st, "dims", &t->dims);
		meta_ramp(&st, "points", &t->points);
		safetensors_close(&st);
		gpt_train_init(&tr->m);
		snprintf(adam_path, sizeof adam_path, "%s.adam", tr->ckpt_path);
		if (safetensors_open(&sa, adam_path) != 0)
			die("%s", loam_error());
		if (gpt_load_adam(&tr->m, &sa, tr->step0) != 0)
			die("%s", loam_error());
		safetensors_close(&sa);
	} else if (tr->init_path != NULL) {
		tr->cfg = tr->m.cfg;
		gpt_train_init(&tr->m);
	} else {
		int c = tr->config;
		tr->cfg = (struct gpt_config){ t->n_dims, 0, 2 * tr->positions,
		    tr->layers ? tr->layers : configs[c].layers,
		    tr->heads ? tr->heads : configs[c].heads,
		    tr->width ? tr->width : configs[c].width, 1 };
		if (tr->cfg.n_embd % tr->cfg.n_head != 0)
			usage_error("train: width %d is not a multiple of %d heads "
			    "(give --width, --heads or --config)", tr->cfg.n_embd,
			    tr->cfg.n_head);
		if (gpt_init(&tr->m, &tr->cfg) != 0)
			die("%s", loam_error());
		gpt_init_weights(&tr->m, t->seed);
		gpt_train_init(&tr->m);
	}
}

/* The steps, with progress lines and checkpoints; then the model. */
static void
train_steps(struct train *tr, const struct cli_opts *o)
{
	const struct tart_train_opts *t = &tr->t;
	double t0 = cli_now(), loss_sum = 0.0;
	long loss_n = 0, steps = tr->steps, end;
	struct progress pr;

	progress_init(&pr, "steps", (uint64_t)steps, o->quiet);
	if (!o->quiet)
		note("train: %d layers, width %d, %d heads, %zu parameters; steps %ld to %ld",
		    tr->cfg.n_layer, tr->cfg.n_embd, tr->cfg.n_head, tr->m.nparams,
		    tr->step0, steps);
	for (long s = tr->step0; s < steps; s++) {
		double loss = tart_train_step(&tr->m, t, s);
		if (!isfinite(loss))
			die("train: loss is %g at step %ld (try a lower --lr)", loss, s);
		loss_sum += loss;
		loss_n++;
		tr->step_loss = loss;
		if ((s + 1) % tr->log_every == 0 || s + 1 == steps) {
			double mean = loss_sum / (double)loss_n;
			if (!o->quiet && !pr.tty) {
				double el = cli_now() - t0;
				double rate = (double)(s + 1 - tr->step0) / el;
				note("step %ld/%ld  loss %.4f  d %d  points %d  lr %.3g  "
				    "%.2f steps/s  eta %.0f s", s + 1, steps, mean,
				    tart_ramp_at(&t->dims, s), tart_ramp_at(&t->points, s),
				    (double)tart_lr_at(t, s), rate,
				    (double)(steps - s - 1) / rate);
			}
			loss_sum = 0.0;
			loss_n = 0;
		}
		progress_update(&pr, (uint64_t)(s + 1));
		if ((s + 1) % tr->ckpt_every == 0 && s + 1 < steps)
			save_model(&tr->m, tr->ckpt_path, 1, t, tr->init_path, s + 1,
			    tr->step_loss);
	}
	progress_end(&pr);
	/* The last checkpoint too, so that a finished run can be continued
	 * to more steps; then the model, replaced only now. */
	end = steps > tr->step0 ? steps : tr->step0;
	save_model(&tr->m, tr->ckpt_path, 1, t, tr->init_path, end, tr->step_loss);
	save_model(&tr->m, o->output, 0, t, tr->init_path, end, tr->step_loss);
}

static int
cmd_train(int argc, char *argv[])
{
	static const char *const config_names[] = { "tiny", "small", "standard" };
	struct cli_opts o;
	struct train tr = { .config = 2, .positions = 258, .steps = 24000,
	    .ckpt_every = 1000, .log_every = 100, .step_loss = NAN };
	struct tart_train_opts *t = &tr.t;
	const char *arg;
	int c;

	tart_train_defaults(t);
	cli_begin(&o, argc, argv, &train_spec, CLI_BLAS);
	while ((c = cli_next(&o, &arg)) != -1)
		switch (c) {
		case OPT_CONFIG: tr.config = cli_parse_choice("--config", arg, config_names, 3); tr.sizes_set = 1; break;
		case OPT_LAYERS: tr.layers = (int)cli_parse_u64("--layers", arg, 1, 256); tr.sizes_set = 1; break;
		case OPT_WIDTH: tr.width = (int)cli_parse_u64("--width", arg, 1, 65536); tr.sizes_set = 1; break;
		case OPT_HEADS: tr.heads = (int)cli_parse_u64("--heads", arg, 1, 1024); tr.sizes_set = 1; break;
		case OPT_POSITIONS: tr.positions = (int)cli_parse_u64("--positions", arg, 2, 1 << 20); tr.sizes_set = 1; break;
		case OPT_STEPS: tr.steps = (long)cli_parse_u64("--steps", arg, 0, 1L << 40); break;
		case OPT_BATCH: t->batch = (int)cli_parse_u64("--batch", arg, 1, 1 << 20); break;
		case OPT_LR: t->adam.lr = (float)cli_parse_double("--lr", arg, 0, 10); break;
		case OPT_ALPHA: t->alpha = cli_parse_double("--alpha", arg, 0, 1e6); break;
		case OPT_DIMS: parse_ramp("--dims", arg, &t->dims); break;
		case OPT_POINTS: parse_ramp("--points", arg, &t->points); tr.points_set = 1; break;
		case OPT_DECAY: parse_decay(arg, &t->decay); break;
		case OPT_CKPT: tr.ckpt_every = (long)cli_parse_u64("--checkpoint-every", arg, 1, 1L << 40); break;
		case OPT_LOG: tr.log_every = (long)cli_parse_u64("--log-every", arg, 1, 1L << 40); break;
		case OPT_RESUME: tr.resume = 1; break;
		case OPT_INIT: tr.init_path = xstrdup(arg); break;
		case 's': tr.seed_set = 1; break;
		}
	if (o.argc != 0)
		usage_error("train: unexpected argument '%s'", o.argv[0]);
	if (o.output == NULL || strcmp(o.output, "-") == 0)
		usage_error("train: -o model file required");
	t->seed = o.seed;
	/* Checkpoints go beside the model, which is replaced only when the
	 * run ends: an interrupted retrain keeps the old model. */
	if (snprintf(tr.ckpt_path, sizeof tr.ckpt_path, "%s.ckpt", o.output) >=
	    (int)sizeof tr.ckpt_path)
		usage_error("train: -o: path too long");
	if (tr.init_path != NULL && tr.resume)
		usage_error("train: --init starts a run, --resume continues one");
	if (tr.init_path != NULL && tr.sizes_set)
		usage_error("train: --init takes the sizes of its module; no --config, "
		    "--layers, --width, --heads or --positions");
	if (tr.init_path != NULL) {
		/* The sizes are the init module's; Adam starts afresh. */
		load_model(&tr.m, tr.init_path, 8);
		if (tr.m.cfg.n_in != t->n_dims)
			die("%s: %d inputs, training draws %d dimensions", tr.init_path,
			    tr.m.cfg.n_in, t->n_dims);
		tr.positions = tr.m.cfg.max_len / 2;
	}
	if (t->dims.end > t->n_dims)
		usage_error("--dims: end %d is more than the %d input dimensions",
		    t->dims.end, t->n_dims);
	/* The default length curriculum stops at the longest sequence. */
	if (!tr.points_set && t->points.end > tr.positions) {
		t->points.end = tr.positions;
		if (t->points.start > tr.positions)
			t->points.start = tr.positions;
	}
	if (t->points.end > tr.positions)
		usage_error("--points: end %d is more than --positions %d",
		    t->points.end, tr.positions);
	train_model(&tr);
	train_steps(&tr, &o);
	gpt_release(&tr.m);
	free(tr.init_path);
	return cli_exit();
}

/* ---- predict ---- */

static const struct cli_option predict_options[] = {
	{ 'q', "quiet", NULL, NULL, "no summary" },
	{ 'm', "model", "model", "FILE", NULL },
	{ OPT_TRAIN, "train", "file", "FILE", NULL },
	{ 'k', NULL, "n", "N", "examples to use, class-balanced, seeded (default: all)" },
	{ OPT_TRAIN_LABELS, "train-labels", "file", "FILE",
	    "labels 0/1 (.npy) when --train is a .npy or .safetensors matrix" },
	{ OPT_EMBEDDINGS, "embeddings", "file", "FILE",
	    "rows for records that give \"row\" instead of an embedding\n"
	    "                      (.npy, or .safetensors[:tensor])" },
	{ OPT_COMPONENTS, "components", "n", "N",
	    "PCA components (default: the module's 16; fewer are tiled)" },
	{ OPT_ORDERS, "orders", "n", "N", "average the logit over N orders of the examples\n"
	    "                      (default 1, the reference's single order)" },
	{ OPT_NO_CACHE, "no-cache", NULL, NULL, "recompute the whole context for every query (slow)" },
	{ OPT_HEADS, "heads", "n", "N", "heads of a checkpoint without loam metadata (default 8)" },
	{ OPT_FIELD, "field", "name", "NAME", "embedding field (default embedding)" },
	{ OPT_LABEL_FIELD, "label-field", "name", "NAME", "label field of the examples (default label)" },
	{ 's', "seed", "seed", "N", "seed of the choice and order of the examples" },
	{ 't', "threads", "threads", "N", "threads" },
	{ 'o', "output", "file", "FILE", "write to FILE atomically" },
	CLI_OPTIONS_END
};
static const struct cli_spec predict_spec = {
	"predict", "-m model --train file [file ...]",
	"Label query embeddings 0/1 from k labelled examples.",
	predict_options,
	"  -m, --model FILE    the reasoning module (safetensors)\n"
	"  --train FILE        in-context examples: records with an embedding and a label\n"
	"Adds tart_p (probability of label 1) and tart_label to each query record;\n"
	"a query file that is a .npy or .safetensors matrix gives records {\"row\":i}.\n"
};

struct embedding_source {
	const char *field;
	float *rows;			/* --embeddings, or NULL */
	size_t nrows, dim;		/* dim 0 until the first vector */
	const char *rows_name;
};

/* The record's vector into buf (dim floats; the first record sets dim).
 * 0, or -1 after rec_errorf(). */
static int
read_embedding(struct rec *r, struct embedding_source *es, float **buf)
{
	size_t n;
	int64_t row;
	int rc = rec_get_array_len(r, es->field, &n);

	if (rc == REC_ABSENT && es->rows != NULL) {
		rc = rec_get_int(r, "row", &row);
		if (rc != REC_OK)
			return rec_errorf(r, "neither '%s' nor an integer 'row'", es->field);
		if (row < 0 || (uint64_t)row >= es->nrows)
			return rec_errorf(r, "row %lld is outside %s (%zu rows)",
			    (long long)row, es->rows_name, es->nrows);
		if (*buf == NULL)
			*buf = xreallocarray(NULL, es->dim, sizeof **buf);
		memcpy(*buf, es->rows + (size_t)row * es->dim, es->dim * sizeof **buf);
		return 0;
	}
	if (rc != REC_OK)
		return rec_errorf(r, "field '%s': expected an array of numbers%s",
		    es->field, es->rows ? " or a 'row'" : "");
	if (es->dim == 0) {
		if (n == 0)
			return rec_errorf(r, "field '%s' is empty", es->field);
		es->dim = n;
		*buf = xreallocarray(*buf, n, sizeof **buf);
	} else if (n != es->dim)
		return rec_errorf(r, "field '%s' has %zu dimensions, earlier records %zu",
		    es->field, n, es->dim);
	if (rec_get_floats(r, es->field, *buf, es->dim, &n) != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	for (size_t i = 0; i < n; i++)
		if (!isfinite((*buf)[i]))
			return rec_errorf(r, "field '%s': element %zu is not finite",
			    es->field, i);
	return 0;
}

/* n labels 0/1 from a 1-d (or n x 1) .npy file. */
static int *
read_labels(const char *path, size_t n)
{
	struct npy a;
	double *v;
	int *y;

	if (npy_open(&a, path) != 0)
		die("%s", loam_error());
	if (a.count != n || a.ndim < 1 || a.ndim > 2 || (a.ndim == 2 && a.shape[1] != 1))
		die("%s: %zu labels for %zu examples", path, a.count, n);
	v = xmalloc((n + 1) * sizeof *v);
	y = xmalloc((n + 1) * sizeof *y);
	if (npy_read_f64(&a, v) != 0)
		die("%s", loam_error());
	for (size_t i = 0; i < n; i++) {
		if (v[i] != 0 && v[i] != 1)
			die("%s: label %zu is %g, not 0 or 1", path, i, v[i]);
		y[i] = (int)v[i];
	}
	free(v);
	npy_close(&a);
	return y;
}

#define BATCH 512

/* A predict run: the module, the examples, and the queries pending. */
struct predict {
	struct embedding_source es;
	const char *label_field;
	float *vec;			/* the record's embedding */
	/* The labelled examples. */
	float *train_x;
	int *train_y;
	size_t ntrain, cap;
	/* The module, its context, and the queries not yet run. */
	struct gpt m;
	struct tart_context ctx;
	size_t W;
	char *line[BATCH];		/* a query record's text, or NULL for a row */
	size_t len[BATCH], row[BATCH];
	int gold[BATCH];		/* its label, or -1 */
	float *x;			/* BATCH x W */
	size_t n;
	struct recw w;
	size_t correct, labelled;
};

/* stream_fn: one labelled example. */
static int
example(struct rec *r, void *arg)
{
	struct predict *p = arg;
	size_t D;
	int64_t y;

	if (read_embedding(r, &p->es, &p->vec) != 0)
		return -1;
	if (rec_get_int(r, p->label_field, &y) != REC_OK || (y != 0 && y != 1))
		return rec_errorf(r, "field '%s': expected a label 0 or 1", p->label_field);
	D = p->es.dim;
	if (p->ntrain == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 256;
		p->train_x = xreallocarray(p->train_x, p->cap * D, sizeof *p->train_x);
		p->train_y = xreallocarray(p->train_y, p->cap, sizeof *p->train_y);
	}
	memcpy(p->train_x + p->ntrain * D, p->vec, D * sizeof *p->vec);
	p->train_y[p->ntrain++] = (int)y;
	return 0;
}

/* The examples: records, or a matrix and a label vector. */
static void
read_examples(struct predict *p, const char *path, const char *labels, const char *emb_path)
{
	struct stream s;
	size_t dim;

	if (dense_is_spec(path)) {
		if (labels == NULL)
			usage_error("predict: --train %s needs --train-labels", path);
		if (dense_load_f32(path, NULL, &p->train_x, &p->ntrain, &dim) != 0)
			die("%s", loam_error());
		if (p->es.dim != 0 && dim != p->es.dim)
			die("%s: %zu dimensions, %s has %zu", path, dim, emb_path, p->es.dim);
		p->es.dim = dim;
		p->train_y = read_labels(labels, p->ntrain);
		p->vec = xmalloc(dim * sizeof *p->vec);
		return;
	}
	if (labels != NULL)
		usage_error("predict: --train-labels goes with a .npy or .safetensors --train");
	stream_init(&s, NULL);
	stream_file(&s, path, example, p);
	stream_end(&s);
}

/* Run the pending queries and write them with tart_p and tart_label. */
static void
flush_queries(struct predict *p)
{
	float logits[BATCH];

	tart_context_logits(&p->ctx, &p->m, p->x, p->n, logits);
	for (size_t i = 0; i < p->n; i++) {
		float prob = 1.0f / (1.0f + expf(-logits[i]));
		int label = prob >= 0.5f;
		if (p->line[i] != NULL) {
			struct rec *r = rec_parse(p->line[i], p->len[i], "query", 0);
			if (r == NULL || rec_set_float(r, "tart_p", prob) != 0 ||
			    rec_set_int(r, "tart_label", label) != 0)
				die("internal: cannot extend a query record");
			recw_rec(&p->w, r);
			rec_free(r);
			free(p->line[i]);
		} else {
			recw_begin(&p->w);
			recw_uint(&p->w, "row", p->row[i]);
			recw_float(&p->w, "tart_p", prob);
			recw_int(&p->w, "tart_label", label);
			if (recw_end(&p->w) != 0)
				die("%s", loam_error());
		}
		if (p->gold[i] >= 0) {
			p->labelled++;
			p->correct += p->gold[i] == label;
		}
	}
	p->n = 0;
}

/* Queue one query: its module input and its record (text, or NULL and
 * a row of a matrix). */
static void
add_query(struct predict *p, const float *vec, int gold, const char *text,
    size_t len, size_t row)
{
	tart_embed(&p->ctx.pca, vec, p->x + p->n * p->W, p->W);
	p->gold[p->n] = gold;
	p->line[p->n] = NULL;
	if (text != NULL) {
		p->line[p->n] = xmalloc(len + 1);
		memcpy(p->line[p->n], text, len);
		p->line[p->n][len] = '\0';
	}
	p->len[p->n] = len;
	p->row[p->n++] = row;
	if (p->n == BATCH)
		flush_queries(p);
}

/* stream_fn: one query record. */
static int
query(struct rec *r, void *arg)
{
	struct predict *p = arg;
	const char *text;
	size_t len;
	int64_t y;
	int gold;

	if (read_embedding(r, &p->es, &p->vec) != 0)
		return -1;
	gold = rec_get_int(r, p->label_field, &y) == REC_OK && (y == 0 || y == 1) ?
	    (int)y : -1;
	if ((text = rec_to_string(r, &len)) == NULL)
		return rec_errorf(r, "%s", loam_error());
	add_query(p, p->vec, gold, text, len, 0);
	return 0;
}

/* The queries of a .npy or .safetensors matrix: records {"row":i}. */
static void
query_matrix(struct predict *p, const char *path)
{
	float *qx;
	size_t qn, qd;

	if (dense_load_f32(path, NULL, &qx, &qn, &qd) != 0)
		die("%s", loam_error());
	if (qd != p->es.dim)
		die("%s: %zu dimensions, the examples have %zu", path, qd, p->es.dim);
	for (size_t i = 0; i < qn; i++) {
		for (size_t j = 0; j < qd; j++)
			if (!isfinite(qx[i * qd + j]))
				die("%s: row %zu: element %zu is not finite", path, i, j);
		add_query(p, qx + i * qd, -1, NULL, 0, i);
	}
	free(qx);
}

static int
cmd_predict(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct predict *p = xcalloc(1, sizeof *p);
	const char *model_path = NULL, *train_path = NULL, *emb_path = NULL;
	const char *train_labels = NULL, *arg;
	size_t k = 0, ncomp = 0, norders = 1, *pick;
	int c, no_cache = 0, heads = 8;
	struct stream s;

	p->es.field = "embedding";
	p->label_field = "label";
	cli_begin(&o, argc, argv, &predict_spec, CLI_BLAS);
	while ((c = cli_next(&o, &arg)) != -1)
		switch (c) {
		case 'm': model_path = arg; break;
		case 'k': k = cli_parse_u64("-k", arg, 1, 1 << 20); break;
		case OPT_TRAIN: train_path = arg; break;
		case OPT_TRAIN_LABELS: train_labels = arg; break;
		case OPT_EMBEDDINGS: emb_path = arg; break;
		case OPT_COMPONENTS: ncomp = cli_parse_u64("--components", arg, 1, 4096); break;
		case OPT_FIELD: p->es.field = arg; break;
		case OPT_LABEL_FIELD: p->label_field = arg; break;
		case OPT_HEADS: heads = (int)cli_parse_u64("--heads", arg, 1, 1024); break;
		case OPT_NO_CACHE: no_cache = 1; break;
		case OPT_ORDERS: norders = cli_parse_u64("--orders", arg, 1, 1024); break;
		}
	if (model_path == NULL)
		usage_error("predict: -m model required");
	if (train_path == NULL)
		usage_error("predict: --train examples required");

	load_model(&p->m, model_path, heads);
	p->W = (size_t)p->m.cfg.n_in;
	if (ncomp == 0)
		ncomp = p->W;
	if (ncomp > p->W || p->W % ncomp != 0)
		usage_error("--components: %zu does not divide the module's %zu inputs",
		    ncomp, p->W);
	if (emb_path != NULL) {
		if (dense_load_f32(emb_path, NULL, &p->es.rows, &p->es.nrows, &p->es.dim) != 0)
			die("%s", loam_error());
		p->es.rows_name = emb_path;
	}
	read_examples(p, train_path, train_labels, emb_path);
	if (p->ntrain == 0)
		die("%s: no examples", train_path);
	if (k == 0)
		k = p->ntrain;
	pick = xmalloc((k + 1) * sizeof *pick);
	if (tart_pick_examples(p->train_y, p->ntrain, k, o.seed, pick) != 0)
		die("%s: %s", train_path, loam_error());
	if (2 * k + 1 > (size_t)p->m.cfg.max_len)
		die("%s: k = %zu needs %zu positions, the module has %d (k <= %d)",
		    model_path, k, 2 * k + 1, p->m.cfg.max_len, (p->m.cfg.max_len - 1) / 2);
	if (tart_context_init(&p->ctx, &p->m, p->train_x, p->train_y, p->es.dim, pick, k,
	    ncomp, norders, !no_cache, o.seed) != 0)
		die("%s: %s", train_path, loam_error());

	p->x = xmalloc(BATCH * p->W * sizeof *p->x);
	recw_init(&p->w, cli_out_open(&out, o.output), o.output);
	stream_init(&s, &o);
	for (int f = 0; f < (o.argc > 0 ? o.argc : 1); f++) {
		const char *path = o.argc > 0 ? o.argv[f] : "-";
		if (dense_is_spec(path))
			query_matrix(p, path);
		else
			stream_file(&s, path, query, p);
	}
	stream_end(&s);
	flush_queries(p);
	cli_out_commit(&out);
	if (!o.quiet && p->labelled > 0)
		note("predict: k = %zu, accuracy %.4f on %zu labelled queries", k,
		    (double)p->correct / (double)p->labelled, p->labelled);

	recw_release(&p->w);
	tart_context_release(&p->ctx);
	gpt_release(&p->m);
	free(pick);
	free(p->x);
	free(p->vec);
	free(p->train_x);
	free(p->train_y);
	free(p->es.rows);
	free(p);
	return cli_exit();
}

/* ---- eval ---- */

static const struct cli_option eval_options[] = {
	{ 'q', "quiet", NULL, NULL, "no table on stderr" },
	{ 'm', "model", "model", "FILE", NULL },
	{ OPT_KS, "ks", "n,...", "N,...", "context sizes (default 18,32,64,128,256; those beyond\n"
	    "                      the module's positions are skipped; each < 2000)" },
	{ OPT_TASKS, "tasks", "n", "N", "tasks per k (default 200)" },
	{ OPT_QUERIES, "queries", "n", "N", "test points per task (default 500)" },
	{ OPT_ALPHA, "alpha", "x", "X",
	    "weight scale of the tasks (default: the module's training alpha)" },
	{ OPT_C, "C", "x", "X", "inverse L2 strength of logistic regression (default 1)" },
	{ OPT_ORDERS, "orders", "n", "N", "average the module's logit over N orders of the\n"
	    "                      examples (default 1)" },
	{ OPT_HEADS, "heads", "n", "N", "heads of a checkpoint without loam metadata (default 8)" },
	{ 's', "seed", "seed", "N", "seed of the tasks" },
	{ 't', "threads", "threads", "N", "threads" },
	{ 'o', "output", "file", "FILE", "records to FILE atomically" },
	CLI_OPTIONS_END
};
static const struct cli_spec eval_spec = {
	"eval", "-m model",
	"Accuracy against logistic regression on fresh tasks.",
	eval_options,
	"  -m, --model FILE    the reasoning module\n"
	"The module is set beside logistic regression fitted on the same k examples\n"
	"and the Bayes rule with the true weights.\n"
};

/* --ks: up to 64 context sizes. */
static size_t
parse_ks(const char *s, size_t *ks)
{
	char *copy = xstrdup(s), *cur = copy, *t;
	size_t n = 0;

	while ((t = cli_list_next(&cur, ',', "--ks", s)) != NULL) {
		if (n == 64)
			usage_error("--ks: more than 64 values");
		ks[n++] = cli_parse_u64("--ks", t, 1, 1999);
	}
	free(copy);
	return n;
}

static int
cmd_eval(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct recw w;
	struct gpt m;
	struct tart_eval e = { 500, 1, NAN, 1.0, 0 };
	const char *model_path = NULL, *ks_arg = "18,32,64,128,256", *arg;
	size_t tasks = 200, ks[64], nks, nrun = 0;
	int c, heads = 8;

	cli_begin(&o, argc, argv, &eval_spec, CLI_BLAS);
	while ((c = cli_next(&o, &arg)) != -1)
		switch (c) {
		case 'm': model_path = arg; break;
		case OPT_KS: ks_arg = arg; break;
		case OPT_TASKS: tasks = cli_parse_u64("--tasks", arg, 1, 1 << 24); break;
		case OPT_QUERIES: e.queries = cli_parse_u64("--queries", arg, 1, 1 << 24); break;
		case OPT_ALPHA: e.alpha = cli_parse_double("--alpha", arg, 0, 1e6); break;
		case OPT_C: e.C = cli_parse_double("--C", arg, 1e-9, 1e9); break;
		case OPT_HEADS: heads = (int)cli_parse_u64("--heads", arg, 1, 1024); break;
		case OPT_ORDERS: e.norders = cli_parse_u64("--orders", arg, 1, 1024); break;
		}
	if (o.argc != 0)
		usage_error("eval: unexpected argument '%s'", o.argv[0]);
	if (model_path == NULL)
		usage_error("eval: -m model required");
	nks = parse_ks(ks_arg, ks);
	e.seed = o.seed;
	load_model(&m, model_path, heads);
	if (isnan(e.alpha)) {
		struct safetensors st;
		e.alpha = 10.0;
		if (safetensors_open(&st, model_path) == 0) {
			if (safetensors_meta(&st, "alpha") != NULL)
				e.alpha = meta_double(&st, "alpha");
			safetensors_close(&st);
		}
	}
	recw_init(&w, cli_out_open(&out, o.output), o.output);
	if (!o.quiet)
		fprintf(stderr, "%6s %8s %8s %8s %8s\n", "k", "tart", "logreg", "bayes",
		    "tasks");
	for (size_t ki = 0; ki < nks; ki++) {
		size_t k = ks[ki], right[3];
		double acc[3] = { 0, 0, 0 };
		if (2 * k + 1 > (size_t)m.cfg.max_len) {
			if (!o.quiet)
				note("eval: k = %zu skipped: the module has %d positions "
				    "(k <= %d)", k, m.cfg.max_len, (m.cfg.max_len - 1) / 2);
			continue;
		}
		nrun++;
		for (size_t t = 0; t < tasks; t++) {
			if (tart_eval_task(&m, &e, k, t, right) != 0)
				note("eval: k = %zu task %zu: logistic regression did not "
				    "converge in 100 Newton steps", k, t);
			for (int j = 0; j < 3; j++)
				acc[j] += (double)right[j] / e.queries;
		}
		for (int j = 0; j < 3; j++)
			acc[j] /= tasks;
		if (!o.quiet)
			fprintf(stderr, "%6zu %8.4f %8.4f %8.4f %8zu\n", k, acc[0], acc[1],
			    acc[2], tasks);
		recw_begin(&w);
		recw_uint(&w, "k", k);
		recw_double(&w, "tart", acc[0]);
		recw_double(&w, "logreg", acc[1]);
		recw_double(&w, "bayes", acc[2]);
		recw_uint(&w, "tasks", tasks);
		recw_uint(&w, "queries", e.queries);
		recw_double(&w, "alpha", e.alpha);
		recw_double(&w, "C", e.C);
		if (recw_end(&w) != 0)
			die("%s", loam_error());
	}
	/* An empty output with status 0 would read as "nothing to report". */
	if (nrun == 0)
		die("eval: every k was skipped: the module has %d positions (k <= %d)",
		    m.cfg.max_len, (m.cfg.max_len - 1) / 2);
	cli_out_commit(&out);
	recw_release(&w);
	gpt_release(&m);
	return cli_exit();
}

int
main(int argc, char *argv[])
{
	static const struct cli_command commands[] = {
		{ "train", cmd_train, &train_spec },
		{ "predict", cmd_predict, &predict_spec },
		{ "eval", cmd_eval, &eval_spec },
	};

	return cli_subcommand(argc, argv, commands, sizeof commands / sizeof *commands,
	    NULL, NULL,
	    "TART's reasoning module: train it on synthetic logistic regression, predict\n"
	    "labels of embeddings from k labelled examples, evaluate it against logistic\n"
	    "regression.  Run 'tart-fit COMMAND -h' for a command's options.\n");
}
