/*
 * db_pool.h - an asynchronous PostgreSQL connection pool on one event loop.
 *
 * Every connection is driven by libpq's non-blocking API on the daemon's
 * event_base: PQconnectStart/PQconnectPoll for connecting, PQsendQueryParams
 * for queries (parameters always bound, never interpolated), PQflush on
 * EV_WRITE and PQconsumeInput/PQisBusy/PQgetResult on EV_READ. Timers
 * (query timeout, acquire timeout, reconnect backoff, close deadline) come
 * from a struct clock.
 *
 * Contract of a query: db_pool_query() returns 0 and the callback is then
 * called exactly once, later, from the loop (never inside db_pool_query);
 * or it returns -1 (pool closed, too many waiters) and the callback is
 * never called. A query waits for a free connection at most
 * acquire_timeout_ms and runs at most query_timeout_ms; then it is
 * cancelled on the server. PQcancel blocks (it opens a connection of its
 * own to the server, and libpq 15 has no asynchronous cancel), so it never
 * runs on the loop (db_cancel.h): a detached thread owns the PGcancel
 * object, calls PQcancel (documented thread-safe) and frees it; an
 * unreachable server holds up that thread, never the loop. If the cancel
 * has not ended the query one more query_timeout_ms later, the connection
 * is dropped. At the close deadline and in db_pool_free() a query still
 * running gets the same detached cancel (best effort, nothing waits for
 * it) and its connection is closed (PQfinish) at once; should the cancel
 * not arrive, the server ends the backend when it notices the closed
 * socket (within client_connection_check_interval when that is set). When a
 * connection is lost (server restart), its query fails with DB_ERR_CONN
 * and the connection comes back with exponential backoff.
 *
 * Callbacks (query and close) may call db_pool_close() and db_pool_free():
 * the pool delivers each callback after its own bookkeeping, and a pool
 * freed from inside a callback is torn down at once and released when the
 * pool's own frame on the stack returns.
 */
#ifndef KC_DB_POOL_H
#define KC_DB_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock;
struct event_base;
struct db_pool;

/* How a query ended. */
enum db_status {
	DB_OK,		/* the server answered (PGRES_COMMAND_OK or TUPLES_OK) */
	DB_ERR_QUERY,	/* the server answered with an error */
	DB_ERR_TIMEOUT, /* ran past query_timeout_ms; cancelled */
	DB_ERR_CONN,	/* the connection was lost while the query ran */
	DB_ERR_ACQUIRE, /* no connection became free within acquire_timeout_ms */
	DB_ERR_CLOSED,	/* the pool was closed before the query finished */
};

/* How many enum db_status values there are. */
#define DB_STATUS_COUNT (DB_ERR_CLOSED + 1)

/* The outcome of a query, valid only during the callback. */
struct db_result {
	enum db_status status;
	PGresult *res;	   /* the server's result (DB_OK, DB_ERR_QUERY), else NULL */
	const char *error; /* a one-line message when status != DB_OK */
};

/* Called once per accepted query with its outcome. */
typedef void (*db_query_cb)(void *arg, const struct db_result *r);

/* Called once when db_pool_close() has finished. */
typedef void (*db_pool_closed_cb)(void *arg);

/* Pool settings; db_pool_config_default() fills sensible values. */
struct db_pool_config {
	const char *conninfo;	    /* libpq URI or key=value (copied) */
	size_t size;		    /* connections */
	size_t max_waiters;	    /* queries queued for a connection at most */
	int64_t acquire_timeout_ms; /* a queued query waits at most this */
	int64_t query_timeout_ms;   /* a running query is cancelled after this */
	int64_t connect_timeout_ms; /* a connection attempt is dropped after this */
	int64_t backoff_min_ms;	    /* first reconnect delay */
	int64_t backoff_max_ms;	    /* reconnect delays double up to this */
	int64_t close_timeout_ms;   /* component close: wait this long, then cancel */
};

/* Counters for readiness, logs and metrics. */
struct db_pool_stats {
	size_t size;		   /* configured connections */
	size_t connected;	   /* connections up (idle or busy) */
	size_t busy;		   /* connections running a query */
	size_t waiting;		   /* queries waiting for a connection */
	uint64_t reconnects;	   /* connections re-established after a loss */
	uint64_t timeouts;	   /* queries cancelled by their timeout */
	uint64_t dropped;	   /* queries a close cut at its deadline (cancelled, dropped) */
	uint64_t connect_attempts; /* connection attempts started */
	uint64_t connect_failures; /* attempts that failed (each retried after a backoff) */
	uint64_t queries[DB_STATUS_COUNT]; /* queries finished (callback called), by status */
};

/* Fill cfg with defaults (size 8, waiters 1024, 5 s timeouts, 100 ms..5 s backoff). */
void db_pool_config_default(struct db_pool_config *cfg);

/*
 * A pool on base and clk (both borrowed, must outlive the pool); starts
 * connecting at once. Returns 0, or -1 with a message in err.
 */
int db_pool_new(struct db_pool **out, struct event_base *base, struct clock *clk,
		const struct db_pool_config *cfg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Free the pool now: queries still queued or running are failed with
 * DB_ERR_CLOSED (their callbacks run inside this call) and their
 * connections closed after a detached best-effort cancel; close callers
 * are not called.
 * Safe from inside a pool callback. NULL is ignored.
 */
void db_pool_free(struct db_pool *p);

/*
 * Run sql with nparams text parameters (NULL = SQL NULL; copied). See the
 * contract above. Returns 0, or -1 if the pool is closed or full.
 */
int db_pool_query(struct db_pool *p, const char *sql, int nparams, const char *const *params,
		  db_query_cb cb, void *arg) __attribute__((warn_unused_result));

/*
 * Close: new queries are refused and queued ones fail with DB_ERR_CLOSED;
 * running queries get timeout_ms to finish, then fail with DB_ERR_CLOSED
 * and their connections are closed; done(arg) follows on a later loop turn
 * (done may be NULL). Calling it again while closing keeps every
 * distinct (done, arg) pair, each told once (a repeated pair is not told
 * twice), and brings the deadline forward when timeout_ms from now is
 * earlier (an abort after a close: timeout 0 ends it now).
 */
void db_pool_close(struct db_pool *p, int64_t timeout_ms, db_pool_closed_cb done, void *arg);

/*
 * Whether a connection is up and the health check (if one is set) passes;
 * on false *why says why (static text).
 */
bool db_pool_ready(struct db_pool *p, const char **why);

/* A health check consulted by db_pool_ready: true, or false with *why. */
typedef bool (*db_pool_health_fn)(void *arg, const char **why);

/* Set the health check of db_pool_ready (NULL: none); arg must outlive the pool's use. */
void db_pool_set_health(struct db_pool *p, db_pool_health_fn fn, void *arg);

/* Whether db_pool_close() (or db_pool_free()) has begun: no new query is taken any more. */
bool db_pool_closing(struct db_pool *p);

/* Queries running or waiting. */
size_t db_pool_inflight(struct db_pool *p);

/* Current counters. */
void db_pool_stats(struct db_pool *p, struct db_pool_stats *out);

/* The close timeout the component uses (the plan's teardown margin). */
int64_t db_pool_close_timeout(struct db_pool *p);

/* The lower-case name of a status, for logs. */
const char *db_status_name(enum db_status s);

#endif /* KC_DB_POOL_H */
