/* Descriptive statistics for the runner's end-of-run summary. Inference (bootstrap confidence
 * intervals, significance) lives in analysis/, which reads the result directories. */
#ifndef SCXLAB_STATS_H
#define SCXLAB_STATS_H
#include <stddef.h>

struct summary {
	size_t n;
	double mean, sd, cv, min, max;	/* sd: sample standard deviation (n-1); cv = sd/mean */
};

/* n == 0 gives all zeros; n == 1 gives sd = cv = 0 (and the caller must say it is one run). */
struct summary summarize(const double *x, size_t n);

#endif
