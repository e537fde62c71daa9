/* SPDX-License-Identifier: MIT */
/*
 * exact-oracle: the values of every stat of one process, as the reader
 * library computes them, in C's exact hexadecimal form (%a), for
 * test/export/exact-test.py to compare, bit for bit, with what each output
 * printed in decimal. No decimal formatting here: the formatter under test
 * is not used.
 *
 *   exact-oracle PID   (the directory from $SCALES_DIR)
 *
 * Lines: "PATH<TAB>FIELD<TAB>VALUE", VALUE an integer or a %a double.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <scales/reader.h>

static void dbl(const char *path, const char *field, double v)
{
	printf("%s\t%s\t%a\n", path, field, v);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: exact-oracle PID\n");
		return 2;
	}
	char err[512];
	scales_segment *seg;
	struct scales_snapshot *s;
	if (scales_segment_open_pid(NULL, atoi(argv[1]), NULL, NULL, &seg, err,
	                            sizeof(err)) ||
	    scales_snapshot_take(seg, 0, &s, err, sizeof(err))) {
		fprintf(stderr, "exact-oracle: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct scales_metric *m = &s->metrics[i];
		struct scales_hstats h;
		switch (m->kind) {
		case SCALES_KIND_COUNTER:
			printf("%s\tvalue\t%" PRIu64 "\n", m->path, m->v.u64);
			break;
		case SCALES_KIND_GAUGE:
			printf("%s\tvalue\t%" PRId64 "\n", m->path, m->v.i64);
			break;
		case SCALES_KIND_GAUGE_F64:
			dbl(m->path, "value", m->v.f64);
			break;
		case SCALES_KIND_HISTOGRAM:
			scales_histo_stats(&m->side->hist, &h);
			printf("%s\tcount\t%" PRIu64 "\n", m->path, h.count);
			dbl(m->path, "sum", h.sum);
			dbl(m->path, "min", h.min);
			dbl(m->path, "max", h.max);
			dbl(m->path, "mean", h.mean);
			dbl(m->path, "stddev", h.stddev);
			dbl(m->path, "p50", h.p50);
			dbl(m->path, "p75", h.p75);
			dbl(m->path, "p95", h.p95);
			dbl(m->path, "p98", h.p98);
			dbl(m->path, "p99", h.p99);
			dbl(m->path, "p999", h.p999);
			break;
		default:
			break;
		}
	}
	scales_snapshot_free(&s);
	scales_segment_close(&seg);
	return 0;
}
