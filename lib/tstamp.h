/*
 * tstamp.h - provider timestamps to UTC.
 *
 * Everything is plain arithmetic on the proleptic Gregorian calendar:
 * nothing depends on the TZ environment or the system's zone files,
 * so a worker gives the same answer on every host.  Also the one clock
 * that deadlines (statement timeouts, replay slices) are measured on.
 */
#ifndef ESPHOOKS_TSTAMP_H
#define ESPHOOKS_TSTAMP_H

#include <stddef.h>
#include <stdint.h>

/*
 * An instant to the microsecond, the resolution of timestamptz: sec
 * seconds since the epoch and usec microseconds after them, 0 to
 * 999999, so half a second before the epoch is { -1, 500000 }.
 *
 * A provider's fraction is part of the instant it sent (SPEC §3): it is
 * read from the digits of the text, never through a double (which has
 * no 1521472262.908181), and digits past the sixth are rounded to the
 * microsecond: to the nearest, as PostgreSQL would read the same text,
 * and an exact tie to the even one (PostgreSQL means to do that too,
 * with rint(), but on the fraction's double, so its ties go either way:
 * ".1261935" becomes .126193).  Rounding here rather than there keeps
 * what reaches the database short and decided by the digits alone: a
 * value with 60000 digits of fraction would make PostgreSQL refuse the
 * batch (its date/time input stops at 128 bytes).  An instant that
 * rounds past 9999-12-31T23:59:59.999999 is refused.
 */
struct tstamp {
	int64_t	sec;
	int32_t	usec;
};

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" and its NUL. */
#define TSTAMP_LEN 28

/* Seconds since the epoch of a UTC civil time; no range check. */
int64_t	tstamp_from_civil(long y, int mon, int d, int h, int min, int s);
/*
 * Writes sec and usec (0 to 999999) as "YYYY-MM-DDTHH:MM:SSZ" into out,
 * with the fraction before the Z when usec is not 0, without trailing
 * zeros ("...:09.5Z", "...:02.000001Z").  Returns 0, or -1 when usec is
 * out of range or sec is outside the years 1 to 9999 (PostgreSQL would
 * take some of those, but no email event happened then: such a value is
 * garbage).
 */
int	tstamp_format(int64_t sec, int32_t usec, char out[TSTAMP_LEN]);
/*
 * Parses unix seconds written as exactly a JSON number (RFC 8259 §6):
 * "1433333949", "-0.5", "1521472262.908181", "1.5e9".  The exponent
 * moves the decimal point of the digits, exactly, whatever its size.
 * Returns 0, or -1 when s is not such a number (no space, '+', leading
 * zero, hex, "1.", ".5") or the instant is outside the years 1 to 9999.
 */
int	tstamp_parse_unix(const char *s, size_t len, struct tstamp *t);
/*
 * Parses "YYYY-MM-DD HH:MM:SS" (or 'T' between; an optional fraction,
 * '.' and one digit or more, is kept; trailing white space such as
 * Aldeamo's "\n" is ignored).  Without a zone the time is local at
 * offset_min minutes east of UTC; a trailing "Z" or "+HH:MM"/"-HHMM"/
 * "+HH" takes precedence ("+05:" is refused).  Returns 0 or -1; -1 also
 * for second 60, a leap second, which timestamptz cannot hold.
 */
int	tstamp_parse_iso(const char *s, size_t len, int offset_min,
	    struct tstamp *t);
/*
 * Parses JavaScript's Date.prototype.toString() form, which Aldeamo
 * sends for opens and clicks, whole seconds only:
 *   "Fri Oct 02 2020 14:31:29 GMT-0500 (Colombia Standard Time)"
 * using the GMT offset written in it.  Returns 0 or -1 (also for a
 * leap second, as above).
 */
int	tstamp_parse_js(const char *s, size_t len, struct tstamp *t);
/* Milliseconds on CLOCK_MONOTONIC: never jumps with the wall clock. */
int64_t	tstamp_monotonic_ms(void);

#endif
