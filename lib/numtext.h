/*
 * numtext.h - a number's text in JSON's grammar (RFC 8259 §6), split
 * into its parts:
 *
 *	-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?
 *
 * which leaves out the rest of what strtod() and strtoll() take: white
 * space, '+', leading zeros, hex ("0x1p4"), "inf", "nan", "1." and ".5".
 * The converters (conv.c) and unix seconds (tstamp.c) read numbers that
 * way, whether json-c saw a number or a string that holds one.
 */
#ifndef ESPHOOKS_NUMTEXT_H
#define ESPHOOKS_NUMTEXT_H

#include <stddef.h>

/* The parts of a number, all borrowed from its text. */
struct numtext {
	int		 neg;	/* a leading '-' */
	const char	*ip;	/* the integer part's digits */
	size_t		 nint;
	const char	*fp;	/* the fraction's digits, after the '.' */
	size_t		 nfrac;	/* 0 when there is no fraction */
	int		 eneg;	/* the exponent's '-' */
	const char	*ep;	/* the exponent's digits */
	size_t		 nexp;	/* 0 when there is no exponent */
};

/*
 * Splits s[0..len) into n: 0, or -1 when s is not exactly a number in
 * the grammar above.
 */
int	numtext_split(const char *s, size_t len, struct numtext *n);

#endif
