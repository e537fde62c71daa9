/* SPDX-License-Identifier: MIT */
/*
 * units.h: numbers made human for the live view: times in ns, µs, ms, s
 * (then minutes, hours, days), counts with k, M, G, T suffixes, bytes in
 * KiB, MiB, GiB. Every function writes at most TOP_NUM_LEN - 1 bytes plus
 * a NUL and returns buf; NaN gives "-".
 */
#ifndef SCALES_TOP_UNITS_H
#define SCALES_TOP_UNITS_H

#include <stdbool.h>
#include <stdint.h>

#define TOP_NUM_LEN 32

/* Use "µs" (true) or "us" (false, for non-UTF-8 terminals). */
void top_units_utf8(bool on);

/* An integer count: exact below 100000, else 3 significant digits and a
 * suffix ("123k", "1.23M"). */
char *top_fmt_count(char *buf, uint64_t v);
char *top_fmt_i64(char *buf, int64_t v);

/* A double without unit: integers below 100000 exact, else up to 4
 * significant digits, with a suffix from 1000 up ("12.35k"). */
char *top_fmt_num(char *buf, double v);

/* Seconds as a time: "512ns", "1.50µs", "50.0ms", "1.25s", "2m05s",
 * "3h07m", "2d04h"; from 1e9 to 1e10 s a point in time, as a UTC date
 * ("2026-12-06 07:34:21Z", as the stats page shows it); else from 1e7 s
 * whole seconds. */
char *top_fmt_time(char *buf, double secs);

/* Bytes: "512B", "1.50KiB", "12.3MiB". */
char *top_fmt_bytes(char *buf, double bytes);

/* The one rule for values that are not finite, in every view (live,
 * -1): NaN (no value) is "-", +Inf "inf", -Inf "-inf", whatever the
 * unit. Returns NULL for a finite v. */
const char *top_nonfinite(double v);

/* A value in the given unit (enum scales_unit). */
char *top_fmt_unit(char *buf, double v, unsigned unit);

/* Display width of a UTF-8 string (code points; all used here are one
 * column wide). */
int top_str_width(const char *s);

#endif /* SCALES_TOP_UNITS_H */
