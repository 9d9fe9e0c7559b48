/*
 * recw - the record writer: every JSON text a loam command writes.
 *
 * A command builds each output record field by field and ends it; the
 * writer spells everything: keys and strings escaped as rec's reader
 * expects (rec_escape_string), integers exactly, and numbers by the one
 * rule of the suite (loam-records(5)): a double as the shortest decimal
 * that reads back as the same double, a float32 as the shortest that
 * reads back as the same float (numfmt.h), in %.17g's layout.  NaN and
 * infinities are not JSON: the writer refuses them, and the record ends
 * in an error that names the field ("field 'loss': NaN is not a JSON
 * number") instead of a line no reader takes.  jq's jv printer is the
 * model: values go straight to text, no tree.
 *
 *	struct recw w;
 *	recw_init(&w, fp, "out.jsonl");
 *	recw_begin(&w);
 *	recw_str(&w, "id", "a1");
 *	recw_double(&w, "score", 0.25);
 *	recw_array(&w, "bins");
 *	for (i = 0; i < n; i++)
 *		recw_int(&w, NULL, bin[i]);
 *	recw_close(&w);
 *	if (recw_end(&w) != 0)
 *		die("%s", loam_error());
 *	...
 *	recw_release(&w);
 *
 * Inside an array, keys are NULL.  A record read by rec (edited with
 * rec_set_* or not) goes out with recw_rec().  Write errors end the
 * program through cli_write_failed() (quietly on EPIPE).
 *
 * Value mode: recw_begin_value() instead of recw_begin() renders one
 * value (key NULL) into the buffer, for rec_set_raw(): recw_text() gives
 * it, and nothing is written to the stream.
 */
#ifndef LOAM_RECW_H
#define LOAM_RECW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct printbuf;
struct rec;

#define RECW_DEPTH 32

struct recw {
	FILE *fp;
	const char *name;	/* the output, for write errors */
	struct printbuf *pb;	/* the record being built, owned */
	int depth;		/* open objects and arrays, the record's own included */
	unsigned char first[RECW_DEPTH];	/* no member written yet at this depth */
	unsigned char is_array[RECW_DEPTH];
	int value_mode;
	int unbuffered;		/* flush after every record (coprocess use) */
	char bad_key[64];	/* the first field refused, for the message */
	const char *bad_what;	/* why; NULL while all is well */
};

/* Write to fp, called name in messages (NULL: "stdout"). */
void recw_init(struct recw *w, FILE *fp, const char *name);
void recw_release(struct recw *w);

/* Start a record ("{"). */
void recw_begin(struct recw *w);
/* End it ("}" and a newline) and write it.  0, or -1 with loam_seterr()
 * when a field was refused (nothing is written then). */
int recw_end(struct recw *w);

/* Fields (key NULL inside an array). */
void recw_str(struct recw *w, const char *key, const char *s);
void recw_strn(struct recw *w, const char *key, const char *s, size_t len);
void recw_int(struct recw *w, const char *key, int64_t v);
void recw_uint(struct recw *w, const char *key, uint64_t v);
void recw_double(struct recw *w, const char *key, double v);
void recw_float(struct recw *w, const char *key, float v);
void recw_bool(struct recw *w, const char *key, int v);
void recw_null(struct recw *w, const char *key);
/* JSON text the caller vouches for (a value read from a record). */
void recw_raw(struct recw *w, const char *key, const char *json, size_t len);
/* Arrays of numbers in one call. */
void recw_doubles(struct recw *w, const char *key, const double *v, size_t n);
void recw_floats(struct recw *w, const char *key, const float *v, size_t n);
void recw_ints(struct recw *w, const char *key, const int64_t *v, size_t n);
void recw_uints(struct recw *w, const char *key, const uint64_t *v, size_t n);

/* Open a nested object or array; recw_close() ends the innermost. */
void recw_object(struct recw *w, const char *key);
void recw_array(struct recw *w, const char *key);
void recw_close(struct recw *w);

/* Write a record read by rec (with its edits) and a newline. */
void recw_rec(struct recw *w, struct rec *r);

/* Value mode (see above). */
void recw_begin_value(struct recw *w);
/* The value's text, borrowed until the next call; NULL with loam_seterr()
 * when a number was refused. */
const char *recw_text(struct recw *w, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
