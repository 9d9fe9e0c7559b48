/*
 * hedgehog-lm - train a small byte-level causal softmax-attention language
 * model (lib/gpt over lib/nn) on plain text, then dump its per-layer
 * queries and keys (and values) on held-out text: the real activations
 * that hedgehog-train's tests distil.  testdata/hedgehog/ was made with
 * it (testdata/README.md has the command).
 *
 *	hedgehog-lm [-q] [-s seed] [-t n] [--layers L] [--heads H] [--embd C]
 *	    [--len T] [--batch B] [--steps N] [--lr x] [--sequences S]
 *	    [--f16] [--values] [--model file] --heldout file -o qk.safetensors
 *	    text ...
 *
 * Training: random windows of T+1 bytes of the concatenated texts, next
 * byte cross-entropy, AdamW.  Dump: S windows of T bytes evenly spaced
 * over the held-out file, tensors layers.{L}.q, layers.{L}.k (and .v),
 * each [S, H, T, C/H], F32 or F16.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gpt.h"
#include "hedgehog_io.h"
#include "nn.h"
#include "rng.h"
#include "safetensors.h"

static const char usage[] =
    "usage: hedgehog-lm [-q] [-s seed] [-t n] [--layers L] [--heads H] [--embd C]\n"
    "                   [--len T] [--batch B] [--steps N] [--lr x] [--sequences S]\n"
    "                   [--f16] [--values] [--model file] --heldout file\n"
    "                   -o qk.safetensors text ...\n";

enum {
	OPT_LAYERS = 256, OPT_HEADS, OPT_EMBD, OPT_LEN, OPT_BATCH, OPT_STEPS, OPT_LR,
	OPT_SEQUENCES, OPT_F16, OPT_VALUES, OPT_MODEL, OPT_HELDOUT,
};

/* Append the bytes of path to *buf. */
static void
slurp(const char *path, unsigned char **buf, size_t *len)
{
	unsigned char *map;
	void *p;
	size_t n;

	if (map_file(path, &p, &n) != 0)
		die("%s", loam_error());
	map = p;
	*buf = xrealloc(*buf, *len + n + 1);
	if (n)
		memcpy(*buf + *len, map, n);
	*len += n;
	unmap_file(p, n);
}

/* Mean next-byte loss of S windows of T+1 bytes at evenly spaced offsets. */
static double
heldout_loss(struct gpt *m, const unsigned char *text, size_t len, int S, int T,
    int *tok, int *tgt)
{
	size_t V = (size_t)m->cfg.vocab;

	for (int s = 0; s < S; s++) {
		size_t off = (len - (size_t)T - 1) * (size_t)s / (size_t)(S > 1 ? S - 1 : 1);

		for (int t = 0; t < T; t++) {
			tok[s * T + t] = text[off + (size_t)t];
			tgt[s * T + t] = text[off + (size_t)t + 1];
		}
	}
	gpt_forward(m, NULL, tok, (size_t)S, (size_t)T);
	return nn_softmax_ce_forward(m->a.logits, tgt, (size_t)S * T, V);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "layers", required_argument, NULL, OPT_LAYERS },
		{ "heads", required_argument, NULL, OPT_HEADS },
		{ "embd", required_argument, NULL, OPT_EMBD },
		{ "len", required_argument, NULL, OPT_LEN },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "steps", required_argument, NULL, OPT_STEPS },
		{ "lr", required_argument, NULL, OPT_LR },
		{ "sequences", required_argument, NULL, OPT_SEQUENCES },
		{ "f16", no_argument, NULL, OPT_F16 },
		{ "values", no_argument, NULL, OPT_VALUES },
		{ "model", required_argument, NULL, OPT_MODEL },
		{ "heldout", required_argument, NULL, OPT_HELDOUT },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	struct gpt_config cfg = { 0 };
	struct gpt m;
	struct nn_adamw opt = { 1e-3f, 0.9f, 0.95f, 1e-8f, 0 };
	int L = 2, H = 2, C = 64, T = 128, B = 16, steps = 2000, S = 16, f16 = 0, values = 0;
	const char *model = NULL, *heldout = NULL;
	unsigned char *text = NULL, *ho = NULL;
	size_t len = 0, holen = 0;
	int *tok, *tgt, c, nt, hd;
	float *dlogits;
	double loss = 0, ho0, ho1;
	struct rng r;
	struct safetensors_tensor *tens;
	struct safetensors_kv meta[6];
	char *names[3 * 64], shape_buf[64], losses[64], files[4096] = "";
	size_t (*shapes)[4];
	void **bufs;

	cli_init(&o, argc, argv, usage, "", CLI_BLAS);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1)
		switch (c) {
		case OPT_LAYERS: L = (int)cli_parse_u64("--layers", optarg, 1, 64); break;
		case OPT_HEADS: H = (int)cli_parse_u64("--heads", optarg, 1, 64); break;
		case OPT_EMBD: C = (int)cli_parse_u64("--embd", optarg, 1, 4096); break;
		case OPT_LEN: T = (int)cli_parse_u64("--len", optarg, 2, 65536); break;
		case OPT_BATCH: B = (int)cli_parse_u64("--batch", optarg, 1, 4096); break;
		case OPT_STEPS: steps = (int)cli_parse_u64("--steps", optarg, 0, 100000000); break;
		case OPT_LR: opt.lr = (float)cli_parse_double("--lr", optarg, 0, 10); break;
		case OPT_SEQUENCES: S = (int)cli_parse_u64("--sequences", optarg, 1, 100000); break;
		case OPT_F16: f16 = 1; break;
		case OPT_VALUES: values = 1; break;
		case OPT_MODEL: model = optarg; break;
		case OPT_HELDOUT: heldout = optarg; break;
		default: cli_common_option(&o, c);
		}
	argc -= optind;
	argv += optind;
	if (argc < 1 || !heldout || !o.output)
		usage_error("needs texts, --heldout and -o");
	if (C % H)
		usage_error("--embd %d is not a multiple of --heads %d", C, H);
	for (int i = 0; i < argc; i++) {
		slurp(argv[i], &text, &len);
		if (strlen(files) + strlen(argv[i]) + 2 < sizeof files)
			strcat(strcat(files, *files ? " " : ""), argv[i]);
	}
	slurp(heldout, &ho, &holen);
	if (len < (size_t)T + 2 || holen < (size_t)T + 2)
		die("texts shorter than --len");

	cfg.vocab = 256;
	cfg.max_len = T;
	cfg.n_layer = L;
	cfg.n_head = H;
	cfg.n_embd = C;
	cfg.n_out = 256;
	if (gpt_init(&m, &cfg) != 0)
		die("%s", loam_error());
	gpt_init_weights(&m, o.seed);
	gpt_train_init(&m);
	nt = (B > S ? B : S) * T;
	tok = xmalloc(sizeof *tok * (size_t)nt);
	tgt = xmalloc(sizeof *tgt * (size_t)nt);
	dlogits = xmalloc(sizeof *dlogits * (size_t)nt * 256);
	ho0 = heldout_loss(&m, ho, holen, S, T, tok, tgt);
	rng_init(&r, o.seed, 1, 0);
	for (int step = 0; step < steps; step++) {
		for (int b = 0; b < B; b++) {
			size_t off = rng_uniform_int(&r, len - (size_t)T - 1);

			for (int t = 0; t < T; t++) {
				tok[b * T + t] = text[off + (size_t)t];
				tgt[b * T + t] = text[off + (size_t)t + 1];
			}
		}
		gpt_forward(&m, NULL, tok, (size_t)B, (size_t)T);
		loss = nn_softmax_ce_forward(m.a.logits, tgt, (size_t)B * T, 256);
		memset(dlogits, 0, sizeof *dlogits * (size_t)B * T * 256);
		nn_softmax_ce_backward(dlogits, m.a.logits, tgt, (size_t)B * T, 256);
		gpt_zero_grad(&m);
		gpt_backward(&m, dlogits, NULL, tok);
		gpt_adam_step(&m, &opt);
		if (!isfinite(loss))
			die("step %d: loss is not finite", step);
		if (!o.quiet && (step + 1) % 100 == 0)
			fprintf(stderr, "hedgehog-lm: step %d: loss %.4f nats/byte\n", step + 1, loss);
	}
	ho1 = heldout_loss(&m, ho, holen, S, T, tok, tgt);
	if (!o.quiet)
		fprintf(stderr, "hedgehog-lm: held-out loss %.4f -> %.4f nats/byte (%.3f bits)\n",
		    ho0, ho1, ho1 / log(2));
	if (model && gpt_save(&m, model, 0, NULL, 0) != 0)
		die("%s", loam_error());

	/* the held-out windows are in m's activations now: dump them */
	hd = C / H;
	nt = L * (values ? 3 : 2);
	tens = xcalloc((size_t)nt, sizeof *tens);
	shapes = xcalloc((size_t)nt, sizeof *shapes);
	bufs = xcalloc((size_t)nt, sizeof *bufs);
	for (int l = 0, i = 0; l < L; l++) {
		const float *qkv = gpt_layer_qkv(&m, l);

		for (int w = 0; w < (values ? 3 : 2); w++, i++) {
			size_t count = (size_t)S * H * T * hd;
			float *x = xmalloc(sizeof *x * count);
			char nm[64];

			for (int s = 0; s < S; s++)
				for (int h = 0; h < H; h++)
					for (int t = 0; t < T; t++)
						for (int e = 0; e < hd; e++)
							x[(((size_t)s * H + h) * T + t) * hd + e] =
							    qkv[((size_t)s * T + t) * 3 * C + (size_t)w * C +
							    (size_t)h * hd + e];
			snprintf(nm, sizeof nm, "layers.%d.%c", l, "qkv"[w]);
			names[i] = xstrdup(nm);
			if (f16) {
				uint16_t *hx = xmalloc(sizeof *hx * count);

				for (size_t j = 0; j < count; j++)
					hx[j] = hedgehog_float_to_half(x[j]);
				free(x);
				bufs[i] = hx;
			} else
				bufs[i] = x;
			shapes[i][0] = (size_t)S;
			shapes[i][1] = (size_t)H;
			shapes[i][2] = (size_t)T;
			shapes[i][3] = (size_t)hd;
			tens[i].name = names[i];
			tens[i].dtype = f16 ? SAFETENSORS_F16 : SAFETENSORS_F32;
			tens[i].ndim = 4;
			tens[i].shape = shapes[i];
			tens[i].data = bufs[i];
		}
	}
	snprintf(shape_buf, sizeof shape_buf, "layers=%d heads=%d embd=%d len=%d steps=%d seed=%llu",
	    L, H, C, T, steps, (unsigned long long)o.seed);
	snprintf(losses, sizeof losses, "%.4f", ho1);
	meta[0] = (struct safetensors_kv){ "model", "loam byte-level GPT-2 (tests/tools/hedgehog-lm)" };
	meta[1] = (struct safetensors_kv){ "config", shape_buf };
	meta[2] = (struct safetensors_kv){ "train_text", files };
	meta[3] = (struct safetensors_kv){ "heldout_text", heldout };
	meta[4] = (struct safetensors_kv){ "heldout_loss_nats_per_byte", losses };
	meta[5] = (struct safetensors_kv){ "layout", "[sequence, head, position, head_dim], after the c_attn projection" };
	if (safetensors_write(o.output, tens, (size_t)nt, meta, 6) != 0)
		die("%s", loam_error());
	for (int i = 0; i < nt; i++) {
		free(names[i]);
		free(bufs[i]);
	}
	free(tens);
	free(shapes);
	free(bufs);
	free(tok);
	free(tgt);
	free(dlogits);
	free(text);
	free(ho);
	gpt_release(&m);
	return cli_exit();
}
