/*
 * utf8.h - code points of UTF-8 text, and the few Unicode rules of Python's
 * str that our methods must reproduce (str.isspace, str.split, str.lower).
 *
 * The record reader has validated every string already, so the decoder
 * trusts its input; utf8_check is for text that came another way.
 */
#ifndef LOAM_UTF8_H
#define LOAM_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The code point at s[0, len) (len > 0) and its length in bytes in *n;
 * a truncated sequence gives U+FFFD. */
uint32_t utf8_decode(const unsigned char *s, size_t len, size_t *n);

/* Write c as UTF-8 to out (room for 4) and return the bytes written. */
size_t utf8_encode(uint32_t c, char *out);

/* The byte offset of the first invalid sequence in s[0, len), or -1. */
long utf8_check(const char *s, size_t len);

/* Code points in valid UTF-8 text (Python's len()). */
size_t utf8_chars(const char *s, size_t len);

/* Python's str.isspace() for one code point: bidirectional class WS, B or
 * S, or category Zs (what str.split() and str.strip() split on). */
int py_isspace(uint32_t c);

/* Python's str.lower() of valid UTF-8 s[0, len) into out (room for
 * 3 * len / 2 + 4 bytes: a lowercase form is never more than that) and its
 * length.  Simple case mapping from the C library's C.UTF-8 tables, plus
 * Unicode's one unconditional multi-character lowercase (U+0130 -> i + U+0307)
 * and Greek final sigma, as CPython applies them. */
size_t py_lower(const char *s, size_t len, char *out);

#endif
