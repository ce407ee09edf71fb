/*
 * store.c - events into PostgreSQL: one prepared statement a POST (or
 * a group of POSTs), or for a large batch COPY in a transaction.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "buf.h"
#include "event.h"
#include "log.h"
#include "pgarray.h"
#include "pgcopy.h"
#include "store.h"
#include "tstamp.h"

/* $1..$5 of the insert: the request's facts; the arrays follow. */
#define STORE_REQUEST_PARAMS	5

/* Used when neither conninfo nor PGCONNECT_TIMEOUT says otherwise. */
#define STORE_CONNECT_TIMEOUT "5"
/*
 * After a failed connection, the next attempt waits this long: during
 * an outage every request would otherwise pay for a connection attempt
 * (up to STORE_CONNECT_TIMEOUT against a host that does not answer)
 * before going to the spool, and log it.
 */
#define STORE_RETRY_MS		1000
/*
 * A statement given up at the timeout is left on the server: the
 * connection is closed, but a backend waiting for a lock does not look
 * at its client until the lock goes, and holds its connection slot until
 * then.  Behind a lock that lasts (a migration), every POST's timeout
 * would leave one more, until PostgreSQL refuses connections to all its
 * users.  The server checks the client this often (milliseconds,
 * client_connection_check_interval, PostgreSQL 14 and later) and ends
 * the backend of a closed connection.
 */
#define STORE_CHECK_CLIENT_MS	"1000"
/*
 * Batches of at least this many events are tried with COPY first (see
 * store_copy()).  Its four more round trips cost more than it saves
 * below about 32 events; from 64 on it takes 5-15 % more events a
 * second, and a quarter less of the server's CPU per event at 1000
 * (doc/design.md, Choices, and why).
 */
#define STORE_COPY_MIN		64
/*
 * COPY data goes in messages of at most this many bytes: the server
 * holds one message at a time, and a small one reuses its memory where
 * a batch-sized one is allocated and faulted in anew.
 */
#define STORE_COPY_CHUNK	65536
/* The group insert's parameters are kept for the next up to this size. */
#define STORE_GROUP_KEEP	(1024 * 1024)

struct store {
	const struct provider	*p;
	char			*conninfo;	/* owned; may be NULL */
	char			*insert_sql;	/* owned */
	char			*one_sql;	/* owned: for one event */
	char			*copy_sql;	/* owned */
	char			*group_sql;	/* owned */
	struct buf		 group;		/* owned: the group insert's
						   parameters, kept */
	size_t			*offs;		/* owned: where each starts in
						   group (it moves as it
						   grows) */
	struct buf		 rows;		/* owned: COPY data, kept for
						   the next batch */
	const char		**params;	/* owned array, borrowed strings:
						   the insert's parameters */
	size_t			*lens;		/* owned: the arrays' lengths,
						   params[STORE_REQUEST_PARAMS]
						   on */
	int			 nparams;
	PGconn			*conn;		/* NULL when not connected */
	int			 timeout_ms;	/* for each POST's transaction */
	int64_t			 retry_at;	/* no connection before this
						   tstamp_monotonic_ms() */
};

static const char reject_sql[] =
    "INSERT INTO webhook_reject "
    "(provider, request_id, remote_user, error, body) "
    "VALUES ($1, $2, $3, $4, $5)";

/* The request row from $1..$5; a RETURNING clause follows. */
#define STORE_REQUEST_SQL \
	"INSERT INTO webhook_request" \
	" (provider, request_id, remote_user, received_at, events," \
	" replayed_at)" \
	" VALUES ($1, $2, $3, coalesce($4::timestamptz, now()), $5::integer," \
	" CASE WHEN $4::timestamptz IS NOT NULL THEN now() END)"
/*
 * For COPY, the time as text that reads back the same whatever the
 * server's DateStyle and time zone: ISO 8601 in UTC, to the microsecond.
 */
#define STORE_REQUEST_COPY_SQL STORE_REQUEST_SQL \
	" RETURNING id, to_char(received_at AT TIME ZONE 'UTC'," \
	" 'YYYY-MM-DD HH24:MI:SS.US') || '+00'"

/*
 * The event columns after request and received_at, in array order,
 * each name after prefix ("" or a table alias and its dot).
 */
static void
store_columns(struct buf *cols, const struct provider *p, const char *prefix)
{
	size_t i;

	buf_addf(cols, "%sprovider_event, %sevent, %shard_bounce", prefix,
	    prefix, prefix);
	for (i = 0; i < p->ncolumns; i++)
		buf_addf(cols, ", %s%s", prefix, p->columns[i].name);
	buf_addf(cols, ", %sraw, %soriginal", prefix, prefix);
}

/*
 * The typed array parameters of the events, numbered from param; with
 * first, each array's first element instead.
 */
static void
store_arrays(struct buf *args, const struct provider *p, int param,
    int first)
{
	const char *open = first ? "(" : "", *close = first ? ")[1]" : "";
	size_t i;

	buf_addf(args, "%s$%d::text[]%s, %s$%d::text[]%s, %s$%d::boolean[]%s",
	    open, param, close, open, param + 1, close, open, param + 2,
	    close);
	param += 3;
	for (i = 0; i < p->ncolumns; i++)
		buf_addf(args, ", %s$%d::%s[]%s", open, param++,
		    p->columns[i].conv->sqltype, close);
	buf_addf(args, ", %s$%d::jsonb[]%s, %s$%d::bytea[]%s", open, param,
	    close, open, param + 1, close);
}

/*
 * The conflict target of every insert: the unique index of sql/010, a
 * digest of the raw event (computed by the table itself) and, for an
 * event that had to be repaired, a digest of its bytes as sent, so that
 * events that read the same only once repaired stay apart.  Written as
 * the index is, for the server to infer it.
 */
#define STORE_CONFLICT	" ON CONFLICT (dedup_key, md5(original)) DO NOTHING"

/*
 * The insert for provider p: the request row, then the events zipped
 * back into rows by unnest() from the typed arrays that event.c wrote
 * (one parameter per column: the server parses each array in one pass,
 * where json_to_recordset() built a hash table per record), skipping
 * those whose key (STORE_CONFLICT) is already there.  unnest() yields
 * the rows in the order of the batch, so the id order is the order the
 * provider sent.
 * Column names come from the compiled-in provider table, never from
 * input.
 *
 * With one, the same for a POST of one event, which takes each array's
 * first element instead of unnest(): the same parameters and answer.
 * unnest() of n arrays is n set-returning calls, each materialized in
 * a tuplestore of its own that allocates 16 KiB; with glibc's default
 * trim threshold the server gives that memory back and faults it in
 * again at every statement, and a POST of one event cost it twice the
 * CPU (doc/design.md, Choices, and why).
 */
static char *
store_insert_sql(const struct provider *p, int one)
{
	struct buf sql = BUF_INIT, args = BUF_INIT, cols = BUF_INIT;

	store_columns(&cols, p, "");
	store_arrays(&args, p, STORE_REQUEST_PARAMS + 1, one);
	buf_addf(&sql,
	    "WITH req AS (" STORE_REQUEST_SQL " RETURNING id, received_at),"
	    " ins AS ("
	    " INSERT INTO %s (request, received_at, %s)", p->name, cols.data);
	if (one)
		buf_addf(&sql, " SELECT req.id, req.received_at, %s FROM req",
		    args.data);
	else
		buf_addf(&sql, " SELECT req.id, req.received_at, r.*"
		    " FROM req, unnest(%s) AS r(%s)", args.data, cols.data);
	buf_addf(&sql, STORE_CONFLICT
	    " RETURNING 1)"
	    " SELECT count(*) FROM ins");
	buf_release(&args);
	buf_release(&cols);
	return buf_detach(&sql, NULL);
}

/*
 * The insert for several POSTs at once (store_group()): a request row
 * for each from $2..$4 (their request ids, users and event counts),
 * then the events of them all, their arrays those of the POSTs one
 * after the other and $5 saying which POST (1, 2, ...) each is from.
 * An event finds its request row by its POST's request id, which
 * store_group() makes sure differ; a subquery, not a join, so the
 * events go in the order they came.  The request rows' time is now(),
 * the transaction's, as for the events.  Returns, for each POST in
 * order, how many of its events were new.  As many parameters as the
 * insert for one POST.
 */
static char *
store_group_sql(const struct provider *p)
{
	struct buf sql = BUF_INIT, args = BUF_INIT, cols = BUF_INIT,
	    ecols = BUF_INIT;

	store_columns(&cols, p, "");
	store_columns(&ecols, p, "e.");
	store_arrays(&args, p, STORE_REQUEST_PARAMS + 1, 0);
	buf_addf(&sql,
	    "WITH req AS ("
	    " INSERT INTO webhook_request"
	    " (provider, request_id, remote_user, events)"
	    " SELECT $1, q.request_id, q.remote_user, q.events"
	    " FROM unnest($2::text[], $3::text[], $4::integer[])"
	    " AS q(request_id, remote_user, events)"
	    " RETURNING id, request_id),"
	    " ins AS ("
	    " INSERT INTO %s (request, received_at, %s)"
	    " SELECT (SELECT req.id FROM req"
	    " WHERE req.request_id = ($2::text[])[e.post]), now(), %s"
	    " FROM unnest($5::integer[], %s) AS e(post, %s)"
	    STORE_CONFLICT
	    " RETURNING request)"
	    " SELECT count(ins.request)"
	    " FROM unnest($2::text[]) WITH ORDINALITY AS q(request_id, k)"
	    " JOIN req ON req.request_id = q.request_id"
	    " LEFT JOIN ins ON ins.request = req.id"
	    " GROUP BY q.k ORDER BY q.k",
	    p->name, cols.data, ecols.data, args.data, cols.data);
	buf_release(&args);
	buf_release(&cols);
	buf_release(&ecols);
	return buf_detach(&sql, NULL);
}

/* The COPY for provider p: the same columns as the insert. */
static char *
store_copy_sql(const struct provider *p)
{
	struct buf sql = BUF_INIT, cols = BUF_INIT;

	store_columns(&cols, p, "");
	buf_addf(&sql, "COPY %s (request, received_at, %s) FROM STDIN",
	    p->name, cols.data);
	buf_release(&cols);
	return buf_detach(&sql, NULL);
}

struct store *
store_new(const struct provider *p, const char *conninfo, int timeout_ms)
{
	struct store *s = xmalloc(sizeof *s);

	memset(s, 0, sizeof *s);	/* retry_at zero: connect at once */
	s->p = p;
	s->conninfo = conninfo ? xstrdup(conninfo) : NULL;
	s->insert_sql = store_insert_sql(p, 0);
	s->one_sql = store_insert_sql(p, 1);
	s->copy_sql = store_copy_sql(p);
	s->group_sql = store_group_sql(p);
	s->nparams = STORE_REQUEST_PARAMS + (int)events_nparams(p);
	s->params = xmalloc((size_t)s->nparams * sizeof *s->params);
	s->lens = xmalloc((size_t)s->nparams * sizeof *s->lens);
	s->offs = xmalloc((size_t)s->nparams * sizeof *s->offs);
	s->timeout_ms = timeout_ms > 0 ? timeout_ms : STORE_TIMEOUT_MS;
	return s;
}

const struct provider *
store_provider(const struct store *s)
{
	return s->p;
}

static void
store_disconnect(struct store *s)
{
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	store_disconnect(s);
	free(s->conninfo);
	free(s->insert_sql);
	free(s->one_sql);
	free(s->copy_sql);
	free(s->group_sql);
	buf_release(&s->group);
	buf_release(&s->rows);
	free(s->params);
	free(s->lens);
	free(s->offs);
	free(s);
}

/* What store_finish() and store_run() return besides 0. */
#define STORE_BROKEN	-1	/* the connection failed */
#define STORE_TIMEOUT	-2	/* no answer within s->timeout_ms */
/*
 * What store_copy() and store_together() return when the server did
 * not take the data: the transaction is rolled back, the connection
 * stays usable.
 */
#define STORE_ROLLED_BACK 1

/*
 * Waits, until deadline (tstamp_monotonic_ms()), for the statement just
 * sent and leaves its last result in *resp, or the one that asks for
 * COPY data.  Returns 0, or STORE_BROKEN or STORE_TIMEOUT; then the
 * connection is closed and err says why.
 * A statement abandoned that way may still commit on the server: its
 * events are then duplicates of the spooled ones, which replay skips.
 */
static int
store_finish(struct store *s, int64_t deadline, PGresult **resp, char *err,
    size_t errlen)
{
	int64_t ms;
	struct pollfd pfd;
	PGresult *next;
	int flush, rc = STORE_BROKEN;

	*resp = NULL;
	pfd.fd = PQsocket(s->conn);
	for (;;) {
		if ((flush = PQflush(s->conn)) == -1)
			goto broken;
		if (flush == 0 && !PQisBusy(s->conn)) {
			if ((next = PQgetResult(s->conn)) == NULL)
				return 0;
			PQclear(*resp);
			*resp = next;
			/* No more results until the data is sent. */
			if (PQresultStatus(next) == PGRES_COPY_IN)
				return 0;
			continue;
		}
		if ((ms = deadline - tstamp_monotonic_ms()) <= 0) {
			snprintf(err, errlen, "no answer from PostgreSQL "
			    "within %d ms", s->timeout_ms);
			rc = STORE_TIMEOUT;
			goto fail;
		}
		pfd.events = POLLIN | (flush ? POLLOUT : 0);
		if (poll(&pfd, 1, (int)ms) == -1 && errno != EINTR)
			goto broken;
		if (PQconsumeInput(s->conn) == 0)
			goto broken;
	}
broken:
	snprintf(err, errlen, "%s", PQerrorMessage(s->conn));
fail:
	PQclear(*resp);
	*resp = NULL;
	store_disconnect(s);
	return rc;
}

/*
 * Follows a PQsend*() call whose result is sent: waits as
 * store_finish() does when it is 1; when it is 0 (libpq could not send)
 * closes the connection and returns STORE_BROKEN, err saying why.
 */
static int
store_sent(struct store *s, int sent, int64_t deadline, PGresult **resp,
    char *err, size_t errlen)
{
	*resp = NULL;
	if (!sent) {
		snprintf(err, errlen, "%s", PQerrorMessage(s->conn));
		store_disconnect(s);
		return STORE_BROKEN;
	}
	return store_finish(s, deadline, resp, err, errlen);
}

/*
 * Runs one statement of the session's setup.  Returns 1 when the
 * server took it, 0 when it refused it (why in err), or -1 when it did
 * not answer (the connection is closed).
 */
static int
store_setup(struct store *s, const char *sql, char *err, size_t errlen)
{
	PGresult *res;
	int rc;

	rc = store_sent(s, PQsendQuery(s->conn, sql),
	    tstamp_monotonic_ms() + s->timeout_ms, &res, err, errlen);
	if (rc != 0)
		return -1;
	rc = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!rc)
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
	PQclear(res);
	return rc;
}

/*
 * Sets up a new session.  A 200 promises a commit on disk, which
 * synchronous_commit = off (from ALTER ROLE, ALTER DATABASE or the
 * server's file, all of which a session's own setting overrides) would
 * turn into a commit in memory: the session puts it back on.  Every
 * other value (local, remote_write, on, remote_apply) flushes the
 * commit to the local disk before it returns and is left as the DBA
 * set it.  Then STORE_CHECK_CLIENT_MS, which a server older than 14
 * does not know: that is logged and the session goes on without it.
 * Two statements, as a refusal of the second must not undo the first.
 * Returns 0, or -1 when the server did not answer or refused the first.
 */
static int
store_session(struct store *s)
{
	char err[256];
	int rc;

	rc = store_setup(s, "SELECT set_config('synchronous_commit', 'on',"
	    " false) WHERE current_setting('synchronous_commit') = 'off'",
	    err, sizeof err);
	if (rc == 1)
		rc = store_setup(s, "SET client_connection_check_interval = "
		    STORE_CHECK_CLIENT_MS, err, sizeof err);
	else if (rc == 0) {
		log_msg(NULL, "unable to make commits durable: %s", err);
		return -1;
	}
	if (rc == 0)
		log_msg(NULL, "statements given up at the timeout will wait "
		    "on the server: %s", err);
	else if (rc == -1)
		log_msg(NULL, "unable to set up the session: %s", err);
	return rc == -1 ? -1 : 0;
}

static int
store_prepare(struct store *s, const char *name, const char *sql)
{
	PGresult *res;
	char err[256];
	int rc;

	rc = store_sent(s, PQsendPrepare(s->conn, name, sql, 0, NULL),
	    tstamp_monotonic_ms() + s->timeout_ms, &res, err, sizeof err);
	if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
		snprintf(err, sizeof err, "%s", PQresultErrorMessage(res));
		rc = -1;
	}
	if (rc != 0)
		log_msg(NULL, "unable to prepare '%s': %s", name, err);
	PQclear(res);
	return rc == 0 ? 0 : -1;
}

int
store_connect(struct store *s)
{
	const char *keys[6], *vals[6];
	char appname[64];
	int n = 0;

	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	store_disconnect(s);
	if (tstamp_monotonic_ms() < s->retry_at)
		return -1;	/* failed a moment ago: do not hammer */
	snprintf(appname, sizeof appname, "esphooks-%s", s->p->name);
	/* Defaults first: the conninfo, expanded last, overrides them. */
	if (getenv("PGCONNECT_TIMEOUT") == NULL) {
		keys[n] = "connect_timeout";
		vals[n++] = STORE_CONNECT_TIMEOUT;
	}
	if (getenv("PGAPPNAME") == NULL) {
		keys[n] = "application_name";
		vals[n++] = appname;
	}
	/* Records are UTF-8 whatever the database's client default is. */
	keys[n] = "client_encoding";
	vals[n++] = "UTF8";
	if (s->conninfo) {
		keys[n] = "dbname";
		vals[n++] = s->conninfo;
	}
	keys[n] = vals[n] = NULL;
	s->conn = PQconnectdbParams(keys, vals, 1);
	if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK) {
		/* libpq's message names host and reason, never a password. */
		log_msg(NULL, "unable to connect to PostgreSQL: %s",
		    s->conn ? PQerrorMessage(s->conn) : "out of memory");
		goto fail;
	}
	/* Sends never block: a hung server costs s->timeout_ms, no more. */
	if (PQsetnonblocking(s->conn, 1) == -1 || store_session(s) == -1 ||
	    store_prepare(s, "insert_events", s->insert_sql) == -1 ||
	    store_prepare(s, "insert_one", s->one_sql) == -1 ||
	    store_prepare(s, "insert_group", s->group_sql) == -1 ||
	    store_prepare(s, "insert_reject", reject_sql) == -1)
		goto fail;
	return 0;
fail:
	store_disconnect(s);
	s->retry_at = tstamp_monotonic_ms() + STORE_RETRY_MS;
	return -1;
}

int
store_ready(struct store *s)
{
	/*
	 * A server that shut down or crashed has closed the socket, which
	 * libpq notices only when it reads: until then PQstatus() says
	 * CONNECTION_OK.  PQconsumeInput() reads what is there without
	 * waiting (the socket does not block).
	 */
	if (s->conn && (PQconsumeInput(s->conn) == 0 ||
	    PQstatus(s->conn) != CONNECTION_OK))
		store_disconnect(s);
	return store_connect(s);
}

/*
 * SQLSTATE classes that say the server refused the data itself
 * (PostgreSQL, Appendix A): 21 cardinality, 22 a value, 23 a
 * constraint, 2F, 38 and 39 a function the insert ran (a trigger's),
 * 44 a view's check option, 54 a limit (a value too large to index),
 * P0 a PL/pgSQL RAISE (a validation trigger's).  The same POST would be
 * refused again: it is answered 422 and kept in webhook_reject.
 */
static const char *const store_refusals[] = {
	"21", "22", "23", "2F", "38", "39", "44", "54", "P0", NULL
};

/*
 * Sorts a failed statement, in the one place that does
 * (doc/operations.md): the data refused (store_refusals) is STORE_REFUSED;
 * anything else is STORE_UNAVAILABLE, to be spooled.  That covers the
 * server being unavailable (08 connection, 53 resources, 57 shutdown
 * and cancel, 40 a deadlock, 55 a lock, 25006 a standby), and also a
 * server that is there but set up wrong for us (42 a missing grant or
 * table, XX an internal error): nothing about the events, so they are
 * kept in the spool until it is fixed, and the replayer quarantines a
 * record it cannot store after REPLAY_TRIES tries (replay.h).  A
 * statement that vanished (26000, e.g. a pooler's DISCARD ALL) also
 * sets *reprepare: prepare again and retry.
 */
static enum store_status
store_classify(PGresult *res, int *reprepare)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *const *c;

	*reprepare = state && strcmp(state, "26000") == 0;
	for (c = store_refusals; state && *c; c++)
		if (strncmp(state, *c, 2) == 0)
			return STORE_REFUSED;
	return STORE_UNAVAILABLE;
}

/*
 * What a refusal says to the provider: the server's primary message and
 * its SQLSTATE, never its DETAIL (which can quote other rows) or the
 * query.
 */
static void
store_refusal(PGresult *res, char *err, size_t errlen)
{
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	size_t len, i, need;
	unsigned char c;

	snprintf(err, errlen, "%s (SQLSTATE %s)", msg ? msg : "refused",
	    state ? state : "?");
	/*
	 * It goes into a JSON answer, which must be UTF-8: a long message
	 * cut short must not end inside a character.  Find the last lead
	 * byte and drop its character if it is incomplete.
	 */
	len = strlen(err);
	for (i = len; i > 0 && len - i < 4; i--) {
		c = (unsigned char)err[i - 1];
		if ((c & 0xc0) == 0x80)
			continue;
		need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		if (len - (i - 1) < need)
			err[i - 1] = '\0';
		break;
	}
}

/*
 * Runs a prepared statement; *resp holds its result on 0.  Otherwise
 * (STORE_BROKEN, STORE_TIMEOUT) the connection is gone and err says why.
 */
static int
store_run(struct store *s, const char *name, int n, const char *const *values,
    const int *lengths, const int *formats, PGresult **resp, char *err,
    size_t errlen)
{
	return store_sent(s, PQsendQueryPrepared(s->conn, name, n, values,
	    lengths, formats, 0), tstamp_monotonic_ms() + s->timeout_ms, resp,
	    err, errlen);
}

/*
 * One step of store_copy(): sends sql (with n text parameters, or none)
 * and waits until deadline.  Returns 0 with the result in *resp (the
 * caller clears it) when its status is want; STORE_ROLLED_BACK when the
 * server answered otherwise (err says why; store_copy() rolls back);
 * STORE_BROKEN or STORE_TIMEOUT when the connection is gone.
 */
static int
store_step(struct store *s, int64_t deadline, const char *sql, int n,
    const char *const *values, ExecStatusType want, PGresult **resp,
    char *err, size_t errlen)
{
	int rc;

	if ((rc = store_sent(s, n ? PQsendQueryParams(s->conn, sql, n, NULL,
	    values, NULL, NULL, 0) : PQsendQuery(s->conn, sql), deadline, resp,
	    err, errlen)) != 0)
		return rc;
	if (PQresultStatus(*resp) == want)
		return 0;
	snprintf(err, errlen, "%s", PQresultErrorMessage(*resp));
	PQclear(*resp);
	*resp = NULL;
	return STORE_ROLLED_BACK;
}

/*
 * Stores a batch by COPY, which takes rows at about three quarters of
 * the server's CPU that the insert statement needs: BEGIN, the request row,
 * COPY of the events, COMMIT, all within one s->timeout_ms.  COPY has
 * no ON CONFLICT: a duplicate (a provider's retry, a replayed spool
 * record) or a value a column refuses fails it, the transaction is
 * rolled back, and the caller runs the insert statement, which sorts
 * duplicates and errors out as for any POST.  params are the insert's,
 * split by store_split().  Returns 0 (all nevents stored),
 * STORE_ROLLED_BACK, or STORE_BROKEN or STORE_TIMEOUT (the connection
 * is closed; a COMMIT abandoned that way may still have happened, as
 * in store_finish()).
 */
static int
store_copy(struct store *s, size_t nevents, char *err, size_t errlen)
{
	int64_t deadline = tstamp_monotonic_ms() + s->timeout_ms;
	struct buf prefix = BUF_INIT;
	PGresult *res = NULL;
	size_t off, chunk = 0;
	int rc;

	if ((rc = store_step(s, deadline, "BEGIN", 0, NULL, PGRES_COMMAND_OK,
	    &res, err, errlen)) != 0)
		goto done;
	PQclear(res);
	if ((rc = store_step(s, deadline, STORE_REQUEST_COPY_SQL,
	    STORE_REQUEST_PARAMS, s->params, PGRES_TUPLES_OK, &res, err,
	    errlen)) != 0)
		goto done;
	/* Every row starts with the request's id and time. */
	pgcopy_add_field(&prefix, PQgetvalue(res, 0, 0),
	    (size_t)PQgetlength(res, 0, 0));
	buf_addch(&prefix, '\t');
	pgcopy_add_field(&prefix, PQgetvalue(res, 0, 1),
	    (size_t)PQgetlength(res, 0, 1));
	buf_addch(&prefix, '\t');
	PQclear(res);
	res = NULL;
	buf_reset(&s->rows);
	if (pgcopy_rows(&s->rows, prefix.data, s->params +
	    STORE_REQUEST_PARAMS, s->lens + STORE_REQUEST_PARAMS,
	    (size_t)(s->nparams - STORE_REQUEST_PARAMS), nevents) == -1) {
		snprintf(err, errlen, "the arrays do not hold %zu events",
		    nevents);
		rc = STORE_ROLLED_BACK;
		goto done;
	}
	if ((rc = store_step(s, deadline, s->copy_sql, 0, NULL, PGRES_COPY_IN,
	    &res, err, errlen)) != 0)
		goto done;
	PQclear(res);
	res = NULL;
	/* Queued whole (libpq grows its buffer); store_finish() flushes. */
	for (off = 0; off < s->rows.len; off += chunk) {
		chunk = s->rows.len - off < STORE_COPY_CHUNK ?
		    s->rows.len - off : STORE_COPY_CHUNK;
		if (PQputCopyData(s->conn, s->rows.data + off, (int)chunk) != 1)
			break;
	}
	if (off < s->rows.len || PQputCopyEnd(s->conn, NULL) != 1) {
		snprintf(err, errlen, "%s", PQerrorMessage(s->conn));
		store_disconnect(s);
		rc = STORE_BROKEN;
		goto done;
	}
	if ((rc = store_finish(s, deadline, &res, err, errlen)) != 0)
		goto done;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
		rc = STORE_ROLLED_BACK;
		goto done;
	}
	PQclear(res);
	rc = store_step(s, deadline, "COMMIT", 0, NULL, PGRES_COMMAND_OK, &res,
	    err, errlen);
done:
	PQclear(res);
	res = NULL;
	/* Refused: leave no transaction open for the insert statement. */
	if (rc == STORE_ROLLED_BACK &&
	    PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
		char why[256];

		rc = store_step(s, deadline, "ROLLBACK", 0, NULL,
		    PGRES_COMMAND_OK, &res, why, sizeof why);
		PQclear(res);
		if (rc == 0)
			rc = STORE_ROLLED_BACK;
		else {
			/* A server that cannot roll back is not one to use. */
			snprintf(err, errlen, "%s", why);
			store_disconnect(s);
			if (rc == STORE_ROLLED_BACK)
				rc = STORE_BROKEN;
		}
	}
	buf_release(&prefix);
	return rc;
}

/*
 * Walks the NUL-terminated arrays of records (len bytes), pointing
 * params[k] and lens[k] at each when params is not NULL.  Returns 0, or
 * -1 when records does not hold exactly as many as the insert takes.
 */
static int
store_walk(const struct store *s, const char *records, size_t len,
    const char **params, size_t *lens)
{
	const char *p = records, *end = records + len, *nul;
	int k;

	for (k = STORE_REQUEST_PARAMS; k < s->nparams; k++) {
		if ((nul = memchr(p, '\0', (size_t)(end - p))) == NULL)
			return -1;
		if (params) {
			params[k] = p;
			lens[k] = (size_t)(nul - p);
		}
		p = nul + 1;
	}
	return p == end ? 0 : -1;
}

/*
 * Points the array parameters at the NUL-terminated arrays of records.
 * Returns 0, or -1 when records does not hold exactly as many as the
 * insert takes (a spool record of another program, say).
 */
static int
store_split(struct store *s, const char *records, size_t len)
{
	return store_walk(s, records, len, s->params, s->lens);
}

/*
 * Points s->params at one POST's insert parameters: its facts, its
 * event count written in count (24 bytes), its arrays.  Returns 0, or
 * -1 as store_split() does.
 */
static int
store_params(struct store *s, const struct store_request *rq,
    size_t nevents, const char *records, size_t records_len, char *count)
{
	if (store_split(s, records, records_len) == -1)
		return -1;
	snprintf(count, 24, "%zu", nevents);
	s->params[0] = s->p->name;
	s->params[1] = rq->request_id;
	s->params[2] = rq->remote_user;
	s->params[3] = rq->received_at;
	s->params[4] = count;
	return 0;
}

enum store_status
store_events(struct store *s, const struct store_request *rq,
    size_t nevents, const char *records, size_t records_len, long *stored,
    char *err, size_t errlen)
{
	enum store_status st = STORE_UNAVAILABLE;
	const char **params = s->params;
	char count[24];
	PGresult *res = NULL;
	int attempt, reprepare, rc;

	if (store_params(s, rq, nevents, records, records_len, count) == -1) {
		snprintf(err, errlen, "the records are not %d arrays for %s",
		    s->nparams - STORE_REQUEST_PARAMS, s->p->name);
		return STORE_REFUSED;
	}
	snprintf(err, errlen, "no connection to PostgreSQL");
	/*
	 * Two attempts: the connection may have died while idle (the
	 * server restarted), which the first statement discovers.  A
	 * server too slow to answer gets no second chance: the caller
	 * spools.
	 */
	for (attempt = 0; attempt < 2; attempt++) {
		if (store_connect(s) == -1)
			break;
		rc = nevents >= STORE_COPY_MIN ?
		    store_copy(s, nevents, err, errlen) : STORE_ROLLED_BACK;
		if (rc == 0) {
			*stored = (long)nevents;
			st = STORE_OK;
			break;
		}
		if (rc == STORE_ROLLED_BACK)
			rc = store_run(s, nevents == 1 ? "insert_one" :
			    "insert_events", s->nparams, params, NULL, NULL,
			    &res, err, errlen);
		if (rc == STORE_TIMEOUT)
			break;
		if (rc == STORE_BROKEN)
			continue;
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1) {
			*stored = strtol(PQgetvalue(res, 0, 0), NULL, 10);
			st = STORE_OK;
			break;
		}
		if ((st = store_classify(res, &reprepare)) == STORE_REFUSED)
			store_refusal(res, err, errlen);
		else
			snprintf(err, errlen, "%s", PQresultErrorMessage(res));
		PQclear(res);
		res = NULL;
		if (!reprepare)
			break;
		store_disconnect(s);
	}
	PQclear(res);
	return st;
}

/* Whether job goes in the group's statement (store_group()). */
#define STORE_GROUPED(job)	((job)->nevents < STORE_COPY_MIN)

/*
 * Whether the grouped jobs can share the group insert: their records
 * are the arrays it takes, and their request ids (which tie each event
 * to its request row there) are set and differ.
 */
static int
store_groupable(struct store *s, const struct store_job *jobs, size_t njobs)
{
	size_t i, j;

	for (i = 0; i < njobs; i++) {
		if (!STORE_GROUPED(&jobs[i]))
			continue;
		if (jobs[i].rq->request_id == NULL || jobs[i].rq->received_at ||
		    store_split(s, jobs[i].records, jobs[i].records_len) == -1)
			return 0;
		for (j = 0; j < i; j++)
			if (STORE_GROUPED(&jobs[j]) &&
			    strcmp(jobs[i].rq->request_id,
			    jobs[j].rq->request_id) == 0)
				return 0;
	}
	return 1;
}

/*
 * Appends to s->group job's part of the group insert's parameter k
 * (1..nparams-1): its request id, its user, its event count, its
 * number post once per event, or (k from STORE_REQUEST_PARAMS on) the
 * elements of its array at *next, which then moves to the next array.
 */
static void
store_group_add(struct store *s, int k, const struct store_job *job,
    size_t post, const char **next)
{
	const char *end;
	size_t e;

	switch (k) {
	case 1:
		pgarray_add(&s->group, job->rq->request_id,
		    strlen(job->rq->request_id));
		break;
	case 2:
		if (job->rq->remote_user)
			pgarray_add(&s->group, job->rq->remote_user,
			    strlen(job->rq->remote_user));
		else
			pgarray_add_null(&s->group);
		break;
	case 3:
		pgarray_add_size(&s->group, job->nevents);
		break;
	case 4:
		for (e = 0; e < job->nevents; e++)
			pgarray_add_size(&s->group, post);
		break;
	default:
		end = strchr(*next, '\0');
		(void)pgarray_append(&s->group, *next, (size_t)(end - *next));
		*next = end + 1;
		break;
	}
}

/*
 * Writes the group insert's parameters into s->group and points
 * s->params at them: the POSTs' request ids, users and event counts,
 * which POST each event is from, and each column's arrays made one.
 * The jobs passed store_groupable().
 */
static void
store_group_params(struct store *s, const struct store_job *jobs,
    size_t njobs)
{
	const char **next = xmalloc(njobs * sizeof *next);
	size_t i, post;
	int k;

	for (i = 0; i < njobs; i++)
		next[i] = jobs[i].records;
	buf_reset(&s->group);
	for (k = 1; k < s->nparams; k++) {
		s->offs[k] = s->group.len;
		pgarray_open(&s->group);
		for (i = 0, post = 0; i < njobs; i++)
			if (STORE_GROUPED(&jobs[i]))
				store_group_add(s, k, &jobs[i], ++post,
				    &next[i]);
		pgarray_close(&s->group);
		buf_addch(&s->group, '\0');
	}
	s->params[0] = s->p->name;
	for (k = 1; k < s->nparams; k++)
		s->params[k] = s->group.data + s->offs[k];
	free(next);
}

/*
 * Stores the ngrouped grouped jobs with the group insert: one
 * statement, so one transaction and one commit for them all, within one
 * s->timeout_ms.  The statement costs the server little more than one
 * POST's (doc/design.md).  Returns 0 with each grouped job's
 * stored count, STORE_ROLLED_BACK (err says why; nothing is stored, the
 * connection stays usable), or STORE_BROKEN or STORE_TIMEOUT (the connection is
 * closed; a commit abandoned that way may still have happened, as in
 * store_finish()).
 */
static int
store_together(struct store *s, struct store_job *jobs, size_t njobs,
    size_t ngrouped, char *err, size_t errlen)
{
	PGresult *res = NULL;
	size_t i, row = 0;
	int rc, reprepare;

	if (!store_groupable(s, jobs, njobs)) {
		snprintf(err, errlen, "these POSTs cannot share a statement");
		return STORE_ROLLED_BACK;
	}
	store_group_params(s, jobs, njobs);
	rc = store_run(s, "insert_group", s->nparams, s->params, NULL, NULL,
	    &res, err, errlen);
	/* A group of huge events does not keep its memory. */
	buf_trim(&s->group, STORE_GROUP_KEEP);
	if (rc != 0)
		return rc;
	if (PQresultStatus(res) != PGRES_TUPLES_OK ||
	    (size_t)PQntuples(res) != ngrouped) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
		/* A statement that vanished is prepared again. */
		(void)store_classify(res, &reprepare);
		if (reprepare)
			store_disconnect(s);
		PQclear(res);
		return reprepare ? STORE_BROKEN : STORE_ROLLED_BACK;
	}
	for (i = 0; i < njobs; i++)
		if (STORE_GROUPED(&jobs[i]))
			jobs[i].stored = strtol(PQgetvalue(res, (int)row++, 0),
			    NULL, 10);
	PQclear(res);
	return 0;
}

void
store_group(struct store *s, struct store_job *jobs, size_t njobs)
{
	char err[256];
	size_t i, ngrouped = 0;
	int rc = STORE_ROLLED_BACK;	/* not stored together */

	for (i = 0; i < njobs; i++)
		if (STORE_GROUPED(&jobs[i]))
			ngrouped++;
	if (ngrouped > 1 && store_connect(s) == 0)
		rc = store_together(s, jobs, njobs, ngrouped, err, sizeof err);
	/* Said, as a missing migration (sql/008) would only cost speed. */
	if (rc == STORE_ROLLED_BACK && ngrouped > 1 && s->conn)
		log_msg(NULL, "%zu POSTs stored one by one: %s", ngrouped, err);
	for (i = 0; i < njobs; i++) {
		if (STORE_GROUPED(&jobs[i]) && rc == 0) {
			jobs[i].status = STORE_OK;
			continue;
		}
		if (STORE_GROUPED(&jobs[i]) && rc == STORE_TIMEOUT) {
			/* A server too slow for them all: no second wait. */
			jobs[i].status = STORE_UNAVAILABLE;
			snprintf(jobs[i].err, sizeof jobs[i].err, "%s", err);
			continue;
		}
		/*
		 * Large batches (COPY), a lone POST, and every POST of a
		 * group the server did not take: each alone, with the
		 * answer it would have had alone (a refused event costs
		 * the others nothing).
		 */
		jobs[i].status = store_events(s, jobs[i].rq, jobs[i].nevents,
		    jobs[i].records, jobs[i].records_len, &jobs[i].stored,
		    jobs[i].err, sizeof jobs[i].err);
	}
}

int
store_reject(struct store *s, const struct store_request *rq,
    const char *error, const char *body, size_t len)
{
	const char *params[5];
	int lengths[5] = { 0, 0, 0, 0, (int)len };
	int formats[5] = { 0, 0, 0, 0, 1 };	/* the body is bytea, binary */
	PGresult *res = NULL;
	char err[256];
	int rc = -1;

	if (store_connect(s) == -1) {
		log_msg(rq->request_id, "unable to keep the rejected body: "
		    "no connection to PostgreSQL");
		return -1;
	}
	params[0] = s->p->name;
	params[1] = rq->request_id;
	params[2] = rq->remote_user;
	params[3] = error;
	params[4] = body ? body : "";
	if (store_run(s, "insert_reject", 5, params, lengths, formats, &res,
	    err, sizeof err) != 0)
		log_msg(rq->request_id, "unable to keep the rejected body: %s",
		    err);
	else if (PQresultStatus(res) != PGRES_COMMAND_OK)
		log_msg(rq->request_id, "unable to keep the rejected body: %s",
		    PQresultErrorMessage(res));
	else
		rc = 0;
	PQclear(res);
	return rc;
}

int
store_fits(const struct store *s, const char *records, size_t len)
{
	return store_walk(s, records, len, NULL, NULL) == 0;
}
