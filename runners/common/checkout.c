/* The git checkout a result was made from (see checkout.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkout.h"
#include "util.h"

/* The argv of git -C dir with args (NULL-terminated) appended, in argv (24 entries). */
static void git_argv(const char *argv[24], const char *dir, const char *const args[])
{
	const char *head[] = { "git", "-c", "safe.directory=*", "-c", "core.quotePath=false", "-C", dir };
	size_t n = 0;
	for (; n < sizeof head / sizeof *head; n++)
		argv[n] = head[n];
	for (size_t i = 0; args[i] && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
}

/* git's stdout, trailing newlines removed ("" on failure). */
static char *git(const char *dir, const char *const args[])
{
	const char *argv[24];
	git_argv(argv, dir, args);
	return argv_output((char *const *)argv);
}

/* git's stdout byte for byte (a binary patch ends in a blank line that matters), its length in
 * *len_out when not NULL; "" on failure
 * (git diff --no-index exits 1 when the files differ, so the exit code is not one). */
static char *git_bytes(const char *dir, const char *const args[], size_t *len_out)
{
	const char *argv[24];
	git_argv(argv, dir, args);
	char tmp[] = "/tmp/scxlab-git-XXXXXX";
	int fd = mkstemp(tmp);
	if (fd < 0)
		return xstrdup("");
	close(fd);
	run_cmd((char *const *)argv, tmp, NULL, NULL, 120);
	size_t len = 0;
	char *out = read_file(tmp, &len);
	unlink(tmp);
	if (len_out)
		*len_out = out ? len : 0;
	return out ? out : xstrdup("");
}

/* Gives up the patch being made: omitted says why. */
static void omit_patch(struct checkout *out, char **patch, long cap, size_t so_far, const char *at)
{
	free(*patch);
	*patch = NULL;
	out->omitted = xasprintf("the changes (%zu bytes or more, at %s) exceed the %ld bytes a result keeps: "
				 "not recorded, so this tree cannot be recreated from the result", so_far, at, cap);
}

void checkout_read_capped(const char *dir, struct checkout *out, long cap)
{
	out->commit = git(dir, (const char *[]){ "rev-parse", "HEAD", NULL });
	out->status = git(dir, (const char *[]){ "status", "--porcelain", "--untracked-files=all", NULL });
	out->patch = NULL;
	out->omitted = NULL;
	if (!out->status[0])
		return;
	char *patch = git_bytes(dir, (const char *[]){ "diff", "--binary", "HEAD", NULL }, NULL);
	size_t have = strlen(patch);
	if ((long)have > cap) {
		omit_patch(out, &patch, cap, have, "the tracked files' diff");
		return;
	}
	/* -z: names as they are, whatever characters they hold */
	size_t len;
	char *untracked = git_bytes(dir, (const char *[]){ "ls-files", "-z", "--others", "--exclude-standard", NULL },
				    &len);
	for (size_t at = 0; at < len; at += strlen(untracked + at) + 1) {
		/* a file's patch is at least as long as the file: one too large is never read */
		char *path = xasprintf("%s/%s", dir, untracked + at);
		struct stat sb;
		long size = lstat(path, &sb) == 0 ? (long)sb.st_size : 0;
		free(path);
		if ((long)have + size > cap) {
			omit_patch(out, &patch, cap, have + (size_t)size, untracked + at);
			break;
		}
		char *part = git_bytes(dir, (const char *[]){ "diff", "--no-index", "--binary", "--", "/dev/null",
							      untracked + at, NULL }, NULL);
		have += strlen(part);
		char *joined = xasprintf("%s%s", patch, part);
		free(part);
		free(patch);
		patch = joined;
		if ((long)have > cap) {
			omit_patch(out, &patch, cap, have, untracked + at);
			break;
		}
	}
	free(untracked);
	out->patch = patch;
}

void checkout_read(const char *dir, struct checkout *out)
{
	checkout_read_capped(dir, out, CHECKOUT_PATCH_CAP);
}

void checkout_free(struct checkout *c)
{
	free(c->commit);
	free(c->status);
	free(c->patch);
	free(c->omitted);
	c->commit = c->status = c->patch = c->omitted = NULL;
}
