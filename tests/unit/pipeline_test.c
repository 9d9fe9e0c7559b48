/* pipeline_test - unit tests for lib/pipeline (TAP): words, variables,
 * quoting, paths, chains and the graph, stamps, finding programs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "conf.h"
#include "pipeline.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/pipeline_testXXXXXX";

/* The words of s joined by '|'; "ERR: message" on failure. */
static char *
split(const char *s)
{
	static char out[512];
	char **w;
	size_t n;

	if (pipeline_split_words(s, &w, &n) != 0) {
		snprintf(out, sizeof out, "ERR: %s", loam_error());
		return out;
	}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "|" : "", w[i]);
	if (w[n] != NULL)
		snprintf(out, sizeof out, "not NULL-terminated");
	pipeline_free_words(w);
	return out;
}

static void
expand_is(const struct pipeline_var *vars, size_t n, const char *s, const char *want,
    const char *what)
{
	char *out = NULL;

	if (pipeline_expand(vars, n, s, &out) != 0)
		is_str(loam_error(), want, "expand: %s", what);
	else
		is_str(out, want, "expand: %s", what);
	free(out);
}

static void
write_file(const char *name, const char *text)
{
	FILE *fp = fopen(name, "w");

	fputs(text, fp);
	fclose(fp);
}

static int
load(struct pipeline *pl, const char *yaml)
{
	int bad;

	write_file("p.yaml", yaml);
	return pipeline_load(pl, "p.yaml", NULL, 0, &bad);
}

int
main(void)
{
	char n1[] = "a", v1[] = "A", n2[] = "long_name-2", v2[] = "x y", n3[] = "empty",
	    v3[] = "", w[] = "";
	struct pipeline_var vars[] = {
		{ n1, v1, w, 0 }, { n2, v2, w, 0 }, { n3, v3, w, 0 },
	};
	struct pipeline pl;
	struct pipeline_stamp st, back;
	json_object *v;
	char *s;

	is_str(split("a b\tc\n d"), "a|b|c|d", "blanks separate words");
	is_str(split("  "), "", "no words");
	is_str(split("'a b' \"c d\" e\\ f"), "a b|c d|e f", "quotes and backslash");
	is_str(split("x'y'\"z\""), "xyz", "quoted parts join");
	is_str(split("'' \"\""), "|", "empty quoted words are words");
	is_str(split("\"a\\\"b\\\\c\\$d\\n\""), "a\"b\\c$d\\n", "escapes inside double quotes");
	is_str(split("'a\\b'"), "a\\b", "no escapes inside single quotes");
	is_str(split("'abc"), "ERR: unterminated quote", "unterminated single quote");
	is_str(split("\"abc"), "ERR: unterminated quote", "unterminated double quote");

	expand_is(vars, 3, "${a}-${long_name-2}", "A-x y", "two variables");
	expand_is(vars, 3, "[${empty}]", "[]", "an empty value");
	expand_is(vars, 3, "$$a $${a} $a $", "$a ${a} $a $", "$$ and lone dollars");
	expand_is(vars, 3, "${nope_x_123}", "undefined variable 'nope_x_123'", "undefined");
	expand_is(vars, 3, "${a", "unterminated ${ in '${a'", "unterminated");
	setenv("PIPELINE_TEST_ENV", "from env", 1);
	expand_is(vars, 3, "${PIPELINE_TEST_ENV}", "from env", "the environment");
	{
		/* 1 MiB a value: exactly is allowed, a byte more is not. */
		char *half = xmalloc(PL_MAX_VALUE / 2 + 1), *out = NULL;

		memset(half, 'h', PL_MAX_VALUE / 2);
		half[PL_MAX_VALUE / 2] = '\0';
		setenv("PIPELINE_TEST_HALF", half, 1);
		ok(pipeline_expand(vars, 3, "${PIPELINE_TEST_HALF}${PIPELINE_TEST_HALF}", &out) == 0 &&
		    strlen(out) == PL_MAX_VALUE, "expand: 1 MiB is allowed");
		free(out);
		expand_is(vars, 3, "${a}${PIPELINE_TEST_HALF}${PIPELINE_TEST_HALF}",
		    "${PIPELINE_TEST_HALF} makes the value longer than 1 MiB (the limit for "
		    "one value)", "a byte more is not");
		unsetenv("PIPELINE_TEST_HALF");
		free(half);
	}

	s = pipeline_shell_quote("plain-word_1.txt");
	is_str(s, "plain-word_1.txt", "a plain word is not quoted");
	free(s);
	s = pipeline_shell_quote("it's $x");
	is_str(s, "'it'\\''s $x'", "single quotes");
	free(s);
	s = pipeline_shell_quote("");
	is_str(s, "''", "the empty word");
	free(s);

	s = pipeline_clean_path("./a//b/./c/");
	is_str(s, "a/b/c", "clean ./a//b/./c/");
	free(s);
	s = pipeline_clean_path("/x/./y");
	is_str(s, "/x/y", "clean an absolute path");
	free(s);
	s = pipeline_clean_path("./");
	is_str(s, ".", "clean ./");
	free(s);
	s = pipeline_stamp_path("d/e/out.jsonl");
	is_str(s, "d/e/.out.jsonl.stamp", "stamp beside its output");
	free(s);
	s = pipeline_stamp_path("out");
	is_str(s, ".out.stamp", "stamp of a file in .");
	free(s);

	/* conf_text: numbers keep their text for argument words. */
	v = conf_parse("[010, 1.50, true, 'q']", 22, "t.yaml");
	is_str(conf_text(json_object_array_get_idx(v, 0)), "010", "conf_text of an integer");
	is_str(conf_text(json_object_array_get_idx(v, 1)), "1.50", "conf_text of a float");
	is_str(conf_text(json_object_array_get_idx(v, 2)), "true", "conf_text of a boolean");
	ok(conf_text(v) == NULL, "no conf_text for a collection");
	json_object_put(v);

	if (!mkdtemp(dir) || chdir(dir) != 0)
		return ok(0, "temporary directory"), tap_done();

	/* Chains: stdout or stdin between stages cut; the graph orders. */
	ok(load(&pl, "vars: {n: 007}\nstages:\n"
	    "  - {name: c, run: [cat], stdin: mid.txt, stdout: out.txt}\n"
	    "  - {name: a, run: 'seq ${n}'}\n"
	    "  - {name: b, run: [cat], tee: [t1, ./t2], stdout: mid.txt}\n"
	    "  - {name: d, run: [cat], needs: [out.txt]}\n") == 0, "load: %s", loam_error());
	is_int((long long)pl.nchains, 3, "three chains");
	is_str(pl.chains[1].name, "a|b", "a and b are joined");
	is_str(pl.stages[1].argv[1], "007", "a variable's text as written");
	is_int((long long)pl.chains[1].noutputs, 3, "b's outputs");
	is_str(pl.chains[1].outputs[0], "mid.txt", "the stdout file first");
	is_str(pl.chains[1].outputs[2], "t2", "tee paths tidied");
	is_int((long long)pl.order[0], 1, "a|b runs first");
	is_int((long long)pl.order[1], 0, "then c");
	is_int((long long)pl.order[2], 2, "then d");
	ok(strcmp(pl.stages[0].prog, "cat") != 0 && strchr(pl.stages[0].prog, '/'),
	    "programs found in PATH: %s", pl.stages[0].prog);

	/* Stamps: computed, written, read back, compared. */
	write_file("mid.txt", "hello\n");
	write_file("out.txt", "x\n");
	{
		struct pipeline_hash_cache *cache = NULL;
		char buf[256];
		const char *why;
		int r;

		ok(pipeline_chain_stamp(&pl, 0, NULL, &cache, &st) == 0, "stamp of chain c");
		ok(pipeline_stamp_add_outputs(&pl, 0, &st) == 0, "outputs added");
		ok(pipeline_stamp_write(".out.txt.stamp", &st) == 0, "stamp written");
		r = pipeline_stamp_read(".out.txt.stamp", &back);
		ok(r == 0 && back.key == st.key && back.n == st.n, "stamp read back");
		why = pipeline_stamp_reason(&pl, 0, &back, r, &st, buf, sizeof buf);
		ok(why == NULL, "up to date: %s", why ? why : "");
		pipeline_stamp_release(&st);
		write_file("mid.txt", "changed\n");
		ok(pipeline_chain_stamp(&pl, 0, &back, &cache, &st) == 0, "stamp again");
		why = pipeline_stamp_reason(&pl, 0, &back, r, &st, buf, sizeof buf);
		is_str(why, "input mid.txt changed", "a changed input");
		pipeline_stamp_release(&st);
		pipeline_stamp_release(&back);
		is_int(pipeline_stamp_read("absent.stamp", &back), 1, "no stamp");
		write_file("bad.stamp", "loam-stamp 1\nkey 12\nnonsense\n");
		is_int(pipeline_stamp_read("bad.stamp", &back), -1, "a bad stamp");
		is_str(loam_error(), "bad.stamp:3: not a stamp line", "its message");
		pipeline_hash_cache_free(cache);
	}
	pipeline_release(&pl);

	ok(load(&pl, "stages:\n  - {run: [cat], stdin: a, stdout: b}\n"
	    "  - {name: x, run: [cat], stdin: b, stdout: a}\n") != 0 &&
	    strstr(loam_error(), "cycle: ") != NULL, "a cycle: %s", loam_error());
	pipeline_release(&pl);
	/* An output that is the pipeline file, or read by its own chain,
	 * compared as files. */
	ok(load(&pl, "stages:\n  - {run: [echo], stdout: ./p.yaml}\n") != 0,
	    "the pipeline file as an output: %s", loam_error());
	is_str(loam_error(), "p.yaml:2:27: stdout: 'p.yaml' is the pipeline file itself: "
	    "writing it would destroy the pipeline", "its message");
	pipeline_release(&pl);
	{
		char yaml[4096];

		snprintf(yaml, sizeof yaml, "stages:\n  - {run: [echo], tee: [a, %s/d/../p.yaml]}\n",
		    dir);
		ok(load(&pl, yaml) != 0 && strstr(loam_error(), "is the pipeline file itself"),
		    "absolute, through a directory that does not exist: %s", loam_error());
		pipeline_release(&pl);
	}
	ok(load(&pl, "stages:\n  - {run: [cat], needs: x/y}\n  - {run: [tr, a, b], "
	    "stdout: x//y}\n") != 0 && strstr(loam_error(), "p.yaml:3:31: stdout: 'x/y' is also "
	    "an input of its chain (needs: of stage 'cat', p.yaml:2:25)"),
	    "an output its own chain reads: %s", loam_error());
	pipeline_release(&pl);
	ok(load(&pl, "stages:\n  - {run: [cat], stdin: p.yaml, stdout: o}\n"
	    "  - {run: [tr, a, b], stdin: o, stdout: o2}\n") == 0,
	    "reading the pipeline file, and another chain's output: %s",
	    pl.nstages ? "" : loam_error());
	pipeline_release(&pl);
	ok(load(&pl, "description: [1]\nstages:\n  - {run: [cat]}\n") != 0 &&
	    strcmp(loam_error(), "p.yaml:1:14: description: expected a string") == 0,
	    "description: is text: %s", loam_error());
	pipeline_release(&pl);
	ok(load(&pl, "stages:\n  - {run: [cat], stdout: \"a\\nb\"}\n") != 0 &&
	    strstr(loam_error(), "not a usable file name") != NULL, "a newline in a path");
	pipeline_release(&pl);

	/* Programs: the given directory (pipeline-run's own) before PATH;
	 * only an executable regular file there counts. */
	{
		char *f;

		if (mkdir("bin", 0777) != 0 || mkdir("bin/sort", 0777) != 0)
			ok(0, "mkdir bin");
		write_file("bin/cat", "#!/bin/sh\n");
		write_file("bin/tr", "#!/bin/sh\n");
		chmod("bin/cat", 0755);
		f = pipeline_find_program("cat", "bin");
		is_str(f, "bin/cat", "a program beside wins over PATH");
		free(f);
		f = pipeline_find_program("tr", "bin");
		ok(f && strcmp(f, "bin/tr") != 0 && strchr(f, '/'),
		    "not executable beside: PATH's (%s)", f ? f : "NULL");
		free(f);
		f = pipeline_find_program("sort", "bin");
		ok(f && strcmp(f, "bin/sort") != 0, "a directory beside: PATH's (%s)",
		    f ? f : "NULL");
		free(f);
		f = pipeline_find_program("cat", NULL);
		ok(f && strcmp(f, "bin/cat") != 0, "no directory: PATH's (%s)", f ? f : "NULL");
		free(f);
		ok(pipeline_find_program("loam-no-such-program", "bin") == NULL, "none anywhere");
		f = pipeline_find_program("./bin/cat", "/nonexistent");
		is_str(f, "./bin/cat", "a name with a slash is itself");
		free(f);
		unlink("bin/cat");
		unlink("bin/tr");
		rmdir("bin/sort");
		rmdir("bin");
	}

	unlink("p.yaml");
	unlink("mid.txt");
	unlink("out.txt");
	unlink(".out.txt.stamp");
	unlink("bad.stamp");
	if (chdir("/") == 0)
		rmdir(dir);
	return tap_done();
}
