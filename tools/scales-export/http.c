/* SPDX-License-Identifier: MIT */
/*
 * http.c: the HTTP side of scales-export (see http.h): libmicrohttpd, the
 * routes and the sampling thread. The samples are taken by http_sample.c,
 * the listening address is parsed and bound by http_listen.c, and the pages
 * themselves are rendered by html.c and prom.c.
 *
 * Threads: libmicrohttpd's one internal thread runs every request; the
 * sampling thread runs hstate_sample() every interval. Both block the
 * asynchronous signals, so that scales-export's main thread receives them.
 * A request renders under the state lock (a few milliseconds for
 * thousands of metrics), then hands the buffer to libmicrohttpd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http_internal.h"

#define CT_HTML "text/html; charset=utf-8"
#define CT_JSON "application/json"
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_PROM "text/plain; version=0.0.4; charset=utf-8"

static struct {
	bool started;
	struct hstate *st;
	struct MHD_Daemon *daemon;
	int fd;
	unsigned port;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool cv_inited;
	bool stop;
	bool quiet;
} H = { .fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER };

static void nonce_make(char *out, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	                          "qrstuvwxyz0123456789+/";
	unsigned char r[18];
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t x = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^
		             (uint64_t)ts.tv_sec ^ (uint64_t)getpid() << 32;
		for (size_t i = 0; i < sizeof(r); i++) {
			x ^= x >> 29;
			x *= 0xbf58476d1ce4e5b9ull;
			r[i] = (unsigned char)(x >> 56);
		}
	}
	size_t o = 0;
	for (size_t i = 0; i + 2 < sizeof(r) && o + 4 < len; i += 3) {
		uint32_t v =
		    (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 | r[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	out[o] = 0;
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status,
                                const char *type, struct scales_buf *b,
                                const char *nonce)
{
	struct MHD_Response *r;
	if (b->oom) {
		scales_buf_free(b);
		static const char oom[] = "out of memory\n";
		r = MHD_create_response_from_buffer(sizeof(oom) - 1,
		                                    (void *)oom,
		                                    MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		type = CT_TEXT;
	} else if (b->len) {
		r = MHD_create_response_from_buffer(b->len, b->data,
		                                    MHD_RESPMEM_MUST_FREE);
		if (r)
			b->data = NULL; /* owned by the response now */
		scales_buf_free(b);
	} else {
		r = MHD_create_response_from_buffer(0, (void *)"",
		                                    MHD_RESPMEM_PERSISTENT);
	}
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	char csp[256];
	if (nonce)
		snprintf(csp, sizeof(csp),
		         "default-src 'none'; script-src 'nonce-%s'; "
		         "style-src 'nonce-%s'; connect-src 'self'; "
		         "img-src 'self' data:; form-action 'self'; "
		         "base-uri 'none'; frame-ancestors 'none'",
		         nonce, nonce);
	else
		snprintf(csp, sizeof(csp),
		         "default-src 'none'; frame-ancestors 'none'");
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status,
                                  const char *title, const char *detail,
                                  bool json)
{
	struct scales_buf b = { 0 };
	if (json) {
		buf_puts(&b, "{\"error\":");
		char msg[512];
		snprintf(msg, sizeof(msg), "%u %s: %s", status, title, detail);
		scales_json_string(&b, msg, strlen(msg));
		buf_puts(&b, "}\n");
		return send_buf(c, status, CT_JSON, &b, NULL);
	}
	char nonce[32];
	nonce_make(nonce, sizeof(nonce));
	html_render_error(&b, status, title, detail, nonce);
	return send_buf(c, status, CT_HTML, &b, nonce);
}

static bool has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Is path inside the subtree sub ("/" is everything)? */
static bool in_subtree(const char *path, const char *sub, size_t sublen)
{
	if (sublen == 1 && sub[0] == '/')
		return true;
	return !strncmp(path, sub, sublen) &&
	       (path[sublen] == 0 || path[sublen] == '/');
}

struct request {
	const char *path; /* normalised */
	size_t pathlen;
	const char *query; /* NULL or non-empty */
	char *glob;        /* query as a glob */
};

static int idx_cmp(const void *a, const void *b, void *ctx)
{
	const struct scales_metric *ms = ctx;
	return hpath_cmp(ms[*(const size_t *)a].path,
	                 ms[*(const size_t *)b].path);
}

/* Selects the metrics of every group the request shows (state locked).
 * *exists: some group has the subtree. Returns the number of selections
 * or -ENOMEM. */
static ssize_t select_groups(const struct hgroup *groups, size_t ngroups,
                             const struct request *q, bool tree_order,
                             struct hsel **out, bool *exists)
{
	struct hsel *sels = calloc(ngroups ? ngroups : 1, sizeof(*sels));
	if (!sels)
		return -ENOMEM;
	*exists = *exists || !strcmp(q->path, "/");
	size_t ns = 0;
	const char *glob = q->glob;
	for (size_t i = 0; i < ngroups; i++) {
		const struct hgroup *g = &groups[i];
		struct hsel *s = &sels[ns];
		s->g = g;
		s->idx = calloc(g->snap->n ? g->snap->n : 1, sizeof(size_t));
		if (!s->idx) {
			for (size_t k = 0; k < ns; k++)
				free(sels[k].idx);
			free(sels);
			return -ENOMEM;
		}
		for (size_t k = 0; k < g->snap->n; k++) {
			const char *p = g->snap->metrics[k].path;
			if (!in_subtree(p, q->path, q->pathlen))
				continue;
			*exists = true;
			if (glob && !scales_path_match(&glob, 1, p))
				continue;
			s->idx[s->n++] = k;
		}
		if (!s->n && (strcmp(q->path, "/") || q->query)) {
			free(s->idx);
			s->idx = NULL;
			continue;
		}
		if (tree_order)
			qsort_r(s->idx, s->n, sizeof(size_t), idx_cmp,
			        g->snap->metrics);
		ns++;
	}
	*out = sels;
	return (ssize_t)ns;
}

static void free_sels(struct hsel *sels, size_t n)
{
	for (size_t i = 0; sels && i < n; i++)
		free(sels[i].idx);
	free(sels);
}

/* The scales-top --json document of the selection, through the reader
 * library's renderer, on shallow copies of the snapshots that hold only
 * the selected metrics. */
static int render_json(struct scales_buf *b, const struct hsel *sels, size_t n,
                       bool pretty)
{
	struct scales_snapshot *copies = calloc(n ? n : 1, sizeof(*copies));
	const struct scales_snapshot **snaps =
	    calloc(n ? n : 1, sizeof(*snaps));
	const struct scales_rate **rates = calloc(n ? n : 1, sizeof(*rates));
	struct scales_rate **rbufs = calloc(n ? n : 1, sizeof(*rbufs));
	int rc = copies && snaps && rates && rbufs ? 0 : -ENOMEM;
	for (size_t i = 0; !rc && i < n; i++) {
		const struct hgroup *g = sels[i].g;
		struct scales_metric *ms =
		    calloc(sels[i].n ? sels[i].n : 1, sizeof(*ms));
		rbufs[i] = calloc(sels[i].n ? sels[i].n : 1, sizeof(**rbufs));
		copies[i] = *g->snap;
		copies[i].metrics = ms;
		copies[i].n = sels[i].n;
		if (!ms || !rbufs[i]) {
			rc = -ENOMEM;
			break;
		}
		for (size_t k = 0; k < sels[i].n; k++) {
			ms[k] = g->snap->metrics[sels[i].idx[k]];
			rbufs[i][k] = g->rates[sels[i].idx[k]];
		}
		snaps[i] = &copies[i];
		rates[i] = rbufs[i];
	}
	if (!rc)
		rc = scales_json_render(b, snaps, rates, n,
		                        pretty ? SCALES_JSON_PRETTY : 0);
	if (!rc)
		buf_puts(b, "\n");
	for (size_t i = 0; copies && i < n; i++)
		free(copies[i].metrics);
	for (size_t i = 0; rbufs && i < n; i++)
		free(rbufs[i]);
	free(copies);
	free(snaps);
	free(rates);
	free(rbufs);
	return rc;
}

enum format {
	F_HTML,
	F_JSON,
	F_PRETTY,
	F_HISTORY
};

static enum MHD_Result serve_metrics(struct MHD_Connection *c)
{
	struct scales_buf b = { 0 };
	pthread_mutex_lock(&H.st->lock);
	int rc =
	    prom_render(&b, H.st->groups, H.st->ngroups, H.st->per_process);
	pthread_mutex_unlock(&H.st->lock);
	if (rc)
		b.oom = true;
	return send_buf(c, MHD_HTTP_OK, CT_PROM, &b, NULL);
}

/*
 * libmicrohttpd decodes the URL into a C string, so "/a%00b" would reach
 * handle() as "/a" and serve another subtree. The raw URI is seen here
 * first; what this returns is the request's first *con_cls.
 */
static int uri_ok, uri_nul, uri_later, uri_nul_later;

static void *uri_seen(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	(void)c;
	return uri && strstr(uri, "%00") ? &uri_nul : &uri_ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
	(void)cls;
	(void)version;
	(void)upload_data;
	/* The first call comes with the headers: answering then would make
	 * libmicrohttpd close the connection (a body might follow). Answer
	 * on the second call; a body (not expected) is read and dropped.
	 * *con_cls starts as what uri_seen() returned. */
	if (*con_cls != &uri_later && *con_cls != &uri_nul_later) {
		*con_cls = *con_cls == &uri_nul ? &uri_nul_later : &uri_later;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	const char *fmt =
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
	enum format f = F_HTML;
	bool json_err = false;
	if (fmt && !strcmp(fmt, "json"))
		f = F_JSON;
	else if (fmt && !strcmp(fmt, "prettyjson"))
		f = F_PRETTY;
	else if (fmt && !strcmp(fmt, "history"))
		f = F_HISTORY;
	else if (fmt && *fmt && strcmp(fmt, "html"))
		return send_error(c, MHD_HTTP_BAD_REQUEST, "Bad Request",
		                  "format must be html, json, prettyjson or "
		                  "history",
		                  false);
	json_err = f != F_HTML;

	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		                  "Method Not Allowed", "use GET or HEAD",
		                  json_err);

	if (!url || url[0] != '/')
		return send_error(c, MHD_HTTP_BAD_REQUEST, "Bad Request",
		                  "the path must start with /", json_err);
	if (*con_cls == &uri_nul_later)
		return send_error(c, MHD_HTTP_BAD_REQUEST, "Bad Request",
		                  "the request holds %00 (a NUL byte)",
		                  json_err);
	if (!strcmp(url, "/metrics") && !fmt)
		return serve_metrics(c);

	/* normalise: no trailing "/" but for the root */
	struct request q = { 0 };
	q.path = url;
	q.pathlen = strlen(url);
	while (q.pathlen > 1 && url[q.pathlen - 1] == '/')
		q.pathlen--;
	char *path = strndup(url, q.pathlen);
	if (!path)
		return MHD_NO;
	q.path = path;
	const char *query =
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "query");
	q.query = query && *query ? query : NULL;
	if (q.query) {
		size_t ql = strlen(q.query);
		q.glob = malloc(ql + 3);
		if (!q.glob) {
			free(path);
			return MHD_NO;
		}
		if (has_glob_chars(q.query))
			memcpy(q.glob, q.query, ql + 1);
		else
			snprintf(q.glob, ql + 3, "*%s*", q.query);
	}
	const char *refresh =
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "refresh");

	struct scales_buf b = { 0 };
	struct hsel *sels = NULL;
	bool exists = false;
	char nonce[32] = "";
	pthread_mutex_lock(&H.st->lock);
	ssize_t ns = select_groups(H.st->groups, H.st->ngroups, &q, f == F_HTML,
	                           &sels, &exists);
	int rc = ns < 0 ? (int)ns : 0;
	/* the page lists the dead processes too (a path only they have is
	 * found) */
	struct hsel *dsels = NULL;
	ssize_t nd = 0;
	if (!rc && f == F_HTML) {
		nd = select_groups(H.st->dead, H.st->ndead, &q, true, &dsels,
		                   &exists);
		rc = nd < 0 ? (int)nd : 0;
	}
	if (!rc && exists) {
		switch (f) {
		case F_HTML: {
			nonce_make(nonce, sizeof(nonce));
			struct hpage p = {
				.path = q.path,
				.query = q.query,
				.refresh = refresh && !strcmp(refresh, "1"),
				.nonce = nonce,
				.sels = sels,
				.nsels = (size_t)ns,
				.nprocesses = H.st->ngroups,
				.history = H.st->history,
				.keep = H.st->keep,
				.interval_ms = H.st->interval_ms,
				.real_ns = H.st->sample_real_ns,
				.dir = H.st->dir ? H.st->dir :
				                   getenv("SCALES_DIR"),
				.dead = dsels,
				.ndead = nd > 0 ? (size_t)nd : 0,
			};
			html_render_page(&b, &p);
			break;
		}
		case F_JSON:
		case F_PRETTY:
			rc = render_json(&b, sels, (size_t)ns, f == F_PRETTY);
			break;
		case F_HISTORY:
			history_render_json(&b, sels, (size_t)ns, H.st->history,
			                    H.st->interval_ms);
			break;
		}
	}
	pthread_mutex_unlock(&H.st->lock);
	if (ns > 0)
		free_sels(sels, (size_t)ns);
	else
		free(sels);
	if (nd > 0)
		free_sels(dsels, (size_t)nd);
	else
		free(dsels);
	enum MHD_Result ret;
	if (rc) {
		scales_buf_free(&b);
		b.oom = true;
		ret = send_buf(c, MHD_HTTP_OK, CT_TEXT, &b, NULL);
	} else if (!exists) {
		char detail[600];
		snprintf(detail, sizeof(detail),
		         "No process has a metric at or under %s.", q.path);
		ret = send_error(c, MHD_HTTP_NOT_FOUND, "Not Found", detail,
		                 json_err);
	} else if (f == F_HTML) {
		ret = send_buf(c, MHD_HTTP_OK, CT_HTML, &b, nonce);
	} else {
		ret = send_buf(c, MHD_HTTP_OK, CT_JSON, &b, NULL);
	}
	free(q.glob);
	free(path);
	return ret;
}

/* ------------------------------------------------------------- threads */

static void block_signals(sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	/* faults stay deliverable: the reader's SIGBUS guard needs them */
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_BLOCK, &all, old);
}

static void *sampler(void *arg)
{
	(void)arg;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&H.mu);
	while (!H.stop) {
		uint64_t ns = (uint64_t)next.tv_nsec +
		              (uint64_t)H.st->interval_ms * 1000000u;
		next.tv_sec += (time_t)(ns / 1000000000u);
		next.tv_nsec = (long)(ns % 1000000000u);
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec ||
		    (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec))
			next = now; /* late: do not try to catch up */
		while (!H.stop &&
		       pthread_cond_timedwait(&H.cv, &H.mu, &next) != ETIMEDOUT)
			;
		if (H.stop)
			break;
		pthread_mutex_unlock(&H.mu);
		if (hstate_sample(H.st) == -ENOMEM)
			fprintf(stderr,
			        "scales-export: http: sampling: out of "
			        "memory (keeping the previous sample)\n");
		pthread_mutex_lock(&H.mu);
	}
	pthread_mutex_unlock(&H.mu);
	return NULL;
}

/* libmicrohttpd's messages, at most 10 a minute: a flood of clients
 * (each refused connection is a message) must not flood the log too. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static time_t window;
	static unsigned shown, dropped;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&mu);
	if (ts.tv_sec - window >= 60) {
		if (dropped)
			fprintf(stderr,
			        "scales-export: http: %u more messages "
			        "suppressed\n",
			        dropped);
		window = ts.tv_sec;
		shown = dropped = 0;
	}
	bool show = shown < 10;
	if (show)
		shown++;
	else
		dropped++;
	pthread_mutex_unlock(&mu);
	if (!show)
		return;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	fprintf(stderr, "scales-export: http: %s\n", msg);
}

unsigned export_http_port(void)
{
	return H.started ? H.port : 0;
}

/*
 * Slow clients (slowloris) hold a connection each, and a request is
 * answered only while one is free. Defences (docs/http.md): a connection
 * idle for HTTP_IDLE_TIMEOUT_S is closed, one client address holds at most
 * HTTP_PER_IP_CONNECTIONS, and the total is large (epoll makes an idle
 * connection cost no time), so that several hundred tricklers from many
 * addresses still leave room for a scrape.
 */
#define HTTP_MAX_CONNECTIONS 2000
#define HTTP_PER_IP_CONNECTIONS 32
#define HTTP_IDLE_TIMEOUT_S 10

/* The connection limit: HTTP_MAX_CONNECTIONS, the open-file limit raised
 * towards it if needed, less room for the segments and the rest. */
static unsigned http_connection_limit(void)
{
	const rlim_t spare = 256;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 128;
	rlim_t want = HTTP_MAX_CONNECTIONS + spare;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		struct rlimit n = rl;
		n.rlim_cur =
		    rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ?
		        want :
		        rl.rlim_max;
		if (!setrlimit(RLIMIT_NOFILE, &n))
			rl = n;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return HTTP_MAX_CONNECTIONS;
	return rl.rlim_cur > spare + 64 ? (unsigned)(rl.rlim_cur - spare) : 64;
}

int export_http_start(const struct export_http_options *o)
{
	if (H.started)
		return -EALREADY;
	if (!o)
		return -EINVAL;
	const char *spec = o->listen && *o->listen ? o->listen : "127.0.0.1:0";
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	char err[512];
	int rc = http_parse_listen(spec, o->allow_remote, &ss, &sslen, err,
	                           sizeof(err));
	if (rc) {
		fprintf(stderr, "scales-export: --http: %s\n", err);
		return rc;
	}
	if (o->history > HTTP_HISTORY_MAX) {
		fprintf(stderr,
		        "scales-export: --http: history %u is more "
		        "than %u samples\n",
		        o->history, HTTP_HISTORY_MAX);
		return -EINVAL;
	}
	H.st = hstate_new(o);
	if (!H.st) {
		fprintf(stderr, "scales-export: --http: out of memory\n");
		return -ENOMEM;
	}
	H.quiet = o->quiet;
	/* the first sample before the first request */
	if ((rc = hstate_sample(H.st))) {
		fprintf(stderr, "scales-export: --http: first sample: %s\n",
		        strerror(-rc));
		goto fail;
	}
	int fd = http_listen_socket(&ss, sslen, spec);
	if (fd < 0) {
		rc = fd;
		goto fail;
	}
	H.fd = fd;
	struct sockaddr_storage bound;
	socklen_t bl = sizeof(bound);
	char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";
	if (!getsockname(fd, (struct sockaddr *)&bound, &bl)) {
		getnameinfo((struct sockaddr *)&bound, bl, host, sizeof(host),
		            serv, sizeof(serv),
		            NI_NUMERICHOST | NI_NUMERICSERV);
		H.port = bound.ss_family == AF_INET6 ?
		             ntohs(((struct sockaddr_in6 *)&bound)->sin6_port) :
		             ntohs(((struct sockaddr_in *)&bound)->sin_port);
	}

	sigset_t old;
	block_signals(&old);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&H.cv, &ca);
	pthread_condattr_destroy(&ca);
	H.cv_inited = true;
	H.stop = false;
	/* AUTO: epoll where there is one, so connections are not bounded by
	 * select()'s FD_SETSIZE */
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (bound.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	unsigned limit = http_connection_limit();
	H.daemon = MHD_start_daemon(
	    flags, 0, NULL, NULL, handle, NULL, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, NULL, MHD_OPTION_URI_LOG_CALLBACK, uri_seen, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)HTTP_PER_IP_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)HTTP_IDLE_TIMEOUT_S, MHD_OPTION_END);
	if (!H.daemon) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		fprintf(stderr,
		        "scales-export: --http %s: libmicrohttpd did "
		        "not start\n",
		        spec);
		rc = -EIO;
		goto fail;
	}
	H.fd = -1; /* the daemon's now */
	rc = pthread_create(&H.thread, NULL, sampler, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		fprintf(stderr, "scales-export: --http: sampling thread: %s\n",
		        strerror(rc));
		rc = -rc;
		goto fail;
	}
	H.thread_started = true;
	H.started = true;
	if (!H.quiet) {
		bool v6 = bound.ss_family == AF_INET6;
		fprintf(stderr, "scales-export: serving http://%s%s%s:%s/\n",
		        v6 ? "[" : "", host, v6 ? "]" : "", serv);
	}
	return 0;
fail:
	H.started = true; /* let stop clean up */
	export_http_stop();
	return rc;
}

void export_http_stop(void)
{
	if (!H.started)
		return;
	if (H.daemon) {
		MHD_stop_daemon(H.daemon);
		H.daemon = NULL;
		/* the daemon closes a listen socket it was given */
		H.fd = -1;
	}
	if (H.fd >= 0) {
		close(H.fd);
		H.fd = -1;
	}
	if (H.thread_started) {
		pthread_mutex_lock(&H.mu);
		H.stop = true;
		pthread_cond_broadcast(&H.cv);
		pthread_mutex_unlock(&H.mu);
		pthread_join(H.thread, NULL);
		H.thread_started = false;
	}
	if (H.cv_inited) {
		pthread_cond_destroy(&H.cv);
		H.cv_inited = false;
	}
	hstate_free(H.st);
	H.st = NULL;
	H.port = 0;
	H.started = false;
}
