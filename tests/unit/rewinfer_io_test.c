/*
 * rewinfer_io_test - lib/method/rewinfer_io: the mdp and gridworld records,
 * demonstrations, choices and preferences read and counted, and each
 * refusal (probabilities, ranges, feature rows, impossible steps, records
 * before the MDP) naming its file:line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "rewinfer_io.h"
#include "tap.h"
#include "util.h"

/* Two states, two actions: action 0 stays, action 1 switches. */
#define MDP2 "{\"type\":\"mdp\",\"states\":2,\"actions\":2,\"gamma\":0.9," \
	"\"transitions\":[{\"s\":0,\"a\":0,\"s2\":0,\"p\":1},{\"s\":0,\"a\":1,\"s2\":1,\"p\":1}," \
	"{\"s\":1,\"a\":0,\"s2\":1,\"p\":1},{\"s\":1,\"a\":1,\"s2\":0,\"p\":%s}]," \
	"\"features\":[[1,0],[0,1],[%s],[0,0]]%s}"

static unsigned long line_no;

/* Add one record; 0 or -1 (the message in loam_error()). */
static int
add(struct rewinfer_data *D, const char *text)
{
	struct rec *r = rec_parse(text, strlen(text), "in", ++line_no);
	int rc;

	if (!r)
		return -1;
	rc = rewinfer_data_add(D, r);
	rec_free(r);
	return rc;
}

static int
add_mdp(struct rewinfer_data *D, const char *p, const char *row2, const char *extra)
{
	char buf[1024];

	snprintf(buf, sizeof buf, MDP2, p, row2, extra);
	return add(D, buf);
}

/* A fresh data set with the bad record; the message must contain want. */
static void
refused(const char *p, const char *row2, const char *extra, const char *second,
    const char *want)
{
	struct rewinfer_data D;
	int rc;

	rewinfer_data_init(&D);
	line_no = 0;
	rc = add_mdp(&D, p, row2, extra);
	if (second && rc == 0)
		rc = add(&D, second);
	ok(rc < 0 && strstr(loam_error(), want) != NULL, "refused: %s (%s)", want,
	    rc < 0 ? loam_error() : "taken");
	rewinfer_data_release(&D);
}

static void
test_records(void)
{
	struct rewinfer_data D;
	struct rewinfer_prefs p;

	rewinfer_data_init(&D);
	line_no = 0;
	ok(add(&D, "{\"type\":\"demo\",\"traj\":[[0,1]]}") < 0 &&
	    strstr(loam_error(), "in:1: a demo record before the mdp"),
	    "a demo before the mdp: %s", loam_error());
	ok(add_mdp(&D, "1", "2,2", ",\"start\":[1,0]") == 0, "the mdp is read");
	ok(D.mdp.S == 2 && D.mdp.A == 2 && D.mdp.d == 2 && D.mdp.start[0] == 1 &&
	    D.mdp.phi[4] == 2, "its sizes, start and features");
	ok(add(&D, "{\"type\":\"demo\",\"traj\":[[0,1],[1,0],[1,1],[0,0]]}") == 0 &&
	    add(&D, "{\"type\":\"choice\",\"s\":1,\"a\":0}") == 0, "a demo and a choice");
	ok(D.w[0 * 2 + 1] == 1 && D.w[1 * 2 + 0] == 2 && D.w[1 * 2 + 1] == 1 &&
	    D.w[0] == 1 && D.pairs == 5 && D.demos == 1 && D.choices == 1,
	    "counted per (s, a)");
	ok(add(&D, "{\"type\":\"demo\",\"traj\":[[0,0],[1,0]]}") < 0 &&
	    strstr(loam_error(), "in:5: field 'traj': step 1: state 0 action 0 cannot lead to state 1"),
	    "an impossible step: %s", loam_error());
	ok(D.pairs == 5, "a refused demo counts nothing");
	ok(add(&D, "{\"type\":\"choice\",\"s\":0,\"a\":0,\"w\":0.25}") == 0 && D.w[0] == 1.25,
	    "a weighted choice adds its weight");
	ok(add(&D, "{\"type\":\"choice\",\"s\":0,\"a\":0,\"w\":-1}") < 0 &&
	    strstr(loam_error(), "field 'w': -1 is not a finite weight >= 0"),
	    "a negative weight: %s", loam_error());
	ok(add(&D, "{\"type\":\"pref\",\"a\":[[0,1],[1,0]],\"b\":[[0,0]],\"y\":1}") == 0 &&
	    add(&D, "{\"type\":\"pref\",\"a\":[[1,1]],\"b\":[[0,1],[1,1],[0,0]],\"y\":0}") == 0,
	    "two preferences");
	ok(add(&D, "{\"type\":\"pref\",\"a\":[[0,1]],\"b\":[[0,5]]}") < 0 &&
	    strstr(loam_error(), "field 'b': step 0: action 5 out of range [0, 2)"),
	    "a preference with an action out of range: %s", loam_error());
	rewinfer_data_prefs(&D, 0.5, &p);
	/* Φ(a) - Φ(b): (0,1) + 0.5 (2,2) - (1,0) = (0, 2); then (0,0) -
	 * ((0,1) + 0.5 (0,0) + 0.25 (1,0)) = (-0.25, -1). */
	ok(p.n == 2 && p.dphi[0] == 0 && p.dphi[1] == 2 && p.dphi[2] == -0.25 &&
	    p.dphi[3] == -1 && p.y[0] == 1 && p.y[1] == 0,
	    "preference features under gamma_h (%g %g %g %g)", p.dphi[0], p.dphi[1],
	    p.dphi[2], p.dphi[3]);
	rewinfer_prefs_release(&p);
	ok(add_mdp(&D, "1", "2,2", "") < 0 && strstr(loam_error(), "a second mdp record"),
	    "a second mdp: %s", loam_error());
	rewinfer_data_release(&D);
}

static void
test_refusals(void)
{
	refused("0.5", "0,0", "", NULL, "in:1: transitions from state 1 action 1 sum to 0.5");
	refused("1", "0,0,0", "", NULL, "in:1: feature row 2 (state 1 action 0): 3 features where row 0 has 2");
	refused("1", "0", "", NULL, "feature row 2 (state 1 action 0): 1 features where row 0 has 2");
	refused("1", "0,0", ",\"start\":[0.5,0.4]", NULL, "start probabilities sum to 0.9");
	refused("1", "0,0", "", "{\"type\":\"choice\",\"s\":2,\"a\":0}",
	    "in:2: field 's': 2 is not in [0, 1]");
	refused("1", "0,0", "", "{\"type\":\"demo\",\"traj\":[[0,2]]}",
	    "field 'traj': step 0: action 2 out of range [0, 2)");
	refused("1", "0,0", "", "{\"type\":\"pref\",\"a\":[[0,1]],\"b\":[[0,0]],\"y\":2}",
	    "field 'y': 2 is not in [0, 1]");
	refused("1", "0,0", "", "{\"type\":\"walk\"}", "type 'walk': expected");
	{
		struct rewinfer_data D;
		const char *bad = "{\"type\":\"mdp\",\"states\":2,\"actions\":1,\"gamma\":0.5,"
		    "\"transitions\":[{\"s\":0,\"a\":0,\"s2\":2,\"p\":1}],\"features\":[[1],[1]]}";

		rewinfer_data_init(&D);
		ok(add(&D, bad) < 0 && strstr(loam_error(), "transition 0: next state 2 out of range [0, 2)"),
		    "a next state out of range: %s", loam_error());
		rewinfer_data_release(&D);
	}
}

static void
test_gridworld(void)
{
	struct rewinfer_data D;
	struct rewinfer_mdp m;
	struct rec *r;
	const char *onehot = "{\"type\":\"gridworld\",\"width\":2,\"height\":1,\"gamma\":0.5,"
	    "\"features\":\"onehot\",\"start\":[1,0]}";
	const char *g = "{\"type\":\"gridworld\",\"width\":3,\"height\":2,\"gamma\":0.8,"
	    "\"slip\":0.1,\"features\":\"rbf:2\"}";
	double sum = 0;

	rewinfer_data_init(&D);
	ok(add(&D, g) == 0 && D.mdp.S == 6 && D.mdp.A == REWINFER_GRID_ACTIONS && D.mdp.d == 4,
	    "gridworld rbf:2: 6 states, 5 actions, 4 features");
	/* Cell (0, 0), action 2 (right): 0.9 + 0.1/5 to cell 1. */
	ok(fabs(rewinfer_transition_prob(&D.mdp, 0, 2, 1) - 0.92) < 1e-12, "slip 0.1 moves right w.p. 0.92");
	for (int j = 0; j < 4; j++)
		sum += D.mdp.phi[(0 * 5 + 3) * 4 + j];
	ok(D.mdp.phi[0] > D.mdp.phi[3] && sum > 0, "rbf: cell 0 is nearest the first centre");
	rewinfer_data_release(&D);
	r = rec_parse(onehot, strlen(onehot), "g", 1);
	ok(r && rewinfer_mdp_from_rec(&m, r) == 0 && m.d == 2 && m.phi[0] == 1 && m.phi[1] == 0 &&
	    m.phi[5 * 2 + 1] == 1 && m.start[0] == 1, "gridworld onehot with a start");
	rewinfer_mdp_release(&m);
	rec_free(r);
	rewinfer_data_init(&D);
	ok(add(&D, "{\"type\":\"gridworld\",\"width\":2,\"height\":1,\"gamma\":0.5,"
	    "\"features\":[[1,0],[0]]}") < 0 &&
	    strstr(loam_error(), "feature row 1 (cell 1, 0): 1 features where row 0 has 2"),
	    "a cell's feature row of the wrong length: %s", loam_error());
	ok(add(&D, "{\"type\":\"gridworld\",\"width\":2,\"height\":1,\"gamma\":0.5,"
	    "\"features\":\"rbf:x\"}") < 0 && strstr(loam_error(), "rbf:K"),
	    "a bad scheme: %s", loam_error());
	rewinfer_data_release(&D);
}

static void
test_translist(void)
{
	struct rewinfer_data D;
	struct rewinfer_translist t = { 0 };
	struct rewinfer_mdp h;
	const char *rows[] = {
		"{\"s\":0,\"a\":0,\"s2\":0,\"p\":1}", "{\"s\":0,\"a\":1,\"s2\":0,\"p\":1}",
		"{\"s\":1,\"a\":0,\"s2\":1,\"p\":1}", "{\"s\":1,\"a\":1,\"s2\":1,\"p\":1}",
	};
	int rc = 0;

	rewinfer_data_init(&D);
	add_mdp(&D, "1", "2,2", "");
	for (int i = 0; i < 4; i++) {
		struct rec *r = rec_parse(rows[i], strlen(rows[i]), "t", (unsigned long)i + 1);

		rc |= rewinfer_translist_add(&t, r, 2, 2);
		rec_free(r);
	}
	ok(rc == 0 && rewinfer_translist_mdp(&h, &t, &D.mdp) == 0 &&
	    rewinfer_transition_prob(&h, 0, 1, 0) == 1 && h.phi[4] == 2,
	    "a transitions list makes believed dynamics with the true features");
	rewinfer_mdp_release(&h);
	{
		const char *bad = "{\"s\":0,\"a\":3,\"s2\":0,\"p\":1}";
		struct rec *r = rec_parse(bad, strlen(bad), "t", 9);

		ok(rewinfer_translist_add(&t, r, 2, 2) < 0 &&
		    strstr(loam_error(), "t:9: transition: action 3 out of range"),
		    "a transition's action out of range: %s", loam_error());
		rec_free(r);
	}
	rewinfer_translist_release(&t);
	rewinfer_data_release(&D);
}

int
main(void)
{
	test_records();
	test_refusals();
	test_gridworld();
	test_translist();
	return tap_done();
}
