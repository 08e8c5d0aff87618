/* The checkout a result records (runners/common/checkout.c): a clean checkout has no patch, and a
 * modified one's patch recreates it (tracked changes, a deletion, untracked text and binary files)
 * when applied to a fresh clone of its commit. Uses a scratch git repository. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "checkout.h"
#include "testutil.h"

static int in_repo(const char *dir, const char *const args[])
{
	const char *argv[16] = { "git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", dir };
	size_t n = 7;
	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return run_cmd((char *const *)argv, NULL, NULL, NULL, 30);
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
	char *p = xasprintf("%s/%s", dir, name);
	char *text = read_file(p, len);
	free(p);
	return text;
}

static void test_patch_recreates_a_modified_checkout(void **st)
{
	char *top = scratch_dir(), *repo = xasprintf("%s/repo", top), *copy = xasprintf("%s/copy", top);
	put_file(repo, "configs/a.ini", "[vm]\nvcpus = 2\n");
	put_file(repo, "gone.txt", "to be deleted\n");
	put_file(repo, ".gitignore", "/results/\n");
	assert_int_equal(in_repo(repo, (const char *[]){ "init", "-q", NULL }), 0);
	assert_int_equal(in_repo(repo, (const char *[]){ "add", "-A", NULL }), 0);
	assert_int_equal(in_repo(repo, (const char *[]){ "commit", "-q", "-m", "base", NULL }), 0);

	struct checkout co;
	checkout_read(repo, &co);
	assert_int_equal(strlen(co.commit), 40);
	assert_string_equal(co.status, "");
	assert_null(co.patch);
	checkout_free(&co);

	/* modified: a changed file, a deleted one, an untracked text and binary file, an ignored one */
	put_file(repo, "configs/a.ini", "[vm]\nvcpus = 4\n");
	char *gone = xasprintf("%s/gone.txt", repo);
	unlink(gone);
	put_file(repo, "configs/vms/new one.ini", "[vm]\nmemory_mb = 512\n");
	put_file(repo, "odd\nname \"q\".txt", "x\n");
	char *bin = xasprintf("%s/blob.bin", repo);
	const unsigned char bytes[] = { 0, 1, 2, 255, 0, 10, 13, 0 };
	assert_int_equal(write_file(bin, (const char *)bytes, sizeof bytes), 0);
	put_file(repo, "results/20260101-x/manifest.json", "{}\n");
	checkout_read(repo, &co);
	assert_true(co.status[0] != '\0');
	assert_non_null(co.patch);
	assert_null(strstr(co.patch, "results/"));	/* ignored files are not the checkout's */

	char *patch = xasprintf("%s/git-diff.patch", top);
	assert_int_equal(write_file(patch, co.patch, strlen(co.patch)), 0);
	const char *clone[] = { "git", "clone", "-q", repo, copy, NULL };
	assert_int_equal(run_cmd((char *const *)clone, NULL, NULL, NULL, 30), 0);
	assert_int_equal(in_repo(copy, (const char *[]){ "apply", "--binary", patch, NULL }), 0);
	size_t la, lb;
	char *a = slurp(copy, "configs/a.ini", &la);
	assert_string_equal(a, "[vm]\nvcpus = 4\n");
	char *n = slurp(copy, "configs/vms/new one.ini", &la);
	assert_string_equal(n, "[vm]\nmemory_mb = 512\n");
	char *b = slurp(copy, "blob.bin", &lb);
	assert_int_equal(lb, sizeof bytes);
	assert_memory_equal(b, bytes, sizeof bytes);
	char *o = slurp(copy, "odd\nname \"q\".txt", &la);
	assert_string_equal(o, "x\n");
	free(o);
	char *g = xasprintf("%s/gone.txt", copy);
	assert_int_not_equal(access(g, F_OK), 0);
	/* and the recreated tree reads as the same modification */
	struct checkout again;
	put_file(copy, "results/20260101-x/manifest.json", "{}\n");
	checkout_read(copy, &again);
	assert_string_equal(again.commit, co.commit);
	assert_string_equal(again.patch, co.patch);
	checkout_free(&again);
	checkout_free(&co);
	free(a);
	free(n);
	free(b);
	free(g);
	free(gone);
	free(bin);
	free(patch);
	remove_tree(top);
	free(top);
	free(repo);
	free(copy);
}

/* A patch over the cap is not made: an untracked file larger than it is never read, a diff that
 * grows past it is dropped, and omitted names the file; under the cap nothing changes. */
static void test_a_patch_over_the_cap_is_omitted_and_says_why(void **st)
{
	char *top = scratch_dir(), *repo = xasprintf("%s/repo", top);
	put_file(repo, "a.txt", "one\n");
	assert_int_equal(in_repo(repo, (const char *[]){ "init", "-q", NULL }), 0);
	assert_int_equal(in_repo(repo, (const char *[]){ "add", "-A", NULL }), 0);
	assert_int_equal(in_repo(repo, (const char *[]){ "commit", "-q", "-m", "base", NULL }), 0);
	put_file(repo, "a.txt", "two\n");
	struct checkout co;
	checkout_read_capped(repo, &co, 4096);
	assert_non_null(co.patch);
	assert_null(co.omitted);
	checkout_free(&co);

	char big[6000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	put_file(repo, "data/big.csv", big);
	checkout_read_capped(repo, &co, 4096);
	assert_true(co.status[0] != '\0');
	assert_null(co.patch);
	assert_non_null(co.omitted);
	assert_non_null(strstr(co.omitted, "data/big.csv"));
	assert_non_null(strstr(co.omitted, "4096 bytes a result keeps"));
	checkout_free(&co);

	/* the tracked diff alone over the cap */
	put_file(repo, "a.txt", big);
	char *gone = xasprintf("%s/data/big.csv", repo);
	unlink(gone);
	checkout_read_capped(repo, &co, 4096);
	assert_null(co.patch);
	assert_non_null(strstr(co.omitted, "the tracked files' diff"));
	checkout_free(&co);
	/* and the default cap keeps it */
	checkout_read(repo, &co);
	assert_non_null(co.patch);
	assert_null(co.omitted);
	checkout_free(&co);
	free(gone);
	remove_tree(top);
	free(top);
	free(repo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patch_recreates_a_modified_checkout),
		cmocka_unit_test(test_a_patch_over_the_cap_is_omitted_and_says_why),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
