/* SPDX-License-Identifier: MIT */
/*
 * hard-junk: a segment directory full of junk next to one live writer's
 * segment: text files, random bytes, empty files, huge sparse files (1 TiB,
 * zeros or a real segment's header), truncated and wrong-version copies,
 * symlinks (to the segment, dangling, looping), directories, a fifo, a
 * socket, a device node, names with control bytes, 200 more garbage files,
 * another user's copy. Readers skip each with a clear one-line message and
 * go on: the library (discovery, open, snapshot), and the tools when built
 * (scales-top -l, -1, -j; scales-export --stdout -1): they must not crash
 * or hang, must exit 0 and must show the live writer's values.
 *
 * Usage: hard-junk HARD-WRITER [SCALES-TOP [SCALES-EXPORT]]   ("" for a
 * tool that is not built). Prints TAP.
 */
#include <scales/reader.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "json_check.h"
#include "proc.h"

#define TIB (1ull << 40)

/* What a junk item should give. */
enum expect {
	WARN,   /* discovery skips it with a warning naming it */
	SILENT, /* discovery skips it silently (temporaries) */
	REFUSE, /* discovery lists it; open fails with a message */
	OPENS,  /* discovery lists it; it opens and snapshots */
	EITHER, /* listed; opens or fails cleanly (a 1 TiB capacity) */
};

struct junk {
	char name[64];
	enum expect ex;
	int warned, listed;
};

static struct junk junk[400];
static int njunk;
static char dir[4096];

static struct junk *add(const char *name, enum expect ex)
{
	struct junk *j = &junk[njunk++];
	snprintf(j->name, sizeof j->name, "%s", name);
	j->ex = ex;
	return j;
}

static char *jpath(const char *name)
{
	static char p[4096 + 128];
	snprintf(p, sizeof p, "%.4000s/%.60s", dir, name);
	return p;
}

static void put(const char *name, const void *data, size_t n,
                uint64_t truncate_to)
{
	int fd = open(jpath(name), O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		tap_bail("create %s: %s", name, strerror(errno));
	if (n && write(fd, data, n) != (ssize_t)n)
		tap_bail("write %s: %s", name, strerror(errno));
	if (truncate_to && ftruncate(fd, (off_t)truncate_to))
		tap_bail("truncate %s: %s", name, strerror(errno));
	close(fd);
}

static void make_junk(const char *real, uint64_t *rs)
{
	size_t n;
	unsigned char *seg = (unsigned char *)slurp(real, &n);
	unsigned char rnd[10000];
	for (size_t i = 0; i < sizeof rnd; i++)
		rnd[i] = (unsigned char)rnd_next(rs);

	put("notes.txt", "not a segment\n", 14, 0);
	add("notes.txt", WARN);
	put("garbage.100.1.seg", rnd, sizeof rnd, 0);
	add("garbage.100.1.seg", REFUSE);
	put("empty.101.1.seg", "", 0, 0);
	add("empty.101.1.seg", REFUSE);
	put("sparse.102.1.seg", "", 0, TIB);
	add("sparse.102.1.seg", REFUSE);
	/* a real segment in a 1 TiB sparse file: capacity < size, fine */
	put("bigcopy.103.1.seg", seg, n, TIB);
	add("bigcopy.103.1.seg", OPENS);
	/* ... that claims the whole TiB: maps it or refuses, cleanly */
	unsigned char *c = malloc(n);
	memcpy(c, seg, n);
	uint64_t cap = TIB;
	memcpy(c + 112, &cap, 8); /* header.capacity */
	put("hugecap.104.1.seg", c, n, TIB);
	add("hugecap.104.1.seg", EITHER);
	put("trunc.105.1.seg", seg, 4096, 0);
	add("trunc.105.1.seg", REFUSE);
	put("trunc2.106.1.seg", seg, n - 4096, 0);
	add("trunc2.106.1.seg", REFUSE);
	memcpy(c, seg, n);
	c[8] = 99; /* version_major */
	put("wrongver.107.1.seg", c, n, 0);
	add("wrongver.107.1.seg", REFUSE);
	memcpy(c, seg, n);
	memset(c + 4096, 0xff, 4096); /* the first entries: garbage */
	put("badentries.108.1.seg", c, n, 0);
	add("badentries.108.1.seg", OPENS);
	free(c);

	if (symlink(real, jpath("link.120.1.seg")) ||
	    symlink("/nonexistent/x", jpath("dangling.121.1.seg")) ||
	    symlink("loop.122.1.seg", jpath("loop.122.1.seg")) ||
	    symlink("/etc/passwd", jpath("passwd.123.1.seg")))
		tap_bail("symlink: %s", strerror(errno));
	add("link.120.1.seg", WARN);
	add("dangling.121.1.seg", WARN);
	add("loop.122.1.seg", WARN);
	add("passwd.123.1.seg", WARN);
	if (mkdir(jpath("dir.124.1.seg"), 0700) || mkdir(jpath("subdir"), 0700))
		tap_bail("mkdir: %s", strerror(errno));
	add("dir.124.1.seg", WARN);
	add("subdir", WARN);
	if (mkfifo(jpath("fifo.125.1.seg"), 0600))
		tap_bail("mkfifo: %s", strerror(errno));
	add("fifo.125.1.seg", WARN);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%.100s",
	         jpath("sock.126.1.seg"));
	if (s >= 0 && strlen(jpath("sock.126.1.seg")) < sizeof sa.sun_path &&
	    bind(s, (struct sockaddr *)&sa, sizeof sa) == 0)
		add("sock.126.1.seg", WARN);
	if (s >= 0)
		close(s);
	if (geteuid() == 0 &&
	    mknod(jpath("dev.127.1.seg"), S_IFCHR | 0600, makedev(1, 3)) == 0)
		add("dev.127.1.seg", WARN);
	put(".tmp-junk", "x", 1, 0);
	add(".tmp-junk", SILENT);
	put("bad\nname.128.1.seg", "x", 1, 0);
	add("bad\nname.128.1.seg", WARN);
	put("esc\x1b[2Jname.129.1.seg", "x", 1, 0);
	add("esc\x1b[2Jname.129.1.seg", WARN);
	put("x.0.1.seg", "x", 1, 0);
	add("x.0.1.seg", WARN);
	put("a.b.1.2.seg", "x", 1, 0);
	add("a.b.1.2.seg", WARN);
	put("nopid..1.seg", "x", 1, 0);
	add("nopid..1.seg", WARN);
	put("big.99999999999.1.seg", "x", 1, 0);
	add("big.99999999999.1.seg", WARN);
	put("noperm.130.1.seg", seg, n, 0);
	chmod(jpath("noperm.130.1.seg"), 0);
	/* root reads it anyway; anyone else gets EACCES */
	add("noperm.130.1.seg", geteuid() == 0 ? OPENS : REFUSE);
	if (geteuid() == 0) {
		put("theirs.131.1.seg", seg, n, 0);
		if (chown(jpath("theirs.131.1.seg"), 65534, 65534) == 0)
			add("theirs.131.1.seg", OPENS);
	}
	for (int i = 0; i < 200; i++) {
		char name[64];
		snprintf(name, sizeof name, "junk%d.%d.1.seg", i, 1000 + i);
		size_t len = (size_t)rnd_below(rs, sizeof rnd);
		/* some start with the magic, to get past the first check */
		if (i % 2)
			memcpy(rnd, seg, len < 64 ? len : 64);
		put(name, rnd, len, 0);
		add(name, REFUSE);
	}
	free(seg);
}

/* ---------------------------------------------------------- the library */

static struct fails f_warn, f_list, f_open, f_values, f_lines, f_top_lines,
    f_exp_lines;

static struct junk *find(const char *path)
{
	size_t dl = strlen(dir);
	if (strncmp(path, dir, dl) || path[dl] != '/')
		return NULL;
	for (int i = 0; i < njunk; i++)
		if (!strcmp(junk[i].name, path + dl + 1))
			return &junk[i];
	return NULL;
}

static void on_warn(void *arg, const char *path, const char *msg)
{
	(void)arg;
	struct junk *j = find(path);
	if (!j) {
		fail_add(&f_warn, "warning for an unknown item [%s]: %s", path,
		         msg);
		return;
	}
	j->warned++;
	if (j->ex != WARN)
		fail_add(&f_warn, "unexpected warning for [%s]: %s", j->name,
		         msg);
	if (!*msg || strchr(msg, '\n'))
		fail_add(&f_lines, "warning for [%s] is not one line: [%s]",
		         j->name, msg);
}

static void check_values(const struct scales_snapshot *s, const char *what)
{
	const struct scales_metric *c = scales_snapshot_find(s, "/i/c");
	const struct scales_metric *g = scales_snapshot_find(s, "/i/g");
	if (!c || c->v.u64 != 42 || !g || g->v.i64 != -5 || s->n != 2)
		fail_add(&f_values, "%s: wrong values (%zu metrics)", what,
		         s->n);
}

static void library(const char *real)
{
	struct scales_seg_list l;
	char err[1024];
	int rc = scales_discover(dir, on_warn, NULL, &l, err, sizeof err);
	if (rc) {
		fail_add(&f_list, "discover: %s", err);
		return;
	}
	bool real_listed = false;
	for (size_t i = 0; i < l.n; i++) {
		const char *p = l.items[i].path;
		if (!strcmp(p, real)) {
			real_listed = true;
		} else {
			struct junk *j = find(p);
			if (!j) {
				fail_add(&f_list, "listed unknown [%s]", p);
				continue;
			}
			j->listed++;
		}
		scales_segment *seg = NULL;
		err[0] = '\0';
		rc = scales_segment_open(p, 0, &seg, err, sizeof err);
		struct junk *j = find(p);
		enum expect ex = j ? j->ex : OPENS;
		if (rc) {
			if (ex == OPENS)
				fail_add(&f_open, "%s: %s", p, err);
			if (!*err || strchr(err, '\n') || !strstr(err, p))
				fail_add(&f_lines,
				         "open error for [%s] is not one line "
				         "naming it: [%s]",
				         p, err);
			continue;
		}
		if (ex == REFUSE)
			fail_add(&f_open, "%s: opened, should be refused", p);
		struct scales_process_info info;
		struct scales_snapshot *s = NULL;
		if (scales_segment_info(seg, &info, err, sizeof err) ||
		    scales_snapshot_take(seg, 0, &s, err, sizeof err)) {
			if (ex == OPENS)
				fail_add(&f_open, "%s: %s", p, err);
		} else if (ex == OPENS && !strstr(p, "badentries")) {
			check_values(s, p);
		} else if (strstr(p, "badentries") && s->invalid == 0 &&
		           s->n == 2) {
			fail_add(&f_open, "%s: garbage entries not noticed", p);
		}
		scales_snapshot_free(&s);
		scales_segment_close(&seg);
	}
	scales_seg_list_free(&l);
	if (!real_listed)
		fail_add(&f_list, "the live segment was not listed");
	for (int i = 0; i < njunk; i++) {
		struct junk *j = &junk[i];
		bool lst = j->ex == REFUSE || j->ex == OPENS || j->ex == EITHER;
		if (j->warned != (j->ex == WARN))
			fail_add(&f_warn, "[%s]: %d warnings", j->name,
			         j->warned);
		if (j->listed != lst)
			fail_add(&f_list, "[%s]: listed %d times", j->name,
			         j->listed);
	}
}

/* ------------------------------------------------------------ the tools */

static bool exited(int st, int code)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == code;
}

/* Each line of a tool's stderr: printable, and the junk it names. */
static void check_stderr(const char *tool, const char *errs)
{
	struct fails *fl =
	    strcmp(tool, "scales-top") ? &f_exp_lines : &f_top_lines;
	for (const char *p = errs; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if ((ch < 0x20 && ch != '\n') || ch == 0x7f) {
			fail_add(fl, "%s: raw control byte 0x%02x on stderr",
			         tool, ch);
			break;
		}
	}
	/* a name with a newline must not split a message in two: every
	 * line starts with the tool's name */
	const char *line = errs;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		size_t tl = strlen(tool);
		if (strncmp(line, tool, tl) || line[tl] != ':') {
			fail_add(fl, "%s: stderr line [%.*s] is a fragment",
			         tool, (int)(len > 80 ? 80 : len), line);
			break;
		}
		line += len + (nl ? 1 : 0);
	}
}

static void tools(const char *top, const char *exp, const char *real)
{
	char *out, *errs;
	bool hung;
	int st;
	char b[64];
	if (!*top) {
		tap_ok(true, "# SKIP scales-top is not built");
		tap_ok(true, "# SKIP scales-top is not built");
		tap_ok(true, "# SKIP scales-top is not built");
		tap_ok(true, "# SKIP scales-top is not built");
	} else {
		char *a1[] = { (char *)top, "-l", "-d", dir, NULL };
		st = run_capture(a1, &out, &errs, &hung, 60000);
		tap_ok(!hung && exited(st, 0) && strstr(out, "hardidle"),
		       "scales-top -l skips the junk and lists the writer "
		       "(%s)",
		       hung ? "hung" : status_str(st, b, sizeof b));
		if (!strstr(out, "hardidle"))
			tap_diag("stdout: %.300s", out);
		check_stderr("scales-top", errs);
		free(out);
		free(errs);

		char *a2[] = { (char *)top, "-1", "-d", dir, NULL };
		st = run_capture(a2, &out, &errs, &hung, 60000);
		tap_ok(!hung && exited(st, 0) && strstr(out, "/i/c") &&
		           strstr(out, "42"),
		       "scales-top -1 skips the junk and prints the writer's "
		       "values (%s)",
		       hung ? "hung" : status_str(st, b, sizeof b));
		check_stderr("scales-top", errs);
		free(out);
		free(errs);

		char *a3[] = { (char *)top, "-j", "-d", dir, NULL };
		st = run_capture(a3, &out, &errs, &hung, 60000);
		tap_ok(!hung && exited(st, 0) && json_valid(out, strlen(out)) &&
		           strstr(out, "\"/i/c\""),
		       "scales-top -j prints valid JSON with the writer (%s)",
		       hung ? "hung" : status_str(st, b, sizeof b));
		free(out);
		free(errs);

		/* a junk file or a symlink named on the command line: exit 2
		 * with a one-line reason */
		int bad = 0;
		const char *named[] = { "link.120.1.seg", "garbage.100.1.seg",
			                "fifo.125.1.seg", "dir.124.1.seg",
			                "sparse.102.1.seg" };
		for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
			char p[8192];
			snprintf(p, sizeof p, "%s/%s", dir, named[i]);
			char *a4[] = { (char *)top, "-1", p, NULL };
			st = run_capture(a4, &out, &errs, &hung, 60000);
			if (hung || !exited(st, 2) || !strchr(errs, '\n') ||
			    strchr(errs, '\n')[1]) {
				bad++;
				tap_diag("scales-top -1 %s: %s, stderr [%s]",
				         named[i],
				         hung ? "hung" :
				                status_str(st, b, sizeof b),
				         errs);
			}
			free(out);
			free(errs);
		}
		tap_ok(bad == 0,
		       "scales-top -1 JUNK exits 2 with a one-line reason");
	}
	if (!*exp) {
		tap_ok(true, "# SKIP scales-export is not built");
		tap_ok(true, "# SKIP scales-export is not built");
	} else {
		char *a[] = { (char *)exp, "--stdout", "-1", "-p",
			      "junk",      "-d",       dir,  NULL };
		st = run_capture(a, &out, &errs, &hung, 60000);
		/* BUG-H4 (fixed in ad39689): a corrupt copy of the live
		 * segment under another name (badentries.108.1.seg, same pid
		 * and start) shadowed the real one: nothing was exported, and
		 * the exit status was 0 */
		tap_ok(!hung && exited(st, 0) &&
		           strstr(out, "junk.hardidle.i.c 42 "),
		       "scales-export --stdout -1 skips the junk and exports "
		       "the writer (%s)",
		       hung ? "hung" : status_str(st, b, sizeof b));
		if (!strstr(out, "junk.hardidle.i.c 42 "))
			tap_diag("stdout: [%.300s] stderr: [%.300s]", out,
			         errs);
		check_stderr("scales-export", errs);
		free(out);
		free(errs);

		int bad = 0;
		const char *named[] = { "link.120.1.seg", "garbage.100.1.seg",
			                "fifo.125.1.seg", "dir.124.1.seg" };
		for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
			char p[8192];
			snprintf(p, sizeof p, "%s/%s", dir, named[i]);
			char *a2[] = { (char *)exp, "--stdout", "-1", p, NULL };
			st = run_capture(a2, &out, &errs, &hung, 60000);
			if (hung || !exited(st, 2) || !strchr(errs, '\n') ||
			    strchr(errs, '\n')[1]) {
				bad++;
				tap_diag("scales-export -1 %s: %s, stderr [%s]",
				         named[i],
				         hung ? "hung" :
				                status_str(st, b, sizeof b),
				         errs);
			}
			free(out);
			free(errs);
		}
		tap_ok(bad == 0,
		       "scales-export --stdout -1 JUNK exits 2 with a "
		       "one-line reason");
	}
	(void)real;
}

/* Everything in dir that is not a regular file, or not a candidate segment,
 * must survive --gc untouched; returns how many items are missing. */
static int missing_after_gc(bool copies_may_go, char *what, size_t n)
{
	int miss = 0;
	what[0] = '\0';
	for (int i = 0; i < njunk; i++) {
		struct junk *j = &junk[i];
		struct stat st;
		bool gone = lstat(jpath(j->name), &st) != 0;
		/* real copies (valid headers) of a dead writer may go */
		if (gone &&
		    !(copies_may_go && (j->ex == OPENS || j->ex == EITHER))) {
			if (!miss++)
				snprintf(what, n, "%.60s", j->name);
		}
	}
	return miss;
}

static void gc_checks(const char *top, const char *real, bool writer_alive)
{
	char *out, *errs, b[64], what[128];
	bool hung;
	char *a[] = { (char *)top, "--gc", "-d", dir, NULL };
	int st = run_capture(a, &out, &errs, &hung, 60000);
	struct stat sb;
	bool real_there = lstat(real, &sb) == 0;
	int miss = missing_after_gc(!writer_alive, what, sizeof what);
	if (writer_alive)
		tap_ok(!hung && exited(st, 0) && real_there && miss == 0,
		       "scales-top --gc beside a live writer removes nothing "
		       "(%s; %d items gone, first [%s])",
		       hung ? "hung" : status_str(st, b, sizeof b), miss, what);
	else
		tap_ok(!hung && exited(st, 0) && miss == 0,
		       "scales-top --gc after the writer died removes only its "
		       "segments, never junk, links or their targets (%s; %d "
		       "items gone, first [%s])",
		       hung ? "hung" : status_str(st, b, sizeof b), miss, what);
	free(out);
	free(errs);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: hard-junk HARD-WRITER [SCALES-TOP "
		                "[SCALES-EXPORT]]\n");
		return 2;
	}
	const char *top = argc > 2 ? argv[2] : "";
	const char *exp = argc > 3 ? argv[3] : "";
	signal(SIGPIPE, SIG_IGN);
	tap_plan(16);
	uint64_t rs = seed_init();
	char *d = fresh_dir("junk");
	snprintf(dir, sizeof dir, "%s", d);
	setenv("SCALES_DIR", dir, 1);

	char *wargv[] = { argv[1], "idle", NULL };
	struct child w = spawn(wargv, true, true, false);
	char line[4096];
	if (!child_line(&w, line, sizeof line, 60000) ||
	    strncmp(line, "ready ", 6))
		tap_bail("writer not ready: [%s]", line);
	char real[4096];
	snprintf(real, sizeof real, "%s", line + 6);
	make_junk(real, &rs);
	tap_diag("%d junk items next to %s", njunk, real);

	library(real);
	tap_fails(&f_warn, "discovery warns once for each item that is not a "
	                   "candidate, naming it; temporaries silently");
	tap_fails(&f_list, "discovery lists the live segment and every "
	                   "regular file named like a segment");
	tap_fails(&f_open, "junk fails to open with an error; real copies "
	                   "open");
	tap_fails(&f_values, "the live writer's values are read right");

	tap_fails(&f_lines, "every library message is one line naming the "
	                    "item");
	tools(top, exp, real);
	/* BUG-H3 (fixed in 0ef57b3): scales-top printed file names raw: a
	 * name with a newline split a warning, escape sequences reached the
	 * terminal */
	tap_ok(f_top_lines.n == 0,
	       "scales-top's messages are one printable line each");
	for (int i = 0; i < f_top_lines.n && i < 4; i++)
		tap_diag("%s", f_top_lines.first[i]);
	tap_fails(&f_exp_lines,
	          "scales-export's messages are one printable line each");

	if (*top)
		gc_checks(top, real, true);
	else
		tap_ok(true, "# SKIP scales-top is not built");

	bool hung;
	int st = child_wait_timeout(&w, 60000, &hung);
	char b[64];
	tap_ok(!hung && exited(st, 0), "the writer exits cleanly (%s)",
	       hung ? "hung" : status_str(st, b, sizeof b));
	if (*top)
		gc_checks(top, real, false);
	else
		tap_ok(true, "# SKIP scales-top is not built");
	if (getenv("SCALES_HARD_KEEP"))
		tap_diag("kept %s", dir);
	else
		rm_rf(dir);
	free(d);
	return tap_failed ? 1 : 0;
}
