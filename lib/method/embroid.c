/* embroid - see embroid.h. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "embroid.h"
#include "util.h"

void
embroid_default_thresholds(const int8_t *votes, size_t n, size_t m,
    double *tau_pos, double *tau_neg)
{
	size_t t, j;

	for (j = 0; j < m; j++) {
		size_t pos = 0, neg = 0;

		for (t = 0; t < n; t++) {
			pos += votes[t * m + j] > 0;
			neg += votes[t * m + j] < 0;
		}
		/* pos / (pos + neg) is the notebook's mean(votes == 1)
		 * when nothing abstains, to the bit */
		tau_pos[j] = pos + neg > 0 ?
		    (double)pos / (double)(pos + neg) : 0.5;
		tau_neg[j] = 1 - tau_pos[j];
	}
}

/*
 * Both public functions: the smoothed votes go to out[t * stride + off +
 * e * m + j], so that embroid_label_matrix() writes them beside the
 * original votes without a second buffer.
 */
static int
smooth(const int8_t *votes, size_t n, size_t m,
    const int64_t *const *neighbors, size_t nspaces, size_t ncols, size_t k,
    const double *tau_pos, const double *tau_neg, int8_t *out,
    size_t stride, size_t off)
{
	double *tp = NULL, *tn = NULL;
	size_t *take = NULL, t, j, e, c;
	int ret = -1;

	if (k == 0 || k > ncols)
		return loam_seterr("k = %zu is not in [1, %zu], the neighbour "
		    "columns", k, ncols);
	for (t = 0; t < n * m; t++)
		if (votes[t] < -1 || votes[t] > 1)
			return loam_seterr("row %zu, source %zu: vote %d is not "
			    "-1, 0 or +1", t / m, t % m, (int)votes[t]);
	tp = xmalloc(m * sizeof *tp);
	tn = xmalloc(m * sizeof *tn);
	if (tau_pos == NULL || tau_neg == NULL)
		embroid_default_thresholds(votes, n, m, tp, tn);
	for (j = 0; j < m; j++) {
		if (tau_pos != NULL && tau_neg != NULL) {
			tp[j] = tau_pos[j];
			tn[j] = tau_neg[j];
		}
		if (isnan(tp[j]) || isnan(tn[j])) {
			loam_seterr("source %zu: threshold is not a number", j);
			goto out;
		}
	}
	take = xmalloc(k * sizeof *take);
	for (e = 0; e < nspaces; e++) {
		const int64_t *nb = neighbors[e];

		for (t = 0; t < n; t++) {
			const int64_t *row = nb + t * ncols;
			int8_t *dst = out + t * stride + off + e * m;
			size_t ntake = 0;

			for (c = 0; c < ncols && ntake < k; c++) {
				int64_t id = row[c];

				if (id < -1 || (id >= 0 && (uint64_t)id >= n)) {
					loam_seterr("space %zu, row %zu, column "
					    "%zu: neighbour id %lld is not in "
					    "[-1, %zu)", e, t, c, (long long)id,
					    n);
					goto out;
				}
				if (id < 0 || (size_t)id == t)
					continue;
				take[ntake++] = (size_t)id;
			}
			for (j = 0; j < m; j++) {
				size_t pos = 0, neg = 0, r;
				int8_t s = 0;

				for (r = 0; r < ntake; r++) {
					int8_t v = votes[take[r] * m + j];

					pos += v > 0;
					neg += v < 0;
				}
				if (pos + neg > 0) {
					double f = (double)pos /
					    (double)(pos + neg);

					/* the reference's order: -1 wins */
					if (f >= tp[j])
						s = 1;
					if (1 - f >= tn[j])
						s = -1;
				}
				dst[j] = s;
			}
		}
	}
	ret = 0;
out:
	free(tp);
	free(tn);
	free(take);
	return ret;
}

int
embroid_smooth_votes(const int8_t *votes, size_t n, size_t m,
    const int64_t *const *neighbors, size_t nspaces, size_t ncols, size_t k,
    const double *tau_pos, const double *tau_neg, int8_t *smoothed)
{
	return smooth(votes, n, m, neighbors, nspaces, ncols, k, tau_pos,
	    tau_neg, smoothed, m * nspaces, 0);
}

int
embroid_label_matrix(const int8_t *votes, size_t n, size_t m,
    const int64_t *const *neighbors, size_t nspaces, size_t ncols, size_t k,
    const double *tau_pos, const double *tau_neg, int8_t *L)
{
	size_t stride = m * (nspaces + 1), t, j;

	for (t = 0; t < n; t++)
		for (j = 0; j < m; j++)
			L[t * stride + j] = votes[t * m + j];
	return smooth(votes, n, m, neighbors, nspaces, ncols, k, tau_pos,
	    tau_neg, L, stride, m);
}

/* Each space's matrix cut to the narrowest width (the first ncols ids of
 * each row); *owned holds those that were copied, for the caller to free. */
static size_t
narrowest(const int64_t *const *neighbors, const size_t *ncols, size_t nspaces,
    size_t n, const int64_t **nb, int64_t **owned)
{
	size_t width = ncols[0];

	for (size_t s = 1; s < nspaces; s++)
		if (ncols[s] < width)
			width = ncols[s];
	for (size_t s = 0; s < nspaces; s++) {
		nb[s] = neighbors[s];
		owned[s] = NULL;
		if (ncols[s] == width)
			continue;
		owned[s] = xmalloc((n * width > 0 ? n * width : 1) * sizeof *owned[s]);
		for (size_t i = 0; i < n; i++)
			memcpy(owned[s] + i * width, neighbors[s] + i * ncols[s],
			    width * sizeof *owned[s]);
		nb[s] = owned[s];
	}
	return width;
}

/* Problem q's binary votes from the votes as read. */
static void
binary_votes(const int8_t *votes, size_t count, int classes, size_t q, int8_t *bin)
{
	for (size_t i = 0; i < count; i++) {
		int8_t v = votes[i];

		bin[i] = !classes ? v : v < 0 ? 0 : v == (int8_t)q ? 1 : -1;
	}
}

/* One binary problem, q of them: its label matrix into L, the label
 * model's posteriors into proba[n] and accuracies into acc[width].  A
 * problem the label model refuses is named in the message. */
static int
solve(const struct embroid_opts *o, size_t q, const int8_t *bin, size_t n,
    size_t m, const int64_t *const *nb, size_t nspaces, size_t ncols,
    int8_t *L, double *proba, double *acc)
{
	size_t width = m * (nspaces + 1);
	struct labelmodel lm;
	int rc;

	if (embroid_label_matrix(bin, n, m, nb, nspaces, ncols, o->k, o->tau_pos,
	    o->tau_neg, L) != 0)
		return -1;
	labelmodel_init(&lm, o->model);
	if (labelmodel_fit(&lm, L, n, width) != 0) {
		char *why = xstrdup(loam_error());

		loam_seterr("%s%zu: %s", o->classes ? "class " : "", q, why);
		free(why);
		labelmodel_release(&lm);
		return -1;
	}
	rc = labelmodel_predict(&lm, L, n, width, proba, NULL);
	if (rc == 0)
		memcpy(acc, lm.accuracy, width * sizeof *acc);
	labelmodel_release(&lm);
	return rc;
}

int
embroid_run(struct embroid *e, const struct embroid_opts *o,
    const int8_t *votes, size_t n, size_t m,
    const int64_t *const *neighbors, const size_t *ncols, size_t nspaces)
{
	const int64_t **nb;
	int64_t **owned;
	int8_t *bin, *L;
	size_t width, cols, problems = o->classes ? (size_t)o->classes : 1;
	int ret = -1;

	memset(e, 0, sizeof *e);
	if (nspaces == 0)
		return loam_seterr("no embedding space");
	e->n = n;
	e->m = m;
	e->nspaces = nspaces;
	e->problems = problems;
	e->width = width = m * (nspaces + 1);
	nb = xcalloc(nspaces, sizeof *nb);
	owned = xcalloc(nspaces, sizeof *owned);
	cols = narrowest(neighbors, ncols, nspaces, n, nb, owned);
	bin = xmalloc(n * m > 0 ? n * m : 1);
	L = xmalloc(n * width > 0 ? n * width : 1);
	e->proba = xcalloc(n * problems, sizeof *e->proba);
	e->accuracy = xcalloc(problems * width, sizeof *e->accuracy);
	if (o->keep_matrix)
		e->matrix = xmalloc(n * width * problems > 0 ? n * width * problems : 1);
	for (size_t q = 0; q < problems; q++) {
		binary_votes(votes, n * m, o->classes, q, bin);
		if (solve(o, q, bin, n, m, nb, nspaces, cols, L, e->proba + q * n,
		    e->accuracy + q * width) != 0)
			goto out;
		if (e->matrix)
			memcpy(e->matrix + q * n * width, L, n * width);
	}
	/* Labels: the sign of the posterior (ties to -1, the reference's
	 * rule), or the most probable class. */
	e->label = xcalloc(n ? n : 1, sizeof *e->label);
	e->label_p = xcalloc(n ? n : 1, sizeof *e->label_p);
	for (size_t i = 0; i < n; i++) {
		size_t b = 0;

		if (!o->classes) {
			e->label[i] = e->proba[i] > 0.5 ? 1 : -1;
			e->label_p[i] = e->proba[i];
			continue;
		}
		for (size_t q = 1; q < problems; q++)
			if (e->proba[q * n + i] > e->proba[b * n + i])
				b = q;
		e->label[i] = (int)b;
		e->label_p[i] = e->proba[b * n + i];
	}
	ret = 0;
out:
	for (size_t s = 0; s < nspaces; s++)
		free(owned[s]);
	free(owned);
	free(nb);
	free(bin);
	free(L);
	return ret;
}

void
embroid_release(struct embroid *e)
{
	free(e->proba);
	free(e->accuracy);
	free(e->matrix);
	free(e->label);
	free(e->label_p);
	memset(e, 0, sizeof *e);
}

int
embroid_majority(const int8_t *votes, size_t m, int classes)
{
	int best = -1, bestn = 0, tie = 0;

	if (!classes) {
		int s = 0;

		for (size_t j = 0; j < m; j++)
			s += votes[j];
		return s > 0 ? 1 : s < 0 ? -1 : 0;
	}
	for (int c = 0; c < classes; c++) {
		int cnt = 0;

		for (size_t j = 0; j < m; j++)
			cnt += votes[j] == c;
		if (cnt > bestn)
			best = c, bestn = cnt, tie = 0;
		else if (cnt == bestn && cnt > 0)
			tie = 1;
	}
	return tie ? -1 : best;
}

double
embroid_macro_f1(const int *gold, const int *pred, size_t n, int classes)
{
	int lo = classes ? 0 : -1, hi = classes ? classes - 1 : 1;
	double sum = 0;
	int seen = 0;

	for (int c = lo; c <= hi; c++) {
		size_t tp = 0, fp = 0, fn = 0;

		if (!classes && c == 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			tp += pred[i] == c && gold[i] == c;
			fp += pred[i] == c && gold[i] != c;
			fn += pred[i] != c && gold[i] == c;
		}
		if (tp + fp + fn == 0)
			continue;
		sum += 2.0 * tp / (2.0 * tp + fp + fn);
		seen++;
	}
	return seen ? sum / seen : 0;
}
