/*
 * rec - JSON Lines records: reading, typed field access, writing.
 *
 * A record is one JSON object on one line (see loam-records(5)).  The
 * reader owns the record it returns: `rec_next()` hands out a record that
 * is borrowed until the next call or until rec_reader_close().  Strings
 * and objects obtained from a record are borrowed from it likewise.
 * Records made with rec_new() belong to the caller (rec_free()).
 *
 * Fields a program does not touch pass through unchanged.  When a record
 * read from a compact line is written after only *adding* fields, the
 * original line is written byte for byte with the new fields spliced in
 * before its closing brace; after a field was replaced or deleted, the
 * record is serialised by json-c (same values, compact, keys in their
 * original order, "/" unescaped, non-ASCII kept as UTF-8).
 *
 * How, and why (measurements on the 2-core development VM; make bench).
 * json-c 0.16 holds the record tree: research/ecosystem.md §2 found it
 * 2.3x faster than jansson in strict mode and exact on int64, where cJSON
 * corrupts integers above 2^53 and accepts invalid UTF-8.  But json-c's
 * own parser costs ~1.1 us on a 94-byte record (it also switches locale
 * on every call), so reading is split in two:
 *  - every line goes through our validating scan (RFC 8259, UTF-8, the
 *    checks below): 405 MB/s for validate + re-emit, 14.6x `jq -c .`;
 *  - top-level strings, numbers and short numeric arrays are read from
 *    the scan's field table, and new fields are kept beside the line and
 *    spliced in on output, so a stage that reads a few fields and adds
 *    some never builds a tree: 248 MB/s for validate + add a field +
 *    re-emit, 13.1x `jq -c '.k=1'`;
 *  - otherwise the json-c tree is built on first use by a builder that
 *    walks the validated text and calls json-c's constructors: parse to
 *    tree + replace a field + re-emit runs 77 MB/s, 4.0x `jq -c '.id=1'`
 *    (json-c's own tokener was ~1.6x slower on the tree build).
 *    rec_parse_reference() builds the tree with json-c's tokener instead;
 *    the tests compare the two.
 * A top-level array of numbers longer than REC_LAZY_MIN bytes (embeddings,
 * progress vectors) never enters the tree: the scan checks its grammar,
 * the tree holds a stub that prints the original text, and the numbers are
 * converted only when asked for, into the caller's buffer, by an exact
 * Clinger fast path (rec_strtof/rec_strtod, equal to libc's): 1024-float
 * records parse at 298 MB/s, 4.6x json-c's element walk (65 MB/s).
 *
 * Strictness beyond json-c's strict mode, checked by the same scan: NaN
 * and Infinity are rejected, and so are integers outside
 * [-2^63, 2^64-1] (json-c would silently saturate them).  Blank lines are
 * skipped; a trailing CR is ignored; a missing final newline is accepted.
 * Duplicate keys: the last one wins (as json-c).
 *
 * Errors: functions return -1 (or REC_BAD) after loam_seterr(); messages
 * from rec_next() and rec_errorf() begin with "file:line: " (and a column
 * when the parser gives one).
 */
#ifndef LOAM_REC_H
#define LOAM_REC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Arrays of numbers at least this long (bytes of text) take the lazy path. */
#define REC_LAZY_MIN 64
/* At most this many lazy arrays per record; further ones go to json-c. */
#define REC_LAZY_MAX 16

/* Field lookup results. */
enum { REC_OK = 0, REC_ABSENT = 1, REC_BAD = -1 };

struct rec_lazy {
	int kind;		/* tells rec.c's serialiser data apart */
	const char *key;	/* into the reader's line buffer, not NUL-ended */
	size_t keylen;
	size_t off, len;	/* the array's text: raw[off, off + len) */
	json_object *stub;	/* the "[]" json-c holds in its place, or NULL
				   once the field was replaced or deleted */
	struct rec *owner;
};

/* Top-level fields the scan saw, for answers without the tree. */
#define REC_FIELDS_MAX 32
struct rec_field {
	uint32_t key, keylen;		/* the key's text in raw (no quotes) */
	uint32_t value, valuelen;	/* the value's text in raw */
};

struct rec {
	json_object *obj;	/* the tree, owned; NULL until first needed */
	json_object *added;	/* fields set while there was no tree, owned */
	const char *file;	/* for messages: "<stdin>" or the path */
	unsigned long line;	/* 1-based line number, 0 for a new record */
	/* Pass-through state (records read from a line only). */
	const char *raw;	/* the line, without newline */
	size_t rawlen;
	int raw_compact;	/* no whitespace outside strings */
	int rewritten;		/* a field was replaced or deleted */
	size_t nkeys_read;	/* keys the line had; later ones were added */
	struct rec_lazy lazy[REC_LAZY_MAX];
	int nlazy;
	size_t nkeys_scanned;	/* top-level keys the scan counted */
	struct rec_field fields[REC_FIELDS_MAX];
	int nfields;		/* -1: not usable for this record */
	char *strbuf;		/* rec_get_str's copies without a tree, owned */
	size_t strcap;
	int strbuf_ready;	/* strbuf holds rawlen + 1 bytes for this line */
	char *own_raw;		/* rec_parse's copy of the line, owned */
	/* The json-c tree is built on first access (rec_tree in rec.c). */
	json_tokener *tok;	/* owned; only for rec_parse_reference() */
	int by_tokener;
	char *parse;		/* scratch for building the tree, owned */
	size_t parsecap;
	struct printbuf *out;	/* rec_to_string's buffer, owned */
	/* Fields added with rec_set_raw while there was neither a tree nor
	 * r->added: their output text ",\"key\":value..." ready to splice
	 * in, no json-c object per field.  Anything else that touches the
	 * record's added fields first moves them into r->added. */
	struct printbuf *rawadd;	/* owned */
	char *rawkeys;			/* the keys, each NUL-ended, owned */
	size_t rawkeyslen, rawkeyscap;
	struct rec_rawfield {
		uint32_t key;		/* into rawkeys */
		uint32_t value, len;	/* the value's text in rawadd */
	} *rawf;			/* owned */
	int nrawf, rawfcap;
};

/* The longest line a reader takes by default (bytes, newline excluded):
 * a longer one is an error that names file:line, found before more than
 * this much memory goes to it.  A reader's max_line may be set after
 * opening it, up to REC_LINE_HARD_MAX. */
#define REC_LINE_MAX ((size_t)1 << 30)
#define REC_LINE_HARD_MAX ((size_t)INT32_MAX)

/* The reader's input buffer (bytes): lines are found and returned in it,
 * and it grows only for a line longer than this, up to max_line. */
#define REC_READ_BUF ((size_t)64 << 10)

struct rec_reader {
	FILE *fp;
	const char *name;	/* "<stdin>" or the path (borrowed) */
	int close_fp;
	int fd;			/* fp's descriptor, read with read(2); -1: fread */
	char *buf;		/* the input, owned; bufcap + 1 bytes */
	size_t bufcap;
	size_t pos, end;	/* the input not yet taken is buf[pos, end) */
	int eof;
	int error;		/* the last rec_next() failed on a read error */
	unsigned long lineno;
	size_t max_line;	/* REC_LINE_MAX unless the caller sets it */
	int skip_rest;		/* a bad line was left before its newline */
	/* Compressed input (zio.h): sniffed on the first fill. */
	int sniffed;
	struct zio_in *z;
	unsigned char *zbuf;	/* compressed bytes read, zbuf[zpos, zend) not yet used */
	size_t zpos, zend;
	struct rec rec;
};

/* 1 when s[0..n) is valid UTF-8 (no overlong forms, surrogates or code
 * points past U+10FFFF), as every string in a record must be: for text
 * that reaches a record from elsewhere (a names file, an argument). */
int rec_utf8_valid(const char *s, size_t n);

/* Open path for reading ("-" or NULL: stdin, shown as "<stdin>").
 * Returns -1 with "path: strerror" on failure. */
int rec_reader_open(struct rec_reader *rd, const char *path);
/* Read from an open stream shown as name; the stream stays the caller's.
 * The reader reads ahead into its own buffer, from the stream's descriptor
 * when it has one (read(2) returns a pipe's line as soon as it is there,
 * where fread would wait for a full buffer), so nothing else may read the
 * stream while the reader is open, nor take up where it left off. */
void rec_reader_init(struct rec_reader *rd, FILE *fp, const char *name);
void rec_reader_close(struct rec_reader *rd);

/* Next record: 1 and *out set, 0 at end of input, -1 on a bad line (the
 * message names file:line) or a read error (then rd->error is set).
 * After a bad line the reader can go on with the next one (--skip-bad).
 * A line is checked as it is read: a NUL byte, a first byte that cannot
 * begin a record, or more than max_line bytes end it there, so that
 * /dev/zero or a runaway line costs neither unbounded memory nor time
 * before the error; the rest of such a line is skipped on the next call. */
int rec_next(struct rec_reader *rd, struct rec **out);

/* Parse one line (no newline) into a fresh caller-owned record; file and
 * line are for messages.  NULL and loam_seterr() on a bad line. */
struct rec *rec_parse(const char *text, size_t len, const char *file, unsigned long line);

/* rec_parse(), but the tree is built by json-c's own parser rather than
 * from the scan: the plain reference the tests compare the builder to. */
struct rec *rec_parse_reference(const char *text, size_t len);

/* A new empty record, owned by the caller. */
struct rec *rec_new(void);
void rec_free(struct rec *r);

/* "file:line" of a record, for messages; "" for a new record. */
const char *rec_where(const struct rec *r);
/* loam_seterr("file:line: " fmt, ...); returns -1. */
int rec_errorf(const struct rec *r, const char *fmt, ...) LOAM_PRINTF(2, 3);

/*
 * Typed access to top-level fields.  Each returns REC_OK, REC_ABSENT when
 * the key is missing (a JSON null counts as present, and is a type error
 * for every getter but rec_get), or REC_BAD with a message such as
 * "field 'loss': expected a number, got \"abc\"" (no file:line; add it
 * with rec_errorf(r, "%s", loam_error())).
 */
/* Any value, borrowed from the record. */
int rec_get(struct rec *r, const char *key, json_object **out);
/* Borrowed string (NUL-ended; *len may be NULL). */
int rec_get_str(struct rec *r, const char *key, const char **s, size_t *len);
/* A grouping key: a string, or an integer's digits (written into num,
 * room for 24).  0, or -1 after rec_errorf (missing, or another type). */
int rec_get_key(struct rec *r, const char *key, char *num, const char **s, size_t *len);
int rec_get_double(struct rec *r, const char *key, double *out);
/* Integers: a JSON integer, or a number with an integral value in range. */
int rec_get_int(struct rec *r, const char *key, int64_t *out);
int rec_get_bool(struct rec *r, const char *key, int *out);
/* A nested object, borrowed; read it with the rec_json_* helpers. */
int rec_get_object(struct rec *r, const char *key, json_object **out);
/* An array of numbers into the caller's buffer of cap elements; *n gets
 * the array's length.  More than cap elements is REC_BAD, so a caller that
 * does not know the length asks rec_get_array_len() first. */
int rec_get_floats(struct rec *r, const char *key, float *buf, size_t cap, size_t *n);
int rec_get_doubles(struct rec *r, const char *key, double *buf, size_t cap, size_t *n);
int rec_get_array_len(struct rec *r, const char *key, size_t *n);

/* The same conversions for a value already in hand (a nested field);
 * name is used in messages. */
int rec_json_double(json_object *v, const char *name, double *out);
int rec_json_int(json_object *v, const char *name, int64_t *out);

/*
 * Setting fields: a new key is appended, an existing key is replaced in
 * place.  -1 for a non-finite number (NaN and infinities are not JSON).
 * Numbers print by the suite's one rule (numfmt.h, loam-records(5)):
 * doubles as the shortest decimal that reads back as the same double,
 * floats as the shortest that reads back as the same float.
 */
int rec_set_str(struct rec *r, const char *key, const char *s);
int rec_set_int(struct rec *r, const char *key, int64_t v);
int rec_set_double(struct rec *r, const char *key, double v);
int rec_set_float(struct rec *r, const char *key, float v);
int rec_set_bool(struct rec *r, const char *key, int v);
int rec_set_null(struct rec *r, const char *key);
int rec_set_floats(struct rec *r, const char *key, const float *v, size_t n);
int rec_set_doubles(struct rec *r, const char *key, const double *v, size_t n);
/* A value given as JSON text the caller has rendered and vouches for
 * (written as it is; read back through rec_get parses it).  For writers
 * that build values faster than json-c objects: a new field added to a
 * record read from a line, before anything built its tree, costs no
 * json-c object and no allocation once the record's buffers have grown. */
int rec_set_raw(struct rec *r, const char *key, const char *json, size_t len);
/* Takes ownership of v (one reference). */
int rec_set_json(struct rec *r, const char *key, json_object *v);
/* Remove a field; REC_ABSENT if it was not there. */
int rec_del(struct rec *r, const char *key);

/* json-c values for building nested fields; -1 (NULL) for non-finite. */
json_object *rec_json_new_double(double v);
json_object *rec_json_new_float(float v);

/* The record as one compact line without the newline; borrowed until the
 * next call or change.  NULL on failure (never for valid records). */
const char *rec_to_string(struct rec *r, size_t *len);
/* Write the record and a newline; -1 with loam_seterr() on a write error
 * (cli_write_failed() turns it into the right exit). */
int rec_write(struct rec *r, FILE *fp);

/* Decimal text (JSON number grammar) to binary, exactly as strtod and
 * strtof round, but several times faster on the short decimals numeric
 * arrays hold (Clinger's fast path, libc otherwise). */
double rec_strtod(const char *p, const char **end);
float rec_strtof(const char *p, const char **end);

/* Append s as a JSON string literal (quotes included) to buf. */
struct printbuf;
void rec_escape_string(struct printbuf *pb, const char *s, size_t len);

#ifdef __cplusplus
}
#endif

#endif
