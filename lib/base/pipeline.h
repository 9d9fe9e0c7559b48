/*
 * pipeline - pipelines described in YAML (loam-pipeline(5)): loading,
 * checking and planning them, and the stamps that let pipeline-run(1)
 * skip work whose result is already there.
 *
 * A pipeline is a list of stages.  Consecutive stages are joined by a
 * pipe unless a file comes between them (the first has stdout:, or the
 * second stdin:); each run of joined stages is a chain, and a chain is
 * the unit that runs, succeeds or fails, and is cached.  Chains form a
 * graph through the files they read (stdin:, needs:) and write (stdout:,
 * tee:).  Loading resolves variables, splits command strings into words,
 * finds each program (beside the running executable, then in PATH), and
 * refuses anything wrong (unknown or duplicate keys, undefined variables,
 * missing programs, two writers of one file, cycles) with
 * "file:line:column: message", before anything runs.
 *
 * Nothing here runs a program or prints: cmd/pipeline-run.c does.
 */
#ifndef LOAM_PIPELINE_H
#define LOAM_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pipeline_var {
	char *name;
	char *value;		/* final: override, environment or the file's */
	char *where;		/* file:line:column of its definition */
	int from;		/* PL_FROM_FILE, _ENV or _SET */
};
enum { PL_FROM_FILE, PL_FROM_ENV, PL_FROM_SET };

struct pipeline_stage {
	char *name;
	char *where;		/* file:line:column of the stage */
	char **argv;		/* argc words, NULL-terminated, variables substituted */
	size_t argc;
	char *prog;		/* argv[0] found (pipeline_find_program): the file executed */
	char *in, *out;		/* stdin: and stdout: files; NULL when none */
	char **tee;
	size_t ntee;
	char **needs;
	size_t nneeds;
	size_t chain;		/* index of the chain it belongs to */
};

struct pipeline_chain {
	char *name;		/* its stages' names joined by '|' */
	size_t first, count;	/* stages[first .. first + count) */
	char **inputs;		/* the first stage's stdin, then every needs: */
	size_t ninputs;
	char **outputs;		/* the last stage's stdout, then every tee: */
	size_t noutputs;
	size_t *deps;		/* chains that write one of its inputs */
	size_t ndeps;
};

struct pipeline {
	char *path;
	char *bindir;		/* the running executable's directory; NULL if unknown */
	struct pipeline_var *vars;
	size_t nvars;
	struct pipeline_stage *stages;
	size_t nstages;
	struct pipeline_chain *chains;
	size_t nchains;
	size_t *order;		/* chain indices, every writer before its readers */
	size_t expand_budget;	/* what substitution may still add (PL_MAX_EXPANDED) */
};

/*
 * Load and check the pipeline in path.  sets holds nsets "name=value"
 * overrides (--set); the environment overrides the file's values too,
 * and --set overrides both.  On failure -1 and loam_seterr(); *bad_input
 * is set to 1 for an error in the pipeline or the overrides (a usage
 * error, exit 2) and 0 for an I/O error.  pipeline_release() frees
 * everything (also after a failure).
 */
int pipeline_load(struct pipeline *pl, const char *path, char *const *sets,
    size_t nsets, int *bad_input);
void pipeline_release(struct pipeline *pl);

/* The file a stage's program name stands for; malloc'd, NULL when there
 * is none.  A name with a slash is itself.  Otherwise dir/name when dir
 * is not NULL and that is an executable file (pipeline_load passes the
 * running executable's directory: loam's programs sit beside
 * pipeline-run), else the first executable file in PATH. */
char *pipeline_find_program(const char *name, const char *dir);

/* The stage of chain c that writes path (its stdout: or a tee:); the
 * chain's first stage when none does. */
const struct pipeline_stage *pipeline_stage_writing(const struct pipeline *pl, size_t c,
    const char *path);

/* Split a command string into words as a shell would, without expanding
 * anything: blanks separate words; '...' and "..." quote (a backslash
 * escapes " \ $ inside "..."), a backslash quotes the next character.
 * *words is a NULL-terminated array the caller frees with pipeline_free_words.
 * -1 and loam_seterr on an unterminated quote. */
int pipeline_split_words(const char *s, char ***words, size_t *n);
void pipeline_free_words(char **words);

/* Substitute ${name} in s with the variables' values ($$ is one $).  The
 * variables are vars[0..nvars); a name not among them is looked up in
 * the environment.  -1 and loam_seterr("undefined variable 'x'"),
 * ("unterminated ${") or (a substitution would make the value longer
 * than PL_MAX_VALUE) on failure; *out is malloc'd.  pipeline_load also
 * refuses a pipeline whose substitutions add up to more than
 * PL_MAX_EXPANDED, so that variables of variables cannot make gigabytes
 * from a small file. */
#define PL_MAX_VALUE ((size_t)1 << 20)
#define PL_MAX_VALUE_TEXT "1 MiB"
#define PL_MAX_EXPANDED ((size_t)64 << 20)
#define PL_MAX_EXPANDED_TEXT "64 MiB"
int pipeline_expand(const struct pipeline_var *vars, size_t nvars, const char *s, char **out);

/* s quoted for a POSIX shell when it needs quoting; malloc'd. */
char *pipeline_shell_quote(const char *s);

/* A path lexically tidied: "./a//b/./c" is "a/b/c"; malloc'd. */
char *pipeline_clean_path(const char *path);

/*
 * Stamps.  Beside each output OUT of a chain sits .OUT.stamp (in OUT's
 * directory), a text file describing what made it:
 *
 *	loam-stamp 1
 *	key HASH		everything below the outputs, hashed together
 *	cmd HASH NAME		a stage's words and files
 *	prog HASH PATH		a program's contents
 *	in HASH SIZE MTIME INO PATH	an input's contents and what stat said
 *	out SIZE MTIME INO PATH	an output as it was written
 *
 * Hashes are XXH3-64 in 16 hex digits; MTIME is seconds.nanoseconds.
 * A chain is up to date when every output exists, its stamp's key is the
 * key computed now, and every output's stat matches its out line (so an
 * output edited by hand is made again).  An input whose size, mtime and
 * inode match its in line is not read again: its hash is taken from the
 * stamp (touching an input makes it hashed again; the key, and so the
 * decision, depends only on contents).
 */
struct pipeline_fileid {
	uint64_t size, ino;
	int64_t mtime_sec, mtime_nsec;
};

struct pipeline_stamp_line {
	char kind;		/* 'c' cmd, 'p' prog, 'i' in, 'o' out */
	uint64_t hash;		/* c, p, i */
	struct pipeline_fileid id;	/* i, o */
	char *text;		/* the stage name or the path */
};

struct pipeline_stamp {
	uint64_t key;
	struct pipeline_stamp_line *lines;
	size_t n;
};

/* "dir/.base.stamp" for output "dir/base"; malloc'd. */
char *pipeline_stamp_path(const char *output);
/* 0 and *st filled; 1 when the stamp does not exist (st empty); -1 and
 * loam_seterr when it cannot be read or is malformed (st empty). */
int pipeline_stamp_read(const char *stamp_path, struct pipeline_stamp *st);
/* Write st atomically to stamp_path; -1 and loam_seterr on failure. */
int pipeline_stamp_write(const char *stamp_path, const struct pipeline_stamp *st);
void pipeline_stamp_release(struct pipeline_stamp *st);

/* What stat says of path; -1 and loam_seterr("path: strerror"). */
int pipeline_file_id(const char *path, struct pipeline_fileid *id);
/* XXH3-64 of a file's contents; -1 and loam_seterr on failure. */
int pipeline_hash_file(const char *path, uint64_t *hash);

/*
 * The stamp a chain would have now: its commands, its programs (hashed
 * through pcache), its inputs (taken from old when their stat matches,
 * else hashed).  pcache is an opaque per-run cache of program hashes;
 * start it NULL and free it with pipeline_hash_cache_free.  -1 and
 * loam_seterr when an input or program cannot be read.
 */
struct pipeline_hash_cache;
int pipeline_chain_stamp(const struct pipeline *pl, size_t chain, const struct pipeline_stamp *old,
    struct pipeline_hash_cache **pcache, struct pipeline_stamp *now);
void pipeline_hash_cache_free(struct pipeline_hash_cache *c);

/* Why a chain with stamp now must run, given the stamp read beside its
 * first output (old, empty if none) and the outputs as they are: a
 * sentence, or NULL when it is up to date.  Writes into buf. */
const char *pipeline_stamp_reason(const struct pipeline *pl, size_t chain,
    const struct pipeline_stamp *old, int old_state, const struct pipeline_stamp *now,
    char *buf, size_t size);

/* Append an out line for each of the chain's outputs as they are now. */
int pipeline_stamp_add_outputs(const struct pipeline *pl, size_t chain, struct pipeline_stamp *st);

#ifdef __cplusplus
}
#endif

#endif
