/* SPDX-License-Identifier: MIT */
/*
 * test_select.c: process selection (scales_select()): selector kinds;
 * every discovered segment, by app, by pid (dead ones too), by path (also
 * a copy, a dead one, a file under any name); dead segments and copies
 * left out unless asked for; a file named and discovered listed once;
 * per-selector errors (symlink, garbage, missing, no such pid); junk
 * skipped with warnings; segments kept open across calls; one segment per
 * pid; a directory that cannot be read. Real segments come from the
 * writer (libscales, in this process and in a SIGKILLed child), hostile
 * and dead ones from segbuild.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scales/scales.h>

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

TestSuite(select, .init = setup, .fini = teardown, .timeout = 60);

/* A pid that no process has (above any pid_max): its segments are dead. */
#define NO_PID 2000000000

/* A segbuild segment in dir with one counter /n = value; returns its path
 * (static buffer, copy it). */
static const char *put(const char *app, int32_t pid, uint64_t start,
                       uint64_t value)
{
	static char path[4096];
	struct segbuild *b = sb_new(app, pid, start, NULL);
	uint32_t e = sb_counter(b, "/n", NULL);
	sb_counter_add(b, e, 0, value);
	cr_assert_eq(sb_write(b, dir, path, sizeof(path)), 0);
	sb_free(b);
	return path;
}

/* A live segment: this process's pid and start time. */
static const char *put_alive(const char *app, uint64_t value)
{
	return put(app, (int32_t)getpid(), sb_self_start_time(), value);
}

static void copy_file(const char *from, const char *to)
{
	size_t n;
	FILE *f = fopen(from, "rb");
	cr_assert_not_null(f);
	static unsigned char buf[1 << 20];
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	f = fopen(to, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(buf, 1, n, f), n);
	fclose(f);
}

static char *dpath(const char *name)
{
	static char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

struct warnings {
	int n;
	char last[512];
};

static void on_warn(void *arg, const char *path, const char *msg)
{
	struct warnings *w = arg;
	w->n++;
	snprintf(w->last, sizeof(w->last), "%s: %s", path, msg);
}

/* Runs scales_select() on a selection of dir; asserts it returns 0. */
static void run(struct scales_selection *s)
{
	char err[512] = "";
	int rc = scales_select(s, err, sizeof(err));
	cr_assert_eq(rc, 0, "scales_select: %d %s", rc, err);
}

static struct scales_selection sel_of(const char *const *argv, size_t n,
                                      unsigned flags)
{
	struct scales_selection s = { 0 };
	s.dir = dir;
	s.selectors = argv;
	s.nselectors = n;
	s.flags = flags;
	return s;
}

/* The item whose file name (path's last component) is name, or NULL. */
static const struct scales_selected *item(const struct scales_selection *s,
                                          const char *name)
{
	for (size_t i = 0; i < s->n; i++) {
		const char *slash = strrchr(s->items[i].path, '/');
		if (!strcmp(slash ? slash + 1 : s->items[i].path, name))
			return &s->items[i];
	}
	return NULL;
}

static const char *base(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* The counter /n of an item, through a snapshot of its segment. */
static uint64_t value_of(const struct scales_selected *it)
{
	cr_assert_not_null(it->seg);
	struct scales_snapshot *snap = must_snap(it->seg, 0);
	uint64_t v = must_find(snap, "/n")->v.u64;
	scales_snapshot_free(&snap);
	return v;
}

/* ------------------------------------------------------------ selectors */

Test(select, selector_kinds)
{
	int32_t pid = -1;
	cr_assert_eq(scales_selector_kind("/tmp/x.seg", &pid),
	             SCALES_SELECTOR_PATH);
	cr_assert_eq(pid, 0);
	cr_assert_eq(scales_selector_kind("./123", NULL), SCALES_SELECTOR_PATH);
	cr_assert_eq(scales_selector_kind("a/b", NULL), SCALES_SELECTOR_PATH);
	cr_assert_eq(scales_selector_kind("1234", &pid), SCALES_SELECTOR_PID);
	cr_assert_eq(pid, 1234);
	cr_assert_eq(scales_selector_kind("007", &pid), SCALES_SELECTOR_PID);
	cr_assert_eq(pid, 7);
	cr_assert_eq(scales_selector_kind("2147483647", &pid),
	             SCALES_SELECTOR_PID);
	cr_assert_eq(pid, INT32_MAX);
	/* too big for a pid: a pid selector that matches nothing */
	cr_assert_eq(scales_selector_kind("99999999999999999999999", &pid),
	             SCALES_SELECTOR_PID);
	cr_assert_eq(pid, 0);
	cr_assert_eq(scales_selector_kind("web", &pid), SCALES_SELECTOR_APP);
	cr_assert_eq(pid, 0);
	cr_assert_eq(scales_selector_kind("12a", NULL), SCALES_SELECTOR_APP);
	cr_assert_eq(scales_selector_kind("-1", NULL), SCALES_SELECTOR_APP);
	cr_assert_eq(scales_selector_kind("", NULL), SCALES_SELECTOR_APP);
}

Test(select, pid_running)
{
	uint64_t st = sb_self_start_time();
	cr_assert_eq(scales_pid_running((int32_t)getpid(), st), 1);
	cr_assert_eq(scales_pid_running((int32_t)getpid(), st + 1), 0);
	cr_assert_eq(scales_pid_running(NO_PID, 1), 0);
}

/* --------------------------------------------------------- no selector */

Test(select, every_live_process_by_default)
{
	put_alive("web", 1);
	put_alive("db", 2);
	put("web", NO_PID, 5, 3); /* dead */
	struct scales_selection s = sel_of(NULL, 0, 0);
	run(&s);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.nerrors, 0);
	/* discovery order: app, pid, start time */
	cr_assert_str_eq(s.items[0].app, "db");
	cr_assert_str_eq(s.items[1].app, "web");
	for (size_t i = 0; i < s.n; i++) {
		cr_assert_eq(s.items[i].by, SCALES_BY_ALL);
		cr_assert_eq(s.items[i].selector, SIZE_MAX);
		cr_assert_eq(s.items[i].error, 0);
		cr_assert(s.items[i].info.alive);
		cr_assert_eq(s.items[i].info.pid, getpid());
		cr_assert_neq(s.items[i].ino, 0);
	}
	cr_assert_eq(value_of(&s.items[0]), 2);
	cr_assert_eq(value_of(&s.items[1]), 1);
	scales_selection_free(&s);
	cr_assert_eq(s.n, 0);
	cr_assert_null(s.items);
	cr_assert_eq(s.dir, dir, "the inputs are kept");

	s = sel_of(NULL, 0, SCALES_SEL_INCLUDE_DEAD);
	run(&s);
	cr_assert_eq(s.n, 3);
	const struct scales_selected *d = item(&s, "web.2000000000.5.seg");
	cr_assert_not_null(d);
	cr_assert_not(d->info.alive);
	cr_assert_eq(d->info.liveness, SCALES_LIVE_DEAD);
	cr_assert_eq(value_of(d), 3);
	scales_selection_free(&s);
}

Test(select, empty_directory)
{
	struct scales_selection s = sel_of(NULL, 0, 0);
	run(&s);
	cr_assert_eq(s.n, 0);
	cr_assert_eq(s.nerrors, 0);
	scales_selection_free(&s);
	scales_selection_free(&s); /* twice is fine */
	scales_selection_free(NULL);
}

/* -------------------------------------------------------- app and pid */

Test(select, app_selector)
{
	put_alive("web", 1);
	put_alive("db", 2);
	put("web", NO_PID, 5, 3);
	const char *argv[] = { "web", "nosuchapp" };
	struct scales_selection s = sel_of(argv, 2, 0);
	run(&s);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.items[0].app, "web");
	cr_assert_eq(s.items[0].by, SCALES_BY_APP);
	cr_assert_eq(s.items[0].selector, 0);
	cr_assert_eq(s.nerrors, 0, "an app matching nothing is no error");
	scales_selection_free(&s);

	s = sel_of(argv, 2, SCALES_SEL_INCLUDE_DEAD);
	run(&s);
	cr_assert_eq(s.n, 2);
	cr_assert_not_null(item(&s, "web.2000000000.5.seg"));
	scales_selection_free(&s);
}

Test(select, pid_selector_takes_dead_ones_too)
{
	char live[4096];
	snprintf(live, sizeof(live), "%s", put_alive("web", 1));
	put("web", NO_PID, 5, 3);
	put("db", NO_PID - 1, 6, 4);
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", NO_PID);
	/* "web" first: the dead web process is selected by its pid all the
	 * same (whatever the order of the selectors) */
	const char *argv[] = { "web", pid, "0042" };
	struct scales_selection s = sel_of(argv, 3, 0);
	run(&s);
	cr_assert_eq(s.n, 2);
	const struct scales_selected *d = item(&s, "web.2000000000.5.seg");
	cr_assert_not_null(d);
	cr_assert_eq(d->by, SCALES_BY_APP | SCALES_BY_PID);
	cr_assert_eq(d->selector, 0);
	cr_assert_not(d->info.alive);
	cr_assert_not_null(item(&s, base(live)));
	cr_assert_null(item(&s, "db.1999999999.6.seg"));
	/* pid 42 has no segment */
	cr_assert_eq(s.nerrors, 1);
	cr_assert_eq(s.errors[0].selector, 2);
	cr_assert_eq(s.errors[0].code, SCALES_RE_NOT_FOUND);
	cr_assert(strstr(s.errors[0].msg, "0042"), "%s", s.errors[0].msg);
	scales_selection_free(&s);

	/* a leading zero is the same pid */
	char zpid[40];
	snprintf(zpid, sizeof(zpid), "0%d", NO_PID - 1);
	const char *argv2[] = { zpid };
	s = sel_of(argv2, 1, 0);
	run(&s);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.items[0].app, "db");
	cr_assert_eq(s.items[0].by, SCALES_BY_PID);
	cr_assert_eq(s.nerrors, 0);
	scales_selection_free(&s);
}

/* ------------------------------------------------------------- paths */

Test(select, path_selectors_only_read_no_directory)
{
	char dead[4096];
	snprintf(dead, sizeof(dead), "%s", put("web", NO_PID, 5, 3));
	put_alive("db", 2);
	/* junk that discovery would warn about */
	char p[4096];
	cr_assert_eq(sb_write_raw(dir, "junk.txt", "x", 1, p, sizeof(p)), 0);
	const char *argv[] = { dead };
	struct warnings w = { 0 };
	struct scales_selection s = sel_of(argv, 1, 0);
	s.warn = on_warn;
	s.warn_arg = &w;
	run(&s);
	cr_assert_eq(w.n, 0, "the directory was read: %s", w.last);
	cr_assert_eq(s.n, 1, "a dead segment named by path is taken");
	cr_assert_eq(s.items[0].by, SCALES_BY_PATH);
	cr_assert_eq(s.items[0].selector, 0);
	cr_assert_str_eq(s.items[0].path, dead);
	cr_assert_str_eq(s.items[0].app, "web");
	cr_assert_eq(s.items[0].pid, NO_PID);
	cr_assert_eq(s.items[0].start_time, 5);
	cr_assert_not(s.items[0].info.alive);
	cr_assert_eq(value_of(&s.items[0]), 3);
	scales_selection_free(&s);
}

Test(select, a_copy_under_any_name_is_read_by_path)
{
	char live[4096];
	snprintf(live, sizeof(live), "%s", put_alive("web", 7));
	char *other = sb_tmpdir(); /* also resets $SCALES_DIR: use s.dir */
	char copy[4200];
	snprintf(copy, sizeof(copy), "%s/renamed-copy", other);
	copy_file(live, copy);
	const char *argv[] = { copy };
	struct scales_selection s = sel_of(argv, 1, 0);
	run(&s);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.items[0].app, "?", "not named <app>.<pid>...");
	cr_assert_eq(s.items[0].pid, 0);
	cr_assert_str_eq(s.items[0].info.app, "web");
	cr_assert_eq(value_of(&s.items[0]), 7);
	scales_selection_free(&s);
	sb_rmdir(other);
	free(other);
}

Test(select, named_files_that_fail)
{
	char live[4096];
	snprintf(live, sizeof(live), "%s", put_alive("web", 1));
	char link[4200], garbage[4200], missing[4200], empty[4200];
	snprintf(link, sizeof(link), "%s", dpath("link.1.1.seg"));
	cr_assert_eq(symlink(live, link), 0);
	cr_assert_eq(sb_write_raw(dir, "garbage.2.2.seg",
	                          "not a segment at all, certainly not", 35,
	                          garbage, sizeof(garbage)),
	             0);
	cr_assert_eq(sb_write_raw(dir, "empty.3.3.seg", "", 0, empty,
	                          sizeof(empty)),
	             0);
	snprintf(missing, sizeof(missing), "%s", dpath("missing.4.4.seg"));
	const char *argv[] = { link, live, garbage, missing, empty };
	struct scales_selection s = sel_of(argv, 5, 0);
	run(&s);
	cr_assert_eq(s.n, 1, "only the good one");
	cr_assert_str_eq(s.items[0].path, live);
	cr_assert_eq(s.items[0].selector, 1);
	cr_assert_eq(s.nerrors, 4);
	size_t want_sel[] = { 0, 2, 3, 4 };
	int want_code[] = { SCALES_RE_UNSAFE, SCALES_RE_NOT_SEGMENT, -ENOENT,
		            SCALES_RE_NOT_SEGMENT };
	const char *names[] = { "link.1.1.seg", "garbage.2.2.seg",
		                "missing.4.4.seg", "empty.3.3.seg" };
	for (size_t i = 0; i < 4; i++) {
		const struct scales_select_error *e = &s.errors[i];
		cr_assert_eq(e->selector, want_sel[i]);
		cr_assert_eq(e->code, want_code[i], "%zu: %d %s", i, e->code,
		             e->msg);
		cr_assert(strstr(e->msg, names[i]), "%s", e->msg);
		cr_assert_null(strchr(e->msg, '\n'));
	}
	scales_selection_free(&s);

	/* kept as items when asked */
	s = sel_of(argv, 5, SCALES_SEL_KEEP_INVALID);
	run(&s);
	cr_assert_eq(s.n, 5);
	cr_assert_eq(s.nerrors, 4);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_eq(s.items[i].selector, i, "selector order");
		cr_assert_eq(s.items[i].by, SCALES_BY_PATH);
		cr_assert_eq(!s.items[i].seg, i != 1);
		cr_assert_eq(!s.items[i].error, i == 1);
		if (i != 1)
			cr_assert(
			    strstr(s.items[i].errmsg, base(s.items[i].path)));
	}
	cr_assert_eq(s.items[0].error, SCALES_RE_UNSAFE);
	scales_selection_free(&s);
}

/* ------------------------------------------------------------ copies */

Test(select, discovered_copies_are_skipped_named_ones_taken)
{
	char live[4096];
	snprintf(live, sizeof(live), "%s", put_alive("web", 1));
	/* a copy of the live segment under another process's name (with its
	 * entries overwritten: it would shadow the live one) */
	char copy[4200];
	snprintf(copy, sizeof(copy), "%s", dpath("bad.1.1.seg"));
	copy_file(live, copy);
	struct scales_selection s = sel_of(NULL, 0, 0);
	run(&s);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.items[0].path, live);
	scales_selection_free(&s);

	/* selected by the pid of its name: still a copy */
	const char *argv[] = { "1" };
	s = sel_of(argv, 1, 0);
	run(&s);
	cr_assert_eq(s.n, 0);
	cr_assert_eq(s.nerrors, 1);
	cr_assert_eq(s.errors[0].code, SCALES_RE_NOT_FOUND);
	scales_selection_free(&s);

	/* the file view: both, each its own item */
	s = sel_of(NULL, 0, SCALES_SEL_INCLUDE_COPIES);
	run(&s);
	cr_assert_eq(s.n, 2);
	const struct scales_selected *c = item(&s, "bad.1.1.seg");
	cr_assert_not_null(c);
	cr_assert_eq(c->pid, 1);
	cr_assert_eq(c->info.pid, getpid());
	scales_selection_free(&s);

	/* named: taken; the live one discovered by app is the same process,
	 * listed once (the named one first), with both reasons */
	const char *argv2[] = { copy, "web" };
	s = sel_of(argv2, 2, 0);
	run(&s);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.items[0].path, copy);
	cr_assert_eq(s.items[0].by, SCALES_BY_PATH | SCALES_BY_APP);
	scales_selection_free(&s);

	s = sel_of(argv2, 2, SCALES_SEL_INCLUDE_COPIES);
	run(&s);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.items[0].path, copy);
	cr_assert_str_eq(s.items[1].path, live);
	scales_selection_free(&s);
}

Test(select, a_file_named_and_discovered_is_listed_once)
{
	char live[4096];
	snprintf(live, sizeof(live), "%s", put_alive("web", 1));
	/* the same file, spelt another way */
	char other[4200];
	snprintf(other, sizeof(other), "%s/./%s", dir, base(live));
	const char *argv[] = { live, "web", other, live };
	struct scales_selection s = sel_of(argv, 4, SCALES_SEL_INCLUDE_COPIES);
	run(&s);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.items[0].path, live);
	cr_assert_eq(s.items[0].by, SCALES_BY_PATH | SCALES_BY_APP);
	cr_assert_eq(s.items[0].selector, 0);
	scales_selection_free(&s);

	/* named through the other spelling: found again by device and
	 * inode when discovered */
	const char *argv2[] = { other, "web" };
	s = sel_of(argv2, 2, SCALES_SEL_INCLUDE_COPIES);
	run(&s);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.items[0].path, other);
	cr_assert_eq(s.items[0].by, SCALES_BY_PATH | SCALES_BY_APP);
	scales_selection_free(&s);
}

/* -------------------------------------------------------------- junk */

Test(select, junk_is_skipped_with_warnings)
{
	put_alive("web", 1);
	char p[4096];
	cr_assert_eq(sb_write_raw(dir, "notes.txt", "x", 1, p, sizeof(p)), 0);
	cr_assert_eq(sb_write_raw(dir, "junk.77.1.seg", "garbage garbage", 15,
	                          p, sizeof(p)),
	             0);
	cr_assert_eq(symlink("/etc/passwd", dpath("planted.78.1.seg")), 0);
	cr_assert_eq(mkdir(dpath("adir.79.1.seg"), 0700), 0);
	struct warnings w = { 0 };
	struct scales_selection s = sel_of(NULL, 0, 0);
	s.warn = on_warn;
	s.warn_arg = &w;
	run(&s);
	cr_assert_eq(w.n, 3, "notes.txt, the symlink, the directory");
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.items[0].app, "web");
	cr_assert_eq(s.nerrors, 0);
	scales_selection_free(&s);

	/* the unreadable candidate as an item, when asked */
	w.n = 0;
	s.flags = SCALES_SEL_KEEP_INVALID;
	run(&s);
	cr_assert_eq(w.n, 3);
	cr_assert_eq(s.n, 2);
	const struct scales_selected *j = item(&s, "junk.77.1.seg");
	cr_assert_not_null(j);
	cr_assert_null(j->seg);
	cr_assert_eq(j->error, SCALES_RE_NOT_SEGMENT);
	cr_assert(strstr(j->errmsg, "junk.77.1.seg"), "%s", j->errmsg);
	cr_assert_eq(j->pid, 77);
	cr_assert_eq(s.nerrors, 0, "not selected by pid: no error");
	scales_selection_free(&s);

	/* selected by pid: an error for that selector */
	const char *argv[] = { "77" };
	s = sel_of(argv, 1, 0);
	run(&s);
	cr_assert_eq(s.n, 0);
	cr_assert_eq(s.nerrors, 1);
	cr_assert_eq(s.errors[0].selector, 0);
	cr_assert_eq(s.errors[0].code, SCALES_RE_NOT_SEGMENT);
	cr_assert(strstr(s.errors[0].msg, "junk.77.1.seg"));
	scales_selection_free(&s);
}

/* ------------------------------------------------------------ refresh */

Test(select, segments_stay_open_across_calls)
{
	char a[4096], b[4096];
	snprintf(a, sizeof(a), "%s", put_alive("aaa", 1));
	snprintf(b, sizeof(b), "%s", put_alive("bbb", 2));
	struct scales_selection s = sel_of(NULL, 0, SCALES_SEL_KEEP_INVALID);
	run(&s);
	cr_assert_eq(s.n, 2);
	scales_segment *sa = s.items[0].seg;
	cr_assert_str_eq(scales_segment_path(sa), a);

	/* b vanishes, c appears, a junk file appears */
	cr_assert_eq(unlink(b), 0);
	char c[4096];
	snprintf(c, sizeof(c), "%s", put_alive("ccc", 3));
	char j[4096];
	cr_assert_eq(sb_write_raw(dir, "ddd.1.1.seg", "x", 1, j, sizeof(j)), 0);
	run(&s);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.items[0].seg, sa, "a kept open, not reopened");
	cr_assert_str_eq(s.items[1].path, c);
	cr_assert_null(s.items[2].seg);
	cr_assert_neq(s.items[2].error, 0);

	/* the junk becomes a segment: tried again */
	cr_assert_eq(unlink(j), 0);
	put("ddd", 1, 1, 9);
	s.flags |= SCALES_SEL_INCLUDE_DEAD;
	run(&s);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.items[0].seg, sa);
	cr_assert_eq(s.items[2].error, 0);
	cr_assert_eq(value_of(&s.items[2]), 9);
	scales_selection_free(&s);
}

Test(select, directory_that_cannot_be_read)
{
	char live[4096];
	snprintf(live, sizeof(live), "%s", put_alive("web", 1));
	char dead[4096];
	snprintf(dead, sizeof(dead), "%s", put("db", NO_PID, 1, 2));
	const char *argv[] = { dead, "web" };
	struct scales_selection s = sel_of(argv, 2, 0);
	run(&s);
	cr_assert_eq(s.n, 2);
	scales_segment *kept = s.items[1].seg;

	/* the directory goes away: the error, the named file still there
	 * and the discovered one kept as it was */
	char moved[4200];
	snprintf(moved, sizeof(moved), "%s.moved", dir);
	cr_assert_eq(rename(dir, moved), 0);
	s.selectors = (const char *const[]){ "/nonexistent/x.1.1.seg", "web" };
	char err[512] = "";
	int rc = scales_select(&s, err, sizeof(err));
	cr_assert_eq(rc, -ENOENT, "%d %s", rc, err);
	cr_assert(strstr(err, dir), "%s", err);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.items[0].seg, kept);
	cr_assert_eq(s.items[0].by, SCALES_BY_APP);
	cr_assert_eq(s.nerrors, 1);
	cr_assert_eq(s.errors[0].code, -ENOENT);
	cr_assert_eq(rename(moved, dir), 0);

	/* a missing directory from the start */
	scales_selection_free(&s);
	s = sel_of(NULL, 0, 0);
	s.dir = "/nonexistent/scales-dir";
	rc = scales_select(&s, err, sizeof(err));
	cr_assert_eq(rc, -ENOENT);
	cr_assert(strstr(err, "/nonexistent/scales-dir"));
	cr_assert_eq(s.n, 0);
	scales_selection_free(&s);
}

/* ------------------------------------------------------ one per pid */

Test(select, one_segment_per_pid)
{
	int32_t me = (int32_t)getpid();
	uint64_t st = sb_self_start_time();
	put("web", me, st, 1);                       /* alive */
	put("web", me, st > 5 ? st - 5 : st + 5, 2); /* pid reused: dead */
	put("old", NO_PID, 10, 3);                   /* dead */
	put("old", NO_PID, 20, 4);                   /* dead, more recent */
	char pid[32], nopid[32];
	snprintf(pid, sizeof(pid), "%d", me);
	snprintf(nopid, sizeof(nopid), "%d", NO_PID);
	const char *argv[] = { pid, nopid };
	struct scales_selection s = sel_of(argv, 2, 0);
	run(&s);
	cr_assert_eq(s.n, 4, "without the flag: every one");
	scales_selection_free(&s);

	s = sel_of(argv, 2, SCALES_SEL_ONE_PER_PID);
	run(&s);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(value_of(item(&s, "old.2000000000.20.seg")), 4);
	const struct scales_selected *w = &s.items[1];
	cr_assert_str_eq(w->app, "web");
	cr_assert(w->info.alive);
	scales_selection_free(&s);

	/* also selected by app: not pruned */
	const char *argv2[] = { nopid, "old" };
	s = sel_of(argv2, 2, SCALES_SEL_ONE_PER_PID | SCALES_SEL_INCLUDE_DEAD);
	run(&s);
	cr_assert_eq(s.n, 2);
	scales_selection_free(&s);
}

/* ------------------------------------------------- the real writer */

static scales_registry *open_reg(const char *app, unsigned flags)
{
	scales_registry *reg;
	int rc = open_registry(dir, app, flags, &reg);
	cr_assert_eq(rc, 0, "scales_open: %s", scales_strerror(rc));
	return reg;
}

Test(select, real_writers_live_closed_and_killed)
{
	/* live: this process */
	scales_registry *reg = open_reg("live", 0);
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/n", NULL, &c), 0);
	scales_counter_add(&c, 5);
	/* closed but kept by a writer that still runs (this process) */
	scales_registry *kept = open_reg("kept", SCALES_KEEP_SEGMENT);
	char kept_path[4096];
	snprintf(kept_path, sizeof(kept_path), "%s",
	         scales_registry_path(kept));
	scales_close(&kept);

	/* killed: a child that registers, then is SIGKILLed and reaped */
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		close(fds[0]);
		scales_registry *r;
		scales_counter k;
		if (open_registry(dir, "killed", 0, &r) ||
		    scales_counter_get(r, "/n", NULL, &k))
			_exit(1);
		scales_counter_add(&k, 11);
		if (write(fds[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	char ch;
	cr_assert_eq(read(fds[0], &ch, 1), 1, "the child is ready");
	close(fds[0]);
	kill(child, SIGKILL);
	cr_assert_eq(waitpid(child, NULL, 0), child);

	struct scales_selection s = sel_of(NULL, 0, 0);
	run(&s);
	cr_assert_eq(s.n, 1, "only the live one");
	cr_assert_str_eq(s.items[0].info.app, "live");
	cr_assert_eq(value_of(&s.items[0]), 5);
	scales_selection_free(&s);

	char cpid[32];
	snprintf(cpid, sizeof(cpid), "%d", (int)child);
	const char *argv[] = { cpid, "kept" };
	s = sel_of(argv, 2, 0);
	run(&s);
	cr_assert_eq(s.n, 1, "the killed one, by pid; not the closed one");
	cr_assert_str_eq(s.items[0].app, "killed");
	cr_assert_eq(s.items[0].info.liveness, SCALES_LIVE_DEAD);
	cr_assert_eq(value_of(&s.items[0]), 11);
	scales_selection_free(&s);

	s = sel_of(argv, 2, SCALES_SEL_INCLUDE_DEAD);
	run(&s);
	cr_assert_eq(s.n, 2);
	const struct scales_selected *k = item(&s, base(kept_path));
	cr_assert_not_null(k);
	cr_assert_eq(k->info.liveness, SCALES_LIVE_CLOSED);
	cr_assert_eq(k->by, SCALES_BY_APP);
	cr_assert_eq(k->selector, 1);
	scales_selection_free(&s);
	unlink(kept_path);
	scales_close(&reg);
}
