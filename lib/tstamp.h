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

/* "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define TSTAMP_LEN 21

/* Seconds since the epoch of a UTC civil time; no range check. */
int64_t	tstamp_from_civil(long y, int mon, int d, int h, int min, int s);
/*
 * Writes t as "YYYY-MM-DDTHH:MM:SSZ" into out.  Returns 0, or -1 when t
 * is outside the years 1 to 9999 (PostgreSQL would take some of those,
 * but no email event happened then: such a value is garbage).
 */
int	tstamp_format(int64_t t, char out[TSTAMP_LEN]);
/*
 * Parses "YYYY-MM-DD HH:MM:SS" (or 'T' between; an optional fraction,
 * '.' and one digit or more, is dropped; trailing white space such as
 * Aldeamo's "\n" is ignored).  Without a zone the time is local at
 * offset_min minutes east of UTC; a trailing "Z" or "+HH:MM"/"-HHMM"/
 * "+HH" takes precedence ("+05:" is refused).  Returns 0 or -1; -1 also
 * for second 60, a leap second, which timestamptz cannot hold.
 */
int	tstamp_parse_iso(const char *s, size_t len, int offset_min,
	    int64_t *t);
/*
 * Parses JavaScript's Date.prototype.toString() form, which Aldeamo
 * sends for opens and clicks:
 *   "Fri Oct 02 2020 14:31:29 GMT-0500 (Colombia Standard Time)"
 * using the GMT offset written in it.  Returns 0 or -1 (also for a
 * leap second, as above).
 */
int	tstamp_parse_js(const char *s, size_t len, int64_t *t);
/* Milliseconds on CLOCK_MONOTONIC: never jumps with the wall clock. */
int64_t	tstamp_monotonic_ms(void);

#endif
