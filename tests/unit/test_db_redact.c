/*
 * test_db_redact.c - credentials taken out of libpq messages: the message
 * libpq gives for a malformed URI (which quotes it whole), key=value and
 * URI-query passwords, a password holding '@', the password of the
 * connection string wherever it appears, truncation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <string.h>

#include "db/db_redact.h"

/* Redact msg under conninfo and compare with want. */
static void expect(const char *msg, const char *conninfo, const char *want)
{
	char out[512];

	db_redact(out, sizeof(out), msg, conninfo);
	assert_string_equal(out, want);
}

/* libpq's own message for a malformed URI quotes the password: it goes. */
static void test_libpq_malformed_uri(void **state)
{
	const char *url = "postgresql://postgres:SECRET@[::1/db";
	PQconninfoOption *opts;
	char *msg = NULL, out[512];

	(void)state;
	opts = PQconninfoParse(url, &msg);
	assert_null(opts);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "SECRET")); /* what libpq would print */
	db_redact(out, sizeof(out), msg, url);
	PQfreemem(msg);
	assert_null(strstr(out, "SECRET"));
	assert_non_null(strstr(out, "postgresql://postgres:" DB_REDACTED "@[::1/db"));
}

/* The patterns, with no connection string known. */
static void test_patterns(void **state)
{
	(void)state;
	expect("bad URI \"postgres://u:p4ss@h/db\"", NULL,
	       "bad URI \"postgres://u:" DB_REDACTED "@h/db\"");
	expect("x postgres://u:p@ss@word@h:5432/db y", NULL,
	       "x postgres://u:" DB_REDACTED "@h:5432/db y");
	expect("host=h password=hunter2 user=u", NULL, "host=h password=" DB_REDACTED " user=u");
	expect("host=h password='a b\\' c' user=u", NULL, "host=h password=" DB_REDACTED " user=u");
	expect("postgres://h/db?user=u&password=abc&x=1", NULL,
	       "postgres://h/db?user=u&password=" DB_REDACTED "&x=1");
	expect("no user info postgres://u@h:5432/db", NULL, "no user info postgres://u@h:5432/db");
	expect("first line\nsecond password=x", NULL, "first line");
	expect(NULL, NULL, "");
}

/* The connection string's own password is taken out wherever it appears. */
static void test_known_password(void **state)
{
	(void)state;
	expect("FATAL: role \"hunter22\" does not exist", "host=h password=hunter22",
	       "FATAL: role \"" DB_REDACTED "\" does not exist");
	expect("oops hunter22 here", "postgresql://u:hunter22@h/db", "oops " DB_REDACTED " here");
	/* too short to look for as plain text: only the patterns apply */
	expect("the abc", "host=h password=abc", "the abc");
}

/* A small buffer truncates, still terminated, never overruns. */
static void test_truncation(void **state)
{
	char out[8];

	(void)state;
	db_redact(out, sizeof(out), "password=verysecret and more", NULL);
	assert_int_equal(strlen(out), 7);
	assert_null(strstr(out, "verys"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libpq_malformed_uri),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_known_password),
		cmocka_unit_test(test_truncation),
	};
	return cmocka_run_group_tests_name("db_redact", tests, NULL, NULL);
}
