/* SPDX-License-Identifier: MIT */
/*
 * optdump: prints scales-top's option and key table (options.h), one entry
 * a line, for man-test.sh to check against scales-top.1 and --help:
 *   option <short or -> <long> <hidden 0/1>
 *   key <label>
 */
#include <stdio.h>

#include "options.h"

int main(void)
{
#define X(id, s, l, a, f, type, lo, hi, t1, t2, bad, help)                     \
	if (s)                                                                 \
		printf("option %c %s %d\n", s, l, ((f)&TOPT_HIDDEN) != 0);     \
	else                                                                   \
		printf("option - %s %d\n", l, ((f)&TOPT_HIDDEN) != 0);
	TOP_OPTIONS(X)
#undef X
#define X(id, label, help) printf("key %s\n", label);
	TOP_KEYS(X)
#undef X
	return 0;
}
