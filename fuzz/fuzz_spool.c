/*
 * fuzz_spool.c - libFuzzer target for the spool's reader: the frames
 * (spool_frame) and the payload inside one (spool_parse), which replay
 * reads back from disk after crashes, bad sectors or an operator's
 * mistake.
 *
 * The input is read twice: as a spool file, walked frame by frame as
 * replay.c does, and as one frame's payload on its own (a checksum
 * stands between random bytes and spool_parse() otherwise).  Promises
 * of lib/spool.h checked: the walk always advances and ends exactly at
 * the end; a good frame's payload lies inside it; a parsed payload has
 * NUL-terminated strings inside the caller's buffer, records inside
 * the payload that end it and look like what events_build() writes
 * (an array literal first, a NUL byte last), and 1 to LIMIT_EVENTS
 * events.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "limits.h"
#include "spool.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_string(const char *what, const char *s, const char *meta, size_t len)
{
	if (s == NULL)
		return;
	if (s < meta || s >= meta + len || memchr(s, '\0',
	    (size_t)(meta + len - s)) == NULL)
		fuzz_fail("%s is not a string inside the buffer", what);
}

static void
parse(const char *payload, size_t len)
{
	struct spool_record rec;
	char *meta = malloc(len + 1);

	if (meta == NULL)
		return;
	if (spool_parse(payload, len, &rec, meta, len + 1) == 0) {
		if (rec.provider == NULL || rec.request_id == NULL ||
		    rec.received_at == NULL)
			fuzz_fail("a parsed payload lacks a field");
		check_string("provider", rec.provider, meta, len + 1);
		check_string("request_id", rec.request_id, meta, len + 1);
		check_string("remote_user", rec.remote_user, meta, len + 1);
		check_string("received_at", rec.received_at, meta, len + 1);
		if (rec.records < payload || rec.records_len == 0 ||
		    rec.records + rec.records_len != payload + len)
			fuzz_fail("records outside the payload");
		/* store_split() needs the NUL that ends the last array. */
		if (rec.records[0] != '{' ||
		    rec.records[rec.records_len - 1] != '\0')
			fuzz_fail("records are not NUL-terminated arrays");
		if (rec.nevents < 1 || rec.nevents > LIMIT_EVENTS)
			fuzz_fail("%zu events", rec.nevents);
	}
	free(meta);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	const char *payload;
	size_t pos = 0, used, plen;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	while (pos < size) {
		switch (spool_frame(copy + pos, size - pos, &used, &payload,
		    &plen)) {
		case SPOOL_FRAME_END:
			fuzz_fail("end of frames at %zu of %zu", pos, size);
		case SPOOL_FRAME_OK:
			if (payload < copy + pos || plen >= used ||
			    payload + plen > copy + pos + used)
				fuzz_fail("payload outside its frame");
			parse(payload, plen);
			break;
		case SPOOL_FRAME_DAMAGED:
			break;
		}
		if (used == 0 || used > size - pos)
			fuzz_fail("advanced %zu at %zu of %zu", used, pos, size);
		pos += used;
	}
	if (spool_frame(copy + pos, 0, &used, &payload, &plen) !=
	    SPOOL_FRAME_END)
		fuzz_fail("nothing left is not the end");
	parse(copy, size);
	free(copy);
	return 0;
}
