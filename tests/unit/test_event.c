/*
 * test_event.c - the converters of event.c, on every kind of value, and
 * member_find(), which finds a member's JSON text in an event (issue
 * 19: json-c saturates integers beyond int64 and uint64, and re-prints
 * objects with those saturated numbers; a typed column must hold the
 * value sent or NULL, never another).
 *
 * A test table reads the one field "x" through each converter, so that
 * each case is one small event through payload_scan() and
 * events_build(), as a worker maps a request; the arrays are read back
 * with pgarray_next(), as PostgreSQL reads them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "member.h"
#include "payload.h"
#include "pgarray.h"
#include "tap.h"

static const struct event_name test_events[] = { { NULL, NULL } };

static const struct column test_columns[] = {
	{ "text",	&conv_text,	{ "x" } },
	{ "int64",	&conv_int64,	{ "x" } },
	{ "number",	&conv_number,	{ "x" } },
	{ "unixtime",	&conv_unixtime,	{ "x" } },
	{ "localtime",	&conv_localtime, { "x" } },
	{ "json",	&conv_json,	{ "x" } },
	{ "bool",	&conv_bool,	{ "x" } },
	{ "smtp",	&conv_smtp,	{ "x" } },
	/* Alternative spellings: the first one present and not null. */
	{ "alt",	&conv_text,	{ "a", "b" } },
};

static void
test_classify(struct json_object *ev, const char *provider_event,
    struct verdict *v)
{
	(void)ev;
	v->event = event_lookup(test_events, provider_event);
	v->hard_bounce = -1;
}

static const struct provider provider_test = {
	"test",
	test_columns,
	sizeof test_columns / sizeof test_columns[0],
	test_classify,
	-5 * 60,		/* Aldeamo's GMT-5 */
};

static struct buf arrays;	/* the arrays of the last map() */
static struct buf value;	/* col()'s result */

/* Maps body, one event; 0, or -1 when it was refused. */
static int
map(const char *body)
{
	static struct events *ev;
	struct payload pl = PAYLOAD_INIT;
	char err[128], *copy = strdup(body);
	int rc = -1;

	if (ev == NULL)
		ev = events_new();
	buf_reset(&arrays);
	if (copy != NULL && ev != NULL &&
	    payload_scan(&pl, copy, strlen(copy)) == 0 && pl.nspans == 1 &&
	    events_build(ev, &arrays, &provider_test, copy, body, &pl, err,
	    sizeof err) == 0)
		rc = 0;
	payload_release(&pl);
	free(copy);
	return rc;
}

/*
 * The value of column name for the event map() mapped; NULL for SQL
 * NULL, a text in parentheses (which no case expects) when unreadable.
 */
static const char *
col(const char *name)
{
	const struct provider *p = &provider_test;
	const char *s = arrays.data, *end = arrays.data + arrays.len;
	size_t k, pos = 0;
	int isnull;

	for (k = 0; k < p->ncolumns; k++)
		if (strcmp(name, p->columns[k].name) == 0)
			break;
	if (k == p->ncolumns)
		return "(no such column)";
	/* provider_event, event and hard_bounce come first (event.h). */
	for (k += 3; k > 0 && s < end; k--)
		s += strlen(s) + 1;
	if (s >= end || pgarray_next(s, strlen(s), &pos, &value, &isnull) != 1)
		return "(not mapped)";
	return isnull ? NULL : value.data;
}

/* Checks column of the event {"x":json}, or of body when x is NULL. */
static void
check(const char *column, const char *x, const char *body,
    const char *want)
{
	char buf[1024], name[1200], *c;

	if (x != NULL) {
		snprintf(buf, sizeof buf, "{\"x\":%s}", x);
		body = buf;
	}
	snprintf(name, sizeof name, "%s of %s", column, body);
	for (c = name; *c; c++)		/* one line of TAP */
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	if (map(body) == -1) {
		tap_ok(0, "%s (refused)", name);
		return;
	}
	tap_is(col(column), want, name);
}

/* The member key of event ev, as a string; NULL when there is none. */
static const char *
member(const char *ev, const char *key)
{
	static char out[256];
	const char *v;
	size_t len;

	if ((v = member_find(ev, strlen(ev), key, &len)) == NULL)
		return NULL;
	snprintf(out, sizeof out, "%.*s", (int)len, v);
	return out;
}

static void
test_member(void)
{
	tap_is(member("{\"a\":1,\"x\":22}", "x"), "22", "member: the second");
	tap_is(member("{\"a\":1}", "x"), NULL, "member: absent");
	tap_is(member("{}", "x"), NULL, "member: empty object");
	tap_is(member("{\"x\":1,\"a\":2,\"x\":[3, 4]}", "x"), "[3, 4]",
	    "member: the last of duplicated keys, as json-c and jsonb");
	tap_is(member("{\"\\u0078\":5}", "x"), "5",
	    "member: a key written \\u0078 is x");
	tap_is(member("{\"\\u0065mail\":\"a@b\"}", "email"), "\"a@b\"",
	    "member: a key written \\u0065mail is email");
	tap_is(member("{\"a\\/b\":1,\"a\\\"b\":2,\"a\\nb\":3}", "a/b"), "1",
	    "member: \\/ unescaped");
	tap_is(member("{\"a\\/b\":1,\"a\\\"b\":2,\"a\\nb\":3}", "a\"b"), "2",
	    "member: \\\" unescaped");
	tap_is(member("{\"a\\/b\":1,\"a\\\"b\":2,\"a\\nb\":3}", "a\nb"), "3",
	    "member: \\n unescaped");
	tap_is(member("{\"\\u00e9\":1,\"\\ud83d\\ude00\":2}", "\xc3\xa9"), "1",
	    "member: \\u00e9 is UTF-8 \xc3\xa9");
	tap_is(member("{\"\\u00e9\":1,\"\\ud83d\\ude00\":2}",
	    "\xf0\x9f\x98\x80"), "2", "member: a surrogate pair is one "
	    "character");
	tap_is(member("{\"xy\":1,\"y\":2,\"\":3}", "x"), NULL,
	    "member: no prefix or suffix matches");
	tap_is(member("{\"x\\u0000\":1}", "x"), NULL,
	    "member: an escaped NUL does not end the key");
	tap_is(member("{\"o\":{\"x\":1},\"l\":[\"x\",{\"x\":2}],"
	    "\"s\":\"\\\"x\\\":3\",\"x\":4}", "x"), "4",
	    "member: nested objects, arrays and strings not matched");
	tap_is(member("{\"o\":{\"x\":1},\"l\":[{\"x\":2}]}", "x"), NULL,
	    "member: only nested ones: none");
	tap_is(member("{\"s\":\"}]{[\\\\\",\"x\":true}", "x"), "true",
	    "member: brackets and an escaped backslash inside a string");
	tap_is(member(" {\n\t\"x\" : 12.50e1 ,\r\n\"y\":null   } ", "x"),
	    "12.50e1", "member: white space around, the literal as sent");
	tap_is(member("{\"x\":{\"a\":[1,{\"b\":\"]\"}] },\"y\":1}", "x"),
	    "{\"a\":[1,{\"b\":\"]\"}] }", "member: a nested value whole");
	tap_is(member("{\"x\":\"a\\\"b\"}", "x"), "\"a\\\"b\"",
	    "member: a string with its quotes and escapes");
	tap_is(member("{\"x\":1", "x"), NULL, "member: cut short, none");
	tap_is(member("[{\"x\":1}]", "x"), NULL, "member: not an object");
}

/* conv_int64 (bigint): the exact value or NULL. */
static void
test_int64(void)
{
	check("int64", "42", NULL, "42");
	check("int64", "-0", NULL, "0");
	check("int64", "9223372036854775807", NULL, "9223372036854775807");
	check("int64", "-9223372036854775808", NULL, "-9223372036854775808");
	check("int64", "9223372036854775808", NULL, NULL);
	check("int64", "18446744073709551615", NULL, NULL);
	check("int64", "18446744073709551616", NULL, NULL);
	check("int64", "-9223372036854775809", NULL, NULL);
	check("int64", "-99999999999999999999", NULL, NULL);
	check("int64", "123456789012345678901234", NULL, NULL);
	check("int64", "1.5", NULL, NULL);
	check("int64", "1e3", NULL, NULL);
	check("int64", "true", NULL, NULL);
	/* Strings: JSON's integer grammar only. */
	check("int64", "\"19421777396190491\"", NULL, "19421777396190491");
	check("int64", "\"-9223372036854775808\"", NULL,
	    "-9223372036854775808");
	check("int64", "\"9223372036854775808\"", NULL, NULL);
	check("int64", "\"-9223372036854775809\"", NULL, NULL);
	check("int64", "\"-0\"", NULL, "0");
	check("int64", "\" 42\"", NULL, NULL);
	check("int64", "\"42 \"", NULL, NULL);
	check("int64", "\"+42\"", NULL, NULL);
	check("int64", "\"042\"", NULL, NULL);
	check("int64", "\"0x10\"", NULL, NULL);
	check("int64", "\"1e3\"", NULL, NULL);
	check("int64", "\"-\"", NULL, NULL);
	check("int64", "\"\"", NULL, NULL);
	check("int64", "\"12abc\"", NULL, NULL);
}

/* conv_text: strings unescaped, everything else its JSON text sent. */
static void
test_text(void)
{
	check("text", "\"a\\u00e9\\\"\"", NULL, "a\xc3\xa9\"");
	check("text", "42", NULL, "42");
	check("text", "0", NULL, "0");
	check("text", "-0", NULL, "-0");
	check("text", "9223372036854775807", NULL, "9223372036854775807");
	check("text", "-9223372036854775808", NULL, "-9223372036854775808");
	check("text", "18446744073709551615", NULL, "18446744073709551615");
	check("text", "18446744073709551616", NULL, "18446744073709551616");
	check("text", "-99999999999999999999", NULL, "-99999999999999999999");
	check("text", "123456789012345678901234", NULL,
	    "123456789012345678901234");
	check("text", "1.50", NULL, "1.50");
	check("text", "1E+400", NULL, "1E+400");
	check("text", "true", NULL, "true");
	check("text", "false", NULL, "false");
	check("text", "[{\"code\":550,\"n\":18446744073709551616}]", NULL,
	    "[{\"code\":550,\"n\":18446744073709551616}]");
	/* As sent, white space and all; a trailing comma is a blank. */
	check("text", "{ \"a\": 1.0,\n \"b\": [1,2,] }", NULL,
	    "{ \"a\": 1.0,\n \"b\": [1,2 ] }");
	/* The value json-c keeps is the one read: the last duplicate. */
	check("text", NULL, "{\"x\":1,\"x\":18446744073709551616}",
	    "18446744073709551616");
	check("text", NULL, "{\"x\":18446744073709551616,\"x\":2}", "2");
	check("text", NULL, "{\"x\":18446744073709551616,\"x\":0}", "0");
	check("text", NULL, "{\"\\u0078\":-99999999999999999999}",
	    "-99999999999999999999");
	check("text", NULL, "{\"o\":{\"x\":99999999999999999999},"
	    "\"x\":99999999999999999998}", "99999999999999999998");
	check("text", NULL, "{\"x\":null}", NULL);
	check("alt", NULL, "{\"a\":null,\"b\":99999999999999999999}",
	    "99999999999999999999");
	check("alt", NULL, "{\"b\":1,\"a\":99999999999999999999,\"b\":2}",
	    "99999999999999999999");
}

/* conv_json (jsonb): objects and arrays as sent. */
static void
test_json(void)
{
	check("json", "{\"a\":18446744073709551616,"
	    "\"b\":-9223372036854775809,\"c\":1.50}", NULL,
	    "{\"a\":18446744073709551616,\"b\":-9223372036854775809,"
	    "\"c\":1.50}");
	check("json", "[1, 2.50, 123456789012345678901234]", NULL,
	    "[1, 2.50, 123456789012345678901234]");
	check("json", "{\"k\":{\"x\":1},\"x\":2}", NULL,
	    "{\"k\":{\"x\":1},\"x\":2}");
	check("json", NULL, "{\"x\":[1],\"x\":{\"n\":-99999999999999999999}}",
	    "{\"n\":-99999999999999999999}");
	check("json", "\"{}\"", NULL, NULL);
	check("json", "5", NULL, NULL);
	check("json", "true", NULL, NULL);
}

/* conv_number (double precision): a JSON number a double holds. */
static void
test_number(void)
{
	check("number", "12.5", NULL, "12.5");
	check("number", "-74.25", NULL, "-74.25");
	check("number", "100", NULL, "100");
	check("number", "1.5e2", NULL, "150");
	check("number", "\"12.5\"", NULL, "12.5");
	check("number", "\"-0.5E1\"", NULL, "-5");
	check("number", "\"100\"", NULL, "100");
	/* Rounded to the nearest double, from the number sent. */
	check("number", "18446744073709551616", NULL, "1.8446744073709552e+19");
	check("number", "123456789012345678901234", NULL,
	    "1.2345678901234569e+23");
	check("number", "-99999999999999999999", NULL, "-1e+20");
	check("number", "9223372036854775807", NULL, "9.2233720368547758e+18");
	/* What strtod takes and JSON does not. */
	check("number", "\"0x1p4\"", NULL, NULL);
	check("number", "\"0x10\"", NULL, NULL);
	check("number", "\"inf\"", NULL, NULL);
	check("number", "\"-Infinity\"", NULL, NULL);
	check("number", "\"nan\"", NULL, NULL);
	check("number", "\" 12\"", NULL, NULL);
	check("number", "\"12 \"", NULL, NULL);
	check("number", "\"+12\"", NULL, NULL);
	check("number", "\"012\"", NULL, NULL);
	check("number", "\".5\"", NULL, NULL);
	check("number", "\"1.\"", NULL, NULL);
	check("number", "\"1e\"", NULL, NULL);
	check("number", "\"1e5x\"", NULL, NULL);
	check("number", "\"\"", NULL, NULL);
	/* Overflow and underflow: strtod's ERANGE. */
	check("number", "1e400", NULL, NULL);
	check("number", "-1e400", NULL, NULL);
	check("number", "\"1e400\"", NULL, NULL);
	check("number", "1e-400", NULL, NULL);
	check("number", "1e-310", NULL, NULL);
	check("number", "0e-400", NULL, "0");
	check("number", "true", NULL, NULL);
	check("number", "[1]", NULL, NULL);
}

/* conv_unixtime and conv_localtime: seconds, or times as text. */
static void
test_times(void)
{
	check("unixtime", "1433333949", NULL, "2015-06-03T12:19:09Z");
	check("unixtime", "\"1433333949\"", NULL, "2015-06-03T12:19:09Z");
	/*
	 * Issue 19: a fraction is part of the instant sent, read from the
	 * literal's digits (a double holds no 1521472262.908181), not
	 * floored away: timestamptz keeps microseconds.
	 */
	check("unixtime", "1433333949.5", NULL, "2015-06-03T12:19:09.5Z");
	check("unixtime", "1521472262.908181", NULL,
	    "2018-03-19T15:11:02.908181Z");
	check("unixtime", "1521472262.000001", NULL,
	    "2018-03-19T15:11:02.000001Z");
	check("unixtime", "1433333949.0", NULL, "2015-06-03T12:19:09Z");
	check("unixtime", "-0.5", NULL, "1969-12-31T23:59:59.5Z");
	/* Past the microsecond: rounded to it, ties to even. */
	check("unixtime", "1521472262.9081815", NULL,
	    "2018-03-19T15:11:02.908182Z");
	check("unixtime", "1521472262.9081825", NULL,
	    "2018-03-19T15:11:02.908182Z");
	check("unixtime", "1521472262.90818250001", NULL,
	    "2018-03-19T15:11:02.908183Z");
	check("unixtime", "1521472262.9999996", NULL, "2018-03-19T15:11:03Z");
	/* Exponents, exactly: the same digits, the point moved. */
	check("unixtime", "1.5e9", NULL, "2017-07-14T02:40:00Z");
	check("unixtime", "1.5214722629081810E+9", NULL,
	    "2018-03-19T15:11:02.908181Z");
	check("unixtime", "1521472262908181e-6", NULL,
	    "2018-03-19T15:11:02.908181Z");
	check("unixtime", "1e1000", NULL, NULL);
	/* Strings are not held to LIMIT_NUMBER_EXP as number literals are. */
	check("unixtime", "\"0e999999999999999999\"", NULL,
	    "1970-01-01T00:00:00Z");
	check("unixtime", "\"1e999999999999999999\"", NULL, NULL);
	check("unixtime", "\"1e-999999999999999999\"", NULL,
	    "1970-01-01T00:00:00Z");
	/* A string that is exactly a JSON number, as conv_number takes. */
	check("unixtime", "\"1433333949.0\"", NULL, "2015-06-03T12:19:09Z");
	check("unixtime", "\"1521472262.908181\"", NULL,
	    "2018-03-19T15:11:02.908181Z");
	check("unixtime", "\" 1433333949\"", NULL, NULL);
	check("unixtime", "\"1433333949.\"", NULL, NULL);
	check("unixtime", "\".5\"", NULL, NULL);
	check("unixtime", "\"+1433333949\"", NULL, NULL);
	check("unixtime", "\"01433333949\"", NULL, NULL);
	check("unixtime", "\"0x55\"", NULL, NULL);
	check("unixtime", "\"1e\"", NULL, NULL);
	check("unixtime", "-99999999999999999999", NULL, NULL);
	check("unixtime", "18446744073709551616", NULL, NULL);
	check("unixtime", "1e400", NULL, NULL);
	/* Years 1 to 9999, after rounding. */
	check("unixtime", "253402300799.999999", NULL,
	    "9999-12-31T23:59:59.999999Z");
	check("unixtime", "253402300799.9999995", NULL, NULL);
	check("unixtime", "-62135596799.5", NULL, "0001-01-01T00:00:00.5Z");
	check("unixtime", "-62135596800.000001", NULL, NULL);
	/*
	 * 1e-400 s before the epoch is the epoch to the microsecond, as
	 * "0.0000001" is: no double underflows on the way any more.
	 */
	check("unixtime", "-1e-400", NULL, "1970-01-01T00:00:00Z");
	check("localtime", "\"2020-10-01 20:01:20\"", NULL,
	    "2020-10-02T01:01:20Z");
	check("localtime", "\"2020-10-01 20:01:20+05:\"", NULL, NULL);
	check("localtime", "\"2020-10-01 20:01:20+05:00\"", NULL,
	    "2020-10-01T15:01:20Z");
	check("localtime", "\"2016-12-31 18:59:60\"", NULL, NULL);
	check("localtime", "\"2020-10-01 20:01:20.123\"", NULL,
	    "2020-10-02T01:01:20.123Z");
	check("localtime", "\"2020-10-01T20:01:20.908181Z\"", NULL,
	    "2020-10-01T20:01:20.908181Z");
	check("localtime", "\"2020-10-01 20:01:20.1234565\"", NULL,
	    "2020-10-02T01:01:20.123456Z");
	check("localtime", "\"2016-12-31 18:59:60.5\"", NULL, NULL);
	check("localtime", "1433333949", NULL, "2015-06-03T12:19:09Z");
	check("localtime", "1433333949.25", NULL, "2015-06-03T12:19:09.25Z");
	check("localtime", "99999999999999999999", NULL, NULL);
}

/* Booleans and SMTP codes: a saturated integer changes no verdict. */
static void
test_others(void)
{
	check("bool", "1", NULL, "true");
	check("bool", "18446744073709551617", NULL, NULL);
	check("bool", "-18446744073709551615", NULL, NULL);
	check("smtp", "550", NULL, "550");
	check("smtp", "18446744073709551616", NULL, NULL);
	check("smtp", "-99999999999999999999", NULL, NULL);
}

int
main(void)
{
	conv_set_local_offset(provider_test.local_offset_min);
	test_member();
	test_int64();
	test_text();
	test_json();
	test_number();
	test_times();
	test_others();
	buf_release(&arrays);
	buf_release(&value);
	return tap_done();
}
