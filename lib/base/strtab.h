/*
 * strtab.h - interned strings: each distinct byte string gets a small
 * integer id (0, 1, 2, ... in order of first sight), so that text can be
 * compared, hashed and cached by id.
 *
 * Strings live in one growing arena and the table is open addressing on
 * xxHash, compared byte for byte: ids never collide.
 */
#ifndef LOAM_STRTAB_H
#define LOAM_STRTAB_H

#include <stddef.h>
#include <stdint.h>

#define STRTAB_NONE UINT32_MAX

struct strtab;

struct strtab *strtab_new(void);
void strtab_free(struct strtab *t);

/* The id of s[0, len), added if new. */
uint32_t strtab_intern(struct strtab *t, const char *s, size_t len);

/* The id of s[0, len), or STRTAB_NONE. */
uint32_t strtab_find(const struct strtab *t, const char *s, size_t len);

/* The string of an id (NUL-terminated) and its length. */
const char *strtab_str(const struct strtab *t, uint32_t id, size_t *len);

size_t strtab_count(const struct strtab *t);

#endif
