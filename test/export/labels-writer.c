/* SPDX-License-Identifier: MIT */
/*
 * labels-writer: an instrumented process whose label values are awkward
 * for the Prometheus text format, for test/export/labels-test.py: dict
 * keys with a tab, a quote, a backslash, a newline, a carriage return,
 * other control bytes and non-ASCII; a state whose value has a quote, a
 * backslash and non-ASCII (state values allow no control bytes). Key i
 * of KEYS counts i + 1.
 * With the argument "counter" or "gauge" it holds instead the paths /x,
 * /lat and /mode as different types, as two processes may: a counter 5, a
 * histogram of one 3 and a state "on", or gauges 7, 9 and 11.
 * App "labels" unless $SCALES_APP says otherwise. Prints "ready", then
 * waits for SIGTERM or SIGINT.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scales/scales.h>

/* labels-test.py holds the same list */
static const char *const keys[] = {
	"tab\there",
	"quote\"d",
	"back\\slash",
	"new\nline",
	"cr\rreturn",
	"ctl\x01\x1f\x7f",
	"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
	"all\t\"\\\n\xc3\xa9",
	"Mozilla/5.0 (X11; Linux)",
	"\\n not a newline",
};
#define STATE_VALUE "idle \"q\" \\ caf\xc3\xa9"

static int awkward_labels(scales_registry *reg)
{
	scales_dict d;
	int rc = scales_dict_get(reg, "/keys", NULL, &d);
	for (size_t i = 0; !rc && i < sizeof(keys) / sizeof(keys[0]); i++)
		rc = scales_dict_add(&d, keys[i], i + 1);
	scales_state s;
	if (!rc)
		rc = scales_state_get(reg, "/st", NULL, &s);
	if (!rc)
		rc = scales_state_set_str(&s, STATE_VALUE);
	return rc;
}

/* /x, /lat and /mode as counter, histogram and state, or as three gauges */
static int mixed_types(scales_registry *reg, bool counter)
{
	int rc;
	if (counter) {
		scales_counter c;
		scales_histogram h;
		scales_state s;
		rc = scales_counter_get(reg, "/x", NULL, &c);
		scales_counter_add(&c, 5);
		if (!rc)
			rc = scales_histogram_get(reg, "/lat", NULL, NULL, &h);
		scales_histogram_record(&h, 3);
		if (!rc)
			rc = scales_state_get(reg, "/mode", NULL, &s);
		if (!rc)
			rc = scales_state_set_str(&s, "on");
		return rc;
	}
	static const char *const paths[] = { "/x", "/lat", "/mode" };
	rc = 0;
	for (int i = 0; !rc && i < 3; i++) {
		scales_gauge g;
		rc = scales_gauge_get(reg, paths[i], NULL, &g);
		scales_gauge_set(&g, 7 + 2 * i);
	}
	return rc;
}

int main(int argc, char **argv)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	struct scales_options opts;
	scales_options_init(&opts);
	if (!getenv("SCALES_APP"))
		opts.app = "labels";
	scales_registry *reg;
	int rc = scales_open(&opts, &reg);
	if (rc) {
		fprintf(stderr, "labels-writer: %s\n", scales_strerror(rc));
		return 1;
	}
	if (argc > 1)
		rc = mixed_types(reg, !strcmp(argv[1], "counter"));
	else
		rc = awkward_labels(reg);
	if (rc) {
		fprintf(stderr, "labels-writer: %s\n", scales_strerror(rc));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	int sig;
	sigwait(&stop, &sig);
	scales_close(&reg);
	return 0;
}
