/*
 * db_migrate.c - schema migrations under an advisory lock, behind db_migrate.h.
 */
#include "db/db_migrate.h"
#include "db/db_redact.h"

#include "core/clock.h"
#include "core/log.h"
#include "db/db_sql.h"
#include "db/db_sync.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int db_migrate_try_lock(PGconn *conn, bool *got, char *err, size_t errlen);
static int db_migrate_lock(PGconn *conn, int64_t timeout_ms, char *err, size_t errlen);
static int db_migrate_lock_timed_out(PGconn *conn, int64_t timeout_ms, char *err, size_t errlen);
static void db_migrate_sleep_ms(int64_t ms);
static void db_migrate_unlock(PGconn *conn);
static int db_migrate_apply(PGconn *conn, const struct db_migration *m, char *err, size_t errlen);
static int db_migrate_script(PGconn *conn, const char *sql, char *err, size_t errlen);
static int db_migrate_refuse_newer(const struct db_schema_status *st, char *err, size_t errlen);

/* The highest embedded version. */
int db_migrate_latest(void)
{
	return db_migrations_count > 0 ? db_migrations[db_migrations_count - 1].version : 0;
}

/* Read the database's schema version and compare with the embedded ones. */
int db_migrate_status(PGconn *conn, struct db_schema_status *out, char *err, size_t errlen)
{
	PGresult *res = db_sync_exec(conn, DB_SQL_SCHEMA_EXISTS, 0, NULL, err, errlen);
	bool exists = res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0;

	PQclear(res);
	if (res == NULL)
		return -1;
	*out = (struct db_schema_status){.latest = db_migrate_latest()};
	if (exists) {
		res = db_sync_exec(conn, DB_SQL_SCHEMA_VERSION, 0, NULL, err, errlen);
		if (res == NULL)
			return -1;
		out->current = PQgetisnull(res, 0, 0) ? 0 : atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	for (size_t i = 0; i < db_migrations_count; i++)
		out->pending += db_migrations[i].version > out->current;
	out->newer = out->current > out->latest;
	return 0;
}

/* Sleep ms milliseconds (a signal cutting it short only makes the next try earlier). */
static void db_migrate_sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	(void)nanosleep(&ts, NULL);
}

/* One try at the migration lock: 0 with *got, or -1 with a message. */
static int db_migrate_try_lock(PGconn *conn, bool *got, char *err, size_t errlen)
{
	PGresult *res = db_sync_exec(conn, DB_SQL_MIGRATE_TRY_LOCK, 0, NULL, err, errlen);

	if (res == NULL)
		return -1;
	*got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

/* The wait ran out: -1 with a message naming the holder's backend pid, when there is one. */
static int db_migrate_lock_timed_out(PGconn *conn, int64_t timeout_ms, char *err, size_t errlen)
{
	char why[256], holder[64] = "another session";
	PGresult *res = db_sync_exec(conn, DB_SQL_MIGRATE_LOCK_HOLDER, 0, NULL, why, sizeof(why));

	if (res != NULL && PQntuples(res) > 0)
		snprintf(holder, sizeof(holder), "PostgreSQL backend pid %s",
			 PQgetvalue(res, 0, 0));
	PQclear(res);
	snprintf(err, errlen,
		 "the migration lock is held by %s (another replica migrating, or a stuck "
		 "`keycastd db migrate`) and was not released within %" PRId64
		 " ms (db_migrate_lock_timeout_ms)",
		 holder, timeout_ms);
	return -1;
}

/* Take the migration lock within timeout_ms, saying so when another session holds it. */
static int db_migrate_lock(PGconn *conn, int64_t timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = clock_mono_ms() + timeout_ms, left;
	bool got = false, said = false;

	for (;;) {
		if (db_migrate_try_lock(conn, &got, err, errlen) != 0)
			return -1;
		if (got)
			return 0;
		if (!said)
			log_info("db",
				 "waiting for the migration lock (another replica is migrating)",
				 log_ms("lock_timeout_ms", timeout_ms));
		said = true;
		left = deadline - clock_mono_ms();
		if (left <= 0)
			return db_migrate_lock_timed_out(conn, timeout_ms, err, errlen);
		db_migrate_sleep_ms(left < DB_MIGRATE_LOCK_RETRY_MS ? left
								    : DB_MIGRATE_LOCK_RETRY_MS);
	}
}

/* Release the migration lock (a lost connection releases it too). */
static void db_migrate_unlock(PGconn *conn)
{
	char err[256];

	if (db_sync_command(conn, DB_SQL_MIGRATE_UNLOCK, err, sizeof(err)) != 0)
		log_warn("db", "could not release the migration lock", log_str("error", err));
}

/* Run a multi-statement script (PQexec: migrations hold no parameters). */
static int db_migrate_script(PGconn *conn, const char *sql, char *err, size_t errlen)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	const char *msg = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;

	if (rc != 0)
		db_redact(err, errlen, msg, NULL);
	PQclear(res);
	return rc;
}

/* Apply one migration in its own transaction and record it. */
static int db_migrate_apply(PGconn *conn, const struct db_migration *m, char *err, size_t errlen)
{
	char ver[16], msg[512];
	const char *params[2] = {ver, m->name};
	PGresult *res;

	snprintf(ver, sizeof(ver), "%d", m->version);
	if (db_sync_command(conn, "BEGIN", err, errlen) != 0)
		return -1;
	if (db_migrate_script(conn, m->sql, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "migration %s failed: %s", m->name, msg);
		goto fail;
	}
	res = db_sync_exec(conn, DB_SQL_SCHEMA_RECORD, 2, params, err, errlen);
	PQclear(res);
	if (res == NULL || db_sync_command(conn, "COMMIT", err, errlen) != 0)
		goto fail;
	log_info("db", "migration applied", log_int("version", m->version),
		 log_str("name", m->name));
	return 0;
fail:
	if (db_sync_command(conn, "ROLLBACK", msg, sizeof(msg)) != 0)
		log_warn("db", "rollback failed", log_str("error", msg));
	return -1;
}

/* The message refusing a database newer than this binary. */
static int db_migrate_refuse_newer(const struct db_schema_status *st, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "database schema is at version %d but this keycastd knows only up to version %d:"
		 " refusing to use a newer schema (upgrade keycastd)",
		 st->current, st->latest);
	return -1;
}

/* Apply every pending migration under the advisory lock, waited for at most lock_timeout_ms. */
int db_migrate_run(PGconn *conn, int64_t lock_timeout_ms, int *applied, char *err, size_t errlen)
{
	struct db_schema_status st;
	int rc = -1;

	*applied = 0;
	if (db_migrate_lock(conn, lock_timeout_ms, err, errlen) != 0)
		return -1;
	if (db_sync_command(conn, DB_SQL_SCHEMA_CREATE, err, errlen) != 0 ||
	    db_migrate_status(conn, &st, err, errlen) != 0)
		goto out;
	if (st.newer) {
		db_migrate_refuse_newer(&st, err, errlen);
		goto out;
	}
	for (size_t i = 0; i < db_migrations_count; i++) {
		if (db_migrations[i].version <= st.current)
			continue;
		if (db_migrate_apply(conn, &db_migrations[i], err, errlen) != 0)
			goto out;
		(*applied)++;
	}
	rc = 0;
out:
	db_migrate_unlock(conn);
	return rc;
}
