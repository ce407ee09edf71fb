/*
 * buf.h - a growable byte buffer (after git's strbuf).
 *
 * The buffer owns data; buf_release() frees it and leaves an empty
 * buffer that can be used again.  data is always NUL-terminated once
 * anything was added, so it can be passed as a C string when it holds
 * no NUL byte.  Allocation failure aborts the process (see xmalloc):
 * a worker that cannot get memory is replaced by its master, and the
 * provider retries the request it had in hand.
 */
#ifndef ESPHOOKS_BUF_H
#define ESPHOOKS_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT { NULL, 0, 0 }

void	*xmalloc(size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);

void	 buf_grow(struct buf *, size_t extra);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_adds(struct buf *, const char *);
void	 buf_addch(struct buf *, int);
void	 buf_addf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vaddf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Appends s as a JSON string, quotes included; s must be valid UTF-8. */
void	 buf_add_json_string(struct buf *, const char *s, size_t len);
/* Empties the buffer but keeps its memory for the next request. */
void	 buf_reset(struct buf *);
/* Frees the memory, contents and all, if it grew past keep bytes: one
   huge request must not keep a worker large.  Call it between requests. */
void	 buf_trim(struct buf *, size_t keep);
/* Sets the length to len, which must be below cap (git's strbuf_setlen):
   drops what follows, or claims room buf_grow() made. */
void	 buf_setlen(struct buf *, size_t len);
void	 buf_release(struct buf *);
/* Hands the data over to the caller (free() it); the buffer is empty. */
char	*buf_detach(struct buf *, size_t *len);

#endif
