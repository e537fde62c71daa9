/* SPDX-License-Identifier: MIT */
/* count_stat.h: the calls count_stat.c counts (this thread's test only). */
#ifndef SCALES_TEST_COUNT_STAT_H
#define SCALES_TEST_COUNT_STAT_H

extern unsigned long count_fstat;     /* fstat() of any file descriptor */
extern unsigned long count_ns_stat;   /* stat("/proc/self/ns/pid") */
extern unsigned long count_hdr_pread; /* pread() at offset 0 (a header) */
extern unsigned long count_getpid;    /* getpid() */

#endif
