/* SPDX-License-Identifier: MIT */
/*
 * path.c: the path rules (docs/format.md section 5, "Paths") and the
 * escaping of a value into one derived path component (section 6,
 * "Derived paths"). The writer refuses what scales_shm_path_ok() refuses;
 * readers drop entries it refuses.
 */
#include <string.h>

#include "scales_shm.h"

bool scales_shm_path_byte_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	       c == ':' || c == '@' || c == '+' || c == '%';
}

bool scales_shm_path_ok(const char *p, size_t n)
{
	if (n < 2 || n > SCALES_SHM_PATH_MAX - 1 || p[0] != '/')
		return false;
	size_t comp = 0, dots = 0; /* bytes, and dots, of the component */
	for (size_t i = 1; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)p[i] : '/';
		if (c == '/') {
			/* empty (also "//" and a trailing "/"), "." or ".." */
			if (comp == 0 || (comp == dots && comp <= 2))
				return false;
			comp = dots = 0;
			continue;
		}
		if (!scales_shm_path_byte_ok(c))
			return false;
		comp++;
		dots += c == '.';
	}
	return true;
}

static const char hex[] = "0123456789ABCDEF";

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t scales_shm_unescape_component(const char *in, char *out)
{
	size_t o = 0;
	if (in[0] == '%' && in[1] == 0) { /* the empty value */
		out[0] = 0;
		return 0;
	}
	for (const char *p = in; *p;) {
		int hi, lo;
		if (p[0] == '%' && (hi = hex_value(p[1])) >= 0 &&
		    (lo = hex_value(p[2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			p += 3;
		} else {
			out[o++] = *p++; /* not from the escaper: kept as is */
		}
	}
	out[o] = 0;
	return o;
}

size_t scales_shm_utf8_decode(const void *str, size_t n, uint32_t *cp)
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

int scales_shm_key_component(const char *key, size_t room, char *out)
{
	size_t n = strlen(key), esc = 0;
	for (size_t i = 0; i < n;) {
		size_t l = scales_shm_utf8_decode(key + i, n - i, NULL);
		if (l == 0)
			return -1;
		for (size_t j = 0; j < l; j++) {
			unsigned char c = (unsigned char)key[i + j];
			esc += scales_shm_path_byte_ok(c) && c != '%' ? 1 : 3;
		}
		i += l;
	}
	if (n <= 2 && n && key[0] == '.' && key[n - 1] == '.')
		esc = 3 * n; /* "." and ".." are escaped whole */
	if ((n ? esc : 1) > room)
		return -2;
	return (int)scales_shm_escape_component(key, n, out);
}

size_t scales_shm_escape_component(const char *in, size_t n, char *out)
{
	size_t o = 0;
	if (n == 0) {
		out[o++] = '%'; /* no other value encodes to a lone '%' */
		out[o] = 0;
		return o;
	}
	/* "." and ".." are no component: their dots are encoded */
	bool dots = n <= 2 && in[0] == '.' && in[n - 1] == '.';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (scales_shm_path_byte_ok(c) && c != '%' && !dots) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = 0;
	return o;
}
