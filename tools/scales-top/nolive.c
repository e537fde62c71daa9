/* SPDX-License-Identifier: MIT */
/*
 * nolive.c: top_run_live() for a build without ncurses (meson option
 * 'curses' disabled or ncurses missing): the one-shot modes work, the live
 * view fails with a clear message and exit status 2.
 */
#include <stdio.h>

#include "ui.h"

int top_run_live(const struct top_args *a)
{
	(void)a;
	fprintf(stderr, "scales-top: this build has no live view (built "
	                "without ncurses); use -1, -j or -l\n");
	return 2;
}
