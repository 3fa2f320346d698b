/*
 * test_ratelimit.c - the fixed-window limiter: a burst passes, the rest is
 * counted, and the count comes back once with the next event that passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/ratelimit.h"

/* Three per second: the fourth is refused; the next window hands back the count. */
static void test_burst_then_count(void **state)
{
	struct ratelimit rl;
	uint64_t n = 99;

	(void)state;
	ratelimit_init(&rl, 3, 1000);
	for (int i = 0; i < 3; i++) {
		assert_true(ratelimit_allow(&rl, 5000 + i, &n));
		assert_int_equal(n, 0);
	}
	for (int i = 0; i < 1000; i++)
		assert_false(ratelimit_allow(&rl, 5500, &n));
	assert_false(ratelimit_allow(&rl, 5999, &n));
	assert_int_equal(n, 0);
	assert_true(ratelimit_allow(&rl, 6000, &n));
	assert_int_equal(n, 1001);
	assert_true(ratelimit_allow(&rl, 6001, &n));
	assert_int_equal(n, 0); /* handed back once */
	assert_int_equal(rl.suppressed_total, 1001);
}

/* Zero arguments are made sane; a clock that goes back starts a new window. */
static void test_edges(void **state)
{
	struct ratelimit rl;
	uint64_t n;

	(void)state;
	ratelimit_init(&rl, 0, 0);
	assert_true(ratelimit_allow(&rl, 10, &n));
	assert_false(ratelimit_allow(&rl, 10, &n));
	assert_true(ratelimit_allow(&rl, 11, &n));
	assert_int_equal(n, 1);
	assert_true(ratelimit_allow(&rl, 3, &n)); /* clock went back */
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_count),
		cmocka_unit_test(test_edges),
	};
	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
