/*
 * test_spool.c - the spool's file format without a database: records
 * written by spool_append() read back field for field, and every kind
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

static void
append(struct spool *s, const char *id, const char *user, const char *records)
{
	struct spool_record rec;
	char err[256] = "";

	memset(&rec, 0, sizeof rec);
	rec.request_id = id;
	rec.remote_user = user;
	rec.received_at = "2026-11-23 10:00:00.000001+00";
	rec.nevents = 1;
	rec.records = records;
	rec.records_len = strlen(records);
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
	const char *payload;
	size_t len, used, plen;
	char *data, meta[4096];

	append(s, "r1", "alice", "[{\"raw\":{\"event\":\"open\"}}]");
	append(s, "r2", NULL, "[{\"raw\":{\"s\":\"\\u00ff\\n\\\"\"}}]");
	append(s, "r3", "bob\"\\", "[{\"raw\":{\"event\":\"click\"}}]");
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
	tap_ok(rec.records_len == strlen("[{\"raw\":{\"event\":\"open\"}}]") &&
	    memcmp(rec.records, "[{\"raw\":{\"event\":\"open\"}}]",
	    rec.records_len) == 0, "records read back byte for byte");

	payload = data + used;
	tap_ok(spool_frame(payload, len - used, &used, &payload, &plen) ==
	    SPOOL_FRAME_OK && spool_parse(payload, plen, &rec, meta,
	    sizeof meta) == 0 && rec.remote_user == NULL,
	    "a NULL remote user reads back as NULL");
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

static void
test_parse_refuses(void)
{
	struct spool_record rec;
	char meta[256];
	static const char *bad[] = {
		"no newline",
		"{\"provider\":\"mailjet\"}\n[]",
		"[1]\n[{}]",
		"{\"provider\":\"m\",\"request_id\":\"r\",\"remote_user\":null,"
		    "\"received_at\":\"t\",\"events\":0}\n[{}]",
		"{\"provider\":\"m\",\"request_id\":\"r\",\"remote_user\":null,"
		    "\"received_at\":\"t\",\"events\":1}\n",
		"{\"provider\":1,\"request_id\":\"r\",\"remote_user\":null,"
		    "\"received_at\":\"t\",\"events\":1}\n[{}]",
		"{\"provider\":\"m\",\"request_id\":\"r\",\"remote_user\":null,"
		    "\"received_at\":\"t\",\"events\":1} x\n[{}]",
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		tap_ok(spool_parse(bad[i], strlen(bad[i]), &rec, meta,
		    sizeof meta) == -1, "payload %zu is refused", i);
	tap_ok(spool_parse(bad[3], strlen(bad[3]), &rec, meta, 4) == -1,
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
	append(s, "r4", "carol", "[{\"raw\":{}}]");
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
