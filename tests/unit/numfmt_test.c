/*
 * numfmt_test - lib/numfmt against libc: every double it prints must read
 * back (strtod) as itself, with the fewest digits that can, those digits
 * being printf's correctly rounded ones, laid out as %.17g lays them out.
 *
 * The reference is deliberately slow and plain: printf("%.*e") for the
 * digits, strtod to test a candidate, and string surgery for the layout.
 * It runs on a million random doubles of several kinds (all bit patterns,
 * [0,1), short decimals such as progress values, bonuses lambda/sqrt(N)),
 * every power of two (where the rounding interval is lopsided), and the
 * subnormal and overflow edges.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "rng.h"
#include "tap.h"

#include "numfmt_pow10.h"

static int
same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

static double
from_bits(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof d);
	return d;
}

/* printf's correctly rounded p significant digits of v: the digits (no
 * sign, no point) into dig, the first digit's exponent as the result. */
static int
ref_digits(double v, int p, char *dig)
{
	char buf[64], *e;
	int n = 0;

	snprintf(buf, sizeof buf, "%.*e", p - 1, fabs(v));
	for (char *s = buf; *s && *s != 'e'; s++)
		if (*s != '.')
			dig[n++] = *s;
	dig[n] = '\0';
	e = strchr(buf, 'e');
	return atoi(e + 1);
}

/* Whether the p-digit decimal dig 10^(x - p + 1) reads back as v. */
static int
ref_reads_back(double v, const char *dig, int x)
{
	char buf[64];

	snprintf(buf, sizeof buf, "%s%c.%se%d", v < 0 ? "-" : "", dig[0], dig + 1, x);
	return same_double(strtod(buf, NULL), v);
}

/* %.17g's layout of the decimal dig (trailing zeros removed) with first
 * digit exponent x. */
static void
ref_layout(double v, char *dig, int x, char *out)
{
	size_t n = strlen(dig);

	while (n > 1 && dig[n - 1] == '0')
		dig[--n] = '\0';
	if (signbit(v))
		*out++ = '-';
	if (x >= -4 && x < 17) {
		if (x < 0) {
			out += sprintf(out, "0.");
			for (int i = 0; i < -x - 1; i++)
				*out++ = '0';
			out += sprintf(out, "%s", dig);
		} else if ((size_t)x + 1 >= n) {
			out += sprintf(out, "%s", dig);
			for (size_t i = n; i < (size_t)x + 1; i++)
				*out++ = '0';
		} else
			out += sprintf(out, "%.*s.%s", x + 1, dig, dig + x + 1);
	} else {
		if (n > 1)
			out += sprintf(out, "%c.%se%c%02d", dig[0], dig + 1, x < 0 ? '-' : '+', abs(x));
		else
			out += sprintf(out, "%ce%c%02d", dig[0], x < 0 ? '-' : '+', abs(x));
	}
	*out = '\0';
}

/* dig (p digits, first digit's exponent *x) plus delta (+1 or -1) in its
 * last place, kept at p digits; 0 when it leaves the p-digit decimals. */
static int
ref_step(char *dig, int *x, int delta)
{
	int p = (int)strlen(dig), i;

	if (delta > 0) {
		for (i = p - 1; i >= 0 && dig[i] == '9'; i--)
			dig[i] = '0';
		if (i < 0) {
			/* 99..9 + 1 = 100..0: one more in the exponent */
			dig[0] = '1';
			++*x;
			return 1;
		}
		dig[i]++;
		return 1;
	}
	for (i = p - 1; i >= 0 && dig[i] == '0'; i--)
		dig[i] = '9';
	if (i < 0)
		return 0;
	dig[i]--;
	if (dig[0] == '0') {
		/* 10..0 - 1 = 9..9 with one exponent less */
		if (p == 1)
			return 0;
		memset(dig, '9', (size_t)p);
		--*x;
	}
	return 1;
}

/* The whole reference: for p = 1, 2, ... the correctly rounded p digits
 * and their two neighbours (next to a power of two the interval is
 * lopsided, and the neighbour on the wide side may read back when the
 * rounded one does not); the first p with any that reads back, and of
 * those the closest to v, laid out. */
static void
ref_string(double v, char *out)
{
	char best[40];
	int x = 0;

	if (v == 0) {
		strcpy(out, signbit(v) ? "-0" : "0");
		return;
	}
	for (int p = 1; p <= 17; p++) {
		char c[3][40], buf[64];
		int cx[3], found = -1;
		long double bestd = 0;

		cx[0] = ref_digits(v, p, c[0]);
		strcpy(c[1], c[0]);
		strcpy(c[2], c[0]);
		cx[1] = cx[2] = cx[0];
		for (int j = 0; j < 3; j++) {
			long double d;

			if (j && !ref_step(c[j], &cx[j], j == 1 ? 1 : -1))
				continue;
			if (!ref_reads_back(v, c[j], cx[j]))
				continue;
			snprintf(buf, sizeof buf, "%c.%se%d", c[j][0], c[j] + 1, cx[j]);
			d = fabsl(strtold(buf, NULL) - fabsl((long double)v));
			if (found < 0 || d < bestd)
				found = j, bestd = d;
		}
		if (found >= 0) {
			strcpy(best, c[found]);
			x = cx[found];
			break;
		}
	}
	ref_layout(v, best, x, out);
}

static int failures_shown;

/* One value: ours against the full reference (p from 1 up). */
static int
check_full(double v)
{
	char got[NUMFMT_DOUBLE_MAX], want[64];

	numfmt_double(got, v);
	ref_string(v, want);
	if (strcmp(got, want) != 0 || !same_double(strtod(got, NULL), v)) {
		if (failures_shown++ < 10)
			diag("%.17g: got '%s', want '%s'", v, got, want);
		return 0;
	}
	return 1;
}

/* One value, quickly: ours has n digits; printf's n digits must equal
 * them and read back, and printf's n-1 digits must not read back (the
 * interval is symmetric away from powers of two, so the correctly
 * rounded shorter decimal is the only candidate).  The layout is checked
 * against %.17g when n is 17. */
static int
check_fast(double v)
{
	char got[NUMFMT_DOUBLE_MAX], dig[40], want[64], ours[24];
	uint64_t f;
	int neg, e, n, x;

	numfmt_double(got, v);
	if (!same_double(strtod(got, NULL), v))
		goto fail;
	numfmt_decimal(v, &neg, &f, &e);
	if (f == 0)
		return strcmp(got, signbit(v) ? "-0" : "0") == 0;
	n = snprintf(ours, sizeof ours, "%llu", (unsigned long long)f);
	x = ref_digits(v, n, dig);
	if (strcmp(dig, ours) != 0 || x != e + n - 1)
		goto fail;
	if (n > 1) {
		x = ref_digits(v, n - 1, dig);
		if (ref_reads_back(v, dig, x))
			goto fail;
	}
	x = ref_digits(v, n, dig);
	ref_layout(v, dig, x, want);
	if (strcmp(got, want) != 0)
		goto fail;
	if (n == 17) {
		snprintf(want, sizeof want, "%.17g", v);
		if (strcmp(got, want) != 0)
			goto fail;
	}
	return 1;
fail:
	if (failures_shown++ < 10)
		diag("%.17g: got '%s'", v, got);
	return 0;
}

static void
known_answers(void)
{
	static const struct { double v; const char *s; } t[] = {
		{ 0.0, "0" }, { -0.0, "-0" }, { 1.0, "1" }, { -1.0, "-1" },
		{ 0.1, "0.1" }, { 0.5, "0.5" }, { 1.5, "1.5" }, { 0.001, "0.001" },
		{ 1.0 / 3, "0.3333333333333333" }, { 2.0 / 3, "0.6666666666666666" },
		{ 0.41421356237309509, "0.4142135623730951" },
		{ 0.70710678118654746, "0.7071067811865475" },
		{ 123456.789, "123456.789" }, { 1e15, "1000000000000000" },
		{ 1e16, "10000000000000000" }, { 1e17, "1e+17" }, { 1.5e17, "1.5e+17" },
		{ 1e-4, "0.0001" }, { 1.25e-4, "0.000125" }, { 1e-5, "1e-05" },
		{ 1.5e-5, "1.5e-05" }, { 1e100, "1e+100" }, { 1e-100, "1e-100" },
		{ 9007199254740992.0, "9007199254740992" },
		{ 9007199254740993.0, "9007199254740992" },
		{ 72057594037927936.0, "72057594037927940" },
		{ DBL_MAX, "1.7976931348623157e+308" }, { -DBL_MAX, "-1.7976931348623157e+308" },
		{ DBL_MIN, "2.2250738585072014e-308" }, { 5e-324, "5e-324" },
		{ 1e-323, "1e-323" }, { 1.5e-323, "1.5e-323" }, { 2e-323, "2e-323" },
		{ 0.3, "0.3" }, { 5e-7, "5e-07" }, { 1e21, "1e+21" }, { 1e23, "1e+23" },
		{ 123e300, "1.23e+302" }, { 2.9802322387695312e-08, "2.9802322387695312e-08" },
	};
	char buf[NUMFMT_DOUBLE_MAX];

	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		size_t n = numfmt_double(buf, t[i].v);

		is_str(buf, t[i].s, "known answer %s", t[i].s);
		is_int((long long)n, (long long)strlen(t[i].s), "length of %s", t[i].s);
	}
	numfmt_double(buf, NAN);
	is_str(buf, "nan", "NaN as printf");
	numfmt_double(buf, -INFINITY);
	is_str(buf, "-inf", "-infinity as printf");
}

static void
integers(void)
{
	static const int64_t v[] = { 0, 1, 9, 10, 99, 100, 12345, -1, -10, -987654321,
	    INT64_MAX, INT64_MIN };
	char buf[NUMFMT_INT_MAX], want[32];
	int bad = 0;
	struct rng r;

	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		numfmt_int64(buf, v[i]);
		snprintf(want, sizeof want, "%lld", (long long)v[i]);
		is_str(buf, want, "int64 %s", want);
	}
	numfmt_uint64(buf, UINT64_MAX);
	is_str(buf, "18446744073709551615", "uint64 max");
	rng_init(&r, 7, 0, 0);
	for (int i = 0; i < 100000; i++) {
		uint64_t u = rng_next(&r) >> (rng_next(&r) % 64);

		numfmt_uint64(buf, u);
		snprintf(want, sizeof want, "%llu", (unsigned long long)u);
		bad += strcmp(buf, want) != 0;
	}
	is_int(bad, 0, "100000 random uint64 as printf");
}

/* The table: g(e) in [2^125, 2^126) and g 2^r within 2^-60 of 10^e. */
static void
table(void)
{
	int bad = 0;

	for (int e = NUMFMT_G_EMIN; e <= NUMFMT_G_EMAX; e++) {
		const uint64_t *g = numfmt_g[e - NUMFMT_G_EMIN];
		int r = 125 - (int)((int64_t)e * 913124641741 >> 38);
		long double gv = ldexpl((long double)g[0], 63) + (long double)g[1];
		long double want = powl(10.0L, (long double)e);
		long double got = ldexpl(gv, -r);

		if (g[0] >> 62 != 1 || g[1] >> 63 != 0 || fabsl(got / want - 1) > 0x1p-58L)
			bad++;
	}
	is_int(bad, 0, "every power-of-ten row agrees with powl");
}

/* numfmt_float: reads back as v, and one significant digit fewer, rounded
 * correctly, would not. */
static int
check_float(float v)
{
	char buf[NUMFMT_DOUBLE_MAX], tmp[40];
	int sig = 0, started = 0;

	numfmt_float(buf, v);
	if (strtof(buf, NULL) != v || signbit(strtof(buf, NULL)) != signbit(v))
		return 0;
	for (const char *p = buf; *p && *p != 'e'; p++)
		if (*p >= '1' && *p <= '9')
			started = 1, sig++;
		else if (*p == '0' && started)
			sig++;
	/* trailing zeros of an integer (16777216 has none; 1e+10 prints as
	 * 10000000000) do not count as digits of the decimal */
	if (!strchr(buf, '.') && !strchr(buf, 'e'))
		for (const char *p = buf + strlen(buf) - 1; p > buf && *p == '0' && sig > 1; p--)
			sig--;
	if (sig <= 1)
		return 1;
	snprintf(tmp, sizeof tmp, "%.*e", sig - 2, (double)v);
	return strtof(tmp, NULL) != v;
}

static void
floats(struct rng *r)
{
	static const struct { float v; const char *want; } known[] = {
		{ 0.1f, "0.1" }, { 0.3f, "0.3" }, { -0.0f, "-0" }, { 0.0f, "0" },
		{ 1e10f, "10000000000" }, { 16777216.0f, "16777216" },
		{ 3.4028235e38f, "3.4028235e+38" }, { 1e-45f, "1e-45" },
		{ 1.17549435e-38f, "1.1754944e-38" }, { 0.5f, "0.5" },
		{ 1.0f / 3, "0.33333334" }, { 65504.0f, "65504" },
	};
	char buf[NUMFMT_DOUBLE_MAX];
	long bad = 0;

	for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
		numfmt_float(buf, known[i].v);
		is_str(buf, known[i].want, "float %.9g", (double)known[i].v);
	}
	for (int i = 0; i < 200000; i++) {
		uint32_t u = (uint32_t)rng_next(r);
		float v;

		memcpy(&v, &u, sizeof v);
		if (isfinite(v))
			bad += !check_float(v);
	}
	for (int i = 0; i < 100000; i++)
		bad += !check_float(rng_uniform_float(r)) + !check_float((float)rng_normal(r));
	is_int(bad, 0, "400000 floats: shortest, and read back exactly");
}

int
main(void)
{
	struct rng r;
	long bad;

	known_answers();
	integers();
	table();

	/* Every power of two, and its neighbours: the lopsided intervals. */
	bad = 0;
	for (int q = -1074; q <= 1023; q++) {
		double v = ldexp(1.0, q);

		bad += !check_full(v) + !check_full(nextafter(v, 0)) +
		    !check_full(nextafter(v, INFINITY)) + !check_full(-v);
	}
	is_int(bad, 0, "powers of two and their neighbours (%d values)", 4 * 2098);

	/* Subnormal and top edges. */
	bad = 0;
	for (uint64_t u = 1; u < 2000; u++)
		bad += !check_full(from_bits(u)) + !check_full(from_bits(0x7fefffffffffffffu - u));
	is_int(bad, 0, "smallest subnormals and largest finite values");

	rng_init(&r, 2026, 0, 0);
	bad = 0;
	for (int i = 0; i < 400000; i++) {
		double v;

		do
			v = from_bits(rng_next(&r));
		while (!isfinite(v));
		bad += !check_fast(v);
	}
	is_int(bad, 0, "400000 doubles with random bits");
	bad = 0;
	for (int i = 0; i < 300000; i++)
		bad += !check_fast(rng_uniform(&r));
	is_int(bad, 0, "300000 uniform doubles in [0,1)");
	bad = 0;
	for (int i = 0; i < 200000; i++) {
		/* Short decimals, as progress functions write them, and sums
		 * of them as r + r_int makes. */
		double v = (double)(rng_next(&r) % 100000) / 1000.0;

		bad += !check_fast(v) + !check_fast(v + 1e-3 / sqrt((double)(i + 1)));
	}
	is_int(bad, 0, "200000 short decimals and decimal + bonus");
	bad = 0;
	for (int i = 1; i <= 100000; i++) {
		bad += !check_fast(1e-3 / sqrt((double)i)) + !check_fast(1.0 / (sqrt((double)i) + 1));
	}
	is_int(bad, 0, "bonuses lambda/sqrt(N) and 1/(sqrt(N)+1), N up to 100000");
	bad = 0;
	for (int i = 0; i < 2000; i++) {
		double v;

		do
			v = from_bits(rng_next(&r) >> 1);
		while (!isfinite(v));
		bad += !check_full(v);
	}
	is_int(bad, 0, "2000 random doubles against the full reference");
	floats(&r);
	return tap_done();
}
