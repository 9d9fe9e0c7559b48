/* embroid - see embroid.h. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

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
