/*
 * rewinfer_io - reward-sensitivity(1)'s records read into rewinfer's
 * structures: the MDP (an "mdp" record, or the "gridworld" shorthand),
 * demonstrations, single choices and pairwise preferences, each checked
 * against the MDP (indices in range, every step of a trajectory possible
 * under the true dynamics).  The record formats are reward-sensitivity(1)'s.
 *
 * Errors return -1 after rec_errorf(), so the message names file:line.
 */
#ifndef LOAM_REWINFER_IO_H
#define LOAM_REWINFER_IO_H

#include <stddef.h>

#include "rec.h"
#include "rewinfer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest gridworld side and feature count the shorthand accepts. */
#define REWINFER_IO_MAX_SIDE 4096
#define REWINFER_IO_MAX_FEATURES 4096

struct rewinfer_data {
	int have_mdp;
	struct rewinfer_mdp mdp;
	double *w;		/* S*A: counts of demonstrated (s, a) */
	size_t demos, choices, pairs;	/* records and (s, a) pairs counted */
	/* Preferences keep their trajectories: Φ depends on γ_h. */
	size_t npref;
	int *pref_pairs;	/* (s, a) pairs of every preferred/other trajectory */
	size_t pref_used, pref_cap;	/* in pairs */
	size_t *pref_off;	/* 2*npref + 1 offsets into pref_pairs, in pairs */
	double *pref_y;		/* npref */
};

void rewinfer_data_init(struct rewinfer_data *D);
void rewinfer_data_release(struct rewinfer_data *D);

/* One record: "mdp" or "gridworld" (first, and once), "demo", "choice"
 * or "pref"; "simulation" (simulate's account) is passed over.  0, or -1
 * after rec_errorf(). */
int rewinfer_data_add(struct rewinfer_data *D, struct rec *r);

/* An MDP from an "mdp" or "gridworld" record alone (for a believed
 * dynamics file).  0, or -1 after rec_errorf(). */
int rewinfer_mdp_from_rec(struct rewinfer_mdp *m, struct rec *r);

/* A transition record {"s":..,"a":..,"s2":..,"p":..} appended to a list
 * checked against S and A; rewinfer_translist_mdp() then makes an MDP of
 * them with truth's features, start and discount. */
struct rewinfer_translist {
	size_t n, cap;
	int *s, *a, *s2;
	double *p;
};
int rewinfer_translist_add(struct rewinfer_translist *t, struct rec *r, int S, int A);
int rewinfer_translist_mdp(struct rewinfer_mdp *out, const struct rewinfer_translist *t,
    const struct rewinfer_mdp *truth);
void rewinfer_translist_release(struct rewinfer_translist *t);

/* The preferences' Φ(a) - Φ(b) under γ_h into p (allocated; release
 * with rewinfer_prefs_release()). */
void rewinfer_data_prefs(const struct rewinfer_data *D, double gamma_h,
    struct rewinfer_prefs *p);
void rewinfer_prefs_release(struct rewinfer_prefs *p);

#ifdef __cplusplus
}
#endif

#endif
