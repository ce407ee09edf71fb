/*
 * numtext.c - a number's text split into its parts, JSON's grammar.
 */
#include <string.h>

#include "numtext.h"

/* The first byte at or after p that is not a decimal digit. */
static const char *
numtext_digits(const char *p, const char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

int
numtext_split(const char *s, size_t len, struct numtext *n)
{
	const char *end = s + len;

	memset(n, 0, sizeof *n);
	if (s < end && *s == '-') {
		n->neg = 1;
		s++;
	}
	n->ip = s;
	if (s < end && *s == '0')
		s++;
	else if (s < end && *s >= '1' && *s <= '9')
		s = numtext_digits(s, end);
	else
		return -1;
	n->nint = (size_t)(s - n->ip);
	n->fp = n->ep = s;
	if (s < end && *s == '.') {
		n->fp = ++s;
		if ((s = numtext_digits(s, end)) == n->fp)
			return -1;
		n->nfrac = (size_t)(s - n->fp);
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		if (++s < end && (*s == '+' || *s == '-'))
			n->eneg = *s++ == '-';
		n->ep = s;
		if ((s = numtext_digits(s, end)) == n->ep)
			return -1;
		n->nexp = (size_t)(s - n->ep);
	}
	return s == end ? 0 : -1;
}
