/*
 * test_secret.c - secret strings: copy, reveal, constant-time compare,
 * wipe; and the logger printing "[redacted]" for them, never the text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/secret.h"

#include <string.h>

/* What the capture hook saw of the last event. */
struct seen {
	int n;
	enum log_field_type type;
};

/* Log hook: remember the type of the first field. */
static void capture(void *arg, enum log_level l, const char *c, const char *m,
		    const struct log_field *f, size_t n)
{
	struct seen *s = arg;

	(void)l, (void)c, (void)m;
	s->n++;
	s->type = n > 0 ? f[0].type : LOG_FIELD_NONE;
}

/* A secret copies its text, compares by content and length, and wipes. */
static void test_set_equal_wipe(void **state)
{
	struct secret s = {0};

	(void)state;
	assert_false(secret_is_set(&s));
	assert_string_equal(secret_reveal(&s), "");
	assert_false(secret_equal(&s, "", 0));
	assert_int_equal(secret_set(&s, "hunter2xyz", 7), 0);
	assert_int_equal(secret_len(&s), 7);
	assert_string_equal(secret_reveal(&s), "hunter2");
	assert_true(secret_equal(&s, "hunter2", 7));
	assert_false(secret_equal(&s, "hunter3", 7));
	assert_false(secret_equal(&s, "hunter", 6));
	assert_int_equal(secret_set(&s, "other", 5), 0); /* replaces, old text wiped */
	assert_true(secret_equal(&s, "other", 5));
	secret_wipe(&s);
	assert_false(secret_is_set(&s));
	assert_null(s.text_);
	secret_wipe(&s); /* idempotent */
}

/* log_secret() carries the secret's type, never its text, to the sink. */
static void test_log_field_is_redacted(void **state)
{
	struct secret s = {0};
	struct seen seen = {0};

	(void)state;
	assert_int_equal(secret_set(&s, "hunter2", 7), 0);
	log_set_hook(capture, &seen);
	log_info("authz", "connect", log_secret("secret", &s));
	log_set_hook(NULL, NULL);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.type, LOG_FIELD_SECRET);
	assert_int_equal(log_secret("k", &s).v.s, NULL);
	secret_wipe(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_equal_wipe),
		cmocka_unit_test(test_log_field_is_redacted),
	};
	return cmocka_run_group_tests_name("secret", tests, NULL, NULL);
}
