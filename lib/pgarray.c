/*
 * pgarray.c - PostgreSQL array literals, written and read back.
 */
#include <string.h>

#include "buf.h"
#include "pgarray.h"

void
pgarray_open(struct buf *b)
{
	buf_addch(b, '{');
}

/* The comma before every element but the first. */
static void
pgarray_sep(struct buf *b)
{
	if (b->data[b->len - 1] != '{')
		buf_addch(b, ',');
}

int
pgarray_add(struct buf *b, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *q;

	if (memchr(s, '\0', len) != NULL)
		return -1;
	pgarray_sep(b);
	/* The worst case, every byte escaped, so the loop never grows. */
	buf_grow(b, 2 * len + 2);
	buf_addch(b, '"');
	while (p < end) {
		/* Copy the run up to the next byte to escape in one go. */
		for (q = p; q < end && *q != '"' && *q != '\\'; q++)
			;
		buf_add(b, p, (size_t)(q - p));
		if (q == end)
			break;
		buf_addch(b, '\\');
		buf_addch(b, *q);
		p = q + 1;
	}
	buf_addch(b, '"');
	return 0;
}

void
pgarray_add_size(struct buf *b, size_t n)
{
	pgarray_sep(b);
	buf_addf(b, "%zu", n);
}

int
pgarray_append(struct buf *b, const char *lit, size_t len)
{
	if (len < 2 || lit[0] != '{' || lit[len - 1] != '}')
		return -1;
	if (len > 2) {
		pgarray_sep(b);
		buf_add(b, lit + 1, len - 2);
	}
	return 0;
}

void
pgarray_add_null(struct buf *b)
{
	pgarray_sep(b);
	buf_adds(b, "NULL");
}

void
pgarray_close(struct buf *b)
{
	buf_addch(b, '}');
}

int
pgarray_next(const char *s, size_t len, size_t *pos, struct buf *out,
    int *isnull)
{
	size_t i = *pos, j;

	buf_reset(out);
	buf_add(out, "", 0);		/* NUL-terminated even when empty */
	*isnull = 0;
	if (i == 0) {
		if (len < 2 || s[0] != '{')
			return -1;
		i = 1;
		if (s[i] == '}')
			goto end;
	} else if (i < len && s[i] == ',')
		i++;
	else if (i < len && s[i] == '}')
		goto end;
	else
		return -1;
	if (len - i >= 4 && memcmp(s + i, "NULL", 4) == 0) {
		*isnull = 1;
		*pos = i + 4;
		return 1;
	}
	if (i >= len || s[i++] != '"')
		return -1;
	while (i < len && s[i] != '"') {
		/* Copy the run up to the next quote or backslash in one go. */
		for (j = i; j < len && s[j] != '"' && s[j] != '\\' &&
		    s[j] != '\0'; j++)
			;
		buf_add(out, s + i, j - i);
		if ((i = j) == len || s[i] == '"')
			break;
		/* A backslash takes the next byte as it is. */
		if (s[i] == '\0' || ++i == len || s[i] == '\0')
			return -1;
		buf_addch(out, s[i++]);
	}
	if (i == len)
		return -1;
	*pos = i + 1;
	return 1;
end:
	/* The literal ends here, and nothing follows it. */
	if (i + 1 != len)
		return -1;
	*pos = i;
	return 0;
}
