/* stream - see stream.h. */
#include <string.h>

#include "stream.h"

void
stream_init(struct stream *s, const struct cli_opts *o)
{
	memset(s, 0, sizeof *s);
	s->quiet = o ? o->quiet : 0;
}

static void
begin(struct stream *s)
{
	if (s->started)
		return;
	s->started = 1;
	progress_init(&s->progress, s->what ? s->what : "records", 0, s->quiet);
}

/* A bad line or record: the end of the run, or with skip_bad a note. */
static void
bad(struct stream *s)
{
	if (!s->skip_bad)
		die("%s", loam_error());
	note("%s", loam_error());
	s->skipped++;
}

int
stream_file(struct stream *s, const char *path, stream_fn fn, void *arg)
{
	struct rec_reader rd;
	struct rec *r;
	int rc;

	begin(s);
	if (s->stopped)
		return STREAM_STOP;
	if (rec_reader_open(&rd, path ? path : "-") != 0) {
		cli_warn("%s", loam_error());
		return 0;
	}
	if (s->max_line)
		rd.max_line = s->max_line;
	s->file = rd.name;
	while ((rc = rec_next(&rd, &r)) != 0) {
		if (rc < 0) {
			if (rd.error)
				die("%s", loam_error());
			bad(s);
			continue;
		}
		s->records++;
		rc = fn(r, arg);
		if (rc < 0)
			bad(s);
		else if (rc == STREAM_STOP) {
			s->stopped = 1;
			break;
		}
		/* On a terminal only: progress_update() reads the clock. */
		if (s->progress.tty && s->what)
			progress_update(&s->progress, s->records);
	}
	rec_reader_close(&rd);
	s->file = NULL;
	return s->stopped ? STREAM_STOP : 0;
}

void
stream_end(struct stream *s)
{
	begin(s);
	s->progress.done = s->records;
	if (s->skipped)
		note("skipped %llu bad line%s", (unsigned long long)s->skipped,
		    s->skipped == 1 ? "" : "s");
	if (!s->what)
		return;
	/* progress_end() clears a drawn line, and prints the summary
	 * unless quiet. */
	if (!s->summary)
		s->progress.quiet = 1;
	progress_end(&s->progress);
}

int
stream_run(struct stream *s, int argc, char *argv[], stream_fn fn, void *arg)
{
	int rc = 0;

	for (int i = 0; i < (argc ? argc : 1) && rc != STREAM_STOP; i++)
		rc = stream_file(s, argc ? argv[i] : "-", fn, arg);
	stream_end(s);
	return rc;
}
