/*
 * rewardcount_fuzz - libFuzzer target for the reward-count table reader
 * (rewardcount_open(), rewardcount_read()); built by `make fuzz`.
 *
 *	build/fuzz/rewardcount_fuzz -max_total_time=60 tests/fuzz/corpus/rewardcount
 *
 * The corpus is tables written by `reward-count --save`.  Both of the
 * file's XXH3 checksums are recomputed over the mutated bytes before
 * reading, or almost every mutation would stop at the first checksum and
 * the parsers behind it would never see a bad length or setting.  The
 * settings sum goes where the header's length puts it; the counts sum is
 * the last 8 bytes (where it belongs when the entry count is right).
 *
 * The input is read twice: from a regular file (rewardcount_open(): the size
 * checks use fstat) and from memory (rewardcount_read(): fstat fails, as on a
 * pipe, and the table is merged into the one opened).  Properties:
 *  - a table that opened can be dumped, and written;
 *  - what was written opens again, and writing that gives the same
 *    bytes (the format is canonical).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "le.h"
#include "rewardcount.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_HEADER	24	/* magic, version, padding, settings length */

static char tmp_path[] = "/tmp/rewardcount_fuzz.XXXXXX";
static int tmp_fd = -1;

static void
remove_tmp(void)
{
	unlink(tmp_path);
}

/* Put bytes in the temporary file, replacing what it held. */
static void
put_file(const void *p, size_t n)
{
	if (tmp_fd == -1) {
		if ((tmp_fd = mkstemp(tmp_path)) == -1)
			abort();
		atexit(remove_tmp);
	}
	if (ftruncate(tmp_fd, 0) != 0 || pwrite(tmp_fd, p, n, 0) != (ssize_t)n)
		abort();
}

/* A table written to memory; NULL when rewardcount_write refuses (progress-reward
 * mode keeps no counts). */
static char *
write_mem(struct rewardcount_table *t, size_t *len)
{
	char *p = NULL;
	FILE *fp = open_memstream(&p, len);
	int rv;

	if (!fp)
		abort();
	rv = rewardcount_write(t, fp, "fuzz.out");
	if (fclose(fp) != 0)
		abort();
	if (rv != 0) {
		free(p);
		return NULL;
	}
	return p;
}

static void
dump_all(const struct rewardcount_table *t)
{
	struct rewardcount_dump d;
	struct rewardcount_entry e;
	size_t n = 0, seen = 0;

	rewardcount_dump_init(&d, t);
	while (rewardcount_dump_next(&d, &e)) {
		seen++;
		if (e.bin)
			n += strlen(e.bin);
	}
	rewardcount_dump_release(&d);
	if (seen > rewardcount_entries(t))
		abort();
	(void)n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rewardcount_table t, again;
	unsigned char *buf;
	char *w1, *w2;
	size_t len1, len2;
	uint64_t s;
	FILE *fp;

	buf = xmalloc(size ? size : 1);
	memcpy(buf, data, size);
	if (size >= FILE_HEADER) {
		s = le_get64(buf + 16);
		if (s >= 8 && s <= size - FILE_HEADER) {
			size_t end = FILE_HEADER + (size_t)s;

			le_put64(buf + end - 8, XXH3_64bits(buf, end - 8));
			if (size - end >= 8)
				le_put64(buf + size - 8,
				    XXH3_64bits(buf + end, size - end - 8));
		}
	}

	put_file(buf, size);
	if (rewardcount_open(&t, tmp_path) != 0)
		goto out;
	dump_all(&t);

	/* Written, read back, written again: the same bytes. */
	if ((w1 = write_mem(&t, &len1)) != NULL) {
		put_file(w1, len1);
		if (rewardcount_open(&again, tmp_path) != 0)
			abort();
		if ((w2 = write_mem(&again, &len2)) == NULL ||
		    len2 != len1 || memcmp(w1, w2, len1) != 0)
			abort();
		rewardcount_release(&again);
		free(w1);
		free(w2);
	}

	/* The same bytes from memory, merged into the table: the settings
	 * agree, though the warm-up state may still refuse the merge. */
	if ((fp = fmemopen(buf, size, "rb")) == NULL)
		abort();
	if (rewardcount_read(&t, fp, "fuzz.mem") == 0)
		dump_all(&t);
	fclose(fp);
	rewardcount_release(&t);
out:
	free(buf);
	return 0;
}
