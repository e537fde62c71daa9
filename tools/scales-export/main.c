/* SPDX-License-Identifier: MIT */
/*
 * scales-export: pushes the metrics of every instrumented process on the
 * machine to Graphite (plaintext protocol), prints them, writes them as a
 * JSON file for crash forensics, and (through http.c) serves them over
 * HTTP. One thread runs everything but HTTP: a poll() loop over the
 * Graphite connections and a signalfd, woken at each period boundary.
 *
 * This file holds the run loop; self.c the tool's own metrics, atomic.c
 * the atomic file writing (--json-file, --textfile).
 *
 * Exit status: 0 success; 1 nothing matched, or with --once a destination
 * that did not accept every point; 2 bad usage or configuration.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <scales/reader.h>
#include <scales/scales.h>

#include "cli.h"
#include "export.h"
#include "http.h"
#include "main.h"
#include "tool_select.h"

static bool quiet;

void logmsg(bool error, const char *fmt, ...)
{
	if (quiet && !error)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double real_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ selection */

struct selection {
	const struct export_args *a;
	scales_collector *col; /* selects, snapshots, groups, merges */
	bool any_named_file;   /* some selector is a segment file */
	bool *named_failed;    /* per selector: already reported */
};

/* Skipped files (junk, copies, a snapshot that failed): once each. */
static void collect_warn(void *arg, const char *path, const char *msg)
{
	(void)arg;
	/* a file name is anybody's bytes: one printable line (the reader's
	 * escaping, as scales-top's) */
	char *p = malloc(4 * strlen(path) + 1),
	     *m = malloc(4 * strlen(msg) + 1);
	if (p && m)
		logmsg(false, "skipping %s: %s",
		       scales_printable(p, 4 * strlen(path) + 1, path),
		       scales_printable(m, 4 * strlen(msg) + 1, msg));
	free(p);
	free(m);
}

/* The first named segment file that cannot be read at the start (then
 * exit 2). */
static void named_bad(void *arg, size_t selector, const char *msg)
{
	bool *said = arg;
	(void)selector;
	if (!*said)
		logmsg(true, "%s", msg);
	*said = true;
}

static int selection_open(struct selection *sel, const struct export_args *a,
                          const struct export_config *cfg)
{
	sel->a = a;
	struct scales_collector_options o = {
		.dir = a->dir,
		.selectors = (const char *const *)a->selectors,
		.nselectors = a->nselectors,
		.warn = collect_warn,
		/* one-shot and periodic passes need no members (no per-interval
		 * histograms here): a merged app holds one process at a time */
		.flags = export_collect_flags(cfg) | SCALES_COLLECT_NO_MEMBERS,
		/* each period is one tick of the meters */
		.tick_ns = SCALES_METER_EVERY_MARK,
	};
	return scales_collector_new(&o, &sel->col);
}

/*
 * Collects the selected processes (the reader library's collector:
 * named segment files always, dead or alive, copies too; discovered
 * segments if they match (no selector or an app name: live writers only;
 * a pid: also a dead one), never a copy of another process's segment;
 * each process once, named ones first). strict: a named file that cannot
 * be read, or a directory that cannot be, is an error (returns 2).
 */
static int collect(struct selection *sel, bool strict)
{
	const struct export_args *a = sel->a;
	struct scales_selection *s = scales_collector_selection(sel->col);
	char err[512];
	int drc = scales_collector_select(sel->col, err, sizeof(err));
	int rc = drc == -ENOMEM ? -ENOMEM : 0;
	if (!rc)
		rc = scales_collector_sample(sel->col);
	for (size_t i = 0; !rc && i < a->nselectors; i++) {
		if (scales_selector_kind(a->selectors[i], NULL) !=
		    SCALES_SELECTOR_PATH)
			continue;
		const char *why = NULL;
		for (size_t k = 0; !why && k < s->nerrors; k++)
			if (s->errors[k].selector == i)
				why = s->errors[k].msg;
		if (why) {
			if (strict) {
				logmsg(true, "%s", why);
				rc = 2;
				break;
			}
			if (!sel->named_failed[i])
				logmsg(true, "%s", why);
			sel->named_failed[i] = true;
			continue;
		}
		if (sel->named_failed[i])
			logmsg(false, "%s: readable again", a->selectors[i]);
		sel->named_failed[i] = false;
	}
	if (!rc && drc) {
		logmsg(true, "%s", err);
		rc = strict ? 2 : 0;
	}
	return rc;
}

/* ------------------------------------------------------------ json file */

/* Counts and reports a failed write of f (once, until it works again),
 * never fatal to the other outputs. */
static void file_outcome(struct json_out *f, int rc, const char *why, int err)
{
	if (rc) {
		f->errors++;
		if (!f->failing)
			logmsg(true, "%s %s: %s%s%s (counted in %s)", f->opt,
			       f->path, why, err ? ": " : "",
			       err ? strerror(err) : "",
			       strcmp(f->opt, "--json-file") ?
			           "/export/textfile_errors" :
			           "/export/json_file_errors");
		f->failing = true;
	} else {
		if (f->failing)
			logmsg(false, "%s %s: written again", f->opt, f->path);
		f->failing = false;
	}
}

/* Writes the collector's groups to j->path atomically (atomic.c).
 * Returns 0 or -1 (reported). */
static int json_write(struct json_out *j, scales_collector *col,
                      bool with_rates)
{
	int rc = -1;
	size_t n;
	const struct scales_group *g = scales_collector_groups(col, &n);
	const struct scales_snapshot **snaps =
	    calloc(n ? n : 1, sizeof(*snaps));
	const struct scales_rate **rates = calloc(n ? n : 1, sizeof(*rates));
	struct scales_buf b = { 0 };
	const char *why = "out of memory";
	int err = 0;
	if (!snaps || !rates)
		goto out;
	for (size_t i = 0; i < n; i++) {
		snaps[i] = g[i].cur;
		rates[i] = with_rates ? g[i].rates : NULL;
	}
	if (scales_json_render(&b, snaps, rates, n, 0) || b.oom)
		goto out;
	scales_buf_append(&b, "\n", 1);
	if (b.oom)
		goto out;
	rc = atomic_write_file(j->path, b.data, b.len, &why, &err);
out:
	file_outcome(j, rc, why, err);
	free(snaps);
	free(rates);
	scales_buf_free(&b);
	return rc;
}

/* Writes the /metrics text of the collector's groups to t->path
 * atomically (node_exporter's textfile collector reads *.prom files; the
 * temporary file starts with "." and does not end in ".prom", so it never
 * reads one half written). Returns 0 or -1 (reported). */
static int textfile_write(struct json_out *t, scales_collector *col,
                          const struct export_config *c)
{
	size_t n;
	const struct scales_group *g = scales_collector_groups(col, &n);
	struct scales_buf b = { 0 };
	const char *why = "out of memory";
	int err = 0, rc = -1;
	int prc = export_prom_render(&b, g, n, c->per_process, c->all_owners);
	if (prc == -ENOTSUP)
		why = "this build has no HTTP support (libmicrohttpd missing)";
	else if (!prc && !b.oom)
		rc = atomic_write_file(t->path, b.data ? b.data : "", b.len,
		                       &why, &err);
	file_outcome(t, rc, why, err);
	scales_buf_free(&b);
	return rc;
}

/* ------------------------------------------------------------- the run */

struct run {
	struct export_args *a;
	struct export_config cfg;
	char prefix[1024];
	struct selection sel;
	struct gdest *dests;
	size_t nd;
	struct pointbuf pb;
	struct gdest_tuning tune;
	struct json_out json;
	struct json_out textfile;
	struct self self;
	int sigfd;
	/* push duration: the batch being delivered and when it started */
	uint64_t push_seq, push_t0;
	bool stdout_failed;
};

static void write_stdout(struct run *r, const char *data, size_t len)
{
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
		if (!r->stdout_failed)
			logmsg(true, "writing to standard output: %s",
			       strerror(errno));
		r->stdout_failed = true;
	}
}

/* Steps every destination; logs state changes. */
static void step_all(struct run *r, const struct pollfd *pfd, bool closing)
{
	uint64_t now = mono_ns();
	for (size_t i = 0; i < r->nd; i++) {
		short rev = 0;
		if (pfd && r->dests[i].fd >= 0 &&
		    pfd[i + 1].fd == r->dests[i].fd)
			rev = pfd[i + 1].revents;
		const char *msg = gdest_step(&r->dests[i], &r->pb, &r->tune,
		                             rev, now, closing);
		if (msg)
			logmsg(false, "%s", msg);
	}
	/* the batch being pushed reached every connected destination? */
	if (r->push_seq) {
		bool done = true;
		for (size_t i = 0; i < r->nd; i++)
			if (r->dests[i].state == GD_UP &&
			    r->dests[i].cur.seq <= r->push_seq)
				done = false;
		if (done) {
			scales_histogram_record(&r->self.push_duration,
			                        mono_ns() - r->push_t0);
			r->push_seq = 0;
		}
	}
	struct pb_cursor *curs[r->nd ? r->nd : 1];
	for (size_t i = 0; i < r->nd; i++)
		curs[i] = &r->dests[i].cur;
	pb_trim(&r->pb, curs, r->nd, r->tune.resend);
	self_update(&r->self, r->dests, r->nd, &r->pb, &r->json, &r->textfile);
}

/*
 * Runs the poll loop until deadline (CLOCK_MONOTONIC ns) or until done()
 * says so. Returns true if a stop signal arrived.
 */
static bool pump(struct run *r, uint64_t deadline, bool closing,
                 bool (*done)(struct run *))
{
	struct pollfd pfd[r->nd + 1];
	for (;;) {
		step_all(r, NULL, closing);
		if (done && done(r))
			return false;
		uint64_t now = mono_ns();
		if (now >= deadline)
			return false;
		uint64_t wake = deadline;
		pfd[0] = (struct pollfd){ r->sigfd, POLLIN, 0 };
		for (size_t i = 0; i < r->nd; i++) {
			short ev;
			uint64_t w =
			    gdest_want(&r->dests[i], &r->pb, &r->tune, &ev);
			if (w < wake)
				wake = w;
			pfd[i + 1] =
			    (struct pollfd){ ev ? r->dests[i].fd : -1, ev, 0 };
		}
		int ms = wake <= now ? 0 :
		         (wake - now) / 1000000 > 60000 ?
		                       60000 :
		                       (int)((wake - now + 999999) / 1000000);
		int n = poll(pfd, r->nd + 1, ms);
		if (n < 0 && errno != EINTR) {
			logmsg(true, "poll: %s", strerror(errno));
			return true;
		}
		if (n > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(r->sigfd, &si, sizeof(si)) > 0)
				return true;
		}
		if (n > 0) {
			now = mono_ns();
			for (size_t i = 0; i < r->nd; i++) {
				if (!pfd[i + 1].revents)
					continue;
				const char *msg =
				    gdest_step(&r->dests[i], &r->pb, &r->tune,
				               pfd[i + 1].revents, now,
				               closing);
				if (msg)
					logmsg(false, "%s", msg);
			}
		}
	}
}

static bool all_closed_or_failed(struct run *r)
{
	for (size_t i = 0; i < r->nd; i++)
		if (r->dests[i].state != GD_CLOSED)
			return false;
	return true;
}

/* Sets the buffer bound from the newest batch's size (the resend window
 * fits in it: export_args_parse()). */
static void set_bound(struct run *r, size_t npoints)
{
	r->pb.max_points =
	    (size_t)export_buffer_periods(r->a) * (npoints ? npoints : 1);
}

static int push_batch(struct run *r, struct scales_buf *b, size_t npoints,
                      int64_t ts)
{
	if (!r->nd) {
		scales_buf_free(b);
		return 0;
	}
	set_bound(r, npoints);
	struct pb_cursor *curs[r->nd];
	bool cut[r->nd];
	for (size_t i = 0; i < r->nd; i++) {
		curs[i] = &r->dests[i].cur;
		cut[i] = false;
	}
	char *data = b->data;
	size_t len = b->len;
	if (!data) { /* an empty batch still moves the cursors on */
		data = strdup("");
		len = 0;
	}
	memset(b, 0, sizeof(*b));
	int rc = pb_push(&r->pb, ts, data, len, npoints, curs, cut, r->nd);
	for (size_t i = 0; i < r->nd; i++)
		if (cut[i]) {
			logmsg(false,
			       "graphite %s: buffer full while sending: "
			       "dropped the oldest points, reconnecting",
			       r->dests[i].spec);
			gdest_close(&r->dests[i]);
			r->dests[i].state = GD_IDLE;
			r->dests[i].next_ns = mono_ns();
		}
	if (rc)
		logmsg(true, "out of memory: a period's points were lost");
	return rc;
}

static int run_once(struct run *r)
{
	int rc = collect(&r->sel, true);
	if (rc)
		return rc == 2 ? 2 : 1;
	size_t ngroups;
	scales_collector_groups(r->sel.col, &ngroups);
	if (ngroups == 0) {
		logmsg(true, "no process matched");
		return 1;
	}
	int status = 0;
	int64_t ts = (int64_t)floor(real_s() / r->a->period) * r->a->period;
	if (r->a->json_file && json_write(&r->json, r->sel.col, false))
		status = 1;
	if (r->a->textfile && textfile_write(&r->textfile, r->sel.col, &r->cfg))
		status = 1;
	struct scales_buf b = { 0 };
	struct export_render_stats st = { 0 };
	if (graphite_render(&b, r->sel.col, &r->cfg, ts, &st)) {
		logmsg(true, "out of memory");
		scales_buf_free(&b);
		return 1;
	}
	if (r->a->to_stdout) {
		write_stdout(r, b.data ? b.data : "", b.len);
		if (r->stdout_failed)
			status = 1;
	}
	if (r->nd) {
		push_batch(r, &b, st.points, ts);
		uint64_t deadline =
		    mono_ns() + (uint64_t)(r->a->timeout_s * 1e9);
		bool sig = pump(r, deadline, true, all_closed_or_failed);
		for (size_t i = 0; i < r->nd; i++) {
			struct gdest *d = &r->dests[i];
			if (d->state == GD_CLOSED)
				continue;
			status = 1;
			logmsg(true,
			       "graphite %s: not every point accepted%s%s",
			       d->spec, d->last_error[0] ? ": " : "",
			       sig ? "interrupted" : d->last_error);
		}
	}
	scales_buf_free(&b);
	return status;
}

/* One period: collect, JSON file, render, stdout, queue for Graphite. */
static void period(struct run *r, int64_t ts, bool *warned)
{
	uint64_t t0 = mono_ns();
	if (collect(&r->sel, false) < 0)
		logmsg(true, "out of memory while collecting");
	size_t ngroups;
	scales_collector_groups(r->sel.col, &ngroups);
	if (ngroups == 0 && !*warned) {
		logmsg(false, "no process matched (yet)");
		*warned = true;
	} else if (ngroups) {
		*warned = false;
	}
	if (r->a->json_file)
		json_write(&r->json, r->sel.col, true);
	if (r->a->textfile)
		textfile_write(&r->textfile, r->sel.col, &r->cfg);
	struct scales_buf b = { 0 };
	struct export_render_stats st = { 0 };
	if (graphite_render(&b, r->sel.col, &r->cfg, ts, &st))
		logmsg(true, "out of memory while rendering");
	scales_counter_inc(&r->self.periods);
	scales_counter_add(&r->self.points, st.points);
	scales_gauge_set(&r->self.metrics, (int64_t)st.metrics);
	scales_gauge_set(&r->self.processes, (int64_t)st.processes);
	if (r->a->to_stdout && b.len)
		write_stdout(r, b.data, b.len);
	if (r->nd) {
		push_batch(r, &b, st.points, ts);
		r->push_seq = r->pb.next_seq - 1;
		r->push_t0 = t0;
	} else {
		scales_histogram_record(&r->self.push_duration, mono_ns() - t0);
	}
	scales_buf_free(&b);
}

static int run_loop(struct run *r)
{
	bool pushing =
	    r->nd || r->a->to_stdout || r->a->json_file || r->a->textfile;
	if (pushing) /* the baseline of the first interval */
		collect(&r->sel, false);
	unsigned p = r->a->period;
	double next = (floor(real_s() / p) + 1) * p;
	bool warned = false;
	bool stop = false;
	while (!stop) {
		double now = real_s();
		if (pushing && now >= next) {
			int64_t ts = (int64_t)next;
			/* late by more than a period (suspend, clock jump):
			 * stamp with the current boundary */
			if (now >= next + p)
				ts = (int64_t)(floor(now / p) * p);
			period(r, ts, &warned);
			next = (floor(real_s() / p) + 1) * p;
			continue;
		}
		uint64_t wait_ns = pushing ?
		                       (uint64_t)((next - now) * 1e9) + 1 :
		                       UINT64_MAX / 2;
		stop = pump(r, mono_ns() + wait_ns, false, NULL);
	}
	logmsg(false, "stopping");
	if (r->nd) {
		/* deliver what is pending, then close in order */
		uint64_t deadline =
		    mono_ns() + (uint64_t)(r->a->timeout_s * 1e9);
		pump(r, deadline, true, all_closed_or_failed);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct export_args a;
	int rc = export_args_parse(argc, argv, &a);
	if (rc) {
		export_args_free(&a);
		return rc;
	}
	switch (a.mode) {
	case EXPORT_MODE_HELP:
		export_usage(stdout);
		export_args_free(&a);
		return 0;
	case EXPORT_MODE_VERSION:
		printf(PROG " %s (reader library %s)\n", SCALES_VERSION_STRING,
		       scales_reader_version());
		export_args_free(&a);
		return 0;
	case EXPORT_MODE_HELP_MAN:
		export_man_options(stdout);
		export_args_free(&a);
		return 0;
	case EXPORT_MODE_RUN:
		break;
	}
	quiet = a.quiet;
	rc = export_prom_label_rules(a.label_rules, a.nlabel_rules);
	if (rc) {
		export_args_free(&a);
		return rc;
	}

	tool_keep_heap();
	static struct run r;
	r.a = &a;
	r.sigfd = -1;
	int status = 1;
	if (gname_prefix(r.prefix, 512, a.prefix) < 0) {
		fprintf(stderr,
		        PROG ": --prefix too long (at most 500 bytes)\n");
		status = 2;
		goto out;
	}
	r.cfg = (struct export_config){
		.prefix = r.prefix,
		.per_process = a.per_process,
		.all_owners = a.all_owners,
		.rates = a.rates,
		.meters = a.meters,
		.seed_names = a.seed_names,
		.rules = &a.rules,
	};
	r.sel.named_failed = calloc(a.nselectors + 1, sizeof(bool));
	if (selection_open(&r.sel, &a, &r.cfg)) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < a.nselectors; i++)
		if (scales_selector_kind(a.selectors[i], NULL) ==
		    SCALES_SELECTOR_PATH)
			r.sel.any_named_file = true;
	r.dests = calloc(a.ngraphite + 1, sizeof(*r.dests));
	if (!r.sel.named_failed || !r.dests) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < a.ngraphite; i++) {
		char err[256];
		if (gdest_init(&r.dests[i], a.graphite[i], err, sizeof(err))) {
			fprintf(stderr,
			        PROG ": %s\nTry 'scales-export --help'.\n",
			        err);
			status = 2;
			goto out;
		}
		r.nd++;
	}
	pb_init(&r.pb);
	r.tune = (struct gdest_tuning){
		.resend = a.resend,
		.backoff_min_ns = 500000000ull,
		.backoff_max_ns = (uint64_t)(a.backoff_max_s * 1e9),
		.timeout_ns = (uint64_t)(a.timeout_s * 1e9),
		.stall_ns = (uint64_t)((2.0 * a.period + a.timeout_s) * 1e9),
	};
	if (r.tune.backoff_min_ns > r.tune.backoff_max_ns)
		r.tune.backoff_min_ns = r.tune.backoff_max_ns;
	r.json.path = a.json_file;
	r.json.opt = "--json-file";
	r.textfile.path = a.textfile;
	r.textfile.opt = "--textfile";
	srandom((unsigned)(mono_ns() ^ ((uint64_t)getpid() << 16)));

	/* signals: TERM and INT stop us, through a signalfd; the mask is
	 * inherited by every thread started later (HTTP) */
	signal(SIGPIPE, SIG_IGN);
	sigset_t stopset;
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGTERM);
	sigaddset(&stopset, SIGINT);
	sigprocmask(SIG_BLOCK, &stopset, NULL);
	r.sigfd = signalfd(-1, &stopset, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r.sigfd < 0) {
		fprintf(stderr, PROG ": signalfd: %s\n", strerror(errno));
		goto out;
	}

	if (a.once) {
		self_open(&r.self,
		          &(struct export_args){ .no_self_metrics = true },
		          r.dests, r.nd);
		status = run_once(&r);
	} else {
		/* named segment files must be readable at the start, before
		 * any discovery warning */
		bool said = false;
		if (r.sel.any_named_file &&
		    tool_check_named((const char *const *)a.selectors,
		                     a.nselectors, named_bad, &said)) {
			status = 2;
			goto out;
		}
		self_open(&r.self, &a, r.dests, r.nd);
		bool http = false;
		if (a.http) {
			struct export_http_options ho = {
				.listen = a.http,
				.allow_remote = a.http_allow_remote,
				.dir = a.dir,
				.selectors = (const char *const *)a.selectors,
				.nselectors = a.nselectors,
				.per_process = a.per_process,
				.all_owners = a.all_owners,
				.history = a.http_history,
				.quiet = a.quiet,
			};
			int hrc = export_http_start(&ho);
			if (hrc) {
				status =
				    hrc == -EINVAL || hrc == -EACCES ? 2 : 1;
				goto out;
			}
			http = true;
		}
		status = run_loop(&r);
		if (http)
			export_http_stop();
	}
out:
	for (size_t i = 0; i < r.nd; i++)
		gdest_free(&r.dests[i]);
	free(r.dests);
	free(r.sel.named_failed);
	pb_free(&r.pb);
	scales_collector_free(&r.sel.col);
	self_close(&r.self);
	if (r.sigfd >= 0)
		close(r.sigfd);
	export_args_free(&a);
	return status;
}
