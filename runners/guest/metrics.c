/*
 * The run's metrics.json: each instance's metrics, checked against the metric contract, merged;
 * then what the agent measured itself: the scheduler's activity (sched.*, from the schedstat
 * monitor's summary) and, with several instances, how evenly they fared (fairness.*).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"
#include "instmetrics.h"
#include "metrics.h"
#include "schedmetrics.h"

static void put_metric(json_t *list, const char *name, const char *unit, double v, bool hib)
{
	if (v >= 0 && isfinite(v))
		json_array_append_new(list, json_pack("{s:s, s:s, s:f, s:b}", "name", name, "unit", unit, "value", v,
						      "higher_is_better", hib));
}

/*
 * With several instances in a cgroup tree: Jain's fairness index and the max/min ratio over the
 * instances of what each got per unit of the CPU share its weights entitle it to (run.json's
 * cgroups record): its CPU share (fairness.cpu_*) and, when the headline is a rate, its headline
 * (fairness.headline_*). 1 (Jain) and 1 (max/min) when every instance got the same per share.
 */
static void fairness_metrics(struct run *r, json_t *list, const double *head, bool head_rate)
{
	if (!r->has_tree || r->ninst < 2)
		return;
	double *cpu = xmalloc(r->ninst * sizeof(*cpu)), *hd = xmalloc(r->ninst * sizeof(*hd));
	long long total = 0;
	bool cpu_ok = true, head_ok = head_rate;
	for (size_t i = 0; i < r->ninst; i++) {
		cpu_ok &= r->inst[i].usage0 >= 0 && r->inst[i].usage1 >= r->inst[i].usage0;
		total += r->inst[i].usage1 - r->inst[i].usage0;
		head_ok &= !isnan(head[i]);
	}
	for (size_t i = 0; i < r->ninst; i++) {
		double entitled = cgtree_entitled(&r->tree, i);
		cpu[i] = total > 0 && entitled > 0 ? (double)(r->inst[i].usage1 - r->inst[i].usage0) / total / entitled : -1;
		hd[i] = entitled > 0 ? head[i] / entitled : -1;
		cpu_ok &= cpu[i] >= 0;
		head_ok &= hd[i] >= 0;
	}
	if (cpu_ok) {
		put_metric(list, "fairness.cpu_jain", "index", sm_jain(cpu, r->ninst), true);
		put_metric(list, "fairness.cpu_max_min", "ratio", sm_max_min(cpu, r->ninst), false);
	}
	if (head_ok) {
		put_metric(list, "fairness.headline_jain", "index", sm_jain(hd, r->ninst), true);
		put_metric(list, "fairness.headline_max_min", "ratio", sm_max_min(hd, r->ninst), false);
	}
	free(cpu);
	free(hd);
}

/*
 * Step 5b: each instance's metrics, checked against the contract, become the run's
 * metrics.json (runners/common/instmetrics.c says how several are merged); the workload's
 * headline metric goes into run.json.
 */
void take_metrics(struct run *r)
{
	json_t *merged = json_array();
	const char *headline = cfg_get(&r->a->plan, "workload", "headline");
	double *head = xmalloc(r->ninst * sizeof(*head));	/* each instance's headline, NAN if none */
	bool head_rate = true;
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = &r->inst[i];
		char lab[32];
		char *src = xasprintf("%s/metrics.json", in->out);
		json_error_t jerr;
		struct err e = { 0 };
		json_t *doc = json_load_file(src, 0, &jerr);
		free(src);
		inst_label(r, in, lab, sizeof lab);
		head[i] = NAN;
		if (!doc) {
			invalid(r, "the workload%s wrote no readable metrics.json: %s", lab, jerr.text);
			continue;
		}
		if (metrics_check(doc, &e)) {
			invalid(r, "the workload's metrics.json%s breaks the metric contract: %s", lab, e.msg);
			json_decref(doc);
			continue;
		}
		if (json_is_false(json_object_get(doc, "valid")))
			invalid(r, "the workload%s reports its measurement invalid: %s", lab,
				json_string_value(json_object_get(doc, "reason")) ?: "(no reason given)");
		struct err he = { 0 };
		if (metrics_value(doc, headline, &head[i], &he))
			head[i] = NAN;
		head_rate &= instmetrics_is_rate(metrics_unit(doc, headline));
		instmetrics_add(merged, json_object_get(doc, "metrics"), in->k, r->ninst);
		json_decref(doc);
	}
	json_t *out = json_pack("{s:o}", "metrics", merged);
	struct err e = { 0 };
	double v;
	if (json_array_size(merged)) {
		const char *unit = metrics_unit(out, headline);
		if (metrics_value(out, headline, &v, &e)) {
			invalid(r, "headline %s", e.msg);
			v = NAN;
		} else {
			json_object_set_new(r->j, "headline", json_pack("{s:s,s:f,s:s?}", "name", headline, "value", v,
									 "unit", unit));
		}
		json_t *sched = json_object_get(json_object_get(r->j, "monitors"), "schedstat");
		json_t *measure = json_object_get(r->j, "measure_s");
		if (sched && measure) {
			json_t *sm = sm_metrics(sched, isnan(v) ? NULL : unit, v, json_number_value(measure));
			json_array_extend(merged, sm);
			json_decref(sm);
		}
		fairness_metrics(r, merged, head, head_rate);
	}
	/* every run has one; where no workload gave a metric it says so (the run is invalid, said above) */
	if (!json_array_size(merged)) {
		json_object_set_new(out, "valid", json_false());
		json_object_set_new(out, "reason", json_string("no metric: the workload gave none (see run.json's "
							       "invalid_reasons)"));
	}
	char *dst = xasprintf("%s/metrics.json", r->dir);
	json_dump_file(out, dst, JSON_INDENT(2));
	free(dst);
	free(head);
	json_decref(out);
}
