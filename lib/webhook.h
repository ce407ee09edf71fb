/*
 * webhook.h - the answer to a webhook POST, end to end.
 *
 * webhook_handle() applies SPEC §3 in order: method, credentials, body
 * size, JSON, event count, then one database transaction, or the spool
 * when the database cannot take it (spool.h); the answer is written
 * only once the outcome is known.  A struct webhook holds what
 * lives from request to request in one process: the database
 * connection, the JSON tokener and the buffers, so a request allocates
 * next to nothing once the process is warm.
 */
#ifndef ESPHOOKS_WEBHOOK_H
#define ESPHOOKS_WEBHOOK_H

struct provider;
struct request;
struct webhook;

struct webhook_options {
	const char	*conninfo;		/* NULL: PG* environment */
	const char	*spool_dir;		/* NULL: no spool, 503 */
	int		 db_timeout_ms;		/* 0: STORE_TIMEOUT_MS */
	int		 allow_anonymous;	/* accept an empty REMOTE_USER */
};

/* The caller owns the result; free it with webhook_free(). */
struct webhook	*webhook_new(const struct provider *,
		    const struct webhook_options *);
/* Connects to the database now rather than at the first request. */
void		 webhook_warm(struct webhook *);
/* Reads the request, stores its events and writes the answer. */
void		 webhook_handle(struct webhook *, struct request *);

/*
 * The same for several requests at once (server.c takes in those that
 * wait together), their events stored in one transaction.
 * webhook_take() reads and checks a request: it returns 0 when it has
 * answered it already (an error, no events), or 1 when the request
 * waits for webhook_commit(), which stores the events of all waiting
 * requests (store_group()) and answers each.  A waiting request is
 * borrowed: it must live, unanswered, until webhook_commit().  Call
 * webhook_take() only while webhook_room() says there is room: at
 * most WEBHOOK_GROUP_MAX requests, and a bound on their bytes.
 */
#define WEBHOOK_GROUP_MAX	16
/*
 * What the buffers of the requests after the first of a group keep
 * between groups, here and in server.c (request bodies): those slots
 * serve only groups, rarer than lone POSTs, so they keep less.
 */
#define WEBHOOK_KEEP_GROUPED	(64 * 1024)
int		 webhook_room(const struct webhook *);
int		 webhook_take(struct webhook *, struct request *);
void		 webhook_commit(struct webhook *);
void		 webhook_free(struct webhook *);

#endif
