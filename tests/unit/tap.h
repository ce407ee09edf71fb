/*
 * tap.h - just enough TAP (Test Anything Protocol) for prove(1).
 *
 * Each check prints "ok N - name" or "not ok N - name" with the values
 * compared; tap_done() prints the plan and returns the exit status.
 */
#ifndef ESPHOOKS_TAP_H
#define ESPHOOKS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_run, tap_failed;

static int
tap_ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return cond;
}

/* Compares strings; NULL stands for SQL NULL and equals only NULL. */
static int __attribute__((unused))
tap_is(const char *got, const char *want, const char *name)
{
	int same = (got == NULL || want == NULL) ? got == want :
	    strcmp(got, want) == 0;

	if (!tap_ok(same, "%s", name))
		printf("#   got:  %s\n#   want: %s\n", got ? got : "(null)",
		    want ? want : "(null)");
	return same;
}

static int
tap_done(void)
{
	printf("1..%d\n", tap_run);
	return tap_failed ? 1 : 0;
}

#endif
