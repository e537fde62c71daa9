/* SPDX-License-Identifier: MIT */
/*
 * options.h: the one table of scales-export's options. --help, the getopt
 * table, the config file's keys and the OPTIONS section of scales-export.1
 * (`scales-export --help-man`, checked by test/export/man-test.sh) are all
 * generated from it.
 *
 * The rows are struct tool_opt's (tools/common/tool_opts.h, which parses
 * them for both tools):
 * EXPORT_OPTIONS(X): X(id, short, long, arg, flags, type, lo, hi, target,
 *                      target2, bad, help)
 *   id      suffix of enum export_opt (EXPORT_OPT_<id>)
 *   short   short option character, or 0
 *   long    long option name (without "--"); also the config file key
 *   arg     argument name (NULL: a switch; in the config file "true"/"false")
 *   flags   TOPT_HIDDEN: not in --help nor the man page;
 *           TOPT_NOCONF: not allowed in a config file;
 *           TOPT_REPEAT: may be given more than once (values add up);
 *           TOPT_NONEMPTY: an empty value is refused; TOPT_GIVEN: target2
 *           is set when given
 *   type    TOPT_FLAG, TOPT_STRING, TOPT_LIST, TOPT_UINT, TOPT_DOUBLE, or
 *           TOPT_ACTION (cli.c's action())
 *   lo, hi  the range of a number
 *   target  F(field) of struct export_args (target2: a list's count, or the
 *           "given" flag)
 *   bad     the message for a bad value (one %s: the value)
 *   help    one line (may be long: --help wraps it)
 */
#ifndef SCALES_EXPORT_OPTIONS_H
#define SCALES_EXPORT_OPTIONS_H

#include <stddef.h>

#include "tool_opts.h"

/* a target field of struct export_args */
#define F(field) offsetof(struct export_args, field)

#define EXPORT_OPTIONS(X)                                                      \
	X(GRAPHITE, 'g', "graphite", "HOST:PORT", TOPT_REPEAT | TOPT_NONEMPTY, \
	  TOPT_LIST, 0, 0, F(graphite), F(ngraphite),                          \
	  "empty --graphite destination%s",                                    \
	  "push to the Graphite (carbon) plaintext listener at HOST:PORT; "    \
	  "repeatable: every destination gets every point ([V6ADDR]:PORT "     \
	  "for IPv6)")                                                         \
	X(STDOUT, 0, "stdout", NULL, 0, TOPT_FLAG, 0, 0, F(to_stdout), 0,      \
	  NULL,                                                                \
	  "print the plaintext lines on standard output instead of (or "       \
	  "besides) sending them")                                             \
	X(JSON_FILE, 'j', "json-file", "PATH", TOPT_NONEMPTY, TOPT_STRING, 0,  \
	  0, F(json_file), 0, "empty --json-file path%s",                      \
	  "every period, write the full JSON snapshot (the scales-top --json " \
	  "schema) of the selected processes to PATH, atomically")             \
	X(TEXTFILE, 0, "textfile", "PATH", TOPT_NONEMPTY, TOPT_STRING, 0, 0,   \
	  F(textfile), 0, "empty --textfile path%s",                           \
	  "every period, write the /metrics text (Prometheus) to PATH "        \
	  "atomically, for node_exporter's textfile collector (PATH ends in "  \
	  "\".prom\")")                                                        \
	X(HTTP, 0, "http", "ADDR:PORT", TOPT_NONEMPTY, TOPT_STRING, 0, 0,      \
	  F(http), 0, "empty --http address%s",                                \
	  "serve the stats pages and /metrics (Prometheus) on ADDR:PORT "      \
	  "(default address 127.0.0.1)")                                       \
	X(HTTP_ALLOW_REMOTE, 0, "http-allow-remote", NULL, 0, TOPT_FLAG, 0, 0, \
	  F(http_allow_remote), 0, NULL,                                       \
	  "allow --http to bind an address other than loopback")               \
	X(HTTP_HISTORY, 0, "http-history", "N", 0, TOPT_UINT, 1, 3600,         \
	  F(http_history), 0, "bad --http-history '%s' (1 to 3600)",           \
	  "samples kept for the HTTP sparklines (default 60)")                 \
	X(PREFIX, 'p', "prefix", "STR", 0, TOPT_STRING, 0, 0, F(prefix), 0,    \
	  NULL,                                                                \
	  "prefix of every Graphite name (default: the host name, lower-"      \
	  "cased); a \".\" is added if missing; \"\" for none")                \
	X(PERIOD, 'i', "period", "SECONDS", 0, TOPT_UINT, 1, 86400, F(period), \
	  0, "bad --period '%s' (whole seconds, 1 to 86400)",                  \
	  "push every SECONDS (default 60, 1 to 86400); timestamps are "       \
	  "aligned to multiples of SECONDS")                                   \
	X(ONCE, '1', "once", NULL, 0, TOPT_FLAG, 0, 0, F(once), 0, NULL,       \
	  "push once and exit: status 0 only if every destination accepted "   \
	  "every point")                                                       \
	X(ALLOW, 'a', "allow", "GLOB", TOPT_REPEAT | TOPT_NONEMPTY,            \
	  TOPT_ACTION, 0, 0, 0, 0, "empty glob%s",                             \
	  "send the metrics whose path matches GLOB (fnmatch, \"*\" matches "  \
	  "\"/\" too); the newest matching --allow/--forbid wins; default: "   \
	  "allow")                                                             \
	X(FORBID, 'x', "forbid", "GLOB", TOPT_REPEAT | TOPT_NONEMPTY,          \
	  TOPT_ACTION, 0, 0, 0, 0, "empty glob%s",                             \
	  "do not send the metrics whose path matches GLOB")                   \
	X(PER_PROCESS, 0, "per-process", NULL, 0, TOPT_FLAG, 0, 0,             \
	  F(per_process), 0, NULL,                                             \
	  "one series per process (the pid is a name component) instead of "   \
	  "one per app with its processes merged")                             \
	X(ALL_OWNERS, 0, "all-owners", NULL, 0, TOPT_FLAG, 0, 0,               \
	  F(all_owners), 0, NULL,                                              \
	  "merge the processes of one app whoever runs them; by default "      \
	  "only one owner's (uid) are merged, and another user's series "      \
	  "carry its uid")                                                     \
	X(RATES, 0, "rates", NULL, 0, TOPT_FLAG, 0, 0, F(rates), 0, NULL,      \
	  "also send NAME.rate, the per-second rate of each counter over the " \
	  "last period")                                                       \
	X(METERS, 0, "meters", NULL, 0, TOPT_FLAG, 0, 0, F(meters), 0, NULL,   \
	  "also send NAME.m1, NAME.m5 and NAME.m15, the 1, 5 and 15 minute "   \
	  "moving average rates of each counter (per second)")                 \
	X(LABEL_RULE, 0, "label-rule", "RULE", TOPT_REPEAT | TOPT_NONEMPTY,    \
	  TOPT_LIST, 0, 0, F(label_rules), F(nlabel_rules),                    \
	  "empty --label-rule%s",                                              \
	  "/metrics labels for paths whose writer declared none: RULE is "     \
	  "\"/GLOB/* NAME[,NAME...]\", each \"*\" component the value of the " \
	  "next NAME (\"/endpoint/*/latency endpoint\"); the first rule that " \
	  "matches a path applies")                                            \
	X(SEED_NAMES, 0, "seed-names", NULL, 0, TOPT_FLAG, 0, 0,               \
	  F(seed_names), 0, NULL,                                              \
	  "Graphite names as the Python seed's: a histogram's quantiles as "   \
	  "NAME.median, NAME.75percentile ... NAME.999percentile (not p50 "    \
	  "... p999), and no app component when one app is selected")          \
	X(DIR, 'd', "dir", "DIR", TOPT_NONEMPTY, TOPT_STRING, 0, 0, F(dir), 0, \
	  "empty directory name%s",                                            \
	  "read segments in DIR (default: $SCALES_DIR, else every "            \
	  "/dev/shm/scales-*)")                                                \
	X(PROCESS, 0, "process", "SELECTOR", TOPT_REPEAT | TOPT_NONEMPTY,      \
	  TOPT_LIST, 0, 0, F(selectors), F(nselectors),                        \
	  "empty process selector%s",                                          \
	  "select processes, as a positional SELECTOR does (for config "       \
	  "files)")                                                            \
	X(BUFFER, 0, "buffer", "SECONDS", 0, TOPT_DOUBLE, 0, 30 * 86400.0,     \
	  F(buffer_s), 0, "bad --buffer '%s' (seconds)",                       \
	  "hold at most SECONDS of points (at the current metric count, at "   \
	  "least one period) for destinations that are down (default 600)")    \
	X(RESEND, 0, "resend", "PERIODS", TOPT_GIVEN, TOPT_UINT, 0, 100000,    \
	  F(resend), F(resend_set), "bad --resend '%s' (0 to 100000)",         \
	  "after a reconnect, send again the last PERIODS periods sent "       \
	  "before the connection broke (default: 300 seconds' worth, at "      \
	  "least 2, at most what --buffer holds less one period; a larger "    \
	  "value than that is refused)")                                       \
	X(BACKOFF_MAX, 0, "backoff-max", "SECONDS", 0, TOPT_DOUBLE, 0.5, 3600, \
	  F(backoff_max_s), 0, "bad --backoff-max '%s' (0.5 to 3600 seconds)", \
	  "longest wait between reconnection attempts (default 30; the wait "  \
	  "starts at 0.5 s and doubles, with jitter)")                         \
	X(TIMEOUT, 0, "timeout", "SECONDS", 0, TOPT_DOUBLE, 0.1, 3600,         \
	  F(timeout_s), 0, "bad --timeout '%s' (0.1 to 3600 seconds)",         \
	  "name resolution and connect timeout, and how long --once and the "  \
	  "exit wait for destinations (default 10)")                           \
	X(NO_SELF_METRICS, 0, "no-self-metrics", NULL, 0, TOPT_FLAG, 0, 0,     \
	  F(no_self_metrics), 0, NULL,                                         \
	  "do not publish scales-export's own metrics (points sent, dropped, " \
	  "reconnects, push duration) in a segment")                           \
	X(QUIET, 'q', "quiet", NULL, 0, TOPT_FLAG, 0, 0, F(quiet), 0, NULL,    \
	  "print only errors on standard error")                               \
	X(CONFIG, 'c', "config", "FILE", TOPT_NOCONF, TOPT_STRING, 0, 0,       \
	  F(config), 0, NULL,                                                  \
	  "read options from FILE first: \"key = value\" lines, keys are the " \
	  "long option names; command-line options come after")                \
	X(HELP, 'h', "help", NULL, TOPT_NOCONF, TOPT_ACTION, 0, 0, 0, 0, NULL, \
	  "print this help and exit")                                          \
	X(VERSION, 'V', "version", NULL, TOPT_NOCONF, TOPT_ACTION, 0, 0, 0, 0, \
	  NULL, "print the version and exit")                                  \
	X(HELP_MAN, 0, "help-man", NULL, TOPT_HIDDEN | TOPT_NOCONF,            \
	  TOPT_ACTION, 0, 0, 0, 0, NULL,                                       \
	  "print the OPTIONS section of the man page (roff) and exit")

enum export_opt {
#define X(id, s, l, a, f, type, lo, hi, t1, t2, bad, help) EXPORT_OPT_##id,
	EXPORT_OPTIONS(X)
#undef X
	EXPORT_OPT_COUNT
};

#endif /* SCALES_EXPORT_OPTIONS_H */
