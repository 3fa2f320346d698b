/*
 * test_db_token.c - the pure parts of the API's bearer tokens: the shape
 * a token must have (the mark, 64 lower-case hex digits, nothing more)
 * and the hash the database keeps (SHA-256 of the whole token text).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "db/db_token.h"
#include "nostr/hex.h"

/* The token "kct_" + 64 zeros. */
#define TT_ZERO "kct_0000000000000000000000000000000000000000000000000000000000000000"
/* Its SHA-256 (sha256sum of the 68 bytes). */
#define TT_ZERO_SHA "790e9450d384f469b11a9aa1a749b770145e55020a81d144d7d80d4d7fea036c"

/* Whether the NUL-terminated s is well formed. */
static bool tt_ok(const char *s)
{
	return db_token_well_formed(s, strlen(s));
}

/* The shape: exactly the mark and 64 lower-case hex digits. */
static void test_well_formed(void **state)
{
	char t[DB_TOKEN_LEN + 2];

	(void)state;
	assert_int_equal(strlen(TT_ZERO), DB_TOKEN_LEN);
	assert_true(tt_ok(TT_ZERO));
	assert_true(tt_ok("kct_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(tt_ok(""));
	assert_false(tt_ok("kct_"));
	assert_false(tt_ok("kct_0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(tt_ok("kcx_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(tt_ok("KCT_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(tt_ok("kct_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg"));
	snprintf(t, sizeof(t), "%s0", TT_ZERO); /* one digit too many */
	assert_false(tt_ok(t));
	assert_false(db_token_well_formed(TT_ZERO, DB_TOKEN_LEN - 1)); /* one too few */
	memcpy(t, TT_ZERO, DB_TOKEN_LEN);
	t[10] = '\0'; /* a NUL inside */
	assert_false(db_token_well_formed(t, DB_TOKEN_LEN));
	/* the stored prefix is the mark and 8 digits */
	assert_int_equal(DB_TOKEN_PREFIX_LEN, strlen(DB_TOKEN_MARK) + 8);
}

/* The hash is SHA-256 of the token text, and differs for tokens one digit apart. */
static void test_hash(void **state)
{
	unsigned char h[DB_HASH_LEN], h2[DB_HASH_LEN];
	char hex[2 * DB_HASH_LEN + 1];
	char t[DB_TOKEN_LEN + 1];

	(void)state;
	db_token_hash(h, TT_ZERO, DB_TOKEN_LEN);
	hex_encode(hex, h, sizeof(h));
	assert_string_equal(hex, TT_ZERO_SHA);
	snprintf(t, sizeof(t), "%s", TT_ZERO);
	t[DB_TOKEN_LEN - 1] = '1';
	db_token_hash(h2, t, DB_TOKEN_LEN);
	assert_memory_not_equal(h, h2, sizeof(h));
	db_token_hash(h2, TT_ZERO, DB_TOKEN_LEN - 1); /* the length counts, not a NUL */
	assert_memory_not_equal(h, h2, sizeof(h));
}

/* Run the tests. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed),
		cmocka_unit_test(test_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
