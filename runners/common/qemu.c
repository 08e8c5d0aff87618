/* The QEMU command line of a guest boot (see qemu.h). */
#include <stdlib.h>
#include <string.h>

#include "qemu.h"

void qemu_argv(const struct experiment *x, const char *image, const char *initrd, const char *jobtar,
	       const char *resdisk, const struct qemu_snap *snap, struct strv *a)
{
	strv_push(a, x->qemu);
	strv_split_push(a, "-name scxlab -display none -serial stdio -monitor none -no-reboot -nic none");
	strv_push(a, "-accel");
	strv_push(a, x->accel);
	if (*x->icount) {
		strv_push(a, "-icount");
		strv_push(a, x->icount);
	}
	strv_push(a, "-cpu");
	strv_push(a, x->cpu);
	strv_push(a, "-smp");
	strv_pushf(a, "%ld,sockets=1,cores=%ld,threads=%ld", x->vcpus, x->vcpus / x->threads_per_core,
		   x->threads_per_core);
	strv_push(a, "-m");
	strv_pushf(a, "%ld", x->memory_mb);
	strv_push(a, "-kernel");
	strv_pushf(a, "%s/vmlinuz", image);
	strv_push(a, "-initrd");
	strv_push(a, initrd);
	strv_push(a, "-append");
	if (snap)
		strv_pushf(a, "%s " SNAPSHOT_CMDLINE_FLAG, x->cmdline);
	else
		strv_push(a, x->cmdline);
	strv_push(a, "-drive");
	/* a saved guest's memory assumes what it wrote to its root disk: an overlay file kept with
	 * the state (snapshot=on's would vanish with the QEMU that saved it). cache=unsafe as
	 * snapshot=on's own overlay has: the guest's flushes are not passed on to the host's disk.
	 * The copy is thrown away after the run, and with host flushes a guest waiting for one
	 * idles while the virtual clock jumps ahead: the restored guest sat 47 s of guest time
	 * between two runs where a cold one sat none, and its cfs throughput came out ~2% lower. */
	if (snap)
		strv_pushf(a, "file=%s,if=virtio,format=qcow2,cache=unsafe", snap->overlay);
	else
		strv_pushf(a, "file=%s/rootfs.ext4,if=virtio,format=raw,snapshot=on", image);
	strv_push(a, "-drive");
	strv_pushf(a, "file=%s,if=virtio,format=raw,readonly=on", jobtar);
	strv_push(a, "-drive");
	strv_pushf(a, "file=%s,if=virtio,format=raw", resdisk);
	/* RAM at fixed offsets in a sparse state file: a restore reads only the pages the guest
	 * used (0.7 s of QEMU's CPU time against 5.4 s for the stream format, with 2 GiB of RAM) */
	if (snap) {
		strv_push(a, "-global");
		strv_push(a, "migration.mapped-ram=on");
		/* the guest is saved stopped, so that no guest time passes while it is written; without
		 * the source's run state in the file, the restoring QEMU starts the guest by itself
		 * (with it, the guest would wake stopped and need a QMP cont) */
		strv_push(a, "-global");
		strv_push(a, "migration.store-global-state=off");
	}
	if (snap && snap->qmp) {
		strv_push(a, "-qmp");
		strv_pushf(a, "unix:%s,server=on,wait=off", snap->qmp);
	}
	if (snap && snap->incoming) {
		strv_push(a, "-incoming");
		strv_pushf(a, "file:%s", snap->incoming);
	}
}

long icount_shift_of(const char *icount)
{
	long shift = -1;
	char *copy = xstrdup(icount ? icount : ""), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		/* QEMU also takes a bare number as the shift (-icount 3) */
		const char *v = !strncmp(t, "shift=", 6) ? t + 6 : strchr(t, '=') ? NULL : t;
		char *end;
		if (!v)
			continue;
		long n = strtol(v, &end, 10);
		shift = (*v && !*end && n >= 0 && n <= ICOUNT_SHIFT_MAX) ? n : -1;
	}
	free(copy);
	return shift;
}

char *icount_with_shift(const char *icount, long shift)
{
	struct strv opts = { 0 };
	strv_pushf(&opts, "shift=%ld", shift);
	char *copy = xstrdup(icount ? icount : ""), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (strncmp(t, "shift=", 6) && strchr(t, '='))
			strv_push(&opts, t);
	free(copy);
	char *s = strv_join(&opts, ",");
	strv_free(&opts);
	return s;
}
