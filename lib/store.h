/*
 * store.h - events into PostgreSQL.
 *
 * A store is one libpq connection with its prepared statements; callers
 * never see libpq.  Every POST is one transaction: one statement, or for
 * a large batch BEGIN, the request row, COPY and COMMIT; POSTs taken in
 * together may share one (store_group()).  Its request
 * row and all its events commit together or not at all, and the answer
 * waits for nothing but that commit.
 * Connection settings are libpq's own (PG* variables, a conninfo string,
 * a service file).
 */
#ifndef ESPHOOKS_STORE_H
#define ESPHOOKS_STORE_H

#include <stddef.h>

struct provider;
struct store;

enum store_status {
	STORE_OK = 0,
	STORE_UNAVAILABLE,	/* no connection, no answer in time, or an
				   error not about the data (store.c's
				   store_classify()): spool the events */
	STORE_REFUSED,		/* the server refused the data itself:
				   422, the body in webhook_reject */
};

/* What a request brings besides its events. */
struct store_request {
	const char	*request_id;	/* for the request table and logs */
	const char	*remote_user;	/* may be NULL */
	const char	*received_at;	/* NULL for now(); spool replay
					   passes the original time, and
					   the row is marked replayed */
};

/*
 * Longest wait for the database's answer to one POST's transaction, in
 * ms; past it the POST counts as failed (STORE_UNAVAILABLE) and the
 * connection is dropped.
 */
#define STORE_TIMEOUT_MS	5000
/*
 * Makes a store for provider p; conninfo may be NULL (PG* environment
 * only); timeout_ms is the wait above, STORE_TIMEOUT_MS when 0.  Does
 * not connect: store_connect() or the first insert does.  The caller
 * owns the result and frees it with store_free().
 */
struct store		*store_new(const struct provider *p,
			    const char *conninfo, int timeout_ms);
void			 store_free(struct store *);
/* The provider the store was made for. */
const struct provider	*store_provider(const struct store *);
/* Connects and prepares if not connected.  Returns 0 or -1 (logged). */
int			 store_connect(struct store *);
/*
 * The same, after dropping a connection the server has closed (a
 * restart, a crash), which store_connect() takes for good until a
 * statement fails on it; costs a system call.
 */
int			 store_ready(struct store *);
/*
 * Inserts nevents events given as the records events_build() wrote
 * (records_len bytes: NUL-terminated arrays).  On STORE_OK, *stored is
 * how many were new (the rest were duplicates); STORE_REFUSED also when
 * records are not the arrays this provider's insert takes.  A
 * connection found broken is reopened once before giving up.  err
 * receives a reason for logs on failure.
 */
enum store_status	 store_events(struct store *,
			    const struct store_request *, size_t nevents,
			    const char *records, size_t records_len,
			    long *stored, char *err, size_t errlen);
/* One POST of a group (store_group()). */
struct store_job {
	const struct store_request *rq;		/* borrowed */
	size_t			 nevents;
	const char		*records;	/* borrowed: as store_events() */
	size_t			 records_len;
	/* Set by store_group(): as store_events() returns and sets them. */
	enum store_status	 status;
	long			 stored;
	char			 err[256];
};
/*
 * Stores the POSTs that a program took in together, each with the
 * outcome store_events() would give it alone, but the small ones (the
 * batches that COPY takes go alone) in one statement: one round trip,
 * one transaction and one commit for them all, where each POST alone
 * costs the server nearly as much as all of them together.  Each
 * POST's request row and events still commit together or not at all;
 * when the server refuses the statement (an event a column refuses),
 * each POST is stored alone, so that only its own POST fails.  When
 * the server does not answer within the timeout, all are
 * STORE_UNAVAILABLE: none waits a second time.
 */
void			 store_group(struct store *, struct store_job *,
			    size_t njobs);
/*
 * Keeps a refused body in webhook_reject, for inspection and to be
 * sent again by hand (doc/operations.md).  Returns 0, or -1 when it
 * could not (logged): then the body is kept nowhere, and the caller
 * must not drop it.
 */
int			 store_reject(struct store *,
			    const struct store_request *, const char *error,
			    const char *body, size_t len);
/*
 * Whether records (len bytes) are the arrays this store's insert takes:
 * a spool record of another program or version is not.
 */
int			 store_fits(const struct store *, const char *records,
			    size_t len);

#endif
