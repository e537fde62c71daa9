/* SPDX-License-Identifier: MIT */
/*
 * test_discover.c: listing segment files: valid names found, junk skipped
 * with a clear warning, temporaries skipped silently, symlinks never
 * followed; opening by pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static char *dir;

static void setup(void)
{
	dir = sb_tmpdir();
}

static void teardown(void)
{
	sb_rmdir(dir);
	free(dir);
}

TestSuite(discover, .init = setup, .fini = teardown, .timeout = 60);

struct warnings {
	int n;
	char paths[32][512];
	char msgs[32][256];
};

static void on_warn(void *arg, const char *path, const char *msg)
{
	struct warnings *w = arg;
	if (w->n < 32) {
		snprintf(w->paths[w->n], sizeof(w->paths[0]), "%s", path);
		snprintf(w->msgs[w->n], sizeof(w->msgs[0]), "%s", msg);
	}
	w->n++;
}

static const char *warning_for(struct warnings *w, const char *name)
{
	for (int i = 0; i < w->n && i < 32; i++) {
		const char *slash = strrchr(w->paths[i], '/');
		if (slash && strcmp(slash + 1, name) == 0)
			return w->msgs[i];
	}
	return NULL;
}

static void put_segment(const char *app, int32_t pid, uint64_t start)
{
	struct segbuild *b = sb_new(app, pid, start, NULL);
	sb_counter(b, "/x", NULL);
	char path[4096];
	cr_assert_eq(sb_write(b, dir, path, sizeof(path)), 0);
	sb_free(b);
}

static void put_file(const char *name)
{
	char path[4096];
	cr_assert_eq(sb_write_raw(dir, name, "junk", 4, path, sizeof(path)), 0);
}

Test(discover, parse_names)
{
	char app[64];
	int32_t pid;
	uint64_t st;
	cr_assert(scales_parse_seg_name("web.123.456.seg", app, sizeof(app),
	                                &pid, &st));
	cr_assert_str_eq(app, "web");
	cr_assert_eq(pid, 123);
	cr_assert_eq(st, 456);
	cr_assert(scales_parse_seg_name("my-app_2.1.0.seg", app, sizeof(app),
	                                &pid, &st));
	cr_assert_str_eq(app, "my-app_2");
	const char *bad[] = {
		"web.123.456",
		"web.123.seg",
		".123.456.seg",
		"web..456.seg",
		"web.123..seg",
		"web.x.456.seg",
		"web.0.456.seg",
		"web.2147483648.1.seg",
		"we b.1.1.seg",
		"a.b.1.1.seg",
		"web.1.18446744073709551616.seg",
		"web.-1.1.seg",
		"seg",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(!scales_parse_seg_name(bad[i], NULL, 0, NULL, NULL),
		          "accepted %s", bad[i]);
	/* app buffer too small */
	cr_assert(
	    !scales_parse_seg_name("webserver.1.1.seg", app, 4, NULL, NULL));
}

Test(discover, lists_valid_and_warns_about_junk)
{
	put_segment("web", 20, 5);
	put_segment("web", 10, 7);
	put_segment("api", 30, 1);
	put_file(".web.40.1.seg.tmp"); /* a temporary: silent */
	put_file("notes.txt");
	put_file("web.x.1.seg");
	char p[4096], target[4096];
	snprintf(target, sizeof(target), "%s/web.10.7.seg", dir);
	snprintf(p, sizeof(p), "%s/evil.66.1.seg", dir);
	cr_assert_eq(symlink(target, p), 0);
	snprintf(p, sizeof(p), "%s/sub.1.1.seg", dir);
	cr_assert_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/pipe.1.1.seg", dir);
	cr_assert_eq(mkfifo(p, 0600), 0);

	struct warnings w = { 0 };
	struct scales_seg_list l;
	char err[256];
	cr_assert_eq(scales_discover(dir, on_warn, &w, &l, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(l.n, 3);
	cr_assert_str_eq(l.items[0].app, "api");
	cr_assert_eq(l.items[0].pid, 30);
	cr_assert_str_eq(l.items[1].app, "web");
	cr_assert_eq(l.items[1].pid, 10);
	cr_assert_eq(l.items[1].start_time, 7);
	cr_assert_eq(l.items[2].pid, 20);
	char want[4096];
	snprintf(want, sizeof(want), "%s/web.20.5.seg", dir);
	cr_assert_str_eq(l.items[2].path, want);
	cr_assert_gt(l.items[2].size, 4096);

	cr_assert_eq(w.n, 5, "%d warnings", w.n);
	const char *m;
	cr_assert_not_null(m = warning_for(&w, "evil.66.1.seg"));
	cr_assert_not_null(strstr(m, "symlink"), "%s", m);
	cr_assert_not_null(m = warning_for(&w, "sub.1.1.seg"));
	cr_assert_not_null(strstr(m, "directory"), "%s", m);
	cr_assert_not_null(m = warning_for(&w, "pipe.1.1.seg"));
	cr_assert_not_null(strstr(m, "fifo"), "%s", m);
	cr_assert_not_null(m = warning_for(&w, "notes.txt"));
	cr_assert_not_null(strstr(m, "<app>.<pid>.<start>.seg"), "%s", m);
	cr_assert_not_null(warning_for(&w, "web.x.1.seg"));
	cr_assert_null(warning_for(&w, ".web.40.1.seg.tmp"));
	scales_seg_list_free(&l);
	cr_assert_eq(l.n, 0);
	cr_assert_null(l.items);
	scales_seg_list_free(&l); /* twice is fine */
}

Test(discover, uses_scales_dir_and_no_warn_callback)
{
	put_segment("web", 1, 1);
	put_file("junk");
	struct scales_seg_list l;
	/* dir NULL: $SCALES_DIR (sb_tmpdir set it) */
	cr_assert_eq(scales_discover(NULL, NULL, NULL, &l, NULL, 0), 0);
	cr_assert_eq(l.n, 1);
	scales_seg_list_free(&l);
}

Test(discover, bad_directories)
{
	struct scales_seg_list l;
	char err[512], p[4096];
	snprintf(p, sizeof(p), "%s/missing", dir);
	int rc = scales_discover(p, NULL, NULL, &l, err, sizeof(err));
	cr_assert_eq(rc, -ENOENT);
	cr_assert_not_null(strstr(err, "missing"));
	cr_assert_eq(l.n, 0);
	/* a symlink to a directory is refused */
	char real[4096];
	snprintf(real, sizeof(real), "%s/real", dir);
	cr_assert_eq(mkdir(real, 0700), 0);
	snprintf(p, sizeof(p), "%s/link", dir);
	cr_assert_eq(symlink(real, p), 0);
	rc = scales_discover(p, NULL, NULL, &l, err, sizeof(err));
	cr_assert_eq(rc, SCALES_RE_UNSAFE, "rc %d: %s", rc, err);
	/* a file is not a directory */
	put_file("afile");
	snprintf(p, sizeof(p), "%s/afile", dir);
	rc = scales_discover(p, NULL, NULL, &l, err, sizeof(err));
	cr_assert_eq(rc, SCALES_RE_UNSAFE, "rc %d: %s", rc, err);
}

Test(discover, open_by_pid_prefers_the_live_writer)
{
	/* two segments name our pid: one with our real start time (alive),
	 * one from an earlier process that had the same pid (dead) */
	uint64_t me = sb_self_start_time();
	put_segment("old", getpid(), me > 10 ? me - 10 : 0);
	put_segment("new", getpid(), me);
	put_segment("other", 12345678, 1);
	scales_segment *seg = NULL;
	char err[512];
	int rc = scales_segment_open_pid(dir, getpid(), NULL, NULL, &seg, err,
	                                 sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	struct scales_process_info info;
	cr_assert_eq(scales_segment_info(seg, &info, NULL, 0), 0);
	cr_assert_str_eq(info.app, "new");
	cr_assert(info.alive);
	scales_segment_close(&seg);

	rc = scales_segment_open_pid(dir, 999999, NULL, NULL, &seg, err,
	                             sizeof(err));
	cr_assert_eq(rc, SCALES_RE_NOT_FOUND);
	cr_assert_null(seg);
	cr_assert_not_null(strstr(err, "999999"));
}

/* Without a directory or $SCALES_DIR: /dev/shm/scales-* and the writer's
 * fallbacks, here $XDG_RUNTIME_DIR/scales. */
Test(discover, default_directories)
{
	char xdg[4096];
	snprintf(xdg, sizeof(xdg), "%s/scales", dir);
	cr_assert_eq(mkdir(xdg, 0700), 0);
	struct segbuild *b = sb_new("xdgapp", 4321, 8, NULL);
	char path[4096];
	cr_assert_eq(sb_write(b, xdg, path, sizeof(path)), 0);
	sb_free(b);
	setenv("XDG_RUNTIME_DIR", dir, 1);
	unsetenv("SCALES_DIR");
	struct scales_seg_list l;
	cr_assert_eq(scales_discover(NULL, NULL, NULL, &l, NULL, 0), 0);
	bool found = false;
	for (size_t i = 0; i < l.n; i++)
		found = found || strcmp(l.items[i].path, path) == 0;
	cr_assert(found, "%s not listed", path);
	scales_seg_list_free(&l);
	unlink(path);
	rmdir(xdg);
}
