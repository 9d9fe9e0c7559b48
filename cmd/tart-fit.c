/*
 * tart-fit - TART's reasoning module (Bhatia, Narayan, De Sa, Ré 2023):
 * train it on synthetic logistic regression, apply it to embeddings with
 * the k-example prefix cached, and evaluate it against in-context
 * logistic regression; see tart-fit(1).
 *
 * The model is lib/gpt, the task, PCA and baseline lib/tart.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dense.h"
#include "gpt.h"
#include "npy.h"
#include "rec.h"
#include "safetensors.h"
#include "tart.h"

static const char usage[] =
    "usage: tart-fit train [-q] [--config tiny|small|standard] [--layers n] [--width n]\n"
    "                      [--heads n] [--positions n] [--steps n] [--batch n] [--lr x]\n"
    "                      [--alpha x] [--dims a:b:inc:every] [--points a:b:inc:every]\n"
    "                      [--decay start:end:min] [--checkpoint-every n]\n"
    "                      [--log-every n] [--resume] [--init model] [-s seed]\n"
    "                      [-t threads] -o model\n"
    "       tart-fit predict [-q] -m model [-k n] [--train file] [--components n]\n"
    "                      [--train-labels file] [--embeddings file] [--orders n]\n"
    "                      [--no-cache]\n"
    "                      [--field name] [--label-field name] [-s seed]\n"
    "                      [-t threads] [-o file] [file ...]\n"
    "       tart-fit eval [-q] -m model [--ks n,...] [--tasks n] [--queries n]\n"
    "                      [--alpha x] [--C x] [--orders n] [-s seed] [-t threads]\n"
    "                      [-o file]\n";
static const char help[] =
    "TART's reasoning module: train on synthetic logistic regression, predict labels\n"
    "of embeddings from k labelled examples, evaluate against logistic regression.\n"
    "Run 'tart-fit COMMAND -h' for a command's options.\n";

/* ---- train ---- */

static const char train_help[] =
    "Train the reasoning module on synthetic logistic-regression tasks.\n"
    "  --config NAME        tiny (3 layers, 64 wide, 2 heads), small (6, 128, 4),\n"
    "                       standard (12, 256, 8; the paper's; default)\n"
    "  --layers/--width/--heads N   explicit sizes (override the config)\n"
    "  --positions N        longest sequence in points (default 258: k <= 257)\n"
    "  --steps N            training steps (default 24000, the released checkpoint's)\n"
    "  --batch N            tasks per step (default 128)\n"
    "  --lr X               Adam learning rate (default 1e-4)\n"
    "  --decay S:E:MIN      lr falls linearly from --lr at step S to MIN at step E\n"
    "                       (default: constant, as the reference)\n"
    "  --alpha X            task weight scale (default 10)\n"
    "  --dims A:B:INC:EVERY   dimension curriculum (default 4:16:4:1000)\n"
    "  --points A:B:INC:EVERY length curriculum (default 18:258:30:1000)\n"
    "  --checkpoint-every N write the model (and Adam's state) every N steps (1000)\n"
    "  --log-every N        a progress line every N steps when stderr is no terminal (100)\n"
    "  --resume             continue the run saved in the -o file\n"
    "  --init FILE          start from FILE's weights (and sizes), Adam afresh\n"
    "  -o, --output FILE    the model (safetensors); FILE.adam holds Adam's state\n"
    "  -s, --seed N         seed of the initialisation and of every task\n"
    "  -t, --threads N      threads\n"
    "  -q, --quiet          no progress\n";

enum {
	OPT_CONFIG = 256, OPT_LAYERS, OPT_WIDTH, OPT_HEADS, OPT_POSITIONS, OPT_STEPS,
	OPT_BATCH, OPT_LR, OPT_ALPHA, OPT_DIMS, OPT_POINTS, OPT_CKPT, OPT_LOG,
	OPT_RESUME, OPT_MODEL, OPT_TRAIN, OPT_COMPONENTS, OPT_NO_CACHE, OPT_FIELD,
	OPT_LABEL_FIELD, OPT_KS, OPT_TASKS, OPT_QUERIES, OPT_C, OPT_TRAIN_LABELS,
	OPT_EMBEDDINGS, OPT_DECAY, OPT_ORDERS, OPT_INIT,
};

/* --decay START:END:MIN */
static int
parse_decay(const char *s, struct tart_decay *d)
{
	char *end;
	long a, b;
	double lo;

	errno = 0;
	a = strtol(s, &end, 10);
	if (end == s || *end != ':' || errno != 0 || a < 0)
		return -1;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (end == s || *end != ':' || errno != 0 || b <= a)
		return -1;
	s = end + 1;
	lo = strtod(s, &end);
	if (end == s || *end != '\0' || !(lo >= 0 && lo <= 10))
		return -1;
	*d = (struct tart_decay){ a, b, (float)lo };
	return 0;
}

static void
parse_ramp(const char *opt, const char *s, struct tart_ramp *r)
{
	long v[4];
	char *end;
	const char *p = s;

	for (int i = 0; i < 4; i++) {
		errno = 0;
		v[i] = strtol(p, &end, 10);
		if (end == p || errno != 0 || v[i] < 0 || v[i] > 1000000 ||
		    (i < 3 && *end != ':') || (i == 3 && *end != '\0'))
			usage_error("%s: '%s' is not start:end:inc:every", opt, s);
		p = end + 1;
	}
	if (v[0] < 1 || v[0] > v[1])
		usage_error("%s: '%s': start must be >= 1 and <= end", opt, s);
	*r = (struct tart_ramp){ (int)v[0], (int)v[1], (int)v[2], (int)v[3] };
}

static char *
fmt_ramp(const struct tart_ramp *r)
{
	char buf[96];
	snprintf(buf, sizeof buf, "%d:%d:%d:%d", r->start, r->end, r->inc, r->interval);
	return xstrdup(buf);
}

static int
ramp_from_meta(const struct safetensors *st, const char *key, struct tart_ramp *r)
{
	const char *v = safetensors_meta(st, key);
	if (v == NULL || sscanf(v, "%d:%d:%d:%d", &r->start, &r->end, &r->inc,
	    &r->interval) != 4)
		return loam_seterr("%s: no valid '%s' in __metadata__", st->name, key);
	return 0;
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

/* The model file's training settings, and every setting needed to use it. */
static void
save_model(const struct gpt *m, const char *path, int with_adam,
    const struct tart_train_opts *o, const char *init, long step, double loss)
{
	char steps[32], seed[32], alpha[32], lr[32], batch[32], lossb[32], nd[32];
	char decay[96];
	char *dims = fmt_ramp(&o->dims), *points = fmt_ramp(&o->points);
	char adam_path[4096];
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
	free(dims);
	free(points);
}

static const struct {
	const char *name;
	int layers, width, heads;
} configs[] = {
	{ "tiny", 3, 64, 2 }, { "small", 6, 128, 4 }, { "standard", 12, 256, 8 },
};

static void load_model(struct gpt *m, const char *path, int heads);

static int
cmd_train(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "layers", required_argument, NULL, OPT_LAYERS },
		{ "width", required_argument, NULL, OPT_WIDTH },
		{ "heads", required_argument, NULL, OPT_HEADS },
		{ "positions", required_argument, NULL, OPT_POSITIONS },
		{ "steps", required_argument, NULL, OPT_STEPS },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "lr", required_argument, NULL, OPT_LR },
		{ "alpha", required_argument, NULL, OPT_ALPHA },
		{ "dims", required_argument, NULL, OPT_DIMS },
		{ "points", required_argument, NULL, OPT_POINTS },
		{ "checkpoint-every", required_argument, NULL, OPT_CKPT },
		{ "log-every", required_argument, NULL, OPT_LOG },
		{ "resume", no_argument, NULL, OPT_RESUME },
		{ "decay", required_argument, NULL, OPT_DECAY },
		{ "init", required_argument, NULL, OPT_INIT },
		CLI_COMMON_LONGOPTS,
	};
	static const char *const config_names[] = { "tiny", "small", "standard" };
	struct cli_opts o;
	struct tart_train_opts t;
	struct gpt_config cfg;
	static struct gpt m;	/* static: reachable when die() ends the run */
	int c, config = 2, layers = 0, width = 0, heads = 0, positions = 258;
	int resume = 0, seed_set = 0, points_set = 0, sizes_set = 0;
	static char *init_path;	/* static: reachable when die() ends the run */
	long steps = 24000, ckpt_every = 1000, log_every = 100, step0 = 0;
	static char ckpt_path[4000];	/* room for ".adam" in a 4096 path */
	double loss_sum = 0.0, last_loss = NAN, step_loss = NAN;
	long loss_n = 0;

	tart_train_defaults(&t);
	cli_init(&o, argc, argv, usage, train_help, CLI_BLAS);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1)
		switch (c) {
		case OPT_CONFIG: config = cli_parse_choice("--config", optarg, config_names, 3); sizes_set = 1; break;
		case OPT_LAYERS: layers = (int)cli_parse_u64("--layers", optarg, 1, 256); sizes_set = 1; break;
		case OPT_WIDTH: width = (int)cli_parse_u64("--width", optarg, 1, 65536); sizes_set = 1; break;
		case OPT_HEADS: heads = (int)cli_parse_u64("--heads", optarg, 1, 1024); sizes_set = 1; break;
		case OPT_POSITIONS: positions = (int)cli_parse_u64("--positions", optarg, 2, 1 << 20); sizes_set = 1; break;
		case OPT_STEPS: steps = (long)cli_parse_u64("--steps", optarg, 0, 1L << 40); break;
		case OPT_BATCH: t.batch = (int)cli_parse_u64("--batch", optarg, 1, 1 << 20); break;
		case OPT_LR: t.adam.lr = (float)cli_parse_double("--lr", optarg, 0, 10); break;
		case OPT_ALPHA: t.alpha = cli_parse_double("--alpha", optarg, 0, 1e6); break;
		case OPT_DIMS: parse_ramp("--dims", optarg, &t.dims); break;
		case OPT_POINTS: parse_ramp("--points", optarg, &t.points); points_set = 1; break;
		case OPT_CKPT: ckpt_every = (long)cli_parse_u64("--checkpoint-every", optarg, 1, 1L << 40); break;
		case OPT_LOG: log_every = (long)cli_parse_u64("--log-every", optarg, 1, 1L << 40); break;
		case OPT_RESUME: resume = 1; break;
		case OPT_INIT: init_path = xstrdup(optarg); break;
		case OPT_DECAY:
			if (parse_decay(optarg, &t.decay) != 0)
				usage_error("--decay: '%s' is not start:end:min with "
				    "start < end and 0 <= min <= 10", optarg);
			break;
		case 's': seed_set = 1; /* FALLTHROUGH */
		default: cli_common_option(&o, c);
		}
	if (optind != argc)
		usage_error("train: unexpected argument '%s'", argv[optind]);
	if (o.output == NULL || strcmp(o.output, "-") == 0)
		usage_error("train: -o model file required");
	t.seed = o.seed;
	/* Checkpoints go beside the model, which is replaced only when the
	 * run ends: an interrupted retrain keeps the old model. */
	if (snprintf(ckpt_path, sizeof ckpt_path, "%s.ckpt", o.output) >= (int)sizeof ckpt_path)
		usage_error("train: -o: path too long");
	if (init_path != NULL && resume)
		usage_error("train: --init starts a run, --resume continues one");
	if (init_path != NULL && sizes_set)
		usage_error("train: --init takes the sizes of its module; no --config, "
		    "--layers, --width, --heads or --positions");
	if (init_path != NULL) {
		/* The sizes are the init module's; Adam starts afresh. */
		load_model(&m, init_path, 8);
		if (m.cfg.n_in != t.n_dims)
			die("%s: %d inputs, training draws %d dimensions", init_path,
			    m.cfg.n_in, t.n_dims);
		positions = m.cfg.max_len / 2;
	}
	if (t.dims.end > t.n_dims)
		usage_error("--dims: end %d is more than the %d input dimensions",
		    t.dims.end, t.n_dims);
	/* The default length curriculum stops at the longest sequence. */
	if (!points_set && t.points.end > positions) {
		t.points.end = positions;
		if (t.points.start > positions)
			t.points.start = positions;
	}
	if (t.points.end > positions)
		usage_error("--points: end %d is more than --positions %d",
		    t.points.end, positions);

	if (resume) {
		struct safetensors st, sa;
		char adam_path[4096];
		if (safetensors_open(&st, ckpt_path) != 0)
			die("%s", loam_error());
		check_format(&st);
		if (gpt_config_from_meta(&cfg, &st) != 0)
			die("%s", loam_error());
		if (gpt_init(&m, &cfg) != 0 || gpt_load(&m, &st, 0) != 0)
			die("%s", loam_error());
		step0 = (long)meta_u64(&st, "step");
		t.alpha = meta_double(&st, "alpha");
		t.adam.lr = (float)meta_double(&st, "lr");
		t.batch = (int)meta_u64(&st, "batch");
		if (!seed_set)
			t.seed = meta_u64(&st, "seed");
		if (safetensors_meta(&st, "init") != NULL)
			init_path = xstrdup(safetensors_meta(&st, "init"));
		t.decay = (struct tart_decay){ 0, 0, 0.0f };
		if (safetensors_meta(&st, "decay") != NULL &&
		    parse_decay(safetensors_meta(&st, "decay"), &t.decay) != 0)
			die("%s: bad __metadata__ decay '%s'", ckpt_path,
			    safetensors_meta(&st, "decay"));
		if (safetensors_meta(&st, "loss") != NULL)
			step_loss = strtod(safetensors_meta(&st, "loss"), NULL);
		if (ramp_from_meta(&st, "dims", &t.dims) != 0 ||
		    ramp_from_meta(&st, "points", &t.points) != 0)
			die("%s", loam_error());
		safetensors_close(&st);
		gpt_train_init(&m);
		snprintf(adam_path, sizeof adam_path, "%s.adam", ckpt_path);
		if (safetensors_open(&sa, adam_path) != 0)
			die("%s", loam_error());
		if (gpt_load_adam(&m, &sa, step0) != 0)
			die("%s", loam_error());
		safetensors_close(&sa);
	} else if (init_path != NULL) {
		cfg = m.cfg;
		gpt_train_init(&m);
	} else {
		cfg = (struct gpt_config){ t.n_dims, 0, 2 * positions,
		    layers ? layers : configs[config].layers, heads ? heads : configs[config].heads,
		    width ? width : configs[config].width, 1 };
		if (cfg.n_embd % cfg.n_head != 0)
			usage_error("train: width %d is not a multiple of %d heads "
			    "(give --width, --heads or --config)", cfg.n_embd, cfg.n_head);
		if (gpt_init(&m, &cfg) != 0)
			die("%s", loam_error());
		gpt_init_weights(&m, t.seed);
		gpt_train_init(&m);
	}

	struct progress pr;
	double t0 = cli_now();
	progress_init(&pr, "steps", (uint64_t)steps, o.quiet);
	if (!o.quiet)
		note("train: %d layers, width %d, %d heads, %zu parameters; steps %ld to %ld",
		    cfg.n_layer, cfg.n_embd, cfg.n_head, m.nparams, step0, steps);
	for (long s = step0; s < steps; s++) {
		double loss = tart_train_step(&m, &t, s);
		if (!isfinite(loss))
			die("train: loss is %g at step %ld (try a lower --lr)", loss, s);
		loss_sum += loss;
		loss_n++;
		step_loss = loss;
		if ((s + 1) % log_every == 0 || s + 1 == steps) {
			last_loss = loss_sum / (double)loss_n;
			if (!o.quiet && !pr.tty) {
				double el = cli_now() - t0, rate = (double)(s + 1 - step0) / el;
				note("step %ld/%ld  loss %.4f  d %d  points %d  lr %.3g  %.2f steps/s  eta %.0f s",
				    s + 1, steps, last_loss, tart_ramp_at(&t.dims, s),
				    tart_ramp_at(&t.points, s), (double)tart_lr_at(&t, s), rate, (double)(steps - s - 1) / rate);
			}
			loss_sum = 0.0;
			loss_n = 0;
		}
		progress_update(&pr, (uint64_t)(s + 1));
		if ((s + 1) % ckpt_every == 0 && s + 1 < steps)
			save_model(&m, ckpt_path, 1, &t, init_path, s + 1, step_loss);
	}
	progress_end(&pr);
	/* The last checkpoint too, so that a finished run can be continued
	 * to more steps; then the model, replaced only now. */
	save_model(&m, ckpt_path, 1, &t, init_path, steps > step0 ? steps : step0, step_loss);
	save_model(&m, o.output, 0, &t, init_path, steps > step0 ? steps : step0, step_loss);
	gpt_release(&m);
	free(init_path);
	return cli_exit();
}

/* ---- loading a model ---- */

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

static float
sigmoidf(float z)
{
	return 1.0f / (1.0f + expf(-z));
}

/* ---- predict ---- */

static const char predict_help[] =
    "Predict 0/1 labels of query embeddings from k labelled examples.\n"
    "  -m, --model FILE     the reasoning module (safetensors)\n"
    "  --train FILE         in-context examples: records with an embedding and a label\n"
    "  -k N                 examples to use, class-balanced, seeded (default: all)\n"
    "  --train-labels FILE  labels 0/1 (.npy) when --train is a .npy or .safetensors matrix\n"
    "  --embeddings FILE    rows for records that give \"row\" instead of an embedding\n"
    "                       (.npy, or .safetensors[:tensor])\n"
    "  --components N       PCA components (default: the module's 16; fewer are tiled)\n"
    "  --field NAME         embedding field (default embedding)\n"
    "  --label-field NAME   label field of the examples (default label)\n"
    "  --heads N            heads of a checkpoint without loam metadata (default 8)\n"
    "  --orders N           average the logit over N orders of the examples\n"
    "                       (default 1, the reference's single order)\n"
    "  --no-cache           recompute the whole context for every query (slow)\n"
    "  -s, --seed N         seed of the choice and order of the examples\n"
    "  -o, --output FILE    write to FILE atomically\n"
    "  -t, --threads N      threads\n"
    "  -q, --quiet          no summary\n"
    "Adds tart_p (probability of label 1) and tart_label to each query record;\n"
    "a query file that is a .npy or .safetensors matrix gives records {\"row\":i}.\n";

struct embedding_source {
	const char *field;
	float *rows;			/* --embeddings, or NULL */
	size_t nrows, dim;		/* dim 0 until the first vector */
	const char *rows_name;
};

/* The record's vector into buf (dim floats; the first record sets dim). */
static void
read_embedding(struct rec *r, struct embedding_source *es, float **buf)
{
	size_t n;
	int64_t row;
	int rc = rec_get_array_len(r, es->field, &n);

	if (rc == REC_ABSENT && es->rows != NULL) {
		rc = rec_get_int(r, "row", &row);
		if (rc != REC_OK)
			die("%s: neither '%s' nor an integer 'row'", rec_where(r), es->field);
		if (row < 0 || (uint64_t)row >= es->nrows)
			die("%s: row %lld is outside %s (%zu rows)", rec_where(r),
			    (long long)row, es->rows_name, es->nrows);
		if (*buf == NULL)
			*buf = xreallocarray(NULL, es->dim, sizeof **buf);
		memcpy(*buf, es->rows + (size_t)row * es->dim, es->dim * sizeof **buf);
		return;
	}
	if (rc != REC_OK)
		die("%s: field '%s': expected an array of numbers%s", rec_where(r),
		    es->field, es->rows ? " or a 'row'" : "");
	if (es->dim == 0) {
		if (n == 0)
			die("%s: field '%s' is empty", rec_where(r), es->field);
		es->dim = n;
		*buf = xreallocarray(*buf, n, sizeof **buf);
	} else if (n != es->dim)
		die("%s: field '%s' has %zu dimensions, earlier records %zu",
		    rec_where(r), es->field, n, es->dim);
	if (rec_get_floats(r, es->field, *buf, es->dim, &n) != REC_OK)
		die("%s: %s", rec_where(r), loam_error());
	for (size_t i = 0; i < n; i++)
		if (!isfinite((*buf)[i]))
			die("%s: field '%s': element %zu is not finite", rec_where(r),
			    es->field, i);
}

/* The r-th order of k examples for --orders: the identity for r = 0, then
 * each order a seeded reshuffle of the one before (call with r = 0, 1, ...). */
static void
next_order(size_t *ord, size_t k, size_t r, uint64_t seed, uint64_t stream,
    uint64_t index)
{
	struct rng rg;

	if (r == 0) {
		for (size_t i = 0; i < k; i++)
			ord[i] = i;
		return;
	}
	rng_init(&rg, seed, stream, index);
	rng_shuffle(&rg, ord, k, sizeof *ord);
}

/* PCA output (ncomp) tiled to the module's width, as the reference
 * duplicates 8 image/audio components to fill 16. */
static void
tile(const float *in, size_t ncomp, float *out, size_t width)
{
	for (size_t j = 0; j < width; j++)
		out[j] = in[j % ncomp];
}

/* Pending queries: their lines and their module inputs. */
struct batch {
	char **line;
	size_t *len;
	float *x;
	int *gold;
	size_t n, cap;
};

static void
flush_batch(struct batch *b, struct gpt *m, const struct gpt_cache *c,
    const float *prefix, size_t P, size_t norders, int no_cache, FILE *fp,
    const char *outname, size_t *correct, size_t *labelled)
{
	size_t W = (size_t)m->cfg.n_in;
	float *logits = xcalloc(b->n + 1, sizeof *logits);
	float *one = xmalloc((b->n + 1) * sizeof *one);

	for (size_t r = 0; r < norders; r++) {
		if (no_cache) {
			/* The reference's way: the whole sequence for every query. */
			float *seq = xmalloc((P + 1) * W * sizeof *seq);
			memcpy(seq, prefix + r * P * W, P * W * sizeof *seq);
			for (size_t i = 0; i < b->n; i++) {
				memcpy(seq + P * W, b->x + i * W, W * sizeof *seq);
				gpt_forward(m, seq, NULL, 1, P + 1);
				one[i] = m->a.logits[P];
			}
			free(seq);
		} else
			gpt_cache_query(m, &c[r], b->x, b->n, one);
		for (size_t i = 0; i < b->n; i++)
			logits[i] += one[i];
	}
	for (size_t i = 0; i < b->n; i++)
		logits[i] /= (float)norders;
	free(one);
	for (size_t i = 0; i < b->n; i++) {
		struct rec *r = rec_parse(b->line[i], b->len[i], "query", 0);
		float p = sigmoidf(logits[i]);
		int label = p >= 0.5f;
		if (r == NULL || rec_set_float(r, "tart_p", p) != 0 ||
		    rec_set_int(r, "tart_label", label) != 0)
			die("internal: cannot extend a query record");
		if (rec_write(r, fp) != 0)
			cli_write_failed(outname);
		rec_free(r);
		if (b->gold[i] >= 0) {
			(*labelled)++;
			*correct += b->gold[i] == label;
		}
		free(b->line[i]);
	}
	b->n = 0;
	free(logits);
}

#define BATCH 512

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

/* Queue one query: its module input and its record text. */
static void
add_query(struct batch *b, const float *vec, int gold, const char *text,
    size_t len, const struct tart_pca *pca, size_t ncomp, size_t W, float *proj)
{
	tart_pca_apply(pca, vec, 1, proj);
	tile(proj, ncomp, b->x + b->n * W, W);
	b->gold[b->n] = gold;
	b->line[b->n] = xmalloc(len + 1);
	memcpy(b->line[b->n], text, len);
	b->line[b->n][len] = '\0';
	b->len[b->n++] = len;
}

static int
cmd_predict(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "train", required_argument, NULL, OPT_TRAIN },
		{ "train-labels", required_argument, NULL, OPT_TRAIN_LABELS },
		{ "embeddings", required_argument, NULL, OPT_EMBEDDINGS },
		{ "components", required_argument, NULL, OPT_COMPONENTS },
		{ "field", required_argument, NULL, OPT_FIELD },
		{ "label-field", required_argument, NULL, OPT_LABEL_FIELD },
		{ "heads", required_argument, NULL, OPT_HEADS },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "orders", required_argument, NULL, OPT_ORDERS },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	struct cli_out out;
	/* Static, like every buffer below: die() can end the run at any
	 * record, and LeakSanitizer must still find them reachable. */
	static struct embedding_source es;
	const char *model_path = NULL, *train_path = NULL, *label_field = "label";
	const char *emb_path = NULL, *train_labels = NULL;
	size_t k = 0, ncomp = 0, ntrain = 0, cap = 0, correct = 0, labelled = 0;
	int c, no_cache = 0, heads = 8;
	size_t norders = 1;
	static float *train_x, *vec, *kx, *proj, *prefix;
	static int *train_y;
	static size_t *pick;
	static struct gpt m;
	static struct tart_pca pca;
	static struct gpt_cache *cache;
	static struct batch b;
	FILE *fp;

	es.field = "embedding";
	cli_init(&o, argc, argv, usage, predict_help, CLI_BLAS);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS("m:k:"), longopts, NULL)) != -1)
		switch (c) {
		case 'm': model_path = optarg; break;
		case 'k': k = cli_parse_u64("-k", optarg, 1, 1 << 20); break;
		case OPT_TRAIN: train_path = optarg; break;
		case OPT_TRAIN_LABELS: train_labels = optarg; break;
		case OPT_EMBEDDINGS: emb_path = optarg; break;
		case OPT_COMPONENTS: ncomp = cli_parse_u64("--components", optarg, 1, 4096); break;
		case OPT_FIELD: es.field = optarg; break;
		case OPT_LABEL_FIELD: label_field = optarg; break;
		case OPT_HEADS: heads = (int)cli_parse_u64("--heads", optarg, 1, 1024); break;
		case OPT_NO_CACHE: no_cache = 1; break;
		case OPT_ORDERS: norders = cli_parse_u64("--orders", optarg, 1, 1024); break;
		default: cli_common_option(&o, c);
		}
	if (model_path == NULL)
		usage_error("predict: -m model required");
	if (train_path == NULL)
		usage_error("predict: --train examples required");

	load_model(&m, model_path, heads);
	size_t W = (size_t)m.cfg.n_in;
	if (ncomp == 0)
		ncomp = W;
	if (ncomp > W || W % ncomp != 0)
		usage_error("--components: %zu does not divide the module's %zu inputs",
		    ncomp, W);
	if (emb_path != NULL) {
		if (dense_load_f32(emb_path, NULL, &es.rows, &es.nrows, &es.dim) != 0)
			die("%s", loam_error());
		es.rows_name = emb_path;
	}

	/* The examples: records, or a matrix and a label vector. */
	struct rec_reader rd;
	struct rec *r;
	int rc;
	if (dense_is_spec(train_path)) {
		size_t dim;
		if (train_labels == NULL)
			usage_error("predict: --train %s needs --train-labels", train_path);
		if (dense_load_f32(train_path, NULL, &train_x, &ntrain, &dim) != 0)
			die("%s", loam_error());
		if (es.dim != 0 && dim != es.dim)
			die("%s: %zu dimensions, %s has %zu", train_path, dim, emb_path, es.dim);
		es.dim = dim;
		train_y = read_labels(train_labels, ntrain);
		vec = xmalloc(dim * sizeof *vec);
	} else {
		if (train_labels != NULL)
			usage_error("predict: --train-labels goes with a .npy or .safetensors --train");
		if (rec_reader_open(&rd, train_path) != 0)
			die("%s", loam_error());
		while ((rc = rec_next(&rd, &r)) != 0) {
			int64_t y;
			if (rc < 0)
				die("%s", loam_error());
			read_embedding(r, &es, &vec);
			rc = rec_get_int(r, label_field, &y);
			if (rc != REC_OK || (y != 0 && y != 1))
				die("%s: field '%s': expected a label 0 or 1", rec_where(r),
				    label_field);
			if (ntrain == cap) {
				cap = cap ? 2 * cap : 256;
				train_x = xreallocarray(train_x, cap * es.dim, sizeof *train_x);
				train_y = xreallocarray(train_y, cap, sizeof *train_y);
			}
			memcpy(train_x + ntrain * es.dim, vec, es.dim * sizeof *vec);
			train_y[ntrain++] = (int)y;
		}
		rec_reader_close(&rd);
	}
	if (k == 0)
		k = ntrain;

	/* k examples, half of each class (the odd one a 1), in seeded order. */
	size_t npick = 0;
	pick = xmalloc((ntrain + 1) * sizeof *pick);
	{
		static size_t *cls[2];
		size_t ncls[2] = { 0, 0 }, want[2] = { k / 2, k - k / 2 };
		struct rng rg;
		cls[0] = xmalloc((ntrain + 1) * sizeof *cls[0]);
		cls[1] = xmalloc((ntrain + 1) * sizeof *cls[1]);
		for (size_t i = 0; i < ntrain; i++)
			cls[train_y[i]][ncls[train_y[i]]++] = i;
		if (k > ntrain)
			die("%s: -k %zu but only %zu examples", train_path, k, ntrain);
		if (k < ntrain) {
			for (int y = 0; y < 2; y++)
				if (ncls[y] < want[y])
					die("%s: %zu examples of label %d, -k %zu needs %zu",
					    train_path, ncls[y], y, k, want[y]);
			rng_init(&rg, o.seed, 1, 0);
			for (int y = 0; y < 2; y++) {
				rng_shuffle(&rg, cls[y], ncls[y], sizeof *cls[y]);
				for (size_t i = 0; i < want[y]; i++)
					pick[npick++] = cls[y][i];
			}
		} else
			for (size_t i = 0; i < ntrain; i++)
				pick[npick++] = i;
		rng_init(&rg, o.seed, 2, 0);
		rng_shuffle(&rg, pick, npick, sizeof *pick);
		free(cls[0]);
		free(cls[1]);
	}
	if (2 * k + 1 > (size_t)m.cfg.max_len)
		die("%s: k = %zu needs %zu positions, the module has %d (k <= %d)",
		    model_path, k, 2 * k + 1, m.cfg.max_len, (m.cfg.max_len - 1) / 2);

	/* PCA and whitening fitted on the k examples only. */
	kx = xmalloc(k * es.dim * sizeof *kx);
	proj = xmalloc(ncomp * sizeof *proj);
	for (size_t i = 0; i < k; i++)
		memcpy(kx + i * es.dim, train_x + pick[i] * es.dim, es.dim * sizeof *kx);
	if (tart_pca_fit(&pca, kx, k, es.dim, ncomp) != 0)
		die("%s: %s", train_path, loam_error());
	/* One prefix per order: the seeded order first, then reshuffles. */
	size_t P = 2 * k;
	prefix = xcalloc(norders * P * W + 1, sizeof *prefix);
	cache = xcalloc(norders, sizeof *cache);
	{
		size_t *ord = xmalloc(k * sizeof *ord);
		for (size_t oi = 0; oi < norders; oi++) {
			float *pre = prefix + oi * P * W;
			next_order(ord, k, oi, o.seed, 3, oi);
			for (size_t i = 0; i < k; i++) {
				tart_pca_apply(&pca, kx + ord[i] * es.dim, 1, proj);
				tile(proj, ncomp, pre + 2 * i * W, W);
				pre[(2 * i + 1) * W] = (float)train_y[pick[ord[i]]];
			}
			if (!no_cache)
				gpt_cache_prefix(&m, &cache[oi], pre, P);
		}
		free(ord);
	}

	/* The queries. */
	b.cap = BATCH;
	b.line = xcalloc(BATCH, sizeof *b.line);
	b.len = xcalloc(BATCH, sizeof *b.len);
	b.x = xmalloc(BATCH * W * sizeof *b.x);
	b.gold = xmalloc(BATCH * sizeof *b.gold);
	fp = cli_out_open(&out, o.output);
	const char *outname = o.output ? o.output : "stdout";
	int nfiles = argc - optind;
	for (int f = 0; f < (nfiles > 0 ? nfiles : 1); f++) {
		const char *path = nfiles > 0 ? argv[optind + f] : "-";
		if (dense_is_spec(path)) {
			float *qx;
			size_t qn, qd;
			if (dense_load_f32(path, NULL, &qx, &qn, &qd) != 0)
				die("%s", loam_error());
			if (qd != es.dim)
				die("%s: %zu dimensions, the examples have %zu", path, qd, es.dim);
			for (size_t i = 0; i < qn; i++) {
				char text[48];
				int len = snprintf(text, sizeof text, "{\"row\":%zu}", i);
				for (size_t j = 0; j < qd; j++)
					if (!isfinite(qx[i * qd + j]))
						die("%s: row %zu: element %zu is not finite", path, i, j);
				add_query(&b, qx + i * qd, -1, text, (size_t)len, &pca, ncomp, W,
				    proj);
				if (b.n == BATCH)
					flush_batch(&b, &m, cache, prefix, P, norders, no_cache, fp,
					    outname, &correct, &labelled);
			}
			free(qx);
			continue;
		}
		if (strcmp(path, "-") == 0)
			rec_reader_init(&rd, stdin, "stdin");
		else if (rec_reader_open(&rd, path) != 0)
			die("%s", loam_error());
		while ((rc = rec_next(&rd, &r)) != 0) {
			const char *text;
			size_t len;
			int64_t y;
			if (rc < 0)
				die("%s", loam_error());
			read_embedding(r, &es, &vec);
			text = rec_to_string(r, &len);
			if (text == NULL)
				die("%s: %s", rec_where(r), loam_error());
			add_query(&b, vec, rec_get_int(r, label_field, &y) == REC_OK &&
			    (y == 0 || y == 1) ? (int)y : -1, text, len, &pca, ncomp, W, proj);
			if (b.n == BATCH)
				flush_batch(&b, &m, cache, prefix, P, norders, no_cache, fp, outname,
				    &correct, &labelled);
		}
		rec_reader_close(&rd);
	}
	flush_batch(&b, &m, cache, prefix, P, norders, no_cache, fp, outname, &correct,
	    &labelled);
	cli_out_commit(&out);
	if (!o.quiet && labelled > 0)
		note("predict: k = %zu, accuracy %.4f on %zu labelled queries", k,
		    (double)correct / (double)labelled, labelled);

	free(b.line); free(b.len); free(b.x); free(b.gold);
	free(prefix); free(kx); free(proj); free(pick); free(vec);
	free(train_x); free(train_y); free(es.rows);
	tart_pca_release(&pca);
	for (size_t oi = 0; oi < norders; oi++)
		gpt_cache_release(&cache[oi]);
	free(cache);
	gpt_release(&m);
	return cli_exit();
}

/* ---- eval ---- */

static const char eval_help[] =
    "Accuracy on fresh synthetic tasks: the module beside logistic regression\n"
    "fitted on the same k examples, and the Bayes rule with the true weights.\n"
    "  -m, --model FILE     the reasoning module\n"
    "  --ks N,...           context sizes (default 18,32,64,128,256; those beyond\n"
    "                       the module's positions are skipped)\n"
    "  --tasks N            tasks per k (default 200)\n"
    "  --queries N          test points per task (default 500)\n"
    "  --alpha X            weight scale of the tasks (default: the module's training alpha)\n"
    "  --C X                inverse L2 strength of logistic regression (default 1)\n"
    "  --orders N           average the module's logit over N orders of the\n"
    "                       examples (default 1)\n"
    "  --heads N            heads of a checkpoint without loam metadata (default 8)\n"
    "  -s, --seed N         seed of the tasks\n"
    "  -o, --output FILE    records to FILE atomically\n"
    "  -t, --threads N      threads\n"
    "  -q, --quiet          no table on stderr\n";

static int
cmd_eval(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "ks", required_argument, NULL, OPT_KS },
		{ "tasks", required_argument, NULL, OPT_TASKS },
		{ "queries", required_argument, NULL, OPT_QUERIES },
		{ "alpha", required_argument, NULL, OPT_ALPHA },
		{ "C", required_argument, NULL, OPT_C },
		{ "heads", required_argument, NULL, OPT_HEADS },
		{ "orders", required_argument, NULL, OPT_ORDERS },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	struct cli_out out;
	const char *model_path = NULL, *ks_arg = "18,32,64,128,256";
	size_t tasks = 200, queries = 500, norders = 1;
	double alpha = NAN, Creg = 1.0;
	int c, heads = 8;
	static struct gpt m;	/* static: reachable when die() ends the run */
	FILE *fp;

	cli_init(&o, argc, argv, usage, eval_help, CLI_BLAS);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS("m:"), longopts, NULL)) != -1)
		switch (c) {
		case 'm': model_path = optarg; break;
		case OPT_KS: ks_arg = optarg; break;
		case OPT_TASKS: tasks = cli_parse_u64("--tasks", optarg, 1, 1 << 24); break;
		case OPT_QUERIES: queries = cli_parse_u64("--queries", optarg, 1, 1 << 24); break;
		case OPT_ALPHA: alpha = cli_parse_double("--alpha", optarg, 0, 1e6); break;
		case OPT_C: Creg = cli_parse_double("--C", optarg, 1e-9, 1e9); break;
		case OPT_HEADS: heads = (int)cli_parse_u64("--heads", optarg, 1, 1024); break;
		case OPT_ORDERS: norders = cli_parse_u64("--orders", optarg, 1, 1024); break;
		default: cli_common_option(&o, c);
		}
	if (optind != argc)
		usage_error("eval: unexpected argument '%s'", argv[optind]);
	if (model_path == NULL)
		usage_error("eval: -m model required");

	size_t ks[64], nks = 0;
	{
		char *copy = xstrdup(ks_arg), *cur = copy, *t;

		while ((t = cli_list_next(&cur, ',', "--ks", ks_arg)) != NULL) {
			if (nks == 64)
				usage_error("--ks: more than 64 values");
			ks[nks++] = cli_parse_u64("--ks", t, 1, 1 << 20);
		}
		free(copy);
	}
	load_model(&m, model_path, heads);
	if (isnan(alpha)) {
		struct safetensors st;
		alpha = 10.0;
		if (safetensors_open(&st, model_path) == 0) {
			if (safetensors_meta(&st, "alpha") != NULL)
				alpha = meta_double(&st, "alpha");
			safetensors_close(&st);
		}
	}
	int W = m.cfg.n_in;
	fp = cli_out_open(&out, o.output);
	if (!o.quiet)
		fprintf(stderr, "%6s %8s %8s %8s %8s\n", "k", "tart", "logreg", "bayes",
		    "tasks");
	size_t nrun = 0;
	for (size_t ki = 0; ki < nks; ki++) {
		size_t k = ks[ki], N = k + queries;
		if (2 * k + 1 > (size_t)m.cfg.max_len) {
			if (!o.quiet)
				note("eval: k = %zu skipped: the module has %d positions "
				    "(k <= %d)", k, m.cfg.max_len, (m.cfg.max_len - 1) / 2);
			continue;
		}
		nrun++;
		/* static: reachable when die() ends the run mid-way */
		static float *x, *y, *w, *z, *logits, *one, *xo, *yo;
		static size_t *ord;
		static double *lr;
		x = xmalloc(N * W * sizeof *x);
		y = xmalloc(N * sizeof *y);
		w = xmalloc(W * sizeof *w);
		z = xmalloc(2 * k * W * sizeof *z + 1);
		logits = xmalloc(queries * sizeof *logits);
		one = xmalloc(queries * sizeof *one);
		xo = xmalloc(k * W * sizeof *xo);
		yo = xmalloc(k * sizeof *yo);
		ord = xmalloc(k * sizeof *ord);
		lr = xmalloc((W + 1) * sizeof *lr);
		double acc_t = 0, acc_l = 0, acc_b = 0;
		for (size_t t = 0; t < tasks; t++) {
			struct rng rg;
			struct gpt_cache cache;
			size_t ct = 0, cl = 0, cb = 0;
			rng_init(&rg, o.seed, 1000 + k, t);
			tart_sample_task(&rg, W, W, alpha, N, x, y, w);
			/* The drawn order first, then seeded reshuffles. */
			memset(logits, 0, queries * sizeof *logits);
			for (size_t r = 0; r < norders; r++) {
				/* --orders is at most 1024: one index per (task, order) */
				next_order(ord, k, r, o.seed, 3000 + k, t * 1024 + r);
				for (size_t i = 0; i < k; i++) {
					memcpy(xo + i * W, x + ord[i] * W, W * sizeof *xo);
					yo[i] = y[ord[i]];
				}
				tart_interleave(xo, yo, k, W, z);
				gpt_cache_prefix(&m, &cache, z, 2 * k);
				gpt_cache_query(&m, &cache, x + k * W, queries, one);
				gpt_cache_release(&cache);
				for (size_t q = 0; q < queries; q++)
					logits[q] += one[q];
			}
			for (size_t q = 0; q < queries; q++)
				logits[q] /= (float)norders;
			if (tart_logreg_fit(x, y, k, (size_t)W, Creg, lr) < 0)
				note("eval: k = %zu task %zu: logistic regression did not "
				    "converge in 100 Newton steps", k, t);
			for (size_t q = 0; q < queries; q++) {
				const float *xq = x + (k + q) * W;
				double sl = lr[W], sb = 0;
				for (int j = 0; j < W; j++) {
					sl += lr[j] * xq[j];
					sb += (double)w[j] * xq[j];
				}
				int yq = y[k + q] > 0.5f;
				ct += (logits[q] >= 0) == yq;
				cl += (sl >= 0) == yq;
				cb += (sb >= 0) == yq;
			}
			acc_t += (double)ct / queries;
			acc_l += (double)cl / queries;
			acc_b += (double)cb / queries;
		}
		acc_t /= tasks; acc_l /= tasks; acc_b /= tasks;
		if (!o.quiet)
			fprintf(stderr, "%6zu %8.4f %8.4f %8.4f %8zu\n", k, acc_t, acc_l,
			    acc_b, tasks);
		if (fprintf(fp, "{\"k\":%zu,\"tart\":%.6f,\"logreg\":%.6f,\"bayes\":%.6f,"
		    "\"tasks\":%zu,\"queries\":%zu,\"alpha\":%.17g,\"C\":%.17g}\n", k,
		    acc_t, acc_l, acc_b, tasks, queries, alpha, Creg) < 0)
			cli_write_failed(o.output ? o.output : "stdout");
		free(x); free(y); free(w); free(z); free(logits); free(lr);
		free(one); free(xo); free(yo); free(ord);
	}
	/* An empty output with status 0 would read as "nothing to report". */
	if (nrun == 0)
		die("eval: every k was skipped: the module has %d positions (k <= %d)",
		    m.cfg.max_len, (m.cfg.max_len - 1) / 2);
	cli_out_commit(&out);
	gpt_release(&m);
	return cli_exit();
}

int
main(int argc, char *argv[])
{
	static const struct cli_command commands[] = {
		{ "train", cmd_train, NULL },
		{ "predict", cmd_predict, NULL },
		{ "eval", cmd_eval, NULL },
	};

	return cli_subcommand(argc, argv, commands, sizeof commands / sizeof *commands,
	    NULL, usage, help);
}
