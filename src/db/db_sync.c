/*
 * db_sync.c - blocking libpq helpers behind db_sync.h.
 */
#include "db/db_sync.h"

#include "core/clock.h"
#include "core/log.h"
#include "db/db_redact.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void db_sync_message(char *err, size_t errlen, const char *msg);
static void db_sync_notice(void *arg, const char *message);
static int64_t db_sync_wait_ms(PGconn *conn);
static PGresult *db_sync_await(PGconn *conn, int64_t wait_ms, char *err, size_t errlen);

/* Copy the first line of msg into err, credentials taken out. */
static void db_sync_message(char *err, size_t errlen, const char *msg)
{
	db_redact(err, errlen, msg, NULL);
}

/* A server notice: a debug log line instead of stderr. */
static void db_sync_notice(void *arg, const char *message)
{
	char line[256];

	(void)arg;
	db_sync_message(line, sizeof(line), message);
	log_debug("db", "server notice", log_str("notice", line));
}

/* Connect (blocking); NULL with a message on failure. */
PGconn *db_sync_connect(const char *conninfo, char *err, size_t errlen)
{
	return db_sync_connect_limited(conninfo, NULL, err, errlen);
}

/* Connect with limits; the connection string's own settings come last and win. */
PGconn *db_sync_connect_limited(const char *conninfo, const struct db_sync_limits *lim, char *err,
				size_t errlen)
{
	const char *keys[4] = {NULL}, *vals[4] = {NULL};
	char secs[24], opts[64];
	PGconn *conn;
	int n = 0;

	if (conninfo == NULL || *conninfo == '\0') {
		snprintf(err, errlen, "no database: set database_url (DATABASE_URL)");
		return NULL;
	}
	if (lim != NULL && lim->connect_timeout_ms > 0) {
		snprintf(secs, sizeof(secs), "%" PRId64, (lim->connect_timeout_ms + 999) / 1000);
		keys[n] = "connect_timeout";
		vals[n++] = secs;
	}
	if (lim != NULL && lim->statement_timeout_ms > 0) {
		snprintf(opts, sizeof(opts), "-c statement_timeout=%" PRId64,
			 lim->statement_timeout_ms);
		keys[n] = "options";
		vals[n++] = opts;
	}
	keys[n] = "dbname";
	vals[n] = conninfo; /* expanded: what it sets overrides the above */
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK) {
		PQsetNoticeProcessor(conn, db_sync_notice, NULL);
		return conn;
	}
	db_redact(err, errlen, conn != NULL ? PQerrorMessage(conn) : "out of memory", conninfo);
	PQfinish(conn);
	return NULL;
}

/*
 * How long to wait for an answer on conn: its statement_timeout (from the
 * options it was opened with) plus DB_SYNC_GRACE_MS, or -1 for ever.
 */
static int64_t db_sync_wait_ms(PGconn *conn)
{
	const char *o = PQoptions(conn), *p = o != NULL ? strstr(o, "statement_timeout=") : NULL;
	char *end;
	long long ms;

	if (p == NULL)
		return -1;
	errno = 0;
	ms = strtoll(p + 18, &end, 10);
	if (errno != 0 || end == p + 18 || ms <= 0 || ms > INT64_MAX - DB_SYNC_GRACE_MS)
		return -1;
	return (int64_t)ms + DB_SYNC_GRACE_MS;
}

/* Wait up to wait_ms for the answer to what was sent; its last result, or NULL with err. */
static PGresult *db_sync_await(PGconn *conn, int64_t wait_ms, char *err, size_t errlen)
{
	int64_t deadline = clock_mono_ms() + wait_ms, left;
	PGresult *last = NULL, *r;

	while (PQisBusy(conn)) {
		struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
		left = deadline - clock_mono_ms();
		if (left <= 0 || poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left) == 0) {
			snprintf(err, errlen,
				 "the database did not answer within %" PRId64
				 " ms (db_statement_timeout_ms + %d ms)",
				 wait_ms, DB_SYNC_GRACE_MS);
			return NULL;
		}
		if (PQconsumeInput(conn) == 0)
			break; /* the connection failed: PQgetResult says so */
	}
	while ((r = PQgetResult(conn)) != NULL) {
		PQclear(last);
		last = r;
	}
	return last;
}

/* Run sql with text parameters; the result, or NULL with a message. */
PGresult *db_sync_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
		       char *err, size_t errlen)
{
	int64_t wait = db_sync_wait_ms(conn);
	PGresult *res;
	ExecStatusType st;

	if (wait < 0)
		res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	else if (PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0) == 0)
		res = NULL;
	else if ((res = db_sync_await(conn, wait, err, errlen)) == NULL && PQisBusy(conn))
		return NULL; /* timed out: err says so */
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	db_sync_message(err, errlen,
			res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn));
	PQclear(res);
	return NULL;
}

/* Run a parameterless command. */
int db_sync_command(PGconn *conn, const char *sql, char *err, size_t errlen)
{
	PGresult *res = db_sync_exec(conn, sql, 0, NULL, err, errlen);

	PQclear(res);
	return res != NULL ? 0 : -1;
}

/* Run sql with the id as its one parameter: 1 if it returned a row, 0 if none, -1. */
int db_sync_exec_id(PGconn *conn, const char *sql, int64_t id, char *err, size_t errlen)
{
	char text[24];
	const char *params[] = {text};
	PGresult *res;
	int n;

	snprintf(text, sizeof(text), "%lld", (long long)id);
	res = db_sync_exec(conn, sql, 1, params, err, errlen);
	n = res != NULL ? PQntuples(res) > 0 : -1;
	PQclear(res);
	return n;
}
