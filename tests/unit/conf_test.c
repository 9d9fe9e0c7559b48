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
	    "h: hello world\ni: [1, two, {k: v}]\nj: '12'\nk: .5\nl: 1e3\n"
	    "m: 'x'\nn: False\n");
	ok(v != NULL, "parse a block mapping: %s", v ? "" : loam_error());
	s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	is_str(s, "{\"a\":1,\"b\":2.5,\"c\":true,\"d\":null,\"e\":\"7\",\"f\":31,"
	    "\"g\":15,\"h\":\"hello world\",\"i\":[1,\"two\",{\"k\":\"v\"}],"
	    "\"j\":\"12\",\"k\":0.5,\"l\":1000.0,\"m\":\"x\",\"n\":false}",
	    "core-schema types resolved; quoted scalars stay strings");
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
	/* No tag at all: not the core schema's, not on a collection or key. */
	expect_error("a: !!int x\n", "t.yaml:1:4: tags are not supported ('!!int')");
	expect_error("a: !!str 12\n", "t.yaml:1:4: tags are not supported ('!!str')");
	expect_error("a: !custom 1\n", "t.yaml:1:4: tags are not supported ('!custom')");
	expect_error("a: ! 1\n", "t.yaml:1:4: tags are not supported ('!')");
	expect_error("run: !foo [echo]\n", "t.yaml:1:6: tags are not supported ('!foo')");
	expect_error("a: !!python/object:os.system {}\n",
	    "t.yaml:1:4: tags are not supported ('!!python/object:os.system')");
	expect_error("!!str a: 1\n", "t.yaml:1:1: tags are not supported");
	expect_error("--- !!map\na: 1\n", "t.yaml:1:5: tags are not supported ('!!map')");
	expect_error("%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
	    "t.yaml:3:4: tags are not supported ('tag:example.com,2000:x')");
	expect_error("a:\n\t- 1\n", "t.yaml:2:1: found character that cannot start any token");
	expect_error("a: [1, 2\n", "t.yaml:");
	expect_error("", "empty file");

	/* Limits: nesting, checked as libyaml goes (100000 levels of flow
	 * nesting took it 25 s and more); size, before it starts. */
	{
		size_t n = 100000;
		char *deep = xmalloc(2 * n + 1);

		memset(deep, '[', n);
		memset(deep + n, ']', n);
		deep[2 * n] = '\0';
		expect_error(deep, "t.yaml:1:65: nested deeper than 64 levels");
		memcpy(deep + CONF_MAX_DEPTH, deep + n, CONF_MAX_DEPTH);
		deep[2 * CONF_MAX_DEPTH] = '\0';
		v = parse(deep);
		ok(v != NULL, "64 levels are allowed: %s", v ? "" : loam_error());
		json_object_put(v);
		strcpy(deep, "a:\n");
		for (size_t i = 1; i <= CONF_MAX_DEPTH; i++) {
			size_t len = strlen(deep);

			memset(deep + len, ' ', 2 * i);
			snprintf(deep + len + 2 * i, 16, "- \n");
		}
		/* 64 block sequences below the mapping: one too many. */
		v = parse(deep);
		ok(v == NULL && strstr(loam_error(), "nested deeper than 64 levels"),
		    "block nesting too: %s", v ? "accepted" : loam_error());
		json_object_put(v);
		free(deep);
	}
	{
		char *big = xmalloc(CONF_MAX_SIZE + 2);

		memset(big, ' ', CONF_MAX_SIZE + 1);
		memcpy(big, "a: 1\nb: ", 8);
		big[CONF_MAX_SIZE + 1] = '\0';
		v = conf_parse(big, CONF_MAX_SIZE + 1, "big.yaml");
		ok(v == NULL && strcmp(loam_error(), "big.yaml:2:16777212: larger than 16 MiB "
		    "(a configuration file, not data)") == 0, "too large: %s",
		    v ? "accepted" : loam_error());
		json_object_put(v);
		v = conf_parse(big, CONF_MAX_SIZE, "big.yaml");
		ok(v != NULL, "16 MiB exactly is allowed: %s", v ? "" : loam_error());
		json_object_put(v);
		free(big);
	}
	ok(conf_load("/nonexistent.yaml") == NULL &&
	    strcmp(loam_error(), "/nonexistent.yaml: No such file or directory") == 0,
	    "a missing file: %s", loam_error());
	return tap_done();
}
