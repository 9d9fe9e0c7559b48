/*
 * safetensors_test - lib/safetensors: round trips with metadata, the
 * reference writer's layout, and every kind of corrupt header the
 * reference reader refuses.  Run from the repository root.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safetensors.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/safetensors_test.XXXXXX";

static char *
tmppath(const char *name)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
	return buf[k];
}

static int
has(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

static int
read_file(const char *path, unsigned char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*buf = xmalloc((size_t)n + 1);
	*len = fread(*buf, 1, (size_t)n, f);
	(*buf)[*len] = '\0';
	fclose(f);
	return *len == (size_t)n ? 0 : -1;
}

/* A file image: N = strlen(JSON) unless N is given, the JSON, then
 * DLEN bytes counting up from 0.  The caller frees *out. */
static size_t
build(unsigned char **out, uint64_t n, const char *json, size_t dlen)
{
	size_t jl = strlen(json), len = 8 + jl + dlen, i;
	unsigned char *b = xmalloc(len);

	if (n == 0)
		n = jl;
	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(n >> (8 * i));
	memcpy(b + 8, json, jl);
	for (i = 0; i < dlen; i++)
		b[8 + jl + i] = (unsigned char)i;
	*out = b;
	return len;
}

static int
try_json(const char *json, size_t dlen)
{
	struct safetensors st;
	unsigned char *b;
	size_t len = build(&b, 0, json, dlen);
	int r = safetensors_parse(&st, b, len, "t.st");

	safetensors_close(&st);
	free(b);
	return r;
}

static void
bad_json(const char *json, size_t dlen, const char *want, const char *name)
{
	if (!ok(try_json(json, dlen) == -1 && has(loam_error(), "t.st: ") &&
	    has(loam_error(), want), "%s", name))
		diag("error: '%s', wanted '%s'", loam_error(), want);
	else
		diag("%s", loam_error());
}

static void
test_round_trip(void)
{
	static const char note[] = "quote \" backslash \\ tab\t\x01 \xc3\xbc";
	static const char head[] = "{\"__metadata__\":{\"format\":\"pt\","
	    "\"note\":\"quote \\\" backslash \\\\ tab\\t\\u0001 "
	    "\xc3\xbc\"},\"model.bias\":{\"dtype\":\"F64\",\"shape\":[3],"
	    "\"data_offsets\":[0,24]},\"model.weight\":{\"dtype\":\"F32\","
	    "\"shape\":[2,3],\"data_offsets\":[24,48]},\"mask\":"
	    "{\"dtype\":\"U8\",\"shape\":[5],\"data_offsets\":[48,53]}}";
	struct safetensors st;
	const struct safetensors_tensor *w, *b, *m;
	size_t wshape[2] = { 2, 3 }, bshape[1] = { 3 }, mshape[1] = { 5 };
	float wdata[6] = { 1, -2, 3.5f, 4, 5, 6 };
	double bdata[3] = { 0.25, -1e300, 3 };
	uint8_t mdata[5] = { 1, 0, 1, 1, 0 };
	struct safetensors_tensor t[3] = {
		{ "model.weight", SAFETENSORS_F32, 2, wshape, wdata, 0, 0 },
		{ "mask", SAFETENSORS_U8, 1, mshape, mdata, 0, 0 },
		{ "model.bias", SAFETENSORS_F64, 1, bshape, bdata, 0, 0 },
	};
	struct safetensors_kv meta[2] = {
		{ "format", "pt" }, { "note", note },
	};
	unsigned char *raw;
	size_t len;
	const char *pb, *pw, *pm;
	char *p = tmppath("rt.safetensors");

	if (!ok(safetensors_write(p, t, 3, meta, 2) == 0, "write 3 tensors "
	    "with metadata"))
		diag("%s", loam_error());
	if (!ok(safetensors_open(&st, p) == 0, "open it")) {
		diag("%s", loam_error());
		return;
	}
	is_int((long long)st.ntensors, 3, "3 tensors");
	is_int((long long)(st.header_len % 8), 0, "header length %% 8 == 0");
	is_int((long long)st.buf_len, 24 + 24 + 5, "data buffer size");
	/* F64 before F32 before U8, then by name within a size. */
	is_str(st.tensors[0].name, "model.bias", "file order 0: model.bias");
	is_str(st.tensors[1].name, "model.weight",
	    "file order 1: model.weight");
	is_str(st.tensors[2].name, "mask", "file order 2: mask");
	ok(st.tensors[0].offset == 0 && st.tensors[1].offset == 24 &&
	    st.tensors[2].offset == 48, "offsets 0, 24, 48");

	w = safetensors_find(&st, "model.weight");
	b = safetensors_find(&st, "model.bias");
	m = safetensors_find(&st, "mask");
	ok(w && w->dtype == SAFETENSORS_F32 && w->ndim == 2 &&
	    w->shape[0] == 2 && w->shape[1] == 3 && w->nbytes == 24 &&
	    memcmp(w->data, wdata, 24) == 0, "model.weight comes back");
	ok(b && b->dtype == SAFETENSORS_F64 && b->ndim == 1 &&
	    b->shape[0] == 3 && memcmp(b->data, bdata, 24) == 0,
	    "model.bias comes back");
	ok(m && m->dtype == SAFETENSORS_U8 && m->shape[0] == 5 &&
	    memcmp(m->data, mdata, 5) == 0, "mask comes back");
	ok(w && b && (uintptr_t)w->data % 4 == 0 &&
	    (uintptr_t)b->data % 8 == 0, "data pointers are aligned");
	ok(safetensors_find(&st, "nope") == NULL &&
	    has(loam_error(), "no tensor 'nope'"), "missing tensor: %s",
	    loam_error());
	is_int((long long)st.nmeta, 2, "2 metadata pairs");
	ok(st.nmeta == 2 && strcmp(st.meta[0].key, "format") == 0 &&
	    strcmp(st.meta[1].key, "note") == 0, "metadata in given order");
	is_str(safetensors_meta(&st, "format"), "pt", "metadata format");
	is_str(safetensors_meta(&st, "note"), note,
	    "metadata with escapes and UTF-8");
	ok(safetensors_meta(&st, "nope") == NULL, "missing metadata key");
	safetensors_close(&st);
	safetensors_close(&st);
	ok(st.tensors == NULL && st.map == NULL, "close twice is harmless");

	/* The header text, as serde_json lays it out. */
	if (read_file(p, &raw, &len) == 0) {
		pb = strstr((char *)raw + 8, "\"model.bias\"");
		pw = strstr((char *)raw + 8, "\"model.weight\"");
		pm = strstr((char *)raw + 8, "\"mask\"");
		ok(pb && pw && pm && pb < pw && pw < pm,
		    "header lists F64, F32, U8");
		ok(memcmp(raw + 8, head, sizeof head - 1) == 0,
		    "header bytes as the reference writer's");
		free(raw);
	} else
		ok(0, "read back");
}

static void
test_every_dtype(void)
{
	struct safetensors_tensor t[SAFETENSORS_NDTYPE];
	struct safetensors st;
	unsigned char data[SAFETENSORS_NDTYPE][48];
	char names[SAFETENSORS_NDTYPE][16];
	size_t shape[2] = { 2, 3 }, i, prev = 8;
	int d, good = 1;

	for (d = 0; d < SAFETENSORS_NDTYPE; d++) {
		snprintf(names[d], sizeof names[d], "t%02d", d);
		for (i = 0; i < sizeof data[d]; i++)
			data[d][i] = (unsigned char)(d * 16 + i);
		t[d].name = names[d];
		t[d].dtype = d;
		t[d].ndim = 2;
		t[d].shape = shape;
		t[d].data = data[d];
	}
	ok(safetensors_write(tmppath("all.st"), t, SAFETENSORS_NDTYPE, NULL,
	    0) == 0, "write one tensor of each dtype");
	if (!ok(safetensors_open(&st, tmppath("all.st")) == 0, "read it")) {
		diag("%s", loam_error());
		return;
	}
	is_int((long long)st.nmeta, 0, "no metadata");
	for (d = 0; d < SAFETENSORS_NDTYPE; d++) {
		const struct safetensors_tensor *u = safetensors_find(&st,
		    names[d]);

		if (!ok(u && u->dtype == d && u->ndim == 2 &&
		    u->nbytes == 6 * safetensors_dtype_size(d) &&
		    memcmp(u->data, data[d], u->nbytes) == 0 &&
		    (uintptr_t)u->data % safetensors_dtype_size(d) == 0,
		    "%s round trip", safetensors_dtype_name(d)))
			continue;
		is_int(safetensors_dtype_parse(safetensors_dtype_name(d)), d,
		    "%s name parses back", safetensors_dtype_name(d));
	}
	/* Sizes never increase along the file. */
	for (i = 0; i < st.ntensors; i++) {
		size_t s = safetensors_dtype_size(st.tensors[i].dtype);

		good = good && s <= prev;
		prev = s;
	}
	ok(good, "tensors by descending alignment");
	safetensors_close(&st);
}

static void
test_small_cases(void)
{
	struct safetensors st;
	struct safetensors_tensor t[2];
	size_t eshape[2] = { 0, 4 };
	int16_t s = -7;
	unsigned char *raw;
	size_t len;

	memset(t, 0, sizeof t);
	t[0].name = "scalar";
	t[0].dtype = SAFETENSORS_I16;
	t[0].data = &s;
	t[1].name = "empty";
	t[1].dtype = SAFETENSORS_BF16;
	t[1].ndim = 2;
	t[1].shape = eshape;
	ok(safetensors_write(tmppath("small.st"), t, 2, NULL, 0) == 0,
	    "write a scalar and an empty tensor");
	ok(safetensors_open(&st, tmppath("small.st")) == 0 &&
	    st.ntensors == 2 && st.buf_len == 2, "read them");
	if (st.ntensors == 2) {
		const struct safetensors_tensor *a = safetensors_find(&st,
		    "scalar"), *e = safetensors_find(&st, "empty");

		ok(a && a->ndim == 0 && a->nbytes == 2 &&
		    memcmp(a->data, &s, 2) == 0, "scalar comes back");
		ok(e && e->ndim == 2 && e->shape[0] == 0 && e->nbytes == 0,
		    "empty tensor comes back");
	}
	safetensors_close(&st);

	ok(safetensors_write(tmppath("none.st"), NULL, 0, NULL, 0) == 0,
	    "write no tensors");
	ok(read_file(tmppath("none.st"), &raw, &len) == 0 && len == 16 &&
	    memcmp(raw, "\x08\0\0\0\0\0\0\0{}      ", 16) == 0,
	    "no tensors: '{}' padded to 8");
	free(raw);
	ok(safetensors_open(&st, tmppath("none.st")) == 0 &&
	    st.ntensors == 0, "read no tensors");
	safetensors_close(&st);

	/* Exact bytes of a minimal file. */
	{
		float x[2] = { 1, 2 };
		size_t xs[1] = { 2 };
		struct safetensors_tensor one = { "x", SAFETENSORS_F32, 1, xs,
		    x, 0, 0 };
		struct safetensors_kv kv = { "k", "v" };
		static const char want[] = "{\"__metadata__\":{\"k\":\"v\"},"
		    "\"x\":{\"dtype\":\"F32\",\"shape\":[2],"
		    "\"data_offsets\":[0,8]}}";

		safetensors_write(tmppath("min.st"), &one, 1, &kv, 1);
		ok(read_file(tmppath("min.st"), &raw, &len) == 0 &&
		    len == 8 + 80 + 8 && raw[0] == 80 &&
		    memcmp(raw + 8, want, sizeof want - 1) == 0 &&
		    raw[8 + sizeof want - 1] == ' ' &&
		    memcmp(raw + 88, x, 8) == 0, "minimal file bytes");
		free(raw);
	}
}

static void
test_parse_ok(void)
{
	struct safetensors st;
	unsigned char *b;
	size_t len;

	ok(try_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],"
	    "\"data_offsets\":[0,2]}}   \n", 2) == 0, "header padded with "
	    "spaces and a newline");
	ok(try_json("{\"__metadata__\":null,\"a\":{\"shape\":[2],"
	    "\"data_offsets\":[0,2],\"dtype\":\"I8\",\"x\":{\"y\":1}}}", 2) ==
	    0, "null metadata, fields in any order, unknown fields");
	/* Tensors listed out of offset order come back in file order. */
	len = build(&b, 0, "{\"b\":{\"dtype\":\"U8\",\"shape\":[1],"
	    "\"data_offsets\":[2,3]},\"a\":{\"dtype\":\"U8\",\"shape\":[2],"
	    "\"data_offsets\":[0,2]}}", 3);
	ok(safetensors_parse(&st, b, len, "t.st") == 0 && st.ntensors == 2 &&
	    strcmp(st.tensors[0].name, "a") == 0 &&
	    ((const unsigned char *)st.tensors[1].data)[0] == 2,
	    "iteration is in file order");
	safetensors_close(&st);
	free(b);
}

static void
test_parse_bad(void)
{
	struct safetensors st;
	unsigned char *b;
	size_t len;

	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[8],"
	    "\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"U8\",\"shape\":[8],"
	    "\"data_offsets\":[12,20]}}", 20, "gap", "gap between tensors");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[8],"
	    "\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"U8\",\"shape\":[8],"
	    "\"data_offsets\":[4,12]}}", 12, "overlap", "overlapping tensors");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[16],"
	    "\"data_offsets\":[0,16]}}", 8, "out of range",
	    "offsets past the buffer");
	bad_json("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
	    "\"data_offsets\":[0,12]}}", 12, "shape [2] of F32 needs 8",
	    "size does not match the shape");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],"
	    "\"data_offsets\":[8,0]}}", 8, "end before begin",
	    "end before begin");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],"
	    "\"data_offsets\":[0,4]}}", 8, "data_offsets end at 4",
	    "bytes after the last tensor");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],"
	    "\"data_offsets\":[4,8]}}", 8, "gap", "bytes before the first "
	    "tensor");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],"
	    "\"data_offsets\":[0,8]}}", 8, "overflows", "shape overflows");
	bad_json("{\"a\":{\"dtype\":\"Q8\",\"shape\":[8],"
	    "\"data_offsets\":[0,8]}}", 8, "unknown dtype 'Q8'",
	    "unknown dtype");
	bad_json("{\"a\":{\"shape\":[8],\"data_offsets\":[0,8]}}", 8,
	    "dtype missing", "missing dtype");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[-8],"
	    "\"data_offsets\":[0,8]}}", 8, "shape entry 0",
	    "negative dimension");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[8.0],"
	    "\"data_offsets\":[0,8]}}", 8, "shape entry 0",
	    "fractional dimension");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":8,"
	    "\"data_offsets\":[0,8]}}", 8, "not an array", "shape not a list");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[8],"
	    "\"data_offsets\":[0,4,8]}}", 8, "not [begin, end]",
	    "three offsets");
	bad_json("{\"a\":[1]}", 0, "not an object", "entry not an object");
	bad_json("{\"__metadata__\":{\"k\":1}}", 0,
	    "metadata 'k': value is not a string", "metadata value a number");
	bad_json("{\"__metadata__\":[\"k\"]}", 0, "__metadata__ is not an "
	    "object", "metadata a list");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],"
	    "\"data_offsets\":[0,1]},\"a\":{\"dtype\":\"U8\",\"shape\":[1],"
	    "\"data_offsets\":[1,2]}}", 2, "repeats a key",
	    "duplicate tensor name");
	bad_json("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
	    "repeats a key", "duplicate metadata key");
	bad_json("{\"a\\u0000\":{\"dtype\":\"U8\",\"shape\":[1],"
	    "\"data_offsets\":[0,1]}}", 1, "NUL", "NUL in a name");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],"
	    "\"data_offsets\":[0,1]}", 1, "ends early", "unclosed header");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],"
	    "\"data_offsets\":[0,1],}}", 1, "header JSON", "trailing comma");
	bad_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],"
	    "\"data_offsets\":[0,1]}} x", 1, "after the JSON",
	    "text after the header object");
	bad_json("{\"\xff\":{}}", 0, "utf", "invalid UTF-8");
	bad_json("[{\"a\":1}]", 0, "start with '{'", "header is a list");
	bad_json(" {}", 0, "start with '{'", "header starts with a space");

	len = build(&b, 100000001, "{}", 0);
	ok(safetensors_parse(&st, b, len, "t.st") == -1 &&
	    has(loam_error(), "exceeds 100000000"), "N over the limit: %s",
	    loam_error());
	free(b);
	len = build(&b, 40, "{}", 8);
	ok(safetensors_parse(&st, b, len, "t.st") == -1 &&
	    has(loam_error(), "exceeds the file"), "N past the end: %s",
	    loam_error());
	free(b);
	ok(safetensors_parse(&st, "\2\0\0\0", 4, "t.st") == -1 &&
	    has(loam_error(), "too short"), "4-byte file: %s", loam_error());
	len = build(&b, 0, "", 0);
	ok(safetensors_parse(&st, b, len, "t.st") == -1 &&
	    has(loam_error(), "start with '{'"), "N = 0: %s", loam_error());
	free(b);
	ok(safetensors_open(&st, tmppath("missing.st")) == -1 &&
	    has(loam_error(), strerror(ENOENT)), "missing file: %s",
	    loam_error());
	ok(safetensors_open(&st, dir) == -1 &&
	    has(loam_error(), "not a regular file"), "directory: %s",
	    loam_error());
}

static int
count_tmp(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp"))
			n++;
	closedir(d);
	return n;
}

static void
test_write_bad(void)
{
	struct safetensors st;
	uint8_t x[2] = { 1, 2 };
	size_t shape[1] = { 2 };
	struct safetensors_tensor t[2] = {
		{ "a", SAFETENSORS_U8, 1, shape, x, 0, 0 },
		{ "a", SAFETENSORS_I8, 1, shape, x, 0, 0 },
	};
	struct safetensors_kv kv[2] = { { "k", "v" }, { "k", "w" } };
	char p[256];

	snprintf(p, sizeof p, "%s", tmppath("w.st"));
	ok(safetensors_write(p, t, 1, kv, 1) == 0, "write a file");
	ok(safetensors_write(p, t, 2, NULL, 0) == -1 &&
	    has(loam_error(), "tensor 'a' given twice"), "duplicate names: %s",
	    loam_error());
	ok(safetensors_write(p, t, 1, kv, 2) == -1 &&
	    has(loam_error(), "metadata key 'k' given twice"),
	    "duplicate metadata keys: %s", loam_error());
	t[1].name = "__metadata__";
	ok(safetensors_write(p, t, 2, NULL, 0) == -1 &&
	    has(loam_error(), "reserved"), "tensor named __metadata__: %s",
	    loam_error());
	t[1].name = "b\xc0\xaf";
	ok(safetensors_write(p, t, 2, NULL, 0) == -1 &&
	    has(loam_error(), "not UTF-8"), "overlong UTF-8 name: %s",
	    loam_error());
	t[1].name = "b";
	t[1].dtype = SAFETENSORS_NDTYPE;
	ok(safetensors_write(p, t, 2, NULL, 0) == -1 &&
	    has(loam_error(), "bad dtype"), "bad dtype: %s", loam_error());
	t[1].dtype = SAFETENSORS_I8;
	t[1].data = NULL;
	ok(safetensors_write(p, t, 2, NULL, 0) == -1 &&
	    has(loam_error(), "no data"), "no data: %s", loam_error());
	ok(safetensors_write(tmppath("nodir/w.st"), t, 1, NULL, 0) == -1 &&
	    has(loam_error(), "nodir/w.st: ") &&
	    has(loam_error(), strerror(ENOENT)), "nonexistent directory: %s",
	    loam_error());
	mkdir(tmppath("isdir"), 0777);
	ok(safetensors_write(tmppath("isdir"), t, 1, NULL, 0) == -1 &&
	    has(loam_error(), "isdir: "), "target is a directory: %s",
	    loam_error());
	rmdir(tmppath("isdir"));
	is_int(count_tmp(), 0, "failed writes left no temporary");
	ok(safetensors_open(&st, p) == 0 && st.ntensors == 1 &&
	    st.nmeta == 1, "the file written first is intact");
	safetensors_close(&st);
}

static void
cleanup(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlink(tmppath(e->d_name));
	closedir(d);
	rmdir(dir);
}

int
main(void)
{
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_round_trip();
	test_every_dtype();
	test_small_cases();
	test_parse_ok();
	test_parse_bad();
	test_write_bad();
	cleanup();
	return tap_done();
}
