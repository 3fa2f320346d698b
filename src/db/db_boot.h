/*
 * db_boot.h - what `serve` does with the database at start.
 *
 *     struct db_handle db;
 *     int64_t close_ms = db_boot_close_timeout(plan.margin.ms);
 *     if (db_boot(&db, base, clk, &cfg, &env, close_ms, err, sizeof(err)) != 0)
 *             fail: err says why; DB_BOOT_CONFIG: no master key, a refused
 *             or mismatched one; DB_BOOT_FAIL: database unreachable,
 *             schema newer than the binary, a migration failed;
 *     component_register(reg, desc_db, &db_component_ops, db.pool);
 *     db_store_load_serving(db.store, on_serving_set, signer);  // async, then on change
 *     ...
 *     db_handle_free(&db);   // after the plan's close of "db" completed
 *
 * db_boot loads the master key (MASTER_KEY, else master_key_path),
 * applies pending migrations (blocking, under the advisory lock: it runs
 * before the event loop starts), then creates the pool (db_pool_size
 * connections, db_query_timeout_ms per query, close bounded by
 * close_timeout_ms) and the store (instance_id, else the host name),
 * starts the readiness health check (db_health.h: db_health_interval_ms,
 * db_health_timeout_ms) and the claims janitor: every DB_CLAIMS_SWEEP_MS it deletes
 * request claims older than DB_CLAIMS_RETENTION_S (NIP-46 requests are
 * ephemeral events: relays do not replay them, so an hour is plenty).
 */
#ifndef KC_DB_BOOT_H
#define KC_DB_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct clock;
struct config;
struct env;
struct event_base;
struct clock_timer;
struct db_health;

/* How long a request claim is kept, and how often old ones are swept. */
#define DB_CLAIMS_RETENTION_S 3600
#define DB_CLAIMS_SWEEP_MS    (5 * 60 * 1000)

/* db_boot()'s failures: the database (or the host) failed, or the configuration is wrong. */
#define DB_BOOT_FAIL   (-1)
#define DB_BOOT_CONFIG (-2) /* no master key, one refused, or not the database's */

/* The most of the teardown margin kept for cancelling and dropping a stuck query. */
#define DB_CLOSE_RESERVE_MAX_MS 1000

/* The database side of a running daemon. */
struct db_handle {
	struct db_pool *pool;	     /* the component's self */
	struct db_store *store;	     /* what the signer uses */
	struct clock_timer *janitor; /* sweeps expired request claims */
	struct db_health *health;    /* asks the database for readiness (db_health.h) */
};

/*
 * Master key, migrations, pool and store from cfg. close_timeout_ms bounds
 * the component's close (the plan's teardown margin, less a little).
 * Returns 0, or with a message in err (h is then empty) DB_BOOT_CONFIG
 * when the master key is missing, unreadable, refused (shared, all zeros,
 * not a regular file) or not the one the database was sealed with, and
 * DB_BOOT_FAIL for anything else (unreachable, a migration, memory). h must stay
 * at the same address until db_handle_free() (the janitor points at it).
 */
int db_boot(struct db_handle *h, struct event_base *base, struct clock *clk,
	    const struct config *cfg, const struct env *env, int64_t close_timeout_ms, char *err,
	    size_t errlen) __attribute__((warn_unused_result));

/*
 * The pool's close timeout for a plan whose teardown margin is margin_ms:
 * the margin less a reserve (a tenth, at most DB_CLOSE_RESERVE_MAX_MS),
 * so that the pool cancels and drops a stuck query, and its close
 * completes, before the cleanup phase's budget runs out.
 */
int64_t db_boot_close_timeout(int64_t margin_ms);

/* Free the store and the pool (never from a pool callback). */
void db_handle_free(struct db_handle *h);

#endif /* KC_DB_BOOT_H */
