/* Booting from a snapshot, the pure parts (runners/common/snapshot.c, tarhdr.h): when a run
 * may restore one, what its key covers, the switch, the job disk the initramfs waits on, and
 * the host's clock and entropy handed to a restored guest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "experiment.h"
#include "qemu.h"
#include "snapshot.h"
#include "tarhdr.h"
#include "testutil.h"

static void load(struct experiment *x, const char *clock, const char *vm)
{
	struct request r = { .policies = "cfs", .workload = "nginx", .clock = clock, .vm = vm, .accel = "tcg" };
	struct err e = { 0 };
	if (experiment_load(x, "configs", &r, &e))
		fail_msg("experiment_load: %s", e.msg);
}

static char *key_text(const char *clock, const char *vm, const char *qemu, const char *kernel)
{
	struct experiment x;
	load(&x, clock, vm);
	char *t = snapshot_key_text(&x, qemu, "/cache/image-1 rootfs.ext4 5 bytes", kernel, "ird");
	experiment_free(&x);
	return t;
}

static void test_key_covers_what_shapes_the_booted_guest(void **state)
{
	char *base = key_text("virtual", "default", "QEMU 10.0.13", "k1");
	char k1[17], k2[17];
	snapshot_key(base, k1);
	assert_int_equal(strlen(k1), 16);
	/* the same inputs: the same key (runs of one shape share their snapshot) */
	char *same = key_text("virtual", "default", "QEMU 10.0.13", "k1");
	snapshot_key(same, k2);
	assert_string_equal(k1, k2);
	/* each of these changes the booted state, so the key */
	char *other[] = { key_text("real", "default", "QEMU 10.0.13", "k1"), key_text("virtual", "smt", "QEMU 10.0.13", "k1"),
			  key_text("virtual", "default", "QEMU 10.0.14", "k1"), key_text("virtual", "default", "QEMU 10.0.13", "k2") };
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		snapshot_key(other[i], k2);
		assert_string_not_equal(k1, k2);
		free(other[i]);
	}
	/* paths are named by their role: the staging folder of a run is not part of it */
	assert_null(strstr(base, "/st/"));
	assert_non_null(strstr(base, "file=ROOT-OVERLAY,if=virtio,format=qcow2,cache=unsafe"));
	assert_non_null(strstr(base, "file=JOB-DISK,"));
	assert_non_null(strstr(base, "-icount shift=3,sleep=off"));
	assert_non_null(strstr(base, SNAPSHOT_CMDLINE_FLAG));
	assert_non_null(strstr(base, "-global migration.mapped-ram=on"));
	assert_null(strstr(base, "-incoming"));
	assert_null(strstr(base, "-qmp"));
	free(base);
	free(same);
}

static void test_switch(void **state)
{
	struct err e = { 0 };
	assert_int_equal(snapshot_switch(NULL, &e), 0);	/* off by default, for now */
	assert_int_equal(snapshot_switch("", &e), 0);
	assert_int_equal(snapshot_switch("1", &e), 1);
	assert_int_equal(snapshot_switch("0", &e), 0);
	const char *bad[] = { "yes", "2", "01", "0 ", "$(touch x)" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(snapshot_switch(bad[i], &e), -1);
		assert_non_null(strstr(e.msg, "SNAPSHOT="));
	}
}

/* A folder under root with its mtime age_s before now. */
static void aged_dir(const char *root, const char *name, time_t now, long age_s)
{
	char *p = xasprintf("%s/%s", root, name);
	assert_int_equal(mkdir_p(p, 0755), 0);
	struct timespec t[2] = { { .tv_sec = now - age_s }, { .tv_sec = now - age_s } };
	assert_int_equal(utimensat(AT_FDCWD, p, t, 0), 0);
	free(p);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_stale_snapshots_and_leftovers_are_found(void **state)
{
	char *root = scratch_dir();
	time_t now = time(NULL);
	long day = 86400;
	aged_dir(root, "aaaa000000000001", now, 8 * day);	/* unused for 8 days: stale */
	aged_dir(root, "aaaa000000000002", now, 6 * day);	/* 6 days: kept */
	aged_dir(root, "aaaa000000000003", now, 30 * day);	/* the key in use: never */
	aged_dir(root, "aaaa000000000004.tmp-123", now, 2 * 3600);	/* a dead maker's */
	aged_dir(root, "aaaa000000000005.tmp-456", now, 60);	/* another run making one now */
	aged_dir(root, "aaaa000000000006.broken-7", now, 2 * 3600);
	aged_dir(root, "aaaa000000000007.evicting-8", now, 2 * 3600);
	put_file(root, "aaaa000000000008", "a file, not a snapshot\n");
	char **stale;
	long n = snapshot_stale(root, "aaaa000000000003", now, SNAPSHOT_UNUSED_S, &stale);
	assert_int_equal(n, 4);
	qsort(stale, (size_t)n, sizeof(char *), by_name);
	const char *want[] = { "aaaa000000000001", "aaaa000000000004.tmp-123", "aaaa000000000006.broken-7",
			       "aaaa000000000007.evicting-8" };
	for (long i = 0; i < n; i++) {
		char *p = xasprintf("%s/%s", root, want[i]);
		assert_string_equal(stale[i], p);
		free(p);
		free(stale[i]);
	}
	free(stale);
	/* nothing kept when everything is fresh; a missing root is -1 */
	assert_int_equal(snapshot_stale(root, NULL, now - 30 * day, SNAPSHOT_UNUSED_S, &stale), 0);
	free(stale);
	char *none = xasprintf("%s/none", root);
	assert_int_equal(snapshot_stale(none, NULL, now, SNAPSHOT_UNUSED_S, &stale), -1);
	free(none);
	remove_tree(root);
	free(root);
}

static void test_where_a_snapshot_cannot_serve(void **state)
{
	struct experiment x;
	load(&x, "virtual", "default");
	assert_null(snapshot_unusable(&x, false, 1 << 20));
	assert_null(snapshot_unusable(&x, false, SNAPSHOT_JOB_DISK_BYTES));
	assert_non_null(strstr(snapshot_unusable(&x, false, SNAPSHOT_JOB_DISK_BYTES + 1), "larger"));
	assert_non_null(strstr(snapshot_unusable(&x, true, 1 << 20), "fourth disk"));
	const char *saved = x.initrd;
	x.initrd = "image";
	assert_non_null(strstr(snapshot_unusable(&x, false, 1 << 20), "initrd"));
	x.initrd = saved;
	saved = x.accel_kind;
	x.accel_kind = "kvm";
	assert_non_null(strstr(snapshot_unusable(&x, false, 1 << 20), "KVM"));
	x.accel_kind = saved;
	saved = x.target;
	x.target = "host";
	assert_non_null(strstr(snapshot_unusable(&x, false, 1 << 20), "TARGET=host"));
	x.target = saved;
	experiment_free(&x);
}

/* the first block of a tar that tar itself wrote, padded as a job disk is */
static void test_tar_header_on_the_job_disk(void **state)
{
	char *dir = scratch_dir();
	put_file(dir, "job/plan.ini", "[plan]\n");
	char *tar = xasprintf("%s/job.tar", dir), *src = xasprintf("%s/job", dir);
	char *argv[] = { "tar", "-cf", tar, "-C", src, ".", NULL };
	assert_int_equal(run_cmd(argv, NULL, NULL, NULL, 30), 0);
	assert_int_equal(truncate(tar, SNAPSHOT_JOB_DISK_BYTES), 0);
	size_t len = 0;
	unsigned char *b = (unsigned char *)read_file(tar, &len);
	assert_int_equal(len, SNAPSHOT_JOB_DISK_BYTES);
	assert_true(tar_header_valid(b));
	/* the first member is the job folder: its mtime is when the host last wrote into it */
	struct stat st;
	assert_int_equal(stat(src, &st), 0);
	assert_int_equal(tar_header_mtime(b), (long long)st.st_mtime);
	unsigned char junk[512] = { 0 };
	memcpy(junk + 136, "12x", 3);
	assert_int_equal(tar_header_mtime(junk), -1);
	memset(junk + 136, 0, 12);
	assert_int_equal(tar_header_mtime(junk), -1);
	/* the disk the snapshot was saved with: all zeros */
	assert_false(tar_header_valid(b + len - 512));
	/* a block that is not all there yet: the checksum no longer matches */
	b[0] ^= 1;
	assert_false(tar_header_valid(b));
	b[0] ^= 1;
	memcpy(b + 257, "ustaR", 5);
	assert_false(tar_header_valid(b));
	free(b);
	remove_tree(dir);
	free(dir);
	free(tar);
	free(src);
}

static void test_boot_fresh_round_trip(void **state)
{
	unsigned char bytes[BOOT_FRESH_BYTES], back[BOOT_FRESH_BYTES];
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 37 + 1);
	struct timespec now = { .tv_sec = 1764680000, .tv_nsec = 123456789 }, got;
	char *t = boot_fresh_text(&now, bytes, sizeof(bytes));
	size_t n = 0;
	struct err e = { 0 };
	assert_int_equal(boot_fresh_parse(t, &got, back, sizeof(back), &n, &e), 0);
	assert_int_equal(got.tv_sec, now.tv_sec);
	assert_int_equal(got.tv_nsec, now.tv_nsec);
	assert_int_equal(n, sizeof(bytes));
	assert_memory_equal(back, bytes, n);
	free(t);
	/* refused: no clock, odd or foreign digits, more bytes than the pool takes */
	const char *bad[] = { "", "entropy 00\n", "realtime x\nentropy 00\n", "realtime 5.1\nentropy 0\n",
			      "realtime 5.1\nentropy 0g\n", "realtime 5.1\nentropy 00 junk\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(boot_fresh_parse(bad[i], &got, back, sizeof(back), &n, &e), -1);
	assert_int_equal(boot_fresh_parse("realtime 5.1\nentropy 000000\n", &got, back, 2, &n, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_covers_what_shapes_the_booted_guest),
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_stale_snapshots_and_leftovers_are_found),
		cmocka_unit_test(test_where_a_snapshot_cannot_serve),
		cmocka_unit_test(test_tar_header_on_the_job_disk),
		cmocka_unit_test(test_boot_fresh_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
