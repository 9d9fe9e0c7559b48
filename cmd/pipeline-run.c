/*
 * pipeline-run - run a pipeline described in YAML: stages joined by
 * pipes, outputs replaced atomically, chains skipped when their stamp
 * says nothing changed; see pipeline-run(1) and loam-pipeline(5).
 *
 * lib/pipeline.c loads and checks the file and computes stamps; this
 * file runs the chains: fork/exec with pipes (never a shell), one poll
 * loop for every stage's stderr and for child exits, a thread per pump
 * where pipeline-run itself must carry the data (tee:, --stats).
 */
#define _GNU_SOURCE	/* pipe2, F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli.h"
#include "pipeline.h"

enum { OPT_FORCE = CLI_LONG, OPT_EXPLAIN, OPT_STATS, OPT_SET, OPT_LOCK, OPT_NO_SYNC };

static const struct cli_option options[] = {
	{ 'n', "dry-run", NULL, NULL, "print the shell commands; up-to-date ones commented" },
	{ 'q', "quiet", NULL, NULL, "no summary" },
	{ 'j', "jobs", "jobs", "N", "run up to N independent chains at once (default 1)" },
	{ OPT_FORCE, "force", NULL, NULL, "run every chain, even those whose stamp matches" },
	{ OPT_EXPLAIN, "explain", NULL, NULL, "say why each chain runs or is skipped" },
	{ OPT_STATS, "stats", NULL, NULL, "per-stage wall time, CPU time, bytes and records out" },
	{ OPT_SET, "set", "name=value", "NAME=VALUE",
	    "override a variable of the pipeline (repeatable)" },
	{ OPT_LOCK, "lock", "file", "FILE", "lock FILE instead of the pipeline file" },
	{ OPT_NO_SYNC, "no-sync", NULL, NULL, "do not fsync outputs before renaming them" },
	/* The outputs are named in the pipeline: -o is refused, not shown. */
	{ 'o', "output", "file", NULL, NULL },
	CLI_OPTIONS_END
};
static const struct cli_spec spec = {
	NULL, "pipeline.yaml",
	"Run the stages of a YAML pipeline (loam-pipeline(5)): pipes, atomic outputs, caching.",
	options,
	"Exit status: 0 done, 1 a stage or an I/O operation failed, 2 a usage error\n"
	"or a bad pipeline, 75 another run holds the lock.\n"
};
enum { EXIT_LOCKED = 75 };
enum { TAIL_LINES = 5, LINE_MAX_SHOWN = 4096 };

struct opts {
	unsigned jobs;
	int dry_run, force, explain, stats, quiet, sync;
	const char *lock;
};

/* --- signals ------------------------------------------------------------
 * A stage's pid is stored before the signal that could need it is let
 * through, so the handler can stop every stage, remove every temporary
 * file and die of the same signal: the outputs stay as they were. */
static pid_t *all_pids;
static size_t all_npids;
static int sigchld_pipe[2] = { -1, -1 };

static void
on_fatal_signal(int sig)
{
	for (size_t i = 0; i < all_npids; i++)
		if (all_pids[i] > 0)
			kill(all_pids[i], SIGTERM);
	atomic_remove_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
on_sigchld(int sig)
{
	int saved = errno;
	char c = 0;

	(void)sig;
	(void)!write(sigchld_pipe[1], &c, 1);
	errno = saved;
}

static void
block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

static void
set_cloexec(int fd)
{
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* --- pumps: pipeline-run carrying a stage's output itself ------------- */

struct sink {
	int fd;
	int owned;		/* a pipe end the pump closes at the end */
	const char *name;	/* for messages */
};

struct pump {
	pthread_t thread;
	int started;
	int src;
	struct sink *sinks;
	size_t nsinks;
	uint64_t bytes, records;
	int err;		/* errno of a failed write to a file */
	const char *err_name;
};

static void *
pump_main(void *arg)
{
	struct pump *p = arg;
	size_t cap = 1 << 17, live = p->nsinks;
	char *buf = xmalloc(cap);
	ssize_t n;

	while (live > 0 && (n = read(p->src, buf, cap)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		p->bytes += (uint64_t)n;
		for (char *q = buf; (q = memchr(q, '\n', (size_t)(buf + n - q))) != NULL; q++)
			p->records++;
		for (size_t i = 0; i < p->nsinks; i++) {
			const char *w = buf;
			size_t left = (size_t)n;

			while (p->sinks[i].fd >= 0 && left > 0) {
				ssize_t k = write(p->sinks[i].fd, w, left);

				if (k < 0 && errno == EINTR)
					continue;
				if (k < 0) {
					/* A reader that went away no longer gets
					 * data, while tee: files still get all of
					 * it (they are outputs: never cut short
					 * by when a reader stopped); when no sink
					 * is left the stage gets SIGPIPE, as
					 * through a pipe.  Any other error fails
					 * the chain. */
					if (errno != EPIPE) {
						p->err = errno;
						p->err_name = p->sinks[i].name;
						live = 0;
					}
					if (p->sinks[i].owned)
						close(p->sinks[i].fd);
					p->sinks[i].fd = -1;
					if (live > 0)
						live--;
					break;
				}
				w += k;
				left -= (size_t)k;
			}
		}
	}
	free(buf);
	close(p->src);
	p->src = -1;
	for (size_t i = 0; i < p->nsinks; i++)
		if (p->sinks[i].owned && p->sinks[i].fd >= 0)
			close(p->sinks[i].fd);
	return NULL;
}

/* --- running state ------------------------------------------------------ */

struct stage_run {
	pid_t pid;
	int reaped, status, killed;
	int err_fd;		/* read end of its stderr pipe; -1 at EOF */
	char *partial;		/* an unfinished stderr line */
	size_t plen;
	char *tail[TAIL_LINES];	/* its last stderr lines, a ring */
	size_t ntail;
	double t0, t1;
	double cpu;
	struct pump *pump;
};

enum { C_WAITING, C_RUNNING, C_RAN, C_SKIPPED, C_FAILED, C_STOPPED, C_NOT_RUN };

struct chain_run {
	int state;
	struct atomic_file *tmp;	/* one per output */
	struct pipeline_stamp stamp;
	int have_stamp;
	int culprit;		/* stage index that failed first, -1 none */
	char *problem;		/* a failure that is not a stage's (a pump's) */
	double t0, t1;
};

struct runner {
	struct pipeline *pl;
	const struct opts *o;
	struct stage_run *sr;
	struct chain_run *cr;
	struct pipeline_hash_cache *cache;
	unsigned running;
	int failed;		/* a chain failed: start nothing more */
	int stdout_closed;	/* a stage writing our stdout died of SIGPIPE */
};

static void
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

/* One stderr line of a stage: shown with its name, kept in its tail. */
static void
stage_line(struct runner *r, size_t s, const char *line, size_t len)
{
	struct stage_run *sr = &r->sr[s];
	const char *name = r->pl->stages[s].name;
	size_t nlen = strlen(name), shown = len < LINE_MAX_SHOWN ? len : LINE_MAX_SHOWN;
	char *out = xmalloc(nlen + 2 + len + 1), **slot;

	memcpy(out, name, nlen);
	memcpy(out + nlen, ": ", 2);
	memcpy(out + nlen + 2, line, len);
	out[nlen + 2 + len] = '\n';
	write_all(STDERR_FILENO, out, nlen + 3 + len);
	free(out);
	slot = &sr->tail[sr->ntail++ % TAIL_LINES];
	free(*slot);
	*slot = xmalloc(shown + 1);
	memcpy(*slot, line, shown);
	(*slot)[shown] = '\0';
}

static void
read_stderr(struct runner *r, size_t s)
{
	struct stage_run *sr = &r->sr[s];
	char buf[8192];
	ssize_t n = read(sr->err_fd, buf, sizeof buf);
	size_t start = 0;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (sr->plen)
			stage_line(r, s, sr->partial, sr->plen);
		sr->plen = 0;
		close(sr->err_fd);
		sr->err_fd = -1;
		return;
	}
	for (size_t i = 0; i < (size_t)n; i++) {
		if (buf[i] != '\n')
			continue;
		if (sr->plen) {
			sr->partial = xrealloc(sr->partial, sr->plen + i - start);
			memcpy(sr->partial + sr->plen, buf + start, i - start);
			stage_line(r, s, sr->partial, sr->plen + i - start);
			sr->plen = 0;
		} else
			stage_line(r, s, buf + start, i - start);
		start = i + 1;
	}
	if (start < (size_t)n) {
		sr->partial = xrealloc(sr->partial, sr->plen + (size_t)n - start);
		memcpy(sr->partial + sr->plen, buf + start, (size_t)n - start);
		sr->plen += (size_t)n - start;
		if (sr->plen >= 65536) {
			stage_line(r, s, sr->partial, sr->plen);
			sr->plen = 0;
		}
	}
}

/* Make the directories above path. */
static int
make_parents(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			loam_seterr("%s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		*s = '/';
	}
	free(p);
	return 0;
}

static void
stop_chain(struct runner *r, size_t c)
{
	const struct pipeline_chain *ch = &r->pl->chains[c];

	for (size_t s = ch->first; s < ch->first + ch->count; s++)
		if (r->sr[s].pid > 0 && !r->sr[s].reaped && !r->sr[s].killed) {
			kill(r->sr[s].pid, SIGTERM);
			r->sr[s].killed = 1;
		}
}

static void
stop_everything(struct runner *r)
{
	for (size_t c = 0; c < r->pl->nchains; c++)
		if (r->cr[c].state == C_RUNNING)
			stop_chain(r, c);
}

static int
tmp_index(const struct pipeline_chain *ch, const char *path)
{
	for (size_t i = 0; i < ch->noutputs; i++)
		if (strcmp(ch->outputs[i], path) == 0)
			return (int)i;
	return -1;
}

/* Fork and exec one stage with in, out and err as fds 0, 1, 2. */
static pid_t
spawn(const struct pipeline_stage *st, int in, int out, int err)
{
	sigset_t old;
	pid_t pid;

	block_signals(&old);
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls from here to exec. */
		static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD };
		const int from[3] = { in, out, err };

		for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
			signal(sigs[i], SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		for (int fd = 0; fd < 3; fd++) {
			if (from[fd] == fd)
				fcntl(fd, F_SETFD, 0);
			else if (dup2(from[fd], fd) < 0)
				_exit(127);
		}
		execv(st->prog, st->argv);
		{
			const char *e = strerror(errno);

			write_all(2, "cannot run ", 11);
			write_all(2, st->prog, strlen(st->prog));
			write_all(2, ": ", 2);
			write_all(2, e, strlen(e));
			write_all(2, "\n", 1);
		}
		_exit(127);
	}
	if (pid > 0)
		all_pids[all_npids++] = pid;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return pid;
}

static int
make_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) != 0)
		return loam_seterr("pipe: %s", strerror(errno));
	/* 1 MiB pipes (16x the default; the default pipe-max-size allows
	 * it) mean fewer context switches between stages: on the 2-core
	 * VM, 3 cat stages ran about 1.5x faster than with 64 KiB pipes.
	 * Where the size is refused, the default stays. */
	fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	return 0;
}

/*
 * Drop the cached pages of the output a chain is about to replace (the
 * file itself stays as it is until the rename).  Writing a fresh 2 GB
 * temporary file while the old version's pages stay cached ran 2x slower
 * on the development VM than writing over a truncated file, which drops
 * them (bash's `> out`); dropping them first makes the two alike.
 */
static void
drop_old_cache(const char *path)
{
	struct stat sb;
	int fd;

	/* Only a regular file: opening a FIFO or a device to read it is not
	 * without effect (a tape rewinds). */
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

static int
start_chain(struct runner *r, size_t c)
{
	const struct pipeline_chain *ch = &r->pl->chains[c];
	struct chain_run *cr = &r->cr[c];
	int in = -1;

	cr->t0 = cli_now();
	cr->state = C_RUNNING;
	r->running++;
	cr->tmp = xcalloc(ch->noutputs ? ch->noutputs : 1, sizeof *cr->tmp);
	for (size_t i = 0; i < ch->noutputs; i++)
		cr->tmp[i].fd = -1;
	for (size_t i = 0; i < ch->noutputs; i++) {
		drop_old_cache(ch->outputs[i]);
		if (make_parents(ch->outputs[i]) != 0 || atomic_open(&cr->tmp[i], ch->outputs[i]) != 0) {
			char why[512];

			snprintf(why, sizeof why, "%s", loam_error());
			loam_seterr("stage '%s': cannot write %s (%s)",
			    pipeline_stage_writing(r->pl, c, ch->outputs[i])->name, ch->outputs[i], why);
			goto fail;
		}
		set_cloexec(cr->tmp[i].fd);
	}
	if ((in = open(r->pl->stages[ch->first].in ? r->pl->stages[ch->first].in : "/dev/null",
	    O_RDONLY | O_CLOEXEC)) < 0) {
		loam_seterr("stage '%s': %s: %s", r->pl->stages[ch->first].name,
		    r->pl->stages[ch->first].in, strerror(errno));
		goto fail;
	}
	for (size_t s = ch->first; s < ch->first + ch->count; s++) {
		const struct pipeline_stage *st = &r->pl->stages[s];
		struct stage_run *sr = &r->sr[s];
		int last = s + 1 == ch->first + ch->count;
		int final_out = last ? (st->out ? cr->tmp[tmp_index(ch, st->out)].fd : STDOUT_FILENO) : -1;
		int next_in = -1, out, err[2], link[2], pumped = r->o->stats || st->ntee > 0;
		int close_out;

		if (!last) {
			if (make_pipe(link) != 0)
				goto fail;
			next_in = link[0];
		}
		if (pumped) {
			int p[2];
			struct pump *pu;

			if (make_pipe(p) != 0)
				goto fail;
			pu = sr->pump = xcalloc(1, sizeof *pu);
			pu->src = p[0];
			pu->sinks = xcalloc(st->ntee + 1, sizeof *pu->sinks);
			pu->sinks[pu->nsinks++] = (struct sink){ last ? final_out : link[1], !last,
			    last ? (st->out ? st->out : "standard output") : "the next stage" };
			for (size_t t = 0; t < st->ntee; t++)
				pu->sinks[pu->nsinks++] = (struct sink){
				    cr->tmp[tmp_index(ch, st->tee[t])].fd, 0, st->tee[t] };
			out = p[1];
			close_out = 1;
		} else {
			out = last ? final_out : link[1];
			close_out = !last;
		}
		if (make_pipe(err) != 0)
			goto fail;
		sr->t0 = cli_now();
		sr->pid = spawn(st, in, out, err[1]);
		close(err[1]);
		close(in);
		in = next_in;
		if (close_out)
			close(out);
		sr->err_fd = err[0];
		fcntl(sr->err_fd, F_SETFL, O_NONBLOCK);
		if (sr->pid < 0) {
			loam_seterr("fork: %s", strerror(errno));
			goto fail;
		}
		if (sr->pump) {
			if (pthread_create(&sr->pump->thread, NULL, pump_main, sr->pump) != 0) {
				loam_seterr("cannot start a thread");
				goto fail;
			}
			sr->pump->started = 1;
		}
	}
	return 0;
fail:
	if (in >= 0)
		close(in);
	stop_chain(r, c);
	return -1;
}

/* The chain has ended (every stage reaped, every stderr at EOF). */
static void
finish_chain(struct runner *r, size_t c)
{
	const struct pipeline_chain *ch = &r->pl->chains[c];
	struct chain_run *cr = &r->cr[c];
	int ok = cr->culprit < 0 && !cr->problem, in_place = 0;

	cr->t1 = cli_now();
	for (size_t s = ch->first; s < ch->first + ch->count; s++) {
		struct pump *pu = r->sr[s].pump;

		if (pu && pu->started) {
			pthread_join(pu->thread, NULL);
			pu->started = 0;
			if (pu->err && !cr->problem) {
				char msg[512];

				snprintf(msg, sizeof msg, "stage '%s': writing %s: %s",
				    r->pl->stages[s].name, pu->err_name, strerror(pu->err));
				cr->problem = xstrdup(msg);
				ok = 0;
			}
		}
	}
	/* A stage killed by SIGPIPE was stopped by the one reading it. */
	for (size_t s = ch->first; ok && s < ch->first + ch->count; s++) {
		const struct pipeline_stage *st = &r->pl->stages[s];
		struct stage_run *sr = &r->sr[s];

		if (WIFSIGNALED(sr->status) && WTERMSIG(sr->status) == SIGPIPE &&
		    s + 1 == ch->first + ch->count && !st->out) {
			r->stdout_closed = 1;
			ok = 0;
		} else if (!(WIFEXITED(sr->status) && WEXITSTATUS(sr->status) == 0) &&
		    !(WIFSIGNALED(sr->status) && WTERMSIG(sr->status) == SIGPIPE)) {
			/* Killed by us after another chain failed. */
			ok = 0;
		}
	}
	if (ok) {
		for (size_t i = 0; i < ch->noutputs; i++) {
			if (cr->tmp[i].in_place)
				in_place = 1;
			if ((r->o->sync ? atomic_commit(&cr->tmp[i]) :
			    atomic_commit_unsynced(&cr->tmp[i])) != 0) {
				cr->problem = xstrdup(loam_error());
				ok = 0;
				break;
			}
		}
		/* A device or FIFO has no content to vouch for: no stamp, and
		 * the chain is never up to date (pipeline_stamp_reason()). */
		if (ok && ch->noutputs && cr->have_stamp && !in_place) {
			if (pipeline_stamp_add_outputs(r->pl, c, &cr->stamp) != 0)
				cr->problem = xstrdup(loam_error()), ok = 0;
			for (size_t i = 0; ok && i < ch->noutputs; i++) {
				char *sp = pipeline_stamp_path(ch->outputs[i]);

				if (pipeline_stamp_write(sp, &cr->stamp) != 0)
					cr->problem = xstrdup(loam_error()), ok = 0;
				free(sp);
			}
		}
	}
	for (size_t i = 0; i < ch->noutputs; i++)
		atomic_abort(&cr->tmp[i]);
	r->running--;
	if (ok) {
		cr->state = C_RAN;
		return;
	}
	if (cr->culprit < 0 && !cr->problem) {
		cr->state = C_STOPPED;
		return;
	}
	cr->state = C_FAILED;
	if (!r->failed)
		stop_everything(r);
	r->failed = 1;
	if (cr->problem) {
		cli_warn("%s", cr->problem);
		return;
	}
	{
		const struct pipeline_stage *st = &r->pl->stages[cr->culprit];
		struct stage_run *sr = &r->sr[cr->culprit];
		char how[64];
		size_t first = sr->ntail > TAIL_LINES ? sr->ntail - TAIL_LINES : 0;

		if (WIFEXITED(sr->status))
			snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(sr->status));
		else
			snprintf(how, sizeof how, "signal %d (%s)", WTERMSIG(sr->status),
			    strsignal(WTERMSIG(sr->status)));
		cli_warn("stage '%s' failed with %s%s%s", st->name, how,
		    ch->noutputs ? "; outputs left as they were" : "",
		    sr->ntail ? "; its last lines on stderr:" : " (nothing on stderr)");
		for (size_t i = first; i < sr->ntail; i++)
			fprintf(stderr, "  %s: %s\n", st->name, sr->tail[i % TAIL_LINES]);
	}
}

static void
reap(struct runner *r)
{
	struct rusage ru;
	int status;
	pid_t pid;

	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		for (size_t s = 0; s < r->pl->nstages; s++) {
			struct stage_run *sr = &r->sr[s];
			struct chain_run *cr;

			if (sr->pid != pid || sr->reaped)
				continue;
			sr->reaped = 1;
			sr->status = status;
			sr->t1 = cli_now();
			sr->cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
			    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
			for (size_t i = 0; i < all_npids; i++)
				if (all_pids[i] == pid)
					all_pids[i] = 0;
			cr = &r->cr[r->pl->stages[s].chain];
			if ((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
			    (WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE) || sr->killed)
				break;
			/* pipefail: the first failure stops its chain. */
			if (cr->culprit < 0 && !cr->problem) {
				cr->culprit = (int)s;
				stop_chain(r, r->pl->stages[s].chain);
			}
			break;
		}
	}
}

static int
chain_over(const struct runner *r, size_t c)
{
	const struct pipeline_chain *ch = &r->pl->chains[c];

	for (size_t s = ch->first; s < ch->first + ch->count; s++)
		if ((r->sr[s].pid > 0 && !r->sr[s].reaped) || r->sr[s].err_fd >= 0)
			return 0;
	return 1;
}

/* --- deciding what runs --------------------------------------------------- */

/*
 * Chain c as one shell command line, each line after prefix.  A stage's
 * program is written as the file it resolved to, not its name, so that
 * the line runs what pipeline-run would run whatever the reader's PATH.
 */
static void
print_command(const struct pipeline *pl, size_t c, const char *prefix)
{
	const struct pipeline_chain *ch = &pl->chains[c];

	for (size_t i = 0; i < ch->noutputs; i++) {
		const char *slash = strrchr(ch->outputs[i], '/');
		struct stat sb;

		if (slash && slash != ch->outputs[i]) {
			char *dir = xstrdup(ch->outputs[i]), *q;

			dir[slash - ch->outputs[i]] = '\0';
			if (stat(dir, &sb) != 0) {
				q = pipeline_shell_quote(dir);
				printf("%smkdir -p %s\n", prefix, q);
				free(q);
			}
			free(dir);
		}
	}
	fputs(prefix, stdout);
	for (size_t s = ch->first; s < ch->first + ch->count; s++) {
		const struct pipeline_stage *st = &pl->stages[s];
		char *q;

		if (s > ch->first)
			fputs(" | ", stdout);
		for (size_t i = 0; i < st->argc; i++) {
			q = pipeline_shell_quote(i ? st->argv[i] : st->prog);
			printf("%s%s", i ? " " : "", q);
			free(q);
		}
		if (s == ch->first) {
			q = pipeline_shell_quote(st->in ? st->in : "/dev/null");
			printf(" < %s", q);
			free(q);
		}
		if (st->ntee) {
			fputs(" | tee", stdout);
			for (size_t t = 0; t < st->ntee; t++) {
				q = pipeline_shell_quote(st->tee[t]);
				printf(" %s", q);
				free(q);
			}
		}
		if (st->out) {
			q = pipeline_shell_quote(st->out);
			printf(" > %s", q);
			free(q);
		}
	}
	putchar('\n');
}

/* Decide whether chain c runs; 1 yes, 0 skip, -1 error (reported). */
static int
must_run(struct runner *r, size_t c, const char *upstream)
{
	const struct pipeline_chain *ch = &r->pl->chains[c];
	struct chain_run *cr = &r->cr[c];
	struct pipeline_stamp old = { 0 };
	const char *why;
	char buf[1024];
	int old_state = 1, run;

	if (upstream) {
		/* Dry run: an input is still to be made, so it cannot be hashed. */
		snprintf(buf, sizeof buf, "stage '%s' before it runs", upstream);
		why = buf;
	} else {
		if (ch->noutputs) {
			char *sp = pipeline_stamp_path(ch->outputs[0]);

			old_state = pipeline_stamp_read(sp, &old);
			free(sp);
		}
		if (pipeline_chain_stamp(r->pl, c, old_state == 0 ? &old : NULL, &r->cache, &cr->stamp) != 0) {
			cli_warn("stage '%s': %s", r->pl->stages[ch->first].name, loam_error());
			pipeline_stamp_release(&old);
			return -1;
		}
		cr->have_stamp = 1;
		why = pipeline_stamp_reason(r->pl, c, &old, old_state, &cr->stamp, buf, sizeof buf);
		pipeline_stamp_release(&old);
	}
	run = why != NULL || r->o->force;
	if (r->o->explain)
		note("%s: %s%s", ch->name, !why && r->o->force ? "runs: forced (--force)" :
		    why ? "runs: " : "up to date", why ? why : "");
	return run;
}

static int
deps_done(const struct runner *r, size_t c)
{
	for (size_t k = 0; k < r->pl->chains[c].ndeps; k++) {
		int st = r->cr[r->pl->chains[c].deps[k]].state;

		if (st != C_RAN && st != C_SKIPPED)
			return 0;
	}
	return 1;
}

/*
 * What would run, in the order a run with -j 1 would take.  A chain that
 * is up to date is shown too, under "# up to date: its first output",
 * its lines commented out: the whole output still runs, through a shell,
 * only what pipeline-run would run, and shows every command.
 */
static int
dry_run(struct runner *r)
{
	for (size_t c = 0; c < r->pl->nchains; c++) {
		const char *upstream = NULL;
		int run;

		if (r->cr[c].state != C_WAITING || !deps_done(r, c))
			continue;

		for (size_t k = 0; k < r->pl->chains[c].ndeps; k++)
			if (r->cr[r->pl->chains[c].deps[k]].state == C_RAN)
				upstream = r->pl->stages[r->pl->chains[r->pl->chains[c].deps[k]].first].name;
		if ((run = must_run(r, c, upstream)) < 0)
			return EXIT_FAIL;
		r->cr[c].state = run ? C_RAN : C_SKIPPED;
		if (!run)
			printf("# up to date: %s\n", r->pl->chains[c].outputs[0]);
		print_command(r->pl, c, run ? "" : "# ");
		c = (size_t)-1;
	}
	return EXIT_OK;
}

static void
print_stats(const struct runner *r)
{
	fprintf(stderr, "%-16s %-8s %9s %9s %14s %12s\n", "stage", "status", "wall_s",
	    "cpu_s", "bytes_out", "records_out");
	for (size_t s = 0; s < r->pl->nstages; s++) {
		const struct stage_run *sr = &r->sr[s];
		int cs = r->cr[r->pl->stages[s].chain].state;
		char status[32];

		if (cs == C_SKIPPED || cs == C_NOT_RUN || cs == C_WAITING || sr->pid <= 0) {
			fprintf(stderr, "%-16s %-8s\n", r->pl->stages[s].name,
			    cs == C_SKIPPED ? "cached" : "not run");
			continue;
		}
		if (WIFEXITED(sr->status))
			snprintf(status, sizeof status, "%d", WEXITSTATUS(sr->status));
		else
			snprintf(status, sizeof status, "sig%d", WTERMSIG(sr->status));
		fprintf(stderr, "%-16s %-8s %9.3f %9.3f %14" PRIu64 " %12" PRIu64 "\n",
		    r->pl->stages[s].name, status, sr->t1 - sr->t0, sr->cpu,
		    sr->pump ? sr->pump->bytes : 0, sr->pump ? sr->pump->records : 0);
	}
}

static int
run_pipeline(struct runner *r)
{
	struct pollfd *fds = xcalloc(r->pl->nstages + 1, sizeof *fds);
	size_t *fd_stage = xcalloc(r->pl->nstages + 1, sizeof *fd_stage);
	int status = EXIT_OK;

	for (;;) {
		size_t nfds = 0;

		/* Start what can start, in the file's order. */
		for (size_t c = 0; c < r->pl->nchains && !r->failed; c++) {
			int run;

			if (r->cr[c].state != C_WAITING || !deps_done(r, c))
				continue;
			if (r->running >= r->o->jobs)
				break;
			if ((run = must_run(r, c, NULL)) < 0) {
				r->cr[c].state = C_FAILED;
				r->failed = 1;
				stop_everything(r);
				break;
			}
			if (!run) {
				r->cr[c].state = C_SKIPPED;
				c = (size_t)-1;		/* its readers may start now */
				continue;
			}
			if (start_chain(r, c) != 0) {
				r->cr[c].problem = xstrdup(loam_error());
				r->failed = 1;
				stop_everything(r);
				/* Nothing of it may have started (an output that
				 * cannot be created): then no child will ever end
				 * to finish it, so finish it here, or the loop
				 * would wait forever with the lock held. */
				if (chain_over(r, c))
					finish_chain(r, c);
			}
		}
		if (r->running == 0)
			break;
		fds[nfds].fd = sigchld_pipe[0];
		fds[nfds++].events = POLLIN;
		for (size_t s = 0; s < r->pl->nstages; s++)
			if (r->sr[s].err_fd >= 0) {
				fd_stage[nfds] = s;
				fds[nfds].fd = r->sr[s].err_fd;
				fds[nfds++].events = POLLIN;
			}
		if (poll(fds, nfds, -1) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (fds[0].revents) {
			char drain[64];

			while (read(sigchld_pipe[0], drain, sizeof drain) > 0)
				;
		}
		for (size_t i = 1; i < nfds; i++)
			if (fds[i].revents)
				read_stderr(r, fd_stage[i]);
		reap(r);
		for (size_t c = 0; c < r->pl->nchains; c++)
			if (r->cr[c].state == C_RUNNING && chain_over(r, c))
				finish_chain(r, c);
	}
	free(fds);
	free(fd_stage);
	for (size_t c = 0; c < r->pl->nchains; c++)
		if (r->cr[c].problem && r->cr[c].state != C_FAILED) {
			cli_warn("%s", r->cr[c].problem);
			r->cr[c].state = C_FAILED;
		}
	if (r->failed)
		status = EXIT_FAIL;
	return status;
}

/* Inputs that no chain makes must exist before anything runs. */
static int
check_sources(const struct pipeline *pl)
{
	for (size_t c = 0; c < pl->nchains; c++) {
		const struct pipeline_chain *ch = &pl->chains[c];

		for (size_t i = 0; i < ch->ninputs; i++) {
			int made = 0;

			for (size_t d = 0; d < pl->nchains && !made; d++)
				for (size_t o = 0; o < pl->chains[d].noutputs; o++)
					if (strcmp(pl->chains[d].outputs[o], ch->inputs[i]) == 0)
						made = 1;
			if (!made && access(ch->inputs[i], R_OK) != 0) {
				int saved = errno;

				for (size_t s = ch->first; s < ch->first + ch->count; s++) {
					const struct pipeline_stage *st = &pl->stages[s];
					int uses = st->in && strcmp(st->in, ch->inputs[i]) == 0;

					for (size_t k = 0; k < st->nneeds; k++)
						uses |= strcmp(st->needs[k], ch->inputs[i]) == 0;
					if (uses) {
						cli_warn("%s: stage '%s': %s: %s", st->where, st->name,
						    ch->inputs[i], strerror(saved));
						break;
					}
				}
				return -1;
			}
		}
	}
	return 0;
}

static int
take_lock(const char *path, int create)
{
	int fd = open(path, (create ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0666);

	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			note("%s: another pipeline-run holds its lock; not starting", path);
			exit(EXIT_LOCKED);
		}
		die("%s: lock: %s", path, strerror(errno));
	}
	return fd;
}

int
main(int argc, char *argv[])
{
	struct cli_opts co;
	struct opts o = { .jobs = 1, .sync = 1 };
	struct pipeline pl;
	struct runner r = { 0 };
	char **sets = NULL;
	size_t nsets = 0;
	const char *arg;
	int c, bad, status, lock_fd = -1;
	size_t ran = 0, skipped = 0;
	double t0 = cli_now();

	cli_begin(&co, argc, argv, &spec, 0);
	while ((c = cli_next(&co, &arg)) != -1)
		switch (c) {
		case 'j': o.jobs = (unsigned)cli_parse_u64("--jobs", arg, 1, 1024); break;
		case 'n': o.dry_run = 1; break;
		case OPT_FORCE: o.force = 1; break;
		case OPT_EXPLAIN: o.explain = 1; break;
		case OPT_STATS: o.stats = 1; break;
		case OPT_LOCK: o.lock = arg; break;
		case OPT_NO_SYNC: o.sync = 0; break;
		case OPT_SET:
			sets = xreallocarray(sets, nsets + 1, sizeof *sets);
			sets[nsets++] = (char *)arg;
			break;
		}
	o.quiet = co.quiet;
	if (co.output)
		usage_error("-o: the outputs are named in the pipeline (stdout:, tee:)");
	if (co.argc == 0)
		usage_error("no pipeline file given");
	if (co.argc > 1)
		usage_error("one pipeline file at a time ('%s' is extra)", co.argv[1]);
	if (pipeline_load(&pl, co.argv[0], sets, nsets, &bad) != 0) {
		note("%s", loam_error());
		pipeline_release(&pl);
		free(sets);
		return bad ? EXIT_USAGE : EXIT_FAIL;
	}
	free(sets);
	r.pl = &pl;
	r.o = &o;
	r.sr = xcalloc(pl.nstages, sizeof *r.sr);
	r.cr = xcalloc(pl.nchains, sizeof *r.cr);
	for (size_t s = 0; s < pl.nstages; s++)
		r.sr[s].err_fd = -1;
	for (size_t i = 0; i < pl.nchains; i++)
		r.cr[i].culprit = -1;
	if (o.dry_run) {
		status = dry_run(&r);
	} else if (check_sources(&pl) != 0) {
		status = EXIT_FAIL;
		o.quiet = 1;
	} else {
		lock_fd = take_lock(o.lock ? o.lock : pl.path, o.lock != NULL);
		all_pids = xcalloc(pl.nstages, sizeof *all_pids);
		if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
			die("pipe: %s", strerror(errno));
		signal(SIGPIPE, SIG_IGN);
		{
			struct sigaction sa;

			memset(&sa, 0, sizeof sa);
			sigemptyset(&sa.sa_mask);
			sa.sa_handler = on_sigchld;
			sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
			sigaction(SIGCHLD, &sa, NULL);
			sa.sa_handler = on_fatal_signal;
			sa.sa_flags = 0;
			sigaction(SIGINT, &sa, NULL);
			sigaction(SIGTERM, &sa, NULL);
			sigaction(SIGHUP, &sa, NULL);
		}
		status = run_pipeline(&r);
		if (o.stats)
			print_stats(&r);
	}
	for (size_t i = 0; i < pl.nchains; i++) {
		ran += r.cr[i].state == C_RAN;
		skipped += r.cr[i].state == C_SKIPPED;
	}
	if (!o.quiet && !o.dry_run && !r.stdout_closed)
		note("%zu chain%s: %zu ran, %zu up to date%s (%.1f s)", pl.nchains,
		    pl.nchains == 1 ? "" : "s", ran, skipped,
		    status == EXIT_OK ? "" : ", stopped by a failure", cli_now() - t0);
	for (size_t s = 0; s < pl.nstages; s++) {
		free(r.sr[s].partial);
		for (size_t i = 0; i < TAIL_LINES; i++)
			free(r.sr[s].tail[i]);
		if (r.sr[s].pump)
			free(r.sr[s].pump->sinks);
		free(r.sr[s].pump);
	}
	for (size_t i = 0; i < pl.nchains; i++) {
		free(r.cr[i].tmp);
		free(r.cr[i].problem);
		pipeline_stamp_release(&r.cr[i].stamp);
	}
	free(r.sr);
	free(r.cr);
	pipeline_hash_cache_free(r.cache);
	pipeline_release(&pl);
	free(all_pids);
	if (lock_fd >= 0)
		close(lock_fd);
	if (r.stdout_closed) {
		/* Whoever read our output stopped: end as a filter would. */
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	if (cli_exit() != EXIT_OK && status == EXIT_OK)
		status = EXIT_FAIL;
	return status;
}
