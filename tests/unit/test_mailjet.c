/*
 * test_mailjet.c - Mailjet events to records, without a database: each
 * event type's normalized name and the typed columns, exactly.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "event.h"
#include "payload.h"
#include "providers.h"
#include "tap.h"

static struct json_object *record;

/* Maps body (one event or a batch) and keeps record number i. */
static int
map(const char *body, size_t i)
{
	static struct events *ev;
	struct payload pl = PAYLOAD_INIT;
	struct buf out = BUF_INIT;
	char err[128], *copy = strdup(body);
	int rc = -1;

	if (ev == NULL)
		ev = events_new();
	json_object_put(record);
	record = NULL;
	if (payload_scan(&pl, copy, strlen(copy)) == 0 &&
	    events_build(ev, &out, &provider_mailjet, copy, &pl, err,
	    sizeof err) == 0) {
		struct json_object *all = json_tokener_parse(out.data);
		if (all && i < json_object_array_length(all)) {
			record = json_object_get(
			    json_object_array_get_idx(all, i));
			rc = 0;
		}
		json_object_put(all);
	}
	payload_release(&pl);
	buf_release(&out);
	free(copy);
	return rc;
}

/* A column of the current record as text; NULL for JSON null. */
static const char *
col(const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(record, name, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static void
check(const char *body, const char *column, const char *want)
{
	char name[256];

	snprintf(name, sizeof name, "%.150s: %s", body, column);
	if (map(body, 0) == -1) {
		tap_ok(0, "%s (not mapped)", name);
		return;
	}
	tap_is(col(column), want, name);
}

int
main(void)
{
	static const char *const events[][2] = {
		{ "sent", "delivered" }, { "open", "opened" },
		{ "click", "clicked" }, { "bounce", "bounced" },
		{ "spam", "complained" }, { "blocked", "blocked" },
		{ "unsub", "unsubscribed" }, { "typofix", "typofix" },
		{ "parked", "unknown" }, { "OPEN", "unknown" },
	};
	char body[128];
	size_t i;

	for (i = 0; i < sizeof events / sizeof events[0]; i++) {
		snprintf(body, sizeof body, "{\"event\":\"%s\"}", events[i][0]);
		check(body, "event", events[i][1]);
		check(body, "provider_event", events[i][0]);
	}
	check("{}", "event", "unknown");
	check("{}", "provider_event", NULL);
	check("{\"event\":7}", "provider_event", "7");

	/* MessageID above 2^53 and at 2^63-1: exact, never via a double. */
	check("{\"MessageID\":19421777396190490}", "message_id",
	    "19421777396190490");
	check("{\"MessageID\":9223372036854775807}", "message_id",
	    "9223372036854775807");
	check("{\"MessageID\":9223372036854775808}", "message_id", NULL);
	check("{\"MessageID\":\"19421777396190491\"}", "message_id",
	    "19421777396190491");
	check("{\"MessageID\":1.5}", "message_id", NULL);
	check("{\"MessageID\":\"12abc\"}", "message_id", NULL);
	check("{\"mj_contact_id\":3141592653}", "mj_contact_id",
	    "3141592653");

	check("{\"time\":1433333949}", "occurred_at", "2015-06-03T12:19:09Z");
	check("{\"time\":\"1433333949\"}", "occurred_at",
	    "2015-06-03T12:19:09Z");
	check("{\"time\":1433333949.9}", "occurred_at",
	    "2015-06-03T12:19:09Z");
	check("{\"time\":99999999999999}", "occurred_at", NULL);
	check("{\"time\":\"soon\"}", "occurred_at", NULL);
	check("{\"event\":\"open\"}", "occurred_at", NULL);

	check("{\"email\":\" John.DOE@Example.COM \"}", "recipient",
	    "john.doe@example.com");
	check("{\"email\":\"Ünï@X.COM\"}", "recipient", "Ünï@x.com");
	check("{\"event\":\"typofix\",\"original_address\":\"A@GMAIL.CON\","
	    "\"new_address\":\"a@gmail.com\"}", "recipient", "a@gmail.con");

	check("{\"ip\":\"2001:0db8::1\"}", "ip", "2001:0db8::1");
	check("{\"ip\":\"192.0.2.1\"}", "ip", "192.0.2.1");
	check("{\"ip\":\"unknown\"}", "ip", NULL);
	check("{\"ip\":\"192.0.2.1/24\"}", "ip", NULL);
	check("{\"ip\":\"fe80::1%eth0\"}", "ip", NULL);
	check("{\"ip\":3232235777}", "ip", NULL);

	check("{\"event\":\"bounce\",\"hard_bounce\":true}", "hard_bounce",
	    "true");
	check("{\"event\":\"bounce\",\"hard_bounce\":false}", "hard_bounce",
	    "false");
	check("{\"event\":\"bounce\"}", "hard_bounce", NULL);
	check("{\"event\":\"open\",\"hard_bounce\":true}", "hard_bounce",
	    NULL);
	check("{\"blocked\":\"true\"}", "blocked", "true");
	check("{\"blocked\":\"maybe\"}", "blocked", NULL);

	check("{\"agent\":\"Mozilla \\\"x\\\" \xf0\x9f\x98\x80\"}", "agent",
	    "Mozilla \"x\" \xf0\x9f\x98\x80");
	check("{\"url\":\"https://e.x/?a=1&b=\\u00e9\"}", "url",
	    "https://e.x/?a=1&b=\xc3\xa9");

	/* The raw event is the span as sent (after repairs). */
	map("[{\"event\":\"open\"} , {\"event\":\"click\",\"x\":[1,2,]}]", 1);
	tap_is(json_object_to_json_string_ext(json_object_object_get(record,
	    "raw"), JSON_C_TO_STRING_PLAIN), "{\"event\":\"click\",\"x\":[1,2]}",
	    "raw is the second event of the batch");
	tap_is(col("event"), "clicked", "second event mapped");
	json_object_put(record);
	return tap_done();
}
