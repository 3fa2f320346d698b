/*
 * db_pool.c - the asynchronous libpq pool behind db_pool.h.
 *
 * Each connection is a small state machine (down -> connecting -> idle <->
 * busy, and back to down when lost) with one embedded event on its socket
 * and one clock timer whose meaning follows the state: reconnect backoff
 * (down), connect timeout (connecting), query timeout (busy). Queries
 * that find no idle connection wait in a FIFO with their own acquire
 * timer.
 *
 * Callbacks may free the pool: every entry from the loop (socket event,
 * timer, db_pool_close) counts itself in depth, and db_pool_free() inside
 * one tears everything down at once but releases the memory only when the
 * outermost entry returns (db_pool_leave).
 */
#include "db/db_pool.h"

#include "core/clock.h"
#include "core/log.h"
#include "db/db_cancel.h"
#include "db/db_redact.h"

#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

/* A query: queued, then running on a connection, then delivered. */
struct db_query {
	TAILQ_ENTRY(db_query) link;
	struct db_pool *pool;
	char *sql;
	int nparams;
	char **params;
	db_query_cb cb;
	void *arg;
	struct clock_timer *timer; /* acquire timeout while queued */
	PGresult *res;		   /* first result of the running query */
	bool cancelled;		   /* timed out; a cancel was sent */
};

/* Where a connection is in its life. */
enum db_conn_state {
	DB_CONN_DOWN,	    /* no PGconn; a reconnect may be scheduled */
	DB_CONN_CONNECTING, /* PQconnectPoll in progress */
	DB_CONN_IDLE,	    /* up, no query */
	DB_CONN_BUSY,	    /* up, running q */
};

/* One pooled connection. */
struct db_conn {
	struct db_pool *pool;
	PGconn *pg;
	enum db_conn_state state;
	struct event ev; /* on PQsocket(pg) while ev_on */
	bool ev_on;
	int ev_fd;
	short ev_what;
	struct clock_timer *timer; /* backoff / connect timeout / query timeout */
	struct db_query *q;	   /* running query (busy) */
	unsigned failures;	   /* consecutive failed attempts */
	bool was_up;		   /* has been up once (for the reconnect counter) */
};

TAILQ_HEAD(db_query_list, db_query);

/* One db_pool_close() caller waiting for the end. */
struct db_pool_closer {
	db_pool_closed_cb done;
	void *arg;
};

struct db_pool {
	struct event_base *base;
	struct clock *clk;
	struct db_pool_config cfg;
	char *conninfo;
	struct db_conn *conns;
	struct db_query_list waiters;
	size_t nwaiting;
	bool closing;	     /* db_pool_close() called */
	bool closed;	     /* nothing runs any more */
	bool doomed;	     /* db_pool_free() called; memory goes when depth drops to 0 */
	unsigned depth;	     /* entries from the loop or the caller on the stack */
	int64_t close_at_ms; /* close deadline on clk */
	struct clock_timer *close_timer;
	struct db_pool_closer *closers; /* distinct db_pool_close() callers (grows) */
	size_t ncloser, capcloser;
	struct db_pool_stats st;
	db_pool_health_fn health; /* db_pool_set_health; NULL: none */
	void *health_arg;
};

static struct db_query *db_query_new(struct db_pool *p, const char *sql, int nparams,
				     const char *const *params, db_query_cb cb, void *arg);
static void db_query_free(struct db_query *q);
static void db_query_deliver(struct db_query *q, enum db_status st, PGresult *res, const char *msg);
static void db_query_on_acquire_timeout(void *arg);
static void db_conn_watch(struct db_conn *c, short what);
static void db_conn_unwatch(struct db_conn *c);
static void db_conn_connect(struct db_conn *c);
static void db_conn_poll(struct db_conn *c);
static void db_conn_up(struct db_conn *c);
static void db_conn_lost(struct db_conn *c, const char *why);
static void db_conn_shutdown(struct db_conn *c);
static void db_conn_drop_busy(struct db_conn *c);
static int db_conn_run(struct db_conn *c, struct db_query *q);
static int db_conn_flush(struct db_conn *c);
static void db_conn_collect(struct db_conn *c);
static void db_conn_query_done(struct db_conn *c);
static bool db_conn_fatal(struct db_conn *c, char *msg, size_t len);
static void db_conn_on_event(evutil_socket_t fd, short what, void *arg);
static void db_conn_on_event_run(struct db_conn *c, short what);
static void db_conn_on_timer(void *arg);
static void db_conn_on_timer_run(struct db_conn *c);
static struct db_query *db_conn_detach(struct db_conn *c);
static void db_pool_dispatch(struct db_pool *p);
static void db_pool_fail_waiters(struct db_pool *p, enum db_status st, const char *msg);
static void db_pool_check_closed(struct db_pool *p);
static void db_pool_on_close_timer(void *arg);
static void db_pool_close_run(struct db_pool *p, int64_t timeout_ms);
static void db_pool_add_closer(struct db_pool *p, db_pool_closed_cb done, void *arg);
static void db_pool_teardown(struct db_pool *p);
static void db_pool_leave(struct db_pool *p);
static void db_first_line(char *buf, size_t len, const char *msg);
static void db_conn_notice(void *arg, const char *message);

/* Fill cfg with defaults. */
void db_pool_config_default(struct db_pool_config *cfg)
{
	*cfg = (struct db_pool_config){
		.conninfo = "",
		.size = 8,
		.max_waiters = 1024,
		.acquire_timeout_ms = 5000,
		.query_timeout_ms = 5000,
		.connect_timeout_ms = 5000,
		.backoff_min_ms = 100,
		.backoff_max_ms = 5000,
		.close_timeout_ms = 10000,
	};
}

/* The lower-case name of a status. */
const char *db_status_name(enum db_status s)
{
	static const char *const names[] = {
		[DB_OK] = "ok",
		[DB_ERR_QUERY] = "query error",
		[DB_ERR_TIMEOUT] = "timeout",
		[DB_ERR_CONN] = "connection lost",
		[DB_ERR_ACQUIRE] = "no free connection",
		[DB_ERR_CLOSED] = "pool closed",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* Copy the first line of msg into buf (libpq messages end in newlines), credentials out. */
static void db_first_line(char *buf, size_t len, const char *msg)
{
	db_redact(buf, len, msg, NULL);
}

/* A pool on base and clk; connects every connection at once. */
int db_pool_new(struct db_pool **out, struct event_base *base, struct clock *clk,
		const struct db_pool_config *cfg, char *err, size_t errlen)
{
	struct db_pool *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL || cfg->size == 0)
		goto fail;
	p->base = base;
	p->clk = clk;
	p->cfg = *cfg;
	TAILQ_INIT(&p->waiters);
	p->conninfo = strdup(cfg->conninfo != NULL ? cfg->conninfo : "");
	p->conns = calloc(cfg->size, sizeof(*p->conns));
	p->close_timer = clock_timer_new(clk, db_pool_on_close_timer, p);
	if (p->conninfo == NULL || p->conns == NULL || p->close_timer == NULL)
		goto fail;
	p->cfg.conninfo = p->conninfo;
	p->st.size = cfg->size;
	for (size_t i = 0; i < cfg->size; i++) {
		p->conns[i].pool = p;
		p->conns[i].timer = clock_timer_new(clk, db_conn_on_timer, &p->conns[i]);
		if (p->conns[i].timer == NULL)
			goto fail;
	}
	for (size_t i = 0; i < cfg->size; i++)
		db_conn_connect(&p->conns[i]);
	*out = p;
	return 0;
fail:
	snprintf(err, errlen, "%s", cfg->size == 0 ? "pool size must be > 0" : "out of memory");
	db_pool_free(p);
	return -1;
}

/* Free the pool; everything still queued or running fails with DB_ERR_CLOSED. */
void db_pool_free(struct db_pool *p)
{
	if (p == NULL || p->doomed)
		return;
	p->doomed = true;
	p->depth++;
	db_pool_teardown(p);
	db_pool_leave(p);
}

/* Fail everything and drop every connection (a busy one gets a best-effort cancel first). */
static void db_pool_teardown(struct db_pool *p)
{
	p->closing = true;
	p->ncloser = 0;
	db_pool_fail_waiters(p, DB_ERR_CLOSED, "pool freed");
	for (size_t i = 0; p->conns != NULL && i < p->cfg.size; i++) {
		struct db_conn *c = &p->conns[i];
		struct db_query *q = c->state == DB_CONN_BUSY ? db_conn_detach(c) : NULL;

		if (q != NULL)
			db_conn_drop_busy(c);
		db_conn_shutdown(c);
		if (q != NULL)
			db_query_deliver(q, DB_ERR_CLOSED, NULL, "pool freed");
	}
}

/* Leave an entry; the last one out releases a doomed pool's memory. */
static void db_pool_leave(struct db_pool *p)
{
	if (--p->depth > 0 || !p->doomed)
		return;
	for (size_t i = 0; p->conns != NULL && i < p->cfg.size; i++)
		clock_timer_free(p->conns[i].timer);
	clock_timer_free(p->close_timer);
	free(p->closers);
	free(p->conns);
	free(p->conninfo);
	free(p);
}

/* A query with copies of sql and params; NULL on ENOMEM. */
static struct db_query *db_query_new(struct db_pool *p, const char *sql, int nparams,
				     const char *const *params, db_query_cb cb, void *arg)
{
	struct db_query *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->pool = p;
	q->cb = cb;
	q->arg = arg;
	q->nparams = nparams;
	q->sql = strdup(sql);
	q->params = nparams > 0 ? calloc((size_t)nparams, sizeof(char *)) : NULL;
	if (q->sql == NULL || (nparams > 0 && q->params == NULL))
		goto fail;
	for (int i = 0; i < nparams; i++)
		if (params[i] != NULL && (q->params[i] = strdup(params[i])) == NULL)
			goto fail;
	return q;
fail:
	db_query_free(q);
	return NULL;
}

/* Free a query (its parameters are wiped: they may hold secrets' hashes). */
static void db_query_free(struct db_query *q)
{
	if (q == NULL)
		return;
	for (int i = 0; q->params != NULL && i < q->nparams; i++) {
		if (q->params[i] != NULL)
			OPENSSL_cleanse(q->params[i], strlen(q->params[i]));
		free(q->params[i]);
	}
	free(q->params);
	free(q->sql);
	clock_timer_free(q->timer);
	PQclear(q->res);
	free(q);
}

/* Call the query's callback with its outcome, then free it (res is consumed). */
static void db_query_deliver(struct db_query *q, enum db_status st, PGresult *res, const char *msg)
{
	char line[512];
	struct db_result r = {.status = st, .res = res, .error = NULL};

	q->pool->st.queries[st]++;
	if (st != DB_OK) {
		db_first_line(line, sizeof(line), msg);
		r.error = line[0] != '\0' ? line : db_status_name(st);
	}
	q->cb(q->arg, &r);
	PQclear(res);
	db_query_free(q);
}

/* Run sql on a free connection, or queue it; -1 if closed or full. */
int db_pool_query(struct db_pool *p, const char *sql, int nparams, const char *const *params,
		  db_query_cb cb, void *arg)
{
	struct db_query *q;

	if (p->closing || p->nwaiting >= p->cfg.max_waiters)
		return -1;
	q = db_query_new(p, sql, nparams, params, cb, arg);
	if (q == NULL)
		return -1;
	for (size_t i = 0; i < p->cfg.size; i++) {
		if (p->conns[i].state == DB_CONN_IDLE && TAILQ_EMPTY(&p->waiters)) {
			if (db_conn_run(&p->conns[i], q) == 0)
				return 0;
		}
	}
	q->timer = clock_timer_new(p->clk, db_query_on_acquire_timeout, q);
	if (q->timer == NULL) {
		db_query_free(q);
		return -1;
	}
	TAILQ_INSERT_TAIL(&p->waiters, q, link);
	p->nwaiting++;
	clock_timer_start(q->timer, p->cfg.acquire_timeout_ms);
	return 0;
}

/* A queued query waited too long for a connection. */
static void db_query_on_acquire_timeout(void *arg)
{
	struct db_query *q = arg;
	struct db_pool *p = q->pool;

	p->depth++;
	TAILQ_REMOVE(&p->waiters, q, link);
	p->nwaiting--;
	db_query_deliver(q, DB_ERR_ACQUIRE, NULL, "no database connection became free in time");
	db_pool_leave(p);
}

/* Fail every queued query with st. */
static void db_pool_fail_waiters(struct db_pool *p, enum db_status st, const char *msg)
{
	struct db_query *q;

	while ((q = TAILQ_FIRST(&p->waiters)) != NULL) {
		TAILQ_REMOVE(&p->waiters, q, link);
		p->nwaiting--;
		db_query_deliver(q, st, NULL, msg);
	}
}

/* Hand queued queries to idle connections, oldest first. */
static void db_pool_dispatch(struct db_pool *p)
{
	for (size_t i = 0; i < p->cfg.size && !TAILQ_EMPTY(&p->waiters); i++) {
		struct db_conn *c = &p->conns[i];
		struct db_query *q;

		if (c->state != DB_CONN_IDLE)
			continue;
		q = TAILQ_FIRST(&p->waiters);
		TAILQ_REMOVE(&p->waiters, q, link);
		p->nwaiting--;
		clock_timer_stop(q->timer);
		if (db_conn_run(c, q) != 0)
			db_query_deliver(q, DB_ERR_CONN, NULL, "could not send the query");
	}
}

/* Watch the connection's socket for what (EV_READ and/or EV_WRITE). */
static void db_conn_watch(struct db_conn *c, short what)
{
	int fd = PQsocket(c->pg);

	if (c->ev_on && c->ev_fd == fd && c->ev_what == what)
		return;
	db_conn_unwatch(c);
	if (fd < 0)
		return;
	event_assign(&c->ev, c->pool->base, fd, what | EV_PERSIST, db_conn_on_event, c);
	if (event_add(&c->ev, NULL) != 0)
		return;
	c->ev_on = true;
	c->ev_fd = fd;
	c->ev_what = what;
}

/* Stop watching the socket. */
static void db_conn_unwatch(struct db_conn *c)
{
	if (c->ev_on)
		event_del(&c->ev);
	c->ev_on = false;
}

/* Start a non-blocking connection attempt. */
static void db_conn_connect(struct db_conn *c)
{
	c->pool->st.connect_attempts++;
	c->state = DB_CONN_CONNECTING; /* so that an immediate failure counts as one */
	c->pg = PQconnectStart(c->pool->conninfo);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD || PQsetnonblocking(c->pg, 1) != 0) {
		db_conn_lost(c, c->pg != NULL ? PQerrorMessage(c->pg) : "out of memory");
		return;
	}
	PQsetNoticeProcessor(c->pg, db_conn_notice, c);
	clock_timer_start(c->timer, c->pool->cfg.connect_timeout_ms);
	db_conn_watch(c, EV_WRITE);
}

/* A server notice (not an error): a debug log line instead of stderr. */
static void db_conn_notice(void *arg, const char *message)
{
	char line[256];

	(void)arg;
	db_first_line(line, sizeof(line), message);
	log_debug("db", "server notice", log_str("notice", line));
}

/* One step of PQconnectPoll; re-watch for what it asks. */
static void db_conn_poll(struct db_conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		db_conn_watch(c, EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		db_conn_watch(c, EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		db_conn_up(c);
		break;
	default:
		db_conn_lost(c, PQerrorMessage(c->pg));
		break;
	}
}

/* The connection is up: idle, watched for input, handed a waiter. */
static void db_conn_up(struct db_conn *c)
{
	struct db_pool *p = c->pool;

	clock_timer_stop(c->timer);
	c->state = DB_CONN_IDLE;
	c->failures = 0;
	p->st.connected++;
	if (c->was_up)
		p->st.reconnects++;
	if (c->was_up || p->st.connected == 1)
		log_info("db", "database connected", log_uint("connected", p->st.connected),
			 log_uint("size", p->cfg.size));
	c->was_up = true;
	db_conn_watch(c, EV_READ);
	db_pool_dispatch(p);
}

/* Detach the running query from a busy connection, which becomes idle (NULL if none). */
static struct db_query *db_conn_detach(struct db_conn *c)
{
	struct db_query *q = c->q;

	c->q = NULL;
	if (c->state == DB_CONN_BUSY) {
		c->pool->st.busy--;
		c->state = DB_CONN_IDLE;
	}
	return q;
}

/* Close the PGconn and go down, without scheduling anything. */
static void db_conn_shutdown(struct db_conn *c)
{
	if (c->state == DB_CONN_IDLE || c->state == DB_CONN_BUSY)
		c->pool->st.connected--;
	if (c->state == DB_CONN_BUSY)
		c->pool->st.busy--;
	db_conn_unwatch(c);
	clock_timer_stop(c->timer);
	PQfinish(c->pg);
	c->pg = NULL;
	c->q = NULL;
	c->state = DB_CONN_DOWN;
}

/*
 * Before closing a connection whose query still runs: send a cancel from a
 * detached thread (never blocks the loop; best effort), so that the server
 * stops the statement even when it would not notice the closed socket.
 */
static void db_conn_drop_busy(struct db_conn *c)
{
	if (db_cancel_send(c->pg) != 0)
		log_warn("db", "query cancel could not be sent; closing the connection only");
}

/* The connection failed or was lost: fail its query, reconnect with backoff. */
static void db_conn_lost(struct db_conn *c, const char *why)
{
	struct db_pool *p = c->pool;
	bool connecting = c->state == DB_CONN_CONNECTING;
	struct db_query *q = db_conn_detach(c);
	int64_t delay = p->cfg.backoff_min_ms;
	char msg[256];

	db_redact(msg, sizeof(msg), why, p->conninfo); /* libpq may quote the whole URI */
	for (unsigned i = 0; i < c->failures && delay < p->cfg.backoff_max_ms; i++)
		delay *= 2;
	delay = delay > p->cfg.backoff_max_ms ? p->cfg.backoff_max_ms : delay;
	if (!connecting || c->failures == 0)
		log_warn("db", connecting ? "database connect failed" : "database connection lost",
			 log_str("error", msg), log_ms("retry_in_ms", delay));
	p->st.connect_failures += connecting;
	c->failures++;
	db_conn_shutdown(c);
	if (!p->closing)
		clock_timer_start(c->timer, delay);
	db_pool_check_closed(p);
	if (q != NULL) /* last: the callback may close or free the pool */
		db_query_deliver(q, q->cancelled ? DB_ERR_TIMEOUT : DB_ERR_CONN, NULL, msg);
}

/* Send q on the idle connection c. Returns 0, or -1 (q untouched, not attached). */
static int db_conn_run(struct db_conn *c, struct db_query *q)
{
	if (!PQsendQueryParams(c->pg, q->sql, q->nparams, NULL, (const char *const *)q->params,
			       NULL, NULL, 0)) {
		if (PQstatus(c->pg) == CONNECTION_BAD)
			db_conn_lost(c, PQerrorMessage(c->pg));
		return -1;
	}
	c->q = q;
	c->state = DB_CONN_BUSY;
	c->pool->st.busy++;
	clock_timer_start(c->timer, c->pool->cfg.query_timeout_ms);
	if (db_conn_flush(c) != 0) {
		c->q = NULL;
		db_conn_lost(c, PQerrorMessage(c->pg));
		return -1;
	}
	return 0;
}

/* Flush output; watch for write while some remains. -1 if the connection broke. */
static int db_conn_flush(struct db_conn *c)
{
	int r = PQflush(c->pg);

	if (r < 0)
		return -1;
	db_conn_watch(c, r == 1 ? EV_READ | EV_WRITE : EV_READ);
	return 0;
}

/* Read every result that is complete; deliver when the query is over. */
static void db_conn_collect(struct db_conn *c)
{
	while (!PQisBusy(c->pg)) {
		PGresult *res = PQgetResult(c->pg);

		if (res == NULL) {
			db_conn_query_done(c);
			return;
		}
		if (c->q->res == NULL)
			c->q->res = res;
		else
			PQclear(res);
	}
}

/*
 * Whether the query ended because the connection is going away: the
 * connection is bad, or the server said so (SQLSTATE class 08, or 57P:
 * shutdown, crash). msg gets the reason.
 */
static bool db_conn_fatal(struct db_conn *c, char *msg, size_t len)
{
	const char *state = PQresultErrorField(c->q->res, PG_DIAG_SQLSTATE);
	bool fatal =
		PQstatus(c->pg) == CONNECTION_BAD ||
		(state != NULL && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0));

	if (fatal)
		db_first_line(msg, len,
			      c->q->res != NULL ? PQresultErrorMessage(c->q->res)
						: PQerrorMessage(c->pg));
	return fatal;
}

/* The running query is over: deliver it and take the next waiter. */
static void db_conn_query_done(struct db_conn *c)
{
	struct db_pool *p = c->pool;
	struct db_query *q;
	PGresult *res;
	ExecStatusType rs;
	enum db_status st;
	char msg[256];

	if (db_conn_fatal(c, msg, sizeof(msg))) {
		db_conn_lost(c, msg);
		return;
	}
	q = db_conn_detach(c);
	res = q->res;
	rs = PQresultStatus(res);
	st = rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK ? DB_OK : DB_ERR_QUERY;
	q->res = NULL;
	clock_timer_stop(c->timer);
	c->state = DB_CONN_IDLE;
	if (q->cancelled) {
		st = DB_ERR_TIMEOUT;
		PQclear(res);
		res = NULL;
	}
	if (p->closing)
		db_conn_shutdown(c);
	else
		db_pool_dispatch(p);
	db_pool_check_closed(p);
	/* last: the callback may close or free the pool */
	db_query_deliver(q, st, res,
			 st == DB_ERR_TIMEOUT ? "query cancelled: it ran past the query timeout"
					      : PQresultErrorMessage(res));
}

/* Socket activity on a connection (an entry from the loop). */
static void db_conn_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	struct db_pool *p = c->pool;

	(void)fd;
	p->depth++;
	db_conn_on_event_run(c, what);
	db_pool_leave(p);
}

/* Socket activity on a connection, dispatched by state. */
static void db_conn_on_event_run(struct db_conn *c, short what)
{
	if (c->state == DB_CONN_CONNECTING) {
		db_conn_poll(c);
		return;
	}
	if ((what & EV_READ) && !PQconsumeInput(c->pg)) {
		db_conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	if (c->state == DB_CONN_IDLE) {
		PGnotify *n;

		while ((n = PQnotifies(c->pg)) != NULL)
			PQfreemem(n);
		if (PQstatus(c->pg) == CONNECTION_BAD)
			db_conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	if (db_conn_flush(c) != 0) {
		db_conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	db_conn_collect(c);
}

/* The connection's timer (an entry from the loop). */
static void db_conn_on_timer(void *arg)
{
	struct db_conn *c = arg;
	struct db_pool *p = c->pool;

	p->depth++;
	db_conn_on_timer_run(c);
	db_pool_leave(p);
}

/* The connection's timer: reconnect, connect timeout, or query timeout. */
static void db_conn_on_timer_run(struct db_conn *c)
{
	switch (c->state) {
	case DB_CONN_DOWN:
		db_conn_connect(c);
		break;
	case DB_CONN_CONNECTING:
		db_conn_lost(c, "connect timed out");
		break;
	case DB_CONN_BUSY:
		if (c->q->cancelled) {
			db_conn_lost(c, "query cancel did not take effect; connection dropped");
			break;
		}
		c->q->cancelled = true;
		c->pool->st.timeouts++;
		log_warn("db", "query timed out; cancelling",
			 log_ms("timeout_ms", c->pool->cfg.query_timeout_ms));
		if (db_cancel_send(c->pg) != 0)
			log_warn("db", "query cancel could not be sent; the connection is dropped "
				       "at the next timeout");
		clock_timer_start(c->timer, c->pool->cfg.query_timeout_ms);
		break;
	case DB_CONN_IDLE:
		break;
	}
}

/* Close: refuse new work, fail waiters, let running queries finish until timeout_ms. */
void db_pool_close(struct db_pool *p, int64_t timeout_ms, db_pool_closed_cb done, void *arg)
{
	if (p->doomed)
		return;
	p->depth++;
	db_pool_add_closer(p, done, arg);
	db_pool_close_run(p, timeout_ms);
	db_pool_leave(p);
}

/* Remember a close caller once per (done, arg) pair; the list grows (only ENOMEM drops one). */
static void db_pool_add_closer(struct db_pool *p, db_pool_closed_cb done, void *arg)
{
	struct db_pool_closer *grown;
	size_t cap;

	if (done == NULL)
		return;
	for (size_t i = 0; i < p->ncloser; i++)
		if (p->closers[i].done == done && p->closers[i].arg == arg)
			return;
	if (p->ncloser == p->capcloser) {
		cap = p->capcloser > 0 ? p->capcloser * 2 : 4;
		grown = realloc(p->closers, cap * sizeof(*grown));
		if (grown == NULL) {
			log_error(
				"db",
				"out of memory: a database pool close caller is not told the end");
			return;
		}
		p->closers = grown;
		p->capcloser = cap;
	}
	p->closers[p->ncloser++] = (struct db_pool_closer){.done = done, .arg = arg};
}

/* Start closing, or (already closing) bring the deadline forward to timeout_ms from now. */
static void db_pool_close_run(struct db_pool *p, int64_t timeout_ms)
{
	int64_t at = clock_now_ms(p->clk) + (timeout_ms > 0 ? timeout_ms : 0);

	if (p->closing) {
		if (p->closed)
			clock_timer_start(p->close_timer, 0);
		else if (at < p->close_at_ms) {
			p->close_at_ms = at;
			clock_timer_start(p->close_timer, timeout_ms);
		}
		return;
	}
	p->closing = true;
	p->close_at_ms = at;
	db_pool_fail_waiters(p, DB_ERR_CLOSED, "database pool closing");
	for (size_t i = 0; i < p->cfg.size; i++)
		if (p->conns[i].state != DB_CONN_BUSY)
			db_conn_shutdown(&p->conns[i]);
	log_info("db", "closing database pool", log_uint("busy", p->st.busy),
		 log_ms("timeout_ms", timeout_ms));
	clock_timer_start(p->close_timer, timeout_ms);
	db_pool_check_closed(p);
}

/* While closing: once no connection is busy, finish on the next loop turn. */
static void db_pool_check_closed(struct db_pool *p)
{
	if (!p->closing || p->closed || p->st.busy > 0)
		return;
	p->closed = true;
	clock_timer_start(p->close_timer, 0);
}

/* Close deadline (drop what is stuck) or deferred completion; close callers are told last. */
static void db_pool_on_close_timer(void *arg)
{
	struct db_pool *p = arg;
	struct db_pool_closer *closers = NULL;
	size_t n = 0;

	p->depth++;
	for (size_t i = 0; !p->closed && !p->doomed && i < p->cfg.size; i++) {
		struct db_conn *c = &p->conns[i];
		struct db_query *q = c->state == DB_CONN_BUSY ? db_conn_detach(c) : NULL;

		if (q == NULL)
			continue;
		log_warn("db", "query still running at close; cancelling it and dropping its "
			       "connection");
		p->st.dropped++;
		db_conn_drop_busy(c);
		db_conn_shutdown(c);
		db_query_deliver(q, DB_ERR_CLOSED, NULL, "database pool closed");
	}
	if (!p->doomed) {
		closers = p->closers; /* taken: a done may close again and start a new list */
		n = p->ncloser;
		p->closers = NULL;
		p->ncloser = p->capcloser = 0;
		p->closed = true;
		log_info("db", "database pool closed");
	}
	db_pool_leave(p);
	for (size_t i = 0; i < n; i++)
		closers[i].done(closers[i].arg);
	free(closers);
}

/* Whether a connection is up. */
bool db_pool_ready(struct db_pool *p, const char **why)
{
	if (p->closing) {
		*why = "database pool closing";
		return false;
	}
	if (p->st.connected == 0) {
		*why = "database not connected";
		return false;
	}
	return p->health == NULL || p->health(p->health_arg, why);
}

/* Set the health check of db_pool_ready. */
void db_pool_set_health(struct db_pool *p, db_pool_health_fn fn, void *arg)
{
	p->health = fn;
	p->health_arg = arg;
}

/* Whether the pool is closing or closed. */
bool db_pool_closing(struct db_pool *p)
{
	return p->closing;
}

/* Queries running or waiting. */
size_t db_pool_inflight(struct db_pool *p)
{
	return p->st.busy + p->nwaiting;
}

/* Current counters. */
void db_pool_stats(struct db_pool *p, struct db_pool_stats *out)
{
	*out = p->st;
	out->waiting = p->nwaiting;
}

/* The close timeout the component uses. */
int64_t db_pool_close_timeout(struct db_pool *p)
{
	return p->cfg.close_timeout_ms;
}
