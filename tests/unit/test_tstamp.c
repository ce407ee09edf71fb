/*
 * test_tstamp.c - timestamps to UTC: unix, naive with an offset (Aldeamo's
 * GMT-5), ISO with a zone, JavaScript date strings, and what is refused
 * (a colon without minutes, a '.' without digits, a leap second), and
 * fractions of a second kept to the microsecond (issue 19).
 */
#include <string.h>

#include "tstamp.h"
#include "tap.h"

static const char *
fmt_us(int64_t t, int32_t usec)
{
	static char out[TSTAMP_LEN];

	return tstamp_format(t, usec, out) == 0 ? out : NULL;
}

static const char *
fmt(int64_t t)
{
	return fmt_us(t, 0);
}

static const char *
iso(const char *s, int offset_min)
{
	struct tstamp t;

	return tstamp_parse_iso(s, strlen(s), offset_min, &t) == 0 ?
	    fmt_us(t.sec, t.usec) : NULL;
}

static const char *
js(const char *s)
{
	struct tstamp t;

	return tstamp_parse_js(s, strlen(s), &t) == 0 ?
	    fmt_us(t.sec, t.usec) : NULL;
}

static const char *
unix_s(const char *s)
{
	struct tstamp t;

	return tstamp_parse_unix(s, strlen(s), &t) == 0 ?
	    fmt_us(t.sec, t.usec) : NULL;
}

/*
 * Issue 19: unix seconds are read from their decimal text, fraction
 * and exponent exactly, to the microsecond; digits past it round to
 * nearest, ties to even.
 */
static void
test_unix(void)
{
	static char big[200];

	tap_is(unix_s("1433333949"), "2015-06-03T12:19:09Z", "unix: integer");
	tap_is(unix_s("1433333949.5"), "2015-06-03T12:19:09.5Z",
	    "unix: half a second kept");
	tap_is(unix_s("1521472262.908181"), "2018-03-19T15:11:02.908181Z",
	    "unix: Mailgun's six decimals, exactly");
	tap_is(unix_s("1521472262.000001"), "2018-03-19T15:11:02.000001Z",
	    "unix: one microsecond");
	tap_is(unix_s("1521472262.900000"), "2018-03-19T15:11:02.9Z",
	    "unix: trailing zeros are not written");
	tap_is(unix_s("1433333949.0"), "2015-06-03T12:19:09Z",
	    "unix: .0 is whole seconds");
	tap_is(unix_s("0"), "1970-01-01T00:00:00Z", "unix: 0");
	tap_is(unix_s("-0"), "1970-01-01T00:00:00Z", "unix: -0");
	tap_is(unix_s("-0.0"), "1970-01-01T00:00:00Z", "unix: -0.0");
	tap_is(unix_s("-1"), "1969-12-31T23:59:59Z", "unix: -1");
	tap_is(unix_s("-0.5"), "1969-12-31T23:59:59.5Z",
	    "unix: half a second before the epoch");
	tap_is(unix_s("-1.25"), "1969-12-31T23:59:58.75Z", "unix: -1.25");
	tap_is(unix_s("-0.000001"), "1969-12-31T23:59:59.999999Z",
	    "unix: a microsecond before the epoch");

	/* Rounding past the sixth digit. */
	tap_is(unix_s("0.0000004"), "1970-01-01T00:00:00Z", "unix: 0.4 us down");
	tap_is(unix_s("0.0000006"), "1970-01-01T00:00:00.000001Z",
	    "unix: 0.6 us up");
	tap_is(unix_s("0.0000005"), "1970-01-01T00:00:00Z",
	    "unix: 0.5 us, a tie, to even (0)");
	tap_is(unix_s("0.0000015"), "1970-01-01T00:00:00.000002Z",
	    "unix: 1.5 us, a tie, to even (2)");
	tap_is(unix_s("0.0000025"), "1970-01-01T00:00:00.000002Z",
	    "unix: 2.5 us, a tie, to even (2)");
	tap_is(unix_s("0.00000250000000000000000001"),
	    "1970-01-01T00:00:00.000003Z",
	    "unix: just past a tie, up, however far the digit");
	tap_is(unix_s("0.0000024999999999999999999"),
	    "1970-01-01T00:00:00.000002Z", "unix: just under a tie, down");
	tap_is(unix_s("1521472262.9999995"), "2018-03-19T15:11:03Z",
	    "unix: rounding up carries into the second");
	tap_is(unix_s("-0.0000005"), "1970-01-01T00:00:00Z",
	    "unix: -0.5 us, to even (0)");
	tap_is(unix_s("-0.0000015"), "1969-12-31T23:59:59.999998Z",
	    "unix: -1.5 us, to even (-2)");
	tap_is(unix_s("-0.9999996"), "1969-12-31T23:59:59Z",
	    "unix: negative, rounding carries into the second");

	/* Exponents move the point; the digits stay. */
	tap_is(unix_s("1.5e9"), "2017-07-14T02:40:00Z", "unix: 1.5e9");
	tap_is(unix_s("15E8"), "2017-07-14T02:40:00Z", "unix: 15E8");
	tap_is(unix_s("1.521472262908181e+9"), "2018-03-19T15:11:02.908181Z",
	    "unix: an exponent, the fraction exact");
	tap_is(unix_s("1521472262908181e-6"), "2018-03-19T15:11:02.908181Z",
	    "unix: a negative exponent into the fraction");
	tap_is(unix_s("15214722629081815e-7"), "2018-03-19T15:11:02.908182Z",
	    "unix: a negative exponent, a tie, to even");
	tap_is(unix_s("0.000000000015e11"), "1970-01-01T00:00:01.5Z",
	    "unix: zeros after the point");
	tap_is(unix_s("5e-1"), "1970-01-01T00:00:00.5Z", "unix: 5e-1");
	tap_is(unix_s("5e-7"), "1970-01-01T00:00:00Z", "unix: 5e-7, a tie");
	tap_is(unix_s("6e-7"), "1970-01-01T00:00:00.000001Z", "unix: 6e-7");
	tap_is(unix_s("1e-400"), "1970-01-01T00:00:00Z",
	    "unix: 1e-400 is 0 to the microsecond");
	tap_is(unix_s("-1e-400"), "1970-01-01T00:00:00Z",
	    "unix: -1e-400 likewise");
	tap_is(unix_s("0e999999999999999999999"), "1970-01-01T00:00:00Z",
	    "unix: 0 with any exponent");
	tap_is(unix_s("1e999999999999999999999"), NULL,
	    "unix: a huge exponent refused");
	tap_is(unix_s("1e-999999999999999999999"), "1970-01-01T00:00:00Z",
	    "unix: a huge negative exponent is 0");
	tap_is(unix_s("1e12"), NULL, "unix: 1e12 past the year 9999");
	tap_is(unix_s("2.5e11"), "9892-03-08T12:26:40Z", "unix: 2.5e11");

	/* Years 1 to 9999, after rounding. */
	tap_is(unix_s("253402300799.999999"), "9999-12-31T23:59:59.999999Z",
	    "unix: the last microsecond");
	tap_is(unix_s("253402300799.9999995"), NULL,
	    "unix: rounding into the year 10000 refused");
	tap_is(unix_s("253402300800"), NULL, "unix: the year 10000 refused");
	tap_is(unix_s("-62135596800"), "0001-01-01T00:00:00Z",
	    "unix: the first second of the year 1");
	tap_is(unix_s("-62135596799.5"), "0001-01-01T00:00:00.5Z",
	    "unix: half a second into the year 1");
	tap_is(unix_s("-62135596800.000001"), NULL,
	    "unix: a microsecond before the year 1 refused");
	tap_is(unix_s("-62135596800.0000004"), "0001-01-01T00:00:00Z",
	    "unix: less than half a microsecond before rounds to the year 1");
	tap_is(unix_s("99999999999999999999999999"), NULL,
	    "unix: 26 digits refused, no overflow");

	/* Only JSON's number grammar: nothing to guess. */
	tap_is(unix_s(""), NULL, "unix: empty");
	tap_is(unix_s("-"), NULL, "unix: a sign alone");
	tap_is(unix_s("+1"), NULL, "unix: '+'");
	tap_is(unix_s(" 1"), NULL, "unix: leading space");
	tap_is(unix_s("1 "), NULL, "unix: trailing space");
	tap_is(unix_s("01"), NULL, "unix: leading zero");
	tap_is(unix_s("1."), NULL, "unix: '.' without digits");
	tap_is(unix_s(".5"), NULL, "unix: no integer part");
	tap_is(unix_s("1.5.5"), NULL, "unix: two points");
	tap_is(unix_s("1e"), NULL, "unix: 'e' without digits");
	tap_is(unix_s("1e+"), NULL, "unix: 'e+' without digits");
	tap_is(unix_s("1.e5"), NULL, "unix: '.' then 'e'");
	tap_is(unix_s("0x10"), NULL, "unix: hex");
	tap_is(unix_s("inf"), NULL, "unix: inf");
	tap_is(unix_s("NaN"), NULL, "unix: NaN");
	tap_is(unix_s("1433333949Z"), NULL, "unix: trailing letter");

	/* A long fraction: rounded, not refused, not read past its end. */
	memset(big, '0', sizeof big - 1);
	memcpy(big, "1433333949.4999995", 18);
	big[sizeof big - 2] = '1';
	tap_is(unix_s(big), "2015-06-03T12:19:09.5Z",
	    "unix: 190 digits of fraction, rounded up by the last one");
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
	tap_is(fmt_us(1521472262, 908181), "2018-03-19T15:11:02.908181Z",
	    "microseconds written");
	tap_is(fmt_us(1433333949, 500000), "2015-06-03T12:19:09.5Z",
	    "trailing zeros of the fraction left out");
	tap_is(fmt_us(0, 1), "1970-01-01T00:00:00.000001Z", "one microsecond");
	tap_is(fmt_us(-1, 999999), "1969-12-31T23:59:59.999999Z",
	    "the microsecond before the epoch");
	tap_is(fmt_us(253402300799LL, 999999), "9999-12-31T23:59:59.999999Z",
	    "the last microsecond kept");
	tap_is(fmt_us(0, 1000000), NULL, "usec 1000000 refused");
	tap_is(fmt_us(0, -1), NULL, "negative usec refused");

	tap_is(iso("2020-10-01 20:01:20", -300), "2020-10-02T01:01:20Z",
	    "naive GMT-5 time");
	tap_is(iso("2020-10-05 18:10:57\n", -300), "2020-10-05T23:10:57Z",
	    "naive time with Aldeamo's trailing newline");
	tap_is(iso("2020-12-31 23:30:00", -300), "2021-01-01T04:30:00Z",
	    "crossing the year");
	tap_is(iso("2020-10-01T20:01:20Z", -300), "2020-10-01T20:01:20Z",
	    "an explicit Z wins over the default offset");
	/* Issue 19: the fraction is part of the time sent. */
	tap_is(iso("2020-10-01T20:01:20.123+02:00", -300),
	    "2020-10-01T18:01:20.123Z", "fraction kept, +02:00 applied");
	tap_is(iso("2020-10-01 20:01:20.123", -300), "2020-10-02T01:01:20.123Z",
	    "fraction kept, naive GMT-5");
	tap_is(iso("2020-10-01T20:01:20.908181Z", -300),
	    "2020-10-01T20:01:20.908181Z", "six digits, exactly");
	tap_is(iso("2020-10-01T20:01:20.000Z", -300), "2020-10-01T20:01:20Z",
	    "zeros are whole seconds");
	tap_is(iso("2020-10-01T20:01:20.1234565Z", -300),
	    "2020-10-01T20:01:20.123456Z", "a seventh digit 5, a tie, to even");
	tap_is(iso("2020-10-01T20:01:20.1234575Z", -300),
	    "2020-10-01T20:01:20.123458Z", "the next tie, to even, up");
	tap_is(iso("2020-10-01T20:01:20.12345650001Z", -300),
	    "2020-10-01T20:01:20.123457Z", "past a tie, up");
	tap_is(iso("2020-12-31 18:59:59.9999999", -300), "2021-01-01T00:00:00Z",
	    "rounding up carries into the next year");
	tap_is(iso("9999-12-31T23:59:59.999999Z", 0),
	    "9999-12-31T23:59:59.999999Z", "the last microsecond kept");
	tap_is(iso("9999-12-31T23:59:59.9999995Z", 0), NULL,
	    "rounding into the year 10000 refused");
	tap_is(iso("2020-10-01 20:01:20.5\n", -300), "2020-10-02T01:01:20.5Z",
	    "fraction and Aldeamo's trailing newline");
	tap_is(iso("2020-10-01 20:01:20.5 +05:00", -300), NULL,
	    "a space before the zone refused, as before");
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
	tap_is(iso("2020-10-01 20:01:20.5", -300), "2020-10-02T01:01:20.5Z",
	    "one digit of fraction, kept");
	tap_is(iso("2016-12-31 18:59:60", -300), NULL,
	    "leap second at GMT-5 (23:59:60 UTC) refused");
	tap_is(iso("2016-12-31T23:59:60Z", -300), NULL,
	    "leap second in UTC refused");
	tap_is(iso("2016-12-31T23:59:60.5Z", -300), NULL,
	    "leap second with a fraction refused");
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
	tap_is(js("Fri Oct 02 2020 14:31:29.5 GMT-0500"), NULL,
	    "JavaScript dates have no fraction: refused, as before");

	test_unix();
	return tap_done();
}
