/*
 * event.c - provider events to column arrays, through column tables.
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
#include "event.h"
#include "limits.h"
#include "payload.h"
#include "pgarray.h"
#include "tstamp.h"

/*
 * Column buffers larger than this are freed after their batch, as
 * request.c does with bodies, so that one 16 MiB batch does not keep a
 * worker's memory high (SPEC §7: 8 MiB).
 */
#define EVENTS_KEEP_MAX (1024 * 1024)

struct events {
	struct json_tokener	*tok;
	struct buf		*cols;	/* one array literal per parameter */
	size_t			 ncols;
	struct buf		 value;	/* one converted value */
};

/* Minutes east of UTC of naive timestamps; see event_set_local_offset. */
static int event_local_offset;

void
event_set_local_offset(int minutes)
{
	event_local_offset = minutes;
}

/* ---- the JSON text of a member ------------------------------------ */

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The byte after the JSON string whose '"' is at p; NULL if unclosed. */
static const char *
skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\' && ++p == end)
			break;
	}
	return NULL;
}

/*
 * The byte after the JSON value at p; NULL if it is cut short.  The
 * text is valid JSON (payload_scan() said so), so brackets only need
 * counting outside strings, and a number or a literal ends at the first
 * byte that cannot be in one.
 */
static const char *
skip_value(const char *p, const char *end)
{
	const char *start = p;
	int depth = 0;
	char c;

	if (p < end && *p == '"')
		return skip_string(p, end);
	if (p < end && *p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']' &&
		    *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		return p > start ? p : NULL;
	}
	while (p < end) {
		if (*p == '"') {
			if ((p = skip_string(p, end)) == NULL)
				return NULL;
			continue;
		}
		c = *p++;
		if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0)
			return p;
	}
	return NULL;
}

static int
hex4(const char *p)
{
	int v = 0, i;

	for (i = 0; i < 4; i++) {
		v *= 16;
		if (p[i] >= '0' && p[i] <= '9')
			v += p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			v += p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			v += p[i] - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * Whether the body s..e of a JSON string (quotes excluded) is key once
 * unescaped, as json-c and jsonb compare keys: "\u0065mail" is "email".
 * Escaped U+0000 and unpaired surrogates (payload_scan() left none)
 * match no C string.
 */
static int
key_is(const char *s, const char *e, const char *key)
{
	unsigned char u[4];
	long cp, lo;
	size_t n, i;

	while (s < e) {
		if (*s != '\\') {
			if (*key == '\0' || *s++ != *key++)
				return 0;
			continue;
		}
		if (e - s < 2)
			return 0;
		if (s[1] != 'u') {
			switch (s[1]) {
			case 'b': u[0] = '\b'; break;
			case 'f': u[0] = '\f'; break;
			case 'n': u[0] = '\n'; break;
			case 'r': u[0] = '\r'; break;
			case 't': u[0] = '\t'; break;
			default: u[0] = (unsigned char)s[1]; break; /* " \ / */
			}
			n = 1;
			s += 2;
		} else {
			if (e - s < 6 || (cp = hex4(s + 2)) < 0)
				return 0;
			s += 6;
			if (cp >= 0xd800 && cp <= 0xdbff && e - s >= 6 &&
			    s[0] == '\\' && s[1] == 'u' &&
			    (lo = hex4(s + 2)) >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				s += 6;
			}
			if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
				return 0;
			if (cp < 0x80) {
				u[0] = (unsigned char)cp;
				n = 1;
			} else if (cp < 0x800) {
				u[0] = (unsigned char)(0xc0 | cp >> 6);
				u[1] = (unsigned char)(0x80 | (cp & 0x3f));
				n = 2;
			} else if (cp < 0x10000) {
				u[0] = (unsigned char)(0xe0 | cp >> 12);
				u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				u[2] = (unsigned char)(0x80 | (cp & 0x3f));
				n = 3;
			} else {
				u[0] = (unsigned char)(0xf0 | cp >> 18);
				u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
				u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				u[3] = (unsigned char)(0x80 | (cp & 0x3f));
				n = 4;
			}
		}
		for (i = 0; i < n; i++)
			if (*key == '\0' || (unsigned char)*key++ != u[i])
				return 0;
	}
	return *key == '\0';
}

const char *
event_member(const char *ev, size_t len, const char *key, size_t *vlen)
{
	const char *p, *end = ev + len, *k, *v, *found = NULL;
	int match;

	p = skip_ws(ev, end);
	if (p >= end || *p++ != '{')
		return NULL;
	/* Every member, not the first match: the last duplicate wins. */
	for (;;) {
		p = skip_ws(p, end);
		if (p >= end)
			return NULL;
		if (*p == '}')
			return found;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '"')
			return NULL;
		k = p;
		if ((p = skip_string(p, end)) == NULL)
			return NULL;
		match = key_is(k + 1, p - 1, key);
		p = skip_ws(p, end);
		if (p >= end || *p++ != ':')
			return NULL;
		v = skip_ws(p, end);
		if ((p = skip_value(v, end)) == NULL)
			return NULL;
		if (match) {
			found = v;
			*vlen = (size_t)(p - v);
		}
	}
}

/* ---- converters ---------------------------------------------------- */

/*
 * The JSON text of f's value as sent (struct field says when it is
 * needed); NULL only if the event text does not hold it, which the
 * scanner rules out: the caller then stores NULL, not a guess.
 */
static const char *
field_text(const struct field *f, size_t *len)
{
	return event_member(f->event, f->eventlen, f->key, len);
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

/* The first byte at or after p that is not a decimal digit. */
static const char *
skip_digits(const char *p, const char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
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
	const char *end = s + len;
	uint64_t mag = 0, lim = INT64_MAX;
	unsigned d;
	int neg = 0;

	if (s < end && *s == '-') {
		neg = 1;
		lim = (uint64_t)INT64_MAX + 1;
		s++;
	}
	if (s == end || skip_digits(s, end) != end || (*s == '0' && end - s > 1))
		return -1;
	for (; s < end; s++) {
		d = (unsigned)(*s - '0');
		if (mag > (lim - d) / 10)
			return -1;
		mag = mag * 10 + d;
	}
	if (!neg)
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
 * Whether s[0..len) is exactly a JSON number (RFC 8259 §6),
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?, which leaves out the
 * rest of what strtod takes: hex ("0x1p4"), "inf", "nan", white space,
 * '+', "1." and ".5".
 */
static int
is_json_number(const char *s, size_t len)
{
	const char *end = s + len, *d;

	if (s < end && *s == '-')
		s++;
	if (s < end && *s == '0')
		s++;
	else if (s < end && *s >= '1' && *s <= '9')
		s = skip_digits(s, end);
	else
		return 0;
	if (s < end && *s == '.') {
		d = ++s;
		if ((s = skip_digits(s, end)) == d)
			return 0;
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		if (++s < end && (*s == '+' || *s == '-'))
			s++;
		d = s;
		if ((s = skip_digits(s, end)) == d)
			return 0;
	}
	return s == end;
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
	char *end;

	if (!is_json_number(s, len))
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
static int
bool_of(struct json_object *v)
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

	if ((b = bool_of(f->v)) < 0)
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
	if (tstamp_parse_iso(s, len, event_local_offset, &t) == -1 &&
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

/* ---- helpers for provider tables ---------------------------------- */

const char *
event_lookup(const struct event_name *names, const char *provider_event)
{
	if (provider_event == NULL)
		return "unknown";
	for (; names->provider_event; names++)
		if (strcmp(names->provider_event, provider_event) == 0)
			return names->event;
	return "unknown";
}

/* event_field(), naming in *key the one of keys it read. */
static struct json_object *
field_of(struct json_object *ev, const char *const *keys, const char **key)
{
	struct json_object *v;
	int i;

	for (i = 0; i < COLUMN_KEYS_MAX && keys[i]; i++)
		if (json_object_object_get_ex(ev, keys[i], &v) &&
		    !json_object_is_type(v, json_type_null)) {
			*key = keys[i];
			return v;
		}
	*key = NULL;
	return NULL;
}

struct json_object *
event_field(struct json_object *ev, const char *const *keys)
{
	const char *key;

	return field_of(ev, keys, &key);
}

const char *
event_string(struct json_object *ev, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(ev, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
event_bool(struct json_object *ev, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(ev, key, &v))
		return -1;
	return bool_of(v);
}

int
event_smtp_value(struct json_object *v)
{
	int64_t n;

	if (v == NULL)
		return -1;
	if (json_object_is_type(v, json_type_string))
		return event_smtp_code(json_object_get_string(v));
	if (json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v);
		return n >= 100 && n <= 599 ? (int)n : -1;
	}
	return -1;
}

int
event_smtp_code(const char *s)
{
	while (s && (*s == ' ' || *s == '\t'))
		s++;
	if (s == NULL || s[0] < '1' || s[0] > '5' || s[1] < '0' ||
	    s[1] > '9' || s[2] < '0' || s[2] > '9' ||
	    (s[3] >= '0' && s[3] <= '9'))
		return -1;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* ---- records ------------------------------------------------------- */

size_t
events_nparams(const struct provider *p)
{
	return EVENTS_FIXED + p->ncolumns;
}

/* Appends f through conv to the array col, or NULL when it has none. */
static void
events_value(struct events *e, struct buf *col, const struct field *f,
    const struct conv *conv)
{
	buf_reset(&e->value);
	buf_add(&e->value, "", 0);	/* data is never NULL below */
	if (f->v == NULL || !conv->fn(&e->value, f) ||
	    pgarray_add(col, e->value.data, e->value.len) == -1)
		pgarray_add_null(col);
}

/*
 * Appends to col the event's bytes as sent, orig[0..len), as bytea's hex
 * text, or NULL when orig is NULL (the event needed no repair).  Hex, not
 * the escape format: the bytes are not text (that is why they were
 * repaired) and the records must stay valid UTF-8 without NUL bytes.
 */
static void
events_original(struct events *e, struct buf *col, const char *orig,
    size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)orig;
	size_t i;

	if (orig == NULL) {
		pgarray_add_null(col);
		return;
	}
	buf_reset(&e->value);
	buf_grow(&e->value, 2 + 2 * len);
	buf_add(&e->value, "\\x", 2);
	for (i = 0; i < len; i++) {
		buf_addch(&e->value, hex[p[i] >> 4]);
		buf_addch(&e->value, hex[p[i] & 0xf]);
	}
	pgarray_add(col, e->value.data, e->value.len);
}

/*
 * Appends one parsed event, whose JSON text is raw, to the arrays;
 * orig is its text as sent (rawlen bytes too) when that differs from raw
 * by a repair, else NULL.
 */
static void
events_add(struct events *e, const struct provider *p,
    struct json_object *ev, const char *raw, size_t rawlen, const char *orig)
{
	static const char *const event_key[] = { "event", NULL };
	struct verdict vd = { "unknown", -1 };
	struct field f = { NULL, NULL, raw, rawlen };
	struct buf *col = e->cols;
	const char *pev = NULL;
	size_t i;

	f.v = field_of(ev, event_key, &f.key);
	events_value(e, col++, &f, &conv_text);
	if (f.v && json_object_is_type(f.v, json_type_string))
		pev = json_object_get_string(f.v);
	p->classify(ev, pev, &vd);
	pgarray_add(col++, vd.event, strlen(vd.event));
	if (vd.hard_bounce < 0)
		pgarray_add_null(col++);
	else
		pgarray_add(col++, vd.hard_bounce ? "true" : "false",
		    vd.hard_bounce ? 4 : 5);
	for (i = 0; i < p->ncolumns; i++) {
		f.v = field_of(ev, p->columns[i].keys, &f.key);
		events_value(e, col++, &f, p->columns[i].conv);
	}
	pgarray_add(col++, raw, rawlen); /* events_build checked for NUL */
	events_original(e, col, orig, rawlen);
}

struct events *
events_new(void)
{
	struct events *e = xmalloc(sizeof *e);

	memset(e, 0, sizeof *e);
	/* One more level than the scanner allows: it has checked already. */
	e->tok = json_tokener_new_ex(LIMIT_DEPTH + 1);
	if (e->tok == NULL) {
		free(e);
		return NULL;
	}
	return e;
}

void
events_free(struct events *e)
{
	size_t k;

	if (e == NULL)
		return;
	json_tokener_free(e->tok);
	for (k = 0; k < e->ncols; k++)
		buf_release(&e->cols[k]);
	free(e->cols);
	buf_release(&e->value);
	free(e);
}

int
events_build(struct events *e, struct buf *out, const struct provider *p,
    const char *body, const char *original, const struct payload *pl,
    char *err, size_t errlen)
{
	struct json_object *ev;
	const char *raw, *orig;
	size_t i, k, len, n = events_nparams(p);

	if (e->ncols < n) {
		e->cols = xrealloc(e->cols, n * sizeof *e->cols);
		memset(e->cols + e->ncols, 0, (n - e->ncols) * sizeof *e->cols);
		e->ncols = n;
	}
	for (k = 0; k < n; k++) {
		buf_trim(&e->cols[k], EVENTS_KEEP_MAX);
		buf_reset(&e->cols[k]);
		pgarray_open(&e->cols[k]);
	}
	for (i = 0; i < pl->nspans; i++) {
		raw = body + pl->spans[i].off;
		len = pl->spans[i].len;
		orig = NULL;
		if (pl->spans[i].repaired) {
			if (original == NULL) {
				snprintf(err, errlen, "event %zu at byte %zu was "
				    "repaired, and its bytes as sent are "
				    "missing", i, pl->spans[i].off);
				return -1;
			}
			orig = original + pl->spans[i].off;
		}
		json_tokener_reset(e->tok);
		ev = json_tokener_parse_ex(e->tok, raw, (int)len);
		if (ev == NULL || !json_object_is_type(ev, json_type_object) ||
		    memchr(raw, '\0', len) != NULL) {
			/* The scanner let through what json-c refuses. */
			snprintf(err, errlen, "event %zu at byte %zu: %s", i,
			    pl->spans[i].off, ev == NULL ?
			    json_tokener_error_desc(json_tokener_get_error(
			    e->tok)) : "not a JSON object without NUL bytes");
			json_object_put(ev);
			return -1;
		}
		events_add(e, p, ev, raw, len, orig);
		json_object_put(ev);
	}
	/* Each array with its NUL: the parameters, as store.c splits them. */
	for (k = 0; k < n; k++) {
		pgarray_close(&e->cols[k]);
		buf_add(out, e->cols[k].data, e->cols[k].len + 1);
	}
	return 0;
}

/* The k-th NUL-terminated array of records, its length in *n; NULL if none. */
static const char *
events_array(const char *records, size_t len, size_t k, size_t *n)
{
	const char *arr = records, *end = records + len, *nul;

	for (;;) {
		if ((nul = memchr(arr, '\0', (size_t)(end - arr))) == NULL)
			return NULL;
		if (k-- == 0)
			break;
		arr = nul + 1;
	}
	*n = (size_t)(nul - arr);
	return arr;
}

/* Appends the bytes of bytea's hex text s ("\x..."); -1 if it is not. */
static int
events_unhex(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const char *hi, *lo;
	size_t i;

	if (len < 2 || s[0] != '\\' || s[1] != 'x' || len % 2 != 0)
		return -1;
	for (i = 2; i < len; i += 2) {
		if ((hi = memchr(hex, s[i], 16)) == NULL ||
		    (lo = memchr(hex, s[i + 1], 16)) == NULL)
			return -1;
		buf_addch(out, (int)((hi - hex) << 4 | (lo - hex)));
	}
	return 0;
}

int
events_json(const struct provider *p, const char *records, size_t len,
    struct buf *out)
{
	struct buf raw = BUF_INIT, orig = BUF_INIT;
	const char *ra, *oa;
	size_t n = events_nparams(p), rlen, olen, rpos = 0, opos = 0, i;
	int rnull, onull, rc = -1, more;

	/* raw and original are the last two arrays (event.h). */
	if ((ra = events_array(records, len, n - 2, &rlen)) == NULL ||
	    (oa = events_array(records, len, n - 1, &olen)) == NULL)
		return -1;
	buf_addch(out, '[');
	for (i = 0; ; i++) {
		more = pgarray_next(ra, rlen, &rpos, &raw, &rnull);
		if (pgarray_next(oa, olen, &opos, &orig, &onull) != more ||
		    more == -1 || rnull)
			goto out;
		if (more == 0)
			break;
		if (i > 0)
			buf_addch(out, ',');
		/* The bytes as sent where the scanner had to repair them. */
		if (onull)
			buf_add(out, raw.data, raw.len);
		else if (events_unhex(out, orig.data, orig.len) == -1)
			goto out;
	}
	buf_addch(out, ']');
	rc = 0;
out:
	buf_release(&raw);
	buf_release(&orig);
	return rc;
}
