/*
 * db_metrics.h - the database pool's counters and state as Prometheus
 * metrics (core/metrics.h), refreshed by a collector at every scrape
 * from db_pool_stats().
 *
 *     keycastd_db_connect_attempts_total  counter  connection attempts started
 *     keycastd_db_connect_failures_total  counter  attempts that failed
 *     keycastd_db_reconnects_total        counter  connections back after a loss
 *     keycastd_db_query_timeouts_total    counter  queries cancelled by their timeout
 *     keycastd_db_queries_total{status}   counter  queries finished, by status
 *     keycastd_db_pool_size               gauge    connections configured
 *     keycastd_db_connections_up          gauge    connections up (idle or in use)
 *     keycastd_db_connections_in_use      gauge    connections running a query
 *     keycastd_db_waiters                 gauge    queries waiting for a connection
 *
 * status is one of ok, error, timeout, connection_lost, acquire_timeout,
 * closed (enum db_status); every series exists from the first scrape.
 */
#ifndef KC_DB_METRICS_H
#define KC_DB_METRICS_H

struct metrics;
struct db_pool;

/*
 * Register the keycastd_db_* families in m and a collector reading p
 * (borrowed). Returns 0, or -1 (names taken, ENOMEM). Call
 * db_metrics_unregister before freeing the pool.
 */
int db_metrics_register(struct metrics *m, struct db_pool *p) __attribute__((warn_unused_result));

/* Stop reading p (its series keep their last values). */
void db_metrics_unregister(struct metrics *m, struct db_pool *p);

#endif /* KC_DB_METRICS_H */
