/* SPDX-License-Identifier: MIT */
/*
 * format.c: exact values for the plaintext protocol: integers as integers,
 * doubles in their shortest round-trip form.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "export.h"

int gfmt_u64(char *buf, uint64_t v)
{
	/* count the digits first, then write them in place from the end:
	 * one pass of divisions, no copy */
	int n = 1;
	for (uint64_t t = v; t >= 10; t /= 10)
		n++;
	buf[n] = 0;
	for (int i = n - 1; i >= 0; i--) {
		buf[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return n;
}

int gfmt_i64(char *buf, int64_t v)
{
	if (v >= 0)
		return gfmt_u64(buf, (uint64_t)v);
	buf[0] = '-';
	/* -(v + 1) + 1 avoids overflowing on INT64_MIN */
	return 1 + gfmt_u64(buf + 1, (uint64_t)(-(v + 1)) + 1);
}

int gfmt_double(char *buf, double v)
{
	if (!isfinite(v)) {
		buf[0] = 0;
		return 0;
	}
	int n = scales_format_double(buf, 32, v);
	if (n <= 0 || n >= 32) {
		buf[0] = 0;
		return 0;
	}
	return n;
}
