/*
 * hedgehog-npy - .npy activations for hedgehog-train's tests.
 *
 *	hedgehog-npy in.safetensors tensor out.npy
 *		one tensor as '<f4' (F16, BF16, F64 converted)
 *	hedgehog-npy [-s seed] [--nan] [--fill x] --random S,H,n,d out.npy
 *		Gaussian values (or x everywhere), and with --nan one NaN at
 *		[0, 0, 1, 2]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "hedgehog_io.h"
#include "npy.h"
#include "rng.h"

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "random", required_argument, NULL, 'r' },
		{ "nan", no_argument, NULL, 'n' },
		{ "fill", required_argument, NULL, 'f' },
		CLI_COMMON_LONGOPTS,
	};
	struct cli_opts o;
	size_t shape[4];
	const char *random = NULL;
	int c, nan = 0, fill = 0;
	float *x, fillv = 0;

	cli_init(&o, argc, argv, "usage: hedgehog-npy in.safetensors tensor out.npy\n"
	    "       hedgehog-npy [-s seed] [--nan] [--fill x] --random S,H,n,d out.npy\n", "", 0);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1)
		switch (c) {
		case 'r': random = optarg; break;
		case 'n': nan = 1; break;
		case 'f':
			fill = 1;
			fillv = (float)cli_parse_double("--fill", optarg, -3.4e38, 3.4e38);
			break;
		default: cli_common_option(&o, c);
		}
	argc -= optind;
	argv += optind;
	if (random) {
		struct rng r;
		size_t count;

		if (argc != 1 || sscanf(random, "%zu,%zu,%zu,%zu", &shape[0], &shape[1], &shape[2],
		    &shape[3]) != 4)
			usage_error("--random S,H,n,d out.npy");
		count = shape[0] * shape[1] * shape[2] * shape[3];
		x = xmalloc(sizeof *x * (count ? count : 1));
		rng_init(&r, o.seed, 0, 0);
		for (size_t i = 0; i < count; i++)
			x[i] = fill ? fillv : (float)rng_normal(&r);
		if (nan && count > shape[3] + 2)
			x[shape[3] + 2] = NAN;
		if (npy_write(argv[0], NPY_F4, 4, shape, x) != 0)
			die("%s", loam_error());
	} else {
		struct hedgehog_inputs in;
		struct hedgehog_tensor t;

		if (argc != 3)
			usage_error("in.safetensors tensor out.npy");
		if (hedgehog_inputs_open(&in, argv, 1) != 0)
			die("%s", loam_error());
		if (hedgehog_inputs_find(&in, argv[1], &t) != 1)
			die("%s: no tensor '%s'", argv[0], argv[1]);
		x = xmalloc(sizeof *x * t.S * t.H * t.n * t.d);
		if (hedgehog_tensor_read(&t, x) != 0)
			die("%s", loam_error());
		shape[0] = t.S;
		shape[1] = t.H;
		shape[2] = t.n;
		shape[3] = t.d;
		if (npy_write(argv[2], NPY_F4, 4, shape, x) != 0)
			die("%s", loam_error());
		hedgehog_inputs_close(&in);
	}
	free(x);
	return cli_exit();
}
