/*
 * utf8.c - UTF-8 code points and Python's str rules (see utf8.h).
 */
#include <locale.h>
#include <pthread.h>
#include <wctype.h>

#include "utf8.h"

uint32_t
utf8_decode(const unsigned char *s, size_t len, size_t *n)
{
	if (s[0] < 0x80 || len < 2) {
		*n = 1;
		return s[0];
	}
	if (s[0] < 0xe0) {
		*n = 2;
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	}
	if (s[0] < 0xf0 || len < 4) {
		*n = len < 3 ? len : 3;
		return *n < 3 ? 0xfffd :
		    (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	}
	*n = 4;
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	    (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

size_t
utf8_encode(uint32_t c, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (c < 0x80) {
		o[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (unsigned char)(0xc0 | c >> 6);
		o[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (unsigned char)(0xe0 | c >> 12);
		o[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | c >> 18);
	o[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
	o[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
	o[3] = (unsigned char)(0x80 | (c & 0x3f));
	return 4;
}

long
utf8_check(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = u[i];
		size_t n;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 2, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4, cp = c & 0x07, min = 0x10000;
		else
			return (long)i;
		if (len - i < n)
			return (long)i;
		for (size_t k = 1; k < n; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return (long)i;
			cp = cp << 6 | (u[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (long)i;
		i += n;
	}
	return -1;
}

size_t
utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

int
py_isspace(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 ||
	    c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
	    c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

static locale_t utf8_locale;
static pthread_once_t utf8_locale_once = PTHREAD_ONCE_INIT;

/* C.UTF-8 is built into glibc (2.35 on): no locale files needed. */
static void
utf8_locale_open(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Cased and case-ignorable, roughly as Unicode's Final_Sigma rule needs
 * them: a letter with a case (towlower or towupper changes it), and the
 * apostrophes, combining marks and modifiers a word may carry. */
static int
is_cased(uint32_t c)
{
	return c < 0x80 ? ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') :
	    (towlower_l((wint_t)c, utf8_locale) != (wint_t)c ||
	     towupper_l((wint_t)c, utf8_locale) != (wint_t)c);
}

static int
is_case_ignorable(uint32_t c)
{
	return c == '\'' || c == '.' || c == ':' || c == 0xad || c == 0x2019 ||
	    (c >= 0x300 && c <= 0x36f) || (c >= 0x2b0 && c <= 0x2ff);
}

/* Whether the capital sigma at s[i] ends a word: a cased letter before it
 * (past case-ignorables) and none after. */
static int
final_sigma(const unsigned char *s, size_t len, size_t i, size_t n)
{
	size_t j = i, k = i + n, w;
	int before = 0;

	while (j > 0) {
		size_t b = j - 1;
		uint32_t c;

		while (b > 0 && (s[b] & 0xc0) == 0x80)
			b--;
		c = utf8_decode(s + b, j - b, &w);
		j = b;
		if (is_case_ignorable(c))
			continue;
		before = is_cased(c);
		break;
	}
	if (!before)
		return 0;
	while (k < len) {
		uint32_t c = utf8_decode(s + k, len - k, &w);

		k += w;
		if (is_case_ignorable(c))
			continue;
		return !is_cased(c);
	}
	return 1;
}

size_t
py_lower(const char *s, size_t len, char *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, n;

	pthread_once(&utf8_locale_once, utf8_locale_open);
	while (i < len) {
		uint32_t c = u[i];

		if (c < 0x80) {
			out[o++] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
			i++;
			continue;
		}
		c = utf8_decode(u + i, len - i, &n);
		if (c == 0x130) {		/* I with dot above */
			out[o++] = 'i';
			o += utf8_encode(0x307, out + o);
		} else if (c == 0x3a3) {
			o += utf8_encode(final_sigma(u, len, i, n) ? 0x3c2 : 0x3c3, out + o);
		} else {
			uint32_t l = utf8_locale ? (uint32_t)towlower_l((wint_t)c, utf8_locale) : c;

			o += utf8_encode(l, out + o);
		}
		i += n;
	}
	return o;
}
