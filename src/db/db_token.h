/*
 * db_token.h - the bearer tokens of the HTTP signing API.
 *
 * A token is "kct_" followed by 64 lower-case hex digits (32 random
 * bytes). `keycastd authz token create` prints it once; the database
 * keeps only its SHA-256 and its first DB_TOKEN_PREFIX_LEN characters
 * (to tell tokens apart in lists and logs). The daemon loads the hashes
 * with the serving set (db_store.h) and compares a presented token's hash
 * with the stored one in constant time.
 *
 * The admin functions are blocking (db_sync.h), as the other admin
 * commands' store operations (db_admin.h). Return convention: an id or a
 * count >= 0, or -1 with a message in err.
 */
#ifndef KC_DB_TOKEN_H
#define KC_DB_TOKEN_H

#include "db/db_store.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What every token starts with. */
#define DB_TOKEN_MARK "kct_"
/* A token's length: the mark and 64 hex digits. */
#define DB_TOKEN_LEN (4 + 64)
/* The characters of a token that are stored and shown: the mark and 8 hex digits. */
#define DB_TOKEN_PREFIX_LEN 12
/* The longest label a token takes, in bytes. */
#define DB_TOKEN_LABEL_MAX 256

/* Columns of DB_SQL_TOKEN_LIST. */
enum db_token_col {
	DB_TOKEN_COL_ID,      /* token id */
	DB_TOKEN_COL_AUTHZ,   /* its authorization's id */
	DB_TOKEN_COL_PREFIX,  /* its first DB_TOKEN_PREFIX_LEN characters */
	DB_TOKEN_COL_LABEL,   /* the admin's label */
	DB_TOKEN_COL_CREATED, /* ISO 8601 UTC */
	DB_TOKEN_COL_REVOKED, /* ISO 8601 UTC, NULL while live */
};

/* SHA-256 of token[0..len), as stored. */
void db_token_hash(unsigned char out[DB_HASH_LEN], const char *token, size_t len);

/* Whether token[0..len) has a token's shape (the mark, 64 lower-case hex digits). */
bool db_token_well_formed(const char *token, size_t len);

/*
 * Create a token for live authorization authz_id, labelled label (NULL:
 * none): the token in token[] (the only copy: the caller prints it and
 * wipes it). Returns the token's id, or -1 with a message in err (no such
 * authorization, revoked, expired, a label too long).
 */
int64_t db_token_create(PGconn *conn, int64_t authz_id, const char *label,
			char token[DB_TOKEN_LEN + 1], char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* The tokens of authorization authz_id (0: all), DB_SQL_TOKEN_LIST rows, or NULL with a message. */
PGresult *db_token_list(PGconn *conn, int64_t authz_id, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Revoke token id: 1, 0 if no live token has that id, -1 on error. */
int db_token_revoke(PGconn *conn, int64_t id, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * The tokens of a DB_SQL_TOKEN_SERVING result into *out (malloc'd, n
 * entries; malformed rows are skipped and counted in *skipped). 0, or -1
 * on ENOMEM.
 */
int db_token_serving(struct db_serving_token **out, size_t *n, size_t *skipped, PGresult *res)
	__attribute__((warn_unused_result));

#endif /* KC_DB_TOKEN_H */
