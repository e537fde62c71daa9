/* SPDX-License-Identifier: MIT */
/*
 * tool_select.h: the selection policy both tools share on top of the
 * reader's scales_select(): segment files named on the command line are
 * checked first, alone, so that a bad one ends the tool (exit 2) before
 * any directory is read or any discovery warning is printed.
 */
#ifndef SCALES_TOOLS_SELECT_H
#define SCALES_TOOLS_SELECT_H

#include <stdbool.h>
#include <stddef.h>

/* Is every selector a segment file path (and there is one at least)? */
bool tool_all_paths(const char *const *selectors, size_t n);

/*
 * Opens the segment files named by path among selectors (pid and app
 * selectors are left out; no directory is read, as scales_select() does
 * when every selector is a path) and calls bad(arg, i, msg) for each
 * selector i whose file cannot be opened or read, in selector order.
 * Returns how many failed, or -ENOMEM.
 */
int tool_check_named(const char *const *selectors, size_t n,
                     void (*bad)(void *arg, size_t selector, const char *msg),
                     void *arg);

/*
 * Keeps up to 1 MiB of freed heap instead of handing it back to the
 * kernel (glibc's trim threshold; nothing elsewhere). A pass over many
 * processes takes and frees each one's snapshot (some 200 KB for 100
 * metrics) before the next: with the default threshold the heap's top
 * went back after each and was faulted in again, half the page faults of
 * a pass over 1,000 processes (docs/performance.md, "Many processes").
 * Called once, at the start of both tools.
 */
void tool_keep_heap(void);

#endif /* SCALES_TOOLS_SELECT_H */
