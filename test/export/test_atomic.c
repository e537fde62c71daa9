/* SPDX-License-Identifier: MIT */
/*
 * test_atomic.c: scales-export's atomic file writing (atomic.c, for
 * --json-file and --textfile): the file gets the mode a plain open()
 * would give under the process's umask, the umask is read without being
 * changed (umask(0) then umask(old) races with threads that create
 * files), and a failing fchmod() is an error that leaves the old file and
 * no temporary file behind.
 *
 * atomic.c is compiled into this program, so its calls to fchmod() and
 * umask() bind to the definitions below (no LD_PRELOAD): they count the
 * calls made inside atomic_write_file() and fail fchmod() on demand, then
 * call the C library's.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "main.h"

static bool inside;      /* in atomic_write_file() */
static int umask_calls;  /* umask() calls inside it */
static int fchmod_fails; /* errno fchmod() fails with, or 0 */

mode_t umask(mode_t mask)
{
	static mode_t (*real)(mode_t);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "umask");
	if (inside)
		umask_calls++;
	return real(mask);
}

int fchmod(int fd, mode_t mode)
{
	static int (*real)(int, mode_t);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "fchmod");
	if (inside && fchmod_fails) {
		errno = fchmod_fails;
		return -1;
	}
	return real(fd, mode);
}

static char dir[] = "/tmp/export-atomic.XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int write_file(const char *path, const char *text, const char **why,
                      int *err)
{
	inside = true;
	int rc = atomic_write_file(path, text, strlen(text), why, err);
	inside = false;
	return rc;
}

/* how many files dir holds */
static size_t entries(void)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void expect_content(const char *path, const char *want)
{
	char got[64] = { 0 };
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	size_t n = fread(got, 1, sizeof(got) - 1, f);
	fclose(f);
	got[n] = 0;
	cr_expect_str_eq(got, want);
}

TestSuite(atomic, .init = setup, .fini = teardown);

Test(atomic, mode_follows_the_umask_which_stays_unchanged)
{
	static const mode_t masks[] = { 022, 077, 002, 0, 0137 };
	char path[512];
	snprintf(path, sizeof(path), "%s/out.prom", dir);
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		umask(masks[i]);
		umask_calls = 0;
		const char *why = NULL;
		int err = -1;
		cr_assert_eq(write_file(path, "a 1\n", &why, &err), 0,
		             "umask %03o: %s: %s", (unsigned)masks[i], why,
		             strerror(err));
		struct stat st;
		cr_assert_eq(stat(path, &st), 0);
		cr_expect_eq(st.st_mode & 07777, 0666 & ~masks[i],
		             "umask %03o: mode %03o, want %03o",
		             (unsigned)masks[i], (unsigned)(st.st_mode & 07777),
		             (unsigned)(0666 & ~masks[i]));
		cr_expect_eq(umask_calls, 0,
		             "umask %03o: atomic_write_file called umask() %d "
		             "times",
		             (unsigned)masks[i], umask_calls);
		cr_expect_eq(umask(masks[i]), masks[i], "the umask changed");
		expect_content(path, "a 1\n");
		cr_expect_eq(entries(), 1, "a temporary file is left");
	}
}

Test(atomic, failing_fchmod_is_an_error_that_keeps_the_old_file)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/out.json", dir);
	const char *why = NULL;
	int err = -1;
	cr_assert_eq(write_file(path, "old", &why, &err), 0);
	fchmod_fails = EIO;
	cr_expect_eq(write_file(path, "new", &why, &err), -1,
	             "a failed fchmod() went unnoticed");
	cr_expect_eq(err, EIO, "err %d (%s)", err, strerror(err));
	cr_expect_not_null(why);
	if (why)
		cr_expect_not_null(strstr(why, "mode"), "why: %s", why);
	expect_content(path, "old");
	cr_expect_eq(entries(), 1, "a temporary file is left");
	fchmod_fails = 0;
	cr_expect_eq(write_file(path, "new", &why, &err), 0);
	expect_content(path, "new");
}

Test(atomic, missing_directory_is_an_error)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/no/such/dir/out.prom", dir);
	const char *why = NULL;
	int err = 0;
	cr_expect_eq(write_file(path, "x", &why, &err), -1);
	cr_expect_eq(err, ENOENT, "err %d (%s)", err, strerror(err));
	cr_expect_eq(entries(), 0);
}
