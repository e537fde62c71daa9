/* SPDX-License-Identifier: MIT */
/* test_human.c: scales_human(), the one formatter of the text views. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include <scales/reader.h>

struct human_case {
	double v;
	unsigned unit, flags;
	const char *want;
};

#define S SCALES_UNIT_SECONDS
#define B SCALES_UNIT_BYTES
#define R SCALES_HUMAN_RATE
#define US "\xc2\xb5s"

static const struct human_case cases[] = {
	/* counts: exact up to 5 digits, then 3 significant digits */
	{ 0, 0, 0, "0" },
	{ -0.0, 0, 0, "0" },
	{ 7, 0, 0, "7" },
	{ 1000, 0, 0, "1000" },
	{ 30259, 0, 0, "30259" },
	{ 99999, 0, 0, "99999" },
	{ 100000, 0, 0, "100k" },
	{ 182345, 0, 0, "182k" },
	{ 999999, 0, 0, "1M" },
	{ 1234567, 0, 0, "1.23M" },
	{ -2500.5, 0, 0, "-2.5k" },
	{ -42, 0, 0, "-42" },
	{ 0.5, 0, 0, "0.5" },
	{ 0.0505, 0, 0, "0.0505" },
	{ 12.345, 0, 0, "12.3" },
	{ 2.5e21, 0, 0, "2.5e+03E" },
	/* bytes in IEC units */
	{ 12, B, 0, "12 B" },
	{ 1023, B, 0, "1023 B" },
	{ 1024, B, 0, "1 KiB" },
	{ 1536, B, 0, "1.5 KiB" },
	{ 286720, B, 0, "280 KiB" },
	{ 20971520, B, 0, "20 MiB" },
	{ 1048575.9, B, 0, "1 MiB" },
	{ 3.5 * 1073741824.0, B, 0, "3.5 GiB" },
	{ -1536, B, 0, "-1.5 KiB" },
	/* seconds in human units */
	{ 0, S, 0, "0 s" },
	{ 5e-8, S, 0, "50 ns" },
	{ 9.997e-7, S, 0, "1 " US },
	{ 2.5e-5, S, 0, "25 " US },
	{ 2.5e-5, S, SCALES_HUMAN_ASCII, "25 us" },
	{ 0.0505, S, 0, "50.5 ms" },
	{ 1.25, S, 0, "1.25 s" },
	{ 2, S, 0, "2 s" },
	{ 90, S, 0, "1.5 min" },
	{ 11235, S, 0, "3.12 h" },
	{ 3e6, S, 0, "34.7 d" },
	{ -0.0505, S, 0, "-50.5 ms" },
	/* a point in time: a date, in UTC */
	{ 1795626911.06, S, 0, "2026-11-25 17:15:11Z" },
	{ 1e9, S, 0, "2001-09-09 01:46:40Z" },
	{ 1e10, S, 0, "116k d" },
	/* rates carry their unit */
	{ 6437.930713100834, 0, R, "6.44k/s" },
	{ 2898.5, B, R, "2.83 KiB/s" },
	{ 0, 0, R, "0/s" },
	{ 0.0167, 0, R, "0.0167/s" },
	{ 0.25, S, R, "250 ms/s" },
	{ 1795626911.06, S, R, "20.8k d/s" },
	/* no value, infinities */
	{ NAN, 0, 0, "-" },
	{ NAN, S, R, "-" },
	{ INFINITY, B, 0, "inf" },
	{ -INFINITY, S, R, "-inf" },
};

Test(human, table)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char got[SCALES_HUMAN_LEN];
		memset(got, 'x', sizeof(got));
		char *r = scales_human(got, sizeof(got), cases[i].v,
		                       cases[i].unit, cases[i].flags);
		cr_expect_eq(r, got);
		cr_expect_str_eq(got, cases[i].want, "%g unit %u flags %u",
		                 cases[i].v, cases[i].unit, cases[i].flags);
	}
}

Test(human, cut_to_len)
{
	char got[8];
	memset(got, 'x', sizeof(got));
	scales_human(got, 5, 1795626911.06, S, 0);
	cr_expect_str_eq(got, "2026");
	cr_expect_eq(got[5], 'x');
	cr_expect_null(scales_human(NULL, 0, 1, 0, 0));
}
