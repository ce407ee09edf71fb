/*
 * spool.h - events kept on local disk while PostgreSQL cannot take them.
 *
 * A spool is a directory.  Each provider appends to <dir>/<provider>.spool;
 * the replayer (replay.c) renames that file to
 * <dir>/<provider>.<microseconds>.replay before reading it, so a file it
 * reads never grows, and writers start a new one.  Writers take an
 * exclusive flock() on the file for each append, and the rename happens
 * under the same lock, so no record straddles the two.
 *
 * A record is a frame:
 *
 *	"\377ESPOOL3" LLLLLLLL " " PPPPPPPP " " HHHHHHHH "\n" payload "\n"
 *
 * where the magic's last byte is the format's version, L is the payload
 * length, P the CRC-32C of the payload and H the CRC-32C of everything
 * before it in the header, all 8 hex digits.  The payload is one line of
 * JSON with the request's facts, a newline, and the records exactly as
 * store_events() takes them: the insert's NUL-terminated array literals
 * (event.h).  Byte 0xff never occurs in UTF-8, which the records are
 * (payload.c repairs the body, and the bytes as sent are hex), so after
 * damage (a torn write, a bad sector) the reader finds the next frame by
 * its magic and a frame that passes both checks is genuine.
 *
 * Versions:
 *   3  the records end with the array "original" (event.h, sql/010).
 *   2  the same without "original": written by the release before, and
 *      possibly still in a spool at the upgrade.  Read as version 3
 *      whose events all needed no repair (spool_upgrade()), which is
 *      what that release stored for every event.
 *   1  a JSON array of records, never released: its frames read as
 *      damaged, as would those of any version not listed here.
 */
#ifndef ESPHOOKS_SPOOL_H
#define ESPHOOKS_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_VERSION	3		/* what spool_append() writes */
#define SPOOL_MAGIC	"\377ESPOOL3"	/* its magic: the version last */
/* Every version's magic starts so; the byte after it is the version. */
#define SPOOL_MAGIC_PREFIX "\377ESPOOL"
#define SPOOL_MAGIC_LEN	8
#define SPOOL_HEADER_LEN 35	/* magic, 3 x 8 hex digits, 2 spaces, \n */

struct spool;
struct buf;

/* One spooled POST, as written and as read back. */
struct spool_record {
	const char	*provider;	/* read back only: the writer puts
					   its spool's provider */
	const char	*request_id;
	const char	*remote_user;	/* may be NULL */
	const char	*received_at;	/* when the POST came, UTC text */
	size_t		 nevents;
	const char	*records;	/* as events_build() wrote them */
	size_t		 records_len;
};

enum spool_frame {
	SPOOL_FRAME_OK,		/* *used bytes were a whole, good frame */
	SPOOL_FRAME_DAMAGED,	/* *used bytes are garbage: skip them */
	SPOOL_FRAME_END,	/* nothing left */
};

/*
 * A spool for provider (the string must outlive it) in dir.  Does no
 * I/O.  The caller owns the result; free it with spool_free().
 */
struct spool	*spool_new(const char *dir, const char *provider);
void		 spool_free(struct spool *);
const char	*spool_dir(const struct spool *);
const char	*spool_provider(const struct spool *);
/*
 * Appends one record and makes it durable (fdatasync; and fsync of the
 * directory first when the file is empty, so a file that holds a
 * record always has a durable name).  Returns 0 only once the record
 * is on disk; -1 with a reason in err otherwise, and then the file is
 * as it was.
 */
int		 spool_append(struct spool *, const struct spool_record *,
		    char *err, size_t errlen);
/*
 * Finds the frame at the start of data[0..len): on SPOOL_FRAME_OK,
 * *payload and *payload_len locate its payload inside data, and
 * *version is the frame's (2 or SPOOL_VERSION).  *used is how far to
 * advance in every case but SPOOL_FRAME_END.  Reads nothing outside
 * data; this is the function the fuzzer exercises.
 */
enum spool_frame spool_frame(const char *data, size_t len, size_t *used,
		    const char **payload, size_t *payload_len, int *version);
/*
 * Splits a payload into rec, its records as the frame holds them.  The
 * strings point into meta, which the caller supplies and owns (at least
 * len + 1 bytes); records point into payload.  Returns 0, or -1 when the
 * payload is not one of ours.
 */
int		 spool_parse(const char *payload, size_t len,
		    struct spool_record *rec, char *meta, size_t metalen);
/*
 * Brings the records of rec, parsed from a frame of the given version,
 * to what store_events() takes now.  Version SPOOL_VERSION: nothing to
 * do.  Version 2: the records are copied into out (reset first; the
 * caller owns it) followed by an "original" array of rec->nevents NULLs,
 * and rec->records points there, valid until out changes.  Returns 0,
 * or -1 for any other version.
 */
int		 spool_upgrade(struct spool_record *rec, int version,
		    struct buf *out);
uint32_t	 spool_crc32c(const void *, size_t);

/*
 * For the replayer.  spool_lock() takes <dir>/<provider>.lock without
 * waiting, so one replayer at a time works on a spool: returns 1 when
 * taken (held until spool_unlock() or exit), 0 when another holds it,
 * -1 on error.  spool_rotate() turns a non-empty <provider>.spool into a
 * .replay file: 1 done, 0 nothing to do, -1 error.  spool_list() gives
 * the .replay files, oldest first, in a NULL-terminated array that the
 * caller frees with spool_list_free().
 */
int		 spool_pending(struct spool *);	/* anything to replay? */
int		 spool_lock(struct spool *);
void		 spool_unlock(struct spool *);
int		 spool_rotate(struct spool *);
char		**spool_list(struct spool *);
void		 spool_list_free(char **);
/* fsync()s the directory, after a rename or an unlink. */
int		 spool_sync_dir(struct spool *);

/*
 * The quarantine: <dir>/quarantine/ holds the records the replayer
 * gave up on (replay.h), each alone in a .replay file named as those
 * of the spool, beside a .reason file that says why in one line of
 * text.  spool_quarantine() writes the frame (len bytes, as it was in
 * the spool) there durably: 0, or -1 with err.  spool_requeue() moves
 * every quarantined file of this provider back into the spool, where
 * the replayer takes it as any other, and drops its .reason: returns
 * how many, or -1 with err (those moved so far stay moved).  It takes
 * the replayer's lock, waiting for it a few seconds.
 */
#define SPOOL_QUARANTINE_DIR "quarantine"
int		 spool_quarantine(struct spool *, const char *frame,
		    size_t len, const char *reason, char *err, size_t errlen);
int		 spool_requeue(struct spool *, char *err, size_t errlen);

#endif
