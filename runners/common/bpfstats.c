#include "bpfstats.h"

#include <string.h>

json_t *bpf_stats_delta(json_t *before, json_t *after)
{
	json_t *out = json_object();
	size_t i, j;
	json_t *a, *b;
	json_array_foreach(after, i, a) {
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *name = json_string_value(json_object_get(a, "name"));
		if (!type || !name || strcmp(type, "struct_ops"))
			continue;
		json_int_t id = json_integer_value(json_object_get(a, "id"));
		json_int_t cnt = json_integer_value(json_object_get(a, "run_cnt"));
		json_int_t ns = json_integer_value(json_object_get(a, "run_time_ns"));
		json_array_foreach(before, j, b) {
			if (json_integer_value(json_object_get(b, "id")) == id) {
				cnt -= json_integer_value(json_object_get(b, "run_cnt"));
				ns -= json_integer_value(json_object_get(b, "run_time_ns"));
			}
		}
		json_object_set_new(out, name, json_pack("{s:I, s:I, s:f}", "run_cnt", cnt, "run_time_ns", ns,
							 "ns_per_run", cnt ? (double)ns / cnt : 0.0));
	}
	return out;
}
