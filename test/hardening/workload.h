/* SPDX-License-Identifier: MIT */
/*
 * workload.h: what hard-writer does and how the drivers check it. Shared by
 * hard-writer.c (the writer process) and the test drivers.
 */
#ifndef SCALES_TEST_HARDENING_WORKLOAD_H
#define SCALES_TEST_HARDENING_WORKLOAD_H

#include <stdint.h>

/*
 * "kill" mode: round r registers (get-or-create) /k/c<r % KILL_NC>, and in
 * its first KILL_FIRST rounds /k/g<r> (gauge set to r), /k/f<r> (double
 * gauge set to r / 2), /k/s<r % 4> (state "st<r % 5>"), /k/h<r % 4>
 * (histogram, records r % 1000), the dict /k/d with key /k/d/k<r % 7>; it
 * registers /k/t<r % 16> and retires it again. Then it adds KILL_BATCH to
 * /k/c<r % KILL_NC> one increment at a time and acknowledges the counter's
 * new total on fd 3. A forked child ("shared" mode) does the same with
 * counters /k/c<KILL_CHILD_BASE + i> and no other kinds.
 */
#define KILL_NC 8
#define KILL_FIRST 200
#define KILL_BATCH 64
#define KILL_CHILD_BASE 100
#define KILL_FINAL 20 /* registrations after the child's death */

/* Acknowledgements on fd 3: 16 bytes, written atomically (< PIPE_BUF). */
struct ack {
	uint32_t idx; /* counter index, or one of ACK_* */
	uint32_t pad;
	uint64_t total; /* the counter's total after the batch */
};
#define ACK_CHILD_PID 0xfffffffeu /* total: the forked child's pid */
#define ACK_FINAL                                                              \
	0xfffffffdu               /* total: final registrations that
                                     succeeded */
#define ACK_FINAL_ERR 0xfffffffcu /* total: -error of a final registration */

/*
 * "stop" and "load" modes: STOP_THREADS (or LOAD_THREADS) threads; each
 * increments /w/total and /w/t<k>, records /w/lat (value i % 1000),
 * registers /w/dyn/<k>/<j> every DYN_EVERY updates and retires the one
 * registered DYN_KEEP before it. "stop" runs STOP_ITERS updates per thread
 * once told "go"; "load" runs until told "stop" (or its time is up).
 */
#define STOP_THREADS 4
#define STOP_ITERS 300000
#define STOP_PRE 1500 /* pre-registered counters /w/pre/<i> */
#define LOAD_THREADS 8
#define DYN_EVERY 5000
#define DYN_KEEP 4

#endif
