/*
 * check.h - invariant checks shared by the fuzz targets.
 *
 * A fuzz target can only report what crashes, so a broken promise of
 * lib/ must become a crash: fuzz_fail() prints why and abort()s, which
 * libFuzzer records as a finding with the input that caused it.
 */
#ifndef ESPHOOKS_FUZZ_CHECK_H
#define ESPHOOKS_FUZZ_CHECK_H

#include <stddef.h>

/* Prints "invariant broken: ..." to stderr and aborts. */
void	fuzz_fail(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Fails unless s (len bytes) is text PostgreSQL's jsonb takes as it is:
 * valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF), no "\u0000" escape and no unpaired surrogate escape.  what
 * names the text in the message.  Written apart from lib/payload.c on
 * purpose, so that one mistake is not copied into both.
 */
void	check_jsonb_text(const char *what, const char *s, size_t len);
/*
 * Fails unless s (len bytes) is valid UTF-8 without a NUL byte: text
 * PostgreSQL's text and array input take in a UTF-8 database.
 */
void	check_utf8(const char *what, const char *s, size_t len);

#endif
