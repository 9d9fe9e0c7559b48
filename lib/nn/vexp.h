/*
 * vexp - exp(x) for float in plain arithmetic, so that a loop calling it
 * vectorises (glibc's expf is a call, which stops gcc's vectoriser unless
 * -ffast-math, and loam builds without it).
 *
 * x = n ln2 + r with |r| <= ln2/2 (Cody and Waite's two-part ln2), then
 * exp(r) by its degree-6 Taylor polynomial (truncation error r^7/7! <
 * 1.3e-7 relative) and 2^n put straight into the exponent bits.  Within
 * 2.5e-7 relative of exp on [-87.3, 88] (tests/unit/hedgehog_test.c checks);
 * below that it returns 2^-126 * exp(r) rather than a subnormal, which
 * callers that normalise (softmax) do not see, and above it +inf is not
 * produced: callers pass x <= 0 or clamp first.  NaN gives NaN: the clamp
 * is written so that NaN lands inside the range (the integer conversion
 * and the shift would be undefined on it), and the NaN is put back last.
 */
#ifndef LOAM_VEXP_H
#define LOAM_VEXP_H

#include <stdint.h>

static inline float
vexpf(float x)
{
	const float log2e = 1.44269504088896341f;
	const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
	float n, r, p, xc;
	union { int32_t i; float f; } scale;	/* C11 reads the other member */

	/* Both comparisons are false for NaN, which so becomes -87.3. */
	xc = x > -87.3f ? x : -87.3f;
	xc = xc < 88.0f ? xc : 88.0f;
	/* Round to nearest by adding and removing 1.5 * 2^23: no branch, no
	 * call, so the loop around it vectorises. */
	n = (xc * log2e + 12582912.0f) - 12582912.0f;
	r = xc - n * ln2_hi - n * ln2_lo;
	p = 1.0f / 720;
	p = p * r + 1.0f / 120;
	p = p * r + 1.0f / 24;
	p = p * r + 1.0f / 6;
	p = p * r + 0.5f;
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	/* n is in [-126, 127]: the exponent field is 1..254, no overflow. */
	scale.i = ((int32_t)n + 127) << 23;
	return x == x ? p * scale.f : x;
}

#endif
