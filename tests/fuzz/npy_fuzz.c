/*
 * npy_fuzz - libFuzzer target for npy_parse(); built by `make fuzz`.
 *
 *	build/fuzz/npy_fuzz -max_total_time=60 tests/fuzz/corpus/npy
 *
 * Whatever parses must also read back in every type: the size check in
 * npy_parse() is what keeps those loops inside the buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "npy.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct npy a;
	float *f;
	double *d;
	int64_t *l;

	if (npy_parse(&a, data, size, "fuzz.npy") == -1)
		return 0;
	/* count * itemsize fits in SIZE, so these stay small. */
	f = xcalloc(a.count, sizeof *f);
	d = xcalloc(a.count, sizeof *d);
	l = xcalloc(a.count, sizeof *l);
	if (npy_read_f32(&a, f) == -1 || npy_read_f64(&a, d) == -1)
		abort();
	(void)npy_read_i64(&a, l);	/* fails on fractions, legitimately */
	free(f);
	free(d);
	free(l);
	npy_close(&a);
	return 0;
}
