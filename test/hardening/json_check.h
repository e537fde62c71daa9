/* SPDX-License-Identifier: MIT */
/*
 * json_check.h: a strict RFC 8259 validator for test programs and the fuzz
 * target: one JSON value, optional surrounding whitespace; strings without
 * raw control characters, with valid escapes (including \u surrogate
 * pairs) and valid UTF-8; numbers in JSON's grammar (no NaN, no Inf, no
 * leading zeros); nesting at most JSON_CHECK_DEPTH deep. Header-only.
 */
#ifndef SCALES_TEST_JSON_CHECK_H
#define SCALES_TEST_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define JSON_CHECK_DEPTH 64

struct json_cur {
	const unsigned char *p, *end;
};

static inline void json_ws(struct json_cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
	                         *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static inline bool json_lit(struct json_cur *c, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

static inline int json_hex4(struct json_cur *c)
{
	if (c->end - c->p < 4)
		return -1;
	int v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char h = c->p[i];
		int d = h >= '0' && h <= '9' ? h - '0' :
		        h >= 'a' && h <= 'f' ? h - 'a' + 10 :
		        h >= 'A' && h <= 'F' ? h - 'A' + 10 :
		                               -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	c->p += 4;
	return v;
}

/* One UTF-8 sequence at c->p (first byte >= 0x80). */
static inline bool json_utf8(struct json_cur *c)
{
	unsigned char b = *c->p;
	int len;
	unsigned char lo = 0x80, hi = 0xbf;
	if (b >= 0xc2 && b <= 0xdf)
		len = 2;
	else if (b >= 0xe0 && b <= 0xef) {
		len = 3;
		if (b == 0xe0)
			lo = 0xa0;
		if (b == 0xed)
			hi = 0x9f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4;
		if (b == 0xf0)
			lo = 0x90;
		if (b == 0xf4)
			hi = 0x8f;
	} else
		return false;
	if (c->end - c->p < len || c->p[1] < lo || c->p[1] > hi)
		return false;
	for (int i = 2; i < len; i++)
		if (c->p[i] < 0x80 || c->p[i] > 0xbf)
			return false;
	c->p += len;
	return true;
}

static inline bool json_string(struct json_cur *c)
{
	if (c->p >= c->end || *c->p != '"')
		return false;
	c->p++;
	while (c->p < c->end) {
		unsigned char b = *c->p;
		if (b == '"') {
			c->p++;
			return true;
		}
		if (b < 0x20)
			return false;
		if (b >= 0x80) {
			if (!json_utf8(c))
				return false;
			continue;
		}
		c->p++;
		if (b != '\\')
			continue;
		if (c->p >= c->end)
			return false;
		b = *c->p++;
		if (strchr("\"\\/bfnrt", b) && b)
			continue;
		if (b != 'u')
			return false;
		int u = json_hex4(c);
		if (u < 0 || (u >= 0xdc00 && u <= 0xdfff))
			return false;
		if (u >= 0xd800 && u <= 0xdbff) {
			if (!json_lit(c, "\\u"))
				return false;
			int l = json_hex4(c);
			if (l < 0xdc00 || l > 0xdfff)
				return false;
		}
	}
	return false;
}

static inline bool json_digit(const struct json_cur *c)
{
	return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

static inline bool json_number(struct json_cur *c)
{
	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (!json_digit(c))
		return false;
	if (*c->p == '0')
		c->p++;
	else
		while (json_digit(c))
			c->p++;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (!json_digit(c))
			return false;
		while (json_digit(c))
			c->p++;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (!json_digit(c))
			return false;
		while (json_digit(c))
			c->p++;
	}
	return true;
}

static inline bool json_value(struct json_cur *c, int depth)
{
	if (depth > JSON_CHECK_DEPTH)
		return false;
	json_ws(c);
	if (c->p >= c->end)
		return false;
	switch (*c->p) {
	case '{':
		c->p++;
		json_ws(c);
		if (c->p < c->end && *c->p == '}') {
			c->p++;
			return true;
		}
		for (;;) {
			json_ws(c);
			if (!json_string(c))
				return false;
			json_ws(c);
			if (c->p >= c->end || *c->p++ != ':')
				return false;
			if (!json_value(c, depth + 1))
				return false;
			json_ws(c);
			if (c->p >= c->end)
				return false;
			if (*c->p == '}') {
				c->p++;
				return true;
			}
			if (*c->p++ != ',')
				return false;
		}
	case '[':
		c->p++;
		json_ws(c);
		if (c->p < c->end && *c->p == ']') {
			c->p++;
			return true;
		}
		for (;;) {
			if (!json_value(c, depth + 1))
				return false;
			json_ws(c);
			if (c->p >= c->end)
				return false;
			if (*c->p == ']') {
				c->p++;
				return true;
			}
			if (*c->p++ != ',')
				return false;
		}
	case '"':
		return json_string(c);
	case 't':
		return json_lit(c, "true");
	case 'f':
		return json_lit(c, "false");
	case 'n':
		return json_lit(c, "null");
	default:
		return json_number(c);
	}
}

/* True if [s, s + n) is exactly one valid JSON value (plus whitespace). */
static inline bool json_valid(const char *s, size_t n)
{
	struct json_cur c = { (const unsigned char *)s,
		              (const unsigned char *)s + n };
	if (!s || !json_value(&c, 0))
		return false;
	json_ws(&c);
	return c.p == c.end;
}

#endif
