/* SPDX-License-Identifier: MIT */
/* Stub <stdio.h> for header-targets.sh (see time.h). */
#ifndef SCALES_STUB_STDIO_H
#define SCALES_STUB_STDIO_H
typedef struct scales_stub_file FILE;
#endif
