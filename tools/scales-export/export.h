/* SPDX-License-Identifier: MIT */
/*
 * export.h: the core of scales-export (static library scales_export_core):
 * Graphite naming and sanitising, value formatting, allow/forbid rules,
 * the renderer that turns the reader's collector's groups into Graphite
 * plaintext lines, and the point buffer that keeps batches for resending
 * after a reconnect. main.c (the tool), the unit tests in
 * test/export/ and the benchmark in bench/ link it.
 *
 * Nothing here prints, exits or touches the network except dest.c (the
 * Graphite connections). Objects are not locked: one thread at a time.
 */
#ifndef SCALES_EXPORT_H
#define SCALES_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <scales/reader.h>

struct addrinfo;
struct gdest_resolve;

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- naming */

/*
 * Copies the n bytes of in (a path component, an app name or a state value)
 * to out as one Graphite name component, and returns the bytes written (out
 * is NUL-terminated; it needs 3 * n + 4 bytes). The mapping is one-to-one
 * (docs/graphite.md, "Names"): bytes are kept, or written as "%XX" (two
 * upper-case hex digits):
 *  - kept: printable ASCII 0x21-0x7e but ".", "%", ";", "=" and "/";
 *  - kept: valid, shortest-form UTF-8 of a code point that is neither a C1
 *    control (U+0080-U+009F) nor white space (U+00A0, U+1680,
 *    U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, and U+FEFF);
 *  - "%XX": every other byte (".", "%", space, ";", "=", "/", the control
 *    bytes 0x00-0x1f and 0x7f, the bytes of such code points and of
 *    invalid sequences);
 *  - an empty component is "%00" (a NUL, which no C string holds).
 * So the result never holds a byte that carbon's line parser (Python's
 * str.split() on the UTF-8 decoded line) or its tag parser would act on,
 * always decodes as UTF-8, and decodes back to in.
 */
size_t gname_component(char *out, const char *in, size_t n);

/* True if s (n bytes) is a component the renderer appends to a metric's
 * name ("count", "p99", "rate", "m1", ...; with seed, the seed's quantile
 * names "median", "99percentile", ... instead of "p50", "p99", ...). */
bool gname_reserved(const char *s, size_t n, bool seed);

/* The names of the quantiles 0.5, 0.75, 0.95, 0.98, 0.99 and 0.999: "p50"
 * ... "p999", and as the Python seed named them, "median", "75percentile"
 * ... "999percentile" (--seed-names). */
extern const char *const gname_quantiles[6];
extern const char *const gname_seed_quantiles[6];

/*
 * Builds the prefix: the user's prefix (NULL: the host name, lower-cased)
 * with each "."-separated part sanitised as a component (so dots stay
 * separators; empty parts are dropped), then "." unless the result is
 * empty. Writes at most len bytes with the NUL; returns the length, or -1
 * if it does not fit.
 */
int gname_prefix(char *out, size_t len, const char *prefix);

/* Appends the Graphite form of a metric path ("/web/errors" -> "web.errors",
 * each component through gname_component(), and one more leading "_" on a
 * component that is a reserved word (gname_reserved(), seed as there) after
 * any leading "_": "/h/count" -> "h._count") to out; returns the bytes
 * written (out needs 4 * strlen(path) + 4 bytes). */
size_t gname_path(char *out, const char *path, bool seed);

/* A dict key, as written (decoded), as a name component: as a path
 * component of gname_path() (out needs 3 * n + 5 bytes). */
size_t gname_key(char *out, const char *in, size_t n, bool seed);

/* A state value as a name component: "~" then gname_component() (out needs
 * 3 * n + 5 bytes). "~" never starts a path component or a reserved word,
 * so a state value never names what a stat of the process could. */
size_t gname_state(char *out, const char *in, size_t n);

/* ------------------------------------------------------------------ values */

/* A double for the plaintext protocol (integers: scales_format_u64() and
 * scales_format_i64()). buf needs 32 bytes; returns the length, or 0
 * (writes nothing) for NaN and infinities, which carbon cannot store: such
 * a point is not sent. The shortest form that reads back as the same
 * double (scales_format_double()), integral values as integers. */
int gfmt_double(char *buf, double v);

/* ---------------------------------------------------------------- rules */

/*
 * Allow/forbid rules, as the seed's GraphitePusher: the newest (last added)
 * rule that matches a metric's path decides; a path no rule matches is
 * allowed. A glob is an fnmatch(3) pattern with flags 0 ("*" also matches
 * "/"). A glob starting with "/" is matched against the full path
 * ("/web/errors"); one that does not, against the path without its leading
 * "/" ("web/errors"), as the seed wrote them.
 */
struct export_rule {
	bool allow;
	char *glob;
};

struct export_rules {
	struct export_rule *v;
	size_t n, cap;
};

/* Adds a rule (the glob is copied). Returns 0 or -ENOMEM. */
int export_rules_add(struct export_rules *r, bool allow, const char *glob);
bool export_rules_allowed(const struct export_rules *r, const char *path);
void export_rules_free(struct export_rules *r);

/* --------------------------------------------------------------- render */

/* What to send, and how names are formed. */
struct export_config {
	const char *prefix; /* from gname_prefix(): "" or ends with "." */
	bool per_process;   /* prefix.app.pid.path instead of prefix.app.path */
	bool rates;         /* counters: also name.rate (per second) */
	bool meters;        /* counters: also name.m1, name.m5, name.m15 */
	const struct export_rules *rules; /* NULL: everything */
	/* merge one app's processes whoever runs them; else another user's
	 * are named prefix.app@uid */
	bool all_owners;
	/* the Python seed's names: a histogram's quantiles as "median",
	 * "75percentile" ... "999percentile", and no app component when the
	 * collection is one group (one app, not --per-process) */
	bool seed_names;
};

/* What a render produced (added to by each call). */
struct export_render_stats {
	size_t points;    /* lines written */
	size_t metrics;   /* metrics allowed by the rules */
	size_t processes; /* snapshots rendered */
	size_t groups;    /* series groups (apps, or processes) */
};

/* The collector flags of c: merged by app and owner unless per_process
 * (by app alone with all_owners). */
unsigned export_collect_flags(const struct export_config *c);

/*
 * Renders every numeric point of the collector's last collection (one
 * group per app and owner, or per process with c->per_process) as
 * Graphite plaintext lines "name value timestamp\n" appended to out, with
 * timestamp ts. Histograms are over the interval since the collector's
 * previous collection (each member's values since its previous snapshot;
 * over all time if there is none: --once), with the all-time count as
 * total_count; counters get the collector's rates and meters (c->rates,
 * c->meters; from its second collection on). See docs/graphite.md for the
 * names. Returns 0 or -ENOMEM; st (may be NULL) is added to.
 */
int graphite_render(struct scales_buf *out, scales_collector *col,
                    const struct export_config *c, int64_t ts,
                    struct export_render_stats *st);

/* ---------------------------------------------------------- point buffer */

/*
 * The point buffer: one batch of lines per period, kept in order, shared by
 * every destination (each has its own cursor). A batch is kept while a
 * destination has not sent it or while it is among the last `resend`
 * batches a destination may have to send again; the total is bounded by
 * max_points: past it the oldest batches are dropped (and each destination
 * that had not sent one counts its points as dropped).
 */
struct pb_batch {
	uint64_t seq;   /* 1, 2, ... */
	int64_t ts;     /* the batch's timestamp */
	char *data;     /* lines, owned */
	size_t len;     /* bytes */
	size_t npoints; /* lines */
};

struct pointbuf {
	struct pb_batch *b; /* ring of cap batches */
	size_t head, count, cap;
	size_t points;     /* sum of npoints of the batches held */
	size_t max_points; /* bound; at least the newest batch is kept */
	uint64_t next_seq; /* seq of the next batch pushed */
};

/* A destination's position: the next byte to send is byte off of batch
 * seq (seq == next_seq: nothing to send). */
struct pb_cursor {
	uint64_t seq;
	size_t off;
	uint64_t dropped; /* points dropped before this destination sent them */
};

void pb_init(struct pointbuf *pb);
void pb_free(struct pointbuf *pb);

/*
 * Appends a batch (takes ownership of data, malloc'ed). Then drops the
 * oldest batches while the total exceeds max_points (the new batch is
 * always kept); each cursor in curs[0..ncurs-1] that had not finished a
 * dropped batch counts its points in dropped and moves past it (off = 0;
 * *cut is set true for a cursor that was in the middle of one: its
 * connection must be closed, since a line was cut). Returns 0 or -ENOMEM
 * (data is then freed).
 */
int pb_push(struct pointbuf *pb, int64_t ts, char *data, size_t len,
            size_t npoints, struct pb_cursor **curs, bool *cut, size_t ncurs);

/* The batch with sequence number seq, or NULL if not held. */
const struct pb_batch *pb_get(const struct pointbuf *pb, uint64_t seq);

/* Sequence number of the oldest batch held (next_seq if none). */
uint64_t pb_first_seq(const struct pointbuf *pb);

/*
 * Where a destination restarts after a reconnect: the start of the batch
 * `resend` batches before the first one it had not finished (not before
 * the oldest held). Resets cur->off.
 */
void pb_rewind(const struct pointbuf *pb, struct pb_cursor *cur,
               unsigned resend);

/*
 * Drops the batches no cursor needs any more: those older than `resend`
 * batches before every cursor's position (what pb_rewind() could reach).
 * With no cursor, keeps the newest `resend` batches. Cheap.
 */
void pb_trim(struct pointbuf *pb, struct pb_cursor *const *curs, size_t ncurs,
             unsigned resend);

/* ---------------------------------------------------- Graphite senders */

/*
 * One Graphite destination (HOST:PORT): a non-blocking TCP connection
 * driven by the caller's poll() loop, a cursor in the point buffer,
 * reconnects with jittered exponential backoff, and a rewind of `resend`
 * batches after every reconnect.
 */
enum gdest_state {
	GD_IDLE = 0,   /* not connected; next attempt at next_ns */
	GD_RESOLVING,  /* a thread resolves the host; fd: its pipe */
	GD_CONNECTING, /* connect() in progress */
	GD_UP,         /* connected */
	GD_CLOSING,    /* shutdown(SHUT_WR) sent, waiting for the peer's EOF */
	GD_CLOSED,     /* closed in order after everything was written */
};

struct gdest_tuning {
	unsigned resend;         /* batches sent again after a reconnect */
	uint64_t backoff_min_ns; /* first retry delay (before jitter) */
	uint64_t backoff_max_ns; /* cap of the delay */
	uint64_t timeout_ns; /* resolve, connect and close handshake timeout */
	uint64_t stall_ns;   /* pending data with no progress: reconnect */
};

struct gdest {
	char *spec; /* as given */
	char *host, *port;
	int fd;
	enum gdest_state state;
	struct pb_cursor cur;
	uint64_t next_ns;    /* IDLE: next attempt (CLOCK_MONOTONIC) */
	uint64_t backoff_ns; /* current backoff base */
	uint64_t since_ns; /* CONNECTING/CLOSING: started; UP: last progress */
	struct addrinfo *ai; /* CONNECTING: the addresses, and the one tried */
	struct addrinfo *ai_next;
	struct gdest_resolve *resolve; /* the resolver thread's, or NULL */
	bool was_up;                   /* a connection was ever established */
	bool down_logged;              /* the current outage was reported */
	char last_error[160];          /* the last failure, for logs */
	/* statistics */
	uint64_t points_sent; /* points of batches written completely */
	uint64_t batches_sent;
	uint64_t reconnects; /* connections established after the first */
	uint64_t failures;   /* connect failures and lost connections */
};

/* Parses "HOST:PORT" or "[V6]:PORT" into d (fd -1, IDLE, next attempt
 * now). Returns 0 or -EINVAL with a message in err. */
int gdest_init(struct gdest *d, const char *spec, char *err, size_t errlen);
void gdest_free(struct gdest *d);

/*
 * Fills *events (for poll on d->fd, or 0 if no fd to watch) and returns the
 * CLOCK_MONOTONIC time (ns) by which gdest_step() wants to run again
 * (UINT64_MAX: only on events).
 */
uint64_t gdest_want(const struct gdest *d, const struct pointbuf *pb,
                    const struct gdest_tuning *t, short *events);

/*
 * Does what d can do now: start or finish a connection, write pending
 * batches, notice a peer that closed or reset, time out. revents from poll
 * (0 if not polled). When `closing` is set and everything is written, the
 * connection is shut down in order (shutdown(SHUT_WR), then the peer's
 * EOF) and ends in GD_CLOSED. Returns a log message (static storage of d)
 * when the destination's state changed in a way worth reporting (down,
 * up again), else NULL.
 */
const char *gdest_step(struct gdest *d, struct pointbuf *pb,
                       const struct gdest_tuning *t, short revents,
                       uint64_t now, bool closing);

/* Everything held has been written (cursor at the end of the buffer). */
bool gdest_caught_up(const struct gdest *d, const struct pointbuf *pb);

/* Closes the connection now (no handshake). */
void gdest_close(struct gdest *d);

#ifdef __cplusplus
}
#endif

#endif /* SCALES_EXPORT_H */
