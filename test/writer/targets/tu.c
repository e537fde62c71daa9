/* SPDX-License-Identifier: MIT */
/* tu.c: a tiny translation unit that includes the public headers and uses
 * the inline hot path, for header-targets.sh. */
#ifdef TU_WRITER
#include <scales/scales.h>

void tu_writer(const scales_counter *c, const scales_histogram *h);
void tu_writer(const scales_counter *c, const scales_histogram *h)
{
	scales_counter_inc(c);
	SCALES_TIME(h)
	{
		scales_histogram_record(h, 1);
	}
}
#endif
#ifdef TU_READER
#include <scales/reader.h>

int tu_reader(void);
int tu_reader(void)
{
	return SCALES_RE_FOREIGN;
}
#endif
