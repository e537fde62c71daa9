/* SPDX-License-Identifier: MIT */
/*
 * options.h: the one table of scales-top's command-line options and key
 * bindings. --help, the in-program help screen and the key dispatch are
 * generated from it; test/top/man-test.sh checks that scales-top.1 lists
 * every entry (through test/top/optdump.c, which includes this file).
 *
 * TOP_OPTIONS(X): X(id, short, long, arg, flags, type, lo, hi, target,
 *                   target2, bad, help), the rows of struct tool_opt
 *                   (tools/common/tool_opts.h, which parses them)
 *   id      suffix of enum top_opt (TOP_OPT_<id>)
 *   short   short option character, or 0
 *   long    long option name (without "--")
 *   arg     argument name (NULL: the option takes no argument)
 *   flags   TOPT_HIDDEN: left out of --help and the man page (for
 *           benchmarks); TOPT_NONEMPTY: an empty value is refused;
 *           TOPT_GIVEN: target2 is set when given
 *   type    TOPT_FLAG, TOPT_STRING, TOPT_LIST, TOPT_UINT, TOPT_DOUBLE, or
 *           TOPT_ACTION (cli.c's action())
 *   lo, hi  the range of a number
 *   target  F(field) of struct top_cli (cli.c: struct top_args a and the
 *           mode switches); target2: a list's count or the "given" flag
 *   bad     the message for a bad value (one %s: the value)
 *   help    one line
 *
 * TOP_KEYS(X): X(id, label, help)
 *   id      suffix of enum top_key (TOP_KEY_<id>)
 *   label   how the key is written in the docs ("Up", "PgDn", "F10, q":
 *           the keys that do the same, separated by ", ")
 *   help    one line
 * The key codes bound to each id are in ui.c (key_of()); Ctrl-U, Ctrl-W
 * and Esc are the prompt's (ui.c, edit_key()).
 */
#ifndef SCALES_TOP_OPTIONS_H
#define SCALES_TOP_OPTIONS_H

#include "tool_opts.h"

#define TOP_OPTIONS(X)                                                          \
	X(ONCE, '1', "once", NULL, 0, TOPT_FLAG, 0, 0, F(once), 0, NULL,        \
	  "print one text snapshot and exit")                                   \
	X(VERBOSE, 'v', "verbose", NULL, 0, TOPT_FLAG, 0, 0, F(a.verbose), 0,   \
	  NULL,                                                                 \
	  "with -1: each metric's help text at the end of its line, as "        \
	  "varnishstat -1 prints descriptions")                                 \
	X(JSON, 'j', "json", NULL, 0, TOPT_FLAG, 0, 0, F(json), 0, NULL,        \
	  "print one JSON snapshot and exit (implies -1)")                      \
	X(FILTER, 'f', "filter", "GLOB", TOPT_REPEAT | TOPT_NONEMPTY,           \
	  TOPT_LIST, 0, 0, F(a.globs), F(a.nglobs), "empty filter glob%s",      \
	  "show only the paths matching GLOB (repeatable; \"*\" matches \"/\" " \
	  "too; a leading ^ excludes)")                                         \
	X(LIST, 'l', "list", NULL, 0, TOPT_FLAG, 0, 0, F(list), 0, NULL,        \
	  "list the processes (app, pid, state, uptime, metrics, size) and "    \
	  "exit")                                                               \
	X(DIR, 'd', "dir", "DIR", TOPT_NONEMPTY, TOPT_STRING, 0, 0, F(a.dir),   \
	  0, "empty directory name%s",                                          \
	  "read segments in DIR (default: $SCALES_DIR, else every "             \
	  "/dev/shm/scales-*)")                                                 \
	X(INTERVAL, 'i', "interval", "SECONDS", TOPT_GIVEN, TOPT_DOUBLE, 0.01,  \
	  3600, F(a.interval), F(a.interval_set),                               \
	  "bad interval '%s' (seconds, 0.01 to 3600)",                          \
	  "refresh interval (default 1); with -1 or -j: take two snapshots "    \
	  "SECONDS apart, so rates and meters are filled")                      \
	X(MERGE, 'm', "merge", NULL, 0, TOPT_FLAG, 0, 0, F(a.merge), 0, NULL,   \
	  "merge the processes of one app (counters and histograms summed)")    \
	X(FLAT, 't', "flat", NULL, 0, TOPT_FLAG, 0, 0, F(a.flat), 0, NULL,      \
	  "start with the flat table instead of the tree")                      \
	X(BANNER, 0, "banner", "TEXT", 0, TOPT_STRING, 0, 0, F(a.banner), 0,    \
	  NULL,                                                                 \
	  "show TEXT on a line of its own at the bottom of the live view")      \
	X(GC, 'g', "gc", NULL, 0, TOPT_FLAG, 0, 0, F(gc), 0, NULL,              \
	  "remove the stale segments of dead processes (never a live one's) "   \
	  "and exit")                                                           \
	X(HELP, 'h', "help", NULL, 0, TOPT_ACTION, 0, 0, 0, 0, NULL,            \
	  "print this help and exit")                                           \
	X(VERSION, 'V', "version", NULL, 0, TOPT_ACTION, 0, 0, 0, 0, NULL,      \
	  "print the version and exit")                                         \
	X(REFRESHES, 0, "refreshes", "N", TOPT_HIDDEN, TOPT_UINT, 1,            \
	  4294967295.0, F(a.refreshes), 0, "bad --refreshes '%s'",              \
	  "exit with status 0 after N refreshes (benchmarks)")

#define TOP_KEYS(X)                                                            \
	X(UP, "Up", "move the highlight up (also k)")                          \
	X(DOWN, "Down", "move the highlight down (also j)")                    \
	X(PGUP, "PgUp", "move up a page")                                      \
	X(PGDN, "PgDn", "move down a page")                                    \
	X(HOME, "Home, g", "go to the first row")                              \
	X(END, "End, G", "go to the last row")                                 \
	X(ENTER, "Enter",                                                      \
	  "expand or collapse the highlighted node; in the process list, "     \
	  "show the marked (or the highlighted) processes")                    \
	X(LEFT, "Left",                                                        \
	  "collapse the highlighted node (or go to its "                       \
	  "parent)")                                                           \
	X(RIGHT, "Right", "expand the highlighted node")                       \
	X(MARK, "Space", "in the process list, mark or unmark a process")      \
	X(SEARCH, "F3, /",                                                     \
	  "search: go to the first path containing the text (or matching "     \
	  "a glob) as it is typed")                                            \
	X(NEXT, "n", "go to the next match of the search")                     \
	X(FILTER, "F4, \\",                                                    \
	  "filter the paths: several filters separated by spaces; a text "     \
	  "without *, ? or [ matches anywhere; ^ excludes; empty: no filter")  \
	X(KILL, "Ctrl-U", "in a prompt: erase the line")                       \
	X(WORD, "Ctrl-W", "in a prompt: erase the word before the cursor")     \
	X(CANCEL, "Esc", "in a prompt or menu: cancel (Enter applies)")        \
	X(SORTBY, "F6, >",                                                     \
	  "choose the sort column: name, value, rate, m1, m5, m15, mean, "     \
	  "p50, p99, p99.9, max")                                              \
	X(SORT, "s", "sort by the next column")                                \
	X(REVERSE, "I", "reverse the sort order")                              \
	X(ZERO, "z", "hide or show the metrics whose value is 0")              \
	X(TREE, "F5, t", "switch between the tree and the flat table")         \
	X(PROCS, "l",                                                          \
	  "switch between the process list and the metrics "                   \
	  "(also Tab)")                                                        \
	X(ALL, "a", "show every process again (after picking some)")           \
	X(MERGE, "m", "merge the processes of one app, or stop merging")       \
	X(PAUSE, "p", "pause or resume refreshing")                            \
	X(SLOWER, "+", "refresh less often (longer interval)")                 \
	X(FASTER, "-", "refresh more often (shorter interval)")                \
	X(HELP, "F1, ?", "show the key bindings")                              \
	X(QUIT, "F10, q", "quit")

enum top_opt {
#define X(id, s, l, a, f, type, lo, hi, t1, t2, bad, help) TOP_OPT_##id,
	TOP_OPTIONS(X)
#undef X
	TOP_OPT_COUNT
};

enum top_key {
	TOP_KEY_NONE = 0,
#define X(id, label, help) TOP_KEY_##id,
	TOP_KEYS(X)
#undef X
	TOP_KEY_COUNT
};

#endif /* SCALES_TOP_OPTIONS_H */
