/*
 * member.c - a member's JSON text, found in the text of its object.
 */
#include <stddef.h>

#include "member.h"

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The byte after the JSON string whose '"' is at p; NULL if unclosed. */
static const char *
skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\' && ++p == end)
			break;
	}
	return NULL;
}

/*
 * The byte after the JSON value at p; NULL if it is cut short.  The
 * text is valid JSON (payload_scan() said so), so brackets only need
 * counting outside strings, and a number or a literal ends at the first
 * byte that cannot be in one.
 */
static const char *
skip_value(const char *p, const char *end)
{
	const char *start = p;
	int depth = 0;
	char c;

	if (p < end && *p == '"')
		return skip_string(p, end);
	if (p < end && *p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']' &&
		    *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		return p > start ? p : NULL;
	}
	while (p < end) {
		if (*p == '"') {
			if ((p = skip_string(p, end)) == NULL)
				return NULL;
			continue;
		}
		c = *p++;
		if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0)
			return p;
	}
	return NULL;
}

static int
hex4(const char *p)
{
	int v = 0, i;

	for (i = 0; i < 4; i++) {
		v *= 16;
		if (p[i] >= '0' && p[i] <= '9')
			v += p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			v += p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			v += p[i] - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * Whether the body s..e of a JSON string (quotes excluded) is key once
 * unescaped, as json-c and jsonb compare keys: "\u0065mail" is "email".
 * Escaped U+0000 and unpaired surrogates (payload_scan() left none)
 * match no C string.
 */
static int
key_is(const char *s, const char *e, const char *key)
{
	unsigned char u[4];
	long cp, lo;
	size_t n, i;

	while (s < e) {
		if (*s != '\\') {
			if (*key == '\0' || *s++ != *key++)
				return 0;
			continue;
		}
		if (e - s < 2)
			return 0;
		if (s[1] != 'u') {
			switch (s[1]) {
			case 'b': u[0] = '\b'; break;
			case 'f': u[0] = '\f'; break;
			case 'n': u[0] = '\n'; break;
			case 'r': u[0] = '\r'; break;
			case 't': u[0] = '\t'; break;
			default: u[0] = (unsigned char)s[1]; break; /* " \ / */
			}
			n = 1;
			s += 2;
		} else {
			if (e - s < 6 || (cp = hex4(s + 2)) < 0)
				return 0;
			s += 6;
			if (cp >= 0xd800 && cp <= 0xdbff && e - s >= 6 &&
			    s[0] == '\\' && s[1] == 'u' &&
			    (lo = hex4(s + 2)) >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				s += 6;
			}
			if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
				return 0;
			if (cp < 0x80) {
				u[0] = (unsigned char)cp;
				n = 1;
			} else if (cp < 0x800) {
				u[0] = (unsigned char)(0xc0 | cp >> 6);
				u[1] = (unsigned char)(0x80 | (cp & 0x3f));
				n = 2;
			} else if (cp < 0x10000) {
				u[0] = (unsigned char)(0xe0 | cp >> 12);
				u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				u[2] = (unsigned char)(0x80 | (cp & 0x3f));
				n = 3;
			} else {
				u[0] = (unsigned char)(0xf0 | cp >> 18);
				u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
				u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				u[3] = (unsigned char)(0x80 | (cp & 0x3f));
				n = 4;
			}
		}
		for (i = 0; i < n; i++)
			if (*key == '\0' || (unsigned char)*key++ != u[i])
				return 0;
	}
	return *key == '\0';
}

const char *
member_find(const char *ev, size_t len, const char *key, size_t *vlen)
{
	const char *p, *end = ev + len, *k, *v, *found = NULL;
	int match;

	p = skip_ws(ev, end);
	if (p >= end || *p++ != '{')
		return NULL;
	/* Every member, not the first match: the last duplicate wins. */
	for (;;) {
		p = skip_ws(p, end);
		if (p >= end)
			return NULL;
		if (*p == '}')
			return found;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '"')
			return NULL;
		k = p;
		if ((p = skip_string(p, end)) == NULL)
			return NULL;
		match = key_is(k + 1, p - 1, key);
		p = skip_ws(p, end);
		if (p >= end || *p++ != ':')
			return NULL;
		v = skip_ws(p, end);
		if ((p = skip_value(v, end)) == NULL)
			return NULL;
		if (match) {
			found = v;
			*vlen = (size_t)(p - v);
		}
	}
}

