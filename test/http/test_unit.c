/* SPDX-License-Identifier: MIT */
/*
 * test/http/test_unit.c: the HTTP side's building blocks: Prometheus names
 * and escaping, HTML escaping and human numbers, path order, --http
 * address parsing, and the sampler plus /metrics rendering against real
 * segments written by libscales (one process, and two processes of one
 * app merged or not).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scales/scales.h>

#include "http_internal.h"

/* ---------------------------------------------------------------- names */

static void name_is(const char *path, enum prom_type t, unsigned unit,
                    const char *want)
{
	char got[PROM_NAME_MAX];
	prom_name(got, sizeof(got), path, t, unit);
	cr_expect_str_eq(got, want, "%s -> %s, want %s", path, got, want);
}

Test(prom_name, conventions)
{
	name_is("/web/errors", PROM_COUNTER, 0, "scales_web_errors_total");
	name_is("/web/currentTime", PROM_GAUGE, SCALES_UNIT_SECONDS,
	        "scales_web_current_time_seconds");
	name_is("/handler/latency", PROM_HISTOGRAM, SCALES_UNIT_SECONDS,
	        "scales_handler_latency_seconds");
	name_is("/processor/thread-0/finished", PROM_COUNTER, 0,
	        "scales_processor_thread_0_finished_total");
	name_is("/HTTPRequests/inFlight", PROM_GAUGE, 0,
	        "scales_http_requests_in_flight");
	name_is("/a/x.c:y@e+f%g", PROM_GAUGE, 0, "scales_a_x_c_y_e_f_g");
	name_is("/io/read", PROM_COUNTER, SCALES_UNIT_BYTES,
	        "scales_io_read_bytes_total");
	name_is("/x/seconds", PROM_HISTOGRAM, SCALES_UNIT_SECONDS,
	        "scales_x_seconds");
}

Test(prom_name, reserved_suffixes)
{
	name_is("/a/requests_total", PROM_COUNTER, 0,
	        "scales_a_requests_total");
	name_is("/a/total", PROM_GAUGE, 0, "scales_a_total_value");
	name_is("/pool/count", PROM_GAUGE, 0, "scales_pool_count_value");
	name_is("/pool/sum", PROM_HISTOGRAM, 0, "scales_pool_sum_value");
	name_is("/q/bucket", PROM_GAUGE, 0, "scales_q_bucket_value");
	name_is("/pool/count", PROM_COUNTER, 0, "scales_pool_count_total");
}

Test(prom_name, tokens_promtool_flags_are_glued)
{
	name_is("/cache/ms", PROM_GAUGE, 0, "scales_cachems");
	name_is("/x/latency_ms", PROM_HISTOGRAM, 0, "scales_x_latencyms");
	name_is("/q/gauge", PROM_GAUGE, 0, "scales_qgauge");
	name_is("/q/counter/x", PROM_COUNTER, 0, "scales_qcounter_x_total");
	name_is("/up/hours", PROM_GAUGE, 0, "scales_uphours");
	name_is("/disk/kilobytes", PROM_GAUGE, 0, "scales_diskkilobytes");
	/* "k" then "b": "kb" is flagged too, glued on */
	name_is("/a/k/b", PROM_GAUGE, 0, "scales_akb");
	/* first token: glued to the next, or given "metric" */
	name_is("/ms/x", PROM_GAUGE, 0, "scales_msx");
	name_is("/d", PROM_GAUGE, 0, "scales_dmetric");
}

/* ------------------------------------------------------------- escaping */

static char *escaped(void (*fn)(struct scales_buf *, const char *),
                     const char *s)
{
	struct scales_buf b = { 0 };
	fn(&b, s);
	scales_buf_append(&b, "", 1);
	return b.data;
}

Test(escape, prometheus_label_and_help)
{
	char *s = escaped(prom_label_escape, "a\"b\\c\nd");
	cr_expect_str_eq(s, "a\\\"b\\\\c\\nd");
	free(s);
	s = escaped(prom_help_escape, "a\"b\\c\nd");
	cr_expect_str_eq(s, "a\"b\\\\c\\nd");
	free(s);
	/* only invalid UTF-8 is replaced: a tab or another control
	 * character is a valid label value and stands as itself */
	s = escaped(prom_label_escape, "x\xffy\x01\t\rz\xc3\xa9");
	cr_expect_str_eq(s, "x\xef\xbf\xbdy\x01\t\rz\xc3\xa9");
	free(s);
	s = escaped(prom_help_escape, "a\tb\x7f\xc3");
	cr_expect_str_eq(s, "a\tb\x7f\xef\xbf\xbd");
	free(s);
	s = escaped(prom_label_escape, "<script>alert(1)</script>");
	cr_expect_str_eq(s, "<script>alert(1)</script>");
	free(s);
}

Test(escape, html)
{
	char *s = escaped(html_escape_str, "<script>alert('x')&\"</script>");
	cr_expect_str_eq(s, "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;"
	                    "&lt;/script&gt;");
	free(s);
	s = escaped(html_escape_str, "caf\xc3\xa9\x01\xfe\ttab");
	cr_expect_str_eq(s, "caf\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\ttab");
	free(s);
	s = escaped(url_path_encode, "/a b/<x>/%\"'");
	cr_expect_str_eq(s, "/a%20b/%3Cx%3E/%25%22%27");
	free(s);
}

/* A hand-made snapshot (as a hostile segment could give, past the reader's
 * checks): the app name and help are markup, in the page and in /metrics. */
Test(escape, hostile_app_name_everywhere)
{
	struct scales_metric m = { .side = &scales_no_side };
	m.path = "/a/x";
	m.kind = SCALES_KIND_COUNTER;
	m.v.u64 = 1;
	m.help = "<b>help</b>";
	struct scales_snapshot snap = { 0 };
	strcpy(snap.proc.app, "<script>x</script>\"'");
	snap.proc.pid = 42;
	snap.proc.alive = true;
	snap.segment_path = "/tmp/x.seg";
	snap.n = 1;
	snap.metrics = &m;
	struct scales_rate r = { NAN, NAN, NAN, NAN };
	struct hring *ring = NULL;
	struct hgroup g = { 0 };
	g.key = "k";
	g.snap = &snap;
	g.rates = &r;
	g.rings = &ring;
	size_t idx = 0;
	struct hsel sel = { &g, 1, &idx };
	struct hpage p = { 0 };
	p.path = "/a";
	p.query = "<q>\"";
	p.nonce = "abc";
	p.sels = &sel;
	p.nsels = 1;
	p.nprocesses = 1;
	p.history = 60;
	p.interval_ms = 1000;
	struct scales_buf b = { 0 };
	html_render_page(&b, &p);
	scales_buf_append(&b, "", 1);
	cr_assert(!b.oom);
	cr_expect(!strstr(b.data, "<script>x"), "%s", b.data);
	cr_expect(!strstr(b.data, "<b>help"));
	cr_expect(!strstr(b.data, "<q>"));
	cr_expect(strstr(b.data, "data-app=\"&lt;script&gt;x&lt;/script&gt;"
	                         "&quot;&#39;\""));
	cr_expect(
	    strstr(b.data, "<h2>&lt;script&gt;x&lt;/script&gt;&quot;&#39; "));
	cr_expect(strstr(b.data, "value=\"&lt;q&gt;&quot;\""));
	cr_expect(
	    strstr(b.data, "<span class=\"help\">&lt;b&gt;help&lt;/b&gt;"));
	/* exactly our own two script elements' worth of tags */
	int scripts = 0;
	for (const char *x = b.data; (x = strstr(x, "<script")); x++)
		scripts++;
	cr_expect_eq(scripts, 1);
	scales_buf_free(&b);

	cr_assert_eq(prom_render(&b, &g, 1, true), 0);
	scales_buf_append(&b, "", 1);
	cr_expect(strstr(b.data, "scales_a_x_total{app=\"<script>x</script>"
	                         "\\\"'\",pid=\"42\"} 1\n"),
	          "%s", b.data);
	cr_expect(
	    strstr(b.data, "# HELP scales_a_x_total <b>help</b> (/a/x)\n"));
	scales_buf_free(&b);
}

Test(html, path_order)
{
	cr_expect_lt(hpath_cmp("/a", "/a/b"), 0);
	cr_expect_lt(hpath_cmp("/a/b", "/a-b"), 0);
	cr_expect_lt(hpath_cmp("/a/z", "/a.b"), 0);
	cr_expect_eq(hpath_cmp("/a/b", "/a/b"), 0);
	cr_expect_gt(hpath_cmp("/b", "/a/b"), 0);
}

/* -------------------------------------------------------------- listen */

static int parse(const char *spec, bool allow, char *err, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len;
	return http_parse_listen(spec, allow, &ss, &len, err, n);
}

Test(listen, addresses)
{
	char err[256];
	cr_expect_eq(parse("127.0.0.1:8080", false, err, sizeof(err)), 0);
	cr_expect_eq(parse(":9", false, err, sizeof(err)), 0);
	cr_expect_eq(parse("9", false, err, sizeof(err)), 0);
	cr_expect_eq(parse("127.1.2.3:0", false, err, sizeof(err)), 0);
	cr_expect_eq(parse("[::1]:0", false, err, sizeof(err)), 0);
	cr_expect_eq(parse("localhost:0", false, err, sizeof(err)), 0);
	cr_expect_eq(parse("0.0.0.0:80", false, err, sizeof(err)), -EACCES);
	cr_expect(strstr(err, "not a loopback address"), "%s", err);
	cr_expect_eq(parse("0.0.0.0:80", true, err, sizeof(err)), 0);
	cr_expect_eq(parse("[::]:80", false, err, sizeof(err)), -EACCES);
	cr_expect_eq(parse("[::]:80", true, err, sizeof(err)), 0);
	cr_expect_eq(parse("192.0.2.1:80", false, err, sizeof(err)), -EACCES);
	cr_expect_eq(parse("1.2.3.4:99999", true, err, sizeof(err)), -EINVAL);
	cr_expect_eq(parse("abc", true, err, sizeof(err)), -EINVAL);
	cr_expect_eq(parse("::1:80", true, err, sizeof(err)), -EINVAL);
	cr_expect_eq(parse("[::1]80", true, err, sizeof(err)), -EINVAL);
	cr_expect_eq(parse("127.0.0.1:-1", true, err, sizeof(err)), -EINVAL);
}

/* ------------------------------------------- sampler and /metrics, live */

static char dir[] = "/tmp/scales-http-unit-XXXXXX";

static void setup_dir(void)
{
	cr_assert(mkdtemp(dir));
	setenv("SCALES_DIR", dir, 1);
}

static void teardown_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

static scales_registry *open_app(const char *app)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = app;
	o.dir = dir;
	o.flags = SCALES_NO_SAMPLER;
	scales_registry *r = NULL;
	cr_assert_eq(scales_open(&o, &r), 0);
	return r;
}

static char *metrics_text(bool per_process)
{
	struct export_http_options o = { 0 };
	o.dir = dir;
	o.per_process = per_process;
	struct hstate *st = hstate_new(&o);
	cr_assert(st);
	cr_assert_eq(hstate_sample(st), 0);
	struct scales_buf b = { 0 };
	cr_assert_eq(prom_render(&b, st->groups, st->ngroups, per_process), 0);
	scales_buf_append(&b, "", 1);
	hstate_free(st);
	return b.data;
}

/* The value of the sample line that starts with prefix (a whole series
 * name with its labels), or NAN. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *l = text; l && *l;
	     l = strchr(l, '\n'), l = l ? l + 1 : l)
		if (!strncmp(l, series, n) && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	return NAN;
}

Test(metrics, one_process, .init = setup_dir, .fini = teardown_dir)
{
	scales_registry *r = open_app("one");
	scales_counter c1, c2, c3;
	scales_histogram h;
	scales_dict d;
	cr_assert_eq(scales_counter_get(r, "/x_y", NULL, &c1), 0);
	cr_assert_eq(scales_counter_get(r, "/x.y", NULL, &c2), 0);
	cr_assert_eq(scales_counter_get(r, "/fooBar", NULL, &c3), 0);
	scales_counter_add(&c1, 1);
	scales_counter_add(&c2, 2);
	scales_counter_add(&c3, 3);
	cr_assert_eq(scales_histogram_get(r, "/lat",
	                                  &(struct scales_info){
	                                      "latency\nwith \\ newline",
	                                      SCALES_UNIT_SECONDS },
	                                  NULL, &h),
	             0);
	uint64_t vals[1000];
	for (int i = 0; i < 1000; i++) {
		vals[i] = (uint64_t)(i * i) * 997u + 13u; /* ns */
		scales_histogram_record(&h, vals[i]);
	}
	cr_assert_eq(scales_dict_get(r, "/status", NULL, &d), 0);
	cr_assert_eq(scales_dict_add(&d, "200", 5), 0);
	cr_assert_eq(scales_dict_add(&d, "404", 2), 0);

	char *t = metrics_text(false);
	/* /x_y is the plain spelling: it keeps the name */
	cr_expect_eq(sample(t, "scales_x_y_total{app=\"one\"}"), 1, "%s", t);
	cr_expect(strstr(t, "scales_x_y_p"), "%s", t);
	cr_expect_eq(sample(t, "scales_foo_bar_total{app=\"one\"}"), 3);
	cr_expect_eq(sample(t, "scales_status_total{app=\"one\",key=\"200\"}"),
	             5);
	cr_expect_eq(sample(t, "scales_status_total{app=\"one\",key=\"404\"}"),
	             2);
	cr_expect(strstr(t, "# HELP scales_lat_seconds latency\\nwith \\\\ "
	                    "newline (/lat)\n"),
	          "%s", t);
	cr_expect(strstr(t, "# TYPE scales_lat_seconds histogram\n"));
	cr_expect_eq(sample(t, "scales_lat_seconds_count{app=\"one\"}"), 1000);
	cr_expect_eq(sample(t, "scales_lat_seconds_bucket{app=\"one\","
	                       "le=\"+Inf\"}"),
	             1000);
	/* every le bucket counts exactly the values <= le */
	int buckets = 0;
	uint64_t prev = 0;
	for (const char *l = strstr(t, "scales_lat_seconds_bucket{"); l;
	     l = strstr(l + 1, "scales_lat_seconds_bucket{")) {
		const char *le = strstr(l, "le=\"");
		cr_assert(le);
		if (le[4] == '+')
			continue;
		double bound = strtod(le + 4, NULL);
		uint64_t raw = (uint64_t)llround(bound * 1e9);
		uint64_t want = 0;
		for (int i = 0; i < 1000; i++)
			want += vals[i] <= raw;
		const char *sp = strchr(l, ' ');
		uint64_t got = strtoull(sp + 1, NULL, 10);
		cr_expect_eq(got, want, "le %s: %llu, want %llu", le + 4,
		             (unsigned long long)got, (unsigned long long)want);
		cr_expect_geq(got, prev);
		prev = got;
		buckets++;
	}
	cr_expect_gt(buckets, 10);
	cr_expect_lt(buckets, 70, "one bucket per octave: %d", buckets);
	free(t);
	scales_close(&r);
}

/* Labels the writer declared (issue 14, item 1): labelled components
 * leave the name and become labels; a dict's keys take its key label; a
 * sum over the labelled scopes (no label) yields the name; values are
 * decoded and escaped; two processes of the app merge per label value. */
Test(metrics, writer_labels, .init = setup_dir, .fini = teardown_dir)
{
	scales_registry *r[1] = { open_app("lab") };
	for (int p = 0; p < 1; p++) {
		scales_scope *ep, *home, *odd, *shard;
		cr_assert_eq(scales_scope_root(r[p], &ep, "/endpoint"), 0);
		cr_assert_eq(scales_scope_labelled(ep, &home, "endpoint",
		                                   "home"),
		             0);
		/* the value "a\"b\\c" as a derived component */
		cr_assert_eq(scales_scope_labelled(ep, &odd, "endpoint",
		                                   "a%%22b%%5Cc"),
		             0);
		cr_assert_eq(scales_scope_labelled(odd, &shard, "shard", "s1"),
		             0);
		scales_histogram h;
		scales_counter c;
		struct scales_info secs = { "time", SCALES_UNIT_SECONDS };
		cr_assert_eq(scales_scope_histogram(home, "latency", &secs,
		                                    NULL, &h),
		             0);
		scales_histogram_record(&h, 1000);
		cr_assert_eq(scales_scope_histogram(odd, "latency", &secs, NULL,
		                                    &h),
		             0);
		scales_histogram_record(&h, 2000);
		cr_assert_eq(scales_scope_counter(home, "requests", NULL, &c),
		             0);
		scales_counter_add(&c, 3);
		cr_assert_eq(scales_scope_counter(shard, "hits", NULL, &c), 0);
		scales_counter_add(&c, 4);
		cr_assert_eq(scales_scope_sum(ep, "requests", NULL), 0);
		scales_dict d;
		cr_assert_eq(scales_scope_labelled_dict(home, "status", "code",
		                                        NULL, &d),
		             0);
		cr_assert_eq(scales_dict_add(&d, "404", 1), 0);
	}

	char *t = metrics_text(false);
	cr_expect_eq(sample(t, "scales_endpoint_latency_seconds_count{app="
	                       "\"lab\",endpoint=\"home\"}"),
	             1, "%s", t);
	cr_expect_eq(sample(t, "scales_endpoint_latency_seconds_count{app="
	                       "\"lab\",endpoint=\"a\\\"b\\\\c\"}"),
	             1, "%s", t);
	cr_expect_eq(sample(t, "scales_endpoint_requests_total{app=\"lab\","
	                       "endpoint=\"home\"}"),
	             3, "%s", t);
	/* labels accumulate down nested labelled scopes */
	cr_expect_eq(sample(t, "scales_endpoint_hits_total{app=\"lab\","
	                       "endpoint=\"a\\\"b\\\\c\",shard=\"s1\"}"),
	             4, "%s", t);
	cr_expect(!strstr(t, "scales_endpoint_requests_total{app=\"lab\","
	                     "endpoint=\"a"),
	          "%s", t);
	/* the sum has no endpoint label: it yields the name */
	cr_expect(strstr(t, "scales_endpoint_requests_p"), "%s", t);
	cr_expect_eq(sample(t, "scales_endpoint_status_total{app=\"lab\","
	                       "endpoint=\"home\",code=\"404\"}"),
	             1, "%s", t);
	cr_expect(strstr(t, "# HELP scales_endpoint_latency_seconds time "
	                    "(/endpoint/<endpoint>/latency)\n"),
	          "%s", t);
	cr_expect(!strstr(t, "endpoint_home"), "%s", t);
	free(t);
	scales_close(&r[0]);
}

/* Label rules (issue 14, item 2): paths of a writer that declares no
 * labels get them from the first matching rule; declared labels win;
 * bad rules are refused. */
Test(metrics, label_rules, .init = setup_dir, .fini = teardown_dir)
{
	char *bad[] = { "/a/* ",      "/a/*",     "a/* x", "/a/* le",
		        "/a/*/* x,x", "/a/* x,y", "/* x",  "/a/* 9x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(export_prom_label_rules(&bad[i], 1), 2, "%s",
		             bad[i]);
	char *good[] = { "/web/*/requests handler", "/db/*/*/q* db,op",
		         "/web/*/hits page" };
	cr_assert_eq(export_prom_label_rules(good, 3), 0);

	scales_registry *r = open_app("rules");
	scales_counter c;
	const char *paths[] = { "/web/home/requests", "/web/search/requests",
		                "/db/main/get/queries", "/web/x%25y/hits",
		                "/db/main/get/other" };
	for (size_t i = 0; i < 5; i++) {
		cr_assert_eq(scales_counter_get(r, paths[i], NULL, &c), 0);
		scales_counter_add(&c, i + 1);
	}
	scales_scope *w, *lab;
	cr_assert_eq(scales_scope_root(r, &w, "/web"), 0);
	cr_assert_eq(scales_scope_labelled(w, &lab, "route", "api"), 0);
	cr_assert_eq(scales_scope_counter(lab, "hits", NULL, &c), 0);
	scales_counter_add(&c, 9);

	char *t = metrics_text(false);
	cr_expect_eq(sample(t, "scales_web_requests_total{app=\"rules\","
	                       "handler=\"home\"}"),
	             1, "%s", t);
	cr_expect_eq(sample(t, "scales_web_requests_total{app=\"rules\","
	                       "handler=\"search\"}"),
	             2, "%s", t);
	cr_expect_eq(sample(t, "scales_db_queries_total{app=\"rules\","
	                       "db=\"main\",op=\"get\"}"),
	             3, "%s", t);
	/* the second rule's q* does not match "other": no labels */
	cr_expect_eq(sample(t, "scales_db_main_get_other_total{app=\"rules\"}"),
	             5, "%s", t);
	/* a third rule: the value decoded; the writer's list (route) is
	 * another family of the same name: both renamed */
	cr_expect(strstr(t, "{app=\"rules\",page=\"x%y\"} 4\n"), "%s", t);
	/* the writer's own labels win over a rule */
	cr_expect(strstr(t, "{app=\"rules\",route=\"api\"} 9\n"), "%s", t);
	free(t);
	cr_assert_eq(export_prom_label_rules(NULL, 0), 0);
	scales_close(&r);
}

Test(metrics, app_merged_or_per_process, .init = setup_dir,
     .fini = teardown_dir)
{
	int go[2], done[2];
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(done), 0);
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		scales_registry *r = open_app("pre-fork");
		scales_counter c;
		scales_state s;
		scales_counter_get(r, "/requests", NULL, &c);
		scales_counter_add(&c, 5);
		scales_state_get(r, "/state", NULL, &s);
		scales_state_set_str(&s, "busy");
		char x = 1;
		if (write(go[1], &x, 1) != 1)
			_exit(1);
		if (read(done[0], &x, 1) < 0)
			_exit(1);
		scales_close(&r);
		_exit(0);
	}
	char x;
	cr_assert_eq(read(go[0], &x, 1), 1);
	scales_registry *r = open_app("pre-fork");
	scales_counter c;
	scales_state s;
	scales_counter_get(r, "/requests", NULL, &c);
	scales_counter_add(&c, 3);
	scales_state_get(r, "/state", NULL, &s);
	scales_state_set_str(&s, "idle");

	char *t = metrics_text(false);
	cr_expect_eq(sample(t, "scales_requests_total{app=\"pre-fork\"}"), 8,
	             "%s", t);
	cr_expect_eq(sample(t, "scales_state{app=\"pre-fork\",state=\"busy\"}"),
	             1, "%s", t);
	cr_expect_eq(sample(t, "scales_state{app=\"pre-fork\",state=\"idle\"}"),
	             1);
	free(t);

	t = metrics_text(true);
	char series[128];
	snprintf(series, sizeof(series),
	         "scales_requests_total{app=\"pre-fork\",pid=\"%d\"}",
	         (int)getpid());
	cr_expect_eq(sample(t, series), 3, "%s", t);
	snprintf(series, sizeof(series),
	         "scales_requests_total{app=\"pre-fork\",pid=\"%d\"}",
	         (int)child);
	cr_expect_eq(sample(t, series), 5, "%s", t);
	/* one # TYPE line for the family of both series */
	const char *ty = strstr(t, "# TYPE scales_requests_total counter\n");
	cr_expect(ty);
	cr_expect(!strstr(ty + 1, "# TYPE scales_requests_total "));
	free(t);

	cr_assert_eq(write(done[1], &x, 1), 1);
	int status;
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	scales_close(&r);
}

Test(sampler, rates_and_sparklines, .init = setup_dir, .fini = teardown_dir)
{
	scales_registry *r = open_app("spark");
	scales_counter c;
	scales_histogram h;
	scales_counter_get(r, "/c", NULL, &c);
	scales_histogram_get(r, "/h", NULL, NULL, &h);
	struct export_http_options o = { 0 };
	o.dir = dir;
	o.history = 4;
	struct hstate *st = hstate_new(&o);
	cr_assert(st);
	for (int round = 0; round < 6; round++) {
		scales_counter_add(&c, 10);
		if (round >= 2)
			scales_histogram_record(&h,
			                        1000u * (uint64_t)(round + 1));
		cr_assert_eq(hstate_sample(st), 0);
	}
	cr_assert_eq(st->ngroups, 1);
	const struct hgroup *g = &st->groups[0];
	const struct scales_metric *mc = scales_snapshot_find(g->snap, "/c");
	const struct scales_metric *mh = scales_snapshot_find(g->snap, "/h");
	cr_assert(mc && mh);
	double v[4];
	unsigned n = hring_values(g->rings[mc - g->snap->metrics], 4, v);
	cr_expect_eq(n, 4, "history keeps 4 samples");
	for (unsigned i = 0; i < n; i++)
		cr_expect(isfinite(v[i]) && v[i] > 0, "rate %u: %g", i, v[i]);
	n = hring_values(g->rings[mh - g->snap->metrics], 4, v);
	cr_assert_eq(n, 4);
	/* p99 of each interval: the one value recorded in it (+-2%) */
	for (unsigned i = 0; i < n; i++) {
		double want = 1000.0 * (i + 3);
		cr_expect(fabs(v[i] - want) <= 0.02 * want, "p99 %u: %g", i,
		          v[i]);
	}
	hstate_free(st);
	scales_close(&r);
}
