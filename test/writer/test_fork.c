/* SPDX-License-Identifier: MIT */
/*
 * test_fork.c: a parent and its forked child sharing one segment, each with
 * its own in-process index: retirements and registrations by one must never
 * hand the other a stale handle or a second entry for one path.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

/* Waits for child p and requires a clean exit with status 0. */
static void wait_ok(pid_t p)
{
	int st;
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(WIFEXITED(st), "child died by signal %d", WTERMSIG(st));
	cr_assert_eq(WEXITSTATUS(st), 0, "child failed at step %d",
	             WEXITSTATUS(st));
}

/*
 * The parent retires /a and registers /b into the freed slot while its
 * child, forked earlier, still has /a in its index. The child's get("/a")
 * must register /a afresh, not return the retired handle (which now points
 * at /b's words).
 */
Test(fork, retired_in_parent_is_not_returned_in_child, .timeout = 30)
{
	fresh_dir();
	scales_registry *reg = open_reg("forkretire", 0, 0);
	scales_counter a;
	cr_assert_eq(scales_counter_get(reg, "/a", NULL, &a), 0);
	scales_counter_add(&a, 7);

	int go[2], done[2];
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(done), 0);
	pid_t p = fork();
	cr_assert_geq(p, 0);
	if (p == 0) {
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		scales_counter a2;
		if (scales_counter_get(reg, "/a", NULL, &a2) != 0)
			_exit(2);
		scales_counter_add(&a2, 5);
		_exit(0);
	}
	cr_assert_eq(scales_retire(reg, "/a"), 0);
	scales_counter b;
	cr_assert_eq(scales_counter_get(reg, "/b", NULL, &b), 0);
	cr_assert_eq(b.base, a.base, "/b did not reuse /a's slot: test moot");
	cr_assert_eq(write(go[1], "x", 1), 1);
	wait_ok(p);

	struct scales_snapshot *s = snap(reg);
	cr_expect_eq(must_find(s, "/b")->v.u64, 0,
	             "the child's increments landed in /b");
	cr_expect_eq(must_find(s, "/a")->v.u64, 5,
	             "the child's /a is not a fresh stat");
	scales_snapshot_free(&s);
	scales_close(&reg);
}
