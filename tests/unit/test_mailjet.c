/*
 * test_mailjet.c - Mailjet events to the insert's arrays, without a
 * database: each event type's normalized name and the typed columns,
 * exactly, read back from the array literals with pgarray_next(), as
 * PostgreSQL will read them.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "payload.h"
#include "pgarray.h"
#include "providers.h"
#include "tap.h"

/* The arrays of the last map(), NUL-terminated as events_build() wrote. */
static struct buf arrays;
static size_t record;		/* the event col() reads */
static struct buf value;	/* col()'s result */

/*
 * Maps body (one event or a batch) and keeps event number i.  Fails
 * unless the records are exactly events_nparams() NUL-terminated
 * arrays, the last one ending the records, as store.c splits them.
 */
static int
map(const char *body, size_t i)
{
	static struct events *ev;
	struct payload pl = PAYLOAD_INIT;
	char err[128], *copy = strdup(body);
	const char *p, *end, *nul;
	size_t k, n = events_nparams(&provider_mailjet);
	int rc = -1;

	if (ev == NULL)
		ev = events_new();
	buf_reset(&arrays);
	if (payload_scan(&pl, copy, strlen(copy)) == 0 &&
	    events_build(ev, &arrays, &provider_mailjet, copy, body, &pl,
	    err, sizeof err) == 0 && i < pl.nspans) {
		p = arrays.data;
		end = arrays.data + arrays.len;
		for (k = 0; k < n; k++) {
			if ((nul = memchr(p, '\0', (size_t)(end - p))) == NULL)
				break;
			p = nul + 1;
		}
		if (k == n && p == end) {
			record = i;
			rc = 0;
		}
	}
	if (rc == -1)
		buf_reset(&arrays);
	payload_release(&pl);
	free(copy);
	return rc;
}

/*
 * The array of column name, in the order of event.h: the three fixed
 * ones, the table's columns, raw, original.  NULL when there is no such
 * column or nothing was mapped.
 */
static const char *
array_of(const char *name)
{
	static const char *const fixed[] = {
		"provider_event", "event", "hard_bounce"
	};
	const struct provider *p = &provider_mailjet;
	const char *s = arrays.data;
	size_t k, nfixed = sizeof fixed / sizeof fixed[0];

	if (arrays.len == 0)
		return NULL;
	for (k = 0; k < nfixed; k++)
		if (strcmp(name, fixed[k]) == 0)
			break;
	if (k == nfixed) {
		for (k = 0; k < p->ncolumns; k++)
			if (strcmp(name, p->columns[k].name) == 0)
				break;
		if (k == p->ncolumns && strcmp(name, "original") == 0)
			k++;
		else if (k == p->ncolumns && strcmp(name, "raw") != 0)
			return NULL;
		k += nfixed;
	}
	/* map() checked that the NUL-terminated arrays are all there. */
	while (k-- > 0)
		s += strlen(s) + 1;
	return s;
}

/*
 * A column of the current event as text; NULL for SQL NULL.  What
 * cannot be read comes back as a text in parentheses that no expected
 * value equals, so the check fails and shows why.
 */
static const char *
col(const char *name)
{
	const char *s = array_of(name);
	size_t pos = 0, i;
	int isnull, rc;

	if (s == NULL)
		return "(no such column)";
	for (i = 0; (rc = pgarray_next(s, strlen(s), &pos, &value,
	    &isnull)) == 1; i++)
		if (i == record)
			return isnull ? NULL : value.data;
	return rc == -1 ? "(not an array literal)" : "(no such event)";
}

/* The elements of column name's array, or -1 when it is unreadable. */
static int
col_count(const char *name)
{
	const char *s = array_of(name);
	size_t pos = 0;
	int n = 0, isnull, rc;

	if (s == NULL)
		return -1;
	while ((rc = pgarray_next(s, strlen(s), &pos, &value, &isnull)) == 1)
		n++;
	return rc == 0 ? n : -1;
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
	static const char batch[] =
	    "[{\"event\":\"open\"} , {\"event\":\"click\",\"x\":[1,2,]}]";
	const struct provider *p = &provider_mailjet;
	char body[128];
	size_t i;
	int all;

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
	/*
	 * Issue 19: the fraction is kept, not floored to :09 as it was;
	 * timestamptz holds microseconds, so :09 was another instant.
	 */
	check("{\"time\":1433333949.9}", "occurred_at",
	    "2015-06-03T12:19:09.9Z");
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

	/* Quotes and backslashes survive the literal's escaping. */
	check("{\"agent\":\"Mozilla \\\"x\\\" \xf0\x9f\x98\x80\"}", "agent",
	    "Mozilla \"x\" \xf0\x9f\x98\x80");
	check("{\"agent\":\"Mozilla \\\"x\\\" \xf0\x9f\x98\x80\"}", "raw",
	    "{\"agent\":\"Mozilla \\\"x\\\" \xf0\x9f\x98\x80\"}");
	check("{\"geo\":\"C:\\\\x\\\\\"}", "geo", "C:\\x\\");
	check("{\"url\":\"https://e.x/?a=1&b=\\u00e9\"}", "url",
	    "https://e.x/?a=1&b=\xc3\xa9");
	/* An empty string is a value; JSON null and absence are NULL. */
	check("{\"Payload\":\"\"}", "payload", "");
	check("{\"Payload\":null}", "payload", NULL);
	check("{\"Payload\":\"NULL\"}", "payload", "NULL");
	check("{\"event\":\"open\"}", "payload", NULL);

	/* The raw event is the span as sent (after repairs). */
	map(batch, 1);
	tap_is(col("raw"), "{\"event\":\"click\",\"x\":[1,2 ]}",
	    "raw is the second event of the batch, its trailing comma a space");
	tap_is(col("event"), "clicked", "second event mapped");
	all = col_count("provider_event") == 2 && col_count("event") == 2 &&
	    col_count("hard_bounce") == 2 && col_count("raw") == 2 &&
	    col_count("original") == 2;
	for (i = 0; i < p->ncolumns; i++)
		all &= col_count(p->columns[i].name) == 2;
	tap_ok(all, "every array holds one element per event");
	map(batch, 0);
	tap_is(col("raw"), "{\"event\":\"open\"}", "raw of the first event");
	tap_ok(map(batch, 2) == -1, "a batch of two has no third event");

	/*
	 * original: NULL unless a repair changed what the event says; then
	 * the event's bytes as sent, as bytea hex text, so that events that
	 * read the same once repaired stay apart.
	 */
	check("{\"email\":\"q?@x.com\"}", "original", NULL);
	check("{\"a\":\"\\ufffd\"}", "original", NULL);
	check("{\"a\":1,}", "original", NULL);
	check("{\"email\":\"q\xff@x.com\"}", "original",
	    "\\x7b22656d61696c223a2271ff40782e636f6d227d");
	check("{\"email\":\"q\xff@x.com\"}", "raw",
	    "{\"email\":\"q?@x.com\"}");
	check("{\"a\":\"\\ud800\",}", "original",
	    "\\x7b2261223a225c7564383030222c7d");
	check("{\"a\":\"\\u0000\"}", "original",
	    "\\x7b2261223a225c7530303030227d");
	map("[{\"a\":1},\n{\"a\":\"\xfe\"} ,{\"a\":\"?\"}]", 1);
	tap_is(col("original"), "\\x7b2261223a22fe227d",
	    "original of a batch's repaired event is its own span as sent");
	map("[{\"a\":1},\n{\"a\":\"\xfe\"} ,{\"a\":\"?\"}]", 2);
	tap_ok(col("original") == NULL, "the events around it keep NULL");
	buf_release(&arrays);
	buf_release(&value);
	return tap_done();
}
