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

/* ---- converters ---------------------------------------------------- */

static int
conv_text_fn(struct buf *out, struct json_object *v, const struct provider *p)
{
	(void)p;
	switch (json_object_get_type(v)) {
	case json_type_string:
		buf_add(out, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
		return 1;
	case json_type_int:
	case json_type_double:
	case json_type_boolean:
		/* json-c prints ints exactly and doubles as they were sent. */
		buf_adds(out, json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN));
		return 1;
	case json_type_object:
	case json_type_array:
		/* Aldeamo's "response" is a string or an array of objects. */
		buf_adds(out, json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		return 1;
	default:
		return 0;
	}
}

static int
conv_lower_fn(struct buf *out, struct json_object *v, const struct provider *p)
{
	const char *s;
	size_t len, i, start;

	(void)p;
	if (!json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
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

/*
 * Exact integers only.  json-c keeps integers as int64 (or uint64), and
 * prints them back exactly, so the decimal text goes through strtoll and
 * never through a double: Mailjet's MessageID exceeds 2^53.
 */
static int
int64_of(struct json_object *v, int64_t *out)
{
	const char *s;
	char *end;
	long long n;

	switch (json_object_get_type(v)) {
	case json_type_int:
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		break;
	case json_type_string:
		s = json_object_get_string(v);
		if ((size_t)json_object_get_string_len(v) != strlen(s))
			return -1;
		break;
	default:
		return -1;
	}
	while (*s == ' ')
		s++;
	if (!(*s == '-' || (*s >= '0' && *s <= '9')))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno == ERANGE || end == s || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

static int
conv_int64_fn(struct buf *out, struct json_object *v, const struct provider *p)
{
	int64_t n;

	(void)p;
	if (int64_of(v, &n) == -1)
		return 0;
	buf_addf(out, "%" PRId64, n);
	return 1;
}

/* -1 when v is not a boolean in one of the forms providers use. */
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
conv_bool_fn(struct buf *out, struct json_object *v, const struct provider *p)
{
	int b;

	(void)p;
	if ((b = bool_of(v)) < 0)
		return 0;
	buf_adds(out, b ? "true" : "false");
	return 1;
}

/* Writes t as an ISO 8601 UTC time; 0 (nothing written) if absurd. */
static int
add_time(struct buf *out, int64_t t)
{
	char ts[TSTAMP_LEN];

	if (tstamp_format(t, ts) == -1)
		return 0;
	buf_adds(out, ts);
	return 1;
}

static int
conv_unixtime_fn(struct buf *out, struct json_object *v,
    const struct provider *p)
{
	int64_t t;
	double d;

	(void)p;
	if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		if (!isfinite(d) || d < -1e12 || d > 1e12)
			return 0;
		t = (int64_t)d;		/* toward zero; floor it */
		if ((double)t > d)
			t--;
	} else if (int64_of(v, &t) == -1)
		return 0;
	return add_time(out, t);
}

static int
conv_inet_fn(struct buf *out, struct json_object *v, const struct provider *p)
{
	unsigned char addr[16];
	const char *s;

	(void)p;
	if (!json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	/* inet_pton accepts exactly the plain forms PostgreSQL's inet does. */
	if (inet_pton(AF_INET, s, addr) != 1 && inet_pton(AF_INET6, s, addr) != 1)
		return 0;
	buf_adds(out, s);
	return 1;
}

/* Finite JSON numbers, or strings that are one, as double precision. */
static int
conv_number_fn(struct buf *out, struct json_object *v,
    const struct provider *p)
{
	const char *s;
	char *end;
	double d;

	(void)p;
	if (!json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	d = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(d))
		return 0;
	buf_addf(out, "%.17g", d);
	return 1;
}

static int
conv_smtp_fn(struct buf *out, struct json_object *v, const struct provider *p)
{
	int code;

	(void)p;
	if ((code = event_smtp_value(v)) < 0)
		return 0;
	buf_addf(out, "%d", code);
	return 1;
}

static int
conv_localtime_fn(struct buf *out, struct json_object *v,
    const struct provider *p)
{
	const char *s;
	size_t len;
	int64_t t;

	(void)p;
	if (!json_object_is_type(v, json_type_string))
		return conv_unixtime_fn(out, v, p);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (tstamp_parse_iso(s, len, event_local_offset, &t) == -1 &&
	    tstamp_parse_js(s, len, &t) == -1)
		return 0;
	return add_time(out, t);
}

static int
conv_json_fn(struct buf *out, struct json_object *v, const struct provider *p)
{
	(void)p;
	if (!json_object_is_type(v, json_type_object) &&
	    !json_object_is_type(v, json_type_array))
		return 0;
	buf_adds(out, json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
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

struct json_object *
event_field(struct json_object *ev, const char *const *keys)
{
	struct json_object *v;
	int i;

	for (i = 0; i < COLUMN_KEYS_MAX && keys[i]; i++)
		if (json_object_object_get_ex(ev, keys[i], &v) &&
		    !json_object_is_type(v, json_type_null))
			return v;
	return NULL;
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

/* Appends v through conv to the array col, or NULL when it has none. */
static void
events_value(struct events *e, struct buf *col, struct json_object *v,
    const struct conv *conv, const struct provider *p)
{
	buf_reset(&e->value);
	buf_add(&e->value, "", 0);	/* data is never NULL below */
	if (v == NULL || !conv->fn(&e->value, v, p) ||
	    pgarray_add(col, e->value.data, e->value.len) == -1)
		pgarray_add_null(col);
}

/* Appends one parsed event, whose JSON text is raw, to the arrays. */
static void
events_add(struct events *e, const struct provider *p,
    struct json_object *ev, const char *raw, size_t rawlen)
{
	static const char *const event_key[] = { "event", NULL };
	struct verdict vd = { "unknown", -1 };
	struct buf *col = e->cols;
	struct json_object *v;
	const char *pev = NULL;
	size_t i;

	v = event_field(ev, event_key);
	events_value(e, col++, v, &conv_text, p);
	if (v && json_object_is_type(v, json_type_string))
		pev = json_object_get_string(v);
	p->classify(ev, pev, &vd);
	pgarray_add(col++, vd.event, strlen(vd.event));
	if (vd.hard_bounce < 0)
		pgarray_add_null(col++);
	else
		pgarray_add(col++, vd.hard_bounce ? "true" : "false",
		    vd.hard_bounce ? 4 : 5);
	for (i = 0; i < p->ncolumns; i++)
		events_value(e, col++, event_field(ev, p->columns[i].keys),
		    p->columns[i].conv, p);
	pgarray_add(col, raw, rawlen);	/* events_build checked for NUL */
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
    const char *body, const struct payload *pl, char *err, size_t errlen)
{
	struct json_object *ev;
	const char *raw;
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
		events_add(e, p, ev, raw, len);
		json_object_put(ev);
	}
	/* Each array with its NUL: the parameters, as store.c splits them. */
	for (k = 0; k < n; k++) {
		pgarray_close(&e->cols[k]);
		buf_add(out, e->cols[k].data, e->cols[k].len + 1);
	}
	return 0;
}

int
events_json(const struct provider *p, const char *records, size_t len,
    struct buf *out)
{
	struct buf el = BUF_INIT;
	const char *arr = records, *end = records + len, *nul;
	size_t k, pos = 0, n = 0;
	int isnull, rc;

	/* raw is the last array. */
	for (k = 0; k + 1 < events_nparams(p); k++) {
		if ((nul = memchr(arr, '\0', (size_t)(end - arr))) == NULL)
			return -1;
		arr = nul + 1;
	}
	if ((nul = memchr(arr, '\0', (size_t)(end - arr))) == NULL)
		return -1;
	buf_addch(out, '[');
	while ((rc = pgarray_next(arr, (size_t)(nul - arr), &pos, &el,
	    &isnull)) == 1) {
		if (isnull)
			break;
		if (n++ > 0)
			buf_addch(out, ',');
		buf_add(out, el.data, el.len);
	}
	buf_addch(out, ']');
	buf_release(&el);
	return rc == 0 ? 0 : -1;
}
