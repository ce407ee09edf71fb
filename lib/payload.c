/*
 * payload.c - a strict JSON scanner that finds the events of a body.
 *
 * json-c, even with JSON_TOKENER_STRICT, accepts NaN, Infinity and
 * single-quoted strings, and it does not say where an error is in terms a
 * provider's support desk can use.  So every body passes this scanner
 * first; json-c then only reads fields out of text known to be good.
 * The grammar is RFC 8259's, with one extension: a comma may precede a
 * closing '}' or ']' (Aldeamo's documented samples do that).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "limits.h"
#include "payload.h"

struct scan {
	char		*p;
	size_t		 len;
	size_t		 pos;
	size_t		 values;	/* values in the current event */
	int		 repaired;	/* a string of it was repaired */
	struct payload	*pl;
};

static int	scan_value(struct scan *, int depth);

static int
scan_fail(struct scan *s, enum payload_err err, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
scan_fail(struct scan *s, enum payload_err err, size_t at, const char *fmt, ...)
{
	va_list ap;

	s->pl->err = err;
	s->pl->err_offset = at;
	va_start(ap, fmt);
	vsnprintf(s->pl->err_text, sizeof s->pl->err_text, fmt, ap);
	va_end(ap);
	return -1;
}

/* Names the byte at pos for an error message. */
static int
scan_unexpected(struct scan *s, const char *wanted)
{
	unsigned char c;

	if (s->pos >= s->len)
		return scan_fail(s, PAYLOAD_SYNTAX, s->pos,
		    "unexpected end of body at byte %zu, %s expected",
		    s->pos, wanted);
	c = (unsigned char)s->p[s->pos];
	if (c > 0x20 && c < 0x7f)
		return scan_fail(s, PAYLOAD_SYNTAX, s->pos,
		    "unexpected '%c' at byte %zu, %s expected", c, s->pos,
		    wanted);
	return scan_fail(s, PAYLOAD_SYNTAX, s->pos,
	    "unexpected byte 0x%02x at byte %zu, %s expected", c, s->pos,
	    wanted);
}

static void
scan_ws(struct scan *s)
{
	while (s->pos < s->len) {
		char c = s->p[s->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		s->pos++;
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads the 4 hex digits after "\u" at pos; -1 when they are not hex. */
static long
scan_u16(struct scan *s, size_t pos)
{
	long v = 0;
	int i, h;

	if (pos + 4 > s->len)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((h = hexval(s->p[pos + i])) < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/*
 * Length of the valid UTF-8 sequence at p (1 to 4), or 0 when it is not
 * one: overlong forms, surrogates and code points past U+10FFFF are all
 * invalid (Unicode 15, table 3-7), because PostgreSQL refuses them.
 */
static size_t
utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (avail < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static int
scan_string(struct scan *s)
{
	size_t start = s->pos, n;
	long u, u2;
	unsigned char c;

	s->pos++;
	for (;;) {
		/* The byte at pos would make the string pos - start + 1 long. */
		if (s->pos - start >= LIMIT_FIELD)
			return scan_fail(s, PAYLOAD_FIELD, start,
			    "string at byte %zu is longer than %d bytes",
			    start, LIMIT_FIELD);
		if (s->pos >= s->len)
			return scan_fail(s, PAYLOAD_SYNTAX, start,
			    "unterminated string starting at byte %zu", start);
		c = (unsigned char)s->p[s->pos];
		if (c == '"') {
			s->pos++;
			return 0;
		}
		if (c < 0x20)
			return scan_fail(s, PAYLOAD_SYNTAX, s->pos,
			    "control byte 0x%02x in a string at byte %zu "
			    "(it must be escaped)", c, s->pos);
		if (c >= 0x80) {
			n = utf8_len((unsigned char *)s->p + s->pos,
			    s->len - s->pos);
			if (n == 0) {
				s->p[s->pos++] = '?';
				s->repaired = 1;
				continue;
			}
			s->pos += n;
			continue;
		}
		if (c != '\\') {
			s->pos++;
			continue;
		}
		if (s->pos + 1 >= s->len)
			return scan_fail(s, PAYLOAD_SYNTAX, start,
			    "unterminated string starting at byte %zu", start);
		switch (s->p[s->pos + 1]) {
		case '"': case '\\': case '/': case 'b': case 'f':
		case 'n': case 'r': case 't':
			s->pos += 2;
			continue;
		case 'u':
			break;
		default:
			return scan_fail(s, PAYLOAD_SYNTAX, s->pos,
			    "invalid escape at byte %zu", s->pos);
		}
		if ((u = scan_u16(s, s->pos + 2)) < 0)
			return scan_fail(s, PAYLOAD_SYNTAX, s->pos,
			    "invalid \\u escape at byte %zu", s->pos);
		if (u >= 0xd800 && u <= 0xdbff && s->pos + 7 < s->len &&
		    s->p[s->pos + 6] == '\\' && s->p[s->pos + 7] == 'u' &&
		    (u2 = scan_u16(s, s->pos + 8)) >= 0xdc00 && u2 <= 0xdfff) {
			s->pos += 12;		/* a proper surrogate pair */
			continue;
		}
		/*
		 * PostgreSQL's jsonb refuses U+0000 and unpaired surrogates,
		 * and would refuse the whole batch with them: write the
		 * replacement character over them instead, same length.
		 */
		if (u == 0 || (u >= 0xd800 && u <= 0xdfff)) {
			memcpy(s->p + s->pos + 2, "fffd", 4);
			s->repaired = 1;
		}
		s->pos += 6;
	}
}

static int
scan_number(struct scan *s)
{
	size_t start = s->pos;
	long exp = 0;

	if (s->p[s->pos] == '-')
		s->pos++;
	if (s->pos < s->len && s->p[s->pos] == '0')
		s->pos++;
	else if (s->pos < s->len && s->p[s->pos] >= '1' && s->p[s->pos] <= '9')
		while (s->pos < s->len && s->p[s->pos] >= '0' &&
		    s->p[s->pos] <= '9')
			s->pos++;
	else if (s->pos < s->len && s->p[s->pos] == 'I')
		return scan_fail(s, PAYLOAD_NUMBER, start,
		    "-Infinity at byte %zu is not JSON", start);
	else
		return scan_unexpected(s, "a digit");
	if (s->pos < s->len && s->p[s->pos] == '.') {
		s->pos++;
		if (s->pos >= s->len || s->p[s->pos] < '0' || s->p[s->pos] > '9')
			return scan_unexpected(s, "a digit after '.'");
		while (s->pos < s->len && s->p[s->pos] >= '0' &&
		    s->p[s->pos] <= '9')
			s->pos++;
	}
	if (s->pos < s->len && (s->p[s->pos] == 'e' || s->p[s->pos] == 'E')) {
		s->pos++;
		if (s->pos < s->len && (s->p[s->pos] == '+' || s->p[s->pos] == '-'))
			s->pos++;
		if (s->pos >= s->len || s->p[s->pos] < '0' || s->p[s->pos] > '9')
			return scan_unexpected(s, "a digit in the exponent");
		while (s->pos < s->len && s->p[s->pos] >= '0' &&
		    s->p[s->pos] <= '9') {
			if (exp <= LIMIT_NUMBER_EXP)
				exp = exp * 10 + (s->p[s->pos] - '0');
			s->pos++;
		}
	}
	/* The exponent's sign does not matter: numeric holds both ends. */
	if (exp > LIMIT_NUMBER_EXP || s->pos - start > LIMIT_NUMBER_LEN)
		return scan_fail(s, PAYLOAD_NUMBER, start,
		    "number at byte %zu is out of range", start);
	return 0;
}

static int
scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if (s->len - s->pos < n || memcmp(s->p + s->pos, word, n) != 0)
		return scan_unexpected(s, "a JSON value");
	s->pos += n;
	return 0;
}

/*
 * Scans the members of an object or the elements of an array, the
 * opening bracket already consumed.  A comma before the closing bracket
 * is blanked out, so json-c and PostgreSQL never see it.
 */
static int
scan_members(struct scan *s, int depth, char close)
{
	size_t comma;

	scan_ws(s);
	if (s->pos < s->len && s->p[s->pos] == close) {
		s->pos++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (s->pos >= s->len || s->p[s->pos] != '"')
				return scan_unexpected(s, "a string key");
			if (scan_string(s) == -1)
				return -1;
			scan_ws(s);
			if (s->pos >= s->len || s->p[s->pos] != ':')
				return scan_unexpected(s, "':'");
			s->pos++;
		}
		if (scan_value(s, depth) == -1)
			return -1;
		scan_ws(s);
		if (s->pos < s->len && s->p[s->pos] == close) {
			s->pos++;
			return 0;
		}
		if (s->pos >= s->len || s->p[s->pos] != ',')
			return scan_unexpected(s, close == '}' ?
			    "',' or '}'" : "',' or ']'");
		comma = s->pos++;
		scan_ws(s);
		if (s->pos < s->len && s->p[s->pos] == close) {
			s->p[comma] = ' ';
			s->pos++;
			return 0;
		}
	}
}

static int
scan_value(struct scan *s, int depth)
{
	char c;

	scan_ws(s);
	if (s->pos >= s->len)
		return scan_unexpected(s, "a JSON value");
	if (++s->values > LIMIT_EVENT_VALUES)
		return scan_fail(s, PAYLOAD_VALUES, s->pos,
		    "more than %d values in one event at byte %zu",
		    LIMIT_EVENT_VALUES, s->pos);
	c = s->p[s->pos];
	switch (c) {
	case '{':
	case '[':
		if (depth + 1 > LIMIT_DEPTH)
			return scan_fail(s, PAYLOAD_DEPTH, s->pos,
			    "nesting deeper than %d at byte %zu",
			    LIMIT_DEPTH, s->pos);
		s->pos++;
		return scan_members(s, depth + 1, c == '{' ? '}' : ']');
	case '"':
		return scan_string(s);
	case 't':
		return scan_literal(s, "true");
	case 'f':
		return scan_literal(s, "false");
	case 'n':
		return scan_literal(s, "null");
	case 'N':
	case 'I':
		return scan_fail(s, PAYLOAD_NUMBER, s->pos,
		    "NaN and Infinity at byte %zu are not JSON", s->pos);
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return scan_number(s);
		return scan_unexpected(s, "a JSON value");
	}
}

static void
payload_add_span(struct payload *pl, size_t off, size_t len, int repaired)
{
	if (pl->nspans == pl->cap) {
		pl->cap = pl->cap ? pl->cap * 2 : 16;
		pl->spans = xrealloc(pl->spans, pl->cap * sizeof *pl->spans);
	}
	pl->spans[pl->nspans].off = off;
	pl->spans[pl->nspans].len = len;
	pl->spans[pl->nspans].repaired = repaired;
	pl->nspans++;
}

/* Scans one event: an object, at depth 1 (alone) or 2 (in a batch). */
static int
scan_event(struct scan *s, int depth)
{
	size_t start = s->pos;

	if (s->pos >= s->len || s->p[s->pos] != '{') {
		if (s->pos < s->len && s->pl->is_array)
			return scan_fail(s, PAYLOAD_NOT_EVENTS, s->pos,
			    "element %zu at byte %zu is not an object",
			    s->pl->nspans, s->pos);
		return scan_unexpected(s, "an object");
	}
	s->values = 0;
	s->repaired = 0;
	if (scan_value(s, depth - 1) == -1)
		return -1;
	payload_add_span(s->pl, start, s->pos - start, s->repaired);
	return 0;
}

static int
scan_batch(struct scan *s)
{
	size_t comma;

	s->pos++;			/* '[' */
	scan_ws(s);
	if (s->pos < s->len && s->p[s->pos] == ']') {
		s->pos++;
		return 0;
	}
	for (;;) {
		if (s->pl->nspans == LIMIT_EVENTS)
			return scan_fail(s, PAYLOAD_TOO_MANY, s->pos,
			    "more than %d events in one request", LIMIT_EVENTS);
		if (scan_event(s, 2) == -1)
			return -1;
		scan_ws(s);
		if (s->pos < s->len && s->p[s->pos] == ']') {
			s->pos++;
			return 0;
		}
		if (s->pos >= s->len || s->p[s->pos] != ',')
			return scan_unexpected(s, "',' or ']'");
		comma = s->pos++;
		scan_ws(s);
		if (s->pos < s->len && s->p[s->pos] == ']') {
			s->p[comma] = ' ';
			s->pos++;
			return 0;
		}
	}
}

int
payload_scan(struct payload *pl, char *body, size_t len)
{
	struct scan s = { body, len, 0, 0, 0, pl };
	int rc;

	pl->nspans = 0;
	pl->is_array = 0;
	pl->err = PAYLOAD_OK;
	pl->err_offset = 0;
	pl->err_text[0] = '\0';

	scan_ws(&s);
	if (s.pos >= len)
		return scan_fail(&s, PAYLOAD_EMPTY, 0, "empty body");
	if (body[s.pos] == '[') {
		pl->is_array = 1;
		rc = scan_batch(&s);
	} else if (body[s.pos] == '{')
		rc = scan_event(&s, 1);
	else {
		/* A bare value: say what is wrong with it, syntax first. */
		size_t start = s.pos;
		if (scan_value(&s, 0) == -1)
			return -1;
		scan_ws(&s);
		if (s.pos < len)
			return scan_fail(&s, PAYLOAD_TRAILING, s.pos,
			    "trailing bytes after the JSON value at byte %zu",
			    s.pos);
		return scan_fail(&s, PAYLOAD_NOT_EVENTS, start,
		    "the body is a JSON %s, not an object or an array "
		    "of objects", body[start] == '"' ? "string" :
		    body[start] == 'n' ? "null" : body[start] == 't' ||
		    body[start] == 'f' ? "boolean" : "number");
	}
	if (rc == -1)
		return -1;
	scan_ws(&s);
	if (s.pos < len)
		return scan_fail(&s, PAYLOAD_TRAILING, s.pos,
		    "trailing bytes after the JSON value at byte %zu", s.pos);
	return 0;
}

int
payload_http_status(enum payload_err err)
{
	return err == PAYLOAD_TOO_MANY ? 413 : 400;
}

void
payload_release(struct payload *pl)
{
	free(pl->spans);
	pl->spans = NULL;
	pl->nspans = pl->cap = 0;
}
