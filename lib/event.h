/*
 * event.h - one provider event to one row of the provider's table.
 *
 * A provider program is a table of columns: for each column of its SQL
 * table, the event fields to read (alternative spellings in order) and
 * the converter that turns the field into a typed value, or NULL when
 * it is absent or unusable.  The raw event is always stored as well, so
 * a NULL column never loses information.
 *
 * Rows travel to PostgreSQL by column: one array literal (pgarray.h) per
 * parameter of the insert, which unnest() zips back into rows on the
 * database side (see store.c; for a large batch store.c turns them into
 * COPY rows instead, pgcopy.h).  The parameters, in order:
 *   provider_event  text[]     the event's own name, as sent
 *   event           text[]     the normalized name
 *   hard_bounce     boolean[]
 *   <column>        <type>[]   one per column of the provider's table
 *   raw             jsonb[]    each event's JSON text as sent (after
 *                              payload.h's repairs)
 *   original        bytea[]    NULL for an event that needed no repair;
 *                              for one that did, its bytes as sent,
 *                              before the repairs, as bytea's hex text
 *                              ("\x7b22..."), which keeps the records
 *                              valid UTF-8 (spool.h counts on it)
 * Each array is a typed literal the server parses in one pass, which
 * costs it about half of what json_to_recordset() took for the same
 * batch (doc/design.md, Choices, and why).
 */
#ifndef ESPHOOKS_EVENT_H
#define ESPHOOKS_EVENT_H

#include <stddef.h>

#include "conv.h"

struct buf;
struct json_object;
struct payload;
struct provider;

#define COLUMN_KEYS_MAX 4

struct column {
	const char		*name;	/* column of the provider's table */
	const struct conv	*conv;
	const char		*keys[COLUMN_KEYS_MAX];	/* NULL-terminated */
};

/* What an event means across providers (SPEC §5). */
struct verdict {
	const char	*event;		/* normalized: "opened", ... */
	int		 hard_bounce;	/* -1 for NULL, 0 or 1 */
};

/* A provider's event name and the normalized event it maps to. */
struct event_name {
	const char	*provider_event;
	const char	*event;
};

struct provider {
	const char		*name;		/* table name, URL, log prefix */
	const struct column	*columns;
	size_t			 ncolumns;
	/*
	 * Sets the verdict for one event; provider_event is the event's
	 * "event" field as text, or NULL when it has none.
	 */
	void			(*classify)(struct json_object *ev,
				    const char *provider_event,
				    struct verdict *);
	/*
	 * Minutes east of UTC of timestamps written without a zone
	 * (Aldeamo's GMT-5); --utc-offset overrides it.
	 */
	int			 local_offset_min;
};

/* The normalized event for name in a table ending with { NULL, NULL }. */
const char		*event_lookup(const struct event_name *,
			    const char *provider_event);
/* The first of keys present in ev, borrowed from ev; NULL when none. */
struct json_object	*event_field(struct json_object *ev,
			    const char *const *keys);
/* The string value of ev's field key, or NULL if absent/not a string. */
const char		*event_string(struct json_object *ev, const char *key);
/* ev's field key as a boolean (true, "true", 1, ...): 1, 0, or -1. */
int			 event_bool(struct json_object *ev, const char *key);
/* The SMTP code of a number (100-599) or of a string's start, or -1. */
int			 event_smtp_value(struct json_object *v);
/* Parses the leading 3-digit SMTP code of s ("550 5.1.1 ..."), or -1. */
int			 event_smtp_code(const char *s);

struct events;

/* A reusable builder; free it with events_free(). */
struct events		*events_new(void);
void			 events_free(struct events *);
/*
 * provider_event, event, hard_bounce, raw and original: the arrays of
 * any table.
 */
#define EVENTS_FIXED 5

/* How many arrays events_build() writes for p: EVENTS_FIXED + columns. */
size_t			 events_nparams(const struct provider *);
/*
 * Appends to out the events_nparams(p) array literals for every event
 * of pl (spans into body), each followed by a NUL byte; out->len counts
 * those.  original is the body as received, before payload_scan()
 * repaired it (the same length, so the spans locate each event in it
 * too); it may be NULL when no span was repaired.  Returns 0, or -1
 * when an event could not be parsed, or was repaired and original is
 * NULL, with the reason in err (size errlen).
 */
int			 events_build(struct events *, struct buf *out,
			    const struct provider *, const char *body,
			    const char *original, const struct payload *pl,
			    char *err, size_t errlen);
/*
 * Appends to out the events of records (len bytes, as events_build()
 * wrote them for p) as one JSON array, each event as it was sent: a
 * body that a POST to the same program would store as they would have
 * been.  Returns 0, or -1 when records are not p's.
 */
int			 events_json(const struct provider *, const char *records,
			    size_t len, struct buf *out);

#endif
