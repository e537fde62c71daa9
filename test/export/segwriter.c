/* SPDX-License-Identifier: MIT */
/*
 * segwriter.c: writes a hostile segment for test/export/carbon-test.sh:
 * an app name and state values holding a newline, spaces, dots, ";", "=",
 * non-ASCII text and invalid UTF-8 (the writer library refuses such
 * paths and app names, so the segment is laid out by hand with segbuild).
 * Usage: export-segwriter DIR; prints the segment's path.
 */
#include <stdio.h>

#include "segbuild.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: export-segwriter DIR\n");
		return 2;
	}
	struct segbuild *b = sb_new("evil;tag=x.y", 4321, 99, NULL);
	uint32_t e = sb_counter(b, "/ok", NULL);
	sb_counter_add(b, e, 0, 42);
	sb_state(b, "/s/newline", "up\nevil.injected 666 0");
	sb_state(b, "/s/space", "two words");
	sb_state(b, "/s/dot", "a.b");
	sb_state(b, "/s/tag", "x;k=v");
	sb_state(b, "/s/utf8", "caf\xc3\xa9");
	sb_state(b, "/s/bad", "bad\xff\xfe");
	sb_state(b, "/s/sep", "l\xe2\x80\xa8s");
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
