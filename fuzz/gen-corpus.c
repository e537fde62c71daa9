/* SPDX-License-Identifier: MIT */
/*
 * gen-corpus: writes the fuzzer's seed segments with libscales (small
 * registries, so that the seeds stay a few tens of KiB): counters, gauges,
 * states, histograms, retired and reused entries, aggregates and dicts, a
 * full segment, and a mix. Each is kept (SCALES_KEEP_SEGMENT) and copied
 * to OUTDIR/seed-<name>. Plus two compact images laid out by hand after
 * shm/scales_shm.h with the smallest regions a segment can have (the
 * header's page, then 8 entries of every kind with an aggregate, in 9 KiB;
 * and no entry at all): mutations of small seeds hit the header and the
 * entries far more often than mutations of 32 KiB of mostly zeros.
 *
 *   gen-corpus OUTDIR     (test/data/corpus/ holds its output, committed)
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scales/scales.h>

#include "scales_shm.h"

static const char *outdir;
static char tmpdir[] = "/tmp/scales-gencorpus-XXXXXX";

static void die(const char *what, int rc)
{
	fprintf(stderr, "gen-corpus: %s: %s\n", what, scales_strerror(rc));
	exit(1);
}

#define OK(call)                                                               \
	do {                                                                   \
		int rc_ = (call);                                              \
		if (rc_)                                                       \
			die(#call, rc_);                                       \
	} while (0)

static scales_registry *reg_open(const char *app, uint32_t entries,
                                 uint64_t stripe)
{
	struct scales_options o;
	scales_options_init(&o);
	o.app = app;
	o.dir = tmpdir;
	o.flags = SCALES_KEEP_SEGMENT | SCALES_NO_SAMPLER;
	o.max_entries = entries;
	o.stripe_bytes = stripe;
	o.data_bytes = 4096;
	o.string_bytes = 4096;
	scales_registry *reg;
	OK(scales_open(&o, &reg));
	return reg;
}

static void keep(scales_registry **reg, const char *name)
{
	char from[4096], to[4096];
	snprintf(from, sizeof from, "%s", scales_registry_path(*reg));
	OK(scales_close(reg));
	snprintf(to, sizeof to, "%s/seed-%s", outdir, name);
	/* copy, not rename: OUTDIR may be on another file system. Only the
	 * header's capacity: the writer's space reservations may have made
	 * the file longer (BUG-H5), and smaller seeds fuzz faster. */
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	if (!in || !out)
		die(to, -errno);
	uint64_t cap = 0;
	if (fseek(in, 112, SEEK_SET) || fread(&cap, 8, 1, in) != 1 ||
	    fseek(in, 0, SEEK_SET))
		die(from, -EIO);
	char buf[65536];
	size_t n;
	while (cap &&
	       (n = fread(buf, 1, cap < sizeof buf ? (size_t)cap : sizeof buf,
	                  in)) > 0) {
		if (fwrite(buf, 1, n, out) != n)
			die(to, -EIO);
		cap -= n;
	}
	if (fclose(out) != 0)
		die(to, -errno);
	fclose(in);
	unlink(from);
	printf("%s\n", to);
}

static double cb(void *arg)
{
	return *(double *)arg;
}

static void counters(void)
{
	scales_registry *r = reg_open("counters", 16, 4096);
	scales_counter c;
	struct scales_info info = { "Requests served", SCALES_UNIT_NONE };
	OK(scales_counter_get(r, "/c/requests", &info, &c));
	scales_counter_add(&c, 12345);
	struct scales_info bytes = { "Bytes out", SCALES_UNIT_BYTES };
	OK(scales_counter_get(r, "/c/bytes", &bytes, &c));
	scales_counter_add(&c, 1ull << 40);
	OK(scales_counter_get(r, "/c/zero", NULL, &c));
	OK(scales_counter_get(r, "/c/huge", NULL, &c));
	scales_counter_add(&c, UINT64_MAX / 2);
	scales_counter_add(&c, UINT64_MAX / 2);
	OK(scales_counter_get(r, "/c/a.b:c@d+e%f_g-h", NULL, &c));
	scales_counter_inc(&c);
	keep(&r, "counters");
}

static void gauges(void)
{
	scales_registry *r = reg_open("gauges", 16, 4096);
	scales_gauge g;
	scales_gauge_f64 f;
	OK(scales_gauge_get(r, "/g/temp", NULL, &g));
	scales_gauge_set(&g, -40);
	OK(scales_gauge_get(r, "/g/max", NULL, &g));
	scales_gauge_set(&g, INT64_MAX);
	OK(scales_gauge_get(r, "/g/min", NULL, &g));
	scales_gauge_set(&g, INT64_MIN);
	OK(scales_gauge_f64_get(r, "/g/ratio", NULL, &f));
	scales_gauge_f64_set(&f, 0.25);
	OK(scales_gauge_f64_get(r, "/g/nan", NULL, &f));
	scales_gauge_f64_set(&f, NAN);
	OK(scales_gauge_f64_get(r, "/g/inf", NULL, &f));
	scales_gauge_f64_set(&f, -INFINITY);
	OK(scales_gauge_f64_get(r, "/g/tiny", NULL, &f));
	scales_gauge_f64_set(&f, 5e-324);
	static double v = 3.5;
	struct scales_info secs = { "Uptime", SCALES_UNIT_SECONDS };
	OK(scales_gauge_callback(r, "/g/cb", &secs, cb, &v));
	OK(scales_sample(r));
	keep(&r, "gauges");
}

static void states(void)
{
	scales_registry *r = reg_open("states", 16, 4096);
	scales_state s;
	const char *vals[] = { "idle", "busy", "waitingForTask" };
	for (int i = 0; i < 3; i++) {
		char p[32];
		snprintf(p, sizeof p, "/s/worker/%d", i);
		OK(scales_state_get(r, p, NULL, &s));
		OK(scales_state_set_str(&s, vals[i]));
	}
	OK(scales_state_get(r, "/s/never", NULL, &s));
	OK(scales_state_get(r, "/s/long", NULL, &s));
	char lv[128];
	memset(lv, 'L', 127);
	lv[127] = '\0';
	OK(scales_state_set_str(&s, lv));
	OK(scales_state_get(r, "/s/utf8", NULL, &s));
	OK(scales_state_set_str(&s, "caf\xc3\xa9 \xe2\x82\xac"));
	keep(&r, "states");
}

static void histograms(void)
{
	scales_registry *r = reg_open("histograms", 16, 16384);
	scales_histogram h;
	struct scales_info secs = { "Latency", SCALES_UNIT_SECONDS };
	struct scales_histogram_config c1 = { 1u << 20, 5, 0, 0 };
	OK(scales_histogram_get(r, "/h/lat", &secs, &c1, &h));
	for (uint64_t v = 1; v < 1000000; v = v * 3 + 1)
		scales_histogram_record(&h, v);
	struct scales_info bytes = { "Sizes", SCALES_UNIT_BYTES };
	struct scales_histogram_config c2 = { 1u << 12, 7, 0, 0 };
	OK(scales_histogram_get(r, "/h/size", &bytes, &c2, &h));
	for (uint64_t v = 0; v < 5000; v += 7)
		scales_histogram_record(&h, v);
	struct scales_histogram_config c3 = { 1u << 16, 5, 4, 0.5 };
	OK(scales_histogram_get(r, "/h/shift", NULL, &c3, &h));
	scales_histogram_record(&h, 0);
	scales_histogram_record(&h, 17);
	scales_histogram_record(&h, UINT64_MAX);
	OK(scales_histogram_get(r, "/h/empty", NULL, &c3, &h));
	keep(&r, "histograms");
}

static void retired(void)
{
	scales_registry *r = reg_open("retired", 16, 4096);
	scales_counter c;
	char p[32];
	for (int i = 0; i < 10; i++) {
		snprintf(p, sizeof p, "/r/c%d", i);
		OK(scales_counter_get(r, p, NULL, &c));
		scales_counter_add(&c, (uint64_t)i + 1);
	}
	for (int i = 0; i < 10; i += 2) {
		snprintf(p, sizeof p, "/r/c%d", i);
		OK(scales_retire(r, p));
	}
	for (int i = 0; i < 3; i++) { /* reuse retired slots */
		snprintf(p, sizeof p, "/r/new%d", i);
		OK(scales_counter_get(r, p, NULL, &c));
		scales_counter_add(&c, 100);
	}
	scales_gauge g;
	OK(scales_gauge_get(r, "/r/g", NULL, &g));
	scales_gauge_set(&g, 7);
	OK(scales_retire(r, "/r/g"));
	keep(&r, "retired");

	r = reg_open("reset", 16, 4096);
	OK(scales_counter_get(r, "/x/a", NULL, &c));
	scales_counter_inc(&c);
	OK(scales_reset(r));
	OK(scales_counter_get(r, "/x/b", NULL, &c));
	scales_counter_add(&c, 2);
	keep(&r, "reset");
}

static void aggregates(void)
{
	scales_registry *r = reg_open("aggregates", 32, 4096);
	scales_scope *web, *child[3];
	OK(scales_scope_root(r, &web, "/web"));
	OK(scales_scope_sum(web, "requests", NULL));
	OK(scales_scope_states(web, "state", NULL));
	const char *st[] = { "idle", "busy", "idle" };
	for (int i = 0; i < 3; i++) {
		OK(scales_scope_child(web, &child[i], "handler-%d", i));
		scales_counter c;
		OK(scales_scope_counter(child[i], "requests", NULL, &c));
		scales_counter_add(&c, (uint64_t)(i + 1) * 10);
		scales_state s;
		OK(scales_scope_state(child[i], "state", NULL, &s));
		OK(scales_state_set_str(&s, st[i]));
	}
	scales_dict d;
	OK(scales_scope_dict(web, "status", NULL, &d));
	OK(scales_dict_add(&d, "200", 90));
	OK(scales_dict_add(&d, "404", 7));
	OK(scales_dict_add(&d, "500", 3));
	scales_dict top;
	OK(scales_dict_get(r, "/errors", NULL, &top));
	OK(scales_dict_add(&top, "timeout", 2));
	/* keep the scopes: releasing them would retire their stats */
	keep(&r, "aggregates");
}

static void full(void)
{
	scales_registry *r = reg_open("full", 4, 4096);
	scales_counter c;
	char p[32];
	for (int i = 0; i < 16; i++) {
		snprintf(p, sizeof p, "/f/c%d", i);
		if (scales_counter_get(r, p, NULL, &c) == 0)
			scales_counter_add(&c, (uint64_t)i);
	}
	keep(&r, "full");
}

static void mixed(void)
{
	scales_registry *r = reg_open("mixed", 16, 8192);
	scales_counter c;
	scales_gauge g;
	scales_state s;
	scales_histogram h;
	struct scales_info info = { "help with \"quotes\", \\ and \xc3\xa9",
		                    SCALES_UNIT_NONE };
	OK(scales_counter_get(r, "/m/c", &info, &c));
	scales_counter_add(&c, 5);
	OK(scales_gauge_get(r, "/m/g", NULL, &g));
	scales_gauge_set(&g, -5);
	OK(scales_state_get(r, "/m/s", NULL, &s));
	OK(scales_state_set_str(&s, "on"));
	struct scales_histogram_config cfg = { 1u << 12, 5, 0, 0 };
	OK(scales_histogram_get(r, "/m/h", NULL, &cfg, &h));
	scales_histogram_record(&h, 100);
	scales_histogram_record(&h, 200);
	OK(scales_retire(r, "/m/g"));
	OK(scales_gauge_get(r, "/m/g2", NULL, &g));
	scales_gauge_set(&g, 9);
	keep(&r, "mixed");
}

/* ------------------------------------------------------- compact images */

struct img {
	unsigned char b[16384];
	struct scales_shm_header *h;
	uint32_t nent;
};

static struct scales_shm_entry *img_entry(struct img *m, const char *path,
                                          unsigned kind)
{
	struct scales_shm_entry *e =
	    (void *)(m->b + m->h->dir_offset +
	             (uint64_t)m->nent++ * SCALES_SHM_ENTRY_SIZE);
	e->state = SCALES_SHM_LIVE;
	e->generation = 2;
	e->kind = (uint16_t)kind;
	e->path_len = (uint32_t)strlen(path);
	memcpy(e->path, path, strlen(path));
	e->scale = 1.0;
	return e;
}

static uint32_t img_string(struct img *m, const char *s)
{
	uint64_t ref = m->h->strings_used;
	uint32_t len = (uint32_t)strlen(s);
	memcpy(m->b + m->h->strings_offset + ref, &len, 4);
	memcpy(m->b + m->h->strings_offset + ref + 4, s, len + 1);
	m->h->strings_used = (ref + 4 + len + 1 + 3) / 4 * 4;
	return (uint32_t)ref;
}

static void img_stripe(struct img *m, uint32_t stripe, uint64_t off, uint64_t v)
{
	memcpy(m->b + m->h->stripe_offset + stripe * m->h->stripe_size + off,
	       &v, 8);
}

static void img_write(struct img *m, const char *name)
{
	m->h->dir_used = m->nent;
	m->h->live_entries = m->nent;
	m->h->generation = m->nent;
	char to[4096];
	snprintf(to, sizeof to, "%s/seed-%s", outdir, name);
	FILE *f = fopen(to, "wb");
	if (!f || fwrite(m->b, 1, m->h->capacity, f) != m->h->capacity ||
	    fclose(f) != 0)
		die(to, -EIO);
	printf("%s\n", to);
}

static void img_init(struct img *m, uint32_t entries)
{
	memset(m, 0, sizeof *m);
	struct scales_shm_header *h = m->h = (void *)m->b;
	memcpy(h->magic, SCALES_SHM_MAGIC, 8);
	h->version_major = SCALES_SHM_VERSION_MAJOR;
	h->version_minor = SCALES_SHM_VERSION_MINOR;
	h->header_size = sizeof *h;
	h->byte_order = SCALES_SHM_BYTE_ORDER_LE;
	h->word_size = 8;
	h->entry_size = SCALES_SHM_ENTRY_SIZE;
	h->nstripes = 2;
	h->pid = 4242;
	h->start_time = 1;
	h->creation_time_ns = 1700000000000000000ull;
	snprintf(h->app, sizeof h->app, "compact");
	h->dir_offset = SCALES_SHM_HEADER_REGION; /* the header's page */
	h->dir_capacity = entries;
	h->data_offset =
	    h->dir_offset + (uint64_t)entries * SCALES_SHM_ENTRY_SIZE;
	h->data_capacity = 128;
	h->strings_offset = h->data_offset + h->data_capacity;
	h->strings_capacity = 256;
	h->strings_used = SCALES_SHM_STRINGS_FIRST;
	h->stripe_offset = h->strings_offset + h->strings_capacity;
	h->stripe_size = 1024;
	h->capacity = h->stripe_offset + h->nstripes * h->stripe_size;
}

static void compact(void)
{
	struct img m;
	img_init(&m, 8);
	struct scales_shm_header *h = m.h;
	uint32_t busy = img_string(&m, "busy");
	uint32_t child = img_string(&m, "n");
	uint32_t help = img_string(&m, "help");

	struct scales_shm_entry *e = img_entry(&m, "/c", SCALES_SHM_COUNTER);
	e->stripe_offset = 0;
	e->stripe_size = 8;
	e->help = help;
	img_stripe(&m, 0, 0, 5);
	img_stripe(&m, 1, 0, 7);

	e = img_entry(&m, "/g", SCALES_SHM_GAUGE_I64);
	e->unit = SCALES_SHM_UNIT_BYTES;
	e->data_offset = h->data_offset;
	e->data_size = 8;
	int64_t g = -3;
	memcpy(m.b + e->data_offset, &g, 8);

	e = img_entry(&m, "/s", SCALES_SHM_STATE);
	e->data_offset = h->data_offset + 8;
	e->data_size = 8;
	memcpy(m.b + e->data_offset, &busy, 4);

	e = img_entry(&m, "/h", SCALES_SHM_HISTOGRAM);
	e->unit = SCALES_SHM_UNIT_SECONDS;
	e->scale = 1e-9;
	e->param[0] = 5;
	e->param[1] = 0;
	e->param[2] = 96; /* past the linear range (64) */
	e->stripe_offset = 8;
	e->stripe_size = 8 * 97;
	e->data_offset = h->data_offset + 16;
	e->data_size = 16;
	uint64_t mm[2] = { 3, 12 };
	memcpy(m.b + e->data_offset, mm, 16);
	img_stripe(&m, 0, 8, 3 + 12); /* sum */
	img_stripe(&m, 0, 8 + 8 * (1 + 3), 1);
	img_stripe(&m, 1, 8 + 8 * (1 + 12), 1);

	e = img_entry(&m, "/a/n", SCALES_SHM_AGG_SUM);
	e->param[0] = child;
	e = img_entry(&m, "/a/x/n", SCALES_SHM_COUNTER);
	e->stripe_offset = 784;
	e->stripe_size = 8;
	img_stripe(&m, 1, 784, 11);

	img_entry(&m, "/d", SCALES_SHM_DICT);
	e = img_entry(&m, "/d/k", SCALES_SHM_COUNTER);
	e->stripe_offset = 792;
	e->stripe_size = 8;
	img_stripe(&m, 0, 792, 2);

	h->data_used = 32;
	h->stripe_used = 800;
	img_write(&m, "compact");

	/* the smallest valid segment: no entry at all */
	img_init(&m, 1);
	img_write(&m, "compact-empty");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen-corpus OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	if (!mkdtemp(tmpdir))
		die("mkdtemp", -errno);
	counters();
	gauges();
	states();
	histograms();
	retired();
	aggregates();
	full();
	mixed();
	compact();
	rmdir(tmpdir);
	return 0;
}
