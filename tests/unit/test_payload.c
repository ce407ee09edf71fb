/*
 * test_payload.c - the body scanner: what it accepts, refuses, repairs,
 * and where it says the fault is; each limit at its edge.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "limits.h"
#include "payload.h"
#include "tap.h"

static struct payload pl = PAYLOAD_INIT;
static char scratch[1 << 16];

/* Scans a copy of s; returns the error (PAYLOAD_OK on success). */
static enum payload_err
scan(const char *s)
{
	size_t n = strlen(s);

	memcpy(scratch, s, n + 1);
	if (payload_scan(&pl, scratch, n) == 0)
		return PAYLOAD_OK;
	return pl.err;
}

static void
refused(const char *body, enum payload_err want, long offset)
{
	enum payload_err got = scan(body);
	char name[32];
	size_t i;

	/* The body goes into a TAP line: show control bytes as dots. */
	snprintf(name, sizeof name, "%s", body);
	for (i = 0; name[i]; i++)
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] > 0x7e)
			name[i] = '.';
	tap_ok(got == want, "refused %-24s err %d (want %d): %s", name, got,
	    want, pl.err_text);
	if (offset >= 0)
		tap_ok(pl.err_offset == (size_t)offset,
		    "  fault at byte %ld (got %zu)", offset, pl.err_offset);
}

/* A batch whose one event nests n levels deep, the array counting. */
static char *
nested(int n)
{
	struct buf b = BUF_INIT;
	int i;

	buf_addch(&b, '[');
	for (i = 1; i < n; i++)
		buf_adds(&b, "{\"a\":");
	buf_adds(&b, "1");
	for (i = 1; i < n; i++)
		buf_addch(&b, '}');
	buf_addch(&b, ']');
	return buf_detach(&b, NULL);
}

static char *
batch(int n)
{
	struct buf b = BUF_INIT;
	int i;

	buf_addch(&b, '[');
	for (i = 0; i < n; i++)
		buf_adds(&b, i ? ",{}" : "{}");
	buf_addch(&b, ']');
	return buf_detach(&b, NULL);
}

/* {"a":"xxx..."} whose string is n bytes long, quotes included. */
static char *
string_body(int n)
{
	struct buf b = BUF_INIT;
	int i;

	buf_adds(&b, "{\"a\":\"");
	for (i = 0; i < n - 2; i++)
		buf_addch(&b, 'x');
	buf_adds(&b, "\"}");
	return buf_detach(&b, NULL);
}

/* {"a":[1,1,...]} holding n values: the object, the array, n-2 ones. */
static char *
values_body(int n)
{
	struct buf b = BUF_INIT;
	int i;

	buf_adds(&b, "{\"a\":[");
	for (i = 0; i < n - 2; i++)
		buf_adds(&b, i ? ",1" : "1");
	buf_adds(&b, "]}");
	return buf_detach(&b, NULL);
}

static void
test_limits(void)
{
	char *s;

	s = nested(LIMIT_DEPTH);	/* depth exactly LIMIT_DEPTH */
	tap_ok(payload_scan(&pl, s, strlen(s)) == 0,
	    "nesting of %d levels is taken", LIMIT_DEPTH);
	free(s);
	s = nested(LIMIT_DEPTH + 1);
	tap_ok(payload_scan(&pl, s, strlen(s)) == -1 &&
	    pl.err == PAYLOAD_DEPTH, "nesting of %d levels is refused",
	    LIMIT_DEPTH + 1);
	free(s);

	s = batch(LIMIT_EVENTS);
	tap_ok(payload_scan(&pl, s, strlen(s)) == 0 &&
	    pl.nspans == LIMIT_EVENTS, "%d events are taken", LIMIT_EVENTS);
	free(s);
	s = batch(LIMIT_EVENTS + 1);
	tap_ok(payload_scan(&pl, s, strlen(s)) == -1 &&
	    pl.err == PAYLOAD_TOO_MANY && payload_http_status(pl.err) == 413,
	    "%d events are refused with 413", LIMIT_EVENTS + 1);
	free(s);

	s = string_body(LIMIT_FIELD);
	tap_ok(payload_scan(&pl, s, strlen(s)) == 0,
	    "a string of %d bytes is taken", LIMIT_FIELD);
	free(s);
	s = string_body(LIMIT_FIELD + 1);
	tap_ok(payload_scan(&pl, s, strlen(s)) == -1 &&
	    pl.err == PAYLOAD_FIELD, "a string of %d bytes is refused",
	    LIMIT_FIELD + 1);
	free(s);

	s = values_body(LIMIT_EVENT_VALUES);
	tap_ok(payload_scan(&pl, s, strlen(s)) == 0,
	    "an event of %d values is taken", LIMIT_EVENT_VALUES);
	free(s);
	s = values_body(LIMIT_EVENT_VALUES + 1);
	tap_ok(payload_scan(&pl, s, strlen(s)) == -1 &&
	    pl.err == PAYLOAD_VALUES, "an event of %d values is refused",
	    LIMIT_EVENT_VALUES + 1);
	free(s);

	tap_ok(scan("{\"a\":1e1000}") == PAYLOAD_OK,
	    "exponent %d is taken", LIMIT_NUMBER_EXP);
	tap_ok(scan("{\"a\":1e-1001}") == PAYLOAD_NUMBER,
	    "exponent %d is refused", -(LIMIT_NUMBER_EXP + 1));
}

int
main(void)
{
	/* Accepted shapes, and the spans found. */
	tap_ok(scan("{\"event\":\"open\"}") == PAYLOAD_OK && pl.nspans == 1 &&
	    pl.spans[0].off == 0 && pl.spans[0].len == 16 && !pl.is_array,
	    "one object is one event");
	tap_ok(scan(" [ {\"a\":1} ,\n{\"b\":[1,2,{}]}\t] ") == PAYLOAD_OK &&
	    pl.nspans == 2 && pl.spans[0].off == 3 && pl.spans[0].len == 7 &&
	    pl.spans[1].off == 13 && pl.is_array,
	    "an array of objects is a batch, spans exact");
	tap_ok(scan("[]") == PAYLOAD_OK && pl.nspans == 0 && pl.is_array,
	    "[] is an empty batch");
	tap_ok(scan("{}") == PAYLOAD_OK && pl.nspans == 1, "{} is one event");

	/* Repairs, in place and same length. */
	tap_ok(scan("{\"a\":1,}") == PAYLOAD_OK &&
	    strcmp(scratch, "{\"a\":1 }") == 0,
	    "trailing comma in an object becomes a space: %s", scratch);
	tap_ok(scan("[{\"a\":[1,],},]") == PAYLOAD_OK &&
	    strcmp(scratch, "[{\"a\":[1 ] } ]") == 0,
	    "trailing commas in arrays too: %s", scratch);
	tap_ok(scan("{\"a\":\"x\\u0000y\"}") == PAYLOAD_OK &&
	    strcmp(scratch, "{\"a\":\"x\\ufffdy\"}") == 0,
	    "\\u0000 becomes \\ufffd: %s", scratch);
	tap_ok(scan("{\"a\":\"\\ud800x\\udc00\"}") == PAYLOAD_OK &&
	    strcmp(scratch, "{\"a\":\"\\ufffdx\\ufffd\"}") == 0,
	    "unpaired surrogates become \\ufffd: %s", scratch);
	tap_ok(scan("{\"a\":\"\\ud83d\\ude00\"}") == PAYLOAD_OK &&
	    strcmp(scratch, "{\"a\":\"\\ud83d\\ude00\"}") == 0,
	    "a surrogate pair is kept");
	tap_ok(scan("{\"a\":\"\xff\xc0\xaf\xed\xa0\x80 ok \xc3\xa9\"}") ==
	    PAYLOAD_OK && strcmp(scratch, "{\"a\":\"?????? ok \xc3\xa9\"}") == 0,
	    "invalid UTF-8 bytes become '?', valid ones stay: %s", scratch);
	tap_ok(scan("{\"\xf0\x9f\x98\x80\":\"\xf4\x8f\xbf\xbf\"}") ==
	    PAYLOAD_OK && strchr(scratch, '?') == NULL,
	    "4-byte UTF-8 up to U+10FFFF is kept");

	/*
	 * Which spans had their content repaired: events that differ in
	 * their bytes but read the same after repair are told apart by it,
	 * while a trailing comma, being syntax, repairs nothing.
	 */
	tap_ok(scan("[{\"a\":\"q\xff\"},{\"a\":\"q?\"},{\"a\":\"\\ud800\"},"
	    "{\"a\":\"\\ufffd\"},{\"a\":\"\\u0000\"},{\"a\":[1,],},"
	    "{\"k\xfe\":1}]") == PAYLOAD_OK && pl.nspans == 7 &&
	    pl.spans[0].repaired && !pl.spans[1].repaired &&
	    pl.spans[2].repaired && !pl.spans[3].repaired &&
	    pl.spans[4].repaired && !pl.spans[5].repaired &&
	    pl.spans[6].repaired,
	    "spans say which events had a string repaired: invalid UTF-8, "
	    "\\ud800, \\u0000 and a key yes; '?', \\ufffd and trailing "
	    "commas no");
	tap_ok(scan("{\"a\":\"\\udbff\",}") == PAYLOAD_OK &&
	    pl.nspans == 1 && pl.spans[0].repaired,
	    "a lone event with an unpaired surrogate is repaired");
	tap_ok(scan("{\"a\":\"\\ud83d\\ude00 \xc3\xa9\",}") == PAYLOAD_OK &&
	    pl.nspans == 1 && !pl.spans[0].repaired,
	    "a surrogate pair, valid UTF-8 and a trailing comma repair nothing");
	tap_ok(scan("[{\"a\":\"\xff\"},{}]") == PAYLOAD_OK &&
	    pl.nspans == 2 && pl.spans[0].repaired && !pl.spans[1].repaired,
	    "the flag does not carry over to the next event");

	/* Refusals, with the byte they name. */
	refused("", PAYLOAD_EMPTY, 0);
	refused(" \n ", PAYLOAD_EMPTY, 0);
	refused("not json", PAYLOAD_SYNTAX, 0);
	refused("{", PAYLOAD_SYNTAX, 1);
	refused("[1]", PAYLOAD_NOT_EVENTS, 1);
	refused("[{},\"a\"]", PAYLOAD_NOT_EVENTS, 4);
	refused("\"just a string\"", PAYLOAD_NOT_EVENTS, 0);
	refused("42", PAYLOAD_NOT_EVENTS, 0);
	refused("null", PAYLOAD_NOT_EVENTS, 0);
	refused("{\"a\":NaN}", PAYLOAD_NUMBER, 5);
	refused("{\"a\":Infinity}", PAYLOAD_NUMBER, 5);
	refused("{\"a\":-Infinity}", PAYLOAD_NUMBER, 5);
	refused("{'a':1}", PAYLOAD_SYNTAX, 1);
	refused("{\"a\":1} x", PAYLOAD_TRAILING, 8);
	refused("{\"a\":1}{\"b\":2}", PAYLOAD_TRAILING, 7);
	refused("{\"a\":01}", PAYLOAD_SYNTAX, 6);
	refused("{\"a\":1.}", PAYLOAD_SYNTAX, 7);
	refused("{\"a\":.5}", PAYLOAD_SYNTAX, 5);
	refused("{\"a\":-}", PAYLOAD_SYNTAX, 6);
	refused("{\"a\":1e}", PAYLOAD_SYNTAX, 7);
	refused("{\"a\":\"\x01\"}", PAYLOAD_SYNTAX, 6);
	refused("{\"a\":\"\\q\"}", PAYLOAD_SYNTAX, 6);
	refused("{\"a\":\"\\u12\"}", PAYLOAD_SYNTAX, 6);
	refused("{\"a\":\"abc}", PAYLOAD_SYNTAX, 5);
	refused("{\"a\":1,,}", PAYLOAD_SYNTAX, 7);
	refused("[,]", PAYLOAD_NOT_EVENTS, 1);
	refused("{,}", PAYLOAD_SYNTAX, 1);
	refused(",", PAYLOAD_SYNTAX, 0);
	refused("{\"a\" 1}", PAYLOAD_SYNTAX, 5);
	refused("{\"a\":tru}", PAYLOAD_SYNTAX, 5);
	refused("{/* c */}", PAYLOAD_SYNTAX, 1);
	refused("\xef\xbb\xbf{}", PAYLOAD_SYNTAX, 0);
	refused("{\"a\":1}\x00", PAYLOAD_OK, -1);	/* strlen stops at NUL */

	test_limits();
	payload_release(&pl);
	return tap_done();
}
