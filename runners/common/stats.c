#include "stats.h"
#include <math.h>
#include <stdlib.h>

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

static double resampled_mean(const double *x, size_t n, unsigned long long *state)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += x[next_rand(state) % n];
	return sum / n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int bootstrap_ratio_ci(const double *a, size_t na, const double *b, size_t nb, unsigned long long seed,
		       int iters, double *point, double *lo, double *hi)
{
	if (!na || !nb || iters < 2)
		return -1;
	double ma = summarize(a, na).mean, mb = summarize(b, nb).mean;
	if (mb == 0)
		return -1;
	*point = ma / mb;
	double *r = malloc(sizeof(double) * iters);
	if (!r)
		return -1;
	int n = 0;
	for (int i = 0; i < iters; i++) {
		double rb = resampled_mean(b, nb, &seed);
		double ra = resampled_mean(a, na, &seed);
		if (rb != 0)
			r[n++] = ra / rb;
	}
	if (n < 2) {
		free(r);
		return -1;
	}
	qsort(r, n, sizeof(double), cmp_double);
	*lo = r[(int)floor(0.025 * (n - 1))];
	*hi = r[(int)ceil(0.975 * (n - 1))];
	free(r);
	return 0;
}

double ci_halfwidth_pct(double point, double lo, double hi)
{
	return point != 0 ? 100.0 * (hi - lo) / 2.0 / fabs(point) : INFINITY;
}
