#ifndef SCXLAB_SWEEP_H
#define SCXLAB_SWEEP_H
struct sweep_opts {
	const char *name, *repo, *configs, *results, *image, *command;
	const char *duration, *repeats, *clock, *accel;	/* overrides of the sweep config; NULL or "" keeps it */
	long jobs;		/* JOBS: points at once (local executor); 0: the default (jobs.h) */
	const char *executor;	/* "local" (NULL, ""): run the points here; "slurm": print the array to submit */
};
int sweep_main(const struct sweep_opts *o);
/* One point of a sweep's record, by its index in point_labels (a SLURM array task's id). */
int sweep_point_main(const char *dir, const char *index);
/* The closing lines and exit code of the sweep in dir, from its record alone. */
int sweep_status_main(const char *dir);
#endif
