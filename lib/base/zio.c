/*
 * zio.c - gzip and zstd streams (see zio.h).
 */
#define _GNU_SOURCE		/* fopencookie */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "cli.h"
#include "util.h"
#include "zio.h"

int
zio_sniff(const unsigned char *p, size_t n)
{
	static const unsigned char gz[] = { 0x1f, 0x8b }, zs[] = { 0x28, 0xb5, 0x2f, 0xfd };

	if (n >= 2 && memcmp(p, gz, 2) == 0)
		return ZIO_GZIP;
	if (n >= 4 && memcmp(p, zs, 4) == 0)
		return ZIO_ZSTD;
	if ((n > 0 && n < 2 && memcmp(p, gz, n) == 0) || (n > 0 && n < 4 && memcmp(p, zs, n) == 0))
		return ZIO_MORE;
	return ZIO_NONE;
}

enum zio_format
zio_format_of_path(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	if (n > 3 && strcmp(path + n - 3, ".gz") == 0)
		return ZIO_GZIP;
	if (n > 4 && strcmp(path + n - 4, ".zst") == 0)
		return ZIO_ZSTD;
	return ZIO_NONE;
}

struct zio_in {
	enum zio_format f;
	z_stream gz;
	ZSTD_DCtx *zs;
	int complete;		/* at the end of a member or frame */
};

struct zio_in *
zio_in_new(enum zio_format f)
{
	struct zio_in *z = xcalloc(1, sizeof *z);

	z->f = f;
	z->complete = 1;
	if (f == ZIO_GZIP) {
		if (inflateInit2(&z->gz, 15 + 16) != Z_OK)	/* gzip wrapper only */
			die("zlib: cannot initialise");
	} else if (!(z->zs = ZSTD_createDCtx())) {
		die("zstd: cannot initialise");
	}
	return z;
}

void
zio_in_free(struct zio_in *z)
{
	if (!z)
		return;
	if (z->f == ZIO_GZIP)
		inflateEnd(&z->gz);
	else
		ZSTD_freeDCtx(z->zs);
	free(z);
}

static ssize_t
gzip_step(struct zio_in *z, const void *in, size_t n, size_t *used, void *out, size_t cap)
{
	z_stream *s = &z->gz;
	int rc;

	/* A new member after the end of one: concatenated .gz files. */
	if (z->complete && n > 0) {
		if (inflateReset(s) != Z_OK)
			return loam_seterr("gzip: cannot reset");
		z->complete = 0;
	}
	s->next_in = (Bytef *)(uintptr_t)in;
	s->avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
	s->next_out = out;
	s->avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
	rc = inflate(s, Z_NO_FLUSH);
	*used = (size_t)((const Bytef *)s->next_in - (const Bytef *)in);
	if (rc == Z_STREAM_END)
		z->complete = 1;
	else if (rc != Z_OK && rc != Z_BUF_ERROR)
		return loam_seterr("gzip: %s", s->msg ? s->msg : "corrupt data");
	return (ssize_t)(cap - s->avail_out);
}

static ssize_t
zstd_step(struct zio_in *z, const void *in, size_t n, size_t *used, void *out, size_t cap)
{
	ZSTD_inBuffer ib = { in, n, 0 };
	ZSTD_outBuffer ob = { out, cap, 0 };
	size_t rc = ZSTD_decompressStream(z->zs, &ob, &ib);

	*used = ib.pos;
	if (ZSTD_isError(rc))
		return loam_seterr("zstd: %s", ZSTD_getErrorName(rc));
	/* 0: a frame ended and all its output is out. */
	if (ib.pos > 0 || ob.pos > 0)
		z->complete = rc == 0;
	return (ssize_t)ob.pos;
}

ssize_t
zio_in_step(struct zio_in *z, const void *in, size_t n, size_t *used, void *out, size_t cap)
{
	return z->f == ZIO_GZIP ? gzip_step(z, in, n, used, out, cap) :
	    zstd_step(z, in, n, used, out, cap);
}

int
zio_in_complete(const struct zio_in *z)
{
	return z->complete;
}

/* The writing side: a stdio cookie over the raw stream. */
struct zio_out {
	enum zio_format f;
	FILE *raw;
	z_stream gz;
	ZSTD_CCtx *zs;
	unsigned char buf[1 << 16];
};

static int
put(struct zio_out *z, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, z->raw) != n)
		return -1;
	return 0;
}

/* Push in[0, n) through the compressor; finish: end the frame. */
static int
deflate_into(struct zio_out *z, const char *in, size_t n, int finish)
{
	if (z->f == ZIO_GZIP) {
		z_stream *s = &z->gz;

		s->next_in = (Bytef *)(uintptr_t)in;
		s->avail_in = (uInt)n;
		for (;;) {
			int rc;

			s->next_out = z->buf;
			s->avail_out = sizeof z->buf;
			rc = deflate(s, finish ? Z_FINISH : Z_NO_FLUSH);
			if (rc == Z_STREAM_ERROR || put(z, z->buf, sizeof z->buf - s->avail_out) != 0)
				return -1;
			if (finish ? rc == Z_STREAM_END : s->avail_in == 0 && s->avail_out != 0)
				return 0;
		}
	} else {
		ZSTD_inBuffer ib = { in, n, 0 };

		for (;;) {
			ZSTD_outBuffer ob = { z->buf, sizeof z->buf, 0 };
			size_t rc = ZSTD_compressStream2(z->zs, &ob, &ib,
			    finish ? ZSTD_e_end : ZSTD_e_continue);

			if (ZSTD_isError(rc) || put(z, z->buf, ob.pos) != 0)
				return -1;
			if (finish ? rc == 0 : ib.pos == ib.size && ob.pos < ob.size)
				return 0;
		}
	}
}

static ssize_t
cookie_write(void *c, const char *buf, size_t n)
{
	if (deflate_into(c, buf, n, 0) != 0) {
		errno = errno ? errno : EIO;
		return -1;
	}
	return (ssize_t)n;
}

static int
cookie_close(void *c)
{
	struct zio_out *z = c;
	int rc = deflate_into(z, NULL, 0, 1);

	if (z->f == ZIO_GZIP)
		deflateEnd(&z->gz);
	else
		ZSTD_freeCCtx(z->zs);
	if (fflush(z->raw) != 0 || ferror(z->raw))
		rc = -1;
	free(z);
	return rc == 0 ? 0 : EOF;
}

FILE *
zio_out_open(FILE *raw, enum zio_format f)
{
	struct zio_out *z = xcalloc(1, sizeof *z);
	cookie_io_functions_t io = { NULL, cookie_write, NULL, cookie_close };
	FILE *fp;

	z->f = f;
	z->raw = raw;
	if (f == ZIO_GZIP) {
		/* level 6, gzip wrapper: what gzip(1) writes by default */
		if (deflateInit2(&z->gz, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
			free(z);
			loam_seterr("zlib: cannot initialise");
			return NULL;
		}
	} else if (!(z->zs = ZSTD_createCCtx())) {
		free(z);
		loam_seterr("zstd: cannot initialise");
		return NULL;
	}
	if (!(fp = fopencookie(z, "w", io))) {
		loam_seterr("fopencookie: %s", strerror(errno));
		if (f == ZIO_GZIP)
			deflateEnd(&z->gz);
		else
			ZSTD_freeCCtx(z->zs);
		free(z);
		return NULL;
	}
	return fp;
}
