/* SPDX-License-Identifier: MIT */
/*
 * units.c: human-readable numbers (see units.h).
 */
#include "units.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <scales/reader.h>

static bool units_utf8 = true;

void top_units_utf8(bool on)
{
	units_utf8 = on;
}

/* v (>= 0, < 1000) with 3 significant digits, no exponent. */
static int fmt3(char *buf, size_t len, double v, const char *suffix)
{
	if (v < 9.995)
		return snprintf(buf, len, "%.2f%s", v, suffix);
	if (v < 99.95)
		return snprintf(buf, len, "%.1f%s", v, suffix);
	return snprintf(buf, len, "%.0f%s", v, suffix);
}

/* |v| >= 1000: scaled by powers of 1000 with a suffix. */
static char *fmt_scaled(char *buf, double v)
{
	static const char sfx[][2] = { "", "k", "M", "G", "T", "P", "E" };
	const char *sign = v < 0 ? "-" : "";
	double a = fabs(v);
	unsigned i = 0;
	while (a >= 999.5 && i < 6) {
		a /= 1000;
		i++;
	}
	char tmp[TOP_NUM_LEN - 2];
	fmt3(tmp, sizeof(tmp), a, sfx[i]);
	snprintf(buf, TOP_NUM_LEN, "%s%s", sign, tmp);
	return buf;
}

char *top_fmt_count(char *buf, uint64_t v)
{
	if (v < 100000) {
		snprintf(buf, TOP_NUM_LEN, "%llu", (unsigned long long)v);
		return buf;
	}
	return fmt_scaled(buf, (double)v);
}

char *top_fmt_i64(char *buf, int64_t v)
{
	if (v > -100000 && v < 100000) {
		snprintf(buf, TOP_NUM_LEN, "%lld", (long long)v);
		return buf;
	}
	return fmt_scaled(buf, (double)v);
}

const char *top_nonfinite(double v)
{
	if (isnan(v))
		return "-";
	if (isinf(v))
		return v > 0 ? "inf" : "-inf";
	return NULL;
}

/* Writes the non-finite form of v into buf: true if v was not finite. */
static bool nonfinite(char *buf, double v)
{
	const char *s = top_nonfinite(v);
	if (s)
		snprintf(buf, TOP_NUM_LEN, "%s", s);
	return s != NULL;
}

char *top_fmt_num(char *buf, double v)
{
	if (nonfinite(buf, v))
		return buf;
	double a = fabs(v);
	if (a < 100000 && v == floor(v)) {
		snprintf(buf, TOP_NUM_LEN, "%.0f", v);
		return buf;
	}
	if (a < 1000) {
		snprintf(buf, TOP_NUM_LEN, "%.4g", v);
		return buf;
	}
	return fmt_scaled(buf, v);
}

/* Seconds since the epoch, 2001-09-09 to 2286-11-20: the wall clock in
 * UTC, "2026-12-06 07:34:21Z", the rule of scales-export's html_human(),
 * so that the live view and the stats page show the same. */
static bool fmt_date(char *buf, size_t len, double s)
{
	time_t t = (time_t)s;
	struct tm tm;
	return gmtime_r(&t, &tm) &&
	       strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm) > 0;
}

char *top_fmt_time(char *buf, double s)
{
	if (nonfinite(buf, s))
		return buf;
	const char *sign = s < 0 ? "-" : "";
	double a = fabs(s);
	char tmp[TOP_NUM_LEN - 2];
	if (a == 0)
		snprintf(tmp, sizeof(tmp), "0");
	else if (a < 999.5e-9)
		fmt3(tmp, sizeof(tmp), a * 1e9, "ns");
	else if (a < 999.5e-6)
		fmt3(tmp, sizeof(tmp), a * 1e6,
		     units_utf8 ? "\xc2\xb5s" : "us");
	else if (a < 999.5e-3)
		fmt3(tmp, sizeof(tmp), a * 1e3, "ms");
	else if (a < 59.95)
		fmt3(tmp, sizeof(tmp), a, "s");
	else if (a < 3600)
		snprintf(tmp, sizeof(tmp), "%dm%02ds", (int)(a / 60),
		         (int)fmod(a, 60));
	else if (a < 86400)
		snprintf(tmp, sizeof(tmp), "%dh%02dm", (int)(a / 3600),
		         (int)fmod(a / 60, 60));
	else if (a < 1e7)
		snprintf(tmp, sizeof(tmp), "%dd%02dh", (int)(a / 86400),
		         (int)fmod(a / 3600, 24));
	else if (s >= 1e9 && s < 1e10 && fmt_date(tmp, sizeof(tmp), s))
		; /* a point in time, as the stats page shows it */
	else if (a < 1e11)
		snprintf(tmp, sizeof(tmp), "%.0fs", a);
	else
		snprintf(tmp, sizeof(tmp), "%.3gs", a);
	snprintf(buf, TOP_NUM_LEN, "%s%s", sign, tmp);
	return buf;
}

char *top_fmt_bytes(char *buf, double b)
{
	static const char *const sfx[] = { "KiB", "MiB", "GiB",
		                           "TiB", "PiB", "EiB" };
	if (nonfinite(buf, b))
		return buf;
	const char *sign = b < 0 ? "-" : "";
	double a = fabs(b);
	if (a < 1024) {
		snprintf(buf, TOP_NUM_LEN, "%s%.0fB", sign, a);
		return buf;
	}
	unsigned i = 0;
	a /= 1024;
	while (a >= 1023.5 && i < 5) {
		a /= 1024;
		i++;
	}
	char tmp[TOP_NUM_LEN - 2];
	fmt3(tmp, sizeof(tmp), a, sfx[i]);
	snprintf(buf, TOP_NUM_LEN, "%s%s", sign, tmp);
	return buf;
}

char *top_fmt_unit(char *buf, double v, unsigned unit)
{
	switch (unit) {
	case SCALES_UNIT_SECONDS:
		return top_fmt_time(buf, v);
	case SCALES_UNIT_BYTES:
		return top_fmt_bytes(buf, v);
	default:
		return top_fmt_num(buf, v);
	}
}

int top_str_width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}
