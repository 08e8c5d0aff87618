#include "stats.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct summary summarize(const double *x, size_t n)
{
	struct summary s = { .n = n };
	if (!n)
		return s;
	s.min = s.max = x[0];
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		sum += x[i];
		if (x[i] < s.min)
			s.min = x[i];
		if (x[i] > s.max)
			s.max = x[i];
	}
	s.mean = sum / n;
	if (n > 1) {
		double ss = 0;
		for (size_t i = 0; i < n; i++)
			ss += (x[i] - s.mean) * (x[i] - s.mean);
		s.sd = sqrt(ss / (n - 1));
		s.cv = s.mean != 0 ? s.sd / fabs(s.mean) : 0;
	}
	return s;
}

/* splitmix64: small, well-distributed and the same everywhere */
static unsigned long long next_rand(unsigned long long *state)
{
	unsigned long long z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

enum stat_kind stat_kind_of(const char *unit)
{
	static const char *const time_units[] = { "ns", "us", "µs", "usec", "ms", "msec", "s", "sec" };
	char u[64];
	/* analysis strips surrounding white space */
	while (unit && (*unit == ' ' || *unit == '\t'))
		unit++;
	snprintf(u, sizeof(u), "%s", unit ? unit : "");
	for (size_t len = strlen(u); len && (u[len - 1] == ' ' || u[len - 1] == '\t'); len--)
		u[len - 1] = '\0';
	size_t len = strlen(u);
	if (len >= 2 && !strcmp(u + len - 2, "/s"))
		return STAT_RATE;
	for (size_t i = 0; i < sizeof(time_units) / sizeof(*time_units); i++)
		if (!strcmp(u, time_units[i]))
			return STAT_TIME;
	return STAT_OTHER;
}

const char *stat_name(enum stat_kind k)
{
	return k == STAT_RATE ? "hmean" : k == STAT_TIME ? "median" : "mean";
}

const char *stat_kind_name(enum stat_kind k)
{
	return k == STAT_RATE ? "rate" : k == STAT_TIME ? "time" : "other";
}

/* x is scratch for the median (sorted in place); n >= 1 */
static double center_inplace(enum stat_kind k, double *x, size_t n)
{
	double sum = 0;
	switch (k) {
	case STAT_RATE:
		/* a run that moved nothing (rate <= 0) makes the harmonic mean 0, as in analysis */
		for (size_t i = 0; i < n; i++) {
			if (!(x[i] > 0))
				return x[i] != x[i] ? NAN : 0.0;
			sum += 1.0 / x[i];
		}
		return n / sum;
	case STAT_TIME:
		qsort(x, n, sizeof(double), cmp_double);
		return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2.0;
	default:
		for (size_t i = 0; i < n; i++)
			sum += x[i];
		return sum / n;
	}
}

double stat_center(enum stat_kind k, const double *x, size_t n)
{
	double *c = malloc(sizeof(double) * (n + 1));
	if (!c)
		return NAN;
	memcpy(c, x, sizeof(double) * n);
	double v = center_inplace(k, c, n);
	free(c);
	return v;
}

double norm_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/*
 * Acklam's rational approximation (relative error 1.15e-9), then one Halley step on
 * norm_cdf(x) - p, which brings it to about machine precision.
 */
double norm_quantile(double p)
{
	static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
				    1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
				    6.680131188771972e+01, -1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
				    -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
				    3.754408661907416e+00 };
	if (!(p >= 0 && p <= 1))
		return NAN;
	if (p == 0)
		return -INFINITY;
	if (p == 1)
		return INFINITY;
	double q, r, x;
	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else if (p > 1 - 0.02425) {
		q = sqrt(-2 * log1p(-p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else {
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	}
	/* Halley: in the lower tail from the left tail's cdf, in the upper from the right's, so
	 * that 1 - p loses no digits */
	double e = x < 0 ? 0.5 * erfc(-x / M_SQRT2) - p : (1 - p) - 0.5 * erfc(x / M_SQRT2);
	double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
	return x - u / (1 + x * u / 2);
}

/* np.percentile(sorted, 100 * q), method "linear", with numpy's lerp; NAN for a NAN q */
static double percentile_sorted(const double *s, size_t n, double q)
{
	if (q != q)
		return NAN;
	double h = q * (n - 1);
	size_t i = (size_t)floor(h);
	if (i >= n - 1)
		return s[n - 1];
	double t = h - i, lo = s[i], hi = s[i + 1], diff = hi - lo;
	return t >= 0.5 ? hi - diff * (1 - t) : lo + diff * t;
}

/* center(x resampled with replacement), using scratch of n doubles */
static double resampled_center(enum stat_kind k, const double *x, size_t n, double *scratch,
			       unsigned long long *state)
{
	for (size_t i = 0; i < n; i++)
		scratch[i] = x[next_rand(state) % n];
	return center_inplace(k, scratch, n);
}

/*
 * The jackknife part of BCa's acceleration for one group: leave each run of x out in turn
 * (the other group's center fixed at other, x being the numerator when num is true), and add
 * sum(U^3)/n^3 and sum(U^2)/n^2 (U = (n-1) * (mean - leave-one-out value)) to *s3 and *s2.
 */
static void jackknife_terms(enum stat_kind k, const double *x, size_t n, double other, int num, double *scratch,
			    double *s3, double *s2)
{
	double *th = scratch + n, mean = 0;
	for (size_t i = 0; i < n; i++) {
		size_t m = 0;
		for (size_t j = 0; j < n; j++)
			if (j != i)
				scratch[m++] = x[j];
		double c = center_inplace(k, scratch, n - 1);
		th[i] = num ? c / other : other / c;
		mean += th[i];
	}
	mean /= n;
	double u3 = 0, u2 = 0;
	for (size_t i = 0; i < n; i++) {
		double u = (double)(n - 1) * (mean - th[i]);
		u3 += u * u * u;
		u2 += u * u;
	}
	*s3 += u3 / ((double)n * n * n);
	*s2 += u2 / ((double)n * n);
}

/*
 * BCa's end, shared by both designs: from the resampled ratios th[0..B-1] (sorted here), the
 * point, and the jackknife sums s3, s2, the interval in *out; the percentile interval where
 * BCa's endpoints are not finite; "undefined" where neither is.
 */
static void bca_finish(double *th, size_t B, int has_nan, double s3, double s2, double confidence,
		       struct ratio_ci *out)
{
	/* bias correction z0 from where the point lies among the resamples ("mean" rank) */
	size_t below = 0, at_or_below = 0;
	for (size_t i = 0; i < B; i++) {
		below += th[i] < out->ratio;
		at_or_below += th[i] <= out->ratio;
	}
	double z0 = norm_quantile((double)(below + at_or_below) / (2.0 * B));
	double acc = s3 / 6.0 / pow(s2, 1.5);
	double alpha = (1 - confidence) / 2, za = norm_quantile(alpha);
	double n1 = z0 + za, n2 = z0 - za;
	double a1 = norm_cdf(z0 + n1 / (1 - acc * n1)), a2 = norm_cdf(z0 + n2 / (1 - acc * n2));
	/* np.percentile gives NAN when any resample is NAN */
	if (!has_nan)
		qsort(th, B, sizeof(double), cmp_double);
	double lo = has_nan ? NAN : percentile_sorted(th, B, a1), hi = has_nan ? NAN : percentile_sorted(th, B, a2);
	out->method = STATS_INTERVAL;
	if (!isfinite(lo) || !isfinite(hi)) {
		lo = has_nan ? NAN : percentile_sorted(th, B, alpha);
		hi = has_nan ? NAN : percentile_sorted(th, B, 1 - alpha);
		out->method = STATS_INTERVAL_FALLBACK;
	}
	if (isfinite(lo) && isfinite(hi)) {
		out->lo = lo;
		out->hi = hi;
	} else {
		out->method = "undefined";
	}
}

/* The point and the cases without an interval, common to both designs: 1 when *out is final. */
static int ratio_point(enum stat_kind k, const double *a, size_t na, const double *b, size_t nb,
		       struct ratio_ci *out, double *ca, double *cb)
{
	out->ratio = out->lo = out->hi = NAN;
	*ca = stat_center(k, a, na);
	*cb = stat_center(k, b, nb);
	if (*cb == 0) {
		out->method = "baseline is 0";
		return 1;
	}
	out->ratio = *ca / *cb;
	if (na < 2 || nb < 2) {
		out->method = "single run";
		return 1;
	}
	return 0;
}

int stat_ratio_ci(enum stat_kind k, const double *a, size_t na, const double *b, size_t nb,
		  unsigned long long seed, int n_resamples, double confidence, struct ratio_ci *out)
{
	double ca, cb;
	if (!na || !nb || n_resamples < 2)
		return -1;
	if (ratio_point(k, a, na, b, nb, out, &ca, &cb))
		return 0;
	size_t nmax = na > nb ? na : nb, B = (size_t)n_resamples;
	double *th = malloc(sizeof(double) * B), *scratch = malloc(sizeof(double) * 2 * (nmax + 1));
	if (!th || !scratch) {
		free(th);
		free(scratch);
		return -1;
	}
	int has_nan = 0;
	for (size_t i = 0; i < B; i++) {
		double ra = resampled_center(k, a, na, scratch, &seed);
		double rb = resampled_center(k, b, nb, scratch, &seed);
		th[i] = ra / rb;
		has_nan |= th[i] != th[i];
	}
	/* acceleration from the jackknife of each group */
	double s3 = 0, s2 = 0;
	jackknife_terms(k, a, na, cb, 1, scratch, &s3, &s2);
	jackknife_terms(k, b, nb, ca, 0, scratch, &s3, &s2);
	bca_finish(th, B, has_nan, s3, s2, confidence, out);
	free(th);
	free(scratch);
	return 0;
}

/*
 * Paired by round (scipy's paired=True): the indices of the rounds are resampled, the same ones
 * for both policies; BCa's jackknife leaves one round (both its runs) out, one group of n.
 */
int stat_ratio_ci_paired(enum stat_kind k, const double *a, const double *b, size_t n, unsigned long long seed,
			 int n_resamples, double confidence, struct ratio_ci *out)
{
	double ca, cb;
	if (!n || n_resamples < 2)
		return -1;
	if (ratio_point(k, a, n, b, n, out, &ca, &cb))
		return 0;
	size_t B = (size_t)n_resamples;
	double *th = malloc(sizeof(double) * (B > n ? B : n)), *sa = malloc(sizeof(double) * (n + 1)),
	       *sb = malloc(sizeof(double) * (n + 1));
	if (!th || !sa || !sb) {
		free(th);
		free(sa);
		free(sb);
		return -1;
	}
	int has_nan = 0;
	for (size_t i = 0; i < B; i++) {
		for (size_t j = 0; j < n; j++) {
			size_t r = next_rand(&seed) % n;
			sa[j] = a[r];
			sb[j] = b[r];
		}
		th[i] = center_inplace(k, sa, n) / center_inplace(k, sb, n);
		has_nan |= th[i] != th[i];
	}
	/* the jackknife over rounds: U = (n-1) * (mean - leave-one-round-out ratio) */
	double *jk = malloc(sizeof(double) * n), mean = 0, u3 = 0, u2 = 0;
	if (!jk) {
		free(th);
		free(sa);
		free(sb);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t m = 0;
		for (size_t j = 0; j < n; j++)
			if (j != i) {
				sa[m] = a[j];
				sb[m++] = b[j];
			}
		jk[i] = center_inplace(k, sa, n - 1) / center_inplace(k, sb, n - 1);
		mean += jk[i];
	}
	mean /= n;
	for (size_t i = 0; i < n; i++) {
		double u = (double)(n - 1) * (mean - jk[i]);
		u3 += u * u * u;
		u2 += u * u;
	}
	bca_finish(th, B, has_nan, u3 / ((double)n * n * n), u2 / ((double)n * n), confidence, out);
	free(jk);
	free(th);
	free(sa);
	free(sb);
	return 0;
}

int stat_rounds_paired(const long *ra, size_t na, const long *rb, size_t nb)
{
	if (na != nb || na < 2)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (ra[i] != rb[i] || ra[i] <= 0 || (i && ra[i] == ra[i - 1]))
			return 0;
	return 1;
}

double ratio_halfwidth_pct(const struct ratio_ci *r)
{
	return isfinite(r->lo) && isfinite(r->hi) ? 100.0 * (r->hi - r->lo) / 2.0 : INFINITY;
}
