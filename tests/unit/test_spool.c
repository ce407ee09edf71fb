/*
 * test_spool.c - the spool's file format without a database: records
 * written by spool_append() read back field for field (the insert's
 * arrays byte for byte, NUL bytes included), and every kind
 * of damage (a flipped byte, a torn last write, garbage, a bad header)
 * skipped without losing the good frames around it.  Frames of version
 * 2, the release before, read and brought up to version 3, alone and
 * mixed with version 3 in one file.  Also rotation, listing and the
 * replayer's lock.  Run from the top directory (tests/run does): it
 * reads tests/fixtures/spool/.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "event.h"
#include "pgarray.h"
#include "providers.h"
#include "spool.h"
#include "tap.h"

static char dir[] = "/tmp/test_spool.XXXXXX";

/*
 * Records as events_build() writes them (event.h), here for a table
 * without columns: provider_event, event, hard_bounce, raw and original,
 * each an array literal ending with a NUL byte.  The spool keeps them as
 * bytes; sizeof counts the string's own NUL, the last array's.
 */
static const char rec_open[] = "{\"open\"}\0{\"opened\"}\0{NULL}\0"
    "{\"{\\\"event\\\":\\\"open\\\"}\"}\0{NULL}";
static const char rec_escapes[] = "{NULL}\0{\"unknown\"}\0{NULL}\0"
    "{\"{\\\"s\\\":\\\"\\\\u00ff\\\\n\\\\\\\"\\\"}\"}\0{NULL}";
static const char rec_click[] = "{\"click\",\"open\"}\0"
    "{\"clicked\",\"opened\"}\0{NULL,NULL}\0"
    "{\"{\\\"event\\\":\\\"click\\\"}\",\"{\\\"event\\\":\\\"open\\\"}\"}\0"
    "{NULL,\"\\\\x7b226576656e74223a226f70656e227d\"}";
static const char rec_empty[] = "{NULL}\0{\"unknown\"}\0{NULL}\0{\"{}\"}\0"
    "{NULL}";

static void
append(struct spool *s, const char *id, const char *user,
    const char *records, size_t len, size_t nevents)
{
	struct spool_record rec;
	char err[256] = "";

	memset(&rec, 0, sizeof rec);
	rec.request_id = id;
	rec.remote_user = user;
	rec.received_at = "2026-11-23 10:00:00.000001+00";
	rec.nevents = nevents;
	rec.records = records;
	rec.records_len = len;
	tap_ok(spool_append(s, &rec, err, sizeof err) == 0, "append %s %s", id,
	    err);
}

static char *
slurp(const char *path, size_t *len)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	if (f)
		fclose(f);
	buf_addch(&b, '\0');
	b.len--;
	return buf_detach(&b, len);
}

/*
 * Walks data like the replayer and describes what it finds: "id" for a
 * good frame (its request id; "v2:id" for one of version 2), "D<bytes>"
 * for skipped damage.
 */
static void
walk(const char *data, size_t len, struct buf *out)
{
	struct spool_record rec;
	const char *payload;
	size_t used, plen, pos = 0;
	char meta[4096];
	int version;

	buf_reset(out);
	for (;;) {
		switch (spool_frame(data + pos, len - pos, &used, &payload,
		    &plen, &version)) {
		case SPOOL_FRAME_END:
			return;
		case SPOOL_FRAME_DAMAGED:
			buf_addf(out, "D%zu ", used);
			break;
		case SPOOL_FRAME_OK:
			if (plen + 1 > sizeof meta ||
			    spool_parse(payload, plen, &rec, meta, plen + 1) == -1)
				buf_adds(out, "unparsable ");
			else
				buf_addf(out, "%s%s ", version == 2 ? "v2:" :
				    version == SPOOL_VERSION ? "" : "v?:",
				    rec.request_id);
			break;
		}
		pos += used;
	}
}

/* Offset of the n-th frame's magic (0-based) in data. */
static size_t
frame_at(const char *data, size_t len, int n)
{
	size_t i;

	for (i = 0; i + SPOOL_MAGIC_LEN <= len; i++)
		if (memcmp(data + i, SPOOL_MAGIC, SPOOL_MAGIC_LEN) == 0 &&
		    n-- == 0)
			return i;
	return len;
}

static void
test_round_trip(struct spool *s, const char *path)
{
	struct spool_record rec;
	const char *payload, *next;
	size_t len, used, used2, plen;
	char *data, meta[4096];
	int version = 0;

	append(s, "r1", "alice", rec_open, sizeof rec_open, 1);
	append(s, "r2", NULL, rec_escapes, sizeof rec_escapes, 1);
	append(s, "r3", "bob\"\\", rec_click, sizeof rec_click, 2);
	data = slurp(path, &len);

	tap_ok(len > SPOOL_MAGIC_LEN &&
	    memcmp(data, "\377ESPOOL3", SPOOL_MAGIC_LEN) == 0,
	    "frames are written as version 3");
	tap_ok(spool_frame(data, len, &used, &payload, &plen, &version) ==
	    SPOOL_FRAME_OK && version == 3,
	    "the first frame is good, version 3");
	tap_ok(spool_parse(payload, plen, &rec, meta, sizeof meta) == 0,
	    "and parses");
	tap_is(rec.provider, "mailjet", "provider read back");
	tap_is(rec.request_id, "r1", "request id read back");
	tap_is(rec.remote_user, "alice", "remote user read back");
	tap_is(rec.received_at, "2026-11-23 10:00:00.000001+00",
	    "received_at read back");
	tap_ok(rec.nevents == 1, "event count read back");
	tap_ok(rec.records_len == sizeof rec_open &&
	    memcmp(rec.records, rec_open, sizeof rec_open) == 0,
	    "records read back byte for byte, NUL bytes included");

	next = data + used;
	tap_ok(spool_frame(next, len - used, &used2, &payload, &plen,
	    &version) == SPOOL_FRAME_OK && spool_parse(payload, plen, &rec, meta,
	    sizeof meta) == 0 && rec.remote_user == NULL,
	    "a NULL remote user reads back as NULL");
	tap_ok(rec.records_len == sizeof rec_escapes &&
	    memcmp(rec.records, rec_escapes, sizeof rec_escapes) == 0,
	    "escaped quotes and backslashes read back byte for byte");

	next += used2;
	tap_ok(spool_frame(next, len - used - used2, &used, &payload, &plen,
	    &version) == SPOOL_FRAME_OK && spool_parse(payload, plen, &rec, meta,
	    sizeof meta) == 0 && rec.nevents == 2 &&
	    rec.records_len == sizeof rec_click &&
	    memcmp(rec.records, rec_click, sizeof rec_click) == 0,
	    "two events' arrays read back byte for byte");
	free(data);
}

static void
test_damage(const char *path)
{
	struct buf out = BUF_INIT;
	size_t len, at;
	char *data = slurp(path, &len), *copy;

	walk(data, len, &out);
	tap_is(out.data, "r1 r2 r3 ", "three good frames");

	copy = xmalloc(len + 1);
	memcpy(copy, data, len);
	at = frame_at(copy, len, 1);
	copy[at + SPOOL_HEADER_LEN + 3] ^= 0x20;
	walk(copy, len, &out);
	tap_ok(strncmp(out.data, "r1 D", 4) == 0 &&
	    strstr(out.data, " r3 ") != NULL,
	    "a flipped payload byte loses that frame only (%s)", out.data);

	memcpy(copy, data, len);
	copy[frame_at(copy, len, 2) + 9] = 'x';
	walk(copy, len, &out);
	tap_ok(strncmp(out.data, "r1 r2 D", 7) == 0,
	    "a bad length in a header is damage (%s)", out.data);

	memcpy(copy, data, len);
	at = frame_at(copy, len, 2);
	walk(copy, at + 20, &out);
	tap_is(out.data, "r1 r2 D20 ", "a torn last write is skipped");
	walk(copy, len - 1, &out);
	tap_ok(strncmp(out.data, "r1 r2 D", 7) == 0,
	    "a frame without its final newline is damage");

	walk("garbage\n", 8, &out);
	tap_is(out.data, "D8 ", "garbage alone is all damage");
	free(copy);
	copy = xmalloc(len + 5);
	memcpy(copy, "junk", 4);
	memcpy(copy + 4, data, len);
	walk(copy, len + 4, &out);
	tap_is(out.data, "D4 r1 r2 r3 ", "garbage before good frames");

	walk(data, 0, &out);
	tap_ok(out.len == 0, "an empty file has nothing");
	free(copy);
	free(data);
	buf_release(&out);
}

/* A string with its length, for payloads that hold NUL bytes. */
struct text {
	const char	*s;
	size_t		 len;
};

#define TEXT(lit)	{ lit, sizeof lit - 1 }
/* One event's arrays, each with its NUL, as a payload ends. */
#define RECORDS		"{NULL}\0{\"unknown\"}\0{NULL}\0{\"{}\"}\0{NULL}\0"
#define FACTS(provider, events) "{\"provider\":" provider \
	",\"request_id\":\"r\",\"remote_user\":null," \
	"\"received_at\":\"t\",\"events\":" events "}"

static void
test_parse_refuses(void)
{
	struct spool_record rec;
	char meta[256];
	/* Each differs from good in one way. */
	static const struct text good = TEXT(FACTS("\"m\"", "1") "\n" RECORDS);
	static const struct text bad[] = {
		TEXT("no newline"),
		TEXT("{\"provider\":\"mailjet\"}\n" RECORDS),
		TEXT("[1]\n" RECORDS),
		TEXT(FACTS("\"m\"", "0") "\n" RECORDS),
		TEXT(FACTS("\"m\"", "1") "\n"),
		TEXT(FACTS("1", "1") "\n" RECORDS),
		TEXT(FACTS("\"m\"", "1") " x\n" RECORDS),
		/* Version 1's records, a JSON array, in a good frame. */
		TEXT(FACTS("\"m\"", "1") "\n[{\"raw\":{}}]"),
		/* The last array without its NUL: torn inside the payload. */
		TEXT(FACTS("\"m\"", "1") "\n{NULL}\0{\"unknown\"}"),
	};
	size_t i;

	tap_ok(spool_parse(good.s, good.len, &rec, meta, sizeof meta) == 0 &&
	    rec.records_len == sizeof RECORDS - 1 &&
	    memcmp(rec.records, RECORDS, rec.records_len) == 0,
	    "the payload the refused ones differ from parses");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		tap_ok(spool_parse(bad[i].s, bad[i].len, &rec, meta,
		    sizeof meta) == -1, "payload %zu is refused", i);
	tap_ok(spool_parse(good.s, good.len, &rec, meta, 4) == -1,
	    "a scratch buffer too small is refused");
}

/*
 * Appends to b a frame of the given version around payload, as
 * spool_append() writes one (spool.h), with good checksums.
 */
static void
frame(struct buf *b, char version, const char *payload, size_t len)
{
	char head[SPOOL_HEADER_LEN + 1];

	snprintf(head, sizeof head, "\377ESPOOL%c%08lx %08lx ", version,
	    (unsigned long)len, (unsigned long)spool_crc32c(payload, len));
	snprintf(head + 26, sizeof head - 26, "%08lx\n",
	    (unsigned long)spool_crc32c(head, 26));
	buf_add(b, head, SPOOL_HEADER_LEN);
	buf_add(b, payload, len);
	buf_addch(b, '\n');
}

/* Version 2's records of a table without columns: 4 arrays, 2 events. */
#define V2_RECORDS	"{\"open\",\"click\"}\0{\"opened\",\"clicked\"}\0" \
	"{NULL,NULL}\0{\"{}\",\"{\\\"a\\\":1}\"}\0"
#define V2_PAYLOAD(id)	"{\"provider\":\"mailjet\",\"request_id\":\"" id "\"," \
	"\"remote_user\":null,\"received_at\":\"t\",\"events\":2}\n" V2_RECORDS

/* The arrays of records (NUL-terminated each), or -1 if not that. */
static int
count_arrays(const char *records, size_t len, size_t nevents)
{
	struct buf elem = BUF_INIT;
	const char *p = records, *end = records + len, *nul;
	size_t pos, n;
	int k = 0, isnull, rc = 0;

	while (p < end && rc == 0) {
		if ((nul = memchr(p, '\0', (size_t)(end - p))) == NULL)
			rc = -1;
		for (pos = 0, n = 0; rc == 0 && (rc = pgarray_next(p,
		    (size_t)(nul - p), &pos, &elem, &isnull)) == 1; n++)
			rc = 0;
		rc = rc == 0 && n == nevents ? 0 : -1;
		p = nul + 1;
		k++;
	}
	buf_release(&elem);
	return rc == 0 ? k : -1;
}

static void
test_version2(const char *path)
{
	static const char payload[] = V2_PAYLOAD("old");
	struct buf file = BUF_INIT, up = BUF_INIT, out = BUF_INIT;
	struct spool_record rec;
	const char *pl, *was;
	size_t used, plen, len, at;
	char meta[512], *data;
	int version = 0;

	frame(&file, '2', payload, sizeof payload - 1);
	if (!tap_ok(spool_frame(file.data, file.len, &used, &pl, &plen,
	    &version) == SPOOL_FRAME_OK && version == 2 &&
	    used == file.len, "a version 2 frame is good, version 2")) {
		/* What follows reads that frame's payload. */
		buf_release(&file);
		return;
	}
	tap_ok(spool_parse(pl, plen, &rec, meta, sizeof meta) == 0 &&
	    rec.nevents == 2 && rec.records_len == sizeof V2_RECORDS - 1 &&
	    strcmp(rec.request_id, "old") == 0, "and parses");
	was = rec.records;
	tap_ok(spool_upgrade(&rec, 3, &up) == 0 && rec.records == was,
	    "version 3 records need no upgrade");
	tap_ok(spool_upgrade(&rec, 2, &up) == 0 &&
	    rec.records_len == sizeof V2_RECORDS - 1 + 12 &&
	    memcmp(rec.records, V2_RECORDS "{NULL,NULL}", rec.records_len) == 0,
	    "version 2 records gain an original array of NULLs, one an event");
	tap_ok(count_arrays(rec.records, rec.records_len, 2) == 5,
	    "5 arrays of 2 elements, each NUL-terminated");
	tap_ok(spool_upgrade(&rec, 1, &up) == -1 &&
	    spool_upgrade(&rec, 4, &up) == -1, "other versions are refused");

	/* An unknown version with good checksums is not taken for ours. */
	buf_reset(&file);
	frame(&file, '4', payload, sizeof payload - 1);
	walk(file.data, file.len, &out);
	snprintf(meta, sizeof meta, "D%zu ", file.len);
	tap_is(out.data, meta, "a version 4 frame reads as damage");

	/*
	 * A file the upgrade left half old, half new: version 2 frames,
	 * then version 3 ones appended by the new release; damage in a
	 * version 2 frame resyncs on the next frame, whichever version.
	 */
	buf_reset(&file);
	frame(&file, '2', V2_PAYLOAD("a2"), sizeof V2_PAYLOAD("a2") - 1);
	frame(&file, '2', V2_PAYLOAD("b2"), sizeof V2_PAYLOAD("b2") - 1);
	data = slurp(path, &len);
	buf_add(&file, data, len);
	frame(&file, '2', V2_PAYLOAD("c2"), sizeof V2_PAYLOAD("c2") - 1);
	walk(file.data, file.len, &out);
	tap_is(out.data, "v2:a2 v2:b2 r1 r2 r3 v2:c2 ",
	    "versions 2 and 3 mixed in one file all read back");
	at = sizeof V2_PAYLOAD("a2") - 1 + SPOOL_HEADER_LEN + 1;
	file.data[at + SPOOL_HEADER_LEN + 5] ^= 0x01;
	walk(file.data, file.len, &out);
	tap_ok(strncmp(out.data, "v2:a2 D", 7) == 0 &&
	    strstr(out.data, " r1 r2 r3 v2:c2 ") != NULL,
	    "damage in a version 2 frame loses that frame only (%s)",
	    out.data);
	file.data[at + SPOOL_HEADER_LEN + 5] ^= 0x01;
	file.data[2 * at + 40] ^= 0x01;		/* inside r1's frame */
	walk(file.data, file.len, &out);
	tap_ok(strncmp(out.data, "v2:a2 v2:b2 D", 13) == 0 &&
	    strstr(out.data, " r2 r3 v2:c2 ") != NULL,
	    "damage in a version 3 frame resyncs on the next (%s)",
	    out.data);
	free(data);
	buf_release(&file);
	buf_release(&up);
	buf_release(&out);
}

/* Whether data[0..len), which may hold NUL bytes, contains s. */
static int
contains(const char *data, size_t len, const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(data + i, s, n) == 0)
			return 1;
	return 0;
}

/*
 * The spool fixtures: mailjet-two-posts.spool was written by the
 * release before (version 2), mailjet-repaired-v3.spool by this one.
 * Both must give records that store_events() takes for Mailjet now:
 * events_nparams() arrays of one element an event, original last.
 */
static void
test_fixture(const char *name, int want_version, const char *want_ids,
    const char *want_original)
{
	const struct provider *p = &provider_mailjet;
	struct buf ids = BUF_INIT, up = BUF_INIT, elem = BUF_INIT;
	struct spool_record rec;
	const char *pl, *last;
	char path[256], *data, *meta;
	size_t len, pos = 0, used, plen, epos;
	int version, good = 1, isnull, n;

	snprintf(path, sizeof path, "tests/fixtures/spool/%s", name);
	data = slurp(path, &len);
	tap_ok(len > 0, "%s is there", path);
	while (spool_frame(data + pos, len - pos, &used, &pl, &plen,
	    &version) == SPOOL_FRAME_OK) {
		meta = xmalloc(plen + 1);
		if (version != want_version ||
		    spool_parse(pl, plen, &rec, meta, plen + 1) == -1 ||
		    spool_upgrade(&rec, version, &up) == -1 ||
		    count_arrays(rec.records, rec.records_len, rec.nevents) !=
		    (int)events_nparams(p))
			good = 0;
		else {
			buf_addf(&ids, "%s ", rec.request_id);
			/* The last array: original. */
			last = rec.records + rec.records_len - 1;
			while (last > rec.records && last[-1] != '\0')
				last--;
			epos = 0;
			while ((n = pgarray_next(last, strlen(last), &epos,
			    &elem, &isnull)) == 1)
				buf_adds(&ids, isnull ? "N " : "X ");
		}
		free(meta);
		pos += used;
	}
	tap_ok(good && pos == len, "%s: every frame is version %d and gives "
	    "the %zu arrays of Mailjet's insert", name, want_version,
	    events_nparams(p));
	tap_is(ids.data, want_ids, "its POSTs, and which events have an "
	    "original (X) or not (N)");
	if (want_original)
		tap_ok(contains(data, len, want_original),
		    "the repaired event's bytes as sent are in it, as hex");
	free(data);
	buf_release(&ids);
	buf_release(&up);
	buf_release(&elem);
}

static void
test_rotate(struct spool *s, const char *path)
{
	struct spool *other = spool_new(dir, "mailjet");
	char **list;
	struct stat st;

	tap_ok(spool_pending(s) == 1, "a spool with records is pending");
	tap_ok(spool_rotate(s) == 1, "rotated");
	tap_ok(stat(path, &st) == -1, "the spool file is gone");
	list = spool_list(s);
	tap_ok(list[0] != NULL && list[1] == NULL &&
	    strstr(list[0], "/mailjet.") && strstr(list[0], ".replay"),
	    "one .replay file (%s)", list[0] ? list[0] : "none");
	spool_list_free(list);
	tap_ok(spool_pending(s) == 1, "a .replay file is pending");
	tap_ok(spool_rotate(s) == 0, "nothing more to rotate");
	usleep(2);
	append(s, "r4", "carol", rec_empty, sizeof rec_empty, 1);
	tap_ok(spool_rotate(s) == 1, "the new file rotates too");
	list = spool_list(s);
	tap_ok(list[0] && list[1] && !list[2] && strcmp(list[0], list[1]) < 0,
	    "two files, oldest first");
	spool_list_free(list);

	tap_ok(spool_lock(s) == 1, "the replay lock is taken");
	tap_ok(spool_lock(other) == 0, "a second replayer does not get it");
	spool_unlock(s);
	tap_ok(spool_lock(other) == 1, "it does once the first lets go");
	spool_free(other);
}

int
main(void)
{
	struct spool *s;
	char *path;

	tap_ok(spool_crc32c("123456789", 9) == 0xe3069283,
	    "CRC-32C check value");
	if (mkdtemp(dir) == NULL)
		return 1;
	s = spool_new(dir, "mailjet");
	path = xmalloc(strlen(dir) + 20);
	sprintf(path, "%s/mailjet.spool", dir);
	tap_ok(spool_pending(s) == 0, "a new spool has nothing pending");
	test_round_trip(s, path);
	test_damage(path);
	test_version2(path);
	test_fixture("mailjet-two-posts.spool", 2,
	    "0123456789abcdef0123456789abcdef N f00d N N ", NULL);
	test_fixture("mailjet-repaired-v3.spool", 3,
	    "fedcba9876543210fedcba9876543210 X beef N X ",
	    "\\\\x7b226576656e74223a226f70656e222c22656d61696c223a2271ff40782e636f6d227d");
	test_parse_refuses();
	test_rotate(s, path);
	spool_free(s);
	snprintf(path, strlen(dir) + 20, "rm -rf %s", dir);
	tap_ok(system(path) == 0, "cleaned up");
	free(path);
	return tap_done();
}
