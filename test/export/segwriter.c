/* SPDX-License-Identifier: MIT */
/*
 * segwriter.c: writes a hostile segment for test/export/carbon-test.sh:
 * an app name and state values holding a newline, spaces, dots, ";", "=",
 * non-ASCII text and invalid UTF-8 (the writer library refuses such
 * paths and app names, so the segment is laid out by hand with segbuild).
 * Usage: export-segwriter DIR; prints the segment's path.
 * export-segwriter DIR collide: a segment (app "collide") of distinct
 * stats whose Graphite names once were the same (issue 13, item 12).
 */
#include <stdio.h>
#include <string.h>

#include "segbuild.h"

/* /a.b and /a-b; a histogram /h and counters /h/count and /h/p99; a state
 * /s with value x and a gauge /s/x. */
static struct segbuild *collide(void)
{
	struct segbuild *b = sb_new("collide", 4322, 99, NULL);
	sb_counter_add(b, sb_counter(b, "/a.b", NULL), 0, 1);
	sb_counter_add(b, sb_counter(b, "/a-b", NULL), 0, 2);
	uint32_t h = sb_histogram(b, "/h", 5, 0, 1024, 1e-9, 1);
	for (int i = 0; i < 10; i++)
		sb_hist_record(b, h, 0, 1000000);
	sb_counter_add(b, sb_counter(b, "/h/count", NULL), 0, 3);
	sb_counter_add(b, sb_counter(b, "/h/p99", NULL), 0, 4);
	sb_state(b, "/s", "x");
	sb_gauge(b, "/s/x", 5);
	return b;
}

int main(int argc, char **argv)
{
	if (argc != 2 && !(argc == 3 && !strcmp(argv[2], "collide"))) {
		fprintf(stderr, "usage: export-segwriter DIR [collide]\n");
		return 2;
	}
	struct segbuild *b;
	if (argc == 3) {
		b = collide();
		goto write;
	}
	b = sb_new("evil;tag=x.y", 4321, 99, NULL);
	uint32_t e = sb_counter(b, "/ok", NULL);
	sb_counter_add(b, e, 0, 42);
	sb_state(b, "/s/newline", "up\nevil.injected 666 0");
	sb_state(b, "/s/space", "two words");
	sb_state(b, "/s/dot", "a.b");
	sb_state(b, "/s/tag", "x;k=v");
	sb_state(b, "/s/utf8", "caf\xc3\xa9");
	sb_state(b, "/s/bad", "bad\xff\xfe");
	sb_state(b, "/s/sep", "l\xe2\x80\xa8s");
write:;
	char path[4096];
	if (sb_write(b, argv[1], path, sizeof(path)) != 0) {
		fprintf(stderr, "export-segwriter: cannot write in %s\n",
		        argv[1]);
		return 1;
	}
	puts(path);
	sb_free(b);
	return 0;
}
