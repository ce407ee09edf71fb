/*
 * request.h - one HTTP request, from FastCGI or plain CGI alike.
 *
 * libfcgi's FCGX_Accept_r() has no CGI branch, so a request carries
 * either an FCGX_Request (FastCGI) or nothing (CGI: the environment,
 * stdin and stdout, RFC 3875).  Parameter strings returned by
 * request_param() are borrowed: they die at the next accept.
 */
#ifndef ESPHOOKS_REQUEST_H
#define ESPHOOKS_REQUEST_H

#include <stddef.h>

#include "buf.h"

struct FCGX_Request;

/* Longest request id kept (nginx's $request_id is 32 hex digits). */
#define REQUEST_ID_MAX 64

enum request_read {
	REQUEST_READ_OK = 0,
	REQUEST_READ_TOO_LARGE,	/* 413 */
	REQUEST_READ_BAD,	/* 400: CONTENT_LENGTH unusable or body short */
};

struct request {
	struct FCGX_Request	*fcgx;	/* NULL when running as CGI */
	char			 id[REQUEST_ID_MAX + 1];
	struct buf		 body;	/* owned, reused between requests */
};

/*
 * Starts a request: takes its id from REQUEST_ID (nginx's $request_id)
 * when it is sane, else makes one.  fcgx is borrowed.
 */
void		 request_begin(struct request *, struct FCGX_Request *fcgx);
/* A CGI parameter, or NULL. */
const char	*request_param(struct request *, const char *name);
/* Reads the body into req->body, refusing more than limit bytes. */
enum request_read request_read_body(struct request *, size_t limit);
/*
 * Non-zero when everything the FastCGI server sent for this request has
 * been read (its stdin to the end), so nothing it writes can be lost if
 * the connection is closed at once.
 */
int		 request_read_all(const struct request *);
/*
 * Writes the whole answer: "Status:", Content-Type application/json,
 * extra_headers (each line ending in "\r\n", or NULL), the body.  The
 * one place that writes answers.
 */
void		 request_reply(struct request *, int status,
		    const char *extra_headers, const char *json);
/* Answers {"error":"<message>"}, the message escaped. */
void		 request_reply_error(struct request *, int status,
		    const char *extra_headers, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
void		 request_release(struct request *);

#endif
