/* conf_test - unit tests for lib/conf (TAP). */
#include <string.h>

#include "conf.h"
#include "tap.h"
#include "util.h"

static json_object *
parse(const char *text)
{
	return conf_parse(text, strlen(text), "t.yaml");
}

static void
expect_error(const char *text, const char *want)
{
	json_object *v = parse(text);
	char shown[200], msg[300];
	size_t n = 0;

	/* One line per TAP point: show newlines and tabs escaped. */
	for (const char *p = text; *p && n + 3 < sizeof shown; p++) {
		if (*p == '\n' || *p == '\t') {
			shown[n++] = '\\';
			shown[n++] = *p == '\n' ? 'n' : 't';
		} else
			shown[n++] = *p;
	}
	shown[n] = '\0';
	snprintf(msg, sizeof msg, "%s", loam_error());
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	ok(v == NULL && strstr(loam_error(), want) != NULL, "refuse %s -> %s",
	    shown, msg);
	json_object_put(v);
}

int
main(void)
{
	json_object *v, *x;
	const char *s;

	v = parse("a: 1\nb: 2.5\nc: true\nd: ~\ne: \"7\"\nf: 0x1f\ng: 0o17\n"
	    "h: hello world\ni: [1, two, {k: v}]\nj: !!str 12\nk: .5\nl: 1e3\n"
	    "m: 'x'\nn: False\n");
	ok(v != NULL, "parse a block mapping: %s", v ? "" : loam_error());
	s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	is_str(s, "{\"a\":1,\"b\":2.5,\"c\":true,\"d\":null,\"e\":\"7\",\"f\":31,"
	    "\"g\":15,\"h\":\"hello world\",\"i\":[1,\"two\",{\"k\":\"v\"}],"
	    "\"j\":\"12\",\"k\":0.5,\"l\":1000.0,\"m\":\"x\",\"n\":false}",
	    "core-schema types resolved; quoted and !!str scalars stay strings");
	json_object_object_get_ex(v, "i", &x);
	is_str(conf_where(x), "t.yaml:9:4", "values remember file:line:column");
	json_object_object_get_ex(v, "b", &x);
	is_str(conf_where(x), "t.yaml:2:4", "doubles too");
	json_object_put(v);

	v = parse("{\"docqa-span\": 0.5, \"lego\": 2}");
	ok(v && json_object_object_length(v) == 2, "JSON is YAML");
	json_object_put(v);

	expect_error("a: 1\na: 2\n", "t.yaml:2:1: duplicate key 'a'");
	expect_error("{a:1}", "key 'a:1' has no value");
	expect_error("a: .nan\n", "t.yaml:1:4: .nan is not allowed");
	expect_error("a: -.inf\n", "is not allowed");
	expect_error("a: 1e999\n", "number out of range");
	expect_error("a: 99999999999999999999\n", "integer out of range");
	expect_error("a: &x 1\nb: *x\n", "aliases");
	expect_error("? [1, 2]\n: 3\n", "keys must be scalars");
	expect_error("a: 1\n---\nb: 2\n", "more than one document");
	expect_error("a: !!int x\n", "'x' is not a valid");
	expect_error("a: !custom 1\n", "unsupported tag");
	expect_error("a:\n\t- 1\n", "t.yaml:2:1: found character that cannot start any token");
	expect_error("a: [1, 2\n", "t.yaml:");
	expect_error("", "empty file");
	ok(conf_load("/nonexistent.yaml") == NULL &&
	    strcmp(loam_error(), "/nonexistent.yaml: No such file or directory") == 0,
	    "a missing file: %s", loam_error());
	return tap_done();
}
