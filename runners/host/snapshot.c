/*
 * Booting from a snapshot (ARCHITECTURE.md, "Booting from a snapshot"; the pure parts are
 * runners/common/snapshot.c). Under TCG the kernel's own start takes most of an
 * experiment's overhead, and it is the same in every boot of a VM shape and clock. So the
 * first run that needs a shape boots it once more with scxlab.snapshot=1, where the
 * initramfs stops and waits for a job (kernel/initramfs/init.c), and saves it with QMP
 * (stop, migrate to a file, quit) into $SCXLAB_CACHE/snapshots/<key>/: the state, the
 * root disk's qcow2 overlay (what the guest had written to its root when it was saved) and
 * key.txt (what the key hashes). Every run of that shape then starts QEMU with the same
 * command line plus -incoming, on its own copy of the overlay, with its job tar padded to
 * the saved job disk's size. What cannot use one (snapshot_unusable(), SNAPSHOT=0, a
 * snapshot that could not be made) boots cold, as before; the manifest says which
 * (times.boot_path).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "qemu.h"
#include "sha256.h"
#include "snapshot.h"
#include "util.h"

/* $SCXLAB_SNAPSHOTS when set (a folder of snapshots of one's own: test_snapshot breaks one on
 * purpose, which must not reach another test restoring the shared one), else the cache's. */
static char *cache_dir(void)
{
	const char *s = getenv("SCXLAB_SNAPSHOTS");
	if (s && *s)
		return xstrdup(s);
	const char *c = getenv("SCXLAB_CACHE");
	return xasprintf("%s/snapshots", c && *c ? c : "/var/cache/scxlab");
}

/* A file of size bytes, all zeros (sparse). */
static int zero_file(const char *path, long long size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	int rc = ftruncate(fd, (off_t)size);
	return close(fd) || rc ? -1 : 0;
}

/* One QMP command and its answer (events in between are skipped): 0 when it returned, else -1
 * with why. answer (may be NULL) gets the "return" value. */
static int qmp(FILE *f, const char *cmd, json_t **answer, char *why, size_t len)
{
	if (cmd && (fprintf(f, "%s\n", cmd) < 0 || fflush(f))) {
		snprintf(why, len, "QMP: cannot send %s: %s", cmd, strerror(errno));
		return -1;
	}
	char line[65536];
	while (fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, NULL);
		if (!j)
			continue;
		if (json_object_get(j, "event")) {
			json_decref(j);
			continue;
		}
		json_t *err = json_object_get(j, "error");
		if (err) {
			snprintf(why, len, "QMP %s: %s", cmd ? cmd : "greeting",
				 json_string_value(json_object_get(err, "desc")) ?: "error");
			json_decref(j);
			return -1;
		}
		if (answer)
			*answer = json_incref(json_object_get(j, "return"));
		json_decref(j);
		return 0;
	}
	snprintf(why, len, "QMP: the connection closed (%s)", cmd ? cmd : "greeting");
	return -1;
}

/* Stops the guest, saves it into state and tells QEMU to quit. Stopped at once: under the
 * virtual clock an idle guest's time jumps ahead, and a guest saved while running would wake
 * minutes of kernel uptime older than a cold-booted one (its delayed kernel work done). The
 * command line's store-global-state=off keeps the stop out of the file, so a restore runs. */
static int qmp_save(const char *sock, const char *state, char *why, size_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(why, len, "cannot connect to QEMU's QMP socket %s: %s", sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	FILE *f = fdopen(fd, "r+");
	json_t *uri = json_pack("{s:s, s:{s:s}}", "execute", "migrate", "arguments", "uri", "");
	char *file_uri = xasprintf("file:%s", state);
	json_object_set_new(json_object_get(uri, "arguments"), "uri", json_string(file_uri));
	char *migrate = json_dumps(uri, JSON_COMPACT);
	int rc = -1;
	if (qmp(f, NULL, NULL, why, len) || qmp(f, "{\"execute\":\"qmp_capabilities\"}", NULL, why, len) ||
	    qmp(f, "{\"execute\":\"stop\"}", NULL, why, len) || qmp(f, migrate, NULL, why, len))
		goto out;
	/* a file migration of a stopped guest: seconds; each query answers at once */
	for (int i = 0; i < 6000; i++) {
		json_t *st = NULL;
		if (qmp(f, "{\"execute\":\"query-migrate\"}", &st, why, len))
			goto out;
		const char *s = json_string_value(json_object_get(st, "status")) ?: "";
		if (!strcmp(s, "completed")) {
			json_decref(st);
			rc = 0;
			break;
		}
		if (!strcmp(s, "failed") || !strcmp(s, "cancelled")) {
			snprintf(why, len, "QEMU could not save the guest: migration %s (%s)", s,
				 json_string_value(json_object_get(st, "error-desc")) ?: "no reason given");
			json_decref(st);
			goto out;
		}
		json_decref(st);
		usleep(100000);
	}
	if (rc)
		snprintf(why, len, "QEMU did not finish saving the guest within 600 s");
	else
		qmp(f, "{\"execute\":\"quit\"}", NULL, why, len);
out:
	fclose(f);
	free(migrate);
	free(file_uri);
	json_decref(uri);
	return rc;
}

/*
 * Boots the guest to the snapshot point and saves it into dir (made as a temporary folder
 * beside it and renamed: runners started at once each make their own, and the first rename
 * wins). 0, or -1 with why. The boot's console is kept as raw/snapshot-console.log.
 */
static int snapshot_make(struct ctx *c, const char *dir, const char *key_text, const char *initrd, char *why,
			 size_t len)
{
	struct experiment *x = &c->x;
	char *tmp = xasprintf("%s.tmp-%d", dir, (int)getpid());
	char *overlay = xasprintf("%s/root.qcow2", tmp), *state = xasprintf("%s/state", tmp);
	char *job = xasprintf("%s/job.img", tmp), *res = xasprintf("%s/results.img", tmp);
	char *console = xasprintf("%s/snapshot-console.log", c->raw), *keyp = xasprintf("%s/key.txt", tmp);
	/* short: a socket's path has at most 107 bytes, and the cache may be anywhere */
	char *sock = xasprintf("/tmp/scxlab-snapshot-%d.qmp", (int)getpid());
	char *rootfs = xasprintf("%s/rootfs.ext4", c->o->image), *backing = realpath(rootfs, NULL);
	int rc = -1;
	remove_tree(tmp);
	unlink(sock);
	if (!backing || mkdir_p(tmp, 0755)) {
		snprintf(why, len, "cannot prepare %s: %s", tmp, strerror(errno));
		goto out;
	}
	char *img_argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", backing, overlay, NULL };
	if (run_cmd(img_argv, console, NULL, NULL, 60)) {
		snprintf(why, len, "qemu-img could not create the root overlay (raw/snapshot-console.log)");
		goto out;
	}
	if (zero_file(job, SNAPSHOT_JOB_DISK_BYTES) || zero_file(res, (long long)x->results_disk_mb << 20) ||
	    write_text(keyp, "%s", key_text)) {
		snprintf(why, len, "cannot write into %s: %s", tmp, strerror(errno));
		goto out;
	}
	struct qemu_snap snap = { .overlay = overlay, .qmp = sock };
	struct strv a = { 0 };
	qemu_argv(x, c->o->image, initrd, job, res, &snap, &a);
	double t0 = mono_now();
	pid_t pid = spawn(a.v, console, NULL, NULL);
	strv_free(&a);
	if (pid < 0) {
		snprintf(why, len, "cannot start QEMU: %s", strerror(errno));
		goto out;
	}
	/* the boot's own deadline, in wall seconds (a loaded host gets three times as long) */
	double limit = 3.0 * (double)x->boot_timeout;
	bool ready = false, exited = false, boot_error = false;
	int status = 0;
	/* looked at often: the guest's time runs on until it is stopped */
	while (!ready && !exited && !boot_error && !interrupted && mono_now() - t0 < limit) {
		usleep(20000);
		char *log = read_file(console, NULL);
		ready = log && strstr(log, PROTO_PREFIX PROTO_SNAPSHOT_READY);
		boot_error = log && !ready && strstr(log, PROTO_PREFIX PROTO_BOOT_ERROR);
		free(log);
		exited = waitpid(pid, &status, WNOHANG) == pid;
	}
	if (!ready) {
		if (interrupted)
			snprintf(why, len, "interrupted");
		else if (exited || boot_error)
			snprintf(why, len, "the guest stopped before it was ready to be saved (raw/snapshot-console.log)");
		else
			snprintf(why, len, "the guest was not ready to be saved within %.0f s (raw/snapshot-console.log)",
				 limit);
		if (!exited) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		goto out;
	}
	if (qmp_save(sock, state, why, len)) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		goto out;
	}
	bool timed_out;
	if (exit_code_of(wait_timeout(pid, 60, &timed_out)) != 0) {
		snprintf(why, len, "QEMU did not quit cleanly after saving the guest");
		goto out;
	}
	unlink(job);
	unlink(res);
	c->snapshot_made_s = mono_now() - t0;
	if (rename(tmp, dir) && !is_dir(dir)) {	/* another runner's rename first is as good */
		snprintf(why, len, "cannot move the snapshot into %s: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (is_dir(tmp))
		remove_tree(tmp);
	unlink(sock);
	free(tmp);
	free(overlay);
	free(state);
	free(job);
	free(res);
	free(console);
	free(keyp);
	free(sock);
	free(rootfs);
	free(backing);
	return rc;
}

/* The key of x's snapshot, with its text; NULL (and why) when a part of it cannot be read. */
static char *key_of(struct ctx *c, const char *initrd, char **text, char *why, size_t len)
{
	char kernel[65], ird[65];
	char *vmlinuz = xasprintf("%s/vmlinuz", c->o->image), *rootfs = xasprintf("%s/rootfs.ext4", c->o->image);
	char *img = realpath(c->o->image, NULL);
	char *ver_argv[] = { (char *)c->x.qemu, "-version", NULL };
	char *ver = argv_output(ver_argv);
	struct stat st;
	char *key = NULL;
	if (!img || stat(rootfs, &st) || sha256_file(vmlinuz, kernel) || sha256_file(initrd, ird) || !*ver) {
		snprintf(why, len, "cannot identify the image, kernel, initrd or QEMU version to key the snapshot: %s",
			 strerror(errno));
	} else {
		/* the image folder is named by its recipe's hash; its root disk's size and time say it
		 * was not rebuilt in place (hashing 0.7 GB per run would cost seconds) */
		char *id = xasprintf("%s rootfs.ext4 %lld bytes, mtime %lld.%09ld", img, (long long)st.st_size,
				     (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		ver[strcspn(ver, "\n")] = '\0';
		*text = snapshot_key_text(&c->x, ver, id, kernel, ird);
		key = xmalloc(17);
		snapshot_key(*text, key);
		free(id);
	}
	free(vmlinuz);
	free(rootfs);
	free(img);
	free(ver);
	return key;
}

/* Removes the cache's snapshots unused for SNAPSHOT_UNUSED_S and old leftovers, keeping key's. Each
 * is renamed away first, so a run that looks for it at that moment finds none and makes a new one. */
static void evict_stale(struct ctx *c, const char *root, const char *key)
{
	char **stale;
	long n = snapshot_stale(root, key, time(NULL), SNAPSHOT_UNUSED_S, &stale);
	for (long i = 0; i < n; i++) {
		char *gone = strstr(stale[i], ".evicting-") ? xstrdup(stale[i])
							     : xasprintf("%s.evicting-%d", stale[i], (int)getpid());
		if (!strcmp(gone, stale[i]) || !rename(stale[i], gone)) {
			remove_tree(gone);
			progress(c, "removed %s from the snapshot cache (unused for over %ld days, or left by a run that died)",
				 stale[i], SNAPSHOT_UNUSED_S / 86400);
		}
		free(gone);
		free(stale[i]);
	}
	free(stale);
}

bool snapshot_prepare(struct ctx *c, const char *initrd, const char *jobtar, struct qemu_snap *snap)
{
	struct stat st;
	char why[ERRLEN];
	const char *no = NULL;
	c->boot_path = "cold";
	if (!c->snapshot_on)
		no = "SNAPSHOT=0";
	else if (stat(jobtar, &st))
		no = "the job tar cannot be read";
	else
		no = snapshot_unusable(&c->x, c->nested_rootfs != NULL, (long long)st.st_size);
	if (no) {
		c->boot_path_why = xstrdup(no);
		return false;
	}
	char *text = NULL, *key = key_of(c, initrd, &text, why, sizeof(why));
	if (!key) {
		c->boot_path_why = xstrdup(why);
		progress(c, "booting cold: %s", why);
		return false;
	}
	char *root = cache_dir(), *dir = xasprintf("%s/%s", root, key);
	char *state = xasprintf("%s/state", dir), *saved_overlay = xasprintf("%s/root.qcow2", dir);
	mkdir_p(root, 0755);
	evict_stale(c, root, key);
	if (!path_exists(state)) {
		progress(c, "no saved guest for this VM shape and clock yet (snapshot %s): booting one to save it, once",
			 key);
		if (snapshot_make(c, dir, text, initrd, why, sizeof(why))) {
			c->boot_path_why = xasprintf("the snapshot could not be made: %s", why);
			progress(c, "booting cold: %s", c->boot_path_why);
			goto cold;
		}
		progress(c, "saved the booted guest as snapshot %s in %.0f s", key, c->snapshot_made_s);
	}
	char *overlay = xasprintf("%s/.root.qcow2", c->staging);
	if (copy_file(saved_overlay, overlay, 0644) || truncate(jobtar, (off_t)SNAPSHOT_JOB_DISK_BYTES)) {
		c->boot_path_why = xasprintf("cannot prepare the restore (%s)", strerror(errno));
		progress(c, "booting cold: %s", c->boot_path_why);
		unlink(overlay);
		free(overlay);
		goto cold;
	}
	/* its last use, for evict_stale() */
	utimes(dir, NULL);
	c->job_tar_bytes = (long long)st.st_size;
	c->snapshot_dir = dir;
	c->snapshot_key = key;
	c->boot_path = "snapshot";
	snap->overlay = overlay;
	snap->incoming = state;
	free(saved_overlay);
	free(root);
	free(text);
	return true;
cold:
	free(dir);
	free(state);
	free(saved_overlay);
	free(root);
	free(text);
	free(key);
	return false;
}

void snapshot_abandon(struct ctx *c, struct qemu_snap *snap, const char *jobtar, const char *why)
{
	/* a state QEMU could not restore is removed, so that the next run makes a new one; a run
	 * restoring from it at this moment has it open already */
	char *gone = xasprintf("%s.broken-%d", c->snapshot_dir, (int)getpid());
	if (!rename(c->snapshot_dir, gone))
		remove_tree(gone);
	free(gone);
	unlink(snap->overlay);
	free((char *)snap->overlay);
	free((char *)snap->incoming);
	snap->overlay = snap->incoming = NULL;
	/* the cold boot gets the job disk a cold boot has */
	if (truncate(jobtar, (off_t)c->job_tar_bytes))
		die(EXIT_INFRA, "cannot restore the job tar %s to its size: %s", jobtar, errno_text(errno));
	c->boot_path = "cold";
	c->boot_path_why = xasprintf("the snapshot %s could not be restored (%s; its console: raw/console-restore.log)",
				     c->snapshot_key, why);
	free(c->snapshot_key);
	c->snapshot_key = NULL;
}
