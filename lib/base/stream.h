/*
 * stream - the record loop every command runs: each input named on the
 * command line, or stdin when none is, read record by record and handed
 * to the command's function.  toybox's loopfiles is the model.
 *
 *	static int
 *	one(struct rec *r, void *arg)
 *	{
 *		...
 *		if (bad)
 *			return rec_errorf(r, "field 'x': ...");
 *		return 0;
 *	}
 *	...
 *	struct stream s;
 *	stream_init(&s, &o);
 *	s.skip_bad = skip_bad;
 *	stream_run(&s, o.argc, o.argv, one, &state);
 *
 * The conventions it keeps for every command (loam-records(5)):
 *  - an input that cannot be opened is reported ("prog: path: strerror")
 *    and the others are still read, but the run fails (exit 1);
 *  - "-" is stdin, shown in messages as "<stdin>";
 *  - a malformed line, or a record the function refuses (it returns -1
 *    after rec_errorf(), whose message begins "file:line: "), ends the
 *    run with that message (exit 1); with skip_bad it is reported and
 *    skipped instead, and a count of them is reported at the end; a read
 *    error always ends the run;
 *  - compressed inputs (.gz, .zst) are read as their text (rec's reader);
 *  - progress: with `what` set, a progress line is drawn on a terminal,
 *    and with `summary` set a one-line summary ends the run unless quiet.
 */
#ifndef LOAM_STREAM_H
#define LOAM_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "rec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A record function's answer besides 0 (go on) and -1 (bad record). */
enum { STREAM_STOP = 1 };

typedef int (*stream_fn)(struct rec *r, void *arg);

struct stream {
	/* Settings, from stream_init() and the command. */
	int skip_bad;		/* report and skip bad lines and records */
	size_t max_line;	/* the longest line; 0 for rec's default */
	const char *what;	/* progress noun ("records"); NULL: no progress */
	int summary;		/* print the progress summary at the end */
	int quiet;
	/* Counts, kept up to date. */
	uint64_t records;	/* handed to the function */
	uint64_t skipped;	/* bad lines and records skipped */
	const char *file;	/* the input being read, for messages */
	/* Internal. */
	struct progress progress;
	int started, stopped;
};

/* Settings from the common options (quiet). */
void stream_init(struct stream *s, const struct cli_opts *o);

/* Run fn over every record of the argc inputs in argv ("-" is stdin; none
 * at all means stdin), then end the progress line.  Returns STREAM_STOP
 * when fn stopped the run early, else 0; errors end the program. */
int stream_run(struct stream *s, int argc, char *argv[], stream_fn fn, void *arg);

/* The same over one input (path "-" or NULL: stdin).  Several calls may
 * share a stream; stream_end() then ends its progress. */
int stream_file(struct stream *s, const char *path, stream_fn fn, void *arg);
void stream_end(struct stream *s);

#ifdef __cplusplus
}
#endif

#endif
