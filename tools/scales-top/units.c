/* SPDX-License-Identifier: MIT */
/*
 * units.c: human-readable numbers (see units.h).
 */
#include "units.h"

static unsigned units_flags;

void top_units_utf8(bool on)
{
	units_flags = on ? 0 : SCALES_HUMAN_ASCII;
}

char *top_fmt_unit(char *buf, double v, unsigned unit)
{
	return scales_human(buf, TOP_NUM_LEN, v, unit, units_flags);
}

char *top_fmt_rate(char *buf, double v, unsigned unit)
{
	return scales_human(buf, TOP_NUM_LEN, v, unit,
	                    units_flags | SCALES_HUMAN_RATE);
}

int top_str_width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}
