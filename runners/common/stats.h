/*
 * Statistics shared by the runners: descriptive summaries (summary.json) and the one estimator
 * that the stopping rule of `make compare PRECISION=` uses. Pure code, no I/O.
 *
 * The estimator is the one analysis/stats.py reports, implemented a second time in C so that
 * the guest can decide between rounds without Python. It mirrors analysis/stats.py choice by
 * choice (and that file documents the same correspondence):
 *
 *   analysis/stats.py                          here
 *   metric_kind(unit)                          stat_kind_of(unit): "/s" rate, ns..s time, else other
 *   STAT_NAME: hmean, median, mean             stat_name(); stat_center() computes it the same way
 *                                              (a rate <= 0 makes the harmonic mean 0; an even
 *                                              median is the mean of the two middle values)
 *   ratio(): fn(values) / fn(baseline)         stat_ratio_ci(): center(a) / center(b)
 *   scipy.stats.bootstrap, paired=False        both groups resampled independently, each of the
 *                                              n_resamples times, the ratio of centers recomputed
 *   ratio(paired=True): runs paired by round   stat_ratio_ci_paired(): one index per round drawn
 *   (ratio_by_design(), the same rounds on     for both policies, so a round's shared drift
 *   both sides; else independent)              cancels; the jackknife leaves one round out (one
 *                                              group of n, as scipy's resampled indices); the
 *                                              guest pairs on the same rule (runners/guest/main.c)
 *   method BCa (Efron & Tibshirani 1993,       the same formulas as scipy 1.10's _bca_interval:
 *   14.3 and 15.4)                             z0 from the "mean" percentile of the point among the
 *                                              resamples; acceleration from the jackknife of each
 *                                              group (leave one run out of one group, the other
 *                                              group whole), summed over groups; endpoints at
 *                                              np.percentile's linear interpolation
 *   percentile when BCa is undefined (NaN)     the same: BCa's endpoints not finite (identical
 *                                              runs make the acceleration 0/0) -> the percentile
 *                                              interval of the same resamples; neither finite ->
 *                                              "undefined"
 *   CONFIDENCE 0.95, N_RESAMPLES 10000, SEED   STATS_CONFIDENCE, STATS_N_RESAMPLES, STATS_SEED
 *   Ratio.halfwidth_pct                        ratio_halfwidth_pct(): 100 * (hi - lo) / 2, in
 *                                              percentage points of the ratio
 *
 * Why this is sound: the stopping rule and the report must answer the same question ("is the
 * ratio of the unit's natural summary known to +-X points?"), or the runner stops where the
 * report says the precision was not reached. BCa corrects the percentile interval's bias and
 * skewness (the ratio of two summaries is skewed, the median's bootstrap distribution lumpy)
 * and is second-order accurate; the percentile fallback only applies where the bootstrap
 * distribution has no spread, where every method gives the zero-width interval.
 *
 * What differs: the random numbers. analysis/ draws with numpy's PCG64, this code with
 * splitmix64, both seeded with STATS_SEED, so each side is deterministic but the two intervals
 * on the same runs differ by Monte-Carlo error. Its standard deviation at 10000 resamples,
 * measured on the fixed cases: about 0.05 percentage points of half-width for a harmonic mean
 * of 8 runs, about 0.18 where an outlier or the median's few distinct values (few runs with
 * ties) put a BCa endpoint far into a sparse tail (an endpoint alone: up to 0.37); on 3 runs a
 * side a half-width moved 0.53 points between the two sides in one CI run, and up to 0.4 across
 * 30 seeds of analysis alone, so tests/integration/test_precision.py measures that spread on the
 * runs it checks rather than assuming a bound. tests/data/
 * stats-agreement.json holds fixed cases and the stated tolerances; test_stats.c and
 * tests/analysis/test_stats_agreement.py check both sides against them. A stopping decision
 * within that noise of the target may go either way on the two sides; nothing else may.
 *
 * Caveat the report also flags: with few runs (analysis' FEW_RUNS = 5) bootstrap intervals are
 * too narrow; the stopping rule's minimum of 3 rounds does not change that.
 */
#ifndef SCXLAB_STATS_H
#define SCXLAB_STATS_H
#include <stddef.h>

struct summary {
	size_t n;
	double mean, sd, cv, min, max;	/* sd: sample standard deviation (n-1); cv = sd/mean */
};

/* n == 0 gives all zeros; n == 1 gives sd = cv = 0 (and the caller must say it is one run). */
struct summary summarize(const double *x, size_t n);

#define STATS_SEED 20221130ULL		/* analysis/stats.py SEED */
#define STATS_CONFIDENCE 0.95		/* analysis/stats.py CONFIDENCE */
#define STATS_N_RESAMPLES 10000		/* analysis/stats.py N_RESAMPLES */
#define STATS_INTERVAL "BCa"		/* the method tried first */
#define STATS_INTERVAL_FALLBACK "percentile"	/* where BCa is undefined */

/* Which summary a metric gets, from its unit (analysis/stats.py metric_kind). */
enum stat_kind { STAT_RATE, STAT_TIME, STAT_OTHER };
enum stat_kind stat_kind_of(const char *unit);	/* NULL counts as "" (other) */
const char *stat_name(enum stat_kind k);	/* "hmean", "median", "mean" */
const char *stat_kind_name(enum stat_kind k);	/* "rate", "time", "other" */
/* The kind's summary of x[0..n-1]; n must be >= 1. */
double stat_center(enum stat_kind k, const double *x, size_t n);

/* The ratio center(a) / center(b) with its bootstrap interval (analysis/stats.py ratio()). */
struct ratio_ci {
	double ratio;		/* NAN when the baseline's center is 0 */
	double lo, hi;		/* NAN without an interval */
	const char *method;	/* "BCa", "percentile", "undefined", "single run", "baseline is 0" */
};
/* 0 with *out filled (an interval or the method saying why there is none); -1 when a or b is
 * empty or memory ran out. */
int stat_ratio_ci(enum stat_kind k, const double *a, size_t na, const double *b, size_t nb,
		  unsigned long long seed, int n_resamples, double confidence, struct ratio_ci *out);
/* The same, paired by round (analysis/stats.py ratio(paired=True), what ratio_by_design() uses when
 * both policies ran in the same rounds): a[i] and b[i] are one round's runs, whole rounds are
 * resampled and the jackknife leaves one round out. Same returns as stat_ratio_ci. */
int stat_ratio_ci_paired(enum stat_kind k, const double *a, const double *b, size_t n, unsigned long long seed,
			 int n_resamples, double confidence, struct ratio_ci *out);
/* Whether two policies' runs pair by round (analysis/stats.py paired_rounds on one boot): each
 * has exactly one valid run in each of the same rounds, at least two; ra and rb list the rounds
 * of their valid runs in the order they ran (ascending). */
int stat_rounds_paired(const long *ra, size_t na, const long *rb, size_t nb);
/* 100 * (hi - lo) / 2: the interval's half-width in percentage points of the ratio
 * (analysis' ratio_halfwidth_pct); INFINITY without an interval. */
double ratio_halfwidth_pct(const struct ratio_ci *r);

/* The standard normal distribution function and its inverse (scipy.special ndtr, ndtri):
 * norm_quantile(0) = -inf, (1) = +inf, NAN outside [0, 1]; about 1e-15 relative error. */
double norm_cdf(double x);
double norm_quantile(double p);

#endif
