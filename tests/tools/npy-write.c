/*
 * npy-write - write rows of numbers as a 2-d '<f4' .npy file (a test
 * driver, the inverse of npy-cat).
 *
 *	npy-write ROWS.txt OUT.npy
 *
 * Each line of ROWS.txt is one row of numbers separated by commas or
 * blanks; every row must have the same length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "npy.h"

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS };
	struct cli_opts o;
	FILE *fp;
	char *line = NULL;
	size_t cap = 0, rows = 0, cols = 0, n = 0, have = 0;
	float *v = NULL;
	int c;

	cli_init(&o, argc, argv, "usage: npy-write rows.txt out.npy\n", "", 0);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1)
		cli_common_option(&o, c);
	if (argc - optind != 2)
		usage_error("two arguments expected");
	if ((fp = fopen(argv[optind], "r")) == NULL)
		die("%s: cannot open", argv[optind]);
	while (getline(&line, &cap, fp) > 0) {
		size_t k = 0;
		for (char *t = strtok(line, ", \t\n"); t; t = strtok(NULL, ", \t\n")) {
			char *end;
			float f = strtof(t, &end);
			if (*end != '\0')
				die("%s:%zu: '%s' is not a number", argv[optind], rows + 1, t);
			if (n == have) {
				have = have ? 2 * have : 1024;
				v = xreallocarray(v, have, sizeof *v);
			}
			v[n++] = f;
			k++;
		}
		if (rows == 0)
			cols = k;
		else if (k != cols)
			die("%s:%zu: %zu numbers, the first row has %zu", argv[optind],
			    rows + 1, k, cols);
		rows++;
	}
	fclose(fp);
	free(line);
	size_t shape[2] = { rows, cols };
	if (npy_write(argv[optind + 1], NPY_F4, 2, shape, v) != 0)
		die("%s", loam_error());
	free(v);
	return cli_exit();
}
