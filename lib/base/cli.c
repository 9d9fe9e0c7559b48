/* cli - see cli.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cblas.h>
#include <omp.h>

#include "cli.h"
#include "util.h"
#include "zio.h"

static const char *usage_text = "";
static const char *help_text = "";

/* The commands beside a default command that is running: its usage line
 * is followed by theirs. */
static const struct cli_command *default_others;
static size_t default_nothers;
static int sticky_status;
static char **saved_argv;

/* A growing string that lives as long as the process. */
struct text {
	char *s;
	size_t len, cap;
};

static void
text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->s = xrealloc(t->s, t->cap);
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void
text_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

static const char *
argv_at(int i)
{
	return saved_argv && i > 0 && saved_argv[i] ? saved_argv[i] : "?";
}

static void
on_fatal_signal(int sig)
{
	atomic_remove_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
vmessage(const char *fmt, va_list ap)
{
	/* One buffered write, so lines from parallel jobs do not interleave. */
	char buf[4096];
	int n = snprintf(buf, sizeof buf, "%s: ", progname);

	if (n < 0)
		n = 0;
	vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	fflush(stdout);
	fprintf(stderr, "%s\n", buf);
}

void
cli_quit(int status)
{
	/* What was written to stdout before the error still goes out, as
	 * exit() would have sent it; temporary output files go.  Then
	 * _exit: no atexit handlers, so no leak check on an error path, and
	 * a command's buffers can be plain locals of main() that die()
	 * leaves behind with the process. */
	fflush(stdout);
	fflush(stderr);
	atomic_remove_all();
	_exit(status);
}

void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	cli_quit(EXIT_FAIL);
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	sticky_status = EXIT_FAIL;
}

void
note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

void
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	fputs(usage_text, stderr);
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
	cli_quit(EXIT_USAGE);
}

/* Does OpenBLAS run AVX-512 kernels already?  It names its choice. */
static int
blas_uses_avx512(void)
{
	static const char *const avx512_cores[] = {
		"skylakex", "cooperlake", "sapphirerapids",
	};
	const char *core = openblas_get_corename();

	for (size_t i = 0; core && i < sizeof avx512_cores / sizeof *avx512_cores; i++)
		if (strcasecmp(core, avx512_cores[i]) == 0)
			return 1;
	return 0;
}

/* Re-execute with OPENBLAS_CORETYPE=SkylakeX when it pays and is safe.
 * OpenBLAS 0.3.21 picks its Haswell (AVX2) kernels on AVX-512 CPUs it does
 * not know, such as AMD Zen 5, where SkylakeX's kernels run sgemm 1.6-1.9x
 * faster; it reads the variable in its constructor, before main(), so
 * setenv() alone is too late.  When OpenBLAS already chose an AVX-512
 * kernel (SkylakeX, Cooperlake on Zen 4, ...) nothing happens, and the
 * user's own OPENBLAS_CORETYPE, or LOAM_NO_REEXEC, is always respected. */
static void
select_blas_kernels(char *argv[])
{
	if (getenv("OPENBLAS_CORETYPE") || getenv("LOAM_NO_REEXEC"))
		return;
	__builtin_cpu_init();
	/* __builtin_cpu_supports also checks that the OS saves ZMM state. */
	if (!__builtin_cpu_supports("avx512f") ||
	    !__builtin_cpu_supports("avx512bw") ||
	    !__builtin_cpu_supports("avx512vl") ||
	    !__builtin_cpu_supports("avx512dq") || blas_uses_avx512())
		return;
	if (setenv("OPENBLAS_CORETYPE", "SkylakeX", 1) != 0)
		return;
	fflush(NULL);
	execv("/proc/self/exe", argv);
	/* No /proc: run on with the default kernels, and do not pass the
	 * setting on to children that might not want it. */
	unsetenv("OPENBLAS_CORETYPE");
}

void
cli_init(struct cli_opts *o, int argc, char *argv[], const char *usage,
    const char *help, unsigned flags)
{
	const char *slash;

	saved_argv = argv;
	if (argv[0] && *argv[0]) {
		slash = strrchr(argv[0], '/');
		progname = slash ? slash + 1 : argv[0];
	}
	usage_text = usage;
	help_text = help;
	memset(o, 0, sizeof *o);
	o->argc_all = argc;
	o->argv_all = argv;
	if (flags & CLI_BLAS)
		select_blas_kernels(argv);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, on_fatal_signal);
	signal(SIGTERM, on_fatal_signal);
	signal(SIGHUP, on_fatal_signal);
	opterr = 0;
}

void
cli_common_option(struct cli_opts *o, int c)
{
	switch (c) {
	case 'h':
		fputs(usage_text, stdout);
		fputs(help_text, stdout);
		exit(cli_exit());
	case 'V':
		printf("%s (loam) %s\n", progname, LOAM_VERSION_STRING);
		exit(cli_exit());
	case 'o':
		o->output = optarg;
		break;
	case 's':
		o->seed = cli_parse_u64("--seed", optarg, 0, UINT64_MAX);
		break;
	case 't':
		o->threads = (int)cli_parse_u64("--threads", optarg, 1, 1024);
		cli_set_threads(o->threads);
		break;
	case 'q':
		o->quiet = 1;
		break;
	case ':':
		if (optopt)
			usage_error("option -%c requires an argument", optopt);
		usage_error("option '%s' requires an argument", argv_at(optind - 1));
	default:
		if (optopt)
			usage_error("unknown option -%c", optopt);
		usage_error("unknown option '%s'", argv_at(optind - 1));
	}
}

static LOAM_NORETURN void
bad_number(const char *opt, const char *s, const char *what, const char *range)
{
	usage_error("%s: '%s' is not %s in %s", opt, s, what, range);
}

char *
cli_list_next(char **cursor, int sep, const char *opt, const char *whole)
{
	char *item = *cursor, *end;

	if (item == NULL)
		return NULL;
	if ((end = strchr(item, sep)) != NULL) {
		*end = '\0';
		*cursor = end + 1;
	} else
		*cursor = NULL;
	if (*item == '\0')
		usage_error("%s: empty element in '%s'", opt, whole);
	return item;
}

size_t
cli_parse_doubles(const char *opt, const char *s, int sep, double min, double max,
    double *out, size_t cap)
{
	char *copy = xstrdup(s), *cur = copy, *item;
	size_t n = 0;

	while ((item = cli_list_next(&cur, sep, opt, s)) != NULL) {
		if (n == cap)
			usage_error("%s: more than %zu values in '%s'", opt, cap, s);
		out[n++] = cli_parse_double(opt, item, min, max);
	}
	free(copy);
	return n;
}

uint64_t
cli_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char range[64], *end;
	unsigned long long v;

	snprintf(range, sizeof range, "[%llu, %llu]",
	    (unsigned long long)min, (unsigned long long)max);
	/* strtoull accepts "-1" and leading space; we do not. */
	if (!s || *s < '0' || *s > '9')
		bad_number(opt, s ? s : "", "an integer", range);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		bad_number(opt, s, "an integer", range);
	return v;
}

int64_t
cli_parse_i64(const char *opt, const char *s, int64_t min, int64_t max)
{
	char range[64], *end;
	long long v;

	snprintf(range, sizeof range, "[%lld, %lld]", (long long)min, (long long)max);
	if (!s || !(*s == '-' || (*s >= '0' && *s <= '9')))
		bad_number(opt, s ? s : "", "an integer", range);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		bad_number(opt, s, "an integer", range);
	return v;
}

double
cli_parse_double(const char *opt, const char *s, double min, double max)
{
	char range[80], *end;
	double v;

	snprintf(range, sizeof range, "[%g, %g]", min, max);
	if (!s || !*s || *s == ' ' || *s == '\t')
		bad_number(opt, s ? s : "", "a number", range);
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < min || v > max)
		bad_number(opt, s, "a number", range);
	return v;
}

int
cli_parse_choice(const char *opt, const char *s, const char *const *names, int n)
{
	char list[512];
	size_t at = 0;

	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	list[0] = '\0';
	for (int i = 0; i < n && at < sizeof list; i++)
		at += (size_t)snprintf(list + at, sizeof list - at, "%s%s",
		    i == 0 ? "" : i == n - 1 ? " or " : ", ", names[i]);
	usage_error("%s: '%s' is not %s", opt, s, list);
}

void
cli_parse_shard(const char *opt, const char *s, uint64_t *index, uint64_t *count)
{
	const char *slash = strchr(s, '/');
	char head[32];
	size_t n;

	if (!slash || (n = (size_t)(slash - s)) == 0 || n >= sizeof head)
		usage_error("%s: '%s' is not of the form I/N", opt, s);
	memcpy(head, s, n);
	head[n] = '\0';
	*count = cli_parse_u64(opt, slash + 1, 1, UINT64_MAX);
	*index = cli_parse_u64(opt, head, 0, *count - 1);
}

void
cli_set_threads(int n)
{
	if (n <= 0)
		return;
	omp_set_num_threads(n);
	openblas_set_num_threads(n);
}

FILE *
cli_out_open(struct cli_out *out, const char *path)
{
	memset(out, 0, sizeof *out);
	out->file.fd = -1;
	/* "/dev/stdout" is stdout itself, not a reopening of it: the same
	 * stream, so that it mixes in order with what else goes there. */
	if (!path || strcmp(path, "-") == 0 || strcmp(path, "/dev/stdout") == 0) {
		out->fp = stdout;
		return stdout;
	}
	if (atomic_open(&out->file, path) != 0 || !(out->fp = atomic_fdopen(&out->file, "w")))
		die("%s", loam_error());
	if (zio_format_of_path(path) != ZIO_NONE) {
		out->raw = out->fp;
		if (!(out->fp = zio_out_open(out->raw, zio_format_of_path(path))))
			die("%s: %s", path, loam_error());
	}
	return out->fp;
}

void
cli_out_commit(struct cli_out *out)
{
	if (!out->file.path) {
		if (fflush(out->fp) != 0 || ferror(out->fp))
			cli_write_failed("stdout");
		return;
	}
	if (sticky_status) {
		/* cli_warn() was called: the run failed, so the old output stays. */
		cli_out_abort(out);
		return;
	}
	if (out->raw) {
		/* the compressor's last frame, into raw */
		errno = 0;
		if (fclose(out->fp) != 0)
			cli_write_failed(out->file.path);
		out->raw = NULL;
	}
	out->fp = NULL;			/* the commit closes it */
	if (atomic_commit(&out->file) != 0)
		die("%s", loam_error());
}

void
cli_out_abort(struct cli_out *out)
{
	if (!out->file.path)
		return;
	if (out->raw)
		fclose(out->fp);	/* frees the compressor; the file goes */
	atomic_abort(&out->file);
	memset(out, 0, sizeof *out);
}

void
cli_write_failed(const char *name)
{
	if (errno == EPIPE) {
		/* Someone stopped reading (`prog | head`): end as if SIGPIPE
		 * had killed us, which is what the shell expects. */
		atomic_remove_all();
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
		_exit(128 + SIGPIPE);
	}
	die("%s: write error: %s", name, strerror(errno ? errno : EIO));
}

int
cli_exit(void)
{
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout))
		cli_write_failed("stdout");
	errno = 0;
	if (fclose(stdout) != 0)
		cli_write_failed("stdout");
	return sticky_status;
}

double
cli_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void
progress_init(struct progress *p, const char *what, uint64_t total, int quiet)
{
	memset(p, 0, sizeof *p);
	p->what = what;
	p->total = total;
	p->quiet = quiet;
	p->tty = !quiet && isatty(STDERR_FILENO);
	p->start = p->last_draw = cli_now();
}

static void
format_rate(char *buf, size_t n, double rate)
{
	if (rate >= 1e6)
		snprintf(buf, n, "%.2fM/s", rate / 1e6);
	else if (rate >= 1e3)
		snprintf(buf, n, "%.1fk/s", rate / 1e3);
	else
		snprintf(buf, n, "%.1f/s", rate);
}

void
progress_update(struct progress *p, uint64_t done)
{
	double now, elapsed;
	char rate[32];

	p->done = done;
	if (!p->tty)
		return;
	now = cli_now();
	if (now - p->last_draw < 0.1)
		return;
	p->last_draw = now;
	elapsed = now - p->start;
	format_rate(rate, sizeof rate, elapsed > 0 ? done / elapsed : 0);
	if (p->total && done <= p->total && done > 0) {
		double eta = elapsed * (double)(p->total - done) / done;
		fprintf(stderr, "\r%s: %s: %llu/%llu (%.0f%%) %s ETA %.0fs\033[K",
		    progname, p->what, (unsigned long long)done,
		    (unsigned long long)p->total, 100.0 * done / p->total,
		    rate, eta);
	} else {
		fprintf(stderr, "\r%s: %s: %llu %s\033[K", progname, p->what,
		    (unsigned long long)done, rate);
	}
	p->drawn = 1;
}

void
progress_end(struct progress *p)
{
	double elapsed = cli_now() - p->start;
	char rate[32];

	if (p->drawn)
		fputs("\r\033[K", stderr);
	if (p->quiet)
		return;
	format_rate(rate, sizeof rate, elapsed > 0 ? p->done / elapsed : 0);
	fprintf(stderr, "%s: %s: %llu in %.2f s, %s\n", progname, p->what,
	    (unsigned long long)p->done, elapsed, rate);
}

int
cli_subcommand(int argc, char *argv[], const struct cli_command *cmds, size_t n,
    int (*def)(int argc, char *argv[]), const char *usage, const char *help)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS };
	struct cli_opts o;
	int c;

	for (size_t i = 0; argc > 1 && i < n; i++)
		if (strcmp(argv[1], cmds[i].name) == 0) {
			argv[1] = argv[0];
			return cmds[i].run(argc - 1, argv + 1);
		}
	if (def) {
		default_others = cmds;
		default_nothers = n;
		return def(argc, argv);
	}
	cli_init(&o, argc, argv, usage ? usage : "", help ? help : "", 0);
	if (!usage) {
		struct text u = { 0 }, h = { 0 };
		char line[128];

		for (size_t i = 0; i < n; i++)
			if (cmds[i].spec) {
				/* Copied, then freed: nothing else holds it, and
				 * LeakSanitizer checks -h and -V's exit. */
				char *ul = (char *)cli_usage_of(cmds[i].spec, u.len > 0);

				text_str(&u, ul);
				free(ul);
			}
		text_str(&h, "Commands:\n");
		for (size_t i = 0; i < n; i++) {
			snprintf(line, sizeof line, "  %-20s%s\n", cmds[i].name,
			    cmds[i].spec && cmds[i].spec->about ? cmds[i].spec->about : "");
			text_str(&h, line);
		}
		if (help)
			text_str(&h, help);
		usage_text = u.s ? u.s : "";
		help_text = h.s;
	}
	if (argc > 1 && argv[1][0] != '-')
		usage_error("unknown command '%s'", argv[1]);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1)
		cli_common_option(&o, c);
	usage_error("no command given");
}

/* ---- option tables ---- */

/* The common options, as --help shows them when a table does not. */
static const struct cli_option common_options[] = {
	{ 'o', "output", "file", "FILE", "write to FILE atomically" },
	{ 's', "seed", "seed", "N", "random seed (default 0)" },
	{ 't', "threads", "n", "N", "threads (default: all cores)" },
	{ 'q', "quiet", NULL, NULL, "no progress or summary" },
	{ 'h', "help", NULL, NULL, "this help" },
	{ 'V', "version", NULL, NULL, "print the version" },
	CLI_OPTIONS_END
};

static struct {
	const struct cli_spec *spec;
	struct option *longopts;
	char shortopts[160];
} table;

static const struct cli_option *
find_key(const struct cli_option *opts, int key)
{
	for (; opts && (opts->name || opts->key); opts++)
		if (opts->key == key)
			return opts;
	return NULL;
}

/* Append item to the usage line, wrapping before column 80 under the
 * first item. */
static void
usage_item(struct text *t, size_t *col, size_t indent, const char *item)
{
	size_t n = strlen(item);

	if (*col > indent && *col + 1 + n > 79) {
		text_str(t, "\n");
		for (size_t i = 0; i < indent; i++)
			text_str(t, " ");
		*col = indent;
	} else {
		text_str(t, " ");
		(*col)++;
	}
	text_str(t, item);
	*col += n;
}

const char *
cli_usage_of(const struct cli_spec *spec, int cont)
{
	struct text t = { 0 };
	char flags[80] = "[-h", item[512];
	size_t nflags = 3, col, indent;
	const struct cli_option *op;

	text_str(&t, cont ? "       " : "usage: ");
	text_str(&t, progname);
	if (spec->name) {
		text_str(&t, " ");
		text_str(&t, spec->name);
	}
	col = t.len;
	indent = col + 1;
	for (op = spec->options; op && (op->name || op->key); op++)
		if (op->help && !op->arg && op->key < CLI_LONG && op->key != 'h' &&
		    op->key != 'V' && nflags < sizeof flags - 3)
			flags[nflags++] = (char)op->key;
	flags[nflags++] = 'V';
	flags[nflags++] = ']';
	flags[nflags] = '\0';
	usage_item(&t, &col, indent, flags);
	for (op = spec->options; op && (op->name || op->key); op++) {
		if (!op->help || (!op->arg && op->key < CLI_LONG))
			continue;
		if (op->key < CLI_LONG)
			snprintf(item, sizeof item, "[-%c%s%s]", op->key, op->arg ? " " : "",
			    op->arg ? op->arg : "");
		else
			snprintf(item, sizeof item, "[--%s%s%s]", op->name, op->arg ? " " : "",
			    op->arg ? op->arg : "");
		usage_item(&t, &col, indent, item);
	}
	if (spec->operands)
		usage_item(&t, &col, indent, spec->operands);
	text_str(&t, "\n");
	return t.s;
}

static void
help_line(struct text *t, const struct cli_option *op)
{
	char head[256];
	const char *mv = op->metavar ? op->metavar : op->arg;
	int n;

	if (op->key < CLI_LONG && op->name)
		n = snprintf(head, sizeof head, "  -%c, --%s%s%s", op->key, op->name,
		    mv ? " " : "", mv ? mv : "");
	else if (op->key < CLI_LONG)
		n = snprintf(head, sizeof head, "  -%c%s%s", op->key, mv ? " " : "", mv ? mv : "");
	else
		n = snprintf(head, sizeof head, "  --%s%s%s", op->name, mv ? " " : "", mv ? mv : "");
	text_str(t, head);
	if (n < 22)
		text_add(t, "                      ", (size_t)(22 - n));
	else
		text_str(t, "\n                      ");
	text_str(t, op->help);
	text_str(t, "\n");
}

static const char *
help_of(const struct cli_spec *spec)
{
	struct text t = { 0 };
	const struct cli_option *op;

	text_str(&t, "");
	if (spec->about) {
		text_str(&t, spec->about);
		text_str(&t, "\n");
	}
	for (op = spec->options; op && (op->name || op->key); op++)
		if (op->help)
			help_line(&t, op);
	/* The common options a command does not list are parsed but not
	 * shown, but for -h and -V. */
	for (op = common_options; op->key; op++)
		if ((op->key == 'h' || op->key == 'V') && !find_key(spec->options, op->key))
			help_line(&t, op);
	if (spec->epilogue)
		text_str(&t, spec->epilogue);
	return t.s;
}

void
cli_begin(struct cli_opts *o, int argc, char *argv[], const struct cli_spec *spec,
    unsigned flags)
{
	const struct cli_option *op;
	size_t n = 0, at = 0;

	cli_init(o, argc, argv, "", "", flags);
	usage_text = cli_usage_of(spec, 0);
	if (!spec->name && default_others) {
		struct text u = { 0 };

		text_str(&u, usage_text);
		free((char *)usage_text);
		for (size_t i = 0; i < default_nothers; i++)
			if (default_others[i].spec) {
				char *line = (char *)cli_usage_of(default_others[i].spec, 1);

				text_str(&u, line);
				free(line);
			}
		usage_text = u.s;
	}
	help_text = help_of(spec);
	table.spec = spec;
	for (op = spec->options; op && (op->name || op->key); op++)
		n++;
	table.longopts = xcalloc(n + 7, sizeof *table.longopts);
	table.shortopts[at++] = ':';
	for (op = spec->options; op && (op->name || op->key); op++) {
		if (op->key < CLI_LONG) {
			if (strchr(table.shortopts, op->key) || at + 3 >= sizeof table.shortopts)
				continue;
			table.shortopts[at++] = (char)op->key;
			if (op->arg)
				table.shortopts[at++] = ':';
		}
	}
	for (op = common_options; op->key; op++)
		if (!strchr(table.shortopts, op->key)) {
			table.shortopts[at++] = (char)op->key;
			if (op->arg)
				table.shortopts[at++] = ':';
		}
	table.shortopts[at] = '\0';
	n = 0;
	for (op = spec->options; op && (op->name || op->key); op++)
		if (op->name) {
			table.longopts[n].name = op->name;
			table.longopts[n].has_arg = op->arg ? required_argument : no_argument;
			table.longopts[n].val = op->key;
			n++;
		}
	for (op = common_options; op->key; op++)
		if (!find_key(spec->options, op->key)) {
			table.longopts[n].name = op->name;
			table.longopts[n].has_arg = op->arg ? required_argument : no_argument;
			table.longopts[n].val = op->key;
			n++;
		}
}

int
cli_next(struct cli_opts *o, const char **arg)
{
	int c;

	while ((c = getopt_long(o->argc_all, o->argv_all, table.shortopts, table.longopts,
	    NULL)) != -1) {
		*arg = optarg;
		if (c == ':' || c == '?' || c == 'h' || c == 'V' ||
		    !find_key(table.spec->options, c)) {
			cli_common_option(o, c);
			continue;
		}
		/* A common option the table lists is stored as well. */
		if (c < CLI_LONG && strchr("ostq", c))
			cli_common_option(o, c);
		return c;
	}
	o->argc = o->argc_all - optind;
	o->argv = o->argv_all + optind;
	return -1;
}
