/*
 * db_metrics.c - keycastd_db_* metrics from the pool's counters, behind
 * db_metrics.h.
 */
#include "db/db_metrics.h"

#include "core/metrics.h"
#include "db/db_pool.h"

#include <stddef.h>
#include <stdint.h>

/* A family and the struct db_pool_stats field it mirrors. */
struct db_metrics_field {
	const char *name;
	const char *help;
	size_t offset; /* of a uint64_t (counters) or a size_t (gauges) */
};

static void db_metrics_collect(void *arg, struct metrics *m);
static void db_metrics_count(struct metrics_family *f, const char *const *values, uint64_t v);

/* The unlabelled counters. */
static const struct db_metrics_field db_metrics_counters[] = {
	{"keycastd_db_connect_attempts_total", "Database connection attempts started.",
	 offsetof(struct db_pool_stats, connect_attempts)},
	{"keycastd_db_connect_failures_total",
	 "Database connection attempts that failed (each retried after a backoff).",
	 offsetof(struct db_pool_stats, connect_failures)},
	{"keycastd_db_reconnects_total", "Database connections re-established after a loss.",
	 offsetof(struct db_pool_stats, reconnects)},
	{"keycastd_db_query_timeouts_total", "Queries cancelled by the query timeout.",
	 offsetof(struct db_pool_stats, timeouts)},
};

/* The gauges. */
static const struct db_metrics_field db_metrics_gauges[] = {
	{"keycastd_db_pool_size", "Database connections configured.",
	 offsetof(struct db_pool_stats, size)},
	{"keycastd_db_connections_up", "Database connections up (idle or in use).",
	 offsetof(struct db_pool_stats, connected)},
	{"keycastd_db_connections_in_use", "Database connections running a query.",
	 offsetof(struct db_pool_stats, busy)},
	{"keycastd_db_waiters", "Queries waiting for a free database connection.",
	 offsetof(struct db_pool_stats, waiting)},
};

/* The status label of keycastd_db_queries_total, by enum db_status. */
static const char *const db_metrics_status[DB_STATUS_COUNT] = {
	[DB_OK] = "ok",
	[DB_ERR_QUERY] = "error",
	[DB_ERR_TIMEOUT] = "timeout",
	[DB_ERR_CONN] = "connection_lost",
	[DB_ERR_ACQUIRE] = "acquire_timeout",
	[DB_ERR_CLOSED] = "closed",
};

#define DB_METRICS_QUERIES "keycastd_db_queries_total"
#define DB_METRICS_N(a)	   (sizeof(a) / sizeof((a)[0]))

/* Register the families and the collector. */
int db_metrics_register(struct metrics *m, struct db_pool *p)
{
	static const char *const status_label[] = {"status", NULL};

	for (size_t i = 0; i < DB_METRICS_N(db_metrics_counters); i++)
		if (metrics_counter(m, db_metrics_counters[i].name, db_metrics_counters[i].help,
				    NULL) == NULL)
			return -1;
	for (size_t i = 0; i < DB_METRICS_N(db_metrics_gauges); i++)
		if (metrics_gauge(m, db_metrics_gauges[i].name, db_metrics_gauges[i].help, NULL) ==
		    NULL)
			return -1;
	if (metrics_counter(m, DB_METRICS_QUERIES, "Database queries finished, by how they ended.",
			    status_label) == NULL)
		return -1;
	return metrics_add_collector(m, db_metrics_collect, p);
}

/* Stop reading the pool. */
void db_metrics_unregister(struct metrics *m, struct db_pool *p)
{
	metrics_remove_collector(m, db_metrics_collect, p);
}

/* Bring a counter series up to v (creating it at 0 if need be). */
static void db_metrics_count(struct metrics_family *f, const char *const *values, uint64_t v)
{
	double delta;

	if (f == NULL)
		return;
	delta = (double)v - metrics_value(f, values);
	if (delta >= 0)
		(void)metrics_counter_add(f, values, delta);
}

/* Refresh every series before a scrape. */
static void db_metrics_collect(void *arg, struct metrics *m)
{
	struct db_pool_stats st;
	const char *base = (const char *)&st;

	db_pool_stats(arg, &st);
	for (size_t i = 0; i < DB_METRICS_N(db_metrics_counters); i++)
		db_metrics_count(metrics_find(m, db_metrics_counters[i].name), NULL,
				 *(const uint64_t *)(base + db_metrics_counters[i].offset));
	for (size_t i = 0; i < DB_METRICS_N(db_metrics_gauges); i++)
		(void)metrics_gauge_set(
			metrics_find(m, db_metrics_gauges[i].name), NULL,
			(double)*(const size_t *)(base + db_metrics_gauges[i].offset));
	for (size_t s = 0; s < DB_STATUS_COUNT; s++)
		db_metrics_count(metrics_find(m, DB_METRICS_QUERIES),
				 (const char *const[]){db_metrics_status[s]}, st.queries[s]);
}
