/*
 * replay.h - spooled events into PostgreSQL, exactly once.
 *
 * The master of a FastCGI program (server.c), or a program started with
 * --replay, calls replay_step() about once a second.  Each spooled POST
 * is inserted with the same statement, records and request facts as it
 * would have been live, so the table's unique key (dedup_key and the
 * digest of original, sql/010) keeps an event that reached both the
 * database and the spool, or is replayed twice after a kill, to one
 * row.  Progress is written after each POST to a .pos file beside the
 * .replay file, so a killed replayer resumes where it was.
 *
 * No record stops the replay for good.  A record the database refuses
 * (store.h: STORE_REFUSED) goes to webhook_reject as a body that can be
 * POSTed again by hand, and the replay goes on.  A record that cannot
 * be stored otherwise (a statement that times out, an error of the
 * server's setup, a webhook_reject that refuses it too) is tried again
 * at every step; once it has failed at least tries times over at least
 * seconds, it goes to the spool's quarantine with its reason
 * (spool_quarantine()) and the replay goes on.  A record that is not
 * this program's (another provider's, a later format) goes there at
 * once.  The count of tries is kept in the .pos file, so a restart does
 * not reset it.  spool_requeue() puts quarantined records back.
 */
#ifndef ESPHOOKS_REPLAY_H
#define ESPHOOKS_REPLAY_H

struct spool;
struct store;

enum replay_status {
	REPLAY_IDLE,		/* the spool is empty */
	REPLAY_MORE,		/* the time was up: call again soon */
	REPLAY_BLOCKED,		/* no database, another replayer, or a
				   record that failed: call again later */
};

/* Milliseconds one step may take before it returns REPLAY_MORE. */
#define REPLAY_SLICE_MS	500
/*
 * When a record that keeps failing goes to the quarantine: after at
 * least REPLAY_TRIES failures, the first at least REPLAY_SECONDS ago.
 * Both must pass: a statement given up at --db-timeout behind a lock of
 * a few minutes (a migration, VACUUM FULL) fails many times quickly,
 * and must not be quarantined for it; a server down for hours fails no
 * record at all, since nothing is tried without a connection.
 */
#define REPLAY_TRIES	10
#define REPLAY_SECONDS	600

struct replay_options {
	int	tries;		/* 0: REPLAY_TRIES */
	int	seconds;	/* 0: REPLAY_SECONDS */
};

/*
 * Replays what the spool holds for up to REPLAY_SLICE_MS.  Damaged
 * frames (a torn write, a bad sector) are logged and skipped.
 */
enum replay_status	replay_step(struct spool *, struct store *,
			    const struct replay_options *);

#endif
