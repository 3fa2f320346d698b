/*
 * db_store.h - what the signer asks of the database, asynchronously.
 *
 * Every call runs one statement of db_sql.h on the pool and reports
 * through a callback, with the pool's contract: the call returns 0 and
 * the callback follows exactly once, later; or it returns -1 (pool
 * closed or full) and the callback never comes.
 *
 *   - load the serving set (live authorizations, and those revoked or
 *     expired within the last 24 hours, with their keys; secrets unsealed
 *     into wiped memory) at boot and whenever it changes: the set carries
 *     the generation it was loaded at, and
 *     db_store_generation() tells, cheaply, whether it has moved since
 *     (poll it; every change to keys or authorizations bumps it);
 *   - consume a connect secret and bind the client, atomically (exactly
 *     one caller of many wins);
 *   - bind a client to an authorization, unbind it (logout);
 *   - nostrconnect: claim the right to send an authorization's connect
 *     reply (exactly one caller of many wins), release it when the reply
 *     could not be delivered;
 *   - claim a request (INSERT ... ON CONFLICT DO NOTHING: exactly one
 *     replica wins);
 *   - append audit entries, one or a batch; drop expired claims.
 *
 * Connect secrets are stored as SHA-256 hashes; db_secret_matches()
 * compares a presented secret with a stored hash in constant time.
 */
#ifndef KC_DB_STORE_H
#define KC_DB_STORE_H

#include "core/secret.h"
#include "nostr/keys.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db_master_key;
struct db_pool;
struct db_store;

#define DB_HASH_LEN	  32
#define DB_PUBKEY_HEX_LEN 64
/*
 * The longest nostrconnect secret stored for a connect reply, in bytes; it
 * is sealed with the associated data db_seal_aad(DB_CONNECT_REPLY_KIND,
 * bunker pubkey, bunker key version).
 */
#define DB_CONNECT_REPLY_MAX  256
#define DB_CONNECT_REPLY_KIND "connect-reply"
/* The most audit entries db_store_audit_batch() appends at once. */
#define DB_AUDIT_BATCH_MAX 64

/* One key of the serving set. */
struct db_serving_key {
	int64_t id;
	char pubkey[DB_PUBKEY_HEX_LEN + 1]; /* x-only public key, hex */
	struct nostr_seckey secret;	    /* unsealed; wiped by db_serving_free() */
};

/*
 * One authorization of the serving set: live, or revoked or expired within
 * the last 24 hours (revoked, expires_at), so that the signer can answer
 * its client with an error rather than silence.
 */
struct db_serving_authz {
	int64_t id;
	size_t key;				   /* index into the set's keys */
	char bunker_pubkey[DB_PUBKEY_HEX_LEN + 1]; /* the signer pubkey of the bunker URI */
	struct nostr_seckey bunker_secret;	   /* unsealed; wiped by db_serving_free() */
	unsigned char secret_hash[DB_HASH_LEN];	   /* SHA-256 of the connect secret */
	bool secret_used;			   /* the single-use secret is spent */
	char client_pubkey[DB_PUBKEY_HEX_LEN + 1]; /* bound client, "" if none */
	/*
	 * The URLs: rows with the same list (most rows: the default relays)
	 * share one copy, owned by the first of them (relays_shared false).
	 */
	char **relays;
	size_t nrelays;
	bool relays_shared; /* relays belongs to another row of the set */
	char *policy_json;  /* owned JSON object; NULL for {} (every row without a policy) */
	int64_t expires_at; /* Unix seconds, 0 = never */
	bool revoked;	    /* revoked (within the last 24 hours) */
	/*
	 * nostrconnect: the client's secret to send in the connect reply;
	 * unset when none, already sent, or the row is not live. Wiped by
	 * db_serving_free().
	 */
	struct secret connect_reply;
};

/*
 * One API bearer token of the serving set (db_token.h): the SHA-256 of the
 * token, never the token; tokens revoked within the last 24 hours are kept
 * with revoked set, so the API can say "revoked" rather than "unknown".
 */
struct db_serving_token {
	int64_t id;
	int64_t authz_id;		 /* the authorization it acts for */
	unsigned char hash[DB_HASH_LEN]; /* SHA-256 of the token */
	char prefix[16];		 /* its first characters, for logs */
	bool revoked;
};

/* The serving set: every live authorization with its key. */
struct db_serving {
	struct db_serving_key *keys;
	size_t nkeys;
	struct db_serving_authz *authz;
	size_t nauthz;
	struct db_serving_token *tokens; /* the API tokens of these authorizations */
	size_t ntokens;
	size_t unseal_failures; /* rows skipped: tampered, moved, or another master key */
	size_t malformed_rows;	/* rows skipped: relays not a JSON array of strings */
	int64_t generation;	/* read before the rows: a later change has a greater one */
};

/* One audit entry: what was done for whom (never a secret or a plaintext). */
struct db_audit_entry {
	int64_t authorization_id;  /* 0 = none */
	const char *key_pubkey;	   /* hex */
	const char *client_pubkey; /* hex or NULL */
	const char *method;	   /* NIP-46 method */
	int event_kind;		   /* -1 = none */
	const char *event_id;	   /* hex or NULL */
	const char *outcome;	   /* "ok", "refused", "error" */
	const char *detail;	   /* short reason or NULL */
};

/* Outcome of a store call: result >= 0 (rows affected or returned), -1 on error. */
typedef void (*db_store_cb)(void *arg, int result, const char *error);

/* The serving set (owned by the callee: db_serving_free), or NULL and an error. */
typedef void (*db_serving_cb)(void *arg, struct db_serving *set, const char *error);

/* The serving set's current generation, or -1 and an error. */
typedef void (*db_generation_cb)(void *arg, int64_t generation, const char *error);

/*
 * A store on pool (borrowed) with a copy of the master key (wiped on free)
 * and this replica's instance id. Returns 0, or -1 on ENOMEM.
 */
int db_store_new(struct db_store **out, struct db_pool *pool, const struct db_master_key *mk,
		 const char *instance_id) __attribute__((warn_unused_result));

/* Free the store (wipes its master key copy). NULL is ignored. */
void db_store_free(struct db_store *s);

/*
 * Load the serving set: its generation first, then the rows (two queries),
 * so that a change committed while it loads makes the generation move past
 * set->generation and is never missed.
 */
int db_store_load_serving(struct db_store *s, db_serving_cb cb, void *arg)
	__attribute__((warn_unused_result));

/* Read the serving set's generation; reload when it differs from the set's. */
int db_store_generation(struct db_store *s, db_generation_cb cb, void *arg)
	__attribute__((warn_unused_result));

/* Free a serving set, wiping every secret. NULL is ignored. */
void db_serving_free(struct db_serving *set);

/*
 * Connect: consume authorization authz_id's single-use secret if secret
 * matches its hash and it is live, binding client_pubkey, atomically.
 * result 1 for exactly one caller, 0 for the others. The signer checks
 * the secret against the serving set first with db_secret_matches()
 * (constant time); the UPDATE re-checks it by comparing SHA-256 digests,
 * which tells nothing about the secret, and spends it only if unused.
 */
int db_store_consume_secret(struct db_store *s, int64_t authz_id, const char *secret,
			    const char *client_pubkey, db_store_cb cb, void *arg)
	__attribute__((warn_unused_result));

/* Bind client_pubkey to a live authorization with no other client. result 1 or 0. */
int db_store_bind_client(struct db_store *s, int64_t authz_id, const char *client_pubkey,
			 db_store_cb cb, void *arg) __attribute__((warn_unused_result));

/* Logout: unbind client_pubkey from authorization authz_id. result 1 if it was bound, else 0. */
int db_store_unbind_client(struct db_store *s, int64_t authz_id, const char *client_pubkey,
			   db_store_cb cb, void *arg) __attribute__((warn_unused_result));

/*
 * nostrconnect: claim the right to send authz_id's connect reply (result 1
 * for exactly one caller of many; 0 if sent already, none, or the
 * authorization is no longer live).
 */
int db_store_connect_reply_claim(struct db_store *s, int64_t authz_id, db_store_cb cb, void *arg)
	__attribute__((warn_unused_result));

/* nostrconnect: the reply could not be delivered: let it be sent again (result 1 or 0). */
int db_store_connect_reply_release(struct db_store *s, int64_t authz_id, db_store_cb cb, void *arg)
	__attribute__((warn_unused_result));

/*
 * Claim request event_id, sent by client_pubkey to authorization authz_id
 * (0: none), for this instance. result 0 for every caller but one; the
 * winner gets 1, or 2 when that client is bound to that authorization in
 * the database now (a connect or logout made through any replica counts).
 */
int db_store_claim(struct db_store *s, const char *event_id, int64_t authz_id,
		   const char *client_pubkey, db_store_cb cb, void *arg)
	__attribute__((warn_unused_result));

/* Drop claims older than max_age_s seconds. result = claims dropped. */
int db_store_expire_claims(struct db_store *s, int64_t max_age_s, db_store_cb cb, void *arg)
	__attribute__((warn_unused_result));

/*
 * An API request: whether API token token_id and its authorization are
 * live now, as the database says (result 1 live, 0 revoked, expired or
 * gone): a revocation made through any replica counts at once.
 */
int db_store_token_live(struct db_store *s, int64_t token_id, db_store_cb cb, void *arg)
	__attribute__((warn_unused_result));

/* Append an audit entry; cb may be NULL (a failure is then logged). */
int db_store_audit(struct db_store *s, const struct db_audit_entry *e, db_store_cb cb, void *arg)
	__attribute__((warn_unused_result));

/*
 * Append n (1..DB_AUDIT_BATCH_MAX) audit entries in one statement (copied:
 * e may go once the call returns); result = rows inserted. cb may be NULL
 * (a failure is then logged). -1 also for n out of range.
 */
int db_store_audit_batch(struct db_store *s, const struct db_audit_entry *e, size_t n,
			 db_store_cb cb, void *arg) __attribute__((warn_unused_result));

/* SHA-256 of a connect secret, as stored. */
void db_secret_hash(unsigned char out[DB_HASH_LEN], const char *secret);

/* Whether secret hashes to hash, compared in constant time. */
bool db_secret_matches(const unsigned char hash[DB_HASH_LEN], const char *secret);

#endif /* KC_DB_STORE_H */
