/* SPDX-License-Identifier: MIT */
/*
 * stt-writer: a timed state with known times, for the outputs' test of
 * time in state (state-time-test.sh).
 *
 *   stt-writer --app NAME --a SECONDS
 *
 * Sets /w/state to "a", then "b" SECONDS later, then "end" 0.25 s after
 * that, on a clock of its own (the writer's test hook) that runs 2^50 ns
 * ahead of CLOCK_MONOTONIC: "end" never runs for a reader (its start is
 * ahead of the reader's clock), so every output shows exactly a = SECONDS,
 * b = 0.25 and end = 0. Prints "ready", then waits for a signal.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <scales/scales.h>

extern uint64_t (*test_hook_state_clock)(void);

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

int main(int argc, char **argv)
{
	const char *app = "stt";
	double a = 1.5;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--app"))
			app = argv[i + 1];
		else if (!strcmp(argv[i], "--a"))
			a = atof(argv[i + 1]);
	}
	struct scales_options o;
	scales_options_init(&o);
	o.app = app;
	o.flags = SCALES_NO_SAMPLER;
	scales_registry *reg = NULL;
	scales_state st;
	struct scales_info info = { "a timed state", SCALES_STATE_TIMED };
	if (scales_open(&o, &reg) ||
	    scales_state_get(reg, "/w/state", &info, &st))
		return 1;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t end = (uint64_t)ts.tv_sec * 1000000000u +
	               (uint64_t)ts.tv_nsec + ((uint64_t)1 << 50);
	uint64_t ans = (uint64_t)(a * 1e9 + 0.5);
	test_hook_state_clock = fake_clock;
	fake_now = end - 250000000u - ans;
	scales_state_set_str(&st, "a");
	fake_now = end - 250000000u;
	scales_state_set_str(&st, "b");
	fake_now = end;
	scales_state_set_str(&st, "end");
	printf("ready\n");
	fflush(stdout);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sig;
	sigwait(&set, &sig);
	scales_close(&reg);
	return 0;
}
