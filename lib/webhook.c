/*
 * webhook.c - a POST: checks, events, one transaction, one answer; or
 * several POSTs, taken in together, in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "event.h"
#include "limits.h"
#include "log.h"
#include "payload.h"
#include "request.h"
#include "spool.h"
#include "store.h"
#include "webhook.h"

/*
 * Buffers kept from one request to the next, at most (request.c); the
 * POSTs after the first of a group keep WEBHOOK_KEEP_GROUPED.
 */
#define WEBHOOK_KEEP_MAX (1024 * 1024)
/*
 * A group takes no more POSTs once their bodies add up to this many
 * bytes: a group holds each body three times over (as read, as sent,
 * as arrays), and a worker should not hold a group of 16 MiB bodies.
 */
#define WEBHOOK_GROUP_BYTES (256 * 1024)

/* Seconds a provider is asked to wait before retrying after a 503. */
#define WEBHOOK_RETRY_AFTER "30"

/* A POST read and checked, its events waiting for webhook_commit(). */
struct webhook_post {
	struct request		*r;		/* borrowed until answered */
	struct store_request	 rq;
	size_t			 nevents;
	struct buf		 original;	/* the body before repairs */
	struct buf		 records;	/* the insert's arrays (event.h) */
};

struct webhook {
	const struct provider	*p;
	struct webhook_options	 opt;
	struct store		*store;
	struct spool		*spool;		/* NULL without --spool */
	struct events		*events;
	struct payload		 payload;
	struct webhook_post	 posts[WEBHOOK_GROUP_MAX];
	struct store_job	 jobs[WEBHOOK_GROUP_MAX];
	size_t			 nposts;	/* waiting in posts[] */
	size_t			 bytes;		/* their bodies */
};

struct webhook *
webhook_new(const struct provider *p, const struct webhook_options *opt)
{
	struct webhook *w = xmalloc(sizeof *w);

	memset(w, 0, sizeof *w);
	w->p = p;
	w->opt = *opt;
	w->store = store_new(p, opt->conninfo, opt->db_timeout_ms);
	if (opt->spool_dir)
		w->spool = spool_new(opt->spool_dir, p->name);
	if ((w->events = events_new()) == NULL) {
		log_msg(NULL, "unable to create a JSON tokener");
		webhook_free(w);
		return NULL;
	}
	return w;
}

void
webhook_warm(struct webhook *w)
{
	(void)store_connect(w->store);
}

void
webhook_free(struct webhook *w)
{
	size_t i;

	if (w == NULL)
		return;
	store_free(w->store);
	spool_free(w->spool);
	events_free(w->events);
	payload_release(&w->payload);
	for (i = 0; i < WEBHOOK_GROUP_MAX; i++) {
		buf_release(&w->posts[i].original);
		buf_release(&w->posts[i].records);
	}
	free(w);
}

/* Answers 400 (or 413) for a body that is not a batch of events. */
static void
webhook_refuse(struct webhook *w, struct webhook_post *post, int status,
    const char *why)
{
	log_msg(post->r->id, "refused with %d: %s", status, why);
	/* Keep the body as it came, for the provider's support desk. */
	if (status == 400)
		store_reject(w->store, &post->rq, why, post->original.data,
		    post->original.len);
	request_reply_error(post->r, status, NULL, "%s", why);
}

/*
 * The database could not take the events: keep them in the spool and
 * answer 200 once they are on disk, or 503 when that fails too.
 */
static void
webhook_spool(struct webhook *w, struct webhook_post *post, const char *why)
{
	struct request *r = post->r;
	size_t n = post->nevents;
	struct spool_record rec;
	struct timespec now;
	struct tm tm;
	char when[64], err[256], reply[128];

	if (w->spool) {
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(when + strlen(when), sizeof when - strlen(when),
		    ".%06ld+00", now.tv_nsec / 1000);
		memset(&rec, 0, sizeof rec);
		rec.request_id = post->rq.request_id;
		rec.remote_user = post->rq.remote_user;
		rec.received_at = when;
		rec.nevents = n;
		rec.records = post->records.data;
		rec.records_len = post->records.len;
		if (spool_append(w->spool, &rec, err, sizeof err) == 0) {
			log_msg(r->id, "%zu events spooled: %s", n, why);
			snprintf(reply, sizeof reply, "{\"received\":%zu,"
			    "\"stored\":0,\"duplicates\":0,\"spooled\":%zu}",
			    n, n);
			request_reply(r, 200, NULL, reply);
			return;
		}
		log_msg(r->id, "%zu events not stored: %s; not spooled: %s",
		    n, why, err);
	} else
		log_msg(r->id, "%zu events not stored: %s", n, why);
	request_reply_error(r, 503, "Retry-After: " WEBHOOK_RETRY_AFTER "\r\n",
	    "the database is unavailable, retry later");
}

/*
 * The database refused the events themselves (store.c sorts its errors):
 * 422 with its reason, the body as it came kept in webhook_reject.  When
 * it cannot be kept there either, the events go to the spool as in an
 * outage rather than nowhere (Aldeamo retries a 4xx only once); the
 * replayer then tries them again, and quarantines what it cannot store
 * (replay.h).
 */
static void
webhook_refused(struct webhook *w, struct webhook_post *post, const char *why)
{
	char msg[320];

	snprintf(msg, sizeof msg, "the database refused the events: %s", why);
	if (store_reject(w->store, &post->rq, msg, post->original.data,
	    post->original.len) == -1) {
		webhook_spool(w, post, msg);
		return;
	}
	log_msg(post->r->id, "refused with 422: %s", msg);
	request_reply_error(post->r, 422, NULL, "%s", msg);
}

/*
 * As request.c does with the body, posts[i] keeps its buffers for the
 * next POST up to a usual size; beyond it gives back what a huge
 * body took.  The first slot serves every POST, the others only
 * groups, so they keep less.
 */
static void
webhook_trim(struct webhook *w, size_t i)
{
	size_t keep = i == 0 ? WEBHOOK_KEEP_MAX : WEBHOOK_KEEP_GROUPED;

	buf_trim(&w->posts[i].original, keep);
	buf_trim(&w->posts[i].records, keep);
}

int
webhook_room(const struct webhook *w)
{
	return w->nposts < WEBHOOK_GROUP_MAX && w->bytes < WEBHOOK_GROUP_BYTES;
}

int
webhook_take(struct webhook *w, struct request *r)
{
	struct webhook_post *post = &w->posts[w->nposts];
	const char *method = request_param(r, "REQUEST_METHOD");
	const char *user = request_param(r, "REMOTE_USER");
	char err[256];

	if (method == NULL || strcmp(method, "POST") != 0) {
		request_reply_error(r, 405, "Allow: POST\r\n",
		    "method not allowed, use POST");
		return 0;
	}
	/*
	 * nginx or Apache checks the password and passes the user name.
	 * An empty one means the location was left without auth_basic:
	 * refuse, unless the operator said so on the command line.
	 */
	if ((user == NULL || *user == '\0') && !w->opt.allow_anonymous) {
		request_reply_error(r, 401,
		    "WWW-Authenticate: Basic realm=\"esphooks\"\r\n",
		    "authentication required");
		return 0;
	}
	post->r = r;
	post->rq.request_id = r->id;
	post->rq.remote_user = user && *user ? user : NULL;
	post->rq.received_at = NULL;

	switch (request_read_body(r, LIMIT_BODY)) {
	case REQUEST_READ_OK:
		break;
	case REQUEST_READ_TOO_LARGE:
		request_reply_error(r, 413, NULL,
		    "request body larger than %lu bytes",
		    (unsigned long)LIMIT_BODY);
		return 0;
	case REQUEST_READ_BAD:
		request_reply_error(r, 400, NULL,
		    "request body shorter than CONTENT_LENGTH");
		return 0;
	}

	buf_reset(&post->original);
	buf_add(&post->original, r->body.data, r->body.len);
	buf_reset(&post->records);
	if (payload_scan(&w->payload, r->body.data, r->body.len) == -1) {
		webhook_refuse(w, post, payload_http_status(w->payload.err),
		    w->payload.err_text);
		goto answered;
	}
	if ((post->nevents = w->payload.nspans) == 0) {
		request_reply(r, 200, NULL,
		    "{\"received\":0,\"stored\":0,\"duplicates\":0}");
		goto answered;
	}
	/* The body as sent: events that needed repairs keep their bytes. */
	if (events_build(w->events, &post->records, w->p, r->body.data,
	    post->original.data, &w->payload, err, sizeof err) == -1) {
		webhook_refuse(w, post, 400, err);
		goto answered;
	}
	w->nposts++;
	w->bytes += r->body.len;
	return 1;
answered:
	webhook_trim(w, w->nposts);
	return 0;
}

void
webhook_commit(struct webhook *w)
{
	struct webhook_post *post;
	struct store_job *job;
	char reply[128];
	size_t i;

	for (i = 0; i < w->nposts; i++) {
		job = &w->jobs[i];
		memset(job, 0, sizeof *job);
		job->rq = &w->posts[i].rq;
		job->nevents = w->posts[i].nevents;
		job->records = w->posts[i].records.data;
		job->records_len = w->posts[i].records.len;
	}
	store_group(w->store, w->jobs, w->nposts);
	for (i = 0; i < w->nposts; i++) {
		post = &w->posts[i];
		job = &w->jobs[i];
		switch (job->status) {
		case STORE_OK:
			snprintf(reply, sizeof reply, "{\"received\":%zu,"
			    "\"stored\":%ld,\"duplicates\":%ld}",
			    post->nevents, job->stored,
			    (long)post->nevents - job->stored);
			request_reply(post->r, 200, NULL, reply);
			break;
		case STORE_REFUSED:
			webhook_refused(w, post, job->err);
			break;
		case STORE_UNAVAILABLE:
			webhook_spool(w, post, job->err);
			break;
		}
		post->r = NULL;
		webhook_trim(w, i);
	}
	w->nposts = 0;
	w->bytes = 0;
}

void
webhook_handle(struct webhook *w, struct request *r)
{
	if (webhook_take(w, r))
		webhook_commit(w);
}
