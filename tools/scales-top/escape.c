/* SPDX-License-Identifier: MIT */
/*
 * escape.c: printable text from untrusted bytes (see escape.h), in
 * rotating buffers; the escaping itself is the reader's scales_printable().
 */
#include "escape.h"

#include <stdbool.h>
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

const char *top_name(const struct scales_metric *m, const char *s, size_t n)
{
	char *t = malloc(n + 1);
	if (!t)
		return "?";
	memcpy(t, s, n);
	t[n] = 0;
	if (m && (m->flags & SCALES_MF_KEY)) {
		/* decoding only shortens: in place after the last "/" */
		char *last = strrchr(t, '/');
		last = last ? last + 1 : t;
		char *v = strdup(last);
		if (v) {
			scales_derived_value(v, last);
			free(v);
		}
	}
	const char *r = top_esc(t);
	free(t);
	return r;
}
