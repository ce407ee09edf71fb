/*
 * log.c - one line per error on stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* A line longer than this is cut: a log line is a pointer, not a dump. */
#define LOG_LINE_MAX 1024

static const char *log_provider = "esphooks";

void
log_init(const char *provider)
{
	log_provider = provider;
}

void
log_msg(const char *reqid, const char *fmt, ...)
{
	char line[LOG_LINE_MAX], msg[LOG_LINE_MAX];
	va_list ap;
	size_t i;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/*
	 * Messages quote data from requests and from libpq, which ends its
	 * messages with a newline: keep each report on one line.
	 */
	for (i = 0; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = msg[i] == '\n' ? ' ' : '?';
	n = snprintf(line, sizeof line - 1, "esphooks-%s[%ld]: %s%s%s\n",
	    log_provider, (long)getpid(), reqid ? reqid : "",
	    reqid ? ": " : "", msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line - 1) {
		n = (int)sizeof line - 1;
		line[n - 1] = '\n';
	}
	/* One write(2) per line, so lines of several workers do not mix. */
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
