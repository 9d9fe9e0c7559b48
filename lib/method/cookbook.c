/* cookbook - see cookbook.h: buffers, vocabularies, the tokeniser, the
 * catalogue's lookups and cookbook_verify.  The templates themselves are in
 * cookbook_templates.c and, for Skill-It's two, cookbook_skillit.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookbook.h"
#include "rng.h"
#include "util.h"

/* The built-in vocabulary's generator: fixed, so that every run and every
 * seed sees the same words ("loam", "voca"). */
#define VOCAB_SEED	UINT64_C(0x6c6f616d)
/* Longest echo of a value in a message. */
#define ECHO_MAX	40

/* ---- buffers ---- */

void
cookbook_buf_reserve(struct cookbook_buf *b, size_t extra)
{
	size_t need, cap;

	if (extra > SIZE_MAX - b->len - 1)
		extra = SIZE_MAX - b->len - 1;	/* xrealloc then fails */
	need = b->len + extra + 1;
	if (need <= b->cap && b->s)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->s = xrealloc(b->s, cap);
	b->cap = cap;
}

/* Resetting gives a valid empty string even before the first add, so a
 * rule's output is always a string. */
void
cookbook_buf_reset(struct cookbook_buf *b)
{
	if (!b->s)
		cookbook_buf_reserve(b, 0);
	b->len = 0;
	b->s[0] = '\0';
}

void
cookbook_buf_add(struct cookbook_buf *b, const char *s, size_t n)
{
	cookbook_buf_reserve(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
cookbook_buf_release(struct cookbook_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/* ---- examples ---- */

void
cookbook_example_init(struct cookbook_example *ex)
{
	memset(ex, 0, sizeof *ex);
	ex->answer_index = -1;
}

void
cookbook_example_begin(struct cookbook_example *ex)
{
	cookbook_buf_reset(&ex->input);
	cookbook_buf_reset(&ex->output);
	cookbook_buf_reset(&ex->optbuf);
	ex->noptions = 0;
	ex->answer_index = -1;
	ex->skill = NULL;
}

void
cookbook_example_release(struct cookbook_example *ex)
{
	cookbook_buf_release(&ex->input);
	cookbook_buf_release(&ex->output);
	cookbook_buf_release(&ex->optbuf);
	free(ex->ids);
	free(ex->mark);
	cookbook_example_init(ex);
}

const char *
cookbook_example_option(const struct cookbook_example *ex, size_t i)
{
	return i < ex->noptions ? ex->optbuf.s + ex->optoff[i] : NULL;
}

/* ---- vocabularies ---- */

static inline unsigned char
fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* FNV-1a over the folded bytes: quick on the short tokens it sees. */
uint64_t
cookbook_token_hash(const char *s, size_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= fold((unsigned char)s[i]);
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

int
cookbook_token_cmp(const char *a, const char *b, size_t n)
{
	unsigned char x, y;
	size_t i;

	for (i = 0; i < n; i++) {
		x = fold((unsigned char)a[i]);
		y = fold((unsigned char)b[i]);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/* The set of tokens added so far, to drop duplicates: open addressing
 * over indices into v (slot value index + 1; 0 is empty). */
struct token_set {
	uint32_t *slot;
	size_t mask;
};

static void
token_set_init(struct token_set *set, size_t expect)
{
	size_t cap = 16;

	while (cap < expect * 2)
		cap *= 2;
	set->slot = xcalloc(cap, sizeof *set->slot);
	set->mask = cap - 1;
}

/* Add token s (n bytes) as index id unless an equal one is there: 1 when
 * added, 0 when a duplicate. */
static int
token_set_add(struct token_set *set, const struct cookbook_vocab *v,
    const char *s, size_t n, uint32_t id)
{
	size_t i = (size_t)cookbook_token_hash(s, n) & set->mask;
	uint32_t o;

	while ((o = set->slot[i]) != 0) {
		o--;
		if (v->len[o] == n && cookbook_token_cmp(v->token[o], s, n) == 0)
			return 0;
		i = (i + 1) & set->mask;
	}
	set->slot[i] = id + 1;
	return 1;
}

static void
token_set_release(struct token_set *set)
{
	free(set->slot);
	set->slot = NULL;
}

static void
vocab_alloc(struct cookbook_vocab *v, size_t maxtokens, size_t storage)
{
	memset(v, 0, sizeof *v);
	v->token = xcalloc(maxtokens ? maxtokens : 1, sizeof *v->token);
	v->len = xcalloc(maxtokens ? maxtokens : 1, sizeof *v->len);
	v->storage = xcalloc(storage + COOKBOOK_VOCAB_PAD, 1);
}

int
cookbook_vocab_builtin(struct cookbook_vocab *v, size_t n)
{
	static const char consonant[] = "bdfghjklmnprstvz";
	static const char vowel[] = "aeiou";
	struct token_set set;
	struct rng r;
	char *p;
	size_t i, nsyl;

	memset(v, 0, sizeof *v);
	if (n == 0 || n > COOKBOOK_VOCAB_BUILTIN_MAX)
		return loam_seterr("built-in vocabulary size %zu: must be 1 to %d",
		    n, COOKBOOK_VOCAB_BUILTIN_MAX);
	/* at most 4 syllables of 2 letters, and the NUL */
	vocab_alloc(v, n, n * 9);
	token_set_init(&set, n);
	rng_init(&r, VOCAB_SEED, RNG_COOKBOOK_VOCAB, 0);
	p = v->storage;
	while (v->n < n) {
		nsyl = 2 + (size_t)rng_uniform_int(&r, 3);
		for (i = 0; i < nsyl; i++) {
			p[2 * i] = consonant[rng_uniform_int(&r,
			    sizeof consonant - 1)];
			p[2 * i + 1] = vowel[rng_uniform_int(&r,
			    sizeof vowel - 1)];
		}
		p[2 * nsyl] = '\0';
		v->token[v->n] = p;
		v->len[v->n] = (uint32_t)(2 * nsyl);
		if (!token_set_add(&set, v, p, 2 * nsyl, (uint32_t)v->n))
			continue;	/* drawn before: draw again */
		if (2 * nsyl > v->maxlen)
			v->maxlen = 2 * nsyl;
		v->n++;
		p += 2 * nsyl + 1;
	}
	token_set_release(&set);
	return 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t
utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int
echo_len(size_t n)
{
	return n > ECHO_MAX ? ECHO_MAX : (int)n;
}

/* One line of a vocabulary file: 1 if it was added, 0 if skipped, -1 on
 * an error. */
static int
vocab_line(struct cookbook_vocab *v, struct token_set *set, char **store,
    const char *path, size_t lineno, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, step;
	int usable = 1;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	for (i = 0; i < n && is_space(u[i]); i++)
		;
	if (i == n)
		return 0;			/* blank */
	for (i = 0; i < n; i += step) {
		if (is_space(u[i]))
			return loam_seterr("%s:%zu: token '%.*s' contains "
			    "whitespace", path, lineno, echo_len(n), s);
		if (!(step = utf8_sequence(u + i, n - i)))
			return loam_seterr("%s:%zu: invalid UTF-8", path,
			    lineno);
		if (!cookbook_is_token_byte(u[i]))
			usable = 0;
	}
	if (!usable) {
		v->nskipped++;
		return 0;
	}
	if (n > UINT32_MAX)
		return loam_seterr("%s:%zu: token too long", path, lineno);
	memcpy(*store, s, n);
	(*store)[n] = '\0';
	v->token[v->n] = *store;
	v->len[v->n] = (uint32_t)n;
	if (!token_set_add(set, v, *store, n, (uint32_t)v->n)) {
		v->nduplicates++;
		return 0;
	}
	if (n > v->maxlen)
		v->maxlen = n;
	v->n++;
	*store += n + 1;
	return 1;
}

int
cookbook_vocab_load(struct cookbook_vocab *v, const char *path)
{
	struct token_set set;
	void *map;
	const char *s, *end, *nl;
	char *store;
	size_t len, lines = 1, lineno = 0;

	memset(v, 0, sizeof *v);
	if (map_file(path, &map, &len) < 0)
		return -1;
	if (len == 0)
		return loam_seterr("%s: no tokens", path);
	s = map;
	end = s + len;
	for (nl = s; (nl = memchr(nl, '\n', (size_t)(end - nl))) != NULL; nl++)
		lines++;
	/* every token is its line's bytes plus a NUL */
	vocab_alloc(v, lines, len + 1);
	token_set_init(&set, lines);
	store = v->storage;
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			nl = end;
		if (vocab_line(v, &set, &store, path, ++lineno, s,
		    (size_t)(nl - s)) < 0)
			goto fail;
		s = nl + 1;
	}
	if (v->n == 0) {
		loam_seterr("%s: no usable tokens (%zu lines skipped for ASCII "
		    "punctuation or control bytes)", path, v->nskipped);
		goto fail;
	}
	token_set_release(&set);
	unmap_file(map, len);
	return 0;
fail:
	token_set_release(&set);
	unmap_file(map, len);
	cookbook_vocab_release(v);
	return -1;
}

void
cookbook_vocab_release(struct cookbook_vocab *v)
{
	free(v->token);
	free(v->len);
	free(v->storage);
	memset(v, 0, sizeof *v);
}

/* ---- the tokeniser ---- */

size_t
cookbook_tokenize(const char *text, struct cookbook_buf *scratch, size_t (*span)[2],
    size_t max)
{
	const unsigned char *u = (const unsigned char *)text;
	size_t len = strlen(text), i = 0, start, n = 0;
	char *copy;

	cookbook_buf_reset(scratch);
	cookbook_buf_reserve(scratch, len);
	copy = scratch->s;
	for (i = 0; i < len; i++)
		copy[i] = (char)fold(u[i]);
	copy[len] = '\0';
	scratch->len = len;
	i = 0;
	while (i < len) {
		if (!cookbook_is_token_byte(u[i])) {
			i++;
			continue;
		}
		start = i;
		while (i < len && cookbook_is_token_byte(u[i]))
			i++;
		if (n < max) {
			span[n][0] = start;
			span[n][1] = i - start;
		}
		n++;
	}
	return n;
}

const char *
cookbook_words_join(struct cookbook_words *w, const char *text, struct cookbook_buf *out)
{
	size_t n = cookbook_tokenize(text, &w->scratch, w->span, w->cap);

	if (n > w->cap) {
		w->cap = n * 2;
		w->span = xreallocarray(w->span, w->cap, sizeof *w->span);
		n = cookbook_tokenize(text, &w->scratch, w->span, w->cap);
	}
	cookbook_buf_reset(out);
	for (size_t i = 0; i < n; i++) {
		if (i)
			cookbook_buf_add(out, " ", 1);
		cookbook_buf_add(out, w->scratch.s + w->span[i][0], w->span[i][1]);
	}
	cookbook_buf_add(out, "", 1);		/* NUL */
	return out->s;
}

void
cookbook_words_release(struct cookbook_words *w)
{
	cookbook_buf_release(&w->scratch);
	free(w->span);
	w->span = NULL;
	w->cap = 0;
}
