/*
 * db_keycheck.h - is this the master key the database was sealed with?
 *
 * The table master_key_check (migration 0004) keeps, per key version, the
 * text DB_KEYCHECK_TEXT sealed under that version's master key, with the
 * associated data "keycastd:keycheck:master:v<version>". db_keycheck()
 * unseals it with the key in hand: a key that does not open it is refused,
 * so no command and no replica writes rows the others cannot unseal. With
 * no canary yet (a new database, or one sealed before the table existed),
 * the key must first open the oldest sealed key row of that version, if
 * there is one; then the canary is stored (ON CONFLICT DO NOTHING: two
 * replicas racing store one, and both check it).
 */
#ifndef KC_DB_KEYCHECK_H
#define KC_DB_KEYCHECK_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct db_master_key;

/* What the canary holds, sealed. */
#define DB_KEYCHECK_TEXT "keycastd master key check"

/* Outcome of db_keycheck(). */
enum db_keycheck_result {
	DB_KEYCHECK_OK,	      /* the key opens the canary (stored now if there was none) */
	DB_KEYCHECK_MISMATCH, /* another key sealed this database: refuse */
	DB_KEYCHECK_ERROR,    /* the database failed; err says why */
};

/* Check mk (key version version) against the database on conn; a message in err unless OK. */
enum db_keycheck_result db_keycheck(PGconn *conn, const struct db_master_key *mk, int version,
				    char *err, size_t errlen) __attribute__((warn_unused_result));

/* Connect to conninfo (blocking), db_keycheck, disconnect. */
enum db_keycheck_result db_keycheck_url(const char *conninfo, const struct db_master_key *mk,
					int version, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif /* KC_DB_KEYCHECK_H */
