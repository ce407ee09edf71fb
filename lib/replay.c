/*
 * replay.c - the spool's .replay files into the database, in order.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "replay.h"
#include "spool.h"
#include "store.h"
#include "tstamp.h"

/* Digits of the offset a .pos file holds. */
#define REPLAY_POS_LEN	20

enum replay_file {
	FILE_DONE,
	FILE_MORE,
	FILE_BLOCKED,
};

/* One .replay file being read. */
struct replay {
	struct spool	*spool;
	struct store	*store;
	const char	*path;
	const char	*data;		/* the file, mapped read-only */
	size_t		 size;
	size_t		 pos;		/* where the next frame starts */
	int		 posfd;		/* the .pos file */
	struct buf	 meta;		/* scratch for spool_parse() */
	long		 requests, events, stored, refused, damaged;
};

/* The saved offset, or 0 when there is none or it makes no sense. */
static size_t
replay_read_pos(struct replay *r)
{
	char text[REPLAY_POS_LEN + 1];
	unsigned long long v = 0;
	ssize_t n;
	int i;

	n = pread(r->posfd, text, REPLAY_POS_LEN, 0);
	if (n != REPLAY_POS_LEN)
		return 0;
	for (i = 0; i < REPLAY_POS_LEN; i++) {
		if (text[i] < '0' || text[i] > '9')
			return 0;
		v = v * 10 + (unsigned long long)(text[i] - '0');
	}
	return v <= r->size ? (size_t)v : 0;
}

/*
 * No fsync: a position lost in a crash only means replaying some POSTs
 * again, which the dedup keys make harmless.
 */
static void
replay_write_pos(struct replay *r)
{
	char text[REPLAY_POS_LEN + 1];

	snprintf(text, sizeof text, "%0*zu", REPLAY_POS_LEN, r->pos);
	if (pwrite(r->posfd, text, REPLAY_POS_LEN, 0) != REPLAY_POS_LEN)
		log_msg(NULL, "unable to save the position in '%s.pos'",
		    r->path);
}

/* Inserts the POST of one good frame.  Returns FILE_BLOCKED or not. */
static enum replay_file
replay_one(struct replay *r, const char *payload, size_t len)
{
	struct spool_record rec;
	struct store_request rq;
	char err[256];
	long stored = 0;

	buf_reset(&r->meta);
	buf_grow(&r->meta, len + 1);
	if (spool_parse(payload, len, &rec, r->meta.data, len + 1) == -1 ||
	    strcmp(rec.provider, spool_provider(r->spool)) != 0) {
		log_msg(NULL, "%s: the record at offset %zu is not one of ours, "
		    "skipped", r->path, r->pos);
		r->damaged += (long)len;
		return FILE_DONE;
	}
	rq.request_id = rec.request_id;
	rq.remote_user = rec.remote_user;
	rq.received_at = rec.received_at;
	switch (store_events(r->store, &rq, rec.nevents, rec.records,
	    rec.records_len, &stored, err, sizeof err)) {
	case STORE_OK:
		r->requests++;
		r->events += (long)rec.nevents;
		r->stored += stored;
		return FILE_DONE;
	case STORE_REFUSED:
		/* It would have been a 400; keep it where 400s go, go on. */
		log_msg(rec.request_id, "the database refused %zu spooled "
		    "events, kept in webhook_reject: %s", rec.nevents, err);
		store_reject(r->store, &rq, "refused on replay from the spool",
		    payload, len);
		r->refused++;
		return FILE_DONE;
	case STORE_UNAVAILABLE:
		break;
	}
	log_msg(NULL, "replay of '%s' paused at offset %zu: %s", r->path,
	    r->pos, err);
	return FILE_BLOCKED;
}

static enum replay_file
replay_file(struct spool *sp, struct store *st, const char *path,
    int64_t deadline)
{
	struct buf pb = BUF_INIT;
	struct replay r;
	enum replay_file rs = FILE_BLOCKED;
	enum spool_frame fr;
	const char *payload;
	size_t used, plen;
	struct stat sb;
	char *pospath;
	int fd;

	memset(&r, 0, sizeof r);
	r.spool = sp;
	r.store = st;
	r.path = path;
	r.data = MAP_FAILED;
	r.posfd = -1;
	buf_addf(&pb, "%s.pos", path);
	pospath = buf_detach(&pb, NULL);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1 ||
	    (r.posfd = open(pospath, O_RDWR | O_CREAT | O_CLOEXEC,
	    0600)) == -1) {
		log_msg(NULL, "unable to open '%s' or its .pos file", path);
		goto out;
	}
	r.size = (size_t)sb.st_size;
	if (r.size > 0 && (r.data = mmap(NULL, r.size, PROT_READ, MAP_PRIVATE,
	    fd, 0)) == MAP_FAILED) {
		log_msg(NULL, "unable to map '%s'", path);
		goto out;
	}
	r.pos = replay_read_pos(&r);
	for (rs = FILE_DONE; r.pos < r.size; ) {
		if (tstamp_monotonic_ms() >= deadline) {
			rs = FILE_MORE;
			break;
		}
		fr = spool_frame(r.data + r.pos, r.size - r.pos, &used,
		    &payload, &plen);
		if (fr == SPOOL_FRAME_END)
			break;
		if (fr == SPOOL_FRAME_DAMAGED) {
			log_msg(NULL, "%s: %zu damaged bytes at offset %zu "
			    "skipped", path, used, r.pos);
			r.damaged += (long)used;
		} else if ((rs = replay_one(&r, payload, plen)) == FILE_BLOCKED)
			break;
		r.pos += used;
		replay_write_pos(&r);
	}
	if (rs == FILE_DONE) {
		log_msg(NULL, "replayed '%s': %ld requests, %ld events "
		    "(%ld new), %ld refused, %ld damaged bytes", path,
		    r.requests, r.events, r.stored, r.refused, r.damaged);
		unlink(path);
		unlink(pospath);
		(void)spool_sync_dir(sp);
	} else if (r.requests > 0)
		log_msg(NULL, "replayed from '%s': %ld requests, %ld events "
		    "(%ld new) so far", path, r.requests, r.events, r.stored);
out:
	if (r.data != MAP_FAILED)
		munmap((void *)r.data, r.size);
	if (r.posfd != -1)
		close(r.posfd);
	if (fd != -1)
		close(fd);
	buf_release(&r.meta);
	free(pospath);
	return rs;
}

enum replay_status
replay_step(struct spool *sp, struct store *st)
{
	int64_t deadline = tstamp_monotonic_ms() + REPLAY_SLICE_MS;
	enum replay_status rs = REPLAY_BLOCKED;
	char **list = NULL, **f;
	int locked;

	if (!spool_pending(sp))
		return REPLAY_IDLE;
	if ((locked = spool_lock(sp)) != 1) {
		if (locked == -1)
			log_msg(NULL, "unable to lock the spool in '%s'",
			    spool_dir(sp));
		return REPLAY_BLOCKED;
	}
	/* Rotate only with a database to replay into: nothing moves
	   while it is down, which keeps an outage's files simple. */
	if (store_connect(st) == -1)
		goto out;
	list = spool_list(sp);
	if (list[0] == NULL) {
		if (spool_rotate(sp) == -1) {
			log_msg(NULL, "unable to rotate the spool in '%s'",
			    spool_dir(sp));
			goto out;
		}
		spool_list_free(list);
		list = spool_list(sp);
	}
	for (f = list; *f; f++)
		switch (replay_file(sp, st, *f, deadline)) {
		case FILE_DONE:
			continue;
		case FILE_MORE:
			rs = REPLAY_MORE;
			goto out;
		case FILE_BLOCKED:
			goto out;
		}
	/* Writers may have spooled more meanwhile. */
	rs = spool_pending(sp) ? REPLAY_MORE : REPLAY_IDLE;
out:
	spool_list_free(list);
	spool_unlock(sp);
	return rs;
}
