/*
 * rkhs_state - reward-query's hyperparameters, kernel names and state
 * header; see rkhs_state.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "rec.h"
#include "recw.h"
#include "rkhs_state.h"
#include "util.h"

void
rkhs_hyper_init(struct rkhs_hyper *h)
{
	static const double one = 1;

	memset(h, 0, sizeof *h);
	h->family = RKHS_MATERN;
	h->nu = 2.5;
	rkhs_hyper_set_ls(h, &one, 1);
	h->variance = 1;
	h->noise = 0.01;
}

void
rkhs_hyper_release(struct rkhs_hyper *h)
{
	free(h->ls);
	memset(h, 0, sizeof *h);
}

void
rkhs_hyper_set_ls(struct rkhs_hyper *h, const double *ls, int nls)
{
	free(h->ls);
	h->ls = xmalloc((size_t)(nls > 0 ? nls : 1) * sizeof *h->ls);
	memcpy(h->ls, ls, (size_t)nls * sizeof *h->ls);
	h->nls = nls;
}

int
rkhs_hyper_kernel(const struct rkhs_hyper *h, int dim, struct rkhs_kernel *k)
{
	if (h->nls != 1 && h->nls != dim)
		return loam_seterr("%d lengthscales for %d-dimensional candidates", h->nls,
		    dim);
	return rkhs_kernel_init(k, h->family, h->nu, dim, h->ls, h->nls, h->variance);
}

void
rkhs_hyper_from_kernel(struct rkhs_hyper *h, const struct rkhs_kernel *k, double noise)
{
	h->family = k->family;
	h->nu = k->nu;
	rkhs_hyper_set_ls(h, k->ls, k->nls);
	h->variance = k->variance;
	h->noise = noise;
}

int
rkhs_kernel_parse(const char *s, enum rkhs_family *family, double *nu)
{
	static const struct { const char *name; double nu; } fixed[] = {
		{ "matern12", 0.5 }, { "matern32", 1.5 }, { "matern52", 2.5 },
	};
	char *end;
	double v;

	if (strcmp(s, "rbf") == 0) {
		*family = RKHS_RBF;
		*nu = INFINITY;
		return 0;
	}
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		if (strcmp(s, fixed[i].name) == 0) {
			*family = RKHS_MATERN;
			*nu = fixed[i].nu;
			return 0;
		}
	if (strncmp(s, "matern:", 7) != 0 || !s[7] || s[7] == ' ' || s[7] == '\t')
		return -1;
	v = strtod(s + 7, &end);
	if (*end || !isfinite(v) || !(v > 0))
		return -1;
	*family = RKHS_MATERN;
	*nu = v;
	return 0;
}

void
rkhs_kernel_name_of(enum rkhs_family family, double nu, char *buf, size_t n)
{
	char num[NUMFMT_DOUBLE_MAX];

	if (family == RKHS_RBF)
		snprintf(buf, n, "rbf");
	else if (nu == 0.5 || nu == 1.5 || nu == 2.5)
		snprintf(buf, n, "matern%d2", (int)(2 * nu));
	else {
		numfmt_double(num, nu);
		snprintf(buf, n, "matern:%s", num);
	}
}

void
rkhs_kernel_name(const struct rkhs_kernel *k, char *buf, size_t n)
{
	rkhs_kernel_name_of(k->family, k->nu, buf, n);
}

void
rkhs_state_write_header(struct recw *w, const struct rkhs_hyper *h)
{
	char name[64];

	rkhs_kernel_name_of(h->family, h->nu, name, sizeof name);
	recw_str(w, "format", RKHS_STATE_FORMAT);
	recw_int(w, "version", RKHS_STATE_VERSION);
	recw_str(w, "kernel", name);
	recw_doubles(w, "lengthscale", h->ls, (size_t)h->nls);
	recw_double(w, "variance", h->variance);
	recw_double(w, "noise", h->noise);
}

static int
bad_field(const char *key)
{
	const char *why = loam_error();
	char msg[256];

	snprintf(msg, sizeof msg, "%s", *why ? why : "");
	return loam_seterr("not a reward-query state: field '%s' missing or bad%s%s", key,
	    *msg ? ": " : "", msg);
}

static int
positive(struct rec *r, const char *key, double *v)
{
	loam_seterr("%s", "");
	if (rec_get_double(r, key, v) != REC_OK || !isfinite(*v) || !(*v > 0))
		return bad_field(key);
	return 0;
}

int
rkhs_state_read_header(struct rec *r, struct rkhs_hyper *h)
{
	const char *s;
	size_t len, n;
	int64_t version;
	double *ls;

	loam_seterr("%s", "");	/* bad_field() adds the reason, not a stale one */
	if (rec_get_str(r, "format", &s, &len) != REC_OK || strcmp(s, RKHS_STATE_FORMAT) != 0)
		return loam_seterr("not a reward-query state (no \"format\":\"%s\" header)",
		    RKHS_STATE_FORMAT);
	if (rec_get_int(r, "version", &version) != REC_OK)
		return bad_field("version");
	if (version != RKHS_STATE_VERSION)
		return loam_seterr("state version %lld; this reward-query reads version %d",
		    (long long)version, RKHS_STATE_VERSION);
	if (rec_get_str(r, "kernel", &s, &len) != REC_OK ||
	    rkhs_kernel_parse(s, &h->family, &h->nu) != 0)
		return bad_field("kernel");
	loam_seterr("%s", "");
	if (rec_get_array_len(r, "lengthscale", &n) != REC_OK || n == 0 || n > INT32_MAX)
		return bad_field("lengthscale");
	ls = xmalloc(n * sizeof *ls);
	if (rec_get_doubles(r, "lengthscale", ls, n, &n) != REC_OK) {
		free(ls);
		return bad_field("lengthscale");
	}
	for (size_t i = 0; i < n; i++)
		if (!isfinite(ls[i]) || !(ls[i] > 0)) {
			free(ls);
			return bad_field("lengthscale");
		}
	rkhs_hyper_set_ls(h, ls, (int)n);
	free(ls);
	if (positive(r, "variance", &h->variance) != 0 || positive(r, "noise", &h->noise) != 0)
		return -1;
	return 0;
}
