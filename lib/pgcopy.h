/*
 * pgcopy.h - rows for COPY ... FROM STDIN, in PostgreSQL's text format,
 * from the column arrays that events_build() writes.
 *
 * A row is its fields separated by tabs and ended by a newline; in a
 * field a backslash, a tab, a newline and a carriage return are escaped
 * (\\, \t, \n, \r) and \N is the null value.  Since every backslash of
 * a value is doubled, no value can end the data early ("\.").
 */
#ifndef ESPHOOKS_PGCOPY_H
#define ESPHOOKS_PGCOPY_H

#include <stddef.h>

struct buf;

/*
 * Appends to out nrows rows: each starts with the fields of prefix
 * (text written as is: tab-separated fields, each already escaped, with
 * a trailing tab), then holds element i of each of the narrays arrays
 * (arrays[k], lens[k] bytes, as pgarray.h writes them).  Returns 0, or
 * -1 when an array is not such a literal or does not hold exactly nrows
 * elements; out then holds a partial result the caller discards.
 */
int	pgcopy_rows(struct buf *out, const char *prefix,
	    const char *const *arrays, const size_t *lens, size_t narrays,
	    size_t nrows);

/* Appends s[0..len) escaped as one field. */
void	pgcopy_add_field(struct buf *out, const char *s, size_t len);

#endif
