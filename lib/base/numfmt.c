/* numfmt - see numfmt.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "numfmt_pow10.h"

__extension__ typedef unsigned __int128 u128;

/* IEEE 754 binary64: v = c 2^q with c < 2^53. */
#define C_MIN	(UINT64_C(1) << 52)	/* the hidden bit */
#define Q_MIN	(-1074)
#define MASK63	((UINT64_C(1) << 63) - 1)

/* floor(log10(2^q)), floor(log10(3/4 2^q)), floor(log2(10^e)) for the
 * exponents doubles have (checked against exact arithmetic for |q| and
 * |e| up to 1100). */
static int
flog10pow2(int q)
{
	return (int)((int64_t)q * 661971961083 >> 41);
}

static int
flog10threequarterspow2(int q)
{
	return (int)(((int64_t)q * 661971961083 - 274743187321) >> 41);
}

static int
flog2pow10(int e)
{
	return (int)((int64_t)e * 913124641741 >> 38);
}

/* floor(g cp / 2^127) with g = g1 2^63 + g0, its lowest bit set when the
 * product had bits below (the paper's r_o': rounding to odd keeps the
 * comparisons that follow exact). */
static uint64_t
round_to_odd(uint64_t g1, uint64_t g0, uint64_t cp)
{
	uint64_t x1 = (uint64_t)(((u128)g0 * cp) >> 64);
	u128 y = (u128)g1 * cp;
	uint64_t y0 = (uint64_t)y, y1 = (uint64_t)(y >> 64);
	uint64_t z = (y0 >> 1) + x1;
	uint64_t vbp = y1 + (z >> 63);

	return vbp | (((z & MASK63) + MASK63) >> 63);
}

/* The shortest decimal in v = c 2^q's rounding interval, closest to v;
 * the result is digits 10^(exp10 + dk) (dk: -1 when c came in times 10). */
static void
schubfach(int q, uint64_t c, int dk, uint64_t *digits, int *exp10)
{
	/* Interval bounds times 4, so that halves are integers; an even c
	 * rounds to itself at the bounds (ties to even), so they belong to
	 * the interval: out says whether they are left out. */
	uint64_t out = c & 1, cb = c << 2, cbr = cb + 2, cbl;
	uint64_t vb, vbl, vbr, s, t;
	const uint64_t *g;
	int k, h, uin, win;

	if (c != C_MIN || q == Q_MIN) {
		cbl = cb - 2;
		k = flog10pow2(q);
	} else {
		/* At a power of two the spacing below is half the spacing
		 * above. */
		cbl = cb - 1;
		k = flog10threequarterspow2(q);
	}
	h = q + flog2pow10(-k) + 2;
	g = numfmt_g[-k - NUMFMT_G_EMIN];
	vb = round_to_odd(g[0], g[1], cb << h);
	vbl = round_to_odd(g[0], g[1], cbl << h);
	vbr = round_to_odd(g[0], g[1], cbr << h);
	s = vb >> 2;
	if (s >= 10) {
		/* One digit fewer: 10^(k+1) is wider than the interval, so at
		 * most one multiple of it lies in the interval; if one of the
		 * two around v does, it is the answer.  (Java's version of
		 * the algorithm asks s >= 100, for its rule of two digits at
		 * least: 4.9e-324 where we want 5e-324.) */
		uint64_t sp10 = s / 10 * 10, tp10 = sp10 + 10;
		int upin = vbl + out <= sp10 << 2;
		int wpin = (tp10 << 2) + out <= vbr;

		if (upin != wpin) {
			*digits = upin ? sp10 : tp10;
			*exp10 = k + dk;
			return;
		}
	}
	t = s + 1;
	uin = vbl + out <= s << 2;
	win = (t << 2) + out <= vbr;
	if (uin != win) {
		*digits = uin ? s : t;
		*exp10 = k + dk;
		return;
	}
	/* Both s and t are in: the closer one, ties to even. */
	{
		int64_t cmp = (int64_t)(vb - ((s + t) << 1));

		*digits = cmp < 0 || (cmp == 0 && (s & 1) == 0) ? s : t;
		*exp10 = k + dk;
	}
}

void
numfmt_decimal(double v, int *neg, uint64_t *digits, int *exp10)
{
	uint64_t bits, frac, f;
	int bexp, e;

	memcpy(&bits, &v, sizeof bits);
	*neg = (int)(bits >> 63);
	frac = bits & (C_MIN - 1);
	bexp = (int)(bits >> 52 & 0x7ff);
	if (bexp == 0 && frac == 0) {
		*digits = 0;
		*exp10 = 0;
		return;
	}
	if (bexp != 0) {
		int mq = 1075 - bexp;	/* -q */
		uint64_t c = C_MIN | frac;

		/* An integer below 2^53 is its own shortest decimal. */
		if (mq > 0 && mq < 53 && (c >> mq) << mq == c) {
			f = c >> mq;
			e = 0;
		} else
			schubfach(-mq, c, 0, &f, &e);
	} else if (frac < 3) {
		/* The two smallest subnormals: too few bits for the
		 * interval; scaled by ten they have enough. */
		schubfach(Q_MIN, 10 * frac, -1, &f, &e);
	} else
		schubfach(Q_MIN, frac, 0, &f, &e);
	while (f % 10 == 0) {
		f /= 10;
		e++;
	}
	*digits = f;
	*exp10 = e;
}

static const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* v's digits ending just before end; returns where they start. */
static char *
digits_before(char *end, uint64_t v)
{
	while (v >= 100) {
		end -= 2;
		memcpy(end, digit_pairs + v % 100 * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		end -= 2;
		memcpy(end, digit_pairs + v * 2, 2);
	} else
		*--end = (char)('0' + v);
	return end;
}

size_t
numfmt_uint64(char *buf, uint64_t v)
{
	char tmp[NUMFMT_INT_MAX], *p = digits_before(tmp + sizeof tmp, v);
	size_t n = (size_t)(tmp + sizeof tmp - p);

	memcpy(buf, p, n);
	buf[n] = '\0';
	return n;
}

size_t
numfmt_int64(char *buf, int64_t v)
{
	if (v < 0) {
		buf[0] = '-';
		return 1 + numfmt_uint64(buf + 1, 0 - (uint64_t)v);
	}
	return numfmt_uint64(buf, (uint64_t)v);
}

static size_t layout(char *buf, int neg, uint64_t f, int e);

size_t
numfmt_double(char *buf, double v)
{
	uint64_t f;
	int neg, e;

	if (!isfinite(v)) {
		const char *s = isnan(v) ? "nan" : v < 0 ? "-inf" : "inf";

		strcpy(buf, s);
		return strlen(s);
	}
	numfmt_decimal(v, &neg, &f, &e);
	return layout(buf, neg, f, e);
}

/* (-1)^neg * f * 10^e in %.17g's layout (see numfmt.h). */
static size_t
layout(char *buf, int neg, uint64_t f, int e)
{
	char tmp[24], *d, *o = buf;
	int n, x;

	if (neg)
		*o++ = '-';
	d = digits_before(tmp + sizeof tmp, f);
	n = (int)(tmp + sizeof tmp - d);
	x = e + n - 1;		/* the first digit's exponent */
	if (x >= -4 && x < 17) {
		if (e >= 0) {
			memcpy(o, d, (size_t)n);
			o += n;
			memset(o, '0', (size_t)e);
			o += e;
		} else if (x >= 0) {
			memcpy(o, d, (size_t)x + 1);
			o += x + 1;
			*o++ = '.';
			memcpy(o, d + x + 1, (size_t)(n - x - 1));
			o += n - x - 1;
		} else {
			*o++ = '0';
			*o++ = '.';
			memset(o, '0', (size_t)(-x - 1));
			o += -x - 1;
			memcpy(o, d, (size_t)n);
			o += n;
		}
	} else {
		*o++ = d[0];
		if (n > 1) {
			*o++ = '.';
			memcpy(o, d + 1, (size_t)n - 1);
			o += n - 1;
		}
		*o++ = 'e';
		*o++ = x < 0 ? '-' : '+';
		if (x < 0)
			x = -x;
		if (x < 10)
			*o++ = '0';
		o += numfmt_uint64(o, (uint64_t)x);
	}
	*o = '\0';
	return (size_t)(o - buf);
}

size_t
numfmt_float(char *buf, float v)
{
	char tmp[32], *p;
	uint64_t f = 0;
	int neg, e, ndig = 0, p10;

	if (!isfinite(v))
		return numfmt_double(buf, (double)v);
	neg = signbit(v) != 0;
	if (v == 0)
		return layout(buf, neg, 0, 0);
	/* The fewest significant digits that read back as v: %.*e rounds
	 * correctly, strtof reads correctly, and 9 digits always suffice. */
	for (int prec = 0; prec < 9; prec++) {
		snprintf(tmp, sizeof tmp, "%.*e", prec, (double)v);
		if (strtof(tmp, NULL) == v)
			break;
	}
	/* tmp is [-]d[.ddd]e[+-]XX: the digits as an integer, then the
	 * exponent of the last one. */
	for (p = tmp + neg; *p != 'e'; p++)
		if (*p != '.') {
			f = f * 10 + (uint64_t)(*p - '0');
			ndig++;
		}
	p10 = atoi(p + 1);
	e = p10 - (ndig - 1);
	while (f % 10 == 0) {
		f /= 10;
		e++;
	}
	return layout(buf, neg, f, e);
}
