/*
 * replay.c - the spool's .replay files into the database, in order.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "event.h"
#include "log.h"
#include "replay.h"
#include "spool.h"
#include "store.h"
#include "tstamp.h"

/*
 * A .pos file is one line: the offset of the next record, the failures
 * of that record so far and the unix time of the first, each
 * zero-padded to a fixed width so that a rewrite covers the last.  A
 * .pos file of an earlier release holds the offset alone.
 */
#define REPLAY_POS_LEN	20
#define REPLAY_POS_FMT	"%020zu %010u %020" PRId64 "\n"
#define REPLAY_POS_LINE	(REPLAY_POS_LEN + 1 + 10 + 1 + 20 + 1)

enum replay_file {
	FILE_DONE,
	FILE_MORE,
	FILE_BLOCKED,
};

/* What became of one record. */
enum replay_record {
	RECORD_DONE,		/* stored, or kept in webhook_reject */
	RECORD_FAILED,		/* neither: it is tried again later */
	RECORD_FOREIGN,		/* not this program's: trying cannot help */
};

/* One .replay file being read. */
struct replay {
	struct spool	*spool;
	struct store	*store;
	const struct replay_options *opt;
	const char	*path;
	const char	*data;		/* the file, mapped read-only */
	size_t		 size;
	size_t		 pos;		/* where the next frame starts */
	unsigned	 tries;		/* failures of the frame at pos */
	int64_t		 first_fail;	/* unix time of the first, or 0 */
	int		 posfd;		/* the .pos file */
	struct buf	 meta;		/* scratch for spool_parse() */
	struct buf	 body;		/* scratch: a refused record's events */
	struct buf	 upgraded;	/* records of an older version,
					   brought up to date */
	long		 requests, events, stored, refused, damaged;
	long		 quarantined;
};

/* Reads the .pos file; an absent or senseless one means the start. */
static void
replay_read_pos(struct replay *r)
{
	char text[REPLAY_POS_LINE + 1];
	unsigned long long v = 0;
	unsigned tries;
	int64_t first;
	ssize_t n;
	int i;

	r->pos = 0;
	r->tries = 0;
	r->first_fail = 0;
	if ((n = pread(r->posfd, text, REPLAY_POS_LINE, 0)) < REPLAY_POS_LEN)
		return;
	text[n] = '\0';
	for (i = 0; i < REPLAY_POS_LEN; i++) {
		if (text[i] < '0' || text[i] > '9')
			return;
		v = v * 10 + (unsigned long long)(text[i] - '0');
	}
	if (v > r->size)
		return;
	r->pos = (size_t)v;
	if (sscanf(text + REPLAY_POS_LEN, " %u %" SCNd64, &tries,
	    &first) == 2 && tries > 0) {
		r->tries = tries;
		r->first_fail = first;
	}
}

/*
 * No fsync: a position lost in a crash only means replaying some POSTs
 * again, which the dedup keys make harmless, or counting a record's
 * failures anew.
 */
static void
replay_write_pos(struct replay *r)
{
	char text[REPLAY_POS_LINE + 1];

	snprintf(text, sizeof text, REPLAY_POS_FMT, r->pos, r->tries,
	    r->first_fail);
	if (pwrite(r->posfd, text, REPLAY_POS_LINE, 0) != REPLAY_POS_LINE)
		log_msg(NULL, "unable to save the position in '%s.pos'",
		    r->path);
}

/*
 * Inserts the POST of one good frame of the given version; err (errlen
 * bytes) says why when it returns anything but RECORD_DONE.
 */
static enum replay_record
replay_one(struct replay *r, const char *payload, size_t len, int version,
    char *err, size_t errlen)
{
	struct spool_record rec;
	struct store_request rq;
	char failure[256], why[512];
	long stored = 0;

	buf_reset(&r->meta);
	buf_grow(&r->meta, len + 1);
	if (spool_parse(payload, len, &rec, r->meta.data, len + 1) == -1 ||
	    strcmp(rec.provider, spool_provider(r->spool)) != 0 ||
	    spool_upgrade(&rec, version, &r->upgraded) == -1 ||
	    !store_fits(r->store, rec.records, rec.records_len)) {
		snprintf(err, errlen, "not a record this program can store "
		    "(another provider's, or another version's)");
		return RECORD_FOREIGN;
	}
	rq.request_id = rec.request_id;
	rq.remote_user = rec.remote_user;
	rq.received_at = rec.received_at;
	switch (store_events(r->store, &rq, rec.nevents, rec.records,
	    rec.records_len, &stored, failure, sizeof failure)) {
	case STORE_OK:
		r->requests++;
		r->events += (long)rec.nevents;
		r->stored += stored;
		return RECORD_DONE;
	case STORE_REFUSED:
		break;
	case STORE_UNAVAILABLE:
		snprintf(err, errlen, "%s", failure);
		return RECORD_FAILED;
	}
	/*
	 * It would have been a 422: keep it where those go, as a body that
	 * can be POSTed again once the cause is fixed (doc/operations.md),
	 * and go on.  If it cannot be kept there, it is not skipped: it
	 * fails, and is tried again until the quarantine takes it.
	 */
	snprintf(why, sizeof why, "refused on replay from the spool "
	    "(received %.40s): %s", rec.received_at, failure);
	buf_reset(&r->body);
	if (events_json(store_provider(r->store), rec.records,
	    rec.records_len, &r->body) == -1 ||
	    store_reject(r->store, &rq, why, r->body.data, r->body.len) == -1) {
		snprintf(err, errlen, "%s; not kept in webhook_reject either",
		    why);
		return RECORD_FAILED;
	}
	log_msg(rec.request_id, "%zu spooled events kept in webhook_reject: "
	    "%s", rec.nevents, why);
	r->refused++;
	return RECORD_DONE;
}

/*
 * The record at r->pos (frame, len bytes) failed as rr says, err why.
 * Returns 1 when it went to the quarantine (the replay moves past it),
 * or 0 when it is to be tried again later.
 */
static int
replay_give_up(struct replay *r, enum replay_record rr, const char *frame,
    size_t len, const char *err)
{
	int64_t now = (int64_t)time(NULL);
	char reason[2048], at[TSTAMP_LEN], since[TSTAMP_LEN], qerr[256], *p;
	size_t n;
	int tries = r->opt->tries > 0 ? r->opt->tries : REPLAY_TRIES;
	int seconds = r->opt->seconds > 0 ? r->opt->seconds : REPLAY_SECONDS;

	if (r->tries++ == 0)
		r->first_fail = now;
	if (tstamp_format(r->first_fail, 0, since) == -1)
		snprintf(since, sizeof since, "?");
	if (rr == RECORD_FAILED && ((int64_t)r->tries < tries ||
	    now - r->first_fail < seconds)) {
		/* At 1, 2, 4, 8... failures: a few lines, not one a second. */
		if ((r->tries & (r->tries - 1)) == 0)
			log_msg(NULL, "replay of '%s' paused at offset %zu, "
			    "%u failures since %s: %s", r->path, r->pos,
			    r->tries, since, err);
		replay_write_pos(r);
		return 0;
	}
	if (tstamp_format(now, 0, at) == -1)
		snprintf(at, sizeof at, "?");
	snprintf(reason, sizeof reason, "%s %s: from '%s' at offset %zu, "
	    "%u failures since %s: %s", at, spool_provider(r->spool),
	    r->path, r->pos, r->tries, since, err);
	/* One line: the server's messages have several. */
	for (p = reason; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	if ((n = strlen(reason)) + 1 < sizeof reason)
		memcpy(reason + n, "\n", 2);
	if (spool_quarantine(r->spool, frame, len, reason, qerr,
	    sizeof qerr) == -1) {
		log_msg(NULL, "replay of '%s' paused at offset %zu: %s; %s",
		    r->path, r->pos, err, qerr);
		replay_write_pos(r);
		return 0;
	}
	log_msg(NULL, "quarantined the record at offset %zu of '%s' after %u "
	    "failures (put it back with --requeue): %s", r->pos, r->path,
	    r->tries, err);
	r->quarantined++;
	return 1;
}

static enum replay_file
replay_file(struct spool *sp, struct store *st,
    const struct replay_options *opt, const char *path, int64_t deadline)
{
	struct buf pb = BUF_INIT;
	struct replay r;
	enum replay_file rs = FILE_BLOCKED;
	enum replay_record rr;
	enum spool_frame fr;
	const char *payload;
	size_t used, plen;
	struct stat sb;
	char *pospath, err[1024];
	int fd, version = 0;

	memset(&r, 0, sizeof r);
	r.spool = sp;
	r.store = st;
	r.opt = opt;
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
	replay_read_pos(&r);
	for (rs = FILE_DONE; r.pos < r.size; ) {
		if (tstamp_monotonic_ms() >= deadline) {
			rs = FILE_MORE;
			break;
		}
		fr = spool_frame(r.data + r.pos, r.size - r.pos, &used,
		    &payload, &plen, &version);
		if (fr == SPOOL_FRAME_END)
			break;
		if (fr == SPOOL_FRAME_DAMAGED) {
			log_msg(NULL, "%s: %zu damaged bytes at offset %zu "
			    "skipped", path, used, r.pos);
			r.damaged += (long)used;
		} else if ((rr = replay_one(&r, payload, plen, version, err,
		    sizeof err)) != RECORD_DONE &&
		    !replay_give_up(&r, rr, r.data + r.pos, used, err)) {
			rs = FILE_BLOCKED;
			break;
		}
		r.pos += used;
		r.tries = 0;
		r.first_fail = 0;
		replay_write_pos(&r);
	}
	if (rs == FILE_DONE) {
		log_msg(NULL, "replayed '%s': %ld requests, %ld events "
		    "(%ld new), %ld refused, %ld quarantined, %ld damaged "
		    "bytes", path, r.requests, r.events, r.stored, r.refused,
		    r.quarantined, r.damaged);
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
	buf_release(&r.body);
	buf_release(&r.upgraded);
	free(pospath);
	return rs;
}

enum replay_status
replay_step(struct spool *sp, struct store *st,
    const struct replay_options *opt)
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
	/*
	 * Rotate only with a database to replay into: nothing moves, and
	 * no record counts a failure, while it is down.
	 */
	if (store_ready(st) == -1)
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
		switch (replay_file(sp, st, opt, *f, deadline)) {
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
