/* SPDX-License-Identifier: MIT */
/* test_utf8.c: the readers' one UTF-8 decoder. */
#include <criterion/criterion.h>
#include <string.h>

#include <scales/reader.h>

struct utf8_case {
	const char *bytes;
	size_t n;
	size_t len;  /* expected length, 0 = invalid */
	uint32_t cp; /* expected code point when valid */
};

Test(utf8, valid_and_invalid_sequences)
{
	static const struct utf8_case cases[] = {
		{ "A", 1, 1, 0x41 },
		{ "\x7f", 1, 1, 0x7f },
		{ "\xc2\xa0", 2, 2, 0xa0 },
		{ "\xc3\xa9", 2, 2, 0xe9 },
		{ "\xe2\x82\xac", 3, 3, 0x20ac },
		{ "\xf0\x9f\x98\x80", 4, 4, 0x1f600 },
		{ "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },
		{ "\xc0\xaf", 2, 0, 0 },         /* overlong "/" */
		{ "\xc1\xbf", 2, 0, 0 },         /* overlong */
		{ "\xe0\x80\xaf", 3, 0, 0 },     /* overlong */
		{ "\xf0\x80\x80\xaf", 4, 0, 0 }, /* overlong */
		{ "\xed\xa0\x80", 3, 0, 0 },     /* surrogate U+D800 */
		{ "\xf4\x90\x80\x80", 4, 0, 0 }, /* past U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, 0, 0 },
		{ "\x80", 1, 0, 0 },       /* lone continuation */
		{ "\xe2\x82", 2, 0, 0 },   /* truncated by n */
		{ "\xe2\x82\0", 3, 0, 0 }, /* truncated by a NUL */
		{ "\xc3\x28", 2, 0, 0 },   /* bad continuation */
		{ "", 0, 0, 0 },           /* nothing */
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		uint32_t cp = 0xdeadbeef;
		size_t len =
		    scales_utf8_decode(cases[i].bytes, cases[i].n, &cp);
		cr_assert_eq(len, cases[i].len, "case %zu: length %zu", i, len);
		if (len)
			cr_assert_eq(cp, cases[i].cp, "case %zu: U+%X", i, cp);
		else
			cr_assert_eq(cp, 0xdeadbeef, "case %zu: cp untouched",
			             i);
		cr_assert_eq(scales_utf8_decode(cases[i].bytes, cases[i].n,
		                                NULL),
		             len);
	}
}
