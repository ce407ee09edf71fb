/*
 * log.h - one line per error on stderr.
 *
 * Every line names the program (esphooks-<provider>), the process id and
 * the request id when there is one, so a line in nginx's error log or a
 * journal can be matched to the access log's $request_id.  Callers must
 * not pass secrets: no passwords, no conninfo strings.
 */
#ifndef ESPHOOKS_LOG_H
#define ESPHOOKS_LOG_H

/* Names the program in every line; the string must stay valid. */
void	log_init(const char *provider);
/* Writes one line; reqid may be NULL.  Control bytes become '?'. */
void	log_msg(const char *reqid, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
