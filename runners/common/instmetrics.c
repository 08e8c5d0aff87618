#include "instmetrics.h"

#include <string.h>

bool instmetrics_is_rate(const char *unit)
{
	size_t n = unit ? strlen(unit) : 0;
	return n >= 2 && !strcmp(unit + n - 2, "/s");
}

/* The entry of merged named name, or NULL. */
static json_t *find_metric(json_t *merged, const char *name)
{
	size_t j;
	json_t *o;
	json_array_foreach(merged, j, o)
		if (!strcmp(json_string_value(json_object_get(o, "name")) ?: "", name))
			return o;
	return NULL;
}

void instmetrics_add(json_t *merged, json_t *metrics, int k, size_t ninst)
{
	size_t i;
	json_t *m;
	json_array_foreach(metrics, i, m) {
		if (ninst == 1) {
			json_array_append(merged, m);
			continue;
		}
		const char *name = json_string_value(json_object_get(m, "name"));
		json_t *copy = json_deep_copy(m);
		json_object_set_new(copy, "name", json_sprintf("i%d.%s", k, name));
		json_array_append_new(merged, copy);
		if (!instmetrics_is_rate(json_string_value(json_object_get(m, "unit"))))
			continue;
		json_t *sum = find_metric(merged, name);
		if (sum)
			json_object_set_new(sum, "value", json_real(json_number_value(json_object_get(sum, "value")) +
								    json_number_value(json_object_get(m, "value"))));
		else
			json_array_append_new(merged, json_deep_copy(m));
	}
}
