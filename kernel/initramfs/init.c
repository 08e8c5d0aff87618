/*
 * /init of scxlab's own initramfs: the least a boot needs to reach the image's root
 * filesystem, in place of Debian's udev-based initramfs (which spent 12.6 s of an
 * emulated boot loading drivers; see ARCHITECTURE.md, "Where things run").
 *
 * The guest kernel has ext4 and virtio-pci built in; only virtio_blk is a module. So: mount
 * devtmpfs, load /virtio_blk.ko.xz (the image's own module, put here by kernel/initramfs/
 * build.sh; the kernel decompresses it), wait for root= to appear, mount it on /root, move
 * /dev there and switch to it: chroot into the root and exec the kernel command line's init=
 * (scxlab's /sbin/scxlab-init). Nothing of the initramfs is needed afterwards; the little
 * memory it holds is left in place.
 *
 * A boot made to be saved (scxlab.snapshot=1 on the command line; runners/host/snapshot.c)
 * stops short of init=: it says "SCXLAB snapshot-ready" and waits for a job on /dev/vdb,
 * which is all zeros while the host saves the guest. Each restore attaches a job disk of the
 * same size holding a tar; the wait reads the disk's first block with O_DIRECT, past the page
 * cache that would go on showing the zeros, and once a valid tar header is there it sets the
 * clock to the job's packing time (the header's mtime), drops
 * the job and results disks' cached blocks (the kernel read them when it probed the disks)
 * and goes on to init=, which unpacks the job as in a cold boot.
 *
 * Any failure is printed as the boot error line the host runner reports ("SCXLAB boot-error
 * ...") and the guest powers off at once, as kernel/guest-init does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h"
#include "snapshot.h"
#include "tarhdr.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("SCXLAB boot-error initramfs: ");
	vprintf(fmt, ap);
	printf(" (%s)\n", strerror(errno));
	va_end(ap);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	_exit(1);
}

/* The value of key= on the kernel command line, copied into out; false when absent. */
static int cmdline_value(const char *cmdline, const char *key, char *out, size_t n)
{
	size_t klen = strlen(key);
	for (const char *p = cmdline; *p;) {
		while (*p == ' ' || *p == '\n')
			p++;
		const char *end = p + strcspn(p, " \n");
		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(out, n, "%.*s", (int)(end - p - klen - 1), p + klen + 1);
			return 1;
		}
		p = end;
	}
	return 0;
}

/* Whether word is one of the kernel command line's words. */
static int cmdline_has(const char *cmdline, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = cmdline; (p = strstr(p, word)); p += n)
		if ((p == cmdline || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return 1;
	return 0;
}

/* Drops a block device's cached blocks, so that the next buffered read goes to the disk. */
static void flush_cached(const char *dev)
{
	int fd = open(dev, O_RDONLY);
	if (fd < 0 || ioctl(fd, BLKFLSBUF, 0))
		fail("drop the cached blocks of %s", dev);
	close(fd);
}

/* The snapshot point (see the top): returns once /dev/vdb holds a job. */
static void wait_for_job(void)
{
	static unsigned char block[4096] __attribute__((aligned(4096)));
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	printf(PROTO_PREFIX PROTO_SNAPSHOT_READY "\n");
	fflush(stdout);
	for (;;) {
		int fd = open("/dev/vdb", O_RDONLY | O_DIRECT);
		ssize_t got = fd >= 0 ? pread(fd, block, sizeof(block), 0) : -1;
		if (fd >= 0)
			close(fd);
		if (got >= 512 && tar_header_valid(block))
			break;
		nanosleep(&tick, NULL);
	}
	/* The guest's clock is the snapshot's, behind by however long ago it was made: take the
	 * job's packing time to the second, so that kernel/guest-init's unpacking already runs on
	 * about the host's time (the agent then sets it exactly from boot-fresh.txt). */
	long long packed = tar_header_mtime(block);
	struct timespec now = { .tv_sec = (time_t)packed };
	if (packed > 0)
		clock_settime(CLOCK_REALTIME, &now);
	flush_cached("/dev/vdb");
	flush_cached("/dev/vdc");
}

int main(void)
{
	char cmdline[4096] = "", root[256], init[256];
	mkdir("/dev", 0755);
	mkdir("/proc", 0755);
	mkdir("/root", 0755);
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) && errno != EBUSY)
		fail("mount devtmpfs on /dev");
	/* the console: the kernel opened /dev/console for us only if it existed in the archive */
	int con = open("/dev/console", O_RDWR);
	if (con >= 0) {
		dup2(con, 0);
		dup2(con, 1);
		dup2(con, 2);
		if (con > 2)
			close(con);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (mount("proc", "/proc", "proc", 0, NULL))
		fail("mount /proc");
	int fd = open("/proc/cmdline", O_RDONLY);
	ssize_t got = fd >= 0 ? read(fd, cmdline, sizeof(cmdline) - 1) : -1;
	if (got <= 0)
		fail("read /proc/cmdline");
	cmdline[got] = '\0';
	close(fd);
	umount("/proc");
	if (!cmdline_value(cmdline, "root", root, sizeof(root)))
		snprintf(root, sizeof(root), "/dev/vda");
	if (!cmdline_value(cmdline, "init", init, sizeof(init)))
		snprintf(init, sizeof(init), "/sbin/init");

	int ko = open("/virtio_blk.ko.xz", O_RDONLY | O_CLOEXEC);
	if (ko < 0)
		fail("open /virtio_blk.ko.xz");
	if (syscall(SYS_finit_module, ko, "", MODULE_INIT_COMPRESSED_FILE) && errno != EEXIST)
		fail("load virtio_blk");
	close(ko);

	/* devtmpfs creates the node once the disk is probed: up to 60 s of (guest) time */
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	struct stat st;
	for (int i = 0; stat(root, &st) || !S_ISBLK(st.st_mode); i++) {
		if (i == 6000) {
			errno = ENODEV;
			fail("the root device %s did not appear within 60 s", root);
		}
		nanosleep(&tick, NULL);
	}
	if (mount(root, "/root", "ext4", 0, NULL))
		fail("mount %s (ext4) on /root", root);
	if (mount("/dev", "/root/dev", NULL, MS_MOVE, NULL))
		fail("move /dev to the root filesystem");
	if (chdir("/root") || mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") || chdir("/"))
		fail("switch to the root filesystem");
	if (cmdline_has(cmdline, SNAPSHOT_CMDLINE_FLAG))
		wait_for_job();
	char *argv[] = { init, NULL };
	execv(init, argv);
	fail("exec %s", init);
	return 1;
}
