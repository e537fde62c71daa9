/* SPDX-License-Identifier: MIT */
/*
 * test_slots.c: directory slots across processes that share a segment.
 *
 *  - A writer killed in the middle of publishing a stat (a test hook inside
 *    publish() kills it at the exact point where the entry's generation is
 *    odd) must not make the next stat published in that slot invisible.
 *
 * Linked with the writer's internals for the hook (writer/internal.h).
 * Real processes: fork, SIGKILL, and the reader library on the file.
 */
#include <signal.h>
#include <sys/wait.h>

#include "common.h"

/* writer/internal.h: tests only. */
extern void (*test_hook_publishing)(void);

static char dir[PATH_MAX];

static void setup(void)
{
	h_fresh_dir(dir);
}

static void teardown(void)
{
	h_rm_rf(dir);
}

TestSuite(slots, .init = setup, .fini = teardown, .timeout = 60);

static void die_now(void)
{
	raise(SIGKILL);
}

/* A forked child registers path and is SIGKILLed inside publish(), registry
 * lock held, with the entry's generation odd. */
static void child_dies_publishing(scales_registry *reg, const char *path)
{
	pid_t p = fork();
	cr_assert_geq(p, 0);
	if (p == 0) {
		test_hook_publishing = die_now;
		scales_counter c;
		scales_counter_get(reg, path, NULL, &c);
		_exit(0); /* not reached */
	}
	int st;
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	          "the child was not killed inside publish()");
}

/* A new slot (at dir_used): the next stat takes that very slot. Before the
 * fix it was published from the odd generation and stayed odd forever:
 * readers skipped it. */
Test(slots, killed_mid_publish_of_a_new_slot_next_stat_visible)
{
	scales_registry *reg = h_open("midpub");
	scales_counter a;
	cr_assert_eq(scales_counter_get(reg, "/a", NULL, &a), 0);
	scales_counter_add(&a, 3);

	child_dies_publishing(reg, "/half");

	/* The lock reports EOWNERDEAD: repaired, and the slot handed out. */
	scales_counter next;
	int rc = scales_counter_get(reg, "/next", NULL, &next);
	cr_assert_eq(rc, 0, "%s", scales_strerror(rc));
	scales_counter_add(&next, 7);
	scales_counter more;
	cr_assert_eq(scales_counter_get(reg, "/more", NULL, &more), 0);
	scales_counter_add(&more, 11);

	struct scales_snapshot *s = h_snap(reg); /* none skipped, none bad */
	cr_expect_eq(h_find(s, "/a")->v.u64, 3);
	cr_expect_eq(h_find(s, "/next")->v.u64, 7);
	cr_expect_eq(h_find(s, "/more")->v.u64, 11);
	cr_expect_null(scales_snapshot_find(s, "/half"));
	cr_expect_eq(s->n, 3);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

/* A reused slot (from the free list): repair closes it; the next stat
 * gets another slot and is visible. */
Test(slots, killed_mid_publish_of_a_reused_slot_next_stat_visible)
{
	scales_registry *reg = h_open("midpub2");
	scales_counter a, b;
	cr_assert_eq(scales_counter_get(reg, "/a", NULL, &a), 0);
	cr_assert_eq(scales_counter_get(reg, "/b", NULL, &b), 0);
	scales_counter_add(&b, 5);
	cr_assert_eq(scales_retire(reg, "/a"), 0);

	child_dies_publishing(reg, "/half"); /* takes /a's slot */

	scales_counter next;
	int rc = scales_counter_get(reg, "/next", NULL, &next);
	cr_assert_eq(rc, 0, "%s", scales_strerror(rc));
	scales_counter_add(&next, 7);

	struct scales_snapshot *s = h_snap(reg);
	cr_expect_eq(h_find(s, "/b")->v.u64, 5);
	cr_expect_eq(h_find(s, "/next")->v.u64, 7);
	cr_expect_null(scales_snapshot_find(s, "/half"));
	cr_expect_null(scales_snapshot_find(s, "/a"));
	scales_snapshot_free(&s);
	scales_close(&reg);
}
