/*
 * db_bench.c - throughput of the async pool and of request claims.
 *
 * Needs a PostgreSQL URL in KC_PG_URL (e.g. from tests/integration/pg.sh:
 *   sh -c '. tests/integration/pg.sh; pg_start; KC_PG_URL=$(pg_url) ./bench/db_bench; pg_stop'
 * ); without it, it says so and exits 0. It applies the migrations first
 * (the claims need the schema). Prints queries per second for
 * `SELECT $1` and for claims (INSERT ... ON CONFLICT DO NOTHING), with
 * BENCH_N queries kept BENCH_DEPTH deep in flight on a pool of BENCH_POOL.
 */
#include "core/clock.h"
#include "core/log.h"
#include "db/db_migrate.h"
#include "db/db_pool.h"
#include "db/db_sql.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_N	    20000
#define BENCH_DEPTH 64
#define BENCH_POOL  8

/* One benchmark run. */
struct bench {
	struct db_pool *pool;
	const char *sql;
	int nparams; /* 1: SELECT $1; 2: a claim */
	int sent, done, failed;
};

static void bench_send(struct bench *b);

/* A query finished: count it and keep the pipeline full. */
static void bench_done(void *arg, const struct db_result *r)
{
	struct bench *b = arg;

	b->done++;
	b->failed += r->status != DB_OK;
	if (b->sent < BENCH_N)
		bench_send(b);
}

/* Send the next query (its parameter: a distinct 64-hex id). */
static void bench_send(struct bench *b)
{
	char id[65], inst[] = "bench";
	const char *params[] = {id, inst};

	snprintf(id, sizeof(id), "%056llx%08x", (unsigned long long)time(NULL), (unsigned)b->sent);
	b->sent++;
	if (db_pool_query(b->pool, b->sql, b->nparams, params, bench_done, b) != 0) {
		b->failed++;
		b->done++;
	}
}

/* Seconds since an arbitrary origin. */
static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run BENCH_N queries of sql and print the rate. */
static void bench_run(struct event_base *base, struct db_pool *pool, const char *name,
		      const char *sql, int nparams)
{
	struct bench b = {.pool = pool, .sql = sql, .nparams = nparams};
	double t0 = bench_now();

	for (int i = 0; i < BENCH_DEPTH; i++)
		bench_send(&b);
	while (b.done < BENCH_N)
		event_base_loop(base, EVLOOP_ONCE);
	printf("db %-10s %6d queries  %8.0f q/s  failed %d\n", name, BENCH_N,
	       BENCH_N / (bench_now() - t0), b.failed);
}

/* Turn the loop until every connection is up; false after 10 s. */
static bool bench_wait_connected(struct event_base *base, struct db_pool *pool)
{
	struct timeval tick = {0, 100000};
	double end = bench_now() + 10;
	struct db_pool_stats st;

	db_pool_stats(pool, &st);
	while (st.connected < st.size && bench_now() < end) {
		event_base_loopexit(base, &tick);
		event_base_loop(base, EVLOOP_ONCE);
		db_pool_stats(pool, &st);
	}
	return st.connected == st.size;
}

/* Migrate, set up a pool, wait for it, run the benchmarks. */
int main(void)
{
	const char *url = getenv("KC_PG_URL");
	struct event_base *base = event_base_new();
	struct clock *clk = clock_new_libevent(base);
	struct db_pool_config cfg;
	struct db_pool *pool = NULL;
	char err[256];
	int applied, rc = 1;

	if (url == NULL || *url == '\0') {
		printf("db: skipped (set KC_PG_URL to a PostgreSQL database)\n");
		rc = 0;
		goto out;
	}
	log_configure(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
	db_pool_config_default(&cfg);
	cfg.conninfo = url;
	cfg.size = BENCH_POOL;
	if (db_migrate_url(url, &applied, err, sizeof(err)) != 0 ||
	    db_pool_new(&pool, base, clk, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "db_bench: %s\n", err);
		goto out;
	}
	if (!bench_wait_connected(base, pool)) {
		fprintf(stderr, "db_bench: the pool did not connect within 10 s\n");
		goto out;
	}
	bench_run(base, pool, "select", "SELECT $1::text", 1);
	bench_run(base, pool, "claim", DB_SQL_CLAIM, 2);
	rc = 0;
out:
	db_pool_free(pool);
	clock_free(clk);
	event_base_free(base);
	return rc;
}
