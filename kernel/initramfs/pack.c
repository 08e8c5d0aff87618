/*
 * pack: writes scxlab's initramfs, an uncompressed cpio archive in the kernel's "newc" format
 * (Documentation/driver-api/early-userspace/buffer-format.rst), holding exactly:
 *     /dev  /dev/console (char 5:1, so that /init has a console from its first line)
 *     /proc  /root  /init (from INIT)  /virtio_blk.ko.xz (from MODULE)
 * Usage: pack OUT INIT MODULE. Writes OUT.tmp and renames it, so OUT is whole or absent.
 * Every field is fixed but the files' contents, so the same inputs give the same bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static FILE *out;
static unsigned long ino = 1;

static void die(const char *what, const char *path)
{
	fprintf(stderr, "pack: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void pad4(long n)
{
	static const char zero[4];
	fwrite(zero, 1, (4 - n % 4) % 4, out);
}

static void entry(const char *name, unsigned mode, unsigned rmaj, unsigned rmin, const void *data, size_t size)
{
	size_t nlen = strlen(name) + 1;
	/* magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
	 * rdevminor, namesize, check */
	fprintf(out, "070701%08lX%08X%08X%08X%08X%08X%08lX%08X%08X%08X%08X%08lX%08X", ino++, mode, 0, 0,
		(mode & S_IFMT) == S_IFDIR ? 2 : 1, 0, (unsigned long)size, 0, 0, rmaj, rmin, (unsigned long)nlen, 0);
	fwrite(name, 1, nlen, out);
	pad4(110 + nlen);
	if (size)
		fwrite(data, 1, size, out);
	pad4(size);
}

static void file_entry(const char *name, const char *path, unsigned perm)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot read", path);
	struct stat st;
	if (fstat(fileno(f), &st))
		die("cannot stat", path);
	char *buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf || fread(buf, 1, st.st_size, f) != (size_t)st.st_size)
		die("cannot read", path);
	fclose(f);
	entry(name, S_IFREG | perm, 0, 0, buf, st.st_size);
	free(buf);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: pack OUT INIT MODULE\n");
		return 2;
	}
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	out = fopen(tmp, "wb");
	if (!out)
		die("cannot create", tmp);
	entry("dev", S_IFDIR | 0755, 0, 0, NULL, 0);
	entry("dev/console", S_IFCHR | 0600, 5, 1, NULL, 0);
	entry("proc", S_IFDIR | 0755, 0, 0, NULL, 0);
	entry("root", S_IFDIR | 0755, 0, 0, NULL, 0);
	file_entry("init", argv[2], 0755);
	file_entry("virtio_blk.ko.xz", argv[3], 0644);
	entry("TRAILER!!!", 0, 0, 0, NULL, 0);
	if (fclose(out))
		die("cannot write", tmp);
	if (rename(tmp, argv[1]))
		die("cannot rename to", argv[1]);
	return 0;
}
