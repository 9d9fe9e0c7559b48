/*
 * zio_test.c - gzip and zstd streams: sniffing, a round trip through the
 * writer and the reader's step function in small pieces, concatenated
 * members and frames, and truncated or corrupt input refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "zio.h"

/* Compress text with zio_out_open into a memory buffer. */
static char *
squeeze(enum zio_format f, const char *text, size_t n, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *raw = open_memstream(&buf, &size);
	FILE *z = zio_out_open(raw, f);

	/* written in uneven pieces */
	for (size_t i = 0; i < n; i += 7)
		fwrite(text + i, 1, n - i < 7 ? n - i : 7, z);
	ok(fclose(z) == 0, "format %d: the writer closes", f);
	fclose(raw);
	*len = size;
	return buf;
}

/* Decompress in pieces of `piece` bytes of input and 5 of output. */
static int
expand(enum zio_format f, const char *in, size_t n, size_t piece, char *out, size_t cap,
    size_t *len, int *complete)
{
	struct zio_in *z = zio_in_new(f);
	size_t at = 0, o = 0;

	while (at < n || o < cap) {
		size_t used, give = n - at < piece ? n - at : piece;
		ssize_t got = zio_in_step(z, in + at, give, &used, out + o,
		    cap - o < 5 ? cap - o : 5);

		if (got < 0) {
			zio_in_free(z);
			return -1;
		}
		at += used;
		o += (size_t)got;
		if (got == 0 && used == 0)
			break;
	}
	*len = o;
	*complete = zio_in_complete(z);
	zio_in_free(z);
	return 0;
}

int
main(void)
{
	static const unsigned char gz[] = { 0x1f, 0x8b, 8 }, zs[] = { 0x28, 0xb5, 0x2f, 0xfd };
	char text[20000], out[50000];
	size_t n = 0;

	ok(zio_sniff(gz, 3) == ZIO_GZIP && zio_sniff(zs, 4) == ZIO_ZSTD, "magic numbers");
	ok(zio_sniff(gz, 1) == ZIO_MORE && zio_sniff(zs, 3) == ZIO_MORE, "a magic's prefix asks for more");
	ok(zio_sniff((const unsigned char *)"{\"a\"", 4) == ZIO_NONE &&
	    zio_sniff((const unsigned char *)"{", 1) == ZIO_NONE, "JSON is plain at once");
	ok(zio_format_of_path("a.jsonl.gz") == ZIO_GZIP && zio_format_of_path("a.zst") == ZIO_ZSTD &&
	    zio_format_of_path("a.jsonl") == ZIO_NONE && zio_format_of_path(".gz") == ZIO_NONE,
	    "formats by suffix");
	for (int i = 0; n + 40 < sizeof text; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "{\"i\":%d,\"t\":\"x%dy\"}\n", i, i * 7);
	for (enum zio_format f = ZIO_GZIP; f <= ZIO_ZSTD; f++) {
		size_t len, got;
		int complete;
		char *c = squeeze(f, text, n, &len), *two;

		ok(zio_sniff((unsigned char *)c, len) == (int)f, "format %d: output sniffs as itself", f);
		ok(len < n / 2, "format %d: compresses (%zu -> %zu)", f, n, len);
		ok(expand(f, c, len, 3, out, sizeof out, &got, &complete) == 0 && got == n &&
		    memcmp(out, text, n) == 0 && complete, "format %d: round trip in small pieces", f);
		two = malloc(2 * len);
		memcpy(two, c, len);
		memcpy(two + len, c, len);
		ok(expand(f, two, 2 * len, 1000, out, sizeof out, &got, &complete) == 0 &&
		    got == 2 * n && memcmp(out + n, text, n) == 0 && complete,
		    "format %d: two members or frames concatenated", f);
		ok(expand(f, c, len / 2, 1000, out, sizeof out, &got, &complete) == 0 && !complete,
		    "format %d: a truncated stream is not complete", f);
		memset(two + len / 2, 0x55, len - len / 2);
		ok(expand(f, two, len, 1000, out, sizeof out, &got, &complete) != 0 || !complete,
		    "format %d: corrupt data is refused", f);
		free(two);
		free(c);
	}
	return tap_done();
}
