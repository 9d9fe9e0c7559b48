/*
 * skillit-loop - Skill-It's closed loop (evaluate, reweight, train) on CPU,
 * with the real skillit-mix in the loop and a SIMULATED learner.
 *
 *	skillit-loop [-q] [-s seed] [--seeds n] [--mix path] [--lr x]
 *	    [--target loss] [--trace file]
 *
 * The setting is the paper's LEGO continual pre-training (k = 5, 6000
 * steps of batch 32, T = 6 rounds of 1000 steps, an evaluation every 50
 * steps, the flat graph 1 0 0 0 0 1 1 1 1 0 ..., eta 0.5, a window of 3
 * evaluations).  The learner is not a trained model: a transformer
 * learns LEGO in GPU-hours, not seconds.  It is a model of one, chosen
 * to have LEGO's ordered skills and nothing that favours Skill-It:
 *
 *	z_j	the learner's log-odds of the right answer on skill j
 *		(0 at the start: chance, loss ln 2)
 *	step	a batch of B samples drawn from the round's mixture; a
 *		sample of skill i feeds skill j with weight A[i][j] (1 on the
 *		diagonal, 0.5 on an edge: the graph is assumed right), and
 *		z_j += lr * gate_j * sigmoid(-z_j) * (fed_j / B) * noise
 *		where sigmoid(-z_j) is the log-loss gradient (so the loss
 *		falls like 1/steps once learned) and noise is lognormal with
 *		mean 1 (minibatch noise)
 *	gate	LEGO's chain: skill j learns only as fast as its
 *		prerequisite j-1 is solved, gate_j = e + (1 - e) a_{j-1}^2
 *		with a = 2 sigmoid(z) - 1 (0 at chance, 1 solved); gate_0 = 1
 *	eval	the mean log-loss over 100 fixed validation examples per
 *		skill, each z_j plus its own difficulty offset ~ N(0, 0.5)
 *
 * The constants were fixed before any comparison; the one knob, lr, was
 * then set so that stratified sampling ends near the paper's stratified
 * loss (0.046), and the default --target is that loss.  The order
 * Skill-It < stratified < random of the final loss holds for every lr
 * tried, 0.003 to 0.3; the margins do not match the paper's and are not
 * meant to.
 * The gate is not in Skill-It's model of the loss (L_{t+1} = L_t (1 -
 * A^T p)), so the policy has to find the order from the losses it is
 * shown.  Policies:
 *
 *	skillit		skillit-mix weights --follow as a coprocess: every
 *			evaluation is written to it, the mixture it answers
 *			after the last evaluation of a round mixes the next
 *	stratified	uniform over the skills
 *	random		records drawn from the imbalanced pool 1:1:1:3:5,
 *			the paper's random baseline
 *	static		Skill-It with T = 1 (skillit-mix weights --static)
 *	nograph		Skill-It online with the identity graph
 *
 * (the last two are the paper's ablations, App. D.5).  Per-skill counts
 * of a round are floor(p n) with the remainder to the last skill, then
 * shuffled, as the reference; the random pool is sampled i.i.d.  Every
 * number comes from lib/rng with a fixed seed: the output is a function of
 * the options.  Results are means over --seeds runs.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rec.h"
#include "rng.h"

static const char usage[] =
    "usage: skillit-loop [-q] [-s seed] [--seeds n] [--mix path] [--lr x]\n"
    "                    [--target loss] [--trace file]\n";

static const char help[] =
    "  --seeds N      runs per policy, averaged (default 5)\n"
    "  --mix PATH     the skillit-mix program (default: skillit-mix on PATH)\n"
    "  --lr X         the simulated learner's step size (default 0.03)\n"
    "  --target L     the average loss whose first crossing is reported (default 0.05)\n"
    "  --trace FILE   write the seed-averaged loss curves as JSON Lines\n";

enum { OPT_SEEDS = 256, OPT_MIX, OPT_LR, OPT_TARGET, OPT_TRACE };

#define K		5	/* LEGO skills */
#define BATCH		32
#define STEPS		6000
#define ROUND_STEPS	1000	/* T = 6 */
#define EVAL_EVERY	50	/* 120 evaluations, the reference's num_ckpts */
#define NEVAL		(STEPS / EVAL_EVERY)
#define NVAL		100	/* validation examples per skill, as the reference */
#define GATE_FLOOR	0.05	/* e: how fast a skill learns before its prerequisite */
#define VAL_SPREAD	0.5
#define NOISE_SD	0.5

/* The paper's LEGO graph, row i = what training on skill i helps; the
 * off-diagonal 1s mean 0.5 (skillit-mix's binary rule, done here too so
 * that the learner's transfer is the graph the policy is given). */
static const int lego_graph[K][K] = {
	{ 1, 0, 0, 0, 0 },
	{ 1, 1, 1, 1, 0 },
	{ 0, 0, 1, 0, 0 },
	{ 0, 0, 0, 1, 0 },
	{ 0, 0, 0, 0, 1 },
};
static const double random_pool[K] = { 1, 1, 1, 3, 5 };
static const char *const skill_name[K] = { "0", "1", "2", "3", "4" };

enum { P_SKILLIT, P_STRATIFIED, P_RANDOM, P_STATIC, P_NOGRAPH, NPOLICY };
static const char *const policy_name[NPOLICY] = {
	"skillit", "stratified", "random", "static", "nograph",
};

static double transfer[K][K];
static char graph_path[2][64];	/* the LEGO and the identity graph files */

struct coproc {
	pid_t pid;
	FILE *to, *from;
	char *line;
	size_t cap;
};

static void
remove_graphs(void)
{
	for (int g = 0; g < 2; g++)
		if (graph_path[g][0])
			unlink(graph_path[g]);
}

/* Write a graph for skillit-mix --graph: JSON, binary entries. */
static void
write_graph(int g, int identity)
{
	const char *tmp = getenv("TMPDIR");
	FILE *fp;
	int fd;

	if (!tmp || !*tmp || strlen(tmp) > 32)
		tmp = "/tmp";
	snprintf(graph_path[g], sizeof graph_path[g], "%s/skillit-loop-XXXXXX.json", tmp);
	if ((fd = mkstemps(graph_path[g], 5)) < 0 || (fp = fdopen(fd, "w")) == NULL)
		die("%s: %s", graph_path[g], strerror(errno));
	fputs("{\"skills\":[", fp);
	for (int i = 0; i < K; i++)
		fprintf(fp, "%s\"%s\"", i ? "," : "", skill_name[i]);
	fputs("],\"graph\":[", fp);
	for (int i = 0; i < K; i++) {
		fputs(i ? ",[" : "[", fp);
		for (int j = 0; j < K; j++)
			fprintf(fp, "%s%d", j ? "," : "", identity ? i == j : lego_graph[i][j]);
		fputc(']', fp);
	}
	fputs("]}\n", fp);
	if (fclose(fp) != 0)
		die("%s: %s", graph_path[g], strerror(errno));
}

static void
coproc_start(struct coproc *c, const char *mix, const char *graph, int is_static)
{
	int in[2], out[2];

	if (pipe(in) != 0 || pipe(out) != 0)
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	if ((c->pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		execlp(mix, mix, "weights", "-q", "--follow", "--graph", graph,
		    "--eta", "0.5", "--window", "3", is_static ? "--static" : NULL,
		    (char *)NULL);
		fprintf(stderr, "skillit-loop: %s: %s\n", mix, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if ((c->to = fdopen(in[1], "w")) == NULL || (c->from = fdopen(out[0], "r")) == NULL)
		die("fdopen: %s", strerror(errno));
	c->line = NULL;
	c->cap = 0;
}

/* Read the next mixture skillit-mix answers: {"round":t,...,"weights":{}}. */
static void
coproc_weights(struct coproc *c, const char *mix, double *p)
{
	json_object *w, *v;
	struct rec *r;
	ssize_t n;
	double sum = 0;

	if ((n = getline(&c->line, &c->cap, c->from)) <= 0)
		die("%s: no mixture came back", mix);
	if ((r = rec_parse(c->line, (size_t)n, mix, 0)) == NULL)
		die("%s", loam_error());
	if (rec_get_object(r, "weights", &w) != REC_OK)
		die("%s: no weights in %s", mix, c->line);
	for (int i = 0; i < K; i++) {
		if (!json_object_object_get_ex(w, skill_name[i], &v) ||
		    rec_json_double(v, skill_name[i], &p[i]) != 0)
			die("%s: no weight for skill %s", mix, skill_name[i]);
		sum += p[i];
	}
	if (fabs(sum - 1) > 1e-9)
		die("%s: weights sum to %g", mix, sum);
	rec_free(r);
}

static void
coproc_eval(struct coproc *c, int step, const double *loss)
{
	fprintf(c->to, "{\"step\":%d,\"losses\":{", step);
	for (int j = 0; j < K; j++)
		fprintf(c->to, "%s\"%s\":%.17g", j ? "," : "", skill_name[j], loss[j]);
	fputs("}}\n", c->to);
	if (fflush(c->to) != 0)
		die("writing to skillit-mix: %s", strerror(errno));
}

static void
coproc_end(struct coproc *c, const char *mix)
{
	int status;

	fclose(c->to);
	fclose(c->from);
	free(c->line);
	if (waitpid(c->pid, &status, 0) < 0)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("%s exited with status %d", mix, WIFEXITED(status) ?
		    WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static double
sigmoid(double x)
{
	return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}

/* log(1 + e^x) without overflow. */
static double
softplus(double x)
{
	return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static void
evaluate(const double *z, double val[K][NVAL], double *loss)
{
	for (int j = 0; j < K; j++) {
		double s = 0;

		for (int v = 0; v < NVAL; v++)
			s += softplus(-(z[j] + val[j][v]));
		loss[j] = s / NVAL;
	}
}

/* The round's samples: floor(p n) of each skill, the remainder to the
 * last, shuffled (the reference's synthetic sampler); or, for the random
 * pool, n independent draws. */
static void
fill_round(int *skill, int n, const double *p, int iid, struct rng *r)
{
	if (iid) {
		for (int s = 0; s < n; s++)
			skill[s] = (int)rng_weighted(r, p, K);
		return;
	}
	int at = 0;
	for (int i = 0; i < K - 1; i++)
		for (int c = (int)floor(p[i] * n); c > 0 && at < n; c--)
			skill[at++] = i;
	while (at < n)
		skill[at++] = K - 1;
	rng_shuffle(r, skill, (size_t)n, sizeof *skill);
}

struct run {
	double curve[NEVAL][K];		/* losses at each evaluation */
	double mix[STEPS / ROUND_STEPS][K];	/* each round's mixture */
};

static void
run_policy(int pol, uint64_t seed, int index, double lr, const char *mix, struct run *out)
{
	static int round_skill[ROUND_STEPS * BATCH];
	double val[K][NVAL], z[K] = { 0 }, loss[K], p[K], next[K];
	struct coproc cp;
	struct rng r;
	int online = pol == P_SKILLIT || pol == P_NOGRAPH;

	/* The validation set depends on the seed only: every policy of a
	 * seed is scored on the same examples. */
	rng_init(&r, seed, 1, (uint64_t)index);
	for (int j = 0; j < K; j++)
		for (int v = 0; v < NVAL; v++)
			val[j][v] = VAL_SPREAD * rng_normal(&r);
	rng_init(&r, seed, 2, (uint64_t)index);

	switch (pol) {
	case P_STRATIFIED:
		for (int i = 0; i < K; i++)
			p[i] = 1.0 / K;
		break;
	case P_RANDOM:
		memcpy(p, random_pool, sizeof p);
		break;
	default:
		coproc_start(&cp, mix, graph_path[pol == P_NOGRAPH], pol == P_STATIC);
		coproc_weights(&cp, mix, p);
		if (!online)
			coproc_end(&cp, mix);
	}
	memcpy(next, p, sizeof next);
	for (int step = 0; step < STEPS; step++) {
		if (step % ROUND_STEPS == 0) {
			memcpy(p, next, sizeof p);
			if (pol != P_RANDOM) {
				double sum = 0;

				for (int i = 0; i < K; i++)
					sum += p[i];
				for (int i = 0; i < K; i++)
					out->mix[step / ROUND_STEPS][i] = p[i] / sum;
			} else
				for (int i = 0; i < K; i++)
					out->mix[step / ROUND_STEPS][i] = p[i] / 11;
			fill_round(round_skill, ROUND_STEPS * BATCH, p, pol == P_RANDOM, &r);
		}

		/* One step: what the batch feeds each skill, through the graph. */
		const int *b = round_skill + (step % ROUND_STEPS) * BATCH;
		double fed[K] = { 0 };
		for (int s = 0; s < BATCH; s++)
			for (int j = 0; j < K; j++)
				fed[j] += transfer[b[s]][j];
		for (int j = 0; j < K; j++) {
			double a = j ? 2 * sigmoid(z[j - 1]) - 1 : 1;
			double gate = GATE_FLOOR + (1 - GATE_FLOOR) * a * a;
			double noise = exp(NOISE_SD * rng_normal(&r) - NOISE_SD * NOISE_SD / 2);

			z[j] += lr * gate * sigmoid(-z[j]) * (fed[j] / BATCH) * noise;
		}

		if ((step + 1) % EVAL_EVERY == 0) {
			evaluate(z, val, loss);
			memcpy(out->curve[(step + 1) / EVAL_EVERY - 1], loss, sizeof loss);
			if (online) {
				coproc_eval(&cp, step + 1, loss);
				coproc_weights(&cp, mix, next);
			}
		}
	}
	if (online)
		coproc_end(&cp, mix);
}

static double
avg(const double *loss)
{
	double s = 0;

	for (int j = 0; j < K; j++)
		s += loss[j];
	return s / K;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "seeds", required_argument, NULL, OPT_SEEDS },
		{ "mix", required_argument, NULL, OPT_MIX },
		{ "lr", required_argument, NULL, OPT_LR },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "trace", required_argument, NULL, OPT_TRACE },
		CLI_COMMON_LONGOPTS,
	};
	static struct run run, mean[NPOLICY];
	struct cli_opts o;
	const char *mix = "skillit-mix", *trace = NULL;
	double lr = 0.03, target = 0.05, final[NPOLICY];
	int seeds = 5, reach[NPOLICY], c;

	cli_init(&o, argc, argv, usage, help, 0);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS(""), longopts, NULL)) != -1)
		switch (c) {
		case OPT_SEEDS: seeds = (int)cli_parse_u64("--seeds", optarg, 1, 1000); break;
		case OPT_MIX: mix = optarg; break;
		case OPT_LR: lr = cli_parse_double("--lr", optarg, 1e-6, 100); break;
		case OPT_TARGET: target = cli_parse_double("--target", optarg, 1e-9, 10); break;
		case OPT_TRACE: trace = optarg; break;
		default: cli_common_option(&o, c);
		}
	if (optind != argc)
		usage_error("no operands expected");

	for (int i = 0; i < K; i++)
		for (int j = 0; j < K; j++)
			transfer[i][j] = lego_graph[i][j] ? (i == j ? 1 : 0.5) : 0;
	atexit(remove_graphs);
	write_graph(0, 0);
	write_graph(1, 1);

	for (int pol = 0; pol < NPOLICY; pol++) {
		for (int s = 0; s < seeds; s++) {
			run_policy(pol, o.seed, s, lr, mix, &run);
			for (int e = 0; e < NEVAL; e++)
				for (int j = 0; j < K; j++)
					mean[pol].curve[e][j] += run.curve[e][j] / seeds;
			for (int t = 0; t < STEPS / ROUND_STEPS; t++)
				for (int j = 0; j < K; j++)
					mean[pol].mix[t][j] += run.mix[t][j] / seeds;
		}
		final[pol] = avg(mean[pol].curve[NEVAL - 1]);
		reach[pol] = -1;
		for (int e = 0; e < NEVAL && reach[pol] < 0; e++)
			if (avg(mean[pol].curve[e]) <= target)
				reach[pol] = (e + 1) * EVAL_EVERY;
	}

	printf("# skillit-loop: SIMULATED learner (a model of LEGO's ordered skills, "
	    "not a trained network); the Skill-It policy is the real %s in the loop\n", mix);
	printf("# LEGO k=%d, %d steps x batch %d, T=%d rounds, eval every %d steps, "
	    "eta 0.5, window 3, lr %g, mean of %d seeds from seed %llu\n", K, STEPS,
	    BATCH, STEPS / ROUND_STEPS, EVAL_EVERY, lr, seeds,
	    (unsigned long long)o.seed);
	for (int pol = 0; pol < NPOLICY; pol++) {
		const double *l = mean[pol].curve[NEVAL - 1];

		printf("%-10s final_avg_loss %.4f  steps_to_%g ", policy_name[pol],
		    final[pol], target);
		if (reach[pol] < 0)
			printf("%-5s", "never");
		else
			printf("%-5d", reach[pol]);
		printf("  per-skill %.4f %.4f %.4f %.4f %.4f  mixtures",
		    l[0], l[1], l[2], l[3], l[4]);
		for (int t = 0; t < (pol == P_SKILLIT ? STEPS / ROUND_STEPS : 1); t++) {
			printf(" ");
			for (int j = 0; j < K; j++)
				printf("%s%.2f", j ? "/" : "", mean[pol].mix[t][j]);
		}
		printf("\n");
	}
	printf("{\"method\":\"skillit\",\"learner\":\"simulated\"");
	for (int pol = 0; pol < NPOLICY; pol++)
		printf(",\"%s\":%.6g", policy_name[pol], final[pol]);
	printf(",\"target\":%g", target);
	for (int pol = 0; pol < NPOLICY; pol++) {
		if (reach[pol] < 0)
			printf(",\"steps_%s\":null", policy_name[pol]);
		else
			printf(",\"steps_%s\":%d", policy_name[pol], reach[pol]);
	}
	printf("}\n");
	if (fflush(stdout) != 0 || ferror(stdout))
		cli_write_failed("stdout");

	if (trace) {
		struct cli_out out;
		FILE *fp = cli_out_open(&out, trace);

		for (int pol = 0; pol < NPOLICY; pol++)
			for (int e = 0; e < NEVAL; e++) {
				const double *l = mean[pol].curve[e];

				fprintf(fp, "{\"policy\":\"%s\",\"step\":%d,\"avg\":%.6g,"
				    "\"losses\":[%.6g,%.6g,%.6g,%.6g,%.6g]}\n",
				    policy_name[pol], (e + 1) * EVAL_EVERY, avg(l),
				    l[0], l[1], l[2], l[3], l[4]);
			}
		cli_out_commit(&out);
	}
	return cli_exit();
}
