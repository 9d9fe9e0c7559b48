/*
 * skillit_test - lib/skillit: the golden vectors V1-V12 of
 * research/skillit-cookbook.md §A4.3 (the shipped graphs under
 * testdata/external), the three settings of §A1.2, every variant on a
 * case worked by hand, log-sum-exp at a huge eta, the fast kernel
 * against the plain one, graph estimation on loss logs made from a
 * known graph, the idealised closed loop on the LEGO graph, the
 * refusals, and the time of one round at k = 1000.  Run from the
 * repository root.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "npy.h"
#include "rng.h"
#include "skillit.h"
#include "tap.h"
#include "util.h"

#define EXT	"testdata/external/skillit-graphs/"
#define TOL6	5e-7		/* "to 6 decimals": half a unit in the 6th */

/* The reference's flattened LEGO pre-training graph (§A2): skill 1 helps
 * 0, 2 and 3; the off-diagonal 1s become 0.5 (V1). */
static const double lego[25] = {
	1, 0, 0, 0, 0,
	1, 1, 1, 1, 0,
	0, 0, 1, 0, 0,
	0, 0, 0, 1, 0,
	0, 0, 0, 0, 1,
};

/* Aioli's SlimPajama graphs, seed 0 (HazyResearch/aioli at 910d524,
 * skillit_graphs/slimpj_arxiv_stackexchange_normalized_seed_0.npy and
 * slimpj_arxiv_book_stackexchange_normalized_seed_0.npy; the values as
 * numpy prints them with %.17g).  Not in testdata/external, so
 * embedded here. */
static const double aioli2[4] = {
	0.75759289419712883, 0.522238425082027,
	0.66775244299674275, 0.71892088953700328,
};
static const double aioli3[9] = {
	0.75759289419712883, 0.42830123796423664, 0.522238425082027,
	0.42260827602847151, 0.64163514442916092, 0.47969376594969015,
	0.67128875618289297, 0.49853851444291614, 0.72143638352169159,
};

static void
is_vec(const double *got, const double *want, size_t n, double tol,
    const char *name)
{
	size_t i, worst = 0;
	double d, maxd = 0;

	for (i = 0; i < n; i++) {
		d = fabs(got[i] - want[i]);
		if (!(d <= maxd)) {
			maxd = d;
			worst = i;
		}
	}
	if (!ok(maxd <= tol, "%s", name)) {
		diag("entry %zu: got %.9f, want %.9f", worst, got[worst],
		    want[worst]);
		for (i = 0; i < n; i++)
			diag("  [%zu] %.9f %.9f", i, got[i], want[i]);
	}
}

static double
sum(const double *v, size_t n)
{
	size_t i;
	double s = 0;

	for (i = 0; i < n; i++)
		s += v[i];
	return s;
}

/* Load a 2-d .npy as C-order doubles; NULL (and a failure) when absent. */
static double *
load(const char *path, size_t *rows, size_t *cols)
{
	struct npy a;
	double *d;

	if (!ok(access(path, R_OK) == 0, "%s is shipped", path))
		return NULL;
	if (npy_open(&a, path) == -1 || a.ndim != 2) {
		ok(0, "load %s: %s", path, loam_error());
		npy_close(&a);
		return NULL;
	}
	d = xcalloc(a.count, sizeof *d);
	if (npy_read_f64(&a, d) == -1) {
		ok(0, "read %s: %s", path, loam_error());
		free(d);
		npy_close(&a);
		return NULL;
	}
	*rows = a.shape[0];
	*cols = a.shape[1];
	npy_close(&a);
	return d;
}

/* p_1 of a graph under eta and (optionally) one target column. */
static int
first(const double *g, size_t k, size_t m, double eta, const size_t *target,
    size_t ntarget, double *p)
{
	struct skillit_opts o;
	struct skillit s;

	skillit_opts_default(&o);
	o.eta = eta;
	o.target = target;
	o.ntarget = ntarget;
	if (skillit_init(&s, g, k, m, &o) == -1) {
		diag("%s", loam_error());
		return -1;
	}
	memcpy(p, skillit_weights(&s), k * sizeof *p);
	skillit_release(&s);
	return 0;
}

/* ---- V1-V12 ---- */

static void
test_v1_v4(void)
{
	static const double v1[5] = { 0.163479, 0.346085, 0.163479, 0.163479,
	    0.163479 };
	static const double add[9] = { 1, 0, 0, 1, 1, 0, 0, 0, 1 };
	static const double v2[3] = { 0.327732, 0.344535, 0.327732 };
	static const double legoft[9] = { 1, 0, 0, 1, 1, 1, 0, 0, 1 };
	static const double v3[3] = { 0.254275, 0.326496, 0.419229 };
	static const double addft[4] = { 1, 0, 1, 1 };
	static const double v4[2] = { 0.512497, 0.487503 };
	size_t t2 = 2, t0 = 0;
	double p[5];

	ok(first(lego, 5, 5, 0.5, NULL, 0, p) == 0, "V1: init");
	is_vec(p, v1, 5, TOL6, "V1: LEGO pre-training p_1");
	ok(first(add, 3, 3, 0.1, NULL, 0, p) == 0, "V2: init");
	is_vec(p, v2, 3, TOL6, "V2: addition pre-training p_1");
	ok(first(legoft, 3, 3, 0.5, &t2, 1, p) == 0, "V3: init");
	is_vec(p, v3, 3, TOL6, "V3: LEGO fine-tuning p_1 (target 2)");
	ok(first(addft, 2, 2, 0.1, &t0, 1, p) == 0, "V4: init");
	is_vec(p, v4, 2, TOL6, "V4: addition fine-tuning p_1 (target 0)");
}

static void
test_v5_v6(void)
{
	static const double v5[4] = { 0.205398, 0.290505, 0.214478,
	    0.289618 };
	static const double v6a[2] = { 0.530434, 0.469566 };
	static const double v6b[2] = { 0.575595, 0.424405 };
	size_t k, m, t3 = 3, t0 = 0;
	double *g, p[4];

	if ((g = load(EXT "spanish_qg_normalized.npy", &k, &m)) != NULL) {
		ok(k == 4 && m == 4, "V5: 4 x 4");
		ok(first(g, 4, 4, 0.8, &t3, 1, p) == 0, "V5: init");
		is_vec(p, v5, 4, TOL6, "V5: Spanish QG p_1 (target QG-es)");
		free(g);
	}
	if ((g = load(EXT "stance_detection.npy", &k, &m)) != NULL) {
		ok(k == 2 && m == 2, "V6: 2 x 2");
		ok(first(g, 2, 2, 0.2, &t0, 1, p) == 0, "V6: init");
		is_vec(p, v6a, 2, TOL6, "V6: stance p_1 at eta 0.2");
		ok(first(g, 2, 2, 0.5, &t0, 1, p) == 0, "V6: init");
		is_vec(p, v6b, 2, TOL6, "V6: stance p_1 at eta 0.5");
		free(g);
	}
}

/* Names of top_23.txt, one per line, in graph order. */
static int
read_names(const char *path, char names[][40], size_t n)
{
	FILE *f;
	size_t i = 0;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (i < n && fgets(names[i], 40, f) != NULL) {
		names[i][strcspn(names[i], "\n")] = '\0';
		i++;
	}
	fclose(f);
	return i == n ? 0 : -1;
}

static void
test_v7(void)
{
	static const struct { const char *name; double p; } want[] = {
		{ "text_categorization", 0.0807 },
		{ "question_answering", 0.0794 },
		{ "sentiment_analysis", 0.0763 },
		{ "question_generation", 0.0759 },
		{ "text_matching", 0.0722 },
		/* the two smallest, smallest last */
		{ "preposition_prediction", 0.0047 },
		{ "punctuation_error_detection", 0.0001 },
	};
	struct skillit_opts o;
	struct skillit s;
	char names[23][40];
	size_t k, m, i, r, order[23], tmp;
	double *g;
	const double *p;
	int good;

	if ((g = load(EXT "top_23_early_decreases.npy", &k, &m)) == NULL)
		return;
	if (access(EXT "top_23.txt", R_OK) == -1 ||
	    read_names(EXT "top_23.txt", names, 23) == -1) {
		ok(0, "read " EXT "top_23.txt");
		free(g);
		return;
	}
	ok(k == 23 && m == 23 && g[0] == 0, "V7: 23 x 23, zero diagonal");
	skillit_opts_default(&o);
	o.eta = 0.2;
	o.static_mix = 1;
	ok(skillit_init(&s, g, k, m, &o) == 0, "V7: static init");
	p = skillit_weights(&s);
	for (i = 0; i < 23; i++)
		order[i] = i;
	for (i = 0; i < 23; i++)	/* selection sort, descending */
		for (r = i + 1; r < 23; r++)
			if (p[order[r]] > p[order[i]]) {
				tmp = order[i];
				order[i] = order[r];
				order[r] = tmp;
			}
	for (i = 0; i < 7; i++) {
		r = i < 5 ? order[i] : order[23 - 7 + i];
		good = strcmp(names[r], want[i].name) == 0 &&
		    fabs(p[r] - want[i].p) <= 5e-5;
		if (!ok(good, "V7: %s %s %.4f", i < 5 ? "top" : "bottom",
		    want[i].name, want[i].p))
			diag("got %s %.6f", names[r], p[r]);
	}
	diag("V7: %s %.6f ... %s %.6f", names[order[0]], p[order[0]],
	    names[order[22]], p[order[22]]);
	/* T = 1: a round leaves it unchanged */
	{
		double l[23], q[23];

		for (i = 0; i < 23; i++)
			l[i] = 1;
		ok(skillit_update(&s, l, q) == 0 &&
		    memcmp(q, p, sizeof q) == 0,
		    "V7: static mixture unchanged by a round");
	}
	skillit_release(&s);
	free(g);
}

static void
test_v8(void)
{
	static const size_t top[5] = { 32, 30, 48, 39, 58 };
	struct skillit_opts o;
	struct skillit s;
	size_t k, m, i, j, r, order[59], tmp;
	double *g, *z, loss[12];
	const double *p;
	double mn = 1, mx = 0;
	int good = 1;

	if ((g = load(EXT "ni_test_graph.npy", &k, &m)) == NULL)
		return;
	ok(k == 59 && m == 12, "V8: 59 x 12");
	skillit_opts_default(&o);
	o.eta = 0.2;
	if (!ok(skillit_init(&s, g, k, m, &o) == 0, "V8: init")) {
		free(g);
		return;
	}
	p = skillit_weights(&s);
	for (i = 0; i < k; i++) {
		order[i] = i;
		mn = fmin(mn, p[i]);
		mx = fmax(mx, p[i]);
	}
	for (i = 0; i < 5; i++)
		for (r = i + 1; r < k; r++)
			if (p[order[r]] > p[order[i]]) {
				tmp = order[i];
				order[i] = order[r];
				order[r] = tmp;
			}
	is_dbl(mx, 0.027836, TOL6, "V8: out-of-domain max p_1");
	is_dbl(p[32], 0.027836, TOL6, "V8: at row 32");
	is_dbl(mn, 0.000664, TOL6, "V8: min p_1");
	for (i = 0; i < 5; i++)
		good = good && order[i] == top[i];
	ok(good, "V8: top rows 32, 30, 48, 39, 58");
	ok(s.agg == SKILLIT_AGG_SUM && s.m == 12 && s.self[0] == -1,
	    "out of domain: sum, 12 columns, no self entries");

	/* one round, checked against the plain kernel and softmax */
	for (j = 0; j < 12; j++)
		loss[j] = 2.0 + 0.05 * (double)j;
	ok(skillit_update(&s, loss, NULL) == 0, "out of domain: update");
	z = xcalloc(k, sizeof *z);
	skillit_logits_ref(g, k, m, loss, 0.2, NULL, z);
	skillit_softmax(z, k);
	is_vec(skillit_weights(&s), z, k, 1e-15,
	    "out of domain: p_2 = softmax(eta A L)");
	free(z);
	skillit_release(&s);
	free(g);
}

/* One update after three evaluations, window 3 (V9), and the
 * fine-tuning mean (V10). */
static void
test_v9_v10(void)
{
	static const double hist[3][5] = {
		{ .70, .69, .70, .71, .69 },
		{ .40, .69, .70, .70, .69 },
		{ .05, .60, .69, .70, .70 },
	};
	static const double v9[5] = { 0.086377, 0.498312, 0.138203,
	    0.139592, 0.137514 };
	static const double legoft[9] = { 1, 0, 0, 1, 1, 1, 0, 0, 1 };
	static const double v10[3] = { 0.284763, 0.330847, 0.384390 };
	struct skillit_opts o;
	struct skillit s;
	double p[5], l[3];
	size_t i, t2 = 2;
	int good = 1;

	skillit_opts_default(&o);
	o.eta = 0.5;
	o.window = 3;
	ok(skillit_init(&s, lego, 5, 5, &o) == 0, "V9: init");
	ok(s.agg == SKILLIT_AGG_SUM && s.binary == 1,
	    "pre-training: sum, binary rule applied");
	for (i = 0; i < 3; i++)
		good = good && skillit_observe(&s, hist[i]) == 0;
	ok(good && skillit_next(&s, p) == 0, "V9: three evaluations, next");
	is_vec(p, v9, 5, TOL6, "V9: window 3 sum update");
	skillit_release(&s);

	o.target = &t2;
	o.ntarget = 1;
	ok(skillit_init(&s, legoft, 3, 3, &o) == 0, "V10: init");
	ok(s.agg == SKILLIT_AGG_MEAN && s.m == 1 && s.self[0] == 2,
	    "fine-tuning: mean over the window, one target column");
	/* only the target column is read: the others may be NaN */
	l[0] = l[1] = NAN;
	good = 1;
	for (i = 0; i < 3; i++) {
		l[2] = 0.7 - 0.1 * (double)i;
		good = good && skillit_observe(&s, l) == 0;
	}
	ok(good && skillit_next(&s, p) == 0, "V10: next");
	is_vec(p, v10, 3, TOL6, "V10: fine-tuning mean update");
	skillit_release(&s);
}

static void
test_v11(void)
{
	static const double w2[2] = { 0.494658, 0.505342 };
	static const double w3[3] = { 0.332779, 0.322028, 0.345193 };
	double p[3];

	ok(first(aioli2, 2, 2, 0.2, NULL, 0, p) == 0, "V11: init");
	is_vec(p, w2, 2, TOL6, "V11: Aioli arxiv/SE seed 0");
	ok(first(aioli3, 3, 3, 0.2, NULL, 0, p) == 0, "V11: init");
	is_vec(p, w3, 3, TOL6, "V11: Aioli arxiv/book/SE seed 0");
}

/* V12: the toy closed loop: train a round on p_t, evaluate, update. */
static void
test_v12(void)
{
	static const double v12[6][5] = {
		{ .163479, .346085, .163479, .163479, .163479 },
		{ .177938, .284984, .177938, .177938, .181201 },
		{ .153624, .377871, .153624, .153624, .161257 },
		{ .129853, .467956, .129853, .129853, .142484 },
		{ .137355, .430881, .137355, .137355, .157055 },
		{ .144408, .394987, .144408, .144408, .171791 },
	};
	struct skillit_opts o;
	struct skillit s;
	double p[5], l[5];
	size_t t, i;

	skillit_opts_default(&o);
	o.eta = 0.5;
	o.window = 3;
	ok(skillit_init(&s, lego, 5, 5, &o) == 0, "V12: init");
	memcpy(p, skillit_weights(&s), sizeof p);
	for (i = 0; i < 5; i++)
		l[i] = 0.7;
	for (t = 0; t < 6; t++) {
		char msg[40];

		snprintf(msg, sizeof msg, "V12: p_%zu", t + 1);
		is_vec(p, v12[t], 5, TOL6, msg);
		/* the dynamics run on the graph Skill-It uses (0.5 edges) */
		skillit_sim_step(s.graph, 5, 5, p, 0.3, l);
		if (skillit_update(&s, l, p) == -1) {
			ok(0, "V12: update: %s", loam_error());
			break;
		}
	}
	skillit_release(&s);
}

/* ---- variants, each on a case worked by hand ---- */

/* sigma(d) = 1 / (1 + exp(-d)): with two skills, p[0] for logits that
 * differ by d = z0 - z1. */
static double
sigma(double d)
{
	return 1 / (1 + exp(-d));
}

/* The small graph of most cases below: skill 0 helps skill 1 by half.
 * Not binary (0.5), so the rule stays off; eta = 1 unless said. */
static const double g2[4] = {
	1, 0.5,
	0, 1,
};

static struct skillit_opts
opts_eta1(void)
{
	struct skillit_opts o;

	skillit_opts_default(&o);
	o.eta = 1;
	return o;
}

static void
test_binary(void)
{
	static const double b[4] = { 1, 1, 0, 1 };
	static const double nb[4] = { 1, 1, 0.3, 1 };
	struct skillit_opts o = opts_eta1();
	struct skillit s;

	/* auto on a 0/1 graph: A = [[1, .5], [0, 1]], row sums 1.5 and 1 */
	ok(skillit_init(&s, b, 2, 2, &o) == 0 && s.binary == 1 &&
	    s.graph[1] == 0.5, "binary auto: 0/1 graph, 1 -> 0.5");
	is_dbl(s.p[0], sigma(0.5), 1e-15, "binary auto: p_1 = sigma(0.5)");
	skillit_release(&s);
	/* no: row sums 2 and 1 */
	o.binary = SKILLIT_BINARY_NO;
	ok(skillit_init(&s, b, 2, 2, &o) == 0 && s.binary == 0,
	    "binary no: kept");
	is_dbl(s.p[0], sigma(1), 1e-15, "binary no: p_1 = sigma(1)");
	skillit_release(&s);
	/* yes on a graph with 0.3: [[1, .5], [.3, 1]], sums 1.5 and 1.3 */
	o.binary = SKILLIT_BINARY_YES;
	ok(skillit_init(&s, nb, 2, 2, &o) == 0 && s.binary == 1,
	    "binary yes: applied to a real-valued graph");
	is_dbl(s.p[0], sigma(0.2), 1e-15, "binary yes: p_1 = sigma(0.2)");
	skillit_release(&s);
	/* auto on it: not binary, sums 2 and 1.3 */
	o.binary = SKILLIT_BINARY_AUTO;
	ok(skillit_init(&s, nb, 2, 2, &o) == 0 && s.binary == 0,
	    "binary auto: real-valued graph kept");
	is_dbl(s.p[0], sigma(0.7), 1e-15, "binary auto: p_1 = sigma(0.7)");
	skillit_release(&s);
}

static void
test_prior(void)
{
	static const double w0[2] = { 1, 3 }, l[2] = { 1, 2 };
	struct skillit_opts o = opts_eta1();
	struct skillit s;
	double p[2];

	o.prior = w0;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0, "prior: init");
	/* p_1 ∝ (1 e^1.5, 3 e^1): p_1[0] = 1 / (1 + 3 e^-0.5) */
	is_dbl(s.p[0], 1 / (1 + 3 * exp(-0.5)), 1e-15,
	    "prior: p_1 = w0 exp(eta A 1)");
	/* A (1, 2) = (1 + 1, 2) = (2, 2): p ∝ (e^2, 3 e^2) = (1/4, 3/4) */
	ok(skillit_update(&s, l, p) == 0, "prior: update");
	is_dbl(p[0], 0.25, 1e-15, "prior: p_2 = (1/4, 3/4)");
	skillit_release(&s);
}

static void
test_init(void)
{
	static const double p1[2] = { 3, 1 }, l[2] = { 2, 1 };
	struct skillit_opts o = opts_eta1();
	struct skillit s;
	double p[2];

	o.init = p1;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0, "init: init");
	is_dbl(s.p[0], 0.75, 0, "init: p_1 = (3, 1) normalised");
	/* A (2, 1) = (2.5, 1): from w0 = 1, not from p_1, sigma(1.5) */
	ok(skillit_update(&s, l, p) == 0, "init: update");
	is_dbl(p[0], sigma(1.5), 1e-15, "init: p_2 starts from w0, not p_1");
	skillit_release(&s);
}

static void
test_init_loss(void)
{
	static const double l[2] = { 0.4, 0.8 };
	struct skillit_opts o = opts_eta1();
	struct skillit s;
	double p[2];

	/* history (.6, .6), (.4, .8); sum (1, 1.4); A x = (1.7, 1.4) */
	o.init_loss = 1;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0 &&
	    skillit_update(&s, l, p) == 0, "init-loss: update");
	is_dbl(p[0], sigma(0.3), 1e-15,
	    "init-loss: pseudo-evaluation mean(L) 1 prepended");
	skillit_release(&s);
	/* without: A (.4, .8) = (.8, .8), 1/2 */
	o.init_loss = 0;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0 &&
	    skillit_update(&s, l, p) == 0, "no init-loss: update");
	is_dbl(p[0], 0.5, 1e-15, "no init-loss: 1/2");
	skillit_release(&s);
	/* window 1: the pseudo-evaluation is one of the W entries, and the
	 * real one pushes it out */
	o.init_loss = 1;
	o.window = 1;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0 &&
	    skillit_update(&s, l, p) == 0, "init-loss, window 1: update");
	is_dbl(p[0], 0.5, 1e-15, "init-loss, window 1: pushed out");
	skillit_release(&s);
}

static void
test_normalize(void)
{
	static const double e1[2] = { 1, 2 }, e2[2] = { 0.5, 1 };
	struct skillit_opts o = opts_eta1();
	struct skillit s;
	double p[2];

	o.normalize_loss = 1;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0, "normalize-loss: init");
	/* L_0 = e1 (the only one): x = (1, 2) / (1, 2) = (1, 1),
	 * A x = (1.5, 1) */
	ok(skillit_update(&s, e1, p) == 0, "normalize-loss: round 1");
	is_dbl(p[0], sigma(0.5), 1e-15, "normalize-loss: x / L_0, L_0 = e1");
	/* L_0 = e2 now (the second evaluation): x = (1.5, 3) / (.5, 1) =
	 * (3, 3), A x = (4.5, 3) */
	ok(skillit_update(&s, e2, p) == 0, "normalize-loss: round 2");
	is_dbl(p[0], sigma(1.5), 1e-15,
	    "normalize-loss: L_0 becomes the second evaluation");
	skillit_release(&s);
}

static void
test_eta_schedule(void)
{
	static const double one[2] = { 1, 1 }, half[2] = { 0.5, 0.5 };
	struct skillit_opts o = opts_eta1();
	struct skillit s;
	double p[2];

	o.eta_schedule = 1;
	o.window = 1;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0, "eta-schedule: init");
	/* rounds 1, 2: latest = L_0, eta_t = 1, A (1, 1) = (1.5, 1) */
	ok(skillit_update(&s, one, p) == 0 && skillit_update(&s, one, p) == 0,
	    "eta-schedule: two rounds");
	is_dbl(p[0], sigma(0.5), 1e-15, "eta-schedule: eta_t = eta");
	/* round 3: sum L = 1, sum L_0 = 2, eta_t = 1 / (1 / 2) = 2;
	 * 2 A (.5, .5) = (1.5, 1) */
	ok(skillit_update(&s, half, p) == 0, "eta-schedule: round 3");
	is_dbl(s.eta_last, 2, 0, "eta-schedule: eta_t = 2");
	is_dbl(p[0], sigma(0.5), 1e-15, "eta-schedule: p = sigma(2 * 0.25)");
	skillit_release(&s);
	o.eta_schedule = 0;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0 &&
	    skillit_update(&s, half, p) == 0, "no eta-schedule: update");
	is_dbl(p[0], sigma(0.25), 1e-15, "no eta-schedule: sigma(0.25)");
	skillit_release(&s);
}

static void
test_lone(void)
{
	/* binary: becomes [[1, .5, 0], [0, 1, 0], [0, 0, 1]]; skill 2 has
	 * only its self-loop (row and column sum 1), skill 1's column sums
	 * to 1.5 */
	static const double g[9] = { 1, 1, 0, 0, 1, 0, 0, 0, 1 };
	static const double l[3] = { 1, 2, 100 };
	struct skillit_opts o = opts_eta1();
	struct skillit s;
	double p[3];

	o.ignore_lone_nodes = 1;
	ok(skillit_init(&s, g, 3, 3, &o) == 0 && s.nlone == 1 && s.lone[2],
	    "lone nodes: skill 2 is lone");
	/* 1/3 to skill 2; 2/3 split by A 1 over {0, 1} = (1.5, 1) */
	is_dbl(s.p[2], 1.0 / 3, 1e-15, "lone nodes: p_1[2] = 1/k");
	is_dbl(s.p[0], 2.0 / 3 * sigma(0.5), 1e-15,
	    "lone nodes: p_1[0] = 2/3 sigma(0.5)");
	/* the lone column's loss 100 is left out: A (1, 2) = (2, 2) */
	ok(skillit_update(&s, l, p) == 0, "lone nodes: update");
	is_dbl(p[0], 1.0 / 3, 1e-15, "lone nodes: p_2 = (1/3, 1/3, 1/3)");
	is_dbl(p[1], 1.0 / 3, 1e-15, "lone nodes: p_2[1] = 1/3");
	skillit_release(&s);
	/* without: that loss takes everything to skill 2 */
	o.ignore_lone_nodes = 0;
	ok(skillit_init(&s, g, 3, 3, &o) == 0 && s.nlone == 0 &&
	    skillit_update(&s, l, p) == 0, "no lone nodes: update");
	ok(p[2] > 0.999999, "no lone nodes: p_2[2] = %.9f", p[2]);
	skillit_release(&s);
}

static void
test_dynamic_lambda(void)
{
	static const double one[2] = { 1, 1 };
	/* not binary (0.5): FT target 1, column (.5, 1, .5), self row 1 */
	static const double g3[9] = { 1, 0.5, 0, 0, 1, 0, 0.5, 0.5, 1 };
	static const double ood[2] = { 0.5, -0.5 }, l3[3] = { 1, 1, 1 };
	struct skillit_opts o = opts_eta1();
	struct skillit s;
	size_t t1 = 1;
	double p[2];

	o.dynamic_lambda = 1;
	o.window = 1;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0, "dynamic-lambda: init");
	/* round 1 on the given graph: A (1, 1) = (1.5, 1); then .5 -> .25 */
	ok(skillit_update(&s, one, p) == 0, "dynamic-lambda: round 1");
	is_dbl(p[0], sigma(0.5), 1e-15, "dynamic-lambda: round 1 undamped");
	ok(s.graph[1] == 0.25 && s.graph[0] == 1 && s.graph[3] == 1,
	    "dynamic-lambda: off-diagonal halved, diagonal kept");
	ok(skillit_update(&s, one, p) == 0, "dynamic-lambda: round 2");
	is_dbl(p[0], sigma(0.25), 1e-15, "dynamic-lambda: round 2 sigma(.25)");
	ok(skillit_update(&s, one, p) == 0, "dynamic-lambda: round 3");
	is_dbl(p[0], sigma(0.125), 1e-15,
	    "dynamic-lambda: round 3 sigma(.125)");
	skillit_release(&s);

	o.target = &t1;
	o.ntarget = 1;
	ok(skillit_init(&s, g3, 3, 3, &o) == 0 &&
	    skillit_update(&s, l3, NULL) == 0, "dynamic-lambda: fine-tuning");
	ok(s.graph[0] == 0.25 && s.graph[1] == 1 && s.graph[2] == 0.25,
	    "dynamic-lambda: target's own row kept, others halved");
	skillit_release(&s);

	o.target = NULL;
	o.ntarget = 0;
	ok(skillit_init(&s, ood, 2, 1, &o) == 0 &&
	    skillit_update(&s, one, NULL) == 0, "dynamic-lambda: 2 x 1");
	ok(s.graph[0] == 0.25 && s.graph[1] == -0.5,
	    "dynamic-lambda: out of domain, positive entries halved");
	skillit_release(&s);
}

static void
test_static(void)
{
	/* static: [[1, .5], [.2, 1]], sums 1.5 and 1.2, sigma(.3);
	 * online p_1 on the graph as given: sums .5 and 3.2, sigma(-2.7) */
	static const double g[4] = { 0, 0.5, 0.2, 3 };
	struct skillit_opts o = opts_eta1();
	struct skillit s;

	o.static_mix = 1;
	ok(skillit_init(&s, g, 2, 2, &o) == 0, "static: init");
	is_dbl(s.p[0], sigma(0.3), 1e-15, "static: diagonal := 1");
	ok(skillit_next(&s, NULL) == 0 && s.p[0] == sigma(0.3),
	    "static: a round needs no evaluation and changes nothing");
	skillit_release(&s);
	o.static_mix = 0;
	ok(skillit_init(&s, g, 2, 2, &o) == 0, "online: init");
	is_dbl(s.p[0], sigma(-2.7), 1e-15, "online: diagonal as given");
	skillit_release(&s);
}

static void
test_window(void)
{
	static const double e[3][2] = { { 1, 0 }, { 0, 1 }, { 2, 0 } };
	struct skillit_opts o = opts_eta1();
	struct skillit s;
	double p[2];
	size_t i;
	int good;

	/* three evaluations in one round; W = 2 keeps e2, e3: x = (2, 1),
	 * A x = (2.5, 1) */
	o.window = 2;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0, "window 2: init");
	for (good = 1, i = 0; i < 3; i++)
		good = good && skillit_observe(&s, e[i]) == 0;
	ok(good && skillit_next(&s, p) == 0 && s.round == 1 && s.nevals == 3,
	    "window 2: three evaluations, one round");
	is_dbl(p[0], sigma(1.5), 1e-15,
	    "window counts evaluations, not rounds");
	skillit_release(&s);
	/* W = 0: all, x = (3, 1), A x = (3.5, 1) */
	o.window = 0;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0, "window 0: init");
	for (good = 1, i = 0; i < 3; i++)
		good = good && skillit_observe(&s, e[i]) == 0;
	ok(good && skillit_next(&s, p) == 0, "window 0: next");
	is_dbl(p[0], sigma(2.5), 1e-15, "window 0: whole history");
	skillit_release(&s);
	/* explicit mean, W = 2: x = (1, .5), A x = (1.25, .5) */
	o.window = 2;
	o.agg = SKILLIT_AGG_MEAN;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0, "agg mean: init");
	for (good = 1, i = 0; i < 3; i++)
		good = good && skillit_observe(&s, e[i]) == 0;
	ok(good && skillit_next(&s, p) == 0, "agg mean: next");
	is_dbl(p[0], sigma(0.75), 1e-15, "agg mean: pre-training override");
	skillit_release(&s);
	/* W = 5 over seven evaluations (.1 t, 0): the ring grows from 4
	 * rows to 5, then wraps; x = (.3 + ... + .7, 0) = (2.5, 0) */
	o.window = 5;
	o.agg = SKILLIT_AGG_AUTO;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0, "window 5: init");
	for (good = 1, i = 1; i <= 7; i++) {
		double l[2] = { 0.1 * (double)i, 0 };

		good = good && skillit_observe(&s, l) == 0;
	}
	ok(good && skillit_next(&s, p) == 0 && s.ring_len == 5,
	    "window 5: seven evaluations");
	is_dbl(p[0], sigma(2.5), 1e-14, "window 5: the last five");
	skillit_release(&s);
	/* a huge W allocates as evaluations come */
	o.window = (size_t)-1 / 2;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0, "huge window: init");
	for (good = 1, i = 0; i < 3; i++)
		good = good && skillit_observe(&s, e[i]) == 0;
	ok(good && skillit_next(&s, p) == 0 && s.ring_len == 4,
	    "huge window: 4 rows held");
	is_dbl(p[0], sigma(2.5), 1e-15, "huge window: whole history");
	skillit_release(&s);
}

/* ---- numerics ---- */

static void
test_lse(void)
{
	static const double g[4] = { 1.001, 0, 0, 1 };
	struct skillit_opts o;
	struct skillit s;
	double naive[5], tot = 0;
	size_t i, j;
	int finite = 1;

	/* the reference's exp(eta A 1) at eta = 1000 on the LEGO graph:
	 * e^2500 overflows, and inf / inf is NaN */
	for (i = 0; i < 5; i++) {
		double r = 0;

		for (j = 0; j < 5; j++)
			r += (lego[i * 5 + j] == 1 && i != j ? 0.5 :
			    lego[i * 5 + j]);
		naive[i] = exp(1000 * r);
		tot += naive[i];
	}
	ok(isinf(tot) && isnan(naive[1] / tot),
	    "eta 1000: naive exp overflows (p = inf / inf)");
	skillit_opts_default(&o);
	o.eta = 1000;
	ok(skillit_init(&s, lego, 5, 5, &o) == 0, "eta 1000: init");
	for (i = 0; i < 5; i++)
		finite = finite && isfinite(s.p[i]);
	ok(finite && s.p[1] == 1 && sum(s.p, 5) == 1,
	    "eta 1000: log-sum-exp finite, all on skill 1");
	skillit_release(&s);
	/* a meaningful answer beyond exp's range: logits 1001 and 1000 */
	ok(isinf(exp(1001.0)) && skillit_init(&s, g, 2, 2, &o) == 0,
	    "eta 1000: logits 1001 and 1000");
	/* 1000 * 1.001 rounds to 1001 - 1.1e-13 */
	is_dbl(s.p[0], sigma(1), 1e-12, "eta 1000: p = sigma(1)");
	skillit_release(&s);
}

static double *
random_matrix(struct rng *r, size_t n, double lo, double hi)
{
	double *a = xcalloc(n, sizeof *a);
	size_t i;

	for (i = 0; i < n; i++)
		a[i] = lo + (hi - lo) * rng_uniform(r);
	return a;
}

static void
test_kernels(void)
{
	struct rng r;
	size_t k = 37, m = 53, i, j;
	double *a, *at, *x, *lp, *z1, *z2;

	rng_init(&r, 7, 0, 0);
	a = random_matrix(&r, k * m, -1, 1);
	x = random_matrix(&r, m, 0, 3);
	lp = random_matrix(&r, k, -2, 0);
	at = xcalloc(k * m, sizeof *at);
	z1 = xcalloc(k, sizeof *z1);
	z2 = xcalloc(k, sizeof *z2);
	for (i = 0; i < k; i++)
		for (j = 0; j < m; j++)
			at[j * k + i] = a[i * m + j];
	skillit_logits_ref(a, k, m, x, 0.7, lp, z1);
	skillit_logits(at, k, m, x, 0.7, lp, z2);
	ok(memcmp(z1, z2, k * sizeof *z1) == 0,
	    "kernel: column sweeps equal the plain dot products bit for bit");
	skillit_logits_ref(a, k, m, x, 0.7, NULL, z1);
	skillit_logits(at, k, m, x, 0.7, NULL, z2);
	ok(memcmp(z1, z2, k * sizeof *z1) == 0, "kernel: without a prior");
	ok(skillit_softmax(z1, k) == 0 && fabs(sum(z1, k) - 1) < 1e-15,
	    "softmax: sums to 1");
	z2[0] = NAN;
	ok(skillit_softmax(z2, k) == -1, "softmax: NaN refused");
	for (i = 0; i < k; i++)
		z2[i] = -INFINITY;
	ok(skillit_softmax(z2, k) == -1, "softmax: all -inf refused");
	free(a);
	free(at);
	free(x);
	free(lp);
	free(z1);
	free(z2);
}

/* ---- graph estimation on logs made from a known graph ---- */

/* The truth: 4 skills, diagonal 1, a chain 0 -> 1 -> 2 of strength .6
 * and .3, and 3 -> 0 of strength .3; 3 of the 12 possible edges. */
static const double truth[16] = {
	1,   0.6, 0,   0,
	0,   1,   0.3, 0,
	0,   0,   1,   0,
	0.3, 0,   0,   1,
};

static void
test_graph_linear(void)
{
	double before[16], after[16], lin[16], rel[16], back, err = 0;
	const double c = 0.05, h = 20;
	size_t i, j;
	int support = 1;

	/* run i trains on skill i alone for h steps of the idealised
	 * dynamics: L_j(h) = L_j(0) (1 - c A[i][j])^h */
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++) {
			before[i * 4 + j] = 2 + 0.1 * (double)j;
			after[i * 4 + j] = before[i * 4 + j] *
			    pow(1 - c * truth[i * 4 + j], h);
		}
	ok(skillit_graph_linear(4, 4, before, after, 0, lin) == 0,
	    "linear: estimate");
	ok(skillit_graph_linear(4, 4, before, after, 1, rel) == 0,
	    "relative: estimate");
	for (i = 0; i < 16; i++) {
		support = support && (lin[i] > 0) == (truth[i] > 0) &&
		    (rel[i] > 0) == (truth[i] > 0);
		/* relative = 1 - (1 - c A)^h exactly; invert it */
		back = (1 - pow(1 - rel[i], 1 / h)) / c;
		err = fmax(err, fabs(back - truth[i]));
	}
	ok(support, "linear, relative: the edges of the known graph");
	ok(err < 1e-9, "relative: inverts to the known graph (err %.2g)", err);
	ok(lin[0 * 4 + 1] > lin[3 * 4 + 0] * (2.1 / 2.0) &&
	    rel[0 * 4 + 1] > rel[1 * 4 + 2], "linear: .6 edge above .3 edges");
	/* before - after, by hand for one entry */
	is_dbl(lin[1], 2.1 * (1 - pow(0.97, 20)), 1e-12,
	    "linear: A[0][1] = 2.1 (1 - 0.97^20)");
	before[5] = 0;
	ok(skillit_graph_linear(4, 4, before, after, 1, rel) == -1 &&
	    strstr(loam_error(), "run 1, skill 1") != NULL,
	    "relative: a zero loss before is refused: %s", loam_error());
	after[2] = NAN;
	ok(skillit_graph_linear(4, 4, before, after, 0, lin) == -1,
	    "linear: NaN refused");
}

/* Steps of skill-j data until L_j <= threshold, training with per-step
 * factor f on j, where j makes up share of each batch. */
static double
curve_steps(double f, double share, size_t n)
{
	double *step = xcalloc(n, sizeof *step), *loss = xcalloc(n,
	    sizeof *loss), l = 1, r;
	size_t t;

	for (t = 0; t < n; t++) {
		step[t] = share * (double)t;
		loss[t] = l;
		l *= f;
	}
	r = skillit_steps_to_threshold(step, loss, n, SKILLIT_THRESHOLD);
	free(step);
	free(loss);
	return r;
}

static void
test_graph_pairwise(void)
{
	double alone[4], pair[16], g[16], single[16];
	const double c = 0.1;
	size_t i, j, e, n;
	int good = 1;

	/*
	 * Idealised dynamics from L = 1: j alone shrinks by 1 - c a step,
	 * so 0.9^t <= 0.01 at t = 44.  The balanced (i, j) mixture shrinks
	 * L_j by 1 - c (1 + A[i][j]) / 2 a step and feeds j half a batch:
	 * A = .6 takes 56 steps, 28 of j's data; .3 takes 69 (34.5); 0
	 * takes 90 (45 > 44).  Counted in data on j, exactly the edges of
	 * the truth come out.
	 */
	for (j = 0; j < 4; j++)
		alone[j] = curve_steps(1 - c, 1, 200);
	is_dbl(alone[0], 44, 0, "steps to 0.01: 0.9^t at t = 44");
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++)
			pair[i * 4 + j] = i == j ? NAN : curve_steps(1 - c *
			    (1 + truth[i * 4 + j]) / 2, 0.5, 200);
	is_dbl(pair[1], 28, 0, "steps to 0.01: A = .6 pair, 28 of j's data");
	ok(skillit_graph_pairwise(4, alone, pair, NULL, g) == 0,
	    "pairwise: estimate");
	for (i = 0; i < 16; i++)
		good = good && g[i] == (truth[i] == 1 ? 1 :
		    truth[i] > 0 ? SKILLIT_EDGE : 0);
	ok(good, "pairwise: edges 0.5 where the truth has one, diagonal 1");
	/* a curve cut before the threshold never gets there */
	ok(isinf(curve_steps(0.95, 1, 50)),
	    "steps to 0.01: never reached within the log");
	pair[1] = INFINITY;
	ok(skillit_graph_pairwise(4, alone, pair, NULL, g) == 0 && g[1] == 0,
	    "pairwise: never reached, no edge");
	/* the LEGO rule: a loss decrease from i alone gives the edge */
	for (i = 0; i < 16; i++)
		single[i] = 0;
	single[1] = 0.2;
	ok(skillit_graph_pairwise(4, alone, pair, single, g) == 0 &&
	    g[1] == SKILLIT_EDGE, "pairwise: single-skill decrease adds it");
	pair[2] = -1;
	ok(skillit_graph_pairwise(4, alone, pair, NULL, g) == -1,
	    "pairwise: negative count refused");

	/* density: 3 of 12 */
	is_dbl(skillit_graph_density(truth, 4, 4, &e, &n), 0.25, 0,
	    "density: 3 of 12 off-diagonal");
	ok(e == 3 && n == 12, "density: counts");
	ok(skillit_graph_shape(0.25) == SKILLIT_GRAPH_INTERMEDIATE &&
	    skillit_graph_shape(0.039) == SKILLIT_GRAPH_NEARLY_EMPTY &&
	    skillit_graph_shape(0.427) == SKILLIT_GRAPH_INTERMEDIATE &&
	    skillit_graph_shape(0.974) == SKILLIT_GRAPH_NEARLY_COMPLETE,
	    "shape: Pile of Law empty, NI between, Alpaca complete");
	is_dbl(skillit_graph_density(lego, 5, 5, NULL, NULL), 3.0 / 20, 0,
	    "density: LEGO graph 3 of 20");
	/* the same numbers as 2 x 8: 7 positive of 16, none a self entry */
	is_dbl(skillit_graph_density(truth, 2, 8, &e, &n), 7.0 / 16, 0,
	    "density: non-square, every entry counts");
}

/* ---- the closed loop on the LEGO graph ---- */

static void
test_closed_loop(void)
{
	static const double pool[5] = { 1, 1, 1, 3, 5 };
	static const double targets[] = { 1.0, 0.35, 0.1, 0.035, 0.01 };
	struct skillit_opts o;
	struct skillit_sim sim;
	struct skillit_sim_result r;
	size_t i;
	int good = 1;

	/* the LEGO script's eta 0.5 and window 3, V12's c = 0.3, L = 0.7;
	 * random sampling draws records from the reference's imbalanced
	 * 1:1:1:3:5 pool, stratified takes 1/5 of each skill */
	skillit_opts_default(&o);
	o.eta = 0.5;
	o.window = 3;
	skillit_sim_default(&sim);
	sim.c = 0.3;
	sim.pool = pool;
	diag("closed loop, LEGO graph, L <- L (1 - 0.3 A^T p), from 5 x 0.7:");
	diag("%12s %8s %8s %11s", "total loss", "Skill-It", "random",
	    "stratified");
	for (i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		sim.target = targets[i];
		if (skillit_simulate(lego, 5, 5, &o, &sim, &r) == -1) {
			ok(0, "closed loop: %s", loam_error());
			return;
		}
		diag("%12.3f %8zu %8zu %11zu", targets[i], r.skillit, r.random,
		    r.stratified);
		good = good && r.skillit < r.random && r.skillit < r.stratified;
	}
	ok(good, "closed loop: Skill-It needs fewer rounds than random and "
	    "stratified at every target");
	/* target already met; never met within max_rounds */
	sim.target = 10;
	ok(skillit_simulate(lego, 5, 5, &o, &sim, &r) == 0 && r.skillit == 0 &&
	    r.random == 0, "closed loop: a met target takes 0 rounds");
	sim.target = 0.01;
	sim.max_rounds = 5;
	ok(skillit_simulate(lego, 5, 5, &o, &sim, &r) == 0 &&
	    r.skillit == SKILLIT_SIM_NEVER && r.final[0] > 0.01,
	    "closed loop: not met within max_rounds");
	sim.c = 0;
	ok(skillit_simulate(lego, 5, 5, &o, &sim, &r) == -1,
	    "closed loop: c = 0 refused");
}

/* ---- refusals ---- */

static void
test_errors(void)
{
	static const double bad[4] = { 1, NAN, 0, 1 };
	static const double neg[2] = { -1, 1 }, zero[2] = { 0, 0 };
	static const double nanl[2] = { NAN, 1 }, zl[2] = { 0, 1 };
	struct skillit_opts o;
	struct skillit s;
	size_t t5 = 5, t00[2] = { 0, 0 }, t0 = 0;

	skillit_opts_default(&o);
	ok(skillit_init(&s, g2, 0, 2, &o) == -1, "refused: k = 0 (%s)",
	    loam_error());
	ok(skillit_init(&s, bad, 2, 2, &o) == -1 &&
	    strstr(loam_error(), "[0][1]") != NULL, "refused: %s",
	    loam_error());
	o.target = &t5;
	o.ntarget = 1;
	ok(skillit_init(&s, g2, 2, 2, &o) == -1, "refused: %s", loam_error());
	o.target = t00;
	o.ntarget = 2;
	ok(skillit_init(&s, g2, 2, 2, &o) == -1, "refused: %s", loam_error());
	o.target = &t0;
	o.ntarget = 1;
	o.ignore_lone_nodes = 1;
	ok(skillit_init(&s, g2, 2, 2, &o) == -1, "refused: %s", loam_error());
	skillit_opts_default(&o);
	o.ignore_lone_nodes = 1;
	ok(skillit_init(&s, g2, 1, 4, &o) == -1, "refused: %s", loam_error());
	skillit_opts_default(&o);
	o.static_mix = 1;
	o.init = neg;
	ok(skillit_init(&s, g2, 2, 2, &o) == -1, "refused: %s", loam_error());
	skillit_opts_default(&o);
	o.prior = neg;
	ok(skillit_init(&s, g2, 2, 2, &o) == -1, "refused: %s", loam_error());
	o.prior = zero;
	ok(skillit_init(&s, g2, 2, 2, &o) == -1, "refused: %s", loam_error());
	o.prior = NULL;
	o.eta = NAN;
	ok(skillit_init(&s, g2, 2, 2, &o) == -1, "refused: %s", loam_error());

	skillit_opts_default(&o);
	ok(skillit_init(&s, g2, 2, 2, &o) == 0, "errors: init");
	ok(skillit_next(&s, NULL) == -1, "refused: %s", loam_error());
	ok(skillit_observe(&s, nanl) == -1 && s.nevals == 0,
	    "refused, history unchanged: %s", loam_error());
	skillit_release(&s);
	skillit_release(&s);
	ok(s.p == NULL, "release twice is safe");

	o.normalize_loss = 1;
	ok(skillit_init(&s, g2, 2, 2, &o) == 0 &&
	    skillit_update(&s, zl, NULL) == -1, "refused: %s", loam_error());
	skillit_release(&s);
}

/* ---- one round at k = 1000 ---- */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void
test_time(void)
{
	const size_t k = 1000, rounds = 200;
	struct skillit_opts o;
	struct skillit s;
	struct rng r;
	double *g, *l, *z1, *z2, t0, t_fast, t_ref;
	size_t i, t;
	int good = 1;

	rng_init(&r, 11, 0, 0);
	g = random_matrix(&r, k * k, -0.05, 0.1);
	l = random_matrix(&r, k, 1, 3);
	z1 = xcalloc(k, sizeof *z1);
	z2 = xcalloc(k, sizeof *z2);
	skillit_opts_default(&o);
	ok(skillit_init(&s, g, k, k, &o) == 0, "k = 1000: init");
	t0 = now();
	for (t = 0; t < rounds; t++) {
		for (i = 0; i < k; i++)
			l[i] *= 0.999;
		good = good && skillit_update(&s, l, NULL) == 0;
	}
	t_fast = (now() - t0) / (double)rounds;
	ok(good && fabs(sum(s.p, k) - 1) < 1e-12, "k = 1000: %zu rounds",
	    rounds);
	/* the same product both ways, bit for bit, and the plain one's time */
	skillit_logits(s.graph_t, k, k, l, 0.2, s.log_prior, z1);
	t0 = now();
	for (t = 0; t < 20; t++)
		skillit_logits_ref(s.graph, k, k, l, 0.2, s.log_prior, z2);
	t_ref = (now() - t0) / 20;
	ok(memcmp(z1, z2, k * sizeof *z1) == 0,
	    "k = 1000: fast kernel equals the plain one bit for bit");
	diag("k = 1000 x 1000: %.3f ms per round (observe + next); plain "
	    "product alone %.3f ms", 1e3 * t_fast, 1e3 * t_ref);
	skillit_release(&s);
	free(g);
	free(l);
	free(z1);
	free(z2);
}

int
main(void)
{
	test_v1_v4();
	test_v5_v6();
	test_v7();
	test_v8();
	test_v9_v10();
	test_v11();
	test_v12();
	test_binary();
	test_prior();
	test_init();
	test_init_loss();
	test_normalize();
	test_eta_schedule();
	test_lone();
	test_dynamic_lambda();
	test_static();
	test_window();
	test_lse();
	test_kernels();
	test_graph_linear();
	test_graph_pairwise();
	test_closed_loop();
	test_errors();
	test_time();
	return tap_done();
}
