/*
 * test_pgcopy.c - COPY text rows from column arrays: fields escaped
 * byte for byte, NULL as \N apart from "" and "NULL", the prefix on
 * every row, and arrays of the wrong length or form refused.
 */
#include <string.h>

#include "buf.h"
#include "pgarray.h"
#include "pgcopy.h"
#include "tap.h"

/* Appends an array literal of the n values (NULL: SQL NULL) to b. */
static void
array(struct buf *b, const char *const *values, size_t n)
{
	size_t i;

	pgarray_open(b);
	for (i = 0; i < n; i++) {
		if (values[i] == NULL)
			pgarray_add_null(b);
		else
			pgarray_add(b, values[i], strlen(values[i]));
	}
	pgarray_close(b);
}

static void
test_rows(void)
{
	static const char *const first[] = {
		"back\\slash", "tab\there", "new\nline\r", "\\N", NULL,
	};
	static const char *const second[] = {
		"\\.", "NULL", "", "a \"q\" {b},c", "\xc3\xa7\\",
	};
	static const char want[] =
	    "7\t2026-11-23 10:00:00+00\tback\\\\slash\t\\\\.\n"
	    "7\t2026-11-23 10:00:00+00\ttab\\there\tNULL\n"
	    "7\t2026-11-23 10:00:00+00\tnew\\nline\\r\t\n"
	    "7\t2026-11-23 10:00:00+00\t\\\\N\ta \"q\" {b},c\n"
	    "7\t2026-11-23 10:00:00+00\t\\N\t\xc3\xa7\\\\\n";
	struct buf a = BUF_INIT, b = BUF_INIT, out = BUF_INIT;
	const char *arrays[2];
	size_t lens[2];

	array(&a, first, 5);
	array(&b, second, 5);
	arrays[0] = a.data, lens[0] = a.len;
	arrays[1] = b.data, lens[1] = b.len;
	tap_ok(pgcopy_rows(&out, "7\t2026-11-23 10:00:00+00\t", arrays, lens,
	    2, 5) == 0, "five rows of two arrays");
	tap_is(out.data, want, "backslash, tab, newline and CR escaped, "
	    "NULL as \\N, \"\" and \"NULL\" as text");

	buf_reset(&out);
	tap_ok(pgcopy_rows(&out, "", arrays, lens, 2, 4) == -1,
	    "an element left over: refused");
	buf_reset(&out);
	tap_ok(pgcopy_rows(&out, "", arrays, lens, 2, 6) == -1,
	    "an element missing: refused");
	lens[1] = b.len - 1;
	buf_reset(&out);
	tap_ok(pgcopy_rows(&out, "", arrays, lens, 2, 5) == -1,
	    "an array cut short: refused");
	buf_release(&a);
	buf_release(&b);
	buf_release(&out);
}

static void
test_empty(void)
{
	const char *arrays[1] = { "{}" };
	size_t lens[1] = { 2 };
	struct buf out = BUF_INIT;

	tap_ok(pgcopy_rows(&out, "x\t", arrays, lens, 1, 0) == 0 &&
	    out.len == 0, "no events: no rows");
	buf_release(&out);
}

int
main(void)
{
	test_rows();
	test_empty();
	return tap_done();
}
