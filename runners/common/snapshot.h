/*
 * A booted guest saved once and restored per experiment (ARCHITECTURE.md, "Booting from a
 * snapshot"): the pure parts, under unit tests. The host side that runs QEMU to save and
 * restore is runners/host/snapshot.c; the guest side that waits for a job is
 * kernel/initramfs/init.c.
 *
 * A snapshot holds a guest booted up to scxlab's initramfs, which has mounted the root
 * filesystem and waits for a job on /dev/vdb. Everything that shapes that state is in its
 * key: the QEMU command line (clock, VM shape, kernel command line, disk sizes), QEMU's
 * version, the image, the kernel and the initrd.
 */
#ifndef SCXLAB_SNAPSHOT_H
#define SCXLAB_SNAPSHOT_H
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "experiment.h"
#include "util.h"

/* The job disk's size under a snapshot: the guest read the disk's capacity when it booted,
 * so every restore gets a job tar padded to the size the snapshot was saved with. A larger
 * job (selfcheck-kvm carries an image) boots cold. */
#define SNAPSHOT_JOB_DISK_BYTES (64LL << 20)
/* on the kernel command line of a boot made to be saved: the initramfs then waits for a job */
#define SNAPSHOT_CMDLINE_FLAG "scxlab.snapshot=1"
/* bumped when what a snapshot holds changes meaning (part of the key) */
#define SNAPSHOT_FORMAT 1
/* the file in the job folder with the host's clock and fresh random bytes (boot_fresh_*) */
#define BOOT_FRESH_FILE "boot-fresh.txt"
#define BOOT_FRESH_BYTES 64

/* What a boot from (or for) a snapshot adds to the cold command line (NULL fields: none). */
struct qemu_snap {
	const char *overlay;	/* the root disk: a qcow2 overlay over image/rootfs.ext4 */
	const char *qmp;	/* saving: the QMP socket the host stops and saves the guest through */
	const char *incoming;	/* restoring: the saved state, loaded at start */
};

/* SNAPSHOT= (the runner reads it as SCXLAB_SNAPSHOT): "1" on, "0" off, NULL or "" the
 * default (off, for now: README). Anything else: -1 and e says what is accepted. */
int snapshot_switch(const char *value, struct err *e);

/* Why this experiment must boot cold, or NULL when a snapshot can serve it. nested: the run
 * attaches a fourth disk (selfcheck-kvm); job_bytes: the size of its job tar. */
const char *snapshot_unusable(const struct experiment *x, bool nested, long long job_bytes);

/* The text a snapshot's key hashes (also kept beside it as key.txt): the format, QEMU's
 * version, the image's identity, the kernel's and initrd's sha256, and the command line that
 * boots it with every path replaced by its role. Caller frees. */
char *snapshot_key_text(const struct experiment *x, const char *qemu_version, const char *image_id,
			const char *kernel_sha256, const char *initrd_sha256);
/* The key: the first 16 hex digits of the text's sha256. */
void snapshot_key(const char *key_text, char key[17]);

/* The boot-fresh file: "realtime SEC.NSEC\nentropy HEX\n", written by the host just before the
 * guest starts; the agent sets the guest's wall clock from it and mixes the bytes into the
 * kernel's entropy pool, so that restored guests neither start at the snapshot's time nor
 * share its random state. parse: 0, or -1 with e saying what is wrong. */
char *boot_fresh_text(const struct timespec *now, const unsigned char *bytes, size_t n);
int boot_fresh_parse(const char *text, struct timespec *now, unsigned char *bytes, size_t cap, size_t *n,
		     struct err *e);

/* A snapshot not restored (nor made) for this long is removed from the cache by the next run
 * that uses snapshots: each is about 130 MB, and every change of the initramfs, kernel, image,
 * QEMU or VM shape makes a new key. A snapshot's folder's mtime is its last use. */
#define SNAPSHOT_UNUSED_S (7L * 24 * 3600)
/* what runs that died while making or dropping a snapshot left (KEY.tmp-PID, KEY.broken-PID,
 * KEY.evicting-PID) goes once it is this old: a fresh one may be another run's, at work */
#define SNAPSHOT_LEFTOVER_S 3600L

/* The folders under root to remove as of now: snapshots last used more than unused_s ago, and
 * leftovers older than SNAPSHOT_LEFTOVER_S; never keep (a key's folder name, or NULL). The
 * paths (root/name) into *out, their count returned; -1 when root cannot be read. Caller frees
 * each path and the array. */
long snapshot_stale(const char *root, const char *keep, time_t now, long unused_s, char ***out);

#endif
