/*
 * conf_fuzz - libFuzzer target for conf_parse(); built by `make fuzz`.
 *
 *	build/fuzz/conf_fuzz -max_total_time=60 tests/fuzz/corpus/conf
 *
 * conf_parse() is what conf_load() calls on the file's bytes, so the
 * input goes in as it is, with no NUL at its end.  Properties checked on
 * every input that loads:
 *  - every value answers conf_where() and conf_text();
 *  - the tree written as JSON, when libyaml reads that back (it refuses
 *    some characters a quoted YAML scalar can spell with an escape, so a
 *    failure proves nothing), is the same tree: the scalar resolution
 *    does not depend on the style a value was written in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walked;

/* Touch every value's origin; the strings must be readable to their NUL. */
static void
walk(json_object *v)
{
	const char *text = conf_text(v);

	walked += strlen(conf_where(v)) + (text ? strlen(text) : 0);
	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, val) {
			(void)key;
			walk(val);
		}
	} else if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			walk(json_object_array_get_idx(v, i));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *root, *again;
	const char *json;
	size_t len;

	root = conf_parse((const char *)data, size, "fuzz.yaml");
	if (!root)
		return 0;
	walk(root);
	/* No slash escapes: "\/" is a JSON escape that libyaml need not know. */
	json = json_object_to_json_string_length(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	again = conf_parse(json, len, "fuzz.json");
	if (again) {
		if (!json_object_equal(root, again))
			abort();
		walk(again);
		json_object_put(again);
	}
	json_object_put(root);
	return 0;
}
