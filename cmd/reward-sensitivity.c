/*
 * reward-sensitivity - reward inference under a Boltzmann-rational human
 * model, and how far the inferred reward moves when that model is wrong
 * (after Hong, Bhatia and Dragan, ICLR 2023); see reward-sensitivity(1).
 *
 * The method is lib/method/rewinfer.c (the biased demonstrator's
 * direction and size among it) and the record reading
 * lib/method/rewinfer_io.c; this file holds the options, the wiring of
 * fit, grid and simulate, and their output.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rec.h"
#include "recw.h"
#include "rewinfer.h"
#include "rewinfer_io.h"
#include "rng.h"
#include "stream.h"
#include "util.h"

enum {
	OPT_BETA = CLI_LONG, OPT_BELLMAN, OPT_GAMMA_H, OPT_DYNAMICS_H, OPT_SLIP_H, OPT_L2,
	OPT_MAX_ITER, OPT_GRID, OPT_THETA, OPT_BIAS, OPT_TRAJECTORIES, OPT_HORIZON, OPT_EXACT,
};

/* The grid's models at most. */
#define MAX_MODELS 4096
#define MAX_GRID_VALUES 64

#define MODEL_OPTIONS \
	{ OPT_BETA, "beta", "beta", "B", "the Boltzmann rationality (default 1)" }, \
	{ OPT_BELLMAN, "bellman", "kind", "soft|hard", "backups (default soft)" }, \
	{ OPT_GAMMA_H, "gamma-h", "gamma", "G", "the human's discount (default the MDP's)" }, \
	{ OPT_DYNAMICS_H, "dynamics-h", "dyn", "true|slip:P|FILE", \
	    "the dynamics the human believes (default true)" }

#define FIT_OPTIONS \
	MODEL_OPTIONS, \
	{ OPT_L2, "l2", "lambda", "L", "L2 penalty (lambda/2)|theta|^2 (default 0)" }, \
	{ OPT_MAX_ITER, "max-iter", "n", "N", "L-BFGS iterations at most (default 1000)" }

static const struct cli_option fit_options[] = {
	FIT_OPTIONS,
	{ 't', "threads", "n", "N", "threads in LAPACK's solves (default 1)" },
	{ 'o', "output", "file", "FILE", "write to FILE atomically" },
	CLI_OPTIONS_END
};
static const struct cli_spec fit_spec = {
	"fit", "[file ...]",
	"The MLE of theta under the human model, with its sensitivity report.",
	fit_options,
	"Reads an mdp (or gridworld) record, then demo, choice and pref records;\n"
	"writes {\"type\":\"fit\",\"theta\":[..],\"loglik\":..,\"alpha\":..,\"G\":..,...}.\n"
};

static const struct cli_option grid_options[] = {
	FIT_OPTIONS,
	{ OPT_GRID, "grid", "models", "\"KEY=LIST ...\"",
	    "alternative models: beta, gamma-h, slip-h (repeatable)" },
	{ 't', "threads", "n", "N", "threads (models run in parallel)" },
	{ 'o', "output", "file", "FILE", "write to FILE atomically" },
	CLI_OPTIONS_END
};
static const struct cli_spec grid_spec = {
	"grid", "[file ...]",
	"Re-fit under alternative human models; how far theta moves per TV.",
	grid_options,
	"Writes the fit record under the assumed model, then one sensitivity\n"
	"record per model of the product of the --grid lists.\n"
};

static const struct cli_option simulate_options[] = {
	{ OPT_THETA, "theta", "list", "LIST", "the true theta (required)" },
	MODEL_OPTIONS,
	{ OPT_SLIP_H, "slip-h", "p", "P", "same as --dynamics-h slip:P" },
	{ OPT_BIAS, "bias", "bias", "adversarial:EPS|random:EPS",
	    "demonstrate theta + EPS v, v least identifiable or random" },
	{ OPT_TRAJECTORIES, "trajectories", "n", "N", "demonstrations (default 100)" },
	{ OPT_HORIZON, "horizon", "h", "H", "steps of each (default 20)" },
	{ OPT_EXACT, "exact", NULL, NULL, "expected weights as choice records, not a sample" },
	{ 's', "seed", "seed", "SEED", "the demonstrations' seed (default 0)" },
	{ 't', "threads", "n", "N", "threads in LAPACK's solves (default 1)" },
	{ 'o', "output", "file", "FILE", "write to FILE atomically" },
	CLI_OPTIONS_END
};
static const struct cli_spec simulate_spec = {
	"simulate", "[file]",
	"Demonstrations of a true theta by a (possibly biased) human model.",
	simulate_options,
	"Reads an mdp or gridworld record; writes it, a simulation record and\n"
	"the demo records, ready for fit.\n"
};

/* The human model as the options give it. */
struct setup {
	double beta, gamma_h, l2;	/* gamma_h NAN: the MDP's */
	int hard, max_iter;
	const char *dynamics;		/* NULL or "true", "slip:P" or a file */
};

static void
setup_init(struct setup *su)
{
	memset(su, 0, sizeof *su);
	su->beta = 1;
	su->gamma_h = NAN;
}

/* 1 when c is one of MODEL_OPTIONS or FIT_OPTIONS. */
static int
setup_option(struct setup *su, int c, const char *arg)
{
	static const char *const kinds[] = { "soft", "hard" };

	switch (c) {
	case OPT_BETA: su->beta = cli_parse_double("--beta", arg, 1e-12, 1e12); return 1;
	case OPT_BELLMAN: su->hard = cli_parse_choice("--bellman", arg, kinds, 2); return 1;
	case OPT_GAMMA_H: su->gamma_h = cli_parse_double("--gamma-h", arg, 0, 0.999999999); return 1;
	case OPT_DYNAMICS_H: su->dynamics = arg; return 1;
	case OPT_L2: su->l2 = cli_parse_double("--l2", arg, 0, 1e12); return 1;
	case OPT_MAX_ITER: su->max_iter = (int)cli_parse_u64("--max-iter", arg, 1, 1000000); return 1;
	}
	return 0;
}

/* A --dynamics-h file: an mdp or gridworld record, or transitions. */
struct dyn_file {
	const struct rewinfer_mdp *truth;
	struct rewinfer_translist t;
	struct rewinfer_mdp m;
	int have_mdp;
};

static int
dyn_record(struct rec *r, void *arg)
{
	struct dyn_file *f = arg;
	const char *type;
	size_t len;
	int rc = rec_get_str(r, "type", &type, &len);

	if (rc == REC_OK && (strcmp(type, "mdp") == 0 || strcmp(type, "gridworld") == 0)) {
		if (f->have_mdp || f->t.n)
			return rec_errorf(r, "believed dynamics: one %s record and nothing else", type);
		if (rewinfer_mdp_from_rec(&f->m, r) < 0)
			return -1;
		f->have_mdp = 1;
		if (f->m.S != f->truth->S || f->m.A != f->truth->A)
			return rec_errorf(r, "believed dynamics: %d states x %d actions where the MDP has %d x %d",
			    f->m.S, f->m.A, f->truth->S, f->truth->A);
		return 0;
	}
	if (rc == REC_OK && strcmp(type, "transition") != 0)
		return rec_errorf(r, "type '%.*s': expected mdp, gridworld or transition",
		    (int)(len > 40 ? 40 : len), type);
	if (f->have_mdp)
		return rec_errorf(r, "believed dynamics: one mdp record and nothing else");
	return rewinfer_translist_add(&f->t, r, f->truth->S, f->truth->A);
}

/* The believed dynamics of su->dynamics into *out; NULL: the true ones. */
static const struct rewinfer_mdp *
believed_dynamics(const char *spec, const struct rewinfer_mdp *truth, struct rewinfer_mdp *out,
    const struct cli_opts *o)
{
	if (!spec || strcmp(spec, "true") == 0)
		return NULL;
	if (strncmp(spec, "slip:", 5) == 0) {
		double slip = cli_parse_double("--dynamics-h slip:P", spec + 5, 0, 1);

		if (rewinfer_mdp_slip(out, truth, slip) < 0)
			die("%s", loam_error());
		return out;
	}
	{
		struct dyn_file f = { .truth = truth };
		struct stream s;

		stream_init(&s, o);
		stream_file(&s, spec, dyn_record, &f);
		stream_end(&s);
		if (f.have_mdp) {
			*out = f.m;
		} else if (f.t.n == 0) {
			die("%s: no transitions", spec);
		} else if (rewinfer_translist_mdp(out, &f.t, truth) < 0) {
			const char *e = loam_error();

			die("%s: %s", spec, strncmp(e, "rewinfer: ", 10) == 0 ? e + 10 : e);
		}
		rewinfer_translist_release(&f.t);
		return out;
	}
}

/* One thread unless -t says otherwise: the solves are small, and
 * OpenBLAS's idle threads spinning around them cost more than they
 * save. */
static void
lapack_threads(const struct cli_opts *o)
{
	cli_set_threads(o->threads > 0 ? o->threads : 1);
}

static int
data_record(struct rec *r, void *arg)
{
	return rewinfer_data_add(arg, r);
}

/* The inputs read into D: an MDP and at least one observation. */
static void
load_data(struct rewinfer_data *D, const struct cli_opts *o)
{
	struct stream s;

	rewinfer_data_init(D);
	stream_init(&s, o);
	stream_run(&s, o->argc, o->argv, data_record, D);
	if (!D->have_mdp)
		die("%s: no mdp or gridworld record", o->argc ? o->argv[0] : "<stdin>");
	if (D->pairs == 0 && D->npref == 0)
		die("%s: no demo, choice or pref records", o->argc ? o->argv[0] : "<stdin>");
}

static void
write_double_or_null(struct recw *w, const char *key, double v)
{
	if (isfinite(v))
		recw_double(w, key, v);
	else
		recw_null(w, key);
}

/* The assumed model's fit and report. */
struct fit {
	struct rewinfer_model h;
	struct rewinfer_mdp dyn;
	struct rewinfer_prefs prefs;
	double *theta, loglik;
	struct rewinfer_report rep;
};

static void
fit_run(struct fit *f, const struct rewinfer_data *D, const struct setup *su,
    const struct cli_opts *o)
{
	const struct rewinfer_mdp *m = &D->mdp;

	memset(f, 0, sizeof *f);
	f->h.beta = su->beta;
	f->h.hard = su->hard;
	f->h.gamma = isnan(su->gamma_h) ? m->gamma : su->gamma_h;
	f->h.dynamics = believed_dynamics(su->dynamics, m, &f->dyn, o);
	rewinfer_data_prefs(D, f->h.gamma, &f->prefs);
	f->theta = xcalloc((size_t)m->d, sizeof *f->theta);
	f->rep.direction = xcalloc((size_t)m->d, sizeof *f->rep.direction);
	if (rewinfer_fit_prefs(m, &f->h, D->w, &f->prefs, su->l2, su->max_iter, f->theta,
	    &f->loglik) < 0 ||
	    rewinfer_sensitivity_prefs(m, &f->h, D->w, &f->prefs, su->l2, f->theta, &f->rep) < 0)
		die("%s", loam_error());
}

static void
fit_release(struct fit *f)
{
	if (f->h.dynamics)
		rewinfer_mdp_release(&f->dyn);
	rewinfer_prefs_release(&f->prefs);
	free(f->theta);
	free(f->rep.direction);
}

static void
write_fit(struct recw *w, const struct fit *f, const struct rewinfer_data *D)
{
	int d = D->mdp.d;

	recw_begin(w);
	recw_str(w, "type", "fit");
	recw_doubles(w, "theta", f->theta, (size_t)d);
	recw_double(w, "loglik", f->loglik);
	recw_double(w, "alpha", f->rep.alpha);
	recw_double(w, "G", f->rep.G);
	write_double_or_null(w, "condition", f->rep.condition);
	recw_doubles(w, "direction", f->rep.direction, (size_t)d);
	write_double_or_null(w, "amplification", f->rep.amplification);
	recw_double(w, "lambda_max", f->rep.lambda_max);
	recw_double(w, "beta", f->h.beta);
	recw_str(w, "bellman", f->h.hard ? "hard" : "soft");
	recw_double(w, "gamma_h", f->h.gamma);
	recw_uint(w, "demos", D->demos);
	recw_uint(w, "choices", D->choices);
	recw_uint(w, "pairs", D->pairs);
	recw_uint(w, "prefs", D->npref);
	if (recw_end(w) != 0)
		die("%s", loam_error());
}

static int
cmd_fit(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct setup su;
	struct rewinfer_data D;
	struct fit f;
	struct recw w;
	const char *arg;
	int c;

	setup_init(&su);
	cli_begin(&o, argc, argv, &fit_spec, 0);
	while ((c = cli_next(&o, &arg)) != -1)
		setup_option(&su, c, arg);
	lapack_threads(&o);
	load_data(&D, &o);
	fit_run(&f, &D, &su, &o);
	recw_init(&w, cli_out_open(&out, o.output), o.output);
	write_fit(&w, &f, &D);
	cli_out_commit(&out);
	recw_release(&w);
	fit_release(&f);
	rewinfer_data_release(&D);
	return cli_exit();
}

/* The grid's lists; n 0: the assumed model's value only. */
struct grid_axis {
	const char *key;
	double v[MAX_GRID_VALUES];
	int n;
};

static void
grid_parse(struct grid_axis ax[3], const char *arg)
{
	char *copy = xstrdup(arg), *cur = copy, *item;

	while ((item = strsep(&cur, " ;")) != NULL) {
		static const double lo[3] = { 1e-12, 0, 0 }, hi[3] = { 1e12, 0.999999999, 1 };
		char *eq = strchr(item, '=');
		int k;

		if (!*item)
			continue;
		if (!eq)
			usage_error("--grid: '%s' is not KEY=LIST", item);
		*eq = '\0';
		for (k = 0; k < 3 && strcmp(ax[k].key, item) != 0; k++)
			;
		if (k == 3)
			usage_error("--grid: '%s' is not beta, gamma-h or slip-h", item);
		if (ax[k].n)
			usage_error("--grid: %s given twice", item);
		if (!eq[1])
			usage_error("--grid: %s has no values", item);
		ax[k].n = (int)cli_parse_doubles("--grid", eq + 1, ',', lo[k], hi[k], ax[k].v,
		    MAX_GRID_VALUES);
	}
	free(copy);
}

/* One alternative model's results. */
struct grid_row {
	double beta, gamma_h, slip_h;	/* slip_h NAN: the assumed dynamics */
	double *theta, loglik, tv, wkl;
	char err[256];
};

static void
grid_model(struct grid_row *g, const struct rewinfer_data *D, const struct fit *f,
    const struct setup *su, const double *pi0, const double *rho)
{
	const struct rewinfer_mdp *m = &D->mdp;
	struct rewinfer_model h = { .beta = g->beta, .gamma = g->gamma_h, .hard = f->h.hard,
		.dynamics = f->h.dynamics };
	struct rewinfer_mdp slipped;
	struct rewinfer_prefs prefs;
	struct rewinfer_eval e;
	int rc = 0;

	if (!isnan(g->slip_h)) {
		rc = rewinfer_mdp_slip(&slipped, m, g->slip_h);
		h.dynamics = &slipped;
	}
	rewinfer_data_prefs(D, h.gamma, &prefs);
	rewinfer_eval_init(&e, m);
	memcpy(g->theta, f->theta, (size_t)m->d * sizeof *g->theta);
	if (rc == 0)
		rc = rewinfer_fit_prefs(m, &h, D->w, &prefs, su->l2, su->max_iter, g->theta,
		    &g->loglik);
	/* The alternative's policy at the assumed model's θ̂. */
	if (rc == 0)
		rc = rewinfer_policy(&e, m, &h, f->theta);
	if (rc == 0) {
		g->tv = rewinfer_tv(m->S, m->A, rho, e.pi, pi0);
		g->wkl = rewinfer_wkl(m->S, m->A, rho, e.pi, pi0);
	} else {
		snprintf(g->err, sizeof g->err, "%s", loam_error());
	}
	rewinfer_eval_release(&e);
	rewinfer_prefs_release(&prefs);
	if (!isnan(g->slip_h) && h.dynamics == &slipped)
		rewinfer_mdp_release(&slipped);
}

static double
norm2(const double *x, int d)
{
	double s = 0;

	for (int j = 0; j < d; j++)
		s += x[j] * x[j];
	return sqrt(s);
}

static void
write_grid_row(struct recw *w, const struct grid_row *g, const struct fit *f, int d)
{
	double n0 = norm2(f->theta, d), n1 = norm2(g->theta, d), diff = 0, ndiff = 0, dot = 0;

	for (int j = 0; j < d; j++) {
		double u0 = n0 > 0 ? f->theta[j] / n0 : 0, u1 = n1 > 0 ? g->theta[j] / n1 : 0;

		diff += (g->theta[j] - f->theta[j]) * (g->theta[j] - f->theta[j]);
		ndiff += (u1 - u0) * (u1 - u0);
		dot += u0 * u1;
	}
	diff = sqrt(diff);
	recw_begin(w);
	recw_str(w, "type", "sensitivity");
	recw_object(w, "model");
	recw_double(w, "beta", g->beta);
	recw_double(w, "gamma_h", g->gamma_h);
	if (isnan(g->slip_h))
		recw_null(w, "slip_h");
	else
		recw_double(w, "slip_h", g->slip_h);
	recw_close(w);
	recw_doubles(w, "theta", g->theta, (size_t)d);
	recw_double(w, "loglik", g->loglik);
	recw_double(w, "tv", g->tv);
	write_double_or_null(w, "wkl", g->wkl);
	recw_double(w, "delta_theta", diff);
	recw_double(w, "delta_normalised", sqrt(ndiff));
	write_double_or_null(w, "cos", n0 > 0 && n1 > 0 ? fmax(-1, fmin(1, dot)) : NAN);
	write_double_or_null(w, "bound", 2 * f->rep.G * g->tv / f->rep.alpha);
	write_double_or_null(w, "ratio", g->tv > 0 ? diff / g->tv : NAN);
	if (recw_end(w) != 0)
		die("%s", loam_error());
}

static int
cmd_grid(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct setup su;
	struct rewinfer_data D;
	struct fit f;
	struct recw w;
	struct rewinfer_eval e;
	struct grid_axis ax[3] = { { .key = "beta" }, { .key = "gamma-h" }, { .key = "slip-h" } };
	struct grid_row *rows;
	const char *arg;
	double *rho;
	int c, nmodels, d, threads;

	setup_init(&su);
	cli_begin(&o, argc, argv, &grid_spec, 0);
	while ((c = cli_next(&o, &arg)) != -1)
		if (!setup_option(&su, c, arg) && c == OPT_GRID)
			grid_parse(ax, arg);
	/* Threads over models, one each inside LAPACK: OpenBLAS's results
	 * move in the last bits with its thread count. */
	threads = omp_get_max_threads();
	cli_set_threads(1);
	if (!ax[0].n && !ax[1].n && !ax[2].n)
		usage_error("--grid \"KEY=LIST ...\" is required");
	nmodels = (ax[0].n ? ax[0].n : 1) * (ax[1].n ? ax[1].n : 1) * (ax[2].n ? ax[2].n : 1);
	if (nmodels > MAX_MODELS)
		usage_error("--grid: %d models (at most %d)", nmodels, MAX_MODELS);
	load_data(&D, &o);
	d = D.mdp.d;
	fit_run(&f, &D, &su, &o);
	if (D.pairs == 0)
		die("grid needs demonstrations (demo or choice records): TV is on their states");
	rho = xmalloc((size_t)D.mdp.S * sizeof *rho);
	rewinfer_state_dist(D.mdp.S, D.mdp.A, D.w, rho);
	rewinfer_eval_init(&e, &D.mdp);
	if (rewinfer_policy(&e, &D.mdp, &f.h, f.theta) < 0)
		die("%s", loam_error());
	rows = xcalloc((size_t)nmodels, sizeof *rows);
	for (int i = 0; i < nmodels; i++) {
		int ib = ax[0].n ? i / ((ax[1].n ? ax[1].n : 1) * (ax[2].n ? ax[2].n : 1)) : 0;
		int ig = ax[1].n ? i / (ax[2].n ? ax[2].n : 1) % ax[1].n : 0;
		int is = ax[2].n ? i % ax[2].n : 0;

		rows[i].beta = ax[0].n ? ax[0].v[ib] : f.h.beta;
		rows[i].gamma_h = ax[1].n ? ax[1].v[ig] : f.h.gamma;
		rows[i].slip_h = ax[2].n ? ax[2].v[is] : NAN;
		rows[i].theta = xmalloc((size_t)d * sizeof *rows[i].theta);
	}
	/* Each model is fitted from θ̂ on its own buffers: the rows do not
	 * depend on the thread count, and are written in grid order. */
#pragma omp parallel for schedule(dynamic) num_threads(threads)
	for (int i = 0; i < nmodels; i++)
		grid_model(&rows[i], &D, &f, &su, e.pi, rho);
	for (int i = 0; i < nmodels; i++)
		if (rows[i].err[0])
			die("model beta %g gamma-h %g: %s", rows[i].beta, rows[i].gamma_h, rows[i].err);
	recw_init(&w, cli_out_open(&out, o.output), o.output);
	write_fit(&w, &f, &D);
	for (int i = 0; i < nmodels; i++)
		write_grid_row(&w, &rows[i], &f, d);
	cli_out_commit(&out);
	recw_release(&w);
	for (int i = 0; i < nmodels; i++)
		free(rows[i].theta);
	free(rows);
	free(rho);
	rewinfer_eval_release(&e);
	fit_release(&f);
	rewinfer_data_release(&D);
	return cli_exit();
}

/* simulate's input: the first mdp or gridworld record, kept as text. */
struct env {
	struct rewinfer_mdp m;
	char *text;
	size_t len;
};

static int
env_record(struct rec *r, void *arg)
{
	struct env *env = arg;
	const char *t;
	size_t len;

	if (rewinfer_mdp_from_rec(&env->m, r) < 0)
		return -1;
	t = rec_to_string(r, &len);
	env->text = xmalloc(len + 1);
	memcpy(env->text, t, len + 1);
	env->len = len;
	return STREAM_STOP;
}

/* simulate's options beside the human model's. */
struct sim_opts {
	struct setup su;
	const char *theta_arg, *slip_arg;
	char slip_spec[64];
	enum rewinfer_bias bias;
	double eps;
	uint64_t ntraj, horizon;
	int exact;
};

static void
sim_parse_bias(struct sim_opts *so, const char *arg)
{
	if (strncmp(arg, "adversarial:", 12) == 0) {
		so->bias = REWINFER_BIAS_ADVERSARIAL;
		so->eps = cli_parse_double("--bias adversarial:EPS", arg + 12, 0, 1e6);
	} else if (strncmp(arg, "random:", 7) == 0) {
		so->bias = REWINFER_BIAS_RANDOM;
		so->eps = cli_parse_double("--bias random:EPS", arg + 7, 0, 1e6);
	} else {
		usage_error("--bias: '%s' is not adversarial:EPS or random:EPS", arg);
	}
}

static void
sim_parse(struct sim_opts *so, struct cli_opts *o, int argc, char *argv[])
{
	const char *arg;
	int c;

	memset(so, 0, sizeof *so);
	setup_init(&so->su);
	so->bias = REWINFER_BIAS_NONE;
	so->ntraj = 100;
	so->horizon = 20;
	cli_begin(o, argc, argv, &simulate_spec, 0);
	while ((c = cli_next(o, &arg)) != -1) {
		if (setup_option(&so->su, c, arg))
			continue;
		switch (c) {
		case OPT_THETA: so->theta_arg = arg; break;
		case OPT_SLIP_H: so->slip_arg = arg; break;
		case OPT_EXACT: so->exact = 1; break;
		case OPT_TRAJECTORIES: so->ntraj = cli_parse_u64("--trajectories", arg, 1, 1 << 24); break;
		case OPT_HORIZON: so->horizon = cli_parse_u64("--horizon", arg, 1, 1 << 20); break;
		case OPT_BIAS: sim_parse_bias(so, arg); break;
		}
	}
	if (!so->theta_arg)
		usage_error("--theta LIST is required");
	lapack_threads(o);
	if (so->slip_arg && so->su.dynamics)
		usage_error("--slip-h and --dynamics-h: one or the other");
	if (so->slip_arg) {
		cli_parse_double("--slip-h", so->slip_arg, 0, 1);
		snprintf(so->slip_spec, sizeof so->slip_spec, "slip:%s", so->slip_arg);
		so->su.dynamics = so->slip_spec;
	}
	if (so->ntraj * so->horizon > (UINT64_C(1) << 28))
		usage_error("--trajectories x --horizon is over 2^28 steps");
	if (o->argc > 1)
		usage_error("simulate reads one input, not '%s'", o->argv[1]);
}

/* --theta: exactly d numbers. */
static double *
parse_theta(const char *arg, int d)
{
	double *theta = xmalloc((size_t)d * sizeof *theta);
	size_t n = cli_parse_doubles("--theta", arg, ',', -1e12, 1e12, theta, (size_t)d);

	if (n != (size_t)d)
		usage_error("--theta: %zu values where the MDP has %d features", n, d);
	return theta;
}

/* The simulated demonstrator and what simulate writes of it. */
struct sim {
	struct rewinfer_model h;
	struct rewinfer_mdp dyn;	/* h's believed dynamics, if any */
	struct rewinfer_eval e;		/* e.pi: the demonstrator's policy */
	double *theta, *demo_theta, *dir;
	double *w;			/* S*A: the demonstrator's expected visits */
	double tv, wkl;
	int *pairs;			/* the sample; NULL with --exact */
};

static void
sim_run(struct sim *sm, const struct sim_opts *so, const struct cli_opts *o,
    const struct rewinfer_mdp *m)
{
	struct rewinfer_model h0;
	size_t SA = (size_t)m->S * m->A;
	double *pi0;
	int d = m->d;

	sm->theta = parse_theta(so->theta_arg, d);
	sm->h.beta = so->su.beta;
	sm->h.hard = so->su.hard;
	sm->h.gamma = isnan(so->su.gamma_h) ? m->gamma : so->su.gamma_h;
	sm->h.dynamics = believed_dynamics(so->su.dynamics, m, &sm->dyn, o);
	/* The reference: the same β and backups under the MDP's discount and
	 * true dynamics, as fit assumes by default; biases are measured from
	 * its policy at θ*. */
	h0 = sm->h;
	h0.gamma = m->gamma;
	h0.dynamics = NULL;
	sm->demo_theta = xmalloc((size_t)d * sizeof *sm->demo_theta);
	sm->dir = xmalloc((size_t)d * sizeof *sm->dir);
	sm->w = xmalloc(SA * sizeof *sm->w);
	pi0 = xmalloc(SA * sizeof *pi0);
	rewinfer_eval_init(&sm->e, m);
	if (rewinfer_policy(&sm->e, m, &h0, sm->theta) < 0)
		die("%s", loam_error());
	memcpy(pi0, sm->e.pi, SA * sizeof *pi0);
	if (rewinfer_bias_direction(m, &h0, sm->theta, pi0, so->horizon, so->bias, o->seed,
	    sm->dir) < 0)
		die("%s", loam_error());
	for (int j = 0; j < d; j++)
		sm->demo_theta[j] = sm->theta[j] + so->eps * sm->dir[j];
	if (rewinfer_policy(&sm->e, m, &sm->h, sm->demo_theta) < 0)
		die("%s", loam_error());
	rewinfer_bias_size(m, sm->e.pi, pi0, so->horizon, sm->w, &sm->tv, &sm->wkl);
	sm->pairs = NULL;
	if (!so->exact) {
		sm->pairs = xmalloc((size_t)(so->ntraj * so->horizon) * 2 * sizeof *sm->pairs);
		rewinfer_simulate(m, sm->e.pi, o->seed, 0, (size_t)so->ntraj,
		    (size_t)so->horizon, sm->pairs);
	}
	free(pi0);
}

static void
sim_release(struct sim *sm)
{
	free(sm->theta);
	free(sm->demo_theta);
	free(sm->dir);
	free(sm->w);
	free(sm->pairs);
	rewinfer_eval_release(&sm->e);
	if (sm->h.dynamics)
		rewinfer_mdp_release(&sm->dyn);
}

static void
write_simulation(struct recw *w, const struct sim *sm, const struct sim_opts *so, int d)
{
	recw_begin(w);
	recw_str(w, "type", "simulation");
	recw_doubles(w, "theta", sm->theta, (size_t)d);
	recw_doubles(w, "theta_demo", sm->demo_theta, (size_t)d);
	recw_str(w, "bias", so->bias == REWINFER_BIAS_ADVERSARIAL ? "adversarial" :
	    so->bias == REWINFER_BIAS_RANDOM ? "random" : "none");
	recw_double(w, "eps", so->eps);
	recw_doubles(w, "direction", sm->dir, (size_t)d);
	recw_double(w, "tv", sm->tv);
	write_double_or_null(w, "wkl", sm->wkl);
	recw_double(w, "beta", sm->h.beta);
	recw_str(w, "bellman", sm->h.hard ? "hard" : "soft");
	recw_double(w, "gamma_h", sm->h.gamma);
	recw_uint(w, "trajectories", so->exact ? 0 : so->ntraj);
	recw_uint(w, "horizon", so->horizon);
	if (recw_end(w) != 0)
		die("%s", loam_error());
}

/* --exact: the expected weights as choice records, as many pairs as the
 * sample would have; otherwise the sample as demo records. */
static void
write_demos(struct recw *w, const struct sim *sm, const struct sim_opts *so,
    const struct rewinfer_mdp *m)
{
	size_t SA = (size_t)m->S * m->A;

	for (size_t i = 0; so->exact && i < SA; i++) {
		if (!(sm->w[i] > 0))
			continue;
		recw_begin(w);
		recw_str(w, "type", "choice");
		recw_int(w, "s", (int64_t)(i / (size_t)m->A));
		recw_int(w, "a", (int64_t)(i % (size_t)m->A));
		recw_double(w, "w", sm->w[i] * (double)(so->ntraj * so->horizon));
		if (recw_end(w) != 0)
			die("%s", loam_error());
	}
	for (uint64_t t = 0; !so->exact && t < so->ntraj; t++) {
		recw_begin(w);
		recw_str(w, "type", "demo");
		recw_array(w, "traj");
		for (uint64_t k = 0; k < so->horizon; k++) {
			const int *p = sm->pairs + (t * so->horizon + k) * 2;

			recw_array(w, NULL);
			recw_int(w, NULL, p[0]);
			recw_int(w, NULL, p[1]);
			recw_close(w);
		}
		recw_close(w);
		if (recw_end(w) != 0)
			die("%s", loam_error());
	}
}

static int
cmd_simulate(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct sim_opts so;
	struct sim sm;
	struct env env = { .text = NULL };
	struct recw w;
	struct stream s;
	struct rec *er;

	sim_parse(&so, &o, argc, argv);
	stream_init(&s, &o);
	stream_run(&s, o.argc, o.argv, env_record, &env);
	if (!env.text)
		die("%s: no mdp or gridworld record", o.argc ? o.argv[0] : "<stdin>");
	sim_run(&sm, &so, &o, &env.m);
	recw_init(&w, cli_out_open(&out, o.output), o.output);
	er = rec_parse(env.text, env.len, "mdp", 1);
	if (!er)
		die("%s", loam_error());
	recw_rec(&w, er);
	rec_free(er);
	write_simulation(&w, &sm, &so, env.m.d);
	write_demos(&w, &sm, &so, &env.m);
	cli_out_commit(&out);
	recw_release(&w);
	sim_release(&sm);
	free(env.text);
	rewinfer_mdp_release(&env.m);
	return cli_exit();
}

int
main(int argc, char *argv[])
{
	static const struct cli_command commands[] = {
		{ "fit", cmd_fit, &fit_spec },
		{ "grid", cmd_grid, &grid_spec },
		{ "simulate", cmd_simulate, &simulate_spec },
	};

	return cli_subcommand(argc, argv, commands, sizeof commands / sizeof *commands,
	    NULL, NULL, "Each command's options: reward-sensitivity COMMAND --help.\n");
}
