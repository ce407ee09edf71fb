/*
 * member.h - a member's JSON text, found in the text of its object.
 *
 * json-c gives values, not the text they came from, and it changes
 * some (integers past 64 bits saturate; objects print anew): where the
 * text as sent matters (conv.c), it is found here, by a walk over the
 * object's text that payload_scan() has checked already.
 */
#ifndef ESPHOOKS_MEMBER_H
#define ESPHOOKS_MEMBER_H

#include <stddef.h>

/*
 * The JSON text of the value of the top-level member key of the event
 * text ev (len bytes, an object as payload_scan() leaves it: valid JSON
 * and UTF-8, no unpaired surrogate escapes), borrowed from ev, its
 * length in *vlen; NULL when there is no such member.  Keys compare as
 * json-c and jsonb read them: after unescaping ("\u0065mail" is
 * "email"), and the last of duplicated keys wins, as in both.
 */
const char	*member_find(const char *ev, size_t len, const char *key,
		    size_t *vlen);

#endif
