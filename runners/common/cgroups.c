#include "cgroups.h"
#include "experiment.h"

#include <stdlib.h>
#include <string.h>

static int find_node(const struct cgtree *t, const char *path)
{
	for (size_t i = 0; i < t->nnodes; i++)
		if (!strcmp(t->nodes[i].path, path))
			return (int)i;
	return -1;
}

/* Adds path and its missing ancestors (weight 100); returns the node's index. */
static int add_node(struct cgtree *t, const char *path)
{
	int found = find_node(t, path);
	if (found >= 0)
		return found;
	int parent = -1;
	char *copy = xstrdup(path), *slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		parent = add_node(t, copy);
	}
	free(copy);
	t->nodes = xrealloc(t->nodes, (t->nnodes + 1) * sizeof(*t->nodes));
	t->nodes[t->nnodes] = (struct cgnode){ .path = xstrdup(path), .parent = parent, .weight = 100 };
	return (int)t->nnodes++;
}

static int check_path(const char *path, const char *where, struct err *e)
{
	if (!*path || path[0] == '/' || path[strlen(path) - 1] == '/' || strstr(path, "//") ||
	    strspn(path, "abcdefghijklmnopqrstuvwxyz0123456789_-/") != strlen(path))
		return errf(e, "%s: cgroup path '%s' must be relative, with parts of [a-z0-9_-] separated by '/'",
			    where, path);
	/* the plan names each cgroup in a section [cgroup.PATH], which inih cuts beyond its limit */
	if (strlen("cgroup.") + strlen(path) > CFG_MAX_NAME)
		return errf(e, "%s: cgroup path '%s' is longer than %zu characters", where, path,
			    CFG_MAX_NAME - strlen("cgroup."));
	return 0;
}

static void mark_active(struct cgtree *t)
{
	for (size_t i = 0; i < t->ninst; i++)
		for (int n = t->inst[i].node; n >= 0; n = t->nodes[n].parent)
			t->nodes[n].active = true;
}

int cgtree_from_cfg(struct cgtree *t, const struct cfg *c, const char *name, struct err *e)
{
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	const char *where = c->path ? c->path : name;
	const char *ctl;
	if (cfg_get_choice(c, "tree", "cpu_controller", "on", "on|off", &ctl, e))
		return -1;
	t->cpu_controller = !strcmp(ctl, "on");
	for (size_t i = 0; i < c->n; i++) {
		const char *sec = c->v[i].section;
		if (strncmp(sec, "cgroup.", 7) || strcmp(c->v[i].key, "weight"))
			continue;
		if (check_path(sec + 7, where, e))
			return -1;
		int n = add_node(t, sec + 7);
		if (cfg_get_long(c, sec, "weight", 100, 1, 10000, &t->nodes[n].weight, e))
			return -1;
		if (t->nodes[n].weight != 100 && !t->cpu_controller)
			return errf(e, "%s: [%s] weight = %ld needs cpu_controller = on (without the cpu controller "
				    "cgroups have no weights)", where, sec, t->nodes[n].weight);
	}
	for (int k = 1;; k++) {
		char sec[32];
		snprintf(sec, sizeof(sec), "instance.%d", k);
		if (!cfg_has_section(c, sec))
			break;
		const char *cg;
		if (cfg_require(c, sec, "cgroup", &cg, e) || check_path(cg, where, e))
			return -1;
		t->inst = xrealloc(t->inst, (t->ninst + 1) * sizeof(*t->inst));
		t->inst[t->ninst] = (struct cginstance){ .cgroup = xstrdup(cg), .node = add_node(t, cg),
							 .params = xstrdup(cfg_get(c, sec, "params") ?: "") };
		t->ninst++;
	}
	for (size_t i = 0; i < c->nsecs + c->n; i++) {	/* sections read, and those set in memory */
		const char *sec = i < c->nsecs ? c->secs[i].name : c->v[i - c->nsecs].section;
		if (!strncmp(sec, "instance.", 9)) {
			long k;
			struct err ignored;
			char canon[32];
			snprintf(canon, sizeof(canon), "instance.%ld",
				 parse_long(sec + 9, 1, (long)t->ninst, "", &k, &ignored) ? 0L : k);
			if (strcmp(canon, sec))	/* not a number, out of range, or spelt "instance.01" */
				return errf(e, "%s: [%s]: instances must be numbered 1, 2, 3... without gaps", where, sec);
		}
	}
	if (!t->ninst)
		return errf(e, "%s: a cgroup tree needs at least one [instance.1] with a cgroup", where);
	for (size_t i = 0; i < t->ninst; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t->inst[i].cgroup, t->inst[j].cgroup))
				return errf(e, "%s: instances %zu and %zu share cgroup %s; give each its own", where, j + 1,
					    i + 1, t->inst[i].cgroup);
	for (size_t i = 0; i < t->ninst; i++)
		for (size_t n = 0; n < t->nnodes; n++)
			if (t->nodes[n].parent == t->inst[i].node)
				return errf(e, "%s: instance %zu's cgroup %s has child cgroups; cgroup v2 runs processes "
					    "only in leaves", where, i + 1, t->inst[i].cgroup);
	mark_active(t);
	return 0;
}

int cgtree_generate(struct cgtree *t, const char *spec, struct err *e)
{
	long depth = 0, ratio = 0;
	memset(t, 0, sizeof(*t));
	char *copy = xstrdup(spec), *d = strchr(copy, ':'), *r = d ? strchr(d + 1, ':') : NULL;
	if (d)
		*d++ = '\0';
	if (r)
		*r++ = '\0';
	bool shaped = d && r && !strcmp(copy, "pair");
	struct err why = { "" };
	int bad = shaped ? parse_long(d, 1, 8, "DEPTH", &depth, &why) || parse_long(r, 1, 100, "RATIO", &ratio, &why) : -1;
	free(copy);
	if (!shaped)
		return errf(e, "cgroup tree '%s' is neither a config in configs/cgroups/ nor pair:DEPTH:RATIO", spec);
	if (bad)
		return errf(e, "cgroup tree '%s': %s (pair:DEPTH:RATIO with DEPTH 1..8 and RATIO 1..100)", spec, why.msg);
	struct cfg c = { .path = xstrdup(spec) };
	char prefix[128] = "", sec[192], w[32];
	for (long d = 1; d < depth; d++) {
		size_t len = strlen(prefix);
		snprintf(prefix + len, sizeof(prefix) - len, "l%ld/", d);
	}
	cfg_set(&c, "tree", "cpu_controller", "on");
	snprintf(sec, sizeof(sec), "cgroup.%shigh", prefix);
	snprintf(w, sizeof(w), "%ld", 100 * ratio);
	cfg_set(&c, sec, "weight", w);
	snprintf(sec, sizeof(sec), "cgroup.%slow", prefix);
	cfg_set(&c, sec, "weight", "100");
	snprintf(sec, sizeof(sec), "%shigh", prefix);
	cfg_set(&c, "instance.1", "cgroup", sec);
	snprintf(sec, sizeof(sec), "%slow", prefix);
	cfg_set(&c, "instance.2", "cgroup", sec);
	int rc = cgtree_from_cfg(t, &c, spec, e);
	cfg_free(&c);
	return rc;
}

int cgtree_load(struct cgtree *t, const char *configs_dir, const char *spec, struct err *e)
{
	if (strchr(spec, ':'))
		return cgtree_generate(t, spec, e);
	memset(t, 0, sizeof(*t));
	if (check_name("cgroup tree", spec, e))
		return -1;
	char *dir = xasprintf("%s/cgroups", configs_dir), *path = xasprintf("%s/%s.ini", dir, spec);
	struct cfg c;
	int rc;
	if (!path_exists(path)) {
		char *names = config_names(dir);
		rc = errf(e, "unknown cgroup tree '%s'; choose from: %s (files in %s/), or pair:DEPTH:RATIO", spec,
			  *names ? names : "(none)", dir);
		free(names);
	} else {
		rc = cfg_load(&c, path, &CFG_CGROUPS, e);
		if (!rc)
			rc = cgtree_from_cfg(t, &c, spec, e);
		cfg_free(&c);
	}
	free(path);
	free(dir);
	return rc;
}

void cgtree_free(struct cgtree *t)
{
	for (size_t i = 0; i < t->nnodes; i++)
		free(t->nodes[i].path);
	for (size_t i = 0; i < t->ninst; i++) {
		free(t->inst[i].cgroup);
		free(t->inst[i].params);
	}
	free(t->nodes);
	free(t->inst);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

void cgtree_to_cfg(const struct cgtree *t, struct cfg *c)
{
	char sec[256], buf[32];
	cfg_set(c, "tree", "name", t->name ? t->name : "");
	cfg_set(c, "tree", "cpu_controller", t->cpu_controller ? "on" : "off");
	for (size_t i = 0; i < t->nnodes; i++) {
		snprintf(sec, sizeof(sec), "cgroup.%s", t->nodes[i].path);
		snprintf(buf, sizeof(buf), "%ld", t->nodes[i].weight);
		cfg_set(c, sec, "weight", buf);
	}
	for (size_t i = 0; i < t->ninst; i++) {
		snprintf(sec, sizeof(sec), "instance.%zu", i + 1);
		cfg_set(c, sec, "cgroup", t->inst[i].cgroup);
		cfg_set(c, sec, "params", t->inst[i].params);
	}
}

double cgtree_entitled(const struct cgtree *t, size_t i)
{
	double share = 1.0;
	for (int n = t->inst[i].node; n >= 0; n = t->nodes[n].parent) {
		double sum = 0;
		for (size_t s = 0; s < t->nnodes; s++)
			if (t->nodes[s].parent == t->nodes[n].parent && t->nodes[s].active)
				sum += t->nodes[s].weight;
		share *= t->nodes[n].weight / sum;
	}
	return share;
}
