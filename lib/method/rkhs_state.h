/*
 * rkhs_state - what reward-query(1) keeps of lib/method/rkhs between the
 * command line, a run and the next: the hyperparameters before the
 * dimension is known (struct rkhs_hyper), the kernels' names
 * ("matern52", "matern:0.7", "rbf"), and the state file's header.
 *
 * The state file (reward-query --save/--load) is JSON Lines, greppable
 * and itself readable as input: a header record
 *	{"format":"reward-query state","version":1,"kernel":"matern52",
 *	 "lengthscale":[...],"variance":V,"noise":N}
 * then the candidate records as they were read and the observations as
 * {"type":"obs","id":...,"y":...}, in the order read.  The header is
 * this file's; the records are the command's.
 */
#ifndef LOAM_RKHS_STATE_H
#define LOAM_RKHS_STATE_H

#include <stddef.h>

#include "rkhs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RKHS_STATE_FORMAT "reward-query state"
#define RKHS_STATE_VERSION 1

/* A kernel's settings and the noise, without a dimension. */
struct rkhs_hyper {
	enum rkhs_family family;
	double nu;
	int nls;		/* 1, or one per dimension */
	double *ls;		/* nls, owned */
	double variance;
	double noise;		/* σn², the ridge λ */
};

/* Matérn 5/2, lengthscale 1, variance 1, noise 0.01. */
void rkhs_hyper_init(struct rkhs_hyper *h);
void rkhs_hyper_release(struct rkhs_hyper *h);
void rkhs_hyper_set_ls(struct rkhs_hyper *h, const double *ls, int nls);
/* A kernel for dim-dimensional inputs; -1 with loam_seterr() when the
 * lengthscales are neither one nor dim, or rkhs_kernel_init refuses. */
int rkhs_hyper_kernel(const struct rkhs_hyper *h, int dim, struct rkhs_kernel *k);
/* Back from a (fitted) kernel and noise. */
void rkhs_hyper_from_kernel(struct rkhs_hyper *h, const struct rkhs_kernel *k,
    double noise);

/* "matern12", "matern32", "matern52", "matern:NU" (NU > 0 finite) or
 * "rbf"; -1 for anything else.  matern:1.5 is matern32. */
int rkhs_kernel_parse(const char *s, enum rkhs_family *family, double *nu);
/* The name rkhs_kernel_parse reads back to the same family and ν:
 * matern12/32/52 for those ν, else matern:NU with NU's shortest text. */
void rkhs_kernel_name_of(enum rkhs_family family, double nu, char *buf, size_t n);
void rkhs_kernel_name(const struct rkhs_kernel *k, char *buf, size_t n);

struct recw;
struct rec;
/* Write the header record of h. */
void rkhs_state_write_header(struct recw *w, const struct rkhs_hyper *h);
/* Read a header record into h; -1 with loam_seterr() naming the field
 * when it is not a state header, or of another version. */
int rkhs_state_read_header(struct rec *r, struct rkhs_hyper *h);

#ifdef __cplusplus
}
#endif

#endif
