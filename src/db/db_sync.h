/*
 * db_sync.h - blocking libpq helpers for the admin commands and migrations.
 *
 * The admin sub-commands (key, authz, db) are short synchronous programs;
 * they run the same SQL as the daemon (db_sql.h) through these blocking
 * calls. The daemon itself only uses them before its event loop starts
 * (migrations at `serve` start).
 *
 * Every message handed back has its credentials taken out (db_redact.h):
 * libpq quotes the whole connection string in some of them.
 */
#ifndef KC_DB_SYNC_H
#define KC_DB_SYNC_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* How much longer than the server's statement_timeout the client waits for an answer. */
#define DB_SYNC_GRACE_MS 5000

/* Limits of a blocking connection; a zero field means none. */
struct db_sync_limits {
	int64_t connect_timeout_ms; /* libpq connect_timeout, in whole seconds (at least 2) */
	/*
	 * The session's statement_timeout (the server cancels a statement running
	 * longer), and the client waits at most this plus DB_SYNC_GRACE_MS for an
	 * answer, then gives up: a frozen server cancels nothing.
	 */
	int64_t statement_timeout_ms;
};

/*
 * Connect to conninfo (blocking). Returns the connection (caller owns it:
 * PQfinish), or NULL with a message in err.
 */
PGconn *db_sync_connect(const char *conninfo, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * db_sync_connect with limits (NULL: none). A connect_timeout or options
 * given in conninfo itself take precedence over lim's.
 */
PGconn *db_sync_connect_limited(const char *conninfo, const struct db_sync_limits *lim, char *err,
				size_t errlen) __attribute__((warn_unused_result));

/*
 * Run sql with nparams text parameters. Returns the result (caller owns
 * it: PQclear) when the server accepted it, or NULL with the server's
 * message (first line) in err. On a connection with a statement timeout
 * (db_sync_connect_limited) it waits at most that plus DB_SYNC_GRACE_MS,
 * then fails ("did not answer"); the connection is then unusable.
 */
PGresult *db_sync_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
		       char *err, size_t errlen) __attribute__((warn_unused_result));

/* Run a parameterless command; 0, or -1 with a message in err. */
int db_sync_command(PGconn *conn, const char *sql, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Run sql with one parameter, the id: 1 if it returned a row (e.g. an
 * UPDATE ... RETURNING that found it), 0 if none, -1 with a message in err.
 */
int db_sync_exec_id(PGconn *conn, const char *sql, int64_t id, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif /* KC_DB_SYNC_H */
