/*
 * hedgehog-train - train linear-attention feature maps that mimic softmax
 * attention (Hedgehog; Zhang, Bhatia, Kumbong and Re, ICLR 2024) from a
 * model's query/key activations, and evaluate them against the baseline
 * maps; see hedgehog-train(1).
 *
 * The maps, the loss, the trainer and the metrics are
 * lib/method/hedgehog.c, the split and one head's evaluation
 * lib/method/hedgehog_eval.c, the inputs and the weights read back
 * lib/method/hedgehog_io.c, linear attention lib/nn/linattn.c.  This file
 * reads the options and the layers, writes the weights and the records.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hedgehog.h"
#include "hedgehog_io.h"
#include "recw.h"
#include "safetensors.h"

enum {
	OPT_FMAP = CLI_LONG, OPT_FEATURE_DIM, OPT_BIAS, OPT_NO_BIAS, OPT_LAYERS, OPT_MAP,
	OPT_CAUSAL, OPT_BIDIRECTIONAL, OPT_LR, OPT_WEIGHT_DECAY, OPT_EPOCHS, OPT_STEPS,
	OPT_BATCH, OPT_VAL, OPT_ALL, OPT_EVAL_EVERY, OPT_PATIENCE, OPT_BLOCK,
	OPT_XENT_FACTOR, OPT_MSE_FACTOR, OPT_PREFIX, OPT_APPLIED_AFTER, OPT_WEIGHTS,
};

#define INPUTS_HELP \
	"Inputs: safetensors or .npy files holding layers.{L}.q, layers.{L}.k (and .v),\n" \
	"each [sequences, heads, length, head_dim].\n"
#define MAP_OPTION { OPT_MAP, "map", "q=name,k=name[,v=name]", "q=P,k=P,v=P", \
	"tensor names, {L} standing for the layer\n" \
	"                      (default layers.{L}.q, layers.{L}.k, layers.{L}.v)" }

static const struct cli_option fit_options[] = {
	{ 'q', "quiet", NULL, NULL, "no progress" },
	{ OPT_FMAP, "fmap", "hedgehog|hedgehog-exp|hedgehog-fla", "M",
	    "hedgehog (default), hedgehog-exp or hedgehog-fla" },
	{ OPT_FEATURE_DIM, "feature-dim", "n", "N",
	    "hidden width df of the map, 2 df features (default head_dim)" },
	{ OPT_BIAS, "bias", NULL, NULL, "a learned bias (default for hedgehog-exp, hedgehog-fla)" },
	{ OPT_NO_BIAS, "no-bias", NULL, NULL, "no bias (default for hedgehog)" },
	{ OPT_LAYERS, "layers", "list", "L,...", "the layers (default: every layer found)" },
	MAP_OPTION,
	{ OPT_CAUSAL, "causal", NULL, NULL, "causal attention (default)" },
	{ OPT_BIDIRECTIONAL, "bidirectional", NULL, NULL, "attention without a mask" },
	{ OPT_LR, "lr", "x", "X", "AdamW learning rate (default 0.01)" },
	{ OPT_WEIGHT_DECAY, "weight-decay", "x", "X", "decoupled weight decay (default 0)" },
	{ OPT_EPOCHS, "epochs", "n", "N", "passes over the training sequences (default 2)" },
	{ OPT_STEPS, "steps", "n", "N", "optimizer steps instead of epochs" },
	{ OPT_BATCH, "batch", "n", "N", "sequences per step (default 1)" },
	{ OPT_VAL, "val", "n", "N", "held-out sequences (default a fifth, at least 1 of 2+)" },
	{ OPT_EVAL_EVERY, "eval-every", "n", "N", "steps between validations (default 50)" },
	{ OPT_PATIENCE, "patience", "n", "N",
	    "validations without progress before lr /= 10\n                      (default 10)" },
	{ OPT_BLOCK, "block", "n", "N", "query rows per block (default 64): memory block x length" },
	{ OPT_XENT_FACTOR, "xent-factor", "x", "X", "weight of the attention cross-entropy (default 1)" },
	{ OPT_MSE_FACTOR, "mse-factor", "x", "X",
	    "weight of the output MSE against softmax attention\n                      (default 0; needs v)" },
	{ OPT_PREFIX, "prefix", "p", "P", "weight names P + feature_map_q.mlp.layer\n"
	    "                      (default model.layers.{L}.self_attn.)" },
	{ OPT_APPLIED_AFTER, "applied-after", "what", "W",
	    "recorded in the metadata: what q/k are taken after (proj)" },
	{ 's', "seed", "seed", "N", "split, order of the sequences" },
	{ 't', "threads", "n", "N", "threads (heads run in parallel)" },
	CLI_OPTIONS_END
};
static const struct cli_spec fit_spec = {
	"fit", "-o weights.safetensors file ...",
	"Train Hedgehog feature maps by attention distillation.", fit_options,
	"  -o, --output FILE   the weights (required)\n" INPUTS_HELP
};

static const struct cli_option eval_options[] = {
	{ 'q', "quiet", NULL, NULL, "no table" },
	{ OPT_WEIGHTS, "weights", "file", "FILE", "maps written by fit" },
	{ OPT_FMAP, "fmap", "list", "M,...", "a comma list of hedgehog, hedgehog-exp, hedgehog-fla,\n"
	    "                      elu1, relu, performer, cosformer, taylor (default: the\n"
	    "                      trained map and all baselines)" },
	{ OPT_FEATURE_DIM, "feature-dim", "n", "N",
	    "hidden width df of the maps (default: the trained maps',\n"
	    "                      else head_dim)" },
	{ OPT_LAYERS, "layers", "list", "L,...", "the layers (default: every layer found)" },
	MAP_OPTION,
	{ OPT_CAUSAL, "causal", NULL, NULL, "causal attention (default)" },
	{ OPT_BIDIRECTIONAL, "bidirectional", NULL, NULL, "attention without a mask" },
	{ OPT_VAL, "val", "n", "N", "held-out sequences (default: fit's, else a fifth)" },
	{ OPT_ALL, "all", NULL, NULL, "every sequence, not only the held-out ones" },
	{ OPT_BLOCK, "block", "n", "N", "query rows per block (default 64): memory block x length" },
	{ 's', "seed", "seed", "N", "split, Performer features" },
	{ 't', "threads", "n", "N", "threads (heads and maps run in parallel)" },
	{ 'o', "output", "file", "FILE", "the records (default stdout)" },
	CLI_OPTIONS_END
};
static const struct cli_spec eval_spec = {
	"eval", "file ...", "Compare feature maps with softmax attention.", eval_options,
	INPUTS_HELP
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

static const char *const learned_names[] = { "hedgehog", "hedgehog-exp", "hedgehog-fla" };

static const char *const fmap_doc[] = {
	"[softmax(x W), softmax(-x W)], each half a softmax over the feature dimension (LoLCATs)",
	"[exp(x W + b), exp(-x W - b)] (the paper), z clamped to [-40, 40]",
	"softmax([2 z, -2 z]) over all 2 feature_dim, z = x W + b, one map shared by the heads (fla)",
};

/* fit's settings beyond the trainer's. */
struct fit_args {
	int kind, df, bias, nval;
	const char *prefix, *applied;
	struct hedgehog_fit_opts fo;
};

static void
fit_options_parse(struct cli_opts *o, struct job *j, struct fit_args *a, int argc, char *argv[])
{
	const char *arg;
	int c;

	a->kind = HEDGEHOG_FMAP_HEDGEHOG;
	a->df = 0;
	a->bias = -1;
	a->nval = -1;
	a->prefix = DEFAULT_PREFIX;
	a->applied = "proj";
	hedgehog_fit_opts_default(&a->fo);
	cli_begin(o, argc, argv, &fit_spec, CLI_BLAS);
	while ((c = cli_next(o, &arg)) != -1)
		switch (c) {
		case OPT_FMAP: a->kind = cli_parse_choice("--fmap", arg, learned_names, 3); break;
		case OPT_FEATURE_DIM:
			a->df = (int)cli_parse_u64("--feature-dim", arg, 1, 65536);
			break;
		case OPT_BIAS: a->bias = 1; break;
		case OPT_NO_BIAS: a->bias = 0; break;
		case OPT_LAYERS: j->layers = parse_layers(arg, &j->nlayers); break;
		case OPT_MAP: parse_map(j, arg); break;
		case OPT_CAUSAL: a->fo.causal = 1; break;
		case OPT_BIDIRECTIONAL: a->fo.causal = 0; break;
		case OPT_LR: a->fo.lr = cli_parse_double("--lr", arg, 0, 1e6); break;
		case OPT_WEIGHT_DECAY:
			a->fo.weight_decay = cli_parse_double("--weight-decay", arg, 0, 1e6);
			break;
		case OPT_EPOCHS: a->fo.epochs = (int)cli_parse_u64("--epochs", arg, 1, 1000000); break;
		case OPT_STEPS: a->fo.steps = (int)cli_parse_u64("--steps", arg, 1, 100000000); break;
		case OPT_BATCH: a->fo.batch = (int)cli_parse_u64("--batch", arg, 1, 1000000); break;
		case OPT_VAL: a->nval = (int)cli_parse_u64("--val", arg, 0, 1000000); break;
		case OPT_EVAL_EVERY:
			a->fo.eval_every = (int)cli_parse_u64("--eval-every", arg, 1, 100000000);
			break;
		case OPT_PATIENCE:
			a->fo.patience = (int)cli_parse_u64("--patience", arg, 1, 100000000);
			break;
		case OPT_BLOCK: a->fo.block = (int)cli_parse_u64("--block", arg, 1, 1 << 20); break;
		case OPT_XENT_FACTOR:
			a->fo.xent_factor = cli_parse_double("--xent-factor", arg, 0, 1e9);
			break;
		case OPT_MSE_FACTOR:
			a->fo.mse_factor = cli_parse_double("--mse-factor", arg, 0, 1e9);
			break;
		case OPT_PREFIX: a->prefix = arg; break;
		case OPT_APPLIED_AFTER: a->applied = arg; break;
		}
	if (!o->output)
		usage_error("fit needs -o weights.safetensors");
	if (a->fo.xent_factor == 0 && a->fo.mse_factor == 0)
		usage_error("--xent-factor and --mse-factor are both 0");
	if (a->fo.mse_factor > 0 && !a->fo.causal)
		usage_error("--mse-factor needs causal attention");
	if (a->bias < 0)
		a->bias = a->kind != HEDGEHOG_FMAP_HEDGEHOG;
	if (!j->pat[0])
		j->pat[0] = xstrdup("layers.{L}.q");
	if (!j->pat[1])
		j->pat[1] = xstrdup("layers.{L}.k");
	if (!j->pat[2] && a->fo.mse_factor > 0)
		j->pat[2] = xstrdup("layers.{L}.v");
	j->causal = a->fo.causal;
}

/* The weights file being built: each layer's q and k maps (and biases). */
struct wfile {
	struct safetensors_tensor *tens;
	size_t (*shapes)[3];
	float **bufs;
	char **names;
	size_t n;
};

static void
wfile_init(struct wfile *wf, int nlayers)
{
	wf->tens = xcalloc((size_t)nlayers * 4, sizeof *wf->tens);
	wf->shapes = xcalloc((size_t)nlayers * 4, sizeof *wf->shapes);
	wf->bufs = xcalloc((size_t)nlayers * 4, sizeof *wf->bufs);
	wf->names = xcalloc((size_t)nlayers * 4, sizeof *wf->names);
	wf->n = 0;
}

static void
wfile_release(struct wfile *wf)
{
	for (size_t i = 0; i < wf->n; i++) {
		free(wf->names[i]);
		free(wf->bufs[i]);
	}
	free(wf->tens);
	free(wf->shapes);
	free(wf->bufs);
	free(wf->names);
}

/* Layer l's maps as LoLCATs names them: prefix + feature_map_q.mlp.layer
 * [P, d, df], ..._k..., and the biases [P, df]. */
static void
wfile_add(struct wfile *wf, const char *prefix, int l, const struct hedgehog_maps *m)
{
	static const char *const suffix[4] = { "feature_map_q.mlp.layer",
	    "feature_map_k.mlp.layer", "feature_map_q.mlp.bias", "feature_map_k.mlp.bias" };
	char *base = hedgehog_layer_name(prefix, l);
	size_t len = strlen(base) + 32;

	for (int w = 0; w < (m->bias ? 4 : 2); w++) {
		size_t i = wf->n++;
		const float *src = w == 0 ? m->wq : w == 1 ? m->wk : w == 2 ? m->bq : m->bk;
		size_t cnt = (size_t)m->P * (w < 2 ? (size_t)m->d * m->df : (size_t)m->df);

		wf->names[i] = xmalloc(len);
		snprintf(wf->names[i], len, "%s%s", base, suffix[w]);
		wf->bufs[i] = xmalloc(sizeof *wf->bufs[i] * cnt);
		memcpy(wf->bufs[i], src, sizeof *src * cnt);
		wf->shapes[i][0] = (size_t)m->P;
		wf->shapes[i][1] = w < 2 ? (size_t)m->d : (size_t)m->df;
		wf->shapes[i][2] = (size_t)m->df;
		wf->tens[i].name = wf->names[i];
		wf->tens[i].dtype = SAFETENSORS_F32;
		wf->tens[i].ndim = w < 2 ? 3 : 2;
		wf->tens[i].shape = wf->shapes[i];
		wf->tens[i].data = wf->bufs[i];
	}
	free(base);
}

/* Train layer l's maps, write one record per head, add the maps to wf. */
static void
fit_layer(struct recw *w, struct wfile *wf, const struct job *j, const struct fit_args *a,
    int l, const int *train, int ntrain, const int *val, int nval)
{
	float *q = load(j, 0, l), *k = load(j, 1, l);
	float *v = a->fo.mse_factor > 0 ? load(j, 2, l) : NULL;
	struct hedgehog_maps m;
	struct hedgehog_fit_report rep;

	rep.init_loss = xmalloc(sizeof *rep.init_loss * (size_t)j->H);
	rep.best_loss = xmalloc(sizeof *rep.best_loss * (size_t)j->H);
	rep.best_step = xmalloc(sizeof *rep.best_step * (size_t)j->H);
	hedgehog_maps_init(&m, a->kind, j->H, j->d, a->df, a->bias);
	if (hedgehog_fit_layer(&m, q, k, v, j->S, j->H, j->n, j->d, j->dv, train, ntrain, val,
	    nval, &a->fo, &rep) != 0)
		die("layer %d: %s", l, loam_error());
	for (int h = 0; h < j->H; h++) {
		recw_begin(w);
		recw_int(w, "layer", l);
		recw_int(w, "head", h);
		recw_double(w, "init_loss", rep.init_loss[h]);
		recw_double(w, "best_loss", rep.best_loss[h]);
		recw_int(w, "best_step", rep.best_step[h]);
		recw_int(w, "steps", rep.steps);
		if (recw_end(w) != 0)
			die("layer %d head %d: %s", l, h, loam_error());
	}
	wfile_add(wf, a->prefix, l, &m);
	hedgehog_maps_release(&m);
	free(rep.init_loss);
	free(rep.best_loss);
	free(rep.best_step);
	free(q);
	free(k);
	free(v);
}

/* Write the weights with every setting in the metadata. */
static void
fit_write(const struct cli_opts *o, const struct fit_args *a, const struct job *j,
    const struct wfile *wf, const int *val, int nval, int ntrain)
{
	struct safetensors_kv meta[40];
	size_t nmeta = 0;
	char num[24][32], *val_list = int_list(val, nval), *layer_list, files[4096] = "";
	const struct hedgehog_fit_opts *fo = &a->fo;

	for (int i = 0; i < o->argc; i++)
		if (strlen(files) + strlen(o->argv[i]) + 2 < sizeof files)
			strcat(strcat(files, *files ? " " : ""), o->argv[i]);
	layer_list = int_list(j->layers, j->nlayers);
#define META(k, v) (meta[nmeta].key = (k), meta[nmeta++].value = (v))
#define NUM(i, fmt, x) (snprintf(num[i], sizeof num[i], fmt, x), num[i])
	META("format", "loam-hedgehog 1");
	META("fmap", hedgehog_fmap_names[a->kind]);
	META("feature_map", fmap_doc[a->kind]);
	META("halves", "2");
	META("num_layers", NUM(0, "%d", j->nlayers));
	META("layers", layer_list);
	META("num_heads", NUM(1, "%d", j->H));
	META("head_dim", NUM(2, "%d", j->d));
	META("feature_dim", NUM(3, "%d", a->df));
	META("features", NUM(4, "%d", 2 * a->df));
	META("tie_qk", "false");
	META("share_heads", a->kind == HEDGEHOG_FMAP_FLA ? "true" : "false");
	META("bias", a->bias ? "true" : "false");
	META("init", "identity");
	META("layout", "layer[h] is (head_dim, feature_dim), applied as x @ layer[h] "
	    "(einsum('hdf,bhld->bhlf')); bias[h] is (feature_dim)");
	META("prefix", a->prefix);
	META("causal", fo->causal ? "true" : "false");
	META("loss", fo->mse_factor > 0 ? (fo->xent_factor > 0 ? "xent+mse" : "mse") : "xent");
	META("xent_factor", NUM(5, "%.17g", fo->xent_factor));
	META("mse_factor", NUM(6, "%.17g", fo->mse_factor));
	META("teacher_scale", NUM(7, "%.9g", 1 / sqrt((double)j->d)));
	META("student_scale", "1");
	META("applied_after", a->applied);
	META("optimizer", "adamw");
	META("lr", NUM(8, "%.17g", fo->lr));
	META("weight_decay", NUM(9, "%.17g", fo->weight_decay));
	META("epochs", NUM(10, "%d", fo->epochs));
	META("steps", NUM(11, "%d", fo->steps > 0 ? fo->steps :
	    fo->epochs * ((ntrain + fo->batch - 1) / fo->batch)));
	META("batch", NUM(12, "%d", fo->batch));
	META("seed", NUM(13, "%llu", (unsigned long long)o->seed));
	META("sequences", NUM(14, "%d", j->S));
	META("length", NUM(15, "%d", j->n));
	META("val_sequences", val_list);
	META("q_names", j->pat[0]);
	META("k_names", j->pat[1]);
	META("source", files);
	META("tool", "hedgehog-train (loam) " LOAM_VERSION_STRING);
#undef META
#undef NUM
	if (safetensors_write(o->output, wf->tens, wf->n, meta, nmeta) != 0)
		die("%s", loam_error());
	free(val_list);
	free(layer_list);
}

static int
cmd_fit(int argc, char *argv[])
{
	struct cli_opts o;
	struct fit_args a;
	struct job j = { 0 };
	int ntrain, *train, *val;
	struct progress_ctx pc;
	struct wfile wf;
	struct cli_out out;
	struct recw w;
	long per;

	fit_options_parse(&o, &j, &a, argc, argv);
	job_open(&j, o.argv, o.argc, j.layers != NULL);
	if (a.fo.mse_factor > 0 && !j.dv)
		die("--mse-factor needs values: no tensor '%s' for every layer", j.pat[2]);
	if (!a.df)
		a.df = j.d;
	if (a.nval < 0)
		a.nval = hedgehog_default_val(j.S);
	if (a.nval >= j.S)
		usage_error("--val %d leaves no training sequence of %d", a.nval, j.S);
	a.fo.seed = o.seed;
	train = xmalloc(sizeof *train * (size_t)j.S);
	val = xmalloc(sizeof *val * (size_t)j.S);
	hedgehog_split(j.S, a.nval, o.seed, train, &ntrain, val);

	wfile_init(&wf, j.nlayers);
	recw_init(&w, cli_out_open(&out, "-"), NULL);
	per = (long)(a.fo.steps > 0 ? a.fo.steps :
	    a.fo.epochs * ((ntrain + a.fo.batch - 1) / a.fo.batch)) * j.H;
	progress_init(&pc.p, "steps", (uint64_t)(per * j.nlayers), o.quiet);
	pc.base = 0;
	a.fo.progress = on_progress;
	a.fo.progress_arg = &pc;
	for (int i = 0; i < j.nlayers; i++, pc.base += per)
		fit_layer(&w, &wf, &j, &a, j.layers[i], train, ntrain, val, a.nval);
	progress_end(&pc.p);
	fit_write(&o, &a, &j, &wf, val, a.nval, ntrain);
	cli_out_commit(&out);
	recw_release(&w);
	wfile_release(&wf);
	free(train);
	free(val);
	job_close(&j);
	return cli_exit();
}

/* eval's settings. */
struct eval_args {
	const char *weights, *fmaps;
	int df, nval, all, block, causal;
	int fm[HEDGEHOG_NFMAP], nf;	/* the maps compared */
};

/* One row of results. */
struct result {
	int layer, head, fmap, trained;
	struct hedgehog_metrics m;
	double mse;		/* output MSE, NaN without values */
};

static void
eval_options_parse(struct cli_opts *o, struct job *j, struct eval_args *a, int argc,
    char *argv[])
{
	const char *arg;
	int c;

	memset(a, 0, sizeof *a);
	a->nval = -1;
	a->block = 64;
	a->causal = 1;
	cli_begin(o, argc, argv, &eval_spec, CLI_BLAS);
	while ((c = cli_next(o, &arg)) != -1)
		switch (c) {
		case OPT_WEIGHTS: a->weights = arg; break;
		case OPT_FMAP: a->fmaps = arg; break;
		case OPT_FEATURE_DIM:
			a->df = (int)cli_parse_u64("--feature-dim", arg, 1, 65536);
			break;
		case OPT_LAYERS: j->layers = parse_layers(arg, &j->nlayers); break;
		case OPT_MAP: parse_map(j, arg); break;
		case OPT_CAUSAL: a->causal = 1; break;
		case OPT_BIDIRECTIONAL: a->causal = 0; break;
		case OPT_VAL: a->nval = (int)cli_parse_u64("--val", arg, 0, 1000000); break;
		case OPT_ALL: a->all = 1; break;
		case OPT_BLOCK: a->block = (int)cli_parse_u64("--block", arg, 1, 1 << 20); break;
		}
	if (!j->pat[0])
		j->pat[0] = xstrdup("layers.{L}.q");
	if (!j->pat[1])
		j->pat[1] = xstrdup("layers.{L}.k");
	if (!j->pat[2])
		j->pat[2] = xstrdup("layers.{L}.v");
	j->causal = a->causal;
}

/* The maps compared: --fmap's, else the trained map (if any) and every
 * baseline.  Returns the learned kind the maps are made for, or -1 when
 * no learned map is compared (the trained kind, or the one --fmap names,
 * as identity maps). */
static int
eval_maps(struct eval_args *a, const struct hedgehog_weights *tw)
{
	int kind = tw ? tw->kind : -1, learned = 0;

	if (a->fmaps) {
		char *copy = xstrdup(a->fmaps), *cur = copy, *p;

		while (a->nf < HEDGEHOG_NFMAP &&
		    (p = cli_list_next(&cur, ',', "--fmap", a->fmaps)) != NULL)
			a->fm[a->nf++] = cli_parse_choice("--fmap", p, hedgehog_fmap_names,
			    HEDGEHOG_NFMAP);
		free(copy);
	} else {
		if (tw)
			a->fm[a->nf++] = tw->kind;
		for (int k = HEDGEHOG_FMAP_ELU1; k < HEDGEHOG_NFMAP; k++)
			a->fm[a->nf++] = k;
	}
	for (int i = 0; i < a->nf; i++) {
		if (!hedgehog_fmap_learned(a->fm[i]))
			continue;
		learned = 1;
		if (tw && a->fm[i] != tw->kind)
			usage_error("--fmap %s: %s holds %s maps", hedgehog_fmap_names[a->fm[i]],
			    a->weights, hedgehog_fmap_names[tw->kind]);
		if (kind >= 0 && a->fm[i] != kind)
			usage_error("--fmap: one trained map at a time (%s, %s)",
			    hedgehog_fmap_names[kind], hedgehog_fmap_names[a->fm[i]]);
		kind = a->fm[i];
	}
	return learned ? kind : -1;
}

/* The sequences evaluated into val (*nv): every one with --all, else
 * those fit held out, else a split of our own; all when none is held out. */
static int *
eval_sequences(const struct job *j, const struct eval_args *a,
    const struct hedgehog_weights *tw, uint64_t seed, int *nv)
{
	int *val = xmalloc(sizeof *val * (size_t)j->S), ntrain;

	*nv = 0;
	if (a->all) {
		for (int i = 0; i < j->S; i++)
			val[(*nv)++] = i;
	} else if (tw && a->nval < 0 && tw->nval > 0) {
		for (int i = 0; i < tw->nval; i++)
			if (tw->val[i] >= 0 && tw->val[i] < j->S)
				val[(*nv)++] = tw->val[i];
	} else {
		int *train = xmalloc(sizeof *train * (size_t)j->S);

		*nv = a->nval < 0 ? hedgehog_default_val(j->S) : a->nval;
		if (*nv > j->S)
			usage_error("--val %d is more than the %d sequences", *nv, j->S);
		hedgehog_split(j->S, *nv, seed, train, &ntrain, val);
		free(train);
	}
	if (*nv == 0)
		for (int i = 0; i < j->S; i++)	/* no held-out split: all of them */
			val[(*nv)++] = i;
	return val;
}

/* Every map compared on every head of layer index li, into res. */
static void
eval_layer(struct result *res, const struct job *j, int li, const struct eval_args *a,
    int kind, const struct hedgehog_weights *tw, uint64_t seed, const int *val, int nv)
{
	int l = j->layers[li];
	float *q = load(j, 0, l), *k = load(j, 1, l);
	float *v = j->dv ? load(j, 2, l) : NULL;
	struct hedgehog_maps m = { 0 };

	if (kind >= 0) {	/* the trained maps, or identity-initialised ones */
		hedgehog_maps_init(&m, kind, j->H, j->d, tw ? tw->df : a->df,
		    tw ? tw->bias : kind != HEDGEHOG_FMAP_HEDGEHOG);
		if (tw && (hedgehog_weights_get(tw, l, "feature_map_q.mlp.layer", m.P, j->d, m.wq) ||
		    hedgehog_weights_get(tw, l, "feature_map_k.mlp.layer", m.P, j->d, m.wk) ||
		    (tw->bias &&
		    (hedgehog_weights_get(tw, l, "feature_map_q.mlp.bias", m.P, 1, m.bq) ||
		    hedgehog_weights_get(tw, l, "feature_map_k.mlp.bias", m.P, 1, m.bk)))))
			die("%s", loam_error());
	}
#pragma omp parallel for schedule(dynamic) collapse(2)
	for (int i = 0; i < a->nf; i++)
		for (int h = 0; h < j->H; h++) {
			struct result *r = &res[(li * a->nf + i) * j->H + h];

			r->layer = l;
			r->head = h;
			r->fmap = a->fm[i];
			r->trained = hedgehog_fmap_learned(r->fmap) && tw;
			r->mse = hedgehog_eval_head(&r->m, r->fmap, kind >= 0 ? &m : NULL, a->df,
			    seed, l, h, q, k, v, j->H, j->n, j->d, j->dv, val, nv, a->causal,
			    a->block);
		}
	if (kind >= 0)
		hedgehog_maps_release(&m);
	free(q);
	free(k);
	free(v);
}

/* NaN and infinity are not JSON numbers: a metric that is not finite
 * ends the program before the first record is written.  The inputs are
 * bounded (HEDGEHOG_INPUT_MAX), so this is a guard, not a path real data
 * takes. */
static void
check_finite(const char *what, const struct hedgehog_metrics *m, double mse)
{
	double x;
	const char *key = hedgehog_metrics_nonfinite(m, mse, &x);

	if (key)
		die("%s: %s is %s, not a number to write (inputs too large for the map?)", what,
		    key, isnan(x) ? "NaN" : "infinite");
}

/* The metrics as members of the record being written. */
static void
write_metrics(struct recw *w, const struct hedgehog_metrics *m, double mse)
{
	recw_double(w, "ce", m->ce);
	recw_double(w, "kl", m->kl);
	recw_double(w, "entropy", m->entropy);
	recw_double(w, "teacher_entropy", m->teacher_entropy);
	recw_double(w, "max_weight", m->max_weight);
	recw_double(w, "teacher_max_weight", m->teacher_max_weight);
	recw_double(w, "monotonicity", m->monotonicity);
	if (!isnan(mse))
		recw_double(w, "mse", mse);
	if (recw_end(w) != 0)
		die("%s", loam_error());
}

/* One record per result, then per map the mean over layers and heads as a
 * record and (unless quiet) a row of the table on stderr. */
static void
eval_write(struct recw *w, const struct result *res, int nres, const struct eval_args *a,
    int trained, int have_mse, int quiet)
{
	struct hedgehog_metrics mean[HEDGEHOG_NFMAP];
	double mse[HEDGEHOG_NFMAP];
	char what[64];

	for (int i = 0; i < a->nf; i++) {	/* checked before the first is written */
		memset(&mean[i], 0, sizeof mean[i]);
		mse[i] = 0;
		for (int r = 0; r < nres; r++)
			if (res[r].fmap == a->fm[i]) {
				hedgehog_metrics_pool(&mean[i], &res[r].m);
				mse[i] += res[r].mse;
			}
		mse[i] /= mean[i].rows;
		hedgehog_metrics_mean(&mean[i]);
	}
	for (int r = 0; r < nres; r++) {
		snprintf(what, sizeof what, "layer %d head %d %s", res[r].layer, res[r].head,
		    hedgehog_fmap_names[res[r].fmap]);
		check_finite(what, &res[r].m, res[r].mse);
	}
	for (int i = 0; i < a->nf; i++) {
		snprintf(what, sizeof what, "the mean of %s", hedgehog_fmap_names[a->fm[i]]);
		check_finite(what, &mean[i], mse[i]);
	}
	for (int r = 0; r < nres; r++) {
		recw_begin(w);
		recw_int(w, "layer", res[r].layer);
		recw_int(w, "head", res[r].head);
		recw_str(w, "fmap", hedgehog_fmap_names[res[r].fmap]);
		recw_bool(w, "trained", res[r].trained);
		write_metrics(w, &res[r].m, res[r].mse);
	}
	if (!quiet)
		fprintf(stderr, "%-13s %9s %9s %9s %9s %7s%s\n", "fmap", "KL", "CE", "H(map)",
		    "H(soft)", "mono", have_mse ? "       MSE" : "");
	for (int i = 0; i < a->nf; i++) {
		const struct hedgehog_metrics *m = &mean[i];

		recw_begin(w);
		recw_str(w, "fmap", hedgehog_fmap_names[a->fm[i]]);
		recw_bool(w, "mean", 1);
		recw_bool(w, "trained", hedgehog_fmap_learned(a->fm[i]) && trained);
		write_metrics(w, m, mse[i]);
		if (quiet)
			continue;
		fprintf(stderr, "%-13s %9.4f %9.4f %9.4f %9.4f %7.3f", hedgehog_fmap_names[a->fm[i]],
		    m->kl, m->ce, m->entropy, m->teacher_entropy, m->monotonicity);
		if (!isnan(mse[i]))
			fprintf(stderr, " %9.3g", mse[i]);
		fputc('\n', stderr);
	}
}

static int
cmd_eval(int argc, char *argv[])
{
	struct cli_opts o;
	struct eval_args a;
	struct job j = { 0 };
	struct hedgehog_weights tw, *twp = NULL;
	int *val, nv, nres, kind;
	struct result *res;
	struct cli_out out;
	struct recw w;

	eval_options_parse(&o, &j, &a, argc, argv);
	if (a.weights) {
		if (hedgehog_weights_open(&tw, a.weights, DEFAULT_PREFIX) != 0)
			die("%s", loam_error());
		twp = &tw;
	}
	kind = eval_maps(&a, twp);
	job_open(&j, o.argv, o.argc, j.layers != NULL);
	if (twp && (tw.d != j.d || tw.H != j.H))
		die("%s: maps for %d heads of dimension %d, the input has %d of %d", a.weights,
		    tw.H, tw.d, j.H, j.d);
	if (!a.df)
		a.df = twp ? tw.df : j.d;
	val = eval_sequences(&j, &a, twp, o.seed, &nv);
	nres = j.nlayers * j.H * a.nf;
	res = xcalloc((size_t)nres, sizeof *res);
	for (int li = 0; li < j.nlayers; li++)
		eval_layer(res, &j, li, &a, kind, twp, o.seed, val, nv);
	recw_init(&w, cli_out_open(&out, o.output), o.output);
	eval_write(&w, res, nres, &a, twp != NULL, j.dv && a.causal, o.quiet);
	cli_out_commit(&out);
	recw_release(&w);
	free(res);
	free(val);
	if (twp)
		hedgehog_weights_close(&tw);
	job_close(&j);
	return cli_exit();
}

int
main(int argc, char *argv[])
{
	static const struct cli_command commands[] = {
		{ "fit", cmd_fit, &fit_spec },
		{ "eval", cmd_eval, &eval_spec },
	};

	return cli_subcommand(argc, argv, commands, sizeof commands / sizeof *commands,
	    NULL, NULL, INPUTS_HELP);
}
