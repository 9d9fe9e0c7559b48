/*
 * rkhs_state_test - lib/method/rkhs_state: kernel names read back to the
 * same family and ν; a state header written by the record writer reads
 * back to the same hyperparameters, bit for bit; headers that are not
 * ours, of another version, or with a bad field are refused with a
 * message naming the field; lengthscales fit the dimension or are refused.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "recw.h"
#include "rkhs_state.h"
#include "tap.h"
#include "util.h"

static void
test_names(void)
{
	static const char *const good[] = {
		"matern12", "matern32", "matern52", "rbf", "matern:0.7", "matern:3",
		"matern:1e-3", "matern:1.5",
	};
	static const char *const bad[] = {
		"", "matern", "matern:", "matern:0", "matern:-1", "matern:nan", "matern:inf",
		"matern:1x", "matern: 1", "RBF", "matern52 ", "matern:1e999",
	};
	int round = 0, refused = 0;

	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		enum rkhs_family f, f2;
		double nu, nu2;
		char name[64];
		if (rkhs_kernel_parse(good[i], &f, &nu) != 0)
			continue;
		rkhs_kernel_name_of(f, nu, name, sizeof name);
		round += rkhs_kernel_parse(name, &f2, &nu2) == 0 && f2 == f &&
		    (f == RKHS_RBF || nu2 == nu);
	}
	is_int(round, (long long)(sizeof good / sizeof *good),
	    "every kernel name parses and its name reads back to the same family and nu");
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		enum rkhs_family f;
		double nu;
		refused += rkhs_kernel_parse(bad[i], &f, &nu) != 0;
	}
	is_int(refused, (long long)(sizeof bad / sizeof *bad),
	    "bad kernel names (empty, nu <= 0 or not finite, trailing text) are refused");
	{
		enum rkhs_family f;
		double nu;
		char name[64];
		rkhs_kernel_parse("matern:1.5", &f, &nu);
		rkhs_kernel_name_of(f, nu, name, sizeof name);
		is_str(name, "matern32", "matern:1.5 is named matern32");
		rkhs_kernel_name_of(RKHS_MATERN, 0.1 + 0.2, name, sizeof name);
		is_str(name, "matern:0.30000000000000004", "a general nu is named by its "
		    "shortest round-trip text");
	}
}

/* The header of h as one line, parsed back. */
static struct rec *
header_of(const struct rkhs_hyper *h)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	struct recw w;
	struct rec *r;

	recw_init(&w, fp, "memory");
	recw_begin(&w);
	rkhs_state_write_header(&w, h);
	recw_end(&w);
	recw_release(&w);
	fclose(fp);
	r = rec_parse(text, len - 1, "state", 1);
	free(text);
	return r;
}

static void
test_header(void)
{
	struct rkhs_hyper h, back;
	double ls[3] = { 0.1 + 0.2, 1e-7, 123456.789 };
	struct rec *r;

	rkhs_hyper_init(&h);
	h.family = RKHS_MATERN;
	h.nu = 0.7;
	rkhs_hyper_set_ls(&h, ls, 3);
	h.variance = 2.0 / 3;
	h.noise = 1e-5 / 3;
	r = header_of(&h);
	rkhs_hyper_init(&back);
	ok(r && rkhs_state_read_header(r, &back) == 0, "a written header reads back");
	ok(back.family == h.family && back.nu == h.nu && back.nls == 3 &&
	    memcmp(back.ls, ls, sizeof ls) == 0 && back.variance == h.variance &&
	    back.noise == h.noise, "to the same hyperparameters, bit for bit");
	rec_free(r);
	rkhs_hyper_release(&back);
	rkhs_hyper_release(&h);
}

static void
test_bad_headers(void)
{
	static const struct { const char *line, *want; } cases[] = {
		{ "{\"type\":\"candidate\"}", "not a reward-query state" },
		{ "{\"format\":\"congest-route state\",\"version\":1}", "not a reward-query state" },
		{ "{\"format\":\"reward-query state\",\"version\":2,\"kernel\":\"rbf\","
		  "\"lengthscale\":[1],\"variance\":1,\"noise\":1}", "state version 2" },
		{ "{\"format\":\"reward-query state\",\"version\":1,\"kernel\":\"matern:0\","
		  "\"lengthscale\":[1],\"variance\":1,\"noise\":1}", "field 'kernel'" },
		{ "{\"format\":\"reward-query state\",\"version\":1,\"kernel\":\"rbf\","
		  "\"lengthscale\":[1,-2],\"variance\":1,\"noise\":1}", "field 'lengthscale'" },
		{ "{\"format\":\"reward-query state\",\"version\":1,\"kernel\":\"rbf\","
		  "\"lengthscale\":[],\"variance\":1,\"noise\":1}", "field 'lengthscale'" },
		{ "{\"format\":\"reward-query state\",\"version\":1,\"kernel\":\"rbf\","
		  "\"lengthscale\":[1],\"variance\":0,\"noise\":1}", "field 'variance'" },
		{ "{\"format\":\"reward-query state\",\"version\":1,\"kernel\":\"rbf\","
		  "\"lengthscale\":[1],\"variance\":1}", "field 'noise'" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct rec *r = rec_parse(cases[i].line, strlen(cases[i].line), "state", 1);
		struct rkhs_hyper h;
		int rc;

		rkhs_hyper_init(&h);
		rc = r ? rkhs_state_read_header(r, &h) : 0;
		ok(rc == -1 && strstr(loam_error(), cases[i].want) != NULL &&
		    (i < 3 || strstr(loam_error(), "version") == NULL),
		    "bad header %zu refused: %s", i, loam_error());
		rkhs_hyper_release(&h);
		rec_free(r);
	}
}

static void
test_dimension(void)
{
	struct rkhs_hyper h;
	struct rkhs_kernel k;
	double ls[2] = { 1, 2 };

	rkhs_hyper_init(&h);
	rkhs_hyper_set_ls(&h, ls, 2);
	ok(rkhs_hyper_kernel(&h, 3, &k) == -1 &&
	    strstr(loam_error(), "2 lengthscales for 3-dimensional") != NULL,
	    "two lengthscales for 3-d candidates are refused: %s", loam_error());
	ok(rkhs_hyper_kernel(&h, 2, &k) == 0 && k.nls == 2 && k.ls[1] == 2,
	    "two for 2-d candidates make a kernel of two");
	k.ls[0] = 0.5;
	k.variance = 3;
	rkhs_hyper_from_kernel(&h, &k, 0.25);
	ok(h.ls[0] == 0.5 && h.variance == 3 && h.noise == 0.25,
	    "a fitted kernel's values come back into the settings");
	rkhs_kernel_release(&k);
	rkhs_hyper_release(&h);
}

int
main(void)
{
	test_names();
	test_header();
	test_bad_headers();
	test_dimension();
	return tap_done();
}
