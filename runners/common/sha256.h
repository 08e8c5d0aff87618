/*
 * SHA-256 (FIPS 180-4), for identities that must not depend on a tool being installed: the
 * name of an external policy (a hash of its path and arguments) and the hash of the binary
 * that ran. The toolchain root has no crypto library, and these hashes are computed where
 * spawning sha256sum would make pure code depend on processes.
 */
#ifndef SCXLAB_SHA256_H
#define SCXLAB_SHA256_H
#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	unsigned char buf[64];
	size_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Finishes and writes the digest as 64 lower-case hex digits and a NUL. */
void sha256_hex(struct sha256 *s, char hex[65]);
/* The hash of a whole file; -1 (errno set) when it cannot be read. */
int sha256_file(const char *path, char hex[65]);

#endif
