/* rec - see rec.h. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/printbuf.h>

#include "numfmt.h"
#include "rec.h"
#include "zio.h"

#define JSON_OUT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Values of the first member of a serialiser's userdata. */
enum { KIND_LAZY = 0x4c415a59, KIND_NUMBUF = 0x4e554d42, KIND_RAWTEXT = 0x52415754 };

/* A value kept as JSON text the caller rendered (rec_set_raw). */
struct rawtext {
	int kind;
	size_t len;
	char text[];
};

/* Numbers set with rec_set_floats/doubles: kept as binary until printed. */
struct numbuf {
	int kind;
	int is_double;
	size_t n;
	union {
		float f[1];
		double d[1];
	} v;
};

/* ---- scanning a line before json-c sees it ---- */

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skip a JSON number's grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?,
 * from s[i]; return the index after it, or 0 if there is none. */
static size_t
skip_number(const char *s, size_t i, size_t n, int *is_integer)
{
	size_t start, token = i;

	*is_integer = 1;
	if (i < n && s[i] == '-')
		i++;
	start = i;
	if (i < n && s[i] == '0')
		i++;
	else
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	if (i == start)
		return 0;
	if (i < n && s[i] == '.') {
		*is_integer = 0;
		start = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		*is_integer = 0;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		start = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return 0;
		/* Only a 3-digit exponent can overflow a double: 1e999 parses
		 * as infinity, which is not a JSON number for us. */
		if (i - start >= 3 && !isfinite(strtod(s + token, NULL)))
			*is_integer = -1;
	}
	return i;
}

/* An integer literal json-c would saturate: outside [-2^63, 2^64-1]. */
static int
integer_out_of_range(const char *s, size_t len)
{
	static const char max_u64[] = "18446744073709551615";
	static const char min_i64[] = "9223372036854775808";
	int neg = s[0] == '-';
	const char *limit = neg ? min_i64 : max_u64;
	size_t limlen = neg ? sizeof min_i64 - 1 : sizeof max_u64 - 1;

	s += neg;
	len -= neg;
	if (len != limlen)
		return len > limlen;
	return memcmp(s, limit, len) > 0;
}

/* If s[i] starts an array of numbers only, return the index after its
 * ']' and whether it held whitespace; else 0. */
static size_t
skip_number_array(const char *s, size_t i, size_t n, int *had_space)
{
	int is_int;
	size_t j;

	i++;				/* '[' */
	while (i < n && is_space(s[i]))
		i++, *had_space = 1;
	if (i < n && s[i] == ']')
		return 0;		/* empty: not worth it */
	for (;;) {
		j = skip_number(s, i, n, &is_int);
		if (!j || is_int < 0 || (is_int && integer_out_of_range(s + i, j - i)))
			return 0;	/* let the general scan report it */
		i = j;
		while (i < n && is_space(s[i]))
			i++, *had_space = 1;
		if (i >= n)
			return 0;
		if (s[i] == ']')
			return i + 1;
		if (s[i] != ',')
			return 0;
		i++;
		while (i < n && is_space(s[i]))
			i++, *had_space = 1;
	}
}

/*
 * The validating scan.  Every line goes through it; json-c builds a tree
 * only when a program first looks into the record (lazy DOM), so a stage
 * that passes records through validates them at the scan's speed (~4x
 * json-c's on ~100-byte records) and pays for the tree only when it uses
 * it.  The scan enforces RFC 8259 exactly as json-c's strict mode does, and
 * more: NaN, Infinity, numbers that overflow a double, and integers json-c
 * would saturate are refused; UTF-8 is validated (no overlong forms, no
 * surrogates).  On the way it finds the top-level numeric arrays worth
 * deferring, counts the top-level keys and notes whether the line is
 * compact.
 */
#define SCAN_MAX_DEPTH 512

struct scan {
	const char *s;
	size_t n, i;
	int depth;
	size_t nkeys;
	struct rec *r;
	size_t col;		/* of the error, 1-based */
};

static int
scan_fail(struct scan *sc, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sc->col = sc->i + 1;
	return loam_seterr("%s", msg);
}

static const char *
char_desc(struct scan *sc)
{
	static _Thread_local char buf[16];
	unsigned char c;

	if (sc->i >= sc->n)
		return "end of line";
	c = (unsigned char)sc->s[sc->i];
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, sizeof buf, "'%c'", c);
	else
		snprintf(buf, sizeof buf, "byte 0x%02x", c);
	return buf;
}

static void
scan_space(struct scan *sc)
{
	while (sc->i < sc->n && is_space(sc->s[sc->i])) {
		sc->r->raw_compact = 0;
		sc->i++;
	}
}

/* Length of the UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static int
utf8_length(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xbf;
	int len;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (c == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;		/* above U+10FFFF */
	} else
		return 0;
	if ((size_t)len > n || p[1] < lo || p[1] > hi)
		return 0;
	for (int k = 2; k < len; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	return len;
}

int
rec_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n; ) {
		int k;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_length(p + i, n - i)) == 0)
			return 0;
		i += (size_t)k;
	}
	return 1;
}

static int
is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Bytes that end the plain run inside a string: the quote, backslash,
 * control characters and the start of multi-byte UTF-8. */
static const unsigned char string_special[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
	[0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
	[0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
	[0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
	[0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
	[0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1,
	[0x80 ... 0xff] = 1,
};

static unsigned hex4(const char *p);

/* A string at s[i] == '"'; sets its content span and whether it had
 * escapes. */
static int
scan_string(struct scan *sc, size_t *start, size_t *len, int *escaped)
{
	const unsigned char *s = (const unsigned char *)sc->s;
	size_t i = sc->i + 1, n = sc->n;

	*start = i;
	*escaped = 0;
	for (;;) {
		/* The common case: plain printable ASCII. */
		while (i < n && !string_special[s[i]])
			i++;
		if (i >= n) {
			sc->i = n;
			return scan_fail(sc, "unterminated string");
		}
		if (s[i] == '"')
			break;
		if (s[i] == '\\') {
			*escaped = 1;
			if (i + 1 >= n) {
				sc->i = n;
				return scan_fail(sc, "unterminated string");
			}
			switch (s[i + 1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				i += 2;
				continue;
			case 'u': {
				unsigned cp;

				if (!(i + 5 < n && is_hex(s[i + 2]) && is_hex(s[i + 3]) &&
				    is_hex(s[i + 4]) && is_hex(s[i + 5]))) {
					sc->i = i;
					return scan_fail(sc, "bad \\u escape in string");
				}
				/* A surrogate is only half a character: a high one
				 * must be followed by a low one, escaped as well
				 * (loam-records(5)); json-c would make U+FFFD of a
				 * lone one, changing the text silently. */
				cp = hex4(sc->s + i + 2);
				if (cp >= 0xd800 && cp < 0xdc00 && i + 11 < n &&
				    s[i + 6] == '\\' && s[i + 7] == 'u' &&
				    is_hex(s[i + 8]) && is_hex(s[i + 9]) &&
				    is_hex(s[i + 10]) && is_hex(s[i + 11]) &&
				    hex4(sc->s + i + 8) >= 0xdc00 && hex4(sc->s + i + 8) < 0xe000) {
					i += 12;
					continue;
				}
				if (cp >= 0xd800 && cp < 0xe000) {
					sc->i = i;
					return scan_fail(sc, "lone surrogate \\u%.4s in string",
					    sc->s + i + 2);
				}
				i += 6;
				continue;
			}
			default:
				sc->i = i;
				return scan_fail(sc, "bad escape '\\%c' in string", s[i + 1]);
			}
		}
		if (s[i] < 0x20) {
			sc->i = i;
			return scan_fail(sc, "control character 0x%02x in string", s[i]);
		}
		int k = utf8_length(s + i, n - i);
		if (!k) {
			sc->i = i;
			return scan_fail(sc, "invalid UTF-8 in string");
		}
		i += k;
	}
	*len = i - *start;
	sc->i = i + 1;
	return 0;
}

static int
scan_number(struct scan *sc)
{
	int is_int;
	size_t j = skip_number(sc->s, sc->i, sc->n, &is_int);
	size_t len = j - sc->i;

	if (!j) {
		if (sc->s[sc->i] == '-' && sc->i + 1 < sc->n && sc->s[sc->i + 1] == 'I')
			return scan_fail(sc, "-Infinity is not JSON");
		return scan_fail(sc, "malformed number");
	}
	if (is_int < 0)
		return scan_fail(sc, "number out of range: %.*s",
		    (int)(len > 40 ? 40 : len), sc->s + sc->i);
	if (is_int && integer_out_of_range(sc->s + sc->i, len))
		return scan_fail(sc, "integer out of range [-2^63, 2^64-1]: %.*s",
		    (int)(len > 40 ? 40 : len), sc->s + sc->i);
	sc->i = j;
	return 0;
}

static int scan_value(struct scan *sc);

static int
scan_literal(struct scan *sc, const char *word, size_t len)
{
	if (sc->n - sc->i < len || memcmp(sc->s + sc->i, word, len) != 0)
		return scan_fail(sc, "unexpected %s", char_desc(sc));
	sc->i += len;
	return 0;
}

/* Try to defer a top-level array of numbers; 1 if it was. */
static int
defer_array(struct scan *sc, size_t keystart, size_t keylen, int key_escaped)
{
	struct rec *r = sc->r;
	int had_space = 0;
	size_t j;

	if (key_escaped || keylen >= 256 || r->nlazy >= REC_LAZY_MAX)
		return 0;
	j = skip_number_array(sc->s, sc->i, sc->n, &had_space);
	if (!j || j - sc->i < REC_LAZY_MIN)
		return 0;

	struct rec_lazy *z = &r->lazy[r->nlazy++];
	z->kind = KIND_LAZY;
	z->key = sc->s + keystart;
	z->keylen = keylen;
	z->off = sc->i;
	z->len = j - sc->i;
	z->stub = NULL;
	z->owner = r;
	if (had_space)
		r->raw_compact = 0;
	sc->i = j;
	return 1;
}

/* Remember where a top-level field is, so that rec_get_str can answer
 * without building the tree.  Keys written with escapes, or more fields
 * than the table holds, turn the shortcut off for the record. */
static void
note_field(struct rec *r, size_t kstart, size_t klen, int kesc, size_t vstart, size_t vlen)
{
	struct rec_field *f;

	if (r->nfields < 0)
		return;
	if (kesc || r->nfields == REC_FIELDS_MAX) {
		r->nfields = -1;
		return;
	}
	f = &r->fields[r->nfields++];
	f->key = (uint32_t)kstart;
	f->keylen = (uint32_t)klen;
	f->value = (uint32_t)vstart;
	f->valuelen = (uint32_t)vlen;
}

static int
scan_object(struct scan *sc)
{
	size_t kstart, klen;
	int kesc, top = sc->depth == 0;

	if (++sc->depth > SCAN_MAX_DEPTH)
		return scan_fail(sc, "nesting deeper than %d", SCAN_MAX_DEPTH);
	sc->i++;
	scan_space(sc);
	if (sc->i < sc->n && sc->s[sc->i] == '}') {
		sc->i++;
		sc->depth--;
		return 0;
	}
	for (;;) {
		if (sc->i >= sc->n || sc->s[sc->i] != '"')
			return scan_fail(sc, "expected a key string, got %s", char_desc(sc));
		if (scan_string(sc, &kstart, &klen, &kesc))
			return -1;
		scan_space(sc);
		if (sc->i >= sc->n || sc->s[sc->i] != ':')
			return scan_fail(sc, "expected ':' after key, got %s", char_desc(sc));
		sc->i++;
		scan_space(sc);
		if (top) {
			size_t vstart = sc->i;

			sc->nkeys++;
			if (!(sc->i < sc->n && sc->s[sc->i] == '[' &&
			    defer_array(sc, kstart, klen, kesc)) && scan_value(sc))
				return -1;
			note_field(sc->r, kstart, klen, kesc, vstart, sc->i - vstart);
		} else if (scan_value(sc))
			return -1;
		scan_space(sc);
		if (sc->i < sc->n && sc->s[sc->i] == ',') {
			sc->i++;
			scan_space(sc);
			continue;
		}
		if (sc->i < sc->n && sc->s[sc->i] == '}') {
			sc->i++;
			sc->depth--;
			return 0;
		}
		return scan_fail(sc, "expected ',' or '}', got %s", char_desc(sc));
	}
}

static int
scan_array(struct scan *sc)
{
	if (++sc->depth > SCAN_MAX_DEPTH)
		return scan_fail(sc, "nesting deeper than %d", SCAN_MAX_DEPTH);
	sc->i++;
	scan_space(sc);
	if (sc->i < sc->n && sc->s[sc->i] == ']') {
		sc->i++;
		sc->depth--;
		return 0;
	}
	for (;;) {
		if (scan_value(sc))
			return -1;
		scan_space(sc);
		if (sc->i < sc->n && sc->s[sc->i] == ',') {
			sc->i++;
			scan_space(sc);
			continue;
		}
		if (sc->i < sc->n && sc->s[sc->i] == ']') {
			sc->i++;
			sc->depth--;
			return 0;
		}
		return scan_fail(sc, "expected ',' or ']', got %s", char_desc(sc));
	}
}

static int
scan_value(struct scan *sc)
{
	size_t a, b;
	int e;

	if (sc->i >= sc->n)
		return scan_fail(sc, "unexpected end of line");
	switch (sc->s[sc->i]) {
	case '{':
		return scan_object(sc);
	case '[':
		return scan_array(sc);
	case '"':
		return scan_string(sc, &a, &b, &e);
	case 't':
		return scan_literal(sc, "true", 4);
	case 'f':
		return scan_literal(sc, "false", 5);
	case 'n':
		return scan_literal(sc, "null", 4);
	case 'N':
		return scan_fail(sc, "NaN is not JSON");
	case 'I':
		return scan_fail(sc, "Infinity is not JSON");
	case '\'':
		return scan_fail(sc, "single quotes are not JSON");
	default:
		if (sc->s[sc->i] == '-' || (sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9'))
			return scan_number(sc);
		return scan_fail(sc, "unexpected %s", char_desc(sc));
	}
}

static int
scan_line(struct rec *r, const char *s, size_t n, size_t *col, size_t *nkeys)
{
	struct scan sc = { .s = s, .n = n, .r = r };
	static const char *const kinds[128] = {
		['['] = "an array", ['"'] = "a string", ['t'] = "a boolean",
		['f'] = "a boolean", ['n'] = "null",
	};

	r->raw_compact = 1;
	r->nlazy = 0;
	r->nfields = n <= UINT32_MAX ? 0 : -1;
	r->strbuf_ready = 0;
	scan_space(&sc);
	if (sc.i < n && s[sc.i] != '{') {
		unsigned char c = (unsigned char)s[sc.i];
		const char *kind = c < 128 && kinds[c] ? kinds[c] : "a number";

		if (scan_value(&sc) != 0) {
			*col = sc.col;
			return -1;
		}
		scan_space(&sc);
		if (sc.i < n) {
			*col = sc.i + 1;
			return loam_seterr("unexpected text after the record");
		}
		*col = 0;
		return loam_seterr("expected a JSON object, got %s", kind);
	}
	if (sc.i >= n) {
		*col = 0;
		return loam_seterr("empty record");
	}
	if (scan_object(&sc) != 0) {
		*col = sc.col;
		r->nlazy = 0;
		return -1;
	}
	scan_space(&sc);
	if (sc.i < n) {
		*col = sc.i + 1;
		r->nlazy = 0;
		return loam_seterr("unexpected text after the record");
	}
	*nkeys = sc.nkeys;
	return 0;
}

/* ---- decimal to binary, the numeric arrays' fast path ---- */

/*
 * Clinger's fast path: a decimal with at most 19 significant digits whose
 * digits fit a double exactly (m < 2^53) and whose power of ten is exact
 * (|e| <= 22) converts with one correctly rounded multiplication or
 * division.  Everything else goes to strtod/strtof, so results always
 * equal libc's.  JSON grammar is assumed (the scan checked it).
 */
static const double exact_pow10[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int
decimal_fast(const char *p, const char **end, double *out)
{
	uint64_t m = 0;
	int digits = 0, exp10 = 0, neg = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (m || *p != '0')
			digits++;
		m = m * 10 + (uint64_t)(*p - '0');
		if (digits > 19)
			return 0;
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (m || *p != '0')
				digits++;
			if (digits > 19)
				return 0;
			m = m * 10 + (uint64_t)(*p - '0');
			exp10--;
		}
	if (*p == 'e' || *p == 'E') {
		int eneg = 0, e = 0;

		p++;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		for (; *p >= '0' && *p <= '9'; p++)
			if (e < 10000)
				e = e * 10 + (*p - '0');
		exp10 += eneg ? -e : e;
	}
	if (m >= (uint64_t)1 << 53 || exp10 < -22 || exp10 > 22)
		return 0;
	*out = exp10 < 0 ? (double)m / exact_pow10[-exp10] : (double)m * exact_pow10[exp10];
	if (neg)
		*out = -*out;
	*end = p;
	return 1;
}

double
rec_strtod(const char *p, const char **end)
{
	double d;
	char *e;

	if (decimal_fast(p, end, &d))
		return d;
	d = strtod(p, &e);
	*end = e;
	return d;
}

float
rec_strtof(const char *p, const char **end)
{
	double d;
	uint64_t bits;
	char *e;
	float f;

	/* Rounding the correctly rounded double to float is exact unless the
	 * double lies exactly halfway between two floats (the 29 bits float
	 * drops are 1 followed by zeros); then ask strtof. */
	if (decimal_fast(p, end, &d)) {
		memcpy(&bits, &d, sizeof bits);
		if ((bits & 0x1fffffff) != 0x10000000 && fabs(d) >= 0x1p-126 &&
		    fabs(d) <= FLT_MAX)
			return (float)d;
	}
	f = strtof(p, &e);
	*end = e;
	return f;
}

/* ---- serialisers for values kept as text or binary ---- */

static int
lazy_to_json(json_object *jso, struct printbuf *pb, int level, int flags)
{
	const struct rec_lazy *z = json_object_get_userdata(jso);
	const char *p = z->owner->raw + z->off, *end = p + z->len, *q;

	/* Copy the text without whitespace: output is always compact. */
	while (p < end) {
		for (q = p; q < end && !is_space(*q); q++)
			;
		printbuf_memappend(pb, p, (int)(q - p));
		for (p = q; p < end && is_space(*p); p++)
			;
	}
	return 0;
}

static int
numbuf_to_json(json_object *jso, struct printbuf *pb, int level, int flags)
{
	const struct numbuf *nb = json_object_get_userdata(jso);
	char num[40];
	int len;

	printbuf_memappend(pb, "[", 1);
	for (size_t i = 0; i < nb->n; i++) {
		if (nb->is_double)
			len = (int)numfmt_double(num + 1, nb->v.d[i]);
		else
			len = (int)numfmt_float(num + 1, nb->v.f[i]);
		num[0] = ',';
		printbuf_memappend(pb, i ? num : num + 1, i ? len + 1 : len);
	}
	printbuf_memappend(pb, "]", 1);
	return 0;
}

static void
numbuf_delete(json_object *jso, void *userdata)
{
	free(userdata);
}

/* The deferred array behind v, if v is a live stub; else NULL. */
static struct rec_lazy *
lazy_of(json_object *v)
{
	struct rec_lazy *z;

	if (!v || !json_object_is_type(v, json_type_array))
		return NULL;
	z = json_object_get_userdata(v);
	if (!z || z->kind != KIND_LAZY || z->stub != v)
		return NULL;
	return z;
}

static struct numbuf *
numbuf_of(json_object *v)
{
	struct numbuf *nb;

	if (!v || !json_object_is_type(v, json_type_array))
		return NULL;
	nb = json_object_get_userdata(v);
	return nb && nb->kind == KIND_NUMBUF ? nb : NULL;
}

/* ---- reading ---- */

static void
raw_added_reset(struct rec *r)
{
	r->nrawf = 0;
	r->rawkeyslen = 0;
	if (r->rawadd)
		printbuf_reset(r->rawadd);
}

static void
rec_clear(struct rec *r)
{
	if (r->obj)
		json_object_put(r->obj);
	if (r->added)
		json_object_put(r->added);
	r->obj = NULL;
	r->added = NULL;
	r->nlazy = 0;
	raw_added_reset(r);
	r->rewritten = 0;
	r->nkeys_read = 0;
	r->raw = NULL;
	r->rawlen = 0;
}

/* Free everything a record owns (it stays a valid empty struct). */
static void
rec_release(struct rec *r)
{
	rec_clear(r);
	if (r->out)
		printbuf_free(r->out);
	if (r->tok)
		json_tokener_free(r->tok);
	free(r->parse);
	free(r->own_raw);
	free(r->strbuf);
	r->strbuf = NULL;
	if (r->rawadd)
		printbuf_free(r->rawadd);
	free(r->rawkeys);
	free(r->rawf);
	r->rawadd = NULL;
	r->rawkeys = NULL;
	r->rawf = NULL;
	r->rawkeyscap = 0;
	r->rawfcap = 0;
	r->strcap = 0;
	r->out = NULL;
	r->tok = NULL;
	r->parse = r->own_raw = NULL;
	r->parsecap = 0;
}

/* Check line[0, len) and make it r's content; the tree comes later. */
static int
rec_load(struct rec *r, const char *line, size_t len)
{
	size_t col = 0;

	rec_clear(r);
	r->raw = line;
	r->rawlen = len;
	if (scan_line(r, line, len, &col, &r->nkeys_scanned) != 0) {
		char msg[256];

		snprintf(msg, sizeof msg, "%s", loam_error());
		r->nlazy = 0;
		r->raw = NULL;
		if (!col)
			return loam_seterr("%s:%lu: %s", r->file, r->line, msg);
		return loam_seterr("%s:%lu:%zu: %s", r->file, r->line, col, msg);
	}
	return 0;
}

/* ---- building the tree from a scanned line ---- */

/*
 * The fast builder: the scan has validated the line, so the tree is built
 * in one more pass with json-c's constructors and no re-checking, which
 * is about twice as fast as json-c's own tokener (tests/bench/rec_bench.c;
 * the tokener also switches locale on every call).  The values are those
 * json-c's parser gives: int64 (uint64 above INT64_MAX) for integers,
 * doubles keeping their original text, strings unescaped to UTF-8.
 * rec_parse_reference() builds the same tree with the tokener, and the
 * tests compare the two.
 */
struct builder {
	const char *s;
	size_t i, n;
	struct rec *r;
	char *buf;	/* unescaped strings and number text; r->parse */
	size_t cap;
};

static void
builder_reserve(struct builder *b, size_t n)
{
	if (b->cap < n) {
		b->cap = n < 256 ? 256 : n * 2;
		b->buf = xrealloc(b->buf, b->cap);
	}
}

static unsigned
hex4(const char *p)
{
	unsigned v = 0;

	for (int k = 0; k < 4; k++) {
		char c = p[k];
		v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

static size_t
put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The string at s[i] == '"', unescaped into b->buf (NUL-ended). */
static const char *
build_string(struct builder *b, size_t *len)
{
	const char *s = b->s, *start = s + b->i + 1, *p;
	size_t o = 0;

	/* The first quote ends the string unless a backslash comes before
	 * it; memchr finds both fast. */
	p = memchr(start, '"', b->n - (size_t)(start - s));
	if (!memchr(start, '\\', (size_t)(p - start))) {	/* no escapes: one copy */
		*len = (size_t)(p - start);
		builder_reserve(b, *len + 1);
		memcpy(b->buf, start, *len);
		b->buf[*len] = '\0';
		b->i = (size_t)(p + 1 - s);
		return b->buf;
	}
	/* Unescaping only shortens: the rest of the line bounds the size. */
	builder_reserve(b, b->n - b->i + 1);
	for (p = start; *p != '"'; ) {
		if (*p != '\\') {
			b->buf[o++] = *p++;
			continue;
		}
		p++;
		switch (*p++) {
		case 'b': b->buf[o++] = '\b'; break;
		case 'f': b->buf[o++] = '\f'; break;
		case 'n': b->buf[o++] = '\n'; break;
		case 'r': b->buf[o++] = '\r'; break;
		case 't': b->buf[o++] = '\t'; break;
		case 'u': {
			unsigned cp = hex4(p);

			p += 4;
			/* A surrogate pair makes one code point; a lone
			 * surrogate becomes U+FFFD, as json-c does. */
			if (cp >= 0xd800 && cp < 0xdc00 && p[0] == '\\' && p[1] == 'u' &&
			    hex4(p + 2) >= 0xdc00 && hex4(p + 2) < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(p + 2) - 0xdc00);
				p += 6;
			} else if (cp >= 0xd800 && cp < 0xe000)
				cp = 0xfffd;
			o += put_utf8(b->buf + o, cp);
			break;
		}
		default: b->buf[o++] = p[-1]; break;	/* " \ / */
		}
	}
	b->buf[o] = '\0';
	*len = o;
	b->i = (size_t)(p + 1 - s);
	return b->buf;
}

static json_object *
build_number(struct builder *b)
{
	const char *p = b->s + b->i, *end;
	int is_int;
	size_t len;

	end = b->s + skip_number(b->s, b->i, SIZE_MAX, &is_int);
	len = (size_t)(end - p);
	b->i += len;
	if (is_int) {
		/* The scan checked the digits and the range. */
		int neg = *p == '-';
		uint64_t u = 0;

		for (const char *q = p + neg; q < end; q++)
			u = u * 10 + (uint64_t)(*q - '0');
		if (neg)
			return json_object_new_int64(u ? (int64_t)(0 - u) : 0);
		return u > (uint64_t)INT64_MAX ? json_object_new_uint64(u) :
		    json_object_new_int64((int64_t)u);
	}
	builder_reserve(b, len + 1);
	memcpy(b->buf, p, len);
	b->buf[len] = '\0';
	return json_object_new_double_s(rec_strtod(p, &end), b->buf);
}

static void
build_space(struct builder *b)
{
	while (is_space(b->s[b->i]))
		b->i++;
}

static json_object *build_value(struct builder *b, int top);

static json_object *
build_object(struct builder *b, int top)
{
	json_object *obj = json_object_new_object(), *v;
	size_t len, at;
	char small[128], *key;

	b->i++;
	build_space(b);
	if (b->s[b->i] == '}') {
		b->i++;
		return obj;
	}
	for (;;) {
		const char *k = build_string(b, &len);

		/* b->buf is reused by the value: keep the key elsewhere. */
		key = len < sizeof small ? small : xmalloc(len + 1);
		memcpy(key, k, len + 1);
		build_space(b);
		b->i++;			/* ':' */
		build_space(b);
		at = b->i;
		v = NULL;
		if (top)
			for (int z = 0; z < b->r->nlazy; z++)
				if (b->r->lazy[z].off == at) {
					struct rec_lazy *lz = &b->r->lazy[z];

					v = json_object_new_array();
					lz->stub = v;
					json_object_set_serializer(v, lazy_to_json, lz, NULL);
					b->i += lz->len;
					break;
				}
		if (!v)
			v = build_value(b, 0);
		json_object_object_add(obj, key, v);
		if (key != small)
			free(key);
		build_space(b);
		if (b->s[b->i++] == '}')
			return obj;
		build_space(b);		/* after ',' */
	}
}

static json_object *
build_array(struct builder *b)
{
	json_object *arr = json_object_new_array();

	b->i++;
	build_space(b);
	if (b->s[b->i] == ']') {
		b->i++;
		return arr;
	}
	for (;;) {
		json_object_array_add(arr, build_value(b, 0));
		build_space(b);
		if (b->s[b->i++] == ']')
			return arr;
		build_space(b);
	}
}

static json_object *
build_value(struct builder *b, int top)
{
	size_t len;
	const char *str;

	switch (b->s[b->i]) {
	case '{':
		return build_object(b, top);
	case '[':
		return build_array(b);
	case '"':
		str = build_string(b, &len);
		return json_object_new_string_len(str, (int)len);
	case 't':
		b->i += 4;
		return json_object_new_boolean(1);
	case 'f':
		b->i += 5;
		return json_object_new_boolean(0);
	case 'n':
		b->i += 4;
		return NULL;
	default:
		return build_number(b);
	}
}

/*
 * Build the json-c tree of a scanned line, on first use.  The deferred
 * arrays are cut out of the text json-c sees ("[]" in their place) and
 * their stubs get a serialiser that writes the original text.
 */
static int
rec_tree_tokener(struct rec *r);
static int
rec_tree(struct rec *r);
static void
raw_added_spill(struct rec *r);

static int
rec_tree_fast(struct rec *r)
{
	struct builder b;

	b.s = r->raw;
	b.i = 0;
	b.n = r->rawlen;
	b.r = r;
	b.buf = r->parse;
	b.cap = r->parsecap;
	build_space(&b);
	r->obj = build_object(&b, 1);
	r->parse = b.buf;
	r->parsecap = b.cap;
	r->nkeys_read = json_object_object_length(r->obj);
	return 0;
}

/* The tree, built once; fields added before it existed (rec_set_json on
 * a record that had no tree) follow the line's own, in their order. */
static int
rec_tree(struct rec *r)
{
	int rc;

	if (r->obj)
		return 0;
	raw_added_spill(r);
	rc = r->by_tokener ? rec_tree_tokener(r) : rec_tree_fast(r);
	if (rc == 0 && r->added) {
		json_object_object_foreach(r->added, k, v)
			json_object_object_add(r->obj, k, json_object_get(v));
		json_object_put(r->added);
		r->added = NULL;
	}
	return rc;
}

/*
 * The plain reference: json-c's own parser on the line, with the deferred
 * arrays cut out of the text it sees ("[]" in their place).
 */
static int
rec_tree_tokener(struct rec *r)
{
	const char *text = r->raw;
	size_t textlen = r->rawlen;
	enum json_tokener_error jerr;
	json_object *obj;

	if (r->obj)
		return 0;
	if (!r->tok) {
		r->tok = json_tokener_new_ex(SCAN_MAX_DEPTH + 1);
		if (!r->tok)
			return loam_seterr("out of memory");
		json_tokener_set_flags(r->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	}
	if (r->nlazy > 0) {
		size_t at = 0, w = 0;

		if (r->parsecap < r->rawlen + 1) {
			r->parsecap = r->rawlen + 1;
			r->parse = xrealloc(r->parse, r->parsecap);
		}
		for (int k = 0; k < r->nlazy; k++) {
			memcpy(r->parse + w, r->raw + at, r->lazy[k].off - at);
			w += r->lazy[k].off - at;
			memcpy(r->parse + w, "[]", 2);
			w += 2;
			at = r->lazy[k].off + r->lazy[k].len;
		}
		memcpy(r->parse + w, r->raw + at, r->rawlen - at);
		w += r->rawlen - at;
		text = r->parse;
		textlen = w;
	}
again:
	json_tokener_reset(r->tok);
	obj = json_tokener_parse_ex(r->tok, text, (int)textlen);
	jerr = json_tokener_get_error(r->tok);
	if (jerr != json_tokener_success || json_tokener_get_parse_end(r->tok) != textlen ||
	    !json_object_is_type(obj, json_type_object)) {
		/* The scan accepted the line, so this is a disagreement between
		 * it and json-c: report it rather than guess. */
		json_object_put(obj);
		return loam_seterr("%s:%lu: json-c rejects a line the scan accepted: %s",
		    r->file, r->line, json_tokener_error_desc(jerr));
	}
	if (r->nlazy > 0 && (size_t)json_object_object_length(obj) != r->nkeys_scanned) {
		/* Duplicate keys: which "[]" stands for which array is no longer
		 * clear.  Rare; parse the whole line instead. */
		json_object_put(obj);
		r->nlazy = 0;
		text = r->raw;
		textlen = r->rawlen;
		goto again;
	}
	r->obj = obj;
	r->nkeys_read = json_object_object_length(obj);
	for (int k = 0; k < r->nlazy; k++) {
		struct rec_lazy *z = &r->lazy[k];
		char key[256];
		json_object *stub;

		memcpy(key, z->key, z->keylen);
		key[z->keylen] = '\0';
		if (!json_object_object_get_ex(obj, key, &stub))
			continue;
		z->stub = stub;
		json_object_set_serializer(stub, lazy_to_json, z, NULL);
	}
	return 0;
}

int
rec_reader_open(struct rec_reader *rd, const char *path)
{
	FILE *fp;

	if (!path || strcmp(path, "-") == 0) {
		rec_reader_init(rd, stdin, "<stdin>");
		return 0;
	}
	fp = fopen(path, "r");
	if (!fp)
		return loam_seterr("%s: %s", path, strerror(errno));
	rec_reader_init(rd, fp, path);
	rd->close_fp = 1;
	return 0;
}

void
rec_reader_init(struct rec_reader *rd, FILE *fp, const char *name)
{
	memset(rd, 0, sizeof *rd);
	rd->fp = fp;
	rd->fd = fileno(fp);	/* -1 for a stream without one (fmemopen) */
	rd->name = name;
	rd->rec.file = name;
	rd->max_line = REC_LINE_MAX;
}

void
rec_reader_close(struct rec_reader *rd)
{
	rec_release(&rd->rec);
	zio_in_free(rd->z);
	free(rd->zbuf);
	if (rd->close_fp && rd->fp)
		fclose(rd->fp);
	free(rd->buf);
	memset(rd, 0, sizeof *rd);
}

/*
 * Read what the input has into dst[0, cap): the count, 0 at end of input,
 * -1 with "name: strerror" on a read error.  One read(2) takes what a pipe
 * holds, so that a coprocess's line is answered before the next one is
 * written (skillit-mix --follow); fread would wait to fill the buffer.
 * Only a stream without a descriptor, never a pipe, goes through fread.
 */
static ssize_t
read_raw(struct rec_reader *rd, void *dst, size_t cap)
{
	ssize_t n;

	if (rd->fd >= 0) {
		do
			n = read(rd->fd, dst, cap);
		while (n < 0 && errno == EINTR);
	} else {
		for (;;) {
			errno = 0;
			n = (ssize_t)fread(dst, 1, cap, rd->fp);
			if (n > 0 || !ferror(rd->fp))
				break;
			if (errno != EINTR) {
				if (!errno)
					errno = EIO;
				n = -1;
				break;
			}
			clearerr(rd->fp);
		}
	}
	if (n < 0) {
		rd->error = 1;
		return loam_seterr("%s: %s", rd->name, strerror(errno));
	}
	return n;
}

#define ZIO_READ_BUF (1 << 17)

/* The first bytes decide whether the input is compressed; a JSON line
 * never starts like a magic number, so waiting for more bytes happens only
 * for compressed input. */
static int
sniff(struct rec_reader *rd)
{
	size_t start = rd->end;
	int f;

	rd->sniffed = 1;
	for (;;) {
		ssize_t n = read_raw(rd, rd->buf + rd->end, rd->bufcap - rd->end);

		if (n < 0)
			return -1;
		rd->end += (size_t)n;
		f = zio_sniff((unsigned char *)rd->buf + start, rd->end - start);
		if (n == 0 || f != ZIO_MORE)
			break;
	}
	if (f == ZIO_GZIP || f == ZIO_ZSTD) {
		rd->z = zio_in_new((enum zio_format)f);
		rd->zbuf = xmalloc(ZIO_READ_BUF);
		rd->zend = rd->end - start;
		memcpy(rd->zbuf, rd->buf + start, rd->zend);
		rd->end = start;
		return 1;
	}
	if (rd->end == start) {
		rd->eof = 1;
		return 0;
	}
	return 1;
}

/* Decompressed input after buf[end]. */
static int
fill_compressed(struct rec_reader *rd)
{
	for (;;) {
		size_t used;
		ssize_t n;

		if (rd->zpos == rd->zend) {
			ssize_t got = read_raw(rd, rd->zbuf, ZIO_READ_BUF);

			if (got < 0)
				return -1;
			if (got == 0) {
				rd->eof = 1;
				if (!zio_in_complete(rd->z)) {
					rd->error = 1;
					return loam_seterr("%s: compressed input ends early (truncated?)",
					    rd->name);
				}
				return 0;
			}
			rd->zpos = 0;
			rd->zend = (size_t)got;
		}
		n = zio_in_step(rd->z, rd->zbuf + rd->zpos, rd->zend - rd->zpos, &used,
		    rd->buf + rd->end, rd->bufcap - rd->end);
		if (n < 0) {
			rd->error = 1;
			return loam_seterr("%s: %s", rd->name, loam_error());
		}
		rd->zpos += used;
		if (n > 0) {
			rd->end += (size_t)n;
			return 1;
		}
	}
}

/* More input after buf[end]: 1, 0 at end of input, -1 with "name:
 * strerror" on a read error. */
static int
fill(struct rec_reader *rd)
{
	ssize_t n;

	if (rd->eof)
		return 0;
	if (!rd->sniffed) {
		int rc = sniff(rd);

		if (rc <= 0 || !rd->z)
			return rc;
	}
	if (rd->z)
		return fill_compressed(rd);
	n = read_raw(rd, rd->buf + rd->end, rd->bufcap - rd->end);
	if (n < 0)
		return -1;
	if (n == 0) {
		rd->eof = 1;
		return 0;
	}
	rd->end += (size_t)n;
	return 1;
}

/* Room after buf[end] for the line that begins at buf[pos]: the line is
 * moved to the front, or the buffer doubled (up to one byte past
 * max_line, which is enough to refuse it) once the line fills it. */
static void
make_room(struct rec_reader *rd)
{
	size_t cap;

	if (!rd->buf) {
		rd->bufcap = REC_READ_BUF;
		rd->buf = xmalloc(rd->bufcap + 1);
		return;
	}
	if (rd->end < rd->bufcap)
		return;
	if (rd->pos > 0) {
		memmove(rd->buf, rd->buf + rd->pos, rd->end - rd->pos);
		rd->end -= rd->pos;
		rd->pos = 0;
		return;
	}
	cap = rd->bufcap < rd->max_line / 2 ? rd->bufcap * 2 : rd->max_line + 1;
	rd->buf = xrealloc(rd->buf, cap + 1);
	rd->bufcap = cap;
}

/* A byte a JSON value can begin with: the scan's error on any other
 * ("unexpected 'x'") needs no more of the line. */
static int
can_begin_value(unsigned char c)
{
	return c == '{' || c == '[' || c == '"' || c == 't' || c == 'f' || c == 'n' ||
	    c == '-' || (c >= '0' && c <= '9') || c == 'N' || c == 'I' || c == '\'';
}

/* Drop the input up to the next newline (the rest of a line refused
 * part-way), without keeping it: 0, or -1 on a read error. */
static int
skip_line(struct rec_reader *rd)
{
	const char *nl;
	int rc;

	for (;;) {
		if (rd->pos < rd->end &&
		    (nl = memchr(rd->buf + rd->pos, '\n', rd->end - rd->pos)) != NULL) {
			rd->pos = (size_t)(nl - rd->buf) + 1;
			return 0;
		}
		rd->pos = rd->end = 0;
		make_room(rd);
		if ((rc = fill(rd)) <= 0)
			return rc;
	}
}

/*
 * One line, the newline left out and a NUL after it, in place in the
 * buffer (*linep, good until the next call): 1, 0 at end of input, -1
 * with file:line[:column] on a NUL byte, a bad first byte, a line over
 * max_line, or a read error.  The bytes are checked as they arrive, so
 * that a refused line is read no further than one buffer past its fault.
 */
static int
read_line(struct rec_reader *rd, char **linep, size_t *lenp)
{
	size_t len = 0;		/* buf[pos, pos + len): checked, no newline */
	size_t m, take;
	char *p, *nl, *z;
	int rc, begun = 0;

	if (!rd->buf)
		make_room(rd);
	if (rd->pos == rd->end)
		rd->pos = rd->end = 0;	/* a whole buffer for the next read */
	for (;;) {
		p = rd->buf + rd->pos + len;
		m = rd->end - rd->pos - len;
		nl = m ? memchr(p, '\n', m) : NULL;
		take = nl ? (size_t)(nl - p) : m;
		if (take && (z = memchr(p, '\0', take)) != NULL) {
			rc = loam_seterr("%s:%lu:%zu: NUL byte in the line", rd->name,
			    rd->lineno, len + (size_t)(z - p) + 1);
			goto refuse;
		}
		if (take > rd->max_line - len) {
			rc = loam_seterr("%s:%lu: line longer than %zu bytes", rd->name,
			    rd->lineno, rd->max_line);
			goto refuse;
		}
		if (!begun)
			for (size_t i = 0; i < take; i++)
				if (!is_space(p[i])) {
					if (!can_begin_value((unsigned char)p[i])) {
						struct scan sc = { .s = p, .n = take, .i = i };

						rc = loam_seterr("%s:%lu:%zu: unexpected %s",
						    rd->name, rd->lineno, len + i + 1,
						    char_desc(&sc));
						goto refuse;
					}
					begun = 1;
					break;
				}
		len += take;
		if (nl)
			break;
		make_room(rd);
		if ((rc = fill(rd)) < 0)
			return -1;
		if (rc == 0) {
			if (len == 0)
				return 0;
			break;		/* the last line, without a newline */
		}
	}
	*linep = rd->buf + rd->pos;
	*lenp = len;
	(*linep)[len] = '\0';	/* over the newline, or in the spare byte */
	rd->pos += len + (nl != NULL);
	return 1;

refuse:
	/* What was read of the line goes; its rest, if still to come, is
	 * skipped by the next call. */
	rd->skip_rest = !nl;
	rd->pos = nl ? (size_t)(nl - rd->buf) + 1 : rd->end;
	return rc;
}

int
rec_next(struct rec_reader *rd, struct rec **out)
{
	size_t len = 0, i;
	char *line = NULL;
	int rc;

	rd->error = 0;
	if (rd->skip_rest) {
		rd->skip_rest = 0;
		if (skip_line(rd) < 0) {
			rec_clear(&rd->rec);
			return -1;
		}
	}
	if (rd->max_line > REC_LINE_HARD_MAX)
		rd->max_line = REC_LINE_HARD_MAX;
	for (;;) {
		rd->lineno++;
		rc = read_line(rd, &line, &len);
		if (rc <= 0) {
			rec_clear(&rd->rec);
			if (rc == 0)
				rd->lineno--;
			return rc;
		}
		if (len && line[len - 1] == '\r')
			len--;
		for (i = 0; i < len && is_space(line[i]); i++)
			;
		if (i < len)
			break;		/* blank lines are skipped */
	}
	rd->rec.file = rd->name;
	rd->rec.line = rd->lineno;
	if (rec_load(&rd->rec, line, len) != 0)
		return -1;
	*out = &rd->rec;
	return 1;
}

struct rec *
rec_parse(const char *text, size_t len, const char *file, unsigned long line)
{
	struct rec *r = rec_new();
	int rc;

	r->own_raw = xmalloc(len + 1);
	memcpy(r->own_raw, text, len);
	r->own_raw[len] = '\0';
	r->file = file;
	r->line = line;
	rc = rec_load(r, r->own_raw, len);
	if (rc != 0) {
		rec_free(r);
		return NULL;
	}
	return r;
}

struct rec *
rec_parse_reference(const char *text, size_t len)
{
	struct rec *r = rec_parse(text, len, "reference", 1);

	if (r) {
		r->by_tokener = 1;
		if (rec_tree(r) != 0) {
			rec_free(r);
			return NULL;
		}
	}
	return r;
}

struct rec *
rec_new(void)
{
	struct rec *r = xcalloc(1, sizeof *r);

	r->obj = json_object_new_object();
	r->file = "";
	return r;
}

void
rec_free(struct rec *r)
{
	if (!r)
		return;
	rec_release(r);
	free(r);
}

const char *
rec_where(const struct rec *r)
{
	static _Thread_local char buf[512];

	if (!r->line)
		return "";
	snprintf(buf, sizeof buf, "%s:%lu", r->file, r->line);
	return buf;
}

int
rec_errorf(const struct rec *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!r->line)
		return loam_seterr("%s", msg);
	return loam_seterr("%s:%lu: %s", r->file, r->line, msg);
}

/* ---- typed access ---- */

/* "expected a number, got "abc"" with the value shown, cut to 40 bytes. */
static int
type_error(const char *name, const char *want, json_object *v)
{
	const char *text = json_object_to_json_string_ext(v, JSON_OUT_FLAGS);
	size_t n = strlen(text);

	return loam_seterr("field '%s': expected %s, got %.*s%s", name, want,
	    (int)(n > 40 ? 40 : n), text, n > 40 ? "..." : "");
}

/* Replace a stub with the real array it stands for (generic access). */
static json_object *
materialise(struct rec *r, const char *key, json_object *v)
{
	struct rec_lazy *z = lazy_of(v);
	struct numbuf *nb;
	json_object *arr;

	if (z) {
		char *copy = xmalloc(z->len + 1);
		memcpy(copy, r->raw + z->off, z->len);
		copy[z->len] = '\0';
		arr = json_tokener_parse(copy);
		free(copy);
		z->stub = NULL;
	} else if (v && json_object_is_type(v, json_type_object) &&
	    json_object_get_userdata(v) &&
	    ((const struct rawtext *)json_object_get_userdata(v))->kind == KIND_RAWTEXT) {
		const struct rawtext *rt = json_object_get_userdata(v);
		char *copy = xmalloc(rt->len + 1);

		memcpy(copy, rt->text, rt->len);
		copy[rt->len] = '\0';
		arr = json_tokener_parse(copy);
		free(copy);
	} else if ((nb = numbuf_of(v)) != NULL) {
		arr = json_object_new_array_ext((int)nb->n);
		for (size_t i = 0; i < nb->n; i++)
			json_object_array_add(arr, nb->is_double ?
			    rec_json_new_double(nb->v.d[i]) :
			    rec_json_new_float(nb->v.f[i]));
	} else {
		return v;
	}
	json_object_object_add(r->obj, key, arr);
	return arr;
}

static int
lookup(struct rec *r, const char *key, json_object **v)
{
	if (rec_tree(r) != 0)
		return REC_BAD;
	if (!json_object_object_get_ex(r->obj, key, v))
		return REC_ABSENT;
	/* A value set as text (rec_set_raw) is parsed for every getter. */
	if (*v && json_object_is_type(*v, json_type_object) && json_object_get_userdata(*v) &&
	    ((const struct rawtext *)json_object_get_userdata(*v))->kind == KIND_RAWTEXT)
		*v = materialise(r, key, *v);
	return REC_OK;
}

int
rec_get(struct rec *r, const char *key, json_object **out)
{
	json_object *v;
	int found = lookup(r, key, &v);

	if (found != REC_OK)
		return found;
	*out = materialise(r, key, v);
	return REC_OK;
}

/* The index of key among the raw added fields, or -1. */
static int
raw_added_find(const struct rec *r, const char *key)
{
	for (int i = 0; i < r->nrawf; i++)
		if (strcmp(r->rawkeys + r->rawf[i].key, key) == 0)
			return i;
	return -1;
}

/* The line's top-level field called key, without the tree: 1 and *f
 * set, 0 when absent, -1 when the field table cannot answer (no table,
 * or the key was added since and lives in r->added). */
static int
line_field(const struct rec *r, const char *key, const struct rec_field **f)
{
	size_t keylen = strlen(key);

	*f = NULL;
	if (r->obj || !r->raw || r->nfields < 0)
		return -1;
	if (r->added && json_object_object_get_ex(r->added, key, NULL))
		return -1;
	if (raw_added_find(r, key) >= 0)
		return -1;
	/* The last of duplicate keys wins, as in the tree. */
	for (int i = 0; i < r->nfields; i++)
		if (r->fields[i].keylen == keylen &&
		    memcmp(r->raw + r->fields[i].key, key, keylen) == 0)
			*f = &r->fields[i];
	return *f != NULL;
}

/* rec_get_str without the tree: a top-level string written without
 * escapes is copied out of the line.  1 when it answered, 0 when the tree
 * is needed (escapes, another type, no field table). */
static int
str_from_line(struct rec *r, const char *key, const char **s, size_t *len, int *found)
{
	const struct rec_field *hit;
	int rc = line_field(r, key, &hit);

	if (rc < 0)
		return 0;
	if (rc == 0) {
		*found = REC_ABSENT;
		return 1;
	}
	if (r->raw[hit->value] != '"' ||
	    memchr(r->raw + hit->value, '\\', hit->valuelen))
		return 0;
	/* strbuf mirrors the line: a field's string goes where its value
	 * sits, so strings handed out for one record never overlap or move
	 * (the buffer grows only before the record's first string). */
	if (!r->strbuf_ready) {
		if (r->strcap < r->rawlen + 1) {
			r->strcap = r->rawlen + 1;
			r->strbuf = xrealloc(r->strbuf, r->strcap);
		}
		r->strbuf_ready = 1;
	}
	memcpy(r->strbuf + hit->value, r->raw + hit->value + 1, hit->valuelen - 2);
	r->strbuf[hit->value + hit->valuelen - 2] = '\0';
	*s = r->strbuf + hit->value;
	if (len)
		*len = hit->valuelen - 2;
	*found = REC_OK;
	return 1;
}

int
rec_get_str(struct rec *r, const char *key, const char **s, size_t *len)
{
	json_object *v;
	int found;

	if (str_from_line(r, key, s, len, &found))
		return found;
	found = lookup(r, key, &v);

	if (found != REC_OK)
		return found;
	if (!json_object_is_type(v, json_type_string))
		return type_error(key, "a string", v);
	*s = json_object_get_string(v);
	if (len)
		*len = (size_t)json_object_get_string_len(v);
	return REC_OK;
}

int
rec_json_double(json_object *v, const char *name, double *out)
{
	if (!json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int))
		return type_error(name, "a number", v);
	*out = json_object_get_double(v);
	if (!isfinite(*out))
		return loam_seterr("field '%s': number out of range", name);
	return REC_OK;
}

int
rec_json_int(json_object *v, const char *name, int64_t *out)
{
	double d;

	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
			return loam_seterr("field '%s': integer out of range: %llu",
			    name, (unsigned long long)json_object_get_uint64(v));
		*out = i;
		return REC_OK;
	}
	if (!json_object_is_type(v, json_type_double))
		return type_error(name, "an integer", v);
	d = json_object_get_double(v);
	/* 1e3 and 5.0 are integers written another way; 2.5 is not. */
	if (d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
		return type_error(name, "an integer", v);
	*out = (int64_t)d;
	return REC_OK;
}

/* A top-level number read from the line without the tree: 1 when
 * answered (*found set), 0 when the tree must. */
static int
number_from_line(struct rec *r, const char *key, double *d, int want_int, int64_t *i,
    int *found)
{
	const struct rec_field *f;
	int rc = line_field(r, key, &f), is_int;
	const char *p, *end;

	if (rc < 0)
		return 0;
	if (rc == 0) {
		*found = REC_ABSENT;
		return 1;
	}
	p = r->raw + f->value;
	if (!(*p == '-' || (*p >= '0' && *p <= '9')))
		return 0;		/* not a number: the tree says why */
	if (skip_number(p, 0, f->valuelen, &is_int) != f->valuelen)
		return 0;
	if (want_int) {
		char buf[32];

		if (is_int != 1 || f->valuelen >= sizeof buf)
			return 0;	/* 1e3, 2.5, 2^64-1: the tree's rules */
		memcpy(buf, p, f->valuelen);
		buf[f->valuelen] = '\0';
		errno = 0;
		long long v = strtoll(buf, NULL, 10);
		if (errno)
			return 0;
		*i = v;
	} else {
		*d = rec_strtod(p, &end);
		if (!isfinite(*d))
			return 0;
	}
	*found = REC_OK;
	return 1;
}

int
rec_get_key(struct rec *r, const char *key, char *num, const char **s, size_t *len)
{
	int64_t v;
	int rc = rec_get_str(r, key, s, len);

	if (rc == REC_OK)
		return 0;
	if (rc == REC_ABSENT)
		return rec_errorf(r, "field '%s' missing", key);
	if (rec_get_int(r, key, &v) == REC_OK) {
		*len = (size_t)snprintf(num, 24, "%lld", (long long)v);
		*s = num;
		return 0;
	}
	return rec_errorf(r, "field '%s': expected a string or an integer", key);
}

int
rec_get_double(struct rec *r, const char *key, double *out)
{
	json_object *v;
	int found;

	if (number_from_line(r, key, out, 0, NULL, &found))
		return found;
	found = lookup(r, key, &v);

	if (found != REC_OK)
		return found;
	return rec_json_double(v, key, out);
}

int
rec_get_int(struct rec *r, const char *key, int64_t *out)
{
	json_object *v;
	int found;

	if (number_from_line(r, key, NULL, 1, out, &found))
		return found;
	found = lookup(r, key, &v);

	if (found != REC_OK)
		return found;
	return rec_json_int(v, key, out);
}

int
rec_get_bool(struct rec *r, const char *key, int *out)
{
	json_object *v;
	int found = lookup(r, key, &v);

	if (found != REC_OK)
		return found;
	if (!json_object_is_type(v, json_type_boolean))
		return type_error(key, "true or false", v);
	*out = json_object_get_boolean(v);
	return REC_OK;
}

int
rec_get_object(struct rec *r, const char *key, json_object **out)
{
	json_object *v;
	int found = lookup(r, key, &v);

	if (found != REC_OK)
		return found;
	if (!json_object_is_type(v, json_type_object))
		return type_error(key, "an object", v);
	*out = v;
	return REC_OK;
}

/* Elements of a deferred array: the grammar was checked by the scan, so
 * commas separate exactly the numbers. */
static size_t
lazy_count(const struct rec_lazy *z)
{
	const char *p = z->owner->raw + z->off, *end = p + z->len;
	size_t n = 1;

	while ((p = memchr(p, ',', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

int
rec_get_array_len(struct rec *r, const char *key, size_t *n)
{
	json_object *v;
	struct rec_lazy *z;
	struct numbuf *nb;

	int found = lookup(r, key, &v);

	if (found != REC_OK)
		return found;
	if ((z = lazy_of(v)) != NULL)
		*n = lazy_count(z);
	else if ((nb = numbuf_of(v)) != NULL)
		*n = nb->n;
	else if (json_object_is_type(v, json_type_array))
		*n = json_object_array_length(v);
	else
		return type_error(key, "an array", v);
	return REC_OK;
}

/* Shared by rec_get_floats and rec_get_doubles: is_double picks buf's type. */
static int
get_numbers(struct rec *r, const char *key, void *buf, int is_double,
    size_t cap, size_t *n)
{
	json_object *v;
	struct rec_lazy *z;
	struct numbuf *nb;
	size_t count, i;
	double d;
	const struct rec_field *lf;

	/* An array of numbers read straight from the line, no tree (the
	 * scan checked the grammar; anything but numbers goes to the tree). */
	int line = line_field(r, key, &lf);
	if (line == 0)
		return REC_ABSENT;
	if (line == 1 && r->raw[lf->value] == '[') {
		const char *p = r->raw + lf->value + 1, *end = r->raw + lf->value + lf->valuelen;

		for (count = 0;; count++) {
			while (p < end && is_space(*p))
				p++;
			if (count == 0 && *p == ']')
				break;
			if (!(*p == '-' || (*p >= '0' && *p <= '9')))
				goto tree;
			if (count >= cap)
				goto tree;	/* the tree path counts and says so */
			const char *q;
			if (is_double) {
				d = rec_strtod(p, &q);
				((double *)buf)[count] = d;
			} else {
				float fl = rec_strtof(p, &q);
				((float *)buf)[count] = fl;
				d = fl;
			}
			if (!isfinite(d))
				goto tree;
			p = q;
			while (p < end && is_space(*p))
				p++;
			if (*p == ']') {
				count++;
				break;
			}
			if (*p != ',')
				goto tree;
			p++;
		}
		*n = count;
		return REC_OK;
	}
tree:;
	int found = lookup(r, key, &v);

	if (found != REC_OK)
		return found;
	if ((z = lazy_of(v)) != NULL) {
		const char *p = r->raw + z->off + 1, *end;

		count = lazy_count(z);
		if (count > cap)
			return loam_seterr("field '%s': %zu numbers, more than %zu",
			    key, count, cap);
		for (i = 0; i < count; i++) {
			while (is_space(*p) || *p == ',')
				p++;
			if (is_double) {
				d = rec_strtod(p, &end);
				((double *)buf)[i] = d;
			} else {
				float f = rec_strtof(p, &end);
				((float *)buf)[i] = f;
				d = f;
			}
			if (!isfinite(d))
				return loam_seterr("field '%s': element %zu out of range: %.*s",
				    key, i, (int)(end - p > 40 ? 40 : end - p), p);
			p = end;
		}
		*n = count;
		return REC_OK;
	}
	if ((nb = numbuf_of(v)) != NULL) {
		if (nb->n > cap)
			return loam_seterr("field '%s': %zu numbers, more than %zu",
			    key, nb->n, cap);
		for (i = 0; i < nb->n; i++) {
			d = nb->is_double ? nb->v.d[i] : nb->v.f[i];
			if (is_double)
				((double *)buf)[i] = d;
			else
				((float *)buf)[i] = (float)d;
		}
		*n = nb->n;
		return REC_OK;
	}
	if (!json_object_is_type(v, json_type_array))
		return type_error(key, "an array of numbers", v);
	count = json_object_array_length(v);
	if (count > cap)
		return loam_seterr("field '%s': %zu numbers, more than %zu", key, count, cap);
	for (i = 0; i < count; i++) {
		json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_double) &&
		    !json_object_is_type(e, json_type_int))
			return loam_seterr("field '%s': element %zu is not a number", key, i);
		d = json_object_get_double(e);
		if (is_double)
			((double *)buf)[i] = d;
		else {
			float f = (float)d;
			if (isfinite(d) && !isfinite(f))
				d = f;
			((float *)buf)[i] = f;
		}
		if (!isfinite(d))
			return loam_seterr("field '%s': element %zu out of range", key, i);
	}
	*n = count;
	return REC_OK;
}

int
rec_get_floats(struct rec *r, const char *key, float *buf, size_t cap, size_t *n)
{
	return get_numbers(r, key, buf, 0, cap, n);
}

int
rec_get_doubles(struct rec *r, const char *key, double *buf, size_t cap, size_t *n)
{
	return get_numbers(r, key, buf, 1, cap, n);
}

/* ---- setting ---- */

/* Position of key among the object's keys, or -1. */
static long
key_position(json_object *obj, const char *key)
{
	long i = 0;

	json_object_object_foreach(obj, k, val) {
		(void)val;
		if (strcmp(k, key) == 0)
			return i;
		i++;
	}
	return -1;
}

int
rec_set_json(struct rec *r, const char *key, json_object *v)
{
	long pos;

	if (!v)
		return -1;
	raw_added_spill(r);
	/* A field the line does not have can wait beside it: the tree is
	 * built only if the program looks into the record. */
	if (!r->obj && r->raw && r->nfields >= 0) {
		size_t keylen = strlen(key);
		int in_line = 0;

		for (int i = 0; i < r->nfields && !in_line; i++)
			in_line = r->fields[i].keylen == keylen &&
			    memcmp(r->raw + r->fields[i].key, key, keylen) == 0;
		if (!in_line) {
			if (!r->added)
				r->added = json_object_new_object();
			json_object_object_add(r->added, key, v);
			return 0;
		}
	}
	if (rec_tree(r) != 0) {
		json_object_put(v);
		return -1;
	}
	pos = key_position(r->obj, key);
	/* Replacing a key of the original line means the line can no longer
	 * be reused as it was. */
	if (pos >= 0 && (size_t)pos < r->nkeys_read)
		r->rewritten = 1;
	json_object_object_add(r->obj, key, v);
	return 0;
}

int
rec_del(struct rec *r, const char *key)
{
	long pos;

	if (rec_tree(r) != 0)
		return REC_BAD;
	pos = key_position(r->obj, key);
	if (pos < 0)
		return REC_ABSENT;
	if ((size_t)pos < r->nkeys_read) {
		r->rewritten = 1;
		r->nkeys_read--;
	}
	json_object_object_del(r->obj, key);
	return REC_OK;
}

json_object *
rec_json_new_double(double v)
{
	char buf[32];

	if (!isfinite(v)) {
		loam_seterr("%s is not a JSON number", isnan(v) ? "NaN" : "infinity");
		return NULL;
	}
	numfmt_double(buf, v);
	return json_object_new_double_s(v, buf);
}

json_object *
rec_json_new_float(float v)
{
	char buf[32];

	if (!isfinite(v)) {
		loam_seterr("%s is not a JSON number", isnan(v) ? "NaN" : "infinity");
		return NULL;
	}
	numfmt_float(buf, v);
	return json_object_new_double_s(v, buf);
}

int
rec_set_str(struct rec *r, const char *key, const char *s)
{
	return rec_set_json(r, key, json_object_new_string(s));
}

int
rec_set_int(struct rec *r, const char *key, int64_t v)
{
	return rec_set_json(r, key, json_object_new_int64(v));
}

int
rec_set_double(struct rec *r, const char *key, double v)
{
	json_object *j = rec_json_new_double(v);

	if (!j)
		return loam_seterr("field '%s': %s", key, loam_error());
	return rec_set_json(r, key, j);
}

int
rec_set_float(struct rec *r, const char *key, float v)
{
	json_object *j = rec_json_new_float(v);

	if (!j)
		return loam_seterr("field '%s': %s", key, loam_error());
	return rec_set_json(r, key, j);
}

int
rec_set_bool(struct rec *r, const char *key, int v)
{
	return rec_set_json(r, key, json_object_new_boolean(v != 0));
}

int
rec_set_null(struct rec *r, const char *key)
{
	/* json-c's null is a NULL pointer, which rec_set_json refuses. */
	long pos;

	if (rec_tree(r) != 0)
		return -1;
	pos = key_position(r->obj, key);
	if (pos >= 0 && (size_t)pos < r->nkeys_read)
		r->rewritten = 1;
	json_object_object_add(r->obj, key, NULL);
	return 0;
}

static int
set_numbers(struct rec *r, const char *key, const void *v, int is_double, size_t n)
{
	size_t size = is_double ? sizeof(double) : sizeof(float);
	struct numbuf *nb;
	json_object *stub;

	for (size_t i = 0; i < n; i++) {
		double d = is_double ? ((const double *)v)[i] : ((const float *)v)[i];
		if (!isfinite(d))
			return loam_seterr("field '%s': element %zu is %s, not a JSON number",
			    key, i, isnan(d) ? "NaN" : "infinite");
	}
	nb = xmalloc(offsetof(struct numbuf, v) + (n ? n : 1) * size);
	nb->kind = KIND_NUMBUF;
	nb->is_double = is_double;
	nb->n = n;
	if (n)
		memcpy(&nb->v, v, n * size);
	stub = json_object_new_array();
	json_object_set_serializer(stub, numbuf_to_json, nb, numbuf_delete);
	return rec_set_json(r, key, stub);
}


static int
rawtext_to_json(json_object *jso, struct printbuf *pb, int level, int flags)
{
	const struct rawtext *rt = json_object_get_userdata(jso);

	printbuf_memappend(pb, rt->text, (int)rt->len);
	return 0;
}

static void
rawtext_delete(json_object *jso, void *userdata)
{
	free(userdata);
}

static json_object *
rawtext_new(const char *json, size_t len)
{
	struct rawtext *rt = xmalloc(sizeof *rt + len);
	json_object *stub = json_object_new_object();

	rt->kind = KIND_RAWTEXT;
	rt->len = len;
	memcpy(rt->text, json, len);
	json_object_set_serializer(stub, rawtext_to_json, rt, rawtext_delete);
	return stub;
}

/* Move the raw added fields into r->added, in their order (they came
 * before anything in it: a raw field is only kept as text while r->added
 * is empty). */
static void
raw_added_spill(struct rec *r)
{
	if (r->nrawf == 0)
		return;
	if (!r->added)
		r->added = json_object_new_object();
	for (int i = 0; i < r->nrawf; i++)
		json_object_object_add(r->added, r->rawkeys + r->rawf[i].key,
		    rawtext_new(r->rawadd->buf + r->rawf[i].value, r->rawf[i].len));
	raw_added_reset(r);
}

static const unsigned char json_escape_needed[256];

/* Whether a key is written as it is between quotes. */
static int
plain_key(const char *key, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (json_escape_needed[(unsigned char)key[i]])
			return 0;
	return 1;
}

int
rec_set_raw(struct rec *r, const char *key, const char *json, size_t len)
{
	size_t keylen = strlen(key);
	int in_line = 0;

	/* The common case: a new field on a record read from a line whose
	 * tree nobody asked for.  Kept as output text. */
	if (!r->obj && r->raw && r->nfields >= 0 && !r->added && len < UINT32_MAX / 2 &&
	    raw_added_find(r, key) < 0) {
		for (int i = 0; i < r->nfields && !in_line; i++)
			in_line = r->fields[i].keylen == keylen &&
			    memcmp(r->raw + r->fields[i].key, key, keylen) == 0;
		if (!in_line && (!r->rawadd || (size_t)r->rawadd->bpos + len < UINT32_MAX / 2)) {
			struct rec_rawfield *f;

			if (!r->rawadd)
				r->rawadd = printbuf_new();
			if (r->nrawf == r->rawfcap) {
				r->rawfcap = r->rawfcap ? 2 * r->rawfcap : 8;
				r->rawf = xreallocarray(r->rawf, (size_t)r->rawfcap, sizeof *r->rawf);
			}
			if (r->rawkeyslen + keylen + 1 > r->rawkeyscap) {
				r->rawkeyscap = 2 * (r->rawkeyslen + keylen + 1) + 64;
				r->rawkeys = xrealloc(r->rawkeys, r->rawkeyscap);
			}
			f = &r->rawf[r->nrawf++];
			f->key = (uint32_t)r->rawkeyslen;
			memcpy(r->rawkeys + r->rawkeyslen, key, keylen + 1);
			r->rawkeyslen += keylen + 1;
			printbuf_memappend_fast(r->rawadd, ",", 1);
			if (plain_key(key, keylen)) {
				printbuf_memappend_fast(r->rawadd, "\"", 1);
				printbuf_memappend_fast(r->rawadd, key, (int)keylen);
				printbuf_memappend_fast(r->rawadd, "\":", 2);
			} else {
				rec_escape_string(r->rawadd, key, keylen);
				printbuf_memappend_fast(r->rawadd, ":", 1);
			}
			f->value = (uint32_t)r->rawadd->bpos;
			f->len = (uint32_t)len;
			printbuf_memappend_fast(r->rawadd, json, (int)len);
			return 0;
		}
	}
	return rec_set_json(r, key, rawtext_new(json, len));
}

int
rec_set_floats(struct rec *r, const char *key, const float *v, size_t n)
{
	return set_numbers(r, key, v, 0, n);
}

int
rec_set_doubles(struct rec *r, const char *key, const double *v, size_t n)
{
	return set_numbers(r, key, v, 1, n);
}

/* ---- writing ---- */

/* Bytes a JSON string must escape (the rest, UTF-8 included, is copied). */
static const unsigned char json_escape_needed[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
	[0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
	[0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
	[0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
	[0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
	[0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f] = 1,
};

/* Whether any of the 8 bytes at p needs escaping: a byte below 0x20, a
 * quote, a backslash or DEL (the classic SWAR zero-byte tests). */
static int
word_needs_escape(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t x, q, b, d;

	memcpy(&x, p, 8);
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	d = x ^ (ones * 0x7f);
	return ((((x - ones * 0x20) & ~x) |
	    ((q - ones) & ~q) | ((b - ones) & ~b) | ((d - ones) & ~d)) & highs) != 0;
}

void
rec_escape_string(struct printbuf *pb, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start;
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

	printbuf_memappend(pb, "\"", 1);
	for (;;) {
		/* Copy the longest run that needs no escape in one go; skip
		 * eight plain bytes at a time while they last. */
		start = i;
		while (i + 8 <= len && !word_needs_escape(u + i))
			i += 8;
		while (i < len && !json_escape_needed[u[i]])
			i++;
		if (i > start)
			printbuf_memappend(pb, s + start, (int)(i - start));
		if (i >= len)
			break;
		switch (u[i]) {
		case '"': printbuf_memappend(pb, "\\\"", 2); break;
		case '\\': printbuf_memappend(pb, "\\\\", 2); break;
		case '\n': printbuf_memappend(pb, "\\n", 2); break;
		case '\r': printbuf_memappend(pb, "\\r", 2); break;
		case '\t': printbuf_memappend(pb, "\\t", 2); break;
		case '\b': printbuf_memappend(pb, "\\b", 2); break;
		case '\f': printbuf_memappend(pb, "\\f", 2); break;
		default:
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 15];
			printbuf_memappend(pb, esc, 6);
		}
		i++;
	}
	printbuf_memappend(pb, "\"", 1);
}

/* Append a value's JSON text; integers directly, as json-c would print
 * them but without its printf. */
static void
append_value(struct printbuf *pb, json_object *v)
{
	char digits[24], *d = digits + sizeof digits;
	const char *text;
	uint64_t u;
	int neg = 0;

	if (!v) {
		printbuf_memappend(pb, "null", 4);
		return;
	}
	if (!json_object_is_type(v, json_type_int)) {
		text = json_object_to_json_string_ext(v, JSON_OUT_FLAGS);
		printbuf_memappend(pb, text, (int)strlen(text));
		return;
	}
	if (json_object_get_int64(v) < 0) {
		neg = 1;
		u = 0 - (uint64_t)json_object_get_int64(v);
	} else
		u = json_object_get_uint64(v);
	do
		*--d = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (neg)
		*--d = '-';
	printbuf_memappend(pb, d, (int)(digits + sizeof digits - d));
}

/* Append the line to pb without whitespace outside strings. */
static void
append_compact(struct printbuf *pb, const char *s, size_t n)
{
	size_t i = 0, start = 0;

	while (i < n) {
		if (s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			i++;
		} else if (is_space(s[i])) {
			printbuf_memappend(pb, s + start, (int)(i - start));
			while (i < n && is_space(s[i]))
				i++;
			start = i;
		} else
			i++;
	}
	printbuf_memappend(pb, s + start, (int)(n - start));
}

const char *
rec_to_string(struct rec *r, size_t *len)
{
	size_t nkeys, i = 0;
	int first;

	if (r->raw && !r->rewritten) {
		nkeys = r->obj ? (size_t)json_object_object_length(r->obj) : 0;
		if (r->raw_compact && !r->added && !r->nrawf &&
		    (!r->obj || nkeys == r->nkeys_read)) {
			*len = r->rawlen;
			return r->raw;
		}
		/* The line, compacted if need be, with the added fields spliced
		 * in before its closing brace. */
		if (!r->out)
			r->out = printbuf_new();
		printbuf_reset(r->out);
		if (r->raw_compact)
			printbuf_memappend(r->out, r->raw, (int)r->rawlen);
		else
			append_compact(r->out, r->raw, r->rawlen);
		if ((r->obj && nkeys > r->nkeys_read) || (!r->obj && r->added)) {
			json_object *from = r->obj ? r->obj : r->added;
			size_t skip = r->obj ? r->nkeys_read : 0;

			r->out->bpos--;		/* the closing brace */
			/* An empty line object "{}" takes no comma first. */
			first = r->obj ? r->nkeys_read == 0 : r->nkeys_scanned == 0;
			json_object_object_foreach(from, k, v) {
				if (i++ < skip)
					continue;
				if (!first)
					printbuf_memappend(r->out, ",", 1);
				first = 0;
				rec_escape_string(r->out, k, strlen(k));
				printbuf_memappend(r->out, ":", 1);
				append_value(r->out, v);
			}
			printbuf_memappend(r->out, "}", 1);
		} else if (r->nrawf) {
			/* Raw added fields (no tree, no r->added): their text,
			 * without its first comma when the object was "{}". */
			int skip = r->nkeys_scanned == 0;

			r->out->bpos--;
			printbuf_memappend(r->out, r->rawadd->buf + skip, r->rawadd->bpos - skip);
			printbuf_memappend(r->out, "}", 1);
		}
		*len = (size_t)printbuf_length(r->out);
		return r->out->buf;
	}
	return json_object_to_json_string_length(r->obj, JSON_OUT_FLAGS, len);
}

int
rec_write(struct rec *r, FILE *fp)
{
	size_t len;
	const char *s = rec_to_string(r, &len);

	errno = 0;
	if (fwrite(s, 1, len, fp) != len || putc('\n', fp) == EOF)
		return loam_seterr("write error: %s", strerror(errno ? errno : EIO));
	return 0;
}
