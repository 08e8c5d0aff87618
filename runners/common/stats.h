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

/*
 * Percentile bootstrap of the ratio mean(a) / mean(b): both samples resampled with
 * replacement, iters times, with a fixed seed (so the same data give the same interval).
 * Gives the 2.5th and 97.5th percentiles and the point estimate. No normality assumed.
 * Used by the runner's stopping rule (PRECISION=); analysis/ reports the same statistic.
 * Returns -1 when either sample is empty or mean(b) is 0.
 */
int bootstrap_ratio_ci(const double *a, size_t na, const double *b, size_t nb, unsigned long long seed,
		       int iters, double *point, double *lo, double *hi);
/* Half-width of [lo, hi] as a percentage of point. */
double ci_halfwidth_pct(double point, double lo, double hi);

#endif
