/*
 * safetensors - Hugging Face safetensors files: read through mmap, write
 * atomically, with the optional "__metadata__" string-to-string map.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * beginning with '{' (padded with spaces), then the data buffer.  Each
 * tensor entry gives its dtype, shape and [begin, end) byte offsets into
 * the buffer; the tensors must tile the buffer exactly.  Data are
 * little-endian and row-major.  The reader checks all of this (and
 * refuses duplicate keys anywhere in the header, which json-c would
 * otherwise merge silently) before returning.
 *
 * Ownership: after safetensors_open() or safetensors_parse() succeeds the
 * struct owns the mapping (open), the tensor and metadata arrays and every
 * name, key and value string; tensor `data` points into the mapping, or
 * into the caller's buffer for safetensors_parse(), which must outlive
 * the struct.  All of it stays valid until safetensors_close(), which may
 * be called on a zeroed struct or twice.  On failure nothing is held.
 *
 * A tensor's data are aligned to its element size when the writer placed
 * them so (this writer and the reference one do, by sorting tensors by
 * descending alignment and padding the header to 8 bytes); files from
 * elsewhere may not be, so check before casting `data`.
 */
#ifndef LOAM_SAFETENSORS_H
#define LOAM_SAFETENSORS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* In the order of the reference implementation's Dtype enum. */
enum safetensors_dtype {
	SAFETENSORS_BOOL,
	SAFETENSORS_U8,
	SAFETENSORS_I8,
	SAFETENSORS_F8_E5M2,
	SAFETENSORS_F8_E4M3,
	SAFETENSORS_I16,
	SAFETENSORS_U16,
	SAFETENSORS_F16,
	SAFETENSORS_BF16,
	SAFETENSORS_I32,
	SAFETENSORS_U32,
	SAFETENSORS_F32,
	SAFETENSORS_F64,
	SAFETENSORS_I64,
	SAFETENSORS_U64,
	SAFETENSORS_NDTYPE
};

/* Longest header the reference implementation accepts. */
#define SAFETENSORS_MAX_HEADER	100000000

struct safetensors_tensor {
	const char	*name;
	int		 dtype;		/* enum safetensors_dtype */
	int		 ndim;		/* 0 for a scalar */
	const size_t	*shape;		/* ndim sizes */
	const void	*data;		/* nbytes bytes */
	size_t		 nbytes;	/* prod(shape) * element size */
	size_t		 offset;	/* begin, relative to the data buffer */
};

struct safetensors_kv {
	const char	*key;
	const char	*value;
};

/* Read-only for callers; fill it with safetensors_open or _parse. */
struct safetensors {
	void		*map;		/* the file's mapping, or NULL */
	size_t		 map_len;
	char		*name;		/* for messages */
	size_t		 header_len;	/* N */
	const void	*buf;		/* the data buffer */
	size_t		 buf_len;
	size_t		 ntensors;
	struct safetensors_tensor *tensors;	/* in data-offset order */
	size_t		 nmeta;
	struct safetensors_kv *meta;	/* in header order */
	size_t		*byname;	/* tensor indices sorted by name */
	size_t		*shapes;	/* storage behind every tensor's shape */
};

/* Map PATH read-only and parse it.  0 on success, -1 with loam_error(). */
int safetensors_open(struct safetensors *st, const char *path);
/* Parse LEN bytes at BUF, which must outlive ST; NAME is for messages. */
int safetensors_parse(struct safetensors *st, const void *buf, size_t len,
    const char *name);
void safetensors_close(struct safetensors *st);

/* The tensor called NAME, or NULL with loam_error() set. */
const struct safetensors_tensor *safetensors_find(const struct safetensors *st,
    const char *name);
/* The metadata value for KEY, or NULL (no error is set: keys are often
 * optional). */
const char *safetensors_meta(const struct safetensors *st, const char *key);

/* "F32" etc., or NULL for a bad dtype. */
const char *safetensors_dtype_name(int dtype);
/* Bytes per element, or 0 for a bad dtype. */
size_t safetensors_dtype_size(int dtype);
/* The dtype called NAME, or -1. */
int safetensors_dtype_parse(const char *name);

/*
 * Write the NT tensors T (name, dtype, ndim, shape and data are read;
 * nbytes and offset are computed, so a reader's tensors can be passed
 * straight back) and NMETA metadata pairs (none when 0) to PATH.  Tensors
 * are laid out as the reference writer does: by descending alignment,
 * then by name; metadata keep their order.  Names, keys and values must
 * be UTF-8 and unique.  The file is written beside PATH and renamed over
 * it, so a failed write leaves an existing PATH as it was.
 */
int safetensors_write(const char *path, const struct safetensors_tensor *t,
    size_t nt, const struct safetensors_kv *meta, size_t nmeta);

#ifdef __cplusplus
}
#endif

#endif
