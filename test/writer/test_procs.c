/* SPDX-License-Identifier: MIT */
/*
 * test_procs.c: writers in several threads and processes, read by a reader
 * in another process; a writer killed in the middle of registrations; fork.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define PER_THREAD 1000000

static scales_counter shared_counter;

static void *inc_loop(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++)
		scales_counter_inc(&shared_counter);
	return NULL;
}

/* In a separate process: open the segment with the reader library and
 * write the counter's value to fd. */
static uint64_t read_in_third_process(const char *path, const char *metric)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t p = fork();
	cr_assert_geq(p, 0);
	if (p == 0) {
		close(fds[0]);
		char err[256];
		scales_segment *seg;
		struct scales_snapshot *s;
		uint64_t v = UINT64_MAX;
		if (scales_segment_open(path, 0, &seg, err, sizeof err) == 0 &&
		    scales_snapshot_take(seg, 0, &s, err, sizeof err) == 0) {
			const struct scales_metric *m =
			    scales_snapshot_find(s, metric);
			if (m)
				v = m->v.u64;
		}
		if (write(fds[1], &v, sizeof v) != sizeof v)
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	uint64_t v = 0;
	cr_assert_eq(read(fds[0], &v, sizeof v), (ssize_t)sizeof v);
	close(fds[0]);
	int st;
	waitpid(p, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return v;
}

static void threads_and_fork(unsigned flags)
{
	fresh_dir();
	scales_registry *reg = open_reg("procs", flags, 0);
	cr_assert_eq(scales_counter_get(reg, "/work/done", NULL,
	                                &shared_counter),
	             0);
	if (flags & SCALES_NO_RSEQ)
		cr_assert_eq(shared_counter.rseq_cpus, 0);
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		inc_loop(NULL); /* the forked child writes too */
		_exit(0);
	}
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, inc_loop, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	int st;
	waitpid(child, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	uint64_t v =
	    read_in_third_process(scales_registry_path(reg), "/work/done");
	cr_assert_eq(v, 5ull * PER_THREAD, "exact total, got %lu",
	             (unsigned long)v);
	cr_assert_eq(access(scales_registry_path(reg), F_OK), 0,
	             "the child's exit did not remove the segment");
	scales_close(&reg);
}

Test(procs, four_threads_and_a_child_rseq, .timeout = 120)
{
	threads_and_fork(0);
}

Test(procs, four_threads_and_a_child_fallback, .timeout = 120)
{
	threads_and_fork(SCALES_NO_RSEQ);
}

Test(procs, child_registers_and_parent_sees_it, .timeout = 60)
{
	fresh_dir();
	scales_registry *reg = open_reg("forkreg", 0, 0);
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/before", NULL, &c), 0);
	pid_t p = fork();
	if (p == 0) {
		/* liburcu and the registry work in the child */
		scales_counter k;
		int rc = scales_counter_get(reg, "/from/child", NULL, &k);
		scales_counter_add(&k, 5);
		rc |= scales_counter_get(reg, "/before", NULL, &k);
		scales_counter_add(&k, 1);
		rc |= scales_retire(reg, "/doomed") != -ENOENT;
		_exit(rc ? 1 : 0);
	}
	int st;
	waitpid(p, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	scales_counter same;
	cr_assert_eq(scales_counter_get(reg, "/from/child", NULL, &same), 0);
	scales_counter_add(&same, 2);
	scales_gauge g;
	cr_assert_eq(scales_gauge_get(reg, "/from/child", NULL, &g),
	             SCALES_E_KIND, "the parent learned the child's entry");
	struct scales_snapshot *s = snap(reg);
	cr_assert_eq(must_find(s, "/from/child")->v.u64, 7);
	cr_assert_eq(must_find(s, "/before")->v.u64, 1);
	cr_assert_eq(s->n, 2);
	scales_snapshot_free(&s);
	scales_close(&reg);
}

Test(procs, writer_killed_inside_registrations, .timeout = 120)
{
	fresh_dir();
	for (int round = 0; round < 10; round++) {
		int fds[2];
		cr_assert_eq(pipe(fds), 0);
		pid_t p = fork();
		if (p == 0) {
			close(fds[0]);
			scales_registry *reg = open_reg("victim", 0, 0);
			const char *path = scales_registry_path(reg);
			if (write(fds[1], path, strlen(path) + 1) < 0)
				_exit(2);
			close(fds[1]);
			char name[64];
			for (unsigned i = 0;; i++) {
				snprintf(name, sizeof name, "/loop/m%06u",
				         i % 9000);
				scales_counter c;
				scales_counter_get(reg, name, NULL, &c);
				scales_counter_inc(&c);
				if (i % 9000 == 8999)
					scales_reset(reg);
			}
		}
		close(fds[1]);
		char path[4096] = "";
		ssize_t n = read(fds[0], path, sizeof path - 1);
		cr_assert_gt(n, 0);
		close(fds[0]);
		usleep(2000 + (unsigned)(rand() % 20000));
		kill(p, SIGKILL);
		waitpid(p, NULL, 0);
		struct scales_snapshot *s = snap_path(path);
		cr_assert_not(s->proc.alive);
		cr_assert_eq(s->invalid, 0);
		for (size_t i = 0; i < s->n; i++) {
			const struct scales_metric *m = &s->metrics[i];
			cr_assert_eq(strncmp(m->path, "/loop/m", 7), 0, "%s",
			             m->path);
			cr_assert_eq(strlen(m->path), 13, "%s", m->path);
			cr_assert_eq(m->kind, SCALES_KIND_COUNTER);
			cr_assert_leq(m->v.u64, 1);
		}
		scales_snapshot_free(&s);
		unlink(path);
	}
}

Test(procs, stopped_lock_holder_gives_ebusy_not_a_hang, .timeout = 60)
{
	fresh_dir();
	struct scales_options o;
	scales_options_init(&o);
	o.app = "stuck";
	o.lock_timeout_ms = 200;
	scales_registry *reg;
	cr_assert_eq(scales_open(&o, &reg), 0);
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/known", NULL, &c), 0);
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t p = fork();
	if (p == 0) {
		/* register forever: the child holds the lock often; stop it */
		close(fds[0]);
		char name[64];
		if (write(fds[1], "x", 1) != 1)
			_exit(2);
		for (unsigned i = 0;; i++) {
			snprintf(name, sizeof name, "/c/%u", i % 1000);
			scales_counter k;
			scales_counter_get(reg, name, NULL, &k);
			if (i % 1000 == 999)
				scales_reset(reg);
		}
	}
	char x;
	close(fds[1]);
	cr_assert_eq(read(fds[0], &x, 1), 1);
	int busy = 0;
	for (int tries = 0; tries < 200 && !busy; tries++) {
		kill(p, SIGSTOP);
		char name[64];
		snprintf(name, sizeof name, "/parent/%d", tries);
		scales_counter k;
		int rc = scales_counter_get(reg, name, NULL, &k);
		cr_assert(rc == 0 || rc == -EBUSY, "rc %d", rc);
		if (rc == -EBUSY) {
			busy = 1;
			scales_counter_inc(&k); /* a sink */
		}
		kill(p, SIGCONT);
		usleep(1000);
	}
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	cr_assert(busy, "never caught the child holding the lock");
	/* the dead holder's lock is recovered (EOWNERDEAD) or free */
	scales_counter after;
	cr_assert_eq(scales_counter_get(reg, "/after/kill", NULL, &after), 0);
	scales_counter_inc(&c); /* known handles keep working throughout */
	scales_close(&reg);
}

Test(procs, default_registry_removed_at_exit, .timeout = 30)
{
	fresh_dir();
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t p = fork();
	if (p == 0) {
		close(fds[0]);
		setenv("SCALES_APP", "dflt", 1);
		scales_registry *r = scales_default();
		scales_counter c;
		if (!r || scales_counter_get(r, "/d", NULL, &c))
			_exit(1);
		scales_counter_inc(&c);
		const char *path = scales_registry_path(r);
		if (write(fds[1], path, strlen(path) + 1) < 0)
			_exit(2);
		close(fds[1]);
		exit(0); /* a clean exit: atexit removes the segment */
	}
	close(fds[1]);
	char path[4096] = "";
	cr_assert_gt(read(fds[0], path, sizeof path - 1), 0);
	close(fds[0]);
	int st;
	waitpid(p, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_assert_neq(strstr(path, "/dflt."), NULL, "%s", path);
	cr_assert_neq(access(path, F_OK), 0, "removed at exit");
}

Test(procs, crash_leaves_a_readable_segment, .timeout = 30)
{
	fresh_dir();
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t p = fork();
	if (p == 0) {
		close(fds[0]);
		scales_registry *r = open_reg("crasher", 0, 0);
		scales_counter c;
		scales_counter_get(r, "/before/crash", NULL, &c);
		scales_counter_add(&c, 99);
		const char *path = scales_registry_path(r);
		if (write(fds[1], path, strlen(path) + 1) < 0)
			_exit(2);
		close(fds[1]);
		abort();
	}
	close(fds[1]);
	char path[4096] = "";
	cr_assert_gt(read(fds[0], path, sizeof path - 1), 0);
	close(fds[0]);
	waitpid(p, NULL, 0);
	struct scales_snapshot *s = snap_path(path);
	cr_assert_eq(must_find(s, "/before/crash")->v.u64, 99);
	cr_assert_not(s->proc.alive);
	scales_snapshot_free(&s);
	unlink(path);
}

/* Threads that keep migrating between CPUs while they increment: every
 * migration inside a restartable sequence must abort it, never lose or
 * double an add. */
static void *migrating_loop(void *arg)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned seed = (unsigned)(uintptr_t)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		if (i % 512 == 0 && ncpu > 1) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET((int)((unsigned)rand_r(&seed) % (unsigned)ncpu),
			        &set);
			sched_setaffinity(0, sizeof set, &set);
		}
		scales_counter_inc(&shared_counter);
	}
	return NULL;
}

Test(procs, migrating_threads_count_exactly, .timeout = 120)
{
	fresh_dir();
	scales_registry *reg = open_reg("migrate", 0, 0);
	cr_assert_eq(scales_counter_get(reg, "/moves", NULL, &shared_counter),
	             0);
	pthread_t t[6];
	for (int i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, migrating_loop,
		               (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	struct scales_snapshot *s = snap(reg);
	cr_assert_eq(must_find(s, "/moves")->v.u64, 6ull * PER_THREAD);
	scales_snapshot_free(&s);
	scales_close(&reg);
}
