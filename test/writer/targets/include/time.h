/* SPDX-License-Identifier: MIT */
/* Stub <time.h> for header-targets.sh: only what the public headers use,
 * so that they can be checked for targets whose libc is not installed. */
#ifndef SCALES_STUB_TIME_H
#define SCALES_STUB_TIME_H
typedef long time_t;
struct timespec {
	time_t tv_sec;
	long tv_nsec;
};
typedef int clockid_t;
#define CLOCK_MONOTONIC 1
int clock_gettime(clockid_t clk, struct timespec *ts);
#endif
