/* SPDX-License-Identifier: MIT */
/*
 * http.h: the HTTP side of scales-export (`--http ADDR:PORT`): the stats
 * pages (HTML, JSON) and the Prometheus endpoint, served by libmicrohttpd
 * from a sampling thread's view of the selected processes.
 *
 *   /                  HTML stats page: every process and its metric tree
 *   /a/b               the subtree /a/b (404 if no process has it)
 *   ?format=json       the scales-top --json document (docs/json.md)
 *   ?format=prettyjson the same, indented
 *   ?format=history    the sparkline samples, {"processes": [{"app",
 *                      "pid", "interval", "series": {path: [v...]}}]}
 *   ?query=GLOB        only the paths matching GLOB (fnmatch, "*" also
 *                      matches "/"; a word without * ? [ matches as *word*)
 *   ?refresh=1         (HTML) start with auto-refresh on
 *   /metrics           Prometheus text format 0.0.4 (docs/prometheus.md);
 *                      a stats subtree named /metrics is still /metrics/
 *
 * Threads: export_http_start() starts libmicrohttpd's listening thread and
 * one sampling thread; the caller's thread only starts and stops them.
 * Both functions are for the main thread of scales-export: not concurrent
 * with each other.
 */
#ifndef SCALES_EXPORT_HTTP_H
#define SCALES_EXPORT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Zero-initialise, then set what you need (zero and NULL mean default). */
struct export_http_options {
	/* "ADDR:PORT", "[V6ADDR]:PORT", "HOST:PORT", ":PORT" or "PORT";
	 * NULL or no address: 127.0.0.1. Port 0 picks a free port
	 * (export_http_port() tells which). */
	const char *listen;
	/* Binding anything but a loopback address (127.0.0.0/8, ::1) is
	 * refused unless this is set. */
	bool allow_remote;
	/* Segment directory; NULL: as scales_discover() ($SCALES_DIR, else
	 * every readable /dev/shm/scales-* directory). */
	const char *dir;
	/* Process selectors as in scales-top: contains "/" = segment file,
	 * only digits = pid, else app name. None: every live process. */
	const char *const *selectors;
	size_t nselectors;
	/* One entry (and Prometheus label pid) per process instead of one
	 * per app with its processes merged. */
	bool per_process;
	/* merge one app's processes whoever runs them (--all-owners) */
	bool all_owners;
	/* Samples kept for the sparklines; 0: 60. At most 3600. */
	unsigned history;
	/* Sampling period in milliseconds; 0: 1000. At least 50. */
	unsigned interval_ms;
	/* Do not print the "serving http://..." line on stderr. Errors are
	 * printed either way. */
	bool quiet;
};

/*
 * Validates o, takes a first sample of the selected processes, binds the
 * listening socket and starts serving. Errors are printed on stderr as one
 * line ("scales-export: --http ...: reason").
 * Returns 0, -EINVAL (bad address or option), -EACCES (a non-loopback
 * address without allow_remote), -EALREADY (already started), -ENOMEM, or
 * another negated errno value (e.g. -EADDRINUSE).
 */
int export_http_start(const struct export_http_options *o);

/* Stops serving (waits for requests in progress), stops the sampling
 * thread and frees everything. Safe to call when not started. */
void export_http_stop(void);

/* The bound TCP port, or 0 when not started. */
unsigned export_http_port(void);

struct scales_buf;
struct scales_group;

/*
 * Appends the /metrics text (Prometheus text format 0.0.4, as --http
 * serves it) of n collector groups to b: --textfile. Another user's
 * groups carry a uid label unless all_owners; per_process adds pid.
 * Returns 0, -ENOMEM, or -ENOTSUP in a build without the HTTP side.
 */
int export_prom_render(struct scales_buf *b, const struct scales_group *g,
                       size_t n, bool per_process, bool all_owners);

/*
 * Label rules for /metrics (--label-rule, docs/http.md "Label rules"),
 * for metrics whose writer declared no labels: each rule is
 * "GLOB NAME[,NAME...]", GLOB a path whose components are fnmatch
 * patterns, the components written "*" being captured, in order, as the
 * values of the NAMEs. Set once, before rendering; replaces earlier ones.
 * Returns 0, or 2 with a message naming the bad rule on stderr.
 */
int export_prom_label_rules(char *const *rules, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* SCALES_EXPORT_HTTP_H */
