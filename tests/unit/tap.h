/*
 * tap.h - a tiny TAP producer for the C unit tests (header only).
 *
 *	ok(cond, "name %d", i);		one test point
 *	is_int(got, want, "name");	prints both values on failure
 *	is_dbl(got, want, tol, "name");
 *	is_str(got, want, "name");
 *	diag("free text %s", s);	a "# " comment line
 *	return tap_done();		prints "1..N" and returns 0 iff all passed
 *
 * The plan is printed at the end (TAP allows a trailing plan), so a test
 * program that crashes half-way is seen by the runner as a short plan.
 */
#ifndef LOAM_TAP_H
#define LOAM_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

static void
tap_vpoint(int pass, const char *fmt, va_list ap)
{
	tap_count++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

__attribute__((format(printf, 2, 3), unused)) static int
ok(int pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vpoint(pass, fmt, ap);
	va_end(ap);
	return pass;
}

__attribute__((format(printf, 1, 2), unused)) static void
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

__attribute__((format(printf, 3, 4), unused)) static int
is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vpoint(got == want, fmt, ap);
	va_end(ap);
	if (got != want)
		printf("#   got %lld, want %lld\n", got, want);
	return got == want;
}

__attribute__((format(printf, 4, 5), unused)) static int
is_dbl(double got, double want, double tol, const char *fmt, ...)
{
	va_list ap;
	int pass = fabs(got - want) <= tol;

	va_start(ap, fmt);
	tap_vpoint(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#   got %.17g, want %.17g (tol %g)\n", got, want, tol);
	return pass;
}

__attribute__((format(printf, 3, 4), unused)) static int
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int pass = got && want && strcmp(got, want) == 0;

	va_start(ap, fmt);
	tap_vpoint(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#   got '%s', want '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
	return pass;
}

__attribute__((unused)) static int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed != 0;
}

#endif
