/*
 * wakebench's latency histogram: log-linear buckets over nanoseconds, so that one fixed array
 * covers 1 ns to about 18 minutes with a bounded relative error, without allocation or locks
 * (each worker owns its histograms; they are merged once the threads have ended).
 *
 * Layout. Values below 2 * WBH_SUB (64 ns) each have a bucket of their own. Above that, every
 * power of two [2^k, 2^(k+1)) is split into WBH_SUB equal buckets of width 2^(k - WBH_SUB_BITS),
 * so a bucket is never wider than 1/WBH_SUB (3.1%) of the values in it. The index of v >= 64 is
 *     (k - WBH_SUB_BITS) * WBH_SUB + (v >> (k - WBH_SUB_BITS)),   k = floor(log2 v)
 * which continues the exact region without a gap (v = 64 -> 64). Values of 2^WBH_MAX_LOG2 ns
 * or more land in one last bucket and are counted in `over`.
 *
 * A percentile is reported as the upper edge of the bucket its rank falls in (ranks counted as
 * ceil(q * n), at least 1): never below any sample in that bucket, and at most 3.1% above.
 * The mean and the maximum are kept exactly beside the buckets.
 *
 * Pure C11, no I/O: tests/unit/test_wbhist.c pins the layout and the percentile rule.
 */
#ifndef SCXLAB_WBHIST_H
#define SCXLAB_WBHIST_H

#include <stdint.h>

#define WBH_SUB_BITS 5
#define WBH_SUB (1u << WBH_SUB_BITS)
#define WBH_MAX_LOG2 40	/* 2^40 ns = 1100 s: longer than any client may run */
/* the buckets of values below 2^WBH_MAX_LOG2, then one for everything beyond (lower edge 2^40) */
#define WBH_BUCKETS ((WBH_MAX_LOG2 - WBH_SUB_BITS + 1) * WBH_SUB + 1)

struct wbhist {
	uint64_t count[WBH_BUCKETS];
	uint64_t n, over, max;
	long double sum;	/* exact to well beyond any run's total */
};

static inline unsigned wbh_log2(uint64_t v)
{
	return 63u - (unsigned)__builtin_clzll(v);	/* v > 0 */
}

static inline unsigned wbh_index(uint64_t v)
{
	if (v < 2 * WBH_SUB)
		return (unsigned)v;
	if (v >> WBH_MAX_LOG2)
		return WBH_BUCKETS - 1;
	unsigned shift = wbh_log2(v) - WBH_SUB_BITS;
	return shift * WBH_SUB + (unsigned)(v >> shift);
}

/* The smallest value in bucket i, and the bucket's width. */
static inline uint64_t wbh_lower(unsigned i)
{
	if (i < 2 * WBH_SUB)
		return i;
	unsigned shift = i / WBH_SUB - 1;
	return (uint64_t)(WBH_SUB + i % WBH_SUB) << shift;
}

static inline uint64_t wbh_width(unsigned i)
{
	return i < 2 * WBH_SUB ? 1 : (uint64_t)1 << (i / WBH_SUB - 1);
}

static inline void wbh_add(struct wbhist *h, uint64_t v)
{
	h->count[wbh_index(v)]++;
	h->n++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	if (v >> WBH_MAX_LOG2)
		h->over++;
}

static inline void wbh_merge(struct wbhist *into, const struct wbhist *h)
{
	for (unsigned i = 0; i < WBH_BUCKETS; i++)
		into->count[i] += h->count[i];
	into->n += h->n;
	into->over += h->over;
	into->sum += h->sum;
	if (h->max > into->max)
		into->max = h->max;
}

/*
 * The q-quantile (0 < q <= 1) as the upper edge of its bucket, in ns; 0 for an empty
 * histogram. *in_overflow is set when the rank falls among values beyond the buckets' range
 * (then the value is unknown and the caller must not report it).
 */
static inline uint64_t wbh_quantile(const struct wbhist *h, double q, int *in_overflow)
{
	*in_overflow = 0;
	if (!h->n)
		return 0;
	double r = q * (double)h->n;
	uint64_t rank = (uint64_t)r;
	if ((double)rank < r)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > h->n)
		rank = h->n;
	uint64_t seen = 0;
	for (unsigned i = 0; i < WBH_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= rank) {
			if (i == WBH_BUCKETS - 1)
				*in_overflow = 1;
			return wbh_lower(i) + wbh_width(i);
		}
	}
	return 0;	/* not reached: the counts add up to n */
}

static inline double wbh_mean(const struct wbhist *h)
{
	return h->n ? (double)(h->sum / h->n) : 0.0;
}

#endif
