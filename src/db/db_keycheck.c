/*
 * db_keycheck.c - the master key canary, behind db_keycheck.h.
 */
#include "db/db_keycheck.h"

#include "core/log.h"
#include "db/db_seal.h"
#include "db/db_sync.h"
#include "nostr/hex.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The canary of a key version, as hex. */
#define DB_KEYCHECK_SQL_GET                                                                        \
	"SELECT encode(sealed, 'hex') FROM master_key_check WHERE key_version = $1"
/* Store a canary unless one is there. */
#define DB_KEYCHECK_SQL_PUT                                                                        \
	"INSERT INTO master_key_check (key_version, sealed) VALUES ($1, decode($2, 'hex'))"        \
	" ON CONFLICT (key_version) DO NOTHING"
/* The oldest sealed key row of a version: pubkey and sealed secret as hex. */
#define DB_KEYCHECK_SQL_KEY                                                                        \
	"SELECT pubkey, encode(sealed_secret, 'hex') FROM keys WHERE key_version = $1"             \
	" ORDER BY id LIMIT 1"

/* The sealed canary: the text and the overhead. */
#define DB_KEYCHECK_SEALED_LEN (sizeof(DB_KEYCHECK_TEXT) - 1 + DB_SEAL_OVERHEAD)

static int db_keycheck_opens(const struct db_master_key *mk, const char *kind, const char *id,
			     int version, const char *hex, size_t ptlen_want);
static enum db_keycheck_result db_keycheck_first(PGconn *conn, const struct db_master_key *mk,
						 const char *ver, char *err, size_t errlen);
static enum db_keycheck_result db_keycheck_mismatch(int version, char *err, size_t errlen);

/* Whether hex is a value sealed under mk for kind:id:v<version> of ptlen_want bytes. */
static int db_keycheck_opens(const struct db_master_key *mk, const char *kind, const char *id,
			     int version, const char *hex, size_t ptlen_want)
{
	unsigned char sealed[256], pt[256];
	size_t n = strlen(hex) / 2, ptlen = 0;
	char aad[160];
	int ok;

	ok = n <= sizeof(sealed) && hex_decode(sealed, n, hex, strlen(hex), HEX_ANY_CASE) == 0 &&
	     db_seal_aad(aad, sizeof(aad), kind, id, version) == 0 &&
	     db_unseal(mk, aad, sealed, n, pt, sizeof(pt), &ptlen) == 0 && ptlen == ptlen_want;
	OPENSSL_cleanse(pt, sizeof(pt));
	return ok;
}

/* The refusal of a key that another key sealed the database with. */
static enum db_keycheck_result db_keycheck_mismatch(int version, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "the master key does not match the one this database was sealed with (key "
		 "version %d): refusing to use it, as rows sealed under it could not be read by "
		 "the others; check MASTER_KEY or master_key_path",
		 version);
	return DB_KEYCHECK_MISMATCH;
}

/* No canary yet: check mk against the oldest sealed key, then store one. */
static enum db_keycheck_result db_keycheck_first(PGconn *conn, const struct db_master_key *mk,
						 const char *ver, char *err, size_t errlen)
{
	unsigned char sealed[DB_KEYCHECK_SEALED_LEN];
	char aad[160], hex[2 * DB_KEYCHECK_SEALED_LEN + 1];
	const char *params[2] = {ver, hex};
	PGresult *res = db_sync_exec(conn, DB_KEYCHECK_SQL_KEY, 1, params, err, errlen);
	size_t n;
	int version = atoi(ver), opens;

	if (res == NULL)
		return DB_KEYCHECK_ERROR;
	opens = PQntuples(res) == 0 || db_keycheck_opens(mk, "key", PQgetvalue(res, 0, 0), version,
							 PQgetvalue(res, 0, 1), 32);
	PQclear(res);
	if (!opens)
		return db_keycheck_mismatch(version, err, errlen);
	if (db_seal_aad(aad, sizeof(aad), "keycheck", "master", version) != 0 ||
	    db_seal(mk, aad, (const unsigned char *)DB_KEYCHECK_TEXT, sizeof(DB_KEYCHECK_TEXT) - 1,
		    sealed, sizeof(sealed), &n) != 0) {
		snprintf(err, errlen, "cannot seal the master key check");
		return DB_KEYCHECK_ERROR;
	}
	hex_encode(hex, sealed, n);
	res = db_sync_exec(conn, DB_KEYCHECK_SQL_PUT, 2, params, err, errlen);
	PQclear(res);
	if (res == NULL)
		return DB_KEYCHECK_ERROR;
	log_info("db", "master key check stored", log_int("key_version", version));
	return DB_KEYCHECK_OK;
}

/* Check mk against the canary of version (storing it on first use). */
enum db_keycheck_result db_keycheck(PGconn *conn, const struct db_master_key *mk, int version,
				    char *err, size_t errlen)
{
	char ver[16];
	const char *params[1] = {ver};
	enum db_keycheck_result rc = DB_KEYCHECK_OK;
	PGresult *res;

	snprintf(ver, sizeof(ver), "%d", version);
	for (int pass = 0; pass < 2; pass++) {
		res = db_sync_exec(conn, DB_KEYCHECK_SQL_GET, 1, params, err, errlen);
		if (res == NULL && strstr(err, "master_key_check\" does not exist") != NULL)
			snprintf(err, errlen,
				 "the database schema is older than this keycastd: run "
				 "`keycastd db migrate` first");
		if (res == NULL)
			return DB_KEYCHECK_ERROR;
		if (PQntuples(res) == 1) {
			int ok = db_keycheck_opens(mk, "keycheck", "master", version,
						   PQgetvalue(res, 0, 0),
						   sizeof(DB_KEYCHECK_TEXT) - 1);
			PQclear(res);
			return ok ? DB_KEYCHECK_OK : db_keycheck_mismatch(version, err, errlen);
		}
		PQclear(res);
		if (pass == 0 &&
		    (rc = db_keycheck_first(conn, mk, ver, err, errlen)) != DB_KEYCHECK_OK)
			return rc;
	}
	snprintf(err, errlen, "the master key check could not be stored");
	return DB_KEYCHECK_ERROR;
}

/* Connect, check, disconnect. */
enum db_keycheck_result db_keycheck_url(const char *conninfo, const struct db_master_key *mk,
					int version, char *err, size_t errlen)
{
	PGconn *conn = db_sync_connect(conninfo, err, errlen);
	enum db_keycheck_result rc;

	if (conn == NULL)
		return DB_KEYCHECK_ERROR;
	rc = db_keycheck(conn, mk, version, err, errlen);
	PQfinish(conn);
	return rc;
}
