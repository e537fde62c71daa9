/* SPDX-License-Identifier: MIT */
/*
 * units.h: numbers made human for scales-top's live view and -1, through
 * the readers' one formatter, scales_human() (<scales/reader.h>), so that
 * they read as on the HTML stats page. Every function writes at most
 * TOP_NUM_LEN - 1 bytes plus a NUL and returns buf; NaN gives "-".
 */
#ifndef SCALES_TOP_UNITS_H
#define SCALES_TOP_UNITS_H

#include <stdbool.h>
#include <stdint.h>

#include <scales/reader.h>

#define TOP_NUM_LEN SCALES_HUMAN_LEN

/* Use "µs" (true) or "us" (false, for non-UTF-8 terminals). */
void top_units_utf8(bool on);

/* A value in the given unit (enum scales_unit): "30259", "1.23M",
 * "1.5 KiB", "50.5 ms", "2026-12-06 07:34:21Z". */
char *top_fmt_unit(char *buf, double v, unsigned unit);

/* A rate of a value in unit, per second: "6.44k/s", "2.83 KiB/s". */
char *top_fmt_rate(char *buf, double v, unsigned unit);

/* Display width of a UTF-8 string (code points; all used here are one
 * column wide). */
int top_str_width(const char *s);

#endif /* SCALES_TOP_UNITS_H */
