/*
 * test_tstamp.c - timestamps to UTC: unix, naive with an offset (Aldeamo's
 * GMT-5), ISO with a zone, JavaScript date strings, and what is refused
 * (a colon without minutes, a '.' without digits, a leap second).
 */
#include <string.h>

#include "tstamp.h"
#include "tap.h"

static const char *
fmt(int64_t t)
{
	static char out[TSTAMP_LEN];

	return tstamp_format(t, out) == 0 ? out : NULL;
}

static const char *
iso(const char *s, int offset_min)
{
	int64_t t;

	return tstamp_parse_iso(s, strlen(s), offset_min, &t) == 0 ?
	    fmt(t) : NULL;
}

static const char *
js(const char *s)
{
	int64_t t;

	return tstamp_parse_js(s, strlen(s), &t) == 0 ? fmt(t) : NULL;
}

int
main(void)
{
	tap_is(fmt(0), "1970-01-01T00:00:00Z", "epoch");
	tap_is(fmt(1433333949), "2015-06-03T12:19:09Z", "a Mailjet time");
	tap_is(fmt(951782400), "2000-02-29T00:00:00Z", "leap day 2000");
	tap_is(fmt(-1), "1969-12-31T23:59:59Z", "before the epoch");
	tap_is(fmt(253402300799LL), "9999-12-31T23:59:59Z", "last second kept");
	tap_is(fmt(253402300800LL), NULL, "year 10000 refused");
	tap_is(fmt(-62135596801LL), NULL, "year 0 refused");

	tap_is(iso("2020-10-01 20:01:20", -300), "2020-10-02T01:01:20Z",
	    "naive GMT-5 time");
	tap_is(iso("2020-10-05 18:10:57\n", -300), "2020-10-05T23:10:57Z",
	    "naive time with Aldeamo's trailing newline");
	tap_is(iso("2020-12-31 23:30:00", -300), "2021-01-01T04:30:00Z",
	    "crossing the year");
	tap_is(iso("2020-10-01T20:01:20Z", -300), "2020-10-01T20:01:20Z",
	    "an explicit Z wins over the default offset");
	tap_is(iso("2020-10-01T20:01:20.123+02:00", -300),
	    "2020-10-01T18:01:20Z", "fraction dropped, +02:00 applied");
	tap_is(iso("2020-10-01 20:01:20-0500", 0), "2020-10-02T01:01:20Z",
	    "-0500 without a colon");
	tap_is(iso("2020-02-30 10:00:00", 0), NULL, "February 30 refused");
	tap_is(iso("2021-02-29 10:00:00", 0), NULL, "29 Feb of a common year");
	tap_is(iso("2020-10-01 24:00:00", 0), NULL, "hour 24 refused");
	tap_is(iso("yesterday", -300), NULL, "words refused");
	tap_is(iso("2020-10-01 20:01", -300), NULL, "no seconds refused");
	tap_is(iso("2020-10-01 20:01:20 junk", -300), NULL,
	    "trailing junk refused");
	tap_is(iso("", -300), NULL, "empty refused");
	/* Issue 19: what is not quite a time is no time, never a guess. */
	tap_is(iso("2020-10-01 20:01:20+05:", -300), NULL,
	    "+05: (a colon, no minutes) refused");
	tap_is(iso("2020-10-01 20:01:20+05:3", -300), NULL,
	    "+05:3 (one digit of minutes) refused");
	tap_is(iso("2020-10-01 20:01:20+05", -300), "2020-10-01T15:01:20Z",
	    "+05 (hours only) applied");
	tap_is(iso("2020-10-01 20:01:20+05:30", -300), "2020-10-01T14:31:20Z",
	    "+05:30 applied");
	tap_is(iso("2020-10-01 20:01:20+0530", -300), "2020-10-01T14:31:20Z",
	    "+0530 applied");
	tap_is(iso("2020-10-01 20:01:20.", -300), NULL,
	    "a '.' without digits refused");
	tap_is(iso("2020-10-01 20:01:20.Z", -300), NULL,
	    "a '.' without digits before Z refused");
	tap_is(iso("2020-10-01 20:01:20.5", -300), "2020-10-02T01:01:20Z",
	    "one digit of fraction, dropped");
	tap_is(iso("2016-12-31 18:59:60", -300), NULL,
	    "leap second at GMT-5 (23:59:60 UTC) refused");
	tap_is(iso("2016-12-31T23:59:60Z", -300), NULL,
	    "leap second in UTC refused");
	tap_is(iso("2016-12-31 18:59:59", -300), "2016-12-31T23:59:59Z",
	    "the second before the leap second kept");
	tap_is(iso("2020-10-01 20:01:61", -300), NULL, "second 61 refused");

	tap_is(js("Fri Oct 02 2020 14:31:29 GMT-0500 (Colombia Standard Time)"),
	    "2020-10-02T19:31:29Z", "JavaScript date, GMT-0500");
	tap_is(js("Fri Oct 02 2020 15:07:31 GMT-0500 (Colombia Standard Time)"),
	    "2020-10-02T20:07:31Z", "the click sample's date");
	tap_is(js("Mon Jan 01 2024 00:30:00 GMT+0200"), "2023-12-31T22:30:00Z",
	    "JavaScript date, east of UTC, no zone name");
	tap_is(js("Fri Foo 02 2020 14:31:29 GMT-0500"), NULL, "bad month");
	tap_is(js("Fri Oct 02 2020 14:31:29"), NULL, "no GMT offset");
	tap_is(js("2020-10-01 20:01:20"), NULL, "not a JavaScript date");
	tap_is(js("Sat Dec 31 2016 18:59:60 GMT-0500 (Colombia Standard Time)"),
	    NULL, "JavaScript date at a leap second refused");
	tap_is(js("Fri Oct 02 2020 14:31:29 GMT-05: (Colombia Standard Time)"),
	    NULL, "JavaScript date with GMT-05: refused");
	return tap_done();
}
