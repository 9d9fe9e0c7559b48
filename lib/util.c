/* util - see util.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "util.h"

static _Thread_local char last_error[512];

/* Out of memory is reported without allocating and without stdio, which
 * may itself need memory. */
static void LOAM_NORETURN
out_of_memory(void)
{
	extern const char *progname;	/* cli.c: the name die() prints */
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

int
atomic_open(struct atomic_file *af, const char *path)
{
	size_t n = strlen(path);
	int saved;

	af->path = xstrdup(path);
	af->tmp = xmalloc(n + sizeof ".tmpXXXXXX");
	memcpy(af->tmp, path, n);
	memcpy(af->tmp + n, ".tmpXXXXXX", sizeof ".tmpXXXXXX");
	af->fd = mkstemp(af->tmp);
	if (af->fd < 0) {
		saved = errno;
		free(af->tmp);
		free(af->path);
		af->tmp = af->path = NULL;
		return loam_seterr("%s: %s", path, strerror(saved));
	}
	track_temp(af->tmp);
	/* mkstemp makes the file 0600; an output gets the usual mode. */
	if (fchmod(af->fd, 0666 & ~process_umask()) != 0) {
		saved = errno;
		atomic_abort(af);
		return loam_seterr("%s: %s", path, strerror(saved));
	}
	return 0;
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

static void
atomic_release(struct atomic_file *af)
{
	untrack_temp(af->tmp);
	free(af->tmp);
	free(af->path);
	af->tmp = af->path = NULL;
	af->fd = -1;
}

/* Make a rename durable: sync the directory that holds path. */
static void
sync_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else {
		dir = xmalloc((size_t)(slash - path) + 1);
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

int
atomic_commit(struct atomic_file *af)
{
	int saved = 0;

	if (af->fd >= 0 && (fsync(af->fd) != 0 || close(af->fd) != 0))
		saved = errno;
	af->fd = -1;
	if (!saved && rename(af->tmp, af->path) != 0)
		saved = errno;
	if (saved) {
		unlink(af->tmp);
		loam_seterr("%s: %s", af->path, strerror(saved));
		atomic_release(af);
		return -1;
	}
	sync_parent_dir(af->path);
	atomic_release(af);
	return 0;
}

void
atomic_abort(struct atomic_file *af)
{
	if (!af->tmp)
		return;
	if (af->fd >= 0)
		close(af->fd);
	unlink(af->tmp);
	atomic_release(af);
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
