/* A booted guest saved once and restored per experiment: the pure parts (see snapshot.h). */
#include "snapshot.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qemu.h"
#include "sha256.h"

int snapshot_switch(const char *value, struct err *e)
{
	/* Off unless asked for, until the whole suite and the paper's comparisons have been checked
	 * restored on a quiet host (README, "Booting from a snapshot"). */
	if (!value || !*value || !strcmp(value, "0"))
		return 0;
	if (!strcmp(value, "1"))
		return 1;
	return errf(e, "SNAPSHOT='%s': give 1 (boot from a saved booted guest where one applies) or 0 "
		    "(always boot cold; the default)", value);
}

const char *snapshot_unusable(const struct experiment *x, bool nested, long long job_bytes)
{
	if (strcmp(x->target, "vm"))
		return "TARGET=host boots nothing";
	if (strcmp(x->accel_kind, "tcg"))
		return "ACCEL=kvm: a KVM boot is short already, and its saved state would hold the host CPU's model";
	if (strcmp(x->initrd, "scxlab"))
		return "[vm] initrd = image: only scxlab's initramfs waits for a job to be saved";
	if (nested)
		return "the run attaches a fourth disk (selfcheck-kvm's nested image)";
	if (job_bytes > SNAPSHOT_JOB_DISK_BYTES)
		return "the job is larger than the snapshot's job disk (64 MiB)";
	return NULL;
}

char *snapshot_key_text(const struct experiment *x, const char *qemu_version, const char *image_id,
			const char *kernel_sha256, const char *initrd_sha256)
{
	/* the command line with each path named by its role: the same shape and clock give the
	 * same text wherever the image, build and staging folders are */
	struct qemu_snap roles = { .overlay = "ROOT-OVERLAY" };
	struct strv a = { 0 };
	qemu_argv(x, "IMAGE", "INITRD", "JOB-DISK", "RESULTS-DISK", &roles, &a);
	char *line = strv_join(&a, " ");
	strv_free(&a);
	char *text = xasprintf("format %d\nqemu %s\nimage %s\nkernel %s\ninitrd %s\njob_disk_bytes %lld\n"
			       "results_disk_mb %ld\nargv %s\n", SNAPSHOT_FORMAT, qemu_version, image_id,
			       kernel_sha256, initrd_sha256, SNAPSHOT_JOB_DISK_BYTES, x->results_disk_mb, line);
	free(line);
	return text;
}

void snapshot_key(const char *key_text, char key[17])
{
	struct sha256 s;
	char hex[65];
	sha256_init(&s);
	sha256_update(&s, key_text, strlen(key_text));
	sha256_hex(&s, hex);
	snprintf(key, 17, "%.16s", hex);
}

char *boot_fresh_text(const struct timespec *now, const unsigned char *bytes, size_t n)
{
	char *hex = xmalloc(2 * n + 1);
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
	char *t = xasprintf("realtime %lld.%09ld\nentropy %s\n", (long long)now->tv_sec, now->tv_nsec, hex);
	free(hex);
	return t;
}

int boot_fresh_parse(const char *text, struct timespec *now, unsigned char *bytes, size_t cap, size_t *n,
		     struct err *e)
{
	long long sec;
	long nsec;
	int used = 0;
	if (sscanf(text, "realtime %lld.%9ld\nentropy %n", &sec, &nsec, &used) != 2 || !used || sec <= 0 ||
	    nsec < 0 || nsec > 999999999)
		return errf(e, "%s: expected 'realtime SEC.NSEC' then 'entropy HEX'", BOOT_FRESH_FILE);
	const char *h = text + used;
	size_t len = strspn(h, "0123456789abcdef");
	if (!len || len % 2 || len / 2 > cap || (h[len] && strcmp(h + len, "\n")))
		return errf(e, "%s: the entropy is not an even number of lower-case hex digits (at most %zu bytes)",
			    BOOT_FRESH_FILE, cap);
	for (size_t i = 0; i < len / 2; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		bytes[i] = (unsigned char)v;
	}
	*n = len / 2;
	now->tv_sec = (time_t)sec;
	now->tv_nsec = nsec;
	return 0;
}

long snapshot_stale(const char *root, const char *keep, time_t now, long unused_s, char ***out)
{
	*out = NULL;
	DIR *d = opendir(root);
	if (!d)
		return -1;
	long n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || (keep && !strcmp(e->d_name, keep)))
			continue;
		char *path = xasprintf("%s/%s", root, e->d_name);
		struct stat st;
		if (lstat(path, &st) || !S_ISDIR(st.st_mode)) {
			free(path);
			continue;
		}
		bool leftover = strstr(e->d_name, ".tmp-") || strstr(e->d_name, ".broken-") ||
				strstr(e->d_name, ".evicting-");
		long age = (long)(now - st.st_mtime);
		if (age > (leftover ? SNAPSHOT_LEFTOVER_S : unused_s)) {
			*out = xrealloc(*out, (size_t)(n + 1) * sizeof(char *));
			(*out)[n++] = path;
		} else {
			free(path);
		}
	}
	closedir(d);
	return n;
}
