/*
 * limits.h - every limit on untrusted input, in one place.
 *
 * Each value can be overridden at build time (-DLIMIT_BODY=...), as
 * sqlite's sqliteLimit.h allows; the tests read them from here.
 */
#ifndef ESPHOOKS_LIMITS_H
#define ESPHOOKS_LIMITS_H

/*
 * Largest request body accepted, in bytes.  It must equal nginx's
 * client_max_body_size (16m) so that nginx and the program agree on
 * where 413 starts.  10,000 SendPulse events take about 3 MiB.
 */
#ifndef LIMIT_BODY
#define LIMIT_BODY (16UL * 1024 * 1024)
#endif

/*
 * Deepest nesting of arrays and objects, the outer batch array counting
 * as 1.  Real events are 3 deep at most (batch, event, custom_headers);
 * the bound keeps the scanner's recursion and PostgreSQL's jsonb parser
 * far from their stack limits.
 */
#ifndef LIMIT_DEPTH
#define LIMIT_DEPTH 64
#endif

/*
 * Most events in one POST.  SendPulse sends up to 1,000 at a time; the
 * SPEC asks for at least 10,000 so that a provider that bunches a
 * backlog after an outage is still taken in one transaction.
 */
#ifndef LIMIT_EVENTS
#define LIMIT_EVENTS 10000
#endif

/*
 * Longest string (an object key or a value), in bytes as sent, escapes
 * included.  Provider fields are short (a URL, a user agent, an SMTP
 * reply); 64 KiB leaves room for long tracked URLs.
 */
#ifndef LIMIT_FIELD
#define LIMIT_FIELD 65536
#endif

/*
 * Longest number literal, in bytes, and the largest decimal exponent.
 * PostgreSQL's numeric (which jsonb uses) refuses numbers far past
 * 1e131072; a batch with one of those would be refused whole by the
 * database, so the scanner refuses it first with a clear 400.
 */
#ifndef LIMIT_NUMBER_LEN
#define LIMIT_NUMBER_LEN 512
#endif
#ifndef LIMIT_NUMBER_EXP
#define LIMIT_NUMBER_EXP 1000
#endif

/*
 * Most JSON values (objects, arrays, strings, numbers, literals) in one
 * event.  Each event is parsed by json-c on its own, so this bounds the
 * memory a worker needs per event; real events hold about 20 values.
 */
#ifndef LIMIT_EVENT_VALUES
#define LIMIT_EVENT_VALUES 10000
#endif

/*
 * Largest spool record payload (spool.h): the records text of one POST
 * and its facts.  Records hold each event's raw JSON and its typed
 * columns, array-escaped (a '"' or '\' takes two bytes), and for an
 * event that had to be repaired its bytes as sent in hex (two bytes
 * each), so they run to two to five times the body; this leaves room
 * for the largest body and refuses (503) anything odder.
 */
#ifndef LIMIT_SPOOL_RECORD
#define LIMIT_SPOOL_RECORD (16 * LIMIT_BODY)
#endif

#endif
