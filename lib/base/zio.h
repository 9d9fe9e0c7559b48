/*
 * zio.h - compressed JSON Lines: gzip (zlib) and zstd (libzstd), read
 * transparently and written when an output's name ends in .gz or .zst.
 *
 * Data pipelines keep JSONL compressed, so every program reads it: the
 * record reader sniffs each input's first bytes (1f 8b: gzip, 28 b5 2f fd:
 * zstd) and decompresses in its fill step, files and pipes alike,
 * concatenated members and frames included.  cli_out_open wraps an
 * output named *.gz or *.zst in a compressing stream that ends its frame
 * before the atomic commit.
 */
#ifndef LOAM_ZIO_H
#define LOAM_ZIO_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

enum zio_format { ZIO_NONE, ZIO_GZIP, ZIO_ZSTD, ZIO_MORE = -1 };

/* The format whose magic number starts p[0, n): ZIO_GZIP, ZIO_ZSTD,
 * ZIO_NONE, or ZIO_MORE when p is a proper prefix of a magic number (read
 * more before deciding). */
int zio_sniff(const unsigned char *p, size_t n);

/* The format an output path asks for by its suffix. */
enum zio_format zio_format_of_path(const char *path);

struct zio_in;

struct zio_in *zio_in_new(enum zio_format f);
void zio_in_free(struct zio_in *z);

/* Decompress from in[0, n) into out[0, cap): the bytes written, with the
 * input consumed in *used; -1 with loam_error() set on corrupt input. */
ssize_t zio_in_step(struct zio_in *z, const void *in, size_t n, size_t *used,
    void *out, size_t cap);

/* Whether the input so far ends at the end of a member or frame (so that
 * end of input there is not a truncation). */
int zio_in_complete(const struct zio_in *z);

/* A stream that compresses what is written to it into raw, which stays
 * open; fclose() of the stream ends the frame and flushes raw.  NULL with
 * loam_error() set on failure. */
FILE *zio_out_open(FILE *raw, enum zio_format f);

#endif
