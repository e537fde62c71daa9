/* SPDX-License-Identifier: MIT */
/*
 * test_open.c: scales_open()'s choices and refusals: the app name, and the
 * words that say which directory failed which check.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

/* The app component of the segment file name of reg. */
static void app_of(scales_registry *reg, char *out, size_t n)
{
	const char *p = strrchr(scales_registry_path(reg), '/');
	cr_assert_not_null(p);
	snprintf(out, n, "%s", p + 1);
	char *dot = strchr(out, '.');
	cr_assert_not_null(dot);
	*dot = '\0';
}

/* SCALES_APP= (empty, as a unit file may set it) and an empty opts.app
 * count as unset: the program's name, not "_". */
Test(open, empty_app_name_means_the_program_name)
{
	fresh_dir();
	char want[64];
	snprintf(want, sizeof want, "%s", program_invocation_short_name);
	for (char *c = want; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-'))
			*c = '_';

	setenv("SCALES_APP", "", 1);
	struct scales_options o;
	scales_options_init(&o);
	scales_registry *reg = NULL;
	cr_assert_eq(scales_open(&o, &reg), 0);
	char got[256];
	app_of(reg, got, sizeof got);
	cr_expect_str_eq(got, want, "SCALES_APP=\"\" gave app %s", got);
	scales_close(&reg);

	o.app = "";
	setenv("SCALES_APP", "fromenv", 1);
	cr_assert_eq(scales_open(&o, &reg), 0);
	app_of(reg, got, sizeof got);
	cr_expect_str_eq(got, "fromenv", "app \"\" gave %s", got);
	scales_close(&reg);
	unsetenv("SCALES_APP");
}
