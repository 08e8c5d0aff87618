/*
 * The host runner's modules (private to runners/host/; the pure parts they use live in
 * runners/common/ under unit tests):
 *   scxlab.c    the command line, validation and the run's control flow (main)
 *   staging.c   the staging folder: created, and abandoned on a fatal error
 *   job.c       the job folder the guest agent reads (plan, agent, loaders, workload)
 *   target.c    starting the target (QEMU, or the agent on this host) and following its
 *               console under deadlines
 *   progress.c  the progress display, time left, the console's SCXLAB lines, problems
 *   manifest.c  manifest.json, summary.json, reproduce.sh, INVALID
 *   selfcheck.c `scxlab selfcheck-host` and `selfcheck-kvm`: scxlab run by the agent inside the
 *               guest (TARGET=host, or TARGET=vm ACCEL=kvm under the guest's /dev/kvm)
 */
#ifndef SCXLAB_HOST_H
#define SCXLAB_HOST_H
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "experiment.h"
#include "fingerprint.h"
#include "outcome.h"
#include "protocol.h"
#include "snapshot.h"

struct opts {
	struct request req;
	const char *repo, *configs, *results, *build, *image, *command;
};

struct ctx {
	struct opts *o;
	struct experiment x;
	char *id, *staging, *raw, *jobdir;
	json_t *problems;	/* reasons the whole result is invalid, beyond per-run ones */
	double t0, boot_s;
	bool guest_done;
	/* a line of the emulator's own saying the guest cannot go on (KVM internal error): QEMU then
	 * pauses the guest and waits, so the runner stops it at once with this as the reason */
	char emulator_fatal[256];
	bool target_started;	/* the guest (or the agent on the host) was started: raw data may exist */
	/* progress */
	size_t nruns, run_current, runs_done;
	double run_started, run_total_s;
	/* deadlines follow the guest's pace (runners/common/outcome.h): while it boots, by the
	 * emulator's CPU time; once the agent runs, by the guest seconds on its heartbeats */
	struct pace boot_pace, run_pace;
	/* where the wall time went (manifest times, make bench-suite): seconds building the job,
	 * from target start to its end, and per phase of the runs as the guest announced them */
	double job_s, target_s, phase_wall[PHASE_COUNT], assemble_t0;
	char *git_commit, *git_dirty, *git_diff;	/* record_checkout(), at the start (git_diff: NULL when clean) */
	char *git_diff_omitted;	/* why a dirty checkout's patch is not kept (over the cap), else NULL */
	int phase_cur;		/* 1 + the index into phase_names; 0 between phases (so a zeroed ctx is right) */
	double phase_since;	/* mono_now() when phase_cur began */
	struct fp_sample load_start;	/* how busy the host was when the experiment started */
	/* a fourth disk (after root, job and results), snapshot=on: the image's root filesystem that
	 * selfcheck-kvm's nested guest boots from; NULL for every other run */
	const char *nested_rootfs;
	/* guest seconds the runs may take beyond their budget: selfcheck-kvm's nested boots */
	double extra_run_budget_s;
	/* booting from a snapshot (snapshot.c): SNAPSHOT= (on unless 0); the path the boot took
	 * ("cold" or "snapshot"; NULL: nothing booted) and why it is cold; the snapshot's key and
	 * folder; seconds this run spent making it (0: it was there); the job tar's own size */
	bool snapshot_on;
	const char *boot_path;
	char *boot_path_why, *snapshot_key, *snapshot_dir;
	double snapshot_made_s;
	long long job_tar_bytes;
};

/* The signal that interrupted the run (SIGINT, SIGTERM), 0 while none did (scxlab.c). */
extern volatile sig_atomic_t interrupted;
void on_signal(int sig);

/* progress.c */
void progress(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void on_guest_line(struct ctx *c, char *line);
void phase_close(struct ctx *c);
/* A reason the whole result is invalid: recorded in c->problems and shown. */
void problem(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* staging.c */
void remove_tree(const char *path);
/* Picks the result id (unless c->id is set), creates the staging folder and its raw/, and from then on has die()
 * leave nothing half-made behind. */
void staging_create(struct ctx *c);

/* job.c */
void build_job(struct ctx *c);
/* cp -a from into the folder to; a failure ends the runner (exit 3) naming why */
void job_copy_tree(struct ctx *c, const char *from, const char *to);

/* selfcheck.c: `scxlab selfcheck-host` and `scxlab selfcheck-kvm` (argv as main's) */
int selfcheck_command(int argc, char **argv);

/* snapshot.c: whether this boot restores a snapshot (made now if it is missing): then snap
 * has the run's own root overlay and the state, and jobtar is padded to the saved job disk's
 * size; else the boot is cold and c->boot_path_why says why. */
bool snapshot_prepare(struct ctx *c, const char *initrd, const char *jobtar, struct qemu_snap *snap);
/* After a restore that never brought the guest up: removes the snapshot from the cache, frees
 * snap's paths, gives jobtar back its own size and records why the boot went cold. */
void snapshot_abandon(struct ctx *c, struct qemu_snap *snap, const char *jobtar, const char *why);

/* target.c */
void run_vm(struct ctx *c);
void run_host(struct ctx *c);

/* manifest.c: writes manifest.json, summary.json, reproduce.sh (and INVALID); true when the
 * result is valid. started: when the run began (ISO 8601). */
bool assemble(struct ctx *c, const char *started);
void record_checkout(struct ctx *c);

#endif
