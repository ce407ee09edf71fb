/*
 * request.c - request parameters, body and answer for FastCGI and CGI.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "request.h"

extern char **environ;

/* Bytes read per call while taking in a body. */
#define REQUEST_READ_CHUNK 65536
/*
 * Buffers larger than this are freed after their request, so that one
 * 16 MiB body does not keep a worker's memory high (SPEC §7: 8 MiB).
 */
#define REQUEST_KEEP_MAX (1024 * 1024)

void
request_begin(struct request *r, struct FCGX_Request *fcgx)
{
	static unsigned long counter;
	const char *id;
	size_t i, n;

	r->fcgx = fcgx;
	/* Keep a usual body's memory; give back what a huge one took. */
	buf_trim(&r->body, REQUEST_KEEP_MAX);
	buf_reset(&r->body);
	id = request_param(r, "REQUEST_ID");
	n = id ? strlen(id) : 0;
	/* The id goes into logs: only take a tame one. */
	for (i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') || id[i] == '-' ||
		    id[i] == '_' || id[i] == '.'))
			break;
	if (n > 0 && n <= REQUEST_ID_MAX && i == n)
		memcpy(r->id, id, n + 1);
	else
		snprintf(r->id, sizeof r->id, "%lx-%lx-%lu",
		    (unsigned long)time(NULL), (unsigned long)getpid(),
		    ++counter);
}

const char *
request_param(struct request *r, const char *name)
{
	if (r->fcgx)
		return FCGX_GetParam(name, r->fcgx->envp);
	return getenv(name);
}

static ssize_t
request_read(struct request *r, char *p, size_t n)
{
	ssize_t got;

	if (r->fcgx)
		return FCGX_GetStr(p, (int)n, r->fcgx->in);
	do
		got = read(STDIN_FILENO, p, n);
	while (got < 0 && errno == EINTR);
	return got;
}

enum request_read
request_read_body(struct request *r, size_t limit)
{
	const char *cl = request_param(r, "CONTENT_LENGTH");
	unsigned long long want = 0;
	int known = 0;
	ssize_t got;
	size_t n;
	char *end;

	/* RFC 3875 §4.1.2: CONTENT_LENGTH is decimal digits, or absent. */
	if (cl && *cl) {
		if (*cl < '0' || *cl > '9')
			return REQUEST_READ_BAD;
		errno = 0;
		want = strtoull(cl, &end, 10);
		if (*end != '\0')
			return REQUEST_READ_BAD;
		if (errno == ERANGE || want > limit)
			return REQUEST_READ_TOO_LARGE;
		known = 1;
		buf_grow(&r->body, (size_t)want);
	}
	for (;;) {
		n = known ? (size_t)want - r->body.len : REQUEST_READ_CHUNK;
		if (known && n == 0)
			break;
		if (n > REQUEST_READ_CHUNK)
			n = REQUEST_READ_CHUNK;
		buf_grow(&r->body, n);
		got = request_read(r, r->body.data + r->body.len, n);
		if (got < 0)
			return REQUEST_READ_BAD;
		if (got == 0)
			break;
		r->body.len += (size_t)got;
		r->body.data[r->body.len] = '\0';
		if (r->body.len > limit)
			return REQUEST_READ_TOO_LARGE;
	}
	if (known && r->body.len != want)
		return REQUEST_READ_BAD;
	/*
	 * FastCGI: take in the record that ends stdin too (nginx sends it
	 * with the body), so that server.c can close the connection
	 * without waiting (request_read_all()).  Should a byte come past
	 * CONTENT_LENGTH instead, it is dropped, stdin has not ended, and
	 * the connection is closed the careful way.  Not in CGI: RFC 3875
	 * §4.2 forbids reading past CONTENT_LENGTH.
	 */
	if (known && r->fcgx)
		(void)FCGX_GetChar(r->fcgx->in);
	return REQUEST_READ_OK;
}

int
request_read_all(const struct request *r)
{
	return r->fcgx && r->fcgx->in && FCGX_HasSeenEOF(r->fcgx->in) == EOF;
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 422: return "Unprocessable Content";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default:  return "Error";
	}
}

void
request_reply(struct request *r, int status, const char *extra_headers,
    const char *json)
{
	struct buf out = BUF_INIT;

	buf_addf(&out, "Status: %d %s\r\nContent-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n%s\r\n%s\n", status,
	    status_text(status), extra_headers ? extra_headers : "", json);
	if (r->fcgx)
		FCGX_PutStr(out.data, (int)out.len, r->fcgx->out);
	else {
		fwrite(out.data, 1, out.len, stdout);
		fflush(stdout);
	}
	buf_release(&out);
}

void
request_reply_error(struct request *r, int status, const char *extra_headers,
    const char *fmt, ...)
{
	struct buf msg = BUF_INIT, json = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	buf_adds(&json, "{\"error\":");
	buf_add_json_string(&json, msg.data, msg.len);
	buf_addch(&json, '}');
	request_reply(r, status, extra_headers, json.data);
	buf_release(&msg);
	buf_release(&json);
}

void
request_release(struct request *r)
{
	buf_release(&r->body);
}
