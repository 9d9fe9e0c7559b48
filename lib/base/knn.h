/*
 * knn - k-nearest-neighbour search through the FAISS C API.
 *
 *	struct knn *kn = knn_new(768, "Flat", KNN_IP, KNN_NORMALIZE);
 *	knn_add(kn, base, nbase);			base: nbase x 768
 *	knn_search(kn, queries, nq, 10, dist, labels);	dist, labels: nq x 10
 *	knn_free(kn);
 *
 * Vectors are float, row-major, n x d.  Results are row-major n x k,
 * nearest first: under KNN_IP the largest inner product (a cosine
 * similarity with KNN_NORMALIZE), under KNN_L2 the smallest squared
 * Euclidean distance.  A label is the 0-based position of a vector in
 * the order it was added; a query with fewer than k neighbours gets
 * label -1 in the slots left over.
 *
 * Ownership: knn_new and knn_load return a struct the caller frees with
 * knn_free.  Every other function only borrows its arguments: vectors
 * are copied where FAISS keeps them, and input buffers are never
 * modified (KNN_NORMALIZE normalises private copies).  Results go into
 * buffers the caller provides.
 *
 * Threads: FAISS and OpenBLAS use OpenMP's pool; the command's
 * --threads sets its size.  knn_search may run in several threads on
 * one struct at once; knn_add, knn_train and knn_set_params may not.
 *
 * Errors: a failing function returns -1 (or NULL) after loam_seterr();
 * FAISS's own messages come prefixed "faiss: ".
 */
#ifndef LOAM_KNN_H
#define LOAM_KNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The values are FAISS's MetricType, so they pass through unchanged. */
enum knn_metric {
	KNN_IP = 0,	/* inner product, larger is nearer */
	KNN_L2 = 1	/* squared Euclidean distance, smaller is nearer */
};

/* knn_new flags. */
#define KNN_NORMALIZE	0x1	/* L2-normalise added vectors and queries
				 * (with KNN_IP: cosine similarity) */

/* Queries per FAISS call.  Large batches let FAISS use BLAS sgemm;
 * one query per call runs about 100x slower on Debian's generic build. */
#define KNN_BATCH	4096

struct knn;

/*
 * An empty index of d-dimensional vectors.  desc is "Flat" (or NULL) for
 * exact search, or any faiss::index_factory string: "HNSW32",
 * "IVF4096,Flat", "OPQ16,IVF1024,PQ16", ...  Flags: KNN_NORMALIZE or 0.
 * Sets FAISS's process-wide BLAS threshold so that every batch size,
 * even a single query, takes the sgemm path: faster, and the results do
 * not depend on how queries were batched.
 */
struct knn *knn_new(int d, const char *desc, enum knn_metric metric,
    int flags);
void knn_free(struct knn *kn);

/* "ip", "l2" or "cosine" (= ip with KNN_NORMALIZE) into a metric and
 * the flags to give knn_new; for a command's --metric option. */
int knn_metric_parse(const char *name, enum knn_metric *metric,
    int *flags);

/* Search parameters as FAISS's ParameterSpace takes them:
 * "efSearch=64", "nprobe=16", "nprobe=8,quantizer_efSearch=32". */
int knn_set_params(struct knn *kn, const char *params);
/* Queries per FAISS call; 0 restores KNN_BATCH. */
void knn_set_batch(struct knn *kn, size_t batch);

/*
 * Train an index that needs it (IVF, PQ, ...) on n vectors; a no-op for
 * one that does not (Flat, HNSW).  knn_add trains on the vectors it is
 * given when the index is still untrained, so knn_train is only needed
 * to train on a sample.  With KNN_NORMALIZE it copies all n vectors.
 */
int knn_train(struct knn *kn, const float *x, size_t n);
/* Append n vectors; they get labels ntotal .. ntotal+n-1. */
int knn_add(struct knn *kn, const float *x, size_t n);
/* The k nearest neighbours of each of n queries: dist[n*k], labels[n*k]. */
int knn_search(const struct knn *kn, const float *q, size_t n, int k,
    float *dist, int64_t *labels);

/*
 * Save to path atomically (a temporary file renamed into place), and
 * load.  The file is a cache, not an interchange format: a one-line
 * header records the loam version and the flags, FAISS's own format
 * follows, and knn_load refuses a file from another loam version; the
 * caller then rebuilds the index.  Search parameters that the index
 * stores (nprobe, efSearch) are kept; the batch size is not.
 */
int knn_save(const struct knn *kn, const char *path);
struct knn *knn_load(const char *path);

int knn_dim(const struct knn *kn);
int64_t knn_ntotal(const struct knn *kn);
enum knn_metric knn_metric_type(const struct knn *kn);
int knn_flags(const struct knn *kn);

#ifdef __cplusplus
}
#endif

#endif
