#include "stats.h"
#include <math.h>

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
