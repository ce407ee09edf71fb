/*
 * tstamp.c - provider timestamps to UTC, by arithmetic only.
 */
#include <string.h>
#include <time.h>

#include "numtext.h"
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
tstamp_format(int64_t t, int32_t usec, char out[TSTAMP_LEN])
{
	int64_t days, secs, z, era, doe, yoe, doy, mp;
	int32_t div;
	long y;
	int m, d, n;

	if (t < TSTAMP_MIN || t > TSTAMP_MAX || usec < 0 || usec > 999999)
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
	n = 19;
	/* Whole seconds, the common case, cost one comparison more. */
	if (usec != 0) {
		out[n++] = '.';
		for (div = 100000; usec != 0; div /= 10) {
			out[n++] = (char)('0' + usec / div);
			usec %= div;
		}
	}
	out[n++] = 'Z';
	out[n] = '\0';
	return 0;
}

/*
 * A fraction of a second, read one digit at a time, for rounding to the
 * microsecond: only its first seven digits and whether any digit after
 * them is not 0 matter.
 */
struct frac {
	int32_t	usec;		/* the first six digits */
	int	n;		/* digits read, up to 7 */
	int	next;		/* the seventh, 0 if none */
	int	sticky;		/* a digit after the seventh is not 0 */
};

#define FRAC_INIT { 0, 0, 0, 0 }

static void
frac_add(struct frac *f, int d)
{
	if (f->n < 6)
		f->usec = f->usec * 10 + d;
	else if (f->n == 6)
		f->next = d;
	else
		f->sticky |= d != 0;
	if (f->n < 7)
		f->n++;
}

/*
 * The fraction in microseconds, to nearest and ties to even (tstamp.h);
 * 1000000 when it rounds up to the next second.
 */
static int32_t
frac_usec(const struct frac *f)
{
	int32_t us = f->usec;
	int n;

	for (n = f->n; n < 6; n++)
		us *= 10;
	if (f->next > 5 || (f->next == 5 && (f->sticky || us % 2 != 0)))
		us++;
	return us;
}

/*
 * Sets *t to sec + usec, usec being frac_usec()'s (1000000 carries into
 * the next second); -1 when that is outside the years 1 to 9999.
 */
static int
tstamp_set(struct tstamp *t, int64_t sec, int32_t usec)
{
	if (usec == 1000000) {
		sec++;
		usec = 0;
	}
	if (sec < TSTAMP_MIN || sec > TSTAMP_MAX)
		return -1;
	t->sec = sec;
	t->usec = usec;
	return 0;
}

/*
 * Exponents are read up to this size and saturate there.  No text that
 * fits a request has this many digits, so a larger exponent moves the
 * point as far: past every digit, making any digit but 0 too large an
 * instant, or so far left that the instant rounds to 0 seconds.
 */
#define TSTAMP_EXP_SAT 1000000000

int
tstamp_parse_unix(const char *s, size_t len, struct tstamp *t)
{
	struct numtext n;
	struct frac fr = FRAC_INIT;
	const char *ip, *fp;
	int64_t ex = 0, nint, nd, point, k, mag = 0;
	int32_t us;
	size_t i;

	if (numtext_split(s, len, &n) == -1)
		return -1;
	ip = n.ip;
	fp = n.fp;
	nint = (int64_t)n.nint;
	nd = nint + (int64_t)n.nfrac;
	for (i = 0; i < n.nexp; i++)
		if (ex < TSTAMP_EXP_SAT)
			ex = ex * 10 + (n.ep[i] - '0');
	if (n.eneg)
		ex = -ex;
	/*
	 * The digits, integer part then fraction, are one string with the
	 * decimal point after digit number point: whole seconds before it,
	 * the fraction after.  Digit k is ip[k] or fp[k - nint].
	 */
	point = nint + ex;
	for (k = 0; k < point && k < nd; k++)
		if ((mag = mag * 10 + ((k < nint ? ip[k] : fp[k - nint]) -
		    '0')) > TSTAMP_MAX)
			return -1;
	/* Zeros between the last digit and the point: few unless mag is 0. */
	for (; k < point && mag != 0; k++)
		if ((mag *= 10) > TSTAMP_MAX)
			return -1;
	/* Zeros between the point and the first digit: 7 are enough. */
	for (k = point; k < 0 && fr.n < 7; k++)
		frac_add(&fr, 0);
	for (k = point > 0 ? point : 0; k < nd; k++)
		frac_add(&fr, (k < nint ? ip[k] : fp[k - nint]) - '0');
	/* Ties to even is symmetric: rounding the magnitude will do. */
	if ((us = frac_usec(&fr)) == 1000000) {
		mag++;
		us = 0;
	}
	if (n.neg && us != 0)
		return tstamp_set(t, -mag - 1, 1000000 - us);
	return tstamp_set(t, n.neg ? -mag : mag, us);
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
    int32_t usec, long offset_min, struct tstamp *t)
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
	return tstamp_set(t, tstamp_from_civil(y, (int)mon, (int)d, (int)h,
	    (int)min, (int)s) - offset_min * 60, usec);
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
tstamp_parse_iso(const char *s, size_t len, int offset_min, struct tstamp *t)
{
	const char *p = skip_space(s, s + len), *end = s + len;
	struct frac fr = FRAC_INIT;
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
			frac_add(&fr, *p++ - '0');
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
	return civil_checked(y, mon, d, h, min, sec, frac_usec(&fr), off, t);
}

int
tstamp_parse_js(const char *s, size_t len, struct tstamp *t)
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
	return civil_checked(y, mon, d, h, min, sec, 0, off, t);
}

int64_t
tstamp_monotonic_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
