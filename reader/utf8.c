/* SPDX-License-Identifier: MIT */
/*
 * utf8.c: the one UTF-8 decoder of the readers. Every escaper (JSON, HTML,
 * Prometheus, Graphite names, the terminal) decides with it which bytes of
 * an untrusted string are valid text, so they can never disagree.
 */
#include <stdio.h>
#include <string.h>

#include <scales/reader.h>

size_t scales_utf8_decode(const void *str, size_t n, uint32_t *cp)
{
	const unsigned char *s = str;
	if (n == 0)
		return 0;
	size_t len;
	uint32_t c, min;
	if (s[0] < 0x80) {
		len = 1;
		c = s[0];
		min = 0;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1fu;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0fu;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07u;
		min = 0x10000;
	} else {
		return 0; /* a continuation byte, 0xc0, 0xc1, 0xf5 and up */
	}
	if (n < len)
		return 0;
	/* stops at the first byte that is not a continuation (a NUL too) */
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	/* overlong forms, surrogates and values past U+10FFFF */
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	if (cp)
		*cp = c;
	return len;
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
