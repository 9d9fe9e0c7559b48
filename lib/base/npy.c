/*
 * npy - see npy.h.  The format is numpy/lib/format.py: a 6-byte magic,
 * major and minor version, a little-endian header length (u16 for 1.0,
 * u32 for 2.0 and 3.0), a Python dict literal padded with spaces and
 * ended by '\n', then the raw elements.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"
#include "util.h"

/* Elements are copied with memcpy in the file's (little-endian) order. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c assumes a little-endian host"
#endif

#define MAGIC		"\x93NUMPY"
#define MAGIC_LEN	6
#define ALIGN		64	/* numpy's ARRAY_ALIGN since 1.14 */
#define GROWTH_DIGITS	21	/* numpy's GROWTH_AXIS_MAX_DIGITS */
#define SHOWN		40	/* header bytes echoed in a message */

struct hdr {
	const char	*name;
	const char	*start;		/* first header byte, for offsets */
	size_t		 base;		/* file offset of start */
	const char	*p;
	const char	*end;
};

static const struct {
	const char	*descr;
	int		 dtype;
	size_t		 size;
} dtypes[] = {
	{ "<f4", NPY_F4, 4 },
	{ "<f8", NPY_F8, 8 },
	{ "<i4", NPY_I4, 4 },
	{ "<i8", NPY_I8, 8 },
};

const char *
npy_descr(int dtype)
{
	size_t i;

	for (i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
		if (dtypes[i].dtype == dtype)
			return dtypes[i].descr;
	return "?";
}

static size_t
dtype_size(int dtype)
{
	size_t i;

	for (i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
		if (dtypes[i].dtype == dtype)
			return dtypes[i].size;
	return 0;
}

/* prod(shape) into *count; -1 on overflow.  A zero dimension makes the
 * product 0 however large the others are, as in numpy. */
static int
shape_count(const size_t *shape, int ndim, size_t *count)
{
	size_t n = 1;
	int i, over = 0;

	for (i = 0; i < ndim; i++) {
		if (shape[i] == 0) {
			*count = 0;
			return 0;
		}
		if (n > SIZE_MAX / shape[i])
			over = 1;
		else
			n *= shape[i];
	}
	if (over)
		return -1;
	*count = n;
	return 0;
}

/* A syntax error names the file offset and shows what was there, so that
 * a hand-written or foreign header can be fixed. */
static int
hdr_err(struct hdr *h, const char *what)
{
	size_t left = (size_t)(h->end - h->p);
	size_t off = h->base + (size_t)(h->p - h->start);
	int n = left > SHOWN ? SHOWN : (int)left;
	int i;

	/* Keep the message on one line. */
	for (i = 0; i < n; i++)
		if (h->p[i] == '\n' || h->p[i] == '\0')
			break;
	return loam_seterr("%s: bad npy header at byte %zu: expected %s, "
	    "found '%.*s'", h->name, off, what, i, h->p);
}

static void
skip_ws(struct hdr *h)
{
	while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' ||
	    *h->p == '\n' || *h->p == '\r'))
		h->p++;
}

static int
expect(struct hdr *h, char c, const char *what)
{
	skip_ws(h);
	if (h->p >= h->end || *h->p != c)
		return hdr_err(h, what);
	h->p++;
	return 0;
}

/* A Python string literal without escapes, which is all numpy writes for
 * keys and simple descrs.  Sets *s and *len to its contents. */
static int
parse_str(struct hdr *h, const char **s, size_t *len, const char *what)
{
	const char *q;
	char quote;

	skip_ws(h);
	if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
		return hdr_err(h, what);
	quote = *h->p;
	for (q = h->p + 1; q < h->end && *q != quote; q++)
		if (*q == '\\' || *q == '\n' || *q == '\0')
			return hdr_err(h, "a string without escapes");
	if (q >= h->end)
		return hdr_err(h, "a closed string");
	*s = h->p + 1;
	*len = (size_t)(q - *s);
	h->p = q + 1;
	return 0;
}

static int
span_is(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static int
parse_descr(struct hdr *h, struct npy *a)
{
	const char *s;
	size_t len, i;
	int n;

	skip_ws(h);
	/* A list is a structured dtype, [('a', '<f4'), ...]: refuse it here,
	 * before anything could mistake a field name for the descr. */
	if (h->p < h->end && *h->p == '[')
		return loam_seterr("%s: unsupported structured dtype (descr is "
		    "a list)", h->name);
	if (parse_str(h, &s, &len, "a quoted descr") == -1)
		return -1;
	for (i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++) {
		if (span_is(s, len, dtypes[i].descr)) {
			a->dtype = dtypes[i].dtype;
			a->itemsize = dtypes[i].size;
			return 0;
		}
	}
	n = len > SHOWN ? SHOWN : (int)len;
	if (len > 0 && s[0] == '>')
		return loam_seterr("%s: unsupported dtype '%.*s' (big-endian)",
		    h->name, n, s);
	if (len >= 2 && s[1] == 'O')
		return loam_seterr("%s: unsupported dtype '%.*s' (Python "
		    "objects)", h->name, n, s);
	return loam_seterr("%s: unsupported dtype '%.*s' (want <f4, <f8, "
	    "<i4 or <i8)", h->name, n, s);
}

static int
parse_bool(struct hdr *h, int *v)
{
	skip_ws(h);
	if ((size_t)(h->end - h->p) >= 4 && memcmp(h->p, "True", 4) == 0) {
		h->p += 4;
		*v = 1;
		return 0;
	}
	if ((size_t)(h->end - h->p) >= 5 && memcmp(h->p, "False", 5) == 0) {
		h->p += 5;
		*v = 0;
		return 0;
	}
	return hdr_err(h, "True or False");
}

/* A tuple of non-negative ints: "()", "(5,)", "(2, 3)", "(2, 3,)".  A
 * Python 2 long suffix, "5L", is accepted as old numpy wrote it. */
static int
parse_shape(struct hdr *h, struct npy *a)
{
	size_t v;
	int comma = 0;

	if (expect(h, '(', "'(' opening the shape") == -1)
		return -1;
	a->ndim = 0;
	skip_ws(h);
	if (h->p < h->end && *h->p == ')') {
		h->p++;
		return 0;
	}
	for (;;) {
		skip_ws(h);
		if (h->p >= h->end || *h->p < '0' || *h->p > '9')
			return hdr_err(h, "a dimension");
		for (v = 0; h->p < h->end && *h->p >= '0' && *h->p <= '9';
		    h->p++) {
			if (v > (SIZE_MAX - 9) / 10)
				return loam_seterr("%s: npy shape: dimension "
				    "too large", h->name);
			v = v * 10 + (size_t)(*h->p - '0');
		}
		if (h->p < h->end && *h->p == 'L')
			h->p++;
		if (a->ndim == NPY_MAXDIM)
			return loam_seterr("%s: npy shape has more than %d "
			    "dimensions", h->name, NPY_MAXDIM);
		a->shape[a->ndim++] = v;
		skip_ws(h);
		if (h->p < h->end && *h->p == ',') {
			comma = 1;
			h->p++;
			skip_ws(h);
			if (h->p < h->end && *h->p == ')')
				break;
			continue;
		}
		if (h->p < h->end && *h->p == ')')
			break;
		return hdr_err(h, "',' or ')' in the shape");
	}
	h->p++;
	/* "(5)" is the int 5 in Python, which numpy refuses as a shape. */
	if (a->ndim == 1 && !comma)
		return loam_seterr("%s: npy shape '(%zu)' is not a tuple",
		    h->name, a->shape[0]);
	return 0;
}

static int
parse_dict(struct hdr *h, struct npy *a)
{
	const char *key;
	size_t klen;
	int seen_descr = 0, seen_fortran = 0, seen_shape = 0, *seen;

	if (expect(h, '{', "'{' opening the header dict") == -1)
		return -1;
	for (;;) {
		skip_ws(h);
		if (h->p < h->end && *h->p == '}') {
			h->p++;
			break;
		}
		if (parse_str(h, &key, &klen, "a quoted key or '}'") == -1)
			return -1;
		if (span_is(key, klen, "descr"))
			seen = &seen_descr;
		else if (span_is(key, klen, "fortran_order"))
			seen = &seen_fortran;
		else if (span_is(key, klen, "shape"))
			seen = &seen_shape;
		else
			return loam_seterr("%s: unknown npy header key '%.*s'",
			    h->name, klen > SHOWN ? SHOWN : (int)klen, key);
		if (*seen)
			return loam_seterr("%s: npy header key '%.*s' repeated",
			    h->name, (int)klen, key);
		*seen = 1;
		if (expect(h, ':', "':' after a key") == -1)
			return -1;
		if (seen == &seen_descr) {
			if (parse_descr(h, a) == -1)
				return -1;
		} else if (seen == &seen_fortran) {
			if (parse_bool(h, &a->fortran_order) == -1)
				return -1;
		} else if (parse_shape(h, a) == -1)
			return -1;
		skip_ws(h);
		if (h->p < h->end && *h->p == ',') {
			h->p++;
			continue;
		}
		if (expect(h, '}', "',' or '}' after a value") == -1)
			return -1;
		break;
	}
	/* Only the padding may follow: spaces and the final newline. */
	skip_ws(h);
	if (h->p != h->end)
		return hdr_err(h, "only padding after the header dict");
	if (!seen_descr || !seen_fortran || !seen_shape)
		return loam_seterr("%s: npy header lacks '%s'", h->name,
		    !seen_descr ? "descr" : !seen_fortran ? "fortran_order" :
		    "shape");
	return 0;
}

static int
parse(struct npy *a, const unsigned char *b, size_t len, const char *name)
{
	struct hdr h;
	size_t hlen, pre, nbytes;

	if (len < MAGIC_LEN + 2 || memcmp(b, MAGIC, MAGIC_LEN) != 0)
		return loam_seterr("%s: not an npy file (bad magic)", name);
	a->version = b[6];
	if ((b[6] != 1 && b[6] != 2 && b[6] != 3) || b[7] != 0)
		return loam_seterr("%s: unsupported npy version %u.%u", name,
		    b[6], b[7]);
	if (a->version == 1) {
		pre = MAGIC_LEN + 4;
		if (len < pre)
			return loam_seterr("%s: truncated npy header", name);
		hlen = (size_t)b[8] | (size_t)b[9] << 8;
	} else {
		pre = MAGIC_LEN + 6;
		if (len < pre)
			return loam_seterr("%s: truncated npy header", name);
		hlen = (size_t)((uint32_t)b[8] | (uint32_t)b[9] << 8 |
		    (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24);
	}
	if (hlen > len - pre)
		return loam_seterr("%s: truncated npy header (header length "
		    "%zu, file size %zu)", name, hlen, len);
	h.name = name;
	h.start = (const char *)b + pre;
	h.base = pre;
	h.p = h.start;
	h.end = h.start + hlen;
	if (parse_dict(&h, a) == -1)
		return -1;

	a->data_off = pre + hlen;
	if (shape_count(a->shape, a->ndim, &a->count) == -1 ||
	    a->count > SIZE_MAX / a->itemsize)
		return loam_seterr("%s: npy shape overflows", name);
	nbytes = a->count * a->itemsize;
	if (len - a->data_off != nbytes)
		return loam_seterr("%s: %s: %zu elements of %s need %zu data "
		    "bytes, found %zu", name, len - a->data_off < nbytes ?
		    "truncated" : "trailing bytes", a->count,
		    npy_descr(a->dtype), nbytes, len - a->data_off);
	a->data = b + a->data_off;
	return 0;
}

int
npy_parse(struct npy *a, const void *buf, size_t len, const char *name)
{
	memset(a, 0, sizeof *a);
	if (parse(a, buf, len, name) == -1) {
		memset(a, 0, sizeof *a);
		return -1;
	}
	a->name = xstrdup(name);
	return 0;
}

int
npy_open(struct npy *a, const char *path)
{
	void *map;
	size_t len;

	memset(a, 0, sizeof *a);
	if (map_file(path, &map, &len) != 0)
		return -1;
	if (npy_parse(a, map ? map : "", len, path) == -1) {
		unmap_file(map, len);
		return -1;
	}
	a->map = map;
	a->map_len = len;
	return 0;
}

void
npy_close(struct npy *a)
{
	if (a->map)
		munmap(a->map, a->map_len);
	free(a->name);
	memset(a, 0, sizeof *a);
}

/* One element at P, unaligned, as a double; exact except for huge i8. */
static double
elem_f64(const unsigned char *p, int dtype)
{
	float f;
	double d;
	int32_t i4;
	int64_t i8;

	switch (dtype) {
	case NPY_F4:
		memcpy(&f, p, 4);
		return f;
	case NPY_F8:
		memcpy(&d, p, 8);
		return d;
	case NPY_I4:
		memcpy(&i4, p, 4);
		return i4;
	default:
		memcpy(&i8, p, 8);
		return (double)i8;
	}
}

/* Each converter stores element SRC as DST[I] and returns -1 only when
 * the value has no representation in the wanted type. */
typedef int (*conv_fn)(void *, size_t, const unsigned char *, int);

static int
conv_f32(void *dst, size_t i, const unsigned char *src, int dtype)
{
	int64_t i8;
	double d;

	/* Straight from int64 to float: going through double would round
	 * twice. */
	if (dtype == NPY_I8) {
		memcpy(&i8, src, 8);
		((float *)dst)[i] = (float)i8;
		return 0;
	}
	d = elem_f64(src, dtype);
	((float *)dst)[i] = (float)d;
	return 0;
}

static int
conv_f64(void *dst, size_t i, const unsigned char *src, int dtype)
{
	((double *)dst)[i] = elem_f64(src, dtype);
	return 0;
}

static int
conv_i64(void *dst, size_t i, const unsigned char *src, int dtype)
{
	int64_t v;
	int32_t i4;
	double d;

	switch (dtype) {
	case NPY_I8:
		memcpy(&v, src, 8);
		break;
	case NPY_I4:
		memcpy(&i4, src, 4);
		v = i4;
		break;
	default:
		d = elem_f64(src, dtype);
		/* The comparisons are false for NaN; 2^63 is exact. */
		if (!(d >= -9223372036854775808.0 &&
		    d < 9223372036854775808.0) || d != trunc(d))
			return -1;
		v = (int64_t)d;
		break;
	}
	((int64_t *)dst)[i] = v;
	return 0;
}

static int
conv_err(const struct npy *a, size_t ci, const unsigned char *src)
{
	return loam_seterr("%s: element %zu (%.17g) is not an integer in "
	    "int64 range", a->name, ci, elem_f64(src, a->dtype));
}

static int
read_as(const struct npy *a, void *dst, int want, conv_fn conv)
{
	const unsigned char *src = a->data;
	size_t n = a->count, sz = a->itemsize, i, d;
	size_t stride[NPY_MAXDIM], idx[NPY_MAXDIM];
	int k;

	if (n == 0)
		return 0;
	/* Below rank 2 both orders lay the elements out the same way. */
	if (!a->fortran_order || a->ndim < 2) {
		if (a->dtype == want) {
			memcpy(dst, src, n * sz);
			return 0;
		}
		for (i = 0; i < n; i++)
			if (conv(dst, i, src + i * sz, a->dtype) == -1)
				return conv_err(a, i, src + i * sz);
		return 0;
	}
	/*
	 * Fortran order: walk the file sequentially, first index fastest,
	 * keeping D the C-order position of the current index tuple.  The
	 * count is non-zero here, so every dimension is at least 1.
	 */
	stride[a->ndim - 1] = 1;
	for (k = a->ndim - 2; k >= 0; k--)
		stride[k] = stride[k + 1] * a->shape[k + 1];
	memset(idx, 0, sizeof idx);
	for (i = 0, d = 0; i < n; i++) {
		if (conv(dst, d, src + i * sz, a->dtype) == -1)
			return conv_err(a, d, src + i * sz);
		for (k = 0; k < a->ndim; k++) {
			if (++idx[k] < a->shape[k]) {
				d += stride[k];
				break;
			}
			idx[k] = 0;
			d -= (a->shape[k] - 1) * stride[k];
		}
	}
	return 0;
}

int
npy_read_f32(const struct npy *a, float *dst)
{
	return read_as(a, dst, NPY_F4, conv_f32);
}

int
npy_read_f64(const struct npy *a, double *dst)
{
	return read_as(a, dst, NPY_F8, conv_f64);
}

int
npy_read_i64(const struct npy *a, int64_t *dst)
{
	return read_as(a, dst, NPY_I8, conv_i64);
}

int
npy_write(const char *path, int dtype, int ndim, const size_t *shape,
    const void *data)
{
	char dict[64 + NPY_MAXDIM * 24 + GROWTH_DIGITS], *hdr;
	size_t itemsize, count, len, hlen, pre, pad, total, nbytes;
	struct atomic_file out;
	int i, n, ok, digits;

	if ((itemsize = dtype_size(dtype)) == 0)
		return loam_seterr("%s: npy_write: bad dtype %d", path, dtype);
	if (ndim < 0 || ndim > NPY_MAXDIM)
		return loam_seterr("%s: npy_write: bad rank %d", path, ndim);
	if (shape_count(shape, ndim, &count) == -1 ||
	    count > SIZE_MAX / itemsize)
		return loam_seterr("%s: npy_write: shape overflows", path);
	nbytes = count * itemsize;

	/* numpy's _write_array_header: keys sorted, repr() of each value,
	 * "(5,)" for one dimension. */
	len = (size_t)snprintf(dict, sizeof dict, "{'descr': '%s', "
	    "'fortran_order': False, 'shape': (", npy_descr(dtype));
	for (i = 0; i < ndim; i++)
		len += (size_t)snprintf(dict + len, sizeof dict - len, "%s%zu",
		    i ? ", " : "", shape[i]);
	len += (size_t)snprintf(dict + len, sizeof dict - len, "%s), }",
	    ndim == 1 ? "," : "");
	/* numpy 1.24 leaves room for the first dimension to grow to 21
	 * digits, so that the header can be rewritten in place. */
	if (ndim > 0) {
		digits = snprintf(NULL, 0, "%zu", shape[0]);
		for (n = digits; n < GROWTH_DIGITS; n++)
			dict[len++] = ' ';
	}

	/* _wrap_header: pad with spaces then '\n' so the data offset is a
	 * multiple of 64 (a full 64 when already aligned, as numpy does).
	 * Version 2.0 cannot be needed while NPY_MAXDIM is 32, but the rule
	 * is numpy's and costs nothing. */
	pre = MAGIC_LEN + 4;
	hlen = len + 1;
	pad = ALIGN - (pre + hlen) % ALIGN;
	if (hlen + pad > 65535) {
		pre = MAGIC_LEN + 6;
		pad = ALIGN - (pre + hlen) % ALIGN;
	}
	total = pre + hlen + pad;
	hdr = xmalloc(total);
	memcpy(hdr, MAGIC, MAGIC_LEN);
	hdr[6] = pre == MAGIC_LEN + 4 ? 1 : 2;
	hdr[7] = 0;
	hlen += pad;
	for (i = 0; i < (int)(pre - MAGIC_LEN - 2); i++)
		hdr[8 + i] = (char)(hlen >> (8 * i) & 0xff);
	memcpy(hdr + pre, dict, len);
	memset(hdr + pre + len, ' ', pad);
	hdr[total - 1] = '\n';

	if (atomic_open(&out, path) != 0) {
		free(hdr);
		return -1;
	}
	ok = atomic_write(&out, hdr, total) == 0 &&
	    (nbytes == 0 || atomic_write(&out, data, nbytes) == 0);
	free(hdr);
	if (!ok) {
		atomic_abort(&out);
		return -1;
	}
	return atomic_commit(&out);
}
