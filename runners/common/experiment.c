#include "experiment.h"
#include "qemu.h"
#include "selfcheck.h"
#include "sha256.h"

#include <limits.h>
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
		      const struct cfg_schema *schema, struct cfg *c, struct err *e)
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
		rc = cfg_load(c, path, schema, e);
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

/*
 * "loader = kscx:scx_simple": one of the kernel's own example schedulers (tools/sched_ext of
 * Debian's linux-source package of the guest kernel's version), built by kernel/kscx-build.sh
 * into $KSCX_DIR/bin/ (make setup; build/setup.env). It runs like an external scheduler (no
 * scxlab loader options, exit info from the kernel) but its ops name is checked. The binary's
 * sha256 and the source package's version go into the policy's config (the manifest's
 * factors.policy_configs.<name>).
 */
static int load_kscx(struct policy_def *p, const char *prog, struct err *e)
{
	const char *dir = getenv("KSCX_DIR");
	if (check_name("kscx loader", prog, e))
		return -1;
	if (!dir || !*dir)
		return errf(e, "policy %s needs the kernel's example scheduler %s, but none are built (KSCX_DIR is not "
			    "set in build/setup.env); run 'make setup' and read what it says about them", p->name, prog);
	char *bin = xasprintf("%s/bin/%s", dir, prog), *pkgf = xasprintf("%s/package", dir);
	char *pkg = read_line_file(pkgf), bin_sha[65];
	int rc = 0;
	if (access(bin, X_OK) || is_dir(bin) || sha256_file(bin, bin_sha))
		rc = errf(e, "policy %s: the kernel's example scheduler %s was not built (no %s; %s/built.txt says "
			  "which were and %s/build.log why)", p->name, prog, bin, dir, dir);
	else if (!pkg || !*pkg)
		rc = errf(e, "policy %s: %s does not say which source package %s came from; rerun 'make setup'",
			  p->name, pkgf, prog);
	if (!rc) {
		p->external = true;
		cfg_set(&p->cfg, "policy", "spec", p->name);	/* a request names it by its config */
		cfg_set(&p->cfg, "policy", "sha256", bin_sha);
		cfg_set(&p->cfg, "policy", "kscx_package", pkg);
		cfg_set(&p->cfg, "policy", "kscx_binary", bin);
		p->loader = cfg_get(&p->cfg, "policy", "kscx_binary");
	}
	free(pkg);
	free(pkgf);
	free(bin);
	return rc;
}

static int load_policy(struct policy_def *p, const char *configs_dir, const char *name, struct err *e)
{
	if (!strncmp(name, "external:", 9))
		return load_external(p, name, e);
	p->name = xstrdup(name);
	if (load_named(configs_dir, "policies", "policy", name, &CFG_POLICY, &p->cfg, e))
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
		    cfg_require(&p->cfg, "policy", "loader", &p->loader, e))
			return -1;
		if (!strncmp(p->loader, "kscx:", 5) ? load_kscx(p, p->loader + 5, e) : check_name("loader", p->loader, e))
			return -1;
	} else {
		p->ops_name = "";
		p->loader = "";
	}
	return cfg_get_long(&p->cfg, "inject", "sysrq_after_s", 0, 0, 3600, &p->sysrq_after_s, e);
}

/* The names of a section's keys, space-separated; caller frees. */
static char *section_keys(const struct cfg *c, const char *section)
{
	struct strv keys = { 0 };
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].section, section))
			strv_push(&keys, c->v[i].key);
	char *s = strv_join(&keys, " ");
	strv_free(&keys);
	return s;
}

/* One value of a workload parameter against its type in [types]; where says who set it. */
static int check_param(const struct workload_def *w, const char *key, const char *value, const char *where,
		       struct err *e)
{
	const char *type = cfg_get(&w->cfg, "types", key);
	if (!cfg_get(&w->cfg, "params", key) || !type) {
		struct strv names = { 0 };
		char *known = section_keys(&w->cfg, "params");
		strv_split_push(&names, known);
		const char *near = cfg_nearest(key, (const char *const *)names.v, names.n);
		errf(e, "%s: workload %s has no parameter '%s'%s%s%s (it has: %s)", where, w->name, key,
		     near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "", known);
		strv_free(&names);
		free(known);
		return -1;
	}
	char *what = xasprintf("%s: %s (%s)", where, key, type);
	int rc = cfg_check_type(type, value, what, e);
	free(what);
	return rc;
}

/* "key=value ..." overrides of the workload's params, each checked, into section "params" of out. */
static int parse_overrides(const struct workload_def *w, const char *list, const char *where, struct cfg *out,
			   struct err *e)
{
	struct strv words = { 0 };
	int rc = 0;
	memset(out, 0, sizeof(*out));
	strv_split_push(&words, list ? list : "");
	for (size_t i = 0; i < words.n && !rc; i++) {
		char *eq = strchr(words.v[i], '=');
		if (!eq || eq == words.v[i]) {
			rc = errf(e, "%s: '%s' is not key=value", where, words.v[i]);
			break;
		}
		*eq = '\0';
		if (cfg_get(out, "params", words.v[i]))
			rc = errf(e, "%s: parameter '%s' is given twice", where, words.v[i]);
		else if (!(rc = check_param(w, words.v[i], eq + 1, where, e)))
			cfg_set(out, "params", words.v[i], eq + 1);
	}
	strv_free(&words);
	return rc;
}

/* Every [params] key has a type in [types] (and the reverse), and its default is of that type. */
static int check_param_types(const struct workload_def *w, struct err *e)
{
	const struct cfg *c = &w->cfg;
	/* [types] first, so that a bad type is reported where it is written */
	for (size_t i = 0; i < 2 * c->n; i++) {
		const struct cfg_entry *en = &c->v[i % c->n];
		const char *other = !strcmp(en->section, "params") ? "types" : !strcmp(en->section, "types") ? "params" : NULL;
		if (!other || (i < c->n) != !strcmp(en->section, "types"))
			continue;
		if (strspn(en->key, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(en->key) ||
		    !(en->key[0] >= 'a' && en->key[0] <= 'z'))
			return errf(e, "%s:%d: parameter name '%s' must be lower-case letters, digits and '_' (it becomes "
				    "the variable WL_%s)", c->path, en->line, en->key, en->key);
		if (!cfg_get(c, other, en->key))
			return errf(e, "%s:%d: [%s] %s has no [%s] %s; every parameter needs a default in [params] and "
				    "a type in [types] (int MIN MAX, choice A|B|..., word)", c->path, en->line,
				    en->section, en->key, other, en->key);
		char *what = xasprintf("%s:%d: [%s] %s", c->path, en->line, en->section, en->key);
		int rc = !strcmp(en->section, "types") ? cfg_check_type_spec(en->value, what, e)
						       : cfg_check_type(cfg_get(c, "types", en->key), en->value, what, e);
		free(what);
		if (rc)
			return -1;
	}
	return 0;
}

/* [workload] programs: the program names its scripts run, each a word (they are looked up on PATH). */
static int load_programs(struct workload_def *w, struct err *e)
{
	w->programs = cfg_get(&w->cfg, "workload", "programs") ?: "";
	struct strv words = { 0 };
	strv_split_push(&words, w->programs);
	int rc = 0;
	for (size_t i = 0; i < words.n && !rc; i++) {
		char *what = xasprintf("%s: [workload] programs: '%s'", w->cfg.path, words.v[i]);
		rc = cfg_check_type("word", words.v[i], what, e);
		free(what);
	}
	strv_free(&words);
	return rc;
}

static int load_workload(struct workload_def *w, const char *configs_dir, const char *name, struct err *e)
{
	w->name = xstrdup(name);
	if (load_named(configs_dir, "workloads", "workload", name, &CFG_WORKLOAD, &w->cfg, e))
		return -1;
	if (cfg_require(&w->cfg, "workload", "dir", &w->dir, e) ||
	    cfg_require(&w->cfg, "workload", "start", &w->start, e) ||
	    cfg_require(&w->cfg, "workload", "client", &w->client, e) ||
	    cfg_require(&w->cfg, "workload", "stop", &w->stop, e) ||
	    cfg_require(&w->cfg, "workload", "headline", &w->headline, e) ||
	    load_programs(w, e) ||
	    cfg_get_long(&w->cfg, "workload", "duration", 10, 1, 3600, &w->duration, e) ||
	    cfg_get_long(&w->cfg, "workload", "warmup", 0, 0, 600, &w->warmup, e) ||
	    cfg_get_long(&w->cfg, "workload", "drain", 0, 0, 600, &w->drain, e) ||
	    cfg_get_choice(&w->cfg, "workload", "window", "lifetime", "marks|lifetime", &w->window, e) ||
	    check_param_types(w, e))
		return -1;
	return 0;
}

static int load_vm(struct experiment *x, const char *configs_dir, const struct request *r, struct err *e)
{
	x->vm_name = (r->vm && *r->vm) ? r->vm : "default";
	if (load_named(configs_dir, "vms", "VM", x->vm_name, &CFG_VM, &x->vm, e))
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
	    cfg_get_choice(&x->vm, "vm", "default_clock", "virtual", "virtual|real", &def_clock, e) ||
	    cfg_get_choice(&x->vm, "vm", "initrd", "scxlab", "scxlab|image", &x->initrd, e))
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

/*
 * The accelerator (after load_vm and the target). KVM has only the real clock: guest time
 * is the host's, vCPUs run on host CPUs; the virtual clock counts instructions, which only
 * TCG does. So: ACCEL=kvm takes CLOCK=real (CLOCK=virtual is refused), ACCEL=tcg keeps the
 * clock asked or the VM's default, and ACCEL=auto (the default) takes KVM when this machine's
 * /dev/kvm runs a plain x86 guest (r->kvm_usable, found by the host runner's probe) unless
 * CLOCK=virtual was asked, else TCG. Whether KVM really works when asked is the host runner's
 * check (an infrastructure failure, not bad input).
 */
static int resolve_accel(struct experiment *x, const struct request *r, struct err *e)
{
	const char *want = (r->accel && *r->accel) ? r->accel : "auto";
	bool clock_given = r->clock && *r->clock;
	if (strcmp(want, "auto") && strcmp(want, "kvm") && strcmp(want, "tcg"))
		return errf(e, "ACCEL = '%s' is not an accelerator; choose from: auto (KVM where /dev/kvm works, "
			    "else TCG), kvm, tcg (QEMU's emulator)", want);
	if (!strcmp(x->target, "host")) {
		if (strcmp(want, "auto"))
			return errf(e, "ACCEL = %s applies to TARGET=vm only: TARGET=host runs on this machine's "
				    "own kernel, with no accelerator", want);
		x->accel_kind = "none";
		x->accel_why = "TARGET=host: no guest";
		x->accel = x->icount = "";
		return 0;
	}
	bool kvm;
	if (!strcmp(want, "kvm")) {
		if (clock_given && !strcmp(x->clock, "virtual"))
			return errf(e, "ACCEL=kvm runs on the real clock only; CLOCK=virtual counts instructions, "
				    "which only TCG does: use CLOCK=real (or leave it out) with ACCEL=kvm, or ACCEL=tcg");
		kvm = true;
		x->accel_why = "ACCEL=kvm";
	} else if (!strcmp(want, "tcg")) {
		kvm = false;
		x->accel_why = "ACCEL=tcg";
	} else if (clock_given && !strcmp(x->clock, "virtual")) {
		kvm = false;
		x->accel_why = "auto: CLOCK=virtual needs TCG";
	} else {
		kvm = r->kvm_usable;
		x->accel_why = kvm ? "auto: /dev/kvm runs a guest" : "auto: no usable KVM, TCG instead";
		x->accel_fell_back = !kvm;
	}
	x->accel_kind = kvm ? "kvm" : "tcg";
	if (!kvm)
		return 0;
	x->clock = "real";
	x->icount = "";
	if (cfg_require(&x->vm, "accel.kvm", "accel", &x->accel, e) ||
	    cfg_require(&x->vm, "accel.kvm", "cpu", &x->cpu, e))
		return -1;
	return 0;
}

/*
 * ICOUNT_SHIFT= chooses the virtual clock's time model, so it means CLOCK=virtual (given for
 * ACCEL=auto's choice too: it takes TCG) and is refused where there is no instruction count:
 * CLOCK=real, ACCEL=kvm, TARGET=host. Checked before the VM config is read, so that the error
 * is about the request.
 */
static int check_icount_shift(const struct request *r, const char *target, struct request *on_target,
			      struct err *e)
{
	if (!r->icount_shift || !*r->icount_shift)
		return 0;
	long n;
	if (parse_long(r->icount_shift, 0, ICOUNT_SHIFT_MAX, "ICOUNT_SHIFT", &n, e))
		return errf(e, "ICOUNT_SHIFT = '%s': give the virtual clock's -icount shift, a whole number from 0 "
			    "to %d (each guest instruction lasts 2^shift ns of guest time; without it, the VM config's "
			    "[clock.virtual] icount decides)",
			    r->icount_shift, ICOUNT_SHIFT_MAX);
	if (!strcmp(target, "host"))
		return errf(e, "ICOUNT_SHIFT = %s does not go with TARGET=host: the host's kernel runs on wall-clock "
			    "time, with no instruction count", r->icount_shift);
	if (r->clock && *r->clock && strcmp(r->clock, "virtual"))
		return errf(e, "ICOUNT_SHIFT = %s sets the virtual clock's time model; CLOCK = '%s' has none: give "
			    "CLOCK=virtual (or leave CLOCK out), or leave ICOUNT_SHIFT out", r->icount_shift, r->clock);
	if (r->accel && !strcmp(r->accel, "kvm"))
		return errf(e, "ICOUNT_SHIFT = %s sets the virtual clock's time model, which only TCG has; ACCEL=kvm "
			    "runs on the real clock: use ACCEL=tcg (or leave ACCEL out), or leave ICOUNT_SHIFT out",
			    r->icount_shift);
	on_target->clock = "virtual";
	return 0;
}

/* The -icount the guest boots with: the VM config's, its shift replaced by ICOUNT_SHIFT=; and
 * the shift recorded (factors.icount_shift) either way. After resolve_accel (KVM drops icount). */
static int apply_icount_shift(struct experiment *x, const struct request *r, struct err *e)
{
	if (r->icount_shift && *r->icount_shift) {
		if (!*x->icount)
			return errf(e, "ICOUNT_SHIFT = %s: %s has no -icount under the virtual clock ([clock.virtual] "
				    "icount =), so there is no shift to set", r->icount_shift, x->vm.path);
		x->icount = x->icount_owned = icount_with_shift(x->icount, strtol(r->icount_shift, NULL, 10));
	}
	x->icount_shift = icount_shift_of(x->icount);
	return 0;
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
		struct cfg over;
		char *where = xasprintf("cgroup tree %s: instance %zu: params", x->tree.name, i + 1);
		int rc = parse_overrides(&x->wl, in->params, where, &over, e);
		bool has_port = cfg_get(&over, "params", "port");
		cfg_free(&over);
		long base;
		if (!rc && port && !has_port && x->tree.ninst > 1) {
			/* port was checked against its type: a number */
			parse_long(port, LONG_MIN, LONG_MAX, "port", &base, e);
			char *p = xasprintf("%s%sport=%ld", in->params, *in->params ? " " : "", base + (long)i);
			free(in->params);
			in->params = p;
			rc = parse_overrides(&x->wl, in->params, where, &over, e);	/* the port it gets fits */
			cfg_free(&over);
		}
		free(where);
		if (rc)
			return -1;
	}
	return 0;
}

/* The value of a plan key as a whole number, or an error naming the plan. */
static int plan_long(const struct cfg *p, const char *sec, const char *key, long def, long min, long max, struct err *e)
{
	long v;
	return cfg_get_long(p, sec, key, def, min, max, &v, e);
}

/* Every value of a "key=value ..." list is a word (it becomes a WL_* variable of a script). */
static int plan_words(const struct cfg *p, const char *sec, const char *key, const char *list, struct err *e)
{
	struct strv w = { 0 };
	int rc = 0;
	strv_split_push(&w, list);
	for (size_t i = 0; i < w.n && !rc; i++) {
		char *eq = strchr(w.v[i], '=');
		if (!eq) {
			rc = errf(e, "%s: [%s] %s: '%s' is not key=value", p->path, sec, key, w.v[i]);
			break;
		}
		char *what = xasprintf("%s: [%s] %s: %.*s", p->path, sec, key, (int)(eq - w.v[i]), w.v[i]);
		rc = cfg_check_type("word", eq + 1, what, e);
		free(what);
	}
	strv_free(&w);
	return rc;
}

int plan_check(const struct cfg *p, struct err *e)
{
	long runs;
	double pct;
	const char *v;
	if (cfg_has_section(p, "selfcheck"))	/* a selfcheck job: inner experiments, no runs of its own */
		return selfcheck_plan_check(p, e);
	if (cfg_get_long(p, "plan", "runs", 0, 1, 100000, &runs, e) ||
	    plan_long(p, "plan", "duration", 0, 1, 3600, e) || plan_long(p, "plan", "warmup", 0, 0, 600, e) ||
	    plan_long(p, "plan", "drain", 0, 0, 600, e) ||
	    plan_long(p, "plan", "load_timeout", 15, 1, 600, e) || plan_long(p, "plan", "min_repeats", 3, 0, 1000, e) ||
	    cfg_get_choice(p, "plan", "clock", "virtual", "virtual|real", &v, e) ||
	    cfg_get_choice(p, "plan", "target", "vm", "vm|host", &v, e) ||
	    cfg_get_choice(p, "workload", "window", "lifetime", "marks|lifetime", &v, e))
		return -1;
	if ((v = cfg_get(p, "plan", "precision_pct")) && parse_double(v, 0, 50, "plan: [plan] precision_pct", &pct, e))
		return -1;
	static const char *const wl_keys[] = { "dir", "start", "client", "stop", "headline" };
	for (size_t i = 0; i < sizeof(wl_keys) / sizeof(wl_keys[0]); i++)
		if (cfg_require(p, "workload", wl_keys[i], &v, e))
			return -1;
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->v[i].section, "workload.params"))
			continue;
		char *what = xasprintf("%s: [workload.params] %s", p->path, p->v[i].key);
		int bad = cfg_check_type("word", p->v[i].value, what, e);
		free(what);
		if (bad)
			return -1;
	}
	for (long k = 1; k <= runs; k++) {
		char sec[32];
		snprintf(sec, sizeof(sec), "run.%ld", k);
		static const char *const run_keys[] = { "policy", "kind", "ops_name", "loader", "args", "repeat" };
		for (size_t i = 0; i < sizeof(run_keys) / sizeof(run_keys[0]); i++)
			if (!cfg_get(p, sec, run_keys[i]))
				return errf(e, "%s: plan section [%s] is incomplete: it lacks %s", p->path, sec, run_keys[i]);
		if (cfg_get_choice(p, sec, "kind", NULL, "cfs|scx", &v, e) ||
		    cfg_get_choice(p, sec, "external", "0", "0|1", &v, e) ||
		    plan_long(p, sec, "sysrq_after_s", 0, 0, 3600, e) || plan_long(p, sec, "repeat", 1, 1, 100000, e))
			return -1;
	}
	if (!cfg_has_section(p, "tree"))
		return 0;
	struct cgtree t;
	int rc = cgtree_from_cfg(&t, p, cfg_get(p, "tree", "name") ?: "", e);
	for (size_t i = 0; !rc && i < t.ninst; i++) {
		char sec[32];
		snprintf(sec, sizeof(sec), "instance.%zu", i + 1);
		rc = plan_words(p, sec, "params", t.inst[i].params, e);
	}
	cgtree_free(&t);
	return rc;
}

int plan_load(struct cfg *plan, const char *path, struct err *e)
{
	return cfg_load(plan, path, &CFG_PLAN, e) || plan_check(plan, e) ? -1 : 0;
}

/*
 * The plan the guest will read, checked here as the guest will read it: every line fits
 * inih's buffer, every value reads back as written (inih strips blanks and cuts " ;"
 * comments), and plan_check() (the guest's own checks) passes. So nothing that the host
 * accepted fails in the guest after a boot.
 */
static int check_plan_travels(const struct experiment *x, struct err *e)
{
	struct cfg plan, back = { 0 };
	experiment_plan(x, &plan);
	int rc = 0;
	for (size_t i = 0; i < plan.n && !rc; i++) {
		const struct cfg_entry *en = &plan.v[i];
		if (strlen(en->key) + strlen(" = ") + strlen(en->value) > CFG_MAX_LINE)
			rc = errf(e, "[%s] %s = '%.40s...' is %zu characters long; a line of the guest's plan holds at most "
				  "%d", en->section, en->key, en->value, strlen(en->value), CFG_MAX_LINE);
	}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!rc && (!f || cfg_write(&plan, f)))
		rc = errf(e, "cannot write the plan in memory");
	if (f)
		fclose(f);
	if (!rc && !(rc = cfg_parse_text(&back, "plan.ini", text, &CFG_PLAN, e))) {
		for (size_t i = 0; i < plan.n && !rc; i++) {
			const struct cfg_entry *en = &plan.v[i];
			const char *got = cfg_get(&back, en->section, en->key);
			if (!got || strcmp(got, en->value))
				rc = errf(e, "[%s] %s = '%s' would reach the guest as '%s' (plan.ini cannot carry leading or "
					  "trailing blanks, ' ;' or line breaks in a value)", en->section, en->key, en->value,
					  got ? got : "(nothing)");
		}
		if (!rc)
			rc = plan_check(&back, e);
	}
	cfg_free(&back);
	free(text);
	cfg_free(&plan);
	return rc;
}

int experiment_load(struct experiment *x, const char *configs_dir, const struct request *r, struct err *e)
{
	memset(x, 0, sizeof(*x));
	e->msg[0] = '\0';
	if (!is_dir(configs_dir))
		return errf(e, "config folder %s does not exist", configs_dir);
	const char *target = (r->target && *r->target) ? r->target : "vm";
	if (strcmp(target, "vm") && strcmp(target, "host"))
		return errf(e, "TARGET = '%s' is not a target; choose from: vm (boot the pinned sched_ext guest "
			    "under QEMU) or host (this machine's own kernel, which must have sched_ext)", target);
	/* a host runs on its own wall clock: its results say clock=real, never the guest's virtual one */
	struct request on_target = *r;
	if (!strcmp(target, "host")) {
		if (r->clock && *r->clock && strcmp(r->clock, "real"))
			return errf(e, "CLOCK = '%s' does not go with TARGET=host: the host's kernel runs on wall-clock "
				    "time (real); leave CLOCK out or give CLOCK=real", r->clock);
		on_target.clock = "real";
	}
	if (check_icount_shift(r, target, &on_target, e) || load_vm(x, configs_dir, &on_target, e))
		return -1;
	x->target = target;
	if (resolve_accel(x, &on_target, e) || apply_icount_shift(x, r, e))
		return -1;

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
		struct cfg over;
		if (parse_overrides(&x->wl, r->params, "PARAMS", &over, e)) {
			cfg_free(&over);
			return -1;
		}
		for (size_t i = 0; i < over.n; i++)
			cfg_set(&x->wl.cfg, "params", over.v[i].key, over.v[i].value);
		cfg_free(&over);
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
		if (parse_double(r->precision, 0.1, 50, "PRECISION", &x->precision_pct, e))
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
	return check_plan_travels(x, e);
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
	free(x->icount_owned);
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
	snprintf(buf, sizeof(buf), "%ld", x->warmup > 0 ? x->wl.drain : 0);	/* nothing to drain without a warm-up */
	cfg_set(plan, "plan", "drain", buf);
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
	cfg_set(plan, "workload", "window", x->wl.window);
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

char *request_command(const char *prefix, const struct request *r)
{
	const struct { const char *var, *value; } given[] = {
		{ "POLICY", r->policy },	{ "POLICIES", r->policies }, { "WORKLOAD", r->workload },
		{ "DURATION", r->duration },	{ "REPEATS", r->repeats },   { "CLOCK", r->clock },
		{ "TARGET", r->target },	{ "VM", r->vm },	     { "MONITORS", r->monitors },
		{ "CGROUPS", r->cgroups },	{ "PARAMS", r->params },     { "PRECISION", r->precision },
		{ "MAX_REPEATS", r->max_repeats }, { "ACCEL", r->accel }, { "ICOUNT_SHIFT", r->icount_shift },
	};
	struct strv words = { 0 };
	strv_push(&words, prefix);
	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++) {
		if (!given[i].value || !*given[i].value)
			continue;
		char *q = shell_quote(given[i].value);
		strv_pushf(&words, "%s=%s", given[i].var, q);
		free(q);
	}
	char *s = strv_join(&words, " ");
	strv_free(&words);
	return s;
}
