/*
 * fuzz_provider.c - libFuzzer target for one provider's mapping: a body
 * through payload_scan() and events_build(), as a worker handles a
 * request, without the database.  Built once per provider table with
 * -DFUZZ_PROVIDER=provider_<name> (see fuzz.mk).
 *
 * When the scan accepts a body, events_build() must accept it too (the
 * scanner promises json-c reads every span), and what it writes must be
 * what store.c splits into the insert's parameters: events_nparams()
 * array literals, each ending with a NUL byte, the last one at the end
 * of the records.  Each array, read back with pgarray_next() as the
 * database's array_in() reads it, holds one element per event and
 * nothing after; no element holds a NUL byte, every element is valid
 * UTF-8 and text its column's type takes (jsonb ones in text jsonb
 * takes, and a part of the event's text as sent, so every number in
 * them is the one sent; double precision ones without overflow or
 * underflow); "event" is never NULL; raw is never NULL and is the
 * event's text as sent (after the scanner's repairs), byte for byte;
 * original is NULL exactly when the scanner repaired nothing in the
 * event's strings (its flag, and the bytes themselves: nothing but
 * blanked commas changed), and otherwise bytea's hex text ("\x" and two
 * lower-case digits a byte) of the event's bytes before the repairs,
 * byte for byte.
 * The arrays turned into COPY rows (pgcopy_rows(), what store.c sends
 * for a large batch) make one line per event with one field per array:
 * no value leaves a raw tab, newline or carriage return.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "check.h"
#include "event.h"
#include "limits.h"
#include "payload.h"
#include "pgarray.h"
#include "pgcopy.h"
#include "providers.h"

#ifndef FUZZ_PROVIDER
#error "build with -DFUZZ_PROVIDER=provider_<name>"
#endif

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The arrays before the table's columns (event.h); raw, original last. */
static const char *const fixed_name[] = {
	"provider_event", "event", "hard_bounce"
};
static const char *const fixed_type[] = { "text", "text", "boolean" };
#define NFIXED	(sizeof fixed_name / sizeof fixed_name[0])

static struct events		*events;
/*
 * An event may be LIMIT_DEPTH deep, and event.c gives json-c one level
 * more than that; json_tokener_parse() would stop at 32.  Reads raw and
 * the jsonb columns, which are parts of an event.
 */
static struct json_tokener	*raw_tok;
static struct buf		 value;	/* one element, reused */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* What server_main() does before the first request. */
	conv_set_local_offset(FUZZ_PROVIDER.local_offset_min);
	events = events_new();
	raw_tok = json_tokener_new_ex(LIMIT_DEPTH + 1);
	if (events == NULL || raw_tok == NULL)
		abort();
	/* The order of the arrays this target reads is event.h's. */
	if (events_nparams(&FUZZ_PROVIDER) !=
	    NFIXED + FUZZ_PROVIDER.ncolumns + 2)
		fuzz_fail("%zu arrays for %zu columns",
		    events_nparams(&FUZZ_PROVIDER), FUZZ_PROVIDER.ncolumns);
	return 0;
}

/* Fails unless s is JSON that jsonb takes: an object, or an array too. */
static void
check_json(const char *what, const char *s, size_t len, int object_only)
{
	struct json_object *o;

	check_jsonb_text(what, s, len);
	json_tokener_reset(raw_tok);
	o = json_tokener_parse_ex(raw_tok, s, (int)len);
	if (o == NULL)
		fuzz_fail("%s is not JSON: %s", what, json_tokener_error_desc(
		    json_tokener_get_error(raw_tok)));
	if (json_tokener_get_parse_end(raw_tok) != len)
		fuzz_fail("%s: JSON ends at byte %zu of %zu", what,
		    json_tokener_get_parse_end(raw_tok), len);
	if (!json_object_is_type(o, json_type_object) &&
	    (object_only || !json_object_is_type(o, json_type_array)))
		fuzz_fail("%s is not a JSON %s", what,
		    object_only ? "object" : "object or array");
	json_object_put(o);
}

/* Fails unless s is an integer's decimal text within [min, max]. */
static void
check_integer(const char *what, const char *s, long long min,
    long long max)
{
	const char *d = s + (*s == '-');
	char *end;
	long long n;

	/* As %PRId64 writes it: no sign but '-', no leading zero. */
	if (*d < '0' || *d > '9' || (*d == '0' && d[1] != '\0'))
		fuzz_fail("%s is not an integer: \"%s\"", what, s);
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno == ERANGE || *end != '\0' || n < min || n > max)
		fuzz_fail("%s is not an integer in range: \"%s\"", what, s);
}

/* The value of the n decimal digits at s, which check_time() checked. */
static int
digits(const char *s, int n)
{
	int v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

/*
 * Fails unless s is "YYYY-MM-DDTHH:MM:SSZ", a real UTC time (tstamp.h),
 * with a fraction before the Z or none: one to six digits (more would be
 * PostgreSQL's to round, where tstamp.h rounds them), the last not 0.
 */
static void
check_time(const char *what, const char *s, size_t len)
{
	static const char shape[] = "0000-00-00T00:00:00";
	static const int mdays[] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	size_t i, n = sizeof shape - 1;
	int y, mon, d;

	if (len < n + 1)
		fuzz_fail("%s is not a time: \"%s\"", what, s);
	for (i = 0; i < n; i++)
		if (shape[i] == '0' ? s[i] < '0' || s[i] > '9' :
		    s[i] != shape[i])
			fuzz_fail("%s is not a time: \"%s\"", what, s);
	if (s[len - 1] != 'Z' || (len != n + 1 && (s[n] != '.' ||
	    len < n + 3 || len > n + 8 || s[len - 2] == '0')))
		fuzz_fail("%s is not a time: \"%s\"", what, s);
	for (i = n + 1; i + 1 < len; i++)
		if (s[i] < '0' || s[i] > '9')
			fuzz_fail("%s has a bad fraction: \"%s\"", what, s);
	y = digits(s, 4);
	mon = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 1 || mon < 1 || mon > 12 || d < 1 || d > mdays[mon - 1] ||
	    (mon == 2 && d == 29 && (y % 4 != 0 ||
	    (y % 100 == 0 && y % 400 != 0))) || digits(s + 11, 2) > 23 ||
	    digits(s + 14, 2) > 59 || digits(s + 17, 2) > 59)
		fuzz_fail("%s is not a real time: \"%s\"", what, s);
}

/*
 * Fails unless s (NUL-terminated, len bytes) is text the input function
 * of type reads as it is: one value that does not take the database's
 * statement down with the whole batch.  A type without a check fails,
 * so that a new converter brings its check here.
 */
static void
check_value(const char *what, const char *type, const char *s, size_t len)
{
	unsigned char addr[16];
	char *end;
	double d;

	check_utf8(what, s, len);
	if (strcmp(type, "text") == 0)
		return;
	if (strcmp(type, "jsonb") == 0)
		check_json(what, s, len, 0);
	else if (strcmp(type, "boolean") == 0) {
		if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
			fuzz_fail("%s is not a boolean: \"%s\"", what, s);
	} else if (strcmp(type, "bigint") == 0)
		check_integer(what, s, INT64_MIN, INT64_MAX);
	else if (strcmp(type, "smallint") == 0)
		check_integer(what, s, INT16_MIN, INT16_MAX);
	else if (strcmp(type, "timestamptz") == 0)
		check_time(what, s, len);
	else if (strcmp(type, "inet") == 0) {
		if (inet_pton(AF_INET, s, addr) != 1 &&
		    inet_pton(AF_INET6, s, addr) != 1)
			fuzz_fail("%s is not an address: \"%s\"", what, s);
	} else if (strcmp(type, "double precision") == 0) {
		/* ERANGE: a number that overflowed or underflowed on the way. */
		errno = 0;
		d = strtod(s, &end);
		if (end == s || *end != '\0' || !isfinite(d) || errno == ERANGE)
			fuzz_fail("%s is not a finite number in range: \"%s\"",
			    what, s);
	} else
		fuzz_fail("%s: no check for type %s", what, type);
}

/* Whether needle (n bytes) occurs in hay (len bytes). */
static int
contains(const char *hay, size_t len, const char *needle, size_t n)
{
	size_t i;

	for (i = 0; n <= len && i <= len - n; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

/*
 * Fails unless s (len bytes) is bytea's hex text of sent[0..sentlen):
 * "\x" then two lower-case hex digits a byte (event.c writes them so).
 */
static void
check_original(const char *what, const char *s, size_t len,
    const uint8_t *sent, size_t sentlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (len != 2 + 2 * sentlen || s[0] != '\\' || s[1] != 'x')
		fuzz_fail("%s is not the hex of %zu bytes (%zu bytes)", what,
		    sentlen, len);
	for (i = 0; i < sentlen; i++)
		if (s[2 + 2 * i] != hex[sent[i] >> 4] ||
		    s[3 + 2 * i] != hex[sent[i] & 0xf])
			fuzz_fail("%s differs from the event as sent at its "
			    "byte %zu", what, i);
}

/*
 * Whether the scan changed the span's content in the body: a byte other
 * than a comma blanked (a trailing comma is syntax, not content).
 */
static int
content_changed(const uint8_t *sent, const char *body,
    const struct payload_span *sp)
{
	size_t k;

	for (k = sp->off; k < sp->off + sp->len; k++)
		if (sent[k] != (uint8_t)body[k] &&
		    !(sent[k] == ',' && body[k] == ' '))
			return 1;
	return 0;
}

/*
 * Array k of the records, s[0..len) without its NUL, one per event;
 * sent is the body before the scan.
 */
static void
check_array(size_t k, const char *s, size_t len, const char *body,
    const uint8_t *sent, const struct payload *pl)
{
	const struct provider *p = &FUZZ_PROVIDER;
	const struct payload_span *sp;
	const char *name, *type;
	char what[128];
	size_t pos = 0, i;
	int israw = k == NFIXED + p->ncolumns;
	int isorig = k == NFIXED + p->ncolumns + 1, isnull, rc;

	if (k < NFIXED) {
		name = fixed_name[k];
		type = fixed_type[k];
	} else if (israw) {
		name = "raw";
		type = "jsonb";
	} else if (isorig) {
		name = "original";
		type = "bytea";
	} else {
		name = p->columns[k - NFIXED].name;
		type = p->columns[k - NFIXED].conv->sqltype;
	}
	for (i = 0; (rc = pgarray_next(s, len, &pos, &value, &isnull)) == 1;
	    i++) {
		if (i == pl->nspans)
			fuzz_fail("\"%s\" has more elements than the %zu "
			    "events", name, pl->nspans);
		snprintf(what, sizeof what, "\"%s\" of event %zu", name, i);
		sp = &pl->spans[i];
		if (isorig && isnull != !sp->repaired)
			fuzz_fail("%s is %sNULL for an event %srepaired", what,
			    isnull ? "" : "not ", sp->repaired ? "" : "not ");
		/* And without trusting the flag: what changed in the span. */
		if (isorig && isnull != !content_changed(sent, body, sp))
			fuzz_fail("%s is %sNULL, but the event's content %s",
			    what, isnull ? "" : "not ", isnull ?
			    "was repaired" : "was not");
		if (isnull) {
			if (k == 1 || israw)
				fuzz_fail("%s is NULL", what);
			continue;
		}
		if (memchr(value.data, '\0', value.len) != NULL)
			fuzz_fail("%s holds a NUL byte", what);
		if (k == 1 && value.len == 0)
			fuzz_fail("%s is empty", what);
		if (isorig)
			check_original(what, value.data, value.len,
			    sent + sp->off, sp->len);
		else if (israw) {
			/* The event as sent, after the scanner's repairs. */
			if (value.len != sp->len ||
			    memcmp(value.data, body + sp->off, sp->len) != 0)
				fuzz_fail("%s differs from the event", what);
			check_json(what, value.data, value.len, 1);
		} else {
			check_value(what, type, value.data, value.len);
			/*
			 * json-c would print integers past int64 saturated:
			 * a jsonb column is the value's text as sent.
			 */
			sp = &pl->spans[i];
			if (strcmp(type, "jsonb") == 0 && !contains(body +
			    sp->off, sp->len, value.data, value.len))
				fuzz_fail("%s is not a part of the event as "
				    "sent", what);
		}
	}
	if (rc == -1)
		fuzz_fail("\"%s\" is not an array literal (after %zu "
		    "elements)", name, i);
	if (i != pl->nspans)
		fuzz_fail("\"%s\" has %zu elements for %zu events", name, i,
		    pl->nspans);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct payload pl = PAYLOAD_INIT;
	struct buf out = BUF_INIT;
	struct buf rows = BUF_INIT;
	const char **arrays = NULL, *part, *end, *nul;
	char err[256], *body;
	size_t k, i, tabs = 0, lines = 0, n = events_nparams(&FUZZ_PROVIDER);
	size_t *lens = NULL;

	/* Exactly size bytes, so ASan sees a read past the body's end. */
	if ((body = malloc(size)) == NULL)
		abort();
	memcpy(body, data, size);
	if (payload_scan(&pl, body, size) == -1)
		goto done;		/* fuzz_payload checks refusals */

	if (events_build(events, &out, &FUZZ_PROVIDER, body,
	    (const char *)data, &pl, err, sizeof err) == -1)
		fuzz_fail("events_build refused what the scanner took: %s",
		    err);
	/* Cut as store_split() cuts them: each array up to its NUL. */
	part = out.data;
	end = out.data + out.len;
	if ((arrays = malloc(n * sizeof *arrays)) == NULL ||
	    (lens = malloc(n * sizeof *lens)) == NULL)
		abort();
	for (k = 0; k < n; k++) {
		if ((nul = memchr(part, '\0', (size_t)(end - part))) == NULL)
			fuzz_fail("records end inside array %zu of %zu", k, n);
		check_array(k, part, (size_t)(nul - part), body, data, &pl);
		arrays[k] = part;
		lens[k] = (size_t)(nul - part);
		part = nul + 1;
	}
	if (part != end)
		fuzz_fail("%zu bytes after the %zu arrays",
		    (size_t)(end - part), n);

	if (pgcopy_rows(&rows, "", arrays, lens, n, pl.nspans) == -1)
		fuzz_fail("pgcopy_rows refused the %zu arrays", n);
	for (i = 0; i < rows.len; i++) {
		tabs += rows.data[i] == '\t';
		lines += rows.data[i] == '\n';
		if (rows.data[i] == '\r' || rows.data[i] == '\0')
			fuzz_fail("a raw CR or NUL in the COPY rows");
	}
	if (lines != pl.nspans || tabs != pl.nspans * (n - 1) ||
	    (rows.len > 0 && rows.data[rows.len - 1] != '\n'))
		fuzz_fail("%zu lines and %zu tabs of COPY rows for %zu events "
		    "of %zu fields", lines, tabs, pl.nspans, n);
done:
	buf_release(&rows);
	free(arrays);
	free(lens);
	buf_release(&out);
	payload_release(&pl);
	free(body);
	return 0;
}
