/*
 * conf - YAML configuration files (and so JSON ones) read into json-c
 * trees, with the strictness libyaml leaves to its callers.
 *
 * libyaml 0.2.5 reports events and syntax errors but resolves no types
 * and accepts duplicate keys (research/ecosystem.md §6).  The loader:
 *  - resolves plain scalars by the YAML 1.2 core schema: null (~, null,
 *    empty), booleans (true/false in three casings), integers (decimal,
 *    0o octal, 0x hex, into int64), floats (including 1e3 and .5);
 *    quoted and block scalars are strings;
 *  - refuses .nan and .inf (loam never prints them), aliases, tags (any:
 *    !!str as much as !!python/object), complex keys, more than one
 *    document, and duplicate keys;
 *  - conf_load() holds a file named *.json to strict JSON first (YAML
 *    would take a trailing comma, comments and bare words);
 *  - refuses a file larger than CONF_MAX_SIZE or nested deeper than
 *    CONF_MAX_DEPTH collections, before libyaml spends long on it (its
 *    time grows with the square of flow nesting);
 *  - refuses a plain key with a null value that contains ": "-less colon
 *    such as {a:1}, which YAML reads as the single key "a:1" (a trap for
 *    people writing JSON by hand).
 * Every value remembers where it came from: conf_where() gives
 * "file:line:column" for messages about a value (an unknown key, a bad
 * weight) long after parsing.
 *
 * The tree belongs to the caller: json_object_put() frees it.
 */
#ifndef LOAM_CONF_H
#define LOAM_CONF_H

#include <stddef.h>

#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Configuration, not data: limits far above any real file's. */
#define CONF_MAX_SIZE ((size_t)16 << 20)
#define CONF_MAX_SIZE_TEXT "16 MiB"
#define CONF_MAX_DEPTH 64
#define CONF_MAX_DEPTH_TEXT "64"

/* NULL and loam_seterr("file:line:column: message") on failure. */
json_object *conf_load(const char *path);
json_object *conf_parse(const char *text, size_t len, const char *name);

/* "file:line:column" of a value from yaml_load/yaml_parse; "" for a
 * value that did not come from a file (or for null, which json-c
 * represents as NULL).  Borrowed from the value. */
const char *conf_where(json_object *v);

/* A scalar's text as written in the file (after YAML's unescaping of a
 * quoted scalar), before type resolution: "010" for the integer 8, "1.50"
 * for the float 1.5.  For commands, where a value is an argument word.
 * NULL for collections, null and values not from a file.  Borrowed. */
const char *conf_text(json_object *v);

#ifdef __cplusplus
}
#endif

#endif
