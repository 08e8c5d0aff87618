/*
 * Cgroup trees for experiments (configs/cgroups/NAME.ini, or generated for sweeps), shared by
 * the host runner (validation, the shares the weights entitle each instance to) and the guest
 * agent (creating the tree on cgroup v2, placing workload instances, reading what each got).
 *
 * A tree config:
 *   [tree]
 *   cpu_controller = on            ; on: cpu.weight applies (needed for weights); off: no cpu controller
 *   [cgroup.a/b/high]              ; one section per cgroup that needs a weight; ancestors are implied (weight 100)
 *   weight = 200                   ; cgroup v2 cpu.weight, 1..10000
 *   [instance.1]                   ; one workload instance (its server and its client) per section
 *   cgroup = a/b/high
 *   params = port=8081             ; overrides of the workload's [params], space-separated key=value
 *
 * A generated tree "pair:DEPTH:RATIO" has two instances whose cgroups are siblings at depth
 * DEPTH (below DEPTH-1 shared ancestors l1/l2/...), weighted RATIO:1 (high = 100*RATIO, low = 100).
 */
#ifndef SCXLAB_CGROUPS_H
#define SCXLAB_CGROUPS_H

#include <stdbool.h>
#include "config.h"

#define CGROUP_ROOT "scxlab"	/* under /sys/fs/cgroup: every experiment cgroup lives here */

struct cgnode {
	char *path;		/* relative to the tree root, e.g. "a/b/high" */
	int parent;		/* index, -1 for top-level nodes */
	long weight;
	bool active;		/* an instance runs in it or below it */
};

struct cginstance {
	char *cgroup;
	char *params;		/* "key=value ..." overrides */
	int node;
};

struct cgtree {
	char *name;		/* config name or generated spec */
	bool cpu_controller;
	struct cgnode *nodes;	/* parents before children */
	size_t nnodes;
	struct cginstance *inst;
	size_t ninst;
};

/* From a config's [tree], [cgroup.*] and [instance.*] sections (a tree config or a plan). */
int cgtree_from_cfg(struct cgtree *t, const struct cfg *c, const char *name, struct err *e);
/* "pair:DEPTH:RATIO" */
int cgtree_generate(struct cgtree *t, const char *spec, struct err *e);
/* Load configs/cgroups/NAME.ini, or generate when spec has the form pair:D:R. */
int cgtree_load(struct cgtree *t, const char *configs_dir, const char *spec, struct err *e);
void cgtree_free(struct cgtree *t);
/* Write the tree's sections into a plan (or any cfg); cgtree_from_cfg reads them back. */
void cgtree_to_cfg(const struct cgtree *t, struct cfg *c);
/* The share of the whole tree's CPU time that instance i's cgroup is entitled to: the product,
 * over its cgroup and each ancestor, of weight / sum of the weights of its active siblings. */
double cgtree_entitled(const struct cgtree *t, size_t i);

#endif
