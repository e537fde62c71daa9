/* SPDX-License-Identifier: MIT */
/*
 * test_slots.c: directory slots across processes that share a segment.
 *
 *  - A writer killed in the middle of publishing a stat (a test hook inside
 *    publish() kills it at the exact point where the entry's generation is
 *    odd) must not make the next stat published in that slot invisible.
 *  - A forked child that retires the parent's callback gauge, and reuses
 *    its slot for another stat, must not have that stat overwritten by the
 *    parent's callback (by scales_sample() or by the callback thread).
 *
 * Linked with the writer's internals for the hook (writer/internal.h).
 * Real processes: fork, SIGKILL, and the reader library on the file.
 */
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

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

static atomic_long cb_calls, cb_calls_after;
static atomic_int *reused; /* shared with the child: it has reused /cb */

static int64_t cb_value(void *arg)
{
	(void)arg;
	atomic_fetch_add(&cb_calls, 1);
	if (reused && atomic_load(reused))
		atomic_fetch_add(&cb_calls_after, 1); /* began after reuse */
	return 1234;
}

/* The entry index of path in a fresh snapshot. */
static uint32_t entry_of(scales_registry *reg, const char *path)
{
	struct scales_snapshot *s = h_snap(reg);
	uint32_t e = h_find(s, path)->entry;
	scales_snapshot_free(&s);
	return e;
}

/* In a forked child: retire /cb, register the gauge /g (same sizes: it
 * takes /cb's slot) and set it to 5. Returns once the child is gone. */
static void child_retires_and_reuses(scales_registry *reg)
{
	pid_t p = fork();
	cr_assert_geq(p, 0);
	if (p == 0) {
		scales_gauge g;
		if (scales_retire(reg, "/cb") != 0 ||
		    scales_gauge_get(reg, "/g", NULL, &g) != 0)
			_exit(1);
		scales_gauge_set(&g, 5);
		if (reused)
			atomic_store(reused, 1);
		_exit(0);
	}
	int st;
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	          "the child could not retire /cb or register /g");
}

static void expect_g_untouched(scales_registry *reg, uint32_t cb_entry)
{
	struct scales_snapshot *s = h_snap(reg);
	const struct scales_metric *g = h_find(s, "/g");
	cr_assert_eq(g->entry, cb_entry, "/g did not reuse /cb's slot");
	cr_expect_eq(g->v.i64, 5, "the parent's callback wrote %lld into /g",
	             (long long)g->v.i64);
	cr_expect_null(scales_snapshot_find(s, "/cb"));
	scales_snapshot_free(&s);
}

/* The parent's callback runs by scales_sample() after the child's reuse. */
Test(slots, child_retires_parent_callback_gauge_sample_leaves_reuse_alone)
{
	scales_registry *reg = h_open("cbreuse");
	cr_assert_eq(scales_gauge_callback_i64(reg, "/cb", NULL, cb_value,
	                                       NULL),
	             0);
	cr_assert_eq(scales_sample(reg), 0);
	uint32_t cb_entry = entry_of(reg, "/cb");

	child_retires_and_reuses(reg);
	cr_assert_eq(scales_sample(reg), 0);
	cr_assert_eq(scales_sample(reg), 0);
	expect_g_untouched(reg, cb_entry);
	scales_close(&reg);
}

/* The parent's callback thread keeps running across the child's reuse. */
Test(slots, child_retires_parent_callback_gauge_thread_leaves_reuse_alone)
{
	struct scales_options o;
	h_small_opts(&o, "cbthread");
	o.flags = 0; /* a heartbeat and a callback thread */
	o.sampler_interval_ms = 5;
	scales_registry *reg = NULL;
	cr_assert_eq(scales_open(&o, &reg), 0);
	atomic_store(&cb_calls, 0);
	atomic_store(&cb_calls_after, 0);
	reused = mmap(NULL, sizeof *reused, PROT_READ | PROT_WRITE,
	              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(reused, MAP_FAILED);
	atomic_store(reused, 0);
	cr_assert_eq(scales_gauge_callback_i64(reg, "/cb", NULL, cb_value,
	                                       NULL),
	             0);
	/* Watchdogs below only turn a hang into a message. */
	for (int i = 0; i < 60000 && atomic_load(&cb_calls) < 2; i++)
		usleep(1000);
	cr_assert_geq(atomic_load(&cb_calls), 2, "no callback thread");
	uint32_t cb_entry = entry_of(reg, "/cb");

	child_retires_and_reuses(reg);
	/* A round of the thread that began after the reuse (the callback
	 * runs every 5 ms; with the fix it is dropped at its first store,
	 * rarely in the round that began before: then none comes and the
	 * wait ends empty-handed, which is fine) ... */
	for (int i = 0; i < 10000 && atomic_load(&cb_calls_after) == 0; i++)
		usleep(1000);
	/* ... has stored its result once scales_sample() (which waits for
	 * the thread's round) returns. */
	cr_assert_eq(scales_sample(reg), 0);
	expect_g_untouched(reg, cb_entry);
	scales_close(&reg);
}
