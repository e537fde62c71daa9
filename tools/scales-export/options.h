/* SPDX-License-Identifier: MIT */
/*
 * options.h: the one table of scales-export's options. --help, the getopt
 * table, the config file's keys and the OPTIONS section of scales-export.1
 * (`scales-export --help-man`, checked by test/export/man-test.sh) are all
 * generated from it.
 *
 * EXPORT_OPTIONS(X): X(id, short, long, arg, flags, help)
 *   id     suffix of enum export_opt (EXPORT_OPT_<id>)
 *   short  short option character, or 0
 *   long   long option name (without "--"); also the config file key
 *   arg    argument name (NULL: a switch; in the config file "true"/"false")
 *   flags  OPTF_HIDDEN: not in --help nor the man page;
 *          OPTF_NOCONF: not allowed in a config file;
 *          OPTF_REPEAT: may be given more than once (values add up)
 *   help   one line (may be long: --help wraps it)
 */
#ifndef SCALES_EXPORT_OPTIONS_H
#define SCALES_EXPORT_OPTIONS_H

#define OPTF_HIDDEN 1
#define OPTF_NOCONF 2
#define OPTF_REPEAT 4

#define EXPORT_OPTIONS(X)                                                      \
	X(GRAPHITE, 'g', "graphite", "HOST:PORT", OPTF_REPEAT,                 \
	  "push to the Graphite (carbon) plaintext listener at HOST:PORT; "    \
	  "repeatable: every destination gets every point ([V6ADDR]:PORT "     \
	  "for IPv6)")                                                         \
	X(STDOUT, 0, "stdout", NULL, 0,                                        \
	  "print the plaintext lines on standard output instead of (or "       \
	  "besides) sending them")                                             \
	X(JSON_FILE, 'j', "json-file", "PATH", 0,                              \
	  "every period, write the full JSON snapshot (the scales-top --json " \
	  "schema) of the selected processes to PATH, atomically")             \
	X(TEXTFILE, 0, "textfile", "PATH", 0,                                  \
	  "every period, write the /metrics text (Prometheus) to PATH "        \
	  "atomically, for node_exporter's textfile collector (PATH ends in "  \
	  "\".prom\")")                                                        \
	X(HTTP, 0, "http", "ADDR:PORT", 0,                                     \
	  "serve the stats pages and /metrics (Prometheus) on ADDR:PORT "      \
	  "(default address 127.0.0.1)")                                       \
	X(HTTP_ALLOW_REMOTE, 0, "http-allow-remote", NULL, 0,                  \
	  "allow --http to bind an address other than loopback")               \
	X(HTTP_HISTORY, 0, "http-history", "N", 0,                             \
	  "samples kept for the HTTP sparklines (default 60)")                 \
	X(PREFIX, 'p', "prefix", "STR", 0,                                     \
	  "prefix of every Graphite name (default: the host name, lower-"      \
	  "cased); a \".\" is added if missing; \"\" for none")                \
	X(PERIOD, 'i', "period", "SECONDS", 0,                                 \
	  "push every SECONDS (default 60, 1 to 86400); timestamps are "       \
	  "aligned to multiples of SECONDS")                                   \
	X(ONCE, '1', "once", NULL, 0,                                          \
	  "push once and exit: status 0 only if every destination accepted "   \
	  "every point")                                                       \
	X(ALLOW, 'a', "allow", "GLOB", OPTF_REPEAT,                            \
	  "send the metrics whose path matches GLOB (fnmatch, \"*\" matches "  \
	  "\"/\" too); the newest matching --allow/--forbid wins; default: "   \
	  "allow")                                                             \
	X(FORBID, 'x', "forbid", "GLOB", OPTF_REPEAT,                          \
	  "do not send the metrics whose path matches GLOB")                   \
	X(PER_PROCESS, 0, "per-process", NULL, 0,                              \
	  "one series per process (the pid is a name component) instead of "   \
	  "one per app with its processes merged")                             \
	X(ALL_OWNERS, 0, "all-owners", NULL, 0,                                \
	  "merge the processes of one app whoever runs them; by default "      \
	  "only one owner's (uid) are merged, and another user's series "      \
	  "carry its uid")                                                     \
	X(RATES, 0, "rates", NULL, 0,                                          \
	  "also send NAME.rate, the per-second rate of each counter over the " \
	  "last period")                                                       \
	X(METERS, 0, "meters", NULL, 0,                                        \
	  "also send NAME.m1, NAME.m5 and NAME.m15, the 1, 5 and 15 minute "   \
	  "moving average rates of each counter (per second)")                 \
	X(SEED_NAMES, 0, "seed-names", NULL, 0,                                \
	  "Graphite names as the Python seed's: a histogram's quantiles as "   \
	  "NAME.median, NAME.75percentile ... NAME.999percentile (not p50 "    \
	  "... p999), and no app component when one app is selected")          \
	X(DIR, 'd', "dir", "DIR", 0,                                           \
	  "read segments in DIR (default: $SCALES_DIR, else every "            \
	  "/dev/shm/scales-*)")                                                \
	X(PROCESS, 0, "process", "SELECTOR", OPTF_REPEAT,                      \
	  "select processes, as a positional SELECTOR does (for config "       \
	  "files)")                                                            \
	X(BUFFER, 0, "buffer", "SECONDS", 0,                                   \
	  "hold at most SECONDS of points (at the current metric count, at "   \
	  "least one period) for destinations that are down (default 600)")    \
	X(RESEND, 0, "resend", "PERIODS", 0,                                   \
	  "after a reconnect, send again the last PERIODS periods sent "       \
	  "before the connection broke (default: 300 seconds' worth, at "      \
	  "least 2, at most what --buffer holds less one period; a larger "    \
	  "value than that is refused)")                                       \
	X(BACKOFF_MAX, 0, "backoff-max", "SECONDS", 0,                         \
	  "longest wait between reconnection attempts (default 30; the wait "  \
	  "starts at 0.5 s and doubles, with jitter)")                         \
	X(TIMEOUT, 0, "timeout", "SECONDS", 0,                                 \
	  "name resolution and connect timeout, and how long --once and the "  \
	  "exit wait for destinations (default 10)")                           \
	X(NO_SELF_METRICS, 0, "no-self-metrics", NULL, 0,                      \
	  "do not publish scales-export's own metrics (points sent, dropped, " \
	  "reconnects, push duration) in a segment")                           \
	X(QUIET, 'q', "quiet", NULL, 0, "print only errors on standard error") \
	X(CONFIG, 'c', "config", "FILE", OPTF_NOCONF,                          \
	  "read options from FILE first: \"key = value\" lines, keys are the " \
	  "long option names; command-line options come after")                \
	X(HELP, 'h', "help", NULL, OPTF_NOCONF, "print this help and exit")    \
	X(VERSION, 'V', "version", NULL, OPTF_NOCONF,                          \
	  "print the version and exit")                                        \
	X(HELP_MAN, 0, "help-man", NULL, OPTF_HIDDEN | OPTF_NOCONF,            \
	  "print the OPTIONS section of the man page (roff) and exit")

enum export_opt {
#define X(id, s, l, a, f, help) EXPORT_OPT_##id,
	EXPORT_OPTIONS(X)
#undef X
	EXPORT_OPT_COUNT
};

#endif /* SCALES_EXPORT_OPTIONS_H */
