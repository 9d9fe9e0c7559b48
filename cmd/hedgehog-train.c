/*
 * hedgehog-train - train linear-attention feature maps that mimic softmax
 * attention (Hedgehog; Zhang, Bhatia, Kumbong and Re, ICLR 2024) from a
 * model's query/key activations, and evaluate them against the baseline
 * maps; see hedgehog-train(1).
 *
 * The maps, the loss, the trainer and the metrics are lib/hedgehog.c; the
 * inputs lib/hedgehog_io.c; linear attention lib/linattn.c.  This file
 * reads the layers, splits the sequences, writes the weights and the
 * records.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "hedgehog.h"
#include "hedgehog_io.h"
#include "linattn.h"
#include "rng.h"
#include "safetensors.h"

static const char usage[] =
    "usage: hedgehog-train fit [-q] [--fmap hedgehog|hedgehog-exp|hedgehog-fla]\n"
    "                      [--feature-dim n] [--bias|--no-bias] [--layers list]\n"
    "                      [--map q=name,k=name[,v=name]] [--causal|--bidirectional]\n"
    "                      [--lr x] [--weight-decay x] [--epochs n] [--steps n]\n"
    "                      [--batch n] [--val n] [--eval-every n] [--patience n]\n"
    "                      [--block n] [--xent-factor x] [--mse-factor x]\n"
    "                      [--prefix p] [--applied-after what] [-s seed] [-t n]\n"
    "                      -o weights.safetensors file ...\n"
    "       hedgehog-train eval [-q] [--weights file] [--fmap list] [--feature-dim n]\n"
    "                      [--layers list] [--map q=name,k=name[,v=name]]\n"
    "                      [--causal|--bidirectional] [--val n|--all] [--block n]\n"
    "                      [-s seed] [-t n] [-o file] file ...\n";
static const char help[] =
    "Hedgehog feature maps for linear attention, trained by attention distillation.\n"
    "Inputs: safetensors or .npy files holding layers.{L}.q, layers.{L}.k (and .v),\n"
    "each [sequences, heads, length, head_dim].\n"
    "  --fmap M            fit: hedgehog (default), hedgehog-exp or hedgehog-fla;\n"
    "                      eval: a comma list of those and elu1, relu, performer,\n"
    "                      cosformer, taylor (default: the trained map and all baselines)\n"
    "  --feature-dim N     hidden width df of the map, 2 df features (default head_dim)\n"
    "  --bias, --no-bias   a learned bias (default: on for hedgehog-exp, hedgehog-fla)\n"
    "  --layers L,...      the layers (default: every layer found)\n"
    "  --map q=P,k=P,v=P   tensor names, {L} standing for the layer (layers.{L}.q, ...)\n"
    "  --causal, --bidirectional  attention mask (default causal)\n"
    "  --lr X              AdamW learning rate (default 0.01)\n"
    "  --weight-decay X    decoupled weight decay (default 0)\n"
    "  --epochs N          passes over the training sequences (default 2)\n"
    "  --steps N           optimizer steps instead of epochs\n"
    "  --batch N           sequences per step (default 1)\n"
    "  --val N             held-out sequences (default a fifth, at least 1 of 2+)\n"
    "  --all               eval: every sequence, not only the held-out ones\n"
    "  --eval-every N      steps between validations (default 50)\n"
    "  --patience N        validations without progress before lr /= 10 (default 10)\n"
    "  --block N           query rows per block (default 64): memory block x length\n"
    "  --xent-factor X     weight of the attention cross-entropy (default 1)\n"
    "  --mse-factor X      weight of the output MSE against softmax attention (needs v)\n"
    "  --prefix P          weight names P + feature_map_q.mlp.layer\n"
    "                      (default model.layers.{L}.self_attn.)\n"
    "  --applied-after W   recorded in the metadata: what q/k are taken after (proj)\n"
    "  --weights FILE      eval: maps written by fit\n"
    "  -s, --seed N        split, order of the sequences, Performer features\n"
    "  -t, --threads N     threads (heads run in parallel)\n"
    "  -o, --output FILE   fit: the weights (required); eval: the records\n"
    "  -q, --quiet         no progress, no summary, no table\n"
    "  -h, --help          this help\n"
    "  -V, --version       print the version\n";

enum {
	OPT_FMAP = 256, OPT_FEATURE_DIM, OPT_BIAS, OPT_NO_BIAS, OPT_LAYERS, OPT_MAP,
	OPT_CAUSAL, OPT_BIDIRECTIONAL, OPT_LR, OPT_WEIGHT_DECAY, OPT_EPOCHS, OPT_STEPS,
	OPT_BATCH, OPT_VAL, OPT_ALL, OPT_EVAL_EVERY, OPT_PATIENCE, OPT_BLOCK,
	OPT_XENT_FACTOR, OPT_MSE_FACTOR, OPT_PREFIX, OPT_APPLIED_AFTER, OPT_WEIGHTS,
};

#define DEFAULT_PREFIX	"model.layers.{L}.self_attn."
#define MAX_LAYERS	4096

/* What fit and eval share: inputs, names, layers, split. */
struct job {
	struct hedgehog_inputs in;
	const char *pat[3];	/* q, k, v name patterns */
	int *layers, nlayers;
	int causal, block;
	int S, H, n, d, dv;	/* from the first layer; all must agree */
};

static void
parse_map(struct job *j, const char *arg)
{
	char *copy = xstrdup(arg), *cur = copy, *p;

	while ((p = cli_list_next(&cur, ',', "--map", arg)) != NULL) {
		int w = p[0] == 'q' ? 0 : p[0] == 'k' ? 1 : p[0] == 'v' ? 2 : -1;

		if (w >= 0 && p[1] == '=' && p[2]) {
			free((char *)j->pat[w]);
			j->pat[w] = xstrdup(p + 2);
		} else
			usage_error("--map: '%s' is not q=name, k=name or v=name", p);
	}
	free(copy);
}

static int *
parse_layers(const char *arg, int *n)
{
	char *copy = xstrdup(arg), *cur = copy, *p;
	int *l = NULL;

	*n = 0;
	while ((p = cli_list_next(&cur, ',', "--layers", arg)) != NULL) {
		l = xreallocarray(l, (size_t)*n + 1, sizeof *l);
		l[(*n)++] = (int)cli_parse_u64("--layers", p, 0, MAX_LAYERS - 1);
	}
	free(copy);
	if (!*n)
		usage_error("--layers: empty list");
	return l;
}

/* Find tensor w (q, k, v) of a layer; 0 when absent; dies on a bad one. */
static int
find(const struct job *j, int w, int layer, struct hedgehog_tensor *t, char **name)
{
	int rc;

	*name = hedgehog_layer_name(j->pat[w], layer);
	rc = hedgehog_inputs_find(&j->in, *name, t);
	if (rc < 0)
		die("%s", loam_error());
	return rc;
}

/* Open inputs, find the layers, check shapes. */
static void
job_open(struct job *j, char **files, int nfiles, int have_layers)
{
	struct hedgehog_tensor tq, tk, tv;

	if (nfiles < 1)
		usage_error("no input files");
	if (hedgehog_inputs_open(&j->in, files, nfiles) != 0)
		die("%s", loam_error());
	if (!have_layers) {
		j->layers = xmalloc(sizeof *j->layers * MAX_LAYERS);
		for (int l = 0; l < MAX_LAYERS; l++) {
			char *name;
			int rc = find(j, 0, l, &tq, &name);

			free(name);
			if (!rc)
				break;
			j->layers[j->nlayers++] = l;
			if (!strstr(j->pat[0], "{L}"))
				break;	/* names without a layer: one layer */
		}
		if (!j->nlayers) {
			char *name = hedgehog_layer_name(j->pat[0], 0);

			die("no tensor '%s' in the input (name them with --map)", name);
		}
	}
	for (int i = 0; i < j->nlayers; i++) {
		char *nq, *nk, *nv = NULL;
		int l = j->layers[i], hv = 0;

		if (!find(j, 0, l, &tq, &nq))
			die("no tensor '%s' in the input", nq);
		if (!find(j, 1, l, &tk, &nk))
			die("no tensor '%s' in the input", nk);
		if (tq.S != tk.S || tq.H != tk.H || tq.n != tk.n || tq.d != tk.d)
			die("%s: tensor '%s' is [%zu, %zu, %zu, %zu] but '%s' is [%zu, %zu, %zu, %zu]",
			    tk.file, nk, tk.S, tk.H, tk.n, tk.d, nq, tq.S, tq.H, tq.n, tq.d);
		if (j->pat[2] && (hv = find(j, 2, l, &tv, &nv)) &&
		    (tv.S != tq.S || tv.H != tq.H || tv.n != tq.n))
			die("%s: tensor '%s' is [%zu, %zu, %zu, %zu] but '%s' is [%zu, %zu, %zu, %zu]",
			    tv.file, nv, tv.S, tv.H, tv.n, tv.d, nq, tq.S, tq.H, tq.n, tq.d);
		if (tq.S > 1000000 || tq.H > 4096 || tq.n > 1 << 24 || tq.d > 4096)
			die("%s: tensor '%s': shape too large", tq.file, nq);
		if (i == 0) {
			j->S = (int)tq.S;
			j->H = (int)tq.H;
			j->n = (int)tq.n;
			j->d = (int)tq.d;
			j->dv = hv ? (int)tv.d : 0;
		} else if ((int)tq.S != j->S || (int)tq.H != j->H || (int)tq.n != j->n ||
		    (int)tq.d != j->d)
			die("%s: tensor '%s' is [%zu, %zu, %zu, %zu], unlike layer %d's [%d, %d, %d, %d]",
			    tq.file, nq, tq.S, tq.H, tq.n, tq.d, j->layers[0], j->S, j->H, j->n, j->d);
		else if (j->dv && (!hv || (int)tv.d != j->dv))
			j->dv = 0;	/* values only when every layer has them alike */
		free(nq);
		free(nk);
		free(nv);
	}
}

static void
job_close(struct job *j)
{
	hedgehog_inputs_close(&j->in);
	free(j->layers);
	for (int w = 0; w < 3; w++)
		free((char *)j->pat[w]);
}

/* Layer l's tensor w as floats (NULL for an absent v). */
static float *
load(const struct job *j, int w, int l)
{
	struct hedgehog_tensor t;
	char *name;
	float *x;

	if (!j->pat[w])
		return NULL;
	if (!find(j, w, l, &t, &name)) {
		free(name);
		if (w < 2)
			die("no tensor for layer %d", l);
		return NULL;
	}
	x = xmalloc(sizeof *x * t.S * t.H * t.n * t.d);
	if (hedgehog_tensor_read(&t, x) != 0)
		die("%s", loam_error());
	free(name);
	return x;
}

/* The held-out sequences: the first nval of a seeded shuffle, sorted. */
static void
split(int S, int nval, uint64_t seed, int *train, int *ntrain, int *val)
{
	int *perm = xmalloc(sizeof *perm * (size_t)S);
	char *is_val = xcalloc((size_t)S, 1);
	struct rng r;
	int nv = 0;

	for (int i = 0; i < S; i++)
		perm[i] = i;
	rng_init(&r, seed, RNG_HEDGEHOG_SPLIT, 0);
	rng_shuffle(&r, perm, (size_t)S, sizeof *perm);
	for (int i = 0; i < nval; i++)
		is_val[perm[i]] = 1;
	*ntrain = 0;
	for (int i = 0; i < S; i++) {
		if (is_val[i])
			val[nv++] = i;
		else
			train[(*ntrain)++] = i;
	}
	free(perm);
	free(is_val);
}

static int
default_val(int S)
{
	return S < 2 ? 0 : S / 5 > 1 ? S / 5 : 1;
}

static char *
int_list(const int *v, int n)
{
	size_t cap = (size_t)n * 12 + 1, o = 0;
	char *s = xmalloc(cap);

	s[0] = '\0';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, cap - o, "%s%d", i ? "," : "", v[i]);
	return s;
}

struct progress_ctx {
	struct progress p;
	long base;
};

static void
on_progress(void *arg, long done, long total)
{
	struct progress_ctx *c = arg;

	(void)total;
	progress_update(&c->p, (uint64_t)(c->base + done));
}

static const char *out_name = "stdout";

/* NaN and infinity are not JSON numbers: a metric or a loss that is not
 * finite ends the program before it is printed.  The inputs are bounded
 * (HEDGEHOG_INPUT_MAX), so this is a guard, not a path real data takes. */
static void
check_finite(const char *what, const char *key, double v)
{
	if (!isfinite(v))
		die("%s: %s is %s, not a number to write (inputs too large for the map?)",
		    what, key, isnan(v) ? "NaN" : "infinite");
}

static void
check_metrics(const char *what, const struct hedgehog_metrics *m, double mse)
{
	check_finite(what, "ce", m->ce);
	check_finite(what, "kl", m->kl);
	check_finite(what, "entropy", m->entropy);
	check_finite(what, "teacher_entropy", m->teacher_entropy);
	check_finite(what, "max_weight", m->max_weight);
	check_finite(what, "teacher_max_weight", m->teacher_max_weight);
	check_finite(what, "monotonicity", m->monotonicity);
	if (!isnan(mse))
		check_finite(what, "mse", mse);
}

static const char *const learned_names[] = { "hedgehog", "hedgehog-exp", "hedgehog-fla" };

static const char *const fmap_doc[] = {
	"[softmax(x W), softmax(-x W)], each half a softmax over the feature dimension (LoLCATs)",
	"[exp(x W + b), exp(-x W - b)] (the paper), z clamped to [-40, 40]",
	"softmax([2 z, -2 z]) over all 2 feature_dim, z = x W + b, one map shared by the heads (fla)",
};

static int
cmd_fit(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "fmap", required_argument, NULL, OPT_FMAP },
		{ "feature-dim", required_argument, NULL, OPT_FEATURE_DIM },
		{ "bias", no_argument, NULL, OPT_BIAS },
		{ "no-bias", no_argument, NULL, OPT_NO_BIAS },
		{ "layers", required_argument, NULL, OPT_LAYERS },
		{ "map", required_argument, NULL, OPT_MAP },
		{ "causal", no_argument, NULL, OPT_CAUSAL },
		{ "bidirectional", no_argument, NULL, OPT_BIDIRECTIONAL },
		{ "lr", required_argument, NULL, OPT_LR },
		{ "weight-decay", required_argument, NULL, OPT_WEIGHT_DECAY },
		{ "epochs", required_argument, NULL, OPT_EPOCHS },
		{ "steps", required_argument, NULL, OPT_STEPS },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "val", required_argument, NULL, OPT_VAL },
		{ "eval-every", required_argument, NULL, OPT_EVAL_EVERY },
		{ "patience", required_argument, NULL, OPT_PATIENCE },
		{ "block", required_argument, NULL, OPT_BLOCK },
		{ "xent-factor", required_argument, NULL, OPT_XENT_FACTOR },
		{ "mse-factor", required_argument, NULL, OPT_MSE_FACTOR },
		{ "prefix", required_argument, NULL, OPT_PREFIX },
		{ "applied-after", required_argument, NULL, OPT_APPLIED_AFTER },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	struct hedgehog_fit_opts fo;
	struct job j = { 0 };
	int c, kind = HEDGEHOG_FMAP_HEDGEHOG, df = 0, bias = -1, nval = -1, ntrain;
	const char *prefix = DEFAULT_PREFIX, *applied = "proj";
	struct safetensors_tensor *tens;
	struct safetensors_kv meta[40];
	size_t nmeta = 0, (*shapes)[3];
	float **bufs;
	char **tnames, num[24][32], *val_list, *layer_list, files[4096] = "";
	int *train, *val;
	struct progress_ctx pc;
	struct cli_out out;
	FILE *fp;

	hedgehog_fit_opts_default(&fo);
	cli_init(&o, argc, argv, usage, help, CLI_BLAS);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1)
		switch (c) {
		case OPT_FMAP: kind = cli_parse_choice("--fmap", optarg, learned_names, 3); break;
		case OPT_FEATURE_DIM:
			df = (int)cli_parse_u64("--feature-dim", optarg, 1, 65536);
			break;
		case OPT_BIAS: bias = 1; break;
		case OPT_NO_BIAS: bias = 0; break;
		case OPT_LAYERS: j.layers = parse_layers(optarg, &j.nlayers); break;
		case OPT_MAP: parse_map(&j, optarg); break;
		case OPT_CAUSAL: fo.causal = 1; break;
		case OPT_BIDIRECTIONAL: fo.causal = 0; break;
		case OPT_LR: fo.lr = cli_parse_double("--lr", optarg, 0, 1e6); break;
		case OPT_WEIGHT_DECAY:
			fo.weight_decay = cli_parse_double("--weight-decay", optarg, 0, 1e6);
			break;
		case OPT_EPOCHS: fo.epochs = (int)cli_parse_u64("--epochs", optarg, 1, 1000000); break;
		case OPT_STEPS: fo.steps = (int)cli_parse_u64("--steps", optarg, 1, 100000000); break;
		case OPT_BATCH: fo.batch = (int)cli_parse_u64("--batch", optarg, 1, 1000000); break;
		case OPT_VAL: nval = (int)cli_parse_u64("--val", optarg, 0, 1000000); break;
		case OPT_EVAL_EVERY:
			fo.eval_every = (int)cli_parse_u64("--eval-every", optarg, 1, 100000000);
			break;
		case OPT_PATIENCE:
			fo.patience = (int)cli_parse_u64("--patience", optarg, 1, 100000000);
			break;
		case OPT_BLOCK: fo.block = (int)cli_parse_u64("--block", optarg, 1, 1 << 20); break;
		case OPT_XENT_FACTOR:
			fo.xent_factor = cli_parse_double("--xent-factor", optarg, 0, 1e9);
			break;
		case OPT_MSE_FACTOR:
			fo.mse_factor = cli_parse_double("--mse-factor", optarg, 0, 1e9);
			break;
		case OPT_PREFIX: prefix = optarg; break;
		case OPT_APPLIED_AFTER: applied = optarg; break;
		default: cli_common_option(&o, c);
		}
	argc -= optind;
	argv += optind;
	if (!o.output)
		usage_error("fit needs -o weights.safetensors");
	if (fo.xent_factor == 0 && fo.mse_factor == 0)
		usage_error("--xent-factor and --mse-factor are both 0");
	if (fo.mse_factor > 0 && !fo.causal)
		usage_error("--mse-factor needs causal attention");
	if (bias < 0)
		bias = kind != HEDGEHOG_FMAP_HEDGEHOG;
	if (!j.pat[0])
		j.pat[0] = xstrdup("layers.{L}.q");
	if (!j.pat[1])
		j.pat[1] = xstrdup("layers.{L}.k");
	if (!j.pat[2] && fo.mse_factor > 0)
		j.pat[2] = xstrdup("layers.{L}.v");
	j.causal = fo.causal;
	job_open(&j, argv, argc, j.layers != NULL);
	if (fo.mse_factor > 0 && !j.dv)
		die("--mse-factor needs values: no tensor '%s' for every layer", j.pat[2]);
	if (!df)
		df = j.d;
	if (nval < 0)
		nval = default_val(j.S);
	if (nval >= j.S)
		usage_error("--val %d leaves no training sequence of %d", nval, j.S);
	fo.seed = o.seed;
	train = xmalloc(sizeof *train * (size_t)j.S);
	val = xmalloc(sizeof *val * (size_t)j.S);
	split(j.S, nval, o.seed, train, &ntrain, val);

	tens = xcalloc((size_t)j.nlayers * 4, sizeof *tens);
	shapes = xcalloc((size_t)j.nlayers * 4, sizeof *shapes);
	bufs = xcalloc((size_t)j.nlayers * 4, sizeof *bufs);
	tnames = xcalloc((size_t)j.nlayers * 4, sizeof *tnames);
	fp = cli_out_open(&out, "-");
	{
		int spe = (ntrain + fo.batch - 1) / fo.batch;
		long per = (long)(fo.steps > 0 ? fo.steps : fo.epochs * spe) * j.H;

		progress_init(&pc.p, "steps", (uint64_t)(per * j.nlayers), o.quiet);
		pc.base = 0;
		fo.progress = on_progress;
		fo.progress_arg = &pc;
		for (int i = 0; i < j.nlayers; i++) {
			int l = j.layers[i], nt = i * (bias ? 4 : 2);
			float *q = load(&j, 0, l), *k = load(&j, 1, l);
			float *v = fo.mse_factor > 0 ? load(&j, 2, l) : NULL;
			struct hedgehog_maps m;
			struct hedgehog_fit_report rep;

			rep.init_loss = xmalloc(sizeof *rep.init_loss * (size_t)j.H);
			rep.best_loss = xmalloc(sizeof *rep.best_loss * (size_t)j.H);
			rep.best_step = xmalloc(sizeof *rep.best_step * (size_t)j.H);
			hedgehog_maps_init(&m, kind, j.H, j.d, df, bias);
			if (hedgehog_fit_layer(&m, q, k, v, j.S, j.H, j.n, j.d, j.dv, train, ntrain, val,
			    nval, &fo, &rep) != 0)
				die("layer %d: %s", l, loam_error());
			pc.base += per;
			for (int h = 0; h < j.H; h++) {
				char what[48];

				snprintf(what, sizeof what, "layer %d head %d", l, h);
				check_finite(what, "init_loss", rep.init_loss[h]);
				check_finite(what, "best_loss", rep.best_loss[h]);
			}
			for (int h = 0; h < j.H; h++)
				if (fprintf(fp, "{\"layer\":%d,\"head\":%d,\"init_loss\":%.17g,"
				    "\"best_loss\":%.17g,\"best_step\":%d,\"steps\":%d}\n", l, h,
				    rep.init_loss[h], rep.best_loss[h], rep.best_step[h], rep.steps) < 0)
					cli_write_failed("stdout");
			for (int w = 0; w < (bias ? 4 : 2); w++) {
				char *base = hedgehog_layer_name(prefix, l);
				const char *suffix[4] = { "feature_map_q.mlp.layer", "feature_map_k.mlp.layer",
				    "feature_map_q.mlp.bias", "feature_map_k.mlp.bias" };
				size_t len = strlen(base) + 32;
				float *src = w == 0 ? m.wq : w == 1 ? m.wk : w == 2 ? m.bq : m.bk;
				size_t cnt = (size_t)m.P * (w < 2 ? (size_t)j.d * df : (size_t)df);

				tnames[nt + w] = xmalloc(len);
				snprintf(tnames[nt + w], len, "%s%s", base, suffix[w]);
				free(base);
				bufs[nt + w] = xmalloc(sizeof *bufs[nt + w] * cnt);
				memcpy(bufs[nt + w], src, sizeof *src * cnt);
				shapes[nt + w][0] = (size_t)m.P;
				shapes[nt + w][1] = w < 2 ? (size_t)j.d : (size_t)df;
				shapes[nt + w][2] = (size_t)df;
				tens[nt + w].name = tnames[nt + w];
				tens[nt + w].dtype = SAFETENSORS_F32;
				tens[nt + w].ndim = w < 2 ? 3 : 2;
				tens[nt + w].shape = shapes[nt + w];
				tens[nt + w].data = bufs[nt + w];
			}
			hedgehog_maps_release(&m);
			free(rep.init_loss);
			free(rep.best_loss);
			free(rep.best_step);
			free(q);
			free(k);
			free(v);
		}
		progress_end(&pc.p);
	}
	for (int i = 0; i < argc; i++)
		if (strlen(files) + strlen(argv[i]) + 2 < sizeof files)
			strcat(strcat(files, *files ? " " : ""), argv[i]);
	val_list = int_list(val, nval);
	layer_list = int_list(j.layers, j.nlayers);
#define META(k, v) (meta[nmeta].key = (k), meta[nmeta++].value = (v))
#define NUM(i, fmt, x) (snprintf(num[i], sizeof num[i], fmt, x), num[i])
	META("format", "loam-hedgehog 1");
	META("fmap", hedgehog_fmap_names[kind]);
	META("feature_map", fmap_doc[kind]);
	META("halves", "2");
	META("num_layers", NUM(0, "%d", j.nlayers));
	META("layers", layer_list);
	META("num_heads", NUM(1, "%d", j.H));
	META("head_dim", NUM(2, "%d", j.d));
	META("feature_dim", NUM(3, "%d", df));
	META("features", NUM(4, "%d", 2 * df));
	META("tie_qk", "false");
	META("share_heads", kind == HEDGEHOG_FMAP_FLA ? "true" : "false");
	META("bias", bias ? "true" : "false");
	META("init", "identity");
	META("layout", "layer[h] is (head_dim, feature_dim), applied as x @ layer[h] "
	    "(einsum('hdf,bhld->bhlf')); bias[h] is (feature_dim)");
	META("prefix", prefix);
	META("causal", fo.causal ? "true" : "false");
	META("loss", fo.mse_factor > 0 ? (fo.xent_factor > 0 ? "xent+mse" : "mse") : "xent");
	META("xent_factor", NUM(5, "%.17g", fo.xent_factor));
	META("mse_factor", NUM(6, "%.17g", fo.mse_factor));
	META("teacher_scale", NUM(7, "%.9g", 1 / sqrt((double)j.d)));
	META("student_scale", "1");
	META("applied_after", applied);
	META("optimizer", "adamw");
	META("lr", NUM(8, "%.17g", fo.lr));
	META("weight_decay", NUM(9, "%.17g", fo.weight_decay));
	META("epochs", NUM(10, "%d", fo.epochs));
	META("steps", NUM(11, "%d", fo.steps > 0 ? fo.steps :
	    fo.epochs * ((ntrain + fo.batch - 1) / fo.batch)));
	META("batch", NUM(12, "%d", fo.batch));
	META("seed", NUM(13, "%llu", (unsigned long long)o.seed));
	META("sequences", NUM(14, "%d", j.S));
	META("length", NUM(15, "%d", j.n));
	META("val_sequences", val_list);
	META("q_names", j.pat[0]);
	META("k_names", j.pat[1]);
	META("source", files);
	META("tool", "hedgehog-train (loam) " LOAM_VERSION_STRING);
	if (safetensors_write(o.output, tens, (size_t)j.nlayers * (bias ? 4 : 2), meta,
	    nmeta) != 0)
		die("%s", loam_error());
	cli_out_commit(&out);
	for (int i = 0; i < j.nlayers * 4; i++) {
		free(tnames[i]);
		free(bufs[i]);
	}
	free(tens);
	free(shapes);
	free(bufs);
	free(tnames);
	free(val_list);
	free(layer_list);
	free(train);
	free(val);
	job_close(&j);
	return cli_exit();
}

/* The trained maps of every layer, read back from fit's file. */
struct trained {
	struct safetensors st;
	int kind, df, bias, H, d;
	char *prefix;
	int *val, nval;
};

static int
meta_int(const struct safetensors *st, const char *key)
{
	const char *s = safetensors_meta(st, key);
	char *end;
	long v;

	if (s) {
		v = strtol(s, &end, 10);
		if (*end || v < 0 || v > 1 << 24)
			die("%s: metadata '%s': '%s' is not a count", st->name, key, s);
		return (int)v;
	}
	die("%s: no metadata '%s'", st->name, key);
}

static void
trained_open(struct trained *t, const char *path)
{
	const char *s;

	memset(t, 0, sizeof *t);
	if (safetensors_open(&t->st, path) != 0)
		die("%s", loam_error());
	s = safetensors_meta(&t->st, "fmap");
	t->kind = -1;
	for (int i = 0; i < 3; i++)
		if (s && strcmp(s, learned_names[i]) == 0)
			t->kind = i;
	if (t->kind < 0)
		die("%s: metadata 'fmap' is '%s', not a hedgehog map", path, s ? s : "(none)");
	t->df = meta_int(&t->st, "feature_dim");
	t->H = meta_int(&t->st, "num_heads");
	t->d = meta_int(&t->st, "head_dim");
	s = safetensors_meta(&t->st, "bias");
	t->bias = s && strcmp(s, "true") == 0;
	s = safetensors_meta(&t->st, "prefix");
	t->prefix = xstrdup(s ? s : DEFAULT_PREFIX);
	s = safetensors_meta(&t->st, "val_sequences");
	t->val = xmalloc(sizeof *t->val * (s ? strlen(s) / 2 + 2 : 1));
	if (s && *s) {
		char *copy = xstrdup(s), *save = NULL;

		for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
			t->val[t->nval++] = atoi(p);
		free(copy);
	}
}

static void
trained_close(struct trained *t)
{
	safetensors_close(&t->st);
	free(t->prefix);
	free(t->val);
}

/* Copy one weight tensor of layer l into dst, checking its shape. */
static void
trained_get(const struct trained *t, int l, const char *suffix, int P, int rows,
    float *dst)
{
	char *base = hedgehog_layer_name(t->prefix, l), name[1024];
	const struct safetensors_tensor *x;
	size_t want = (size_t)P * rows * t->df;

	snprintf(name, sizeof name, "%s%s", base, suffix);
	free(base);
	if (!(x = safetensors_find(&t->st, name)))
		die("%s: no tensor '%s' for layer %d", t->st.name, name, l);
	if (x->dtype != SAFETENSORS_F32 || x->nbytes != want * sizeof(float))
		die("%s: tensor '%s' is not F32 with %zu values", t->st.name, name, want);
	memcpy(dst, x->data, x->nbytes);
}

/* One row of results. */
struct result {
	int layer, head, fmap, trained;
	struct hedgehog_metrics m;
	double mse;		/* output MSE, NaN without values */
};

/* The metrics as JSON members; what names the record for a refusal. */
static void
print_metrics(FILE *fp, const char *what, const struct hedgehog_metrics *m, double mse)
{
	check_metrics(what, m, mse);
	if (fprintf(fp, "\"ce\":%.17g,\"kl\":%.17g,\"entropy\":%.17g,\"teacher_entropy\":%.17g,"
	    "\"max_weight\":%.17g,\"teacher_max_weight\":%.17g,\"monotonicity\":%.17g",
	    m->ce, m->kl, m->entropy, m->teacher_entropy, m->max_weight,
	    m->teacher_max_weight, m->monotonicity) < 0)
		cli_write_failed(out_name);
	if (!isnan(mse) && fprintf(fp, ",\"mse\":%.17g", mse) < 0)
		cli_write_failed(out_name);
}

static int
cmd_eval(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "weights", required_argument, NULL, OPT_WEIGHTS },
		{ "fmap", required_argument, NULL, OPT_FMAP },
		{ "feature-dim", required_argument, NULL, OPT_FEATURE_DIM },
		{ "layers", required_argument, NULL, OPT_LAYERS },
		{ "map", required_argument, NULL, OPT_MAP },
		{ "causal", no_argument, NULL, OPT_CAUSAL },
		{ "bidirectional", no_argument, NULL, OPT_BIDIRECTIONAL },
		{ "val", required_argument, NULL, OPT_VAL },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "block", required_argument, NULL, OPT_BLOCK },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	struct job j = { 0 };
	struct trained tw;
	const char *weights = NULL, *fmaps = NULL;
	int c, df = 0, nval = -1, all = 0, block = 64, causal = 1, nf = 0, fm[HEDGEHOG_NFMAP];
	int *val, nv = 0, ntrain, nres;
	struct result *res;
	struct cli_out out;
	FILE *fp;

	cli_init(&o, argc, argv, usage, help, CLI_BLAS);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1)
		switch (c) {
		case OPT_WEIGHTS: weights = optarg; break;
		case OPT_FMAP: fmaps = optarg; break;
		case OPT_FEATURE_DIM:
			df = (int)cli_parse_u64("--feature-dim", optarg, 1, 65536);
			break;
		case OPT_LAYERS: j.layers = parse_layers(optarg, &j.nlayers); break;
		case OPT_MAP: parse_map(&j, optarg); break;
		case OPT_CAUSAL: causal = 1; break;
		case OPT_BIDIRECTIONAL: causal = 0; break;
		case OPT_VAL: nval = (int)cli_parse_u64("--val", optarg, 0, 1000000); break;
		case OPT_ALL: all = 1; break;
		case OPT_BLOCK: block = (int)cli_parse_u64("--block", optarg, 1, 1 << 20); break;
		default: cli_common_option(&o, c);
		}
	argc -= optind;
	argv += optind;
	if (weights)
		trained_open(&tw, weights);
	if (fmaps) {
		char *copy = xstrdup(fmaps), *cur = copy, *p;

		while (nf < HEDGEHOG_NFMAP && (p = cli_list_next(&cur, ',', "--fmap", fmaps)) != NULL)
			fm[nf++] = cli_parse_choice("--fmap", p, hedgehog_fmap_names, HEDGEHOG_NFMAP);
		free(copy);
	} else {
		if (weights)
			fm[nf++] = tw.kind;
		for (int k = HEDGEHOG_FMAP_ELU1; k < HEDGEHOG_NFMAP; k++)
			fm[nf++] = k;
	}
	if (!j.pat[0])
		j.pat[0] = xstrdup("layers.{L}.q");
	if (!j.pat[1])
		j.pat[1] = xstrdup("layers.{L}.k");
	if (!j.pat[2])
		j.pat[2] = xstrdup("layers.{L}.v");
	j.causal = causal;
	job_open(&j, argv, argc, j.layers != NULL);
	if (weights && (tw.d != j.d || tw.H != j.H))
		die("%s: maps for %d heads of dimension %d, the input has %d of %d", weights,
		    tw.H, tw.d, j.H, j.d);
	if (!df)
		df = weights ? tw.df : j.d;
	val = xmalloc(sizeof *val * (size_t)j.S);
	if (all) {
		for (int i = 0; i < j.S; i++)
			val[nv++] = i;
	} else if (weights && nval < 0 && tw.nval > 0) {
		for (int i = 0; i < tw.nval; i++)
			if (tw.val[i] >= 0 && tw.val[i] < j.S)
				val[nv++] = tw.val[i];
	} else {
		int *train = xmalloc(sizeof *train * (size_t)j.S);

		nv = nval < 0 ? default_val(j.S) : nval;
		if (nv > j.S)
			usage_error("--val %d is more than the %d sequences", nv, j.S);
		split(j.S, nv, o.seed, train, &ntrain, val);
		free(train);
	}
	if (nv == 0)
		for (int i = 0; i < j.S; i++)	/* no held-out split: all of them */
			val[nv++] = i;

	nres = j.nlayers * j.H * nf;
	res = xcalloc((size_t)nres, sizeof *res);
	for (int li = 0; li < j.nlayers; li++) {
		int l = j.layers[li];
		float *q = load(&j, 0, l), *k = load(&j, 1, l);
		float *v = j.dv ? load(&j, 2, l) : NULL;
		struct hedgehog_maps m = { 0 };
		int have_maps = 0;

		for (int a = 0; a < nf; a++)
			if (hedgehog_fmap_learned(fm[a]))
				have_maps = 1;
		if (have_maps) {
			/* the trained maps, or identity-initialised ones */
			int kind = weights ? tw.kind : -1;

			for (int a = 0; a < nf; a++)
				if (hedgehog_fmap_learned(fm[a])) {
					if (weights && fm[a] != tw.kind)
						usage_error("--fmap %s: %s holds %s maps",
						    hedgehog_fmap_names[fm[a]], weights, hedgehog_fmap_names[tw.kind]);
					if (kind >= 0 && fm[a] != kind)
						usage_error("--fmap: one trained map at a time (%s, %s)",
						    hedgehog_fmap_names[kind], hedgehog_fmap_names[fm[a]]);
					kind = fm[a];
				}
			hedgehog_maps_init(&m, kind, j.H, j.d, weights ? tw.df : df,
			    weights ? tw.bias : kind != HEDGEHOG_FMAP_HEDGEHOG);
			if (weights) {
				trained_get(&tw, l, "feature_map_q.mlp.layer", m.P, j.d, m.wq);
				trained_get(&tw, l, "feature_map_k.mlp.layer", m.P, j.d, m.wk);
				if (tw.bias) {
					trained_get(&tw, l, "feature_map_q.mlp.bias", m.P, 1, m.bq);
					trained_get(&tw, l, "feature_map_k.mlp.bias", m.P, 1, m.bk);
				}
			}
		}
#pragma omp parallel for schedule(dynamic) collapse(2)
		for (int a = 0; a < nf; a++)
			for (int h = 0; h < j.H; h++) {
				struct result *r = &res[(li * nf + a) * j.H + h];
				int kind = fm[a], n = j.n, d = j.d;
				int f = hedgehog_fmap_learned(kind) ? 2 * m.df :
				    kind == HEDGEHOG_FMAP_PERFORMER ? 2 * df : hedgehog_feature_count(kind, d, df);
				int kern = kind == HEDGEHOG_FMAP_TAYLOR;	/* metrics through the kernel */
				float *fq = xmalloc(sizeof *fq * (size_t)n * f);
				float *fk = xmalloc(sizeof *fk * (size_t)n * f);
				float *z = hedgehog_fmap_learned(kind) ? xmalloc(sizeof *z * (size_t)n * m.df) : NULL;
				float *om = NULL, *ys = NULL, *yt = NULL;
				double se = 0;

				if (kind == HEDGEHOG_FMAP_PERFORMER) {
					om = xmalloc(sizeof *om * (size_t)f * d);
					hedgehog_performer_init(om, f, d, o.seed, (uint64_t)l << 16 | (uint64_t)h);
				}
				if (v) {
					ys = xmalloc(sizeof *ys * (size_t)n * j.dv);
					yt = xmalloc(sizeof *yt * (size_t)n * j.dv);
				}
				r->layer = l;
				r->head = h;
				r->fmap = kind;
				r->trained = hedgehog_fmap_learned(kind) && weights;
				for (int s = 0; s < nv; s++) {
					size_t off = ((size_t)val[s] * j.H + h) * n * d;
					size_t voff = ((size_t)val[s] * j.H + h) * n * j.dv;

					if (hedgehog_fmap_learned(kind)) {
						hedgehog_maps_features(&m, h, 0, fq, z, q + off, n);
						hedgehog_maps_features(&m, h, 1, fk, z, k + off, n);
					} else {
						hedgehog_fixed_forward(kind, fq, q + off, n, d, om, f, 1);
						hedgehog_fixed_forward(kind, fk, k + off, n, d, om, f, 0);
					}
					hedgehog_metrics_add(&r->m, q + off, k + off, kern ? NULL : fq,
					    kern ? NULL : fk, n, d, f, causal, block);
					if (v && causal) {
						linattn_forward(ys, NULL, fq, fk, v + voff, n, f, j.dv, 0);
						linattn_softmax_forward(yt, q + off, k + off, v + voff, n, d, j.dv,
						    1 / sqrtf((float)d), 1, block);
						for (size_t i = 0; i < (size_t)n * j.dv; i++)
							se += ((double)ys[i] - yt[i]) * ((double)ys[i] - yt[i]);
					}
				}
				hedgehog_metrics_mean(&r->m);
				r->mse = v && causal ? se / ((double)nv * n * j.dv) : NAN;
				free(fq);
				free(fk);
				free(z);
				free(om);
				free(ys);
				free(yt);
			}
		if (have_maps)
			hedgehog_maps_release(&m);
		free(q);
		free(k);
		free(v);
	}

	/* Every record is checked before the first is written. */
	for (int i = 0; i < nres; i++) {
		char what[64];

		snprintf(what, sizeof what, "layer %d head %d %s", res[i].layer, res[i].head,
		    hedgehog_fmap_names[res[i].fmap]);
		check_metrics(what, &res[i].m, res[i].mse);
	}
	fp = cli_out_open(&out, o.output);
	if (o.output && strcmp(o.output, "-") != 0)
		out_name = o.output;
	for (int i = 0; i < nres; i++) {
		struct result *r = &res[i];
		char what[64];

		snprintf(what, sizeof what, "layer %d head %d %s", r->layer, r->head,
		    hedgehog_fmap_names[r->fmap]);
		if (fprintf(fp, "{\"layer\":%d,\"head\":%d,\"fmap\":\"%s\",\"trained\":%s,", r->layer,
		    r->head, hedgehog_fmap_names[r->fmap], r->trained ? "true" : "false") < 0)
			cli_write_failed(out_name);
		print_metrics(fp, what, &r->m, r->mse);
		if (fputs("}\n", fp) < 0)
			cli_write_failed(out_name);
	}
	/* means over layers and heads, one record per map, and the table */
	if (!o.quiet)
		fprintf(stderr, "%-13s %9s %9s %9s %9s %7s%s\n", "fmap", "KL", "CE", "H(map)",
		    "H(soft)", "mono", j.dv && causal ? "       MSE" : "");
	for (int a = 0; a < nf; a++) {
		struct hedgehog_metrics mean = { 0 };
		double mse = 0;
		int cnt = 0;

		for (int i = 0; i < nres; i++) {
			struct result *r = &res[i];

			if (r->fmap != fm[a])
				continue;
			mean.ce += r->m.ce;
			mean.kl += r->m.kl;
			mean.entropy += r->m.entropy;
			mean.teacher_entropy += r->m.teacher_entropy;
			mean.max_weight += r->m.max_weight;
			mean.teacher_max_weight += r->m.teacher_max_weight;
			mean.monotonicity += r->m.monotonicity;
			mse += r->mse;
			cnt++;
		}
		mean.rows = mean.mono_rows = cnt;
		hedgehog_metrics_mean(&mean);
		mse /= cnt;
		if (fprintf(fp, "{\"fmap\":\"%s\",\"mean\":true,\"trained\":%s,",
		    hedgehog_fmap_names[fm[a]], hedgehog_fmap_learned(fm[a]) && weights ? "true" : "false") < 0)
			cli_write_failed(out_name);
		{
			char what[64];

			snprintf(what, sizeof what, "the mean of %s", hedgehog_fmap_names[fm[a]]);
			print_metrics(fp, what, &mean, mse);
		}
		if (fputs("}\n", fp) < 0)
			cli_write_failed(out_name);
		if (!o.quiet) {
			fprintf(stderr, "%-13s %9.4f %9.4f %9.4f %9.4f %7.3f", hedgehog_fmap_names[fm[a]],
			    mean.kl, mean.ce, mean.entropy, mean.teacher_entropy, mean.monotonicity);
			if (!isnan(mse))
				fprintf(stderr, " %9.3g", mse);
			fputc('\n', stderr);
		}
	}
	cli_out_commit(&out);
	free(res);
	free(val);
	if (weights)
		trained_close(&tw);
	job_close(&j);
	return cli_exit();
}

int
main(int argc, char *argv[])
{
	static const struct cli_command commands[] = {
		{ "fit", cmd_fit, NULL },
		{ "eval", cmd_eval, NULL },
	};

	return cli_subcommand(argc, argv, commands, sizeof commands / sizeof *commands,
	    NULL, usage, help);
}
