/* SPDX-License-Identifier: MIT */
/*
 * test_fork.c: a parent and its forked child sharing one segment, each with
 * its own in-process index: retirements and registrations by one must never
 * hand the other a stale handle or a second entry for one path.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
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

/* The registration window of the writer (writer/internal.h): tests only. */
extern void (*test_hook_registering)(void);

static int fork_req[2], fork_done[2];
static pid_t forked;

/* Inside the parent's registration of /x, lock held: have another thread
 * fork, and wait until it has. */
static void fork_in_window(void)
{
	char c = 'f';
	if (write(fork_req[1], &c, 1) != 1 || read(fork_done[0], &c, 1) != 1)
		abort();
}

static scales_registry *race_reg;

static void *forker(void *arg)
{
	(void)arg;
	char c;
	if (read(fork_req[0], &c, 1) != 1)
		abort();
	pid_t p = fork();
	if (p == 0) {
		/* The child: its registering thread is gone. Its get("/x")
		 * waits for the parent's lock, then must find the parent's
		 * entry instead of publishing a second /x. */
		test_hook_registering = NULL;
		scales_counter x;
		if (scales_counter_get(race_reg, "/x", NULL, &x) != 0)
			_exit(1);
		scales_counter_inc(&x);
		_exit(0);
	}
	forked = p;
	if (write(fork_done[1], &c, 1) != 1)
		abort();
	return NULL;
}

/*
 * A fork lands between the header generation's bump and the index insertion
 * of a registration in another thread (forced by a test hook at exactly that
 * point). The child must resynchronise its index: one /x, counting both.
 */
Test(fork, fork_inside_a_registration_gives_no_duplicate, .timeout = 30)
{
	fresh_dir();
	race_reg = open_reg("forkrace", 0, 0);
	cr_assert_eq(pipe(fork_req), 0);
	cr_assert_eq(pipe(fork_done), 0);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, forker, NULL), 0);
	test_hook_registering = fork_in_window;
	scales_counter x;
	int rc = scales_counter_get(race_reg, "/x", NULL, &x);
	test_hook_registering = NULL;
	cr_assert_eq(rc, 0);
	pthread_join(t, NULL);
	scales_counter_inc(&x);
	wait_ok(forked);

	char err[256];
	scales_segment *seg = NULL;
	cr_assert_eq(scales_segment_open(scales_registry_path(race_reg), 0,
	                                 &seg, err, sizeof err),
	             0, "%s", err);
	struct scales_process_info info;
	cr_assert_eq(scales_segment_info(seg, &info, err, sizeof err), 0, "%s",
	             err);
	cr_expect_eq(info.live_metrics, 1, "%u live entries for one path",
	             (unsigned)info.live_metrics);
	scales_segment_close(&seg);
	struct scales_snapshot *s = snap(race_reg);
	cr_expect_eq(must_find(s, "/x")->v.u64, 2,
	             "the child's count is in a hidden duplicate");
	scales_snapshot_free(&s);
	scales_close(&race_reg);
}

/* ---------------------------------------------- tasks without atfork */

static scales_registry *foreign_reg;
static volatile int foreign_rc[3];

/* In a task that shares our memory: register, intern, close. */
static int foreign_task(void *arg)
{
	(void)arg;
	scales_counter c;
	foreign_rc[0] = scales_counter_get(foreign_reg, "/foreign", NULL, &c);
	uint32_t id;
	foreign_rc[1] = scales_state_intern(foreign_reg, "foreign-state", &id);
	scales_registry *r = foreign_reg;
	foreign_rc[2] = scales_close(&r);
	return 0;
}

static void expect_refused(const char *how)
{
	cr_expect_eq(foreign_rc[0], SCALES_E_FOREIGN, "%s: get gave %d", how,
	             foreign_rc[0]);
	cr_expect_eq(foreign_rc[1], SCALES_E_FOREIGN, "%s: intern gave %d", how,
	             foreign_rc[1]);
	cr_expect_eq(foreign_rc[2], SCALES_E_FOREIGN, "%s: close gave %d", how,
	             foreign_rc[2]);
	/* The registry is intact and ours: nothing was registered. */
	struct scales_snapshot *s = snap(foreign_reg);
	cr_expect_null(scales_snapshot_find(s, "/foreign"),
	               "%s: a stranger registered /foreign", how);
	scales_snapshot_free(&s);
	scales_counter c;
	cr_expect_eq(scales_counter_get(foreign_reg, "/after", NULL, &c), 0);
}

/*
 * A vfork child and a raw clone(CLONE_VM) task share the process's memory
 * but are none of its threads, and no fork handler runs for them: the
 * registration paths refuse them (SCALES_E_FOREIGN) before touching a lock,
 * and scales_close() does nothing. (Their updates through existing handles
 * cannot be caught without slowing the hot path: docs/api.md.)
 */
Test(fork, tasks_sharing_memory_are_refused, .timeout = 30)
{
	fresh_dir();
	foreign_reg = open_reg("foreign", 0, 0);

	memset((void *)foreign_rc, 0, sizeof foreign_rc);
	pid_t p = vfork();
	if (p == 0) {
		foreign_task(NULL);
		_exit(0);
	}
	cr_assert_geq(p, 0);
	wait_ok(p);
	expect_refused("vfork");

	memset((void *)foreign_rc, 0, sizeof foreign_rc);
	size_t stack_size = 1 << 20;
	char *stack = malloc(stack_size);
	cr_assert_not_null(stack);
	p = clone(foreign_task, stack + stack_size, CLONE_VM | SIGCHLD, NULL);
	cr_assert_geq(p, 0, "clone: %s", strerror(errno));
	wait_ok(p);
	free(stack);
	expect_refused("clone(CLONE_VM)");
	scales_close(&foreign_reg);
}
