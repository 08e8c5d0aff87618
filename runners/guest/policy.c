/*
 * The policy's lifecycle in a run: its loader started and the kernel watched until it reports
 * the policy in charge, checks that it stays in charge, the loader stopped (it writes the
 * kernel's exit info), and the kernel's own verdict from its log.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "kmsg.h"
#include "outcome.h"
#include "schedext.h"
/*
 * Is the policy (any enabled one for an external scheduler, none for cfs) still in charge?
 * The first time it is not, records where (left_charge_phase, left_charge_after_s: seconds
 * into that phase) and marks the run invalid.
 */
bool still_in_charge(struct run *r)
{
	if (r->left_charge || !strcmp(r->kind, "cfs"))
		return !r->left_charge;
	const char *expect = r->external ? r->ops_seen : r->ops;
	struct scx_status s;
	char desc[256];
	scx_read(SCX_SYSFS, &s);
	if (scx_in_charge(&s, expect))
		return true;
	double into = mono_now() - r->phase_t0;
	r->left_charge = true;
	r->ejected = true;	/* refined from the kernel's exit kind when it is known (do_run) */
	json_object_set_new(r->j, "left_charge_phase", json_string(r->phase));
	json_object_set_new(r->j, "left_charge_after_s", json_real(into));
	invalid(r, "%s stopped being in charge %.1f s into the %s (%s)", r->policy, into, r->phase,
		scx_describe(&s, desc, sizeof desc));
	return false;
}


static bool loader_alive(struct run *r)
{
	if (r->loader_pid <= 0 || r->loader_reaped)
		return false;
	if (waitpid(r->loader_pid, &r->loader_status, WNOHANG) == r->loader_pid) {
		r->loader_reaped = true;
		return false;
	}
	return true;
}

/* Step 2: load the policy and wait until the kernel reports it in charge. */
bool start_policy(struct run *r)
{
	struct agent *a = r->a;
	struct scx_status s;
	char desc[256];
	if (!strcmp(r->kind, "cfs")) {
		scx_read(SCX_SYSFS, &s);
		if (!scx_in_charge(&s, NULL)) {
			invalid(r, "cfs run, but a sched_ext scheduler is loaded (%s)", scx_describe(&s, desc, sizeof desc));
			return false;
		}
		json_object_set_new(r->j, "sched_ext_at_start", json_string(scx_describe(&s, desc, sizeof desc)));
		return true;
	}
	struct strv argv = { 0 };
	char *loader = xasprintf("%s/%s", a->job_dir, r->loader);
	strv_push(&argv, loader);
	strv_split_push(&argv, r->args);
	char *ei = raw_path(r, "exit-info.json");
	if (!r->external) {
		strv_push(&argv, "--exit-info");
		strv_push(&argv, ei);
		strv_push(&argv, "--stats-interval");
		strv_push(&argv, "1");
	}
	/* an external binary with a known ops name (the kernel's example schedulers) must show it */
	const char *expect = r->external && !*r->ops ? SCX_ANY_OPS : r->ops;
	char *log = raw_path(r, "loader.log");
	char *cmdline = strv_join(&argv, " ");
	json_object_set_new(r->j, "loader_command", json_string(cmdline));
	double t0 = mono_now();
	r->loader_pid = spawn(argv.v, log, NULL, NULL);
	strv_free(&argv);
	free(cmdline);
	free(loader);
	free(ei);
	free(log);
	if (r->loader_pid < 0) {
		invalid(r, "could not start the loader of policy %s: %s", r->policy, strerror(errno));
		return false;
	}
	for (;;) {
		scx_read(SCX_SYSFS, &s);
		if (scx_in_charge(&s, expect))
			break;
		if (agent_stop) {
			invalid(r, "interrupted by signal %d while policy %s was loading", (int)agent_stop, r->policy);
			return false;	/* stop_policy() stops the loader */
		}
		if (!loader_alive(r)) {
			int code;
			char sig[16], how[128];
			loader_end_of(r->loader_status, &code, sig, sizeof sig, how, sizeof how);
			invalid(r, "policy %s failed to load: its loader %s before the kernel reported it in charge "
				"(%s); see raw/loader.log%s", r->policy, how, scx_describe(&s, desc, sizeof desc),
				r->external ? "" : " and raw/exit-info.json");
			return false;
		}
		/* load_timeout, like the agent's other timeouts (the client's duration + 120 s, the
		 * loader's 15 s after SIGINT), is guest time: under the virtual clock it stretches
		 * with a slow host as the guest does; under the real clock it is wall time */
		if (mono_now() - t0 > a->load_timeout) {
			invalid(r, "policy %s was not in charge %ld s after its loader started (%s, expected "
				"state=enabled ops=%s)", r->policy, a->load_timeout,
				scx_describe(&s, desc, sizeof desc), strcmp(expect, SCX_ANY_OPS) ? expect : "(any)");
			return false;
		}
		usleep(50000);
	}
	json_object_set_new(r->j, "load_s", json_real(mono_now() - t0));
	json_object_set_new(r->j, "sched_ext_at_start", json_string(scx_describe(&s, desc, sizeof desc)));
	json_object_set_new(r->j, "ops_seen", json_string(s.ops));
	snprintf(r->ops_seen, sizeof(r->ops_seen), "%s", s.ops);
	return true;
}

/* Step 5: stop the loader (it writes the kernel's exit info) and judge how the policy ended. */
void stop_policy(struct run *r)
{
	if (r->loader_pid <= 0)
		return;
	bool killed = false;
	if (loader_alive(r)) {
		kill(r->loader_pid, SIGINT);
		r->loader_status = wait_timeout(r->loader_pid, 15, &killed);
		r->loader_reaped = true;
		if (killed)
			invalid(r, "the loader of %s did not exit within 15 s of SIGINT and was killed", r->policy);
	}
	int code;
	char sig[16], how[128];
	enum loader_end end = loader_end_of(r->loader_status, &code, sig, sizeof sig, how, sizeof how);
	json_object_set_new(r->j, "loader_exit_code", json_integer(code));
	json_object_set_new(r->j, "loader_signal", *sig ? json_string(sig) : json_null());
	json_object_set_new(r->j, "loader_crashed", json_boolean(end == LOADER_CRASHED));
	if (end == LOADER_CRASHED && r->ops_seen[0])	/* a crash while loading is reported as a load failure */
		invalid(r, "the loader of %s %s; see raw/loader.log", r->policy, how);
	if (r->external) {
		/* no exit-info file: the kernel's own messages (taken with dmesg) say why it stopped */
		if (end == LOADER_FAILED && !killed && !r->left_charge)
			invalid(r, "external scheduler %s %s; see raw/loader.log", r->loader, how);
		return;
	}
	char *ei = raw_path(r, "exit-info.json");
	json_error_t jerr;
	json_t *info = json_load_file(ei, 0, &jerr);
	free(ei);
	if (info) {
		json_object_set(r->j, "exit_info", info);
		if (json_is_true(json_object_get(info, "ejected")) || code == 1) {
			r->ejected = true;
			const char *lp = json_string_value(json_object_get(r->j, "left_charge_phase"));
			invalid(r, "policy %s was ejected by the kernel%s%s: kind=%s reason=\"%s\" msg=\"%s\"", r->policy,
				lp ? " during the " : "", lp ?: "",
				json_string_value(json_object_get(info, "kind_name")) ?: "?",
				json_string_value(json_object_get(info, "reason")) ?: "",
				json_string_value(json_object_get(info, "msg")) ?: "");
		}
		json_decref(info);
	} else if (end != LOADER_CRASHED) {
		invalid(r, "the loader of %s left no exit info (it %s): %s", r->policy, how, jerr.text);
	}
	if (end == LOADER_FAILED && !r->ejected)
		invalid(r, "the loader of %s %s; see raw/loader.log", r->policy, how);
}

/*
 * What the kernel said when it disabled the run's scheduler: its exit kind and reason go into
 * run.json for every policy. For an external scheduler (no exit-info of its own) this is the
 * only word on why it stopped, and an ejection is a reason with its phase. Whether a policy
 * that left charge counts as ejected follows the kind (the loader's own exit, UNREG, is not
 * an ejection) unless its loader's exit info already said.
 */
static void kernel_verdict(struct run *r, const struct scx_disable *d)
{
	json_object_set_new(r->j, "kernel_exit_reason", json_string(d->reason));
	json_object_set_new(r->j, "kernel_exit_kind", d->kind < 0 ? json_null() : json_integer(d->kind));
	json_object_set_new(r->j, "kernel_exit_kind_name", json_string(d->kind_name));
	if (!r->left_charge)
		return;
	if (!json_object_get(r->j, "exit_info"))	/* a loader's own exit info already said */
		r->ejected = d->ejected;
	if (!r->external || !d->ejected)
		return;
	const char *phase = json_string_value(json_object_get(r->j, "left_charge_phase"));
	double into = json_number_value(json_object_get(r->j, "left_charge_after_s"));
	invalid(r, "the kernel says: scheduler disabled (%s), exit kind %s, %.1f s into the %s", d->reason, d->kind_name,
		into, phase ? phase : "run");
}

/* The run's kernel log: raw/dmesg.txt, its sched_ext lines in run.json, and the kernel's verdict. */
void kernel_messages(struct run *r, const char *dmesg)
{
	char *dp = raw_path(r, "dmesg.txt");
	write_file(dp, dmesg, strlen(dmesg));
	free(dp);
	struct scx_disable d;
	bool found;
	json_t *kmsgs = kmsg_sched_ext(dmesg, &d, &found);
	/* 'BPF scheduler "NAME" disabled (REASON)': the kernel's own verdict */
	if (found)
		kernel_verdict(r, &d);
	json_object_set_new(r->j, "kernel_sched_ext_messages", kmsgs);
}
