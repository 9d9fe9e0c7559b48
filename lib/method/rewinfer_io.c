/*
 * rewinfer_io - records into rewinfer's structures; see rewinfer_io.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rewinfer_io.h"
#include "util.h"

/* rewinfer's messages without their "rewinfer: " prefix, for a record's
 * file:line message. */
static const char *
lib_message(void)
{
	const char *e = loam_error();

	return strncmp(e, "rewinfer: ", 10) == 0 ? e + 10 : e;
}

/* A field that must be an integer in [lo, hi]. */
static int
get_int_in(struct rec *r, const char *key, int64_t lo, int64_t hi, int *out)
{
	int64_t v;
	int rc = rec_get_int(r, key, &v);

	if (rc == REC_ABSENT)
		return rec_errorf(r, "field '%s' missing", key);
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	if (v < lo || v > hi)
		return rec_errorf(r, "field '%s': %lld is not in [%lld, %lld]", key,
		    (long long)v, (long long)lo, (long long)hi);
	*out = (int)v;
	return 0;
}

/* An integer element of an array, in [0, n). */
static int
json_index(struct rec *r, json_object *v, const char *what, int n, int *out)
{
	int64_t x;

	if (rec_json_int(v, what, &x) != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	if (x < 0 || x >= n)
		return rec_errorf(r, "%s %lld out of range [0, %d)", what, (long long)x, n);
	*out = (int)x;
	return 0;
}

/* A list of n numbers (field key, or an element) into out. */
static int
json_doubles(struct rec *r, json_object *v, const char *what, size_t n, double *out)
{
	if (!json_object_is_type(v, json_type_array))
		return rec_errorf(r, "%s: expected a list of numbers", what);
	if (json_object_array_length(v) != n)
		return rec_errorf(r, "%s: %zu numbers where %zu are expected", what,
		    json_object_array_length(v), n);
	for (size_t i = 0; i < n; i++)
		if (rec_json_double(json_object_array_get_idx(v, i), what, &out[i]) != REC_OK ||
		    !isfinite(out[i]))
			return rec_errorf(r, "%s: element %zu is not a finite number", what, i);
	return 0;
}

/* The optional start distribution (NULL when absent: uniform). */
static int
get_start(struct rec *r, int S, double **start)
{
	json_object *v;
	int rc = rec_get(r, "start", &v);

	*start = NULL;
	if (rc == REC_ABSENT)
		return 0;
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	*start = xmalloc((size_t)S * sizeof **start);
	if (json_doubles(r, v, "field 'start'", (size_t)S, *start) < 0) {
		free(*start);
		*start = NULL;
		return -1;
	}
	return 0;
}

static int
get_gamma(struct rec *r, double *gamma)
{
	int rc = rec_get_double(r, "gamma", gamma);

	if (rc == REC_ABSENT)
		return rec_errorf(r, "field 'gamma' missing");
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	if (!(*gamma >= 0 && *gamma < 1))
		return rec_errorf(r, "field 'gamma': %g is not in [0, 1)", *gamma);
	return 0;
}

void
rewinfer_translist_release(struct rewinfer_translist *t)
{
	free(t->s);
	free(t->a);
	free(t->s2);
	free(t->p);
	memset(t, 0, sizeof *t);
}

static const char *const trans_keys[] = { "s", "a", "s2", "p" };

/* One transition's fields f (s, a, s2, p) appended to t. */
static int
translist_push(struct rewinfer_translist *t, struct rec *r, json_object *const f[4],
    int S, int A, const char *where)
{
	char what[128];
	int s, a, s2;
	double p;

	snprintf(what, sizeof what, "%s: state", where);
	if (json_index(r, f[0], what, S, &s) < 0)
		return -1;
	snprintf(what, sizeof what, "%s: action", where);
	if (json_index(r, f[1], what, A, &a) < 0)
		return -1;
	snprintf(what, sizeof what, "%s: next state", where);
	if (json_index(r, f[2], what, S, &s2) < 0)
		return -1;
	if (rec_json_double(f[3], "p", &p) != REC_OK || !(p >= 0 && p <= 1))
		return rec_errorf(r, "%s: probability is not a number in [0, 1]", where);
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->s = xreallocarray(t->s, t->cap, sizeof *t->s);
		t->a = xreallocarray(t->a, t->cap, sizeof *t->a);
		t->s2 = xreallocarray(t->s2, t->cap, sizeof *t->s2);
		t->p = xreallocarray(t->p, t->cap, sizeof *t->p);
	}
	t->s[t->n] = s;
	t->a[t->n] = a;
	t->s2[t->n] = s2;
	t->p[t->n++] = p;
	return 0;
}

/* A transition object o, an element of an mdp record's list. */
static int
translist_push_object(struct rewinfer_translist *t, struct rec *r, json_object *o,
    int S, int A, const char *where)
{
	json_object *f[4];

	if (!json_object_is_type(o, json_type_object))
		return rec_errorf(r, "%s: expected {\"s\":..,\"a\":..,\"s2\":..,\"p\":..}", where);
	for (int k = 0; k < 4; k++)
		if (!json_object_object_get_ex(o, trans_keys[k], &f[k]))
			return rec_errorf(r, "%s: field '%s' missing", where, trans_keys[k]);
	return translist_push(t, r, f, S, A, where);
}

int
rewinfer_translist_add(struct rewinfer_translist *t, struct rec *r, int S, int A)
{
	json_object *f[4];

	for (int k = 0; k < 4; k++)
		if (rec_get(r, trans_keys[k], &f[k]) != REC_OK)
			return rec_errorf(r, "transition: field '%s' missing", trans_keys[k]);
	return translist_push(t, r, f, S, A, "transition");
}

int
rewinfer_translist_mdp(struct rewinfer_mdp *out, const struct rewinfer_translist *t,
    const struct rewinfer_mdp *truth)
{
	return rewinfer_mdp_init(out, truth->S, truth->A, truth->d, truth->gamma, t->n,
	    t->s, t->a, t->s2, t->p, truth->phi, truth->start);
}

static int
mdp_record(struct rewinfer_mdp *m, struct rec *r)
{
	struct rewinfer_translist t = { 0 };
	json_object *tr, *feat;
	double gamma, *phi = NULL, *start = NULL;
	int S, A, d, rc = -1;
	size_t nrows;

	if (get_int_in(r, "states", 1, INT32_MAX, &S) < 0 ||
	    get_int_in(r, "actions", 1, INT32_MAX, &A) < 0 || get_gamma(r, &gamma) < 0)
		return -1;
	if ((size_t)S * (size_t)A > ((size_t)1 << 31))
		return rec_errorf(r, "%d states x %d actions is too many", S, A);
	if (rec_get(r, "transitions", &tr) != REC_OK || !json_object_is_type(tr, json_type_array))
		return rec_errorf(r, "field 'transitions': expected a list of {\"s\",\"a\",\"s2\",\"p\"}");
	if (rec_get(r, "features", &feat) != REC_OK || !json_object_is_type(feat, json_type_array))
		return rec_errorf(r, "field 'features': expected a list of rows, one per (s, a)");
	nrows = json_object_array_length(feat);
	if (nrows != (size_t)S * A)
		return rec_errorf(r, "field 'features': %zu rows where %d states x %d actions need %zu",
		    nrows, S, A, (size_t)S * A);
	{
		json_object *row0 = json_object_array_get_idx(feat, 0);

		if (!json_object_is_type(row0, json_type_array) ||
		    (d = (int)json_object_array_length(row0)) < 1 || d > REWINFER_IO_MAX_FEATURES)
			return rec_errorf(r, "field 'features': row 0 is not a list of 1 to %d numbers",
			    REWINFER_IO_MAX_FEATURES);
	}
	for (size_t i = 0; i < json_object_array_length(tr); i++) {
		char where[48];

		snprintf(where, sizeof where, "transition %zu", i);
		if (translist_push_object(&t, r, json_object_array_get_idx(tr, i), S, A, where) < 0)
			goto out;
	}
	phi = xmalloc(nrows * (size_t)d * sizeof *phi);
	for (size_t i = 0; i < nrows; i++) {
		json_object *row = json_object_array_get_idx(feat, i);
		char what[128];

		snprintf(what, sizeof what, "feature row %zu (state %zu action %zu)", i,
		    i / (size_t)A, i % (size_t)A);
		if (json_object_is_type(row, json_type_array) &&
		    json_object_array_length(row) != (size_t)d) {
			rec_errorf(r, "%s: %zu features where row 0 has %d", what,
			    json_object_array_length(row), d);
			goto out;
		}
		if (json_doubles(r, row, what, (size_t)d, phi + i * d) < 0)
			goto out;
	}
	if (get_start(r, S, &start) < 0)
		goto out;
	if (rewinfer_mdp_init(m, S, A, d, gamma, t.n, t.s, t.a, t.s2, t.p, phi, start) < 0) {
		rec_errorf(r, "%s", lib_message());
		goto out;
	}
	rc = 0;
out:
	rewinfer_translist_release(&t);
	free(phi);
	free(start);
	return rc;
}

/* A named feature scheme for a w x h grid: "onehot" (d = w h) or
 * "rbf:K" (K x K Gaussian bumps centred on a K x K lattice over the grid,
 * width the lattice's spacing; d = K²). */
static double *
grid_scheme(struct rec *r, const char *name, int w, int h, int *d)
{
	size_t S = (size_t)w * h;
	double *phi;
	char *end;

	if (strcmp(name, "onehot") == 0) {
		if (S > REWINFER_IO_MAX_FEATURES) {
			rec_errorf(r, "field 'features': onehot on %zu cells is over %d features",
			    S, REWINFER_IO_MAX_FEATURES);
			return NULL;
		}
		*d = (int)S;
		phi = xcalloc(S * S, sizeof *phi);
		for (size_t s = 0; s < S; s++)
			phi[s * S + s] = 1;
		return phi;
	}
	if (strncmp(name, "rbf:", 4) == 0) {
		long K = strtol(name + 4, &end, 10);
		double sx, sy;

		if (end == name + 4 || *end || K < 1 || K * K > REWINFER_IO_MAX_FEATURES) {
			rec_errorf(r, "field 'features': '%s': K in rbf:K must be 1 to 64", name);
			return NULL;
		}
		*d = (int)(K * K);
		sx = (double)w / (double)K;
		sy = (double)h / (double)K;
		phi = xmalloc(S * (size_t)*d * sizeof *phi);
		for (size_t s = 0; s < S; s++) {
			double x = (double)(s % (size_t)w), y = (double)(s / (size_t)w);

			for (long i = 0; i < K; i++)
				for (long j = 0; j < K; j++) {
					double dx = (x - ((double)j + 0.5) * sx + 0.5) / sx;
					double dy = (y - ((double)i + 0.5) * sy + 0.5) / sy;

					phi[s * (size_t)*d + (size_t)(i * K + j)] =
					    exp(-0.5 * (dx * dx + dy * dy));
				}
		}
		return phi;
	}
	rec_errorf(r, "field 'features': '%s' is not onehot or rbf:K", name);
	return NULL;
}

static int
gridworld_record(struct rewinfer_mdp *m, struct rec *r)
{
	json_object *feat;
	double gamma, slip = 0, *phi = NULL, *start = NULL;
	int w, h, d, rc;

	if (get_int_in(r, "width", 1, REWINFER_IO_MAX_SIDE, &w) < 0 ||
	    get_int_in(r, "height", 1, REWINFER_IO_MAX_SIDE, &h) < 0 || get_gamma(r, &gamma) < 0)
		return -1;
	rc = rec_get_double(r, "slip", &slip);
	if (rc == REC_BAD)
		return rec_errorf(r, "%s", loam_error());
	if (!(slip >= 0 && slip <= 1))
		return rec_errorf(r, "field 'slip': %g is not in [0, 1]", slip);
	if (rec_get(r, "features", &feat) != REC_OK)
		return rec_errorf(r, "field 'features' missing (per-cell rows, onehot or rbf:K)");
	if (json_object_is_type(feat, json_type_string)) {
		if (!(phi = grid_scheme(r, json_object_get_string(feat), w, h, &d)))
			return -1;
	} else if (json_object_is_type(feat, json_type_array)) {
		size_t S = (size_t)w * h;
		json_object *row0;

		if (json_object_array_length(feat) != S)
			return rec_errorf(r, "field 'features': %zu rows where the %d x %d grid has %zu cells",
			    json_object_array_length(feat), w, h, S);
		row0 = json_object_array_get_idx(feat, 0);
		if (!json_object_is_type(row0, json_type_array) ||
		    (d = (int)json_object_array_length(row0)) < 1 || d > REWINFER_IO_MAX_FEATURES)
			return rec_errorf(r, "field 'features': row 0 is not a list of 1 to %d numbers",
			    REWINFER_IO_MAX_FEATURES);
		phi = xmalloc(S * (size_t)d * sizeof *phi);
		for (size_t s = 0; s < S; s++) {
			json_object *row = json_object_array_get_idx(feat, s);
			char what[128];

			snprintf(what, sizeof what, "feature row %zu (cell %zu, %zu)", s,
			    s % (size_t)w, s / (size_t)w);
			if (json_object_is_type(row, json_type_array) &&
			    json_object_array_length(row) != (size_t)d) {
				free(phi);
				return rec_errorf(r, "%s: %zu features where row 0 has %d", what,
				    json_object_array_length(row), d);
			}
			if (json_doubles(r, row, what, (size_t)d, phi + s * d) < 0) {
				free(phi);
				return -1;
			}
		}
	} else {
		return rec_errorf(r, "field 'features': expected per-cell rows, onehot or rbf:K");
	}
	if (get_start(r, w * h, &start) < 0) {
		free(phi);
		return -1;
	}
	rc = rewinfer_gridworld(m, w, h, slip, gamma, d, phi, start);
	free(phi);
	free(start);
	if (rc < 0)
		return rec_errorf(r, "%s", lib_message());
	return 0;
}

static int
is_type(struct rec *r, const char *want)
{
	const char *type;
	size_t len;

	return rec_get_str(r, "type", &type, &len) == REC_OK && strcmp(type, want) == 0;
}

int
rewinfer_mdp_from_rec(struct rewinfer_mdp *m, struct rec *r)
{
	if (is_type(r, "mdp"))
		return mdp_record(m, r);
	if (is_type(r, "gridworld"))
		return gridworld_record(m, r);
	return rec_errorf(r, "expected an mdp or gridworld record");
}

void
rewinfer_data_init(struct rewinfer_data *D)
{
	memset(D, 0, sizeof *D);
	D->pref_off = xcalloc(1, sizeof *D->pref_off);
}

void
rewinfer_data_release(struct rewinfer_data *D)
{
	if (D->have_mdp)
		rewinfer_mdp_release(&D->mdp);
	free(D->w);
	free(D->pref_pairs);
	free(D->pref_off);
	free(D->pref_y);
	memset(D, 0, sizeof *D);
}

/* A trajectory [[s, a], ...] appended to *pairs (room *cap, *used in
 * pairs), checked against m: indices in range, every step possible. */
static int
read_traj(struct rec *r, const struct rewinfer_mdp *m, json_object *v, const char *name,
    int **pairs, size_t *used, size_t *cap)
{
	size_t n, first = *used;

	if (!json_object_is_type(v, json_type_array) || (n = json_object_array_length(v)) == 0)
		return rec_errorf(r, "field '%s': expected a non-empty list of [s, a] pairs", name);
	for (size_t k = 0; k < n; k++) {
		json_object *pr = json_object_array_get_idx(v, k);
		char what[128];
		int s, a;

		if (!json_object_is_type(pr, json_type_array) || json_object_array_length(pr) != 2)
			return rec_errorf(r, "field '%s': step %zu is not a pair [s, a]", name, k);
		snprintf(what, sizeof what, "field '%s': step %zu: state", name, k);
		if (json_index(r, json_object_array_get_idx(pr, 0), what, m->S, &s) < 0)
			return -1;
		snprintf(what, sizeof what, "field '%s': step %zu: action", name, k);
		if (json_index(r, json_object_array_get_idx(pr, 1), what, m->A, &a) < 0)
			return -1;
		if (k > 0) {
			int ps = (*pairs)[2 * (first + k - 1)], pa = (*pairs)[2 * (first + k - 1) + 1];

			if (!(rewinfer_transition_prob(m, ps, pa, s) > 0))
				return rec_errorf(r, "field '%s': step %zu: state %d action %d cannot lead to state %d",
				    name, k, ps, pa, s);
		}
		if (*used == *cap) {
			*cap = *cap ? 2 * *cap : 64;
			*pairs = xreallocarray(*pairs, 2 * *cap, sizeof **pairs);
		}
		(*pairs)[2 * *used] = s;
		(*pairs)[2 * *used + 1] = a;
		(*used)++;
	}
	return 0;
}

static int
add_demo(struct rewinfer_data *D, struct rec *r)
{
	json_object *v;
	int *pairs = NULL;
	size_t used = 0, cap = 0;

	if (rec_get(r, "traj", &v) != REC_OK)
		return rec_errorf(r, "field 'traj' missing");
	if (read_traj(r, &D->mdp, v, "traj", &pairs, &used, &cap) < 0) {
		free(pairs);
		return -1;
	}
	rewinfer_count(D->mdp.A, pairs, used, D->w);
	D->demos++;
	D->pairs += used;
	free(pairs);
	return 0;
}

static int
add_choice(struct rewinfer_data *D, struct rec *r)
{
	double weight = 1;
	int s, a, rc;

	if (get_int_in(r, "s", 0, D->mdp.S - 1, &s) < 0 ||
	    get_int_in(r, "a", 0, D->mdp.A - 1, &a) < 0)
		return -1;
	rc = rec_get_double(r, "w", &weight);
	if (rc == REC_BAD)
		return rec_errorf(r, "%s", loam_error());
	if (!(weight >= 0 && isfinite(weight)))
		return rec_errorf(r, "field 'w': %g is not a finite weight >= 0", weight);
	D->w[(size_t)s * D->mdp.A + a] += weight;
	D->choices++;
	D->pairs++;
	return 0;
}

static int
add_pref(struct rewinfer_data *D, struct rec *r)
{
	json_object *va, *vb;
	size_t mark = D->pref_used;
	double y = 1;
	int rc;

	if (rec_get(r, "a", &va) != REC_OK || rec_get(r, "b", &vb) != REC_OK)
		return rec_errorf(r, "a preference needs trajectories 'a' and 'b'");
	rc = rec_get_double(r, "y", &y);
	if (rc == REC_BAD)
		return rec_errorf(r, "%s", loam_error());
	if (!(y >= 0 && y <= 1))
		return rec_errorf(r, "field 'y': %g is not in [0, 1] (1: a preferred)", y);
	if (read_traj(r, &D->mdp, va, "a", &D->pref_pairs, &D->pref_used, &D->pref_cap) < 0 ||
	    (D->pref_off[2 * D->npref + 1] = D->pref_used,
	    read_traj(r, &D->mdp, vb, "b", &D->pref_pairs, &D->pref_used, &D->pref_cap) < 0)) {
		D->pref_used = mark;
		return -1;
	}
	D->pref_y = xreallocarray(D->pref_y, D->npref + 1, sizeof *D->pref_y);
	D->pref_y[D->npref++] = y;
	D->pref_off[2 * D->npref] = D->pref_used;
	return 0;
}

int
rewinfer_data_add(struct rewinfer_data *D, struct rec *r)
{
	const char *type;
	size_t len;
	int rc = rec_get_str(r, "type", &type, &len);

	if (rc == REC_ABSENT)
		return rec_errorf(r, "field 'type' missing (mdp, gridworld, demo, choice or pref)");
	if (rc != REC_OK)
		return rec_errorf(r, "%s", loam_error());
	if (strcmp(type, "mdp") == 0 || strcmp(type, "gridworld") == 0) {
		if (D->have_mdp)
			return rec_errorf(r, "a second %s record (one MDP per input)", type);
		if (rewinfer_mdp_from_rec(&D->mdp, r) < 0)
			return -1;
		D->have_mdp = 1;
		D->w = xcalloc((size_t)D->mdp.S * D->mdp.A, sizeof *D->w);
		return 0;
	}
	/* simulate's account of the demonstrator: for the reader, not the fit. */
	if (strcmp(type, "simulation") == 0)
		return 0;
	if (strcmp(type, "demo") != 0 && strcmp(type, "choice") != 0 && strcmp(type, "pref") != 0)
		return rec_errorf(r, "type '%.*s': expected mdp, gridworld, demo, choice or pref",
		    (int)(len > 40 ? 40 : len), type);
	if (!D->have_mdp)
		return rec_errorf(r, "a %s record before the mdp (or gridworld) record", type);
	if (strcmp(type, "demo") == 0)
		return add_demo(D, r);
	if (strcmp(type, "choice") == 0)
		return add_choice(D, r);
	D->pref_off = xreallocarray(D->pref_off, 2 * D->npref + 3, sizeof *D->pref_off);
	return add_pref(D, r);
}

void
rewinfer_data_prefs(const struct rewinfer_data *D, double gamma_h, struct rewinfer_prefs *p)
{
	int d = D->mdp.d;
	double *fb = xmalloc((size_t)d * sizeof *fb);

	p->n = D->npref;
	p->dphi = xmalloc((D->npref ? D->npref : 1) * (size_t)d * sizeof *p->dphi);
	p->y = xmalloc((D->npref ? D->npref : 1) * sizeof *p->y);
	for (size_t i = 0; i < D->npref; i++) {
		size_t a0 = D->pref_off[2 * i], b0 = D->pref_off[2 * i + 1], e = D->pref_off[2 * i + 2];

		rewinfer_traj_features(&D->mdp, gamma_h, D->pref_pairs + 2 * a0, b0 - a0,
		    p->dphi + i * d);
		rewinfer_traj_features(&D->mdp, gamma_h, D->pref_pairs + 2 * b0, e - b0, fb);
		for (int j = 0; j < d; j++)
			p->dphi[i * d + j] -= fb[j];
		p->y[i] = D->pref_y[i];
	}
	free(fb);
}

void
rewinfer_prefs_release(struct rewinfer_prefs *p)
{
	free(p->dphi);
	free(p->y);
	memset(p, 0, sizeof *p);
}
