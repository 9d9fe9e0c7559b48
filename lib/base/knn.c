/* knn - see knn.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>
#include <faiss/c_api/utils/distances_c.h>

#include "knn.h"
#include "util.h"

/* First line of a saved index; bump KNN_FORMAT when the header changes. */
#define KNN_MAGIC	"loam-knn"
#define KNN_FORMAT	1

/* The Makefile defines it from config.mk; a build by hand gets a value
 * that no release has, so its caches are never taken for a release's. */
#ifndef LOAM_VERSION_STRING
#define LOAM_VERSION_STRING "unreleased"
#endif

struct knn {
	FaissIndex	*index;
	int		 d;
	int		 flags;
	size_t		 batch;
};

/*
 * A FAISS message reads "Error in <C++ signature> at <file>:<line>: <what
 * went wrong>".  The signature is long and means nothing to a user of a
 * command, so keep only what went wrong when the message has that shape.
 */
static const char *
faiss_message(void)
{
	const char *s = faiss_get_last_error(), *p, *q;

	if (s == NULL)
		return "unknown error";
	if (strncmp(s, "Error in ", 9) != 0 || (p = strstr(s, " at ")) == NULL)
		return s;
	for (p = strchr(p, ':'); p != NULL; p = strchr(p + 1, ':')) {
		for (q = p + 1; *q >= '0' && *q <= '9'; q++)
			;
		if (q > p + 1 && q[0] == ':' && q[1] == ' ')
			return q + 2;
	}
	return s;
}

static int
faiss_fail(void)
{
	return loam_seterr("faiss: %s", faiss_message());
}

static void
set_blas_threshold(void)
{
	faiss_set_distance_compute_blas_threshold(1);
}

/* Once per process: the threshold is a FAISS global that searches in
 * other threads read. */
static void
use_blas_always(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, set_blas_threshold);
}

static struct knn *
knn_wrap(FaissIndex *index, int flags)
{
	struct knn *kn = xcalloc(1, sizeof *kn);

	kn->index = index;
	kn->d = faiss_Index_d(index);
	kn->flags = flags;
	kn->batch = KNN_BATCH;
	use_blas_always();
	return kn;
}

struct knn *
knn_new(int d, const char *desc, enum knn_metric metric, int flags)
{
	FaissIndex *index = NULL;
	int rc;

	if (d <= 0) {
		loam_seterr("knn: bad dimension %d", d);
		return NULL;
	}
	if (metric != KNN_IP && metric != KNN_L2) {
		loam_seterr("knn: bad metric %d", (int)metric);
		return NULL;
	}
	if (flags & ~KNN_NORMALIZE) {
		loam_seterr("knn: bad flags %#x", (unsigned)flags);
		return NULL;
	}
	/* "Flat" skips the factory's parser; the result is the same. */
	if (desc == NULL || strcmp(desc, "Flat") == 0)
		rc = metric == KNN_IP ? faiss_IndexFlatIP_new_with(&index, d) :
		    faiss_IndexFlatL2_new_with(&index, d);
	else
		rc = faiss_index_factory(&index, d, desc,
		    (FaissMetricType)metric);
	if (rc != 0) {
		faiss_fail();
		return NULL;
	}
	return knn_wrap(index, flags);
}

void
knn_free(struct knn *kn)
{
	if (kn == NULL)
		return;
	faiss_Index_free(kn->index);
	free(kn);
}

int
knn_metric_parse(const char *name, enum knn_metric *metric, int *flags)
{
	if (strcmp(name, "ip") == 0) {
		*metric = KNN_IP;
		*flags = 0;
	} else if (strcmp(name, "l2") == 0) {
		*metric = KNN_L2;
		*flags = 0;
	} else if (strcmp(name, "cosine") == 0) {
		*metric = KNN_IP;
		*flags = KNN_NORMALIZE;
	} else
		return loam_seterr("unknown metric '%s' (ip, l2, cosine)",
		    name);
	return 0;
}

int
knn_set_params(struct knn *kn, const char *params)
{
	FaissParameterSpace *ps;
	int rc;

	if (faiss_ParameterSpace_new(&ps) != 0)
		return faiss_fail();
	rc = faiss_ParameterSpace_set_index_parameters(ps, kn->index, params);
	faiss_ParameterSpace_free(ps);
	return rc != 0 ? faiss_fail() : 0;
}

void
knn_set_batch(struct knn *kn, size_t batch)
{
	kn->batch = batch ? batch : KNN_BATCH;
}

/* Copy n rows into buf (n x d) and normalise them there. */
static const float *
normalized(const struct knn *kn, float *buf, const float *x, size_t n)
{
	memcpy(buf, x, n * kn->d * sizeof *buf);
	faiss_fvec_renorm_L2(kn->d, n, buf);
	return buf;
}

int
knn_train(struct knn *kn, const float *x, size_t n)
{
	float *buf = NULL;
	int rc;

	if (faiss_Index_is_trained(kn->index))
		return 0;
	/* Training sees all vectors at once, so a normalised copy cannot
	 * be made batch by batch. */
	if (kn->flags & KNN_NORMALIZE) {
		buf = xreallocarray(NULL, n, kn->d * sizeof *buf);
		x = normalized(kn, buf, x, n);
	}
	rc = faiss_Index_train(kn->index, (idx_t)n, x);
	free(buf);
	return rc != 0 ? faiss_fail() : 0;
}

int
knn_add(struct knn *kn, const float *x, size_t n)
{
	float *buf;
	size_t i, m;
	int rc = 0;

	if (n == 0)
		return 0;
	if (!faiss_Index_is_trained(kn->index) && knn_train(kn, x, n) == -1)
		return -1;
	if (!(kn->flags & KNN_NORMALIZE)) {
		if (faiss_Index_add(kn->index, (idx_t)n, x) != 0)
			return faiss_fail();
		return 0;
	}
	m = n < kn->batch ? n : kn->batch;
	buf = xreallocarray(NULL, m, kn->d * sizeof *buf);
	for (i = 0; i < n && rc == 0; i += m) {
		m = n - i < kn->batch ? n - i : kn->batch;
		rc = faiss_Index_add(kn->index, (idx_t)m,
		    normalized(kn, buf, x + i * kn->d, m));
	}
	free(buf);
	return rc != 0 ? faiss_fail() : 0;
}

int
knn_search(const struct knn *kn, const float *q, size_t n, int k,
    float *dist, int64_t *labels)
{
	const float *qb;
	float *buf = NULL;
	size_t i, m;
	int rc = 0;

	if (k <= 0)
		return loam_seterr("knn: bad k %d", k);
	if (n == 0)
		return 0;
	m = n < kn->batch ? n : kn->batch;
	/* The buffer is per call, not per struct, so that threads can
	 * search one index at once. */
	if (kn->flags & KNN_NORMALIZE)
		buf = xreallocarray(NULL, m, kn->d * sizeof *buf);
	for (i = 0; i < n && rc == 0; i += m) {
		m = n - i < kn->batch ? n - i : kn->batch;
		qb = q + i * kn->d;
		if (buf != NULL)
			qb = normalized(kn, buf, qb, m);
		rc = faiss_Index_search(kn->index, (idx_t)m, qb, k,
		    dist + i * k, labels + i * k);
	}
	free(buf);
	return rc != 0 ? faiss_fail() : 0;
}

static int
write_knn(FILE *f, const char *name, void *arg)
{
	const struct knn *kn = arg;

	fprintf(f, "%s format=%d loam=%s normalize=%d\n", KNN_MAGIC,
	    KNN_FORMAT, LOAM_VERSION_STRING, (kn->flags & KNN_NORMALIZE) != 0);
	if (faiss_write_index(kn->index, f) != 0)
		return loam_seterr("%s: faiss: %s", name, faiss_message());
	return 0;
}

int
knn_save(const struct knn *kn, const char *path)
{
	return atomic_save(path, write_knn, (void *)kn);
}

struct knn *
knn_load(const char *path)
{
	FaissIndex *index;
	FaissMetricType metric;
	FILE *f;
	char line[256], version[64];
	int format, normalize;

	if ((f = fopen(path, "rb")) == NULL) {
		loam_seterr("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fgets(line, sizeof line, f) == NULL ||
	    sscanf(line, KNN_MAGIC " format=%d loam=%63s normalize=%d",
	    &format, version, &normalize) != 3) {
		loam_seterr("%s: not a loam knn index", path);
		goto fail;
	}
	/* FAISS's format changes with its version and ours with loam's;
	 * rather than guess at compatibility, a cache is rebuilt. */
	if (format != KNN_FORMAT ||
	    strcmp(version, LOAM_VERSION_STRING) != 0) {
		loam_seterr("%s: knn index written by loam %s (format %d), "
		    "this is loam %s (format %d)", path, version, format,
		    LOAM_VERSION_STRING, KNN_FORMAT);
		goto fail;
	}
	if (faiss_read_index(f, 0, &index) != 0) {
		loam_seterr("%s: faiss: %s", path, faiss_message());
		goto fail;
	}
	fclose(f);
	metric = faiss_Index_metric_type(index);
	if (metric != METRIC_INNER_PRODUCT && metric != METRIC_L2) {
		faiss_Index_free(index);
		loam_seterr("%s: unsupported faiss metric %d", path,
		    (int)metric);
		return NULL;
	}
	return knn_wrap(index, normalize ? KNN_NORMALIZE : 0);
fail:
	fclose(f);
	return NULL;
}

int
knn_dim(const struct knn *kn)
{
	return kn->d;
}

int64_t
knn_ntotal(const struct knn *kn)
{
	return faiss_Index_ntotal(kn->index);
}

enum knn_metric
knn_metric_type(const struct knn *kn)
{
	return (enum knn_metric)faiss_Index_metric_type(kn->index);
}

int
knn_flags(const struct knn *kn)
{
	return kn->flags;
}
