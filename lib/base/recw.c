/* recw - see recw.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/printbuf.h>

#include "cli.h"
#include "numfmt.h"
#include "rec.h"
#include "recw.h"

void
recw_init(struct recw *w, FILE *fp, const char *name)
{
	memset(w, 0, sizeof *w);
	w->fp = fp;
	w->name = name ? name : "stdout";
	if (!(w->pb = printbuf_new()))
		die("out of memory");
}

void
recw_release(struct recw *w)
{
	if (w->pb)
		printbuf_free(w->pb);
	w->pb = NULL;
}

static void
start(struct recw *w, int value_mode)
{
	printbuf_reset(w->pb);
	w->depth = 0;
	w->value_mode = value_mode;
	w->bad_what = NULL;
	w->bad_key[0] = '\0';
}

void
recw_begin(struct recw *w)
{
	start(w, 0);
	printbuf_memappend(w->pb, "{", 1);
	w->first[0] = 1;
	w->is_array[0] = 0;
	w->depth = 1;
}

void
recw_begin_value(struct recw *w)
{
	start(w, 1);
}

/* The separator and the key before a member; value mode's lone value
 * (depth 0) has neither. */
static void
member(struct recw *w, const char *key)
{
	int d = w->depth - 1;

	if (d < 0)
		return;
	if (!w->first[d])
		printbuf_memappend(w->pb, ",", 1);
	w->first[d] = 0;
	if (!w->is_array[d]) {
		rec_escape_string(w->pb, key ? key : "", key ? strlen(key) : 0);
		printbuf_memappend(w->pb, ":", 1);
	}
}

static void
refuse(struct recw *w, const char *key, const char *what)
{
	if (w->bad_what)
		return;
	w->bad_what = what;
	snprintf(w->bad_key, sizeof w->bad_key, "%s", key ? key : "(array element)");
}

/* A number's text, or "null" held in place of a refused one. */
static void
number(struct recw *w, const char *key, const char *text, size_t len)
{
	member(w, key);
	printbuf_memappend(w->pb, text, (int)len);
}

void
recw_str(struct recw *w, const char *key, const char *s)
{
	recw_strn(w, key, s, strlen(s));
}

void
recw_strn(struct recw *w, const char *key, const char *s, size_t len)
{
	member(w, key);
	rec_escape_string(w->pb, s, len);
}

void
recw_int(struct recw *w, const char *key, int64_t v)
{
	char buf[NUMFMT_INT_MAX];

	number(w, key, buf, numfmt_int64(buf, v));
}

void
recw_uint(struct recw *w, const char *key, uint64_t v)
{
	char buf[NUMFMT_INT_MAX];

	number(w, key, buf, numfmt_uint64(buf, v));
}

void
recw_double(struct recw *w, const char *key, double v)
{
	char buf[NUMFMT_DOUBLE_MAX];

	if (!isfinite(v)) {
		refuse(w, key, isnan(v) ? "NaN" : "infinity");
		number(w, key, "null", 4);
		return;
	}
	number(w, key, buf, numfmt_double(buf, v));
}

void
recw_float(struct recw *w, const char *key, float v)
{
	char buf[NUMFMT_DOUBLE_MAX];

	if (!isfinite(v)) {
		refuse(w, key, isnan(v) ? "NaN" : "infinity");
		number(w, key, "null", 4);
		return;
	}
	number(w, key, buf, numfmt_float(buf, v));
}

void
recw_bool(struct recw *w, const char *key, int v)
{
	number(w, key, v ? "true" : "false", v ? 4 : 5);
}

void
recw_null(struct recw *w, const char *key)
{
	number(w, key, "null", 4);
}

void
recw_raw(struct recw *w, const char *key, const char *json, size_t len)
{
	number(w, key, json, len);
}

static void
open_nested(struct recw *w, const char *key, int array)
{
	member(w, key);
	if (w->depth >= RECW_DEPTH)
		die("recw: nesting deeper than %d", RECW_DEPTH);
	printbuf_memappend(w->pb, array ? "[" : "{", 1);
	w->first[w->depth] = 1;
	w->is_array[w->depth] = (unsigned char)array;
	w->depth++;
}

void
recw_object(struct recw *w, const char *key)
{
	open_nested(w, key, 0);
}

void
recw_array(struct recw *w, const char *key)
{
	open_nested(w, key, 1);
}

void
recw_close(struct recw *w)
{
	if (w->depth <= (w->value_mode ? 0 : 1))
		die("recw: recw_close without an open object or array");
	w->depth--;
	printbuf_memappend(w->pb, w->is_array[w->depth] ? "]" : "}", 1);
}

void
recw_doubles(struct recw *w, const char *key, const double *v, size_t n)
{
	recw_array(w, key);
	for (size_t i = 0; i < n; i++)
		recw_double(w, NULL, v[i]);
	recw_close(w);
}

void
recw_floats(struct recw *w, const char *key, const float *v, size_t n)
{
	recw_array(w, key);
	for (size_t i = 0; i < n; i++)
		recw_float(w, NULL, v[i]);
	recw_close(w);
}

void
recw_ints(struct recw *w, const char *key, const int64_t *v, size_t n)
{
	recw_array(w, key);
	for (size_t i = 0; i < n; i++)
		recw_int(w, NULL, v[i]);
	recw_close(w);
}

void
recw_uints(struct recw *w, const char *key, const uint64_t *v, size_t n)
{
	recw_array(w, key);
	for (size_t i = 0; i < n; i++)
		recw_uint(w, NULL, v[i]);
	recw_close(w);
}

static int
refused(struct recw *w)
{
	if (!w->bad_what)
		return 0;
	loam_seterr("field '%s': %s is not a JSON number", w->bad_key, w->bad_what);
	return -1;
}

static void
put(struct recw *w, const char *s, size_t n)
{
	if (fwrite(s, 1, n, w->fp) != n || putc('\n', w->fp) == EOF ||
	    (w->unbuffered && fflush(w->fp) != 0))
		cli_write_failed(w->name);
}

int
recw_end(struct recw *w)
{
	if (w->value_mode || w->depth != 1)
		die("recw: recw_end with %d object(s) or array(s) open", w->depth - 1);
	printbuf_memappend(w->pb, "}", 1);
	w->depth = 0;
	if (refused(w) != 0)
		return -1;
	put(w, w->pb->buf, (size_t)w->pb->bpos);
	return 0;
}

void
recw_rec(struct recw *w, struct rec *r)
{
	size_t len;
	const char *s = rec_to_string(r, &len);

	if (!s)
		die("%s: %s", rec_where(r), loam_error());
	put(w, s, len);
}

const char *
recw_text(struct recw *w, size_t *len)
{
	if (!w->value_mode || w->depth != 0)
		die("recw: recw_text outside value mode or with an array open");
	if (refused(w) != 0)
		return NULL;
	if (len)
		*len = (size_t)w->pb->bpos;
	return w->pb->buf;
}
