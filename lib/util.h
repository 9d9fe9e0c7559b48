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

#ifdef __cplusplus
}
#endif

#endif
