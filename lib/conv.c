/*
 * conv.c - one field of an event to the text of its column's SQL value.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>		/* isfinite */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "conv.h"
#include "event.h"
#include "limits.h"
#include "member.h"
#include "numtext.h"
#include "tstamp.h"

/* Minutes east of UTC of naive timestamps; see conv_set_local_offset. */
static int conv_local_offset;

void
conv_set_local_offset(int minutes)
{
	conv_local_offset = minutes;
}

/*
 * The JSON text of f's value as sent (struct field says when it is
 * needed); NULL only if the event text does not hold it, which the
 * scanner rules out: the caller then stores NULL, not a guess.
 */
static const char *
field_text(const struct field *f, size_t *len)
{
	return member_find(f->event, f->eventlen, f->key, len);
}

/*
 * Sets *n to json-c's int64 of the integer v, and says whether that is
 * the integer sent.  json-c 0.16 reads integer literals with strtoll or
 * strtoull and keeps the saturated value on overflow, so INT64_MIN may
 * stand for anything below it, and json_object_get_int64() gives
 * INT64_MAX for anything above, uint64 values included.  Between the
 * two json-c is exact, and the event text need not be scanned: most
 * integers cost nothing more.
 */
static int
int_is_exact(struct json_object *v, int64_t *n)
{
	*n = json_object_get_int64(v);
	return *n != INT64_MIN && *n != INT64_MAX;
}

/*
 * Reads s[0..len) as an integer in JSON's grammar, -?(0|[1-9][0-9]*):
 * no space, '+', leading zero, exponent or hex, whose reading would be
 * a guess ("007", "1e3", "0x10").  Returns 0, or -1 when s is not one or
 * it is outside int64, where it is never saturated into another number.
 */
static int
int64_parse(const char *s, size_t len, int64_t *out)
{
	struct numtext n;
	uint64_t mag = 0, lim;
	unsigned d;
	size_t i;

	if (numtext_split(s, len, &n) == -1 || n.nfrac > 0 || n.nexp > 0)
		return -1;
	lim = n.neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
	for (i = 0; i < n.nint; i++) {
		d = (unsigned)(n.ip[i] - '0');
		if (mag > (lim - d) / 10)
			return -1;
		mag = mag * 10 + d;
	}
	if (!n.neg)
		*out = (int64_t)mag;
	else
		*out = mag > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)mag;
	return 0;
}

/*
 * Exact integers only, never through a double: Mailjet's MessageID
 * exceeds 2^53.  A number at json-c's saturation bounds is read again
 * from its literal.
 */
static int
int64_of(const struct field *f, int64_t *out)
{
	const char *s;
	size_t len;

	switch (json_object_get_type(f->v)) {
	case json_type_int:
		if (int_is_exact(f->v, out))
			return 0;
		if ((s = field_text(f, &len)) == NULL)
			return -1;
		return int64_parse(s, len, out);
	case json_type_string:
		return int64_parse(json_object_get_string(f->v),
		    (size_t)json_object_get_string_len(f->v), out);
	default:
		return -1;
	}
}

/*
 * The double of s (len bytes and a NUL): 0, or -1 unless s is exactly a
 * JSON number that strtod reads without ERANGE.  Rounding to the
 * nearest double is what double precision means, for "0.1" as for
 * anything; overflow (to infinity) and underflow (to zero or a
 * denormal, losing digits a double normally keeps) give another number
 * (SPEC §3), so those are NULL.
 */
static int
double_of(const char *s, size_t len, double *d)
{
	struct numtext n;
	char *end;

	/* Not hex, "inf", " 12" or the rest strtod takes besides. */
	if (numtext_split(s, len, &n) == -1)
		return -1;
	errno = 0;
	*d = strtod(s, &end);
	return errno == ERANGE || end != s + len || !isfinite(*d) ? -1 : 0;
}

static int
conv_text_fn(struct buf *out, const struct field *f)
{
	const char *s;
	size_t len;
	int64_t n;

	switch (json_object_get_type(f->v)) {
	case json_type_string:
		buf_add(out, json_object_get_string(f->v),
		    (size_t)json_object_get_string_len(f->v));
		return 1;
	case json_type_boolean:
		buf_adds(out, json_object_get_boolean(f->v) ? "true" : "false");
		return 1;
	case json_type_double:
		/* json-c keeps a parsed double's literal: "1.50" as sent. */
		buf_adds(out, json_object_get_string(f->v));
		return 1;
	case json_type_int:
		/*
		 * json-c's int64 prints as the literal, except at its
		 * saturation bounds and for "-0", which it reads as 0.
		 */
		if (int_is_exact(f->v, &n) && n != 0) {
			buf_addf(out, "%" PRId64, n);
			return 1;
		}
		/* FALLTHROUGH */
	case json_type_object:
	case json_type_array:
		/*
		 * As sent (Aldeamo's "response" may be an array of
		 * objects): json-c would print its numbers saturated.
		 */
		if ((s = field_text(f, &len)) == NULL)
			return 0;
		buf_add(out, s, len);
		return 1;
	default:
		return 0;
	}
}

static int
conv_lower_fn(struct buf *out, const struct field *f)
{
	const char *s;
	size_t len, i, start;

	if (!json_object_is_type(f->v, json_type_string))
		return 0;
	s = json_object_get_string(f->v);
	len = (size_t)json_object_get_string_len(f->v);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
	    s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, len--;
	if (len == 0)
		return 0;
	/*
	 * ASCII only: the domain is case-insensitive and local parts are
	 * lower-cased in practice; Unicode case folding would depend on
	 * the database's collation and make the key differ between hosts.
	 */
	start = out->len;
	buf_add(out, s, len);
	for (i = start; i < out->len; i++)
		if (out->data[i] >= 'A' && out->data[i] <= 'Z')
			out->data[i] = (char)(out->data[i] - 'A' + 'a');
	return 1;
}

static int
conv_int64_fn(struct buf *out, const struct field *f)
{
	int64_t n;

	if (int64_of(f, &n) == -1)
		return 0;
	buf_addf(out, "%" PRId64, n);
	return 1;
}

/*
 * -1 when v is not a boolean in one of the forms providers use.  An
 * integer json-c saturated is neither 0 nor 1, nor is what was sent.
 */
int
conv_boolean(struct json_object *v)
{
	const char *s;
	int64_t n;

	switch (json_object_get_type(v)) {
	case json_type_boolean:
		return json_object_get_boolean(v) ? 1 : 0;
	case json_type_int:
		n = json_object_get_int64(v);
		return n == 0 || n == 1 ? (int)n : -1;
	case json_type_string:
		s = json_object_get_string(v);
		if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
			return 1;
		if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
			return 0;
		return -1;
	default:
		return -1;
	}
}

static int
conv_bool_fn(struct buf *out, const struct field *f)
{
	int b;

	if ((b = conv_boolean(f->v)) < 0)
		return 0;
	buf_adds(out, b ? "true" : "false");
	return 1;
}

/* Writes t as an ISO 8601 UTC time; 0 (nothing written) if absurd. */
static int
add_time(struct buf *out, const struct tstamp *t)
{
	char ts[TSTAMP_LEN];

	if (tstamp_format(t->sec, t->usec, ts) == -1)
		return 0;
	buf_adds(out, ts);
	return 1;
}

/*
 * Unix seconds, to the microsecond: the fraction sent is part of the
 * instant (Mailgun sends 1521472262.908181), so a number with a point
 * or an exponent is read from its literal's digits by
 * tstamp_parse_unix(), never from json-c's double, which holds neither
 * that value nor, near 2^38 seconds, every microsecond.
 */
static int
conv_unixtime_fn(struct buf *out, const struct field *f)
{
	struct tstamp t = { 0, 0 };
	const char *s;

	switch (json_object_get_type(f->v)) {
	case json_type_int:
		/* Whole seconds, the common case: no text to read. */
		if (int64_of(f, &t.sec) == -1)
			return 0;
		break;
	case json_type_double:
		/* json-c keeps a parsed double's literal, as sent. */
		s = json_object_get_string(f->v);
		if (tstamp_parse_unix(s, strlen(s), &t) == -1)
			return 0;
		break;
	case json_type_string:
		/* Exactly a JSON number, as conv_number takes strings. */
		if (tstamp_parse_unix(json_object_get_string(f->v),
		    (size_t)json_object_get_string_len(f->v), &t) == -1)
			return 0;
		break;
	default:
		return 0;
	}
	return add_time(out, &t);
}

static int
conv_inet_fn(struct buf *out, const struct field *f)
{
	unsigned char addr[16];
	const char *s;

	if (!json_object_is_type(f->v, json_type_string))
		return 0;
	s = json_object_get_string(f->v);
	/* inet_pton accepts exactly the plain forms PostgreSQL's inet does. */
	if (inet_pton(AF_INET, s, addr) != 1 && inet_pton(AF_INET6, s, addr) != 1)
		return 0;
	buf_adds(out, s);
	return 1;
}

static int
conv_number_fn(struct buf *out, const struct field *f)
{
	char lit[LIMIT_NUMBER_LEN + 1];
	const char *s;
	size_t len;
	int64_t n;
	double d;

	switch (json_object_get_type(f->v)) {
	case json_type_string:
		s = json_object_get_string(f->v);
		len = (size_t)json_object_get_string_len(f->v);
		break;
	case json_type_double:
		/* Its literal as sent; get_string_len is for strings only. */
		s = json_object_get_string(f->v);
		len = strlen(s);
		break;
	case json_type_int:
		if (int_is_exact(f->v, &n)) {
			/* Rounded to nearest, as strtod rounds the literal. */
			buf_addf(out, "%.17g", (double)n);
			return 1;
		}
		/* The scanner bounds a number literal to LIMIT_NUMBER_LEN. */
		if ((s = field_text(f, &len)) == NULL || len >= sizeof lit)
			return 0;
		memcpy(lit, s, len);
		lit[len] = '\0';
		s = lit;
		break;
	default:
		return 0;
	}
	if (double_of(s, len, &d) == -1)
		return 0;
	buf_addf(out, "%.17g", d);
	return 1;
}

static int
conv_smtp_fn(struct buf *out, const struct field *f)
{
	int code;

	if ((code = event_smtp_value(f->v)) < 0)
		return 0;
	buf_addf(out, "%d", code);
	return 1;
}

static int
conv_localtime_fn(struct buf *out, const struct field *f)
{
	struct tstamp t;
	const char *s;
	size_t len;

	if (!json_object_is_type(f->v, json_type_string))
		return conv_unixtime_fn(out, f);
	s = json_object_get_string(f->v);
	len = (size_t)json_object_get_string_len(f->v);
	if (tstamp_parse_iso(s, len, conv_local_offset, &t) == -1 &&
	    tstamp_parse_js(s, len, &t) == -1)
		return 0;
	return add_time(out, &t);
}

/*
 * The value's JSON text as sent: jsonb then keeps every number exactly
 * (as numeric), where json-c would print saturated integers.
 */
static int
conv_json_fn(struct buf *out, const struct field *f)
{
	const char *s;
	size_t len;

	if (!json_object_is_type(f->v, json_type_object) &&
	    !json_object_is_type(f->v, json_type_array))
		return 0;
	if ((s = field_text(f, &len)) == NULL)
		return 0;
	buf_add(out, s, len);
	return 1;
}

const struct conv conv_text = { conv_text_fn, "text" };
const struct conv conv_lower = { conv_lower_fn, "text" };
const struct conv conv_int64 = { conv_int64_fn, "bigint" };
const struct conv conv_bool = { conv_bool_fn, "boolean" };
const struct conv conv_unixtime = { conv_unixtime_fn, "timestamptz" };
const struct conv conv_inet = { conv_inet_fn, "inet" };
const struct conv conv_json = { conv_json_fn, "jsonb" };
const struct conv conv_number = { conv_number_fn, "double precision" };
const struct conv conv_smtp = { conv_smtp_fn, "smallint" };
const struct conv conv_localtime = { conv_localtime_fn, "timestamptz" };
