/*
 * npy-cat - print .npy arrays row by row as JSON Lines (a test driver).
 *
 *	npy-cat NAME=FILE.npy ...
 *
 * Row i of every array becomes field NAME of record i: a number for a 1-d
 * array, an array of numbers for a 2-d one.  All arrays must have the same
 * number of rows.  Used to turn the papers' .npy demo data into records.
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
	struct npy *a;
	double **v;
	char **name;
	size_t rows = 0;
	int c, n;

	cli_init(&o, argc, argv, "usage: npy-cat name=file.npy ...\n", "", 0);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1)
		cli_common_option(&o, c);
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage_error("no arrays");
	n = argc;
	a = xcalloc((size_t)n, sizeof *a);
	v = xcalloc((size_t)n, sizeof *v);
	name = xcalloc((size_t)n, sizeof *name);
	for (int i = 0; i < n; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq)
			usage_error("'%s' is not name=file", argv[i]);
		*eq = '\0';
		name[i] = argv[i];
		if (npy_open(&a[i], eq + 1) != 0)
			die("%s", loam_error());
		if (a[i].ndim < 1 || a[i].ndim > 2)
			die("%s: 1-d or 2-d arrays only", eq + 1);
		if (i == 0)
			rows = a[i].shape[0];
		else if (a[i].shape[0] != rows)
			die("%s: %zu rows, not %zu", eq + 1, a[i].shape[0], rows);
		v[i] = xcalloc(a[i].count ? a[i].count : 1, sizeof **v);
		if (npy_read_f64(&a[i], v[i]) != 0)
			die("%s", loam_error());
	}
	for (size_t r = 0; r < rows; r++) {
		putchar('{');
		for (int i = 0; i < n; i++) {
			size_t cols = a[i].ndim == 2 ? a[i].shape[1] : 1;

			printf("%s\"%s\":%s", i ? "," : "", name[i], a[i].ndim == 2 ? "[" : "");
			for (size_t j = 0; j < cols; j++)
				printf("%s%.17g", j ? "," : "", v[i][r * cols + j]);
			if (a[i].ndim == 2)
				putchar(']');
		}
		puts("}");
	}
	for (int i = 0; i < n; i++) {
		npy_close(&a[i]);
		free(v[i]);
	}
	free(a);
	free(v);
	free(name);
	return cli_exit();
}
