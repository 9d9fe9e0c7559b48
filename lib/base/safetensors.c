/*
 * safetensors - see safetensors.h.  The checks follow the reference
 * implementation (huggingface/safetensors, safetensors/src/tensor.rs):
 * header length limit, '{' first, known dtypes, offsets that tile the
 * data buffer with no gap or overlap, and sizes that match the shapes.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "safetensors.h"
#include "util.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

#define META	"__metadata__"
#define SHOWN	80	/* longest name echoed in a message */

static const struct {
	const char	*name;
	size_t		 size;
} dtypes[SAFETENSORS_NDTYPE] = {
	[SAFETENSORS_BOOL] = { "BOOL", 1 },
	[SAFETENSORS_U8] = { "U8", 1 },
	[SAFETENSORS_I8] = { "I8", 1 },
	[SAFETENSORS_F8_E5M2] = { "F8_E5M2", 1 },
	[SAFETENSORS_F8_E4M3] = { "F8_E4M3", 1 },
	[SAFETENSORS_I16] = { "I16", 2 },
	[SAFETENSORS_U16] = { "U16", 2 },
	[SAFETENSORS_F16] = { "F16", 2 },
	[SAFETENSORS_BF16] = { "BF16", 2 },
	[SAFETENSORS_I32] = { "I32", 4 },
	[SAFETENSORS_U32] = { "U32", 4 },
	[SAFETENSORS_F32] = { "F32", 4 },
	[SAFETENSORS_F64] = { "F64", 8 },
	[SAFETENSORS_I64] = { "I64", 8 },
	[SAFETENSORS_U64] = { "U64", 8 },
};

const char *
safetensors_dtype_name(int dtype)
{
	if (dtype < 0 || dtype >= SAFETENSORS_NDTYPE)
		return NULL;
	return dtypes[dtype].name;
}

size_t
safetensors_dtype_size(int dtype)
{
	if (dtype < 0 || dtype >= SAFETENSORS_NDTYPE)
		return 0;
	return dtypes[dtype].size;
}

int
safetensors_dtype_parse(const char *name)
{
	int i;

	for (i = 0; i < SAFETENSORS_NDTYPE; i++)
		if (strcmp(dtypes[i].name, name) == 0)
			return i;
	return -1;
}

/* prod(shape) * size into *nbytes; -1 on overflow.  A zero dimension
 * makes the product 0 however large the others are. */
static int
shape_bytes(const size_t *shape, int ndim, size_t size, size_t *nbytes)
{
	size_t n = size;
	int i, over = 0;

	for (i = 0; i < ndim; i++) {
		if (shape[i] == 0) {
			*nbytes = 0;
			return 0;
		}
		if (n > SIZE_MAX / shape[i])
			over = 1;
		else
			n *= shape[i];
	}
	if (over)
		return -1;
	*nbytes = n;
	return 0;
}

/* "[2, 3]" for messages; truncated past the buffer. */
static const char *
shape_str(char *buf, size_t size, const size_t *shape, int ndim)
{
	size_t len;
	int i;

	len = (size_t)snprintf(buf, size, "[");
	for (i = 0; i < ndim && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%zu",
		    i ? ", " : "", shape[i]);
	if (len < size)
		snprintf(buf + len, size - len, "]");
	return buf;
}

/*
 * Keys in the raw header text: every ':' outside a string starts a value
 * in some object.  json-c keeps only the last of duplicate keys, so
 * comparing this with the keys it kept reveals duplicates.  Also flags
 * "\u0000", which json-c would cut a key short at.
 */
static size_t
raw_keys(const char *s, size_t n, int *nul)
{
	size_t i, keys = 0;
	int in = 0;

	for (i = 0; i < n; i++) {
		if (in) {
			if (s[i] == '\\') {
				if (n - i > 5 && s[i + 1] == 'u' &&
				    memcmp(s + i + 2, "0000", 4) == 0)
					*nul = 1;
				i++;
			} else if (s[i] == '"')
				in = 0;
		} else if (s[i] == '"')
			in = 1;
		else if (s[i] == ':')
			keys++;
	}
	return keys;
}

/* Keys json-c kept, in every object at any depth. */
static size_t
tree_keys(struct json_object *o)
{
	size_t n = 0, i, len;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			(void)k;
			n += 1 + tree_keys(v);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		len = json_object_array_length(o);
		for (i = 0; i < len; i++)
			n += tree_keys(json_object_array_get_idx(o, i));
	}
	return n;
}

/* A non-negative JSON integer; json-c reads larger ones as INT64_MAX,
 * which no real size or offset reaches. */
static int
get_size(struct json_object *o, size_t *v)
{
	int64_t x;

	if (!json_object_is_type(o, json_type_int))
		return -1;
	x = json_object_get_int64(o);
	if (x < 0 || (uint64_t)x > SIZE_MAX)
		return -1;
	*v = (size_t)x;
	return 0;
}

/* Fill T from ENTRY, storing its shape at SHAPES. */
static int
parse_tensor(struct safetensors *st, struct safetensors_tensor *t,
    const char *name, struct json_object *entry, size_t *shapes)
{
	struct json_object *dt, *sh, *off;
	const char *s;
	char buf[128];
	size_t i, len, begin, end;

	t->name = xstrdup(name);
	if (!json_object_is_type(entry, json_type_object))
		return loam_seterr("%s: tensor '%.*s': entry is not an object",
		    st->name, SHOWN, name);
	if (!json_object_object_get_ex(entry, "dtype", &dt) ||
	    !json_object_is_type(dt, json_type_string))
		return loam_seterr("%s: tensor '%.*s': dtype missing or not a "
		    "string", st->name, SHOWN, name);
	s = json_object_get_string(dt);
	if ((t->dtype = safetensors_dtype_parse(s)) == -1)
		return loam_seterr("%s: tensor '%.*s': unknown dtype '%.*s'",
		    st->name, SHOWN, name, SHOWN, s);

	if (!json_object_object_get_ex(entry, "shape", &sh) ||
	    !json_object_is_type(sh, json_type_array))
		return loam_seterr("%s: tensor '%.*s': shape missing or not "
		    "an array", st->name, SHOWN, name);
	len = json_object_array_length(sh);
	if (len > INT32_MAX)
		return loam_seterr("%s: tensor '%.*s': too many dimensions",
		    st->name, SHOWN, name);
	for (i = 0; i < len; i++)
		if (get_size(json_object_array_get_idx(sh, i), &shapes[i]) ==
		    -1)
			return loam_seterr("%s: tensor '%.*s': shape entry "
			    "%zu is not a non-negative integer", st->name,
			    SHOWN, name, i);
	t->ndim = (int)len;
	t->shape = shapes;

	if (!json_object_object_get_ex(entry, "data_offsets", &off) ||
	    !json_object_is_type(off, json_type_array) ||
	    json_object_array_length(off) != 2 ||
	    get_size(json_object_array_get_idx(off, 0), &begin) == -1 ||
	    get_size(json_object_array_get_idx(off, 1), &end) == -1)
		return loam_seterr("%s: tensor '%.*s': data_offsets missing or "
		    "not [begin, end]", st->name, SHOWN, name);
	if (end < begin)
		return loam_seterr("%s: tensor '%.*s': data_offsets [%zu, %zu] "
		    "end before begin", st->name, SHOWN, name, begin, end);
	if (end > st->buf_len)
		return loam_seterr("%s: tensor '%.*s': data_offsets [%zu, %zu] "
		    "out of range (data buffer is %zu bytes)", st->name, SHOWN,
		    name, begin, end, st->buf_len);
	if (shape_bytes(t->shape, t->ndim, dtypes[t->dtype].size,
	    &t->nbytes) == -1)
		return loam_seterr("%s: tensor '%.*s': shape %s overflows",
		    st->name, SHOWN, name, shape_str(buf, sizeof buf,
		    t->shape, t->ndim));
	if (end - begin != t->nbytes)
		return loam_seterr("%s: tensor '%.*s': data_offsets [%zu, %zu] "
		    "hold %zu bytes, shape %s of %s needs %zu", st->name,
		    SHOWN, name, begin, end, end - begin, shape_str(buf,
		    sizeof buf, t->shape, t->ndim), dtypes[t->dtype].name,
		    t->nbytes);
	t->offset = begin;
	t->data = (const unsigned char *)st->buf + begin;
	return 0;
}

static int
parse_meta(struct safetensors *st, struct json_object *m)
{
	struct safetensors_kv *kv;
	const char *v;

	if (json_object_is_type(m, json_type_null))
		return 0;
	if (!json_object_is_type(m, json_type_object))
		return loam_seterr("%s: %s is not an object", st->name, META);
	st->meta = xcalloc((size_t)json_object_object_length(m),
	    sizeof *st->meta);
	json_object_object_foreach(m, k, val) {
		if (!json_object_is_type(val, json_type_string))
			return loam_seterr("%s: metadata '%.*s': value is not "
			    "a string", st->name, SHOWN, k);
		/* raw_keys() has refused "\u0000", so this is all of it. */
		v = json_object_get_string(val);
		kv = &st->meta[st->nmeta++];
		kv->key = xstrdup(k);
		kv->value = xstrdup(v);
	}
	return 0;
}

/* File order: by offset; empty tensors share offsets, so then by name. */
static int
cmp_offset(const void *pa, const void *pb)
{
	const struct safetensors_tensor *a = pa, *b = pb;

	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	if (a->nbytes != b->nbytes)
		return a->nbytes < b->nbytes ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* qsort has no context argument; a thread-local one keeps parsing in
 * several threads at once safe. */
static _Thread_local const struct safetensors_tensor *sort_tensors;

static int
cmp_byname(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

	return strcmp(sort_tensors[a].name, sort_tensors[b].name);
}

static int
check_layout(struct safetensors *st)
{
	const struct safetensors_tensor *t;
	size_t i, pos = 0;

	qsort(st->tensors, st->ntensors, sizeof *st->tensors, cmp_offset);
	for (i = 0; i < st->ntensors; i++) {
		t = &st->tensors[i];
		if (t->offset > pos)
			return loam_seterr("%s: data_offsets leave a gap: no "
			    "tensor holds data bytes [%zu, %zu)", st->name, pos,
			    t->offset);
		if (t->offset < pos)
			return loam_seterr("%s: tensor '%.*s': data_offsets "
			    "[%zu, %zu] overlap the previous tensor, which ends "
			    "at %zu", st->name, SHOWN, t->name, t->offset,
			    t->offset + t->nbytes, pos);
		pos = t->offset + t->nbytes;
	}
	if (pos != st->buf_len)
		return loam_seterr("%s: data_offsets end at %zu but the data "
		    "buffer is %zu bytes", st->name, pos, st->buf_len);

	st->byname = xcalloc(st->ntensors, sizeof *st->byname);
	for (i = 0; i < st->ntensors; i++)
		st->byname[i] = i;
	sort_tensors = st->tensors;
	qsort(st->byname, st->ntensors, sizeof *st->byname, cmp_byname);
	sort_tensors = NULL;
	for (i = 1; i < st->ntensors; i++)
		if (strcmp(st->tensors[st->byname[i]].name,
		    st->tensors[st->byname[i - 1]].name) == 0)
			return loam_seterr("%s: tensor '%.*s' appears twice",
			    st->name, SHOWN, st->tensors[st->byname[i]].name);
	return 0;
}

static int
parse_header(struct safetensors *st, const char *hdr, size_t n)
{
	struct json_tokener *tok;
	struct json_object *root, *shape;
	size_t i, end, ndims = 0, nt, raw;
	int nul = 0, r = 0;

	tok = json_tokener_new();
	/* Stop after the object; the padding is checked below. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_ALLOW_TRAILING_CHARS | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, hdr, (int)n);
	end = json_tokener_get_parse_end(tok);
	if (!root) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		json_tokener_free(tok);
		if (e == json_tokener_continue)
			return loam_seterr("%s: header JSON ends early (header "
			    "is %zu bytes)", st->name, n);
		return loam_seterr("%s: header JSON: %s at byte %zu", st->name,
		    json_tokener_error_desc(e), 8 + end);
	}
	json_tokener_free(tok);
	for (i = end; i < n; i++)
		if (hdr[i] != ' ' && hdr[i] != '\t' && hdr[i] != '\n' &&
		    hdr[i] != '\r') {
			json_object_put(root);
			return loam_seterr("%s: header has bytes after the JSON "
			    "object at byte %zu", st->name, 8 + i);
		}
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return loam_seterr("%s: header is not a JSON object", st->name);
	}
	raw = raw_keys(hdr, end, &nul);
	if (nul || raw != tree_keys(root)) {
		json_object_put(root);
		return loam_seterr("%s: header %s", st->name, nul ?
		    "holds a NUL character in a string" : "repeats a key");
	}

	/* Count first, so that shape storage never moves under pointers. */
	nt = 0;
	json_object_object_foreach(root, k0, v0) {
		if (strcmp(k0, META) == 0)
			continue;
		nt++;
		if (json_object_is_type(v0, json_type_object) &&
		    json_object_object_get_ex(v0, "shape", &shape) &&
		    json_object_is_type(shape, json_type_array))
			ndims += json_object_array_length(shape);
	}
	st->tensors = xcalloc(nt, sizeof *st->tensors);
	st->shapes = xcalloc(ndims, sizeof *st->shapes);
	ndims = 0;
	json_object_object_foreach(root, k, v) {
		if (strcmp(k, META) == 0) {
			r = parse_meta(st, v);
		} else {
			r = parse_tensor(st, &st->tensors[st->ntensors++], k, v,
			    st->shapes + ndims);
			ndims += (size_t)st->tensors[st->ntensors - 1].ndim;
		}
		if (r == -1)
			break;
	}
	json_object_put(root);
	if (r == -1)
		return -1;
	return check_layout(st);
}

static int
parse(struct safetensors *st, const unsigned char *b, size_t len)
{
	uint64_t n = 0;
	int i;

	if (len < 8)
		return loam_seterr("%s: too short for safetensors (%zu bytes)",
		    st->name, len);
	for (i = 7; i >= 0; i--)
		n = n << 8 | b[i];
	if (n > SAFETENSORS_MAX_HEADER)
		return loam_seterr("%s: header length %ju exceeds %d", st->name,
		    (uintmax_t)n, SAFETENSORS_MAX_HEADER);
	if (n > len - 8)
		return loam_seterr("%s: header length %ju exceeds the file "
		    "(%zu bytes)", st->name, (uintmax_t)n, len);
	if (n == 0 || b[8] != '{')
		return loam_seterr("%s: header does not start with '{'",
		    st->name);
	st->header_len = (size_t)n;
	st->buf = b + 8 + n;
	st->buf_len = len - 8 - (size_t)n;
	return parse_header(st, (const char *)b + 8, (size_t)n);
}

int
safetensors_parse(struct safetensors *st, const void *buf, size_t len,
    const char *name)
{
	memset(st, 0, sizeof *st);
	st->name = xstrdup(name);
	if (parse(st, buf, len) == -1) {
		safetensors_close(st);
		return -1;
	}
	return 0;
}

int
safetensors_open(struct safetensors *st, const char *path)
{
	void *map;
	size_t len;

	memset(st, 0, sizeof *st);
	if (map_file(path, &map, &len) != 0)
		return -1;
	if (safetensors_parse(st, map ? map : "", len, path) == -1) {
		unmap_file(map, len);
		return -1;
	}
	st->map = map;
	st->map_len = len;
	return 0;
}

void
safetensors_close(struct safetensors *st)
{
	size_t i;

	if (st->map)
		munmap(st->map, st->map_len);
	/* Names are allocated here and only lent out as const. */
	for (i = 0; i < st->ntensors; i++)
		free((char *)st->tensors[i].name);
	for (i = 0; i < st->nmeta; i++) {
		free((char *)st->meta[i].key);
		free((char *)st->meta[i].value);
	}
	free(st->tensors);
	free(st->meta);
	free(st->byname);
	free(st->shapes);
	free(st->name);
	memset(st, 0, sizeof *st);
}

const struct safetensors_tensor *
safetensors_find(const struct safetensors *st, const char *name)
{
	size_t lo = 0, hi = st->ntensors, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(name, st->tensors[st->byname[mid]].name);
		if (c == 0)
			return &st->tensors[st->byname[mid]];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	loam_seterr("%s: no tensor '%s'", st->name ? st->name : "?", name);
	return NULL;
}

const char *
safetensors_meta(const struct safetensors *st, const char *key)
{
	size_t i;

	for (i = 0; i < st->nmeta; i++)
		if (strcmp(st->meta[i].key, key) == 0)
			return st->meta[i].value;
	return NULL;
}

/* Writing. */

struct sbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->cap - b->len < n + 1) {
		while (b->cap - b->len < n + 1)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* A JSON string as serde_json writes it: short escapes where JSON has
 * them, \u00XX for other control characters, UTF-8 as is. */
static void
sb_json(struct sbuf *b, const char *s)
{
	char esc[8];

	sb_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': sb_add(b, "\\\"", 2); break;
		case '\\': sb_add(b, "\\\\", 2); break;
		case '\b': sb_add(b, "\\b", 2); break;
		case '\f': sb_add(b, "\\f", 2); break;
		case '\n': sb_add(b, "\\n", 2); break;
		case '\r': sb_add(b, "\\r", 2); break;
		case '\t': sb_add(b, "\\t", 2); break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof esc, "\\u%04x", c);
				sb_add(b, esc, 6);
			} else
				sb_add(b, s, 1);
		}
	}
	sb_add(b, "\"", 1);
}

/* Well-formed UTF-8 (RFC 3629): no overlongs, surrogates or values past
 * U+10FFFF, which readers validating the header would refuse. */
static int
utf8_ok(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned long cp;
	int n, i;

	while (*s) {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf) {
			n = 1;
			cp = *s & 0x1f;
		} else if (*s >= 0xe0 && *s <= 0xef) {
			n = 2;
			cp = *s & 0x0f;
		} else if (*s >= 0xf0 && *s <= 0xf4) {
			n = 3;
			cp = *s & 0x07;
		} else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		s += n + 1;
	}
	return 1;
}

static _Thread_local const struct safetensors_tensor *sort_out;

/* The reference writer's order: larger elements first, then by name. */
static int
cmp_write(const void *pa, const void *pb)
{
	const struct safetensors_tensor *a = &sort_out[*(const size_t *)pa];
	const struct safetensors_tensor *b = &sort_out[*(const size_t *)pb];
	size_t sa = dtypes[a->dtype].size, sb = dtypes[b->dtype].size;

	if (sa != sb)
		return sa > sb ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int
cmp_str(const void *pa, const void *pb)
{
	return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

/* Names must be unique; sorting a copy finds repeats in n log n. */
static int
check_unique(const char *path, const char **names, size_t n,
    const char *what)
{
	size_t i;

	qsort(names, n, sizeof *names, cmp_str);
	for (i = 1; i < n; i++)
		if (strcmp(names[i], names[i - 1]) == 0)
			return loam_seterr("%s: %s '%.*s' given twice", path,
			    what, SHOWN, names[i]);
	return 0;
}

static int
check_input(const char *path, const struct safetensors_tensor *t, size_t nt,
    const struct safetensors_kv *meta, size_t nmeta, size_t *nbytes)
{
	const char **names;
	size_t i;
	int r;

	for (i = 0; i < nt; i++) {
		if (!t[i].name || !utf8_ok(t[i].name))
			return loam_seterr("%s: tensor %zu: name missing or not "
			    "UTF-8", path, i);
		if (strcmp(t[i].name, META) == 0)
			return loam_seterr("%s: tensor %zu: name '%s' is "
			    "reserved", path, i, META);
		if (t[i].dtype < 0 || t[i].dtype >= SAFETENSORS_NDTYPE)
			return loam_seterr("%s: tensor '%.*s': bad dtype %d",
			    path, SHOWN, t[i].name, t[i].dtype);
		if (t[i].ndim < 0 || (t[i].ndim > 0 && !t[i].shape))
			return loam_seterr("%s: tensor '%.*s': bad shape", path,
			    SHOWN, t[i].name);
		if (shape_bytes(t[i].shape, t[i].ndim, dtypes[t[i].dtype].size,
		    &nbytes[i]) == -1)
			return loam_seterr("%s: tensor '%.*s': shape overflows",
			    path, SHOWN, t[i].name);
		if (nbytes[i] > 0 && !t[i].data)
			return loam_seterr("%s: tensor '%.*s': no data", path,
			    SHOWN, t[i].name);
	}
	for (i = 0; i < nmeta; i++)
		if (!meta[i].key || !meta[i].value || !utf8_ok(meta[i].key) ||
		    !utf8_ok(meta[i].value))
			return loam_seterr("%s: metadata %zu: key or value "
			    "missing or not UTF-8", path, i);

	names = xcalloc(nt > nmeta ? nt : nmeta, sizeof *names);
	for (i = 0; i < nt; i++)
		names[i] = t[i].name;
	r = check_unique(path, names, nt, "tensor");
	for (i = 0; r == 0 && i < nmeta; i++)
		names[i] = meta[i].key;
	if (r == 0)
		r = check_unique(path, names, nmeta, "metadata key");
	free(names);
	return r;
}

int
safetensors_write(const char *path, const struct safetensors_tensor *t,
    size_t nt, const struct safetensors_kv *meta, size_t nmeta)
{
	struct sbuf h = { 0 };
	const struct safetensors_tensor *u;
	size_t *order, *nbytes, i, pos = 0;
	char num[64], len8[8];
	struct atomic_file out;
	int ok, k;

	nbytes = xcalloc(nt, sizeof *nbytes);
	if (check_input(path, t, nt, meta, nmeta, nbytes) == -1) {
		free(nbytes);
		return -1;
	}
	order = xcalloc(nt, sizeof *order);
	for (i = 0; i < nt; i++)
		order[i] = i;
	sort_out = t;
	qsort(order, nt, sizeof *order, cmp_write);
	sort_out = NULL;

	/* Compact JSON in serde_json's layout: metadata, then tensors with
	 * their fields in the reference order. */
	sb_str(&h, "{");
	if (nmeta > 0) {
		sb_str(&h, "\"" META "\":{");
		for (i = 0; i < nmeta; i++) {
			if (i)
				sb_str(&h, ",");
			sb_json(&h, meta[i].key);
			sb_str(&h, ":");
			sb_json(&h, meta[i].value);
		}
		sb_str(&h, "}");
	}
	for (i = 0; i < nt; i++) {
		u = &t[order[i]];
		if (pos > SIZE_MAX - nbytes[order[i]]) {
			free(h.s);
			free(order);
			free(nbytes);
			return loam_seterr("%s: tensors too large", path);
		}
		if (i || nmeta > 0)
			sb_str(&h, ",");
		sb_json(&h, u->name);
		sb_str(&h, ":{\"dtype\":\"");
		sb_str(&h, dtypes[u->dtype].name);
		sb_str(&h, "\",\"shape\":[");
		for (k = 0; k < u->ndim; k++) {
			snprintf(num, sizeof num, "%s%zu", k ? "," : "",
			    u->shape[k]);
			sb_str(&h, num);
		}
		snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", pos,
		    pos + nbytes[order[i]]);
		sb_str(&h, num);
		pos += nbytes[order[i]];
	}
	sb_str(&h, "}");
	/* Spaces to a multiple of 8 keep the data buffer 8-aligned. */
	while (h.len % 8)
		sb_str(&h, " ");
	for (k = 0; k < 8; k++)
		len8[k] = (char)((uint64_t)h.len >> (8 * k) & 0xff);

	if (atomic_open(&out, path) != 0) {
		free(h.s);
		free(order);
		free(nbytes);
		return -1;
	}
	ok = atomic_write(&out, len8, 8) == 0 && atomic_write(&out, h.s, h.len) == 0;
	for (i = 0; ok && i < nt; i++)
		if (nbytes[order[i]] > 0)
			ok = atomic_write(&out, t[order[i]].data,
			    nbytes[order[i]]) == 0;
	free(h.s);
	free(order);
	free(nbytes);
	if (!ok) {
		atomic_abort(&out);
		return -1;
	}
	return atomic_commit(&out);
}
