/*
 * Is a 512-byte block the first header of a tar archive? Header-only, because two programs
 * that share nothing else need it: scxlab's initramfs /init (kernel/initramfs/init.c, built
 * static on its own), which waits on the job disk of a guest restored from a snapshot until
 * a job is there, and the unit tests. The check is the ustar magic and the header's own
 * checksum, so that a disk that is all zeros (the one the snapshot was saved with) or holds
 * a half-written block is never taken for a job.
 */
#ifndef SCXLAB_TARHDR_H
#define SCXLAB_TARHDR_H
#include <stdbool.h>
#include <string.h>

static inline bool tar_header_valid(const unsigned char b[512])
{
	/* "ustar" at 257: both POSIX ("ustar\0") and GNU ("ustar  ") archives have it */
	if (memcmp(b + 257, "ustar", 5))
		return false;
	/* the checksum field (148..155) is octal digits, counted as spaces in the sum */
	unsigned long want = 0, sum = 0;
	int i = 148;
	while (i < 156 && b[i] == ' ')
		i++;
	if (i == 156 || b[i] < '0' || b[i] > '7')
		return false;
	for (; i < 156 && b[i] >= '0' && b[i] <= '7'; i++)
		want = want * 8 + (unsigned long)(b[i] - '0');
	for (int k = 0; k < 512; k++)
		sum += (k >= 148 && k < 156) ? ' ' : b[k];
	return sum == want;
}

/* The header's mtime (seconds since the epoch), -1 when the field is not octal digits. The
 * first header of a job is its folder, which the host last changed when it wrote the job's
 * boot-fresh.txt just before packing it: the host's time then, to the second. */
static inline long long tar_header_mtime(const unsigned char b[512])
{
	long long v = 0;
	int i = 136, n = 0;
	while (i < 148 && b[i] == ' ')
		i++;
	for (; i < 148 && b[i] >= '0' && b[i] <= '7'; i++, n++)
		v = v * 8 + (b[i] - '0');
	return n && (i == 148 || b[i] == '\0' || b[i] == ' ') ? v : -1;
}

#endif
