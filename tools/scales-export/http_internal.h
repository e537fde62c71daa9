/* SPDX-License-Identifier: MIT */
/*
 * http_internal.h: private declarations of the HTTP side of scales-export
 * (http.c, http_sample.c, http_listen.c, html.c, prom.c). Not a public
 * API; the unit tests in test/http use it.
 */
#ifndef SCALES_EXPORT_HTTP_INTERNAL_H
#define SCALES_EXPORT_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <scales/reader.h>

#include "http.h"

#define HTTP_HISTORY_DEFAULT 60u
#define HTTP_HISTORY_MAX 3600u
#define HTTP_INTERVAL_DEFAULT_MS 1000u
#define HTTP_INTERVAL_MIN_MS 50u
/* a chart's time span and the most samples it keeps */
#define HTTP_CHART_SPAN_MS 3600000u
#define HTTP_KEEP_MAX 3600u

/* ------------------------------------------------------------- sampling */

/* The recent samples of one metric, for its sparkline and its chart:
 * rates of counters and dicts, per-interval p99 of histograms, values of
 * gauges (series 0); histograms have the per-interval p50 and p99.9 too
 * (series 1 and 2). NaN: no value for that sample. */
#define HRING_P99 0
#define HRING_P50 1
#define HRING_P999 2
struct hring {
	uint32_t generation;
	unsigned capacity; /* slots per series: hstate.keep */
	unsigned nseries;  /* 1, or 3 for histograms */
	unsigned head;     /* next slot to write */
	unsigned count;    /* values kept per series, <= capacity */
	double v[];        /* nseries * capacity: series s at s * capacity */
};

/* One entry of the page: a group of the collector (a process, or the
 * merged processes of an app and owner). */
struct hgroup {
	char *key; /* the collector's group key */
	/* The latest snapshot: merged if the group has several processes,
	 * else the process's own, and its rates. Borrowed from the
	 * collector, which keeps them until its collection after next: the
	 * sampler swaps the groups in before that. */
	const struct scales_snapshot *snap;
	const struct scales_rate *rates; /* snap->n */
	struct hring **rings;            /* snap->n; NULL for states */
	/* another user's processes: /metrics labels them with uid */
	bool show_owner;
};

/* What the sampling thread keeps; lock protects groups, ngroups,
 * samples and sample_real_ns. The rest is the sampler's own (or
 * immutable after start). */
struct hstate {
	pthread_mutex_t lock;
	struct hgroup *groups; /* sorted by app, then pid */
	size_t ngroups;
	uint64_t samples;        /* samples taken */
	uint64_t sample_real_ns; /* CLOCK_REALTIME of the latest */

	/* options (immutable after start) */
	char *dir;
	char **selectors;
	size_t nselectors;
	bool per_process;
	bool all_owners;
	unsigned history;
	unsigned interval_ms;
	/* samples each ring keeps: the last hour at the interval (at least
	 * history, at most HTTP_KEEP_MAX), for the charts of the metric pages */
	unsigned keep;
	/* Dead processes (lock): writers that died (SCALES_LIVE_DEAD or
	 * PID_REUSED) without being named by path or pid, one group each,
	 * their last values; no rates or rings. From dcol. */
	struct hgroup *dead;
	size_t ndead;

	/* sampler-private: selects (dir and selectors; open segments),
	 * snapshots, groups, merges, rates */
	scales_collector *col;
	scales_collector *dcol; /* the dead processes, never merged */
};

/* Creates the state from the options (copied); NULL on ENOMEM. */
struct hstate *hstate_new(const struct export_http_options *o);
/* Frees everything, closes the segments. NULL-safe. */
void hstate_free(struct hstate *st);
/* Takes one sample (the collector: discovers, snapshots, merges, updates
 * rates), pushes the sparklines, then swaps the groups in under the lock. Returns 0 or
 * -ENOMEM. Sampler thread (or start-up) only. */
int hstate_sample(struct hstate *st);

/* Is the metric at i of g drawn as a sparkline? */
bool hmetric_has_ring(const struct scales_metric *m);

/* The ring capacity for history and interval_ms (an hour of
 * samples, clamped to [history, HTTP_KEEP_MAX]). */
unsigned hring_keep(unsigned history, unsigned interval_ms);

/* The latest min(count, want) values of series 0, oldest first, into out
 * (want slots); returns how many. */
unsigned hring_values(const struct hring *r, unsigned want, double *out);
/* The same of series s (0 if the ring has no such series: returns 0). */
unsigned hring_series(const struct hring *r, unsigned s, unsigned want,
                      double *out);

/* ------------------------------------------------------------ selection */

/* The part of a group a request shows: metric indices in display order. */
struct hsel {
	const struct hgroup *g;
	size_t n;
	size_t *idx;
};

/* ------------------------------------------------------------------ html */

/* Appends s (n bytes) escaped for HTML text and attribute values:
 * & < > " ' as entities, invalid UTF-8 and control characters other than
 * tab, newline and carriage return as U+FFFD. NULL appends nothing. */
void html_escape(struct scales_buf *b, const char *s, size_t n);
void html_escape_str(struct scales_buf *b, const char *s);

/* Appends s percent-encoded for a URL path (everything but A-Z a-z 0-9
 * - . _ ~ and "/"). */
void url_path_encode(struct scales_buf *b, const char *s);

/* Compares paths component by component ("/a" < "/a/b" < "/a-b"). */
int hpath_cmp(const char *a, const char *b);

/* The charts of metric i of group g on its own page (html_chart.c). */
void html_metric_charts(struct scales_buf *b, const struct hgroup *g, size_t i,
                        unsigned keep, unsigned interval_ms);

struct hpage {
	const char *path;  /* "/" or a subtree, normalised */
	const char *query; /* NULL or the filter glob, as typed */
	bool refresh;      /* start with auto-refresh on */
	const char *nonce; /* CSP nonce for the style and script */
	const struct hsel *sels;
	size_t nsels;
	size_t nprocesses; /* groups before the path and query filters */
	unsigned history;
	unsigned keep; /* ring capacity (hstate.keep) */
	unsigned interval_ms;
	uint64_t real_ns; /* sample time */
	const char *dir;  /* for the "nothing found" message; may be NULL */
	/* dead processes with a metric under path and query */
	const struct hsel *dead;
	size_t ndead;
};

/* Renders the HTML stats page. */
void html_render_page(struct scales_buf *b, const struct hpage *p);

/* Renders the error page for status (404, 400...). */
void html_render_error(struct scales_buf *b, unsigned status, const char *title,
                       const char *detail, const char *nonce);

/* The page's script and style. */
/* assets/page.js and assets/page.css, embedded at build time */
extern const char html_script[];
extern const char html_style[];

/* Renders ?format=history. */
void history_render_json(struct scales_buf *b, const struct hsel *sels,
                         size_t nsels, unsigned history, unsigned interval_ms);

/* ------------------------------------------------------------ prometheus */

#define PROM_NAME_MAX 512

enum prom_type {
	PROM_COUNTER = 0,
	PROM_GAUGE = 1,
	PROM_HISTOGRAM = 2,
};

/*
 * The Prometheus family name of a metric path: "scales_" + the path's
 * components in snake_case joined by "_" (camelCase split, every byte
 * outside [a-z0-9] becomes "_", runs collapsed), tokens that promtool
 * flags (abbreviated units such as "ms", non-base units such as "hours",
 * type names such as "gauge") glued to the previous token, then the unit
 * suffix (_seconds, _bytes) unless the last token is already that unit,
 * then "_total" for counters, or "_value" for other types whose name would
 * end in _total, _count, _sum or _bucket. out gets at most len - 1 bytes
 * and a NUL (truncated names are still valid). Returns the length.
 */
size_t prom_name(char *out, size_t len, const char *path, enum prom_type type,
                 unsigned unit);

/* Appends s escaped as a label value (\\, \", \n; every other UTF-8
 * character as itself, tab and other control characters included; each
 * byte of invalid UTF-8 as U+FFFD), without quotes. */
void prom_label_escape(struct scales_buf *b, const char *s);

/* Appends s escaped for a # HELP line (\\ and \n; as above). */
void prom_help_escape(struct scales_buf *b, const char *s);

/* Renders every group as the Prometheus text format 0.0.4. Labels: app,
 * and pid when per_process. Returns 0 or -ENOMEM. */
int prom_render(struct scales_buf *b, const struct hgroup *groups, size_t n,
                bool per_process);

/* --------------------------------------------------------------- server */

/*
 * Parses a --http address (see struct export_http_options) into *out:
 * numeric IPv4, [IPv6] or a host name (the first address it resolves to).
 * Returns 0, -EINVAL (err says why) or -EACCES for an address that is not
 * loopback without allow_remote.
 */
int http_parse_listen(const char *spec, bool allow_remote,
                      struct sockaddr_storage *out, socklen_t *outlen,
                      char *err, size_t errlen);

/* A non-blocking listening socket bound to *ss; spec names it in the
 * messages. Returns the descriptor or -errno (reported on stderr). */
int http_listen_socket(const struct sockaddr_storage *ss, socklen_t len,
                       const char *spec);

/* ------------------------------------------------------------ utilities */

void buf_puts(struct scales_buf *b, const char *s);
void buf_printf(struct scales_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* SCALES_EXPORT_HTTP_INTERNAL_H */
