/*
 * safetensors_fuzz - libFuzzer target for safetensors_parse(); built by
 * `make fuzz`.
 *
 *	build/fuzz/safetensors_fuzz -max_total_time=60 \
 *	    tests/fuzz/corpus/safetensors
 *
 * On success every tensor's bytes are read, so AddressSanitizer sees any
 * offset the checks let through, and every name must find itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct safetensors st;
	const struct safetensors_tensor *t;
	const unsigned char *p;
	volatile unsigned sum = 0;
	size_t i, j;

	if (safetensors_parse(&st, data, size, "fuzz.safetensors") == -1)
		return 0;
	for (i = 0; i < st.ntensors; i++) {
		t = &st.tensors[i];
		p = t->data;
		for (j = 0; j < t->nbytes; j++)
			sum += p[j];
		if (safetensors_find(&st, t->name) != t)
			abort();
		if (safetensors_dtype_size(t->dtype) == 0)
			abort();
	}
	for (i = 0; i < st.nmeta; i++)
		if (strcmp(safetensors_meta(&st, st.meta[i].key),
		    st.meta[i].value) != 0)
			abort();
	safetensors_close(&st);
	return 0;
}
