/* SPDX-License-Identifier: MIT */
/*
 * naming.c: Graphite names. Every byte of a name comes from here, so this
 * is where no app name, path or state value can inject a line, split a
 * line's fields or start a Graphite tag (docs/graphite.md, "Names").
 */
#include <ctype.h>
#include <string.h>
#include <unistd.h>

#include "export.h"

/* Code points that must not appear: C1 controls and what Python's
 * str.split() (carbon's line parser) or Unicode call white space. */
static bool cp_forbidden(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0xa0) || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

size_t gname_component(char *out, const char *in, size_t n)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t w = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c < 0x80) {
			if (c == '.' || c == ' ')
				out[w++] = '-';
			else if (c < 0x20 || c == 0x7f || c == ';' ||
			         c == '=' || c == '/')
				out[w++] = '_';
			else
				out[w++] = (char)c;
			i++;
			continue;
		}
		uint32_t cp;
		size_t len = scales_utf8_decode(s + i, n - i, &cp);
		if (len == 0) {
			out[w++] = '_';
			i++;
		} else if (cp_forbidden(cp)) {
			out[w++] = '_';
			i += len;
		} else {
			memcpy(out + w, s + i, len);
			w += len;
			i += len;
		}
	}
	if (w == 0)
		out[w++] = '_';
	out[w] = 0;
	return w;
}

size_t gname_path(char *out, const char *path)
{
	size_t w = 0;
	const char *p = path;
	while (*p == '/')
		p++;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len) {
			if (w)
				out[w++] = '.';
			w += gname_component(out + w, p, len);
		}
		p += len;
		while (*p == '/')
			p++;
	}
	out[w] = 0;
	return w;
}

int gname_prefix(char *out, size_t len, const char *prefix)
{
	char host[256];
	if (!prefix) {
		if (gethostname(host, sizeof(host) - 1) != 0)
			strcpy(host, "localhost");
		host[sizeof(host) - 1] = 0;
		for (char *h = host; *h; h++)
			*h = (char)tolower((unsigned char)*h);
		prefix = host;
	}
	size_t w = 0;
	const char *p = prefix;
	while (*p) {
		const char *e = strchr(p, '.');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n) {
			if (w + n + 3 > len)
				return -1;
			w += gname_component(out + w, p, n);
			out[w++] = '.';
		}
		p += n;
		if (*p == '.')
			p++;
	}
	if (w + 1 > len)
		return -1;
	out[w] = 0;
	return (int)w;
}
