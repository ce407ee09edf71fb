/*
 * pgarray.h - PostgreSQL array literals, the text that array_in() reads:
 *
 *	{"opened","a \"quoted\" word",NULL,"back\\slash"}
 *
 * Every element is written between double quotes, so of the rules of
 * the format only two matter: inside quotes a backslash escapes '"' and
 * '\', and an unquoted NULL is the null value.  Values never contain a
 * NUL byte (PostgreSQL's text cannot hold one).
 *
 * The reader, pgarray_next(), is the writer's inverse for one-
 * dimensional arrays; the unit tests and the fuzz targets use it to
 * check what the database will read.  Like array_in(), it takes a
 * backslash before any byte as that byte.
 */
#ifndef ESPHOOKS_PGARRAY_H
#define ESPHOOKS_PGARRAY_H

#include <stddef.h>

struct buf;

/* Starts an array literal at the end of b. */
void	pgarray_open(struct buf *);
/*
 * Appends one element: s[0..len) quoted and escaped.  Returns 0, or -1
 * without writing anything when s holds a NUL byte.
 */
int	pgarray_add(struct buf *, const char *s, size_t len);
void	pgarray_add_null(struct buf *);
/* Appends a number, for integer[] (unquoted, as array_in() takes it). */
void	pgarray_add_size(struct buf *, size_t);
void	pgarray_close(struct buf *);
/*
 * Appends the elements of the literal lit[0..len), as written above,
 * to the array open at the end of b: several arrays made one.  Returns
 * 0, or -1 without writing anything when lit is not braced.
 */
int	pgarray_append(struct buf *, const char *lit, size_t len);

/*
 * Reads the element after *pos in the literal s[0..len) (start with
 * *pos = 0) into out (reset first; NUL-terminated) and sets *isnull.
 * Returns 1 for an element, 0 at the closing brace, -1 when s is not a
 * literal of that form (all elements quoted or NULL, no white space).
 */
int	pgarray_next(const char *s, size_t len, size_t *pos, struct buf *out,
	    int *isnull);

#endif
