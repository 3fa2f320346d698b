/*
 * db_health.h - readiness that asks the database, not just the sockets.
 *
 * A database stopped with SIGSTOP (or a hung host) keeps its TCP
 * connections open: the pool still counts them as up. db_health asks
 * `SELECT 1` through the pool every interval_ms; an answer that has not
 * come timeout_ms after the question makes the pool not ready
 * (db_pool_ready, so /healthz/ready says 503 "database not answering")
 * until a question is answered again. One question at a time: while one
 * is unanswered no other is asked (the pool's own query timeout ends it).
 *
 *     db_health_new(&h, pool, clk, 1000, 2000);   // sets the pool's health check
 *     ...
 *     db_pool_free(pool); db_health_free(h);       // the pool first
 */
#ifndef KC_DB_HEALTH_H
#define KC_DB_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

struct clock;
struct db_pool;
struct db_health;

/* Start checking pool every interval_ms; 0, or -1 on ENOMEM. */
int db_health_new(struct db_health **out, struct db_pool *pool, struct clock *clk,
		  int64_t interval_ms, int64_t timeout_ms) __attribute__((warn_unused_result));

/* Whether the last question was answered in time; on false *why says why. */
bool db_health_ok(void *h, const char **why);

/* Free the checker (after the pool: a question still out is answered into it). NULL ignored. */
void db_health_free(struct db_health *h);

#endif /* KC_DB_HEALTH_H */
