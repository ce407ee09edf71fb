/*
 * spool.c - framed, checksummed records appended durably to a file.
 */
#define _GNU_SOURCE		/* memmem() */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "limits.h"
#include "pgarray.h"
#include "spool.h"

/*
 * Times an append opens the file again because the replayer renamed
 * it between our open() and our lock; more than a couple means
 * something else is renaming it.
 */
#define SPOOL_OPEN_TRIES 8
/* Names tried for a new .replay file when the first is taken. */
#define SPOOL_NAME_TRIES 8
/*
 * How long spool_requeue() waits for the replayer to let go of the
 * spool's lock, which it holds for one replay step (REPLAY_SLICE_MS).
 */
#define SPOOL_REQUEUE_WAIT_MS 5000
/* The frame buffer is kept between appends up to this size. */
#define SPOOL_KEEP_MAX	(1024 * 1024)
/*
 * Header offsets: magic (its last byte the version), length, ' ',
 * payload CRC, ' ', header CRC.
 */
#define SPOOL_OFF_VERSION 7
_Static_assert(sizeof SPOOL_MAGIC_PREFIX - 1 == SPOOL_OFF_VERSION &&
    sizeof SPOOL_MAGIC - 1 == SPOOL_MAGIC_LEN,
    "the magic is its prefix and one version byte");
#define SPOOL_OFF_LEN	8
#define SPOOL_OFF_PCRC	17
#define SPOOL_OFF_HCRC	26

struct spool {
	char		*dir;		/* owned */
	const char	*provider;
	char		*path;		/* owned: <dir>/<provider>.spool */
	char		*lockpath;	/* owned: <dir>/<provider>.lock */
	char		*qdir;		/* owned: <dir>/quarantine */
	int		 lockfd;	/* -1 unless spool_lock() holds it */
	struct buf	 frame;
};

static char *
spool_path(const char *dir, const char *provider, const char *suffix)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%s/%s%s", dir, provider, suffix);
	return buf_detach(&b, NULL);
}

struct spool *
spool_new(const char *dir, const char *provider)
{
	struct spool *s = xmalloc(sizeof *s);

	memset(s, 0, sizeof *s);
	s->dir = xstrdup(dir);
	s->provider = provider;
	s->path = spool_path(dir, provider, ".spool");
	s->lockpath = spool_path(dir, provider, ".lock");
	s->qdir = spool_path(dir, SPOOL_QUARANTINE_DIR, "");
	s->lockfd = -1;
	return s;
}

void
spool_free(struct spool *s)
{
	if (s == NULL)
		return;
	spool_unlock(s);
	free(s->dir);
	free(s->path);
	free(s->lockpath);
	free(s->qdir);
	buf_release(&s->frame);
	free(s);
}

const char *
spool_dir(const struct spool *s)
{
	return s->dir;
}

const char *
spool_provider(const struct spool *s)
{
	return s->provider;
}

uint32_t
spool_crc32c(const void *data, size_t len)
{
	static uint32_t table[256];
	const unsigned char *p = data;
	uint32_t c, crc = 0xffffffff;
	size_t i;
	int k;

	if (table[1] == 0)
		for (i = 0; i < 256; i++) {
			for (c = (uint32_t)i, k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
			table[i] = c;
		}
	for (i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffff;
}

/* The frame of rec into b: header, payload, newline. */
static void
spool_build(struct spool *s, const struct spool_record *rec)
{
	struct buf *b = &s->frame;
	char head[SPOOL_HEADER_LEN + 1];
	size_t plen;

	buf_reset(b);
	buf_grow(b, SPOOL_HEADER_LEN + rec->records_len + 256);
	buf_setlen(b, SPOOL_HEADER_LEN);	/* the header is written last */
	buf_adds(b, "{\"provider\":");
	buf_add_json_string(b, s->provider, strlen(s->provider));
	buf_adds(b, ",\"request_id\":");
	buf_add_json_string(b, rec->request_id, strlen(rec->request_id));
	buf_adds(b, ",\"remote_user\":");
	if (rec->remote_user)
		buf_add_json_string(b, rec->remote_user,
		    strlen(rec->remote_user));
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"received_at\":");
	buf_add_json_string(b, rec->received_at, strlen(rec->received_at));
	buf_addf(b, ",\"events\":%zu}\n", rec->nevents);
	buf_add(b, rec->records, rec->records_len);
	plen = b->len - SPOOL_HEADER_LEN;
	buf_addch(b, '\n');

	snprintf(head, sizeof head, "%s%08lx %08lx ", SPOOL_MAGIC,
	    (unsigned long)plen,
	    (unsigned long)spool_crc32c(b->data + SPOOL_HEADER_LEN, plen));
	snprintf(head + SPOOL_OFF_HCRC, sizeof head - SPOOL_OFF_HCRC,
	    "%08lx\n", (unsigned long)spool_crc32c(head, SPOOL_OFF_HCRC));
	memcpy(b->data, head, SPOOL_HEADER_LEN);
}

static int
spool_write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync()s the directory path. */
static int
spool_sync_path(const char *path)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
spool_sync_dir(struct spool *s)
{
	return spool_sync_path(s->dir);
}

/*
 * Opens and locks the current spool file.  The replayer may rename it
 * between the open and the lock; then the file we hold is no longer
 * the current one and we open again.
 */
static int
spool_open_current(struct spool *s, struct stat *st)
{
	struct stat cur;
	int fd, tries;

	for (tries = 0; tries < SPOOL_OPEN_TRIES; tries++) {
		fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600);
		if (fd == -1)
			return -1;
		if (flock(fd, LOCK_EX) == -1 || fstat(fd, st) == -1) {
			close(fd);
			return -1;
		}
		if (stat(s->path, &cur) == 0 && cur.st_dev == st->st_dev &&
		    cur.st_ino == st->st_ino)
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

int
spool_append(struct spool *s, const struct spool_record *rec, char *err,
    size_t errlen)
{
	struct stat st;
	int fd = -1, rc = -1;

	if (rec->records_len > LIMIT_SPOOL_RECORD - 4096) {
		snprintf(err, errlen, "the batch is too large to spool");
		goto out;
	}
	spool_build(s, rec);
	if ((fd = spool_open_current(s, &st)) == -1) {
		snprintf(err, errlen, "unable to open '%s': %s", s->path,
		    strerror(errno));
		goto out;
	}
	/*
	 * The file's name must be as durable as its records.  Whoever
	 * writes first into an empty file syncs the directory, before
	 * writing: so a file that holds a record has a durable name,
	 * whichever process created it and whatever crashed since, and a
	 * failed sync leaves no record behind its 503.  (What this process
	 * synced cannot be told by inode number: ext4 gives a file created
	 * after an unlink the number of the file unlinked.)
	 */
	if (st.st_size == 0 && spool_sync_dir(s) == -1) {
		snprintf(err, errlen, "unable to sync '%s': %s", s->dir,
		    strerror(errno));
		goto out;
	}
	if (spool_write_all(fd, s->frame.data, s->frame.len) == -1 ||
	    fdatasync(fd) == -1) {
		snprintf(err, errlen, "unable to write '%s': %s", s->path,
		    strerror(errno));
		/* Leave no part of this frame (a full disk); we hold the lock. */
		if (ftruncate(fd, st.st_size) == 0)
			(void)fdatasync(fd);
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);	/* and the lock with it */
	buf_trim(&s->frame, SPOOL_KEEP_MAX);
	return rc;
}

/* Eight lower-case hex digits, nothing else. */
static int
spool_hex8(const char *p, unsigned long *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 8; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			*v = *v << 4 | (unsigned long)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			*v = *v << 4 | (unsigned long)(p[i] - 'a' + 10);
		else
			return -1;
	}
	return 0;
}

/* The version a magic at data names, or 0 when it names none we read. */
static int
spool_magic_version(const char *data)
{
	if (memcmp(data, SPOOL_MAGIC_PREFIX, SPOOL_OFF_VERSION) != 0)
		return 0;
	switch (data[SPOOL_OFF_VERSION]) {
	case '2':
		return 2;
	case '0' + SPOOL_VERSION:
		return SPOOL_VERSION;
	default:
		return 0;
	}
}

enum spool_frame
spool_frame(const char *data, size_t len, size_t *used,
    const char **payload, size_t *payload_len, int *version)
{
	unsigned long plen, pcrc, hcrc;
	const char *next;

	if (len == 0)
		return SPOOL_FRAME_END;
	if (len >= SPOOL_HEADER_LEN &&
	    (*version = spool_magic_version(data)) != 0 &&
	    spool_hex8(data + SPOOL_OFF_LEN, &plen) == 0 &&
	    data[SPOOL_OFF_PCRC - 1] == ' ' &&
	    spool_hex8(data + SPOOL_OFF_PCRC, &pcrc) == 0 &&
	    data[SPOOL_OFF_HCRC - 1] == ' ' &&
	    spool_hex8(data + SPOOL_OFF_HCRC, &hcrc) == 0 &&
	    data[SPOOL_HEADER_LEN - 1] == '\n' &&
	    hcrc == spool_crc32c(data, SPOOL_OFF_HCRC) &&
	    plen <= LIMIT_SPOOL_RECORD &&
	    plen < len - SPOOL_HEADER_LEN &&
	    data[SPOOL_HEADER_LEN + plen] == '\n' &&
	    pcrc == spool_crc32c(data + SPOOL_HEADER_LEN, plen)) {
		*payload = data + SPOOL_HEADER_LEN;
		*payload_len = plen;
		*used = SPOOL_HEADER_LEN + plen + 1;
		return SPOOL_FRAME_OK;
	}
	/*
	 * Damage: go on at the next frame of any version, if any (a file
	 * may hold frames of both versions: an upgrade between appends).
	 */
	next = memmem(data + 1, len - 1, SPOOL_MAGIC_PREFIX,
	    SPOOL_OFF_VERSION);
	*used = next ? (size_t)(next - data) : len;
	return SPOOL_FRAME_DAMAGED;
}

/* Copies the string member key of o into *out, advancing *out. */
static const char *
spool_member(struct json_object *o, const char *key, char **out,
    const char *end, int nullable, int *bad)
{
	struct json_object *v;
	const char *str, *start = *out;
	size_t n;

	if (!json_object_object_get_ex(o, key, &v) ||
	    (v == NULL && !nullable) ||
	    (v != NULL && !json_object_is_type(v, json_type_string))) {
		*bad = 1;
		return NULL;
	}
	if (v == NULL)
		return NULL;
	str = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n >= (size_t)(end - *out) || memchr(str, '\0', n) != NULL) {
		*bad = 1;
		return NULL;
	}
	memcpy(*out, str, n + 1);
	*out += n + 1;
	return start;
}

int
spool_parse(const char *payload, size_t len, struct spool_record *rec,
    char *meta, size_t metalen)
{
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL, *v;
	const char *nl = memchr(payload, '\n', len);
	char *out = meta, *end = meta + metalen;
	int64_t n;
	int bad = 0;

	memset(rec, 0, sizeof *rec);
	/* The records: array literals, each ending with its NUL. */
	if (nl == NULL || metalen < len + 1 || nl + 1 == payload + len ||
	    nl[1] != '{' || payload[len - 1] != '\0')
		return -1;
	if ((tok = json_tokener_new()) == NULL)
		return -1;
	o = json_tokener_parse_ex(tok, payload, (int)(nl - payload));
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != (size_t)(nl - payload) ||
	    !json_object_is_type(o, json_type_object)) {
		bad = 1;
		goto out;
	}
	rec->provider = spool_member(o, "provider", &out, end, 0, &bad);
	rec->request_id = spool_member(o, "request_id", &out, end, 0, &bad);
	rec->remote_user = spool_member(o, "remote_user", &out, end, 1, &bad);
	rec->received_at = spool_member(o, "received_at", &out, end, 0, &bad);
	if (!json_object_object_get_ex(o, "events", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    (n = json_object_get_int64(v)) < 1 || n > LIMIT_EVENTS)
		bad = 1;
	else
		rec->nevents = (size_t)n;
	rec->records = nl + 1;
	rec->records_len = (size_t)(payload + len - rec->records);
out:
	json_object_put(o);
	json_tokener_free(tok);
	return bad ? -1 : 0;
}

int
spool_upgrade(struct spool_record *rec, int version, struct buf *out)
{
	size_t i;

	if (version == SPOOL_VERSION)
		return 0;
	if (version != 2)
		return -1;
	/*
	 * Version 2's records are version 3's without the last array,
	 * original, which is NULL for an event that needed no repair:
	 * that release kept no bytes as sent, and the key of such an
	 * event, (dedup_key, NULL), is the one it had then (sql/010).
	 */
	buf_reset(out);
	buf_grow(out, rec->records_len + 5 * rec->nevents + 3);
	buf_add(out, rec->records, rec->records_len);
	pgarray_open(out);
	for (i = 0; i < rec->nevents; i++)
		pgarray_add_null(out);
	pgarray_close(out);
	buf_addch(out, '\0');
	rec->records = out->data;
	rec->records_len = out->len;
	return 0;
}

int
spool_pending(struct spool *s)
{
	struct stat st;
	char **list;
	int pending;

	if (stat(s->path, &st) == 0 && st.st_size > 0)
		return 1;
	list = spool_list(s);
	pending = list[0] != NULL;
	spool_list_free(list);
	return pending;
}

int
spool_lock(struct spool *s)
{
	if (s->lockfd != -1)
		return 1;
	s->lockfd = open(s->lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd == -1)
		return -1;
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) == 0)
		return 1;
	close(s->lockfd);
	s->lockfd = -1;
	return errno == EWOULDBLOCK ? 0 : -1;
}

void
spool_unlock(struct spool *s)
{
	if (s->lockfd != -1)
		close(s->lockfd);
	s->lockfd = -1;
}

/*
 * A new name in dir for a .replay file of s, and its suffix (".replay",
 * ".reason"): <provider>.<20 digits>.replay, the digits the time in
 * microseconds, fixed width so names sort in time order; the next
 * microsecond if the name is taken.  The caller frees it; NULL (errno
 * set) when no name is free.
 */
static char *
spool_replay_name(struct spool *s, const char *dir, const char *suffix)
{
	struct timespec now;
	unsigned long long us;
	struct buf b = BUF_INIT;
	int tries;

	clock_gettime(CLOCK_REALTIME, &now);
	us = (unsigned long long)now.tv_sec * 1000000 +
	    (unsigned long long)now.tv_nsec / 1000;
	for (tries = 0; tries < SPOOL_NAME_TRIES; tries++, us++) {
		buf_reset(&b);
		buf_addf(&b, "%s/%s.%020llu%s", dir, s->provider, us, suffix);
		if (access(b.data, F_OK) == -1 && errno == ENOENT)
			return buf_detach(&b, NULL);
	}
	buf_release(&b);
	errno = EEXIST;
	return NULL;
}

int
spool_rotate(struct spool *s)
{
	struct stat st;
	char *to = NULL;
	int fd, rc = -1;

	if ((fd = open(s->path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	/* Under the writers' lock: no append is half done. */
	if (flock(fd, LOCK_EX) == -1 || fstat(fd, &st) == -1)
		goto out;
	if (st.st_size == 0) {
		rc = 0;
		goto out;
	}
	if ((to = spool_replay_name(s, s->dir, ".replay")) == NULL)
		goto out;
	if (rename(s->path, to) == -1 || spool_sync_dir(s) == -1)
		goto out;
	rc = 1;
out:
	free(to);
	close(fd);
	return rc;
}

static int
spool_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .replay files of s in dir, oldest first (spool_list()). */
static char **
spool_list_in(struct spool *s, const char *dir)
{
	size_t plen = strlen(s->provider), n = 0, cap = 8, len, i;
	char **list = xmalloc(cap * sizeof *list);
	struct dirent *e;
	DIR *d;

	list[0] = NULL;
	if ((d = opendir(dir)) == NULL)
		return list;
	while ((e = readdir(d)) != NULL) {
		/* <provider>.<20 digits>.replay */
		len = strlen(e->d_name);
		if (len != plen + 1 + 20 + 7 ||
		    strncmp(e->d_name, s->provider, plen) != 0 ||
		    e->d_name[plen] != '.' ||
		    strcmp(e->d_name + len - 7, ".replay") != 0)
			continue;
		for (i = plen + 1; i < plen + 21; i++)
			if (e->d_name[i] < '0' || e->d_name[i] > '9')
				break;
		if (i != plen + 21)
			continue;
		if (n + 1 == cap)
			list = xrealloc(list, (cap *= 2) * sizeof *list);
		list[n++] = spool_path(dir, e->d_name, "");
		list[n] = NULL;
	}
	closedir(d);
	qsort(list, n, sizeof *list, spool_cmp);
	return list;
}

char **
spool_list(struct spool *s)
{
	return spool_list_in(s, s->dir);
}

void
spool_list_free(char **list)
{
	char **p;

	if (list == NULL)
		return;
	for (p = list; *p; p++)
		free(*p);
	free(list);
}

/* path with its ".replay" ending replaced by suffix; the caller frees it. */
static char *
spool_sidecar(const char *path, const char *suffix)
{
	struct buf b = BUF_INIT;
	size_t len = strlen(path) - strlen(".replay");

	buf_add(&b, path, len);
	buf_adds(&b, suffix);
	return buf_detach(&b, NULL);
}

/* Writes len bytes to a new file path and makes them durable. */
static int
spool_write_file(const char *path, const char *data, size_t len)
{
	int fd, rc;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	rc = spool_write_all(fd, data, len) == 0 && fdatasync(fd) == 0 ?
	    0 : -1;
	if (close(fd) == -1)
		rc = -1;
	return rc;
}

int
spool_quarantine(struct spool *s, const char *frame, size_t len,
    const char *reason, char *err, size_t errlen)
{
	char *path = NULL, *why = NULL;
	int rc = -1;

	if (mkdir(s->qdir, 0700) == 0) {
		if (spool_sync_dir(s) == -1)
			goto fail;
	} else if (errno != EEXIST)
		goto fail;
	if ((path = spool_replay_name(s, s->qdir, ".replay")) == NULL)
		goto fail;
	/*
	 * The reason first, the record second: a crash in between leaves a
	 * reason alone, never a record without one.  A record cut short by
	 * a crash fails its checksum if it is ever put back, and the
	 * replayer, which moves on only once this returns, quarantines it
	 * again from the spool.
	 */
	why = spool_sidecar(path, ".reason");
	if (spool_write_file(why, reason, strlen(reason)) == -1 ||
	    spool_write_file(path, frame, len) == -1 ||
	    spool_sync_path(s->qdir) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "unable to quarantine in '%s': %s", s->qdir,
	    strerror(errno));
out:
	free(path);
	free(why);
	return rc;
}

int
spool_requeue(struct spool *s, char *err, size_t errlen)
{
	char **list = NULL, **f, *to = NULL, *why;
	int waited, moved = 0, rc = 0, locked;

	for (waited = 0; (locked = spool_lock(s)) == 0 &&
	    waited < SPOOL_REQUEUE_WAIT_MS; waited += 100)
		usleep(100 * 1000);
	if (locked != 1) {
		snprintf(err, errlen, locked == 0 ? "the replayer holds '%s'" :
		    "unable to lock '%s'", s->lockpath);
		return -1;
	}
	list = spool_list_in(s, s->qdir);
	for (f = list; *f; f++) {
		/* A new name: the file goes after what waits already. */
		if ((to = spool_replay_name(s, s->dir, ".replay")) == NULL ||
		    rename(*f, to) == -1) {
			snprintf(err, errlen, "unable to move '%s' back: %s", *f,
			    strerror(errno));
			rc = -1;
			break;
		}
		why = spool_sidecar(*f, ".reason");
		(void)unlink(why);
		free(why);
		free(to);
		to = NULL;
		moved++;
	}
	/* What moved, moved for good, even when a later one failed. */
	if (moved > 0 && (spool_sync_dir(s) == -1 ||
	    spool_sync_path(s->qdir) == -1) && rc == 0) {
		snprintf(err, errlen, "unable to sync '%s': %s", s->dir,
		    strerror(errno));
		rc = -1;
	}
	free(to);
	spool_list_free(list);
	spool_unlock(s);
	return rc == 0 ? moved : -1;
}
