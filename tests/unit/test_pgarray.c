/*
 * test_pgarray.c - PostgreSQL array literals: what pgarray_add() writes,
 * byte for byte, read back by pgarray_next() (which the other unit tests
 * and the fuzz targets trust), NULL apart from "" and "NULL", values
 * with a NUL byte refused, and malformed literals refused by the reader.
 */
#include <string.h>

#include "buf.h"
#include "pgarray.h"
#include "tap.h"

/* A string with its length, for literals that hold a NUL byte. */
struct text {
	const char	*s;
	size_t		 len;
};

#define TEXT(lit)	{ lit, sizeof lit - 1 }

/* Reads s to the end: the last pgarray_next() result, *n elements. */
static int
walk(const char *s, size_t len, size_t *n)
{
	struct buf out = BUF_INIT;
	size_t pos = 0;
	int isnull, rc;

	*n = 0;
	while ((rc = pgarray_next(s, len, &pos, &out, &isnull)) == 1)
		(*n)++;
	buf_release(&out);
	return rc;
}

static void
test_round_trip(void)
{
	/* NULL in this table is SQL NULL. */
	static const char *const values[] = {
		"opened", "a \"quoted\" word", "", NULL, "back\\slash",
		"\\\"\\", "NULL", "\xc3\xbc,{} ",
	};
	static const char literal[] = "{\"opened\",\"a \\\"quoted\\\" word\","
	    "\"\",NULL,\"back\\\\slash\",\"\\\\\\\"\\\\\",\"NULL\","
	    "\"\xc3\xbc,{} \"}";
	size_t i, pos = 0, n = sizeof values / sizeof values[0];
	struct buf b = BUF_INIT, out = BUF_INIT;
	int isnull, rc, same = 1;

	pgarray_open(&b);
	for (i = 0; i < n; i++) {
		if (values[i] == NULL)
			pgarray_add_null(&b);
		else if (pgarray_add(&b, values[i], strlen(values[i])) == -1)
			same = 0;
	}
	pgarray_close(&b);
	tap_ok(same, "every value without a NUL is taken");
	tap_is(b.data, literal, "quotes and backslashes escaped, NULL bare");

	for (i = 0; i < n; i++) {
		rc = pgarray_next(b.data, b.len, &pos, &out, &isnull);
		if (rc != 1) {
			tap_ok(0, "element %zu read back (%d)", i, rc);
			break;
		}
		if (values[i] == NULL)
			tap_ok(isnull, "element %zu reads back as NULL", i);
		else
			tap_ok(!isnull && out.len == strlen(values[i]) &&
			    strcmp(out.data, values[i]) == 0,
			    "element %zu reads back as \"%s\"", i, values[i]);
	}
	tap_ok(i == n && pgarray_next(b.data, b.len, &pos, &out,
	    &isnull) == 0, "then the end");
	buf_release(&b);
	buf_release(&out);
}

static void
test_null_and_empty(void)
{
	struct buf b = BUF_INIT, out = BUF_INIT;
	size_t pos = 0, n;
	int isnull;

	tap_ok(pgarray_next("{NULL,\"\",\"NULL\"}", 16, &pos, &out,
	    &isnull) == 1 && isnull, "bare NULL is the null value");
	tap_ok(pgarray_next("{NULL,\"\",\"NULL\"}", 16, &pos, &out,
	    &isnull) == 1 && !isnull && out.len == 0 && out.data[0] == '\0',
	    "\"\" is the empty string, NUL-terminated");
	tap_ok(pgarray_next("{NULL,\"\",\"NULL\"}", 16, &pos, &out,
	    &isnull) == 1 && !isnull && strcmp(out.data, "NULL") == 0,
	    "\"NULL\" is the string NULL");

	pgarray_open(&b);
	pgarray_close(&b);
	tap_is(b.data, "{}", "an array without elements");
	tap_ok(walk(b.data, b.len, &n) == 0 && n == 0,
	    "reads as no elements");
	buf_reset(&b);
	pgarray_open(&b);
	pgarray_add(&b, "", 0);
	pgarray_close(&b);
	tap_is(b.data, "{\"\"}", "one empty string is not an empty array");
	buf_release(&b);
	buf_release(&out);
}

static void
test_nul_refused(void)
{
	struct buf b = BUF_INIT;

	pgarray_open(&b);
	tap_ok(pgarray_add(&b, "a\0b", 3) == -1,
	    "a value with a NUL is refused");
	tap_ok(b.len == 1 && strcmp(b.data, "{") == 0, "and writes nothing");
	tap_ok(pgarray_add(&b, "x", 1) == 0 && pgarray_add(&b, "\0", 1) == -1,
	    "after an element too");
	pgarray_close(&b);
	tap_is(b.data, "{\"x\"}", "no comma is left behind");
	buf_release(&b);
}

static void
test_malformed(void)
{
	static const struct text bad[] = {
		TEXT(""), TEXT("{"), TEXT("}"), TEXT("[]"), TEXT("{}}"),
		TEXT("{} "), TEXT(" {}"), TEXT("{\"a\""), TEXT("{\"a\",}"),
		TEXT("{,\"a\"}"), TEXT("{a}"), TEXT("{null}"),
		TEXT("{NULLx}"), TEXT("{NULL"), TEXT("{\"a\"\"b\"}"),
		TEXT("{\"a\" ,\"b\"}"), TEXT("{\"a\\\"}"), TEXT("{\"a\\"),
		TEXT("{\"a\0b\"}"), TEXT("{\"a\"}\0"), TEXT("{{\"a\"}}"),
		TEXT("{\"a\"}{\"b\"}"),
	};
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rc = walk(bad[i].s, bad[i].len, &n);
		tap_ok(rc == -1, "malformed literal %zu is refused (after %zu "
		    "elements)", i, n);
	}
}

/* Arrays made one: what store.c sends for POSTs that share a statement. */
static void
test_append(void)
{
	static const char *const lits[] = {
		"{\"a\",NULL}", "{}", "{\"b,\\\"}\"}", "{NULL}",
	};
	struct buf b = BUF_INIT, out = BUF_INIT;
	size_t i, n, pos = 0;
	int isnull;

	pgarray_open(&b);
	for (i = 0; i < sizeof lits / sizeof lits[0]; i++)
		tap_ok(pgarray_append(&b, lits[i], strlen(lits[i])) == 0,
		    "literal %zu appended", i);
	tap_ok(pgarray_append(&b, "\"a\"", 3) == -1 &&
	    pgarray_append(&b, "{", 1) == -1, "an unbraced one is refused");
	pgarray_close(&b);
	tap_is(b.data, "{\"a\",NULL,\"b,\\\"}\",NULL}",
	    "their elements in order, an empty one adding none");
	tap_ok(walk(b.data, b.len, &n) == 0 && n == 4, "reads as 4 elements");
	(void)pgarray_next(b.data, b.len, &pos, &out, &isnull);
	(void)pgarray_next(b.data, b.len, &pos, &out, &isnull);
	tap_ok(pgarray_next(b.data, b.len, &pos, &out, &isnull) == 1 &&
	    !isnull && strcmp(out.data, "b,\"}") == 0,
	    "an element with a comma, a quote and a brace intact");
	buf_release(&b);
	buf_release(&out);
}

int
main(void)
{
	test_round_trip();
	test_null_and_empty();
	test_nul_refused();
	test_malformed();
	test_append();
	return tap_done();
}
