/*
 * db_migrate.h - versioned schema migrations, applied under an advisory lock.
 *
 * The migrations are the SQL files src/db/migrations/NNNN_name.sql,
 * embedded into the binary at build time (db_migrations_data.c, generated
 * by src/db/embed-sql.sh). The table schema_version records each applied
 * version. db_migrate_run() takes a PostgreSQL session advisory lock
 * first, so replicas starting together apply each migration once: one
 * applies, the others wait (a bounded time), then find nothing to do. A database whose
 * schema is newer than the binary knows is refused with a clear message,
 * never used.
 */
#ifndef KC_DB_MIGRATE_H
#define KC_DB_MIGRATE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One embedded migration. */
struct db_migration {
	int version;	  /* NNNN of the file name; strictly increasing */
	const char *name; /* file name without .sql */
	const char *sql;  /* the file's text */
};

/* The embedded migrations, in version order (generated). */
extern const struct db_migration db_migrations[];
/* Their number (generated). */
extern const size_t db_migrations_count;

/* The schema version of a database, and what this binary knows. */
struct db_schema_status {
	int current; /* highest applied version; 0 = empty database */
	int latest;  /* highest embedded version */
	int pending; /* embedded versions not applied yet */
	bool newer;  /* the database is ahead of this binary: refuse it */
};

/* The highest embedded version. */
int db_migrate_latest(void);

/*
 * Read the schema status of conn (blocking). Returns 0, or -1 with a
 * message in err.
 */
int db_migrate_status(PGconn *conn, struct db_schema_status *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* How often a session waiting for the migration lock tries to take it again. */
#define DB_MIGRATE_LOCK_RETRY_MS 250

/*
 * Apply every pending migration under the advisory lock (blocking), each
 * in its own transaction. *applied counts those this call applied. While
 * another session holds the lock (another replica migrating) it tries
 * again every DB_MIGRATE_LOCK_RETRY_MS, for lock_timeout_ms at most, then
 * fails naming the holder's backend pid. Returns 0, or -1 with a message
 * in err (a newer schema and a lock wait that ran out included).
 */
int db_migrate_run(PGconn *conn, int64_t lock_timeout_ms, int *applied, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif /* KC_DB_MIGRATE_H */
