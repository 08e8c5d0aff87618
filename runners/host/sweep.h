#ifndef SCXLAB_SWEEP_H
#define SCXLAB_SWEEP_H
struct sweep_opts {
	const char *name, *repo, *configs, *results, *image, *command;
	const char *duration, *repeats, *clock, *accel;	/* overrides of the sweep config; NULL or "" keeps it */
};
int sweep_main(const struct sweep_opts *o);
#endif
