/*
 * util - allocation that cannot fail, and the library's error slot.
 *
 * Library functions never print and never exit.  A function that can fail
 * on bad input or I/O returns -1 (or NULL) after calling loam_seterr();
 * the caller reads the message with loam_error() and decides what to do
 * (a command usually passes it to die()).  Messages are one line, lower
 * case, no trailing period, and name the file and the offending value:
 * "emb.npy: unsupported dtype '>f4'".
 */
#ifndef LOAM_UTIL_H
#define LOAM_UTIL_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

extern const char *progname;	/* for messages; cli_init() sets it */

#if defined(__GNUC__)
#define LOAM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define LOAM_NORETURN __attribute__((noreturn))
#else
#define LOAM_PRINTF(f, a)
#define LOAM_NORETURN
#endif


/* x*alloc: abort the program with "prog: out of memory" instead of
 * returning NULL.  The caller owns the result and frees it with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* xreallocarray: like xrealloc(p, count * size), dying on overflow. */
void *xreallocarray(void *p, size_t count, size_t size);
char *xstrdup(const char *s);
/* The n bytes at s as a new NUL-ended string. */
char *xstrndup(const char *s, size_t n);

/* Set the calling thread's last error message (printf-style).  Always
 * returns -1 so that a failing function can `return loam_seterr(...)`. */
int loam_seterr(const char *fmt, ...) LOAM_PRINTF(1, 2);
/* The last message set on this thread; "" when none.  Borrowed: valid
 * until the next loam_seterr() on this thread. */
const char *loam_error(void);

/* Map a regular file read-only.  *map is NULL for an empty file (mmap
 * refuses length 0; the caller's parser reports the empty file).  -1 with
 * "path: ..." on failure.  Release with unmap_file(). */
int map_file(const char *path, void **map, size_t *len);
void unmap_file(void *map, size_t len);

/*
 * Atomic replacement of a file.  atomic_open() opens a temporary file in
 * the directory of the file replaced (so that the rename is atomic) with
 * the mode open(2) would give; atomic_commit() syncs it, closes it and
 * renames it over that file.  Until then the old file is untouched, and
 * on any failure the temporary file is removed: a failed or interrupted
 * write never leaves a truncated output.
 *
 * What path names decides what is written (loam-records(5)):
 *  - a regular file, or nothing: replaced as above;
 *  - a symbolic link: its final target (a chain followed, relative links
 *    read from the link's directory) is replaced as above and the link
 *    stays; a dangling link gets its target created;
 *  - /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: written to
 *    that open descriptor (a duplicate of it), as the shell's would be;
 *  - anything else (a device, a FIFO, another file under /proc): opened
 *    with O_WRONLY and written in place, nothing renamed; a write error
 *    (ENOSPC on /dev/full) is still an error, and an abort cannot take
 *    back what was written.
 *
 * The temporary file is anonymous (O_TMPFILE) where the file system
 * allows it, so a run killed with SIGKILL leaves nothing; the commit links
 * it under a fresh name beside the target and renames that over it.
 * Elsewhere it is named .NAME.loam-tmp.PID.XXXXXX; such files left by a
 * process that no longer exists are removed by the next commit of NAME.
 * Named temporary files in flight are listed so that a dying program can
 * remove them (atomic_remove_all(), async-signal-safe; cli's die() and
 * signal handlers call it).  The struct owns everything in it.
 */
struct atomic_file {
	int fd;		/* the file written; the caller must not close it */
	FILE *fp;	/* atomic_fdopen()'s stream, closed by commit and abort */
	char *path;	/* as given, for messages; NULL when not open */
	char *target;	/* the file replaced; NULL when written in place */
	char *tmp;	/* the temporary file's name; NULL while anonymous */
	int in_place;	/* path is written directly (not a regular file) */
};
int atomic_open(struct atomic_file *af, const char *path);
/* Write all of buf; -1 with "path: strerror" on failure. */
int atomic_write(struct atomic_file *af, const void *buf, size_t n);
/* A stdio stream on the file (on a duplicate of fd, which the commit
 * still needs); NULL with "path: strerror" on failure.  Commit and abort
 * flush and close it: do not fclose() it. */
FILE *atomic_fdopen(struct atomic_file *af, const char *mode);
/* Flush the stream, fsync, close, rename.  On failure the temporary file
 * is removed and -1 returned; in both cases af is released. */
int atomic_commit(struct atomic_file *af);
/* atomic_commit() without the fsync (pipeline-run --no-sync): the new
 * file is swapped in with renameat2(RENAME_EXCHANGE) where it can be. */
int atomic_commit_unsynced(struct atomic_file *af);
/* Close and remove the temporary file; path stays as it was.  A no-op on
 * a released or zeroed af. */
void atomic_abort(struct atomic_file *af);
void atomic_remove_all(void);
/* A whole file written atomically in one call, for the binary formats
 * (htab, rewardcount and knn tables): atomic_open(), a stdio stream on
 * it, fn(fp, path, arg) (0, or -1 with loam_seterr()), then
 * atomic_commit(); on any failure path is left as it was.  0 or -1. */
typedef int (*atomic_writer)(FILE *fp, const char *name, void *arg);
int atomic_save(const char *path, atomic_writer fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif
