/*
 * tstamp.c - provider timestamps to UTC, by arithmetic only.
 */
#include <string.h>
#include <time.h>

#include "tstamp.h"

/* First and last second of the years 1 and 9999, UTC. */
#define TSTAMP_MIN (-62135596800LL)
#define TSTAMP_MAX 253402300799LL

/*
 * Days from 1970-01-01 to y-m-d, after Howard Hinnant's
 * days_from_civil (http://howardhinnant.github.io/date_algorithms.html).
 */
static int64_t
days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

int64_t
tstamp_from_civil(long y, int mon, int d, int h, int min, int s)
{
	return days_from_civil(y, mon, d) * 86400 + h * 3600 + min * 60 + s;
}

int
tstamp_format(int64_t t, char out[TSTAMP_LEN])
{
	int64_t days, secs, z, era, doe, yoe, doy, mp;
	long y;
	int m, d;

	if (t < TSTAMP_MIN || t > TSTAMP_MAX)
		return -1;
	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	/* civil_from_days, same source as above. */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (long)(yoe + era * 400);
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (int)(doy - (153 * mp + 2) / 5 + 1);
	m = (int)(mp < 10 ? mp + 3 : mp - 9);
	y += m <= 2;
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = 'T';
	out[11] = (char)('0' + secs / 36000);
	out[12] = (char)('0' + secs / 3600 % 10);
	out[13] = ':';
	out[14] = (char)('0' + secs % 3600 / 600);
	out[15] = (char)('0' + secs % 3600 / 60 % 10);
	out[16] = ':';
	out[17] = (char)('0' + secs % 60 / 10);
	out[18] = (char)('0' + secs % 10);
	out[19] = 'Z';
	out[20] = '\0';
	return 0;
}

/* Reads exactly n digits at *p, advancing it; -1 when they are not. */
static long
digits(const char **p, const char *end, int n)
{
	long v = 0;

	if (end - *p < n)
		return -1;
	while (n--) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	return v;
}

static int
days_in_month(long y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* Checks the fields and converts; -1 when a field is out of range. */
static int
civil_checked(long y, long mon, long d, long h, long min, long s,
    long offset_min, int64_t *t)
{
	/*
	 * Second 60, a leap second (23:59:60 UTC, 18:59:60 in Aldeamo's
	 * GMT-5), is refused: timestamptz counts POSIX seconds, which have
	 * no instant for it (PostgreSQL itself reads it as the next
	 * minute's first second), and :59 or :00 would be a time that was
	 * not sent (SPEC §3).  The column is NULL; raw keeps the text.
	 */
	if (y < 1 || mon < 1 || mon > 12 || d < 1 ||
	    d > days_in_month(y, (int)mon) || h > 23 || min > 59 || s > 59)
		return -1;
	*t = tstamp_from_civil(y, (int)mon, (int)d, (int)h, (int)min, (int)s) -
	    offset_min * 60;
	return *t < TSTAMP_MIN || *t > TSTAMP_MAX ? -1 : 0;
}

/*
 * Parses "+HH:MM", "+HHMM", "+HH" at *p; returns minutes east or -1.
 * A colon promises the minutes (ISO 8601): "+05:" is no offset, and
 * reading it as +05:00 would be guessing.
 */
static int
zone_offset(const char **p, const char *end, long *off)
{
	long hh, mm = 0;
	int sign, colon;

	if (*p >= end || (**p != '+' && **p != '-'))
		return -1;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if ((hh = digits(p, end, 2)) < 0 || hh > 23)
		return -1;
	colon = *p < end && **p == ':';
	*p += colon;
	if ((colon || (*p < end && **p >= '0' && **p <= '9')) &&
	    ((mm = digits(p, end, 2)) < 0 || mm > 59))
		return -1;
	*off = sign * (hh * 60 + mm);
	return 0;
}

static const char *
skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

int
tstamp_parse_iso(const char *s, size_t len, int offset_min, int64_t *t)
{
	const char *p = skip_space(s, s + len), *end = s + len;
	long y, mon, d, h, min, sec, off = offset_min;

	if ((y = digits(&p, end, 4)) < 0 || p >= end || *p++ != '-' ||
	    (mon = digits(&p, end, 2)) < 0 || p >= end || *p++ != '-' ||
	    (d = digits(&p, end, 2)) < 0 || p >= end ||
	    (*p != ' ' && *p != 'T') || (p++, (h = digits(&p, end, 2)) < 0) ||
	    p >= end || *p++ != ':' || (min = digits(&p, end, 2)) < 0 ||
	    p >= end || *p++ != ':' || (sec = digits(&p, end, 2)) < 0)
		return -1;
	/* A fraction has a digit at least (ISO 8601): "20:01:20." is no time. */
	if (p < end && *p == '.') {
		if (++p >= end || *p < '0' || *p > '9')
			return -1;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && *p == 'Z') {
		off = 0;
		p++;
	} else if (p < end && (*p == '+' || *p == '-')) {
		if (zone_offset(&p, end, &off) == -1)
			return -1;
	}
	if (skip_space(p, end) != end)
		return -1;
	return civil_checked(y, mon, d, h, min, sec, off, t);
}

int
tstamp_parse_js(const char *s, size_t len, int64_t *t)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *p = skip_space(s, s + len), *end = s + len, *m;
	long y, mon, d, h, min, sec, off;

	/* "Fri " — the weekday is redundant, and not checked. */
	if (end - p < 4 || p[3] != ' ')
		return -1;
	p += 4;
	if (end - p < 4 || p[3] != ' ')
		return -1;
	for (m = months; *m; m += 3)
		if (memcmp(m, p, 3) == 0)
			break;
	if (*m == '\0')
		return -1;
	mon = (m - months) / 3 + 1;
	p += 4;
	if ((d = digits(&p, end, 2)) < 0 || p >= end || *p++ != ' ' ||
	    (y = digits(&p, end, 4)) < 0 || p >= end || *p++ != ' ' ||
	    (h = digits(&p, end, 2)) < 0 || p >= end || *p++ != ':' ||
	    (min = digits(&p, end, 2)) < 0 || p >= end || *p++ != ':' ||
	    (sec = digits(&p, end, 2)) < 0)
		return -1;
	if (end - p < 4 || memcmp(p, " GMT", 4) != 0)
		return -1;
	p += 4;
	if (zone_offset(&p, end, &off) == -1)
		return -1;
	/* What follows is the zone's name in parentheses: free text. */
	p = skip_space(p, end);
	if (p < end && *p != '(')
		return -1;
	return civil_checked(y, mon, d, h, min, sec, off, t);
}

int64_t
tstamp_monotonic_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
