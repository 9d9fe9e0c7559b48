/* cookbook_templates - the catalogue of cookbook.h: each Cookbook
 * template's generator, parser, rule and parameter check (Skill-It's
 * two are in cookbook_skillit.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookbook.h"
#include "cookbook_templates.h"
#include "cookbook_impl.h"
#include "rng.h"
#include "util.h"

#define NOT_FOUND	SIZE_MAX
/* Draws of a token outside a set before scanning for one instead. */
#define DRAW_TRIES	32

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* ==== generating ==== */

/* Tokens ids[0..n) separated by single spaces: the hot loop of every
 * generator.  One reservation; and when every token is shorter than
 * COOKBOOK_VOCAB_PAD, each is copied as a block of that size, which the
 * compiler makes one load and one store, where a memcpy of the exact
 * length was a library call and a third of docqa-span's time.  The
 * vocabulary's padding makes the over-read safe, the reservation's
 * slack the over-write. */
static void
put_tokens(struct cookbook_buf *b, const struct cookbook_vocab *v, const uint32_t *ids,
    size_t n)
{
	char *p;
	size_t i, len;

	if (n == 0)
		return;
	cookbook_buf_reserve(b, n * (v->maxlen + 1) + COOKBOOK_VOCAB_PAD);
	p = b->s + b->len;
	if (v->maxlen < COOKBOOK_VOCAB_PAD) {
		for (i = 0; i < n; i++) {
			len = v->len[ids[i]];
			memcpy(p, v->token[ids[i]], COOKBOOK_VOCAB_PAD);
			p += len;
			*p++ = ' ';
		}
	} else {
		for (i = 0; i < n; i++) {
			len = v->len[ids[i]];
			memcpy(p, v->token[ids[i]], len);
			p += len;
			*p++ = ' ';
		}
	}
	*--p = '\0';
	b->len = (size_t)(p - b->s);
}

static void
option_begin(struct cookbook_example *ex)
{
	ex->optoff[ex->noptions++] = ex->optbuf.len;
}

/* The NUL that ends an option is part of optbuf's content. */
static void
option_end(struct cookbook_example *ex)
{
	cookbook_buf_add(&ex->optbuf, "", 1);
}

static void
answer_is_option(struct cookbook_example *ex, size_t answer)
{
	ex->answer_index = (int)answer;
	put_str(&ex->output, cookbook_example_option(ex, answer));
}

static uint32_t *
scratch_ids(struct cookbook_example *ex, size_t n)
{
	if (ex->idscap < n) {
		free(ex->ids);
		ex->ids = xreallocarray(NULL, n, sizeof *ex->ids);
		ex->idscap = n;
	}
	return ex->ids;
}

/*
 * Sets of token ids as stamps in one array over the vocabulary: id is in
 * set s when mark[id] == s.  A generator asks for count fresh stamps per
 * example, so starting new sets costs nothing; the array is cleared only
 * when the stamps wrap.
 */
static uint32_t
marks_begin(struct cookbook_example *ex, size_t nvocab, uint32_t count)
{
	if (ex->markcap < nvocab) {
		free(ex->mark);
		ex->mark = xcalloc(nvocab, sizeof *ex->mark);
		ex->markcap = nvocab;
		ex->stamp = 0;
	}
	if (ex->stamp > UINT32_MAX - count - 1) {
		memset(ex->mark, 0, ex->markcap * sizeof *ex->mark);
		ex->stamp = 0;
	}
	ex->stamp += count;
	return ex->stamp - count + 1;
}

static uint32_t
draw_token(struct rng *r, const struct cookbook_vocab *v)
{
	return (uint32_t)rng_uniform_int(r, v->n);
}

/* Uniform over the vocabulary less one token. */
static uint32_t
draw_token_except(struct rng *r, const struct cookbook_vocab *v, uint32_t except)
{
	uint32_t id = (uint32_t)rng_uniform_int(r, v->n - 1);

	return id >= except ? id + 1 : id;
}

/* A token in none of the sets a, b, c.  Rejection while it is cheap; when
 * the sets cover nearly all the vocabulary, the first free id after a
 * random one.  The template's check guarantees a free id exists. */
static uint32_t
draw_unmarked(const struct cookbook_example *ex, struct rng *r,
    const struct cookbook_vocab *v, uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t id, m;
	size_t i;
	int tries;

	for (tries = 0; tries < DRAW_TRIES; tries++) {
		id = draw_token(r, v);
		m = ex->mark[id];
		if (m != a && m != b && m != c)
			return id;
	}
	id = draw_token(r, v);
	for (i = 0; i < v->n; i++) {
		m = ex->mark[id];
		if (m != a && m != b && m != c)
			break;
		id = id + 1 == v->n ? 0 : id + 1;
	}
	return id;
}

/* First i >= from where hay[i..i+m) equals needle, or NOT_FOUND. */
static size_t
ids_find(const uint32_t *hay, size_t n, const uint32_t *needle, size_t m,
    size_t from)
{
	size_t i, j;

	if (m == 0 || m > n)
		return NOT_FOUND;
	for (i = from; i + m <= n; i++) {
		if (hay[i] != needle[0])
			continue;
		for (j = 1; j < m && hay[i + j] == needle[j]; j++)
			;
		if (j == m)
			return i;
	}
	return NOT_FOUND;
}

static int
ids_equal(const uint32_t *a, const uint32_t *b, size_t n)
{
	return memcmp(a, b, n * sizeof *a) == 0;
}

/* ==== rules: token lists ==== */

struct tok {
	const char *s;
	size_t len;
	uint64_t hash;
};

/* Most texts a rule sees are short: their tokens fit on the stack. */
#define TOKS_LOCAL	64

struct toks {
	struct tok *t;
	size_t n, cap;
	struct tok local[TOKS_LOCAL];
};

static void
toks_init(struct toks *tl)
{
	tl->t = tl->local;
	tl->n = 0;
	tl->cap = TOKS_LOCAL;
}

static void
toks_release(struct toks *tl)
{
	if (tl->t != tl->local)
		free(tl->t);
	toks_init(tl);
}

/* Append the tokens of text (none for NULL); they point into text. */
static void
toks_add(struct toks *tl, const char *text)
{
	const unsigned char *u = (const unsigned char *)text;
	size_t i = 0, start;

	if (!text)
		return;
	while (u[i]) {
		if (!cookbook_is_token_byte(u[i])) {
			i++;
			continue;
		}
		for (start = i; u[i] && cookbook_is_token_byte(u[i]); i++)
			;
		if (tl->n == tl->cap) {
			if (tl->t == tl->local) {
				tl->t = xreallocarray(NULL, 2 * tl->cap,
				    sizeof *tl->t);
				memcpy(tl->t, tl->local, sizeof tl->local);
			} else {
				tl->t = xreallocarray(tl->t, 2 * tl->cap,
				    sizeof *tl->t);
			}
			tl->cap *= 2;
		}
		tl->t[tl->n].s = text + start;
		tl->t[tl->n].len = i - start;
		tl->t[tl->n].hash = cookbook_token_hash(text + start, i - start);
		tl->n++;
	}
}

static int
tok_equal(const struct tok *a, const struct tok *b)
{
	return a->hash == b->hash && a->len == b->len &&
	    cookbook_token_cmp(a->s, b->s, a->len) == 0;
}

static int
tok_order(const void *pa, const void *pb)
{
	const struct tok *a = pa, *b = pb;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return cookbook_token_cmp(a->s, b->s, a->len);
}

/* Make tl a set: sorted by tok_order, each token once. */
static void
toks_make_set(struct toks *tl)
{
	size_t i, n = 0;

	if (tl->n < 2)
		return;
	qsort(tl->t, tl->n, sizeof *tl->t, tok_order);
	for (i = 1; i < tl->n; i++)
		if (!tok_equal(&tl->t[n], &tl->t[i]))
			tl->t[++n] = tl->t[i];
	tl->n = n + 1;
}

/* Tokens two sets share. */
static size_t
toks_shared(const struct toks *a, const struct toks *b)
{
	size_t i = 0, j = 0, shared = 0;
	int c;

	while (i < a->n && j < b->n) {
		c = tok_order(&a->t[i], &b->t[j]);
		if (c == 0)
			shared++;
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	return shared;
}

/* First i >= from where hay's tokens i.. are needle's, or NOT_FOUND. */
static size_t
toks_find(const struct toks *hay, const struct toks *needle, size_t from)
{
	size_t i, j, m = needle->n;

	if (m == 0 || m > hay->n)
		return NOT_FOUND;
	for (i = from; i + m <= hay->n; i++) {
		for (j = 0; j < m && tok_equal(&hay->t[i + j], &needle->t[j]);
		    j++)
			;
		if (j == m)
			return i;
	}
	return NOT_FOUND;
}

/* Tokens from..to of tl, as they are written, joined by spaces. */
static void
put_toks(struct cookbook_buf *b, const struct toks *tl, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++) {
		if (i > from)
			PUT_LIT(b, " ");
		cookbook_buf_add(b, tl->t[i].s, tl->t[i].len);
	}
}

static void
put_yes_no(struct cookbook_buf *b, int yes)
{
	cookbook_buf_reset(b);
	if (yes)
		PUT_LIT(b, "yes");
	else
		PUT_LIT(b, "no");
}

/* ==== parsing ==== */

/* "<context_label>context\n<query_label>query", or one line when the
 * template has no query label. */
static int
parse_labelled(const struct cookbook_template *t, const char *input,
    const char *const *options, size_t noptions, struct cookbook_buf *scratch,
    struct cookbook_query *q)
{
	size_t clen = strlen(t->context_label), qlen;
	char *s, *nl;

	memset(q, 0, sizeof *q);
	cookbook_buf_reset(scratch);
	put_str(scratch, input);
	s = scratch->s;
	if (strncmp(s, t->context_label, clen) != 0)
		return loam_seterr("%s: input does not start with '%s'",
		    t->name, t->context_label);
	q->context = s + clen;
	nl = strchr(q->context, '\n');
	if (t->query_label) {
		qlen = strlen(t->query_label);
		if (!nl || strncmp(nl + 1, t->query_label, qlen) != 0)
			return loam_seterr("%s: input has no second line "
			    "starting with '%s'", t->name, t->query_label);
		*nl = '\0';
		q->query = nl + 1 + qlen;
		if (strchr(q->query, '\n'))
			return loam_seterr("%s: input has more than two lines",
			    t->name);
	} else if (nl) {
		return loam_seterr("%s: input has more than one line", t->name);
	}
	q->options = options;
	q->noptions = noptions;
	return 0;
}

/* ==== docqa-span ==== */

enum { DQ_DOC_LEN, DQ_SPAN_LEN, DQ_ANSWER_LEN };

static const struct cookbook_param docqa_params[] = {
	{ "doc_len", 64, 2, 4096, "tokens in the document" },
	{ "span_len", 4, 1, 256,
	    "tokens in the question, a span occurring once in the document" },
	{ "answer_len", 3, 1, 256,
	    "tokens in the answer, those that follow the span" },
};

static int
docqa_check(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v)
{
	if (param[DQ_SPAN_LEN] + param[DQ_ANSWER_LEN] > param[DQ_DOC_LEN])
		return loam_seterr("%s: span_len %ld + answer_len %ld exceeds "
		    "doc_len %ld", t->name, param[DQ_SPAN_LEN],
		    param[DQ_ANSWER_LEN], param[DQ_DOC_LEN]);
	if (v->n < 2)
		return loam_seterr("%s: the vocabulary has %zu tokens; at "
		    "least 2 are needed", t->name, v->n);
	return 0;
}

/* Where else doc[pos..pos+len) occurs, or NOT_FOUND. */
static size_t
other_occurrence(const uint32_t *doc, size_t n, size_t pos, size_t len)
{
	size_t j = ids_find(doc, n, doc + pos, len, 0);

	if (j == pos)
		j = ids_find(doc, n, doc + pos, len, pos + 1);
	return j;
}

/* Break every other occurrence of the span at pos by changing one of its
 * tokens that lies outside the span (one always does: it starts
 * elsewhere and is as long).  A change can make a new occurrence, so
 * look again until none is left. */
static void
make_span_unique(uint32_t *doc, size_t n, size_t pos, size_t len,
    const struct cookbook_vocab *v, struct rng *r)
{
	size_t j, at;

	while ((j = other_occurrence(doc, n, pos, len)) != NOT_FOUND) {
		at = j;
		while (at >= pos && at < pos + len)
			at++;
		doc[at] = draw_token_except(r, v, doc[pos + (at - j)]);
	}
}

static void
docqa_generate(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, struct rng *r, struct cookbook_example *ex)
{
	size_t n = (size_t)param[DQ_DOC_LEN];
	size_t span = (size_t)param[DQ_SPAN_LEN];
	size_t answer = (size_t)param[DQ_ANSWER_LEN];
	uint32_t *doc = scratch_ids(ex, n);
	size_t i, pos;

	cookbook_example_begin(ex);
	for (i = 0; i < n; i++)
		doc[i] = draw_token(r, v);
	/* leave room for the answer after the span */
	pos = (size_t)rng_uniform_int(r, n - span - answer + 1);
	make_span_unique(doc, n, pos, span, v, r);
	put_str(&ex->input, t->context_label);
	put_tokens(&ex->input, v, doc, n);
	PUT_LIT(&ex->input, "\n");
	put_str(&ex->input, t->query_label);
	put_tokens(&ex->input, v, doc + pos, span);
	put_tokens(&ex->output, v, doc + pos + span, answer);
}

static int
docqa_rule(const struct cookbook_template *t, const long *param,
    const struct cookbook_query *q, struct cookbook_buf *output, int *answer_index)
{
	struct toks doc, question;
	size_t at, start, end;
	int rc = -1;

	*answer_index = -1;
	cookbook_buf_reset(output);
	toks_init(&doc);
	toks_init(&question);
	toks_add(&doc, q->context);
	toks_add(&question, q->query);
	if (question.n == 0) {
		loam_seterr("%s: the question has no tokens", t->name);
		goto done;
	}
	if ((at = toks_find(&doc, &question, 0)) == NOT_FOUND) {
		loam_seterr("%s: the question '%.*s' does not occur in the "
		    "document", t->name, echo_len(q->query), q->query);
		goto done;
	}
	start = at + question.n;
	if (start == doc.n) {
		loam_seterr("%s: nothing follows the question '%.*s' in the "
		    "document", t->name, echo_len(q->query), q->query);
		goto done;
	}
	end = min_size(start + (size_t)param[DQ_ANSWER_LEN], doc.n);
	put_toks(output, &doc, start, end);
	rc = 0;
done:
	toks_release(&doc);
	toks_release(&question);
	return rc;
}

/* ==== options by overlap: mcq-overlap, entity-disambig, two-choice ==== */

/*
 * Make k options of optlen tokens after an optional prefix shared by all
 * (entity-disambig's mention), such that exactly one, the answer, shares
 * the most distinct tokens with ref[0..nref).  The prefix's tokens count
 * alike for every option, so only the rest decides: the answer takes c
 * tokens of ref outside the prefix, c uniform in [1, min(optlen, those
 * available)], every other option a number uniform in [0, c); each fills
 * up with distinct tokens from neither ref nor the prefix.
 *
 * Stamps: s marks ref's eligible tokens, s + 1 the prefix's, s + 2 + i
 * the fresh tokens of option i.  elig needs room for nref ids, opt for
 * optlen.  ref must hold at least one token outside the prefix.
 */
static void
overlap_options(struct cookbook_example *ex, const struct cookbook_vocab *v,
    struct rng *r, const uint32_t *ref, size_t nref, const uint32_t *prefix,
    size_t nprefix, size_t k, size_t optlen, uint32_t *elig, uint32_t *opt)
{
	uint32_t s = marks_begin(ex, v->n, (uint32_t)(k + 2)), id, own;
	size_t i, j, pick, nelig = 0, c, shared, answer;

	for (i = 0; i < nprefix; i++)
		ex->mark[prefix[i]] = s + 1;
	for (i = 0; i < nref; i++) {
		id = ref[i];
		if (ex->mark[id] != s && ex->mark[id] != s + 1) {
			ex->mark[id] = s;
			elig[nelig++] = id;
		}
	}
	c = 1 + (size_t)rng_uniform_int(r, min_size(optlen, nelig));
	answer = (size_t)rng_uniform_int(r, k);
	for (i = 0; i < k; i++) {
		shared = i == answer ? c : (size_t)rng_uniform_int(r, c);
		/* a partial Fisher-Yates: a uniform subset, whatever order
		 * earlier options left elig in */
		for (j = 0; j < shared; j++) {
			pick = j + (size_t)rng_uniform_int(r, nelig - j);
			id = elig[pick];
			elig[pick] = elig[j];
			elig[j] = id;
			opt[j] = id;
		}
		own = s + 2 + (uint32_t)i;
		for (; j < optlen; j++) {
			id = draw_unmarked(ex, r, v, s, s + 1, own);
			ex->mark[id] = own;
			opt[j] = id;
		}
		rng_shuffle(r, opt, optlen, sizeof *opt);
		option_begin(ex);
		if (nprefix) {
			put_tokens(&ex->optbuf, v, prefix, nprefix);
			PUT_LIT(&ex->optbuf, ": ");
		}
		put_tokens(&ex->optbuf, v, opt, optlen);
		option_end(ex);
	}
	answer_is_option(ex, answer);
}

/* The option sharing the most distinct tokens with context and query. */
static int
max_overlap_rule(const struct cookbook_template *t, const long *param,
    const struct cookbook_query *q, struct cookbook_buf *output, int *answer_index)
{
	struct toks ref, opt;
	size_t i, score, best_score = 0;
	long best = -1, tie = -1;
	int rc = -1;

	*answer_index = -1;
	cookbook_buf_reset(output);
	if (q->noptions < 2)
		return loam_seterr("%s: %zu options; the rule needs at least 2",
		    t->name, q->noptions);
	toks_init(&ref);
	toks_init(&opt);
	toks_add(&ref, q->context);
	toks_add(&ref, q->query);
	toks_make_set(&ref);
	for (i = 0; i < q->noptions; i++) {
		opt.n = 0;
		toks_add(&opt, q->options[i]);
		toks_make_set(&opt);
		score = toks_shared(&opt, &ref);
		if (best < 0 || score > best_score) {
			best = (long)i;
			best_score = score;
			tie = -1;
		} else if (score == best_score && tie < 0) {
			tie = (long)i;
		}
	}
	if (tie >= 0) {
		loam_seterr("%s: options %ld and %ld tie with %zu shared "
		    "tokens", t->name, best, tie, best_score);
		goto done;
	}
	put_str(output, q->options[best]);
	*answer_index = (int)best;
	rc = 0;
done:
	toks_release(&ref);
	toks_release(&opt);
	return rc;
}

/* ==== mcq-overlap ==== */

enum { MCQ_CONTEXT_LEN, MCQ_QUESTION_LEN, MCQ_OPTIONS, MCQ_OPTION_LEN };

static const struct cookbook_param mcq_params[] = {
	{ "context_len", 24, 1, 4096, "tokens in the context" },
	{ "question_len", 8, 1, 4096, "tokens in the question" },
	{ "options", 4, 2, COOKBOOK_MAX_OPTIONS, "number of options" },
	{ "option_len", 4, 1, 256, "tokens in each option" },
};

static int
mcq_check(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v)
{
	size_t need = (size_t)(param[MCQ_CONTEXT_LEN] +
	    param[MCQ_QUESTION_LEN] + param[MCQ_OPTION_LEN]);

	if (v->n < need)
		return loam_seterr("%s: the vocabulary has %zu tokens; "
		    "context_len + question_len + option_len = %zu are needed",
		    t->name, v->n, need);
	return 0;
}

static void
mcq_generate(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, struct rng *r, struct cookbook_example *ex)
{
	size_t nctx = (size_t)param[MCQ_CONTEXT_LEN];
	size_t nq = (size_t)param[MCQ_QUESTION_LEN];
	size_t optlen = (size_t)param[MCQ_OPTION_LEN];
	size_t nref = nctx + nq, i;
	uint32_t *ref = scratch_ids(ex, 2 * nref + optlen);

	cookbook_example_begin(ex);
	for (i = 0; i < nref; i++)
		ref[i] = draw_token(r, v);
	put_str(&ex->input, t->context_label);
	put_tokens(&ex->input, v, ref, nctx);
	PUT_LIT(&ex->input, "\n");
	put_str(&ex->input, t->query_label);
	put_tokens(&ex->input, v, ref + nctx, nq);
	overlap_options(ex, v, r, ref, nref, NULL, 0,
	    (size_t)param[MCQ_OPTIONS], optlen, ref + nref, ref + 2 * nref);
}

/* ==== yesno-contains ==== */

enum { YN_PASSAGE_LEN, YN_SPAN_LEN };
/* Attempts at a "no" question that differs from a passage span by a
 * token taken from the passage itself, before using an absent token. */
#define YN_HARD_TRIES	4

static const struct cookbook_param yesno_params[] = {
	{ "passage_len", 48, 1, 4096, "tokens in the passage" },
	{ "span_len", 4, 1, 256, "tokens in the question" },
};

static int
yesno_check(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v)
{
	if (param[YN_SPAN_LEN] > param[YN_PASSAGE_LEN])
		return loam_seterr("%s: span_len %ld exceeds passage_len %ld",
		    t->name, param[YN_SPAN_LEN], param[YN_PASSAGE_LEN]);
	if (v->n < (size_t)param[YN_PASSAGE_LEN] + 1)
		return loam_seterr("%s: the vocabulary has %zu tokens; "
		    "passage_len + 1 = %ld are needed", t->name, v->n,
		    param[YN_PASSAGE_LEN] + 1);
	return 0;
}

/* Change one token of span so that it occurs nowhere in the passage. */
static void
make_absent(struct cookbook_example *ex, const uint32_t *passage, size_t n,
    uint32_t *span, size_t len, const struct cookbook_vocab *v, struct rng *r)
{
	uint32_t old, tok, s;
	size_t i, j;
	int tries;

	/* hard negatives first: every token of the question is in the
	 * passage, only their order says no */
	for (tries = 0; tries < YN_HARD_TRIES; tries++) {
		j = (size_t)rng_uniform_int(r, len);
		tok = passage[rng_uniform_int(r, n)];
		if (tok == span[j])
			continue;
		old = span[j];
		span[j] = tok;
		if (ids_find(passage, n, span, len, 0) == NOT_FOUND)
			return;
		span[j] = old;
	}
	s = marks_begin(ex, v->n, 1);
	for (i = 0; i < n; i++)
		ex->mark[passage[i]] = s;
	j = (size_t)rng_uniform_int(r, len);
	span[j] = draw_unmarked(ex, r, v, s, s, s);
}

static void
yesno_generate(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, struct rng *r, struct cookbook_example *ex)
{
	size_t n = (size_t)param[YN_PASSAGE_LEN], len = (size_t)param[YN_SPAN_LEN];
	uint32_t *passage = scratch_ids(ex, n + len), *span = passage + n;
	size_t i, pos;
	int yes;

	cookbook_example_begin(ex);
	yes = (int)rng_uniform_int(r, 2);
	for (i = 0; i < n; i++)
		passage[i] = draw_token(r, v);
	pos = (size_t)rng_uniform_int(r, n - len + 1);
	memcpy(span, passage + pos, len * sizeof *span);
	if (!yes)
		make_absent(ex, passage, n, span, len, v, r);
	put_str(&ex->input, t->context_label);
	put_tokens(&ex->input, v, passage, n);
	PUT_LIT(&ex->input, "\n");
	put_str(&ex->input, t->query_label);
	put_tokens(&ex->input, v, span, len);
	put_yes_no(&ex->output, yes);
}

static int
yesno_rule(const struct cookbook_template *t, const long *param,
    const struct cookbook_query *q, struct cookbook_buf *output, int *answer_index)
{
	struct toks passage, question;
	int rc = -1;

	*answer_index = -1;
	cookbook_buf_reset(output);
	toks_init(&passage);
	toks_init(&question);
	toks_add(&passage, q->context);
	toks_add(&question, q->query);
	if (question.n == 0) {
		loam_seterr("%s: the question has no tokens", t->name);
		goto done;
	}
	put_yes_no(output, toks_find(&passage, &question, 0) != NOT_FOUND);
	rc = 0;
done:
	toks_release(&passage);
	toks_release(&question);
	return rc;
}

/* ==== entity-match ==== */

enum { EM_ATTRS, EM_VALUE_LEN, EM_THRESHOLD };

static const struct cookbook_param match_params[] = {
	{ "attrs", 3, 1, 64, "attributes per record" },
	{ "value_len", 3, 1, 64, "tokens in each attribute's value" },
	{ "threshold", 50, 1, 100,
	    "Jaccard index, in percent, from which records match" },
};

/* Jaccard (n - r) / (n + r) >= threshold percent, without rounding. */
static int
match_holds(size_t n, size_t r, long threshold)
{
	return 100 * (n - r) >= (size_t)threshold * (n + r);
}

static int
match_check(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v)
{
	size_t attrs = (size_t)param[EM_ATTRS];
	size_t values = attrs * (size_t)param[EM_VALUE_LEN];

	if (match_holds(attrs + values, values, param[EM_THRESHOLD]))
		return loam_seterr("%s: threshold %ld leaves no non-matching "
		    "records: replacing every value still gives Jaccard "
		    "%zu/%zu", t->name, param[EM_THRESHOLD], attrs,
		    attrs + 2 * values);
	if (v->n < attrs + 2 * values)
		return loam_seterr("%s: the vocabulary has %zu tokens; attrs "
		    "* (1 + 2 * value_len) = %zu are needed", t->name, v->n,
		    attrs + 2 * values);
	return 0;
}

static void
put_record(struct cookbook_buf *b, const struct cookbook_vocab *v, const uint32_t *names,
    const uint32_t *values, size_t attrs, size_t value_len)
{
	size_t i;

	for (i = 0; i < attrs; i++) {
		if (i > 0)
			PUT_LIT(b, "; ");
		put_tokens(b, v, names + i, 1);
		PUT_LIT(b, ": ");
		put_tokens(b, v, values + i * value_len, value_len);
	}
}

/*
 * A has attrs names and attrs * value_len values, all distinct: n tokens.
 * B has the same names and values but r of them replaced by fresh
 * distinct tokens, so |A and B| = n - r and |A or B| = n + r, and the
 * Jaccard index falls with r: the labels split r's range at one point,
 * and r is drawn uniformly on the label's side.
 */
static void
match_generate(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, struct rng *r, struct cookbook_example *ex)
{
	size_t attrs = (size_t)param[EM_ATTRS];
	size_t value_len = (size_t)param[EM_VALUE_LEN];
	size_t nvalues = attrs * value_len, n = attrs + nvalues;
	uint32_t *ids = scratch_ids(ex, attrs + 3 * nvalues);
	uint32_t *names = ids, *a = names + attrs, *b = a + nvalues;
	uint32_t *slot = b + nvalues, s, tmp;
	size_t i, j, nmatch, replaced;
	int match;

	cookbook_example_begin(ex);
	match = (int)rng_uniform_int(r, 2);
	for (nmatch = 0; nmatch <= nvalues &&
	    match_holds(n, nmatch, param[EM_THRESHOLD]); nmatch++)
		;
	if (match)
		replaced = (size_t)rng_uniform_int(r, nmatch);
	else
		replaced = nmatch +
		    (size_t)rng_uniform_int(r, nvalues + 1 - nmatch);
	s = marks_begin(ex, v->n, 1);
	/* names and a lie end to end: n distinct tokens */
	for (i = 0; i < n; i++) {
		names[i] = draw_unmarked(ex, r, v, s, s, s);
		ex->mark[names[i]] = s;
	}
	memcpy(b, a, nvalues * sizeof *b);
	for (i = 0; i < nvalues; i++)
		slot[i] = (uint32_t)i;
	for (i = 0; i < replaced; i++) {
		j = i + (size_t)rng_uniform_int(r, nvalues - i);
		tmp = slot[j];
		slot[j] = slot[i];
		slot[i] = tmp;
		b[tmp] = draw_unmarked(ex, r, v, s, s, s);
		ex->mark[b[tmp]] = s;
	}
	put_str(&ex->input, t->context_label);
	put_record(&ex->input, v, names, a, attrs, value_len);
	PUT_LIT(&ex->input, "\n");
	put_str(&ex->input, t->query_label);
	put_record(&ex->input, v, names, b, attrs, value_len);
	put_yes_no(&ex->output, match);
}

static int
match_rule(const struct cookbook_template *t, const long *param,
    const struct cookbook_query *q, struct cookbook_buf *output, int *answer_index)
{
	struct toks a, b;
	size_t shared, all;
	int rc = -1;

	*answer_index = -1;
	cookbook_buf_reset(output);
	toks_init(&a);
	toks_init(&b);
	toks_add(&a, q->context);
	toks_add(&b, q->query);
	toks_make_set(&a);
	toks_make_set(&b);
	if (a.n == 0 || b.n == 0) {
		loam_seterr("%s: a record has no tokens", t->name);
		goto done;
	}
	shared = toks_shared(&a, &b);
	all = a.n + b.n - shared;
	put_yes_no(output,
	    100 * shared >= (size_t)param[EM_THRESHOLD] * all);
	rc = 0;
done:
	toks_release(&a);
	toks_release(&b);
	return rc;
}

/* ==== entity-disambig ==== */

enum { ED_CONTEXT_LEN, ED_MENTION_LEN, ED_OPTIONS, ED_DESC_LEN };

static const struct cookbook_param disambig_params[] = {
	{ "context_len", 32, 2, 4096, "tokens in the context" },
	{ "mention_len", 2, 1, 256, "tokens in the mention, a span of the context" },
	{ "options", 4, 2, COOKBOOK_MAX_OPTIONS, "number of candidates" },
	{ "desc_len", 6, 1, 256,
	    "tokens in each candidate's description, after the mention" },
};

static int
disambig_check(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v)
{
	size_t need = (size_t)(param[ED_CONTEXT_LEN] + param[ED_DESC_LEN]);

	if (param[ED_MENTION_LEN] >= param[ED_CONTEXT_LEN])
		return loam_seterr("%s: mention_len %ld must be below "
		    "context_len %ld", t->name, param[ED_MENTION_LEN],
		    param[ED_CONTEXT_LEN]);
	if (v->n < need)
		return loam_seterr("%s: the vocabulary has %zu tokens; "
		    "context_len + desc_len = %zu are needed", t->name, v->n,
		    need);
	return 0;
}

static void
disambig_generate(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, struct rng *r, struct cookbook_example *ex)
{
	size_t nctx = (size_t)param[ED_CONTEXT_LEN];
	size_t nmention = (size_t)param[ED_MENTION_LEN];
	size_t desc_len = (size_t)param[ED_DESC_LEN];
	uint32_t *ctx = scratch_ids(ex, 2 * nctx + desc_len), s;
	size_t i, pos;

	cookbook_example_begin(ex);
	pos = (size_t)rng_uniform_int(r, nctx - nmention + 1);
	for (i = 0; i < nmention; i++)
		ctx[pos + i] = draw_token(r, v);
	/* the rest of the context avoids the mention's tokens, so that the
	 * candidates have context tokens of their own to share */
	s = marks_begin(ex, v->n, 1);
	for (i = 0; i < nmention; i++)
		ex->mark[ctx[pos + i]] = s;
	for (i = 0; i < nctx; i++)
		if (i < pos || i >= pos + nmention)
			ctx[i] = draw_unmarked(ex, r, v, s, s, s);
	put_str(&ex->input, t->context_label);
	put_tokens(&ex->input, v, ctx, nctx);
	PUT_LIT(&ex->input, "\n");
	put_str(&ex->input, t->query_label);
	put_tokens(&ex->input, v, ctx + pos, nmention);
	overlap_options(ex, v, r, ctx, nctx, ctx + pos, nmention,
	    (size_t)param[ED_OPTIONS], desc_len, ctx + nctx, ctx + 2 * nctx);
}

/* ==== continuation ==== */

enum { CO_SEQ_LEN, CO_PERIOD_MIN, CO_PERIOD_MAX, CO_CONT_LEN, CO_OPTIONS };
/* Random distractors tried before falling back on one-token changes,
 * which always differ from the answer. */
#define CO_TRIES	8

static const struct cookbook_param continuation_params[] = {
	{ "seq_len", 24, 2, 4096, "tokens in the sequence" },
	{ "period_min", 2, 1, 256, "shortest period of the pattern" },
	{ "period_max", 6, 1, 256, "longest period of the pattern" },
	{ "cont_len", 4, 1, 256, "tokens in each option" },
	{ "options", 4, 2, COOKBOOK_MAX_OPTIONS, "number of options" },
};

static int
continuation_check(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v)
{
	if (param[CO_PERIOD_MIN] > param[CO_PERIOD_MAX])
		return loam_seterr("%s: period_min %ld exceeds period_max %ld",
		    t->name, param[CO_PERIOD_MIN], param[CO_PERIOD_MAX]);
	/* two whole periods pin the pattern: the smallest period the rule
	 * finds then divides the true one (Fine and Wilf) */
	if (param[CO_SEQ_LEN] < 2 * param[CO_PERIOD_MAX])
		return loam_seterr("%s: seq_len %ld is under 2 * period_max "
		    "%ld", t->name, param[CO_SEQ_LEN], param[CO_PERIOD_MAX]);
	if (v->n < 2 || v->n < (size_t)param[CO_OPTIONS])
		return loam_seterr("%s: the vocabulary has %zu tokens; at "
		    "least 2 and options = %ld are needed", t->name, v->n,
		    param[CO_OPTIONS]);
	return 0;
}

/* d differs from the answer and from options 0..upto other than it. */
static int
distinct_option(const uint32_t *d, const uint32_t *opts, size_t len,
    size_t upto, size_t answer)
{
	size_t j;

	if (ids_equal(d, opts + answer * len, len))
		return 0;
	for (j = 0; j < upto; j++)
		if (j != answer && ids_equal(d, opts + j * len, len))
			return 0;
	return 1;
}

static void
continuation_generate(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, struct rng *r, struct cookbook_example *ex)
{
	size_t n = (size_t)param[CO_SEQ_LEN], len = (size_t)param[CO_CONT_LEN];
	size_t k = (size_t)param[CO_OPTIONS];
	size_t lo = (size_t)param[CO_PERIOD_MIN], hi = (size_t)param[CO_PERIOD_MAX];
	size_t p, i, j, answer, kind, shift, tries;
	uint32_t *pattern, *seq, *opts, *correct, *d;

	cookbook_example_begin(ex);
	p = lo + (size_t)rng_uniform_int(r, hi - lo + 1);
	pattern = scratch_ids(ex, p + n + k * len);
	seq = pattern + p;
	opts = seq + n;
	for (i = 0; i < p; i++)
		pattern[i] = draw_token(r, v);
	for (i = 0; i < n; i++)
		seq[i] = pattern[i % p];
	answer = (size_t)rng_uniform_int(r, k);
	correct = opts + answer * len;
	for (j = 0; j < len; j++)
		correct[j] = pattern[(n + j) % p];
	for (i = 0; i < k; i++) {
		if (i == answer)
			continue;
		d = opts + i * len;
		for (tries = 0;; tries++) {
			kind = tries < CO_TRIES ? (size_t)rng_uniform_int(r, 3) : 1;
			if (kind == 0 && p == 1)
				kind = 1;
			if (kind == 0) {		/* the wrong phase */
				shift = 1 + (size_t)rng_uniform_int(r, p - 1);
				for (j = 0; j < len; j++)
					d[j] = pattern[(n + j + shift) % p];
			} else if (kind == 1) {		/* one token changed */
				memcpy(d, correct, len * sizeof *d);
				j = (size_t)rng_uniform_int(r, len);
				d[j] = draw_token_except(r, v, correct[j]);
			} else {			/* pattern tokens, any order */
				for (j = 0; j < len; j++)
					d[j] = pattern[rng_uniform_int(r, p)];
			}
			if (distinct_option(d, opts, len, i, answer))
				break;
		}
	}
	put_str(&ex->input, t->context_label);
	put_tokens(&ex->input, v, seq, n);
	for (i = 0; i < k; i++) {
		option_begin(ex);
		put_tokens(&ex->optbuf, v, opts + i * len, len);
		option_end(ex);
	}
	answer_is_option(ex, answer);
}

/* The smallest p with seq[i] == seq[i - p] for every i >= p. */
static size_t
smallest_period(const struct toks *seq)
{
	size_t p, i;

	for (p = 1; p < seq->n; p++) {
		for (i = p; i < seq->n && tok_equal(&seq->t[i], &seq->t[i - p]);
		    i++)
			;
		if (i == seq->n)
			return p;
	}
	return seq->n;
}

static int
continuation_rule(const struct cookbook_template *t, const long *param,
    const struct cookbook_query *q, struct cookbook_buf *output, int *answer_index)
{
	struct toks seq, opt;
	size_t i, j, p, score, best_score = 0;
	long best = -1, tie = -1;
	int rc = -1;

	*answer_index = -1;
	cookbook_buf_reset(output);
	if (q->noptions < 2)
		return loam_seterr("%s: %zu options; the rule needs at least 2",
		    t->name, q->noptions);
	toks_init(&seq);
	toks_init(&opt);
	toks_add(&seq, q->context);
	if (seq.n == 0) {
		loam_seterr("%s: the sequence has no tokens", t->name);
		goto done;
	}
	p = smallest_period(&seq);
	for (i = 0; i < q->noptions; i++) {
		opt.n = 0;
		toks_add(&opt, q->options[i]);
		score = 0;
		for (j = 0; j < opt.n; j++)
			if (tok_equal(&opt.t[j], &seq.t[(seq.n + j) % p]))
				score++;
		if (best < 0 || score > best_score) {
			best = (long)i;
			best_score = score;
			tie = -1;
		} else if (score == best_score && tie < 0) {
			tie = (long)i;
		}
	}
	if (tie >= 0) {
		loam_seterr("%s: options %ld and %ld tie, each continuing the "
		    "period-%zu pattern at %zu positions", t->name, best, tie,
		    p, best_score);
		goto done;
	}
	put_str(output, q->options[best]);
	*answer_index = (int)best;
	rc = 0;
done:
	toks_release(&seq);
	toks_release(&opt);
	return rc;
}

/* ==== fill-blank ==== */

enum { FB_CONTEXT_LEN, FB_SENTENCE_LEN };

static const struct cookbook_param blank_params[] = {
	{ "context_len", 24, 1, 4096, "tokens in the context" },
	{ "sentence_len", 8, 1, 256,
	    "tokens in the sentence, a span of the context, blank included" },
};

static int
blank_check(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v)
{
	if (param[FB_SENTENCE_LEN] > param[FB_CONTEXT_LEN])
		return loam_seterr("%s: sentence_len %ld exceeds context_len "
		    "%ld", t->name, param[FB_SENTENCE_LEN],
		    param[FB_CONTEXT_LEN]);
	if (v->n < (size_t)param[FB_CONTEXT_LEN] + 1)
		return loam_seterr("%s: the vocabulary has %zu tokens; "
		    "context_len + 1 = %ld are needed", t->name, v->n,
		    param[FB_CONTEXT_LEN] + 1);
	return 0;
}

static void
blank_generate(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, struct rng *r, struct cookbook_example *ex)
{
	size_t n = (size_t)param[FB_CONTEXT_LEN];
	size_t len = (size_t)param[FB_SENTENCE_LEN];
	uint32_t *ctx = scratch_ids(ex, n), s, wrong;
	size_t i, start, blank, answer;

	cookbook_example_begin(ex);
	for (i = 0; i < n; i++)
		ctx[i] = draw_token(r, v);
	start = (size_t)rng_uniform_int(r, n - len + 1);
	blank = (size_t)rng_uniform_int(r, len);
	s = marks_begin(ex, v->n, 1);
	for (i = 0; i < n; i++)
		ex->mark[ctx[i]] = s;
	wrong = draw_unmarked(ex, r, v, s, s, s);
	answer = (size_t)rng_uniform_int(r, 2);

	put_str(&ex->input, t->context_label);
	put_tokens(&ex->input, v, ctx, n);
	PUT_LIT(&ex->input, "\n");
	put_str(&ex->input, t->query_label);
	put_tokens(&ex->input, v, ctx + start, blank);
	if (blank > 0)
		PUT_LIT(&ex->input, " ");
	PUT_LIT(&ex->input, "_");
	if (blank + 1 < len)
		PUT_LIT(&ex->input, " ");
	put_tokens(&ex->input, v, ctx + start + blank + 1, len - blank - 1);
	for (i = 0; i < 2; i++) {
		option_begin(ex);
		put_tokens(&ex->optbuf, v, i == answer ? ctx + start + blank :
		    &wrong, 1);
		option_end(ex);
	}
	answer_is_option(ex, answer);
}

static int
blank_rule(const struct cookbook_template *t, const long *param,
    const struct cookbook_query *q, struct cookbook_buf *output, int *answer_index)
{
	struct toks ctx, opt;
	size_t i;
	long found = -1, also = -1;
	int rc = -1;

	*answer_index = -1;
	cookbook_buf_reset(output);
	if (q->noptions < 2)
		return loam_seterr("%s: %zu options; the rule needs at least 2",
		    t->name, q->noptions);
	toks_init(&ctx);
	toks_init(&opt);
	toks_add(&ctx, q->context);
	for (i = 0; i < q->noptions; i++) {
		opt.n = 0;
		toks_add(&opt, q->options[i]);
		if (toks_find(&ctx, &opt, 0) == NOT_FOUND)
			continue;
		if (found < 0)
			found = (long)i;
		else if (also < 0)
			also = (long)i;
	}
	if (found < 0) {
		loam_seterr("%s: no option occurs in the context", t->name);
		goto done;
	}
	if (also >= 0) {
		loam_seterr("%s: options %ld and %ld both occur in the context",
		    t->name, found, also);
		goto done;
	}
	put_str(output, q->options[found]);
	*answer_index = (int)found;
	rc = 0;
done:
	toks_release(&ctx);
	toks_release(&opt);
	return rc;
}

/* ==== two-choice ==== */

enum { TC_GOAL_LEN, TC_SOLUTION_LEN };

static const struct cookbook_param twochoice_params[] = {
	{ "goal_len", 12, 1, 4096, "tokens in the goal" },
	{ "solution_len", 6, 1, 256, "tokens in each solution" },
};

static int
twochoice_check(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v)
{
	size_t need = (size_t)(param[TC_GOAL_LEN] + param[TC_SOLUTION_LEN]);

	if (v->n < need)
		return loam_seterr("%s: the vocabulary has %zu tokens; goal_len "
		    "+ solution_len = %zu are needed", t->name, v->n, need);
	return 0;
}

static void
twochoice_generate(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, struct rng *r, struct cookbook_example *ex)
{
	size_t n = (size_t)param[TC_GOAL_LEN], len = (size_t)param[TC_SOLUTION_LEN];
	uint32_t *goal = scratch_ids(ex, 2 * n + len);
	size_t i;

	cookbook_example_begin(ex);
	for (i = 0; i < n; i++)
		goal[i] = draw_token(r, v);
	put_str(&ex->input, t->context_label);
	put_tokens(&ex->input, v, goal, n);
	overlap_options(ex, v, r, goal, n, NULL, 0, 2, len, goal + n,
	    goal + 2 * n);
}

/* ==== the catalogue ==== */

#define NPARAMS(a)	(sizeof(a) / sizeof(a)[0])

static const struct cookbook_template catalogue[] = {
	{
		"docqa-span", "search", "document QA",
		"Find the question's words in the document and answer with "
		    "the words that follow them.",
		"Document: ", "Question: ",
		docqa_params, NPARAMS(docqa_params), 0,
		docqa_generate, parse_labelled, docqa_rule, docqa_check,
		NULL,
	},
	{
		"mcq-overlap", "selection",
		"multiple-choice QA (ARC, OpenBookQA)",
		"Choose the option that shares the most words with the "
		    "context and the question.",
		"Context: ", "Question: ",
		mcq_params, NPARAMS(mcq_params), 1,
		mcq_generate, parse_labelled, max_overlap_rule, mcq_check,
		NULL,
	},
	{
		"yesno-contains", "search", "yes/no QA (BoolQ)",
		"Answer yes if the question's words occur in the passage in "
		    "this order, and no otherwise.",
		"Passage: ", "Question: ",
		yesno_params, NPARAMS(yesno_params), 0,
		yesno_generate, parse_labelled, yesno_rule, yesno_check,
		NULL,
	},
	{
		"entity-match", "comparison", "entity matching",
		"Answer yes if the two records describe the same entity, and "
		    "no otherwise.",
		"Entity A: ", "Entity B: ",
		match_params, NPARAMS(match_params), 0,
		match_generate, parse_labelled, match_rule, match_check,
		NULL,
	},
	{
		"entity-disambig", "selection", "entity disambiguation",
		"Choose the candidate that the mention in the context refers "
		    "to.",
		"Context: ", "Mention: ",
		disambig_params, NPARAMS(disambig_params), 1,
		disambig_generate, parse_labelled, max_overlap_rule,
		disambig_check, NULL,
	},
	{
		"continuation", "selection", "sentence completion (HellaSwag)",
		"Choose the option that continues the sequence's repeating "
		    "pattern.",
		"Sequence: ", NULL,
		continuation_params, NPARAMS(continuation_params), 1,
		continuation_generate, parse_labelled, continuation_rule,
		continuation_check, NULL,
	},
	{
		"fill-blank", "selection", "fill in the blank (WinoGrande)",
		"Choose the option that fills the blank in the sentence; it "
		    "appears in the context.",
		"Context: ", "Sentence: ",
		blank_params, NPARAMS(blank_params), 1,
		blank_generate, parse_labelled, blank_rule, blank_check,
		NULL,
	},
	{
		"two-choice", "selection", "two-choice commonsense (PIQA)",
		"Choose the solution that better achieves the goal.",
		"Goal: ", NULL,
		twochoice_params, NPARAMS(twochoice_params), 1,
		twochoice_generate, parse_labelled, max_overlap_rule,
		twochoice_check, NULL,
	},
	{
		"lego", "skill", "LEGO variable resolution (Skill-It)",
		"Give the value of the queried variable.",
		"Input: ", NULL,
		cookbook_lego_params, COOKBOOK_LEGO_NPARAMS, 0,
		cookbook_lego_generate, cookbook_lego_parse, cookbook_lego_rule,
		cookbook_skill_check, cookbook_lego_distinct,
	},
	{
		"addition", "skill", "multi-digit addition (Skill-It)",
		"Give the requested digit of the sum, counting from the ones "
		    "digit as 0.",
		"Input: ", NULL,
		cookbook_addition_params, COOKBOOK_ADDITION_NPARAMS, 0,
		cookbook_addition_generate, cookbook_addition_parse, cookbook_addition_rule,
		cookbook_skill_check, cookbook_addition_distinct,
	},
};

const struct cookbook_template *
cookbook_templates(size_t *n)
{
	*n = NPARAMS(catalogue);
	return catalogue;
}

const struct cookbook_template *
cookbook_template_find(const char *name)
{
	const struct cookbook_template *t;
	size_t i, n;

	t = cookbook_templates(&n);
	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

void
cookbook_template_defaults(const struct cookbook_template *t, long *param)
{
	size_t i;

	for (i = 0; i < t->nparams; i++)
		param[i] = t->params[i].def;
}

int
cookbook_template_param_index(const struct cookbook_template *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->nparams; i++)
		if (strcmp(t->params[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
cookbook_template_check(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v)
{
	const struct cookbook_param *p;
	size_t i;

	for (i = 0; i < t->nparams; i++) {
		p = &t->params[i];
		if (param[i] < p->min || param[i] > p->max)
			return loam_seterr("%s: %s %ld out of range %ld to %ld",
			    t->name, p->name, param[i], p->min, p->max);
	}
	return t->check ? t->check(t, param, v) : 0;
}

int
cookbook_verify(const struct cookbook_template *t, const long *param, const char *input,
    const char *const *options, size_t noptions, const char *output,
    int answer_index, struct cookbook_buf *scratch, struct cookbook_buf *rule_output)
{
	struct cookbook_query q;
	int rule_answer;

	if (t->parse(t, input, options, noptions, scratch, &q) < 0)
		return -1;
	if (t->rule(t, param, &q, rule_output, &rule_answer) < 0)
		return -1;
	if (strcmp(rule_output->s, output) != 0)
		return loam_seterr("output '%.*s' is not the rule's '%.*s'",
		    echo_len(output), output,
		    echo_len(rule_output->s), rule_output->s);
	if (rule_answer != answer_index)
		return loam_seterr("answer_index %d is not the rule's %d",
		    answer_index, rule_answer);
	return 0;
}

uint64_t
cookbook_template_distinct(const struct cookbook_template *t, const long *param)
{
	return t->distinct ? t->distinct(t, param) : 0;
}
