/* superhf - see superhf.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "superhf.h"
#include "utf8.h"
#include "util.h"

char *
superhf_unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (s[0] == '\\' && (s[1] == 'n' || s[1] == 't' || s[1] == 'r')) {
			*o++ = s[1] == 'n' ? '\n' : s[1] == 't' ? '\t' : '\r';
			s++;
		} else
			*o++ = *s;
	}
	*o = '\0';
	return out;
}

int
superhf_trim_init(struct superhf_trim *t, const char *delimiter, const char *regex)
{
	int rc;
	char msg[256];

	memset(t, 0, sizeof *t);
	t->delimiter = delimiter && *delimiter ? delimiter : NULL;
	if (!regex || !*regex)
		return 0;
	/* REG_EXTENDED is Python's syntax for what the default uses
	 * (alternation, bracket, +); without REG_NEWLINE, [^:] matches a
	 * newline as Python's does. */
	if ((rc = regcomp(&t->re, regex, REG_EXTENDED)) != 0) {
		regerror(rc, &t->re, msg, sizeof msg);
		return loam_seterr("--trim-regex: %s", msg);
	}
	t->have_re = 1;
	t->default_re = strcmp(regex, SUPERHF_TRIM_REGEX) == 0;
	return 0;
}

long
superhf_default_cut_regex(const regex_t *re, const char *s)
{
	regmatch_t m;

	return regexec(re, s, 1, &m, 0) == 0 ? (long)m.rm_so : -1;
}

/*
 * The default expression "\n\n[^:]+:|Human|Assistant" matches at p when s
 * has "Human" or "Assistant" at p, or "\n\n" at p with a ':' after at
 * least one more character: [^:]+ runs to the first ':' after p + 2, which
 * is a match when that colon is not at p + 2 itself.  The leftmost such p
 * is the regex's match: found with memchr/strstr instead of a backtracking
 * engine, several times faster.  tests/unit/superhf_test.c compares it with
 * regexec on random texts.
 */
long
superhf_default_cut_fast(const char *s)
{
	const char *best = NULL, *h, *a, *colon = NULL;
	size_t len = strlen(s);

	if ((h = strstr(s, "Human")))
		best = h;
	if ((a = strstr(s, "Assistant")) && (!best || a < best))
		best = a;
	for (const char *p = s; (p = memchr(p, '\n', (size_t)(s + len - p))) != NULL; p++) {
		if (best && p >= best)
			break;
		if (p[1] != '\n')
			continue;
		/* The first colon from p + 2 on; colons before p + 2 do not
		 * count, and it is reused while it stays ahead. */
		if (!colon || colon < p + 2)
			colon = memchr(p + 2, ':', (size_t)(s + len - (p + 2)));
		if (!colon)
			break;
		if (colon > p + 2) {
			best = p;
			break;
		}
	}
	return best ? (long)(best - s) : -1;
}

void
superhf_trim_release(struct superhf_trim *t)
{
	if (t->have_re)
		regfree(&t->re);
	t->have_re = 0;
}

void
superhf_strip(const char *s, size_t len, size_t *start, size_t *n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t a = 0, b = len, w;

	while (a < b && py_isspace(utf8_decode(u + a, b - a, &w)))
		a += w;
	/* Back over the last character: find its first byte. */
	while (b > a) {
		size_t c = b - 1;

		while (c > a && (u[c] & 0xc0) == 0x80)
			c--;
		if (!py_isspace(utf8_decode(u + c, b - c, &w)))
			break;
		b = c;
	}
	*start = a;
	*n = b - a;
}

void
superhf_trim(const struct superhf_trim *t, const char *text, size_t len, size_t *start,
    size_t *n, size_t *prompt_len)
{
	size_t a = 0, b = len, s0, sn;
	const char *d;
	long cut;

	*prompt_len = 0;
	if (t->delimiter && (d = strstr(text, t->delimiter)) != NULL) {
		a = (size_t)(d - text) + strlen(t->delimiter);
		*prompt_len = a;
	}
	if (t->have_re) {
		cut = t->default_re ? superhf_default_cut_fast(text + a) :
		    superhf_default_cut_regex(&t->re, text + a);
		if (cut >= 0)
			b = a + (size_t)cut;
	}
	superhf_strip(text + a, b - a, &s0, &sn);
	*start = a + s0;
	*n = sn;
}

double
superhf_shaped_score(double score, double length_penalty, size_t chars)
{
	if (length_penalty == 0)
		return score;
	return score - length_penalty * log((double)chars);
}

void
superhf_group_init(struct superhf_group *g, size_t k)
{
	memset(g, 0, sizeof *g);
	g->k = k;
	g->heap = xcalloc(k ? k : 1, sizeof *g->heap);
}

void
superhf_group_release(struct superhf_group *g)
{
	free(g->heap);
	g->heap = NULL;
}

/* a ranks below b: a lower score, or the same score and later. */
static int
worse(const struct superhf_kept *a, const struct superhf_kept *b)
{
	return a->score < b->score || (a->score == b->score && a->seq > b->seq);
}

static void
sift_down(struct superhf_kept *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, w = i;
		struct superhf_kept tmp;

		if (l < n && worse(&h[l], &h[w]))
			w = l;
		if (r < n && worse(&h[r], &h[w]))
			w = r;
		if (w == i)
			return;
		tmp = h[i];
		h[i] = h[w];
		h[w] = tmp;
		i = w;
	}
}

void *
superhf_group_offer(struct superhf_group *g, double score, uint64_t seq, size_t chars,
    void *payload)
{
	struct superhf_kept c = { score, seq, chars, payload };
	double delta = score - g->mean;
	void *out;

	g->n++;
	g->mean += delta / (double)g->n;
	g->m2 += delta * (score - g->mean);
	if (g->k == 0)
		return payload;
	if (g->nkept < g->k) {
		size_t i = g->nkept++;

		g->heap[i] = c;
		/* Sift up: the worst rises to the top. */
		while (i > 0 && worse(&g->heap[i], &g->heap[(i - 1) / 2])) {
			struct superhf_kept tmp = g->heap[i];

			g->heap[i] = g->heap[(i - 1) / 2];
			g->heap[(i - 1) / 2] = tmp;
			i = (i - 1) / 2;
		}
		return NULL;
	}
	if (!worse(&g->heap[0], &c))
		return payload;
	out = g->heap[0].payload;
	g->heap[0] = c;
	sift_down(g->heap, g->nkept, 0);
	return out;
}

double
superhf_group_sd(const struct superhf_group *g)
{
	return g->n ? sqrt(g->m2 / (double)g->n) : 0;
}

static int
cmp_best_first(const void *pa, const void *pb)
{
	const struct superhf_kept *a = pa, *b = pb;

	return worse(b, a) ? -1 : worse(a, b) ? 1 : 0;
}

size_t
superhf_group_finish(struct superhf_group *g, double min_score, double margin,
    void (*drop)(void *payload, void *arg), void *arg)
{
	size_t n = 0;

	qsort(g->heap, g->nkept, sizeof *g->heap, cmp_best_first);
	for (size_t i = 0; i < g->nkept; i++) {
		const struct superhf_kept *c = &g->heap[i];

		if ((!isnan(min_score) && c->score < min_score) ||
		    (!isnan(margin) && c->score < g->mean + margin)) {
			if (drop)
				drop(c->payload, arg);
			continue;
		}
		g->heap[n++] = *c;
	}
	g->nkept = n;
	return n;
}
