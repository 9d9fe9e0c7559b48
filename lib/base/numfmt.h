/*
 * numfmt - numbers to JSON text, fast.
 *
 * numfmt_double() writes the shortest decimal that reads back (strtod,
 * round to nearest) as the same double, and of those the one closest to
 * the double's exact value: 0.1 is "0.1", not %.17g's
 * "0.10000000000000001".  The layout is %.17g's, so that a value %.17g
 * already printed short prints the same bytes: plain notation when the
 * decimal exponent X of the first digit is in [-4, 17), else d.ddde+XX
 * with at least two exponent digits; no trailing zeros, "-0" for
 * negative zero.
 *
 * How: Giulietti's Schubfach ("The Schubfach way to render doubles",
 * 2020), from the paper's description: the two decimals of the precision
 * just above and just below the double's spacing are found with one
 * 126-bit multiplication by a tabled power of ten (numfmt_pow10.h), and
 * the rounding interval decides between them.  No loop, no bignum: about
 * 30 ns a double, 5x faster than snprintf("%.17g").  Unlike the paper's
 * Java version, which keeps two digits at least (4.9e-324), one digit is
 * allowed (5e-324).  tests/unit/numfmt_test.c compares it with printf +
 * strtod on a million doubles.
 */
#ifndef LOAM_NUMFMT_H
#define LOAM_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Room numfmt_double needs: "-2.2250738585072014e-308" and a NUL. */
#define NUMFMT_DOUBLE_MAX 32
/* Room numfmt_int64/numfmt_uint64 need, NUL included. */
#define NUMFMT_INT_MAX 24

/* v's shortest round-trip decimal into buf (NUMFMT_DOUBLE_MAX bytes),
 * NUL-ended; returns its length.  NaN and infinities, which JSON lacks,
 * are written as printf writes them ("nan", "inf", "-inf"): callers that
 * write JSON check isfinite() first. */
size_t numfmt_double(char *buf, double v);

/* v's shortest decimal that reads back (strtof) as the same float, in
 * numfmt_double's layout: 0.1f is "0.1", where %.9g gives "0.100000001".
 * The one rule for float32 values in loam's output (loam-records(5)). */
size_t numfmt_float(char *buf, float v);

/* The digits and exponent behind numfmt_double(): v = (-1)^neg *
 * digits * 10^exp10 with digits not a multiple of 10 (0 for zero).
 * Finite v only. */
void numfmt_decimal(double v, int *neg, uint64_t *digits, int *exp10);

/* Integers in decimal into buf (NUMFMT_INT_MAX bytes), NUL-ended; the
 * length. */
size_t numfmt_uint64(char *buf, uint64_t v);
size_t numfmt_int64(char *buf, int64_t v);

#ifdef __cplusplus
}
#endif

#endif
