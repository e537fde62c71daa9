/* SPDX-License-Identifier: MIT */
/*
 * human.c: numbers for people (scales_human()). The one formatter of every
 * text view: scales-top's live view and -1, the HTML stats pages and their
 * charts. Machine outputs use scales_format_double() (json.c) instead.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <scales/reader.h>

/* snprintf() that cuts quietly: every caller's buffer holds any of its
 * strings (SCALES_HUMAN_LEN), which the compiler cannot see. */
__attribute__((format(printf, 3, 4))) static void put(char *out, size_t len,
                                                      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

/* Up to 3 significant digits, trailing zeros dropped ("1.5", "50.5",
 * "123"); integers below 1000 exact. The callers keep |v| < 999.5 by
 * moving to the next prefix, so %.3g never gives an exponent there. */
static void sig3(char *out, size_t len, double v)
{
	if (v == floor(v) && fabs(v) < 1000)
		put(out, len, "%.0f", v == 0 ? 0.0 : v); /* no "-0" */
	else
		put(out, len, "%.3g", v);
}

/* v scaled by powers of k, with prefixes[p] before unit; unit "" puts the
 * prefix right after the number ("6.4k"), a symbol after a space
 * ("2.8 KiB"). */
static void scaled(char *out, size_t len, double v, const char *unit, double k,
                   const char *const *prefixes, const char *per)
{
	double a = fabs(v);
	size_t p = 0;
	while (a >= k && prefixes[p + 1]) {
		a /= k;
		v /= k;
		p++;
	}
	/* 999.7 would round to "1e+03": the next prefix instead */
	if (a >= 999.5 && prefixes[p + 1]) {
		v /= k;
		p++;
	}
	char num[32];
	sig3(num, sizeof(num), v);
	put(out, len, "%s%s%s%s%s", num, *unit ? " " : "", prefixes[p], unit,
	    per);
}

/* Seconds since the epoch, 2001-09-09 to 2286-11-20, are a point in time:
 * the wall clock in UTC, to the second ("2026-12-06 07:34:21Z"). UTC, not
 * local time, so that every view and every viewer shows the same. */
static bool date(char *out, size_t len, double s)
{
	if (!(s >= 1e9 && s < 1e10))
		return false;
	time_t t = (time_t)s;
	struct tm tm;
	return gmtime_r(&t, &tm) &&
	       strftime(out, len, "%Y-%m-%d %H:%M:%SZ", &tm) > 0;
}

static void seconds(char *out, size_t len, double v, unsigned flags,
                    const char *per)
{
	static const char *const dec[] = { "",  "k", "M", "G",
		                           "T", "P", "E", NULL };
	/* below a second by powers of 1000, each while the scaled value
	 * stays below 999.5 (999.7 ns is "1 µs", not "1e+03 ns"); then
	 * minutes and hours */
	static const struct {
		double below, scale;
		const char *sym;
	} small[] = {
		{ 999.5e-9, 1e9, "ns" },
		{ 999.5e-6, 1e6, "\xc2\xb5s" },
		{ 999.5e-3, 1e3, "ms" },
		{ 60, 1, "s" }, /* "60 s" for 59.97 s, not "0.999 min" */
		{ 3600, 1.0 / 60, "min" },
		{ 86400, 1.0 / 3600, "h" },
	};
	double a = fabs(v);
	char num[32];
	if (a == 0) {
		put(out, len, "0 s%s", per);
		return;
	}
	if (!*per && date(out, len, v))
		return;
	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		if (a >= small[i].below)
			continue;
		const char *sym = small[i].sym;
		if (i == 1 && (flags & SCALES_HUMAN_ASCII))
			sym = "us";
		sig3(num, sizeof(num), v * small[i].scale);
		put(out, len, "%s %s%s", num, sym, per);
		return;
	}
	/* days, then thousands of days (never a date: that is above) */
	scaled(num, sizeof(num), v / 86400, "", 1000, dec, "");
	put(out, len, "%s d%s", num, per);
}

char *scales_human(char *buf, size_t len, double v, unsigned unit,
                   unsigned flags)
{
	static const char *const dec[] = { "",  "k", "M", "G",
		                           "T", "P", "E", NULL };
	static const char *const bin[] = { "",   "Ki", "Mi", "Gi",
		                           "Ti", "Pi", "Ei", NULL };
	if (!buf || !len)
		return buf;
	/* in full first, then cut to len (a date in strftime's way) */
	char out[SCALES_HUMAN_LEN];
	const char *per = flags & SCALES_HUMAN_RATE ? "/s" : "";
	if (isnan(v))
		put(out, sizeof(out), "-");
	else if (isinf(v))
		put(out, sizeof(out), "%s", v > 0 ? "inf" : "-inf");
	else if (unit == SCALES_UNIT_SECONDS)
		seconds(out, sizeof(out), v, flags, per);
	else if (unit == SCALES_UNIT_BYTES && v == floor(v) && fabs(v) < 1024)
		put(out, sizeof(out), "%.0f B%s", v == 0 ? 0.0 : v, per);
	else if (unit == SCALES_UNIT_BYTES)
		scaled(out, sizeof(out), v, "B", 1024, bin, per);
	else if (v == floor(v) && fabs(v) < 100000)
		/* a count you watch grow: exact up to 5 digits ("30259"),
		 * then 3 significant digits and a prefix ("123k") */
		put(out, sizeof(out), "%.0f%s", v == 0 ? 0.0 : v, per);
	else
		scaled(out, sizeof(out), v, "", 1000, dec, per);
	put(buf, len, "%s", out);
	return buf;
}
