/*
 * rec_fuzz - libFuzzer target for lib/rec (make fuzz; not run by check).
 *
 * Properties checked on every input that parses as a record:
 *  - writing it and parsing the output again succeeds, and writing that
 *    gives the same bytes (output is a fixed point);
 *  - adding a field keeps the output valid;
 *  - typed getters never crash on any field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec *r, *again;
	const char *s, *t;
	size_t len, len2;
	char *copy;

	if (memchr(data, '\n', size))
		return 0;		/* one line per record */
	r = rec_parse((const char *)data, size, "fuzz", 1);
	if (!r)
		return 0;
	s = rec_to_string(r, &len);
	copy = malloc(len + 1);
	memcpy(copy, s, len);
	again = rec_parse(copy, len, "fuzz", 2);
	if (!again)
		abort();
	t = rec_to_string(again, &len2);
	if (len2 != len || memcmp(t, copy, len) != 0)
		abort();

	/* The tree-free paths first: getters and an added field before any
	 * tree exists, then the output must still parse. */
	{
		static const char *const keys[] = { "a", "p", "x", "id", "" };
		struct rec *lazy = rec_parse(copy, len, "fuzz", 4);
		double dd[8];
		float ff[8];
		int64_t ii;
		size_t nn;
		const char *ss;

		if (!lazy)
			abort();
		for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
			rec_get_double(lazy, keys[k], dd);
			rec_get_int(lazy, keys[k], &ii);
			rec_get_doubles(lazy, keys[k], dd, 8, &nn);
			rec_get_floats(lazy, keys[k], ff, 8, &nn);
			rec_get_str(lazy, keys[k], &ss, &nn);
		}
		rec_set_int(lazy, "fuzz_new", 1);
		rec_set_int(lazy, "fuzz_new", 2);
		t = rec_to_string(lazy, &len2);
		struct rec *back = rec_parse(t, len2, "fuzz", 5);
		if (!back)
			abort();
		rec_free(back);
		rec_free(lazy);

		/* Raw added fields (kept as text while there is no tree),
		 * one of them perhaps a key of the line, then read back. */
		lazy = rec_parse(copy, len, "fuzz", 6);
		if (!lazy)
			abort();
		rec_set_raw(lazy, "fuzz_raw", "[1,2]", 5);
		rec_set_raw(lazy, "p", "0.5", 3);
		rec_set_raw(lazy, "fuzz_raw2", "{\"k\":true}", 10);
		t = rec_to_string(lazy, &len2);
		back = rec_parse(t, len2, "fuzz", 7);
		if (!back || rec_get_double(back, "p", dd) != REC_OK || dd[0] != 0.5)
			abort();
		rec_free(back);
		if (rec_get_array_len(lazy, "fuzz_raw", &nn) != REC_OK || nn != 2)
			abort();
		rec_free(lazy);
	}

	/* Every getter on every key. */
	json_object *obj = NULL;
	float f[64];
	double d;
	int64_t i;
	int b;
	size_t n;
	const char *str;
	if (rec_get(again, "", &obj) == REC_OK)
		(void)obj;
	json_object_object_foreach(again->obj, key, val) {
		(void)val;
		rec_get_double(again, key, &d);
		rec_get_int(again, key, &i);
		rec_get_bool(again, key, &b);
		rec_get_str(again, key, &str, &n);
		rec_get_floats(again, key, f, 64, &n);
		rec_get_array_len(again, key, &n);
	}
	if (rec_set_int(r, "fuzz_added", 1) != 0)
		abort();
	s = rec_to_string(r, &len);
	rec_free(again);
	again = rec_parse(s, len, "fuzz", 3);
	if (!again)
		abort();
	rec_free(again);
	rec_free(r);
	free(copy);
	return 0;
}
