/*
 * One run of the plan, its steps in order (see main.c's header): the cgroup tree, the
 * policy in charge, the servers, the warm-up, the measurement with the monitors around it,
 * the teardown, the metrics, the kernel's log, and runs/NNN-policy/run.json.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "schedext.h"

void invalid(struct run *r, const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(r->reasons, json_string(msg));
	say(PROTO_RUN_PROBLEM " %d %s", r->index, msg);
}

char *raw_path(struct run *r, const char *name)
{
	return xasprintf("%s/%s", r->raw, name);
}

void enter_phase(struct run *r, const char *phase)
{
	r->phase = phase;
	r->phase_t0 = mono_now();
}


/* Kills every client still running (their process groups) and reaps it. */
static void kill_clients(struct run *r)
{
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = &r->inst[i];
		if (in->done)
			continue;
		kill(-in->pid, SIGKILL);
		waitpid(in->pid, &in->status, 0);
		in->done = true;
		in->exit_s = mono_now() - r->spawn_t;
	}
}

/*
 * Runs every instance's client at once (in its cgroup) and waits for all of them, checking
 * every 100 ms that the policy is still in charge (the warm-up too, so that an ejection there
 * is reported as one). When watch is set (the measurement), the clients mark their window
 * (marks.c, which samples the counters at its ends; without marks, around the clients'
 * lifetime), and SysRq-S is pressed when the policy config asks for it.
 */
static void run_clients(struct run *r, const char *sub, long duration, bool watch)
{
	struct agent *a = r->a;
	char *script = script_path(a, "client");
	char *argv[] = { script, NULL };
	bool sysrq_done = false;
	enter_phase(r, watch ? "measurement" : "warm-up");
	if (watch) {
		sampling_priority(r, 0, true);
		marks_open(r);
		if (!r->marks) {
			r->win.start = 0;
			window_open(r);
		}
	}
	double t0 = mono_now();
	r->spawn_t = t0;
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = &r->inst[i];
		char *out = sub ? xasprintf("%s/%s", in->out, sub) : xstrdup(in->out);
		char *log = xasprintf("%s/%s", in->out, sub ? "warmup.log" : "client.log");
		mkdir_p(out, 0755);
		in->done = false;
		struct strv env;
		workload_env(a, in, r->ninst, out, duration, &env);
		if (watch)
			marks_env(r, in, &env);
		in->pid = spawn_in(argv, log, env.v, out, in->cg);
		strv_free(&env);
		if (in->pid < 0) {
			in->done = true;
			in->status = -1;
		}
		free(out);
		free(log);
	}
	for (;;) {
		size_t running = 0;
		for (size_t i = 0; i < r->ninst; i++) {
			struct inst *in = &r->inst[i];
			if (!in->done && waitpid(in->pid, &in->status, WNOHANG) == in->pid) {
				in->done = true;
				in->exit_s = mono_now() - t0;
				if (watch && !r->marks)
					in->win = (struct window){ 0, in->exit_s };
			}
			running += !in->done;
		}
		if (!running)
			break;
		if (agent_stop) {
			kill_clients(r);
			invalid(r, "interrupted by signal %d during the %s; the clients were stopped", (int)agent_stop,
				r->phase);
			break;
		}
		still_in_charge(r);
		if (watch && r->sysrq_after_s && !sysrq_done && mono_now() - t0 >= r->sysrq_after_s) {
			/* SysRq-S: the kernel must hand every task back to the fair class */
			sysrq_done = true;
			write_text("/proc/sysrq-trigger", "S");
			json_object_set_new(r->j, "injected_sysrq_s_at", json_real(mono_now() - t0));
			say(PROTO_RUN_PROBLEM " %d injected SysRq-S %.1f s into the measurement", r->index, mono_now() - t0);
		}
		if (mono_now() - t0 > duration + 120) {
			kill_clients(r);
			invalid(r, "a client ran %ld s past its duration and was killed", (long)(mono_now() - t0 - duration));
			break;
		}
		if (watch)
			marks_poll(r, 100);
		else
			usleep(100000);
	}
	if (watch) {
		marks_finish(r, duration);
		sampling_priority(r, 0, false);
	}
	for (size_t i = 0; i < r->ninst && watch; i++) {
		char lab[32];
		int code = exit_code_of(r->inst[i].status);
		if (code != 0)
			invalid(r, "the workload client%s exited with code %d; see its client.log",
				inst_label(r, &r->inst[i], lab, sizeof lab), code);
	}
	free(script);
}

/*
 * Step 3b: after the warm-up, the requests its clients left queued are let run out before the
 * measurement (runners/common/window.h: quiet_feed), at most [plan] drain seconds; run.json's
 * "drain" says how long it took, or that the machine never went quiet (a note, not a fault: the
 * measurement then starts with some of the warm-up's work still running, as it did before).
 */
static void drain(struct run *r)
{
	struct quiet q = { 0 };
	double t0 = mono_now();
	long running = -1;
	bool quiet = false;
	while (!quiet && !agent_stop && mono_now() - t0 < r->a->drain) {
		char *text = read_file("/proc/stat", NULL);
		running = procstat_running(text);
		free(text);
		quiet = quiet_feed(&q, running);
		if (!quiet)
			usleep(QUIET_STEP_MS * 1000);
		still_in_charge(r);
	}
	double waited = mono_now() - t0;
	json_object_set_new(r->j, "drain", json_pack("{s:I, s:f, s:b}", "limit_s", (json_int_t)r->a->drain, "waited_s",
						     waited, "quiet", quiet));
	if (!quiet)
		say(PROTO_RUN_NOTE " %d the machine was not quiet %ld s after the warm-up (%ld tasks running): the "
		    "measurement starts with some of the warm-up's work still running", r->index, r->a->drain, running);
}

/* Step 4: the measured clients, with the monitors around them (sampling at the window's ends) and the policy watched. */
static void measure(struct run *r)
{
	monitors_start(r);
	run_clients(r, NULL, r->a->duration, true);
	monitors_stop(r);
}

bool do_run(struct agent *a, int index, double *headline)
{
	char sec[32];
	snprintf(sec, sizeof(sec), "run.%d", index);
	struct run r = { .a = a, .index = index };
	r.policy = cfg_get(&a->plan, sec, "policy");
	r.kind = cfg_get(&a->plan, sec, "kind");
	r.ops = cfg_get(&a->plan, sec, "ops_name");
	r.loader = cfg_get(&a->plan, sec, "loader");
	r.args = cfg_get(&a->plan, sec, "args");
	r.repeat = cfg_get(&a->plan, sec, "repeat");
	r.external = !strcmp(cfg_get(&a->plan, sec, "external") ?: "0", "1");
	r.sysrq_after_s = atol(cfg_get(&a->plan, sec, "sysrq_after_s") ?: "0");
	if (!r.policy || !r.kind || !r.ops || !r.loader || !r.args || !r.repeat)
		fatal(a, "plan section [%s] is incomplete", sec);
	r.dir = xasprintf("%s/runs/%03d-%s", a->results, index, r.policy);
	r.raw = xasprintf("%s/raw", r.dir);
	mkdir_p(r.raw, 0755);
	r.reasons = json_array();
	char *started = iso_time_now();
	r.j = json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:{}}", "index", index, "repeat", atoi(r.repeat),
			"policy", r.policy, "kind", r.kind, "ops_expected", r.ops, "started", started, "monitors");
	free(started);
	free(take_dmesg(a));	/* start this run's kernel log afresh */

	/* instances: one per [instance.K] of the plan's cgroup tree, else a single one */
	struct err e = { 0 };
	r.has_tree = cfg_has_section(&a->plan, "tree");
	if (r.has_tree && cgtree_from_cfg(&r.tree, &a->plan, cfg_get(&a->plan, "tree", "name") ?: "", &e))
		fatal(a, "plan: %s", e.msg);
	r.ninst = r.has_tree ? r.tree.ninst : 1;
	r.inst = xmalloc(r.ninst * sizeof(*r.inst));
	for (size_t i = 0; i < r.ninst; i++) {
		struct inst *in = &r.inst[i];
		in->k = (int)i + 1;
		in->out = r.ninst > 1 ? xasprintf("%s/i%d", r.raw, in->k) : xstrdup(r.raw);
		in->cg = r.has_tree ? xasprintf("/sys/fs/cgroup/%s/%s", CGROUP_ROOT, r.tree.inst[i].cgroup) : NULL;
		in->params = r.has_tree ? r.tree.inst[i].params : "";
		in->usage0 = in->usage1 = -1;
		in->mark_fd = -1;
		in->win = WINDOW_UNMARKED;
		mkdir_p(in->out, 0755);
	}

	say(PROTO_RUN_BEGIN " %d %ld %s", index, a->nruns, r.policy);
	/* the policy takes charge before any of the workload starts */
	say(PROTO_PHASE " %d %s 0", index, phase_names[0]);
	enter_phase(&r, "load");
	bool ready = (!r.has_tree || tree_make(&r)) && start_policy(&r);
	say(PROTO_PHASE " %d %s 0", index, phase_names[1]);
	enter_phase(&r, "server start");
	for (size_t i = 0; ready && i < r.ninst; i++) {
		char lab[32];
		int rc = run_script(&r, &r.inst[i], "start", a->duration, 120, "server-start.log");
		if (rc != 0) {
			invalid(&r, "the workload server%s failed to start (exit code %d); see its server-start.log",
				inst_label(&r, &r.inst[i], lab, sizeof lab), rc);
			ready = false;
		}
	}
	if (ready)
		still_in_charge(&r);
	if (ready && agent_stop) {
		invalid(&r, "interrupted by signal %d before the measurement", (int)agent_stop);
		ready = false;
	}
	if (ready) {
		if (a->warmup > 0) {
			say(PROTO_PHASE " %d %s %ld", index, phase_names[2], a->warmup);
			run_clients(&r, "warmup", a->warmup, false);
			if (a->drain > 0)
				drain(&r);
		}
		say(PROTO_PHASE " %d %s %ld", index, phase_names[3], a->duration);
		measure(&r);
		if (r.has_tree)
			record_shares(&r);
		struct scx_status s;
		char desc[256];
		scx_read(SCX_SYSFS, &s);
		json_object_set_new(r.j, "sched_ext_at_end", json_string(scx_describe(&s, desc, sizeof desc)));
	}
	say(PROTO_PHASE " %d %s 0", index, phase_names[4]);
	enter_phase(&r, "teardown");
	stop_policy(&r);
	for (size_t i = 0; i < r.ninst; i++)
		run_script(&r, &r.inst[i], "stop", a->duration, 60, "server-stop.log");
	if (r.has_tree)
		tree_remove(&r);
	take_metrics(&r);

	char *dmesg = take_dmesg(a);
	kernel_messages(&r, dmesg);
	free(dmesg);

	bool valid = json_array_size(r.reasons) == 0;
	*headline = json_number_value(json_object_get(json_object_get(r.j, "headline"), "value"));
	char *finished = iso_time_now();
	json_object_set_new(r.j, "finished", json_string(finished));
	json_object_set_new(r.j, "ejected", json_boolean(r.ejected));
	json_object_set_new(r.j, "valid", json_boolean(valid));
	json_object_set_new(r.j, "invalid_reasons", r.reasons);
	char *rj = xasprintf("%s/run.json", r.dir);
	json_dump_file(r.j, rj, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(r.j);
	reap_orphans();
	flush_results(a);
	say(PROTO_RUN_END " %d %s", index, valid ? "valid" : "invalid");
	free(finished);
	free(rj);
	for (size_t i = 0; i < r.ninst; i++) {
		free(r.inst[i].out);
		free(r.inst[i].cg);
	}
	free(r.inst);
	if (r.has_tree)
		cgtree_free(&r.tree);
	free(r.dir);
	free(r.raw);
	return valid;
}

