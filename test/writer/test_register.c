/* SPDX-License-Identifier: MIT */
/* test_register.c: get-or-create, registration errors, sinks, retirement. */
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static scales_registry *reg;

static void setup(void)
{
	fresh_dir();
	reg = open_reg("register", 0, 0);
}

static void teardown(void)
{
	if (reg)
		scales_close(&reg);
}

TestSuite(register, .init = setup, .fini = teardown);

Test(register, same_path_same_kind_same_handle)
{
	scales_counter a, b;
	cr_assert_eq(scales_counter_get(reg, "/a/b", NULL, &a), 0);
	cr_assert_eq(scales_counter_get(reg, "/a/b", NULL, &b), 0);
	cr_assert_eq(a.base, b.base);
	scales_histogram h1, h2;
	cr_assert_eq(scales_histogram_get(reg, "/h", NULL, NULL, &h1), 0);
	struct scales_histogram_config other = { .highest = 100 };
	cr_assert_eq(scales_histogram_get(reg, "/h", NULL, &other, &h2), 0);
	cr_assert_eq(h1.base, h2.base, "an existing histogram is returned");
	cr_assert_eq(h1.last_bucket, h2.last_bucket);
}

Test(register, same_path_other_kind_is_an_error_and_a_sink)
{
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/x", NULL, &c), 0);
	scales_gauge g;
	cr_assert_eq(scales_gauge_get(reg, "/x", NULL, &g), SCALES_E_KIND);
	scales_gauge_set(&g, 42); /* the sink absorbs it */
	scales_histogram h;
	cr_assert_eq(scales_histogram_get(reg, "/x", NULL, NULL, &h),
	             SCALES_E_KIND);
	scales_histogram_record(&h, 5);
	scales_state s;
	cr_assert_eq(scales_state_get(reg, "/x", NULL, &s), SCALES_E_KIND);
	scales_state_set(&s, 1);
	struct scales_snapshot *sn = snap(reg);
	cr_assert_eq(sn->n, 1);
	cr_assert_eq(must_find(sn, "/x")->kind, SCALES_KIND_COUNTER);
	scales_snapshot_free(&sn);
}

Test(register, path_rules)
{
	static const char *bad[] = {
		"",      "x",      "/",       "//a",         "/a/",
		"/a//b", "/a/./b", "/a/../b", "/a b",        "/a\nb",
		"/a;b",  "/a=b",   "/é",      "/a/b/",       "/..",
		"/.",    "/a\tb",  "/a\"b",   "/a<script>b", NULL,
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		scales_counter c;
		int rc = scales_counter_get(reg, bad[i], NULL, &c);
		cr_assert(rc == SCALES_E_PATH ||
		              (bad[i] == NULL && rc == -EINVAL),
		          "path '%s' gave %d", bad[i] ? bad[i] : "(null)", rc);
		scales_counter_inc(&c);
	}
	char longest[SCALES_PATH_MAX + 2];
	memset(longest, 'a', sizeof longest);
	longest[0] = '/';
	longest[SCALES_PATH_MAX] = '\0';
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, longest, NULL, &c), 0,
	             "255 bytes is allowed");
	longest[SCALES_PATH_MAX] = 'a';
	longest[SCALES_PATH_MAX + 1] = '\0';
	cr_assert_eq(scales_counter_get(reg, longest, NULL, &c), SCALES_E_PATH,
	             "256 bytes is not");
	static const char *good[] = { "/a", "/a.b/c-d/e_f", "/x:y@z+1%2",
		                      "/thread-0/state", "/web/status/200" };
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		cr_assert_eq(scales_path_check(good[i]), 0, "%s", good[i]);
	struct scales_snapshot *sn = snap(reg);
	cr_assert_eq(sn->n, 1, "no bad path reached the segment");
	scales_snapshot_free(&sn);
}

Test(register, null_registry_and_null_out)
{
	scales_counter c;
	cr_assert_eq(scales_counter_get(NULL, "/a", NULL, &c), SCALES_E_CLOSED);
	scales_counter_inc(&c);
	cr_assert_eq(scales_counter_get(reg, "/a", NULL, NULL), 0,
	             "registration without a handle still registers");
	scales_histogram h;
	cr_assert_eq(scales_histogram_get(NULL, "/a", NULL, NULL, &h),
	             SCALES_E_CLOSED);
	scales_histogram_record(&h, 12);
	uint64_t t = scales_timer_start(&h);
	scales_timer_stop(&h, t);
	cr_assert_eq(scales_retire(NULL, "/a"), SCALES_E_CLOSED);
	cr_assert_eq(scales_retire(reg, "/nope"), -ENOENT);
	cr_assert_eq(scales_close(NULL), SCALES_E_CLOSED);
	cr_assert_str_neq(scales_strerror(SCALES_E_FULL), "");
	cr_assert_str_neq(scales_strerror(-ENOSPC), "");
	cr_assert_str_eq(scales_strerror(12345), "unknown error");
}

Test(register, absurd_histogram_ranges)
{
	struct scales_histogram_config bad[] = {
		{ .sub_bucket_bits = 4 },
		{ .sub_bucket_bits = 11 },
		{ .lowest_shift = 33 },
		{ .highest = 10 },
		{ .scale = -1 },
		{ .highest = 1000, .lowest_shift = 20 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		scales_histogram h;
		cr_assert_eq(scales_histogram_get(reg, "/h", NULL, &bad[i], &h),
		             SCALES_E_CONFIG, "config %zu", i);
		scales_histogram_record(&h, 1);
	}
	struct scales_info badunit = { NULL, (enum scales_unit)99 };
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/u", &badunit, &c),
	             SCALES_E_CONFIG);
}

Test(register, full_segment_refuses_and_counts)
{
	scales_registry *small = open_reg("small", 0, 8);
	scales_counter c[10];
	char path[32];
	for (int i = 0; i < 8; i++) {
		snprintf(path, sizeof path, "/c%d", i);
		cr_assert_eq(scales_counter_get(small, path, NULL, &c[i]), 0);
	}
	cr_assert_eq(scales_counter_get(small, "/c8", NULL, &c[8]),
	             SCALES_E_FULL);
	cr_assert_eq(scales_counter_get(small, "/c9", NULL, &c[9]),
	             SCALES_E_FULL);
	for (int i = 0; i < 10; i++)
		scales_counter_add(&c[i], 3); /* sinks absorb */
	cr_assert_eq(scales_counter_get(small, "/c0", NULL, &c[0]), 0,
	             "known paths still resolve when full");
	struct scales_snapshot *sn = snap(small);
	cr_assert_eq(sn->n, 8);
	cr_assert_eq(sn->proc.refused, 2);
	cr_assert_eq(must_find(sn, "/c7")->v.u64, 3);
	scales_snapshot_free(&sn);
	/* retiring makes room again */
	cr_assert_eq(scales_retire(small, "/c3"), 0);
	cr_assert_eq(scales_counter_get(small, "/c8", NULL, &c[8]), 0);
	scales_counter_inc(&c[8]);
	sn = snap(small);
	cr_assert_eq(must_find(sn, "/c8")->v.u64, 1, "reused space is zeroed");
	cr_assert_null(scales_snapshot_find(sn, "/c3"));
	scales_snapshot_free(&sn);
	scales_close(&small);
}

Test(register, stripe_space_exhaustion_is_an_error)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = "tiny";
	o.stripe_bytes = 4096;
	scales_registry *tiny = NULL;
	cr_assert_eq(scales_open(&o, &tiny), 0);
	scales_histogram h;
	int rc = 0;
	char path[32];
	for (int i = 0; i < 100 && rc == 0; i++) {
		snprintf(path, sizeof path, "/h%d", i);
		rc = scales_histogram_get(tiny, path, NULL, NULL, &h);
	}
	cr_assert_eq(rc, SCALES_E_FULL);
	scales_histogram_record(&h, 77);
	scales_close(&tiny);
}

Test(register, help_and_unit_are_stored)
{
	struct scales_info info = { "requests that failed", SCALES_UNIT_NONE };
	scales_counter c;
	cr_assert_eq(scales_counter_get(reg, "/web/errors", &info, &c), 0);
	struct scales_info binfo = { "bytes sent", SCALES_UNIT_BYTES };
	cr_assert_eq(scales_counter_get(reg, "/web/bytes", &binfo, &c), 0);
	struct scales_snapshot *sn = snap(reg);
	cr_assert_str_eq(must_find(sn, "/web/errors")->help,
	                 "requests that failed");
	cr_assert_eq(must_find(sn, "/web/bytes")->unit, SCALES_UNIT_BYTES);
	scales_snapshot_free(&sn);
}

struct reg_arg {
	scales_registry *reg;
	int seed;
	int errors;
};

static void *register_many(void *p)
{
	struct reg_arg *a = p;
	char path[64];
	for (int k = 0; k < 10000; k++) {
		int i = (k * 7919 + a->seed * 2503) % 10000;
		snprintf(path, sizeof path, "/many/m%05d", i);
		scales_counter c;
		if (scales_counter_get(a->reg, path, NULL, &c) != 0)
			a->errors++;
		scales_counter_inc(&c);
	}
	return NULL;
}

Test(register, four_threads_same_10000_paths, .timeout = 120)
{
	scales_registry *r = open_reg("many", 0, 20000);
	pthread_t t[4];
	struct reg_arg a[4];
	for (int i = 0; i < 4; i++) {
		a[i] = (struct reg_arg){ r, i, 0 };
		pthread_create(&t[i], NULL, register_many, &a[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(a[i].errors, 0);
	}
	struct scales_snapshot *sn = snap(r);
	cr_assert_eq(sn->n, 10000, "exactly 10,000 entries");
	cr_assert_eq(sn->proc.live_metrics, 10000);
	for (size_t i = 0; i < sn->n; i++)
		cr_assert_eq(sn->metrics[i].v.u64, 4,
		             "%s counted by each thread once",
		             sn->metrics[i].path);
	scales_snapshot_free(&sn);
	scales_close(&r);
}

Test(register, close_removes_the_segment_unless_kept)
{
	scales_registry *r = open_reg("gone", 0, 0);
	char *path = strdup(scales_registry_path(r));
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	scales_close(&r);
	cr_assert_null(r);
	cr_assert_neq(stat(path, &st), 0);
	free(path);

	r = open_reg("kept", SCALES_KEEP_SEGMENT, 0);
	scales_counter c;
	scales_counter_get(r, "/left", NULL, &c);
	scales_counter_add(&c, 9);
	path = strdup(scales_registry_path(r));
	scales_close(&r);
	struct scales_snapshot *sn = snap_path(path);
	cr_assert_eq(must_find(sn, "/left")->v.u64, 9);
	cr_assert_not(sn->proc.alive, "a closed writer is not alive");
	scales_snapshot_free(&sn);
	unlink(path);
	free(path);
}

Test(register, second_registry_of_same_app_in_one_process_is_live_error)
{
	scales_registry *r2 = NULL;
	struct scales_options o;
	scales_options_init(&o);
	o.app = "register";
	cr_assert_eq(scales_open(&o, &r2), SCALES_E_LIVE);
	cr_assert_null(r2);
}

Test(register, dead_writers_file_is_replaced)
{
	/* a file of our own name whose header says "closed" */
	scales_registry *r = open_reg("again", SCALES_KEEP_SEGMENT, 0);
	char *path = strdup(scales_registry_path(r));
	scales_close(&r);
	r = open_reg("again", 0, 0);
	cr_assert_str_eq(scales_registry_path(r), path);
	struct scales_snapshot *sn = snap(r);
	cr_assert(sn->proc.alive);
	cr_assert_eq(sn->n, 0);
	scales_snapshot_free(&sn);
	scales_close(&r);
	free(path);
}

Test(register, reset_retires_everything)
{
	scales_counter c;
	scales_counter_get(reg, "/a", NULL, &c);
	scales_counter_get(reg, "/b", NULL, &c);
	cr_assert_eq(scales_reset(reg), 0);
	struct scales_snapshot *sn = snap(reg);
	cr_assert_eq(sn->n, 0);
	scales_snapshot_free(&sn);
	cr_assert_eq(scales_counter_get(reg, "/a", NULL, &c), 0);
	scales_counter_inc(&c);
	sn = snap(reg);
	cr_assert_eq(must_find(sn, "/a")->v.u64, 1);
	scales_snapshot_free(&sn);
}

Test(register, group_readable_opt_in)
{
	char sub[4096];
	snprintf(sub, sizeof sub, "%s/grp", getenv("SCALES_DIR"));
	struct scales_options o;
	scales_options_init(&o);
	o.app = "grp";
	o.dir = sub;
	o.flags = SCALES_GROUP_READABLE;
	o.group = (uint32_t)getegid();
	scales_registry *r = NULL;
	cr_assert_eq(scales_open(&o, &r), 0);
	struct stat st;
	cr_assert_eq(stat(sub, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0750);
	cr_assert_eq(st.st_gid, getegid());
	cr_assert_eq(stat(scales_registry_path(r), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0640);
	scales_close(&r);
}

Test(register, zeroed_counter_handle_is_absorbed)
{
	scales_counter c;
	memset(&c, 0, sizeof c);
	scales_counter_inc(&c); /* never registered: no crash */
}

Test(register, dead_writers_temporaries_are_swept)
{
	const char *dir = getenv("SCALES_DIR");
	char dead[4096], live[4096], other[4096];
	/* pid 1 exists but its start time is not 12345: a dead creator */
	snprintf(dead, sizeof dead, "%s/.app.1.12345.seg.abc.tmp", dir);
	uint64_t start = 0;
	FILE *f = fopen("/proc/self/stat", "r");
	cr_assert_not_null(f);
	char buf[1024];
	cr_assert_not_null(fgets(buf, sizeof buf, f));
	fclose(f);
	char *p = strrchr(buf, ')') + 1; /* the space before field 3 */
	for (int field = 3; field < 22; field++)
		p = strchr(p + 1, ' ');
	start = strtoull(p + 1, NULL, 10);
	snprintf(live, sizeof live, "%s/.app.%d.%llu.seg.abc.tmp", dir,
	         (int)getpid(), (unsigned long long)start);
	snprintf(other, sizeof other, "%s/.notes", dir);
	for (const char *path = dead; path;
	     path = path == dead ? live : (path == live ? other : NULL)) {
		FILE *t = fopen(path, "w");
		cr_assert_not_null(t);
		fclose(t);
	}
	scales_registry *r = open_reg("sweeper", 0, 0);
	cr_assert_neq(access(dead, F_OK), 0, "a dead writer's temporary");
	cr_assert_eq(access(live, F_OK), 0, "a live writer's temporary stays");
	cr_assert_eq(access(other, F_OK), 0, "other dot files stay");
	scales_close(&r);
	unlink(live);
	unlink(other);
}
