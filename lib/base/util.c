/* util - see util.h. */
#define _GNU_SOURCE	/* O_TMPFILE, renameat2, mkostemp */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "util.h"

static _Thread_local char last_error[512];

/* The program's name for messages: cli_init() sets it from argv[0]. */
const char *progname = "loam";

/* Out of memory is reported without allocating and without stdio, which
 * may itself need memory. */
static void LOAM_NORETURN
out_of_memory(void)
{
	static const char msg[] = ": out of memory\n";
	ssize_t w = write(STDERR_FILENO, progname, strlen(progname));

	w = write(STDERR_FILENO, msg, sizeof msg - 1);
	(void)w;
	_exit(1);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *
xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *
xreallocarray(void *p, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		out_of_memory();
	return xrealloc(p, count * size);
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int
loam_seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	return -1;
}

const char *
loam_error(void)
{
	return last_error;
}

/* Temporary files in flight, for atomic_remove_all().  A fixed table so
 * that a signal handler can walk it without locks or allocation. */
#define MAX_TEMPS 64
static char *volatile temps[MAX_TEMPS];

static void
track_temp(char *tmp)
{
	for (int i = 0; i < MAX_TEMPS; i++)
		if (__sync_bool_compare_and_swap(&temps[i], NULL, tmp))
			return;
}

static void
untrack_temp(const char *tmp)
{
	for (int i = 0; i < MAX_TEMPS; i++)
		if (temps[i] == tmp)
			temps[i] = NULL;
}

void
atomic_remove_all(void)
{
	for (int i = 0; i < MAX_TEMPS; i++)
		if (temps[i])
			unlink(temps[i]);
}

/* The process umask, read once (reading it means setting it). */
static mode_t
process_umask(void)
{
	static int known;
	static mode_t mask;

	if (!known) {
		mask = umask(0);
		umask(mask);
		known = 1;
	}
	return mask;
}

/* The directory part of path: "." when it has none. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	dir = xmalloc((size_t)(slash - path) + 1);
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return dir;
}

/* "DIR/.NAME.loam-tmp.": what every temporary file of target starts
 * with.  NAME is cut to 200 bytes so that the pid and the random part
 * still fit in NAME_MAX; two outputs alike that far share leftovers, and
 * a leftover is garbage whichever output it was for. */
static char *
tmp_prefix(const char *target)
{
	const char *slash = strrchr(target, '/');
	const char *base = slash ? slash + 1 : target;
	size_t dir = (size_t)(base - target), n = strlen(base);
	char *s;

	if (n > 200)
		n = 200;
	s = xmalloc(dir + n + sizeof "..loam-tmp.");
	memcpy(s, target, dir);
	s[dir] = '.';
	memcpy(s + dir + 1, base, n);
	memcpy(s + dir + 1 + n, ".loam-tmp.", sizeof ".loam-tmp.");
	return s;
}

/* "/dev/stdout" and its kin name an open descriptor: which one, or -1. */
static int
fd_alias(const char *p)
{
	const char *num;
	char *end;
	long n;

	if (strcmp(p, "/dev/stdout") == 0)
		return STDOUT_FILENO;
	if (strcmp(p, "/dev/stderr") == 0)
		return STDERR_FILENO;
	if (strncmp(p, "/dev/fd/", 8) == 0)
		num = p + 8;
	else if (strncmp(p, "/proc/self/fd/", 14) == 0)
		num = p + 14;
	else
		return -1;
	if (*num < '0' || *num > '9')
		return -1;
	errno = 0;
	n = strtol(num, &end, 10);
	return *end || errno || n > INT_MAX ? -1 : (int)n;
}

enum { OUT_REPLACE, OUT_IN_PLACE, OUT_FD };

/*
 * What an output path names, following symbolic links one at a time so
 * that the file replaced is the link's final target, not the link.
 * OUT_REPLACE: a regular file or nothing, *target set; OUT_FD: an open
 * descriptor, *fd set; OUT_IN_PLACE: anything else.  -1 on a link that
 * cannot be read or a loop.
 */
static int
output_kind(const char *path, char **target, int *fd)
{
	char *cur = xstrdup(path);
	struct stat sb;

	for (int hops = 0;; hops++) {
		char *link, *dir, *next;
		ssize_t n;
		size_t cap = 256;

		if ((*fd = fd_alias(cur)) >= 0) {
			free(cur);
			return OUT_FD;
		}
		/* Links under /proc name open files, not paths one could
		 * rename over ("pipe:[1234]"). */
		if (strncmp(cur, "/proc/", 6) == 0) {
			free(cur);
			return OUT_IN_PLACE;
		}
		/* A missing path (or one lstat cannot see) is created; the
		 * open says what is wrong with it, if anything. */
		if (lstat(cur, &sb) != 0 || S_ISREG(sb.st_mode))
			break;
		if (!S_ISLNK(sb.st_mode)) {
			free(cur);
			return OUT_IN_PLACE;
		}
		if (hops == 40) {
			free(cur);
			return loam_seterr("%s: %s", path, strerror(ELOOP));
		}
		for (link = NULL;; cap *= 2) {
			link = xrealloc(link, cap);
			if ((n = readlink(cur, link, cap)) < 0) {
				int saved = errno;

				free(link);
				free(cur);
				return loam_seterr("%s: %s", path, strerror(saved));
			}
			if ((size_t)n < cap)
				break;
		}
		link[n] = '\0';
		if (link[0] == '/' || !strchr(cur, '/')) {
			next = link;
		} else {
			dir = dir_of(cur);
			cap = strlen(dir) + 1 + (size_t)n + 1;
			next = xmalloc(cap);
			snprintf(next, cap, "%s/%s", dir, link);
			free(dir);
			free(link);
		}
		free(cur);
		cur = next;
	}
	*target = cur;
	return OUT_REPLACE;
}

/* Can a file made with O_TMPFILE be linked into place?  linkat() through
 * /proc/self/fd needs /proc (AT_EMPTY_PATH needs a capability). */
static int
anonymous_ok(void)
{
#ifdef O_TMPFILE
	static int known, ok;

	if (!known) {
		ok = access("/proc/self/fd", X_OK) == 0;
		known = 1;
	}
	return ok;
#else
	return 0;
#endif
}

static int
open_temp(struct atomic_file *af)
{
	char *prefix;
	size_t n;
	int saved;

#ifdef O_TMPFILE
	if (anonymous_ok()) {
		char *dir = dir_of(af->target);

		af->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
		free(dir);
		if (af->fd >= 0)
			return 0;
		/* Not supported here (EOPNOTSUPP, or EISDIR from a kernel
		 * that predates it), or a real error that mkstemp will
		 * meet again and report. */
	}
#endif
	prefix = tmp_prefix(af->target);
	n = strlen(prefix);
	af->tmp = xmalloc(n + 24);
	snprintf(af->tmp, n + 24, "%s%ld.XXXXXX", prefix, (long)getpid());
	free(prefix);
	af->fd = mkostemp(af->tmp, O_CLOEXEC);
	if (af->fd < 0) {
		saved = errno;
		free(af->tmp);
		af->tmp = NULL;
		return loam_seterr("%s: %s", af->path, strerror(saved));
	}
	track_temp(af->tmp);
	/* mkstemp makes the file 0600; an output gets the usual mode. */
	if (fchmod(af->fd, 0666 & ~process_umask()) != 0)
		return loam_seterr("%s: %s", af->path, strerror(errno));
	return 0;
}

static void
atomic_release(struct atomic_file *af)
{
	if (af->tmp)
		untrack_temp(af->tmp);
	free(af->tmp);
	free(af->target);
	free(af->path);
	memset(af, 0, sizeof *af);
	af->fd = -1;
}

int
atomic_open(struct atomic_file *af, const char *path)
{
	char *target = NULL;
	int fd = -1, kind;

	memset(af, 0, sizeof *af);
	af->fd = -1;
	if ((kind = output_kind(path, &target, &fd)) < 0)
		return -1;
	af->path = xstrdup(path);
	switch (kind) {
	case OUT_FD:
		af->in_place = 1;
		if ((af->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
			break;
		return 0;
	case OUT_IN_PLACE:
		af->in_place = 1;
		/* No O_TRUNC: a device or FIFO has nothing to truncate, and
		 * opening a FIFO waits for its reader, as the shell's would. */
		if ((af->fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)) < 0)
			break;
		return 0;
	default:
		af->target = target;
		if (open_temp(af) == 0)
			return 0;
		atomic_abort(af);
		return -1;
	}
	loam_seterr("%s: %s", path, strerror(errno));
	atomic_release(af);
	return -1;
}

int
atomic_write(struct atomic_file *af, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		w = write(af->fd, p, n > (size_t)1 << 30 ? (size_t)1 << 30 : n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return loam_seterr("%s: %s", af->path, strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

FILE *
atomic_fdopen(struct atomic_file *af, const char *mode)
{
	int fd = fcntl(af->fd, F_DUPFD_CLOEXEC, 3);

	if (fd < 0 || !(af->fp = fdopen(fd, mode))) {
		loam_seterr("%s: %s", af->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return af->fp;
}

/* Make a rename durable: sync the directory that holds path. */
static void
sync_parent_dir(const char *path)
{
	char *dir = dir_of(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Give the anonymous temporary file a name beside its target, a fresh
 * one: linkat() cannot replace a file, so the rename does that.  The name
 * is listed at once, so that a signal before the rename removes it. */
static int
name_temp(struct atomic_file *af)
{
	static unsigned long counter;
	char *prefix = tmp_prefix(af->target), proc[32];
	size_t n = strlen(prefix) + 48;
	struct timespec ts;
	int saved;

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", af->fd);
	af->tmp = xmalloc(n);
	for (int tries = 0; tries < 100; tries++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(af->tmp, n, "%s%ld.%06lx", prefix, (long)getpid(),
		    ((unsigned long)ts.tv_nsec ^ (unsigned long)tries << 20 ^
		    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 2654435761UL) & 0xffffff);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, af->tmp, AT_SYMLINK_FOLLOW) == 0) {
			free(prefix);
			track_temp(af->tmp);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	saved = errno;
	free(prefix);
	free(af->tmp);
	af->tmp = NULL;
	errno = saved;
	return -1;
}

/* Remove what killed runs left beside target: .NAME.loam-tmp.PID.* whose
 * process is gone (a live one may be writing the same output now). */
static void
remove_leftovers(const char *target)
{
	char *prefix = tmp_prefix(target), *dir = dir_of(target);
	const char *slash = strrchr(prefix, '/');
	const char *base = slash ? slash + 1 : prefix;
	size_t n = strlen(base);
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		char *end;
		long pid;

		if (strncmp(e->d_name, base, n) != 0)
			continue;
		errno = 0;
		pid = strtol(e->d_name + n, &end, 10);
		if (errno || end == e->d_name + n || *end != '.' || pid <= 0 ||
		    pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		(void)unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
	free(prefix);
	free(dir);
}

static int
commit(struct atomic_file *af, int sync)
{
	int saved = 0, exchanged = 0;

	if (!af->path)
		return loam_seterr("atomic_commit: nothing open");
	if (af->fp) {
		errno = 0;
		if (fflush(af->fp) != 0 || ferror(af->fp))
			saved = errno ? errno : EIO;
		if (fclose(af->fp) != 0 && !saved)
			saved = errno ? errno : EIO;
		af->fp = NULL;
	}
	if (af->in_place) {
		/* Nothing to sync (fsync fails on a FIFO) nor to rename. */
		if (af->fd >= 0 && close(af->fd) != 0 && !saved)
			saved = errno;
		af->fd = -1;
		if (saved)
			loam_seterr("%s: %s", af->path, strerror(saved));
		atomic_release(af);
		return saved ? -1 : 0;
	}
	if (!saved && sync && af->fd >= 0 && fsync(af->fd) != 0)
		saved = errno;
	if (!saved && !af->tmp && name_temp(af) != 0)
		saved = errno;
	if (af->fd >= 0 && close(af->fd) != 0 && !saved)
		saved = errno;
	af->fd = -1;
	/*
	 * Unsynced, the new file is swapped in with one atomic exchange and
	 * the old one deleted, rather than renamed over: ext4 starts writing
	 * back the whole new file when a rename replaces another (its
	 * auto_da_alloc heuristic for programs that do not fsync), which
	 * made a 2 GB output's rename take longer than a third of its
	 * pipeline.  Where there is no old file, or the file system cannot
	 * exchange, it is renamed.
	 */
	if (!saved && !sync &&
	    renameat2(AT_FDCWD, af->tmp, AT_FDCWD, af->target, RENAME_EXCHANGE) == 0)
		exchanged = 1;	/* the old file is now under the temporary name */
	else if (!saved && rename(af->tmp, af->target) != 0)
		saved = errno;
	if ((saved || exchanged) && af->tmp)
		unlink(af->tmp);
	if (saved) {
		loam_seterr("%s: %s", af->path, strerror(saved));
		atomic_release(af);
		return -1;
	}
	if (!exchanged)
		sync_parent_dir(af->target);
	remove_leftovers(af->target);
	atomic_release(af);
	return 0;
}

int
atomic_commit(struct atomic_file *af)
{
	return commit(af, 1);
}

int
atomic_commit_unsynced(struct atomic_file *af)
{
	return commit(af, 0);
}

void
atomic_abort(struct atomic_file *af)
{
	if (!af->path)
		return;
	if (af->fp)
		fclose(af->fp);
	if (af->fd >= 0)
		close(af->fd);
	if (af->tmp)
		unlink(af->tmp);
	atomic_release(af);
}

int
atomic_save(const char *path, atomic_writer fn, void *arg)
{
	struct atomic_file out;
	FILE *fp;

	if (atomic_open(&out, path) != 0)
		return -1;
	if (!(fp = atomic_fdopen(&out, "wb"))) {
		atomic_abort(&out);
		return -1;
	}
	if (fn(fp, path, arg) != 0) {	/* it says why */
		atomic_abort(&out);
		return -1;
	}
	/* The commit flushes, syncs and closes it, and says what failed. */
	return atomic_commit(&out);
}

int
map_file(const char *path, void **map, size_t *len)
{
	struct stat st;
	int fd, saved;

	*map = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return loam_seterr("%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		return loam_seterr("%s: %s", path, strerror(saved));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return loam_seterr("%s: not a regular file", path);
	}
	if ((uintmax_t)st.st_size > SIZE_MAX) {
		close(fd);
		return loam_seterr("%s: file too large to map", path);
	}
	*len = (size_t)st.st_size;
	if (*len > 0) {
		void *p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);

		if (p == MAP_FAILED) {
			saved = errno;
			close(fd);
			*len = 0;
			return loam_seterr("%s: mmap: %s", path, strerror(saved));
		}
		*map = p;
	}
	close(fd);
	return 0;
}

void
unmap_file(void *map, size_t len)
{
	if (map)
		munmap(map, len);
}
