/*
 * congest-route - Congested Bandits (after Awasthi, Bhatia, Gollapudi
 * and Kollias, ICML 2022): an online router that plans for the
 * congestion its own choices cause, its simulator and its exact
 * planner; see congest-route(1).
 *
 * The method is lib/method/congest.c; this file reads requests and
 * feedback, keeps the decisions awaiting feedback, and saves and loads
 * the router's state.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "conf.h"
#include "congest.h"
#include "rec.h"
#include "recw.h"
#include "rng.h"
#include "stream.h"
#include "util.h"

enum {
	OPT_PROFILES = CLI_LONG, OPT_NOISE, OPT_HORIZON, OPT_ALGO, OPT_EVERY, OPT_WINDOW,
	OPT_ARMS, OPT_DELTA, OPT_MAX_STATES, OPT_LOOKAHEAD, OPT_MONOTONE, OPT_SW_WINDOW,
	OPT_SAVE, OPT_LOAD, OPT_CONTEXTS,
};

#define STATE_VERSION 1
#define MAX_ARMS 1024
#define MAX_WINDOW 1000
/* carcb's ridge: lambda I. */
#define CARCB_LAMBDA 1.0

#define ALGO_OPTIONS \
	{ OPT_ALGO, "algo", "name", "NAME", \
	    "carmab (default), ucb1, sw-ucb, known, carcb or carmab-ctx" }, \
	{ OPT_DELTA, "delta", "d", "D", "the confidence (default 0.05)" }, \
	{ OPT_MONOTONE, "monotone", NULL, NULL, \
	    "project estimates onto non-increasing profiles" }, \
	{ OPT_MAX_STATES, "max-states", "n", "N", \
	    "the exact planner's limit on K^Δ states (default 1048576)" }, \
	{ OPT_LOOKAHEAD, "lookahead", "h", "H", \
	    "beyond --max-states, plan by lookahead of depth H" }, \
	{ OPT_SW_WINDOW, "sw-window", "n", "N", "sw-ucb's window of feedbacks (default 1000)" }

static const struct cli_option route_options[] = {
	{ 'q', "quiet", NULL, NULL, "no summary line on stderr" },
	{ OPT_PROFILES, "profiles", "file", "FILE", "the arms, Δ, and known's true profiles" },
	{ OPT_ARMS, "arms", "list", "LIST", "the arms' names, without --profiles" },
	{ OPT_WINDOW, "window", "n", "N", "the congestion window Δ, without --profiles" },
	{ OPT_HORIZON, "horizon", "t", "T", "T in the confidence radius (default: the steps)" },
	ALGO_OPTIONS,
	{ OPT_LOAD, "load", "file", "FILE", "start from a saved state" },
	{ OPT_SAVE, "save", "file", "FILE", "save the state at the end (atomically)" },
	{ 'o', "output", "file", "FILE", "write to FILE atomically" },
	CLI_OPTIONS_END
};
static const struct cli_spec route_spec = {
	"route", "[file ...]",
	"Answer each request with an arm; learn from the feedback.",
	route_options,
	"Reads {\"type\":\"request\",\"t\":T} and {\"type\":\"feedback\",\"t\":T,\"reward\":R};\n"
	"writes a decision per request at once, and a summary at the end.\n"
};

static const struct cli_option sim_options[] = {
	{ 'q', "quiet", NULL, NULL, "no summary line on stderr" },
	{ OPT_PROFILES, "profiles", "file", "FILE", "the true profiles" },
	{ OPT_CONTEXTS, "contexts", "file", "FILE", "contexts: their profiles and features" },
	{ OPT_NOISE, "noise", "sigma", "S", "Gaussian noise's standard deviation (default 0.1)" },
	{ OPT_HORIZON, "horizon", "t", "T", "steps (default 1000)" },
	{ 's', "seed", "seed", "SEED", "the noise's seed (default 0)" },
	{ OPT_EVERY, "every", "n", "N", "a step record every N steps (default 1; 0: none)" },
	ALGO_OPTIONS,
	{ 'o', "output", "file", "FILE", "write to FILE atomically" },
	CLI_OPTIONS_END
};
static const struct cli_spec sim_spec = {
	"sim", NULL,
	"Run an algorithm against simulated profiles; report its regret.",
	sim_options,
	"Writes step records and a summary: steps, reward, gain (g*), regret.\n"
	"One of --profiles and --contexts is required.\n"
};

static const struct cli_option plan_options[] = {
	{ OPT_PROFILES, "profiles", "file", "FILE", "the profiles (required)" },
	{ OPT_MAX_STATES, "max-states", "n", "N", "refuse more than N states (default 1048576)" },
	{ 'o', "output", "file", "FILE", "write to FILE atomically" },
	CLI_OPTIONS_END
};
static const struct cli_spec plan_spec = {
	"plan", NULL,
	"The exact optimal average reward g* and an optimal cycle.",
	plan_options,
	"Writes {\"gain\":g*,\"cycle\":[arm,...],\"states\":K^Δ}.\n"
};

/* The arms' names and, from a profiles file, the profiles. */
struct arms {
	int k, window;
	char **name;
	struct congest_model model;	/* window + 1 values per arm; empty
					   without a profiles file */
	int have_model;
};

static void
arms_release(struct arms *a)
{
	for (int i = 0; i < a->k; i++)
		free(a->name[i]);
	free(a->name);
	if (a->have_model)
		congest_model_release(&a->model);
	memset(a, 0, sizeof *a);
}

static void
arms_add(struct arms *a, const char *name, const char *where)
{
	for (int i = 0; i < a->k; i++)
		if (strcmp(a->name[i], name) == 0)
			usage_error("%s: arm '%s' twice", where, name);
	if (a->k == MAX_ARMS)
		usage_error("%s: more than %d arms", where, MAX_ARMS);
	if (!*name)
		usage_error("%s: an arm with an empty name", where);
	a->name = xreallocarray(a->name, (size_t)a->k + 1, sizeof *a->name);
	a->name[a->k++] = xstrdup(name);
}

static int
arm_index(const struct arms *a, const char *name, size_t len)
{
	for (int i = 0; i < a->k; i++)
		if (strlen(a->name[i]) == len && memcmp(a->name[i], name, len) == 0)
			return i;
	return -1;
}

/* Profiles: a map from arm name to f(0), ..., f(Δ), each in [0, 1],
 * every list of one length; path names the file in messages. */
static void
parse_profiles(struct arms *a, json_object *root, const char *path)
{
	double *f = NULL;
	size_t len = 0;

	if (!json_object_is_type(root, json_type_object) || json_object_object_length(root) == 0)
		die("%s: expected a map from arm name to its profile",
		    conf_where(root) && *conf_where(root) ? conf_where(root) : path);
	json_object_object_foreach(root, name, val) {
		size_t n;

		if (!json_object_is_type(val, json_type_array) ||
		    (n = json_object_array_length(val)) == 0)
			die("%s: arm '%s': expected a list f(0), ..., f(Δ)", conf_where(val), name);
		if (a->k == 0)
			len = n;
		else if (n != len)
			die("%s: arm '%s': %zu values where the first arm has %zu", conf_where(val),
			    name, n, len);
		if (len - 1 > MAX_WINDOW)
			die("%s: arm '%s': Δ = %zu is over %d", conf_where(val), name, len - 1,
			    MAX_WINDOW);
		arms_add(a, name, path);
		f = xreallocarray(f, (size_t)a->k * len, sizeof *f);
		for (size_t c = 0; c < n; c++) {
			json_object *v = json_object_array_get_idx(val, c);
			double *x = &f[(size_t)(a->k - 1) * len + c];

			if (rec_json_double(v, name, x) != REC_OK || !(*x >= 0 && *x <= 1))
				die("%s: arm '%s': f(%zu) is not a number in [0, 1]",
				    conf_where(v) && *conf_where(v) ? conf_where(v) : path, name, c);
		}
	}
	a->window = (int)len - 1;
	if (congest_model_init(&a->model, a->k, a->window, f) != 0)
		die("%s: %s", path, loam_error());
	a->have_model = 1;
	free(f);
}

/* A profiles file. */
static void
load_profiles(struct arms *a, const char *path)
{
	json_object *root = conf_load(path);

	if (!root)
		die("%s", loam_error());
	parse_profiles(a, root, path);
	json_object_put(root);
}

/* What the three commands' options give. */
struct setup {
	struct arms arms;
	struct congest_params par;
	const char *profiles, *arms_list, *load, *save, *contexts;
	int window;		/* -1: not given */
	int algo_given;
	double noise;
	uint64_t every;
};

static int
setup_option(struct setup *su, int c, const char *arg)
{
	int algo;

	switch (c) {
	case OPT_PROFILES: su->profiles = arg; return 1;
	case OPT_ARMS: su->arms_list = arg; return 1;
	case OPT_WINDOW:
		su->window = (int)cli_parse_u64("--window", arg, 0, MAX_WINDOW);
		return 1;
	case OPT_HORIZON:
		su->par.horizon = cli_parse_u64("--horizon", arg, 1, UINT64_C(1) << 53);
		return 1;
	case OPT_ALGO:
		if ((algo = congest_algo_parse(arg)) < 0)
			usage_error("--algo: '%s' is not carmab, ucb1, sw-ucb, known, carcb or carmab-ctx",
			    arg);
		su->par.algo = (enum congest_algo)algo;
		su->algo_given = 1;
		return 1;
	case OPT_DELTA:
		su->par.delta = cli_parse_double("--delta", arg, 1e-300, 0.999999);
		return 1;
	case OPT_MONOTONE: su->par.monotone = 1; return 1;
	case OPT_MAX_STATES:
		su->par.max_states = cli_parse_u64("--max-states", arg, 1, UINT64_C(1) << 32);
		return 1;
	case OPT_LOOKAHEAD:
		su->par.lookahead = (int)cli_parse_u64("--lookahead", arg, 1, 64);
		return 1;
	case OPT_SW_WINDOW:
		su->par.sw_window = (int)cli_parse_u64("--sw-window", arg, 1, 1 << 24);
		return 1;
	case OPT_NOISE: su->noise = cli_parse_double("--noise", arg, 0, 1e6); return 1;
	case OPT_EVERY: su->every = cli_parse_u64("--every", arg, 0, UINT64_MAX); return 1;
	case OPT_SAVE: su->save = arg; return 1;
	case OPT_LOAD: su->load = arg; return 1;
	case OPT_CONTEXTS: su->contexts = arg; return 1;
	}
	return 0;
}

static void
setup_init(struct setup *su)
{
	memset(su, 0, sizeof *su);
	congest_params_default(&su->par);
	su->window = -1;
	su->noise = 0.1;
	su->every = 1;
}

/* The arms and Δ from --profiles, or --arms and --window. */
static void
setup_arms(struct setup *su, int need_profiles)
{
	if (su->profiles) {
		load_profiles(&su->arms, su->profiles);
		if (su->window >= 0 && su->window != su->arms.window)
			usage_error("--window %d: the profiles give Δ = %d", su->window,
			    su->arms.window);
		if (su->arms_list) {
			char *copy = xstrdup(su->arms_list), *cur = copy, *name;
			int i = 0;

			while ((name = cli_list_next(&cur, ',', "--arms", su->arms_list)))
				if (i >= su->arms.k || strcmp(name, su->arms.name[i++]) != 0)
					usage_error("--arms %s: the profiles' arms are not these",
					    su->arms_list);
			if (i != su->arms.k)
				usage_error("--arms %s: the profiles' arms are not these",
				    su->arms_list);
			free(copy);
		}
	} else if (need_profiles) {
		usage_error("--profiles FILE is required");
	} else {
		char *copy, *cur, *name;

		if (!su->arms_list || su->window < 0)
			usage_error("the arms: --profiles FILE, or --arms LIST and --window Δ");
		copy = cur = xstrdup(su->arms_list);
		while ((name = cli_list_next(&cur, ',', "--arms", su->arms_list)))
			arms_add(&su->arms, name, "--arms");
		free(copy);
		su->arms.window = su->window;
	}
	su->par.k = su->arms.k;
	su->par.window = su->arms.window;
}

/* The agent: congest_agent, or congest_carcb for carcb (whose feature
 * count d is known at its first context in route). */
struct agent {
	struct congest_params par;
	struct congest_agent ag;
	struct congest_carcb cb;
	int is_cb, ready;
	int d;			/* carcb's features */
};

static void
agent_fail(void)
{
	if (strstr(loam_error(), "states exceed"))
		usage_error("%s: raise --max-states or plan by --lookahead H", loam_error());
	die("%s", loam_error());
}

static void
agent_init(struct agent *a, const struct congest_params *par, const struct arms *arms, int d)
{
	memset(a, 0, sizeof *a);
	a->par = *par;
	a->is_cb = par->algo == CONGEST_CARCB;
	if (par->algo == CONGEST_CARMAB_CTX)
		usage_error("--algo carmab-ctx: only in sim, with --contexts FILE");
	if (par->algo == CONGEST_KNOWN && !arms->have_model)
		usage_error("--algo known needs --profiles FILE");
	if (a->is_cb) {
		a->d = d;
		if (d == 0) {
			uint64_t n;

			/* No context yet: check what can be checked now. */
			if (congest_states(par->k, par->window, par->max_states, &n) != 0 &&
			    !par->lookahead)
				agent_fail();
			return;
		}
		if (congest_carcb_init(&a->cb, par, d, CARCB_LAMBDA) != 0)
			agent_fail();
	} else if (congest_agent_init(&a->ag, par, arms->have_model ? &arms->model : NULL) != 0) {
		agent_fail();
	}
	a->ready = 1;
}

static void
agent_release(struct agent *a)
{
	if (a->is_cb) {
		if (a->ready)
			congest_carcb_release(&a->cb);
	} else if (a->ready) {
		congest_agent_release(&a->ag);
	}
}

static const struct congest_hist *
agent_hist(const struct agent *a)
{
	return a->is_cb ? &a->cb.hist : &a->ag.hist;
}

static int
agent_lookahead(const struct agent *a)
{
	return a->is_cb ? a->cb.use_lookahead : a->ag.use_lookahead;
}

/* The planned gain, NaN where there is none (lookahead, ucb). */
static double
agent_gain(const struct agent *a)
{
	if (!a->ready || agent_lookahead(a))
		return NAN;
	if (a->is_cb)
		return a->cb.plan.nstates ? a->cb.plan.gain : NAN;
	if (a->par.algo != CONGEST_CARMAB && a->par.algo != CONGEST_KNOWN)
		return NAN;
	return a->ag.plan.nstates ? a->ag.plan.gain : NAN;
}

static void
write_double_or_null(struct recw *w, const char *key, double v)
{
	if (isfinite(v))
		recw_double(w, key, v);
	else
		recw_null(w, key);
}

/* The estimated profiles: the mean reward seen per (arm, congestion). */
static void
write_profiles(struct recw *w, const struct agent *a, const struct arms *arms)
{
	int p = arms->window + 1;
	double *est;

	if (a->is_cb || !a->ready)
		return;
	est = xmalloc((size_t)arms->k * (size_t)p * sizeof *est);
	congest_agent_means(&a->ag, est);
	recw_object(w, "est_profiles");
	for (int i = 0; i < arms->k; i++)
		recw_doubles(w, arms->name[i], est + (size_t)i * (size_t)p, (size_t)p);
	recw_close(w);
	free(est);
}

/*
 * route.  Decisions awaiting feedback, keyed by t: an open-addressing
 * table (linear probing, deletion by backward shift).
 */
struct pending {
	int64_t t;
	int used, arm, congestion;
	double *phi;		/* carcb: the d features of the decision */
};

struct route {
	struct setup su;
	struct agent a;
	struct recw w;
	struct pending *tab;
	size_t cap, len;	/* cap a power of two */
	double *phi;		/* carcb: this request's features, k (Δ+1) d */
	int *count;		/* k: the window's counts before a decision */
	uint64_t steps, feedbacks;
	double reward_sum;
};

static size_t
slot_of(int64_t t, size_t cap)
{
	uint64_t h = (uint64_t)t * UINT64_C(0x9e3779b97f4a7c15);

	return (size_t)(h >> 32) & (cap - 1);
}

static struct pending *
pending_find(struct route *ro, int64_t t)
{
	if (!ro->cap)
		return NULL;
	for (size_t i = slot_of(t, ro->cap);; i = (i + 1) & (ro->cap - 1)) {
		if (!ro->tab[i].used)
			return NULL;
		if (ro->tab[i].t == t)
			return &ro->tab[i];
	}
}

static struct pending *pending_add(struct route *ro, int64_t t);

static void
pending_grow(struct route *ro)
{
	struct pending *old = ro->tab;
	size_t ocap = ro->cap;

	ro->cap = ocap ? 2 * ocap : 64;
	ro->tab = xcalloc(ro->cap, sizeof *ro->tab);
	ro->len = 0;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].used)
			*pending_add(ro, old[i].t) = old[i];
	free(old);
}

static struct pending *
pending_add(struct route *ro, int64_t t)
{
	size_t i;

	if (2 * (ro->len + 1) > ro->cap)
		pending_grow(ro);
	for (i = slot_of(t, ro->cap); ro->tab[i].used; i = (i + 1) & (ro->cap - 1))
		;
	ro->tab[i].used = 1;
	ro->tab[i].t = t;
	ro->tab[i].phi = NULL;
	ro->len++;
	return &ro->tab[i];
}

static void
pending_remove(struct route *ro, struct pending *e)
{
	size_t i = (size_t)(e - ro->tab), j = i;

	free(e->phi);
	ro->tab[i].used = 0;
	ro->len--;
	/* Backward shift: move up each later entry of the run that may
	 * now sit in the hole. */
	for (;;) {
		size_t home;

		j = (j + 1) & (ro->cap - 1);
		if (!ro->tab[j].used)
			return;
		home = slot_of(ro->tab[j].t, ro->cap);
		if (((j - home) & (ro->cap - 1)) >= ((j - i) & (ro->cap - 1))) {
			ro->tab[i] = ro->tab[j];
			ro->tab[j].used = 0;
			i = j;
		}
	}
}

/* carcb's context: per arm, Δ+1 lists of d features (one per
 * congestion), into *phi, k (Δ+1) d values, allocated when *d is 0 (d
 * is then fixed by this context).  -1 with loam_seterr() when ctx is
 * not that. */
static int
parse_features(const struct arms *arms, json_object *ctx, int *d, double **phi)
{
	int p = arms->window + 1, seen = 0;

	json_object_object_foreach(ctx, name, val) {
		int arm = arm_index(arms, name, strlen(name));

		if (arm < 0)
			return loam_seterr("context: unknown arm '%s'", name);
		if (!json_object_is_type(val, json_type_array) ||
		    json_object_array_length(val) != (size_t)p)
			return loam_seterr("context: arm '%s': expected %d lists of features "
			    "(congestion 0 to %d)", name, p, p - 1);
		for (int c = 0; c < p; c++) {
			json_object *row = json_object_array_get_idx(val, (size_t)c);
			size_t n = json_object_is_type(row, json_type_array) ?
			    json_object_array_length(row) : 0;

			if (n == 0 || n > 4096 || (*d && n != (size_t)*d))
				return loam_seterr("context: arm '%s', congestion %d: expected "
				    "a list of %d numbers", name, c, *d ? *d : 1);
			if (!*d) {
				*d = (int)n;
				*phi = xcalloc((size_t)arms->k * (size_t)p * n, sizeof **phi);
			}
			for (size_t j = 0; j < n; j++) {
				double *x = &(*phi)[((size_t)arm * (size_t)p + (size_t)c) * n + j];

				if (rec_json_double(json_object_array_get_idx(row, j), "context",
				    x) != REC_OK)
					return loam_seterr("context: arm '%s': %s", name, loam_error());
			}
		}
		seen++;
	}
	if (seen != arms->k)
		return loam_seterr("context: %d of the %d arms", seen, arms->k);
	return 0;
}

/* A request's context, into ro->phi. */
static int
read_context(struct route *ro, struct rec *r)
{
	json_object *ctx;
	int rc = rec_get_object(r, "context", &ctx);

	if (rc == REC_ABSENT)
		return rec_errorf(r, "carcb needs a context: per arm, %d lists of features",
		    ro->su.arms.window + 1);
	if (rc != REC_OK || parse_features(&ro->su.arms, ctx, &ro->a.d, &ro->phi) != 0)
		return rec_errorf(r, "%s", loam_error());
	return 0;
}

static int
route_request(struct route *ro, struct rec *r, int64_t t)
{
	struct arms *arms = &ro->su.arms;
	const struct congest_hist *h;
	struct pending *e;
	int arm, c;

	if (pending_find(ro, t))
		return rec_errorf(r, "request t %lld: a decision for t %lld awaits its feedback",
		    (long long)t, (long long)t);
	if (ro->a.is_cb) {
		if (read_context(ro, r) != 0)
			return -1;
		if (!ro->a.ready) {
			if (congest_carcb_init(&ro->a.cb, &ro->a.par, ro->a.d, CARCB_LAMBDA) != 0)
				die("%s", loam_error());
			ro->a.ready = 1;
		}
	}
	/* The congestion map before the decision: decide moves the window. */
	h = agent_hist(&ro->a);
	memcpy(ro->count, h->count, (size_t)arms->k * sizeof *ro->count);
	if (ro->a.is_cb)
		arm = congest_carcb_decide(&ro->a.cb, ro->phi, &c);
	else
		arm = congest_decide(&ro->a.ag, &c);
	if (arm < 0)
		return rec_errorf(r, "%s", loam_error());
	recw_begin(&ro->w);
	recw_str(&ro->w, "type", "decision");
	recw_int(&ro->w, "t", t);
	recw_str(&ro->w, "arm", arms->name[arm]);
	recw_object(&ro->w, "congestion");
	for (int i = 0; i < arms->k; i++)
		recw_int(&ro->w, arms->name[i], ro->count[i]);
	recw_close(&ro->w);
	if (agent_lookahead(&ro->a))
		recw_str(&ro->w, "planner", "lookahead");
	if (recw_end(&ro->w) != 0)
		die("%s", loam_error());
	e = pending_add(ro, t);
	e->arm = arm;
	e->congestion = c;
	if (ro->a.is_cb) {
		size_t d = (size_t)ro->a.d;

		e->phi = xmalloc(d * sizeof *e->phi);
		memcpy(e->phi, ro->phi + ((size_t)arm * (size_t)(arms->window + 1) + (size_t)c) * d,
		    d * sizeof *e->phi);
	}
	ro->steps++;
	return 0;
}

static int
route_feedback(struct route *ro, struct rec *r, int64_t t)
{
	struct pending *e = pending_find(ro, t);
	const char *name;
	size_t len;
	double reward;
	int rc;

	if (!e)
		return rec_errorf(r, "feedback for t %lld: no decision awaits it (unknown t, "
		    "feedback before its request, or given twice)", (long long)t);
	rc = rec_get_double(r, "reward", &reward);
	if (rc == REC_ABSENT)
		return rec_errorf(r, "field 'reward' missing");
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	if (!isfinite(reward))
		return rec_errorf(r, "field 'reward': not a finite number");
	rc = rec_get_str(r, "arm", &name, &len);
	if (rc == REC_OK) {
		int arm = arm_index(&ro->su.arms, name, len);

		if (arm < 0)
			return rec_errorf(r, "unknown arm '%.*s'", (int)(len > 64 ? 64 : len), name);
		if (arm != e->arm)
			return rec_errorf(r, "feedback for t %lld names arm '%s'; the decision was "
			    "'%s'", (long long)t, ro->su.arms.name[arm], ro->su.arms.name[e->arm]);
	} else if (rc != REC_ABSENT) {
		return rec_errorf(r, "%s", loam_error());
	}
	if (ro->a.is_cb)
		rc = congest_carcb_feedback(&ro->a.cb, e->phi, reward);
	else
		rc = congest_feedback(&ro->a.ag, e->arm, e->congestion, reward);
	if (rc != 0)
		return rec_errorf(r, "%s", loam_error());
	ro->feedbacks++;
	ro->reward_sum += reward;
	pending_remove(ro, e);
	return 0;
}

static int
route_one(struct rec *r, void *arg)
{
	struct route *ro = arg;
	const char *type;
	size_t len;
	int64_t t;
	int rc = rec_get_str(r, "type", &type, &len);

	if (rc == REC_ABSENT)
		return rec_errorf(r, "field 'type' missing (request or feedback)");
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	rc = rec_get_int(r, "t", &t);
	if (rc == REC_ABSENT)
		return rec_errorf(r, "field 't' missing");
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	if (len == 7 && memcmp(type, "request", 7) == 0)
		return route_request(ro, r, t);
	if (len == 8 && memcmp(type, "feedback", 8) == 0)
		return route_feedback(ro, r, t);
	return rec_errorf(r, "type '%.*s': expected request or feedback",
	    (int)(len > 32 ? 32 : len), type);
}

/*
 * The state file: one JSON record, version STATE_VERSION, with the
 * parameters, the window, the agent's statistics and the decisions
 * awaiting feedback.
 */
static void
put_u64s(struct recw *w, const char *key, const uint64_t *v, size_t n)
{
	recw_uints(w, key, v, n);
}

static int
cmp_pending(const void *x, const void *y)
{
	const struct pending *a = *(const struct pending *const *)x;
	const struct pending *b = *(const struct pending *const *)y;

	return (a->t > b->t) - (a->t < b->t);
}

static void
state_save(struct route *ro, const char *path)
{
	struct arms *arms = &ro->su.arms;
	const struct agent *a = &ro->a;
	const struct congest_params *p = &a->par;
	size_t len = (size_t)arms->k * (size_t)(arms->window + 1);
	const struct congest_hist *h = agent_hist(a);
	struct pending **pend = xreallocarray(NULL, ro->len + 1, sizeof *pend);
	struct cli_out out;
	struct recw w;
	size_t np = 0;

	recw_init(&w, cli_out_open(&out, path), path);
	recw_begin(&w);
	recw_str(&w, "format", "congest-route state");
	recw_int(&w, "version", STATE_VERSION);
	recw_str(&w, "algo", congest_algo_name(p->algo));
	recw_array(&w, "arms");
	for (int i = 0; i < arms->k; i++)
		recw_str(&w, NULL, arms->name[i]);
	recw_close(&w);
	recw_int(&w, "window", arms->window);
	recw_double(&w, "delta", p->delta);
	recw_uint(&w, "horizon", p->horizon);
	recw_int(&w, "monotone", p->monotone);
	recw_uint(&w, "max_states", p->max_states);
	recw_int(&w, "lookahead", p->lookahead);
	recw_int(&w, "sw_window", p->sw_window);
	recw_uint(&w, "steps", ro->steps);
	recw_uint(&w, "feedbacks", ro->feedbacks);
	recw_double(&w, "reward_sum", ro->reward_sum);
	recw_int(&w, "ready", a->ready);
	if (a->ready) {
		recw_uint(&w, "t", h->t);
		recw_array(&w, "last");
		for (int i = 0; i < arms->window; i++)
			recw_int(&w, NULL, congest_hist_at(h, i));
		recw_close(&w);
	}
	if (a->is_cb && a->ready) {
		size_t d = (size_t)a->d;

		recw_int(&w, "d", a->d);
		recw_uint(&w, "cb_feedbacks", a->cb.feedbacks);
		recw_doubles(&w, "vinv", a->cb.vinv, d * d);
		recw_doubles(&w, "b", a->cb.b, d);
		recw_doubles(&w, "theta", a->cb.theta, d);
	} else if (a->ready) {
		const struct congest_agent *ag = &a->ag;

		put_u64s(&w, "n", ag->n, len);
		recw_doubles(&w, "mean", ag->mean, len);
		put_u64s(&w, "n_epoch", ag->n_epoch, len);
		put_u64s(&w, "n_start", ag->n_start, len);
		recw_int(&w, "replan", ag->replan);
		recw_uint(&w, "epochs", ag->epochs);
		recw_doubles(&w, "plan_model", ag->plan_model.f, len);
		put_u64s(&w, "arm_n", ag->arm_n, (size_t)arms->k);
		recw_doubles(&w, "arm_sum", ag->arm_sum, (size_t)arms->k);
		recw_uint(&w, "agent_feedbacks", ag->feedbacks);
		if (p->algo == CONGEST_SWUCB) {
			recw_array(&w, "sw_arm");
			for (uint64_t i = 0; i < ag->sw_len; i++)
				recw_int(&w, NULL, ag->sw_arm[i]);
			recw_close(&w);
			recw_doubles(&w, "sw_reward", ag->sw_reward, ag->sw_len);
			recw_uint(&w, "sw_pos", ag->sw_pos);
		}
	}
	for (size_t i = 0; i < ro->cap; i++)
		if (ro->tab[i].used)
			pend[np++] = &ro->tab[i];
	qsort(pend, np, sizeof *pend, cmp_pending);
	recw_array(&w, "pending");
	for (size_t i = 0; i < np; i++) {
		recw_array(&w, NULL);
		recw_int(&w, NULL, pend[i]->t);
		recw_int(&w, NULL, pend[i]->arm);
		recw_int(&w, NULL, pend[i]->congestion);
		if (pend[i]->phi)
			for (int j = 0; j < a->d; j++)
				recw_double(&w, NULL, pend[i]->phi[j]);
		recw_close(&w);
	}
	recw_close(&w);
	if (recw_end(&w) != 0)
		die("%s: %s", path, loam_error());
	cli_out_commit(&out);
	recw_release(&w);
	free(pend);
}

/* Loading: every field checked for its shape; a message names the file. */
struct loader {
	const char *path;
	struct rec *r;
};

static void
ld_bad(const struct loader *l, const char *key)
{
	die("%s: not a congest-route state: field '%s' missing or bad%s%s", l->path, key,
	    *loam_error() ? ": " : "", loam_error());
}

static int64_t
ld_int(const struct loader *l, const char *key, int64_t min, int64_t max)
{
	int64_t v;

	loam_seterr("%s", "");
	if (rec_get_int(l->r, key, &v) != REC_OK || v < min || v > max)
		ld_bad(l, key);
	return v;
}

static double
ld_double(const struct loader *l, const char *key)
{
	double v;

	loam_seterr("%s", "");
	if (rec_get_double(l->r, key, &v) != REC_OK || !isfinite(v))
		ld_bad(l, key);
	return v;
}

static void
ld_doubles(const struct loader *l, const char *key, double *v, size_t n)
{
	size_t got;

	loam_seterr("%s", "");
	if (rec_get_doubles(l->r, key, v, n, &got) != REC_OK || got != n)
		ld_bad(l, key);
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			ld_bad(l, key);
}

static void
ld_u64s(const struct loader *l, const char *key, uint64_t *v, size_t n)
{
	double *x = xmalloc((n ? n : 1) * sizeof *x);

	ld_doubles(l, key, x, n);
	for (size_t i = 0; i < n; i++) {
		if (!(x[i] >= 0 && x[i] <= 9007199254740992.0) || x[i] != floor(x[i]))
			ld_bad(l, key);
		v[i] = (uint64_t)x[i];
	}
	free(x);
}

/* The parameters and arms of a state file, into su (options given must
 * agree), then the agent and the pending decisions into ro. */
static void
state_load(struct route *ro, const char *path)
{
	struct rec_reader rd;
	struct loader l = { path, NULL };
	struct setup *su = &ro->su;
	struct congest_params *p = &su->par;
	const char *s;
	size_t len, n;
	json_object *arr;
	int algo, ready;

	if (rec_reader_open(&rd, path) != 0)
		die("%s", loam_error());
	if (rec_next(&rd, &l.r) != 1)
		die("%s: %s", path, *loam_error() ? loam_error() : "empty: not a congest-route state");
	if (rec_get_str(l.r, "format", &s, &len) != REC_OK || strcmp(s, "congest-route state") != 0)
		die("%s: not a congest-route state", path);
	if (ld_int(&l, "version", 0, INT64_MAX) != STATE_VERSION)
		die("%s: state version %lld; this congest-route reads version %d", path,
		    (long long)ld_int(&l, "version", 0, INT64_MAX), STATE_VERSION);
	if (rec_get_str(l.r, "algo", &s, &len) != REC_OK || (algo = congest_algo_parse(s)) < 0)
		ld_bad(&l, "algo");
	if (su->algo_given && algo != (int)p->algo)
		usage_error("--algo %s: the state %s is %s", congest_algo_name(p->algo), path, s);
	p->algo = (enum congest_algo)algo;
	if (rec_get(l.r, "arms", &arr) != REC_OK || !json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) == 0 || n > MAX_ARMS)
		ld_bad(&l, "arms");
	if (su->profiles || su->arms_list) {
		int same = su->arms.k == (int)n;

		for (size_t i = 0; same && i < n; i++) {
			json_object *v = json_object_array_get_idx(arr, i);

			same = json_object_is_type(v, json_type_string) &&
			    strcmp(json_object_get_string(v), su->arms.name[i]) == 0;
		}
		if (!same)
			usage_error("the arms given are not those of the state %s", path);
	} else {
		for (size_t i = 0; i < n; i++) {
			json_object *v = json_object_array_get_idx(arr, i);

			if (!json_object_is_type(v, json_type_string))
				ld_bad(&l, "arms");
			arms_add(&su->arms, json_object_get_string(v), path);
		}
	}
	su->arms.window = (int)ld_int(&l, "window", 0, MAX_WINDOW);
	if (su->window >= 0 && su->window != su->arms.window)
		usage_error("--window %d: the state %s has Δ = %d", su->window, path, su->arms.window);
	p->k = su->arms.k;
	p->window = su->arms.window;
	p->delta = ld_double(&l, "delta");
	p->horizon = (uint64_t)ld_int(&l, "horizon", 0, INT64_MAX);
	p->monotone = (int)ld_int(&l, "monotone", 0, 1);
	p->max_states = (uint64_t)ld_int(&l, "max_states", 1, INT64_MAX);
	p->lookahead = (int)ld_int(&l, "lookahead", 0, 64);
	p->sw_window = (int)ld_int(&l, "sw_window", 1, 1 << 24);
	ro->steps = (uint64_t)ld_int(&l, "steps", 0, INT64_MAX);
	ro->feedbacks = (uint64_t)ld_int(&l, "feedbacks", 0, INT64_MAX);
	ro->reward_sum = ld_double(&l, "reward_sum");
	ready = (int)ld_int(&l, "ready", 0, 1);
	{
		int is_cb = p->algo == CONGEST_CARCB;
		int d = is_cb && ready ? (int)ld_int(&l, "d", 1, 4096) : 0;
		struct arms shape = { .have_model = 1 };
		size_t cells = (size_t)p->k * (size_t)(p->window + 1);

		/* known's truth is its plan_model, saved. */
		shape.k = p->k;
		shape.window = p->window;
		if (p->algo == CONGEST_KNOWN) {
			congest_model_init(&shape.model, p->k, p->window, NULL);
			ld_doubles(&l, "plan_model", shape.model.f, cells);
		} else {
			shape.have_model = 0;
		}
		agent_init(&ro->a, p, &shape, d);
		if (shape.have_model)
			congest_model_release(&shape.model);
		if (ready) {
			struct congest_hist *h = is_cb ? &ro->a.cb.hist : &ro->a.ag.hist;
			uint64_t t = (uint64_t)ld_int(&l, "t", 0, INT64_MAX);
			double *x = xmalloc(((size_t)p->window + 1) * sizeof *x);

			ld_doubles(&l, "last", x, (size_t)p->window);
			for (int i = 0; i < p->window; i++) {
				if (x[i] != floor(x[i]) || x[i] < -1 || x[i] >= p->k)
					ld_bad(&l, "last");
				if (x[i] >= 0)
					congest_hist_push(h, (int)x[i]);
			}
			h->t = t;
			free(x);
		}
		if (ready && is_cb) {
			struct congest_carcb *cb = &ro->a.cb;
			size_t dd = (size_t)d;

			cb->feedbacks = (uint64_t)ld_int(&l, "cb_feedbacks", 0, INT64_MAX);
			ld_doubles(&l, "vinv", cb->vinv, dd * dd);
			ld_doubles(&l, "b", cb->b, dd);
			ld_doubles(&l, "theta", cb->theta, dd);
			ro->phi = xcalloc(cells * dd, sizeof *ro->phi);
		} else if (ready) {
			struct congest_agent *ag = &ro->a.ag;

			ld_u64s(&l, "n", ag->n, cells);
			ld_doubles(&l, "mean", ag->mean, cells);
			ld_u64s(&l, "n_epoch", ag->n_epoch, cells);
			ld_u64s(&l, "n_start", ag->n_start, cells);
			ag->replan = (int)ld_int(&l, "replan", 0, 1);
			ag->epochs = (uint64_t)ld_int(&l, "epochs", 0, INT64_MAX);
			ld_doubles(&l, "plan_model", ag->plan_model.f, cells);
			ld_u64s(&l, "arm_n", ag->arm_n, (size_t)p->k);
			ld_doubles(&l, "arm_sum", ag->arm_sum, (size_t)p->k);
			ag->feedbacks = (uint64_t)ld_int(&l, "agent_feedbacks", 0, INT64_MAX);
			if (p->algo == CONGEST_SWUCB) {
				double *x;

				if (rec_get_array_len(l.r, "sw_arm", &n) != REC_OK ||
				    n > (size_t)p->sw_window)
					ld_bad(&l, "sw_arm");
				x = xmalloc((n ? n : 1) * sizeof *x);
				ld_doubles(&l, "sw_arm", x, n);
				for (size_t i = 0; i < n; i++) {
					if (x[i] != floor(x[i]) || x[i] < 0 || x[i] >= p->k)
						ld_bad(&l, "sw_arm");
					ag->sw_arm[i] = (int)x[i];
				}
				free(x);
				ld_doubles(&l, "sw_reward", ag->sw_reward, n);
				ag->sw_len = n;
				ag->sw_pos = (uint64_t)ld_int(&l, "sw_pos", 0, p->sw_window - 1);
			}
			/* The epoch's plan, solved again from its profile. */
			if (p->algo == CONGEST_CARMAB && !ag->replan && !ag->use_lookahead) {
				congest_plan_release(&ag->plan);
				if (congest_plan_solve(&ag->plan, &ag->plan_model, p->max_states) != 0)
					die("%s: %s", path, loam_error());
			}
		}
	}
	if (rec_get(l.r, "pending", &arr) != REC_OK || !json_object_is_type(arr, json_type_array))
		ld_bad(&l, "pending");
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		size_t want = 3 + (ro->a.is_cb ? (size_t)ro->a.d : 0);
		int64_t v[3];
		struct pending *pe;

		if (!json_object_is_type(e, json_type_array) || json_object_array_length(e) != want)
			ld_bad(&l, "pending");
		for (int j = 0; j < 3; j++)
			if (rec_json_int(json_object_array_get_idx(e, (size_t)j), "pending",
			    &v[j]) != REC_OK)
				ld_bad(&l, "pending");
		if (v[1] < 0 || v[1] >= p->k || v[2] < 0 || v[2] > p->window || pending_find(ro, v[0]))
			ld_bad(&l, "pending");
		pe = pending_add(ro, v[0]);
		pe->arm = (int)v[1];
		pe->congestion = (int)v[2];
		if (ro->a.is_cb) {
			pe->phi = xmalloc((size_t)ro->a.d * sizeof *pe->phi);
			for (int j = 0; j < ro->a.d; j++)
				if (rec_json_double(json_object_array_get_idx(e, (size_t)j + 3),
				    "pending", &pe->phi[j]) != REC_OK)
					ld_bad(&l, "pending");
		}
	}
	rec_reader_close(&rd);
}

static int
cmd_route(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct stream s;
	struct route ro;
	struct stat st;
	const char *arg;
	FILE *fp;
	double gain;
	int c;

	memset(&ro, 0, sizeof ro);
	setup_init(&ro.su);
	cli_begin(&o, argc, argv, &route_spec, 0);
	while ((c = cli_next(&o, &arg)) != -1)
		setup_option(&ro.su, c, arg);
	if (ro.su.load) {
		if (ro.su.profiles || ro.su.arms_list)
			setup_arms(&ro.su, 0);
		state_load(&ro, ro.su.load);
	} else {
		setup_arms(&ro.su, 0);
		agent_init(&ro.a, &ro.su.par, &ro.su.arms, 0);
	}
	ro.count = xcalloc((size_t)ro.su.arms.k, sizeof *ro.count);
	fp = cli_out_open(&out, o.output);
	recw_init(&ro.w, fp, o.output);
	/* A coprocess: each decision goes out at once, except into a file. */
	ro.w.unbuffered = !(fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode));
	stream_init(&s, &o);
	stream_run(&s, o.argc, o.argv, route_one, &ro);
	gain = agent_gain(&ro.a);
	recw_begin(&ro.w);
	recw_str(&ro.w, "type", "summary");
	recw_str(&ro.w, "algo", congest_algo_name(ro.a.par.algo));
	recw_uint(&ro.w, "steps", ro.steps);
	recw_uint(&ro.w, "feedbacks", ro.feedbacks);
	recw_uint(&ro.w, "pending", ro.len);
	write_double_or_null(&ro.w, "avg_reward",
	    ro.feedbacks ? ro.reward_sum / (double)ro.feedbacks : NAN);
	recw_uint(&ro.w, "epochs", ro.a.is_cb || !ro.a.ready ? 0 : ro.a.ag.epochs);
	write_double_or_null(&ro.w, "planned_gain", gain);
	if (ro.a.ready && agent_lookahead(&ro.a))
		recw_str(&ro.w, "planner", "lookahead");
	write_profiles(&ro.w, &ro.a, &ro.su.arms);
	if (recw_end(&ro.w) != 0)
		die("%s", loam_error());
	cli_out_commit(&out);
	if (ro.su.save)
		state_save(&ro, ro.su.save);
	if (!o.quiet && ro.feedbacks)
		note("%llu decisions, %llu feedbacks: mean reward %.4g",
		    (unsigned long long)ro.steps, (unsigned long long)ro.feedbacks,
		    ro.reward_sum / (double)ro.feedbacks);
	else if (!o.quiet)
		note("%llu decisions, no feedback", (unsigned long long)ro.steps);
	recw_release(&ro.w);
	for (size_t i = 0; i < ro.cap; i++)
		if (ro.tab[i].used)
			free(ro.tab[i].phi);
	free(ro.tab);
	free(ro.phi);
	free(ro.count);
	agent_release(&ro.a);
	arms_release(&ro.su.arms);
	return cli_exit();
}

/* sim --contexts: per context, the true profiles and carcb's features
 * (phi: n contexts of k (Δ+1) d values).  Without --contexts, one
 * context: --profiles, with one-hot features of (arm, congestion). */
struct contexts {
	int n, d;
	struct congest_model *model;	/* n; [0] borrowed from the arms
					   without --contexts */
	double *phi;
};

/* A contexts file: a list of maps, each with "profiles" (as a profiles
 * file; the arms in the same order in all) and "features" (as a
 * request's context in route). */
static void
load_contexts(struct contexts *cs, struct arms *arms, const char *path)
{
	json_object *root = conf_load(path);
	size_t cells;

	if (!root)
		die("%s", loam_error());
	if (!json_object_is_type(root, json_type_array) || json_object_array_length(root) == 0)
		die("%s: expected a list of contexts, each with profiles and features", path);
	if (json_object_array_length(root) > (1 << 20))
		die("%s: more than %d contexts", path, 1 << 20);
	cs->n = (int)json_object_array_length(root);
	cs->model = xcalloc((size_t)cs->n, sizeof *cs->model);
	for (int x = 0; x < cs->n; x++) {
		json_object *ctx = json_object_array_get_idx(root, (size_t)x), *prof, *feat;
		const char *where = conf_where(ctx) && *conf_where(ctx) ? conf_where(ctx) : path;
		struct arms one;
		double *phi = x ? cs->phi + (size_t)x * cells * (size_t)cs->d : NULL;
		int d = cs->d;

		if (!json_object_is_type(ctx, json_type_object) ||
		    !json_object_object_get_ex(ctx, "profiles", &prof) ||
		    !json_object_object_get_ex(ctx, "features", &feat) ||
		    !json_object_is_type(feat, json_type_object))
			die("%s: context %d: expected a map with profiles and features", where, x);
		memset(&one, 0, sizeof one);
		parse_profiles(&one, prof, path);
		if (x == 0) {
			*arms = one;
			cells = (size_t)arms->k * (size_t)(arms->window + 1);
		} else {
			if (one.k != arms->k || one.window != arms->window)
				die("%s: context %d: %d arms and Δ = %d where the first has %d and %d",
				    where, x, one.k, one.window, arms->k, arms->window);
			for (int a = 0; a < one.k; a++)
				if (strcmp(one.name[a], arms->name[a]) != 0)
					die("%s: context %d: arm '%s' where the first context has '%s'",
					    where, x, one.name[a], arms->name[a]);
		}
		congest_model_init(&cs->model[x], one.k, one.window, one.model.f);
		if (x > 0)
			arms_release(&one);
		if (parse_features(arms, feat, &d, &phi) != 0)
			die("%s: %s", where, loam_error());
		if (x == 0) {
			/* the first context fixed d: room for all of them */
			cs->d = d;
			cs->phi = xreallocarray(phi, (size_t)cs->n * cells, (size_t)d * sizeof *phi);
		}
	}
	json_object_put(root);
}

static void
contexts_release(struct contexts *cs, int loaded)
{
	for (int x = 0; loaded && x < cs->n; x++)
		congest_model_release(&cs->model[x]);
	free(cs->model);
	free(cs->phi);
}

/* sim's agent at context x: carmab-ctx and, over contexts, known are a
 * congest_ctx; carcb reads the features of x. */
static int
sim_decide(struct agent *a, struct congest_ctx *cx, const struct contexts *cs, int x, int *cong)
{
	size_t cells = (size_t)a->par.k * (size_t)(a->par.window + 1);

	if (cx->nctx)
		return congest_ctx_decide(cx, x, cong);
	if (a->is_cb)
		return congest_carcb_decide(&a->cb, cs->phi + (size_t)x * cells * (size_t)cs->d, cong);
	return congest_decide(&a->ag, cong);
}

static int
sim_feedback(struct agent *a, struct congest_ctx *cx, const struct contexts *cs, int x, int arm,
    int cong, double r)
{
	size_t cells = (size_t)a->par.k * (size_t)(a->par.window + 1);

	if (cx->nctx)
		return congest_ctx_feedback(cx, x, arm, cong, r);
	if (a->is_cb)
		return congest_carcb_feedback(&a->cb, cs->phi + ((size_t)x * cells +
		    (size_t)arm * (size_t)(a->par.window + 1) + (size_t)cong) * (size_t)cs->d, r);
	return congest_feedback(&a->ag, arm, cong, r);
}

static int
cmd_sim(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct setup su;
	struct agent a;
	struct congest_ctx cx, oracle;
	struct contexts cs;
	struct congest_sim sim, osim;
	struct congest_plan best;
	struct recw w;
	struct rng rng, ctx_rng;
	const char *arg;
	double gain = NAN, total = 0, mean_total = 0, oracle_total = 0;
	uint64_t horizon = 1000, epochs;
	size_t cells;
	int c;

	setup_init(&su);
	cli_begin(&o, argc, argv, &sim_spec, 0);
	while ((c = cli_next(&o, &arg)) != -1)
		setup_option(&su, c, arg);
	if (o.argc > 0)
		usage_error("sim reads no input: '%s'", o.argv[0]);
	memset(&cs, 0, sizeof cs);
	memset(&cx, 0, sizeof cx);
	memset(&oracle, 0, sizeof oracle);
	if (su.contexts && su.profiles)
		usage_error("--contexts and --profiles: one or the other");
	if (su.contexts) {
		load_contexts(&cs, &su.arms, su.contexts);
		su.par.k = su.arms.k;
		su.par.window = su.arms.window;
	} else {
		setup_arms(&su, 1);
		if (su.par.algo == CONGEST_CARMAB_CTX)
			usage_error("--algo carmab-ctx needs --contexts FILE");
	}
	if (su.par.horizon)
		horizon = su.par.horizon;
	su.par.horizon = horizon;
	cells = (size_t)su.par.k * (size_t)(su.par.window + 1);
	if (!su.contexts) {
		/* one context: the profiles; carcb's features one-hot in
		 * (arm, congestion) */
		cs.n = 1;
		cs.d = (int)cells;
		cs.model = xmalloc(sizeof *cs.model);
		cs.model[0] = su.arms.model;
		cs.phi = xcalloc(cells * cells, sizeof *cs.phi);
		for (size_t i = 0; i < cells; i++)
			cs.phi[i * cells + i] = 1;
	}
	memset(&a, 0, sizeof a);
	a.par = su.par;
	if (su.contexts && (su.par.algo == CONGEST_CARMAB_CTX || su.par.algo == CONGEST_KNOWN)) {
		if (congest_ctx_init(&cx, &su.par, cs.n, cs.model) != 0)
			agent_fail();
	} else {
		agent_init(&a, &su.par, &su.arms, su.par.algo == CONGEST_CARCB ? cs.d : 0);
	}
	if (su.contexts) {
		/* the oracle on the same contexts: the plan of each context's
		 * true profiles, at the shared window */
		struct congest_params op = su.par;

		op.algo = CONGEST_KNOWN;
		if (congest_ctx_init(&oracle, &op, cs.n, cs.model) != 0)
			agent_fail();
	} else {
		memset(&best, 0, sizeof best);
		if (congest_plan_solve(&best, &su.arms.model, su.par.max_states) == 0)
			gain = best.gain;
		congest_plan_release(&best);
	}
	rng_init(&rng, o.seed, RNG_CONGEST_NOISE, 0);
	rng_init(&ctx_rng, o.seed, RNG_CONGEST_CONTEXT, 0);
	congest_sim_init(&sim, &cs.model[0], su.noise, &rng);
	congest_sim_init(&osim, &cs.model[0], 0, &rng);	/* noiseless */
	recw_init(&w, cli_out_open(&out, o.output), o.output);
	for (uint64_t t = 0; t < horizon; t++) {
		int arm, cong, sc, x = 0;
		double r, mean, omean = 0;

		if (su.contexts) {
			x = (int)rng_uniform_int(&ctx_rng, (uint64_t)cs.n);
			sim.truth = osim.truth = &cs.model[x];
			if ((arm = congest_ctx_decide(&oracle, x, NULL)) < 0)
				die("%s", loam_error());
			congest_sim_play(&osim, arm, NULL, &omean);
			oracle_total += omean;
		}
		if ((arm = sim_decide(&a, &cx, &cs, x, &cong)) < 0)
			die("%s", loam_error());
		r = congest_sim_play(&sim, arm, &sc, &mean);
		if (sim_feedback(&a, &cx, &cs, x, arm, cong, r) != 0)
			die("%s", loam_error());
		total += r;
		mean_total += mean;
		if (su.every && (t + 1) % su.every == 0) {
			recw_begin(&w);
			recw_str(&w, "type", "step");
			recw_uint(&w, "t", t);
			if (su.contexts)
				recw_int(&w, "context", x);
			recw_str(&w, "arm", su.arms.name[arm]);
			recw_int(&w, "congestion", cong);
			recw_double(&w, "reward", r);
			recw_double(&w, "mean", mean);
			write_double_or_null(&w, "regret", su.contexts ? oracle_total - mean_total :
			    (double)(t + 1) * gain - mean_total);
			if (recw_end(&w) != 0)
				die("%s", loam_error());
		}
	}
	epochs = a.ready && !a.is_cb ? a.ag.epochs : 0;
	if (su.contexts)
		gain = oracle_total / (double)horizon;
	for (int x = 0; x < cx.nctx; x++)
		epochs += cx.sub[x].epochs;
	recw_begin(&w);
	recw_str(&w, "type", "summary");
	recw_str(&w, "algo", congest_algo_name(su.par.algo));
	recw_uint(&w, "steps", horizon);
	recw_double(&w, "reward", total);
	write_double_or_null(&w, "gain", gain);
	write_double_or_null(&w, "regret", su.contexts ? oracle_total - mean_total :
	    (double)horizon * gain - mean_total);
	recw_uint(&w, "epochs", epochs);
	write_double_or_null(&w, "planned_gain", su.contexts ? NAN : agent_gain(&a));
	if (a.ready && agent_lookahead(&a))
		recw_str(&w, "planner", "lookahead");
	if (su.contexts) {
		recw_int(&w, "contexts", cs.n);
		recw_double(&w, "mean_reward", mean_total / (double)horizon);
	}
	if (recw_end(&w) != 0)
		die("%s", loam_error());
	cli_out_commit(&out);
	if (!o.quiet)
		note("%s, %llu steps: reward %.4g, regret %.4g (%s %.4g)",
		    congest_algo_name(su.par.algo), (unsigned long long)horizon, total,
		    su.contexts ? oracle_total - mean_total : (double)horizon * gain - mean_total,
		    su.contexts ? "oracle per step" : "g*", gain);
	recw_release(&w);
	congest_sim_release(&sim);
	congest_sim_release(&osim);
	congest_ctx_release(&cx);
	congest_ctx_release(&oracle);
	contexts_release(&cs, su.contexts != NULL);
	agent_release(&a);
	arms_release(&su.arms);
	return cli_exit();
}

static int
cmd_plan(int argc, char *argv[])
{
	struct cli_opts o;
	struct cli_out out;
	struct setup su;
	struct congest_plan p;
	struct recw w;
	const char *arg;
	int c;

	setup_init(&su);
	cli_begin(&o, argc, argv, &plan_spec, 0);
	while ((c = cli_next(&o, &arg)) != -1)
		setup_option(&su, c, arg);
	if (o.argc > 0)
		usage_error("plan reads no input: '%s'", o.argv[0]);
	setup_arms(&su, 1);
	if (congest_plan_solve(&p, &su.arms.model, su.par.max_states) != 0) {
		congest_plan_release(&p);
		usage_error("%s: %s (raise --max-states)", su.profiles, loam_error());
	}
	recw_init(&w, cli_out_open(&out, o.output), o.output);
	recw_begin(&w);
	recw_double(&w, "gain", p.gain);
	recw_array(&w, "cycle");
	for (int i = 0; i < p.cycle_len; i++)
		recw_str(&w, NULL, su.arms.name[p.cycle[i]]);
	recw_close(&w);
	recw_uint(&w, "states", p.nstates);
	if (recw_end(&w) != 0)
		die("%s", loam_error());
	cli_out_commit(&out);
	recw_release(&w);
	congest_plan_release(&p);
	arms_release(&su.arms);
	return cli_exit();
}

int
main(int argc, char *argv[])
{
	static const struct cli_command commands[] = {
		{ "route", cmd_route, &route_spec },
		{ "sim", cmd_sim, &sim_spec },
		{ "plan", cmd_plan, &plan_spec },
	};

	return cli_subcommand(argc, argv, commands, sizeof commands / sizeof *commands,
	    NULL, NULL, "Each command's options: congest-route COMMAND --help.\n");
}
