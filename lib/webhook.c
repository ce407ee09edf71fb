/*
 * webhook.c - one POST: checks, events, one transaction, one answer.
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

/* Buffers kept from one request to the next, at most (request.c). */
#define WEBHOOK_KEEP_MAX (1024 * 1024)

/* Seconds a provider is asked to wait before retrying after a 503. */
#define WEBHOOK_RETRY_AFTER "30"

struct webhook {
	const struct provider	*p;
	struct webhook_options	 opt;
	struct store		*store;
	struct spool		*spool;		/* NULL without --spool */
	struct events		*events;
	struct payload		 payload;
	struct buf		 original;	/* the body before repairs */
	struct buf		 records;	/* the insert's arrays (event.h) */
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
	if (w == NULL)
		return;
	store_free(w->store);
	spool_free(w->spool);
	events_free(w->events);
	payload_release(&w->payload);
	buf_release(&w->original);
	buf_release(&w->records);
	free(w);
}

/* Answers 400 (or 413) for a body that is not a batch of events. */
static void
webhook_refuse(struct webhook *w, struct request *r,
    const struct store_request *rq, int status, const char *why)
{
	log_msg(r->id, "refused with %d: %s", status, why);
	/* Keep the body as it came, for the provider's support desk. */
	if (status == 400)
		store_reject(w->store, rq, why, w->original.data,
		    w->original.len);
	request_reply_error(r, status, NULL, "%s", why);
}

/*
 * The database could not take the events: keep them in the spool and
 * answer 200 once they are on disk, or 503 when that fails too.
 */
static void
webhook_spool(struct webhook *w, struct request *r,
    const struct store_request *rq, size_t n, const char *why)
{
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
		rec.request_id = rq->request_id;
		rec.remote_user = rq->remote_user;
		rec.received_at = when;
		rec.nevents = n;
		rec.records = w->records.data;
		rec.records_len = w->records.len;
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

void
webhook_handle(struct webhook *w, struct request *r)
{
	const char *method = request_param(r, "REQUEST_METHOD");
	const char *user = request_param(r, "REMOTE_USER");
	struct store_request rq = { r->id, NULL, NULL };
	char err[256], reply[128];
	long stored = 0;
	size_t n;

	if (method == NULL || strcmp(method, "POST") != 0) {
		request_reply_error(r, 405, "Allow: POST\r\n",
		    "method not allowed, use POST");
		return;
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
		return;
	}
	rq.remote_user = user && *user ? user : NULL;

	switch (request_read_body(r, LIMIT_BODY)) {
	case REQUEST_READ_OK:
		break;
	case REQUEST_READ_TOO_LARGE:
		request_reply_error(r, 413, NULL,
		    "request body larger than %lu bytes",
		    (unsigned long)LIMIT_BODY);
		return;
	case REQUEST_READ_BAD:
		request_reply_error(r, 400, NULL,
		    "request body shorter than CONTENT_LENGTH");
		return;
	}

	/* As request.c does with the body: keep usual sizes only. */
	if (w->original.cap > WEBHOOK_KEEP_MAX)
		buf_release(&w->original);
	if (w->records.cap > WEBHOOK_KEEP_MAX)
		buf_release(&w->records);
	buf_reset(&w->original);
	buf_add(&w->original, r->body.data, r->body.len);
	if (payload_scan(&w->payload, r->body.data, r->body.len) == -1) {
		webhook_refuse(w, r, &rq, payload_http_status(w->payload.err),
		    w->payload.err_text);
		return;
	}
	n = w->payload.nspans;
	if (n == 0) {
		request_reply(r, 200, NULL,
		    "{\"received\":0,\"stored\":0,\"duplicates\":0}");
		return;
	}
	buf_reset(&w->records);
	if (events_build(w->events, &w->records, w->p, r->body.data,
	    &w->payload, err, sizeof err) == -1) {
		webhook_refuse(w, r, &rq, 400, err);
		return;
	}

	switch (store_events(w->store, &rq, n, w->records.data,
	    w->records.len, &stored, err, sizeof err)) {
	case STORE_OK:
		snprintf(reply, sizeof reply,
		    "{\"received\":%zu,\"stored\":%ld,\"duplicates\":%ld}",
		    n, stored, (long)n - stored);
		request_reply(r, 200, NULL, reply);
		return;
	case STORE_REFUSED:
		webhook_refuse(w, r, &rq, 400, "the database refused an event");
		log_msg(r->id, "database refused the batch: %s", err);
		return;
	case STORE_UNAVAILABLE:
		webhook_spool(w, r, &rq, n, err);
		return;
	}
}
