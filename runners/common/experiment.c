#include "experiment.h"
#include "sha256.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int check_name(const char *what, const char *name, struct err *e)
{
	if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(name))
		return errf(e, "%s '%s' is not a valid name (lower-case letters, digits, '-' and '_')", what, name);
	return 0;
}

static int load_named(const char *configs_dir, const char *sub, const char *what, const char *name,
		      struct cfg *c, struct err *e)
{
	char *dir = xasprintf("%s/%s", configs_dir, sub);
	char *path = xasprintf("%s/%s.ini", dir, name);
	int rc;
	if (check_name(what, name, e)) {
		rc = -1;
	} else if (!path_exists(path)) {
		char *names = config_names(dir);
		rc = errf(e, "unknown %s '%s'; choose from: %s (each is a file in %s/)", what, name,
			  *names ? names : "(none found)", dir);
		free(names);
	} else {
		rc = cfg_load(c, path, e);
	}
	free(path);
	free(dir);
	return rc;
}

/*
 * "external:/path/to/binary [args]". Each external policy is one distinct thing: its name is
 * ext-<file name>-<8 hex digits of sha256(path NUL args)>, the arguments taken word by word
 * (so spacing does not matter), so the same file name in two folders, or one binary with two
 * argument sets, are two policies with two names (and two files in the job). The sha256 of
 * the binary itself goes into the policy's config (factors.policy_configs in the manifest):
 * a binary rebuilt at the same path runs under the same name but with a different hash.
 */
static int load_external(struct policy_def *p, const char *spec, struct err *e)
{
	struct strv words = { 0 };
	strv_split_push(&words, spec + strlen("external:"));
	if (!words.n || words.v[0][0] != '/') {
		strv_free(&words);
		return errf(e, "external policy '%s': give an absolute path, e.g. external:/usr/bin/scx_simple", spec);
	}
	char bin_sha[65];
	if (access(words.v[0], X_OK) || is_dir(words.v[0]) || sha256_file(words.v[0], bin_sha)) {
		errf(e, "external policy '%s': %s is not an executable file", spec, words.v[0]);
		strv_free(&words);
		return -1;
	}
	/* the identity: the path and each argument, NUL-separated */
	struct sha256 h;
	char id[65];
	sha256_init(&h);
	for (size_t i = 0; i < words.n; i++)
		sha256_update(&h, words.v[i], strlen(words.v[i]) + 1);
	sha256_hex(&h, id);
	const char *base = strrchr(words.v[0], '/') + 1;
	char *name = xasprintf("ext-%s-%.8s", base, id);
	for (char *c = name; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-", *c))
			*c = (*c >= 'A' && *c <= 'Z') ? *c + 32 : '_';
	p->name = name;
	p->external = true;
	p->kind = "scx";
	p->ops_name = "";
	cfg_set(&p->cfg, "policy", "spec", spec);
	cfg_set(&p->cfg, "policy", "loader", words.v[0]);
	cfg_set(&p->cfg, "policy", "sha256", bin_sha);
	p->loader = cfg_get(&p->cfg, "policy", "loader");
	/* the arguments, as given after the path */
	const char *rest = strstr(spec, words.v[0]) + strlen(words.v[0]);
	while (*rest == ' ' || *rest == '\t')
		rest++;
	cfg_set(&p->cfg, "policy", "args", rest);
	p->args = cfg_get(&p->cfg, "policy", "args");
	strv_free(&words);
	return 0;
}

static int load_policy(struct policy_def *p, const char *configs_dir, const char *name, struct err *e)
{
	if (!strncmp(name, "external:", 9))
		return load_external(p, name, e);
	p->name = xstrdup(name);
	if (load_named(configs_dir, "policies", "policy", name, &p->cfg, e))
		return -1;
	if (cfg_get_choice(&p->cfg, "policy", "kind", NULL, "cfs|scx", &p->kind, e))
		return -1;
	p->ops_name = cfg_get(&p->cfg, "policy", "ops_name");
	p->loader = cfg_get(&p->cfg, "policy", "loader");
	p->args = cfg_get(&p->cfg, "policy", "args");
	if (!p->args)
		p->args = "";
	if (!strcmp(p->kind, "scx")) {
		if (cfg_require(&p->cfg, "policy", "ops_name", &p->ops_name, e) ||
		    cfg_require(&p->cfg, "policy", "loader", &p->loader, e) ||
		    check_name("loader", p->loader, e))
			return -1;
	} else {
		p->ops_name = "";
		p->loader = "";
	}
	return cfg_get_long(&p->cfg, "inject", "sysrq_after_s", 0, 0, 3600, &p->sysrq_after_s, e);
}

static int load_workload(struct workload_def *w, const char *configs_dir, const char *name, struct err *e)
{
	w->name = xstrdup(name);
	if (load_named(configs_dir, "workloads", "workload", name, &w->cfg, e))
		return -1;
	if (cfg_require(&w->cfg, "workload", "dir", &w->dir, e) ||
	    cfg_require(&w->cfg, "workload", "start", &w->start, e) ||
	    cfg_require(&w->cfg, "workload", "client", &w->client, e) ||
	    cfg_require(&w->cfg, "workload", "stop", &w->stop, e) ||
	    cfg_require(&w->cfg, "workload", "headline", &w->headline, e) ||
	    cfg_get_long(&w->cfg, "workload", "duration", 10, 1, 3600, &w->duration, e) ||
	    cfg_get_long(&w->cfg, "workload", "warmup", 0, 0, 600, &w->warmup, e))
		return -1;
	return 0;
}

static int load_vm(struct experiment *x, const char *configs_dir, const struct request *r, struct err *e)
{
	x->vm_name = (r->vm && *r->vm) ? r->vm : "default";
	if (load_named(configs_dir, "vms", "VM", x->vm_name, &x->vm, e))
		return -1;
	int rc;
	const char *def_clock;
	if (cfg_get_long(&x->vm, "vm", "vcpus", 2, 1, 64, &x->vcpus, e) ||
	    cfg_get_long(&x->vm, "vm", "threads_per_core", 1, 1, 2, &x->threads_per_core, e) ||
	    cfg_get_long(&x->vm, "vm", "memory_mb", 2048, 256, 65536, &x->memory_mb, e) ||
	    cfg_get_long(&x->vm, "vm", "boot_timeout", 180, 10, 3600, &x->boot_timeout, e) ||
	    cfg_get_long(&x->vm, "vm", "results_disk_mb", 256, 16, 16384, &x->results_disk_mb, e) ||
	    cfg_get_long(&x->vm, "run", "load_timeout", 15, 1, 600, &x->load_timeout, e) ||
	    cfg_require(&x->vm, "vm", "qemu", &x->qemu, e) ||
	    cfg_require(&x->vm, "vm", "cpu", &x->cpu, e) ||
	    cfg_require(&x->vm, "vm", "cmdline", &x->cmdline, e) ||
	    cfg_get_choice(&x->vm, "vm", "default_clock", "virtual", "virtual|real", &def_clock, e))
		return -1;
	if (x->vcpus % x->threads_per_core)
		return errf(e, "%s: vcpus = %ld is not a multiple of threads_per_core = %ld", x->vm.path,
			    x->vcpus, x->threads_per_core);
	x->clock = (r->clock && *r->clock) ? r->clock : def_clock;
	if (strcmp(x->clock, "virtual") && strcmp(x->clock, "real"))
		return errf(e, "CLOCK = '%s' is not a clock; choose from: virtual (deterministic guest time, "
			    "QEMU -icount) or real (multi-threaded TCG on wall-clock time)", x->clock);
	char *sec = xasprintf("clock.%s", x->clock);
	rc = cfg_require(&x->vm, sec, "accel", &x->accel, e);
	x->icount = cfg_get(&x->vm, sec, "icount");
	if (!x->icount)
		x->icount = "";
	free(sec);
	return rc;
}

/* A policy's [requires] section: the least VM it can run on (e.g. pair needs SMT siblings). */
static int check_requirements(const struct experiment *x, const struct policy_def *p, struct err *e)
{
	static const struct { const char *key; size_t off; } reqs[] = {
		{ "threads_per_core", offsetof(struct experiment, threads_per_core) },
		{ "vcpus", offsetof(struct experiment, vcpus) },
	};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		long want, have = *(const long *)((const char *)x + reqs[i].off);
		if (cfg_get_long(&p->cfg, "requires", reqs[i].key, 0, 0, 1024, &want, e))
			return -1;
		if (have < want)
			return errf(e, "policy %s needs a VM with %s >= %ld, but VM '%s' (%s) has %ld; choose a VM "
				    "that has it (VM=smt gives SMT siblings)", p->name, reqs[i].key, want, x->vm_name,
				    x->vm.path, have);
	}
	return 0;
}

/*
 * Instance overrides must name parameters the workload has. Several instances need their own
 * ports: one without a port override gets the workload's port + (K - 1).
 */
static int check_instances(struct experiment *x, struct err *e)
{
	const char *port = cfg_get(&x->wl.cfg, "params", "port");
	for (size_t i = 0; i < x->tree.ninst; i++) {
		struct cginstance *in = &x->tree.inst[i];
		struct strv w = { 0 };
		bool has_port = false;
		strv_split_push(&w, in->params);
		for (size_t j = 0; j < w.n; j++) {
			char *eq = strchr(w.v[j], '=');
			if (!eq || eq == w.v[j]) {
				errf(e, "cgroup tree %s: instance %zu: params '%s' is not key=value", x->tree.name, i + 1, w.v[j]);
				strv_free(&w);
				return -1;
			}
			*eq = '\0';
			if (!cfg_get(&x->wl.cfg, "params", w.v[j])) {
				errf(e, "cgroup tree %s: instance %zu overrides '%s', which workload %s does not have",
				     x->tree.name, i + 1, w.v[j], x->wl.name);
				strv_free(&w);
				return -1;
			}
			has_port |= !strcmp(w.v[j], "port");
		}
		strv_free(&w);
		if (port && !has_port && x->tree.ninst > 1) {
			char *p = xasprintf("%s%sport=%ld", in->params, *in->params ? " " : "", atol(port) + (long)i);
			free(in->params);
			in->params = p;
		}
	}
	return 0;
}

int experiment_load(struct experiment *x, const char *configs_dir, const struct request *r, struct err *e)
{
	memset(x, 0, sizeof(*x));
	e->msg[0] = '\0';
	if (!is_dir(configs_dir))
		return errf(e, "config folder %s does not exist", configs_dir);
	if (load_vm(x, configs_dir, r, e))
		return -1;
	x->target = (r->target && *r->target) ? r->target : "vm";
	if (strcmp(x->target, "vm") && strcmp(x->target, "host"))
		return errf(e, "TARGET = '%s' is not a target; choose from: vm (boot the pinned sched_ext guest "
			    "under QEMU) or host (this machine's own kernel, which must have sched_ext)", x->target);

	struct strv names = { 0 };
	if (r->policy && *r->policy) {
		strv_push(&names, r->policy);
	} else if (r->policies && strchr(r->policies, ';')) {
		char *copy = xstrdup(r->policies), *save = NULL;
		for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save))
			if (*trim(t))
				strv_push(&names, trim(t));
		free(copy);
	} else {
		strv_split_push(&names, r->policies ? r->policies : "");
	}
	if (!names.n) {
		strv_free(&names);
		char *dir = xasprintf("%s/policies", configs_dir), *all = config_names(dir);
		errf(e, "no policy given; choose from: %s", all);
		free(all);
		free(dir);
		return -1;
	}
	x->pol = xmalloc(names.n * sizeof(*x->pol));
	for (size_t i = 0; i < names.n; i++) {
		for (size_t j = 0; j < i; j++)
			if (!strcmp(names.v[i], names.v[j])) {
				errf(e, "policy '%s' is listed twice", names.v[i]);
				strv_free(&names);
				return -1;
			}
		x->npol = i + 1;
		if (load_policy(&x->pol[i], configs_dir, names.v[i], e)) {
			strv_free(&names);
			return -1;
		}
		/* external policies are named by path and arguments: one job file and one name each */
		for (size_t j = 0; j < i; j++)
			if (!strcmp(x->pol[i].name, x->pol[j].name)) {
				errf(e, "policies '%s' and '%s' are the same policy (both named %s: the same binary with the "
				     "same arguments); list it once", names.v[j], names.v[i], x->pol[i].name);
				strv_free(&names);
				return -1;
			}
	}
	strv_free(&names);
	for (size_t i = 0; i < x->npol; i++)
		if (check_requirements(x, &x->pol[i], e))
			return -1;

	if (!r->workload || !*r->workload) {
		char *dir = xasprintf("%s/workloads", configs_dir), *all = config_names(dir);
		errf(e, "no workload given; choose from: %s", all);
		free(all);
		free(dir);
		return -1;
	}
	if (load_workload(&x->wl, configs_dir, r->workload, e))
		return -1;
	if (r->params && *r->params) {
		struct strv w = { 0 };
		strv_split_push(&w, r->params);
		for (size_t i = 0; i < w.n; i++) {
			char *eq = strchr(w.v[i], '=');
			if (eq)
				*eq = '\0';
			if (!eq || !cfg_get(&x->wl.cfg, "params", w.v[i])) {
				char *known = xstrdup("");
				for (size_t k = 0; k < x->wl.cfg.n; k++)
					if (!strcmp(x->wl.cfg.v[k].section, "params")) {
						char *n = xasprintf("%s%s%s", known, *known ? " " : "", x->wl.cfg.v[k].key);
						free(known);
						known = n;
					}
				errf(e, "PARAMS: '%s' is not key=value with a parameter of workload %s (it has: %s)",
				     w.v[i], x->wl.name, known);
				free(known);
				strv_free(&w);
				return -1;
			}
			cfg_set(&x->wl.cfg, "params", w.v[i], eq + 1);
		}
		strv_free(&w);
	}
	x->duration = x->wl.duration;
	x->warmup = x->wl.warmup;
	x->repeats = 1;
	if (r->duration && *r->duration && parse_long(r->duration, 1, 3600, "DURATION (seconds)", &x->duration, e))
		return -1;
	if (r->repeats && *r->repeats && parse_long(r->repeats, 1, 1000, "REPEATS", &x->repeats, e))
		return -1;
	struct strv mons = { 0 };
	/* "none" says it explicitly (sweeps use it as a matrix value) */
	const char *monitors = r->monitors && strcmp(r->monitors, "none") ? r->monitors : "";
	strv_split_push(&mons, monitors);
	for (size_t i = 0; i < mons.n; i++) {
		if (!has_word(EXTRA_MONITORS, mons.v[i])) {
			errf(e, "MONITORS: unknown monitor '%s'; choose from: %s", mons.v[i], EXTRA_MONITORS);
			strv_free(&mons);
			return -1;
		}
	}
	x->monitors = monitors;
	strv_free(&mons);
	if (r->precision && *r->precision) {
		char *end;
		x->precision_pct = strtod(r->precision, &end);
		if (*end || !(x->precision_pct >= 0.1 && x->precision_pct <= 50))
			return errf(e, "PRECISION = '%s': give the target half-width of the 95%% confidence interval "
				    "of each ratio to cfs, in percent (0.1 to 50)", r->precision);
		if (r->repeats && *r->repeats)
			return errf(e, "REPEATS and PRECISION exclude each other: PRECISION adds runs until it is "
				    "reached; cap them with MAX_REPEATS");
		bool has_cfs = false;
		for (size_t i = 0; i < x->npol; i++)
			has_cfs |= !strcmp(x->pol[i].name, "cfs");
		if (!has_cfs || x->npol < 2)
			return errf(e, "PRECISION needs cfs and at least one other policy in POLICIES (ratios are to cfs)");
		x->min_repeats = 3;
		x->repeats = 30;
		if (r->max_repeats && *r->max_repeats &&
		    parse_long(r->max_repeats, x->min_repeats, 1000, "MAX_REPEATS", &x->repeats, e))
			return -1;
	} else if (r->max_repeats && *r->max_repeats) {
		return errf(e, "MAX_REPEATS only applies with PRECISION= (use REPEATS= for a fixed number)");
	}
	if (r->cgroups && *r->cgroups) {
		x->has_tree = true;
		if (cgtree_load(&x->tree, configs_dir, r->cgroups, e) || check_instances(x, e))
			return -1;
	}
	return 0;
}

void experiment_free(struct experiment *x)
{
	for (size_t i = 0; i < x->npol; i++) {
		free(x->pol[i].name);
		cfg_free(&x->pol[i].cfg);
	}
	free(x->pol);
	free(x->wl.name);
	cfg_free(&x->wl.cfg);
	if (x->has_tree)
		cgtree_free(&x->tree);
	cfg_free(&x->vm);
	memset(x, 0, sizeof(*x));
}

size_t experiment_nruns(const struct experiment *x)
{
	return x->npol * (size_t)x->repeats;
}

size_t experiment_run_policy(const struct experiment *x, size_t k)
{
	size_t repeat = k / x->npol, slot = k % x->npol;
	return (slot + repeat) % x->npol;
}

void experiment_plan(const struct experiment *x, struct cfg *plan)
{
	char buf[64];
	memset(plan, 0, sizeof(*plan));
	cfg_set(plan, "plan", "workload", x->wl.name);
	snprintf(buf, sizeof(buf), "%zu", experiment_nruns(x));
	cfg_set(plan, "plan", "runs", buf);
	snprintf(buf, sizeof(buf), "%ld", x->duration);
	cfg_set(plan, "plan", "duration", buf);
	snprintf(buf, sizeof(buf), "%ld", x->warmup);
	cfg_set(plan, "plan", "warmup", buf);
	snprintf(buf, sizeof(buf), "%ld", x->load_timeout);
	cfg_set(plan, "plan", "load_timeout", buf);
	cfg_set(plan, "plan", "clock", x->clock);
	cfg_set(plan, "plan", "target", x->target);
	cfg_set(plan, "plan", "monitors", x->monitors ? x->monitors : "");
	if (x->has_tree)
		cgtree_to_cfg(&x->tree, plan);
	struct strv names = { 0 };
	for (size_t i = 0; i < x->npol; i++)
		strv_push(&names, x->pol[i].name);
	char *joined = strv_join(&names, " ");
	cfg_set(plan, "plan", "policies", joined);
	free(joined);
	strv_free(&names);
	snprintf(buf, sizeof(buf), "%g", x->precision_pct);
	cfg_set(plan, "plan", "precision_pct", buf);
	snprintf(buf, sizeof(buf), "%ld", x->min_repeats);
	cfg_set(plan, "plan", "min_repeats", buf);

	char *wdir = xasprintf("workloads/%s", x->wl.name);
	cfg_set(plan, "workload", "dir", wdir);
	free(wdir);
	cfg_set(plan, "workload", "start", x->wl.start);
	cfg_set(plan, "workload", "client", x->wl.client);
	cfg_set(plan, "workload", "stop", x->wl.stop);
	cfg_set(plan, "workload", "headline", x->wl.headline);
	for (size_t i = 0; i < x->wl.cfg.n; i++)
		if (!strcmp(x->wl.cfg.v[i].section, "params"))
			cfg_set(plan, "workload.params", x->wl.cfg.v[i].key, x->wl.cfg.v[i].value);

	for (size_t k = 0; k < experiment_nruns(x); k++) {
		const struct policy_def *p = &x->pol[experiment_run_policy(x, k)];
		char sec[32];
		snprintf(sec, sizeof(sec), "run.%zu", k + 1);
		cfg_set(plan, sec, "policy", p->name);
		cfg_set(plan, sec, "kind", p->kind);
		cfg_set(plan, sec, "ops_name", p->ops_name);
		char *loader = p->external ? xasprintf("bin/%s", p->name)
					   : *p->loader ? xasprintf("bin/%s", p->loader) : xstrdup("");
		cfg_set(plan, sec, "loader", loader);
		free(loader);
		cfg_set(plan, sec, "external", p->external ? "1" : "0");
		snprintf(buf, sizeof(buf), "%ld", p->sysrq_after_s);
		cfg_set(plan, sec, "sysrq_after_s", buf);
		cfg_set(plan, sec, "args", p->args);
		snprintf(buf, sizeof(buf), "%zu", k / x->npol + 1);
		cfg_set(plan, sec, "repeat", buf);
	}
}
