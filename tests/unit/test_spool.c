/*
 * test_spool.c - the spool's file format without a database: records
 * written by spool_append() read back field for field (the insert's
 * arrays byte for byte, NUL bytes included), and every kind
 * of damage (a flipped byte, a torn last write, garbage, a bad header)
 * skipped without losing the good frames around it.  Also rotation,
 * listing and the replayer's lock.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "spool.h"
#include "tap.h"

static char dir[] = "/tmp/test_spool.XXXXXX";

/*
 * Records as events_build() writes them (event.h), here for a table
 * without columns: provider_event, event, hard_bounce and raw, each an
 * array literal ending with a NUL byte.  The spool keeps them as bytes;
 * sizeof counts the string's own NUL, the last array's.
 */
static const char rec_open[] = "{\"open\"}\0{\"opened\"}\0{NULL}\0"
    "{\"{\\\"event\\\":\\\"open\\\"}\"}";
static const char rec_escapes[] = "{NULL}\0{\"unknown\"}\0{NULL}\0"
    "{\"{\\\"s\\\":\\\"\\\\u00ff\\\\n\\\\\\\"\\\"}\"}";
static const char rec_click[] = "{\"click\",\"open\"}\0"
    "{\"clicked\",\"opened\"}\0{NULL,NULL}\0"
    "{\"{\\\"event\\\":\\\"click\\\"}\",\"{\\\"event\\\":\\\"open\\\"}\"}";
static const char rec_empty[] = "{NULL}\0{\"unknown\"}\0{NULL}\0{\"{}\"}";

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
 * good frame (its request id), "D<bytes>" for skipped damage.
 */
static void
walk(const char *data, size_t len, struct buf *out)
{
	struct spool_record rec;
	const char *payload;
	size_t used, plen, pos = 0;
	char meta[4096];

	buf_reset(out);
	for (;;) {
		switch (spool_frame(data + pos, len - pos, &used, &payload,
		    &plen)) {
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
				buf_addf(out, "%s ", rec.request_id);
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

	append(s, "r1", "alice", rec_open, sizeof rec_open, 1);
	append(s, "r2", NULL, rec_escapes, sizeof rec_escapes, 1);
	append(s, "r3", "bob\"\\", rec_click, sizeof rec_click, 2);
	data = slurp(path, &len);

	tap_ok(spool_frame(data, len, &used, &payload, &plen) ==
	    SPOOL_FRAME_OK, "the first frame is good");
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
	tap_ok(spool_frame(next, len - used, &used2, &payload, &plen) ==
	    SPOOL_FRAME_OK && spool_parse(payload, plen, &rec, meta,
	    sizeof meta) == 0 && rec.remote_user == NULL,
	    "a NULL remote user reads back as NULL");
	tap_ok(rec.records_len == sizeof rec_escapes &&
	    memcmp(rec.records, rec_escapes, sizeof rec_escapes) == 0,
	    "escaped quotes and backslashes read back byte for byte");

	next += used2;
	tap_ok(spool_frame(next, len - used - used2, &used, &payload, &plen) ==
	    SPOOL_FRAME_OK && spool_parse(payload, plen, &rec, meta,
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
#define RECORDS		"{NULL}\0{\"unknown\"}\0{NULL}\0{\"{}\"}\0"
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
	test_parse_refuses();
	test_rotate(s, path);
	spool_free(s);
	snprintf(path, strlen(dir) + 20, "rm -rf %s", dir);
	tap_ok(system(path) == 0, "cleaned up");
	free(path);
	return tap_done();
}
