/*
 * db_admin.h - the admin commands' store operations (blocking).
 *
 * `keycastd key ...` and `keycastd authz ...` are short synchronous
 * programs; they run the same statements as the daemon (db_sql.h) over a
 * blocking connection (db_sync.h). Secrets arrive here already parsed and
 * leave only sealed (db_seal.h) or hashed (SHA-256 of the connect secret).
 * The list functions return the rows of DB_SQL_KEY_LIST / DB_SQL_AUTHZ_LIST
 * (caller owns the PGresult), whose columns db_sql.h documents.
 */
#ifndef KC_DB_ADMIN_H
#define KC_DB_ADMIN_H

#include "db/db_store.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

struct db_master_key;

/* The longest key name (names are printable ASCII and never 64 hex digits). */
#define DB_ADMIN_NAME_MAX 64

/* The longest label, relay URL or policy an authorization takes, in bytes. */
#define DB_ADMIN_TEXT_MAX 4096

/* The longest lifetime an authorization takes (100 years), in seconds. */
#define DB_ADMIN_LIFETIME_MAX_S 3155760000LL

/* The key versions new rows are sealed under (master key rotation bumps it). */
#define DB_ADMIN_KEY_VERSION 1

/* Columns of DB_SQL_KEY_LIST. */
enum db_admin_key_col {
	DB_KEY_COL_ID,
	DB_KEY_COL_PUBKEY,
	DB_KEY_COL_NAME,
	DB_KEY_COL_VERSION,
	DB_KEY_COL_CREATED,
	DB_KEY_COL_LIVE_AUTHZ,
};

/* Columns of DB_SQL_AUTHZ_LIST. */
enum db_admin_authz_col {
	DB_AUTHZ_COL_ID,
	DB_AUTHZ_COL_KEY_NAME,
	DB_AUTHZ_COL_KEY_PUBKEY,
	DB_AUTHZ_COL_BUNKER_PUBKEY,
	DB_AUTHZ_COL_LABEL,
	DB_AUTHZ_COL_CLIENT,
	DB_AUTHZ_COL_SECRET_USED,
	DB_AUTHZ_COL_RELAYS,
	DB_AUTHZ_COL_EXPIRES,
	DB_AUTHZ_COL_REVOKED,
	DB_AUTHZ_COL_CREATED,
};

struct secret;

/* A new authorization. */
struct db_admin_authz {
	const char *key;	   /* key name or pubkey hex */
	const char *bunker_pubkey; /* hex */
	const struct nostr_seckey *bunker_secret;
	const struct secret *connect_secret; /* stored as its SHA-256 only */
	const char *const *relays;
	size_t nrelays;
	const char *policy_json; /* NULL = {} */
	const char *label;	 /* NULL = "" */
	int64_t lifetime_s;	 /* 0 = never expires */
};

/*
 * Store a key: secret sealed under mk with the row identity as AAD.
 * Returns the new row id, or -1 with a message in err (a name that is not
 * 1..DB_ADMIN_NAME_MAX printable characters or is 64 hex digits; a name
 * or pubkey already stored, which err names).
 */
int64_t db_admin_key_add(PGconn *conn, const struct db_master_key *mk, const char *name,
			 const char *pubkey_hex, const struct nostr_seckey *secret, char *err,
			 size_t errlen) __attribute__((warn_unused_result));

/* Every key (DB_SQL_KEY_LIST rows), or NULL with a message. */
PGresult *db_admin_key_list(PGconn *conn, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Remove a key by name or pubkey (and its authorizations). 1, 0 if none, -1 on error. */
int db_admin_key_remove(PGconn *conn, const char *key, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Create an authorization for a->key. Returns the new id, or -1 with a
 * message in err (no such key, bad relays...). key_pubkey receives the
 * key's pubkey hex (65 bytes).
 */
int64_t db_admin_authz_create(PGconn *conn, const struct db_master_key *mk,
			      const struct db_admin_authz *a, char *key_pubkey, char *err,
			      size_t errlen) __attribute__((warn_unused_result));

/* The client of a nostrconnect:// URI being accepted. */
struct db_admin_client {
	const char *pubkey;	    /* hex: bound to the new authorization from the start */
	const struct secret *reply; /* the URI's secret (1..DB_CONNECT_REPLY_MAX bytes) */
};

/*
 * nostrconnect: create an authorization for a->key already bound to
 * client->pubkey, with its connect secret spent (a->connect_secret is
 * ignored: the stored hash is that of a fresh random secret nobody knows)
 * and client->reply stored sealed, for the signer to send back in its
 * connect reply. Returns the new id, or -1 with a message in err (no such
 * key, a malformed client pubkey, a secret too long...). key_pubkey as
 * for db_admin_authz_create().
 */
int64_t db_admin_authz_accept(PGconn *conn, const struct db_master_key *mk,
			      const struct db_admin_authz *a, const struct db_admin_client *client,
			      char *key_pubkey, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Every authorization (DB_SQL_AUTHZ_LIST rows), or NULL with a message. */
PGresult *db_admin_authz_list(PGconn *conn, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Revoke an authorization. 1, 0 if none live with that id, -1 on error. */
int db_admin_authz_revoke(PGconn *conn, int64_t id, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif /* KC_DB_ADMIN_H */
