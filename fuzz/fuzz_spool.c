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
 * events; a good frame is of version 2 or SPOOL_VERSION; spool_upgrade()
 * leaves version SPOOL_VERSION's records alone and gives version 2's
 * the same bytes followed by one array of as many NULLs as events.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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

/* What spool_upgrade() makes of rec's records (see above). */
static void
check_upgrade(const struct spool_record *parsed, int version)
{
	static struct buf up;
	struct spool_record rec = *parsed;
	size_t i, at = parsed->records_len;

	if (spool_upgrade(&rec, version, &up) == -1)
		fuzz_fail("version %d refused", version);
	if (version == SPOOL_VERSION) {
		if (rec.records != parsed->records ||
		    rec.records_len != parsed->records_len)
			fuzz_fail("current records changed by the upgrade");
		return;
	}
	if (rec.records != up.data || rec.records_len != at + 3 +
	    5 * rec.nevents - (rec.nevents > 0) ||
	    memcmp(rec.records, parsed->records, at) != 0 ||
	    rec.records[at] != '{' || rec.records[rec.records_len - 2] != '}' ||
	    rec.records[rec.records_len - 1] != '\0')
		fuzz_fail("version 2 records not upgraded as promised");
	for (i = 0; i < rec.nevents; i++)
		if (memcmp(rec.records + at + 1 + 5 * i, "NULL", 4) != 0)
			fuzz_fail("the original array holds other than NULLs");
	buf_trim(&up, 1 << 20);
}

static void
parse(const char *payload, size_t len, int version)
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
		/* On its own the payload has no version: try both. */
		if (version != 2)
			check_upgrade(&rec, SPOOL_VERSION);
		if (version != SPOOL_VERSION)
			check_upgrade(&rec, 2);
	}
	free(meta);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	const char *payload;
	size_t pos = 0, used, plen;
	int version = 0;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	while (pos < size) {
		switch (spool_frame(copy + pos, size - pos, &used, &payload,
		    &plen, &version)) {
		case SPOOL_FRAME_END:
			fuzz_fail("end of frames at %zu of %zu", pos, size);
		case SPOOL_FRAME_OK:
			if (payload < copy + pos || plen >= used ||
			    payload + plen > copy + pos + used)
				fuzz_fail("payload outside its frame");
			if (version != 2 && version != SPOOL_VERSION)
				fuzz_fail("a good frame of version %d", version);
			parse(payload, plen, version);
			break;
		case SPOOL_FRAME_DAMAGED:
			break;
		}
		if (used == 0 || used > size - pos)
			fuzz_fail("advanced %zu at %zu of %zu", used, pos, size);
		pos += used;
	}
	if (spool_frame(copy + pos, 0, &used, &payload, &plen, &version) !=
	    SPOOL_FRAME_END)
		fuzz_fail("nothing left is not the end");
	parse(copy, size, 0);
	free(copy);
	return 0;
}
