/* rec_test - unit tests for lib/rec (TAP). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rec.h"
#include "tap.h"

/* Read all records of text through a reader; returns the reader's last
 * rec_next() result and leaves the record in *r. */
static FILE *
memfile(const char *text, size_t len)
{
	FILE *fp = fmemopen((void *)text, len, "r");

	if (!fp) {
		perror("fmemopen");
		exit(2);
	}
	return fp;
}

static const char *
line_of(struct rec *r)
{
	size_t len;
	static char buf[65536];
	const char *s = rec_to_string(r, &len);

	snprintf(buf, sizeof buf, "%.*s", (int)len, s);
	return buf;
}

static void
test_passthrough(void)
{
	const char *in = "{\"id\":7,\"text\":\"a\\/b \\u00e9\\\"q\\\" \xf0\x9f\x98\x80\",\"x\":1.50,\"n\":null,\"o\":{\"k\":[1,{\"z\":true}]}}";
	struct rec *r = rec_parse(in, strlen(in), "t", 1);
	size_t len;

	ok(r != NULL, "parse a record with escapes, emoji and nesting");
	is_str(line_of(r), in, "unchanged record is re-emitted byte for byte");
	rec_set_int(r, "added", 42);
	rec_set_str(r, "s", "tab\there");
	{
		char want[512];
		snprintf(want, sizeof want, "%.*s,\"added\":42,\"s\":\"tab\\there\"}",
		    (int)strlen(in) - 1, in);
		is_str(line_of(r), want, "added fields are spliced before the brace");
	}
	rec_set_int(r, "added", 43);
	ok(strstr(line_of(r), "\"added\":43") && strstr(line_of(r), "a\\/b"),
	    "replacing an added field keeps the original text");
	rec_set_int(r, "id", 8);
	is_str(line_of(r),
	    "{\"id\":8,\"text\":\"a/b \xc3\xa9\\\"q\\\" \xf0\x9f\x98\x80\",\"x\":1.50,\"n\":null,\"o\":{\"k\":[1,{\"z\":true}]},\"added\":43,\"s\":\"tab\\there\"}",
	    "replacing an original field re-serialises: same values, order kept, UTF-8 kept, 1.50 kept");
	(void)len;
	rec_free(r);

	in = "{ \"a\" : 1 ,\"b\":[ 1, 2 ] }";
	r = rec_parse(in, strlen(in), "t", 1);
	is_str(line_of(r), "{\"a\":1,\"b\":[1,2]}", "non-compact input is written compact");
	rec_set_bool(r, "c", 1);
	is_str(line_of(r), "{\"a\":1,\"b\":[1,2],\"c\":true}", "and added fields follow");
	rec_free(r);

	in = "{}";
	r = rec_parse(in, 2, "t", 1);
	rec_set_null(r, "z");
	is_str(line_of(r), "{\"z\":null}", "adding to an empty object");
	rec_set_int(r, "lo", INT64_MIN);
	rec_set_int(r, "zero", 0);
	rec_set_int(r, "neg", -42);
	rec_set_json(r, "hi", json_object_new_uint64(UINT64_MAX));
	is_str(line_of(r), "{\"z\":null,\"lo\":-9223372036854775808,\"zero\":0,"
	    "\"neg\":-42,\"hi\":18446744073709551615}", "added integers print exactly");
	rec_free(r);

	in = "{\"a\":1,\"b\":2}";
	r = rec_parse(in, strlen(in), "t", 1);
	is_int(rec_del(r, "a"), REC_OK, "delete present field");
	is_int(rec_del(r, "q"), REC_ABSENT, "delete absent field");
	rec_set_int(r, "c", 3);
	is_str(line_of(r), "{\"b\":2,\"c\":3}", "delete then add");
	rec_free(r);
}

static void
test_strings(void)
{
	/* Every control character, quote, backslash, DEL, and UTF-8 survive a
	 * write and a read. */
	char s[200];
	int n = 0;
	struct rec *r = rec_new(), *back;
	const char *got;
	size_t len;

	for (int c = 1; c < 0x20; c++)
		s[n++] = (char)c;
	{
		static const char tail[] = "\"\\/\x7f \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
		memcpy(s + n, tail, sizeof tail - 1);
		n += sizeof tail - 1;
	}
	s[n] = '\0';
	rec_set_str(r, "s", s);
	got = rec_to_string(r, &len);
	ok(memchr(got, '\n', len) == NULL && memchr(got, '\t', len) == NULL,
	    "no raw control characters in output");
	ok(strstr(got, "\\u0001") && strstr(got, "\\n") && strstr(got, "\\\""),
	    "control characters and quotes escaped");
	ok(strstr(got, "\xe2\x82\xac") != NULL, "non-ASCII kept as UTF-8");
	back = rec_parse(got, len, "t", 1);
	ok(back != NULL, "escaped output parses");
	{
		const char *s2 = NULL;
		size_t l2 = 0;
		rec_get_str(back, "s", &s2, &l2);
		ok(s2 && l2 == (size_t)n && memcmp(s2, s, n) == 0, "string round-trips exactly");
	}
	rec_free(back);
	rec_free(r);

	{
		/* The word-at-a-time escaper against a byte-at-a-time one. */
		static const char pool[] = "ab \"\\\x01\x1f\x7f\x80\xc3\xa9/\n\t~ ";
		struct printbuf *fast = printbuf_new(), *slow = printbuf_new();
		char str[64];
		int bad = 0;
		unsigned x = 99;

		for (int it = 0; it < 20000; it++) {
			size_t slen = (size_t)(it % 41);
			for (size_t k = 0; k < slen; k++) {
				x = x * 1103515245u + 12345u;
				str[k] = pool[(x >> 16) % (sizeof pool - 1)];
			}
			printbuf_reset(fast);
			printbuf_reset(slow);
			rec_escape_string(fast, str, slen);
			printbuf_memappend(slow, "\"", 1);
			for (size_t k = 0; k < slen; k++) {
				unsigned char ch = (unsigned char)str[k];
				char e[8];
				if (ch == '"' || ch == '\\')
					snprintf(e, sizeof e, "\\%c", ch);
				else if (ch == '\n')
					snprintf(e, sizeof e, "\\n");
				else if (ch == '\t')
					snprintf(e, sizeof e, "\\t");
				else if (ch < 0x20 || ch == 0x7f)
					snprintf(e, sizeof e, "\\u%04x", ch);
				else
					snprintf(e, sizeof e, "%c", ch);
				printbuf_memappend(slow, e, (int)strlen(e));
			}
			printbuf_memappend(slow, "\"", 1);
			if (fast->bpos != slow->bpos || memcmp(fast->buf, slow->buf, (size_t)fast->bpos))
				if (bad++ == 0)
					diag("%.*s | %.*s", fast->bpos, fast->buf, slow->bpos, slow->buf);
		}
		is_int(bad, 0, "escaping 20000 random strings matches the plain byte loop");
		printbuf_free(fast);
		printbuf_free(slow);
	}
	{
		struct printbuf *pb = printbuf_new();
		rec_escape_string(pb, "a\"b\x01", 4);
		is_str(pb->buf, "\"a\\\"b\\u0001\"", "rec_escape_string");
		printbuf_free(pb);
	}
}

/* Strings read without the tree stay valid together. */
static void
test_fields(void)
{
	const char *in = "{\"a\":\"one\",\"b\":\"two\",\"c\":\"t\\u00e9\",\"n\":3,\"a\":\"last\"}";
	struct rec *r = rec_parse(in, strlen(in), "t", 1);
	const char *a = NULL, *b = NULL, *c = NULL, *x = NULL;
	size_t la = 0;

	is_int(rec_get_str(r, "b", &b, NULL), REC_OK, "string field without a tree");
	is_int(rec_get_str(r, "a", &a, &la), REC_OK, "a duplicate key");
	ok(r->obj == NULL, "no tree was built for them");
	is_str(a, "last", "the last duplicate wins, as in the tree");
	is_int(la, 4, "with its length");
	is_str(b, "two", "an earlier string is still valid");
	is_int(rec_get_str(r, "zz", &x, NULL), REC_ABSENT, "absent without a tree");
	is_int(rec_get_str(r, "c", &c, NULL), REC_OK, "an escaped string");
	is_str(c, "t\xc3\xa9", "is decoded (through the tree)");
	is_str(b, "two", "and the earlier strings survive it");
	is_int(rec_get_str(r, "n", &x, NULL), REC_BAD, "a number is not a string");
	rec_free(r);
}

/* Numbers read and fields added without the tree. */
static void
test_no_tree(void)
{
	const char *in = "{\"p\":[1,2.5,-3e2],\"n\":7,\"x\":1.5,\"s\":\"t\",\"big\":1e3}";
	struct rec *r = rec_parse(in, strlen(in), "t", 1);
	double d[4], x = 0;
	int64_t n = 0;
	size_t cnt = 0;
	json_object *v;

	is_int(rec_get_doubles(r, "p", d, 4, &cnt), REC_OK, "short array without a tree");
	ok(cnt == 3 && d[0] == 1 && d[1] == 2.5 && d[2] == -300, "its values");
	is_int(rec_get_int(r, "n", &n), REC_OK, "integer without a tree");
	is_int(n, 7, "its value");
	is_int(rec_get_double(r, "x", &x), REC_OK, "double without a tree");
	ok(x == 1.5, "its value");
	is_int(rec_get_doubles(r, "p", d, 2, &cnt), REC_BAD, "more than cap is still an error");
	is_int(rec_get_double(r, "s", &x), REC_BAD, "a string is not a number");
	ok(r->obj != NULL, "(the error came from the tree)");
	rec_free(r);

	r = rec_parse(in, strlen(in), "t", 1);
	is_int(rec_get_int(r, "big", &n), REC_OK, "1e3 as an integer (through the tree)");
	rec_free(r);

	r = rec_parse(in, strlen(in), "t", 1);
	rec_set_int(r, "k", 1);
	rec_set_double(r, "y", 0.5);
	rec_set_int(r, "k", 2);
	ok(r->obj == NULL, "adding fields builds no tree");
	{
		char want[256];
		snprintf(want, sizeof want, "%.*s,\"k\":2,\"y\":0.5}", (int)strlen(in) - 1, in);
		is_str(line_of(r), want, "added fields spliced, a re-set one replaced in place");
		is_int(rec_get(r, "k", &v), REC_OK, "an added field is found");
		is_int(json_object_get_int(v), 2, "with its value");
		ok(r->obj != NULL, "(through the tree, which took the added fields)");
		is_str(line_of(r), want, "and the output is the same");
	}
	rec_free(r);

	r = rec_parse("{ }", 3, "t", 1);
	rec_set_int(r, "k", 1);
	is_str(line_of(r), "{\"k\":1}", "added to an empty object (spaced)");
	rec_free(r);

	r = rec_parse(in, strlen(in), "t", 1);
	rec_set_int(r, "n", 8);
	ok(r->obj != NULL && strstr(line_of(r), "\"n\":8,") != NULL, "replacing a line field uses the tree");
	rec_free(r);
}

/* rec_set_raw on a record without a tree: kept as text, and every other
 * access sees the fields as if they had been set as json-c values. */
static void
test_raw_added(void)
{
	const char *in = "{\"p\":[1,2],\"n\":7}";
	const char text[] = "{\"a\":1}\n{}\n{ \"a\" : 2 }\n";
	struct rec_reader rd;
	struct rec *r = rec_parse(in, strlen(in), "t", 1);
	json_object *v;
	double x = 0;
	int64_t n = 0;
	FILE *fp;

	rec_set_raw(r, "bin", "[0,1]", 5);
	rec_set_raw(r, "count", "3", 1);
	rec_set_raw(r, "r_int", "0.5", 3);
	ok(r->obj == NULL && r->added == NULL && r->nrawf == 3, "raw fields kept as text");
	is_str(line_of(r), "{\"p\":[1,2],\"n\":7,\"bin\":[0,1],\"count\":3,\"r_int\":0.5}",
	    "spliced in, in order");
	is_int(rec_get_int(r, "n", &n), REC_OK, "a line field is still read without a tree");
	ok(n == 7 && r->obj == NULL, "its value, no tree");
	is_int(rec_get_double(r, "r_int", &x), REC_OK, "a raw added field is read back");
	ok(x == 0.5 && r->obj != NULL, "its value (through the tree)");
	is_str(line_of(r), "{\"p\":[1,2],\"n\":7,\"bin\":[0,1],\"count\":3,\"r_int\":0.5}",
	    "same output after the tree took them");
	rec_free(r);

	r = rec_parse(in, strlen(in), "t", 1);
	rec_set_raw(r, "a", "1", 1);
	rec_set_raw(r, "b", "2", 1);
	rec_set_raw(r, "a", "10", 2);
	rec_set_int(r, "c", 3);
	rec_set_raw(r, "d", "4", 1);
	ok(r->obj == NULL && r->nrawf == 0, "a re-set or json-c field moves raw ones beside the line");
	is_str(line_of(r), "{\"p\":[1,2],\"n\":7,\"a\":10,\"b\":2,\"c\":3,\"d\":4}",
	    "order kept, re-set field replaced in place");
	rec_free(r);

	r = rec_parse(in, strlen(in), "t", 1);
	rec_set_raw(r, "n", "8", 1);
	rec_set_raw(r, "k\"q", "true", 4);
	is_str(line_of(r), "{\"p\":[1,2],\"n\":8,\"k\\\"q\":true}", "a line field replaced, a key escaped");
	rec_free(r);

	r = rec_parse(in, strlen(in), "t", 1);
	rec_set_raw(r, "x", "{\"y\":[1]}", 9);
	is_int(rec_get(r, "x", &v), REC_OK, "a raw object read back");
	ok(json_object_is_type(v, json_type_object), "as an object");
	is_int(rec_del(r, "x"), REC_OK, "and deleted");
	is_str(line_of(r), in, "leaving the line");
	rec_free(r);

	/* The reader reuses one record: nothing may leak into the next. */
	fp = memfile(text, sizeof text - 1);
	rec_reader_init(&rd, fp, "t");
	rec_next(&rd, &r);
	rec_set_raw(r, "z", "1", 1);
	is_str(line_of(r), "{\"a\":1,\"z\":1}", "first line");
	rec_next(&rd, &r);
	rec_set_raw(r, "z", "2", 1);
	rec_set_raw(r, "w", "[]", 2);
	is_str(line_of(r), "{\"z\":2,\"w\":[]}", "an empty object takes no comma first");
	rec_next(&rd, &r);
	rec_set_raw(r, "z", "3", 1);
	is_str(line_of(r), "{\"a\":2,\"z\":3}", "a spaced line compacted, then the field");
	is_int(rec_next(&rd, &r), 0, "end");
	rec_reader_close(&rd);
	fclose(fp);
}

static void
test_numbers(void)
{
	struct rec *r = rec_new(), *back;
	const char *s;
	size_t len;
	int bad = 0;
	unsigned x = 12345;

	for (int i = 0; i < 2000; i++) {
		double d;
		float f;
		x = x * 1103515245u + 12345u;
		d = ((double)x / 4294967296.0 - 0.5) * pow(10, (int)(x % 60) - 30);
		f = (float)d * 1.3f;
		rec_set_double(r, "d", d);
		rec_set_float(r, "f", f);
		s = rec_to_string(r, &len);
		back = rec_parse(s, len, "t", 1);
		double gd = 0, gf = 0;
		rec_get_double(back, "d", &gd);
		rec_get_double(back, "f", &gf);
		if (gd != d || (float)gf != f)
			bad++;
		rec_free(back);
	}
	is_int(bad, 0, "2000 doubles (%%.17g) and floats (%%.9g) round-trip exactly");
	ok(rec_set_double(r, "nan", NAN) == -1, "setting NaN fails");
	ok(rec_set_float(r, "inf", INFINITY) == -1, "setting infinity fails");
	{
		float v[3] = { 1, NAN, 2 };
		ok(rec_set_floats(r, "v", v, 3) == -1, "an array with NaN fails");
	}
	rec_free(r);

	const char *in = "{\"max\":18446744073709551615,\"i\":9223372036854775807,\"m\":-9223372036854775808,\"e\":1e3,\"h\":2.5,\"s\":\"7\"}";
	r = rec_parse(in, strlen(in), "t", 3);
	int64_t iv = 0;
	is_str(line_of(r), in, "extreme integers pass through");
	is_int(rec_get_int(r, "i", &iv), REC_OK, "int64 max reads");
	ok(iv == INT64_MAX, "int64 max value");
	rec_get_int(r, "m", &iv);
	ok(iv == INT64_MIN, "int64 min value");
	is_int(rec_get_int(r, "max", &iv), REC_BAD, "2^64-1 is out of int64 range");
	is_int(rec_get_int(r, "e", &iv), REC_OK, "1e3 is an integer");
	is_int(iv, 1000, "1e3 == 1000");
	is_int(rec_get_int(r, "h", &iv), REC_BAD, "2.5 is not an integer");
	ok(strstr(loam_error(), "field 'h': expected an integer, got 2.5") != NULL,
	    "type error names field and value: %s", loam_error());
	is_int(rec_get_int(r, "s", &iv), REC_BAD, "a string is not an integer");
	is_int(rec_get_int(r, "nope", &iv), REC_ABSENT, "absent field");
	rec_errorf(r, "field 'x': %s", "boom");
	is_str(loam_error(), "t:3: field 'x': boom", "rec_errorf prefixes file:line");
	rec_free(r);

	ok(rec_parse("{\"a\":18446744073709551616}", 26, "t", 1) == NULL, "2^64 is rejected");
	ok(strstr(loam_error(), "integer out of range") != NULL, "with a message: %s", loam_error());
	ok(rec_parse("{\"a\":-9223372036854775809}", 26, "t", 1) == NULL, "-2^63-1 is rejected");
	ok(rec_parse("{\"a\":Infinity}", 14, "t", 1) == NULL, "Infinity is rejected");
	ok(rec_parse("{\"a\":-Infinity}", 15, "t", 1) == NULL, "-Infinity is rejected");
	ok(rec_parse("{\"a\":1e400}", 11, "t", 1) == NULL, "1e400 is rejected");
	r = rec_parse("{\"a\":\"NaN\"}", 11, "t", 1);
	ok(r != NULL, "the string \"NaN\" is fine");
	rec_free(r);
}

static void
test_arrays(void)
{
	char line[40000];
	int n = 0;
	float want[1024], got[1024];
	double gotd[1024];
	size_t cnt = 0;
	unsigned x = 7;
	struct rec *r;

	n += sprintf(line + n, "{\"id\":1,\"emb\":[");
	for (int i = 0; i < 1024; i++) {
		x = x * 1103515245u + 12345u;
		want[i] = ((float)x / 4294967296.0f - 0.5f) * 3.0f;
		n += sprintf(line + n, "%s%.9g", i ? "," : "", (double)want[i]);
	}
	n += sprintf(line + n, "],\"tail\":\"t\"}");
	r = rec_parse(line, n, "t", 1);
	ok(r && r->nlazy == 1, "a 1024-number array takes the deferred path");
	is_int(rec_get_floats(r, "emb", got, 1024, &cnt), REC_OK, "rec_get_floats");
	is_int(cnt, 1024, "1024 elements");
	ok(memcmp(got, want, sizeof want) == 0, "floats equal what was written");
	is_int(rec_get_doubles(r, "emb", gotd, 1024, &cnt), REC_OK, "rec_get_doubles");
	ok(gotd[5] == (double)want[5] || fabs(gotd[5] - want[5]) < 1e-6, "doubles close");
	is_int(rec_get_floats(r, "emb", got, 100, &cnt), REC_BAD, "more than cap is an error");
	is_int(rec_get_array_len(r, "emb", &cnt), REC_OK, "array length");
	is_int(cnt, 1024, "array length 1024");
	is_str(line_of(r), line, "deferred array passes through unchanged");
	rec_set_int(r, "id", 2);
	{
		const char *s = line_of(r);
		ok(strncmp(s, "{\"id\":2,\"emb\":[", 15) == 0 && strstr(s, "\"tail\":\"t\"}"),
		    "after a rewrite the deferred array is still written");
		ok(strcmp(s + 7, line + 7) == 0, "and byte-identical");
	}
	{
		json_object *v = NULL;
		is_int(rec_get(r, "emb", &v), REC_OK, "generic access to a deferred array");
		is_int(json_object_array_length(v), 1024, "materialises it");
		is_int(rec_get_floats(r, "emb", got, 1024, &cnt), REC_OK, "floats still readable");
		ok(memcmp(got, want, sizeof want) == 0, "and equal");
	}
	rec_free(r);

	/* Non-compact arrays, duplicate keys, short arrays, bad elements. */
	const char *sp = "{\"v\": [ 1.5 , 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5 ] }";
	r = rec_parse(sp, strlen(sp), "t", 1);
	ok(r && r->nlazy == 1 && !r->raw_compact, "spaced array deferred, line not compact");
	is_str(line_of(r), "{\"v\":[1.5,2.5,3.5,4.5,5.5,6.5,7.5,8.5,9.5,10.5,11.5,12.5]}",
	    "spaced array written compact");
	rec_free(r);

	const char *dup = "{\"v\":[1.5,2.5,3.5,4.5,5.5,6.5,7.5,8.5,9.5,10.5,11.5,12.5,13.5,14.5],\"v\":[]}";
	r = rec_parse(dup, strlen(dup), "t", 1);
	is_int(rec_get_array_len(r, "v", &cnt), REC_OK, "duplicate key");
	is_int(cnt, 0, "the last duplicate wins, as in json-c");
	rec_free(r);

	const char *mixed = "{\"v\":[1.5,2.5,3.5,4.5,5.5,6.5,7.5,8.5,9.5,10.5,11.5,12.5,\"x\",14.5]}";
	r = rec_parse(mixed, strlen(mixed), "t", 1);
	ok(r && r->nlazy == 0, "an array with a string is not deferred");
	is_int(rec_get_floats(r, "v", got, 1024, &cnt), REC_BAD, "and is not an array of numbers");
	rec_free(r);

	const char *big = "{\"v\":[1e39,2.5,3.5,4.5,5.5,6.5,7.5,8.5,9.5,10.5,11.5,12.5,13.5,14.5]}";
	r = rec_parse(big, strlen(big), "t", 1);
	is_int(rec_get_floats(r, "v", got, 1024, &cnt), REC_BAD, "1e39 does not fit a float");
	is_int(rec_get_doubles(r, "v", gotd, 1024, &cnt), REC_OK, "but fits a double");
	rec_free(r);

	ok(rec_parse("{\"v\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,NaN]}",
	    75, "t", 1) == NULL, "NaN inside a long array is rejected");

	r = rec_new();
	float fv[3] = { 0.1f, -2, 3e-8f };
	rec_set_floats(r, "f", fv, 3);
	is_str(line_of(r), "{\"f\":[0.1,-2,3e-08]}", "rec_set_floats prints the shortest float");
	is_int(rec_get_floats(r, "f", got, 3, &cnt), REC_OK, "read back set floats");
	ok(cnt == 3 && got[0] == 0.1f && got[2] == 3e-8f, "exactly");
	double dv[2] = { 0.1, 1e300 };
	rec_set_doubles(r, "d", dv, 2);
	ok(strstr(line_of(r), "\"d\":[0.1,1e+300]") != NULL,
	    "rec_set_doubles prints the shortest double");
	{
		json_object *v = NULL;
		rec_get(r, "f", &v);
		is_int(json_object_array_length(v), 3, "generic access materialises set floats");
	}
	rec_free(r);
}

static void
test_reader(void)
{
	const char text[] = "{\"a\":1}\r\n\n   \n{\"a\":2}\n{\"a\":}\n{\"a\":4}";
	struct rec_reader rd;
	struct rec *r;
	FILE *fp = memfile(text, sizeof text - 1);
	int64_t v;

	rec_reader_init(&rd, fp, "in.jsonl");
	is_int(rec_next(&rd, &r), 1, "first record (CRLF)");
	rec_get_int(r, "a", &v);
	is_int(v, 1, "value 1");
	is_int(rec_next(&rd, &r), 1, "blank lines skipped");
	is_int(r->line, 4, "line number counts blank lines");
	is_int(rec_next(&rd, &r), -1, "malformed line");
	is_str(loam_error(), "in.jsonl:5:6: unexpected '}'", "error names file:line:column");
	is_int(rec_next(&rd, &r), 1, "reading goes on after a bad line");
	rec_get_int(r, "a", &v);
	is_int(v, 4, "last record without final newline");
	is_int(rec_next(&rd, &r), 0, "end of input");
	rec_reader_close(&rd);
	fclose(fp);

	ok(rec_reader_open(&rd, "/nonexistent/x.jsonl") == -1, "open missing file fails");
	is_str(loam_error(), "/nonexistent/x.jsonl: No such file or directory", "with strerror");

	const char *cases[][2] = {
		{ "{\"a\":1", "t:1:7: expected ',' or '}', got end of line" },
		{ "{\"a\":1,}", "t:1:" },
		{ "{\"a\":1}x", "t:1:8:" },
		{ "\"str\"", "expected a JSON object, got a string" },
		{ "{\"a\":\"\xc3\x28\"}", "t:1:7: invalid UTF-8 in string" },
		{ "{'a':1}", "t:1:" },
		{ "{\"a\":01}", "t:1:" },
		{ "", "t:1: empty record" },			/* found by rec_fuzz */
		{ "\x7f{}", "t:1:1: unexpected byte 0x7f" },	/* found by rec_fuzz */
		{ "{\"a\":[1,2]\x01", "t:1:11: expected ',' or '}', got byte 0x01" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rec *bad = rec_parse(cases[i][0], strlen(cases[i][0]), "t", 1);
		ok(bad == NULL && strstr(loam_error(), cases[i][1]) != NULL,
		    "reject %s -> %s", cases[i][0], loam_error());
		rec_free(bad);
	}
}

static void
test_long_line(void)
{
	size_t n = 10 * 1024 * 1024;
	char *text = malloc(n + 64);
	struct rec_reader rd;
	struct rec *r;
	const char *s;
	size_t len;
	FILE *fp;

	memcpy(text, "{\"big\":\"", 8);
	memset(text + 8, 'x', n);
	memcpy(text + 8 + n, "\",\"k\":1}\n{\"k\":2}\n", 17);
	fp = memfile(text, n + 8 + 17);
	rec_reader_init(&rd, fp, "big");
	is_int(rec_next(&rd, &r), 1, "a 10 MB line reads");
	ok(rec_get_str(r, "big", &s, &len) == REC_OK && len == n, "its 10 MB string is intact");
	is_int(rec_next(&rd, &r), 1, "the next line reads after it");
	is_int(r->line, 2, "on line 2");
	rec_reader_close(&rd);
	fclose(fp);
	free(text);
}

/* The reader's own buffer: lines that straddle its end, CRLF, a line
 * longer than the buffer, and max_line met exactly, from a stream with a
 * descriptor (read(2)) and one without (fread) alike. */
static void
test_reader_buffer(void)
{
	size_t cap = 4 * REC_READ_BUF + 300000, n = 0, big = 150000;
	char *text = malloc(cap);
	struct rec_reader rd;
	struct rec *r;
	int64_t v;
	int i, nlines = 0, bad;

	/* Lines of 20 to 200 bytes, every seventh CRLF, then a long one. */
	for (i = 0; n < 3 * REC_READ_BUF; i++, nlines++)
		n += (size_t)sprintf(text + n, "{\"id\":%d,\"pad\":\"%.*s\"}%s", i,
		    (i * 37) % 180, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i % 7 ? "\n" : "\r\n");
	for (int extra = 0; extra < 2; extra++) {	/* big bytes, then big + 1 */
		size_t start = n;

		n += (size_t)sprintf(text + n, "{\"id\":%d,\"pad\":\"", i++);
		memset(text + n, 'y', big + (size_t)extra - (n - start) - 2);
		n = start + big + (size_t)extra - 2;
		n += (size_t)sprintf(text + n, "\"}\n");
	}
	n += (size_t)sprintf(text + n, "{\"id\":%d}", i);
	nlines += 3;

	for (int way = 0; way < 2; way++) {
		FILE *fp = way ? memfile(text, n) : tmpfile();

		if (!way) {
			fwrite(text, 1, n, fp);
			rewind(fp);
		}
		rec_reader_init(&rd, fp, "t");
		rd.max_line = big;
		bad = 0;
		for (i = 0; i < nlines - 3; i++)
			if (rec_next(&rd, &r) != 1 || rec_get_int(r, "id", &v) != REC_OK ||
			    v != i || r->line != (unsigned long)i + 1)
				bad++;
		is_int(bad, 0, "%s: %d short lines, across %zu buffers, each whole",
		    way ? "fread" : "read(2)", nlines - 3, n / REC_READ_BUF);
		ok(rec_next(&rd, &r) == 1 && rec_get_int(r, "id", &v) == REC_OK &&
		    v == i, "a line of exactly max_line bytes reads");
		is_int(rec_next(&rd, &r), -1, "one byte more is refused");
		ok(strstr(loam_error(), "line longer than 150000 bytes") != NULL, "%s",
		    loam_error());
		ok(rd.bufcap <= big + 1, "the buffer grew no further than max_line + 1");
		ok(rec_next(&rd, &r) == 1 && rec_get_int(r, "id", &v) == REC_OK &&
		    v == i + 2 && r->line == (unsigned long)nlines,
		    "the last line, without a newline, after it");
		is_int(rec_next(&rd, &r), 0, "end of input");
		rec_reader_close(&rd);
		fclose(fp);
	}
	free(text);
}

/* A pipe's line is returned as soon as its newline is there, not when a
 * buffer is full (coprocess use).  alarm() ends a reader that waits. */
static void
test_reader_pipe(void)
{
	struct rec_reader rd;
	struct rec *r;
	int fds[2];
	int64_t v;
	FILE *fp;

	if (pipe(fds) != 0 || !(fp = fdopen(fds[0], "r"))) {
		perror("pipe");
		exit(2);
	}
	rec_reader_init(&rd, fp, "pipe");
	alarm(10);
	if (write(fds[1], "{\"a\":1}\n{\"a\":", 13) != 13)
		exit(2);
	ok(rec_next(&rd, &r) == 1 && rec_get_int(r, "a", &v) == REC_OK && v == 1,
	    "a line from a pipe that stays open");
	if (write(fds[1], "2}\n", 3) != 3)
		exit(2);
	ok(rec_next(&rd, &r) == 1 && rec_get_int(r, "a", &v) == REC_OK && v == 2,
	    "a line written in two parts");
	close(fds[1]);
	is_int(rec_next(&rd, &r), 0, "end of input when the writer closes");
	alarm(0);
	rec_reader_close(&rd);
	fclose(fp);
}

/* rec_strtof/rec_strtod must round exactly as libc does. */
static void
test_decimal(void)
{
	static const char *const cases[] = {
		"0", "-0", "1", "-1.5", "0.1", "3.4028235e38", "3.4028236e38",
		"1.17549435e-38", "1.4e-45", "7.0064923e-46", "9007199254740993",
		"123456789012345678901", "1e22", "1e23", "1e-22", "1e-23",
		"0.000000000000000000000000000000001", "2.5e-08", "1E5", "-0.0e0",
		"16777217", "0.30000000000000004", "4.9e-324", "1.7976931348623157e308",
	};
	char buf[64];
	const char *end;
	unsigned long bad_f = 0, bad_d = 0, bad_end = 0;
	uint64_t x = 88172645463325252u;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		float f = rec_strtof(cases[i], &end);
		double d = rec_strtod(cases[i], &end);
		ok(memcmp(&f, &(float){ strtof(cases[i], NULL) }, 4) == 0 &&
		    memcmp(&d, &(double){ strtod(cases[i], NULL) }, 8) == 0 &&
		    *end == '\0', "decimal %s", cases[i]);
	}
	for (int i = 0; i < 2000000; i++) {
		uint32_t u;
		float f, g;
		double d, e;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		u = (uint32_t)x;
		memcpy(&f, &u, 4);
		if (!isfinite(f))
			continue;
		snprintf(buf, sizeof buf, i % 3 ? "%.9g" : "%.6g", (double)f);
		g = rec_strtof(buf, &end);
		if (memcmp(&g, &(float){ strtof(buf, NULL) }, 4) != 0)
			bad_f++;
		bad_end += *end != '\0';
		memcpy(&d, &x, 8);
		if (!isfinite(d))
			continue;
		snprintf(buf, sizeof buf, i % 2 ? "%.17g" : "%.12g", d);
		e = rec_strtod(buf, &end);
		if (memcmp(&e, &(double){ strtod(buf, NULL) }, 8) != 0)
			bad_d++;
		bad_end += *end != '\0';
	}
	/* Values in the range embeddings live in take the fast path. */
	for (int i = 0; i < 2000000; i++) {
		float f, g;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		f = ldexpf((float)(int32_t)(uint32_t)x, -(int)(x >> 59) - 24);
		snprintf(buf, sizeof buf, "%.9g", (double)f);
		g = rec_strtof(buf, &end);
		if (memcmp(&g, &(float){ strtof(buf, NULL) }, 4) != 0)
			bad_f++;
		snprintf(buf, sizeof buf, "%.8g", (double)f);
		g = rec_strtof(buf, &end);
		if (memcmp(&g, &(float){ strtof(buf, NULL) }, 4) != 0)
			bad_f++;
	}
	is_int(bad_f, 0, "6M random floats read exactly as strtof");
	is_int(bad_d, 0, "2M random doubles read exactly as strtod");
	is_int(bad_end, 0, "and the end pointer is right");
}

/* A random JSON value of bounded depth, appended to buf. */
static uint64_t gen_state = 0x9e3779b97f4a7c15u;

static unsigned
gen_next(unsigned n)
{
	gen_state ^= gen_state << 13;
	gen_state ^= gen_state >> 7;
	gen_state ^= gen_state << 17;
	return (unsigned)(gen_state % n);
}

static void
gen_value(char *buf, size_t *n, int depth)
{
	static const char *const strings[] = {
		"\"\"", "\"plain\"", "\"caf\\u00e9\"", "\"\\ud83d\\ude00 pair\"",
		"\"\\udbff\\udfff last pair\"", "\"esc \\\" \\\\ \\/ \\b\\f\\n\\r\\t\"",
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\"\\u0000nul\"",
	};
	static const char *const numbers[] = {
		"0", "-0", "1", "-17", "9223372036854775807", "-9223372036854775808",
		"18446744073709551615", "9223372036854775808", "1.5", "-0.0", "1e3",
		"1E-7", "2.5e+300", "0.1", "123456789.123456789", "4.9e-324",
	};
	int kind = depth > 3 ? gen_next(5) : gen_next(7);

	switch (kind) {
	case 0: *n += sprintf(buf + *n, "%s", strings[gen_next(8)]); break;
	case 1: *n += sprintf(buf + *n, "%s", numbers[gen_next(16)]); break;
	case 2: *n += sprintf(buf + *n, "%s", gen_next(2) ? "true" : "false"); break;
	case 3: *n += sprintf(buf + *n, "null"); break;
	case 4: *n += sprintf(buf + *n, "%d.%d", (int)gen_next(1000), (int)gen_next(1000)); break;
	case 5: {
		int k = (int)gen_next(4);
		buf[(*n)++] = '[';
		for (int i = 0; i < k; i++) {
			if (i)
				*n += sprintf(buf + *n, gen_next(2) ? "," : " , ");
			gen_value(buf, n, depth + 1);
		}
		buf[(*n)++] = ']';
		break;
	}
	default: {
		int k = (int)gen_next(4);
		buf[(*n)++] = '{';
		for (int i = 0; i < k; i++) {
			if (i)
				buf[(*n)++] = ',';
			*n += sprintf(buf + *n, "\"k%u\":", gen_next(3));
			gen_value(buf, n, depth + 1);
		}
		buf[(*n)++] = '}';
	}
	}
}

/* The fast tree builder against json-c's own parser on random records. */
static void
test_builder(void)
{
	char buf[1 << 16];
	int differ = 0, failed = 0;

	for (int i = 0; i < 20000; i++) {
		size_t n = 0;
		int keys = (int)gen_next(6);
		struct rec *fast, *ref;

		buf[n++] = '{';
		for (int k = 0; k < keys; k++) {
			if (k)
				buf[n++] = ',';
			n += sprintf(buf + n, "\"f%u\":", gen_next(5));
			if (gen_next(8) == 0) {		/* a deferred array */
				buf[n++] = '[';
				for (int j = 0; j < 30; j++)
					n += sprintf(buf + n, "%s%d.25", j ? "," : "", (int)gen_next(100));
				buf[n++] = ']';
			} else
				gen_value(buf, &n, 0);
		}
		buf[n++] = '}';
		fast = rec_parse(buf, n, "t", 1);
		ref = rec_parse_reference(buf, n);
		if (!fast || !ref) {
			if (failed++ < 3)
				diag("did not parse: %.*s (%s)", (int)n, buf, loam_error());
		} else {
			/* Materialise deferred arrays on both sides: with
			 * duplicate keys the reference parses them in full. */
			json_object *a = NULL;
			char names[8][8];
			int nk = 0;
			rec_get(fast, "", &a);	/* builds the tree */
			json_object_object_foreach(fast->obj, key, val) {
				(void)val;
				snprintf(names[nk++], sizeof names[0], "%s", key);
			}
			for (int k = 0; k < nk; k++) {
				rec_get(fast, names[k], &a);
				rec_get(ref, names[k], &a);
			}
			const char *sa = json_object_to_json_string_ext(fast->obj, JSON_C_TO_STRING_PLAIN);
			const char *sb = json_object_to_json_string_ext(ref->obj, JSON_C_TO_STRING_PLAIN);
			if (strcmp(sa, sb) != 0 || !json_object_equal(fast->obj, ref->obj)) {
				if (differ++ < 3)
					diag("trees differ for %.*s:\n#  %s\n#  %s", (int)n, buf, sa, sb);
			}
		}
		rec_free(fast);
		rec_free(ref);
	}
	is_int(failed, 0, "20000 random records parse");
	is_int(differ, 0, "the fast builder's trees equal json-c's parser's");
}

/* Lines refused part-way: a NUL byte, a first byte no record begins
 * with, a line over max_line; the reader goes on after each. */
static void
test_reader_limits(void)
{
	const char text[] = "{\"a\":1}\n{\"a\"\0:2}\nxyz\n  \x01\n{\"a\":\"0123456789\"}\n{\"a\":5}";
	struct rec_reader rd;
	struct rec *r;
	FILE *fp = memfile(text, sizeof text - 1);
	int64_t v;

	rec_reader_init(&rd, fp, "in");
	is_int((long)rd.max_line, (long)REC_LINE_MAX, "the default line limit");
	rd.max_line = 16;
	is_int(rec_next(&rd, &r), 1, "a short line reads");
	is_int(rec_next(&rd, &r), -1, "a NUL byte");
	is_str(loam_error(), "in:2:5: NUL byte in the line", "names file:line:column");
	is_int(rec_next(&rd, &r), -1, "a line no record begins");
	is_str(loam_error(), "in:3:1: unexpected 'x'", "names file:line:column");
	is_int(rec_next(&rd, &r), -1, "a control byte after blanks");
	is_str(loam_error(), "in:4:3: unexpected byte 0x01", "as the scan would say");
	is_int(rec_next(&rd, &r), -1, "a line over max_line");
	is_str(loam_error(), "in:5: line longer than 16 bytes", "names file:line");
	is_int(rec_next(&rd, &r), 1, "the reader goes on after them");
	rec_get_int(r, "a", &v);
	ok(v == 5 && r->line == 6, "with the right record and line");
	is_int(rec_next(&rd, &r), 0, "end of input");
	rec_reader_close(&rd);
	fclose(fp);

	/* Endless input without a newline: refused at the first byte, the
	 * rest never read. */
	fp = fopen("/dev/zero", "r");
	if (fp) {
		rec_reader_init(&rd, fp, "/dev/zero");
		is_int(rec_next(&rd, &r), -1, "/dev/zero is refused at once");
		is_str(loam_error(), "/dev/zero:1:1: NUL byte in the line", "at line 1 column 1");
		ok(rd.bufcap <= REC_READ_BUF, "having read no more than one buffer");
		rec_reader_close(&rd);
		fclose(fp);
	}
}

/* Escaped surrogates: only a high one followed by a low one. */
static void
test_surrogates(void)
{
	static const char *const bad[][2] = {
		{ "{\"a\":\"\\ud800\"}", "t:1:7: lone surrogate \\ud800 in string" },
		{ "{\"a\":\"\\udc00\"}", "t:1:7: lone surrogate \\udc00 in string" },
		{ "{\"a\":\"x\\uD800\\u0041\"}", "t:1:8: lone surrogate \\uD800 in string" },
		{ "{\"a\":\"\\ud800\\ud800\"}", "t:1:7: lone surrogate \\ud800 in string" },
		{ "{\"a\":\"\\udbff\\n\"}", "t:1:7: lone surrogate \\udbff in string" },
		{ "{\"\\udfff\":1}", "t:1:3: lone surrogate \\udfff in string" },
		{ "{\"a\":[\"\\ud83d\"]}", "t:1:8: lone surrogate \\ud83d in string" },
	};
	static const char *const good[] = {
		"{\"a\":\"\\ud800\\udc00\"}", "{\"a\":\"\\uD83D\\uDE00\"}",
		"{\"a\":\"\\udbff\\udfff\"}", "{\"a\":\"\\ud7ff\\ue000\"}",
	};
	const char *s;
	struct rec *r;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		r = rec_parse(bad[i][0], strlen(bad[i][0]), "t", 1);
		ok(r == NULL && strcmp(loam_error(), bad[i][1]) == 0, "reject %s -> %s",
		    bad[i][0], loam_error());
		rec_free(r);
	}
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		r = rec_parse(good[i], strlen(good[i]), "t", 1);
		ok(r != NULL && rec_get_str(r, "a", &s, NULL) == REC_OK &&
		    strstr(s, "\xef\xbf\xbd") == NULL, "accept %s", good[i]);
		rec_free(r);
	}
	r = rec_parse(good[0], strlen(good[0]), "t", 1);
	ok(r && rec_get_str(r, "a", &s, NULL) == REC_OK && strcmp(s, "\xf0\x90\x80\x80") == 0,
	    "a pair is one code point, U+10000");
	rec_free(r);
}

int
main(void)
{
	test_builder();
	test_decimal();
	test_passthrough();
	test_strings();
	test_numbers();
	test_fields();
	test_no_tree();
	test_raw_added();
	test_arrays();
	test_reader();
	test_long_line();
	test_reader_limits();
	test_reader_buffer();
	test_reader_pipe();
	test_surrogates();
	return tap_done();
}
