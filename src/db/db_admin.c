/*
 * db_admin.c - blocking store operations for the admin commands, behind db_admin.h.
 */
#include "db/db_admin.h"

#include "core/secret.h"

#include "db/db_seal.h"
#include "db/db_sql.h"
#include "db/db_sync.h"
#include "nostr/hex.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for a sealed 32-byte secret as hex. */
#define DB_ADMIN_SEALED_HEX (2 * (32 + DB_SEAL_OVERHEAD) + 1)

static int db_admin_seal_hex(const struct db_master_key *mk, const char *kind, const char *id,
			     const struct nostr_seckey *secret, char *hex, char *err,
			     size_t errlen);
static int64_t db_admin_returning_id(PGresult *res);
static int db_admin_name_check(const char *name, char *err, size_t errlen);
static void db_admin_key_taken(PGconn *conn, const char *name, const char *pubkey_hex, char *err,
			       size_t errlen);
static char *db_admin_relays_json(const char *const *relays, size_t n);
static int db_admin_find_key(PGconn *conn, const char *key, char *id, size_t idlen, char *pubkey,
			     char *err, size_t errlen);
static int db_admin_seal_reply(const struct db_master_key *mk, const char *bunker_pubkey,
			       const struct secret *reply, char **hex, char *err, size_t errlen);
static int db_admin_random_secret(struct secret *s);
static int64_t db_admin_authz_insert(PGconn *conn, const struct db_master_key *mk,
				     const struct db_admin_authz *a,
				     const struct db_admin_client *client, char *key_pubkey,
				     char *err, size_t errlen);

/* Seal secret for row kind:id under mk, as hex. */
static int db_admin_seal_hex(const struct db_master_key *mk, const char *kind, const char *id,
			     const struct nostr_seckey *secret, char *hex, char *err, size_t errlen)
{
	unsigned char sealed[32 + DB_SEAL_OVERHEAD];
	char aad[128];
	size_t n;

	if (db_seal_aad(aad, sizeof(aad), kind, id, DB_ADMIN_KEY_VERSION) != 0 ||
	    db_seal(mk, aad, secret->b, sizeof(secret->b), sealed, sizeof(sealed), &n) != 0) {
		snprintf(err, errlen, "cannot seal the secret");
		return -1;
	}
	hex_encode(hex, sealed, n); /* n <= sizeof(sealed): hex has DB_ADMIN_SEALED_HEX bytes */
	return 0;
}

/* The id of a RETURNING id result (consumed), or -1. */
static int64_t db_admin_returning_id(PGresult *res)
{
	int64_t id =
		res != NULL && PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;

	PQclear(res);
	return id;
}

/* Whether name is a usable key name: 1..64 printable characters, not 64 hex digits. */
static int db_admin_name_check(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);
	bool printable = true;

	for (size_t i = 0; i < n; i++)
		printable = printable && name[i] >= 0x20 && name[i] < 0x7f;
	if (n == 0 || n > DB_ADMIN_NAME_MAX || !printable)
		snprintf(err, errlen, "a key name is 1 to %d printable ASCII characters",
			 DB_ADMIN_NAME_MAX);
	else if (n == DB_PUBKEY_HEX_LEN && strspn(name, "0123456789abcdefABCDEF") == n)
		snprintf(err, errlen,
			 "a key name cannot be 64 hex digits (it would read as a pubkey)");
	else
		return 0;
	return -1;
}

/* Store a key with its sealed secret. */
int64_t db_admin_key_add(PGconn *conn, const struct db_master_key *mk, const char *name,
			 const char *pubkey_hex, const struct nostr_seckey *secret, char *err,
			 size_t errlen)
{
	char hex[DB_ADMIN_SEALED_HEX], ver[16];
	const char *params[] = {pubkey_hex, name, hex, ver};
	PGresult *res;

	snprintf(ver, sizeof(ver), "%d", DB_ADMIN_KEY_VERSION);
	if (db_admin_name_check(name, err, errlen) != 0)
		return -1;
	if (db_admin_seal_hex(mk, "key", pubkey_hex, secret, hex, err, errlen) != 0)
		return -1;
	res = db_sync_exec(conn, DB_SQL_KEY_INSERT, 4, params, err, errlen);
	if (res != NULL && PQntuples(res) == 0)
		db_admin_key_taken(conn, name, pubkey_hex, err, errlen);
	return db_admin_returning_id(res);
}

/* Say in err which of name and pubkey_hex a stored key already holds. */
static void db_admin_key_taken(PGconn *conn, const char *name, const char *pubkey_hex, char *err,
			       size_t errlen)
{
	const char *params[] = {pubkey_hex, name};
	PGresult *res = db_sync_exec(conn, DB_SQL_KEY_TAKEN, 2, params, err, errlen);
	int rows = res != NULL ? PQntuples(res) : 0;

	if (res != NULL)
		snprintf(err, errlen, "a key with this name or public key already exists");
	for (int i = 0; i < rows; i++) {
		if (strcmp(PQgetvalue(res, i, 0), name) == 0) {
			snprintf(err, errlen, "a key named '%s' already exists", name);
			break; /* the name first: it is what the admin typed */
		}
		snprintf(err, errlen, "public key %s is already stored, as key '%s'", pubkey_hex,
			 PQgetvalue(res, i, 0));
	}
	PQclear(res);
}

/* Every key. */
PGresult *db_admin_key_list(PGconn *conn, char *err, size_t errlen)
{
	return db_sync_exec(conn, DB_SQL_KEY_LIST, 0, NULL, err, errlen);
}

/* Remove a key by name or pubkey. */
int db_admin_key_remove(PGconn *conn, const char *key, char *err, size_t errlen)
{
	const char *params[] = {key};
	PGresult *res = db_sync_exec(conn, DB_SQL_KEY_DELETE, 1, params, err, errlen);
	int n = res != NULL ? PQntuples(res) > 0 : -1;

	PQclear(res);
	return n;
}

/* The relays as a JSON array (caller frees), NULL on ENOMEM. */
static char *db_admin_relays_json(const char *const *relays, size_t n)
{
	cJSON *arr = cJSON_CreateStringArray(relays, (int)n);
	char *json = arr != NULL ? cJSON_PrintUnformatted(arr) : NULL;

	cJSON_Delete(arr);
	return json;
}

/* Look a key up by name or pubkey: its id (text) and pubkey. */
static int db_admin_find_key(PGconn *conn, const char *key, char *id, size_t idlen, char *pubkey,
			     char *err, size_t errlen)
{
	const char *params[] = {key};
	PGresult *res = db_sync_exec(conn, DB_SQL_KEY_FIND, 1, params, err, errlen);
	int rc = -1;

	if (res != NULL && PQntuples(res) != 1)
		snprintf(err, errlen, "no key named '%s'", key);
	else if (res != NULL) {
		snprintf(id, idlen, "%s", PQgetvalue(res, 0, 0));
		snprintf(pubkey, DB_PUBKEY_HEX_LEN + 1, "%s", PQgetvalue(res, 0, 1));
		rc = 0;
	}
	PQclear(res);
	return rc;
}

/* Seal a connect reply for the row of bunker_pubkey, as hex (*hex malloc'd). 0, or -1 and err. */
static int db_admin_seal_reply(const struct db_master_key *mk, const char *bunker_pubkey,
			       const struct secret *reply, char **hex, char *err, size_t errlen)
{
	unsigned char sealed[DB_CONNECT_REPLY_MAX + DB_SEAL_OVERHEAD];
	size_t len = secret_len(reply), n = 0;
	char aad[128];

	*hex = NULL;
	if (len == 0 || len > DB_CONNECT_REPLY_MAX) {
		snprintf(err, errlen, "a nostrconnect secret is 1 to %d bytes",
			 DB_CONNECT_REPLY_MAX);
		return -1;
	}
	if (db_seal_aad(aad, sizeof(aad), DB_CONNECT_REPLY_KIND, bunker_pubkey,
			DB_ADMIN_KEY_VERSION) != 0 ||
	    db_seal(mk, aad, (const unsigned char *)secret_reveal(reply), len, sealed,
		    sizeof(sealed), &n) != 0 ||
	    (*hex = malloc(2 * n + 1)) == NULL) {
		snprintf(err, errlen, "cannot seal the connect reply");
		return -1;
	}
	hex_encode(*hex, sealed, n);
	return 0;
}

/* A fresh random secret (32 bytes as hex) that nobody is told. 0 or -1. */
static int db_admin_random_secret(struct secret *s)
{
	unsigned char raw[32];
	char hex[65];
	int rc = -1;

	if (RAND_priv_bytes(raw, sizeof(raw)) == 1) {
		hex_encode(hex, raw, sizeof(raw));
		rc = secret_set(s, hex, 64);
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

/* Store a new authorization: created (client NULL) or accepted (bound, reply sealed). */
static int64_t db_admin_authz_insert(PGconn *conn, const struct db_master_key *mk,
				     const struct db_admin_authz *a,
				     const struct db_admin_client *client, char *key_pubkey,
				     char *err, size_t errlen)
{
	char key_id[24], sealed[DB_ADMIN_SEALED_HEX], ver[16], hash_hex[2 * DB_HASH_LEN + 1],
		life[24];
	unsigned char hash[DB_HASH_LEN];
	char *relays = NULL, *reply = NULL;
	const char *params[] = {key_id,
				a->bunker_pubkey,
				sealed,
				ver,
				hash_hex,
				NULL,
				a->policy_json != NULL ? a->policy_json : "{}",
				a->label != NULL ? a->label : "",
				a->lifetime_s > 0 ? life : NULL,
				client != NULL ? client->pubkey : NULL,
				NULL};
	int64_t id = -1;

	snprintf(ver, sizeof(ver), "%d", DB_ADMIN_KEY_VERSION);
	snprintf(life, sizeof(life), "%lld", (long long)a->lifetime_s);
	db_secret_hash(hash, secret_reveal(a->connect_secret));
	hex_encode(hash_hex, hash, sizeof(hash));
	if (db_admin_find_key(conn, a->key, key_id, sizeof(key_id), key_pubkey, err, errlen) != 0 ||
	    db_admin_seal_hex(mk, "bunker", a->bunker_pubkey, a->bunker_secret, sealed, err,
			      errlen) != 0 ||
	    (client != NULL &&
	     db_admin_seal_reply(mk, a->bunker_pubkey, client->reply, &reply, err, errlen) != 0))
		goto out;
	params[5] = relays = db_admin_relays_json(a->relays, a->nrelays);
	params[10] = reply;
	if (relays == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	id = db_admin_returning_id(
		db_sync_exec(conn, client != NULL ? DB_SQL_AUTHZ_ACCEPT : DB_SQL_AUTHZ_INSERT,
			     client != NULL ? 11 : 9, params, err, errlen));
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	OPENSSL_cleanse(hash_hex, sizeof(hash_hex));
	OPENSSL_cleanse(key_id, sizeof(key_id));
	OPENSSL_cleanse(sealed, sizeof(sealed));
	if (reply != NULL)
		OPENSSL_cleanse(reply, strlen(reply));
	free(reply);
	cJSON_free(relays);
	return id;
}

/* Create an authorization. */
int64_t db_admin_authz_create(PGconn *conn, const struct db_master_key *mk,
			      const struct db_admin_authz *a, char *key_pubkey, char *err,
			      size_t errlen)
{
	if (a->connect_secret == NULL || !secret_is_set(a->connect_secret)) {
		snprintf(err, errlen, "an authorization needs a connect secret");
		return -1;
	}
	return db_admin_authz_insert(conn, mk, a, NULL, key_pubkey, err, errlen);
}

/* nostrconnect: an authorization bound to its client, its reply stored sealed. */
int64_t db_admin_authz_accept(PGconn *conn, const struct db_master_key *mk,
			      const struct db_admin_authz *a, const struct db_admin_client *client,
			      char *key_pubkey, char *err, size_t errlen)
{
	struct db_admin_authz spec = *a;
	struct secret unknown = {0};
	int64_t id = -1;

	if (client->pubkey == NULL || strlen(client->pubkey) != DB_PUBKEY_HEX_LEN ||
	    strspn(client->pubkey, "0123456789abcdef") != DB_PUBKEY_HEX_LEN)
		snprintf(err, errlen, "the client pubkey is not 64 lower-case hex digits");
	else if (db_admin_random_secret(&unknown) != 0)
		snprintf(err, errlen, "cannot make a random secret");
	else {
		spec.connect_secret = &unknown;
		id = db_admin_authz_insert(conn, mk, &spec, client, key_pubkey, err, errlen);
	}
	secret_wipe(&unknown);
	return id;
}

/* Every authorization. */
PGresult *db_admin_authz_list(PGconn *conn, char *err, size_t errlen)
{
	return db_sync_exec(conn, DB_SQL_AUTHZ_LIST, 0, NULL, err, errlen);
}

/* Revoke an authorization. */
int db_admin_authz_revoke(PGconn *conn, int64_t id, char *err, size_t errlen)
{
	return db_sync_exec_id(conn, DB_SQL_AUTHZ_REVOKE, id, err, errlen);
}
