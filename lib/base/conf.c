/* conf - see conf.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "util.h"
#include "conf.h"

/* A value's origin, kept as its json-c userdata.  Doubles are made with
 * json_object_new_double (not _s, whose userdata is its text). */
struct origin {
	int kind;
	char *text;		/* a scalar's text as written; NULL for collections */
	char where[];
};
enum { ORIGIN_KIND = 0x59414d4c };

static void
origin_free(json_object *v, void *userdata)
{
	struct origin *o = userdata;

	free(o->text);
	free(o);
}

static void
set_origin(json_object *v, const char *name, yaml_mark_t mark, const char *text)
{
	struct origin *o;
	int n;

	if (!v)
		return;
	n = snprintf(NULL, 0, "%s:%zu:%zu", name, mark.line + 1, mark.column + 1);
	o = xmalloc(sizeof *o + (size_t)n + 1);
	o->kind = ORIGIN_KIND;
	o->text = text ? xstrdup(text) : NULL;
	snprintf(o->where, (size_t)n + 1, "%s:%zu:%zu", name, mark.line + 1, mark.column + 1);
	json_object_set_userdata(v, o, origin_free);
}

const char *
conf_where(json_object *v)
{
	struct origin *o = v ? json_object_get_userdata(v) : NULL;

	return o && o->kind == ORIGIN_KIND ? o->where : "";
}

const char *
conf_text(json_object *v)
{
	struct origin *o = v ? json_object_get_userdata(v) : NULL;

	return o && o->kind == ORIGIN_KIND ? o->text : NULL;
}

static int
one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

static int
all_chars(const char *s, const char *set)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!strchr(set, *s))
			return 0;
	return 1;
}

/* Core-schema integer: [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+. */
static int
parse_int(const char *s, long long *out)
{
	const char *digits = s;
	int base = 10;
	char *end;

	if (strncmp(s, "0o", 2) == 0 && all_chars(s + 2, "01234567"))
		base = 8, digits = s + 2;
	else if (strncmp(s, "0x", 2) == 0 && all_chars(s + 2, "0123456789abcdefABCDEF"))
		base = 16, digits = s + 2;
	else if (!all_chars(s + (*s == '-' || *s == '+'), "0123456789"))
		return 0;
	errno = 0;
	*out = strtoll(digits, &end, base);
	return errno == 0 && *end == '\0' ? 1 : -1;
}

/* Core-schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?. */
static int
is_float(const char *s)
{
	const char *p = s + (*s == '-' || *s == '+');
	int digits = 0;

	while (*p >= '0' && *p <= '9')
		p++, digits++;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++, digits++;
	}
	if (!digits)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

/* The value of a scalar event (NULL for null).  -1 on a bad one. */
static int
resolve_scalar(const yaml_event_t *ev, json_object **out)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", NULL };
	static const char *const nonfinite[] = {
		".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf",
		"+.INF", "-.inf", "-.Inf", "-.INF", NULL,
	};
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	long long i;
	int r;

	*out = NULL;
	if (strlen(s) != len)
		return loam_seterr("NUL character in a scalar");
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		*out = json_object_new_string_len(s, (int)len);
		return 0;
	}
	if (one_of(s, nulls))
		return 0;
	if (one_of(s, trues) || one_of(s, falses)) {
		*out = json_object_new_boolean(one_of(s, trues));
		return 0;
	}
	if ((r = parse_int(s, &i)) != 0) {
		if (r < 0)
			return loam_seterr("integer out of range: %s", s);
		*out = json_object_new_int64(i);
		return 0;
	}
	if (is_float(s)) {
		double d = strtod(s, NULL);

		if (!isfinite(d))
			return loam_seterr("number out of range: %s", s);
		*out = json_object_new_double(d);
		return 0;
	}
	if (one_of(s, nonfinite))
		return loam_seterr("%s is not allowed (NaN and infinities are not numbers loam uses)", s);
	*out = json_object_new_string_len(s, (int)len);
	return 0;
}

/*
 * An event's explicit tag, or NULL.  Any tag is refused, on collections
 * and keys too: a tag asks the reader for a type or an object
 * (!!python/object) that loam's callers never look for, so honouring a
 * few and ignoring the rest let "run: !foo [echo]" through as if the tag
 * meant something.  The core schema's were only ever a way to say "this
 * is a string", which quoting says.
 */
static const char *
event_tag(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return (const char *)ev->data.scalar.tag;
	case YAML_SEQUENCE_START_EVENT:
		return (const char *)ev->data.sequence_start.tag;
	case YAML_MAPPING_START_EVENT:
		return (const char *)ev->data.mapping_start.tag;
	default:
		return NULL;
	}
}

static int
refuse_tag(const char *name, const yaml_event_t *ev, const char *tag)
{
	static const char core[] = "tag:yaml.org,2002:";
	char msg[300];

	/* libyaml hands over the tag resolved; show it as it was written. */
	if (strncmp(tag, core, sizeof core - 1) == 0)
		snprintf(msg, sizeof msg, "tags are not supported ('!!%.100s'): "
		    "quote a value to make it a string", tag + sizeof core - 1);
	else
		snprintf(msg, sizeof msg, "tags are not supported ('%.100s'): "
		    "quote a value to make it a string", tag);
	return loam_seterr("%s:%zu:%zu: %s", name, ev->start_mark.line + 1,
	    ev->start_mark.column + 1, msg);
}

/* The stack of open collections while events arrive. */
struct frame {
	json_object *node;
	char *key;		/* a mapping's pending key, or NULL */
	yaml_mark_t key_mark;
	int key_plain;
};

struct loader {
	const char *name;
	struct frame *stack;
	size_t depth, cap;
	json_object *root;
	int have_root;
};

static int
fail_at(const char *name, yaml_mark_t mark, const char *msg)
{
	return loam_seterr("%s:%zu:%zu: %s", name, mark.line + 1, mark.column + 1, msg);
}

/* Attach a finished value to the innermost open collection. */
static int
attach(struct loader *ld, json_object *v, yaml_mark_t mark, const yaml_event_t *ev)
{
	struct frame *f;

	if (ld->depth == 0) {
		ld->root = v;
		ld->have_root = 1;
		return 0;
	}
	f = &ld->stack[ld->depth - 1];
	if (json_object_is_type(f->node, json_type_array)) {
		json_object_array_add(f->node, v);
		return 0;
	}
	if (!f->key) {
		/* This value is a key. */
		if (!ev || ev->type != YAML_SCALAR_EVENT) {
			json_object_put(v);
			return fail_at(ld->name, mark, "keys must be scalars");
		}
		f->key = xstrdup((const char *)ev->data.scalar.value);
		f->key_mark = mark;
		f->key_plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		json_object_put(v);
		if (json_object_object_get_ex(f->node, f->key, NULL)) {
			char msg[300];

			snprintf(msg, sizeof msg, "duplicate key '%.200s'", f->key);
			return fail_at(ld->name, mark, msg);
		}
		return 0;
	}
	if (!v && f->key_plain && strchr(f->key, ':')) {
		char msg[400];

		json_object_put(v);
		snprintf(msg, sizeof msg, "key '%.100s' has no value: a space is "
		    "needed after ':' ('%.100s' reads as one key)", f->key, f->key);
		return fail_at(ld->name, f->key_mark, msg);
	}
	json_object_object_add(f->node, f->key, v);
	free(f->key);
	f->key = NULL;
	return 0;
}

static void
push(struct loader *ld, json_object *node)
{
	if (ld->depth == ld->cap) {
		ld->cap = ld->cap ? ld->cap * 2 : 16;
		ld->stack = xreallocarray(ld->stack, ld->cap, sizeof *ld->stack);
	}
	ld->stack[ld->depth].node = node;
	ld->stack[ld->depth].key = NULL;
	ld->depth++;
}

static void
loader_release(struct loader *ld, int keep_root)
{
	/* A collection joins its parent only when it ends, so every node
	 * still on the stack is a separate tree. */
	for (size_t i = 0; i < ld->depth; i++) {
		free(ld->stack[i].key);
		json_object_put(ld->stack[i].node);
	}
	free(ld->stack);
	if (!keep_root && ld->have_root)
		json_object_put(ld->root);
}

json_object *
conf_parse(const char *text, size_t len, const char *name)
{
	struct loader ld = { .name = name };
	yaml_parser_t parser;
	yaml_event_t ev;
	int done = 0, documents = 0, rc = 0;

	if (len > CONF_MAX_SIZE) {
		/* Say where the limit is crossed, as for any other error. */
		yaml_mark_t mark = { 0 };
		const char *p = text, *end = text + CONF_MAX_SIZE, *nl;

		while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL)
			p = nl + 1, mark.line++;
		mark.column = (size_t)(end - p);
		fail_at(name, mark, "larger than " CONF_MAX_SIZE_TEXT
		    " (a configuration file, not data)");
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		loam_seterr("%s: cannot initialise the YAML parser", name);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && rc == 0) {
		json_object *v = NULL;

		if (!yaml_parser_parse(&parser, &ev)) {
			char msg[400];

			if (parser.context)
				snprintf(msg, sizeof msg, "%s (%s at line %zu column %zu)",
				    parser.problem, parser.context,
				    parser.context_mark.line + 1, parser.context_mark.column + 1);
			else
				snprintf(msg, sizeof msg, "%s", parser.problem);
			rc = fail_at(name, parser.problem_mark, msg);
			break;
		}
		if (event_tag(&ev)) {
			rc = refuse_tag(name, &ev, event_tag(&ev));
			yaml_event_delete(&ev);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++documents > 1)
				rc = fail_at(name, ev.start_mark, "more than one document");
			break;
		case YAML_ALIAS_EVENT:
			rc = fail_at(name, ev.start_mark, "aliases (*name) are not supported");
			break;
		case YAML_SCALAR_EVENT:
			if (resolve_scalar(&ev, &v) != 0) {
				char msg[300];

				snprintf(msg, sizeof msg, "%s", loam_error());
				rc = fail_at(name, ev.start_mark, msg);
				break;
			}
			set_origin(v, name, ev.start_mark, (const char *)ev.data.scalar.value);
			rc = attach(&ld, v, ev.start_mark, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (ld.depth > 0 && json_object_is_type(ld.stack[ld.depth - 1].node,
			    json_type_object) && !ld.stack[ld.depth - 1].key) {
				rc = fail_at(name, ev.start_mark, "keys must be scalars");
				break;
			}
			/* Checked as the events come, so that libyaml stops
			 * early: it is quadratic in the depth of flow nesting. */
			if (ld.depth >= CONF_MAX_DEPTH) {
				rc = fail_at(name, ev.start_mark, "nested deeper than "
				    CONF_MAX_DEPTH_TEXT " levels");
				break;
			}
			v = ev.type == YAML_SEQUENCE_START_EVENT ?
			    json_object_new_array() : json_object_new_object();
			set_origin(v, name, ev.start_mark, NULL);
			push(&ld, v);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			v = ld.stack[--ld.depth].node;
			rc = attach(&ld, v, ev.start_mark, NULL);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (rc == 0 && !ld.have_root)
		rc = loam_seterr("%s: empty file", name);
	if (rc != 0) {
		loader_release(&ld, 0);
		return NULL;
	}
	loader_release(&ld, 1);
	return ld.root;
}

static int
is_json_name(const char *path)
{
	size_t n = strlen(path);

	return n >= 5 && strcmp(path + n - 5, ".json") == 0;
}

/*
 * A file named *.json must be JSON, not merely YAML that libyaml takes:
 * YAML allows a trailing comma in a flow collection, comments, single
 * quotes and unquoted words, so {"a": 1,} would pass where every other
 * JSON reader of the same file would fail.  json-c's strict tokener says
 * where it stopped; the tree comes from conf_parse as for YAML, so that
 * values keep their file:line:column.
 */
static int
json_strict_check(const char *text, size_t len, const char *path)
{
	struct json_tokener *tok = json_tokener_new_ex(CONF_MAX_DEPTH + 1);
	json_object *obj;
	enum json_tokener_error err;
	size_t off, line = 1, col = 1;

	if (!tok)
		return loam_seterr("%s: out of memory", path);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	err = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	if (obj && err == json_tokener_success) {
		/* only white space may follow the value */
		while (off < len && strchr(" \t\r\n", text[off]))
			off++;
		if (off == len) {
			json_object_put(obj);
			json_tokener_free(tok);
			return 0;
		}
		err = json_tokener_error_parse_unexpected;
	} else if (err == json_tokener_continue)
		err = json_tokener_error_parse_eof;
	json_object_put(obj);
	json_tokener_free(tok);
	for (size_t i = 0; i < off && i < len; i++)
		if (text[i] == '\n')
			line++, col = 1;
		else
			col++;
	return loam_seterr("%s:%zu:%zu: not JSON: %s", path, line, col,
	    json_tokener_error_desc(err));
}

json_object *
conf_load(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, cap = 0, n, want;
	json_object *root;

	if (!fp) {
		loam_seterr("%s: %s", path, strerror(errno));
		return NULL;
	}
	/* One byte past the limit is enough for conf_parse to refuse it;
	 * reading stops there (the file may be endless, like /dev/zero). */
	do {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			text = xrealloc(text, cap);
		}
		want = cap - len;
		if (want > CONF_MAX_SIZE + 1 - len)
			want = CONF_MAX_SIZE + 1 - len;
		n = fread(text + len, 1, want, fp);
		len += n;
	} while (n > 0 && len <= CONF_MAX_SIZE);
	if (ferror(fp)) {
		loam_seterr("%s: %s", path, strerror(errno));
		fclose(fp);
		free(text);
		return NULL;
	}
	fclose(fp);
	if (is_json_name(path) && len <= CONF_MAX_SIZE && json_strict_check(text, len, path) != 0) {
		free(text);
		return NULL;
	}
	root = conf_parse(text, len, path);
	free(text);
	return root;
}
