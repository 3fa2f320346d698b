/*
 * db_sync.h - blocking libpq helpers for the admin commands and migrations.
 *
 * The admin sub-commands (key, authz, db) are short synchronous programs;
 * they run the same SQL as the daemon (db_sql.h) through these blocking
 * calls. The daemon itself only uses them before its event loop starts
 * (migrations at `serve` start).
 */
#ifndef KC_DB_SYNC_H
#define KC_DB_SYNC_H

#include <libpq-fe.h>
#include <stddef.h>

/*
 * Connect to conninfo (blocking). Returns the connection (caller owns it:
 * PQfinish), or NULL with a message in err.
 */
PGconn *db_sync_connect(const char *conninfo, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Run sql with nparams text parameters. Returns the result (caller owns
 * it: PQclear) when the server accepted it, or NULL with the server's
 * message (first line) in err.
 */
PGresult *db_sync_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
		       char *err, size_t errlen) __attribute__((warn_unused_result));

/* Run a parameterless command; 0, or -1 with a message in err. */
int db_sync_command(PGconn *conn, const char *sql, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif /* KC_DB_SYNC_H */
