/*
 * The QEMU command line of a guest boot, built from the experiment alone (pure: no files
 * are touched), so that a test can check what each clock and VM shape turns into.
 */
#ifndef SCXLAB_QEMU_H
#define SCXLAB_QEMU_H
#include "experiment.h"
#include "snapshot.h"
#include "util.h"

/*
 * Appends to a the argv that boots x's guest: the clock's -accel (and -icount when it has
 * one), -cpu, -smp from vcpus and threads_per_core, -m, the image's vmlinuz, the initrd (the
 * path of the one [vm] initrd names: scxlab's build/kernel/initramfs.img or the image's own
 * initrd.img; experiment_initrd()) and the kernel command line, and three virtio drives: image/rootfs.ext4 (snapshot=on), the job tar
 * (read-only) and the results disk. a.v is NULL-terminated, ready for execvp.
 * snap (NULL for a cold boot): a boot that is saved or restored (runners/common/snapshot.h):
 * the root disk is snap->overlay (qcow2), the kernel command line gets SNAPSHOT_CMDLINE_FLAG,
 * and after the drives come the state's format (-global migration.mapped-ram=on, and store-global-state=off: a
 * restore starts the guest by itself) and -qmp
 * (saving) or -incoming (restoring).
 */
void qemu_argv(const struct experiment *x, const char *image, const char *initrd, const char *jobtar,
	       const char *resdisk, const struct qemu_snap *snap, struct strv *a);

/*
 * The -icount value's shift (each guest instruction lasts 2^shift ns of guest time), the one
 * number that sets the virtual clock's time model: 0 to ICOUNT_SHIFT_MAX, or -1 when icount
 * has none (empty: the real clock) or an adaptive one (shift=auto, which no run can repeat).
 */
#define ICOUNT_SHIFT_MAX 10
long icount_shift_of(const char *icount);
/* icount with its shift replaced by (or, with none, led by) shift=N; its other options kept
 * in order. Caller frees. */
char *icount_with_shift(const char *icount, long shift);

#endif
