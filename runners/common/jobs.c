/* JOBS's rules (see jobs.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"

long jobs_parse(const char *text, struct err *e)
{
	if (!text || !*text)
		return 0;
	const char *c = text;
	while (*c >= '0' && *c <= '9')
		c++;
	errno = 0;
	long n = strtol(text, NULL, 10);
	if (*c || *text == '0' || errno || n < 1 || n > JOBS_MAX) {
		errf(e, "JOBS=%s: give how many sweep points (guests) may run at once, a whole number from 1 to %d "
		     "(default: %d)", text, JOBS_MAX, JOBS_DEFAULT);
		return -1;
	}
	return n;
}

bool jobs_point_alone(const char *clock, const char *accel)
{
	return (clock && !strcmp(clock, "real")) || (accel && !strcmp(accel, "kvm"));
}

bool jobs_may_start(long jobs, size_t running, bool running_alone, bool point_alone)
{
	if (running == 0)
		return true;
	if (running_alone || point_alone)
		return false;
	return (long)running < jobs;
}
