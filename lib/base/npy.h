/*
 * npy - NumPy .npy arrays: read through mmap, write atomically.
 *
 * Reading accepts format versions 1.0, 2.0 and 3.0, the little-endian
 * dtypes '<f4', '<f8', '<i4' and '<i8', C or Fortran order, and any rank
 * up to NPY_MAXDIM, 0-d included.  Everything else (big-endian, other
 * widths, structured and object dtypes) is refused with a message that
 * names the file and echoes the descr.  The header is checked against the
 * file size, so a truncated file is an error and not a short read.
 *
 * Ownership: after npy_open() or npy_parse() succeeds the struct owns the
 * mapping (npy_open) and a copy of the name; `data` points into the
 * mapping, or into the caller's buffer for npy_parse(), and stays valid
 * until npy_close() (for npy_parse(), also only while that buffer lives).
 * npy_close() releases everything and may be called on a zeroed struct or
 * twice.  On failure nothing is held and npy_close() is not needed.
 *
 * `data` is in the file's byte order and element order.  It is aligned to
 * the item size whenever the data offset is (numpy pads it to 64, older
 * numpy to 16) and the buffer is; a mapping always is page-aligned.  Code
 * that wants C-order values of a given type calls npy_read_*(), which copy
 * and convert without assuming alignment.
 */
#ifndef LOAM_NPY_H
#define LOAM_NPY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NPY_MAXDIM	32	/* numpy 1.x's NPY_MAXDIMS */

enum npy_dtype {
	NPY_F4 = 1,		/* '<f4' float */
	NPY_F8,			/* '<f8' double */
	NPY_I4,			/* '<i4' int32_t */
	NPY_I8			/* '<i8' int64_t */
};

struct npy {
	void		*map;		/* the file's mapping; NULL after npy_parse */
	size_t		 map_len;
	char		*name;		/* for messages; owned */
	const void	*data;		/* first element, file order */
	int		 dtype;		/* enum npy_dtype */
	size_t		 itemsize;	/* bytes per element */
	int		 ndim;		/* 0 for a scalar */
	size_t		 shape[NPY_MAXDIM];
	int		 fortran_order;	/* column-major in the file */
	size_t		 count;		/* prod(shape); 1 for 0-d */
	int		 version;	/* format major version, 1 to 3 */
	size_t		 data_off;	/* offset of data from the file start */
};

/* Map PATH read-only and parse it.  0 on success, -1 with loam_error(). */
int npy_open(struct npy *a, const char *path);
/* Parse LEN bytes at BUF, which must outlive A; NAME is used in messages. */
int npy_parse(struct npy *a, const void *buf, size_t len, const char *name);
void npy_close(struct npy *a);

/*
 * Copy all a->count elements into DST in C (row-major) order, converted
 * to the wanted type, whatever the file's order and dtype.  DST holds
 * a->count elements.  Integers to float round to nearest; '<f8' to float
 * may overflow to infinity.  npy_read_i64() fails, naming the element,
 * on a float value that is not an integer in int64_t range.
 */
int npy_read_f32(const struct npy *a, float *dst);
int npy_read_f64(const struct npy *a, double *dst);
int npy_read_i64(const struct npy *a, int64_t *dst);

/*
 * Write DATA (prod(shape) elements of DTYPE, C order, native little-endian)
 * to PATH as format 1.0 (2.0 if the header would exceed 65535 bytes), with
 * the header numpy 1.24 writes, so the data start at a multiple of 64.
 * The file is written to a temporary next to PATH and renamed over it, so
 * a failed write leaves an existing PATH as it was.
 */
int npy_write(const char *path, int dtype, int ndim, const size_t *shape,
    const void *data);

/* "<f4" etc. for an enum npy_dtype; "?" for anything else. */
const char *npy_descr(int dtype);

#ifdef __cplusplus
}
#endif

#endif
