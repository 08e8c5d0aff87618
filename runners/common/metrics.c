#include "metrics.h"

#include <math.h>
#include <string.h>

int metrics_check(const json_t *doc, struct err *e)
{
	if (!json_is_object(doc))
		return errf(e, "metrics: top level is not a JSON object");
	json_t *valid = json_object_get(doc, "valid");
	if (valid && !json_is_boolean(valid))
		return errf(e, "metrics: \"valid\" must be true or false");
	json_t *list = json_object_get(doc, "metrics");
	if (!json_is_array(list))
		return errf(e, "metrics: \"metrics\" must be an array");
	if (json_array_size(list) == 0 && !json_is_false(valid))
		return errf(e, "metrics: a valid measurement must report at least one metric");
	size_t i;
	json_t *m;
	json_array_foreach(list, i, m) {
		const char *name = json_string_value(json_object_get(m, "name"));
		if (!json_is_object(m) || !name || !*name)
			return errf(e, "metrics[%zu]: needs a non-empty \"name\"", i);
		if (!json_is_string(json_object_get(m, "unit")))
			return errf(e, "metrics[%zu] (%s): needs a \"unit\" string", i, name);
		json_t *v = json_object_get(m, "value");
		if (!json_is_number(v) || !isfinite(json_number_value(v)))
			return errf(e, "metrics[%zu] (%s): \"value\" must be a finite number", i, name);
		/* null: the metric describes the run but does not rank policies (e.g. a share of wakeups) */
		json_t *hib = json_object_get(m, "higher_is_better");
		if (!hib || !(json_is_boolean(hib) || json_is_null(hib)))
			return errf(e, "metrics[%zu] (%s): \"higher_is_better\" must be true, false or null", i, name);
		for (size_t j = 0; j < i; j++) {
			const char *other = json_string_value(json_object_get(json_array_get(list, j), "name"));
			if (other && !strcmp(other, name))
				return errf(e, "metrics[%zu]: metric \"%s\" is reported twice", i, name);
		}
	}
	return 0;
}

static json_t *find_metric(const json_t *doc, const char *name)
{
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(doc, "metrics"), i, m) {
		const char *n = json_string_value(json_object_get(m, "name"));
		if (n && !strcmp(n, name))
			return m;
	}
	return NULL;
}

int metrics_value(const json_t *doc, const char *name, double *out, struct err *e)
{
	json_t *m = find_metric(doc, name);
	if (!m)
		return errf(e, "metric \"%s\" was not reported", name);
	*out = json_number_value(json_object_get(m, "value"));
	return 0;
}

const char *metrics_unit(const json_t *doc, const char *name)
{
	return json_string_value(json_object_get(find_metric(doc, name), "unit"));
}
