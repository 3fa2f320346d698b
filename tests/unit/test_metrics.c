/*
 * test_metrics.c - the metrics registry: exact exposition text for each
 * family type, name validation, escaping, collectors, type checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh registry per test. */
static int setup(void **state)
{
	*state = metrics_new();
	return *state == NULL ? -1 : 0;
}

/* Free the registry. */
static int teardown(void **state)
{
	metrics_free(*state);
	return 0;
}

/* Render and compare with the expected text exactly. */
static void assert_render(struct metrics *m, const char *want)
{
	char *got = metrics_render_string(m);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* A counter with labels, and a label-less gauge shown as 0 before use. */
static void test_counter_gauge(void **state)
{
	struct metrics *m = *state;
	struct metrics_family *c, *g;
	const char *a[] = {"/a", "200"};

	c = metrics_counter(m, "x_requests_total", "Requests.",
			    (const char *[]){"route", "status", NULL});
	g = metrics_gauge(m, "x_inflight", "In flight.", NULL);
	assert_non_null(c);
	assert_non_null(g);
	assert_render(m, "# HELP x_requests_total Requests.\n# TYPE x_requests_total counter\n"
			 "# HELP x_inflight In flight.\n# TYPE x_inflight gauge\nx_inflight 0\n");
	assert_int_equal(metrics_counter_add(c, a, 1), 0);
	assert_int_equal(metrics_counter_add(c, a, 2), 0);
	assert_int_equal(metrics_gauge_set(g, NULL, 3), 0);
	assert_int_equal(metrics_gauge_add(g, NULL, -1.5), 0);
	assert_true(metrics_value(c, a) == 3);
	assert_render(m, "# HELP x_requests_total Requests.\n# TYPE x_requests_total counter\n"
			 "x_requests_total{route=\"/a\",status=\"200\"} 3\n"
			 "# HELP x_inflight In flight.\n# TYPE x_inflight gauge\nx_inflight 1.5\n");
}

/* Histogram buckets are cumulative, with +Inf, _sum and _count. */
static void test_histogram(void **state)
{
	struct metrics *m = *state;
	const double b[] = {0.1, 1};
	struct metrics_family *h =
		metrics_histogram(m, "x_seconds", "Durations.", (const char *[]){"p", NULL}, b, 2);
	const char *v[] = {"q"};

	assert_non_null(h);
	assert_int_equal(metrics_observe(h, v, 0.05), 0);
	assert_int_equal(metrics_observe(h, v, 0.5), 0);
	assert_int_equal(metrics_observe(h, v, 7), 0);
	assert_render(m, "# HELP x_seconds Durations.\n# TYPE x_seconds histogram\n"
			 "x_seconds_bucket{p=\"q\",le=\"0.1\"} 1\n"
			 "x_seconds_bucket{p=\"q\",le=\"1\"} 2\n"
			 "x_seconds_bucket{p=\"q\",le=\"+Inf\"} 3\n"
			 "x_seconds_sum{p=\"q\"} 7.55\n"
			 "x_seconds_count{p=\"q\"} 3\n");
}

/* Invalid names, conventions and duplicates are refused. */
static void test_validation(void **state)
{
	struct metrics *m = *state;
	const double b[] = {1, 1};

	assert_null(metrics_counter(m, "x_requests", "no _total", NULL));
	assert_null(metrics_gauge(m, "9x", "digit first", NULL));
	assert_null(metrics_gauge(m, "x-y", "dash", NULL));
	assert_null(metrics_gauge(m, "", "empty", NULL));
	assert_null(metrics_gauge(m, "x", "reserved label", (const char *[]){"__a", NULL}));
	assert_null(metrics_gauge(m, "x", "colon label", (const char *[]){"a:b", NULL}));
	assert_null(metrics_gauge(m, "x", "twice", (const char *[]){"a", "a", NULL}));
	assert_null(metrics_histogram(m, "h", "le", (const char *[]){"le", NULL}, b, 1));
	assert_null(metrics_histogram(m, "h", "not increasing", NULL, b, 2));
	assert_non_null(metrics_gauge(m, "x:y_z", "ok", (const char *[]){"_a", NULL}));
	assert_null(metrics_gauge(m, "x:y_z", "taken", NULL));
	assert_null(metrics_counter(m, "x:y_z", "taken", NULL));
}

/* Values: integers in full, fractions exact and short, special values by name. */
static void test_values(void **state)
{
	struct metrics *m = *state;
	struct metrics_family *g = metrics_gauge(m, "g", "g", (const char *[]){"v", NULL});
	const double v[] = {600, 1e15, -3, 0.1, 1.5e-7, 1e300, INFINITY, -INFINITY, NAN};
	char name[8];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(name, sizeof(name), "%zu", i);
		assert_int_equal(metrics_gauge_set(g, (const char *[]){name}, v[i]), 0);
	}
	assert_render(m, "# HELP g g\n# TYPE g gauge\n"
			 "g{v=\"0\"} 600\ng{v=\"1\"} 1000000000000000\ng{v=\"2\"} -3\n"
			 "g{v=\"3\"} 0.1\ng{v=\"4\"} 1.5e-07\ng{v=\"5\"} 1e+300\n"
			 "g{v=\"6\"} +Inf\ng{v=\"7\"} -Inf\ng{v=\"8\"} NaN\n");
}

/* Wrong types and negative counter increments fail. */
static void test_type_checks(void **state)
{
	struct metrics *m = *state;
	struct metrics_family *c = metrics_counter(m, "c_total", "c", NULL);
	struct metrics_family *g = metrics_gauge(m, "g", "g", NULL);

	assert_int_equal(metrics_counter_add(c, NULL, -1), -1);
	assert_int_equal(metrics_gauge_set(c, NULL, 1), -1);
	assert_int_equal(metrics_counter_add(g, NULL, 1), -1);
	assert_int_equal(metrics_observe(g, NULL, 1), -1);
	assert_int_equal(metrics_family_type(c), METRICS_COUNTER);
	assert_ptr_equal(metrics_find(m, "g"), g);
}

/* Label values and help text are escaped. */
static void test_escaping(void **state)
{
	struct metrics *m = *state;
	struct metrics_family *g = metrics_gauge(m, "g", "a\\b\nc", (const char *[]){"l", NULL});

	assert_int_equal(metrics_gauge_set(g, (const char *[]){"q\"\\\n"}, 2), 0);
	assert_render(m, "# HELP g a\\\\b\\nc\n# TYPE g gauge\ng{l=\"q\\\"\\\\\\n\"} 2\n");
}

/* Collector: sets a gauge before every render until removed. */
static void collect(void *arg, struct metrics *m)
{
	int *n = arg;

	(*n)++;
	(void)metrics_gauge_set(metrics_find(m, "g"), NULL, *n);
}

/* Collectors run at render; reset empties a family. */
static void test_collector(void **state)
{
	struct metrics *m = *state;
	struct metrics_family *g = metrics_gauge(m, "g", "g", NULL);
	int n = 0;

	assert_int_equal(metrics_add_collector(m, collect, &n), 0);
	assert_render(m, "# HELP g g\n# TYPE g gauge\ng 1\n");
	assert_render(m, "# HELP g g\n# TYPE g gauge\ng 2\n");
	metrics_remove_collector(m, collect, &n);
	metrics_family_reset(g);
	assert_render(m, "# HELP g g\n# TYPE g gauge\ng 0\n");
	assert_int_equal(n, 2);
}

/* Run the group. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counter_gauge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_histogram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_type_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collector, setup, teardown),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
