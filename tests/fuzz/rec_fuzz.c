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
