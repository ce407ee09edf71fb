/*
 * event.c - provider events to column arrays, through column tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "event.h"
#include "limits.h"
#include "payload.h"
#include "pgarray.h"

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
	return conv_boolean(v);
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

