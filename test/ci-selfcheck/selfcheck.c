/* SPDX-License-Identifier: MIT */
/*
 * selfcheck.c: two trivially passing Criterion cases that prove the CI test
 * plumbing end to end: Criterion's TAP stream -> meson (protocol 'tap') ->
 * build/meson-logs/testlog.json -> .ci/count-tests -> "N passed, N failed".
 *
 * The plumbing (checked on Criterion 2.4.1, Debian 12):
 *  - `--tap` and `--tap=-` both replace Criterion's console report with a
 *    TAP 13 stream on stdout (its --help says stderr; it is stdout). The
 *    stream is written when the run ends: "TAP version 13", the plan "1..N",
 *    then one "ok - suite::name  (time)" or "not ok - suite::name reason"
 *    line per case, "# SKIP" for skipped and disabled cases.
 *  - A run killed before it ends (a meson timeout) prints nothing at all;
 *    .ci/count-tests counts such an executable as one failure.
 *  - Output a test writes to its own stdout does not reach the stream
 *    (Criterion runs each case in a child and keeps its stdout apart).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

Test(ci_selfcheck, arithmetic)
{
	uint64_t sum = 0;
	for (uint64_t i = 1; i <= 100; i++)
		sum += i;
	cr_assert_eq(sum, 5050, "sum 1..100 = %llu", (unsigned long long)sum);
}

Test(ci_selfcheck, strings)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%s/%s", "/web", "errors");
	cr_assert_eq(n, 11);
	cr_assert_str_eq(buf, "/web/errors");
	cr_assert_eq(strlen(buf), 11u);
}
