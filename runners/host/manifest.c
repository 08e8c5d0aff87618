/*
 * What a result says about itself, written into the staging folder once the target stopped:
 * manifest.json (every factor of the setup, built part by part below: runs, factors, software,
 * host, times, precision), summary.json (the headline per policy, also printed), reproduce.sh
 * (its text: runners/common/reproduce.c) and INVALID with the reasons when a run is invalid.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "checkout.h"
#include "config.h"
#include "experiment.h"
#include "fingerprint.h"
#include "host.h"
#include "outcome.h"
#include "reproduce.h"
#include "sha256.h"
#include "util.h"

static json_t *load_json(const char *path)
{
	json_error_t e;
	return json_load_file(path, 0, &e);
}

/* Versions of the packages that shape the results, from a dpkg-query listing. */
static json_t *package_versions(const char *listing, const char *const *prefixes)
{
	json_t *o = json_object();
	char *s = read_file(listing, NULL), *save = NULL;
	for (char *l = s ? strtok_r(s, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(l, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		for (const char *const *p = prefixes; *p; p++)
			if (!strncmp(l, *p, strlen(*p)))
				json_object_set_new(o, l, json_string(tab + 1));
	}
	free(s);
	return o;
}

/* lock-deviations.txt of a cached root (kernel/setup.sh): one line per locked package it does not
 * have at its locked version. null when the root predates the locks (nothing was recorded). */
static json_t *lock_deviations(const char *root_dir)
{
	char *path = xasprintf("%s/lock-deviations.txt", root_dir);
	char *text = read_file(path, NULL), *save = NULL;
	free(path);
	if (!text)
		return json_null();
	json_t *a = json_array();
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (*trim(l))
			json_array_append_new(a, json_string(trim(l)));
	free(text);
	return a;
}

static json_t *policy_factors(struct experiment *x)
{
	json_t *o = json_object();
	for (size_t i = 0; i < x->npol; i++) {
		json_t *p = json_object();
		for (size_t k = 0; k < x->pol[i].cfg.n; k++)
			json_object_set_new(p, x->pol[i].cfg.v[k].key, json_string(x->pol[i].cfg.v[k].value));
		json_object_set_new(o, x->pol[i].name, p);
	}
	return o;
}

static json_t *section_object(const struct cfg *c, const char *section)
{
	json_t *o = json_object();
	for (size_t k = 0; k < c->n; k++)
		if (!strcmp(c->v[k].section, section))
			json_object_set_new(o, c->v[k].key, json_string(c->v[k].value));
	return o;
}

/* Per policy: the headline metric over valid runs. Printed, and kept as summary.json. */
static json_t *summarize_runs(struct ctx *c, json_t *runs)
{
	struct experiment *x = &c->x;
	const char **names = xmalloc(x->npol * sizeof(char *));
	for (size_t i = 0; i < x->npol; i++)
		names[i] = x->pol[i].name;
	json_t *out = summary_of_runs(runs, names, x->npol, x->wl.headline);
	free(names);
	/* the unit's summary (hmean for rates, median for times, else mean), as the report's */
	const char *stat = json_string_value(json_object_get(json_object_get(out, x->pol[0].name), "statistic"));
	fprintf(stderr, "\n%-10s %5s %14s %8s %14s %14s  %s\n", "policy", "runs", stat ?: "mean", "CV", "min", "max",
		"vs cfs");
	for (size_t i = 0; i < x->npol; i++) {
		json_t *s = json_object_get(out, x->pol[i].name);
		size_t n = json_integer_value(json_object_get(s, "valid_runs"));
		size_t nbad = json_integer_value(json_object_get(s, "invalid_runs"));
		char ratio[32] = "";
		double q;
		if (summary_vs_cfs(out, x->pol[i].name, &q))
			snprintf(ratio, sizeof(ratio), "%+.1f%%", q * 100);
		if (n)
			fprintf(stderr, "%-10s %5zu %14.2f %7.1f%% %14.2f %14.2f  %s%s\n", x->pol[i].name, n,
				json_number_value(json_object_get(s, "center")), json_number_value(json_object_get(s, "cv")) * 100,
				json_number_value(json_object_get(s, "min")), json_number_value(json_object_get(s, "max")), ratio,
				nbad ? " (some runs invalid)" : "");
		else
			fprintf(stderr, "%-10s %5zu %14s %8s %14s %14s  (%zu invalid)\n", x->pol[i].name, n, "-", "-", "-",
				"-", nbad);
	}
	fprintf(stderr, "(%s, %s; clock=%s, %s: compare only within one result. "
		"Confidence intervals: analysis/.)\n", x->wl.headline, x->wl.name, x->clock,
		!strcmp(x->target, "host") ? "this host's kernel" : !strcmp(x->accel_kind, "kvm") ? "KVM guest"
		: "emulated guest");
	return out;
}

/* The checkout's commit, whether it was modified and how (runners/common/checkout.h), taken when
 * the run starts: what was built then is what runs; a checkout that moves during a long run must
 * not relabel it. */
void record_checkout(struct ctx *c)
{
	struct checkout co;
	checkout_read(".", &co);
	c->git_commit = co.commit;
	c->git_dirty = co.status;
	c->git_diff = co.patch;
	c->git_diff_omitted = co.omitted;
}

/* reproduce.sh (runners/common/reproduce.h), executable. */
static void write_reproduce(struct ctx *c, const char *commit)
{
	char *text = reproduce_script(&c->x, c->id, commit, c->o->command, c->o->req.params);
	char *path = xasprintf("%s/reproduce.sh", c->staging);
	write_text(path, "%s", text);
	chmod(path, 0755);
	free(path);
	free(text);
}

/*
 * runs: one entry per run that was due (with PRECISION=, the guest may stop before the plan's
 * last run: those were never due), from each run's run.json; a run without one is invalid.
 * Counts the valid ones in *nvalid.
 */
static json_t *manifest_runs(struct ctx *c, size_t due, size_t *nvalid)
{
	struct experiment *x = &c->x;
	json_t *runs = json_array();
	for (size_t k = 0; k < due; k++) {
		const struct policy_def *p = &x->pol[experiment_run_policy(x, k)];
		char *dir = xasprintf("runs/%03zu-%s", k + 1, p->name);
		char *rj = xasprintf("%s/%s/run.json", c->staging, dir);
		json_t *run = load_json(rj);
		json_t *entry = json_pack("{s:I, s:s, s:s}", "index", (json_int_t)(k + 1), "policy", p->name, "dir", dir);
		if (!run) {
			json_object_set_new(entry, "valid", json_false());
			json_object_set_new(entry, "invalid_reasons",
					    json_pack("[s]", "the guest did not finish this run (no run.json)"));
		} else {
			json_object_set(entry, "valid", json_object_get(run, "valid"));
			json_object_set(entry, "invalid_reasons", json_object_get(run, "invalid_reasons"));
			json_object_set(entry, "ejected", json_object_get(run, "ejected"));
			json_object_set(entry, "ops_seen", json_object_get(run, "ops_seen"));
			json_t *h = json_object_get(json_object_get(run, "headline"), "value");
			if (h)
				json_object_set(entry, "headline_value", h);
			json_t *hu = json_object_get(json_object_get(run, "headline"), "unit");
			if (hu)
				json_object_set(entry, "headline_unit", hu);
			*nvalid += json_is_true(json_object_get(run, "valid"));
			json_decref(run);
		}
		json_array_append_new(runs, entry);
		free(dir);
		free(rj);
	}
	return runs;
}

/* factors.vm: the VM shape and the emulator that ran it. */
static json_t *vm_factors(struct ctx *c)
{
	struct experiment *x = &c->x;
	char *qemu_argv[] = { (char *)x->qemu, "-version", NULL };
	char *qemu_ver = argv_output(qemu_argv);
	qemu_ver[strcspn(qemu_ver, "\n")] = '\0';
	json_t *vm = json_object();
	json_object_set_new(vm, "name", json_string(x->vm_name));
	json_object_set_new(vm, "vcpus", json_integer(x->vcpus));
	json_object_set_new(vm, "threads_per_core", json_integer(x->threads_per_core));
	json_object_set_new(vm, "memory_mb", json_integer(x->memory_mb));
	json_object_set_new(vm, "qemu", json_string(x->qemu));
	json_object_set_new(vm, "qemu_version", json_string(qemu_ver));
	json_object_set_new(vm, "cpu", json_string(x->cpu));
	json_object_set_new(vm, "kernel_cmdline", json_string(x->cmdline));
	json_object_set_new(vm, "initrd", json_string(x->initrd));
	json_object_set_new(vm, "image", json_string(c->o->image ? c->o->image : ""));
	free(qemu_ver);
	return vm;
}

/* factors.cgroups: the tree, its weights and each instance's entitled share; null without one. */
static json_t *cgroup_factors(const struct experiment *x)
{
	if (!x->has_tree)
		return json_null();
	json_t *tree = json_object(), *inst = json_array();
	json_object_set_new(tree, "name", json_string(x->tree.name));
	json_object_set_new(tree, "cpu_controller", json_boolean(x->tree.cpu_controller));
	json_t *nodes = json_object();
	for (size_t i = 0; i < x->tree.nnodes; i++)
		json_object_set_new(nodes, x->tree.nodes[i].path, json_integer(x->tree.nodes[i].weight));
	json_object_set_new(tree, "weights", nodes);
	for (size_t i = 0; i < x->tree.ninst; i++)
		json_array_append_new(inst, json_pack("{s:s, s:s, s:f}", "cgroup", x->tree.inst[i].cgroup, "params",
						      x->tree.inst[i].params, "entitled_share",
						      cgtree_entitled(&x->tree, i)));
	json_object_set_new(tree, "instances", inst);
	return tree;
}

/*
 * factors: everything that was chosen (workload, policies and their configs, run order, times,
 * clock, target, VM, monitors, cgroups) and the kernel that ran (the guest's own word when it
 * gave one, else the image's: krel and the image's kconfig hash).
 */
static json_t *manifest_factors(struct ctx *c, json_t *guest, const char *krel)
{
	struct experiment *x = &c->x;
	char *kcfg = xasprintf("%s/kconfig", c->o->image ?: ""), kcfg_sha[65] = "";
	sha256_file(kcfg, kcfg_sha);
	free(kcfg);
	const char *guest_rel = json_string_value(json_object_get(guest, "kernel_release"));
	json_t *factors = json_object(), *pl = json_array(), *order = json_array();
	for (size_t i = 0; i < x->npol; i++)
		json_array_append_new(pl, json_string(x->pol[i].name));
	for (size_t k = 0; k < c->nruns; k++)
		json_array_append_new(order, json_string(x->pol[experiment_run_policy(x, k)].name));
	const char *ksha = json_string_value(json_object_get(guest, "kconfig_sha256"));
	json_object_set_new(factors, "workload", json_string(x->wl.name));
	json_object_set_new(factors, "workload_params", section_object(&x->wl.cfg, "params"));
	json_object_set_new(factors, "headline_metric", json_string(x->wl.headline));
	json_object_set_new(factors, "policies", pl);
	json_object_set_new(factors, "policy_configs", policy_factors(x));
	json_object_set_new(factors, "run_order", order);
	json_object_set_new(factors, "duration_s", json_integer(x->duration));
	json_object_set_new(factors, "warmup_s", json_integer(x->warmup));
	json_object_set_new(factors, "repeats", json_integer(x->repeats));
	json_object_set_new(factors, "clock", json_string(x->clock));
	json_object_set_new(factors, "accel", json_string(x->accel_kind));
	json_object_set_new(factors, "clock_qemu", json_pack("{s:s, s:s}", "accel", x->accel, "icount", x->icount));
	/* the virtual clock's time model as a number the analysis groups by (null: none, real clock) */
	json_object_set_new(factors, "icount_shift", x->icount_shift >= 0 ? json_integer(x->icount_shift) : json_null());
	json_object_set_new(factors, "target", json_string(x->target));
	json_object_set_new(factors, "vm", vm_factors(c));
	json_object_set_new(factors, "kernel_release", json_string(guest_rel ? guest_rel : krel));
	json_object_set_new(factors, "kconfig_sha256", json_string(ksha && *ksha ? ksha : kcfg_sha));
	json_t *mons = json_pack("[sssss]", "perf stat -a (software events)", "/proc/schedstat before/after",
				 "/sys/kernel/sched_ext before/after", "dmesg",
				 "scheduler counters and the workload's per-task schedstat before/after (run.json monitors.schedstat)");
	struct strv extra = { 0 };
	strv_split_push(&extra, x->monitors);
	for (size_t i = 0; i < extra.n; i++)
		json_array_append_new(mons, json_string(extra.v[i]));
	strv_free(&extra);
	json_object_set_new(factors, "monitors", mons);
	json_object_set_new(factors, "cgroups", cgroup_factors(x));
	return factors;
}

/* invalid_reasons: the whole result's problems, then each invalid run's reasons. */
static json_t *manifest_reasons(struct ctx *c, json_t *runs)
{
	json_t *reasons = json_array();
	json_array_extend(reasons, c->problems);
	size_t k;
	json_t *r;
	json_array_foreach(runs, k, r) {
		if (json_is_true(json_object_get(r, "valid")))
			continue;
		size_t j;
		json_t *why;
		json_array_foreach(json_object_get(r, "invalid_reasons"), j, why)
			json_array_append_new(reasons, json_sprintf("run %zu (%s): %s", k + 1,
				json_string_value(json_object_get(r, "policy")), json_string_value(why)));
	}
	return reasons;
}

/* A dirty checkout's patch, written to raw/git-diff.patch: {file, sha256, bytes}; null when clean;
 * {file, sha256, bytes: null, omitted: why} when it was too large to keep. */
static json_t *checkout_patch(struct ctx *c)
{
	if (c->git_diff_omitted)
		return json_pack("{s:n, s:n, s:n, s:s}", "file", "sha256", "bytes", "omitted", c->git_diff_omitted);
	if (!c->git_diff)
		return json_null();
	char *path = xasprintf("%s/git-diff.patch", c->raw), hex[65];
	write_text(path, "%s", c->git_diff);
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, c->git_diff, strlen(c->git_diff));
	sha256_hex(&h, hex);
	free(path);
	return json_pack("{s:s, s:s, s:I}", "file", "raw/git-diff.patch", "sha256", hex,
			 "bytes", (json_int_t)strlen(c->git_diff));
}

/*
 * software: the commit (and whether the checkout had uncommitted changes), the versions of the
 * packages that shape the results in the image and the toolchain root (their full listings are
 * kept in raw/), and each root's deviations from its version locks.
 */
static json_t *manifest_software(struct ctx *c, const char *commit, const char *dirty)
{
	static const char *const image_pkgs[] = { "linux-image-", "linux-perf", "nginx", "wrk", "apache2", "rt-tests",
						  "stress-ng", "libbpf1", "bpftool", "libc6", NULL };
	static const char *const tool_pkgs[] = { "qemu-system-x86", "clang-", "libbpf-dev", "bpftool", "gcc-1", NULL };
	const char *tools_root = getenv("TOOLS_ROOT") ? getenv("TOOLS_ROOT") : "/nonexistent";
	/* TARGET=host: the packages of the machine it ran on (dpkg-query; none listed where there is no dpkg) */
	bool on_host = !strcmp(c->x.target, "host");
	char *iv = on_host ? xasprintf("%s/host-versions.txt", c->raw) : xasprintf("%s/versions.txt", c->o->image ?: "");
	if (on_host) {
		char *dq[] = { "dpkg-query", "-W", "-f", "${Package}\t${Version}\n", NULL };
		char *listing = argv_output(dq);
		write_text(iv, "%s\n", listing);
		free(listing);
	}
	char *tv = xasprintf("%s/../versions.txt", tools_root);
	char *ivc = xasprintf("%s/image-versions.txt", c->raw), *tvc = xasprintf("%s/tools-versions.txt", c->raw);
	if (!on_host)
		copy_file(iv, ivc, 0);
	copy_file(tv, tvc, 0);
	json_t *software = json_object();
	json_object_set_new(software, "git_commit", json_string(commit));
	json_object_set_new(software, "git_dirty", json_boolean(dirty[0] != '\0'));
	json_object_set_new(software, "git_diff", checkout_patch(c));
	json_object_set_new(software, "image_packages", package_versions(iv, image_pkgs));
	json_object_set_new(software, "tools_packages", package_versions(tv, tool_pkgs));
	char *tools_dir = xasprintf("%s/..", tools_root);
	json_object_set_new(software, "lock_deviations", json_pack("{s:o, s:o}", "image",
								   on_host ? json_null() : lock_deviations(c->o->image ?: ""),
								   "tools", lock_deviations(tools_dir)));
	free(tools_dir);
	free(iv);
	free(tv);
	free(ivc);
	free(tvc);
	return software;
}

/* manifest "emulated": whether what was measured ran on real CPUs. A run on the host's own
 * kernel, or in a KVM guest, is emulated after all when this machine is itself a QEMU TCG guest
 * (scxlab's selfchecks run there, and so may a user): its CPU model (manifest host.cpu_model)
 * says so. */
static const char *emulated_text(const struct experiment *x, const char *cpu_model)
{
	bool tcg_host = cpu_model && strstr(cpu_model, "QEMU TCG");
	if (!strcmp(x->target, "vm") && strcmp(x->accel_kind, "kvm"))
		return "yes: QEMU TCG guest; absolute numbers are not those of real hardware";
	if (!strcmp(x->target, "vm"))
		return tcg_host ? "yes: a KVM guest, but this host is itself a QEMU TCG guest (its CPU model says so); "
				  "absolute numbers are not those of real hardware"
				: "no: a KVM guest on this host's CPUs (virtualized, not emulated)";
	return tcg_host ? "yes: ran on this host's own kernel, but this host is itself a QEMU TCG guest (its CPU model "
			  "says so); absolute numbers are not those of real hardware"
			: "no: ran on the host's own kernel";
}

/* host: the machine the runner ran on, its fingerprint (runners/common/fingerprint.h), and how
 * busy it was when the experiment started (c->load_start) and now, at assembly. */
static json_t *manifest_host(struct ctx *c)
{
	struct utsname u;
	uname(&u);
	char *info = read_file("/proc/cpuinfo", NULL);
	char *cpu = info ? fp_cpuinfo_field(info, "model name") : NULL;
	json_t *host = json_object();
	json_object_set_new(host, "kernel", json_string(u.release));
	json_object_set_new(host, "machine", json_string(u.machine));
	json_object_set_new(host, "cpu_model", json_string(cpu ? cpu : ""));
	json_object_set_new(host, "nproc", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	fp_host("", host);
	struct fp_sample end;
	fp_sample_take("", getpid(), &end);
	json_object_set_new(host, "load_start", fp_sample_json(&c->load_start));
	json_object_set_new(host, "load_end", fp_sample_json(&end));
	free(cpu);
	free(info);
	return host;
}

/* times: started and finished (ISO 8601, UTC), the wall time and the boot's. */
static json_t *manifest_times(struct ctx *c, const char *started, const char *finished)
{
	json_t *times = json_object();
	json_object_set_new(times, "started", json_string(started));
	json_object_set_new(times, "finished", json_string(finished));
	json_object_set_new(times, "wall_s", json_real(mono_now() - c->t0));
	json_object_set_new(times, "boot_s", json_real(c->boot_s));
	if (c->boot_path) {	/* a guest was started: cold, or restored from a snapshot (runners/host/snapshot.c) */
		json_object_set_new(times, "boot_path", json_string(c->boot_path));
		json_object_set_new(times, "boot_path_why", c->boot_path_why ? json_string(c->boot_path_why) : json_null());
		json_object_set_new(times, "snapshot_key", c->snapshot_key ? json_string(c->snapshot_key) : json_null());
		json_object_set_new(times, "snapshot_made_s", json_real(c->snapshot_made_s));
	}
	/* where the wall time went: what make bench-suite reports as overhead */
	json_object_set_new(times, "job_s", json_real(c->job_s));
	json_object_set_new(times, "target_s", json_real(c->target_s));
	json_object_set_new(times, "assemble_s", json_real(mono_now() - c->assemble_t0));
	json_t *ph = json_object();
	for (int i = 0; i < PHASE_COUNT; i++)
		json_object_set_new(ph, phase_names[i], json_real(c->phase_wall[i]));
	json_object_set_new(times, "phases_s", ph);
	json_object_set_new(times, "measured_s", json_real((double)c->x.duration * (double)c->runs_done));
	return times;
}

/* precision (PRECISION= only): the stopping rule, and whether the guest's stopping.json says
 * it was reached or the cap was hit after due runs. */
static json_t *manifest_precision(struct ctx *c, json_t *stopping, size_t due)
{
	struct experiment *x = &c->x;
	json_t *prec = json_pack("{s:f, s:I, s:I, s:I}", "target_halfwidth_pct", x->precision_pct, "min_repeats",
				 (json_int_t)x->min_repeats, "max_repeats", (json_int_t)x->repeats, "runs_done",
				 (json_int_t)due);
	json_object_set_new(prec, "stopped_because",
			    json_string(stopping ? "precision reached"
						 : "cap reached: MAX_REPEATS runs per policy without reaching the precision"));
	json_object_set_new(prec, "reached", json_boolean(stopping != NULL));
	if (stopping)
		json_object_set(prec, "halfwidth_pct", json_object_get(stopping, "halfwidth_pct"));
	/* the guest's last evaluation: the estimator, and per policy the interval and its method */
	char *pj = xasprintf("%s/guest/precision.json", c->staging);
	json_t *last = load_json(pj);
	free(pj);
	if (last) {
		json_object_set(prec, "estimator", json_object_get(last, "estimator"));
		json_object_set(prec, "ratios", json_object_get(last, "ratios"));
		json_decref(last);
	}
	progress(c, "precision %s after %zu runs (target +-%g%% on each ratio to cfs)",
		 stopping ? "reached" : "NOT reached (cap hit)", due, x->precision_pct);
	return prec;
}

bool assemble(struct ctx *c, const char *started)
{
	struct opts *o = c->o;
	struct experiment *x = &c->x;
	/* with PRECISION=, the guest may stop before the plan's last run: those were never due */
	char *stp = xasprintf("%s/guest/stopping.json", c->staging);
	json_t *stopping = load_json(stp);
	free(stp);
	size_t due = c->nruns, nvalid = 0;
	if (stopping && json_integer_value(json_object_get(stopping, "runs_done")) > 0)
		due = (size_t)json_integer_value(json_object_get(stopping, "runs_done"));
	json_t *runs = manifest_runs(c, due, &nvalid);
	if (!c->guest_done && !strcmp(x->target, "vm"))
		problem(c, "the guest stopped before it finished its plan; see raw/console.log");

	char *gj = xasprintf("%s/guest/guest.json", c->staging);
	json_t *guest = load_json(gj);
	free(gj);
	if (!guest)
		guest = json_object();
	char *kver = xasprintf("%s/kernel-release", o->image ?: ""), *krel = read_line_file(kver);
	const char *guest_rel = json_string_value(json_object_get(guest, "kernel_release"));
	if (!strcmp(x->target, "vm") && guest_rel && strcmp(guest_rel, krel))
		problem(c, "the guest ran kernel %s, not the image's %s", guest_rel, krel);
	/* valid only when every run due was valid and no problem at all was found, this one included */
	bool valid = nvalid == due && json_array_size(c->problems) == 0;

	const char *commit = c->git_commit, *dirty = c->git_dirty;
	char *finished = iso_time_now();
	json_t *factors = manifest_factors(c, guest, krel);
	json_t *host = manifest_host(c);
	const char *cpu_model = json_string_value(json_object_get(host, "cpu_model"));
	json_t *reasons = manifest_reasons(c, runs);
	json_t *summary = summarize_runs(c, runs);

	json_t *m = json_object();
	json_object_set_new(m, "format", json_integer(1));
	json_object_set_new(m, "run_id", json_string(c->id));
	json_object_set_new(m, "valid", json_boolean(valid));
	json_object_set_new(m, "invalid_reasons", reasons);
	json_object_set_new(m, "command", json_string(o->command ? o->command : ""));
	json_object_set_new(m, "emulated", json_string(emulated_text(x, cpu_model)));
	json_object_set_new(m, "accelerator", json_pack("{s:s, s:s, s:s}", "kind", x->accel_kind, "why", x->accel_why,
							"kvm_probe", o->req.kvm_why ? o->req.kvm_why : ""));
	json_object_set_new(m, "factors", factors);
	json_object_set_new(m, "guest", guest);
	json_object_set_new(m, "software", manifest_software(c, commit, dirty));
	json_object_set_new(m, "host", host);
	json_object_set_new(m, "times", manifest_times(c, started, finished));
	json_object_set(m, "summary", summary);
	json_object_set_new(m, "runs", runs);
	if (x->precision_pct > 0)
		json_object_set_new(m, "precision", manifest_precision(c, stopping, due));
	json_decref(stopping);
	char *mp = xasprintf("%s/manifest.json", c->staging), *sp = xasprintf("%s/summary.json", c->staging);
	if (json_dump_file(m, mp, JSON_INDENT(2)) || json_dump_file(summary, sp, JSON_INDENT(2)))
		die(EXIT_INFRA, "cannot write %s: %s", mp, errno_text(errno));
	write_reproduce(c, commit);
	if (!valid) {
		char *ip = xasprintf("%s/INVALID", c->staging);
		char *txt = json_dumps(reasons, JSON_INDENT(2));
		write_text(ip, "This result is invalid; do not use its numbers. Reasons:\n%s\n", txt);
		free(txt);
		free(ip);
	}
	json_decref(summary);
	json_decref(m);
	free(mp);
	free(sp);
	free(finished);
	free(kver);
	free(krel);
	return valid;
}
