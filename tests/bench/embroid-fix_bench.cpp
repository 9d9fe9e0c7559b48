/*
 * embroid-fix_bench - embroid-fix's three benchmarks (issue 5), each side
 * by side with its baseline in the same run:
 *
 *  1. smoothing + label model on 1M rows x (1 source, 3 spaces), k = 10:
 *     lib/embroid + lib/labelmodel (defaults, notebook thresholds) against
 *     the same closed form vectorised in NumPy (tests/bench/embroid_numpy.py,
 *     Debian's python3-numpy), compute only on both sides; the two must
 *     predict the same labels.  Goal < 0.5 s and >= 2x NumPy.
 *  2. kNN self-join of 20000 x 768 vectors, k = 10, cosine: bin/embroid-fix
 *     (the "knn X s" of its summary) against FAISS's own C++ IndexFlatIP,
 *     all queries in one search call.  Goal <= 1.2x.
 *  3. bin/embroid-fix end to end on 100000 x 768 with 3 spaces: wall time
 *     and its split between kNN and the rest (one run: it takes minutes).
 *
 * Figures are medians of 3 runs, the two sides alternating, except 3.
 * Synthetic data from lib/rng, written under a mkdtemp directory in
 * $TMPDIR (or /tmp) that is removed at exit.  C++ for FAISS's C++ API.
 *
 * stdout: exactly one line per benchmark.  stderr: details and checks.
 * Exit 1 when the C and NumPy predictions differ (beyond exact ties), when
 * bin/embroid-fix is missing or fails, or anything else fails.
 */
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <omp.h>

#include <faiss/IndexFlat.h>
#include <faiss/utils/distances.h>

#include "bench.h"
#include "cli.h"
#include "embroid.h"
#include "labelmodel.h"
#include "npy.h"
#include "rng.h"
#include "util.h"

enum {
	RUNS = 3,
	SEED = 1,
	K = 10,
	/* 1: smoothing + label model */
	LM_ROWS = 1000000,
	LM_SPACES = 3,
	LM_COLS = K + 1,
	/* 2 and 3: kNN */
	DIM = 768,
	RANK = 64,
	KNN_ROWS = 20000,
	E2E_ROWS = 100000,
	E2E_SPACES = 3
};

#define NUMPY_SCRIPT	"tests/bench/embroid_numpy.py"

/* The temporary directory and what is made in it, removed at exit (die()
 * exits too). */
static char tmpdir[512];
static std::vector<std::string> *tmpfiles;

static void
cleanup(void)
{
	if (tmpfiles != NULL) {
		for (const std::string &f : *tmpfiles)
			unlink(f.c_str());
		delete tmpfiles;
		tmpfiles = NULL;
	}
	if (tmpdir[0] != '\0')
		rmdir(tmpdir);
}

static std::string
tmpfile_path(const char *name)
{
	std::string p = std::string(tmpdir) + "/" + name;

	tmpfiles->push_back(p);
	return p;
}

/* Run cmd through the shell and return what it printed (stdout of cmd as
 * given; redirect inside cmd to capture stderr).  Dies when it fails. */
static std::string
run_capture(const std::string &cmd, double *wall)
{
	std::string text;
	char buf[4096];
	size_t got;
	double t0 = bench_now();
	FILE *p;
	int rc;

	if ((p = popen(cmd.c_str(), "r")) == NULL)
		die("cannot run: %s", cmd.c_str());
	while ((got = fread(buf, 1, sizeof buf, p)) > 0)
		text.append(buf, got);
	rc = pclose(p);
	if (wall != NULL)
		*wall = bench_now() - t0;
	if (rc != 0) {
		fprintf(stderr, "%s", text.c_str());
		die("command failed (status %d): %s", rc, cmd.c_str());
	}
	return text;
}

/* The number after "<key> " and before " s" in text, e.g. "knn 1.234 s";
 * -1 when absent. */
static double
find_seconds(const std::string &text, const char *key)
{
	std::string k = std::string(key) + " ";
	size_t at = 0;

	while ((at = text.find(k, at)) != std::string::npos) {
		const char *s = text.c_str() + at + k.size();
		char *end;
		double v;

		/* a word boundary before the key */
		if (at > 0 && (isalnum((unsigned char)text[at - 1]) ||
		    text[at - 1] == '_')) {
			at++;
			continue;
		}
		v = strtod(s, &end);
		if (end != s && strncmp(end, " s", 2) == 0)
			return v;
		at++;
	}
	return -1;
}

/* The interpreter that has Debian's numpy: /usr/bin/python3 first (the
 * package's), then python3 on PATH.  Empty when neither imports it. */
static std::string
numpy_python(void)
{
	static const char *const cands[] = { "/usr/bin/python3", "python3" };

	for (const char *c : cands) {
		std::string cmd = std::string(c) +
		    " -c 'import numpy' >/dev/null 2>&1";

		if (system(cmd.c_str()) == 0)
			return c;
	}
	return "";
}

static int
have_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* ------------------------------------------------------------------ */
/* 1. smoothing + label model against NumPy                           */

struct lm_data {
	std::vector<int8_t> y, votes;
	std::vector<int64_t> nb[LM_SPACES];
};

/*
 * A hidden label per row (balanced), one source right with probability
 * 0.75, and per space a neighbour matrix whose column 0 is the row itself
 * and whose 10 other columns are random rows of the same label with
 * probability 0.8, of the other label otherwise (never the row itself).
 */
static void
lm_generate(struct lm_data *d)
{
	std::vector<uint32_t> ids[2];
	struct rng r;
	size_t t, c;
	int e;

	rng_init(&r, SEED, 0, 0);
	d->y.resize(LM_ROWS);
	d->votes.resize(LM_ROWS);
	for (t = 0; t < LM_ROWS; t++) {
		int8_t y = rng_uniform(&r) < 0.5 ? 1 : -1;

		d->y[t] = y;
		d->votes[t] = rng_uniform(&r) < 0.75 ? y : (int8_t)-y;
		ids[y > 0].push_back((uint32_t)t);
	}
	for (e = 0; e < LM_SPACES; e++) {
		std::vector<int64_t> &nb = d->nb[e];

		nb.resize((size_t)LM_ROWS * LM_COLS);
		for (t = 0; t < LM_ROWS; t++) {
			nb[t * LM_COLS] = (int64_t)t;
			for (c = 1; c < LM_COLS; c++) {
				int same = rng_uniform(&r) < 0.8;
				const std::vector<uint32_t> &from =
				    ids[(d->y[t] > 0) == same];
				uint32_t id;

				do
					id = from[rng_uniform_int(&r,
					    from.size())];
				while (id == t);
				nb[t * LM_COLS + c] = id;
			}
		}
	}
}

static double
accuracy(const int8_t *pred, size_t stride, const int8_t *y, size_t n)
{
	size_t t, right = 0;

	for (t = 0; t < n; t++)
		right += pred[t * stride] == y[t];
	return (double)right / (double)n;
}

/* Our path, as embroid-fix runs it: thresholds, L, fit, predict.
 * Returns the seconds; the outputs stay in L, proba and labels. */
static double
lm_run_c(const struct lm_data *d, std::vector<int8_t> &L,
    std::vector<double> &proba, std::vector<int8_t> &labels,
    struct labelmodel *lm)
{
	const int64_t *nbs[LM_SPACES];
	const size_t m = 1, cols = m * (LM_SPACES + 1);
	double tau_pos[1], tau_neg[1], t0;
	int e;

	for (e = 0; e < LM_SPACES; e++)
		nbs[e] = d->nb[e].data();
	L.clear();
	proba.clear();
	labels.clear();
	L.shrink_to_fit();
	proba.shrink_to_fit();
	labels.shrink_to_fit();

	t0 = bench_now();
	L.resize(LM_ROWS * cols);
	proba.resize(LM_ROWS);
	labels.resize(LM_ROWS);
	embroid_default_thresholds(d->votes.data(), LM_ROWS, m, tau_pos,
	    tau_neg);
	if (embroid_label_matrix(d->votes.data(), LM_ROWS, m, nbs, LM_SPACES,
	    LM_COLS, K, tau_pos, tau_neg, L.data()) < 0)
		die("embroid_label_matrix: %s", loam_error());
	labelmodel_release(lm);
	labelmodel_init(lm, NULL);
	if (labelmodel_fit(lm, L.data(), LM_ROWS, cols) < 0)
		die("labelmodel_fit: %s", loam_error());
	if (labelmodel_predict(lm, L.data(), LM_ROWS, cols, proba.data(),
	    labels.data()) < 0)
		die("labelmodel_predict: %s", loam_error());
	return bench_now() - t0;
}

/* The NumPy side's outputs against ours; returns the number of labels
 * that differ where neither side is an exact tie. */
static size_t
lm_compare(const std::string &labels_path, const std::string &proba_path,
    const std::vector<int8_t> &labels, const std::vector<double> &proba)
{
	struct npy a, b;
	std::vector<int64_t> pl;
	std::vector<double> pp;
	size_t t, differ = 0, tied = 0;
	double maxdp = 0;

	if (npy_open(&a, labels_path.c_str()) < 0 ||
	    npy_open(&b, proba_path.c_str()) < 0)
		die("%s", loam_error());
	if (a.count != LM_ROWS || b.count != LM_ROWS)
		die("NumPy wrote %zu labels and %zu probabilities, not %d",
		    a.count, b.count, LM_ROWS);
	pl.resize(a.count);
	pp.resize(b.count);
	if (npy_read_i64(&a, pl.data()) < 0 || npy_read_f64(&b, pp.data()) < 0)
		die("%s", loam_error());
	npy_close(&a);
	npy_close(&b);
	for (t = 0; t < LM_ROWS; t++) {
		if (pl[t] != labels[t]) {
			if (pl[t] == 0 || labels[t] == 0)
				tied++;
			else
				differ++;
		}
		maxdp = std::fmax(maxdp, std::fabs(pp[t] - proba[t]));
	}
	fprintf(stderr, "embroid-fix_bench: C vs NumPy: %zu of %d labels "
	    "differ (%zu more at an exact tie on one side); largest "
	    "probability difference %.3g\n", differ, LM_ROWS, tied, maxdp);
	return differ;
}

static int
bench_label_model(void)
{
	struct lm_data d;
	struct labelmodel lm;
	std::vector<int8_t> L, labels;
	std::vector<double> proba;
	std::string py = numpy_python(), votes_path, nb_path[LM_SPACES];
	std::string labels_path, proba_path, cmd;
	const char *skip = NULL;
	double tc[RUNS], tp[RUNS], c, p;
	size_t i, cols = LM_SPACES + 1;
	int r, e, status = 0;

	lm_generate(&d);
	labelmodel_init(&lm, NULL);
	if (py.empty()) {
		skip = "python3-numpy not installed";
	} else if (!have_file(NUMPY_SCRIPT)) {
		/* make bench and tests/bench/run start in the source root */
		skip = NUMPY_SCRIPT " not found: run from the source root";
		status = 1;
	}
	if (skip == NULL) {
		std::vector<int32_t> v32(d.votes.begin(), d.votes.end());
		size_t vshape[2] = { LM_ROWS, 1 };
		size_t nshape[2] = { LM_ROWS, LM_COLS };

		votes_path = tmpfile_path("votes.npy");
		if (npy_write(votes_path.c_str(), NPY_I4, 2, vshape,
		    v32.data()) < 0)
			die("%s", loam_error());
		cmd = py + " " NUMPY_SCRIPT " -k " + std::to_string(K) + " " +
		    votes_path;
		for (e = 0; e < LM_SPACES; e++) {
			nb_path[e] = tmpfile_path(("nb" + std::to_string(e) +
			    ".npy").c_str());
			if (npy_write(nb_path[e].c_str(), NPY_I8, 2, nshape,
			    d.nb[e].data()) < 0)
				die("%s", loam_error());
			cmd += " " + nb_path[e];
		}
		labels_path = tmpfile_path("np_labels.npy");
		proba_path = tmpfile_path("np_proba.npy");
		cmd += " " + labels_path + " " + proba_path;
	}

	for (r = 0; r < RUNS; r++) {
		tc[r] = lm_run_c(&d, L, proba, labels, &lm);
		if (skip != NULL) {
			fprintf(stderr, "embroid-fix_bench: run %d: C %.3f s\n",
			    r + 1, tc[r]);
			continue;
		}
		std::string out = run_capture(cmd, NULL);

		if (sscanf(out.c_str(), "compute_s %lf", &tp[r]) != 1)
			die("%s printed no \"compute_s\" line: %s",
			    NUMPY_SCRIPT, out.c_str());
		fprintf(stderr, "embroid-fix_bench: run %d: C %.3f s, NumPy "
		    "%.3f s\n", r + 1, tc[r], tp[r]);
	}

	fprintf(stderr, "embroid-fix_bench: accuracy against the hidden "
	    "label: source %.4f, smoothed", accuracy(L.data(), cols,
	    d.y.data(), LM_ROWS));
	for (e = 0; e < LM_SPACES; e++)
		fprintf(stderr, " %.4f", accuracy(L.data() + 1 + e, cols,
		    d.y.data(), LM_ROWS));
	fprintf(stderr, ", label model %.4f; estimated accuracies",
	    accuracy(labels.data(), 1, d.y.data(), LM_ROWS));
	for (i = 0; i < cols; i++)
		fprintf(stderr, " %.4f", lm.accuracy[i]);
	fprintf(stderr, "\n");
	labelmodel_release(&lm);

	c = bench_median(tc, RUNS);
	if (skip != NULL) {
		printf("embroid smoothing + label model, 1M rows x (1 source, "
		    "3 spaces), k=%d: %.3f s (NumPy: skipped: %s; goal < 0.5 s "
		    "and >= 2x NumPy)\n", K, c, skip);
		fflush(stdout);
		return status;
	}
	if (lm_compare(labels_path, proba_path, labels, proba) != 0)
		status = 1;
	p = bench_median(tp, RUNS);
	printf("embroid smoothing + label model, 1M rows x (1 source, "
	    "3 spaces), k=%d: %.3f s (NumPy closed form: %.3f s; %.1fx "
	    "faster; goal < 0.5 s and >= 2x NumPy)\n", K, c, p, p / c);
	fflush(stdout);
	for (const std::string &f : { votes_path, labels_path, proba_path })
		unlink(f.c_str());
	for (e = 0; e < LM_SPACES; e++)
		unlink(nb_path[e].c_str());
	return status;
}

/* ------------------------------------------------------------------ */
/* 2 and 3: embroid-fix                                               */

/*
 * Rows that look like embeddings (research/ecosystem.md §1): a 64-d
 * latent, shifted along a fixed direction by the hidden label so that
 * neighbourhoods carry it, times a random 768 x 64 matrix per space, plus
 * noise.  The latent is shared by the spaces, the matrix and the noise
 * are not: three embedding models of the same items.  Each row has its
 * own substream, so rows are made in parallel and still reproducibly.
 */
static void
embed_labels(size_t n, std::vector<int8_t> &y)
{
	struct rng r;
	size_t t;

	rng_init(&r, SEED, 1, 0);
	y.resize(n);
	for (t = 0; t < n; t++)
		y[t] = rng_uniform(&r) < 0.5 ? 1 : -1;
}

static void
embed_space(size_t n, const std::vector<int8_t> &y, int space,
    std::vector<float> &x)
{
	std::vector<float> w((size_t)RANK * DIM), shift(RANK);
	struct rng r;
	size_t l, j;

	rng_init(&r, SEED, 2, 0);	/* the label direction, one for all */
	for (l = 0; l < RANK; l++)
		shift[l] = rng_uniform(&r) < 0.5 ? 0.15f : -0.15f;
	rng_init(&r, SEED, 3, (uint64_t)space);
	for (j = 0; j < (size_t)RANK * DIM; j++)
		w[j] = (float)(rng_normal(&r) / std::sqrt((double)RANK));
	x.assign(n * DIM, 0.0f);
#pragma omp parallel for schedule(static)
	for (size_t t = 0; t < n; t++) {
		struct rng rr;
		float z[RANK], *row = x.data() + t * DIM;

		rng_init(&rr, SEED, 4, t);	/* the item's latent */
		for (size_t a = 0; a < RANK; a++)
			z[a] = (float)rng_normal(&rr) + (float)y[t] * shift[a];
		for (size_t a = 0; a < RANK; a++) {
			const float *wr = w.data() + a * DIM;

			for (size_t b = 0; b < DIM; b++)
				row[b] += z[a] * wr[b];
		}
		rng_init(&rr, SEED, 5 + (uint64_t)space, t);	/* noise */
		for (size_t b = 0; b < DIM; b++)
			row[b] += 0.5f * (float)rng_normal(&rr);
	}
}

/* One record per row: "v": the sources' votes, each right with
 * probability 0.75. */
static void
write_records(const std::string &path, const std::vector<int8_t> &y,
    int nsources)
{
	struct rng r;
	FILE *fp;
	size_t t;
	int s;

	rng_init(&r, SEED, 6, 0);
	if ((fp = fopen(path.c_str(), "w")) == NULL)
		die("%s: cannot create", path.c_str());
	for (t = 0; t < y.size(); t++) {
		fprintf(fp, "{\"id\":%zu,\"v\":[", t);
		for (s = 0; s < nsources; s++)
			fprintf(fp, "%s%d", s ? "," : "",
			    rng_uniform(&r) < 0.75 ? y[t] : -y[t]);
		fprintf(fp, "]}\n");
	}
	if (fclose(fp) != 0)
		die("%s: write failed", path.c_str());
}

static void
write_embeddings(const std::string &path, const std::vector<float> &x,
    size_t n)
{
	size_t shape[2] = { n, DIM };

	if (npy_write(path.c_str(), NPY_F4, 2, shape, x.data()) < 0)
		die("%s", loam_error());
}

/* Accuracy of embroid-fix's "embroid" field against the hidden labels,
 * to show on stderr that the run did its job. */
static double
output_accuracy(const std::string &path, const std::vector<int8_t> &y)
{
	char *line = NULL;
	size_t cap = 0, t = 0, right = 0;
	FILE *fp;

	if ((fp = fopen(path.c_str(), "r")) == NULL)
		return -1;
	while (getline(&line, &cap, fp) > 0 && t < y.size()) {
		const char *p = strstr(line, "\"embroid\":");

		if (p != NULL && atoi(p + 10) == y[t])
			right++;
		t++;
	}
	free(line);
	fclose(fp);
	return t == y.size() ? (double)right / (double)t : -1;
}

/* FAISS's own call: normalise a copy, add to an IndexFlatIP, search k+1
 * (the row itself comes back too) for all rows at once.  The copy is not
 * timed; the normalisation and the add are, as embroid-fix's kNN timer
 * must count them too (they are milliseconds against the search). */
static double
faiss_self_join(const std::vector<float> &x, size_t n, double *search_s)
{
	std::vector<float> xn(x);
	std::vector<float> dist(n * (K + 1));
	std::vector<faiss::Index::idx_t> lab(n * (K + 1));
	faiss::IndexFlatIP index(DIM);
	size_t t, self = 0;
	double t0, t1;

	t0 = bench_now();
	faiss::fvec_renorm_L2(DIM, n, xn.data());
	index.add((faiss::Index::idx_t)n, xn.data());
	t1 = bench_now();
	index.search((faiss::Index::idx_t)n, xn.data(), K + 1, dist.data(),
	    lab.data());
	*search_s = bench_now() - t1;
	for (t = 0; t < n; t++)
		self += lab[t * (K + 1)] == (faiss::Index::idx_t)t;
	if (self < n * 99 / 100)
		die("faiss: only %zu of %zu rows are their own nearest", self,
		    n);
	return bench_now() - t0;
}

static std::string
embroid_cmd(const char *prog, int threads, const std::string &records,
    const std::vector<std::string> &spaces, const std::string &out)
{
	std::string cmd = std::string(prog) + " --votes v -k " +
	    std::to_string(K) + " --metric cosine -t " +
	    std::to_string(threads);

	for (size_t e = 0; e < spaces.size(); e++)
		cmd += " -e s" + std::to_string(e) + "=" + spaces[e];
	/* the summary is on stderr: capture it, send the records away */
	return cmd + " " + records + " 2>&1 >" + out;
}

static int
bench_knn(const char *prog, int threads)
{
	std::vector<int8_t> y;
	std::vector<float> x;
	std::string emb = tmpfile_path("knn_x.npy");
	std::string rec = tmpfile_path("knn.jsonl");
	std::string out = tmpfile_path("knn_out.jsonl");
	double tf[RUNS], tk[RUNS], search, wall;
	int r, have = have_file(prog);

	embed_labels(KNN_ROWS, y);
	embed_space(KNN_ROWS, y, 0, x);
	write_embeddings(emb, x, KNN_ROWS);
	/* two sources: one space and one source would give the label model
	 * only 2 columns, and it needs 3 */
	write_records(rec, y, 2);
	fprintf(stderr, "embroid-fix_bench: kNN %d x %d, k=%d, %d threads "
	    "(FAISS side: omp_get_max_threads; embroid-fix -t %d)\n",
	    KNN_ROWS, DIM, K, threads, threads);
	if (!have)
		fprintf(stderr, "embroid-fix_bench: %s not found: FAISS side "
		    "only\n", prog);

	for (r = 0; r < RUNS; r++) {
		tf[r] = faiss_self_join(x, KNN_ROWS, &search);
		fprintf(stderr, "embroid-fix_bench: run %d: faiss C++ %.3f s "
		    "(search %.3f s)", r + 1, tf[r], search);
		if (have) {
			std::string s = run_capture(embroid_cmd(prog, threads,
			    rec, { emb }, out), &wall);

			if ((tk[r] = find_seconds(s, "knn")) < 0)
				die("no \"knn X s\" in embroid-fix's summary: "
				    "%s", s.c_str());
			fprintf(stderr, ", embroid-fix knn %.3f s (wall "
			    "%.3f s)", tk[r], wall);
		}
		fprintf(stderr, "\n");
	}
	x.clear();
	x.shrink_to_fit();
	if (have)
		printf("embroid-fix kNN self-join %dx%d, k=%d, cosine, flat: "
		    "%.3f s (faiss C++ IndexFlatIP, one search call: %.3f s; "
		    "ratio %.2fx; goal <= 1.2x)\n", KNN_ROWS, DIM, K,
		    bench_median(tk, RUNS), bench_median(tf, RUNS),
		    bench_median(tk, RUNS) / bench_median(tf, RUNS));
	else
		printf("embroid-fix kNN self-join %dx%d, k=%d, cosine, flat: "
		    "skipped: %s not built (faiss C++ IndexFlatIP, one search "
		    "call: %.3f s; goal <= 1.2x)\n", KNN_ROWS, DIM, K, prog,
		    bench_median(tf, RUNS));
	fflush(stdout);
	unlink(emb.c_str());
	unlink(rec.c_str());
	unlink(out.c_str());
	return !have;
}

static int
bench_end_to_end(const char *prog, int threads)
{
	std::vector<int8_t> y;
	std::vector<std::string> spaces;
	std::string rec = tmpfile_path("e2e.jsonl");
	std::string out = tmpfile_path("e2e_out.jsonl");
	double wall, tk, rest, acc, t0;
	int e;

	if (!have_file(prog)) {
		printf("embroid-fix end to end %dx%d, %d spaces, k=%d: "
		    "skipped: %s not built\n", E2E_ROWS, DIM, E2E_SPACES, K,
		    prog);
		fflush(stdout);
		return 1;
	}
	t0 = bench_now();
	embed_labels(E2E_ROWS, y);
	for (e = 0; e < E2E_SPACES; e++) {
		std::vector<float> x;

		spaces.push_back(tmpfile_path(("e2e_x" + std::to_string(e) +
		    ".npy").c_str()));
		embed_space(E2E_ROWS, y, e, x);
		write_embeddings(spaces.back(), x, E2E_ROWS);
	}
	write_records(rec, y, 1);
	fprintf(stderr, "embroid-fix_bench: end to end: data made in %.1f s; "
	    "%d threads; one run\n", bench_now() - t0, threads);

	std::string s = run_capture(embroid_cmd(prog, threads, rec, spaces,
	    out), &wall);
	tk = find_seconds(s, "knn");
	rest = find_seconds(s, "rest");
	if (tk < 0 || rest < 0)
		die("no \"knn X s\" and \"rest X s\" in embroid-fix's summary: "
		    "%s", s.c_str());
	acc = output_accuracy(out, y);
	fprintf(stderr, "embroid-fix_bench: end to end: summary: %s"
	    "embroid-fix_bench: end to end: accuracy against the hidden "
	    "label: source 0.75 by construction, embroid %.4f\n", s.c_str(),
	    acc);
	printf("embroid-fix end to end %dx%d, %d spaces, k=%d: %.1f s wall "
	    "(knn %.1f s, rest %.3f s, %.0f%% kNN; one run, not a median; "
	    "%d threads)\n", E2E_ROWS, DIM, E2E_SPACES, K, wall, tk, rest,
	    100 * tk / wall, threads);
	fflush(stdout);
	for (const std::string &f : spaces)
		unlink(f.c_str());
	unlink(rec.c_str());
	unlink(out.c_str());
	return 0;
}

int
main(void)
{
	const char *out = getenv("LOAM_OUT") ? getenv("LOAM_OUT") : ".";
	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ?
	    getenv("TMPDIR") : "/tmp";
	std::string prog = std::string(out) + "/bin/embroid-fix";
	int threads = omp_get_max_threads(), status = 0;

	progname = "embroid-fix_bench";
	tmpfiles = new std::vector<std::string>;
	snprintf(tmpdir, sizeof tmpdir, "%s/loam-embroid-bench-XXXXXX", tmp);
	if (mkdtemp(tmpdir) == NULL) {
		tmpdir[0] = '\0';
		die("mkdtemp in %s failed", tmp);
	}
	atexit(cleanup);

	status |= bench_label_model();
	status |= bench_knn(prog.c_str(), threads);
	status |= bench_end_to_end(prog.c_str(), threads);
	return status;
}
