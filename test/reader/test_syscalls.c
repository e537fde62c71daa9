/* SPDX-License-Identifier: MIT */
/*
 * test_syscalls.c: the system calls a pass costs per process (issue
 * 17.2): one fstat() a file when the selection opens it, which its first
 * snapshot in the pass uses too, and one before a warm snapshot, not
 * five; our pid namespace stat()ed once, not once per segment and per
 * snapshot; a segment taken again by the next selection is fstat()ed
 * again (a new pass sees a new owner and size); a header read once at
 * open serves the selection, and no getpid() per segment. Real writers
 * (libscales) in this process; the calls are counted by count_stat.c.
 */
#include <sys/wait.h>
#include <unistd.h>

#include <scales/scales.h>

#include "common.h"
#include "count_stat.h"

#define NSEG 6

static char *dir;
static scales_registry *regs[NSEG];

static void setup(void)
{
	dir = sb_tmpdir();
	for (int i = 0; i < NSEG; i++) {
		char app[16];
		snprintf(app, sizeof(app), "app%d", i);
		struct scales_options o;
		scales_options_init(&o);
		o.app = app;
		o.flags = SCALES_NO_SAMPLER;
		o.dir = dir;
		int rc = scales_open(&o, &regs[i]);
		cr_assert_eq(rc, 0, "scales_open: %s", scales_strerror(rc));
		scales_counter c;
		cr_assert_eq(scales_counter_get(regs[i], "/n", NULL, &c), 0);
		scales_counter_add(&c, (uint64_t)i + 1);
	}
}

static void teardown(void)
{
	for (int i = 0; i < NSEG; i++)
		scales_close(&regs[i]);
	sb_rmdir(dir);
	free(dir);
}

TestSuite(syscalls, .init = setup, .fini = teardown, .timeout = 60);

static void select_all(struct scales_selection *s)
{
	char err[512] = "";
	int rc = scales_select(s, err, sizeof(err));
	cr_assert_eq(rc, 0, "scales_select: %d %s", rc, err);
	cr_assert_eq(s->n, NSEG);
	for (size_t i = 0; i < s->n; i++)
		cr_assert_eq(s->items[i].info.liveness, SCALES_LIVE_ALIVE, "%s",
		             s->items[i].path);
}

static void snapshot_all(struct scales_selection *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct scales_snapshot *snap = must_snap(s->items[i].seg, 0);
		cr_assert_eq(snap->proc.liveness, SCALES_LIVE_ALIVE);
		scales_snapshot_free(&snap);
	}
}

Test(syscalls, one_fstat_a_file_a_step_and_one_namespace_stat)
{
	struct scales_selection s = { 0 };
	s.dir = dir;
	/* the namespace of this process may have been read already (by
	 * scales_open()'s writer side or another test): counted from here */
	count_fstat = count_ns_stat = count_hdr_pread = count_getpid = 0;
	select_all(&s);
	cr_assert_eq(count_fstat, NSEG,
	             "the selection: one fstat a file "
	             "(got %lu for %d files)",
	             count_fstat, NSEG);
	cr_assert_eq(count_hdr_pread, NSEG,
	             "the selection: one reading of a header a file, at "
	             "open (got %lu for %d files)",
	             count_hdr_pread, NSEG);
	snapshot_all(&s);
	cr_assert_eq(count_fstat, NSEG,
	             "a first snapshot in the pass: the selection's fstat "
	             "serves (got %lu in all)",
	             count_fstat);
	cr_assert_eq(count_hdr_pread, 2 * NSEG,
	             "a snapshot: one reading of the header (got %lu in all)",
	             count_hdr_pread);
	cr_assert_leq(count_ns_stat, 1,
	              "our pid namespace read %lu times for %d segments",
	              count_ns_stat, NSEG);
	cr_assert_eq(count_getpid, 0, "getpid() %lu times", count_getpid);

	/* the next pass: each segment taken again is fstat()ed again */
	count_fstat = count_ns_stat = 0;
	select_all(&s);
	cr_assert_eq(count_fstat, NSEG,
	             "reselected: one fstat a file "
	             "(got %lu)",
	             count_fstat);
	cr_assert_eq(count_ns_stat, 0, "the namespace is known");
	/* a warm snapshot (through the mapping) fstats first */
	snapshot_all(&s);
	cr_assert_eq(count_fstat, 2 * NSEG,
	             "a warm snapshot: one fstat (got %lu in all)",
	             count_fstat);
	scales_selection_free(&s);
}

/* A child of fork() reads the namespace again (it may be another one:
 * unshare(CLONE_NEWPID) in the parent puts its children there), and
 * still finds our writers alive. */
Test(syscalls, a_forked_child_reads_its_own_namespace)
{
	struct scales_selection s = { 0 };
	s.dir = dir;
	select_all(&s);
	scales_selection_free(&s);
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		count_ns_stat = 0;
		struct scales_selection t = { 0 };
		t.dir = dir;
		char err[256];
		int ok = scales_select(&t, err, sizeof(err)) == 0 &&
		         t.n == NSEG &&
		         t.items[0].info.liveness == SCALES_LIVE_ALIVE &&
		         count_ns_stat == 1;
		_exit(ok ? 0 : 1);
	}
	int st;
	cr_assert_eq(waitpid(child, &st, 0), child);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	          "the child's selection (status %d)", st);
}
