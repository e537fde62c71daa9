/* SPDX-License-Identifier: MIT */
/*
 * test_open.c: scales_open()'s choices and refusals: the app name, and the
 * words that say which directory failed which check.
 */
#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

/* The app component of the segment file name of reg. */
static void app_of(scales_registry *reg, char *out, size_t n)
{
	const char *p = strrchr(scales_registry_path(reg), '/');
	cr_assert_not_null(p);
	snprintf(out, n, "%s", p + 1);
	char *dot = strchr(out, '.');
	cr_assert_not_null(dot);
	*dot = '\0';
}

/* SCALES_APP= (empty, as a unit file may set it) and an empty opts.app
 * count as unset: the program's name, not "_". */
Test(open, empty_app_name_means_the_program_name)
{
	fresh_dir();
	char want[64];
	snprintf(want, sizeof want, "%s", program_invocation_short_name);
	for (char *c = want; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-'))
			*c = '_';

	setenv("SCALES_APP", "", 1);
	struct scales_options o;
	scales_options_init(&o);
	scales_registry *reg = NULL;
	cr_assert_eq(scales_open(&o, &reg), 0);
	char got[256];
	app_of(reg, got, sizeof got);
	cr_expect_str_eq(got, want, "SCALES_APP=\"\" gave app %s", got);
	scales_close(&reg);

	o.app = "";
	setenv("SCALES_APP", "fromenv", 1);
	cr_assert_eq(scales_open(&o, &reg), 0);
	app_of(reg, got, sizeof got);
	cr_expect_str_eq(got, "fromenv", "app \"\" gave %s", got);
	scales_close(&reg);
	unsetenv("SCALES_APP");
}

/* A fresh directory below $SCALES_DIR's parent, for a planted directory. */
static void planted_dir(char *out, size_t n, const char *leaf)
{
	char tmpl[] = "/tmp/scales-test-XXXXXX";
	cr_assert_not_null(mkdtemp(tmpl));
	snprintf(out, n, "%s/%s", tmpl, leaf);
}

static void expect_detail(int rc, int want, const char *dir, const char *why)
{
	const char *d = scales_error_detail();
	cr_expect_eq(rc, want, "rc %d (%s), detail \"%s\"", rc,
	             scales_strerror(rc), d);
	cr_expect_not_null(strstr(d, dir), "detail \"%s\" does not name %s", d,
	                   dir);
	cr_expect_not_null(strstr(d, why), "detail \"%s\" does not say \"%s\"",
	                   d, why);
}

/* SCALES_E_UNSAFE names the directory and the check it failed. */
Test(open, unsafe_directory_is_named_with_the_reason)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = "unsafe";
	scales_registry *reg = NULL;
	char dir[256];

	planted_dir(dir, sizeof dir, "wide");
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(chmod(dir, 0777), 0);
	o.dir = dir;
	expect_detail(scales_open(&o, &reg), SCALES_E_UNSAFE, dir,
	              "writable by others (mode 0777)");
	cr_assert_eq(chmod(dir, 0720), 0);
	expect_detail(scales_open(&o, &reg), SCALES_E_UNSAFE, dir,
	              "writable by its group (mode 0720)");

	char link[300];
	snprintf(link, sizeof link, "%s-link", dir);
	cr_assert_eq(chmod(dir, 0700), 0);
	cr_assert_eq(symlink(dir, link), 0);
	o.dir = link;
	expect_detail(scales_open(&o, &reg), SCALES_E_UNSAFE, link,
	              "a symbolic link");

	/* A success leaves nothing to say. */
	o.dir = dir;
	cr_assert_eq(scales_open(&o, &reg), 0);
	cr_expect_str_eq(scales_error_detail(), "");
	scales_close(&reg);

	if (geteuid() != 0)
		cr_skip_test("another user's directory needs root");
	planted_dir(dir, sizeof dir, "other");
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(chown(dir, 65534, 65534), 0);
	o.dir = dir;
	expect_detail(scales_open(&o, &reg), SCALES_E_UNSAFE, dir,
	              "owned by uid 65534, not by this process's uid 0");
}

/*
 * The case: another user pre-created /dev/shm/scales-<uid> (and
 * /tmp/scales-<uid>). With no $SCALES_DIR every default directory fails;
 * the detail names each with its reason. Run in a private mount namespace
 * with fresh tmpfs on /dev/shm and /tmp, so the real ones are untouched.
 */
Test(open, default_directories_each_named_when_all_fail)
{
	if (geteuid() != 0)
		cr_skip_test("planting another user's directory needs root");
	pid_t p = fork();
	cr_assert_geq(p, 0);
	if (p == 0) {
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount("scales-test", "/dev/shm", "tmpfs", 0, NULL) != 0 ||
		    mount("scales-test", "/tmp", "tmpfs", 0, NULL) != 0)
			_exit(77); /* no namespaces here (a container) */
		if (mkdir("/dev/shm/scales-0", 0700) != 0 ||
		    chown("/dev/shm/scales-0", 65534, 65534) != 0 ||
		    mkdir("/tmp/scales-0", 0777) != 0 ||
		    chmod("/tmp/scales-0", 0777) != 0)
			_exit(10);
		unsetenv("SCALES_DIR");
		unsetenv("XDG_RUNTIME_DIR");
		struct scales_options o;
		scales_options_init(&o);
		scales_registry *reg = NULL;
		int rc = scales_open(&o, &reg);
		const char *d = scales_error_detail();
		if (rc != SCALES_E_UNSAFE)
			_exit(11);
		if (!strstr(d, "/dev/shm/scales-0: owned by uid 65534"))
			_exit(12);
		if (!strstr(d, "/tmp/scales-0: writable by others"))
			_exit(13);
		_exit(0);
	}
	int st;
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		cr_skip_test("no mount namespace");
	cr_expect_eq(WEXITSTATUS(st), 0, "child check %d failed",
	             WEXITSTATUS(st));
}
