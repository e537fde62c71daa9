/* SPDX-License-Identifier: MIT */
/*
 * scales-top: shows the metrics of every process instrumented with
 * libscales, live (curses) or once (-1 text, -j JSON), lists them (-l) and
 * removes the stale segments of dead ones (--gc). See scales-top(1).
 */
#include <stdio.h>

#include <scales/reader.h>
#include <scales/scales.h>

#include "cli.h"
#include "oneshot.h"
#include "tool_select.h"
#include "ui.h"

int main(int argc, char **argv)
{
	struct top_args a;
	tool_keep_heap();
	int rc = top_args_parse(argc, argv, &a);
	if (rc) {
		top_args_free(&a);
		return rc;
	}
	switch (a.mode) {
	case TOP_MODE_HELP:
		top_usage(stdout);
		rc = fflush(stdout) ? 2 : 0;
		break;
	case TOP_MODE_VERSION:
		printf("scales-top %s (reader library %s)\n",
		       SCALES_VERSION_STRING, scales_reader_version());
		rc = fflush(stdout) ? 2 : 0;
		break;
	case TOP_MODE_LIVE:
		rc = top_run_live(&a);
		break;
	default:
		rc = top_run_oneshot(&a);
		break;
	}
	top_args_free(&a);
	return rc;
}
