/* recw_test - the record writer: every field type, nesting, the number
 * rule, refusal of NaN and infinities, value mode. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rec.h"
#include "recw.h"
#include "tap.h"

static char *text;
static size_t textlen;

static FILE *
mem(void)
{
	free(text);
	text = NULL;
	return open_memstream(&text, &textlen);
}

int
main(void)
{
	struct recw w;
	FILE *fp = mem();
	const double dv[3] = { 0.1, -2, 1e300 };
	const float fv[2] = { 0.1f, 3e-8f };
	const int64_t iv[2] = { -9223372036854775807LL - 1, 7 };
	const uint64_t uv[1] = { UINT64_MAX };
	const char *s;
	size_t len;
	struct rec *r;

	recw_init(&w, fp, "mem");
	recw_begin(&w);
	recw_str(&w, "s", "a\"b\\\n\x01é");
	recw_strn(&w, "n", "xyz", 2);
	recw_int(&w, "i", -42);
	recw_uint(&w, "u", 18446744073709551615ULL);
	recw_double(&w, "d", 0.1);
	recw_float(&w, "f", 0.1f);
	recw_bool(&w, "t", 1);
	recw_bool(&w, "b", 0);
	recw_null(&w, "z");
	recw_raw(&w, "raw", "{\"k\":[1]}", 9);
	recw_doubles(&w, "dv", dv, 3);
	recw_floats(&w, "fv", fv, 2);
	recw_ints(&w, "iv", iv, 2);
	recw_uints(&w, "uv", uv, 1);
	recw_object(&w, "o");
	recw_array(&w, "a");
	recw_int(&w, NULL, 1);
	recw_object(&w, NULL);
	recw_close(&w);
	recw_close(&w);
	recw_double(&w, "x", 1e21);
	recw_close(&w);
	ok(recw_end(&w) == 0, "a record of every field type ends");
	fflush(fp);
	is_str(text, "{\"s\":\"a\\\"b\\\\\\n\\u0001é\",\"n\":\"xy\",\"i\":-42,"
	    "\"u\":18446744073709551615,\"d\":0.1,\"f\":0.1,\"t\":true,\"b\":false,"
	    "\"z\":null,\"raw\":{\"k\":[1]},\"dv\":[0.1,-2,1e+300],\"fv\":[0.1,3e-08],"
	    "\"iv\":[-9223372036854775808,7],\"uv\":[18446744073709551615],"
	    "\"o\":{\"a\":[1,{}],\"x\":1e+21}}\n", "written as one line, numbers shortest");
	/* What the writer writes, the reader reads back as the same values. */
	text[textlen - 1] = '\0';
	r = rec_parse(text, textlen - 1, "mem", 1);
	ok(r != NULL, "the reader takes it");
	if (r) {
		double d;
		int64_t i;

		ok(rec_get_double(r, "d", &d) == REC_OK && d == 0.1, "d reads back");
		ok(rec_get_int(r, "i", &i) == REC_OK && i == -42, "i reads back");
		rec_free(r);
	}

	/* NaN and infinities are refused, naming the field; nothing written. */
	fclose(fp);
	fp = mem();
	recw_release(&w);
	recw_init(&w, fp, "mem");
	recw_begin(&w);
	recw_double(&w, "ok", 1);
	recw_double(&w, "loss", NAN);
	recw_float(&w, "g", INFINITY);
	ok(recw_end(&w) == -1, "a NaN field fails the record");
	is_str(loam_error(), "field 'loss': NaN is not a JSON number", "the message names it");
	fflush(fp);
	is_int((long long)textlen, 0, "nothing was written");
	recw_begin(&w);
	recw_array(&w, "v");
	recw_float(&w, NULL, -INFINITY);
	recw_close(&w);
	ok(recw_end(&w) == -1, "an infinite array element fails the record");
	is_str(loam_error(), "field '(array element)': infinity is not a JSON number",
	    "the message says where");
	recw_begin(&w);
	recw_int(&w, "k", 1);
	ok(recw_end(&w) == 0, "the next record is clean again");

	/* Value mode: one value for rec_set_raw, nothing written. */
	recw_begin_value(&w);
	recw_doubles(&w, NULL, dv, 2);
	s = recw_text(&w, &len);
	ok(s && len == 8 && memcmp(s, "[0.1,-2]", 8) == 0, "value mode renders a lone array");
	recw_begin_value(&w);
	recw_double(&w, NULL, NAN);
	ok(recw_text(&w, &len) == NULL, "value mode refuses NaN too");
	fflush(fp);
	is_str(text, "{\"k\":1}\n", "only the clean record reached the stream");
	recw_release(&w);
	fclose(fp);
	free(text);
	return tap_done();
}
