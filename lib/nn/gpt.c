/*
 * gpt - GPT-2 style decoder over lib/nn; see gpt.h.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"
#include "rng.h"
#include "util.h"

/* ---- parameter table ---- */

static void
add_tensor(struct gpt *m, size_t *cap, const char *name, int ndim, size_t d0,
    size_t d1)
{
	struct gpt_tensor *t;

	if (m->ntensors == *cap) {
		*cap = *cap ? 2 * *cap : 32;
		m->tensors = xreallocarray(m->tensors, *cap, sizeof *m->tensors);
	}
	t = &m->tensors[m->ntensors++];
	t->name = xstrdup(name);
	t->ndim = ndim;
	t->shape[0] = d0;
	t->shape[1] = ndim > 1 ? d1 : 1;
	t->count = d0 * t->shape[1];
	t->offset = m->nparams;
	m->nparams += t->count;
}

/* Point w's fields into block, in the order the table was built. */
static void
bind_weights(const struct gpt *m, float *block, struct gpt_weights *w)
{
	const struct gpt_tensor *t = m->tensors;
	int L = m->cfg.n_layer;

#define NEXT (block + (t++)->offset)
	if (m->cfg.vocab > 0) {
		w->in_w = w->in_b = NULL;
		w->wte = NEXT;
	} else {
		w->wte = NULL;
		w->in_w = NEXT;
		w->in_b = NEXT;
	}
	w->wpe = NEXT;
	for (int l = 0; l < L; l++) {
		struct gpt_layer *y = &w->layers[l];
		y->ln1_w = NEXT; y->ln1_b = NEXT;
		y->qkv_w = NEXT; y->qkv_b = NEXT;
		y->proj_w = NEXT; y->proj_b = NEXT;
		y->ln2_w = NEXT; y->ln2_b = NEXT;
		y->fc_w = NEXT; y->fc_b = NEXT;
		y->fcproj_w = NEXT; y->fcproj_b = NEXT;
	}
	w->lnf_w = NEXT; w->lnf_b = NEXT;
	w->out_w = NEXT; w->out_b = NEXT;
#undef NEXT
}

int
gpt_init(struct gpt *m, const struct gpt_config *cfg)
{
	size_t cap = 0, C;
	char name[96];

	memset(m, 0, sizeof *m);
	if (cfg->n_layer < 1 || cfg->n_head < 1 || cfg->n_embd < 1 ||
	    cfg->max_len < 1 || cfg->n_out < 1)
		return loam_seterr("bad model size: layers %d, heads %d, width %d, "
		    "positions %d, outputs %d", cfg->n_layer, cfg->n_head,
		    cfg->n_embd, cfg->max_len, cfg->n_out);
	if (cfg->n_embd % cfg->n_head != 0)
		return loam_seterr("width %d is not a multiple of %d heads",
		    cfg->n_embd, cfg->n_head);
	if ((cfg->n_in > 0) == (cfg->vocab > 0))
		return loam_seterr("a model reads either vectors (n_in) or tokens "
		    "(vocab): n_in %d, vocab %d", cfg->n_in, cfg->vocab);
	m->cfg = *cfg;
	C = (size_t)cfg->n_embd;
	if (cfg->vocab > 0)
		add_tensor(m, &cap, "_backbone.wte.weight", 2, (size_t)cfg->vocab, C);
	else {
		add_tensor(m, &cap, "_read_in.weight", 2, C, (size_t)cfg->n_in);
		add_tensor(m, &cap, "_read_in.bias", 1, C, 0);
	}
	add_tensor(m, &cap, "_backbone.wpe.weight", 2, (size_t)cfg->max_len, C);
	for (int l = 0; l < cfg->n_layer; l++) {
#define LAYER(suffix, nd, a, b) \
	snprintf(name, sizeof name, "_backbone.h.%d.%s", l, suffix), \
	add_tensor(m, &cap, name, nd, a, b)
		LAYER("ln_1.weight", 1, C, 0);
		LAYER("ln_1.bias", 1, C, 0);
		LAYER("attn.c_attn.weight", 2, C, 3 * C);
		LAYER("attn.c_attn.bias", 1, 3 * C, 0);
		LAYER("attn.c_proj.weight", 2, C, C);
		LAYER("attn.c_proj.bias", 1, C, 0);
		LAYER("ln_2.weight", 1, C, 0);
		LAYER("ln_2.bias", 1, C, 0);
		LAYER("mlp.c_fc.weight", 2, C, 4 * C);
		LAYER("mlp.c_fc.bias", 1, 4 * C, 0);
		LAYER("mlp.c_proj.weight", 2, 4 * C, C);
		LAYER("mlp.c_proj.bias", 1, C, 0);
#undef LAYER
	}
	add_tensor(m, &cap, "_backbone.ln_f.weight", 1, C, 0);
	add_tensor(m, &cap, "_backbone.ln_f.bias", 1, C, 0);
	add_tensor(m, &cap, "_read_out.weight", 2, (size_t)cfg->n_out, C);
	add_tensor(m, &cap, "_read_out.bias", 1, (size_t)cfg->n_out, 0);

	m->params = xcalloc(m->nparams, sizeof *m->params);
	m->w.layers = xcalloc((size_t)cfg->n_layer, sizeof *m->w.layers);
	m->g.layers = xcalloc((size_t)cfg->n_layer, sizeof *m->g.layers);
	bind_weights(m, m->params, &m->w);
	return 0;
}

static void
acts_release(struct gpt_acts *a)
{
	free(a->block);
	free(a->layers);
	memset(a, 0, sizeof *a);
}

void
gpt_release(struct gpt *m)
{
	for (size_t i = 0; i < m->ntensors; i++)
		free(m->tensors[i].name);
	free(m->tensors);
	free(m->params);
	free(m->grads);
	free(m->adam_m);
	free(m->adam_v);
	free(m->w.layers);
	free(m->g.layers);
	acts_release(&m->a);
	memset(m, 0, sizeof *m);
}

static void
fill_normal(float *p, size_t n, double sd, struct rng *r)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (float)(sd * rng_normal(r));
}

static void
fill_uniform(float *p, size_t n, double bound, struct rng *r)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (float)(bound * (2.0 * rng_uniform(r) - 1.0));
}

static void
fill_const(float *p, size_t n, float v)
{
	for (size_t i = 0; i < n; i++)
		p[i] = v;
}

void
gpt_init_weights(struct gpt *m, uint64_t seed)
{
	const struct gpt_config *c = &m->cfg;
	size_t C = (size_t)c->n_embd;
	double sd = 0.02, sd_res = 0.02 / sqrt(2.0 * c->n_layer);
	struct rng r;

	/* One substream per tensor, so that a tensor's values do not depend
	 * on the sizes of those before it. */
	memset(m->params, 0, m->nparams * sizeof *m->params);
	for (size_t i = 0; i < m->ntensors; i++) {
		const struct gpt_tensor *t = &m->tensors[i];
		float *p = m->params + t->offset;
		const char *n = t->name;
		size_t len = strlen(n);
		rng_init(&r, seed, RNG_GPT_INIT, i);
		if (strncmp(n, "_read_", 6) == 0) {
			size_t fan_in = strstr(n, "_read_in") ? (size_t)c->n_in : C;
			fill_uniform(p, t->count, 1.0 / sqrt((double)fan_in), &r);
		} else if (len > 5 && strcmp(n + len - 5, ".bias") == 0)
			;	/* zero */
		else if (strstr(n, "ln_") != NULL)
			fill_const(p, t->count, 1.0f);
		else if (strstr(n, "c_proj.weight") != NULL)
			fill_normal(p, t->count, sd_res, &r);
		else
			fill_normal(p, t->count, sd, &r);
	}
}

void
gpt_train_init(struct gpt *m)
{
	if (m->grads == NULL) {
		m->grads = xcalloc(m->nparams, sizeof *m->grads);
		bind_weights(m, m->grads, &m->g);
	}
	if (m->adam_m == NULL) {
		m->adam_m = xcalloc(m->nparams, sizeof *m->adam_m);
		m->adam_v = xcalloc(m->nparams, sizeof *m->adam_v);
	}
}

/* ---- activations ---- */

static void
acts_alloc(struct gpt *m, size_t B, size_t T)
{
	struct gpt_acts *a = &m->a;
	size_t L = (size_t)m->cfg.n_layer, C = (size_t)m->cfg.n_embd;
	size_t NH = (size_t)m->cfg.n_head, N = B * T;
	size_t per_layer = 16 * N * C + 4 * N + NH * B * T * T;
	size_t total = L * per_layer + 2 * N * C + 2 * N +
	    N * (size_t)m->cfg.n_out + 14 * N * C;
	float *p;

	if (a->block != NULL && a->B == B && a->T == T)
		return;
	acts_release(a);
	a->B = B;
	a->T = T;
	a->block = xmalloc(total * sizeof *a->block);
	a->layers = xcalloc(L, sizeof *a->layers);
	p = a->block;
#define TAKE(n) (p += (n), p - (n))
	a->x0 = TAKE(N * C);
	for (size_t l = 0; l < L; l++) {
		struct gpt_layer_acts *y = &a->layers[l];
		y->ln1 = TAKE(N * C);
		y->ln1_mean = TAKE(N);
		y->ln1_rstd = TAKE(N);
		y->qkv = TAKE(3 * N * C);
		y->att = TAKE(NH * B * T * T);
		y->atty = TAKE(N * C);
		y->res2 = TAKE(N * C);
		y->ln2 = TAKE(N * C);
		y->ln2_mean = TAKE(N);
		y->ln2_rstd = TAKE(N);
		y->fch = TAKE(4 * N * C);
		y->fchg = TAKE(4 * N * C);
		y->res3 = TAKE(N * C);
	}
	a->lnf = TAKE(N * C);
	a->lnf_mean = TAKE(N);
	a->lnf_rstd = TAKE(N);
	a->logits = TAKE(N * (size_t)m->cfg.n_out);
	a->dres = TAKE(N * C);
	a->dln = TAKE(N * C);
	a->dqkv = TAKE(3 * N * C);
	a->datty = TAKE(N * C);
	a->dfch = TAKE(4 * N * C);
	a->dfchg = TAKE(4 * N * C);
#undef TAKE
}

/* Input embedding: x0 = read_in(x) or wte[tokens], plus positions. */
static void
embed_forward(struct gpt *m, float *x0, const float *x, const int *tokens,
    size_t B, size_t T)
{
	size_t C = (size_t)m->cfg.n_embd, N = B * T;

	if (tokens != NULL)
		for (size_t i = 0; i < N; i++)
			memcpy(x0 + i * C, m->w.wte + (size_t)tokens[i] * C,
			    C * sizeof *x0);
	else
		nn_linear_forward(x0, x, m->w.in_w, m->w.in_b, N, (size_t)m->cfg.n_in,
		    C, NN_OUT_IN);
	for (size_t b = 0; b < B; b++)
		for (size_t t = 0; t < T; t++) {
			float *row = x0 + (b * T + t) * C;
			const float *pos = m->w.wpe + t * C;
			for (size_t c = 0; c < C; c++)
				row[c] += pos[c];
		}
}

/* y += x, n floats */
static void
add_into(float *y, const float *x, size_t n)
{
	nn_residual_forward(y, y, x, n);
}

void
gpt_forward(struct gpt *m, const float *x, const int *tokens, size_t B,
    size_t T)
{
	const struct gpt_config *cf = &m->cfg;
	size_t C = (size_t)cf->n_embd, NH = (size_t)cf->n_head, N = B * T;
	struct gpt_acts *a;
	const float *res;

	acts_alloc(m, B, T);
	a = &m->a;
	embed_forward(m, a->x0, x, tokens, B, T);
	res = a->x0;
	for (int l = 0; l < cf->n_layer; l++) {
		const struct gpt_layer *w = &m->w.layers[l];
		struct gpt_layer_acts *y = &a->layers[l];
		nn_layernorm_forward(y->ln1, y->ln1_mean, y->ln1_rstd, res, w->ln1_w,
		    w->ln1_b, N, C);
		nn_linear_forward(y->qkv, y->ln1, w->qkv_w, w->qkv_b, N, C, 3 * C,
		    NN_IN_OUT);
		nn_attention_forward(y->atty, y->att, y->qkv, B, T, C, NH);
		nn_linear_forward(y->res2, y->atty, w->proj_w, w->proj_b, N, C, C,
		    NN_IN_OUT);
		add_into(y->res2, res, N * C);
		nn_layernorm_forward(y->ln2, y->ln2_mean, y->ln2_rstd, y->res2,
		    w->ln2_w, w->ln2_b, N, C);
		nn_linear_forward(y->fch, y->ln2, w->fc_w, w->fc_b, N, C, 4 * C,
		    NN_IN_OUT);
		nn_gelu_forward(y->fchg, y->fch, 4 * N * C);
		nn_linear_forward(y->res3, y->fchg, w->fcproj_w, w->fcproj_b, N, 4 * C,
		    C, NN_IN_OUT);
		add_into(y->res3, y->res2, N * C);
		res = y->res3;
	}
	nn_layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, res, m->w.lnf_w,
	    m->w.lnf_b, N, C);
	nn_linear_forward(a->logits, a->lnf, m->w.out_w, m->w.out_b, N, C,
	    (size_t)cf->n_out, NN_OUT_IN);
}

void
gpt_zero_grad(struct gpt *m)
{
	memset(m->grads, 0, m->nparams * sizeof *m->grads);
}

void
gpt_backward(struct gpt *m, const float *dlogits, const float *x,
    const int *tokens)
{
	const struct gpt_config *cf = &m->cfg;
	struct gpt_acts *a = &m->a;
	size_t B = a->B, T = a->T, N = B * T;
	size_t C = (size_t)cf->n_embd, NH = (size_t)cf->n_head;
	int L = cf->n_layer;
	const float *res_last = a->layers[L - 1].res3;

	memset(a->dln, 0, N * C * sizeof *a->dln);
	nn_linear_backward(a->dln, m->g.out_w, m->g.out_b, dlogits, a->lnf,
	    m->w.out_w, N, C, (size_t)cf->n_out, NN_OUT_IN);
	memset(a->dres, 0, N * C * sizeof *a->dres);
	nn_layernorm_backward(a->dres, m->g.lnf_w, m->g.lnf_b, a->dln, res_last,
	    m->w.lnf_w, a->lnf_mean, a->lnf_rstd, N, C);

	for (int l = L - 1; l >= 0; l--) {
		const struct gpt_layer *w = &m->w.layers[l];
		const struct gpt_layer *g = &m->g.layers[l];
		const struct gpt_layer_acts *y = &a->layers[l];
		const float *res_in = l == 0 ? a->x0 : a->layers[l - 1].res3;

		/* res3 = res2 + fcproj(gelu(fc(ln2(res2)))); dres is d res3 and
		 * becomes d res2 (the residual passes it through). */
		memset(a->dfchg, 0, 4 * N * C * sizeof *a->dfchg);
		nn_linear_backward(a->dfchg, g->fcproj_w, g->fcproj_b, a->dres,
		    y->fchg, w->fcproj_w, N, 4 * C, C, NN_IN_OUT);
		memset(a->dfch, 0, 4 * N * C * sizeof *a->dfch);
		nn_gelu_backward(a->dfch, y->fch, a->dfchg, 4 * N * C);
		memset(a->dln, 0, N * C * sizeof *a->dln);
		nn_linear_backward(a->dln, g->fc_w, g->fc_b, a->dfch, y->ln2, w->fc_w,
		    N, C, 4 * C, NN_IN_OUT);
		nn_layernorm_backward(a->dres, g->ln2_w, g->ln2_b, a->dln, y->res2,
		    w->ln2_w, y->ln2_mean, y->ln2_rstd, N, C);

		/* res2 = res_in + proj(attn(qkv(ln1(res_in)))) */
		memset(a->datty, 0, N * C * sizeof *a->datty);
		nn_linear_backward(a->datty, g->proj_w, g->proj_b, a->dres, y->atty,
		    w->proj_w, N, C, C, NN_IN_OUT);
		memset(a->dqkv, 0, 3 * N * C * sizeof *a->dqkv);
		nn_attention_backward(a->dqkv, a->datty, y->qkv, y->att, B, T, C, NH);
		memset(a->dln, 0, N * C * sizeof *a->dln);
		nn_linear_backward(a->dln, g->qkv_w, g->qkv_b, a->dqkv, y->ln1,
		    w->qkv_w, N, C, 3 * C, NN_IN_OUT);
		nn_layernorm_backward(a->dres, g->ln1_w, g->ln1_b, a->dln, res_in,
		    w->ln1_w, y->ln1_mean, y->ln1_rstd, N, C);
	}

	/* x0 = read_in(x) or wte[tokens], + wpe */
	for (size_t t = 0; t < T; t++) {
		float *dp = m->g.wpe + t * C;
		for (size_t b = 0; b < B; b++) {
			const float *d = a->dres + (b * T + t) * C;
			for (size_t c = 0; c < C; c++)
				dp[c] += d[c];
		}
	}
	if (tokens != NULL)
		for (size_t i = 0; i < N; i++) {
			float *dw = m->g.wte + (size_t)tokens[i] * C;
			const float *d = a->dres + i * C;
			for (size_t c = 0; c < C; c++)
				dw[c] += d[c];
		}
	else
		nn_linear_backward(NULL, m->g.in_w, m->g.in_b, a->dres, x, m->w.in_w,
		    N, (size_t)cf->n_in, C, NN_OUT_IN);
}

void
gpt_adam_step(struct gpt *m, const struct nn_adamw *opt)
{
	m->adam_t++;
	nn_adamw_update(opt, m->params, m->grads, m->adam_m, m->adam_v, m->nparams,
	    m->adam_t);
}

const float *
gpt_layer_qkv(const struct gpt *m, int l)
{
	return m->a.layers[l].qkv;
}

/* ---- prefix cache ---- */

void
gpt_cache_prefix(struct gpt *m, struct gpt_cache *c, const float *x, size_t P)
{
	size_t C = (size_t)m->cfg.n_embd, L = (size_t)m->cfg.n_layer;

	c->len = P;
	c->k = xmalloc(L * P * C * sizeof *c->k + 1);
	c->v = xmalloc(L * P * C * sizeof *c->v + 1);
	if (P == 0)
		return;
	gpt_forward(m, x, NULL, 1, P);
	for (size_t l = 0; l < L; l++) {
		const float *qkv = m->a.layers[l].qkv;
		for (size_t t = 0; t < P; t++) {
			memcpy(c->k + (l * P + t) * C, qkv + t * 3 * C + C, C * sizeof *c->k);
			memcpy(c->v + (l * P + t) * C, qkv + t * 3 * C + 2 * C,
			    C * sizeof *c->v);
		}
	}
}

void
gpt_cache_release(struct gpt_cache *c)
{
	free(c->k);
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* Queries at a time: bounds the score matrix to QCHUNK x (P + 1). */
#define QCHUNK 1024

void
gpt_cache_query(struct gpt *m, const struct gpt_cache *c, const float *xq,
    size_t Q, float *logits)
{
	const struct gpt_config *cf = &m->cfg;
	size_t C = (size_t)cf->n_embd, NH = (size_t)cf->n_head, hs = C / NH;
	size_t P = c->len, n_out = (size_t)cf->n_out, n_in = (size_t)cf->n_in;
	size_t S = P + 1, cap = Q < QCHUNK ? Q : QCHUNK;
	float scale = 1.0f / sqrtf((float)hs);
	float *x = xmalloc(cap * C * sizeof *x), *ln = xmalloc(cap * C * sizeof *ln);
	float *qkv = xmalloc(cap * 3 * C * sizeof *qkv);
	float *y = xmalloc(cap * C * sizeof *y), *h = xmalloc(cap * 4 * C * sizeof *h);
	float *hg = xmalloc(cap * 4 * C * sizeof *hg), *tmp = xmalloc(cap * C * sizeof *tmp);
	float *sc = xmalloc(cap * S * sizeof *sc);
	float *mean = xmalloc(cap * sizeof *mean), *rstd = xmalloc(cap * sizeof *rstd);

	for (size_t q0 = 0; q0 < Q; q0 += cap) {
		size_t n = Q - q0 < cap ? Q - q0 : cap;
		nn_linear_forward(x, xq + q0 * n_in, m->w.in_w, m->w.in_b, n, n_in, C,
		    NN_OUT_IN);
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < C; j++)
				x[i * C + j] += m->w.wpe[P * C + j];
		for (int l = 0; l < cf->n_layer; l++) {
			const struct gpt_layer *w = &m->w.layers[l];
			const float *kc = c->k + (size_t)l * P * C;
			const float *vc = c->v + (size_t)l * P * C;
			nn_layernorm_forward(ln, mean, rstd, x, w->ln1_w, w->ln1_b, n, C);
			nn_linear_forward(qkv, ln, w->qkv_w, w->qkv_b, n, C, 3 * C,
			    NN_IN_OUT);
			for (size_t hd = 0; hd < NH; hd++) {
				const float *qh = qkv + hd * hs;
				/* scores against the prefix, then against itself */
				if (P > 0)
					cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
					    (int)n, (int)P, (int)hs, scale, qh, (int)(3 * C),
					    kc + hd * hs, (int)C, 0.0f, sc, (int)S);
				#pragma omp parallel for if (n * S > 65536)
				for (size_t i = 0; i < n; i++) {
					float *row = sc + i * S, s = 0.0f, mx, sum = 0.0f;
					const float *qi = qkv + i * 3 * C + hd * hs;
					for (size_t d = 0; d < hs; d++)
						s += qi[d] * qi[C + d];
					row[P] = s * scale;
					mx = row[0];
					for (size_t j = 1; j < S; j++)
						if (row[j] > mx)
							mx = row[j];
					for (size_t j = 0; j < S; j++) {
						row[j] = expf(row[j] - mx);
						sum += row[j];
					}
					for (size_t j = 0; j < S; j++)
						row[j] /= sum;
					float *yi = y + i * C + hd * hs;
					const float *vi = qi + 2 * C;
					for (size_t d = 0; d < hs; d++)
						yi[d] = row[P] * vi[d];
				}
				if (P > 0)
					cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
					    (int)n, (int)hs, (int)P, 1.0f, sc, (int)S,
					    vc + hd * hs, (int)C, 1.0f, y + hd * hs, (int)C);
			}
			nn_linear_forward(tmp, y, w->proj_w, w->proj_b, n, C, C, NN_IN_OUT);
			add_into(x, tmp, n * C);
			nn_layernorm_forward(ln, mean, rstd, x, w->ln2_w, w->ln2_b, n, C);
			nn_linear_forward(h, ln, w->fc_w, w->fc_b, n, C, 4 * C, NN_IN_OUT);
			nn_gelu_forward(hg, h, 4 * n * C);
			nn_linear_forward(tmp, hg, w->fcproj_w, w->fcproj_b, n, 4 * C, C,
			    NN_IN_OUT);
			add_into(x, tmp, n * C);
		}
		nn_layernorm_forward(ln, mean, rstd, x, m->w.lnf_w, m->w.lnf_b, n, C);
		nn_linear_forward(logits + q0 * n_out, ln, m->w.out_w, m->w.out_b, n, C,
		    n_out, NN_OUT_IN);
	}
	free(x); free(ln); free(qkv); free(y); free(h); free(hg); free(tmp);
	free(sc); free(mean); free(rstd);
}

/* ---- checkpoints ---- */

static const char *const config_keys[] = {
	"n_in", "vocab", "n_positions", "n_layer", "n_head", "n_embd", "n_out"
};

static int *
config_field(struct gpt_config *c, size_t i)
{
	int *f[] = { &c->n_in, &c->vocab, &c->max_len, &c->n_layer, &c->n_head,
	    &c->n_embd, &c->n_out };
	return f[i];
}

int
gpt_config_from_meta(struct gpt_config *cfg, const struct safetensors *st)
{
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < sizeof config_keys / sizeof *config_keys; i++) {
		const char *v = safetensors_meta(st, config_keys[i]);
		char *end;
		long n;
		if (v == NULL)
			return loam_seterr("%s: no '%s' in __metadata__ (not a loam "
			    "model file?)", st->name, config_keys[i]);
		n = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || n < 0 || n > 1L << 30)
			return loam_seterr("%s: bad __metadata__ %s '%s'", st->name,
			    config_keys[i], v);
		*config_field(cfg, i) = (int)n;
	}
	return 0;
}

int
gpt_config_from_tensors(struct gpt_config *cfg, const struct safetensors *st,
    int n_head)
{
	const struct safetensors_tensor *wpe, *in, *out;
	char name[64];

	memset(cfg, 0, sizeof *cfg);
	wpe = safetensors_find(st, "_backbone.wpe.weight");
	in = safetensors_find(st, "_read_in.weight");
	out = safetensors_find(st, "_read_out.weight");
	if (wpe == NULL || in == NULL || out == NULL || wpe->ndim != 2 ||
	    in->ndim != 2 || out->ndim != 2)
		return loam_seterr("%s: not a TART model: needs _read_in.weight, "
		    "_backbone.wpe.weight and _read_out.weight", st->name);
	cfg->max_len = (int)wpe->shape[0];
	cfg->n_embd = (int)wpe->shape[1];
	cfg->n_in = (int)in->shape[1];
	cfg->n_out = (int)out->shape[0];
	cfg->n_head = n_head;
	for (;;) {
		snprintf(name, sizeof name, "_backbone.h.%d.ln_1.weight", cfg->n_layer);
		if (safetensors_find(st, name) == NULL)
			break;
		cfg->n_layer++;
	}
	return 0;
}

int
gpt_save(const struct gpt *m, const char *path, int which,
    const struct safetensors_kv *meta, size_t nmeta)
{
	size_t nk = sizeof config_keys / sizeof *config_keys;
	const float *block = which == 0 ? m->params : which == 1 ? m->adam_m :
	    m->adam_v;
	struct safetensors_tensor *t = xcalloc(m->ntensors, sizeof *t);
	struct safetensors_kv *kv = xcalloc(nk + nmeta, sizeof *kv);
	char (*num)[24] = xcalloc(nk, sizeof *num);
	struct gpt_config cfg = m->cfg;
	int rc;

	for (size_t i = 0; i < m->ntensors; i++) {
		t[i].name = m->tensors[i].name;
		t[i].dtype = SAFETENSORS_F32;
		t[i].ndim = m->tensors[i].ndim;
		t[i].shape = m->tensors[i].shape;
		t[i].data = block + m->tensors[i].offset;
	}
	for (size_t i = 0; i < nk; i++) {
		snprintf(num[i], sizeof num[i], "%d", *config_field(&cfg, i));
		kv[i].key = config_keys[i];
		kv[i].value = num[i];
	}
	for (size_t i = 0; i < nmeta; i++)
		kv[nk + i] = meta[i];
	rc = safetensors_write(path, t, m->ntensors, kv, nk + nmeta);
	free(t);
	free(kv);
	free(num);
	return rc;
}

int
gpt_load(struct gpt *m, const struct safetensors *st, int which)
{
	float *block = which == 0 ? m->params : which == 1 ? m->adam_m : m->adam_v;

	for (size_t i = 0; i < m->ntensors; i++) {
		const struct gpt_tensor *want = &m->tensors[i];
		const struct safetensors_tensor *t = safetensors_find(st, want->name);
		if (t == NULL)
			return loam_seterr("%s: no tensor '%s'", st->name, want->name);
		if (t->dtype != SAFETENSORS_F32)
			return loam_seterr("%s: tensor '%s' is %s, not F32", st->name,
			    want->name, safetensors_dtype_name(t->dtype));
		if (t->ndim != want->ndim || t->shape[0] != want->shape[0] ||
		    (t->ndim > 1 && t->shape[1] != want->shape[1]))
			return loam_seterr("%s: tensor '%s' has %d dimensions (%zu, %zu), "
			    "expected (%zu, %zu)", st->name, want->name, t->ndim,
			    t->ndim > 0 ? t->shape[0] : 1, t->ndim > 1 ? t->shape[1] : 1,
			    want->shape[0], want->shape[1]);
		memcpy(block + want->offset, t->data, want->count * sizeof *block);
	}
	return 0;
}

int
gpt_save_adam(const struct gpt *m, const char *path, const char *step)
{
	size_t n = m->ntensors;
	struct safetensors_tensor *t = xcalloc(2 * n, sizeof *t);
	char **names = xcalloc(2 * n, sizeof *names), adam_t[32];
	struct safetensors_kv meta[] = { { "step", step }, { "adam_t", adam_t } };
	int rc;

	snprintf(adam_t, sizeof adam_t, "%ld", m->adam_t);
	for (size_t i = 0; i < 2 * n; i++) {
		const struct gpt_tensor *g = &m->tensors[i % n];
		const char *pre = i < n ? "exp_avg." : "exp_avg_sq.";
		names[i] = xmalloc(strlen(pre) + strlen(g->name) + 1);
		strcpy(names[i], pre);
		strcat(names[i], g->name);
		t[i].name = names[i];
		t[i].dtype = SAFETENSORS_F32;
		t[i].ndim = g->ndim;
		t[i].shape = g->shape;
		t[i].data = (i < n ? m->adam_m : m->adam_v) + g->offset;
	}
	rc = safetensors_write(path, t, 2 * n, meta, 2);
	for (size_t i = 0; i < 2 * n; i++)
		free(names[i]);
	free(names);
	free(t);
	return rc;
}

int
gpt_load_adam(struct gpt *m, const struct safetensors *st, long step)
{
	const char *s = safetensors_meta(st, "step"), *at = safetensors_meta(st, "adam_t");
	char *name = NULL;
	int rc = 0;

	if (s == NULL || at == NULL || atol(s) != step)
		return loam_seterr("%s: Adam state is from step %s, the model from "
		    "step %ld", st->name, s != NULL ? s : "(none)", step);
	m->adam_t = atol(at);
	for (size_t i = 0; i < 2 * m->ntensors && rc == 0; i++) {
		const struct gpt_tensor *g = &m->tensors[i % m->ntensors];
		const char *pre = i < m->ntensors ? "exp_avg." : "exp_avg_sq.";
		const struct safetensors_tensor *t;
		name = xrealloc(name, strlen(pre) + strlen(g->name) + 1);
		strcpy(name, pre);
		strcat(name, g->name);
		t = safetensors_find(st, name);
		if (t == NULL || t->dtype != SAFETENSORS_F32 ||
		    t->nbytes != g->count * sizeof(float))
			rc = loam_seterr("%s: tensor '%s' missing or of the wrong "
			    "type or size", st->name, name);
		else
			memcpy((i < m->ntensors ? m->adam_m : m->adam_v) + g->offset,
			    t->data, t->nbytes);
	}
	free(name);
	return rc;
}
