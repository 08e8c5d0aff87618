/*
 * The run's cgroup tree (runners/common/cgroups.c reads and checks it): made afresh under
 * /sys/fs/cgroup/scxlab for each run, its CPU usage read around the measurement, the shares
 * recorded in run.json, and removed after the run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"

static long long cgroup_usage_usec(const char *cg)
{
	char *p = xasprintf("%s/cpu.stat", cg), *text = read_file(p, NULL);
	long long v = -1;
	char *at = text ? strstr(text, "usage_usec ") : NULL;
	if (at)
		v = atoll(at + strlen("usage_usec "));
	free(text);
	free(p);
	return v;
}

/* Each instance's cgroup CPU usage: before (usage0) or after (usage1) the measurement. */
void tree_usage(struct run *r, bool after)
{
	for (size_t i = 0; i < r->ninst; i++)
		if (r->inst[i].cg)
			*(after ? &r->inst[i].usage1 : &r->inst[i].usage0) = cgroup_usage_usec(r->inst[i].cg);
}

/*
 * The cgroup tree of the plan, made afresh for each run under /sys/fs/cgroup/scxlab so that
 * the policy sees it created (and its cgroup callbacks run) like any other. With the cpu
 * controller on, every level enables it for its children and each cgroup gets its cpu.weight.
 */
bool tree_make(struct run *r)
{
	char *root = xasprintf("/sys/fs/cgroup/%s", CGROUP_ROOT);
	bool ok = mkdir_p(root, 0755) == 0;
	if (ok && r->tree.cpu_controller) {
		/* a host's root may have the cpu controller on already; if not, tree_remove turns it off again */
		char *was = read_line_file("/sys/fs/cgroup/cgroup.subtree_control");
		r->root_cpu_added = !has_word(was, "cpu");
		free(was);
		ok = write_text("/sys/fs/cgroup/cgroup.subtree_control", "+cpu\n") == 0;
		char *sc = xasprintf("%s/cgroup.subtree_control", root);
		ok = ok && write_text(sc, "+cpu\n") == 0;
		free(sc);
	}
	for (size_t n = 0; ok && n < r->tree.nnodes; n++) {
		char *dir = xasprintf("%s/%s", root, r->tree.nodes[n].path);
		ok = mkdir(dir, 0755) == 0 || errno == EEXIST;
		bool has_children = false;
		for (size_t m = 0; m < r->tree.nnodes; m++)
			has_children |= r->tree.nodes[m].parent == (int)n;
		if (ok && r->tree.cpu_controller) {
			char *w = xasprintf("%s/cpu.weight", dir);
			ok = write_text(w, "%ld\n", r->tree.nodes[n].weight) == 0;
			free(w);
			if (ok && has_children) {
				char *sc = xasprintf("%s/cgroup.subtree_control", dir);
				ok = write_text(sc, "+cpu\n") == 0;
				free(sc);
			}
		}
		if (!ok)
			invalid(r, "could not set up cgroup %s: %s", dir, strerror(errno));
		free(dir);
	}
	if (!ok && !json_array_size(r->reasons))
		invalid(r, "could not set up the cgroup root %s: %s", root, strerror(errno));
	free(root);
	return ok;
}

/* Leftover processes are killed (cgroup.kill), then the cgroups are removed, deepest first, then
 * the scxlab cgroup itself, and the root's cpu controller is turned off if tree_make turned it on. */
void tree_remove(struct run *r)
{
	for (size_t n = r->tree.nnodes; n-- > 0;) {
		char *dir = xasprintf("/sys/fs/cgroup/%s/%s", CGROUP_ROOT, r->tree.nodes[n].path);
		char *kill_file = xasprintf("%s/cgroup.kill", dir);
		write_text(kill_file, "1\n");
		for (int tries = 0; tries < 50 && rmdir(dir) && errno == EBUSY; tries++)
			usleep(100000);
		free(kill_file);
		free(dir);
	}
	char *root = xasprintf("/sys/fs/cgroup/%s", CGROUP_ROOT), *sc = xasprintf("%s/cgroup.subtree_control", root);
	write_text(sc, "-cpu\n");
	if (rmdir(root) && errno != ENOENT)
		say(PROTO_WARNING " could not remove %s: %s", root, strerror(errno));
	if (r->root_cpu_added && write_text("/sys/fs/cgroup/cgroup.subtree_control", "-cpu\n"))
		say(PROTO_WARNING " could not turn the cpu controller off again at the cgroup root: %s", strerror(errno));
	free(sc);
	free(root);
}

/* Per instance: the CPU share its weights entitle it to, and what it got during the measurement. */
void record_shares(struct run *r)
{
	long long total = 0;
	for (size_t i = 0; i < r->ninst; i++)
		if (r->inst[i].usage0 >= 0 && r->inst[i].usage1 >= 0)
			total += r->inst[i].usage1 - r->inst[i].usage0;
	json_t *list = json_array();
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = &r->inst[i];
		long long used = in->usage1 - in->usage0;
		const struct cgnode *node = &r->tree.nodes[r->tree.inst[i].node];
		json_array_append_new(list, json_pack("{s:i, s:s, s:I, s:f, s:I, s:f}", "instance", in->k, "cgroup",
						      node->path, "weight", (json_int_t)node->weight, "entitled_share",
						      cgtree_entitled(&r->tree, i), "usage_usec", (json_int_t)used,
						      "achieved_share", total > 0 ? (double)used / total : 0.0));
	}
	json_object_set_new(r->j, "cgroups", json_pack("{s:s, s:b, s:o}", "tree", r->tree.name, "cpu_controller",
						       r->tree.cpu_controller, "instances", list));
}
