/* SPDX-License-Identifier: MIT */
/*
 * test_files.c: files and permissions, in the manner of HotSpot's
 * hsperfdata. The segment directory is created 0700 (0750 with
 * SCALES_GROUP_READABLE) and checked before use (a real directory, owned by
 * us, writable by no one else); segments are created 0600 (0640) under a
 * temporary name and renamed into place; whatever is planted at a segment's
 * path (a symlink, another user's file, a directory, a fifo) is refused and
 * left alone, never followed; a dead writer's segment is replaced, a live
 * one's is not. Readers refuse symlinks and never write to a segment.
 *
 * Tests that need a second user (chown to nobody) run only as root and skip
 * otherwise.
 */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>

#include "common.h"

#define NOBODY 65534

static char dir[PATH_MAX];

static void setup(void)
{
	h_fresh_dir(dir);
	umask(022);
}

static void teardown(void)
{
	h_rm_rf(dir);
}

TestSuite(files, .init = setup, .fini = teardown, .timeout = 60);

static mode_t mode_of(const char *path)
{
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0, "lstat %s: %s", path,
	             strerror(errno));
	return st.st_mode;
}

/* Field 22 of /proc/self/stat: our start time, as in segment names. */
static unsigned long long self_start(void)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	cr_assert_not_null(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	cr_assert_not_null(p);
	unsigned long long v = 0;
	p += 2; /* field 3 */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		cr_assert_not_null(p);
		p++;
	}
	v = strtoull(p, NULL, 10);
	return v;
}

/* The path scales_open() will use in dir d for app. */
static void seg_path(char *out, size_t n, const char *d, const char *app)
{
	snprintf(out, n, "%s/%s.%d.%llu.seg", d, app, (int)getpid(),
	         self_start());
}

static int open_app(const char *app, const char *d, unsigned flags,
                    scales_registry **reg)
{
	struct scales_options o;
	h_small_opts(&o, app);
	o.dir = d;
	o.flags |= flags;
	*reg = NULL;
	return scales_open(&o, reg);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void expect_file(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	cr_expect_str_eq(buf, text, "%s was modified", path);
}

static bool is_root(void)
{
	return geteuid() == 0;
}

/* ----------------------------------------------------------- directory */

static void check_new_dir(mode_t mask, unsigned flags, mode_t want)
{
	char d[PATH_MAX + 16];
	snprintf(d, sizeof d, "%s/segs-%o-%x", dir, (unsigned)mask, flags);
	umask(mask);
	scales_registry *reg;
	int rc = open_app("dirmode", d, flags, &reg);
	umask(022);
	cr_assert_eq(rc, 0, "umask %03o: %s", (unsigned)mask,
	             scales_strerror(rc));
	struct stat st;
	cr_assert_eq(lstat(d, &st), 0);
	cr_expect(S_ISDIR(st.st_mode));
	cr_expect_eq(st.st_uid, geteuid());
	cr_expect_eq(st.st_mode & 07777, want,
	             "umask %03o flags %x: directory mode %04o, want %04o",
	             (unsigned)mask, flags, (unsigned)(st.st_mode & 07777),
	             (unsigned)want);
	scales_close(&reg);
}

Test(files, directory_created_0700)
{
	check_new_dir(022, 0, 0700);
	check_new_dir(0, 0, 0700);
	check_new_dir(077, 0, 0700);
}

Test(files, directory_created_0750_with_group_opt_in)
{
	check_new_dir(022, SCALES_GROUP_READABLE, 0750);
	check_new_dir(0, SCALES_GROUP_READABLE, 0750);
}

/* BUG-H2 (fixed in 55c8973): mkdir(dir, 0750) was narrowed by the umask,
 * so with a umask of 027 or 077 the opt-in gave a 0700 directory that the
 * monitoring group could not list. */
Test(files, directory_0750_despite_umask)
{
	check_new_dir(027, SCALES_GROUP_READABLE, 0750);
	check_new_dir(077, SCALES_GROUP_READABLE, 0750);
}

/* An existing 0700 directory gets group access when its owner asks. */
Test(files, existing_directory_opened_to_the_group_on_request)
{
	char d[PATH_MAX + 16];
	snprintf(d, sizeof d, "%s/existing", dir);
	cr_assert_eq(mkdir(d, 0700), 0);
	scales_registry *reg;
	cr_assert_eq(open_app("grp", d, SCALES_GROUP_READABLE, &reg), 0);
	cr_expect_eq(mode_of(d) & 07777, 0750);
	cr_expect_eq(mode_of(scales_registry_path(reg)) & 07777, 0640);
	scales_close(&reg);
}

/*
 * The opt-in end to end, with a chosen group: a process of another user in
 * that group reads the segment; one outside it cannot even list the
 * directory. Needs root (chown to a group, then setuid).
 */
static int read_as(uid_t uid, gid_t gid, const char *segdir)
{
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		if (setgroups(1, &gid) || setgid(gid) || setuid(uid))
			_exit(10);
		struct scales_seg_list l;
		char err[512];
		if (scales_discover(segdir, NULL, NULL, &l, err, sizeof err))
			_exit(20);
		if (l.n != 1)
			_exit(21);
		scales_segment *seg;
		if (scales_segment_open(l.items[0].path, 0, &seg, err,
		                        sizeof err))
			_exit(22);
		struct scales_snapshot *s;
		if (scales_snapshot_take(seg, 0, &s, err, sizeof err))
			_exit(23);
		const struct scales_metric *m = scales_snapshot_find(s, "/c");
		_exit(m && m->v.u64 == 7 ? 0 : 24);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

Test(files, group_opt_in_lets_the_chosen_group_read)
{
	if (!is_root())
		cr_skip_test("needs root to switch users");
	cr_assert_eq(chmod(dir, 0711), 0); /* others may traverse it */
	char d[PATH_MAX + 16];
	snprintf(d, sizeof d, "%s/grp", dir);
	struct scales_options o;
	h_small_opts(&o, "grp");
	o.dir = d;
	o.flags |= SCALES_GROUP_READABLE;
	o.group = NOBODY; /* nogroup */
	scales_registry *reg;
	int rc = scales_open(&o, &reg);
	if (rc == -EPERM || rc == -EINVAL)
		cr_skip_test("cannot give the directory to group %d: %s",
		             NOBODY, scales_strerror(rc));
	cr_assert_eq(rc, 0, "%s", scales_strerror(rc));
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/c", NULL, &c), 0);
	scales_counter_add(&c, 7);
	struct stat st;
	cr_assert_eq(stat(d, &st), 0);
	cr_expect_eq(st.st_gid, NOBODY);
	cr_expect_eq(st.st_mode & 07777, 0750);
	cr_assert_eq(stat(scales_registry_path(reg), &st), 0);
	cr_expect_eq(st.st_gid, NOBODY);
	cr_expect_eq(st.st_mode & 07777, 0640);
	cr_expect_eq(read_as(NOBODY, NOBODY, d), 0, "a member cannot read");
	cr_expect_eq(read_as(NOBODY, 12345, d), 20, "a non-member can read");
	scales_close(&reg);

	/* without the opt-in, the group is not let in */
	char d2[PATH_MAX + 16];
	snprintf(d2, sizeof d2, "%s/private", dir);
	o.dir = d2;
	o.flags &= ~(uint32_t)SCALES_GROUP_READABLE;
	cr_assert_eq(scales_open(&o, &reg), 0);
	cr_assert_eq(scales_counter_get(reg, "/c", NULL, &c), 0);
	scales_counter_add(&c, 7);
	cr_expect_eq(read_as(NOBODY, NOBODY, d2), 20, "private, yet readable");
	scales_close(&reg);
}

Test(files, symlinked_directory_refused)
{
	char real[PATH_MAX + 16], link[PATH_MAX + 16];
	snprintf(real, sizeof real, "%s/real", dir);
	snprintf(link, sizeof link, "%s/link", dir);
	cr_assert_eq(mkdir(real, 0700), 0);
	cr_assert_eq(symlink(real, link), 0);
	scales_registry *reg;
	cr_expect_eq(open_app("symdir", link, 0, &reg), SCALES_E_UNSAFE);
	cr_expect_null(reg);
	cr_expect_eq(h_count_entries(real, ""), 0, "wrote through the link");
	/* the same through $SCALES_DIR */
	setenv("SCALES_DIR", link, 1);
	cr_expect_eq(open_app("symdir", NULL, 0, &reg), SCALES_E_UNSAFE);
	cr_expect_eq(h_count_entries(real, ""), 0, "wrote through the link");
}

Test(files, directory_writable_by_others_refused)
{
	char d[PATH_MAX + 16];
	snprintf(d, sizeof d, "%s/shared", dir);
	cr_assert_eq(mkdir(d, 0700), 0);
	mode_t bad[] = { 0777, 0770, 0730, 0720, 0702, 0703, 01777, 01770 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(chmod(d, bad[i]), 0);
		scales_registry *reg;
		cr_expect_eq(open_app("shared", d, 0, &reg), SCALES_E_UNSAFE,
		             "mode %04o accepted", (unsigned)bad[i]);
		cr_expect_eq(h_count_entries(d, ""), 0);
	}
	mode_t good[] = { 0700, 0750, 0755, 0711, 0705 };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		cr_assert_eq(chmod(d, good[i]), 0);
		scales_registry *reg;
		int rc = open_app("shared", d, 0, &reg);
		cr_expect_eq(rc, 0, "mode %04o: %s", (unsigned)good[i],
		             scales_strerror(rc));
		scales_close(&reg);
	}
}

Test(files, directory_of_another_user_refused)
{
	if (!is_root())
		cr_skip_test("needs root to chown");
	char d[PATH_MAX + 16];
	snprintf(d, sizeof d, "%s/theirs", dir);
	cr_assert_eq(mkdir(d, 0700), 0);
	if (chown(d, NOBODY, NOBODY) != 0)
		cr_skip_test("chown to nobody: %s", strerror(errno));
	scales_registry *reg;
	cr_expect_eq(open_app("theirs", d, 0, &reg), SCALES_E_UNSAFE);
	cr_expect_eq(h_count_entries(d, ""), 0);
}

/* ------------------------------------------------------------- segments */

static void check_seg_mode(mode_t mask, unsigned flags, mode_t want)
{
	umask(mask);
	scales_registry *reg;
	int rc = open_app("segmode", dir, flags, &reg);
	umask(022);
	cr_assert_eq(rc, 0, "%s", scales_strerror(rc));
	struct stat st;
	cr_assert_eq(lstat(scales_registry_path(reg), &st), 0);
	cr_expect(S_ISREG(st.st_mode));
	cr_expect_eq(st.st_uid, geteuid());
	cr_expect_eq(st.st_nlink, 1);
	cr_expect_eq(st.st_mode & 07777, want,
	             "umask %03o flags %x: segment mode %04o, want %04o",
	             (unsigned)mask, flags, (unsigned)(st.st_mode & 07777),
	             (unsigned)want);
	scales_close(&reg);
}

Test(files, segment_created_0600)
{
	check_seg_mode(022, 0, 0600);
	check_seg_mode(0, 0, 0600);
	check_seg_mode(077, 0, 0600);
}

Test(files, segment_created_0640_with_group_opt_in)
{
	cr_assert_eq(chmod(dir, 0750), 0);
	check_seg_mode(022, SCALES_GROUP_READABLE, 0640);
	check_seg_mode(0, SCALES_GROUP_READABLE, 0640);
	check_seg_mode(077, SCALES_GROUP_READABLE, 0640);
}

Test(files, segment_name_and_no_temporaries)
{
	scales_registry *reg;
	cr_assert_eq(open_app("named", dir, 0, &reg), 0);
	char want[PATH_MAX + 128];
	seg_path(want, sizeof want, dir, "named");
	cr_expect_str_eq(scales_registry_path(reg), want);
	cr_expect_eq(h_count_entries(dir, "."), 0, "a temporary is left");
	cr_expect_eq(h_count_entries(dir, ""), 1);
	scales_close(&reg);
	cr_expect_eq(h_count_entries(dir, ""), 0, "close left the file");

	cr_assert_eq(open_app("named", dir, SCALES_KEEP_SEGMENT, &reg), 0);
	scales_close(&reg);
	cr_expect_eq(h_count_entries(dir, ""), 1, "the segment was not kept");
	struct scales_snapshot *s = h_snap_path(want);
	cr_expect_eq(s->proc.liveness, SCALES_LIVE_CLOSED);
	scales_snapshot_free(&s);
}

/* Plants something at the segment path of app, then opens: refused, and
 * the planted thing is as it was. */
Test(files, planted_symlink_refused_not_followed)
{
	char victim[PATH_MAX + 16], p[PATH_MAX + 128];
	snprintf(victim, sizeof victim, "%s/victim", dir);
	write_file(victim, "victim");
	seg_path(p, sizeof p, dir, "planted");
	cr_assert_eq(symlink(victim, p), 0);
	scales_registry *reg;
	cr_expect_eq(open_app("planted", dir, 0, &reg), SCALES_E_UNSAFE);
	cr_expect_null(reg);
	cr_expect(S_ISLNK(mode_of(p)), "the symlink was replaced");
	expect_file(victim, "victim");
	cr_expect_eq(h_count_entries(dir, "."), 0, "a temporary is left");

	/* dangling: the target must not be created */
	char target[PATH_MAX + 16];
	snprintf(target, sizeof target, "%s/created", dir);
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(symlink(target, p), 0);
	cr_expect_eq(open_app("planted", dir, 0, &reg), SCALES_E_UNSAFE);
	cr_expect_eq(access(target, F_OK), -1, "created through the link");
	cr_expect(S_ISLNK(mode_of(p)));
}

Test(files, planted_file_of_another_user_refused)
{
	if (!is_root())
		cr_skip_test("needs root to chown");
	char p[PATH_MAX + 128];
	seg_path(p, sizeof p, dir, "theirs");
	write_file(p, "theirs");
	if (chown(p, NOBODY, NOBODY) != 0)
		cr_skip_test("chown to nobody: %s", strerror(errno));
	scales_registry *reg;
	cr_expect_eq(open_app("theirs", dir, 0, &reg), SCALES_E_UNSAFE);
	expect_file(p, "theirs");
	struct stat st;
	cr_assert_eq(lstat(p, &st), 0);
	cr_expect_eq(st.st_uid, NOBODY);
	cr_expect_eq(h_count_entries(dir, "."), 0, "a temporary is left");
}

Test(files, planted_directory_and_fifo_refused)
{
	char p[PATH_MAX + 128];
	seg_path(p, sizeof p, dir, "plantdir");
	cr_assert_eq(mkdir(p, 0700), 0);
	scales_registry *reg;
	cr_expect_eq(open_app("plantdir", dir, 0, &reg), SCALES_E_UNSAFE);
	cr_expect(S_ISDIR(mode_of(p)));

	seg_path(p, sizeof p, dir, "plantfifo");
	cr_assert_eq(mkfifo(p, 0600), 0);
	/* must not block opening the fifo */
	cr_expect_eq(open_app("plantfifo", dir, 0, &reg), SCALES_E_UNSAFE);
	cr_expect(S_ISFIFO(mode_of(p)));
	cr_expect_eq(h_count_entries(dir, "."), 0, "a temporary is left");
}

Test(files, stale_file_of_ours_is_replaced_not_written_through)
{
	/* a hard link to a file of ours elsewhere: the segment replaces the
	 * directory entry; the other file keeps its bytes */
	char victim[PATH_MAX + 16], p[PATH_MAX + 128];
	snprintf(victim, sizeof victim, "%s/victim", dir);
	write_file(victim, "victim");
	seg_path(p, sizeof p, dir, "stale");
	cr_assert_eq(link(victim, p), 0);
	scales_registry *reg;
	int rc = open_app("stale", dir, 0, &reg);
	cr_assert_eq(rc, 0, "%s", scales_strerror(rc));
	expect_file(victim, "victim");
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/c", NULL, &c), 0);
	scales_counter_add(&c, 3);
	struct scales_snapshot *s = h_snap_path(p);
	cr_expect_eq(h_find(s, "/c")->v.u64, 3);
	scales_snapshot_free(&s);
	scales_close(&reg);
	expect_file(victim, "victim");
}

/* A writer that died without closing: its segment stays; a new writer
 * whose name collides with it (a reused pid) replaces it. */
Test(files, dead_writer_segment_is_replaced)
{
	char sub[PATH_MAX + 16];
	snprintf(sub, sizeof sub, "%s/dead", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		scales_registry *reg;
		if (open_app("dead", sub, 0, &reg))
			_exit(1);
		scales_counter c;
		scales_counter_get(reg, "/old", NULL, &c);
		raise(SIGKILL);
		_exit(2);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status));
	struct scales_seg_list l;
	char err[256];
	cr_assert_eq(scales_discover(sub, NULL, NULL, &l, err, sizeof err), 0);
	cr_assert_eq(l.n, 1, "the dead writer's segment is gone");
	char p[PATH_MAX + 128];
	seg_path(p, sizeof p, dir, "dead");
	cr_assert_eq(rename(l.items[0].path, p), 0);
	scales_seg_list_free(&l);

	scales_registry *reg;
	int rc = open_app("dead", dir, 0, &reg);
	cr_assert_eq(rc, 0, "%s", scales_strerror(rc));
	struct scales_snapshot *s = h_snap_path(p);
	cr_expect_eq(s->n, 0, "the old segment's stats are still there");
	cr_expect_eq(s->proc.pid, getpid());
	scales_snapshot_free(&s);
	scales_close(&reg);
}

Test(files, live_writer_segment_is_not_replaced)
{
	scales_registry *a, *b;
	cr_assert_eq(open_app("live", dir, 0, &a), 0);
	scales_counter c;
	cr_assert_eq(scales_counter_get(a, "/mine", NULL, &c), 0);
	scales_counter_add(&c, 11);
	cr_expect_eq(open_app("live", dir, 0, &b), SCALES_E_LIVE);
	cr_expect_null(b);
	cr_expect_eq(h_count_entries(dir, "."), 0, "a temporary is left");
	struct scales_snapshot *s = h_snap(a);
	cr_expect_eq(h_find(s, "/mine")->v.u64, 11);
	scales_snapshot_free(&s);
	scales_close(&a);
}

/* --------------------------------------------------------------- readers */

Test(files, reader_refuses_symlinks)
{
	scales_registry *reg;
	cr_assert_eq(open_app("rsym", dir, 0, &reg), 0);
	char link[PATH_MAX + 16];
	snprintf(link, sizeof link, "%s/link.1.1.seg", dir);
	cr_assert_eq(symlink(scales_registry_path(reg), link), 0);
	char err[512] = "";
	scales_segment *seg = NULL;
	cr_expect_eq(scales_segment_open(link, 0, &seg, err, sizeof err),
	             SCALES_RE_UNSAFE);
	cr_expect_null(seg);
	cr_expect(strstr(err, "symlink") != NULL, "message: %s", err);

	/* a symlinked directory handed to discovery */
	char dlink[PATH_MAX + 16];
	snprintf(dlink, sizeof dlink, "%s-link", dir);
	cr_assert_eq(symlink(dir, dlink), 0);
	struct scales_seg_list l;
	int rc = scales_discover(dlink, NULL, NULL, &l, err, sizeof err);
	unlink(dlink);
	cr_expect_eq(rc, SCALES_RE_UNSAFE, "discover through a link: %d", rc);
	cr_expect_eq(l.n, 0);
	scales_close(&reg);
}

static uint64_t fnv(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, st), 0);
	uint64_t h = 1469598103934665603ull;
	unsigned char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
	close(fd);
	return h;
}

Test(files, readers_never_write)
{
	scales_registry *reg;
	cr_assert_eq(open_app("ro", dir, SCALES_KEEP_SEGMENT, &reg), 0);
	scales_counter c;
	scales_histogram h;
	scales_state st;
	cr_assert_eq(scales_counter_get(reg, "/c", NULL, &c), 0);
	cr_assert_eq(scales_histogram_get(reg, "/h", NULL, NULL, &h), 0);
	cr_assert_eq(scales_state_get(reg, "/s", NULL, &st), 0);
	scales_scope *sc;
	cr_assert_eq(scales_scope_root(reg, &sc, "/w"), 0);
	cr_assert_eq(scales_scope_sum(sc, "n", NULL), 0);
	scales_counter_add(&c, 5);
	scales_histogram_record(&h, 77);
	scales_state_set_str(&st, "idle");
	char p[PATH_MAX + 128];
	snprintf(p, sizeof p, "%s", scales_registry_path(reg));
	scales_scope_release(&sc);
	scales_close(&reg); /* no writer from here on */

	struct stat before, after;
	uint64_t h1 = fnv(p, &before);
	char err[512];
	scales_segment *seg;
	cr_assert_eq(scales_segment_open(p, 0, &seg, err, sizeof err), 0);
	for (int i = 0; i < 50; i++) {
		struct scales_snapshot *s;
		struct scales_process_info info;
		cr_assert_eq(scales_segment_info(seg, &info, err, sizeof err),
		             0);
		cr_assert_eq(scales_snapshot_take(seg, 0, &s, err, sizeof err),
		             0);
		/* the first snapshot reads with pread(), the second maps the
		 * file: read-only and shared */
		char line[1024];
		bool found = false;
		FILE *maps = fopen("/proc/self/maps", "r");
		cr_assert_not_null(maps);
		while (fgets(line, sizeof line, maps))
			if (strstr(line, p)) {
				found = true;
				cr_expect(strstr(line, " r--s ") != NULL,
				          "mapping: %s", line);
			}
		fclose(maps);
		cr_expect_eq(found, i > 0, "snapshot %d: mapped %d", i, found);
		struct scales_buf b = { 0 };
		const struct scales_snapshot *arr[1] = { s };
		cr_assert_eq(scales_json_render(&b, arr, NULL, 1, 0), 0);
		scales_buf_free(&b);
		scales_snapshot_free(&s);
	}
	scales_segment_close(&seg);
	uint64_t h2 = fnv(p, &after);
	cr_expect_eq(h1, h2, "the segment's bytes changed");
	cr_expect_eq(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	cr_expect_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	cr_expect_eq(before.st_size, after.st_size);
}

/* BUG-H5 (fixed in 55c8973): the writer reserved space in 64 KiB chunks
 * not clamped to their region, so posix_fallocate() extended the file past
 * the header's capacity ("file size in bytes", docs/format.md). */
Test(files, segment_size_is_its_capacity)
{
	struct scales_options o;
	h_small_opts(&o, "capacity");
	o.dir = dir;
	o.stripe_bytes = 4096; /* not a multiple of the 64 KiB chunk */
	scales_registry *reg;
	cr_assert_eq(scales_open(&o, &reg), 0);
	scales_counter c;
	scales_histogram h;
	struct scales_histogram_config cfg = { 1u << 10, 5, 0, 0 };
	cr_assert_eq(scales_counter_get(reg, "/c", NULL, &c), 0);
	cr_assert_eq(scales_histogram_get(reg, "/h", NULL, &cfg, &h), 0);
	scales_state st;
	cr_assert_eq(scales_state_get(reg, "/s", NULL, &st), 0);
	cr_assert_eq(scales_state_set_str(&st, "x"), 0);
	int fd = open(scales_registry_path(reg), O_RDONLY);
	cr_assert_geq(fd, 0);
	uint64_t cap = 0;
	cr_assert_eq(pread(fd, &cap, 8, 112), 8); /* header.capacity */
	struct stat sb;
	cr_assert_eq(fstat(fd, &sb), 0);
	close(fd);
	cr_expect_eq((uint64_t)sb.st_size, cap,
	             "file size %lld, header capacity %llu",
	             (long long)sb.st_size, (unsigned long long)cap);
	scales_close(&reg);
}
