/*
 * wordnet.c - WordNet 3.0 lookups as NLTK makes them (see wordnet.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strtab.h"
#include "util.h"
#include "wordnet.h"

/* NLTK's POS_LIST order, with the file names and detachment rules of
 * each part of speech (WordNet's morphy(7WN); NLTK's list and order). */
enum { NOUN, VERB, ADJ, ADV, N_POS };

static const char *const pos_file[N_POS] = { "noun", "verb", "adj", "adv" };

struct detach {
	const char *old, *new;
};

static const struct detach noun_rules[] = {
	{ "s", "" }, { "ses", "s" }, { "ves", "f" }, { "xes", "x" }, { "zes", "z" },
	{ "ches", "ch" }, { "shes", "sh" }, { "men", "man" }, { "ies", "y" },
};
static const struct detach verb_rules[] = {
	{ "s", "" }, { "ies", "y" }, { "es", "e" }, { "es", "" }, { "ed", "e" },
	{ "ed", "" }, { "ing", "e" }, { "ing", "" },
};
static const struct detach adj_rules[] = {
	{ "er", "" }, { "est", "" }, { "er", "e" }, { "est", "e" },
};

static const struct {
	const struct detach *rule;
	size_t n;
} detach_rules[N_POS] = {
	{ noun_rules, sizeof noun_rules / sizeof noun_rules[0] },
	{ verb_rules, sizeof verb_rules / sizeof verb_rules[0] },
	{ adj_rules, sizeof adj_rules / sizeof adj_rules[0] },
	{ NULL, 0 },
};

/* What the index and the exception lists say of one string. */
struct entry {
	uint32_t offsets[N_POS];	/* first of its synset offsets in wn->offset */
	uint32_t n_offsets[N_POS];	/* 0: not a lemma of that part of speech */
	uint32_t exceptions[N_POS];	/* first of its base forms in wn->exception */
	int32_t n_exceptions[N_POS];	/* -1: no exception line */
};

struct wordnet {
	struct strtab *words;
	struct entry *entry;		/* by id in words */
	size_t n_entry;
	uint32_t *offset;
	size_t n_offset, cap_offset;
	uint32_t *exception;		/* ids in words */
	size_t n_exception, cap_exception;
	void *data[N_POS];		/* data.* mapped */
	size_t data_len[N_POS];
};

static struct entry *
entry_of(struct wordnet *wn, uint32_t id)
{
	if (id >= wn->n_entry) {
		size_t n = wn->n_entry ? wn->n_entry : 1024;

		while (n <= id)
			n *= 2;
		wn->entry = xreallocarray(wn->entry, n, sizeof *wn->entry);
		for (size_t i = wn->n_entry; i < n; i++) {
			memset(&wn->entry[i], 0, sizeof wn->entry[i]);
			for (int p = 0; p < N_POS; p++)
				wn->entry[i].n_exceptions[p] = -1;
		}
		wn->n_entry = n;
	}
	return &wn->entry[id];
}

static const struct entry *
find(const struct wordnet *wn, const char *s, size_t len)
{
	uint32_t id = strtab_find(wn->words, s, len);

	return id == STRTAB_NONE || id >= wn->n_entry ? NULL : &wn->entry[id];
}

static void
push(uint32_t **a, size_t *n, size_t *cap, uint32_t v)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 4096;
		*a = xreallocarray(*a, *cap, sizeof **a);
	}
	(*a)[(*n)++] = v;
}

/* The next whitespace-separated token of line[*i, n). */
static int
token(const char *line, size_t n, size_t *i, const char **tok, size_t *len)
{
	while (*i < n && (line[*i] == ' ' || line[*i] == '\t' || line[*i] == '\r'))
		(*i)++;
	if (*i >= n)
		return 0;
	*tok = line + *i;
	while (*i < n && line[*i] != ' ' && line[*i] != '\t' && line[*i] != '\r')
		(*i)++;
	*len = (size_t)(line + *i - *tok);
	return 1;
}

/* Call fn on each line of dir/name (its text and length); a line fn
 * refuses (-1) is an error naming the file and the line. */
static int
each_line(struct wordnet *wn, int pos, const char *dir, const char *name,
    int (*fn)(struct wordnet *wn, int pos, const char *line, size_t len))
{
	char path[4096];
	const char *text;
	void *map;
	size_t len, at = 0;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (map_file(path, &map, &len) != 0)
		return loam_seterr("%s: cannot open: %m", path);
	text = map;
	while (at < len) {
		size_t end = at;

		while (end < len && text[end] != '\n')
			end++;
		if (fn(wn, pos, text + at, end - at) != 0) {
			loam_seterr("%s: malformed line %.*s", path,
			    (int)(end - at > 60 ? 60 : end - at), text + at);
			unmap_file(map, len);
			return -1;
		}
		at = end + 1;
	}
	unmap_file(map, len);
	return 0;
}

/* index.POS: "lemma pos n_synsets n_ptr ptr... n_senses n_tagged offset..."
 * (lines starting with a space are the licence). */
static int
index_line(struct wordnet *wn, int pos, const char *line, size_t n)
{
	size_t i = 0, tl, lemma_len;
	const char *t, *lemma;
	long n_synsets, n_ptr;
	struct entry *e;

	if (n == 0 || line[0] == ' ' || !token(line, n, &i, &lemma, &lemma_len))
		return 0;
	if (!token(line, n, &i, &t, &tl) || !token(line, n, &i, &t, &tl) ||
	    (n_synsets = strtol(t, NULL, 10)) <= 0 ||
	    !token(line, n, &i, &t, &tl) || (n_ptr = strtol(t, NULL, 10)) < 0)
		return -1;
	for (long k = 0; k < n_ptr + 2; k++)	/* pointers, n_senses, n_tagged */
		if (!token(line, n, &i, &t, &tl))
			return -1;
	e = entry_of(wn, strtab_intern(wn->words, lemma, lemma_len));
	e->offsets[pos] = (uint32_t)wn->n_offset;
	e->n_offsets[pos] = (uint32_t)n_synsets;
	for (long k = 0; k < n_synsets; k++) {
		if (!token(line, n, &i, &t, &tl))
			return -1;
		push(&wn->offset, &wn->n_offset, &wn->cap_offset, (uint32_t)strtoul(t, NULL, 10));
	}
	return 0;
}

/* POS.exc: "inflected base..." (the last line for a form wins, as in NLTK). */
static int
exception_line(struct wordnet *wn, int pos, const char *line, size_t n)
{
	size_t i = 0, tl, first = wn->n_exception;
	const char *t;
	int32_t count = 0;
	uint32_t id;

	if (!token(line, n, &i, &t, &tl))
		return 0;
	id = strtab_intern(wn->words, t, tl);
	while (token(line, n, &i, &t, &tl)) {
		push(&wn->exception, &wn->n_exception, &wn->cap_exception,
		    strtab_intern(wn->words, t, tl));
		count++;
	}
	entry_of(wn, id)->exceptions[pos] = (uint32_t)first;
	entry_of(wn, id)->n_exceptions[pos] = count;
	return 0;
}

struct wordnet *
wordnet_open(const char *dir)
{
	struct wordnet *wn = xcalloc(1, sizeof *wn);

	wn->words = strtab_new();
	for (int p = 0; p < N_POS; p++) {
		char path[4096], index[32], exc[32];

		snprintf(path, sizeof path, "%s/data.%s", dir, pos_file[p]);
		snprintf(index, sizeof index, "index.%s", pos_file[p]);
		snprintf(exc, sizeof exc, "%s.exc", pos_file[p]);
		if (each_line(wn, p, dir, index, index_line) != 0 ||
		    each_line(wn, p, dir, exc, exception_line) != 0)
			goto fail;
		if (map_file(path, &wn->data[p], &wn->data_len[p]) != 0) {
			loam_seterr("%s: cannot open: %m", path);
			goto fail;
		}
	}
	return wn;
fail:
	wordnet_close(wn);
	return NULL;
}

void
wordnet_close(struct wordnet *wn)
{
	if (!wn)
		return;
	for (int p = 0; p < N_POS; p++)
		if (wn->data[p])
			unmap_file(wn->data[p], wn->data_len[p]);
	strtab_free(wn->words);
	free(wn->entry);
	free(wn->offset);
	free(wn->exception);
	free(wn);
}

/* A list of candidate forms, without repeats (NLTK keeps repeats; they
 * change nothing but the time, which they can make exponential). */
struct forms {
	char **s;
	size_t *len;
	size_t n, cap;
};

static void
forms_add(struct forms *f, const char *s, size_t len, const char *tail)
{
	size_t tl = strlen(tail);

	for (size_t i = 0; i < f->n; i++)
		if (f->len[i] == len + tl && memcmp(f->s[i], s, len) == 0 &&
		    memcmp(f->s[i] + len, tail, tl) == 0)
			return;
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 16;
		f->s = xreallocarray(f->s, f->cap, sizeof *f->s);
		f->len = xreallocarray(f->len, f->cap, sizeof *f->len);
	}
	f->s[f->n] = xmalloc(len + tl + 1);
	memcpy(f->s[f->n], s, len);
	memcpy(f->s[f->n] + len, tail, tl + 1);
	f->len[f->n++] = len + tl;
}

static void
forms_clear(struct forms *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->s[i]);
	f->n = 0;
}

static void
forms_release(struct forms *f)
{
	forms_clear(f);
	free(f->s);
	free(f->len);
}

/* Each form with each rule whose suffix ends it applied once. */
static void
detach(int pos, const struct forms *in, struct forms *out)
{
	forms_clear(out);
	for (size_t i = 0; i < in->n; i++)
		for (size_t r = 0; r < detach_rules[pos].n; r++) {
			const struct detach *d = &detach_rules[pos].rule[r];
			size_t ol = strlen(d->old);

			if (in->len[i] >= ol && memcmp(in->s[i] + in->len[i] - ol, d->old, ol) == 0)
				forms_add(out, in->s[i], in->len[i] - ol, d->new);
		}
}

/* The lemma names of the synset at offset in data.POS. */
static void
synset_names(const struct wordnet *wn, int pos, uint32_t offset,
    void (*fn)(void *arg, const char *name, size_t len), void *arg)
{
	const char *data = wn->data[pos];
	size_t end = offset, i = offset, tl;
	const char *t;
	unsigned long n_words;

	if (offset >= wn->data_len[pos])
		return;
	while (end < wn->data_len[pos] && data[end] != '\n')
		end++;
	/* offset, lexicographer file, synset type, word count (hex) */
	for (int k = 0; k < 4; k++)
		if (!token(data, end, &i, &t, &tl))
			return;
	n_words = strtoul(t, NULL, 16);
	for (unsigned long w = 0; w < n_words; w++) {
		const char *name;
		size_t len, cut;

		if (!token(data, end, &i, &name, &len) || !token(data, end, &i, &t, &tl))
			return;
		/* NLTK: (.*?)(\(.*\))?$ -- the marker runs from the first "("
		 * to a ")" that ends the name. */
		cut = len;
		if (len >= 2 && name[len - 1] == ')') {
			const char *open = memchr(name, '(', len - 1);

			if (open)
				cut = (size_t)(open - name);
		}
		fn(arg, name, cut);
	}
}

static int
emit_forms(const struct wordnet *wn, int pos, const struct forms *f,
    void (*fn)(void *arg, const char *name, size_t len), void *arg)
{
	int found = 0;

	for (size_t i = 0; i < f->n; i++) {
		const struct entry *e = find(wn, f->s[i], f->len[i]);

		if (!e || e->n_offsets[pos] == 0)
			continue;
		found = 1;
		for (uint32_t k = 0; k < e->n_offsets[pos]; k++)
			synset_names(wn, pos, wn->offset[e->offsets[pos] + k], fn, arg);
	}
	return found;
}

void
wordnet_lemma_names(const struct wordnet *wn, const char *word, size_t len,
    void (*fn)(void *arg, const char *name, size_t len), void *arg)
{
	struct forms a = { 0 }, b = { 0 };
	const struct entry *self = find(wn, word, len);

	for (int pos = 0; pos < N_POS; pos++) {
		forms_clear(&a);
		forms_add(&a, word, len, "");
		if (self && self->n_exceptions[pos] >= 0) {
			/* An exception line decides alone. */
			for (int32_t k = 0; k < self->n_exceptions[pos]; k++) {
				size_t bl;
				const char *base = strtab_str(wn->words,
				    wn->exception[self->exceptions[pos] + (uint32_t)k], &bl);

				forms_add(&a, base, bl, "");
			}
			emit_forms(wn, pos, &a, fn, arg);
			continue;
		}
		detach(pos, &a, &b);
		for (size_t i = 0; i < b.n; i++)
			forms_add(&a, b.s[i], b.len[i], "");
		if (emit_forms(wn, pos, &a, fn, arg))
			continue;
		/* Keep detaching until some form is a lemma. */
		for (struct forms *cur = &b, *next = &a, *t; cur->n > 0; t = cur, cur = next, next = t) {
			detach(pos, cur, next);
			if (emit_forms(wn, pos, next, fn, arg))
				break;
		}
	}
	forms_release(&a);
	forms_release(&b);
}
