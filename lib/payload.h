/*
 * payload.h - the request body as a list of events.
 *
 * payload_scan() checks that the body is one JSON object or an array of
 * objects (RFC 8259, plus trailing commas, which Aldeamo's own samples
 * have), within the limits of limits.h, and records where each event
 * starts and ends.  It repairs in place what PostgreSQL's jsonb cannot
 * hold, always without changing the body's length:
 *   - a trailing comma becomes a space;
 *   - "\u0000" and unpaired surrogate escapes become "\ufffd";
 *   - each byte of invalid UTF-8 inside a string becomes '?'.
 * After a successful scan every event span is valid JSON that json-c and
 * PostgreSQL both accept.  Nothing here allocates per byte: one array of
 * spans, reused from request to request.
 *
 * The last two repairs change what a string says, so events that differ
 * in their bytes can come out the same ("q\xff" and "q\xfe" both read
 * "q?"), while a blanked trailing comma is syntax, like white space, and
 * changes nothing the event says.  So each span records whether one of
 * its strings was repaired: the caller keeps that event's bytes as sent
 * (the body before the scan, at the same offsets) beside the repaired
 * text, and the two together tell such events apart (event.h, sql/010).
 */
#ifndef ESPHOOKS_PAYLOAD_H
#define ESPHOOKS_PAYLOAD_H

#include <stddef.h>

enum payload_err {
	PAYLOAD_OK = 0,
	PAYLOAD_EMPTY,		/* nothing but white space */
	PAYLOAD_SYNTAX,		/* not JSON */
	PAYLOAD_NUMBER,		/* NaN, Infinity, or a number out of range */
	PAYLOAD_DEPTH,		/* nested deeper than LIMIT_DEPTH */
	PAYLOAD_FIELD,		/* a string longer than LIMIT_FIELD */
	PAYLOAD_VALUES,		/* an event with more than LIMIT_EVENT_VALUES */
	PAYLOAD_TRAILING,	/* bytes after the JSON value */
	PAYLOAD_NOT_EVENTS,	/* not an object nor an array of objects */
	PAYLOAD_TOO_MANY,	/* more than LIMIT_EVENTS events */
};

/* Where one event's JSON text lies in the body. */
struct payload_span {
	size_t	off;
	size_t	len;
	/*
	 * 1 when the scan changed the content of a string of this event
	 * (invalid UTF-8, "\u0000", an unpaired surrogate), so that the
	 * span no longer holds the bytes sent; 0 when it holds them, or
	 * differs from them only by blanked trailing commas.
	 */
	int	repaired;
};

struct payload {
	struct payload_span	*spans;		/* owned, reused */
	size_t			 nspans;
	size_t			 cap;
	int			 is_array;	/* the body was a batch */
	enum payload_err	 err;
	size_t			 err_offset;	/* byte offset of the fault */
	char			 err_text[160];	/* what is wrong, where */
};

#define PAYLOAD_INIT { NULL, 0, 0, 0, PAYLOAD_OK, 0, { 0 } }

/*
 * Scans body (len bytes, not necessarily NUL-terminated), repairing it in
 * place as above.  Returns 0, or -1 with err, err_offset and err_text
 * set.  The spans point into body, which must outlive their use.
 */
int		 payload_scan(struct payload *, char *body, size_t len);
/* The HTTP status for an error: 413 for too many events, else 400. */
int		 payload_http_status(enum payload_err);
/* Frees the span array. */
void		 payload_release(struct payload *);

#endif
