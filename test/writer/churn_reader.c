/* SPDX-License-Identifier: MIT */
/*
 * churn_reader.c: the reader process of writer-seed's
 * million_release_and_reuse_cycles_with_a_reader (test_seed.c), started by
 * posix_spawn(): it snapshots the segment at argv[1] while the writer
 * creates and releases child scopes, and checks every snapshot for
 * half-reused entries. It stops once its stdin reaches end of file (the
 * writer closed the pipe) and it took at least 10 snapshots.
 * Exit status: 0 every snapshot was whole, 1 one was not, 2 bad usage.
 */
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <scales/reader.h>

static int stopped(void)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	char c;
	return poll(&p, 1, 0) > 0 && read(0, &c, 1) <= 0;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	char err[256];
	scales_segment *seg;
	if (scales_segment_open(argv[1], 0, &seg, err, sizeof err))
		return 1;
	int bad = 0;
	unsigned snaps = 0;
	while (snaps < 10 || !stopped()) {
		struct scales_snapshot *s;
		if (scales_snapshot_take(seg, 0, &s, err, sizeof err)) {
			bad++;
			break;
		}
		snaps++;
		for (size_t i = 0; i < s->n; i++) {
			const struct scales_metric *m = &s->metrics[i];
			/* /churn/w-<n>/count (counter, value <= 1) or
			 * /churn/w-<n>/lat (histogram) or the aggregate */
			if (strcmp(m->path, "/churn/count") == 0)
				continue;
			if (strncmp(m->path, "/churn/w-", 9) != 0)
				bad++;
			const char *leaf = strrchr(m->path, '/');
			if (strcmp(leaf, "/count") == 0)
				bad += m->kind != SCALES_KIND_COUNTER ||
				       m->v.u64 > 1;
			else if (strcmp(leaf, "/lat") == 0)
				bad += m->kind != SCALES_KIND_HISTOGRAM ||
				       m->side->hist.count > 1;
			else
				bad++;
		}
		bad += s->invalid;
		scales_snapshot_free(&s);
	}
	scales_segment_close(&seg);
	return bad ? 1 : 0;
}
