/* SPDX-License-Identifier: MIT */
/*
 * naming.c: Graphite names. Every byte of a name comes from here, so this
 * is where no app name, path or state value can inject a line, split a
 * line's fields or start a Graphite tag, and where two distinct stats of
 * a process never get one name (docs/graphite.md, "Names").
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

/* One byte as "%XX" (upper-case hex). */
static size_t esc(char *out, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	out[0] = '%';
	out[1] = hex[c >> 4];
	out[2] = hex[c & 15];
	return 3;
}

/* The separator, the escape itself, white space, controls, tag syntax and
 * the directory separator, as a bitmap of the ASCII bytes: asked of every
 * byte of every name, so one shift rather than a strchr(). */
#define BIT(c) (1ull << ((c)&63))
static const uint64_t esc_lo = 0x1ffffffffull /* 0x00 to 0x20 */ | BIT('%') |
                               BIT('.') | BIT('/') | BIT(';') | BIT('=');
static const uint64_t esc_hi = BIT(0x7f);
#undef BIT

static bool ascii_escaped(unsigned char c)
{
	return ((c < 64 ? esc_lo >> c : esc_hi >> (c - 64)) & 1) != 0;
}

size_t gname_component(char *out, const char *in, size_t n)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t w = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c < 0x80) {
			/* the separator, the escape itself, white space,
			 * controls, tag syntax and the directory separator */
			if (ascii_escaped(c)) {
				w += esc(out + w, c);
				i++;
				continue;
			}
			/* a run of bytes kept as they are: one copy */
			size_t r = i + 1;
			while (r < n && s[r] < 0x80 && !ascii_escaped(s[r]))
				r++;
			memcpy(out + w, s + i, r - i);
			w += r - i;
			i = r;
			continue;
		}
		uint32_t cp;
		size_t len = scales_utf8_decode(s + i, n - i, &cp);
		if (len == 0) {
			w += esc(out + w, c);
			i++;
		} else if (cp_forbidden(cp)) {
			for (size_t k = 0; k < len; k++)
				w += esc(out + w, s[i + k]);
			i += len;
		} else {
			memcpy(out + w, s + i, len);
			w += len;
			i += len;
		}
	}
	/* no C string holds a NUL: "%00" is no other input's form */
	if (w == 0)
		w += esc(out, 0);
	out[w] = 0;
	return w;
}

/* The components the renderer appends to a metric's name (render.c):
 * histogram statistics, rates and meters; and the quantiles' names of the
 * naming in use (gname_quantiles, gname_seed_quantiles). */
static const struct {
	const char *s;
	size_t n; /* its length: asked of every path component, so no
	           * strlen() per word per component */
} reserved[] = {
#define R(w)                                                                   \
	{                                                                      \
		w, sizeof(w) - 1                                               \
	}
	R("count"),
	R("sum"),
	R("min"),
	R("max"),
	R("mean"),
	R("stddev"),
	R("total_count"),
	R("rate"),
	R("m1"),
	R("m5"),
	R("m15"),
	/* [11..16]: the quantiles by default */
	R("p50"),
	R("p75"),
	R("p95"),
	R("p98"),
	R("p99"),
	R("p999"),
	/* [17..22]: with --seed-names, as the Python seed's PmfStat */
	R("median"),
	R("75percentile"),
	R("95percentile"),
	R("98percentile"),
	R("99percentile"),
	R("999percentile"),
#undef R
};
#define NPLAIN 11
#define NQ 6

const char *const gname_quantiles[NQ] = { "p50", "p75", "p95",
	                                  "p98", "p99", "p999" };
const char *const gname_seed_quantiles[NQ] = {
	"median",       "75percentile", "95percentile",
	"98percentile", "99percentile", "999percentile",
};

static bool is_word(size_t i, const char *s, size_t n)
{
	if (reserved[i].n != n)
		return false;
	size_t k = 0;
	while (k < n && reserved[i].s[k] == s[k])
		k++;
	return k == n;
}

bool gname_reserved(const char *s, size_t n, bool seed)
{
	/* most components are none: out after a look at the first byte */
	if (n < 2 || n > 13)
		return false;
	switch (s[0]) {
	case 'c':
	case 'm':
	case 'p':
	case 'r':
	case 's':
	case 't':
	case '7':
	case '9':
		break;
	default:
		return false;
	}
	for (size_t i = 0; i < NPLAIN; i++)
		if (is_word(i, s, n))
			return true;
	/* only the quantiles' names of the naming in use: a stat named
	 * "median" keeps its name by default, and is "_median" with
	 * --seed-names, where "median" is a histogram's statistic */
	size_t q = seed ? NPLAIN + NQ : NPLAIN;
	for (size_t i = q; i < q + NQ; i++)
		if (is_word(i, s, n))
			return true;
	return false;
}

/* A path component: as gname_component(), and one more leading "_" if it
 * is a reserved word with any number of leading "_" ("count" -> "_count",
 * "_count" -> "__count"), so that no path component reads as a statistic
 * of its parent and the mapping stays one-to-one. */
static size_t path_component(char *out, const char *in, size_t n, bool seed)
{
	size_t k = 0;
	while (k < n && in[k] == '_')
		k++;
	size_t w = 0;
	if (gname_reserved(in + k, n - k, seed))
		out[w++] = '_';
	return w + gname_component(out + w, in, n);
}

size_t gname_path(char *out, const char *path, bool seed)
{
	size_t w = 0;
	const char *p = path;
	while (*p == '/')
		p++;
	while (*p) {
		size_t len = 0;
		while (p[len] && p[len] != '/')
			len++;
		if (len) {
			if (w)
				out[w++] = '.';
			w += path_component(out + w, p, len, seed);
		}
		p += len;
		while (*p == '/')
			p++;
	}
	out[w] = 0;
	return w;
}

size_t gname_key(char *out, const char *in, size_t n, bool seed)
{
	/* keys are path components */
	return path_component(out, in, n, seed);
}

size_t gname_state(char *out, const char *in, size_t n)
{
	/* "~" is in no path component (the writer's path rules) and no
	 * reserved word: a state value never reads as a child stat */
	out[0] = '~';
	return 1 + gname_component(out + 1, in, n);
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
			if (w + 3 * n + 2 > len)
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
