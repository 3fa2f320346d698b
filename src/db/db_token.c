/*
 * db_token.c - the HTTP API's bearer tokens: made, hashed, stored, listed,
 * revoked (blocking, for `keycastd authz token`), and read with the
 * serving set (for the daemon).
 */
#include "db/db_token.h"

#include "db/db_sql.h"
#include "db/db_sync.h"
#include "nostr/hex.h"
#include "nostr/keys.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int db_token_make(char token[DB_TOKEN_LEN + 1]);
static int64_t db_token_refused(PGconn *conn, int64_t authz_id, char *err, size_t errlen);
static int db_token_row(struct db_serving_token *t, PGresult *res, int row);

/* SHA-256 of a token. */
void db_token_hash(unsigned char out[DB_HASH_LEN], const char *token, size_t len)
{
	SHA256((const unsigned char *)token, len, out);
}

/* Whether token[0..len) is the mark and 64 lower-case hex digits. */
bool db_token_well_formed(const char *token, size_t len)
{
	uint8_t raw[32];
	bool ok = len == DB_TOKEN_LEN && memcmp(token, DB_TOKEN_MARK, 4) == 0 &&
		  hex_decode(raw, sizeof(raw), token + 4, 64, HEX_LOWER) == 0;

	OPENSSL_cleanse(raw, sizeof(raw));
	return ok;
}

/* A fresh token: the mark and 32 random bytes in hex. 0 or -1 (no randomness). */
static int db_token_make(char token[DB_TOKEN_LEN + 1])
{
	uint8_t raw[32];
	int rc = nostr_random(raw, sizeof(raw));

	memcpy(token, DB_TOKEN_MARK, 4);
	hex_encode(token + 4, raw, sizeof(raw));
	token[DB_TOKEN_LEN] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

/* Create a token for a live authorization. */
int64_t db_token_create(PGconn *conn, int64_t authz_id, const char *label,
			char token[DB_TOKEN_LEN + 1], char *err, size_t errlen)
{
	unsigned char hash[DB_HASH_LEN];
	char id[24], hash_hex[2 * DB_HASH_LEN + 1], prefix[DB_TOKEN_PREFIX_LEN + 1];
	const char *params[] = {id, hash_hex, prefix, label != NULL ? label : ""};
	PGresult *res = NULL;
	int64_t out = -1;

	if (strlen(params[3]) > DB_TOKEN_LABEL_MAX) {
		snprintf(err, errlen, "the label is longer than %d bytes", DB_TOKEN_LABEL_MAX);
		return -1;
	}
	if (db_token_make(token) != 0) {
		snprintf(err, errlen, "no randomness for a token");
		goto fail;
	}
	db_token_hash(hash, token, DB_TOKEN_LEN);
	hex_encode(hash_hex, hash, sizeof(hash));
	snprintf(prefix, sizeof(prefix), "%.*s", DB_TOKEN_PREFIX_LEN, token);
	snprintf(id, sizeof(id), "%lld", (long long)authz_id);
	res = db_sync_exec(conn, DB_SQL_TOKEN_INSERT, 4, params, err, errlen);
	if (res != NULL && PQntuples(res) == 1)
		out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else if (res != NULL)
		out = db_token_refused(conn, authz_id, err, errlen);
fail:
	PQclear(res);
	if (out < 0)
		OPENSSL_cleanse(token, DB_TOKEN_LEN + 1);
	return out;
}

/* Why no token was made for authz_id: err says (no such, revoked, expired). -1. */
static int64_t db_token_refused(PGconn *conn, int64_t authz_id, char *err, size_t errlen)
{
	char id[24];
	const char *params[] = {id};
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", (long long)authz_id);
	res = db_sync_exec(conn, DB_SQL_TOKEN_AUTHZ_STATE, 1, params, err, errlen);
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1)
		snprintf(err, errlen, "no authorization %lld", (long long)authz_id);
	else if (PQgetvalue(res, 0, 0)[0] == 't')
		snprintf(err, errlen, "authorization %lld is revoked", (long long)authz_id);
	else
		snprintf(err, errlen, "authorization %lld has expired", (long long)authz_id);
	PQclear(res);
	return -1;
}

/* The tokens of one authorization, or all. */
PGresult *db_token_list(PGconn *conn, int64_t authz_id, char *err, size_t errlen)
{
	char id[24];
	const char *params[] = {authz_id > 0 ? id : NULL};

	snprintf(id, sizeof(id), "%lld", (long long)authz_id);
	return db_sync_exec(conn, DB_SQL_TOKEN_LIST, 1, params, err, errlen);
}

/* Revoke a token. */
int db_token_revoke(PGconn *conn, int64_t id, char *err, size_t errlen)
{
	return db_sync_exec_id(conn, DB_SQL_TOKEN_REVOKE, id, err, errlen);
}

/* One DB_SQL_TOKEN_SERVING row into *t; 0, or -1 when malformed. */
static int db_token_row(struct db_serving_token *t, PGresult *res, int row)
{
	const char *hash = PQgetvalue(res, row, 2);

	*t = (struct db_serving_token){
		.id = strtoll(PQgetvalue(res, row, 0), NULL, 10),
		.authz_id = strtoll(PQgetvalue(res, row, 1), NULL, 10),
		.revoked = PQgetvalue(res, row, 4)[0] == 't',
	};
	snprintf(t->prefix, sizeof(t->prefix), "%.*s", DB_TOKEN_PREFIX_LEN,
		 PQgetvalue(res, row, 3));
	return hex_decode(t->hash, sizeof(t->hash), hash, strlen(hash), HEX_ANY_CASE);
}

/* The tokens of the serving set. */
int db_token_serving(struct db_serving_token **out, size_t *n, size_t *skipped, PGresult *res)
{
	size_t rows = (size_t)PQntuples(res);
	struct db_serving_token *v = calloc(rows + 1, sizeof(*v));

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return -1;
	for (size_t i = 0; i < rows; i++) {
		if (PQnfields(res) == 5 && db_token_row(&v[*n], res, (int)i) == 0)
			(*n)++;
		else
			(*skipped)++;
	}
	*out = v;
	return 0;
}
