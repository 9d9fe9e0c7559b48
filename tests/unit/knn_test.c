/*
 * knn_test - lib/knn.c against a brute-force reference computed with
 * cblas_sgemm, plus approximate indexes, errors and save/load.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "knn.h"
#include "tap.h"
#include "util.h"

#define D	64
#define NB	3000
#define NQ	500
#define K	10

/* Test data only: xorshift64*, so that the test depends on no other module. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static float
uniform(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (float)((rng_state * 0x2545f4914f6cdd1dULL) >> 40) /
	    (float)(1 << 24) * 2.0f - 1.0f;
}

static float *
random_vectors(size_t n, size_t d)
{
	float *x = xreallocarray(NULL, n, d * sizeof *x);
	size_t i;

	for (i = 0; i < n * d; i++)
		x[i] = uniform();
	return x;
}

/*
 * Vectors near an 8-dimensional subspace, closer to real embeddings than
 * uniform noise: approximate indexes are meant for data with structure,
 * and on uniform 64-d data their recall says little.
 */
static float *
lowrank_vectors(size_t n, size_t d)
{
	float *x = xreallocarray(NULL, n, d * sizeof *x);
	float *basis = random_vectors(8, d), z[8];
	size_t i, j, l;

	for (i = 0; i < n; i++) {
		for (l = 0; l < 8; l++)
			z[l] = uniform();
		for (j = 0; j < d; j++) {
			x[i * d + j] = 0.1f * uniform();
			for (l = 0; l < 8; l++)
				x[i * d + j] += z[l] * basis[l * d + j];
		}
	}
	free(basis);
	return x;
}

static void
normalize_rows(float *x, size_t n, size_t d)
{
	size_t i, j;
	double s;

	for (i = 0; i < n; i++) {
		s = 0;
		for (j = 0; j < d; j++)
			s += (double)x[i * d + j] * x[i * d + j];
		s = sqrt(s);
		for (j = 0; j < d; j++)
			x[i * d + j] = (float)(x[i * d + j] / s);
	}
}

static float *
copy_floats(const float *x, size_t n)
{
	return memcpy(xreallocarray(NULL, n, sizeof *x), x, n * sizeof *x);
}

/* scores[nq x nb]: inner products, or squared distances under KNN_L2. */
static float *
brute_scores(const float *q, size_t nq, const float *b, size_t nb, size_t d,
    enum knn_metric metric)
{
	float *s = xreallocarray(NULL, nq, nb * sizeof *s);
	double qq, bb;
	size_t i, j, l;

	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nq, (int)nb,
	    (int)d, 1.0f, q, (int)d, b, (int)d, 0.0f, s, (int)nb);
	if (metric == KNN_IP)
		return s;
	for (i = 0; i < nq; i++) {
		qq = 0;
		for (l = 0; l < d; l++)
			qq += (double)q[i * d + l] * q[i * d + l];
		for (j = 0; j < nb; j++) {
			bb = 0;
			for (l = 0; l < d; l++)
				bb += (double)b[j * d + l] * b[j * d + l];
			s[i * nb + j] = (float)(qq + bb - 2.0 * s[i * nb + j]);
		}
	}
	return s;
}

static int
nearer(float a, float b, enum knn_metric metric)
{
	return metric == KNN_IP ? a > b : a < b;
}

/* The k best scores of one row, best first, by insertion. */
static void
top_k(const float *row, size_t nb, int k, enum knn_metric metric, float *best)
{
	size_t j;
	int n = 0, p;

	for (j = 0; j < nb; j++) {
		if (n == k && !nearer(row[j], best[k - 1], metric))
			continue;
		p = n < k ? n++ : k - 1;
		for (; p > 0 && nearer(row[j], best[p - 1], metric); p--)
			best[p] = best[p - 1];
		best[p] = row[j];
	}
}

static int
close_enough(float got, float want)
{
	return fabs((double)got - want) <= 1e-4 * fmax(1.0, fabs(want));
}

/*
 * Results agree with the reference when, at every rank, the distance
 * equals the reference's k-th best and the label is one whose reference
 * score is that distance: ties may come in any order.
 */
static int
check_exact(const char *name, const float *dist, const int64_t *labels,
    const float *scores, size_t nq, size_t nb, int k, enum knn_metric metric)
{
	float *best = xmalloc(k * sizeof *best);
	size_t i, bad = 0;
	int j, l;
	int64_t lab;

	for (i = 0; i < nq; i++) {
		top_k(scores + i * nb, nb, k, metric, best);
		for (j = 0; j < k; j++) {
			lab = labels[i * k + j];
			if (lab < 0 || (size_t)lab >= nb ||
			    !close_enough(dist[i * k + j], best[j]) ||
			    !close_enough(scores[i * nb + lab], best[j]))
				goto wrong;
			for (l = 0; l < j; l++)
				if (labels[i * k + l] == lab)
					goto wrong;
			continue;
wrong:
			if (bad++ == 0)
				diag("%s: query %zu rank %d: label %lld "
				    "distance %g, want distance %g", name, i,
				    j, (long long)lab, dist[i * k + j],
				    best[j]);
		}
	}
	free(best);
	return ok(bad == 0, "%s equals brute force (%zu wrong of %zu)", name,
	    bad, nq * k);
}

/* Build, add and search one index; the caller frees *dist and *labels. */
static struct knn *
build_and_search(const char *desc, enum knn_metric metric, int flags,
    const float *b, size_t nb, const float *q, size_t nq, int k,
    float **dist, int64_t **labels)
{
	struct knn *kn;

	*dist = xmalloc(nq * k * sizeof **dist);
	*labels = xmalloc(nq * k * sizeof **labels);
	if ((kn = knn_new(D, desc, metric, flags)) == NULL) {
		diag("knn_new %s: %s", desc, loam_error());
		return NULL;
	}
	if (knn_add(kn, b, nb) == -1 ||
	    knn_search(kn, q, nq, k, *dist, *labels) == -1) {
		diag("%s: %s", desc, loam_error());
		knn_free(kn);
		return NULL;
	}
	return kn;
}

static void
test_flat(enum knn_metric metric, const char *name)
{
	float *b = random_vectors(NB, D), *q = random_vectors(NQ, D);
	float *scores = brute_scores(q, NQ, b, NB, D, metric), *dist;
	int64_t *labels;
	struct knn *kn;

	kn = build_and_search("Flat", metric, 0, b, NB, q, NQ, K, &dist,
	    &labels);
	if (ok(kn != NULL, "%s builds and searches", name)) {
		is_int(knn_ntotal(kn), NB, "%s ntotal", name);
		is_int(knn_dim(kn), D, "%s dim", name);
		is_int(knn_metric_type(kn), metric, "%s metric", name);
		check_exact(name, dist, labels, scores, NQ, NB, K, metric);
	}
	knn_free(kn);
	free(b);
	free(q);
	free(scores);
	free(dist);
	free(labels);
}

/* Cosine: normalised copies inside knn, caller's buffers untouched,
 * and batches of 7 (remainder 3) agree with one call of 500. */
static void
test_cosine_and_batches(void)
{
	float *b = random_vectors(NB, D), *q = random_vectors(NQ, D);
	float *b0 = copy_floats(b, NB * D), *q0 = copy_floats(q, NQ * D);
	float *bn = copy_floats(b, NB * D), *qn = copy_floats(q, NQ * D);
	float *scores, *dist, *dist7;
	int64_t *labels, *labels7;
	struct knn *kn;
	size_t i, diff = 0;
	double maxdiff = 0;
	int rc;

	normalize_rows(bn, NB, D);
	normalize_rows(qn, NQ, D);
	scores = brute_scores(qn, NQ, bn, NB, D, KNN_IP);
	kn = build_and_search("Flat", KNN_IP, KNN_NORMALIZE, b, NB, q, NQ, K,
	    &dist, &labels);
	dist7 = xmalloc(NQ * K * sizeof *dist7);
	labels7 = xmalloc(NQ * K * sizeof *labels7);
	if (ok(kn != NULL, "cosine builds and searches")) {
		check_exact("cosine", dist, labels, scores, NQ, NB, K, KNN_IP);
		ok(memcmp(b, b0, NB * D * sizeof *b) == 0 &&
		    memcmp(q, q0, NQ * D * sizeof *q) == 0,
		    "cosine leaves the caller's vectors unchanged");
		is_int(knn_flags(kn), KNN_NORMALIZE, "cosine flags");
		knn_set_batch(kn, 7);
		rc = knn_search(kn, q, NQ, K, dist7, labels7);
		ok(rc == 0, "search in batches of 7");
		for (i = 0; i < NQ * K; i++) {
			if (labels7[i] != labels[i] &&
			    dist7[i] != dist[i])
				diff++;
			maxdiff = fmax(maxdiff, fabs(dist7[i] - dist[i]));
		}
		diag("batches of 7 vs one call: max distance difference %g",
		    maxdiff);
		ok(diff == 0 && maxdiff <= 1e-6,
		    "batches of 7 give the results of one call (%zu differ)",
		    diff);
		knn_set_batch(kn, 0);
	}
	knn_free(kn);
	free(b);
	free(q);
	free(b0);
	free(q0);
	free(bn);
	free(qn);
	free(scores);
	free(dist);
	free(labels);
	free(dist7);
	free(labels7);
}

/* Fraction of the exact top-k labels found by the approximate search. */
static double
recall(const int64_t *exact, const int64_t *approx, size_t nq, int k)
{
	size_t i, found = 0;
	int j, l;

	for (i = 0; i < nq; i++)
		for (j = 0; j < k; j++)
			for (l = 0; l < k; l++)
				if (approx[i * k + l] == exact[i * k + j]) {
					found++;
					break;
				}
	return (double)found / (double)(nq * k);
}

static void
test_approximate(const char *desc, enum knn_metric metric,
    const char *params)
{
	enum { nb = 5000, nq = 200 };
	float *b = lowrank_vectors(nb, D), *q = lowrank_vectors(nq, D);
	float *dist, *adist;
	int64_t *labels, *alabels;
	struct knn *flat, *kn;
	double r;

	flat = build_and_search("Flat", metric, 0, b, nb, q, nq, K, &dist,
	    &labels);
	adist = xmalloc(nq * K * sizeof *adist);
	alabels = xmalloc(nq * K * sizeof *alabels);
	kn = knn_new(D, desc, metric, 0);
	if (ok(flat != NULL && kn != NULL, "%s: new", desc) &&
	    ok(knn_add(kn, b, nb) == 0, "%s: trains and adds", desc) &&
	    ok(knn_set_params(kn, params) == 0, "%s: set %s", desc, params) &&
	    ok(knn_search(kn, q, nq, K, adist, alabels) == 0, "%s: search",
	    desc)) {
		is_int(knn_ntotal(kn), nb, "%s: ntotal", desc);
		r = recall(labels, alabels, nq, K);
		diag("%s %s recall@%d vs flat on %dx%d: %.3f", desc, params,
		    K, nb, D, r);
		ok(r > 0.5, "%s: recall@%d %.3f > 0.5", desc, K, r);
	} else
		diag("%s: %s", desc, loam_error());
	knn_free(flat);
	knn_free(kn);
	free(b);
	free(q);
	free(dist);
	free(labels);
	free(adist);
	free(alabels);
}

static void
test_errors(void)
{
	struct knn *kn;
	enum knn_metric metric;
	float x[D] = { 1 }, dist[1];
	int64_t label[1];
	int flags;
	const char *e;

	kn = knn_new(D, "HNSW32x,Bogus", KNN_IP, 0);
	ok(kn == NULL, "bad factory string fails");
	e = loam_error();
	diag("bad factory string: %s", e);
	ok(strncmp(e, "faiss: ", 7) == 0 &&
	    strstr(e, "could not parse") != NULL &&
	    strstr(e, "HNSW32x,Bogus") != NULL,
	    "bad factory string: the message is FAISS's");
	ok(strstr(e, "Error in") == NULL,
	    "bad factory string: no C++ signature in the message");
	ok(knn_new(0, NULL, KNN_IP, 0) == NULL, "dimension 0 fails");
	ok(knn_new(D, NULL, (enum knn_metric)7, 0) == NULL,
	    "bad metric fails");

	kn = knn_new(D, NULL, KNN_L2, 0);
	ok(knn_set_params(kn, "nprobe=4") == -1 &&
	    strncmp(loam_error(), "faiss: ", 7) == 0,
	    "nprobe on a flat index fails: %s", loam_error());
	ok(knn_search(kn, x, 1, 0, dist, label) == -1 &&
	    strcmp(loam_error(), "knn: bad k 0") == 0, "k = 0 fails");
	ok(knn_add(kn, x, 0) == 0 && knn_search(kn, x, 0, 1, dist, label) == 0,
	    "zero vectors are fine");
	is_int(knn_ntotal(kn), 0, "nothing added");
	knn_free(kn);

	kn = knn_new(D, "IVF16,Flat", KNN_L2, 0);
	ok(kn != NULL && knn_add(kn, x, 1) == -1 &&
	    strncmp(loam_error(), "faiss: ", 7) == 0,
	    "IVF16 trained on one vector fails: %s", loam_error());
	knn_free(kn);

	ok(knn_metric_parse("cosine", &metric, &flags) == 0 &&
	    metric == KNN_IP && flags == KNN_NORMALIZE, "metric cosine");
	ok(knn_metric_parse("l2", &metric, &flags) == 0 &&
	    metric == KNN_L2 && flags == 0, "metric l2");
	ok(knn_metric_parse("ip", &metric, &flags) == 0 &&
	    metric == KNN_IP && flags == 0, "metric ip");
	ok(knn_metric_parse("L1", &metric, &flags) == -1, "metric L1 fails");
	is_str(loam_error(), "unknown metric 'L1' (ip, l2, cosine)",
	    "metric L1 message");
}

static void
test_k_beyond_ntotal(void)
{
	float *b = random_vectors(5, D), *q = random_vectors(3, D);
	float dist[3 * 8];
	int64_t labels[3 * 8];
	struct knn *kn = knn_new(D, "Flat", KNN_IP, 0);
	int i, j, seen, good = 1;

	if (kn == NULL || knn_add(kn, b, 5) == -1 ||
	    knn_search(kn, q, 3, 8, dist, labels) == -1)
		good = 0;
	for (i = 0; good && i < 3; i++) {
		seen = 0;
		for (j = 0; j < 5; j++)
			if (labels[i * 8 + j] >= 0 && labels[i * 8 + j] < 5)
				seen |= 1 << labels[i * 8 + j];
		for (j = 5; j < 8; j++)
			if (labels[i * 8 + j] != -1)
				good = 0;
		if (seen != 0x1f)
			good = 0;
	}
	ok(good, "k = 8 over 5 vectors: all 5, then -1 labels");
	knn_free(kn);
	free(b);
	free(q);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* A copy of a saved index's header line followed by garbage. */
static void
damage(const char *path, const char *out)
{
	char line[256] = "";
	FILE *f = fopen(path, "r");

	if (f != NULL) {
		if (fgets(line, sizeof line, f) == NULL)
			line[0] = '\0';
		fclose(f);
	}
	strcat(line, "garbage");
	write_file(out, line);
}

static void
test_save_load(void)
{
	enum { nb = 2000, nq = 100 };
	char dir[] = "/tmp/knn_test.XXXXXX", path[64], bad[64];
	float *b, *q, *dist, *dist2;
	int64_t *labels, *labels2;
	struct knn *kn, *kn2 = NULL;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	b = lowrank_vectors(nb, D);
	q = lowrank_vectors(nq, D);
	dist2 = xmalloc(nq * K * sizeof *dist2);
	labels2 = xmalloc(nq * K * sizeof *labels2);
	snprintf(path, sizeof path, "%s/index", dir);
	snprintf(bad, sizeof bad, "%s/bad", dir);
	kn = knn_new(D, "IVF16,Flat", KNN_IP, KNN_NORMALIZE);
	if (kn != NULL && knn_add(kn, b, nb) == 0 &&
	    knn_set_params(kn, "nprobe=3") == 0) {
		dist = xmalloc(nq * K * sizeof *dist);
		labels = xmalloc(nq * K * sizeof *labels);
		ok(knn_search(kn, q, nq, K, dist, labels) == 0,
		    "save/load: search before");
		if (!ok(knn_save(kn, path) == 0, "save"))
			diag("%s", loam_error());
		if (!ok((kn2 = knn_load(path)) != NULL, "load"))
			diag("%s", loam_error());
		if (kn2 != NULL) {
			is_int(knn_ntotal(kn2), nb, "loaded ntotal");
			is_int(knn_dim(kn2), D, "loaded dim");
			is_int(knn_metric_type(kn2), KNN_IP, "loaded metric");
			is_int(knn_flags(kn2), KNN_NORMALIZE, "loaded flags");
			ok(knn_search(kn2, q, nq, K, dist2, labels2) == 0 &&
			    memcmp(dist, dist2, nq * K * sizeof *dist) == 0 &&
			    memcmp(labels, labels2,
			    nq * K * sizeof *labels) == 0,
			    "loaded index gives identical results");
		}
		free(dist);
		free(labels);
	} else
		ok(0, "save/load: build: %s", loam_error());
	knn_free(kn);
	knn_free(kn2);

	ok(knn_load(bad) == NULL && strstr(loam_error(), strerror(ENOENT)),
	    "load of a missing file: %s", loam_error());
	write_file(bad, "{\"not\": \"an index\"}\n");
	ok(knn_load(bad) == NULL && strstr(loam_error(), "not a loam knn"),
	    "load of another file: %s", loam_error());
	write_file(bad, "loam-knn format=1 loam=0.0.1 normalize=0\n");
	ok(knn_load(bad) == NULL && strstr(loam_error(), "loam 0.0.1"),
	    "load of another version: %s", loam_error());
	damage(path, bad);
	ok(knn_load(bad) == NULL && strncmp(loam_error(), bad,
	    strlen(bad)) == 0 && strstr(loam_error(), ": faiss: "),
	    "load of a damaged index: %s", loam_error());
	snprintf(bad, sizeof bad, "%s/nodir/index", dir);
	kn = knn_new(D, NULL, KNN_L2, 0);
	ok(knn_save(kn, bad) == -1, "save into a missing directory: %s",
	    loam_error());
	knn_free(kn);

	unlink(path);
	snprintf(bad, sizeof bad, "%s/bad", dir);
	unlink(bad);
	ok(rmdir(dir) == 0, "save leaves no temporary files behind");
	free(b);
	free(q);
	free(dist2);
	free(labels2);
}

int
main(void)
{
	test_flat(KNN_IP, "flat ip");
	test_flat(KNN_L2, "flat l2");
	test_cosine_and_batches();
	test_approximate("HNSW32", KNN_L2, "efSearch=64");
	test_approximate("IVF16,Flat", KNN_IP, "nprobe=4");
	test_errors();
	test_k_beyond_ntotal();
	test_save_load();
	return tap_done();
}
