/* skillit - see skillit.h, which states the semantics step by step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skillit.h"
#include "util.h"

/* skillit_logits() and skillit_logits_ref() must round alike: a fused
 * multiply-add in one and not the other breaks their bit-for-bit
 * equality.  gcc -std=c11 never contracts (and warns about the pragma);
 * clang contracts by default. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

void
skillit_opts_default(struct skillit_opts *o)
{
	memset(o, 0, sizeof *o);
	o->eta = 0.2;
	o->window = 3;
	o->agg = SKILLIT_AGG_AUTO;
	o->binary = SKILLIT_BINARY_AUTO;
}

/* ---- kernels ---- */

void
skillit_logits_ref(const double *a, size_t k, size_t m, const double *x,
    double eta, const double *log_prior, double *z)
{
	size_t i, j;
	double s;

	for (i = 0; i < k; i++) {
		s = 0;
		for (j = 0; j < m; j++)
			s += a[i * m + j] * x[j];
		z[i] = (log_prior != NULL ? log_prior[i] : 0) + eta * s;
	}
}

/*
 * Column sweeps over the transpose: every z[i] still receives
 * a[i][0] x[0], a[i][1] x[1], ... in that order, so the sums are those of
 * skillit_logits_ref() to the bit (C11 mode keeps the compiler from
 * contracting the multiply-add), while the inner loop runs over
 * independent i and vectorises without reassociating anything.
 */
void
skillit_logits(const double *at, size_t k, size_t m, const double *x,
    double eta, const double *log_prior, double *z)
{
	double *restrict zz = z;
	const double *restrict col;
	size_t i, j;
	double xj;

	for (i = 0; i < k; i++)
		zz[i] = 0;
	for (j = 0; j < m; j++) {
		col = at + j * k;
		xj = x[j];
#pragma omp simd
		for (i = 0; i < k; i++)
			zz[i] += col[i] * xj;
	}
	for (i = 0; i < k; i++)
		zz[i] = (log_prior != NULL ? log_prior[i] : 0) + eta * zz[i];
}

int
skillit_softmax(double *z, size_t n)
{
	size_t i;
	double max = -INFINITY, sum = 0;

	for (i = 0; i < n; i++) {
		if (isnan(z[i]) || z[i] == INFINITY)
			return loam_seterr("mixture logit %zu is %g", i, z[i]);
		if (z[i] > max)
			max = z[i];
	}
	if (max == -INFINITY)
		return loam_seterr("mixture has no positive weight");
	/* exp(z - max) <= 1, one term is exactly 1: no overflow, and the
	 * sum is at least 1 */
	for (i = 0; i < n; i++) {
		z[i] = exp(z[i] - max);
		sum += z[i];
	}
	for (i = 0; i < n; i++)
		z[i] /= sum;
	return 0;
}

/* ---- preparing the graph ---- */

static int
check_weights(const char *what, const double *w, size_t k,
    const unsigned char *skip)
{
	size_t i;
	int positive = 0;

	for (i = 0; i < k; i++) {
		if (!isfinite(w[i]) || w[i] < 0)
			return loam_seterr("%s weight %zu is %g", what, i, w[i]);
		if (w[i] > 0 && (skip == NULL || !skip[i]))
			positive = 1;
	}
	if (!positive)
		return loam_seterr("%s has no positive weight", what);
	return 0;
}

static int
binary_graph(const double *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (g[i] != 0 && g[i] != 1)
			return 0;
	return 1;
}

/*
 * Steps 1 to 4 of skillit.h: out[k * mu] from graph[k * m], col[mu] and
 * self[mu] filled, mu = ntarget or m.  The caller has checked the
 * targets.  Returns whether the binary rule applied.
 */
static int
prepare(const double *graph, size_t k, size_t m,
    const struct skillit_opts *o, int static_mix, double *out, size_t *col,
    long *self)
{
	size_t i, j, mu = o->target != NULL ? o->ntarget : m;
	int binary;
	double v;

	switch (o->binary) {
	case SKILLIT_BINARY_YES:
		binary = 1;
		break;
	case SKILLIT_BINARY_NO:
		binary = 0;
		break;
	default:
		binary = binary_graph(graph, k * m);
		break;
	}
	for (j = 0; j < mu; j++) {
		col[j] = o->target != NULL ? o->target[j] : j;
		self[j] = k == m ? (long)col[j] : -1;
	}
	for (i = 0; i < k; i++)
		for (j = 0; j < mu; j++) {
			v = graph[i * m + col[j]];
			if (self[j] == (long)i) {
				if (static_mix)
					v = 1;
			} else if (binary && v == 1)
				v = 0.5;
			out[i * mu + j] = v;
		}
	return binary;
}

static int
check_args(const double *graph, size_t k, size_t m,
    const struct skillit_opts *o)
{
	size_t i, j, t;

	if (k == 0 || m == 0)
		return loam_seterr("empty skills graph (%zu x %zu)", k, m);
	for (i = 0; i < k; i++)
		for (j = 0; j < m; j++)
			if (!isfinite(graph[i * m + j]))
				return loam_seterr("graph entry [%zu][%zu] is "
				    "%g", i, j, graph[i * m + j]);
	if (!isfinite(o->eta))
		return loam_seterr("eta %g is not finite", o->eta);
	if (o->agg != SKILLIT_AGG_AUTO && o->agg != SKILLIT_AGG_SUM &&
	    o->agg != SKILLIT_AGG_MEAN)
		return loam_seterr("unknown aggregation %d", o->agg);
	if (o->binary != SKILLIT_BINARY_AUTO &&
	    o->binary != SKILLIT_BINARY_YES && o->binary != SKILLIT_BINARY_NO)
		return loam_seterr("unknown binary-graph mode %d", o->binary);
	if (o->target != NULL) {
		if (o->ntarget == 0)
			return loam_seterr("empty list of target skills");
		for (t = 0; t < o->ntarget; t++) {
			if (o->target[t] >= m)
				return loam_seterr("target skill %zu is not a "
				    "column of the %zu x %zu graph",
				    o->target[t], k, m);
			for (j = 0; j < t; j++)
				if (o->target[j] == o->target[t])
					return loam_seterr("target skill %zu "
					    "given twice", o->target[t]);
		}
	}
	if (o->ignore_lone_nodes && (k != m || o->target != NULL))
		return loam_seterr("ignore-lone-nodes needs a square graph "
		    "without target skills");
	if (o->static_mix && o->init != NULL)
		return loam_seterr("a static mixture cannot also be given "
		    "its initial weights");
	return 0;
}

/* Step 5: lone skills, on the prepared square graph; their columns are
 * then zeroed so that the products leave them out. */
static void
find_lone(struct skillit *s)
{
	size_t i, j, k = s->k;
	double row, col;

	for (i = 0; i < k; i++) {
		row = col = 0;
		for (j = 0; j < k; j++) {
			row += s->graph[i * k + j];
			col += s->graph[j * k + i];
		}
		if (s->graph[i * k + i] == 1 && row == 1 && col == 1) {
			s->lone[i] = 1;
			s->nlone++;
		}
	}
	for (i = 0; i < k; i++)
		if (s->lone[i])
			for (j = 0; j < k; j++)
				s->graph[j * k + i] = 0;
}

static void
transpose(struct skillit *s)
{
	size_t i, j;

	for (i = 0; i < s->k; i++)
		for (j = 0; j < s->m; j++)
			s->graph_t[j * s->k + i] = s->graph[i * s->m + j];
}

/*
 * The mixture from logits z[k] (overwritten): softmax over the skills
 * that are not lone, scaled to the mass 1 - nlone / k that the lone
 * skills' fixed 1/k each leave.  Written to p only on success.
 */
static int
mixture(const struct skillit *s, double *z, double *p)
{
	size_t i, k = s->k;
	double mass;

	if (s->nlone == k) {
		for (i = 0; i < k; i++)
			p[i] = 1.0 / (double)k;
		return 0;
	}
	for (i = 0; i < k; i++)
		if (s->lone[i])
			z[i] = -INFINITY;
	if (skillit_softmax(z, k) == -1)
		return -1;
	mass = 1 - (double)s->nlone / (double)k;
	for (i = 0; i < k; i++)
		p[i] = s->lone[i] ? 1.0 / (double)k :
		    s->nlone > 0 ? z[i] * mass : z[i];
	return 0;
}

void
skillit_release(struct skillit *s)
{
	free(s->graph);
	free(s->graph_t);
	free(s->col);
	free(s->self);
	free(s->log_prior);
	free(s->lone);
	free(s->p);
	free(s->ring);
	free(s->runsum);
	free(s->loss_first);
	free(s->loss_ref);
	free(s->loss_last);
	free(s->x);
	free(s->z);
	memset(s, 0, sizeof *s);
}

int
skillit_init(struct skillit *s, const double *graph, size_t k, size_t m,
    const struct skillit_opts *o)
{
	struct skillit_opts def;
	size_t i, j, mu;
	double sum;

	memset(s, 0, sizeof *s);
	if (o == NULL) {
		skillit_opts_default(&def);
		o = &def;
	}
	if (check_args(graph, k, m, o) == -1)
		return -1;
	mu = o->target != NULL ? o->ntarget : m;
	s->opts = *o;
	s->opts.target = NULL;
	s->opts.prior = NULL;
	s->opts.init = NULL;
	s->k = k;
	s->m_full = m;
	s->m = mu;
	s->agg = o->agg != SKILLIT_AGG_AUTO ? o->agg :
	    o->target != NULL ? SKILLIT_AGG_MEAN : SKILLIT_AGG_SUM;
	s->graph = xcalloc(k * mu, sizeof *s->graph);
	s->graph_t = xcalloc(k * mu, sizeof *s->graph_t);
	s->col = xcalloc(mu, sizeof *s->col);
	s->self = xcalloc(mu, sizeof *s->self);
	s->log_prior = xcalloc(k, sizeof *s->log_prior);
	s->lone = xcalloc(k, 1);
	s->p = xcalloc(k, sizeof *s->p);
	s->cap = o->window;
	s->runsum = xcalloc(mu, sizeof *s->runsum);
	s->loss_first = xcalloc(mu, sizeof *s->loss_first);
	s->loss_ref = xcalloc(mu, sizeof *s->loss_ref);
	s->loss_last = xcalloc(mu, sizeof *s->loss_last);
	s->x = xcalloc(mu, sizeof *s->x);
	s->z = xcalloc(k, sizeof *s->z);
	s->eta_last = o->eta;

	s->binary = prepare(graph, k, m, o, o->static_mix, s->graph, s->col,
	    s->self);
	if (o->ignore_lone_nodes)
		find_lone(s);
	transpose(s);

	if (o->prior != NULL) {
		if (check_weights("prior", o->prior, k, s->lone) == -1)
			goto fail;
		for (i = 0; i < k; i++)
			s->log_prior[i] = log(o->prior[i]);
	}
	if (o->init != NULL) {
		if (check_weights("initial mixture", o->init, k, NULL) == -1)
			goto fail;
		sum = 0;
		for (i = 0; i < k; i++)
			sum += o->init[i];
		for (i = 0; i < k; i++)
			s->p[i] = o->init[i] / sum;
		return 0;
	}
	/* p_1: the pseudo-loss 1 on every used column */
	for (j = 0; j < mu; j++)
		s->x[j] = 1;
	skillit_logits(s->graph_t, k, mu, s->x, o->eta, s->log_prior, s->z);
	if (mixture(s, s->z, s->p) == -1)
		goto fail;
	return 0;
fail:
	skillit_release(s);
	return -1;
}

const double *
skillit_weights(const struct skillit *s)
{
	return s->p;
}

/* ---- the online update ---- */

static void
push(struct skillit *s, const double *v)
{
	size_t j, m = s->m;

	if (s->cap == 0) {
		for (j = 0; j < m; j++)
			s->runsum[j] += v[j];
		s->nrun++;
		return;
	}
	if (s->nring < s->cap) {
		/* not full yet: head is 0 and the rows are in order;
		 * the rows double up to W (no overflow: cap / 2) */
		if (s->nring == s->ring_len) {
			s->ring_len = s->ring_len > s->cap / 2 ? s->cap :
			    s->ring_len > 0 ? 2 * s->ring_len : 4;
			if (s->ring_len > s->cap)
				s->ring_len = s->cap;
			s->ring = xreallocarray(s->ring, s->ring_len * m,
			    sizeof *s->ring);
		}
		memcpy(s->ring + s->nring * m, v, m * sizeof *v);
		s->nring++;
	} else {
		/* full: the oldest entry, at head, gives way */
		memcpy(s->ring + s->head * m, v, m * sizeof *v);
		s->head = (s->head + 1) % s->cap;
	}
}

int
skillit_observe(struct skillit *s, const double *losses)
{
	size_t j, m = s->m;
	double *v = s->x, *pseudo, mean;

	for (j = 0; j < m; j++) {
		v[j] = losses[s->col[j]];
		if (!isfinite(v[j]))
			return loam_seterr("loss of skill %zu is %g",
			    s->col[j], v[j]);
	}
	if (s->nevals == 0) {
		memcpy(s->loss_first, v, m * sizeof *v);
		memcpy(s->loss_ref, v, m * sizeof *v);
		if (s->opts.init_loss) {
			/* the reference's ones * mean(L^(1)), first in the
			 * history */
			pseudo = xcalloc(m, sizeof *pseudo);
			mean = 0;
			for (j = 0; j < m; j++)
				mean += v[j];
			mean /= (double)m;
			for (j = 0; j < m; j++)
				pseudo[j] = mean;
			push(s, pseudo);
			free(pseudo);
		}
	} else if (s->nevals == 1)
		memcpy(s->loss_ref, v, m * sizeof *v);
	memcpy(s->loss_last, v, m * sizeof *v);
	push(s, v);
	s->nevals++;
	return 0;
}

/* x = agg(window), used columns. */
static void
aggregate(struct skillit *s, double *x)
{
	size_t j, e, m = s->m, n;
	const double *row;

	if (s->cap == 0) {
		memcpy(x, s->runsum, m * sizeof *x);
		n = s->nrun;
	} else {
		for (j = 0; j < m; j++)
			x[j] = 0;
		for (e = 0; e < s->nring; e++) {
			row = s->ring + ((s->head + e) % s->cap) * m;
			for (j = 0; j < m; j++)
				x[j] += row[j];
		}
		n = s->nring;
	}
	if (s->agg == SKILLIT_AGG_MEAN)
		for (j = 0; j < m; j++)
			x[j] /= (double)n;
}

static void
dynamic_lambda(struct skillit *s)
{
	size_t i, j, k = s->k, m = s->m;

	for (i = 0; i < k; i++)
		for (j = 0; j < m; j++)
			if (s->graph[i * m + j] > 0 && s->self[j] != (long)i) {
				s->graph[i * m + j] /= 2;
				s->graph_t[j * k + i] /= 2;
			}
}

int
skillit_next(struct skillit *s, double *weights)
{
	size_t j, k = s->k, m = s->m;
	double eta = s->opts.eta, last, ref;
	double *x = s->x;

	if (s->opts.static_mix)
		goto done;
	if (s->nevals == 0)
		return loam_seterr("no evaluation before the end of the round");
	aggregate(s, x);
	if (s->opts.eta_schedule) {
		last = ref = 0;
		for (j = 0; j < m; j++) {
			last += s->loss_last[j];
			ref += s->loss_ref[j];
		}
		if (!(last > 0) || !(ref > 0))
			return loam_seterr("eta schedule: total losses %g "
			    "(latest) and %g (reference) must be positive",
			    last, ref);
		eta = s->opts.eta / (last / ref);
	}
	if (s->opts.normalize_loss)
		for (j = 0; j < m; j++) {
			if (s->self[j] >= 0 && s->lone[s->self[j]]) {
				x[j] = 0;
				continue;
			}
			if (!(s->loss_ref[j] > 0))
				return loam_seterr("normalize-loss: reference "
				    "loss of skill %zu is %g", s->col[j],
				    s->loss_ref[j]);
			x[j] /= s->loss_ref[j];
		}
	skillit_logits(s->graph_t, k, m, x, eta, s->log_prior, s->z);
	if (mixture(s, s->z, s->p) == -1)
		return -1;
	s->eta_last = eta;
	if (s->opts.dynamic_lambda)
		dynamic_lambda(s);
done:
	s->round++;
	if (weights != NULL)
		memcpy(weights, s->p, k * sizeof *weights);
	return 0;
}

int
skillit_update(struct skillit *s, const double *losses, double *weights)
{
	if (skillit_observe(s, losses) == -1)
		return -1;
	return skillit_next(s, weights);
}

/* ---- graph estimation ---- */

int
skillit_graph_linear(size_t k, size_t m, const double *before,
    const double *after, int relative, double *graph)
{
	size_t i, j, t;

	for (i = 0; i < k; i++)
		for (j = 0; j < m; j++) {
			t = i * m + j;
			if (!isfinite(before[t]) || !isfinite(after[t]))
				return loam_seterr("run %zu, skill %zu: loss %g "
				    "before, %g after", i, j, before[t],
				    after[t]);
			if (relative && !(before[t] > 0))
				return loam_seterr("run %zu, skill %zu: loss "
				    "before is %g, cannot divide by it", i, j,
				    before[t]);
			graph[t] = before[t] - after[t];
			if (relative)
				graph[t] /= before[t];
		}
	return 0;
}

double
skillit_steps_to_threshold(const double *step, const double *loss, size_t n,
    double threshold)
{
	size_t t;

	for (t = 0; t < n; t++)
		if (loss[t] <= threshold)
			return step[t];
	return INFINITY;
}

int
skillit_graph_pairwise(size_t k, const double *alone, const double *pair,
    const double *single, double *graph)
{
	size_t i, j;
	double a, b;

	for (j = 0; j < k; j++)
		if (isnan(alone[j]) || alone[j] < 0)
			return loam_seterr("skill %zu alone: step count %g", j,
			    alone[j]);
	for (i = 0; i < k; i++)
		for (j = 0; j < k; j++) {
			if (i == j) {
				graph[i * k + j] = 1;
				continue;
			}
			a = alone[j];
			b = pair[i * k + j];
			if (isnan(b) || b < 0)
				return loam_seterr("skills %zu and %zu: step "
				    "count %g", i, j, b);
			if (single != NULL && isnan(single[i * k + j]))
				return loam_seterr("skill %zu alone, loss "
				    "decrease on %zu is %g", i, j,
				    single[i * k + j]);
			graph[i * k + j] = b < a ||
			    (single != NULL && single[i * k + j] > 0) ?
			    SKILLIT_EDGE : 0;
		}
	return 0;
}

double
skillit_graph_density(const double *graph, size_t k, size_t m,
    size_t *edges, size_t *possible)
{
	size_t i, j, e = 0, n;

	for (i = 0; i < k; i++)
		for (j = 0; j < m; j++)
			if ((k != m || i != j) && graph[i * m + j] > 0)
				e++;
	n = k == m ? k * (k - 1) : k * m;
	if (edges != NULL)
		*edges = e;
	if (possible != NULL)
		*possible = n;
	return n > 0 ? (double)e / (double)n : 0;
}

int
skillit_graph_shape(double density)
{
	if (density < SKILLIT_NEARLY_EMPTY)
		return SKILLIT_GRAPH_NEARLY_EMPTY;
	if (density > SKILLIT_NEARLY_COMPLETE)
		return SKILLIT_GRAPH_NEARLY_COMPLETE;
	return SKILLIT_GRAPH_INTERMEDIATE;
}

/* ---- the closed loop ---- */

void
skillit_sim_step(const double *graph, size_t k, size_t m, const double *p,
    double c, double *loss)
{
	size_t i, j;
	double gain;

	for (j = 0; j < m; j++) {
		gain = 0;
		for (i = 0; i < k; i++)
			gain += graph[i * m + j] * p[i];
		loss[j] *= 1 - c * gain;
		if (loss[j] < 0)
			loss[j] = 0;
	}
}

void
skillit_sim_default(struct skillit_sim *sim)
{
	memset(sim, 0, sizeof *sim);
	sim->c = 0.3;
	sim->target = 0.1;
	sim->max_rounds = 1000;
}

static double
total(const double *v, size_t n)
{
	size_t j;
	double t = 0;

	for (j = 0; j < n; j++)
		t += v[j];
	return t;
}

enum { SIM_SKILLIT, SIM_RANDOM, SIM_STRATIFIED };

int
skillit_simulate(const double *graph, size_t k, size_t m,
    const struct skillit_opts *o, const struct skillit_sim *sim,
    struct skillit_sim_result *r)
{
	struct skillit s;
	struct skillit_opts def;
	double *dyn, *loss0, *loss, *full, *p, poolsum = 0;
	size_t i, j, t, mu, *col, *rounds[3];
	long *self;
	int strat, rc = -1;

	if (o == NULL) {
		skillit_opts_default(&def);
		o = &def;
	}
	if (!isfinite(sim->c) || !(sim->c > 0))
		return loam_seterr("simulation rate %g is not positive",
		    sim->c);
	if (!isfinite(sim->target) || sim->target < 0)
		return loam_seterr("simulation target %g", sim->target);
	if (sim->pool != NULL && check_weights("pool", sim->pool, k,
	    NULL) == -1)
		return -1;
	if (skillit_init(&s, graph, k, m, o) == -1)
		return -1;
	mu = s.m;
	dyn = xcalloc(k * mu, sizeof *dyn);
	col = xcalloc(mu, sizeof *col);
	self = xcalloc(mu, sizeof *self);
	loss0 = xcalloc(mu, sizeof *loss0);
	loss = xcalloc(mu, sizeof *loss);
	full = xcalloc(m, sizeof *full);
	p = xcalloc(k, sizeof *p);
	prepare(graph, k, m, o, 0, dyn, col, self);
	for (j = 0; j < mu; j++) {
		loss0[j] = sim->loss0 != NULL ? sim->loss0[col[j]] : 0.7;
		if (!isfinite(loss0[j]) || loss0[j] < 0) {
			loam_seterr("initial loss of skill %zu is %g", col[j],
			    loss0[j]);
			goto out;
		}
	}
	for (j = 0; j < m; j++)
		full[j] = NAN;
	if (sim->pool != NULL)
		poolsum = total(sim->pool, k);
	rounds[SIM_SKILLIT] = &r->skillit;
	rounds[SIM_RANDOM] = &r->random;
	rounds[SIM_STRATIFIED] = &r->stratified;
	for (strat = SIM_SKILLIT; strat <= SIM_STRATIFIED; strat++) {
		memcpy(loss, loss0, mu * sizeof *loss);
		for (i = 0; i < k; i++)
			p[i] = strat == SIM_SKILLIT ? s.p[i] :
			    strat == SIM_RANDOM && sim->pool != NULL ?
			    sim->pool[i] / poolsum : 1.0 / (double)k;
		*rounds[strat] = SKILLIT_SIM_NEVER;
		for (t = 0; ; t++) {
			if (total(loss, mu) <= sim->target) {
				*rounds[strat] = t;
				break;
			}
			if (t == sim->max_rounds)
				break;
			skillit_sim_step(dyn, k, mu, p, sim->c, loss);
			if (strat != SIM_SKILLIT)
				continue;
			for (j = 0; j < mu; j++)
				full[col[j]] = loss[j];
			if (skillit_update(&s, full, p) == -1)
				goto out;
		}
		r->final[strat] = total(loss, mu);
	}
	rc = 0;
out:
	skillit_release(&s);
	free(dyn);
	free(col);
	free(self);
	free(loss0);
	free(loss);
	free(full);
	free(p);
	return rc;
}
