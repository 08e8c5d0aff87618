/* The run's metrics.json: each instance's metrics, checked against the metric contract, merged. */
#include <stdio.h>
#include <stdlib.h>

#include "guest.h"
#include "instmetrics.h"
#include "metrics.h"

/*
 * Step 5b: each instance's metrics, checked against the contract, become the run's
 * metrics.json (runners/common/instmetrics.c says how several are merged); the workload's
 * headline metric goes into run.json.
 */
void take_metrics(struct run *r)
{
	json_t *merged = json_array();
	const char *headline = cfg_get(&r->a->plan, "workload", "headline");
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = &r->inst[i];
		char lab[32];
		char *src = xasprintf("%s/metrics.json", in->out);
		json_error_t jerr;
		struct err e = { 0 };
		json_t *doc = json_load_file(src, 0, &jerr);
		free(src);
		inst_label(r, in, lab, sizeof lab);
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
		instmetrics_add(merged, json_object_get(doc, "metrics"), in->k, r->ninst);
		json_decref(doc);
	}
	json_t *out = json_pack("{s:o}", "metrics", merged);
	struct err e = { 0 };
	double v;
	if (json_array_size(merged)) {
		char *dst = xasprintf("%s/metrics.json", r->dir);
		json_dump_file(out, dst, JSON_INDENT(2));
		free(dst);
		if (metrics_value(out, headline, &v, &e))
			invalid(r, "headline %s", e.msg);
		else
			json_object_set_new(r->j, "headline", json_pack("{s:s,s:f,s:s?}", "name", headline, "value", v,
									 "unit", metrics_unit(out, headline)));
	}
	json_decref(out);
}
