/*
 * db_sync.c - blocking libpq helpers behind db_sync.h.
 */
#include "db/db_sync.h"

#include "core/log.h"

#include <stdio.h>
#include <string.h>

static void db_sync_message(char *err, size_t errlen, const char *msg);
static void db_sync_notice(void *arg, const char *message);

/* Copy the first line of msg into err. */
static void db_sync_message(char *err, size_t errlen, const char *msg)
{
	size_t n = msg != NULL ? strcspn(msg, "\n") : 0;

	snprintf(err, errlen, "%.*s", (int)n, msg != NULL ? msg : "");
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
	PGconn *conn;

	if (conninfo == NULL || *conninfo == '\0') {
		snprintf(err, errlen, "no database: set database_url (DATABASE_URL)");
		return NULL;
	}
	conn = PQconnectdb(conninfo);
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK) {
		PQsetNoticeProcessor(conn, db_sync_notice, NULL);
		return conn;
	}
	db_sync_message(err, errlen, conn != NULL ? PQerrorMessage(conn) : "out of memory");
	PQfinish(conn);
	return NULL;
}

/* Run sql with text parameters; the result, or NULL with a message. */
PGresult *db_sync_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
		       char *err, size_t errlen)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

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
