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

#ifdef __cplusplus
extern "C" {
#endif

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
 * Atomic replacement of a file.  atomic_open() creates a temporary file
 * beside path (same directory, so rename is atomic) with the mode open(2)
 * would give; atomic_commit() syncs, closes and renames it over path.
 * Until then path is untouched, and on any failure the temporary file is
 * removed: a failed or interrupted write never leaves a truncated output.
 * Open temporary files are listed so that a dying program can remove them
 * (atomic_remove_all(), async-signal-safe; cli's die() and signal
 * handlers call it).  The struct owns fd, path and tmp.
 */
struct atomic_file {
	int fd;		/* -1 once closed by the caller (e.g. through fclose) */
	char *path;
	char *tmp;
};
int atomic_open(struct atomic_file *af, const char *path);
/* Write all of buf; -1 with "path: strerror" on failure. */
int atomic_write(struct atomic_file *af, const void *buf, size_t n);
/* fsync (if fd is open), close, rename.  On failure the temporary file is
 * removed and -1 returned; in both cases af is released. */
int atomic_commit(struct atomic_file *af);
/* Close and remove the temporary file; path stays as it was. */
void atomic_abort(struct atomic_file *af);
void atomic_remove_all(void);

#ifdef __cplusplus
}
#endif

#endif
