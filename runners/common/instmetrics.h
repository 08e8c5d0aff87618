/*
 * A run's metrics.json from its workload instances' metrics. With one instance its metrics
 * are the run's, as they are. With several, every metric is kept as "i<K>.<name>", and rates
 * (units ending in "/s") are also summed under the plain name, so that the headline (a rate)
 * is the total over the instances.
 */
#ifndef SCXLAB_INSTMETRICS_H
#define SCXLAB_INSTMETRICS_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether unit is a rate ("req/s", "B/s"): it ends in "/s". */
bool instmetrics_is_rate(const char *unit);
/* Adds instance k's (1-based) "metrics" array (the metric contract's, already checked) to
 * merged, an array, as the run's metrics when the run has ninst instances. */
void instmetrics_add(json_t *merged, json_t *metrics, int k, size_t ninst);

#endif
