/* SPDX-License-Identifier: MIT */
/*
 * oneshot.h: scales-top's non-interactive modes (-1, -j, -l, --gc).
 */
#ifndef SCALES_TOP_ONESHOT_H
#define SCALES_TOP_ONESHOT_H

#include <stddef.h>

#include "cli.h"
#include "procs.h"

/* Runs the mode of a (ONCE, JSON, LIST or GC); returns the exit status. */
int top_run_oneshot(const struct top_args *a);

/* "12s", "3m05s", "2h01m", "4d03h" since the segment's creation, or "-"
 * if its writer is not alive. */
void top_fmt_uptime(char *buf, size_t len, const struct top_proc *e);

#endif /* SCALES_TOP_ONESHOT_H */
