/*
 * conv.h - converters: one field of an event to the text of its
 * column's SQL value, exactly as sent or not at all (SPEC §3: a typed
 * column holds the value sent or NULL, never another).
 *
 * A provider's column table (event.h) names a converter per column;
 * events_build() calls it for each event and writes NULL where it
 * declines.
 */
#ifndef ESPHOOKS_CONV_H
#define ESPHOOKS_CONV_H

#include <stddef.h>

struct buf;
struct json_object;

/*
 * One field of one event, as a converter sees it; everything borrowed
 * from the event being added.  json-c's value v is exact for strings,
 * booleans, doubles (it keeps their literal text) and integers inside
 * int64, but it saturates integers beyond (to INT64_MIN or UINT64_MAX)
 * and prints objects and arrays again with those saturated numbers: for
 * those a converter reads the value's text as sent, found in event
 * under key with member_find() (only then: it scans the event).
 */
struct field {
	struct json_object	*v;	/* never NULL nor JSON null */
	const char		*key;	/* the top-level member v is */
	/* The event's JSON text, after payload_scan()'s repairs. */
	const char		*event;
	size_t			 eventlen;
};

/*
 * Writes the text of f's SQL value (as the column type's input function
 * reads it: 2023-11-14T22:13:20Z, 550, true, ...) to out and returns
 * 1, or returns 0 without writing anything when f cannot be converted
 * exactly (the caller then writes NULL: SPEC §3, a typed column holds
 * the value sent or NULL, never another).
 */
typedef int (*conv_fn)(struct buf *out, const struct field *f);

struct conv {
	conv_fn		 fn;
	const char	*sqltype;	/* the column's type in sql/ */
};

extern const struct conv conv_text;	/* strings; numbers, objects and
					   arrays as their JSON text sent */
extern const struct conv conv_lower;	/* addresses: trimmed, ASCII lower */
extern const struct conv conv_int64;	/* integers within int64, exactly:
					   numbers, or strings in JSON's
					   integer grammar */
extern const struct conv conv_bool;	/* true/false, "true"/"false", 1/0 */
extern const struct conv conv_unixtime;	/* unix seconds to timestamptz,
					   to the microsecond: numbers, or
					   strings that are exactly one */
extern const struct conv conv_inet;	/* IPv4/IPv6 text, else NULL */
extern const struct conv conv_json;	/* objects and arrays as sent, as
					   jsonb */
extern const struct conv conv_number;	/* JSON numbers, or strings that
					   are exactly one, that a double
					   holds without overflow or
					   underflow */
extern const struct conv conv_smtp;	/* SMTP reply code 100-599: 250,
					   "554", "550 5.1.1 unknown" */
extern const struct conv conv_localtime; /* "YYYY-MM-DD HH:MM:SS" at the
					   local offset, an ISO time with a
					   zone, a JavaScript date, or unix
					   seconds */

/* Sets the offset conv_localtime applies, for the whole process. */
void	conv_set_local_offset(int minutes);
/*
 * v as a boolean in one of the forms providers use (true/false,
 * "true"/"false", 1/0, "1"/"0"): 1, 0, or -1 for anything else.
 */
int	conv_boolean(struct json_object *v);

#endif
