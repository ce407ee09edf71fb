/*
 * fuzz_provider.c - libFuzzer target for one provider's mapping: a body
 * through payload_scan() and events_build(), as a worker handles a
 * request, without the database.  Built once per provider table with
 * -DFUZZ_PROVIDER=provider_<name> (see fuzz.mk).
 *
 * When the scan accepts a body, events_build() must accept it too (the
 * scanner promises json-c reads every span), and what it writes must be
 * what store.c hands to json_to_recordset(): one JSON array, parsed
 * to its last byte, holding one record per event, each with the fixed
 * keys, only columns of the table (none null: those are left out) and
 * the raw event as sent, in text jsonb takes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "check.h"
#include "event.h"
#include "limits.h"
#include "payload.h"
#include "providers.h"

#ifndef FUZZ_PROVIDER
#error "build with -DFUZZ_PROVIDER=provider_<name>"
#endif

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct events		*events;
/*
 * Records nest the raw event two levels down (array, record); the
 * event itself may be LIMIT_DEPTH deep, and event.c gives json-c one
 * level more than that.  json_tokener_parse() would stop at 32.
 */
static struct json_tokener	*out_tok;
static struct json_tokener	*raw_tok;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* What server_main() does before the first request. */
	event_set_local_offset(FUZZ_PROVIDER.local_offset_min);
	events = events_new();
	out_tok = json_tokener_new_ex(LIMIT_DEPTH + 3);
	raw_tok = json_tokener_new_ex(LIMIT_DEPTH + 1);
	if (events == NULL || out_tok == NULL || raw_tok == NULL)
		abort();
	return 0;
}

static void
check_record(struct json_object *rec, size_t i, const char *body,
    const struct payload_span *sp)
{
	static const char *const fixed[] = {
		"provider_event", "event", "hard_bounce", "raw"
	};
	const struct provider *p = &FUZZ_PROVIDER;
	struct json_object *v, *ev;
	size_t k;

	if (!json_object_is_type(rec, json_type_object))
		fuzz_fail("record %zu is not an object", i);
	for (k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
		if (!json_object_object_get_ex(rec, fixed[k], NULL))
			fuzz_fail("record %zu has no \"%s\"", i, fixed[k]);
	/* Columns without a value are left out, never null. */
	json_object_object_foreach(rec, key, val) {
		for (k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
			if (strcmp(key, fixed[k]) == 0)
				break;
		if (k < sizeof fixed / sizeof fixed[0])
			continue;
		for (k = 0; k < p->ncolumns; k++)
			if (strcmp(key, p->columns[k].name) == 0)
				break;
		if (k == p->ncolumns)
			fuzz_fail("record %zu has an unknown key \"%s\"", i,
			    key);
		if (val == NULL)
			fuzz_fail("record %zu: column \"%s\" is null", i, key);
	}
	v = json_object_object_get(rec, "event");
	if (!json_object_is_type(v, json_type_string))
		fuzz_fail("record %zu: \"event\" is not a string", i);

	/* raw is the event as sent (after the scanner's repairs). */
	json_tokener_reset(raw_tok);
	ev = json_tokener_parse_ex(raw_tok, body + sp->off, (int)sp->len);
	if (!json_object_equal(ev, json_object_object_get(rec, "raw")))
		fuzz_fail("record %zu: \"raw\" differs from the event", i);
	json_object_put(ev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct payload pl = PAYLOAD_INIT;
	struct buf out = BUF_INIT;
	struct json_object *all = NULL;
	char err[256], *body;
	size_t i;

	/* Exactly size bytes, so ASan sees a read past the body's end. */
	if ((body = malloc(size)) == NULL)
		abort();
	memcpy(body, data, size);
	if (payload_scan(&pl, body, size) == -1)
		goto done;		/* fuzz_payload checks refusals */

	if (events_build(events, &out, &FUZZ_PROVIDER, body, &pl, err,
	    sizeof err) == -1)
		fuzz_fail("events_build refused what the scanner took: %s",
		    err);
	check_jsonb_text("records", out.data, out.len);
	json_tokener_reset(out_tok);
	all = json_tokener_parse_ex(out_tok, out.data, (int)out.len);
	if (all == NULL)
		fuzz_fail("records are not JSON: %s", json_tokener_error_desc(
		    json_tokener_get_error(out_tok)));
	if (json_tokener_get_parse_end(out_tok) != out.len)
		fuzz_fail("records end at byte %zu of %zu",
		    json_tokener_get_parse_end(out_tok), out.len);
	if (!json_object_is_type(all, json_type_array))
		fuzz_fail("records are not an array");
	if (json_object_array_length(all) != pl.nspans)
		fuzz_fail("%zu records for %zu events",
		    json_object_array_length(all), pl.nspans);
	for (i = 0; i < pl.nspans; i++)
		check_record(json_object_array_get_idx(all, i), i, body,
		    &pl.spans[i]);
done:
	json_object_put(all);
	buf_release(&out);
	payload_release(&pl);
	free(body);
	return 0;
}
