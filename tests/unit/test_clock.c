/*
 * test_clock.c - the virtual clock fires timers in deadline order, and the
 * libevent clock fires a real timer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"

#include <event2/event.h>

/* Records the order in which timers fired. */
struct fired {
	int order[8];
	int n;
	int64_t at[8];
	struct clock *clk;
};

/* Context of one recording timer. */
struct tag {
	struct fired *f;
	int id;
};

/* Timer callback: record id and time. */
static void record(void *arg)
{
	struct tag *t = arg;

	t->f->at[t->f->n] = clock_now_ms(t->f->clk);
	t->f->order[t->f->n++] = t->id;
}

/* Timers fire in deadline order, ties in arming order, at their deadline. */
static void test_virtual_order(void **state)
{
	struct fired f = {0};
	struct clock *clk = clock_new_virtual(1000);
	struct tag a = {&f, 1}, b = {&f, 2}, c = {&f, 3};
	struct clock_timer *ta = clock_timer_new(clk, record, &a);
	struct clock_timer *tb = clock_timer_new(clk, record, &b);
	struct clock_timer *tc = clock_timer_new(clk, record, &c);

	(void)state;
	f.clk = clk;
	clock_timer_start(ta, 500);
	clock_timer_start(tb, 100);
	clock_timer_start(tc, 500);
	assert_int_equal(clock_virtual_pending(clk), 3);
	assert_int_equal(clock_virtual_advance(clk, 499), 1);
	assert_int_equal(clock_now_ms(clk), 1499);
	assert_int_equal(clock_virtual_advance(clk, 1), 2);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.order[0], 2);
	assert_int_equal(f.order[1], 1);
	assert_int_equal(f.order[2], 3);
	assert_int_equal(f.at[0], 1100);
	assert_int_equal(f.at[1], 1500);
	clock_timer_free(ta);
	clock_timer_free(tb);
	clock_timer_free(tc);
	clock_free(clk);
}

/* A stopped timer does not fire; a restarted one fires at its new time. */
static void test_virtual_stop_restart(void **state)
{
	struct fired f = {0};
	struct clock *clk = clock_new_virtual(0);
	struct tag a = {&f, 1};
	struct clock_timer *t = clock_timer_new(clk, record, &a);

	(void)state;
	f.clk = clk;
	clock_timer_start(t, 10);
	clock_timer_stop(t);
	assert_false(clock_timer_pending(t));
	assert_int_equal(clock_virtual_advance(clk, 100), 0);
	clock_timer_start(t, 10);
	clock_timer_start(t, 50);
	assert_int_equal(clock_virtual_advance(clk, 49), 0);
	assert_int_equal(clock_virtual_advance(clk, 1), 1);
	assert_int_equal(f.at[0], 150);
	clock_timer_free(t);
	clock_free(clk);
}

/* With an early offset, longer delays fire that much early; shorter ones on time. */
static void test_virtual_early(void **state)
{
	struct fired f = {0};
	struct clock *clk = clock_new_virtual(0);
	struct tag a = {&f, 1};
	struct clock_timer *t = clock_timer_new(clk, record, &a);

	(void)state;
	f.clk = clk;
	clock_virtual_set_early(clk, 3);
	clock_timer_start(t, 1000);
	assert_int_equal(clock_virtual_advance(clk, 1000), 1);
	assert_int_equal(f.at[0], 997);
	clock_timer_start(t, 3);
	assert_int_equal(clock_virtual_advance(clk, 3), 1);
	assert_int_equal(f.at[1], 1003);
	clock_timer_free(t);
	clock_free(clk);
}

/* Self-freeing timer context. */
struct selffree {
	struct clock_timer *t;
	int fired;
};

/* Timer callback that frees its own timer. */
static void free_self(void *arg)
{
	struct selffree *s = arg;

	s->fired++;
	clock_timer_free(s->t);
}

/* A timer may free itself inside its own callback (ASan checks the rest). */
static void test_free_inside_callback(void **state)
{
	struct clock *clk = clock_new_virtual(0);
	struct selffree s = {0};

	(void)state;
	s.t = clock_timer_new(clk, free_self, &s);
	clock_timer_start(s.t, 0);
	assert_int_equal(clock_virtual_run_due(clk), 1);
	assert_int_equal(s.fired, 1);
	assert_int_equal(clock_virtual_pending(clk), 0);
	clock_free(clk);
}

/* Re-arming callback: a chain of timers scheduled from callbacks. */
static void rearm(void *arg)
{
	struct selffree *s = arg;

	if (++s->fired < 5)
		clock_timer_start(s->t, 10);
}

/* Timers armed by callbacks fire within the same advance when due. */
static void test_chain_within_advance(void **state)
{
	struct clock *clk = clock_new_virtual(0);
	struct selffree s = {0};

	(void)state;
	s.t = clock_timer_new(clk, rearm, &s);
	clock_timer_start(s.t, 10);
	assert_int_equal(clock_virtual_advance(clk, 45), 4);
	assert_int_equal(clock_virtual_advance(clk, 5), 1);
	assert_int_equal(s.fired, 5);
	clock_timer_free(s.t);
	clock_free(clk);
}

/* Huge delays saturate instead of overflowing; the far timer stays armed. */
static void test_virtual_saturates(void **state)
{
	struct fired f = {0};
	struct clock *clk = clock_new_virtual(1000);
	struct tag a = {&f, 1};
	struct clock_timer *t = clock_timer_new(clk, record, &a);

	(void)state;
	f.clk = clk;
	clock_timer_start(t, INT64_MAX);
	assert_int_equal(clock_virtual_advance(clk, INT64_MAX - 2000), 0);
	assert_true(clock_timer_pending(t));
	assert_int_equal(clock_virtual_advance(clk, INT64_MAX), 1);
	assert_int_equal(clock_now_ms(clk), INT64_MAX);
	assert_int_equal(f.at[0], INT64_MAX);
	clock_timer_free(t);
	clock_free(clk);
}

/* Timer callback that ends the loop. */
static void stop_loop(void *arg)
{
	event_base_loopbreak(arg);
}

/* The libevent clock fires a real timer and time is monotonic. */
static void test_libevent_clock(void **state)
{
	struct event_base *base = event_base_new();
	struct clock *clk = clock_new_libevent(base);
	struct clock_timer *t = clock_timer_new(clk, stop_loop, base);
	int64_t t0 = clock_now_ms(clk);

	(void)state;
	clock_timer_start(t, 20);
	assert_true(clock_timer_pending(t));
	assert_int_equal(event_base_dispatch(base), 0);
	assert_false(clock_timer_pending(t));
	assert_true(clock_now_ms(clk) >= t0); /* monotonic; no timing asserted */
	clock_timer_free(t);
	clock_free(clk);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virtual_order),
		cmocka_unit_test(test_virtual_stop_restart),
		cmocka_unit_test(test_virtual_early),
		cmocka_unit_test(test_free_inside_callback),
		cmocka_unit_test(test_chain_within_advance),
		cmocka_unit_test(test_virtual_saturates),
		cmocka_unit_test(test_libevent_clock),
	};
	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
