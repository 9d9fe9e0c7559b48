/*
 * npy_test - lib/npy: round trips, numpy's exact header bytes, Fortran
 * order, the real files under testdata/external, and malformed input.
 * numpy is not available here, so reference bytes are built by hand.
 * Run from the repository root.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"
#include "tap.h"
#include "util.h"

#define EXT	"testdata/external/"

static char dir[] = "/tmp/npy_test.XXXXXX";

static char *
tmppath(const char *name)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
	return buf[k];
}

static int
has(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

/*
 * A file image with header DICT, format VERSION, padded with spaces and
 * '\n' to a 64-byte data offset as numpy does, then N bytes of DATA.
 * The caller frees *out.
 */
static size_t
build(unsigned char **out, int version, const char *dict, const void *data,
    size_t n)
{
	size_t pre = version == 1 ? 10 : 12, dlen = strlen(dict), hlen, len;
	unsigned char *b;

	hlen = dlen + 1;
	hlen += (64 - (pre + hlen) % 64) % 64;
	len = pre + hlen + n;
	b = xmalloc(len);
	memcpy(b, "\x93NUMPY", 6);
	b[6] = (unsigned char)version;
	b[7] = 0;
	b[8] = hlen & 0xff;
	b[9] = hlen >> 8 & 0xff;
	if (version != 1) {
		b[10] = hlen >> 16 & 0xff;
		b[11] = hlen >> 24 & 0xff;
	}
	memcpy(b + pre, dict, dlen);
	memset(b + pre + dlen, ' ', hlen - dlen - 1);
	b[pre + hlen - 1] = '\n';
	if (n)
		memcpy(b + pre + hlen, data, n);
	*out = b;
	return len;
}

/* Parse a built image; returns npy_parse's result and leaves the error. */
static int
try_dict(const char *dict, int version, const void *data, size_t n)
{
	struct npy a;
	unsigned char *b;
	size_t len = build(&b, version, dict, data, n);
	int r = npy_parse(&a, b, len, "t.npy");

	npy_close(&a);
	free(b);
	return r;
}

static int
read_file(const char *path, unsigned char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*buf = xmalloc((size_t)n);
	*len = fread(*buf, 1, (size_t)n, f);
	fclose(f);
	return *len == (size_t)n ? 0 : -1;
}

static int
write_bytes(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int r;

	if (!f)
		return -1;
	r = fwrite(buf, 1, len, f) == len ? 0 : -1;
	return fclose(f) == 0 ? r : -1;
}

static void
fill(void *p, int dtype, size_t n)
{
	size_t i;

	/* Integer values so that every conversion is exact. */
	for (i = 0; i < n; i++) {
		double v = (double)i * (i % 2 ? -1 : 1) + 3;

		switch (dtype) {
		case NPY_F4: ((float *)p)[i] = (float)v; break;
		case NPY_F8: ((double *)p)[i] = v; break;
		case NPY_I4: ((int32_t *)p)[i] = (int32_t)v; break;
		case NPY_I8: ((int64_t *)p)[i] = (int64_t)v; break;
		}
	}
}

static void
test_round_trip(void)
{
	static const int dts[] = { NPY_F4, NPY_F8, NPY_I4, NPY_I8 };
	static const size_t shapes[4][3] = {
		{ 0 }, { 5 }, { 2, 3 }, { 2, 3, 4 }
	};
	struct npy a;
	unsigned char data[24 * 8];
	float f[24];
	double d[24], want[24];
	int64_t l[24];
	size_t i;
	int t, r, k, same;

	for (t = 0; t < 4; t++) {
		for (r = 0; r < 4; r++) {
			const char *p = tmppath("rt.npy");
			size_t n = 1;

			for (k = 0; k < r; k++)
				n *= shapes[r][k];
			fill(data, dts[t], n);
			fill(want, NPY_F8, n);
			if (!ok(npy_write(p, dts[t], r, shapes[r], data) == 0,
			    "write %s rank %d", npy_descr(dts[t]), r))
				diag("%s", loam_error());
			if (!ok(npy_open(&a, p) == 0, "open %s rank %d",
			    npy_descr(dts[t]), r)) {
				diag("%s", loam_error());
				continue;
			}
			same = a.dtype == dts[t] && a.ndim == r &&
			    a.count == n && !a.fortran_order &&
			    a.version == 1 && a.data_off % 64 == 0;
			for (k = 0; k < r; k++)
				same = same && a.shape[k] == shapes[r][k];
			ok(same, "%s rank %d: header fields",
			    npy_descr(dts[t]), r);
			ok(memcmp(a.data, data, n * a.itemsize) == 0,
			    "%s rank %d: data bytes", npy_descr(dts[t]), r);
			same = npy_read_f32(&a, f) == 0 &&
			    npy_read_f64(&a, d) == 0 &&
			    npy_read_i64(&a, l) == 0;
			for (i = 0; i < n; i++)
				same = same && f[i] == (float)want[i] &&
				    d[i] == want[i] && l[i] == (int64_t)want[i];
			ok(same, "%s rank %d: read as f32, f64, i64",
			    npy_descr(dts[t]), r);
			npy_close(&a);
		}
	}
}

static void
test_exact_header(void)
{
	static const char dict23[] =
	    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
	static const char dict0[] =
	    "{'descr': '<f8', 'fortran_order': False, 'shape': (), }";
	unsigned char want[128 + 24], *got;
	float v[6] = { 1, 2, 3, 4, 5, 6 };
	double s = 2.5;
	size_t shape[2] = { 2, 3 }, len;

	/* numpy 1.24: dict, 21 - len("2") spaces of growth room, then
	 * padding and '\n' to offset 128; the u16 length is 118. */
	memset(want, ' ', sizeof want);
	memcpy(want, "\x93NUMPY\x01\x00\x76\x00", 10);
	memcpy(want + 10, dict23, sizeof dict23 - 1);
	want[127] = '\n';
	memcpy(want + 128, v, sizeof v);
	ok(npy_write(tmppath("h.npy"), NPY_F4, 2, shape, v) == 0,
	    "write (2, 3) <f4");
	if (read_file(tmppath("h.npy"), &got, &len) == 0) {
		is_int(len, sizeof want, "(2, 3) <f4: file size");
		ok(len == sizeof want && memcmp(got, want, len) == 0,
		    "(2, 3) <f4: bytes equal numpy's");
		free(got);
	} else
		ok(0, "read back h.npy");

	/* A 0-d array gets no growth room, but 10 + 55 + 1 bytes still pad
	 * to 128. */
	memset(want, ' ', 128);
	memcpy(want, "\x93NUMPY\x01\x00\x76\x00", 10);
	memcpy(want + 10, dict0, sizeof dict0 - 1);
	want[127] = '\n';
	memcpy(want + 128, &s, 8);
	ok(npy_write(tmppath("s.npy"), NPY_F8, 0, NULL, &s) == 0,
	    "write () <f8");
	if (read_file(tmppath("s.npy"), &got, &len) == 0) {
		ok(len == 136 && memcmp(got, want, len) == 0,
		    "() <f8: bytes equal numpy's");
		free(got);
	} else
		ok(0, "read back s.npy");
}

/* Write each real C-order file back out: the result must be identical,
 * which checks the writer against files numpy itself produced. */
static void
test_rewrite_external(void)
{
	static const char *files[] = {
		EXT "embroid-dbpedia-animal/labels.npy",
		EXT "embroid-dbpedia-animal/bert_neighbors.npy",
		EXT "skillit-graphs/ni_test_graph.npy",
		EXT "skillit-graphs/stance_detection.npy",
	};
	struct npy a;
	unsigned char *orig, *mine;
	size_t i, olen, mlen;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		if (!ok(access(files[i], R_OK) == 0, "%s is shipped",
		    files[i]))
			continue;
		if (!ok(npy_open(&a, files[i]) == 0, "open %s", files[i])) {
			diag("%s", loam_error());
			continue;
		}
		ok(npy_write(tmppath("re.npy"), a.dtype, a.ndim, a.shape,
		    a.data) == 0, "rewrite %s", files[i]);
		npy_close(&a);
		if (read_file(files[i], &orig, &olen) == 0 &&
		    read_file(tmppath("re.npy"), &mine, &mlen) == 0) {
			ok(olen == mlen && memcmp(orig, mine, olen) == 0,
			    "rewrite of %s is byte-identical", files[i]);
			free(orig);
			free(mine);
		} else
			ok(0, "read back %s", files[i]);
	}
}

static void
test_fortran_built(void)
{
	struct npy a;
	unsigned char *b;
	size_t len, i, j, k;
	float fd[6], f[24];
	double dd[24], d[24];
	int64_t ld[24], l[24];
	int good;

	/* a[i][j] = 10i + j, shape (2, 3), stored column by column. */
	for (j = 0; j < 3; j++)
		for (i = 0; i < 2; i++)
			fd[j * 2 + i] = (float)(10 * i + j);
	len = build(&b, 1, "{'descr': '<f4', 'fortran_order': True, "
	    "'shape': (2, 3), }", fd, sizeof fd);
	if (ok(npy_parse(&a, b, len, "f.npy") == 0, "parse Fortran (2, 3)")) {
		ok(a.fortran_order == 1, "fortran_order is set");
		ok(npy_read_f32(&a, f) == 0, "read_f32 Fortran (2, 3)");
		ok(f[0] == 0 && f[1] == 1 && f[2] == 2 && f[3] == 10 &&
		    f[4] == 11 && f[5] == 12, "Fortran (2, 3) comes back "
		    "in C order");
	} else
		diag("%s", loam_error());
	npy_close(&a);
	free(b);

	/* Rank 3, (2, 3, 4): a[i][j][k] = 100i + 10j + k at i + 2j + 6k. */
	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++)
			for (k = 0; k < 4; k++) {
				dd[i + 2 * j + 6 * k] = 100.0 * i + 10 * j + k;
				ld[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
			}
	len = build(&b, 1, "{'descr': '<f8', 'fortran_order': True, "
	    "'shape': (2, 3, 4), }", dd, sizeof dd);
	good = npy_parse(&a, b, len, "f3.npy") == 0 &&
	    npy_read_f64(&a, d) == 0;
	for (i = 0; i < 24; i++)
		good = good && d[i] == (double)(100 * (i / 12) +
		    10 * (i / 4 % 3) + i % 4);
	ok(good, "Fortran (2, 3, 4) <f8 comes back in C order");
	npy_close(&a);
	free(b);
	len = build(&b, 1, "{'descr': '<i8', 'fortran_order': True, "
	    "'shape': (2, 3, 4), }", ld, sizeof ld);
	good = npy_parse(&a, b, len, "f3.npy") == 0 &&
	    npy_read_i64(&a, l) == 0 && npy_read_f32(&a, f) == 0;
	for (i = 0; i < 24; i++)
		good = good && l[i] == (int64_t)(100 * (i / 12) +
		    10 * (i / 4 % 3) + i % 4);
	ok(good, "Fortran (2, 3, 4) <i8 comes back in C order");
	npy_close(&a);
	free(b);

	/* Rank 1 Fortran is the same layout as C. */
	len = build(&b, 1, "{'descr': '<f4', 'fortran_order': True, "
	    "'shape': (6,), }", fd, sizeof fd);
	good = npy_parse(&a, b, len, "f1.npy") == 0 &&
	    npy_read_f32(&a, f) == 0 && memcmp(f, fd, sizeof fd) == 0;
	ok(good, "Fortran (6,) reads in file order");
	npy_close(&a);
	free(b);
}

static void
test_fortran_external(void)
{
	static const char p[] = EXT "skillit-graphs/top_23_early_decreases.npy";
	struct npy a;
	double *c, raw;
	size_t i, j;
	int good = 1;

	if (!ok(access(p, R_OK) == 0, "%s is shipped", p))
		return;
	if (!ok(npy_open(&a, p) == 0, "open %s", p)) {
		diag("%s", loam_error());
		return;
	}
	ok(a.dtype == NPY_F8 && a.ndim == 2 && a.shape[0] == 23 &&
	    a.shape[1] == 23 && a.fortran_order, "top_23: (23, 23) <f8 "
	    "Fortran order");
	c = xcalloc(a.count, sizeof *c);
	ok(npy_read_f64(&a, c) == 0, "top_23: read_f64");
	for (i = 0; i < 23; i++)
		for (j = 0; j < 23; j++) {
			memcpy(&raw, (const char *)a.data + (j * 23 + i) * 8,
			    8);
			good = good && c[i * 23 + j] == raw;
		}
	ok(good, "top_23: [i][j] equals the raw element at j*23+i");
	free(c);
	npy_close(&a);
}

static void
test_labels(void)
{
	static const char p[] = EXT "embroid-dbpedia-animal/labels.npy";
	struct npy a;
	int64_t *l;
	size_t i, ones = 0, other = 0;

	if (!ok(access(p, R_OK) == 0, "%s is shipped", p))
		return;
	if (!ok(npy_open(&a, p) == 0, "open %s", p)) {
		diag("%s", loam_error());
		return;
	}
	ok(a.dtype == NPY_I8 && a.ndim == 1 && a.shape[0] == 2000 &&
	    !a.fortran_order && a.data_off == 128, "labels: (2000,) <i8 at "
	    "offset 128");
	l = xcalloc(a.count, sizeof *l);
	ok(npy_read_i64(&a, l) == 0, "labels: read_i64");
	for (i = 0; i < a.count; i++) {
		if (l[i] == 1)
			ones++;
		else if (l[i] != 0)
			other++;
	}
	is_int((long long)ones, 1000, "labels: 1000 ones");
	is_int((long long)other, 0, "labels: only 0 and 1");
	free(l);
	npy_close(&a);
}

/* Each malformed header fails with a message containing WANT. */
static void
bad_dict(const char *dict, const char *want, const char *name)
{
	float v[6] = { 0 };

	if (!ok(try_dict(dict, 1, v, sizeof v) == -1 &&
	    has(loam_error(), want) && has(loam_error(), "t.npy"), "%s", name))
		diag("error: '%s', wanted '%s'", loam_error(), want);
}

static void
test_headers(void)
{
	struct npy a;
	unsigned char *b;
	float v[6] = { 1, 2, 3, 4, 5, 6 }, f[6];
	size_t len;
	int r;

	ok(try_dict("{'shape': (2, 3), 'descr': '<f4', "
	    "'fortran_order': False}", 1, v, sizeof v) == 0,
	    "keys in another order, no trailing comma");
	ok(try_dict("{\"fortran_order\":False,\"descr\":\"<f4\","
	    "\"shape\":(6,)}", 1, v, sizeof v) == 0,
	    "double quotes, no spaces");
	ok(try_dict("{'descr': '<f4', 'fortran_order': False, "
	    "'shape': (2L, 3L,), }", 1, v, sizeof v) == 0,
	    "Python 2 longs and a trailing comma in the shape");
	ok(try_dict("{'descr': '<f4', 'fortran_order': False, "
	    "'shape': (0, 768), }", 1, NULL, 0) == 0, "empty (0, 768)");

	len = build(&b, 2, "{'descr': '<f4', 'fortran_order': False, "
	    "'shape': (2, 3), }", v, sizeof v);
	r = npy_parse(&a, b, len, "v2.npy");
	ok(r == 0 && a.version == 2 && a.data_off == 128 &&
	    npy_read_f32(&a, f) == 0 && f[5] == 6, "version 2.0 header");
	npy_close(&a);
	free(b);
	ok(try_dict("{'descr': '<f4', 'fortran_order': False, "
	    "'shape': (6,), }", 3, v, sizeof v) == 0, "version 3.0 header");

	bad_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }",
	    "'>f4' (big-endian)", "big-endian '>f4' refused");
	bad_dict("{'descr': [('a', '<f4'), ('b', '<i4')], "
	    "'fortran_order': False, 'shape': (3,), }", "structured",
	    "structured descr refused");
	bad_dict("{'descr': '|O', 'fortran_order': False, 'shape': (3,), }",
	    "'|O'", "object dtype refused");
	bad_dict("{'descr': '<f2', 'fortran_order': False, 'shape': (12,), }",
	    "unsupported dtype '<f2'", "'<f2' refused");
	bad_dict("{'descr': <f4, 'fortran_order': False, 'shape': (6,), }",
	    "quoted descr", "unquoted descr refused");
	bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (6), }",
	    "not a tuple", "shape (6) refused");
	bad_dict("{'descr': '<f4', 'fortran_order': False, }", "lacks 'shape'",
	    "missing shape");
	bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), "
	    "'descr': '<f4'}", "repeated", "repeated key");
	bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), "
	    "'x': 1}", "unknown npy header key 'x'", "unknown key");
	bad_dict("{'descr': '<f4', 'fortran_order': 0, 'shape': (6,), }",
	    "True or False", "fortran_order 0 refused");
	bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } x",
	    "only padding", "text after the dict");
	bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }",
	    "a dimension", "negative dimension");
	bad_dict("{'descr': '<f4', 'fortran_order': False, "
	    "'shape': (4294967296, 4294967296, 16), }", "overflows",
	    "shape product overflows");
	bad_dict("{'descr': '<f4', 'fortran_order': False, "
	    "'shape': (99999999999999999999999,), }", "too large",
	    "dimension too large");
	ok(try_dict("{'descr': '<f4', 'fortran_order': False, "
	    "'shape': (4294967296, 4294967296, 16, 0), }", 1, NULL, 0) == 0,
	    "huge shape with a zero dimension is empty, not an overflow");
	bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }",
	    "truncated", "data shorter than the shape");
	bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }",
	    "trailing bytes", "data longer than the shape");
	bad_dict("{'descr': '<f4', 'fortran_order': False, "
	    "'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
	    "1,1,1,1,1,), }", "more than 32", "rank 33 refused");
	ok(try_dict("{'descr': '<f4', 'fortran_order': False, "
	    "'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
	    "1,1,1,6,), }", 1, v, sizeof v) == 0, "rank 32 accepted");
}

static void
test_bad_files(void)
{
	struct npy a;
	unsigned char *b;
	float v[6] = { 0 };
	double d[2] = { 1.5, 2 }, nan = NAN;
	int64_t l[2];
	size_t len, shape[1] = { 2 };

	len = build(&b, 1, "{'descr': '<f4', 'fortran_order': False, "
	    "'shape': (6,), }", v, sizeof v);
	ok(npy_parse(&a, b, len - 1, "t.npy") == -1 &&
	    has(loam_error(), "truncated"), "truncated file: %s", loam_error());
	ok(npy_parse(&a, b, 9, "t.npy") == -1 && has(loam_error(),
	    "truncated"), "cut inside the prefix: %s", loam_error());
	ok(npy_parse(&a, b, 60, "t.npy") == -1 && has(loam_error(),
	    "header length"), "cut inside the header: %s", loam_error());
	b[0] = 'x';
	ok(npy_parse(&a, b, len, "t.npy") == -1 && has(loam_error(),
	    "bad magic"), "bad magic: %s", loam_error());
	b[0] = 0x93;
	b[6] = 4;
	ok(npy_parse(&a, b, len, "t.npy") == -1 && has(loam_error(),
	    "version 4.0"), "version 4.0: %s", loam_error());
	b[6] = 1;
	b[7] = 1;
	ok(npy_parse(&a, b, len, "t.npy") == -1 && has(loam_error(),
	    "version 1.1"), "version 1.1: %s", loam_error());
	b[7] = 0;
	ok(npy_parse(&a, b, 0, "t.npy") == -1, "empty buffer");
	ok(npy_parse(&a, b, len, "t.npy") == 0, "the repaired buffer parses");
	npy_close(&a);
	npy_close(&a);
	ok(a.map == NULL && a.name == NULL, "npy_close twice is harmless");

	write_bytes(tmppath("trunc.npy"), b, len - 3);
	ok(npy_open(&a, tmppath("trunc.npy")) == -1 && has(loam_error(),
	    "trunc.npy: truncated"), "truncated file on disk: %s",
	    loam_error());
	free(b);
	write_bytes(tmppath("empty.npy"), "", 0);
	ok(npy_open(&a, tmppath("empty.npy")) == -1 && has(loam_error(),
	    "bad magic"), "empty file: %s", loam_error());
	ok(npy_open(&a, tmppath("none.npy")) == -1 && has(loam_error(),
	    strerror(ENOENT)), "missing file: %s", loam_error());
	ok(npy_open(&a, dir) == -1 && has(loam_error(),
	    "not a regular file"), "directory: %s", loam_error());

	/* Floats that are not integers do not become int64 silently. */
	npy_write(tmppath("frac.npy"), NPY_F8, 1, shape, d);
	ok(npy_open(&a, tmppath("frac.npy")) == 0 &&
	    npy_read_i64(&a, l) == -1 && has(loam_error(), "element 0 (1.5)"),
	    "read_i64 of 1.5: %s", loam_error());
	npy_close(&a);
	d[0] = 2;
	d[1] = nan;
	npy_write(tmppath("frac.npy"), NPY_F8, 1, shape, d);
	ok(npy_open(&a, tmppath("frac.npy")) == 0 &&
	    npy_read_i64(&a, l) == -1 && has(loam_error(), "element 1"),
	    "read_i64 of NaN: %s", loam_error());
	npy_close(&a);
	d[1] = 9223372036854775808.0;
	npy_write(tmppath("frac.npy"), NPY_F8, 1, shape, d);
	ok(npy_open(&a, tmppath("frac.npy")) == 0 &&
	    npy_read_i64(&a, l) == -1, "read_i64 of 2^63: %s", loam_error());
	npy_close(&a);
}

static int
count_tmp(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp"))
			n++;
	closedir(d);
	return n;
}

static void
test_atomic(void)
{
	struct npy a;
	float one = 1, two[2] = { 2, 3 };
	size_t shape[1] = { 2 };
	char p[256];
	struct stat st;
	mode_t mask = umask(0);

	umask(mask);
	snprintf(p, sizeof p, "%s", tmppath("atomic.npy"));

	ok(npy_write(p, NPY_F4, 0, NULL, &one) == 0, "write the first version");
	ok(npy_write(p, NPY_F4, 1, shape, two) == 0, "write over it");
	ok(npy_open(&a, p) == 0 && a.ndim == 1 && a.shape[0] == 2,
	    "the second version replaced the first");
	npy_close(&a);
	is_int(count_tmp(), 0, "no temporary file left behind");
	ok(stat(p, &st) == 0 && (st.st_mode & 0777) ==
	    (0666 & ~mask), "mode follows the umask");

	ok(npy_write(tmppath("nodir/x.npy"), NPY_F4, 0, NULL, &one) == -1 &&
	    has(loam_error(), "nodir/x.npy: ") &&
	    has(loam_error(), strerror(ENOENT)),
	    "nonexistent directory: %s", loam_error());
	/* Renaming a file over a directory fails after the data are
	 * written, so this exercises the clean-up of the temporary. */
	mkdir(tmppath("isdir"), 0777);
	ok(npy_write(tmppath("isdir"), NPY_F4, 0, NULL, &one) == -1 &&
	    has(loam_error(), "isdir: "), "target is a directory: %s",
	    loam_error());
	is_int(count_tmp(), 0, "failed write removed its temporary");
	rmdir(tmppath("isdir"));
	ok(npy_write(p, 99, 0, NULL, &one) == -1 && has(loam_error(),
	    "bad dtype"), "bad dtype refused: %s", loam_error());
	ok(npy_open(&a, p) == 0 && a.ndim == 1 && a.shape[0] == 2,
	    "a failed write leaves the existing file intact");
	npy_close(&a);
}

static void
cleanup(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlink(tmppath(e->d_name));
	closedir(d);
	rmdir(dir);
}

int
main(void)
{
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_round_trip();
	test_exact_header();
	test_rewrite_external();
	test_fortran_built();
	test_fortran_external();
	test_labels();
	test_headers();
	test_bad_files();
	test_atomic();
	cleanup();
	return tap_done();
}
