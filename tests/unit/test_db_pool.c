/*
 * test_db_pool.c - the async libpq pool against a real PostgreSQL server.
 *
 * Run by tests/integration/db_pool.test, which starts a throwaway server
 * (pg.sh) and passes its URL in KC_PG_URL; without it every test skips.
 * Covers: bound parameters, server errors, concurrency beyond the pool
 * size, the waiter bound, acquire and query timeouts (server-side cancel),
 * a server killed with -m immediate and restarted mid-test (errors, then
 * recovery, no hang), reconnect backoff against an unreachable server (on
 * a virtual clock), and close with a stuck query bounded by its timeout,
 * through the component contract and through the shutdown plan's cleanup
 * phase on a virtual clock (the final line comes, inside the teardown
 * margin or with a warning at it). Through a proxy that holds every new
 * connection unanswered: a query timeout's cancel never blocks the loop,
 * nor does the cancel sent at the close deadline and in db_pool_free; and
 * on the real server (without client_connection_check_interval) that
 * cancel stops the stuck statement. A callback may free the pool; an
 * abort after a close ends it now and both close callers are told; every
 * distinct close caller is told once, however many. The keycastd_db_*
 * metrics are checked along the way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/component.h"
#include "core/diag.h"
#include "core/log.h"
#include "core/metrics.h"
#include "db/db_boot.h"
#include "db/db_component.h"
#include "db/db_metrics.h"
#include "db/db_pool.h"
#include "plan/plan.h"
#include "plan/plan_run.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Everything a test needs: a loop, a clock, a pool. */
struct fx {
	struct event_base *base;
	struct clock *clk;
	struct db_pool *pool;
	struct event *tick; /* keeps the loop turning while we wait */
	const char *url;
};

/* One query's outcome, as a test sees it. */
struct outcome {
	bool done;
	enum db_status status;
	char value[128];
	char error[256];
	size_t *max_busy; /* when set: record the pool's peak busy count */
	struct db_pool *pool;
};

/* Ticker callback: nothing, it only wakes the loop. */
static void fx_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Record a query's outcome. */
static void on_result(void *arg, const struct db_result *r)
{
	struct outcome *o = arg;
	struct db_pool_stats st;

	o->done = true;
	o->status = r->status;
	if (r->status == DB_OK && PQntuples(r->res) > 0)
		snprintf(o->value, sizeof(o->value), "%s", PQgetvalue(r->res, 0, 0));
	if (r->error != NULL)
		snprintf(o->error, sizeof(o->error), "%s", r->error);
	if (o->max_busy != NULL) {
		db_pool_stats(o->pool, &st);
		if (st.busy > *o->max_busy)
			*o->max_busy = st.busy;
	}
}

/* Turn the loop until *flag or secs of wall time pass; returns *flag. */
static bool run_until(struct fx *f, const bool *flag, int secs)
{
	time_t end = time(NULL) + secs;

	while (!*flag && time(NULL) <= end)
		event_base_loop(f->base, EVLOOP_ONCE);
	return *flag;
}

/* Turn the loop until every connection is up or secs pass. */
static bool run_until_ready(struct fx *f, int secs)
{
	time_t end = time(NULL) + secs;
	struct db_pool_stats st;

	db_pool_stats(f->pool, &st);
	while (st.connected < st.size && time(NULL) <= end) {
		event_base_loop(f->base, EVLOOP_ONCE);
		db_pool_stats(f->pool, &st);
	}
	return st.connected == st.size;
}

/* Scrape m and check each of the NULL-terminated lines is in it, whole. */
static void assert_metrics(struct metrics *m, const char *const *lines)
{
	char *text = metrics_render_string(m), want[256];

	assert_non_null(text);
	for (; *lines != NULL; lines++) {
		snprintf(want, sizeof(want), "\n%s\n", *lines);
		if (strstr(text, want) == NULL)
			fail_msg("missing metric line: %s\n--- scraped:\n%s", *lines, text);
	}
	free(text);
}

/* A pool of size n with the given timeouts; waits until it is connected. */
static void fx_pool_ex(struct fx *f, size_t n, size_t waiters, int64_t acquire_ms, int64_t query_ms,
		       int64_t close_ms)
{
	struct db_pool_config cfg;
	char err[256];

	db_pool_config_default(&cfg);
	cfg.conninfo = f->url;
	cfg.size = n;
	cfg.max_waiters = waiters;
	cfg.acquire_timeout_ms = acquire_ms;
	cfg.query_timeout_ms = query_ms;
	cfg.backoff_min_ms = 50;
	cfg.backoff_max_ms = 400;
	cfg.close_timeout_ms = close_ms;
	assert_int_equal(db_pool_new(&f->pool, f->base, f->clk, &cfg, err, sizeof(err)), 0);
	assert_true(run_until_ready(f, 10));
}

/* A pool as fx_pool_ex makes, closing within 300 ms. */
static void fx_pool(struct fx *f, size_t n, size_t waiters, int64_t acquire_ms, int64_t query_ms)
{
	fx_pool_ex(f, n, waiters, acquire_ms, query_ms, 300);
}

/* Group setup: skip without a server. */
static int setup(void **state)
{
	static struct fx f;
	struct timeval tv = {0, 50000};

	f.url = getenv("KC_PG_URL");
	f.base = event_base_new();
	f.clk = clock_new_libevent(f.base);
	f.tick = event_new(f.base, -1, EV_PERSIST, fx_tick, NULL);
	if (f.base == NULL || f.clk == NULL || f.tick == NULL || event_add(f.tick, &tv) != 0)
		return -1;
	*state = &f;
	return 0;
}

/* Group teardown. */
static int teardown(void **state)
{
	struct fx *f = *state;

	event_free(f->tick);
	clock_free(f->clk);
	event_base_free(f->base);
	return 0;
}

/* Per-test: skip when there is no server. */
static int need_pg(void **state)
{
	struct fx *f = *state;

	if (f->url == NULL || *f->url == '\0')
		skip();
	return 0;
}

/* Per-test teardown: free the test's pool. */
static int free_pool(void **state)
{
	struct fx *f = *state;

	db_pool_free(f->pool);
	f->pool = NULL;
	return 0;
}

/* Parameters are bound, results come back; server errors are DB_ERR_QUERY. */
static void test_query_params_and_errors(void **state)
{
	struct fx *f = *state;
	struct outcome a = {0}, b = {0}, c = {0};
	const char *p[] = {"41", "x'); DROP TABLE t; --"};

	need_pg(state);
	fx_pool(f, 2, 16, 5000, 5000);
	assert_int_equal(db_pool_query(f->pool, "SELECT $1::int + 1", 1, p, on_result, &a), 0);
	assert_int_equal(db_pool_query(f->pool, "SELECT $1::text", 1, p + 1, on_result, &b), 0);
	assert_int_equal(db_pool_query(f->pool, "SELEKT 1", 0, NULL, on_result, &c), 0);
	assert_false(a.done); /* never inside db_pool_query */
	assert_true(run_until(f, &c.done, 10) && run_until(f, &a.done, 10) &&
		    run_until(f, &b.done, 10));
	assert_int_equal(a.status, DB_OK);
	assert_string_equal(a.value, "42");
	assert_string_equal(b.value, p[1]);
	assert_int_equal(c.status, DB_ERR_QUERY);
	assert_non_null(strstr(c.error, "syntax error"));
}

/* 40 queries on 3 connections: all succeed, never more than 3 busy. */
static void test_concurrency_beyond_size(void **state)
{
	struct fx *f = *state;
	struct outcome o[40];
	char v[40][8];
	size_t max_busy = 0;
	struct metrics *m = metrics_new();
	static const char *const busy[] = {
		"keycastd_db_pool_size 3", "keycastd_db_connections_up 3",
		"keycastd_db_connections_in_use 3", "keycastd_db_waiters 37", NULL};
	static const char *const done[] = {"keycastd_db_connections_in_use 0",
					   "keycastd_db_waiters 0",
					   "keycastd_db_queries_total{status=\"ok\"} 40", NULL};

	need_pg(state);
	fx_pool(f, 3, 64, 20000, 20000);
	assert_non_null(m);
	assert_int_equal(db_metrics_register(m, f->pool), 0);
	for (int i = 0; i < 40; i++) {
		const char *p[] = {v[i]};

		o[i] = (struct outcome){.max_busy = &max_busy, .pool = f->pool};
		snprintf(v[i], sizeof(v[i]), "%d", i);
		assert_int_equal(db_pool_query(f->pool, "SELECT $1::text FROM pg_sleep(0.01)", 1, p,
					       on_result, &o[i]),
				 0);
	}
	assert_true(db_pool_inflight(f->pool) == 40);
	assert_metrics(m, busy);
	for (int i = 0; i < 40; i++) {
		assert_true(run_until(f, &o[i].done, 30));
		assert_int_equal(o[i].status, DB_OK);
		assert_string_equal(o[i].value, v[i]);
	}
	assert_int_equal(max_busy, 3); /* every connection was used, never more */
	assert_int_equal(db_pool_inflight(f->pool), 0);
	assert_metrics(m, done);
	metrics_free(m);
}

/* The waiter bound refuses the excess; a waiter past its acquire timeout fails. */
static void test_waiter_bound_and_acquire_timeout(void **state)
{
	struct fx *f = *state;
	struct outcome slow = {0}, w1 = {0}, w2 = {0}, w3 = {0};

	need_pg(state);
	fx_pool(f, 1, 2, 200, 20000);
	assert_int_equal(db_pool_query(f->pool, "SELECT pg_sleep(1)", 0, NULL, on_result, &slow),
			 0);
	assert_int_equal(db_pool_query(f->pool, "SELECT 1", 0, NULL, on_result, &w1), 0);
	assert_int_equal(db_pool_query(f->pool, "SELECT 2", 0, NULL, on_result, &w2), 0);
	assert_int_equal(db_pool_query(f->pool, "SELECT 3", 0, NULL, on_result, &w3), -1);
	assert_true(run_until(f, &w1.done, 10) && run_until(f, &w2.done, 10));
	assert_int_equal(w1.status, DB_ERR_ACQUIRE);
	assert_int_equal(w2.status, DB_ERR_ACQUIRE);
	assert_true(run_until(f, &slow.done, 10));
	assert_int_equal(slow.status, DB_OK);
	assert_false(w3.done);
}

/* A query past its timeout is cancelled on the server; the connection is reused. */
static void test_query_timeout_cancels(void **state)
{
	struct fx *f = *state;
	struct outcome slow = {0}, next = {0};
	struct db_pool_stats st;
	struct metrics *m = metrics_new();
	static const char *const lines[] = {"keycastd_db_query_timeouts_total 1",
					    "keycastd_db_queries_total{status=\"timeout\"} 1",
					    "keycastd_db_queries_total{status=\"ok\"} 1",
					    "keycastd_db_reconnects_total 0",
					    "keycastd_db_connect_failures_total 0",
					    "keycastd_db_connect_attempts_total 1",
					    NULL};

	need_pg(state);
	fx_pool(f, 1, 4, 20000, 300);
	assert_non_null(m);
	assert_int_equal(db_metrics_register(m, f->pool), 0);
	assert_int_equal(db_pool_query(f->pool, "SELECT pg_sleep(30)", 0, NULL, on_result, &slow),
			 0);
	assert_true(run_until(f, &slow.done, 10));
	assert_int_equal(slow.status, DB_ERR_TIMEOUT);
	assert_int_equal(db_pool_query(f->pool, "SELECT 'after'", 0, NULL, on_result, &next), 0);
	assert_true(run_until(f, &next.done, 10));
	assert_int_equal(next.status, DB_OK);
	assert_string_equal(next.value, "after");
	db_pool_stats(f->pool, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.reconnects, 0); /* the cancel worked: same connection */
	assert_metrics(m, lines);
	metrics_free(m);
}

/* Run a pg.sh function (pg_kill, pg_restart) on the test's server. */
static int pg_sh(const char *fn)
{
	char cmd[512];
	const char *src = getenv("KC_SRCDIR");
	int n = snprintf(cmd, sizeof(cmd), "sh -c '. \"%s/tests/integration/pg.sh\" && %s'",
			 src != NULL ? src : ".", fn);

	return n > 0 && (size_t)n < sizeof(cmd) ? system(cmd) : -1;
}

/* Server killed mid-query: the query fails cleanly, then the pool recovers. */
static void test_server_restart(void **state)
{
	struct fx *f = *state;
	struct outcome inflight = {0}, down = {0}, after = {0};
	struct db_pool_stats st;
	const char *why;
	struct metrics *m = metrics_new();
	static const char *const lines[] = {"keycastd_db_reconnects_total 2",
					    "keycastd_db_connections_up 2",
					    "keycastd_db_queries_total{status=\"ok\"} 1", NULL};

	need_pg(state);
	fx_pool(f, 2, 16, 500, 60000);
	assert_non_null(m);
	assert_int_equal(db_metrics_register(m, f->pool), 0);
	assert_int_equal(
		db_pool_query(f->pool, "SELECT pg_sleep(60)", 0, NULL, on_result, &inflight), 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(pg_sh("pg_kill"), 0);
	assert_true(run_until(f, &inflight.done, 20));
	assert_int_equal(inflight.status, DB_ERR_CONN);
	/* while it is down: a query fails (never hangs), readiness says why */
	if (db_pool_query(f->pool, "SELECT 1", 0, NULL, on_result, &down) == 0) {
		assert_true(run_until(f, &down.done, 20));
		assert_int_not_equal(down.status, DB_OK);
	}
	assert_false(db_pool_ready(f->pool, &why));
	assert_string_equal(why, "database not connected");
	assert_int_equal(pg_sh("pg_restart"), 0);
	assert_true(run_until_ready(f, 30));
	assert_int_equal(db_pool_query(f->pool, "SELECT 'back'", 0, NULL, on_result, &after), 0);
	assert_true(run_until(f, &after.done, 20));
	assert_int_equal(after.status, DB_OK);
	assert_string_equal(after.value, "back");
	db_pool_stats(f->pool, &st);
	assert_int_equal(st.reconnects, 2);
	assert_true(st.queries[DB_ERR_CONN] >= 1); /* the killed query, counted by how it ended */
	assert_metrics(m, lines);
	metrics_free(m);
}

/* Pool close callback: set the flag. */
static void on_flag(void *arg)
{
	*(bool *)arg = true;
}

/* Component completion: record that it came. */
static void on_component_done(void *arg, struct component *c, enum component_op op)
{
	(void)c;
	if (op == COMPONENT_OP_CLOSE)
		*(bool *)arg = true;
}

/* Close with a stuck query: cancelled and dropped at the timeout, close completes. */
static void test_close_with_stuck_query(void **state)
{
	struct fx *f = *state;
	struct component_registry *reg = component_registry_new(f->clk);
	static const struct component_desc desc = {.name = "db", .summary = "database"};
	struct outcome stuck = {0}, late = {0}, check = {0};
	struct component *c;
	bool closed = false;
	const char *why;

	need_pg(state);
	fx_pool(f, 2, 16, 5000, 60000);
	c = component_register(reg, &desc, &db_component_ops, f->pool);
	assert_non_null(c);
	assert_int_equal(
		db_pool_query(f->pool, "SELECT pg_sleep(60) -- stuck", 0, NULL, on_result, &stuck),
		0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(component_inflight(c), 1);
	assert_int_equal(component_close(c, on_component_done, &closed), 0);
	assert_int_equal(db_pool_query(f->pool, "SELECT 1", 0, NULL, on_result, &late), -1);
	assert_false(db_pool_ready(f->pool, &why)); /* not ready while it closes */
	assert_string_equal(why, "database pool closing");
	assert_true(run_until(f, &closed, 20));
	assert_true(stuck.done);
	assert_int_equal(stuck.status, DB_ERR_CLOSED);
	assert_int_equal(component_state(c), COMPONENT_CLOSED);
	component_registry_free(reg);
	db_pool_free(f->pool);
	/* the server ended it once it saw the closed socket: no stuck backend remains */
	fx_pool(f, 1, 4, 5000, 5000);
	for (time_t end = time(NULL) + 20; strcmp(check.value, "0") != 0 && time(NULL) <= end;) {
		check = (struct outcome){0};
		assert_int_equal(
			db_pool_query(f->pool,
				      "SELECT count(*) FROM pg_stat_activity WHERE query"
				      " LIKE 'SELECT pg_sleep(60) -- stuck%' AND state = 'active'",
				      0, NULL, on_result, &check),
			0);
		assert_true(run_until(f, &check.done, 10));
	}
	assert_string_equal(check.value, "0");
}

/* Turn the loop until the pool has seen n failed connection attempts (or 10 s pass). */
static void run_until_failures(struct fx *f, uint64_t n)
{
	time_t end = time(NULL) + 10;
	struct db_pool_stats st;

	db_pool_stats(f->pool, &st);
	while (st.connect_failures < n && time(NULL) <= end) {
		event_base_loop(f->base, EVLOOP_ONCE);
		db_pool_stats(f->pool, &st);
	}
	assert_int_equal(st.connect_failures, n);
}

/* The pool's connection attempts so far. */
static uint64_t attempts(struct db_pool *p)
{
	struct db_pool_stats st;

	db_pool_stats(p, &st);
	return st.connect_attempts;
}

/* Unreachable server: retried after doubling delays up to the cap; queries fail, never hang. */
static void test_unreachable_backoff(void **state)
{
	struct fx *f = *state;
	static const int64_t delays[] = {50, 100, 200, 400, 400, 400};
	struct clock *vclk = clock_new_virtual(0);
	struct db_pool_config cfg;
	struct outcome q = {0};
	const char *why;
	char err[256];

	db_pool_config_default(&cfg);
	cfg.conninfo = "host=/nonexistent-keycastd-test-dir port=5432 dbname=none";
	cfg.size = 1;
	cfg.acquire_timeout_ms = 1000;
	cfg.backoff_min_ms = 50;
	cfg.backoff_max_ms = 400;
	assert_int_equal(db_pool_new(&f->pool, f->base, vclk, &cfg, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		run_until_failures(f, i + 1);
		assert_int_equal(attempts(f->pool), i + 1);
		clock_virtual_advance(vclk, delays[i] - 1);
		assert_int_equal(attempts(f->pool), i + 1); /* not retried before its delay */
		clock_virtual_advance(vclk, 1);
		assert_int_equal(attempts(f->pool), i + 2);
	}
	assert_false(db_pool_ready(f->pool, &why));
	assert_string_equal(why, "database not connected");
	assert_int_equal(db_pool_query(f->pool, "SELECT 1", 0, NULL, on_result, &q), 0);
	clock_virtual_advance(vclk, 1000);
	assert_true(q.done);
	assert_int_equal(q.status, DB_ERR_ACQUIRE);
	db_pool_free(f->pool);
	f->pool = NULL;
	clock_free(vclk);
}

/* The plan's final log line, as the log hook sees it. */
struct final_line {
	bool seen;
	bool warning;
};

/* Log hook: remember the plan's final line. */
static void capture_final(void *arg, enum log_level level, const char *component, const char *msg,
			  const struct log_field *fields, size_t nfields)
{
	struct final_line *fl = arg;

	(void)level;
	(void)component;
	(void)fields;
	(void)nfields;
	if (strncmp(msg, "shutdown complete", strlen("shutdown complete")) == 0) {
		fl->seen = true;
		fl->warning = strstr(msg, "with warning") != NULL;
	}
}

/* Plan hook: what the db component has dropped (f's pool). */
static uint64_t plan_dropped(void *arg, const char *component)
{
	struct fx *f = arg;

	return strcmp(component, "db") == 0 && f->pool != NULL ? db_component_dropped(f->pool) : 0;
}

/*
 * Run a plan (readiness off, then a cleanup phase that closes db within
 * a teardown margin of margin) with a query stuck in pg_sleep(60) and the pool's close timeout
 * close_ms (-1: db_boot_close_timeout of the margin). Pool, components and plan run on a virtual
 * clock moved in 50 ms steps, so the close deadline and the budget fire in deadline order whatever
 * the machine's speed. Returns the cleanup phase's outcome; *fl gets the final line.
 */
static enum plan_outcome run_cleanup_plan(struct fx *f, const char *margin, int64_t close_ms,
					  struct final_line *fl, struct outcome *stuck)
{
	static const struct component_desc desc = {.name = "db", .summary = "database"};
	static const struct component_desc *const descs[] = {&desc};
	struct clock *real = f->clk, *vclk = clock_new_virtual(0);
	struct component_registry *reg = component_registry_new(vclk);
	const struct plan_hooks hooks = {.dropped = plan_dropped, .arg = f};
	struct plan p = {0};
	struct diag d = {0};
	struct plan_run *r;
	enum plan_outcome out;
	char yaml[512];

	snprintf(yaml, sizeof(yaml),
		 "version: 1\nceiling: 30s\nteardown_margin: %s\n"
		 "phases:\n  - name: pre-drain\n    budget: 0s\n    steps: [{readiness: fail}]\n"
		 "    on_timeout: continue\n  - name: cleanup\n    budget: teardown-margin\n"
		 "    steps: [{close: db}]\n    on_timeout: continue\n",
		 margin);
	assert_int_equal(plan_load_string(&p, "cleanup.yaml", yaml, strlen(yaml), &d), 0);
	if (plan_validate(&p, descs, 1, &d) != 0)
		diag_print(&d, stderr);
	assert_int_equal(diag_count(&d, DIAG_ERROR), 0);
	f->clk = vclk;
	fx_pool_ex(f, 2, 16, 5000, 60000,
		   close_ms >= 0 ? close_ms : db_boot_close_timeout(p.margin.ms));
	f->clk = real;
	assert_non_null(component_register(reg, &desc, &db_component_ops, f->pool));
	assert_int_equal(db_pool_query(f->pool, "SELECT pg_sleep(60)", 0, NULL, on_result, stuck),
			 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	r = plan_run_new(&p, reg, vclk, &hooks);
	assert_non_null(r);
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
	log_set_hook(capture_final, fl);
	plan_run_start(r);
	for (int ms = 0; !fl->seen && ms < 30000; ms += 50) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		clock_virtual_advance(vclk, 50);
	}
	log_set_hook(NULL, NULL);
	log_configure(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
	assert_true(plan_run_done(r));
	out = plan_run_outcome(r, 1);
	plan_run_free(r);
	db_pool_free(f->pool); /* still closing after a timed-out phase: cancels the query */
	f->pool = NULL;
	component_registry_free(reg);
	clock_free(vclk);
	plan_free(&p);
	diag_clear(&d);
	return out;
}

/*
 * Cleanup phase: the stuck query is cancelled inside the margin and its
 * connection dropped; the final line comes, with a warning: the phase
 * completed only by dropping it (completed_with_drops), counted in the stats.
 */
static void test_plan_close_within_margin(void **state)
{
	struct fx *f = *state;
	struct final_line fl = {0};
	struct outcome stuck = {0};

	need_pg(state);
	assert_int_equal(db_boot_close_timeout(10000), 9000);
	assert_int_equal(db_boot_close_timeout(60000), 59000);
	assert_int_equal(db_boot_close_timeout(0), 0);
	assert_int_equal(run_cleanup_plan(f, "4s", -1, &fl, &stuck),
			 PLAN_OUTCOME_COMPLETED_WITH_DROPS);
	assert_true(fl.seen);
	assert_true(fl.warning);
	assert_true(stuck.done);
	assert_int_equal(stuck.status, DB_ERR_CLOSED);
}

/* A db close that outlasts the margin: the phase times out and the final line still comes. */
static void test_plan_close_past_margin(void **state)
{
	struct fx *f = *state;
	struct final_line fl = {0};
	struct outcome stuck = {0};

	need_pg(state);
	assert_int_equal(run_cleanup_plan(f, "1s", 60000, &fl, &stuck), PLAN_OUTCOME_TIMED_OUT);
	assert_true(fl.seen);
	assert_true(fl.warning);
	assert_true(stuck.done); /* failed by db_pool_free, never left hanging */
	assert_int_equal(stuck.status, DB_ERR_CLOSED);
}

/*
 * A TCP proxy in front of the test server, on the test's loop: it forwards
 * one connection (the pool's) and, once hold is set, accepts and holds
 * every further one unanswered, as an unreachable server would hold a
 * PQcancel (which opens a connection of its own).
 */
struct proxy {
	struct evconnlistener *l;
	struct bufferevent *a, *b; /* client side, server side */
	int port;
	int accepted;
	bool hold;
	evutil_socket_t held[8];
	int nheld;
};

/* Forward what one side read to the other. */
static void proxy_read(struct bufferevent *from, void *arg)
{
	struct proxy *px = arg;

	bufferevent_write_buffer(from == px->a ? px->b : px->a, bufferevent_get_input(from));
}

/* Either side closed: close both. */
static void proxy_event(struct bufferevent *bev, short what, void *arg)
{
	struct proxy *px = arg;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	bufferevent_free(px->a);
	bufferevent_free(px->b);
	px->a = px->b = NULL;
}

/* A connection: held, or forwarded to the server when the pair is free. */
static void proxy_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
			 void *arg)
{
	struct proxy *px = arg;
	struct event_base *base = evconnlistener_get_base(l);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	(void)sa;
	(void)len;
	px->accepted++;
	if (px->hold || px->a != NULL) {
		assert_true(px->nheld < 8);
		px->held[px->nheld++] = fd;
		return;
	}
	to.sin_port = htons((uint16_t)atoi(getenv("PG_PORT")));
	px->a = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	px->b = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	assert_true(px->a != NULL && px->b != NULL);
	bufferevent_setcb(px->a, proxy_read, NULL, proxy_event, px);
	bufferevent_setcb(px->b, proxy_read, NULL, proxy_event, px);
	assert_int_equal(bufferevent_socket_connect(px->b, (struct sockaddr *)&to, sizeof(to)), 0);
	bufferevent_enable(px->a, EV_READ);
	bufferevent_enable(px->b, EV_READ);
}

/* Start the proxy on a free loopback port; f->url is pointed at it (in url). */
static void proxy_start(struct fx *f, struct proxy *px, char *url, size_t len)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sin);

	*px = (struct proxy){0};
	assert_non_null(getenv("PG_PORT"));
	px->l = evconnlistener_new_bind(f->base, proxy_accept, px, LEV_OPT_CLOSE_ON_FREE, 16,
					(struct sockaddr *)&sin, sizeof(sin));
	assert_non_null(px->l);
	assert_int_equal(getsockname(evconnlistener_get_fd(px->l), (struct sockaddr *)&sin, &sl),
			 0);
	px->port = ntohs(sin.sin_port);
	snprintf(url, len, "host=127.0.0.1 port=%d user=postgres dbname=keycastd_test", px->port);
}

/* Stop the proxy: close what it forwards and what it holds. */
static void proxy_stop(struct proxy *px)
{
	for (int i = 0; i < px->nheld; i++)
		close(px->held[i]);
	if (px->a != NULL) {
		bufferevent_free(px->a);
		bufferevent_free(px->b);
	}
	evconnlistener_free(px->l);
}

/* A one-connection pool through the proxy (query timeout query_ms, close close_ms). */
static void proxy_pool(struct fx *f, struct proxy *px, int64_t query_ms)
{
	static char url[256];
	const char *real = f->url;

	proxy_start(f, px, url, sizeof(url));
	f->url = url;
	fx_pool_ex(f, 1, 4, 5000, query_ms, 60000);
	f->url = real;
	assert_int_equal(px->accepted, 1);
	px->hold = true; /* from now on the "server" holds every new connection */
}

/* A query timeout's cancel runs off the loop: a cancel the server never answers blocks nothing. */
static void test_cancel_off_loop(void **state)
{
	struct fx *f = *state;
	struct outcome slow = {0};
	struct proxy px;

	need_pg(state);
	proxy_pool(f, &px, 300);
	assert_int_equal(db_pool_query(f->pool, "SELECT pg_sleep(60)", 0, NULL, on_result, &slow),
			 0);
	/* the loop keeps turning while the cancel waits: the query ends, the cancel still held */
	assert_true(run_until(f, &slow.done, 20));
	assert_int_equal(slow.status, DB_ERR_TIMEOUT);
	assert_int_equal(px.accepted, 2); /* the cancel's own connection came, and is held */
	db_pool_free(f->pool);
	f->pool = NULL;
	proxy_stop(&px); /* the cancel thread gets its answer (EOF) and ends */
}

/* Turn the loop until the proxy has accepted n connections or secs pass; whether it has. */
static bool run_until_accepted(struct fx *f, struct proxy *px, int n, int secs)
{
	time_t end = time(NULL) + secs;

	while (px->accepted < n && time(NULL) <= end)
		event_base_loop(f->base, EVLOOP_ONCE);
	return px->accepted >= n;
}

/*
 * The close deadline and db_pool_free send a cancel off the loop: a cancel
 * the server never answers (held by the proxy) blocks neither the close
 * callback nor the free, and nothing waits for it.
 */
static void test_close_and_free_cancel_off_loop(void **state)
{
	struct fx *f = *state;
	struct outcome stuck = {0}, stuck2 = {0};
	struct proxy px;
	bool closed = false;

	need_pg(state);
	proxy_pool(f, &px, 60000);
	assert_int_equal(db_pool_query(f->pool, "SELECT pg_sleep(60)", 0, NULL, on_result, &stuck),
			 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	db_pool_close(f->pool, 0, on_flag, &closed);
	assert_true(run_until(f, &closed, 20)); /* told while the cancel is still held */
	assert_int_equal(stuck.status, DB_ERR_CLOSED);
	assert_true(run_until_accepted(f, &px, 2, 20)); /* the cancel's own connection came */
	db_pool_free(f->pool);
	px.hold = false;
	proxy_stop(&px);
	proxy_pool(f, &px, 60000);
	assert_int_equal(db_pool_query(f->pool, "SELECT pg_sleep(60)", 0, NULL, on_result, &stuck2),
			 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	db_pool_free(f->pool); /* returns although the cancel is never answered */
	f->pool = NULL;
	assert_int_equal(stuck2.status, DB_ERR_CLOSED);
	assert_true(run_until_accepted(f, &px, 2, 20));
	proxy_stop(&px);
}

/* How many backends run a statement containing mark (-1 when the query fails). */
static int backends_running(struct fx *f, const char *mark)
{
	static const char sql[] =
		"SELECT count(*) FROM pg_stat_activity WHERE pid <> "
		"pg_backend_pid() AND state = 'active' AND position($1 in query) > 0";
	struct outcome o = {0};
	const char *params[] = {mark};

	assert_int_equal(db_pool_query(f->pool, sql, 1, params, on_result, &o), 0);
	assert_true(run_until(f, &o.done, 20));
	return o.status == DB_OK ? atoi(o.value) : -1;
}

/* Wait (up to secs) until no backend runs a statement containing mark; whether none does. */
static bool backends_gone(struct fx *f, const char *mark, int secs)
{
	time_t end = time(NULL) + secs;
	int n;

	while ((n = backends_running(f, mark)) != 0 && time(NULL) <= end)
		(void)nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
	return n == 0;
}

/*
 * A statement stuck at the close deadline, or in db_pool_free, stops on the
 * server (the test server does not set client_connection_check_interval,
 * so closing the socket alone would leave it running for a minute).
 */
static void test_close_and_free_end_backend(void **state)
{
	static const char *const sql[] = {"SELECT pg_sleep(60) /* stuck-close */",
					  "SELECT pg_sleep(60) /* stuck-free */"};
	struct fx *f = *state;
	struct outcome stuck = {0};
	bool closed = false;

	need_pg(state);
	for (int i = 0; i < 2; i++) {
		fx_pool(f, 1, 4, 5000, 60000);
		assert_int_equal(db_pool_query(f->pool, sql[i], 0, NULL, on_result, &stuck), 0);
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		if (i == 0) {
			db_pool_close(f->pool, 0, on_flag, &closed);
			assert_true(run_until(f, &closed, 20));
		}
		db_pool_free(f->pool);
		assert_int_equal(stuck.status, DB_ERR_CLOSED);
		fx_pool(f, 1, 4, 5000, 60000);
		assert_true(backends_gone(f, i == 0 ? "stuck-close" : "stuck-free", 20));
		db_pool_free(f->pool);
		f->pool = NULL;
		stuck = (struct outcome){0};
	}
}

/* A query callback that frees the pool (and clears the fixture's pointer). */
static void on_result_free(void *arg, const struct db_result *r)
{
	struct fx *f = arg;

	(void)r;
	db_pool_free(f->pool);
	f->pool = NULL;
}

/* A callback may free the pool: on a finished query, and at the close deadline. */
static void test_callback_frees_pool(void **state)
{
	struct fx *f = *state;
	struct outcome other = {0};

	need_pg(state);
	fx_pool(f, 2, 16, 5000, 60000);
	assert_int_equal(db_pool_query(f->pool, "SELECT 1", 0, NULL, on_result_free, f), 0);
	assert_int_equal(db_pool_query(f->pool, "SELECT pg_sleep(60)", 0, NULL, on_result, &other),
			 0);
	while (f->pool != NULL)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_true(other.done); /* failed by the free inside the callback */
	assert_int_equal(other.status, DB_ERR_CLOSED);
	fx_pool(f, 2, 16, 5000, 60000);
	assert_int_equal(db_pool_query(f->pool, "SELECT pg_sleep(60)", 0, NULL, on_result_free, f),
			 0);
	other = (struct outcome){0};
	assert_int_equal(db_pool_query(f->pool, "SELECT pg_sleep(60)", 0, NULL, on_result, &other),
			 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	db_pool_close(f->pool, 0, NULL, NULL);
	while (f->pool != NULL)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(other.status, DB_ERR_CLOSED);
}

/* Component completion of an abort. */
static void on_component_aborted(void *arg, struct component *c, enum component_op op)
{
	(void)c;
	if (op == COMPONENT_OP_ABORT)
		*(bool *)arg = true;
}

/* An abort after a close ends the close now; both pool close callers are told. */
static void test_abort_after_close(void **state)
{
	struct fx *f = *state;
	struct component_registry *reg = component_registry_new(f->clk);
	static const struct component_desc desc = {.name = "db", .summary = "database"};
	struct outcome stuck = {0};
	struct component *c;
	bool closed = false, aborted = false, first = false, second = false;

	need_pg(state);
	fx_pool_ex(f, 1, 4, 5000, 600000, 600000);
	c = component_register(reg, &desc, &db_component_ops, f->pool);
	assert_non_null(c);
	assert_int_equal(db_pool_query(f->pool, "SELECT pg_sleep(60)", 0, NULL, on_result, &stuck),
			 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(component_close(c, on_component_done, &closed), 0);
	assert_int_equal(component_abort(c, on_component_aborted, &aborted), 0);
	assert_true(run_until(f, &aborted, 20)); /* not after the 600 s close timeout */
	assert_int_equal(stuck.status, DB_ERR_CLOSED);
	assert_int_equal(component_state(c), COMPONENT_ABORTED);
	component_registry_free(reg);
	db_pool_free(f->pool);
	fx_pool_ex(f, 1, 4, 5000, 600000, 600000);
	stuck = (struct outcome){0};
	assert_int_equal(db_pool_query(f->pool, "SELECT pg_sleep(60)", 0, NULL, on_result, &stuck),
			 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	db_pool_close(f->pool, 600000, on_flag, &first);
	db_pool_close(f->pool, 0, on_flag, &second);
	assert_true(run_until(f, &second, 20));
	assert_true(first); /* the first caller is told as well */
	assert_int_equal(stuck.status, DB_ERR_CLOSED);
}

/* Pool close callback: count the call. */
static void on_count(void *arg)
{
	(*(int *)arg)++;
}

/* Every distinct close caller is told once, however many; a repeated (done, arg) pair once. */
static void test_close_callers_deduped_never_dropped(void **state)
{
	struct fx *f = *state;
	struct outcome stuck = {0};
	int told[7] = {0};
	time_t end;

	need_pg(state);
	fx_pool_ex(f, 1, 4, 5000, 600000, 600000);
	assert_int_equal(db_pool_query(f->pool, "SELECT pg_sleep(60)", 0, NULL, on_result, &stuck),
			 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	for (int i = 0; i < 7; i++) {
		db_pool_close(f->pool, 600000, on_count, &told[i]);
		db_pool_close(f->pool, 600000, on_count, &told[0]); /* close, then abort, ... */
	}
	db_pool_close(f->pool, 0, on_count, &told[6]);
	end = time(NULL) + 20;
	while ((!stuck.done || told[6] == 0) && time(NULL) <= end)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_true(stuck.done);
	for (int i = 0; i < 7; i++)
		assert_int_equal(told[i], 1);
	assert_int_equal(stuck.status, DB_ERR_CLOSED);
}

/* Run the group. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_query_params_and_errors, free_pool),
		cmocka_unit_test_teardown(test_concurrency_beyond_size, free_pool),
		cmocka_unit_test_teardown(test_waiter_bound_and_acquire_timeout, free_pool),
		cmocka_unit_test_teardown(test_query_timeout_cancels, free_pool),
		cmocka_unit_test_teardown(test_server_restart, free_pool),
		cmocka_unit_test_teardown(test_close_with_stuck_query, free_pool),
		cmocka_unit_test_teardown(test_unreachable_backoff, free_pool),
		cmocka_unit_test_teardown(test_plan_close_within_margin, free_pool),
		cmocka_unit_test_teardown(test_plan_close_past_margin, free_pool),
		cmocka_unit_test_teardown(test_cancel_off_loop, free_pool),
		cmocka_unit_test_teardown(test_close_and_free_cancel_off_loop, free_pool),
		cmocka_unit_test_teardown(test_close_and_free_end_backend, free_pool),
		cmocka_unit_test_teardown(test_callback_frees_pool, free_pool),
		cmocka_unit_test_teardown(test_abort_after_close, free_pool),
		cmocka_unit_test_teardown(test_close_callers_deduped_never_dropped, free_pool),
	};

	log_configure(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
	return cmocka_run_group_tests_name("db_pool", tests, setup, teardown);
}
