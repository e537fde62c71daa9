/* SPDX-License-Identifier: MIT */
/*
 * format-writer.c: writes a segment with known values through libscales and
 * keeps it (SCALES_KEEP_SEGMENT), for format-doc-test.sh, which reads it
 * with the Python reader printed in docs/format.md.
 *
 * Usage: format-writer DIR. Prints the segment's path. Exit status 0 on
 * success, 1 on any error (with the library's message on stderr).
 */
#include <stdio.h>
#include <stdlib.h>

#include <scales/scales.h>

static int check(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "format-writer: %s: %s\n", what,
		        scales_strerror(rc));
		exit(1);
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: format-writer DIR\n");
		return 1;
	}
	struct scales_options o;
	scales_options_init(&o);
	o.app = "format-doc";
	o.dir = argv[1];
	o.flags = SCALES_KEEP_SEGMENT | SCALES_NO_SAMPLER;
	scales_registry *reg = NULL;
	check(scales_open(&o, &reg), "scales_open");

	struct scales_info errors_info = { "Requests that failed",
		                           SCALES_UNIT_NONE };
	scales_counter errors;
	check(scales_counter_get(reg, "/web/errors", &errors_info, &errors),
	      "/web/errors");
	for (int i = 0; i < 7; i++)
		scales_counter_inc(&errors);

	scales_counter success;
	check(scales_counter_get(reg, "/web/success", NULL, &success),
	      "/web/success");
	scales_counter_add(&success, 1000);

	scales_gauge inflight;
	check(scales_gauge_get(reg, "/web/inflight", NULL, &inflight),
	      "/web/inflight");
	scales_gauge_set(&inflight, -3);

	scales_gauge_f64 load;
	check(scales_gauge_f64_get(reg, "/web/load", NULL, &load), "/web/load");
	scales_gauge_f64_set(&load, 0.25);

	scales_state state;
	check(scales_state_get(reg, "/worker/state", NULL, &state),
	      "/worker/state");
	check(scales_state_set_str(&state, "waitingForTask"), "state set");

	/* A retired entry must not be shown. */
	scales_counter gone;
	check(scales_counter_get(reg, "/web/gone", NULL, &gone), "/web/gone");
	scales_counter_inc(&gone);
	check(scales_retire(reg, "/web/gone"), "retire /web/gone");

	struct scales_info latency_info = { "Handler latency",
		                            SCALES_UNIT_SECONDS };
	scales_histogram latency;
	check(scales_histogram_get(reg, "/handler/latency", &latency_info, NULL,
	                           &latency),
	      "/handler/latency");
	for (uint64_t ms = 1; ms <= 100; ms++)
		scales_histogram_record(&latency, ms * 1000000u);

	printf("%s\n", scales_registry_path(reg));
	fflush(stdout);
	check(scales_close(&reg), "scales_close");
	return 0;
}
