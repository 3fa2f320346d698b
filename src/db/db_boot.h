/*
 * db_boot.h - what `serve` does with the database at start, in two halves.
 *
 * The blocking half talks to PostgreSQL synchronously: it loads the master
 * key (MASTER_KEY, else master_key_path), checks that DATABASE_URL parses,
 * connects (giving up after db_connect_timeout_ms; each statement bounded
 * by db_statement_timeout_ms), applies pending migrations under the
 * advisory lock (waited for at most db_migrate_lock_timeout_ms) and checks
 * the master key against the one the database was sealed with.
 * db_boot_start() runs it on a thread of its own, all signals blocked, so
 * that the event loop turns meanwhile: the probes answer, a SIGTERM runs
 * the shutdown plan. The thread never calls libevent: it hands its result
 * back through a pipe the loop reads with an ordinary event. The loop half,
 * db_boot_finish(), then creates the pool (db_pool_size connections,
 * db_query_timeout_ms per query, close bounded by close_timeout_ms), the
 * store (instance_id, else the host name), the readiness health check
 * (db_health.h: db_health_interval_ms, db_health_timeout_ms) and the claims
 * janitor: every DB_CLAIMS_SWEEP_MS it deletes request claims older than
 * DB_CLAIMS_RETENTION_S (NIP-46 requests are ephemeral events: relays do
 * not replay them, so an hour is plenty).
 *
 *     struct db_boot *b;
 *     if (db_boot_start(&b, base, &cfg, &env, on_booted, arg, err, sizeof(err)) != 0)
 *             fail: no memory, no pipe, no thread (err says which);
 *     ... the loop runs ...
 *     on_booted(arg):    // on the loop, the thread has ended
 *             struct db_handle db;   // at a fixed address until db_handle_free
 *             rc = db_boot_finish(b, &db, base, clk, &cfg, close_ms, err, sizeof(err));
 *             0, or with err: DB_BOOT_CONFIG (no master key, a refused or
 *             mismatched one, a DATABASE_URL that does not parse),
 *             DB_BOOT_FAIL (unreachable, the migration lock wait ran out,
 *             a schema newer than the binary, a migration failed);
 *             component_register(reg, desc_db, &db_component_ops, db.pool);
 *     ...
 *     db_handle_free(&db);   // after the plan's close of "db" completed
 *     db_boot_free(b);       // never from on_booted; never waits
 *
 * The master key the blocking half loads lies on pages excluded from core
 * dumps (secmem.h) and is wiped as soon as on_booted returns, whether it
 * called db_boot_finish or not (a boot that ended after the shutdown
 * began starts nothing). db_boot_free of a boot whose thread still runs
 * (stuck in libpq on a server that accepts and never answers) does not
 * wait for it: the thread wipes and frees what it holds when it ends. A
 * process that ends meanwhile must not run exit()'s handlers under that
 * thread: daemon.c ends it with _exit once its final line is written.
 *
 * db_boot() runs both halves in a row on the caller's thread.
 */
#ifndef KC_DB_BOOT_H
#define KC_DB_BOOT_H

#include <stdbool.h>
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

/* A boot's failures: the database (or the host) failed, or the configuration is wrong. */
#define DB_BOOT_FAIL   (-1)
#define DB_BOOT_CONFIG (-2) /* no master key, one refused or not the database's; a bad URL */

/* The most of the teardown margin kept for cancelling and dropping a stuck query. */
#define DB_CLOSE_RESERVE_MAX_MS 1000

/* The database side of a running daemon. */
struct db_handle {
	struct db_pool *pool;	     /* the component's self */
	struct db_store *store;	     /* what the signer uses */
	struct clock_timer *janitor; /* sweeps expired request claims */
	struct db_health *health;    /* asks the database for readiness (db_health.h) */
};

/* A database boot whose blocking half runs, or ran, on its own thread. */
struct db_boot;

/* The blocking half has ended (on the loop thread); db_boot_finish() may run now. */
typedef void (*db_boot_done_fn)(void *arg);

/*
 * Start the blocking half on a thread, with what it needs of cfg and env
 * copied (neither is borrowed). done(arg) runs once on base's loop when
 * it has ended. Returns 0 with *out (the caller's: db_boot_free), or -1
 * with a message in err (no memory, no pipe, no thread).
 */
int db_boot_start(struct db_boot **out, struct event_base *base, const struct config *cfg,
		  const struct env *env, db_boot_done_fn done, void *arg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Whether b's blocking half is still running on its thread. */
bool db_boot_running(struct db_boot *b);

/*
 * The loop half, once the blocking half has ended (from done): the pool,
 * store, health check and janitor from cfg, with the master key b loaded,
 * which is then wiped (a second call fails). close_timeout_ms bounds the
 * component's close (the plan's teardown margin, less a little). Returns 0,
 * or with a message in err (h is then empty) the blocking half's failure
 * (DB_BOOT_CONFIG, DB_BOOT_FAIL) or DB_BOOT_FAIL (memory). h must stay at
 * the same address until db_handle_free() (the janitor points at it).
 */
int db_boot_finish(struct db_boot *b, struct db_handle *h, struct event_base *base,
		   struct clock *clk, const struct config *cfg, int64_t close_timeout_ms, char *err,
		   size_t errlen) __attribute__((warn_unused_result));

/*
 * Free b, its copies wiped; never from its done. A thread still running
 * is left to end on its own and frees b then. NULL is ignored.
 */
void db_boot_free(struct db_boot *b);

/*
 * Both halves in a row on the caller's thread (blocking): 0, or
 * DB_BOOT_CONFIG / DB_BOOT_FAIL with a message in err, as db_boot_finish.
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
