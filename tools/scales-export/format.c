/* SPDX-License-Identifier: MIT */
/*
 * format.c: exact values for the plaintext protocol: integers as integers,
 * doubles in their shortest round-trip form.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "export.h"

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
