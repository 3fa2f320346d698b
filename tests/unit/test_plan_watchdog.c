/*
 * test_plan_watchdog.c - the shutdown watchdog: it fires past its deadline,
 * writes the final line at warning level and calls its (injected) exit
 * function; stopped in time, it never fires; its deadline is before the
 * ceiling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plan/plan_watchdog.h"
#include "test_plan_fake.h"

#include <semaphore.h>
#include <string.h>

/* What the injected exit function saw. */
struct exit_rec {
	sem_t sem;
	int calls;
	int code;
};

/* Injected exit: record and wake the test (instead of _exit). */
static void fake_exit(void *arg, int code)
{
	struct exit_rec *e = arg;

	e->calls++;
	e->code = code;
	sem_post(&e->sem);
}

/* A stuck loop: the watchdog writes the final line and exits. */
static void test_watchdog_fires(void **state)
{
	struct exit_rec e = {0};
	struct plan_watchdog *w;
	const struct rec_line *l;

	(void)state;
	sem_init(&e.sem, 0, 0);
	rec_start();
	w = plan_watchdog_start(0, fake_exit, &e, 3);
	assert_non_null(w);
	sem_wait(&e.sem); /* no sleep: woken by the watchdog itself */
	assert_true(plan_watchdog_stop(w));
	rec_stop();
	assert_int_equal(e.calls, 1);
	assert_int_equal(e.code, 3);
	l = rec_find("shutdown complete with warning: watchdog");
	assert_non_null(l);
	assert_int_equal(l->level, LOG_LEVEL_WARN);
	sem_destroy(&e.sem);
}

/* A healthy shutdown stops the watchdog before its deadline: it never fires. */
static void test_watchdog_healthy(void **state)
{
	struct exit_rec e = {0};
	struct plan_watchdog *w;

	(void)state;
	rec_start();
	w = plan_watchdog_start(3600 * 1000, fake_exit, &e, 1);
	assert_non_null(w);
	assert_false(plan_watchdog_stop(w));
	rec_stop();
	assert_int_equal(e.calls, 0);
	assert_null(rec_find("shutdown complete"));
	assert_false(plan_watchdog_stop(NULL));
}

/* The deadline is before the ceiling, never negative. */
static void test_watchdog_deadline(void **state)
{
	(void)state;
	assert_int_equal(plan_watchdog_deadline_ms(120000), 120000 - PLAN_WATCHDOG_SLACK_MS);
	assert_true(plan_watchdog_deadline_ms(800) < 800);
	assert_int_equal(plan_watchdog_deadline_ms(0), 0);
}

/* Run every test. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watchdog_fires),
		cmocka_unit_test(test_watchdog_healthy),
		cmocka_unit_test(test_watchdog_deadline),
	};

	return cmocka_run_group_tests_name("plan_watchdog", tests, NULL, NULL);
}
