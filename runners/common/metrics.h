/*
 * The metric contract every workload honours: its client writes a JSON object
 *   {"valid": true, "reason": "...", "metrics": [
 *      {"name": "requests_per_sec", "unit": "req/s", "value": 1234.5, "higher_is_better": true}, ...]}
 * "valid" may be false with a "reason" when the workload itself saw its measurement fail
 * (socket errors, no requests). metrics_check() enforces the contract so that nothing
 * malformed reaches a result directory.
 */
#ifndef SCXLAB_METRICS_H
#define SCXLAB_METRICS_H

#include <jansson.h>
#include "util.h"

/* Returns 0 when doc follows the contract; else -1 with a message naming the first problem. */
int metrics_check(const json_t *doc, struct err *e);
/* The value of metric name, or -1 with an error when absent. */
int metrics_value(const json_t *doc, const char *name, double *out, struct err *e);
/* The unit of metric name (e.g. "req/s"), or NULL when absent. */
const char *metrics_unit(const json_t *doc, const char *name);

#endif
