/* SPDX-License-Identifier: MIT */
/*
 * escape.c: printable text from untrusted bytes (see escape.h), in
 * rotating buffers; the escaping itself is the reader's scales_printable().
 */
#include "escape.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scales/reader.h>

const char *top_esc(const char *s)
{
	static char *ring[8];
	static size_t cap[8];
	static unsigned next;
	if (!s)
		return "(null)";
	unsigned i = next++ % 8;
	size_t need = strlen(s) * 4 + 1; /* at most \xHH per byte */
	if (cap[i] < need) {
		char *b = realloc(ring[i], need);
		if (!b)
			return "?";
		ring[i] = b;
		cap[i] = need;
	}
	return scales_printable(ring[i], cap[i], s);
}
