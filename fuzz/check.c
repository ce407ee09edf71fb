/*
 * check.c - invariant checks shared by the fuzz targets.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/*
 * Decodes the UTF-8 sequence at s[i] into *cp and returns its length,
 * or 0 when it is not the shortest form of a scalar value (RFC 3629).
 * Decoding and then range-checking is the other way round from
 * payload.c's table of byte ranges.
 */
static size_t
utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static int
hex4(const unsigned char *s, size_t avail, uint32_t *v)
{
	size_t i;

	*v = 0;
	if (avail < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		unsigned char c = s[i];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v |= c - 'A' + 10;
		else
			return -1;
	}
	return 0;
}

void
check_jsonb_text(const char *what, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t cp, lo;
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			fuzz_fail("%s: invalid UTF-8 at byte %zu (0x%02x)",
			    what, i, s[i]);
		if (s[i] != '\\') {
			i += n;
			continue;
		}
		/* Backslashes occur only inside strings in valid JSON. */
		if (i + 1 >= len)
			fuzz_fail("%s: lone backslash at the end", what);
		if (s[i + 1] != 'u') {
			i += 2;
			continue;
		}
		if (hex4(s + i + 2, len - i - 2, &cp) == -1)
			fuzz_fail("%s: bad \\u escape at byte %zu", what, i);
		if (cp == 0)
			fuzz_fail("%s: \\u0000 at byte %zu", what, i);
		if (cp >= 0xdc00 && cp <= 0xdfff)
			fuzz_fail("%s: unpaired low surrogate at byte %zu",
			    what, i);
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (i + 12 > len || s[i + 6] != '\\' ||
			    s[i + 7] != 'u' ||
			    hex4(s + i + 8, len - i - 8, &lo) == -1 ||
			    lo < 0xdc00 || lo > 0xdfff)
				fuzz_fail("%s: unpaired high surrogate at "
				    "byte %zu", what, i);
			i += 12;
			continue;
		}
		i += 6;
	}
}

void
check_utf8(const char *what, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t cp;
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			fuzz_fail("%s: invalid UTF-8 at byte %zu (0x%02x)",
			    what, i, s[i]);
		if (cp == 0)
			fuzz_fail("%s: NUL byte at byte %zu", what, i);
		i += n;
	}
}
