/*
 * cli - what every loam command shares: the common options, messages,
 * exit codes, atomic output files, number parsing and progress.
 *
 * A command's main() looks like this:
 *
 *	static const char usage[] = "usage: tool [-hqV] [-o file] [-s seed] [file ...]\n";
 *	static const char help[] = "  -o, --output FILE   write to FILE (atomically)\n" ...;
 *	int
 *	main(int argc, char *argv[])
 *	{
 *		struct cli_opts o;
 *		static const struct option longopts[] = {
 *			{ "window", required_argument, NULL, 'w' },
 *			CLI_COMMON_LONGOPTS,
 *		};
 *		cli_init(&o, argc, argv, usage, help, 0);
 *		while ((c = getopt_long(argc, argv, CLI_SHORTOPTS("w:"), longopts, NULL)) != -1)
 *			switch (c) {
 *			case 'w': window = cli_parse_u64("--window", optarg, 1, 1000); break;
 *			default: cli_common_option(&o, c);
 *			}
 *		... the work, output through cli_out_open()/cli_out_commit() ...
 *		return cli_exit();
 *	}
 *
 * Exit status: 0 success, 1 runtime failure (I/O, bad record, numeric
 * failure), 2 usage error.  Messages are one line on stderr:
 * "prog: message", "prog: file: strerror", "prog: file:line: message".
 */
#ifndef LOAM_CLI_H
#define LOAM_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Flags for cli_init(). */
enum {
	/* The program does dense linear algebra: on a CPU with AVX-512 and no
	 * OPENBLAS_CORETYPE chosen by the user, re-execute once with
	 * OPENBLAS_CORETYPE=SkylakeX so OpenBLAS loads its AVX-512 kernels
	 * (it reads the variable only when the library loads, before main). */
	CLI_BLAS = 1 << 0,
};

/* The options every command accepts; a command that has no use for one
 * (say --seed) still parses it, so pipelines can pass them uniformly. */
struct cli_opts {
	const char *output;	/* -o FILE; NULL means stdout */
	uint64_t seed;		/* -s N; default 0 */
	int threads;		/* -t N; 0 means the libraries' default */
	int quiet;		/* -q: no progress, no summary */
	/* Set by cli_next() at the end of the options. */
	int argc;		/* operands */
	char **argv;
	int argc_all;		/* main()'s, for cli_next() */
	char **argv_all;
};

#define CLI_COMMON_SHORT "hVo:s:t:q"
/* getopt string: leading ':' so a missing argument is told apart. */
#define CLI_SHORTOPTS(own) (":" own CLI_COMMON_SHORT)
#define CLI_COMMON_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }, \
	{ "output", required_argument, NULL, 'o' }, \
	{ "seed", required_argument, NULL, 's' }, \
	{ "threads", required_argument, NULL, 't' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ NULL, 0, NULL, 0 }

/* The program's name as shown in messages (basename of argv[0]). */
extern const char *progname;

/* Set the program name, usage text (the SYNOPSIS line(s), starting with
 * "usage: ") and option help, put SIGPIPE back to its default so that
 * `prog | head` ends quietly, and apply flags (CLI_BLAS).  Must be called
 * first in main(): with CLI_BLAS it may exec the program again. */
void cli_init(struct cli_opts *o, int argc, char *argv[], const char *usage,
    const char *help, unsigned flags);

/*
 * Option tables: one per command (or subcommand) drives parsing, --help
 * and the usage line, so that the three cannot drift apart (git's
 * parse-options and toybox's option strings are the models).
 *
 *	enum { OPT_MODE = CLI_LONG, OPT_FIELD };
 *	static const struct cli_option opts[] = {
 *		{ 'q', "quiet", NULL, NULL, "no summary" },
 *		{ OPT_MODE, "mode", "progress|simhash", "M", "progress (default) or simhash" },
 *		{ 's', "seed", "seed", "N", "seed of the projection" },
 *		CLI_OPTIONS_END
 *	};
 *	static const struct cli_spec spec = { NULL, "[file ...]",
 *	    "Intrinsic rewards from counts.", opts, "Fields read: ...\n" };
 *	...
 *	cli_begin(&o, argc, argv, &spec, 0);
 *	while ((c = cli_next(&o, &arg)) != -1)
 *		switch (c) {
 *		case OPT_MODE: mode = cli_parse_choice("--mode", arg, modes, 2); break;
 *		}
 *	for (int i = 0; i < o.argc; i++) ... o.argv[i] ...
 *
 * The usage line shows "[-hqV]" (the argument-less short options of the
 * table and the common ones) and then each option with an argument, in
 * table order, as "[-s seed]" or "[--mode progress|simhash]" (arg), and
 * the operands; an option whose help is NULL is parsed but not shown.
 * --help prints the usage, the about line, one line per option
 * ("  -s, --seed N        seed of the projection", the help text in
 * column 23; metavar is the argument's name there), -h and -V, and the
 * epilogue.  The common options (-h -V -o -s -t -q) are parsed for every
 * command, so pipelines can pass them uniformly, but shown only when the
 * table lists them, in their own place with their own help line (a
 * command with no use for -s does not advertise it), and cli_next() returns it like the others only when the
 * table gives it a key of its own ('o', 's', 't' and 'q' are also stored
 * in struct cli_opts whatever the table says).
 */
enum { CLI_LONG = 256 };	/* keys of long-only options start here */
struct cli_option {
	int key;		/* short option letter, or CLI_LONG + n */
	const char *name;	/* long name without "--"; NULL: short only */
	const char *arg;	/* argument as the usage line shows it; NULL: a flag */
	const char *metavar;	/* argument as --help shows it (NULL: arg) */
	const char *help;	/* --help text; NULL: parsed but not shown */
};
#define CLI_OPTIONS_END { 0, NULL, NULL, NULL, NULL }

struct cli_spec {
	const char *name;	/* subcommand, or NULL for the program */
	const char *operands;	/* "[file ...]", or NULL for none */
	const char *about;	/* one line for --help */
	const struct cli_option *options;
	const char *epilogue;	/* text after the options in --help, or NULL */
};

/* cli_init() for a command described by spec: builds the usage line and
 * the help text from it (held for the life of the process). */
void cli_begin(struct cli_opts *o, int argc, char *argv[], const struct cli_spec *spec,
    unsigned flags);
/* The next option of the command's table: its key, with *arg set to the
 * argument (NULL for a flag).  Common options not in the table, -h and
 * -V, unknown options and missing arguments are handled here (exit for
 * -h, -V and errors).  -1 after the last option; then o->argc and
 * o->argv hold the operands. */
int cli_next(struct cli_opts *o, const char **arg);
/* The usage line(s) built for spec, as cli_begin() would show them,
 * in a new buffer, the caller's to free (or keep).  cont: "" for the
 * first line ("usage: prog ..."), else a continuation line of a
 * multi-command program ("       prog sub ..."). */
const char *cli_usage_of(const struct cli_spec *spec, int cont);

/* Handle a getopt_long() result that the command did not: h, V, o, s, t,
 * q, unknown options and missing arguments.  Exits for -h, -V and errors. */
void cli_common_option(struct cli_opts *o, int c);

/*
 * Commands with subcommands (cookbook-gen gen, skillit-mix sample, ...):
 * when argv[1] names one of cmds, run it with argv shifted so that its
 * own options start at argv[1] (messages still name the program).  Else
 * run def when given (a default command), or answer -h/-V and report an
 * unknown or missing command as a usage error.  Returns the command's
 * exit status.  The default command's usage (cli_begin() with a spec
 * whose name is NULL) ends with the other commands' usage lines, from
 * their specs, as the man page's SYNOPSIS lists them.
 */
struct cli_command {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const struct cli_spec *spec;	/* for the program's usage and help */
};
/* usage and help NULL: built from the commands' specs (every command's
 * usage line, then "Commands:" with each one's about line, then help's
 * text when help is given). */
int cli_subcommand(int argc, char *argv[], const struct cli_command *cmds, size_t n,
    int (*def)(int argc, char *argv[]), const char *usage, const char *help);

/* Messages.  die() exits 1; usage_error() prints the message and the
 * usage line and exits 2; cli_warn() continues but makes cli_exit() return 1. */
void die(const char *fmt, ...) LOAM_PRINTF(1, 2) LOAM_NORETURN;
/* How die() and usage_error() end: flush stdout and stderr, remove the
 * temporary files of outputs not committed, and _exit(status) without
 * atexit handlers (LeakSanitizer's check among them: an error path need
 * not free what main() holds). */
void cli_quit(int status) LOAM_NORETURN;
void cli_warn(const char *fmt, ...) LOAM_PRINTF(1, 2);
void usage_error(const char *fmt, ...) LOAM_PRINTF(1, 2) LOAM_NORETURN;
/* Print "prog: message" to stderr (no exit, no status change). */
void note(const char *fmt, ...) LOAM_PRINTF(1, 2);

/* The next element of a list option's value, split in place at sep:
 * start with *cursor = a writable copy of the value (whole, for the
 * message), NULL when the list is done.  An empty element ("10,,10", a
 * leading or trailing comma, an empty value) is a usage error, where
 * strtok would pass over it. */
char *cli_list_next(char **cursor, int sep, const char *opt, const char *whole);
/* A sep-separated list of numbers in [min, max] (s is not changed) into
 * out: how many.  More than cap, an empty element or a bad number is a
 * usage error naming opt. */
size_t cli_parse_doubles(const char *opt, const char *s, int sep, double min, double max,
    double *out, size_t cap);

/* Number parsing for option values: on failure a usage error naming the
 * option, the value and the allowed range, e.g.
 * "prog: --window: '0' is not an integer in [1, 1000]". */
uint64_t cli_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max);
int64_t cli_parse_i64(const char *opt, const char *s, int64_t min, int64_t max);
double cli_parse_double(const char *opt, const char *s, double min, double max);
/* The index of s among the n names; otherwise a usage error that lists
 * them: "prog: --format: 'x' is not record, alpaca, chat or text". */
int cli_parse_choice(const char *opt, const char *s, const char *const *names, int n);
/* "I/N" with 0 <= I < N. */
void cli_parse_shard(const char *opt, const char *s, uint64_t *index, uint64_t *count);

/* Thread count for OpenMP and OpenBLAS together (cli_common_option calls
 * it for -t); n <= 0 leaves the libraries' defaults. */
void cli_set_threads(int n);

/*
 * Atomic output.  cli_out_open(o, path) returns stdout for NULL, "-" or
 * "/dev/stdout"; otherwise it opens path through atomic_open() (util.h):
 * a temporary file in the directory of the file replaced (a symbolic
 * link's target), or, for a device or FIFO, path itself.  cli_out_commit()
 * flushes, checks, syncs and renames it over that file.  Until the
 * commit, the file is untouched: die(), a signal or a crash leave the old
 * file (or none) and no temporary file (anonymous where the file system
 * allows; otherwise removed on die() and on SIGINT, SIGTERM, SIGHUP, or
 * by the next commit after a SIGKILL).  A run that called cli_warn() has
 * failed, so its commit removes the temporary file instead and path keeps
 * its old content.  The cli_out owns its FILE; do not fclose() it.
 */
struct cli_out {
	FILE *fp;
	FILE *raw;			/* under fp when it compresses (*.gz, *.zst) */
	struct atomic_file file;	/* file.path is NULL for stdout */
};
FILE *cli_out_open(struct cli_out *out, const char *path);
void cli_out_commit(struct cli_out *out);
/* Close and remove the temporary file, leaving path as it was. */
void cli_out_abort(struct cli_out *out);

/* Flush and close stdout, report a write error (exit 1) or end quietly on
 * EPIPE, and return the exit status: 1 if cli_warn() was called, else 0. */
int cli_exit(void);
/* For a write error on a stream: quiet death on EPIPE, else die(). */
void cli_write_failed(const char *name) LOAM_NORETURN;

/*
 * Progress on stderr for long work.  Updates are drawn (at most 10 times a
 * second) only when stderr is a terminal; progress_end() prints a one-line
 * summary ("prog: what: 123456 in 2.3 s, 53678/s") unless quiet.
 */
struct progress {
	const char *what;
	uint64_t total;		/* 0 when unknown: no percentage or ETA */
	uint64_t done;
	double start, last_draw;
	int tty, quiet, drawn;
};
void progress_init(struct progress *p, const char *what, uint64_t total, int quiet);
void progress_update(struct progress *p, uint64_t done);
void progress_end(struct progress *p);

/* Monotonic seconds. */
double cli_now(void);

#ifdef __cplusplus
}
#endif

#endif
