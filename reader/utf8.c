/* SPDX-License-Identifier: MIT */
/*
 * utf8.c: the one UTF-8 decoder of the readers. Every escaper (JSON, HTML,
 * Prometheus, Graphite names, the terminal) decides with it which bytes of
 * an untrusted string are valid text, so they can never disagree.
 */
#include <stdio.h>
#include <string.h>

#include <scales/reader.h>

#include "scales_shm.h"

size_t scales_utf8_decode(const void *str, size_t n, uint32_t *cp)
{
	return scales_shm_utf8_decode(str, n, cp); /* the writer's rule too */
}

/* Length of the valid UTF-8 sequence at s (NUL-terminated) encoding a code
 * point of U+00A0 or more (so no C1 control), or 0. */
static size_t text_len(const unsigned char *s)
{
	uint32_t cp;
	size_t len = scales_utf8_decode(s, strnlen((const char *)s, 4), &cp);
	return len >= 2 && cp >= 0xa0 ? len : 0;
}

char *scales_printable(char *dst, size_t n, const char *s)
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
			break; /* an escape is never cut in half */
		memcpy(dst + w, piece, l);
		w += l;
	}
	dst[w] = '\0';
	return dst;
}
