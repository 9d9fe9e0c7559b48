/*
 * meteor.c - NLTK's METEOR score and SuperHF's METEOR similarity (see
 * meteor.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "meteor.h"
#include "porter.h"
#include "rng.h"
#include "strtab.h"
#include "utf8.h"
#include "util.h"

#define UNKNOWN UINT32_MAX

struct meteor {
	struct meteor_params p;
	const struct wordnet *wn;
	struct strtab *vocab;		/* words, stems and lemma names */
	/* By id in vocab, grown together (ids_cap of each): */
	uint32_t *stem_of;		/* a word's stem; UNKNOWN until asked */
	uint32_t *syn_first, *syn_n;	/* a stem's synonyms in syn_pool; syn_n UNKNOWN until asked */
	int32_t *head;			/* scoring: last unmatched reference position of a key, or -1 */
	size_t ids_cap;
	uint32_t *syn_pool;
	size_t n_pool, cap_pool;
	/* Scoring scratch, by position: */
	int32_t *next;			/* previous reference position with the same key */
	int32_t *match;			/* hypothesis position -> reference position, or -1 */
	unsigned char *ref_free;
	size_t pos_cap;
	char *buf;			/* tokenising */
	size_t buf_cap;
};

static void
grow_ids(struct meteor *m)
{
	size_t need = strtab_count(m->vocab), cap = m->ids_cap;

	if (need <= cap)
		return;
	while (cap < need)
		cap = cap ? 2 * cap : 4096;
	m->stem_of = xreallocarray(m->stem_of, cap, sizeof *m->stem_of);
	m->syn_first = xreallocarray(m->syn_first, cap, sizeof *m->syn_first);
	m->syn_n = xreallocarray(m->syn_n, cap, sizeof *m->syn_n);
	m->head = xreallocarray(m->head, cap, sizeof *m->head);
	for (size_t i = m->ids_cap; i < cap; i++) {
		m->stem_of[i] = UNKNOWN;
		m->syn_n[i] = UNKNOWN;
		m->head[i] = -1;
	}
	m->ids_cap = cap;
}

struct meteor *
meteor_new(const struct meteor_params *p, const struct wordnet *wn)
{
	struct meteor *m = xcalloc(1, sizeof *m);

	m->p = *p;
	m->p.stages |= METEOR_EXACT;
	m->wn = wn;
	m->vocab = strtab_new();
	return m;
}

void
meteor_free(struct meteor *m)
{
	if (!m)
		return;
	strtab_free(m->vocab);
	free(m->stem_of);
	free(m->syn_first);
	free(m->syn_n);
	free(m->head);
	free(m->syn_pool);
	free(m->next);
	free(m->match);
	free(m->ref_free);
	free(m->buf);
	free(m);
}

int
meteor_parse_stages(const char *s)
{
	if (strcmp(s, "exact") == 0)
		return METEOR_EXACT;
	if (strcmp(s, "exact,stem") == 0)
		return METEOR_EXACT | METEOR_STEM;
	if (strcmp(s, "exact,stem,synonym") == 0)
		return METEOR_ALL;
	return -1;
}

static char *
scratch(struct meteor *m, size_t n)
{
	if (n > m->buf_cap) {
		m->buf_cap = n > 2 * m->buf_cap ? n : 2 * m->buf_cap;
		m->buf = xrealloc(m->buf, m->buf_cap);
	}
	return m->buf;
}

static uint32_t
stem_of(struct meteor *m, uint32_t word)
{
	if (m->stem_of[word] == UNKNOWN) {
		size_t len, n;
		const char *w = strtab_str(m->vocab, word, &len);
		char *out = scratch(m, 4 * (len + PORTER_GROWTH));
		uint32_t id;

		n = porter_stem_utf8(w, len, out);
		id = strtab_intern(m->vocab, out, n);
		grow_ids(m);
		m->stem_of[word] = id;
	}
	return m->stem_of[word];
}

void
meteor_prepare(struct meteor *m, const char *text, size_t len, struct meteor_text *t)
{
	const unsigned char *u = (const unsigned char *)text;
	size_t i = 0, cap = 0, w;

	memset(t, 0, sizeof *t);
	for (;;) {
		size_t start, tok_len, lower_len;
		uint32_t id;
		char *lower;

		while (i < len && py_isspace(utf8_decode(u + i, len - i, &w)))
			i += w;
		if (i >= len)
			break;
		start = i;
		while (i < len && !py_isspace(utf8_decode(u + i, len - i, &w)))
			i += w;
		tok_len = i - start;
		lower = scratch(m, 3 * tok_len / 2 + 4);
		lower_len = py_lower(text + start, tok_len, lower);
		id = strtab_intern(m->vocab, lower, lower_len);
		grow_ids(m);
		if (t->n == cap) {
			cap = cap ? 2 * cap : 64;
			t->word = xreallocarray(t->word, cap, sizeof *t->word);
			t->stem = xreallocarray(t->stem, cap, sizeof *t->stem);
		}
		t->word[t->n] = id;
		t->stem[t->n] = (m->p.stages & (METEOR_STEM | METEOR_SYNONYM)) ? stem_of(m, id) : id;
		t->n++;
	}
}

void
meteor_text_release(struct meteor_text *t)
{
	free(t->word);
	free(t->stem);
	memset(t, 0, sizeof *t);
}

struct names {
	struct meteor *m;
	uint32_t *id;
	size_t n, cap;
};

static void
add_name(void *arg, const char *name, size_t len)
{
	struct names *nm = arg;

	if (memchr(name, '_', len))	/* NLTK keeps single words only */
		return;
	if (nm->n == nm->cap) {
		nm->cap = nm->cap ? 2 * nm->cap : 32;
		nm->id = xreallocarray(nm->id, nm->cap, sizeof *nm->id);
	}
	nm->id[nm->n++] = strtab_intern(nm->m->vocab, name, len);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The ids a stem matches in the synonym stage: the lemma names of its
 * synsets and itself, sorted, without repeats. */
static const uint32_t *
synonyms(struct meteor *m, uint32_t stem, size_t *n)
{
	if (m->syn_n[stem] == UNKNOWN) {
		/* the stem itself first: NLTK's set is the names | {word},
		 * whatever the word holds */
		struct names nm = { m, xreallocarray(NULL, 32, sizeof(uint32_t)), 1, 32 };
		size_t len, k = 0;
		const char *s = strtab_str(m->vocab, stem, &len);

		/* The lookup may add names to vocab and so move s: copy it. */
		char *word = xstrndup(s, len);

		nm.id[0] = stem;
		if (m->wn)
			wordnet_lemma_names(m->wn, word, len, add_name, &nm);
		free(word);
		grow_ids(m);
		qsort(nm.id, nm.n, sizeof *nm.id, cmp_u32);
		for (size_t i = 0; i < nm.n; i++)
			if (k == 0 || nm.id[i] != nm.id[k - 1])
				nm.id[k++] = nm.id[i];
		if (m->n_pool + k > m->cap_pool) {
			while (m->n_pool + k > m->cap_pool)
				m->cap_pool = m->cap_pool ? 2 * m->cap_pool : 4096;
			m->syn_pool = xreallocarray(m->syn_pool, m->cap_pool, sizeof *m->syn_pool);
		}
		memcpy(m->syn_pool + m->n_pool, nm.id, k * sizeof *nm.id);
		m->syn_first[stem] = (uint32_t)m->n_pool;
		m->syn_n[stem] = (uint32_t)k;
		m->n_pool += k;
		free(nm.id);
	}
	*n = m->syn_n[stem];
	return m->syn_pool + m->syn_first[stem];
}

static void
grow_positions(struct meteor *m, size_t n)
{
	if (n <= m->pos_cap)
		return;
	m->pos_cap = n > 2 * m->pos_cap ? n : 2 * m->pos_cap;
	m->next = xreallocarray(m->next, m->pos_cap, sizeof *m->next);
	m->match = xreallocarray(m->match, m->pos_cap, sizeof *m->match);
	m->ref_free = xrealloc(m->ref_free, m->pos_cap);
}

/* P, R, F and the fragmentation penalty, in NLTK's order of operations. */
static double
finish(const struct meteor_params *p, size_t m, size_t chunks, size_t nh, size_t nr)
{
	double precision, recall, fmean, frag;

	if (m == 0 || nh == 0 || nr == 0)
		return 0.0;
	precision = (double)m / (double)nh;
	recall = (double)m / (double)nr;
	fmean = precision * recall / (p->alpha * precision + (1 - p->alpha) * recall);
	frag = (double)chunks / (double)m;
	return (1 - p->gamma * pow(frag, p->beta)) * fmean;
}

/* Matches as hypothesis -> reference positions, in hypothesis order:
 * the count and the chunks. */
static size_t
count_chunks(const int32_t *match, size_t nh, size_t *n_matches)
{
	size_t chunks = 0, m = 0;
	long prev_h = -2, prev_r = -2;

	for (size_t h = 0; h < nh; h++) {
		if (match[h] < 0)
			continue;
		m++;
		if (!((long)h == prev_h + 1 && match[h] == prev_r + 1))
			chunks++;
		prev_h = (long)h;
		prev_r = match[h];
	}
	*n_matches = m;
	return chunks;
}

/* One stage: each free reference position is listed under its key, last
 * position first, so the last free reference word with a key is its
 * list's head. */
static void
stage(struct meteor *m, const struct meteor_text *hyp, const struct meteor_text *ref,
    const uint32_t *hyp_key, const uint32_t *ref_key, int synonym)
{
	for (size_t j = 0; j < ref->n; j++)
		if (m->ref_free[j]) {
			m->next[j] = m->head[ref_key[j]];
			m->head[ref_key[j]] = (int32_t)j;
		}
	for (size_t i = hyp->n; i-- > 0;) {
		uint32_t key = hyp_key[i];
		int32_t j;

		if (m->match[i] >= 0)
			continue;
		if (synonym) {
			size_t n;
			const uint32_t *syn = synonyms(m, key, &n);

			j = -1;
			for (size_t k = 0; k < n; k++)
				if (syn[k] < m->ids_cap && m->head[syn[k]] > j) {
					j = m->head[syn[k]];
					key = syn[k];
				}
		} else {
			j = m->head[key];
		}
		if (j < 0)
			continue;
		m->match[i] = j;
		m->ref_free[j] = 0;
		m->head[key] = m->next[j];
	}
	for (size_t j = 0; j < ref->n; j++)
		m->head[ref_key[j]] = -1;
}

double
meteor_score(struct meteor *m, const struct meteor_text *hyp, const struct meteor_text *ref)
{
	size_t matches, chunks;

	if (hyp->n == 0 || ref->n == 0)
		return 0.0;
	grow_positions(m, hyp->n > ref->n ? hyp->n : ref->n);
	grow_ids(m);
	for (size_t i = 0; i < hyp->n; i++)
		m->match[i] = -1;
	memset(m->ref_free, 1, ref->n);
	stage(m, hyp, ref, hyp->word, ref->word, 0);
	if (m->p.stages & METEOR_STEM)
		stage(m, hyp, ref, hyp->stem, ref->stem, 0);
	if (m->p.stages & METEOR_SYNONYM)
		stage(m, hyp, ref, hyp->stem, ref->stem, 1);
	chunks = count_chunks(m->match, hyp->n, &matches);
	return finish(&m->p, matches, chunks, hyp->n, ref->n);
}

/* NLTK's _match_enums on lists of (position, key): the hypothesis from its
 * end, each taking the last remaining reference entry that fits. */
struct entry {
	size_t pos;
	uint32_t key;
};

static void
reference_stage(struct meteor *m, struct entry *h, size_t *nh, struct entry *r, size_t *nr,
    int32_t *match, int synonym)
{
	for (size_t i = *nh; i-- > 0;)
		for (size_t j = *nr; j-- > 0;) {
			int fits = h[i].key == r[j].key;

			if (synonym && !fits) {
				size_t n;
				const uint32_t *syn = synonyms(m, h[i].key, &n);

				for (size_t k = 0; k < n && !fits; k++)
					fits = syn[k] == r[j].key;
			}
			if (!fits)
				continue;
			match[h[i].pos] = (int32_t)r[j].pos;
			memmove(h + i, h + i + 1, (*nh - i - 1) * sizeof *h);
			memmove(r + j, r + j + 1, (*nr - j - 1) * sizeof *r);
			(*nh)--;
			(*nr)--;
			break;
		}
}

double
meteor_score_reference(struct meteor *m, const struct meteor_text *hyp,
    const struct meteor_text *ref)
{
	struct entry *h = xreallocarray(NULL, hyp->n + 1, sizeof *h);
	struct entry *r = xreallocarray(NULL, ref->n + 1, sizeof *r);
	int32_t *match = xreallocarray(NULL, hyp->n + 1, sizeof *match);
	size_t nh = hyp->n, nr = ref->n, matches, chunks;
	double score;

	for (size_t i = 0; i < nh; i++) {
		h[i] = (struct entry){ i, hyp->word[i] };
		match[i] = -1;
	}
	for (size_t j = 0; j < nr; j++)
		r[j] = (struct entry){ j, ref->word[j] };
	reference_stage(m, h, &nh, r, &nr, match, 0);
	/* Later stages see the stems of what is left (NLTK passes the
	 * stemmed lists on to the synonym stage). */
	for (size_t i = 0; i < nh; i++)
		h[i].key = hyp->stem[h[i].pos];
	for (size_t j = 0; j < nr; j++)
		r[j].key = ref->stem[r[j].pos];
	if (m->p.stages & METEOR_STEM)
		reference_stage(m, h, &nh, r, &nr, match, 0);
	if (m->p.stages & METEOR_SYNONYM)
		reference_stage(m, h, &nh, r, &nr, match, 1);
	chunks = count_chunks(match, hyp->n, &matches);
	score = finish(&m->p, matches, chunks, hyp->n, ref->n);
	free(h);
	free(r);
	free(match);
	return score;
}

/* Welford's running mean and sum of squares. */
struct running {
	uint64_t n;
	double mean, m2;
};

static void
running_add(struct running *w, double x)
{
	double d = x - w->mean;

	w->n++;
	w->mean += d / (double)w->n;
	w->m2 += d * (x - w->mean);
}

double
meteor_similarity(struct meteor *m, const struct meteor_text *text, const uint32_t *group,
    size_t n, uint64_t max_pairs, struct rng *r, uint64_t *pairs, double *sd)
{
	struct running w = { 0, 0, 0 };
	uint64_t total = 0;

	total = (uint64_t)n * n;
	if (group) {
		/* n^2 less the pairs within groups: sum of squared group sizes */
		uint32_t *sorted = xreallocarray(NULL, n + 1, sizeof *sorted);

		memcpy(sorted, group, n * sizeof *group);
		qsort(sorted, n, sizeof *sorted, cmp_u32);
		for (size_t i = 0, j; i < n; i = j) {
			for (j = i; j < n && sorted[j] == sorted[i]; j++)
				;
			total -= (uint64_t)(j - i) * (j - i);
		}
		free(sorted);
	} else {
		total -= n;
	}
	if (total <= max_pairs) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n; j++)
				if (i != j && (!group || group[i] != group[j]))
					running_add(&w, meteor_score(m, &text[j], &text[i]));
	} else {
		while (w.n < max_pairs) {
			size_t i = (size_t)rng_uniform_int(r, n), j = (size_t)rng_uniform_int(r, n);

			if (i != j && (!group || group[i] != group[j]))
				running_add(&w, meteor_score(m, &text[j], &text[i]));
		}
	}
	*pairs = w.n;
	if (sd)
		*sd = w.n > 1 ? sqrt(w.m2 / (double)(w.n - 1)) : NAN;
	return w.n ? w.mean : NAN;
}

void
meteor_bootstrap(struct meteor *m, const struct meteor_text *text, size_t n, size_t draws,
    struct rng *r, double *draw_mean)
{
	for (size_t d = 0; d < draws; d++) {
		/* random.sample(completions, 2): two distinct, uniformly */
		size_t i = (size_t)rng_uniform_int(r, n);
		size_t j = (size_t)rng_uniform_int(r, n - 1);

		j += j >= i;
		draw_mean[d] = (meteor_score(m, &text[j], &text[i]) +
		    meteor_score(m, &text[i], &text[j])) / 2;
	}
}
