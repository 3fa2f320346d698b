/*
 * test_signer_audit.c - the audit writer on a virtual clock, with the
 * store's batch insert faked (the real one is tested against PostgreSQL
 * in test_db_store): a batch waits for the timer or fills up, one batch is
 * written at a time, a full queue drops and counts, a failed insert is
 * counted and not retried, the idle callback, and a writer freed while a
 * batch is being written (ASan watches the late callback).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "db/db_store.h"
#include "signer/signer_audit.h"

/* The fake store: the last batch handed over, and what the call returns. */
static struct {
	size_t calls, n;
	char method[DB_AUDIT_BATCH_MAX][33];
	bool client_null[DB_AUDIT_BATCH_MAX];
	int kind0;
	db_store_cb cb;
	void *arg;
	int rc;
} fake;

/* The faked batch insert: remember the batch; the test completes it. */
int db_store_audit_batch(struct db_store *s, const struct db_audit_entry *e, size_t n,
			 db_store_cb cb, void *arg)
{
	(void)s;
	fake.calls++;
	if (fake.rc != 0)
		return fake.rc;
	fake.n = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(fake.method[i], sizeof(fake.method[i]), "%s", e[i].method);
		fake.client_null[i] = e[i].client_pubkey == NULL;
	}
	fake.kind0 = e[0].event_kind;
	fake.cb = cb;
	fake.arg = arg;
	return 0;
}

/* Complete the batch in flight with result (rows, or -1). */
static void complete(int result)
{
	db_store_cb cb = fake.cb;

	assert_non_null(cb);
	fake.cb = NULL;
	cb(fake.arg, result, result < 0 ? "connection lost" : NULL);
}

/* One entry for method m. */
static struct db_audit_entry entry(const char *m)
{
	return (struct db_audit_entry){.authorization_id = 7,
				       .key_pubkey = "ab",
				       .client_pubkey = "cd",
				       .method = m,
				       .event_kind = 1,
				       .outcome = "ok"};
}

/* A writer on a virtual clock; the fake reset. */
static int setup(void **state)
{
	struct clock *clk = clock_new_virtual(0);

	memset(&fake, 0, sizeof(fake));
	*state = clk;
	return clk != NULL ? 0 : -1;
}

/* Free the clock. */
static int teardown(void **state)
{
	clock_free(*state);
	return 0;
}

/* Entries wait for the timer; strings are copied; a NULL client stays NULL. */
static void test_timer_batch(void **state)
{
	struct clock *clk = *state;
	struct signer_audit *a = signer_audit_new(NULL, clk);
	char method[16] = "sign_event";
	struct db_audit_entry e = entry(method);
	uint64_t w, f, d;

	signer_audit_add(a, &e);
	strcpy(method, "changed");
	e.client_pubkey = NULL;
	signer_audit_add(a, &e);
	assert_int_equal(fake.calls, 0);
	assert_false(signer_audit_idle(a));
	clock_virtual_advance(clk, SIGNER_AUDIT_FLUSH_MS);
	assert_int_equal(fake.calls, 1);
	assert_int_equal(fake.n, 2);
	assert_string_equal(fake.method[0], "sign_event");
	assert_string_equal(fake.method[1], "changed");
	assert_false(fake.client_null[0]);
	assert_true(fake.client_null[1]);
	assert_int_equal(fake.kind0, 1);
	complete(2);
	signer_audit_stats(a, &w, &f, &d);
	assert_int_equal(w, 2);
	assert_true(signer_audit_idle(a));
	signer_audit_free(a);
}

/* A full batch goes at once; one batch at a time; the next follows the first. */
static void test_full_batch_one_at_a_time(void **state)
{
	struct clock *clk = *state;
	struct signer_audit *a = signer_audit_new(NULL, clk);
	struct db_audit_entry e = entry("ping");

	for (int i = 0; i < DB_AUDIT_BATCH_MAX + 10; i++)
		signer_audit_add(a, &e);
	assert_int_equal(fake.calls, 1);
	assert_int_equal(fake.n, DB_AUDIT_BATCH_MAX);
	clock_virtual_advance(clk, 10 * SIGNER_AUDIT_FLUSH_MS);
	assert_int_equal(fake.calls, 1); /* the first is still being written */
	complete(DB_AUDIT_BATCH_MAX);
	clock_virtual_advance(clk, SIGNER_AUDIT_FLUSH_MS);
	assert_int_equal(fake.calls, 2);
	assert_int_equal(fake.n, 10);
	complete(10);
	assert_true(signer_audit_idle(a));
	signer_audit_free(a);
}

/* A full queue drops and counts; a failed insert is counted, not retried. */
static void test_drop_and_fail(void **state)
{
	struct clock *clk = *state;
	struct signer_audit *a = signer_audit_new(NULL, clk);
	struct db_audit_entry e = entry("ping");
	uint64_t w, f, d;

	for (int i = 0; i < DB_AUDIT_BATCH_MAX + SIGNER_AUDIT_QUEUE_MAX + 5; i++)
		signer_audit_add(a, &e);
	signer_audit_stats(a, &w, &f, &d);
	assert_int_equal(d, 5);
	complete(-1);
	signer_audit_stats(a, &w, &f, &d);
	assert_int_equal(f, DB_AUDIT_BATCH_MAX);
	assert_int_equal(w, 0);
	assert_int_equal(fake.calls, 2); /* the next batch went at once */
	fake.rc = -1;			 /* then the pool refuses: every queued batch fails */
	complete(-1);
	signer_audit_stats(a, &w, &f, &d);
	assert_int_equal(f, DB_AUDIT_BATCH_MAX + SIGNER_AUDIT_QUEUE_MAX);
	assert_true(signer_audit_idle(a));
	signer_audit_free(a);
}

/* The idle callback. */
static void on_idle(void *arg)
{
	(*(int *)arg)++;
}

/* on_idle writes what is queued at once and fires when the writer is idle. */
static void test_on_idle(void **state)
{
	struct clock *clk = *state;
	struct signer_audit *a = signer_audit_new(NULL, clk);
	struct db_audit_entry e = entry("connect");
	int idle = 0;

	signer_audit_on_idle(a, on_idle, &idle);
	assert_int_equal(idle, 1); /* idle already */
	signer_audit_add(a, &e);
	signer_audit_on_idle(a, on_idle, &idle);
	assert_int_equal(fake.calls, 1); /* no timer wait */
	assert_int_equal(idle, 1);
	complete(1);
	assert_int_equal(idle, 2);
	signer_audit_free(a);
}

/* Freed while a batch is written: the batch's late callback is harmless. */
static void test_free_while_writing(void **state)
{
	struct clock *clk = *state;
	struct signer_audit *a = signer_audit_new(NULL, clk);
	struct db_audit_entry e = entry("logout");

	signer_audit_add(a, &e);
	signer_audit_flush(a);
	signer_audit_add(a, &e);
	signer_audit_free(a);
	complete(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timer_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_batch_one_at_a_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_and_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_while_writing, setup, teardown),
	};
	return cmocka_run_group_tests_name("signer_audit", tests, NULL, NULL);
}
