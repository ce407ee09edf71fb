/*
 * fuzz_payload.c - libFuzzer target for payload_scan(), the scanner every
 * request body passes first.
 *
 * Besides what ASan and UBSan catch, it checks the promises of
 * lib/payload.h on every input:
 *   - success: each span lies inside the body, starts with '{' and ends
 *     with '}', spans come in order without overlapping, a body that is
 *     not a batch has exactly one, and at most LIMIT_EVENTS in all;
 *     each span is an object json-c reads to its last byte, and text
 *     PostgreSQL's jsonb takes (check.c); the repaired body scans again
 *     to the same spans without any further change;
 *   - failure: an error code and text are set, the offset lies inside
 *     the body (or at its end), and the HTTP status is 413 for too many
 *     events, 400 for anything else;
 *   - either way the body keeps its length, and only the documented
 *     repairs changed it (',' to ' ', a byte >= 0x80 to '?', the hex
 *     digits of a "\u" escape to "fffd");
 *   - a span says it was repaired exactly when a byte of it changed
 *     other than by a comma blanked (each repair of a string's content
 *     changes its bytes: '?' is never a byte >= 0x80, "fffd" never the
 *     digits of U+0000 or a surrogate), and a second scan of the
 *     repaired body finds nothing to repair.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "check.h"
#include "limits.h"
#include "payload.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* Every byte that changed was changed by one of the documented repairs. */
static void
check_repairs(const uint8_t *in, const char *body, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char was = in[i], now = (unsigned char)body[i];

		if (was == now)
			continue;
		if ((was == ',' && now == ' ') || (was >= 0x80 && now == '?') ||
		    (is_hex(was) && (now == 'f' || now == 'd')))
			continue;
		fuzz_fail("byte %zu changed from 0x%02x to 0x%02x", i, was,
		    now);
	}
}

static void
check_failure(const struct payload *pl, size_t len)
{
	int status = payload_http_status(pl->err);

	if (pl->err == PAYLOAD_OK)
		fuzz_fail("scan failed with PAYLOAD_OK");
	if (memchr(pl->err_text, '\0', sizeof pl->err_text) == NULL ||
	    pl->err_text[0] == '\0')
		fuzz_fail("scan failed (err %d) without an error text",
		    pl->err);
	if (pl->err_offset > len)
		fuzz_fail("error offset %zu past the body (%zu bytes): %s",
		    pl->err_offset, len, pl->err_text);
	if (status != (pl->err == PAYLOAD_TOO_MANY ? 413 : 400))
		fuzz_fail("status %d for err %d", status, pl->err);
}

static void
check_span_json(struct json_tokener *tok, const char *body,
    const struct payload_span *sp, size_t i)
{
	struct json_object *ev;

	json_tokener_reset(tok);
	ev = json_tokener_parse_ex(tok, body + sp->off, (int)sp->len);
	if (ev == NULL || !json_object_is_type(ev, json_type_object))
		fuzz_fail("span %zu (byte %zu, %zu bytes) is not an object "
		    "to json-c: %s", i, sp->off, sp->len,
		    json_tokener_error_desc(json_tokener_get_error(tok)));
	if (json_tokener_get_parse_end(tok) != sp->len)
		fuzz_fail("json-c stopped at byte %zu of span %zu (%zu bytes)",
		    json_tokener_get_parse_end(tok), i, sp->len);
	json_object_put(ev);
	check_jsonb_text("span", body + sp->off, sp->len);
}

/* The span's flag against the bytes that changed in it (see above). */
static void
check_repaired_flag(const uint8_t *in, const char *body,
    const struct payload_span *sp, size_t i)
{
	size_t k;
	int changed = 0;

	for (k = sp->off; k < sp->off + sp->len && !changed; k++)
		changed = in[k] != (uint8_t)body[k] &&
		    !(in[k] == ',' && body[k] == ' ');
	if (sp->repaired != changed)
		fuzz_fail("span %zu says repaired %d, but its content %s",
		    i, sp->repaired, changed ? "changed" : "did not change");
}

static void
check_success(struct json_tokener *tok, const struct payload *pl,
    const uint8_t *in, const char *body, size_t len)
{
	const struct payload_span *sp;
	size_t i, end = 0;

	if (pl->err != PAYLOAD_OK || pl->err_text[0] != '\0')
		fuzz_fail("scan succeeded with err %d '%s'", pl->err,
		    pl->err_text);
	if (pl->nspans > LIMIT_EVENTS)
		fuzz_fail("%zu spans, more than LIMIT_EVENTS", pl->nspans);
	if (!pl->is_array && pl->nspans != 1)
		fuzz_fail("a single object gave %zu spans", pl->nspans);
	for (i = 0; i < pl->nspans; i++) {
		sp = &pl->spans[i];
		/* Written so that off + len cannot wrap around. */
		if (sp->off > len || sp->len > len - sp->off)
			fuzz_fail("span %zu (off %zu, len %zu) outside the "
			    "body (%zu bytes)", i, sp->off, sp->len, len);
		if (sp->off < end)
			fuzz_fail("span %zu starts at %zu, inside the one "
			    "before (ends at %zu)", i, sp->off, end);
		if (sp->len < 2 || body[sp->off] != '{' ||
		    body[sp->off + sp->len - 1] != '}')
			fuzz_fail("span %zu is not braced", i);
		end = sp->off + sp->len;
		check_span_json(tok, body, sp, i);
		check_repaired_flag(in, body, sp, i);
	}
}

/* The repaired body is good JSON already: a second scan changes nothing. */
static void
check_fixpoint(const struct payload *pl, const char *body, size_t len)
{
	struct payload again = PAYLOAD_INIT;
	char *copy;
	size_t i;

	if ((copy = malloc(len)) == NULL)
		abort();
	memcpy(copy, body, len);
	if (payload_scan(&again, copy, len) == -1)
		fuzz_fail("the repaired body is refused: %s", again.err_text);
	if (memcmp(copy, body, len) != 0)
		fuzz_fail("a second scan repaired the body again");
	if (again.is_array != pl->is_array || again.nspans != pl->nspans)
		fuzz_fail("a second scan found other spans");
	/* Field by field: a struct's padding is not part of its value. */
	for (i = 0; i < pl->nspans; i++) {
		if (again.spans[i].off != pl->spans[i].off ||
		    again.spans[i].len != pl->spans[i].len)
			fuzz_fail("a second scan found other spans");
		if (again.spans[i].repaired)
			fuzz_fail("a second scan repaired span %zu", i);
	}
	payload_release(&again);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One more level than the scanner allows, as in event.c. */
	static struct json_tokener *tok;
	struct payload pl = PAYLOAD_INIT;
	char *body;

	if (tok == NULL && (tok = json_tokener_new_ex(LIMIT_DEPTH + 1)) == NULL)
		abort();
	/*
	 * Exactly size bytes and no terminating NUL, as a request body is:
	 * a read one byte past the end lands in ASan's redzone.  ASan's
	 * malloc(0) returns a pointer with no usable byte, so the empty
	 * body is checked the same way.
	 */
	if ((body = malloc(size)) == NULL)
		abort();
	memcpy(body, data, size);

	if (payload_scan(&pl, body, size) == 0) {
		check_success(tok, &pl, data, body, size);
		check_fixpoint(&pl, body, size);
	} else
		check_failure(&pl, size);
	check_repairs(data, body, size);

	payload_release(&pl);
	free(body);
	return 0;
}
