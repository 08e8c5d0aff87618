/* The git checkout a result was made from: its commit, whether it was modified, and a modified
 * checkout's changes as one patch (runners/host/manifest.c keeps it in each result). */
#ifndef SCXLAB_CHECKOUT_H
#define SCXLAB_CHECKOUT_H

struct checkout {
	char *commit;	/* HEAD's 40 hex digits; "" outside a git checkout */
	char *status;	/* git status --porcelain, untracked files included; "" when clean */
	char *patch;	/* NULL when clean: else the changes against commit, see checkout_read() */
	char *omitted;	/* NULL, or why a modified checkout's patch is not kept (patch is then NULL) */
};

/* The most bytes of patch a result keeps (32 MiB): a tree with a large file that git does not
 * ignore would otherwise copy it into every result. */
#define CHECKOUT_PATCH_CAP (32L << 20)

/*
 * Reads the checkout in dir (every git command by argv). A modified checkout's patch holds its
 * tracked changes (git diff --binary HEAD) and then each file git does not ignore that the commit
 * lacks, as a patch creating it: `git apply --binary` on a clean checkout of the commit recreates
 * the tree as it was.
 */
void checkout_read(const char *dir, struct checkout *out);
/* The same with the cap given: a patch that would be larger is not made (no file is read past it),
 * and omitted says so, naming its size so far and the first file that crossed it. */
void checkout_read_capped(const char *dir, struct checkout *out, long cap);
void checkout_free(struct checkout *c);

#endif
