/* SPDX-License-Identifier: MIT */
/*
 * labels-writer: an instrumented process whose label values are awkward
 * for the Prometheus text format, for test/export/labels-test.py: dict
 * keys with a tab, a quote, a backslash, a newline, a carriage return,
 * other control bytes and non-ASCII; a state whose value has a quote, a
 * backslash and non-ASCII (state values allow no control bytes). Key i
 * of KEYS counts i + 1. App "labels" unless $SCALES_APP says otherwise.
 * Prints "ready", then waits for SIGTERM or SIGINT.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

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

int main(void)
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
	scales_dict d;
	rc = scales_dict_get(reg, "/keys", NULL, &d);
	for (size_t i = 0; !rc && i < sizeof(keys) / sizeof(keys[0]); i++)
		rc = scales_dict_add(&d, keys[i], i + 1);
	scales_state s;
	if (!rc)
		rc = scales_state_get(reg, "/st", NULL, &s);
	if (!rc)
		rc = scales_state_set_str(&s, STATE_VALUE);
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
