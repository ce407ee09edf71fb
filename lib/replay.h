/*
 * replay.h - spooled events into PostgreSQL, exactly once.
 *
 * The master of a FastCGI program (server.c), or a program started with
 * --replay, calls replay_step() about once a second.  Each spooled POST
 * is inserted with the same statement, records and request facts as it
 * would have been live, so the table's dedup_key keeps an event that
 * reached both the database and the spool, or is replayed twice after a
 * kill, to one row.  Progress is written after each POST to a .pos file
 * beside the .replay file, so a killed replayer resumes where it was.
 */
#ifndef ESPHOOKS_REPLAY_H
#define ESPHOOKS_REPLAY_H

struct spool;
struct store;

enum replay_status {
	REPLAY_IDLE,		/* the spool is empty */
	REPLAY_MORE,		/* the time was up: call again soon */
	REPLAY_BLOCKED,		/* no database, or another replayer */
};

/* Milliseconds one step may take before it returns REPLAY_MORE. */
#define REPLAY_SLICE_MS	500

/*
 * Replays what the spool holds for up to REPLAY_SLICE_MS.  Damaged
 * frames are logged and skipped; a POST the database refuses outright
 * goes to webhook_reject, logged, and replay goes on.
 */
enum replay_status	replay_step(struct spool *, struct store *);

#endif
