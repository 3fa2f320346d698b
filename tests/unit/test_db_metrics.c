/*
 * test_db_metrics.c - the keycastd_db_* families in a metrics registry,
 * fed by a pool that cannot reach its server (no PostgreSQL needed): the
 * families and their types, every series from the first scrape, values
 * that follow the pool (connect attempts and failures, a waiter, an
 * acquire timeout) on a virtual clock, and a collector that stops when
 * it is unregistered. The values under real load (queries, timeouts, in
 * use) are checked in test_db_pool against a real server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "db/db_metrics.h"
#include "db/db_pool.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A loop, a virtual clock, a pool of 2 that never connects, a registry. */
struct fx {
	struct event_base *base;
	struct clock *clk;
	struct db_pool *pool;
	struct metrics *m;
};

/* A query's callback: record its status. */
static void on_result(void *arg, const struct db_result *r)
{
	*(int *)arg = (int)r->status;
}

/* Per-test setup. */
static int setup(void **state)
{
	static struct fx f;
	struct db_pool_config cfg;
	char err[256];

	db_pool_config_default(&cfg);
	cfg.conninfo = "host=/nonexistent-keycastd-test-dir port=5432 dbname=none";
	cfg.size = 2;
	cfg.acquire_timeout_ms = 1000;
	cfg.backoff_min_ms = 50;
	cfg.backoff_max_ms = 400;
	f.base = event_base_new();
	f.clk = clock_new_virtual(0);
	f.m = metrics_new();
	if (f.base == NULL || f.clk == NULL || f.m == NULL ||
	    db_pool_new(&f.pool, f.base, f.clk, &cfg, err, sizeof(err)) != 0)
		return -1;
	*state = &f;
	return 0;
}

/* Per-test teardown. */
static int teardown(void **state)
{
	struct fx *f = *state;

	metrics_free(f->m);
	db_pool_free(f->pool);
	clock_free(f->clk);
	event_base_free(f->base);
	return 0;
}

/* Whether the rendered text holds line (a whole line). */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* Render m and check every line of want (NULL-terminated) is in it. */
static void assert_lines(struct metrics *m, const char *const *want)
{
	char *text = metrics_render_string(m);

	assert_non_null(text);
	for (; *want != NULL; want++) {
		if (!has_line(text, *want))
			fail_msg("missing line: %s\n--- rendered:\n%s", *want, text);
	}
	free(text);
}

/* Turn the loop until the pool has seen n failed attempts (or 10 s pass). */
static void run_until_failures(struct fx *f, uint64_t n)
{
	time_t end = time(NULL) + 10;
	struct db_pool_stats st;

	db_pool_stats(f->pool, &st);
	while (st.connect_failures < n && time(NULL) <= end) {
		event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		db_pool_stats(f->pool, &st);
	}
	assert_int_equal(st.connect_failures, n);
}

/* Every family is there with its type, and every series from the first scrape. */
static void test_families(void **state)
{
	struct fx *f = *state;
	static const char *const want[] = {
		"# TYPE keycastd_db_connect_attempts_total counter",
		"# TYPE keycastd_db_connect_failures_total counter",
		"# TYPE keycastd_db_reconnects_total counter",
		"# TYPE keycastd_db_query_timeouts_total counter",
		"# TYPE keycastd_db_queries_total counter",
		"# TYPE keycastd_db_pool_size gauge",
		"# TYPE keycastd_db_connections_up gauge",
		"# TYPE keycastd_db_connections_in_use gauge",
		"# TYPE keycastd_db_waiters gauge",
		"keycastd_db_pool_size 2",
		"keycastd_db_connections_up 0",
		"keycastd_db_connections_in_use 0",
		"keycastd_db_waiters 0",
		"keycastd_db_reconnects_total 0",
		"keycastd_db_query_timeouts_total 0",
		"keycastd_db_queries_total{status=\"ok\"} 0",
		"keycastd_db_queries_total{status=\"error\"} 0",
		"keycastd_db_queries_total{status=\"timeout\"} 0",
		"keycastd_db_queries_total{status=\"connection_lost\"} 0",
		"keycastd_db_queries_total{status=\"acquire_timeout\"} 0",
		"keycastd_db_queries_total{status=\"closed\"} 0",
		NULL};

	assert_int_equal(db_metrics_register(f->m, f->pool), 0);
	assert_int_equal(db_metrics_register(f->m, f->pool), -1); /* names taken */
	assert_lines(f->m, want);
}

/* The series follow the pool at every scrape, until the collector is removed. */
static void test_values_follow_the_pool(void **state)
{
	struct fx *f = *state;
	static const char *const failed[] = {"keycastd_db_connect_attempts_total 2",
					     "keycastd_db_connect_failures_total 2",
					     "keycastd_db_connections_up 0", NULL};
	static const char *const waiting[] = {"keycastd_db_waiters 1", NULL};
	static const char *const timed_out[] = {
		"keycastd_db_waiters 0", "keycastd_db_queries_total{status=\"acquire_timeout\"} 1",
		"keycastd_db_queries_total{status=\"ok\"} 0", NULL};
	struct db_pool_stats st;
	char *before, *after;
	int status = -1;

	assert_int_equal(db_metrics_register(f->m, f->pool), 0);
	run_until_failures(f, 2);
	assert_lines(f->m, failed);
	assert_int_equal(db_pool_query(f->pool, "SELECT 1", 0, NULL, on_result, &status), 0);
	assert_lines(f->m, waiting); /* queued: no connection is up */
	clock_virtual_advance(f->clk, 999);
	assert_int_equal(status, -1);
	clock_virtual_advance(f->clk, 1);
	assert_int_equal(status, DB_ERR_ACQUIRE);
	assert_lines(f->m, timed_out);
	before = metrics_render_string(f->m);
	db_metrics_unregister(f->m, f->pool);
	assert_int_equal(db_pool_query(f->pool, "SELECT 1", 0, NULL, on_result, &status), 0);
	clock_virtual_advance(f->clk, 1000); /* another timeout, more retries */
	db_pool_stats(f->pool, &st);
	assert_int_equal(st.queries[DB_ERR_ACQUIRE], 2);
	after = metrics_render_string(f->m);
	assert_non_null(before);
	assert_non_null(after);
	assert_string_equal(after, before); /* no collector: the last values stay */
	free(before);
	free(after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_families, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values_follow_the_pool, setup, teardown),
	};

	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	return cmocka_run_group_tests_name("db_metrics", tests, NULL, NULL);
}
