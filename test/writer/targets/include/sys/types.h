/* SPDX-License-Identifier: MIT */
/* Stub <sys/types.h> for header-targets.sh (see time.h). */
#ifndef SCALES_STUB_SYS_TYPES_H
#define SCALES_STUB_SYS_TYPES_H
typedef unsigned long long dev_t;
typedef unsigned long ino_t;
typedef int pid_t;
typedef long ssize_t;
#endif
