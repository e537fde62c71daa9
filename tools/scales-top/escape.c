/* SPDX-License-Identifier: MIT */
/*
 * escape.c: printable text from untrusted bytes (see escape.h).
 */
#include "escape.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scales/reader.h>

/* Length of the valid UTF-8 sequence at s (NUL-terminated) encoding a code
 * point of U+00A0 or more (so no C1 control), or 0. */
static size_t text_len(const unsigned char *s)
{
	uint32_t cp;
	size_t len = scales_utf8_decode(s, strnlen((const char *)s, 4), &cp);
	return len >= 2 && cp >= 0xa0 ? len : 0;
}

char *top_escape_to(char *dst, size_t n, const char *s)
{
	if (!n)
		return dst;
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	while (*p) {
		char tmp[5];
		size_t l;
		const char *piece;
		if (*p == '\\') {
			piece = "\\\\";
			l = 2;
			p++;
		} else if (*p >= 0x20 && *p < 0x7f) {
			tmp[0] = (char)*p++;
			piece = tmp;
			l = 1;
		} else if (*p >= 0x80 && (l = text_len(p)) != 0) {
			memcpy(tmp, p, l);
			piece = tmp;
			p += l;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", *p++);
			piece = tmp;
			l = 4;
		}
		if (w + l >= n)
			break;
		memcpy(dst + w, piece, l);
		w += l;
	}
	dst[w] = '\0';
	return dst;
}

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
	return top_escape_to(ring[i], cap[i], s);
}
