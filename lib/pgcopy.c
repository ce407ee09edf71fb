/*
 * pgcopy.c - the column arrays turned into COPY text rows.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pgarray.h"
#include "pgcopy.h"

void
pgcopy_add_field(struct buf *out, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *q;

	/* The worst case, every byte escaped, so the loop never grows. */
	buf_grow(out, 2 * len);
	while (p < end) {
		/* Copy the run up to the next byte to escape in one go. */
		for (q = p; q < end && *q != '\\' && *q != '\t' &&
		    *q != '\n' && *q != '\r'; q++)
			;
		buf_add(out, p, (size_t)(q - p));
		if (q == end)
			break;
		buf_addch(out, '\\');
		buf_addch(out, *q == '\t' ? 't' : *q == '\n' ? 'n' :
		    *q == '\r' ? 'r' : '\\');
		p = q + 1;
	}
}

int
pgcopy_rows(struct buf *out, const char *prefix, const char *const *arrays,
    const size_t *lens, size_t narrays, size_t nrows)
{
	struct buf elem = BUF_INIT;
	size_t *pos, row, k;
	int isnull, rc = -1;

	pos = xmalloc(narrays * sizeof *pos);
	memset(pos, 0, narrays * sizeof *pos);
	for (row = 0; row < nrows; row++) {
		buf_adds(out, prefix);
		for (k = 0; k < narrays; k++) {
			if (pgarray_next(arrays[k], lens[k], &pos[k], &elem,
			    &isnull) != 1)
				goto done;
			if (isnull)
				buf_add(out, "\\N", 2);
			else
				pgcopy_add_field(out, elem.data, elem.len);
			buf_addch(out, k + 1 < narrays ? '\t' : '\n');
		}
	}
	/* Every array must end here: no element left over. */
	for (k = 0; k < narrays; k++)
		if (pgarray_next(arrays[k], lens[k], &pos[k], &elem,
		    &isnull) != 0)
			goto done;
	rc = 0;
done:
	buf_release(&elem);
	free(pos);
	return rc;
}
