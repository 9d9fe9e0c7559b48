/*
 * cookbook_skillit - Skill-It's LEGO and addition synthetics (Chen et al.,
 * 2023), byte for byte in the strings of the reference generators
 * (HazyResearch/skill-it, dataset/lego_dataset.py and
 * dataset/addition_dataset.py; research/skillit-cookbook.md §A3), with
 * the same distributions drawn from lib/rng instead of NumPy.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookbook.h"
#include "cookbook_templates.h"
#include "cookbook_impl.h"
#include "rng.h"
#include "util.h"


/* Skill-It names a skill by its index. */
static const char *const skill_name[] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
	"13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23",
	"24", "25",
};

/* a * b, or UINT64_MAX when that does not fit: distinct counts only need
 * to be compared with a count of examples, itself below 2^63. */
static uint64_t
mul_sat(uint64_t a, uint64_t b)
{
	if (a != 0 && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

int
cookbook_skill_check(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v)
{
	/* k is parameter 0 and skill parameter 1 of both */
	if (param[1] >= param[0])
		return loam_seterr("%s: skill %ld must be below k %ld", t->name,
		    param[1], param[0]);
	return 0;
}

/* ---- lego ---- */

enum { LEGO_K, LEGO_SKILL };
#define LEGO_LETTERS	26

const struct cookbook_param cookbook_lego_params[COOKBOOK_LEGO_NPARAMS] = {
	{ "k", 5, 1, LEGO_LETTERS, "variables in the chain" },
	{ "skill", -1, -1, LEGO_LETTERS - 1,
	    "chain position of the queried variable; -1: uniform" },
};

void
cookbook_lego_format(const char *names, const int *bits, size_t k,
    const size_t *order, size_t query, struct cookbook_buf *input,
    struct cookbook_buf *output)
{
	char clause[64];
	size_t j, i;
	int n;

	cookbook_buf_reset(input);
	cookbook_buf_reset(output);
	PUT_LIT(input, "Input: ");
	for (j = 0; j < k; j++) {
		i = order[j];
		/* the reference writes the root without the leading space
		 * the others have, hence the double spaces */
		if (i == 0)
			n = snprintf(clause, sizeof clause, "%c = val %d , ",
			    names[0], bits[0]);
		else
			n = snprintf(clause, sizeof clause, " %c = %s %c , ",
			    names[i], bits[i] == bits[i - 1] ? "val" : "not",
			    names[i - 1]);
		cookbook_buf_add(input, clause, (size_t)n);
	}
	/* and cuts the last three characters, " , " */
	input->len -= 3;
	input->s[input->len] = '\0';
	n = snprintf(clause, sizeof clause, ". Output: %c = val ", names[query]);
	cookbook_buf_add(input, clause, (size_t)n);
	n = snprintf(clause, sizeof clause, "%d, ", bits[query]);
	cookbook_buf_add(output, clause, (size_t)n);
}

void
cookbook_lego_generate(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, struct rng *r, struct cookbook_example *ex)
{
	size_t k = (size_t)param[LEGO_K], order[LEGO_LETTERS], i, query;
	int bits[LEGO_LETTERS];
	char letters[LEGO_LETTERS];

	cookbook_example_begin(ex);
	/* the reference's order: the skill, the values, the letters, the
	 * clauses */
	if (param[LEGO_SKILL] >= 0)
		query = (size_t)param[LEGO_SKILL];
	else
		query = (size_t)rng_uniform_int(r, k);
	for (i = 0; i < k; i++)
		bits[i] = (int)rng_uniform_int(r, 2);
	for (i = 0; i < LEGO_LETTERS; i++)
		letters[i] = (char)('a' + i);
	rng_shuffle(r, letters, LEGO_LETTERS, 1);
	for (i = 0; i < k; i++)
		order[i] = i;
	rng_shuffle(r, order, k, sizeof *order);
	cookbook_lego_format(letters, bits, k, order, query, &ex->input, &ex->output);
	ex->skill = skill_name[query];
}

/*
 * An input is determined by, and determines, the chain's letters in
 * order (26!/(26-k)! choices), its bits (2^k: the root's value and, for
 * each other variable, val or not, a bijection from the bits), the order
 * of the k clauses (k!, all different texts since the names differ) and
 * the queried variable (k, when the skill is not fixed); the output is
 * the rule's.  Each of these is drawn uniformly, so all examples are
 * equally likely.
 */
uint64_t
cookbook_lego_distinct(const struct cookbook_template *t, const long *param)
{
	uint64_t k = (uint64_t)param[LEGO_K], n = 1, i;

	(void)t;
	for (i = 0; i < k; i++) {
		n = mul_sat(n, LEGO_LETTERS - i);	/* letters */
		n = mul_sat(n, 2);			/* bits */
		n = mul_sat(n, i + 1);			/* clause order */
	}
	return param[LEGO_SKILL] >= 0 ? n : mul_sat(n, k);
}

int
cookbook_lego_parse(const struct cookbook_template *t, const char *input,
    const char *const *options, size_t noptions, struct cookbook_buf *scratch,
    struct cookbook_query *q)
{
	static const char head[] = "Input: ", mid[] = ". Output: ",
	    tail[] = " = val ";
	char *s, *out, *next, *name;
	size_t len;

	memset(q, 0, sizeof *q);
	cookbook_buf_reset(scratch);
	put_str(scratch, input);
	s = scratch->s;
	if (strncmp(s, head, sizeof head - 1) != 0)
		return loam_seterr("%s: input does not start with '%s'",
		    t->name, head);
	/* the last ". Output: ": clauses never contain one */
	for (out = NULL, next = s; (next = strstr(next, mid)) != NULL; next++)
		out = next;
	if (!out)
		return loam_seterr("%s: input has no '%s'", t->name, mid);
	*out = '\0';
	name = out + sizeof mid - 1;
	len = strlen(name);
	if (len <= sizeof tail - 1 ||
	    strcmp(name + len - (sizeof tail - 1), tail) != 0)
		return loam_seterr("%s: input does not end with '<variable>%s'",
		    t->name, tail);
	name[len - (sizeof tail - 1)] = '\0';
	if (strpbrk(name, " \t\n"))
		return loam_seterr("%s: queried variable '%.*s' has a space",
		    t->name, echo_len(name), name);
	q->context = s + sizeof head - 1;
	q->query = name;
	q->options = options;
	q->noptions = noptions;
	return 0;
}

struct lego_clause {
	const char *name, *operand;
	size_t name_len, operand_len;
	int negate;
};

/* Split "x = val 1 , y = not x" into clauses; -1 on a malformed one. */
static int
lego_clauses(const struct cookbook_template *t, const char *s,
    struct lego_clause *c, size_t *n)
{
	const char *word[5], *end;
	size_t wlen[5], nword, i;

	*n = 0;
	for (;;) {
		end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		for (nword = 0; s < end;) {
			if (*s == ' ' || *s == '\t') {
				s++;
				continue;
			}
			if (nword == 5)
				break;
			word[nword] = s;
			while (s < end && *s != ' ' && *s != '\t')
				s++;
			wlen[nword] = (size_t)(s - word[nword]);
			nword++;
		}
		if (nword != 4 || wlen[1] != 1 || word[1][0] != '=' ||
		    wlen[2] != 3 || (memcmp(word[2], "val", 3) != 0 &&
		    memcmp(word[2], "not", 3) != 0))
			return loam_seterr("%s: clause %zu is not '<variable> = "
			    "val|not <variable|bit>'", t->name, *n + 1);
		for (i = 0; i < *n; i++)
			if (c[i].name_len == wlen[0] &&
			    memcmp(c[i].name, word[0], wlen[0]) == 0)
				return loam_seterr("%s: variable '%.*s' is "
				    "assigned twice", t->name, (int)wlen[0],
				    word[0]);
		c[*n].name = word[0];
		c[*n].name_len = wlen[0];
		c[*n].negate = word[2][0] == 'n';
		c[*n].operand = word[3];
		c[*n].operand_len = wlen[3];
		(*n)++;
		if (!*end)
			return 0;
		s = end + 1;
	}
}

/* Follow the query's chain of val/not to a bit. */
int
cookbook_lego_rule(const struct cookbook_template *t, const long *param,
    const struct cookbook_query *q, struct cookbook_buf *output, int *answer_index)
{
	struct lego_clause *c;
	const char *name, *p;
	size_t n = 1, name_len, i, steps;
	int flip = 0, value = -1, rc = -1;
	char bit[16];

	*answer_index = -1;
	cookbook_buf_reset(output);
	if (!q->query)
		return loam_seterr("%s: no queried variable", t->name);
	for (p = q->context; *p; p++)
		n += *p == ',';
	c = xreallocarray(NULL, n, sizeof *c);
	if (lego_clauses(t, q->context, c, &n) < 0)
		goto done;
	name = q->query;
	name_len = strlen(name);
	for (steps = 0; steps <= n && value < 0; steps++) {
		for (i = 0; i < n; i++)
			if (c[i].name_len == name_len &&
			    memcmp(c[i].name, name, name_len) == 0)
				break;
		if (i == n) {
			loam_seterr("%s: variable '%.*s' is not assigned",
			    t->name, (int)name_len, name);
			goto done;
		}
		flip ^= c[i].negate;
		if (c[i].operand_len == 1 && (c[i].operand[0] == '0' ||
		    c[i].operand[0] == '1'))
			value = (c[i].operand[0] - '0') ^ flip;
		name = c[i].operand;
		name_len = c[i].operand_len;
	}
	if (value < 0) {
		loam_seterr("%s: the assignments of '%s' form a cycle", t->name,
		    q->query);
		goto done;
	}
	snprintf(bit, sizeof bit, "%d, ", value);
	put_str(output, bit);
	rc = 0;
done:
	free(c);
	return rc;
}

/* ---- addition ---- */

enum { ADD_K, ADD_SKILL };
/* 10^18 - 2 + 10^18 - 2 still fits in 64 bits. */
#define ADD_MAX_DIGITS	18

const struct cookbook_param cookbook_addition_params[COOKBOOK_ADDITION_NPARAMS] = {
	{ "k", 3, 1, ADD_MAX_DIGITS, "digits per operand" },
	{ "skill", -1, -1, ADD_MAX_DIGITS - 1,
	    "digit of the sum asked for, 0 the ones; -1: uniform" },
};

/* x's decimal digits, zero-padded to k, separated by spaces. */
static void
put_spaced_digits(struct cookbook_buf *b, unsigned long long x, int k)
{
	char digits[32];
	int n, i;

	n = snprintf(digits, sizeof digits, "%0*llu", k, x);
	for (i = 0; i < n; i++) {
		if (i > 0)
			PUT_LIT(b, " ");
		cookbook_buf_add(b, digits + i, 1);
	}
}

void
cookbook_addition_format(unsigned long long a1, unsigned long long a2, int k,
    int digit, struct cookbook_buf *input, struct cookbook_buf *output)
{
	unsigned long long sum = a1 + a2;
	char text[64];
	int n, i;

	cookbook_buf_reset(input);
	cookbook_buf_reset(output);
	PUT_LIT(input, "Input: A = ");
	put_spaced_digits(input, a1, k);
	PUT_LIT(input, " + ");
	put_spaced_digits(input, a2, k);
	n = snprintf(text, sizeof text, " , A %d = ? Output: ", digit);
	cookbook_buf_add(input, text, (size_t)n);
	for (i = 0; i < digit; i++)
		sum /= 10;
	text[0] = (char)('0' + sum % 10);
	cookbook_buf_add(output, text, 1);
}

void
cookbook_addition_generate(const struct cookbook_template *t, const long *param,
    const struct cookbook_vocab *v, struct rng *r, struct cookbook_example *ex)
{
	int k = (int)param[ADD_K], digit, i;
	unsigned long long top = 1, a1, a2;

	cookbook_example_begin(ex);
	if (param[ADD_SKILL] >= 0)
		digit = (int)param[ADD_SKILL];
	else
		digit = (int)rng_uniform_int(r, (uint64_t)k);
	for (i = 0; i < k; i++)
		top *= 10;
	/* NumPy's randint(0, 10^k - 1) excludes its upper bound */
	a1 = rng_uniform_int(r, top - 1);
	a2 = rng_uniform_int(r, top - 1);
	cookbook_addition_format(a1, a2, k, digit, &ex->input, &ex->output);
	ex->skill = skill_name[digit];
}

/* Two operands of 10^k - 1 values each, written zero-padded (so every
 * pair reads differently), times the k digits when the skill is not
 * fixed; all equally likely. */
uint64_t
cookbook_addition_distinct(const struct cookbook_template *t, const long *param)
{
	uint64_t top = 1, n;
	long i;

	(void)t;
	for (i = 0; i < param[ADD_K]; i++)
		top *= 10;
	n = mul_sat(top - 1, top - 1);
	return param[ADD_SKILL] >= 0 ? n : mul_sat(n, (uint64_t)param[ADD_K]);
}

int
cookbook_addition_parse(const struct cookbook_template *t, const char *input,
    const char *const *options, size_t noptions, struct cookbook_buf *scratch,
    struct cookbook_query *q)
{
	static const char head[] = "Input: ", tail[] = " Output: ";
	size_t len;
	char *s;

	memset(q, 0, sizeof *q);
	cookbook_buf_reset(scratch);
	put_str(scratch, input);
	s = scratch->s;
	len = scratch->len;
	if (strncmp(s, head, sizeof head - 1) != 0)
		return loam_seterr("%s: input does not start with '%s'",
		    t->name, head);
	if (len < sizeof head - 1 + sizeof tail - 1 ||
	    strcmp(s + len - (sizeof tail - 1), tail) != 0)
		return loam_seterr("%s: input does not end with '%s'", t->name,
		    tail);
	s[len - (sizeof tail - 1)] = '\0';
	q->context = s + sizeof head - 1;
	q->options = options;
	q->noptions = noptions;
	return 0;
}

static int
skip_literal(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return 0;
	*p += n;
	return 1;
}

/* Digits separated by single spaces, "2 3 3": where they start and how
 * many there are (0 when there are none). */
static size_t
skip_spaced_digits(const char **p, const char **start)
{
	const char *s = *p;
	size_t n = 0;

	*start = s;
	while (s[0] >= '0' && s[0] <= '9') {
		n++;
		s++;
		if (s[0] == ' ' && s[1] >= '0' && s[1] <= '9')
			s++;
		else
			break;
	}
	*p = s;
	return n;
}

/* Digit d of the sum of two spaced-digit numbers, schoolbook. */
static int
sum_digit(const char *a, size_t na, const char *b, size_t nb, size_t d)
{
	size_t i;
	int carry = 0, x, y, sum = 0;

	for (i = 0; i <= d; i++) {
		x = i < na ? a[2 * (na - 1 - i)] - '0' : 0;
		y = i < nb ? b[2 * (nb - 1 - i)] - '0' : 0;
		sum = x + y + carry;
		carry = sum / 10;
	}
	return sum % 10;
}

int
cookbook_addition_rule(const struct cookbook_template *t, const long *param,
    const struct cookbook_query *q, struct cookbook_buf *output, int *answer_index)
{
	const char *p = q->context, *a, *b;
	size_t na, nb;
	unsigned long d = 0;
	char digit;

	*answer_index = -1;
	cookbook_buf_reset(output);
	if (!skip_literal(&p, "A = ") || !(na = skip_spaced_digits(&p, &a)) ||
	    !skip_literal(&p, " + ") || !(nb = skip_spaced_digits(&p, &b)) ||
	    !skip_literal(&p, " , A "))
		goto bad;
	if (*p < '0' || *p > '9')
		goto bad;
	while (*p >= '0' && *p <= '9' && d < 1000)
		d = d * 10 + (unsigned long)(*p++ - '0');
	if (!skip_literal(&p, " = ?") || *p)
		goto bad;
	digit = (char)('0' + sum_digit(a, na, b, nb, d));
	cookbook_buf_add(output, &digit, 1);
	return 0;
bad:
	return loam_seterr("%s: '%.*s' is not 'A = <digits> + <digits> , A "
	    "<position> = ?'", t->name, echo_len(q->context), q->context);
}
